/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sync-memory-cache"

#include "config.h"

#include "strata-sync-memory-cache.h"

/*
 * A #StrataSyncCache in memory, for one session (and the tests). It
 * counts its hits and stores, so that a caller can tell a cached result
 * from a computed one.
 */

struct _StrataSyncMemoryCache
{
  GObject     parent_instance;

  GMutex      mutex;
  GHashTable *entries;   /* key → GBytes */
  guint       n_hits;
  guint       n_stores;
};

static void strata_sync_memory_cache_iface_init (StrataSyncCacheInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (StrataSyncMemoryCache, strata_sync_memory_cache, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (STRATA_TYPE_SYNC_CACHE,
                                                      strata_sync_memory_cache_iface_init))

static GBytes *
strata_sync_memory_cache_lookup (StrataSyncCache  *cache,
                                 const char       *key,
                                 GError          **error)
{
  StrataSyncMemoryCache *self = STRATA_SYNC_MEMORY_CACHE (cache);
  GBytes *value;

  g_mutex_lock (&self->mutex);
  value = g_hash_table_lookup (self->entries, key);
  if (value != NULL)
    {
      g_bytes_ref (value);
      self->n_hits++;
    }
  g_mutex_unlock (&self->mutex);

  return value;
}

static gboolean
strata_sync_memory_cache_store (StrataSyncCache  *cache,
                                const char       *key,
                                GBytes           *value,
                                GError          **error)
{
  StrataSyncMemoryCache *self = STRATA_SYNC_MEMORY_CACHE (cache);

  g_mutex_lock (&self->mutex);
  g_hash_table_replace (self->entries, g_strdup (key), g_bytes_ref (value));
  self->n_stores++;
  g_mutex_unlock (&self->mutex);

  return TRUE;
}

static void
strata_sync_memory_cache_iface_init (StrataSyncCacheInterface *iface)
{
  iface->lookup = strata_sync_memory_cache_lookup;
  iface->store = strata_sync_memory_cache_store;
}

static void
strata_sync_memory_cache_finalize (GObject *object)
{
  StrataSyncMemoryCache *self = STRATA_SYNC_MEMORY_CACHE (object);

  g_hash_table_unref (self->entries);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (strata_sync_memory_cache_parent_class)->finalize (object);
}

static void
strata_sync_memory_cache_class_init (StrataSyncMemoryCacheClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = strata_sync_memory_cache_finalize;
}

static void
strata_sync_memory_cache_init (StrataSyncMemoryCache *self)
{
  g_mutex_init (&self->mutex);
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
}

/**
 * strata_sync_memory_cache_new:
 *
 * Returns: (transfer full): an empty cache
 */
StrataSyncMemoryCache *
strata_sync_memory_cache_new (void)
{
  return g_object_new (STRATA_TYPE_SYNC_MEMORY_CACHE, NULL);
}

/**
 * strata_sync_memory_cache_get_n_hits:
 *
 * Returns: how many lookups found a value
 */
guint
strata_sync_memory_cache_get_n_hits (StrataSyncMemoryCache *self)
{
  guint n;

  g_return_val_if_fail (STRATA_IS_SYNC_MEMORY_CACHE (self), 0);

  g_mutex_lock (&self->mutex);
  n = self->n_hits;
  g_mutex_unlock (&self->mutex);
  return n;
}

/**
 * strata_sync_memory_cache_get_n_stores:
 *
 * Returns: how many values were stored
 */
guint
strata_sync_memory_cache_get_n_stores (StrataSyncMemoryCache *self)
{
  guint n;

  g_return_val_if_fail (STRATA_IS_SYNC_MEMORY_CACHE (self), 0);

  g_mutex_lock (&self->mutex);
  n = self->n_stores;
  g_mutex_unlock (&self->mutex);
  return n;
}
