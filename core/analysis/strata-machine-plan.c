/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-machine-plan"

#include "config.h"

#include <string.h>

#include "strata-machine-plan.h"
#include "strata-trace-discovery.h"

/*
 * Which trace is which machine, and which thread runs which vCPU.
 *
 * Learned during pass 1 (synchronization reads every trace anyway): on a
 * machine that runs guests, the thread current on a CPU when it writes
 * kvm_entry runs the vCPU the event names; the one that writes a sync
 * hypercall (vmsync_gh_host) names the guest by its vm_uid, which the
 * guest's own trace also writes. The vCPU threads of one QEMU process are
 * one VM. Knowing all this before pass 2 means fusion never waits for a
 * machine to be identified, and never drops the events of one that is
 * not yet.
 */

typedef struct
{
  GArray     *cpu_tid;      /* int by CPU: the current thread, -1 unknown */
  GHashTable *pid_of;       /* tid → pid */
  GHashTable *vcpu_of;      /* tid → vCPU id + 1 */
  GHashTable *uid_of;       /* tid → guint64 * vm_uid */
  GArray     *guest_uids;   /* guint64: vm_uids the trace writes as a guest */
  GArray     *vcpu_order;   /* int: vCPU threads in the order met */
} TraceScan;

struct _StrataMachineScan
{
  TraceScan *traces;
  guint      n_traces;
};

static const StrataEventKind scan_kinds[] = {
  STRATA_EVENT_SCHED_SWITCH,
  STRATA_EVENT_SCHED_PROCESS_FORK,
  STRATA_EVENT_STATEDUMP_PROCESS_STATE,
  STRATA_EVENT_KVM_ENTRY,
};

/**
 * strata_machine_scan_new:
 * @n_traces: the traces that pass 1 reads
 *
 * Returns: (transfer full): a scan to give, with
 *   strata_machine_scan_observe(), to pass 1 as its observer
 */
StrataMachineScan *
strata_machine_scan_new (guint n_traces)
{
  StrataMachineScan *self = g_new0 (StrataMachineScan, 1);

  self->n_traces = n_traces;
  self->traces = g_new0 (TraceScan, MAX (n_traces, 1));
  for (guint i = 0; i < n_traces; i++)
    {
      TraceScan *scan = &self->traces[i];

      scan->cpu_tid = g_array_new (FALSE, FALSE, sizeof (int));
      scan->pid_of = g_hash_table_new (NULL, NULL);
      scan->vcpu_of = g_hash_table_new (NULL, NULL);
      scan->uid_of = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      scan->guest_uids = g_array_new (FALSE, FALSE, sizeof (guint64));
      scan->vcpu_order = g_array_new (FALSE, FALSE, sizeof (int));
    }
  return self;
}

void
strata_machine_scan_free (StrataMachineScan *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->n_traces; i++)
    {
      TraceScan *scan = &self->traces[i];

      g_array_unref (scan->cpu_tid);
      g_hash_table_unref (scan->pid_of);
      g_hash_table_unref (scan->vcpu_of);
      g_hash_table_unref (scan->uid_of);
      g_array_unref (scan->guest_uids);
      g_array_unref (scan->vcpu_order);
    }
  g_free (self->traces);
  g_free (self);
}

/**
 * strata_machine_scan_get_kinds:
 *
 * Returns: (array length=n_kinds): the event kinds the scan needs besides
 *   the sync events
 */
const StrataEventKind *
strata_machine_scan_get_kinds (guint *n_kinds)
{
  *n_kinds = G_N_ELEMENTS (scan_kinds);
  return scan_kinds;
}

static int
cpu_tid (TraceScan *scan,
         guint      cpu)
{
  if (cpu >= scan->cpu_tid->len)
    return -1;
  return g_array_index (scan->cpu_tid, int, cpu);
}

static void
set_cpu_tid (TraceScan *scan,
             guint      cpu,
             int        tid)
{
  int unknown = -1;

  while (scan->cpu_tid->len <= cpu)
    g_array_append_val (scan->cpu_tid, unknown);
  g_array_index (scan->cpu_tid, int, cpu) = tid;
}

static void
add_uid (GArray  *uids,
         guint64  uid)
{
  for (guint i = 0; i < uids->len; i++)
    if (g_array_index (uids, guint64, i) == uid)
      return;
  g_array_append_val (uids, uid);
}

/**
 * strata_machine_scan_observe:
 *
 * A #StrataSyncObserveFunc: learns from one batch of a trace. Called on
 * the trace's reader thread; each trace has its own data.
 */
void
strata_machine_scan_observe (guint                   trace_index,
                             const StrataEventBatch *batch,
                             gpointer                user_data)
{
  StrataMachineScan *self = user_data;
  TraceScan *scan;

  g_return_if_fail (trace_index < self->n_traces);
  scan = &self->traces[trace_index];

  for (guint i = 0; i < batch->n_events; i++)
    {
      const StrataEvent *ev = &batch->events[i];
      int tid;

      switch ((StrataEventKind) ev->kind)
        {
        case STRATA_EVENT_SCHED_SWITCH:
          set_cpu_tid (scan, ev->cpu, (int) ev->v[3]);
          break;

        case STRATA_EVENT_SCHED_PROCESS_FORK:
          g_hash_table_insert (scan->pid_of, GINT_TO_POINTER ((int) ev->v[2]), GINT_TO_POINTER ((int) ev->v[3]));
          break;

        case STRATA_EVENT_STATEDUMP_PROCESS_STATE:
          g_hash_table_insert (scan->pid_of, GINT_TO_POINTER ((int) ev->v[0]), GINT_TO_POINTER ((int) ev->v[1]));
          /* Status 6: running, on the CPU the event gives (2.10+) */
          if (ev->v[6] == 6 && ev->v[7] != STRATA_VALUE_ABSENT && ev->v[7] >= 0 && ev->v[7] < 65536
              && cpu_tid (scan, (guint) ev->v[7]) < 0)
            set_cpu_tid (scan, (guint) ev->v[7], (int) ev->v[0]);
          break;

        case STRATA_EVENT_KVM_ENTRY:
          tid = cpu_tid (scan, ev->cpu);
          if (tid > 0 && ev->v[0] >= 0 && ev->v[0] < 4096
              && !g_hash_table_contains (scan->vcpu_of, GINT_TO_POINTER (tid)))
            {
              g_hash_table_insert (scan->vcpu_of, GINT_TO_POINTER (tid), GINT_TO_POINTER ((int) ev->v[0] + 1));
              g_array_append_val (scan->vcpu_order, tid);
            }
          break;

        case STRATA_EVENT_VMSYNC_GH_HOST:
        case STRATA_EVENT_VMSYNC_HG_HOST:
          tid = cpu_tid (scan, ev->cpu);
          if (tid > 0 && !g_hash_table_contains (scan->uid_of, GINT_TO_POINTER (tid)))
            {
              guint64 *uid = g_new (guint64, 1);

              *uid = (guint64) ev->v[1];
              g_hash_table_insert (scan->uid_of, GINT_TO_POINTER (tid), uid);
            }
          break;

        case STRATA_EVENT_VMSYNC_GH_GUEST:
        case STRATA_EVENT_VMSYNC_HG_GUEST:
          add_uid (scan->guest_uids, (guint64) ev->v[1]);
          break;

        default:
          break;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* The plan                                                               */
/* ---------------------------------------------------------------------- */

/* A VM found on a machine that runs guests: the vCPU threads of one QEMU
 * process (or, when processes are not known, of one vm_uid). */
typedef struct
{
  int      host_node;
  int      qemu_pid;
  guint64  vm_uid;
  GArray  *vcpu_tids;
} VmGroup;

static void
planned_machine_clear (gpointer data)
{
  StrataPlannedMachine *m = data;

  g_free (m->name);
  g_free (m->hostname);
  g_clear_pointer (&m->vcpu_tids, g_array_unref);
}

static void
set_vcpu_tid (GArray *tids,
              guint   vcpu,
              int     tid)
{
  int unknown = -1;

  while (tids->len <= vcpu)
    g_array_append_val (tids, unknown);
  if (g_array_index (tids, int, vcpu) < 0)
    g_array_index (tids, int, vcpu) = tid;
}

static GPtrArray *
scan_groups (TraceScan *scan,
             int        host_node)
{
  GPtrArray *groups = g_ptr_array_new ();

  for (guint i = 0; i < scan->vcpu_order->len; i++)
    {
      int tid = g_array_index (scan->vcpu_order, int, i);
      int vcpu = GPOINTER_TO_INT (g_hash_table_lookup (scan->vcpu_of, GINT_TO_POINTER (tid))) - 1;
      gpointer pid_p;
      int pid = g_hash_table_lookup_extended (scan->pid_of, GINT_TO_POINTER (tid), NULL, &pid_p)
                ? GPOINTER_TO_INT (pid_p) : -1;
      const guint64 *uid_p = g_hash_table_lookup (scan->uid_of, GINT_TO_POINTER (tid));
      guint64 uid = uid_p != NULL ? *uid_p : 0;
      VmGroup *group = NULL;

      for (guint k = 0; k < groups->len && group == NULL; k++)
        {
          VmGroup *g = g_ptr_array_index (groups, k);

          if (pid >= 0 ? g->qemu_pid == pid : (uid != 0 && g->qemu_pid < 0 && g->vm_uid == uid))
            group = g;
        }
      if (group == NULL)
        {
          group = g_new0 (VmGroup, 1);
          group->host_node = host_node;
          group->qemu_pid = pid;
          group->vcpu_tids = g_array_new (FALSE, FALSE, sizeof (int));
          g_ptr_array_add (groups, group);
        }
      if (group->vm_uid == 0)
        group->vm_uid = uid;
      set_vcpu_tid (group->vcpu_tids, (guint) vcpu, tid);
    }

  return groups;
}

static gboolean
has_uid (GArray  *uids,
         guint64  uid)
{
  for (guint i = 0; i < uids->len; i++)
    if (g_array_index (uids, guint64, i) == uid)
      return TRUE;
  return FALSE;
}

/* The trace a user names: by path (as given or canonical), by the end
 * of its path, or by host name */
static int
find_trace (const StrataSyncResult *sync,
            const char             *spec)
{
  g_autofree char *canonical = g_canonicalize_filename (spec, NULL);
  g_autofree char *suffix = g_strconcat ("/", spec, NULL);
  int by_host = -1;
  guint n_by_host = 0;

  for (guint i = 0; i < strata_sync_result_get_n_traces (sync); i++)
    {
      const StrataSyncTrace *st = strata_sync_result_get_trace (sync, i);

      if (g_strcmp0 (st->path, spec) == 0 || g_strcmp0 (st->path, canonical) == 0
          || g_str_has_suffix (st->path, suffix))
        return (int) i;
      if (g_strcmp0 (st->hostname, spec) == 0)
        {
          by_host = (int) i;
          n_by_host++;
        }
    }
  return n_by_host == 1 ? by_host : -1;
}

static char *
unique_name (GArray     *nodes,
             const char *wanted)
{
  char *name = g_strdup (wanted);

  for (guint n = 2;; n++)
    {
      gboolean taken = FALSE;

      for (guint i = 0; i < nodes->len && !taken; i++)
        taken = g_strcmp0 (g_array_index (nodes, StrataPlannedMachine, i).name, name) == 0;
      if (!taken)
        return name;
      g_free (name);
      name = g_strdup_printf ("%s-%u", wanted, n);
    }
}

/**
 * strata_machine_scan_make_plan:
 * @sync: what pass 1 found (host names, which traces could be read)
 * @locations: (element-type StrataTraceLocation) (nullable): the traces'
 *   locations, by index, for their domain: user-space traces are not
 *   fused
 * @overrides: (array length=n_overrides) (nullable): roles the user gave,
 *   which win over what the events say
 * @error: where to say that an override names no trace
 *
 * Returns: (transfer full): the machines, hosts first, or %NULL with
 *   @error set
 */
StrataMachinePlan *
strata_machine_scan_make_plan (StrataMachineScan         *self,
                               const StrataSyncResult    *sync,
                               GPtrArray                 *locations,
                               const StrataRoleOverride  *overrides,
                               guint                      n_overrides,
                               GError                   **error)
{
  StrataMachinePlan *plan = g_new0 (StrataMachinePlan, 1);
  g_autoptr(GArray) nodes = g_array_new (FALSE, TRUE, sizeof (StrataPlannedMachine));
  g_autoptr(GArray) parent_of = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) new_index = NULL;
  g_autofree int *trace_node = g_new (int, MAX (self->n_traces, 1));
  guint n_traces = MIN (self->n_traces, strata_sync_result_get_n_traces (sync));

  g_autofree int *forced_host_of = g_new (int, MAX (self->n_traces, 1));
  g_autofree int *forced_pid = g_new (int, MAX (self->n_traces, 1));
  g_autofree gboolean *forced_root = g_new0 (gboolean, MAX (self->n_traces, 1));

  plan->problems = g_ptr_array_new_with_free_func (g_free);
  plan->trace_machine = g_array_new (FALSE, FALSE, sizeof (int));

  /* The roles the user gave */
  for (guint t = 0; t < self->n_traces; t++)
    {
      forced_host_of[t] = -1;
      forced_pid[t] = -1;
    }
  for (guint i = 0; i < n_overrides; i++)
    {
      int t = find_trace (sync, overrides[i].trace);
      int h = overrides[i].host != NULL ? find_trace (sync, overrides[i].host) : -1;

      if (t < 0 || (overrides[i].host != NULL && h < 0) || t == h)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "Role of %s: %s is none of the traces found (give a trace folder or a host name)",
                       overrides[i].trace, t < 0 ? overrides[i].trace : overrides[i].host);
          strata_machine_plan_free (plan);
          return NULL;
        }
      if (h < 0)
        forced_root[t] = TRUE;
      else
        {
          forced_host_of[t] = h;
          forced_pid[t] = overrides[i].qemu_pid;
        }
    }

  /* A node per kernel trace that could be read */
  for (guint t = 0; t < self->n_traces; t++)
    {
      const StrataSyncTrace *st = t < n_traces ? strata_sync_result_get_trace (sync, t) : NULL;
      const char *hint = NULL;
      StrataPlannedMachine m = { 0 };
      int none = -1;

      trace_node[t] = -1;
      if (locations != NULL && t < locations->len)
        {
          const StrataTraceLocation *loc = g_ptr_array_index (locations, t);

          hint = loc != NULL ? loc->domain_hint : NULL;
        }
      if (st == NULL || !st->read_ok || g_strcmp0 (hint, "ust") == 0)
        continue;

      m.hostname = g_strdup (st->hostname != NULL ? st->hostname : "");
      if (m.hostname[0] != '\0')
        m.name = unique_name (nodes, m.hostname);
      else
        {
          g_autofree char *base = g_path_get_basename (st->path);

          m.name = unique_name (nodes, g_str_equal (base, "kernel") ? "machine" : base);
        }
      m.kind = STRATA_MACHINE_HOST;
      m.parent = -1;
      m.trace = (int) t;
      m.qemu_pid = -1;
      m.vcpu_tids = g_array_new (FALSE, FALSE, sizeof (int));
      trace_node[t] = (int) nodes->len;
      g_array_append_val (nodes, m);
      g_array_append_val (parent_of, none);
    }

  /* The VMs each machine runs, tied to the guest traces by vm_uid */
  for (guint t = 0; t < self->n_traces; t++)
    {
      g_autoptr(GPtrArray) groups = NULL;

      if (trace_node[t] < 0)
        continue;
      groups = scan_groups (&self->traces[t], trace_node[t]);
      for (guint k = 0; k < groups->len; k++)
        {
          VmGroup *g = g_ptr_array_index (groups, k);
          int guest = -1;
          guint n_found = 0;

          for (guint u = 0; u < self->n_traces && g->vm_uid != 0; u++)
            if (u != t && trace_node[u] >= 0 && !forced_root[u] && forced_host_of[u] < 0
                && has_uid (self->traces[u].guest_uids, g->vm_uid))
              {
                guest = trace_node[u];
                n_found++;
              }

          /* A guest the user tied to this host: to its QEMU process, or
           * to the first VM no one else claims */
          for (guint u = 0; u < self->n_traces; u++)
            if (forced_host_of[u] == (int) t && trace_node[u] >= 0
                && g_array_index (parent_of, int, trace_node[u]) < 0
                && (forced_pid[u] < 0 ? TRUE : forced_pid[u] == g->qemu_pid))
              {
                guest = trace_node[u];
                n_found = 1;
                break;
              }

          if (n_found > 1)
            {
              g_ptr_array_add (plan->problems,
                               g_strdup_printf ("%u traces say they are the guest with vm_uid %" G_GUINT64_FORMAT
                                                ": none of them is tied to the VM of %s",
                                                n_found, g->vm_uid,
                                                g_array_index (nodes, StrataPlannedMachine, g->host_node).name));
              guest = -1;
            }
          if (guest >= 0 && g_array_index (parent_of, int, guest) >= 0)
            guest = -1;   /* already claimed by another VM */

          if (guest < 0)
            {
              StrataPlannedMachine m = { 0 };
              g_autofree char *wanted = g->qemu_pid >= 0 ? g_strdup_printf ("qemu-%d", g->qemu_pid)
                                                         : g_strdup ("vm");

              m.name = unique_name (nodes, wanted);
              m.hostname = g_strdup ("");
              m.trace = -1;
              m.vcpu_tids = g_array_new (FALSE, FALSE, sizeof (int));
              guest = (int) nodes->len;
              g_array_append_val (nodes, m);
              g_array_append_val (parent_of, g->host_node);
            }

          {
            StrataPlannedMachine *m = &g_array_index (nodes, StrataPlannedMachine, guest);

            m->kind = STRATA_MACHINE_VM;
            m->vm_uid = g->vm_uid;
            m->qemu_pid = g->qemu_pid;
            g_array_unref (m->vcpu_tids);
            m->vcpu_tids = g_array_ref (g->vcpu_tids);
            g_array_index (parent_of, int, guest) = g->host_node;
          }
          g_array_unref (g->vcpu_tids);
          g_free (g);
        }
    }

  /* Guests the user tied to a host whose events show no VM for them:
   * tied all the same, their vCPUs not placed on physical CPUs */
  for (guint t = 0; t < self->n_traces; t++)
    if (forced_host_of[t] >= 0 && trace_node[t] >= 0 && g_array_index (parent_of, int, trace_node[t]) < 0
        && trace_node[forced_host_of[t]] >= 0)
      {
        StrataPlannedMachine *m = &g_array_index (nodes, StrataPlannedMachine, trace_node[t]);

        m->kind = STRATA_MACHINE_VM;
        m->qemu_pid = forced_pid[t];
        g_array_index (parent_of, int, trace_node[t]) = trace_node[forced_host_of[t]];
        g_ptr_array_add (plan->problems,
                         g_strdup_printf ("%s: tied to %s as asked, but no thread of %s runs its vCPUs: "
                                          "its events are not placed on physical CPUs",
                                          m->name,
                                          g_array_index (nodes, StrataPlannedMachine, trace_node[forced_host_of[t]]).name,
                                          g_array_index (nodes, StrataPlannedMachine, trace_node[forced_host_of[t]]).name));
      }

  /* Guests whose host was not found stand on their own */
  for (guint t = 0; t < self->n_traces; t++)
    if (trace_node[t] >= 0 && g_array_index (parent_of, int, trace_node[t]) < 0
        && self->traces[t].guest_uids->len > 0)
      g_ptr_array_add (plan->problems,
                       g_strdup_printf ("%s: a guest (vm_uid %" G_GUINT64_FORMAT ") that no trace of the "
                                        "experiment runs: shown as a machine of its own",
                                        g_array_index (nodes, StrataPlannedMachine, trace_node[t]).name,
                                        g_array_index (self->traces[t].guest_uids, guint64, 0)));

  /* Hosts first, then each VM after its parent. A cycle (two traces each
   * claiming to run the other) is broken: its first member becomes a host. */
  new_index = g_array_new (FALSE, FALSE, sizeof (int));
  g_array_set_size (new_index, nodes->len);
  for (guint i = 0; i < nodes->len; i++)
    g_array_index (new_index, int, i) = -1;
  for (guint pass = 0; order->len < nodes->len; pass++)
    {
      guint before = order->len;

      for (guint i = 0; i < nodes->len; i++)
        {
          int p = g_array_index (parent_of, int, i);

          if (g_array_index (new_index, int, i) >= 0)
            continue;
          if (p < 0 || g_array_index (new_index, int, p) >= 0)
            {
              int idx = (int) order->len;

              g_array_index (new_index, int, i) = idx;
              g_array_append_val (order, i);
            }
        }
      if (order->len == before)
        {
          for (guint i = 0; i < nodes->len; i++)
            if (g_array_index (new_index, int, i) < 0)
              {
                g_ptr_array_add (plan->problems,
                                 g_strdup_printf ("%s: its hosts form a cycle: taken as a physical host",
                                                  g_array_index (nodes, StrataPlannedMachine, i).name));
                g_array_index (parent_of, int, i) = -1;
                g_array_index (nodes, StrataPlannedMachine, i).kind = STRATA_MACHINE_HOST;
                break;
              }
        }
    }

  plan->machines = g_array_new (FALSE, TRUE, sizeof (StrataPlannedMachine));
  g_array_set_clear_func (plan->machines, planned_machine_clear);
  for (guint k = 0; k < order->len; k++)
    {
      int i = g_array_index (order, int, k);
      StrataPlannedMachine m = g_array_index (nodes, StrataPlannedMachine, i);
      int p = g_array_index (parent_of, int, i);

      m.parent = p >= 0 ? g_array_index (new_index, int, p) : -1;
      m.layer = m.parent >= 0 ? g_array_index (plan->machines, StrataPlannedMachine, m.parent).layer + 1 : 0;
      if (m.trace >= 0 && (guint) m.trace < self->n_traces)
        m.n_cpus = self->traces[m.trace].cpu_tid->len;
      if (m.kind == STRATA_MACHINE_VM)
        m.n_cpus = MAX (m.n_cpus, m.vcpu_tids->len);
      g_array_append_val (plan->machines, m);
    }

  for (guint t = 0; t < self->n_traces; t++)
    {
      int machine = trace_node[t] >= 0 ? g_array_index (new_index, int, trace_node[t]) : -1;

      g_array_append_val (plan->trace_machine, machine);
    }

  return plan;
}

void
strata_machine_plan_free (StrataMachinePlan *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->machines, g_array_unref);
  g_clear_pointer (&self->trace_machine, g_array_unref);
  g_clear_pointer (&self->problems, g_ptr_array_unref);
  g_free (self);
}

const StrataPlannedMachine *
strata_machine_plan_get (const StrataMachinePlan *self,
                         guint                    index)
{
  g_return_val_if_fail (index < self->machines->len, NULL);
  return &g_array_index (self->machines, StrataPlannedMachine, index);
}

/**
 * strata_machine_plan_find_vcpu:
 * @parent: a machine
 * @tid: a thread of it
 * @vcpu: (out): the vCPU it runs
 *
 * Returns: the VM whose vCPU thread @tid is, -1 when it is none
 */
int
strata_machine_plan_find_vcpu (const StrataMachinePlan *self,
                               int                      parent,
                               int                      tid,
                               int                     *vcpu)
{
  for (guint i = 0; i < self->machines->len; i++)
    {
      const StrataPlannedMachine *m = &g_array_index (self->machines, StrataPlannedMachine, i);

      if (m->parent != parent)
        continue;
      for (guint v = 0; v < m->vcpu_tids->len; v++)
        if (g_array_index (m->vcpu_tids, int, v) == tid)
          {
            *vcpu = (int) v;
            return (int) i;
          }
    }
  return -1;
}
