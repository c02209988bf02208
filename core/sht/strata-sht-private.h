/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <string.h>

#include "strata-sht.h"

G_BEGIN_DECLS

#define STRATA_SHT_MAGIC           "STRATSHT"
#define STRATA_SHT_FORMAT_VERSION  2

/* Header fields, little-endian, at the start of the first block. */
#define SHT_HDR_MAGIC            0
#define SHT_HDR_FORMAT_VERSION   8
#define SHT_HDR_FLAGS           12
#define SHT_HDR_ANALYSIS        16
#define SHT_HDR_BLOCK_SIZE      20
#define SHT_HDR_MAX_CHILDREN    24
#define SHT_HDR_DEPTH           28
#define SHT_HDR_N_NODES         32
#define SHT_HDR_GROUP_SIZE      40
#define SHT_HDR_N_GROUPS        44
#define SHT_HDR_START           48
#define SHT_HDR_END             56
#define SHT_HDR_N_INTERVALS     64
#define SHT_HDR_ATTR_OFFSET     72
#define SHT_HDR_ATTR_LENGTH     80
#define SHT_HDR_ATTR_CRC        88
#define SHT_HDR_N_QUARKS        92
#define SHT_HDR_STR_OFFSET      96
#define SHT_HDR_STR_LENGTH     104
#define SHT_HDR_STR_CRC        112
#define SHT_HDR_N_STRINGS      116
#define SHT_HDR_FILE_LENGTH    120
#define SHT_HDR_CRC            128
#define SHT_HDR_SIZE           132

#define SHT_HDR_FLAG_FINISHED  (1u << 0)

/* Node header, little-endian, at the start of each block. */
#define SHT_NODE_CRC             0
#define SHT_NODE_KIND            4
#define SHT_NODE_N_CHILDREN      6
#define SHT_NODE_SEQ             8
#define SHT_NODE_PARENT         12
#define SHT_NODE_START          16
#define SHT_NODE_END            24
#define SHT_NODE_MIN_QUARK      32
#define SHT_NODE_MAX_QUARK      36
#define SHT_NODE_N_INTERVALS    40
#define SHT_NODE_PAYLOAD        44
#define SHT_NODE_HEADER_SIZE    48

#define SHT_NODE_LEAF  1
#define SHT_NODE_CORE  2

/* The most a child entry can take once encoded (five varints). */
#define SHT_CHILD_MAX_BYTES     35

#define SHT_NO_PARENT  G_MAXUINT32

/* A run whose intervals are not all of one type (FORMAT.md). */
#define SHT_RUN_MIXED  7
/* Bytes readable past the end of a closed node's block: fields are read
 * 8 bytes at a time. */
#define SHT_BLOCK_PAD  8

typedef struct
{
  guint32 seq;
  guint32 min_quark;
  guint32 max_quark;
  gint64  start;
  gint64  end;
} ShtChild;

/* What an open node knows of one quark's run, to tell the size of its
 * encoding as intervals arrive. */
typedef struct
{
  guint64 first_dur;  /* end − start of its first interval */
  gint64  last;       /* end of its last */
  guint32 n;
  guint8  type;       /* the type of all its values, or SHT_RUN_MIXED */
  guint8  gap_bits;   /* bits of the largest gap between two intervals */
  guint8  dur_bits;   /* bits of the longest end − start */
  guint8  vw;         /* bytes of the widest value */
} ShtRunStat;

/* One node. Nodes of the branch being written are open: their intervals
 * are an array, still growing, with @end at G_MAXINT64, only touched under
 * the tree lock. Closed nodes keep their block as written and decode the
 * intervals of a quark only when a query asks for them; they are immutable
 * and shared by the cache and the queries that hold a reference. */
typedef struct
{
  gint               ref_count;
  gint               last_use;        /* atomic: the cache's clock then */
  guint32            seq;
  guint32            parent;
  guint8             kind;
  gint64             start;
  gint64             end;
  /* Quark range of this node's intervals and of all its descendants'. */
  guint32            min_quark;
  guint32            max_quark;
  guint              n_intervals;
  ShtChild          *children;
  guint              n_children;

  /* Open nodes */
  StrataShtInterval *intervals;       /* in the order they were added */
  guint              intervals_alloc;
  gsize              used;            /* header and child entries */
  gsize              ibytes;          /* runs, but for their ends */
  guint64            max_end;         /* latest end, from the node's start */
  guint32            qbase;           /* first quark of the group */
  guint              group_size;
  ShtRunStat        *stats;           /* each quark's run */

  /* Both: the quarks of the node's own intervals */
  guint32            own_min;
  guint32            own_max;

  /* Closed nodes */
  guint8            *block;           /* owned copy, SHT_BLOCK_PAD more */
  gsize              block_size;
  guint8             ew;              /* bytes of an interval's end */
  const guint8      *table;           /* (range + 1) u16 run offsets */
  const guint8      *runs;
  gsize              runs_len;
} ShtNode;

/* The run of one quark in a closed node, its header read: n records of
 * stride bytes (FORMAT.md). */
typedef struct
{
  const guint8 *rec;
  guint         n;
  guint         stride;
  guint8        type;       /* of all its values, or SHT_RUN_MIXED */
  guint8        tw;         /* bytes of a record's tag: gap or duration (and type) */
  guint8        vw;         /* bytes of a record's value */
  gboolean      durations;  /* the tags are end − start, not gaps */
  guint64       first_dur;  /* with gaps: end − start of the first interval */
  /* The bits of an end, a tag (up to 8 bytes) and a value */
  guint64       end_mask;
  guint64       tag_mask;
  guint64       value_mask;
} ShtRun;

#define CHUNK_INTERVALS  4096

/* Attributes in a group at most (FORMAT.md) */
#define SHT_GROUP_SIZE_MAX  204
/* A reader sees the string table without a lock: fixed chunks of
 * pointers that never move. */
#define STRING_CHUNK_BITS  12
#define STRING_CHUNK       (1u << STRING_CHUNK_BITS)
#define STRING_MAX_CHUNKS  16384

typedef enum
{
  STATE_WRITING,
  STATE_CLOSING,    /* ongoing states flushed into the queue */
  STATE_FINISHED,
  STATE_FAILED,
} ShtState;

typedef struct
{
  guint             n;
  StrataShtInterval iv[CHUNK_INTERVALS];
} Chunk;

typedef struct
{
  gint64         start;
  StrataShtValue value;
} Ongoing;

typedef struct
{
  guint32     parent;
  const char *name;
} QuarkKey;

/* The tree of one group of attributes. A node must have room for more
 * intervals than the attributes whose intervals can cross its children's
 * boundaries, or closing one node pushes them all into its ancestors and
 * the tree degenerates into a list. One tree per group of attributes
 * bounds that number whatever the number of attributes (FORMAT.md). */
typedef struct
{
  ShtNode **branch;     /* open nodes, root first, NULL below the last */
  guint     depth;
  gint64    tree_end;   /* latest end inserted */
  guint32   qbase;      /* its first quark */
  guint32   root_seq;   /* once closed */
} ShtGroup;

struct _StrataSht
{
  char          *path;
  char          *part_path;      /* NULL once renamed */
  int            fd;
  guint32        analysis_version;
  guint          block_size;
  guint          max_children;
  gint64         start_time;
  gint64         end_time;       /* latest time seen while writing */

  /* Attribute tree */
  GRWLock        attr_lock;
  GPtrArray     *quark_names;    /* char*, owned */
  GArray        *quark_parents;  /* guint32 */
  GHashTable    *quark_index;    /* QuarkKey* → quark + 1 */
  guint          n_quarks;       /* atomic */

  /* String pool */
  GMutex         str_lock;
  GHashTable    *str_index;      /* borrowed char* → id + 1 */
  GStringChunk  *str_chunk;
  const char  ***str_table;
  guint          n_strings;      /* atomic */

  /* Ongoing state and queue, under mutex */
  GMutex         mutex;
  GCond          not_full;
  GCond          not_empty;
  ShtState       state;
  Ongoing       *ongoing;
  guint          n_ongoing;
  guint          ongoing_alloc;
  Chunk         *cur;
  GQueue         pending;        /* Chunk*, oldest first */
  GSList        *free_chunks;
  guint          max_pending;
  guint64        n_queued;
  guint64        n_clamped;
  gboolean       aborting;
  GThread       *thread;
  GError        *write_error;    /* first error of the tree's thread */

  /* Trees, under tree_lock: one per group of group_size quarks */
  GRWLock        tree_lock;
  ShtGroup      *groups;
  guint          n_groups;
  guint          group_size;
  guint32        n_nodes;
  guint64        n_intervals;    /* in the tree */
  guint8        *block;          /* serialisation buffer */

  /* Node cache: a hit takes the lock for reading only (queries on
   * several threads read thousands of nodes each) and stamps the node
   * with the clock, which counts the nodes read from the file; the least
   * recently used are evicted in batches. */
  GRWLock        cache_lock;
  GHashTable    *cache;          /* seq → ShtNode* */
  GPtrArray     *cached;         /* the same nodes, holding a reference */
  gint           cache_clock;    /* atomic */
  gsize          cache_bytes;
  gsize          cache_budget;
  guint64        cache_hits;     /* atomic */
  guint64        cache_misses;
};


/* strata-sht-node.c */
ShtNode  *_strata_sht_node_new         (guint32            seq,
                                        guint32            parent,
                                        guint8             kind,
                                        gint64             start,
                                        guint              max_children,
                                        guint32            qbase,
                                        guint              group_size);
ShtNode  *_strata_sht_node_ref         (ShtNode           *node);
void      _strata_sht_node_unref       (ShtNode           *node);
gsize     _strata_sht_node_mem_size    (const ShtNode     *node);
gsize     _strata_sht_node_size        (const ShtNode     *node);
gboolean  _strata_sht_node_try_add     (ShtNode           *node,
                                        const StrataShtInterval *iv,
                                        gsize              block_size);
gboolean  _strata_sht_run_find         (const ShtNode     *node,
                                        const ShtRun      *run,
                                        guint32            quark,
                                        gint64             t,
                                        StrataShtInterval *iv,
                                        gboolean          *damaged);
void      _strata_sht_node_serialize   (const ShtNode     *node,
                                        guint8            *block,
                                        gsize              block_size);
guint8   *_strata_sht_node_block_new   (gsize              block_size);
ShtNode  *_strata_sht_node_deserialize (guint8            *block,
                                        gsize              block_size,
                                        guint32            expected_seq,
                                        GError           **error);
gboolean  _strata_sht_node_check       (const guint8      *block,
                                        gsize              block_size,
                                        guint32            expected_seq,
                                        GError           **error);

/* strata-sht.c */
StrataSht *_strata_sht_new             (const char        *path);
guint32   _strata_sht_quark_add        (StrataSht         *self,
                                        guint32            parent,
                                        const char        *name);
guint32   _strata_sht_quark_find       (StrataSht         *self,
                                        guint32            parent,
                                        const char        *name);

guint     _strata_sht_max_depth        (StrataSht         *self);

/* strata-sht-read.c */
void      _strata_sht_cache_insert     (StrataSht         *self,
                                        ShtNode           *node);

/* strata-sht-crc.c */
guint32   _strata_sht_crc32c           (guint32            crc,
                                        const void        *data,
                                        gsize              len);
guint32   _strata_sht_crc32c_portable  (guint32            crc,
                                        const void        *data,
                                        gsize              len);

/* Variable-length integers (LEB128) and zigzag, shared by the encoders. */
static inline guint
_strata_sht_varint_size (guint64 v)
{
  guint n = 1;
  while (v >= 0x80)
    {
      v >>= 7;
      n++;
    }
  return n;
}

static inline guint8 *
_strata_sht_put_varint (guint8 *p, guint64 v)
{
  while (v >= 0x80)
    {
      *p++ = (guint8) (v | 0x80);
      v >>= 7;
    }
  *p++ = (guint8) v;
  return p;
}

/* Reads one varint from [*p, end); FALSE if it runs past @end or over 64
 * bits. */
static inline gboolean
_strata_sht_get_varint (const guint8 **p, const guint8 *end, guint64 *v)
{
  guint64 r = 0;
  guint shift = 0;
  const guint8 *q = *p;

  while (q < end)
    {
      guint8 b = *q++;
      if (shift == 63 && b > 1)
        return FALSE;
      r |= (guint64) (b & 0x7f) << shift;
      if (!(b & 0x80))
        {
          *p = q;
          *v = r;
          return TRUE;
        }
      shift += 7;
      if (shift > 63)
        return FALSE;
    }
  return FALSE;
}

static inline guint64
_strata_sht_zigzag (gint64 v)
{
  return ((guint64) v << 1) ^ (guint64) (v >> 63);
}

static inline gint64
_strata_sht_unzigzag (guint64 v)
{
  return (gint64) (v >> 1) ^ -(gint64) (v & 1);
}

static inline void
_strata_sht_put_u32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
}

static inline void
_strata_sht_put_u64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, 8);
}

static inline guint32
_strata_sht_get_u32 (const guint8 *p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static inline guint64
_strata_sht_get_u64 (const guint8 *p)
{
  guint64 v;
  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

/* The bits of an integer of w bytes (0 to 8). */
extern const guint64 _strata_sht_le_masks[9];

/* A little-endian integer of the bytes of @mask at @p, with 8 bytes
 * readable there (SHT_BLOCK_PAD). */
static inline guint64
_strata_sht_get_le (const guint8 *p, guint64 mask)
{
  return _strata_sht_get_u64 (p) & mask;
}

extern const guint64 _strata_sht_reciprocals[26];

/* Where run k of a closed node begins, from the runs' start. */
static inline guint
_strata_sht_node_table (const ShtNode *node, guint k)
{
  return node->table[2 * k] | node->table[2 * k + 1] << 8;
}

/* Reads the header of @quark's run in a closed node: 1 with @run set, 0
 * if it has none, -1 if the header is damaged. The records themselves are
 * checked as they are read (_strata_sht_run_get()). */
static inline int
_strata_sht_node_run (const ShtNode *node, guint32 quark, ShtRun *run)
{
  const guint8 *p, *end;
  guint k, len;
  guint64 n;

  if (node->n_intervals == 0 || quark < node->own_min || quark > node->own_max)
    return 0;
  k = quark - node->own_min;
  p = node->runs + _strata_sht_node_table (node, k);
  end = node->runs + _strata_sht_node_table (node, k + 1);
  if (p == end)
    return 0;
  run->type = p[0] & 7;
  run->vw = (p[0] >> 3) & 15;
  run->tw = 0;
  run->durations = FALSE;
  run->first_dur = 0;
  if (p[0] & 0x80)
    {
      if (end - p < 2 || p[1] & 0xe0)
        return -1;
      run->tw = p[1] & 15;
      run->durations = (p[1] & 0x10) != 0;
      p++;
    }
  p++;
  if (run->vw > 8 || run->tw > 9
      || (run->type > STRATA_SHT_VALUE_STRING && run->type != SHT_RUN_MIXED)
      || (run->type == SHT_RUN_MIXED ? run->tw == 0 : run->tw > 8)
      || (!run->durations && !_strata_sht_get_varint (&p, end, &run->first_dur)))
    return -1;
  run->stride = node->ew + run->tw + run->vw;
  run->end_mask = _strata_sht_le_masks[node->ew];
  run->tag_mask = _strata_sht_le_masks[MIN (run->tw, 8)];
  run->value_mask = _strata_sht_le_masks[run->vw];
  len = end - p;
  /* n = len / stride, without a division (_strata_sht_reciprocals). */
  n = (len * _strata_sht_reciprocals[run->stride]) >> 32;
  if (n == 0 || n * run->stride != len)
    return -1;
  run->n = n;
  run->rec = p;
  return 1;
}

/* Starts loading the first bytes of @quark's run in a closed node. */
static inline void
_strata_sht_node_prefetch_run (const ShtNode *node, guint32 quark)
{
  guint k = quark - node->own_min;
  const guint8 *p = node->runs + _strata_sht_node_table (node, k);
  const guint8 *end = node->runs + _strata_sht_node_table (node, k + 1);

  /* The whole run (its binary search would otherwise wait for each line
   * in turn), up to a few lines */
  for (guint i = 0; i < 4 && p < end; i++, p += 64)
    __builtin_prefetch (p);
  if (p < end)
    __builtin_prefetch (end - 1);
}

/* Where interval @i of @run ends, from the node's start. */
static inline guint64
_strata_sht_run_end (const ShtNode *node, const ShtRun *run, guint i)
{
  return _strata_sht_get_le (run->rec + (gsize) i * run->stride, run->end_mask);
}

/* The first interval of @run from @i on that ends at @t_off (from the
 * node's start) or later; run->n if none. Ends increase along a run. The
 * search has no branch to mispredict but its loop's: where it ends is
 * random, and a run is a few records. */
static inline guint
_strata_sht_run_seek (const ShtNode *node, const ShtRun *run, guint i, guint64 t_off)
{
  guint n = run->n - i;

  if (n == 0)
    return i;
  while (n > 1)
    {
      guint half = n / 2;

      i = _strata_sht_run_end (node, run, i + half) < t_off ? i + half : i;
      n -= half;
    }
  return i + (_strata_sht_run_end (node, run, i) < t_off);
}

/* Decodes interval @i of @run (of @quark), checking that it lies in the
 * node after the previous one, which ends at @prev_off (from the node's
 * start; unused for the first); FALSE if the run is damaged. */
static inline gboolean
_strata_sht_run_get (const ShtNode     *node,
                     const ShtRun      *run,
                     guint              i,
                     guint64            prev_off,
                     guint32            quark,
                     StrataShtInterval *iv)
{
  const guint8 *r = run->rec + (gsize) i * run->stride;
  guint64 span = (guint64) node->end - (guint64) node->start;
  guint64 e = _strata_sht_get_le (r, run->end_mask);
  guint64 tag, s, v;
  guint8 type = run->type;

  r += node->ew;
  if (G_UNLIKELY (run->tw == 9))
    {
      guint64 lo = _strata_sht_get_u64 (r);
      if (r[8] > 7)
        return FALSE;
      type = lo & 7;
      tag = lo >> 3 | (guint64) r[8] << 61;
    }
  else
    {
      tag = _strata_sht_get_le (r, run->tag_mask);
      if (type == SHT_RUN_MIXED)
        {
          type = tag & 7;
          tag >>= 3;
        }
    }
  r += run->tw;
  if (e > span || (i > 0 && e <= prev_off))
    return FALSE;
  if (run->durations)
    {
      /* start = end − duration, after the previous end */
      if (tag > e || (i > 0 && e - tag <= prev_off))
        return FALSE;
      s = e - tag;
    }
  else if (i == 0)
    {
      if (tag != 0 || run->first_dur > e)
        return FALSE;
      s = e - run->first_dur;
    }
  else
    {
      /* The start, previous end + 1 + gap, lies between it and the end. */
      if (tag >= e - prev_off)
        return FALSE;
      s = prev_off + 1 + tag;
    }

  v = _strata_sht_get_le (r, run->value_mask);
  memset (&iv->value, 0, sizeof iv->value);
  iv->value.type = type;
  switch (type)
    {
    case STRATA_SHT_VALUE_NULL:
      break;
    case STRATA_SHT_VALUE_INT32:
      {
        gint64 x = _strata_sht_unzigzag (v);
        if (x < G_MININT32 || x > G_MAXINT32)
          return FALSE;
        iv->value.u.i32 = (gint32) x;
      }
      break;
    case STRATA_SHT_VALUE_INT64:
      iv->value.u.i64 = _strata_sht_unzigzag (v);
      break;
    case STRATA_SHT_VALUE_DOUBLE:
      if (run->vw != 8)
        return FALSE;
      memcpy (&iv->value.u.d, &v, 8);
      break;
    case STRATA_SHT_VALUE_STRING:
      if (v > G_MAXUINT32)
        return FALSE;
      iv->value.u.str = (guint32) v;
      break;
    default:
      return FALSE;
    }
  iv->start = (gint64) ((guint64) node->start + s);
  iv->end = (gint64) ((guint64) node->start + e);
  iv->quark = quark;
  iv->flags = 0;
  return TRUE;
}

G_END_DECLS
