/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "strata-sim.h"
#include "strata-sim-tracer.h"
#include "strata-sync.h"
#include "strata-sync-memory-cache.h"
#include "strata-test-utils.h"
#include "strata-trace-discovery.h"
#include "strata-trace-reader.h"

/*
 * Synchronization from end to end: traces read in pass 1, matched, hulls,
 * the graph, the result. On the real synctraces pair (the published
 * figures), on simulated archives whose clocks are known exactly (every
 * guest sync event mapped to within the reported accuracy of the truth,
 * the true slope and intercept inside the reported bounds), and on small
 * archives written for each degenerate case.
 */

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

static StrataSyncResult *
sync_paths (const char * const *paths,
            const char         *reference)
{
  g_autoptr(GError) error = NULL;
  StrataSyncOptions options;
  StrataSyncResult *result;

  strata_sync_options_init (&options);
  options.reference = reference;
  result = strata_sync_run (paths, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static const StrataSyncTrace *
trace_ending (const StrataSyncResult *result,
              const char             *suffix,
              int                    *index)
{
  for (guint i = 0; i < result->traces->len; i++)
    {
      const StrataSyncTrace *trace = strata_sync_result_get_trace (result, i);

      if (g_str_has_suffix (trace->path, suffix))
        {
          if (index != NULL)
            *index = (int) i;
          return trace;
        }
    }
  g_error ("no trace ending in %s", suffix);
  return NULL;
}

static gboolean
has_problem (const StrataSyncTrace *trace,
             const char            *needle)
{
  for (guint i = 0; i < trace->problems->len; i++)
    if (strstr (g_ptr_array_index (trace->problems, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

static void
print_problems (const StrataSyncResult *result)
{
  for (guint i = 0; i < result->traces->len; i++)
    {
      const StrataSyncTrace *trace = strata_sync_result_get_trace (result, i);

      for (guint j = 0; j < trace->problems->len; j++)
        g_test_message ("%s: %s", trace->path, (const char *) g_ptr_array_index (trace->problems, j));
    }
}

/* ---------------------------------------------------------------------- */
/* Real traces: synctraces                                                */
/* ---------------------------------------------------------------------- */

/* traces/README.md: 46 matched packets (24 src→dest, 22 dest→src); with
 * scp_dest as the reference, scp_src's t' = a·t + b is the published
 * one within 1 µs at its first and last events. */
static void
test_synctraces (void)
{
  g_autofree char *src = strata_test_trace_path ("synctraces/scp_src");
  g_autofree char *dest = strata_test_trace_path ("synctraces/scp_dest");
  const char *paths[] = { src, dest, NULL };
  g_autoptr(StrataSyncResult) result = sync_paths (paths, dest);
  /* a as Trace Compass printed it: the shortest form of a double. Its
   * last digit is worth 1e-16 × 1.36e18 ≈ 136 ns at these times, so the
   * published pair itself is only good to ~±70 ns there. */
  const long double a_pub = 0.9999413783703139;
  const long double b_pub = 79796507913179.333L;
  const StrataSyncTrace *s, *d;
  const StrataSyncPair *pair;
  int is, id;

  print_problems (result);
  s = trace_ending (result, "/scp_src", &is);
  d = trace_ending (result, "/scp_dest", &id);

  g_assert_cmpuint (result->n_matches, ==, 46);
  g_assert_cmpint (result->reference, ==, id);
  g_assert_true (result->reference_chosen);
  g_assert_cmpuint (result->pairs->len, ==, 1);
  pair = &g_array_index (result->pairs, StrataSyncPair, 0);
  g_assert_cmpuint (pair->first, ==, is);
  g_assert_cmpuint (pair->n_first_to_second, ==, 24);
  g_assert_cmpuint (pair->n_second_to_first, ==, 22);
  g_assert_cmpint (pair->quality, ==, STRATA_SYNC_QUALITY_ACCURATE);
  g_assert_true (pair->used);

  /* scp_dest keeps its clock */
  g_assert_true (d->is_reference);
  g_assert_true (d->synchronized);
  g_assert_true (strata_sync_transform_is_identity (&d->transform));
  g_assert_cmpint (strata_sync_transform_apply (&d->transform, d->end_ns), ==, d->end_ns);

  g_assert_false (s->is_reference);
  g_assert_true (s->synchronized);
  g_assert_cmpint (s->reference, ==, id);
  g_assert_cmpint (s->parent, ==, id);
  g_assert_cmpint (s->quality, ==, STRATA_SYNC_QUALITY_ACCURATE);
  g_assert_cmpuint (s->n_to_parent, ==, 24);
  g_assert_cmpuint (s->n_from_parent, ==, 22);
  g_assert_cmpint (s->begin_ns, ==, G_GINT64_CONSTANT (1361214076525090092));
  g_assert_cmpint (s->end_ns, ==, G_GINT64_CONSTANT (1361214099530082855));

  for (int k = 0; k < 2; k++)
    {
      gint64 t = k == 0 ? s->begin_ns : s->end_ns;
      /* Both relative to t, where long doubles keep a tenth of a ns */
      long double published = (a_pub - 1.0L) * (long double) t + b_pub;
      long double ours = strata_sync_transform_map_from (&s->transform, t, t);

      g_test_message ("scp_src at %" G_GINT64_FORMAT ": ours − published = %.3Lf ns (accuracy ±%.0f ns)",
                      t, ours - published, s->accuracy_ns);
      g_assert_cmpfloat ((double) fabsl (ours - published), <, 1000.0);
      /* The published transform is one the messages allow */
      g_assert_cmpfloat ((double) fabsl (ours - published), <=, s->accuracy_ns);
    }
  g_assert_cmpfloat (s->a_min, <=, (double) a_pub);
  g_assert_cmpfloat ((double) a_pub, <=, s->a_max);
  g_assert_true (isfinite (s->accuracy_ns));
}

/* The other trace as the reference, by host name: the two transforms are
 * inverse of each other, within their accuracies. */
static void
test_reference_choice (void)
{
  g_autofree char *src = strata_test_trace_path ("synctraces/scp_src");
  g_autofree char *dest = strata_test_trace_path ("synctraces/scp_dest");
  const char *paths[] = { src, dest, NULL };
  g_autoptr(StrataSyncResult) by_dest = sync_paths (paths, "VM3");
  g_autoptr(StrataSyncResult) by_src = sync_paths (paths, "VM1");
  g_autoptr(GError) error = NULL;
  const StrataSyncTrace *s1, *d2;
  StrataSyncOptions options;

  g_assert_cmpint (by_dest->reference, ==, 1);
  g_assert_cmpint (by_src->reference, ==, 0);
  s1 = strata_sync_result_get_trace (by_dest, 0);
  d2 = strata_sync_result_get_trace (by_src, 1);
  g_assert_true (d2->synchronized);

  for (gint64 t = s1->begin_ns; t <= s1->end_ns; t += (s1->end_ns - s1->begin_ns) / 4)
    {
      gint64 there = strata_sync_transform_apply (&s1->transform, t);
      gint64 back = strata_sync_transform_apply (&d2->transform, there);

      g_assert_cmpfloat (fabs ((double) (back - t)), <=, s1->accuracy_ns + d2->accuracy_ns + 2);
    }

  /* A reference that is not among the traces */
  strata_sync_options_init (&options);
  options.reference = "no-such-host";
  g_assert_null (strata_sync_run (paths, &options, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "no-such-host"));
}

/* ---------------------------------------------------------------------- */
/* Simulated archives                                                     */
/* ---------------------------------------------------------------------- */

typedef struct
{
  char   *name;
  int     parent;       /* index in machines, -1 for the host */
  int     layer;
  gint64  offset_ns;
  double  drift_ppm;
  gint64  reference_ns;
  char   *trace;        /* absolute path */
} SimMachine;

static void
sim_machine_clear (gpointer data)
{
  SimMachine *m = data;

  g_free (m->name);
  g_free (m->trace);
}

/* scenario.json: t = t_parent + offset_ns + (t_parent − reference_ns) ×
 * drift_ppm × 1e-6 (rounded to the ns) */
static GArray *
read_scenario (const char *dir,
               gint64     *start_ns)
{
  g_autofree char *file = g_build_filename (dir, "scenario.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  GArray *machines = g_array_new (FALSE, TRUE, sizeof (SimMachine));
  JsonObject *root;
  JsonArray *array;

  g_array_set_clear_func (machines, sim_machine_clear);
  json_parser_load_from_file (parser, file, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  *start_ns = json_object_get_int_member (root, "start_ns");
  array = json_object_get_array_member (root, "machines");

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);
      JsonObject *clock = json_object_get_object_member (o, "clock");
      SimMachine m = { 0 };

      m.name = g_strdup (json_object_get_string_member (o, "name"));
      m.layer = (int) json_object_get_int_member (o, "layer");
      m.offset_ns = json_object_get_int_member (clock, "offset_ns");
      m.drift_ppm = json_object_get_double_member (clock, "drift_ppm");
      m.reference_ns = json_object_get_int_member (clock, "reference_ns");
      m.trace = g_build_filename (dir, json_object_get_string_member (o, "trace"), NULL);
      m.parent = -1;
      if (!json_object_get_null_member (o, "parent"))
        {
          const char *parent = json_object_get_string_member (o, "parent");

          for (guint j = 0; j < machines->len; j++)
            if (g_str_equal (g_array_index (machines, SimMachine, j).name, parent))
              m.parent = (int) j;
          g_assert_cmpint (m.parent, >=, 0);
        }
      g_array_append_val (machines, m);
    }
  return machines;
}

/* The parent's clock when @m's reads @t, relative to @base: the inverse
 * of the scenario's clock, exact but for the simulator's rounding of
 * each clock to the nanosecond. */
static long double
to_parent_rel (const SimMachine *m,
               long double       t_rel,
               gint64            base)
{
  long double d = (long double) m->drift_ppm * 1e-6L;
  long double ref = (long double) (m->reference_ns - base);

  return ref + (t_rel - (long double) m->offset_ns - ref) / (1.0L + d);
}

static long double
to_host_rel (GArray      *machines,
             const SimMachine *m,
             gint64       t,
             gint64       base)
{
  long double rel = (long double) (t - base);

  while (m->parent >= 0)
    {
      rel = to_parent_rel (m, rel, base);
      m = &g_array_index (machines, SimMachine, m->parent);
    }
  return rel;
}

static gboolean
collect_cb (StrataEventBatch **batch,
            gpointer           user_data)
{
  GArray *times = user_data;

  for (guint i = 0; i < (*batch)->n_events; i++)
    g_array_append_val (times, (*batch)->events[i].ts);
  return TRUE;
}

/* The times of the guest-side sync events of a trace */
static GArray *
guest_sync_times (const char *path)
{
  static const StrataEventKind kinds[] = { STRATA_EVENT_VMSYNC_GH_GUEST, STRATA_EVENT_VMSYNC_HG_GUEST };
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = strata_trace_reader_new (path, &error);
  GArray *times = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_assert_no_error (error);
  strata_trace_reader_set_kinds (reader, kinds, G_N_ELEMENTS (kinds));
  strata_trace_reader_run (reader, collect_cb, times, NULL, &error);
  g_assert_no_error (error);
  return times;
}

static void
test_simulated (gconstpointer data)
{
  guint64 seed = GPOINTER_TO_UINT (data);
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "paper", NULL);
  g_autoptr(GArray) machines = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();
  g_autoptr(StrataSyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  StrataSimOptions options;
  double min_drift = 0, max_drift = 0, worst_ratio = 0;
  gint64 base;
  guint n_nested = 0;
  const StrataSyncTrace *host = NULL;

  strata_sim_options_init (&options);
  options.scenario = "paper";
  options.seed = seed;
  options.scale = 2;
  options.duration_ns = G_GINT64_CONSTANT (300000000);
  g_assert_true (strata_sim_run (&options, dir, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  machines = read_scenario (dir, &base);
  for (guint i = 0; i < machines->len; i++)
    {
      const SimMachine *m = &g_array_index (machines, SimMachine, i);

      g_ptr_array_add (paths, m->trace);
      if (m->layer > 0)
        {
          min_drift = MIN (min_drift, m->drift_ppm);
          max_drift = MAX (max_drift, m->drift_ppm);
        }
      n_nested += m->layer == 2;
    }
  g_ptr_array_add (paths, NULL);

  /* What this test is about: drifts across ±200 ppm and nested guests */
  g_test_message ("seed %" G_GUINT64_FORMAT ": %u machines, drifts from %.1f to %.1f ppm, %u nested",
                  seed, machines->len, min_drift, max_drift, n_nested);
  g_assert_cmpfloat (min_drift, <, -150.0);
  g_assert_cmpfloat (max_drift, >, 150.0);
  g_assert_cmpuint (n_nested, >=, 2);

  result = sync_paths ((const char * const *) paths->pdata, NULL);
  print_problems (result);

  /* The physical host is the reference, found by its roles */
  host = strata_sync_result_get_trace (result, 0);
  g_assert_cmpint (result->reference, ==, 0);
  g_assert_true (host->is_reference);
  g_assert_true (host->is_host);
  g_assert_false (host->is_guest);

  for (guint i = 1; i < machines->len; i++)
    {
      const SimMachine *m = &g_array_index (machines, SimMachine, i);
      const StrataSyncTrace *trace = strata_sync_result_get_trace (result, i);
      g_autoptr(GArray) times = guest_sync_times (m->trace);
      long double a_true = 1.0L, b_true, worst = 0.0L;

      g_assert_cmpstr (trace->path, ==, m->trace);
      g_assert_true (trace->synchronized);
      g_assert_cmpint (trace->quality, ==, STRATA_SYNC_QUALITY_ACCURATE);
      g_assert_cmpint (trace->reference, ==, 0);
      g_assert_cmpuint (trace->problems->len, ==, 0);
      /* A nested guest goes through the L1 that runs it */
      g_assert_cmpint (trace->parent, ==, m->parent);
      g_assert_cmpuint (trace->n_to_parent, >, 10);
      g_assert_cmpuint (trace->n_from_parent, >, 10);
      g_assert_true (isfinite (trace->accuracy_ns));
      /* Microseconds, not the whole trace: the figure means something */
      g_assert_cmpfloat (trace->accuracy_ns, <, 20000.0);
      g_assert_cmpuint (times->len, >, 20);

      /* Every guest sync event, mapped, lies within the accuracy of its
       * true host time; 1 ns per layer for the simulator's rounding. */
      for (guint k = 0; k < times->len; k++)
        {
          gint64 t = g_array_index (times, gint64, k);
          long double truth = to_host_rel (machines, m, t, base);
          long double ours = strata_sync_transform_map_from (&trace->transform, t, base);

          worst = MAX (worst, fabsl (ours - truth));
          g_assert_cmpfloat ((double) fabsl (ours - truth), <=, trace->accuracy_ns + m->layer);
        }

      /* The true transform lies inside the bounds */
      for (const SimMachine *p = m; p->parent >= 0; p = &g_array_index (machines, SimMachine, p->parent))
        a_true /= 1.0L + (long double) p->drift_ppm * 1e-6L;
      /* b = t_host − a·t at t = base, relative to base: b = base·(1 − a) + H(base) */
      b_true = (long double) base * (1.0L - a_true) + to_host_rel (machines, m, base, base);

      g_test_message ("%s (L%d, %+.1f ppm): a = %.15f in [%.15f, %.15f] (true %.15Lf), "
                      "accuracy ±%.1f ns, worst error %.1Lf ns over %u sync events",
                      m->name, m->layer, m->drift_ppm, trace->transform.a, trace->a_min,
                      trace->a_max, a_true, trace->accuracy_ns, worst, times->len);
      g_assert_cmpfloat (trace->a_min, <=, (double) a_true);
      g_assert_cmpfloat ((double) a_true, <=, trace->a_max);
      g_assert_cmpfloat ((long double) trace->b_min, <=, b_true + 1.0L);
      g_assert_cmpfloat (b_true - 1.0L, <=, (long double) trace->b_max);
      worst_ratio = MAX (worst_ratio, (double) (worst / (long double) trace->accuracy_ns));
    }
  g_test_message ("worst error / accuracy: %.3f", worst_ratio);

  strata_test_rmtree (tmp);
}

/* The same archive synchronized with one reader thread or several gives
 * the same result, to the bit. */
static void
test_deterministic (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "overcommit", NULL);
  g_autoptr(GPtrArray) locations = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  const char *dirs[] = { dir, NULL };
  StrataSimOptions sim;

  strata_sim_options_init (&sim);
  sim.scenario = "overcommit";
  sim.seed = 5;
  sim.duration_ns = G_GINT64_CONSTANT (100000000);
  g_assert_true (strata_sim_run (&sim, dir, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  locations = strata_trace_discover (dirs, NULL, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < locations->len; i++)
    g_ptr_array_add (paths, ((StrataTraceLocation *) g_ptr_array_index (locations, i))->path);
  g_ptr_array_add (paths, NULL);
  g_assert_cmpuint (locations->len, >=, 4);

  for (guint threads = 1; threads <= 4; threads += 3)
    {
      StrataSyncOptions options;
      g_autoptr(StrataSyncResult) result = NULL;
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autofree char *text = NULL;

      strata_sync_options_init (&options);
      options.max_threads = threads;
      result = strata_sync_run ((const char * const *) paths->pdata, &options, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (strata_sync_result_count_unsynchronized (result), ==, 0);

      result->elapsed_us = 0;   /* the only thing that may differ */
      node = strata_sync_result_to_json (result);
      json_generator_set_root (generator, node);
      text = json_generator_to_data (generator, NULL);
      if (first == NULL)
        first = g_steal_pointer (&text);
      else
        g_assert_cmpstr (text, ==, first);
    }

  strata_test_rmtree (tmp);
}

/* ---------------------------------------------------------------------- */
/* Small archives for the degenerate cases                                */
/* ---------------------------------------------------------------------- */

#define H0           G_GINT64_CONSTANT (1700000001000000000)
#define HOST_OFFSET  G_GINT64_CONSTANT (1700000000000000000)
/* Guests' clocks are 5 ms behind the host's (their halves come first in
 * pass 1's merge) and gain 50 ppm on it. */
#define GUEST_SHIFT  G_GINT64_CONSTANT (-5000000)

enum
{
  EV_GH_GUEST,
  EV_GH_HOST,
  EV_HG_HOST,
  EV_HG_GUEST,
  EV_KVM_ENTRY,
  EV_SCHED_SWITCH,
};

typedef struct
{
  gint64  ts;
  int     kind;
  guint32 cnt;
  guint64 vm_uid;
} SynEvent;

typedef struct
{
  char   *path;
  char   *hostname;
  char   *clock_uuid;
  gint64  clock_offset;
  GArray *events;
} SynTrace;

static SynTrace *
syn_trace_new (const char *dir,
               const char *name,
               const char *clock_uuid,
               gint64      clock_offset)
{
  SynTrace *t = g_new0 (SynTrace, 1);

  t->path = g_build_filename (dir, name, NULL);
  t->hostname = g_strdup (name);
  t->clock_uuid = g_strdup (clock_uuid);
  t->clock_offset = clock_offset;
  t->events = g_array_new (FALSE, FALSE, sizeof (SynEvent));
  return t;
}

static void
syn_trace_free (SynTrace *t)
{
  g_free (t->path);
  g_free (t->hostname);
  g_free (t->clock_uuid);
  g_array_unref (t->events);
  g_free (t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SynTrace, syn_trace_free)

static void
syn_add (SynTrace *t,
         gint64    ts,
         int       kind,
         guint32   cnt,
         guint64   vm_uid)
{
  SynEvent e = { ts, kind, cnt, vm_uid };
  g_array_append_val (t->events, e);
}

static int
compare_syn (gconstpointer a,
             gconstpointer b)
{
  const SynEvent *ea = a, *eb = b;

  return (ea->ts > eb->ts) - (ea->ts < eb->ts);
}

static void
syn_write (SynTrace *t)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataSimTracer) tracer = NULL;
  StrataSimTracerConfig config = {
    .hostname = t->hostname,
    .layout = STRATA_SIM_LAYOUT_2_13,
    .clock_uuid = t->clock_uuid,
    .clock_offset_ns = t->clock_offset,
    .n_cpus = 1,
  };

  tracer = strata_sim_tracer_new (t->path, &config, &error);
  g_assert_no_error (error);
  g_array_sort (t->events, compare_syn);

  for (guint i = 0; i < t->events->len; i++)
    {
      const SynEvent *e = &g_array_index (t->events, SynEvent, i);
      guint64 raw = (guint64) (e->ts - t->clock_offset);

      switch (e->kind)
        {
        case EV_GH_GUEST:
          strata_sim_tracer_vmsync_gh_guest (tracer, 0, raw, e->cnt, e->vm_uid);
          break;
        case EV_GH_HOST:
          strata_sim_tracer_vmsync_gh_host (tracer, 0, raw, e->cnt, e->vm_uid);
          break;
        case EV_HG_HOST:
          strata_sim_tracer_vmsync_hg_host (tracer, 0, raw, e->cnt, e->vm_uid);
          break;
        case EV_HG_GUEST:
          strata_sim_tracer_vmsync_hg_guest (tracer, 0, raw, e->cnt, e->vm_uid);
          break;
        case EV_KVM_ENTRY:
          strata_sim_tracer_kvm_entry (tracer, 0, raw, 0);
          break;
        default:
          strata_sim_tracer_sched_switch (tracer, 0, raw, "a", 10, 20, 1, "b", 11, 20);
          break;
        }
    }
  g_assert_true (strata_sim_tracer_close (tracer, &error));
  g_assert_no_error (error);
}

/* The guest's clock when the host's reads @h */
static gint64
guest_time (gint64 h)
{
  return h + GUEST_SHIFT + (h - H0) / 20000;
}

/* The host time of exchange @i */
static gint64
exchange_time (guint i)
{
  return H0 + G_GINT64_CONSTANT (1000000) * (i + 1);
}

enum
{
  ONE_WAY = 1 << 0,   /* the hypercall, no return */
  BACKWARDS = 1 << 1, /* the return is received 5 µs before it is sent */
  DUPLICATE = 1 << 2, /* the guest writes its hypercall event twice */
};

/* Exchange @i between @host and @guest: the guest's hypercall is received
 * 700 ns later by the host, which returns 800 ns later; the guest sees
 * the return 600 ns after that. */
static void
syn_exchange (SynTrace *host,
              SynTrace *guest,
              guint64   vm_uid,
              guint     i,
              guint     flags)
{
  gint64 h = exchange_time (i);
  guint32 cnt = i + 1;

  syn_add (guest, guest_time (h), EV_GH_GUEST, cnt, vm_uid);
  if (flags & DUPLICATE)
    syn_add (guest, guest_time (h) + 100, EV_GH_GUEST, cnt, vm_uid);
  syn_add (host, h + 700, EV_GH_HOST, cnt, vm_uid);
  if (flags & ONE_WAY)
    return;
  syn_add (host, h + 1500, EV_HG_HOST, cnt, vm_uid);
  syn_add (guest, guest_time ((flags & BACKWARDS) ? h + 1500 - 5000 : h + 2100), EV_HG_GUEST, cnt, vm_uid);
}

typedef struct
{
  char      *dir;
  GPtrArray *traces;   /* SynTrace */
} Archive;

static void
archive_init (Archive *a)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();

  a->dir = g_steal_pointer (&tmp);
  a->traces = g_ptr_array_new_with_free_func ((GDestroyNotify) syn_trace_free);
}

static void
archive_clear (Archive *a)
{
  strata_test_rmtree (a->dir);
  g_free (a->dir);
  g_ptr_array_unref (a->traces);
}

static SynTrace *
archive_add (Archive    *a,
             const char *name,
             const char *clock_uuid,
             gint64      clock_offset,
             gboolean    is_host)
{
  SynTrace *t = syn_trace_new (a->dir, name, clock_uuid, clock_offset);

  g_ptr_array_add (a->traces, t);
  if (is_host)
    syn_add (t, H0, EV_KVM_ENTRY, 0, 0);
  return t;
}

static StrataSyncResult *
archive_sync (Archive *a)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();
  StrataSyncResult *result;

  for (guint i = 0; i < a->traces->len; i++)
    {
      SynTrace *t = g_ptr_array_index (a->traces, i);

      syn_write (t);
      g_ptr_array_add (paths, t->path);
    }
  g_ptr_array_add (paths, NULL);

  result = sync_paths ((const char * const *) paths->pdata, NULL);
  print_problems (result);
  return result;
}

#define HOST_UUID  "11111111-2222-4333-8444-555555555555"
#define GUEST_UUID "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static void
test_no_sync_events (void)
{
  Archive a;
  g_autoptr(StrataSyncResult) result = NULL;
  SynTrace *host, *guest;
  const StrataSyncTrace *g;

  archive_init (&a);
  host = archive_add (&a, "host", HOST_UUID, HOST_OFFSET, TRUE);
  guest = archive_add (&a, "guest", GUEST_UUID, HOST_OFFSET - 1000000000, FALSE);
  syn_add (host, H0 + 10, EV_SCHED_SWITCH, 0, 0);
  syn_add (guest, H0 + 20, EV_SCHED_SWITCH, 0, 0);
  result = archive_sync (&a);

  g_assert_cmpint (result->reference, ==, 0);
  g_assert_cmpuint (result->n_matches, ==, 0);
  g_assert_cmpuint (result->pairs->len, ==, 0);
  g = strata_sync_result_get_trace (result, 1);
  g_assert_true (g->read_ok);
  g_assert_false (g->synchronized);
  g_assert_cmpint (g->quality, ==, STRATA_SYNC_QUALITY_ABSENT);
  g_assert_cmpint (g->parent, ==, -1);
  g_assert_cmpint (g->reference, ==, 0);
  g_assert_cmpuint (g->n_sync_events, ==, 0);
  g_assert_true (strata_sync_transform_is_identity (&g->transform));
  g_assert_true (isinf (g->accuracy_ns));
  g_assert_true (has_problem (g, "no message matched"));
  g_assert_cmpuint (strata_sync_result_count_unsynchronized (result), ==, 1);

  archive_clear (&a);
}

static void
test_one_direction (void)
{
  Archive a;
  g_autoptr(StrataSyncResult) result = NULL;
  SynTrace *host, *guest;
  const StrataSyncTrace *g;

  archive_init (&a);
  host = archive_add (&a, "host", HOST_UUID, HOST_OFFSET, TRUE);
  guest = archive_add (&a, "guest", GUEST_UUID, HOST_OFFSET - 1000000000, FALSE);
  for (guint i = 0; i < 50; i++)
    syn_exchange (host, guest, 5, i, ONE_WAY);
  result = archive_sync (&a);

  g = strata_sync_result_get_trace (result, 1);
  g_assert_cmpuint (result->n_matches, ==, 50);
  g_assert_false (g->synchronized);
  g_assert_cmpint (g->quality, ==, STRATA_SYNC_QUALITY_INCOMPLETE);
  g_assert_cmpint (g->parent, ==, 0);
  g_assert_cmpuint (g->n_to_parent, ==, 50);
  g_assert_cmpuint (g->n_from_parent, ==, 0);
  g_assert_cmpfloat (g->transform.a, ==, 1.0);
  g_assert_true (isinf (g->accuracy_ns));
  g_assert_true (has_problem (g, "bounded on one side only"));
  g_assert_true (has_problem (g, "not synchronized"));

  /* The best estimate there is: every hypercall is received after it was
   * sent, and the tightest by 0 ns */
  for (guint i = 0; i < 50; i++)
    {
      gint64 h = exchange_time (i);
      g_assert_cmpint (strata_sync_transform_apply (&g->transform, guest_time (h)), <=, h + 700);
    }

  archive_clear (&a);
}

static void
test_single_match (void)
{
  Archive a;
  g_autoptr(StrataSyncResult) result = NULL;
  SynTrace *host, *guest;
  const StrataSyncTrace *g;
  gint64 h = exchange_time (0);

  archive_init (&a);
  host = archive_add (&a, "host", HOST_UUID, HOST_OFFSET, TRUE);
  guest = archive_add (&a, "guest", GUEST_UUID, HOST_OFFSET - 1000000000, FALSE);
  syn_exchange (host, guest, 5, 0, ONE_WAY);
  result = archive_sync (&a);

  g = strata_sync_result_get_trace (result, 1);
  g_assert_cmpuint (result->n_matches, ==, 1);
  g_assert_false (g->synchronized);
  g_assert_cmpint (g->quality, ==, STRATA_SYNC_QUALITY_INCOMPLETE);
  /* Through the one match: sent when received */
  g_assert_cmpint (strata_sync_transform_apply (&g->transform, guest_time (h)), ==, h + 700);

  archive_clear (&a);
}

/* One return received before it was sent, halfway: the messages cross */
static void
test_crossing (void)
{
  Archive a;
  g_autoptr(StrataSyncResult) result = NULL;
  SynTrace *host, *guest;
  const StrataSyncTrace *g;
  const StrataSyncPair *pair;

  archive_init (&a);
  host = archive_add (&a, "host", HOST_UUID, HOST_OFFSET, TRUE);
  guest = archive_add (&a, "guest", GUEST_UUID, HOST_OFFSET - 1000000000, FALSE);
  for (guint i = 0; i < 40; i++)
    syn_exchange (host, guest, 5, i, i == 20 ? BACKWARDS : 0);
  result = archive_sync (&a);

  g = strata_sync_result_get_trace (result, 1);
  pair = &g_array_index (result->pairs, StrataSyncPair, 0);
  g_assert_cmpint (pair->quality, ==, STRATA_SYNC_QUALITY_FAIL);
  g_assert_nonnull (strstr (pair->problem, "contradict"));
  g_assert_false (g->synchronized);
  g_assert_cmpint (g->quality, ==, STRATA_SYNC_QUALITY_FAIL);
  g_assert_true (has_problem (g, "contradict"));

  /* The estimate of the messages before the contradiction is kept: good
   * over their time, within its accuracy (+1 ns: the guest clock here
   * is an integer division) */
  g_assert_true (isfinite (g->accuracy_ns));
  for (guint i = 0; i < 20; i++)
    {
      gint64 h = exchange_time (i);
      gint64 mapped = strata_sync_transform_apply (&g->transform, guest_time (h));

      g_assert_cmpfloat (fabs ((double) (mapped - h)), <=, g->accuracy_ns + 1);
    }

  archive_clear (&a);
}

static void
test_duplicate_cnt (void)
{
  Archive a;
  g_autoptr(StrataSyncResult) result = NULL;
  SynTrace *host, *guest;
  const StrataSyncTrace *g;

  archive_init (&a);
  host = archive_add (&a, "host", HOST_UUID, HOST_OFFSET, TRUE);
  guest = archive_add (&a, "guest", GUEST_UUID, HOST_OFFSET - 1000000000, FALSE);
  for (guint i = 0; i < 30; i++)
    syn_exchange (host, guest, 5, i, i == 10 ? DUPLICATE : 0);
  result = archive_sync (&a);

  g = strata_sync_result_get_trace (result, 1);
  g_assert_cmpuint (result->n_matches, ==, 60);
  g_assert_cmpuint (g->n_sync_events, ==, 61);
  g_assert_cmpuint (g->n_duplicates, ==, 1);
  g_assert_cmpuint (g->n_unmatched, ==, 0);
  g_assert_true (has_problem (g, "1 sync events repeat"));
  /* The first of the two was kept: still accurate */
  g_assert_true (g->synchronized);
  g_assert_cmpint (g->quality, ==, STRATA_SYNC_QUALITY_ACCURATE);
  for (guint i = 0; i < 30; i++)
    {
      gint64 h = exchange_time (i);
      gint64 mapped = strata_sync_transform_apply (&g->transform, guest_time (h));

      g_assert_cmpfloat (fabs ((double) (mapped - h)), <=, g->accuracy_ns + 1);
    }

  archive_clear (&a);
}

/* Two guests with one vm_uid cannot be told apart; a third is fine */
static void
test_same_vm_uid (void)
{
  Archive a;
  g_autoptr(StrataSyncResult) result = NULL;
  SynTrace *host, *g1, *g2, *g3;

  archive_init (&a);
  host = archive_add (&a, "host", HOST_UUID, HOST_OFFSET, TRUE);
  g1 = archive_add (&a, "guest1", NULL, HOST_OFFSET - 1000000000, FALSE);
  g2 = archive_add (&a, "guest2", NULL, HOST_OFFSET - 2000000000, FALSE);
  g3 = archive_add (&a, "guest3", NULL, HOST_OFFSET - 3000000000, FALSE);
  for (guint i = 0; i < 30; i++)
    {
      syn_exchange (host, g1, 42, i, 0);
      syn_exchange (host, g2, 42, i, 0);
      syn_exchange (host, g3, 43, i, 0);
    }
  result = archive_sync (&a);

  g_assert_cmpint (result->reference, ==, 0);
  for (guint i = 1; i <= 2; i++)
    {
      const StrataSyncTrace *g = strata_sync_result_get_trace (result, i);

      g_assert_false (g->synchronized);
      g_assert_cmpint (g->quality, ==, STRATA_SYNC_QUALITY_FAIL);
      g_assert_cmpint (g->parent, ==, -1);
      g_assert_true (strata_sync_transform_is_identity (&g->transform));
      g_assert_true (has_problem (g, "vm_uid 42"));
      g_assert_true (has_problem (g, g1->path));
      g_assert_true (has_problem (g, g2->path));
    }
  for (guint p = 0; p < result->pairs->len; p++)
    {
      const StrataSyncPair *pair = &g_array_index (result->pairs, StrataSyncPair, p);

      g_assert_cmpint (pair->ambiguous, ==, pair->second != 3);
      g_assert_cmpint (pair->used, ==, pair->second == 3);
    }
  g_assert_true (strata_sync_result_get_trace (result, 3)->synchronized);
  g_assert_cmpuint (strata_sync_result_count_unsynchronized (result), ==, 2);

  archive_clear (&a);
}

/* Two traces of one machine and boot (a kernel and a user-space session,
 * say) share a clock: related exactly through their clock offsets. A
 * trace that cannot be read is flagged, and the others go on. */
static void
test_same_clock_and_unreadable (void)
{
  Archive a;
  g_autoptr(StrataSyncResult) result = NULL;
  g_autofree char *broken = NULL;
  g_autofree char *stream = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  SynTrace *host, *ust, *guest;
  const StrataSyncTrace *u, *g, *b;

  archive_init (&a);
  host = archive_add (&a, "host", HOST_UUID, HOST_OFFSET, TRUE);
  ust = archive_add (&a, "host-ust", HOST_UUID, HOST_OFFSET + 1234567, FALSE);
  guest = archive_add (&a, "guest", GUEST_UUID, HOST_OFFSET - 1000000000, FALSE);
  syn_add (ust, H0 + 5000000, EV_SCHED_SWITCH, 0, 0);
  for (guint i = 0; i < 20; i++)
    syn_exchange (host, guest, 5, i, 0);
  for (guint i = 0; i < a.traces->len; i++)
    {
      SynTrace *t = g_ptr_array_index (a.traces, i);

      syn_write (t);
      g_ptr_array_add (paths, t->path);
    }
  /* A stream without its metadata: nothing of it can be read */
  broken = g_build_filename (a.dir, "broken", NULL);
  stream = g_build_filename (broken, "channel0_0", NULL);
  g_assert_cmpint (g_mkdir (broken, 0755), ==, 0);
  g_file_set_contents (stream, "\xc1\x1f\xfc\xc1", 4, &error);
  g_assert_no_error (error);
  g_ptr_array_add (paths, broken);
  g_ptr_array_add (paths, NULL);

  result = sync_paths ((const char * const *) paths->pdata, NULL);
  print_problems (result);

  g_assert_cmpint (result->reference, ==, 0);
  u = strata_sync_result_get_trace (result, 1);
  g_assert_true (u->synchronized);
  g_assert_cmpint (u->parent, ==, 0);
  g_assert_cmpfloat (u->accuracy_ns, ==, 0.0);
  /* Same counter: t_host = t_ust − offset_ust + offset_host */
  g_assert_cmpint (strata_sync_transform_apply (&u->transform, H0 + 99), ==, H0 + 99 - 1234567);
  g_assert_true (g_array_index (result->pairs, StrataSyncPair, 1).same_clock
                 || g_array_index (result->pairs, StrataSyncPair, 0).same_clock);

  g = strata_sync_result_get_trace (result, 2);
  g_assert_true (g->synchronized);

  b = strata_sync_result_get_trace (result, 3);
  g_assert_false (b->read_ok);
  g_assert_false (b->synchronized);
  g_assert_true (has_problem (b, "could not be read"));
  g_assert_true (has_problem (b, broken));
  g_assert_cmpuint (strata_sync_result_count_unsynchronized (result), ==, 1);

  archive_clear (&a);
}

/* ---------------------------------------------------------------------- */
/* The run: cache, async, cancel, progress                                */
/* ---------------------------------------------------------------------- */

static void
test_cache (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *copy = g_build_filename (tmp, "synctraces", NULL);
  g_autofree char *orig = strata_test_trace_path ("synctraces");
  g_autofree char *src = g_build_filename (copy, "scp_src", NULL);
  g_autofree char *dest = g_build_filename (copy, "scp_dest", NULL);
  g_autofree char *stream = g_build_filename (src, "channel0_0", NULL);
  g_autoptr(StrataSyncMemoryCache) cache = strata_sync_memory_cache_new ();
  g_autoptr(StrataSyncResult) first = NULL;
  g_autoptr(StrataSyncResult) second = NULL;
  g_autoptr(StrataSyncResult) third = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *key1 = NULL;
  g_autofree char *key2 = NULL;
  const char *paths[] = { src, dest, NULL };
  StrataSyncOptions options;
  FILE *f;

  strata_test_copy_tree (orig, copy);
  strata_sync_options_init (&options);
  options.cache = STRATA_SYNC_CACHE (cache);
  options.reference = dest;

  first = strata_sync_run (paths, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (first->from_cache);
  g_assert_cmpuint (strata_sync_memory_cache_get_n_stores (cache), ==, 1);
  g_assert_cmpuint (strata_sync_memory_cache_get_n_hits (cache), ==, 0);

  second = strata_sync_run (paths, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (second->from_cache);
  g_assert_cmpuint (strata_sync_memory_cache_get_n_hits (cache), ==, 1);
  g_assert_cmpuint (second->n_matches, ==, first->n_matches);
  g_assert_cmpint (second->reference, ==, first->reference);
  for (guint i = 0; i < 2; i++)
    {
      const StrataSyncTrace *a = strata_sync_result_get_trace (first, i);
      const StrataSyncTrace *b = strata_sync_result_get_trace (second, i);

      g_assert_cmpstr (a->path, ==, b->path);
      g_assert_cmpfloat (a->transform.a, ==, b->transform.a);
      g_assert_cmpint (a->transform.origin, ==, b->transform.origin);
      g_assert_cmpint (a->transform.ref_origin, ==, b->transform.ref_origin);
      g_assert_cmpfloat (a->transform.ref_frac, ==, b->transform.ref_frac);
      g_assert_cmpfloat (a->accuracy_ns, ==, b->accuracy_ns);
      g_assert_cmpfloat (a->b_min, ==, b->b_min);
      g_assert_cmpint (a->parent, ==, b->parent);
      g_assert_cmpint (a->synchronized, ==, b->synchronized);
      g_assert_cmpint (a->quality, ==, b->quality);
      g_assert_cmpuint (a->n_to_parent, ==, b->n_to_parent);
    }

  /* Another reference is another result */
  options.reference = src;
  third = strata_sync_run (paths, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (third->from_cache);
  g_assert_cmpint (third->reference, ==, 0);
  g_assert_cmpuint (strata_sync_memory_cache_get_n_hits (cache), ==, 1);
  g_assert_cmpuint (strata_sync_memory_cache_get_n_stores (cache), ==, 2);

  /* A trace that changed (it grew) has another identity; one that moved
   * keeps its own */
  key1 = strata_sync_cache_make_key (paths, dest, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (key1, "reference #1"));
  f = g_fopen (stream, "ab");
  g_assert_nonnull (f);
  fputc (0, f);
  fclose (f);
  key2 = strata_sync_cache_make_key (paths, dest, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key1, !=, key2);
  {
    g_autofree char *moved = g_build_filename (tmp, "moved", NULL);
    g_autofree char *moved_src = g_build_filename (moved, "scp_src", NULL);
    g_autofree char *moved_dest = g_build_filename (moved, "scp_dest", NULL);
    g_autofree char *key3 = NULL;
    const char *moved_paths[] = { moved_src, moved_dest, NULL };

    g_assert_cmpint (g_rename (copy, moved), ==, 0);
    key3 = strata_sync_cache_make_key (moved_paths, moved_dest, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (key3, ==, key2);
  }

  strata_test_rmtree (tmp);
}

static void
run_cb (GObject      *object,
        GAsyncResult *res,
        gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (res);
}

static void
progress_cb (guint    n_done,
             guint    n_traces,
             gpointer user_data)
{
  GArray *calls = user_data;

  g_assert_cmpuint (n_done, <=, n_traces);
  g_array_append_val (calls, n_done);
}

static void
test_async (void)
{
  g_autofree char *dir = strata_test_trace_path ("synctraces");
  g_autofree char *src = g_build_filename (dir, "scp_src", NULL);
  g_autofree char *dest = g_build_filename (dir, "scp_dest", NULL);
  const char *paths[] = { src, dest, NULL };
  g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(StrataSyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  StrataSyncOptions options;

  strata_sync_options_init (&options);
  options.progress = progress_cb;
  options.progress_data = calls;
  strata_sync_run_async (paths, &options, NULL, run_cb, &res);
  while (res == NULL)
    g_main_context_iteration (NULL, TRUE);
  result = strata_sync_run_finish (res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->n_matches, ==, 46);
  /* Progress: each trace read, in order, up to all of them */
  g_assert_cmpuint (calls->len, >=, 1);
  g_assert_cmpuint (g_array_index (calls, guint, calls->len - 1), ==, 2);
  for (guint i = 1; i < calls->len; i++)
    g_assert_cmpuint (g_array_index (calls, guint, i - 1), <, g_array_index (calls, guint, i));

  g_clear_object (&res);
  g_cancellable_cancel (cancellable);
  strata_sync_run_async (paths, NULL, cancellable, run_cb, &res);
  while (res == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (strata_sync_run_finish (res, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Cancelled while reading a larger archive: stops, frees everything */
static void
cancel_cb (guint    n_done,
           guint    n_traces,
           gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
test_cancel_midway (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "paper", NULL);
  g_autoptr(GPtrArray) locations = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  const char *dirs[] = { dir, NULL };
  StrataSimOptions sim;
  StrataSyncOptions options;

  strata_sim_options_init (&sim);
  sim.scenario = "paper";
  sim.seed = 2;
  sim.duration_ns = G_GINT64_CONSTANT (100000000);
  g_assert_true (strata_sim_run (&sim, dir, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  locations = strata_trace_discover (dirs, NULL, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < locations->len; i++)
    g_ptr_array_add (paths, ((StrataTraceLocation *) g_ptr_array_index (locations, i))->path);
  g_ptr_array_add (paths, NULL);

  /* Cancelled when the first trace is read, the others still reading */
  strata_sync_options_init (&options);
  options.max_threads = 1;
  options.progress = cancel_cb;
  options.progress_data = cancellable;
  g_assert_null (strata_sync_run ((const char * const *) paths->pdata, &options, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  strata_test_rmtree (tmp);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/strata/sync/synctraces", test_synctraces);
  g_test_add_func ("/strata/sync/reference-choice", test_reference_choice);
  g_test_add_data_func ("/strata/sync/simulated/paper-seed-4", GUINT_TO_POINTER (4), test_simulated);
  g_test_add_data_func ("/strata/sync/simulated/paper-seed-11", GUINT_TO_POINTER (11), test_simulated);
  g_test_add_func ("/strata/sync/deterministic", test_deterministic);
  g_test_add_func ("/strata/sync/degenerate/no-sync-events", test_no_sync_events);
  g_test_add_func ("/strata/sync/degenerate/one-direction", test_one_direction);
  g_test_add_func ("/strata/sync/degenerate/single-match", test_single_match);
  g_test_add_func ("/strata/sync/degenerate/crossing", test_crossing);
  g_test_add_func ("/strata/sync/degenerate/duplicate-cnt", test_duplicate_cnt);
  g_test_add_func ("/strata/sync/degenerate/same-vm-uid", test_same_vm_uid);
  g_test_add_func ("/strata/sync/degenerate/same-clock-and-unreadable", test_same_clock_and_unreadable);
  g_test_add_func ("/strata/sync/cache", test_cache);
  g_test_add_func ("/strata/sync/async", test_async);
  g_test_add_func ("/strata/sync/cancel-midway", test_cancel_midway);

  return g_test_run ();
}
