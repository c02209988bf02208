/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-window"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>

#include "strata-application.h"
#include "strata-experiment.h"
#include "strata-render-export.h"
#include "strata-render-format.h"
#include "strata-sim.h"
#include "strata-timeline-view.h"
#include "strata-window.h"

/*
 * A window shows one experiment. Opening one runs its analysis on a
 * worker thread (or finds it in the catalog); the views appear as soon as
 * the machines are known and fill in while the analysis goes on. Progress
 * crosses from the worker one way: written under a lock, published by one
 * coalesced idle. Problems met (unreadable traces, lost events,
 * unsynchronized guests) are listed behind the warning button.
 */

/* How often views catch up with an analysis in progress */
#define LIVE_REFRESH_MS 400

struct _StrataWindow
{
  GtkApplicationWindow  parent_instance;

  /* Template */
  GtkStack             *main_stack;
  GtkStack             *views_stack;
  GtkRevealer          *progress_revealer;
  GtkProgressBar       *progress_bar;
  GtkLabel             *progress_label;
  GtkLabel             *rate_label;
  GtkLabel             *error_label;
  GtkMenuButton        *problems_button;
  GtkListBox           *problems_list;
  GtkListBox           *recent_list;
  GtkWidget            *recent_title;
  GtkRevealer          *highlight_revealer;
  GtkLabel             *highlight_label;
  GtkEntry             *highlight_entry;

  /* The views: physical CPUs, vCPUs, threads */
  StrataTimelineView   *views[3];
  GtkSearchEntry       *thread_search;
  StrataHighlight      *highlight;
  StrataRenderScope    *scope;
  gboolean              color_by_machine;
  double                highlight_alpha;

  GSettings            *settings;      /* Owned, nullable: the application's */

  StrataViewport       *viewport;
  GCancellable         *cancellable;
  char                **paths;
  StrataAnalysis       *analysis;
  JsonNode             *summary;
  JsonNode             *stats;
  GPtrArray            *problems;
  char                 *error;
  gboolean              busy;
  guint                 live_source;

  /* Written by the worker under the lock, read by the idle */
  GMutex                lock;
  StrataExperimentProgress progress;
  StrataAnalysis       *live;
  char                 *progress_message;
  guint                 progress_idle;
};

G_DEFINE_FINAL_TYPE (StrataWindow, strata_window, GTK_TYPE_APPLICATION_WINDOW)

static void
set_busy (StrataWindow *self,
          gboolean      busy)
{
  self->busy = busy;
  gtk_revealer_set_reveal_child (self->progress_revealer, busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel", busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reanalyse", !busy && self->paths != NULL);
}

static void
show_problems (StrataWindow *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->problems_list))) != NULL)
    gtk_list_box_remove (self->problems_list, child);
  for (guint i = 0; i < self->problems->len; i++)
    {
      GtkWidget *label = gtk_label_new (g_ptr_array_index (self->problems, i));

      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 70);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      gtk_widget_add_css_class (label, "problem-row");
      gtk_list_box_append (self->problems_list, label);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->problems_button), self->problems->len > 0);
  if (self->problems->len > 0)
    {
      g_autofree char *tip = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u problem met while analysing",
                                                           "%u problems met while analysing",
                                                           self->problems->len),
                                              self->problems->len);

      gtk_widget_set_tooltip_text (GTK_WIDGET (self->problems_button), tip);
    }
}

static void
set_title_for_paths (StrataWindow *self)
{
  g_autofree char *base = NULL;
  g_autofree char *title = NULL;

  if (self->paths == NULL || self->paths[0] == NULL)
    {
      gtk_window_set_title (GTK_WINDOW (self), _("Strata"));
      return;
    }
  base = g_path_get_basename (self->paths[0]);
  title = self->paths[1] != NULL ? g_strdup_printf (_("%s and others — Strata"), base)
                                 : g_strdup_printf (_("%s — Strata"), base);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static const StrataRenderView view_kinds[] = {
  STRATA_RENDER_VIEW_FVS, STRATA_RENDER_VIEW_VCPUS, STRATA_RENDER_VIEW_THREADS,
};

static void
set_view_rows (StrataWindow *self,
               guint         i)
{
  g_autoptr(StrataRenderRows) rows = NULL;
  const char *search = i == 2 ? gtk_editable_get_text (GTK_EDITABLE (self->thread_search)) : NULL;

  if (self->scope != NULL)
    rows = strata_render_rows_new (self->scope, view_kinds[i], STRATA_RENDER_THREADS_BY_TID,
                                   search != NULL && search[0] != '\0' ? search : NULL);
  strata_timeline_view_set_rows (self->views[i], rows);
}

/* The rows of every view, from the analysis and what is known of it
 * (the summary, with the containers, once the analysis is done) */
static void
update_scope (StrataWindow *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->scope, strata_render_scope_unref);
  if (self->analysis != NULL)
    {
      self->scope = strata_render_scope_new (self->analysis, self->summary, &error);
      if (self->scope == NULL)
        g_warning ("Cannot show the analysis: %s", error->message);
    }
  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    set_view_rows (self, i);
}

static void
refresh_views (StrataWindow *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    strata_timeline_view_refresh (self->views[i]);
}

/* The views show @analysis (live or finished) */
static void
show_analysis (StrataWindow   *self,
               StrataAnalysis *analysis,
               gint64          end)
{
  if (self->analysis != analysis)
    {
      g_clear_pointer (&self->analysis, strata_analysis_unref);
      self->analysis = strata_analysis_ref (analysis);
      strata_highlight_remove_all (self->highlight);
      gtk_revealer_set_reveal_child (self->highlight_revealer, FALSE);
      update_scope (self);
    }
  strata_viewport_set_bounds (self->viewport, strata_analysis_get_start_time (analysis),
                              MAX (end, strata_analysis_get_start_time (analysis) + 1));
  gtk_stack_set_visible_child_name (self->main_stack, "views");
}

/* ---------------------------------------------------------------------- */
/* Progress, from the worker                                              */
/* ---------------------------------------------------------------------- */

static gboolean
progress_idle_cb (gpointer user_data)
{
  StrataWindow *self = user_data;
  StrataExperimentProgress p;
  g_autoptr(StrataAnalysis) live = NULL;
  g_autofree char *message = NULL;
  g_autofree char *rate = NULL;

  g_mutex_lock (&self->lock);
  p = self->progress;
  live = g_steal_pointer (&self->live);
  message = g_steal_pointer (&self->progress_message);
  self->progress_idle = 0;
  g_mutex_unlock (&self->lock);

  if (!self->busy)
    return G_SOURCE_REMOVE;

  switch (p.phase)
    {
    case STRATA_EXPERIMENT_DISCOVER:
      gtk_label_set_text (self->progress_label, _("Finding the traces…"));
      break;
    case STRATA_EXPERIMENT_SYNC:
      gtk_label_set_text (self->progress_label, _("Synchronizing the traces…"));
      break;
    case STRATA_EXPERIMENT_FUSE:
      gtk_label_set_text (self->progress_label, _("Analysing…"));
      break;
    case STRATA_EXPERIMENT_DONE:
    default:
      gtk_label_set_text (self->progress_label, _("Finishing…"));
      break;
    }
  if (message != NULL)
    gtk_label_set_text (self->progress_label, message);
  gtk_progress_bar_set_fraction (self->progress_bar, p.fraction);
  if (p.events_per_s > 0)
    rate = g_strdup_printf (_("%.2f M events/s"), p.events_per_s / 1e6);
  gtk_label_set_text (self->rate_label, rate != NULL ? rate : "");

  if (live != NULL)
    show_analysis (self, live, strata_analysis_get_start_time (live) + 1);
  if (self->analysis != NULL && p.phase == STRATA_EXPERIMENT_FUSE && p.time_ns > 0)
    strata_viewport_set_bounds (self->viewport, strata_analysis_get_start_time (self->analysis), p.time_ns);
  return G_SOURCE_REMOVE;
}

static void
queue_progress (StrataWindow *self)
{
  /* Called with the lock held */
  if (self->progress_idle == 0)
    self->progress_idle = g_idle_add_full (G_PRIORITY_LOW, progress_idle_cb, g_object_ref (self),
                                           g_object_unref);
}

static void
progress_cb (const StrataExperimentProgress *progress,
             gpointer                        user_data)
{
  StrataWindow *self = user_data;

  g_mutex_lock (&self->lock);
  self->progress = *progress;
  queue_progress (self);
  g_mutex_unlock (&self->lock);
}

static void
started_cb (StrataAnalysis *analysis,
            gpointer        user_data)
{
  StrataWindow *self = user_data;

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->live, strata_analysis_unref);
  self->live = strata_analysis_ref (analysis);
  queue_progress (self);
  g_mutex_unlock (&self->lock);
}

/* Views redraw what the analysis wrote since */
static gboolean
live_refresh_cb (gpointer user_data)
{
  StrataWindow *self = user_data;

  if (!self->busy)
    {
      self->live_source = 0;
      return G_SOURCE_REMOVE;
    }
  refresh_views (self);
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------------- */
/* Opening                                                                */
/* ---------------------------------------------------------------------- */

static void
add_summary_problems (StrataWindow *self)
{
  JsonArray *problems;

  if (self->summary == NULL)
    return;
  problems = json_object_get_array_member (json_node_get_object (self->summary), "problems");
  for (guint i = 0; problems != NULL && i < json_array_get_length (problems); i++)
    g_ptr_array_add (self->problems, g_strdup (json_array_get_string_element (problems, i)));
}

static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(StrataWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataExperimentResult) res = strata_experiment_load_finish (result, &error);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->live, strata_analysis_unref);
  g_mutex_unlock (&self->lock);
  set_busy (self, FALSE);

  if (res == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* Cancelled: back to where the user can open something else */
          g_clear_pointer (&self->analysis, strata_analysis_unref);
          gtk_stack_set_visible_child_name (self->main_stack, "welcome");
          return;
        }
      g_free (self->error);
      self->error = g_strdup (error->message);
      gtk_label_set_text (self->error_label, error->message);
      g_clear_pointer (&self->analysis, strata_analysis_unref);
      gtk_stack_set_visible_child_name (self->main_stack, "error");
      return;
    }

  g_clear_pointer (&self->summary, json_node_unref);
  g_clear_pointer (&self->stats, json_node_unref);
  self->summary = json_node_ref (res->summary);
  self->stats = json_node_ref (res->stats);
  for (guint i = 0; res->warnings != NULL && i < res->warnings->len; i++)
    g_ptr_array_add (self->problems, g_strdup (g_ptr_array_index (res->warnings, i)));
  add_summary_problems (self);
  show_problems (self);
  show_analysis (self, res->analysis, strata_analysis_get_end_time (res->analysis));
  /* Finished: the summary knows the containers */
  update_scope (self);
  refresh_views (self);
}

/**
 * strata_window_open:
 * @paths: (array zero-terminated=1): trace archives
 * @force: analyse again even if the catalog has the analysis
 *
 * Shows the experiment of @paths, analysing it in the background if
 * needed. Whatever the window showed before is dropped.
 */
void
strata_window_open (StrataWindow       *self,
                    const char * const *paths,
                    gboolean            force)
{
  StrataApplication *app = STRATA_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  StrataCatalog *catalog = strata_application_get_catalog (app);
  StrataExperimentOptions options;
  char **copy;

  g_return_if_fail (STRATA_IS_WINDOW (self));
  g_return_if_fail (paths != NULL && paths[0] != NULL);

  copy = g_strdupv ((char **) paths);
  g_strfreev (self->paths);
  self->paths = copy;
  set_title_for_paths (self);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->analysis, strata_analysis_unref);
  g_clear_pointer (&self->error, g_free);
  g_ptr_array_set_size (self->problems, 0);
  show_problems (self);

  if (catalog == NULL)
    {
      self->error = g_strdup (strata_application_get_catalog_error (app));
      gtk_label_set_text (self->error_label, self->error);
      gtk_stack_set_visible_child_name (self->main_stack, "error");
      return;
    }

  strata_experiment_options_init (&options);
  options.progress = progress_cb;
  options.started = started_cb;
  options.user_data = self;

  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_text (self->progress_label, _("Opening…"));
  gtk_label_set_text (self->rate_label, "");
  set_busy (self, TRUE);
  if (self->live_source == 0)
    self->live_source = g_timeout_add (LIVE_REFRESH_MS, live_refresh_cb, self);

  /* The worker calls back into the window: it holds a reference until
   * the end, and the window cancels it when closed */
  strata_experiment_load_async ((const char * const *) self->paths, &options, catalog, force,
                                self->cancellable, load_cb, g_object_ref (self));
}

/* ---------------------------------------------------------------------- */
/* The demo                                                               */
/* ---------------------------------------------------------------------- */

static void
demo_progress_cb (double   fraction,
                  gpointer user_data)
{
  StrataWindow *self = user_data;

  g_mutex_lock (&self->lock);
  self->progress.phase = STRATA_EXPERIMENT_DISCOVER;
  self->progress.fraction = fraction;
  g_free (self->progress_message);
  self->progress_message = g_strdup (_("Simulating the demo system…"));
  queue_progress (self);
  g_mutex_unlock (&self->lock);
}

static void
delete_tree (GFile *file)
{
  g_autoptr(GFileEnumerator) children =
    g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                               G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  GFileInfo *info;

  while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autoptr(GFile) child = g_file_get_child (file, g_file_info_get_name (info));

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        delete_tree (child);
      else
        g_file_delete (child, NULL, NULL);
      g_object_unref (info);
    }
  g_file_delete (file, NULL, NULL);
}

static void
demo_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  StrataWindow *self = source_object;
  const char *dir = task_data;
  g_autofree char *part = g_strconcat (dir, ".part", NULL);
  g_autofree char *scenario = g_build_filename (dir, "scenario.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) part_file = g_file_new_for_path (part);
  StrataSimOptions options;

  if (g_file_test (scenario, G_FILE_TEST_EXISTS))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* Written aside, then moved in place: a demo cut short is not kept */
  strata_sim_options_init (&options);
  options.scenario = "paper";
  options.seed = 1;
  options.duration_ns = G_GINT64_CONSTANT (300000000);
  if (g_file_test (part, G_FILE_TEST_EXISTS))
    delete_tree (part_file);   /* a previous demo cut short */
  if (!strata_sim_run (&options, part, demo_progress_cb, self, cancellable, NULL, &error)
      || g_rename (part, dir) < 0)
    {
      if (error == NULL)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write the demo into %s"), dir);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
demo_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  StrataWindow *self = STRATA_WINDOW (object);
  g_autofree char *dir = user_data;
  g_autoptr(GError) error = NULL;

  set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          gtk_label_set_text (self->error_label, error->message);
          gtk_stack_set_visible_child_name (self->main_stack, "error");
        }
      return;
    }
  {
    const char *paths[] = { dir, NULL };

    strata_window_open (self, paths, FALSE);
  }
}

/**
 * strata_window_open_demo:
 *
 * Opens the demo: the paper's system, simulated into the cache folder the
 * first time.
 */
void
strata_window_open_demo (StrataWindow *self)
{
  StrataApplication *app = STRATA_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  g_autoptr(GTask) task = NULL;
  char *dir = strata_application_dup_demo_dir (app);
  g_autofree char *parent = g_path_get_dirname (dir);

  g_mkdir_with_parents (parent, 0700);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_text (self->progress_label, _("Preparing the demo…"));
  set_busy (self, TRUE);

  task = g_task_new (self, self->cancellable, demo_cb, dir);
  g_task_set_task_data (task, g_strdup (dir), g_free);
  g_task_run_in_thread (task, demo_thread);
}

/* ---------------------------------------------------------------------- */
/* Actions                                                                */
/* ---------------------------------------------------------------------- */

static void
chooser_response_cb (GtkNativeDialog *dialog,
                     int              response,
                     gpointer         user_data)
{
  StrataWindow *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

      /* The next Open starts beside what was opened */
      if (self->settings != NULL && g_list_model_get_n_items (files) > 0)
        {
          g_autoptr(GFile) first = g_list_model_get_item (files, 0);
          g_autoptr(GFile) parent = g_file_get_parent (first);

          if (parent != NULL)
            {
              g_autofree char *uri = g_file_get_uri (parent);

              g_settings_set_string (self->settings, "last-folder", uri);
            }
        }

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);
          char *path = g_file_get_path (file);

          if (path != NULL)
            g_ptr_array_add (paths, path);
        }
      g_ptr_array_add (paths, NULL);
      if (paths->len > 1)
        strata_window_open (self, (const char * const *) paths->pdata, FALSE);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  StrataWindow *self = STRATA_WINDOW (widget);
  GtkFileChooserNative *chooser;

  /* Native, so that it goes through the portal in the Flatpak */
  chooser = gtk_file_chooser_native_new (_("Open Trace Archives"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Open"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  if (self->settings != NULL)
    {
      g_autofree char *uri = g_settings_get_string (self->settings, "last-folder");

      if (uri[0] != '\0')
        {
          g_autoptr(GFile) folder = g_file_new_for_uri (uri);

          /* A folder since removed: the chooser's default */
          if (g_file_query_file_type (folder, G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY)
            gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
        }
    }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
open_demo_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  strata_window_open_demo (STRATA_WINDOW (widget));
}

static void
reanalyse_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  StrataWindow *self = STRATA_WINDOW (widget);
  g_auto(GStrv) paths = g_strdupv (self->paths);

  if (paths != NULL)
    strata_window_open (self, (const char * const *) paths, TRUE);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  g_cancellable_cancel (STRATA_WINDOW (widget)->cancellable);
}

static void
zoom_back_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  strata_viewport_go_back (STRATA_WINDOW (widget)->viewport);
}

static void
zoom_forward_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  strata_viewport_go_forward (STRATA_WINDOW (widget)->viewport);
}

static void
update_highlight_bar (StrataWindow *self)
{
  g_autoptr(GString) text = g_string_new (NULL);
  guint n = strata_highlight_get_n_items (self->highlight);

  for (guint i = 0; i < n && self->analysis != NULL; i++)
    {
      const StrataHighlightItem *item = strata_highlight_get_item (self->highlight, i);
      const char *machine = item->machine >= 0 && (guint) item->machine < strata_analysis_get_n_machines (self->analysis)
                            ? strata_analysis_get_machine (self->analysis, (guint) item->machine)->name : "?";

      if (text->len > 0)
        g_string_append (text, ", ");
      switch (item->kind)
        {
        case STRATA_HIGHLIGHT_MACHINE:
          g_string_append_printf (text, _("machine %s"), machine);
          break;
        case STRATA_HIGHLIGHT_VCPU:
          g_string_append_printf (text, _("vCPU %s/%d"), machine, item->number);
          break;
        case STRATA_HIGHLIGHT_CONTAINER:
          g_string_append_printf (text, _("container %d of %s"), item->number, machine);
          break;
        case STRATA_HIGHLIGHT_PCPU:
          g_string_append_printf (text, _("physical CPU %s/%d"), machine, item->number);
          break;
        case STRATA_HIGHLIGHT_THREAD:
        default:
          g_string_append_printf (text, _("thread %d of %s"), item->number, machine);
          break;
        }
    }
  if (text->len > 0)
    {
      g_autofree char *label = g_strdup_printf (_("Highlighted: %s"), text->str);

      gtk_label_set_text (self->highlight_label, label);
    }
  gtk_revealer_set_reveal_child (self->highlight_revealer, n > 0);
  refresh_views (self);
}

static void
highlight_requested_cb (StrataTimelineView *view,
                        guint               position,
                        double              x,
                        gboolean            add,
                        StrataWindow       *self)
{
  StrataTimeGraph *model = strata_timeline_view_get_model (view);
  const StrataRenderRow *row;
  StrataHighlightItem item = { STRATA_HIGHLIGHT_MACHINE, -1, -1, -1 };

  if (model == NULL || position >= strata_time_graph_get_n_rows (model))
    return;
  row = strata_time_graph_get_row (model, position);

  if (x >= 0 && row->kind != STRATA_RENDER_ROW_HEADING)
    {
      StrataTimeGraphItem hit;

      /* A state: what executes there */
      if (!strata_time_graph_lookup (model, position, x, &hit, NULL))
        return;
      if (row->kind == STRATA_RENDER_ROW_PCPU)
        {
          item.kind = STRATA_HIGHLIGHT_MACHINE;
          item.machine = hit.machine;
        }
      else if (row->kind == STRATA_RENDER_ROW_VCPU)
        {
          item.kind = STRATA_HIGHLIGHT_VCPU;
          item.machine = hit.machine;
          item.number = hit.vcpu;
        }
      else
        {
          item.kind = STRATA_HIGHLIGHT_THREAD;
          item.machine = hit.thread_info.machine;
          item.number = hit.thread_info.tid;
        }
      strata_time_graph_item_clear (&hit);
    }
  else
    {
      /* A label: what the row is */
      switch (row->kind)
        {
        case STRATA_RENDER_ROW_PCPU:
          item.kind = STRATA_HIGHLIGHT_PCPU;
          item.machine = row->machine;
          item.number = row->cpu;
          break;
        case STRATA_RENDER_ROW_VCPU:
          item.kind = STRATA_HIGHLIGHT_VCPU;
          item.machine = row->machine;
          item.number = row->cpu;
          break;
        case STRATA_RENDER_ROW_THREAD:
          {
            StrataThreadInfo info;

            item.kind = STRATA_HIGHLIGHT_THREAD;
            if (self->analysis == NULL || row->thread < 0
                || !strata_analysis_get_thread (self->analysis, (guint32) row->thread,
                                                strata_analysis_get_end_time (self->analysis), &info, NULL))
              return;
            item.machine = info.machine;
            item.number = info.tid;
            strata_thread_info_clear (&info);
          }
          break;
        case STRATA_RENDER_ROW_HEADING:
        default:
          if (row->container >= 0)
            {
              item.kind = STRATA_HIGHLIGHT_CONTAINER;
              item.container = row->container;
              item.machine = row->machine;
            }
          else if (row->machine >= 0)
            {
              item.kind = STRATA_HIGHLIGHT_MACHINE;
              item.machine = row->machine;
            }
          else
            return;
          break;
        }
    }
  if (item.machine < 0)
    return;
  if (!add)
    strata_highlight_remove_all (self->highlight);
  strata_highlight_add (self->highlight, &item);
  update_highlight_bar (self);
}

/* The filter bar: `machine=vm1`, as `strata-cli render --highlight` */
static void
highlight_entry_activate_cb (GtkEntry     *entry,
                             StrataWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_autoptr(GError) error = NULL;

  if (self->scope == NULL || text[0] == '\0')
    return;
  if (!strata_highlight_add_parsed (self->highlight, self->scope, text, &error))
    {
      gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (entry), error->message);
      gtk_widget_error_bell (GTK_WIDGET (entry));
      return;
    }
  gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  update_highlight_bar (self);
}

static void
clear_highlight_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  StrataWindow *self = STRATA_WINDOW (widget);

  strata_highlight_remove_all (self->highlight);
  update_highlight_bar (self);
}

static const char *
view_title (guint i)
{
  const char *titles[] = { N_("Physical CPUs"), N_("Virtual CPUs"), N_("Threads") };

  return _(titles[MIN (i, G_N_ELEMENTS (titles) - 1)]);
}

static StrataTimelineView *
current_view (StrataWindow *self)
{
  GtkWidget *page = gtk_stack_get_visible_child (self->views_stack);

  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    if (gtk_widget_is_ancestor (GTK_WIDGET (self->views[i]), page))
      return self->views[i];
  return self->views[0];
}

/**
 * strata_window_export:
 * @path: a .png, .svg or .pdf file
 * @width: the picture's width (0: the view's)
 *
 * Writes the view shown, over the range shown, with the highlight and
 * colors shown, as `strata-cli render` would (same model, same painter).
 */
gboolean
strata_window_export (StrataWindow  *self,
                      const char    *path,
                      guint          width,
                      GError       **error)
{
  StrataTimelineView *view = current_view (self);
  StrataRenderExportOptions options = { 0 };
  StrataRenderStyle style;
  g_autofree char *title = strata_window_dup_export_title (self);

  if (strata_timeline_view_get_rows (view) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot export the view to %s: nothing is shown"), path);
      return FALSE;
    }
  strata_render_style_init (&style);
  style.color_by = self->color_by_machine ? STRATA_RENDER_COLOR_BY_MACHINE : STRATA_RENDER_COLOR_BY_STATE;
  style.highlight_alpha = self->highlight_alpha;
  options.t0 = strata_viewport_get_start (self->viewport);
  options.t1 = strata_viewport_get_end (self->viewport);
  options.width = width > 0 ? width : (guint) MAX (gtk_widget_get_width (GTK_WIDGET (view)), 640);
  options.style = &style;
  options.highlight = self->highlight;
  options.title = title;
  if (!strata_render_format_from_path (path, &options.format))
    options.format = STRATA_RENDER_FORMAT_PNG;
  return strata_render_export_to_file (strata_timeline_view_get_rows (view), &options, path, error);
}

static void
export_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    gpointer         user_data)
{
  StrataWindow *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (!strata_window_export (self, path, 0, &error))
        {
          g_ptr_array_add (self->problems, g_strdup (error->message));
          show_problems (self);
        }
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  StrataWindow *self = STRATA_WINDOW (widget);
  GtkFileChooserNative *chooser;
  const char *kinds[][2] = { { N_("PNG image"), "*.png" }, { N_("SVG drawing"), "*.svg" }, { N_("PDF document"), "*.pdf" } };

  chooser = gtk_file_chooser_native_new (_("Export View"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Export"), _("_Cancel"));
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

      gtk_file_filter_set_name (filter, _(kinds[i][0]));
      gtk_file_filter_add_pattern (filter, kinds[i][1]);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
    }
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "strata-view.png");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* "12.5 ms" from the start, or an absolute time in ns */
static gboolean
parse_time (StrataWindow *self,
            const char   *text,
            gint64       *t)
{
  static const struct { const char *unit; double ns; } units[] = {
    /* Not translated: the units as typed, the same in every language */
    { "ns", 1 }, { "us", 1e3 }, { "µs", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
  };
  char *end = NULL;
  double value;

  while (g_ascii_isspace (*text))
    text++;
  value = g_ascii_strtod (text, &end);
  if (end == text)
    return FALSE;
  while (g_ascii_isspace (*end))
    end++;
  if (*end == '\0')
    {
      /* A bare number: absolute ns if it is one, else seconds from the start */
      *t = value > 1e15 ? (gint64) value : strata_viewport_get_bounds_start (self->viewport) + (gint64) (value * 1e9);
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (g_str_equal (end, units[i].unit))
      {
        *t = strata_viewport_get_bounds_start (self->viewport) + (gint64) llround (value * units[i].ns);
        return TRUE;
      }
  return FALSE;
}

static void
go_to_activate_cb (GtkEntry     *entry,
                   StrataWindow *self)
{
  gint64 t;

  if (parse_time (self, gtk_editable_get_text (GTK_EDITABLE (entry)), &t))
    {
      strata_viewport_go_to (self->viewport, t);
      gtk_popover_popdown (GTK_POPOVER (gtk_widget_get_ancestor (GTK_WIDGET (entry), GTK_TYPE_POPOVER)));
    }
  else
    gtk_widget_error_bell (GTK_WIDGET (entry));
}

static void
go_to_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  StrataWindow *self = STRATA_WINDOW (widget);
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Time from the start (12.5 ms) or absolute (ns)"));
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), 36);
  g_signal_connect (entry, "activate", G_CALLBACK (go_to_activate_cb), self);
  gtk_popover_set_child (GTK_POPOVER (popover), entry);
  gtk_widget_set_parent (popover, GTK_WIDGET (current_view (self)));
  g_signal_connect (popover, "closed", G_CALLBACK (gtk_widget_unparent), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
}

static void
search_changed_cb (GtkSearchEntry *entry,
                   StrataWindow   *self)
{
  set_view_rows (self, 2);
}

static GtkWidget *
make_view_page (StrataWindow *self,
                guint         i)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *view = strata_timeline_view_new (self->viewport, self->highlight);

  self->views[i] = STRATA_TIMELINE_VIEW (view);
  g_signal_connect (view, "highlight-requested", G_CALLBACK (highlight_requested_cb), self);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_widget_set_vexpand (scrolled, TRUE);
  if (i == 2)
    {
      self->thread_search = GTK_SEARCH_ENTRY (gtk_search_entry_new ());
      g_object_set (self->thread_search, "placeholder-text", _("Search threads by name or tid"), NULL);
      gtk_widget_set_margin_start (GTK_WIDGET (self->thread_search), 12);
      gtk_widget_set_margin_end (GTK_WIDGET (self->thread_search), 12);
      gtk_widget_set_margin_top (GTK_WIDGET (self->thread_search), 6);
      gtk_widget_set_margin_bottom (GTK_WIDGET (self->thread_search), 6);
      g_signal_connect (self->thread_search, "search-changed", G_CALLBACK (search_changed_cb), self);
      gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->thread_search));
    }
  gtk_box_append (GTK_BOX (box), scrolled);
  return box;
}

static void
history_changed_cb (StrataWindow *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.zoom-back", strata_viewport_can_go_back (self->viewport));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.zoom-forward",
                                 strata_viewport_can_go_forward (self->viewport));
}

static gboolean
drop_cb (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         gpointer       user_data)
{
  StrataWindow *self = user_data;
  GSList *files = g_value_get_boxed (value);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  for (GSList *l = files; l != NULL; l = l->next)
    {
      char *path = g_file_get_path (l->data);

      if (path != NULL)
        g_ptr_array_add (paths, path);
    }
  if (paths->len == 0)
    return FALSE;
  g_ptr_array_add (paths, NULL);
  strata_window_open (self, (const char * const *) paths->pdata, FALSE);
  return TRUE;
}

static void
recent_activated_cb (GtkListBox    *box,
                     GtkListBoxRow *row,
                     gpointer       user_data)
{
  StrataWindow *self = user_data;
  const char * const *roots = g_object_get_data (G_OBJECT (row), "roots");

  if (roots != NULL && roots[0] != NULL)
    {
      g_auto(GStrv) copy = g_strdupv ((char **) roots);

      strata_window_open (self, (const char * const *) copy, FALSE);
    }
}

static void
fill_recent (StrataWindow *self)
{
  StrataApplication *app = STRATA_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  StrataCatalog *catalog = app != NULL ? strata_application_get_catalog (app) : NULL;
  g_autoptr(GPtrArray) recent = NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))) != NULL)
    gtk_list_box_remove (self->recent_list, child);
  if (catalog != NULL)
    recent = strata_catalog_list_recent (catalog, 8, NULL);
  for (guint i = 0; recent != NULL && i < recent->len; i++)
    {
      StrataCatalogAnalysis *entry = g_ptr_array_index (recent, i);
      g_autofree char *where = entry->roots != NULL ? g_strjoinv (", ", entry->roots) : g_strdup ("");
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      GtkWidget *name = gtk_label_new (entry->name);
      GtkWidget *path = gtk_label_new (where);

      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_label_set_xalign (GTK_LABEL (path), 0);
      gtk_label_set_ellipsize (GTK_LABEL (path), PANGO_ELLIPSIZE_MIDDLE);
      gtk_widget_add_css_class (path, "dim-label");
      gtk_widget_add_css_class (box, "problem-row");
      gtk_box_append (GTK_BOX (box), name);
      gtk_box_append (GTK_BOX (box), path);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      g_object_set_data_full (G_OBJECT (row), "roots", g_strdupv (entry->roots), (GDestroyNotify) g_strfreev);
      gtk_list_box_append (self->recent_list, row);
    }
  gtk_widget_set_visible (self->recent_title, recent != NULL && recent->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->recent_list), recent != NULL && recent->len > 0);
}

/* ---------------------------------------------------------------------- */

enum {
  PROP_0,
  PROP_COLOR_BY_MACHINE,
  PROP_HIGHLIGHT_ALPHA,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
strata_window_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  StrataWindow *self = STRATA_WINDOW (object);

  switch (prop_id)
    {
    case PROP_COLOR_BY_MACHINE:
      g_value_set_boolean (value, self->color_by_machine);
      break;
    case PROP_HIGHLIGHT_ALPHA:
      g_value_set_double (value, self->highlight_alpha);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
strata_window_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  StrataWindow *self = STRATA_WINDOW (object);

  switch (prop_id)
    {
    case PROP_COLOR_BY_MACHINE:
      if (self->color_by_machine != g_value_get_boolean (value))
        {
          self->color_by_machine = g_value_get_boolean (value);
          for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
            strata_timeline_view_set_color_by (self->views[i],
                                               self->color_by_machine ? STRATA_RENDER_COLOR_BY_MACHINE
                                                                      : STRATA_RENDER_COLOR_BY_STATE);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_HIGHLIGHT_ALPHA:
      if (self->highlight_alpha != g_value_get_double (value))
        {
          self->highlight_alpha = g_value_get_double (value);
          for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
            strata_timeline_view_set_highlight_alpha (self->views[i], self->highlight_alpha);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The settings of the application, when it has them: the size of the last
 * window closed, and the preferences, which follow the settings as they
 * change (the menu's Color by Machine writes the setting too). The
 * application is set after construction (it is no construct property). */
static void
application_changed_cb (StrataWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (self->settings != NULL || app == NULL || strata_application_get_settings (STRATA_APPLICATION (app)) == NULL)
    return;
  self->settings = g_object_ref (strata_application_get_settings (STRATA_APPLICATION (app)));
  gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  g_settings_bind (self->settings, "color-by-machine", self, "color-by-machine", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "highlight-alpha", self, "highlight-alpha", G_SETTINGS_BIND_GET);
}

static gboolean
strata_window_close_request (GtkWindow *window)
{
  StrataWindow *self = STRATA_WINDOW (window);

  if (self->settings != NULL)
    {
      int width, height;

      /* The size it had before being maximized, to unmaximize to. Not
       * through g_settings_delay(): the settings are the application's, and
       * would stay in delay-apply mode for every window after this one. */
      gtk_window_get_default_size (window, &width, &height);
      if (width > 0 && height > 0)
        {
          g_settings_set_int (self->settings, "window-width", width);
          g_settings_set_int (self->settings, "window-height", height);
        }
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }
  return GTK_WINDOW_CLASS (strata_window_parent_class)->close_request (window);
}

static void
strata_window_realize (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (strata_window_parent_class)->realize (widget);
  fill_recent (STRATA_WINDOW (widget));
}

static void
strata_window_dispose (GObject *object)
{
  StrataWindow *self = STRATA_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->live_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), STRATA_TYPE_WINDOW);
  G_OBJECT_CLASS (strata_window_parent_class)->dispose (object);
}

static void
strata_window_finalize (GObject *object)
{
  StrataWindow *self = STRATA_WINDOW (object);

  g_clear_object (&self->viewport);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_strfreev (self->paths);
  g_clear_pointer (&self->analysis, strata_analysis_unref);
  g_clear_pointer (&self->live, strata_analysis_unref);
  g_clear_pointer (&self->summary, json_node_unref);
  g_clear_pointer (&self->stats, json_node_unref);
  g_clear_pointer (&self->problems, g_ptr_array_unref);
  g_clear_pointer (&self->highlight, strata_highlight_unref);
  g_clear_pointer (&self->scope, strata_render_scope_unref);
  g_free (self->error);
  g_free (self->progress_message);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (strata_window_parent_class)->finalize (object);
}

static void
strata_window_class_init (StrataWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = strata_window_dispose;
  object_class->finalize = strata_window_finalize;
  object_class->get_property = strata_window_get_property;
  object_class->set_property = strata_window_set_property;
  widget_class->realize = strata_window_realize;
  window_class->close_request = strata_window_close_request;

  properties[PROP_COLOR_BY_MACHINE] =
    g_param_spec_boolean ("color-by-machine", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /* The opacity of the band over what a highlight does not select */
  properties[PROP_HIGHLIGHT_ALPHA] =
    g_param_spec_double ("highlight-alpha", NULL, NULL, 0, 1, 0.7,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/strata/Strata/strata-window.ui");
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, views_stack);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, progress_label);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, rate_label);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, problems_button);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, problems_list);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, recent_list);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, recent_title);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, highlight_revealer);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, highlight_label);
  gtk_widget_class_bind_template_child (widget_class, StrataWindow, highlight_entry);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.open-demo", NULL, open_demo_action);
  gtk_widget_class_install_action (widget_class, "win.reanalyse", NULL, reanalyse_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-back", NULL, zoom_back_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-forward", NULL, zoom_forward_action);
  gtk_widget_class_install_action (widget_class, "win.clear-highlight", NULL, clear_highlight_action);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "win.go-to", NULL, go_to_action);
  gtk_widget_class_install_property_action (widget_class, "win.color-by-machine", "color-by-machine");

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK, "win.zoom-back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_ALT_MASK, "win.zoom-forward", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.reanalyse", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "win.export", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_g, GDK_CONTROL_MASK, "win.go-to", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_h, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.clear-highlight", NULL);
}

static void
strata_window_init (StrataWindow *self)
{
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_mutex_init (&self->lock);
  self->viewport = strata_viewport_new ();
  self->problems = g_ptr_array_new_with_free_func (g_free);
  self->highlight = strata_highlight_new ();
  {
    StrataRenderStyle style;

    strata_render_style_init (&style);
    self->highlight_alpha = style.highlight_alpha;
  }
  {
    static const char *names[] = { "fvs", "vcpus", "threads" };

    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      gtk_stack_add_titled (self->views_stack, make_view_page (self, i), names[i], view_title (i));
  }

  g_signal_connect_object (self->viewport, "notify::can-go-back", G_CALLBACK (history_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->viewport, "notify::can-go-forward", G_CALLBACK (history_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect (self, "notify::application", G_CALLBACK (application_changed_cb), NULL);
  g_signal_connect (self->recent_list, "row-activated", G_CALLBACK (recent_activated_cb), self);
  g_signal_connect (self->highlight_entry, "activate", G_CALLBACK (highlight_entry_activate_cb), self);
  history_changed_cb (self);
  set_busy (self, FALSE);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  gtk_stack_set_visible_child_name (self->main_stack, "welcome");
}

StrataWindow *
strata_window_new (GtkApplication *application)
{
  return g_object_new (STRATA_TYPE_WINDOW, "application", application, NULL);
}

gboolean
strata_window_is_busy (StrataWindow *self)
{
  return self->busy;
}

StrataViewport *
strata_window_get_viewport (StrataWindow *self)
{
  return self->viewport;
}

StrataAnalysis *
strata_window_get_analysis (StrataWindow *self)
{
  return self->analysis;
}

const char *
strata_window_get_error (StrataWindow *self)
{
  return self->error;
}

GPtrArray *
strata_window_get_problems (StrataWindow *self)
{
  return self->problems;
}

/**
 * strata_window_save_png:
 * @widget: a realized widget (the window, or one of its views)
 * @path: where to write
 *
 * Renders @widget as it is on screen into a PNG file.
 */
gboolean
strata_widget_save_png (GtkWidget   *widget,
                        const char  *path,
                        GError     **error)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkNative *native = gtk_widget_get_native (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  /* These errors are for $STRATA_SCREENSHOT and the tests: English, as
   * the core's */
  if (native == NULL || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot render %s: not shown", path);   /* Not translated */
      return FALSE;
    }
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot render %s: nothing drawn", path);   /* Not translated */
      return FALSE;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (native), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot write %s", path);   /* Not translated */
      return FALSE;
    }
  return TRUE;
}

/**
 * strata_window_dup_export_title:
 *
 * Returns: (transfer full): the title an exported picture has: the view,
 *   then the paths opened
 */
char *
strata_window_dup_export_title (StrataWindow *self)
{
  StrataTimelineView *view = current_view (self);
  g_autofree char *paths = self->paths != NULL ? g_strjoinv (" ", self->paths) : g_strdup ("");

  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    if (self->views[i] == view)
      return g_strdup_printf ("%s — %s", view_title (i), paths);
  return g_strdup (paths);
}

/**
 * strata_window_show_view:
 * @name: "fvs", "vcpus" or "threads"
 */
void
strata_window_show_view (StrataWindow *self,
                         const char   *name)
{
  gtk_stack_set_visible_child_name (self->views_stack, name);
}

void
strata_window_set_color_by_machine (StrataWindow *self,
                                    gboolean      by_machine)
{
  g_object_set (self, "color-by-machine", by_machine, NULL);
}

StrataHighlight *
strata_window_get_highlight (StrataWindow *self)
{
  return self->highlight;
}

/* After changing the highlight from outside (tests, scripts) */
void
strata_window_update_highlight (StrataWindow *self)
{
  update_highlight_bar (self);
}

/**
 * strata_window_get_view:
 * @name: "fvs", "vcpus" or "threads"
 *
 * Returns: (transfer none): that view's StrataTimelineView
 */
GtkWidget *
strata_window_get_view (StrataWindow *self,
                        const char   *name)
{
  static const char *names[] = { "fvs", "vcpus", "threads" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (name, names[i]) == 0)
      return GTK_WIDGET (self->views[i]);
  return NULL;
}
