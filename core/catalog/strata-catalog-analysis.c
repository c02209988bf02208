/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-catalog"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "strata-catalog-private.h"

/*
 * The analyses: rows of the analysis table and the State History Tree
 * files they name. A row is committed before its file exists (the caller
 * writes the file after strata_catalog_begin_analysis() returns), and
 * files are removed only after the rows that named them are gone, so a
 * file in <cache>/sht that no row names is one that nobody will use.
 */

/**
 * strata_catalog_analysis_free:
 *
 * Frees an analysis entry returned by the catalog.
 */
void
strata_catalog_analysis_free (StrataCatalogAnalysis *analysis)
{
  if (analysis == NULL)
    return;

  g_free (analysis->key);
  g_free (analysis->name);
  g_strfreev (analysis->roots);
  g_free (analysis->sht_path);
  g_free (analysis->summary_json);
  g_free (analysis);
}

static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

/* Reads a row of STRATA_CATALOG_ANALYSIS_COLUMNS; the roots come from
 * load_roots(). */
static StrataCatalogAnalysis *
analysis_from_row (sqlite3_stmt *stmt)
{
  StrataCatalogAnalysis *analysis = g_new0 (StrataCatalogAnalysis, 1);

  analysis->id = sqlite3_column_int64 (stmt, 0);
  analysis->key = column_dup (stmt, 1);
  analysis->name = column_dup (stmt, 2);
  analysis->analysis_version = sqlite3_column_int (stmt, 3);
  analysis->sht_path = column_dup (stmt, 4);
  analysis->summary_json = column_dup (stmt, 5);
  analysis->complete = sqlite3_column_int (stmt, 6) != 0;
  analysis->created_us = sqlite3_column_int64 (stmt, 7);
  analysis->opened_us = sqlite3_column_int64 (stmt, 8);
  analysis->sht_bytes = (guint64) sqlite3_column_int64 (stmt, 9);
  return analysis;
}

static gboolean
load_roots (StrataCatalog          *self,
            StrataCatalogAnalysis  *analysis,
            const char             *what,
            GError                **error)
{
  g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_ROOTS];
  g_autoptr(GStrvBuilder) roots = g_strv_builder_new ();
  int rc;

  sqlite3_bind_int64 (stmt, 1, analysis->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (roots, (const char *) sqlite3_column_text (stmt, 0));
  if (rc != SQLITE_DONE)
    {
      _strata_catalog_set_error (self, error, what);
      return FALSE;
    }

  g_strfreev (analysis->roots);
  analysis->roots = g_strv_builder_end (roots);
  return TRUE;
}

/* The time to record as "opened now": later than any other entry's, so
 * that the recent list has the order of the calls even when the clock
 * has not moved between them. In a write transaction. */
static gboolean
next_opened_us (StrataCatalog  *self,
                gint64         *opened_us,
                const char     *what,
                GError        **error)
{
  g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_MAX_OPENED];

  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      _strata_catalog_set_error (self, error, what);
      return FALSE;
    }
  *opened_us = MAX (g_get_real_time (), sqlite3_column_int64 (stmt, 0) + 1);
  return TRUE;
}

static gboolean
delete_row (StrataCatalog  *self,
            gint64          id,
            const char     *what,
            GError        **error)
{
  g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_DELETE];

  sqlite3_bind_int64 (stmt, 1, id);
  return _strata_catalog_step_done (self, stmt, what, error);
}

static gboolean
delete_rows (StrataCatalog  *self,
             GArray         *ids,
             const char     *what,
             GError        **error)
{
  for (guint i = 0; i < ids->len; i++)
    if (!delete_row (self, g_array_index (ids, gint64, i), what, error))
      return FALSE;
  return TRUE;
}

/* Removes an analysis's file and what may be left of its writing. */
static gboolean
remove_files (const char  *sht_path,
              GError     **error)
{
  g_autofree char *part = g_strconcat (sht_path, ".part", NULL);
  const char *paths[] = { sht_path, part };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    if (g_unlink (paths[i]) != 0 && errno != ENOENT)
      {
        int e = errno;

        g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_IO,
                     "Cannot remove cache file: path=\"%s\": %s", paths[i], g_strerror (e));
        return FALSE;
      }
  return TRUE;
}

/* For files whose rows are already gone: one that cannot be removed now
 * is an orphan that strata_catalog_prune() will find. */
static void
remove_files_quietly (GPtrArray *sht_paths)
{
  for (guint i = 0; i < sht_paths->len; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!remove_files (g_ptr_array_index (sht_paths, i), &error))
        g_debug ("%s", error->message);
    }
}

static gboolean
not_found (StrataCatalog  *self,
           gint64          id,
           const char     *what,
           GError        **error)
{
  g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_NOT_FOUND,
               "%s: catalog=\"%s\": no analysis has id %" G_GINT64_FORMAT,
               what, self->path, id);
  return FALSE;
}

/* The file named by the entry @id into @sht_path; FALSE with
 * STRATA_CATALOG_ERROR_NOT_FOUND when there is no such entry. */
static gboolean
find_path (StrataCatalog  *self,
           gint64          id,
           char          **sht_path,
           const char     *what,
           GError        **error)
{
  g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_FIND_PATH];
  int rc;

  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return not_found (self, id, what, error);
  if (rc != SQLITE_ROW)
    {
      _strata_catalog_set_error (self, error, what);
      return FALSE;
    }
  *sht_path = column_dup (stmt, 0);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Lookup                                                                 */
/* ---------------------------------------------------------------------- */

static gboolean
lookup_in_transaction (StrataCatalog           *self,
                       const char              *key,
                       int                      analysis_version,
                       StrataCatalogAnalysis  **result,
                       GPtrArray               *to_remove,
                       const char              *what,
                       GError                 **error)
{
  g_autoptr(StrataCatalogAnalysis) analysis = NULL;
  g_auto(StrataCatalogStmtUse) touch = NULL;

  {
    g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_FIND_COMPLETE];
    int rc;

    sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 2, analysis_version);
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_DONE)
      return TRUE;
    if (rc != SQLITE_ROW)
      {
        _strata_catalog_set_error (self, error, what);
        return FALSE;
      }
    analysis = analysis_from_row (stmt);
  }

  /* The cache folder is the user's to clean: an entry whose file is gone
   * is of no use any more. */
  if (!g_file_test (analysis->sht_path, G_FILE_TEST_IS_REGULAR))
    {
      g_ptr_array_add (to_remove, g_strdup (analysis->sht_path));
      return delete_row (self, analysis->id, what, error);
    }

  if (!next_opened_us (self, &analysis->opened_us, what, error)
      || !load_roots (self, analysis, what, error))
    return FALSE;

  touch = self->stmts[STMT_TOUCH];
  sqlite3_bind_int64 (touch, 1, analysis->id);
  sqlite3_bind_int64 (touch, 2, analysis->opened_us);
  if (!_strata_catalog_step_done (self, touch, what, error))
    return FALSE;

  *result = g_steal_pointer (&analysis);
  return TRUE;
}

/**
 * strata_catalog_lookup_analysis:
 * @key: the identity of the traces and options
 * @analysis_version: the version of the analysis the caller runs
 *
 * Finds the complete analysis of @key made by @analysis_version, and
 * records that it was opened now. An entry still being built is never
 * returned, nor one whose file no longer exists: that one is forgotten.
 *
 * Returns: (transfer full) (nullable): the entry; %NULL when there is
 *   none (@error unset) or when the catalog cannot be read (@error set)
 */
StrataCatalogAnalysis *
strata_catalog_lookup_analysis (StrataCatalog  *self,
                                const char     *key,
                                int             analysis_version,
                                GError        **error)
{
  const char *what = "Cannot look up analysis";
  g_autoptr(StrataCatalogAnalysis) analysis = NULL;
  g_autoptr(GPtrArray) to_remove = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GMutexLocker) locker = NULL;
  gboolean ok;

  g_return_val_if_fail (STRATA_IS_CATALOG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  locker = g_mutex_locker_new (&self->mutex);
  if (!_strata_catalog_begin (self, TRUE, what, error))
    return NULL;
  ok = lookup_in_transaction (self, key, analysis_version, &analysis, to_remove, what, error);
  if (!_strata_catalog_end (self, ok, what, error))
    return NULL;

  remove_files_quietly (to_remove);
  return g_steal_pointer (&analysis);
}

/* ---------------------------------------------------------------------- */
/* Begin, finish, forget                                                  */
/* ---------------------------------------------------------------------- */

/* Removes every entry of @key, adding their files to @to_remove. */
static gboolean
delete_key (StrataCatalog  *self,
            const char     *key,
            GPtrArray      *to_remove,
            const char     *what,
            GError        **error)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  {
    g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_FIND_BY_KEY];
    int rc;

    /* Collected first: rows deleted under a running SELECT of the same
     * table are undefined behaviour in sqlite. */
    sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      {
        gint64 id = sqlite3_column_int64 (stmt, 0);

        g_array_append_val (ids, id);
        g_ptr_array_add (to_remove, column_dup (stmt, 1));
      }
    if (rc != SQLITE_DONE)
      {
        _strata_catalog_set_error (self, error, what);
        return FALSE;
      }
  }

  return delete_rows (self, ids, what, error);
}

/* Whether @sht_path is free: neither in the catalog nor on disk. */
static gboolean
path_is_free (StrataCatalog  *self,
              const char     *sht_path,
              gboolean       *is_free,
              const char     *what,
              GError        **error)
{
  g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_PATH_TAKEN];
  g_autofree char *part = g_strconcat (sht_path, ".part", NULL);
  int rc;

  sqlite3_bind_text (stmt, 1, sht_path, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      _strata_catalog_set_error (self, error, what);
      return FALSE;
    }
  *is_free = rc == SQLITE_DONE
             && !g_file_test (sht_path, G_FILE_TEST_EXISTS)
             && !g_file_test (part, G_FILE_TEST_EXISTS);
  return TRUE;
}

static gboolean
insert_analysis (StrataCatalog          *self,
                 StrataCatalogAnalysis  *analysis,
                 const char             *what,
                 GError                **error)
{
  {
    g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_INSERT];

    sqlite3_bind_text (stmt, 1, analysis->key, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, analysis->name, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 3, analysis->analysis_version);
    sqlite3_bind_text (stmt, 4, analysis->sht_path, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 5, analysis->created_us);
    sqlite3_bind_int64 (stmt, 6, analysis->opened_us);
    if (!_strata_catalog_step_done (self, stmt, what, error))
      return FALSE;
    analysis->id = sqlite3_last_insert_rowid (self->db);
  }

  for (guint i = 0; analysis->roots[i] != NULL; i++)
    {
      g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_INSERT_ROOT];

      sqlite3_bind_int64 (stmt, 1, analysis->id);
      sqlite3_bind_int (stmt, 2, (int) i);
      sqlite3_bind_text (stmt, 3, analysis->roots[i], -1, SQLITE_STATIC);
      if (!_strata_catalog_step_done (self, stmt, what, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
begin_in_transaction (StrataCatalog          *self,
                      StrataCatalogAnalysis  *analysis,
                      GPtrArray              *to_remove,
                      const char             *what,
                      GError                **error)
{
  gboolean is_free = FALSE;

  if (!delete_key (self, analysis->key, to_remove, what, error))
    return FALSE;

  /* 64 random bits: a collision is all but impossible, but checking is
   * cheap and a shared cache folder is not ours alone. */
  for (guint tries = 0; !is_free; tries++)
    {
      g_autofree char *name = g_strdup_printf ("%08x%08x.sht", g_rand_int (self->rand),
                                                g_rand_int (self->rand));

      if (tries == 16)
        {
          g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_IO,
                       "%s: catalog=\"%s\": no free file name in \"%s\"",
                       what, self->path, self->sht_dir);
          return FALSE;
        }
      g_free (analysis->sht_path);
      analysis->sht_path = g_build_filename (self->sht_dir, name, NULL);
      if (!path_is_free (self, analysis->sht_path, &is_free, what, error))
        return FALSE;
    }

  analysis->created_us = g_get_real_time ();
  if (!next_opened_us (self, &analysis->opened_us, what, error))
    return FALSE;
  return insert_analysis (self, analysis, what, error);
}

/**
 * strata_catalog_begin_analysis:
 * @key: the identity of the traces and options
 * @analysis_version: the version of the analysis about to run
 * @name: what to show the user, e.g. the folder's name
 * @roots: (array zero-terminated=1) (nullable): the paths the user opened
 *
 * Starts a new entry, before its state history is built: removes the
 * other entries of @key (whatever their version) and their files, and
 * picks a new file name in the cache folder (`<cache>/sht/<16 hex
 * digits>.sht`). The caller writes that file, possibly through
 * `<sht_path>.part` and a rename, then calls
 * strata_catalog_finish_analysis() or, when building failed or was
 * cancelled, strata_catalog_forget_analysis(). Until then the entry is
 * incomplete: lookups ignore it, and strata_catalog_prune() removes it
 * once it is old.
 *
 * If another process begins the same @key meanwhile, it removes this
 * entry: finishing it then fails with %STRATA_CATALOG_ERROR_NOT_FOUND.
 *
 * Returns: (transfer full): the new, incomplete entry, or %NULL with
 *   @error set
 */
StrataCatalogAnalysis *
strata_catalog_begin_analysis (StrataCatalog       *self,
                               const char          *key,
                               int                  analysis_version,
                               const char          *name,
                               const char * const  *roots,
                               GError             **error)
{
  const char *what = "Cannot record new analysis";
  g_autoptr(StrataCatalogAnalysis) analysis = NULL;
  g_autoptr(GPtrArray) to_remove = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GMutexLocker) locker = NULL;
  gboolean ok;

  g_return_val_if_fail (STRATA_IS_CATALOG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_mkdir_with_parents (self->sht_dir, 0700) != 0)
    {
      int e = errno;

      g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_IO,
                   "Cannot create cache folder: path=\"%s\": %s", self->sht_dir, g_strerror (e));
      return NULL;
    }

  analysis = g_new0 (StrataCatalogAnalysis, 1);
  analysis->key = g_strdup (key);
  analysis->name = g_strdup (name);
  analysis->roots = roots != NULL ? g_strdupv ((char **) roots) : g_new0 (char *, 1);
  analysis->analysis_version = analysis_version;

  locker = g_mutex_locker_new (&self->mutex);
  if (!_strata_catalog_begin (self, TRUE, what, error))
    return NULL;
  ok = begin_in_transaction (self, analysis, to_remove, what, error);
  if (!_strata_catalog_end (self, ok, what, error))
    return NULL;

  remove_files_quietly (to_remove);
  return g_steal_pointer (&analysis);
}

static gboolean
finish_in_transaction (StrataCatalog  *self,
                       gint64          id,
                       const char     *summary_json,
                       const char     *what,
                       GError        **error)
{
  g_auto(StrataCatalogStmtUse) stmt = NULL;
  g_autofree char *sht_path = NULL;
  gint64 opened_us;
  GStatBuf st;

  if (!find_path (self, id, &sht_path, what, error))
    return FALSE;

  /* Complete means usable: an entry without its file would only be
   * forgotten at the next lookup. */
  if (g_stat (sht_path, &st) != 0)
    {
      int e = errno;

      g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_IO,
                   "%s: catalog=\"%s\": file=\"%s\": %s", what, self->path, sht_path, g_strerror (e));
      return FALSE;
    }

  if (!next_opened_us (self, &opened_us, what, error))
    return FALSE;

  stmt = self->stmts[STMT_FINISH];
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, summary_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, (gint64) st.st_size);
  sqlite3_bind_int64 (stmt, 4, opened_us);
  return _strata_catalog_step_done (self, stmt, what, error);
}

/**
 * strata_catalog_finish_analysis:
 * @id: the entry's id, from strata_catalog_begin_analysis()
 * @summary_json: what to keep with it (a JSON text, by convention)
 *
 * Marks the entry complete, once its file is written: records the
 * summary and the file's size, and that it was opened now.
 *
 * Returns: %TRUE on success; %FALSE with @error set, with
 *   %STRATA_CATALOG_ERROR_NOT_FOUND when there is no entry @id (it was
 *   forgotten or replaced) and %STRATA_CATALOG_ERROR_IO when its file
 *   does not exist
 */
gboolean
strata_catalog_finish_analysis (StrataCatalog  *self,
                                gint64          id,
                                const char     *summary_json,
                                GError        **error)
{
  const char *what = "Cannot finish analysis";
  g_autoptr(GMutexLocker) locker = NULL;
  gboolean ok;

  g_return_val_if_fail (STRATA_IS_CATALOG (self), FALSE);
  g_return_val_if_fail (summary_json != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&self->mutex);
  if (!_strata_catalog_begin (self, TRUE, what, error))
    return FALSE;
  ok = finish_in_transaction (self, id, summary_json, what, error);
  return _strata_catalog_end (self, ok, what, error);
}

/**
 * strata_catalog_forget_analysis:
 * @id: the entry's id
 *
 * Removes the entry and its file (and `<sht_path>.part`): when its file
 * turned out to be damaged, or building it failed or was cancelled.
 *
 * Returns: %TRUE on success; %FALSE with @error set, with
 *   %STRATA_CATALOG_ERROR_NOT_FOUND when there is no entry @id, and
 *   %STRATA_CATALOG_ERROR_IO when the entry is gone but a file could not
 *   be removed (strata_catalog_prune() will try again)
 */
gboolean
strata_catalog_forget_analysis (StrataCatalog  *self,
                                gint64          id,
                                GError        **error)
{
  const char *what = "Cannot forget analysis";
  g_autoptr(GMutexLocker) locker = NULL;
  g_autofree char *sht_path = NULL;
  gboolean ok;

  g_return_val_if_fail (STRATA_IS_CATALOG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&self->mutex);
  if (!_strata_catalog_begin (self, TRUE, what, error))
    return FALSE;
  ok = find_path (self, id, &sht_path, what, error)
       && delete_row (self, id, what, error);
  if (!_strata_catalog_end (self, ok, what, error))
    return FALSE;

  return remove_files (sht_path, error);
}

/* ---------------------------------------------------------------------- */
/* Recent list and pruning                                                */
/* ---------------------------------------------------------------------- */

static gboolean
list_in_transaction (StrataCatalog  *self,
                     guint           limit,
                     GPtrArray      *list,
                     const char     *what,
                     GError        **error)
{
  {
    g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_RECENT];
    int rc;

    /* A negative LIMIT is no limit. */
    sqlite3_bind_int64 (stmt, 1, limit > 0 ? (gint64) limit : -1);
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      g_ptr_array_add (list, analysis_from_row (stmt));
    if (rc != SQLITE_DONE)
      {
        _strata_catalog_set_error (self, error, what);
        return FALSE;
      }
  }

  for (guint i = 0; i < list->len; i++)
    if (!load_roots (self, g_ptr_array_index (list, i), what, error))
      return FALSE;
  return TRUE;
}

/**
 * strata_catalog_list_recent:
 * @limit: the most entries to return, 0 for all
 *
 * The complete entries, most recently opened first: for a list of recent
 * archives. Their files are not checked (strata_catalog_lookup_analysis()
 * does that when one is opened again).
 *
 * Returns: (transfer full) (element-type StrataCatalogAnalysis):
 *   the entries, or %NULL with @error set
 */
GPtrArray *
strata_catalog_list_recent (StrataCatalog  *self,
                            guint           limit,
                            GError        **error)
{
  const char *what = "Cannot list recent analyses";
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GMutexLocker) locker = NULL;
  gboolean ok;

  g_return_val_if_fail (STRATA_IS_CATALOG (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  list = g_ptr_array_new_with_free_func ((GDestroyNotify) strata_catalog_analysis_free);

  locker = g_mutex_locker_new (&self->mutex);
  /* One snapshot for the entries and their roots. */
  if (!_strata_catalog_begin (self, FALSE, what, error))
    return NULL;
  ok = list_in_transaction (self, limit, list, what, error);
  if (!_strata_catalog_end (self, ok, what, error))
    return NULL;

  return g_steal_pointer (&list);
}

/* When a file was last written, rounded up to the second: a file written
 * within the last second must not look older than it is. 0 if it does
 * not exist. */
static gint64
modified_us (const char *path)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return 0;
  return ((gint64) st.st_mtime + 1) * G_USEC_PER_SEC;
}

/* An entry still being built may be older than @cutoff_us (a long
 * analysis) but it keeps writing its file. */
static gboolean
files_idle_since (const char *sht_path,
                  gint64      cutoff_us)
{
  g_autofree char *part = g_strconcat (sht_path, ".part", NULL);

  return modified_us (sht_path) < cutoff_us && modified_us (part) < cutoff_us;
}

static gboolean
prune_entries_in_transaction (StrataCatalog  *self,
                              gint64          cutoff_us,
                              GPtrArray      *to_remove,
                              guint          *n_removed,
                              const char     *what,
                              GError        **error)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  {
    g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_STALE];
    int rc;

    sqlite3_bind_int64 (stmt, 1, cutoff_us);
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      {
        const char *sht_path = (const char *) sqlite3_column_text (stmt, 1);
        gint64 id = sqlite3_column_int64 (stmt, 0);

        if (files_idle_since (sht_path, cutoff_us))
          {
            g_array_append_val (ids, id);
            g_ptr_array_add (to_remove, g_strdup (sht_path));
          }
      }
    if (rc != SQLITE_DONE)
      {
        _strata_catalog_set_error (self, error, what);
        return FALSE;
      }
  }

  if (!delete_rows (self, ids, what, error))
    return FALSE;
  *n_removed += ids->len;
  return TRUE;
}

/* Names the catalog gives: 16 hex digits, then .sht or .sht.part. Other
 * files in the folder are not ours to remove. */
static gboolean
is_sht_name (const char *name)
{
  for (guint i = 0; i < 16; i++)
    if (!g_ascii_isxdigit (name[i]))
      return FALSE;
  return g_str_equal (name + 16, ".sht") || g_str_equal (name + 16, ".sht.part");
}

/* Files in the sht folder that no entry names, untouched since
 * @cutoff_us. The folder is listed before the catalog is asked: a file
 * appears only after its entry is committed, so one listed here whose
 * entry is missing has no entry to come. */
static gboolean
prune_orphans (StrataCatalog  *self,
               gint64          cutoff_us,
               guint          *n_removed,
               const char     *what,
               GError        **error)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = g_dir_open (self->sht_dir, 0, NULL);
  const char *name;

  if (dir == NULL)
    return TRUE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;

      if (!is_sht_name (name))
        continue;
      path = g_build_filename (self->sht_dir, name, NULL);
      if (modified_us (path) < cutoff_us)
        g_ptr_array_add (candidates, g_steal_pointer (&path));
    }

  for (guint i = 0; i < candidates->len; i++)
    {
      const char *path = g_ptr_array_index (candidates, i);
      g_autofree char *sht_path = g_strdup (path);
      gboolean named;

      if (g_str_has_suffix (sht_path, ".part"))
        sht_path[strlen (sht_path) - strlen (".part")] = '\0';

      {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
        g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_PATH_TAKEN];
        int rc;

        sqlite3_bind_text (stmt, 1, sht_path, -1, SQLITE_STATIC);
        rc = sqlite3_step (stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
          {
            _strata_catalog_set_error (self, error, what);
            return FALSE;
          }
        named = rc == SQLITE_ROW;
      }

      /* One that cannot be removed is tried again next time. */
      if (!named && g_unlink (path) == 0)
        (*n_removed)++;
    }
  return TRUE;
}

/**
 * strata_catalog_prune:
 * @max_age_us: how long an entry may stay incomplete, in microseconds
 *
 * Cleans up after processes that stopped while building an analysis:
 * removes the incomplete entries begun more than @max_age_us ago whose
 * files were not written since either, and their files; then the files
 * in `<cache>/sht` that no entry names and that were not written in the
 * last @max_age_us (so that a file another catalog or process is about
 * to record is left alone). Entries being built by a live process are
 * younger than @max_age_us, or their files are: choose it longer than
 * an analysis can go without writing.
 *
 * Files that cannot be removed are left for the next time.
 *
 * Returns: how many entries and orphan files were removed; 0 with @error
 *   set when the catalog cannot be read or written
 */
guint
strata_catalog_prune (StrataCatalog  *self,
                      gint64          max_age_us,
                      GError        **error)
{
  const char *what = "Cannot prune catalog";
  g_autoptr(GPtrArray) to_remove = g_ptr_array_new_with_free_func (g_free);
  gint64 cutoff_us = g_get_real_time () - MAX (max_age_us, 0);
  guint n_removed = 0;

  g_return_val_if_fail (STRATA_IS_CATALOG (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
    gboolean ok;

    if (!_strata_catalog_begin (self, TRUE, what, error))
      return 0;
    ok = prune_entries_in_transaction (self, cutoff_us, to_remove, &n_removed, what, error);
    if (!_strata_catalog_end (self, ok, what, error))
      return 0;
  }
  remove_files_quietly (to_remove);

  if (!prune_orphans (self, cutoff_us, &n_removed, what, error))
    return 0;
  return n_removed;
}
