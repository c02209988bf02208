/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sim"

#include "config.h"

#include <string.h>

#include "strata-sim-private.h"

/*
 * Tasks, their scheduling, and the decisions of each physical CPU: the
 * leaf it executes, interrupts, ticks, and the KVM entries and exits that
 * move it between a hypervisor and its guests, nested ones included.
 *
 * VMX exit reasons used: 1 external interrupt, 10 CPUID, 12 HLT, 18 VMCALL,
 * 20 VMLAUNCH, 24 VMRESUME, 30 I/O instruction, 32 WRMSR, 48 EPT violation.
 */

enum
{
  EXIT_EXTERNAL_INTERRUPT = 1,
  EXIT_CPUID = 10,
  EXIT_HLT = 12,
  EXIT_VMCALL = 18,
  EXIT_VMLAUNCH = 20,
  EXIT_VMRESUME = 24,
  EXIT_IO = 30,
  EXIT_WRMSR = 32,
  EXIT_EPT_VIOLATION = 48,
};

/* The guest's network device and its interrupt; the host's NIC. */
#define GUEST_NET_IRQ   24
#define HOST_NET_IRQ    30
#define NET_RX_SOFTIRQ  3
#define KVM_HC_SYNC     5

#define RESUME_REASON   (-1)   /* vmm_reason of a thread switched back in */

static void switch_to     (Sim *sim, SimCpu *c, SimTask *next, gint64 prev_state);
static void vcpu_exit     (Sim *sim, SimTask *thread, int reason, gboolean for_l1);
static void vcpu_enter    (Sim *sim, SimTask *thread);
static void task_block    (Sim *sim, SimCpu *c, SimTask *t, gint64 sleep_ns);
static void wake_async    (Sim *sim, SimTask *t);
static void vcpu_poke     (Sim *sim, SimCpu *v);
static void mark_dirty    (Sim *sim, SimCpu *c);
static SimTask *pick_next (SimCpu *c);
static void send_resched  (Sim *sim, SimCpu *c, SimCpu *target);

/* ---------------------------------------------------------------------- */
/* Writing events                                                         */
/* ---------------------------------------------------------------------- */

/* The raw clock value of the machine now, and whether the CPU may write
 * (its machine is traced, and it is not in the lost-events window). */
static inline gboolean
emit_ok (SimCpu  *c,
         guint64 *ts)
{
  SimMachine *m = c->m;

  if (m->tracer == NULL || !sim_may_emit (c))
    return FALSE;
  *ts = (guint64) (sim_local_ts (m, m->sim->now) - m->clock_offset);
  return TRUE;
}

static void
emit_switch (SimCpu  *c,
             SimTask *prev,
             gint64   prev_state,
             SimTask *next)
{
  guint64 ts;

  if (emit_ok (c, &ts))
    strata_sim_tracer_sched_switch (c->m->tracer, c->id, ts, prev->comm, prev->tid, prev->prio,
                                    prev_state, next->comm, next->tid, next->prio);
}

static void
emit_wakeup (SimCpu  *c,
             SimTask *t,
             SimCpu  *target)
{
  guint64 ts;

  if (!emit_ok (c, &ts))
    return;
  strata_sim_tracer_sched_waking (c->m->tracer, c->id, ts, t->comm, t->tid, t->prio, target->id);
  strata_sim_tracer_sched_wakeup (c->m->tracer, c->id, ts, t->comm, t->tid, t->prio, target->id);
}

static void
emit_kvm_entry (SimCpu *c,
                guint   vcpu_id)
{
  guint64 ts;

  if (emit_ok (c, &ts))
    strata_sim_tracer_kvm_entry (c->m->tracer, c->id, ts, vcpu_id);
}

/* Random values are drawn whether or not the event is written: a run
 * with --host-only or lost events is the same run as without them. */
static void
emit_kvm_exit (SimCpu *c,
               int     reason,
               guint   vcpu_id)
{
  Sim *sim = c->m->sim;
  guint64 rip = G_GUINT64_CONSTANT (0xffffffff81000000) + (guint64) sim_range (sim, 0, 0xfffff);
  guint64 gpa = (guint64) sim_range (sim, 0x1000, 0xfffff000);
  guint64 ts;

  if (!emit_ok (c, &ts))
    return;
  strata_sim_tracer_kvm_exit (c->m->tracer, c->id, ts, (guint32) reason, rip,
                              1, reason == EXIT_EPT_VIOLATION ? 0x181 : 0,
                              reason == EXIT_EPT_VIOLATION ? gpa : 0,
                              reason == EXIT_EXTERNAL_INTERRUPT ? 0x800000ec : 0, 0, vcpu_id);
}

/* ---------------------------------------------------------------------- */
/* Tasks                                                                  */
/* ---------------------------------------------------------------------- */

/**
 * sim_task_new:
 * @pid: the process it belongs to, 0 for a new process (pid = tid)
 * @container: index of the container (PID namespace) it runs in, -1 for
 *   the machine's root namespace
 *
 * A new task, blocked.
 */
SimTask *
sim_task_new (SimMachine *m,
              TaskKind    kind,
              const char *comm,
              int         pid,
              int         ppid,
              int         container)
{
  SimTask *t = g_new0 (SimTask, 1);
  int chain[SIM_MAX_NS_LEVELS];
  guint depth = 0;

  t->m = m;
  t->kind = kind;
  t->state = STATE_BLOCKED;
  t->tid = kind == TASK_IDLE ? 0 : m->next_tid++;
  t->pid = pid > 0 ? pid : t->tid;
  t->ppid = ppid;
  t->prio = 20;
  t->container = container;
  g_strlcpy (t->comm, comm, sizeof t->comm);
  t->cpu = &m->cpus[t->tid % m->n_cpus];
  t->phase = PHASE_USER;
  t->step = STEP_USER;
  t->mean_burst_ns = 200000;
  t->mean_sleep_ns = 2000000;
  g_queue_init (&t->xmit);
  g_queue_init (&t->replies);

  t->ns_levels = 1;
  t->vtids[0] = t->tid;
  t->vpids[0] = t->pid;
  t->vppids[0] = ppid;
  t->ns_inums[0] = 4026531836u;   /* the root PID namespace, as on Linux */

  /* The containers from the outermost in: each level sees the task under
   * a smaller pid (from its first process, pid 1 inside). */
  for (int k = container; k >= 0 && depth < SIM_MAX_NS_LEVELS - 1;
       k = g_array_index (m->containers, SimContainer, k).parent)
    chain[depth++] = k;
  for (guint i = 0; i < depth; i++)
    {
      const SimContainer *ct = &g_array_index (m->containers, SimContainer, chain[depth - 1 - i]);
      guint level = t->ns_levels++;

      t->vtids[level] = t->tid - ct->base;
      t->vpids[level] = t->pid - ct->base;
      t->vppids[level] = ppid - ct->base > 0 ? ppid - ct->base : 0;
      t->ns_inums[level] = ct->inum;
    }

  g_ptr_array_add (m->tasks, t);
  return t;
}

/* How long each exit keeps the hypervisor busy. */
static gint64
vmm_cost (Sim *sim,
          int  reason)
{
  switch (reason)
    {
    case RESUME_REASON:
      return 800;
    case EXIT_EXTERNAL_INTERRUPT:
      return sim_range (sim, 600, 1500);
    case EXIT_HLT:
      return sim_range (sim, 900, 2000);
    case EXIT_VMCALL:
      return sim_range (sim, 1200, 2500);
    case EXIT_IO:
      return sim_range (sim, 3000, 9000);
    case EXIT_WRMSR:
      return sim_range (sim, 800, 1600);
    case EXIT_EPT_VIOLATION:
      return sim_range (sim, 2000, 12000);
    case EXIT_CPUID:
      return sim_range (sim, 300, 700);
    default:
      return 1000;
    }
}

SimCpu *
sim_pcpu_of (SimCpu *cpu)
{
  while (cpu->m->layer > 0)
    cpu = cpu->thread->cpu;
  return cpu;
}

/* Whether a CPU executes now: a physical CPU always does; a vCPU when its
 * thread is in guest mode on a CPU that executes, with no interrupt there. */
static gboolean
cpu_executing (SimCpu *c)
{
  SimTask *t;

  if (c->m->layer == 0)
    return TRUE;
  t = c->thread;
  return t->state == STATE_RUNNING && t->phase == PHASE_GUEST && t->cpu->curr == t
         && t->cpu->irq == 0 && cpu_executing (t->cpu);
}

/* The CPU of the chain whose task (or interrupt) executes on @p now. */
static SimCpu *
leaf_cpu (SimCpu *p)
{
  SimCpu *c = p;

  while (c->irq == 0 && c->curr->kind == TASK_VCPU && c->curr->phase == PHASE_GUEST)
    c = c->curr->vcpu;
  return c;
}

static void
enqueue (SimCpu  *c,
         SimTask *t)
{
  t->state = STATE_RUNNABLE;
  t->cpu = c;
  g_queue_push_tail (&c->runq, t);
}

/* Where a waking task goes: its CPU if idle, else the first idle one, else
 * its CPU. (In a guest, an idle vCPU is halted: the wakeup then sends it an
 * IPI, which goes through the hypervisor.) */
static SimCpu *
select_cpu (SimTask *t)
{
  SimMachine *m = t->m;
  SimCpu *prev = t->cpu;

  if (prev->curr == prev->idle && prev->runq.length == 0)
    return prev;
  for (guint i = 0; i < m->n_cpus; i++)
    {
      SimCpu *c = &m->cpus[(prev->id + i) % m->n_cpus];

      if (c->curr == c->idle && c->runq.length == 0)
        return c;
    }
  return prev;
}

/* @c, which executes, made a task runnable on @target, whose idle task
 * runs: make @target schedule. A physical CPU is kicked. A vCPU that does
 * not execute gets an IPI, which a guest sends by writing its x2APIC (a
 * WRMSR exit) and its hypervisor delivers by waking the vCPU's thread. */
static void
send_resched (Sim    *sim,
              SimCpu *c,
              SimCpu *target)
{
  if (target->m->layer == 0)
    sim_kick (sim, target);
  else if (target == c)
    ;  /* it schedules when the current step ends */
  else if (cpu_executing (target))
    sim_kick (sim, sim_pcpu_of (target));
  else if (c->thread->phase == PHASE_GUEST && c->curr->kind != TASK_VCPU && c->irq == 0
           && c->thread->ipi_target == NULL)
    {
      c->thread->ipi_target = target;
      vcpu_exit (sim, c->thread, EXIT_WRMSR, FALSE);
    }
  else
    vcpu_poke (sim, target);
}

/* Wakes @t from code running on @c, a CPU of the same machine that is
 * executing (the waker), and writes the wakeup there. */
static void
wake_on (Sim     *sim,
         SimTask *t,
         SimCpu  *c)
{
  SimCpu *target;
  guint64 ts;

  if (t->state != STATE_BLOCKED)
    return;

  target = select_cpu (t);
  emit_wakeup (c, t, target);
  if (target != t->cpu && emit_ok (c, &ts))
    strata_sim_tracer_sched_migrate_task (t->m->tracer, c->id, ts, t->comm, t->tid, t->prio,
                                          t->cpu->id, target->id);
  t->gen++;
  enqueue (target, t);
  if (t->kind == TASK_VCPU)
    mark_dirty (sim, t->vcpu);

  if (target->curr == target->idle)
    send_resched (sim, c, target);
  else if (t->m->layer == 0 && t->prio < target->curr->prio)
    {
      /* Wakeup preemption: a task of higher priority takes the CPU */
      target->need_resched = TRUE;
      sim_kick (sim, target);
    }
}

/* Wakes @t with no waker of its machine executing (a timer, an event of
 * another machine): through the interrupt of the CPU it sleeps on. */
static void
wake_async (Sim     *sim,
            SimTask *t)
{
  if (t->state != STATE_BLOCKED)
    return;

  if (t->m->layer == 0)
    {
      SimCpu *p = t->cpu;

      if (!g_ptr_array_find (p->host_irq_wakes, t, NULL))
        g_ptr_array_add (p->host_irq_wakes, t);
      sim_kick (sim, p);
    }
  else
    {
      SimCpu *v = t->cpu;

      if (!g_ptr_array_find (v->pending, t, NULL))
        g_ptr_array_add (v->pending, t);
      vcpu_poke (sim, v);
    }
}

/* Something is pending for guest vCPU @v: make it run. */
static void
vcpu_poke (Sim    *sim,
           SimCpu *v)
{
  SimTask *thread = v->thread;

  if (cpu_executing (v) || (thread->state == STATE_RUNNING && thread->cpu->curr == thread))
    sim_kick (sim, sim_pcpu_of (thread->cpu));
  else if (thread->state == STATE_BLOCKED)
    wake_async (sim, thread);
  mark_dirty (sim, v);
}

void
sim_timer_fired (Sim     *sim,
                 SimTask *t,
                 guint    gen)
{
  if (t->gen == gen)
    wake_async (sim, t);
}

/* The next user burst, or a system call. */
static void
start_user (Sim     *sim,
            SimTask *t)
{
  t->phase = PHASE_USER;
  t->step = STEP_USER;
  t->remaining = MAX (2000, sim_exp (sim, t->mean_burst_ns));
}

static const char * const quick_syscalls[] = { "read", "write", "close", "mmap", "brk", "getpid", "ioctl" };
static const char * const sleep_syscalls[] = { "nanosleep", "futex", "epoll_wait", "poll", "clock_nanosleep" };

static void
start_syscall (Sim     *sim,
               SimCpu  *c,
               SimTask *t)
{
  double r = sim_uniform (sim);
  gboolean guest = t->m->layer > 0;
  guint64 ts;

  t->syscall_blocks = FALSE;
  t->syscall_io = FALSE;
  t->syscall_net = FALSE;
  t->syscall_fork = FALSE;

  if (t->p_fork > 0 && sim_uniform (sim) < t->p_fork)
    {
      t->syscall = "clone";
      t->syscall_fork = TRUE;
    }
  else if (guest && r < t->p_net)
    {
      t->syscall = sim_uniform (sim) < 0.5 ? "sendto" : "write";
      t->syscall_io = TRUE;
      t->syscall_net = TRUE;
    }
  else if (guest && r < t->p_net + t->p_io)
    {
      t->syscall = "write";
      t->syscall_io = TRUE;
    }
  else if (r < t->p_net + t->p_io + t->p_sleep)
    {
      t->syscall = sleep_syscalls[sim_range (sim, 0, G_N_ELEMENTS (sleep_syscalls) - 1)];
      t->syscall_blocks = TRUE;
      t->sleep_ns = MAX (20000, sim_exp (sim, t->mean_sleep_ns));
    }
  else
    {
      t->syscall = quick_syscalls[sim_range (sim, 0, G_N_ELEMENTS (quick_syscalls) - 1)];
    }

  if (emit_ok (c, &ts))
    strata_sim_tracer_syscall_entry (t->m->tracer, c->id, ts, t->syscall, NULL, 0, NULL);
  t->phase = PHASE_SYSCALL;
  t->step = STEP_SYSCALL_PRE;
  t->remaining = sim_range (sim, 1000, 8000);
}

/* A short-lived child's last call: it dies. */
static void
task_exit (Sim     *sim,
           SimCpu  *c,
           SimTask *t)
{
  guint64 ts;

  if (emit_ok (c, &ts))
    {
      strata_sim_tracer_syscall_entry (t->m->tracer, c->id, ts, "exit_group", NULL, 0, NULL);
      strata_sim_tracer_sched_process_exit (t->m->tracer, c->id, ts, t->comm, t->tid, t->prio);
    }
  switch_to (sim, c, pick_next (c), 64);
  if (emit_ok (c, &ts))
    strata_sim_tracer_sched_process_free (t->m->tracer, c->id, ts, t->comm, t->tid, t->prio);
}

static void
end_syscall (Sim     *sim,
             SimCpu  *c,
             SimTask *t,
             gint64   ret)
{
  guint64 ts;

  if (emit_ok (c, &ts))
    strata_sim_tracer_syscall_exit (t->m->tracer, c->id, ts, t->syscall, ret);
  if (t->lifetime > 0 && --t->lifetime == 0)
    task_exit (sim, c, t);
  else
    start_user (sim, t);
}

/* clone(): a child process in the same PID namespaces, which lives for a
 * few calls. */
static SimTask *
do_fork (Sim     *sim,
         SimCpu  *c,
         SimTask *parent)
{
  SimMachine *m = parent->m;
  SimTask *child = sim_task_new (m, TASK_NORMAL, parent->comm, 0, parent->pid, parent->container);
  SimCpu *target;
  guint64 ts;

  child->mean_burst_ns = parent->mean_burst_ns;
  child->mean_sleep_ns = parent->mean_sleep_ns;
  child->p_sleep = parent->p_sleep;
  child->p_io = parent->p_io;
  child->lifetime = (int) sim_range (sim, 2, 8);
  child->cpu = c;
  target = select_cpu (child);

  if (emit_ok (c, &ts))
    {
      strata_sim_tracer_sched_process_fork (m->tracer, c->id, ts, parent->comm, parent->tid, parent->pid,
                                            child->comm, child->tid, child->pid,
                                            child->vtids, child->ns_levels,
                                            parent->ns_inums[parent->ns_levels - 1],
                                            child->ns_inums[child->ns_levels - 1]);
      strata_sim_tracer_sched_wakeup_new (m->tracer, c->id, ts, child->comm, child->tid, child->prio,
                                          target->id);
    }
  start_user (sim, child);
  enqueue (target, child);
  if (target->curr == target->idle)
    send_resched (sim, c, target);
  return child;
}

/* A task's phase ended: its next step. */
static void
workload_step (Sim     *sim,
               SimCpu  *c,
               SimTask *t)
{
  SimMachine *m = t->m;
  guint64 ts;

  switch (t->step)
    {
    case STEP_USER:
      if (m->layer > 0 && c->thread->phase == PHASE_GUEST && sim_uniform (sim) < 0.03)
        {
          /* User code touches guest memory the host has not mapped yet
           * (an EPT violation), or asks the CPU what it is (CPUID): an
           * exit, after which the same burst goes on. */
          t->remaining = MAX (1000, sim_exp (sim, t->mean_burst_ns / 2));
          vcpu_exit (sim, c->thread, sim_uniform (sim) < 0.8 ? EXIT_EPT_VIOLATION : EXIT_CPUID, FALSE);
          break;
        }
      start_syscall (sim, c, t);
      break;

    case STEP_SYSCALL_PRE:
      if (t->syscall_fork)
        {
          SimTask *child = do_fork (sim, c, t);
          end_syscall (sim, c, t, child->vtids[t->ns_levels - 1]);
        }
      else if (t->syscall_io)
        {
          /* The guest kernel writes to its virtio device: an exit. */
          t->step = t->syscall_net ? STEP_SYSCALL_WAIT : STEP_SYSCALL_POST;
          t->remaining = sim_range (sim, 500, 3000);
          if (t->syscall_net)
            g_queue_push_tail (&m->vhost->xmit, t);
          vcpu_exit (sim, c->thread, EXIT_IO, FALSE);
        }
      else if (t->syscall_blocks)
        {
          t->step = STEP_SYSCALL_POST;
          t->remaining = sim_range (sim, 1000, 4000);
          task_block (sim, c, t, t->sleep_ns);
        }
      else
        {
          end_syscall (sim, c, t, 0);
        }
      break;

    case STEP_SYSCALL_WAIT:
      /* Sent; now wait for the reply (vhost delivers it). */
      t->step = STEP_SYSCALL_POST;
      t->remaining = sim_range (sim, 2000, 6000);
      task_block (sim, c, t, 0);
      break;

    case STEP_SYSCALL_POST:
      end_syscall (sim, c, t, t->syscall_net ? 512 : 0);
      break;

    case STEP_SYNC_PRE:
      /* The sync module: an event, then the hypercall. */
      m->sync_cnt++;
      if (emit_ok (c, &ts))
        strata_sim_tracer_vmsync_gh_guest (m->tracer, c->id, ts, m->sync_cnt, m->vm_uid);
      c->thread->hypercall = TRUE;
      c->thread->sync_cnt = m->sync_cnt;
      t->step = STEP_SYNC_POST;
      t->remaining = sim_range (sim, 200, 500);
      vcpu_exit (sim, c->thread, EXIT_VMCALL, FALSE);
      break;

    case STEP_SYNC_POST:
      if (emit_ok (c, &ts))
        strata_sim_tracer_vmsync_hg_guest (m->tracer, c->id, ts, m->sync_cnt, m->vm_uid);
      t->step = STEP_SYNC_PRE;
      t->remaining = sim_range (sim, 500, 1500);
      task_block (sim, c, t, m->sync_period + sim_range (sim, -m->sync_period / 10, m->sync_period / 10));
      break;

    case STEP_VHOST_WORK:
      {
        SimTask *guest_task;

        if ((guest_task = g_queue_pop_head (&t->xmit)) != NULL)
          {
            guint32 len = (guint32) sim_range (sim, 60, 1500);

            if (emit_ok (c, &ts))
              strata_sim_tracer_net_dev_xmit (m->tracer, c->id, ts,
                                              G_GUINT64_CONSTANT (0xffff888000000000) + (guint64) guest_task->tid * 4096,
                                              0, len, "tap0");
            sim_schedule (sim, sim->now + sim_range (sim, 80000, 1500000), 2, guest_task, 0);
          }
        else if ((guest_task = g_queue_pop_head (&t->replies)) != NULL)
          {
            /* Hand the packet to the guest: its virtio interrupt. */
            SimCpu *v = guest_task->cpu;

            v->pending_net = TRUE;
            if (!g_ptr_array_find (v->pending, guest_task, NULL))
              g_ptr_array_add (v->pending, guest_task);
            vcpu_poke (sim, v);
          }

        t->remaining = sim_range (sim, 5000, 15000);
        if (t->xmit.length == 0 && t->replies.length == 0)
          task_block (sim, c, t, 0);
      }
      break;
    }
}

/* Writes the statedump's next task. */
static void
statedump_step (Sim     *sim,
                SimCpu  *c,
                SimTask *t)
{
  SimMachine *m = t->m;
  guint64 ts;

  /* `lttng start`: the session daemon's ioctl does the statedump */
  if (t->statedump_next == 0 && emit_ok (c, &ts))
    {
      strata_sim_tracer_syscall_entry (m->tracer, c->id, ts, "ioctl", NULL, 0, NULL);
      strata_sim_tracer_statedump_start (m->tracer, c->id, ts);
    }

  if (t->statedump_next < m->tasks->len)
    {
      SimTask *dumped = g_ptr_array_index (m->tasks, t->statedump_next++);
      StrataSimNsLevel levels[SIM_MAX_NS_LEVELS];

      if (dumped->kind != TASK_IDLE && emit_ok (c, &ts))
        {
          for (guint i = 0; i < dumped->ns_levels; i++)
            {
              levels[i].vtid = dumped->vtids[i];
              levels[i].vpid = dumped->vpids[i];
              levels[i].vppid = dumped->vppids[i];
              levels[i].ns_inum = dumped->ns_inums[i];
            }
          strata_sim_tracer_statedump_process (m->tracer, c->id, ts, dumped->tid, dumped->pid,
                                               dumped->ppid, dumped->comm,
                                               dumped->kind == TASK_NORMAL || dumped->kind == TASK_VCPU ? 0 : 1,
                                               dumped == t ? 1 : 5, 0,
                                               dumped == t ? 6 : dumped->state == STATE_RUNNABLE ? 2 : 5,
                                               dumped->cpu->id, levels, dumped->ns_levels);
        }
      t->remaining = 400;
      return;
    }

  if (emit_ok (c, &ts))
    strata_sim_tracer_statedump_end (m->tracer, c->id, ts);
  /* The session daemon then sleeps until tracing stops. */
  t->phase = PHASE_SYSCALL;
  t->step = STEP_SYSCALL_POST;
  t->syscall = "ioctl";
  t->remaining = 2000;
}

/* ---------------------------------------------------------------------- */
/* Scheduling                                                             */
/* ---------------------------------------------------------------------- */

/* The runnable task of highest priority (lowest prio value), first come
 * first served among equals. */
static SimTask *
pick_next (SimCpu *c)
{
  GList *best = NULL;

  for (GList *l = c->runq.head; l != NULL; l = l->next)
    if (best == NULL || ((SimTask *) l->data)->prio < ((SimTask *) best->data)->prio)
      best = l;
  if (best == NULL)
    return c->idle;
  return best->data;
}

/* Context switch on @c, which executes now. prev_state 0: @prev stays
 * runnable (preempted); otherwise it blocks (1) or dies (64). */
static void
switch_to (Sim     *sim,
           SimCpu  *c,
           SimTask *next,
           gint64   prev_state)
{
  SimTask *prev = c->curr;

  g_assert (next != prev);
  g_queue_remove (&c->runq, next);
  if (prev->kind == TASK_VCPU)
    mark_dirty (sim, prev->vcpu);
  emit_switch (c, prev, prev_state, next);

  if (prev->kind != TASK_IDLE)
    {
      if (prev_state == 0)
        enqueue (c, prev);
      else
        prev->state = prev_state == 64 ? STATE_DEAD : STATE_BLOCKED;
    }

  c->curr = next;
  next->state = STATE_RUNNING;
  next->cpu = c;
  next->slice_start = sim->now;

  /* A vCPU thread comes back in the host kernel, and enters its guest
   * after a little work. */
  if (next->kind == TASK_VCPU)
    {
      next->phase = PHASE_VMM;
      next->vmm_work = VMM_HANDLE_EXIT;
      next->vmm_reason = RESUME_REASON;
      next->remaining = vmm_cost (sim, RESUME_REASON);
    }

  mark_dirty (sim, c);
}

static void
task_block (Sim     *sim,
            SimCpu  *c,
            SimTask *t,
            gint64   sleep_ns)
{
  g_assert (c->curr == t);

  switch_to (sim, c, pick_next (c), 1);
  if (sleep_ns > 0)
    sim_schedule (sim, sim->now + sleep_ns, 1, t, t->gen);
}

/* ---------------------------------------------------------------------- */
/* Virtualization                                                         */
/* ---------------------------------------------------------------------- */

/* The hypervisor thread deepest in @p's chain that is in guest mode: the
 * one whose guest an interrupt takes out. */
static SimTask *
deepest_guest_thread (SimCpu *p)
{
  SimTask *deepest = NULL;
  SimCpu *c = p;

  while (c->irq == 0 && c->curr->kind == TASK_VCPU && c->curr->phase == PHASE_GUEST)
    {
      deepest = c->curr;
      c = c->curr->vcpu;
    }
  return deepest;
}

/* @thread's guest leaves guest mode for @reason. For an L2 guest (its
 * thread is an L1 task), the exit reaches L0 first; @for_l1 says that it is
 * L1's to handle whatever the reason (an interrupt of L1's own). */
static void
vcpu_exit (Sim      *sim,
           SimTask  *thread,
           int       reason,
           gboolean  for_l1)
{
  SimMachine *hv = thread->m;

  g_assert (thread->phase == PHASE_GUEST);

  if (hv->layer == 0)
    {
      emit_kvm_exit (thread->cpu, reason, thread->vcpu->id);
      thread->phase = PHASE_VMM;
      thread->vmm_work = VMM_HANDLE_EXIT;
      thread->vmm_reason = reason;
      thread->remaining = vmm_cost (sim, reason);
    }
  else
    {
      /* L2 → L0: thread is the L1 thread, its CPU an L1 vCPU run by t0 */
      SimTask *t0 = thread->cpu->thread;

      emit_kvm_exit (t0->cpu, reason, t0->vcpu->id);
      t0->phase = PHASE_VMM;
      t0->vmm_work = VMM_NESTED_EXIT;
      t0->vmm_reason = reason;
      t0->vmm_for_nested = for_l1;
      t0->remaining = sim_range (sim, 500, 1200);
      mark_dirty (sim, t0->cpu);
    }
  mark_dirty (sim, thread->cpu);
}

/* @thread (in its hypervisor's kernel) enters its guest vCPU. */
static void
vcpu_enter (Sim     *sim,
            SimTask *thread)
{
  SimMachine *hv = thread->m;
  SimMachine *guest = thread->vcpu->m;
  guint64 ts;

  if (thread->hg_pending && emit_ok (thread->cpu, &ts))
    strata_sim_tracer_vmsync_hg_host (hv->tracer, thread->cpu->id, ts, thread->sync_cnt, guest->vm_uid);
  thread->hg_pending = FALSE;

  emit_kvm_entry (thread->cpu, thread->vcpu->id);
  thread->phase = PHASE_GUEST;
  thread->vcpu->halted = FALSE;

  if (hv->layer > 0)
    {
      /* L1 resumes L2: VMLAUNCH or VMRESUME traps to L0, which sets up the
       * shadow EPT (kvm_mmu_get_page) and enters L2 for L1. */
      SimTask *t0 = thread->cpu->thread;
      int reason = thread->launched ? EXIT_VMRESUME : EXIT_VMLAUNCH;

      thread->launched = TRUE;
      emit_kvm_exit (t0->cpu, reason, t0->vcpu->id);
      t0->phase = PHASE_VMM;
      t0->vmm_work = VMM_NESTED_ENTRY;
      t0->vmm_reason = reason;
      t0->remaining = sim_range (sim, 1000, 2500);
      mark_dirty (sim, t0->cpu);
    }

  mark_dirty (sim, thread->cpu);
}

/* Whether L0 handles an L2 exit itself (its own interrupts, its shadow
 * page tables) or reflects it to L1. */
static gboolean
l0_handles (Sim *sim,
            int  reason)
{
  if (reason == EXIT_EXTERNAL_INTERRUPT)
    return TRUE;
  if (reason == EXIT_EPT_VIOLATION)
    return sim_uniform (sim) < 0.7;
  return FALSE;
}

/* After an exit is handled: preempted, halted, or back to the guest. */
static void
resume_or_yield (Sim     *sim,
                 SimTask *thread)
{
  SimCpu *c = thread->cpu;
  SimCpu *v = thread->vcpu;

  if (thread->preempt_pending && c->runq.length > 0)
    {
      thread->preempt_pending = FALSE;
      switch_to (sim, c, pick_next (c), 0);
      return;
    }
  thread->preempt_pending = FALSE;

  if (v->halted && v->pending->len == 0 && !v->pending_net && v->runq.length == 0)
    {
      /* Halted, nothing to do: the thread sleeps until an interrupt. */
      switch_to (sim, c, pick_next (c), 1);
      mark_dirty (sim, v);
      return;
    }

  vcpu_enter (sim, thread);
}

static void
vmm_done (Sim     *sim,
          SimTask *thread)
{
  SimMachine *hv = thread->m;
  SimCpu *v = thread->vcpu;
  guint64 ts;

  switch (thread->vmm_work)
    {
    case VMM_NESTED_EXIT:
      {
        /* L0 got an exit of the L2 guest its L1 vCPU is running. */
        SimTask *t1 = v->curr;

        if (!thread->vmm_for_nested && l0_handles (sim, thread->vmm_reason))
          {
            if (thread->preempt_pending && thread->cpu->runq.length > 0)
              {
                thread->preempt_pending = FALSE;
                switch_to (sim, thread->cpu, pick_next (thread->cpu), 0);
              }
            else
              {
                thread->preempt_pending = FALSE;
                emit_kvm_entry (thread->cpu, v->id);
                thread->phase = PHASE_GUEST;
              }
          }
        else
          {
            if (emit_ok (thread->cpu, &ts))
              strata_sim_tracer_kvm_nested_vmexit_inject (hv->tracer, thread->cpu->id, ts,
                                                          (guint32) thread->vmm_reason, 0, 0, 0, 0, 1);
            emit_kvm_entry (thread->cpu, v->id);
            thread->phase = PHASE_GUEST;
            thread->preempt_pending = FALSE;
            /* L1 runs again, and its first act is its own exit: before
             * anything else it writes (its pending interrupts, say). */
            t1->phase = PHASE_VMM;
            t1->vmm_work = VMM_HANDLE_EXIT;
            t1->vmm_reason = thread->vmm_reason;
            t1->remaining = vmm_cost (sim, thread->vmm_reason);
            emit_kvm_exit (v, thread->vmm_reason, t1->vcpu->id);
            mark_dirty (sim, v);
          }
        thread->vmm_for_nested = FALSE;
      }
      break;

    case VMM_NESTED_ENTRY:
      {
        guint64 gfn = (guint64) sim_range (sim, 0x1000, 0xfffff);
        gboolean created = sim_uniform (sim) < 0.1;

        if (emit_ok (thread->cpu, &ts))
          strata_sim_tracer_kvm_mmu_get_page (hv->tracer, thread->cpu->id, ts, gfn, 0x1e4, 1, 0, created);
      }
      emit_kvm_entry (thread->cpu, v->id);
      thread->phase = PHASE_GUEST;
      break;

    case VMM_HANDLE_EXIT:
    default:
      switch (thread->vmm_reason)
        {
        case EXIT_VMCALL:
          if (thread->hypercall && emit_ok (thread->cpu, &ts))
            {
              strata_sim_tracer_kvm_hypercall (hv->tracer, thread->cpu->id, ts, KVM_HC_SYNC,
                                               thread->sync_cnt, v->m->vm_uid, 0, 0);
              strata_sim_tracer_vmsync_gh_host (hv->tracer, thread->cpu->id, ts, thread->sync_cnt,
                                                v->m->vm_uid);
            }
          thread->hg_pending = thread->hypercall;
          thread->hypercall = FALSE;
          break;

        case EXIT_IO:
          /* The virtqueue kick wakes the VM's vhost thread. */
          if (v->m->vhost != NULL && v->m->vhost->m == hv)
            wake_on (sim, v->m->vhost, thread->cpu);
          break;

        case EXIT_WRMSR:
          if (thread->ipi_target != NULL)
            vcpu_poke (sim, thread->ipi_target);
          thread->ipi_target = NULL;
          break;

        default:
          break;
        }

      resume_or_yield (sim, thread);
      break;
    }
}

/* ---------------------------------------------------------------------- */
/* Interrupts                                                             */
/* ---------------------------------------------------------------------- */

static void
irq_start (Sim       *sim,
           SimCpu    *c,
           int        irq,
           gboolean   net,
           GPtrArray *wakes)
{
  guint64 ts;

  if (irq > 0 && emit_ok (c, &ts))
    strata_sim_tracer_irq_handler_entry (c->m->tracer, c->id, ts, irq,
                                         c->m->layer > 0 ? "virtio0-input.0" : "eth0");
  c->irq = irq;
  c->irq_net = net;
  c->irq_remaining = irq > 0 ? sim_range (sim, 1500, 4000) : sim_range (sim, 500, 1200);
  g_ptr_array_extend_and_steal (c->irq_wakes, g_ptr_array_copy (wakes, NULL, NULL));
  g_ptr_array_set_size (wakes, 0);
  mark_dirty (sim, c);
}

static void
irq_done (Sim    *sim,
          SimCpu *c)
{
  guint64 ts;

  if (c->irq > 0)
    {
      if (emit_ok (c, &ts))
        {
          strata_sim_tracer_softirq_raise (c->m->tracer, c->id, ts, NET_RX_SOFTIRQ);
          strata_sim_tracer_irq_handler_exit (c->m->tracer, c->id, ts, c->irq, 1);
        }
      if (c->irq_net)
        {
          if (emit_ok (c, &ts))
            strata_sim_tracer_softirq_entry (c->m->tracer, c->id, ts, NET_RX_SOFTIRQ);
          c->irq = IRQ_SOFTIRQ;
          c->irq_remaining = sim_range (sim, 2000, 6000);
          return;
        }
    }
  else if (c->irq == IRQ_SOFTIRQ)
    {
      guint64 skb = G_GUINT64_CONSTANT (0xffff888100000000) + (guint64) sim_range (sim, 0, 0xffffff) * 64;
      guint32 len = (guint32) sim_range (sim, 60, 1500);

      if (emit_ok (c, &ts))
        {
          strata_sim_tracer_net_if_receive_skb (c->m->tracer, c->id, ts, skb, len, "eth0");
          strata_sim_tracer_softirq_exit (c->m->tracer, c->id, ts, NET_RX_SOFTIRQ);
        }
    }

  c->irq = 0;
  c->irq_net = FALSE;
  for (guint i = 0; i < c->irq_wakes->len; i++)
    wake_on (sim, g_ptr_array_index (c->irq_wakes, i), c);
  g_ptr_array_set_size (c->irq_wakes, 0);
  mark_dirty (sim, c);
}

/* ---------------------------------------------------------------------- */
/* The decisions of a physical CPU                                        */
/* ---------------------------------------------------------------------- */

/* Applies the progress since the last decision to the leaf. */
static void
apply_progress (Sim    *sim,
                SimCpu *p)
{
  gint64 dt = sim->now - p->last;
  SimCpu *leaf;

  p->last = sim->now;
  if (dt <= 0)
    return;

  leaf = leaf_cpu (p);
  if (leaf->irq != 0)
    leaf->irq_remaining -= dt;
  else if (leaf->curr->phase != PHASE_IDLE && leaf->curr->phase != PHASE_GUEST)
    leaf->curr->remaining -= dt;
}

static void
host_tick (Sim    *sim,
           SimCpu *p)
{
  SimTask *curr = p->curr;
  gboolean slice_over = p->runq.length > 0 && curr != p->idle
                        && sim->now - curr->slice_start >= SIM_SLICE_NS;

  while (p->next_tick <= sim->now)
    p->next_tick += SIM_TICK_NS;

  if (p->irq != 0)
    return;

  if (curr->kind == TASK_VCPU && curr->phase == PHASE_GUEST)
    {
      /* The host's timer interrupt takes the guest out. */
      curr->preempt_pending = slice_over;
      vcpu_exit (sim, deepest_guest_thread (p), EXIT_EXTERNAL_INTERRUPT, FALSE);
    }
  else if (slice_over)
    {
      if (curr->phase == PHASE_VMM)
        curr->preempt_pending = TRUE;
      else
        switch_to (sim, p, pick_next (p), 0);
    }
}

/* A guest's own timer tick, while its vCPU executes. */
static void
guest_tick (Sim    *sim,
            SimCpu *v)
{
  SimTask *curr = v->curr;

  while (v->next_guest_tick <= sim->now)
    v->next_guest_tick += SIM_TICK_NS;

  if (v->runq.length == 0 || curr == v->idle || sim->now - curr->slice_start < SIM_SLICE_NS)
    return;

  if (curr->kind == TASK_VCPU && curr->phase == PHASE_GUEST)
    {
      /* L1's tick while it runs L2: L2 exits, L0 reflects it to L1. */
      curr->preempt_pending = TRUE;
      vcpu_exit (sim, curr, EXIT_EXTERNAL_INTERRUPT, TRUE);
    }
  else if (curr->phase == PHASE_VMM)
    curr->preempt_pending = TRUE;
  else
    switch_to (sim, v, pick_next (v), 0);
}

/* One thing due on @p's chain, done. FALSE when nothing is due. */
static gboolean
step (Sim    *sim,
      SimCpu *p)
{
  SimCpu *leaf;
  SimCpu *c;

  /* Interrupts the simulation asked of this CPU (timers, the NIC) */
  if (p->irq == 0 && (p->host_irq_wakes->len > 0 || p->host_irq_net))
    {
      SimTask *thread = deepest_guest_thread (p);

      if (thread != NULL)
        vcpu_exit (sim, thread, EXIT_EXTERNAL_INTERRUPT, FALSE);
      irq_start (sim, p, p->host_irq_net ? HOST_NET_IRQ : IRQ_TIMER, p->host_irq_net, p->host_irq_wakes);
      p->host_irq_net = FALSE;
      return TRUE;
    }

  if (p->next_tick <= sim->now)
    {
      host_tick (sim, p);
      return TRUE;
    }

  if (p->need_resched && p->irq == 0)
    {
      SimTask *next = pick_next (p);

      p->need_resched = FALSE;
      if (next != p->idle && next->prio < p->curr->prio)
        {
          if (p->curr->kind == TASK_VCPU && p->curr->phase == PHASE_GUEST)
            {
              p->curr->preempt_pending = TRUE;
              vcpu_exit (sim, deepest_guest_thread (p), EXIT_EXTERNAL_INTERRUPT, FALSE);
            }
          else if (p->curr->phase == PHASE_VMM)
            p->curr->preempt_pending = TRUE;
          else
            switch_to (sim, p, next, 0);
          return TRUE;
        }
    }

  leaf = leaf_cpu (p);
  if (leaf->irq != 0 && leaf->irq_remaining <= 0)
    {
      irq_done (sim, leaf);
      return TRUE;
    }
  if (leaf->irq == 0 && leaf->curr->phase != PHASE_IDLE && leaf->curr->phase != PHASE_GUEST
      && leaf->curr->remaining <= 0)
    {
      SimTask *t = leaf->curr;

      if (t->phase == PHASE_VMM)
        vmm_done (sim, t);
      else if (t->phase == PHASE_STATEDUMP)
        statedump_step (sim, leaf, t);
      else
        workload_step (sim, leaf, t);
      return TRUE;
    }

  /* What each CPU of the chain needs, from the top */
  for (c = p;; c = c->curr->vcpu)
    {
      gboolean is_guest = c->m->layer > 0;
      gboolean below = c->irq == 0 && c->curr->kind == TASK_VCPU && c->curr->phase == PHASE_GUEST;

      if (c->irq != 0)
        break;

      if (is_guest && c->next_guest_tick <= sim->now)
        {
          guest_tick (sim, c);
          return TRUE;
        }

      if (is_guest && (c->pending->len > 0 || c->pending_net))
        {
          if (below)
            {
              /* An interrupt for L1 while L2 runs: L2 exits to L1 */
              vcpu_exit (sim, c->curr, EXIT_EXTERNAL_INTERRUPT, TRUE);
            }
          else
            {
              gboolean net = c->pending_net;

              c->pending_net = FALSE;
              irq_start (sim, c, net ? GUEST_NET_IRQ : IRQ_TIMER, net, c->pending);
            }
          return TRUE;
        }

      if (c->curr == c->idle && c->runq.length > 0)
        {
          switch_to (sim, c, pick_next (c), 0);
          return TRUE;
        }

      if (is_guest && c->curr == c->idle)
        {
          /* Nothing to run: the idle loop halts the vCPU. */
          c->halted = TRUE;
          vcpu_exit (sim, c->thread, EXIT_HLT, FALSE);
          return TRUE;
        }

      if (!below)
        break;
    }

  return FALSE;
}

/* When @p next needs a decision. The chain is walked as step () walks it:
 * a guest CPU handling an interrupt hides the CPUs below it. */
static gint64
next_decision (Sim    *sim,
               SimCpu *p)
{
  gint64 next = p->next_tick;
  SimCpu *leaf = leaf_cpu (p);
  SimCpu *c = p;

  if (leaf->irq != 0)
    next = MIN (next, sim->now + MAX (leaf->irq_remaining, 0));
  else if (leaf->curr->phase != PHASE_IDLE && leaf->curr->phase != PHASE_GUEST)
    next = MIN (next, sim->now + MAX (leaf->curr->remaining, 0));

  for (;;)
    {
      if (c->irq != 0)
        break;
      if (c != p && c->runq.length > 0)
        {
          /* Ticks missed while the vCPU did not execute are not replayed */
          if (c->next_guest_tick <= sim->now)
            c->next_guest_tick = sim->now + SIM_TICK_NS - (sim->now - c->next_guest_tick) % SIM_TICK_NS;
          next = MIN (next, c->next_guest_tick);
        }
      if (c->curr->kind != TASK_VCPU || c->curr->phase != PHASE_GUEST)
        break;
      c = c->curr->vcpu;
    }

  return MAX (next, sim->now);
}

/* ---------------------------------------------------------------------- */
/* Ground truth                                                           */
/* ---------------------------------------------------------------------- */

/* Whether a trace shows the interrupt being handled on @c: device
 * interrupts and softirqs are written, the local timer is not (it has no
 * irq_handler_entry), so its short handling counts, in the ground truth as
 * in any analysis of the traces, in the context it interrupted. */
static inline gboolean
irq_visible (const SimCpu *c)
{
  return c->irq > 0 || c->irq == IRQ_SOFTIRQ;
}

static char *
leaf_row (SimCpu *p)
{
  SimCpu *leaf = leaf_cpu (p);
  SimTask *t = leaf->curr;
  SimMachine *m = leaf->m;
  const char *status;
  g_autofree char *vcpu = NULL;

  if (!irq_visible (leaf) && t->phase == PHASE_VMM)
    {
      /* The hypervisor working for a guest: the guest's row, the
       * hypervisor thread's tid. For L0 handling an L2 exit, the guest is
       * L2 (the vCPU its L1 vCPU runs). */
      SimCpu *v = t->vcpu;

      if (t->vmm_work == VMM_NESTED_EXIT && v->curr->kind == TASK_VCPU)
        v = v->curr->vcpu;
      return g_strdup_printf ("%s\t%d\t%u\t%d\t-\t-\tvmm", v->m->name, v->m->layer, v->id, t->tid);
    }

  if (irq_visible (leaf))
    status = "kernel";
  else if (t->phase == PHASE_IDLE)
    status = "idle";
  else if (t->phase == PHASE_USER && t->kind != TASK_KTHREAD && t->kind != TASK_VHOST)
    status = "user";   /* kernel threads have no user space */
  else
    status = "kernel";

  vcpu = m->layer > 0 ? g_strdup_printf ("%u", leaf->id) : g_strdup ("-");
  if (t->ns_levels > 1)
    return g_strdup_printf ("%s\t%d\t%s\t%d\t%d\t%u\t%s", m->name, m->layer, vcpu, t->tid,
                            t->vtids[t->ns_levels - 1], t->ns_inums[t->ns_levels - 1], status);
  return g_strdup_printf ("%s\t%d\t%s\t%d\t-\t-\t%s", m->name, m->layer, vcpu, t->tid, status);
}

static void
gt_update (Sim    *sim,
           SimCpu *p)
{
  g_autofree char *row = leaf_row (p);

  if (p->gt_row != NULL && strcmp (row, p->gt_row) == 0)
    return;
  sim_gt_flush (sim, p);
  g_free (p->gt_row);
  p->gt_row = g_steal_pointer (&row);
}

void
sim_gt_flush (Sim    *sim,
              SimCpu *p)
{
  if (p->gt_row != NULL && sim->now > p->gt_since && sim->gt != NULL)
    {
      fprintf (sim->gt, "pcpu\t%u\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%s\n",
               p->id, p->gt_since, sim->now, p->gt_row);
      sim->gt_rows++;
    }
  p->gt_since = sim->now;
}

static VcpuState
vcpu_state (SimCpu *v)
{
  SimTask *t = v->thread;

  if (cpu_executing (v))
    return VS_RUNNING;
  if (t->state == STATE_BLOCKED)
    return VS_IDLE;
  if (t->state == STATE_RUNNABLE)
    return VS_PREEMPTED;

  /* The thread is on a CPU: in its hypervisor's kernel for this vCPU, or
   * in guest mode on a CPU that does not execute now. */
  if (t->phase == PHASE_VMM)
    return VS_VMM;
  if (t->cpu->irq != 0)
    return VS_VMM;
  if (t->cpu->m->layer > 0)
    {
      /* An L2 vCPU: whatever L0 does with the L1 vCPU under it */
      SimTask *t0 = t->cpu->thread;

      if (t0->state == STATE_RUNNING && t0->phase == PHASE_VMM
          && (t0->vmm_work == VMM_NESTED_EXIT || t0->vmm_work == VMM_NESTED_ENTRY))
        return VS_VMM;
      return vcpu_state (t->cpu) == VS_VMM ? VS_VMM : VS_PREEMPTED;
    }
  return VS_PREEMPTED;
}

static const char *
vcpu_state_name (VcpuState state)
{
  static const char * const names[] = { "running", "vmm", "preempted", "idle" };

  return names[state];
}

void
sim_vcpu_gt_flush (Sim    *sim,
                   SimCpu *v)
{
  if (v->vs_valid && sim->now > v->gt_since && sim->gt != NULL)
    {
      SimCpu *pcpu = v->vs == VS_RUNNING ? sim_pcpu_of (v) : NULL;
      g_autofree char *where = pcpu != NULL ? g_strdup_printf ("%u", pcpu->id) : g_strdup ("-");

      fprintf (sim->gt, "vcpu\t%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%s\t%d\t%u\t%d\t-\t-\t%s\n",
               where, v->gt_since, sim->now, v->m->name, v->m->layer, v->id, v->thread->tid,
               vcpu_state_name (v->vs));
      sim->gt_rows++;
    }
  v->gt_since = sim->now;
}

/* A vCPU's state may have changed: write its previous state if so. The
 * pCPU it runs on is part of the row, so a migration starts a new row. */
static void
vcpu_gt_update (Sim    *sim,
                SimCpu *v)
{
  VcpuState state = vcpu_state (v);
  guint pcpu = state == VS_RUNNING ? sim_pcpu_of (v)->id : G_MAXUINT;

  if (v->vs_valid && v->vs == state && v->gt_pcpu == pcpu)
    return;
  sim_vcpu_gt_flush (sim, v);
  v->vs = state;
  v->gt_pcpu = pcpu;
  v->vs_valid = TRUE;
}

/* Every guest vCPU whose state may depend on what @c does is checked at
 * the end of the current decision. */
static void
mark_dirty (Sim    *sim,
            SimCpu *c)
{
  if (c->m->layer > 0 && !c->dirty)
    {
      c->dirty = TRUE;
      g_ptr_array_add (sim->dirty, c);
    }
  if (c->curr != NULL && c->curr->kind == TASK_VCPU)
    mark_dirty (sim, c->curr->vcpu);
}

void
sim_flush_dirty (Sim *sim)
{
  for (guint i = 0; i < sim->dirty->len; i++)
    {
      SimCpu *v = g_ptr_array_index (sim->dirty, i);

      v->dirty = FALSE;
      vcpu_gt_update (sim, v);
    }
  g_ptr_array_set_size (sim->dirty, 0);
}

/* ---------------------------------------------------------------------- */

/**
 * sim_net_reply:
 *
 * The reply to a packet @t sent arrives at the host's NIC: an interrupt
 * on the CPU where the VM's vhost thread last ran, which wakes it to hand
 * the packet to the guest.
 */
void
sim_net_reply (Sim     *sim,
               SimTask *t)
{
  SimTask *vhost = t->m->vhost;
  SimCpu *p = vhost->cpu;

  g_queue_push_tail (&vhost->replies, t);
  if (vhost->m->layer == 0)
    {
      p->host_irq_net = TRUE;
      if (!g_ptr_array_find (p->host_irq_wakes, vhost, NULL))
        g_ptr_array_add (p->host_irq_wakes, vhost);
      sim_kick (sim, p);
    }
  else
    {
      /* An L2's vhost runs in L1: L1's virtio device interrupt */
      p->pending_net = TRUE;
      if (!g_ptr_array_find (p->pending, vhost, NULL))
        g_ptr_array_add (p->pending, vhost);
      vcpu_poke (sim, p);
    }
}

/**
 * sim_kick:
 *
 * Makes @p decide now (something changed for it).
 */
void
sim_kick (Sim    *sim,
          SimCpu *p)
{
  g_assert (p->m->layer == 0);
  p->decision_gen++;
  sim_schedule (sim, sim->now, 0, p, p->decision_gen);
}

void
sim_pcpu_decide (Sim    *sim,
                 SimCpu *p)
{
  gint64 next;
  guint guard;

  apply_progress (sim, p);
  /* The vCPUs executed here before and after may all have changed */
  mark_dirty (sim, p);

  for (guard = 0; guard < 10000 && step (sim, p); guard++)
    ;
  if (guard == 10000)
    g_critical ("simulation: CPU %u of %s does not settle at %" G_GINT64_FORMAT,
                p->id, p->m->name, sim->now);

  mark_dirty (sim, p);
  gt_update (sim, p);
  sim_flush_dirty (sim);

  /* Time must move: a CPU that keeps deciding at the same instant is a
   * bug of this simulator, said loudly, then stepped over. */
  next = next_decision (sim, p);
  if (next == sim->now && p->same_time_decisions++ > 1000)
    {
      g_critical ("simulation: CPU %u of %s decides again and again at %" G_GINT64_FORMAT,
                  p->id, p->m->name, sim->now);
      next = sim->now + 1;
    }
  if (next > sim->now)
    p->same_time_decisions = 0;

  p->decision_gen++;
  sim_schedule (sim, next, 0, p, p->decision_gen);
}

/**
 * sim_machine_start:
 *
 * Puts every CPU of @m in its idle task, and its tasks to sleep for a
 * random part of the first milliseconds, as tracing starts on a machine
 * that was already running. The statedump task runs first.
 */
void
sim_machine_start (Sim        *sim,
                   SimMachine *m)
{
  for (guint i = 0; i < m->n_cpus; i++)
    {
      SimCpu *c = &m->cpus[i];

      c->curr = c->idle;
      c->idle->state = STATE_RUNNING;
      c->idle->phase = PHASE_IDLE;
      c->next_tick = sim->start + (SIM_TICK_NS * (i + 1)) / (m->n_cpus + 1);
      c->next_guest_tick = c->next_tick;
      c->last = sim->start;
      c->gt_since = sim->start;
      if (m->layer > 0)
        {
          c->halted = TRUE;
          mark_dirty (sim, c);
        }
    }

  for (guint i = 0; i < m->tasks->len; i++)
    {
      SimTask *t = g_ptr_array_index (m->tasks, i);

      if (t->kind == TASK_IDLE || t->kind == TASK_VHOST || t->state != STATE_BLOCKED || t->dormant)
        continue;
      if (t->phase == PHASE_STATEDUMP)
        {
          t->remaining = 1000;
          wake_async (sim, t);
          continue;
        }
      if (t->kind == TASK_VCPU)
        continue;   /* woken by their guest */
      sim_schedule (sim, sim->start + sim_range (sim, 1000, 3000000), 1, t, t->gen);
    }
}
