/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-experiment"

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "strata-analysis-private.h"
#include "strata-experiment.h"
#include "strata-experiment-private.h"
#include "strata-fusion.h"
#include "strata-machine-plan.h"
#include "strata-sync.h"
#include "strata-trace-discovery.h"
#include "strata-trace-reader.h"

/*
 * The pipeline: discover → synchronize (pass 1, which also identifies the
 * machines) → fuse (pass 2).
 *
 * Pass 2 reads every fused trace on a thread of its own, in batches, onto
 * a short queue per trace. The calling thread merges the traces by time
 * in the reference clock and runs the fused state provider; the SHT
 * writes its nodes on its own thread. Decoding, the one costly part, runs
 * in parallel; the state update, which must see events in order, stays on
 * one thread and stays cheap.
 */

#define BATCH_SIZE       4096
#define QUEUE_BATCHES    4
#define CANCEL_CHECK     4096
#define PROGRESS_EVERY_US 200000
#define WRITE_CACHE_BYTES (16 * 1024 * 1024)

/* Share of the run each phase takes, for the progress bar */
#define SYNC_SHARE 0.3

static const StrataEventKind fuse_kinds[] = {
  STRATA_EVENT_SCHED_SWITCH,
  STRATA_EVENT_SCHED_WAKEUP,
  STRATA_EVENT_SCHED_WAKEUP_NEW,
  STRATA_EVENT_SCHED_WAKING,
  STRATA_EVENT_SCHED_PROCESS_FORK,
  STRATA_EVENT_SCHED_PROCESS_EXEC,
  STRATA_EVENT_SCHED_PROCESS_FREE,
  STRATA_EVENT_STATEDUMP_PROCESS_STATE,
  STRATA_EVENT_STATEDUMP_PROCESS_PID_NS,
  STRATA_EVENT_IRQ_HANDLER_ENTRY,
  STRATA_EVENT_IRQ_HANDLER_EXIT,
  STRATA_EVENT_SOFTIRQ_ENTRY,
  STRATA_EVENT_SOFTIRQ_EXIT,
  STRATA_EVENT_SYSCALL_ENTRY,
  STRATA_EVENT_SYSCALL_EXIT,
  STRATA_EVENT_KVM_ENTRY,
  STRATA_EVENT_KVM_EXIT,
  STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT,
  STRATA_EVENT_KVM_MMU_GET_PAGE,
  STRATA_EVENT_LOST,
};

typedef struct _Pass2 Pass2;

typedef struct
{
  Pass2              *pass;
  guint               index;       /* among the experiment's traces */
  const char         *path;        /* Borrowed */
  guint               machine;
  StrataSyncTransform transform;
  gboolean            identity;
  GThread            *thread;

  /* Under the pass's mutex */
  GQueue              queue;       /* StrataEventBatch */
  gboolean            done;
  StrataTraceInfo    *info;
  GError             *error;

  /* The merging thread's */
  StrataEventBatch   *batch;
  guint               pos;
  gint64              head_t;      /* the next event's reference time */
} Reader;

struct _Pass2
{
  GMutex        mutex;
  GCond         cond;
  gboolean      stop;
  GCancellable *cancellable;
  Reader       *readers;
  guint         n_readers;
};

void
strata_experiment_options_init (StrataExperimentOptions *options)
{
  g_return_if_fail (options != NULL);
  memset (options, 0, sizeof *options);
}

void
strata_experiment_result_free (StrataExperimentResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->summary, json_node_unref);
  g_clear_pointer (&result->stats, json_node_unref);
  g_clear_pointer (&result->analysis, strata_analysis_unref);
  g_clear_pointer (&result->warnings, g_ptr_array_unref);
  g_free (result->sht_path);
  g_free (result);
}

/* ---------------------------------------------------------------------- */
/* Pass 2: readers                                                        */
/* ---------------------------------------------------------------------- */

static gboolean
reader_batch_cb (StrataEventBatch **batch,
                 gpointer           user_data)
{
  Reader *r = user_data;
  Pass2 *pass = r->pass;
  gboolean go_on;

  if ((*batch)->n_events == 0)
    return TRUE;

  g_mutex_lock (&pass->mutex);
  while (!pass->stop && r->queue.length >= QUEUE_BATCHES)
    g_cond_wait (&pass->cond, &pass->mutex);
  go_on = !pass->stop;
  if (go_on)
    {
      g_queue_push_tail (&r->queue, g_steal_pointer (batch));
      g_cond_broadcast (&pass->cond);
    }
  g_mutex_unlock (&pass->mutex);
  return go_on;
}

/* A trace's thread: the reader lives and dies here, as babeltrace2 wants */
static gpointer
reader_thread (gpointer data)
{
  Reader *r = data;
  Pass2 *pass = r->pass;
  StrataTraceInfo *info = NULL;
  GError *error = NULL;
  g_autoptr(StrataTraceReader) reader = strata_trace_reader_new (r->path, &error);

  if (reader != NULL)
    {
      strata_trace_reader_set_kinds (reader, fuse_kinds, G_N_ELEMENTS (fuse_kinds));
      strata_trace_reader_set_batch_size (reader, BATCH_SIZE);
      strata_trace_reader_run (reader, reader_batch_cb, r, pass->cancellable, &error);
      info = strata_trace_info_ref (strata_trace_reader_get_info (reader));
    }

  g_mutex_lock (&pass->mutex);
  r->info = info;
  r->error = error;
  r->done = TRUE;
  g_cond_broadcast (&pass->cond);
  g_mutex_unlock (&pass->mutex);
  return NULL;
}

/* Moves @r to its next event, waiting for its reader if need be. FALSE
 * when the trace has no more. */
static gboolean
reader_advance (Reader *r)
{
  Pass2 *pass = r->pass;

  if (r->batch != NULL && ++r->pos < r->batch->n_events)
    goto found;

  g_clear_pointer (&r->batch, strata_event_batch_free);
  g_mutex_lock (&pass->mutex);
  while (r->queue.length == 0 && !r->done && !pass->stop)
    g_cond_wait (&pass->cond, &pass->mutex);
  r->batch = g_queue_pop_head (&r->queue);
  g_cond_broadcast (&pass->cond);
  g_mutex_unlock (&pass->mutex);
  r->pos = 0;
  if (r->batch == NULL)
    return FALSE;

found:
  {
    gint64 ts = r->batch->events[r->pos].ts;

    r->head_t = r->identity ? ts : strata_sync_transform_apply (&r->transform, ts);
  }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* The merge: a binary heap of readers by their next event's time          */
/* ---------------------------------------------------------------------- */

static inline gboolean
heap_less (Reader *a,
           Reader *b)
{
  return a->head_t < b->head_t || (a->head_t == b->head_t && a->index < b->index);
}

static void
heap_down (Reader **heap,
           guint    n,
           guint    i)
{
  for (;;)
    {
      guint l = 2 * i + 1;
      guint smallest = i;
      Reader *tmp;

      if (l < n && heap_less (heap[l], heap[smallest]))
        smallest = l;
      if (l + 1 < n && heap_less (heap[l + 1], heap[smallest]))
        smallest = l + 1;
      if (smallest == i)
        return;
      tmp = heap[i];
      heap[i] = heap[smallest];
      heap[smallest] = tmp;
      i = smallest;
    }
}

/* ---------------------------------------------------------------------- */
/* The run                                                                */
/* ---------------------------------------------------------------------- */

typedef struct
{
  const StrataExperimentOptions *options;
  gint64 last_report;
  double sync_fraction;
} Progress;

static void
report (Progress                       *progress,
        const StrataExperimentProgress *p,
        gboolean                        force)
{
  gint64 now = g_get_monotonic_time ();

  if (progress->options->progress == NULL)
    return;
  if (!force && now - progress->last_report < PROGRESS_EVERY_US)
    return;
  progress->last_report = now;
  progress->options->progress (p, progress->options->user_data);
}

static void
sync_progress_cb (guint    n_done,
                  guint    n_traces,
                  gpointer user_data)
{
  Progress *progress = user_data;
  StrataExperimentProgress p = { STRATA_EXPERIMENT_SYNC, 0 };

  p.fraction = n_traces > 0 ? SYNC_SHARE * n_done / n_traces : SYNC_SHARE;
  report (progress, &p, n_done == n_traces);
}

static void
add_string_array (JsonBuilder *b,
                  const char  *name,
                  GPtrArray   *strings)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; strings != NULL && i < strings->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (strings, i));
  json_builder_end_array (b);
}

static gint64
to_reference (const StrataSyncTrace *trace,
              gint64                 ts)
{
  return strata_sync_transform_is_identity (&trace->transform) ? ts
         : strata_sync_transform_apply (&trace->transform, ts);
}

/**
 * strata_experiment_run:
 * @paths: (array zero-terminated=1): files and folders holding traces
 * @options: how; @sht_path is required
 * @cancellable: (nullable): stops the run; the SHT is then not written
 * @error: where to say why the run failed
 *
 * Analyses the traces below @paths: finds them, synchronizes them,
 * identifies their machines and fuses them into an SHT. A trace that
 * cannot be read (in full or in part) is a problem in the summary, not a
 * failure: the rest is analysed.
 *
 * Returns: (transfer full): the result, or %NULL with @error set when no
 *   trace could be analysed, the SHT could not be written, or the run was
 *   cancelled
 */
StrataExperimentResult *
strata_experiment_run (const char * const            *paths,
                       const StrataExperimentOptions *options,
                       GCancellable                  *cancellable,
                       GError                       **error)
{
  g_autoptr(GPtrArray) locations = NULL;
  g_autoptr(GPtrArray) discover_problems = NULL;
  g_autoptr(GPtrArray) trace_paths = NULL;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(StrataMachineScan) scan = NULL;
  g_autoptr(StrataSyncResult) sync = NULL;
  g_autoptr(StrataMachinePlan) plan = NULL;
  g_autoptr(StrataFusion) fusion = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) machines_json = NULL;
  StrataSht *sht = NULL;
  StrataAnalysis *analysis = NULL;
  gboolean sht_owned = TRUE;
  StrataSyncOptions sync_options;
  StrataExperimentResult *result = NULL;
  StrataExperimentProgress p = { 0 };
  StrataShtStats sht_stats;
  StrataShtOptions sht_options;
  Progress progress = { options, 0, 0 };
  Pass2 pass = { 0 };
  Reader **heap = NULL;
  guint n_heap = 0;
  gint64 start = G_MAXINT64, end = G_MININT64;
  gint64 t0 = g_get_monotonic_time (), t_sync = 0, t_fuse = 0, t_done;
  guint64 n_events = 0;
  guint n_errors = 0;
  guint n_kinds;
  const StrataEventKind *kinds;
  gboolean cancelled = FALSE;

  g_return_val_if_fail (paths != NULL, NULL);
  g_return_val_if_fail (options != NULL && options->sht_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Discover */
  p.phase = STRATA_EXPERIMENT_DISCOVER;
  report (&progress, &p, TRUE);
  locations = strata_trace_discover (paths, &discover_problems, cancellable, error);
  if (locations == NULL)
    return NULL;
  for (guint i = 0; discover_problems != NULL && i < discover_problems->len; i++)
    g_ptr_array_add (problems, g_strdup (((GError *) g_ptr_array_index (discover_problems, i))->message));
  if (locations->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No trace found below %s%s",
                   paths[0], paths[1] != NULL ? " and the other paths given" : "");
      return NULL;
    }
  trace_paths = g_ptr_array_new ();
  for (guint i = 0; i < locations->len; i++)
    g_ptr_array_add (trace_paths, ((StrataTraceLocation *) g_ptr_array_index (locations, i))->path);
  g_ptr_array_add (trace_paths, NULL);

  /* Pass 1: synchronization, and the machines */
  p.phase = STRATA_EXPERIMENT_SYNC;
  report (&progress, &p, TRUE);
  scan = strata_machine_scan_new (locations->len);
  kinds = strata_machine_scan_get_kinds (&n_kinds);
  strata_sync_options_init (&sync_options);
  sync_options.reference = options->reference;
  sync_options.cache = options->sync_cache;
  sync_options.max_threads = options->max_threads;
  sync_options.progress = sync_progress_cb;
  sync_options.progress_data = &progress;
  sync_options.observe = strata_machine_scan_observe;
  sync_options.observe_kinds = kinds;
  sync_options.n_observe_kinds = n_kinds;
  sync_options.observe_data = scan;
  sync = strata_sync_run ((const char * const *) trace_paths->pdata, &sync_options, cancellable, error);
  if (sync == NULL)
    return NULL;
  t_sync = g_get_monotonic_time ();

  plan = strata_machine_scan_make_plan (scan, sync, locations, options->roles, options->n_roles, error);
  if (plan == NULL)
    return NULL;
  for (guint i = 0; i < plan->problems->len; i++)
    g_ptr_array_add (problems, g_strdup (g_ptr_array_index (plan->problems, i)));

  /* The experiment's span in the reference clock */
  for (guint i = 0; i < locations->len; i++)
    {
      const StrataSyncTrace *st = strata_sync_result_get_trace (sync, i);

      if (g_array_index (plan->trace_machine, int, i) < 0 || st->begin_ns == 0)
        continue;
      start = MIN (start, to_reference (st, st->begin_ns));
      end = MAX (end, to_reference (st, st->end_ns));
    }
  if (start > end)
    {
      g_autoptr(GString) why = g_string_new (NULL);

      /* Say of each trace why it gave nothing */
      for (guint i = 0; i < locations->len; i++)
        {
          const StrataSyncTrace *st = strata_sync_result_get_trace (sync, i);

          g_string_append_printf (why, "\n%s: ", st->path);
          if (g_array_index (plan->trace_machine, int, i) < 0 && st->read_ok)
            g_string_append (why, "a user-space trace");
          else if (!st->read_ok && st->problems->len > 0)
            g_string_append (why, (const char *) g_ptr_array_index (st->problems, 0));
          else
            g_string_append (why, "no event");
        }
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "No kernel trace with events below %s%s: nothing to analyse%s",
                   paths[0], paths[1] != NULL ? " and the other paths given" : "", why->str);
      return NULL;
    }

  /* Blocks just written are cached only for queries while the analysis
   * runs (a view showing it as it grows): a small cache is enough */
  sht_options.block_size = STRATA_SHT_DEFAULT_BLOCK_SIZE;
  sht_options.max_children = STRATA_SHT_DEFAULT_MAX_CHILDREN;
  sht_options.cache_bytes = WRITE_CACHE_BYTES;
  sht_options.queue_intervals = 0;
  sht = strata_sht_create (options->sht_path, start, STRATA_ANALYSIS_VERSION, &sht_options, error);
  if (sht == NULL)
    return NULL;
  fusion = strata_fusion_new (sht, plan, start);
  /* The machines are in the SHT: from now on it can be queried */
  analysis = strata_analysis_new_for_sht (sht, error);
  sht_owned = FALSE;
  if (analysis == NULL)
    {
      g_clear_pointer (&fusion, strata_fusion_free);
      return NULL;
    }
  for (guint m = 0; m < plan->machines->len; m++)
    {
      const StrataPlannedMachine *pm = strata_machine_plan_get (plan, m);

      if (pm->trace >= 0 && pm->layer > 0)
        {
          const StrataSyncTrace *st = strata_sync_result_get_trace (sync, (guint) pm->trace);

          if (isfinite (st->accuracy_ns))
            strata_fusion_set_tolerance (fusion, m, (gint64) ceil (st->accuracy_ns) + 1);
        }
    }
  if (options->started != NULL)
    options->started (analysis, options->user_data);

  /* Pass 2 */
  p.phase = STRATA_EXPERIMENT_FUSE;
  p.fraction = SYNC_SHARE;
  report (&progress, &p, TRUE);
  t_fuse = g_get_monotonic_time ();
  g_mutex_init (&pass.mutex);
  g_cond_init (&pass.cond);
  pass.cancellable = cancellable;
  pass.readers = g_new0 (Reader, locations->len);
  for (guint i = 0; i < locations->len; i++)
    {
      int machine = g_array_index (plan->trace_machine, int, i);
      const StrataSyncTrace *st = strata_sync_result_get_trace (sync, i);
      Reader *r;

      if (machine < 0)
        continue;
      r = &pass.readers[pass.n_readers++];
      r->pass = &pass;
      r->index = i;
      r->path = g_ptr_array_index (trace_paths, i);
      r->machine = (guint) machine;
      r->transform = st->transform;
      r->identity = strata_sync_transform_is_identity (&st->transform);
      g_queue_init (&r->queue);
      if (!st->synchronized && !st->is_reference)
        g_ptr_array_add (problems, g_strdup_printf ("%s: not synchronized: its events are placed by its own "
                                                    "clock, and may be wrong in time",
                                                    r->path));
    }
  for (guint i = 0; i < pass.n_readers; i++)
    pass.readers[i].thread = g_thread_new ("strata-reader", reader_thread, &pass.readers[i]);

  heap = g_new0 (Reader *, MAX (pass.n_readers, 1));
  for (guint i = 0; i < pass.n_readers; i++)
    if (reader_advance (&pass.readers[i]))
      heap[n_heap++] = &pass.readers[i];
  for (int i = (int) n_heap / 2 - 1; i >= 0; i--)
    heap_down (heap, n_heap, (guint) i);

  while (n_heap > 0)
    {
      Reader *r = heap[0];
      const StrataEvent *ev = &r->batch->events[r->pos];

      strata_fusion_handle (fusion, r->machine, r->batch, ev, r->head_t);
      n_events++;

      if (!reader_advance (r))
        heap[0] = heap[--n_heap];
      heap_down (heap, n_heap, 0);

      if (n_events % CANCEL_CHECK == 0)
        {
          if (g_cancellable_is_cancelled (cancellable))
            {
              cancelled = TRUE;
              break;
            }
          if (options->progress != NULL)
            {
              double elapsed = (g_get_monotonic_time () - t_fuse) / 1e6;

              p.events = n_events;
              p.events_per_s = elapsed > 0 ? n_events / elapsed : 0;
              p.time_ns = r->head_t;
              p.fraction = SYNC_SHARE + (1 - SYNC_SHARE) * CLAMP ((double) (r->head_t - start)
                                                                  / (double) MAX (end - start, 1), 0, 1);
              report (&progress, &p, FALSE);
            }
        }
    }

  g_mutex_lock (&pass.mutex);
  pass.stop = TRUE;
  g_cond_broadcast (&pass.cond);
  g_mutex_unlock (&pass.mutex);
  for (guint i = 0; i < pass.n_readers; i++)
    {
      Reader *r = &pass.readers[i];

      g_thread_join (r->thread);
      g_clear_pointer (&r->batch, strata_event_batch_free);
      g_queue_clear_full (&r->queue, (GDestroyNotify) strata_event_batch_free);
    }

  if (cancelled || g_cancellable_is_cancelled (cancellable))
    {
      g_cancellable_set_error_if_cancelled (cancellable, error);
      goto out;
    }

  strata_fusion_finish (fusion, end);
  if (!strata_sht_close (sht, end, error))
    goto out;
  /* What is shown next reads a screen of nodes: about 40 MiB for a whole
   * history (core/sht/FORMAT.md) */
  strata_sht_set_cache_bytes (sht, 0);
  strata_sht_get_stats (sht, &sht_stats);
  t_done = g_get_monotonic_time ();

  /* The summary */
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "analysis_version");
  json_builder_add_int_value (b, STRATA_ANALYSIS_VERSION);
  json_builder_set_member_name (b, "start_ns");
  json_builder_add_int_value (b, start);
  json_builder_set_member_name (b, "end_ns");
  json_builder_add_int_value (b, end);
  json_builder_set_member_name (b, "traces");
  json_builder_begin_array (b);
  for (guint i = 0; i < locations->len; i++)
    {
      const StrataSyncTrace *st = strata_sync_result_get_trace (sync, i);
      int machine = g_array_index (plan->trace_machine, int, i);
      Reader *r = NULL;

      for (guint k = 0; k < pass.n_readers; k++)
        if (pass.readers[k].index == i)
          r = &pass.readers[k];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, st->path);
      json_builder_set_member_name (b, "hostname");
      json_builder_add_string_value (b, st->hostname);
      json_builder_set_member_name (b, "machine");
      if (machine >= 0)
        json_builder_add_string_value (b, strata_machine_plan_get (plan, (guint) machine)->name);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "events");
      json_builder_add_int_value (b, r != NULL && r->info != NULL ? (gint64) r->info->n_events : 0);
      json_builder_set_member_name (b, "lost_events");
      json_builder_add_int_value (b, r != NULL && r->info != NULL ? (gint64) r->info->lost_events : 0);
      json_builder_set_member_name (b, "complete");
      json_builder_add_boolean_value (b, r != NULL && r->info != NULL && r->info->complete && r->error == NULL);
      json_builder_set_member_name (b, "problems");
      json_builder_begin_array (b);
      if (r != NULL && r->error != NULL)
        json_builder_add_string_value (b, r->error->message);
      for (guint k = 0; r != NULL && r->info != NULL && k < r->info->problems->len; k++)
        json_builder_add_string_value (b, ((StrataTraceProblem *) g_ptr_array_index (r->info->problems, k))->message);
      if (machine < 0 && st->read_ok)
        json_builder_add_string_value (b, "not fused: a user-space trace");
      if (!st->read_ok)
        json_builder_add_string_value (b, "could not be read");
      json_builder_end_array (b);
      json_builder_end_object (b);

      if (r != NULL && r->error != NULL)
        {
          n_errors++;
          g_ptr_array_add (problems, g_strdup_printf ("%s: %s: the analysis of its machine stops there",
                                                      st->path, r->error->message));
        }
      else if (!st->read_ok)
        {
          n_errors++;
          g_ptr_array_add (problems, g_strdup_printf ("%s: could not be read", st->path));
        }
      if (r != NULL && r->info != NULL && r->info->lost_events > 0)
        g_ptr_array_add (problems, g_strdup_printf ("%s: the tracer lost %" G_GUINT64_FORMAT " events: the "
                                                    "state of the CPUs that lost them is unknown until "
                                                    "their next context switch",
                                                    st->path, r->info->lost_events));
    }
  json_builder_end_array (b);

  machines_json = strata_fusion_dup_machines_json (fusion);
  {
    JsonArray *machines = json_node_get_array (machines_json);

    for (guint i = 0; i < json_array_get_length (machines); i++)
      {
        JsonObject *m = json_array_get_object_element (machines, i);

        if (json_object_has_member (m, "events_outside_entries")
            && json_object_get_int_member (m, "events_outside_entries") > 0)
          g_ptr_array_add (problems,
                           g_strdup_printf ("%s: %" G_GINT64_FORMAT " events fall outside the windows where "
                                            "its vCPUs run on the host (beyond the synchronization "
                                            "accuracy): the synchronization may be wrong",
                                            json_object_get_string_member (m, "name"),
                                            json_object_get_int_member (m, "events_outside_entries")));
      }
  }
  json_builder_set_member_name (b, "machines");
  json_builder_add_value (b, g_steal_pointer (&machines_json));
  json_builder_set_member_name (b, "sync");
  json_builder_add_value (b, strata_sync_result_to_json (sync));

  json_builder_set_member_name (b, "events");
  json_builder_add_int_value (b, (gint64) n_events);
  json_builder_set_member_name (b, "threads");
  json_builder_add_int_value (b, (gint64) strata_fusion_get_n_threads (fusion));
  json_builder_set_member_name (b, "sht");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, options->sht_path);
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, (gint64) sht_stats.file_bytes);
  json_builder_set_member_name (b, "intervals");
  json_builder_add_int_value (b, (gint64) sht_stats.n_intervals);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "timings");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sync_ms");
  json_builder_add_int_value (b, (t_sync - t0) / 1000);
  json_builder_set_member_name (b, "fuse_ms");
  json_builder_add_int_value (b, (t_done - t_fuse) / 1000);
  json_builder_set_member_name (b, "total_ms");
  json_builder_add_int_value (b, (t_done - t0) / 1000);
  json_builder_set_member_name (b, "events_per_s");
  json_builder_add_int_value (b, t_done > t_fuse ? (gint64) (n_events * 1e6 / (double) (t_done - t_fuse)) : 0);
  json_builder_end_object (b);
  add_string_array (b, "problems", problems);
  json_builder_end_object (b);

  result = g_new0 (StrataExperimentResult, 1);
  result->summary = json_builder_get_root (b);
  result->stats = strata_fusion_dup_stats_json (fusion);
  result->sht_path = g_strdup (options->sht_path);
  result->analysis = strata_analysis_ref (analysis);
  result->n_events = n_events;
  result->n_errors = n_errors;

  p.phase = STRATA_EXPERIMENT_DONE;
  p.fraction = 1;
  p.events = n_events;
  report (&progress, &p, TRUE);

out:
  for (guint i = 0; i < pass.n_readers; i++)
    {
      g_clear_pointer (&pass.readers[i].info, strata_trace_info_unref);
      g_clear_error (&pass.readers[i].error);
    }
  g_free (pass.readers);
  g_free (heap);
  g_mutex_clear (&pass.mutex);
  g_cond_clear (&pass.cond);
  /* The fusion writes into the SHT: free it first. The SHT goes with the
   * last reference to the analysis (a view may hold one). */
  g_clear_pointer (&fusion, strata_fusion_free);
  if (sht_owned)
    strata_sht_free (sht);
  g_clear_pointer (&analysis, strata_analysis_unref);
  return result;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/**
 * strata_experiment_make_key:
 * @trace_paths: (array zero-terminated=1): the trace folders (as found
 *   by strata_trace_discover())
 * @options: the options (the reference clock, roles)
 *
 * The identity of an analysis: the analysis version, the options, and
 * for each trace its path, its content's fingerprint (metadata, stream
 * sizes: strata_sync_trace_fingerprint()) and its files' modification
 * times, so that a trace rewritten in place is analysed again.
 *
 * Returns: (transfer full): a SHA-256 in hexadecimal, or %NULL with
 *   @error set when a trace cannot be identified
 */
char *
strata_experiment_make_key (const char * const             *trace_paths,
                            const StrataExperimentOptions  *options,
                            GError                        **error)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *sync_key = strata_sync_cache_make_key (trace_paths, options->reference, error);
  g_autofree char *head = NULL;

  if (sync_key == NULL)
    return NULL;
  head = g_strdup_printf ("strata analysis %d\n%s\n", STRATA_ANALYSIS_VERSION, sync_key);
  g_checksum_update (checksum, (const guchar *) head, -1);
  for (guint i = 0; i < options->n_roles; i++)
    {
      g_autofree char *role = g_strdup_printf ("role %s %s %d\n", options->roles[i].trace,
                                               options->roles[i].host != NULL ? options->roles[i].host : "-",
                                               options->roles[i].qemu_pid);

      g_checksum_update (checksum, (const guchar *) role, -1);
    }

  for (guint i = 0; trace_paths[i] != NULL; i++)
    {
      g_autoptr(GDir) dir = g_dir_open (trace_paths[i], 0, error);
      g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        return NULL;
      g_checksum_update (checksum, (const guchar *) trace_paths[i], -1);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *file = g_build_filename (trace_paths[i], name, NULL);
          struct stat st;

          if (stat (file, &st) == 0 && S_ISREG (st.st_mode))
            g_ptr_array_add (lines, g_strdup_printf ("\n%s %" G_GINT64_FORMAT ".%09ld", name,
                                                     (gint64) st.st_mtim.tv_sec, (long) st.st_mtim.tv_nsec));
        }
      g_ptr_array_sort (lines, compare_strings);
      for (guint k = 0; k < lines->len; k++)
        g_checksum_update (checksum, g_ptr_array_index (lines, k), -1);
    }
  return g_strdup (g_checksum_get_string (checksum));
}

void
_strata_experiment_options_copy_init (StrataExperimentOptionsCopy   *copy,
                                      const StrataExperimentOptions *options)
{
  copy->options = *options;
  copy->sht_path = g_strdup (options->sht_path);
  copy->reference = g_strdup (options->reference);
  copy->options.sht_path = copy->sht_path;
  copy->options.reference = copy->reference;
  copy->strings = g_ptr_array_new_with_free_func (g_free);
  copy->roles = g_new0 (StrataRoleOverride, MAX (options->n_roles, 1));
  for (guint i = 0; i < options->n_roles; i++)
    {
      copy->roles[i].trace = g_strdup (options->roles[i].trace);
      copy->roles[i].host = g_strdup (options->roles[i].host);
      copy->roles[i].qemu_pid = options->roles[i].qemu_pid;
      g_ptr_array_add (copy->strings, (gpointer) copy->roles[i].trace);
      if (copy->roles[i].host != NULL)
        g_ptr_array_add (copy->strings, (gpointer) copy->roles[i].host);
    }
  copy->options.roles = copy->roles;
  if (copy->options.sync_cache != NULL)
    g_object_ref (copy->options.sync_cache);
}

void
_strata_experiment_options_copy_clear (StrataExperimentOptionsCopy *copy)
{
  g_clear_pointer (&copy->sht_path, g_free);
  g_clear_pointer (&copy->reference, g_free);
  g_clear_pointer (&copy->strings, g_ptr_array_unref);
  g_clear_pointer (&copy->roles, g_free);
  g_clear_object (&copy->options.sync_cache);
}

typedef struct
{
  char                        **paths;
  StrataExperimentOptionsCopy   copy;
} RunData;

static void
run_data_free (gpointer data)
{
  RunData *run = data;

  g_strfreev (run->paths);
  _strata_experiment_options_copy_clear (&run->copy);
  g_free (run);
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  RunData *run = task_data;
  GError *error = NULL;
  StrataExperimentResult *result;

  result = strata_experiment_run ((const char * const *) run->paths, &run->copy.options, cancellable, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) strata_experiment_result_free);
}

/**
 * strata_experiment_run_async:
 * @options: copied; its callbacks are called on the worker thread
 *
 * Runs strata_experiment_run() on a worker thread.
 */
void
strata_experiment_run_async (const char * const            *paths,
                             const StrataExperimentOptions *options,
                             GCancellable                  *cancellable,
                             GAsyncReadyCallback            callback,
                             gpointer                       user_data)
{
  g_autoptr(GTask) task = NULL;
  RunData *run;

  g_return_if_fail (paths != NULL);
  g_return_if_fail (options != NULL && options->sht_path != NULL);

  run = g_new0 (RunData, 1);
  run->paths = g_strdupv ((char **) paths);
  _strata_experiment_options_copy_init (&run->copy, options);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, strata_experiment_run_async);
  g_task_set_task_data (task, run, run_data_free);
  g_task_run_in_thread (task, run_thread);
}

StrataExperimentResult *
strata_experiment_run_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
