/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <cairo.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "strata-render-export.h"
#include "strata-render-format.h"
#include "strata-test-utils.h"

/*
 * core/render on a small simulated archive of the paper's system (a host
 * with containers, two L1 VMs, an L2 VM with a container): the time-graph
 * model against the simulation's ground truth and `strata-cli query`, the
 * permanent filters of the fused view, highlight filters measured on the
 * pixels, the model's pans, and `strata-cli render`'s files and exit
 * statuses.
 */

typedef struct
{
  guint   cpu;
  gint64  start;           /* [start, end) */
  gint64  end;
  char   *machine;
  char   *status;
} Truth;

static struct
{
  char              *dir;
  char              *archive;
  char              *cache;
  JsonNode          *summary;
  StrataAnalysis    *analysis;
  StrataRenderScope *scope;
  GArray            *truth;   /* Truth, by cpu then start */
} fx;

static void
truth_clear (gpointer data)
{
  Truth *t = data;

  g_free (t->machine);
  g_free (t->status);
}

static int
compare_truth (gconstpointer a,
               gconstpointer b)
{
  const Truth *x = a, *y = b;

  if (x->cpu != y->cpu)
    return x->cpu < y->cpu ? -1 : 1;
  return x->start < y->start ? -1 : x->start > y->start;
}

static void
load_truth (void)
{
  g_autofree char *path = g_build_filename (fx.archive, "ground-truth.tsv", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  fx.truth = g_array_new (FALSE, TRUE, sizeof (Truth));
  g_array_set_clear_func (fx.truth, truth_clear);
  lines = g_strsplit (text, "\n", 0);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = NULL;
      Truth t;

      if (!g_str_has_prefix (lines[i], "pcpu\t"))
        continue;
      f = g_strsplit (lines[i], "\t", 0);
      g_assert_cmpuint (g_strv_length (f), ==, 11);
      t.cpu = (guint) atoi (f[1]);
      t.start = g_ascii_strtoll (f[2], NULL, 10);
      t.end = g_ascii_strtoll (f[3], NULL, 10);
      t.machine = g_strdup (f[4]);
      t.status = g_strdup (f[10]);
      g_array_append_val (fx.truth, t);
    }
  g_array_sort (fx.truth, compare_truth);
  g_assert_cmpuint (fx.truth->len, >, 1000);
}

/* What physical CPU @cpu executed at @t, by the simulation */
static const Truth *
truth_at (guint  cpu,
          gint64 t)
{
  guint lo = 0, hi = fx.truth->len;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      const Truth *m = &g_array_index (fx.truth, Truth, mid);

      if (m->cpu < cpu || (m->cpu == cpu && m->start <= t))
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == 0)
    return NULL;
  {
    const Truth *m = &g_array_index (fx.truth, Truth, lo - 1);

    return m->cpu == cpu && m->start <= t && t < m->end ? m : NULL;
  }
}

static StrataRenderRows *
new_rows (StrataRenderView view)
{
  return strata_render_rows_new (fx.scope, view, STRATA_RENDER_THREADS_BY_TID, NULL);
}

static StrataTimeGraph *
new_model (StrataRenderRows *rows,
           gint64            t0,
           gint64            t1,
           guint             width)
{
  g_autoptr(GError) error = NULL;
  StrataTimeGraph *model = strata_time_graph_new (rows);

  strata_time_graph_update (model, t0, t1, width, &error);
  g_assert_no_error (error);
  return model;
}

static gint64
start_time (void)
{
  return strata_analysis_get_start_time (fx.analysis);
}

static gint64
end_time (void)
{
  return strata_analysis_get_end_time (fx.analysis);
}

/* The host's physical CPU rows show what the simulation ran there */
static void
test_fvs_ground_truth (void)
{
  g_autoptr(StrataRenderRows) rows = new_rows (STRATA_RENDER_VIEW_FVS);
  g_autoptr(StrataTimeGraph) model = new_model (rows, start_time (), end_time (), 1000);
  guint compared = 0, near = 0, cpus = 0;

  for (guint p = 0; p < strata_time_graph_get_n_rows (model); p++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);
      const StrataTimeGraphBin *bins = strata_time_graph_get_bins (model, p);

      if (row->kind != STRATA_RENDER_ROW_PCPU || row->filter.kind != STRATA_RENDER_FILTER_NONE)
        continue;
      cpus++;
      for (guint x = 0; x < strata_time_graph_get_width (model); x++)
        {
          gint64 t = strata_time_graph_get_bin_time (model, x);
          const Truth *truth = truth_at ((guint) row->cpu, t);
          const char *machine;

          if (t > end_time () || truth == NULL)
            continue;
          g_assert_cmpuint (bins[x].state, !=, STRATA_TIME_GRAPH_BIN_EMPTY);
          g_assert_cmpuint (bins[x].flags & STRATA_TIME_GRAPH_BIN_PARTIAL, ==, 0);
          /* The first instants of a CPU, before its first event, are
           * unknown to the analysis */
          if (bins[x].state == STRATA_CPU_UNKNOWN)
            continue;
          machine = strata_analysis_get_machine (fx.analysis, bins[x].machine)->name;
          /* A guest's statuses come from its own trace, synchronized to
           * within a microsecond: a sample that close to a change may see
           * either side */
          if (MIN (t - truth->start, truth->end - t) < 2000)
            {
              near++;
              continue;
            }
          compared++;
          if (!g_str_equal (machine, truth->machine)
              || !g_str_equal (strata_cpu_status_to_query (bins[x].state), truth->status))
            g_error ("cpu %d at %" G_GINT64_FORMAT ": %s %s, the simulation ran %s %s", row->cpu, t, machine,
                     strata_cpu_status_to_query (bins[x].state), truth->machine, truth->status);
        }
    }
  g_assert_cmpuint (cpus, ==, 4);
  g_test_message ("%u samples agree with the ground truth, %u within 2 µs of a change not compared", compared, near);
  g_assert_cmpuint (compared, >, 3000);
}

/* The same bins as `strata-cli query --json` at their sample times */
static void
test_fvs_query (void)
{
  g_autoptr(StrataRenderRows) rows = new_rows (STRATA_RENDER_VIEW_FVS);
  g_autoptr(StrataTimeGraph) model = new_model (rows, start_time (), end_time (), 640);
  g_autoptr(GString) at = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  StrataTestRun run;
  JsonArray *samples;
  guint checked = 0;

  for (guint x = 3; x < 640; x += 37)
    g_string_append_printf (at, "%s%" G_GINT64_FORMAT, at->len > 0 ? "," : "", strata_time_graph_get_bin_time (model, x));
  strata_test_run_cli (&run, "query", "--json", "--cache-dir", fx.cache, "--at", at->str, fx.archive, NULL);
  g_assert_cmpint (run.status, ==, 0);
  json_parser_load_from_data (parser, run.out, -1, &error);
  g_assert_no_error (error);
  samples = json_node_get_array (json_parser_get_root (parser));

  for (guint i = 0, x = 3; x < 640; x += 37, i++)
    {
      JsonArray *cpus = json_object_get_array_member (json_array_get_object_element (samples, i), "cpus");

      for (guint p = 0; p < strata_time_graph_get_n_rows (model); p++)
        {
          const StrataRenderRow *row = strata_time_graph_get_row (model, p);
          const StrataTimeGraphBin *bin = &strata_time_graph_get_bins (model, p)[x];
          const StrataRenderThread *th;
          JsonObject *cpu;

          if (row->kind != STRATA_RENDER_ROW_PCPU || row->filter.kind != STRATA_RENDER_FILTER_NONE)
            continue;
          cpu = json_array_get_object_element (cpus, (guint) row->cpu);
          g_assert_cmpint (json_object_get_int_member (cpu, "cpu"), ==, row->cpu);
          g_assert_cmpstr (json_object_get_string_member (cpu, "machine"), ==,
                           strata_analysis_get_machine (fx.analysis, bin->machine)->name);
          g_assert_cmpstr (json_object_get_string_member (cpu, "detail"), ==,
                           strata_cpu_status_to_string (bin->state));
          if (bin->thread == 0)
            g_assert_true (json_object_get_null_member (cpu, "tid"));
          else
            {
              th = strata_render_scope_get_thread (fx.scope, bin->thread - 1);
              g_assert_cmpint (json_object_get_int_member (cpu, "tid"), ==, th->tid);
            }
          if (bin->vcpu < 0)
            g_assert_true (json_object_get_null_member (cpu, "vcpu"));
          else
            g_assert_cmpint (json_object_get_int_member (cpu, "vcpu"), ==, bin->vcpu);
          checked++;
        }
    }
  g_assert_cmpuint (checked, ==, 18 * 4);
  strata_test_run_clear (&run);
}

/* The L0 row of the physical CPU that a filtered row filters */
static guint
host_row (StrataTimeGraph       *model,
          const StrataRenderRow *row)
{
  for (guint p = 0; p < strata_time_graph_get_n_rows (model); p++)
    {
      const StrataRenderRow *r = strata_time_graph_get_row (model, p);

      if (r->kind == STRATA_RENDER_ROW_PCPU && r->filter.kind == STRATA_RENDER_FILTER_NONE
          && r->machine == row->machine && r->cpu == row->cpu)
        return p;
    }
  g_assert_not_reached ();
}

static gboolean
filter_holds (const StrataRenderRow    *row,
              const StrataTimeGraphBin *bin)
{
  if (row->filter.kind == STRATA_RENDER_FILTER_MACHINE)
    return strata_render_scope_machine_runs (fx.scope, row->filter.machine, bin->machine);
  return bin->thread > 0 && strata_render_scope_container_holds (fx.scope, row->filter.container, (int) bin->thread - 1);
}

/* A VM's (or container's) physical CPU rows are the host's, empty exactly
 * where something else ran; a pixel where it began to run after the
 * sample shows it, flagged partial */
static void
test_fvs_filters (void)
{
  g_autoptr(StrataRenderRows) rows = new_rows (STRATA_RENDER_VIEW_FVS);
  g_autoptr(StrataTimeGraph) model = new_model (rows, start_time (), end_time (), 1200);
  StrataSht *sht = strata_analysis_get_sht (fx.analysis);
  guint vm_rows = 0, container_rows = 0, shown = 0, empty = 0, partial = 0;
  gint64 res = strata_time_graph_get_resolution (model);

  for (guint p = 0; p < strata_time_graph_get_n_rows (model); p++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);
      const StrataTimeGraphBin *bins = strata_time_graph_get_bins (model, p);
      const StrataTimeGraphBin *host;

      if (row->kind != STRATA_RENDER_ROW_PCPU || row->filter.kind == STRATA_RENDER_FILTER_NONE)
        continue;
      if (row->filter.kind == STRATA_RENDER_FILTER_MACHINE)
        vm_rows++;
      else
        container_rows++;
      host = strata_time_graph_get_bins (model, host_row (model, row));
      for (guint x = 0; x < strata_time_graph_get_width (model); x++)
        {
          if (host[x].state == STRATA_TIME_GRAPH_BIN_EMPTY)
            {
              g_assert_cmpuint (bins[x].state, ==, STRATA_TIME_GRAPH_BIN_EMPTY);
              continue;
            }
          if (filter_holds (row, &host[x]))
            {
              /* The same state, where the filter holds */
              g_assert_cmpuint (bins[x].state, ==, host[x].state);
              g_assert_cmpuint (bins[x].machine, ==, host[x].machine);
              g_assert_cmpuint (bins[x].thread, ==, host[x].thread);
              g_assert_cmpuint (bins[x].flags & STRATA_TIME_GRAPH_BIN_PARTIAL, ==, 0);
              shown++;
            }
          else if (bins[x].state == STRATA_TIME_GRAPH_BIN_EMPTY)
            empty++;
          else
            {
              /* Partial: what the filter shows starts inside the pixel,
               * and holds the next sample */
              g_autoptr(GError) error = NULL;
              StrataShtInterval next;

              g_assert_cmpuint (bins[x].flags & STRATA_TIME_GRAPH_BIN_PARTIAL, !=, 0);
              g_assert_true (filter_holds (row, &bins[x]));
              g_assert_cmpuint (x + 1, <, strata_time_graph_get_width (model));
              g_assert_cmpuint (bins[x].state, ==, host[x + 1].state);
              g_assert_cmpuint (bins[x].machine, ==, host[x + 1].machine);
              g_assert_cmpuint (bins[x].thread, ==, host[x + 1].thread);
              strata_sht_query_single (sht, row->quark, strata_time_graph_get_bin_time (model, x + 1), &next, &error);
              g_assert_no_error (error);
              g_assert_cmpint (next.start, >, strata_time_graph_get_bin_time (model, x));
              g_assert_cmpint (next.start, <, strata_time_graph_get_bin_time (model, x) + res);
              partial++;
            }
        }
    }
  /* vm1, vm2, vm3 and three containers, 4 CPUs each */
  g_assert_cmpuint (vm_rows, ==, 3 * 4);
  g_assert_cmpuint (container_rows, ==, 3 * 4);
  g_test_message ("filtered bins: %u shown, %u empty, %u partial", shown, empty, partial);
  g_assert_cmpuint (shown, >, 1000);
  g_assert_cmpuint (empty, >, 1000);
  g_assert_cmpuint (partial, >, 0);
}

/* Each data row's sub-pixel activity: a pixel holding a change that no
 * sample saw is flagged hidden */
static void
test_hidden (void)
{
  g_autoptr(StrataRenderRows) rows = new_rows (STRATA_RENDER_VIEW_FVS);
  g_autoptr(StrataTimeGraph) model = new_model (rows, start_time (), end_time (), 400);
  StrataSht *sht = strata_analysis_get_sht (fx.analysis);
  gint64 res = strata_time_graph_get_resolution (model);
  guint hidden = 0, plain = 0;

  for (guint p = 0; p < strata_time_graph_get_n_rows (model); p++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);
      const StrataTimeGraphBin *bins = strata_time_graph_get_bins (model, p);

      if (row->kind != STRATA_RENDER_ROW_PCPU || row->filter.kind != STRATA_RENDER_FILTER_NONE)
        continue;
      for (guint x = 0; x + 1 < strata_time_graph_get_width (model); x++)
        {
          g_autoptr(GError) error = NULL;
          gint64 t = strata_time_graph_get_bin_time (model, x);
          StrataShtInterval iv, next;
          gboolean skipped;

          if (t + res > end_time ())
            break;
          /* The interval at the sample, and the one after it: skipped
           * if that one also ends before the next sample */
          strata_sht_query_single (sht, row->quark, t, &iv, &error);
          g_assert_no_error (error);
          skipped = FALSE;
          if (iv.end + 1 < t + res)
            {
              strata_sht_query_single (sht, row->quark, iv.end + 1, &next, &error);
              g_assert_no_error (error);
              skipped = next.end < t + res;
            }
          g_assert_cmpint (!!(bins[x].flags & STRATA_TIME_GRAPH_BIN_HIDDEN), ==, skipped);
          if (skipped)
            hidden++;
          else
            plain++;
        }
    }
  g_test_message ("%u pixels with hidden states, %u without", hidden, plain);
  g_assert_cmpuint (hidden, >, 0);
  g_assert_cmpuint (plain, >, 0);
}

static void
assert_same_bins (StrataTimeGraph *a,
                  StrataTimeGraph *b)
{
  g_assert_cmpuint (strata_time_graph_get_n_rows (a), ==, strata_time_graph_get_n_rows (b));
  g_assert_cmpuint (strata_time_graph_get_width (a), ==, strata_time_graph_get_width (b));
  g_assert_cmpint (strata_time_graph_get_start (a), ==, strata_time_graph_get_start (b));
  for (guint p = 0; p < strata_time_graph_get_n_rows (a); p++)
    g_assert_cmpmem (strata_time_graph_get_bins (a, p), strata_time_graph_get_width (a) * sizeof (StrataTimeGraphBin),
                     strata_time_graph_get_bins (b, p), strata_time_graph_get_width (b) * sizeof (StrataTimeGraphBin));
}

/* A pan by whole pixels queries only the new columns, and gives the bins
 * a new model computes from scratch, at the history's edges too */
static void
test_pan (void)
{
  g_autoptr(StrataRenderRows) rows = new_rows (STRATA_RENDER_VIEW_FVS);
  gint64 span = (end_time () - start_time ()) / 20;
  gint64 t0 = start_time () - span / 4;
  g_autoptr(StrataTimeGraph) model = new_model (rows, t0, t0 + span, 500);
  gint64 res = strata_time_graph_get_resolution (model);
  const int shifts[] = { 7, 120, -45, 1, 499, -300, 60 };

  for (guint i = 0; i < G_N_ELEMENTS (shifts); i++)
    {
      g_autoptr(StrataTimeGraph) fresh = NULL;
      g_autoptr(GError) error = NULL;

      t0 += shifts[i] * res;
      strata_time_graph_update (model, t0, t0 + span, 500, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (strata_time_graph_get_n_queried_columns (model), ==, (guint) ABS (shifts[i]));
      fresh = new_model (rows, t0, t0 + span, 500);
      assert_same_bins (model, fresh);
    }
  /* Past the end */
  {
    g_autoptr(StrataTimeGraph) fresh = NULL;
    g_autoptr(GError) error = NULL;

    t0 = end_time () - span / 2;
    t0 -= (t0 - strata_time_graph_get_start (model)) % res;
    strata_time_graph_update (model, t0, t0 + span, 500, &error);
    g_assert_no_error (error);
    fresh = new_model (rows, t0, t0 + span, 500);
    assert_same_bins (model, fresh);
  }
}

/* Scrolling rows in keeps the bins of those still shown, and computes
 * the others as a new model would */
static void
test_scroll_rows (void)
{
  g_autoptr(StrataRenderRows) rows = new_rows (STRATA_RENDER_VIEW_FVS);
  guint n = strata_render_rows_get_n_rows (rows);
  g_autoptr(StrataTimeGraph) model = strata_time_graph_new (rows);
  g_autoptr(GArray) window = g_array_new (FALSE, FALSE, sizeof (guint));
  gint64 t0 = start_time () + 1000, t1 = end_time () - 1000;
  g_autoptr(GError) error = NULL;

  for (guint first = 0; first + 20 <= n; first += 7)
    {
      g_autoptr(StrataTimeGraph) fresh = NULL;

      g_array_set_size (window, 0);
      for (guint i = first; i < first + 20; i++)
        g_array_append_val (window, i);
      strata_time_graph_set_visible_rows (model, (const guint *) (gpointer) window->data, window->len);
      strata_time_graph_update (model, t0, t1, 333, &error);
      g_assert_no_error (error);

      fresh = strata_time_graph_new (rows);
      strata_time_graph_set_visible_rows (fresh, (const guint *) (gpointer) window->data, window->len);
      strata_time_graph_update (fresh, t0, t1, 333, &error);
      g_assert_no_error (error);
      assert_same_bins (model, fresh);
      for (guint p = 0; p < 20; p++)
        g_assert_true (strata_time_graph_get_row (model, p) == strata_render_rows_get_row (rows, first + p));
    }
}

/* The row trees of the three views */
static void
test_rows (void)
{
  g_autoptr(StrataRenderRows) fvs = new_rows (STRATA_RENDER_VIEW_FVS);
  g_autoptr(StrataRenderRows) vcpus = new_rows (STRATA_RENDER_VIEW_VCPUS);
  g_autoptr(StrataRenderRows) threads = new_rows (STRATA_RENDER_VIEW_THREADS);
  g_autoptr(StrataRenderRows) by_name = strata_render_rows_new (fx.scope, STRATA_RENDER_VIEW_THREADS,
                                                                STRATA_RENDER_THREADS_BY_NAME, NULL);
  g_autoptr(StrataRenderRows) found = strata_render_rows_new (fx.scope, STRATA_RENDER_VIEW_THREADS,
                                                              STRATA_RENDER_THREADS_BY_TID, "MYSQL");
  const StrataRenderRow *row;
  guint n_vcpus = 0, n_threads = 0, n_found = 0;
  int vm3 = strata_analysis_find_machine (fx.analysis, "vm3");

  /* FVS: host, its PCPUs, its 4 CPUs */
  row = strata_render_rows_get_row (fvs, 0);
  g_assert_cmpstr (row->label, ==, "host (L0)");
  g_assert_cmpint (row->kind, ==, STRATA_RENDER_ROW_HEADING);
  g_assert_cmpstr (strata_render_rows_get_row (fvs, 1)->label, ==, "PCPUs");
  for (guint i = 2; i < 6; i++)
    {
      row = strata_render_rows_get_row (fvs, i);
      g_assert_cmpint (row->kind, ==, STRATA_RENDER_ROW_PCPU);
      g_assert_cmpint (row->filter.kind, ==, STRATA_RENDER_FILTER_NONE);
      g_assert_cmpint (row->cpu, ==, (int) i - 2);
      g_assert_cmpint (row->depth, ==, 2);
      g_assert_cmpint (row->parent, ==, 1);
    }
  g_assert_cmpstr (strata_render_rows_get_row (fvs, 6)->label, ==, "Virtual Machines");
  /* vm3 nested in vm2, its container in it */
  for (guint i = 0; i < strata_render_rows_get_n_rows (fvs); i++)
    {
      row = strata_render_rows_get_row (fvs, i);
      if (row->kind == STRATA_RENDER_ROW_HEADING && row->machine == vm3 && g_str_equal (row->label, "vm3 (L2)"))
        {
          const StrataRenderRow *vms = strata_render_rows_get_row (fvs, (guint) row->parent);
          const StrataRenderRow *vm2 = strata_render_rows_get_row (fvs, (guint) vms->parent);

          g_assert_cmpstr (vms->label, ==, "Virtual Machines");
          g_assert_cmpstr (vm2->label, ==, "vm2 (L1)");
          g_assert_cmpuint (row->depth, ==, 4);
        }
    }

  /* vCPUs: 2 + 2 + 1, and the VMs' threads */
  for (guint i = 0; i < strata_render_rows_get_n_rows (vcpus); i++)
    {
      row = strata_render_rows_get_row (vcpus, i);
      n_vcpus += row->kind == STRATA_RENDER_ROW_VCPU;
      if (row->kind == STRATA_RENDER_ROW_THREAD)
        g_assert_cmpint (strata_analysis_get_machine (fx.analysis, (guint) row->machine)->layer, >, 0);
    }
  g_assert_cmpuint (n_vcpus, ==, 5);

  /* Threads: every one but the idle tasks, once; by name in order */
  for (guint i = 0; i < strata_render_rows_get_n_rows (threads); i++)
    n_threads += strata_render_rows_get_row (threads, i)->kind == STRATA_RENDER_ROW_THREAD;
  for (guint i = 0; i < strata_render_scope_get_n_threads (fx.scope); i++)
    n_found += strata_render_scope_get_thread (fx.scope, i)->tid > 0;
  g_assert_cmpuint (n_threads, ==, n_found);
  for (guint i = 1; i < strata_render_rows_get_n_rows (by_name); i++)
    {
      const StrataRenderRow *a = strata_render_rows_get_row (by_name, i - 1);
      const StrataRenderRow *b = strata_render_rows_get_row (by_name, i);

      if (a->kind == STRATA_RENDER_ROW_THREAD && b->kind == STRATA_RENDER_ROW_THREAD && a->parent == b->parent)
        g_assert_cmpint (g_utf8_collate (strata_render_scope_get_thread (fx.scope, (guint) a->thread)->comm,
                                         strata_render_scope_get_thread (fx.scope, (guint) b->thread)->comm), <=, 0);
    }
  /* A search keeps the matching threads and their headings */
  n_found = 0;
  for (guint i = 0; i < strata_render_rows_get_n_rows (found); i++)
    {
      row = strata_render_rows_get_row (found, i);
      if (row->kind == STRATA_RENDER_ROW_THREAD)
        {
          g_assert_cmpstr (strata_render_scope_get_thread (fx.scope, (guint) row->thread)->comm, ==, "mysqld");
          n_found++;
        }
    }
  g_assert_cmpuint (n_found, >, 0);
  g_assert_cmpstr (strata_render_rows_get_row (found, 0)->label, ==, "vm2 (L1)");
}

static double
luminance (const guint8 *px)
{
  /* Premultiplied ARGB32, opaque here: B, G, R in memory order */
  return 0.0722 * px[0] + 0.7152 * px[1] + 0.2126 * px[2];
}

/* The rows of @model and their highlight, on a white background */
static void
paint_into (cairo_surface_t     *target,
            StrataRenderPainter *painter,
            StrataTimeGraph     *model,
            StrataHighlight     *highlight)
{
  cairo_t *cr = cairo_create (target);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  strata_render_painter_paint_rows (painter, cr, model, 0, strata_time_graph_get_n_rows (model));
  strata_render_painter_paint_highlight (painter, cr, model, highlight, 0, strata_time_graph_get_n_rows (model));
  cairo_destroy (cr);
  cairo_surface_flush (target);
}

static cairo_surface_t *
paint (StrataTimeGraph *model,
       StrataHighlight *highlight,
       double           row_height)
{
  g_autoptr(StrataRenderPainter) painter = NULL;
  StrataRenderStyle style;
  cairo_surface_t *surface;

  strata_render_style_init (&style);
  style.row_height = row_height;
  painter = strata_render_painter_new (&style);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) strata_time_graph_get_width (model),
                                        (int) (strata_time_graph_get_n_rows (model) * row_height));
  paint_into (surface, painter, model, highlight);
  return surface;
}

/* Pixels written straight into an image surface are those cairo draws
 * (the same picture, replayed from a recording surface) */
static void
test_raster_matches_cairo (void)
{
  g_autoptr(StrataRenderRows) rows = new_rows (STRATA_RENDER_VIEW_FVS);
  g_autoptr(StrataTimeGraph) model = new_model (rows, start_time (), end_time (), 500);
  g_autoptr(StrataRenderPainter) painter = strata_render_painter_new (NULL);
  g_autoptr(StrataHighlight) highlight = strata_highlight_new ();
  g_autoptr(GError) error = NULL;
  guint n = strata_time_graph_get_n_rows (model);
  int height = (int) (n * strata_render_painter_get_style (painter)->row_height);
  cairo_surface_t *direct = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 500, height);
  cairo_surface_t *replayed = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 500, height);
  cairo_surface_t *recording = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, NULL);
  cairo_t *cr;
  guint differ = 0;

  strata_highlight_add_parsed (highlight, fx.scope, "machine=vm1", &error);
  g_assert_no_error (error);
  paint_into (direct, painter, model, highlight);
  paint_into (recording, painter, model, highlight);
  cr = cairo_create (replayed);
  cairo_set_source_surface (cr, recording, 0, 0);
  cairo_paint (cr);
  cairo_destroy (cr);
  cairo_surface_flush (replayed);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < 500; x++)
      {
        const guint8 *a = cairo_image_surface_get_data (direct) + y * cairo_image_surface_get_stride (direct) + x * 4;
        const guint8 *b = cairo_image_surface_get_data (replayed) + y * cairo_image_surface_get_stride (replayed) + x * 4;

        for (int c = 0; c < 4; c++)
          {
            /* Rounding of the blends may differ by one */
            g_assert_cmpint (ABS (a[c] - b[c]), <=, 1);
            differ += a[c] != b[c];
          }
      }
  g_test_message ("%u channel values differ by one", differ);
  cairo_surface_destroy (direct);
  cairo_surface_destroy (replayed);
  cairo_surface_destroy (recording);
}

/* Highlighting a machine leaves its pixels as they were and lightens
 * everything else, per pixel in the fused view, per row in the others */
static void
test_highlight_pixels (void)
{
  const StrataRenderView views[] = { STRATA_RENDER_VIEW_FVS, STRATA_RENDER_VIEW_VCPUS };

  for (guint v = 0; v < G_N_ELEMENTS (views); v++)
    {
      g_autoptr(StrataRenderRows) rows = new_rows (views[v]);
      g_autoptr(StrataTimeGraph) model = new_model (rows, start_time (), end_time (), 700);
      g_autoptr(StrataHighlight) none = strata_highlight_new ();
      g_autoptr(StrataHighlight) vm2 = strata_highlight_new ();
      g_autoptr(GError) error = NULL;
      cairo_surface_t *plain, *lit;
      const double h = 16;
      guint same = 0, lighter = 0;
      int stride;

      strata_highlight_add_parsed (vm2, fx.scope, "machine=vm2", &error);
      g_assert_no_error (error);
      plain = paint (model, none, h);
      lit = paint (model, vm2, h);
      stride = cairo_image_surface_get_stride (plain);

      for (guint p = 0; p < strata_time_graph_get_n_rows (model); p++)
        {
          const StrataRenderRow *row = strata_time_graph_get_row (model, p);
          const StrataTimeGraphBin *bins = strata_time_graph_get_bins (model, p);
          /* The middle of the bar */
          int y = (int) (p * h + h / 2);

          for (guint x = 0; x < strata_time_graph_get_width (model); x++)
            {
              const guint8 *a = cairo_image_surface_get_data (plain) + y * stride + x * 4;
              const guint8 *b = cairo_image_surface_get_data (lit) + y * stride + x * 4;

              if (row->kind == STRATA_RENDER_ROW_HEADING || strata_time_graph_is_selected (model, vm2, p, x))
                {
                  g_assert_cmpmem (a, 4, b, 4);
                  same += row->kind != STRATA_RENDER_ROW_HEADING;
                }
              else if (bins[x].state != STRATA_TIME_GRAPH_BIN_EMPTY && luminance (a) < 250)
                {
                  g_assert_cmpfloat (luminance (b), >, luminance (a) + 10);
                  lighter++;
                }
            }
        }
      g_test_message ("%s: %u pixels kept, %u lightened", strata_render_view_to_string (views[v]), same, lighter);
      g_assert_cmpuint (same, >, 1000);
      g_assert_cmpuint (lighter, >, 1000);
      cairo_surface_destroy (plain);
      cairo_surface_destroy (lit);
    }
}

/* Selections of each kind, on what they select */
static void
test_highlight_kinds (void)
{
  g_autoptr(StrataHighlight) h = strata_highlight_new ();
  g_autoptr(GError) error = NULL;
  int host = strata_analysis_find_machine (fx.analysis, "host");
  int vm2 = strata_analysis_find_machine (fx.analysis, "vm2");
  int vm3 = strata_analysis_find_machine (fx.analysis, "vm3");
  const StrataRenderContainer *c = NULL;
  guint in_container = 0;

  /* A machine selects the VMs it runs */
  strata_highlight_add_parsed (h, fx.scope, "machine=vm2", &error);
  g_assert_no_error (error);
  g_assert_true (strata_highlight_matches_execution (h, fx.scope, host, 0, vm3, 0, -1));
  g_assert_false (strata_highlight_matches_execution (h, fx.scope, host, 0, host, -1, -1));
  strata_highlight_remove_all (h);

  strata_highlight_add_parsed (h, fx.scope, "vcpu=vm2/1", &error);
  g_assert_no_error (error);
  g_assert_true (strata_highlight_matches_execution (h, fx.scope, host, 3, vm2, 1, -1));
  g_assert_false (strata_highlight_matches_execution (h, fx.scope, host, 3, vm2, 0, -1));
  strata_highlight_remove_all (h);

  strata_highlight_add_parsed (h, fx.scope, "pcpu=host/2", &error);
  g_assert_no_error (error);
  g_assert_true (strata_highlight_matches_execution (h, fx.scope, host, 2, vm3, 0, -1));
  g_assert_false (strata_highlight_matches_execution (h, fx.scope, host, 1, vm3, 0, -1));
  strata_highlight_remove_all (h);

  /* vm3's container: its threads, nothing else */
  g_assert_cmpint (strata_render_scope_get_n_containers (fx.scope), ==, 3);
  for (guint i = 0; i < strata_render_scope_get_n_containers (fx.scope); i++)
    if (strata_render_scope_get_container (fx.scope, i)->machine == vm3)
      c = strata_render_scope_get_container (fx.scope, i);
  g_assert_nonnull (c);
  {
    g_autofree char *text = g_strdup_printf ("container=%" G_GUINT64_FORMAT, c->inum);

    strata_highlight_add_parsed (h, fx.scope, text, &error);
    g_assert_no_error (error);
  }
  for (guint t = 0; t < strata_render_scope_get_n_threads (fx.scope); t++)
    {
      const StrataRenderThread *th = strata_render_scope_get_thread (fx.scope, t);
      gboolean in = th->container >= 0 && strata_render_scope_get_container (fx.scope, (guint) th->container) == c;

      g_assert_cmpint (strata_highlight_matches_execution (h, fx.scope, host, 0, th->machine, 0, (int) t), ==, in);
      in_container += in;
    }
  g_assert_cmpuint (in_container, ==, c->n_threads);
  g_assert_cmpuint (in_container, >, 0);
  strata_highlight_remove_all (h);

  /* Names that name nothing, and text that is no highlight */
  g_assert_false (strata_highlight_add_parsed (h, fx.scope, "machine=nope", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (strata_highlight_add_parsed (h, fx.scope, "vcpu=vm1/9", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (strata_highlight_add_parsed (h, fx.scope, "thread=vm1/99999", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (strata_highlight_check_syntax ("cpu=1", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (strata_highlight_check_syntax ("vcpu=3", &error));
  g_clear_error (&error);
  g_assert_false (strata_highlight_check_syntax ("pcpu=host/x", &error));
  g_clear_error (&error);
  g_assert_true (strata_highlight_check_syntax ("thread=1234", NULL));
  g_assert_true (strata_highlight_is_empty (h));
}

/* Hover: the interval under the pointer, and who ran there */
static void
test_lookup (void)
{
  g_autoptr(StrataRenderRows) rows = new_rows (STRATA_RENDER_VIEW_FVS);
  g_autoptr(StrataTimeGraph) model = new_model (rows, start_time (), end_time (), 300);
  int vm3 = strata_analysis_find_machine (fx.analysis, "vm3");
  gboolean seen_chain = FALSE;
  guint found = 0;

  for (guint p = 0; p < strata_time_graph_get_n_rows (model); p++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);
      const StrataTimeGraphBin *bins = strata_time_graph_get_bins (model, p);

      for (guint x = 0; x < 300; x += 3)
        {
          g_autoptr(GError) error = NULL;
          StrataTimeGraphItem item;
          gboolean ok = strata_time_graph_lookup (model, p, x, &item, &error);

          g_assert_no_error (error);
          if (row->kind == STRATA_RENDER_ROW_HEADING || strata_time_graph_get_bin_time (model, x) > end_time ())
            {
              g_assert_false (ok);
              continue;
            }
          /* At the bin's own time: its state */
          g_assert_cmpint (ok, ==, bins[x].state != STRATA_TIME_GRAPH_BIN_EMPTY
                                   && !(bins[x].flags & STRATA_TIME_GRAPH_BIN_PARTIAL));
          if (!ok)
            continue;
          found++;
          g_assert_cmpint (item.time, ==, strata_time_graph_get_bin_time (model, x));
          g_assert_cmpint (item.start, <=, item.time);
          g_assert_cmpint (item.end, >=, item.time);
          g_assert_cmpuint (item.state, ==, bins[x].state);
          g_assert_cmpint (item.machine, ==, bins[x].machine);
          g_assert_cmpint (item.cpu, ==, row->cpu);
          if (item.thread >= 0)
            g_assert_cmpint (item.thread_info.tid, ==, strata_render_scope_get_thread (fx.scope, (guint) item.thread)->tid);
          /* vm3's code runs on a vCPU of vm2 */
          if (item.machine == vm3 && item.state != STRATA_CPU_VMM && item.n_chain == 2)
            {
              g_autofree char *text = strata_time_graph_item_to_text (&item, fx.scope);

              g_assert_cmpint (item.chain_machine[1], ==, strata_analysis_find_machine (fx.analysis, "vm2"));
              g_assert_nonnull (strstr (text, "vCPU: vm3/0 on vm2/"));
              g_assert_nonnull (strstr (text, "Machine: vm3 (L2)"));
              g_assert_nonnull (strstr (text, "Thread: "));
              seen_chain = TRUE;
            }
          strata_time_graph_item_clear (&item);
        }
    }
  g_assert_cmpuint (found, >, 500);
  g_assert_true (seen_chain);
}

static void
test_format (void)
{
  const struct { gint64 ns, step, magnitude; const char *text; } offsets[] = {
    { 0, 20000000, 180000000, "0 ms" },
    { 40000000, 20000000, 180000000, "40 ms" },
    { 12500000, 500000, 20000000, "12.5 ms" },
    { 31020000, 20000, 31200000, "31.02 ms" },
    { 100000100, 100, 100000500, "100.0001 ms" },
    { 1500000001, 1, 1500000010, "1500.000001 ms" },
    { 1500000000, 500000000, 3000000000, "1.5 s" },
    { 750, 50, 900, "750 ns" },
    { 3000, 1000, 9000, "3 µs" },
    { 0, 1000, 9000, "0 µs" },
  };
  const struct { gint64 ns; const char *text; } durations[] = {
    { 812, "812 ns" }, { 1250, "1.25 µs" }, { 12500000, "12.5 ms" }, { 1200000000, "1.20 s" }, { 999999, "1000 µs" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      g_autofree char *text = strata_render_format_offset (offsets[i].ns, offsets[i].step, offsets[i].magnitude);

      g_assert_cmpstr (text, ==, offsets[i].text);
    }
  for (guint i = 0; i < G_N_ELEMENTS (durations); i++)
    {
      g_autofree char *text = strata_render_format_duration (durations[i].ns);

      g_assert_cmpstr (text, ==, durations[i].text);
    }
}

static void
assert_file_starts (const char *path,
                    const char *prefix,
                    gsize       n)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, n);
  g_assert_cmpmem (data, n, prefix, n);
}

/* strata-cli render writes each format */
static void
test_cli_formats (void)
{
  g_autofree char *png = g_build_filename (fx.dir, "fvs.png", NULL);
  g_autofree char *svg = g_build_filename (fx.dir, "vcpu.svg", NULL);
  g_autofree char *pdf = g_build_filename (fx.dir, "threads.pdf", NULL);
  g_autofree char *svg_text = NULL;
  g_autofree char *from = g_strdup_printf ("%" G_GINT64_FORMAT, start_time () + 10000000);
  g_autofree char *to = g_strdup_printf ("%" G_GINT64_FORMAT, start_time () + 30000000);
  cairo_surface_t *image;
  StrataTestRun run;

  strata_test_run_cli (&run, "render", "--view", "fvs", "--width", "900", "--highlight", "machine=vm1",
                       "--highlight", "pcpu=2", "--cache-dir", fx.cache, "-o", png, fx.archive, NULL);
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  strata_test_run_clear (&run);
  assert_file_starts (png, "\x89PNG\r\n\x1a\n", 8);
  image = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (image), ==, 900);
  /* Title, ruler, 47 rows of 18 px and the legend */
  g_assert_cmpint (cairo_image_surface_get_height (image), >, 47 * 18);
  cairo_surface_destroy (image);

  strata_test_run_cli (&run, "render", "--view", "vcpu", "--from", from, "--to", to, "--dark",
                       "--cache-dir", fx.cache, "-o", svg, fx.archive, NULL);
  g_assert_cmpint (run.status, ==, 0);
  strata_test_run_clear (&run);
  g_file_get_contents (svg, &svg_text, NULL, NULL);
  g_assert_nonnull (svg_text);
  g_assert_true (g_str_has_prefix (svg_text, "<?xml"));
  g_assert_nonnull (strstr (svg_text, "<svg"));

  strata_test_run_cli (&run, "render", "--view", "threads", "--color-by", "machine", "--sort", "name",
                       "--search", "node", "--cache-dir", fx.cache, "-o", pdf, fx.archive, NULL);
  g_assert_cmpint (run.status, ==, 0);
  strata_test_run_clear (&run);
  assert_file_starts (pdf, "%PDF-", 5);
}

/* Usage errors exit 2 without writing anything; analysis errors 1 */
static void
test_cli_errors (void)
{
  g_autofree char *out = g_build_filename (fx.dir, "bad.png", NULL);
  g_autofree char *jpg = g_build_filename (fx.dir, "bad.jpg", NULL);
  g_autofree char *missing = g_build_filename (fx.dir, "no-such-folder", NULL);
  const char * const usage[][5] = {
    { "--view", "gantt", "--width", "800", out },
    { "--view", "fvs", "--width", "800", jpg },
    { "--view", "fvs", "--highlight", "machine", out },
    { "--view", "fvs", "--highlight", "core=1", out },
    { "--view", "fvs", "--highlight", "vcpu=vm1", out },
    { "--view", "fvs", "--highlight", "machine=nope", out },
    { "--view", "fvs", "--highlight", "thread=vm1/99999", out },
    { "--view", "fvs", "--width", "10", out },
    { "--view", "fvs", "--from", "soon", out },
    { "--view", "fvs", "--color-by", "mood", out },
  };
  StrataTestRun run;

  for (guint i = 0; i < G_N_ELEMENTS (usage); i++)
    {
      strata_test_run_cli (&run, "render", usage[i][0], usage[i][1], usage[i][2], usage[i][3], "-o", usage[i][4],
                           "--cache-dir", fx.cache, fx.archive, NULL);
      g_test_message ("%s %s %s %s: %d", usage[i][0], usage[i][1], usage[i][2], usage[i][3], run.status);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_nonnull (strstr (run.err, "strata-cli: "));
      strata_test_run_clear (&run);
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
      g_assert_false (g_file_test (jpg, G_FILE_TEST_EXISTS));
    }

  strata_test_run_cli (&run, "render", "-o", out, "--cache-dir", fx.cache, fx.archive, NULL);
  g_assert_cmpint (run.status, ==, 2);
  strata_test_run_clear (&run);
  strata_test_run_cli (&run, "render", "--view", "fvs", "--cache-dir", fx.cache, fx.archive, NULL);
  g_assert_cmpint (run.status, ==, 2);
  strata_test_run_clear (&run);
  strata_test_run_cli (&run, "render", "--view", "fvs", "-o", out, NULL);
  g_assert_cmpint (run.status, ==, 2);
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "render", "--view", "fvs", "-o", out, "--cache-dir", fx.cache, missing, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  strata_test_run_clear (&run);
}

static void
setup (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  StrataTestRun run;
  JsonObject *root;

  fx.dir = strata_test_make_tmpdir ();
  fx.archive = g_build_filename (fx.dir, "archive", NULL);
  fx.cache = g_build_filename (fx.dir, "cache", NULL);
  strata_test_run_cli (&run, "simulate", "--scenario", "paper", "--duration-ms", "100", "--out", fx.archive, NULL);
  g_assert_cmpint (run.status, ==, 0);
  strata_test_run_clear (&run);
  strata_test_run_cli (&run, "analyze", "--json", "--cache-dir", fx.cache, fx.archive, NULL);
  g_assert_cmpint (run.status, ==, 0);
  json_parser_load_from_data (parser, run.out, -1, &error);
  g_assert_no_error (error);
  strata_test_run_clear (&run);
  fx.summary = json_node_copy (json_parser_get_root (parser));
  root = json_node_get_object (fx.summary);
  fx.analysis = strata_analysis_open (json_object_get_string_member (json_object_get_object_member (root, "sht"), "path"),
                                      0, &error);
  g_assert_no_error (error);
  fx.scope = strata_render_scope_new (fx.analysis, fx.summary, &error);
  g_assert_no_error (error);
  load_truth ();
}

static void
teardown (void)
{
  g_clear_pointer (&fx.truth, g_array_unref);
  g_clear_pointer (&fx.scope, strata_render_scope_unref);
  g_clear_pointer (&fx.analysis, strata_analysis_unref);
  g_clear_pointer (&fx.summary, json_node_unref);
  strata_test_rmtree (fx.dir);
  g_free (fx.dir);
  g_free (fx.archive);
  g_free (fx.cache);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/strata/render/format", test_format);
  g_test_add_func ("/strata/render/rows", test_rows);
  g_test_add_func ("/strata/render/fvs-ground-truth", test_fvs_ground_truth);
  g_test_add_func ("/strata/render/fvs-query", test_fvs_query);
  g_test_add_func ("/strata/render/fvs-filters", test_fvs_filters);
  g_test_add_func ("/strata/render/hidden", test_hidden);
  g_test_add_func ("/strata/render/pan", test_pan);
  g_test_add_func ("/strata/render/scroll-rows", test_scroll_rows);
  g_test_add_func ("/strata/render/lookup", test_lookup);
  g_test_add_func ("/strata/render/highlight-kinds", test_highlight_kinds);
  g_test_add_func ("/strata/render/highlight-pixels", test_highlight_pixels);
  g_test_add_func ("/strata/render/raster-matches-cairo", test_raster_matches_cairo);
  g_test_add_func ("/strata/render/cli-formats", test_cli_formats);
  g_test_add_func ("/strata/render/cli-errors", test_cli_errors);

  setup ();
  ret = g_test_run ();
  teardown ();
  return ret;
}
