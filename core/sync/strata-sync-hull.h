/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "strata-sync-transform.h"

G_BEGIN_DECLS

/**
 * StrataSyncQuality:
 * @STRATA_SYNC_QUALITY_ACCURATE: messages both ways bound the clock
 *   relation from both sides: the slope and offset are bounded, and the
 *   accuracy is a guaranteed bound on the error
 * @STRATA_SYNC_QUALITY_APPROXIMATE: messages both ways, but too few or
 *   too bunched to bound the slope on both sides: the offset is known,
 *   the drift is guessed
 * @STRATA_SYNC_QUALITY_INCOMPLETE: messages one way only: the offset is
 *   bounded on one side only and the drift is unknown
 * @STRATA_SYNC_QUALITY_ABSENT: no message
 * @STRATA_SYNC_QUALITY_FAIL: the messages contradict each other (no line
 *   separates them: a wrong match, or clocks that are not linear); the
 *   estimate made before the first contradiction is kept
 *
 * How well two clocks are related, best first.
 */
typedef enum
{
  STRATA_SYNC_QUALITY_ACCURATE,
  STRATA_SYNC_QUALITY_APPROXIMATE,
  STRATA_SYNC_QUALITY_INCOMPLETE,
  STRATA_SYNC_QUALITY_FAIL,
  STRATA_SYNC_QUALITY_ABSENT,
} StrataSyncQuality;

/**
 * StrataSyncDirection:
 * @STRATA_SYNC_X_TO_Y: sent at x on machine X, received at y on machine Y
 * @STRATA_SYNC_Y_TO_X: sent at y on Y, received at x on X
 *
 * Which way a matched message went between the two clocks of a hull.
 */
typedef enum
{
  STRATA_SYNC_X_TO_Y,
  STRATA_SYNC_Y_TO_X,
} StrataSyncDirection;

/**
 * StrataSyncSide:
 * @STRATA_SYNC_SIDE_X: the clock of the x coordinates
 * @STRATA_SYNC_SIDE_Y: the clock of the y coordinates
 */
typedef enum
{
  STRATA_SYNC_SIDE_X,
  STRATA_SYNC_SIDE_Y,
} StrataSyncSide;

/**
 * StrataSyncEstimate:
 * @quality: see #StrataSyncQuality
 * @inner_quality: for %STRATA_SYNC_QUALITY_FAIL, the quality of what was
 *   kept from before the contradiction; otherwise @quality
 * @transform: from the child's clock to the parent's
 * @a_min: lower bound of the true slope a (-INFINITY: unbounded)
 * @a_max: upper bound of a (INFINITY: unbounded)
 * @b_min: lower bound of the true intercept b, in ns (-INFINITY: unbounded)
 * @b_max: upper bound of b (INFINITY: unbounded)
 * @accuracy_ns: a bound on |error| of @transform over the time range
 *   asked for, in the parent's ns, when the true relation is linear and
 *   the matches are right (INFINITY: unbounded)
 *
 * What a hull says about the child's clock against the parent's: the
 * transform t_parent = a·t_child + b and how far from it the truth can be.
 */
typedef struct
{
  StrataSyncQuality   quality;
  StrataSyncQuality   inner_quality;
  StrataSyncTransform transform;
  double              a_min;
  double              a_max;
  double              b_min;
  double              b_max;
  double              accuracy_ns;
} StrataSyncEstimate;

typedef struct _StrataSyncHull StrataSyncHull;

const char        *strata_sync_quality_to_string  (StrataSyncQuality         quality);

StrataSyncHull    *strata_sync_hull_new           (void);
void               strata_sync_hull_free          (StrataSyncHull           *self);
void               strata_sync_hull_add           (StrataSyncHull           *self,
                                                   gint64                    x,
                                                   gint64                    y,
                                                   StrataSyncDirection       direction);
guint64            strata_sync_hull_get_n_matches (const StrataSyncHull     *self,
                                                   StrataSyncDirection       direction);
guint              strata_sync_hull_get_n_points  (const StrataSyncHull     *self);
StrataSyncQuality  strata_sync_hull_get_quality   (const StrataSyncHull     *self);
gboolean           strata_sync_hull_get_failure   (const StrataSyncHull     *self,
                                                   guint64                  *match_index,
                                                   gint64                   *x,
                                                   gint64                   *y,
                                                   StrataSyncDirection      *direction);
void               strata_sync_hull_estimate      (const StrataSyncHull     *self,
                                                   StrataSyncSide            child,
                                                   gint64                    child_from,
                                                   gint64                    child_to,
                                                   StrataSyncEstimate       *estimate);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataSyncHull, strata_sync_hull_free)

G_END_DECLS
