/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "strata-analysis.h"
#include "strata-highlight.h"
#include "strata-viewport.h"

G_BEGIN_DECLS

#define STRATA_TYPE_WINDOW (strata_window_get_type ())

G_DECLARE_FINAL_TYPE (StrataWindow, strata_window, STRATA, WINDOW, GtkApplicationWindow)

StrataWindow   *strata_window_new          (GtkApplication     *application);
void            strata_window_open         (StrataWindow       *self,
                                            const char * const *paths,
                                            gboolean            force);
void            strata_window_open_demo    (StrataWindow       *self);
gboolean        strata_window_is_busy      (StrataWindow       *self);
StrataViewport *strata_window_get_viewport (StrataWindow       *self);
StrataAnalysis *strata_window_get_analysis (StrataWindow       *self);
const char     *strata_window_get_error    (StrataWindow       *self);
GPtrArray      *strata_window_get_problems (StrataWindow       *self);
GtkWidget      *strata_window_get_view     (StrataWindow       *self,
                                            const char         *name);

void            strata_window_show_view    (StrataWindow       *self,
                                            const char         *name);
void            strata_window_set_color_by_machine (StrataWindow *self,
                                            gboolean            by_machine);
StrataHighlight *strata_window_get_highlight (StrataWindow     *self);
void            strata_window_update_highlight (StrataWindow     *self);
char           *strata_window_dup_export_title (StrataWindow     *self);
gboolean        strata_window_export       (StrataWindow       *self,
                                            const char         *path,
                                            guint               width,
                                            GError            **error);
gboolean        strata_widget_save_png     (GtkWidget          *widget,
                                            const char         *path,
                                            GError            **error);

G_END_DECLS
