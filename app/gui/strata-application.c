/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata"

#include "config.h"

#include <glib/gi18n.h>

#include "strata-application.h"
#include "strata-preferences-window.h"
#include "strata-window.h"

/*
 * The application: one window per experiment, `strata [PATH…]` opens
 * them, `strata --demo` the simulated demo. It owns the catalog that all
 * windows share (recent archives, analyses kept between runs), and the
 * settings: the style (light or dark) is applied here, the rest by each
 * window.
 */

/* The style-variant key's values */
typedef enum
{
  STYLE_FOLLOW,
  STYLE_LIGHT,
  STYLE_DARK,
} StyleVariant;

/* org.freedesktop.appearance color-scheme: what the system prefers */
typedef enum
{
  COLOR_SCHEME_UNKNOWN = -1,   /* no portal */
  COLOR_SCHEME_DEFAULT = 0,
  COLOR_SCHEME_DARK = 1,
  COLOR_SCHEME_LIGHT = 2,
} ColorScheme;

#define PORTAL_BUS_NAME    "org.freedesktop.portal.Desktop"
#define PORTAL_OBJECT_PATH "/org/freedesktop/portal/desktop"
#define PORTAL_SETTINGS    "org.freedesktop.portal.Settings"

struct _StrataApplication
{
  GtkApplication  parent_instance;

  StrataCatalog  *catalog;
  char           *catalog_error;
  gboolean        demo;

  GSettings      *settings;           /* NULL without the schema */
  ColorScheme     color_scheme;
  gboolean        initial_prefer_dark;
  GDBusConnection *portal_bus;        /* where portal_signal is subscribed */
  guint           portal_signal;
  GCancellable   *cancellable;
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
 * strata_application_get_settings:
 *
 * Returns: (transfer none) (nullable): Strata's settings, %NULL when the
 *   schema is not installed (an uninstalled run without it compiled)
 */
GSettings *
strata_application_get_settings (StrataApplication *self)
{
  g_return_val_if_fail (STRATA_IS_APPLICATION (self), NULL);

  return self->settings;
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
  /* What a bug report needs: the libraries Strata was built with */
  g_autofree char *system = g_strdup_printf (_("Built with GTK %d.%d.%d, GLib %d.%d.%d and libbabeltrace2 %s.\n"
                                               "Running with GTK %u.%u.%u and GLib %u.%u.%u."),
                                             GTK_MAJOR_VERSION, GTK_MINOR_VERSION, GTK_MICRO_VERSION,
                                             GLIB_MAJOR_VERSION, GLIB_MINOR_VERSION, GLIB_MICRO_VERSION,
                                             BABELTRACE2_BUILD_VERSION,
                                             gtk_get_major_version (), gtk_get_minor_version (),
                                             gtk_get_micro_version (), glib_major_version, glib_minor_version,
                                             glib_micro_version);

  gtk_show_about_dialog (parent,
                         "program-name", _("Strata"),
                         "logo-icon-name", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Explains latency on virtualized machines from the LTTng traces of a "
                                       "host, its virtual machines and containers"),
                         "copyright", _("© 2026 The Strata developers"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         /* Translators: your names and addresses, one per line */
                         "translator-credits", _("translator-credits"),
                         "system-information", system,
                         NULL);
}

/* ---------------------------------------------------------------------- */
/* Light or dark                                                          */
/* ---------------------------------------------------------------------- */

/* GTK 4.8 does not follow the system's color scheme by itself (libadwaita
 * does, and Strata does not use it): the settings portal says what the
 * system prefers, and gtk-application-prefer-dark-theme asks the theme for
 * its dark variant. */
static void
apply_style (StrataApplication *self)
{
  GtkSettings *gtk_settings = gtk_settings_get_default ();
  StyleVariant variant = self->settings != NULL ? (StyleVariant) g_settings_get_enum (self->settings, "style-variant")
                                                : STYLE_FOLLOW;
  gboolean dark;

  if (gtk_settings == NULL)
    return;
  switch (variant)
    {
    case STYLE_LIGHT:
      dark = FALSE;
      break;
    case STYLE_DARK:
      dark = TRUE;
      break;
    case STYLE_FOLLOW:
    default:
      /* Without a portal, what GTK's own settings said */
      dark = self->color_scheme == COLOR_SCHEME_UNKNOWN ? self->initial_prefer_dark
                                                        : self->color_scheme == COLOR_SCHEME_DARK;
      break;
    }
  g_object_set (gtk_settings, "gtk-application-prefer-dark-theme", dark, NULL);
}

static void
set_color_scheme (StrataApplication *self,
                  GVariant          *value)
{
  g_autoptr(GVariant) inner = g_variant_ref (value);

  /* Older portals wrap the value in one variant more */
  while (g_variant_is_of_type (inner, G_VARIANT_TYPE_VARIANT))
    {
      GVariant *child = g_variant_get_variant (inner);

      g_variant_unref (inner);
      inner = child;
    }
  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT32))
    return;
  /* A value this version does not know: no preference */
  self->color_scheme = g_variant_get_uint32 (inner) <= COLOR_SCHEME_LIGHT ? (ColorScheme) g_variant_get_uint32 (inner)
                                                                          : COLOR_SCHEME_DEFAULT;
  apply_style (self);
}

static void
portal_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(StrataApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  g_autoptr(GVariant) value = NULL;

  if (reply == NULL)
    {
      /* No portal (no desktop session): GTK's own settings decide */
      g_debug ("Cannot read the system's color scheme: %s", error->message);
      return;
    }
  g_variant_get (reply, "(v)", &value);
  set_color_scheme (self, value);
}

static void
portal_setting_changed_cb (GDBusConnection *connection,
                           const char      *sender_name,
                           const char      *object_path,
                           const char      *interface_name,
                           const char      *signal_name,
                           GVariant        *parameters,
                           gpointer         user_data)
{
  StrataApplication *self = user_data;
  const char *namespace;
  const char *key;
  g_autoptr(GVariant) value = NULL;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ssv)")))
    return;
  g_variant_get (parameters, "(&s&sv)", &namespace, &key, &value);
  if (g_str_equal (namespace, "org.freedesktop.appearance") && g_str_equal (key, "color-scheme"))
    set_color_scheme (self, value);
}

/* Through the application's own bus connection: none (tests, no
 * session bus) means no portal. The portal is not started for Strata:
 * desktops that have one start it with the session. */
static void
watch_color_scheme (StrataApplication *self)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));

  if (bus == NULL)
    return;
  self->portal_bus = g_object_ref (bus);
  self->portal_signal = g_dbus_connection_signal_subscribe (bus, PORTAL_BUS_NAME, PORTAL_SETTINGS, "SettingChanged",
                                                            PORTAL_OBJECT_PATH, "org.freedesktop.appearance",
                                                            G_DBUS_SIGNAL_FLAGS_NONE, portal_setting_changed_cb,
                                                            self, NULL);
  g_dbus_connection_call (bus, PORTAL_BUS_NAME, PORTAL_OBJECT_PATH, PORTAL_SETTINGS, "Read",
                          g_variant_new ("(ss)", "org.freedesktop.appearance", "color-scheme"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable,
                          portal_read_cb, g_object_ref (self));
}

/* At shutdown, or when the application goes without one (tests) */
static void
unwatch_color_scheme (StrataApplication *self)
{
  g_cancellable_cancel (self->cancellable);
  if (self->portal_signal != 0)
    g_dbus_connection_signal_unsubscribe (self->portal_bus, self->portal_signal);
  self->portal_signal = 0;
  g_clear_object (&self->portal_bus);
}

/* ---------------------------------------------------------------------- */

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  StrataApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));

  gtk_window_present (GTK_WINDOW (strata_preferences_window_new (parent, self->settings)));
}

/* Strata's settings, if its schema is installed (or compiled in the build
 * folder and found through $GSETTINGS_SCHEMA_DIR) */
static GSettings *
load_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL)
    {
      g_message ("The settings schema %s is not installed: preferences and window sizes are not kept", APP_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

static void
strata_application_startup (GApplication *app)
{
  StrataApplication *self = STRATA_APPLICATION (app);
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();
  g_autoptr(GError) error = NULL;
  static const GActionEntry actions[] = {
    { "new-window", new_window_action, NULL, NULL, NULL },
    { "preferences", preferences_action, NULL, NULL, NULL },
    { "quit", quit_action, NULL, NULL, NULL },
    { "about", about_action, NULL, NULL, NULL },
  };
  static const char * const quit_accels[] = { "<Control>q", NULL };
  static const char * const new_window_accels[] = { "<Control>n", NULL };
  static const char * const preferences_accels[] = { "<Control>comma", NULL };
  static const char * const close_accels[] = { "<Control>w", NULL };

  G_APPLICATION_CLASS (strata_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), actions, G_N_ELEMENTS (actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.new-window", new_window_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", preferences_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
  gtk_window_set_default_icon_name (APP_ID);

  self->settings = load_settings ();
  g_object_get (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", &self->initial_prefer_dark, NULL);
  if (self->settings != NULL)
    g_signal_connect_object (self->settings, "changed::style-variant", G_CALLBACK (apply_style), self,
                             G_CONNECT_SWAPPED);
  apply_style (self);
  watch_color_scheme (self);

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
strata_application_shutdown (GApplication *app)
{
  unwatch_color_scheme (STRATA_APPLICATION (app));
  G_APPLICATION_CLASS (strata_application_parent_class)->shutdown (app);
}

static void
strata_application_dispose (GObject *object)
{
  unwatch_color_scheme (STRATA_APPLICATION (object));
  G_OBJECT_CLASS (strata_application_parent_class)->dispose (object);
}

static void
strata_application_finalize (GObject *object)
{
  StrataApplication *self = STRATA_APPLICATION (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->catalog);
  g_free (self->catalog_error);
  G_OBJECT_CLASS (strata_application_parent_class)->finalize (object);
}

static void
strata_application_class_init (StrataApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = strata_application_dispose;
  object_class->finalize = strata_application_finalize;
  app_class->startup = strata_application_startup;
  app_class->shutdown = strata_application_shutdown;
  app_class->activate = strata_application_activate;
  app_class->open = strata_application_open;
  app_class->handle_local_options = strata_application_handle_local_options;
}

static void
strata_application_init (StrataApplication *self)
{
  self->color_scheme = COLOR_SCHEME_UNKNOWN;
  self->cancellable = g_cancellable_new ();
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[PATH…]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Opens LTTng trace archives of a host, its virtual machines "
                                              "and containers, and shows who really had each CPU."));
}
