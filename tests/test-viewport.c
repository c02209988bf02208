/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "strata-viewport.h"

/* The time axis every view of a window shares: zoom, pan, bounds,
 * history, selection and cursor. */

static void
count_cb (gpointer  object,
          guint    *count)
{
  (*count)++;
}

static void
test_zoom_pan (void)
{
  g_autoptr(StrataViewport) v = strata_viewport_new ();
  guint changes = 0;

  g_signal_connect (v, "range-changed", G_CALLBACK (count_cb), &changes);
  strata_viewport_set_bounds (v, 1000, 1000 + 1000000);
  /* Showing everything, it follows the bounds */
  g_assert_cmpint (strata_viewport_get_start (v), ==, 1000);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 1001000);
  g_assert_cmpuint (changes, ==, 1);

  /* Zoom in ×4 around the middle: the middle stays where it was */
  strata_viewport_zoom (v, 4, 501000);
  g_assert_cmpint (strata_viewport_get_start (v), ==, 501000 - 125000);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 501000 + 125000);
  /* Around the left edge: it stays at the left */
  strata_viewport_zoom (v, 2, strata_viewport_get_start (v));
  g_assert_cmpint (strata_viewport_get_start (v), ==, 376000);
  g_assert_cmpint (strata_viewport_get_end (v) - strata_viewport_get_start (v), ==, 125000);

  /* Pan, clamped at the bounds without shrinking */
  strata_viewport_pan (v, -10000000);
  g_assert_cmpint (strata_viewport_get_start (v), ==, 1000);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 126000);
  strata_viewport_pan_fraction (v, 0.1);
  g_assert_cmpint (strata_viewport_get_start (v), ==, 13500);
  strata_viewport_pan (v, 10000000);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 1001000);

  /* Zoom out past everything: everything */
  strata_viewport_zoom (v, 0.001, 500000);
  g_assert_cmpint (strata_viewport_get_start (v), ==, 1000);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 1001000);

  /* Never narrower than the minimum */
  strata_viewport_zoom (v, 1e9, 500000);
  g_assert_cmpint (strata_viewport_get_end (v) - strata_viewport_get_start (v), ==, STRATA_VIEWPORT_MIN_SPAN);

  /* Pixels and times */
  strata_viewport_set_range (v, 1000, 2000, FALSE);
  g_assert_cmpint (strata_viewport_x_to_time (v, 50, 100), ==, 1500);
  g_assert_cmpfloat_with_epsilon (strata_viewport_time_to_x (v, 1750, 100), 75, 1e-9);
}

static void
test_history (void)
{
  g_autoptr(StrataViewport) v = strata_viewport_new ();

  strata_viewport_set_bounds (v, 0, 1000000);
  g_assert_false (strata_viewport_can_go_back (v));
  strata_viewport_zoom (v, 10, 500000);
  strata_viewport_zoom (v, 10, 500000);
  g_assert_true (strata_viewport_can_go_back (v));
  g_assert_cmpint (strata_viewport_get_end (v) - strata_viewport_get_start (v), ==, 10000);

  /* Panning is not remembered */
  strata_viewport_pan (v, 1000);
  g_assert_true (strata_viewport_go_back (v));
  g_assert_cmpint (strata_viewport_get_end (v) - strata_viewport_get_start (v), ==, 100000);
  g_assert_true (strata_viewport_can_go_forward (v));
  g_assert_true (strata_viewport_go_back (v));
  g_assert_cmpint (strata_viewport_get_start (v), ==, 0);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 1000000);
  g_assert_false (strata_viewport_go_back (v));
  g_assert_true (strata_viewport_go_forward (v));
  g_assert_cmpint (strata_viewport_get_end (v) - strata_viewport_get_start (v), ==, 100000);

  /* A new zoom forgets what was forward */
  strata_viewport_zoom (v, 2, 500000);
  g_assert_false (strata_viewport_can_go_forward (v));
}

static void
test_selection_cursor (void)
{
  g_autoptr(StrataViewport) v = strata_viewport_new ();
  gint64 start, end, t;
  guint selections = 0, cursors = 0;

  g_signal_connect (v, "selection-changed", G_CALLBACK (count_cb), &selections);
  g_signal_connect (v, "cursor-changed", G_CALLBACK (count_cb), &cursors);
  strata_viewport_set_bounds (v, 0, 1000000);

  g_assert_false (strata_viewport_zoom_to_selection (v));
  strata_viewport_set_selection (v, 600000, 200000);
  g_assert_true (strata_viewport_get_selection (v, &start, &end));
  g_assert_cmpint (start, ==, 200000);
  g_assert_cmpint (end, ==, 600000);
  g_assert_true (strata_viewport_zoom_to_selection (v));
  g_assert_cmpint (strata_viewport_get_start (v), ==, 200000);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 600000);
  strata_viewport_clear_selection (v);
  g_assert_false (strata_viewport_get_selection (v, NULL, NULL));
  g_assert_cmpuint (selections, ==, 2);

  /* Go to: centered, same zoom, cursor there */
  strata_viewport_go_to (v, 900000);
  g_assert_cmpint (strata_viewport_get_end (v) - strata_viewport_get_start (v), ==, 400000);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 1000000);
  g_assert_true (strata_viewport_get_cursor (v, &t));
  g_assert_cmpint (t, ==, 900000);
  strata_viewport_set_cursor (v, 5000000);
  strata_viewport_get_cursor (v, &t);
  g_assert_cmpint (t, ==, 1000000);
  g_assert_cmpuint (cursors, ==, 2);
}

static void
test_growing_bounds (void)
{
  g_autoptr(StrataViewport) v = strata_viewport_new ();

  /* An analysis in progress: a view showing all goes on showing all */
  strata_viewport_set_bounds (v, 0, 1000);
  strata_viewport_set_bounds (v, 0, 5000);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 5000);
  /* A zoomed view stays where it is */
  strata_viewport_set_range (v, 1000, 2000, TRUE);
  strata_viewport_set_bounds (v, 0, 9000);
  g_assert_cmpint (strata_viewport_get_start (v), ==, 1000);
  g_assert_cmpint (strata_viewport_get_end (v), ==, 2000);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/strata/viewport/zoom-pan", test_zoom_pan);
  g_test_add_func ("/strata/viewport/history", test_history);
  g_test_add_func ("/strata/viewport/selection-cursor", test_selection_cursor);
  g_test_add_func ("/strata/viewport/growing-bounds", test_growing_bounds);
  return g_test_run ();
}
