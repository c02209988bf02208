/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "strata-test-utils.h"
#include "strata-trace-reader.h"

/* What ../shared/traces/README.md and the traces' metadata say. */
typedef struct
{
  const char *path;
  guint64     n_events;
  guint       n_cpus;
  const char *hostname;
  const char *tracer_version;
} KnownTrace;

static const KnownTrace known_traces[] = {
  { "simple-kernel", 11980, 8, "wilbrod", "2.11.0" },
  { "many-threads", 240644, 8, "wilbrod", "2.8.0" },
  { "wget-k-20180802-115043/kernel", 28383, 4, "arnaud-desktop", "2.10.6" },
  { "cat-kern-ust/cat-kernel", 100420, 8, "wilbrod", "2.11.0" },
  { "synctraces/scp_src", 110771, 1, "VM1", "2.1.0" },
  { "synctraces/scp_dest", 85729, 1, "VM3", "2.1.0" },
  { "bug446190", 31556, 4, "lager", "2.5.0" },
  { "flipping-endianness", 14310, 1, "qemu0", "2.5.0" },
};

/* Collects every record of a run, with its strings and arrays copied. */
typedef struct
{
  GArray    *events;     /* StrataEvent */
  GPtrArray *strings;    /* h[0], h[1] of each record as text, 2 per record */
  guint      n_batches;
  guint      max_batch;
  gboolean   steal;
  GPtrArray *kept;       /* batches kept when stealing */
} Collector;

static void
collector_init (Collector *c)
{
  memset (c, 0, sizeof *c);
  c->events = g_array_new (FALSE, FALSE, sizeof (StrataEvent));
  c->strings = g_ptr_array_new_with_free_func (g_free);
  c->kept = g_ptr_array_new_with_free_func ((GDestroyNotify) strata_event_batch_free);
}

static void
collector_clear (Collector *c)
{
  g_array_unref (c->events);
  g_ptr_array_unref (c->strings);
  g_ptr_array_unref (c->kept);
}

static char *
ref_to_text (const StrataEventBatch *batch,
             const StrataEvent      *event,
             guint                   j)
{
  if (event->kind == STRATA_EVENT_SCHED_PROCESS_FORK && j == 1)
    {
      guint len;
      const gint32 *values = strata_event_batch_get_int_array (batch, event->h[j], &len);
      GString *str = g_string_new (NULL);

      for (guint i = 0; i < len; i++)
        g_string_append_printf (str, "%s%d", i ? "," : "", values[i]);
      return g_string_free (str, FALSE);
    }
  return g_strdup (strata_event_batch_get_string (batch, event->h[j]));
}

static gboolean
collect_cb (StrataEventBatch **batch,
            gpointer           user_data)
{
  Collector *c = user_data;

  g_assert_cmpuint ((*batch)->n_events, >, 0);
  c->n_batches++;
  c->max_batch = MAX (c->max_batch, (*batch)->n_events);

  for (guint i = 0; i < (*batch)->n_events; i++)
    {
      const StrataEvent *event = &(*batch)->events[i];

      g_array_append_val (c->events, *event);
      for (guint j = 0; j < STRATA_EVENT_N_REFS; j++)
        g_ptr_array_add (c->strings, ref_to_text (*batch, event, j));
    }

  if (c->steal)
    g_ptr_array_add (c->kept, g_steal_pointer (batch));

  return TRUE;
}

static StrataTraceInfo *
read_all (const char      *relpath,
          Collector       *c,
          StrataEventKind *kinds,
          guint            n_kinds,
          guint            batch_size)
{
  g_autofree char *path = strata_test_trace_path (relpath);
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = strata_trace_reader_new (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reader);
  if (kinds != NULL)
    strata_trace_reader_set_kinds (reader, kinds, n_kinds);
  if (batch_size > 0)
    strata_trace_reader_set_batch_size (reader, batch_size);

  g_assert_true (strata_trace_reader_run (reader, collect_cb, c, NULL, &error));
  g_assert_no_error (error);

  return strata_trace_info_ref (strata_trace_reader_get_info (reader));
}

/* Every real trace: the counts, CPUs, host and tracer that are known. */
static void
test_known_counts (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_traces); i++)
    {
      const KnownTrace *known = &known_traces[i];
      g_autofree char *path = strata_test_trace_path (known->path);
      g_autoptr(GError) error = NULL;
      g_autoptr(StrataTraceInfo) info = strata_trace_info_load (path, NULL, &error);
      g_autofree char *version = NULL;
      guint64 sum = 0;

      g_test_message ("%s", known->path);
      g_assert_no_error (error);
      g_assert_nonnull (info);

      version = strata_trace_info_dup_tracer_version (info);
      g_assert_cmpuint (info->n_events, ==, known->n_events);
      g_assert_cmpuint (info->cpus->len, ==, known->n_cpus);
      g_assert_cmpstr (info->hostname, ==, known->hostname);
      g_assert_cmpstr (version, ==, known->tracer_version);
      g_assert_cmpstr (info->tracer_name, ==, "lttng-modules");
      g_assert_cmpstr (info->domain, ==, "kernel");
      g_assert_cmpstr (info->clock_name, ==, "monotonic");
      g_assert_nonnull (info->clock_uuid);
      g_assert_true (info->complete);
      g_assert_false (strata_trace_info_has_errors (info));
      g_assert_cmpuint (info->lost_events, ==, 0);
      g_assert_cmpint (info->begin_ns, >, info->clock_offset_ns);
      g_assert_cmpint (info->end_ns, >=, info->begin_ns);

      /* Counts by event name add up, and so do counts by CPU. */
      {
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init (&iter, info->event_counts);
        while (g_hash_table_iter_next (&iter, NULL, &value))
          sum += *(guint64 *) value;
      }
      g_assert_cmpuint (sum, ==, known->n_events);
      sum = 0;
      for (guint j = 0; j < info->cpus->len; j++)
        sum += g_array_index (info->cpus, StrataCpuInfo, j).n_events;
      g_assert_cmpuint (sum, ==, known->n_events);
    }
}

/* The same counts by event name as babeltrace2 itself. */
static void
test_counts_by_name (void)
{
  const char *traces[] = { "simple-kernel", "bug446190", "wget-k-20180802-115043/kernel" };

  for (guint t = 0; t < G_N_ELEMENTS (traces); t++)
    {
      g_autofree char *path = strata_test_trace_path (traces[t]);
      g_autoptr(GError) error = NULL;
      g_autoptr(StrataTraceInfo) info = strata_trace_info_load (path, NULL, &error);
      g_autoptr(GPtrArray) bt = strata_test_bt2_events (path, NULL);
      g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
      GHashTableIter iter;
      gpointer key, value;

      g_assert_no_error (error);
      g_assert_cmpuint (bt->len, ==, info->n_events);

      for (guint i = 0; i < bt->len; i++)
        {
          StrataTestBtEvent *e = g_ptr_array_index (bt, i);
          guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, e->name));
          g_hash_table_insert (counts, e->name, GUINT_TO_POINTER (n + 1));
        }

      g_assert_cmpuint (g_hash_table_size (counts), ==, g_hash_table_size (info->event_counts));
      g_hash_table_iter_init (&iter, counts);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_assert_cmpuint (strata_trace_info_get_count (info, key), ==, GPOINTER_TO_UINT (value));
    }
}

static void
assert_time_order (const Collector *c)
{
  for (guint i = 1; i < c->events->len; i++)
    {
      const StrataEvent *a = &g_array_index (c->events, StrataEvent, i - 1);
      const StrataEvent *b = &g_array_index (c->events, StrataEvent, i);

      if (b->ts < a->ts)
        g_error ("record %u at %" G_GINT64_FORMAT " comes after %" G_GINT64_FORMAT, i, b->ts, a->ts);
    }
}

/* synctraces: packets that begin before the previous one ended. Every
 * event is delivered, in time order. */
static void
test_overlapping_packets (void)
{
  const char *traces[] = { "synctraces/scp_src", "synctraces/scp_dest" };
  const guint64 expected[] = { 110771, 85729 };

  for (guint t = 0; t < G_N_ELEMENTS (traces); t++)
    {
      Collector c;
      g_autoptr(StrataTraceInfo) info = NULL;
      guint64 n_records;

      collector_init (&c);
      info = read_all (traces[t], &c, NULL, 0, 0);

      g_assert_cmpuint (info->n_events, ==, expected[t]);
      assert_time_order (&c);
      /* Every interpreted event gave one record, and each statedump
       * process_state (2.1: one per task, all in the root namespace) one
       * more for its PID namespace entry. */
      n_records = c.events->len;
      g_assert_cmpuint (n_records, ==, info->n_events - info->n_unknown_events
                        + strata_trace_info_get_count (info, "lttng_statedump_process_state"));
      g_assert_cmpuint (strata_trace_info_get_count (info, "inet_sock_local_out"), >, 0);
      collector_clear (&c);
    }
}

/* Eight streams merged: time order across CPUs, each CPU's records from
 * its own stream. */
static void
test_merge_streams (void)
{
  Collector c;
  g_autoptr(StrataTraceInfo) info = NULL;
  guint64 per_cpu[8] = { 0 };

  collector_init (&c);
  info = read_all ("many-threads", &c, NULL, 0, 1000);

  assert_time_order (&c);
  g_assert_cmpuint (c.max_batch, <=, 1000);
  g_assert_cmpuint (c.n_batches, >=, c.events->len / 1000);

  for (guint i = 0; i < c.events->len; i++)
    {
      const StrataEvent *e = &g_array_index (c.events, StrataEvent, i);

      g_assert_cmpuint (e->cpu, <, 8);
      if (e->kind != STRATA_EVENT_STATEDUMP_PROCESS_PID_NS)
        per_cpu[e->cpu]++;
    }

  for (guint cpu = 0; cpu < 8; cpu++)
    {
      const StrataCpuInfo *ci = &g_array_index (info->cpus, StrataCpuInfo, cpu);
      g_assert_cmpuint (ci->cpu, ==, cpu);
      /* Unknown events make no records, so records ≤ events on each CPU. */
      g_assert_cmpuint (per_cpu[cpu], <=, ci->n_events);
      g_assert_cmpuint (per_cpu[cpu], >, 0);
    }

  collector_clear (&c);
}

static gint
compare_bt_switch (gconstpointer a,
                   gconstpointer b)
{
  const StrataTestBtEvent *ea = *(StrataTestBtEvent **) a;
  const StrataTestBtEvent *eb = *(StrataTestBtEvent **) b;

  if (ea->ts != eb->ts)
    return ea->ts < eb->ts ? -1 : 1;
  return (int) ea->cpu - (int) eb->cpu;
}

/* Decoded values are babeltrace2's, record for record: sched_switch and
 * sched_process_fork (with its vtids array). */
static void
test_values_match_babeltrace (void)
{
  const char *traces[] = { "simple-kernel", "many-threads", "bug446190" };

  for (guint t = 0; t < G_N_ELEMENTS (traces); t++)
    {
      g_autofree char *path = strata_test_trace_path (traces[t]);
      StrataEventKind kinds[] = { STRATA_EVENT_SCHED_SWITCH };
      StrataEventKind fork_kinds[] = { STRATA_EVENT_SCHED_PROCESS_FORK };
      g_autoptr(GPtrArray) bt = strata_test_bt2_events (path, "sched_switch");
      g_autoptr(GPtrArray) bt_fork = strata_test_bt2_events (path, "sched_process_fork");
      g_autoptr(StrataTraceInfo) info = NULL;
      g_autoptr(StrataTraceInfo) info2 = NULL;
      Collector c, f;

      g_test_message ("%s: %u sched_switch, %u sched_process_fork", traces[t], bt->len, bt_fork->len);
      collector_init (&c);
      info = read_all (traces[t], &c, kinds, G_N_ELEMENTS (kinds), 0);
      g_assert_cmpuint (c.events->len, ==, bt->len);
      g_assert_cmpuint (bt->len, >, 100);

      /* Same timestamps: sort both the same way to compare ties. */
      g_ptr_array_sort (bt, compare_bt_switch);
      for (guint i = 0; i < bt->len; i++)
        {
          const StrataTestBtEvent *e = g_ptr_array_index (bt, i);
          const StrataEvent *r = NULL;
          guint k;

          /* Records are in time order; find the one at e's time and CPU. */
          for (k = i; k > 0 && g_array_index (c.events, StrataEvent, k - 1).ts == e->ts; k--)
            ;
          for (; k < c.events->len; k++)
            {
              r = &g_array_index (c.events, StrataEvent, k);
              if (r->ts != e->ts || r->cpu == e->cpu)
                break;
            }
          g_assert_nonnull (r);
          g_assert_cmpint (r->ts, ==, e->ts);
          g_assert_cmpuint (r->cpu, ==, e->cpu);
          g_assert_cmpuint (r->kind, ==, STRATA_EVENT_SCHED_SWITCH);
          g_assert_cmpint (r->v[0], ==, strata_test_bt_int (e, "prev_tid"));
          g_assert_cmpint (r->v[1], ==, strata_test_bt_int (e, "prev_prio"));
          g_assert_cmpint (r->v[2], ==, strata_test_bt_int (e, "prev_state"));
          g_assert_cmpint (r->v[3], ==, strata_test_bt_int (e, "next_tid"));
          g_assert_cmpint (r->v[4], ==, strata_test_bt_int (e, "next_prio"));
          g_assert_cmpstr (g_ptr_array_index (c.strings, 2 * k), ==, strata_test_bt_field (e, "prev_comm"));
          g_assert_cmpstr (g_ptr_array_index (c.strings, 2 * k + 1), ==, strata_test_bt_field (e, "next_comm"));
        }
      collector_clear (&c);

      collector_init (&f);
      info2 = read_all (traces[t], &f, fork_kinds, G_N_ELEMENTS (fork_kinds), 0);
      g_assert_cmpuint (f.events->len, ==, bt_fork->len);
      g_ptr_array_sort (bt_fork, compare_bt_switch);
      for (guint i = 0; i < bt_fork->len; i++)
        {
          const StrataTestBtEvent *e = g_ptr_array_index (bt_fork, i);
          const StrataEvent *r = &g_array_index (f.events, StrataEvent, i);

          g_assert_cmpint (r->ts, ==, e->ts);
          g_assert_cmpint (r->v[0], ==, strata_test_bt_int (e, "parent_tid"));
          g_assert_cmpint (r->v[2], ==, strata_test_bt_int (e, "child_tid"));
          g_assert_cmpint (r->v[3], ==, strata_test_bt_int (e, "child_pid"));
          g_assert_cmpstr (g_ptr_array_index (f.strings, 2 * i), ==, strata_test_bt_field (e, "child_comm"));
          if (g_hash_table_contains (e->fields, "vtids"))
            {
              g_assert_cmpstr (g_ptr_array_index (f.strings, 2 * i + 1), ==, strata_test_bt_field (e, "vtids"));
              g_assert_cmpint (r->v[5], ==, strata_test_bt_int (e, "child_ns_inum"));
            }
          else
            {
              /* 2.5: no namespaces */
              g_assert_cmpstr (g_ptr_array_index (f.strings, 2 * i + 1), ==, "");
              g_assert_cmpint (r->v[5], ==, STRATA_VALUE_ABSENT);
            }
        }
      collector_clear (&f);
    }
}

/* Before 2.12, a task in nested PID namespaces has one process_state event
 * per level. Each becomes a PID_NS record; the root level's also gives the
 * PROCESS_STATE record. */
static void
test_statedump_split (void)
{
  g_autofree char *path = strata_test_trace_path ("wget-k-20180802-115043/kernel");
  g_autoptr(GPtrArray) bt = strata_test_bt2_events (path, "lttng_statedump_process_state");
  StrataEventKind kinds[] = { STRATA_EVENT_STATEDUMP_PROCESS_STATE, STRATA_EVENT_STATEDUMP_PROCESS_PID_NS };
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(GHashTable) levels = g_hash_table_new (NULL, NULL);
  guint n_state = 0, n_ns = 0, n_root = 0, n_nested = 0;
  Collector c;

  for (guint i = 0; i < bt->len; i++)
    if (strata_test_bt_int (g_ptr_array_index (bt, i), "ns_level") == 0)
      n_root++;

  collector_init (&c);
  info = read_all ("wget-k-20180802-115043/kernel", &c, kinds, G_N_ELEMENTS (kinds), 0);

  for (guint i = 0; i < c.events->len; i++)
    {
      const StrataEvent *r = &g_array_index (c.events, StrataEvent, i);

      if (r->kind == STRATA_EVENT_STATEDUMP_PROCESS_STATE)
        {
          n_state++;
          g_assert_cmpint (r->v[0], >=, 0);
          g_assert_cmpint (r->v[7], !=, STRATA_VALUE_ABSENT);   /* cpu, 2.10+ */
        }
      else
        {
          n_ns++;
          g_assert_cmpuint (r->kind, ==, STRATA_EVENT_STATEDUMP_PROCESS_PID_NS);
          g_assert_cmpint (r->v[5], !=, STRATA_VALUE_ABSENT);   /* ns_inum, 2.7+ */
          if (r->v[4] == 2)
            {
              /* the browser sandbox: the task's tid in its own namespace */
              g_assert_cmpint (r->v[1], <, r->v[0]);
              n_nested++;
            }
        }
    }

  g_assert_cmpuint (n_ns, ==, bt->len);
  g_assert_cmpuint (n_state, ==, n_root);
  g_assert_cmpuint (n_state, <, n_ns);
  g_assert_cmpuint (n_nested, >, 0);
  collector_clear (&c);
}

/* System call names from the event names, both naming schemes. */
static void
test_syscalls (void)
{
  StrataEventKind kinds[] = { STRATA_EVENT_SYSCALL_ENTRY, STRATA_EVENT_SYSCALL_EXIT };
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(StrataTraceInfo) old_info = NULL;
  Collector c;

  collector_init (&c);
  info = read_all ("simple-kernel", &c, kinds, G_N_ELEMENTS (kinds), 0);
  g_assert_cmpuint (c.events->len, >, 0);
  for (guint i = 0; i < c.events->len; i++)
    {
      const StrataEvent *r = &g_array_index (c.events, StrataEvent, i);
      const char *name = g_ptr_array_index (c.strings, 2 * i);
      g_autofree char *event_name = NULL;

      g_assert_cmpstr (name, !=, "");
      if (r->kind == STRATA_EVENT_SYSCALL_ENTRY)
        {
          event_name = g_strconcat (r->v[0] ? "compat_syscall_entry_" : "syscall_entry_", name, NULL);
        }
      else
        {
          event_name = g_strconcat (r->v[1] ? "compat_syscall_exit_" : "syscall_exit_", name, NULL);
        }
      g_assert_cmpuint (strata_trace_info_get_count (info, event_name), >, 0);
    }
  collector_clear (&c);

  /* 2.5: sys_<name> entries and a single exit_syscall */
  collector_init (&c);
  old_info = read_all ("bug446190", &c, kinds, G_N_ELEMENTS (kinds), 0);
  {
    guint n_exit = 0, n_entry = 0;

    for (guint i = 0; i < c.events->len; i++)
      {
        const StrataEvent *r = &g_array_index (c.events, StrataEvent, i);
        const char *name = g_ptr_array_index (c.strings, 2 * i);

        if (r->kind == STRATA_EVENT_SYSCALL_EXIT)
          {
            n_exit++;
            g_assert_cmpstr (name, ==, "");
            g_assert_cmpint (r->v[0], !=, STRATA_VALUE_ABSENT);
          }
        else
          {
            g_autofree char *event_name = g_strconcat ("sys_", name, NULL);
            n_entry++;
            g_assert_cmpuint (strata_trace_info_get_count (old_info, event_name), >, 0);
          }
      }
    g_assert_cmpuint (n_exit, ==, strata_trace_info_get_count (old_info, "exit_syscall"));
    g_assert_cmpuint (n_entry, >, 0);
  }
  collector_clear (&c);
}

/* lttng-modules 2.1 names sched_process_exec's fields pid and old_pid. */
static void
test_exec_field_alias (void)
{
  StrataEventKind kinds[] = { STRATA_EVENT_SCHED_PROCESS_EXEC };
  g_autoptr(StrataTraceInfo) info = NULL;
  Collector c;

  collector_init (&c);
  info = read_all ("synctraces/scp_src", &c, kinds, 1, 0);
  g_assert_cmpuint (strata_trace_info_get_count (info, "sched_process_exec"), >, 0);
  g_assert_cmpuint (c.events->len, ==, strata_trace_info_get_count (info, "sched_process_exec"));
  for (guint i = 0; i < c.events->len; i++)
    {
      const StrataEvent *r = &g_array_index (c.events, StrataEvent, i);
      g_assert_cmpint (r->v[0], >, 0);
      g_assert_cmpstr (g_ptr_array_index (c.strings, 2 * i), !=, "");
    }
  for (guint i = 0; i < info->problems->len; i++)
    g_error ("unexpected problem: %s", ((StrataTraceProblem *) g_ptr_array_index (info->problems, i))->message);
  collector_clear (&c);
}

/* Kinds not asked for make no record but are still counted. */
static void
test_kind_filter (void)
{
  StrataEventKind kinds[] = { STRATA_EVENT_SCHED_WAKEUP };
  g_autoptr(StrataTraceInfo) info = NULL;
  Collector c;

  collector_init (&c);
  info = read_all ("cat-kern-ust/cat-kernel", &c, kinds, 1, 0);
  g_assert_cmpuint (info->n_events, ==, 100420);
  g_assert_cmpuint (c.events->len, ==, strata_trace_info_get_count (info, "sched_wakeup"));
  for (guint i = 0; i < c.events->len; i++)
    g_assert_cmpuint (g_array_index (c.events, StrataEvent, i).kind, ==, STRATA_EVENT_SCHED_WAKEUP);
  collector_clear (&c);
}

/* A consumer may keep batches; kept batches stay valid after the run. */
static void
test_steal_batches (void)
{
  g_autoptr(StrataTraceInfo) info = NULL;
  guint n = 0;
  Collector c;

  collector_init (&c);
  c.steal = TRUE;
  info = read_all ("simple-kernel", &c, NULL, 0, 500);
  g_assert_cmpuint (c.kept->len, ==, c.n_batches);
  for (guint i = 0; i < c.kept->len; i++)
    {
      const StrataEventBatch *batch = g_ptr_array_index (c.kept, i);

      for (guint j = 0; j < batch->n_events; j++, n++)
        {
          const StrataEvent *kept = &batch->events[j];
          const StrataEvent *copy = &g_array_index (c.events, StrataEvent, n);
          g_autofree char *text = ref_to_text (batch, kept, 0);

          g_assert_cmpmem (kept, sizeof *kept, copy, sizeof *copy);
          g_assert_cmpstr (text, ==, g_ptr_array_index (c.strings, 2 * n));
        }
    }
  g_assert_cmpuint (n, ==, c.events->len);
  collector_clear (&c);
}

static gboolean
stop_cb (StrataEventBatch **batch,
         gpointer           user_data)
{
  guint *n = user_data;

  (*n)++;
  return FALSE;
}

/* The consumer can stop the reading; the trace is then incomplete. */
static void
test_stop (void)
{
  g_autofree char *path = strata_test_trace_path ("many-threads");
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = strata_trace_reader_new (path, &error);
  StrataTraceInfo *info;
  guint n = 0;

  g_assert_no_error (error);
  strata_trace_reader_set_batch_size (reader, 100);
  g_assert_true (strata_trace_reader_run (reader, stop_cb, &n, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1);
  info = strata_trace_reader_get_info (reader);
  g_assert_false (info->complete);
  g_assert_cmpuint (info->n_events, <, 240644);
}

/* Cancellation from another thread, while the reader runs on its own. */
typedef struct
{
  GMutex        mutex;
  GCond         cond;
  GCancellable *cancellable;
  guint         batches;
  guint         batches_after_cancel;
  gboolean      first_batch;
  gboolean      cancelled;
  gboolean      ok;
  GError       *error;
  guint64       n_events;
} CancelData;

static gboolean
cancel_batch_cb (StrataEventBatch **batch,
                 gpointer           user_data)
{
  CancelData *d = user_data;

  g_mutex_lock (&d->mutex);
  d->batches++;
  if (d->cancelled)
    d->batches_after_cancel++;
  if (!d->first_batch)
    {
      /* Let the main thread cancel, and wait until it has. */
      d->first_batch = TRUE;
      g_cond_broadcast (&d->cond);
      while (!d->cancelled)
        g_cond_wait (&d->cond, &d->mutex);
    }
  g_mutex_unlock (&d->mutex);
  return TRUE;
}

static gpointer
cancel_thread (gpointer user_data)
{
  CancelData *d = user_data;
  g_autofree char *path = strata_test_trace_path ("many-threads");
  g_autoptr(StrataTraceReader) reader = strata_trace_reader_new (path, &d->error);

  g_assert_nonnull (reader);
  strata_trace_reader_set_batch_size (reader, 100);
  d->ok = strata_trace_reader_run (reader, cancel_batch_cb, d, d->cancellable, &d->error);
  d->n_events = strata_trace_reader_get_info (reader)->n_events;
  return NULL;
}

static void
test_cancel (void)
{
  CancelData d = { 0 };
  GThread *thread;
  gint64 cancel_time, end_time;

  g_mutex_init (&d.mutex);
  g_cond_init (&d.cond);
  d.cancellable = g_cancellable_new ();

  thread = g_thread_new ("reader", cancel_thread, &d);

  g_mutex_lock (&d.mutex);
  while (!d.first_batch)
    g_cond_wait (&d.cond, &d.mutex);
  cancel_time = g_get_monotonic_time ();
  g_cancellable_cancel (d.cancellable);
  d.cancelled = TRUE;
  g_cond_broadcast (&d.cond);
  g_mutex_unlock (&d.mutex);

  g_thread_join (thread);
  end_time = g_get_monotonic_time ();

  g_assert_false (d.ok);
  g_assert_error (d.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* The reader looks at the cancellable every 256 events, whatever the
   * machine's speed: at most that many events (each at most 2 records)
   * after the cancel, plus the batch being filled. */
  g_assert_cmpuint (d.batches_after_cancel, <=, (2 * 256) / 100 + 2);
  g_assert_cmpuint (d.n_events, <, 240644);
  g_test_message ("stopped %.1f ms after the cancel, %u batches later",
                  (end_time - cancel_time) / 1000.0, d.batches_after_cancel);

  g_clear_error (&d.error);
  g_object_unref (d.cancellable);
  g_mutex_clear (&d.mutex);
  g_cond_clear (&d.cond);
}

static void
test_cancel_before (void)
{
  g_autofree char *path = strata_test_trace_path ("simple-kernel");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = strata_trace_reader_new (path, &error);
  guint n = 0;

  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_false (strata_trace_reader_run (reader, stop_cb, &n, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpuint (strata_trace_reader_get_info (reader)->n_events, ==, 0);
}

/* The async loader, as the CLI and the GUI use it. */
static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  StrataTraceInfo **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = strata_trace_info_load_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_load_async (void)
{
  g_autofree char *path = strata_test_trace_path ("flipping-endianness");
  StrataTraceInfo *info = NULL;

  strata_trace_info_load_async (path, NULL, load_cb, &info);
  while (info == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (info->n_events, ==, 14310);
  strata_trace_info_unref (info);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/strata/reader/known-counts", test_known_counts);
  g_test_add_func ("/strata/reader/counts-by-name", test_counts_by_name);
  g_test_add_func ("/strata/reader/overlapping-packets", test_overlapping_packets);
  g_test_add_func ("/strata/reader/merge-streams", test_merge_streams);
  g_test_add_func ("/strata/reader/values-match-babeltrace", test_values_match_babeltrace);
  g_test_add_func ("/strata/reader/statedump-split", test_statedump_split);
  g_test_add_func ("/strata/reader/syscalls", test_syscalls);
  g_test_add_func ("/strata/reader/exec-field-alias", test_exec_field_alias);
  g_test_add_func ("/strata/reader/kind-filter", test_kind_filter);
  g_test_add_func ("/strata/reader/steal-batches", test_steal_batches);
  g_test_add_func ("/strata/reader/stop", test_stop);
  g_test_add_func ("/strata/reader/cancel", test_cancel);
  g_test_add_func ("/strata/reader/cancel-before", test_cancel_before);
  g_test_add_func ("/strata/reader/load-async", test_load_async);

  return g_test_run ();
}
