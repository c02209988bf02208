/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <string.h>

#include "strata-sht.h"

G_BEGIN_DECLS

#define STRATA_SHT_MAGIC           "STRATSHT"
#define STRATA_SHT_FORMAT_VERSION  1

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

typedef struct
{
  guint32 seq;
  guint32 min_quark;
  guint32 max_quark;
  gint64  start;
  gint64  end;
} ShtChild;

/* One node. Nodes of the branch being written are open: their intervals
 * are an array, still growing, with @end at G_MAXINT64, only touched under
 * the tree lock. Closed nodes keep their block as written and decode the
 * intervals of a quark only when a query asks for them; they are immutable
 * and shared by the cache and the queries that hold a reference. */
typedef struct
{
  gint               ref_count;
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
  gsize              ibytes;          /* encoded intervals */
  guint32            qbase;           /* first quark of the group */
  guint              group_size;
  gint64            *qlast;           /* end of each quark's last interval */

  /* Both: the quarks of the node's own intervals */
  guint32            own_min;
  guint32            own_max;

  /* Closed nodes */
  guint8            *block;           /* owned copy of the block */
  gsize              block_size;
  const guint8      *table;           /* (range + 1) u16 run offsets */
  const guint8      *runs;
  gsize              runs_len;
} ShtNode;

#define CHUNK_INTERVALS  4096
/* A reader sees the string table without a lock: fixed chunks of
 * pointers that never move. */
#define STRING_CHUNK_BITS  12
#define STRING_CHUNK       (1u << STRING_CHUNK_BITS)
#define STRING_MAX_CHUNKS  16384
/* Above this many (row, sample) cells a 2D query sorts instead. */
#define CELLS_MAX  (4u * 1024 * 1024)

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

  /* Node cache */
  GMutex         cache_lock;
  GHashTable    *cache;          /* seq → GList* in lru */
  GQueue         lru;            /* ShtNode*, most recent first */
  gsize          cache_bytes;
  gsize          cache_budget;
  guint64        cache_hits;
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
gsize     _strata_sht_node_size_with   (const ShtNode     *node,
                                        const StrataShtInterval *iv);
void      _strata_sht_node_add         (ShtNode           *node,
                                        const StrataShtInterval *iv);
gboolean  _strata_sht_node_run         (const ShtNode     *node,
                                        guint32            quark,
                                        const guint8     **p,
                                        const guint8     **end);
gboolean  _strata_sht_node_head        (const ShtNode     *node,
                                        const guint8     **p,
                                        const guint8      *end,
                                        gint64            *prev_end,
                                        gint64            *start,
                                        gint64            *iv_end,
                                        guint8            *type);
gboolean  _strata_sht_node_value       (guint8             type,
                                        const guint8     **p,
                                        const guint8      *end,
                                        StrataShtValue    *value);
gboolean  _strata_sht_node_skip_value  (guint8             type,
                                        const guint8     **p,
                                        const guint8      *end);
gboolean  _strata_sht_node_next        (const ShtNode     *node,
                                        guint32            quark,
                                        const guint8     **p,
                                        const guint8      *end,
                                        gint64            *prev_end,
                                        StrataShtInterval *iv);
void      _strata_sht_node_serialize   (const ShtNode     *node,
                                        guint8            *block,
                                        gsize              block_size);
ShtNode  *_strata_sht_node_deserialize (const guint8      *block,
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

G_END_DECLS
