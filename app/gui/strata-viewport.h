/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define STRATA_TYPE_VIEWPORT (strata_viewport_get_type ())

G_DECLARE_FINAL_TYPE (StrataViewport, strata_viewport, STRATA, VIEWPORT, GObject)

/* The narrowest range a view zooms to, ns */
#define STRATA_VIEWPORT_MIN_SPAN 100

StrataViewport *strata_viewport_new                (void);
void            strata_viewport_set_bounds         (StrataViewport *self,
                                                    gint64          start,
                                                    gint64          end);
gint64          strata_viewport_get_bounds_start   (StrataViewport *self);
gint64          strata_viewport_get_bounds_end     (StrataViewport *self);
gint64          strata_viewport_get_start          (StrataViewport *self);
gint64          strata_viewport_get_end            (StrataViewport *self);
void            strata_viewport_set_range          (StrataViewport *self,
                                                    gint64          start,
                                                    gint64          end,
                                                    gboolean        remember);
void            strata_viewport_zoom               (StrataViewport *self,
                                                    double          factor,
                                                    gint64          center);
void            strata_viewport_pan                (StrataViewport *self,
                                                    gint64          delta);
void            strata_viewport_pan_fraction       (StrataViewport *self,
                                                    double          fraction);
void            strata_viewport_zoom_all           (StrataViewport *self);
gboolean        strata_viewport_zoom_to_selection  (StrataViewport *self);
void            strata_viewport_go_to              (StrataViewport *self,
                                                    gint64          t);
gboolean        strata_viewport_can_go_back        (StrataViewport *self);
gboolean        strata_viewport_can_go_forward     (StrataViewport *self);
gboolean        strata_viewport_go_back            (StrataViewport *self);
gboolean        strata_viewport_go_forward         (StrataViewport *self);
gboolean        strata_viewport_get_selection      (StrataViewport *self,
                                                    gint64         *start,
                                                    gint64         *end);
void            strata_viewport_set_selection      (StrataViewport *self,
                                                    gint64          start,
                                                    gint64          end);
void            strata_viewport_clear_selection    (StrataViewport *self);
gboolean        strata_viewport_get_cursor         (StrataViewport *self,
                                                    gint64         *t);
void            strata_viewport_set_cursor         (StrataViewport *self,
                                                    gint64          t);
void            strata_viewport_clear_cursor       (StrataViewport *self);
gint64          strata_viewport_x_to_time          (StrataViewport *self,
                                                    double          x,
                                                    double          width);
double          strata_viewport_time_to_x          (StrataViewport *self,
                                                    gint64          t,
                                                    double          width);

G_END_DECLS
