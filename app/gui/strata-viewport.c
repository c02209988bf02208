/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-viewport"

#include "config.h"

#include <math.h>

#include "strata-viewport.h"

/*
 * What every view of a window shows: the visible time range within the
 * experiment's bounds, the selection, the time cursor, and the history
 * of zooms (back/forward). Views only read it and ask it to change;
 * zooming and panning are its business, so every view moves together.
 * Times are ns of the reference clock. Panning is not remembered in the
 * history (a drag would flood it); zooms, zoom to selection and go-to are.
 */

#define MAX_HISTORY 64

typedef struct
{
  gint64 start;
  gint64 end;
} Range;

struct _StrataViewport
{
  GObject  parent_instance;

  gint64   bounds_start;
  gint64   bounds_end;
  gint64   start;
  gint64   end;

  gboolean has_selection;
  gint64   selection_start;
  gint64   selection_end;
  gboolean has_cursor;
  gint64   cursor;

  GArray  *back;      /* Range */
  GArray  *forward;   /* Range */
};

G_DEFINE_FINAL_TYPE (StrataViewport, strata_viewport, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_START,
  PROP_END,
  PROP_CAN_GO_BACK,
  PROP_CAN_GO_FORWARD,
  PROP_HAS_SELECTION,
  N_PROPS
};

enum {
  RANGE_CHANGED,
  SELECTION_CHANGED,
  CURSOR_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
strata_viewport_finalize (GObject *object)
{
  StrataViewport *self = STRATA_VIEWPORT (object);

  g_array_unref (self->back);
  g_array_unref (self->forward);
  G_OBJECT_CLASS (strata_viewport_parent_class)->finalize (object);
}

static void
strata_viewport_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  StrataViewport *self = STRATA_VIEWPORT (object);

  switch (prop_id)
    {
    case PROP_START:
      g_value_set_int64 (value, self->start);
      break;
    case PROP_END:
      g_value_set_int64 (value, self->end);
      break;
    case PROP_CAN_GO_BACK:
      g_value_set_boolean (value, strata_viewport_can_go_back (self));
      break;
    case PROP_CAN_GO_FORWARD:
      g_value_set_boolean (value, strata_viewport_can_go_forward (self));
      break;
    case PROP_HAS_SELECTION:
      g_value_set_boolean (value, self->has_selection);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
strata_viewport_class_init (StrataViewportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = strata_viewport_finalize;
  object_class->get_property = strata_viewport_get_property;

  properties[PROP_START] =
    g_param_spec_int64 ("start", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_END] =
    g_param_spec_int64 ("end", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CAN_GO_BACK] =
    g_param_spec_boolean ("can-go-back", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CAN_GO_FORWARD] =
    g_param_spec_boolean ("can-go-forward", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_HAS_SELECTION] =
    g_param_spec_boolean ("has-selection", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Coalesced: one emission per change of the range, whatever changed */
  signals[RANGE_CHANGED] = g_signal_new ("range-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                             0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CURSOR_CHANGED] = g_signal_new ("cursor-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
strata_viewport_init (StrataViewport *self)
{
  self->back = g_array_new (FALSE, FALSE, sizeof (Range));
  self->forward = g_array_new (FALSE, FALSE, sizeof (Range));
  self->end = STRATA_VIEWPORT_MIN_SPAN;
  self->bounds_end = STRATA_VIEWPORT_MIN_SPAN;
}

StrataViewport *
strata_viewport_new (void)
{
  return g_object_new (STRATA_TYPE_VIEWPORT, NULL);
}

static void
notify_history (StrataViewport *self,
                gboolean        could_back,
                gboolean        could_forward)
{
  if (could_back != strata_viewport_can_go_back (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_GO_BACK]);
  if (could_forward != strata_viewport_can_go_forward (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_GO_FORWARD]);
}

/* Fits [start, end] in the bounds, keeping its span where it can. */
static void
clamp_range (StrataViewport *self,
             gint64         *start,
             gint64         *end)
{
  gint64 span = MAX (*end - *start, STRATA_VIEWPORT_MIN_SPAN);
  gint64 bounds = self->bounds_end - self->bounds_start;

  if (span >= bounds)
    {
      *start = self->bounds_start;
      *end = self->bounds_end;
      return;
    }
  if (*start < self->bounds_start)
    *start = self->bounds_start;
  if (*start + span > self->bounds_end)
    *start = self->bounds_end - span;
  *end = *start + span;
}

static void
apply_range (StrataViewport *self,
             gint64          start,
             gint64          end,
             gboolean        remember)
{
  gboolean could_back = strata_viewport_can_go_back (self);
  gboolean could_forward = strata_viewport_can_go_forward (self);

  clamp_range (self, &start, &end);
  if (start == self->start && end == self->end)
    return;

  if (remember)
    {
      Range old = { self->start, self->end };

      g_array_append_val (self->back, old);
      if (self->back->len > MAX_HISTORY)
        g_array_remove_index (self->back, 0);
      g_array_set_size (self->forward, 0);
    }

  g_object_freeze_notify (G_OBJECT (self));
  if (start != self->start)
    {
      self->start = start;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_START]);
    }
  if (end != self->end)
    {
      self->end = end;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_END]);
    }
  notify_history (self, could_back, could_forward);
  g_object_thaw_notify (G_OBJECT (self));
  g_signal_emit (self, signals[RANGE_CHANGED], 0);
}

/**
 * strata_viewport_set_bounds:
 *
 * Sets the experiment's range. It grows while an analysis runs: a view
 * that showed everything goes on showing everything.
 */
void
strata_viewport_set_bounds (StrataViewport *self,
                            gint64          start,
                            gint64          end)
{
  gboolean showed_all;

  g_return_if_fail (STRATA_IS_VIEWPORT (self));

  end = MAX (end, start + STRATA_VIEWPORT_MIN_SPAN);
  showed_all = self->start <= self->bounds_start && self->end >= self->bounds_end;
  self->bounds_start = start;
  self->bounds_end = end;
  if (showed_all)
    apply_range (self, start, end, FALSE);
  else
    apply_range (self, self->start, self->end, FALSE);
}

gint64
strata_viewport_get_bounds_start (StrataViewport *self)
{
  return self->bounds_start;
}

gint64
strata_viewport_get_bounds_end (StrataViewport *self)
{
  return self->bounds_end;
}

gint64
strata_viewport_get_start (StrataViewport *self)
{
  return self->start;
}

gint64
strata_viewport_get_end (StrataViewport *self)
{
  return self->end;
}

/**
 * strata_viewport_set_range:
 * @remember: put the current range in the back history
 *
 * Shows [@start, @end], fitted in the bounds (at least
 * %STRATA_VIEWPORT_MIN_SPAN wide).
 */
void
strata_viewport_set_range (StrataViewport *self,
                           gint64          start,
                           gint64          end,
                           gboolean        remember)
{
  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  if (end < start)
    {
      gint64 tmp = start;

      start = end;
      end = tmp;
    }
  apply_range (self, start, end, remember);
}

/**
 * strata_viewport_zoom:
 * @factor: > 1 zooms in, < 1 out
 * @center: the time that stays where it is on screen
 */
void
strata_viewport_zoom (StrataViewport *self,
                      double          factor,
                      gint64          center)
{
  double span, left;
  gint64 start, end;

  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  g_return_if_fail (factor > 0);

  center = CLAMP (center, self->start, self->end);
  span = (double) (self->end - self->start) / factor;
  span = MAX (span, STRATA_VIEWPORT_MIN_SPAN);
  left = (double) (center - self->start) / (double) MAX (self->end - self->start, 1);
  start = center - (gint64) llround (left * span);
  end = start + (gint64) llround (span);
  apply_range (self, start, end, TRUE);
}

void
strata_viewport_pan (StrataViewport *self,
                     gint64          delta)
{
  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  apply_range (self, self->start + delta, self->end + delta, FALSE);
}

/* Pans by a fraction of the visible span (A/D: a tenth) */
void
strata_viewport_pan_fraction (StrataViewport *self,
                              double          fraction)
{
  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  strata_viewport_pan (self, (gint64) llround (fraction * (double) (self->end - self->start)));
}

void
strata_viewport_zoom_all (StrataViewport *self)
{
  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  apply_range (self, self->bounds_start, self->bounds_end, TRUE);
}

gboolean
strata_viewport_zoom_to_selection (StrataViewport *self)
{
  g_return_val_if_fail (STRATA_IS_VIEWPORT (self), FALSE);
  if (!self->has_selection || self->selection_end <= self->selection_start)
    return FALSE;
  apply_range (self, self->selection_start, self->selection_end, TRUE);
  return TRUE;
}

/* Centers @t (keeping the zoom) and puts the cursor there */
void
strata_viewport_go_to (StrataViewport *self,
                       gint64          t)
{
  gint64 span;

  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  t = CLAMP (t, self->bounds_start, self->bounds_end);
  span = self->end - self->start;
  apply_range (self, t - span / 2, t - span / 2 + span, TRUE);
  strata_viewport_set_cursor (self, t);
}

gboolean
strata_viewport_can_go_back (StrataViewport *self)
{
  return self->back->len > 0;
}

gboolean
strata_viewport_can_go_forward (StrataViewport *self)
{
  return self->forward->len > 0;
}

static gboolean
travel (StrataViewport *self,
        GArray         *from,
        GArray         *to)
{
  gboolean could_back = strata_viewport_can_go_back (self);
  gboolean could_forward = strata_viewport_can_go_forward (self);
  Range here = { self->start, self->end };
  Range there;

  if (from->len == 0)
    return FALSE;
  there = g_array_index (from, Range, from->len - 1);
  g_array_set_size (from, from->len - 1);
  g_array_append_val (to, here);
  apply_range (self, there.start, there.end, FALSE);
  notify_history (self, could_back, could_forward);
  return TRUE;
}

gboolean
strata_viewport_go_back (StrataViewport *self)
{
  g_return_val_if_fail (STRATA_IS_VIEWPORT (self), FALSE);
  return travel (self, self->back, self->forward);
}

gboolean
strata_viewport_go_forward (StrataViewport *self)
{
  g_return_val_if_fail (STRATA_IS_VIEWPORT (self), FALSE);
  return travel (self, self->forward, self->back);
}

gboolean
strata_viewport_get_selection (StrataViewport *self,
                               gint64         *start,
                               gint64         *end)
{
  g_return_val_if_fail (STRATA_IS_VIEWPORT (self), FALSE);
  if (start != NULL)
    *start = self->selection_start;
  if (end != NULL)
    *end = self->selection_end;
  return self->has_selection;
}

void
strata_viewport_set_selection (StrataViewport *self,
                               gint64          start,
                               gint64          end)
{
  gboolean had = self->has_selection;

  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  if (end < start)
    {
      gint64 tmp = start;

      start = end;
      end = tmp;
    }
  start = CLAMP (start, self->bounds_start, self->bounds_end);
  end = CLAMP (end, self->bounds_start, self->bounds_end);
  if (had && start == self->selection_start && end == self->selection_end)
    return;
  self->has_selection = TRUE;
  self->selection_start = start;
  self->selection_end = end;
  if (!had)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_SELECTION]);
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

void
strata_viewport_clear_selection (StrataViewport *self)
{
  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  if (!self->has_selection)
    return;
  self->has_selection = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_SELECTION]);
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

gboolean
strata_viewport_get_cursor (StrataViewport *self,
                            gint64         *t)
{
  g_return_val_if_fail (STRATA_IS_VIEWPORT (self), FALSE);
  if (t != NULL)
    *t = self->cursor;
  return self->has_cursor;
}

void
strata_viewport_set_cursor (StrataViewport *self,
                            gint64          t)
{
  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  t = CLAMP (t, self->bounds_start, self->bounds_end);
  if (self->has_cursor && self->cursor == t)
    return;
  self->has_cursor = TRUE;
  self->cursor = t;
  g_signal_emit (self, signals[CURSOR_CHANGED], 0);
}

void
strata_viewport_clear_cursor (StrataViewport *self)
{
  g_return_if_fail (STRATA_IS_VIEWPORT (self));
  if (!self->has_cursor)
    return;
  self->has_cursor = FALSE;
  g_signal_emit (self, signals[CURSOR_CHANGED], 0);
}

/* The time under x in a view @width pixels wide showing the range */
gint64
strata_viewport_x_to_time (StrataViewport *self,
                           double          x,
                           double          width)
{
  if (width <= 0)
    return self->start;
  return self->start + (gint64) llround (x / width * (double) (self->end - self->start));
}

double
strata_viewport_time_to_x (StrataViewport *self,
                           gint64          t,
                           double          width)
{
  return (double) (t - self->start) / (double) MAX (self->end - self->start, 1) * width;
}
