/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include "strata-catalog.h"
#include "strata-test-utils.h"

/*
 * The catalog: analysis entries and their files, the recent list,
 * pruning, the synchronization cache, persistence, damaged and too new
 * files, threads and several connections, unwritable places. Each test
 * works in its own temporary folder; some look at the database with
 * sqlite directly, to check what the catalog wrote or to age entries.
 */

#define HOUR_US ((gint64) 3600 * G_USEC_PER_SEC)

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

typedef struct
{
  char          *tmp;
  char          *path;
  char          *cache_dir;
  StrataCatalog *catalog;
} Fixture;

static StrataCatalog *
open_ok (const char *path,
         const char *cache_dir)
{
  g_autoptr(GError) error = NULL;
  StrataCatalog *catalog = strata_catalog_open (path, cache_dir, &error);

  g_assert_no_error (error);
  g_assert_nonnull (catalog);
  return catalog;
}

static void
fixture_set_up (Fixture *f)
{
  f->tmp = strata_test_make_tmpdir ();
  /* Folders that do not exist yet: opening creates them. */
  f->path = g_build_filename (f->tmp, "data", "strata", "catalog.sqlite", NULL);
  f->cache_dir = g_build_filename (f->tmp, "cache", NULL);
  f->catalog = open_ok (f->path, f->cache_dir);
}

static void
fixture_tear_down (Fixture *f)
{
  g_clear_object (&f->catalog);
  strata_test_rmtree (f->tmp);
  g_free (f->tmp);
  g_free (f->path);
  g_free (f->cache_dir);
}

/* Runs SQL on the catalog file with a connection of the test's own. */
static void
exec_sql (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  sqlite3_close (db);
}

static char *
query_text (const char *path,
            const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static gint64
query_int (const char *path,
           const char *sql)
{
  g_autofree char *text = query_text (path, sql);

  return g_ascii_strtoll (text, NULL, 10);
}

/* Writes @size bytes as the analysis does: to .part, then renamed. */
static void
write_sht (const char *sht_path,
           gsize       size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *part = g_strconcat (sht_path, ".part", NULL);
  g_autofree char *contents = g_malloc0 (size);

  g_file_set_contents (part, contents, (gssize) size, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_rename (part, sht_path), ==, 0);
}

static void
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
age_file (const char *path,
          gint64      age_us)
{
  struct utimbuf times;

  times.actime = times.modtime = (time_t) ((g_get_real_time () - age_us) / G_USEC_PER_SEC);
  g_assert_cmpint (g_utime (path, &times), ==, 0);
}

static StrataCatalogAnalysis *
begin_ok (StrataCatalog *catalog,
          const char    *key,
          int            version)
{
  g_autoptr(GError) error = NULL;
  const char *roots[] = { "/archives/one", "/archives/two", NULL };
  StrataCatalogAnalysis *analysis;

  analysis = strata_catalog_begin_analysis (catalog, key, version, "archive", roots, &error);
  g_assert_no_error (error);
  g_assert_nonnull (analysis);
  return analysis;
}

/* Begins, writes and finishes an analysis; returns its id. */
static gint64
add_complete (StrataCatalog *catalog,
              const char    *key,
              int            version)
{
  g_autoptr(StrataCatalogAnalysis) analysis = begin_ok (catalog, key, version);
  g_autoptr(GError) error = NULL;
  g_autofree char *summary = g_strdup_printf ("{\"key\": \"%s\"}", key);

  write_sht (analysis->sht_path, 100);
  g_assert_true (strata_catalog_finish_analysis (catalog, analysis->id, summary, &error));
  g_assert_no_error (error);
  return analysis->id;
}

static StrataCatalogAnalysis *
lookup (StrataCatalog *catalog,
        const char    *key,
        int            version)
{
  g_autoptr(GError) error = NULL;
  StrataCatalogAnalysis *analysis = strata_catalog_lookup_analysis (catalog, key, version, &error);

  g_assert_no_error (error);
  return analysis;
}

static guint
count_files (const char *dir_path,
             const char *suffix)
{
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n = 0;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, suffix))
      n++;
  return n;
}

static GBytes *
bytes_from_string (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* ---------------------------------------------------------------------- */
/* Opening                                                                */
/* ---------------------------------------------------------------------- */

static void
test_open (void)
{
  Fixture f;
  g_autofree char *parent = NULL;
  g_autofree char *mode = NULL;
  GStatBuf st;

  fixture_set_up (&f);

  g_assert_cmpstr (strata_catalog_get_path (f.catalog), ==, f.path);
  g_assert_cmpstr (strata_catalog_get_cache_dir (f.catalog), ==, f.cache_dir);
  g_assert_null (strata_catalog_get_warning (f.catalog));
  g_assert_true (g_file_test (f.path, G_FILE_TEST_IS_REGULAR));

  /* Created folders are the user's alone. */
  parent = g_path_get_dirname (f.path);
  g_assert_cmpint (g_stat (parent, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  mode = query_text (f.path, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (query_int (f.path, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint (query_int (f.path, "SELECT count(*) FROM sqlite_master WHERE name = 'sync_cache'"),
                   ==, 1);

  fixture_tear_down (&f);
}

static void
test_default_paths (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *data = g_build_filename (tmp, "data", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  g_autofree char *expected_path = g_build_filename (data, "catalog.sqlite", NULL);
  g_autofree char *fallback_path = NULL;
  g_autofree char *fallback_cache = NULL;
  g_autofree char *default_path = NULL;
  g_autofree char *default_cache = NULL;
  g_autofree char *expected_fallback_path = g_build_filename (g_get_user_data_dir (), "strata",
                                                              "catalog.sqlite", NULL);
  g_autofree char *expected_fallback_cache = g_build_filename (g_get_user_cache_dir (), "strata", NULL);
  g_autoptr(StrataCatalog) catalog = NULL;

  g_unsetenv ("STRATA_DATA_DIR");
  g_unsetenv ("STRATA_CACHE_DIR");
  fallback_path = strata_catalog_default_path ();
  fallback_cache = strata_catalog_default_cache_dir ();
  g_assert_cmpstr (fallback_path, ==, expected_fallback_path);
  g_assert_cmpstr (fallback_cache, ==, expected_fallback_cache);

  g_setenv ("STRATA_DATA_DIR", data, TRUE);
  g_setenv ("STRATA_CACHE_DIR", cache, TRUE);
  default_path = strata_catalog_default_path ();
  default_cache = strata_catalog_default_cache_dir ();
  g_assert_cmpstr (default_path, ==, expected_path);
  g_assert_cmpstr (default_cache, ==, cache);

  catalog = open_ok (NULL, NULL);
  g_assert_cmpstr (strata_catalog_get_path (catalog), ==, expected_path);
  g_assert_cmpstr (strata_catalog_get_cache_dir (catalog), ==, cache);
  g_assert_true (g_file_test (expected_path, G_FILE_TEST_IS_REGULAR));

  g_unsetenv ("STRATA_DATA_DIR");
  g_unsetenv ("STRATA_CACHE_DIR");
  g_clear_object (&catalog);
  strata_test_rmtree (tmp);
}

/* ---------------------------------------------------------------------- */
/* Analyses                                                               */
/* ---------------------------------------------------------------------- */

static void
test_round_trip (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalogAnalysis) begun = NULL;
  g_autoptr(StrataCatalogAnalysis) found = NULL;
  g_autofree char *sht_dir = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  gint64 before = g_get_real_time ();

  fixture_set_up (&f);

  begun = begin_ok (f.catalog, "traces+options", 3);
  g_assert_cmpint (begun->id, >, 0);
  g_assert_cmpstr (begun->key, ==, "traces+options");
  g_assert_cmpstr (begun->name, ==, "archive");
  g_assert_cmpuint (g_strv_length (begun->roots), ==, 2);
  g_assert_cmpstr (begun->roots[1], ==, "/archives/two");
  g_assert_cmpint (begun->analysis_version, ==, 3);
  g_assert_false (begun->complete);
  g_assert_null (begun->summary_json);
  g_assert_cmpint (begun->created_us, >=, before);

  /* A new name in <cache>/sht, which the caller writes. */
  sht_dir = g_build_filename (f.cache_dir, "sht", NULL);
  dir = g_path_get_dirname (begun->sht_path);
  base = g_path_get_basename (begun->sht_path);
  g_assert_cmpstr (dir, ==, sht_dir);
  g_assert_true (g_file_test (sht_dir, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (strlen (base), ==, 16 + strlen (".sht"));
  g_assert_true (g_str_has_suffix (base, ".sht"));
  g_assert_false (g_file_test (begun->sht_path, G_FILE_TEST_EXISTS));

  write_sht (begun->sht_path, 12345);
  g_assert_true (strata_catalog_finish_analysis (f.catalog, begun->id, "{\"machines\": 3}", &error));
  g_assert_no_error (error);

  found = lookup (f.catalog, "traces+options", 3);
  g_assert_nonnull (found);
  g_assert_cmpint (found->id, ==, begun->id);
  g_assert_cmpstr (found->key, ==, "traces+options");
  g_assert_cmpstr (found->name, ==, "archive");
  g_assert_cmpstrv (found->roots, begun->roots);
  g_assert_cmpint (found->analysis_version, ==, 3);
  g_assert_cmpstr (found->sht_path, ==, begun->sht_path);
  g_assert_cmpstr (found->summary_json, ==, "{\"machines\": 3}");
  g_assert_true (found->complete);
  g_assert_cmpuint (found->sht_bytes, ==, 12345);
  g_assert_cmpint (found->created_us, ==, begun->created_us);
  g_assert_cmpint (found->opened_us, >, begun->opened_us);

  fixture_tear_down (&f);
}

static void
test_no_roots (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalogAnalysis) begun = NULL;
  g_autoptr(StrataCatalogAnalysis) found = NULL;

  fixture_set_up (&f);

  begun = strata_catalog_begin_analysis (f.catalog, "k", 1, "none", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (begun->roots);
  g_assert_null (begun->roots[0]);
  write_sht (begun->sht_path, 1);
  g_assert_true (strata_catalog_finish_analysis (f.catalog, begun->id, "{}", &error));

  found = lookup (f.catalog, "k", 1);
  g_assert_nonnull (found);
  g_assert_nonnull (found->roots);
  g_assert_null (found->roots[0]);

  fixture_tear_down (&f);
}

static void
test_lookup_ignores (void)
{
  Fixture f;
  g_autoptr(StrataCatalogAnalysis) incomplete = NULL;
  g_autoptr(StrataCatalogAnalysis) found = NULL;

  fixture_set_up (&f);

  /* Being built, its file already written: still not usable. */
  incomplete = begin_ok (f.catalog, "building", 1);
  write_sht (incomplete->sht_path, 10);
  g_assert_null (lookup (f.catalog, "building", 1));

  add_complete (f.catalog, "done", 1);
  g_assert_null (lookup (f.catalog, "done", 2));
  g_assert_null (lookup (f.catalog, "done", 0));
  g_assert_null (lookup (f.catalog, "Done", 1));
  g_assert_null (lookup (f.catalog, "", 1));

  found = lookup (f.catalog, "done", 1);
  g_assert_nonnull (found);
  g_assert_cmpstr (found->key, ==, "done");

  fixture_tear_down (&f);
}

static void
test_begin_replaces (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalogAnalysis) old = NULL;
  g_autoptr(StrataCatalogAnalysis) other = NULL;
  g_autoptr(StrataCatalogAnalysis) renewed = NULL;
  g_autoptr(StrataCatalogAnalysis) found = NULL;
  g_autofree char *old_part = NULL;

  fixture_set_up (&f);

  old = begin_ok (f.catalog, "k", 1);
  write_sht (old->sht_path, 10);
  g_assert_true (strata_catalog_finish_analysis (f.catalog, old->id, "{}", &error));
  g_assert_no_error (error);
  /* And a leftover of an earlier write. */
  old_part = g_strconcat (old->sht_path, ".part", NULL);
  write_file (old_part, "partial");
  other = begin_ok (f.catalog, "other", 1);
  write_sht (other->sht_path, 10);

  renewed = begin_ok (f.catalog, "k", 2);
  g_assert_cmpint (renewed->id, !=, old->id);
  g_assert_cmpstr (renewed->sht_path, !=, old->sht_path);
  g_assert_false (g_file_test (old->sht_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (old_part, G_FILE_TEST_EXISTS));
  g_assert_null (lookup (f.catalog, "k", 1));

  /* The old id is gone: finishing it says so. */
  g_assert_false (strata_catalog_finish_analysis (f.catalog, old->id, "{}", &error));
  g_assert_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, f.path));
  g_clear_error (&error);

  /* Another key's entry is untouched. */
  g_assert_true (g_file_test (other->sht_path, G_FILE_TEST_IS_REGULAR));
  g_assert_true (strata_catalog_finish_analysis (f.catalog, other->id, "{}", &error));
  g_assert_no_error (error);

  write_sht (renewed->sht_path, 20);
  g_assert_true (strata_catalog_finish_analysis (f.catalog, renewed->id, "{}", &error));
  found = lookup (f.catalog, "k", 2);
  g_assert_nonnull (found);
  g_assert_cmpint (found->id, ==, renewed->id);

  fixture_tear_down (&f);
}

static void
test_forget (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalogAnalysis) building = NULL;
  g_autoptr(StrataCatalogAnalysis) done = NULL;
  g_autofree char *part = NULL;
  gint64 id;

  fixture_set_up (&f);

  /* A cancelled build leaves its .part. */
  building = begin_ok (f.catalog, "cancelled", 1);
  part = g_strconcat (building->sht_path, ".part", NULL);
  write_file (part, "half");
  g_assert_true (strata_catalog_forget_analysis (f.catalog, building->id, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));

  /* A complete one whose file turned out damaged. */
  id = add_complete (f.catalog, "damaged", 1);
  done = lookup (f.catalog, "damaged", 1);
  g_assert_nonnull (done);
  g_assert_true (strata_catalog_forget_analysis (f.catalog, id, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (done->sht_path, G_FILE_TEST_EXISTS));
  g_assert_null (lookup (f.catalog, "damaged", 1));

  g_assert_false (strata_catalog_forget_analysis (f.catalog, id, &error));
  g_assert_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_NOT_FOUND);

  fixture_tear_down (&f);
}

static void
test_missing_file (void)
{
  Fixture f;
  g_autoptr(StrataCatalogAnalysis) found = NULL;
  g_autoptr(GPtrArray) recent = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *part = NULL;

  fixture_set_up (&f);

  add_complete (f.catalog, "k", 1);
  found = lookup (f.catalog, "k", 1);
  g_assert_nonnull (found);
  g_assert_cmpint (g_unlink (found->sht_path), ==, 0);
  /* What a rebuild that stopped would leave. */
  part = g_strconcat (found->sht_path, ".part", NULL);
  write_file (part, "half");

  g_assert_null (lookup (f.catalog, "k", 1));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  /* Forgotten, not only skipped: the file coming back does not revive it. */
  write_sht (found->sht_path, 10);
  g_assert_null (lookup (f.catalog, "k", 1));
  recent = strata_catalog_list_recent (f.catalog, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (recent->len, ==, 0);
  g_assert_cmpint (query_int (f.path, "SELECT count(*) FROM analysis"), ==, 0);
  g_assert_cmpint (query_int (f.path, "SELECT count(*) FROM analysis_root"), ==, 0);

  fixture_tear_down (&f);
}

static void
test_finish_errors (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalogAnalysis) begun = NULL;

  fixture_set_up (&f);

  g_assert_false (strata_catalog_finish_analysis (f.catalog, 424242, "{}", &error));
  g_assert_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Not written: it cannot be complete. */
  begun = begin_ok (f.catalog, "k", 1);
  g_assert_false (strata_catalog_finish_analysis (f.catalog, begun->id, "{}", &error));
  g_assert_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_IO);
  g_assert_nonnull (strstr (error->message, begun->sht_path));
  g_assert_null (lookup (f.catalog, "k", 1));

  fixture_tear_down (&f);
}

static void
test_recent (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) three = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(StrataCatalogAnalysis) building = NULL;
  g_autoptr(StrataCatalogAnalysis) touched = NULL;
  const char *expected[] = { "a1", "a5", "a4", "a3", "a2" };

  fixture_set_up (&f);

  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char *key = g_strdup_printf ("a%u", i);

      add_complete (f.catalog, key, 1);
    }
  building = begin_ok (f.catalog, "incomplete", 1);
  touched = lookup (f.catalog, "a1", 1);
  g_assert_nonnull (touched);

  three = strata_catalog_list_recent (f.catalog, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (three->len, ==, 3);
  all = strata_catalog_list_recent (f.catalog, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 5);

  for (guint i = 0; i < all->len; i++)
    {
      StrataCatalogAnalysis *analysis = g_ptr_array_index (all, i);

      g_assert_cmpstr (analysis->key, ==, expected[i]);
      g_assert_true (analysis->complete);
      g_assert_cmpuint (g_strv_length (analysis->roots), ==, 2);
      if (i < three->len)
        g_assert_cmpint (((StrataCatalogAnalysis *) g_ptr_array_index (three, i))->id, ==, analysis->id);
      if (i > 0)
        g_assert_cmpint (analysis->opened_us, <,
                         ((StrataCatalogAnalysis *) g_ptr_array_index (all, i - 1))->opened_us);
    }

  /* The clock went back an hour (or another process's clock is ahead):
   * what is opened now still comes first. */
  exec_sql (f.path, "UPDATE analysis SET opened_us = opened_us + 3600000000");
  g_clear_pointer (&touched, strata_catalog_analysis_free);
  touched = lookup (f.catalog, "a3", 1);
  g_assert_nonnull (touched);
  g_clear_pointer (&three, g_ptr_array_unref);
  three = strata_catalog_list_recent (f.catalog, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (three->len, ==, 2);
  g_assert_cmpstr (((StrataCatalogAnalysis *) g_ptr_array_index (three, 0))->key, ==, "a3");
  g_assert_cmpstr (((StrataCatalogAnalysis *) g_ptr_array_index (three, 1))->key, ==, "a1");

  fixture_tear_down (&f);
}

static void
test_prune (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalogAnalysis) stale = NULL;
  g_autoptr(StrataCatalogAnalysis) stale_writing = NULL;
  g_autoptr(StrataCatalogAnalysis) fresh = NULL;
  g_autoptr(StrataCatalogAnalysis) old_complete = NULL;
  g_autofree char *stale_part = NULL;
  g_autofree char *writing_part = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *sht_dir = NULL;
  g_autofree char *orphan = NULL;
  g_autofree char *orphan_part = NULL;
  g_autofree char *fresh_orphan = NULL;
  g_autofree char *foreign = NULL;
  g_autofree char *foreign_hex = NULL;
  g_autoptr(StrataCatalogAnalysis) found = NULL;

  fixture_set_up (&f);
  sht_dir = g_build_filename (f.cache_dir, "sht", NULL);

  /* A process killed two hours ago, its .part left behind. */
  stale = begin_ok (f.catalog, "stale", 1);
  stale_part = g_strconcat (stale->sht_path, ".part", NULL);
  write_file (stale_part, "half");
  age_file (stale_part, 2 * HOUR_US);
  /* Begun two hours ago too, but still writing. */
  stale_writing = begin_ok (f.catalog, "long", 1);
  writing_part = g_strconcat (stale_writing->sht_path, ".part", NULL);
  write_file (writing_part, "growing");
  /* Being built right now. */
  fresh = begin_ok (f.catalog, "fresh", 1);
  /* Complete entries stay whatever their age. */
  add_complete (f.catalog, "old", 1);
  old_complete = lookup (f.catalog, "old", 1);
  age_file (old_complete->sht_path, 2 * HOUR_US);

  sql = g_strdup_printf ("UPDATE analysis SET created_us = created_us - %" G_GINT64_FORMAT
                         " WHERE key IN ('stale', 'long', 'old')", 2 * HOUR_US);
  exec_sql (f.path, sql);

  /* Files nobody names: old ones go, a fresh one and files that are not
   * the catalog's stay. */
  orphan = g_build_filename (sht_dir, "0123456789abcdef.sht", NULL);
  orphan_part = g_build_filename (sht_dir, "fedcba9876543210.sht.part", NULL);
  fresh_orphan = g_build_filename (sht_dir, "00000000ffffffff.sht", NULL);
  foreign = g_build_filename (sht_dir, "notes.txt", NULL);
  foreign_hex = g_build_filename (sht_dir, "0123456789abcdef.tmp", NULL);
  write_file (orphan, "x");
  write_file (orphan_part, "x");
  write_file (fresh_orphan, "x");
  write_file (foreign, "x");
  write_file (foreign_hex, "x");
  age_file (orphan, 2 * HOUR_US);
  age_file (orphan_part, 2 * HOUR_US);
  age_file (foreign, 2 * HOUR_US);
  age_file (foreign_hex, 2 * HOUR_US);

  g_assert_cmpuint (strata_catalog_prune (f.catalog, HOUR_US, &error), ==, 3);
  g_assert_no_error (error);

  g_assert_false (g_file_test (stale_part, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (orphan, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (orphan_part, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (writing_part, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (fresh_orphan, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (foreign, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (foreign_hex, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (old_complete->sht_path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (query_int (f.path, "SELECT count(*) FROM analysis WHERE key = 'stale'"), ==, 0);
  g_assert_cmpint (query_int (f.path, "SELECT count(*) FROM analysis"), ==, 3);

  /* The builds that were kept can still finish. */
  write_sht (fresh->sht_path, 5);
  g_assert_true (strata_catalog_finish_analysis (f.catalog, fresh->id, "{}", &error));
  g_assert_no_error (error);
  g_assert_true (g_rename (writing_part, stale_writing->sht_path) == 0);
  g_assert_true (strata_catalog_finish_analysis (f.catalog, stale_writing->id, "{}", &error));
  g_assert_no_error (error);
  found = lookup (f.catalog, "old", 1);
  g_assert_nonnull (found);

  /* Nothing left to do. */
  g_assert_cmpuint (strata_catalog_prune (f.catalog, HOUR_US, &error), ==, 0);
  g_assert_no_error (error);

  fixture_tear_down (&f);
}

/* ---------------------------------------------------------------------- */
/* Synchronization cache                                                  */
/* ---------------------------------------------------------------------- */

static void
assert_cached (StrataSyncCache *cache,
               const char      *key,
               GBytes          *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = strata_sync_cache_lookup (cache, key, &error);

  g_assert_no_error (error);
  g_assert_nonnull (value);
  g_assert_true (g_bytes_equal (value, expected));
}

static void
test_sync_cache (void)
{
  Fixture f;
  StrataSyncCache *cache;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) first = bytes_from_string ("first result");
  g_autoptr(GBytes) second = bytes_from_string ("second, longer result");
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  static const guint8 binary_data[] = { 0, 1, 2, 0, 255, 0 };
  g_autoptr(GBytes) binary = g_bytes_new_static (binary_data, sizeof binary_data);
  g_autoptr(GBytes) missing = NULL;

  fixture_set_up (&f);
  g_assert_true (STRATA_IS_SYNC_CACHE (f.catalog));
  cache = STRATA_SYNC_CACHE (f.catalog);

  missing = strata_sync_cache_lookup (cache, "strata-sync/1\nnothing\n", &error);
  g_assert_no_error (error);
  g_assert_null (missing);

  g_assert_true (strata_sync_cache_store (cache, "strata-sync/1\nabc\n", first, &error));
  g_assert_no_error (error);
  assert_cached (cache, "strata-sync/1\nabc\n", first);

  g_assert_true (strata_sync_cache_store (cache, "strata-sync/1\nabc\n", second, &error));
  g_assert_no_error (error);
  assert_cached (cache, "strata-sync/1\nabc\n", second);
  g_assert_cmpint (query_int (f.path, "SELECT count(*) FROM sync_cache"), ==, 1);

  g_assert_true (strata_sync_cache_store (cache, "empty", empty, &error));
  g_assert_no_error (error);
  assert_cached (cache, "empty", empty);
  g_assert_true (strata_sync_cache_store (cache, "binary", binary, &error));
  g_assert_no_error (error);
  assert_cached (cache, "binary", binary);
  assert_cached (cache, "strata-sync/1\nabc\n", second);

  fixture_tear_down (&f);
}

/* ---------------------------------------------------------------------- */
/* Persistence, damage, versions                                          */
/* ---------------------------------------------------------------------- */

static void
test_reopen (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = bytes_from_string ("kept");
  g_autoptr(StrataCatalogAnalysis) before = NULL;
  g_autoptr(StrataCatalogAnalysis) after = NULL;
  g_autoptr(StrataCatalogAnalysis) building = NULL;
  g_autoptr(GPtrArray) recent = NULL;

  fixture_set_up (&f);

  add_complete (f.catalog, "one", 1);
  add_complete (f.catalog, "two", 1);
  before = lookup (f.catalog, "one", 1);
  building = begin_ok (f.catalog, "building", 1);
  g_assert_true (strata_sync_cache_store (STRATA_SYNC_CACHE (f.catalog), "sync", value, &error));
  g_assert_no_error (error);

  g_clear_object (&f.catalog);
  f.catalog = open_ok (f.path, f.cache_dir);
  g_assert_null (strata_catalog_get_warning (f.catalog));

  after = lookup (f.catalog, "one", 1);
  g_assert_nonnull (after);
  g_assert_cmpint (after->id, ==, before->id);
  g_assert_cmpstr (after->sht_path, ==, before->sht_path);
  g_assert_cmpstr (after->summary_json, ==, before->summary_json);
  g_assert_cmpstrv (after->roots, before->roots);
  g_assert_cmpuint (after->sht_bytes, ==, 100);
  assert_cached (STRATA_SYNC_CACHE (f.catalog), "sync", value);

  recent = strata_catalog_list_recent (f.catalog, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (recent->len, ==, 2);
  g_assert_cmpstr (((StrataCatalogAnalysis *) g_ptr_array_index (recent, 0))->key, ==, "one");

  /* An entry begun before closing can still be finished. */
  write_sht (building->sht_path, 1);
  g_assert_true (strata_catalog_finish_analysis (f.catalog, building->id, "{}", &error));
  g_assert_no_error (error);

  fixture_tear_down (&f);
}

/* The catalog at @path works: an analysis and a sync value round trip. */
static void
assert_works (StrataCatalog *catalog)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = bytes_from_string ("value");
  g_autoptr(StrataCatalogAnalysis) found = NULL;

  add_complete (catalog, "after", 1);
  found = lookup (catalog, "after", 1);
  g_assert_nonnull (found);
  g_assert_true (strata_sync_cache_store (STRATA_SYNC_CACHE (catalog), "k", value, &error));
  g_assert_no_error (error);
  assert_cached (STRATA_SYNC_CACHE (catalog), "k", value);
}

/* The one file named <path>.corrupt-<digits>[suffix]. */
static char *
find_moved (const char *path,
            const char *suffix)
{
  g_autofree char *dir_path = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = g_strconcat (base, ".corrupt-", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  char *found = NULL;
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      const char *p = name + strlen (prefix);

      if (!g_str_has_prefix (name, prefix))
        continue;
      while (g_ascii_isdigit (*p))
        p++;
      if (p == name + strlen (prefix) || !g_str_equal (p, suffix))
        continue;
      g_assert_null (found);
      found = g_build_filename (dir_path, name, NULL);
    }
  return found;
}

static void
test_corrupt_garbage (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (tmp, "catalog.sqlite", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  g_autofree char *garbage = g_malloc (8192);
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalog) catalog = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *moved_wal = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const char *warning;
  gsize length;

  for (guint i = 0; i < 8192; i++)
    garbage[i] = (char) g_rand_int_range (rand, 0, 256);
  g_file_set_contents (path, garbage, 8192, &error);
  g_assert_no_error (error);
  write_file (wal, "not a log either");

  catalog = open_ok (path, cache);
  warning = strata_catalog_get_warning (catalog);
  g_assert_nonnull (warning);
  g_test_message ("%s", warning);
  g_assert_nonnull (strstr (warning, path));

  /* Kept aside, byte for byte, with its WAL. */
  moved = find_moved (path, "");
  g_assert_nonnull (moved);
  g_assert_nonnull (strstr (warning, moved));
  g_file_get_contents (moved, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, length, garbage, 8192);
  moved_wal = find_moved (path, "-wal");
  g_assert_nonnull (moved_wal);
  g_clear_pointer (&contents, g_free);
  g_file_get_contents (moved_wal, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "not a log either");

  assert_works (catalog);
  g_clear_object (&catalog);

  /* The new catalog is sound: no warning the next time. */
  catalog = open_ok (path, cache);
  g_assert_null (strata_catalog_get_warning (catalog));
  g_clear_object (&catalog);

  strata_test_rmtree (tmp);
}

/* A real sqlite file whose schema page is damaged: sqlite opens it and
 * reports the damage when the schema is first read. */
static void
test_corrupt_schema (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *wal = NULL;
  gsize length;

  fixture_set_up (&f);
  add_complete (f.catalog, "lost", 1);
  /* The last connection closing puts the WAL back into the file. */
  g_clear_object (&f.catalog);
  wal = g_strconcat (f.path, "-wal", NULL);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));

  g_file_get_contents (f.path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >=, 4096);
  /* Keep the 100-byte header; scramble the rest of page 1. */
  for (gsize i = 100; i < 4096; i++)
    contents[i] = (char) (0xa5 ^ i);
  g_file_set_contents (f.path, contents, (gssize) length, &error);
  g_assert_no_error (error);

  f.catalog = open_ok (f.path, f.cache_dir);
  g_assert_nonnull (strata_catalog_get_warning (f.catalog));
  g_test_message ("%s", strata_catalog_get_warning (f.catalog));
  moved = find_moved (f.path, "");
  g_assert_nonnull (moved);
  g_assert_null (lookup (f.catalog, "lost", 1));
  assert_works (f.catalog);

  fixture_tear_down (&f);
}

static void
test_too_new (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalog) refused = NULL;
  g_autofree char *dir = NULL;

  fixture_set_up (&f);
  add_complete (f.catalog, "kept", 1);
  g_clear_object (&f.catalog);

  exec_sql (f.path, "PRAGMA user_version = 99");
  refused = strata_catalog_open (f.path, f.cache_dir, &error);
  g_assert_null (refused);
  g_assert_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_TOO_NEW);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, f.path));
  g_assert_nonnull (strstr (error->message, "99"));

  /* Left as it was. */
  g_assert_null (find_moved (f.path, ""));
  g_assert_cmpint (query_int (f.path, "PRAGMA user_version"), ==, 99);
  g_assert_cmpint (query_int (f.path, "SELECT count(*) FROM analysis"), ==, 1);

  fixture_tear_down (&f);
}

/* ---------------------------------------------------------------------- */
/* Threads and connections                                                */
/* ---------------------------------------------------------------------- */

#define N_SHARED_THREADS 4
#define N_OPERATIONS 200
#define N_KEYS 10

typedef struct
{
  StrataCatalog *catalog;
  guint          thread;
  GHashTable    *expected;   /* key → id of its complete entry */
} Worker;

static void
worker_check_lookup (Worker     *w,
                     const char *key)
{
  g_autoptr(StrataCatalogAnalysis) found = lookup (w->catalog, key, 1);
  gpointer expected_id;

  /* Only this thread writes its keys: what it finished is there, what it
   * forgot is not, whatever the others do meanwhile. */
  if (g_hash_table_lookup_extended (w->expected, key, NULL, &expected_id))
    {
      g_assert_nonnull (found);
      g_assert_cmpint (found->id, ==, GPOINTER_TO_SIZE (expected_id));
      g_assert_true (g_file_test (found->sht_path, G_FILE_TEST_IS_REGULAR));
    }
  else
    g_assert_null (found);
}

static gpointer
worker_run (gpointer data)
{
  Worker *w = data;

  for (guint i = 0; i < N_OPERATIONS; i++)
    {
      g_autofree char *key = g_strdup_printf ("t%u-k%u", w->thread, i % N_KEYS);
      g_autoptr(GError) error = NULL;

      switch (i % 5)
        {
        case 0:
          {
            gint64 id = add_complete (w->catalog, key, 1);

            g_hash_table_insert (w->expected, g_strdup (key), GSIZE_TO_POINTER ((gsize) id));
            worker_check_lookup (w, key);
          }
          break;

        case 1:
          worker_check_lookup (w, key);
          break;

        case 2:
          {
            g_autofree char *sync_key = g_strdup_printf ("sync-t%u-%u", w->thread, i);
            g_autoptr(GBytes) value = bytes_from_string (sync_key);

            g_assert_true (strata_sync_cache_store (STRATA_SYNC_CACHE (w->catalog), sync_key, value,
                                                    &error));
            g_assert_no_error (error);
            assert_cached (STRATA_SYNC_CACHE (w->catalog), sync_key, value);
          }
          break;

        case 3:
          {
            g_autoptr(GPtrArray) recent = strata_catalog_list_recent (w->catalog, 8, &error);

            g_assert_no_error (error);
            g_assert_cmpuint (recent->len, <=, 8);
            for (guint j = 1; j < recent->len; j++)
              g_assert_cmpint (((StrataCatalogAnalysis *) g_ptr_array_index (recent, j))->opened_us, <,
                               ((StrataCatalogAnalysis *) g_ptr_array_index (recent, j - 1))->opened_us);
            /* Everything is younger than an hour: nothing to prune. */
            g_assert_cmpuint (strata_catalog_prune (w->catalog, HOUR_US, &error), ==, 0);
            g_assert_no_error (error);
          }
          break;

        case 4:
          {
            /* A build that fails: begun (replacing the key's entry), then
             * forgotten. */
            g_autoptr(StrataCatalogAnalysis) begun = begin_ok (w->catalog, key, 1);
            g_autofree char *part = g_strconcat (begun->sht_path, ".part", NULL);

            g_hash_table_remove (w->expected, key);
            write_file (part, "half");
            g_assert_true (strata_catalog_forget_analysis (w->catalog, begun->id, &error));
            g_assert_no_error (error);
            g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
            worker_check_lookup (w, key);
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }
  return NULL;
}

static void
test_threads (void)
{
  Fixture f;
  g_autoptr(StrataCatalog) second = NULL;
  Worker workers[N_SHARED_THREADS + 1];
  GThread *threads[N_SHARED_THREADS + 1];
  g_autofree char *sht_dir = NULL;
  guint n_entries = 0;

  fixture_set_up (&f);
  /* Another connection to the same file, as another process would have. */
  second = open_ok (f.path, f.cache_dir);

  for (guint t = 0; t < G_N_ELEMENTS (workers); t++)
    {
      workers[t].catalog = t < N_SHARED_THREADS ? f.catalog : second;
      workers[t].thread = t;
      workers[t].expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    }
  for (guint t = 0; t < G_N_ELEMENTS (workers); t++)
    threads[t] = g_thread_new ("catalog-worker", worker_run, &workers[t]);
  for (guint t = 0; t < G_N_ELEMENTS (workers); t++)
    g_thread_join (threads[t]);

  /* Each connection sees what the other wrote, and every file on disk
   * belongs to an entry. */
  for (guint t = 0; t < G_N_ELEMENTS (workers); t++)
    {
      Worker cross = workers[t];

      cross.catalog = t < N_SHARED_THREADS ? second : f.catalog;
      for (guint k = 0; k < N_KEYS; k++)
        {
          g_autofree char *key = g_strdup_printf ("t%u-k%u", t, k);

          worker_check_lookup (&cross, key);
        }
      n_entries += g_hash_table_size (workers[t].expected);
      g_hash_table_unref (workers[t].expected);
    }
  g_assert_cmpuint (n_entries, >, 0);
  sht_dir = g_build_filename (f.cache_dir, "sht", NULL);
  g_assert_cmpuint (count_files (sht_dir, ".sht"), ==, n_entries);
  g_assert_cmpuint (count_files (sht_dir, ".part"), ==, 0);
  g_assert_cmpint (query_int (f.path, "SELECT count(*) FROM analysis"), ==, n_entries);
  g_assert_cmpint (query_int (f.path, "SELECT count(*) FROM sync_cache"), ==,
                   (N_SHARED_THREADS + 1) * (N_OPERATIONS / 5));

  g_clear_object (&second);
  fixture_tear_down (&f);
}

#define N_OPENERS 4

typedef struct
{
  const char *path;
  const char *cache_dir;
  guint       index;
} Opener;

static gpointer
opener_run (gpointer data)
{
  Opener *o = data;
  g_autoptr(StrataCatalog) catalog = open_ok (o->path, o->cache_dir);
  g_autoptr(GError) error = NULL;
  g_autofree char *key = g_strdup_printf ("opener-%u", o->index);
  g_autoptr(GBytes) value = bytes_from_string (key);

  g_assert_null (strata_catalog_get_warning (catalog));
  g_assert_true (strata_sync_cache_store (STRATA_SYNC_CACHE (catalog), key, value, &error));
  g_assert_no_error (error);
  add_complete (catalog, key, 1);
  return NULL;
}

/* Several processes starting at once on a catalog that does not exist
 * yet: one creates the schema, the others wait for it. */
static void
test_concurrent_open (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (tmp, "catalog.sqlite", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  Opener openers[N_OPENERS];
  GThread *threads[N_OPENERS];
  g_autoptr(StrataCatalog) catalog = NULL;

  for (guint i = 0; i < N_OPENERS; i++)
    {
      openers[i] = (Opener) { path, cache, i };
      threads[i] = g_thread_new ("catalog-opener", opener_run, &openers[i]);
    }
  for (guint i = 0; i < N_OPENERS; i++)
    g_thread_join (threads[i]);

  catalog = open_ok (path, cache);
  for (guint i = 0; i < N_OPENERS; i++)
    {
      g_autofree char *key = g_strdup_printf ("opener-%u", i);
      g_autoptr(GBytes) value = bytes_from_string (key);
      g_autoptr(StrataCatalogAnalysis) found = lookup (catalog, key, 1);

      assert_cached (STRATA_SYNC_CACHE (catalog), key, value);
      g_assert_nonnull (found);
    }
  g_assert_cmpint (query_int (path, "PRAGMA user_version"), ==, 1);

  g_clear_object (&catalog);
  strata_test_rmtree (tmp);
}

#define N_PROCESSES 3

/* Other processes: the same work as test_threads's workers, each in its
 * own process with its own catalog object, all starting together on a
 * catalog that does not exist yet. */
static void
test_processes (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (tmp, "catalog.sqlite", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  g_autofree char *sht_dir = g_build_filename (cache, "sht", NULL);
  g_autoptr(StrataCatalog) catalog = NULL;
  pid_t pids[N_PROCESSES];

  for (guint p = 0; p < N_PROCESSES; p++)
    {
      pids[p] = fork ();
      g_assert_cmpint (pids[p], >=, 0);
      if (pids[p] == 0)
        {
          Worker w = { open_ok (path, cache), p, NULL };

          w.expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          worker_run (&w);
          /* A failed assertion aborts, which the parent sees. */
          _exit (0);
        }
    }
  for (guint p = 0; p < N_PROCESSES; p++)
    {
      int status = 0;

      g_assert_cmpint (waitpid (pids[p], &status, 0), ==, pids[p]);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }

  /* Each worker ends with the keys whose last operation was a finished
   * analysis (k ≡ 0 mod 5), not those whose last one was forgotten. */
  catalog = open_ok (path, cache);
  for (guint p = 0; p < N_PROCESSES; p++)
    for (guint k = 0; k < N_KEYS; k++)
      {
        g_autofree char *key = g_strdup_printf ("t%u-k%u", p, k);
        g_autoptr(StrataCatalogAnalysis) found = lookup (catalog, key, 1);

        if (k % 5 == 0)
          g_assert_nonnull (found);
        else
          g_assert_null (found);
      }
  g_assert_cmpuint (count_files (sht_dir, ".sht"), ==, N_PROCESSES * 2);
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM sync_cache"), ==,
                   N_PROCESSES * (N_OPERATIONS / 5));

  g_clear_object (&catalog);
  strata_test_rmtree (tmp);
}

/* ---------------------------------------------------------------------- */
/* Unwritable places                                                      */
/* ---------------------------------------------------------------------- */

/* Opening @path fails with STRATA_CATALOG_ERROR_OPEN, naming @mention. */
static void
assert_open_fails (const char *path,
                   const char *cache_dir,
                   const char *mention)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalog) catalog = strata_catalog_open (path, cache_dir, &error);

  g_assert_null (catalog);
  g_assert_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_OPEN);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, mention));
}

/* A catalog opens whose cache folder cannot be made, but no analysis can
 * begin there. */
static void
assert_begin_fails (const char *path,
                    const char *cache_dir,
                    const char *mention)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataCatalog) catalog = open_ok (path, cache_dir);
  g_autoptr(StrataCatalogAnalysis) analysis = NULL;

  analysis = strata_catalog_begin_analysis (catalog, "k", 1, "name", NULL, &error);
  g_assert_null (analysis);
  g_assert_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, mention));
}

static void
test_not_a_folder (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *file = g_build_filename (tmp, "file", NULL);
  g_autofree char *path = g_build_filename (file, "catalog.sqlite", NULL);
  g_autofree char *deeper = g_build_filename (file, "sub", "catalog.sqlite", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  g_autofree char *usable = g_build_filename (tmp, "usable.sqlite", NULL);

  /* Fails for root too: nothing can be created below a regular file. */
  write_file (file, "");

  assert_open_fails (path, cache, file);
  assert_open_fails (deeper, cache, file);
  assert_begin_fails (usable, file, file);

  strata_test_rmtree (tmp);
}

#define PERMISSION_DIR_ENV "STRATA_TEST_CATALOG_DIR"

static void
permissions_child (void)
{
  const char *tmp = g_getenv (PERMISSION_DIR_ENV);
  g_autofree char *locked = g_build_filename (tmp, "locked", NULL);
  g_autofree char *probe = g_build_filename (locked, "probe", NULL);
  g_autofree char *in_locked = g_build_filename (locked, "catalog.sqlite", NULL);
  g_autofree char *below_locked = g_build_filename (locked, "sub", "catalog.sqlite", NULL);
  g_autofree char *open_dir = g_build_filename (tmp, "open", NULL);
  g_autofree char *usable = g_build_filename (open_dir, "catalog.sqlite", NULL);
  g_autofree char *verdict = g_build_filename (open_dir, "not-enforced", NULL);
  g_autofree char *readonly = g_build_filename (open_dir, "readonly.sqlite", NULL);

  strata_test_drop_root ();

  /* Whether this process can write where it should not: some
   * environments grant it whatever the user. The parent skips then. */
  if (g_file_set_contents (probe, "", 0, NULL))
    {
      write_file (verdict, "");
      return;
    }

  assert_open_fails (in_locked, open_dir, in_locked);
  assert_open_fails (below_locked, open_dir, locked);
  /* sqlite would open it for reading only, and fail at the first write. */
  assert_open_fails (readonly, open_dir, readonly);
  g_assert_null (find_moved (readonly, ""));
  assert_begin_fails (usable, locked, locked);
}

/* Permissions mean nothing to root, so the checks run in a subprocess
 * that gives root up (strata_test_drop_root()). */
static void
test_permissions (void)
{
  g_autofree char *tmp = NULL;
  g_autofree char *locked = NULL;
  g_autofree char *open_dir = NULL;
  g_autofree char *verdict = NULL;
  g_autofree char *readonly = NULL;
  g_autoptr(StrataCatalog) catalog = NULL;

  if (g_test_subprocess ())
    {
      permissions_child ();
      return;
    }

  tmp = strata_test_make_tmpdir ();
  locked = g_build_filename (tmp, "locked", NULL);
  open_dir = g_build_filename (tmp, "open", NULL);
  verdict = g_build_filename (open_dir, "not-enforced", NULL);
  g_assert_cmpint (g_mkdir (locked, 0555), ==, 0);
  g_assert_cmpint (g_mkdir (open_dir, 0777), ==, 0);
  /* Whatever the umask. */
  g_assert_cmpint (g_chmod (locked, 0555), ==, 0);
  g_assert_cmpint (g_chmod (open_dir, 0777), ==, 0);
  /* A sound catalog that the child may read but not write. */
  readonly = g_build_filename (open_dir, "readonly.sqlite", NULL);
  catalog = open_ok (readonly, open_dir);
  add_complete (catalog, "k", 1);
  g_clear_object (&catalog);
  g_assert_cmpint (g_chmod (readonly, 0444), ==, 0);

  g_setenv (PERMISSION_DIR_ENV, tmp, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv (PERMISSION_DIR_ENV);
  g_test_trap_assert_passed ();

  if (g_file_test (verdict, G_FILE_TEST_EXISTS))
    g_test_skip ("This process can write into a read-only folder: permissions are not enforced");
  strata_test_rmtree (tmp);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/strata/catalog/open", test_open);
  g_test_add_func ("/strata/catalog/default-paths", test_default_paths);
  g_test_add_func ("/strata/catalog/analysis/round-trip", test_round_trip);
  g_test_add_func ("/strata/catalog/analysis/no-roots", test_no_roots);
  g_test_add_func ("/strata/catalog/analysis/lookup-ignores", test_lookup_ignores);
  g_test_add_func ("/strata/catalog/analysis/begin-replaces", test_begin_replaces);
  g_test_add_func ("/strata/catalog/analysis/forget", test_forget);
  g_test_add_func ("/strata/catalog/analysis/missing-file", test_missing_file);
  g_test_add_func ("/strata/catalog/analysis/finish-errors", test_finish_errors);
  g_test_add_func ("/strata/catalog/recent", test_recent);
  g_test_add_func ("/strata/catalog/prune", test_prune);
  g_test_add_func ("/strata/catalog/sync-cache", test_sync_cache);
  g_test_add_func ("/strata/catalog/reopen", test_reopen);
  g_test_add_func ("/strata/catalog/corrupt/garbage", test_corrupt_garbage);
  g_test_add_func ("/strata/catalog/corrupt/schema", test_corrupt_schema);
  g_test_add_func ("/strata/catalog/too-new", test_too_new);
  g_test_add_func ("/strata/catalog/concurrency/threads", test_threads);
  g_test_add_func ("/strata/catalog/concurrency/open", test_concurrent_open);
  g_test_add_func ("/strata/catalog/concurrency/processes", test_processes);
  g_test_add_func ("/strata/catalog/unwritable/not-a-folder", test_not_a_folder);
  g_test_add_func ("/strata/catalog/unwritable/permissions", test_permissions);

  return g_test_run ();
}
