/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit statuses of the strata-cli contract (DESIGN.md). */
#define STRATA_CLI_EXIT_OK       0
#define STRATA_CLI_EXIT_FAILURE  1
#define STRATA_CLI_EXIT_USAGE    2

/* What each command gets: its own arguments (argv[0] is the command name)
 * and a cancellable that Ctrl+C cancels. */
typedef struct
{
  int           argc;
  char        **argv;
  GCancellable *cancellable;
} StrataCliContext;

/* The options of the commands that read an analysis, and where it is
 * (strata-cli-analysis.c) */
typedef struct
{
  char     *cache_dir;
  char     *reference;
  gboolean  force;
  GStrv     hosts;
  GStrv     guests;
  GStrv     paths;
  GArray   *roles;     /* StrataRoleOverride, borrowing the strings above */
} StrataCliAnalysisArgs;

typedef struct
{
  char     *sht_path;
  JsonNode *summary;
  JsonNode *stats;
  gboolean  from_cache;
} StrataCliAnalysis;

void      strata_cli_analysis_args_add_entries (StrataCliAnalysisArgs  *args,
                                                GOptionContext         *context);
gboolean  strata_cli_analysis_args_check       (StrataCliAnalysisArgs  *args,
                                                GError                **error);
void      strata_cli_analysis_args_clear       (StrataCliAnalysisArgs  *args);
gboolean  strata_cli_get_analysis              (StrataCliContext       *ctx,
                                                StrataCliAnalysisArgs  *args,
                                                StrataCliAnalysis      *out,
                                                GError                **error);
void      strata_cli_analysis_clear            (StrataCliAnalysis      *a);
void      strata_cli_print_problems            (JsonNode               *summary);
int       strata_cli_summary_exit_status       (JsonNode               *summary);

int   strata_cli_info        (StrataCliContext *ctx);
int   strata_cli_simulate    (StrataCliContext *ctx);
int   strata_cli_sync        (StrataCliContext *ctx);
int   strata_cli_analyze     (StrataCliContext *ctx);
int   strata_cli_query       (StrataCliContext *ctx);
int   strata_cli_stats       (StrataCliContext *ctx);
int   strata_cli_render      (StrataCliContext *ctx);

void  strata_cli_print_json  (JsonNode         *node);
int   strata_cli_usage_error (GOptionContext   *context,
                              const char       *format,
                              ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS
