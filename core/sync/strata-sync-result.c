/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sync-result"

#include "config.h"

#include <math.h>

#include "strata-sync-private.h"
#include "strata-sync-result.h"

G_DEFINE_BOXED_TYPE (StrataSyncResult, strata_sync_result, strata_sync_result_ref, strata_sync_result_unref)

static void
trace_clear (gpointer data)
{
  StrataSyncTrace *trace = data;

  g_free (trace->path);
  g_free (trace->hostname);
  g_free (trace->clock_uuid);
  g_clear_pointer (&trace->problems, g_ptr_array_unref);
}

static void
pair_clear (gpointer data)
{
  StrataSyncPair *pair = data;

  g_free (pair->problem);
}

StrataSyncLink *
_strata_sync_link_new (guint first,
                       guint second)
{
  StrataSyncLink *link = g_new0 (StrataSyncLink, 1);

  g_assert (first < second);

  link->first = first;
  link->second = second;
  link->hull = strata_sync_hull_new ();
  link->vm_uids = g_array_new (FALSE, FALSE, sizeof (guint64));
  return link;
}

void
_strata_sync_link_free (StrataSyncLink *link)
{
  if (link == NULL)
    return;

  strata_sync_hull_free (link->hull);
  g_array_unref (link->vm_uids);
  g_free (link);
}

/* A result for @n_traces traces, each unsynchronized (identity) until
 * solved. */
StrataSyncResult *
_strata_sync_result_new (guint n_traces)
{
  StrataSyncResult *self = g_new0 (StrataSyncResult, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->traces = g_array_sized_new (FALSE, TRUE, sizeof (StrataSyncTrace), n_traces);
  g_array_set_clear_func (self->traces, trace_clear);
  g_array_set_size (self->traces, n_traces);
  self->pairs = g_array_new (FALSE, TRUE, sizeof (StrataSyncPair));
  g_array_set_clear_func (self->pairs, pair_clear);
  self->problems = g_ptr_array_new_with_free_func (g_free);
  self->reference = -1;

  for (guint i = 0; i < n_traces; i++)
    {
      StrataSyncTrace *trace = &g_array_index (self->traces, StrataSyncTrace, i);

      trace->path = g_strdup ("");
      trace->hostname = g_strdup ("");
      trace->clock_uuid = g_strdup ("");
      trace->reference = -1;
      trace->parent = -1;
      trace->quality = STRATA_SYNC_QUALITY_ABSENT;
      trace->accuracy_ns = INFINITY;
      strata_sync_transform_init_identity (&trace->transform);
      trace->a_min = trace->b_min = -INFINITY;
      trace->a_max = trace->b_max = INFINITY;
      trace->problems = g_ptr_array_new_with_free_func (g_free);
    }

  return self;
}

void
_strata_sync_trace_add_problem (StrataSyncTrace *trace,
                                const char      *format,
                                ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (trace->problems, g_strdup_vprintf (format, args));
  va_end (args);
}

void
_strata_sync_result_add_problem (StrataSyncResult *self,
                                 const char       *format,
                                 ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (self->problems, g_strdup_vprintf (format, args));
  va_end (args);
}

StrataSyncResult *
strata_sync_result_ref (StrataSyncResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
strata_sync_result_unref (StrataSyncResult *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_array_unref (self->traces);
  g_array_unref (self->pairs);
  g_ptr_array_unref (self->problems);
  g_free (self);
}

guint
strata_sync_result_get_n_traces (const StrataSyncResult *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->traces->len;
}

/**
 * strata_sync_result_get_trace:
 * @index: the trace's index, in the order the traces were given
 *
 * Returns: (transfer none): the synchronization of that trace
 */
const StrataSyncTrace *
strata_sync_result_get_trace (const StrataSyncResult *self,
                              guint                   index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->traces->len, NULL);

  return &g_array_index (self->traces, StrataSyncTrace, index);
}

/**
 * strata_sync_result_find_trace:
 * @path: a trace folder, as given
 *
 * Returns: the index of the trace at @path, or -1
 */
int
strata_sync_result_find_trace (const StrataSyncResult *self,
                               const char             *path)
{
  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (path != NULL, -1);

  for (guint i = 0; i < self->traces->len; i++)
    if (g_str_equal (g_array_index (self->traces, StrataSyncTrace, i).path, path))
      return (int) i;
  return -1;
}

/**
 * strata_sync_result_count_unsynchronized:
 *
 * Returns: how many traces could not be synchronized
 */
guint
strata_sync_result_count_unsynchronized (const StrataSyncResult *self)
{
  guint n = 0;

  g_return_val_if_fail (self != NULL, 0);

  for (guint i = 0; i < self->traces->len; i++)
    n += !g_array_index (self->traces, StrataSyncTrace, i).synchronized;
  return n;
}

/* ---------------------------------------------------------------------- */
/* JSON                                                                   */
/* ---------------------------------------------------------------------- */

static void
add_number (JsonBuilder *b,
            const char  *name,
            double       value)
{
  json_builder_set_member_name (b, name);
  /* JSON has no infinity: unbounded is null. */
  if (isfinite (value))
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
add_bool (JsonBuilder *b,
          const char  *name,
          gboolean     value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

static void
add_string (JsonBuilder *b,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static const char *
trace_path_or_null (const StrataSyncResult *self,
                    int                     index)
{
  if (index < 0 || (guint) index >= self->traces->len)
    return NULL;
  return g_array_index (self->traces, StrataSyncTrace, index).path;
}

static void
trace_to_json (const StrataSyncResult *self,
               const StrataSyncTrace  *trace,
               JsonBuilder            *b)
{
  json_builder_begin_object (b);
  add_string (b, "path", trace->path);
  add_string (b, "hostname", trace->hostname);
  add_string (b, "clock_uuid", trace->clock_uuid);
  add_int (b, "clock_offset_ns", trace->clock_offset_ns);
  add_int (b, "begin_ns", trace->begin_ns);
  add_int (b, "end_ns", trace->end_ns);
  json_builder_set_member_name (b, "roles");
  json_builder_begin_object (b);
  add_bool (b, "hypervisor", trace->is_host);
  add_bool (b, "guest", trace->is_guest);
  json_builder_end_object (b);
  add_bool (b, "read", trace->read_ok);

  add_string (b, "reference", trace_path_or_null (self, trace->reference));
  add_bool (b, "is_reference", trace->is_reference);
  add_string (b, "parent", trace_path_or_null (self, trace->parent));
  add_bool (b, "synchronized", trace->synchronized);
  add_string (b, "quality", strata_sync_quality_to_string (trace->quality));
  add_number (b, "accuracy_ns", trace->accuracy_ns);
  add_number (b, "a", trace->transform.a);
  add_number (b, "b", (double) strata_sync_transform_get_b (&trace->transform));
  add_number (b, "a_min", trace->a_min);
  add_number (b, "a_max", trace->a_max);
  add_number (b, "b_min", trace->b_min);
  add_number (b, "b_max", trace->b_max);

  /* b as a double is off by up to 128 ns for absolute times; this form
   * is exact: origin_ns maps to origin_ref_ns + origin_ref_frac. */
  json_builder_set_member_name (b, "transform");
  json_builder_begin_object (b);
  add_number (b, "a", trace->transform.a);
  add_int (b, "origin_ns", trace->transform.origin);
  add_int (b, "origin_ref_ns", trace->transform.ref_origin);
  add_number (b, "origin_ref_frac", trace->transform.ref_frac);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "matches");
  json_builder_begin_object (b);
  add_int (b, "to_parent", (gint64) trace->n_to_parent);
  add_int (b, "from_parent", (gint64) trace->n_from_parent);
  json_builder_end_object (b);
  add_int (b, "sync_events", (gint64) trace->n_sync_events);
  add_int (b, "unmatched", (gint64) trace->n_unmatched);
  add_int (b, "duplicates", (gint64) trace->n_duplicates);

  json_builder_set_member_name (b, "problems");
  json_builder_begin_array (b);
  for (guint i = 0; i < trace->problems->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (trace->problems, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/**
 * strata_sync_result_to_json:
 *
 * The result as `strata-cli sync --json` prints it (app/cli/README.md).
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
strata_sync_result_to_json (const StrataSyncResult *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  json_builder_begin_object (b);
  add_string (b, "reference", trace_path_or_null (self, self->reference));
  add_bool (b, "reference_chosen", self->reference_chosen);
  add_int (b, "matches", (gint64) self->n_matches);
  add_int (b, "unsynchronized", strata_sync_result_count_unsynchronized (self));
  add_bool (b, "from_cache", self->from_cache);
  add_number (b, "elapsed_ms", (double) self->elapsed_us / 1000.0);

  json_builder_set_member_name (b, "traces");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->traces->len; i++)
    trace_to_json (self, &g_array_index (self->traces, StrataSyncTrace, i), b);
  json_builder_end_array (b);

  json_builder_set_member_name (b, "pairs");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->pairs->len; i++)
    {
      const StrataSyncPair *pair = &g_array_index (self->pairs, StrataSyncPair, i);

      json_builder_begin_object (b);
      add_string (b, "first", trace_path_or_null (self, (int) pair->first));
      add_string (b, "second", trace_path_or_null (self, (int) pair->second));
      add_int (b, "first_to_second", (gint64) pair->n_first_to_second);
      add_int (b, "second_to_first", (gint64) pair->n_second_to_first);
      add_int (b, "hull_points", pair->n_hull_points);
      add_string (b, "quality", strata_sync_quality_to_string (pair->quality));
      add_bool (b, "same_clock", pair->same_clock);
      add_bool (b, "ambiguous", pair->ambiguous);
      add_bool (b, "used", pair->used);
      add_string (b, "problem", pair->problem);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "problems");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->problems->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (self->problems, i));
  json_builder_end_array (b);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

char *
_strata_sync_result_serialize (const StrataSyncResult *self)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = strata_sync_result_to_json (self);

  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

/* Reading back what _strata_sync_result_serialize() wrote: a member
 * missing or of the wrong type makes the whole entry invalid. */
typedef struct
{
  gboolean ok;
} Reader;

static JsonNode *
member (Reader     *r,
        JsonObject *object,
        const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL)
    r->ok = FALSE;
  return node;
}

static gint64
read_int (Reader     *r,
          JsonObject *object,
          const char *name)
{
  JsonNode *node = member (r, object, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      r->ok = FALSE;
      return 0;
    }
  return json_node_get_int (node);
}

static double
read_number (Reader     *r,
             JsonObject *object,
             const char *name,
             double      if_null)
{
  JsonNode *node = member (r, object, name);

  if (node == NULL)
    return 0.0;
  if (JSON_NODE_HOLDS_NULL (node))
    return if_null;
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return (double) json_node_get_int (node);
  r->ok = FALSE;
  return 0.0;
}

static gboolean
read_bool (Reader     *r,
           JsonObject *object,
           const char *name)
{
  JsonNode *node = member (r, object, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      r->ok = FALSE;
      return FALSE;
    }
  return json_node_get_boolean (node);
}

static const char *
read_string (Reader     *r,
             JsonObject *object,
             const char *name)
{
  JsonNode *node = member (r, object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    {
      r->ok = FALSE;
      return NULL;
    }
  return json_node_get_string (node);
}

static JsonObject *
read_object (Reader     *r,
             JsonObject *object,
             const char *name)
{
  JsonNode *node = member (r, object, name);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      r->ok = FALSE;
      return NULL;
    }
  return json_node_get_object (node);
}

static JsonArray *
read_array (Reader     *r,
            JsonObject *object,
            const char *name)
{
  JsonNode *node = member (r, object, name);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      r->ok = FALSE;
      return NULL;
    }
  return json_node_get_array (node);
}

static StrataSyncQuality
read_quality (Reader     *r,
              JsonObject *object,
              const char *name)
{
  const char *text = read_string (r, object, name);

  for (StrataSyncQuality q = STRATA_SYNC_QUALITY_ACCURATE; q <= STRATA_SYNC_QUALITY_ABSENT; q++)
    if (g_strcmp0 (text, strata_sync_quality_to_string (q)) == 0)
      return q;
  r->ok = FALSE;
  return STRATA_SYNC_QUALITY_ABSENT;
}

/* The index of the trace whose cached path is @path, -1 for null */
static int
read_trace_ref (Reader     *r,
                JsonObject *object,
                const char *name,
                GPtrArray  *cached_paths)
{
  const char *path = read_string (r, object, name);

  if (path == NULL)
    return -1;
  for (guint i = 0; i < cached_paths->len; i++)
    if (g_str_equal (g_ptr_array_index (cached_paths, i), path))
      return (int) i;
  r->ok = FALSE;
  return -1;
}

static void
read_strings (Reader     *r,
              JsonObject *object,
              const char *name,
              GPtrArray  *into)
{
  JsonArray *array = read_array (r, object, name);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (json_node_get_value_type (node) != G_TYPE_STRING)
        r->ok = FALSE;
      else
        g_ptr_array_add (into, g_strdup (json_node_get_string (node)));
    }
}

/*
 * A cached result for the traces now at @paths (the same traces, in the
 * same order: the cache key says so). The paths stored in it are those
 * of the run that stored it; the traces may have moved since.
 */
StrataSyncResult *
_strata_sync_result_deserialize (const char          *data,
                                 gsize                length,
                                 const char * const  *paths,
                                 GError             **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(StrataSyncResult) self = NULL;
  g_autoptr(GPtrArray) cached_paths = g_ptr_array_new ();
  JsonObject *root;
  JsonArray *traces, *pairs;
  Reader r = { TRUE };
  guint n_paths = g_strv_length ((char **) paths);

  if (!json_parser_load_from_data (parser, data, (gssize) length, error))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    goto invalid;

  root = json_node_get_object (json_parser_get_root (parser));
  traces = read_array (&r, root, "traces");
  pairs = read_array (&r, root, "pairs");
  if (!r.ok || json_array_get_length (traces) != n_paths)
    goto invalid;

  for (guint i = 0; i < n_paths; i++)
    {
      JsonNode *node = json_array_get_element (traces, i);
      const char *path = JSON_NODE_HOLDS_OBJECT (node)
                         ? read_string (&r, json_node_get_object (node), "path") : NULL;

      if (path == NULL)
        goto invalid;
      g_ptr_array_add (cached_paths, (gpointer) path);
    }

  self = _strata_sync_result_new (n_paths);
  self->reference = read_trace_ref (&r, root, "reference", cached_paths);
  self->reference_chosen = read_bool (&r, root, "reference_chosen");
  self->n_matches = (guint64) read_int (&r, root, "matches");
  read_strings (&r, root, "problems", self->problems);

  for (guint i = 0; i < n_paths && r.ok; i++)
    {
      StrataSyncTrace *trace = &g_array_index (self->traces, StrataSyncTrace, i);
      JsonObject *o = json_node_get_object (json_array_get_element (traces, i));
      JsonObject *roles = read_object (&r, o, "roles");
      JsonObject *transform = read_object (&r, o, "transform");
      JsonObject *matches = read_object (&r, o, "matches");

      g_free (trace->path);
      trace->path = g_strdup (paths[i]);
      g_free (trace->hostname);
      trace->hostname = g_strdup (read_string (&r, o, "hostname"));
      g_free (trace->clock_uuid);
      trace->clock_uuid = g_strdup (read_string (&r, o, "clock_uuid"));
      trace->clock_offset_ns = read_int (&r, o, "clock_offset_ns");
      trace->begin_ns = read_int (&r, o, "begin_ns");
      trace->end_ns = read_int (&r, o, "end_ns");
      trace->is_host = read_bool (&r, roles, "hypervisor");
      trace->is_guest = read_bool (&r, roles, "guest");
      trace->read_ok = read_bool (&r, o, "read");
      trace->reference = read_trace_ref (&r, o, "reference", cached_paths);
      trace->is_reference = read_bool (&r, o, "is_reference");
      trace->parent = read_trace_ref (&r, o, "parent", cached_paths);
      trace->synchronized = read_bool (&r, o, "synchronized");
      trace->quality = read_quality (&r, o, "quality");
      trace->accuracy_ns = read_number (&r, o, "accuracy_ns", INFINITY);
      trace->a_min = read_number (&r, o, "a_min", -INFINITY);
      trace->a_max = read_number (&r, o, "a_max", INFINITY);
      trace->b_min = read_number (&r, o, "b_min", -INFINITY);
      trace->b_max = read_number (&r, o, "b_max", INFINITY);
      trace->transform.a = read_number (&r, transform, "a", 1.0);
      trace->transform.origin = read_int (&r, transform, "origin_ns");
      trace->transform.ref_origin = read_int (&r, transform, "origin_ref_ns");
      trace->transform.ref_frac = read_number (&r, transform, "origin_ref_frac", 0.0);
      trace->n_to_parent = (guint64) read_int (&r, matches, "to_parent");
      trace->n_from_parent = (guint64) read_int (&r, matches, "from_parent");
      trace->n_sync_events = (guint64) read_int (&r, o, "sync_events");
      trace->n_unmatched = (guint64) read_int (&r, o, "unmatched");
      trace->n_duplicates = (guint64) read_int (&r, o, "duplicates");
      read_strings (&r, o, "problems", trace->problems);
      if (trace->hostname == NULL || trace->clock_uuid == NULL)
        r.ok = FALSE;
    }

  for (guint i = 0; i < json_array_get_length (pairs) && r.ok; i++)
    {
      JsonNode *node = json_array_get_element (pairs, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      StrataSyncPair pair = { 0 };
      int first = read_trace_ref (&r, o, "first", cached_paths);
      int second = read_trace_ref (&r, o, "second", cached_paths);

      if (first < 0 || second <= first)
        r.ok = FALSE;
      pair.first = (guint) MAX (first, 0);
      pair.second = (guint) MAX (second, 0);
      pair.n_first_to_second = (guint64) read_int (&r, o, "first_to_second");
      pair.n_second_to_first = (guint64) read_int (&r, o, "second_to_first");
      pair.n_hull_points = (guint) read_int (&r, o, "hull_points");
      pair.quality = read_quality (&r, o, "quality");
      pair.same_clock = read_bool (&r, o, "same_clock");
      pair.ambiguous = read_bool (&r, o, "ambiguous");
      pair.used = read_bool (&r, o, "used");
      pair.problem = g_strdup (read_string (&r, o, "problem"));
      g_array_append_val (self->pairs, pair);
    }

  if (!r.ok)
    goto invalid;

  self->from_cache = TRUE;
  return g_steal_pointer (&self);

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "Cannot use a cached synchronization: it is not what this version of Strata writes");
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Text                                                                   */
/* ---------------------------------------------------------------------- */

static void
append_trace_name (GString                *str,
                   const StrataSyncResult *self,
                   int                     index)
{
  const StrataSyncTrace *trace = &g_array_index (self->traces, StrataSyncTrace, index);

  g_string_append (str, trace->path);
  if (trace->hostname[0] != '\0')
    g_string_append_printf (str, " (%s)", trace->hostname);
}

static void
append_bound (GString  *str,
              double    value,
              gboolean  is_slope)
{
  if (isfinite (value))
    g_string_append_printf (str, is_slope ? "%.16g" : "%.3f", value);
  else
    g_string_append (str, value < 0 ? "-inf" : "inf");
}

/**
 * strata_sync_result_to_text:
 *
 * The result as `strata-cli sync` prints it: for each trace, its
 * reference, the transform and its bounds, the quality and accuracy,
 * the matches with its parent, and its problems.
 *
 * Returns: (transfer full): the text
 */
char *
strata_sync_result_to_text (const StrataSyncResult *self)
{
  g_autoptr(GString) str = g_string_new (NULL);
  guint n_unsync;

  g_return_val_if_fail (self != NULL, NULL);

  g_string_append (str, "Reference: ");
  if (self->reference >= 0)
    {
      append_trace_name (str, self, self->reference);
      g_string_append (str, self->reference_chosen ? " (chosen)" : "");
    }
  else
    {
      g_string_append (str, "none");
    }
  g_string_append_printf (str, "\nMatched messages: %" G_GUINT64_FORMAT "%s\n",
                          self->n_matches, self->from_cache ? " (cached result)" : "");

  for (guint i = 0; i < self->traces->len; i++)
    {
      const StrataSyncTrace *trace = &g_array_index (self->traces, StrataSyncTrace, i);

      g_string_append_c (str, '\n');
      append_trace_name (str, self, (int) i);
      g_string_append_c (str, '\n');

      if (trace->is_reference)
        {
          g_string_append (str, "  reference clock\n");
        }
      else
        {
          g_string_append_printf (str, "  synchronized  %s\n",
                                  trace->synchronized ? "yes" : "NO (not synchronized)");
          if (trace->reference >= 0)
            {
              g_string_append (str, "  reference     ");
              append_trace_name (str, self, trace->reference);
              g_string_append_c (str, '\n');
            }
          if (trace->parent >= 0)
            {
              g_string_append (str, "  through       ");
              append_trace_name (str, self, trace->parent);
              g_string_append_c (str, '\n');
            }
          g_string_append_printf (str, "  transform     t' = %.16g × t %c %.3Lf ns\n",
                                  trace->transform.a,
                                  strata_sync_transform_get_b (&trace->transform) < 0 ? '-' : '+',
                                  fabsl (strata_sync_transform_get_b (&trace->transform)));
          g_string_append (str, "  bounds        a in [");
          append_bound (str, trace->a_min, TRUE);
          g_string_append (str, ", ");
          append_bound (str, trace->a_max, TRUE);
          g_string_append (str, "], b in [");
          append_bound (str, trace->b_min, FALSE);
          g_string_append (str, ", ");
          append_bound (str, trace->b_max, FALSE);
          g_string_append (str, "] ns\n");
          g_string_append_printf (str, "  quality       %s", strata_sync_quality_to_string (trace->quality));
          if (isfinite (trace->accuracy_ns))
            g_string_append_printf (str, ", accuracy ±%.1f ns over the trace\n", trace->accuracy_ns);
          else
            g_string_append (str, ", accuracy unbounded\n");
          if (trace->parent >= 0)
            g_string_append_printf (str, "  matches       %" G_GUINT64_FORMAT " sent to its parent, %"
                                    G_GUINT64_FORMAT " received from it\n",
                                    trace->n_to_parent, trace->n_from_parent);
        }

      if (trace->read_ok)
        g_string_append_printf (str, "  sync events   %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
                                " unmatched, %" G_GUINT64_FORMAT " duplicates)\n",
                                trace->n_sync_events, trace->n_unmatched, trace->n_duplicates);
      for (guint j = 0; j < trace->problems->len; j++)
        g_string_append_printf (str, "  problem: %s\n", (const char *) g_ptr_array_index (trace->problems, j));
    }

  if (self->pairs->len > 0)
    g_string_append (str, "\nPairs:\n");
  for (guint i = 0; i < self->pairs->len; i++)
    {
      const StrataSyncPair *pair = &g_array_index (self->pairs, StrataSyncPair, i);

      g_string_append (str, "  ");
      append_trace_name (str, self, (int) pair->first);
      g_string_append (str, " ↔ ");
      append_trace_name (str, self, (int) pair->second);
      if (pair->same_clock)
        g_string_append (str, ": same clock");
      else
        g_string_append_printf (str, ": %" G_GUINT64_FORMAT " → and %" G_GUINT64_FORMAT
                                " ←, %s, %u hull points",
                                pair->n_first_to_second, pair->n_second_to_first,
                                strata_sync_quality_to_string (pair->quality), pair->n_hull_points);
      g_string_append (str, pair->used ? ", used\n" : "\n");
    }

  for (guint i = 0; i < self->problems->len; i++)
    g_string_append_printf (str, "problem: %s\n", (const char *) g_ptr_array_index (self->problems, i));

  n_unsync = strata_sync_result_count_unsynchronized (self);
  if (n_unsync > 0)
    g_string_append_printf (str, "\n%u of %u traces NOT synchronized\n", n_unsync, self->traces->len);

  return g_string_free (g_steal_pointer (&str), FALSE);
}
