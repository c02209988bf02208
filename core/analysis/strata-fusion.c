/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-fusion"

#include "config.h"

#include <string.h>

#include "strata-analysis-private.h"
#include "strata-fusion.h"

/*
 * The fused state provider: the kernel state of every machine, and what
 * every physical CPU really executes.
 *
 * Events of every trace arrive here in synchronized time. Each machine has
 * its own kernel state (threads, each CPU's current thread, system calls,
 * interrupts); a guest's CPUs are its vCPUs. A physical CPU executes its
 * current thread, unless that thread is a vCPU thread in guest mode: then
 * it executes the vCPU's current thread, and so on down (the paper's
 * Algorithm 2, done by walking the chain instead of moving state around:
 * a guest event needs no pCPU to be handled, so none is ever dropped).
 *
 * Nested guests (Algorithms 4–7): every L2 entry and exit traps to L0.
 * An L0 thread running an L1 vCPU is *waiting* once L1 asks to enter L2
 * (L1's kvm_entry, or L0's VMLAUNCH/VMRESUME exit), *ready* after L0 sets
 * up the L2 guest (kvm_mmu_get_page); while ready, its guest mode runs L2
 * and its exits are L2's, until kvm_nested_vmexit_inject hands one to L1.
 *
 * After each event the CPUs, vCPUs and threads it may have changed are
 * recomputed from that model, and written to the SHT only when their
 * value changed.
 */

#define MAX_NS_LEVELS 8
#define MAX_IRQ_DEPTH 8

/* VMX exits that mean L1 enters its L2; SVM's VMRUN */
#define VMX_EXIT_HLT       12
#define VMX_EXIT_VMLAUNCH  20
#define VMX_EXIT_VMRESUME  24
#define SVM_EXIT_HLT       0x078
#define SVM_EXIT_VMRUN     0x080

/* Log-linear histogram of latencies: 16 steps per power of two */
#define HIST_SUB   16
#define HIST_BINS  (64 * HIST_SUB)
#define MAX_LAYERS 4

typedef struct _FMachine FMachine;
typedef struct _FCpu     FCpu;
typedef struct _FThread  FThread;

typedef enum
{
  RUN_UNKNOWN,
  RUN_RUNNING,
  RUN_WAIT_CPU,
  RUN_BLOCKED,
  RUN_DEAD,
} Run;

struct _FThread
{
  guint32   index;
  FMachine *m;
  gint64    created_t;
  int       tid;
  int       pid;
  int       ppid;
  Run       run;
  gboolean  in_syscall;
  gboolean  is_idle;
  gboolean  is_kthread;         /* a kernel thread: never in user space */
  const char *syscall;          /* Borrowed from the fusion's strings */
  FCpu     *cpu;                /* where it runs or last ran */

  guint     ns_levels;
  guint32   ns_inum[MAX_NS_LEVELS];
  gint32    ns_vtid[MAX_NS_LEVELS];

  /* A vCPU thread: the guest CPU it runs, and where it is */
  FCpu     *vcpu;
  gboolean  in_guest;
  gboolean  waiting;            /* its L1 asked to enter L2 */
  gboolean  ready;              /* its guest mode runs L2 */
  gboolean  nested_exit;        /* handling an exit of that L2 */

  guint32   q_info;
  guint32   q_comm;
  guint32   q_status;
  guint32   q_syscall;
  int       status_written;
  char     *info_written;
  char      comm[24];
  gboolean  dirty;

  /* Statistics */
  gboolean  seen_in;            /* switched in at least once */
  gint64    run_since;
  guint64   cpu_ns;             /* on a CPU of its own machine */
  guint64   real_ns;            /* really executing on a physical CPU */
  gint64    woken_at;           /* -1: not waiting since a wakeup */
  gint64    real_woken_at;
};

typedef struct
{
  guint64 count;
  guint64 sum_ns;
  gint64  max_ns;
  guint64 bins[HIST_BINS];
} Histogram;

struct _FCpu
{
  FMachine *m;
  guint     id;
  FThread  *curr;               /* NULL: not known */
  FThread  *idle;
  guint     irq_depth;
  guint8    irq_kind[MAX_IRQ_DEPTH];
  gint64    known_since;        /* first time its current thread was known, -1 */

  /* A physical CPU */
  guint32   q_fused;
  gint64    fused;
  gboolean  fused_valid;
  gint64    fused_since;
  guint64  *fused_ns;           /* by machine × status */
  gboolean  pcpu_dirty;

  /* A vCPU */
  FThread  *thread;             /* its hypervisor's thread */
  guint32   q_state;
  guint32   q_host_tid;
  gint64    state;
  gboolean  state_valid;
  gint64    state_since;
  int       last_exit;
  guint     last_isa;
  gboolean  vcpu_dirty;
  guint64   state_ns[STRATA_N_VCPU_STATES];
  GHashTable *exits;            /* reason | isa << 16 → guint64 count */
  guint64   n_exits;
  gint64    executing_until;    /* last time it stopped executing */
  gint64    wake_chain_start;   /* its thread was woken from idle then, -1 */
  guint64   suspects;
  gint64    suspect_first;
};

typedef struct
{
  guint32   inum;
  guint     level;
  guint32   parent_inum;
  GPtrArray *members;           /* FThread, borrowed: filled for the summary */
} FNamespace;

struct _FMachine
{
  guint      index;
  StrataPlannedMachine plan;    /* Borrowed strings */
  FMachine  *parent;
  GPtrArray *cpus;              /* FCpu, owned */
  GHashTable *threads;          /* tid → FThread (borrowed from fusion->threads) */
  GHashTable *namespaces;       /* inum → FNamespace, owned */
  gint64     tolerance;
  guint64    n_events;
  guint64    outside;           /* guest events outside its vCPU's entry windows */
  guint64    lost;
  gint64     first_t;           /* its first and last events, -1 before */
  gint64     last_t;
  guint32    q_machine;
  guint32    q_cpus;
};

struct _StrataFusion
{
  StrataSht     *sht;           /* Borrowed */
  const StrataMachinePlan *plan;/* Borrowed */
  gint64         start;
  gint64         now;
  FMachine      *machines;
  guint          n_machines;
  GPtrArray     *threads;       /* FThread, owned, by index */
  GStringChunk  *strings;
  guint32        q_threads;

  GPtrArray     *dirty_vcpus;
  GPtrArray     *dirty_threads;
  GPtrArray     *dirty_pcpus;

  Histogram      wakeup[MAX_LAYERS];       /* as the thread's kernel sees it */
  Histogram      real_wakeup[MAX_LAYERS];  /* until it really executes */
};

/* ---------------------------------------------------------------------- */
/* Model                                                                  */
/* ---------------------------------------------------------------------- */

static void
cpu_free (gpointer data)
{
  FCpu *c = data;

  g_clear_pointer (&c->exits, g_hash_table_unref);
  g_free (c->fused_ns);
  g_free (c);
}

static void
namespace_free (gpointer data)
{
  FNamespace *ns = data;

  g_ptr_array_unref (ns->members);
  g_free (ns);
}

static void
thread_free (gpointer data)
{
  FThread *t = data;

  g_free (t->info_written);
  g_free (t);
}

static void
mark_thread (StrataFusion *self,
             FThread      *t)
{
  if (t != NULL && !t->dirty && !t->is_idle)
    {
      t->dirty = TRUE;
      g_ptr_array_add (self->dirty_threads, t);
    }
}

static void
mark_vcpu (StrataFusion *self,
           FCpu         *v)
{
  if (v != NULL && v->m->plan.layer > 0 && !v->vcpu_dirty)
    {
      v->vcpu_dirty = TRUE;
      g_ptr_array_add (self->dirty_vcpus, v);
    }
}

static void
mark_pcpu (StrataFusion *self,
           FCpu         *p)
{
  if (p != NULL && p->m->plan.layer == 0 && !p->pcpu_dirty)
    {
      p->pcpu_dirty = TRUE;
      g_ptr_array_add (self->dirty_pcpus, p);
    }
}

/* The vCPUs below @t: the one it runs, the one that one's current thread
 * runs, and so on. */
static void
mark_chain (StrataFusion *self,
            FThread      *t)
{
  for (guint guard = 0; t != NULL && t->vcpu != NULL && guard < MAX_LAYERS; guard++)
    {
      mark_vcpu (self, t->vcpu);
      mark_thread (self, t->vcpu->curr);
      t = t->vcpu->curr;
    }
}

/* The physical CPU that executes @c's machine code now, if any. */
static FCpu *
top_pcpu (FCpu *c)
{
  for (guint guard = 0; c != NULL && guard < MAX_LAYERS; guard++)
    {
      FThread *t;

      if (c->m->plan.layer == 0)
        return c;
      t = c->thread;
      if (t == NULL || t->run != RUN_RUNNING || t->cpu == NULL || t->cpu->curr != t)
        return NULL;
      c = t->cpu;
    }
  return NULL;
}

/* Everything an event on @c may have changed */
static void
mark_cpu (StrataFusion *self,
          FCpu         *c)
{
  mark_pcpu (self, top_pcpu (c));
  mark_vcpu (self, c);
  mark_thread (self, c->curr);
  mark_chain (self, c->curr);
}

static FThread *
thread_new (StrataFusion *self,
            FMachine     *m,
            int           tid,
            const char   *comm,
            gint64        t)
{
  FThread *th = g_new0 (FThread, 1);
  g_autofree char *name = NULL;
  guint32 q;

  th->index = self->threads->len;
  th->m = m;
  th->created_t = t;
  th->tid = tid;
  th->pid = -1;
  th->ppid = -1;
  th->woken_at = -1;
  th->real_woken_at = -1;
  th->status_written = -1;
  g_strlcpy (th->comm, comm != NULL ? comm : "", sizeof th->comm);
  g_ptr_array_add (self->threads, th);

  name = g_strdup_printf ("%u", th->index);
  q = strata_sht_quark_get (self->sht, self->q_threads, name);
  th->q_info = strata_sht_quark_get (self->sht, q, "Info");
  th->q_comm = strata_sht_quark_get (self->sht, q, "Comm");
  th->q_status = strata_sht_quark_get (self->sht, q, "Status");
  th->q_syscall = strata_sht_quark_get (self->sht, q, "Syscall");
  strata_sht_modify_string (self->sht, th->q_comm, t, th->comm);
  return th;
}

static void
write_info (StrataFusion *self,
            FThread      *th,
            gint64        t)
{
  g_autofree char *info = NULL;
  guint inner = th->ns_levels > 1 ? th->ns_levels - 1 : 0;

  if (inner > 0)
    info = g_strdup_printf ("%u\t%d\t%d\t%d\t%d\t%u", th->m->index, th->tid, th->pid, th->ppid,
                            th->ns_vtid[inner], th->ns_inum[inner]);
  else
    info = g_strdup_printf ("%u\t%d\t%d\t%d\t-\t-", th->m->index, th->tid, th->pid, th->ppid);
  if (g_strcmp0 (info, th->info_written) == 0)
    return;
  strata_sht_modify_string (self->sht, th->q_info, t, info);
  g_free (th->info_written);
  th->info_written = g_steal_pointer (&info);
}

static void
bind_vcpu (StrataFusion *self,
           FThread      *th,
           FCpu         *v,
           gint64        t)
{
  if (v->thread != NULL && v->thread != th)
    v->thread->vcpu = NULL;
  th->vcpu = v;
  v->thread = th;
  strata_sht_modify (self->sht, v->q_host_tid, t, STRATA_SHT_INT32 (th->tid));
  mark_vcpu (self, v);
}

static FCpu *ensure_cpu (StrataFusion *self, FMachine *m, guint id, gint64 t);

/* The thread @tid of @m, made when first met. */
static FThread *
get_thread (StrataFusion *self,
            FMachine     *m,
            FCpu         *c,
            int           tid,
            const char   *comm,
            gint64        t)
{
  FThread *th;

  if (tid == 0 && c != NULL)
    return c->idle;

  th = g_hash_table_lookup (m->threads, GINT_TO_POINTER (tid));
  if (th == NULL)
    {
      int vcpu;
      int vm;

      th = thread_new (self, m, tid, comm, t);
      g_hash_table_insert (m->threads, GINT_TO_POINTER (tid), th);
      write_info (self, th, t);

      vm = strata_machine_plan_find_vcpu (self->plan, (int) m->index, tid, &vcpu);
      if (vm >= 0)
        bind_vcpu (self, th, ensure_cpu (self, &self->machines[vm], (guint) vcpu, t), t);
    }
  else if (comm != NULL && comm[0] != '\0' && strncmp (th->comm, comm, sizeof th->comm - 1) != 0)
    {
      g_strlcpy (th->comm, comm, sizeof th->comm);
      strata_sht_modify_string (self->sht, th->q_comm, t, th->comm);
    }
  return th;
}

static FCpu *
ensure_cpu (StrataFusion *self,
            FMachine     *m,
            guint         id,
            gint64        t)
{
  while (m->cpus->len <= id)
    {
      FCpu *c = g_new0 (FCpu, 1);
      g_autofree char *name = g_strdup_printf ("%u", m->cpus->len);
      g_autofree char *comm = g_strdup_printf ("swapper/%u", m->cpus->len);
      guint32 q;

      c->m = m;
      c->id = m->cpus->len;
      c->known_since = -1;
      c->last_exit = -1;
      c->wake_chain_start = -1;
      c->executing_until = t;
      c->idle = thread_new (self, m, 0, comm, t);
      c->idle->is_idle = TRUE;
      c->idle->cpu = c;
      c->idle->run = RUN_RUNNING;
      write_info (self, c->idle, t);
      q = strata_sht_quark_get (self->sht, m->q_cpus, name);
      if (m->plan.layer == 0)
        {
          c->q_fused = strata_sht_quark_get (self->sht, q, "Fused");
          c->fused_ns = g_new0 (guint64, (gsize) self->n_machines * STRATA_N_CPU_STATUSES);
          c->fused_since = t;
        }
      else
        {
          c->q_state = strata_sht_quark_get (self->sht, q, "State");
          c->q_host_tid = strata_sht_quark_get (self->sht, q, "HostTid");
          c->exits = g_hash_table_new_full (NULL, NULL, NULL, g_free);
          c->state_since = t;
        }
      g_ptr_array_add (m->cpus, c);
      mark_cpu (self, c);
    }
  return g_ptr_array_index (m->cpus, id);
}

static void
set_curr (FCpu    *c,
          FThread *th,
          gint64   t)
{
  c->curr = th;
  if (th != NULL && c->known_since < 0)
    c->known_since = t;
}

/* ---------------------------------------------------------------------- */
/* Computing states                                                       */
/* ---------------------------------------------------------------------- */

static StrataVcpuState
vcpu_state (FCpu *v,
            int  *pcpu,
            guint depth)
{
  FThread *th = v->thread;
  FCpu *c;
  FThread *t0;
  StrataVcpuState below;

  *pcpu = -1;
  if (th == NULL || depth > MAX_LAYERS)
    return STRATA_VCPU_UNKNOWN;
  switch (th->run)
    {
    case RUN_BLOCKED:
      return STRATA_VCPU_IDLE;
    case RUN_WAIT_CPU:
      return STRATA_VCPU_PREEMPTED;
    case RUN_RUNNING:
      break;
    case RUN_DEAD:
    case RUN_UNKNOWN:
    default:
      return STRATA_VCPU_UNKNOWN;
    }

  c = th->cpu;
  if (c == NULL || c->curr != th)
    return STRATA_VCPU_UNKNOWN;
  if (!th->in_guest || c->irq_depth > 0)
    return STRATA_VCPU_VMM;
  if (c->m->plan.layer == 0)
    {
      *pcpu = (int) c->id;
      return STRATA_VCPU_RUNNING;
    }

  /* A nested guest: it runs only while L0 runs its L1 vCPU's L2 */
  t0 = c->thread;
  if (t0 != NULL && t0->run == RUN_RUNNING && t0->cpu != NULL && t0->cpu->curr == t0
      && (!t0->in_guest || !t0->ready))
    return STRATA_VCPU_VMM;
  below = vcpu_state (c, pcpu, depth + 1);
  if (below == STRATA_VCPU_RUNNING || below == STRATA_VCPU_VMM || below == STRATA_VCPU_UNKNOWN)
    return below;
  *pcpu = -1;
  return STRATA_VCPU_PREEMPTED;
}

static gint64
resolve (StrataFusion *self,
         FCpu         *c,
         FThread      *parent_thread,
         guint         depth)
{
  FMachine *m = c->m;
  FThread *t = c->curr;
  int vcpu = m->plan.layer > 0 ? (int) c->id : -1;

  if (t == NULL)
    return _strata_fused_pack (0, m->index, vcpu, STRATA_CPU_UNKNOWN);
  if (c->irq_depth > 0)
    return _strata_fused_pack (t->index + 1, m->index, vcpu,
                               c->irq_kind[MIN (c->irq_depth, MAX_IRQ_DEPTH) - 1] == 2 ? STRATA_CPU_SOFTIRQ
                                                                                         : STRATA_CPU_IRQ);
  if (t->vcpu != NULL)
    {
      FCpu *v = t->vcpu;

      if (t->in_guest)
        {
          if ((parent_thread == NULL || parent_thread->ready) && depth < MAX_LAYERS)
            return resolve (self, v, t, depth + 1);
          return _strata_fused_pack (t->index + 1, v->m->index, (int) v->id, STRATA_CPU_VMM);
        }
      if (t->ready && t->nested_exit && v->curr != NULL && v->curr->vcpu != NULL)
        {
          FCpu *y = v->curr->vcpu;

          return _strata_fused_pack (t->index + 1, y->m->index, (int) y->id, STRATA_CPU_VMM);
        }
      return _strata_fused_pack (t->index + 1, v->m->index, (int) v->id, STRATA_CPU_VMM);
    }
  if (t->is_idle)
    return _strata_fused_pack (t->index + 1, m->index, vcpu, STRATA_CPU_IDLE);
  return _strata_fused_pack (t->index + 1, m->index, vcpu,
                             t->in_syscall || t->is_kthread ? STRATA_CPU_SYSCALL : STRATA_CPU_USER);
}

static StrataThreadStatus
thread_status (FThread *t)
{
  StrataThreadStatus base;
  int pcpu;

  switch (t->run)
    {
    case RUN_WAIT_CPU:
      return STRATA_THREAD_WAIT_CPU;
    case RUN_BLOCKED:
      return STRATA_THREAD_BLOCKED;
    case RUN_DEAD:
      return STRATA_THREAD_DEAD;
    case RUN_UNKNOWN:
      return STRATA_THREAD_UNKNOWN;
    case RUN_RUNNING:
    default:
      break;
    }

  if (t->cpu != NULL && t->cpu->irq_depth > 0)
    base = STRATA_THREAD_INTERRUPTED;
  else if (t->in_syscall || t->is_kthread || (t->vcpu != NULL && !t->in_guest))
    base = STRATA_THREAD_SYSCALL;
  else
    base = STRATA_THREAD_USER;

  if (t->m->plan.layer > 0 && t->cpu != NULL && t->cpu->curr == t)
    switch (vcpu_state (t->cpu, &pcpu, 0))
      {
      case STRATA_VCPU_VMM:
        return STRATA_THREAD_IN_HYPERVISOR;
      case STRATA_VCPU_PREEMPTED:
      case STRATA_VCPU_IDLE:
        return STRATA_THREAD_PREEMPTED_BY_HOST;
      case STRATA_VCPU_RUNNING:
      case STRATA_VCPU_UNKNOWN:
      default:
        break;
      }
  return base;
}

static void
hist_add (Histogram *h,
          gint64     ns)
{
  guint bin;

  if (ns < 0)
    return;
  h->count++;
  h->sum_ns += (guint64) ns;
  h->max_ns = MAX (h->max_ns, ns);
  if (ns < HIST_SUB)
    bin = (guint) ns;
  else
    {
      guint msb = 63 - (guint) __builtin_clzll ((unsigned long long) ns);
      guint sub = (guint) ((ns >> (msb - 4)) & (HIST_SUB - 1));

      bin = (msb - 3) * HIST_SUB + sub;
    }
  h->bins[MIN (bin, HIST_BINS - 1)]++;
}

static gint64
hist_bin_low (guint bin)
{
  guint msb;

  if (bin < HIST_SUB)
    return bin;
  msb = bin / HIST_SUB + 3;
  return (gint64) (((guint64) HIST_SUB + bin % HIST_SUB) << (msb - 4));
}

static gint64
hist_percentile (const Histogram *h,
                 double           p)
{
  guint64 rank = (guint64) (p * (double) h->count);
  guint64 seen = 0;

  for (guint b = 0; b < HIST_BINS; b++)
    {
      seen += h->bins[b];
      if (seen > rank)
        return MIN (hist_bin_low (b), h->max_ns);
    }
  return h->max_ns;
}

/* The time since @p's value last changed, up to @t: to the machine and
 * status it showed, and to its thread when that thread really ran */
static void
account_pcpu (StrataFusion *self,
              FCpu         *p,
              gint64        t)
{
  guint32 thread_plus_one;
  guint machine;
  int vcpu;
  StrataCpuStatus status;

  if (!p->fused_valid)
    return;
  _strata_fused_unpack (p->fused, &thread_plus_one, &machine, &vcpu, &status);
  if (machine < self->n_machines)
    p->fused_ns[machine * STRATA_N_CPU_STATUSES + status] += (guint64) (t - p->fused_since);
  if (thread_plus_one > 0 && status != STRATA_CPU_IDLE && status != STRATA_CPU_VMM
      && status != STRATA_CPU_UNKNOWN)
    ((FThread *) g_ptr_array_index (self->threads, thread_plus_one - 1))->real_ns += (guint64) (t - p->fused_since);
}

static void
flush (StrataFusion *self)
{
  gint64 t = self->now;

  for (guint i = 0; i < self->dirty_vcpus->len; i++)
    {
      FCpu *v = g_ptr_array_index (self->dirty_vcpus, i);
      int pcpu;
      StrataVcpuState state = vcpu_state (v, &pcpu, 0);
      gint64 value = _strata_vcpu_pack (state, v->last_exit, v->last_isa, pcpu);
      StrataVcpuState old_state;
      int old_exit, old_pcpu;
      guint old_isa;

      v->vcpu_dirty = FALSE;
      if (v->state_valid && v->state == value)
        continue;
      if (v->state_valid)
        {
          _strata_vcpu_unpack (v->state, &old_state, &old_exit, &old_isa, &old_pcpu);
          v->state_ns[old_state] += (guint64) (t - v->state_since);
          if (old_state == STRATA_VCPU_RUNNING && state != STRATA_VCPU_RUNNING)
            v->executing_until = t;
        }
      if (state == STRATA_VCPU_IDLE)
        v->wake_chain_start = -1;
      if (state == STRATA_VCPU_RUNNING && v->suspects > 0)
        {
          /* Guest events just before an entry: within the sync accuracy
           * they belong to it. */
          if (t - v->suspect_first > v->m->tolerance)
            v->m->outside += v->suspects;
          v->suspects = 0;
        }
      v->state = value;
      v->state_valid = TRUE;
      v->state_since = t;
      strata_sht_modify (self->sht, v->q_state, t, STRATA_SHT_INT64 (value));
      mark_thread (self, v->curr);
    }
  g_ptr_array_set_size (self->dirty_vcpus, 0);

  for (guint i = 0; i < self->dirty_threads->len; i++)
    {
      FThread *th = g_ptr_array_index (self->dirty_threads, i);
      int status = (int) thread_status (th);

      th->dirty = FALSE;
      if (status == th->status_written)
        continue;
      th->status_written = status;
      strata_sht_modify (self->sht, th->q_status, t, STRATA_SHT_INT32 (status));
    }
  g_ptr_array_set_size (self->dirty_threads, 0);

  for (guint i = 0; i < self->dirty_pcpus->len; i++)
    {
      FCpu *p = g_ptr_array_index (self->dirty_pcpus, i);
      gint64 value = resolve (self, p, NULL, 0);
      guint32 thread_plus_one;
      guint machine;
      int vcpu;
      StrataCpuStatus status;

      p->pcpu_dirty = FALSE;
      if (p->fused_valid && p->fused == value)
        continue;
      account_pcpu (self, p, t);
      _strata_fused_unpack (value, &thread_plus_one, &machine, &vcpu, &status);
      if (thread_plus_one > 0 && (status == STRATA_CPU_USER || status == STRATA_CPU_SYSCALL))
        {
          FThread *th = g_ptr_array_index (self->threads, thread_plus_one - 1);

          if (th->real_woken_at >= 0)
            {
              hist_add (&self->real_wakeup[MIN (th->m->plan.layer, MAX_LAYERS - 1)], t - th->real_woken_at);
              th->real_woken_at = -1;
            }
        }
      p->fused = value;
      p->fused_valid = TRUE;
      p->fused_since = t;
      strata_sht_modify (self->sht, p->q_fused, t, STRATA_SHT_INT64 (value));
    }
  g_ptr_array_set_size (self->dirty_pcpus, 0);
}

/* ---------------------------------------------------------------------- */
/* Events                                                                 */
/* ---------------------------------------------------------------------- */

/* Its CPU time ends. A thread never seen being switched in ran, as far
 * as the trace tells, since the machine's first event (as lttng-cputop
 * counts). */
static void
thread_stop_running (StrataFusion *self,
                     FThread      *th,
                     gint64        t)
{
  if (th->is_idle)
    return;
  if (!th->seen_in && th->m->first_t >= 0)
    th->cpu_ns += (guint64) (t - th->m->first_t);
  else if (th->run == RUN_RUNNING && th->run_since >= 0)
    th->cpu_ns += (guint64) (t - th->run_since);
  th->run_since = -1;
  th->seen_in = TRUE;
}

static Run
classify_prev_state (gint64 prev_state)
{
  gint64 s = prev_state & 1023;

  /* 0: preempted; TASK_REPORT_MAX (256, kernels ≥ 4.15) too */
  if (s == 0 || s == 256)
    return RUN_WAIT_CPU;
  if ((s & 3) == 0 && (s & (16 | 32 | 64)) != 0)
    return RUN_DEAD;
  return RUN_BLOCKED;
}

static void
handle_switch (StrataFusion      *self,
               FMachine          *m,
               FCpu              *c,
               const StrataEventBatch *batch,
               const StrataEvent *ev,
               gint64             t)
{
  FThread *prev = get_thread (self, m, c, (int) ev->v[0], strata_event_batch_get_string (batch, ev->h[0]), t);
  FThread *next = get_thread (self, m, c, (int) ev->v[3], strata_event_batch_get_string (batch, ev->h[1]), t);

  mark_cpu (self, c);
  mark_thread (self, prev);
  mark_chain (self, prev);

  if (!prev->is_idle && (prev->run == RUN_RUNNING || !prev->seen_in))
    thread_stop_running (self, prev, t);
  if (!prev->is_idle)
    {
      prev->run = classify_prev_state (ev->v[2]);
      if (prev->run == RUN_WAIT_CPU)
        {
          prev->woken_at = t;
          prev->real_woken_at = -1;
        }
    }
  if (prev->vcpu != NULL)
    {
      prev->in_guest = FALSE;
      prev->nested_exit = FALSE;
    }
  if (prev == c->curr || c->curr == NULL)
    c->irq_depth = 0;

  if (next->cpu != NULL && next->cpu != c && next->cpu->curr == next)
    {
      /* It was said to run elsewhere: that CPU no longer knows what runs */
      mark_cpu (self, next->cpu);
      next->cpu->curr = NULL;
    }
  /* vCPU threads run guests, not code of their own: their wake-ups are
   * the guest's, counted when the guest's thread runs */
  if (next->vcpu != NULL)
    {
      next->woken_at = -1;
      next->real_woken_at = -1;
    }
  if (!next->is_idle)
    {
      if (next->woken_at >= 0)
        hist_add (&self->wakeup[MIN (m->plan.layer, MAX_LAYERS - 1)], t - next->woken_at);
      if (next->woken_at >= 0 && next->real_woken_at < 0)
        next->real_woken_at = next->woken_at;
      /* The CPU's wake-up chain served its thread */
      if (next->woken_at >= 0)
        c->wake_chain_start = -1;
      next->woken_at = -1;
      next->run = RUN_RUNNING;
      next->run_since = t;
      next->seen_in = TRUE;
    }
  if (next->vcpu != NULL)
    {
      next->in_guest = FALSE;
      next->nested_exit = FALSE;
    }
  next->cpu = c;
  set_curr (c, next, t);
  mark_cpu (self, c);
  mark_thread (self, next);
  mark_chain (self, next);
}

static void
handle_wakeup (StrataFusion           *self,
               FMachine               *m,
               FCpu                   *c,
               const StrataEventBatch *batch,
               const StrataEvent      *ev,
               gint64                  t)
{
  FThread *th;

  if (ev->v[0] == 0)
    return;
  th = get_thread (self, m, NULL, (int) ev->v[0], strata_event_batch_get_string (batch, ev->h[0]), t);
  if (th->run == RUN_RUNNING && th->cpu != NULL && th->cpu->curr == th)
    return;
  if (th->run != RUN_WAIT_CPU)
    {
      /* A wake-up done by a vCPU that was itself woken for it began
       * with that vCPU's wake-up, down to the host's: the latency the
       * thread sees through all the layers */
      gint64 chain = m->plan.layer > 0 && c->wake_chain_start >= 0 ? c->wake_chain_start : t;

      th->woken_at = t;
      th->real_woken_at = chain;
      if (th->vcpu != NULL && th->run == RUN_BLOCKED)
        th->vcpu->wake_chain_start = chain;
    }
  th->run = RUN_WAIT_CPU;
  if (ev->v[2] != STRATA_VALUE_ABSENT && ev->v[2] >= 0 && ev->v[2] < 4096)
    th->cpu = ensure_cpu (self, m, (guint) ev->v[2], t);
  mark_thread (self, th);
  mark_chain (self, th);
  if (th->vcpu != NULL)
    mark_vcpu (self, th->vcpu);
}

static FNamespace *
get_namespace (FMachine *m,
               guint32   inum,
               guint     level,
               guint32   parent_inum)
{
  FNamespace *ns = g_hash_table_lookup (m->namespaces, GUINT_TO_POINTER (inum));

  if (ns == NULL)
    {
      ns = g_new0 (FNamespace, 1);
      ns->inum = inum;
      ns->level = level;
      ns->parent_inum = parent_inum;
      ns->members = g_ptr_array_new ();
      g_hash_table_insert (m->namespaces, GUINT_TO_POINTER (inum), ns);
    }
  return ns;
}

static void
set_ns_level (FThread *th,
              guint    level,
              guint32  inum,
              gint32   vtid)
{
  FNamespace *ns;

  if (level >= MAX_NS_LEVELS)
    return;
  while (th->ns_levels <= level)
    {
      th->ns_inum[th->ns_levels] = 0;
      th->ns_vtid[th->ns_levels] = -1;
      th->ns_levels++;
    }
  th->ns_inum[level] = inum;
  th->ns_vtid[level] = vtid;
  get_namespace (th->m, inum, level, 0);

  /* Parents, whatever order the levels came in (old statedumps give the
   * innermost first) */
  for (guint l = 1; l < th->ns_levels; l++)
    if (th->ns_inum[l] != 0 && th->ns_inum[l - 1] != 0)
      {
        ns = g_hash_table_lookup (th->m->namespaces, GUINT_TO_POINTER (th->ns_inum[l]));
        if (ns != NULL && ns->parent_inum == 0)
          ns->parent_inum = th->ns_inum[l - 1];
      }
}

static void
handle_fork (StrataFusion           *self,
             FMachine               *m,
             FCpu                   *c,
             const StrataEventBatch *batch,
             const StrataEvent      *ev,
             gint64                  t)
{
  FThread *parent = get_thread (self, m, c, (int) ev->v[0], NULL, t);
  FThread *child;
  guint n_vtids = 0;
  const gint32 *vtids = ev->h[1] != 0 ? strata_event_batch_get_int_array (batch, ev->h[1], &n_vtids) : NULL;

  /* A tid reused: the old thread is gone. Unless it was met at this very
   * time: events of the same instant on other CPUs may come first. */
  child = g_hash_table_lookup (m->threads, GINT_TO_POINTER ((int) ev->v[2]));
  if (child != NULL && child->created_t != t)
    {
      g_hash_table_remove (m->threads, GINT_TO_POINTER ((int) ev->v[2]));
      if (child->run != RUN_DEAD)
        {
          if (child->run == RUN_RUNNING)
            thread_stop_running (self, child, t);
          child->run = RUN_DEAD;
          mark_thread (self, child);
        }
    }
  child = get_thread (self, m, NULL, (int) ev->v[2], strata_event_batch_get_string (batch, ev->h[0]), t);
  child->pid = (int) ev->v[3];
  child->ppid = parent->pid >= 0 ? parent->pid : (int) ev->v[1];
  if (child->run == RUN_UNKNOWN)
    child->run = RUN_WAIT_CPU;
  /* kthreadd (pid 2) and kernel threads start kernel threads */
  child->is_kthread = parent->is_kthread || (int) ev->v[1] == 2;

  /* Its namespaces: the parent's, the innermost one named by the event,
   * its tid at each level from vtids */
  if (vtids != NULL && n_vtids > 0)
    {
      for (guint l = 0; l < n_vtids && l < MAX_NS_LEVELS; l++)
        {
          guint32 inum;

          if (l + 1 == n_vtids && ev->v[5] != STRATA_VALUE_ABSENT)
            inum = (guint32) ev->v[5];
          else if (l < parent->ns_levels)
            inum = parent->ns_inum[l];
          else
            inum = 0;
          set_ns_level (child, l, inum, vtids[l]);
        }
    }
  else if (parent->ns_levels > 0)
    {
      for (guint l = 0; l < parent->ns_levels; l++)
        set_ns_level (child, l, parent->ns_inum[l], l == 0 ? child->tid : -1);
    }
  write_info (self, child, t);
  mark_thread (self, child);
}

static void
handle_statedump_process (StrataFusion           *self,
                          FMachine               *m,
                          FCpu                   *c,
                          const StrataEventBatch *batch,
                          const StrataEvent      *ev,
                          gint64                  t)
{
  FThread *th;
  gint64 status = ev->v[6];

  if (ev->v[0] == 0)
    return;
  th = get_thread (self, m, NULL, (int) ev->v[0], strata_event_batch_get_string (batch, ev->h[0]), t);
  th->pid = (int) ev->v[1];
  th->ppid = (int) ev->v[2];
  th->is_kthread = ev->v[3] == 1;
  /* Only what the scheduling events have not told yet */
  if (th->run == RUN_UNKNOWN)
    {
      if (status == 2)
        th->run = RUN_WAIT_CPU;
      else if (status == 5 || status == 1)
        th->run = RUN_BLOCKED;
      else if (status == 3 || status == 4 || status == 7)
        th->run = RUN_DEAD;
      else if (status == 6 && ev->v[7] != STRATA_VALUE_ABSENT && ev->v[7] >= 0 && ev->v[7] < 4096)
        {
          FCpu *on = ensure_cpu (self, m, (guint) ev->v[7], t);

          if (on->curr == NULL)
            {
              th->run = RUN_RUNNING;
              th->run_since = t;
              th->cpu = on;
              set_curr (on, th, t);
              mark_cpu (self, on);
            }
        }
      th->in_syscall = ev->v[4] == 1;
    }
  write_info (self, th, t);
  mark_thread (self, th);
  if (th->vcpu != NULL)
    mark_vcpu (self, th->vcpu);
}

static void
handle_pid_ns (StrataFusion      *self,
               FMachine          *m,
               const StrataEvent *ev,
               gint64             t)
{
  FThread *th;

  if (ev->v[0] <= 0 || ev->v[4] < 0 || ev->v[4] >= MAX_NS_LEVELS)
    return;
  th = get_thread (self, m, NULL, (int) ev->v[0], NULL, t);
  set_ns_level (th, (guint) ev->v[4], (guint32) ev->v[5], (gint32) ev->v[1]);
  write_info (self, th, t);
}

static void
irq_push (FCpu  *c,
          guint8 kind)
{
  if (c->irq_depth < MAX_IRQ_DEPTH)
    c->irq_kind[c->irq_depth] = kind;
  c->irq_depth++;
}

static void
irq_pop (FCpu *c)
{
  if (c->irq_depth > 0)
    c->irq_depth--;
}

/* Where a guest event is handled: counted when its vCPU does not execute
 * (beyond the sync accuracy once the next entry is known). */
static void
check_window (StrataFusion *self,
              FCpu         *v,
              gint64        t)
{
  int pcpu;

  if (v->m->plan.layer == 0 || v->thread == NULL)
    return;
  if (vcpu_state (v, &pcpu, 0) == STRATA_VCPU_RUNNING)
    return;
  if (t - v->executing_until <= v->m->tolerance)
    return;
  if (v->suspects++ == 0)
    v->suspect_first = t;
}

static void
handle_kvm_exit (StrataFusion      *self,
                 FCpu              *c,
                 const StrataEvent *ev,
                 gint64             t)
{
  FThread *th = c->curr;
  int reason = (int) ev->v[0];
  guint isa = ev->v[1] == 2 ? 2 : 1;
  FCpu *v;

  if (th == NULL || th->vcpu == NULL)
    return;
  v = th->vcpu;
  th->in_guest = FALSE;

  /* Whose exit: the L2 guest's if its thread runs one, else its own */
  if (th->ready && v->curr != NULL && v->curr->vcpu != NULL)
    {
      th->nested_exit = TRUE;
      v = v->curr->vcpu;
    }
  else if (isa == 2 ? reason == SVM_EXIT_VMRUN : (reason == VMX_EXIT_VMLAUNCH || reason == VMX_EXIT_VMRESUME))
    th->waiting = TRUE;

  v->last_exit = reason;
  v->last_isa = isa;
  v->n_exits++;
  {
    gpointer key = GINT_TO_POINTER ((reason & 0xffff) | (int) (isa << 16));
    guint64 *count = g_hash_table_lookup (v->exits, key);

    if (count == NULL)
      {
        count = g_new0 (guint64, 1);
        g_hash_table_insert (v->exits, key, count);
      }
    (*count)++;
  }

  /* A halt: the guest CPU runs its idle task, whatever we knew */
  if (reason == (isa == 2 ? SVM_EXIT_HLT : VMX_EXIT_HLT) && th->vcpu->curr == NULL
      && th->vcpu->m->plan.trace >= 0)
    set_curr (th->vcpu, th->vcpu->idle, t);

  mark_cpu (self, c);
  mark_vcpu (self, v);
}

static void
handle_kvm_entry (StrataFusion      *self,
                  FMachine          *m,
                  FCpu              *c,
                  const StrataEvent *ev,
                  gint64             t)
{
  FThread *th = c->curr;

  if (th == NULL)
    return;
  if (th->vcpu == NULL && ev->v[0] >= 0 && ev->v[0] < 4096)
    {
      /* Not known from pass 1: a VM of this machine run by its process */
      for (guint i = 0; i < self->n_machines; i++)
        {
          FMachine *g = &self->machines[i];

          if (g->parent == m && g->plan.qemu_pid >= 0 && g->plan.qemu_pid == th->pid)
            {
              FCpu *v = ensure_cpu (self, g, (guint) ev->v[0], t);

              if (v->thread == NULL)
                bind_vcpu (self, th, v, t);
              break;
            }
        }
    }
  if (th->vcpu == NULL)
    return;

  th->in_guest = TRUE;
  th->nested_exit = FALSE;

  /* Nested: L1 enters L2 on its vCPU; the L0 thread running that vCPU
   * waits for L0 to do it */
  if (m->plan.layer > 0 && c->thread != NULL && !c->thread->ready)
    c->thread->waiting = TRUE;

  mark_cpu (self, c);
}

/**
 * strata_fusion_handle:
 * @machine: the machine whose trace the event comes from
 * @batch: the batch that holds it (strings, arrays)
 * @event: the event
 * @t: its time in the reference clock
 *
 * Handles one event. Events must come in non-decreasing @t.
 */
void
strata_fusion_handle (StrataFusion           *self,
                      guint                   machine,
                      const StrataEventBatch *batch,
                      const StrataEvent      *ev,
                      gint64                  t)
{
  FMachine *m;
  FCpu *c;

  g_return_if_fail (machine < self->n_machines);

  m = &self->machines[machine];
  if (t < self->now)
    t = self->now;   /* a guest clock's rounding: never go back */
  self->now = t;
  m->n_events++;
  if (m->first_t < 0)
    m->first_t = t;
  m->last_t = t;
  c = ensure_cpu (self, m, ev->cpu, t);

  if (m->plan.layer > 0 && ev->kind != STRATA_EVENT_LOST)
    check_window (self, c, t);

  switch ((StrataEventKind) ev->kind)
    {
    case STRATA_EVENT_SCHED_SWITCH:
      handle_switch (self, m, c, batch, ev, t);
      break;

    case STRATA_EVENT_SCHED_WAKEUP:
    case STRATA_EVENT_SCHED_WAKEUP_NEW:
    case STRATA_EVENT_SCHED_WAKING:
      handle_wakeup (self, m, c, batch, ev, t);
      break;

    case STRATA_EVENT_SCHED_PROCESS_FORK:
      handle_fork (self, m, c, batch, ev, t);
      break;

    case STRATA_EVENT_SCHED_PROCESS_EXEC:
      if (c->curr != NULL && !c->curr->is_idle)
        {
          const char *filename = strata_event_batch_get_string (batch, ev->h[0]);
          const char *base = strrchr (filename, '/');

          g_strlcpy (c->curr->comm, base != NULL ? base + 1 : filename, 16);
          strata_sht_modify_string (self->sht, c->curr->q_comm, t, c->curr->comm);
        }
      break;

    case STRATA_EVENT_SCHED_PROCESS_FREE:
      {
        FThread *th = g_hash_table_lookup (m->threads, GINT_TO_POINTER ((int) ev->v[0]));

        if (th != NULL && th->run != RUN_RUNNING)
          {
            th->run = RUN_DEAD;
            mark_thread (self, th);
            g_hash_table_remove (m->threads, GINT_TO_POINTER ((int) ev->v[0]));
          }
      }
      break;

    case STRATA_EVENT_STATEDUMP_PROCESS_STATE:
      handle_statedump_process (self, m, c, batch, ev, t);
      break;

    case STRATA_EVENT_STATEDUMP_PROCESS_PID_NS:
      handle_pid_ns (self, m, ev, t);
      break;

    case STRATA_EVENT_IRQ_HANDLER_ENTRY:
      irq_push (c, 1);
      mark_cpu (self, c);
      break;

    case STRATA_EVENT_SOFTIRQ_ENTRY:
      irq_push (c, 2);
      mark_cpu (self, c);
      break;

    case STRATA_EVENT_IRQ_HANDLER_EXIT:
    case STRATA_EVENT_SOFTIRQ_EXIT:
      irq_pop (c);
      mark_cpu (self, c);
      break;

    case STRATA_EVENT_SYSCALL_ENTRY:
      if (c->curr != NULL && !c->curr->is_idle)
        {
          const char *name = strata_event_batch_get_string (batch, ev->h[0]);

          c->curr->in_syscall = TRUE;
          c->curr->syscall = g_string_chunk_insert_const (self->strings, name);
          strata_sht_modify_string (self->sht, c->curr->q_syscall, t, c->curr->syscall);
          mark_cpu (self, c);
        }
      break;

    case STRATA_EVENT_SYSCALL_EXIT:
      if (c->curr != NULL && !c->curr->is_idle)
        {
          if (c->curr->syscall != NULL)
            strata_sht_modify (self->sht, c->curr->q_syscall, t, STRATA_SHT_NULL);
          c->curr->in_syscall = FALSE;
          c->curr->syscall = NULL;
          mark_cpu (self, c);
        }
      break;

    case STRATA_EVENT_KVM_ENTRY:
      handle_kvm_entry (self, m, c, ev, t);
      break;

    case STRATA_EVENT_KVM_EXIT:
      handle_kvm_exit (self, c, ev, t);
      break;

    case STRATA_EVENT_KVM_MMU_GET_PAGE:
      if (c->curr != NULL && c->curr->waiting)
        {
          c->curr->waiting = FALSE;
          c->curr->ready = TRUE;
          mark_cpu (self, c);
        }
      break;

    case STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT:
      if (c->curr != NULL)
        {
          c->curr->ready = FALSE;
          c->curr->waiting = FALSE;
          c->curr->nested_exit = FALSE;
          mark_cpu (self, c);
        }
      break;

    case STRATA_EVENT_LOST:
      /* What this CPU did is not known until its next switch */
      m->lost += (guint64) MAX (ev->v[0], 0);
      mark_cpu (self, c);
      c->curr = NULL;
      c->irq_depth = 0;
      break;

    default:
      break;
    }

  flush (self);
}

/* ---------------------------------------------------------------------- */
/* Life                                                                   */
/* ---------------------------------------------------------------------- */

static void
set_machine_attribute (StrataFusion *self,
                       FMachine     *m,
                       const char   *name,
                       StrataShtValue value)
{
  strata_sht_modify (self->sht, strata_sht_quark_get (self->sht, m->q_machine, name), self->start, value);
}

/**
 * strata_fusion_new:
 * @sht: where to write; borrowed, must outlive the fusion
 * @plan: the machines; borrowed, must outlive the fusion
 * @start: the experiment's start, in the reference clock
 *
 * Returns: (transfer full): a fused state provider
 */
StrataFusion *
strata_fusion_new (StrataSht               *sht,
                   const StrataMachinePlan *plan,
                   gint64                   start)
{
  StrataFusion *self = g_new0 (StrataFusion, 1);
  guint32 q_machines;

  self->sht = sht;
  self->plan = plan;
  self->start = start;
  self->now = start;
  self->threads = g_ptr_array_new_with_free_func (thread_free);
  self->strings = g_string_chunk_new (4096);
  self->dirty_vcpus = g_ptr_array_new ();
  self->dirty_threads = g_ptr_array_new ();
  self->dirty_pcpus = g_ptr_array_new ();
  self->q_threads = strata_sht_quark_get (sht, STRATA_SHT_ROOT, "Threads");
  q_machines = strata_sht_quark_get (sht, STRATA_SHT_ROOT, "Machines");

  self->n_machines = plan->machines->len;
  self->machines = g_new0 (FMachine, MAX (self->n_machines, 1));
  for (guint i = 0; i < self->n_machines; i++)
    {
      FMachine *m = &self->machines[i];
      g_autofree char *index = g_strdup_printf ("%u", i);

      m->index = i;
      m->first_t = -1;
      m->last_t = -1;
      m->plan = *strata_machine_plan_get (plan, i);
      m->parent = m->plan.parent >= 0 ? &self->machines[m->plan.parent] : NULL;
      m->cpus = g_ptr_array_new_with_free_func (cpu_free);
      m->threads = g_hash_table_new (NULL, NULL);
      m->namespaces = g_hash_table_new_full (NULL, NULL, NULL, namespace_free);
      m->q_machine = strata_sht_quark_get (sht, q_machines, index);
      m->q_cpus = strata_sht_quark_get (sht, m->q_machine, m->plan.layer == 0 ? "CPUs" : "VCPUs");

      /* The attributes of a machine's CPUs first, one after the other (its
       * other attributes and the idle threads' after): a view's rows of
       * CPUs are then in one of the SHT's groups of attributes, or two,
       * rather than spread over several, and a query over a long range
       * reads a few times fewer nodes. */
      for (guint n = 0; n < m->plan.n_cpus; n++)
        {
          g_autofree char *name = g_strdup_printf ("%u", n);
          guint32 q = strata_sht_quark_get (sht, m->q_cpus, name);

          if (m->plan.layer == 0)
            strata_sht_quark_get (sht, q, "Fused");
          else
            {
              strata_sht_quark_get (sht, q, "State");
              strata_sht_quark_get (sht, q, "HostTid");
            }
        }
    }
  for (guint i = 0; i < self->n_machines; i++)
    {
      FMachine *m = &self->machines[i];

      set_machine_attribute (self, m, "Name", STRATA_SHT_STRING_ID (strata_sht_intern (sht, m->plan.name)));
      set_machine_attribute (self, m, "Hostname", STRATA_SHT_STRING_ID (strata_sht_intern (sht, m->plan.hostname)));
      set_machine_attribute (self, m, "Kind", STRATA_SHT_INT32 (m->plan.kind));
      set_machine_attribute (self, m, "Layer", STRATA_SHT_INT32 (m->plan.layer));
      set_machine_attribute (self, m, "Parent", STRATA_SHT_INT32 (m->plan.parent));
      set_machine_attribute (self, m, "Trace", STRATA_SHT_INT32 (m->plan.trace));
      set_machine_attribute (self, m, "QemuPid", STRATA_SHT_INT32 (m->plan.qemu_pid));
    }

  /* Every CPU known from pass 1 exists from the start; vCPU threads are
   * bound as soon as their thread is met. */
  for (guint i = 0; i < self->n_machines; i++)
    if (self->machines[i].plan.n_cpus > 0)
      ensure_cpu (self, &self->machines[i], self->machines[i].plan.n_cpus - 1, start);
  flush (self);
  return self;
}

void
strata_fusion_set_tolerance (StrataFusion *self,
                             guint         machine,
                             gint64        tolerance_ns)
{
  g_return_if_fail (machine < self->n_machines);
  self->machines[machine].tolerance = MAX (tolerance_ns, 0);
}

/**
 * strata_fusion_finish:
 * @end: the experiment's end, in the reference clock
 *
 * Closes the statistics at @end. The caller closes the SHT.
 */
void
strata_fusion_finish (StrataFusion *self,
                      gint64        end)
{
  end = MAX (end, self->now);
  self->now = end;
  flush (self);

  for (guint i = 0; i < self->n_machines; i++)
    {
      FMachine *m = &self->machines[i];

      for (guint k = 0; k < m->cpus->len; k++)
        {
          FCpu *c = g_ptr_array_index (m->cpus, k);

          account_pcpu (self, c, end);
          c->fused_since = end;
          if (c->state_valid)
            {
              StrataVcpuState state;
              int exit_reason, pcpu;
              guint isa;

              _strata_vcpu_unpack (c->state, &state, &exit_reason, &isa, &pcpu);
              c->state_ns[state] += (guint64) (end - c->state_since);
              c->state_since = end;
            }
          if (c->suspects > 0)
            {
              m->outside += c->suspects;
              c->suspects = 0;
            }
        }
    }

  for (guint i = 0; i < self->threads->len; i++)
    {
      FThread *th = g_ptr_array_index (self->threads, i);

      /* Up to its machine's last event, as lttng-cputop counts */
      if (th->run == RUN_RUNNING && th->run_since >= 0 && !th->is_idle && th->seen_in)
        {
          gint64 until = th->m->last_t >= 0 ? th->m->last_t : end;

          th->cpu_ns += (guint64) MAX (until - th->run_since, 0);
          th->run_since = -1;
        }
    }
}

void
strata_fusion_free (StrataFusion *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->n_machines; i++)
    {
      g_ptr_array_unref (self->machines[i].cpus);
      g_hash_table_unref (self->machines[i].threads);
      g_hash_table_unref (self->machines[i].namespaces);
    }
  g_free (self->machines);
  g_ptr_array_unref (self->threads);
  g_string_chunk_free (self->strings);
  g_ptr_array_unref (self->dirty_vcpus);
  g_ptr_array_unref (self->dirty_threads);
  g_ptr_array_unref (self->dirty_pcpus);
  g_free (self);
}

guint64
strata_fusion_get_n_threads (StrataFusion *self)
{
  return self->threads->len;
}

/* ---------------------------------------------------------------------- */
/* Summary and statistics                                                 */
/* ---------------------------------------------------------------------- */

/* g_hash_table_get_keys_as_ptr_array() is GLib 2.76 */
static GPtrArray *
hash_keys (GHashTable *table)
{
  GPtrArray *keys = g_ptr_array_sized_new (g_hash_table_size (table));
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  return keys;
}

static int
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (*(gconstpointer *) a);
  guint y = GPOINTER_TO_UINT (*(gconstpointer *) b);

  return x < y ? -1 : x > y;
}

static void
add_containers (StrataFusion *self,
                JsonBuilder  *b,
                FMachine     *m)
{
  g_autoptr(GPtrArray) inums = hash_keys (m->namespaces);

  /* Each thread in its innermost namespace, in the order met (by tid
   * within one namespace) */
  for (guint i = 0; i < inums->len; i++)
    g_ptr_array_set_size (((FNamespace *) g_hash_table_lookup (m->namespaces,
                                                               g_ptr_array_index (inums, i)))->members, 0);
  for (guint i = 0; i < self->threads->len; i++)
    {
      FThread *th = g_ptr_array_index (self->threads, i);
      FNamespace *ns;

      if (th->m != m || th->ns_levels < 2 || th->is_idle)
        continue;
      ns = g_hash_table_lookup (m->namespaces, GUINT_TO_POINTER (th->ns_inum[th->ns_levels - 1]));
      if (ns != NULL)
        g_ptr_array_add (ns->members, th);
    }
  g_ptr_array_sort (inums, compare_uint);
  json_builder_set_member_name (b, "containers");
  json_builder_begin_array (b);
  for (guint i = 0; i < inums->len; i++)
    {
      FNamespace *ns = g_hash_table_lookup (m->namespaces, g_ptr_array_index (inums, i));
      GPtrArray *members = ns->members;

      if (ns->level == 0)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "pid_ns_inum");
      json_builder_add_int_value (b, ns->inum);
      json_builder_set_member_name (b, "level");
      json_builder_add_int_value (b, ns->level);
      json_builder_set_member_name (b, "parent_inum");
      if (ns->level > 1 && ns->parent_inum != 0)
        json_builder_add_int_value (b, ns->parent_inum);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "threads");
      json_builder_begin_array (b);
      for (guint k = 0; k < members->len; k++)
        {
          FThread *th = g_ptr_array_index (members, k);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "tid");
          json_builder_add_int_value (b, th->tid);
          json_builder_set_member_name (b, "vtid");
          json_builder_add_int_value (b, ns->level < th->ns_levels ? th->ns_vtid[ns->level] : -1);
          json_builder_set_member_name (b, "comm");
          json_builder_add_string_value (b, th->comm);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/**
 * strata_fusion_dup_machines_json:
 *
 * Returns: (transfer full): the machines, their vCPUs and containers
 */
JsonNode *
strata_fusion_dup_machines_json (StrataFusion *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < self->n_machines; i++)
    {
      FMachine *m = &self->machines[i];
      gint64 complete = -1;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, m->plan.name);
      json_builder_set_member_name (b, "hostname");
      json_builder_add_string_value (b, m->plan.hostname);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, strata_machine_kind_to_string (m->plan.kind));
      json_builder_set_member_name (b, "layer");
      json_builder_add_int_value (b, m->plan.layer);
      json_builder_set_member_name (b, "parent");
      if (m->parent != NULL)
        json_builder_add_string_value (b, m->parent->plan.name);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "traced");
      json_builder_add_boolean_value (b, m->plan.trace >= 0);
      json_builder_set_member_name (b, "cpus");
      json_builder_add_int_value (b, m->cpus->len);
      if (m->plan.kind == STRATA_MACHINE_VM)
        {
          json_builder_set_member_name (b, "vm_uid");
          if (m->plan.vm_uid != 0)
            {
              g_autofree char *uid = g_strdup_printf ("%" G_GUINT64_FORMAT, m->plan.vm_uid);

              json_builder_add_string_value (b, uid);
            }
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "qemu_pid");
          if (m->plan.qemu_pid >= 0)
            json_builder_add_int_value (b, m->plan.qemu_pid);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "vcpus");
          json_builder_begin_array (b);
          for (guint k = 0; k < m->cpus->len; k++)
            {
              FCpu *v = g_ptr_array_index (m->cpus, k);

              json_builder_begin_object (b);
              json_builder_set_member_name (b, "vcpu");
              json_builder_add_int_value (b, k);
              json_builder_set_member_name (b, "host_tid");
              if (v->thread != NULL)
                json_builder_add_int_value (b, v->thread->tid);
              else
                json_builder_add_null_value (b);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
        }
      add_containers (self, b, m);

      for (guint k = 0; k < m->cpus->len && m->plan.trace >= 0; k++)
        {
          FCpu *c = g_ptr_array_index (m->cpus, k);

          if (c->known_since < 0)
            {
              complete = -1;
              break;
            }
          complete = MAX (complete, c->known_since);
        }
      json_builder_set_member_name (b, "state_complete_ns");
      if (complete >= 0)
        json_builder_add_int_value (b, complete);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "events");
      json_builder_add_int_value (b, (gint64) m->n_events);
      json_builder_set_member_name (b, "lost_events");
      json_builder_add_int_value (b, (gint64) m->lost);
      if (m->plan.layer > 0 && m->plan.trace >= 0)
        {
          json_builder_set_member_name (b, "events_outside_entries");
          json_builder_add_int_value (b, (gint64) m->outside);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

static void
add_histogram (JsonBuilder     *b,
               const Histogram *h)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "count");
  json_builder_add_int_value (b, (gint64) h->count);
  json_builder_set_member_name (b, "mean_ns");
  json_builder_add_int_value (b, h->count > 0 ? (gint64) (h->sum_ns / h->count) : 0);
  json_builder_set_member_name (b, "p50_ns");
  json_builder_add_int_value (b, hist_percentile (h, 0.5));
  json_builder_set_member_name (b, "p90_ns");
  json_builder_add_int_value (b, hist_percentile (h, 0.9));
  json_builder_set_member_name (b, "p99_ns");
  json_builder_add_int_value (b, hist_percentile (h, 0.99));
  json_builder_set_member_name (b, "max_ns");
  json_builder_add_int_value (b, h->max_ns);
  json_builder_end_object (b);
}

/**
 * strata_fusion_dup_stats_json:
 *
 * Call after strata_fusion_finish().
 *
 * Returns: (transfer full): per VM and vCPU the time in each state and
 *   the exits by reason; per physical CPU the time each machine used;
 *   per thread its CPU time; wake-up latencies per layer
 */
JsonNode *
strata_fusion_dup_stats_json (StrataFusion *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);

  json_builder_set_member_name (b, "vcpus");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->n_machines; i++)
    {
      FMachine *m = &self->machines[i];

      if (m->plan.layer == 0)
        continue;
      for (guint k = 0; k < m->cpus->len; k++)
        {
          FCpu *v = g_ptr_array_index (m->cpus, k);
          g_autoptr(GPtrArray) keys = hash_keys (v->exits);

          g_ptr_array_sort (keys, compare_uint);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "machine");
          json_builder_add_string_value (b, m->plan.name);
          json_builder_set_member_name (b, "layer");
          json_builder_add_int_value (b, m->plan.layer);
          json_builder_set_member_name (b, "vcpu");
          json_builder_add_int_value (b, k);
          json_builder_set_member_name (b, "host_tid");
          if (v->thread != NULL)
            json_builder_add_int_value (b, v->thread->tid);
          else
            json_builder_add_null_value (b);
          for (guint s = 0; s < STRATA_N_VCPU_STATES; s++)
            {
              g_autofree char *name = g_strdup_printf ("%s_ns", strata_vcpu_state_to_string (s));

              json_builder_set_member_name (b, name);
              json_builder_add_int_value (b, (gint64) v->state_ns[s]);
            }
          json_builder_set_member_name (b, "exits");
          json_builder_add_int_value (b, (gint64) v->n_exits);
          json_builder_set_member_name (b, "exit_reasons");
          json_builder_begin_array (b);
          for (guint r = 0; r < keys->len; r++)
            {
              guint key = GPOINTER_TO_UINT (g_ptr_array_index (keys, r));
              const guint64 *count = g_hash_table_lookup (v->exits, GUINT_TO_POINTER (key));

              json_builder_begin_object (b);
              json_builder_set_member_name (b, "reason");
              json_builder_add_int_value (b, key & 0xffff);
              json_builder_set_member_name (b, "name");
              json_builder_add_string_value (b, strata_exit_reason_to_string (key & 0xffff, key >> 16));
              json_builder_set_member_name (b, "count");
              json_builder_add_int_value (b, (gint64) *count);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "pcpus");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->n_machines; i++)
    {
      FMachine *m = &self->machines[i];

      if (m->plan.layer != 0)
        continue;
      for (guint k = 0; k < m->cpus->len; k++)
        {
          FCpu *c = g_ptr_array_index (m->cpus, k);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "host");
          json_builder_add_string_value (b, m->plan.name);
          json_builder_set_member_name (b, "cpu");
          json_builder_add_int_value (b, k);
          json_builder_set_member_name (b, "machines");
          json_builder_begin_array (b);
          for (guint j = 0; j < self->n_machines; j++)
            {
              guint64 total = 0;

              for (guint s = 0; s < STRATA_N_CPU_STATUSES; s++)
                total += c->fused_ns[j * STRATA_N_CPU_STATUSES + s];
              if (total == 0)
                continue;
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "machine");
              json_builder_add_string_value (b, self->machines[j].plan.name);
              for (guint s = 0; s < STRATA_N_CPU_STATUSES; s++)
                {
                  g_autofree char *name = g_strdup_printf ("%s_ns", strata_cpu_status_to_string (s));

                  json_builder_set_member_name (b, name);
                  json_builder_add_int_value (b, (gint64) c->fused_ns[j * STRATA_N_CPU_STATUSES + s]);
                }
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "threads");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->threads->len; i++)
    {
      FThread *th = g_ptr_array_index (self->threads, i);

      if (th->is_idle || (th->cpu_ns == 0 && th->real_ns == 0))
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "machine");
      json_builder_add_string_value (b, th->m->plan.name);
      json_builder_set_member_name (b, "tid");
      json_builder_add_int_value (b, th->tid);
      json_builder_set_member_name (b, "pid");
      json_builder_add_int_value (b, th->pid);
      json_builder_set_member_name (b, "comm");
      json_builder_add_string_value (b, th->comm);
      json_builder_set_member_name (b, "cpu_ns");
      json_builder_add_int_value (b, (gint64) th->cpu_ns);
      json_builder_set_member_name (b, "physical_cpu_ns");
      json_builder_add_int_value (b, (gint64) th->real_ns);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "wakeup_latency");
  json_builder_begin_array (b);
  for (guint l = 0; l < MAX_LAYERS; l++)
    {
      if (self->wakeup[l].count == 0 && self->real_wakeup[l].count == 0)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "layer");
      json_builder_add_int_value (b, l);
      json_builder_set_member_name (b, "scheduled");
      add_histogram (b, &self->wakeup[l]);
      json_builder_set_member_name (b, "executing");
      add_histogram (b, &self->real_wakeup[l]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_end_object (b);
  return json_builder_get_root (b);
}
