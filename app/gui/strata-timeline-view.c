/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-timeline-view"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "strata-render-format.h"
#include "strata-timeline-view.h"

/*
 * One view (physical CPUs, vCPUs or threads): the row labels as a tree on
 * the left, the time ruler on top, the rows' states on the right; all of
 * it painted by core/render's painter, from one 2D query per frame at one
 * bin per pixel. The painted part is cached as a render node; the cursor,
 * the selection and the hover line are drawn over it each frame.
 *
 * It scrolls vertically (GtkScrollable: put it in a GtkScrolledWindow);
 * time belongs to the shared StrataViewport: Ctrl+wheel and W/S zoom,
 * Shift+wheel, A/D and dragging the ruler (or the middle button) pan,
 * dragging in the rows selects a range, a click puts the cursor, a click
 * on a label folds or unfolds it, a double click highlights what runs
 * there (Ctrl adds to the highlight).
 */

#define ZOOM_STEP 1.5

struct _StrataTimelineView
{
  GtkWidget            parent_instance;

  StrataViewport      *viewport;       /* Owned ref */
  StrataHighlight     *highlight;      /* Owned ref */
  StrataRenderRows    *rows;
  StrataTimeGraph     *model;
  StrataRenderPainter *painter;
  StrataRenderColorBy  color_by;
  double               highlight_alpha;
  gboolean             dark;
  GHashTable          *folded;         /* row index set */
  GArray              *visible;        /* guint row indexes */

  GtkAdjustment       *hadjustment;
  GtkAdjustment       *vadjustment;
  guint                hscroll_policy : 1;
  guint                vscroll_policy : 1;

  StrataRenderLayout   layout;
  double               legend_height;   /* at the bottom, not scrolled */
  GskRenderNode       *cache;
  gint64               cache_start;
  gint64               cache_end;
  int                  cache_width;
  int                  cache_height;
  double               cache_scroll;

  double               hover_x;        /* widget x, < 0: none */
  gboolean             selecting;
  gint64               select_from;
  gboolean             panning;
  gint64               pan_start;
  gint64               pan_end;
};

enum {
  PROP_0,
  PROP_HADJUSTMENT,
  PROP_VADJUSTMENT,
  PROP_HSCROLL_POLICY,
  PROP_VSCROLL_POLICY,
  N_PROPS
};

enum {
  HIGHLIGHT_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE_WITH_CODE (StrataTimelineView, strata_timeline_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE, NULL))

static void
drop_cache (StrataTimelineView *self)
{
  g_clear_pointer (&self->cache, gsk_render_node_unref);
}

static void
make_painter (StrataTimelineView *self)
{
  StrataRenderStyle style;

  strata_render_style_init (&style);
  style.dark = self->dark;
  style.color_by = self->color_by;
  style.highlight_alpha = self->highlight_alpha;
  style.legend = FALSE;
  g_clear_pointer (&self->painter, strata_render_painter_unref);
  self->painter = strata_render_painter_new (&style);
  drop_cache (self);
}

/* The dark palette when the theme is dark: its text is light */
static void
update_dark (StrataTimelineView *self)
{
  GdkRGBA fg;
  gboolean dark;

  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &fg);
  dark = 0.299 * fg.red + 0.587 * fg.green + 0.114 * fg.blue > 0.5;
  if (dark != self->dark || self->painter == NULL)
    {
      self->dark = dark;
      make_painter (self);
    }
}

/* ---------------------------------------------------------------------- */
/* Rows and folding                                                       */
/* ---------------------------------------------------------------------- */

static void
update_visible (StrataTimelineView *self)
{
  guint n = self->rows != NULL ? strata_render_rows_get_n_rows (self->rows) : 0;

  g_array_set_size (self->visible, 0);
  for (guint i = 0; i < n; i++)
    {
      const StrataRenderRow *row = strata_render_rows_get_row (self->rows, i);
      gboolean hidden = FALSE;

      for (int p = row->parent; p >= 0 && !hidden; p = strata_render_rows_get_row (self->rows, (guint) p)->parent)
        hidden = g_hash_table_contains (self->folded, GINT_TO_POINTER (p));
      if (!hidden)
        g_array_append_val (self->visible, i);
    }
  if (self->model != NULL)
    strata_time_graph_set_visible_rows (self->model, (const guint *) (gpointer) self->visible->data,
                                        self->visible->len);
  drop_cache (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

static double
row_height (StrataTimelineView *self)
{
  return self->layout.row_height > 0 ? self->layout.row_height : 22;
}

static double
ruler_height (StrataTimelineView *self)
{
  return self->layout.ruler_height > 0 ? self->layout.ruler_height : 28;
}

static double
content_height (StrataTimelineView *self)
{
  return ruler_height (self) + self->visible->len * row_height (self) + self->legend_height;
}

static void
update_adjustment (StrataTimelineView *self)
{
  double height = gtk_widget_get_height (GTK_WIDGET (self));
  double upper = content_height (self);

  if (self->vadjustment == NULL)
    return;
  gtk_adjustment_configure (self->vadjustment,
                            CLAMP (gtk_adjustment_get_value (self->vadjustment), 0, MAX (upper - height, 0)),
                            0, MAX (upper, height), row_height (self), height * 0.9, height);
}

/* Where rows may be drawn: below the ruler, above the legend */
static double
rows_bottom (StrataTimelineView *self)
{
  return gtk_widget_get_height (GTK_WIDGET (self)) - self->legend_height;
}

/* The row under widget y (a model position), or -1 */
static int
position_at (StrataTimelineView *self,
             double              y)
{
  double scroll = self->vadjustment != NULL ? gtk_adjustment_get_value (self->vadjustment) : 0;
  double ry = y - ruler_height (self) + scroll;
  int position;

  if (y < ruler_height (self) || ry < 0 || y >= rows_bottom (self))
    return -1;
  position = (int) (ry / row_height (self));
  return position < (int) self->visible->len ? position : -1;
}

/* ---------------------------------------------------------------------- */
/* Drawing                                                                */
/* ---------------------------------------------------------------------- */

static void
update_layout (StrataTimelineView *self,
               int                 width)
{
  if (self->model == NULL || width <= 0)
    return;
  strata_render_painter_compute_layout (self->painter, self->model, self->highlight, width, NULL, &self->layout);
  self->legend_height = ceil (strata_render_painter_measure_legend (self->painter, self->model, self->highlight,
                                                                    width - 16)) + 8;
}


static GskRenderNode *
paint_static (StrataTimelineView *self,
              int                 width,
              int                 height,
              double              scroll)
{
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GError) error = NULL;
  cairo_t *cr;
  double rh = row_height (self);
  double top = ruler_height (self);
  guint first = (guint) (scroll / rh);
  guint n = (guint) ceil ((height - self->legend_height - top) / rh) + 1;
  double offset = scroll - first * rh;

  if (!strata_time_graph_update (self->model, strata_viewport_get_start (self->viewport),
                                 strata_viewport_get_end (self->viewport), self->layout.plot_width, &error))
    g_debug ("Cannot update the view: %s", error->message);

  n = MIN (n, self->visible->len > first ? self->visible->len - first : 0);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  /* Rows, then labels, clipped below the ruler and above the legend */
  cairo_save (cr);
  cairo_rectangle (cr, 0, top, width, height - self->legend_height - top);
  cairo_clip (cr);
  cairo_save (cr);
  cairo_translate (cr, self->layout.plot_x, top - offset);
  strata_render_painter_paint_rows (self->painter, cr, self->model, first, n);
  strata_render_painter_paint_highlight (self->painter, cr, self->model, self->highlight, first, n);
  cairo_restore (cr);
  cairo_save (cr);
  cairo_rectangle (cr, 0, top, self->layout.plot_x, height - top);
  cairo_clip (cr);
  cairo_translate (cr, 0, top - offset);
  strata_render_painter_paint_labels (self->painter, cr, self->model, self->highlight, self->layout.label_width,
                                      first, n);
  cairo_restore (cr);
  cairo_restore (cr);

  /* The ruler stays on top, the legend at the bottom */
  cairo_save (cr);
  cairo_translate (cr, self->layout.plot_x, 0);
  strata_render_painter_paint_ruler (self->painter, cr, self->model, top);
  cairo_restore (cr);
  cairo_save (cr);
  cairo_translate (cr, 8, height - self->legend_height + 4);
  strata_render_painter_paint_legend (self->painter, cr, self->model, self->highlight, width - 16);
  cairo_restore (cr);
  cairo_destroy (cr);

  return gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
}

static double
time_to_x (StrataTimelineView *self,
           gint64              t)
{
  return self->layout.plot_x + strata_viewport_time_to_x (self->viewport, t, self->layout.plot_width);
}

static gint64
x_to_time (StrataTimelineView *self,
           double              x)
{
  return strata_viewport_x_to_time (self->viewport, x - self->layout.plot_x, self->layout.plot_width);
}

static void
strata_timeline_view_snapshot (GtkWidget   *widget,
                               GtkSnapshot *snapshot)
{
  StrataTimelineView *self = STRATA_TIMELINE_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  double scroll = self->vadjustment != NULL ? gtk_adjustment_get_value (self->vadjustment) : 0;
  double top = ruler_height (self);
  gint64 sel_start, sel_end, cursor;
  GdkRGBA accent = { 0.21, 0.52, 0.89, 1 };

  if (self->model == NULL || width <= 0 || height <= 0)
    return;
  update_dark (self);
  update_layout (self, width);

  if (self->cache == NULL || self->cache_width != width || self->cache_height != height
      || self->cache_scroll != scroll || self->cache_start != strata_viewport_get_start (self->viewport)
      || self->cache_end != strata_viewport_get_end (self->viewport))
    {
      drop_cache (self);
      self->cache = paint_static (self, width, height, scroll);
      self->cache_width = width;
      self->cache_height = height;
      self->cache_scroll = scroll;
      self->cache_start = strata_viewport_get_start (self->viewport);
      self->cache_end = strata_viewport_get_end (self->viewport);
    }
  if (self->cache != NULL)
    gtk_snapshot_append_node (snapshot, self->cache);

  /* Overlays: the selection, the cursor, the pointer's time */
  if (strata_viewport_get_selection (self->viewport, &sel_start, &sel_end))
    {
      double x0 = MAX (time_to_x (self, sel_start), self->layout.plot_x);
      double x1 = MIN (time_to_x (self, sel_end), width);
      GdkRGBA band = accent;

      band.alpha = 0.18;
      if (x1 > x0)
        {
          g_autofree char *duration = strata_render_format_duration (sel_end - sel_start);
          PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), duration);
          int text_width, text_height;
          GdkRGBA label_bg = accent;
          GdkRGBA white = { 1, 1, 1, 1 };

          gtk_snapshot_append_color (snapshot, &band,
                                     &GRAPHENE_RECT_INIT (x0, top, MAX (x1 - x0, 1), height - self->legend_height - top));
          /* The selection's duration, on the ruler above it */
          pango_layout_get_pixel_size (layout, &text_width, &text_height);
          label_bg.alpha = 0.9;
          {
            double lx = CLAMP ((x0 + x1 - text_width) / 2 - 4, self->layout.plot_x, MAX (width - text_width - 8, 0));
            double ly = MAX (top - text_height - 4, 0);

            gtk_snapshot_append_color (snapshot, &label_bg, &GRAPHENE_RECT_INIT (lx, ly, text_width + 8, text_height + 2));
            gtk_snapshot_save (snapshot);
            gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (lx + 4, ly + 1));
            gtk_snapshot_append_layout (snapshot, layout, &white);
            gtk_snapshot_restore (snapshot);
          }
          g_object_unref (layout);
        }
    }
  if (strata_viewport_get_cursor (self->viewport, &cursor))
    {
      double x = time_to_x (self, cursor);

      if (x >= self->layout.plot_x && x <= width)
        gtk_snapshot_append_color (snapshot, &accent,
                                   &GRAPHENE_RECT_INIT (floor (x), 0, 1, height - self->legend_height));
    }
  if (self->hover_x >= self->layout.plot_x)
    {
      GdkRGBA line = { 0.5, 0.5, 0.5, 0.6 };

      gtk_snapshot_append_color (snapshot, &line,
                                 &GRAPHENE_RECT_INIT (floor (self->hover_x), top, 1, height - self->legend_height - top));
    }
}

static void
strata_timeline_view_measure (GtkWidget      *widget,
                              GtkOrientation  orientation,
                              int             for_size,
                              int            *minimum,
                              int            *natural,
                              int            *minimum_baseline,
                              int            *natural_baseline)
{
  StrataTimelineView *self = STRATA_TIMELINE_VIEW (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 400;
      *natural = 1000;
    }
  else
    {
      *minimum = (int) ruler_height (self) + 2 * (int) row_height (self);
      *natural = MAX (*minimum, (int) content_height (self));
    }
}

static void
strata_timeline_view_size_allocate (GtkWidget *widget,
                                    int        width,
                                    int        height,
                                    int        baseline)
{
  StrataTimelineView *self = STRATA_TIMELINE_VIEW (widget);

  update_layout (self, width);
  update_adjustment (self);
  drop_cache (self);
}

/* ---------------------------------------------------------------------- */
/* Input                                                                  */
/* ---------------------------------------------------------------------- */

static gboolean
scroll_cb (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           StrataTimelineView       *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  gint64 center;

  if (state & GDK_CONTROL_MASK)
    {
      center = self->hover_x >= self->layout.plot_x
               ? x_to_time (self, self->hover_x)
               : (strata_viewport_get_start (self->viewport) + strata_viewport_get_end (self->viewport)) / 2;
      strata_viewport_zoom (self->viewport, dy < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, center);
      return TRUE;
    }
  if ((state & GDK_SHIFT_MASK) || dx != 0)
    {
      strata_viewport_pan_fraction (self->viewport, 0.1 * (dx != 0 ? dx : dy));
      return TRUE;
    }
  if (self->vadjustment != NULL)
    {
      gtk_adjustment_set_value (self->vadjustment,
                                gtk_adjustment_get_value (self->vadjustment) + dy * 3 * row_height (self));
      return TRUE;
    }
  return FALSE;
}

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           StrataTimelineView       *self)
{
  self->hover_x = x;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *controller,
          StrataTimelineView       *self)
{
  self->hover_x = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
drag_begin_cb (GtkGestureDrag     *gesture,
               double              x,
               double              y,
               StrataTimelineView *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (x < self->layout.plot_x)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  if (button == GDK_BUTTON_MIDDLE || y < ruler_height (self))
    {
      self->panning = TRUE;
      self->pan_start = strata_viewport_get_start (self->viewport);
      self->pan_end = strata_viewport_get_end (self->viewport);
    }
  else
    {
      self->selecting = TRUE;
      self->select_from = x_to_time (self, x);
    }
}

static void
drag_update_cb (GtkGestureDrag     *gesture,
                double              dx,
                double              dy,
                StrataTimelineView *self)
{
  double x0, y0;

  gtk_gesture_drag_get_start_point (gesture, &x0, &y0);
  if (self->panning && self->layout.plot_width > 0)
    {
      gint64 shift = (gint64) llround (-dx / self->layout.plot_width * (double) (self->pan_end - self->pan_start));

      strata_viewport_set_range (self->viewport, self->pan_start + shift, self->pan_end + shift, FALSE);
    }
  else if (self->selecting && fabs (dx) >= 3)
    strata_viewport_set_selection (self->viewport, self->select_from, x_to_time (self, x0 + dx));
}

static void
drag_end_cb (GtkGestureDrag     *gesture,
             double              dx,
             double              dy,
             StrataTimelineView *self)
{
  double x0, y0;

  gtk_gesture_drag_get_start_point (gesture, &x0, &y0);
  if (self->selecting && fabs (dx) < 3 && x0 >= self->layout.plot_x)
    {
      /* A click: the cursor there, no selection */
      strata_viewport_clear_selection (self->viewport);
      strata_viewport_set_cursor (self->viewport, x_to_time (self, x0));
    }
  self->selecting = FALSE;
  self->panning = FALSE;
}

static void
pressed_cb (GtkGestureClick    *gesture,
            int                 n_press,
            double              x,
            double              y,
            StrataTimelineView *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  int position = position_at (self, y);

  if (position < 0)
    return;
  if (x < self->layout.plot_x)
    {
      guint index = strata_time_graph_get_row_index (self->model, (guint) position);
      const StrataRenderRow *row = strata_render_rows_get_row (self->rows, index);

      /* A label: fold or unfold it; with Ctrl, highlight what it is */
      if (state & GDK_CONTROL_MASK)
        g_signal_emit (self, signals[HIGHLIGHT_REQUESTED], 0, (guint) position, -1.0, TRUE);
      else if (row->has_children)
        {
          if (!g_hash_table_remove (self->folded, GUINT_TO_POINTER (index)))
            g_hash_table_add (self->folded, GUINT_TO_POINTER (index));
          update_visible (self);
        }
      return;
    }
  if (n_press == 2)
    g_signal_emit (self, signals[HIGHLIGHT_REQUESTED], 0, (guint) position, x - self->layout.plot_x,
                   (state & GDK_CONTROL_MASK) != 0);
}

static gboolean
query_tooltip_cb (GtkWidget          *widget,
                  int                 x,
                  int                 y,
                  gboolean            keyboard,
                  GtkTooltip         *tooltip,
                  StrataTimelineView *self)
{
  int position = position_at (self, y);
  g_autofree char *text = NULL;

  if (position < 0 || x < self->layout.plot_x)
    return FALSE;
  text = strata_timeline_view_dup_tooltip (self, (guint) position, x - self->layout.plot_x);
  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
zoom_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  StrataTimelineView *self = STRATA_TIMELINE_VIEW (widget);
  double factor = g_variant_get_double (parameter);
  gint64 center;

  if (!strata_viewport_get_cursor (self->viewport, &center)
      || center < strata_viewport_get_start (self->viewport) || center > strata_viewport_get_end (self->viewport))
    center = (strata_viewport_get_start (self->viewport) + strata_viewport_get_end (self->viewport)) / 2;
  strata_viewport_zoom (self->viewport, factor, center);
}

static void
pan_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  strata_viewport_pan_fraction (STRATA_TIMELINE_VIEW (widget)->viewport, g_variant_get_double (parameter));
}

static void
zoom_all_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  strata_viewport_zoom_all (STRATA_TIMELINE_VIEW (widget)->viewport);
}

static void
zoom_selection_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  strata_viewport_zoom_to_selection (STRATA_TIMELINE_VIEW (widget)->viewport);
}

/* ---------------------------------------------------------------------- */

static void
viewport_changed_cb (StrataTimelineView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
set_adjustment (StrataTimelineView  *self,
                GtkAdjustment      **slot,
                GtkAdjustment       *adjustment)
{
  if (*slot == adjustment)
    return;
  if (*slot != NULL)
    g_signal_handlers_disconnect_by_func (*slot, gtk_widget_queue_draw, self);
  g_set_object (slot, adjustment);
  if (adjustment != NULL)
    g_signal_connect_swapped (adjustment, "value-changed", G_CALLBACK (gtk_widget_queue_draw), self);
  update_adjustment (self);
}

static void
strata_timeline_view_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  StrataTimelineView *self = STRATA_TIMELINE_VIEW (object);

  switch (prop_id)
    {
    case PROP_HADJUSTMENT:
      g_value_set_object (value, self->hadjustment);
      break;
    case PROP_VADJUSTMENT:
      g_value_set_object (value, self->vadjustment);
      break;
    case PROP_HSCROLL_POLICY:
      g_value_set_enum (value, self->hscroll_policy);
      break;
    case PROP_VSCROLL_POLICY:
      g_value_set_enum (value, self->vscroll_policy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
strata_timeline_view_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  StrataTimelineView *self = STRATA_TIMELINE_VIEW (object);

  switch (prop_id)
    {
    case PROP_HADJUSTMENT:
      set_adjustment (self, &self->hadjustment, g_value_get_object (value));
      break;
    case PROP_VADJUSTMENT:
      set_adjustment (self, &self->vadjustment, g_value_get_object (value));
      break;
    case PROP_HSCROLL_POLICY:
      self->hscroll_policy = g_value_get_enum (value);
      break;
    case PROP_VSCROLL_POLICY:
      self->vscroll_policy = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
strata_timeline_view_dispose (GObject *object)
{
  StrataTimelineView *self = STRATA_TIMELINE_VIEW (object);

  drop_cache (self);
  set_adjustment (self, &self->hadjustment, NULL);
  set_adjustment (self, &self->vadjustment, NULL);
  g_clear_object (&self->viewport);
  g_clear_pointer (&self->highlight, strata_highlight_unref);
  g_clear_pointer (&self->model, strata_time_graph_unref);
  g_clear_pointer (&self->rows, strata_render_rows_unref);
  g_clear_pointer (&self->painter, strata_render_painter_unref);
  G_OBJECT_CLASS (strata_timeline_view_parent_class)->dispose (object);
}

static void
strata_timeline_view_finalize (GObject *object)
{
  StrataTimelineView *self = STRATA_TIMELINE_VIEW (object);

  g_hash_table_unref (self->folded);
  g_array_unref (self->visible);
  G_OBJECT_CLASS (strata_timeline_view_parent_class)->finalize (object);
}

static void
strata_timeline_view_class_init (StrataTimelineViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = strata_timeline_view_dispose;
  object_class->finalize = strata_timeline_view_finalize;
  object_class->get_property = strata_timeline_view_get_property;
  object_class->set_property = strata_timeline_view_set_property;
  widget_class->snapshot = strata_timeline_view_snapshot;
  widget_class->measure = strata_timeline_view_measure;
  widget_class->size_allocate = strata_timeline_view_size_allocate;

  g_object_class_override_property (object_class, PROP_HADJUSTMENT, "hadjustment");
  g_object_class_override_property (object_class, PROP_VADJUSTMENT, "vadjustment");
  g_object_class_override_property (object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
  g_object_class_override_property (object_class, PROP_VSCROLL_POLICY, "vscroll-policy");

  /**
   * StrataTimelineView::highlight-requested:
   * @position: the row
   * @x: the plot x of the state chosen, < 0 for the row itself
   * @add: add to the highlight rather than replace it
   */
  signals[HIGHLIGHT_REQUESTED] = g_signal_new ("highlight-requested", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                                               G_TYPE_UINT, G_TYPE_DOUBLE, G_TYPE_BOOLEAN);

  gtk_widget_class_install_action (widget_class, "view.zoom", "d", zoom_action);
  gtk_widget_class_install_action (widget_class, "view.pan", "d", pan_action);
  gtk_widget_class_install_action (widget_class, "view.zoom-all", NULL, zoom_all_action);
  gtk_widget_class_install_action (widget_class, "view.zoom-selection", NULL, zoom_selection_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, 0, "view.zoom", "d", ZOOM_STEP);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, 0, "view.zoom", "d", 1 / ZOOM_STEP);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "view.zoom", "d", ZOOM_STEP);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "view.zoom", "d",
                                       1 / ZOOM_STEP);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_a, 0, "view.pan", "d", -0.1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, 0, "view.pan", "d", 0.1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "view.pan", "d", -0.1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "view.pan", "d", 0.1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Home, 0, "view.zoom-all", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, 0, "view.zoom-selection", NULL);

  gtk_widget_class_set_css_name (widget_class, "timelineview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
strata_timeline_view_init (StrataTimelineView *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->folded = g_hash_table_new (NULL, NULL);
  self->visible = g_array_new (FALSE, FALSE, sizeof (guint));
  self->hover_x = -1;
  self->color_by = STRATA_RENDER_COLOR_BY_STATE;
  {
    StrataRenderStyle style;

    strata_render_style_init (&style);
    self->highlight_alpha = style.highlight_alpha;
  }
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES
                                                | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (controller, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (controller, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), 0);
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (gesture, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_click_new ();
  g_signal_connect (gesture, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), self);
}

/**
 * strata_timeline_view_new:
 * @viewport: the window's shared time axis
 * @highlight: the window's shared highlight
 */
GtkWidget *
strata_timeline_view_new (StrataViewport  *viewport,
                          StrataHighlight *highlight)
{
  StrataTimelineView *self = g_object_new (STRATA_TYPE_TIMELINE_VIEW, NULL);

  self->viewport = g_object_ref (viewport);
  self->highlight = strata_highlight_ref (highlight);
  g_signal_connect_object (viewport, "range-changed", G_CALLBACK (viewport_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (viewport, "selection-changed", G_CALLBACK (gtk_widget_queue_draw), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (viewport, "cursor-changed", G_CALLBACK (gtk_widget_queue_draw), self,
                           G_CONNECT_SWAPPED);
  make_painter (self);
  return GTK_WIDGET (self);
}

/**
 * strata_timeline_view_set_rows:
 * @rows: (nullable): what to show
 */
void
strata_timeline_view_set_rows (StrataTimelineView *self,
                               StrataRenderRows   *rows)
{
  g_return_if_fail (STRATA_IS_TIMELINE_VIEW (self));

  g_clear_pointer (&self->model, strata_time_graph_unref);
  g_clear_pointer (&self->rows, strata_render_rows_unref);
  g_hash_table_remove_all (self->folded);
  if (rows != NULL)
    {
      self->rows = strata_render_rows_ref (rows);
      self->model = strata_time_graph_new (rows);
    }
  update_visible (self);
}

StrataRenderRows *
strata_timeline_view_get_rows (StrataTimelineView *self)
{
  return self->rows;
}

StrataTimeGraph *
strata_timeline_view_get_model (StrataTimelineView *self)
{
  return self->model;
}

void
strata_timeline_view_set_color_by (StrataTimelineView  *self,
                                   StrataRenderColorBy  color_by)
{
  g_return_if_fail (STRATA_IS_TIMELINE_VIEW (self));
  if (self->color_by == color_by)
    return;
  self->color_by = color_by;
  make_painter (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * strata_timeline_view_set_highlight_alpha:
 * @alpha: the opacity of the band over what a highlight does not select
 */
void
strata_timeline_view_set_highlight_alpha (StrataTimelineView *self,
                                          double              alpha)
{
  g_return_if_fail (STRATA_IS_TIMELINE_VIEW (self));
  if (self->highlight_alpha == alpha)
    return;
  self->highlight_alpha = alpha;
  make_painter (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * strata_timeline_view_refresh:
 *
 * Paints again from the SHT: an analysis in progress wrote more, or the
 * highlight changed.
 */
void
strata_timeline_view_refresh (StrataTimelineView *self)
{
  g_return_if_fail (STRATA_IS_TIMELINE_VIEW (self));
  if (self->model != NULL)
    strata_time_graph_invalidate (self->model);
  drop_cache (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
strata_timeline_view_get_plot_width (StrataTimelineView *self)
{
  return self->layout.plot_width;
}

double
strata_timeline_view_get_plot_x (StrataTimelineView *self)
{
  return self->layout.plot_x;
}

/**
 * strata_timeline_view_dup_tooltip:
 * @position: a row of the model
 * @x: a plot x
 *
 * Returns: (transfer full) (nullable): what the tooltip there says
 */
char *
strata_timeline_view_dup_tooltip (StrataTimelineView *self,
                                  guint               position,
                                  double              x)
{
  StrataTimeGraphItem item;
  char *text;

  if (self->model == NULL || !strata_time_graph_lookup (self->model, position, x, &item, NULL))
    return NULL;
  text = strata_time_graph_item_to_text (&item, strata_time_graph_get_scope (self->model));
  strata_time_graph_item_clear (&item);
  return text;
}

/**
 * strata_timeline_view_row_y:
 * @y: (out): the widget y of the middle of row @position
 *
 * Returns: %FALSE when the row is scrolled out of sight
 */
gboolean
strata_timeline_view_row_y (StrataTimelineView *self,
                            guint               position,
                            double             *y)
{
  double scroll = self->vadjustment != NULL ? gtk_adjustment_get_value (self->vadjustment) : 0;

  *y = ruler_height (self) + (position + 0.5) * row_height (self) - scroll;
  return *y > ruler_height (self) && *y < rows_bottom (self);
}
