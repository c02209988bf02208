/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-preferences"

#include "config.h"

#include <glib/gi18n.h>

#include "strata-preferences-window.h"

/*
 * The preferences: the style (follow the system, light, dark), coloring
 * physical CPUs by machine, and the highlight's opacity. Every control is
 * bound to its GSettings key, and the application and its windows follow
 * the keys, so a change shows at once everywhere. Without the settings
 * schema (an uninstalled run without it compiled) the controls are
 * insensitive: their actions do not exist.
 */

struct _StrataPreferencesWindow
{
  GtkWindow  parent_instance;

  GSettings *settings;   /* Owned, nullable */

  /* Template */
  GtkScale  *alpha_scale;
};

G_DEFINE_FINAL_TYPE (StrataPreferencesWindow, strata_preferences_window, GTK_TYPE_WINDOW)

static void
strata_preferences_window_dispose (GObject *object)
{
  StrataPreferencesWindow *self = STRATA_PREFERENCES_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), STRATA_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (strata_preferences_window_parent_class)->dispose (object);
}

static void
strata_preferences_window_class_init (StrataPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = strata_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/strata/Strata/strata-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, StrataPreferencesWindow, alpha_scale);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
strata_preferences_window_init (StrataPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * strata_preferences_window_new:
 * @parent: (nullable): the window it belongs to
 * @settings: (nullable): Strata's settings
 *
 * Returns: (transfer none): a new preferences window, destroyed when closed
 */
GtkWidget *
strata_preferences_window_new (GtkWindow *parent,
                               GSettings *settings)
{
  StrataPreferencesWindow *self = g_object_new (STRATA_TYPE_PREFERENCES_WINDOW,
                                                "transient-for", parent,
                                                "application", parent != NULL ? gtk_window_get_application (parent) : NULL,
                                                NULL);

  if (settings != NULL)
    {
      g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
      const char *keys[] = { "style-variant", "color-by-machine" };

      self->settings = g_object_ref (settings);
      for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
        {
          g_autoptr(GAction) action = g_settings_create_action (settings, keys[i]);

          g_action_map_add_action (G_ACTION_MAP (group), action);
        }
      gtk_widget_insert_action_group (GTK_WIDGET (self), "settings", G_ACTION_GROUP (group));
      g_settings_bind (settings, "highlight-alpha", gtk_range_get_adjustment (GTK_RANGE (self->alpha_scale)),
                       "value", G_SETTINGS_BIND_DEFAULT);
    }
  else
    gtk_widget_set_sensitive (GTK_WIDGET (self->alpha_scale), FALSE);
  return GTK_WIDGET (self);
}
