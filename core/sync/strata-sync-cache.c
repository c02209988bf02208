/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sync-cache"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "strata-sync-cache.h"
#include "strata-sync-private.h"

G_DEFINE_INTERFACE (StrataSyncCache, strata_sync_cache, G_TYPE_OBJECT)

static void
strata_sync_cache_default_init (StrataSyncCacheInterface *iface)
{
}

/**
 * strata_sync_cache_lookup:
 * @key: a key made by strata_sync_cache_make_key()
 *
 * Returns: (transfer full) (nullable): the value stored under @key, or
 *   %NULL: none (@error unset) or it cannot be read (@error set)
 */
GBytes *
strata_sync_cache_lookup (StrataSyncCache  *self,
                          const char       *key,
                          GError          **error)
{
  g_return_val_if_fail (STRATA_IS_SYNC_CACHE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return STRATA_SYNC_CACHE_GET_IFACE (self)->lookup (self, key, error);
}

/**
 * strata_sync_cache_store:
 * @key: a key made by strata_sync_cache_make_key()
 * @value: what to keep under it
 *
 * Returns: %TRUE if stored
 */
gboolean
strata_sync_cache_store (StrataSyncCache  *self,
                         const char       *key,
                         GBytes           *value,
                         GError          **error)
{
  g_return_val_if_fail (STRATA_IS_SYNC_CACHE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return STRATA_SYNC_CACHE_GET_IFACE (self)->store (self, key, value, error);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/**
 * strata_sync_trace_fingerprint:
 * @path: a trace folder
 *
 * What identifies a trace without reading it: a SHA-256 of its metadata
 * (which holds the trace's and the clock's UUIDs, the host and the event
 * classes) and of the names and sizes of its stream files (a trace still
 * being written grows). Copying or moving the trace keeps it.
 *
 * Returns: (transfer full): the fingerprint, in hexadecimal, or %NULL
 *   with @error set when the trace's folder or metadata cannot be read
 */
char *
strata_sync_trace_fingerprint (const char  *path,
                               GError     **error)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *metadata_path = g_build_filename (path, "metadata", NULL);
  g_autofree char *metadata = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *name;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (metadata_path, &metadata, &length, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot identify trace: path=\"%s\": %s", path, local_error->message);
      return NULL;
    }
  g_checksum_update (checksum, (const guchar *) metadata, (gssize) length);

  dir = g_dir_open (path, 0, &local_error);
  if (dir == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot identify trace: path=\"%s\": %s", path, local_error->message);
      return NULL;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.' && !g_str_equal (name, "metadata"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *file = g_build_filename (path, g_ptr_array_index (names, i), NULL);
      g_autofree char *line = NULL;
      GStatBuf st;

      /* The index folder and anything else that is not a stream file
       * follow from the streams. */
      if (g_stat (file, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      line = g_strdup_printf ("\n%s %" G_GINT64_FORMAT, (const char *) g_ptr_array_index (names, i),
                              (gint64) st.st_size);
      g_checksum_update (checksum, (const guchar *) line, -1);
    }

  return g_strdup (g_checksum_get_string (checksum));
}

/**
 * strata_sync_cache_make_key:
 * @paths: (array zero-terminated=1): the trace folders, in the order
 *   they are synchronized
 * @reference: (nullable): the reference asked for
 *
 * The key under which the synchronization of @paths is cached: the
 * version of the result's format, the reference asked for (by index when
 * it is one of @paths) and each trace's fingerprint, in order.
 *
 * Returns: (transfer full): the key, or %NULL with @error set when a
 *   trace cannot be identified
 */
char *
strata_sync_cache_make_key (const char * const  *paths,
                            const char          *reference,
                            GError             **error)
{
  g_autoptr(GString) key = g_string_new (NULL);
  g_autofree char *canonical = reference != NULL ? g_canonicalize_filename (reference, NULL) : NULL;
  int reference_index = -1;

  g_return_val_if_fail (paths != NULL, NULL);

  for (guint i = 0; reference != NULL && paths[i] != NULL; i++)
    {
      g_autofree char *path = g_canonicalize_filename (paths[i], NULL);

      if (g_str_equal (path, canonical))
        {
          reference_index = (int) i;
          break;
        }
    }

  g_string_append_printf (key, "strata-sync/%d\n", STRATA_SYNC_FORMAT_VERSION);
  if (reference == NULL)
    g_string_append (key, "reference\n");
  else if (reference_index >= 0)
    g_string_append_printf (key, "reference #%d\n", reference_index);
  else
    g_string_append_printf (key, "reference =%s\n", reference);

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *fingerprint = strata_sync_trace_fingerprint (paths[i], error);

      if (fingerprint == NULL)
        return NULL;
      g_string_append_printf (key, "%s\n", fingerprint);
    }

  return g_string_free (g_steal_pointer (&key), FALSE);
}
