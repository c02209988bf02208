/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * SECTION:strata-sht
 * @title: StrataSht
 * @short_description: the State History Tree, a disk-based interval store
 *
 * A #StrataSht stores, for every attribute (a named path such as
 * `Machines/guest1/vCPUs/0/State`, mapped to an integer quark), the
 * succession of its values over time as intervals `[start, end] → value`.
 *
 * One thread writes through the "ongoing state" API (strata_sht_modify(),
 * strata_sht_push(), strata_sht_pop()); every interval it closes goes
 * through a bounded queue to a writer thread that builds the tree on disk.
 * Any number of threads query it at the same time, while it is written
 * and after strata_sht_close(), or after strata_sht_open() on a finished
 * file. Queries see everything written so far: the tree, the queue and the
 * ongoing state.
 *
 * Every attribute has a value at every time from the history's start:
 * null until its first change. The intervals of one attribute therefore
 * tile `[start_time, end_time]` without gaps or overlaps, which lets the
 * 2D query say exactly where it skipped intervals shorter than its
 * resolution.
 *
 * The file format is described in `core/sht/FORMAT.md`.
 */

#define STRATA_SHT_ERROR (strata_sht_error_quark ())

/**
 * StrataShtError:
 * @STRATA_SHT_ERROR_IO: the file could not be read or written
 * @STRATA_SHT_ERROR_NOT_SHT: the file is not a state history file
 * @STRATA_SHT_ERROR_UNFINISHED: the file was never finished (its writer stopped)
 * @STRATA_SHT_ERROR_TRUNCATED: the file is shorter than its header says
 * @STRATA_SHT_ERROR_CORRUPT: a checksum or a structure does not match
 * @STRATA_SHT_ERROR_FORMAT_VERSION: written in another version of the format
 * @STRATA_SHT_ERROR_ANALYSIS_VERSION: written by another version of the analysis
 * @STRATA_SHT_ERROR_OUT_OF_RANGE: the time is outside the history
 * @STRATA_SHT_ERROR_INVALID_QUARK: no such attribute
 *
 * Every error but the last two means "rebuild the file".
 */
typedef enum
{
  STRATA_SHT_ERROR_IO,
  STRATA_SHT_ERROR_NOT_SHT,
  STRATA_SHT_ERROR_UNFINISHED,
  STRATA_SHT_ERROR_TRUNCATED,
  STRATA_SHT_ERROR_CORRUPT,
  STRATA_SHT_ERROR_FORMAT_VERSION,
  STRATA_SHT_ERROR_ANALYSIS_VERSION,
  STRATA_SHT_ERROR_OUT_OF_RANGE,
  STRATA_SHT_ERROR_INVALID_QUARK,
} StrataShtError;

typedef enum
{
  STRATA_SHT_VALUE_NULL = 0,
  STRATA_SHT_VALUE_INT32,
  STRATA_SHT_VALUE_INT64,
  STRATA_SHT_VALUE_DOUBLE,
  STRATA_SHT_VALUE_STRING,
} StrataShtValueType;

/**
 * StrataShtValue:
 *
 * A state value. Strings are interned in the history's string pool
 * (strata_sht_intern()) and carried as their id; strata_sht_get_string()
 * gives the text back.
 */
typedef struct
{
  guint8 type;                    /* StrataShtValueType */
  union
  {
    gint32  i32;
    gint64  i64;
    double  d;
    guint32 str;                  /* id in the string pool */
  } u;
} StrataShtValue;

/* Constructors for the value types, usable in expressions. */
#define STRATA_SHT_NULL         ((StrataShtValue) { .type = STRATA_SHT_VALUE_NULL })
#define STRATA_SHT_INT32(v)     ((StrataShtValue) { .type = STRATA_SHT_VALUE_INT32, .u.i32 = (v) })
#define STRATA_SHT_INT64(v)     ((StrataShtValue) { .type = STRATA_SHT_VALUE_INT64, .u.i64 = (v) })
#define STRATA_SHT_DOUBLE(v)    ((StrataShtValue) { .type = STRATA_SHT_VALUE_DOUBLE, .u.d = (v) })
#define STRATA_SHT_STRING_ID(v) ((StrataShtValue) { .type = STRATA_SHT_VALUE_STRING, .u.str = (v) })

gboolean strata_sht_value_equal (const StrataShtValue *a,
                                 const StrataShtValue *b);

/**
 * StrataShtIntervalFlags:
 * @STRATA_SHT_INTERVAL_ONGOING: the interval has not ended yet (the history
 *   is still being written); its @end is %G_MAXINT64
 * @STRATA_SHT_INTERVAL_HIDDEN_AFTER: in a 2D query, intervals of the same
 *   attribute shorter than the resolution were skipped between this
 *   interval's end and the start of the next one returned (or the end of
 *   the queried range): something happened there.
 */
typedef enum
{
  STRATA_SHT_INTERVAL_ONGOING     = 1 << 0,
  STRATA_SHT_INTERVAL_HIDDEN_AFTER = 1 << 1,
} StrataShtIntervalFlags;

/**
 * StrataShtInterval:
 * @start: first nanosecond of the state (inclusive)
 * @end: last nanosecond of the state (inclusive)
 * @quark: the attribute
 * @flags: #StrataShtIntervalFlags
 * @value: the state
 */
typedef struct
{
  gint64         start;
  gint64         end;
  guint32        quark;
  guint16        flags;
  StrataShtValue value;
} StrataShtInterval;

#define STRATA_SHT_ROOT           ((guint32) 0)
#define STRATA_SHT_QUARK_INVALID  ((guint32) G_MAXUINT32)

/* The defaults; FORMAT.md explains the choice. */
#define STRATA_SHT_DEFAULT_BLOCK_SIZE    16384
#define STRATA_SHT_DEFAULT_MAX_CHILDREN  32
#define STRATA_SHT_DEFAULT_CACHE_BYTES   (64 * 1024 * 1024)

/**
 * StrataShtOptions:
 * @block_size: size of a node on disk, a power of two from 1 KiB to 64 KiB
 *   (0: %STRATA_SHT_DEFAULT_BLOCK_SIZE)
 * @max_children: children per core node, 2 to 256 (0: the default)
 * @cache_bytes: memory for cached nodes (0: %STRATA_SHT_DEFAULT_CACHE_BYTES)
 * @queue_intervals: intervals the writer queue holds before the writing
 *   thread waits (0: a default of 64 Ki)
 */
typedef struct
{
  guint  block_size;
  guint  max_children;
  gsize  cache_bytes;
  guint  queue_intervals;
} StrataShtOptions;

/**
 * StrataShtStats:
 *
 * What a history holds and what its cache did, for benchmarks and
 * diagnostics.
 */
typedef struct
{
  guint64 n_intervals;      /* in the tree and the queue */
  guint64 n_nodes;
  guint   depth;
  guint64 file_bytes;       /* nodes written so far (all of it once closed) */
  guint64 cache_hits;
  guint64 cache_misses;
  gsize   cache_bytes;      /* memory held by cached nodes now */
  guint64 n_clamped;        /* changes dated before the attribute's current
                               state began, moved to its start */
} StrataShtStats;

typedef struct _StrataSht StrataSht;

GQuark         strata_sht_error_quark    (void);

StrataSht     *strata_sht_create         (const char              *path,
                                          gint64                   start_time,
                                          guint32                  analysis_version,
                                          const StrataShtOptions  *options,
                                          GError                 **error);
StrataSht     *strata_sht_open           (const char              *path,
                                          guint32                  analysis_version,
                                          gsize                    cache_bytes,
                                          GError                 **error);
gboolean       strata_sht_close          (StrataSht               *self,
                                          gint64                   end_time,
                                          GError                 **error);
void           strata_sht_free           (StrataSht               *self);

const char    *strata_sht_get_path       (StrataSht               *self);
gboolean       strata_sht_is_finished    (StrataSht               *self);
gint64         strata_sht_get_start_time (StrataSht               *self);
gint64         strata_sht_get_end_time   (StrataSht               *self);
guint32        strata_sht_get_analysis_version (StrataSht         *self);
void           strata_sht_set_cache_bytes (StrataSht              *self,
                                          gsize                    cache_bytes);
void           strata_sht_get_stats      (StrataSht               *self,
                                          StrataShtStats          *stats);

/* Attribute tree */
guint32        strata_sht_quark_get      (StrataSht               *self,
                                          guint32                  parent,
                                          const char              *name);
guint32        strata_sht_quark_get_path (StrataSht               *self,
                                          const char              *path);
guint32        strata_sht_quark_lookup   (StrataSht               *self,
                                          guint32                  parent,
                                          const char              *name);
guint32        strata_sht_quark_lookup_path (StrataSht            *self,
                                          const char              *path);
const char    *strata_sht_quark_get_name (StrataSht               *self,
                                          guint32                  quark);
guint32        strata_sht_quark_get_parent (StrataSht             *self,
                                          guint32                  quark);
char          *strata_sht_quark_dup_path (StrataSht               *self,
                                          guint32                  quark);
GArray        *strata_sht_quark_dup_children (StrataSht           *self,
                                          guint32                  quark);
guint          strata_sht_get_n_quarks   (StrataSht               *self);

/* String pool */
guint32        strata_sht_intern         (StrataSht               *self,
                                          const char              *text);
const char    *strata_sht_get_string     (StrataSht               *self,
                                          guint32                  id);
guint          strata_sht_get_n_strings  (StrataSht               *self);

/* Writing: the ongoing state (one thread) */
void           strata_sht_modify         (StrataSht               *self,
                                          guint32                  quark,
                                          gint64                   t,
                                          StrataShtValue           value);
void           strata_sht_modify_string  (StrataSht               *self,
                                          guint32                  quark,
                                          gint64                   t,
                                          const char              *text);
void           strata_sht_push           (StrataSht               *self,
                                          guint32                  quark,
                                          gint64                   t,
                                          StrataShtValue           value);
StrataShtValue strata_sht_pop            (StrataSht               *self,
                                          guint32                  quark,
                                          gint64                   t);
StrataShtValue strata_sht_get_ongoing    (StrataSht               *self,
                                          guint32                  quark,
                                          gint64                  *start);

/* Queries (any thread) */
gboolean       strata_sht_query_single   (StrataSht               *self,
                                          guint32                  quark,
                                          gint64                   t,
                                          StrataShtInterval       *interval,
                                          GError                 **error);
GArray        *strata_sht_query_full     (StrataSht               *self,
                                          gint64                   t,
                                          GError                 **error);

typedef struct _StrataShtRange StrataShtRange;

StrataShtRange *strata_sht_query_2d      (StrataSht               *self,
                                          const guint32           *quarks,
                                          guint                    n_quarks,
                                          gint64                   t0,
                                          gint64                   t1,
                                          gint64                   resolution,
                                          GError                 **error);
guint           strata_sht_range_get_n_rows (StrataShtRange       *range);
const StrataShtInterval *
                strata_sht_range_get_row (StrataShtRange          *range,
                                          guint                    row,
                                          guint                   *n_intervals);
void            strata_sht_range_free    (StrataShtRange          *range);

/**
 * StrataShtRangeIter:
 *
 * A cursor over one row of a 2D query result, moving forwards or
 * backwards in time. Initialise it with strata_sht_range_iter_init().
 */
typedef struct
{
  /*< private >*/
  const StrataShtInterval *intervals;
  guint                    n;
  guint                    pos;
} StrataShtRangeIter;

void            strata_sht_range_iter_init (StrataShtRangeIter    *iter,
                                          StrataShtRange          *range,
                                          guint                    row,
                                          gboolean                 from_end);
const StrataShtInterval *
                strata_sht_range_iter_next (StrataShtRangeIter    *iter);
const StrataShtInterval *
                strata_sht_range_iter_previous (StrataShtRangeIter *iter);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataSht, strata_sht_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataShtRange, strata_sht_range_free)

G_END_DECLS
