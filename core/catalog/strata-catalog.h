/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "strata-sync-cache.h"

G_BEGIN_DECLS

/**
 * SECTION:strata-catalog
 * @title: StrataCatalog
 * @short_description: the sqlite3 catalog of analyses and caches
 *
 * A #StrataCatalog is a small sqlite3 database in the user's data folder
 * that remembers which experiments were analysed and where their State
 * History Tree files are in the cache folder, so that reopening an
 * analysed archive is instant. It also implements #StrataSyncCache, which
 * keeps synchronization results between runs.
 *
 * Every function may be called from any thread, and any number of
 * processes may use the same catalog file at once. Everything the catalog
 * holds can be computed again: a damaged catalog file is moved aside and a
 * new one started (strata_catalog_get_warning()).
 */

#define STRATA_TYPE_CATALOG (strata_catalog_get_type ())

G_DECLARE_FINAL_TYPE (StrataCatalog, strata_catalog, STRATA, CATALOG, GObject)

#define STRATA_CATALOG_ERROR (strata_catalog_error_quark ())

/**
 * StrataCatalogError:
 * @STRATA_CATALOG_ERROR_OPEN: the catalog file cannot be opened or created
 * @STRATA_CATALOG_ERROR_CORRUPT: sqlite found the catalog file damaged
 *   after it was opened
 * @STRATA_CATALOG_ERROR_TOO_NEW: the catalog file was written by a newer
 *   version of Strata (it is left as it is)
 * @STRATA_CATALOG_ERROR_IO: reading or writing the catalog or a cache file
 *   failed
 * @STRATA_CATALOG_ERROR_NOT_FOUND: no analysis has that id
 */
typedef enum
{
  STRATA_CATALOG_ERROR_OPEN,
  STRATA_CATALOG_ERROR_CORRUPT,
  STRATA_CATALOG_ERROR_TOO_NEW,
  STRATA_CATALOG_ERROR_IO,
  STRATA_CATALOG_ERROR_NOT_FOUND,
} StrataCatalogError;

/**
 * StrataCatalogAnalysis:
 * @id: the entry's id in the catalog
 * @key: the identity of the traces and options, chosen by the caller
 * @name: for display, e.g. the folder name
 * @roots: (array zero-terminated=1): the paths the user opened
 * @analysis_version: the version of the analysis that built the file
 * @sht_path: the State History Tree file, in the cache folder
 * @summary_json: (nullable): what the caller stored at completion; %NULL
 *   until complete
 * @complete: whether strata_catalog_finish_analysis() was called
 * @created_us: when the entry was begun (g_get_real_time())
 * @opened_us: when it was last begun, finished or looked up; later
 *   entries always have a larger value
 * @sht_bytes: the size of @sht_path when it was finished
 *
 * One analysed experiment: a set of traces and options, and the file
 * holding its state history. A copy: changing it changes nothing in the
 * catalog.
 */
typedef struct
{
  gint64    id;
  char     *key;
  char     *name;
  char    **roots;
  int       analysis_version;
  char     *sht_path;
  char     *summary_json;
  gboolean  complete;
  gint64    created_us;
  gint64    opened_us;
  guint64   sht_bytes;
} StrataCatalogAnalysis;

GQuark                 strata_catalog_error_quark        (void);

void                   strata_catalog_analysis_free      (StrataCatalogAnalysis  *analysis);

char                  *strata_catalog_default_path       (void);
char                  *strata_catalog_default_cache_dir  (void);

StrataCatalog         *strata_catalog_open               (const char             *path,
                                                          const char             *cache_dir,
                                                          GError                **error);
const char            *strata_catalog_get_path           (StrataCatalog          *self);
const char            *strata_catalog_get_cache_dir      (StrataCatalog          *self);
const char            *strata_catalog_get_warning        (StrataCatalog          *self);

StrataCatalogAnalysis *strata_catalog_lookup_analysis    (StrataCatalog          *self,
                                                          const char             *key,
                                                          int                     analysis_version,
                                                          GError                **error);
StrataCatalogAnalysis *strata_catalog_begin_analysis     (StrataCatalog          *self,
                                                          const char             *key,
                                                          int                     analysis_version,
                                                          const char             *name,
                                                          const char * const     *roots,
                                                          GError                **error);
gboolean               strata_catalog_finish_analysis    (StrataCatalog          *self,
                                                          gint64                  id,
                                                          const char             *summary_json,
                                                          GError                **error);
gboolean               strata_catalog_forget_analysis    (StrataCatalog          *self,
                                                          gint64                  id,
                                                          GError                **error);
GPtrArray             *strata_catalog_list_recent        (StrataCatalog          *self,
                                                          guint                   limit,
                                                          GError                **error);
guint                  strata_catalog_prune              (StrataCatalog          *self,
                                                          gint64                  max_age_us,
                                                          GError                **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataCatalogAnalysis, strata_catalog_analysis_free)

G_END_DECLS
