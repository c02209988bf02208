/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * StrataSimLayout:
 * @STRATA_SIM_LAYOUT_2_6: lttng-modules 2.6 on a Linux 3.x kernel: bare
 *   `kvm_*` names, `softirq_*`, `sched_wakeup` with `success`, no
 *   `sched_waking`, `sched_process_fork` without namespaces, one
 *   `lttng_statedump_process_state` per PID-namespace level without
 *   `ns_inum`
 * @STRATA_SIM_LAYOUT_2_10: lttng-modules 2.10 on a Linux 4.x kernel:
 *   `kvm_x86_*`, `irq_softirq_*`, `sched_waking`, `sched_process_fork`
 *   with `vtids` and `ns_inum`, one `lttng_statedump_process_state` per
 *   level with `ns_inum` and `cpu`
 * @STRATA_SIM_LAYOUT_2_13: lttng-modules 2.13 on a Linux >= 5.10 kernel: as
 *   2.10, but one `lttng_statedump_process_state` per task followed by
 *   one `lttng_statedump_process_pid_ns` per level, and `kvm_x86_exit`
 *   with `intr_info`, `error_code` and `vcpu_id`
 * @STRATA_SIM_N_LAYOUTS: the number of layouts
 *
 * The lttng-modules version whose event names, fields, field order and
 * types a #StrataSimTracer imitates (see EVENTS.md).
 */
typedef enum
{
  STRATA_SIM_LAYOUT_2_6,
  STRATA_SIM_LAYOUT_2_10,
  STRATA_SIM_LAYOUT_2_13,
  STRATA_SIM_N_LAYOUTS,
} StrataSimLayout;

/* The inode number of the root PID namespace on most kernels */
#define STRATA_SIM_ROOT_PID_NS_INUM ((guint32) 4026531836u)

gboolean     strata_sim_layout_from_string (const char      *str,
                                            StrataSimLayout *layout);
const char  *strata_sim_layout_to_string   (StrataSimLayout  layout);

/**
 * StrataSimTracerConfig:
 * @hostname: the `hostname` environment entry
 * @kernel_release: the `kernel_release` entry, e.g. "5.15.0-91-generic"
 *   (%NULL: a release typical of the layout's kernels)
 * @layout: the lttng-modules version imitated
 * @clock_uuid: (nullable): the `monotonic` clock's uuid, the machine's boot
 *   id (%NULL: a random one)
 * @clock_offset_ns: the CTF clock offset: the machine's boot time, in ns
 *   from the Unix epoch
 * @n_cpus: the machine's number of CPUs (vCPUs for a guest)
 *
 * The machine a #StrataSimTracer traces.
 */
typedef struct
{
  const char     *hostname;
  const char     *kernel_release;
  StrataSimLayout layout;
  const char     *clock_uuid;
  gint64          clock_offset_ns;
  guint           n_cpus;
} StrataSimTracerConfig;

/**
 * StrataSimNsLevel:
 * @vtid: the task's tid in this PID namespace
 * @vpid: its pid (thread group id) in this namespace
 * @vppid: its parent's pid in this namespace (0 when the parent is outside)
 * @ns_inum: the namespace's inode number
 *
 * A task as one of the PID namespaces it belongs to sees it.
 */
typedef struct
{
  gint32  vtid;
  gint32  vpid;
  gint32  vppid;
  guint32 ns_inum;
} StrataSimNsLevel;

/**
 * StrataSimTracer:
 *
 * Writes the LTTng-like kernel trace of one simulated machine, in the
 * event layout of one lttng-modules version, through #StrataTraceWriter.
 * Emit functions return nothing: the first failure is kept, later emits
 * do nothing, and strata_sim_tracer_close() reports it. A tracer is used
 * on the thread that created it.
 */
typedef struct _StrataSimTracer StrataSimTracer;

StrataSimTracer    *strata_sim_tracer_new            (const char                  *dir,
                                                      const StrataSimTracerConfig *config,
                                                      GError                     **error);
gboolean            strata_sim_tracer_close          (StrataSimTracer             *self,
                                                      GError                     **error);
void                strata_sim_tracer_free           (StrataSimTracer             *self);
StrataSimLayout     strata_sim_tracer_get_layout     (StrataSimTracer             *self);
guint64             strata_sim_tracer_get_n_events   (StrataSimTracer             *self);
gboolean            strata_sim_tracer_has_failed     (StrataSimTracer             *self);

const char * const *strata_sim_tracer_list_syscalls  (void);
gboolean            strata_sim_tracer_knows_syscall  (const char                  *name);

/* Scheduler */
void strata_sim_tracer_sched_switch          (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *prev_comm,
                                              gint32            prev_tid,
                                              gint32            prev_prio,
                                              gint64            prev_state,
                                              const char       *next_comm,
                                              gint32            next_tid,
                                              gint32            next_prio);
void strata_sim_tracer_sched_wakeup          (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *comm,
                                              gint32            tid,
                                              gint32            prio,
                                              gint32            target_cpu);
void strata_sim_tracer_sched_waking          (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *comm,
                                              gint32            tid,
                                              gint32            prio,
                                              gint32            target_cpu);
void strata_sim_tracer_sched_wakeup_new      (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *comm,
                                              gint32            tid,
                                              gint32            prio,
                                              gint32            target_cpu);
void strata_sim_tracer_sched_process_fork    (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *parent_comm,
                                              gint32            parent_tid,
                                              gint32            parent_pid,
                                              const char       *child_comm,
                                              gint32            child_tid,
                                              gint32            child_pid,
                                              const gint32     *vtids,
                                              guint             n_vtids,
                                              guint32           parent_ns_inum,
                                              guint32           child_ns_inum);
void strata_sim_tracer_sched_process_exit    (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *comm,
                                              gint32            tid,
                                              gint32            prio);
void strata_sim_tracer_sched_process_free    (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *comm,
                                              gint32            tid,
                                              gint32            prio);
void strata_sim_tracer_sched_process_exec    (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *filename,
                                              gint32            tid,
                                              gint32            old_tid);
void strata_sim_tracer_sched_migrate_task    (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *comm,
                                              gint32            tid,
                                              gint32            prio,
                                              gint32            orig_cpu,
                                              gint32            dest_cpu);

/* Statedump */
void strata_sim_tracer_statedump_start       (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts);
void strata_sim_tracer_statedump_end         (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts);
void strata_sim_tracer_statedump_process     (StrataSimTracer        *self,
                                              guint                   cpu,
                                              guint64                 ts,
                                              gint32                  tid,
                                              gint32                  pid,
                                              gint32                  ppid,
                                              const char             *name,
                                              gint32                  type,
                                              gint32                  mode,
                                              gint32                  submode,
                                              gint32                  status,
                                              guint                   task_cpu,
                                              const StrataSimNsLevel *levels,
                                              guint                   n_levels);

/* System calls */
void strata_sim_tracer_syscall_entry         (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *name,
                                              const gint64     *args,
                                              guint             n_args,
                                              const char       *path);
void strata_sim_tracer_syscall_exit          (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              const char       *name,
                                              gint64            ret);

/* Interrupts */
void strata_sim_tracer_irq_handler_entry     (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              gint32            irq,
                                              const char       *name);
void strata_sim_tracer_irq_handler_exit      (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              gint32            irq,
                                              gint32            ret);
void strata_sim_tracer_softirq_raise         (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           vec);
void strata_sim_tracer_softirq_entry         (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           vec);
void strata_sim_tracer_softirq_exit          (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           vec);

/* KVM */
void strata_sim_tracer_kvm_entry             (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           vcpu_id);
void strata_sim_tracer_kvm_exit              (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           exit_reason,
                                              guint64           guest_rip,
                                              guint32           isa,
                                              guint64           info1,
                                              guint64           info2,
                                              guint32           intr_info,
                                              guint32           error_code,
                                              guint32           vcpu_id);
void strata_sim_tracer_kvm_hypercall         (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint64           nr,
                                              guint64           a0,
                                              guint64           a1,
                                              guint64           a2,
                                              guint64           a3);
void strata_sim_tracer_kvm_nested_vmexit_inject (StrataSimTracer *self,
                                                 guint            cpu,
                                                 guint64          ts,
                                                 guint32          exit_code,
                                                 guint64          exit_info1,
                                                 guint64          exit_info2,
                                                 guint32          exit_int_info,
                                                 guint32          exit_int_info_err,
                                                 guint32          isa);
void strata_sim_tracer_kvm_mmu_get_page      (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint64           gfn,
                                              guint32           role,
                                              guint32           root_count,
                                              gboolean          unsync,
                                              gboolean          created);
void strata_sim_tracer_kvm_userspace_exit    (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           reason,
                                              gint32            errnum);

/* VM synchronization (add-on module) */
void strata_sim_tracer_vmsync_gh_guest       (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           cnt,
                                              guint64           vm_uid);
void strata_sim_tracer_vmsync_gh_host        (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           cnt,
                                              guint64           vm_uid);
void strata_sim_tracer_vmsync_hg_host        (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           cnt,
                                              guint64           vm_uid);
void strata_sim_tracer_vmsync_hg_guest       (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint32           cnt,
                                              guint64           vm_uid);

/* Network */
void strata_sim_tracer_net_dev_xmit          (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint64           skbaddr,
                                              gint32            rc,
                                              guint32           len,
                                              const char       *name);
void strata_sim_tracer_net_if_receive_skb    (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           ts,
                                              guint64           skbaddr,
                                              guint32           len,
                                              const char       *name);

/* Events the tracer lost */
void strata_sim_tracer_lost                  (StrataSimTracer  *self,
                                              guint             cpu,
                                              guint64           count);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataSimTracer, strata_sim_tracer_free)

G_END_DECLS
