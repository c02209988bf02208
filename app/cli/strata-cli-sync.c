/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <unistd.h>

#include "strata-cli.h"
#include "strata-sync.h"
#include "strata-trace-discovery.h"

/* Synchronization runs on a worker thread; the main loop keeps turning
 * so that Ctrl+C (a main-loop source) can cancel it. */
typedef struct
{
  StrataSyncResult *result;
  GError           *error;
  gboolean          done;
  gboolean          show_progress;
} SyncRun;

static void
progress_cb (guint    n_done,
             guint    n_traces,
             gpointer user_data)
{
  g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Read %u of %u trace…",
                                                        "Read %u of %u traces…", n_traces),
                                           n_done, n_traces);

  /* On the worker thread: stderr is fine from any thread. */
  g_printerr ("\r\033[K%s", text);
}

static void
run_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  SyncRun *run = user_data;

  run->result = strata_sync_run_finish (result, &run->error);
  run->done = TRUE;
}

int
strata_cli_sync (StrataCliContext *ctx)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) locations = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  g_autoptr(StrataSyncResult) result = NULL;
  g_auto(GStrv) args = NULL;
  g_autofree char *reference = NULL;
  gboolean json = FALSE;
  int ret = STRATA_CLI_EXIT_OK;
  StrataSyncOptions options;
  SyncRun run = { 0 };
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "reference", 'r', 0, G_OPTION_ARG_FILENAME, &reference,
      N_("The trace whose clock is the reference, by path or host name (default: the physical host)"),
      N_("TRACE") },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args, NULL, N_("PATH…") },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Finds every CTF trace below the PATHs, matches the messages "
                                  "they exchanged (VM sync hypercalls, TCP packets) and relates "
                                  "each trace's clock to the reference's: t' = a·t + b, with "
                                  "bounds, a quality and an accuracy. Traces that cannot be "
                                  "synchronized are flagged, with the reason."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_help_enabled (context, TRUE);

  if (!g_option_context_parse (context, &ctx->argc, &ctx->argv, &error))
    return strata_cli_usage_error (context, "%s", error->message);

  if (args == NULL || args[0] == NULL)
    return strata_cli_usage_error (context, "%s", _("no PATH given"));

  locations = strata_trace_discover ((const char * const *) args, &problems, ctx->cancellable, &error);
  if (locations == NULL)
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return STRATA_CLI_EXIT_FAILURE;
    }

  paths = g_ptr_array_new ();
  for (guint i = 0; i < locations->len; i++)
    g_ptr_array_add (paths, ((StrataTraceLocation *) g_ptr_array_index (locations, i))->path);
  g_ptr_array_add (paths, NULL);

  strata_sync_options_init (&options);
  options.reference = reference;
  run.show_progress = locations->len > 1 && isatty (STDERR_FILENO);
  if (run.show_progress)
    options.progress = progress_cb;

  strata_sync_run_async ((const char * const *) paths->pdata, &options, ctx->cancellable, run_cb, &run);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);

  if (run.show_progress)
    g_printerr ("\r\033[K");

  for (guint i = 0; problems != NULL && i < problems->len; i++)
    g_printerr ("%s: %s\n", g_get_prgname (), ((GError *) g_ptr_array_index (problems, i))->message);

  if (run.result == NULL)
    {
      if (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        ret = STRATA_CLI_EXIT_FAILURE;
      else if (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
               || g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
        ret = strata_cli_usage_error (NULL, "%s", run.error->message);   /* --reference */
      else
        {
          g_printerr ("%s: %s\n", g_get_prgname (), run.error->message);
          ret = STRATA_CLI_EXIT_FAILURE;
        }
      g_clear_error (&run.error);
      return ret;
    }
  result = g_steal_pointer (&run.result);

  if (json)
    {
      g_autoptr(JsonNode) root = strata_sync_result_to_json (result);
      strata_cli_print_json (root);
    }
  else
    {
      g_autofree char *text = strata_sync_result_to_text (result);
      fputs (text, stdout);
    }

  /* Problems go to stderr in both modes, so that scripts reading the
   * JSON still show them to a person. */
  for (guint i = 0; i < result->traces->len; i++)
    {
      const StrataSyncTrace *trace = strata_sync_result_get_trace (result, i);

      for (guint j = 0; j < trace->problems->len; j++)
        g_printerr ("%s: %s: %s\n", g_get_prgname (), trace->path,
                    (const char *) g_ptr_array_index (trace->problems, j));
      if (!trace->read_ok || !trace->synchronized)
        ret = STRATA_CLI_EXIT_FAILURE;
    }
  for (guint i = 0; i < result->problems->len; i++)
    g_printerr ("%s: %s\n", g_get_prgname (), (const char *) g_ptr_array_index (result->problems, i));

  if (problems != NULL && problems->len > 0)
    ret = STRATA_CLI_EXIT_FAILURE;

  return ret;
}
