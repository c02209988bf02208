/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-cli"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>

#include "strata-cli.h"
#include "strata-i18n.h"

typedef struct
{
  const char *name;
  int       (*run) (StrataCliContext *ctx);
  const char *summary;
} Command;

static const Command commands[] = {
  { "analyze", strata_cli_analyze, N_("Synchronize and fuse the traces below PATHs: what every physical CPU executed, for every layer") },
  { "query", strata_cli_query, N_("What every physical CPU and vCPU was doing at given times") },
  { "stats", strata_cli_stats, N_("Per-VM, per-vCPU and per-thread metrics") },
  { "render", strata_cli_render, N_("Draw the fused, vCPU or thread view to PNG, SVG or PDF") },
  { "info", strata_cli_info, N_("Identify every trace found below PATHs and count its events") },
  { "simulate", strata_cli_simulate, N_("Write the traces of a simulated virtualized system, with its ground truth") },
  { "sync", strata_cli_sync, N_("Relate every trace's clock to the reference's, from the messages they exchanged") },
};

static void
print_usage (FILE *out)
{
  g_autoptr(GString) str = g_string_new (NULL);

  g_string_append_printf (str, _("Usage: %s COMMAND [OPTION…] PATH…\n\n"), "strata-cli");
  g_string_append (str, _("Analyse LTTng kernel traces of virtualized systems.\n\n"));
  g_string_append (str, _("Commands:\n"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (str, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
  g_string_append_printf (str, _("\nRun “%s COMMAND --help” for the options of a command.\n"),
                          "strata-cli");
  g_string_append (str, _("\nExit status: 0 on success, 1 when a trace could not be read or "
                          "analysed, 2 on a usage error.\n"));
  fputs (str->str, out);
}

void
strata_cli_print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  fputs (text, stdout);
  fputc ('\n', stdout);
}

int
strata_cli_usage_error (GOptionContext *context,
                        const char     *format,
                        ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fprintf (stderr, "%s: %s\n", g_get_prgname (), message);
  if (context != NULL)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      fputs (help, stderr);
    }
  return STRATA_CLI_EXIT_USAGE;
}

static gboolean
interrupt_cb (gpointer user_data)
{
  GCancellable *cancellable = user_data;

  if (g_cancellable_is_cancelled (cancellable))
    {
      /* Twice: the user really wants out. */
      signal (SIGINT, SIG_DFL);
      raise (SIGINT);
    }

  g_printerr (_("%s: interrupted, stopping…\n"), g_get_prgname ());
  g_cancellable_cancel (cancellable);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  StrataCliContext ctx;
  guint signal_id;
  int ret;

  strata_i18n_init ();
  g_set_prgname ("strata-cli");

  /* libbabeltrace2 would start a Python interpreter in every reading
   * thread to look for Python plugins; Strata uses none. */
  g_setenv ("LIBBABELTRACE2_DISABLE_PYTHON_PLUGINS", "1", FALSE);

  if (argc < 2)
    {
      print_usage (stderr);
      return STRATA_CLI_EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return STRATA_CLI_EXIT_OK;
    }

  if (g_str_equal (argv[1], "--version"))
    {
      printf ("strata-cli %s\n", PACKAGE_VERSION);
      return STRATA_CLI_EXIT_OK;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (!g_str_equal (argv[1], commands[i].name))
        continue;

      ctx.argc = argc - 1;
      ctx.argv = argv + 1;
      ctx.cancellable = cancellable;

      signal_id = g_unix_signal_add (SIGINT, interrupt_cb, cancellable);
      ret = commands[i].run (&ctx);
      g_source_remove (signal_id);

      if (g_cancellable_is_cancelled (cancellable) && ret == STRATA_CLI_EXIT_OK)
        ret = STRATA_CLI_EXIT_FAILURE;
      return ret;
    }

  fprintf (stderr, _("%s: unknown command “%s”\n\n"), g_get_prgname (), argv[1]);
  print_usage (stderr);
  return STRATA_CLI_EXIT_USAGE;
}
