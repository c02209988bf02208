/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>

#include "strata-sync-hull.h"
#include "strata-sync-transform.h"

/*
 * The convex hull and the clock transform on synthetic messages whose
 * true clock relation is known exactly: y = Y0 + (x − X0)(1 + p/q), an
 * exact rational line, at absolute times around 1.4e18 ns. Messages go
 * both ways with random latencies, and the received time is rounded so
 * that it stays after the sending instant, as real clocks have it.
 */

#define X0 G_GINT64_CONSTANT (1400000000000000000)

typedef struct
{
  gint64 y0;       /* Y's clock at X0 */
  gint64 p, q;     /* drift p/q */
} Truth;

/* Y's clock at X's time x, floor and exact fraction */
static gint64
truth_y_floor (const Truth *t,
               gint64       x)
{
  __int128 dx = x - X0;
  __int128 num = dx * t->p;
  __int128 fl = num / t->q - (num % t->q != 0 && num < 0);

  return t->y0 + (gint64) (dx + fl);
}

/* X's time when Y's clock reads y, rounded up */
static gint64
truth_x_ceil (const Truth *t,
              gint64       y)
{
  /* x = X0 + (y − y0) q / (q + p) */
  __int128 num = (__int128) (y - t->y0) * t->q;
  __int128 den = t->q + t->p;
  __int128 c = num / den + (num % den != 0 && num > 0);

  return X0 + (gint64) c;
}

/* The true image on X of y, relative to X0, and the true transform
 * Y → X: a = q / (q + p), b = X0 − y0·a */
static long double
truth_x_rel (const Truth *t,
             gint64       y)
{
  return (long double) (y - t->y0) * (long double) t->q / (long double) (t->q + t->p);
}

static long double
truth_y_rel (const Truth *t,
             gint64       x)
{
  return (long double) (x - X0) * (1.0L + (long double) t->p / (long double) t->q) + (long double) (t->y0 - X0);
}

typedef struct
{
  gint64 x, y;
  StrataSyncDirection direction;
} Msg;

/* @n messages every ~period ns from X0, alternating directions at
 * random, latencies in [lo, hi] */
static GArray *
make_messages (const Truth *t,
               guint        n,
               gint64       period,
               gint64       lo,
               gint64       hi,
               guint32      seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  GArray *msgs = g_array_new (FALSE, FALSE, sizeof (Msg));
  gint64 x = X0 + 1000;

  for (guint i = 0; i < n; i++)
    {
      Msg m;
      gint64 latency = g_rand_int_range (rand, (gint32) lo, (gint32) hi + 1);

      x += period / 2 + g_rand_int_range (rand, 0, (gint32) period);
      if (g_rand_boolean (rand))
        {
          /* Sent on X at x, received on Y after the latency */
          m.x = x;
          m.y = truth_y_floor (t, x) + 1 + latency;
          m.direction = STRATA_SYNC_X_TO_Y;
        }
      else
        {
          /* Sent on Y at y, received on X after the latency */
          m.y = truth_y_floor (t, x);
          m.x = truth_x_ceil (t, m.y) + latency;
          m.direction = STRATA_SYNC_Y_TO_X;
        }
      g_array_append_val (msgs, m);
    }
  return msgs;
}

static StrataSyncHull *
hull_of (GArray *msgs)
{
  StrataSyncHull *hull = strata_sync_hull_new ();

  for (guint i = 0; i < msgs->len; i++)
    {
      const Msg *m = &g_array_index (msgs, Msg, i);
      strata_sync_hull_add (hull, m->x, m->y, m->direction);
    }
  return hull;
}

/* Every message time maps to within the accuracy of the truth; the true
 * slope and intercept are inside the bounds. */
static void
check_against_truth (const Truth *t,
                     GArray      *msgs,
                     gint64       from,
                     gint64       to)
{
  g_autoptr(StrataSyncHull) hull = hull_of (msgs);
  StrataSyncEstimate ey, ex;
  long double a_true, b_true, worst = 0.0L;

  g_assert_cmpint (strata_sync_hull_get_quality (hull), ==, STRATA_SYNC_QUALITY_ACCURATE);
  /* Only hull points are kept */
  g_assert_cmpuint (strata_sync_hull_get_n_points (hull), <, 100);
  g_assert_cmpuint (strata_sync_hull_get_n_matches (hull, STRATA_SYNC_X_TO_Y)
                    + strata_sync_hull_get_n_matches (hull, STRATA_SYNC_Y_TO_X), ==, msgs->len);

  /* Y → X */
  strata_sync_hull_estimate (hull, STRATA_SYNC_SIDE_Y, truth_y_floor (t, from), truth_y_floor (t, to), &ey);
  g_assert_cmpint (ey.quality, ==, STRATA_SYNC_QUALITY_ACCURATE);
  g_assert_true (isfinite (ey.accuracy_ns));
  a_true = (long double) t->q / (long double) (t->q + t->p);
  b_true = (long double) X0 - (long double) t->y0 * a_true;
  g_test_message ("Y→X: a=%.17g in [%.17g, %.17g], accuracy %.1f ns, %u hull points",
                  ey.transform.a, ey.a_min, ey.a_max, ey.accuracy_ns,
                  strata_sync_hull_get_n_points (hull));
  g_assert_true (ey.a_min <= a_true && a_true <= ey.a_max);
  /* b_true is computed to ~0.2 ns at these magnitudes */
  g_assert_true (ey.b_min <= b_true + 1 && b_true - 1 <= ey.b_max);
  g_assert_cmpfloat (ey.a_min, <, ey.a_max);

  for (guint i = 0; i < msgs->len; i++)
    {
      const Msg *m = &g_array_index (msgs, Msg, i);
      long double d = strata_sync_transform_map_from (&ey.transform, m->y, X0) - truth_x_rel (t, m->y);

      worst = MAX (worst, fabsl (d));
      g_assert_cmpfloat ((double) fabsl (d), <=, ey.accuracy_ns + 1e-3);
    }
  g_test_message ("Y→X: worst error %.2Lf ns", worst);

  /* X → Y, the other way round */
  strata_sync_hull_estimate (hull, STRATA_SYNC_SIDE_X, from, to, &ex);
  g_assert_cmpint (ex.quality, ==, STRATA_SYNC_QUALITY_ACCURATE);
  a_true = 1.0L + (long double) t->p / (long double) t->q;
  b_true = (long double) t->y0 - (long double) X0 * a_true;
  g_assert_true (ex.a_min <= a_true && a_true <= ex.a_max);
  g_assert_true (ex.b_min <= b_true + 1 && b_true - 1 <= ex.b_max);
  for (guint i = 0; i < msgs->len; i++)
    {
      const Msg *m = &g_array_index (msgs, Msg, i);
      long double d = strata_sync_transform_map_from (&ex.transform, m->x, X0) - truth_y_rel (t, m->x);

      g_assert_cmpfloat ((double) fabsl (d), <=, ex.accuracy_ns + 1e-3);
    }

  /* The two are nearly inverse of each other (each is the bisector in
   * its own frame, so not exactly). */
  g_assert_cmpfloat (fabs (ey.transform.a * ex.transform.a - 1.0), <, 1e-7);
}

static void
test_recovers_line (void)
{
  /* Drifts at both ends of what clocks do, offsets of ms to hours */
  static const Truth truths[] = {
    { X0 + 123456789, 3, 20000 },                          /* +150 ppm */
    { X0 - G_GINT64_CONSTANT (7200000000000), -1, 5000 },  /* −200 ppm */
    { X0 + 5, 0, 1 },                                      /* no drift */
    { X0 + 40000000, 1, 1000000 },                         /* +1 ppm */
  };

  for (guint i = 0; i < G_N_ELEMENTS (truths); i++)
    {
      /* 20000 messages, every ~3 ms for a minute, latencies 2 to 50 µs */
      g_autoptr(GArray) msgs = make_messages (&truths[i], 20000, 3000000, 2000, 50000, 17 + i);
      const Msg *last = &g_array_index (msgs, Msg, msgs->len - 1);

      check_against_truth (&truths[i], msgs, X0, last->x + 1000000);
    }
}

/* Much more accurate with short latencies: the accuracy follows them. */
static void
test_accuracy_follows_latency (void)
{
  static const Truth truth = { X0 + 999, 7, 100000 };
  g_autoptr(GArray) slow = make_messages (&truth, 5000, 2000000, 20000, 200000, 3);
  g_autoptr(GArray) fast = make_messages (&truth, 5000, 2000000, 100, 1000, 3);
  g_autoptr(StrataSyncHull) hull_slow = hull_of (slow);
  g_autoptr(StrataSyncHull) hull_fast = hull_of (fast);
  gint64 end = g_array_index (slow, Msg, slow->len - 1).x;
  StrataSyncEstimate es, ef;

  strata_sync_hull_estimate (hull_slow, STRATA_SYNC_SIDE_Y, truth.y0, end, &es);
  strata_sync_hull_estimate (hull_fast, STRATA_SYNC_SIDE_Y, truth.y0, end, &ef);
  g_test_message ("accuracy %.1f ns (latencies 20-200 µs), %.1f ns (0.1-1 µs)",
                  es.accuracy_ns, ef.accuracy_ns);
  g_assert_cmpfloat (ef.accuracy_ns, <, 1000.0);
  g_assert_cmpfloat (es.accuracy_ns, >, 10 * ef.accuracy_ns);

  check_against_truth (&truth, fast, X0, end);
  check_against_truth (&truth, slow, X0, end);
}

/* Extended Euclid: u, v with u·a − v·b = −1 (gcd(a, b) = 1), 0 < v < a */
static void
bezout (__int128  a,
        __int128  b,
        __int128 *u,
        __int128 *v)
{
  __int128 r0 = a, r1 = b, s0 = 1, s1 = 0, t0 = 0, t1 = 1;

  while (r1 != 0)
    {
      __int128 qq = r0 / r1, tmp;

      tmp = r0 - qq * r1, r0 = r1, r1 = tmp;
      tmp = s0 - qq * s1, s0 = s1, s1 = tmp;
      tmp = t0 - qq * t1, t0 = t1, t1 = tmp;
    }
  /* s0·a + t0·b = 1: u·a − v·b = −1 with u = −s0, v = t0, shifted into range */
  *u = -s0;
  *v = t0;
  while (*v <= 0)
    *v += a, *u += b;
  while (*v >= a)
    *v -= a, *u -= b;
}

/*
 * Whether a point is on, above or below the segment of two hull points
 * is decided exactly, even when the answer is one unit in products of
 * 2^120: a long double (64-bit mantissa) would get these wrong.
 */
static void
test_exact_arithmetic (void)
{
  const gint64 dx = (G_GINT64_CONSTANT (1) << 60) + 1;
  const gint64 dy = (G_GINT64_CONSTANT (1) << 60) + 3;
  __int128 u, v;
  gint64 mx, my;

  /* (mx, my) with my·dx − mx·dy = −1: one unit of cross product below
   * the segment from (0, 0) to (dx, dy) */
  bezout (dx, dy, &u, &v);
  mx = (gint64) v;
  my = (gint64) u;
  g_assert_true ((__int128) my * dx - (__int128) mx * dy == -1);
  g_assert_cmpint (mx, >, 0);
  g_assert_cmpint (mx, <, dx);

  for (int d = 0; d < 2; d++)
    {
      /* Below the line for messages X → Y (lower hull); mirrored, above it
       * for Y → X (upper hull) */
      StrataSyncDirection direction = d == 0 ? STRATA_SYNC_X_TO_Y : STRATA_SYNC_Y_TO_X;
      int sign = d == 0 ? 1 : -1;
      g_autoptr(StrataSyncHull) hull = strata_sync_hull_new ();
      g_autoptr(StrataSyncHull) on = strata_sync_hull_new ();

      strata_sync_hull_add (hull, X0, X0, direction);
      strata_sync_hull_add (hull, X0 + dx, X0 + sign * dy, direction);
      g_assert_cmpuint (strata_sync_hull_get_n_points (hull), ==, 2);

      /* One unit above the segment (for the lower hull): inside, dropped */
      strata_sync_hull_add (hull, X0 + mx, X0 + sign * (my + 1), direction);
      g_assert_cmpuint (strata_sync_hull_get_n_points (hull), ==, 2);
      /* One unit below: a new hull point */
      strata_sync_hull_add (hull, X0 + mx, X0 + sign * my, direction);
      g_assert_cmpuint (strata_sync_hull_get_n_points (hull), ==, 3);

      /* Exactly on a segment: dropped (it bounds nothing new) */
      strata_sync_hull_add (on, X0, X0, direction);
      strata_sync_hull_add (on, X0 + 2 * (dx / 2), X0 + sign * 2 * (dy / 2), direction);
      strata_sync_hull_add (on, X0 + dx / 2, X0 + sign * (dy / 2), direction);
      g_assert_cmpuint (strata_sync_hull_get_n_points (on), ==, 2);
    }
}

/* Lines that separate the two directions only at a slope bound that is
 * exact: a pair exactly on the limit is accurate, one unit past is fail. */
static void
test_exact_crossing (void)
{
  for (int past = 0; past < 2; past++)
    {
      g_autoptr(StrataSyncHull) hull = strata_sync_hull_new ();
      const gint64 big = (G_GINT64_CONSTANT (1) << 59) + 7;

      /* Y → X at x = 0 and x = 2·big on the line y = x; X → Y received
       * exactly on it in the middle, then one unit below it. */
      strata_sync_hull_add (hull, X0, X0, STRATA_SYNC_Y_TO_X);
      strata_sync_hull_add (hull, X0 + 2 * big, X0 + 2 * big, STRATA_SYNC_Y_TO_X);
      strata_sync_hull_add (hull, X0 + big, X0 + big - past, STRATA_SYNC_X_TO_Y);
      /* On the limit, one slope is left (exactly 1): bounded both ways */
      g_assert_cmpint (strata_sync_hull_get_quality (hull), ==,
                       past ? STRATA_SYNC_QUALITY_FAIL : STRATA_SYNC_QUALITY_ACCURATE);
    }
}

static void
test_absent (void)
{
  g_autoptr(StrataSyncHull) hull = strata_sync_hull_new ();
  StrataSyncEstimate e;

  g_assert_cmpint (strata_sync_hull_get_quality (hull), ==, STRATA_SYNC_QUALITY_ABSENT);
  strata_sync_hull_estimate (hull, STRATA_SYNC_SIDE_Y, X0, X0 + 1000, &e);
  g_assert_cmpint (e.quality, ==, STRATA_SYNC_QUALITY_ABSENT);
  g_assert_true (strata_sync_transform_is_identity (&e.transform));
  g_assert_cmpint (strata_sync_transform_apply (&e.transform, X0 + 12345), ==, X0 + 12345);
  g_assert_true (isinf (e.accuracy_ns));
  g_assert_true (isinf (e.a_min) && isinf (e.a_max) && isinf (e.b_min) && isinf (e.b_max));
}

/* Messages one way: the offset is bounded on that side only; the
 * estimate is slope 1 through the tightest point. */
static void
test_one_direction (void)
{
  static const Truth truth = { X0 + 5000000, 1, 10000 };
  g_autoptr(GArray) msgs = make_messages (&truth, 400, 1000000, 2000, 9000, 5);
  g_autoptr(StrataSyncHull) hull = strata_sync_hull_new ();
  gint64 min_gap = G_MAXINT64;
  guint n = 0;
  StrataSyncEstimate e;

  for (guint i = 0; i < msgs->len; i++)
    {
      const Msg *m = &g_array_index (msgs, Msg, i);

      if (m->direction != STRATA_SYNC_X_TO_Y)
        continue;
      strata_sync_hull_add (hull, m->x, m->y, m->direction);
      min_gap = MIN (min_gap, m->y - m->x);
      n++;
    }
  g_assert_cmpuint (n, >, 100);

  g_assert_cmpint (strata_sync_hull_get_quality (hull), ==, STRATA_SYNC_QUALITY_INCOMPLETE);
  g_assert_cmpuint (strata_sync_hull_get_n_matches (hull, STRATA_SYNC_Y_TO_X), ==, 0);
  strata_sync_hull_estimate (hull, STRATA_SYNC_SIDE_Y, X0, X0 + 1000000000, &e);
  g_assert_cmpint (e.quality, ==, STRATA_SYNC_QUALITY_INCOMPLETE);
  g_assert_cmpfloat (e.transform.a, ==, 1.0);
  /* t_X = t_Y − min(y − x): the last instant every message was sent by */
  g_assert_cmpint (strata_sync_transform_apply (&e.transform, X0 + 777), ==, X0 + 777 - min_gap);
  g_assert_true (isinf (e.accuracy_ns));
}

static void
test_single_match (void)
{
  g_autoptr(StrataSyncHull) hull = strata_sync_hull_new ();
  StrataSyncEstimate e;

  strata_sync_hull_add (hull, X0 + 100, X0 + 5000, STRATA_SYNC_Y_TO_X);
  g_assert_cmpint (strata_sync_hull_get_quality (hull), ==, STRATA_SYNC_QUALITY_INCOMPLETE);
  g_assert_cmpuint (strata_sync_hull_get_n_points (hull), ==, 1);

  /* Y's clock to X's: the receive time is the send time's image */
  strata_sync_hull_estimate (hull, STRATA_SYNC_SIDE_Y, X0, X0 + 10000, &e);
  g_assert_cmpint (strata_sync_transform_apply (&e.transform, X0 + 5000), ==, X0 + 100);
  strata_sync_hull_estimate (hull, STRATA_SYNC_SIDE_X, X0, X0 + 10000, &e);
  g_assert_cmpint (strata_sync_transform_apply (&e.transform, X0 + 100), ==, X0 + 5000);
}

/* One message each way: the offset is bounded, the drift is not. */
static void
test_one_each_way (void)
{
  g_autoptr(StrataSyncHull) hull = strata_sync_hull_new ();
  StrataSyncEstimate e;
  gint64 sent, received;

  /* Y ≈ X + 1000 (± latencies of 10 and 30) */
  strata_sync_hull_add (hull, X0, X0 + 1000 + 10, STRATA_SYNC_X_TO_Y);
  strata_sync_hull_add (hull, X0 + 500000 + 30, X0 + 1000 + 500000, STRATA_SYNC_Y_TO_X);

  g_assert_cmpint (strata_sync_hull_get_quality (hull), ==, STRATA_SYNC_QUALITY_APPROXIMATE);
  strata_sync_hull_estimate (hull, STRATA_SYNC_SIDE_Y, X0, X0 + 600000, &e);
  g_assert_cmpint (e.quality, ==, STRATA_SYNC_QUALITY_APPROXIMATE);
  g_assert_true (isinf (e.accuracy_ns));

  /* Slope 1 is allowed: it is used, with the middle of the offsets */
  g_assert_cmpfloat (e.transform.a, ==, 1.0);
  /* Each message is received after it was sent, once mapped */
  sent = X0;
  received = strata_sync_transform_apply (&e.transform, X0 + 1010);
  g_assert_cmpint (received, >, sent);
  sent = strata_sync_transform_apply (&e.transform, X0 + 501000);
  g_assert_cmpint (X0 + 500030, >, sent);
  /* At slope 1, y − x lies in [970, 1010]: the middle is 990 */
  g_assert_cmpint (strata_sync_transform_apply (&e.transform, X0 + 2000), ==, X0 + 2000 - 990);
}

/* Inconsistent messages: the hull fails at the first one and keeps the
 * estimate of those before it. */
static void
test_crossing_fails (void)
{
  static const Truth truth = { X0 + 3000000, -3, 20000 };
  g_autoptr(GArray) msgs = make_messages (&truth, 2000, 1000000, 1000, 20000, 9);
  g_autoptr(StrataSyncHull) hull = strata_sync_hull_new ();
  g_autoptr(StrataSyncHull) before = strata_sync_hull_new ();
  StrataSyncEstimate e_before, e;
  guint64 index;
  gint64 x, y, bad_x;
  StrataSyncDirection direction;
  guint half = msgs->len / 2;

  for (guint i = 0; i < half; i++)
    {
      const Msg *m = &g_array_index (msgs, Msg, i);

      strata_sync_hull_add (hull, m->x, m->y, m->direction);
      strata_sync_hull_add (before, m->x, m->y, m->direction);
    }
  g_assert_cmpint (strata_sync_hull_get_quality (hull), ==, STRATA_SYNC_QUALITY_ACCURATE);
  g_assert_false (strata_sync_hull_get_failure (hull, NULL, NULL, NULL, NULL));

  /* A message X → Y received 1 ms before it was sent: a wrong match */
  bad_x = g_array_index (msgs, Msg, half).x;
  strata_sync_hull_add (hull, bad_x, truth_y_floor (&truth, bad_x) - 1000000, STRATA_SYNC_X_TO_Y);
  g_assert_cmpint (strata_sync_hull_get_quality (hull), ==, STRATA_SYNC_QUALITY_FAIL);
  g_assert_true (strata_sync_hull_get_failure (hull, &index, &x, &y, &direction));
  g_assert_cmpuint (index, ==, half);
  g_assert_cmpint (x, ==, bad_x);
  g_assert_cmpint (direction, ==, STRATA_SYNC_X_TO_Y);

  /* Later messages, good or not, are counted and change nothing */
  for (guint i = half; i < msgs->len; i++)
    {
      const Msg *m = &g_array_index (msgs, Msg, i);
      strata_sync_hull_add (hull, m->x, m->y, m->direction);
    }
  g_assert_cmpuint (strata_sync_hull_get_n_matches (hull, STRATA_SYNC_X_TO_Y)
                    + strata_sync_hull_get_n_matches (hull, STRATA_SYNC_Y_TO_X), ==, msgs->len + 1);

  strata_sync_hull_estimate (before, STRATA_SYNC_SIDE_Y, X0, bad_x, &e_before);
  strata_sync_hull_estimate (hull, STRATA_SYNC_SIDE_Y, X0, bad_x, &e);
  g_assert_cmpint (e.quality, ==, STRATA_SYNC_QUALITY_FAIL);
  g_assert_cmpint (e.inner_quality, ==, STRATA_SYNC_QUALITY_ACCURATE);
  g_assert_cmpfloat (e.transform.a, ==, e_before.transform.a);
  g_assert_cmpint (e.transform.ref_origin, ==, e_before.transform.ref_origin);
  g_assert_cmpfloat (e.transform.ref_frac, ==, e_before.transform.ref_frac);
  g_assert_cmpfloat (e.accuracy_ns, ==, e_before.accuracy_ns);
}

/* Two directions whose lines cross from the start: fail at once */
static void
test_crossing_from_start (void)
{
  g_autoptr(StrataSyncHull) hull = strata_sync_hull_new ();
  StrataSyncEstimate e;

  /* The first two messages allow only slopes >= 1.5; the third only
   * slopes <= 0.3 */
  strata_sync_hull_add (hull, X0, X0 + 500, STRATA_SYNC_X_TO_Y);
  strata_sync_hull_add (hull, X0 + 1000, X0 + 2000, STRATA_SYNC_Y_TO_X);
  g_assert_cmpint (strata_sync_hull_get_quality (hull), ==, STRATA_SYNC_QUALITY_APPROXIMATE);
  strata_sync_hull_add (hull, X0 + 2000, X0 + 2300, STRATA_SYNC_X_TO_Y);
  strata_sync_hull_add (hull, X0 + 3000, X0 + 4000, STRATA_SYNC_Y_TO_X);
  g_assert_cmpint (strata_sync_hull_get_quality (hull), ==, STRATA_SYNC_QUALITY_FAIL);
  strata_sync_hull_estimate (hull, STRATA_SYNC_SIDE_Y, X0, X0 + 5000, &e);
  g_assert_cmpint (e.quality, ==, STRATA_SYNC_QUALITY_FAIL);
}

/* The hull does not depend on the order of the messages. */
static void
test_any_order (void)
{
  static const Truth truth = { X0 - 77777, 11, 100000 };
  g_autoptr(GArray) msgs = make_messages (&truth, 3000, 1000000, 500, 30000, 21);
  g_autoptr(GArray) shuffled = g_array_copy (msgs);
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  g_autoptr(StrataSyncHull) a = NULL;
  g_autoptr(StrataSyncHull) b = NULL;
  StrataSyncEstimate ea, eb;
  gint64 end = g_array_index (msgs, Msg, msgs->len - 1).x;

  for (guint i = shuffled->len - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, (gint32) i + 1);
      Msg tmp = g_array_index (shuffled, Msg, i);

      g_array_index (shuffled, Msg, i) = g_array_index (shuffled, Msg, j);
      g_array_index (shuffled, Msg, j) = tmp;
    }

  a = hull_of (msgs);
  b = hull_of (shuffled);
  g_assert_cmpuint (strata_sync_hull_get_n_points (a), ==, strata_sync_hull_get_n_points (b));
  strata_sync_hull_estimate (a, STRATA_SYNC_SIDE_Y, truth.y0, end, &ea);
  strata_sync_hull_estimate (b, STRATA_SYNC_SIDE_Y, truth.y0, end, &eb);
  g_assert_cmpint (ea.quality, ==, STRATA_SYNC_QUALITY_ACCURATE);
  g_assert_cmpint (eb.quality, ==, STRATA_SYNC_QUALITY_ACCURATE);
  g_assert_cmpfloat (fabs (ea.transform.a - eb.transform.a), <, 1e-15);
  g_assert_cmpfloat (fabsl (strata_sync_transform_map_from (&ea.transform, end, X0)
                            - strata_sync_transform_map_from (&eb.transform, end, X0)), <, 1e-3);
  g_assert_cmpfloat (fabs (ea.accuracy_ns - eb.accuracy_ns), <, 1e-3);
}

/* ---------------------------------------------------------------------- */
/* Transforms                                                             */
/* ---------------------------------------------------------------------- */

/* Applying at absolute times loses no nanosecond: a = 1 + 2^-13 is exact,
 * so the true image is an exact rational. */
static void
test_transform_apply (void)
{
  StrataSyncTransform t;
  const double a = 1.0 + 1.0 / 8192.0;

  strata_sync_transform_init (&t, a, X0, X0 + 31, 0.25L);
  g_assert_cmpint (t.ref_origin, ==, X0 + 31);
  g_assert_cmpfloat (t.ref_frac, ==, 0.25);

  for (gint64 dt = -5000000000; dt <= 5000000000; dt += 123456789)
    {
      /* exact image − (X0 + 31) = 0.25 + dt + dt/8192, in 1/8192ths */
      __int128 num = (__int128) 2048 + (__int128) dt * 8193;
      __int128 rounded = (num + 4096) / 8192 - ((num + 4096) % 8192 < 0);

      g_assert_cmpint (strata_sync_transform_apply (&t, X0 + dt), ==, X0 + 31 + (gint64) rounded);
    }

  /* b: the image of 0, at 1.4e18 × 2^-13 away; a long double holds it */
  g_assert_cmpfloat (fabsl (strata_sync_transform_get_b (&t)
                            - (31.25L - (long double) X0 / 8192.0L)), <, 1.0);

  /* A negative fraction: X0 − 0.75 is X0 − 1 + 0.25, nearest X0 − 1 */
  strata_sync_transform_init (&t, 1.0, X0, X0, -0.75L);
  g_assert_cmpint (t.ref_origin, ==, X0 - 1);
  g_assert_cmpfloat (t.ref_frac, ==, 0.25);
  g_assert_cmpint (strata_sync_transform_apply (&t, X0), ==, X0 - 1);
  g_assert_cmpint (strata_sync_transform_apply (&t, X0 + 1), ==, X0);
}

static void
test_transform_compose (void)
{
  StrataSyncTransform inner, outer, both, offset, id;

  /* inner: guest L2 → L1, outer: L1 → host, each with its drift */
  strata_sync_transform_init (&inner, 1.0 - 150e-6, X0 + 10, X0 - 5000000, 0.4L);
  strata_sync_transform_init (&outer, 1.0 + 80e-6, X0 - 7000000, X0 + 3000000, 0.9L);
  strata_sync_transform_compose (&outer, &inner, &both);

  for (gint64 t = X0 - 20000000000; t < X0 + 20000000000; t += 987654321)
    {
      long double mid = strata_sync_transform_map_from (&inner, t, X0);
      long double expected = (long double) (outer.ref_origin - X0) + outer.ref_frac
                             + (long double) outer.a * (mid - (long double) (outer.origin - X0));
      long double got = strata_sync_transform_map_from (&both, t, X0);

      g_assert_cmpfloat ((double) fabsl (got - expected), <, 1e-3);
    }
  g_assert_cmpfloat (both.a, ==, outer.a * inner.a);

  /* The identity and offsets compose as they should */
  strata_sync_transform_init_identity (&id);
  strata_sync_transform_compose (&id, &inner, &both);
  g_assert_cmpint (strata_sync_transform_apply (&both, X0 + 999), ==,
                   strata_sync_transform_apply (&inner, X0 + 999));
  strata_sync_transform_init_offset (&offset, -42);
  strata_sync_transform_compose (&offset, &inner, &both);
  g_assert_cmpint (strata_sync_transform_apply (&both, X0 + 999), ==,
                   strata_sync_transform_apply (&inner, X0 + 999) - 42);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/strata/sync/hull/recovers-line", test_recovers_line);
  g_test_add_func ("/strata/sync/hull/accuracy-follows-latency", test_accuracy_follows_latency);
  g_test_add_func ("/strata/sync/hull/exact-arithmetic", test_exact_arithmetic);
  g_test_add_func ("/strata/sync/hull/exact-crossing", test_exact_crossing);
  g_test_add_func ("/strata/sync/hull/absent", test_absent);
  g_test_add_func ("/strata/sync/hull/one-direction", test_one_direction);
  g_test_add_func ("/strata/sync/hull/single-match", test_single_match);
  g_test_add_func ("/strata/sync/hull/one-each-way", test_one_each_way);
  g_test_add_func ("/strata/sync/hull/crossing-fails", test_crossing_fails);
  g_test_add_func ("/strata/sync/hull/crossing-from-start", test_crossing_from_start);
  g_test_add_func ("/strata/sync/hull/any-order", test_any_order);
  g_test_add_func ("/strata/sync/transform/apply", test_transform_apply);
  g_test_add_func ("/strata/sync/transform/compose", test_transform_compose);

  return g_test_run ();
}
