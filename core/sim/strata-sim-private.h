/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <stdio.h>

#include "strata-sim.h"
#include "strata-sim-tracer.h"

G_BEGIN_DECLS

/*
 * The simulation's state. All times are host-clock nanoseconds (absolute,
 * the L0 trace's clock); a machine's clock is applied only when one of its
 * events is written (sim_local_ts()).
 *
 * On each physical CPU, at every instant, exactly one "leaf" executes: a
 * host task, or, when that task is a vCPU thread in guest mode, the current
 * task of the guest CPU it runs, and so on down to L2. Only the leaf makes
 * progress, so a guest CPU progresses only inside its entry/exit windows.
 * Every event is written at the current global time, so each stream is in
 * time order by construction, and the ground truth is the leaf over time.
 */

#define SIM_MAX_NS_LEVELS 4
#define SIM_TICK_NS       G_GINT64_CONSTANT (4000000)   /* HZ = 250 */
#define SIM_SLICE_NS      G_GINT64_CONSTANT (3000000)
#define IRQ_TIMER         (-1)
#define IRQ_SOFTIRQ       (-2)

typedef struct _SimMachine SimMachine;
typedef struct _SimCpu     SimCpu;
typedef struct _SimTask    SimTask;
typedef struct _Sim        Sim;

typedef enum
{
  TASK_NORMAL,
  TASK_IDLE,       /* swapper/N */
  TASK_VCPU,       /* a hypervisor thread that runs a guest vCPU */
  TASK_VHOST,      /* vhost-<qemu pid>: the VM's network backend */
  TASK_KTHREAD,    /* other kernel threads (kworker, lttng statedump) */
} TaskKind;

typedef enum
{
  STATE_RUNNING,
  STATE_RUNNABLE,
  STATE_BLOCKED,
  STATE_DEAD,
} TaskState;

/* What the task does while it runs; a phase ends after `remaining` ns of
 * execution. */
typedef enum
{
  PHASE_USER,
  PHASE_SYSCALL,       /* in the kernel for a system call */
  PHASE_IDLE,          /* the idle task: never ends by itself */
  PHASE_GUEST,         /* vCPU thread in guest mode: never ends by itself */
  PHASE_VMM,           /* vCPU thread handling an exit of its guest */
  PHASE_STATEDUMP,     /* the tracer's statedump, one task per step */
} Phase;

/* What a vCPU thread does when its VMM phase ends. */
typedef enum
{
  VMM_HANDLE_EXIT,     /* handled an exit of its own guest */
  VMM_NESTED_EXIT,     /* L0: an L2 exit arrived; L0 or L1 handles it */
  VMM_NESTED_ENTRY,    /* L0: L1 resumed its L2 (VMRESUME) */
} VmmWork;

/* Where a task is in its workload (see workload_step ()). */
typedef enum
{
  STEP_USER,           /* computing in user space */
  STEP_SYSCALL_PRE,    /* in a system call, before it sleeps or does I/O */
  STEP_SYSCALL_WAIT,   /* after a guest I/O exit, about to wait for the reply */
  STEP_SYSCALL_POST,   /* in a system call, after it */
  STEP_SYNC_PRE,       /* vmsync: before its hypercall */
  STEP_SYNC_POST,      /* vmsync: after it */
  STEP_VHOST_WORK,     /* vhost: a packet */
} Step;

typedef enum
{
  VS_RUNNING,
  VS_VMM,
  VS_PREEMPTED,
  VS_IDLE,
} VcpuState;

struct _SimTask
{
  SimMachine *m;
  TaskKind    kind;
  TaskState   state;
  int         tid;
  int         pid;
  int         ppid;
  char        comm[16];
  int         prio;
  SimCpu     *cpu;            /* where it runs, or last ran */

  /* PID namespaces from the root: level 0 is the machine's own */
  guint       ns_levels;
  gint32      vtids[SIM_MAX_NS_LEVELS];
  gint32      vpids[SIM_MAX_NS_LEVELS];
  gint32      vppids[SIM_MAX_NS_LEVELS];
  guint32     ns_inums[SIM_MAX_NS_LEVELS];

  /* The current phase */
  Phase       phase;
  Step        step;
  gint64      remaining;
  const char *syscall;        /* PHASE_SYSCALL */
  gboolean    syscall_blocks; /* sleeps in the middle of it */
  gboolean    syscall_io;     /* a guest I/O: exits to the hypervisor */
  gboolean    syscall_net;    /* waits for a network reply */
  gboolean    syscall_fork;   /* clone(): a child process */
  gint64      sleep_ns;
  gint64      slice_start;    /* when it was last switched in */
  guint       statedump_next; /* PHASE_STATEDUMP: next task index */

  /* Workload: mean user burst, and the odds of each kind of call */
  gboolean    dormant;        /* never runs during the trace (init, …) */
  int         container;      /* index in m->containers, -1: none */
  double      p_fork;         /* forks a short-lived child */
  int         lifetime;       /* >0: a child, exits after this many calls */
  gint64      mean_burst_ns;
  double      p_sleep;
  double      p_io;
  double      p_net;
  gint64      mean_sleep_ns;

  /* TASK_VCPU */
  SimCpu     *vcpu;           /* the guest vCPU it runs */
  VmmWork     vmm_work;
  int         vmm_reason;     /* the exit reason being handled */
  gboolean    vmm_for_nested; /* L0 thread: the exit was L2's */
  gboolean    hypercall;      /* the exit is a sync hypercall */
  guint32     sync_cnt;       /* its counter */
  gboolean    hg_pending;     /* write vmsync_hg_host at the next entry */
  gboolean    launched;       /* L1 thread: VMLAUNCH done, later entries VMRESUME */
  gboolean    preempt_pending;/* the host wants the CPU once this exit is handled */
  SimCpu     *ipi_target;     /* WRMSR exit: the vCPU the guest sends an IPI to */
  GQueue      xmit;           /* TASK_VHOST: guest tasks whose packet to send */
  GQueue      replies;        /* TASK_VHOST: guest tasks whose reply arrived */

  guint       gen;            /* timers of an older sleep are stale */
};

struct _SimCpu
{
  SimMachine *m;
  guint       id;
  SimTask    *curr;
  SimTask    *idle;
  GQueue      runq;

  /* Interrupt being handled on this CPU, on top of the current task:
   * irq > 0 a device (written), IRQ_TIMER a local timer (not written),
   * IRQ_SOFTIRQ the NET_RX softirq after a device interrupt. */
  gint64      irq_remaining;
  int         irq;            /* 0: none */
  gboolean    irq_net;        /* a network interrupt: NET_RX follows */
  GPtrArray  *irq_wakes;      /* tasks its end wakes up */

  /* L0 CPUs: interrupts asked for by the rest of the simulation */
  GPtrArray  *host_irq_wakes;
  gboolean    host_irq_net;

  /* Guest vCPUs */
  SimTask    *thread;         /* the parent machine's thread running it */
  gboolean    halted;         /* HLT: waits for an interrupt */
  GPtrArray  *pending;        /* tasks to wake when it next runs */
  gboolean    pending_net;    /* a network interrupt is pending */
  gint64      next_guest_tick;

  /* L0 CPUs: the host tick, and the scheduling of this CPU's decisions */
  gint64      next_tick;
  gint64      last;           /* progress applied up to here */
  guint       decision_gen;
  guint       same_time_decisions;
  gboolean    need_resched;     /* a woken task of higher priority waits */

  /* Ground truth: the leaf (pCPU) or the state (vCPU) since `gt_since` */
  gint64      gt_since;
  char       *gt_row;
  VcpuState   vs;
  guint       gt_pcpu;
  gboolean    vs_valid;
  gboolean    dirty;

  /* Lost events: events dropped on this CPU since the window began */
  guint64     dropped;
};

struct _SimMachine
{
  Sim             *sim;
  char            *name;
  char            *hostname;
  int              layer;        /* 0 host, 1 VM, 2 nested VM */
  SimMachine      *parent;
  guint            n_cpus;
  SimCpu          *cpus;
  GPtrArray       *tasks;        /* SimTask, owned */
  int              next_tid;

  StrataSimTracer *tracer;       /* NULL: not traced (--host-only guests) */
  char            *clock_uuid;
  gint64           clock_offset; /* its CTF clock offset (boot time) */
  /* Clock: t_machine = t_parent + offset_ns + (t_parent - ref) × drift_ppm × 1e-6 */
  gint64           offset_ns;
  double           drift_ppm;

  /* VMs */
  guint64          vm_uid;
  int              qemu_pid;
  SimTask        **vcpu_threads; /* in the parent machine, by vCPU */
  SimTask         *vhost;
  guint32          sync_cnt;
  gint64           sync_period;

  /* Containers of this machine (PID namespaces), and clock reference */
  GArray          *containers;   /* SimContainer */
  gint64           ref_ns;       /* the parent's clock when the trace starts */
};

typedef struct
{
  char     name[32];
  guint32  inum;
  int      parent;             /* index of the enclosing container, -1: the root */
  guint    level;              /* 1: directly under the root namespace */
  int      base;               /* a task's vtid here is its tid - base */
} SimContainer;

typedef struct
{
  gint64   t;
  guint64  seq;
  int      type;
  gpointer obj;
  guint    gen;
} SimEvent;

struct _Sim
{
  StrataSimOptions options;
  GRand           *rand;
  char            *out_dir;
  GPtrArray       *machines;     /* SimMachine, owned; [0] is L0 */
  SimMachine      *host;
  gint64           start;        /* host time of the trace start */
  gint64           end;
  gint64           now;

  GArray          *heap;         /* SimEvent */
  guint64          seq;

  FILE            *gt;
  guint64          gt_rows;
  GPtrArray       *dirty;        /* SimCpu: guest vCPUs whose state to check */
};

/* strata-sim.c */
void     sim_schedule        (Sim *sim, gint64 t, int type, gpointer obj, guint gen);
gint64   sim_local_ts        (SimMachine *m, gint64 host_ns);
gboolean sim_may_emit        (SimCpu *cpu);
double   sim_uniform         (Sim *sim);
gint64   sim_exp             (Sim *sim, gint64 mean);
gint64   sim_range           (Sim *sim, gint64 lo, gint64 hi);

/* strata-sim-machine.c: tasks, scheduling, the CPU loop */
SimTask *sim_task_new        (SimMachine *m, TaskKind kind, const char *comm, int pid, int ppid,
                              int container);
void     sim_task_wakeup     (Sim *sim, SimTask *task, SimCpu *waker);
void     sim_pcpu_decide     (Sim *sim, SimCpu *pcpu);
void     sim_kick            (Sim *sim, SimCpu *cpu);
void     sim_timer_fired     (Sim *sim, SimTask *task, guint gen);
void     sim_net_reply       (Sim *sim, SimTask *task);
void     sim_machine_start   (Sim *sim, SimMachine *m);
void     sim_gt_flush        (Sim *sim, SimCpu *pcpu);
void     sim_flush_dirty     (Sim *sim);
void     sim_vcpu_gt_flush   (Sim *sim, SimCpu *vcpu);
SimCpu  *sim_pcpu_of         (SimCpu *cpu);

G_END_DECLS
