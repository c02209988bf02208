/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "strata-highlight.h"
#include "strata-render-painter.h"
#include "strata-viewport.h"

G_BEGIN_DECLS

#define STRATA_TYPE_TIMELINE_VIEW (strata_timeline_view_get_type ())

G_DECLARE_FINAL_TYPE (StrataTimelineView, strata_timeline_view, STRATA, TIMELINE_VIEW, GtkWidget)

GtkWidget        *strata_timeline_view_new           (StrataViewport      *viewport,
                                                      StrataHighlight     *highlight);
void              strata_timeline_view_set_rows      (StrataTimelineView  *self,
                                                      StrataRenderRows    *rows);
StrataRenderRows *strata_timeline_view_get_rows      (StrataTimelineView  *self);
StrataTimeGraph  *strata_timeline_view_get_model     (StrataTimelineView  *self);
void              strata_timeline_view_set_color_by  (StrataTimelineView  *self,
                                                      StrataRenderColorBy  color_by);
void              strata_timeline_view_set_highlight_alpha (StrataTimelineView *self,
                                                      double               alpha);
void              strata_timeline_view_refresh       (StrataTimelineView  *self);
guint             strata_timeline_view_get_plot_width (StrataTimelineView *self);
char             *strata_timeline_view_dup_tooltip   (StrataTimelineView  *self,
                                                      guint                position,
                                                      double               x);
gboolean          strata_timeline_view_row_y         (StrataTimelineView  *self,
                                                      guint                position,
                                                      double              *y);
double            strata_timeline_view_get_plot_x    (StrataTimelineView  *self);

G_END_DECLS
