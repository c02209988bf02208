/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "strata-analysis.h"
#include "strata-experiment.h"
#include "strata-sim.h"
#include "strata-test-utils.h"

/* The analysis pipeline as a library: progress, cancellation, machine
 * identification and the roles a user gives, damaged and missing input. */

typedef struct
{
  char *dir;
  char *archive;
  char *sht;
} Fixture;

static void
simulate (const char *scenario,
          const char *out,
          gboolean    host_only)
{
  g_autoptr(GError) error = NULL;
  StrataSimOptions options;

  strata_sim_options_init (&options);
  options.scenario = scenario;
  options.duration_ns = 40 * G_TIME_SPAN_MILLISECOND * 1000;
  options.host_only = host_only;
  g_assert_true (strata_sim_run (&options, out, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = strata_test_make_tmpdir ();
  f->archive = g_build_filename (f->dir, "archive", NULL);
  f->sht = g_build_filename (f->dir, "analysis.sht", NULL);
  simulate (data != NULL ? data : "paper", f->archive, FALSE);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  strata_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->archive);
  g_free (f->sht);
}

static JsonObject *
find_machine (JsonNode   *summary,
              const char *name)
{
  JsonArray *machines = json_object_get_array_member (json_node_get_object (summary), "machines");

  for (guint i = 0; i < json_array_get_length (machines); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (machines, i), "name"), name) == 0)
      return json_array_get_object_element (machines, i);
  return NULL;
}

static StrataExperimentResult *
run (Fixture                        *f,
     const StrataExperimentOptions  *options,
     GError                        **error)
{
  const char *paths[] = { f->archive, NULL };
  StrataExperimentOptions defaults;

  if (options == NULL)
    {
      strata_experiment_options_init (&defaults);
      defaults.sht_path = f->sht;
      options = &defaults;
    }
  return strata_experiment_run (paths, options, NULL, error);
}

/* ---------------------------------------------------------------------- */

typedef struct
{
  GArray       *fractions;
  GArray       *phases;
  GCancellable   *cancel_in_fuse;
  StrataAnalysis *live;
} Watch;

static void
progress_cb (const StrataExperimentProgress *progress,
             gpointer                        user_data)
{
  Watch *w = user_data;

  g_array_append_val (w->fractions, progress->fraction);
  g_array_append_val (w->phases, progress->phase);
  if (w->cancel_in_fuse != NULL && progress->phase == STRATA_EXPERIMENT_FUSE)
    g_cancellable_cancel (w->cancel_in_fuse);
}

static void
started_cb (StrataAnalysis *analysis,
            gpointer        user_data)
{
  Watch *w = user_data;

  /* Before any event is fused, the machines are there to show */
  g_assert_nonnull (analysis);
  g_assert_cmpuint (strata_analysis_get_n_machines (analysis), ==, 4);
  w->live = strata_analysis_ref (analysis);
}

static void
test_progress (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataExperimentResult) result = NULL;
  g_autoptr(StrataAnalysis) analysis = NULL;
  StrataExperimentOptions options;
  Watch w = { g_array_new (FALSE, FALSE, sizeof (double)), g_array_new (FALSE, FALSE, sizeof (int)), NULL, NULL };

  strata_experiment_options_init (&options);
  options.sht_path = f->sht;
  options.progress = progress_cb;
  options.started = started_cb;
  options.user_data = &w;
  result = run (f, &options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  /* The analysis a viewer held while it ran is the finished one */
  g_assert_true (w.live == result->analysis);
  {
    g_autoptr(GArray) cpus = strata_analysis_query_cpus (w.live, strata_analysis_get_end_time (w.live) - 1, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (cpus->len, ==, 4);
  }
  g_clear_pointer (&w.live, strata_analysis_unref);

  /* Phases in order, fractions never going back, ending at 1 */
  g_assert_cmpuint (w.phases->len, >=, 4);
  g_assert_cmpint (g_array_index (w.phases, int, 0), ==, STRATA_EXPERIMENT_DISCOVER);
  g_assert_cmpint (g_array_index (w.phases, int, w.phases->len - 1), ==, STRATA_EXPERIMENT_DONE);
  for (guint i = 1; i < w.fractions->len; i++)
    {
      g_assert_cmpint (g_array_index (w.phases, int, i), >=, g_array_index (w.phases, int, i - 1));
      g_assert_cmpfloat (g_array_index (w.fractions, double, i), >=, g_array_index (w.fractions, double, i - 1));
    }
  g_assert_cmpfloat (g_array_index (w.fractions, double, w.fractions->len - 1), ==, 1.0);

  /* The SHT is whole and answers for the machines found */
  g_assert_cmpuint (result->n_events, >, 1000);
  g_assert_cmpuint (result->n_errors, ==, 0);
  analysis = strata_analysis_open (f->sht, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strata_analysis_get_n_machines (analysis), ==, 4);
  g_assert_cmpint (strata_analysis_find_machine (analysis, "vm3"), >=, 0);
  g_assert_cmpint (strata_analysis_get_machine (analysis, strata_analysis_find_machine (analysis, "vm3"))->layer, ==, 2);
  /* Synchronized guests: every event inside its vCPUs' entry windows */
  {
    JsonArray *machines = json_object_get_array_member (json_node_get_object (result->summary), "machines");

    for (guint i = 0; i < json_array_get_length (machines); i++)
      {
        JsonObject *m = json_array_get_object_element (machines, i);

        if (json_object_has_member (m, "events_outside_entries"))
          g_assert_cmpint (json_object_get_int_member (m, "events_outside_entries"), ==, 0);
      }
  }

  g_array_unref (w.fractions);
  g_array_unref (w.phases);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *part = g_strconcat (f->sht, ".part", NULL);
  const char *paths[] = { f->archive, NULL };
  StrataExperimentOptions options;
  StrataExperimentResult *result;
  Watch w = { g_array_new (FALSE, FALSE, sizeof (double)), g_array_new (FALSE, FALSE, sizeof (int)),
              cancellable, NULL };

  strata_experiment_options_init (&options);
  options.sht_path = f->sht;
  options.progress = progress_cb;
  options.user_data = &w;
  result = strata_experiment_run (paths, &options, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (result);
  /* Nothing left that could be taken for an analysis */
  g_assert_false (g_file_test (f->sht, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));

  g_array_unref (w.fractions);
  g_array_unref (w.phases);
}

typedef struct
{
  GMainLoop              *loop;
  StrataExperimentResult *result;
  GError                 *error;
} AsyncRun;

static void
async_cb (GObject      *object,
          GAsyncResult *res,
          gpointer      user_data)
{
  AsyncRun *r = user_data;

  r->result = strata_experiment_run_finish (res, &r->error);
  g_main_loop_quit (r->loop);
}

static void
test_async (Fixture       *f,
            gconstpointer  data)
{
  const char *paths[] = { f->archive, NULL };
  StrataExperimentOptions options;
  AsyncRun r = { g_main_loop_new (NULL, FALSE), NULL, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataExperimentResult) sync_result = NULL;
  g_autofree char *sht2 = g_build_filename (f->dir, "second.sht", NULL);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  strata_experiment_options_init (&options);
  options.sht_path = f->sht;
  strata_experiment_run_async (paths, &options, NULL, async_cb, &r);
  g_main_loop_run (r.loop);
  g_assert_no_error (r.error);
  g_assert_nonnull (r.result);

  /* The same answers as the synchronous run */
  options.sht_path = sht2;
  sync_result = strata_experiment_run (paths, &options, NULL, &error);
  g_assert_no_error (error);
  a = json_to_string (json_object_get_member (json_node_get_object (r.result->stats), "vcpus"), FALSE);
  b = json_to_string (json_object_get_member (json_node_get_object (sync_result->stats), "vcpus"), FALSE);
  g_assert_cmpstr (a, ==, b);

  strata_experiment_result_free (r.result);
  g_main_loop_unref (r.loop);
}

/* Machines from the events, and the roles a user gives */
static void
test_roles (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataExperimentResult) automatic = NULL;
  g_autoptr(StrataExperimentResult) as_host = NULL;
  g_autoptr(StrataExperimentResult) tied = NULL;
  StrataRoleOverride make_host[] = { { "vm1/kernel", NULL, -1 } };
  StrataRoleOverride bad[] = { { "no-such-trace", NULL, -1 } };
  StrataExperimentOptions options;
  JsonObject *vm1;

  automatic = run (f, NULL, &error);
  g_assert_no_error (error);
  vm1 = find_machine (automatic->summary, "vm1");
  g_assert_nonnull (vm1);
  g_assert_cmpstr (json_object_get_string_member (vm1, "parent"), ==, "host");
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (vm1, "vcpus")), ==, 2);

  /* A guest made a host: its VM on the host is then an untraced one */
  strata_experiment_options_init (&options);
  options.sht_path = f->sht;
  options.roles = make_host;
  options.n_roles = G_N_ELEMENTS (make_host);
  as_host = run (f, &options, &error);
  g_assert_no_error (error);
  vm1 = find_machine (as_host->summary, "vm1");
  g_assert_nonnull (vm1);
  g_assert_true (json_object_get_null_member (vm1, "parent"));
  g_assert_cmpint (json_object_get_int_member (vm1, "layer"), ==, 0);
  {
    int pid = (int) json_object_get_int_member (find_machine (automatic->summary, "vm1"), "qemu_pid");
    g_autofree char *name = g_strdup_printf ("qemu-%d", pid);
    JsonObject *untraced = find_machine (as_host->summary, name);
    StrataRoleOverride tie[] = { { "vm1/kernel", "host", pid } };

    g_assert_nonnull (untraced);
    g_assert_false (json_object_get_boolean_member (untraced, "traced"));

    /* And tied back by hand, to its QEMU process */
    options.roles = tie;
    options.n_roles = G_N_ELEMENTS (tie);
    tied = run (f, &options, &error);
    g_assert_no_error (error);
    vm1 = find_machine (tied->summary, "vm1");
    g_assert_cmpstr (json_object_get_string_member (vm1, "parent"), ==, "host");
    g_assert_null (find_machine (tied->summary, name));
  }

  /* A role naming no trace is an error that names it */
  options.roles = bad;
  options.n_roles = G_N_ELEMENTS (bad);
  g_assert_null (run (f, &options, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "no-such-trace"));
}

/* A guest trace cut short: the rest is analysed, the problem named */
static void
test_damaged_guest (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataExperimentResult) result = NULL;
  g_autofree char *guest = g_build_filename (f->archive, "vm2", "kernel", NULL);
  g_autoptr(GDir) dir = g_dir_open (guest, 0, &error);
  g_autofree char *text = NULL;
  const char *name;
  guint n_cut = 0;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "channel"))
      {
        g_autofree char *file = g_build_filename (guest, name, NULL);
        GStatBuf st;

        g_assert_cmpint (g_stat (file, &st), ==, 0);
        g_assert_cmpint (truncate (file, st.st_size / 2 + 7), ==, 0);
        n_cut++;
      }
  g_assert_cmpuint (n_cut, >, 0);

  result = run (f, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (find_machine (result->summary, "vm3"));
  text = json_to_string (result->summary, FALSE);
  g_assert_nonnull (strstr (text, "vm2/kernel"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (result->summary),
                                                                        "problems")), >, 0);
}

/* Intervals during which a thread of a guest is on a physical CPU,
 * from the simulation's ground truth: "machine/tid" → GArray of gint64
 * pairs, in time order */
static GHashTable *
truth_on_cpu (const char *archive)
{
  g_autofree char *path = g_build_filename (archive, "ground-truth.tsv", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  GHashTable *on_cpu = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", 0);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "\t", 0);
      g_autofree char *key = NULL;
      GArray *spans;
      gint64 span[2];

      if (g_strv_length (f) < 11 || !g_str_equal (f[0], "pcpu") || g_str_equal (f[5], "0")
          || g_str_equal (f[10], "vmm") || g_str_equal (f[10], "idle"))
        continue;
      key = g_strdup_printf ("%s/%s", f[4], f[7]);
      spans = g_hash_table_lookup (on_cpu, key);
      if (spans == NULL)
        {
          spans = g_array_new (FALSE, FALSE, 2 * sizeof (gint64));
          g_hash_table_insert (on_cpu, g_steal_pointer (&key), spans);
        }
      span[0] = g_ascii_strtoll (f[2], NULL, 10);
      span[1] = g_ascii_strtoll (f[3], NULL, 10);
      g_array_append_vals (spans, span, 1);
    }
  return on_cpu;
}

/* 1 on a CPU at @t, 0 not, -1 too close to a change to tell */
static int
on_cpu_at (GArray *spans,
           gint64  t,
           gint64  tolerance)
{
  int on = 0;

  for (guint i = 0; spans != NULL && i < spans->len; i++)
    {
      const gint64 *span = &g_array_index (spans, gint64, 2 * i);

      if (ABS (t - span[0]) <= tolerance || ABS (t - span[1]) <= tolerance)
        return -1;
      if (span[0] <= t && t < span[1])
        on = 1;
    }
  return on;
}

/* The central point: a guest thread its kernel believes running is shown
 * preempted by the host (or in the hypervisor) exactly when, in truth, it
 * is on no physical CPU */
static void
test_thread_states (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataExperimentResult) result = run (f, NULL, &error);
  g_autoptr(GHashTable) truth = truth_on_cpu (f->archive);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  StrataAnalysis *analysis;
  guint n_running = 0, n_preempted = 0, n_threads;
  gint64 start, end;

  g_assert_no_error (error);
  analysis = result->analysis;
  n_threads = strata_analysis_get_n_threads (analysis);
  g_assert_cmpuint (n_threads, >, 20);
  start = strata_analysis_get_start_time (analysis);
  end = strata_analysis_get_end_time (analysis);

  for (guint k = 0; k < 400; k++)
    {
      /* Past the first milliseconds, where what runs is not known yet */
      gint64 t = start + (end - start) / 10 + (gint64) g_rand_double_range (rand, 0, (double) (end - start) * 0.9);

      for (guint32 i = 0; i < n_threads; i++)
        {
          StrataThreadStatus status = strata_analysis_get_thread_status (analysis, i, t);
          StrataThreadInfo info;
          g_autofree char *key = NULL;
          const StrataAnalysisMachine *m;
          int on;

          if (status != STRATA_THREAD_USER && status != STRATA_THREAD_SYSCALL
              && status != STRATA_THREAD_PREEMPTED_BY_HOST && status != STRATA_THREAD_IN_HYPERVISOR)
            continue;
          g_assert_true (strata_analysis_get_thread (analysis, i, t, &info, &error));
          m = strata_analysis_get_machine (analysis, (guint) info.machine);
          key = g_strdup_printf ("%s/%d", m->name, info.tid);
          strata_thread_info_clear (&info);
          if (m->layer == 0)
            continue;

          on = on_cpu_at (g_hash_table_lookup (truth, key), t, 20000);
          if (on < 0)
            continue;
          if (status == STRATA_THREAD_USER || status == STRATA_THREAD_SYSCALL)
            {
              if (on != 1)
                g_error ("%s at %" G_GINT64_FORMAT ": shown running, but on no physical CPU", key, t);
              n_running++;
            }
          else
            {
              if (on != 0)
                g_error ("%s at %" G_GINT64_FORMAT ": shown %s, but it runs on a physical CPU", key, t,
                         strata_thread_status_to_string (status));
              n_preempted++;
            }
        }
    }
  g_test_message ("%u samples running, %u preempted by the host or in the hypervisor", n_running, n_preempted);
  g_assert_cmpuint (n_running, >, 50);
  g_assert_cmpuint (n_preempted, >, 10);
}

/* Each machine's CPU attributes come one after the other, so that a view
 * of them queries one or two of the SHT's groups of attributes: per CPU,
 * its folder and Fused (a host), or its folder, State and HostTid (a VM) */
static void
test_cpu_attributes_together (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataExperimentResult) result = run (f, NULL, &error);
  StrataSht *sht;
  guint n_checked = 0;

  g_assert_no_error (error);
  sht = strata_analysis_get_sht (result->analysis);
  for (guint i = 0; i < strata_analysis_get_n_machines (result->analysis); i++)
    {
      const StrataAnalysisMachine *m = strata_analysis_get_machine (result->analysis, i);
      gboolean host = m->layer == 0;
      guint per_cpu = host ? 2 : 3;
      guint32 lo = G_MAXUINT32, hi = 0;

      for (guint n = 0; n < m->n_cpus; n++)
        {
          g_autofree char *path = g_strdup_printf ("Machines/%u/%s/%u/%s", i, host ? "CPUs" : "VCPUs", n,
                                                   host ? "Fused" : "State");
          guint32 q = strata_sht_quark_lookup_path (sht, path);

          g_assert_cmpuint (q, !=, STRATA_SHT_QUARK_INVALID);
          lo = MIN (lo, q);
          hi = MAX (hi, q);
        }
      if (m->n_cpus == 0)
        continue;
      g_assert_cmpuint (hi - lo, ==, per_cpu * (m->n_cpus - 1));
      n_checked++;
    }
  g_assert_cmpuint (n_checked, >=, 2);
}

/* A guest whose clock cannot be related to its host's (tied by hand, no
 * message in common): its events fall outside its vCPUs' entry windows,
 * and the summary counts and says so */
static void
test_outside_windows (void)
{
  g_autofree char *dir = strata_test_make_tmpdir ();
  g_autofree char *first = g_build_filename (dir, "first", NULL);
  g_autofree char *second = g_build_filename (dir, "second", NULL);
  g_autofree char *archive = g_build_filename (dir, "archive", NULL);
  g_autofree char *host_from = g_build_filename (first, "host", "kernel", NULL);
  g_autofree char *host_to = g_build_filename (archive, "host", "kernel", NULL);
  g_autofree char *guest_from = g_build_filename (second, "vm1", "kernel", NULL);
  g_autofree char *guest_to = g_build_filename (archive, "vm1", "kernel", NULL);
  g_autofree char *sht = g_build_filename (dir, "a.sht", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataExperimentResult) result = NULL;
  g_autofree char *text = NULL;
  StrataSimOptions sim;
  StrataExperimentOptions options;
  StrataRoleOverride tie[] = { { "vm1/kernel", "host/kernel", -1 } };
  const char *paths[] = { archive, NULL };
  JsonObject *vm1;

  /* The host of one run, the guest of another: same machines, other boots */
  strata_sim_options_init (&sim);
  sim.scenario = "one-vm";
  sim.duration_ns = 40 * G_TIME_SPAN_MILLISECOND * 1000;
  g_assert_true (strata_sim_run (&sim, first, NULL, NULL, NULL, NULL, &error));
  sim.seed = 2;
  g_assert_true (strata_sim_run (&sim, second, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  strata_test_copy_tree (host_from, host_to);
  strata_test_copy_tree (guest_from, guest_to);

  strata_experiment_options_init (&options);
  options.sht_path = sht;
  options.roles = tie;
  options.n_roles = G_N_ELEMENTS (tie);
  result = strata_experiment_run (paths, &options, NULL, &error);
  g_assert_no_error (error);
  vm1 = find_machine (result->summary, "vm1");
  g_assert_nonnull (vm1);
  g_assert_cmpstr (json_object_get_string_member (vm1, "parent"), ==, "host");
  g_assert_cmpint (json_object_get_int_member (vm1, "events_outside_entries"), >, 100);
  text = json_to_string (json_object_get_member (json_node_get_object (result->summary), "problems"), FALSE);
  g_assert_nonnull (strstr (text, "outside the windows"));
  g_assert_nonnull (strstr (text, "not synchronized"));
  strata_test_rmtree (dir);
}

static void
test_nothing (void)
{
  g_autofree char *dir = strata_test_make_tmpdir ();
  g_autofree char *sht = g_build_filename (dir, "a.sht", NULL);
  g_autoptr(GError) error = NULL;
  const char *paths[] = { dir, NULL };
  StrataExperimentOptions options;

  strata_experiment_options_init (&options);
  options.sht_path = sht;
  g_assert_null (strata_experiment_run (paths, &options, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_false (g_file_test (sht, G_FILE_TEST_EXISTS));
  strata_test_rmtree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/strata/experiment/progress", Fixture, NULL, fixture_set_up, test_progress, fixture_tear_down);
  g_test_add ("/strata/experiment/cancel", Fixture, NULL, fixture_set_up, test_cancel, fixture_tear_down);
  g_test_add ("/strata/experiment/async", Fixture, NULL, fixture_set_up, test_async, fixture_tear_down);
  g_test_add ("/strata/experiment/roles", Fixture, NULL, fixture_set_up, test_roles, fixture_tear_down);
  g_test_add ("/strata/experiment/damaged-guest", Fixture, NULL, fixture_set_up, test_damaged_guest,
              fixture_tear_down);
  g_test_add ("/strata/experiment/thread-states", Fixture, "overcommit", fixture_set_up, test_thread_states,
              fixture_tear_down);
  g_test_add ("/strata/experiment/cpu-attributes-together", Fixture, NULL, fixture_set_up,
              test_cpu_attributes_together, fixture_tear_down);
  g_test_add_func ("/strata/experiment/outside-windows", test_outside_windows);
  g_test_add_func ("/strata/experiment/nothing", test_nothing);
  return g_test_run ();
}
