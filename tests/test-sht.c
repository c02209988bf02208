/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-test-sht"
#include "config.h"

#include <float.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "sht-oracle.h"
#include "strata-sht.h"
#include "strata-sht-private.h"
#include "strata-test-utils.h"

/*
 * The State History Tree against a model (sht-oracle.c) that follows the
 * documented semantics with plain arrays. Small hand-made histories check
 * each rule with expected answers written out; the random histories then
 * compare every kind of query, at times chosen to hit interval bounds and
 * the edges of the history, in three states: while writing (from the
 * writing thread, where the queue and the ongoing state are involved, and
 * from reader threads at the same time), after close on the same object,
 * and after reopening the file.
 *
 * Seeds are fixed and printed; STRATA_TEST_SHT_SEED=N replays the random
 * histories with another one.
 */

#define ANALYSIS_VERSION 7
#define T0               G_GINT64_CONSTANT (1400000000000000000)

static const StrataShtOptions default_options = { 0, };

/* Failures are counted rather than fatal, so that one run names several
 * mismatches (the first few in full), not just the first. */
#define MAX_REPORTED 25

typedef struct
{
  GMutex      lock;
  const char *what;
  guint32     seed;
  char       *phase;
  guint       n_mismatches;
  guint       n_checks;     /* atomic */
} Check;

static void mismatch (Check      *check,
                      const char *format,
                      ...) G_GNUC_PRINTF (2, 3);

static void
mismatch (Check      *check,
          const char *format,
          ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_mutex_lock (&check->lock);
  if (check->n_mismatches < MAX_REPORTED)
    g_test_message ("MISMATCH %s (seed %u), %s: %s", check->what, check->seed,
                    check->phase != NULL ? check->phase : "", message);
  check->n_mismatches++;
  g_mutex_unlock (&check->lock);
}

static void
check_init (Check      *check,
            const char *what,
            guint32     seed)
{
  memset (check, 0, sizeof *check);
  g_mutex_init (&check->lock);
  check->what = what;
  check->seed = seed;
}

static void
check_set_phase (Check      *check,
                 const char *format,
                 ...) G_GNUC_PRINTF (2, 3);

static void
check_set_phase (Check      *check,
                 const char *format,
                 ...)
{
  va_list args;

  g_mutex_lock (&check->lock);
  g_free (check->phase);
  va_start (args, format);
  check->phase = g_strdup_vprintf (format, args);
  va_end (args);
  g_mutex_unlock (&check->lock);
}

static void
check_finish (Check *check)
{
  g_test_message ("%s: %u answers compared, %u mismatches",
                  check->what, check->n_checks, check->n_mismatches);
  if (check->n_mismatches > 0)
    g_test_fail_printf ("%s (seed %u): %u answers differ from the model (the first %u above)",
                        check->what, check->seed, check->n_mismatches,
                        MIN (check->n_mismatches, MAX_REPORTED));
  g_free (check->phase);
  g_mutex_clear (&check->lock);
}

/* Fixture: a folder of the test's own */

typedef struct
{
  char *tmpdir;
  char *path;
  char *part;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->tmpdir = strata_test_make_tmpdir ();
  fixture->path = g_build_filename (fixture->tmpdir, "history.sht", NULL);
  fixture->part = g_strconcat (fixture->path, ".part", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  strata_test_rmtree (fixture->tmpdir);
  g_free (fixture->part);
  g_free (fixture->path);
  g_free (fixture->tmpdir);
}

static StrataSht *
create_history (const char             *path,
                gint64                  start_time,
                const StrataShtOptions *options)
{
  g_autoptr(GError) error = NULL;
  StrataSht *sht = strata_sht_create (path, start_time, ANALYSIS_VERSION, options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (sht);
  return sht;
}

static void
close_history (StrataSht *sht,
               gint64     end_time)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (strata_sht_close (sht, end_time, &error));
  g_assert_no_error (error);
}

static StrataSht *
open_history (const char *path,
              gsize       cache_bytes)
{
  g_autoptr(GError) error = NULL;
  StrataSht *sht = strata_sht_open (path, ANALYSIS_VERSION, cache_bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (sht);
  return sht;
}

/* Comparing answers */

static gboolean
interval_same (const StrataShtInterval *a,
               const StrataShtInterval *b)
{
  return a->start == b->start && a->end == b->end && a->quark == b->quark
         && a->flags == b->flags && sht_value_same (&a->value, &b->value);
}

/* What a reader may see before the end of the interval is known: the same
 * start, value and quark as in the final history, and either the final
 * end, or G_MAXINT64 flagged as ongoing. Other flags must match. */
static gboolean
interval_same_but_ongoing (const StrataShtInterval *got,
                           const StrataShtInterval *final)
{
  guint16 other = STRATA_SHT_INTERVAL_HIDDEN_AFTER;

  if (got->start != final->start || got->quark != final->quark
      || !sht_value_same (&got->value, &final->value)
      || (got->flags & other) != (final->flags & other))
    return FALSE;
  if (got->flags & STRATA_SHT_INTERVAL_ONGOING)
    return got->end == G_MAXINT64;
  return got->end == final->end;
}

static char *
error_to_string (const GError *error)
{
  if (error == NULL)
    return g_strdup ("no error");
  if (error->domain != STRATA_SHT_ERROR)
    return g_strdup_printf ("error %s:%d \"%s\"", g_quark_to_string (error->domain),
                            error->code, error->message);
  return g_strdup_printf ("error %s \"%s\"", sht_error_code_to_string (error->code),
                          error->message);
}

/* TRUE if both failed alike or both succeeded; reports otherwise. */
static gboolean
same_outcome (Check        *check,
              const char   *query,
              gboolean      want_ok,
              int           want_code,
              gboolean      ok,
              const GError *error)
{
  g_autofree char *got = NULL;

  if (want_ok && ok && error == NULL)
    return TRUE;
  if (!want_ok && !ok && error != NULL && g_error_matches (error, STRATA_SHT_ERROR, want_code))
    return FALSE;

  got = error_to_string (error);
  if (want_ok)
    mismatch (check, "%s: expected an answer, got %s%s", query, got, ok ? " with TRUE" : "");
  else
    mismatch (check, "%s: expected error %s, got %s (returned %s)", query,
              sht_error_code_to_string (want_code), got, ok ? "TRUE" : "FALSE");
  return FALSE;
}

static void
check_single (Check     *check,
              StrataSht *sht,
              ShtOracle *oracle,
              guint32    quark,
              gint64     t)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *query = NULL;
  StrataShtInterval want, got;
  gboolean want_ok, ok;
  int code = -1;

  memset (&got, 0, sizeof got);
  want_ok = sht_oracle_query_single (oracle, quark, t, &want, &code);
  ok = strata_sht_query_single (sht, quark, t, &got, &error);
  g_atomic_int_inc (&check->n_checks);

  query = g_strdup_printf ("query_single (quark %u, t %" G_GINT64_FORMAT ")", quark, t);
  if (!same_outcome (check, query, want_ok, code, ok, error))
    return;
  if (!interval_same (&want, &got))
    {
      g_autofree char *w = sht_interval_to_string (&want);
      g_autofree char *g = sht_interval_to_string (&got);

      mismatch (check, "%s: expected %s, got %s", query, w, g);
    }
}

static void
check_full (Check     *check,
            StrataSht *sht,
            ShtOracle *oracle,
            gint64     t)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) want = NULL;
  g_autoptr(GArray) got = NULL;
  g_autofree char *query = g_strdup_printf ("query_full (t %" G_GINT64_FORMAT ")", t);
  guint n_bad = 0;
  int code = -1;

  want = sht_oracle_query_full (oracle, t, &code);
  got = strata_sht_query_full (sht, t, &error);
  g_atomic_int_inc (&check->n_checks);

  if (!same_outcome (check, query, want != NULL, code, got != NULL, error))
    return;
  if (got->len != want->len)
    {
      mismatch (check, "%s: expected %u intervals, got %u", query, want->len, got->len);
      return;
    }
  for (guint q = 0; q < want->len; q++)
    {
      const StrataShtInterval *w = &g_array_index (want, StrataShtInterval, q);
      const StrataShtInterval *g = &g_array_index (got, StrataShtInterval, q);

      if (!interval_same (w, g) && n_bad++ < 3)
        {
          g_autofree char *ws = sht_interval_to_string (w);
          g_autofree char *gs = sht_interval_to_string (g);

          mismatch (check, "%s, element %u: expected %s, got %s", query, q, ws, gs);
        }
    }
  if (n_bad > 3)
    mismatch (check, "%s: %u elements differ in all", query, n_bad);
}

static char *
quarks_to_string (const guint32 *quarks,
                  guint          n_quarks)
{
  GString *s = g_string_new ("{");

  for (guint i = 0; i < n_quarks; i++)
    g_string_append_printf (s, "%s%u", i > 0 ? "," : "", quarks[i]);
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

/* The iterator must walk the row as given by range_get_row(). */
static void
check_iter (Check                   *check,
            const char              *query,
            StrataShtRange          *range,
            guint                    row,
            const StrataShtInterval *intervals,
            guint                    n)
{
  StrataShtRangeIter iter;
  const StrataShtInterval *iv;
  guint i;

  strata_sht_range_iter_init (&iter, range, row, FALSE);
  for (i = 0; (iv = strata_sht_range_iter_next (&iter)) != NULL; i++)
    if (i >= n || iv != &intervals[i])
      {
        mismatch (check, "%s, row %u: iterating forwards, step %u gives %p, expected %p", query,
                  row, i, (const void *) iv, i < n ? (const void *) &intervals[i] : NULL);
        return;
      }
  if (i != n)
    mismatch (check, "%s, row %u: iterating forwards gives %u of %u intervals", query, row, i, n);

  strata_sht_range_iter_init (&iter, range, row, TRUE);
  for (i = 0; (iv = strata_sht_range_iter_previous (&iter)) != NULL; i++)
    if (i >= n || iv != &intervals[n - 1 - i])
      {
        mismatch (check, "%s, row %u: iterating backwards, step %u gives %p, expected %p", query,
                  row, i, (const void *) iv, i < n ? (const void *) &intervals[n - 1 - i] : NULL);
        return;
      }
  if (i != n)
    mismatch (check, "%s, row %u: iterating backwards gives %u of %u intervals", query, row, i, n);
}

/* Compares rows; with @relaxed, by interval_same_but_ongoing(). */
static void
compare_rows (Check                   *check,
              const char              *query,
              guint                    r,
              const GArray            *want,
              const StrataShtInterval *got,
              guint                    n_got,
              gboolean                 relaxed)
{
  if (n_got != want->len)
    {
      g_autoptr(GString) detail = g_string_new (NULL);

      for (guint i = 0; i < MAX (n_got, want->len) && i < 6; i++)
        {
          g_autofree char *w = i < want->len
            ? sht_interval_to_string (&g_array_index (want, StrataShtInterval, i)) : g_strdup ("-");
          g_autofree char *g = i < n_got ? sht_interval_to_string (&got[i]) : g_strdup ("-");

          g_string_append_printf (detail, "; #%u expected %s, got %s", i, w, g);
        }
      mismatch (check, "%s, row %u: expected %u intervals, got %u%s", query, r, want->len, n_got,
                detail->str);
      return;
    }

  for (guint i = 0; i < n_got; i++)
    {
      const StrataShtInterval *w = &g_array_index (want, StrataShtInterval, i);
      gboolean same = relaxed ? interval_same_but_ongoing (&got[i], w) : interval_same (w, &got[i]);

      if (!same)
        {
          g_autofree char *ws = sht_interval_to_string (w);
          g_autofree char *gs = sht_interval_to_string (&got[i]);

          mismatch (check, "%s, row %u, interval %u of %u: expected %s, got %s", query, r, i,
                    n_got, ws, gs);
          return;
        }
    }
}

static void
check_2d (Check         *check,
          StrataSht     *sht,
          ShtOracle     *oracle,
          const guint32 *quarks,
          guint          n_quarks,
          gint64         t0,
          gint64         t1,
          gint64         resolution)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) want = NULL;
  g_autoptr(StrataShtRange) range = NULL;
  g_autofree char *qs = quarks_to_string (quarks, n_quarks);
  g_autofree char *query = NULL;
  int code = -1;

  query = g_strdup_printf ("query_2d (quarks %s, t0 %" G_GINT64_FORMAT ", t1 %" G_GINT64_FORMAT
                           ", resolution %" G_GINT64_FORMAT ")", qs, t0, t1, resolution);
  want = sht_oracle_query_2d (oracle, quarks, n_quarks, t0, t1, resolution, &code);
  range = strata_sht_query_2d (sht, quarks, n_quarks, t0, t1, resolution, &error);
  g_atomic_int_inc (&check->n_checks);

  if (!same_outcome (check, query, want != NULL, code, range != NULL, error))
    return;
  if (strata_sht_range_get_n_rows (range) != n_quarks)
    {
      mismatch (check, "%s: %u rows", query, strata_sht_range_get_n_rows (range));
      return;
    }
  for (guint r = 0; r < n_quarks; r++)
    {
      guint n = G_MAXUINT;
      const StrataShtInterval *row = strata_sht_range_get_row (range, r, &n);

      compare_rows (check, query, r, g_ptr_array_index (want, r), row, n, FALSE);
      check_iter (check, query, range, r, row, n);
    }
}

/* The attribute tree, compared quark by quark */
static void
check_tree (Check     *check,
            StrataSht *sht,
            ShtOracle *oracle)
{
  guint n = sht_oracle_get_n_quarks (oracle);

  g_atomic_int_inc (&check->n_checks);
  if (strata_sht_get_n_quarks (sht) != n)
    {
      mismatch (check, "get_n_quarks: expected %u, got %u", n, strata_sht_get_n_quarks (sht));
      return;
    }

  for (guint32 q = 0; q < n; q++)
    {
      const char *name = sht_oracle_quark_get_name (oracle, q);
      guint32 parent = sht_oracle_quark_get_parent (oracle, q);
      g_autofree char *path = sht_oracle_quark_dup_path (oracle, q);
      g_autofree char *got_path = strata_sht_quark_dup_path (sht, q);
      const GArray *children = sht_oracle_quark_get_children (oracle, q);
      g_autoptr(GArray) got_children = strata_sht_quark_dup_children (sht, q);

      if (g_strcmp0 (strata_sht_quark_get_name (sht, q), name) != 0)
        mismatch (check, "quark %u: name \"%s\", expected \"%s\"", q,
                  strata_sht_quark_get_name (sht, q), name);
      if (q != STRATA_SHT_ROOT)
        {
          if (strata_sht_quark_get_parent (sht, q) != parent)
            mismatch (check, "quark %u: parent %u, expected %u", q,
                      strata_sht_quark_get_parent (sht, q), parent);
          if (g_strcmp0 (got_path, path) != 0)
            mismatch (check, "quark %u: path \"%s\", expected \"%s\"", q, got_path, path);
          if (strata_sht_quark_lookup (sht, parent, name) != q)
            mismatch (check, "quark_lookup (%u, \"%s\") = %u, expected %u", parent, name,
                      strata_sht_quark_lookup (sht, parent, name), q);
          if (strata_sht_quark_lookup_path (sht, path) != q)
            mismatch (check, "quark_lookup_path (\"%s\") = %u, expected %u", path,
                      strata_sht_quark_lookup_path (sht, path), q);
        }

      /* Children as a set: their order is not part of the contract. */
      if (got_children == NULL || got_children->len != children->len)
        {
          mismatch (check, "quark %u (\"%s\"): %u children, expected %u", q, path,
                    got_children != NULL ? got_children->len : 0, children->len);
          continue;
        }
      g_assert_cmpuint (g_array_get_element_size (got_children), ==, sizeof (guint32));
      for (guint i = 0; i < children->len; i++)
        {
          guint32 child = g_array_index (children, guint32, i);
          gboolean found = FALSE;

          for (guint j = 0; j < got_children->len && !found; j++)
            found = g_array_index (got_children, guint32, j) == child;
          if (!found)
            mismatch (check, "quark %u (\"%s\"): child %u missing from its children", q, path,
                      child);
        }
    }
}

/* Strings: every text interned, with the id it got */

typedef struct
{
  GHashTable *ids;     /* text → id + 1 */
  GHashTable *texts;   /* id → text (borrowed from ids) */
} Strings;

static void
strings_init (Strings *strings)
{
  strings->ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  strings->texts = g_hash_table_new (NULL, NULL);
}

static void
strings_clear (Strings *strings)
{
  g_hash_table_unref (strings->texts);
  g_hash_table_unref (strings->ids);
}

static guint32
strings_intern (Check      *check,
                Strings    *strings,
                StrataSht  *sht,
                const char *text)
{
  guint32 id = strata_sht_intern (sht, text);
  gpointer known = g_hash_table_lookup (strings->ids, text);
  char *owned;

  g_atomic_int_inc (&check->n_checks);
  if (known != NULL)
    {
      if (GPOINTER_TO_UINT (known) - 1 != id)
        mismatch (check, "intern (\"%.40s\") = %u, earlier %u", text, id,
                  GPOINTER_TO_UINT (known) - 1);
      return id;
    }
  if (g_hash_table_contains (strings->texts, GUINT_TO_POINTER (id)))
    {
      mismatch (check, "intern (\"%.40s\") = %u, the id of \"%.40s\"", text, id,
                (const char *) g_hash_table_lookup (strings->texts, GUINT_TO_POINTER (id)));
      return id;
    }
  owned = g_strdup (text);
  g_hash_table_insert (strings->ids, owned, GUINT_TO_POINTER (id + 1));
  g_hash_table_insert (strings->texts, GUINT_TO_POINTER (id), owned);
  return id;
}

static void
check_strings (Check     *check,
               StrataSht *sht,
               Strings   *strings)
{
  GHashTableIter iter;
  gpointer key, value;

  g_atomic_int_inc (&check->n_checks);
  if (strata_sht_get_n_strings (sht) != g_hash_table_size (strings->texts))
    mismatch (check, "get_n_strings: %u, expected %u", strata_sht_get_n_strings (sht),
              g_hash_table_size (strings->texts));

  g_hash_table_iter_init (&iter, strings->texts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint32 id = GPOINTER_TO_UINT (key);
      const char *got = strata_sht_get_string (sht, id);

      if (g_strcmp0 (got, value) != 0)
        mismatch (check, "get_string (%u): \"%.40s\" (%zu bytes), expected \"%.40s\" (%zu bytes)",
                  id, got != NULL ? got : "(null)", got != NULL ? strlen (got) : 0,
                  (const char *) value, strlen (value));
    }
}

/* Every interval of every quark: single queries at both ends and one
 * past the end, the full state at each change of a sample of quarks, and
 * each quark's whole row at resolution 1 (all its intervals). For small
 * histories. */
static void
check_exhaustive (Check     *check,
                  StrataSht *sht,
                  ShtOracle *oracle)
{
  guint n_quarks = sht_oracle_get_n_quarks (oracle);
  gint64 start = sht_oracle_get_start_time (oracle);
  gint64 end = sht_oracle_get_end_time (oracle);
  gboolean finished = sht_oracle_is_finished (oracle);
  guint n_full = 0;

  for (guint32 q = 0; q < n_quarks; q++)
    {
      guint n = sht_oracle_get_n_stored (oracle, q);
      gint64 ongoing_start;

      for (guint i = 0; i < n; i++)
        {
          const StrataShtInterval *iv = sht_oracle_get_stored (oracle, q, i);

          check_single (check, sht, oracle, q, iv->start);
          if (iv->end != iv->start)
            check_single (check, sht, oracle, q, iv->end);
          if (q % 97 == 0 && n_full++ < 200)
            check_full (check, sht, oracle, iv->start);
        }
      sht_oracle_get_ongoing (oracle, q, &ongoing_start);
      if (!finished)
        {
          check_single (check, sht, oracle, q, ongoing_start);
          check_single (check, sht, oracle, q, end + 1);
        }
      check_2d (check, sht, oracle, &q, 1, start, finished ? end : end + 10, 1);
    }
  check_single (check, sht, oracle, 0, start - 1);
  check_single (check, sht, oracle, 0, finished ? end + 1 : G_MAXINT64);
  check_single (check, sht, oracle, n_quarks, start);
  check_full (check, sht, oracle, start);
  check_full (check, sht, oracle, end);
}

static void
check_stats (Check     *check,
             StrataSht *sht,
             ShtOracle *oracle,
             gboolean   same_object)
{
  StrataShtStats stats;

  memset (&stats, 0xff, sizeof stats);
  strata_sht_get_stats (sht, &stats);
  g_atomic_int_inc (&check->n_checks);
  if (stats.n_intervals != sht_oracle_get_n_intervals (oracle))
    mismatch (check, "stats.n_intervals = %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT,
              stats.n_intervals, sht_oracle_get_n_intervals (oracle));
  /* Clamping happens while writing: a reopened file need not know. */
  if (same_object && stats.n_clamped != sht_oracle_get_n_clamped (oracle))
    mismatch (check, "stats.n_clamped = %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT,
              stats.n_clamped, sht_oracle_get_n_clamped (oracle));
  if (sht_oracle_is_finished (oracle) && (stats.n_nodes == 0 || stats.depth == 0))
    mismatch (check, "stats: %" G_GUINT64_FORMAT " nodes, depth %u", stats.n_nodes, stats.depth);
}

/* Hand-made histories, with the expected answers written out */

static void
assert_interval (StrataSht      *sht,
                 guint32         quark,
                 gint64          t,
                 gint64          start,
                 gint64          end,
                 StrataShtValue  value)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *want = NULL;
  g_autofree char *got = NULL;
  StrataShtInterval expected = { 0, };
  StrataShtInterval iv;

  expected.start = start;
  expected.end = end;
  expected.quark = quark;
  expected.flags = end == G_MAXINT64 ? STRATA_SHT_INTERVAL_ONGOING : 0;
  expected.value = value;

  memset (&iv, 0, sizeof iv);
  if (!strata_sht_query_single (sht, quark, t, &iv, &error))
    g_error ("query_single (quark %u, t %" G_GINT64_FORMAT "): %s", quark, t, error->message);
  g_assert_no_error (error);

  want = sht_interval_to_string (&expected);
  got = sht_interval_to_string (&iv);
  if (!interval_same (&expected, &iv))
    g_error ("query_single (quark %u, t %" G_GINT64_FORMAT "): expected %s, got %s", quark, t,
             want, got);
}

static void
assert_query_error (StrataSht *sht,
                    guint32    quark,
                    gint64     t,
                    int        code)
{
  g_autoptr(GError) error = NULL;
  StrataShtInterval iv;

  g_assert_false (strata_sht_query_single (sht, quark, t, &iv, &error));
  g_assert_error (error, STRATA_SHT_ERROR, code);
}

static void
check_tree_names (StrataSht *sht)
{
  guint32 a = strata_sht_quark_lookup_path (sht, "a");
  guint32 b = strata_sht_quark_lookup (sht, a, "b");
  guint32 c = strata_sht_quark_lookup_path (sht, "a/b/c");
  guint32 utf8 = strata_sht_quark_lookup_path (sht, "Machines/gü€st ✓/vCPUs/0");
  g_autoptr(GArray) children = NULL;
  g_autofree char *path = NULL;
  g_autofree char *long_name = g_strnfill (300, 'n');
  guint32 l;

  /* Numbered in creation order, parents before their children */
  g_assert_cmpuint (a, ==, 1);
  g_assert_cmpuint (b, ==, 2);
  g_assert_cmpuint (c, ==, 3);
  g_assert_cmpuint (strata_sht_quark_lookup_path (sht, "a/b/d"), ==, 4);
  g_assert_cmpuint (strata_sht_quark_lookup_path (sht, "x"), ==, 5);
  g_assert_cmpuint (strata_sht_quark_lookup_path (sht, "x/b"), ==, 6);
  g_assert_cmpuint (strata_sht_quark_lookup_path (sht, "Machines"), ==, 7);
  g_assert_cmpuint (utf8, ==, 10);
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, 14);

  g_assert_cmpstr (strata_sht_quark_get_name (sht, STRATA_SHT_ROOT), ==, "");
  g_assert_cmpstr (strata_sht_quark_get_name (sht, c), ==, "c");
  g_assert_cmpstr (strata_sht_quark_get_name (sht, utf8), ==, "0");
  g_assert_cmpstr (strata_sht_quark_get_name (sht, 8), ==, "gü€st ✓");
  g_assert_cmpuint (strata_sht_quark_get_parent (sht, c), ==, b);
  g_assert_cmpuint (strata_sht_quark_get_parent (sht, b), ==, a);
  g_assert_cmpuint (strata_sht_quark_get_parent (sht, a), ==, STRATA_SHT_ROOT);
  path = strata_sht_quark_dup_path (sht, c);
  g_assert_cmpstr (path, ==, "a/b/c");
  g_clear_pointer (&path, g_free);
  path = strata_sht_quark_dup_path (sht, utf8);
  g_assert_cmpstr (path, ==, "Machines/gü€st ✓/vCPUs/0");

  /* The same name under two parents is two attributes */
  g_assert_cmpuint (strata_sht_quark_lookup (sht, 5, "b"), ==, 6);
  g_assert_cmpuint (strata_sht_quark_lookup (sht, 6, "c"), ==, STRATA_SHT_QUARK_INVALID);

  /* Names that look like numbers or paths' pieces are plain names */
  g_assert_cmpuint (strata_sht_quark_lookup (sht, 7, "1"), ==, 11);
  l = strata_sht_quark_lookup (sht, 11, long_name);
  g_assert_cmpuint (l, ==, 12);
  g_assert_cmpstr (strata_sht_quark_get_name (sht, l), ==, long_name);

  /* Missing: nothing is created by a lookup */
  g_assert_cmpuint (strata_sht_quark_lookup (sht, STRATA_SHT_ROOT, "nope"), ==,
                    STRATA_SHT_QUARK_INVALID);
  g_assert_cmpuint (strata_sht_quark_lookup (sht, a, "c"), ==, STRATA_SHT_QUARK_INVALID);
  g_assert_cmpuint (strata_sht_quark_lookup_path (sht, "a/b/nope"), ==, STRATA_SHT_QUARK_INVALID);
  g_assert_cmpuint (strata_sht_quark_lookup_path (sht, "nope/b"), ==, STRATA_SHT_QUARK_INVALID);
  g_assert_cmpuint (strata_sht_quark_lookup_path (sht, "a/b/c/d"), ==, STRATA_SHT_QUARK_INVALID);
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, 14);

  /* Children */
  children = strata_sht_quark_dup_children (sht, b);
  g_assert_cmpuint (children->len, ==, 2);
  {
    guint32 c0 = g_array_index (children, guint32, 0);
    guint32 c1 = g_array_index (children, guint32, 1);

    g_assert_cmpuint (MIN (c0, c1), ==, 3);
    g_assert_cmpuint (MAX (c0, c1), ==, 4);
  }
  g_clear_pointer (&children, g_array_unref);
  children = strata_sht_quark_dup_children (sht, STRATA_SHT_ROOT);
  g_assert_cmpuint (children->len, ==, 4);
  g_clear_pointer (&children, g_array_unref);
  children = strata_sht_quark_dup_children (sht, c);
  g_assert_cmpuint (children->len, ==, 0);
}

static void
test_quarks (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(StrataSht) sht = create_history (fixture->path, 1000, &default_options);
  g_autoptr(ShtOracle) oracle = sht_oracle_new (1000);
  g_autofree char *long_name = g_strnfill (300, 'n');
  Check check;
  guint32 q;

  check_init (&check, "quarks", 0);
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, 1);

  g_assert_cmpuint (strata_sht_quark_get_path (sht, "a/b/c"), ==, 3);
  g_assert_cmpuint (strata_sht_quark_get (sht, STRATA_SHT_ROOT, "a"), ==, 1);
  g_assert_cmpuint (strata_sht_quark_get_path (sht, "a/b/c"), ==, 3);
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, 4);
  g_assert_cmpuint (strata_sht_quark_get (sht, 2, "d"), ==, 4);
  g_assert_cmpuint (strata_sht_quark_get_path (sht, "x"), ==, 5);
  g_assert_cmpuint (strata_sht_quark_get (sht, 5, "b"), ==, 6);
  q = strata_sht_quark_get_path (sht, "Machines/gü€st ✓/vCPUs/0");
  g_assert_cmpuint (q, ==, 10);
  g_assert_cmpuint (strata_sht_quark_get (sht, 7, "1"), ==, 11);
  g_assert_cmpuint (strata_sht_quark_get (sht, 11, long_name), ==, 12);

  sht_oracle_quark_get_path (oracle, "a/b/c");
  sht_oracle_quark_get_path (oracle, "a/b/d");
  sht_oracle_quark_get_path (oracle, "x/b");
  sht_oracle_quark_get_path (oracle, "Machines/gü€st ✓/vCPUs/0");
  sht_oracle_quark_get (oracle, 7, "1");
  sht_oracle_quark_get (oracle, 11, long_name);

  /* A quark created late still has a value (null) from the start */
  strata_sht_modify (sht, 3, 5000, STRATA_SHT_INT32 (1));
  sht_oracle_modify (oracle, 3, 5000, STRATA_SHT_INT32 (1));
  g_assert_cmpuint (strata_sht_quark_get_path (sht, "late"), ==, 13);
  sht_oracle_quark_get_path (oracle, "late");
  strata_sht_modify (sht, 13, 6000, STRATA_SHT_INT32 (2));
  sht_oracle_modify (oracle, 13, 6000, STRATA_SHT_INT32 (2));
  assert_interval (sht, 13, 1000, 1000, 5999, STRATA_SHT_NULL);

  check_tree (&check, sht, oracle);
  g_assert_cmpuint (strata_sht_quark_lookup_path (sht, "late"), ==, 13);
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, 14);
  check_exhaustive (&check, sht, oracle);

  close_history (sht, 7000);
  sht_oracle_close (oracle, 7000);
  check_tree (&check, sht, oracle);
  check_exhaustive (&check, sht, oracle);
  g_clear_pointer (&sht, strata_sht_free);

  sht = open_history (fixture->path, 0);
  check_tree (&check, sht, oracle);
  check_exhaustive (&check, sht, oracle);
  assert_interval (sht, 13, 1000, 1000, 5999, STRATA_SHT_NULL);
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, 14);
  g_assert_cmpuint (strata_sht_quark_lookup_path (sht, "late"), ==, 13);
  check_finish (&check);
}

static void
test_quark_names (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *long_name = g_strnfill (300, 'n');
  g_autoptr(StrataSht) sht = create_history (fixture->path, 0, NULL);

  strata_sht_quark_get_path (sht, "a/b/c");
  strata_sht_quark_get_path (sht, "a/b/d");
  strata_sht_quark_get_path (sht, "x/b");
  strata_sht_quark_get_path (sht, "Machines/gü€st ✓/vCPUs/0");
  strata_sht_quark_get (sht, 7, "1");
  strata_sht_quark_get (sht, 11, long_name);
  strata_sht_quark_get (sht, STRATA_SHT_ROOT, "with space");
  check_tree_names (sht);
  close_history (sht, 10);
  check_tree_names (sht);
  g_clear_pointer (&sht, strata_sht_free);

  sht = open_history (fixture->path, 0);
  check_tree_names (sht);
  g_assert_cmpuint (strata_sht_quark_lookup (sht, STRATA_SHT_ROOT, "with space"), ==, 13);
}

/* A long UTF-8 text, longer than 64 KiB and than any block */
static char *
make_long_text (void)
{
  GString *text = g_string_new (NULL);

  while (text->len < 70000)
    g_string_append (text, "état ✓ 日本語 ");
  return g_string_free (text, FALSE);
}

static void
test_strings (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(StrataSht) sht = create_history (fixture->path, 0, NULL);
  g_autofree char *long_text = make_long_text ();
  guint32 swapper, bash, empty, utf8, long_id, other, q1, q2;
  StrataShtValue v;
  gint64 start;

  swapper = strata_sht_intern (sht, "swapper/0");
  bash = strata_sht_intern (sht, "bash");
  empty = strata_sht_intern (sht, "");
  utf8 = strata_sht_intern (sht, "日本語 ✓ ü");
  long_id = strata_sht_intern (sht, long_text);
  g_assert_cmpuint (strata_sht_intern (sht, "swapper/0"), ==, swapper);
  g_assert_cmpuint (strata_sht_intern (sht, ""), ==, empty);
  g_assert_cmpuint (strata_sht_intern (sht, long_text), ==, long_id);
  g_assert_cmpuint (swapper, !=, bash);
  g_assert_cmpuint (empty, !=, bash);
  g_assert_cmpuint (empty, !=, utf8);
  g_assert_cmpuint (long_id, !=, utf8);
  g_assert_cmpuint (strata_sht_get_n_strings (sht), ==, 5);
  g_assert_cmpstr (strata_sht_get_string (sht, bash), ==, "bash");
  g_assert_cmpstr (strata_sht_get_string (sht, empty), ==, "");
  g_assert_cmpstr (strata_sht_get_string (sht, long_id), ==, long_text);

  /* modify_string() interns */
  q1 = strata_sht_quark_get_path (sht, "Threads/1/Exec_name");
  q2 = strata_sht_quark_get_path (sht, "Threads/2/Exec_name");
  strata_sht_modify_string (sht, q1, 10, "bash");
  g_assert_cmpuint (strata_sht_get_n_strings (sht), ==, 5);
  v = strata_sht_get_ongoing (sht, q1, &start);
  g_assert_cmpint (v.type, ==, STRATA_SHT_VALUE_STRING);
  g_assert_cmpuint (v.u.str, ==, bash);
  g_assert_cmpint (start, ==, 10);
  strata_sht_modify_string (sht, q2, 20, "new text");
  g_assert_cmpuint (strata_sht_get_n_strings (sht), ==, 6);
  other = strata_sht_intern (sht, "new text");
  g_assert_cmpuint (strata_sht_get_n_strings (sht), ==, 6);
  v = strata_sht_get_ongoing (sht, q2, NULL);
  g_assert_cmpint (v.type, ==, STRATA_SHT_VALUE_STRING);
  g_assert_cmpuint (v.u.str, ==, other);
  /* The same text again is no change */
  strata_sht_modify (sht, q1, 30, STRATA_SHT_STRING_ID (bash));
  strata_sht_modify_string (sht, q1, 40, long_text);
  strata_sht_modify_string (sht, q2, 50, "");
  assert_interval (sht, q1, 35, 10, 39, STRATA_SHT_STRING_ID (bash));
  assert_interval (sht, q1, 45, 40, G_MAXINT64, STRATA_SHT_STRING_ID (long_id));
  assert_interval (sht, q2, 50, 50, G_MAXINT64, STRATA_SHT_STRING_ID (empty));
  close_history (sht, 100);
  assert_interval (sht, q1, 100, 40, 100, STRATA_SHT_STRING_ID (long_id));
  g_clear_pointer (&sht, strata_sht_free);

  sht = open_history (fixture->path, 0);
  g_assert_cmpuint (strata_sht_get_n_strings (sht), ==, 6);
  g_assert_cmpstr (strata_sht_get_string (sht, swapper), ==, "swapper/0");
  g_assert_cmpstr (strata_sht_get_string (sht, bash), ==, "bash");
  g_assert_cmpstr (strata_sht_get_string (sht, empty), ==, "");
  g_assert_cmpstr (strata_sht_get_string (sht, utf8), ==, "日本語 ✓ ü");
  g_assert_cmpstr (strata_sht_get_string (sht, long_id), ==, long_text);
  g_assert_cmpstr (strata_sht_get_string (sht, other), ==, "new text");
  assert_interval (sht, q1, 35, 10, 39, STRATA_SHT_STRING_ID (bash));
  assert_interval (sht, q1, 40, 40, 100, STRATA_SHT_STRING_ID (long_id));
  assert_interval (sht, q2, 60, 50, 100, STRATA_SHT_STRING_ID (empty));
  assert_interval (sht, q2, 49, 20, 49, STRATA_SHT_STRING_ID (other));
}

static double
double_from_bits (guint64 bits)
{
  double d;

  memcpy (&d, &bits, sizeof d);
  return d;
}

/* A value whose union bytes beyond its type's member are garbage, as
 * when a caller fills a StrataShtValue field by field. */
static StrataShtValue
dirty_value (StrataShtValue clean)
{
  StrataShtValue v;

  memset (&v, 0xa5, sizeof v);
  v.type = clean.type;
  switch (clean.type)
    {
    case STRATA_SHT_VALUE_INT32:
      v.u.i32 = clean.u.i32;
      break;
    case STRATA_SHT_VALUE_STRING:
      v.u.str = clean.u.str;
      break;
    case STRATA_SHT_VALUE_NULL:
      break;
    default:
      v.u = clean.u;
      break;
    }
  return v;
}

static void
test_value_equal (void)
{
  StrataShtValue nan1 = STRATA_SHT_DOUBLE (double_from_bits (0x7ff8000000000001));
  StrataShtValue nan2 = STRATA_SHT_DOUBLE (double_from_bits (0x7ff8000000000002));
  StrataShtValue a, b;

  a = STRATA_SHT_NULL;
  b = STRATA_SHT_NULL;
  g_assert_true (strata_sht_value_equal (&a, &b));
  a = STRATA_SHT_INT32 (5);
  b = STRATA_SHT_INT64 (5);
  g_assert_false (strata_sht_value_equal (&a, &b));
  b = STRATA_SHT_INT32 (5);
  g_assert_true (strata_sht_value_equal (&a, &b));
  b = STRATA_SHT_INT32 (-5);
  g_assert_false (strata_sht_value_equal (&a, &b));
  a = STRATA_SHT_INT32 (0);
  b = STRATA_SHT_NULL;
  g_assert_false (strata_sht_value_equal (&a, &b));
  a = STRATA_SHT_DOUBLE (0.0);
  b = STRATA_SHT_DOUBLE (-0.0);
  g_assert_false (strata_sht_value_equal (&a, &b));
  g_assert_true (strata_sht_value_equal (&nan1, &nan1));
  g_assert_false (strata_sht_value_equal (&nan1, &nan2));
  a = STRATA_SHT_STRING_ID (3);
  b = STRATA_SHT_INT32 (3);
  g_assert_false (strata_sht_value_equal (&a, &b));
  b = STRATA_SHT_STRING_ID (3);
  g_assert_true (strata_sht_value_equal (&a, &b));

  /* Only the type's own member counts */
  a = STRATA_SHT_INT32 (-7);
  b = dirty_value (a);
  g_assert_true (strata_sht_value_equal (&a, &b));
  a = STRATA_SHT_NULL;
  b = dirty_value (a);
  g_assert_true (strata_sht_value_equal (&a, &b));
  a = STRATA_SHT_STRING_ID (9);
  b = dirty_value (a);
  g_assert_true (strata_sht_value_equal (&a, &b));
}

static void
test_values (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(StrataSht) sht = create_history (fixture->path, -100, NULL);
  g_autoptr(ShtOracle) oracle = sht_oracle_new (-100);
  g_autofree char *long_text = make_long_text ();
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (StrataShtValue));
  static const guint64 nans[] = {
    G_GUINT64_CONSTANT (0x7ff8000000000000), G_GUINT64_CONSTANT (0x7ff8000000000001),
    G_GUINT64_CONSTANT (0xfff8000000000000), G_GUINT64_CONSTANT (0x7ff0000000000001),
    G_GUINT64_CONSTANT (0x7fffffffffffffff),
  };
  const StrataShtValue fixed[] = {
    STRATA_SHT_INT32 (0), STRATA_SHT_INT32 (-1), STRATA_SHT_INT32 (G_MININT32),
    STRATA_SHT_INT32 (G_MAXINT32), STRATA_SHT_NULL, STRATA_SHT_INT64 (0), STRATA_SHT_INT32 (0),
    STRATA_SHT_INT64 (-1), STRATA_SHT_INT64 (G_MININT64), STRATA_SHT_INT64 (G_MAXINT64),
    STRATA_SHT_INT64 (G_GINT64_CONSTANT (0x100000005)), STRATA_SHT_INT32 (5),
    STRATA_SHT_DOUBLE (0.0), STRATA_SHT_DOUBLE (-0.0), STRATA_SHT_DOUBLE (INFINITY),
    STRATA_SHT_DOUBLE (-INFINITY), STRATA_SHT_DOUBLE (DBL_MIN), STRATA_SHT_DOUBLE (5e-324),
    STRATA_SHT_DOUBLE (DBL_MAX), STRATA_SHT_DOUBLE (-1.5), STRATA_SHT_DOUBLE (1e300),
  };
  guint32 q, eq;
  Check check;
  gint64 t;

  check_init (&check, "values", 0);
  g_array_append_vals (values, fixed, G_N_ELEMENTS (fixed));
  for (guint i = 0; i < G_N_ELEMENTS (nans); i++)
    {
      StrataShtValue v = STRATA_SHT_DOUBLE (double_from_bits (nans[i]));

      g_array_append_val (values, v);
    }
  {
    StrataShtValue s[] = {
      STRATA_SHT_STRING_ID (strata_sht_intern (sht, "")),
      STRATA_SHT_STRING_ID (strata_sht_intern (sht, long_text)),
      STRATA_SHT_STRING_ID (strata_sht_intern (sht, "日本語 ✓ ü")),
      STRATA_SHT_INT32 (7),
    };

    g_array_append_vals (values, s, G_N_ELEMENTS (s));
  }

  /* One change every 10 ns: each value holds for exactly 10 ns */
  q = strata_sht_quark_get_path (sht, "values");
  sht_oracle_quark_get_path (oracle, "values");
  for (guint i = 0; i < values->len; i++)
    {
      StrataShtValue v = g_array_index (values, StrataShtValue, i);

      strata_sht_modify (sht, q, 10 * i, v);
      sht_oracle_modify (oracle, q, 10 * i, v);
    }
  for (guint i = 0; i + 1 < values->len; i++)
    assert_interval (sht, q, 10 * i + 5, 10 * i, 10 * i + 9,
                     g_array_index (values, StrataShtValue, i));

  /* Equal values (bits of the type's member) make no change; anything
   * else does, even between values that compare equal as numbers. */
  eq = strata_sht_quark_get_path (sht, "equal");
  sht_oracle_quark_get_path (oracle, "equal");
  t = 1000;
  {
    const StrataShtValue changes[] = {
      STRATA_SHT_DOUBLE (double_from_bits (nans[1])),
      STRATA_SHT_DOUBLE (double_from_bits (nans[1])),
      STRATA_SHT_DOUBLE (double_from_bits (nans[0])), STRATA_SHT_DOUBLE (0.0),
      STRATA_SHT_DOUBLE (-0.0), STRATA_SHT_INT32 (5), STRATA_SHT_INT64 (5), STRATA_SHT_INT64 (5),
      dirty_value (STRATA_SHT_INT32 (5)), STRATA_SHT_INT32 (5), STRATA_SHT_NULL,
      dirty_value (STRATA_SHT_NULL), STRATA_SHT_STRING_ID (strata_sht_intern (sht, "x")),
      dirty_value (STRATA_SHT_STRING_ID (strata_sht_intern (sht, "x"))),
    };
    const gint64 starts[] = { 1000, 1000, 1020, 1030, 1040, 1050, 1060, 1060, 1080, 1080, 1100,
                              1100, 1120, 1120 };

    for (guint i = 0; i < G_N_ELEMENTS (changes); i++, t += 10)
      {
        gint64 start;

        strata_sht_modify (sht, eq, t, changes[i]);
        sht_oracle_modify (oracle, eq, t, changes[i]);
        strata_sht_get_ongoing (sht, eq, &start);
        if (start != starts[i])
          g_error ("change %u at %" G_GINT64_FORMAT ": the state starts at %" G_GINT64_FORMAT
                   ", expected %" G_GINT64_FORMAT, i, t, start, starts[i]);
      }
  }
  strata_sht_modify_string (sht, eq, t, "x");
  sht_oracle_modify (oracle, eq, t, STRATA_SHT_STRING_ID (strata_sht_intern (sht, "x")));
  assert_interval (sht, eq, t, 1120, G_MAXINT64,
                   STRATA_SHT_STRING_ID (strata_sht_intern (sht, "x")));

  check_exhaustive (&check, sht, oracle);
  close_history (sht, 5000);
  sht_oracle_close (oracle, 5000);
  check_exhaustive (&check, sht, oracle);
  check_stats (&check, sht, oracle, TRUE);
  g_clear_pointer (&sht, strata_sht_free);

  sht = open_history (fixture->path, 0);
  check_exhaustive (&check, sht, oracle);
  check_stats (&check, sht, oracle, FALSE);
  for (guint i = 0; i + 1 < values->len; i++)
    assert_interval (sht, q, 10 * i, 10 * i, 10 * i + 9, g_array_index (values, StrataShtValue, i));
  check_finish (&check);
}

static void
assert_value (StrataShtValue got,
              StrataShtValue want)
{
  g_autofree char *g = sht_value_to_string (&got);
  g_autofree char *w = sht_value_to_string (&want);

  if (!sht_value_same (&got, &want))
    g_error ("value %s, expected %s", g, w);
}

static void
test_stack (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(StrataSht) sht = create_history (fixture->path, 0, NULL);
  g_autoptr(ShtOracle) oracle = sht_oracle_new (0);
  StrataShtValue read_id;
  guint32 q, sub1, sub2, sub3;
  guint n_quarks;
  Check check;

  check_init (&check, "stack", 0);
  read_id = STRATA_SHT_STRING_ID (strata_sht_intern (sht, "read"));
  q = strata_sht_quark_get_path (sht, "Threads/1/Syscalls");
  sht_oracle_quark_get_path (oracle, "Threads/1/Syscalls");
  n_quarks = strata_sht_get_n_quarks (sht);

  /* Popping an empty stack changes nothing */
  assert_value (strata_sht_pop (sht, q, 5), STRATA_SHT_NULL);
  assert_value (sht_oracle_pop (oracle, q, 5), STRATA_SHT_NULL);
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, n_quarks);
  assert_interval (sht, q, 5, 0, G_MAXINT64, STRATA_SHT_NULL);

  strata_sht_push (sht, q, 10, read_id);
  sht_oracle_push (oracle, q, 10, read_id);
  sub1 = strata_sht_quark_lookup (sht, q, "1");
  g_assert_cmpuint (sub1, ==, n_quarks);
  assert_value (strata_sht_get_ongoing (sht, q, NULL), STRATA_SHT_INT32 (1));
  assert_value (strata_sht_get_ongoing (sht, sub1, NULL), read_id);

  strata_sht_push (sht, q, 20, STRATA_SHT_INT32 (7));
  sht_oracle_push (oracle, q, 20, STRATA_SHT_INT32 (7));
  /* Two pushes at the same time: the depth 2 never lasts a nanosecond */
  strata_sht_push (sht, q, 20, STRATA_SHT_INT64 (8));
  sht_oracle_push (oracle, q, 20, STRATA_SHT_INT64 (8));
  sub2 = strata_sht_quark_lookup (sht, q, "2");
  sub3 = strata_sht_quark_lookup (sht, q, "3");
  g_assert_cmpuint (sub2, ==, n_quarks + 1);
  g_assert_cmpuint (sub3, ==, n_quarks + 2);
  assert_interval (sht, q, 20, 20, G_MAXINT64, STRATA_SHT_INT32 (3));

  assert_value (strata_sht_pop (sht, q, 30), STRATA_SHT_INT64 (8));
  assert_value (sht_oracle_pop (oracle, q, 30), STRATA_SHT_INT64 (8));
  assert_value (strata_sht_pop (sht, q, 40), STRATA_SHT_INT32 (7));
  assert_value (sht_oracle_pop (oracle, q, 40), STRATA_SHT_INT32 (7));
  /* The quark of depth 2 is reused */
  strata_sht_push (sht, q, 50, STRATA_SHT_DOUBLE (1.5));
  sht_oracle_push (oracle, q, 50, STRATA_SHT_DOUBLE (1.5));
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, n_quarks + 3);
  assert_value (strata_sht_pop (sht, q, 60), STRATA_SHT_DOUBLE (1.5));
  assert_value (sht_oracle_pop (oracle, q, 60), STRATA_SHT_DOUBLE (1.5));
  assert_value (strata_sht_pop (sht, q, 70), read_id);
  assert_value (sht_oracle_pop (oracle, q, 70), read_id);
  /* Empty again: null, not 0 */
  assert_value (strata_sht_get_ongoing (sht, q, NULL), STRATA_SHT_NULL);
  assert_value (strata_sht_pop (sht, q, 80), STRATA_SHT_NULL);
  assert_value (sht_oracle_pop (oracle, q, 80), STRATA_SHT_NULL);

  assert_interval (sht, q, 0, 0, 9, STRATA_SHT_NULL);
  assert_interval (sht, q, 19, 10, 19, STRATA_SHT_INT32 (1));
  assert_interval (sht, q, 29, 20, 29, STRATA_SHT_INT32 (3));
  assert_interval (sht, q, 30, 30, 39, STRATA_SHT_INT32 (2));
  assert_interval (sht, q, 45, 40, 49, STRATA_SHT_INT32 (1));
  assert_interval (sht, q, 55, 50, 59, STRATA_SHT_INT32 (2));
  assert_interval (sht, q, 65, 60, 69, STRATA_SHT_INT32 (1));
  assert_interval (sht, q, 75, 70, G_MAXINT64, STRATA_SHT_NULL);
  assert_interval (sht, sub1, 15, 10, 69, read_id);
  assert_interval (sht, sub2, 35, 20, 39, STRATA_SHT_INT32 (7));
  assert_interval (sht, sub2, 55, 50, 59, STRATA_SHT_DOUBLE (1.5));
  assert_interval (sht, sub3, 20, 20, 29, STRATA_SHT_INT64 (8));
  check_exhaustive (&check, sht, oracle);

  /* The end is the last time given to any change, the empty pop's
   * included, when the close time is earlier. */
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, 80);
  close_history (sht, 75);
  sht_oracle_close (oracle, 75);
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, 80);
  assert_interval (sht, q, 80, 70, 80, STRATA_SHT_NULL);
  check_exhaustive (&check, sht, oracle);
  g_clear_pointer (&sht, strata_sht_free);

  sht = open_history (fixture->path, 0);
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, 80);
  check_exhaustive (&check, sht, oracle);
  check_tree (&check, sht, oracle);
  check_finish (&check);
}

static void
test_clamp (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(StrataSht) sht = create_history (fixture->path, 1000, NULL);
  StrataShtStats stats;
  guint32 q, r;
  gint64 start;

  q = strata_sht_quark_get_path (sht, "q");
  r = strata_sht_quark_get_path (sht, "r");

  /* Before the start: moved to the start, where it replaces the null */
  strata_sht_modify (sht, q, 500, STRATA_SHT_INT32 (1));
  assert_value (strata_sht_get_ongoing (sht, q, &start), STRATA_SHT_INT32 (1));
  g_assert_cmpint (start, ==, 1000);
  strata_sht_modify (sht, q, 2000, STRATA_SHT_INT32 (2));
  /* Before the current state: moved to its start, replacing its value */
  strata_sht_modify (sht, q, 1500, STRATA_SHT_INT32 (3));
  assert_value (strata_sht_get_ongoing (sht, q, &start), STRATA_SHT_INT32 (3));
  g_assert_cmpint (start, ==, 2000);
  /* Clamped onto the same value: counted, nothing else */
  strata_sht_modify (sht, q, 1999, STRATA_SHT_INT32 (3));
  strata_sht_modify (sht, q, 2500, STRATA_SHT_INT32 (4));
  /* At the start exactly: not clamped */
  strata_sht_modify (sht, r, 1000, STRATA_SHT_INT64 (9));

  strata_sht_get_stats (sht, &stats);
  g_assert_cmpuint (stats.n_clamped, ==, 3);
  g_assert_cmpuint (stats.n_intervals, ==, 2);
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, 2500);
  assert_interval (sht, q, 1000, 1000, 1999, STRATA_SHT_INT32 (1));
  assert_interval (sht, q, 2499, 2000, 2499, STRATA_SHT_INT32 (3));
  assert_interval (sht, q, 2500, 2500, G_MAXINT64, STRATA_SHT_INT32 (4));
  assert_interval (sht, r, 1000, 1000, G_MAXINT64, STRATA_SHT_INT64 (9));

  close_history (sht, 2400);
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, 2500);
  strata_sht_get_stats (sht, &stats);
  g_assert_cmpuint (stats.n_clamped, ==, 3);
  /* q's three, r's and the root's */
  g_assert_cmpuint (stats.n_intervals, ==, 5);
  assert_interval (sht, q, 2500, 2500, 2500, STRATA_SHT_INT32 (4));
  assert_interval (sht, STRATA_SHT_ROOT, 1700, 1000, 2500, STRATA_SHT_NULL);
  g_clear_pointer (&sht, strata_sht_free);

  sht = open_history (fixture->path, 0);
  strata_sht_get_stats (sht, &stats);
  g_assert_cmpuint (stats.n_intervals, ==, 5);
  assert_interval (sht, q, 1000, 1000, 1999, STRATA_SHT_INT32 (1));
  assert_interval (sht, q, 2000, 2000, 2499, STRATA_SHT_INT32 (3));
  assert_interval (sht, r, 2500, 1000, 2500, STRATA_SHT_INT64 (9));
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Names in @dir, sorted, joined by spaces */
static char *
list_dir (const char *dir)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
test_files (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataSht) sht = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *other = g_build_filename (fixture->tmpdir, "other.sht", NULL);
  g_autofree char *stale = g_build_filename (fixture->tmpdir, "stale.sht", NULL);
  g_autofree char *stale_part = g_strconcat (stale, ".part", NULL);
  g_autofree char *missing = g_build_filename (fixture->tmpdir, "no", "such", "dir", "h.sht", NULL);
  StrataShtOptions small = { .block_size = 1024, .max_children = 3 };
  guint32 q;

  /* Written aside until closed */
  sht = create_history (fixture->path, T0, &small);
  g_assert_true (g_file_test (fixture->part, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));
  g_assert_cmpstr (strata_sht_get_path (sht), ==, fixture->path);
  g_assert_false (strata_sht_is_finished (sht));
  g_assert_cmpint (strata_sht_get_start_time (sht), ==, T0);
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, T0);
  g_assert_cmpuint (strata_sht_get_analysis_version (sht), ==, ANALYSIS_VERSION);
  q = strata_sht_quark_get_path (sht, "q");
  for (gint64 i = 0; i < 20000; i++)
    strata_sht_modify (sht, q, T0 + 10 * i, STRATA_SHT_INT64 (i));
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, T0 + 199990);
  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));
  close_history (sht, T0 + 300000);
  g_assert_true (strata_sht_is_finished (sht));
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, T0 + 300000);
  g_assert_true (g_file_test (fixture->path, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (fixture->part, G_FILE_TEST_EXISTS));
  assert_interval (sht, q, T0 + 55, T0 + 50, T0 + 59, STRATA_SHT_INT64 (5));
  g_clear_pointer (&sht, strata_sht_free);
  listing = list_dir (fixture->tmpdir);
  g_assert_cmpstr (listing, ==, "history.sht");

  sht = open_history (fixture->path, 0);
  g_assert_cmpstr (strata_sht_get_path (sht), ==, fixture->path);
  g_assert_true (strata_sht_is_finished (sht));
  g_assert_cmpint (strata_sht_get_start_time (sht), ==, T0);
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, T0 + 300000);
  g_assert_cmpuint (strata_sht_get_analysis_version (sht), ==, ANALYSIS_VERSION);
  assert_interval (sht, q, T0 + 199990, T0 + 199990, T0 + 300000, STRATA_SHT_INT64 (19999));
  g_clear_pointer (&sht, strata_sht_free);

  /* Freed without closing: nothing left, even after nodes were written */
  sht = create_history (other, 0, &small);
  q = strata_sht_quark_get_path (sht, "q");
  for (gint64 i = 0; i < 100000; i++)
    strata_sht_modify (sht, q, i, STRATA_SHT_INT64 (i));
  g_clear_pointer (&sht, strata_sht_free);
  g_clear_pointer (&listing, g_free);
  listing = list_dir (fixture->tmpdir);
  g_assert_cmpstr (listing, ==, "history.sht");

  /* Nor right after creating it */
  sht = create_history (other, 0, NULL);
  g_clear_pointer (&sht, strata_sht_free);
  g_clear_pointer (&listing, g_free);
  listing = list_dir (fixture->tmpdir);
  g_assert_cmpstr (listing, ==, "history.sht");

  /* A .part left by a writer that died is replaced */
  g_file_set_contents (stale_part, "left over", -1, &error);
  g_assert_no_error (error);
  sht = create_history (stale, 0, NULL);
  strata_sht_modify (sht, strata_sht_quark_get_path (sht, "s"), 5, STRATA_SHT_INT32 (1));
  close_history (sht, 10);
  g_clear_pointer (&sht, strata_sht_free);
  sht = open_history (stale, 0);
  assert_interval (sht, 1, 7, 5, 10, STRATA_SHT_INT32 (1));
  g_clear_pointer (&sht, strata_sht_free);

  /* A finished file is replaced by a new history at the same path only
   * when the new one is closed */
  sht = create_history (fixture->path, 0, NULL);
  q = strata_sht_quark_get_path (sht, "new");
  strata_sht_modify (sht, q, 3, STRATA_SHT_DOUBLE (2.5));
  {
    g_autoptr(StrataSht) old = open_history (fixture->path, 0);

    g_assert_cmpint (strata_sht_get_start_time (old), ==, T0);
  }
  close_history (sht, 10);
  g_clear_pointer (&sht, strata_sht_free);
  sht = open_history (fixture->path, 0);
  g_assert_cmpint (strata_sht_get_start_time (sht), ==, 0);
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, 2);
  assert_interval (sht, q, 3, 3, 10, STRATA_SHT_DOUBLE (2.5));
  g_clear_pointer (&sht, strata_sht_free);

  /* Where it cannot be written */
  sht = strata_sht_create (missing, 0, ANALYSIS_VERSION, NULL, &error);
  g_assert_null (sht);
  g_assert_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, missing));
  g_test_message ("%s", error->message);
}

/* A history without a single change still has its root, null */
static void
test_empty (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(StrataSht) sht = create_history (fixture->path, 100, NULL);
  g_autoptr(GArray) full = NULL;
  g_autoptr(GError) error = NULL;
  StrataShtStats stats;

  close_history (sht, 100);
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, 100);
  assert_interval (sht, STRATA_SHT_ROOT, 100, 100, 100, STRATA_SHT_NULL);
  assert_query_error (sht, STRATA_SHT_ROOT, 101, STRATA_SHT_ERROR_OUT_OF_RANGE);
  g_clear_pointer (&sht, strata_sht_free);

  sht = open_history (fixture->path, 0);
  g_assert_cmpint (strata_sht_get_start_time (sht), ==, 100);
  g_assert_cmpint (strata_sht_get_end_time (sht), ==, 100);
  g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, 1);
  g_assert_cmpuint (strata_sht_get_n_strings (sht), ==, 0);
  assert_interval (sht, STRATA_SHT_ROOT, 100, 100, 100, STRATA_SHT_NULL);
  assert_query_error (sht, STRATA_SHT_ROOT, 99, STRATA_SHT_ERROR_OUT_OF_RANGE);
  full = strata_sht_query_full (sht, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (full->len, ==, 1);
  strata_sht_get_stats (sht, &stats);
  g_assert_cmpuint (stats.n_intervals, ==, 1);
}

static void
test_errors (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(StrataSht) sht = create_history (fixture->path, 1000, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) full = NULL;
  g_autoptr(StrataShtRange) range = NULL;
  guint32 q = strata_sht_quark_get_path (sht, "q");
  guint32 bad[] = { 1, 2 };

  strata_sht_modify (sht, q, 2000, STRATA_SHT_INT32 (1));

  /* While writing there is no end yet: the future is the ongoing state */
  assert_query_error (sht, 2, 1500, STRATA_SHT_ERROR_INVALID_QUARK);
  assert_query_error (sht, STRATA_SHT_QUARK_INVALID, 1500, STRATA_SHT_ERROR_INVALID_QUARK);
  assert_query_error (sht, q, 999, STRATA_SHT_ERROR_OUT_OF_RANGE);
  assert_query_error (sht, q, G_MININT64, STRATA_SHT_ERROR_OUT_OF_RANGE);
  assert_interval (sht, q, G_MAXINT64, 2000, G_MAXINT64, STRATA_SHT_INT32 (1));
  full = strata_sht_query_full (sht, 999, &error);
  g_assert_null (full);
  g_assert_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);
  range = strata_sht_query_2d (sht, bad, 2, 1000, 2000, 1, &error);
  g_assert_null (range);
  g_assert_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_INVALID_QUARK);
  g_clear_error (&error);
  range = strata_sht_query_2d (sht, &q, 1, 0, 999, 1, &error);
  g_assert_null (range);
  g_assert_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);
  range = strata_sht_query_2d (sht, &q, 1, 5000, 6000, 10, &error);
  g_assert_no_error (error);
  g_assert_nonnull (range);
  g_clear_pointer (&range, strata_sht_range_free);

  close_history (sht, 3000);
  assert_query_error (sht, q, 3001, STRATA_SHT_ERROR_OUT_OF_RANGE);
  assert_query_error (sht, q, G_MAXINT64, STRATA_SHT_ERROR_OUT_OF_RANGE);
  assert_query_error (sht, 2, 2000, STRATA_SHT_ERROR_INVALID_QUARK);
  range = strata_sht_query_2d (sht, &q, 1, 3001, 6000, 10, &error);
  g_assert_null (range);
  g_assert_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);

  /* Programming errors: a critical and NULL */
  g_test_expect_message ("strata-sht", G_LOG_LEVEL_CRITICAL, "*strata_sht_query_2d*");
  range = strata_sht_query_2d (sht, &q, 1, 2000, 1999, 1, &error);
  g_test_assert_expected_messages ();
  g_assert_null (range);
  g_test_expect_message ("strata-sht", G_LOG_LEVEL_CRITICAL, "*strata_sht_query_2d*");
  range = strata_sht_query_2d (sht, &q, 1, 1000, 2000, 0, &error);
  g_test_assert_expected_messages ();
  g_assert_null (range);
  g_test_expect_message ("strata-sht", G_LOG_LEVEL_CRITICAL, "*strata_sht_query_2d*");
  range = strata_sht_query_2d (sht, &q, 1, 1000, 2000, -5, &error);
  g_test_assert_expected_messages ();
  g_assert_null (range);
  g_assert_no_error (error);
}

static const StrataShtInterval *
row_of (StrataShtRange *range,
        guint           row,
        guint           n_expected)
{
  guint n = G_MAXUINT;
  const StrataShtInterval *intervals = strata_sht_range_get_row (range, row, &n);

  g_assert_cmpuint (n, ==, n_expected);
  return intervals;
}

static void
assert_row_interval (const StrataShtInterval *iv,
                     gint64                   start,
                     gint64                   end,
                     gint32                   value,
                     guint16                  flags)
{
  g_autofree char *got = sht_interval_to_string (iv);

  if (iv->start != start || iv->end != end || iv->flags != flags
      || !sht_value_same (&iv->value, value < 0 ? &STRATA_SHT_NULL : &STRATA_SHT_INT32 (value)))
    g_error ("2D interval %s, expected [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] value %d "
             "flags %u", got, start, end, value, flags);
}

static StrataShtRange *
query_2d_ok (StrataSht     *sht,
             const guint32 *quarks,
             guint          n_quarks,
             gint64         t0,
             gint64         t1,
             gint64         resolution)
{
  g_autoptr(GError) error = NULL;
  StrataShtRange *range = strata_sht_query_2d (sht, quarks, n_quarks, t0, t1, resolution, &error);

  g_assert_no_error (error);
  g_assert_nonnull (range);
  g_assert_cmpuint (strata_sht_range_get_n_rows (range), ==, n_quarks);
  return range;
}

/* The 2D query on a small history, answers worked out by hand:
 * a = [0,9] null, [10,11] 1, [12,12] 2, [13,39] 3, [40,100] 4 */
static void
check_hand_2d (StrataSht *sht,
               gboolean   finished)
{
  const guint16 H = STRATA_SHT_INTERVAL_HIDDEN_AFTER;
  const guint16 O = finished ? 0 : STRATA_SHT_INTERVAL_ONGOING;
  const gint64 last_end = finished ? 100 : G_MAXINT64;
  guint32 a = 1, b = 2;
  guint32 aba[] = { a, b, a };
  StrataShtRangeIter iter;
  const StrataShtInterval *row;
  StrataShtRange *range;

  /* Samples 0, 10, …, 100: [12,12] is skipped between 11 and 13 */
  range = query_2d_ok (sht, &a, 1, 0, 100, 10);
  row = row_of (range, 0, 4);
  assert_row_interval (&row[0], 0, 9, -1, 0);
  assert_row_interval (&row[1], 10, 11, 1, H);
  assert_row_interval (&row[2], 13, 39, 3, 0);
  assert_row_interval (&row[3], 40, last_end, 4, O);

  /* The iterator, both ways, and past the ends */
  strata_sht_range_iter_init (&iter, range, 0, FALSE);
  g_assert_null (strata_sht_range_iter_previous (&iter));
  strata_sht_range_iter_init (&iter, range, 0, FALSE);
  for (guint i = 0; i < 4; i++)
    g_assert_true (strata_sht_range_iter_next (&iter) == &row[i]);
  g_assert_null (strata_sht_range_iter_next (&iter));
  g_assert_null (strata_sht_range_iter_next (&iter));
  strata_sht_range_iter_init (&iter, range, 0, TRUE);
  g_assert_null (strata_sht_range_iter_next (&iter));
  strata_sht_range_iter_init (&iter, range, 0, TRUE);
  for (guint i = 0; i < 4; i++)
    g_assert_true (strata_sht_range_iter_previous (&iter) == &row[3 - i]);
  g_assert_null (strata_sht_range_iter_previous (&iter));
  g_assert_null (strata_sht_range_iter_previous (&iter));
  strata_sht_range_free (range);

  /* Samples 5, 15, 25, 35 */
  range = query_2d_ok (sht, &a, 1, 5, 35, 10);
  row = row_of (range, 0, 2);
  assert_row_interval (&row[0], 0, 9, -1, H);
  assert_row_interval (&row[1], 13, 39, 3, 0);
  strata_sht_range_free (range);

  /* One sample (5): the rest of the range was skipped */
  range = query_2d_ok (sht, &a, 1, 5, 45, 100);
  row = row_of (range, 0, 1);
  assert_row_interval (&row[0], 0, 9, -1, H);
  strata_sht_range_free (range);

  /* Clipped to the history: samples from 0 */
  range = query_2d_ok (sht, &a, 1, -50, finished ? 1000 : 100, 1000);
  row = row_of (range, 0, 1);
  assert_row_interval (&row[0], 0, 9, -1, H);
  strata_sht_range_free (range);

  /* Resolution 1: every interval */
  range = query_2d_ok (sht, &a, 1, 0, 100, 1);
  row = row_of (range, 0, 5);
  assert_row_interval (&row[2], 12, 12, 2, 0);
  assert_row_interval (&row[4], 40, last_end, 4, O);
  strata_sht_range_free (range);

  /* One instant */
  range = query_2d_ok (sht, &a, 1, 12, 12, 1);
  row = row_of (range, 0, 1);
  assert_row_interval (&row[0], 12, 12, 2, 0);
  strata_sht_range_free (range);

  /* The whole of time at the largest step: samples at the start and, if
   * the history is not finished, at G_MAXINT64 */
  range = query_2d_ok (sht, &a, 1, G_MININT64, G_MAXINT64, G_MAXINT64);
  row = row_of (range, 0, finished ? 1 : 2);
  assert_row_interval (&row[0], 0, 9, -1, H);
  if (!finished)
    assert_row_interval (&row[1], 40, G_MAXINT64, 4, O);
  strata_sht_range_free (range);

  /* Rows are independent, the same quark twice included; b = 7 from 50 */
  range = query_2d_ok (sht, aba, 3, 0, 100, 10);
  row = row_of (range, 0, 4);
  assert_row_interval (&row[1], 10, 11, 1, H);
  row = row_of (range, 1, 2);
  assert_row_interval (&row[0], 0, 49, -1, 0);
  assert_row_interval (&row[1], 50, last_end, 7, O);
  row = row_of (range, 2, 4);
  assert_row_interval (&row[1], 10, 11, 1, H);
  strata_sht_range_iter_init (&iter, range, 1, TRUE);
  g_assert_true (strata_sht_range_iter_previous (&iter) == &row_of (range, 1, 2)[1]);
  strata_sht_range_free (range);

  if (!finished)
    {
      /* While writing, the samples go on after the last change */
      range = query_2d_ok (sht, &a, 1, 90, 200, 10);
      row = row_of (range, 0, 1);
      assert_row_interval (&row[0], 40, G_MAXINT64, 4, O);
      strata_sht_range_free (range);
    }
}

static void
test_range (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(StrataSht) sht = create_history (fixture->path, 0, NULL);
  guint32 a = strata_sht_quark_get_path (sht, "a");
  guint32 b = strata_sht_quark_get_path (sht, "b");

  g_assert_cmpuint (a, ==, 1);
  g_assert_cmpuint (b, ==, 2);
  strata_sht_modify (sht, a, 10, STRATA_SHT_INT32 (1));
  strata_sht_modify (sht, a, 12, STRATA_SHT_INT32 (2));
  strata_sht_modify (sht, a, 13, STRATA_SHT_INT32 (3));
  strata_sht_modify (sht, a, 40, STRATA_SHT_INT32 (4));
  strata_sht_modify (sht, b, 50, STRATA_SHT_INT32 (7));
  check_hand_2d (sht, FALSE);
  close_history (sht, 100);
  check_hand_2d (sht, TRUE);
  g_clear_pointer (&sht, strata_sht_free);
  sht = open_history (fixture->path, 0);
  check_hand_2d (sht, TRUE);
}

static guint64
misses_of_whole_query (StrataSht *sht,
                       guint32   *quarks,
                       guint      n)
{
  g_autoptr(GError) error = NULL;
  StrataShtStats before, after;
  StrataShtRange *range;

  strata_sht_get_stats (sht, &before);
  range = strata_sht_query_2d (sht, quarks, n, strata_sht_get_start_time (sht),
                               strata_sht_get_end_time (sht), 100, &error);
  g_assert_no_error (error);
  g_assert_nonnull (range);
  strata_sht_range_free (range);
  strata_sht_get_stats (sht, &after);
  return after.cache_misses - before.cache_misses;
}

/* A history written with a small cache, then given a larger one (as an
 * analysis is before it is shown), keeps a whole-range query's nodes: the
 * same query again reads nothing more from the file; with the small one it
 * reads them again. */
static void
test_cache_budget (Fixture       *fixture,
                   gconstpointer  data)
{
  StrataShtOptions options = { .block_size = 1024, .max_children = 4, .cache_bytes = 8 * 1024 };
  g_autoptr(StrataSht) sht = create_history (fixture->path, 0, &options);
  guint32 quarks[8];
  guint64 first, again;

  for (guint i = 0; i < G_N_ELEMENTS (quarks); i++)
    {
      g_autofree char *name = g_strdup_printf ("cpu%u", i);
      quarks[i] = strata_sht_quark_get_path (sht, name);
    }
  for (gint64 t = 1; t < 100000; t++)
    strata_sht_modify (sht, quarks[t % G_N_ELEMENTS (quarks)], t, STRATA_SHT_INT32 ((int) (t % 7)));
  close_history (sht, 100000);

  first = misses_of_whole_query (sht, quarks, G_N_ELEMENTS (quarks));
  again = misses_of_whole_query (sht, quarks, G_N_ELEMENTS (quarks));
  g_test_message ("8 KiB: %" G_GUINT64_FORMAT " then %" G_GUINT64_FORMAT " nodes read", first, again);
  g_assert_cmpuint (again, >, 100);

  strata_sht_set_cache_bytes (sht, 64 * 1024 * 1024);
  first = misses_of_whole_query (sht, quarks, G_N_ELEMENTS (quarks));
  again = misses_of_whole_query (sht, quarks, G_N_ELEMENTS (quarks));
  g_test_message ("64 MiB: %" G_GUINT64_FORMAT " then %" G_GUINT64_FORMAT " nodes read", first, again);
  g_assert_cmpuint (again, ==, 0);
}

/* Random histories */
/* Random histories */

typedef struct
{
  const char       *name;
  guint32           seed;
  StrataShtOptions  options;
  gboolean          null_options;
  gsize             reopen_cache;    /* 0: the default */
  gint64            start_time;
  gint64            mean_gap;        /* ns between changes, about */
  guint             n_quarks;        /* attributes to reach, about */
  guint64           n_intervals;     /* stored intervals to reach before closing */
  guint             n_checkpoints;
  guint             n_readers;
  /* Changes dated anywhere before the attribute's current state (clamped).
   * Off with readers: they check answers against the final history,
   * which needs every later change to be later than what they read. */
  gboolean          past_writes;
  gboolean          exhaustive;
  guint             n_queries;       /* random single queries after close, and after reopening */
  /* Few attributes (4 CPUs, 2 vCPUs, 2 threads at first) so that one
   * tree takes most intervals and grows deep */
  gboolean          narrow;
} Scenario;

static gint64
rand_range (GRand  *rand,
            gint64  lo,
            gint64  hi)
{
  guint64 span = (guint64) hi - (guint64) lo + 1;
  guint64 r = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);

  g_assert (lo <= hi);
  if (span == 0)
    return (gint64) r;
  return (gint64) ((guint64) lo + r % span);
}

static guint
rand_index (GRand *rand,
            guint  n)
{
  g_assert (n > 0);
  return g_rand_int_range (rand, 0, (gint32) n);
}

/* Readers while writing */

#define READER_MAX_SINGLES 20000
#define READER_MAX_RANGES  300
#define READER_MAX_QUARKS  8

typedef struct
{
  StrataSht *sht;
  gint64     start_time;
  GMutex     lock;
  gint64     t_pub;        /* every later change is later than this */
  guint      n_pub;        /* quarks that existed then */
  gint       closing;      /* atomic: strata_sht_close() was called */
  gint       stop;         /* atomic */
} Shared;

typedef struct
{
  guint32           quark;
  gint64            t;
  StrataShtInterval got;
} ReaderSingle;

typedef struct
{
  guint32    quarks[READER_MAX_QUARKS];
  guint      n_quarks;
  gint64     t0;
  gint64     t1;
  gint64     resolution;
  GPtrArray *rows;         /* GArray of StrataShtInterval */
} ReaderRange;

typedef struct
{
  Shared    *shared;
  guint32    seed;
  GThread   *thread;
  GArray    *singles;      /* ReaderSingle: a uniform sample of those made */
  GArray    *ranges;       /* ReaderRange */
  guint64    n_singles_seen;
  guint64    n_queries;
  GPtrArray *errors;
} Reader;

static void
reader_range_clear (gpointer data)
{
  ReaderRange *rr = data;

  g_clear_pointer (&rr->rows, g_ptr_array_unref);
}

static void
reader_keep_single (Reader                  *reader,
                    GRand                   *rand,
                    guint32                  quark,
                    gint64                   t,
                    const StrataShtInterval *got)
{
  ReaderSingle rs = { quark, t, *got };

  reader->n_singles_seen++;
  if (reader->singles->len < READER_MAX_SINGLES)
    g_array_append_val (reader->singles, rs);
  else
    {
      guint64 j = (guint64) rand_range (rand, 0, reader->n_singles_seen - 1);

      if (j < READER_MAX_SINGLES)
        g_array_index (reader->singles, ReaderSingle, j) = rs;
    }
}

static void
reader_error (Reader       *reader,
              const char   *query,
              const GError *error)
{
  gboolean closing = g_atomic_int_get (&reader->shared->closing);

  if (reader->errors->len < 20)
    g_ptr_array_add (reader->errors,
                     g_strdup_printf ("%s%s: %s", query, closing ? " (during or after close)" : "",
                                      error != NULL ? error->message : "no GError"));
}

/* A time the reader may ask about: published, half of the time recent
 * (in the writer's queue or ongoing). */
static gint64
reader_pick_time (GRand  *rand,
                  gint64  start,
                  gint64  t_pub)
{
  if (g_rand_boolean (rand))
    return rand_range (rand, start, t_pub);
  return t_pub - rand_range (rand, 0, MIN (t_pub - start, 100000));
}

static void
reader_query (Reader *reader,
              GRand  *rand,
              gint64  t_pub,
              guint   n_pub)
{
  StrataSht *sht = reader->shared->sht;
  gint64 start = reader->shared->start_time;
  g_autoptr(GError) error = NULL;
  guint kind = g_rand_int_range (rand, 0, 100);

  reader->n_queries++;
  if (kind < 85)
    {
      guint32 q = rand_index (rand, n_pub);
      gint64 t = reader_pick_time (rand, start, t_pub);
      StrataShtInterval iv;

      if (strata_sht_query_single (sht, q, t, &iv, &error) && error == NULL)
        reader_keep_single (reader, rand, q, t, &iv);
      else
        {
          g_autofree char *query = NULL;

          query = g_strdup_printf ("query_single (quark %u, t %" G_GINT64_FORMAT ")", q, t);
          reader_error (reader, query, error);
        }
    }
  else if (kind < 95)
    {
      gint64 t = reader_pick_time (rand, start, t_pub);
      g_autoptr(GArray) full = strata_sht_query_full (sht, t, &error);

      if (full == NULL || error != NULL || full->len < n_pub)
        {
          g_autofree char *query = NULL;

          query = g_strdup_printf ("query_full (t %" G_GINT64_FORMAT "): %u intervals", t,
                                   full != NULL ? full->len : 0);
          reader_error (reader, query, error);
          return;
        }
      for (guint i = 0; i < 4; i++)
        {
          guint32 q = rand_index (rand, n_pub);

          reader_keep_single (reader, rand, q, t, &g_array_index (full, StrataShtInterval, q));
        }
    }
  else if (reader->ranges->len < READER_MAX_RANGES)
    {
      ReaderRange rr = { { 0, }, };
      g_autoptr(StrataShtRange) range = NULL;
      gint64 from;

      rr.n_quarks = 1 + rand_index (rand, READER_MAX_QUARKS);
      for (guint i = 0; i < rr.n_quarks; i++)
        rr.quarks[i] = rand_index (rand, n_pub);
      rr.t0 = rand_range (rand, start - 1000, t_pub);
      from = MAX (rr.t0, start);
      rr.t1 = rand_range (rand, from, t_pub);
      rr.resolution = 1 + rand_range (rand, 0, (rr.t1 - from) / rand_range (rand, 1, 1000));
      range = strata_sht_query_2d (sht, rr.quarks, rr.n_quarks, rr.t0, rr.t1, rr.resolution,
                                   &error);
      if (range == NULL || error != NULL || strata_sht_range_get_n_rows (range) != rr.n_quarks)
        {
          reader_error (reader, "query_2d", error);
          return;
        }
      rr.rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
      for (guint r = 0; r < rr.n_quarks; r++)
        {
          guint n = 0;
          const StrataShtInterval *row = strata_sht_range_get_row (range, r, &n);
          GArray *copy = g_array_sized_new (FALSE, FALSE, sizeof (StrataShtInterval), n);

          g_array_append_vals (copy, row, n);
          g_ptr_array_add (rr.rows, copy);
        }
      g_array_append_val (reader->ranges, rr);
    }
}

static gpointer
reader_thread (gpointer data)
{
  Reader *reader = data;
  Shared *shared = reader->shared;
  g_autoptr(GRand) rand = g_rand_new_with_seed (reader->seed);

  while (!g_atomic_int_get (&shared->stop))
    {
      gint64 t_pub;
      guint n_pub;

      g_mutex_lock (&shared->lock);
      t_pub = shared->t_pub;
      n_pub = shared->n_pub;
      g_mutex_unlock (&shared->lock);

      if (n_pub == 0 || t_pub < shared->start_time)
        {
          g_usleep (200);
          continue;
        }
      for (guint i = 0; i < 32; i++)
        reader_query (reader, rand, t_pub, n_pub);
      /* Leave the writer some of the two CPUs the tests run on. */
      g_usleep (100);
    }
  return NULL;
}

/* Once the history is finished, what each reader saw must agree with it. */
static void
reader_verify (Reader    *reader,
               Check     *check,
               ShtOracle *oracle)
{
  for (guint i = 0; i < reader->errors->len; i++)
    mismatch (check, "reader thread (seed %u): %s", reader->seed,
              (const char *) g_ptr_array_index (reader->errors, i));

  for (guint i = 0; i < reader->singles->len; i++)
    {
      const ReaderSingle *rs = &g_array_index (reader->singles, ReaderSingle, i);
      StrataShtInterval want;
      int code;

      g_atomic_int_inc (&check->n_checks);
      if (!sht_oracle_query_single (oracle, rs->quark, rs->t, &want, &code))
        g_error ("the model has no answer for quark %u at %" G_GINT64_FORMAT, rs->quark, rs->t);
      if (!interval_same_but_ongoing (&rs->got, &want))
        {
          g_autofree char *w = sht_interval_to_string (&want);
          g_autofree char *g = sht_interval_to_string (&rs->got);

          mismatch (check, "reader thread, query_single (quark %u, t %" G_GINT64_FORMAT
                    ") while writing: got %s, final interval %s", rs->quark, rs->t, g, w);
        }
    }

  for (guint i = 0; i < reader->ranges->len; i++)
    {
      const ReaderRange *rr = &g_array_index (reader->ranges, ReaderRange, i);
      g_autoptr(GPtrArray) want = NULL;
      g_autofree char *qs = quarks_to_string (rr->quarks, rr->n_quarks);
      g_autofree char *query = NULL;
      int code;

      query = g_strdup_printf ("reader thread, query_2d (quarks %s, t0 %" G_GINT64_FORMAT ", t1 %"
                               G_GINT64_FORMAT ", resolution %" G_GINT64_FORMAT ") while writing",
                               qs, rr->t0, rr->t1, rr->resolution);
      g_atomic_int_inc (&check->n_checks);
      want = sht_oracle_query_2d (oracle, rr->quarks, rr->n_quarks, rr->t0, rr->t1, rr->resolution,
                                  &code);
      g_assert_nonnull (want);
      for (guint r = 0; r < rr->n_quarks; r++)
        {
          GArray *row = g_ptr_array_index (rr->rows, r);

          compare_rows (check, query, r, g_ptr_array_index (want, r),
                        (const StrataShtInterval *) (gpointer) row->data, row->len, TRUE);
        }
    }
}

/* The writer */

typedef struct
{
  const Scenario *sc;
  guint32         seed;
  GRand          *rand;
  StrataSht      *sht;
  ShtOracle      *oracle;
  Check           check;
  Strings         strings;
  GPtrArray      *texts;          /* values are drawn from these */
  GArray         *value_quarks;   /* guint32: set with modify() */
  GArray         *stack_quarks;   /* guint32: only pushed and popped */
  guint           n_hot;          /* the first value quarks, changed most often */
  guint           n_initial;
  guint           n_threads;
  gint64          now;
  guint64         n_ops;
  gboolean        broken;         /* the quark numbering diverged: stop */
  Shared          shared;
} Run;

static guint32
run_quark_path (Run        *run,
                const char *path)
{
  guint32 got = strata_sht_quark_get_path (run->sht, path);
  guint32 want = sht_oracle_quark_get_path (run->oracle, path);

  if (got != want)
    {
      mismatch (&run->check, "quark_get_path (\"%s\") = %u, expected %u", path, got, want);
      run->broken = TRUE;
    }
  return want;
}

static guint32
run_quark_child (Run        *run,
                 guint32     parent,
                 const char *name)
{
  guint32 got = strata_sht_quark_get (run->sht, parent, name);
  guint32 want = sht_oracle_quark_get (run->oracle, parent, name);

  if (got != want)
    {
      mismatch (&run->check, "quark_get (%u, \"%s\") = %u, expected %u", parent, name, got, want);
      run->broken = TRUE;
    }
  return want;
}

static void
run_add_thread (Run *run)
{
  guint tid = 1000 + run->n_threads++;
  g_autofree char *path = g_strdup_printf ("Threads/%u", tid);
  g_autofree char *prio = g_strdup_printf ("Threads/%u/Prio", tid);
  guint32 thread = run_quark_path (run, path);
  guint32 q;

  q = run_quark_child (run, thread, "Status");
  g_array_append_val (run->value_quarks, q);
  q = run_quark_child (run, thread, "Exec_name");
  g_array_append_val (run->value_quarks, q);
  q = run_quark_path (run, prio);
  g_array_append_val (run->value_quarks, q);
  if (tid % 4 == 0)
    {
      q = run_quark_child (run, thread, "Syscalls");
      g_array_append_val (run->stack_quarks, q);
    }
}

static void
run_add_initial_quarks (Run *run)
{
  guint n_cpus = run->sc->narrow ? 4 : 64;
  guint n_guests = run->sc->narrow ? 1 : 4;
  guint n_vcpus = run->sc->narrow ? 2 : 4;
  guint n_threads = run->sc->narrow ? 2 : 8;

  for (guint cpu = 0; cpu < n_cpus; cpu++)
    for (guint i = 0; i < 2; i++)
      {
        g_autofree char *path = g_strdup_printf ("Machines/host/CPUs/%u/%s", cpu,
                                                 i == 0 ? "Status" : "Current_thread");
        guint32 q = run_quark_path (run, path);

        g_array_append_val (run->value_quarks, q);
      }
  run->n_hot = run->value_quarks->len;
  for (guint guest = 0; guest < n_guests; guest++)
    for (guint vcpu = 0; vcpu < n_vcpus; vcpu++)
      {
        g_autofree char *path = g_strdup_printf ("Machines/guest%u/vCPUs/%u/State", guest, vcpu);
        guint32 q = run_quark_path (run, path);

        g_array_append_val (run->value_quarks, q);
      }
  {
    guint32 q = run_quark_path (run, "Machines/hôte ✓/Status");

    g_array_append_val (run->value_quarks, q);
  }
  for (guint i = 0; i < n_threads; i++)
    run_add_thread (run);
  run->n_initial = sht_oracle_get_n_quarks (run->oracle);
}

static void
run_make_texts (Run *run)
{
  guint n = MAX (64, run->sc->n_quarks / 2);

  run->texts = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (run->texts, g_strdup (""));
  g_ptr_array_add (run->texts, g_strdup ("swapper/0"));
  g_ptr_array_add (run->texts, g_strdup ("kworker/ü:1 — ✓ 日本語"));
  g_ptr_array_add (run->texts, make_long_text ());
  while (run->texts->len < n)
    g_ptr_array_add (run->texts, g_strdup_printf ("comm-%u", run->texts->len));
}

static StrataShtValue
run_random_value (Run *run)
{
  static const gint32 i32s[] = { G_MININT32, G_MAXINT32, -1, 0, 1, 2, 3 };
  static const gint64 i64s[] = { G_MININT64, G_MAXINT64, -1, G_GINT64_CONSTANT (1) << 40 };
  static const guint64 doubles[] = {
    G_GUINT64_CONSTANT (0x0000000000000000), G_GUINT64_CONSTANT (0x8000000000000000),   /* ±0 */
    G_GUINT64_CONSTANT (0x7ff0000000000000), G_GUINT64_CONSTANT (0xfff0000000000000),   /* ±inf */
    G_GUINT64_CONSTANT (0x7ff8000000000000), G_GUINT64_CONSTANT (0x7ff8000000000001),   /* NaNs */
    G_GUINT64_CONSTANT (0xfff8000000000000), G_GUINT64_CONSTANT (0x7ff0000000000001),
    G_GUINT64_CONSTANT (0x0000000000000001), G_GUINT64_CONSTANT (0x7fefffffffffffff),
    G_GUINT64_CONSTANT (0x3ff8000000000000),
  };
  GRand *rand = run->rand;
  guint k = g_rand_int_range (rand, 0, 100);

  if (k < 10)
    return STRATA_SHT_NULL;
  if (k < 40)
    {
      if (g_rand_int_range (rand, 0, 10) < 7)
        return STRATA_SHT_INT32 (g_rand_int_range (rand, 0, 5));
      if (g_rand_boolean (rand))
        return STRATA_SHT_INT32 (i32s[rand_index (rand, G_N_ELEMENTS (i32s))]);
      return STRATA_SHT_INT32 ((gint32) g_rand_int (rand));
    }
  if (k < 55)
    {
      guint j = g_rand_int_range (rand, 0, 10);

      if (j < 4)
        return STRATA_SHT_INT64 (g_rand_int_range (rand, 0, 5));
      if (j < 6)
        return STRATA_SHT_INT64 (i64s[rand_index (rand, G_N_ELEMENTS (i64s))]);
      return STRATA_SHT_INT64 (rand_range (rand, G_MININT64, G_MAXINT64));
    }
  if (k < 70)
    {
      if (g_rand_boolean (rand))
        return STRATA_SHT_DOUBLE (double_from_bits (doubles[rand_index (rand,
                                                                         G_N_ELEMENTS (doubles))]));
      return STRATA_SHT_DOUBLE (g_rand_double_range (rand, -1e6, 1e6));
    }
  {
    /* Mostly the first texts, as thread names repeat */
    guint n = run->texts->len;
    guint i = g_rand_boolean (rand) ? rand_index (rand, MIN (n, 16)) : rand_index (rand, n);

    return STRATA_SHT_STRING_ID (strings_intern (&run->check, &run->strings, run->sht,
                                                 g_ptr_array_index (run->texts, i)));
  }
}

static void
run_check_ongoing (Run     *run,
                   guint32  quark)
{
  gint64 start = G_MININT64, want_start;
  StrataShtValue got = strata_sht_get_ongoing (run->sht, quark, &start);
  StrataShtValue want = sht_oracle_get_ongoing (run->oracle, quark, &want_start);

  if (start != want_start || !sht_value_same (&got, &want))
    {
      g_autofree char *g = sht_value_to_string (&got);
      g_autofree char *w = sht_value_to_string (&want);

      mismatch (&run->check, "get_ongoing (quark %u) after op %" G_GUINT64_FORMAT ": %s from %"
                G_GINT64_FORMAT ", expected %s from %" G_GINT64_FORMAT, quark, run->n_ops, g,
                start, w, want_start);
    }
}

static void
run_modify (Run            *run,
            guint32         quark,
            gint64          t,
            StrataShtValue  value)
{
  strata_sht_modify (run->sht, quark, t, value);
  sht_oracle_modify (run->oracle, quark, t, value);
  run_check_ongoing (run, quark);
}

static guint32
run_pick_value_quark (Run *run)
{
  if (g_rand_int_range (run->rand, 0, 2) == 0)
    return g_array_index (run->value_quarks, guint32, rand_index (run->rand, run->n_hot));
  return g_array_index (run->value_quarks, guint32, rand_index (run->rand, run->value_quarks->len));
}

static void
run_push (Run     *run,
          guint32  quark)
{
  StrataShtValue v = run_random_value (run);
  guint n_quarks;

  strata_sht_push (run->sht, quark, run->now, v);
  sht_oracle_push (run->oracle, quark, run->now, v);
  /* A push may create the attribute of the new depth: both must number
   * it alike, or nothing after can be compared. */
  n_quarks = sht_oracle_get_n_quarks (run->oracle);
  if (strata_sht_get_n_quarks (run->sht) != n_quarks)
    {
      mismatch (&run->check, "push on quark %u: %u quarks after, expected %u", quark,
                strata_sht_get_n_quarks (run->sht), n_quarks);
      run->broken = TRUE;
    }
  run_check_ongoing (run, quark);
}

static void
run_pop (Run     *run,
         guint32  quark)
{
  StrataShtValue got = strata_sht_pop (run->sht, quark, run->now);
  StrataShtValue want = sht_oracle_pop (run->oracle, quark, run->now);

  if (!sht_value_same (&got, &want))
    {
      g_autofree char *g = sht_value_to_string (&got);
      g_autofree char *w = sht_value_to_string (&want);

      mismatch (&run->check, "pop (quark %u, t %" G_GINT64_FORMAT "): %s, expected %s", quark,
                run->now, g, w);
    }
  run_check_ongoing (run, quark);
}

static void
run_step (Run *run)
{
  GRand *rand = run->rand;
  guint k = g_rand_int_range (rand, 0, 1000);
  guint32 q;

  run->n_ops++;
  if (k < 700)
    run_modify (run, run_pick_value_quark (run), run->now, run_random_value (run));
  else if (k < 760)
    {
      const char *text = g_ptr_array_index (run->texts, rand_index (rand, run->texts->len));
      guint32 id = strings_intern (&run->check, &run->strings, run->sht, text);

      q = run_pick_value_quark (run);
      strata_sht_modify_string (run->sht, q, run->now, text);
      sht_oracle_modify (run->oracle, q, run->now, STRATA_SHT_STRING_ID (id));
      run_check_ongoing (run, q);
    }
  else if (k < 910)
    {
      StrataShtValue ongoing;
      gboolean push;

      /* Pushes and pops alike, the stacks at most 12 deep (as system
       * calls, interrupts and their nesting), and pops of empty stacks */
      q = g_array_index (run->stack_quarks, guint32, rand_index (rand, run->stack_quarks->len));
      ongoing = sht_oracle_get_ongoing (run->oracle, q, NULL);
      if (ongoing.type == STRATA_SHT_VALUE_INT32 && ongoing.u.i32 >= 12)
        push = FALSE;
      else
        push = g_rand_boolean (rand);
      if (push)
        run_push (run, q);
      else
        run_pop (run, q);
    }
  else if (k < 950)
    {
      /* Two changes at the same time: the second replaces the first */
      q = run_pick_value_quark (run);
      run_modify (run, q, run->now, run_random_value (run));
      run_modify (run, q, run->now, run_random_value (run));
    }
  else if (k < 975)
    {
      gint64 start;

      q = run_pick_value_quark (run);
      if (run->sc->past_writes)
        {
          gint64 back = g_rand_boolean (rand) ? rand_range (rand, 1, 1000 * run->sc->mean_gap)
                                              : rand_range (rand, 1, G_GINT64_CONSTANT (1) << 40);

          run_modify (run, q, run->now - back, run_random_value (run));
        }
      else
        {
          /* Clamped onto a state that began now, so that nothing earlier
           * than now changes (the readers rely on it) */
          run_modify (run, q, run->now, run_random_value (run));
          sht_oracle_get_ongoing (run->oracle, q, &start);
          if (start == run->now)
            run_modify (run, q, run->now - rand_range (rand, 1, 1000 * run->sc->mean_gap),
                        run_random_value (run));
        }
    }
  else
    {
      /* The same value again: no change */
      q = run_pick_value_quark (run);
      run_modify (run, q, run->now, sht_oracle_get_ongoing (run->oracle, q, NULL));
    }

  k = g_rand_int_range (rand, 0, 1000);
  if (k < 300)
    ;
  else if (k < 999)
    run->now += rand_range (rand, 1, 2 * run->sc->mean_gap);
  else
    run->now += rand_range (rand, 1000 * run->sc->mean_gap, 100000 * run->sc->mean_gap);
}

static void
run_publish (Run *run)
{
  /* Every later change is at now or after; and no later than the latest
   * change so far, which the end of the history will not precede. */
  g_mutex_lock (&run->shared.lock);
  run->shared.t_pub = MIN (run->now - 1, sht_oracle_get_end_time (run->oracle));
  run->shared.n_pub = sht_oracle_get_n_quarks (run->oracle);
  g_mutex_unlock (&run->shared.lock);
}

/* Times worth asking about: anywhere, recent ones, interval bounds and
 * the edges of the history. */
static gint64
pick_time (GRand     *rand,
           ShtOracle *oracle)
{
  gint64 start = sht_oracle_get_start_time (oracle);
  gint64 hi = sht_oracle_get_end_time (oracle);
  guint32 q;
  guint n;

  switch (g_rand_int_range (rand, 0, 20))
    {
    case 0: case 1: case 2: case 3: case 4: case 5:
      return rand_range (rand, start, hi);
    case 6: case 7: case 8: case 9:
      return hi - rand_range (rand, 0, MIN (hi - start, 1000000));
    case 10: case 11: case 12: case 13: case 14:
      q = rand_index (rand, sht_oracle_get_n_quarks (oracle));
      n = sht_oracle_get_n_stored (oracle, q);
      if (n > 0)
        {
          const StrataShtInterval *iv = sht_oracle_get_stored (oracle, q, rand_index (rand, n));

          switch (g_rand_int_range (rand, 0, 4))
            {
            case 0: return iv->start;
            case 1: return iv->end;
            case 2: return iv->end + 1;
            default: return iv->start - 1;
            }
        }
      return start;
    case 15:
      return start;
    case 16:
      return start - rand_range (rand, 1, 1000);
    case 17:
      return g_rand_boolean (rand) ? hi : hi + 1;
    case 18:
      return g_rand_boolean (rand) ? G_MAXINT64 : G_MININT64;
    default:
      return rand_range (rand, start - 1000, hi + 1000);
    }
}

static void
pick_range (GRand     *rand,
            ShtOracle *oracle,
            gint64    *t0,
            gint64    *t1,
            gint64    *resolution)
{
  gint64 start = sht_oracle_get_start_time (oracle);
  gint64 hi = sht_oracle_get_end_time (oracle);
  gint64 span = hi - start + 1;
  gint64 w, a, b, k;
  guint64 diff, step;

  switch (g_rand_int_range (rand, 0, 11))
    {
    case 0:  /* the whole history, at some thousands of pixels or fewer */
      *t0 = start;
      *t1 = hi;
      k = rand_range (rand, 1, 4000);
      *resolution = MAX (1, span / k);
      break;
    case 1:  /* zoomed in 1000 times, anywhere */
      w = MAX (1, span / 1000);
      *t0 = rand_range (rand, start, hi);
      *t1 = *t0 + w;
      k = rand_range (rand, 1, 2000);
      *resolution = MAX (1, w / k);
      break;
    case 2:  /* every nanosecond of a short range */
      *t0 = rand_range (rand, start, hi);
      *t1 = *t0 + rand_range (rand, 0, 20000);
      *resolution = 1;
      break;
    case 3:  /* huge steps: one or two samples */
      *t0 = rand_range (rand, start - 100, hi);
      *t1 = rand_range (rand, *t0, hi + 100);
      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0: *resolution = G_MAXINT64; break;
        case 1: *resolution = span; break;
        case 2: *resolution = 2 * span; break;
        default: *resolution = *t1 - *t0 + 1; break;
        }
      break;
    case 4:  /* wider than the history on both sides */
      *t0 = start - rand_range (rand, 1, 1000000);
      *t1 = hi + rand_range (rand, 1, 1000000);
      k = rand_range (rand, 1, 3000);
      *resolution = MAX (1, span / k);
      break;
    case 5:  /* all of time */
      *t0 = G_MININT64;
      *t1 = G_MAXINT64;
      *resolution = g_rand_boolean (rand) ? G_MAXINT64 : MAX (1, span / 100);
      break;
    case 6:  /* one instant, often an interval's bound */
      *t0 = *t1 = pick_time (rand, oracle);
      *resolution = rand_range (rand, 1, 100);
      break;
    case 7:  /* between two interesting times */
      a = pick_time (rand, oracle);
      b = pick_time (rand, oracle);
      *t0 = MIN (a, b);
      *t1 = MAX (a, b);
      diff = (guint64) *t1 - (guint64) *t0;
      /* Some hundred samples, at most 5000 */
      k = rand_range (rand, 1, 500);
      step = MAX (diff / (guint64) k, diff / 5000);
      *resolution = 1 + (gint64) MIN (step, (guint64) G_MAXINT64 - 1);
      break;
    case 8:  /* after the end: the future while writing, else out of range */
      *t0 = hi + rand_range (rand, 1, 1000);
      *t1 = *t0 + rand_range (rand, 0, 1000);
      *resolution = rand_range (rand, 1, 100);
      break;
    case 9:  /* before the start */
      *t1 = start - rand_range (rand, 1, 1000);
      *t0 = *t1 - rand_range (rand, 0, 1000);
      *resolution = 1;
      break;
    default:
      *t0 = rand_range (rand, start - 1000, hi);
      *t1 = rand_range (rand, *t0, hi + 1000);
      *resolution = 1 + rand_range (rand, 0, (*t1 - *t0) / rand_range (rand, 1, 500));
      break;
    }
}

static void
random_queries (Check     *check,
                StrataSht *sht,
                ShtOracle *oracle,
                GRand     *rand,
                guint      n_single,
                guint      n_full,
                guint      n_2d)
{
  guint n_quarks = sht_oracle_get_n_quarks (oracle);
  gint64 start = sht_oracle_get_start_time (oracle);
  gint64 hi = sht_oracle_get_end_time (oracle);
  gboolean finished = sht_oracle_is_finished (oracle);

  for (guint i = 0; i < n_single; i++)
    {
      gint64 t = pick_time (rand, oracle);
      guint32 q = rand_index (rand, n_quarks);

      /* An unknown quark, at a time that exists (either error could
       * come first otherwise) */
      if (g_rand_int_range (rand, 0, 100) < 3 && t >= start && (!finished || t <= hi))
        q = g_rand_boolean (rand) ? n_quarks + rand_index (rand, 5) : STRATA_SHT_QUARK_INVALID;
      check_single (check, sht, oracle, q, t);
    }

  for (guint i = 0; i < n_full; i++)
    check_full (check, sht, oracle, pick_time (rand, oracle));

  for (guint i = 0; i < n_2d; i++)
    {
      guint32 quarks[12];
      guint n = 1 + rand_index (rand, G_N_ELEMENTS (quarks));
      gint64 t0, t1, resolution;

      for (guint j = 0; j < n; j++)
        quarks[j] = j > 0 && g_rand_int_range (rand, 0, 100) < 15
                    ? quarks[rand_index (rand, j)] : rand_index (rand, n_quarks);
      if (g_rand_int_range (rand, 0, 100) < 3)
        {
          quarks[rand_index (rand, n)] = n_quarks + rand_index (rand, 3);
          t0 = start;
          t1 = hi;
          resolution = MAX (1, (hi - start) / 100);
        }
      else
        pick_range (rand, oracle, &t0, &t1, &resolution);
      check_2d (check, sht, oracle, quarks, n, t0, t1, resolution);
    }
}

static void
run_checkpoint (Run   *run,
                guint  index)
{
  Check *check = &run->check;
  gint64 end = sht_oracle_get_end_time (run->oracle);

  check_set_phase (check, "writing, checkpoint %u (op %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                   " intervals stored, now %" G_GINT64_FORMAT ")", index, run->n_ops,
                   sht_oracle_get_n_intervals (run->oracle), run->now);
  if (strata_sht_get_end_time (run->sht) != end)
    mismatch (check, "get_end_time: %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
              strata_sht_get_end_time (run->sht), end);
  if (strata_sht_is_finished (run->sht))
    mismatch (check, "is_finished while writing");
  check_stats (check, run->sht, run->oracle, TRUE);
  if (index == 0 || index + 1 == run->sc->n_checkpoints)
    {
      check_tree (check, run->sht, run->oracle);
      check_strings (check, run->sht, &run->strings);
    }
  else if (strata_sht_get_n_quarks (run->sht) != sht_oracle_get_n_quarks (run->oracle))
    mismatch (check, "get_n_quarks: %u, expected %u", strata_sht_get_n_quarks (run->sht),
              sht_oracle_get_n_quarks (run->oracle));
  random_queries (check, run->sht, run->oracle, run->rand, 300, 2, 20);
}

typedef struct
{
  Check     *check;
  StrataSht *sht;
  ShtOracle *oracle;
  guint32    seed;
  guint      n_single;
  GThread   *thread;
} Verifier;

static gpointer
verifier_thread (gpointer data)
{
  Verifier *v = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (v->seed);

  random_queries (v->check, v->sht, v->oracle, rand, v->n_single, 4, v->n_single / 200);
  return NULL;
}

/* Everything about a finished history */
static void
check_finished (Run       *run,
                StrataSht *sht,
                gboolean   same_object)
{
  const Scenario *sc = run->sc;
  Check *check = &run->check;
  gint64 end = sht_oracle_get_end_time (run->oracle);
  Verifier verifiers[2];

  if (!strata_sht_is_finished (sht))
    mismatch (check, "is_finished is FALSE");
  if (strata_sht_get_start_time (sht) != sc->start_time)
    mismatch (check, "get_start_time: %" G_GINT64_FORMAT, strata_sht_get_start_time (sht));
  if (strata_sht_get_end_time (sht) != end)
    mismatch (check, "get_end_time: %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
              strata_sht_get_end_time (sht), end);
  if (strata_sht_get_analysis_version (sht) != ANALYSIS_VERSION)
    mismatch (check, "get_analysis_version: %u", strata_sht_get_analysis_version (sht));
  check_stats (check, sht, run->oracle, same_object);
  check_tree (check, sht, run->oracle);
  check_strings (check, sht, &run->strings);
  if (sc->exhaustive)
    check_exhaustive (check, sht, run->oracle);
  random_queries (check, sht, run->oracle, run->rand, sc->n_queries, sc->n_queries / 1000 + 5,
                  sc->n_queries / 100 + 20);

  /* The same, from two threads at once */
  for (guint i = 0; i < G_N_ELEMENTS (verifiers); i++)
    {
      verifiers[i].check = check;
      verifiers[i].sht = sht;
      verifiers[i].oracle = run->oracle;
      verifiers[i].seed = run->seed + 100 + i;
      verifiers[i].n_single = sc->n_queries / 4;
      verifiers[i].thread = g_thread_new ("sht-verifier", verifier_thread, &verifiers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (verifiers); i++)
    g_thread_join (verifiers[i].thread);
}

static guint32
scenario_seed (const Scenario *sc)
{
  const char *env = g_getenv ("STRATA_TEST_SHT_SEED");

  if (env != NULL && *env != '\0')
    return (guint32) g_ascii_strtoull (env, NULL, 10);
  return sc->seed;
}

static void
test_random (Fixture       *fixture,
             gconstpointer  data)
{
  const Scenario *sc = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *listing = NULL;
  Reader readers[2];
  Run run = { 0, };
  guint64 next_checkpoint;
  guint checkpoint = 0;
  gint64 close_time;
  gint64 started = g_get_monotonic_time ();
  gint64 written, closed;
  StrataShtStats stats;

  g_assert (sc->n_readers <= G_N_ELEMENTS (readers));
  g_assert (sc->n_readers == 0 || !sc->past_writes);

  run.sc = sc;
  run.seed = scenario_seed (sc);
  g_test_message ("%s: seed %u (STRATA_TEST_SHT_SEED=%u replays it)", sc->name, run.seed, run.seed);
  run.rand = g_rand_new_with_seed (run.seed);
  check_init (&run.check, sc->name, run.seed);
  strings_init (&run.strings);
  run.sht = strata_sht_create (fixture->path, sc->start_time, ANALYSIS_VERSION,
                               sc->null_options ? NULL : &sc->options, &error);
  g_assert_no_error (error);
  run.oracle = sht_oracle_new (sc->start_time);
  run.value_quarks = g_array_new (FALSE, FALSE, sizeof (guint32));
  run.stack_quarks = g_array_new (FALSE, FALSE, sizeof (guint32));
  run.now = sc->start_time;
  run_make_texts (&run);
  check_set_phase (&run.check, "creating the initial attributes");
  run_add_initial_quarks (&run);

  g_mutex_init (&run.shared.lock);
  run.shared.sht = run.sht;
  run.shared.start_time = sc->start_time;
  run.shared.t_pub = G_MININT64;
  for (guint i = 0; i < sc->n_readers; i++)
    {
      memset (&readers[i], 0, sizeof readers[i]);
      readers[i].shared = &run.shared;
      readers[i].seed = run.seed + 1 + i;
      readers[i].singles = g_array_new (FALSE, FALSE, sizeof (ReaderSingle));
      readers[i].ranges = g_array_new (FALSE, FALSE, sizeof (ReaderRange));
      g_array_set_clear_func (readers[i].ranges, reader_range_clear);
      readers[i].errors = g_ptr_array_new_with_free_func (g_free);
      readers[i].thread = g_thread_new ("sht-reader", reader_thread, &readers[i]);
    }

  /* Writing, with checkpoints */
  check_set_phase (&run.check, "writing");
  next_checkpoint = sc->n_intervals / (sc->n_checkpoints + 1);
  while (sht_oracle_get_n_intervals (run.oracle) < sc->n_intervals && !run.broken)
    {
      guint64 stored = sht_oracle_get_n_intervals (run.oracle);
      double progress = (double) stored / sc->n_intervals;
      guint wanted = run.n_initial + (guint) ((sc->n_quarks - MIN (sc->n_quarks, run.n_initial))
                                              * MIN (1.0, progress / 0.7));

      while (sht_oracle_get_n_quarks (run.oracle) < wanted && !run.broken)
        run_add_thread (&run);
      run_step (&run);

      if (sc->n_readers > 0 && run.n_ops % 1024 == 0)
        run_publish (&run);
      if (stored >= next_checkpoint && checkpoint < sc->n_checkpoints)
        {
          run_checkpoint (&run, checkpoint++);
          next_checkpoint = sc->n_intervals * (checkpoint + 1) / (sc->n_checkpoints + 1);
          check_set_phase (&run.check, "writing");
        }
    }
  if (sc->n_readers > 0)
    run_publish (&run);
  written = g_get_monotonic_time ();
  g_test_message ("%s: written in %.1f s", sc->name, (written - started) / 1e6);

  /* Closing at a random time, which may be earlier than the last change */
  switch (g_rand_int_range (run.rand, 0, 3))
    {
    case 0: close_time = run.now; break;
    case 1: close_time = run.now + rand_range (run.rand, 1, 1000000); break;
    default: close_time = run.now - rand_range (run.rand, 1, 1000000); break;
    }
  check_set_phase (&run.check, "closing at %" G_GINT64_FORMAT, close_time);
  g_atomic_int_set (&run.shared.closing, 1);
  if (!strata_sht_close (run.sht, close_time, &error))
    g_error ("%s: close: %s", sc->name, error->message);
  sht_oracle_close (run.oracle, close_time);
  closed = g_get_monotonic_time ();

  g_atomic_int_set (&run.shared.stop, 1);
  check_set_phase (&run.check, "reader threads' answers while writing");
  for (guint i = 0; i < sc->n_readers; i++)
    {
      g_thread_join (readers[i].thread);
      g_test_message ("reader %u: %" G_GUINT64_FORMAT " queries, %u single answers and %u ranges "
                      "kept", i, readers[i].n_queries, readers[i].singles->len,
                      readers[i].ranges->len);
      reader_verify (&readers[i], &run.check, run.oracle);
      g_array_unref (readers[i].singles);
      g_array_unref (readers[i].ranges);
      g_ptr_array_unref (readers[i].errors);
    }

  strata_sht_get_stats (run.sht, &stats);
  g_test_message ("%s: %" G_GUINT64_FORMAT " ops, %u quarks, %u strings, %" G_GUINT64_FORMAT
                  " intervals, %" G_GUINT64_FORMAT " nodes, depth %u, %" G_GUINT64_FORMAT
                  " bytes; writing %.1f s, closing %.1f s",
                  sc->name, run.n_ops, sht_oracle_get_n_quarks (run.oracle),
                  g_hash_table_size (run.strings.texts), stats.n_intervals, stats.n_nodes,
                  stats.depth, stats.file_bytes, (written - started) / 1e6,
                  (closed - written) / 1e6);
  check_set_phase (&run.check, "closed");
  check_finished (&run, run.sht, TRUE);
  g_test_message ("%s: closed history checked at %.1f s", sc->name,
                  (g_get_monotonic_time () - started) / 1e6);
  g_clear_pointer (&run.sht, strata_sht_free);
  listing = list_dir (fixture->tmpdir);
  g_assert_cmpstr (listing, ==, "history.sht");

  check_set_phase (&run.check, "reopened");
  run.sht = strata_sht_open (fixture->path, ANALYSIS_VERSION, sc->reopen_cache, &error);
  g_assert_no_error (error);
  check_finished (&run, run.sht, FALSE);
  strata_sht_get_stats (run.sht, &stats);
  g_test_message ("%s reopened: cache %" G_GSIZE_FORMAT " bytes, %" G_GUINT64_FORMAT " hits, %"
                  G_GUINT64_FORMAT " misses", sc->name, stats.cache_bytes, stats.cache_hits,
                  stats.cache_misses);
  if (sc->reopen_cache > 0 && stats.cache_bytes > 2 * sc->reopen_cache)
    mismatch (&run.check, "cache holds %" G_GSIZE_FORMAT " bytes, more than twice its %"
              G_GSIZE_FORMAT, stats.cache_bytes, sc->reopen_cache);
  g_clear_pointer (&run.sht, strata_sht_free);

  g_test_message ("%s: %.1f s in all", sc->name, (g_get_monotonic_time () - started) / 1e6);
  check_finish (&run.check);
  g_mutex_clear (&run.shared.lock);
  strings_clear (&run.strings);
  g_ptr_array_unref (run.texts);
  g_array_unref (run.value_quarks);
  g_array_unref (run.stack_quarks);
  sht_oracle_free (run.oracle);
  g_rand_free (run.rand);
}

static const Scenario scenarios[] = {
  /* Tiny binary nodes, and changes dated in the past (clamped) */
  { .name = "deep", .seed = 1, .options = { .block_size = 1024, .max_children = 2 },
    .start_time = 0, .mean_gap = 50, .n_quarks = 200, .n_intervals = 30000, .n_checkpoints = 12,
    .past_writes = TRUE, .exhaustive = TRUE, .n_queries = 20000 },
  /* Few attributes in tiny binary nodes: deep trees, and readers */
  { .name = "narrow", .seed = 6,
    .options = { .block_size = 1024, .max_children = 2, .queue_intervals = 64 },
    .start_time = 1000, .mean_gap = 20, .n_quarks = 0, .n_intervals = 100000, .n_checkpoints = 12,
    .n_readers = 2, .exhaustive = TRUE, .n_queries = 20000, .narrow = TRUE },
  /* Small nodes, a cache far smaller than the tree, a short queue, and
   * readers while writing */
  { .name = "small-cache", .seed = 2,
    .options = { .block_size = 1024, .max_children = 4, .cache_bytes = 64 * 1024,
                 .queue_intervals = 16 },
    .reopen_cache = 64 * 1024, .start_time = T0, .mean_gap = 400, .n_quarks = 3000,
    .n_intervals = 150000, .n_checkpoints = 10, .n_readers = 2, .exhaustive = TRUE,
    .n_queries = 30000 },
  /* The defaults (NULL options), times around zero */
  { .name = "defaults", .seed = 3, .null_options = TRUE, .start_time = -5000000000,
    .mean_gap = 1000, .n_quarks = 500, .n_intervals = 100000, .n_checkpoints = 10,
    .past_writes = TRUE, .exhaustive = TRUE, .n_queries = 20000 },
  /* Medium nodes and fan-out */
  { .name = "medium", .seed = 4,
    .options = { .block_size = 8192, .max_children = 8, .cache_bytes = 256 * 1024,
                 .queue_intervals = 1000 },
    .reopen_cache = 256 * 1024, .start_time = T0, .mean_gap = 300, .n_quarks = 1000,
    .n_intervals = 300000, .n_checkpoints = 10, .n_readers = 2, .n_queries = 50000 },
  /* Millions of intervals, thousands of attributes */
  { .name = "large", .seed = 5, .options = { .cache_bytes = 1024 * 1024 },
    .reopen_cache = 64 * 1024, .start_time = T0, .mean_gap = 500, .n_quarks = 3000,
    .n_intervals = 2000000, .n_checkpoints = 8, .n_readers = 2, .n_queries = 60000 },
};

/* Both CRC-32C implementations (the processor's instruction, when it has
 * one, and the tables) on the standard check value and on data of every
 * alignment and length, split at every point. */
static void
test_crc32c (void)
{
  guint8 data[300];
  GRand *rand = g_rand_new_with_seed (7);

  g_assert_cmphex (_strata_sht_crc32c (0, "123456789", 9), ==, 0xe3069283);
  g_assert_cmphex (_strata_sht_crc32c_portable (0, "123456789", 9), ==, 0xe3069283);
  g_assert_cmphex (_strata_sht_crc32c (0, "", 0), ==, 0);

  for (guint i = 0; i < sizeof data; i++)
    data[i] = g_rand_int (rand) & 0xff;
  for (guint off = 0; off < 8; off++)
    for (guint len = 0; len + off <= sizeof data; len += 7)
      {
        guint32 whole = _strata_sht_crc32c_portable (0, data + off, len);
        guint split = len / 3;

        g_assert_cmphex (_strata_sht_crc32c (0, data + off, len), ==, whole);
        g_assert_cmphex (_strata_sht_crc32c (_strata_sht_crc32c (0, data + off, split),
                                             data + off + split, len - split), ==, whole);
      }
  g_rand_free (rand);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/strata/sht/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("quarks", test_quarks);
  ADD ("quark-names", test_quark_names);
  ADD ("strings", test_strings);
  ADD ("values", test_values);
  ADD ("stack", test_stack);
  ADD ("clamp", test_clamp);
  ADD ("files", test_files);
  ADD ("empty", test_empty);
  ADD ("errors", test_errors);
  ADD ("range", test_range);
  ADD ("cache-budget", test_cache_budget);
#undef ADD
  g_test_add_func ("/strata/sht/value-equal", test_value_equal);
  g_test_add_func ("/strata/sht/crc32c", test_crc32c);

  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    {
      g_autofree char *path = g_strdup_printf ("/strata/sht/random/%s", scenarios[i].name);

      g_test_add (path, Fixture, &scenarios[i], fixture_set_up, test_random, fixture_tear_down);
    }

  return g_test_run ();
}
