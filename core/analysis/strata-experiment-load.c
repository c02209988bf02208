/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-experiment"

#include "config.h"

#include "strata-analysis-private.h"
#include "strata-experiment.h"
#include "strata-experiment-private.h"
#include "strata-trace-discovery.h"

/*
 * Opening an experiment as users do: its analysis from the catalog when
 * the same traces (paths, content, modification times) were analysed with
 * the same options by this analysis version and its SHT opens whole;
 * otherwise analysed now and recorded, as complete only once its SHT is.
 * The catalog keeps the summary and statistics beside the SHT's path.
 */

static char *
to_catalog_json (JsonNode *summary,
                 JsonNode *stats)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "summary");
  json_builder_add_value (b, json_node_copy (summary));
  json_builder_set_member_name (b, "stats");
  json_builder_add_value (b, json_node_copy (stats));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static StrataExperimentResult *
from_catalog (StrataCatalogAnalysis *entry)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(StrataAnalysis) analysis = NULL;
  StrataExperimentResult *result;
  JsonObject *root;

  if (entry->summary_json == NULL
      || !json_parser_load_from_data (parser, entry->summary_json, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  root = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (root, "summary") || !json_object_has_member (root, "stats"))
    return NULL;
  /* The SHT must open, whole and of this analysis version */
  analysis = strata_analysis_open (entry->sht_path, 0, NULL);
  if (analysis == NULL)
    return NULL;

  result = g_new0 (StrataExperimentResult, 1);
  result->summary = json_node_copy (json_object_get_member (root, "summary"));
  result->stats = json_node_copy (json_object_get_member (root, "stats"));
  result->sht_path = g_strdup (entry->sht_path);
  result->analysis = g_steal_pointer (&analysis);
  result->from_cache = TRUE;
  if (json_object_has_member (json_node_get_object (result->summary), "events"))
    result->n_events = (guint64) json_object_get_int_member (json_node_get_object (result->summary), "events");
  return result;
}

/**
 * strata_experiment_load:
 * @paths: (array zero-terminated=1): files and folders holding traces
 * @options: how; @sht_path is ignored (the catalog names the file) and
 *   @sync_cache defaults to @catalog
 * @catalog: where analyses are recorded
 * @force: analyse again even when the catalog has the analysis
 * @cancellable: (nullable): stops a run; nothing is then recorded
 * @error: why no analysis could be had
 *
 * The analysis of the traces below @paths, from @catalog or run now.
 * What deserves attention on the way (a cached analysis that could not be
 * used, a catalog that could not record the new one) is added to the
 * result's `warnings`.
 *
 * Returns: (transfer full): the result, with its analysis open, or %NULL
 *   with @error set
 */
StrataExperimentResult *
strata_experiment_load (const char * const            *paths,
                        const StrataExperimentOptions *options,
                        StrataCatalog                 *catalog,
                        gboolean                       force,
                        GCancellable                  *cancellable,
                        GError                       **error)
{
  g_autoptr(GPtrArray) locations = NULL;
  g_autoptr(GPtrArray) trace_paths = NULL;
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(StrataCatalogAnalysis) entry = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  StrataExperimentOptions run_options;
  StrataExperimentResult *result;

  g_return_val_if_fail (paths != NULL && paths[0] != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (STRATA_IS_CATALOG (catalog), NULL);

  /* What killed runs left behind, a day later (a run may still be going) */
  strata_catalog_prune (catalog, (gint64) G_USEC_PER_SEC * 24 * 3600, NULL);

  /* The identity of the traces below the paths, and the options */
  locations = strata_trace_discover (paths, NULL, cancellable, error);
  if (locations == NULL)
    return NULL;
  if (locations->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No trace found below %s%s",
                   paths[0], paths[1] != NULL ? " and the other paths given" : "");
      return NULL;
    }
  trace_paths = g_ptr_array_new ();
  for (guint i = 0; i < locations->len; i++)
    g_ptr_array_add (trace_paths, ((StrataTraceLocation *) g_ptr_array_index (locations, i))->path);
  g_ptr_array_add (trace_paths, NULL);

  run_options = *options;
  if (run_options.sync_cache == NULL)
    run_options.sync_cache = STRATA_SYNC_CACHE (catalog);
  key = strata_experiment_make_key ((const char * const *) trace_paths->pdata, &run_options, error);
  if (key == NULL)
    return NULL;

  if (!force)
    {
      entry = strata_catalog_lookup_analysis (catalog, key, STRATA_ANALYSIS_VERSION, &local_error);
      if (entry != NULL && (result = from_catalog (entry)) != NULL)
        return result;
      if (entry != NULL)
        {
          g_ptr_array_add (warnings, g_strdup_printf ("The cached analysis %s cannot be used: analysing again",
                                                      entry->sht_path));
          strata_catalog_forget_analysis (catalog, entry->id, NULL);
        }
      if (local_error != NULL)
        g_ptr_array_add (warnings, g_strdup (local_error->message));
      g_clear_error (&local_error);
      g_clear_pointer (&entry, strata_catalog_analysis_free);
    }

  name = g_path_get_basename (paths[0]);
  entry = strata_catalog_begin_analysis (catalog, key, STRATA_ANALYSIS_VERSION, name, paths, error);
  if (entry == NULL)
    return NULL;

  run_options.sht_path = entry->sht_path;
  result = strata_experiment_run (paths, &run_options, cancellable, error);
  if (result == NULL)
    {
      strata_catalog_forget_analysis (catalog, entry->id, NULL);
      return NULL;
    }

  /* Trusted from now on only */
  text = to_catalog_json (result->summary, result->stats);
  if (!strata_catalog_finish_analysis (catalog, entry->id, text, &local_error))
    g_ptr_array_add (warnings, g_strdup_printf ("The analysis could not be recorded (the next run analyses "
                                                "again): %s", local_error->message));
  result->warnings = g_steal_pointer (&warnings);
  return result;
}

typedef struct
{
  char                        **paths;
  StrataExperimentOptionsCopy   copy;
  StrataCatalog                *catalog;
  gboolean                      force;
} LoadData;

static void
load_data_free (gpointer data)
{
  LoadData *load = data;

  g_strfreev (load->paths);
  _strata_experiment_options_copy_clear (&load->copy);
  g_clear_object (&load->catalog);
  g_free (load);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *load = task_data;
  GError *error = NULL;
  StrataExperimentResult *result;

  result = strata_experiment_load ((const char * const *) load->paths, &load->copy.options, load->catalog,
                                   load->force, cancellable, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) strata_experiment_result_free);
}

/**
 * strata_experiment_load_async:
 * @options: copied; its callbacks are called on the worker thread
 *
 * Runs strata_experiment_load() on a worker thread.
 */
void
strata_experiment_load_async (const char * const            *paths,
                              const StrataExperimentOptions *options,
                              StrataCatalog                 *catalog,
                              gboolean                       force,
                              GCancellable                  *cancellable,
                              GAsyncReadyCallback            callback,
                              gpointer                       user_data)
{
  g_autoptr(GTask) task = NULL;
  LoadData *load;

  g_return_if_fail (paths != NULL && paths[0] != NULL);
  g_return_if_fail (options != NULL);
  g_return_if_fail (STRATA_IS_CATALOG (catalog));

  load = g_new0 (LoadData, 1);
  load->paths = g_strdupv ((char **) paths);
  _strata_experiment_options_copy_init (&load->copy, options);
  load->catalog = g_object_ref (catalog);
  load->force = force;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, strata_experiment_load_async);
  g_task_set_task_data (task, load, load_data_free);
  g_task_run_in_thread (task, load_thread);
}

StrataExperimentResult *
strata_experiment_load_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
