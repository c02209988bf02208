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

/* Locks, always taken in this order:
 *
 *   attr_lock (rw)   the attribute tree
 *   tree_lock (rw)   the tree: the open branch, the node count, the state
 *   mutex            the ongoing state and the queue
 *   cache_lock       the node cache
 *
 * The writing thread (the analysis) holds the mutex for each change. The
 * tree's own thread inserts a queued chunk under the tree's write lock and
 * removes it from the queue before releasing it, so that a query (tree read
 * lock, then the mutex) sees every interval exactly once: in the tree or in
 * the queue, or as an ongoing state. */

G_DEFINE_QUARK (strata-sht-error-quark, strata_sht_error)

gboolean
strata_sht_value_equal (const StrataShtValue *a,
                        const StrataShtValue *b)
{
  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
    case STRATA_SHT_VALUE_INT32:
      return a->u.i32 == b->u.i32;
    case STRATA_SHT_VALUE_INT64:
      return a->u.i64 == b->u.i64;
    case STRATA_SHT_VALUE_DOUBLE:
      /* Bits, not ==: NaN stays NaN and −0 is not 0. */
      return memcmp (&a->u.d, &b->u.d, sizeof (double)) == 0;
    case STRATA_SHT_VALUE_STRING:
      return a->u.str == b->u.str;
    default:
      return TRUE;
    }
}

/* ------------------------------------------------------------------ */
/* Attribute tree and string pool                                     */

static guint
quark_key_hash (gconstpointer p)
{
  const QuarkKey *k = p;
  return g_str_hash (k->name) * 31 + k->parent;
}

static gboolean
quark_key_equal (gconstpointer a, gconstpointer b)
{
  const QuarkKey *x = a, *y = b;
  return x->parent == y->parent && strcmp (x->name, y->name) == 0;
}

static void
ongoing_grow (StrataSht *self, guint n)
{
  if (n > self->ongoing_alloc)
    {
      self->ongoing_alloc = MAX (n, self->ongoing_alloc * 2);
      self->ongoing = g_renew (Ongoing, self->ongoing, self->ongoing_alloc);
    }
  for (guint q = self->n_ongoing; q < n; q++)
    {
      self->ongoing[q].start = self->start_time;
      self->ongoing[q].value = STRATA_SHT_NULL;
    }
  self->n_ongoing = n;
}

/* attr_lock held for writing. */
guint32
_strata_sht_quark_add (StrataSht *self, guint32 parent, const char *name)
{
  guint32 q = self->quark_names->len;
  QuarkKey *key = g_new (QuarkKey, 1);
  char *owned = g_strdup (name);

  key->parent = parent;
  key->name = owned;
  g_ptr_array_add (self->quark_names, owned);
  g_array_append_val (self->quark_parents, parent);
  g_hash_table_insert (self->quark_index, key, GUINT_TO_POINTER (q + 1));
  return q;
}

guint32
_strata_sht_quark_find (StrataSht *self, guint32 parent, const char *name)
{
  QuarkKey key = { parent, name };
  gpointer v = g_hash_table_lookup (self->quark_index, &key);

  return v ? GPOINTER_TO_UINT (v) - 1 : STRATA_SHT_QUARK_INVALID;
}

/**
 * strata_sht_quark_lookup:
 * @self: a #StrataSht
 * @parent: the parent attribute (%STRATA_SHT_ROOT for the top level)
 * @name: the child's name
 *
 * Returns: the quark of @parent's child @name, or
 *   %STRATA_SHT_QUARK_INVALID if it does not exist
 */
guint32
strata_sht_quark_lookup (StrataSht  *self,
                         guint32     parent,
                         const char *name)
{
  guint32 q;

  g_return_val_if_fail (self != NULL, STRATA_SHT_QUARK_INVALID);
  g_return_val_if_fail (name != NULL, STRATA_SHT_QUARK_INVALID);

  g_rw_lock_reader_lock (&self->attr_lock);
  q = _strata_sht_quark_find (self, parent, name);
  g_rw_lock_reader_unlock (&self->attr_lock);
  return q;
}

/**
 * strata_sht_quark_get:
 * @self: a #StrataSht being written
 * @parent: the parent attribute (%STRATA_SHT_ROOT for the top level)
 * @name: the child's name
 *
 * Returns the quark of @parent's child @name, creating it (with the null
 * value since the history's start) if needed. Only the writing thread
 * creates attributes.
 *
 * Returns: the quark
 */
guint32
strata_sht_quark_get (StrataSht  *self,
                      guint32     parent,
                      const char *name)
{
  guint32 q;

  g_return_val_if_fail (self != NULL, STRATA_SHT_QUARK_INVALID);
  g_return_val_if_fail (name != NULL, STRATA_SHT_QUARK_INVALID);

  q = strata_sht_quark_lookup (self, parent, name);
  if (q != STRATA_SHT_QUARK_INVALID)
    return q;

  g_rw_lock_writer_lock (&self->attr_lock);
  q = _strata_sht_quark_find (self, parent, name);
  if (q == STRATA_SHT_QUARK_INVALID)
    {
      gboolean writable;

      g_mutex_lock (&self->mutex);
      writable = self->state == STATE_WRITING && parent < self->n_ongoing;
      if (writable)
        {
          q = _strata_sht_quark_add (self, parent, name);
          ongoing_grow (self, q + 1);
          g_atomic_int_set (&self->n_quarks, q + 1);
        }
      g_mutex_unlock (&self->mutex);
      if (!writable)
        g_critical ("Cannot create attribute \"%s\" under quark %u of %s: "
                    "the history is not being written, or the parent does not exist",
                    name, parent, self->path);
    }
  g_rw_lock_writer_unlock (&self->attr_lock);
  return q;
}

static guint32
quark_path (StrataSht *self, const char *path, gboolean create)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  guint32 q = STRATA_SHT_ROOT;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0')
        continue;
      q = create ? strata_sht_quark_get (self, q, parts[i])
                 : strata_sht_quark_lookup (self, q, parts[i]);
      if (q == STRATA_SHT_QUARK_INVALID)
        break;
    }
  return q;
}

/**
 * strata_sht_quark_get_path:
 * @self: a #StrataSht being written
 * @path: names separated by `/`, from the root
 *
 * Returns: the quark of @path, created with its ancestors if needed
 */
guint32
strata_sht_quark_get_path (StrataSht  *self,
                           const char *path)
{
  g_return_val_if_fail (self != NULL, STRATA_SHT_QUARK_INVALID);
  g_return_val_if_fail (path != NULL, STRATA_SHT_QUARK_INVALID);
  return quark_path (self, path, TRUE);
}

/**
 * strata_sht_quark_lookup_path:
 * @self: a #StrataSht
 * @path: names separated by `/`, from the root
 *
 * Returns: the quark of @path, or %STRATA_SHT_QUARK_INVALID
 */
guint32
strata_sht_quark_lookup_path (StrataSht  *self,
                              const char *path)
{
  g_return_val_if_fail (self != NULL, STRATA_SHT_QUARK_INVALID);
  g_return_val_if_fail (path != NULL, STRATA_SHT_QUARK_INVALID);
  return quark_path (self, path, FALSE);
}

/**
 * strata_sht_quark_get_name:
 * @self: a #StrataSht
 * @quark: an attribute
 *
 * Returns: (transfer none) (nullable): its name, valid as long as @self;
 *   %NULL for an invalid quark
 */
const char *
strata_sht_quark_get_name (StrataSht *self,
                           guint32    quark)
{
  const char *name = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  g_rw_lock_reader_lock (&self->attr_lock);
  if (quark < self->quark_names->len)
    name = g_ptr_array_index (self->quark_names, quark);
  g_rw_lock_reader_unlock (&self->attr_lock);
  return name;
}

/**
 * strata_sht_quark_get_parent:
 * @self: a #StrataSht
 * @quark: an attribute
 *
 * Returns: its parent, or %STRATA_SHT_QUARK_INVALID for the root or an
 *   invalid quark
 */
guint32
strata_sht_quark_get_parent (StrataSht *self,
                             guint32    quark)
{
  guint32 parent = STRATA_SHT_QUARK_INVALID;

  g_return_val_if_fail (self != NULL, STRATA_SHT_QUARK_INVALID);

  g_rw_lock_reader_lock (&self->attr_lock);
  if (quark > 0 && quark < self->quark_parents->len)
    parent = g_array_index (self->quark_parents, guint32, quark);
  g_rw_lock_reader_unlock (&self->attr_lock);
  return parent;
}

/**
 * strata_sht_quark_dup_path:
 * @self: a #StrataSht
 * @quark: an attribute
 *
 * Returns: (transfer full) (nullable): its path from the root, names
 *   separated by `/` (the root is ""); %NULL for an invalid quark
 */
char *
strata_sht_quark_dup_path (StrataSht *self,
                           guint32    quark)
{
  GPtrArray *names;
  GString *path;

  g_return_val_if_fail (self != NULL, NULL);

  g_rw_lock_reader_lock (&self->attr_lock);
  if (quark >= self->quark_names->len)
    {
      g_rw_lock_reader_unlock (&self->attr_lock);
      return NULL;
    }
  names = g_ptr_array_new ();
  for (guint32 q = quark; q != STRATA_SHT_ROOT; q = g_array_index (self->quark_parents, guint32, q))
    g_ptr_array_add (names, g_ptr_array_index (self->quark_names, q));
  path = g_string_new (NULL);
  for (guint i = names->len; i > 0; i--)
    {
      if (path->len > 0)
        g_string_append_c (path, '/');
      g_string_append (path, g_ptr_array_index (names, i - 1));
    }
  g_rw_lock_reader_unlock (&self->attr_lock);
  g_ptr_array_unref (names);
  return g_string_free (path, FALSE);
}

/**
 * strata_sht_quark_dup_children:
 * @self: a #StrataSht
 * @quark: an attribute
 *
 * Returns: (transfer full): the quarks (guint32) of its children, in
 *   creation order
 */
GArray *
strata_sht_quark_dup_children (StrataSht *self,
                               guint32    quark)
{
  GArray *children = g_array_new (FALSE, FALSE, sizeof (guint32));

  g_return_val_if_fail (self != NULL, children);

  /* Attribute trees have thousands of nodes, and listing children is for
   * building views, not for hot paths: a scan is enough. */
  g_rw_lock_reader_lock (&self->attr_lock);
  for (guint32 q = 1; q < self->quark_parents->len; q++)
    if (g_array_index (self->quark_parents, guint32, q) == quark)
      g_array_append_val (children, q);
  g_rw_lock_reader_unlock (&self->attr_lock);
  return children;
}

guint
strata_sht_get_n_quarks (StrataSht *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_atomic_int_get (&self->n_quarks);
}

/* str_lock held. */
static guint32
string_add (StrataSht *self, const char *text)
{
  guint32 id = self->n_strings;
  const char *copy = g_string_chunk_insert (self->str_chunk, text);
  guint c = id >> STRING_CHUNK_BITS;

  if (self->str_table[c] == NULL)
    self->str_table[c] = g_new0 (const char *, STRING_CHUNK);
  self->str_table[c][id & (STRING_CHUNK - 1)] = copy;
  g_hash_table_insert (self->str_index, (gpointer) copy, GUINT_TO_POINTER (id + 1));
  /* Published after the pointer: a reader that sees the count sees the
   * string. */
  g_atomic_int_set (&self->n_strings, id + 1);
  return id;
}

/**
 * strata_sht_intern:
 * @self: a #StrataSht being written
 * @text: a string
 *
 * Stores @text once in the history's string pool.
 *
 * Returns: its id, the same for equal strings
 */
guint32
strata_sht_intern (StrataSht  *self,
                   const char *text)
{
  gpointer v;
  guint32 id;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (text != NULL, 0);

  g_mutex_lock (&self->str_lock);
  v = g_hash_table_lookup (self->str_index, text);
  if (v != NULL)
    id = GPOINTER_TO_UINT (v) - 1;
  else if (self->n_strings >= STRING_MAX_CHUNKS * STRING_CHUNK)
    {
      g_critical ("%s: the string pool is full", self->path);
      id = 0;
    }
  else
    id = string_add (self, text);
  g_mutex_unlock (&self->str_lock);
  return id;
}

/**
 * strata_sht_get_string:
 * @self: a #StrataSht
 * @id: a string id from a value
 *
 * Returns: (transfer none) (nullable): the text, valid as long as @self,
 *   or %NULL for an unknown id
 */
const char *
strata_sht_get_string (StrataSht *self,
                       guint32    id)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (id >= (guint32) g_atomic_int_get (&self->n_strings))
    return NULL;
  return self->str_table[id >> STRING_CHUNK_BITS][id & (STRING_CHUNK - 1)];
}

guint
strata_sht_get_n_strings (StrataSht *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_atomic_int_get (&self->n_strings);
}

/* ------------------------------------------------------------------ */
/* Construction                                                       */

StrataSht *
_strata_sht_new (const char *path)
{
  StrataSht *self = g_new0 (StrataSht, 1);

  self->path = g_strdup (path);
  self->fd = -1;
  g_rw_lock_init (&self->attr_lock);
  g_rw_lock_init (&self->tree_lock);
  g_mutex_init (&self->mutex);
  g_mutex_init (&self->str_lock);
  g_rw_lock_init (&self->cache_lock);
  g_cond_init (&self->not_full);
  g_cond_init (&self->not_empty);
  self->quark_names = g_ptr_array_new_with_free_func (g_free);
  self->quark_parents = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->quark_index = g_hash_table_new_full (quark_key_hash, quark_key_equal, g_free, NULL);
  self->str_index = g_hash_table_new (g_str_hash, g_str_equal);
  self->str_chunk = g_string_chunk_new (64 * 1024);
  self->str_table = g_new0 (const char **, STRING_MAX_CHUNKS);
  self->cache = g_hash_table_new (NULL, NULL);
  self->cached = g_ptr_array_new ();
  g_queue_init (&self->pending);
  return self;
}

static gpointer writer_thread (gpointer data);

static gboolean
write_all (StrataSht *self, const void *data, gsize len, guint64 offset, GError **error)
{
  const guint8 *p = data;

  while (len > 0)
    {
      gssize n = pwrite (self->fd, p, len, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int e = n < 0 ? errno : ENOSPC;
          g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_IO,
                       "Cannot write state history %s: %s",
                       self->part_path ? self->part_path : self->path, g_strerror (e));
          return FALSE;
        }
      p += n;
      len -= n;
      offset += n;
    }
  return TRUE;
}

/* The header of a history being written: valid, but not finished, so that
 * opening a file left behind says what it is. */
static void
fill_header (StrataSht *self, guint8 *h, gboolean finished,
             guint64 attr_offset, guint64 attr_length, guint32 attr_crc,
             guint64 str_offset, guint64 str_length, guint32 str_crc)
{
  memset (h, 0, self->block_size);
  memcpy (h + SHT_HDR_MAGIC, STRATA_SHT_MAGIC, 8);
  _strata_sht_put_u32 (h + SHT_HDR_FORMAT_VERSION, STRATA_SHT_FORMAT_VERSION);
  _strata_sht_put_u32 (h + SHT_HDR_FLAGS, finished ? SHT_HDR_FLAG_FINISHED : 0);
  _strata_sht_put_u32 (h + SHT_HDR_ANALYSIS, self->analysis_version);
  _strata_sht_put_u32 (h + SHT_HDR_BLOCK_SIZE, self->block_size);
  _strata_sht_put_u32 (h + SHT_HDR_MAX_CHILDREN, self->max_children);
  _strata_sht_put_u64 (h + SHT_HDR_START, (guint64) self->start_time);
  if (finished)
    {
      _strata_sht_put_u32 (h + SHT_HDR_DEPTH, _strata_sht_max_depth (self));
      _strata_sht_put_u64 (h + SHT_HDR_N_NODES, self->n_nodes);
      _strata_sht_put_u32 (h + SHT_HDR_GROUP_SIZE, self->group_size);
      _strata_sht_put_u32 (h + SHT_HDR_N_GROUPS, self->n_groups);
      _strata_sht_put_u64 (h + SHT_HDR_END, (guint64) self->end_time);
      _strata_sht_put_u64 (h + SHT_HDR_N_INTERVALS, self->n_intervals);
      _strata_sht_put_u64 (h + SHT_HDR_ATTR_OFFSET, attr_offset);
      _strata_sht_put_u64 (h + SHT_HDR_ATTR_LENGTH, attr_length);
      _strata_sht_put_u32 (h + SHT_HDR_ATTR_CRC, attr_crc);
      _strata_sht_put_u32 (h + SHT_HDR_N_QUARKS, self->quark_names->len);
      _strata_sht_put_u64 (h + SHT_HDR_STR_OFFSET, str_offset);
      _strata_sht_put_u64 (h + SHT_HDR_STR_LENGTH, str_length);
      _strata_sht_put_u32 (h + SHT_HDR_STR_CRC, str_crc);
      _strata_sht_put_u32 (h + SHT_HDR_N_STRINGS, self->n_strings);
      _strata_sht_put_u64 (h + SHT_HDR_FILE_LENGTH, str_offset + str_length);
    }
  _strata_sht_put_u32 (h + SHT_HDR_CRC, _strata_sht_crc32c (0, h, SHT_HDR_CRC));
}

/**
 * strata_sht_create:
 * @path: the file to write; it appears only when strata_sht_close()
 *   succeeds (until then the history is written to `@path.part`)
 * @start_time: the first time of the history; every attribute is null
 *   from then on until it changes
 * @analysis_version: the version of what is stored, checked by
 *   strata_sht_open()
 * @options: (nullable): sizes, or %NULL for the defaults
 * @error: return location for a #GError
 *
 * Starts writing a history. The caller's thread is the writing thread:
 * only it creates attributes and changes states.
 *
 * Returns: (transfer full): a new #StrataSht, or %NULL with @error set
 */
StrataSht *
strata_sht_create (const char              *path,
                   gint64                   start_time,
                   guint32                  analysis_version,
                   const StrataShtOptions  *options,
                   GError                 **error)
{
  g_autoptr(StrataSht) self = NULL;
  StrataShtOptions opts = { 0 };
  guint queue;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options != NULL)
    opts = *options;
  if (opts.block_size == 0)
    opts.block_size = STRATA_SHT_DEFAULT_BLOCK_SIZE;
  if (opts.max_children == 0)
    opts.max_children = STRATA_SHT_DEFAULT_MAX_CHILDREN;
  if (opts.cache_bytes == 0)
    opts.cache_bytes = STRATA_SHT_DEFAULT_CACHE_BYTES;
  queue = opts.queue_intervals ? opts.queue_intervals : 64 * 1024;

  /* A core node must hold its child entries and still a few intervals,
   * or the tree could not grow. */
  if (opts.block_size < 1024 || opts.block_size > 64 * 1024
      || (opts.block_size & (opts.block_size - 1)) != 0
      || opts.max_children < 2 || opts.max_children > 256
      || SHT_NODE_HEADER_SIZE + (opts.max_children + 4) * SHT_CHILD_MAX_BYTES > opts.block_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot create state history %s: block size %u and %u children per node do not fit",
                   path, opts.block_size, opts.max_children);
      return NULL;
    }

  self = _strata_sht_new (path);
  self->part_path = g_strconcat (path, ".part", NULL);
  self->analysis_version = analysis_version;
  self->block_size = opts.block_size;
  self->max_children = opts.max_children;
  self->cache_budget = opts.cache_bytes;
  self->max_pending = MAX (2, queue / CHUNK_INTERVALS);
  self->start_time = start_time;
  self->end_time = start_time;
  self->block = g_malloc (self->block_size);
  self->state = STATE_WRITING;

  self->fd = g_open (self->part_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (self->fd < 0)
    {
      int e = errno;
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_IO,
                   "Cannot create state history %s: %s", self->part_path, g_strerror (e));
      g_clear_pointer (&self->part_path, g_free);
      return NULL;
    }
  fill_header (self, self->block, FALSE, 0, 0, 0, 0, 0, 0);
  if (!write_all (self, self->block, self->block_size, 0, error))
    return NULL;

  /* The root attribute, and a tree of one empty leaf. */
  _strata_sht_quark_add (self, STRATA_SHT_QUARK_INVALID, "");
  ongoing_grow (self, 1);
  self->n_quarks = 1;
  /* Intervals take 10 bytes or less: a group of B / 20 attributes or
   * fewer keeps its tree branching, and larger blocks branch more rather
   * than spread a view's rows over more groups (FORMAT.md). */
  self->group_size = CLAMP (self->block_size / 20, 8, SHT_GROUP_SIZE_MAX);
  self->cur = g_new (Chunk, 1);
  self->cur->n = 0;

  self->thread = g_thread_new ("strata-sht", writer_thread, self);
  return g_steal_pointer (&self);
}

/* ------------------------------------------------------------------ */
/* The tree's thread                                                  */

/* Closes an open node at @end: it is written, and kept in the cache since
 * a view showing the analysis as it progresses is likely to want it. */
static gboolean
close_node (StrataSht *self, ShtGroup *g, guint level, gint64 end, GError **error)
{
  ShtNode *node = g->branch[level];
  guint32 seq = node->seq;
  guint8 *block = _strata_sht_node_block_new (self->block_size);
  gboolean ok;

  node->end = end;
  node->kind = node->n_children > 0 ? SHT_NODE_CORE : SHT_NODE_LEAF;
  if (level > 0)
    {
      ShtNode *parent = g->branch[level - 1];
      ShtChild *entry = &parent->children[parent->n_children - 1];

      g_assert (entry->seq == node->seq);
      entry->end = end;
      entry->min_quark = node->min_quark;
      entry->max_quark = node->max_quark;
    }
  _strata_sht_node_serialize (node, block, self->block_size);
  ok = write_all (self, block, self->block_size,
                  (guint64) self->block_size * (1 + (guint64) node->seq), error);
  _strata_sht_node_unref (node);

  /* Cached in the form queries read, straight from what was written. */
  if (!ok)
    g_free (block);
  else
    {
      ShtNode *closed = _strata_sht_node_deserialize (block, self->block_size, seq, error);
      ok = closed != NULL;
      if (ok)
        {
          _strata_sht_cache_insert (self, closed);
          _strata_sht_node_unref (closed);
        }
    }
  g->branch[level] = NULL;
  return ok;
}

/* Closes the open nodes from @level down, at the latest end inserted: a
 * node's range then holds all its intervals, and the next node of that
 * level will start after it. */
static gboolean
close_from (StrataSht *self, ShtGroup *g, guint level, GError **error)
{
  for (guint l = g->depth; l > level; l--)
    if (g->branch[l - 1] != NULL && !close_node (self, g, l - 1, g->tree_end, error))
      return FALSE;
  return TRUE;
}

/* A new level on top: a root whose first child is the current root. */
static void
grow_root (StrataSht *self, ShtGroup *g)
{
  ShtNode *old = g->branch[0];
  ShtNode *root = _strata_sht_node_new (self->n_nodes++, SHT_NO_PARENT, SHT_NODE_CORE,
                                        self->start_time, self->max_children,
                                        g->qbase, self->group_size);
  ShtChild *entry = &root->children[root->n_children++];

  old->parent = root->seq;
  entry->seq = old->seq;
  entry->start = old->start;
  entry->end = G_MAXINT64;
  entry->min_quark = old->min_quark;
  entry->max_quark = old->max_quark;
  root->min_quark = old->min_quark;
  root->max_quark = old->max_quark;
  root->used += SHT_CHILD_MAX_BYTES;

  g->branch = g_renew (ShtNode *, g->branch, g->depth + 1);
  memmove (g->branch + 1, g->branch, g->depth * sizeof (ShtNode *));
  g->branch[0] = root;
  g->depth++;
}

static gboolean
has_room_for_child (StrataSht *self, const ShtNode *node)
{
  return node->n_children < self->max_children
         && _strata_sht_node_size (node) + SHT_CHILD_MAX_BYTES <= self->block_size;
}

/* Opens a node at @level (> 0, where no node is open), starting just after
 * the latest end inserted, with the ancestors it needs. Nodes are only
 * opened for an interval that goes into them: none is ever empty. */
static gboolean
open_node (StrataSht *self, ShtGroup *g, guint level, GError **error)
{
  ShtNode *parent = g->branch[level - 1];
  ShtNode *node;
  ShtChild *entry;
  guint depth;

  g_assert (level > 0 && g->branch[level] == NULL);

  if (parent == NULL || !has_room_for_child (self, parent))
    {
      if (parent != NULL)
        {
          if (level == 1)
            {
              grow_root (self, g);
              level++;
            }
          if (!close_from (self, g, level - 1, error))
            return FALSE;
        }
      depth = g->depth;
      if (!open_node (self, g, level - 1, error))
        return FALSE;
      /* Opening the parent may have grown the root: levels move down. */
      level += g->depth - depth;
      parent = g->branch[level - 1];
    }

  node = _strata_sht_node_new (self->n_nodes++, parent->seq, SHT_NODE_LEAF,
                               g->tree_end + 1, self->max_children,
                               g->qbase, self->group_size);
  if (parent->children == NULL)
    parent->children = g_new0 (ShtChild, self->max_children);
  parent->kind = SHT_NODE_CORE;
  entry = &parent->children[parent->n_children++];
  entry->seq = node->seq;
  entry->start = node->start;
  entry->end = G_MAXINT64;
  entry->min_quark = G_MAXUINT32;
  entry->max_quark = 0;
  parent->used += SHT_CHILD_MAX_BYTES;
  g->branch[level] = node;
  return TRUE;
}

static ShtGroup *
get_group (StrataSht *self, guint32 quark)
{
  guint i = quark / self->group_size;

  if (i >= self->n_groups)
    {
      guint n = MAX (i + 1, self->n_groups * 2);
      self->groups = g_renew (ShtGroup, self->groups, n);
      memset (self->groups + self->n_groups, 0, (n - self->n_groups) * sizeof (ShtGroup));
      self->n_groups = n;
    }
  if (self->groups[i].branch == NULL)
    {
      ShtGroup *g = &self->groups[i];
      g->branch = g_new (ShtNode *, 1);
      g->qbase = i * self->group_size;
      g->branch[0] = _strata_sht_node_new (self->n_nodes++, SHT_NO_PARENT, SHT_NODE_LEAF,
                                           self->start_time, self->max_children,
                                           g->qbase, self->group_size);
      g->depth = 1;
      g->tree_end = self->start_time - 1;
    }
  return &self->groups[i];
}

/* An interval goes to the deepest open node that starts before it; all
 * leaves are at the bottom level, and nodes above hold the intervals that
 * span their children's boundaries. A full node is closed at the latest end
 * inserted, so every node's range holds its intervals and siblings never
 * overlap: a query at t follows one path from the root. */
static gboolean
tree_insert (StrataSht *self, const StrataShtInterval *iv, GError **error)
{
  ShtGroup *g = get_group (self, iv->quark);
  guint level;

restart:
  for (level = g->depth; level > 0; level--)
    {
      ShtNode *node = g->branch[level - 1];

      if (node == NULL)
        {
          /* Past the latest end, a new leaf can start for it. */
          if (iv->start > g->tree_end)
            {
              if (!open_node (self, g, level - 1, error))
                return FALSE;
              goto restart;
            }
          continue;
        }
      if (iv->start < node->start)
        continue;
      if (_strata_sht_node_try_add (node, iv, self->block_size))
        break;
      /* Full. The root is never closed without a new one above it. */
      if (level == 1)
        {
          grow_root (self, g);
          level++;
        }
      if (!close_from (self, g, level - 1, error))
        return FALSE;
      goto restart;
    }
  g_assert (level > 0);

  for (guint l = 0; l + 1 < level; l++)
    {
      g->branch[l]->min_quark = MIN (g->branch[l]->min_quark, iv->quark);
      g->branch[l]->max_quark = MAX (g->branch[l]->max_quark, iv->quark);
    }
  if (iv->end > g->tree_end)
    g->tree_end = iv->end;
  self->n_intervals++;
  return TRUE;
}

static gpointer
writer_thread (gpointer data)
{
  StrataSht *self = data;

  for (;;)
    {
      Chunk *chunk;

      g_mutex_lock (&self->mutex);
      while (self->pending.length == 0 && self->state == STATE_WRITING && !self->aborting)
        g_cond_wait (&self->not_empty, &self->mutex);
      if (self->aborting || self->pending.length == 0)
        {
          g_mutex_unlock (&self->mutex);
          break;
        }
      chunk = g_queue_peek_head (&self->pending);
      g_mutex_unlock (&self->mutex);

      g_rw_lock_writer_lock (&self->tree_lock);
      if (self->write_error == NULL)
        for (guint i = 0; i < chunk->n; i++)
          if (!tree_insert (self, &chunk->iv[i], &self->write_error))
            break;
      g_mutex_lock (&self->mutex);
      g_queue_pop_head (&self->pending);
      self->n_queued -= chunk->n;
      chunk->n = 0;
      self->free_chunks = g_slist_prepend (self->free_chunks, chunk);
      g_cond_signal (&self->not_full);
      g_mutex_unlock (&self->mutex);
      g_rw_lock_writer_unlock (&self->tree_lock);
    }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* The ongoing state                                                  */

/* mutex held. */
static void
enqueue_current (StrataSht *self)
{
  while (self->pending.length >= self->max_pending && !self->aborting)
    g_cond_wait (&self->not_full, &self->mutex);
  g_queue_push_tail (&self->pending, self->cur);
  g_cond_signal (&self->not_empty);
  if (self->free_chunks != NULL)
    {
      self->cur = self->free_chunks->data;
      self->free_chunks = g_slist_delete_link (self->free_chunks, self->free_chunks);
    }
  else
    self->cur = g_new (Chunk, 1);
  self->cur->n = 0;
}

/* mutex held. */
static inline void
emit (StrataSht *self, gint64 start, gint64 end, guint32 quark, StrataShtValue value)
{
  StrataShtInterval *iv = &self->cur->iv[self->cur->n++];

  iv->start = start;
  iv->end = end;
  iv->quark = quark;
  iv->flags = 0;
  iv->value = value;
  self->n_queued++;
  if (self->cur->n == CHUNK_INTERVALS)
    enqueue_current (self);
}

/* mutex held. */
static void
modify_locked (StrataSht *self, guint32 quark, gint64 t, StrataShtValue value)
{
  Ongoing *o = &self->ongoing[quark];
  Ongoing old;

  if (G_UNLIKELY (t < o->start))
    {
      t = o->start;
      self->n_clamped++;
    }
  if (t > self->end_time)
    self->end_time = t;
  if (strata_sht_value_equal (&o->value, &value))
    return;
  /* The new state first: emit() may wait for room in the queue, and a
   * query meanwhile must not see the old state both ongoing and closed. */
  old = *o;
  o->start = t;
  o->value = value;
  if (t > old.start)
    emit (self, old.start, t - 1, quark, old.value);
}

static gboolean
check_writable (StrataSht *self, guint32 quark)
{
  if (G_UNLIKELY (self->state != STATE_WRITING || quark >= self->n_ongoing))
    {
      g_critical ("%s: cannot change quark %u: %s", self->path, quark,
                  self->state != STATE_WRITING ? "the history is closed" : "no such attribute");
      return FALSE;
    }
  return TRUE;
}

/**
 * strata_sht_modify:
 * @self: a #StrataSht being written
 * @quark: the attribute
 * @t: when its value changes
 * @value: the new value
 *
 * Changes an attribute's state at @t: the previous value's interval is
 * closed at `@t − 1` and goes to the tree. Setting the current value again
 * does nothing. Changes are expected in time order for each attribute; one
 * dated before the current state began is moved to its start (and counted
 * in #StrataShtStats.n_clamped).
 */
void
strata_sht_modify (StrataSht      *self,
                   guint32         quark,
                   gint64          t,
                   StrataShtValue  value)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (value.type <= STRATA_SHT_VALUE_STRING);

  g_mutex_lock (&self->mutex);
  if (check_writable (self, quark))
    modify_locked (self, quark, t, value);
  g_mutex_unlock (&self->mutex);
}

/**
 * strata_sht_modify_string:
 * @self: a #StrataSht being written
 * @quark: the attribute
 * @t: when its value changes
 * @text: the new value, interned
 *
 * strata_sht_modify() with a string.
 */
void
strata_sht_modify_string (StrataSht  *self,
                          guint32     quark,
                          gint64      t,
                          const char *text)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (text != NULL);
  strata_sht_modify (self, quark, t, STRATA_SHT_STRING_ID (strata_sht_intern (self, text)));
}

static guint32
stack_depth (StrataSht *self, guint32 quark)
{
  StrataShtValue v;

  g_mutex_lock (&self->mutex);
  v = quark < self->n_ongoing ? self->ongoing[quark].value : STRATA_SHT_NULL;
  g_mutex_unlock (&self->mutex);
  return v.type == STRATA_SHT_VALUE_INT32 && v.u.i32 > 0 ? (guint32) v.u.i32 : 0;
}

/**
 * strata_sht_push:
 * @self: a #StrataSht being written
 * @quark: a stack attribute
 * @t: when
 * @value: the value pushed
 *
 * Pushes @value on a stack (nested interrupts, for instance): @quark holds
 * the depth as an int32, and its child named by the new depth ("1", "2",
 * …) holds @value.
 */
void
strata_sht_push (StrataSht      *self,
                 guint32         quark,
                 gint64          t,
                 StrataShtValue  value)
{
  guint32 depth, sub;
  char name[16];

  g_return_if_fail (self != NULL);

  depth = stack_depth (self, quark) + 1;
  g_snprintf (name, sizeof name, "%u", depth);
  sub = strata_sht_quark_get (self, quark, name);
  if (sub == STRATA_SHT_QUARK_INVALID)
    return;
  strata_sht_modify (self, sub, t, value);
  strata_sht_modify (self, quark, t, STRATA_SHT_INT32 ((gint32) depth));
}

/**
 * strata_sht_pop:
 * @self: a #StrataSht being written
 * @quark: a stack attribute
 * @t: when
 *
 * Pops the top of a stack made by strata_sht_push(): the top's attribute
 * becomes null, and the depth decreases (null when empty).
 *
 * Returns: the value popped; null if the stack was empty
 */
StrataShtValue
strata_sht_pop (StrataSht *self,
                guint32    quark,
                gint64     t)
{
  StrataShtValue value;
  guint32 depth, sub;
  char name[16];

  g_return_val_if_fail (self != NULL, STRATA_SHT_NULL);

  depth = stack_depth (self, quark);
  if (depth == 0)
    {
      /* Nothing changes, but the history has reached @t. */
      g_mutex_lock (&self->mutex);
      if (self->state == STATE_WRITING && t > self->end_time)
        self->end_time = t;
      g_mutex_unlock (&self->mutex);
      return STRATA_SHT_NULL;
    }
  g_snprintf (name, sizeof name, "%u", depth);
  sub = strata_sht_quark_lookup (self, quark, name);
  if (sub == STRATA_SHT_QUARK_INVALID)
    return STRATA_SHT_NULL;
  value = strata_sht_get_ongoing (self, sub, NULL);
  strata_sht_modify (self, sub, t, STRATA_SHT_NULL);
  strata_sht_modify (self, quark, t,
                     depth == 1 ? STRATA_SHT_NULL : STRATA_SHT_INT32 ((gint32) depth - 1));
  return value;
}

/**
 * strata_sht_get_ongoing:
 * @self: a #StrataSht being written
 * @quark: an attribute
 * @start: (out) (optional): when its current value began
 *
 * Returns: the current value of @quark (null once the history is closed)
 */
StrataShtValue
strata_sht_get_ongoing (StrataSht *self,
                        guint32    quark,
                        gint64    *start)
{
  StrataShtValue v = STRATA_SHT_NULL;

  g_return_val_if_fail (self != NULL, v);

  g_mutex_lock (&self->mutex);
  if (self->state == STATE_WRITING && quark < self->n_ongoing)
    {
      v = self->ongoing[quark].value;
      if (start)
        *start = self->ongoing[quark].start;
    }
  else if (start)
    *start = self->start_time;
  g_mutex_unlock (&self->mutex);
  return v;
}

/* ------------------------------------------------------------------ */
/* Closing                                                            */

static gboolean
write_sections (StrataSht *self, GError **error)
{
  g_autoptr(GByteArray) attrs = g_byte_array_new ();
  g_autoptr(GByteArray) strings = g_byte_array_new ();
  guint64 attr_offset = (guint64) self->block_size * (1 + (guint64) self->n_nodes);
  guint64 str_offset;
  guint8 tmp[20];
  guint8 *p = _strata_sht_put_varint (tmp, self->n_groups);

  g_byte_array_append (attrs, tmp, p - tmp);
  for (guint i = 0; i < self->n_groups; i++)
    {
      /* A group whose attributes were never written has no tree. */
      p = _strata_sht_put_varint (tmp, self->groups[i].depth ? self->groups[i].root_seq + 1 : 0);
      p = _strata_sht_put_varint (p, self->groups[i].depth);
      g_byte_array_append (attrs, tmp, p - tmp);
    }
  for (guint q = 1; q < self->quark_names->len; q++)
    {
      const char *name = g_ptr_array_index (self->quark_names, q);
      gsize len = strlen (name);
      p = _strata_sht_put_varint (tmp, g_array_index (self->quark_parents, guint32, q));
      p = _strata_sht_put_varint (p, len);
      g_byte_array_append (attrs, tmp, p - tmp);
      g_byte_array_append (attrs, (const guint8 *) name, len);
    }
  for (guint i = 0; i < self->n_strings; i++)
    {
      const char *s = strata_sht_get_string (self, i);
      gsize len = strlen (s);
      p = _strata_sht_put_varint (tmp, len);
      g_byte_array_append (strings, tmp, p - tmp);
      g_byte_array_append (strings, (const guint8 *) s, len);
    }
  str_offset = attr_offset + attrs->len;

  if (!write_all (self, attrs->data, attrs->len, attr_offset, error)
      || !write_all (self, strings->data, strings->len, str_offset, error))
    return FALSE;

  /* The header last, after the data has reached the disk: a file with a
   * finished header is complete. */
  if (fsync (self->fd) != 0)
    {
      int e = errno;
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_IO,
                   "Cannot write state history %s: %s", self->part_path, g_strerror (e));
      return FALSE;
    }
  fill_header (self, self->block, TRUE,
               attr_offset, attrs->len, _strata_sht_crc32c (0, attrs->data, attrs->len),
               str_offset, strings->len, _strata_sht_crc32c (0, strings->data, strings->len));
  return write_all (self, self->block, self->block_size, 0, error);
}

/**
 * strata_sht_close:
 * @self: a #StrataSht being written
 * @end_time: the end of the history (at least the latest change)
 * @error: return location for a #GError
 *
 * Ends every ongoing state at @end_time, waits for the tree to be written,
 * and writes the attribute tree, the string pool and the header. The file
 * then appears at its path. @self stays usable for queries.
 *
 * Returns: %TRUE on success
 */
gboolean
strata_sht_close (StrataSht  *self,
                  gint64      end_time,
                  GError    **error)
{
  gint64 end;
  gboolean ok = TRUE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->mutex);
  if (self->state != STATE_WRITING)
    {
      g_mutex_unlock (&self->mutex);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "State history %s is not being written", self->path);
      return FALSE;
    }
  end = MAX (end_time, self->end_time);
  for (guint32 q = 0; q < self->n_ongoing; q++)
    {
      /* As in modify_locked(): ended before it is queued. */
      Ongoing old = self->ongoing[q];
      self->ongoing[q].start = end == G_MAXINT64 ? end : end + 1;
      emit (self, old.start, end, q, old.value);
    }
  if (self->cur->n > 0)
    enqueue_current (self);
  self->end_time = end;
  self->state = STATE_CLOSING;
  g_cond_broadcast (&self->not_empty);
  g_mutex_unlock (&self->mutex);

  g_thread_join (g_steal_pointer (&self->thread));

  g_rw_lock_writer_lock (&self->tree_lock);
  if (self->write_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->write_error));
      ok = FALSE;
    }
  if (ok)
    {
      /* The last branch ends with the history. */
      for (guint i = 0; i < self->n_groups && ok; i++)
        {
          ShtGroup *g = &self->groups[i];
          if (g->branch == NULL)
            continue;
          g->tree_end = end;
          g->root_seq = g->branch[0]->seq;
          ok = close_from (self, g, 0, error);
        }
    }
  if (ok)
    ok = write_sections (self, error);
  if (ok && g_rename (self->part_path, self->path) != 0)
    {
      int e = errno;
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_IO,
                   "Cannot rename state history %s to %s: %s",
                   self->part_path, self->path, g_strerror (e));
      ok = FALSE;
    }
  for (guint i = 0; i < self->n_groups; i++)
    {
      ShtGroup *g = &self->groups[i];
      for (guint l = 0; g->branch != NULL && l < g->depth; l++)
        g_clear_pointer (&g->branch[l], _strata_sht_node_unref);
      g_clear_pointer (&g->branch, g_free);
    }

  g_mutex_lock (&self->mutex);
  self->state = ok ? STATE_FINISHED : STATE_FAILED;
  g_mutex_unlock (&self->mutex);
  if (ok)
    g_clear_pointer (&self->part_path, g_free);
  else
    {
      g_unlink (self->part_path);
      g_clear_pointer (&self->part_path, g_free);
    }
  g_rw_lock_writer_unlock (&self->tree_lock);
  return ok;
}

void
strata_sht_free (StrataSht *self)
{
  if (self == NULL)
    return;

  if (self->thread != NULL)
    {
      g_mutex_lock (&self->mutex);
      self->aborting = TRUE;
      g_cond_broadcast (&self->not_empty);
      g_cond_broadcast (&self->not_full);
      g_mutex_unlock (&self->mutex);
      g_thread_join (self->thread);
    }
  if (self->part_path != NULL)
    g_unlink (self->part_path);
  if (self->fd >= 0)
    close (self->fd);

  for (guint i = 0; self->groups != NULL && i < self->n_groups; i++)
    {
      ShtGroup *g = &self->groups[i];
      for (guint l = 0; g->branch != NULL && l < g->depth; l++)
        _strata_sht_node_unref (g->branch[l]);
      g_free (g->branch);
    }
  g_free (self->groups);
  for (guint i = 0; i < self->cached->len; i++)
    _strata_sht_node_unref (g_ptr_array_index (self->cached, i));
  g_ptr_array_unref (self->cached);
  g_hash_table_unref (self->cache);
  g_free (self->cur);
  while (self->pending.length > 0)
    g_free (g_queue_pop_head (&self->pending));
  g_slist_free_full (self->free_chunks, g_free);
  g_free (self->ongoing);
  g_clear_error (&self->write_error);
  g_free (self->block);

  g_hash_table_unref (self->quark_index);
  g_ptr_array_unref (self->quark_names);
  g_array_unref (self->quark_parents);
  g_hash_table_unref (self->str_index);
  g_string_chunk_free (self->str_chunk);
  for (guint i = 0; i < STRING_MAX_CHUNKS && self->str_table[i] != NULL; i++)
    g_free (self->str_table[i]);
  g_free (self->str_table);

  g_rw_lock_clear (&self->attr_lock);
  g_rw_lock_clear (&self->tree_lock);
  g_mutex_clear (&self->mutex);
  g_mutex_clear (&self->str_lock);
  g_rw_lock_clear (&self->cache_lock);
  g_cond_clear (&self->not_full);
  g_cond_clear (&self->not_empty);
  g_free (self->part_path);
  g_free (self->path);
  g_free (self);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                          */

guint
_strata_sht_max_depth (StrataSht *self)
{
  guint depth = 0;

  for (guint i = 0; i < self->n_groups; i++)
    depth = MAX (depth, self->groups[i].depth);
  return depth;
}

const char *
strata_sht_get_path (StrataSht *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

gboolean
strata_sht_is_finished (StrataSht *self)
{
  gboolean finished;

  g_return_val_if_fail (self != NULL, FALSE);
  g_mutex_lock (&self->mutex);
  finished = self->state == STATE_FINISHED;
  g_mutex_unlock (&self->mutex);
  return finished;
}

gint64
strata_sht_get_start_time (StrataSht *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->start_time;
}

/**
 * strata_sht_get_end_time:
 * @self: a #StrataSht
 *
 * Returns: the end of the history once closed; while it is written, the
 *   latest time of a change
 */
gint64
strata_sht_get_end_time (StrataSht *self)
{
  gint64 end;

  g_return_val_if_fail (self != NULL, 0);
  g_mutex_lock (&self->mutex);
  end = self->end_time;
  g_mutex_unlock (&self->mutex);
  return end;
}

guint32
strata_sht_get_analysis_version (StrataSht *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->analysis_version;
}

/**
 * strata_sht_set_cache_bytes:
 * @self: a #StrataSht
 * @cache_bytes: memory for cached nodes (0: %STRATA_SHT_DEFAULT_CACHE_BYTES)
 *
 * Changes the node cache's budget: a history written with a small cache,
 * then shown, wants the cache of one opened to be shown. Nodes over a
 * smaller budget go as the next ones are read.
 */
void
strata_sht_set_cache_bytes (StrataSht *self,
                            gsize      cache_bytes)
{
  g_return_if_fail (self != NULL);

  g_rw_lock_writer_lock (&self->cache_lock);
  self->cache_budget = cache_bytes > 0 ? cache_bytes : STRATA_SHT_DEFAULT_CACHE_BYTES;
  g_rw_lock_writer_unlock (&self->cache_lock);
}

void
strata_sht_get_stats (StrataSht      *self,
                      StrataShtStats *stats)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (stats != NULL);

  memset (stats, 0, sizeof *stats);
  g_rw_lock_reader_lock (&self->tree_lock);
  g_mutex_lock (&self->mutex);
  stats->n_intervals = self->n_intervals + self->n_queued;
  stats->n_clamped = self->n_clamped;
  g_mutex_unlock (&self->mutex);
  stats->n_nodes = self->n_nodes;
  stats->depth = _strata_sht_max_depth (self);
  stats->file_bytes = (guint64) self->block_size * (1 + (guint64) self->n_nodes);
  g_rw_lock_reader_unlock (&self->tree_lock);
  g_rw_lock_reader_lock (&self->cache_lock);
  stats->cache_hits = __atomic_load_n (&self->cache_hits, __ATOMIC_RELAXED);
  stats->cache_misses = self->cache_misses;
  stats->cache_bytes = self->cache_bytes;
  g_rw_lock_reader_unlock (&self->cache_lock);
}
