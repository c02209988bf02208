/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define STRATA_TYPE_PREFERENCES_WINDOW (strata_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (StrataPreferencesWindow, strata_preferences_window, STRATA, PREFERENCES_WINDOW, GtkWindow)

GtkWidget *strata_preferences_window_new (GtkWindow *parent,
                                          GSettings *settings);

G_END_DECLS
