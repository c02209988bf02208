/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-trace-info"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>

#include "strata-trace-info.h"
#include "strata-trace-reader.h"

G_DEFINE_BOXED_TYPE (StrataTraceInfo, strata_trace_info, strata_trace_info_ref, strata_trace_info_unref)

static void
problem_free (gpointer data)
{
  StrataTraceProblem *problem = data;

  g_free (problem->message);
  g_free (problem);
}

/**
 * strata_trace_info_new:
 * @path: the trace folder
 *
 * Returns: (transfer full): an empty info for @path, filled by the reader
 */
StrataTraceInfo *
strata_trace_info_new (const char *path)
{
  StrataTraceInfo *self = g_new0 (StrataTraceInfo, 1);

  g_return_val_if_fail (path != NULL, NULL);

  g_atomic_ref_count_init (&self->ref_count);
  self->path = g_strdup (path);
  self->cpus = g_array_new (FALSE, TRUE, sizeof (StrataCpuInfo));
  self->event_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->lost_ranges = g_array_new (FALSE, FALSE, sizeof (StrataLostRange));
  self->layout = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->vm_uids = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->problems = g_ptr_array_new_with_free_func (problem_free);
  self->clock_frequency = 1000000000;
  self->tracer_major = self->tracer_minor = self->tracer_patchlevel = -1;

  return self;
}

StrataTraceInfo *
strata_trace_info_ref (StrataTraceInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
strata_trace_info_unref (StrataTraceInfo *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->path);
  g_free (self->hostname);
  g_free (self->domain);
  g_free (self->sysname);
  g_free (self->kernel_release);
  g_free (self->tracer_name);
  g_free (self->clock_name);
  g_free (self->clock_uuid);
  g_array_unref (self->cpus);
  g_hash_table_unref (self->event_counts);
  g_array_unref (self->lost_ranges);
  g_hash_table_unref (self->layout);
  g_array_unref (self->vm_uids);
  g_ptr_array_unref (self->problems);
  g_free (self);
}

void
strata_trace_info_add_problem (StrataTraceInfo       *self,
                               StrataProblemSeverity  severity,
                               const char            *format,
                               ...)
{
  StrataTraceProblem *problem;
  va_list args;

  g_return_if_fail (self != NULL);

  problem = g_new0 (StrataTraceProblem, 1);
  problem->severity = severity;
  va_start (args, format);
  problem->message = g_strdup_vprintf (format, args);
  va_end (args);

  g_ptr_array_add (self->problems, problem);
}

/**
 * strata_trace_info_has_errors:
 *
 * Returns: %TRUE when part of the trace could not be read
 */
gboolean
strata_trace_info_has_errors (const StrataTraceInfo *self)
{
  g_return_val_if_fail (self != NULL, TRUE);

  for (guint i = 0; i < self->problems->len; i++)
    {
      const StrataTraceProblem *problem = g_ptr_array_index (self->problems, i);

      if (problem->severity == STRATA_PROBLEM_ERROR)
        return TRUE;
    }

  return !self->complete;
}

/**
 * strata_trace_info_get_count:
 *
 * Returns: the number of events named @event_name that were read
 */
guint64
strata_trace_info_get_count (const StrataTraceInfo *self,
                             const char            *event_name)
{
  const guint64 *count;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (event_name != NULL, 0);

  count = g_hash_table_lookup (self->event_counts, event_name);
  return count != NULL ? *count : 0;
}

/**
 * strata_trace_info_dup_tracer_version:
 *
 * Returns: (transfer full) (nullable): "major.minor.patchlevel", %NULL when
 *   the trace does not say
 */
char *
strata_trace_info_dup_tracer_version (const StrataTraceInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->tracer_major < 0)
    return NULL;
  if (self->tracer_minor < 0)
    return g_strdup_printf ("%d", self->tracer_major);
  if (self->tracer_patchlevel < 0)
    return g_strdup_printf ("%d.%d", self->tracer_major, self->tracer_minor);
  return g_strdup_printf ("%d.%d.%d", self->tracer_major, self->tracer_minor,
                          self->tracer_patchlevel);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Hash table keys, sorted, so that output is stable. */
static GPtrArray *
sorted_keys (GHashTable *table)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);

  return keys;
}

static void
add_string_member (JsonBuilder *builder,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/**
 * strata_trace_info_to_json:
 *
 * Returns: (transfer full): the info as the JSON object `strata-cli info
 *   --json` prints for each trace
 */
JsonNode *
strata_trace_info_to_json (const StrataTraceInfo *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *version = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  version = strata_trace_info_dup_tracer_version (self);

  json_builder_begin_object (builder);
  add_string_member (builder, "path", self->path);
  add_string_member (builder, "hostname", self->hostname);
  add_string_member (builder, "domain", self->domain);
  add_string_member (builder, "sysname", self->sysname);
  add_string_member (builder, "kernel_release", self->kernel_release);

  json_builder_set_member_name (builder, "tracer");
  json_builder_begin_object (builder);
  add_string_member (builder, "name", self->tracer_name);
  add_string_member (builder, "version", version);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "clock");
  json_builder_begin_object (builder);
  add_string_member (builder, "name", self->clock_name);
  add_string_member (builder, "uuid", self->clock_uuid);
  json_builder_set_member_name (builder, "offset_ns");
  json_builder_add_int_value (builder, self->clock_offset_ns);
  json_builder_set_member_name (builder, "frequency");
  json_builder_add_int_value (builder, (gint64) self->clock_frequency);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "begin_ns");
  json_builder_add_int_value (builder, self->begin_ns);
  json_builder_set_member_name (builder, "end_ns");
  json_builder_add_int_value (builder, self->end_ns);

  json_builder_set_member_name (builder, "n_cpus");
  json_builder_add_int_value (builder, self->cpus->len);
  json_builder_set_member_name (builder, "cpus");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->cpus->len; i++)
    {
      const StrataCpuInfo *cpu = &g_array_index (self->cpus, StrataCpuInfo, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "cpu");
      json_builder_add_int_value (builder, cpu->cpu);
      json_builder_set_member_name (builder, "events");
      json_builder_add_int_value (builder, (gint64) cpu->n_events);
      json_builder_set_member_name (builder, "lost_events");
      json_builder_add_int_value (builder, (gint64) cpu->lost_events);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "events");
  json_builder_add_int_value (builder, (gint64) self->n_events);
  json_builder_set_member_name (builder, "unknown_events");
  json_builder_add_int_value (builder, (gint64) self->n_unknown_events);
  json_builder_set_member_name (builder, "event_classes");
  json_builder_add_int_value (builder, self->n_event_classes);

  json_builder_set_member_name (builder, "event_counts");
  json_builder_begin_object (builder);
  names = sorted_keys (self->event_counts);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);

      json_builder_set_member_name (builder, name);
      json_builder_add_int_value (builder, (gint64) strata_trace_info_get_count (self, name));
    }
  json_builder_end_object (builder);
  g_clear_pointer (&names, g_ptr_array_unref);

  json_builder_set_member_name (builder, "lost_events");
  json_builder_add_int_value (builder, (gint64) self->lost_events);
  json_builder_set_member_name (builder, "lost_ranges");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->lost_ranges->len; i++)
    {
      const StrataLostRange *range = &g_array_index (self->lost_ranges, StrataLostRange, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "cpu");
      json_builder_add_int_value (builder, range->cpu);
      json_builder_set_member_name (builder, "begin_ns");
      json_builder_add_int_value (builder, range->begin_ns);
      json_builder_set_member_name (builder, "end_ns");
      json_builder_add_int_value (builder, range->end_ns);
      json_builder_set_member_name (builder, "count");
      json_builder_add_int_value (builder, (gint64) range->count);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "layout");
  json_builder_begin_object (builder);
  names = sorted_keys (self->layout);
  for (guint i = 0; i < names->len; i++)
    {
      const char *family = g_ptr_array_index (names, i);

      add_string_member (builder, family, g_hash_table_lookup (self->layout, family));
    }
  json_builder_end_object (builder);
  g_clear_pointer (&names, g_ptr_array_unref);

  json_builder_set_member_name (builder, "roles");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "hypervisor");
  json_builder_add_boolean_value (builder, self->has_kvm_entry);
  json_builder_set_member_name (builder, "guest");
  json_builder_add_boolean_value (builder, self->has_vmsync_guest);
  json_builder_set_member_name (builder, "vm_uids");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->vm_uids->len; i++)
    {
      /* vm_uid is a random 64-bit value: as a string, JSON readers that
       * use doubles cannot round it. */
      g_autofree char *uid = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                              g_array_index (self->vm_uids, guint64, i));
      json_builder_add_string_value (builder, uid);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "complete");
  json_builder_add_boolean_value (builder, self->complete);

  json_builder_set_member_name (builder, "problems");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->problems->len; i++)
    {
      const StrataTraceProblem *problem = g_ptr_array_index (self->problems, i);

      json_builder_begin_object (builder);
      add_string_member (builder, "severity",
                         problem->severity == STRATA_PROBLEM_ERROR ? "error" : "warning");
      add_string_member (builder, "message", problem->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static char *
format_duration (gint64 ns)
{
  if (ns < 1000)
    return g_strdup_printf ("%" G_GINT64_FORMAT " ns", ns);
  if (ns < 1000000)
    return g_strdup_printf ("%.3f µs", ns / 1e3);
  if (ns < G_GINT64_CONSTANT (1000000000))
    return g_strdup_printf ("%.3f ms", ns / 1e6);
  return g_strdup_printf ("%.3f s", ns / 1e9);
}

/* A wall-clock rendering of a time from the Unix epoch, when the clock's
 * offset makes it one (LTTng's monotonic clock offset is set so that
 * offset + value is the wall-clock time). */
static char *
format_time (gint64 ns)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ns / G_GINT64_CONSTANT (1000000000));
  g_autofree char *date = NULL;

  if (dt == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT, ns);

  date = g_date_time_format (dt, "%Y-%m-%d %H:%M:%S");
  return g_strdup_printf ("%s.%09" G_GINT64_FORMAT " UTC (%" G_GINT64_FORMAT " ns)",
                          date, ns % G_GINT64_CONSTANT (1000000000), ns);
}

/**
 * strata_trace_info_to_text:
 *
 * Returns: (transfer full): the info as `strata-cli info` prints it
 */
char *
strata_trace_info_to_text (const StrataTraceInfo *self)
{
  g_autoptr(GString) str = g_string_new (NULL);
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *version = NULL;
  g_autofree char *duration = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  version = strata_trace_info_dup_tracer_version (self);
  duration = format_duration (self->end_ns - self->begin_ns);

  g_string_append_printf (str, "%s\n", self->path);
  g_string_append_printf (str, _("  Host:        %s (%s %s)\n"),
                          self->hostname ? self->hostname : _("unknown"),
                          self->sysname ? self->sysname : "",
                          self->kernel_release ? self->kernel_release : "");
  g_string_append_printf (str, _("  Domain:      %s\n"), self->domain ? self->domain : _("unknown"));
  g_string_append_printf (str, _("  Tracer:      %s %s\n"),
                          self->tracer_name ? self->tracer_name : _("unknown"),
                          version ? version : "");
  g_string_append_printf (str, _("  Clock:       %s, uuid %s (boot id)\n"),
                          self->clock_name ? self->clock_name : _("unknown"),
                          self->clock_uuid ? self->clock_uuid : _("none"));
  if (self->n_events > 0)
    {
      g_autofree char *begin = format_time (self->begin_ns);
      g_autofree char *end = format_time (self->end_ns);

      g_string_append_printf (str, _("  Begin:       %s\n"), begin);
      g_string_append_printf (str, _("  End:         %s\n"), end);
      g_string_append_printf (str, _("  Duration:    %s\n"), duration);
    }
  g_string_append_printf (str, _("  CPUs:        %u (%u streams)\n"), self->cpus->len, self->n_streams);
  g_string_append_printf (str, _("  Events:      %" PRIu64
                                 " (%" PRIu64 " not interpreted), %u classes declared\n"),
                          self->n_events, self->n_unknown_events, self->n_event_classes);
  g_string_append_printf (str, _("  Lost events: %" PRIu64 " in %u ranges\n"),
                          self->lost_events, self->lost_ranges->len);

  if (self->has_kvm_entry || self->has_vmsync_guest)
    {
      g_string_append (str, _("  Roles:      "));
      if (self->has_kvm_entry)
        g_string_append (str, _(" hypervisor (runs virtual machines)"));
      for (guint i = 0; i < self->vm_uids->len; i++)
        g_string_append_printf (str, _(" guest (vm_uid %" PRIu64 ")"),
                                g_array_index (self->vm_uids, guint64, i));
      g_string_append_c (str, '\n');
    }

  names = sorted_keys (self->layout);
  if (names->len > 0)
    g_string_append (str, _("  Layout:\n"));
  for (guint i = 0; i < names->len; i++)
    {
      const char *family = g_ptr_array_index (names, i);

      g_string_append_printf (str, "    %-10s %s\n", family,
                              (const char *) g_hash_table_lookup (self->layout, family));
    }
  g_clear_pointer (&names, g_ptr_array_unref);

  for (guint i = 0; i < self->problems->len; i++)
    {
      const StrataTraceProblem *problem = g_ptr_array_index (self->problems, i);

      g_string_append_printf (str, "  %s %s\n",
                              problem->severity == STRATA_PROBLEM_ERROR ? _("Error:") : _("Warning:"),
                              problem->message);
    }

  return g_string_free (g_steal_pointer (&str), FALSE);
}

static gboolean
discard_batch_cb (StrataEventBatch **batch,
                  gpointer           user_data)
{
  return TRUE;
}

/**
 * strata_trace_info_load:
 * @path: a trace folder
 *
 * Reads the whole trace to identify it and count its events. Runs on the
 * calling thread; see strata_trace_info_load_async() for a worker thread.
 *
 * Returns: (transfer full): the info, %NULL with @error set when the trace
 *   cannot be read at all (its problems otherwise say what was skipped)
 */
StrataTraceInfo *
strata_trace_info_load (const char    *path,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autoptr(StrataTraceReader) reader = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  reader = strata_trace_reader_new (path, error);
  if (reader == NULL)
    return NULL;

  /* Identity needs the counts, not the records: the reader then decodes
   * no payload but the few that carry role hints. */
  strata_trace_reader_set_kinds (reader, NULL, 0);

  if (!strata_trace_reader_run (reader, discard_batch_cb, NULL, cancellable, error))
    return NULL;

  return strata_trace_info_ref (strata_trace_reader_get_info (reader));
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  StrataTraceInfo *info = strata_trace_info_load (task_data, cancellable, &error);

  if (info == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, info, (GDestroyNotify) strata_trace_info_unref);
}

/**
 * strata_trace_info_load_async:
 *
 * Runs strata_trace_info_load() on a worker thread.
 */
void
strata_trace_info_load_async (const char          *path,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, strata_trace_info_load_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, load_thread);
}

StrataTraceInfo *
strata_trace_info_load_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
