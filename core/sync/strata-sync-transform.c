/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sync-transform"

#include "config.h"

#include <math.h>

#include "strata-sync-transform.h"

/**
 * strata_sync_transform_init_identity:
 *
 * Sets @self to t' = t.
 */
void
strata_sync_transform_init_identity (StrataSyncTransform *self)
{
  g_return_if_fail (self != NULL);

  self->a = 1.0;
  self->origin = 0;
  self->ref_origin = 0;
  self->ref_frac = 0.0;
}

/**
 * strata_sync_transform_init:
 * @a: the slope
 * @origin: a time of the trace's clock
 * @ref_base: an integer time of the reference clock…
 * @ref_delta: …to which this is added to give the image of @origin
 *
 * Sets @self to the transform of slope @a that maps @origin to
 * @ref_base + @ref_delta. Splitting the image in two keeps its fraction:
 * @ref_delta is expected to be small (a latency, an offset, a drift over
 * a trace), where a long double has the nanosecond and much more.
 */
void
strata_sync_transform_init (StrataSyncTransform *self,
                            double               a,
                            gint64               origin,
                            gint64               ref_base,
                            long double          ref_delta)
{
  long double whole;

  g_return_if_fail (self != NULL);

  whole = floorl (ref_delta);
  self->a = a;
  self->origin = origin;
  self->ref_origin = ref_base + (gint64) whole;
  self->ref_frac = (double) (ref_delta - whole);
  /* A fraction that rounds up to 1.0 as a double: carry it. */
  if (self->ref_frac >= 1.0)
    {
      self->ref_origin++;
      self->ref_frac = 0.0;
    }
}

/**
 * strata_sync_transform_init_offset:
 * @offset_ns: what is added to every time
 *
 * Sets @self to t' = t + @offset_ns.
 */
void
strata_sync_transform_init_offset (StrataSyncTransform *self,
                                   gint64               offset_ns)
{
  g_return_if_fail (self != NULL);

  self->a = 1.0;
  self->origin = 0;
  self->ref_origin = offset_ns;
  self->ref_frac = 0.0;
}

gboolean
strata_sync_transform_is_identity (const StrataSyncTransform *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->a == 1.0 && self->ref_frac == 0.0 && self->ref_origin == self->origin;
}

/**
 * strata_sync_transform_apply:
 * @ts: a time of the trace's clock (ns, absolute)
 *
 * Returns: @ts in the reference clock, rounded to the nearest nanosecond
 */
gint64
strata_sync_transform_apply (const StrataSyncTransform *self,
                             gint64                     ts)
{
  gint64 dt;
  double delta;

  g_return_val_if_fail (self != NULL, ts);

  /* t' = ref_origin + dt + ref_frac + (a − 1)·dt: the nanoseconds of dt
   * are added as integers, and only the drift, small, is a double, so
   * that no time is rounded however far it is from the origin (an
   * identity at origin 0 included). */
  dt = ts - self->origin;
  delta = self->ref_frac + (self->a - 1.0) * (double) dt;
  return self->ref_origin + dt + (gint64) floor (delta + 0.5);
}

/**
 * strata_sync_transform_map_from:
 * @ts: a time of the trace's clock (ns, absolute)
 * @base: a time of the reference clock
 *
 * The image of @ts, unrounded, minus @base: the difference of two images
 * at absolute times keeps its fraction of a nanosecond this way, where
 * the images themselves, around 1.4e18, would not.
 *
 * Returns: the image of @ts − @base, in ns
 */
long double
strata_sync_transform_map_from (const StrataSyncTransform *self,
                                gint64                     ts,
                                gint64                     base)
{
  gint64 dt;

  g_return_val_if_fail (self != NULL, 0.0L);

  dt = ts - self->origin;

  return (long double) (self->ref_origin - base + dt) + self->ref_frac
         + ((long double) self->a - 1.0L) * (long double) dt;
}

/**
 * strata_sync_transform_get_b:
 *
 * The intercept b of t' = a·t + b, for display: a long double holds it
 * to about a tenth of a nanosecond for absolute times.
 *
 * Returns: b, in ns
 */
long double
strata_sync_transform_get_b (const StrataSyncTransform *self)
{
  g_return_val_if_fail (self != NULL, 0.0L);

  return (long double) self->ref_origin + self->ref_frac
         - (long double) self->a * (long double) self->origin;
}

/**
 * strata_sync_transform_compose:
 * @outer: from an intermediate clock M to the reference R
 * @inner: from the trace's clock to M
 * @result: (out): from the trace's clock to R; may be @outer or @inner
 *
 * (a₁, b₁) ∘ (a₂, b₂) = (a₁a₂, a₁b₂ + b₁), computed at @inner's origin so
 * that no absolute time is ever multiplied.
 */
void
strata_sync_transform_compose (const StrataSyncTransform *outer,
                               const StrataSyncTransform *inner,
                               StrataSyncTransform       *result)
{
  long double delta;
  double a;
  gint64 origin, base, d;

  g_return_if_fail (outer != NULL);
  g_return_if_fail (inner != NULL);
  g_return_if_fail (result != NULL);

  /* inner maps its origin to inner->ref_origin + ref_frac in M, which
   * outer maps relative to its own origin: D whole nanoseconds from it,
   * added as an integer, and the small rest. */
  d = inner->ref_origin - outer->origin;
  delta = (long double) outer->ref_frac + inner->ref_frac
          + ((long double) outer->a - 1.0L) * ((long double) d + inner->ref_frac);
  a = outer->a * inner->a;
  origin = inner->origin;
  base = outer->ref_origin + d;

  strata_sync_transform_init (result, a, origin, base, delta);
}
