/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "strata-test-utils.h"
#include "strata-trace-reader.h"
#include "strata-trace-writer.h"
#include "strata-trace-writer-private.h"

/* The field lists lttng-modules writes (EVENTS.md) */
#define SCHED_SWITCH_FIELDS \
  "prev_comm:string prev_tid:s32 prev_prio:s32 prev_state:s64 " \
  "next_comm:string next_tid:s32 next_prio:s32"
#define SCHED_PROCESS_FORK_FIELDS \
  "parent_comm:string parent_tid:s32 parent_pid:s32 parent_ns_inum:u32 " \
  "child_comm:string child_tid:s32 vtids:s32[] child_pid:s32 child_ns_inum:u32"
#define KVM_X86_EXIT_FIELDS \
  "exit_reason:u32 guest_rip:x64 isa:u32 info1:u64 info2:u64 " \
  "intr_info:u32 error_code:u32 vcpu_id:u32"
#define VMSYNC_FIELDS "cnt:u32 vm_uid:x64"

#define CLOCK_UUID "e0ff1bac-aa1d-451d-a8c1-10cb8d315d45"
#define CLOCK_OFFSET G_GINT64_CONSTANT (1457111225177515989)

typedef struct
{
  char *tmpdir;
  char *trace;   /* tmpdir/host/kernel: the writer creates the parents */
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->tmpdir = strata_test_make_tmpdir ();
  fixture->trace = g_build_filename (fixture->tmpdir, "host", "kernel", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  strata_test_rmtree (fixture->tmpdir);
  g_free (fixture->trace);
  g_free (fixture->tmpdir);
}

static StrataTraceWriterConfig
default_config (guint n_cpus,
                guint events_per_packet)
{
  StrataTraceWriterConfig config = {
    .hostname = "host0",
    .kernel_release = "5.15.0-91-generic",
    .tracer_major = 2,
    .tracer_minor = 13,
    .tracer_patchlevel = 9,
    .clock_uuid = CLOCK_UUID,
    .clock_offset_ns = CLOCK_OFFSET,
    .n_cpus = n_cpus,
    .events_per_packet = events_per_packet,
  };

  return config;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Names in @dir, sorted, joined by spaces */
static char *
list_dir (const char *dir)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return g_strdup ("(none)");

  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static int
add_class (StrataTraceWriter *writer,
           const char        *name,
           const char        *fields)
{
  g_autoptr(GError) error = NULL;
  int id = strata_trace_writer_add_event_class (writer, name, fields, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >=, 0);
  return id;
}

/* Reading back */

static gboolean
keep_batch_cb (StrataEventBatch **batch,
               gpointer           user_data)
{
  g_ptr_array_add (user_data, g_steal_pointer (batch));
  return TRUE;
}

/* Reads the whole trace; returns its batches, sets *info (a new ref). */
static GPtrArray *
read_trace (const char       *path,
            StrataTraceInfo **info)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = NULL;
  GPtrArray *batches = g_ptr_array_new_with_free_func ((GDestroyNotify) strata_event_batch_free);

  reader = strata_trace_reader_new (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reader);
  strata_trace_reader_run (reader, keep_batch_cb, batches, NULL, &error);
  g_assert_no_error (error);
  *info = strata_trace_info_ref (strata_trace_reader_get_info (reader));
  return batches;
}

/* Environment and clock */

static void
test_environment (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  g_autofree char *files = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *siblings = NULL;
  StrataTraceWriterConfig config = default_config (4, 0);
  StrataWriterValue value;
  int entry;

  /* Defaults for domain, sysname and tracer_name */
  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);
  entry = add_class (writer, "kvm_x86_entry", "vcpu_id:u32");
  g_assert_cmpint (entry, ==, 0);

  /* CPUs 1 and 3 stay empty: they still get a stream file */
  value.u = 1;
  strata_trace_writer_append (writer, 0, 5000, entry, &value, 1, &error);
  g_assert_no_error (error);
  value.u = 2;
  strata_trace_writer_append (writer, 2, 4000, entry, &value, 1, &error);
  g_assert_no_error (error);
  value.u = 3;
  strata_trace_writer_append (writer, 0, 9000, entry, &value, 1, &error);
  g_assert_no_error (error);

  /* Nothing at the final path until the trace is complete */
  g_assert_false (g_file_test (fixture->trace, G_FILE_TEST_EXISTS));
  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);

  files = list_dir (fixture->trace);
  g_assert_cmpstr (files, ==, "channel0_0 channel0_1 channel0_2 channel0_3 metadata");
  parent = g_path_get_dirname (fixture->trace);
  siblings = list_dir (parent);
  g_assert_cmpstr (siblings, ==, "kernel");

  batches = read_trace (fixture->trace, &info);

  g_assert_cmpstr (info->hostname, ==, "host0");
  g_assert_cmpstr (info->domain, ==, "kernel");
  g_assert_cmpstr (info->sysname, ==, "Linux");
  g_assert_cmpstr (info->kernel_release, ==, "5.15.0-91-generic");
  g_assert_cmpstr (info->tracer_name, ==, "lttng-modules");
  g_assert_cmpint (info->tracer_major, ==, 2);
  g_assert_cmpint (info->tracer_minor, ==, 13);
  g_assert_cmpint (info->tracer_patchlevel, ==, 9);
  g_assert_cmpstr (info->clock_name, ==, "monotonic");
  g_assert_cmpstr (info->clock_uuid, ==, CLOCK_UUID);
  g_assert_cmpint (info->clock_offset_ns, ==, CLOCK_OFFSET);
  g_assert_cmpuint (info->clock_frequency, ==, 1000000000);

  g_assert_cmpint (info->begin_ns, ==, CLOCK_OFFSET + 4000);
  g_assert_cmpint (info->end_ns, ==, CLOCK_OFFSET + 9000);
  g_assert_cmpuint (info->n_events, ==, 3);
  g_assert_cmpuint (info->n_streams, ==, 4);
  g_assert_cmpuint (info->cpus->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      const StrataCpuInfo *cpu = &g_array_index (info->cpus, StrataCpuInfo, i);

      g_assert_cmpuint (cpu->cpu, ==, i);
      g_assert_cmpuint (cpu->n_events, ==, i == 0 ? 2 : i == 2 ? 1 : 0);
      g_assert_cmpuint (cpu->lost_events, ==, 0);
    }
  g_assert_cmpuint (info->lost_events, ==, 0);
  g_assert_true (info->has_kvm_entry);
  g_assert_false (strata_trace_info_has_errors (info));
}

static void
test_environment_options (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  StrataTraceWriterConfig config = {
    .hostname = "guest1",
    .domain = "kernel",
    .sysname = "Linux",
    .tracer_name = "lttng-modules",
    .tracer_major = 2,
    .tracer_minor = 8,
    /* A random clock uuid, an offset not a whole number of seconds */
    .clock_offset_ns = G_GINT64_CONSTANT (1700000000999999999),
    .n_cpus = 1,
  };

  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);
  /* No event class, no event at all */
  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);

  batches = read_trace (fixture->trace, &info);
  g_assert_cmpstr (info->hostname, ==, "guest1");
  g_assert_null (info->kernel_release);
  g_assert_cmpint (info->tracer_minor, ==, 8);
  g_assert_cmpint (info->tracer_patchlevel, ==, 0);
  g_assert_nonnull (info->clock_uuid);
  g_assert_true (g_uuid_string_is_valid (info->clock_uuid));
  g_assert_cmpint (info->clock_offset_ns, ==, G_GINT64_CONSTANT (1700000000999999999));
  g_assert_cmpuint (info->n_events, ==, 0);
  g_assert_cmpuint (info->n_streams, ==, 1);
}

/* Events of several kinds on several CPUs */

#define RT_N_EVENTS 600
#define RT_N_CPUS 3
#define RT_TS(i) (1000 + 7 * (guint64) (i))

static void
make_comm (char     *buf,
           gsize     size,
           guint     i,
           gboolean  next)
{
  g_snprintf (buf, size, "%s-%u", next ? "next" : "comm", i);
}

static void
test_round_trip (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  StrataTraceWriterConfig config = default_config (RT_N_CPUS, 5);
  int sched_switch, fork, kvm_exit, vmsync, statedump_start;
  guint n_read = 0;
  guint64 counts[5] = { 0 };

  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);

  sched_switch = add_class (writer, "sched_switch", SCHED_SWITCH_FIELDS);
  fork = add_class (writer, "sched_process_fork", SCHED_PROCESS_FORK_FIELDS);
  kvm_exit = add_class (writer, "kvm_x86_exit", KVM_X86_EXIT_FIELDS);
  vmsync = add_class (writer, "vmsync_gh_guest", VMSYNC_FIELDS);
  statedump_start = add_class (writer, "lttng_statedump_start", "");
  g_assert_cmpint (sched_switch, ==, 0);
  g_assert_cmpint (fork, ==, 1);
  g_assert_cmpint (kvm_exit, ==, 2);
  g_assert_cmpint (vmsync, ==, 3);
  g_assert_cmpint (statedump_start, ==, 4);

  for (guint i = 0; i < RT_N_EVENTS; i++)
    {
      guint cpu = i % RT_N_CPUS;
      char comm[32], next_comm[32];
      gint32 vtids[3] = { (gint32) i, (gint32) i + 1, (gint32) i + 2 };

      make_comm (comm, sizeof comm, i, FALSE);
      make_comm (next_comm, sizeof next_comm, i, TRUE);

      switch (i % 5)
        {
        case 0:
          {
            StrataWriterValue v[7] = {
              { .s = comm }, { .i = i }, { .i = 20 }, { .i = (gint64) i * -1000000007 },
              { .s = next_comm }, { .i = i + 1 }, { .i = -(gint64) (i % 100) },
            };

            strata_trace_writer_append (writer, cpu, RT_TS (i), sched_switch, v, 7, &error);
          }
          break;

        case 1:
          {
            StrataWriterValue v[9] = {
              { .s = "bash" }, { .i = 100 }, { .i = 100 }, { .u = 4026531836u },
              { .s = comm }, { .i = i }, { .a = { vtids, i % 4 } }, { .i = i },
              { .u = 4026531836u + i % 2 },
            };

            strata_trace_writer_append (writer, cpu, RT_TS (i), fork, v, 9, &error);
          }
          break;

        case 2:
          {
            StrataWriterValue v[8] = {
              { .u = i % 64 }, { .u = G_GUINT64_CONSTANT (0xffffffff81000000) + i }, { .u = 1 },
              { .u = G_MAXUINT64 - i }, { .u = i }, { .u = 0x80000000u | i }, { .u = 0 },
              { .u = i % 4 },
            };

            strata_trace_writer_append (writer, cpu, RT_TS (i), kvm_exit, v, 8, &error);
          }
          break;

        case 3:
          {
            StrataWriterValue v[2] = {
              { .u = i }, { .u = G_GUINT64_CONSTANT (0xdeadbeefcafe0000) + i },
            };

            strata_trace_writer_append (writer, cpu, RT_TS (i), vmsync, v, 2, &error);
          }
          break;

        case 4:
          strata_trace_writer_append (writer, cpu, RT_TS (i), statedump_start, NULL, 0, &error);
          break;

        default:
          g_assert_not_reached ();
        }
      g_assert_no_error (error);
    }

  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);

  batches = read_trace (fixture->trace, &info);
  g_assert_false (strata_trace_info_has_errors (info));
  g_assert_cmpuint (info->n_events, ==, RT_N_EVENTS);

  for (guint b = 0; b < batches->len; b++)
    {
      const StrataEventBatch *batch = g_ptr_array_index (batches, b);

      for (guint e = 0; e < batch->n_events; e++)
        {
          const StrataEvent *ev = &batch->events[e];
          guint i = n_read;
          char comm[32], next_comm[32];

          /* In time order: the i-th record is the i-th event */
          g_assert_cmpint (ev->ts, ==, CLOCK_OFFSET + (gint64) RT_TS (i));
          g_assert_cmpuint (ev->cpu, ==, i % RT_N_CPUS);
          make_comm (comm, sizeof comm, i, FALSE);
          make_comm (next_comm, sizeof next_comm, i, TRUE);
          counts[i % 5]++;

          switch (i % 5)
            {
            case 0:
              g_assert_cmpuint (ev->kind, ==, STRATA_EVENT_SCHED_SWITCH);
              g_assert_cmpint (ev->v[0], ==, i);
              g_assert_cmpint (ev->v[1], ==, 20);
              g_assert_cmpint (ev->v[2], ==, (gint64) i * -1000000007);
              g_assert_cmpint (ev->v[3], ==, i + 1);
              g_assert_cmpint (ev->v[4], ==, -(gint64) (i % 100));
              g_assert_cmpstr (strata_event_batch_get_string (batch, ev->h[0]), ==, comm);
              g_assert_cmpstr (strata_event_batch_get_string (batch, ev->h[1]), ==, next_comm);
              break;

            case 1:
              {
                const gint32 *vtids;
                guint len = 0;

                g_assert_cmpuint (ev->kind, ==, STRATA_EVENT_SCHED_PROCESS_FORK);
                g_assert_cmpint (ev->v[0], ==, 100);
                g_assert_cmpint (ev->v[1], ==, 100);
                g_assert_cmpint (ev->v[2], ==, i);
                g_assert_cmpint (ev->v[3], ==, i);
                g_assert_cmpint (ev->v[4], ==, 4026531836);
                g_assert_cmpint (ev->v[5], ==, 4026531836 + i % 2);
                g_assert_cmpstr (strata_event_batch_get_string (batch, ev->h[0]), ==, comm);
                vtids = strata_event_batch_get_int_array (batch, ev->h[1], &len);
                g_assert_cmpuint (len, ==, i % 4);
                for (guint k = 0; k < len; k++)
                  g_assert_cmpint (vtids[k], ==, i + k);
              }
              break;

            case 2:
              g_assert_cmpuint (ev->kind, ==, STRATA_EVENT_KVM_EXIT);
              g_assert_cmpint (ev->v[0], ==, i % 64);
              g_assert_cmpint (ev->v[1], ==, 1);
              g_assert_cmpuint ((guint64) ev->v[2], ==, G_MAXUINT64 - i);
              g_assert_cmpint (ev->v[3], ==, i);
              g_assert_cmpuint ((guint64) ev->v[4], ==,
                                G_GUINT64_CONSTANT (0xffffffff81000000) + i);
              g_assert_cmpint (ev->v[5], ==, i % 4);
              g_assert_cmpint (ev->v[6], ==, 0x80000000u | i);
              g_assert_cmpint (ev->v[7], ==, 0);
              break;

            case 3:
              g_assert_cmpuint (ev->kind, ==, STRATA_EVENT_VMSYNC_GH_GUEST);
              g_assert_cmpint (ev->v[0], ==, i);
              g_assert_cmpuint ((guint64) ev->v[1], ==,
                                G_GUINT64_CONSTANT (0xdeadbeefcafe0000) + i);
              break;

            case 4:
              g_assert_cmpuint (ev->kind, ==, STRATA_EVENT_STATEDUMP_START);
              break;

            default:
              g_assert_not_reached ();
            }

          n_read++;
        }
    }

  g_assert_cmpuint (n_read, ==, RT_N_EVENTS);
  g_assert_cmpuint (strata_trace_info_get_count (info, "sched_switch"), ==, counts[0]);
  g_assert_cmpuint (strata_trace_info_get_count (info, "sched_process_fork"), ==, counts[1]);
  g_assert_cmpuint (strata_trace_info_get_count (info, "kvm_x86_exit"), ==, counts[2]);
  g_assert_cmpuint (strata_trace_info_get_count (info, "vmsync_gh_guest"), ==, counts[3]);
  g_assert_cmpuint (strata_trace_info_get_count (info, "lttng_statedump_start"), ==, counts[4]);
  g_assert_true (info->has_vmsync_guest);
  g_assert_cmpuint (info->vm_uids->len, ==, counts[3]);
}

/* Lost events */

static const StrataLostRange *
find_lost_range (const StrataTraceInfo *info,
                 guint                  cpu)
{
  const StrataLostRange *found = NULL;

  for (guint i = 0; i < info->lost_ranges->len; i++)
    {
      const StrataLostRange *range = &g_array_index (info->lost_ranges, StrataLostRange, i);

      if (range->cpu == cpu)
        {
          g_assert_null (found);
          found = range;
        }
    }

  g_assert_nonnull (found);
  return found;
}

static void
test_discarded (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  StrataTraceWriterConfig config = default_config (4, 4);
  StrataWriterValue value = { .u = 0 };
  const StrataLostRange *range;
  guint64 lost_records = 0;
  guint64 n_records = 0;
  int entry;

  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);
  entry = add_class (writer, "kvm_x86_entry", "vcpu_id:u32");

  /* CPU 0: lost before its first event */
  strata_trace_writer_add_discarded (writer, 0, 5);
  for (guint i = 0; i < 3; i++)
    {
      strata_trace_writer_append (writer, 0, 100 + 10 * i, entry, &value, 1, &error);
      g_assert_no_error (error);
    }

  /* CPU 1: lost in the middle, two calls add up. Packets of 4 events:
   * [100, 130], [130, 150] (ended by the loss), [150, 190]. */
  for (guint i = 0; i < 10; i++)
    {
      if (i == 6)
        {
          strata_trace_writer_add_discarded (writer, 1, 3);
          strata_trace_writer_add_discarded (writer, 1, 3);
        }
      strata_trace_writer_append (writer, 1, 100 + 10 * i, entry, &value, 1, &error);
      g_assert_no_error (error);
    }

  /* CPU 2: lost after its last event */
  strata_trace_writer_append (writer, 2, 105, entry, &value, 1, &error);
  g_assert_no_error (error);
  strata_trace_writer_append (writer, 2, 115, entry, &value, 1, &error);
  g_assert_no_error (error);
  strata_trace_writer_add_discarded (writer, 2, 1000);

  /* CPU 3: nothing but lost events; a count of 0 is no loss */
  strata_trace_writer_add_discarded (writer, 3, 0);
  strata_trace_writer_add_discarded (writer, 3, 2);

  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);

  batches = read_trace (fixture->trace, &info);
  g_assert_cmpuint (info->n_events, ==, 15);
  g_assert_cmpuint (info->lost_events, ==, 5 + 6 + 1000 + 2);
  g_assert_cmpuint (info->lost_ranges->len, ==, 4);
  g_assert_cmpuint (info->cpus->len, ==, 4);
  g_assert_cmpuint (g_array_index (info->cpus, StrataCpuInfo, 0).lost_events, ==, 5);
  g_assert_cmpuint (g_array_index (info->cpus, StrataCpuInfo, 1).lost_events, ==, 6);
  g_assert_cmpuint (g_array_index (info->cpus, StrataCpuInfo, 2).lost_events, ==, 1000);
  g_assert_cmpuint (g_array_index (info->cpus, StrataCpuInfo, 3).lost_events, ==, 2);

  /* CTF places the loss between the end of the packet before it and the
   * end of the packet that counts it. */
  range = find_lost_range (info, 0);
  g_assert_cmpuint (range->count, ==, 5);
  g_assert_cmpint (range->begin_ns, ==, CLOCK_OFFSET + 100);
  g_assert_cmpint (range->end_ns, ==, CLOCK_OFFSET + 120);
  range = find_lost_range (info, 1);
  g_assert_cmpuint (range->count, ==, 6);
  g_assert_cmpint (range->begin_ns, ==, CLOCK_OFFSET + 150);
  g_assert_cmpint (range->end_ns, ==, CLOCK_OFFSET + 190);
  range = find_lost_range (info, 2);
  g_assert_cmpuint (range->count, ==, 1000);
  g_assert_cmpint (range->begin_ns, ==, CLOCK_OFFSET + 115);
  g_assert_cmpint (range->end_ns, ==, CLOCK_OFFSET + 190);
  range = find_lost_range (info, 3);
  g_assert_cmpuint (range->count, ==, 2);

  /* The reader also hands them over as records */
  for (guint b = 0; b < batches->len; b++)
    {
      const StrataEventBatch *batch = g_ptr_array_index (batches, b);

      for (guint e = 0; e < batch->n_events; e++)
        {
          if (batch->events[e].kind == STRATA_EVENT_LOST)
            lost_records += (guint64) batch->events[e].v[0];
          else
            n_records++;
        }
    }
  g_assert_cmpuint (lost_records, ==, 5 + 6 + 1000 + 2);
  g_assert_cmpuint (n_records, ==, 15);
}

/* Atomic output */

static void
test_abandoned (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = g_path_get_dirname (fixture->trace);
  g_autofree char *during = NULL;
  g_autofree char *after = NULL;
  StrataTraceWriterConfig config = default_config (2, 4);
  StrataTraceWriter *writer;
  StrataWriterValue value = { .u = 7 };
  int entry;

  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);
  entry = add_class (writer, "kvm_x86_entry", "vcpu_id:u32");
  /* Several packets already written by sink.ctf.fs */
  for (guint i = 0; i < 100; i++)
    {
      strata_trace_writer_append (writer, i % 2, i, entry, &value, 1, &error);
      g_assert_no_error (error);
    }

  /* Written beside the final folder, under another name */
  during = list_dir (parent);
  g_assert_true (g_str_has_prefix (during, "kernel.part-"));
  g_assert_false (g_file_test (fixture->trace, G_FILE_TEST_EXISTS));

  strata_trace_writer_free (writer);

  after = list_dir (parent);
  g_assert_cmpstr (after, ==, "");
}

static void
test_existing (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  g_autofree char *file = g_build_filename (fixture->tmpdir, "a-file", NULL);
  g_autofree char *full = g_build_filename (fixture->tmpdir, "full", NULL);
  g_autofree char *inside = g_build_filename (full, "metadata", NULL);
  g_autofree char *empty = g_build_filename (fixture->tmpdir, "empty", NULL);
  g_autofree char *listing = NULL;
  StrataTraceWriterConfig config = default_config (1, 0);
  StrataWriterValue value = { .u = 3 };
  int entry;

  g_assert_true (g_file_set_contents (file, "x", -1, NULL));
  g_assert_cmpint (g_mkdir (full, 0755), ==, 0);
  g_assert_true (g_file_set_contents (inside, "not ours", -1, NULL));
  g_assert_cmpint (g_mkdir (empty, 0755), ==, 0);

  /* A file or a folder with something in it is never overwritten */
  writer = strata_trace_writer_new (file, &config, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_assert_null (writer);
  g_clear_error (&error);

  writer = strata_trace_writer_new (full, &config, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_assert_null (writer);
  g_clear_error (&error);

  listing = list_dir (fixture->tmpdir);
  g_assert_cmpstr (listing, ==, "a-file empty full");

  /* An empty folder is replaced by the trace */
  writer = strata_trace_writer_new (empty, &config, &error);
  g_assert_no_error (error);
  entry = add_class (writer, "kvm_x86_entry", "vcpu_id:u32");
  strata_trace_writer_append (writer, 0, 10, entry, &value, 1, &error);
  g_assert_no_error (error);
  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);

  /* Closing twice is an error, and harmless */
  g_assert_false (strata_trace_writer_close (writer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (strata_trace_writer_append (writer, 0, 20, entry, &value, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);
  g_clear_pointer (&writer, strata_trace_writer_free);

  g_clear_pointer (&listing, g_free);
  listing = list_dir (fixture->tmpdir);
  g_assert_cmpstr (listing, ==, "a-file empty full");

  batches = read_trace (empty, &info);
  g_assert_cmpuint (info->n_events, ==, 1);
}

static void
test_failed_close (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autofree char *parent = g_path_get_dirname (fixture->trace);
  g_autofree char *squatter = g_build_filename (fixture->trace, "squatter", NULL);
  g_autofree char *listing = NULL;
  StrataTraceWriterConfig config = default_config (2, 0);
  StrataWriterValue value = { .u = 3 };
  int entry;

  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);
  entry = add_class (writer, "kvm_x86_entry", "vcpu_id:u32");
  strata_trace_writer_append (writer, 1, 10, entry, &value, 1, &error);
  g_assert_no_error (error);

  /* Someone takes the final folder meanwhile: the trace cannot go there */
  g_assert_cmpint (g_mkdir (fixture->trace, 0755), ==, 0);
  g_assert_true (g_file_set_contents (squatter, "x", -1, NULL));

  g_assert_false (strata_trace_writer_close (writer, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, fixture->trace));
  g_clear_error (&error);

  /* Their folder is untouched, and nothing of ours is left */
  listing = list_dir (fixture->trace);
  g_assert_cmpstr (listing, ==, "squatter");
  g_clear_pointer (&listing, g_free);
  listing = list_dir (parent);
  g_assert_cmpstr (listing, ==, "kernel");

  g_assert_false (strata_trace_writer_close (writer, &error));
  g_assert_nonnull (error);
}

/* The simulator writes one trace per machine at the same time */
static void
test_two_writers (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *host_path = g_build_filename (fixture->tmpdir, "host", NULL);
  g_autofree char *guest_path = g_build_filename (fixture->tmpdir, "guest", NULL);
  g_autoptr(StrataTraceWriter) host = NULL;
  g_autoptr(StrataTraceWriter) guest = NULL;
  g_autoptr(StrataTraceInfo) host_info = NULL;
  g_autoptr(StrataTraceInfo) guest_info = NULL;
  g_autoptr(GPtrArray) host_batches = NULL;
  g_autoptr(GPtrArray) guest_batches = NULL;
  StrataTraceWriterConfig host_config = default_config (4, 16);
  StrataTraceWriterConfig guest_config = default_config (2, 16);
  int gh_host, gh_guest;

  guest_config.hostname = "guest1";
  guest_config.clock_uuid = "5a0d4a8e-2d43-4c1f-9b7a-6f1e3c2b1a00";
  guest_config.clock_offset_ns = CLOCK_OFFSET + 1234567;

  host = strata_trace_writer_new (host_path, &host_config, &error);
  g_assert_no_error (error);
  guest = strata_trace_writer_new (guest_path, &guest_config, &error);
  g_assert_no_error (error);
  gh_host = add_class (host, "vmsync_gh_host", VMSYNC_FIELDS);
  gh_guest = add_class (guest, "vmsync_gh_guest", VMSYNC_FIELDS);

  for (guint i = 0; i < 1000; i++)
    {
      StrataWriterValue v[2] = { { .u = i }, { .u = 0x1234 } };

      strata_trace_writer_append (guest, i % 2, 100 * (guint64) i, gh_guest, v, 2, &error);
      g_assert_no_error (error);
      strata_trace_writer_append (host, i % 4, 100 * (guint64) i + 50, gh_host, v, 2, &error);
      g_assert_no_error (error);
    }

  g_assert_true (strata_trace_writer_close (guest, &error));
  g_assert_no_error (error);
  g_assert_true (strata_trace_writer_close (host, &error));
  g_assert_no_error (error);

  host_batches = read_trace (host_path, &host_info);
  guest_batches = read_trace (guest_path, &guest_info);
  g_assert_cmpstr (host_info->hostname, ==, "host0");
  g_assert_cmpstr (guest_info->hostname, ==, "guest1");
  g_assert_cmpstr (guest_info->clock_uuid, ==, "5a0d4a8e-2d43-4c1f-9b7a-6f1e3c2b1a00");
  g_assert_cmpint (guest_info->clock_offset_ns, ==, CLOCK_OFFSET + 1234567);
  g_assert_cmpuint (host_info->cpus->len, ==, 4);
  g_assert_cmpuint (guest_info->cpus->len, ==, 2);
  g_assert_cmpuint (strata_trace_info_get_count (host_info, "vmsync_gh_host"), ==, 1000);
  g_assert_cmpuint (strata_trace_info_get_count (guest_info, "vmsync_gh_guest"), ==, 1000);
  g_assert_true (guest_info->has_vmsync_guest);
  g_assert_cmpuint (guest_info->vm_uids->len, ==, 1);
  g_assert_cmpuint (g_array_index (guest_info->vm_uids, guint64, 0), ==, 0x1234);
}

/* Bad input */

static void
test_bad_specs (Fixture       *fixture,
                gconstpointer  data)
{
  static const struct {
    const char *name;
    const char *fields;
  } bad[] = {
    { "", "a:u32" },
    { "unknown_type", "a:u31" },
    { "unknown_array", "a:u32[]" },
    { "no_colon", "a" },
    { "no_type", "a:" },
    { "empty_field_name", ":u32" },
    { "bad_field_name", "a-b:u32" },
    { "duplicate_field", "a:u32 b:s8 a:s64" },
    { "duplicate_length", "_v_length:u8 v:s32[]" },
    { "kvm_x86_entry", "vcpu_id:u32" },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  StrataTraceWriterConfig config = default_config (1, 0);
  StrataWriterValue value = { .u = 3 };
  int id;

  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);
  id = add_class (writer, "kvm_x86_entry", "vcpu_id:u32");
  g_assert_cmpint (id, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("event class \"%s\": \"%s\"", bad[i].name, bad[i].fields);
      id = strata_trace_writer_add_event_class (writer, bad[i].name, bad[i].fields, &error);
      g_assert_cmpint (id, ==, -1);
      g_assert_nonnull (error);
      g_assert_true (error->domain == G_IO_ERROR);
      /* The message names the event class */
      g_assert_nonnull (strstr (error->message, bad[i].name));
      g_clear_error (&error);
    }

  /* Rejected specs take no id; spaces around fields are fine */
  id = add_class (writer, "kvm_x86_hypercall", "  nr:u64 a0:u64\ta1:u64 a2:u64 a3:u64 ");
  g_assert_cmpint (id, ==, 1);

  strata_trace_writer_append (writer, 0, 10, 0, &value, 1, &error);
  g_assert_no_error (error);

  /* Too late */
  id = strata_trace_writer_add_event_class (writer, "kvm_x86_userspace_exit",
                                            "reason:u32 errno:s32", &error);
  g_assert_cmpint (id, ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);

  /* None of this hurt the trace */
  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);
  batches = read_trace (fixture->trace, &info);
  g_assert_cmpuint (info->n_events, ==, 1);
  g_assert_false (strata_trace_info_has_errors (info));
}

static void
test_bad_append (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  StrataTraceWriterConfig config = default_config (2, 0);
  gint32 too_many[300] = { 0 };
  StrataWriterValue entry_value = { .u = 1 };
  StrataWriterValue wakeup[4] = { { .s = "a" }, { .i = 1 }, { .i = 120 }, { .i = 0 } };
  StrataWriterValue fork[9] = {
    { .s = "bash" }, { .i = 100 }, { .i = 100 }, { .u = 1 }, { .s = "sh" }, { .i = 101 },
    { .a = { too_many, G_N_ELEMENTS (too_many) } }, { .i = 101 }, { .u = 1 },
  };
  int entry, sched_wakeup, sched_fork;

  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);
  entry = add_class (writer, "kvm_x86_entry", "vcpu_id:u32");
  sched_wakeup = add_class (writer, "sched_wakeup", "comm:string tid:s32 prio:s32 target_cpu:s32");
  sched_fork = add_class (writer, "sched_process_fork", SCHED_PROCESS_FORK_FIELDS);

  g_assert_true (strata_trace_writer_append (writer, 1, 5000, entry, &entry_value, 1, &error));
  g_assert_no_error (error);

  /* Out of order on one CPU: the message says where */
  g_assert_false (strata_trace_writer_append (writer, 1, 4999, entry, &entry_value, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "cpu 1"));
  g_assert_nonnull (strstr (error->message, "4999"));
  g_assert_nonnull (strstr (error->message, "5000"));
  g_clear_error (&error);

  /* Other CPUs have their own order; equal timestamps are fine */
  g_assert_true (strata_trace_writer_append (writer, 0, 10, entry, &entry_value, 1, &error));
  g_assert_true (strata_trace_writer_append (writer, 1, 5000, entry, &entry_value, 1, &error));
  g_assert_no_error (error);

  /* Wrong number of values, CPU, event class */
  g_assert_false (strata_trace_writer_append (writer, 0, 20, sched_wakeup, wakeup, 3, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (strata_trace_writer_append (writer, 2, 20, entry, &entry_value, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (strata_trace_writer_append (writer, 0, 20, 3, &entry_value, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (strata_trace_writer_append (writer, 0, 20, -1, &entry_value, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Values that do not fit their field */
  wakeup[2].i = G_MAXINT32 + G_GINT64_CONSTANT (1);
  g_assert_false (strata_trace_writer_append (writer, 0, 20, sched_wakeup, wakeup, 4, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "prio"));
  g_clear_error (&error);
  wakeup[2].i = 120;
  wakeup[0].s = NULL;
  g_assert_false (strata_trace_writer_append (writer, 0, 20, sched_wakeup, wakeup, 4, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  wakeup[0].s = "a";
  entry_value.u = G_MAXUINT32 + G_GUINT64_CONSTANT (1);
  g_assert_false (strata_trace_writer_append (writer, 0, 20, entry, &entry_value, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  entry_value.u = 1;
  /* A uint8 length member: at most 255 elements */
  g_assert_false (strata_trace_writer_append (writer, 0, 20, sched_fork, fork, 9, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "vtids"));
  g_clear_error (&error);

  /* Rejected events leave nothing behind; the writer goes on */
  fork[6].a.len = 255;
  g_assert_true (strata_trace_writer_append (writer, 0, 20, sched_fork, fork, 9, &error));
  g_assert_true (strata_trace_writer_append (writer, 0, 30, sched_wakeup, wakeup, 4, &error));
  g_assert_no_error (error);
  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);

  batches = read_trace (fixture->trace, &info);
  g_assert_cmpuint (info->n_events, ==, 5);
  g_assert_cmpuint (strata_trace_info_get_count (info, "kvm_x86_entry"), ==, 3);
  g_assert_cmpuint (strata_trace_info_get_count (info, "sched_process_fork"), ==, 1);
  g_assert_cmpuint (strata_trace_info_get_count (info, "sched_wakeup"), ==, 1);
  g_assert_false (strata_trace_info_has_errors (info));
}

/* Empty strings. babeltrace2 2.0.4's bt_field_string_clear() leaves the
 * previous value in a recycled string field, so a reader that takes
 * bt_field_string_get_value() of an empty string field sees the value of
 * an earlier event; readers must look at bt_field_string_get_length(). The
 * writer must write them right all the same. */

#define ES_N_EVENTS 200

static void
test_empty_strings (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  StrataTraceWriterConfig config = default_config (2, 7);
  guint n_read = 0;
  int sched_switch;

  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);
  sched_switch = add_class (writer, "sched_switch", SCHED_SWITCH_FIELDS);

  for (guint i = 0; i < ES_N_EVENTS; i++)
    {
      g_autofree char *comm = i % 3 == 0 ? g_strdup ("") : g_strdup_printf ("comm-%u", i);
      StrataWriterValue v[7] = {
        { .s = comm }, { .i = i }, { .i = 20 }, { .i = 0 },
        { .s = i % 5 == 0 ? "" : "next" }, { .i = i + 1 }, { .i = 20 },
      };

      strata_trace_writer_append (writer, i % 2, 100 + i, sched_switch, v, 7, &error);
      g_assert_no_error (error);
    }

  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);

  batches = read_trace (fixture->trace, &info);
  for (guint b = 0; b < batches->len; b++)
    {
      const StrataEventBatch *batch = g_ptr_array_index (batches, b);

      for (guint e = 0; e < batch->n_events; e++, n_read++)
        {
          const StrataEvent *ev = &batch->events[e];
          g_autofree char *comm = n_read % 3 == 0 ? g_strdup ("")
                                                  : g_strdup_printf ("comm-%u", n_read);

          g_assert_cmpint (ev->v[0], ==, n_read);
          g_assert_cmpstr (strata_event_batch_get_string (batch, ev->h[0]), ==, comm);
          g_assert_cmpstr (strata_event_batch_get_string (batch, ev->h[1]), ==,
                           n_read % 5 == 0 ? "" : "next");
        }
    }
  g_assert_cmpuint (n_read, ==, ES_N_EVENTS);
}

/* A large trace, with bounded memory */

#define LARGE_N_EVENTS 1000000
#define LARGE_N_CPUS 4
#define LARGE_PACKET 4096

typedef struct
{
  guint64 n_events;
  guint64 per_cpu[LARGE_N_CPUS];
  gint64  last_ts;
  gboolean ordered;
} LargeCount;

static gboolean
count_cb (StrataEventBatch **batch,
          gpointer           user_data)
{
  LargeCount *count = user_data;

  for (guint i = 0; i < (*batch)->n_events; i++)
    {
      const StrataEvent *ev = &(*batch)->events[i];

      count->n_events++;
      if (ev->cpu < LARGE_N_CPUS)
        count->per_cpu[ev->cpu]++;
      if (ev->ts < count->last_ts)
        count->ordered = FALSE;
      count->last_ts = ev->ts;
    }

  return TRUE;
}

static void
test_large (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceWriter) writer = NULL;
  g_autoptr(StrataTraceReader) reader = NULL;
  StrataTraceInfo *info;
  StrataTraceWriterConfig config = default_config (LARGE_N_CPUS, 0);
  LargeCount count = { 0, { 0 }, G_MININT64, TRUE };
  int sched_switch;
  int kvm_exit;

  writer = strata_trace_writer_new (fixture->trace, &config, &error);
  g_assert_no_error (error);
  sched_switch = add_class (writer, "sched_switch", SCHED_SWITCH_FIELDS);
  kvm_exit = add_class (writer, "kvm_x86_exit", KVM_X86_EXIT_FIELDS);

  for (guint i = 0; i < LARGE_N_EVENTS; i++)
    {
      guint cpu = (i * 7) % LARGE_N_CPUS;
      guint64 ts = 1000 + 3 * (guint64) i;

      if (i % 2 == 0)
        {
          StrataWriterValue v[7] = {
            { .s = "qemu-system-x86" }, { .i = 1000 + i % 50 }, { .i = 120 }, { .i = i % 3 },
            { .s = "swapper/1" }, { .i = 0 }, { .i = 120 },
          };

          strata_trace_writer_append (writer, cpu, ts, sched_switch, v, 7, &error);
        }
      else
        {
          StrataWriterValue v[8] = {
            { .u = 12 }, { .u = 0xffffffff81000000 }, { .u = 1 }, { .u = 0 }, { .u = 0 },
            { .u = 0 }, { .u = 0 }, { .u = cpu },
          };

          strata_trace_writer_append (writer, cpu, ts, kvm_exit, v, 8, &error);
        }
      g_assert_no_error (error);
    }

  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);

  /* At most one packet per CPU waits for the sink */
  g_test_message ("at most %" G_GUINT64_FORMAT " events, %" G_GSIZE_FORMAT " bytes buffered",
                  _strata_trace_writer_get_max_buffered_events (writer),
                  _strata_trace_writer_get_max_buffered_bytes (writer));
  g_assert_cmpuint (_strata_trace_writer_get_max_buffered_events (writer), <=,
                    LARGE_N_CPUS * LARGE_PACKET);
  g_assert_cmpuint (_strata_trace_writer_get_max_buffered_bytes (writer), <=,
                    LARGE_N_CPUS * LARGE_PACKET * 128);

  reader = strata_trace_reader_new (fixture->trace, &error);
  g_assert_no_error (error);
  strata_trace_reader_run (reader, count_cb, &count, NULL, &error);
  g_assert_no_error (error);
  info = strata_trace_reader_get_info (reader);

  g_assert_cmpuint (count.n_events, ==, LARGE_N_EVENTS);
  g_assert_true (count.ordered);
  for (guint c = 0; c < LARGE_N_CPUS; c++)
    g_assert_cmpuint (count.per_cpu[c], ==, LARGE_N_EVENTS / LARGE_N_CPUS);
  g_assert_cmpuint (info->n_events, ==, LARGE_N_EVENTS);
  g_assert_cmpint (info->begin_ns, ==, CLOCK_OFFSET + 1000);
  g_assert_cmpint (info->end_ns, ==, CLOCK_OFFSET + 1000 + 3 * (gint64) (LARGE_N_EVENTS - 1));
  g_assert_false (strata_trace_info_has_errors (info));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/strata/writer/environment", test_environment);
  ADD ("/strata/writer/environment-options", test_environment_options);
  ADD ("/strata/writer/round-trip", test_round_trip);
  ADD ("/strata/writer/discarded", test_discarded);
  ADD ("/strata/writer/abandoned", test_abandoned);
  ADD ("/strata/writer/existing", test_existing);
  ADD ("/strata/writer/failed-close", test_failed_close);
  ADD ("/strata/writer/two-writers", test_two_writers);
  ADD ("/strata/writer/bad-specs", test_bad_specs);
  ADD ("/strata/writer/bad-append", test_bad_append);
  ADD ("/strata/writer/large", test_large);
  ADD ("/strata/writer/empty-strings", test_empty_strings);

#undef ADD

  return g_test_run ();
}
