/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-catalog"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "strata-catalog-private.h"

/*
 * The catalog: one sqlite3 file (catalog.sqlite in the user data folder),
 * in WAL mode so that several processes can use it at once. Its schema
 * version is PRAGMA user_version; migrations[] below takes any older file
 * to the current one, and a newer file is refused, never changed.
 *
 * Schema 1:
 *
 *   analysis        one analysed experiment (StrataCatalogAnalysis)
 *     id              INTEGER PRIMARY KEY AUTOINCREMENT: never reused, so
 *                     that an id kept by a caller cannot name a newer entry
 *     key             the caller's identity of traces + options
 *     name            for display
 *     analysis_version
 *     sht_path        absolute path of its State History Tree file (UNIQUE)
 *     summary_json    NULL until complete
 *     complete        0 while it is built, 1 once finished
 *     created_us, opened_us, sht_bytes
 *   analysis_root   the paths the user opened for an analysis, in order
 *     (analysis_id → analysis.id ON DELETE CASCADE, position, path)
 *   sync_cache      StrataSyncCache: key TEXT PRIMARY KEY, value BLOB,
 *                   stored_us
 *
 * The files themselves live in <cache_dir>/sht/<16 hex digits>.sht;
 * strata-catalog-analysis.c keeps them and the rows in step.
 */

static const char * const migrations[] = {
  /* 0 → 1 */
  "CREATE TABLE analysis ("
  "  id               INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  key              TEXT NOT NULL,"
  "  name             TEXT NOT NULL,"
  "  analysis_version INTEGER NOT NULL,"
  "  sht_path         TEXT NOT NULL UNIQUE,"
  "  summary_json     TEXT,"
  "  complete         INTEGER NOT NULL DEFAULT 0,"
  "  created_us       INTEGER NOT NULL,"
  "  opened_us        INTEGER NOT NULL,"
  "  sht_bytes        INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX analysis_by_key ON analysis (key, analysis_version);"
  "CREATE INDEX analysis_by_opened ON analysis (opened_us);"
  "CREATE TABLE analysis_root ("
  "  analysis_id INTEGER NOT NULL REFERENCES analysis (id) ON DELETE CASCADE,"
  "  position    INTEGER NOT NULL,"
  "  path        TEXT NOT NULL,"
  "  PRIMARY KEY (analysis_id, position)"
  ") WITHOUT ROWID;"
  "CREATE TABLE sync_cache ("
  "  key       TEXT PRIMARY KEY,"
  "  value     BLOB NOT NULL,"
  "  stored_us INTEGER NOT NULL"
  ");",
};

#define SCHEMA_VERSION ((int) G_N_ELEMENTS (migrations))

/* How long a statement waits for another process's transaction. */
#define BUSY_TIMEOUT_MS 5000

static const char * const stmt_sql[N_STMTS] = {
  [STMT_BEGIN_READ] = "BEGIN",
  /* Writers take the write lock first: a deferred transaction that reads
   * and then writes can fail with SQLITE_BUSY at once, without waiting. */
  [STMT_BEGIN_WRITE] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  [STMT_SYNC_LOOKUP] = "SELECT value FROM sync_cache WHERE key = ?1",
  [STMT_SYNC_STORE] =
    "INSERT INTO sync_cache (key, value, stored_us) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value, stored_us = excluded.stored_us",
  [STMT_FIND_COMPLETE] =
    "SELECT " STRATA_CATALOG_ANALYSIS_COLUMNS " FROM analysis"
    " WHERE key = ?1 AND analysis_version = ?2 AND complete = 1"
    " ORDER BY id DESC LIMIT 1",
  [STMT_FIND_PATH] = "SELECT sht_path FROM analysis WHERE id = ?1",
  [STMT_FIND_BY_KEY] = "SELECT id, sht_path FROM analysis WHERE key = ?1",
  [STMT_PATH_TAKEN] = "SELECT 1 FROM analysis WHERE sht_path = ?1",
  [STMT_MAX_OPENED] = "SELECT coalesce(max(opened_us), 0) FROM analysis",
  [STMT_INSERT] =
    "INSERT INTO analysis (key, name, analysis_version, sht_path, created_us, opened_us)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [STMT_INSERT_ROOT] = "INSERT INTO analysis_root (analysis_id, position, path) VALUES (?1, ?2, ?3)",
  [STMT_ROOTS] = "SELECT path FROM analysis_root WHERE analysis_id = ?1 ORDER BY position",
  [STMT_TOUCH] = "UPDATE analysis SET opened_us = ?2 WHERE id = ?1",
  [STMT_FINISH] =
    "UPDATE analysis SET complete = 1, summary_json = ?2, sht_bytes = ?3, opened_us = ?4"
    " WHERE id = ?1",
  [STMT_DELETE] = "DELETE FROM analysis WHERE id = ?1",
  [STMT_RECENT] =
    "SELECT " STRATA_CATALOG_ANALYSIS_COLUMNS " FROM analysis"
    " WHERE complete = 1 ORDER BY opened_us DESC, id DESC LIMIT ?1",
  [STMT_STALE] = "SELECT id, sht_path FROM analysis WHERE complete = 0 AND created_us < ?1",
};

static void strata_catalog_sync_cache_iface_init (StrataSyncCacheInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (StrataCatalog, strata_catalog, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (STRATA_TYPE_SYNC_CACHE,
                                                      strata_catalog_sync_cache_iface_init))

G_DEFINE_QUARK (strata-catalog-error-quark, strata_catalog_error)

/* ---------------------------------------------------------------------- */
/* Errors and transactions                                                */
/* ---------------------------------------------------------------------- */

/* sqlite's message for the last failure on the connection, with the
 * system's reason when a file could not be opened or written. */
static char *
describe_sqlite_error (StrataCatalog *self)
{
  int rc, sys;

  if (self->db == NULL)
    return g_strdup (sqlite3_errstr (SQLITE_NOMEM));

  rc = sqlite3_errcode (self->db) & 0xff;
  sys = sqlite3_system_errno (self->db);
  if (sys != 0 && (rc == SQLITE_CANTOPEN || rc == SQLITE_IOERR))
    return g_strdup_printf ("%s (%s)", sqlite3_errmsg (self->db), g_strerror (sys));
  return g_strdup (sqlite3_errmsg (self->db));
}

static gboolean
is_damage (int rc)
{
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* Sets @error from the connection's last failure. Called with the mutex
 * held, right after the failing call. */
void
_strata_catalog_set_error (StrataCatalog  *self,
                           GError        **error,
                           const char     *what)
{
  g_autofree char *reason = describe_sqlite_error (self);
  int code = is_damage (sqlite3_errcode (self->db)) ? STRATA_CATALOG_ERROR_CORRUPT
                                                     : STRATA_CATALOG_ERROR_IO;

  g_set_error (error, STRATA_CATALOG_ERROR, code,
               "%s: catalog=\"%s\": %s", what, self->path, reason);
}

gboolean
_strata_catalog_step_done (StrataCatalog  *self,
                           sqlite3_stmt   *stmt,
                           const char     *what,
                           GError        **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _strata_catalog_set_error (self, error, what);
      return FALSE;
    }
  return TRUE;
}

/* Starts a transaction; @write takes the write lock at once (waiting up
 * to the busy timeout for other processes). */
gboolean
_strata_catalog_begin (StrataCatalog  *self,
                       gboolean        write,
                       const char     *what,
                       GError        **error)
{
  g_auto(StrataCatalogStmtUse) stmt = self->stmts[write ? STMT_BEGIN_WRITE : STMT_BEGIN_READ];

  return _strata_catalog_step_done (self, stmt, what, error);
}

/* Commits when @ok, otherwise rolls back (and returns FALSE: @error was
 * set by what failed). */
gboolean
_strata_catalog_end (StrataCatalog  *self,
                     gboolean        ok,
                     const char     *what,
                     GError        **error)
{
  if (ok)
    {
      g_auto(StrataCatalogStmtUse) commit = self->stmts[STMT_COMMIT];

      if (_strata_catalog_step_done (self, commit, what, error))
        return TRUE;
    }

  /* Nothing to report if this fails too: the first error says why, and
   * sqlite rolls back by itself after some errors. */
  if (!sqlite3_get_autocommit (self->db))
    {
      g_auto(StrataCatalogStmtUse) rollback = self->stmts[STMT_ROLLBACK];

      sqlite3_step (rollback);
    }
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* Opening                                                                */
/* ---------------------------------------------------------------------- */

static gboolean
open_failed (StrataCatalog  *self,
             const char     *what,
             char          **damage,
             GError        **error)
{
  g_autofree char *reason = describe_sqlite_error (self);

  if (self->db != NULL && is_damage (sqlite3_errcode (self->db)))
    *damage = g_strdup (reason);
  g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_OPEN,
               "%s: catalog=\"%s\": %s", what, self->path, reason);
  return FALSE;
}

static gboolean
read_user_version (StrataCatalog *self,
                   int           *version)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
    return FALSE;
  ok = sqlite3_step (stmt) == SQLITE_ROW;
  if (ok)
    *version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
too_new (StrataCatalog  *self,
         int             version,
         GError        **error)
{
  g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_TOO_NEW,
               "Catalog written by a newer version of Strata: catalog=\"%s\": "
               "schema version %d, this version knows up to %d",
               self->path, version, SCHEMA_VERSION);
  return FALSE;
}

/* Takes the file to SCHEMA_VERSION. Another process may be doing the
 * same: the version is read again once the write lock is held. */
static gboolean
migrate (StrataCatalog  *self,
         char          **damage,
         GError        **error)
{
  const char *what = "Cannot read catalog schema";
  int version = 0;

  if (!read_user_version (self, &version))
    return open_failed (self, what, damage, error);
  if (version > SCHEMA_VERSION)
    return too_new (self, version, error);
  if (version == SCHEMA_VERSION)
    return TRUE;

  what = "Cannot create or update catalog schema";
  if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return open_failed (self, what, damage, error);

  if (!read_user_version (self, &version))
    goto failed;
  if (version > SCHEMA_VERSION)
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return too_new (self, version, error);
    }

  for (; version < SCHEMA_VERSION; version++)
    {
      g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %d", version + 1);

      if (sqlite3_exec (self->db, migrations[version], NULL, NULL, NULL) != SQLITE_OK
          || sqlite3_exec (self->db, set_version, NULL, NULL, NULL) != SQLITE_OK)
        goto failed;
    }

  if (sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto failed;
  return TRUE;

failed:
  open_failed (self, what, damage, error);
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

static void
disconnect (StrataCatalog *self)
{
  for (guint i = 0; i < N_STMTS; i++)
    g_clear_pointer (&self->stmts[i], sqlite3_finalize);
  g_clear_pointer (&self->db, sqlite3_close);
}

/* Switching a new file to WAL needs it to itself: when two connections
 * try at once, sqlite answers SQLITE_BUSY at once rather than have each
 * wait for the other, so the busy timeout does not apply. Try again for
 * as long. */
static int
set_wal_mode (StrataCatalog *self)
{
  gint64 deadline = g_get_monotonic_time () + BUSY_TIMEOUT_MS * 1000;
  int rc;

  while ((rc = sqlite3_exec (self->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL)) == SQLITE_BUSY
         && g_get_monotonic_time () < deadline)
    g_usleep (5000);
  return rc;
}

/* Opens the file, sets the connection up, migrates and prepares the
 * statements. When the file is damaged (the caller may move it aside),
 * *@damage is set to sqlite's description. */
static gboolean
connect (StrataCatalog  *self,
         char          **damage,
         GError        **error)
{
  const char *what = "Cannot open catalog";

  *damage = NULL;

  /* One connection per object, used under its mutex: sqlite's own
   * per-connection mutex would only be taken twice. */
  if (sqlite3_open_v2 (self->path, &self->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK)
    return open_failed (self, what, damage, error);

  /* sqlite falls back to reading only when it cannot write the file. */
  if (sqlite3_db_readonly (self->db, "main") == 1)
    {
      g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_OPEN,
                   "%s: catalog=\"%s\": %s", what, self->path, g_strerror (EACCES));
      return FALSE;
    }

  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  /* The first statements that read the file: a file that is not a
   * database, or whose first page is damaged, fails here. */
  if (set_wal_mode (self) != SQLITE_OK
      || sqlite3_exec (self->db,
                       "PRAGMA foreign_keys = ON;"
                       /* In WAL mode this loses no integrity, only the last
                        * transactions at a power cut: the catalog is a cache. */
                       "PRAGMA synchronous = NORMAL;",
                       NULL, NULL, NULL) != SQLITE_OK)
    return open_failed (self, what, damage, error);

  if (!migrate (self, damage, error))
    return FALSE;

  /* Preparing reads the whole schema. */
  for (guint i = 0; i < N_STMTS; i++)
    if (sqlite3_prepare_v3 (self->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                            &self->stmts[i], NULL) != SQLITE_OK)
      return open_failed (self, what, damage, error);

  return TRUE;
}

/* Renames @path to @dest if it exists. */
static gboolean
rename_if_exists (const char  *path,
                  const char  *dest,
                  GError     **error)
{
  int e;

  if (g_rename (path, dest) == 0)
    return TRUE;
  e = errno;
  if (e == ENOENT)
    return TRUE;
  g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_OPEN,
               "Cannot move damaged catalog aside: path=\"%s\": %s", path, g_strerror (e));
  return FALSE;
}

/* Moves a damaged catalog (and its WAL and shared-memory files, which
 * belong to it) to <path>.corrupt-<unix time>, and records why. */
static gboolean
move_aside (StrataCatalog  *self,
            const char     *reason,
            GError        **error)
{
  static const char * const suffixes[] = { "-wal", "-shm" };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *dest = g_strdup_printf ("%s.corrupt-%" G_GINT64_FORMAT, self->path, now);

  for (guint n = 2; g_file_test (dest, G_FILE_TEST_EXISTS); n++)
    {
      g_free (dest);
      dest = g_strdup_printf ("%s.corrupt-%" G_GINT64_FORMAT ".%u", self->path, now, n);
    }

  if (!rename_if_exists (self->path, dest, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (self->path, suffixes[i], NULL);
      g_autofree char *to = g_strconcat (dest, suffixes[i], NULL);

      if (!rename_if_exists (from, to, error))
        return FALSE;
    }

  self->warning = g_strdup_printf ("Damaged catalog moved aside and a new one started: "
                                   "catalog=\"%s\": moved to \"%s\": %s",
                                   self->path, dest, reason);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* The object                                                             */
/* ---------------------------------------------------------------------- */

static void
strata_catalog_finalize (GObject *object)
{
  StrataCatalog *self = STRATA_CATALOG (object);

  disconnect (self);
  g_free (self->path);
  g_free (self->cache_dir);
  g_free (self->sht_dir);
  g_free (self->warning);
  g_rand_free (self->rand);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (strata_catalog_parent_class)->finalize (object);
}

static void
strata_catalog_class_init (StrataCatalogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = strata_catalog_finalize;
}

static void
strata_catalog_init (StrataCatalog *self)
{
  g_mutex_init (&self->mutex);
  self->rand = g_rand_new ();
}

static char *
dir_from_env (const char *variable,
              const char *fallback_base)
{
  const char *dir = g_getenv (variable);

  if (dir != NULL && dir[0] != '\0')
    return g_canonicalize_filename (dir, NULL);
  return g_build_filename (fallback_base, "strata", NULL);
}

/**
 * strata_catalog_default_path:
 *
 * Where the catalog is kept: `catalog.sqlite` in `$STRATA_DATA_DIR` when
 * it is set, in the `strata` folder of the user data folder otherwise.
 *
 * Returns: (transfer full): the path
 */
char *
strata_catalog_default_path (void)
{
  g_autofree char *dir = dir_from_env ("STRATA_DATA_DIR", g_get_user_data_dir ());

  return g_build_filename (dir, "catalog.sqlite", NULL);
}

/**
 * strata_catalog_default_cache_dir:
 *
 * Where the files the catalog names are kept: `$STRATA_CACHE_DIR` when it
 * is set, the `strata` folder of the user cache folder otherwise.
 *
 * Returns: (transfer full): the path
 */
char *
strata_catalog_default_cache_dir (void)
{
  return dir_from_env ("STRATA_CACHE_DIR", g_get_user_cache_dir ());
}

/**
 * strata_catalog_open:
 * @path: (nullable): the catalog file, created if needed with its parent
 *   folders; %NULL for strata_catalog_default_path()
 * @cache_dir: (nullable): where the analyses' files go; %NULL for
 *   strata_catalog_default_cache_dir()
 *
 * Opens the catalog, creating it or updating its schema as needed. A file
 * that sqlite finds is not a database, or damaged, is moved to
 * `<path>.corrupt-<unix time>` (with its `-wal` and `-shm` files) and a
 * new catalog started in its place: see strata_catalog_get_warning().
 *
 * Returns: (transfer full): the catalog, or %NULL with @error set:
 *   %STRATA_CATALOG_ERROR_TOO_NEW when the file was written by a newer
 *   version of Strata (it is left untouched), %STRATA_CATALOG_ERROR_OPEN
 *   otherwise
 */
StrataCatalog *
strata_catalog_open (const char  *path,
                     const char  *cache_dir,
                     GError     **error)
{
  g_autoptr(StrataCatalog) self = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *damage = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (STRATA_TYPE_CATALOG, NULL);
  /* Absolute paths: the catalog records files by path, and another
   * process may run from another folder. */
  self->path = path != NULL ? g_canonicalize_filename (path, NULL) : strata_catalog_default_path ();
  self->cache_dir = cache_dir != NULL ? g_canonicalize_filename (cache_dir, NULL)
                                      : strata_catalog_default_cache_dir ();
  self->sht_dir = g_build_filename (self->cache_dir, "sht", NULL);

  parent = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (parent, 0700) != 0)
    {
      int e = errno;

      g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_OPEN,
                   "Cannot create catalog folder: path=\"%s\": %s", parent, g_strerror (e));
      return NULL;
    }

  if (connect (self, &damage, &local_error))
    return g_steal_pointer (&self);

  /* Closing the last connection checkpoints the WAL into the file and
   * deletes it: a damaged catalog's WAL is moved aside as it is. */
  if (damage != NULL)
    sqlite3_db_config (self->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *) NULL);
  disconnect (self);
  if (damage == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  /* Everything in the catalog can be computed again, but the file is
   * kept for whoever wants to look at it. */
  if (!move_aside (self, damage, error))
    return NULL;
  g_clear_pointer (&damage, g_free);
  if (!connect (self, &damage, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * strata_catalog_get_path:
 *
 * Returns: the catalog file's absolute path
 */
const char *
strata_catalog_get_path (StrataCatalog *self)
{
  g_return_val_if_fail (STRATA_IS_CATALOG (self), NULL);

  return self->path;
}

/**
 * strata_catalog_get_cache_dir:
 *
 * Returns: the absolute path of the folder where the analyses' files go
 */
const char *
strata_catalog_get_cache_dir (StrataCatalog *self)
{
  g_return_val_if_fail (STRATA_IS_CATALOG (self), NULL);

  return self->cache_dir;
}

/**
 * strata_catalog_get_warning:
 *
 * What went wrong while opening that the user may want to know: the
 * catalog file was damaged, where it was moved and why.
 *
 * Returns: (nullable): the warning, or %NULL when there is none
 */
const char *
strata_catalog_get_warning (StrataCatalog *self)
{
  g_return_val_if_fail (STRATA_IS_CATALOG (self), NULL);

  return self->warning;
}

/* ---------------------------------------------------------------------- */
/* StrataSyncCache                                                        */
/* ---------------------------------------------------------------------- */

static GBytes *
strata_catalog_sync_lookup (StrataSyncCache  *cache,
                            const char       *key,
                            GError          **error)
{
  StrataCatalog *self = STRATA_CATALOG (cache);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_SYNC_LOOKUP];
  const void *data;
  int rc;

  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return NULL;
  if (rc != SQLITE_ROW)
    {
      _strata_catalog_set_error (self, error, "Cannot look up synchronization");
      return NULL;
    }

  /* An empty blob reads as NULL. */
  data = sqlite3_column_blob (stmt, 0);
  return g_bytes_new (data, (gsize) sqlite3_column_bytes (stmt, 0));
}

static gboolean
strata_catalog_sync_store (StrataSyncCache  *cache,
                           const char       *key,
                           GBytes           *value,
                           GError          **error)
{
  StrataCatalog *self = STRATA_CATALOG (cache);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  g_auto(StrataCatalogStmtUse) stmt = self->stmts[STMT_SYNC_STORE];
  gsize size;
  const void *data = g_bytes_get_data (value, &size);

  if (size > G_MAXINT)
    {
      g_set_error (error, STRATA_CATALOG_ERROR, STRATA_CATALOG_ERROR_IO,
                   "Cannot store synchronization: catalog=\"%s\": %" G_GSIZE_FORMAT " bytes is too large",
                   self->path, size);
      return FALSE;
    }

  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  /* A NULL pointer would bind SQL NULL, not an empty blob. */
  sqlite3_bind_blob (stmt, 2, data != NULL ? data : "", (int) size, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  return _strata_catalog_step_done (self, stmt, "Cannot store synchronization", error);
}

static void
strata_catalog_sync_cache_iface_init (StrataSyncCacheInterface *iface)
{
  iface->lookup = strata_catalog_sync_lookup;
  iface->store = strata_catalog_sync_store;
}
