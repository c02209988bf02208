/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sim"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "strata-sim-private.h"
#include "strata-sim-scenario-private.h"

/*
 * The simulation's driver: options, the global event queue (a binary heap
 * in host time, ties broken by insertion order so that a seed gives the
 * same bytes), clocks, randomness, and what is written beside the traces:
 * ground-truth.tsv and scenario.json.
 */

enum
{
  EVENT_DECIDE = 0,     /* a physical CPU decides */
  EVENT_TIMER = 1,      /* a sleeping task's timer */
  EVENT_NET_REPLY = 2,  /* a reply to a guest's packet reaches the host */
};

/* Times: the trace starts on 2024-03-09 (wall clock), hosts booted 3 days
 * before, guests some hours before that. */
#define SIM_EPOCH_NS     G_GINT64_CONSTANT (1710000000000000000)
#define HOST_UPTIME_NS   (G_GINT64_CONSTANT (3) * 24 * 3600 * 1000000000)

void
strata_sim_options_init (StrataSimOptions *options)
{
  g_return_if_fail (options != NULL);

  memset (options, 0, sizeof *options);
  options->scenario = "one-vm";
  options->seed = 1;
  options->duration_ns = G_GINT64_CONSTANT (1000000000);
  options->scale = 1;
  options->layout = STRATA_SIM_LAYOUT_2_13;
}

/* ---------------------------------------------------------------------- */
/* Randomness and clocks                                                  */
/* ---------------------------------------------------------------------- */

double
sim_uniform (Sim *sim)
{
  return g_rand_double (sim->rand);
}

/* An exponentially distributed duration of mean @mean. */
gint64
sim_exp (Sim    *sim,
         gint64  mean)
{
  double u = g_rand_double (sim->rand);

  return (gint64) (-log (1.0 - u) * (double) mean);
}

/* Uniform in [lo, hi]. */
gint64
sim_range (Sim    *sim,
           gint64  lo,
           gint64  hi)
{
  if (hi <= lo)
    return lo;
  return lo + (gint64) (g_rand_double (sim->rand) * (double) (hi - lo + 1));
}

/**
 * sim_local_ts:
 *
 * The time on @m's clock when the host's is @host_ns: each machine's clock
 * runs off its parent's, t = t_parent + offset + (t_parent - ref) × drift.
 * The drift term is computed on the time since the start, where a double
 * is exact to the nanosecond; absolute times stay integers.
 */
gint64
sim_local_ts (SimMachine *m,
              gint64      host_ns)
{
  gint64 parent_ns;

  if (m->parent == NULL)
    return host_ns;

  parent_ns = sim_local_ts (m->parent, host_ns);
  return parent_ns + m->offset_ns
         + (gint64) llround ((double) (parent_ns - m->ref_ns) * m->drift_ppm * 1e-6);
}

/* Whether @cpu may write now: in the lost-events window, it counts what
 * it drops instead, and says so with its next event. */
gboolean
sim_may_emit (SimCpu *cpu)
{
  Sim *sim = cpu->m->sim;
  const StrataSimOptions *o = &sim->options;

  if (o->drop_length_ns > 0)
    {
      gint64 from = sim->start + o->drop_start_ns;

      if (sim->now >= from && sim->now < from + o->drop_length_ns)
        {
          cpu->dropped++;
          return FALSE;
        }
      if (cpu->dropped > 0)
        {
          strata_sim_tracer_lost (cpu->m->tracer, cpu->id, cpu->dropped);
          cpu->dropped = 0;
        }
    }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* The event queue                                                        */
/* ---------------------------------------------------------------------- */

static inline gboolean
event_before (const SimEvent *a,
              const SimEvent *b)
{
  return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

void
sim_schedule (Sim      *sim,
              gint64    t,
              int       type,
              gpointer  obj,
              guint     gen)
{
  SimEvent ev = { t, sim->seq++, type, obj, gen };
  SimEvent *heap;
  guint i;

  g_array_append_val (sim->heap, ev);
  heap = (SimEvent *) (gpointer) sim->heap->data;
  for (i = sim->heap->len - 1; i > 0;)
    {
      guint parent = (i - 1) / 2;
      SimEvent tmp;

      if (!event_before (&heap[i], &heap[parent]))
        break;
      tmp = heap[i], heap[i] = heap[parent], heap[parent] = tmp;
      i = parent;
    }
}

static gboolean
pop_event (Sim      *sim,
           SimEvent *out)
{
  SimEvent *heap = (SimEvent *) (gpointer) sim->heap->data;
  guint n = sim->heap->len;
  guint i = 0;

  if (n == 0)
    return FALSE;

  *out = heap[0];
  heap[0] = heap[n - 1];
  g_array_set_size (sim->heap, n - 1);
  n--;

  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      SimEvent tmp;

      if (l < n && event_before (&heap[l], &heap[m]))
        m = l;
      if (r < n && event_before (&heap[r], &heap[m]))
        m = r;
      if (m == i)
        break;
      tmp = heap[i], heap[i] = heap[m], heap[m] = tmp;
      i = m;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Set-up and tear-down                                                   */
/* ---------------------------------------------------------------------- */

static void
task_free (gpointer data)
{
  SimTask *t = data;

  g_queue_clear (&t->xmit);
  g_queue_clear (&t->replies);
  g_free (t);
}

static void
machine_free (gpointer data)
{
  SimMachine *m = data;

  for (guint i = 0; i < m->n_cpus; i++)
    {
      SimCpu *c = &m->cpus[i];

      g_queue_clear (&c->runq);
      g_ptr_array_unref (c->irq_wakes);
      g_ptr_array_unref (c->host_irq_wakes);
      g_ptr_array_unref (c->pending);
      g_free (c->gt_row);
    }
  g_clear_pointer (&m->tracer, strata_sim_tracer_free);
  g_ptr_array_unref (m->tasks);
  g_array_unref (m->containers);
  g_free (m->cpus);
  g_free (m->vcpu_threads);
  g_free (m->name);
  g_free (m->hostname);
  g_free (m->clock_uuid);
  g_free (m);
}

static void
sim_free (Sim *sim)
{
  if (sim->gt != NULL)
    fclose (sim->gt);
  g_clear_pointer (&sim->machines, g_ptr_array_unref);
  g_clear_pointer (&sim->heap, g_array_unref);
  g_clear_pointer (&sim->dirty, g_ptr_array_unref);
  g_clear_pointer (&sim->rand, g_rand_free);
  g_free (sim->out_dir);
  g_free (sim);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sim, sim_free)

static char *
random_uuid (Sim *sim)
{
  guint8 b[16];

  for (guint i = 0; i < 16; i++)
    b[i] = (guint8) g_rand_int_range (sim->rand, 0, 256);
  b[6] = (b[6] & 0x0f) | 0x40;   /* version 4 */
  b[8] = (b[8] & 0x3f) | 0x80;
  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
                          b[11], b[12], b[13], b[14], b[15]);
}

/**
 * sim_machine_new:
 * @parent: (nullable): the machine that runs it, %NULL for the host
 *
 * A machine with @n_cpus CPUs, each with its idle task, its clock drawn
 * from the seed: guests get an offset of a few ms and a drift of up to
 * ±200 ppm against their parent.
 */
SimMachine *
sim_machine_new (Sim        *sim,
                 const char *name,
                 SimMachine *parent,
                 guint       n_cpus)
{
  SimMachine *m = g_new0 (SimMachine, 1);

  m->sim = sim;
  m->name = g_strdup (name);
  m->hostname = g_strdup (name);
  m->parent = parent;
  m->layer = parent != NULL ? parent->layer + 1 : 0;
  m->n_cpus = n_cpus;
  m->cpus = g_new0 (SimCpu, n_cpus);
  m->tasks = g_ptr_array_new_with_free_func (task_free);
  m->containers = g_array_new (FALSE, TRUE, sizeof (SimContainer));
  m->next_tid = 1;
  m->clock_uuid = random_uuid (sim);
  m->sync_period = G_GINT64_CONSTANT (10000000);

  if (parent != NULL)
    {
      m->offset_ns = sim_range (sim, 500000, 40000000) * (sim_uniform (sim) < 0.5 ? -1 : 1);
      m->drift_ppm = (sim_uniform (sim) * 2.0 - 1.0) * 200.0;
      m->vm_uid = ((guint64) g_rand_int (sim->rand) << 32) | g_rand_int (sim->rand);
      m->ref_ns = sim_local_ts (parent, sim->start);
      m->clock_offset = sim_local_ts (m, sim->start) - sim_range (sim, 3600, 20 * 3600) * G_GINT64_CONSTANT (1000000000);
    }
  else
    {
      m->clock_offset = sim->start - HOST_UPTIME_NS;
    }

  for (guint i = 0; i < n_cpus; i++)
    {
      SimCpu *c = &m->cpus[i];
      g_autofree char *comm = g_strdup_printf ("swapper/%u", i);

      c->m = m;
      c->id = i;
      g_queue_init (&c->runq);
      c->irq_wakes = g_ptr_array_new ();
      c->host_irq_wakes = g_ptr_array_new ();
      c->pending = g_ptr_array_new ();
      c->idle = sim_task_new (m, TASK_IDLE, comm, 0, 0, -1);
      c->idle->cpu = c;
      c->idle->phase = PHASE_IDLE;
    }

  g_ptr_array_add (sim->machines, m);
  return m;
}

/* ---------------------------------------------------------------------- */
/* Output beside the traces                                               */
/* ---------------------------------------------------------------------- */

static const char gt_header[] =
  "# Strata simulation ground truth. Times: the host's clock, ns, absolute.\n"
  "# pcpu rows: what physical CPU `cpu` executed from `start` to `end`: the machine, its\n"
  "#   layer, its vCPU (- for the host), the thread (tid in that machine; vtid and the\n"
  "#   container's PID namespace inode for a thread in a container), and the status:\n"
  "#   user, kernel (system calls and interrupts), idle, or vmm (the hypervisor working\n"
  "#   for that guest vCPU: tid is then the hypervisor's thread). Local timer interrupts\n"
  "#   are not traced: their handling counts in the context they interrupted.\n"
  "# vcpu rows: the state of a guest vCPU: running (cpu: the physical CPU), vmm (its\n"
  "#   exit being handled), preempted (ready, or believed running, but not on a CPU),\n"
  "#   idle (halted, waiting for an interrupt); tid is its hypervisor thread.\n"
  "record\tcpu\tstart\tend\tmachine\tlayer\tvcpu\ttid\tvtid\tcontainer\tstatus\n";

static char *
machine_trace_path (SimMachine *m)
{
  return g_build_filename (m->name, "kernel", NULL);
}

static JsonNode *
scenario_json (Sim                 *sim,
               const StrataSimStats *stats)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "scenario");
  json_builder_add_string_value (b, sim->options.scenario);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, strata_sim_scenario_describe (sim->options.scenario));
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) sim->options.seed);
  json_builder_set_member_name (b, "scale");
  json_builder_add_int_value (b, sim->options.scale);
  json_builder_set_member_name (b, "layout");
  json_builder_add_string_value (b, strata_sim_layout_to_string (sim->options.layout));
  json_builder_set_member_name (b, "host_only");
  json_builder_add_boolean_value (b, sim->options.host_only);
  json_builder_set_member_name (b, "start_ns");
  json_builder_add_int_value (b, sim->start);
  json_builder_set_member_name (b, "end_ns");
  json_builder_add_int_value (b, sim->end);
  json_builder_set_member_name (b, "events");
  json_builder_add_int_value (b, (gint64) stats->n_events);
  if (sim->options.drop_length_ns > 0)
    {
      json_builder_set_member_name (b, "lost_events_window");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "start_ns");
      json_builder_add_int_value (b, sim->start + sim->options.drop_start_ns);
      json_builder_set_member_name (b, "end_ns");
      json_builder_add_int_value (b, sim->start + sim->options.drop_start_ns + sim->options.drop_length_ns);
      json_builder_end_object (b);
    }

  json_builder_set_member_name (b, "machines");
  json_builder_begin_array (b);
  for (guint i = 0; i < sim->machines->len; i++)
    {
      SimMachine *m = g_ptr_array_index (sim->machines, i);
      g_autofree char *trace = machine_trace_path (m);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, m->name);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, m->layer == 0 ? "host" : "vm");
      json_builder_set_member_name (b, "layer");
      json_builder_add_int_value (b, m->layer);
      json_builder_set_member_name (b, "parent");
      if (m->parent != NULL)
        json_builder_add_string_value (b, m->parent->name);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "hostname");
      json_builder_add_string_value (b, m->hostname);
      json_builder_set_member_name (b, "trace");
      if (m->tracer != NULL)
        json_builder_add_string_value (b, trace);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "cpus");
      json_builder_add_int_value (b, m->n_cpus);

      /* t_machine = t_parent + offset_ns + (t_parent - reference_ns) × drift_ppm × 1e-6,
       * with t_parent in the parent's clock (absolute ns) */
      json_builder_set_member_name (b, "clock");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "uuid");
      json_builder_add_string_value (b, m->clock_uuid);
      json_builder_set_member_name (b, "ctf_offset_ns");
      json_builder_add_int_value (b, m->clock_offset);
      json_builder_set_member_name (b, "offset_ns");
      json_builder_add_int_value (b, m->offset_ns);
      json_builder_set_member_name (b, "drift_ppm");
      json_builder_add_double_value (b, m->drift_ppm);
      json_builder_set_member_name (b, "reference_ns");
      json_builder_add_int_value (b, m->ref_ns);
      json_builder_end_object (b);

      if (m->parent != NULL)
        {
          g_autofree char *uid = g_strdup_printf ("%" G_GUINT64_FORMAT, m->vm_uid);

          json_builder_set_member_name (b, "vm_uid");
          json_builder_add_string_value (b, uid);
          json_builder_set_member_name (b, "qemu_pid");
          json_builder_add_int_value (b, m->qemu_pid);
          json_builder_set_member_name (b, "vhost_tid");
          json_builder_add_int_value (b, m->vhost != NULL ? m->vhost->tid : -1);
          json_builder_set_member_name (b, "vcpus");
          json_builder_begin_array (b);
          for (guint v = 0; v < m->n_cpus; v++)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "vcpu");
              json_builder_add_int_value (b, v);
              json_builder_set_member_name (b, "host_tid");
              json_builder_add_int_value (b, m->cpus[v].thread->tid);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
        }

      json_builder_set_member_name (b, "containers");
      json_builder_begin_array (b);
      for (guint k = 0; k < m->containers->len; k++)
        {
          const SimContainer *ct = &g_array_index (m->containers, SimContainer, k);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, ct->name);
          json_builder_set_member_name (b, "pid_ns_inum");
          json_builder_add_int_value (b, ct->inum);
          json_builder_set_member_name (b, "level");
          json_builder_add_int_value (b, ct->level);
          json_builder_set_member_name (b, "parent");
          if (ct->parent >= 0)
            json_builder_add_string_value (b, g_array_index (m->containers, SimContainer, ct->parent).name);
          else
            json_builder_add_null_value (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);

      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

static gboolean
write_scenario_json (Sim                  *sim,
                     const StrataSimStats *stats,
                     GError              **error)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = scenario_json (sim, stats);
  g_autofree char *path = g_build_filename (sim->out_dir, "scenario.json", NULL);

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  return json_generator_to_file (gen, path, error);
}

/* ---------------------------------------------------------------------- */
/* Running                                                                */
/* ---------------------------------------------------------------------- */

static gboolean
prepare_out_dir (const char  *out_dir,
                 GError     **error)
{
  g_autoptr(GDir) dir = NULL;

  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot create folder: path=\"%s\": %s", out_dir, g_strerror (errsv));
      return FALSE;
    }

  dir = g_dir_open (out_dir, 0, error);
  if (dir == NULL)
    return FALSE;
  if (g_dir_read_name (dir) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "Cannot simulate into folder: path=\"%s\": it is not empty", out_dir);
      return FALSE;
    }
  return TRUE;
}

static gboolean
open_tracers (Sim     *sim,
              GError **error)
{
  for (guint i = 0; i < sim->machines->len; i++)
    {
      SimMachine *m = g_ptr_array_index (sim->machines, i);
      g_autofree char *rel = machine_trace_path (m);
      g_autofree char *dir = g_build_filename (sim->out_dir, rel, NULL);
      StrataSimTracerConfig config = {
        .hostname = m->hostname,
        .kernel_release = NULL,   /* the layout's: a kernel of that tracer's time */
        .layout = sim->options.layout,
        .clock_uuid = m->clock_uuid,
        .clock_offset_ns = m->clock_offset,
        .n_cpus = m->n_cpus,
      };

      if (sim->options.host_only && m->layer > 0)
        continue;

      m->tracer = strata_sim_tracer_new (dir, &config, error);
      if (m->tracer == NULL)
        return FALSE;
    }
  return TRUE;
}

/* After a failure or a cancellation: what this run created goes, so that
 * a half-written archive never looks like a complete one. The tracers
 * remove their own partial traces when freed; left are the ground truth
 * being written and the machines' (then empty) folders. */
static void
remove_partial_output (Sim *sim)
{
  g_autofree char *gt_part = g_build_filename (sim->out_dir, "ground-truth.tsv.part", NULL);

  if (sim->gt != NULL)
    {
      fclose (sim->gt);
      sim->gt = NULL;
    }
  g_unlink (gt_part);

  for (guint i = 0; sim->machines != NULL && i < sim->machines->len; i++)
    {
      SimMachine *m = g_ptr_array_index (sim->machines, i);
      g_autofree char *machine_dir = g_build_filename (sim->out_dir, m->name, NULL);
      g_autofree char *kernel_dir = g_build_filename (machine_dir, "kernel", NULL);

      g_clear_pointer (&m->tracer, strata_sim_tracer_free);
      g_rmdir (kernel_dir);
      g_rmdir (machine_dir);
    }
}

/**
 * strata_sim_run:
 * @out_dir: where to write; created, or empty
 * @progress: (nullable) (scope call): told the fraction of simulated time done
 *
 * Simulates a scenario and writes, in @out_dir, one CTF trace per machine
 * (`<machine>/kernel`), `ground-truth.tsv` and `scenario.json`.
 *
 * Returns: %TRUE on success
 */
static gboolean run_simulation (Sim                   *sim,
                                const StrataSimOptions *options,
                                const char             *out_dir,
                                StrataSimProgressFunc   progress,
                                gpointer                progress_data,
                                GCancellable           *cancellable,
                                StrataSimStats         *stats,
                                GError                **error);

gboolean
strata_sim_run (const StrataSimOptions *options,
                const char             *out_dir,
                StrataSimProgressFunc   progress,
                gpointer                progress_data,
                GCancellable           *cancellable,
                StrataSimStats         *stats,
                GError                **error)
{
  g_autoptr(Sim) sim = g_new0 (Sim, 1);

  if (run_simulation (sim, options, out_dir, progress, progress_data, cancellable, stats, error))
    return TRUE;
  if (sim->out_dir != NULL)
    remove_partial_output (sim);
  return FALSE;
}

static gboolean
run_simulation (Sim                    *sim,
                const StrataSimOptions *options,
                const char             *out_dir,
                StrataSimProgressFunc   progress,
                gpointer                progress_data,
                GCancellable           *cancellable,
                StrataSimStats         *stats,
                GError                **error)
{
  g_autofree char *gt_path = NULL;
  g_autofree char *gt_part = NULL;
  StrataSimStats local_stats = { 0 };
  guint32 seed[2];
  SimEvent ev;
  double last_fraction = 0;
  guint64 n_popped = 0;

  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (out_dir != NULL, FALSE);

  if (!strata_sim_scenario_exists (options->scenario))
    {
      g_autofree char *names = g_strjoinv (", ", (char **) strata_sim_scenario_names ());
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Unknown scenario \"%s\" (known: %s)", options->scenario, names);
      return FALSE;
    }
  if (options->duration_ns <= 0 || options->scale == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The duration and the scale must be positive");
      return FALSE;
    }

  if (!prepare_out_dir (out_dir, error))
    return FALSE;

  sim->options = *options;
  sim->options.scenario = g_intern_string (options->scenario);
  seed[0] = (guint32) options->seed;
  seed[1] = (guint32) (options->seed >> 32);
  sim->rand = g_rand_new_with_seed_array (seed, 2);
  sim->out_dir = g_strdup (out_dir);
  sim->machines = g_ptr_array_new_with_free_func (machine_free);
  sim->heap = g_array_new (FALSE, FALSE, sizeof (SimEvent));
  sim->dirty = g_ptr_array_new ();
  sim->start = SIM_EPOCH_NS + sim_range (sim, 0, 1000000000);
  sim->end = sim->start + options->duration_ns;
  sim->now = sim->start;

  sim_scenario_build (sim, options->scenario, options->scale);
  sim->host = g_ptr_array_index (sim->machines, 0);

  if (!open_tracers (sim, error))
    return FALSE;

  gt_path = g_build_filename (out_dir, "ground-truth.tsv", NULL);
  gt_part = g_strconcat (gt_path, ".part", NULL);
  sim->gt = g_fopen (gt_part, "we");
  if (sim->gt == NULL)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot write file: path=\"%s\": %s", gt_part, g_strerror (errsv));
      return FALSE;
    }
  fputs (gt_header, sim->gt);

  for (guint i = 0; i < sim->machines->len; i++)
    sim_machine_start (sim, g_ptr_array_index (sim->machines, i));
  sim_flush_dirty (sim);
  for (guint i = 0; i < sim->host->n_cpus; i++)
    sim_kick (sim, &sim->host->cpus[i]);

  while (pop_event (sim, &ev) && ev.t < sim->end)
    {
      sim->now = ev.t;

      switch (ev.type)
        {
        case EVENT_DECIDE:
          {
            SimCpu *p = ev.obj;

            if (ev.gen == p->decision_gen)
              sim_pcpu_decide (sim, p);
          }
          break;
        case EVENT_TIMER:
          sim_timer_fired (sim, ev.obj, ev.gen);
          break;
        case EVENT_NET_REPLY:
          sim_net_reply (sim, ev.obj);
          break;
        default:
          g_assert_not_reached ();
        }

      if ((++n_popped & 0xffff) == 0)
        {
          double fraction = (double) (sim->now - sim->start) / (double) options->duration_ns;

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          if (progress != NULL && fraction - last_fraction >= 0.01)
            {
              progress (fraction, progress_data);
              last_fraction = fraction;
            }
        }
    }

  /* The end: every CPU's last interval, every tracer closed. */
  sim->now = sim->end;
  for (guint i = 0; i < sim->machines->len; i++)
    {
      SimMachine *m = g_ptr_array_index (sim->machines, i);

      for (guint c = 0; c < m->n_cpus; c++)
        {
          if (m->layer == 0)
            sim_gt_flush (sim, &m->cpus[c]);
          else
            sim_vcpu_gt_flush (sim, &m->cpus[c]);
        }
    }

  for (guint i = 0; i < sim->machines->len; i++)
    {
      SimMachine *m = g_ptr_array_index (sim->machines, i);

      if (m->tracer == NULL)
        continue;
      local_stats.n_traces++;
      local_stats.n_events += strata_sim_tracer_get_n_events (m->tracer);
      if (!strata_sim_tracer_close (m->tracer, error))
        return FALSE;
    }

  if (fclose (g_steal_pointer (&sim->gt)) != 0 || g_rename (gt_part, gt_path) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot write file: path=\"%s\": %s", gt_path, g_strerror (errsv));
      return FALSE;
    }

  local_stats.n_machines = sim->machines->len;
  local_stats.n_truth_rows = sim->gt_rows;
  local_stats.start_ns = sim->start;
  local_stats.end_ns = sim->end;

  if (!write_scenario_json (sim, &local_stats, error))
    return FALSE;

  if (progress != NULL)
    progress (1.0, progress_data);
  if (stats != NULL)
    *stats = local_stats;
  return TRUE;
}
