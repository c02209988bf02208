/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-cli"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <inttypes.h>

#include "strata-analysis.h"
#include "strata-cli.h"
#include "strata-render-export.h"

/*
 * render: a view of the analysis to PNG, SVG or PDF, drawn by core/render
 * as the application draws it.
 */

typedef struct
{
  char                 *view;
  char                 *from;
  char                 *to;
  int                   width;
  GStrv                 highlights;
  char                 *output;
  char                 *color_by;
  gboolean              dark;
  char                 *sort;
  char                 *search;
  char                 *title;
  StrataCliAnalysisArgs analysis;
} Args;

static void
args_clear (Args *args)
{
  g_free (args->view);
  g_free (args->from);
  g_free (args->to);
  g_strfreev (args->highlights);
  g_free (args->output);
  g_free (args->color_by);
  g_free (args->sort);
  g_free (args->search);
  g_free (args->title);
  strata_cli_analysis_args_clear (&args->analysis);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Args, args_clear)

static gboolean
parse_time (const char  *option,
            const char  *text,
            gint64      *t,
            GError     **error)
{
  char *end = NULL;

  errno = 0;
  *t = g_ascii_strtoll (text, &end, 10);
  if (text[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || *t < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("%s: “%s” is not a time in nanoseconds"), option, text);
      return FALSE;
    }
  return TRUE;
}

static const char *
view_title (StrataRenderView view)
{
  switch (view)
    {
    case STRATA_RENDER_VIEW_VCPUS:
      return _("Virtual CPUs");
    case STRATA_RENDER_VIEW_THREADS:
      return _("Threads");
    case STRATA_RENDER_VIEW_FVS:
    default:
      return _("Fused virtualized systems");
    }
}

int
strata_cli_render (StrataCliContext *ctx)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Args) args = { 0 };
  g_autoptr(StrataAnalysis) analysis = NULL;
  g_autoptr(StrataRenderScope) scope = NULL;
  g_autoptr(StrataRenderRows) rows = NULL;
  g_autoptr(StrataHighlight) highlight = strata_highlight_new ();
  g_autofree char *title = NULL;
  StrataCliAnalysis a = { 0 };
  StrataRenderView view;
  StrataRenderThreadOrder order = STRATA_RENDER_THREADS_BY_TID;
  StrataRenderStyle style;
  StrataRenderExportOptions options = { 0 };
  gint64 from = -1, to = -1;
  int ret;
  GOptionEntry entries[] = {
    { "view", 'v', 0, G_OPTION_ARG_STRING, &args.view,
      N_("What to draw: fvs (physical CPUs per host, VM and container), vcpu (vCPU states and the VMs' "
         "threads) or threads (every thread's control flow)"), N_("VIEW") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &args.output,
      N_("The picture to write: its extension (.png, .svg or .pdf) says the format"), N_("FILE") },
    { "from", 0, 0, G_OPTION_ARG_STRING, &args.from,
      N_("Left edge, in ns of the reference clock (absolute; default: the start of the traces)"), N_("T0") },
    { "to", 0, 0, G_OPTION_ARG_STRING, &args.to,
      N_("Right edge, in ns of the reference clock (absolute; default: their end)"), N_("T1") },
    { "width", 'w', 0, G_OPTION_ARG_INT, &args.width,
      N_("Width of the picture in pixels (default 1600); its height follows from the rows"), N_("W") },
    { "highlight", 0, 0, G_OPTION_ARG_STRING_ARRAY, &args.highlights,
      N_("Highlight machine=NAME, vcpu=MACHINE/N, container=INUM, pcpu=HOST/N or N, thread=MACHINE/TID or "
         "TID; everything else is dimmed (repeatable)"), N_("KIND=VALUE") },
    { "color-by", 0, 0, G_OPTION_ARG_STRING, &args.color_by,
      N_("Color physical CPUs by state (default) or by machine"), N_("state|machine") },
    { "dark", 0, 0, G_OPTION_ARG_NONE, &args.dark, N_("Use the dark palette"), NULL },
    { "sort", 0, 0, G_OPTION_ARG_STRING, &args.sort,
      N_("Order of threads: tid (default) or name"), N_("tid|name") },
    { "search", 0, 0, G_OPTION_ARG_STRING, &args.search,
      N_("Show only the threads whose name contains TEXT, or whose tid or vtid it is"), N_("TEXT") },
    { "title", 0, 0, G_OPTION_ARG_STRING, &args.title,
      N_("The picture's title (default: the view and the paths)"), N_("TEXT") },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Draws a view of the traces below the PATHs, as the application shows "
                                  "it, into a PNG, SVG or PDF file. The traces are analysed first unless "
                                  "their analysis is cached."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  strata_cli_analysis_args_add_entries (&args.analysis, context);
  args.width = 1600;

  /* Usage first: nothing is analysed for a command that cannot run */
  if (!g_option_context_parse (context, &ctx->argc, &ctx->argv, &error)
      || !strata_cli_analysis_args_check (&args.analysis, &error))
    return strata_cli_usage_error (context, "%s", error->message);
  if (args.view == NULL)
    return strata_cli_usage_error (context, "%s", _("--view is required"));
  if (!strata_render_view_from_string (args.view, &view))
    return strata_cli_usage_error (context, _("--view: unknown view “%s” (fvs, vcpu or threads)"), args.view);
  if (args.output == NULL)
    return strata_cli_usage_error (context, "%s", _("-o FILE is required"));
  if (!strata_render_format_from_path (args.output, &options.format))
    return strata_cli_usage_error (context, _("-o: “%s” does not end in .png, .svg or .pdf"), args.output);
  if (args.width < 200 || args.width > 32000)
    return strata_cli_usage_error (context, _("--width: %d is not between 200 and 32000"), args.width);
  if ((args.from != NULL && !parse_time ("--from", args.from, &from, &error))
      || (args.to != NULL && !parse_time ("--to", args.to, &to, &error)))
    return strata_cli_usage_error (context, "%s", error->message);
  if (from >= 0 && to >= 0 && to <= from)
    return strata_cli_usage_error (context, "%s", _("--to must be after --from"));
  for (guint i = 0; args.highlights != NULL && args.highlights[i] != NULL; i++)
    if (!strata_highlight_check_syntax (args.highlights[i], &error))
      return strata_cli_usage_error (context, "%s", error->message);
  strata_render_style_init (&style);
  if (args.color_by != NULL && g_str_equal (args.color_by, "machine"))
    style.color_by = STRATA_RENDER_COLOR_BY_MACHINE;
  else if (args.color_by != NULL && !g_str_equal (args.color_by, "state"))
    return strata_cli_usage_error (context, _("--color-by: “%s” is neither state nor machine"), args.color_by);
  if (args.sort != NULL && g_str_equal (args.sort, "name"))
    order = STRATA_RENDER_THREADS_BY_NAME;
  else if (args.sort != NULL && !g_str_equal (args.sort, "tid"))
    return strata_cli_usage_error (context, _("--sort: “%s” is neither tid nor name"), args.sort);
  style.dark = args.dark;

  if (!strata_cli_get_analysis (ctx, &args.analysis, &a, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return STRATA_CLI_EXIT_FAILURE;
    }
  analysis = strata_analysis_open (a.sht_path, 0, &error);
  if (analysis != NULL)
    scope = strata_render_scope_new (analysis, a.summary, &error);
  if (scope == NULL)
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      strata_cli_analysis_clear (&a);
      return STRATA_CLI_EXIT_FAILURE;
    }
  for (guint i = 0; args.highlights != NULL && args.highlights[i] != NULL; i++)
    if (!strata_highlight_add_parsed (highlight, scope, args.highlights[i], &error))
      {
        strata_cli_analysis_clear (&a);
        return strata_cli_usage_error (NULL, "%s", error->message);
      }

  rows = strata_render_rows_new (scope, view, order, args.search);
  if (args.title != NULL)
    title = g_strdup (args.title);
  else
    {
      g_autofree char *paths = g_strjoinv (", ", args.analysis.paths);

      title = g_strdup_printf ("%s — %s", view_title (view), paths);
    }
  options.t0 = from >= 0 ? from : strata_analysis_get_start_time (analysis);
  options.t1 = to >= 0 ? to : strata_analysis_get_end_time (analysis);
  if (options.t1 <= options.t0)
    {
      strata_cli_analysis_clear (&a);
      return strata_cli_usage_error (NULL, _("--from/--to: the range %" PRId64 " to %" PRId64
                                             " is empty (the traces go from %" PRId64 " to %"
                                             PRId64 " ns)"),
                                     options.t0, options.t1, strata_analysis_get_start_time (analysis),
                                     strata_analysis_get_end_time (analysis));
    }
  options.width = (guint) args.width;
  options.style = &style;
  options.highlight = highlight;
  options.title = title;

  if (!strata_render_export_to_file (rows, &options, args.output, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      strata_cli_analysis_clear (&a);
      return STRATA_CLI_EXIT_FAILURE;
    }
  strata_cli_print_problems (a.summary);
  ret = strata_cli_summary_exit_status (a.summary);
  strata_cli_analysis_clear (&a);
  return ret;
}
