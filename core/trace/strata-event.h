/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * StrataEventKind:
 *
 * What a compact event record is. Every LTTng variant of an event (old and
 * new names, older and newer payloads, see EVENTS.md) maps onto one kind
 * whose values are always in the same slots, listed after each kind as
 * `v[0], v[1], … ; h[0], h[1]`. A value the trace's variant does not carry
 * is %STRATA_VALUE_ABSENT; a missing string reads as "".
 */
typedef enum
{
  STRATA_EVENT_UNKNOWN = 0,

  /* prev_tid, prev_prio, prev_state, next_tid, next_prio ; prev_comm, next_comm */
  STRATA_EVENT_SCHED_SWITCH,
  /* tid, prio, target_cpu ; comm */
  STRATA_EVENT_SCHED_WAKEUP,
  STRATA_EVENT_SCHED_WAKEUP_NEW,
  STRATA_EVENT_SCHED_WAKING,
  /* parent_tid, parent_pid, child_tid, child_pid, parent_ns_inum, child_ns_inum ;
   * child_comm, vtids (int array: the child's tid at each PID-namespace level) */
  STRATA_EVENT_SCHED_PROCESS_FORK,
  /* tid, prio ; comm */
  STRATA_EVENT_SCHED_PROCESS_EXIT,
  STRATA_EVENT_SCHED_PROCESS_FREE,
  /* tid, old_tid ; filename */
  STRATA_EVENT_SCHED_PROCESS_EXEC,
  /* tid, prio, orig_cpu, dest_cpu ; comm */
  STRATA_EVENT_SCHED_MIGRATE_TASK,

  /* (no values) */
  STRATA_EVENT_STATEDUMP_START,
  STRATA_EVENT_STATEDUMP_END,
  /* tid, pid, ppid, type, mode, submode, status, cpu ; name
   * (2.5–2.11 traces: emitted once per task, for its root-namespace entry) */
  STRATA_EVENT_STATEDUMP_PROCESS_STATE,
  /* tid, vtid, vpid, vppid, ns_level, ns_inum
   * (2.12+: lttng_statedump_process_pid_ns; older traces: one per entry of
   * lttng_statedump_process_state, split out of it) */
  STRATA_EVENT_STATEDUMP_PROCESS_PID_NS,

  /* irq ; name */
  STRATA_EVENT_IRQ_HANDLER_ENTRY,
  /* irq, ret */
  STRATA_EVENT_IRQ_HANDLER_EXIT,
  /* vec ; name (2.15+) */
  STRATA_EVENT_SOFTIRQ_ENTRY,
  STRATA_EVENT_SOFTIRQ_EXIT,
  STRATA_EVENT_SOFTIRQ_RAISE,

  /* compat (1 for a 32-bit task), id (syscall_entry_unknown only) ; name */
  STRATA_EVENT_SYSCALL_ENTRY,
  /* ret, compat ; name ("" for the single exit_syscall of 2.5 and older) */
  STRATA_EVENT_SYSCALL_EXIT,

  /* vcpu_id */
  STRATA_EVENT_KVM_ENTRY,
  /* exit_reason, isa, info1, info2, guest_rip, vcpu_id, intr_info, error_code */
  STRATA_EVENT_KVM_EXIT,
  /* nr, a0, a1, a2, a3 */
  STRATA_EVENT_KVM_HYPERCALL,
  /* exit_code, exit_info1, exit_info2, exit_int_info, exit_int_info_err, isa */
  STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT,
  /* gfn, role, root_count, unsync, created */
  STRATA_EVENT_KVM_MMU_GET_PAGE,
  /* vcpu_id, previous_tsc_offset, next_tsc_offset */
  STRATA_EVENT_KVM_WRITE_TSC_OFFSET,
  /* reason, errno */
  STRATA_EVENT_KVM_USERSPACE_EXIT,

  /* cnt, vm_uid */
  STRATA_EVENT_VMSYNC_GH_GUEST,
  STRATA_EVENT_VMSYNC_GH_HOST,
  STRATA_EVENT_VMSYNC_HG_HOST,
  STRATA_EVENT_VMSYNC_HG_GUEST,

  /* seq, ack_seq, flags, check, window, sk, sport, dport */
  STRATA_EVENT_INET_SOCK_LOCAL_OUT,
  STRATA_EVENT_INET_SOCK_LOCAL_IN,
  /* skbaddr, len, rc ; name */
  STRATA_EVENT_NET_DEV_XMIT,
  /* skbaddr, len ; name */
  STRATA_EVENT_NET_IF_RECEIVE_SKB,

  /* Not an event of the trace: events the tracer discarded on this CPU.
   * count, begin, end (the range where they were lost; ts is clamped so that
   * records stay in time order) */
  STRATA_EVENT_LOST,

  STRATA_N_EVENT_KINDS
} StrataEventKind;

#define STRATA_EVENT_N_VALUES  8
#define STRATA_EVENT_N_REFS    2
#define STRATA_VALUE_ABSENT    G_MININT64

/**
 * StrataEvent:
 * @ts: time in ns from the trace's clock origin (clock offset included),
 *   in the trace's own clock
 * @kind: a #StrataEventKind
 * @cpu: the CPU of the stream (`cpu_id`), or a vCPU for a guest trace
 * @h: references into the batch's heap (strings, int arrays), 0 for none
 * @v: integer values, see #StrataEventKind; unsigned 64-bit values are
 *   stored as their bits
 *
 * A compact, fixed-size event record. Records live in arrays in a
 * #StrataEventBatch; nothing in them points outside the batch.
 */
typedef struct
{
  gint64  ts;
  guint16 kind;
  guint16 cpu;
  guint32 reserved;
  guint32 h[STRATA_EVENT_N_REFS];
  gint64  v[STRATA_EVENT_N_VALUES];
} StrataEvent;

/**
 * StrataEventBatch:
 * @events: (array length=n_events): records in non-decreasing @ts order
 * @n_events: number of records
 *
 * A batch of records and the heap that holds their strings and arrays. A
 * batch is owned by one thread at a time and is immutable once handed over.
 */
typedef struct
{
  StrataEvent *events;
  guint        n_events;
  guint        capacity;
  /*< private >*/
  guint8      *heap;
  gsize        heap_len;
  gsize        heap_capacity;
} StrataEventBatch;

const char       *strata_event_kind_to_string       (StrataEventKind          kind);

StrataEventBatch *strata_event_batch_new            (guint                    capacity);
void              strata_event_batch_free           (StrataEventBatch        *batch);
void              strata_event_batch_clear          (StrataEventBatch        *batch);
StrataEvent      *strata_event_batch_append         (StrataEventBatch        *batch);
guint32           strata_event_batch_add_string     (StrataEventBatch        *batch,
                                                     const char              *str);
guint32           strata_event_batch_add_int_array  (StrataEventBatch        *batch,
                                                     const gint32            *values,
                                                     guint                    len);
const char       *strata_event_batch_get_string     (const StrataEventBatch  *batch,
                                                     guint32                  ref);
const gint32     *strata_event_batch_get_int_array  (const StrataEventBatch  *batch,
                                                     guint32                  ref,
                                                     guint                   *len);

static inline gboolean
strata_event_batch_is_full (const StrataEventBatch *batch)
{
  return batch->n_events >= batch->capacity;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataEventBatch, strata_event_batch_free)

G_END_DECLS
