/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sim"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "strata-sim-scenario-private.h"

/*
 * The scenarios: which machines, how many CPUs, which processes in which
 * containers, with which workloads. --scale K repeats the machines K times
 * and multiplies the host's CPUs by K.
 */

typedef enum
{
  PROFILE_LIGHT,     /* wakes now and then, works a little: daemons */
  PROFILE_SERVER,    /* short bursts, sleeps, network in guests */
  PROFILE_CPU,       /* long bursts, rarely sleeps: compute, stress */
  PROFILE_WAKEUP,    /* sleeps 1 ms, runs briefly: wake-up latency */
} Profile;

/* The descriptions stay English here; strata-cli translates them for
 * its --help */
static const struct
{
  const char *name;
  const char *description;
} scenarios[] = {
  { "one-vm", N_("4 physical CPUs, one VM with 2 vCPUs running a web server") },
  { "overcommit", N_("3 VMs of 4 vCPUs on 4 physical CPUs with host load: vCPUs get preempted") },
  { "nested", N_("an L1 VM (4 vCPUs) running an L2 VM (2 vCPUs)") },
  { "containers", N_("a VM with two containers, one nesting another (PID namespaces two levels deep)") },
  { "paper", N_("the FVS paper's system: containers on the host, two L1 VMs, one running an L2 that runs a container") },
  { "wakeup", N_("a process that sleeps and wakes in an L1 VM and in the L2 VM it runs") },
};

const char * const *
strata_sim_scenario_names (void)
{
  static const char *names[G_N_ELEMENTS (scenarios) + 1];

  if (names[0] == NULL)
    for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
      names[i] = scenarios[i].name;
  return names;
}

const char *
strata_sim_scenario_describe (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    if (g_strcmp0 (name, scenarios[i].name) == 0)
      return scenarios[i].description;
  return NULL;
}

gboolean
strata_sim_scenario_exists (const char *name)
{
  return strata_sim_scenario_describe (name) != NULL;
}

static void
set_profile (SimTask *t,
             Profile  profile)
{
  gboolean guest = t->m->layer > 0;

  switch (profile)
    {
    case PROFILE_LIGHT:
      t->mean_burst_ns = 60000;
      t->p_sleep = 0.7;
      t->mean_sleep_ns = 20000000;
      break;
    case PROFILE_SERVER:
      /* A request: many short calls (read, write, epoll…), now and then a
       * packet out, or a wait. */
      t->mean_burst_ns = 25000;
      t->p_sleep = guest ? 0.06 : 0.12;
      t->p_net = guest ? 0.06 : 0;
      t->p_io = guest ? 0.02 : 0;
      t->mean_sleep_ns = 2000000;
      break;
    case PROFILE_CPU:
      t->mean_burst_ns = 400000;
      t->p_sleep = 0.03;
      t->mean_sleep_ns = 1000000;
      break;
    case PROFILE_WAKEUP:
      t->mean_burst_ns = 20000;
      t->p_sleep = 1.0;
      t->mean_sleep_ns = 1000000;
      break;
    }
}

/* A container (a PID namespace) in @m, under @parent (-1: the root). Its
 * first process, created next, is its pid 1. */
static int
add_container (Sim        *sim,
               SimMachine *m,
               const char *name,
               int         parent)
{
  SimContainer ct = { 0 };

  g_strlcpy (ct.name, name, sizeof ct.name);
  ct.inum = 4026532200u + (guint32) sim_range (sim, 0, 400) * 4 + m->containers->len;
  ct.parent = parent;
  ct.level = parent >= 0 ? g_array_index (m->containers, SimContainer, parent).level + 1 : 1;
  ct.base = m->next_tid - 1;
  g_array_append_val (m->containers, ct);
  return (int) m->containers->len - 1;
}

static SimTask *
add_process (SimMachine *m,
             const char *comm,
             int         container,
             guint       n_threads,
             Profile     profile,
             double      p_fork)
{
  SimTask *main_thread = sim_task_new (m, TASK_NORMAL, comm, 0, 1, container);

  set_profile (main_thread, profile);
  main_thread->p_fork = p_fork;
  for (guint i = 1; i < n_threads; i++)
    {
      SimTask *t = sim_task_new (m, TASK_NORMAL, comm, main_thread->pid, 1, container);
      set_profile (t, profile);
    }
  return main_thread;
}

/* Every thread of the process gets @prio (LTTng writes prio - 100: 20 is
 * nice 0, 39 nice 19). */
static void
set_process_prio (SimMachine *m,
                  SimTask    *main_thread,
                  int         prio)
{
  for (guint i = 0; i < m->tasks->len; i++)
    {
      SimTask *t = g_ptr_array_index (m->tasks, i);

      if (t->pid == main_thread->pid)
        t->prio = prio;
    }
}

/* What every machine has: init, kthreadd (never run during the trace),
 * the tracer's session daemon (which writes the statedump), a kworker and
 * a logging daemon. */
static void
add_base (SimMachine *m)
{
  SimTask *t;

  t = sim_task_new (m, TASK_NORMAL, "systemd", 0, 0, -1);
  t->dormant = TRUE;
  t = sim_task_new (m, TASK_KTHREAD, "kthreadd", 0, 0, -1);
  t->dormant = TRUE;

  t = sim_task_new (m, TASK_NORMAL, "lttng-sessiond", 0, 1, -1);
  set_profile (t, PROFILE_LIGHT);
  t->phase = PHASE_STATEDUMP;

  t = sim_task_new (m, TASK_KTHREAD, "kworker/0:1", 0, 2, -1);
  set_profile (t, PROFILE_LIGHT);
  t = sim_task_new (m, TASK_NORMAL, "systemd-journal", 0, 1, -1);
  set_profile (t, PROFILE_LIGHT);
}

/* A VM run by @parent: a QEMU process there (main thread, one thread per
 * vCPU, a vhost thread), and the guest machine with its sync module. */
static SimMachine *
add_vm (Sim        *sim,
        SimMachine *parent,
        const char *name,
        guint       n_vcpus)
{
  SimTask *qemu = add_process (parent, "qemu-system-x86", -1, 1, PROFILE_LIGHT, 0);
  g_autofree char *vhost_name = g_strdup_printf ("vhost-%d", qemu->pid);
  SimMachine *vm = sim_machine_new (sim, name, parent, n_vcpus);
  SimTask *sync;

  vm->qemu_pid = qemu->pid;
  vm->vcpu_threads = g_new0 (SimTask *, n_vcpus);
  for (guint i = 0; i < n_vcpus; i++)
    {
      g_autofree char *comm = g_strdup_printf ("CPU %u/KVM", i);
      SimTask *thread = sim_task_new (parent, TASK_VCPU, comm, qemu->pid, 1, -1);

      thread->vcpu = &vm->cpus[i];
      thread->cpu = &parent->cpus[i % parent->n_cpus];
      vm->cpus[i].thread = thread;
      vm->vcpu_threads[i] = thread;
    }

  vm->vhost = sim_task_new (parent, TASK_VHOST, vhost_name, 0, 2, -1);
  vm->vhost->phase = PHASE_SYSCALL;
  vm->vhost->step = STEP_VHOST_WORK;
  vm->vhost->remaining = 8000;

  add_base (vm);

  /* The guest half of the sync module: a kernel thread that makes the
   * sync hypercall every 10 ms. */
  sync = sim_task_new (vm, TASK_KTHREAD, "vmsync", 0, 2, -1);
  sync->phase = PHASE_SYSCALL;
  sync->step = STEP_SYNC_PRE;
  sync->remaining = 1000;
  return vm;
}

static void
add_host_load (SimMachine *host,
               gboolean    stress,
               guint       scale)
{
  for (guint k = 0; k < scale; k++)
    {
      add_process (host, "sshd", -1, 1, PROFILE_SERVER, 0);
      add_process (host, "containerd", -1, 2, PROFILE_LIGHT, 0);
      if (stress)
        {
          /* Batch work at nice 19: vCPU threads waking take its CPU. */
          SimTask *t = add_process (host, "stress-ng", -1, 2, PROFILE_CPU, 0);
          set_process_prio (host, t, 39);
        }
    }
}

static SimMachine *
new_host (Sim   *sim,
          guint  n_cpus,
          guint  scale)
{
  SimMachine *host = sim_machine_new (sim, "host", NULL, n_cpus * scale);

  add_base (host);
  return host;
}

void
sim_scenario_build (Sim        *sim,
                    const char *name,
                    guint       scale)
{
  SimMachine *host = new_host (sim, 4, scale);

  if (g_str_equal (name, "one-vm"))
    {
      add_host_load (host, FALSE, scale);
      for (guint k = 0; k < scale; k++)
        {
          g_autofree char *vm_name = scale > 1 ? g_strdup_printf ("vm1-%u", k) : g_strdup ("vm1");
          SimMachine *vm = add_vm (sim, host, vm_name, 2);

          add_process (vm, "nginx", -1, 2, PROFILE_SERVER, 0);
          add_process (vm, "php-fpm", -1, 1, PROFILE_SERVER, 0.05);
          add_process (vm, "cron", -1, 1, PROFILE_LIGHT, 0.2);
        }
    }
  else if (g_str_equal (name, "overcommit"))
    {
      add_host_load (host, TRUE, scale);
      for (guint k = 0; k < 3 * scale; k++)
        {
          g_autofree char *vm_name = g_strdup_printf ("vm%u", k + 1);
          SimMachine *vm = add_vm (sim, host, vm_name, 4);

          add_process (vm, "compute", -1, 3, PROFILE_CPU, 0);
          add_process (vm, "nginx", -1, 1, PROFILE_SERVER, 0);
        }
    }
  else if (g_str_equal (name, "nested"))
    {
      add_host_load (host, FALSE, scale);
      for (guint k = 0; k < scale; k++)
        {
          g_autofree char *l1_name = scale > 1 ? g_strdup_printf ("vm1-%u", k) : g_strdup ("vm1");
          g_autofree char *l2_name = g_strconcat (l1_name, "-l2", NULL);
          SimMachine *l1 = add_vm (sim, host, l1_name, 4);
          SimMachine *l2;

          add_process (l1, "postgres", -1, 2, PROFILE_SERVER, 0);
          l2 = add_vm (sim, l1, l2_name, 2);
          add_process (l2, "nginx", -1, 2, PROFILE_SERVER, 0);
          add_process (l2, "batch", -1, 1, PROFILE_CPU, 0);
        }
    }
  else if (g_str_equal (name, "containers"))
    {
      add_host_load (host, FALSE, scale);
      for (guint k = 0; k < scale; k++)
        {
          g_autofree char *vm_name = scale > 1 ? g_strdup_printf ("vm1-%u", k) : g_strdup ("vm1");
          SimMachine *vm = add_vm (sim, host, vm_name, 4);
          int web = add_container (sim, vm, "web", -1);
          int sandbox;
          int db;

          add_process (vm, "nginx", web, 2, PROFILE_SERVER, 0);
          add_process (vm, "php-fpm", web, 1, PROFILE_SERVER, 0.1);
          sandbox = add_container (sim, vm, "sandbox", web);
          add_process (vm, "renderer", sandbox, 2, PROFILE_SERVER, 0.1);
          db = add_container (sim, vm, "db", -1);
          add_process (vm, "postgres", db, 2, PROFILE_SERVER, 0);
          add_process (vm, "cron", -1, 1, PROFILE_LIGHT, 0.2);
        }
    }
  else if (g_str_equal (name, "paper"))
    {
      add_host_load (host, FALSE, scale);
      for (guint k = 0; k < scale; k++)
        {
          g_autofree char *suffix = scale > 1 ? g_strdup_printf ("-%u", k) : g_strdup ("");
          g_autofree char *c1_name = g_strconcat ("c1", suffix, NULL);
          g_autofree char *c2_name = g_strconcat ("c2", suffix, NULL);
          g_autofree char *vm1_name = g_strconcat ("vm1", suffix, NULL);
          g_autofree char *vm2_name = g_strconcat ("vm2", suffix, NULL);
          g_autofree char *vm3_name = g_strconcat ("vm3", suffix, NULL);
          int c1 = add_container (sim, host, c1_name, -1);
          int c2;
          int c3;
          SimMachine *vm1, *vm2, *vm3;

          add_process (host, "nginx", c1, 4, PROFILE_SERVER, 0.02);
          c2 = add_container (sim, host, c2_name, -1);
          add_process (host, "redis-server", c2, 3, PROFILE_SERVER, 0);

          vm1 = add_vm (sim, host, vm1_name, 2);
          add_process (vm1, "apache2", -1, 5, PROFILE_SERVER, 0.02);
          add_process (vm1, "cron", -1, 1, PROFILE_LIGHT, 0.2);

          vm2 = add_vm (sim, host, vm2_name, 2);
          add_process (vm2, "mysqld", -1, 6, PROFILE_SERVER, 0);

          vm3 = add_vm (sim, vm2, vm3_name, 1);
          c3 = add_container (sim, vm3, "c3", -1);
          add_process (vm3, "node", c3, 3, PROFILE_SERVER, 0.02);
        }
    }
  else if (g_str_equal (name, "wakeup"))
    {
      add_host_load (host, FALSE, scale);
      for (guint k = 0; k < scale; k++)
        {
          g_autofree char *l1_name = scale > 1 ? g_strdup_printf ("vm1-%u", k) : g_strdup ("vm1");
          g_autofree char *l2_name = g_strconcat (l1_name, "-l2", NULL);
          SimMachine *l1 = add_vm (sim, host, l1_name, 2);
          SimMachine *l2;

          add_process (l1, "wakeup-l1", -1, 1, PROFILE_WAKEUP, 0);
          l2 = add_vm (sim, l1, l2_name, 1);
          add_process (l2, "wakeup-l2", -1, 1, PROFILE_WAKEUP, 0);
        }
    }
  else
    {
      g_assert_not_reached ();
    }
}
