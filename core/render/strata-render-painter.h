/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <cairo.h>

#include "strata-time-graph.h"

G_BEGIN_DECLS

/**
 * StrataRenderColorBy:
 * @STRATA_RENDER_COLOR_BY_STATE: physical CPU rows colored by status
 * @STRATA_RENDER_COLOR_BY_MACHINE: physical CPU rows colored by whose code
 *   runs (a stable color per machine; kernel states darker, the
 *   hypervisor's work lighter; idle and unknown by status)
 */
typedef enum
{
  STRATA_RENDER_COLOR_BY_STATE,
  STRATA_RENDER_COLOR_BY_MACHINE,
} StrataRenderColorBy;

/**
 * StrataRenderStyle:
 * @dark: the dark palette
 * @color_by: how physical CPU rows are colored
 * @highlight_alpha: opacity of the band over what a highlight does not
 *   select (0.7)
 * @row_height: in pixels (18)
 * @font: a Pango font description ("Sans 9")
 * @legend: draw the legend below the rows
 *
 * Initialise it with strata_render_style_init().
 */
typedef struct
{
  gboolean             dark;
  StrataRenderColorBy  color_by;
  double               highlight_alpha;
  double               row_height;
  const char          *font;
  gboolean             legend;
} StrataRenderStyle;

/**
 * StrataRenderLayout:
 * @width: the whole picture
 * @height: the whole picture
 * @label_width: the label column, on the left
 * @plot_x: left of the time axis
 * @plot_width: pixels of the time axis: the model's width
 * @title_height: 0 without a title
 * @ruler_y: top of the time ruler
 * @ruler_height: its height
 * @rows_y: top of the first row
 * @row_height: the height of a row
 * @n_rows: the rows shown
 * @legend_y: top of the legend
 * @legend_height: 0 without one
 *
 * Where strata_render_painter_paint() puts things, from
 * strata_render_painter_compute_layout().
 */
typedef struct
{
  double width;
  double height;
  double label_width;
  double plot_x;
  guint  plot_width;
  double title_height;
  double ruler_y;
  double ruler_height;
  double rows_y;
  double row_height;
  guint  n_rows;
  double legend_y;
  double legend_height;
} StrataRenderLayout;

typedef struct _StrataRenderPainter StrataRenderPainter;

void                 strata_render_style_init          (StrataRenderStyle         *style);
const char          *strata_render_state_name          (StrataRenderRowKind        kind,
                                                        guint8                     state);

StrataRenderPainter *strata_render_painter_new         (const StrataRenderStyle   *style);
StrataRenderPainter *strata_render_painter_ref         (StrataRenderPainter       *self);
void                 strata_render_painter_unref       (StrataRenderPainter       *self);
const StrataRenderStyle *
                     strata_render_painter_get_style   (StrataRenderPainter       *self);
void                 strata_render_painter_get_color   (StrataRenderPainter       *self,
                                                        StrataRenderRowKind        kind,
                                                        guint8                     state,
                                                        int                        machine,
                                                        double                     rgba[4]);
void                 strata_render_painter_compute_layout (StrataRenderPainter    *self,
                                                        StrataTimeGraph           *model,
                                                        StrataHighlight           *highlight,
                                                        double                     width,
                                                        const char                *title,
                                                        StrataRenderLayout        *layout);
void                 strata_render_painter_paint       (StrataRenderPainter       *self,
                                                        cairo_t                   *cr,
                                                        StrataTimeGraph           *model,
                                                        StrataHighlight           *highlight,
                                                        const char                *title,
                                                        const StrataRenderLayout  *layout);
void                 strata_render_painter_paint_rows  (StrataRenderPainter       *self,
                                                        cairo_t                   *cr,
                                                        StrataTimeGraph           *model,
                                                        guint                      first,
                                                        guint                      n);
void                 strata_render_painter_paint_highlight (StrataRenderPainter   *self,
                                                        cairo_t                   *cr,
                                                        StrataTimeGraph           *model,
                                                        StrataHighlight           *highlight,
                                                        guint                      first,
                                                        guint                      n);
void                 strata_render_painter_paint_labels (StrataRenderPainter      *self,
                                                        cairo_t                   *cr,
                                                        StrataTimeGraph           *model,
                                                        StrataHighlight           *highlight,
                                                        double                     width,
                                                        guint                      first,
                                                        guint                      n);
void                 strata_render_painter_paint_ruler (StrataRenderPainter       *self,
                                                        cairo_t                   *cr,
                                                        StrataTimeGraph           *model,
                                                        double                     height);
double               strata_render_painter_measure_legend (StrataRenderPainter    *self,
                                                        StrataTimeGraph           *model,
                                                        StrataHighlight           *highlight,
                                                        double                     width);
void                 strata_render_painter_paint_legend (StrataRenderPainter      *self,
                                                        cairo_t                   *cr,
                                                        StrataTimeGraph           *model,
                                                        StrataHighlight           *highlight,
                                                        double                     width);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataRenderPainter, strata_render_painter_unref)

G_END_DECLS
