/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "strata-cli.h"
#include "strata-sim.h"

static void
progress_cb (double   fraction,
             gpointer user_data)
{
  g_autofree char *text = g_strdup_printf (_("Simulating… %.0f%%"), fraction * 100);

  g_printerr ("\r\033[K%s", text);
}

/* The simulation runs on a worker thread, so that the main loop keeps
 * turning and Ctrl+C (a main-loop source) can cancel it. */
typedef struct
{
  StrataSimOptions options;
  char            *out;
  gboolean         show_progress;
  StrataSimStats   stats;
} SimulateJob;

static void
simulate_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  SimulateJob *job = task_data;
  GError *error = NULL;

  if (strata_sim_run (&job->options, job->out, job->show_progress ? progress_cb : NULL, NULL,
                      cancellable, &job->stats, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
simulate_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
parse_lost_window (const char *text,
                   gint64     *from_ns,
                   gint64     *length_ns)
{
  g_auto(GStrv) parts = g_strsplit (text, ":", 2);
  char *end;
  double from, length;

  if (g_strv_length (parts) != 2)
    return FALSE;
  from = g_ascii_strtod (parts[0], &end);
  if (*end != '\0' || from < 0)
    return FALSE;
  length = g_ascii_strtod (parts[1], &end);
  if (*end != '\0' || length <= 0)
    return FALSE;
  *from_ns = (gint64) (from * 1e6);
  *length_ns = (gint64) (length * 1e6);
  return TRUE;
}

int
strata_cli_simulate (StrataCliContext *ctx)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *scenario = NULL;
  g_autofree char *out = NULL;
  g_autofree char *layout = NULL;
  g_autofree char *lost = NULL;
  g_autofree char *names = NULL;
  g_autofree char *summary = NULL;
  g_autoptr(GString) scenarios = g_string_new (NULL);
  gint64 seed = 1;
  double duration_ms = 1000;
  int scale = 1;
  gboolean host_only = FALSE;
  StrataSimOptions options;
  g_autoptr(GTask) task = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  SimulateJob job = { 0 };
  gint64 start;
  double seconds;
  const GOptionEntry entries[] = {
    { "scenario", 0, 0, G_OPTION_ARG_STRING, &scenario, N_("What to simulate (see below)"), N_("NAME") },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("Where to write (a new or empty folder)"), N_("DIR") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_("Random seed: the same seed writes the same bytes (1)"), N_("N") },
    { "duration-ms", 0, 0, G_OPTION_ARG_DOUBLE, &duration_ms, N_("Traced time in ms (1000)"), N_("D") },
    { "scale", 0, 0, G_OPTION_ARG_INT, &scale, N_("Multiply CPUs, machines and load (1)"), N_("K") },
    { "layout", 0, 0, G_OPTION_ARG_STRING, &layout, N_("lttng-modules version to imitate: 2.6, 2.10 or 2.13 (2.13)"), N_("V") },
    { "host-only", 0, 0, G_OPTION_ARG_NONE, &host_only, N_("Write only the host's trace"), NULL },
    { "lost-events", 0, 0, G_OPTION_ARG_STRING, &lost, N_("Drop every event from FROM ms after the start for LENGTH ms, as LTTng does under load"), N_("FROM:LENGTH") },
    { NULL }
  };

  for (const char * const *n = strata_sim_scenario_names (); *n != NULL; n++)
    g_string_append_printf (scenarios, "  %-12s %s\n", *n, _(strata_sim_scenario_describe (*n)));
  summary = g_strdup_printf (_("Simulates a physical machine and everything it runs (VMs, nested VMs, "
                               "containers), and writes one LTTng kernel trace per machine, with the "
                               "ground truth (ground-truth.tsv) and a description (scenario.json).\n\n"
                               "Scenarios:\n%s"), scenarios->str);

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &ctx->argc, &ctx->argv, &error))
    return strata_cli_usage_error (context, "%s", error->message);
  if (ctx->argc > 1)
    return strata_cli_usage_error (context, _("unexpected argument “%s”"), ctx->argv[1]);
  if (scenario == NULL || out == NULL)
    return strata_cli_usage_error (context, "%s", _("--scenario and --out are required"));

  strata_sim_options_init (&options);
  options.scenario = scenario;
  options.seed = (guint64) seed;
  options.host_only = host_only;

  names = g_strjoinv (", ", (char **) strata_sim_scenario_names ());
  if (!g_strv_contains (strata_sim_scenario_names (), scenario))
    return strata_cli_usage_error (context, _("unknown scenario “%s” (known: %s)"), scenario, names);
  if (duration_ms <= 0 || duration_ms > 3600 * 1000)
    return strata_cli_usage_error (context, "%s", _("--duration-ms must be between 0 and one hour"));
  if (scale < 1 || scale > 1000)
    return strata_cli_usage_error (context, "%s", _("--scale must be between 1 and 1000"));
  if (layout != NULL && !strata_sim_layout_from_string (layout, &options.layout))
    return strata_cli_usage_error (context, _("unknown layout “%s” (known: 2.6, 2.10, 2.13)"), layout);
  if (lost != NULL && !parse_lost_window (lost, &options.drop_start_ns, &options.drop_length_ns))
    return strata_cli_usage_error (context, _("--lost-events wants FROM:LENGTH in ms, e.g. 200:5"));

  options.duration_ns = (gint64) (duration_ms * 1e6);
  options.scale = (guint) scale;

  job.options = options;
  job.out = out;
  job.show_progress = isatty (STDERR_FILENO);

  start = g_get_monotonic_time ();
  task = g_task_new (NULL, ctx->cancellable, simulate_done_cb, &result);
  g_task_set_task_data (task, &job, NULL);
  g_task_run_in_thread (task, simulate_thread);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (isatty (STDERR_FILENO))
        g_printerr ("\r\033[K");
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return STRATA_CLI_EXIT_FAILURE;
    }
  seconds = (g_get_monotonic_time () - start) / 1e6;

  if (isatty (STDERR_FILENO))
    g_printerr ("\r\033[K");
  printf (_("Wrote %s: %u machines, %u traces, %" PRIu64 " events in %.1f s "
            "(%.0f events/s), %" PRIu64 " ground-truth rows\n"),
          out, job.stats.n_machines, job.stats.n_traces, job.stats.n_events, seconds,
          job.stats.n_events / MAX (seconds, 1e-6), job.stats.n_truth_rows);
  return STRATA_CLI_EXIT_OK;
}
