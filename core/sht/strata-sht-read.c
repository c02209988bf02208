/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sht"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strata-sht-private.h"

/* Reading: opening a finished file, the node cache, and the queries. */

/* ------------------------------------------------------------------ */
/* Node cache                                                         */

static int
compare_last_use (gconstpointer a, gconstpointer b)
{
  const ShtNode *x = *(ShtNode * const *) a, *y = *(ShtNode * const *) b;
  guint u = (guint) g_atomic_int_get (&x->last_use), v = (guint) g_atomic_int_get (&y->last_use);

  return (u > v) - (u < v);
}

/* cache_lock held for writing. Over budget, the least recently used
 * nodes go, down to 7/8 of it: sorting the nodes costs less than keeping
 * them in order on every hit would. */
static void
cache_insert_locked (StrataSht *self, ShtNode *node)
{
  gsize target = self->cache_budget / 8 * 7;
  guint kept = 0;

  if (g_hash_table_contains (self->cache, GUINT_TO_POINTER (node->seq)))
    return;
  /* Unsigned: the stamps wrap after 2^32 nodes read (the order then
   * breaks once, harmlessly) */
  g_atomic_int_set (&node->last_use, (gint) ((guint) g_atomic_int_add (&self->cache_clock, 1) + 1u));
  g_ptr_array_add (self->cached, _strata_sht_node_ref (node));
  g_hash_table_insert (self->cache, GUINT_TO_POINTER (node->seq), node);
  self->cache_bytes += _strata_sht_node_mem_size (node);
  if (self->cache_bytes <= self->cache_budget)
    return;

  /* Nodes in use by a query keep their reference: evicting only drops the
   * cache's. The newest stays, whatever its size. */
  g_ptr_array_sort (self->cached, compare_last_use);
  for (guint i = 0; i < self->cached->len; i++)
    {
      ShtNode *old = g_ptr_array_index (self->cached, i);

      if (self->cache_bytes > target && old != node)
        {
          g_hash_table_remove (self->cache, GUINT_TO_POINTER (old->seq));
          self->cache_bytes -= _strata_sht_node_mem_size (old);
          _strata_sht_node_unref (old);
        }
      else
        g_ptr_array_index (self->cached, kept++) = old;
    }
  g_ptr_array_set_size (self->cached, kept);
}

void
_strata_sht_cache_insert (StrataSht *self,
                          ShtNode   *node)
{
  g_rw_lock_writer_lock (&self->cache_lock);
  cache_insert_locked (self, node);
  g_rw_lock_writer_unlock (&self->cache_lock);
}

static gboolean
read_all (int fd, void *data, gsize len, guint64 offset, gsize *n_read)
{
  guint8 *p = data;
  gsize done = 0;

  while (done < len)
    {
      gssize n = pread (fd, p + done, len - done, (off_t) (offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      done += n;
    }
  *n_read = done;
  return TRUE;
}

/* tree_lock held for reading. The branch being written is in memory;
 * every other node is in the cache or on disk. */
static ShtNode *
get_node (StrataSht *self, const ShtGroup *g, guint32 seq, GError **error)
{
  g_autofree guint8 *block = NULL;
  ShtNode *node, *cached;
  gsize n_read = 0;

  if (g->branch != NULL)
    for (guint l = 0; l < g->depth; l++)
      if (g->branch[l] != NULL && g->branch[l]->seq == seq)
        return _strata_sht_node_ref (g->branch[l]);

  g_rw_lock_reader_lock (&self->cache_lock);
  node = g_hash_table_lookup (self->cache, GUINT_TO_POINTER (seq));
  if (node != NULL)
    {
      int now = g_atomic_int_get (&self->cache_clock);

      _strata_sht_node_ref (node);
      if (g_atomic_int_get (&node->last_use) != now)
        g_atomic_int_set (&node->last_use, now);
      g_rw_lock_reader_unlock (&self->cache_lock);
      __atomic_fetch_add (&self->cache_hits, 1, __ATOMIC_RELAXED);
      return node;
    }
  g_rw_lock_reader_unlock (&self->cache_lock);

  block = _strata_sht_node_block_new (self->block_size);
  if (!read_all (self->fd, block, self->block_size,
                 (guint64) self->block_size * (1 + (guint64) seq), &n_read))
    {
      int e = errno;
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_IO,
                   "Cannot read state history %s: %s", self->path, g_strerror (e));
      return NULL;
    }
  if (n_read < self->block_size)
    {
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_TRUNCATED,
                   "State history %s is truncated: node %u is incomplete", self->path, seq);
      return NULL;
    }
  node = _strata_sht_node_deserialize (g_steal_pointer (&block), self->block_size, seq, error);
  if (node == NULL)
    {
      g_prefix_error (error, "State history %s is damaged: ", self->path);
      return NULL;
    }

  g_rw_lock_writer_lock (&self->cache_lock);
  self->cache_misses++;
  cached = g_hash_table_lookup (self->cache, GUINT_TO_POINTER (seq));
  if (cached != NULL)
    {
      /* Another query read it meanwhile. */
      _strata_sht_node_unref (node);
      node = _strata_sht_node_ref (cached);
    }
  else
    cache_insert_locked (self, node);
  g_rw_lock_writer_unlock (&self->cache_lock);
  return node;
}

/* ------------------------------------------------------------------ */
/* Opening                                                            */

static StrataSht *
open_fail (StrataSht *self, GError **error, StrataShtError code, const char *format, ...) G_GNUC_PRINTF (4, 5);

static StrataSht *
open_fail (StrataSht *self, GError **error, StrataShtError code, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, STRATA_SHT_ERROR, code, "Cannot open state history %s: %s", self->path, what);
  strata_sht_free (self);
  return NULL;
}

static gboolean
load_attributes (StrataSht *self, const guint8 *p, const guint8 *end, guint n_quarks)
{
  guint64 n_groups;

  /* The roots of the groups' trees come first. */
  if (!_strata_sht_get_varint (&p, end, &n_groups) || n_groups != self->n_groups)
    return FALSE;
  for (guint i = 0; i < self->n_groups; i++)
    {
      guint64 root, depth;

      if (!_strata_sht_get_varint (&p, end, &root)
          || !_strata_sht_get_varint (&p, end, &depth)
          || root > self->n_nodes || depth > self->n_nodes
          || (root == 0) != (depth == 0))
        return FALSE;
      self->groups[i].root_seq = root ? (guint32) root - 1 : 0;
      self->groups[i].depth = (guint) depth;
    }

  _strata_sht_quark_add (self, STRATA_SHT_QUARK_INVALID, "");
  for (guint q = 1; q < n_quarks; q++)
    {
      guint64 parent, len;
      g_autofree char *name = NULL;

      if (!_strata_sht_get_varint (&p, end, &parent)
          || !_strata_sht_get_varint (&p, end, &len)
          || parent >= q || len > (guint64) (end - p)
          || memchr (p, '\0', len) != NULL)
        return FALSE;
      name = g_strndup ((const char *) p, len);
      p += len;
      if (!g_utf8_validate (name, -1, NULL)
          || _strata_sht_quark_find (self, (guint32) parent, name) != STRATA_SHT_QUARK_INVALID)
        return FALSE;
      _strata_sht_quark_add (self, (guint32) parent, name);
    }
  return p == end;
}

static gboolean
load_strings (StrataSht *self, const guint8 *p, const guint8 *end, guint n_strings)
{
  for (guint i = 0; i < n_strings; i++)
    {
      guint64 len;
      g_autofree char *text = NULL;

      if (!_strata_sht_get_varint (&p, end, &len) || len > (guint64) (end - p)
          || memchr (p, '\0', len) != NULL)
        return FALSE;
      text = g_strndup ((const char *) p, len);
      p += len;
      if (strata_sht_intern (self, text) != i)
        return FALSE;
    }
  return p == end;
}

/**
 * strata_sht_open:
 * @path: a history file written by strata_sht_close()
 * @analysis_version: the version the caller expects
 * @cache_bytes: memory for cached nodes (0: the default)
 * @error: return location for a #GError
 *
 * Opens a finished history for queries. Everything is checked first: the
 * header, every node's checksum, the attribute tree and the string pool;
 * a file that was not finished, is truncated, damaged, or written by
 * another version gives an error (its code says which) and should be
 * rebuilt.
 *
 * Returns: (transfer full): the history, or %NULL with @error set
 */
StrataSht *
strata_sht_open (const char  *path,
                 guint32      analysis_version,
                 gsize        cache_bytes,
                 GError     **error)
{
  StrataSht *self;
  guint8 header[SHT_HDR_SIZE];
  g_autofree guint8 *buf = NULL;
  gsize n_read = 0;
  struct stat st;
  guint64 n_nodes, attr_offset, attr_length, str_offset, str_length, file_length;
  guint32 flags, version, n_quarks, n_strings, depth;
  gsize chunk;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = _strata_sht_new (path);
  self->state = STATE_FINISHED;
  self->cache_budget = cache_bytes ? cache_bytes : STRATA_SHT_DEFAULT_CACHE_BYTES;

  self->fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (self->fd < 0)
    {
      int e = errno;
      return open_fail (self, error, STRATA_SHT_ERROR_IO, "%s", g_strerror (e));
    }
  if (fstat (self->fd, &st) != 0 || !S_ISREG (st.st_mode))
    return open_fail (self, error, STRATA_SHT_ERROR_IO, "not a regular file");
  if (!read_all (self->fd, header, sizeof header, 0, &n_read))
    {
      int e = errno;
      return open_fail (self, error, STRATA_SHT_ERROR_IO, "%s", g_strerror (e));
    }
  if (n_read < 8 || memcmp (header, STRATA_SHT_MAGIC, 8) != 0)
    return open_fail (self, error, STRATA_SHT_ERROR_NOT_SHT, "not a state history file");
  if (n_read < SHT_HDR_SIZE)
    return open_fail (self, error, STRATA_SHT_ERROR_TRUNCATED,
                      "the file is truncated in its header (%" G_GSIZE_FORMAT " bytes)", n_read);
  if (_strata_sht_get_u32 (header + SHT_HDR_CRC) != _strata_sht_crc32c (0, header, SHT_HDR_CRC))
    return open_fail (self, error, STRATA_SHT_ERROR_CORRUPT, "header checksum mismatch");

  version = _strata_sht_get_u32 (header + SHT_HDR_FORMAT_VERSION);
  if (version != STRATA_SHT_FORMAT_VERSION)
    return open_fail (self, error, STRATA_SHT_ERROR_FORMAT_VERSION,
                      "format version %u, expected %u", version, STRATA_SHT_FORMAT_VERSION);
  flags = _strata_sht_get_u32 (header + SHT_HDR_FLAGS);
  if (!(flags & SHT_HDR_FLAG_FINISHED))
    return open_fail (self, error, STRATA_SHT_ERROR_UNFINISHED,
                      "the history was never finished (its writer stopped)");
  self->analysis_version = _strata_sht_get_u32 (header + SHT_HDR_ANALYSIS);
  if (self->analysis_version != analysis_version)
    return open_fail (self, error, STRATA_SHT_ERROR_ANALYSIS_VERSION,
                      "written by analysis version %u, expected %u",
                      self->analysis_version, analysis_version);

  self->block_size = _strata_sht_get_u32 (header + SHT_HDR_BLOCK_SIZE);
  self->max_children = _strata_sht_get_u32 (header + SHT_HDR_MAX_CHILDREN);
  depth = _strata_sht_get_u32 (header + SHT_HDR_DEPTH);
  n_nodes = _strata_sht_get_u64 (header + SHT_HDR_N_NODES);
  self->group_size = _strata_sht_get_u32 (header + SHT_HDR_GROUP_SIZE);
  self->n_groups = _strata_sht_get_u32 (header + SHT_HDR_N_GROUPS);
  self->start_time = (gint64) _strata_sht_get_u64 (header + SHT_HDR_START);
  self->end_time = (gint64) _strata_sht_get_u64 (header + SHT_HDR_END);
  self->n_intervals = _strata_sht_get_u64 (header + SHT_HDR_N_INTERVALS);
  attr_offset = _strata_sht_get_u64 (header + SHT_HDR_ATTR_OFFSET);
  attr_length = _strata_sht_get_u64 (header + SHT_HDR_ATTR_LENGTH);
  n_quarks = _strata_sht_get_u32 (header + SHT_HDR_N_QUARKS);
  str_offset = _strata_sht_get_u64 (header + SHT_HDR_STR_OFFSET);
  str_length = _strata_sht_get_u64 (header + SHT_HDR_STR_LENGTH);
  n_strings = _strata_sht_get_u32 (header + SHT_HDR_N_STRINGS);
  file_length = _strata_sht_get_u64 (header + SHT_HDR_FILE_LENGTH);

  /* The checksum matched, but a header from a buggy writer must not make
   * us read wild offsets either. */
  if (self->block_size < 1024 || self->block_size > 64 * 1024
      || (self->block_size & (self->block_size - 1)) != 0
      || self->max_children < 2 || self->max_children > 256
      || n_nodes == 0 || n_nodes > G_MAXUINT32
      || depth == 0 || depth > n_nodes
      || self->group_size == 0 || self->n_groups == 0
      || self->n_groups > n_nodes || (guint64) self->n_groups * self->group_size < n_quarks
      || self->end_time < self->start_time
      || attr_offset != (guint64) self->block_size * (1 + n_nodes)
      || str_offset != attr_offset + attr_length
      || file_length != str_offset + str_length
      || n_quarks == 0 || attr_length > G_MAXSIZE / 2 || str_length > G_MAXSIZE / 2
      || n_strings > STRING_MAX_CHUNKS * STRING_CHUNK)
    return open_fail (self, error, STRATA_SHT_ERROR_CORRUPT, "inconsistent header");
  if ((guint64) st.st_size < file_length)
    return open_fail (self, error, STRATA_SHT_ERROR_TRUNCATED,
                      "the file has %" G_GUINT64_FORMAT " bytes, its header says %" G_GUINT64_FORMAT,
                      (guint64) st.st_size, file_length);
  if ((guint64) st.st_size > file_length)
    return open_fail (self, error, STRATA_SHT_ERROR_CORRUPT,
                      "the file has %" G_GUINT64_FORMAT " bytes, its header says %" G_GUINT64_FORMAT,
                      (guint64) st.st_size, file_length);
  self->n_nodes = (guint32) n_nodes;
  self->groups = g_new0 (ShtGroup, self->n_groups);

  /* Sections at the end: the attribute tree and the string pool. */
  buf = g_malloc (MAX (attr_length, str_length) + 1);
  if (!read_all (self->fd, buf, attr_length, attr_offset, &n_read) || n_read != attr_length)
    return open_fail (self, error, STRATA_SHT_ERROR_TRUNCATED, "cannot read the attribute tree");
  if (_strata_sht_crc32c (0, buf, attr_length) != _strata_sht_get_u32 (header + SHT_HDR_ATTR_CRC))
    return open_fail (self, error, STRATA_SHT_ERROR_CORRUPT, "attribute tree checksum mismatch");
  if (!load_attributes (self, buf, buf + attr_length, n_quarks))
    return open_fail (self, error, STRATA_SHT_ERROR_CORRUPT, "invalid attribute tree");
  for (guint32 q = 0; q < n_quarks; q += self->group_size)
    if (self->groups[q / self->group_size].depth == 0)
      return open_fail (self, error, STRATA_SHT_ERROR_CORRUPT, "attribute %u has no tree", q);
  self->n_quarks = n_quarks;

  if (!read_all (self->fd, buf, str_length, str_offset, &n_read) || n_read != str_length)
    return open_fail (self, error, STRATA_SHT_ERROR_TRUNCATED, "cannot read the string pool");
  if (_strata_sht_crc32c (0, buf, str_length) != _strata_sht_get_u32 (header + SHT_HDR_STR_CRC))
    return open_fail (self, error, STRATA_SHT_ERROR_CORRUPT, "string pool checksum mismatch");
  if (!load_strings (self, buf, buf + str_length, n_strings))
    return open_fail (self, error, STRATA_SHT_ERROR_CORRUPT, "invalid string pool");
  g_clear_pointer (&buf, g_free);

  /* Every node, in large sequential reads: a history is never trusted,
   * and a damaged one is better rebuilt now than failing in a view. */
  chunk = MAX (self->block_size, 1024 * 1024) / self->block_size;
  buf = g_malloc (chunk * self->block_size);
  for (guint64 seq = 0; seq < n_nodes; seq += chunk)
    {
      gsize n = MIN (chunk, n_nodes - seq);
      g_autoptr(GError) local = NULL;

      if (!read_all (self->fd, buf, n * self->block_size,
                     self->block_size * (1 + seq), &n_read)
          || n_read != n * self->block_size)
        return open_fail (self, error, STRATA_SHT_ERROR_TRUNCATED, "cannot read node %" G_GUINT64_FORMAT, seq);
      for (gsize i = 0; i < n; i++)
        if (!_strata_sht_node_check (buf + i * self->block_size, self->block_size,
                                     (guint32) (seq + i), &local))
          return open_fail (self, error, STRATA_SHT_ERROR_CORRUPT, "%s", local->message);
    }
  return self;
}

/* ------------------------------------------------------------------ */
/* Queries                                                            */

/* Takes the read lock and checks the arguments common to the queries.
 * *writing says whether the queue and the ongoing state are to be looked
 * at; *t1 is clipped to the history's end once closed. */
static gboolean
query_begin (StrataSht *self, gint64 t0, gint64 *t1, gboolean *writing, GError **error)
{
  ShtState state;
  gint64 end;

  g_rw_lock_reader_lock (&self->tree_lock);
  g_mutex_lock (&self->mutex);
  state = self->state;
  end = self->end_time;
  g_mutex_unlock (&self->mutex);

  if (state == STATE_FAILED)
    {
      g_rw_lock_reader_unlock (&self->tree_lock);
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_IO,
                   "State history %s could not be written", self->path);
      return FALSE;
    }
  /* While closing, the last intervals are still in the queue. */
  *writing = state == STATE_WRITING || state == STATE_CLOSING;
  if (state != STATE_WRITING && *t1 > end)
    *t1 = end;
  if (t0 < self->start_time || t0 > *t1)
    {
      g_rw_lock_reader_unlock (&self->tree_lock);
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_OUT_OF_RANGE,
                   "Time %" G_GINT64_FORMAT " is outside state history %s "
                   "(%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT "%s)",
                   t0, self->path, self->start_time, end,
                   *writing ? ", being written" : "");
      return FALSE;
    }
  return TRUE;
}

static gboolean
invalid_quark (StrataSht *self, guint32 quark, GError **error)
{
  g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_INVALID_QUARK,
               "State history %s has no attribute %u", self->path, quark);
  return FALSE;
}

static inline void
ongoing_interval (StrataSht *self, guint32 quark, StrataShtInterval *iv)
{
  iv->start = self->ongoing[quark].start;
  iv->end = G_MAXINT64;
  iv->quark = quark;
  iv->flags = STRATA_SHT_INTERVAL_ONGOING;
  iv->value = self->ongoing[quark].value;
}

static gboolean
damaged (StrataSht *self, const ShtNode *node, GError **error)
{
  g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
               "State history %s is damaged: node %u: invalid interval", self->path, node->seq);
  return FALSE;
}

/* tree_lock held. The tree of group @i, or NULL if nothing of it reached
 * the tree yet. */
static const ShtGroup *
group_tree (StrataSht *self, guint i, guint32 *root)
{
  const ShtGroup *g;

  if (i >= self->n_groups)
    return NULL;
  g = &self->groups[i];
  if (g->branch != NULL)
    *root = g->branch[0]->seq;
  else if (g->depth > 0)
    *root = g->root_seq;
  else
    return NULL;
  return g;
}

/* The child of @node whose range holds @t, or -1. Children tile their
 * parent's range in order. */
static int
child_at (const ShtNode *node, gint64 t)
{
  guint lo = 0, hi = node->n_children;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      if (node->children[mid].start <= t)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == 0 || node->children[lo - 1].end < t)
    return -1;
  return (int) lo - 1;
}

/**
 * strata_sht_query_single:
 * @self: a #StrataSht
 * @quark: an attribute
 * @t: a time
 * @interval: (out caller-allocates): the state of @quark at @t
 * @error: return location for a #GError
 *
 * Returns: %TRUE with @interval set; %FALSE with @error set if @t is
 *   outside the history, @quark does not exist, or the file cannot be read
 */
gboolean
strata_sht_query_single (StrataSht          *self,
                         guint32             quark,
                         gint64              t,
                         StrataShtInterval  *interval,
                         GError            **error)
{
  gboolean writing, found = FALSE;
  gint64 t1 = t;
  const ShtGroup *g;
  guint32 seq = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (interval != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (quark >= (guint32) g_atomic_int_get (&self->n_quarks))
    return invalid_quark (self, quark, error);
  if (!query_begin (self, t, &t1, &writing, error))
    return FALSE;

  if (writing)
    {
      g_mutex_lock (&self->mutex);
      if (self->state == STATE_WRITING && self->ongoing[quark].start <= t)
        {
          ongoing_interval (self, quark, interval);
          found = TRUE;
        }
      for (GList *l = self->pending.head; l != NULL && !found; l = l->next)
        {
          const Chunk *c = l->data;
          for (guint i = 0; i < c->n; i++)
            if (c->iv[i].quark == quark && c->iv[i].start <= t && t <= c->iv[i].end)
              {
                *interval = c->iv[i];
                found = TRUE;
                break;
              }
        }
      for (guint i = 0; i < self->cur->n && !found; i++)
        if (self->cur->iv[i].quark == quark && self->cur->iv[i].start <= t && t <= self->cur->iv[i].end)
          {
            *interval = self->cur->iv[i];
            found = TRUE;
          }
      g_mutex_unlock (&self->mutex);
    }

  g = group_tree (self, quark / self->group_size, &seq);
  if (g == NULL && !found)
    g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
                 "State history %s has no state for attribute %u at %" G_GINT64_FORMAT,
                 self->path, quark, t);
  while (!found && g != NULL)
    {
      ShtNode *node = get_node (self, g, seq, error);
      int c;

      if (node == NULL)
        break;
      if (node->block == NULL)
        {
          for (guint i = 0; i < node->n_intervals; i++)
            {
              const StrataShtInterval *iv = &node->intervals[i];
              if (iv->quark == quark && iv->start <= t && t <= iv->end)
                {
                  *interval = *iv;
                  found = TRUE;
                  break;
                }
            }
        }
      else
        {
          ShtRun run;
          gboolean bad = FALSE;
          int r = _strata_sht_node_run (node, quark, &run);

          if (r > 0)
            found = _strata_sht_run_find (node, &run, quark, t, interval, &bad);
          if (r < 0 || bad)
            {
              found = FALSE;
              damaged (self, node, error);
              _strata_sht_node_unref (node);
              goto out;
            }
        }
      c = found ? -1 : child_at (node, t);
      if (!found && (c < 0 || (node->children[c].end != G_MAXINT64
                               && (quark < node->children[c].min_quark
                                   || quark > node->children[c].max_quark))))
        {
          g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
                       "State history %s has no state for attribute %u at %" G_GINT64_FORMAT,
                       self->path, quark, t);
          _strata_sht_node_unref (node);
          break;
        }
      if (!found)
        seq = node->children[c].seq;
      _strata_sht_node_unref (node);
    }
out:
  g_rw_lock_reader_unlock (&self->tree_lock);
  return found;
}

/**
 * strata_sht_query_full:
 * @self: a #StrataSht
 * @t: a time
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type StrataShtInterval): the state of
 *   every attribute at @t, indexed by quark; %NULL with @error set
 */
GArray *
strata_sht_query_full (StrataSht  *self,
                       gint64      t,
                       GError    **error)
{
  g_autoptr(GArray) out = NULL;
  g_autofree guint8 *seen = NULL;
  gboolean writing;
  gint64 t1 = t;
  guint n, missing;
  guint32 seq = 0;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!query_begin (self, t, &t1, &writing, error))
    return NULL;

  n = g_atomic_int_get (&self->n_quarks);
  out = g_array_sized_new (FALSE, TRUE, sizeof (StrataShtInterval), n);
  g_array_set_size (out, n);
  seen = g_malloc0 (n);
  missing = n;

#define FILL(ivp) G_STMT_START {                                         \
    const StrataShtInterval *_iv = (ivp);                                \
    if (_iv->quark < n && !seen[_iv->quark]                              \
        && _iv->start <= t && t <= _iv->end)                             \
      {                                                                  \
        g_array_index (out, StrataShtInterval, _iv->quark) = *_iv;       \
        seen[_iv->quark] = 1;                                            \
        missing--;                                                       \
      }                                                                  \
  } G_STMT_END

  if (writing)
    {
      g_mutex_lock (&self->mutex);
      if (self->state == STATE_WRITING)
        for (guint32 q = 0; q < n; q++)
          if (self->ongoing[q].start <= t)
            {
              ongoing_interval (self, q, &g_array_index (out, StrataShtInterval, q));
              seen[q] = 1;
              missing--;
            }
      for (GList *l = self->pending.head; l != NULL; l = l->next)
        {
          const Chunk *c = l->data;
          for (guint i = 0; i < c->n; i++)
            FILL (&c->iv[i]);
        }
      for (guint i = 0; i < self->cur->n; i++)
        FILL (&self->cur->iv[i]);
      g_mutex_unlock (&self->mutex);
    }

  for (guint i = 0; missing > 0 && i * self->group_size < n; i++)
    {
      const ShtGroup *g = group_tree (self, i, &seq);

      while (g != NULL)
        {
          ShtNode *node = get_node (self, g, seq, error);
          int c;

          if (node == NULL)
            break;
          if (node->block == NULL)
            for (guint k = 0; k < node->n_intervals; k++)
              FILL (&node->intervals[k]);
          else
            for (guint32 x = node->own_min; node->n_intervals > 0 && x <= node->own_max && x < n; x++)
              {
                ShtRun run;
                StrataShtInterval iv;
                gboolean bad = FALSE;
                int r;

                if (seen[x])
                  continue;
                r = _strata_sht_node_run (node, x, &run);
                if (r > 0 && _strata_sht_run_find (node, &run, x, t, &iv, &bad))
                  FILL (&iv);
                if (r < 0 || bad)
                  {
                    damaged (self, node, error);
                    break;
                  }
              }
          if (error != NULL && *error != NULL)
            {
              _strata_sht_node_unref (node);
              break;
            }
          c = child_at (node, t);
          if (c >= 0)
            seq = node->children[c].seq;
          _strata_sht_node_unref (node);
          if (c < 0)
            break;
        }
      if (error != NULL && *error != NULL)
        break;
    }
#undef FILL
  g_rw_lock_reader_unlock (&self->tree_lock);

  if (error != NULL && *error != NULL)
    return NULL;
  if (missing > 0)
    {
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
                   "State history %s has no state for %u attributes at %" G_GINT64_FORMAT,
                   self->path, missing, t);
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* ------------------------------------------------------------------ */
/* 2D queries                                                         */

struct _StrataShtRange
{
  guint              n_rows;
  guint             *row_to_unique;  /* row → unique quark index */
  /* The intervals of each unique quark, in time order, one after the
   * other: the query's slots (below), packed in place. */
  StrataShtInterval *intervals;
  gsize             *row_start;      /* n_unique + 1 */
};

/* The intervals a row found, a plain array: appending is the inner loop of
 * a query over a long range. */
typedef struct
{
  StrataShtInterval *iv;
  guint              len;
  guint              alloc;
} ShtFound;

/* A 2D query. Rows are the unique quarks asked for, u.
 *
 * By samples (the usual case: samples × rows not too many), each sample
 * of each row gets the one interval that holds it, found in the lowest
 * node that has it: a node's own intervals are read after its children's,
 * only for the rows and samples still missing one.
 *
 * Dense, when the samples are far apart for the rows' data (about one
 * interval per sample, as over a long range), a row's intervals go
 * straight into its result, at the index of the first sample they hold,
 * and are packed at the end. Sparse, when intervals hold many samples
 * each, they are kept in the order they are found, each one's index at
 * the first sample it holds: a few intervals per page spread over the
 * rows' room for one interval per sample would touch it all, and memory
 * new to the process costs a page fault per page (2 ms of a first
 * zoomed-in query).
 *
 * With too many samples for that (a resolution far below the data's),
 * every interval holding a sample is kept, and the rows are sorted. */
typedef struct
{
  gint64    t0;
  gint64    t1;
  guint64   res;
  guint64   n_samples;
  guint32   qmin;
  guint32   qmax;
  int      *rowmap;       /* quark − qmin → row, or −1 */
  guint32  *quarks;       /* row → quark */
  guint     n_unique;

  /* By samples, dense: row u's interval holding sample s first is at
   * slots[u · n_samples + s]. Sparse: row u's intervals are at
   * slots[u · n_samples], in the order they were found, and the index of
   * the one holding sample s first is at cells[u · n_samples + s]. */
  gboolean  by_sample;
  gboolean  dense;
  StrataShtInterval *slots;
  guint    *found_len;
  guint32  *cells;
  gsize     n_row_words;  /* 64-bit words of a row's bitmaps */
  guint64  *used;         /* per row: samples where an interval starts */
  guint64  *row_missing;  /* per row: samples without an interval */
  /* Bit u of sample s's n_words words set while row u may have no
   * interval there, to find the rows a node reads at a glance: cleared
   * for the first few samples of an interval only, where row_missing has
   * them all (an interval over many samples would cost one write each). */
  guint32  *missing;
  guint     n_words;
  guint64   last_sample;  /* the last this walk records (it may share the
                             query with another, of the samples after) */
  guint32  *wanted;       /* n_words: rows a node reads */
  ShtRun   *runs;         /* n_unique: their runs */
  guint    *run_rows;

  /* Otherwise: per row, in discovery order */
  ShtFound *found;
} Query2D;

/* Beyond this many rows × samples, a query sorts: by samples, the rows
 * take 40 bytes per sample, touched or not. */
#define SLOTS_MAX  (1024 * 1024)

static inline gint64
sample_time (const Query2D *q, guint64 s)
{
  return (gint64) ((guint64) q->t0 + s * q->res);
}

/* The index of the first sample at or after @t (t ≥ t0). */
static inline guint64
sample_ceil (const Query2D *q, gint64 t)
{
  guint64 d = (guint64) t - (guint64) q->t0;
  return d / q->res + (d % q->res != 0);
}

/* The same, knowing that it is @s or later: usually the next sample or
 * so, where a few steps beat a division. */
static inline guint64
sample_ceil_from (const Query2D *q, gint64 t, guint64 s)
{
  for (guint k = 0; k < 4; k++, s++)
    if (s >= q->n_samples || sample_time (q, s) >= t)
      return s;
  return sample_ceil (q, t);
}

/* The last sample at or before @t (t ≤ t1), knowing that it is @s or
 * later. */
static inline guint64
sample_floor_from (const Query2D *q, gint64 t, guint64 s)
{
  for (guint k = 0; k < 4; k++, s++)
    if (s + 1 >= q->n_samples || sample_time (q, s + 1) > t)
      return s;
  return ((guint64) t - (guint64) q->t0) / q->res;
}

/* The samples in [start, end]: FALSE if none, else the first and last. */
static inline gboolean
sample_span (const Query2D *q, gint64 start, gint64 end, guint64 *first, guint64 *last)
{
  if (end < q->t0 || start > q->t1 || end < start)
    return FALSE;
  *first = start <= q->t0 ? 0 : sample_ceil (q, start);
  *last = ((guint64) MIN (end, q->t1) - (guint64) q->t0) / q->res;
  return *first <= *last;
}

/* By samples: the first sample from @s to @last where row @u has no
 * interval yet; G_MAXUINT64 if none. */
static inline guint64
next_missing (const Query2D *q, guint u, guint64 s, guint64 last)
{
  const guint64 *bits = q->row_missing + u * q->n_row_words;

  while (s <= last)
    {
      guint64 word = bits[s / 64] >> (s % 64);

      if (word != 0)
        {
          s += __builtin_ctzll (word);
          return s <= last ? s : G_MAXUINT64;
        }
      s = (s / 64 + 1) * 64;
    }
  return G_MAXUINT64;
}

/* Where an interval of row @u whose first sample is @s is decoded, in
 * place: copying it right after its fields are written one by one is
 * slow. record_next() then keeps it. */
static inline StrataShtInterval *
record_slot (Query2D *q, guint u, guint64 s)
{
  ShtFound *row;

  if (q->by_sample)
    return q->slots + u * q->n_samples + (q->dense ? s : q->found_len[u]);
  row = &q->found[u];
  if (G_UNLIKELY (row->len == row->alloc))
    {
      row->alloc = MAX (64, row->alloc * 2);
      row->iv = g_renew (StrataShtInterval, row->iv, row->alloc);
    }
  return &row->iv[row->len];
}

/* Keeps the interval at record_slot (@u, @a), which ends at @end;
 * returns the last sample it holds. */
static inline guint64
record_next (Query2D *q, guint u, guint64 a, gint64 end)
{
  guint64 b = MIN (sample_floor_from (q, MIN (end, q->t1), a), q->last_sample);

  if (q->by_sample)
    {
      guint64 *row_missing = q->row_missing + u * q->n_row_words;

      if (!q->dense)
        q->cells[u * q->n_samples + a] = q->found_len[u]++;
      q->used[u * q->n_row_words + a / 64] |= G_GUINT64_CONSTANT (1) << (a % 64);
      q->missing[a * q->n_words + u / 32] &= ~(1u << (u % 32));
      if (b == a)
        {
          /* Most intervals hold one sample. */
          row_missing[a / 64] &= ~(G_GUINT64_CONSTANT (1) << (a % 64));
          return b;
        }
      for (guint64 i = a + 1; i <= MIN (b, a + 3); i++)
        q->missing[i * q->n_words + u / 32] &= ~(1u << (u % 32));
      /* Samples a to b, a word at a time. */
      for (guint64 w = a / 64; w <= b / 64; w++)
        {
          guint64 mask = G_MAXUINT64;

          if (w == a / 64)
            mask &= G_MAXUINT64 << (a % 64);
          if (w == b / 64)
            mask &= G_MAXUINT64 >> (63 - b % 64);
          row_missing[w] &= ~mask;
        }
    }
  else
    q->found[u].len++;
  return b;
}

static inline void
record (Query2D *q, const StrataShtInterval *iv)
{
  guint64 a, b;
  int u;

  if (iv->quark < q->qmin || iv->quark > q->qmax)
    return;
  u = q->rowmap[iv->quark - q->qmin];
  if (u >= 0 && sample_span (q, iv->start, iv->end, &a, &b))
    {
      *record_slot (q, u, a) = *iv;
      record_next (q, u, a, iv->end);
    }
}

/* The intervals of @run (of quark @x, row @u) in @node that hold a
 * sample from @first to @last (all in the node): by samples, those the
 * row still misses; otherwise all. A binary search finds the interval of
 * each sample looked for. */
static gboolean
run_2d (StrataSht *self, const ShtNode *node, Query2D *q, guint32 x, guint u,
        const ShtRun *run, guint64 first, guint64 last, GError **error)
{
  guint64 s = q->by_sample ? next_missing (q, u, first, last) : first;
  guint i = 0;

  while (s <= last)
    {
      gint64 t = sample_time (q, s);
      StrataShtInterval *iv = record_slot (q, u, s);

      i = _strata_sht_run_seek (node, run, i, (guint64) t - (guint64) node->start);
      if (i == run->n)
        break;
      if (!_strata_sht_run_get (node, run, i, i > 0 ? _strata_sht_run_end (node, run, i - 1) : 0,
                                x, iv))
        return damaged (self, node, error);
      if (iv->start <= t)
        {
          s = record_next (q, u, s, iv->end) + 1;
          i++;
        }
      else
        /* No interval of this run holds the samples from s to the start
         * of interval i; the search starts from it again, which may hold
         * the next one. */
        s = sample_ceil_from (q, iv->start, s + 1);
      if (q->by_sample)
        s = next_missing (q, u, s, last);
    }
  return TRUE;
}

/* By samples, in a node holding one sample, @s: the interval at that time
 * of each of the @n_wanted rows in q->run_rows that miss it. This is most
 * of the work of a query over a long range (a leaf per sample), where
 * run_2d() and record_next() do more than needed. */
static gboolean
node_one_2d (StrataSht *self, const ShtNode *node, Query2D *q, guint64 s, guint n_wanted,
             GError **error)
{
  gint64 t = sample_time (q, s);
  guint64 t_off = (guint64) t - (guint64) node->start;
  /* An interval ending before the next sample holds this one only. */
  gint64 next = s + 1 < q->n_samples ? sample_time (q, s + 1) : G_MAXINT64;

  for (guint k = 0; k < n_wanted; k++)
    {
      guint u = q->run_rows[k];
      guint32 x = q->quarks[u];
      StrataShtInterval *iv = record_slot (q, u, s);
      ShtRun run;
      int r = _strata_sht_node_run (node, x, &run);
      guint i;

      if (r <= 0)
        {
          if (r < 0)
            return damaged (self, node, error);
          continue;
        }
      i = _strata_sht_run_seek (node, &run, 0, t_off);
      if (i == run.n)
        continue;
      if (!_strata_sht_run_get (node, &run, i, i > 0 ? _strata_sht_run_end (node, &run, i - 1) : 0,
                                x, iv))
        return damaged (self, node, error);
      if (iv->start > t)
        continue;
      if (iv->end >= next || !q->dense)
        record_next (q, u, s, iv->end);
      else
        {
          q->used[u * q->n_row_words + s / 64] |= G_GUINT64_CONSTANT (1) << (s % 64);
          q->row_missing[u * q->n_row_words + s / 64] &= ~(G_GUINT64_CONSTANT (1) << (s % 64));
          q->missing[s * q->n_words + u / 32] &= ~(1u << (u % 32));
        }
    }
  return TRUE;
}

/* The intervals of a closed node that hold its samples, @first to @last;
 * by samples, only for the rows still missing one at one of them. */
static gboolean
node_2d (StrataSht *self, const ShtNode *node, Query2D *q,
         guint64 first, guint64 last, GError **error)
{
  guint32 lo = MAX (q->qmin, node->own_min);
  guint32 hi = MIN (q->qmax, node->own_max);
  guint n_runs = 0, n_wanted = 0;

  if (node->n_intervals == 0 || lo > hi)
    return TRUE;

  if (!q->by_sample)
    {
      for (guint32 x = lo; x <= hi; x++)
        {
          ShtRun run;
          int r;

          if (q->rowmap[x - q->qmin] < 0)
            continue;
          r = _strata_sht_node_run (node, x, &run);
          if (r < 0)
            return damaged (self, node, error);
          if (r > 0 && !run_2d (self, node, q, x, q->rowmap[x - q->qmin], &run,
                                first, last, error))
            return FALSE;
        }
      return TRUE;
    }

  /* The rows of the node's quarks that miss an interval at one of its
   * samples. The block is seldom in the processor's cache, and the runs
   * are spread over it: they are all asked for before any is read, so
   * that their loads overlap. */
  memcpy (q->wanted, q->missing + first * q->n_words, q->n_words * sizeof (guint32));
  for (guint64 i = first + 1; i <= last; i++)
    for (guint w = 0; w < q->n_words; w++)
      q->wanted[w] |= q->missing[i * q->n_words + w];
  for (guint w = 0; w < q->n_words; w++)
    for (guint32 bits = q->wanted[w]; bits != 0; bits &= bits - 1)
      {
        guint u = w * 32 + __builtin_ctz (bits);
        guint32 x = q->quarks[u];

        if (x >= lo && x <= hi)
          {
            _strata_sht_node_prefetch_run (node, x);
            q->run_rows[n_wanted++] = u;
          }
      }
  if (first == last)
    return node_one_2d (self, node, q, first, n_wanted, error);
  for (guint k = 0; k < n_wanted; k++)
    {
      guint u = q->run_rows[k];
      int r = _strata_sht_node_run (node, q->quarks[u], &q->runs[n_runs]);

      if (r < 0)
        return damaged (self, node, error);
      if (r > 0)
        q->run_rows[n_runs++] = u;
    }
  for (guint k = 0; k < n_runs; k++)
    {
      guint u = q->run_rows[k];

      if (!run_2d (self, node, q, q->quarks[u], u, &q->runs[k], first, last, error))
        return FALSE;
    }
  return TRUE;
}

/* Asks for the lines of @node's run table that the rows of @q use, so
 * that they are on their way while another node is read. */
static inline void
prefetch_table (const ShtNode *node, const Query2D *q)
{
  guint32 lo, hi;
  const guint8 *p, *end;

  if (node->block == NULL || node->n_intervals == 0)
    return;
  lo = MAX (q->qmin, node->own_min);
  hi = MIN (q->qmax, node->own_max);
  if (lo > hi)
    return;
  p = node->table + 2 * (gsize) (lo - node->own_min);
  end = node->table + 2 * (gsize) (hi - node->own_min + 1) + 1;
  for (; p < end; p += 64)
    __builtin_prefetch (p);
  __builtin_prefetch (end);
}

static gboolean walk_2d_node (StrataSht *self, const ShtGroup *g, Query2D *q, ShtNode *node,
                              guint64 first, guint64 last, GError **error);

/* The subtree of @seq, whose samples are @first to @last. */
static gboolean
walk_2d (StrataSht *self, const ShtGroup *g, Query2D *q, guint32 seq,
         guint64 first, guint64 last, GError **error)
{
  ShtNode *node = get_node (self, g, seq, error);

  if (node == NULL)
    return FALSE;
  return walk_2d_node (self, g, q, node, first, last, error);
}

/* The same for @node, whose reference it takes. */
static gboolean
walk_2d_node (StrataSht *self, const ShtGroup *g, Query2D *q, ShtNode *node,
              guint64 first, guint64 last, GError **error)
{
  gboolean ok = TRUE;
  guint64 s = first;
  guint visit[256], n_visit = 0;
  guint64 visit_a[256], visit_b[256];
  ShtNode *next = NULL;

  if (node->block == NULL)
    for (guint i = 0; i < node->n_intervals; i++)
      record (q, &node->intervals[i]);
  else if (!q->by_sample)
    ok = node_2d (self, node, q, first, last, error);

  /* The children holding samples, in time order: the samples of each
   * follow those of the one before. */
  for (guint i = 0; i < node->n_children && ok && s <= last; i++)
    {
      const ShtChild *c = &node->children[i];
      gboolean open = c->end == G_MAXINT64;
      guint64 a, b;

      if (c->start > q->t1)
        break;
      a = c->start <= sample_time (q, s) ? s : sample_ceil_from (q, c->start, s);
      if (a > last)
        break;
      if (c->end < sample_time (q, a))
        continue;
      b = c->end >= q->t1 ? last : sample_ceil_from (q, c->end + 1, a) - 1;
      s = b + 1;
      if (!open && (c->max_quark < q->qmin || c->min_quark > q->qmax))
        continue;
      if (n_visit == G_N_ELEMENTS (visit))
        {
          /* More children than a file may give a node */
          g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
                       "State history %s is damaged: node %u has more than %u children",
                       self->path, node->seq, (guint) G_N_ELEMENTS (visit));
          ok = FALSE;
          break;
        }
      visit[n_visit] = i;
      visit_a[n_visit] = a;
      visit_b[n_visit] = MIN (b, last);
      n_visit++;
    }

  /* Each child is asked for while the one before is read: most are leaves,
   * seldom in the processor's cache. */
  for (guint k = 0; k < n_visit && ok; k++)
    {
      ShtNode *child = next;

      if (child == NULL)
        child = get_node (self, g, node->children[visit[k]].seq, error);
      next = NULL;
      if (child == NULL)
        {
          ok = FALSE;
          break;
        }
      if (k + 1 < n_visit)
        {
          next = get_node (self, g, node->children[visit[k + 1]].seq, NULL);
          if (next != NULL)
            prefetch_table (next, q);
        }
      ok = walk_2d_node (self, g, q, child, visit_a[k], visit_b[k], error);
    }
  g_clear_pointer (&next, _strata_sht_node_unref);

  /* By samples, a node's own intervals come after its children's: most
   * samples find theirs in a leaf (an ancestor holds the intervals that
   * cross its children's boundaries), and an ancestor is then read only
   * for the few rows still missing one. */
  if (ok && node->block != NULL && q->by_sample)
    ok = node_2d (self, node, q, first, last, error);
  _strata_sht_node_unref (node);
  return ok;
}

static int
compare_start (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const StrataShtInterval *x = a, *y = b;
  return (x->start > y->start) - (x->start < y->start);
}

static inline void
set_hidden_after (StrataShtInterval *iv, gboolean hidden)
{
  iv->flags &= ~STRATA_SHT_INTERVAL_HIDDEN_AFTER;
  if (hidden)
    iv->flags |= STRATA_SHT_INTERVAL_HIDDEN_AFTER;
}

static void
mark_hidden (StrataShtInterval *iv, gsize n, gint64 t1)
{
  for (gsize i = 0; i + 1 < n; i++)
    set_hidden_after (&iv[i], iv[i].end < iv[i + 1].start - 1);
  if (n > 0)
    set_hidden_after (&iv[n - 1], iv[n - 1].end < t1);
}

/* Puts the rows in time order, one after the other, and marks where they
 * skipped intervals: where one does not end right before the next
 * starts. */
static void
finish_2d (Query2D *q, StrataShtRange *range)
{
  gsize n = 0;

  range->row_start = g_new (gsize, q->n_unique + 1);
  if (q->by_sample && !q->dense)
    {
      for (gsize w = 0; w < q->n_unique * q->n_row_words; w++)
        n += __builtin_popcountll (q->used[w]);
      range->intervals = g_new (StrataShtInterval, MAX (n, 1));
      n = 0;
      for (guint u = 0; u < q->n_unique; u++)
        {
          const guint64 *used = q->used + u * q->n_row_words;
          const guint32 *cells = q->cells + u * q->n_samples;
          const StrataShtInterval *found = q->slots + u * q->n_samples;

          range->row_start[u] = n;
          for (gsize w = 0; w < q->n_row_words; w++)
            for (guint64 bits = used[w]; bits != 0; bits &= bits - 1)
              range->intervals[n++] = found[cells[w * 64 + __builtin_ctzll (bits)]];
          mark_hidden (range->intervals + range->row_start[u], n - range->row_start[u], q->t1);
        }
    }
  else if (q->by_sample)
    {
      /* Packed in place: each interval moves to a lower index, or
       * stays. */
      for (guint u = 0; u < q->n_unique; u++)
        {
          const guint64 *used = q->used + u * q->n_row_words;
          const StrataShtInterval *slots = q->slots + u * q->n_samples;

          range->row_start[u] = n;
          for (gsize w = 0; w < q->n_row_words; w++)
            for (guint64 bits = used[w]; bits != 0; bits &= bits - 1)
              {
                const StrataShtInterval *iv = &slots[w * 64 + __builtin_ctzll (bits)];

                /* Two walks found the interval over their boundary */
                if (n > range->row_start[u] && q->slots[n - 1].start == iv->start)
                  continue;
                q->slots[n++] = *iv;
              }
          mark_hidden (q->slots + range->row_start[u], n - range->row_start[u], q->t1);
        }
      /* Rows of long intervals would keep memory they do not use. */
      if (n < q->n_unique * q->n_samples / 2)
        {
          range->intervals = g_memdup2 (q->slots, MAX (n, 1) * sizeof (StrataShtInterval));
          g_free (q->slots);
        }
      else
        range->intervals = q->slots;
      q->slots = NULL;
    }
  else
    {
      for (guint u = 0; u < q->n_unique; u++)
        n += q->found[u].len;
      range->intervals = g_new (StrataShtInterval, MAX (n, 1));
      n = 0;
      for (guint u = 0; u < q->n_unique; u++)
        {
          ShtFound *row = &q->found[u];

          g_qsort_with_data (row->iv, row->len, sizeof (StrataShtInterval), compare_start, NULL);
          mark_hidden (row->iv, row->len, q->t1);
          range->row_start[u] = n;
          if (row->len > 0)
            memcpy (range->intervals + n, row->iv, row->len * sizeof (StrataShtInterval));
          n += row->len;
          g_clear_pointer (&row->iv, g_free);
        }
    }
  range->row_start[q->n_unique] = n;
}

/* tree_lock held. Whether the rows of @q will find about one interval per
 * sample (dense) rather than intervals holding many samples each: from the
 * leaf holding the range's start in the tree of the first quark asked for,
 * its intervals per quark and per step. A guess, which only decides where
 * intervals are kept; an error is left to the query. */
static gboolean
expect_dense (StrataSht *self, const Query2D *q)
{
  const ShtGroup *g;
  guint32 seq = 0;

  g = group_tree (self, q->qmin / self->group_size, &seq);
  while (g != NULL)
    {
      ShtNode *node = get_node (self, g, seq, NULL);
      int c;

      if (node == NULL || node->block == NULL)
        {
          /* Being written: too early to tell. */
          g_clear_pointer (&node, _strata_sht_node_unref);
          break;
        }
      c = child_at (node, q->t0);
      if (node->n_children == 0 || c < 0)
        {
          double span = (double) ((guint64) node->end - (guint64) node->start) + 1;
          gboolean dense = node->n_intervals == 0
                           || node->n_intervals / (double) (node->own_max - node->own_min + 1)
                              * (double) q->res / span >= 0.5;

          _strata_sht_node_unref (node);
          return dense;
        }
      seq = node->children[c].seq;
      _strata_sht_node_unref (node);
    }
  return TRUE;
}

/* The trees of the groups of the quarks asked for, for samples @first to
 * @last. */
static gboolean
walk_groups (StrataSht *self, Query2D *q, guint64 first, guint64 last, GError **error)
{
  gboolean ok = TRUE;

  for (guint i = q->qmin / self->group_size; i <= q->qmax / self->group_size && ok; i++)
    {
      guint32 lo = MAX (q->qmin, i * self->group_size);
      guint32 hi = MIN (q->qmax, (i + 1) * self->group_size - 1);
      gboolean wanted = FALSE;
      const ShtGroup *g;
      guint32 root = 0;

      for (guint32 x = lo; x <= hi && !wanted; x++)
        wanted = q->rowmap[x - q->qmin] >= 0;
      g = wanted ? group_tree (self, i, &root) : NULL;
      if (g != NULL)
        ok = walk_2d (self, g, q, root, first, last, error);
    }
  return ok;
}

/* A dense query of this many samples or more is split in two halves in
 * time, walked at once on two processors: over a long range it reads a
 * leaf or more per sample, and waits for memory most of the time. */
#define SPLIT_MIN_SAMPLES  1024

typedef struct
{
  StrataSht *self;
  Query2D    q;
  guint64    first;
  gboolean   ok;
  GError    *error;
} Half;

static gpointer
half_thread (gpointer data)
{
  Half *h = data;

  h->ok = walk_groups (h->self, &h->q, h->first, h->q.n_samples - 1, &h->error);
  return NULL;
}

/* tree_lock held for reading (for both walks: the other thread is joined
 * before it is released), the history closed: a walk writes only the
 * samples it is given, and the two share no 64-bit word of a row's
 * bitmaps. The interval over the boundary is found by both; finish_2d()
 * keeps it once. */
static gboolean
walk_split (StrataSht *self, Query2D *q, GError **error)
{
  Half h = { self, *q, (q->n_samples / 2) & ~(guint64) 63, TRUE, NULL };
  g_autofree guint32 *wanted = g_new (guint32, q->n_words);
  g_autofree ShtRun *runs = g_new (ShtRun, q->n_unique);
  g_autofree guint *run_rows = g_new (guint, q->n_unique);
  GThread *thread;
  gboolean ok;

  h.q.wanted = wanted;
  h.q.runs = runs;
  h.q.run_rows = run_rows;
  thread = g_thread_try_new ("strata-sht-query", half_thread, &h, NULL);
  if (thread == NULL)
    return walk_groups (self, q, 0, q->n_samples - 1, error);
  q->last_sample = h.first - 1;
  ok = walk_groups (self, q, 0, h.first - 1, error);
  q->last_sample = q->n_samples - 1;
  g_thread_join (thread);
  if (ok && !h.ok)
    g_propagate_error (error, g_steal_pointer (&h.error));
  g_clear_error (&h.error);
  return ok && h.ok;
}

/**
 * strata_sht_query_2d:
 * @self: a #StrataSht
 * @quarks: (array length=n_quarks): the attributes, one row each
 * @n_quarks: their number
 * @t0: start of the range
 * @t1: end of the range (inclusive)
 * @resolution: the step between sample times, in ns (≥ 1)
 * @error: return location for a #GError
 *
 * The query behind a time graph: for each attribute, the intervals that
 * hold one of the sample times `t0 + i·resolution` up to @t1, in time
 * order, at most one per step. Intervals shorter than the step that fall
 * between samples are not returned; the interval before them carries
 * %STRATA_SHT_INTERVAL_HIDDEN_AFTER so that the view can show that
 * something happened there. The range is clipped to the history.
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 */
StrataShtRange *
strata_sht_query_2d (StrataSht      *self,
                     const guint32  *quarks,
                     guint           n_quarks,
                     gint64          t0,
                     gint64          t1,
                     gint64          resolution,
                     GError        **error)
{
  Query2D q = { 0 };
  StrataShtRange *range;
  gboolean writing, ok = TRUE;
  guint n_all;
  g_autofree int *rowmap = NULL;
  g_autofree guint32 *unique_quarks = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (quarks != NULL || n_quarks == 0, NULL);
  g_return_val_if_fail (t0 <= t1, NULL);
  g_return_val_if_fail (resolution >= 1, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  n_all = g_atomic_int_get (&self->n_quarks);
  q.qmin = G_MAXUINT32;
  q.qmax = 0;
  for (guint i = 0; i < n_quarks; i++)
    {
      if (quarks[i] >= n_all)
        {
          invalid_quark (self, quarks[i], error);
          return NULL;
        }
      q.qmin = MIN (q.qmin, quarks[i]);
      q.qmax = MAX (q.qmax, quarks[i]);
    }

  t0 = MAX (t0, self->start_time);
  if (!query_begin (self, t0, &t1, &writing, error))
    return NULL;

  range = g_new0 (StrataShtRange, 1);
  range->n_rows = n_quarks;
  range->row_to_unique = g_new (guint, MAX (n_quarks, 1));
  if (n_quarks == 0)
    {
      g_rw_lock_reader_unlock (&self->tree_lock);
      return range;
    }

  rowmap = g_new (int, q.qmax - q.qmin + 1);
  unique_quarks = g_new (guint32, n_quarks);
  for (guint32 i = 0; i <= q.qmax - q.qmin; i++)
    rowmap[i] = -1;
  for (guint i = 0; i < n_quarks; i++)
    {
      int *slot = &rowmap[quarks[i] - q.qmin];
      if (*slot < 0)
        {
          unique_quarks[q.n_unique] = quarks[i];
          *slot = q.n_unique++;
        }
      range->row_to_unique[i] = *slot;
    }
  q.rowmap = rowmap;
  q.quarks = unique_quarks;
  q.t0 = t0;
  q.t1 = t1;
  q.res = (guint64) resolution;
  q.n_samples = ((guint64) t1 - (guint64) t0) / q.res + 1;
  q.last_sample = q.n_samples - 1;
  q.by_sample = q.n_samples <= SLOTS_MAX / q.n_unique;
  if (q.by_sample)
    {
      gsize n_row_words = (q.n_samples + 63) / 64;

      q.dense = expect_dense (self, &q);
      q.slots = g_new (StrataShtInterval, q.n_unique * q.n_samples);
      if (!q.dense)
        {
          q.found_len = g_new0 (guint, q.n_unique);
          q.cells = g_new (guint32, q.n_unique * q.n_samples);
        }
      q.n_row_words = n_row_words;
      q.used = g_new0 (guint64, q.n_unique * n_row_words);
      q.row_missing = g_new (guint64, q.n_unique * n_row_words);
      memset (q.row_missing, 0xff, q.n_unique * n_row_words * sizeof (guint64));
      q.n_words = (q.n_unique + 31) / 32;
      q.missing = g_new (guint32, q.n_samples * q.n_words);
      q.wanted = g_new0 (guint32, q.n_words);
      q.runs = g_new (ShtRun, q.n_unique);
      q.run_rows = g_new (guint, q.n_unique);
      for (guint u = 0; u < q.n_unique; u++)
        q.wanted[u / 32] |= 1u << (u % 32);
      for (guint64 i = 0; i < q.n_samples; i++)
        memcpy (q.missing + i * q.n_words, q.wanted, q.n_words * sizeof (guint32));
    }
  else
    q.found = g_new0 (ShtFound, q.n_unique);

  if (writing)
    {
      g_mutex_lock (&self->mutex);
      for (GList *l = self->pending.head; l != NULL; l = l->next)
        {
          const Chunk *c = l->data;
          for (guint i = 0; i < c->n; i++)
            record (&q, &c->iv[i]);
        }
      for (guint i = 0; i < self->cur->n; i++)
        record (&q, &self->cur->iv[i]);
      if (self->state == STATE_WRITING)
        for (guint32 x = q.qmin; x <= q.qmax; x++)
          if (rowmap[x - q.qmin] >= 0)
            {
              StrataShtInterval iv;
              ongoing_interval (self, x, &iv);
              record (&q, &iv);
            }
      g_mutex_unlock (&self->mutex);
    }

  if (!writing && q.by_sample && q.dense && q.n_samples >= SPLIT_MIN_SAMPLES
      && g_get_num_processors () > 1)
    ok = walk_split (self, &q, error);
  else
    ok = walk_groups (self, &q, 0, q.n_samples - 1, error);
  g_rw_lock_reader_unlock (&self->tree_lock);

  finish_2d (&q, range);
  g_free (q.found);
  g_free (q.slots);
  g_free (q.found_len);
  g_free (q.cells);
  g_free (q.used);
  g_free (q.row_missing);
  g_free (q.missing);
  g_free (q.wanted);
  g_free (q.runs);
  g_free (q.run_rows);

  if (!ok)
    {
      strata_sht_range_free (range);
      return NULL;
    }
  return range;
}

guint
strata_sht_range_get_n_rows (StrataShtRange *range)
{
  g_return_val_if_fail (range != NULL, 0);
  return range->n_rows;
}

/**
 * strata_sht_range_get_row:
 * @range: a #StrataShtRange
 * @row: a row, in the order of the quarks queried
 * @n_intervals: (out): the number of intervals
 *
 * Returns: (transfer none) (array length=n_intervals): the row's intervals
 *   in time order
 */
const StrataShtInterval *
strata_sht_range_get_row (StrataShtRange *range,
                          guint           row,
                          guint          *n_intervals)
{
  guint u;

  g_return_val_if_fail (range != NULL, NULL);
  g_return_val_if_fail (row < range->n_rows, NULL);
  g_return_val_if_fail (n_intervals != NULL, NULL);

  u = range->row_to_unique[row];
  *n_intervals = range->row_start[u + 1] - range->row_start[u];
  return range->intervals + range->row_start[u];
}

void
strata_sht_range_free (StrataShtRange *range)
{
  if (range == NULL)
    return;
  g_free (range->intervals);
  g_free (range->row_start);
  g_free (range->row_to_unique);
  g_free (range);
}

void
strata_sht_range_iter_init (StrataShtRangeIter *iter,
                            StrataShtRange     *range,
                            guint               row,
                            gboolean            from_end)
{
  g_return_if_fail (iter != NULL);
  g_return_if_fail (range != NULL);
  g_return_if_fail (row < range->n_rows);

  iter->intervals = strata_sht_range_get_row (range, row, &iter->n);
  iter->pos = from_end ? iter->n : 0;
}

/**
 * strata_sht_range_iter_next:
 * @iter: a #StrataShtRangeIter
 *
 * Returns: (transfer none) (nullable): the next interval forwards in time,
 *   or %NULL past the last
 */
const StrataShtInterval *
strata_sht_range_iter_next (StrataShtRangeIter *iter)
{
  g_return_val_if_fail (iter != NULL, NULL);
  if (iter->pos >= iter->n)
    return NULL;
  return &iter->intervals[iter->pos++];
}

/**
 * strata_sht_range_iter_previous:
 * @iter: a #StrataShtRangeIter
 *
 * Returns: (transfer none) (nullable): the next interval backwards in
 *   time, or %NULL before the first
 */
const StrataShtInterval *
strata_sht_range_iter_previous (StrataShtRangeIter *iter)
{
  g_return_val_if_fail (iter != NULL, NULL);
  if (iter->pos == 0)
    return NULL;
  return &iter->intervals[--iter->pos];
}
