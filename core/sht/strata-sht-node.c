/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sht"

#include "config.h"

#include "strata-sht-private.h"

/* Nodes: their memory forms, and their encoding in one block (FORMAT.md).
 *
 * A block holds its intervals grouped by quark, behind a table of where
 * each quark's run begins, so that a query decodes only the quarks it asks
 * for. In a run, each interval is
 *   varint         end − end of the previous interval of the run
 *                  (the node's start for the first)
 *   varint         (end − start) << 3 | value type, or 7 then the type
 *                  byte and end − start when that does not fit
 *   value          int32/int64: zigzag varint; double: 8 bytes LE;
 *                  string: varint id; null: nothing
 * which is 4–8 bytes for the typical kernel state change. Time arithmetic
 * is done on unsigned 64-bit integers, where wrapping is defined, so that
 * any pair of int64 times round-trips. */

#define DURATION_ESCAPE 7
#define DURATION_MAX    ((G_GUINT64_CONSTANT (1) << 61) - 1)

ShtNode *
_strata_sht_node_new (guint32 seq,
                      guint32 parent,
                      guint8  kind,
                      gint64  start,
                      guint   max_children,
                      guint32 qbase,
                      guint   group_size)
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
  node->own_min = G_MAXUINT32;
  node->own_max = 0;
  node->used = SHT_NODE_HEADER_SIZE;
  node->qbase = qbase;
  node->group_size = group_size;
  if (group_size > 0)
    {
      node->qlast = g_new (gint64, group_size);
      for (guint i = 0; i < group_size; i++)
        node->qlast[i] = start;
    }
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
  g_free (node->qlast);
  g_free (node->block);
  g_free (node);
}

gsize
_strata_sht_node_mem_size (const ShtNode *node)
{
  return sizeof (ShtNode)
         + node->intervals_alloc * sizeof (StrataShtInterval)
         + node->n_children * sizeof (ShtChild)
         + (node->block ? node->block_size : 0);
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

static guint
interval_size (const StrataShtInterval *iv, gint64 prev_end)
{
  guint64 duration = (guint64) iv->end - (guint64) iv->start;
  guint n = _strata_sht_varint_size ((guint64) iv->end - (guint64) prev_end);

  if (duration <= DURATION_MAX)
    n += _strata_sht_varint_size (duration << 3 | iv->value.type);
  else
    n += 2 + _strata_sht_varint_size (duration);
  return n + value_size (&iv->value);
}

static gsize
table_size (guint32 own_min, guint32 own_max)
{
  if (own_min > own_max)
    return 0;
  return _strata_sht_varint_size (own_min)
         + _strata_sht_varint_size (own_max - own_min + 1)
         + 2 * ((gsize) own_max - own_min + 2);
}

/* The bytes an open node's block needs. */
gsize
_strata_sht_node_size (const ShtNode *node)
{
  return node->used + node->ibytes + table_size (node->own_min, node->own_max);
}

gsize
_strata_sht_node_size_with (const ShtNode           *node,
                            const StrataShtInterval *iv)
{
  g_assert (iv->quark >= node->qbase && iv->quark - node->qbase < node->group_size);
  return node->used + node->ibytes
         + interval_size (iv, node->qlast[iv->quark - node->qbase])
         + table_size (MIN (node->own_min, iv->quark), MAX (node->own_max, iv->quark));
}

/* The caller has checked that the interval fits. A quark's intervals
 * arrive in time order: its ongoing state only moves forwards. */
void
_strata_sht_node_add (ShtNode                 *node,
                      const StrataShtInterval *iv)
{
  gint64 *last = &node->qlast[iv->quark - node->qbase];

  g_assert (iv->end >= *last && iv->start >= node->start);
  if (node->n_intervals == node->intervals_alloc)
    {
      node->intervals_alloc = MAX (64, node->intervals_alloc * 2);
      node->intervals = g_renew (StrataShtInterval, node->intervals, node->intervals_alloc);
    }
  node->ibytes += interval_size (iv, *last);
  *last = iv->end;
  node->intervals[node->n_intervals] = *iv;
  node->intervals[node->n_intervals].flags = 0;
  node->n_intervals++;
  node->own_min = MIN (node->own_min, iv->quark);
  node->own_max = MAX (node->own_max, iv->quark);
  node->min_quark = MIN (node->min_quark, iv->quark);
  node->max_quark = MAX (node->max_quark, iv->quark);
}

static guint8 *
put_interval (guint8 *p, const StrataShtInterval *iv, gint64 prev_end)
{
  guint64 duration = (guint64) iv->end - (guint64) iv->start;

  p = _strata_sht_put_varint (p, (guint64) iv->end - (guint64) prev_end);
  if (duration <= DURATION_MAX)
    p = _strata_sht_put_varint (p, duration << 3 | iv->value.type);
  else
    {
      *p++ = DURATION_ESCAPE;
      *p++ = iv->value.type;
      p = _strata_sht_put_varint (p, duration);
    }
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
  return p;
}

/* Writes an open node (its end set) into a block. */
void
_strata_sht_node_serialize (const ShtNode *node,
                            guint8        *block,
                            gsize          block_size)
{
  guint8 *p = block + SHT_NODE_HEADER_SIZE;

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

  if (node->n_intervals > 0)
    {
      guint range = node->own_max - node->own_min + 1;
      g_autofree guint32 *start = g_new0 (guint32, range + 1);
      g_autofree guint32 *order = g_new (guint32, node->n_intervals);
      guint8 *table, *runs;

      /* Stable counting sort by quark: each run stays in time order. */
      for (guint i = 0; i < node->n_intervals; i++)
        start[node->intervals[i].quark - node->own_min + 1]++;
      for (guint k = 0; k < range; k++)
        start[k + 1] += start[k];
      for (guint i = 0; i < node->n_intervals; i++)
        order[start[node->intervals[i].quark - node->own_min]++] = i;

      p = _strata_sht_put_varint (p, node->own_min);
      p = _strata_sht_put_varint (p, range);
      table = p;
      runs = table + 2 * (range + 1);
      p = runs;
      for (guint k = 0, i = 0; k < range; k++)
        {
          gint64 prev_end = node->start;

          table[2 * k] = (p - runs) & 0xff;
          table[2 * k + 1] = ((p - runs) >> 8) & 0xff;
          for (; i < node->n_intervals && node->intervals[order[i]].quark == node->own_min + k; i++)
            {
              p = put_interval (p, &node->intervals[order[i]], prev_end);
              prev_end = node->intervals[order[i]].end;
            }
        }
      table[2 * range] = (p - runs) & 0xff;
      table[2 * range + 1] = ((p - runs) >> 8) & 0xff;
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

static inline guint
table_get (const ShtNode *node, guint k)
{
  return node->table[2 * k] | (node->table[2 * k + 1] << 8);
}

/* Reads a block into a closed node: its header, children and run table,
 * all checked (a checksum can match by chance, and a file is never
 * trusted); the intervals are checked as they are decoded. */
ShtNode *
_strata_sht_node_deserialize (const guint8 *block,
                              gsize         block_size,
                              guint32       expected_seq,
                              GError      **error)
{
  ShtNode *node;
  const guint8 *p, *end;
  guint n_children;

  if (!_strata_sht_node_check (block, block_size, expected_seq, error))
    return NULL;

  n_children = block[SHT_NODE_N_CHILDREN] | (block[SHT_NODE_N_CHILDREN + 1] << 8);
  node = _strata_sht_node_new (expected_seq,
                               _strata_sht_get_u32 (block + SHT_NODE_PARENT),
                               block[SHT_NODE_KIND],
                               (gint64) _strata_sht_get_u64 (block + SHT_NODE_START),
                               0, 0, 0);
  node->block = g_memdup2 (block, block_size);
  node->block_size = block_size;
  node->end = (gint64) _strata_sht_get_u64 (block + SHT_NODE_END);
  node->min_quark = _strata_sht_get_u32 (block + SHT_NODE_MIN_QUARK);
  node->max_quark = _strata_sht_get_u32 (block + SHT_NODE_MAX_QUARK);
  node->n_intervals = _strata_sht_get_u32 (block + SHT_NODE_N_INTERVALS);
  p = node->block + SHT_NODE_HEADER_SIZE;
  end = p + _strata_sht_get_u32 (block + SHT_NODE_PAYLOAD);

  if ((guint64) n_children * 5 > (guint64) (end - p)
      || (node->kind == SHT_NODE_LEAF && n_children > 0)
      || (node->kind == SHT_NODE_CORE && n_children == 0)
      || node->end < node->start)
    goto bad_header;

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

  if (node->n_intervals > 0)
    {
      guint64 own_min, range;

      if (!_strata_sht_get_varint (&p, end, &own_min)
          || !_strata_sht_get_varint (&p, end, &range)
          || range == 0 || range > 65536
          || own_min < node->min_quark || own_min + range - 1 > node->max_quark
          || (guint64) (end - p) < 2 * (range + 1))
        goto bad_table;
      node->own_min = (guint32) own_min;
      node->own_max = (guint32) (own_min + range - 1);
      node->table = p;
      node->runs = p + 2 * (range + 1);
      node->runs_len = end - node->runs;
      if (table_get (node, 0) != 0 || table_get (node, range) != node->runs_len
          || node->runs_len < node->n_intervals * 2)
        goto bad_table;
      for (guint k = 0; k < range; k++)
        if (table_get (node, k) > table_get (node, k + 1))
          goto bad_table;
    }
  else if (p != end)
    goto bad_table;
  return node;

bad_header:
  corrupt (error, expected_seq, "invalid header");
  _strata_sht_node_unref (node);
  return NULL;

bad_child:
  corrupt (error, expected_seq, "invalid child entry");
  _strata_sht_node_unref (node);
  return NULL;

bad_table:
  corrupt (error, expected_seq, "invalid interval table");
  _strata_sht_node_unref (node);
  return NULL;
}

/* The encoded run of @quark's intervals in a closed node; FALSE if it has
 * none. */
gboolean
_strata_sht_node_run (const ShtNode  *node,
                      guint32         quark,
                      const guint8  **p,
                      const guint8  **end)
{
  guint k;

  if (node->n_intervals == 0 || quark < node->own_min || quark > node->own_max)
    return FALSE;
  k = quark - node->own_min;
  *p = node->runs + table_get (node, k);
  *end = node->runs + table_get (node, k + 1);
  return *p < *end;
}

/* Decodes the times and type of the next interval of a run, checking
 * they lie in the node; FALSE if the run is damaged. The value follows:
 * _strata_sht_node_value() reads it, _strata_sht_node_skip_value() skips
 * it (most intervals a 2D query meets hold none of its samples). */
gboolean
_strata_sht_node_head (const ShtNode      *node,
                       const guint8      **p,
                       const guint8       *end,
                       gint64             *prev_end,
                       gint64             *start,
                       gint64             *iv_end,
                       guint8             *type)
{
  guint64 delta, x, duration;

  if (!_strata_sht_get_varint (p, end, &delta)
      || !_strata_sht_get_varint (p, end, &x))
    return FALSE;
  if ((x & 7) == DURATION_ESCAPE)
    {
      if (x != DURATION_ESCAPE || *p >= end)
        return FALSE;
      *type = *(*p)++;
      if (!_strata_sht_get_varint (p, end, &duration) || duration <= DURATION_MAX)
        return FALSE;
    }
  else
    {
      *type = x & 7;
      duration = x >> 3;
    }
  *iv_end = (gint64) ((guint64) *prev_end + delta);
  *start = (gint64) ((guint64) *iv_end - duration);
  /* In the node, and in time order within the run: the queries rely on
   * both. Wrapped arithmetic shows here as an end before the previous. */
  if (*iv_end < *prev_end || *iv_end < *start || *start < node->start || *iv_end > node->end
      || *type > STRATA_SHT_VALUE_STRING)
    return FALSE;
  *prev_end = *iv_end;
  return TRUE;
}

gboolean
_strata_sht_node_value (guint8           type,
                        const guint8   **p,
                        const guint8    *end,
                        StrataShtValue  *value)
{
  guint64 v;

  memset (value, 0, sizeof *value);
  value->type = type;
  switch (type)
    {
    case STRATA_SHT_VALUE_NULL:
      return TRUE;
    case STRATA_SHT_VALUE_INT32:
      {
        gint64 i;
        if (!_strata_sht_get_varint (p, end, &v))
          return FALSE;
        i = _strata_sht_unzigzag (v);
        if (i < G_MININT32 || i > G_MAXINT32)
          return FALSE;
        value->u.i32 = (gint32) i;
      }
      return TRUE;
    case STRATA_SHT_VALUE_INT64:
      if (!_strata_sht_get_varint (p, end, &v))
        return FALSE;
      value->u.i64 = _strata_sht_unzigzag (v);
      return TRUE;
    case STRATA_SHT_VALUE_DOUBLE:
      if (end - *p < 8)
        return FALSE;
      v = _strata_sht_get_u64 (*p);
      memcpy (&value->u.d, &v, 8);
      *p += 8;
      return TRUE;
    case STRATA_SHT_VALUE_STRING:
      if (!_strata_sht_get_varint (p, end, &v) || v > G_MAXUINT32)
        return FALSE;
      value->u.str = (guint32) v;
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
_strata_sht_node_skip_value (guint8          type,
                             const guint8  **p,
                             const guint8   *end)
{
  switch (type)
    {
    case STRATA_SHT_VALUE_NULL:
      return TRUE;
    case STRATA_SHT_VALUE_DOUBLE:
      if (end - *p < 8)
        return FALSE;
      *p += 8;
      return TRUE;
    default:
      while (*p < end && (**p & 0x80))
        (*p)++;
      if (*p >= end)
        return FALSE;
      (*p)++;
      return TRUE;
    }
}

/* Decodes the next interval of a run; FALSE if the run is damaged. */
gboolean
_strata_sht_node_next (const ShtNode      *node,
                       guint32             quark,
                       const guint8      **p,
                       const guint8       *end,
                       gint64             *prev_end,
                       StrataShtInterval  *iv)
{
  guint8 type;

  if (!_strata_sht_node_head (node, p, end, prev_end, &iv->start, &iv->end, &type))
    return FALSE;
  iv->quark = quark;
  iv->flags = 0;
  return _strata_sht_node_value (type, p, end, &iv->value);
}
