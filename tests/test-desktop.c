/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include "strata-application.h"
#include "strata-i18n.h"
#include "strata-preferences-window.h"
#include "strata-test-utils.h"
#include "strata-window.h"

/* The desktop application as a GNOME user meets it, under Xvfb: in French
 * (po/fr.po, built into the build folder and found through
 * $STRATA_LOCALEDIR), with its settings (the schema compiled into the
 * build folder, GSETTINGS_BACKEND=memory), its preferences, its shortcuts
 * window, and a desktop that prefers light or dark (a settings portal of
 * the test's own, on a private session bus). Pictures of the window, the
 * menu, the preferences and the shortcuts are written into the test's
 * folder, or into $STRATA_TEST_SCREENSHOTS when it is set, to look at. */

static char *tmp;
static StrataApplication *app;
static StrataWindow *window;
static GDBusConnection *portal_bus;
static guint32 portal_color_scheme;   /* 0: no preference, 1: dark, 2: light */

static void
wait_ms (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE), g_usleep (2000);
}

static void
save_picture (GtkWidget  *widget,
              const char *name)
{
  const char *dir = g_getenv ("STRATA_TEST_SCREENSHOTS");
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (dir != NULL ? dir : tmp, file, NULL);
  g_autoptr(GError) error = NULL;

  wait_ms (400);
  g_assert_true (strata_widget_save_png (widget, path, &error));
  g_assert_no_error (error);
  g_test_message ("%s", path);
}

/* Every text a widget and its descendants show */
static void
collect_texts (GtkWidget *widget,
               GPtrArray *texts)
{
  if (GTK_IS_LABEL (widget))
    g_ptr_array_add (texts, g_strdup (gtk_label_get_label (GTK_LABEL (widget))));
  else if (GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)) != NULL)
    g_ptr_array_add (texts, g_strdup (gtk_button_get_label (GTK_BUTTON (widget))));
  else if (GTK_IS_SHORTCUTS_GROUP (widget) || GTK_IS_SHORTCUTS_SHORTCUT (widget))
    {
      char *title = NULL;

      g_object_get (widget, "title", &title, NULL);
      g_ptr_array_add (texts, title);
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_texts (child, texts);
}

static gboolean
shows (GtkWidget  *widget,
       const char *text)
{
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);

  collect_texts (widget, texts);
  for (guint i = 0; i < texts->len; i++)
    if (g_strcmp0 (g_ptr_array_index (texts, i), text) == 0)
      return TRUE;
  g_test_message ("“%s” not shown; shown:", text);
  for (guint i = 0; i < texts->len; i++)
    g_test_message ("  “%s”", (const char *) g_ptr_array_index (texts, i));
  return FALSE;
}

/* The header bar has two menu buttons (problems, main menu): the primary one */
static GtkMenuButton *
find_primary_menu_button (GtkWidget *widget)
{
  if (GTK_IS_MENU_BUTTON (widget) && gtk_menu_button_get_primary (GTK_MENU_BUTTON (widget)))
    return GTK_MENU_BUTTON (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkMenuButton *found = find_primary_menu_button (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The labels of a menu model, sections and submenus included */
static void
collect_menu_labels (GMenuModel *model,
                     GPtrArray  *labels)
{
  for (int i = 0; i < g_menu_model_get_n_items (model); i++)
    {
      char *label = NULL;
      GMenuModel *link;

      if (g_menu_model_get_item_attribute (model, i, G_MENU_ATTRIBUTE_LABEL, "s", &label))
        g_ptr_array_add (labels, label);
      if ((link = g_menu_model_get_item_link (model, i, G_MENU_LINK_SECTION)) != NULL
          || (link = g_menu_model_get_item_link (model, i, G_MENU_LINK_SUBMENU)) != NULL)
        {
          collect_menu_labels (link, labels);
          g_object_unref (link);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* The desktop's settings portal                                          */
/* ---------------------------------------------------------------------- */

static const char portal_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.portal.Settings'>"
  "    <method name='Read'>"
  "      <arg type='s' name='namespace' direction='in'/>"
  "      <arg type='s' name='key' direction='in'/>"
  "      <arg type='v' name='value' direction='out'/>"
  "    </method>"
  "    <signal name='SettingChanged'>"
  "      <arg type='s' name='namespace'/>"
  "      <arg type='s' name='key'/>"
  "      <arg type='v' name='value'/>"
  "    </signal>"
  "  </interface>"
  "</node>";

static void
portal_method_cb (GDBusConnection       *connection,
                  const char            *sender,
                  const char            *object_path,
                  const char            *interface_name,
                  const char            *method_name,
                  GVariant              *parameters,
                  GDBusMethodInvocation *invocation,
                  gpointer               user_data)
{
  const char *namespace;
  const char *key;

  g_variant_get (parameters, "(&s&s)", &namespace, &key);
  if (g_str_equal (namespace, "org.freedesktop.appearance") && g_str_equal (key, "color-scheme"))
    /* As the portals before ReadOne() answer: in one variant more */
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(v)", g_variant_new_variant (
                                                            g_variant_new_uint32 (portal_color_scheme))));
  else
    g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.portal.Error.NotFound",
                                                "Requested setting not found");
}

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
start_portal (void)
{
  static const GDBusInterfaceVTable vtable = { portal_method_cb, NULL, NULL, { 0 } };
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (portal_xml, NULL);
  g_autoptr(GError) error = NULL;
  gboolean acquired = FALSE;

  portal_bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (portal_bus, "/org/freedesktop/portal/desktop", info->interfaces[0], &vtable,
                                     NULL, NULL, &error);
  g_assert_no_error (error);
  g_bus_own_name_on_connection (portal_bus, "org.freedesktop.portal.Desktop", G_BUS_NAME_OWNER_FLAGS_NONE,
                                name_acquired_cb, NULL, &acquired, NULL);
  while (!acquired)
    g_main_context_iteration (NULL, TRUE);
}

static void
set_system_color_scheme (guint32 scheme)
{
  g_autoptr(GError) error = NULL;

  portal_color_scheme = scheme;
  g_dbus_connection_emit_signal (portal_bus, NULL, "/org/freedesktop/portal/desktop",
                                 "org.freedesktop.portal.Settings", "SettingChanged",
                                 g_variant_new ("(ssv)", "org.freedesktop.appearance", "color-scheme",
                                                g_variant_new_uint32 (scheme)),
                                 &error);
  g_assert_no_error (error);
}

/* ---------------------------------------------------------------------- */

static void
test_french_window (void)
{
  GtkMenuButton *button = find_primary_menu_button (gtk_window_get_titlebar (GTK_WINDOW (window)));
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  const char *expected[] = {
    "_Nouvelle fenêtre", "_Ouvrir…", "Ouvrir la _démo", "_Analyser à nouveau", "_Exporter la vue…",
    "Aller à un _instant…", "_Couleur par machine", "_Préférences", "_Raccourcis clavier", "À propos de _Strata",
  };
  GtkWidget *popover;

  g_assert_nonnull (button);
  collect_menu_labels (gtk_menu_button_get_menu_model (button), labels);
  g_assert_cmpuint (labels->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (g_ptr_array_index (labels, i), ==, expected[i]);
  g_assert_cmpstr (gtk_widget_get_tooltip_text (GTK_WIDGET (button)), ==, "Menu principal");

  /* The start page, and the view switcher */
  g_assert_true (shows (GTK_WIDGET (window), "Qui avait vraiment le processeur\u202f?"));
  g_assert_true (shows (GTK_WIDGET (window), "_Ouvrir un dossier…"));
  g_assert_true (shows (GTK_WIDGET (window), "Processeurs physiques"));
  g_assert_true (shows (GTK_WIDGET (window), "Processeurs virtuels"));
  save_picture (GTK_WIDGET (window), "window-fr");

  /* The menu as it opens */
  gtk_menu_button_popup (button);
  popover = GTK_WIDGET (gtk_menu_button_get_popover (button));
  g_assert_nonnull (popover);
  wait_ms (300);
  g_assert_true (gtk_widget_get_mapped (popover));
  g_assert_true (shows (popover, "_Nouvelle fenêtre") || shows (popover, "Nouvelle fenêtre"));
  save_picture (popover, "menu-fr");
  gtk_menu_button_popdown (button);
}

static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (w, type) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return GTK_WINDOW (w);
    }
  return NULL;
}

static gboolean
prefers_dark (void)
{
  gboolean dark;

  /* Settings and the portal notify their changes from the main loop */
  wait_ms (150);
  g_object_get (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", &dark, NULL);
  return dark;
}

/* The preferences write the settings, and the windows follow them */
static void
test_preferences (void)
{
  GSettings *settings = strata_application_get_settings (app);
  GtkWindow *prefs;
  gboolean by_machine;
  double alpha;

  g_assert_nonnull (settings);
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  wait_ms (200);
  prefs = find_toplevel (STRATA_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  g_assert_cmpstr (gtk_window_get_title (prefs), ==, "Préférences");
  g_assert_true (shows (GTK_WIDGET (prefs), "Apparence"));
  g_assert_true (shows (GTK_WIDGET (prefs), "_Sombre") || shows (GTK_WIDGET (prefs), "S_ombre"));
  g_assert_true (shows (GTK_WIDGET (prefs), "Couleur par machine"));
  save_picture (GTK_WIDGET (prefs), "preferences-fr");

  /* Style: forced dark, forced light, then the system's (no preference) */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (prefs), "settings.style-variant", "s", "dark"));
  g_assert_cmpstr (g_settings_get_string (settings, "style-variant"), ==, "dark");
  g_assert_true (prefers_dark ());
  save_picture (GTK_WIDGET (prefs), "preferences-fr-dark");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (prefs), "settings.style-variant", "s", "light"));
  g_assert_false (prefers_dark ());
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (prefs), "settings.style-variant", "s", "follow"));
  g_assert_false (prefers_dark ());

  /* Color by machine: the switch's action writes the setting, the window follows */
  g_object_get (window, "color-by-machine", &by_machine, NULL);
  g_assert_false (by_machine);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (prefs), "settings.color-by-machine", NULL));
  g_assert_true (g_settings_get_boolean (settings, "color-by-machine"));
  wait_ms (50);
  g_object_get (window, "color-by-machine", &by_machine, NULL);
  g_assert_true (by_machine);
  /* and the window's menu item writes it back */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.color-by-machine", NULL));
  g_assert_false (g_settings_get_boolean (settings, "color-by-machine"));

  /* Highlight opacity: the setting reaches the window (and its views) */
  g_settings_set_double (settings, "highlight-alpha", 0.4);
  wait_ms (50);
  g_object_get (window, "highlight-alpha", &alpha, NULL);
  g_assert_cmpfloat_with_epsilon (alpha, 0.4, 1e-9);
  g_settings_reset (settings, "highlight-alpha");

  gtk_window_close (prefs);
  wait_ms (100);
}

/* "Follow the system" follows the portal's color scheme as it changes;
 * light and dark override it */
static void
test_system_style (void)
{
  GSettings *settings = strata_application_get_settings (app);

  g_settings_set_string (settings, "style-variant", "follow");
  g_assert_false (prefers_dark ());
  set_system_color_scheme (1);
  g_assert_true (prefers_dark ());
  g_settings_set_string (settings, "style-variant", "light");
  g_assert_false (prefers_dark ());
  g_settings_set_string (settings, "style-variant", "follow");
  g_assert_true (prefers_dark ());
  save_picture (GTK_WIDGET (window), "window-fr-system-dark");
  set_system_color_scheme (2);
  g_assert_false (prefers_dark ());
  set_system_color_scheme (0);
  g_assert_false (prefers_dark ());
}

/* Ctrl+? shows the shortcuts, in French, with the window's real keys */
static void
test_shortcuts (void)
{
  GtkShortcutsWindow *overlay;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  wait_ms (200);
  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  g_assert_nonnull (overlay);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  g_assert_true (shows (GTK_WIDGET (overlay), "Ouvrir des archives de traces"));
  g_assert_true (shows (GTK_WIDGET (overlay), "Zoomer sur la sélection"));
  g_assert_true (shows (GTK_WIDGET (overlay), "Général"));
  save_picture (GTK_WIDGET (overlay), "shortcuts-fr");
  gtk_window_close (GTK_WINDOW (overlay));

  /* The accelerators the application sets are those listed */
  {
    g_auto(GStrv) prefs = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.preferences");
    g_auto(GStrv) help = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "win.show-help-overlay");

    g_assert_cmpstr (prefs[0], ==, "<Control>comma");
    g_assert_cmpstr (help[0], ==, "<Control>question");
  }
}

/* A window closed gives its size to the next one */
static void
test_window_size (void)
{
  GSettings *settings = strata_application_get_settings (app);
  StrataWindow *second = strata_window_new (GTK_APPLICATION (app));
  StrataWindow *third;
  int width, height;

  gtk_window_set_default_size (GTK_WINDOW (second), 1300, 820);
  gtk_window_present (GTK_WINDOW (second));
  wait_ms (200);
  gtk_window_close (GTK_WINDOW (second));
  wait_ms (100);
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 1300);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 820);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
  /* The settings, shared by the windows, still write at once */
  g_settings_set_boolean (settings, "color-by-machine", TRUE);
  g_assert_false (g_settings_get_has_unapplied (settings));
  g_settings_reset (settings, "color-by-machine");

  third = strata_window_new (GTK_APPLICATION (app));
  gtk_window_get_default_size (GTK_WINDOW (third), &width, &height);
  g_assert_cmpint (width, ==, 1300);
  g_assert_cmpint (height, ==, 820);
  gtk_window_destroy (GTK_WINDOW (third));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  GTestDBus *bus;
  int ret;

  tmp = strata_test_make_tmpdir ();
  g_setenv ("STRATA_DATA_DIR", tmp, TRUE);
  g_setenv ("STRATA_CACHE_DIR", tmp, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  /* French, whatever the machine's locale */
  g_setenv ("LANGUAGE", "fr", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);

  /* As main() does; gtk_test_init() would force English */
  g_test_init (&argc, &argv, NULL);
  strata_i18n_init ();
  gtk_disable_setlocale ();
  gtk_init ();

  /* A session bus of the test's own, where the application finds the
   * test's settings portal */
  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);
  start_portal ();

  app = strata_application_new ();
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  window = strata_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (window));
  wait_ms (300);

  g_test_add_func ("/strata/desktop/french-window", test_french_window);
  g_test_add_func ("/strata/desktop/preferences", test_preferences);
  g_test_add_func ("/strata/desktop/system-style", test_system_style);
  g_test_add_func ("/strata/desktop/shortcuts", test_shortcuts);
  g_test_add_func ("/strata/desktop/window-size", test_window_size);
  ret = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&app);
  g_clear_object (&portal_bus);
  /* Not g_test_dbus_down(), nor unref, which waits for the bus connection
   * to go: GTK keeps it to the end of the process */
  g_test_dbus_stop (bus);
  strata_test_rmtree (tmp);
  g_free (tmp);
  return ret;
}
