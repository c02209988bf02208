/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "strata-analysis.h"
#include "strata-catalog.h"
#include "strata-machine-plan.h"
#include "strata-sht.h"
#include "strata-sync-cache.h"

G_BEGIN_DECLS

/**
 * StrataExperimentPhase:
 * @STRATA_EXPERIMENT_DISCOVER: finding the traces
 * @STRATA_EXPERIMENT_SYNC: pass 1: synchronization and machines
 * @STRATA_EXPERIMENT_FUSE: pass 2: the fused analysis
 * @STRATA_EXPERIMENT_DONE: finished
 */
typedef enum
{
  STRATA_EXPERIMENT_DISCOVER,
  STRATA_EXPERIMENT_SYNC,
  STRATA_EXPERIMENT_FUSE,
  STRATA_EXPERIMENT_DONE,
} StrataExperimentPhase;

/**
 * StrataExperimentProgress:
 * @phase: where the run is
 * @fraction: of the whole run, 0 to 1
 * @events: events fused so far
 * @events_per_s: their rate
 * @time_ns: how far fusion got, in the reference clock (0 before)
 *
 * Where an analysis stands.
 */
typedef struct
{
  StrataExperimentPhase phase;
  double                fraction;
  guint64               events;
  double                events_per_s;
  gint64                time_ns;
} StrataExperimentProgress;

/* Called on the worker thread, a few times a second at most. */
typedef void (*StrataExperimentProgressFunc) (const StrataExperimentProgress *progress,
                                              gpointer                        user_data);

/* Called on the worker thread once the machines are known and before any
 * event is fused: a viewer may take a reference and query the analysis
 * while it grows. */
typedef void (*StrataExperimentStartedFunc)  (StrataAnalysis                 *analysis,
                                              gpointer                        user_data);

/**
 * StrataExperimentOptions:
 * @sht_path: where to write the State History Tree (written under a
 *   temporary name, renamed when complete)
 * @reference: (nullable): the reference clock's trace, by path or host
 *   name; %NULL for the physical host
 * @sync_cache: (nullable): where synchronization results are stored
 * @max_threads: traces read at once in pass 1 (0: one per processor)
 * @roles: (array length=n_roles) (nullable): roles given by the user,
 *   which win over what the events say
 * @n_roles: their number
 * @progress: (nullable): see #StrataExperimentProgressFunc
 * @started: (nullable): see #StrataExperimentStartedFunc
 * @user_data: for @progress and @started
 *
 * How to analyse an experiment.
 */
typedef struct
{
  const char                   *sht_path;
  const char                   *reference;
  StrataSyncCache              *sync_cache;
  guint                         max_threads;
  const StrataRoleOverride     *roles;
  guint                         n_roles;
  StrataExperimentProgressFunc  progress;
  StrataExperimentStartedFunc   started;
  gpointer                      user_data;
} StrataExperimentOptions;

/**
 * StrataExperimentResult:
 * @summary: what `strata-cli analyze --json` prints: traces, machines,
 *   synchronization, timings, problems
 * @stats: what `strata-cli stats --json` prints
 * @sht_path: the State History Tree written
 * @analysis: it, ready to query
 * @n_events: events fused
 * @n_errors: traces that could not be read in full
 * @from_cache: strata_experiment_load() found it in the catalog
 * @warnings: (element-type utf8) (nullable): what strata_experiment_load()
 *   met on the way (a cached analysis it could not use, say)
 *
 * What an analysis produced. Immutable.
 */
typedef struct
{
  JsonNode       *summary;
  JsonNode       *stats;
  char           *sht_path;
  StrataAnalysis *analysis;
  guint64         n_events;
  guint           n_errors;
  gboolean        from_cache;
  GPtrArray      *warnings;
} StrataExperimentResult;

void                    strata_experiment_options_init  (StrataExperimentOptions       *options);
StrataExperimentResult *strata_experiment_run           (const char * const            *paths,
                                                         const StrataExperimentOptions *options,
                                                         GCancellable                  *cancellable,
                                                         GError                       **error);
void                    strata_experiment_run_async     (const char * const            *paths,
                                                         const StrataExperimentOptions *options,
                                                         GCancellable                  *cancellable,
                                                         GAsyncReadyCallback            callback,
                                                         gpointer                       user_data);
StrataExperimentResult *strata_experiment_run_finish    (GAsyncResult                  *result,
                                                         GError                       **error);
void                    strata_experiment_result_free   (StrataExperimentResult        *result);
StrataExperimentResult *strata_experiment_load          (const char * const            *paths,
                                                         const StrataExperimentOptions *options,
                                                         StrataCatalog                 *catalog,
                                                         gboolean                       force,
                                                         GCancellable                  *cancellable,
                                                         GError                       **error);
void                    strata_experiment_load_async    (const char * const            *paths,
                                                         const StrataExperimentOptions *options,
                                                         StrataCatalog                 *catalog,
                                                         gboolean                       force,
                                                         GCancellable                  *cancellable,
                                                         GAsyncReadyCallback            callback,
                                                         gpointer                       user_data);
StrataExperimentResult *strata_experiment_load_finish   (GAsyncResult                  *result,
                                                         GError                       **error);
char                   *strata_experiment_make_key      (const char * const            *trace_paths,
                                                         const StrataExperimentOptions *options,
                                                         GError                       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataExperimentResult, strata_experiment_result_free)

G_END_DECLS
