/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-cli"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "strata-analysis.h"
#include "strata-catalog.h"
#include "strata-cli.h"
#include "strata-experiment.h"
#include "strata-trace-discovery.h"

/*
 * The commands that read a fused analysis (analyze, query, stats, render)
 * find it in the catalog, or run it and record it: an analysis is
 * recorded as complete only once its SHT is whole, so a run killed before
 * the end leaves nothing that a later run trusts.
 */

typedef struct
{
  StrataExperimentResult *result;
  GError                 *error;
  gboolean                done;
  gboolean                show_progress;
} AnalyzeRun;

void
strata_cli_analysis_clear (StrataCliAnalysis *a)
{
  g_clear_pointer (&a->sht_path, g_free);
  g_clear_pointer (&a->summary, json_node_unref);
  g_clear_pointer (&a->stats, json_node_unref);
}

void
strata_cli_analysis_args_clear (StrataCliAnalysisArgs *args)
{
  g_clear_pointer (&args->cache_dir, g_free);
  g_clear_pointer (&args->reference, g_free);
  g_clear_pointer (&args->hosts, g_strfreev);
  g_clear_pointer (&args->guests, g_strfreev);
  g_clear_pointer (&args->paths, g_strfreev);
  g_clear_pointer (&args->roles, g_array_unref);
}

/**
 * strata_cli_analysis_args_add_entries:
 *
 * Adds the options that choose and locate the analysis (--cache-dir,
 * --reference, --force, --host, --guest) and the PATHs to @context's main
 * group. @args must outlive the parsing.
 */
void
strata_cli_analysis_args_add_entries (StrataCliAnalysisArgs *args,
                                      GOptionContext        *context)
{
  const GOptionEntry entries[] = {
    { "cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &args->cache_dir,
      N_("Keep the catalog and the analyses there (default: the catalog in the user data folder, "
         "the analyses in the user cache folder)"), N_("DIR") },
    { "reference", 'r', 0, G_OPTION_ARG_FILENAME, &args->reference,
      N_("The trace whose clock is the reference, by path or host name (default: the physical host)"),
      N_("TRACE") },
    { "force", 0, 0, G_OPTION_ARG_NONE, &args->force, N_("Analyse again, even if cached"), NULL },
    { "host", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->hosts,
      N_("This trace is a physical host, whatever its events say (repeatable)"), N_("TRACE") },
    { "guest", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->guests,
      N_("This trace is a VM run by HOST (its QEMU process, if known), for guests without the sync module "
         "(repeatable)"), N_("GUEST=HOST[:PID]") },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->paths, NULL, N_("PATH…") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

/* --host TRACE and --guest GUEST=HOST[:PID] */
static gboolean
parse_roles (StrataCliAnalysisArgs  *args,
             GError                **error)
{
  args->roles = g_array_new (FALSE, TRUE, sizeof (StrataRoleOverride));
  for (guint i = 0; args->hosts != NULL && args->hosts[i] != NULL; i++)
    {
      StrataRoleOverride role = { args->hosts[i], NULL, -1 };

      g_array_append_val (args->roles, role);
    }
  for (guint i = 0; args->guests != NULL && args->guests[i] != NULL; i++)
    {
      char *guest = args->guests[i];
      char *host = strchr (guest, '=');
      char *pid = host != NULL ? strrchr (host + 1, ':') : NULL;
      StrataRoleOverride role = { guest, NULL, -1 };

      if (host == NULL || host == guest || host[1] == '\0')
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--guest: “%s” is not GUEST=HOST or GUEST=HOST:QEMU_PID"), guest);
          return FALSE;
        }
      *host++ = '\0';
      if (pid != NULL)
        {
          char *end = NULL;
          gint64 value = g_ascii_strtoll (pid + 1, &end, 10);

          if (end == NULL || *end != '\0' || value <= 0 || value > G_MAXINT)
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--guest: “%s” is not a process id"), pid + 1);
              return FALSE;
            }
          *pid = '\0';
          role.qemu_pid = (int) value;
        }
      role.host = host;
      g_array_append_val (args->roles, role);
    }
  return TRUE;
}

/**
 * strata_cli_analysis_args_check:
 *
 * After parsing: at least one PATH, and valid --guest values.
 *
 * Returns: %FALSE with @error set (a usage error) if not
 */
gboolean
strata_cli_analysis_args_check (StrataCliAnalysisArgs  *args,
                                GError                **error)
{
  if (args->paths == NULL || args->paths[0] == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _("no PATH given"));
      return FALSE;
    }
  return parse_roles (args, error);
}

static void
progress_cb (const StrataExperimentProgress *progress,
             gpointer                        user_data)
{
  g_autofree char *text = NULL;

  /* On the worker thread: stderr is fine from any thread. The line is
   * rewritten in place (carriage return, erase to the end of the line). */
  switch (progress->phase)
    {
    case STRATA_EXPERIMENT_DISCOVER:
      text = g_strdup (_("Finding traces…"));
      break;
    case STRATA_EXPERIMENT_SYNC:
      text = g_strdup_printf (_("Synchronizing… %3.0f %%"), progress->fraction * 100);
      break;
    case STRATA_EXPERIMENT_FUSE:
      text = g_strdup_printf (_("Analysing… %3.0f %%, %.2f M events/s"),
                              progress->fraction * 100, progress->events_per_s / 1e6);
      break;
    case STRATA_EXPERIMENT_DONE:
    default:
      break;
    }
  g_printerr ("\r\033[K%s", text != NULL ? text : "");
}

static void
run_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  AnalyzeRun *run = user_data;

  run->result = strata_experiment_load_finish (result, &run->error);
  run->done = TRUE;
}

static StrataCatalog *
open_catalog (const char  *cache_dir,
              GError     **error)
{
  g_autofree char *path = cache_dir != NULL ? g_build_filename (cache_dir, "catalog.sqlite", NULL) : NULL;
  StrataCatalog *catalog = strata_catalog_open (path, cache_dir, error);

  if (catalog != NULL && strata_catalog_get_warning (catalog) != NULL)
    g_printerr (_("%s: warning: %s\n"), g_get_prgname (), strata_catalog_get_warning (catalog));
  return catalog;
}

/**
 * strata_cli_get_analysis:
 * @args: checked with strata_cli_analysis_args_check()
 * @out: (out caller-allocates): filled; clear it with
 *   strata_cli_analysis_clear()
 *
 * The analysis of the traces below @args' paths: from the catalog, or run
 * now and recorded (strata_experiment_load()), with progress on stderr
 * when it is a terminal.
 *
 * Returns: %FALSE with @error set when no trace was found or the analysis
 *   failed
 */
gboolean
strata_cli_get_analysis (StrataCliContext       *ctx,
                         StrataCliAnalysisArgs  *args,
                         StrataCliAnalysis      *out,
                         GError                **error)
{
  g_autoptr(StrataCatalog) catalog = NULL;
  StrataExperimentOptions options;
  AnalyzeRun run = { 0 };

  g_return_val_if_fail (args->roles != NULL, FALSE);

  catalog = open_catalog (args->cache_dir, error);
  if (catalog == NULL)
    return FALSE;

  strata_experiment_options_init (&options);
  options.reference = args->reference;
  options.roles = (const StrataRoleOverride *) (gpointer) args->roles->data;
  options.n_roles = args->roles->len;
  run.show_progress = isatty (STDERR_FILENO);
  if (run.show_progress)
    options.progress = progress_cb;

  strata_experiment_load_async ((const char * const *) args->paths, &options, catalog, args->force,
                                ctx->cancellable, run_cb, &run);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  if (run.show_progress)
    g_printerr ("\r\033[K");
  if (run.result == NULL)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }

  for (guint i = 0; run.result->warnings != NULL && i < run.result->warnings->len; i++)
    g_printerr (_("%s: warning: %s\n"), g_get_prgname (), (const char *) g_ptr_array_index (run.result->warnings, i));
  out->sht_path = g_strdup (run.result->sht_path);
  out->summary = json_node_copy (run.result->summary);
  out->stats = json_node_copy (run.result->stats);
  out->from_cache = run.result->from_cache;
  strata_experiment_result_free (run.result);
  return TRUE;
}

/* Problems of the analysis (lost events, unsynchronized guests…), to stderr */
void
strata_cli_print_problems (JsonNode *summary)
{
  JsonObject *root = json_node_get_object (summary);
  JsonArray *problems = json_object_get_array_member (root, "problems");

  for (guint i = 0; problems != NULL && i < json_array_get_length (problems); i++)
    g_printerr ("%s: %s\n", g_get_prgname (), json_array_get_string_element (problems, i));
}

/* 1 when a fused trace could not be read in full */
int
strata_cli_summary_exit_status (JsonNode *summary)
{
  JsonArray *traces = json_object_get_array_member (json_node_get_object (summary), "traces");

  for (guint i = 0; i < json_array_get_length (traces); i++)
    if (!json_object_get_boolean_member (json_array_get_object_element (traces, i), "complete")
        && !json_object_get_null_member (json_array_get_object_element (traces, i), "machine"))
      return STRATA_CLI_EXIT_FAILURE;
  return STRATA_CLI_EXIT_OK;
}
