/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-cli"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <inttypes.h>
#include <stdio.h>

#include "strata-analysis.h"
#include "strata-cli.h"

/*
 * analyze, query and stats: each finds the experiment's analysis in the
 * cache, or runs it (strata-cli-analysis.c), then prints a part of it.
 */

typedef struct
{
  gboolean              json;
  gboolean              csv;
  char                 *at;
  StrataCliAnalysisArgs analysis;
} Args;

static void
args_clear (Args *args)
{
  g_free (args->at);
  strata_cli_analysis_args_clear (&args->analysis);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Args, args_clear)

static void
print_machine_tree (JsonArray  *machines,
                    const char *parent,
                    guint       depth)
{
  for (guint i = 0; i < json_array_get_length (machines); i++)
    {
      JsonObject *m = json_array_get_object_element (machines, i);
      const char *p = json_object_get_null_member (m, "parent") ? NULL : json_object_get_string_member (m, "parent");
      JsonArray *containers = json_object_get_array_member (m, "containers");

      gint64 n_cpus, n_events;
      g_autofree char *cpus = NULL;
      g_autofree char *events = NULL;

      if (g_strcmp0 (p, parent) != 0)
        continue;
      n_cpus = json_object_get_int_member (m, "cpus");
      n_events = json_object_get_int_member (m, "events");
      if (g_str_equal (json_object_get_string_member (m, "kind"), "vm"))
        cpus = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%" PRId64 " vCPU", "%" PRId64 " vCPUs", (gulong) n_cpus),
                                n_cpus);
      else
        cpus = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%" PRId64 " CPU", "%" PRId64 " CPUs", (gulong) n_cpus),
                                n_cpus);
      events = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%" PRId64 " event", "%" PRId64 " events",
                                             (gulong) n_events),
                                n_events);
      /* Translators: a machine of the tree: its name, its layer (L0 is the
       * host), its kind (host, vm or container: not translated), its CPUs,
       * " (not traced)" or nothing, its events */
      g_print (_("%*s%s  L%" PRId64 " %s, %s%s, %s\n"),
               (int) depth * 2 + 2, "", json_object_get_string_member (m, "name"),
               json_object_get_int_member (m, "layer"), json_object_get_string_member (m, "kind"),
               cpus, json_object_get_boolean_member (m, "traced") ? "" : _(" (not traced)"), events);
      for (guint k = 0; k < json_array_get_length (containers); k++)
        {
          JsonObject *c = json_array_get_object_element (containers, k);
          guint n_threads = json_array_get_length (json_object_get_array_member (c, "threads"));

          g_print (g_dngettext (GETTEXT_PACKAGE, "%*scontainer %" PRId64 " (level %" PRId64 "), %u thread\n",
                                "%*scontainer %" PRId64 " (level %" PRId64 "), %u threads\n", n_threads),
                   (int) depth * 2 + 6, "", json_object_get_int_member (c, "pid_ns_inum"),
                   json_object_get_int_member (c, "level"), n_threads);
        }
      print_machine_tree (machines, json_object_get_string_member (m, "name"), depth + 1);
    }
}

static void
print_summary_text (const StrataCliAnalysis *a)
{
  JsonObject *root = json_node_get_object (a->summary);
  JsonObject *timings = json_object_get_object_member (root, "timings");
  JsonObject *sht = json_object_get_object_member (root, "sht");

  g_print (_("Machines:\n"));
  print_machine_tree (json_object_get_array_member (root, "machines"), NULL, 0);
  g_print (_("Events: %" PRId64 ", threads: %" PRId64 "\n"),
           json_object_get_int_member (root, "events"), json_object_get_int_member (root, "threads"));
  g_print (_("Time: %" PRId64 " to %" PRId64 " ns (%.3f s)\n"),
           json_object_get_int_member (root, "start_ns"), json_object_get_int_member (root, "end_ns"),
           (json_object_get_int_member (root, "end_ns") - json_object_get_int_member (root, "start_ns")) / 1e9);
  if (a->from_cache)
    g_print (_("Analysis: from the cache (%s)\n"), a->sht_path);
  else
    g_print (_("Analysis: %.2f s (sync %.2f s), %.2f M events/s; %s, %.1f MiB\n"),
             json_object_get_int_member (timings, "total_ms") / 1e3,
             json_object_get_int_member (timings, "sync_ms") / 1e3,
             json_object_get_int_member (timings, "events_per_s") / 1e6,
             a->sht_path, json_object_get_int_member (sht, "bytes") / 1048576.0);
}


static int
parse (StrataCliContext *ctx,
       Args             *args,
       const char       *summary,
       gboolean          with_at,
       gboolean          with_csv,
       GOptionContext  **context_out)
{
  g_autoptr(GError) error = NULL;
  GOptionContext *context;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &args->json, N_("Print JSON"), NULL },
    { NULL }
  };
  GOptionEntry at_entries[] = {
    { "at", 't', 0, G_OPTION_ARG_STRING, &args->at,
      N_("Times, in ns of the reference clock (absolute), separated by commas"), N_("T[,T…]") },
    { NULL }
  };
  GOptionEntry csv_entries[] = {
    { "csv", 0, 0, G_OPTION_ARG_NONE, &args->csv, N_("Print CSV"), NULL },
    { NULL }
  };

  context = g_option_context_new (NULL);
  *context_out = context;
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  strata_cli_analysis_args_add_entries (&args->analysis, context);
  if (with_at)
    g_option_context_add_main_entries (context, at_entries, GETTEXT_PACKAGE);
  if (with_csv)
    g_option_context_add_main_entries (context, csv_entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &ctx->argc, &ctx->argv, &error))
    return strata_cli_usage_error (context, "%s", error->message);
  if (!strata_cli_analysis_args_check (&args->analysis, &error))
    return strata_cli_usage_error (context, "%s", error->message);
  if (args->json && args->csv)
    return strata_cli_usage_error (context, "%s", _("--json and --csv cannot be used together"));
  return -1;
}

static int
fail (GError *error)
{
  g_printerr ("%s: %s\n", g_get_prgname (), error->message);
  return STRATA_CLI_EXIT_FAILURE;
}

int
strata_cli_analyze (StrataCliContext *ctx)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Args) args = { 0 };
  StrataCliAnalysis a = { 0 };
  int ret;

  ret = parse (ctx, &args,
               _("Finds every CTF trace below the PATHs, synchronizes them, identifies the "
                 "machines (hosts, VMs, nested VMs, containers) and fuses them: what every "
                 "physical CPU executed, for every layer. The result is cached: a later "
                 "query, stats or render of the same traces does not read them again."),
               FALSE, FALSE, &context);
  if (ret >= 0)
    return ret;

  if (!strata_cli_get_analysis (ctx, &args.analysis, &a, &error))
    return fail (error);

  if (args.json)
    {
      json_object_set_boolean_member (json_node_get_object (a.summary), "from_cache", a.from_cache);
      strata_cli_print_json (a.summary);
    }
  else
    print_summary_text (&a);
  strata_cli_print_problems (a.summary);
  ret = strata_cli_summary_exit_status (a.summary);
  strata_cli_analysis_clear (&a);
  return ret;
}

static gboolean
parse_times (const char  *text,
             GArray      *times,
             GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", 0);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      gint64 t;
      char *end = NULL;

      g_strstrip (parts[i]);
      errno = 0;
      t = g_ascii_strtoll (parts[i], &end, 10);
      if (parts[i][0] == '\0' || end == NULL || *end != '\0' || errno != 0)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--at: “%s” is not a time in nanoseconds"), parts[i]);
          return FALSE;
        }
      g_array_append_val (times, t);
    }
  return TRUE;
}

static void
print_query_text (JsonNode *node)
{
  JsonArray *samples = json_node_get_array (node);

  for (guint i = 0; i < json_array_get_length (samples); i++)
    {
      JsonObject *s = json_array_get_object_element (samples, i);
      JsonArray *cpus = json_object_get_array_member (s, "cpus");
      JsonArray *vcpus = json_object_get_array_member (s, "vcpus");

      g_print ("t = %" G_GINT64_FORMAT "\n", json_object_get_int_member (s, "t"));
      /* The columns' names: short, and padded by the format */
      g_print ("  %-8s %-4s %-12s %-5s %-5s %-8s %-16s %-12s %s\n", C_("query column", "host"),
               C_("query column", "cpu"), C_("query column", "machine"), C_("query column", "layer"),
               C_("query column", "vcpu"), C_("query column", "tid"), C_("query column", "comm"),
               C_("query column", "container"), C_("query column", "status"));
      for (guint k = 0; k < json_array_get_length (cpus); k++)
        {
          JsonObject *c = json_array_get_object_element (cpus, k);
          g_autofree char *vcpu = json_object_get_null_member (c, "vcpu") ? g_strdup ("-")
                                  : g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (c, "vcpu"));
          g_autofree char *tid = json_object_get_null_member (c, "tid") ? g_strdup ("?")
                                 : g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (c, "tid"));

          g_print ("  %-8s %-4" G_GINT64_FORMAT " %-12s %-5" G_GINT64_FORMAT " %-5s %-8s %-16s %-12s %s\n",
                   json_object_get_string_member (c, "host"), json_object_get_int_member (c, "cpu"),
                   json_object_get_string_member (c, "machine"), json_object_get_int_member (c, "layer"),
                   vcpu, tid,
                   json_object_get_null_member (c, "comm") ? "?" : json_object_get_string_member (c, "comm"),
                   json_object_get_null_member (c, "container") ? "-" : json_object_get_string_member (c, "container"),
                   json_object_get_string_member (c, "detail"));
        }
      for (guint k = 0; k < json_array_get_length (vcpus); k++)
        {
          JsonObject *v = json_array_get_object_element (vcpus, k);

          /* Translators: a vCPU (machine/number), its state (not translated), and the
           * last exit or nothing */
          g_print (_("  vCPU %s/%" PRId64 ": %s%s%s\n"), json_object_get_string_member (v, "machine"),
                   json_object_get_int_member (v, "vcpu"), json_object_get_string_member (v, "state"),
                   json_object_get_null_member (v, "exit_reason") ? "" : _(", last exit "),
                   json_object_get_null_member (v, "exit_reason") ? "" : json_object_get_string_member (v, "exit_reason"));
        }
    }
}

int
strata_cli_query (StrataCliContext *ctx)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(StrataAnalysis) analysis = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_auto(Args) args = { 0 };
  StrataCliAnalysis a = { 0 };
  int ret;

  ret = parse (ctx, &args,
               _("Prints what every physical CPU executed at each time T (machine, layer, vCPU, "
                 "thread, container, status) and the state of every vCPU. The traces are "
                 "analysed first unless their analysis is cached."),
               TRUE, FALSE, &context);
  if (ret >= 0)
    return ret;
  if (args.at == NULL)
    return strata_cli_usage_error (context, "%s", _("--at is required"));
  if (!parse_times (args.at, times, &error))
    return strata_cli_usage_error (context, "%s", error->message);

  if (!strata_cli_get_analysis (ctx, &args.analysis, &a, &error))
    return fail (error);
  analysis = strata_analysis_open (a.sht_path, 0, &error);
  if (analysis == NULL)
    {
      strata_cli_analysis_clear (&a);
      return fail (error);
    }
  for (guint i = 0; i < times->len; i++)
    {
      gint64 t = g_array_index (times, gint64, i);

      if (t < strata_analysis_get_start_time (analysis) || t > strata_analysis_get_end_time (analysis))
        {
          strata_cli_analysis_clear (&a);
          return strata_cli_usage_error (NULL, _("--at: %" PRId64 " is outside the traces, which go "
                                                 "from %" PRId64 " to %" PRId64 " ns"),
                                         t, strata_analysis_get_start_time (analysis),
                                         strata_analysis_get_end_time (analysis));
        }
    }
  node = strata_analysis_query_json (analysis, (const gint64 *) (gpointer) times->data, times->len, &error);
  strata_cli_analysis_clear (&a);
  if (node == NULL)
    return fail (error);
  if (args.json)
    strata_cli_print_json (node);
  else
    print_query_text (node);
  return STRATA_CLI_EXIT_OK;
}

static void
print_csv_value (JsonNode *node)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return;
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    {
      g_autofree char *escaped = NULL;
      const char *s = json_node_get_string (node);
      GString *str = g_string_new ("\"");

      for (const char *p = s; *p != '\0'; p++)
        {
          if (*p == '"')
            g_string_append_c (str, '"');
          g_string_append_c (str, *p);
        }
      g_string_append_c (str, '"');
      escaped = g_string_free (str, FALSE);
      fputs (escaped, stdout);
    }
  else if (json_node_get_value_type (node) == G_TYPE_INT64)
    printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  else if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    fputs (json_node_get_boolean (node) ? "true" : "false", stdout);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    printf ("%.17g", json_node_get_double (node));
}

/* One table: the scalar members of the array's objects, as columns */
static void
print_csv_table (const char *name,
                 JsonArray  *rows)
{
  g_autoptr(GList) members = NULL;

  if (json_array_get_length (rows) == 0)
    return;
  members = json_object_get_members (json_array_get_object_element (rows, 0));
  printf ("# %s\n", name);
  for (GList *l = members; l != NULL; l = l->next)
    if (JSON_NODE_HOLDS_VALUE (json_object_get_member (json_array_get_object_element (rows, 0), l->data))
        || JSON_NODE_HOLDS_NULL (json_object_get_member (json_array_get_object_element (rows, 0), l->data)))
      printf ("%s%s", l == members ? "" : ",", (const char *) l->data);
  putchar ('\n');
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);

      for (GList *l = members; l != NULL; l = l->next)
        {
          JsonNode *v = json_object_get_member (row, l->data);

          if (v == NULL || !(JSON_NODE_HOLDS_VALUE (v) || JSON_NODE_HOLDS_NULL (v)))
            continue;
          if (l != members)
            putchar (',');
          print_csv_value (v);
        }
      putchar ('\n');
    }
  putchar ('\n');
}

static void
print_stats_text (JsonNode *stats)
{
  JsonObject *root = json_node_get_object (stats);
  JsonArray *vcpus = json_object_get_array_member (root, "vcpus");
  JsonArray *lat = json_object_get_array_member (root, "wakeup_latency");

  if (json_array_get_length (vcpus) > 0)
    {
      g_print ("%-14s %-4s %12s %12s %12s %12s %8s\n", _("vCPU"), "", _("running ms"), _("vmm ms"),
               _("preempted ms"), _("idle ms"), _("exits"));
      for (guint i = 0; i < json_array_get_length (vcpus); i++)
        {
          JsonObject *v = json_array_get_object_element (vcpus, i);

          g_print ("%-14s %-4" G_GINT64_FORMAT " %12.3f %12.3f %12.3f %12.3f %8" G_GINT64_FORMAT "\n",
                   json_object_get_string_member (v, "machine"), json_object_get_int_member (v, "vcpu"),
                   json_object_get_int_member (v, "running_ns") / 1e6, json_object_get_int_member (v, "vmm_ns") / 1e6,
                   json_object_get_int_member (v, "preempted_ns") / 1e6, json_object_get_int_member (v, "idle_ns") / 1e6,
                   json_object_get_int_member (v, "exits"));
        }
    }
  if (json_array_get_length (lat) > 0)
    {
      g_print (_("\nWake-up latency (scheduled: wakeup to switch-in, in the thread's kernel; "
                 "executing: until it runs on a physical CPU)\n"));
      for (guint i = 0; i < json_array_get_length (lat); i++)
        {
          JsonObject *l = json_array_get_object_element (lat, i);
          JsonObject *s = json_object_get_object_member (l, "scheduled");
          JsonObject *e = json_object_get_object_member (l, "executing");

          g_print (_("  L%" PRId64 ": %" PRId64 " wakeups, scheduled mean %.1f µs p99 %.1f µs; "
                     "executing mean %.1f µs p99 %.1f µs\n"),
                   json_object_get_int_member (l, "layer"), json_object_get_int_member (s, "count"),
                   json_object_get_int_member (s, "mean_ns") / 1e3, json_object_get_int_member (s, "p99_ns") / 1e3,
                   json_object_get_int_member (e, "mean_ns") / 1e3, json_object_get_int_member (e, "p99_ns") / 1e3);
        }
    }
}

int
strata_cli_stats (StrataCliContext *ctx)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Args) args = { 0 };
  StrataCliAnalysis a = { 0 };
  int ret;

  ret = parse (ctx, &args,
               _("Per VM and vCPU: time running, in the hypervisor, preempted and idle, and the "
                 "exits by reason; per physical CPU, the time each machine used; per thread, "
                 "its CPU time; wake-up latencies per layer."),
               FALSE, TRUE, &context);
  if (ret >= 0)
    return ret;

  if (!strata_cli_get_analysis (ctx, &args.analysis, &a, &error))
    return fail (error);

  if (args.json)
    strata_cli_print_json (a.stats);
  else if (args.csv)
    {
      JsonObject *root = json_node_get_object (a.stats);

      print_csv_table ("vcpus", json_object_get_array_member (root, "vcpus"));
      print_csv_table ("threads", json_object_get_array_member (root, "threads"));
    }
  else
    print_stats_text (a.stats);
  strata_cli_print_problems (a.summary);
  ret = strata_cli_summary_exit_status (a.summary);
  strata_cli_analysis_clear (&a);
  return ret;
}
