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

GQuark                 strata_catalog_error_quark        (void);

char                  *strata_catalog_default_path       (void);
char                  *strata_catalog_default_cache_dir  (void);

StrataCatalog         *strata_catalog_open               (const char             *path,
                                                          const char             *cache_dir,
                                                          GError                **error);
const char            *strata_catalog_get_path           (StrataCatalog          *self);
const char            *strata_catalog_get_cache_dir      (StrataCatalog          *self);
const char            *strata_catalog_get_warning        (StrataCatalog          *self);

G_END_DECLS
