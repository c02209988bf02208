/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata"

#include "config.h"

#include <glib/gi18n.h>

#include "strata-application.h"
#include "strata-window.h"

/*
 * The application: one window per experiment, `strata [PATH…]` opens
 * them, `strata --demo` the simulated demo. It owns the catalog that all
 * windows share (recent archives, analyses kept between runs).
 */

struct _StrataApplication
{
  GtkApplication  parent_instance;

  StrataCatalog  *catalog;
  char           *catalog_error;
  gboolean        demo;
};

G_DEFINE_FINAL_TYPE (StrataApplication, strata_application, GTK_TYPE_APPLICATION)

static const GOptionEntry options[] = {
  { "demo", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Open the demo: a simulated host with two VMs, a nested VM and containers"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
  { NULL }
};

StrataApplication *
strata_application_new (void)
{
  return g_object_new (STRATA_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       NULL);
}

StrataCatalog *
strata_application_get_catalog (StrataApplication *self)
{
  return self->catalog;
}

const char *
strata_application_get_catalog_error (StrataApplication *self)
{
  return self->catalog_error;
}

/**
 * strata_application_dup_demo_dir:
 *
 * Returns: (transfer full): where the demo's traces are simulated: the
 *   cache folder's `demo`
 */
char *
strata_application_dup_demo_dir (StrataApplication *self)
{
  g_autofree char *cache = strata_catalog_default_cache_dir ();

  return g_build_filename (cache, "demo", NULL);
}

static int
strata_application_handle_local_options (GApplication *app,
                                         GVariantDict *dict)
{
  StrataApplication *self = STRATA_APPLICATION (app);

  if (g_variant_dict_contains (dict, "version"))
    {
      g_print ("strata %s\n", PACKAGE_VERSION);
      return 0;
    }
  self->demo = g_variant_dict_contains (dict, "demo");
  return -1;
}

/* For the UI tests and screenshots: $STRATA_SCREENSHOT=FILE.png saves the
 * first window once its analysis is shown (or failed), then quits. */
static gboolean
screenshot_cb (gpointer user_data)
{
  StrataWindow *window = user_data;
  const char *path = g_getenv ("STRATA_SCREENSHOT");
  g_autoptr(GError) error = NULL;

  const char *view = g_getenv ("STRATA_SCREENSHOT_VIEW");

  if (strata_window_is_busy (window))
    return G_SOURCE_CONTINUE;
  /* $STRATA_SCREENSHOT_VIEW: that view (fvs, vcpus, threads), drawn first */
  if (view != NULL && g_object_get_data (G_OBJECT (window), "screenshot-view") == NULL)
    {
      strata_window_show_view (window, view);
      g_object_set_data (G_OBJECT (window), "screenshot-view", GINT_TO_POINTER (1));
      return G_SOURCE_CONTINUE;
    }
  if (!strata_widget_save_png (GTK_WIDGET (window), path, &error))
    g_printerr ("%s\n", error->message);
  g_application_quit (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (window))));
  return G_SOURCE_REMOVE;
}

static void
watch_for_screenshot (StrataWindow *window)
{
  if (g_getenv ("STRATA_SCREENSHOT") != NULL)
    g_timeout_add_full (G_PRIORITY_LOW, 1500, screenshot_cb, g_object_ref (window), g_object_unref);
}

static void
strata_application_activate (GApplication *app)
{
  StrataApplication *self = STRATA_APPLICATION (app);
  StrataWindow *window = strata_window_new (GTK_APPLICATION (app));

  gtk_window_present (GTK_WINDOW (window));
  watch_for_screenshot (window);
  if (self->demo)
    {
      self->demo = FALSE;
      strata_window_open_demo (window);
    }
}

static void
strata_application_open (GApplication  *app,
                         GFile        **files,
                         int            n_files,
                         const char    *hint)
{
  StrataWindow *window = strata_window_new (GTK_APPLICATION (app));
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  for (int i = 0; i < n_files; i++)
    {
      char *path = g_file_get_path (files[i]);

      if (path != NULL)
        g_ptr_array_add (paths, path);
    }
  g_ptr_array_add (paths, NULL);
  gtk_window_present (GTK_WINDOW (window));
  watch_for_screenshot (window);
  if (paths->len > 1)
    strata_window_open (window, (const char * const *) paths->pdata, FALSE);
}

static void
new_window_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  gtk_window_present (GTK_WINDOW (strata_window_new (GTK_APPLICATION (user_data))));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  const char *authors[] = { _("The Strata developers"), NULL };

  gtk_show_about_dialog (parent,
                         "program-name", _("Strata"),
                         "logo-icon-name", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Explains latency on virtualized machines from LTTng traces of the "
                                       "host, its VMs and containers"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         NULL);
}

static void
strata_application_startup (GApplication *app)
{
  StrataApplication *self = STRATA_APPLICATION (app);
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();
  g_autoptr(GError) error = NULL;
  static const GActionEntry actions[] = {
    { "new-window", new_window_action, NULL, NULL, NULL },
    { "quit", quit_action, NULL, NULL, NULL },
    { "about", about_action, NULL, NULL, NULL },
  };
  static const char * const quit_accels[] = { "<Control>q", NULL };
  static const char * const new_window_accels[] = { "<Control>n", NULL };
  static const char * const close_accels[] = { "<Control>w", NULL };

  G_APPLICATION_CLASS (strata_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), actions, G_N_ELEMENTS (actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.new-window", new_window_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);

  gtk_css_provider_load_from_resource (css, "/org/strata/Strata/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  /* Without a catalog, windows open but say why they cannot analyse */
  self->catalog = strata_catalog_open (NULL, NULL, &error);
  if (self->catalog == NULL)
    self->catalog_error = g_strdup (error->message);
  else if (strata_catalog_get_warning (self->catalog) != NULL)
    g_warning ("%s", strata_catalog_get_warning (self->catalog));
}

static void
strata_application_finalize (GObject *object)
{
  StrataApplication *self = STRATA_APPLICATION (object);

  g_clear_object (&self->catalog);
  g_free (self->catalog_error);
  G_OBJECT_CLASS (strata_application_parent_class)->finalize (object);
}

static void
strata_application_class_init (StrataApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = strata_application_finalize;
  app_class->startup = strata_application_startup;
  app_class->activate = strata_application_activate;
  app_class->open = strata_application_open;
  app_class->handle_local_options = strata_application_handle_local_options;
}

static void
strata_application_init (StrataApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[PATH…]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Opens LTTng trace archives of a host, its virtual machines "
                                              "and containers, and shows who really had each CPU."));
}
