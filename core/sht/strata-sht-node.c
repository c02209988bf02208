/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sht"

#include "config.h"

#include "strata-sht-private.h"

/* Nodes: their memory form, and their encoding in one block (FORMAT.md).
 *
 * An interval is encoded as
 *   zigzag varint  end − end of the previous interval of the node
 *                  (the node's start for the first)
 *   varint         end − start
 *   varint         quark << 3 | value type
 *   value          int32/int64: zigzag varint; double: 8 bytes LE;
 *                  string: varint id; null: nothing
 * which is 6–10 bytes for the typical kernel state change. All time
 * arithmetic is done on unsigned 64-bit integers, where wrapping is defined,
 * so that any pair of int64 times round-trips. */

ShtNode *
_strata_sht_node_new (guint32 seq,
                      guint32 parent,
                      guint8  kind,
                      gint64  start,
                      guint   max_children)
{
  ShtNode *node = g_new0 (ShtNode, 1);

  node->ref_count = 1;
  node->seq = seq;
  node->parent = parent;
  node->kind = kind;
  node->start = start;
  node->end = G_MAXINT64;
  node->min_quark = G_MAXUINT32;
  node->max_quark = 0;
  node->prev_end = start;
  node->used = SHT_NODE_HEADER_SIZE;
  if (kind == SHT_NODE_CORE && max_children > 0)
    node->children = g_new0 (ShtChild, max_children);
  return node;
}

ShtNode *
_strata_sht_node_ref (ShtNode *node)
{
  g_atomic_int_inc (&node->ref_count);
  return node;
}

void
_strata_sht_node_unref (ShtNode *node)
{
  if (node == NULL || !g_atomic_int_dec_and_test (&node->ref_count))
    return;
  g_free (node->intervals);
  g_free (node->children);
  g_free (node->qoff);
  g_free (node);
}

gsize
_strata_sht_node_mem_size (const ShtNode *node)
{
  gsize qoff = node->qoff ? (node->max_quark - node->min_quark + 2) * sizeof (guint32) : 0;

  return sizeof (ShtNode)
         + node->intervals_alloc * sizeof (StrataShtInterval)
         + node->n_children * sizeof (ShtChild)
         + qoff;
}

/* Groups a closed node's intervals by quark, so that a query for a few
 * quarks reads only theirs. A counting sort: stable, so each quark's
 * intervals stay in end order, which is time order since they do not
 * overlap. */
void
_strata_sht_node_index (ShtNode *node)
{
  StrataShtInterval *sorted;
  guint range;

  if (node->n_intervals == 0 || node->min_quark > node->max_quark)
    return;
  range = node->max_quark - node->min_quark + 1;
  node->qoff = g_new0 (guint32, range + 1);
  for (guint i = 0; i < node->n_intervals; i++)
    node->qoff[node->intervals[i].quark - node->min_quark + 1]++;
  for (guint k = 0; k < range; k++)
    node->qoff[k + 1] += node->qoff[k];
  sorted = g_new (StrataShtInterval, node->n_intervals);
  {
    g_autofree guint32 *next = g_memdup2 (node->qoff, range * sizeof (guint32));
    for (guint i = 0; i < node->n_intervals; i++)
      sorted[next[node->intervals[i].quark - node->min_quark]++] = node->intervals[i];
  }
  g_free (node->intervals);
  node->intervals = sorted;
  node->intervals_alloc = node->n_intervals;
}

static guint
value_size (const StrataShtValue *v)
{
  switch (v->type)
    {
    case STRATA_SHT_VALUE_INT32:
      return _strata_sht_varint_size (_strata_sht_zigzag (v->u.i32));
    case STRATA_SHT_VALUE_INT64:
      return _strata_sht_varint_size (_strata_sht_zigzag (v->u.i64));
    case STRATA_SHT_VALUE_DOUBLE:
      return 8;
    case STRATA_SHT_VALUE_STRING:
      return _strata_sht_varint_size (v->u.str);
    default:
      return 0;
    }
}

guint
_strata_sht_interval_size (const StrataShtInterval *iv,
                           gint64                   prev_end)
{
  guint64 delta = (guint64) iv->end - (guint64) prev_end;
  guint64 duration = (guint64) iv->end - (guint64) iv->start;

  return _strata_sht_varint_size (_strata_sht_zigzag ((gint64) delta))
         + _strata_sht_varint_size (duration)
         + _strata_sht_varint_size (((guint64) iv->quark << 3) | iv->value.type)
         + value_size (&iv->value);
}

/* The caller has checked that the interval fits. */
void
_strata_sht_node_add (ShtNode                 *node,
                      const StrataShtInterval *iv)
{
  if (node->n_intervals == node->intervals_alloc)
    {
      node->intervals_alloc = MAX (64, node->intervals_alloc * 2);
      node->intervals = g_renew (StrataShtInterval, node->intervals, node->intervals_alloc);
    }
  node->used += _strata_sht_interval_size (iv, node->prev_end);
  node->prev_end = iv->end;
  node->intervals[node->n_intervals] = *iv;
  node->intervals[node->n_intervals].flags = 0;
  node->n_intervals++;
  node->min_quark = MIN (node->min_quark, iv->quark);
  node->max_quark = MAX (node->max_quark, iv->quark);
}

void
_strata_sht_node_serialize (const ShtNode *node,
                            guint8        *block,
                            gsize          block_size)
{
  guint8 *p = block + SHT_NODE_HEADER_SIZE;
  gint64 prev_end = node->start;

  memset (block, 0, block_size);
  block[SHT_NODE_KIND] = node->kind;
  block[SHT_NODE_N_CHILDREN] = node->n_children & 0xff;
  block[SHT_NODE_N_CHILDREN + 1] = (node->n_children >> 8) & 0xff;
  _strata_sht_put_u32 (block + SHT_NODE_SEQ, node->seq);
  _strata_sht_put_u32 (block + SHT_NODE_PARENT, node->parent);
  _strata_sht_put_u64 (block + SHT_NODE_START, (guint64) node->start);
  _strata_sht_put_u64 (block + SHT_NODE_END, (guint64) node->end);
  _strata_sht_put_u32 (block + SHT_NODE_MIN_QUARK, node->min_quark);
  _strata_sht_put_u32 (block + SHT_NODE_MAX_QUARK, node->max_quark);
  _strata_sht_put_u32 (block + SHT_NODE_N_INTERVALS, node->n_intervals);

  for (guint i = 0; i < node->n_children; i++)
    {
      const ShtChild *c = &node->children[i];
      p = _strata_sht_put_varint (p, c->seq);
      p = _strata_sht_put_varint (p, (guint64) c->start - (guint64) node->start);
      p = _strata_sht_put_varint (p, (guint64) c->end - (guint64) c->start);
      p = _strata_sht_put_varint (p, c->min_quark);
      p = _strata_sht_put_varint (p, c->max_quark);
    }

  for (guint i = 0; i < node->n_intervals; i++)
    {
      const StrataShtInterval *iv = &node->intervals[i];
      guint64 delta = (guint64) iv->end - (guint64) prev_end;

      p = _strata_sht_put_varint (p, _strata_sht_zigzag ((gint64) delta));
      p = _strata_sht_put_varint (p, (guint64) iv->end - (guint64) iv->start);
      p = _strata_sht_put_varint (p, ((guint64) iv->quark << 3) | iv->value.type);
      switch (iv->value.type)
        {
        case STRATA_SHT_VALUE_INT32:
          p = _strata_sht_put_varint (p, _strata_sht_zigzag (iv->value.u.i32));
          break;
        case STRATA_SHT_VALUE_INT64:
          p = _strata_sht_put_varint (p, _strata_sht_zigzag (iv->value.u.i64));
          break;
        case STRATA_SHT_VALUE_DOUBLE:
          {
            guint64 bits;
            memcpy (&bits, &iv->value.u.d, 8);
            _strata_sht_put_u64 (p, bits);
            p += 8;
          }
          break;
        case STRATA_SHT_VALUE_STRING:
          p = _strata_sht_put_varint (p, iv->value.u.str);
          break;
        default:
          break;
        }
      prev_end = iv->end;
    }

  g_assert ((gsize) (p - block) <= block_size);
  _strata_sht_put_u32 (block + SHT_NODE_PAYLOAD, (guint32) (p - block - SHT_NODE_HEADER_SIZE));
  _strata_sht_put_u32 (block + SHT_NODE_CRC,
                       _strata_sht_crc32c (0, block + 4, block_size - 4));
}

static gboolean
corrupt (GError **error, guint32 seq, const char *what)
{
  g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
               "node %u: %s", seq, what);
  return FALSE;
}

gboolean
_strata_sht_node_check (const guint8 *block,
                        gsize         block_size,
                        guint32       expected_seq,
                        GError      **error)
{
  guint32 crc = _strata_sht_get_u32 (block + SHT_NODE_CRC);

  if (crc != _strata_sht_crc32c (0, block + 4, block_size - 4))
    return corrupt (error, expected_seq, "checksum mismatch");
  if (block[SHT_NODE_KIND] != SHT_NODE_LEAF && block[SHT_NODE_KIND] != SHT_NODE_CORE)
    return corrupt (error, expected_seq, "unknown node kind");
  if (_strata_sht_get_u32 (block + SHT_NODE_SEQ) != expected_seq)
    return corrupt (error, expected_seq, "sequence number does not match its position");
  if (_strata_sht_get_u32 (block + SHT_NODE_PAYLOAD) > block_size - SHT_NODE_HEADER_SIZE)
    return corrupt (error, expected_seq, "payload larger than the block");
  return TRUE;
}

/* Decodes a block, checking everything: a checksum can match by chance,
 * and a file is never trusted. */
ShtNode *
_strata_sht_node_deserialize (const guint8 *block,
                              gsize         block_size,
                              guint32       expected_seq,
                              GError      **error)
{
  ShtNode *node;
  const guint8 *p, *end;
  guint n_children, n_intervals;
  gint64 prev_end;

  if (!_strata_sht_node_check (block, block_size, expected_seq, error))
    return NULL;

  n_children = block[SHT_NODE_N_CHILDREN] | (block[SHT_NODE_N_CHILDREN + 1] << 8);
  n_intervals = _strata_sht_get_u32 (block + SHT_NODE_N_INTERVALS);
  p = block + SHT_NODE_HEADER_SIZE;
  end = p + _strata_sht_get_u32 (block + SHT_NODE_PAYLOAD);

  /* Every interval takes at least 3 bytes, every child 5. */
  if ((guint64) n_intervals * 3 + (guint64) n_children * 5 > (guint64) (end - p)
      || (block[SHT_NODE_KIND] == SHT_NODE_LEAF && n_children > 0))
    {
      corrupt (error, expected_seq, "counts do not fit in the block");
      return NULL;
    }

  node = _strata_sht_node_new (expected_seq,
                               _strata_sht_get_u32 (block + SHT_NODE_PARENT),
                               block[SHT_NODE_KIND],
                               (gint64) _strata_sht_get_u64 (block + SHT_NODE_START),
                               0);
  node->end = (gint64) _strata_sht_get_u64 (block + SHT_NODE_END);
  node->min_quark = _strata_sht_get_u32 (block + SHT_NODE_MIN_QUARK);
  node->max_quark = _strata_sht_get_u32 (block + SHT_NODE_MAX_QUARK);

  if (n_children > 0)
    {
      gint64 prev_child_end = node->start;

      node->children = g_new (ShtChild, n_children);
      for (guint i = 0; i < n_children; i++)
        {
          ShtChild *c = &node->children[i];
          guint64 seq, start, span, minq, maxq;

          if (!_strata_sht_get_varint (&p, end, &seq)
              || !_strata_sht_get_varint (&p, end, &start)
              || !_strata_sht_get_varint (&p, end, &span)
              || !_strata_sht_get_varint (&p, end, &minq)
              || !_strata_sht_get_varint (&p, end, &maxq)
              || seq > G_MAXUINT32 || minq > G_MAXUINT32 || maxq > G_MAXUINT32)
            goto bad_child;
          c->seq = (guint32) seq;
          c->start = (gint64) ((guint64) node->start + start);
          c->end = (gint64) ((guint64) c->start + span);
          c->min_quark = (guint32) minq;
          c->max_quark = (guint32) maxq;
          /* Children lie in their parent's range, in order, without
           * overlapping: queries binary-search them. */
          if (c->end < c->start || c->end > node->end
              || (i == 0 ? c->start < node->start : c->start <= prev_child_end))
            goto bad_child;
          prev_child_end = c->end;
          node->n_children++;
        }
    }

  node->intervals = g_new (StrataShtInterval, MAX (n_intervals, 1));
  node->intervals_alloc = MAX (n_intervals, 1);
  prev_end = node->start;
  for (guint i = 0; i < n_intervals; i++)
    {
      StrataShtInterval *iv = &node->intervals[i];
      guint64 delta, duration, qt, v;

      if (!_strata_sht_get_varint (&p, end, &delta)
          || !_strata_sht_get_varint (&p, end, &duration)
          || !_strata_sht_get_varint (&p, end, &qt)
          || (qt >> 3) > G_MAXUINT32)
        goto bad_interval;
      iv->end = (gint64) ((guint64) prev_end + (guint64) _strata_sht_unzigzag (delta));
      iv->start = (gint64) ((guint64) iv->end - duration);
      iv->quark = (guint32) (qt >> 3);
      iv->flags = 0;
      memset (&iv->value, 0, sizeof iv->value);
      iv->value.type = qt & 7;
      switch (iv->value.type)
        {
        case STRATA_SHT_VALUE_NULL:
          break;
        case STRATA_SHT_VALUE_INT32:
          if (!_strata_sht_get_varint (&p, end, &v))
            goto bad_interval;
          {
            gint64 x = _strata_sht_unzigzag (v);
            if (x < G_MININT32 || x > G_MAXINT32)
              goto bad_interval;
            iv->value.u.i32 = (gint32) x;
          }
          break;
        case STRATA_SHT_VALUE_INT64:
          if (!_strata_sht_get_varint (&p, end, &v))
            goto bad_interval;
          iv->value.u.i64 = _strata_sht_unzigzag (v);
          break;
        case STRATA_SHT_VALUE_DOUBLE:
          if (end - p < 8)
            goto bad_interval;
          v = _strata_sht_get_u64 (p);
          memcpy (&iv->value.u.d, &v, 8);
          p += 8;
          break;
        case STRATA_SHT_VALUE_STRING:
          if (!_strata_sht_get_varint (&p, end, &v) || v > G_MAXUINT32)
            goto bad_interval;
          iv->value.u.str = (guint32) v;
          break;
        default:
          goto bad_interval;
        }
      /* Intervals lie inside their node: the queries rely on it. */
      if (iv->end < iv->start || iv->start < node->start || iv->end > node->end
          || iv->quark < node->min_quark || iv->quark > node->max_quark)
        goto bad_interval;
      prev_end = iv->end;
      node->n_intervals++;
    }
  if (p != end)
    {
      corrupt (error, expected_seq, "payload length does not match its content");
      _strata_sht_node_unref (node);
      return NULL;
    }
  _strata_sht_node_index (node);
  return node;

bad_child:
  corrupt (error, expected_seq, "invalid child entry");
  _strata_sht_node_unref (node);
  return NULL;

bad_interval:
  corrupt (error, expected_seq, "invalid interval");
  _strata_sht_node_unref (node);
  return NULL;
}
