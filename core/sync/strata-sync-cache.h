/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define STRATA_TYPE_SYNC_CACHE (strata_sync_cache_get_type ())

G_DECLARE_INTERFACE (StrataSyncCache, strata_sync_cache, STRATA, SYNC_CACHE, GObject)

/**
 * StrataSyncCacheInterface:
 * @lookup: returns the value stored under a key, %NULL when there is none
 *   (without error) or when it cannot be read (with @error set)
 * @store: stores a value under a key, replacing any other
 *
 * Where synchronization results are kept between runs, keyed by the
 * identities of the traces (strata_sync_cache_make_key()). The catalog
 * implements it with sqlite; #StrataSyncMemoryCache keeps them in memory.
 * Both methods are called from worker threads: implementations must be
 * thread-safe.
 */
struct _StrataSyncCacheInterface
{
  GTypeInterface parent_iface;

  GBytes   *(*lookup) (StrataSyncCache  *self,
                       const char       *key,
                       GError          **error);
  gboolean  (*store)  (StrataSyncCache  *self,
                       const char       *key,
                       GBytes           *value,
                       GError          **error);
};

GBytes   *strata_sync_cache_lookup   (StrataSyncCache     *self,
                                      const char          *key,
                                      GError             **error);
gboolean  strata_sync_cache_store    (StrataSyncCache     *self,
                                      const char          *key,
                                      GBytes              *value,
                                      GError             **error);
char     *strata_sync_cache_make_key (const char * const  *paths,
                                      const char          *reference,
                                      GError             **error);
char     *strata_sync_trace_fingerprint (const char       *path,
                                         GError          **error);

G_END_DECLS
