/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sht"

#include "config.h"

#include "strata-sht-private.h"

/* Nodes: their memory forms, and their encoding in one block (FORMAT.md).
 *
 * A block holds its intervals grouped by quark, behind a table of where
 * each quark's run begins, so that a query reads only the quarks it asks
 * for. A run is an array of fixed-size records, so that a query finds the
 * interval holding a time by a binary search on their ends instead of
 * decoding the run up to it; each record is
 *   end − node start      ew bytes (the node's width)
 *   tag                   tw bytes: start − previous end − 1 (the gap), or
 *                         end − start (the duration), whichever is smaller
 *                         for the run; shifted left by 3 with the value's
 *                         type in the low bits when the run's values are
 *                         not all of one type
 *   value                 vw bytes: zigzag int32/int64, double bits,
 *                         string id; nothing for null
 * with the widths the smallest the run needs. In a leaf, the intervals of
 * one quark mostly follow each other: the gaps are 0 and take no byte, so
 * that the typical kernel state change takes 3 or 4 bytes. In a core node
 * they are those crossing the children's boundaries, far apart: their
 * durations are smaller than the gaps. Time arithmetic is done on unsigned 64-bit
 * integers, where wrapping is defined, so that any pair of int64 times
 * round-trips. */

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
    node->stats = g_new0 (ShtRunStat, group_size);
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
  g_free (node->stats);
  g_free (node->block);
  g_free (node);
}

gsize
_strata_sht_node_mem_size (const ShtNode *node)
{
  return sizeof (ShtNode)
         + node->intervals_alloc * sizeof (StrataShtInterval)
         + node->n_children * sizeof (ShtChild)
         + (node->block ? node->block_size + SHT_BLOCK_PAD : 0);
}

/* Bits of @v, 0 for 0. */
static inline guint
bit_length (guint64 v)
{
  return v == 0 ? 0 : 64 - __builtin_clzll (v);
}

static inline guint
byte_length (guint64 v)
{
  return (bit_length (v) + 7) / 8;
}

static guint64
value_bits (const StrataShtValue *v)
{
  switch (v->type)
    {
    case STRATA_SHT_VALUE_INT32:
      return _strata_sht_zigzag (v->u.i32);
    case STRATA_SHT_VALUE_INT64:
      return _strata_sht_zigzag (v->u.i64);
    case STRATA_SHT_VALUE_DOUBLE:
      {
        guint64 bits;
        memcpy (&bits, &v->u.d, 8);
        return bits;
      }
    case STRATA_SHT_VALUE_STRING:
      return v->u.str;
    default:
      return 0;
    }
}

static inline guint
value_width (const StrataShtValue *v)
{
  /* A double keeps its 8 bytes: the reader checks it. */
  return v->type == STRATA_SHT_VALUE_DOUBLE ? 8 : byte_length (value_bits (v));
}

/* The bytes of a tag of @bits bits, and the type. */
static inline guint
tag_width (const ShtRunStat *st, guint bits)
{
  return st->type == SHT_RUN_MIXED ? (bits + 3 + 7) / 8 : (bits + 7) / 8;
}

static inline guint
ends_width (guint64 max_end)
{
  return MAX (1, byte_length (max_end));
}

/* A run's bytes but for its ends, with gaps: a layout byte (two if the
 * tags take any), the first duration, the tags and values. */
static inline gsize
run_cost_gaps (const ShtRunStat *st)
{
  guint tw = tag_width (st, st->gap_bits);

  return (tw > 0 ? 2 : 1) + _strata_sht_varint_size (st->first_dur)
         + (gsize) st->n * (tw + st->vw);
}

/* With durations: two layout bytes, the tags and values. */
static inline gsize
run_cost_durations (const ShtRunStat *st)
{
  return 2 + (gsize) st->n * (tag_width (st, st->dur_bits) + st->vw);
}

static inline gsize
run_cost (const ShtRunStat *st)
{
  if (st->n == 0)
    return 0;
  return MIN (run_cost_gaps (st), run_cost_durations (st));
}

static inline void
stat_add (ShtRunStat *st, const StrataShtInterval *iv)
{
  guint64 duration = (guint64) iv->end - (guint64) iv->start;

  if (st->n == 0)
    {
      st->first_dur = duration;
      st->type = iv->value.type;
    }
  else
    {
      st->gap_bits = MAX (st->gap_bits, bit_length ((guint64) iv->start - (guint64) st->last - 1));
      if (st->type != iv->value.type)
        st->type = SHT_RUN_MIXED;
    }
  st->dur_bits = MAX (st->dur_bits, bit_length (duration));
  st->vw = MAX (st->vw, value_width (&iv->value));
  st->last = iv->end;
  st->n++;
}

/* The run table: its range, the width of the ends, the offsets. */
static gsize
table_size (guint32 own_min, guint32 own_max)
{
  if (own_min > own_max)
    return 0;
  return _strata_sht_varint_size (own_min)
         + _strata_sht_varint_size (own_max - own_min + 1)
         + 1
         + 2 * ((gsize) own_max - own_min + 2);
}

/* The bytes an open node's block needs. */
gsize
_strata_sht_node_size (const ShtNode *node)
{
  return node->used + node->ibytes
         + (node->n_intervals > 0 ? node->n_intervals * ends_width (node->max_end) : 0)
         + table_size (node->own_min, node->own_max);
}

/* Adds @iv to an open node if the block still holds it once encoded. A
 * quark's intervals arrive in time order: its ongoing state only moves
 * forwards. */
gboolean
_strata_sht_node_try_add (ShtNode                 *node,
                          const StrataShtInterval *iv,
                          gsize                    block_size)
{
  ShtRunStat *st;
  ShtRunStat next;
  guint64 max_end;
  gsize ibytes, size;

  g_assert (iv->quark >= node->qbase && iv->quark - node->qbase < node->group_size);
  st = &node->stats[iv->quark - node->qbase];
  g_assert (iv->start >= node->start && iv->end >= iv->start);
  g_assert (st->n == 0 || iv->start > st->last);

  next = *st;
  stat_add (&next, iv);
  max_end = MAX (node->max_end, (guint64) iv->end - (guint64) node->start);
  ibytes = node->ibytes - run_cost (st) + run_cost (&next);
  size = node->used + ibytes + (gsize) (node->n_intervals + 1) * ends_width (max_end)
         + table_size (MIN (node->own_min, iv->quark), MAX (node->own_max, iv->quark));
  if (size > block_size)
    return FALSE;

  *st = next;
  node->ibytes = ibytes;
  node->max_end = max_end;
  if (node->n_intervals == node->intervals_alloc)
    {
      node->intervals_alloc = MAX (64, node->intervals_alloc * 2);
      node->intervals = g_renew (StrataShtInterval, node->intervals, node->intervals_alloc);
    }
  node->intervals[node->n_intervals] = *iv;
  node->intervals[node->n_intervals].flags = 0;
  node->n_intervals++;
  node->own_min = MIN (node->own_min, iv->quark);
  node->own_max = MAX (node->own_max, iv->quark);
  node->min_quark = MIN (node->min_quark, iv->quark);
  node->max_quark = MAX (node->max_quark, iv->quark);
  return TRUE;
}

static inline guint8 *
put_le (guint8 *p, guint64 v, guint w)
{
  for (guint i = 0; i < w; i++)
    p[i] = (guint8) (v >> (8 * i));
  return p + w;
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

      guint ew = ends_width (node->max_end);

      p = _strata_sht_put_varint (p, node->own_min);
      p = _strata_sht_put_varint (p, range);
      *p++ = ew;
      table = p;
      runs = table + 2 * (range + 1);
      p = runs;
      for (guint k = 0, i = 0; k < range; k++)
        {
          const ShtRunStat *st = &node->stats[node->own_min + k - node->qbase];
          gboolean durations;
          guint tw;
          guint64 prev_end = 0;

          table[2 * k] = (p - runs) & 0xff;
          table[2 * k + 1] = ((p - runs) >> 8) & 0xff;
          if (st->n == 0)
            continue;
          /* As run_cost() counted it. */
          durations = run_cost_durations (st) < run_cost_gaps (st);
          tw = tag_width (st, durations ? st->dur_bits : st->gap_bits);
          *p++ = st->type | st->vw << 3 | (tw > 0 || durations ? 0x80 : 0);
          if (tw > 0 || durations)
            *p++ = tw | (durations ? 0x10 : 0);
          if (!durations)
            p = _strata_sht_put_varint (p, st->first_dur);
          for (guint j = 0; j < st->n; j++, i++)
            {
              const StrataShtInterval *iv = &node->intervals[order[i]];
              guint64 s = (guint64) iv->start - (guint64) node->start;
              guint64 e = (guint64) iv->end - (guint64) node->start;
              guint64 tag = durations ? e - s : j == 0 ? 0 : s - prev_end - 1;

              g_assert (iv->quark == node->own_min + k);
              p = put_le (p, e, ew);
              if (tw == 9)
                {
                  p = put_le (p, tag << 3 | iv->value.type, 8);
                  *p++ = tag >> 61;
                }
              else
                p = put_le (p, st->type == SHT_RUN_MIXED ? tag << 3 | iv->value.type : tag, tw);
              p = put_le (p, value_bits (&iv->value), st->vw);
              prev_end = e;
            }
        }
      table[2 * range] = (p - runs) & 0xff;
      table[2 * range + 1] = ((p - runs) >> 8) & 0xff;
    }

  g_assert ((gsize) (p - block) <= _strata_sht_node_size (node));
  g_assert ((gsize) (p - block) <= block_size);
  _strata_sht_put_u32 (block + SHT_NODE_PAYLOAD, (guint32) (p - block - SHT_NODE_HEADER_SIZE));
  _strata_sht_put_u32 (block + SHT_NODE_CRC,
                       _strata_sht_crc32c (0, block + 4, block_size - 4));
}

/* A buffer for a block that _strata_sht_node_deserialize() takes. */
guint8 *
_strata_sht_node_block_new (gsize block_size)
{
  guint8 *block = g_malloc (block_size + SHT_BLOCK_PAD);

  memset (block + block_size, 0, SHT_BLOCK_PAD);
  return block;
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

/* Makes a closed node of a block, which it takes: @block_size bytes and
 * SHT_BLOCK_PAD more, zeroed (_strata_sht_node_block_new()). Its header,
 * children and run table are all checked (a checksum can match by chance,
 * and a file is never trusted); the intervals are checked as they are
 * read. */
ShtNode *
_strata_sht_node_deserialize (guint8   *block,
                              gsize     block_size,
                              guint32   expected_seq,
                              GError  **error)
{
  ShtNode *node;
  const guint8 *p, *end;
  guint n_children;

  if (!_strata_sht_node_check (block, block_size, expected_seq, error))
    {
      g_free (block);
      return NULL;
    }

  n_children = block[SHT_NODE_N_CHILDREN] | (block[SHT_NODE_N_CHILDREN + 1] << 8);
  node = _strata_sht_node_new (expected_seq,
                               _strata_sht_get_u32 (block + SHT_NODE_PARENT),
                               block[SHT_NODE_KIND],
                               (gint64) _strata_sht_get_u64 (block + SHT_NODE_START),
                               0, 0, 0);
  node->block = block;
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
          || (guint64) (end - p) < 1 + 2 * (range + 1))
        goto bad_table;
      node->own_min = (guint32) own_min;
      node->own_max = (guint32) (own_min + range - 1);
      node->ew = *p++;
      node->table = p;
      node->runs = p + 2 * (range + 1);
      node->runs_len = end - node->runs;
      if (node->ew < 1 || node->ew > 8
          || table_get (node, 0) != 0 || table_get (node, range) != node->runs_len
          || node->runs_len < node->n_intervals)
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

const guint64 _strata_sht_le_masks[9] = {
  0, 0xff, 0xffff, 0xffffff, 0xffffffff, G_GUINT64_CONSTANT (0xffffffffff),
  G_GUINT64_CONSTANT (0xffffffffffff), G_GUINT64_CONSTANT (0xffffffffffffff), G_MAXUINT64,
};

/* Record counts without a division: n = len / stride for len < 65536
 * and stride ≤ 25 is (len · ⌈2³²/stride⌉) >> 32. */
#define RECIPROCAL(d) ((G_GUINT64_CONSTANT (1) << 32) / (d) + 1)
const guint64 _strata_sht_reciprocals[26] = {
  0, RECIPROCAL (1), RECIPROCAL (2), RECIPROCAL (3), RECIPROCAL (4), RECIPROCAL (5),
  RECIPROCAL (6), RECIPROCAL (7), RECIPROCAL (8), RECIPROCAL (9), RECIPROCAL (10),
  RECIPROCAL (11), RECIPROCAL (12), RECIPROCAL (13), RECIPROCAL (14), RECIPROCAL (15),
  RECIPROCAL (16), RECIPROCAL (17), RECIPROCAL (18), RECIPROCAL (19), RECIPROCAL (20),
  RECIPROCAL (21), RECIPROCAL (22), RECIPROCAL (23), RECIPROCAL (24), RECIPROCAL (25),
};

/* The interval of @run holding @t (in the node's range); FALSE if none
 * does, with *damaged set if the run is damaged. */
gboolean
_strata_sht_run_find (const ShtNode     *node,
                      const ShtRun      *run,
                      guint32            quark,
                      gint64             t,
                      StrataShtInterval *iv,
                      gboolean          *damaged)
{
  guint64 t_off = (guint64) t - (guint64) node->start;
  guint i = _strata_sht_run_seek (node, run, 0, t_off);

  if (i == run->n)
    return FALSE;
  if (!_strata_sht_run_get (node, run, i, i > 0 ? _strata_sht_run_end (node, run, i - 1) : 0,
                            quark, iv))
    {
      *damaged = TRUE;
      return FALSE;
    }
  return iv->start <= t;
}
