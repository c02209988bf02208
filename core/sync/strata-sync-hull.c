/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sync-hull"

#include "config.h"

#include <math.h>

#include "strata-sync-hull.h"

/*
 * The fully incremental convex hull, for one pair of machines X and Y.
 *
 * A matched message is a point (x, y): its time on X's clock and on Y's.
 * If y = f(x) relates the clocks, a message from X to Y was received after
 * it was sent, so its point lies above the line (y > f(x)); a message from
 * Y to X lies below it. Every line that separates the two sets is a
 * possible f. Only the points that can touch such a line matter: the
 * lower hull of the points above, the upper hull of the points below.
 * Those are all that is kept, so memory follows the hulls (a few dozen
 * points), not the number of messages.
 *
 * The set of separating lines y = αx + β is a convex polygon in (α, β).
 * Its range of slopes is exact and cheap to keep up to date: a point p
 * above and a point q below with p.x > q.x allow only α ≤ (p.y − q.y) /
 * (p.x − q.x), and with p.x < q.x only α ≥ that ratio; the greatest
 * allowed slope is the smallest such ratio over the pairs, and the polygon
 * is empty exactly when the bounds cross. A new hull point is thus paired
 * with the other hull's points only. Slopes are compared as fractions of
 * 128-bit integers, so the hulls and the verdict (accurate, fail) are
 * exact; only the final estimate is computed in long double.
 *
 * The estimate is the bisector of the lines of least and greatest slope
 * (Lmin, Lmax), taken in the frame where the parent's clock is the
 * abscissa, and inverted when the parent is Y: the method of the papers.
 * Its accuracy is the largest distance, over the time range of the child,
 * to any separating line: one of the polygon's vertices is the farthest,
 * and they are Lmin, Lmax and the hull edges whose slopes lie between.
 *
 * Coordinates are kept relative to the first point: absolute times are
 * around 1.4e18 ns, and differences of them are what is multiplied.
 */

#ifndef __SIZEOF_INT128__
#error "The convex hull needs __int128 (GCC or Clang on a 64-bit target)"
#endif

typedef __int128 Int128;

/* Farther from the first point than this (73 years), a point is refused:
 * products of differences of coordinates then stay below 2^125. */
#define MAX_COORD (G_GINT64_CONSTANT (1) << 61)

typedef struct
{
  gint64 x;
  gint64 y;
} Point;

/* y = a·x + b in coordinates relative to the origin */
typedef struct
{
  long double a;
  long double b;
} Line;

struct _StrataSyncHull
{
  gboolean            has_origin;
  gint64              x0;
  gint64              y0;

  /* By direction: X_TO_Y points (above the line) keep their lower hull;
   * Y_TO_X points (below) their upper hull, stored with y negated so that
   * both are lower hulls. Sorted by x. */
  GArray             *hulls[2];
  guint64             n_matches[2];

  /* The bounds of the slope: Lmax goes through max_above and max_below,
   * Lmin through min_above and min_below (real coordinates). */
  gboolean            has_max;
  gboolean            has_min;
  Point               max_above;
  Point               max_below;
  Point               min_above;
  Point               min_below;

  /* The first match that contradicted the others; nothing is added after it. */
  gboolean            failed;
  guint64             fail_index;
  gint64              fail_x;
  gint64              fail_y;
  StrataSyncDirection fail_direction;
};

const char *
strata_sync_quality_to_string (StrataSyncQuality quality)
{
  switch (quality)
    {
    case STRATA_SYNC_QUALITY_ACCURATE:
      return "accurate";
    case STRATA_SYNC_QUALITY_APPROXIMATE:
      return "approximate";
    case STRATA_SYNC_QUALITY_INCOMPLETE:
      return "incomplete";
    case STRATA_SYNC_QUALITY_FAIL:
      return "fail";
    case STRATA_SYNC_QUALITY_ABSENT:
      return "absent";
    default:
      return "unknown";
    }
}

/**
 * strata_sync_hull_new:
 *
 * Returns: (transfer full): an empty hull
 */
StrataSyncHull *
strata_sync_hull_new (void)
{
  StrataSyncHull *self = g_new0 (StrataSyncHull, 1);

  self->hulls[0] = g_array_new (FALSE, FALSE, sizeof (Point));
  self->hulls[1] = g_array_new (FALSE, FALSE, sizeof (Point));
  return self;
}

void
strata_sync_hull_free (StrataSyncHull *self)
{
  if (self == NULL)
    return;

  g_array_unref (self->hulls[0]);
  g_array_unref (self->hulls[1]);
  g_free (self);
}

/* ---------------------------------------------------------------------- */
/* Exact geometry                                                         */
/* ---------------------------------------------------------------------- */

/* (a − o) × (b − o): > 0 when o, a, b turn left (counterclockwise) */
static inline Int128
cross (Point o,
       Point a,
       Point b)
{
  return (Int128) (a.x - o.x) * (b.y - o.y) - (Int128) (a.y - o.y) * (b.x - o.x);
}

/* Sign of n1/d1 − n2/d2, denominators positive */
static inline int
compare_ratios (Int128 n1,
                Int128 d1,
                Int128 n2,
                Int128 d2)
{
  Int128 l = n1 * d2, r = n2 * d1;

  return (l > r) - (l < r);
}

static inline Point
hull_point (const StrataSyncHull *self,
            guint                 direction,
            guint                 i)
{
  Point p = g_array_index (self->hulls[direction], Point, i);

  if (direction == STRATA_SYNC_Y_TO_X)
    p.y = -p.y;
  return p;
}

/* Where @s goes in the lower hull @h, or FALSE when it lies on or above
 * the hull and adds nothing. */
static gboolean
chain_locate (GArray   *h,
              Point     s,
              guint    *pos,
              gboolean *replace)
{
  const Point *p = (const Point *) h->data;
  guint lo = 0, hi = h->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (p[mid].x < s.x)
        lo = mid + 1;
      else
        hi = mid;
    }

  *pos = lo;
  *replace = FALSE;

  if (lo < h->len && p[lo].x == s.x)
    {
      if (s.y >= p[lo].y)
        return FALSE;
      *replace = TRUE;
      return TRUE;
    }

  /* Between two hull points: on or above their segment, it is inside. */
  if (lo > 0 && lo < h->len && cross (p[lo - 1], p[lo], s) >= 0)
    return FALSE;

  return TRUE;
}

static void
chain_insert (GArray   *h,
              Point     s,
              guint     pos,
              gboolean  replace)
{
  if (replace)
    g_array_index (h, Point, pos) = s;
  else
    g_array_insert_val (h, pos, s);

  /* Points that the new one leaves above the hull go, on both sides. */
  while (pos >= 2 && cross (g_array_index (h, Point, pos - 2),
                            g_array_index (h, Point, pos - 1), s) <= 0)
    {
      g_array_remove_index (h, pos - 1);
      pos--;
    }
  while (pos + 2 < h->len && cross (s, g_array_index (h, Point, pos + 1),
                                    g_array_index (h, Point, pos + 2)) <= 0)
    g_array_remove_index (h, pos + 1);
}

/* The slope bound that the pair (@above, @below) sets, as n/d with d > 0:
 * returns 1 for an upper bound, -1 for a lower bound, 0 when the points
 * have the same x (then only above.y >= below.y is required). */
static int
pair_bound (Point   above,
            Point   below,
            Int128 *n,
            Int128 *d)
{
  Int128 num = (Int128) above.y - below.y;
  Int128 den = (Int128) above.x - below.x;

  if (den > 0)
    {
      *n = num, *d = den;
      return 1;
    }
  if (den < 0)
    {
      *n = -num, *d = -den;
      return -1;
    }
  *n = num, *d = 0;
  return 0;
}

/**
 * strata_sync_hull_add:
 * @x: the message's time on X's clock (ns, absolute)
 * @y: its time on Y's clock
 * @direction: which way it went
 *
 * Adds a matched message. Points arrive in any order. A point that
 * contradicts the earlier ones (no increasing line separates the two
 * directions any more) makes the hull fail: it and every later point are
 * counted but not used, so that the estimate stays the last consistent one.
 */
void
strata_sync_hull_add (StrataSyncHull      *self,
                      gint64               x,
                      gint64               y,
                      StrataSyncDirection  direction)
{
  GArray *other;
  Point s, max_above, max_below, min_above, min_below;
  gboolean has_max, has_min, replace = FALSE, feasible = TRUE;
  guint pos = 0;
  guint d = direction == STRATA_SYNC_X_TO_Y ? 0 : 1;

  g_return_if_fail (self != NULL);
  g_return_if_fail (direction == STRATA_SYNC_X_TO_Y || direction == STRATA_SYNC_Y_TO_X);

  self->n_matches[d]++;
  if (self->failed)
    return;

  if (!self->has_origin)
    {
      self->has_origin = TRUE;
      self->x0 = x;
      self->y0 = y;
    }

  s.x = x - self->x0;
  s.y = y - self->y0;
  if (s.x > MAX_COORD || s.x < -MAX_COORD || s.y > MAX_COORD || s.y < -MAX_COORD)
    {
      /* Decades away from the other messages: not a clock relation that
       * a line could give anyway. */
      feasible = FALSE;
    }
  else
    {
      Point stored = s;

      if (d == 1)
        stored.y = -stored.y;
      if (!chain_locate (self->hulls[d], stored, &pos, &replace))
        return;   /* implied by the hull: changes nothing */
    }

  /* The new bounds of the slope, from the pairs of the new point with the
   * other hull's points. */
  has_max = self->has_max, has_min = self->has_min;
  max_above = self->max_above, max_below = self->max_below;
  min_above = self->min_above, min_below = self->min_below;
  other = self->hulls[1 - d];

  for (guint i = 0; feasible && i < other->len; i++)
    {
      Point q = hull_point (self, 1 - d, i);
      Point above = d == 0 ? s : q;
      Point below = d == 0 ? q : s;
      Int128 n, den, cur_n, cur_d;

      switch (pair_bound (above, below, &n, &den))
        {
        case 1:
          if (has_max)
            pair_bound (max_above, max_below, &cur_n, &cur_d);
          if (!has_max || compare_ratios (n, den, cur_n, cur_d) < 0)
            {
              has_max = TRUE;
              max_above = above, max_below = below;
            }
          break;
        case -1:
          if (has_min)
            pair_bound (min_above, min_below, &cur_n, &cur_d);
          if (!has_min || compare_ratios (n, den, cur_n, cur_d) > 0)
            {
              has_min = TRUE;
              min_above = above, min_below = below;
            }
          break;
        default:
          /* Sent and received at the same x: received must not be earlier. */
          if (n < 0)
            feasible = FALSE;
          break;
        }
    }

  if (feasible && has_max)
    {
      Int128 n_max, d_max;

      pair_bound (max_above, max_below, &n_max, &d_max);
      /* Clocks go forward: a relation of slope <= 0 is no relation. */
      if (n_max <= 0)
        feasible = FALSE;
      else if (has_min)
        {
          Int128 n_min, d_min;

          pair_bound (min_above, min_below, &n_min, &d_min);
          if (compare_ratios (n_min, d_min, n_max, d_max) > 0)
            feasible = FALSE;
        }
    }

  if (!feasible)
    {
      self->failed = TRUE;
      self->fail_index = self->n_matches[0] + self->n_matches[1] - 1;
      self->fail_x = x;
      self->fail_y = y;
      self->fail_direction = direction;
      return;
    }

  self->has_max = has_max, self->has_min = has_min;
  self->max_above = max_above, self->max_below = max_below;
  self->min_above = min_above, self->min_below = min_below;

  if (d == 1)
    s.y = -s.y;
  chain_insert (self->hulls[d], s, pos, replace);
}

/**
 * strata_sync_hull_get_n_matches:
 *
 * Returns: how many matches went in @direction, used or not
 */
guint64
strata_sync_hull_get_n_matches (const StrataSyncHull *self,
                                StrataSyncDirection   direction)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_matches[direction == STRATA_SYNC_X_TO_Y ? 0 : 1];
}

/**
 * strata_sync_hull_get_n_points:
 *
 * Returns: how many points the hulls keep (the memory used)
 */
guint
strata_sync_hull_get_n_points (const StrataSyncHull *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->hulls[0]->len + self->hulls[1]->len;
}

/* The quality of what the hulls hold, failure aside */
static StrataSyncQuality
inner_quality (const StrataSyncHull *self)
{
  guint n_above = self->hulls[0]->len, n_below = self->hulls[1]->len;

  if (n_above == 0 && n_below == 0)
    return STRATA_SYNC_QUALITY_ABSENT;
  if (n_above == 0 || n_below == 0)
    return STRATA_SYNC_QUALITY_INCOMPLETE;
  if (self->has_max && self->has_min)
    {
      Int128 n, d;

      /* A lower bound of slope <= 0 bounds nothing for a clock. */
      pair_bound (self->min_above, self->min_below, &n, &d);
      if (n > 0)
        return STRATA_SYNC_QUALITY_ACCURATE;
    }
  return STRATA_SYNC_QUALITY_APPROXIMATE;
}

/**
 * strata_sync_hull_get_quality:
 *
 * Returns: the quality of the relation the matches give
 */
StrataSyncQuality
strata_sync_hull_get_quality (const StrataSyncHull *self)
{
  g_return_val_if_fail (self != NULL, STRATA_SYNC_QUALITY_ABSENT);

  return self->failed ? STRATA_SYNC_QUALITY_FAIL : inner_quality (self);
}

/**
 * strata_sync_hull_get_failure:
 * @match_index: (out) (optional): the rank of the first contradicting
 *   match, from 0, in the order they were added
 * @x: (out) (optional): its time on X
 * @y: (out) (optional): its time on Y
 * @direction: (out) (optional): its direction
 *
 * Returns: %TRUE if the hull failed, and then what made it fail
 */
gboolean
strata_sync_hull_get_failure (const StrataSyncHull *self,
                              guint64              *match_index,
                              gint64               *x,
                              gint64               *y,
                              StrataSyncDirection  *direction)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!self->failed)
    return FALSE;
  if (match_index != NULL)
    *match_index = self->fail_index;
  if (x != NULL)
    *x = self->fail_x;
  if (y != NULL)
    *y = self->fail_y;
  if (direction != NULL)
    *direction = self->fail_direction;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* The estimate                                                           */
/* ---------------------------------------------------------------------- */

static Line
line_through (Point p,
              Point q)
{
  Line l;

  l.a = (long double) (q.y - p.y) / (long double) (q.x - p.x);
  l.b = (long double) p.y - l.a * (long double) p.x;
  return l;
}

/* The same line seen with the axes swapped: x = y / a − b / a */
static Line
line_transpose (Line l)
{
  Line t = { 1.0L / l.a, -l.b / l.a };
  return t;
}

/* The image in the parent's clock, relative to the parent's origin, of
 * @child_rel (relative to the child's origin) */
static long double
line_map (Line           l,
          StrataSyncSide child,
          long double    child_rel)
{
  if (child == STRATA_SYNC_SIDE_Y)
    return (child_rel - l.b) / l.a;
  return l.a * child_rel + l.b;
}

static void
line_to_transform (const StrataSyncHull *self,
                   Line                  l,
                   StrataSyncSide        child,
                   StrataSyncTransform  *transform)
{
  if (child == STRATA_SYNC_SIDE_Y)
    strata_sync_transform_init (transform, (double) (1.0L / l.a), self->y0, self->x0, -l.b / l.a);
  else
    strata_sync_transform_init (transform, (double) l.a, self->x0, self->y0, l.b);
}

/* The true slope and intercept (absolute) of the child → parent transform
 * that @l stands for */
static void
line_slope_intercept (const StrataSyncHull *self,
                      Line                  l,
                      StrataSyncSide        child,
                      long double          *a,
                      long double          *b)
{
  if (child == STRATA_SYNC_SIDE_Y)
    {
      /* x = x0 + (y − y0 − β) / α */
      *a = 1.0L / l.a;
      *b = (long double) self->x0 - ((long double) self->y0 + l.b) / l.a;
    }
  else
    {
      /* y = y0 + α (x − x0) + β */
      *a = l.a;
      *b = (long double) self->y0 - l.a * (long double) self->x0 + l.b;
    }
}

/* min over the points above (upper) or max over the points below (lower)
 * of y − a·x: the range of intercepts of the separating lines of slope a */
static long double
intercept_bound (const StrataSyncHull *self,
                 guint                 direction,
                 long double           a)
{
  long double best = direction == 0 ? INFINITY : -INFINITY;

  for (guint i = 0; i < self->hulls[direction]->len; i++)
    {
      Point p = hull_point (self, direction, i);
      long double v = (long double) p.y - a * (long double) p.x;

      best = direction == 0 ? MIN (best, v) : MAX (best, v);
    }
  return best;
}

static gboolean
slope_in_range (const StrataSyncHull *self,
                Point                 p,
                Point                 q)
{
  Int128 n = (Int128) q.y - p.y, d = (Int128) q.x - p.x;
  Int128 n_min, d_min, n_max, d_max;

  pair_bound (self->min_above, self->min_below, &n_min, &d_min);
  pair_bound (self->max_above, self->max_below, &n_max, &d_max);
  return compare_ratios (n, d, n_min, d_min) >= 0 && compare_ratios (n, d, n_max, d_max) <= 0;
}

/* The vertices of the polygon of separating lines: Lmin, Lmax and the
 * hull edges whose slopes lie between theirs. */
static GArray *
polygon_vertices (const StrataSyncHull *self)
{
  GArray *vertices = g_array_new (FALSE, FALSE, sizeof (Line));
  Line l;

  l = line_through (self->min_above, self->min_below);
  g_array_append_val (vertices, l);
  l = line_through (self->max_above, self->max_below);
  g_array_append_val (vertices, l);

  for (guint d = 0; d < 2; d++)
    for (guint i = 0; i + 1 < self->hulls[d]->len; i++)
      {
        Point p = hull_point (self, d, i), q = hull_point (self, d, i + 1);

        if (slope_in_range (self, p, q))
          {
            l = line_through (p, q);
            g_array_append_val (vertices, l);
          }
      }

  return vertices;
}

/**
 * strata_sync_hull_estimate:
 * @child: which clock is mapped onto the other
 * @child_from: the start of the time range of the child (its clock) over
 *   which the accuracy is computed, usually its trace's first event
 * @child_to: the end of that range, usually its trace's last event
 * @estimate: (out): the result
 *
 * Gives the transform from the child's clock to the parent's (the other
 * one), with the bounds of its slope and intercept and its accuracy over
 * [@child_from, @child_to]. With fewer matches than an accurate estimate
 * needs, it gives what the matches allow: the slope nearest 1 that they
 * allow and the middle of the offsets then possible (approximate), or
 * slope 1 and the tightest offset that the one direction allows
 * (incomplete), or the identity (absent); bounds and accuracy are then
 * infinite. A failed hull gives the estimate of the matches before the
 * contradiction.
 */
void
strata_sync_hull_estimate (const StrataSyncHull *self,
                           StrataSyncSide        child,
                           gint64                child_from,
                           gint64                child_to,
                           StrataSyncEstimate   *estimate)
{
  StrataSyncQuality quality;
  Line est = { 1.0L, 0.0L };

  g_return_if_fail (self != NULL);
  g_return_if_fail (estimate != NULL);

  quality = inner_quality (self);
  estimate->quality = self->failed ? STRATA_SYNC_QUALITY_FAIL : quality;
  estimate->inner_quality = quality;
  estimate->a_min = estimate->b_min = -INFINITY;
  estimate->a_max = estimate->b_max = INFINITY;
  estimate->accuracy_ns = INFINITY;

  switch (quality)
    {
    case STRATA_SYNC_QUALITY_ABSENT:
    default:
      strata_sync_transform_init_identity (&estimate->transform);
      return;

    case STRATA_SYNC_QUALITY_INCOMPLETE:
      /* One side only: the offset is bounded from that side, and the
       * bound is the best guess there is, without any drift. */
      est.a = 1.0L;
      est.b = intercept_bound (self, self->hulls[0]->len > 0 ? 0 : 1, 1.0L);
      break;

    case STRATA_SYNC_QUALITY_APPROXIMATE:
      {
        Int128 n, d;

        /* Slope 1 when allowed, else the allowed slope nearest to it;
         * slope and the middle of the offsets do not depend on which
         * clock is the abscissa. */
        est.a = 1.0L;
        if (self->has_max)
          {
            pair_bound (self->max_above, self->max_below, &n, &d);
            if (n < d)
              est.a = (long double) n / (long double) d;
          }
        if (self->has_min)
          {
            pair_bound (self->min_above, self->min_below, &n, &d);
            if (n > d)
              est.a = (long double) n / (long double) d;
          }
        est.b = (intercept_bound (self, 0, est.a) + intercept_bound (self, 1, est.a)) / 2.0L;
      }
      break;

    case STRATA_SYNC_QUALITY_ACCURATE:
      {
        Line lmin = line_through (self->min_above, self->min_below);
        Line lmax = line_through (self->max_above, self->max_below);

        /* The bisector, with the parent's clock as the abscissa. */
        if (child == STRATA_SYNC_SIDE_Y)
          {
            est.a = (lmin.a + lmax.a) / 2.0L;
            est.b = (lmin.b + lmax.b) / 2.0L;
          }
        else
          {
            Line tmin = line_transpose (lmin), tmax = line_transpose (lmax), t;

            t.a = (tmin.a + tmax.a) / 2.0L;
            t.b = (tmin.b + tmax.b) / 2.0L;
            est = line_transpose (t);
          }
      }
      break;
    }

  line_to_transform (self, est, child, &estimate->transform);

  if (quality == STRATA_SYNC_QUALITY_ACCURATE)
    {
      g_autoptr(GArray) vertices = polygon_vertices (self);
      gint64 origin = child == STRATA_SYNC_SIDE_Y ? self->y0 : self->x0;
      long double from = (long double) (child_from - origin);
      long double to = (long double) (child_to - origin);
      long double a_min = INFINITY, a_max = -INFINITY, b_min = INFINITY, b_max = -INFINITY;
      long double accuracy = 0.0L;

      for (guint i = 0; i < vertices->len; i++)
        {
          Line v = g_array_index (vertices, Line, i);
          long double a, b;

          line_slope_intercept (self, v, child, &a, &b);
          a_min = MIN (a_min, a), a_max = MAX (a_max, a);
          b_min = MIN (b_min, b), b_max = MAX (b_max, b);

          accuracy = MAX (accuracy, fabsl (line_map (v, child, from) - line_map (est, child, from)));
          accuracy = MAX (accuracy, fabsl (line_map (v, child, to) - line_map (est, child, to)));
        }

      /* Rounded outwards, so that the bounds stay bounds as doubles. */
      estimate->a_min = nextafter ((double) a_min, -INFINITY);
      estimate->a_max = nextafter ((double) a_max, INFINITY);
      estimate->b_min = nextafter ((double) b_min, -INFINITY);
      estimate->b_max = nextafter ((double) b_max, INFINITY);
      estimate->accuracy_ns = nextafter ((double) accuracy, INFINITY);
    }
}
