/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <unistd.h>

#include "strata-cli.h"
#include "strata-trace-discovery.h"
#include "strata-trace-info.h"

/* Traces are read on worker threads, a few at a time (each reader is
 * single-threaded), and printed in the order they were found. */
typedef struct
{
  GPtrArray    *locations;   /* StrataTraceLocation */
  GPtrArray    *infos;       /* StrataTraceInfo or NULL, by location */
  GPtrArray    *errors;      /* GError or NULL, by location */
  GCancellable *cancellable;
  guint         next;
  guint         running;
  guint         max_running;
  guint         done;
  gboolean      show_progress;
} InfoRun;

typedef struct
{
  InfoRun *run;
  guint    index;
} Load;

static void start_next (InfoRun *run);

static void
error_free0 (gpointer error)
{
  if (error != NULL)
    g_error_free (error);
}

static void
info_unref0 (gpointer info)
{
  if (info != NULL)
    strata_trace_info_unref (info);
}

static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Load *load = user_data;
  InfoRun *run = load->run;
  GError *error = NULL;
  StrataTraceInfo *info = strata_trace_info_load_finish (result, &error);

  if (info != NULL)
    g_ptr_array_index (run->infos, load->index) = info;
  else
    g_ptr_array_index (run->errors, load->index) = error;

  g_free (load);
  run->running--;
  run->done++;

  /* Reading a large archive takes a while: say how far it got, on a
   * terminal only, on one line that the results then replace. */
  if (run->show_progress)
    {
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Read %u of %u trace…",
                                                            "Read %u of %u traces…", run->locations->len),
                                               run->done, run->locations->len);

      g_printerr ("\r\033[K%s", text);
    }

  start_next (run);
}

static void
start_next (InfoRun *run)
{
  while (run->running < run->max_running && run->next < run->locations->len)
    {
      const StrataTraceLocation *location = g_ptr_array_index (run->locations, run->next);
      Load *load = g_new0 (Load, 1);

      load->run = run;
      load->index = run->next++;
      run->running++;
      strata_trace_info_load_async (location->path, run->cancellable, load_cb, load);
    }
}

int
strata_cli_info (StrataCliContext *ctx)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) locations = NULL;
  g_autoptr(GPtrArray) infos = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_auto(GStrv) paths = NULL;
  gboolean json = FALSE;
  int ret = STRATA_CLI_EXIT_OK;
  InfoRun run = { 0 };
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, N_("PATH…") },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Finds every CTF trace below the PATHs (folders or files) and "
                                  "prints, for each, its host, tracer, clock, time span, CPUs, "
                                  "event counts by kind, lost events, the LTTng layout detected "
                                  "and the roles it hints at (hypervisor, guest)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_help_enabled (context, TRUE);

  if (!g_option_context_parse (context, &ctx->argc, &ctx->argv, &error))
    return strata_cli_usage_error (context, "%s", error->message);

  if (paths == NULL || paths[0] == NULL)
    return strata_cli_usage_error (context, "%s", _("no PATH given"));

  locations = strata_trace_discover ((const char * const *) paths, &problems, ctx->cancellable, &error);
  if (locations == NULL)
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return STRATA_CLI_EXIT_FAILURE;
    }

  infos = g_ptr_array_new_full (locations->len, info_unref0);
  errors = g_ptr_array_new_full (locations->len, error_free0);
  g_ptr_array_set_size (infos, locations->len);
  g_ptr_array_set_size (errors, locations->len);

  run.locations = locations;
  run.infos = infos;
  run.errors = errors;
  run.cancellable = ctx->cancellable;
  run.max_running = MAX (1, g_get_num_processors ());

  run.show_progress = locations->len > 1 && isatty (STDERR_FILENO);

  start_next (&run);
  while (run.running > 0)
    g_main_context_iteration (NULL, TRUE);

  if (run.show_progress)
    g_printerr ("\r\033[K");

  if (problems != NULL && problems->len > 0)
    ret = STRATA_CLI_EXIT_FAILURE;

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "traces");
      json_builder_begin_array (builder);
      for (guint i = 0; i < locations->len; i++)
        {
          const StrataTraceInfo *info = g_ptr_array_index (infos, i);
          const GError *load_error = g_ptr_array_index (errors, i);

          if (info != NULL)
            {
              json_builder_add_value (builder, strata_trace_info_to_json (info));
            }
          else
            {
              const StrataTraceLocation *location = g_ptr_array_index (locations, i);

              json_builder_begin_object (builder);
              json_builder_set_member_name (builder, "path");
              json_builder_add_string_value (builder, location->path);
              json_builder_set_member_name (builder, "error");
              json_builder_add_string_value (builder, load_error ? load_error->message : "");
              json_builder_end_object (builder);
            }
        }
      json_builder_end_array (builder);

      json_builder_set_member_name (builder, "problems");
      json_builder_begin_array (builder);
      for (guint i = 0; problems != NULL && i < problems->len; i++)
        json_builder_add_string_value (builder, ((GError *) g_ptr_array_index (problems, i))->message);
      json_builder_end_array (builder);
      json_builder_end_object (builder);

      root = json_builder_get_root (builder);
      strata_cli_print_json (root);
    }
  else
    {
      for (guint i = 0; i < locations->len; i++)
        {
          const StrataTraceInfo *info = g_ptr_array_index (infos, i);

          if (info != NULL)
            {
              g_autofree char *text = strata_trace_info_to_text (info);
              fputs (text, stdout);
              if (i + 1 < locations->len)
                fputc ('\n', stdout);
            }
        }
    }

  /* Problems go to stderr in both modes, so that scripts reading the JSON
   * still show them to a person. */
  for (guint i = 0; problems != NULL && i < problems->len; i++)
    g_printerr ("%s: %s\n", g_get_prgname (), ((GError *) g_ptr_array_index (problems, i))->message);

  for (guint i = 0; i < locations->len; i++)
    {
      const StrataTraceInfo *info = g_ptr_array_index (infos, i);
      const GError *load_error = g_ptr_array_index (errors, i);

      if (load_error != NULL)
        {
          if (!g_error_matches (load_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_printerr ("%s: %s\n", g_get_prgname (), load_error->message);
          ret = STRATA_CLI_EXIT_FAILURE;
        }
      else if (info != NULL && strata_trace_info_has_errors (info))
        {
          for (guint j = 0; j < info->problems->len; j++)
            {
              const StrataTraceProblem *problem = g_ptr_array_index (info->problems, j);

              if (problem->severity == STRATA_PROBLEM_ERROR)
                g_printerr ("%s: %s: %s\n", g_get_prgname (), info->path, problem->message);
            }
          ret = STRATA_CLI_EXIT_FAILURE;
        }
    }

  return ret;
}
