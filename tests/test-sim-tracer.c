/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "strata-sim-tracer.h"
#include "strata-test-utils.h"
#include "strata-trace-reader.h"

/*
 * The simulator's tracer: for each layout, a trace with every event kind,
 * read back by Strata's reader (the right records, values and layout
 * descriptions) and by the babeltrace2 CLI (an independent decoder: every
 * event decodes, with exactly the names and fields, in order, that
 * EVENTS.md gives for that lttng-modules version). The expected field
 * lists below are written from EVENTS.md and the real traces' metadata,
 * not copied from the tracer.
 */

#define HOSTNAME     "sim-host"
#define CLOCK_UUID   "0b6c0ab4-7a3e-4d2c-9f1e-2a41d5c3b7e8"
#define CLOCK_OFFSET G_GINT64_CONSTANT (1700000000000000000)
#define VM_UID       G_GUINT64_CONSTANT (0xdeadbeefcafe1234)
#define CHILD_NS     4026532393u
#define NS_LEVEL1    4026532520u
#define NS_LEVEL2    4026532315u

typedef struct
{
  char            *tmp;
  char            *trace;
  StrataTraceInfo *info;
  GArray          *records;   /* StrataEvent */
  GPtrArray       *strings;   /* h[0] of each record, as text ("" for none) */
  GPtrArray       *arrays;    /* fork vtids as "a,b" ("" otherwise) */
  guint64          n_written;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->tmp = strata_test_make_tmpdir ();
  f->trace = g_build_filename (f->tmp, "machines", "host", "kernel", NULL);
  f->records = g_array_new (FALSE, FALSE, sizeof (StrataEvent));
  f->strings = g_ptr_array_new_with_free_func (g_free);
  f->arrays = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  strata_test_rmtree (f->tmp);
  g_free (f->tmp);
  g_free (f->trace);
  g_clear_pointer (&f->info, strata_trace_info_unref);
  g_array_unref (f->records);
  g_ptr_array_unref (f->strings);
  g_ptr_array_unref (f->arrays);
}

static StrataSimTracer *
new_tracer (Fixture         *f,
            StrataSimLayout  layout,
            const char      *kernel_release)
{
  StrataSimTracerConfig config = {
    .hostname = HOSTNAME,
    .kernel_release = kernel_release,
    .layout = layout,
    .clock_uuid = CLOCK_UUID,
    .clock_offset_ns = CLOCK_OFFSET,
    .n_cpus = 2,
  };
  g_autoptr(GError) error = NULL;
  StrataSimTracer *tracer = strata_sim_tracer_new (f->trace, &config, &error);

  g_assert_no_error (error);
  g_assert_nonnull (tracer);
  g_assert_cmpint (strata_sim_tracer_get_layout (tracer), ==, layout);
  return tracer;
}

/* Writes one of each event the tracer has, with known values, on two
 * CPUs. Every value checked below comes from here. */
static void
write_every_event (Fixture         *f,
                   StrataSimLayout  layout)
{
  g_autoptr(StrataSimTracer) t = NULL;
  g_autoptr(GError) error = NULL;
  const char * const *syscalls = strata_sim_tracer_list_syscalls ();
  const StrataSimNsLevel levels[] = {
    { 2862, 2862, 2502, STRATA_SIM_ROOT_PID_NS_INUM },
    { 16, 16, 3, NS_LEVEL1 },
    { 1, 1, 0, NS_LEVEL2 },
  };
  const gint32 vtids[] = { 1300, 7 };
  const gint64 read_args[] = { 3, 512 };
  const gint64 openat_args[] = { -100, 0x241, 0644 };
  const gint64 mmap_args[] = { 8192, 1, 0x2 };
  guint64 ts = 1000;

  /* 2.6 gets the layout's default kernel release */
  t = new_tracer (f, layout, layout == STRATA_SIM_LAYOUT_2_6 ? NULL : "5.15.0-91-generic");

  strata_sim_tracer_statedump_start (t, 0, ts += 100);
  strata_sim_tracer_statedump_process (t, 0, ts += 100, 2862, 2862, 2502, "chromium-browser-sandbox",
                                       0, 5, 0, 5, 1, levels, G_N_ELEMENTS (levels));
  strata_sim_tracer_statedump_process (t, 0, ts += 100, 1, 1, 0, "systemd", 0, 5, 0, 5, 0, NULL, 0);
  strata_sim_tracer_statedump_end (t, 0, ts += 100);

  strata_sim_tracer_sched_switch (t, 0, ts += 100, "swapper/0", 0, 20, 0, "bash", 1234, 20);
  strata_sim_tracer_sched_switch (t, 1, ts += 100, "kworker/1:0", 51, 20, 1, "swapper/1", 0, 20);
  /* Lost events on CPU 1, between two of its events */
  strata_sim_tracer_lost (t, 1, 5);
  strata_sim_tracer_sched_wakeup (t, 0, ts += 100, "kworker/0:1", 42, 20, 1);
  strata_sim_tracer_sched_waking (t, 0, ts += 100, "kworker/0:1", 42, 20, 1);
  strata_sim_tracer_sched_wakeup_new (t, 0, ts += 100, "bash", 1300, 20, 0);
  strata_sim_tracer_sched_process_fork (t, 0, ts += 100, "bash", 1234, 1234, "bash", 1300, 1300,
                                        vtids, G_N_ELEMENTS (vtids), STRATA_SIM_ROOT_PID_NS_INUM, CHILD_NS);
  strata_sim_tracer_sched_process_exec (t, 0, ts += 100, "/usr/bin/ls", 1300, 1300);
  strata_sim_tracer_sched_migrate_task (t, 0, ts += 100, "ls", 1300, 20, 0, 1);
  strata_sim_tracer_sched_process_exit (t, 1, ts += 100, "ls", 1300, 20);
  strata_sim_tracer_sched_process_free (t, 1, ts += 100, "ls", 1300, 20);

  for (guint i = 0; syscalls[i] != NULL; i++)
    {
      strata_sim_tracer_syscall_entry (t, 0, ts += 100, syscalls[i], NULL, 0, NULL);
      strata_sim_tracer_syscall_exit (t, 0, ts += 100, syscalls[i], 0);
    }
  strata_sim_tracer_syscall_entry (t, 0, ts += 100, "read", read_args, G_N_ELEMENTS (read_args), NULL);
  strata_sim_tracer_syscall_exit (t, 0, ts += 100, "read", 512);
  strata_sim_tracer_syscall_entry (t, 0, ts += 100, "openat", openat_args, G_N_ELEMENTS (openat_args),
                                   "/etc/hosts");
  strata_sim_tracer_syscall_exit (t, 0, ts += 100, "openat", -2);
  strata_sim_tracer_syscall_entry (t, 0, ts += 100, "mmap", mmap_args, G_N_ELEMENTS (mmap_args), NULL);
  strata_sim_tracer_syscall_exit (t, 0, ts += 100, "mmap", G_GINT64_CONSTANT (0x7f3a5c001000));

  strata_sim_tracer_irq_handler_entry (t, 1, ts += 100, 11, "eth0");
  strata_sim_tracer_irq_handler_exit (t, 1, ts += 100, 11, 1);
  strata_sim_tracer_softirq_raise (t, 1, ts += 100, 3);
  strata_sim_tracer_softirq_entry (t, 1, ts += 100, 3);
  strata_sim_tracer_softirq_exit (t, 1, ts += 100, 3);

  strata_sim_tracer_kvm_entry (t, 0, ts += 100, 2);
  strata_sim_tracer_kvm_exit (t, 0, ts += 100, 12, G_GUINT64_CONSTANT (0xffffffff81000000), 1, 0x10, 0x20,
                              0x80000001, 7, 2);
  strata_sim_tracer_kvm_hypercall (t, 0, ts += 100, 5, 1, VM_UID, 0, 0);
  strata_sim_tracer_kvm_nested_vmexit_inject (t, 0, ts += 100, 48, 0x181, 0x7000, 0, 0, 1);
  strata_sim_tracer_kvm_mmu_get_page (t, 0, ts += 100, 0x1234, 0x300, 1, FALSE, TRUE);
  strata_sim_tracer_kvm_userspace_exit (t, 0, ts += 100, 2, -4);

  strata_sim_tracer_vmsync_gh_guest (t, 1, ts += 100, 1, VM_UID);
  strata_sim_tracer_vmsync_gh_host (t, 1, ts += 100, 1, VM_UID);
  strata_sim_tracer_vmsync_hg_host (t, 1, ts += 100, 2, VM_UID);
  strata_sim_tracer_vmsync_hg_guest (t, 1, ts += 100, 2, VM_UID);

  strata_sim_tracer_net_dev_xmit (t, 1, ts += 100, G_GUINT64_CONSTANT (0xffff888012345678), 0, 1514, "vnet0");
  strata_sim_tracer_net_if_receive_skb (t, 1, ts += 100, G_GUINT64_CONSTANT (0xffff888087654321), 60, "eth0");

  g_assert_false (strata_sim_tracer_has_failed (t));
  f->n_written = strata_sim_tracer_get_n_events (t);
  g_assert_true (strata_sim_tracer_close (t, &error));
  g_assert_no_error (error);
}

/* Reading back with Strata's reader */

static gboolean
collect_cb (StrataEventBatch **batch,
            gpointer           user_data)
{
  Fixture *f = user_data;

  for (guint i = 0; i < (*batch)->n_events; i++)
    {
      const StrataEvent *event = &(*batch)->events[i];
      GString *array = g_string_new (NULL);

      g_array_append_val (f->records, *event);
      g_ptr_array_add (f->strings, g_strdup (strata_event_batch_get_string (*batch, event->h[0])));

      if (event->kind == STRATA_EVENT_SCHED_PROCESS_FORK && event->h[1] != 0)
        {
          guint len;
          const gint32 *values = strata_event_batch_get_int_array (*batch, event->h[1], &len);

          for (guint j = 0; j < len; j++)
            g_string_append_printf (array, "%s%d", j > 0 ? "," : "", values[j]);
        }
      g_ptr_array_add (f->arrays, g_string_free (array, FALSE));
    }
  return TRUE;
}

static void
read_back (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = NULL;

  reader = strata_trace_reader_new (f->trace, &error);
  g_assert_no_error (error);
  g_assert_true (strata_trace_reader_run (reader, collect_cb, f, NULL, &error));
  g_assert_no_error (error);
  f->info = strata_trace_info_ref (strata_trace_reader_get_info (reader));
}

static guint
count_kind (Fixture         *f,
            StrataEventKind  kind)
{
  guint n = 0;

  for (guint i = 0; i < f->records->len; i++)
    if (g_array_index (f->records, StrataEvent, i).kind == kind)
      n++;
  return n;
}

/* The @nth record of @kind, and its index in *index */
static const StrataEvent *
find_kind (Fixture         *f,
           StrataEventKind  kind,
           guint            nth,
           guint           *index)
{
  for (guint i = 0; i < f->records->len; i++)
    {
      const StrataEvent *r = &g_array_index (f->records, StrataEvent, i);

      if (r->kind == kind && nth-- == 0)
        {
          if (index != NULL)
            *index = i;
          return r;
        }
    }

  g_error ("no record %u of kind %s", nth, strata_event_kind_to_string (kind));
  return NULL;
}

static const char *
string_of (Fixture         *f,
           StrataEventKind  kind,
           guint            nth)
{
  guint index;

  find_kind (f, kind, nth, &index);
  return g_ptr_array_index (f->strings, index);
}

static const char *
layout_of (Fixture    *f,
           const char *family)
{
  return g_hash_table_lookup (f->info->layout, family);
}

static void
test_reader (Fixture       *f,
             gconstpointer  data)
{
  StrataSimLayout layout = GPOINTER_TO_INT (data);
  gboolean old = layout == STRATA_SIM_LAYOUT_2_6;
  const StrataEvent *r;
  guint n_syscalls = 0;

  while (strata_sim_tracer_list_syscalls ()[n_syscalls] != NULL)
    n_syscalls++;

  write_every_event (f, layout);
  read_back (f);

  /* Identity */
  g_assert_cmpstr (f->info->hostname, ==, HOSTNAME);
  g_assert_cmpstr (f->info->domain, ==, "kernel");
  g_assert_cmpstr (f->info->sysname, ==, "Linux");
  g_assert_cmpstr (f->info->tracer_name, ==, "lttng-modules");
  g_assert_cmpint (f->info->tracer_major, ==, 2);
  g_assert_cmpint (f->info->tracer_minor, ==, layout == STRATA_SIM_LAYOUT_2_6 ? 6 :
                                              layout == STRATA_SIM_LAYOUT_2_10 ? 10 : 13);
  g_assert_cmpint (f->info->tracer_patchlevel, ==, 0);
  g_assert_cmpstr (f->info->kernel_release, ==, old ? "3.13.0-24-generic" : "5.15.0-91-generic");
  g_assert_cmpstr (f->info->clock_uuid, ==, CLOCK_UUID);
  g_assert_cmpint (f->info->clock_offset_ns, ==, CLOCK_OFFSET);
  g_assert_cmpuint (f->info->cpus->len, ==, 2);

  /* Everything read, understood, nothing to complain about */
  g_assert_true (f->info->complete);
  g_assert_cmpuint (f->info->problems->len, ==, 0);
  g_assert_cmpuint (f->info->n_unknown_events, ==, 0);
  g_assert_cmpuint (f->info->n_events, ==, f->n_written);
  g_assert_cmpuint (f->info->lost_events, ==, 5);

  /* The layout the reader detects is the one imitated */
  g_assert_cmpstr (layout_of (f, "syscalls"), ==, "syscall_entry_*, syscall_exit_* (2.6+)");
  g_assert_cmpstr (layout_of (f, "vmsync"), ==, "vmsync_* hypercall events");
  if (layout == STRATA_SIM_LAYOUT_2_6)
    {
      g_assert_cmpstr (layout_of (f, "kvm"), ==, "kvm_* (before 2.7.2)");
      g_assert_cmpstr (layout_of (f, "softirq"), ==, "softirq_* (up to 2.6)");
      g_assert_cmpstr (layout_of (f, "statedump"), ==,
                       "process_state per namespace level, without ns_inum (up to 2.6)");
      g_assert_cmpstr (layout_of (f, "fork"), ==, "with pids, without namespaces (2.3-2.6)");
    }
  else
    {
      g_assert_cmpstr (layout_of (f, "kvm"), ==, "kvm_x86_* (2.7.2+)");
      g_assert_cmpstr (layout_of (f, "softirq"), ==, "irq_softirq_* (2.7+)");
      g_assert_cmpstr (layout_of (f, "fork"), ==, "with vtids and ns_inum (2.7+)");
      if (layout == STRATA_SIM_LAYOUT_2_10)
        g_assert_cmpstr (layout_of (f, "statedump"), ==,
                         "process_state per namespace level, with ns_inum and cpu (2.10-2.11)");
      else
        g_assert_cmpstr (layout_of (f, "statedump"), ==, "process_state + process_pid_ns (2.12+)");
    }

  /* The roles the events hint at */
  g_assert_true (f->info->has_kvm_entry);
  g_assert_true (f->info->has_vmsync_guest);
  g_assert_cmpuint (f->info->vm_uids->len, ==, 1);
  g_assert_cmpuint (g_array_index (f->info->vm_uids, guint64, 0), ==, VM_UID);

  /* Records of each kind: the statedump gives the same records in every
   * layout (one process state per task, one PID_NS per level) */
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_STATEDUMP_START), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_STATEDUMP_END), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_STATEDUMP_PROCESS_STATE), ==, 2);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_STATEDUMP_PROCESS_PID_NS), ==, 4);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SCHED_SWITCH), ==, 2);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SCHED_WAKEUP), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SCHED_WAKING), ==, old ? 0 : 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SCHED_WAKEUP_NEW), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SCHED_PROCESS_FORK), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SCHED_PROCESS_EXEC), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SCHED_MIGRATE_TASK), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SCHED_PROCESS_EXIT), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SCHED_PROCESS_FREE), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SYSCALL_ENTRY), ==, n_syscalls + 3);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SYSCALL_EXIT), ==, n_syscalls + 3);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_IRQ_HANDLER_ENTRY), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_IRQ_HANDLER_EXIT), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SOFTIRQ_RAISE), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SOFTIRQ_ENTRY), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_SOFTIRQ_EXIT), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_KVM_ENTRY), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_KVM_EXIT), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_KVM_HYPERCALL), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_KVM_MMU_GET_PAGE), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_KVM_USERSPACE_EXIT), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_VMSYNC_GH_GUEST), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_VMSYNC_GH_HOST), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_VMSYNC_HG_HOST), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_VMSYNC_HG_GUEST), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_NET_DEV_XMIT), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_NET_IF_RECEIVE_SKB), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_LOST), ==, 1);
  g_assert_cmpuint (count_kind (f, STRATA_EVENT_UNKNOWN), ==, 0);

  /* Statedump: the task's state, its name cut as the kernel cuts it */
  r = find_kind (f, STRATA_EVENT_STATEDUMP_PROCESS_STATE, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 2862);
  g_assert_cmpint (r->v[1], ==, 2862);
  g_assert_cmpint (r->v[2], ==, 2502);
  g_assert_cmpint (r->v[3], ==, 0);
  g_assert_cmpint (r->v[4], ==, 5);
  g_assert_cmpint (r->v[6], ==, 5);
  g_assert_cmpint (r->v[7], ==, old ? STRATA_VALUE_ABSENT : 1);
  g_assert_cmpstr (string_of (f, STRATA_EVENT_STATEDUMP_PROCESS_STATE, 0), ==, "chromium-browse");
  g_assert_cmpstr (string_of (f, STRATA_EVENT_STATEDUMP_PROCESS_STATE, 1), ==, "systemd");

  /* …and its namespaces, the innermost first, as lttng-modules walks them */
  for (guint i = 0; i < 3; i++)
    {
      static const gint64 vtid[] = { 1, 16, 2862 };
      static const gint64 vppid[] = { 0, 3, 2502 };
      static const gint64 inum[] = { NS_LEVEL2, NS_LEVEL1, STRATA_SIM_ROOT_PID_NS_INUM };

      r = find_kind (f, STRATA_EVENT_STATEDUMP_PROCESS_PID_NS, i, NULL);
      g_assert_cmpint (r->v[0], ==, 2862);
      g_assert_cmpint (r->v[1], ==, vtid[i]);
      g_assert_cmpint (r->v[2], ==, vtid[i]);
      g_assert_cmpint (r->v[3], ==, vppid[i]);
      g_assert_cmpint (r->v[4], ==, 2 - (gint64) i);
      g_assert_cmpint (r->v[5], ==, old ? STRATA_VALUE_ABSENT : inum[i]);
    }
  /* A task given without levels is in the root namespace */
  r = find_kind (f, STRATA_EVENT_STATEDUMP_PROCESS_PID_NS, 3, NULL);
  g_assert_cmpint (r->v[0], ==, 1);
  g_assert_cmpint (r->v[1], ==, 1);
  g_assert_cmpint (r->v[4], ==, 0);
  g_assert_cmpint (r->v[5], ==, old ? STRATA_VALUE_ABSENT : STRATA_SIM_ROOT_PID_NS_INUM);

  /* Scheduler */
  r = find_kind (f, STRATA_EVENT_SCHED_SWITCH, 0, NULL);
  g_assert_cmpuint (r->cpu, ==, 0);
  g_assert_cmpint (r->ts, ==, CLOCK_OFFSET + 1500);
  g_assert_cmpint (r->v[0], ==, 0);
  g_assert_cmpint (r->v[3], ==, 1234);
  g_assert_cmpstr (string_of (f, STRATA_EVENT_SCHED_SWITCH, 0), ==, "swapper/0");
  r = find_kind (f, STRATA_EVENT_SCHED_SWITCH, 1, NULL);
  g_assert_cmpuint (r->cpu, ==, 1);
  g_assert_cmpint (r->v[0], ==, 51);
  g_assert_cmpint (r->v[1], ==, 20);
  g_assert_cmpint (r->v[2], ==, 1);
  g_assert_cmpint (r->v[4], ==, 20);

  r = find_kind (f, STRATA_EVENT_SCHED_WAKEUP, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 42);
  g_assert_cmpint (r->v[2], ==, 1);
  g_assert_cmpstr (string_of (f, STRATA_EVENT_SCHED_WAKEUP, 0), ==, "kworker/0:1");
  r = find_kind (f, STRATA_EVENT_SCHED_WAKEUP_NEW, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 1300);
  g_assert_cmpint (r->v[2], ==, 0);

  {
    guint index;

    r = find_kind (f, STRATA_EVENT_SCHED_PROCESS_FORK, 0, &index);
    g_assert_cmpint (r->v[0], ==, 1234);
    g_assert_cmpint (r->v[1], ==, 1234);
    g_assert_cmpint (r->v[2], ==, 1300);
    g_assert_cmpint (r->v[3], ==, 1300);
    g_assert_cmpint (r->v[4], ==, old ? STRATA_VALUE_ABSENT : STRATA_SIM_ROOT_PID_NS_INUM);
    g_assert_cmpint (r->v[5], ==, old ? STRATA_VALUE_ABSENT : CHILD_NS);
    g_assert_cmpstr (g_ptr_array_index (f->strings, index), ==, "bash");
    g_assert_cmpstr (g_ptr_array_index (f->arrays, index), ==, old ? "" : "1300,7");
  }

  r = find_kind (f, STRATA_EVENT_SCHED_PROCESS_EXEC, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 1300);
  g_assert_cmpint (r->v[1], ==, 1300);
  g_assert_cmpstr (string_of (f, STRATA_EVENT_SCHED_PROCESS_EXEC, 0), ==, "/usr/bin/ls");
  r = find_kind (f, STRATA_EVENT_SCHED_MIGRATE_TASK, 0, NULL);
  g_assert_cmpint (r->v[2], ==, 0);
  g_assert_cmpint (r->v[3], ==, 1);
  r = find_kind (f, STRATA_EVENT_SCHED_PROCESS_FREE, 0, NULL);
  g_assert_cmpuint (r->cpu, ==, 1);
  g_assert_cmpint (r->v[0], ==, 1300);
  g_assert_cmpstr (string_of (f, STRATA_EVENT_SCHED_PROCESS_EXIT, 0), ==, "ls");

  /* System calls: named from the event, in the order written */
  for (guint i = 0; i < n_syscalls; i++)
    {
      const char *name = strata_sim_tracer_list_syscalls ()[i];

      g_assert_cmpstr (string_of (f, STRATA_EVENT_SYSCALL_ENTRY, i), ==, name);
      g_assert_cmpstr (string_of (f, STRATA_EVENT_SYSCALL_EXIT, i), ==, name);
      g_assert_cmpint (find_kind (f, STRATA_EVENT_SYSCALL_ENTRY, i, NULL)->v[0], ==, 0);  /* not compat */
    }
  g_assert_cmpstr (string_of (f, STRATA_EVENT_SYSCALL_EXIT, n_syscalls), ==, "read");
  g_assert_cmpint (find_kind (f, STRATA_EVENT_SYSCALL_EXIT, n_syscalls, NULL)->v[0], ==, 512);
  g_assert_cmpint (find_kind (f, STRATA_EVENT_SYSCALL_EXIT, n_syscalls + 1, NULL)->v[0], ==, -2);
  g_assert_cmpint (find_kind (f, STRATA_EVENT_SYSCALL_EXIT, n_syscalls + 2, NULL)->v[0], ==,
                   G_GINT64_CONSTANT (0x7f3a5c001000));

  /* Interrupts */
  r = find_kind (f, STRATA_EVENT_IRQ_HANDLER_ENTRY, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 11);
  g_assert_cmpstr (string_of (f, STRATA_EVENT_IRQ_HANDLER_ENTRY, 0), ==, "eth0");
  g_assert_cmpint (find_kind (f, STRATA_EVENT_IRQ_HANDLER_EXIT, 0, NULL)->v[1], ==, 1);
  g_assert_cmpint (find_kind (f, STRATA_EVENT_SOFTIRQ_RAISE, 0, NULL)->v[0], ==, 3);
  g_assert_cmpint (find_kind (f, STRATA_EVENT_SOFTIRQ_ENTRY, 0, NULL)->v[0], ==, 3);
  g_assert_cmpint (find_kind (f, STRATA_EVENT_SOFTIRQ_EXIT, 0, NULL)->v[0], ==, 3);

  /* KVM */
  g_assert_cmpint (find_kind (f, STRATA_EVENT_KVM_ENTRY, 0, NULL)->v[0], ==, 2);
  r = find_kind (f, STRATA_EVENT_KVM_EXIT, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 12);
  g_assert_cmpint (r->v[1], ==, 1);
  g_assert_cmpint (r->v[2], ==, 0x10);
  g_assert_cmpint (r->v[3], ==, 0x20);
  g_assert_cmpuint ((guint64) r->v[4], ==, G_GUINT64_CONSTANT (0xffffffff81000000));
  /* The Linux 5.10 fields: only in the 2.13 layout */
  if (layout == STRATA_SIM_LAYOUT_2_13)
    {
      g_assert_cmpint (r->v[5], ==, 2);
      g_assert_cmpint (r->v[6], ==, 0x80000001);
      g_assert_cmpint (r->v[7], ==, 7);
    }
  else
    {
      g_assert_cmpint (r->v[5], ==, STRATA_VALUE_ABSENT);
      g_assert_cmpint (r->v[6], ==, STRATA_VALUE_ABSENT);
      g_assert_cmpint (r->v[7], ==, STRATA_VALUE_ABSENT);
    }
  r = find_kind (f, STRATA_EVENT_KVM_HYPERCALL, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 5);
  g_assert_cmpint (r->v[1], ==, 1);
  g_assert_cmpuint ((guint64) r->v[2], ==, VM_UID);
  r = find_kind (f, STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 48);
  g_assert_cmpint (r->v[1], ==, 0x181);
  g_assert_cmpint (r->v[2], ==, 0x7000);
  g_assert_cmpint (r->v[5], ==, 1);
  r = find_kind (f, STRATA_EVENT_KVM_MMU_GET_PAGE, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 0x1234);
  g_assert_cmpint (r->v[1], ==, 0x300);
  g_assert_cmpint (r->v[2], ==, 1);
  g_assert_cmpint (r->v[3], ==, 0);
  g_assert_cmpint (r->v[4], ==, 1);
  r = find_kind (f, STRATA_EVENT_KVM_USERSPACE_EXIT, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 2);
  g_assert_cmpint (r->v[1], ==, -4);

  /* VM sync */
  r = find_kind (f, STRATA_EVENT_VMSYNC_HG_HOST, 0, NULL);
  g_assert_cmpint (r->v[0], ==, 2);
  g_assert_cmpuint ((guint64) r->v[1], ==, VM_UID);
  g_assert_cmpint (find_kind (f, STRATA_EVENT_VMSYNC_GH_GUEST, 0, NULL)->v[0], ==, 1);

  /* Network: the same values whatever the field order */
  r = find_kind (f, STRATA_EVENT_NET_DEV_XMIT, 0, NULL);
  g_assert_cmpuint ((guint64) r->v[0], ==, G_GUINT64_CONSTANT (0xffff888012345678));
  g_assert_cmpint (r->v[1], ==, 1514);
  g_assert_cmpint (r->v[2], ==, 0);
  g_assert_cmpstr (string_of (f, STRATA_EVENT_NET_DEV_XMIT, 0), ==, "vnet0");
  r = find_kind (f, STRATA_EVENT_NET_IF_RECEIVE_SKB, 0, NULL);
  g_assert_cmpint (r->v[1], ==, 60);
  g_assert_cmpstr (string_of (f, STRATA_EVENT_NET_IF_RECEIVE_SKB, 0), ==, "eth0");

  /* The loss, on CPU 1, after its first event */
  r = find_kind (f, STRATA_EVENT_LOST, 0, NULL);
  g_assert_cmpuint (r->cpu, ==, 1);
  g_assert_cmpint (r->v[0], ==, 5);
  g_assert_cmpint (r->v[1], >=, CLOCK_OFFSET + 1600);
}

/* Reading back with babeltrace2 */

/* The names of the top-level fields of one "{ a = 1, b = [ … ], … }"
 * group as babeltrace2 prints it, space-separated; *end after the group */
static char *
group_field_names (const char  *p,
                   const char **end)
{
  GString *names = g_string_new (NULL);
  gboolean expect_name = TRUE;
  int depth = 0;

  g_assert_true (*p == '{');

  for (p++; *p != '\0'; p++)
    {
      if (*p == '"')
        {
          for (p++; *p != '\0' && *p != '"'; p++)
            if (*p == '\\' && p[1] != '\0')
              p++;
          continue;
        }
      if (*p == '[' || *p == '{')
        depth++;
      else if (*p == ']')
        depth--;
      else if (*p == '}')
        {
          if (depth == 0)
            {
              p++;
              break;
            }
          depth--;
        }
      else if (*p == ',' && depth == 0)
        expect_name = TRUE;
      else if (expect_name && depth == 0 && *p != ' ')
        {
          const char *start = p;

          while (*p != '\0' && *p != ' ' && *p != '=')
            p++;
          g_string_append_printf (names, "%s%.*s", names->len > 0 ? " " : "", (int) (p - start), start);
          expect_name = FALSE;
          p--;
        }
    }

  *end = p;
  return g_string_free (names, FALSE);
}

/* Event name → its payload field names in order, as babeltrace2 prints
 * them; every event of a class must print the same fields. */
static GHashTable *
bt2_field_names (const char *trace)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  const char *argv[] = { "babeltrace2", trace, NULL };
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      /* [12:00:00.000001500] (+0.000000100) sim-host sched_switch: { cpu_id = 0 }, { … } */
      const char *p = strstr (lines[i], ") " HOSTNAME " ");
      g_autofree char *name = NULL;
      g_autofree char *fields = NULL;
      const char *colon, *end;
      const char *seen;

      if (lines[i][0] == '\0')
        continue;
      g_assert_nonnull (p);
      p += strlen (") " HOSTNAME " ");
      colon = strstr (p, ": {");
      g_assert_nonnull (colon);
      name = g_strndup (p, colon - p);

      /* The packet context, then the payload if the event has one */
      g_free (group_field_names (colon + 2, &end));
      if (g_str_has_prefix (end, ", {"))
        fields = group_field_names (end + 2, &end);
      else
        fields = g_strdup ("");

      seen = g_hash_table_lookup (names, name);
      if (seen != NULL)
        g_assert_cmpstr (seen, ==, fields);
      else
        g_hash_table_insert (names, g_steal_pointer (&name), g_steal_pointer (&fields));
    }

  return names;
}

/* The event names and payload fields of EVENTS.md, by layout: 2.6, 2.10,
 * 2.13 ("-": no such event in that layout; a length member `_x_length`
 * precedes a sequence `x`, as LTTng writes it) */
static const struct
{
  const char *names[STRATA_SIM_N_LAYOUTS];
  const char *fields[STRATA_SIM_N_LAYOUTS];
} expected_events[] = {
#define ALL(name, fields) { { name, name, name }, { fields, fields, fields } }
  ALL ("sched_switch", "prev_comm prev_tid prev_prio prev_state next_comm next_tid next_prio"),
  { { "sched_wakeup", "sched_wakeup", "sched_wakeup" },
    { "comm tid prio success target_cpu", "comm tid prio target_cpu", "comm tid prio target_cpu" } },
  { { "-", "sched_waking", "sched_waking" },
    { NULL, "comm tid prio target_cpu", "comm tid prio target_cpu" } },
  { { "sched_wakeup_new", "sched_wakeup_new", "sched_wakeup_new" },
    { "comm tid prio success target_cpu", "comm tid prio target_cpu", "comm tid prio target_cpu" } },
  { { "sched_process_fork", "sched_process_fork", "sched_process_fork" },
    { "parent_comm parent_tid parent_pid child_comm child_tid child_pid",
      "parent_comm parent_tid parent_pid parent_ns_inum child_comm child_tid _vtids_length vtids "
      "child_pid child_ns_inum",
      "parent_comm parent_tid parent_pid parent_ns_inum child_comm child_tid _vtids_length vtids "
      "child_pid child_ns_inum" } },
  ALL ("sched_process_exit", "comm tid prio"),
  ALL ("sched_process_free", "comm tid prio"),
  ALL ("sched_process_exec", "filename tid old_tid"),
  ALL ("sched_migrate_task", "comm tid prio orig_cpu dest_cpu"),
  ALL ("lttng_statedump_start", ""),
  ALL ("lttng_statedump_end", ""),
  { { "lttng_statedump_process_state", "lttng_statedump_process_state", "lttng_statedump_process_state" },
    { "tid vtid pid vpid ppid vppid name type mode submode status ns_level",
      "tid vtid pid vpid ppid vppid name type mode submode status ns_level ns_inum cpu",
      "tid pid ppid name type mode submode status cpu file_table_address" } },
  { { "-", "-", "lttng_statedump_process_pid_ns" },
    { NULL, NULL, "tid vtid vpid vppid ns_level ns_inum" } },
  ALL ("irq_handler_entry", "irq name"),
  ALL ("irq_handler_exit", "irq ret"),
  { { "softirq_raise", "irq_softirq_raise", "irq_softirq_raise" }, { "vec", "vec", "vec" } },
  { { "softirq_entry", "irq_softirq_entry", "irq_softirq_entry" }, { "vec", "vec", "vec" } },
  { { "softirq_exit", "irq_softirq_exit", "irq_softirq_exit" }, { "vec", "vec", "vec" } },
  { { "kvm_entry", "kvm_x86_entry", "kvm_x86_entry" }, { "vcpu_id", "vcpu_id", "vcpu_id" } },
  { { "kvm_exit", "kvm_x86_exit", "kvm_x86_exit" },
    { "exit_reason guest_rip isa info1 info2", "exit_reason guest_rip isa info1 info2",
      "exit_reason guest_rip isa info1 info2 intr_info error_code vcpu_id" } },
  { { "kvm_hypercall", "kvm_x86_hypercall", "kvm_x86_hypercall" },
    { "nr a0 a1 a2 a3", "nr a0 a1 a2 a3", "nr a0 a1 a2 a3" } },
  { { "kvm_nested_vmexit_inject", "kvm_x86_nested_vmexit_inject", "kvm_x86_nested_vmexit_inject" },
    { "exit_code exit_info1 exit_info2 exit_int_info exit_int_info_err isa",
      "exit_code exit_info1 exit_info2 exit_int_info exit_int_info_err isa",
      "exit_code exit_info1 exit_info2 exit_int_info exit_int_info_err isa" } },
  /* mmu_valid_gen on kernels 3.11 to 5.0 */
  { { "kvm_mmu_get_page", "kvm_mmu_get_page", "kvm_mmu_get_page" },
    { "mmu_valid_gen gfn role root_count unsync created", "mmu_valid_gen gfn role root_count unsync created",
      "gfn role root_count unsync created" } },
  ALL ("kvm_userspace_exit", "reason errno"),
  ALL ("vmsync_gh_guest", "cnt vm_uid"),
  ALL ("vmsync_gh_host", "cnt vm_uid"),
  ALL ("vmsync_hg_host", "cnt vm_uid"),
  ALL ("vmsync_hg_guest", "cnt vm_uid"),
  /* lttng-modules before 2.7 declared len before rc (the 2.5 traces) */
  { { "net_dev_xmit", "net_dev_xmit", "net_dev_xmit" },
    { "skbaddr len rc name", "skbaddr rc len name", "skbaddr rc len name" } },
  ALL ("net_if_receive_skb", "skbaddr len name"),
#undef ALL
};

/* System call entries as the real x86-64 traces of ../shared/traces have
 * them (simple-kernel, many-threads); exits start with ret. */
static const struct
{
  const char *name;
  const char *entry;
  const char *exit_;
} expected_syscalls[] = {
  { "read", "fd count", "ret buf" },
  { "write", "fd buf count", "ret" },
  { "openat", "dfd filename flags mode", "ret" },
  { "close", "fd", "ret" },
  { "futex", "uaddr op val utime uaddr2 val3", "ret uaddr uaddr2" },
  { "nanosleep", "rqtp", "ret rmtp" },
  { "clock_nanosleep", "which_clock flags rqtp", "ret rmtp" },
  { "epoll_wait", "epfd maxevents timeout", "ret events" },
  { "poll", "ufds nfds timeout_msecs", "ret ufds" },
  { "ioctl", "fd cmd arg", "ret arg" },
  { "sendto", "fd buff len flags addr addr_len", "ret" },
  { "recvfrom", "fd size flags addr_len", "ret ubuf addr addr_len" },
  { "mmap", "addr len prot flags fd offset", "ret" },
  { "munmap", "addr len", "ret" },
  { "brk", "brk", "ret" },
  { "sched_yield", "", "ret" },
  { "getpid", "", "ret" },
  { "clone", "clone_flags newsp parent_tid child_tid", "ret" },
  { "execve", "filename argv envp", "ret" },
  { "exit_group", "error_code", "ret" },
};

static const StrataTestBtEvent *
bt_event (GPtrArray  *events,
          const char *name,
          guint       nth)
{
  for (guint i = 0; i < events->len; i++)
    {
      const StrataTestBtEvent *event = g_ptr_array_index (events, i);

      if (strcmp (event->name, name) == 0 && nth-- == 0)
        return event;
    }

  g_error ("babeltrace2 printed no event %u named %s", nth, name);
  return NULL;
}

static void
test_babeltrace2 (Fixture       *f,
                  gconstpointer  data)
{
  StrataSimLayout layout = GPOINTER_TO_INT (data);
  g_autoptr(GHashTable) fields = NULL;
  g_autoptr(GPtrArray) events = NULL;
  const StrataTestBtEvent *e;
  guint n_expected = 0;

  write_every_event (f, layout);

  /* Every event decodes, on the CPU and at the time written */
  events = strata_test_bt2_events (f->trace, NULL);
  g_assert_cmpuint (events->len, ==, f->n_written);
  e = bt_event (events, "sched_switch", 1);
  g_assert_cmpuint (e->cpu, ==, 1);
  g_assert_cmpint (e->ts, ==, CLOCK_OFFSET + 1600);

  /* Names and fields, in order */
  fields = bt2_field_names (f->trace);
  for (guint i = 0; i < G_N_ELEMENTS (expected_events); i++)
    {
      const char *name = expected_events[i].names[layout];

      if (strcmp (name, "-") == 0)
        continue;
      n_expected++;
      g_test_message ("%s", name);
      g_assert_true (g_hash_table_contains (fields, name));
      g_assert_cmpstr (g_hash_table_lookup (fields, name), ==, expected_events[i].fields[layout]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (expected_syscalls); i++)
    {
      g_autofree char *entry = g_strconcat ("syscall_entry_", expected_syscalls[i].name, NULL);
      g_autofree char *exit_ = g_strconcat ("syscall_exit_", expected_syscalls[i].name, NULL);

      g_test_message ("%s", entry);
      g_assert_true (g_hash_table_contains (fields, entry));
      g_assert_cmpstr (g_hash_table_lookup (fields, entry), ==, expected_syscalls[i].entry);
      g_assert_cmpstr (g_hash_table_lookup (fields, exit_), ==, expected_syscalls[i].exit_);
      n_expected += 2;
    }
  /* and nothing else */
  g_assert_cmpuint (g_hash_table_size (fields), ==, n_expected);
  g_assert_true (strata_sim_tracer_knows_syscall ("futex"));
  g_assert_false (strata_sim_tracer_knows_syscall ("splice"));
  g_assert_cmpuint (g_strv_length ((char **) strata_sim_tracer_list_syscalls ()), ==,
                    G_N_ELEMENTS (expected_syscalls));

  /* Values as babeltrace2 decodes them */
  e = bt_event (events, "sched_switch", 1);
  g_assert_cmpstr (strata_test_bt_field (e, "prev_comm"), ==, "kworker/1:0");
  g_assert_cmpint (strata_test_bt_int (e, "prev_state"), ==, 1);
  g_assert_cmpint (strata_test_bt_int (e, "next_tid"), ==, 0);

  e = bt_event (events, "lttng_statedump_process_state", 0);
  g_assert_cmpstr (strata_test_bt_field (e, "name"), ==, "chromium-browse");
  g_assert_cmpint (strata_test_bt_int (e, "tid"), ==, 2862);
  if (layout == STRATA_SIM_LAYOUT_2_13)
    {
      g_assert_cmpint (strata_test_bt_int (e, "cpu"), ==, 1);
      e = bt_event (events, "lttng_statedump_process_pid_ns", 0);
    }
  /* 2.6 and 2.10: tid 2862 at ns_level 2, 1, 0, in that order (as in
   * the wget-k trace); 2.13: its pid_ns events likewise */
  for (guint i = 0; i < 3; i++)
    {
      const char *name = layout == STRATA_SIM_LAYOUT_2_13 ? "lttng_statedump_process_pid_ns"
                                                          : "lttng_statedump_process_state";

      e = bt_event (events, name, i);
      g_assert_cmpint (strata_test_bt_int (e, "tid"), ==, 2862);
      g_assert_cmpint (strata_test_bt_int (e, "ns_level"), ==, 2 - (gint64) i);
    }
  e = bt_event (events, "lttng_statedump_process_state", 0);
  if (layout == STRATA_SIM_LAYOUT_2_10)
    g_assert_cmpint (strata_test_bt_int (e, "ns_inum"), ==, NS_LEVEL2);

  e = bt_event (events, "sched_process_fork", 0);
  g_assert_cmpint (strata_test_bt_int (e, "child_tid"), ==, 1300);
  if (layout != STRATA_SIM_LAYOUT_2_6)
    {
      g_assert_cmpstr (strata_test_bt_field (e, "vtids"), ==, "1300,7");
      g_assert_cmpint (strata_test_bt_int (e, "_vtids_length"), ==, 2);
      g_assert_cmpint (strata_test_bt_int (e, "child_ns_inum"), ==, CHILD_NS);
    }

  e = bt_event (events, layout == STRATA_SIM_LAYOUT_2_6 ? "sched_wakeup" : "sched_waking", 0);
  g_assert_cmpint (strata_test_bt_int (e, "target_cpu"), ==, 1);
  if (layout == STRATA_SIM_LAYOUT_2_6)
    g_assert_cmpint (strata_test_bt_int (e, "success"), ==, 1);

  e = bt_event (events, layout == STRATA_SIM_LAYOUT_2_6 ? "kvm_exit" : "kvm_x86_exit", 0);
  g_assert_cmpint (strata_test_bt_int (e, "exit_reason"), ==, 12);
  g_assert_cmpuint ((guint64) strata_test_bt_int (e, "guest_rip"), ==,
                    G_GUINT64_CONSTANT (0xffffffff81000000));
  if (layout == STRATA_SIM_LAYOUT_2_13)
    g_assert_cmpint (strata_test_bt_int (e, "error_code"), ==, 7);

  e = bt_event (events, "kvm_mmu_get_page", 0);
  g_assert_cmpint (strata_test_bt_int (e, "gfn"), ==, 0x1234);
  g_assert_cmpint (strata_test_bt_int (e, "created"), ==, 1);

  e = bt_event (events, "net_dev_xmit", 0);
  g_assert_cmpint (strata_test_bt_int (e, "len"), ==, 1514);
  g_assert_cmpint (strata_test_bt_int (e, "rc"), ==, 0);
  g_assert_cmpstr (strata_test_bt_field (e, "name"), ==, "vnet0");

  e = bt_event (events, "vmsync_hg_guest", 0);
  g_assert_cmpuint ((guint64) strata_test_bt_int (e, "vm_uid"), ==, VM_UID);

  /* System call arguments: given ones in their fields, defaults elsewhere */
  e = bt_event (events, "syscall_entry_read", 1);
  g_assert_cmpint (strata_test_bt_int (e, "fd"), ==, 3);
  g_assert_cmpint (strata_test_bt_int (e, "count"), ==, 512);
  e = bt_event (events, "syscall_exit_read", 1);
  g_assert_cmpint (strata_test_bt_int (e, "ret"), ==, 512);
  e = bt_event (events, "syscall_entry_openat", 0);
  g_assert_cmpstr (strata_test_bt_field (e, "filename"), !=, "");
  e = bt_event (events, "syscall_entry_openat", 1);
  g_assert_cmpstr (strata_test_bt_field (e, "filename"), ==, "/etc/hosts");
  g_assert_cmpint (strata_test_bt_int (e, "dfd"), ==, -100);
  g_assert_cmpint (strata_test_bt_int (e, "flags"), ==, 0x241);
  g_assert_cmpint (strata_test_bt_int (e, "mode"), ==, 0644);
  e = bt_event (events, "syscall_exit_openat", 1);
  g_assert_cmpint (strata_test_bt_int (e, "ret"), ==, -2);
  e = bt_event (events, "syscall_entry_mmap", 1);
  g_assert_cmpint (strata_test_bt_int (e, "len"), ==, 8192);
  g_assert_cmpint (strata_test_bt_int (e, "prot"), ==, 1);
  g_assert_cmpint (strata_test_bt_int (e, "flags"), ==, 0x2);
  g_assert_cmpint (strata_test_bt_int (e, "fd"), ==, -1);
  e = bt_event (events, "syscall_exit_mmap", 1);
  g_assert_cmpint (strata_test_bt_int (e, "ret"), ==, G_GINT64_CONSTANT (0x7f3a5c001000));
}

/* The field types, from the metadata: the integer sizes and signedness
 * of the fields whose type changed across versions or is easy to get
 * wrong. */
static char *
metadata_field (const char *metadata,
                const char *event,
                const char *field)
{
  g_autofree char *event_decl = g_strdup_printf ("name = \"%s\";", event);
  g_autofree char *member = g_strdup_printf ("} _%s;", field);
  const char *start = strstr (metadata, event_decl);
  const char *end, *decl, *line;

  g_assert_nonnull (start);
  end = strstr (start, "\n};");
  g_assert_nonnull (end);
  decl = g_strstr_len (start, end - start, member);
  g_assert_nonnull (decl);
  for (line = decl; line > start && line[-1] != '\n'; line--)
    ;
  return g_strndup (line, decl - line);
}

static void
assert_int_type (const char *metadata,
                 const char *event,
                 const char *field,
                 guint       size,
                 gboolean    is_signed)
{
  g_autofree char *decl = metadata_field (metadata, event, field);
  g_autofree char *want_size = g_strdup_printf ("size = %u;", size);

  g_test_message ("%s.%s: %s", event, field, decl);
  g_assert_nonnull (strstr (decl, "integer {"));
  g_assert_nonnull (strstr (decl, want_size));
  /* sink.ctf.fs says "signed = true;" only for signed integers */
  if (is_signed)
    g_assert_nonnull (strstr (decl, "signed = true;"));
  else
    g_assert_null (strstr (decl, "signed = true;"));
}

static void
test_types (Fixture       *f,
            gconstpointer  data)
{
  StrataSimLayout layout = GPOINTER_TO_INT (data);
  g_autofree char *path = NULL;
  g_autofree char *metadata = NULL;
  g_autoptr(GError) error = NULL;
  gboolean old = layout == STRATA_SIM_LAYOUT_2_6;

  write_every_event (f, layout);
  path = g_build_filename (f->trace, "metadata", NULL);
  g_file_get_contents (path, &metadata, NULL, &error);
  g_assert_no_error (error);

  /* long on x86-64 (the 2.5 shared traces, from 32-bit machines, have 32) */
  assert_int_type (metadata, "sched_switch", "prev_state", 64, TRUE);
  assert_int_type (metadata, "sched_switch", "prev_tid", 32, TRUE);
  assert_int_type (metadata, "lttng_statedump_process_state", "tid", 32, TRUE);
  if (!old)
    {
      assert_int_type (metadata, "sched_process_fork", "parent_ns_inum", 32, FALSE);
      assert_int_type (metadata, "sched_process_fork", "_vtids_length", 8, FALSE);
    }
  if (layout == STRATA_SIM_LAYOUT_2_10)
    assert_int_type (metadata, "lttng_statedump_process_state", "cpu", 32, FALSE);
  if (layout == STRATA_SIM_LAYOUT_2_13)
    {
      assert_int_type (metadata, "lttng_statedump_process_pid_ns", "ns_inum", 32, FALSE);
      assert_int_type (metadata, "kvm_x86_exit", "vcpu_id", 32, FALSE);
    }
  assert_int_type (metadata, old ? "kvm_exit" : "kvm_x86_exit", "guest_rip", 64, FALSE);
  assert_int_type (metadata, old ? "kvm_exit" : "kvm_x86_exit", "exit_reason", 32, FALSE);
  assert_int_type (metadata, old ? "softirq_entry" : "irq_softirq_entry", "vec", 32, FALSE);
  assert_int_type (metadata, "kvm_mmu_get_page", "created", 8, FALSE);
  assert_int_type (metadata, "kvm_userspace_exit", "errno", 32, TRUE);
  assert_int_type (metadata, "vmsync_gh_host", "vm_uid", 64, FALSE);
  assert_int_type (metadata, "syscall_entry_read", "fd", 32, FALSE);
  assert_int_type (metadata, "syscall_exit_read", "ret", 64, TRUE);
  assert_int_type (metadata, "syscall_exit_mmap", "ret", 64, old);
}

/* Names longer than a task's comm are cut at 15 bytes, never inside a
 * UTF-8 character. */
static void
test_comm_cut (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(StrataSimTracer) t = new_tracer (f, STRATA_SIM_LAYOUT_2_13, NULL);
  g_autoptr(GError) error = NULL;
  /* 9 two-byte characters: 18 bytes; 15 would cut the 8th */
  const char *accents = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";

  strata_sim_tracer_sched_process_exit (t, 0, 10, accents, 10, 20);
  strata_sim_tracer_sched_process_exit (t, 0, 20, "exactly15-chars", 11, 20);
  strata_sim_tracer_sched_process_exit (t, 0, 30, "sixteen-chars-xx", 12, 20);
  /* not a comm: never cut */
  strata_sim_tracer_sched_process_exec (t, 0, 40, "/usr/lib/a-long-program-path", 12, 12);
  g_assert_true (strata_sim_tracer_close (t, &error));
  g_assert_no_error (error);

  read_back (f);
  g_assert_cmpuint (f->records->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (f->strings, 0), ==,
                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  g_assert_cmpstr (g_ptr_array_index (f->strings, 1), ==, "exactly15-chars");
  g_assert_cmpstr (g_ptr_array_index (f->strings, 2), ==, "sixteen-chars-x");
  g_assert_cmpstr (g_ptr_array_index (f->strings, 3), ==, "/usr/lib/a-long-program-path");
}

/* Errors: the first one is kept, later emits do nothing, close reports
 * it and leaves no trace behind. */

static void
assert_failed_close (Fixture         *f,
                     StrataSimTracer *t,
                     GQuark           domain,
                     int              code,
                     const char      *needle)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (strata_sim_tracer_has_failed (t));
  g_assert_false (strata_sim_tracer_close (t, &error));
  g_assert_error (error, domain, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_nonnull (strstr (error->message, f->trace));
  g_assert_false (g_file_test (f->trace, G_FILE_TEST_EXISTS));
}

static void
test_error_out_of_order (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(StrataSimTracer) t = new_tracer (f, GPOINTER_TO_INT (data), NULL);

  strata_sim_tracer_kvm_entry (t, 0, 2000, 1);
  strata_sim_tracer_kvm_entry (t, 1, 1000, 1);   /* another CPU: fine */
  g_assert_false (strata_sim_tracer_has_failed (t));
  strata_sim_tracer_kvm_exit (t, 0, 1500, 12, 0, 1, 0, 0, 0, 0, 1);
  g_assert_cmpuint (strata_sim_tracer_get_n_events (t), ==, 2);

  /* Later emits are no-ops */
  strata_sim_tracer_kvm_entry (t, 0, 3000, 1);
  strata_sim_tracer_syscall_entry (t, 0, 3100, "read", NULL, 0, NULL);
  strata_sim_tracer_lost (t, 0, 10);
  g_assert_cmpuint (strata_sim_tracer_get_n_events (t), ==, 2);

  assert_failed_close (f, t, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "is before the previous one");
}

static void
test_error_unknown_syscall (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(StrataSimTracer) t = new_tracer (f, STRATA_SIM_LAYOUT_2_10, NULL);

  strata_sim_tracer_syscall_entry (t, 0, 10, "read", NULL, 0, NULL);
  strata_sim_tracer_syscall_exit (t, 0, 20, "splice", 0);
  strata_sim_tracer_syscall_exit (t, 0, 30, "read", 0);
  g_assert_cmpuint (strata_sim_tracer_get_n_events (t), ==, 1);

  assert_failed_close (f, t, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "\"splice\"");
}

static void
test_error_bad_values (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(StrataSimTracer) t = NULL;
  const gint64 negative_fd[] = { -1 };
  const gint64 too_many[] = { 1, 2, 3 };

  /* read's fd is an unsigned int in the kernel's tables */
  t = new_tracer (f, STRATA_SIM_LAYOUT_2_13, NULL);
  strata_sim_tracer_syscall_entry (t, 0, 10, "read", negative_fd, 1, NULL);
  assert_failed_close (f, t, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "\"fd\"");
  g_clear_pointer (&t, strata_sim_tracer_free);

  /* close takes one argument */
  t = new_tracer (f, STRATA_SIM_LAYOUT_2_13, NULL);
  strata_sim_tracer_syscall_entry (t, 0, 10, "close", too_many, 3, NULL);
  assert_failed_close (f, t, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "3 arguments");
  g_clear_pointer (&t, strata_sim_tracer_free);

  /* a CPU the machine does not have */
  t = new_tracer (f, STRATA_SIM_LAYOUT_2_13, NULL);
  strata_sim_tracer_sched_switch (t, 2, 10, "a", 1, 20, 0, "b", 2, 20);
  assert_failed_close (f, t, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "cpu 2");
  g_clear_pointer (&t, strata_sim_tracer_free);

  t = new_tracer (f, STRATA_SIM_LAYOUT_2_13, NULL);
  strata_sim_tracer_lost (t, 7, 1);
  assert_failed_close (f, t, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "cpu 7");
  g_clear_pointer (&t, strata_sim_tracer_free);

  /* a NULL name */
  t = new_tracer (f, STRATA_SIM_LAYOUT_2_13, NULL);
  strata_sim_tracer_irq_handler_entry (t, 0, 10, 1, NULL);
  assert_failed_close (f, t, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "is NULL");
}

static void
test_close_twice (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(StrataSimTracer) t = new_tracer (f, STRATA_SIM_LAYOUT_2_6, NULL);
  g_autoptr(GError) error = NULL;

  strata_sim_tracer_sched_waking (t, 0, 10, "a", 1, 20, 0);   /* none in 2.6 */
  strata_sim_tracer_sched_wakeup (t, 0, 10, "a", 1, 20, 0);
  g_assert_cmpuint (strata_sim_tracer_get_n_events (t), ==, 1);
  g_assert_true (strata_sim_tracer_close (t, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (f->trace, G_FILE_TEST_IS_DIR));

  g_assert_false (strata_sim_tracer_close (t, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  /* the complete trace stays */
  g_assert_true (g_file_test (f->trace, G_FILE_TEST_IS_DIR));
}

static void
test_abandoned (Fixture       *f,
                gconstpointer  data)
{
  StrataSimTracer *t = new_tracer (f, STRATA_SIM_LAYOUT_2_10, NULL);

  strata_sim_tracer_kvm_entry (t, 0, 10, 0);
  strata_sim_tracer_free (t);
  g_assert_false (g_file_test (f->trace, G_FILE_TEST_EXISTS));
}

static void
test_layout_names (void)
{
  static const char * const names[] = { "2.6", "2.10", "2.13" };
  StrataSimLayout layout;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_assert_true (strata_sim_layout_from_string (names[i], &layout));
      g_assert_cmpint (layout, ==, i);
      g_assert_cmpstr (strata_sim_layout_to_string (layout), ==, names[i]);
    }

  layout = STRATA_SIM_LAYOUT_2_10;
  g_assert_false (strata_sim_layout_from_string ("2.7", &layout));
  g_assert_false (strata_sim_layout_from_string ("2.1", &layout));
  g_assert_false (strata_sim_layout_from_string ("", &layout));
  g_assert_false (strata_sim_layout_from_string (NULL, &layout));
  g_assert_cmpint (layout, ==, STRATA_SIM_LAYOUT_2_10);
}

int
main (int   argc,
      char *argv[])
{
  static const char * const layouts[] = { "2.6", "2.10", "2.13" };

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/strata/sim-tracer/layout-names", test_layout_names);

#define ADD(path, func, data) \
  g_test_add ("/strata/sim-tracer/" path, Fixture, data, fixture_setup, func, fixture_teardown)

  for (guint i = 0; i < G_N_ELEMENTS (layouts); i++)
    {
      static const struct {
        const char         *name;
        void              (*func) (Fixture *, gconstpointer);
      } per_layout[] = {
        { "reader", test_reader },
        { "babeltrace2", test_babeltrace2 },
        { "types", test_types },
        { "error-out-of-order", test_error_out_of_order },
      };

      for (guint j = 0; j < G_N_ELEMENTS (per_layout); j++)
        {
          g_autofree char *path = g_strdup_printf ("/strata/sim-tracer/%s/%s", layouts[i], per_layout[j].name);

          g_test_add (path, Fixture, GINT_TO_POINTER (i), fixture_setup, per_layout[j].func, fixture_teardown);
        }
    }

  ADD ("comm-cut", test_comm_cut, NULL);
  ADD ("error-unknown-syscall", test_error_unknown_syscall, NULL);
  ADD ("error-bad-values", test_error_bad_values, NULL);
  ADD ("close-twice", test_close_twice, NULL);
  ADD ("abandoned", test_abandoned, NULL);

#undef ADD

  return g_test_run ();
}
