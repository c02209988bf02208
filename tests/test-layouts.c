/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "strata-test-utils.h"
#include "strata-trace-reader.h"
#include "strata-trace-writer.h"

/*
 * The event variants of EVENTS.md that no shared real trace has (KVM under
 * both names, 2.12+ statedumps, 2.15 softirqs, VM sync, network): traces
 * written with those exact names and fields, read back into records.
 * The variants real traces do have are checked in test-reader.c.
 */

typedef struct
{
  char            *tmp;
  char            *trace;
  StrataTraceInfo *info;
  GArray          *records;   /* StrataEvent */
  GPtrArray       *strings;   /* h[0] of each record, as text */
  GPtrArray       *strings2;  /* h[1] */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->tmp = strata_test_make_tmpdir ();
  f->trace = g_build_filename (f->tmp, "trace", NULL);
  f->records = g_array_new (FALSE, FALSE, sizeof (StrataEvent));
  f->strings = g_ptr_array_new_with_free_func (g_free);
  f->strings2 = g_ptr_array_new_with_free_func (g_free);
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
  g_ptr_array_unref (f->strings2);
}

static StrataTraceWriter *
new_writer (Fixture    *f,
            const char *domain,
            int         minor)
{
  StrataTraceWriterConfig config = {
    .hostname = "layout-host",
    .domain = domain,
    .tracer_major = 2,
    .tracer_minor = minor,
    .tracer_patchlevel = 0,
    .clock_offset_ns = G_GINT64_CONSTANT (1700000000000000000),
    .n_cpus = 2,
  };
  g_autoptr(GError) error = NULL;
  StrataTraceWriter *writer = strata_trace_writer_new (f->trace, &config, &error);

  g_assert_no_error (error);
  return writer;
}

static int
add_class (StrataTraceWriter *writer,
           const char        *name,
           const char        *fields)
{
  g_autoptr(GError) error = NULL;
  int id = strata_trace_writer_add_event_class (writer, name, fields, &error);

  g_assert_no_error (error);
  return id;
}

static void
append (StrataTraceWriter       *writer,
        guint                    cpu,
        guint64                  ts,
        int                      event_class,
        const StrataWriterValue *values,
        guint                    n_values)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (strata_trace_writer_append (writer, cpu, ts, event_class, values, n_values, &error));
  g_assert_no_error (error);
}

static gboolean
collect_cb (StrataEventBatch **batch,
            gpointer           user_data)
{
  Fixture *f = user_data;

  for (guint i = 0; i < (*batch)->n_events; i++)
    {
      const StrataEvent *event = &(*batch)->events[i];

      g_array_append_val (f->records, *event);
      g_ptr_array_add (f->strings, g_strdup (strata_event_batch_get_string (*batch, event->h[0])));
      if (event->kind == STRATA_EVENT_SCHED_PROCESS_FORK)
        g_ptr_array_add (f->strings2, g_strdup (""));
      else
        g_ptr_array_add (f->strings2, g_strdup (strata_event_batch_get_string (*batch, event->h[1])));
    }
  return TRUE;
}

static void
close_and_read (Fixture           *f,
                StrataTraceWriter *writer)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = NULL;

  g_assert_true (strata_trace_writer_close (writer, &error));
  g_assert_no_error (error);
  strata_trace_writer_free (writer);

  reader = strata_trace_reader_new (f->trace, &error);
  g_assert_no_error (error);
  g_assert_true (strata_trace_reader_run (reader, collect_cb, f, NULL, &error));
  g_assert_no_error (error);
  f->info = strata_trace_info_ref (strata_trace_reader_get_info (reader));
}

static const StrataEvent *
record (Fixture *f,
        guint    i)
{
  g_assert_cmpuint (i, <, f->records->len);
  return &g_array_index (f->records, StrataEvent, i);
}

static gboolean
has_problem (const StrataTraceInfo *info,
             const char            *needle)
{
  for (guint i = 0; i < info->problems->len; i++)
    if (strstr (((StrataTraceProblem *) g_ptr_array_index (info->problems, i))->message, needle))
      return TRUE;
  return FALSE;
}

#define I(x) { .i = (x) }
#define U(x) { .u = (x) }
#define S(x) { .s = (x) }

/* KVM as lttng-modules 2.7.2+ names it (kvm_x86_*), with the Linux 5.10+
 * kvm_exit fields, on a host. */
static void
test_kvm_new_names (Fixture       *f,
                    gconstpointer  data)
{
  StrataTraceWriter *w = new_writer (f, NULL, 13);
  int entry = add_class (w, "kvm_x86_entry", "vcpu_id:u32");
  int exit_ = add_class (w, "kvm_x86_exit",
                         "exit_reason:u32 guest_rip:x64 isa:u32 info1:x64 info2:x64 "
                         "intr_info:u32 error_code:u32 vcpu_id:u32");
  int hypercall = add_class (w, "kvm_x86_hypercall", "nr:x64 a0:x64 a1:x64 a2:x64 a3:x64");
  int inject = add_class (w, "kvm_x86_nested_vmexit_inject",
                          "exit_code:u32 exit_info1:x64 exit_info2:x64 exit_int_info:u32 "
                          "exit_int_info_err:u32 isa:u32");
  int mmu = add_class (w, "kvm_mmu_get_page", "gfn:x64 role:u32 root_count:u32 unsync:u8 created:u8");
  int tsc = add_class (w, "kvm_x86_write_tsc_offset",
                       "vcpu_id:u32 previous_tsc_offset:u64 next_tsc_offset:u64");
  int uexit = add_class (w, "kvm_userspace_exit", "reason:u32 errno:s32");
  StrataWriterValue v_entry[] = { U (3) };
  StrataWriterValue v_exit[] = { U (12), U (G_GUINT64_CONSTANT (0xffffffff81000000)), U (1), U (0), U (0),
                                 U (0x80000001), U (0), U (3) };
  StrataWriterValue v_hc[] = { U (5), U (42), U (G_GUINT64_CONSTANT (0xfedcba9876543210)), U (0), U (0) };
  StrataWriterValue v_inject[] = { U (48), U (0x181), U (0x7000), U (0), U (0), U (1) };
  StrataWriterValue v_mmu[] = { U (0x1234), U (0x300), U (1), U (0), U (1) };
  StrataWriterValue v_tsc[] = { U (3), U (100), U (200) };
  StrataWriterValue v_uexit[] = { U (2), I (-4) };

  append (w, 0, 1000, tsc, v_tsc, 3);
  append (w, 0, 2000, entry, v_entry, 1);
  append (w, 0, 3000, exit_, v_exit, 8);
  append (w, 0, 4000, hypercall, v_hc, 5);
  append (w, 1, 4500, inject, v_inject, 6);
  append (w, 1, 5000, mmu, v_mmu, 5);
  append (w, 1, 6000, uexit, v_uexit, 2);
  close_and_read (f, w);

  g_assert_cmpuint (f->records->len, ==, 7);
  g_assert_cmpuint (record (f, 0)->kind, ==, STRATA_EVENT_KVM_WRITE_TSC_OFFSET);
  g_assert_cmpint (record (f, 0)->v[2], ==, 200);
  g_assert_cmpuint (record (f, 1)->kind, ==, STRATA_EVENT_KVM_ENTRY);
  g_assert_cmpint (record (f, 1)->v[0], ==, 3);
  g_assert_cmpint (record (f, 1)->ts, ==, G_GINT64_CONSTANT (1700000000000000000) + 2000);

  g_assert_cmpuint (record (f, 2)->kind, ==, STRATA_EVENT_KVM_EXIT);
  g_assert_cmpint (record (f, 2)->v[0], ==, 12);      /* HLT */
  g_assert_cmpint (record (f, 2)->v[1], ==, 1);       /* VMX */
  g_assert_cmpuint ((guint64) record (f, 2)->v[4], ==, G_GUINT64_CONSTANT (0xffffffff81000000));
  g_assert_cmpint (record (f, 2)->v[5], ==, 3);       /* vcpu_id, Linux 5.10+ */
  g_assert_cmpint (record (f, 2)->v[6], ==, 0x80000001);

  g_assert_cmpuint (record (f, 3)->kind, ==, STRATA_EVENT_KVM_HYPERCALL);
  g_assert_cmpint (record (f, 3)->v[0], ==, 5);
  g_assert_cmpint (record (f, 3)->v[1], ==, 42);
  g_assert_cmpuint ((guint64) record (f, 3)->v[2], ==, G_GUINT64_CONSTANT (0xfedcba9876543210));

  g_assert_cmpuint (record (f, 4)->kind, ==, STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT);
  g_assert_cmpint (record (f, 4)->v[0], ==, 48);
  g_assert_cmpint (record (f, 4)->v[5], ==, 1);
  g_assert_cmpuint (record (f, 4)->cpu, ==, 1);

  g_assert_cmpuint (record (f, 5)->kind, ==, STRATA_EVENT_KVM_MMU_GET_PAGE);
  g_assert_cmpint (record (f, 5)->v[0], ==, 0x1234);
  g_assert_cmpint (record (f, 5)->v[4], ==, 1);

  g_assert_cmpuint (record (f, 6)->kind, ==, STRATA_EVENT_KVM_USERSPACE_EXIT);
  g_assert_cmpint (record (f, 6)->v[1], ==, -4);

  g_assert_true (f->info->has_kvm_entry);
  g_assert_false (f->info->has_vmsync_guest);
  g_assert_cmpstr (g_hash_table_lookup (f->info->layout, "kvm"), ==, "kvm_x86_* (2.7.2+)");
  g_assert_cmpuint (f->info->n_unknown_events, ==, 0);
  g_assert_cmpuint (f->info->problems->len, ==, 0);
}

/* Before 2.7.2, the same events without the kvm_x86_ prefix, and a
 * kvm_exit without the fields of Linux 5.10. */
static void
test_kvm_old_names (Fixture       *f,
                    gconstpointer  data)
{
  StrataTraceWriter *w = new_writer (f, NULL, 6);
  int entry = add_class (w, "kvm_entry", "vcpu_id:u32");
  int exit_ = add_class (w, "kvm_exit", "exit_reason:u32 guest_rip:x64 isa:u32 info1:x64 info2:x64");
  int hypercall = add_class (w, "kvm_hypercall", "nr:x64 a0:x64 a1:x64 a2:x64 a3:x64");
  int inject = add_class (w, "kvm_nested_vmexit_inject",
                          "exit_code:u32 exit_info1:x64 exit_info2:x64 exit_int_info:u32 "
                          "exit_int_info_err:u32 isa:u32");
  StrataWriterValue v_entry[] = { U (1) };
  StrataWriterValue v_exit[] = { U (1), U (0x1000), U (1), U (0), U (0) };
  StrataWriterValue v_hc[] = { U (5), U (7), U (8), U (0), U (0) };
  StrataWriterValue v_inject[] = { U (30), U (0), U (0), U (0), U (0), U (1) };

  append (w, 1, 10, entry, v_entry, 1);
  append (w, 1, 20, exit_, v_exit, 5);
  append (w, 1, 30, hypercall, v_hc, 5);
  append (w, 1, 40, inject, v_inject, 6);
  close_and_read (f, w);

  g_assert_cmpuint (f->records->len, ==, 4);
  g_assert_cmpuint (record (f, 0)->kind, ==, STRATA_EVENT_KVM_ENTRY);
  g_assert_cmpuint (record (f, 1)->kind, ==, STRATA_EVENT_KVM_EXIT);
  g_assert_cmpint (record (f, 1)->v[0], ==, 1);
  g_assert_cmpint (record (f, 1)->v[5], ==, STRATA_VALUE_ABSENT);   /* no vcpu_id */
  g_assert_cmpint (record (f, 1)->v[7], ==, STRATA_VALUE_ABSENT);   /* no error_code */
  g_assert_cmpuint (record (f, 2)->kind, ==, STRATA_EVENT_KVM_HYPERCALL);
  g_assert_cmpuint (record (f, 3)->kind, ==, STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT);
  g_assert_cmpint (record (f, 3)->v[0], ==, 30);
  g_assert_true (f->info->has_kvm_entry);
  g_assert_cmpstr (g_hash_table_lookup (f->info->layout, "kvm"), ==, "kvm_* (before 2.7.2)");
}

/* 2.12+: one process_state per task, its namespaces in process_pid_ns
 * events, one per level. */
static void
test_statedump_2_12 (Fixture       *f,
                     gconstpointer  data)
{
  StrataTraceWriter *w = new_writer (f, NULL, 12);
  int start = add_class (w, "lttng_statedump_start", "");
  int state = add_class (w, "lttng_statedump_process_state",
                         "tid:s32 pid:s32 ppid:s32 name:string type:s32 mode:s32 submode:s32 "
                         "status:s32 cpu:u32 file_table_address:x64");
  int pid_ns = add_class (w, "lttng_statedump_process_pid_ns",
                          "tid:s32 vtid:s32 vpid:s32 vppid:s32 ns_level:s32 ns_inum:u32");
  int end = add_class (w, "lttng_statedump_end", "");
  StrataWriterValue v_state[] = { I (4321), I (4321), I (4000), S ("nginx"), I (0), I (5), I (0),
                                  I (5), U (1), U (0xffff888000000000) };
  StrataWriterValue v_ns0[] = { I (4321), I (4321), I (4321), I (4000), I (0), U (4026531836) };
  StrataWriterValue v_ns1[] = { I (4321), I (7), I (7), I (1), I (1), U (4026532393) };
  guint n_state = 0, n_ns = 0;

  append (w, 0, 100, start, NULL, 0);
  append (w, 0, 110, state, v_state, 10);
  append (w, 0, 120, pid_ns, v_ns0, 6);
  append (w, 0, 130, pid_ns, v_ns1, 6);
  append (w, 0, 140, end, NULL, 0);
  close_and_read (f, w);

  g_assert_cmpuint (f->records->len, ==, 5);
  g_assert_cmpuint (record (f, 0)->kind, ==, STRATA_EVENT_STATEDUMP_START);
  g_assert_cmpuint (record (f, 4)->kind, ==, STRATA_EVENT_STATEDUMP_END);
  for (guint i = 0; i < f->records->len; i++)
    {
      const StrataEvent *r = record (f, i);

      if (r->kind == STRATA_EVENT_STATEDUMP_PROCESS_STATE)
        {
          n_state++;
          g_assert_cmpint (r->v[0], ==, 4321);
          g_assert_cmpint (r->v[2], ==, 4000);
          g_assert_cmpint (r->v[4], ==, 5);      /* mode: unknown */
          g_assert_cmpint (r->v[6], ==, 5);      /* status: wait */
          g_assert_cmpint (r->v[7], ==, 1);      /* cpu */
          g_assert_cmpstr (g_ptr_array_index (f->strings, i), ==, "nginx");
        }
      else if (r->kind == STRATA_EVENT_STATEDUMP_PROCESS_PID_NS)
        {
          n_ns++;
          g_assert_cmpint (r->v[0], ==, 4321);
          if (r->v[4] == 1)
            {
              g_assert_cmpint (r->v[1], ==, 7);
              g_assert_cmpint (r->v[5], ==, 4026532393);
            }
          else
            {
              g_assert_cmpint (r->v[4], ==, 0);
              g_assert_cmpint (r->v[1], ==, 4321);
            }
        }
    }
  g_assert_cmpuint (n_state, ==, 1);
  g_assert_cmpuint (n_ns, ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (f->info->layout, "statedump"), ==,
                   "process_state + process_pid_ns (2.12+)");
}

/* Softirqs: irq_softirq_* since 2.7, with the vector's name since 2.15;
 * softirq_* before. */
static void
test_softirq_names (Fixture       *f,
                    gconstpointer  data)
{
  StrataTraceWriter *w = new_writer (f, NULL, 15);
  int entry = add_class (w, "irq_softirq_entry", "vec:u32 name:string");
  int exit_ = add_class (w, "irq_softirq_exit", "vec:u32 name:string");
  int raise = add_class (w, "irq_softirq_raise", "vec:u32 name:string");
  StrataWriterValue v[] = { U (3), S ("NET_RX") };

  append (w, 0, 10, raise, v, 2);
  append (w, 0, 20, entry, v, 2);
  append (w, 0, 30, exit_, v, 2);
  close_and_read (f, w);

  g_assert_cmpuint (f->records->len, ==, 3);
  g_assert_cmpuint (record (f, 0)->kind, ==, STRATA_EVENT_SOFTIRQ_RAISE);
  g_assert_cmpuint (record (f, 1)->kind, ==, STRATA_EVENT_SOFTIRQ_ENTRY);
  g_assert_cmpuint (record (f, 2)->kind, ==, STRATA_EVENT_SOFTIRQ_EXIT);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (record (f, i)->v[0], ==, 3);
      g_assert_cmpstr (g_ptr_array_index (f->strings, i), ==, "NET_RX");
    }
  g_assert_cmpstr (g_hash_table_lookup (f->info->layout, "softirq"), ==,
                   "irq_softirq_* with name (2.15+)");
}

/* A guest's sync hypercall events give its role and its vm_uid, a full
 * 64-bit value. */
static void
test_vmsync_guest (Fixture       *f,
                   gconstpointer  data)
{
  StrataTraceWriter *w = new_writer (f, NULL, 13);
  int gh = add_class (w, "vmsync_gh_guest", "cnt:u32 vm_uid:x64");
  int hg = add_class (w, "vmsync_hg_guest", "cnt:u32 vm_uid:x64");
  const guint64 uid = G_GUINT64_CONSTANT (0xdeadbeefcafe1234);
  StrataWriterValue v1[] = { U (1), U (uid) };
  StrataWriterValue v2[] = { U (2), U (uid) };

  append (w, 0, 100, gh, v1, 2);
  append (w, 0, 200, hg, v1, 2);
  append (w, 1, 300, gh, v2, 2);
  close_and_read (f, w);

  g_assert_cmpuint (f->records->len, ==, 3);
  g_assert_cmpuint (record (f, 0)->kind, ==, STRATA_EVENT_VMSYNC_GH_GUEST);
  g_assert_cmpuint (record (f, 1)->kind, ==, STRATA_EVENT_VMSYNC_HG_GUEST);
  g_assert_cmpuint ((guint64) record (f, 2)->v[1], ==, uid);
  g_assert_cmpint (record (f, 2)->v[0], ==, 2);
  g_assert_true (f->info->has_vmsync_guest);
  g_assert_false (f->info->has_kvm_entry);
  g_assert_cmpuint (f->info->vm_uids->len, ==, 1);
  g_assert_cmpuint (g_array_index (f->info->vm_uids, guint64, 0), ==, uid);
}

/* Network events: the TCP add-on's (with the ports a newer version adds)
 * and the kernel's device events. */
static void
test_network (Fixture       *f,
              gconstpointer  data)
{
  StrataTraceWriter *w = new_writer (f, NULL, 13);
  int out = add_class (w, "inet_sock_local_out",
                       "sk:x64 seq:u32 ack_seq:u32 check:u16 window:u16 flags:u16 sport:u16 dport:u16");
  int xmit = add_class (w, "net_dev_xmit", "skbaddr:x64 rc:s32 len:u32 name:string");
  int rcv = add_class (w, "net_if_receive_skb", "skbaddr:x64 len:u32 name:string");
  StrataWriterValue v_out[] = { U (0xffff1), U (3000000000u), U (77), U (0xabcd), U (512), U (0x18),
                                U (22), U (50000) };
  StrataWriterValue v_xmit[] = { U (0xffff2), I (0), U (1500), S ("vnet0") };
  StrataWriterValue v_rcv[] = { U (0xffff3), U (60), S ("eth0") };

  append (w, 0, 10, out, v_out, 8);
  append (w, 0, 20, xmit, v_xmit, 4);
  append (w, 1, 30, rcv, v_rcv, 3);
  close_and_read (f, w);

  g_assert_cmpuint (f->records->len, ==, 3);
  g_assert_cmpuint (record (f, 0)->kind, ==, STRATA_EVENT_INET_SOCK_LOCAL_OUT);
  g_assert_cmpint (record (f, 0)->v[0], ==, 3000000000u);   /* seq, unsigned */
  g_assert_cmpint (record (f, 0)->v[1], ==, 77);
  g_assert_cmpint (record (f, 0)->v[2], ==, 0x18);
  g_assert_cmpint (record (f, 0)->v[6], ==, 22);
  g_assert_cmpint (record (f, 0)->v[7], ==, 50000);
  g_assert_cmpuint (record (f, 1)->kind, ==, STRATA_EVENT_NET_DEV_XMIT);
  g_assert_cmpint (record (f, 1)->v[1], ==, 1500);
  g_assert_cmpstr (g_ptr_array_index (f->strings, 1), ==, "vnet0");
  g_assert_cmpuint (record (f, 2)->kind, ==, STRATA_EVENT_NET_IF_RECEIVE_SKB);
  g_assert_cmpstr (g_ptr_array_index (f->strings, 2), ==, "eth0");
}

/* A field of the wrong type, a required field missing, an event Strata
 * does not know: named once each, counted, never misread. */
static void
test_bad_fields (Fixture       *f,
                 gconstpointer  data)
{
  StrataTraceWriter *w = new_writer (f, NULL, 13);
  int sw = add_class (w, "sched_switch",
                      "prev_comm:string prev_tid:s32 prev_prio:string prev_state:s64 "
                      "next_comm:string next_tid:s32 next_prio:s32");
  int wake = add_class (w, "sched_wakeup", "comm:string prio:s32 target_cpu:s32");
  int exit_ = add_class (w, "kvm_x86_exit", "exit_reason:string isa:u32");
  int other = add_class (w, "block_rq_issue", "dev:u32 sector:u64");
  StrataWriterValue v_sw[] = { S ("a"), I (1), S ("high"), I (0), S ("b"), I (2), I (120) };
  StrataWriterValue v_wake[] = { S ("c"), I (120), I (1) };
  StrataWriterValue v_exit[] = { S ("HLT"), U (1) };
  StrataWriterValue v_other[] = { U (8), U (1234) };

  append (w, 0, 10, sw, v_sw, 7);
  append (w, 0, 20, wake, v_wake, 3);
  append (w, 0, 30, exit_, v_exit, 2);
  append (w, 0, 40, other, v_other, 2);
  append (w, 0, 50, sw, v_sw, 7);
  close_and_read (f, w);

  /* sched_switch still decodes, without its prio; the others give no
   * record. */
  g_assert_cmpuint (f->records->len, ==, 2);
  g_assert_cmpuint (record (f, 0)->kind, ==, STRATA_EVENT_SCHED_SWITCH);
  g_assert_cmpint (record (f, 0)->v[0], ==, 1);
  g_assert_cmpint (record (f, 0)->v[1], ==, STRATA_VALUE_ABSENT);
  g_assert_cmpint (record (f, 0)->v[3], ==, 2);

  g_assert_true (has_problem (f->info, "event \"sched_switch\": field \"prev_prio\" is a string, expected an integer"));
  g_assert_true (has_problem (f->info, "event \"sched_wakeup\" has no usable field \"tid\""));
  g_assert_true (has_problem (f->info, "event \"kvm_x86_exit\": field \"exit_reason\" is a string"));
  g_assert_false (has_problem (f->info, "block_rq_issue"));
  g_assert_cmpuint (f->info->n_events, ==, 5);
  g_assert_cmpuint (f->info->n_unknown_events, ==, 3);
  g_assert_cmpuint (strata_trace_info_get_count (f->info, "block_rq_issue"), ==, 1);
  g_assert_cmpuint (strata_trace_info_get_count (f->info, "sched_switch"), ==, 2);
  /* A wrong type is a warning: everything was read. */
  g_assert_true (f->info->complete);
}

/* A user-space trace: the domain says so; its events are counted. */
static void
test_ust_domain (Fixture       *f,
                 gconstpointer  data)
{
  StrataTraceWriter *w = new_writer (f, "ust", 13);
  int submit = add_class (w, "qemu:thread_pool_submit", "pool:x64 req:x64 opaque:x64");
  StrataWriterValue v[] = { U (1), U (2), U (3) };

  append (w, 0, 10, submit, v, 3);
  append (w, 1, 20, submit, v, 3);
  close_and_read (f, w);

  g_assert_cmpstr (f->info->domain, ==, "ust");
  g_assert_cmpuint (f->info->n_events, ==, 2);
  g_assert_cmpuint (strata_trace_info_get_count (f->info, "qemu:thread_pool_submit"), ==, 2);
  g_assert_cmpuint (f->info->cpus->len, ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/strata/layouts/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("kvm-new-names", test_kvm_new_names);
  ADD ("kvm-old-names", test_kvm_old_names);
  ADD ("statedump-2.12", test_statedump_2_12);
  ADD ("softirq-names", test_softirq_names);
  ADD ("vmsync-guest", test_vmsync_guest);
  ADD ("network", test_network);
  ADD ("bad-fields", test_bad_fields);
  ADD ("ust-domain", test_ust_domain);

#undef ADD

  return g_test_run ();
}
