/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-test-sht"
#include "config.h"

#include <string.h>

#include "sht-oracle.h"

typedef struct
{
  guint32         parent;
  char           *name;
  GArray         *children;   /* guint32, creation order */
  GHashTable     *by_name;    /* child name (borrowed) → quark + 1 */
  GArray         *stored;     /* StrataShtInterval, time order */
  gint64          ongoing_start;
  StrataShtValue  ongoing;
} OracleQuark;

struct _ShtOracle
{
  GArray   *quarks;          /* OracleQuark */
  gint64    start_time;
  gint64    max_t;
  gint64    end_time;
  gboolean  finished;
  guint64   n_intervals;
  guint64   n_clamped;
};

static OracleQuark *
get_quark (ShtOracle *self,
           guint32    quark)
{
  g_assert (quark < self->quarks->len);
  return &g_array_index (self->quarks, OracleQuark, quark);
}

static guint32
add_quark (ShtOracle  *self,
           guint32     parent,
           const char *name)
{
  OracleQuark oq = { 0, };
  guint32 quark = self->quarks->len;

  oq.parent = parent;
  oq.name = g_strdup (name);
  oq.children = g_array_new (FALSE, FALSE, sizeof (guint32));
  oq.stored = g_array_new (FALSE, FALSE, sizeof (StrataShtInterval));
  /* Every attribute is null from the start of the history, whenever it
   * appears. */
  oq.ongoing_start = self->start_time;
  oq.ongoing = STRATA_SHT_NULL;
  g_array_append_val (self->quarks, oq);

  if (quark != STRATA_SHT_ROOT)
    {
      OracleQuark *p = get_quark (self, parent);
      const char *borrowed = get_quark (self, quark)->name;

      if (p->by_name == NULL)
        p->by_name = g_hash_table_new (g_str_hash, g_str_equal);
      g_hash_table_insert (p->by_name, (gpointer) borrowed, GUINT_TO_POINTER (quark + 1));
      g_array_append_val (p->children, quark);
    }

  return quark;
}

ShtOracle *
sht_oracle_new (gint64 start_time)
{
  ShtOracle *self = g_new0 (ShtOracle, 1);

  self->quarks = g_array_new (FALSE, FALSE, sizeof (OracleQuark));
  self->start_time = start_time;
  self->max_t = start_time;
  add_quark (self, STRATA_SHT_QUARK_INVALID, "");
  return self;
}

void
sht_oracle_free (ShtOracle *self)
{
  for (guint i = 0; i < self->quarks->len; i++)
    {
      OracleQuark *oq = get_quark (self, i);

      g_free (oq->name);
      g_array_unref (oq->children);
      g_clear_pointer (&oq->by_name, g_hash_table_unref);
      g_array_unref (oq->stored);
    }
  g_array_unref (self->quarks);
  g_free (self);
}

gint64
sht_oracle_get_start_time (ShtOracle *self)
{
  return self->start_time;
}

gint64
sht_oracle_get_end_time (ShtOracle *self)
{
  return self->finished ? self->end_time : self->max_t;
}

gboolean
sht_oracle_is_finished (ShtOracle *self)
{
  return self->finished;
}

guint64
sht_oracle_get_n_clamped (ShtOracle *self)
{
  return self->n_clamped;
}

guint64
sht_oracle_get_n_intervals (ShtOracle *self)
{
  return self->n_intervals;
}

/* Attribute tree */

guint32
sht_oracle_quark_lookup (ShtOracle  *self,
                         guint32     parent,
                         const char *name)
{
  OracleQuark *p = get_quark (self, parent);
  gpointer found;

  if (p->by_name == NULL)
    return STRATA_SHT_QUARK_INVALID;
  found = g_hash_table_lookup (p->by_name, name);
  return found != NULL ? GPOINTER_TO_UINT (found) - 1 : STRATA_SHT_QUARK_INVALID;
}

guint32
sht_oracle_quark_get (ShtOracle  *self,
                      guint32     parent,
                      const char *name)
{
  guint32 quark = sht_oracle_quark_lookup (self, parent, name);

  if (quark == STRATA_SHT_QUARK_INVALID)
    quark = add_quark (self, parent, name);
  return quark;
}

guint32
sht_oracle_quark_get_path (ShtOracle  *self,
                           const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  guint32 quark = STRATA_SHT_ROOT;

  for (guint i = 0; parts[i] != NULL; i++)
    quark = sht_oracle_quark_get (self, quark, parts[i]);
  return quark;
}

guint32
sht_oracle_quark_lookup_path (ShtOracle  *self,
                              const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  guint32 quark = STRATA_SHT_ROOT;

  for (guint i = 0; parts[i] != NULL && quark != STRATA_SHT_QUARK_INVALID; i++)
    quark = sht_oracle_quark_lookup (self, quark, parts[i]);
  return quark;
}

guint
sht_oracle_get_n_quarks (ShtOracle *self)
{
  return self->quarks->len;
}

const char *
sht_oracle_quark_get_name (ShtOracle *self,
                           guint32    quark)
{
  return get_quark (self, quark)->name;
}

guint32
sht_oracle_quark_get_parent (ShtOracle *self,
                             guint32    quark)
{
  return get_quark (self, quark)->parent;
}

char *
sht_oracle_quark_dup_path (ShtOracle *self,
                           guint32    quark)
{
  GString *path = g_string_new (NULL);

  for (guint32 q = quark; q != STRATA_SHT_ROOT; q = get_quark (self, q)->parent)
    {
      if (path->len > 0)
        g_string_prepend_c (path, '/');
      g_string_prepend (path, get_quark (self, q)->name);
    }
  return g_string_free (path, FALSE);
}

const GArray *
sht_oracle_quark_get_children (ShtOracle *self,
                               guint32    quark)
{
  return get_quark (self, quark)->children;
}

/* Writing */

static void
store (ShtOracle      *self,
       guint32         quark,
       gint64          start,
       gint64          end,
       StrataShtValue  value)
{
  StrataShtInterval iv = { 0, };

  g_assert (start <= end);
  iv.start = start;
  iv.end = end;
  iv.quark = quark;
  iv.flags = 0;
  iv.value = value;
  g_array_append_val (get_quark (self, quark)->stored, iv);
  self->n_intervals++;
}

void
sht_oracle_modify (ShtOracle      *self,
                   guint32         quark,
                   gint64          t,
                   StrataShtValue  value)
{
  OracleQuark *oq = get_quark (self, quark);

  g_assert (!self->finished);
  self->max_t = MAX (self->max_t, t);

  if (t < oq->ongoing_start)
    {
      t = oq->ongoing_start;
      self->n_clamped++;
    }
  if (sht_value_same (&value, &oq->ongoing))
    return;
  /* A change at the very start of the ongoing state replaces it: the
   * old value never held for a whole nanosecond. */
  if (t > oq->ongoing_start)
    store (self, quark, oq->ongoing_start, t - 1, oq->ongoing);
  oq->ongoing_start = t;
  oq->ongoing = value;
}

static gint32
stack_depth (ShtOracle *self,
             guint32    quark)
{
  OracleQuark *oq = get_quark (self, quark);

  if (oq->ongoing.type == STRATA_SHT_VALUE_NULL)
    return 0;
  g_assert (oq->ongoing.type == STRATA_SHT_VALUE_INT32);
  g_assert (oq->ongoing.u.i32 > 0);
  return oq->ongoing.u.i32;
}

void
sht_oracle_push (ShtOracle      *self,
                 guint32         quark,
                 gint64          t,
                 StrataShtValue  value)
{
  gint32 depth = stack_depth (self, quark);
  char name[16];
  guint32 sub;

  g_snprintf (name, sizeof name, "%d", depth + 1);
  sub = sht_oracle_quark_get (self, quark, name);
  sht_oracle_modify (self, sub, t, value);
  sht_oracle_modify (self, quark, t, STRATA_SHT_INT32 (depth + 1));
}

StrataShtValue
sht_oracle_pop (ShtOracle *self,
                guint32    quark,
                gint64     t)
{
  gint32 depth = stack_depth (self, quark);
  StrataShtValue result;
  char name[16];
  guint32 sub;

  self->max_t = MAX (self->max_t, t);
  if (depth == 0)
    return STRATA_SHT_NULL;

  g_snprintf (name, sizeof name, "%d", depth);
  sub = sht_oracle_quark_lookup (self, quark, name);
  g_assert (sub != STRATA_SHT_QUARK_INVALID);
  result = get_quark (self, sub)->ongoing;
  sht_oracle_modify (self, sub, t, STRATA_SHT_NULL);
  sht_oracle_modify (self, quark, t, depth == 1 ? STRATA_SHT_NULL : STRATA_SHT_INT32 (depth - 1));
  return result;
}

StrataShtValue
sht_oracle_get_ongoing (ShtOracle *self,
                        guint32    quark,
                        gint64    *start)
{
  OracleQuark *oq = get_quark (self, quark);

  if (start != NULL)
    *start = oq->ongoing_start;
  return oq->ongoing;
}

void
sht_oracle_close (ShtOracle *self,
                  gint64     end_time)
{
  g_assert (!self->finished);
  self->end_time = MAX (end_time, self->max_t);
  for (guint32 q = 0; q < self->quarks->len; q++)
    {
      OracleQuark *oq = get_quark (self, q);

      store (self, q, oq->ongoing_start, self->end_time, oq->ongoing);
    }
  self->finished = TRUE;
}

guint
sht_oracle_get_n_stored (ShtOracle *self,
                         guint32    quark)
{
  return get_quark (self, quark)->stored->len;
}

const StrataShtInterval *
sht_oracle_get_stored (ShtOracle *self,
                       guint32    quark,
                       guint      i)
{
  OracleQuark *oq = get_quark (self, quark);

  g_assert (i < oq->stored->len);
  return &g_array_index (oq->stored, StrataShtInterval, i);
}

/* Queries */

gboolean
sht_oracle_query_single (ShtOracle         *self,
                         guint32            quark,
                         gint64             t,
                         StrataShtInterval *interval,
                         int               *code)
{
  OracleQuark *oq;
  guint lo, hi;

  if (quark >= self->quarks->len)
    {
      *code = STRATA_SHT_ERROR_INVALID_QUARK;
      return FALSE;
    }
  if (t < self->start_time || (self->finished && t > self->end_time))
    {
      *code = STRATA_SHT_ERROR_OUT_OF_RANGE;
      return FALSE;
    }

  oq = get_quark (self, quark);
  if (!self->finished && t >= oq->ongoing_start)
    {
      interval->start = oq->ongoing_start;
      interval->end = G_MAXINT64;
      interval->quark = quark;
      interval->flags = STRATA_SHT_INTERVAL_ONGOING;
      interval->value = oq->ongoing;
      return TRUE;
    }

  /* The last stored interval that starts at or before t */
  lo = 0;
  hi = oq->stored->len;
  g_assert (hi > 0);
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (oq->stored, StrataShtInterval, mid).start <= t)
        lo = mid;
      else
        hi = mid;
    }
  *interval = g_array_index (oq->stored, StrataShtInterval, lo);
  g_assert (interval->start <= t && t <= interval->end);
  return TRUE;
}

GArray *
sht_oracle_query_full (ShtOracle *self,
                       gint64     t,
                       int       *code)
{
  GArray *full = g_array_sized_new (FALSE, TRUE, sizeof (StrataShtInterval), self->quarks->len);

  for (guint32 q = 0; q < self->quarks->len; q++)
    {
      StrataShtInterval iv;

      if (!sht_oracle_query_single (self, q, t, &iv, code))
        {
          g_array_unref (full);
          return NULL;
        }
      g_array_append_val (full, iv);
    }
  return full;
}

GPtrArray *
sht_oracle_query_2d (ShtOracle     *self,
                     const guint32 *quarks,
                     guint          n_quarks,
                     gint64         t0,
                     gint64         t1,
                     gint64         resolution,
                     int           *code)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  gint64 first, last;

  g_assert (t0 <= t1);
  g_assert (resolution >= 1);

  for (guint r = 0; r < n_quarks; r++)
    if (quarks[r] >= self->quarks->len)
      {
        *code = STRATA_SHT_ERROR_INVALID_QUARK;
        return NULL;
      }

  first = MAX (t0, self->start_time);
  last = self->finished ? MIN (t1, self->end_time) : t1;
  if (first > last)
    {
      *code = STRATA_SHT_ERROR_OUT_OF_RANGE;
      return NULL;
    }

  for (guint r = 0; r < n_quarks; r++)
    {
      GArray *row = g_array_new (FALSE, FALSE, sizeof (StrataShtInterval));
      gint64 sample = first;

      /* Samples are first + i * resolution. Rather than visiting each,
       * take the interval at a sample, then jump to the first sample
       * after its end: 128-bit arithmetic, since the samples may run to
       * G_MAXINT64 and the steps be as large. */
      for (;;)
        {
          StrataShtInterval iv;
          __int128 next;
          gboolean ok;

          ok = sht_oracle_query_single (self, quarks[r], sample, &iv, code);
          g_assert (ok);
          g_array_append_val (row, iv);
          if (iv.end >= last)
            break;
          next = (__int128) first
            + ((__int128) ((guint64) iv.end - (guint64) first) / resolution + 1) * resolution;
          if (next > last)
            break;
          sample = (gint64) next;
        }

      for (guint i = 0; i < row->len; i++)
        {
          StrataShtInterval *iv = &g_array_index (row, StrataShtInterval, i);
          gboolean hidden;

          if (i + 1 < row->len)
            hidden = g_array_index (row, StrataShtInterval, i + 1).start > iv->end + 1;
          else
            hidden = iv->end < last;
          if (hidden)
            iv->flags |= STRATA_SHT_INTERVAL_HIDDEN_AFTER;
        }
      g_ptr_array_add (rows, row);
    }

  return g_steal_pointer (&rows);
}

/* Helpers */

gboolean
sht_value_same (const StrataShtValue *a,
                const StrataShtValue *b)
{
  if (a->type != b->type)
    return FALSE;

  switch (a->type)
    {
    case STRATA_SHT_VALUE_NULL:
      return TRUE;
    case STRATA_SHT_VALUE_INT32:
      return a->u.i32 == b->u.i32;
    case STRATA_SHT_VALUE_INT64:
      return a->u.i64 == b->u.i64;
    case STRATA_SHT_VALUE_DOUBLE:
      /* Bits, not ==: -0.0 is not 0.0 and a NaN is itself. */
      return memcmp (&a->u.d, &b->u.d, sizeof (double)) == 0;
    case STRATA_SHT_VALUE_STRING:
      return a->u.str == b->u.str;
    default:
      g_assert_not_reached ();
    }
}

char *
sht_value_to_string (const StrataShtValue *value)
{
  guint64 bits;

  switch (value->type)
    {
    case STRATA_SHT_VALUE_NULL:
      return g_strdup ("null");
    case STRATA_SHT_VALUE_INT32:
      return g_strdup_printf ("int32 %d", value->u.i32);
    case STRATA_SHT_VALUE_INT64:
      return g_strdup_printf ("int64 %" G_GINT64_FORMAT, value->u.i64);
    case STRATA_SHT_VALUE_DOUBLE:
      memcpy (&bits, &value->u.d, sizeof bits);
      return g_strdup_printf ("double %g (0x%016" G_GINT64_MODIFIER "x)", value->u.d, bits);
    case STRATA_SHT_VALUE_STRING:
      return g_strdup_printf ("string #%u", value->u.str);
    default:
      return g_strdup_printf ("(bad type %u)", value->type);
    }
}

char *
sht_interval_to_string (const StrataShtInterval *interval)
{
  g_autofree char *value = sht_value_to_string (&interval->value);

  gboolean ongoing = interval->flags & STRATA_SHT_INTERVAL_ONGOING;
  gboolean hidden = interval->flags & STRATA_SHT_INTERVAL_HIDDEN_AFTER;

  return g_strdup_printf ("quark %u [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] %s%s%s",
                          interval->quark, interval->start, interval->end, value,
                          ongoing ? " ONGOING" : "", hidden ? " HIDDEN_AFTER" : "");
}

const char *
sht_error_code_to_string (int code)
{
  static const char * const names[] = {
    "IO", "NOT_SHT", "UNFINISHED", "TRUNCATED", "CORRUPT", "FORMAT_VERSION",
    "ANALYSIS_VERSION", "OUT_OF_RANGE", "INVALID_QUARK",
  };

  if (code >= 0 && code < (int) G_N_ELEMENTS (names))
    return names[code];
  return "(unknown code)";
}
