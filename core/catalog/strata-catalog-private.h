/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sqlite3.h>

#include "strata-catalog.h"

G_BEGIN_DECLS

/* The prepared statements; their SQL is in strata-catalog.c. */
typedef enum
{
  STMT_BEGIN_READ,
  STMT_BEGIN_WRITE,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_SYNC_LOOKUP,
  STMT_SYNC_STORE,
  STMT_FIND_COMPLETE,
  STMT_FIND_PATH,
  STMT_FIND_BY_KEY,
  STMT_PATH_TAKEN,
  STMT_MAX_OPENED,
  STMT_INSERT,
  STMT_INSERT_ROOT,
  STMT_ROOTS,
  STMT_TOUCH,
  STMT_FINISH,
  STMT_DELETE,
  STMT_RECENT,
  STMT_STALE,
  N_STMTS
} StrataCatalogStmt;

struct _StrataCatalog
{
  GObject       parent_instance;

  /* Guards the connection and its statements: sqlite connections may
   * not be used from two threads at once, and sqlite3_errmsg() must be
   * read by the thread whose call failed. */
  GMutex        mutex;
  sqlite3      *db;
  sqlite3_stmt *stmts[N_STMTS];
  /* Names new files. Not g_random_int(): a program may seed that (GTest
   * does), and then every process it forks would pick the same names. */
  GRand        *rand;

  char         *path;
  char         *cache_dir;
  char         *sht_dir;     /* <cache_dir>/sht */
  char         *warning;     /* set once, while opening */
};

/* A statement in use: reset and its bindings cleared when it goes out of
 * scope, so that text bound with SQLITE_STATIC never outlives the call
 * that bound it. Declare it after the GMutexLocker, so that it is
 * released first. */
typedef sqlite3_stmt *StrataCatalogStmtUse;

static inline void
_strata_catalog_stmt_release (StrataCatalogStmtUse *stmt)
{
  if (*stmt != NULL)
    {
      sqlite3_reset (*stmt);
      sqlite3_clear_bindings (*stmt);
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StrataCatalogStmtUse, _strata_catalog_stmt_release)

/* Columns of the analysis table, in the order _strata_catalog_analysis_from_row() reads. */
#define STRATA_CATALOG_ANALYSIS_COLUMNS \
  "id, key, name, analysis_version, sht_path, summary_json, complete, " \
  "created_us, opened_us, sht_bytes"

void      _strata_catalog_set_error         (StrataCatalog  *self,
                                             GError        **error,
                                             const char     *what);
gboolean  _strata_catalog_step_done         (StrataCatalog  *self,
                                             sqlite3_stmt   *stmt,
                                             const char     *what,
                                             GError        **error);
gboolean  _strata_catalog_begin             (StrataCatalog  *self,
                                             gboolean        write,
                                             const char     *what,
                                             GError        **error);
gboolean  _strata_catalog_end               (StrataCatalog  *self,
                                             gboolean        ok,
                                             const char     *what,
                                             GError        **error);

G_END_DECLS
