/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sync"

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata-sync.h"
#include "strata-sync-match.h"
#include "strata-sync-private.h"
#include "strata-trace-reader.h"

/*
 * Pass 1: what synchronization needs from every trace.
 *
 * Each trace is read on a thread of its own (a pool of one per
 * processor, largest traces first), with only the message events
 * decoded: the reader skips the payload of everything else. Each batch becomes a chunk of message
 * halves on the trace's queue. The calling thread merges the queues by
 * time (ties by trace index) into the matcher, while the readers go on,
 * and each match into the hull of its pair of traces. The merge order
 * depends on the traces only, never on which thread ran first, so the
 * result is the same on every run.
 *
 * A trace whose next half is not known yet holds the merge back until
 * its reader delivers one or ends; the others keep reading meanwhile
 * (their halves wait on their queues: a few bytes each).
 */

/* Halves merged between two looks at the cancellable */
#define CANCEL_CHECK 4096

typedef struct
{
  guint             index;
  const char       *path;       /* Borrowed from the paths given */

  /* Under Pass1's mutex */
  GQueue            chunks;     /* GArray of StrataSyncRecord */
  gboolean          done;
  StrataTraceInfo  *info;       /* Owned; NULL when the trace could not be opened */
  GError           *error;      /* Owned; why reading stopped before the end */

  /* The merging thread's */
  GArray           *current;
  guint             pos;
  gboolean          exhausted;
} Pass1Trace;

typedef struct
{
  GMutex                  mutex;
  GCond                   cond;
  Pass1Trace             *traces;
  guint                   n_traces;
  guint                   n_done;       /* under mutex */
  guint                   n_reported;
  GCancellable           *cancellable;
  const StrataSyncOptions *options;
} Pass1;

typedef struct
{
  Pass1      *pass;
  Pass1Trace *trace;
} ReaderData;

/**
 * strata_sync_options_init:
 *
 * Sets the default options: the physical host as the reference, no
 * cache, one reader per processor, no progress.
 */
void
strata_sync_options_init (StrataSyncOptions *options)
{
  g_return_if_fail (options != NULL);

  options->reference = NULL;
  options->cache = NULL;
  options->max_threads = 0;
  options->progress = NULL;
  options->progress_data = NULL;
  options->observe = NULL;
  options->observe_kinds = NULL;
  options->n_observe_kinds = 0;
  options->observe_data = NULL;
}

/* ---------------------------------------------------------------------- */
/* Readers                                                                */
/* ---------------------------------------------------------------------- */

static gboolean
batch_cb (StrataEventBatch **batch,
          gpointer           user_data)
{
  ReaderData *data = user_data;
  const StrataSyncOptions *options = data->pass->options;
  GArray *chunk;

  if (options->observe != NULL)
    options->observe (data->trace->index, *batch, options->observe_data);

  chunk = g_array_sized_new (FALSE, FALSE, sizeof (StrataSyncRecord), (*batch)->n_events);

  for (guint i = 0; i < (*batch)->n_events; i++)
    {
      StrataSyncRecord record;

      if (strata_sync_record_from_event (&(*batch)->events[i], &record))
        g_array_append_val (chunk, record);
    }

  if (chunk->len == 0)
    {
      g_array_unref (chunk);
      return TRUE;
    }

  g_mutex_lock (&data->pass->mutex);
  g_queue_push_tail (&data->trace->chunks, chunk);
  g_cond_broadcast (&data->pass->cond);
  g_mutex_unlock (&data->pass->mutex);
  return TRUE;
}

/* A pool thread: reads one trace from start to end. The reader lives
 * and dies on this thread, as babeltrace2 wants. */
static void
read_trace (gpointer data,
            gpointer user_data)
{
  Pass1Trace *trace = data;
  Pass1 *pass = user_data;
  ReaderData reader_data = { pass, trace };
  StrataTraceInfo *info = NULL;
  GError *error = NULL;

  if (!g_cancellable_set_error_if_cancelled (pass->cancellable, &error))
    {
      g_autoptr(StrataTraceReader) reader = strata_trace_reader_new (trace->path, &error);

      if (reader != NULL)
        {
          const StrataSyncOptions *options = pass->options;
          guint n_kinds;
          const StrataEventKind *kinds = strata_sync_get_event_kinds (&n_kinds);
          g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (StrataEventKind));

          g_array_append_vals (all, kinds, n_kinds);
          if (options->observe != NULL && options->n_observe_kinds > 0)
            g_array_append_vals (all, options->observe_kinds, options->n_observe_kinds);
          strata_trace_reader_set_kinds (reader, (const StrataEventKind *) (gpointer) all->data, all->len);
          strata_trace_reader_run (reader, batch_cb, &reader_data, pass->cancellable, &error);
          info = strata_trace_info_ref (strata_trace_reader_get_info (reader));
        }
    }

  g_mutex_lock (&pass->mutex);
  trace->info = info;
  trace->error = error;
  trace->done = TRUE;
  pass->n_done++;
  g_cond_broadcast (&pass->cond);
  g_mutex_unlock (&pass->mutex);
}

/* ---------------------------------------------------------------------- */
/* The merge                                                              */
/* ---------------------------------------------------------------------- */

/* Called with the mutex held; releases it while the callback runs. */
static void
report_progress (Pass1 *pass)
{
  while (pass->options->progress != NULL && pass->n_reported != pass->n_done)
    {
      guint n_done = pass->n_done;

      pass->n_reported = n_done;
      g_mutex_unlock (&pass->mutex);
      pass->options->progress (n_done, pass->n_traces, pass->options->progress_data);
      g_mutex_lock (&pass->mutex);
    }
}

/* The next half of @trace, waiting for its reader if need be; NULL when
 * the trace has no more. */
static const StrataSyncRecord *
pass1_head (Pass1      *pass,
            Pass1Trace *trace)
{
  while (trace->current == NULL || trace->pos >= trace->current->len)
    {
      if (trace->exhausted)
        return NULL;

      g_clear_pointer (&trace->current, g_array_unref);
      trace->pos = 0;

      g_mutex_lock (&pass->mutex);
      for (;;)
        {
          report_progress (pass);
          if (!g_queue_is_empty (&trace->chunks) || trace->done)
            break;
          g_cond_wait (&pass->cond, &pass->mutex);
        }
      trace->current = g_queue_pop_head (&trace->chunks);
      trace->exhausted = trace->current == NULL;
      g_mutex_unlock (&pass->mutex);
    }

  return &g_array_index (trace->current, StrataSyncRecord, trace->pos);
}

static StrataSyncLink *
get_link (GHashTable *by_pair,
          GPtrArray  *links,
          guint       first,
          guint       second)
{
  guint64 key = ((guint64) first << 32) | second;
  StrataSyncLink *link = g_hash_table_lookup (by_pair, &key);

  if (link == NULL)
    {
      guint64 *stored = g_new (guint64, 1);

      *stored = key;
      link = _strata_sync_link_new (first, second);
      g_ptr_array_add (links, link);
      g_hash_table_insert (by_pair, stored, link);
    }
  return link;
}

static void
add_match (GHashTable            *by_pair,
           GPtrArray             *links,
           const StrataSyncMatch *match)
{
  guint first = MIN (match->sender, match->receiver);
  guint second = MAX (match->sender, match->receiver);
  StrataSyncLink *link = get_link (by_pair, links, first, second);

  /* x is the first trace's clock */
  if (match->sender == first)
    strata_sync_hull_add (link->hull, match->send_ts, match->recv_ts, STRATA_SYNC_X_TO_Y);
  else
    strata_sync_hull_add (link->hull, match->recv_ts, match->send_ts, STRATA_SYNC_Y_TO_X);

  if (match->channel == STRATA_SYNC_CHANNEL_VMSYNC_GH || match->channel == STRATA_SYNC_CHANNEL_VMSYNC_HG)
    {
      for (guint i = 0; i < link->vm_uids->len; i++)
        if (g_array_index (link->vm_uids, guint64, i) == match->key[0])
          return;
      g_array_append_val (link->vm_uids, match->key[0]);
    }
}

static void
merge (Pass1             *pass,
       StrataSyncMatcher *matcher,
       GHashTable        *by_pair,
       GPtrArray         *links)
{
  guint64 n_merged = 0;

  for (;;)
    {
      const StrataSyncRecord *best = NULL;
      Pass1Trace *best_trace = NULL;
      StrataSyncMatch match;

      for (guint i = 0; i < pass->n_traces; i++)
        {
          const StrataSyncRecord *head = pass1_head (pass, &pass->traces[i]);

          if (head != NULL && (best == NULL || head->ts < best->ts))
            {
              best = head;
              best_trace = &pass->traces[i];
            }
        }
      if (best == NULL)
        break;

      if (strata_sync_matcher_add (matcher, best_trace->index, best, &match))
        add_match (by_pair, links, &match);
      best_trace->pos++;

      if (++n_merged % CANCEL_CHECK == 0 && g_cancellable_is_cancelled (pass->cancellable))
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* The run                                                                */
/* ---------------------------------------------------------------------- */

static void
fill_trace (StrataSyncTrace         *trace,
            Pass1Trace              *read,
            const StrataSyncMatcher *matcher)
{
  StrataTraceInfo *info = read->info;

  g_free (trace->path);
  trace->path = g_strdup (read->path);
  trace->read_ok = info != NULL;
  trace->n_sync_events = strata_sync_matcher_get_n_records (matcher, read->index);
  trace->n_unmatched = strata_sync_matcher_get_n_unmatched (matcher, read->index);
  trace->n_duplicates = strata_sync_matcher_get_n_duplicates (matcher, read->index);

  if (info == NULL)
    {
      _strata_sync_trace_add_problem (trace, "could not be read: %s",
                                      read->error != NULL ? read->error->message : "unknown error");
      return;
    }

  g_free (trace->hostname);
  trace->hostname = g_strdup (info->hostname != NULL ? info->hostname : "");
  g_free (trace->clock_uuid);
  trace->clock_uuid = g_strdup (info->clock_uuid != NULL ? info->clock_uuid : "");
  trace->clock_offset_ns = info->clock_offset_ns;
  trace->begin_ns = info->begin_ns;
  trace->end_ns = info->end_ns;
  trace->is_host = info->has_kvm_entry;
  trace->is_guest = info->has_vmsync_guest;

  if (read->error != NULL)
    _strata_sync_trace_add_problem (trace, "reading stopped before the end: %s", read->error->message);
  for (guint i = 0; i < info->problems->len; i++)
    {
      const StrataTraceProblem *problem = g_ptr_array_index (info->problems, i);

      if (problem->severity == STRATA_PROBLEM_ERROR)
        _strata_sync_trace_add_problem (trace, "part of the trace could not be read, and its "
                                        "messages are missing: %s", problem->message);
    }
  if (trace->n_duplicates > 0)
    _strata_sync_trace_add_problem (trace, "%" G_GUINT64_FORMAT " sync events repeat the identity "
                                    "of an earlier one of this trace that was still waiting for "
                                    "its partner (a duplicate cnt or TCP packet); the earlier ones "
                                    "were kept", trace->n_duplicates);
}

/* The bytes of a trace's stream files: what reading it costs, roughly */
static guint64
trace_size (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint64 size = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);
      GStatBuf st;

      if (g_stat (file, &st) == 0 && S_ISREG (st.st_mode))
        size += (guint64) st.st_size;
    }
  return size;
}

typedef struct
{
  guint   index;
  guint64 size;
} Job;

static int
compare_jobs (gconstpointer a,
              gconstpointer b)
{
  const Job *ja = a, *jb = b;

  /* Largest first, then in order */
  if (ja->size != jb->size)
    return ja->size > jb->size ? -1 : 1;
  return ja->index < jb->index ? -1 : (ja->index > jb->index);
}

static StrataSyncResult *
run_pass1 (const char * const       *paths,
           const StrataSyncOptions  *options,
           GCancellable             *cancellable,
           GError                  **error)
{
  g_autoptr(StrataSyncMatcher) matcher = NULL;
  g_autoptr(GHashTable) by_pair = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func ((GDestroyNotify) _strata_sync_link_free);
  g_autoptr(StrataSyncResult) result = NULL;
  g_autofree Job *jobs = NULL;
  GThreadPool *pool;
  Pass1 pass = { 0 };
  guint n = g_strv_length ((char **) paths);
  guint max_threads = options->max_threads > 0 ? options->max_threads : g_get_num_processors ();

  g_mutex_init (&pass.mutex);
  g_cond_init (&pass.cond);
  pass.traces = g_new0 (Pass1Trace, MAX (n, 1));
  pass.n_traces = n;
  pass.cancellable = cancellable;
  pass.options = options;
  matcher = strata_sync_matcher_new (n);

  /* The largest traces start first: with more traces than threads, the
   * pass then ends soon after the largest one does. */
  jobs = g_new (Job, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      pass.traces[i].index = i;
      pass.traces[i].path = paths[i];
      g_queue_init (&pass.traces[i].chunks);
      jobs[i].index = i;
      jobs[i].size = trace_size (paths[i]);
    }
  qsort (jobs, n, sizeof (Job), compare_jobs);

  pool = g_thread_pool_new (read_trace, &pass, (int) MAX (1, MIN (max_threads, MAX (n, 1))), FALSE, NULL);
  for (guint i = 0; i < n; i++)
    g_thread_pool_push (pool, &pass.traces[jobs[i].index], NULL);

  merge (&pass, matcher, by_pair, links);

  /* Every reader has finished (a cancelled one within milliseconds)
   * before anything they share goes. */
  g_thread_pool_free (pool, FALSE, TRUE);

  g_mutex_lock (&pass.mutex);
  report_progress (&pass);
  g_mutex_unlock (&pass.mutex);

  if (!g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      result = _strata_sync_result_new (n);
      for (guint i = 0; i < n; i++)
        fill_trace (&g_array_index (result->traces, StrataSyncTrace, i), &pass.traces[i], matcher);
      result->n_matches = strata_sync_matcher_get_n_matches (matcher);

      if (!_strata_sync_solve (result, links, matcher, options->reference, error))
        g_clear_pointer (&result, strata_sync_result_unref);
    }

  for (guint i = 0; i < n; i++)
    {
      Pass1Trace *trace = &pass.traces[i];

      g_queue_clear_full (&trace->chunks, (GDestroyNotify) g_array_unref);
      g_clear_pointer (&trace->current, g_array_unref);
      g_clear_pointer (&trace->info, strata_trace_info_unref);
      g_clear_error (&trace->error);
    }
  g_free (pass.traces);
  g_mutex_clear (&pass.mutex);
  g_cond_clear (&pass.cond);

  return g_steal_pointer (&result);
}

/* Whether a result may be kept for the next run: not when a trace could
 * not be read (it may be readable next time, with the same identity). */
static gboolean
result_is_cacheable (const StrataSyncResult *result)
{
  for (guint i = 0; i < result->traces->len; i++)
    {
      const StrataSyncTrace *trace = &g_array_index (result->traces, StrataSyncTrace, i);

      if (!trace->read_ok)
        return FALSE;
    }
  return result->problems->len == 0;
}

/**
 * strata_sync_run:
 * @paths: (array zero-terminated=1): trace folders (see
 *   strata_trace_discover()); results are given in this order
 * @options: (nullable): how; %NULL for strata_sync_options_init()'s
 * @cancellable: (nullable): stops the run within milliseconds
 *
 * Synchronizes the traces at @paths: reads what they hold of messages
 * (pass 1, each trace on its own thread), matches them, and relates each
 * trace's clock to the reference's. A trace that cannot be read, or not
 * synchronized, is flagged as such in the result; it does not fail the
 * run.
 *
 * Returns: (transfer full): the result, or %NULL with @error set when
 *   cancelled or when the reference asked for is not among the traces
 */
StrataSyncResult *
strata_sync_run (const char * const       *paths,
                 const StrataSyncOptions  *options,
                 GCancellable             *cancellable,
                 GError                  **error)
{
  g_autoptr(StrataSyncResult) result = NULL;
  g_autoptr(GError) cache_error = NULL;
  g_autofree char *key = NULL;
  StrataSyncOptions defaults;
  gint64 start = g_get_monotonic_time ();

  g_return_val_if_fail (paths != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    {
      strata_sync_options_init (&defaults);
      options = &defaults;
    }

  if (options->cache != NULL)
    {
      /* A trace that cannot be identified cannot be read either: the run
       * will say so. */
      key = strata_sync_cache_make_key (paths, options->reference, NULL);
      if (key != NULL)
        {
          g_autoptr(GBytes) cached = NULL;

          /* An observer needs the traces read: the cache is only written */
          if (options->observe == NULL)
            cached = strata_sync_cache_lookup (options->cache, key, &cache_error);
          if (cached != NULL)
            result = _strata_sync_result_deserialize (g_bytes_get_data (cached, NULL),
                                                      g_bytes_get_size (cached), paths, &cache_error);
        }
    }

  if (result == NULL)
    {
      result = run_pass1 (paths, options, cancellable, error);
      if (result == NULL)
        return NULL;

      if (key != NULL && result_is_cacheable (result))
        {
          g_autofree char *data = _strata_sync_result_serialize (result);
          gsize length = strlen (data);
          g_autoptr(GBytes) bytes = g_bytes_new_take (g_steal_pointer (&data), length);

          if (cache_error == NULL)
            strata_sync_cache_store (options->cache, key, bytes, &cache_error);
        }
    }

  if (cache_error != NULL)
    _strata_sync_result_add_problem (result, "cache: %s", cache_error->message);

  result->elapsed_us = g_get_monotonic_time () - start;
  return g_steal_pointer (&result);
}

typedef struct
{
  char            **paths;
  char             *reference;
  StrataSyncCache  *cache;
  StrataSyncOptions options;
} RunData;

static void
run_data_free (gpointer data)
{
  RunData *run = data;

  g_strfreev (run->paths);
  g_free (run->reference);
  g_clear_object (&run->cache);
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
  StrataSyncResult *result;

  result = strata_sync_run ((const char * const *) run->paths, &run->options, cancellable, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) strata_sync_result_unref);
}

/**
 * strata_sync_run_async:
 * @paths: (array zero-terminated=1): trace folders
 * @options: (nullable): copied; its progress function, if any, is called
 *   on the worker thread
 * @cancellable: (nullable): stops the run
 * @callback: called on the calling thread's main context when done
 * @user_data: for @callback
 *
 * Runs strata_sync_run() on a worker thread.
 */
void
strata_sync_run_async (const char * const       *paths,
                       const StrataSyncOptions  *options,
                       GCancellable             *cancellable,
                       GAsyncReadyCallback       callback,
                       gpointer                  user_data)
{
  g_autoptr(GTask) task = NULL;
  RunData *run;

  g_return_if_fail (paths != NULL);

  run = g_new0 (RunData, 1);
  run->paths = g_strdupv ((char **) paths);
  if (options != NULL)
    run->options = *options;
  else
    strata_sync_options_init (&run->options);
  run->reference = g_strdup (run->options.reference);
  run->cache = run->options.cache != NULL ? g_object_ref (run->options.cache) : NULL;
  run->options.reference = run->reference;
  run->options.cache = run->cache;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, strata_sync_run_async);
  g_task_set_task_data (task, run, run_data_free);
  g_task_run_in_thread (task, run_thread);
}

/**
 * strata_sync_run_finish:
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 */
StrataSyncResult *
strata_sync_run_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
