/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * StrataSyncTransform:
 * @a: the slope: reference nanoseconds per nanosecond of the trace's clock
 * @origin: a time of the trace's clock (ns, absolute)…
 * @ref_origin: …and the integer part of its image in the reference clock
 * @ref_frac: the fractional part of that image, in [0, 1)
 *
 * A linear clock transform t' = a·t + b, kept as the image of one point
 * (@origin ↦ @ref_origin + @ref_frac) and a slope. Absolute times are
 * around 1.4e18 ns, where a double has no nanoseconds left: b alone
 * (strata_sync_transform_get_b()) cannot be used to map times, and
 * strata_sync_transform_apply() works on t − @origin instead.
 */
typedef struct
{
  double a;
  gint64 origin;
  gint64 ref_origin;
  double ref_frac;
} StrataSyncTransform;

void        strata_sync_transform_init_identity (StrataSyncTransform       *self);
void        strata_sync_transform_init          (StrataSyncTransform       *self,
                                                 double                     a,
                                                 gint64                     origin,
                                                 gint64                     ref_base,
                                                 long double                ref_delta);
void        strata_sync_transform_init_offset   (StrataSyncTransform       *self,
                                                 gint64                     offset_ns);
gboolean    strata_sync_transform_is_identity   (const StrataSyncTransform *self);
gint64      strata_sync_transform_apply         (const StrataSyncTransform *self,
                                                 gint64                     ts);
long double strata_sync_transform_map_from      (const StrataSyncTransform *self,
                                                 gint64                     ts,
                                                 gint64                     base);
long double strata_sync_transform_get_b         (const StrataSyncTransform *self);
void        strata_sync_transform_compose       (const StrataSyncTransform *outer,
                                                 const StrataSyncTransform *inner,
                                                 StrataSyncTransform       *result);

G_END_DECLS
