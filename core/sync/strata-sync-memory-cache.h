/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-sync-cache.h"

G_BEGIN_DECLS

#define STRATA_TYPE_SYNC_MEMORY_CACHE (strata_sync_memory_cache_get_type ())

G_DECLARE_FINAL_TYPE (StrataSyncMemoryCache, strata_sync_memory_cache, STRATA, SYNC_MEMORY_CACHE, GObject)

StrataSyncMemoryCache *strata_sync_memory_cache_new         (void);
guint                  strata_sync_memory_cache_get_n_hits  (StrataSyncMemoryCache *self);
guint                  strata_sync_memory_cache_get_n_stores (StrataSyncMemoryCache *self);

G_END_DECLS
