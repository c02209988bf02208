/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-bench-render"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "strata-render-painter.h"

/*
 * A frame of the fused view, as a view makes it: the model's 2D query
 * (one bin per pixel) and the painting of its rows on an image surface,
 * for the physical CPU rows of the first host (64 on `simulate --scale
 * 16`) at 1920 pixels. Prints the median, 90th percentile and worst of
 * N frames (default 50), each a whole recomputation, for:
 *
 *   full    the whole history
 *   zoom    1/1000 of it, at N places spread over the history
 *   pan     a pan by 10 % of the width at 1/1000 (only the new columns
 *           are queried)
 *   hl      full, with a highlight of one VM painted over it
 *
 * and the first frame after opening (node cache empty; the file is in
 * the page cache if it was read recently).
 *
 * Usage: bench-render SHT [FRAMES] [WIDTH] [ROWS]
 */

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

typedef struct
{
  GArray *query;
  GArray *paint;
  GArray *total;
} Times;

static void
times_init (Times *t)
{
  t->query = g_array_new (FALSE, FALSE, sizeof (gint64));
  t->paint = g_array_new (FALSE, FALSE, sizeof (gint64));
  t->total = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
times_clear (Times *t)
{
  g_array_unref (t->query);
  g_array_unref (t->paint);
  g_array_unref (t->total);
}

static double
pct (GArray *a,
     double  p)
{
  guint i;

  g_array_sort (a, compare_gint64);
  i = (guint) MIN ((double) (a->len - 1), p * (a->len - 1) + 0.5);
  return g_array_index (a, gint64, i) / 1e6;
}

static void
report (const char *name,
        Times      *t,
        guint       columns)
{
  printf ("%-6s  query %6.2f ms (p90 %6.2f)  paint %6.2f ms (p90 %6.2f)  frame %6.2f ms (p90 %6.2f, max %6.2f)"
          "  %u columns queried\n",
          name, pct (t->query, 0.5), pct (t->query, 0.9), pct (t->paint, 0.5), pct (t->paint, 0.9),
          pct (t->total, 0.5), pct (t->total, 0.9), pct (t->total, 1.0), columns);
}

static gboolean
frame (StrataTimeGraph     *model,
       StrataRenderPainter *painter,
       cairo_t             *cr,
       StrataHighlight     *highlight,
       gint64               t0,
       gint64               t1,
       guint                width,
       gboolean             whole,
       Times               *times)
{
  g_autoptr(GError) error = NULL;
  gint64 a, b, c;
  guint n = strata_time_graph_get_n_rows (model);

  if (whole)
    strata_time_graph_invalidate (model);
  a = now_ns ();
  if (!strata_time_graph_update (model, t0, t1, width, &error))
    {
      fprintf (stderr, "bench-render: %s\n", error->message);
      return FALSE;
    }
  b = now_ns ();
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  strata_render_painter_paint_rows (painter, cr, model, 0, n);
  strata_render_painter_paint_highlight (painter, cr, model, highlight, 0, n);
  cairo_surface_flush (cairo_get_target (cr));
  c = now_ns ();
  g_array_append_val (times->query, (gint64) { b - a });
  g_array_append_val (times->paint, (gint64) { c - b });
  g_array_append_val (times->total, (gint64) { c - a });
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataAnalysis) analysis = NULL;
  g_autoptr(StrataRenderScope) scope = NULL;
  g_autoptr(StrataRenderRows) rows = NULL;
  g_autoptr(StrataTimeGraph) model = NULL;
  g_autoptr(StrataRenderPainter) painter = NULL;
  g_autoptr(StrataHighlight) none = strata_highlight_new ();
  g_autoptr(StrataHighlight) one_vm = strata_highlight_new ();
  g_autoptr(GArray) visible = g_array_new (FALSE, FALSE, sizeof (guint));
  StrataShtStats stats;
  cairo_surface_t *surface;
  cairo_t *cr;
  guint frames, width, max_rows;
  gint64 start, end, span, t_open;
  Times full, zoom, pan, hl, cold;
  guint pan_columns = 0;

  if (argc < 2)
    {
      fprintf (stderr, "Usage: bench-render SHT [FRAMES] [WIDTH] [ROWS]\n");
      return 2;
    }
  frames = argc > 2 ? (guint) atoi (argv[2]) : 50;
  width = argc > 3 ? (guint) atoi (argv[3]) : 1920;
  max_rows = argc > 4 ? (guint) atoi (argv[4]) : 64;

  t_open = now_ns ();
  analysis = strata_analysis_open (argv[1], 0, &error);
  if (analysis == NULL)
    {
      fprintf (stderr, "bench-render: %s\n", error->message);
      return 1;
    }
  scope = strata_render_scope_new (analysis, NULL, &error);
  if (scope == NULL)
    {
      fprintf (stderr, "bench-render: %s\n", error->message);
      return 1;
    }
  t_open = now_ns () - t_open;
  rows = strata_render_rows_new (scope, STRATA_RENDER_VIEW_FVS, STRATA_RENDER_THREADS_BY_TID, NULL);
  /* The first host's physical CPUs: the rows a fused view opens on */
  for (guint i = 0; i < strata_render_rows_get_n_rows (rows) && visible->len < max_rows; i++)
    {
      const StrataRenderRow *row = strata_render_rows_get_row (rows, i);

      if (row->kind == STRATA_RENDER_ROW_PCPU && row->filter.kind == STRATA_RENDER_FILTER_NONE)
        g_array_append_val (visible, i);
    }
  model = strata_time_graph_new (rows);
  strata_time_graph_set_visible_rows (model, (const guint *) (gpointer) visible->data, visible->len);
  painter = strata_render_painter_new (NULL);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) width,
                                        (int) (visible->len * strata_render_painter_get_style (painter)->row_height));
  cr = cairo_create (surface);
  {
    StrataHighlightItem item = { STRATA_HIGHLIGHT_MACHINE, strata_analysis_get_n_machines (analysis) > 1 ? 1 : 0, -1, -1 };

    strata_highlight_add (one_vm, &item);
  }

  strata_sht_get_stats (strata_analysis_get_sht (analysis), &stats);
  start = strata_analysis_get_start_time (analysis);
  end = strata_analysis_get_end_time (analysis);
  span = end - start;
  printf ("%s: %" G_GUINT64_FORMAT " intervals, %.0f MiB, %.3f s of history, %u threads; %u rows x %u px; "
          "opened in %.1f ms\n",
          argv[1], stats.n_intervals, stats.file_bytes / 1048576.0, span / 1e9,
          strata_render_scope_get_n_threads (scope), visible->len, width, t_open / 1e6);

  times_init (&cold);
  times_init (&full);
  times_init (&zoom);
  times_init (&pan);
  times_init (&hl);

  if (!frame (model, painter, cr, none, start, end, width, TRUE, &cold))
    return 1;
  for (guint i = 0; i < frames; i++)
    if (!frame (model, painter, cr, none, start, end, width, TRUE, &full))
      return 1;
  for (guint i = 0; i < frames; i++)
    {
      gint64 t0 = start + (span - span / 1000) / MAX (frames - 1, 1) * i;

      if (!frame (model, painter, cr, none, t0, t0 + span / 1000, width, TRUE, &zoom))
        return 1;
    }
  {
    gint64 w = span / 1000;
    gint64 t0 = start + span / 3;
    gint64 res;

    if (!frame (model, painter, cr, none, t0, t0 + w, width, TRUE, &cold))
      return 1;
    res = strata_time_graph_get_resolution (model);
    for (guint i = 0; i < frames; i++)
      {
        t0 += res * (width / 10);
        if (!frame (model, painter, cr, none, t0, t0 + w, width, FALSE, &pan))
          return 1;
        pan_columns = strata_time_graph_get_n_queried_columns (model);
      }
  }
  for (guint i = 0; i < frames; i++)
    if (!frame (model, painter, cr, one_vm, start, end, width, TRUE, &hl))
      return 1;

  printf ("first   frame %6.2f ms (node cache empty)\n", g_array_index (cold.total, gint64, 0) / 1e6);
  report ("full", &full, width);
  report ("zoom", &zoom, width);
  report ("pan", &pan, pan_columns);
  report ("hl", &hl, width);

  if (argc > 5)
    cairo_surface_write_to_png (surface, argv[5]);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  times_clear (&cold);
  times_clear (&full);
  times_clear (&zoom);
  times_clear (&pan);
  times_clear (&hl);
  return 0;
}
