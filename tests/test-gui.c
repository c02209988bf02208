/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "strata-application.h"
#include "strata-render-painter.h"
#include "strata-test-utils.h"
#include "strata-timeline-view.h"
#include "strata-window.h"

/* The desktop application under Xvfb, on a simulated archive: the views
 * are rendered to PNG from inside the app and their pixels checked
 * against the simulation's ground truth. */

typedef struct
{
  int    cpu;
  gint64 start;
  gint64 end;
  char  *machine;
  char  *tid;
} TruthRow;

static char *tmp;
static char *archive;
static StrataApplication *app;
static StrataWindow *window;
static GArray *truth;   /* TruthRow, pcpu rows */

static void
truth_row_clear (gpointer data)
{
  TruthRow *row = data;

  g_free (row->machine);
  g_free (row->tid);
}

static void
load_truth (void)
{
  g_autofree char *path = g_build_filename (archive, "ground-truth.tsv", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", 0);
  truth = g_array_new (FALSE, FALSE, sizeof (TruthRow));
  g_array_set_clear_func (truth, truth_row_clear);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "\t", 0);
      TruthRow row;

      if (g_strv_length (f) < 11 || !g_str_equal (f[0], "pcpu"))
        continue;
      row.cpu = atoi (f[1]);
      row.start = g_ascii_strtoll (f[2], NULL, 10);
      row.end = g_ascii_strtoll (f[3], NULL, 10);
      row.machine = g_strdup (f[4]);
      row.tid = g_strdup (f[7]);
      g_array_append_val (truth, row);
    }
}

/* What ran on @cpu at @t, if no change is nearer than @margin */
static const TruthRow *
truth_at (int    cpu,
          gint64 t,
          gint64 margin)
{
  for (guint i = 0; i < truth->len; i++)
    {
      const TruthRow *row = &g_array_index (truth, TruthRow, i);

      if (row->cpu != cpu || t < row->start || t >= row->end)
        continue;
      if (t - row->start < margin || row->end - t < margin)
        return NULL;
      return row;
    }
  return NULL;
}

static void
wait_ms (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE), g_usleep (2000);
}

static cairo_surface_t *
render_view (const char *name,
             const char *file)
{
  g_autofree char *path = g_strdup_printf ("%s/%s.png", tmp, file);
  g_autoptr(GError) error = NULL;
  cairo_surface_t *surface;

  wait_ms (300);
  g_assert_true (strata_widget_save_png (strata_window_get_view (window, name), path, &error));
  g_assert_no_error (error);
  surface = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  return surface;
}

static void
pixel (cairo_surface_t *surface,
       int              x,
       int              y,
       double           rgb[3])
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  guint32 p;

  cairo_surface_flush (surface);
  p = *(const guint32 *) (gconstpointer) (data + y * stride + x * 4);
  rgb[0] = ((p >> 16) & 0xff) / 255.0;
  rgb[1] = ((p >> 8) & 0xff) / 255.0;
  rgb[2] = (p & 0xff) / 255.0;
}

static double
luminance (const double rgb[3])
{
  return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
}

/* ---------------------------------------------------------------------- */

static void
open_archive (void)
{
  const char *paths[] = { archive, NULL };
  gint64 deadline = g_get_monotonic_time () + 300 * G_USEC_PER_SEC;

  strata_window_open (window, paths, FALSE);
  while ((strata_window_is_busy (window) || strata_window_get_analysis (window) == NULL)
         && g_get_monotonic_time () < deadline && strata_window_get_error (window) == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (strata_window_get_error (window));
  g_assert_false (strata_window_is_busy (window));
  g_assert_nonnull (strata_window_get_analysis (window));
}

typedef struct
{
  guint  position;
  guint  x;
  int    machine;
  guint8 state;
  char  *tid;
  char  *truth_machine;
} Sample;

/* Columns of L0's physical CPU rows whose bin is one state, away from any
 * change, with what the ground truth says ran there */
static GArray *
sample_fvs (StrataTimelineView *view)
{
  StrataTimeGraph *model = strata_timeline_view_get_model (view);
  StrataAnalysis *analysis = strata_window_get_analysis (window);
  GArray *samples = g_array_new (FALSE, TRUE, sizeof (Sample));
  gint64 res = strata_time_graph_get_resolution (model);
  guint width = strata_time_graph_get_width (model);

  for (guint position = 0; position < strata_time_graph_get_n_rows (model); position++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, position);
      const StrataTimeGraphBin *bins = strata_time_graph_get_bins (model, position);
      double y;

      if (row->kind != STRATA_RENDER_ROW_PCPU || row->filter.kind != STRATA_RENDER_FILTER_NONE
          || !strata_timeline_view_row_y (view, position, &y))
        continue;
      for (guint x = 2; x + 2 < width; x += 3)
        {
          const TruthRow *t;
          Sample s = { 0 };

          if (bins[x].state == STRATA_TIME_GRAPH_BIN_EMPTY || bins[x].flags != 0
              || memcmp (&bins[x - 1], &bins[x], sizeof bins[x]) != 0
              || memcmp (&bins[x + 1], &bins[x], sizeof bins[x]) != 0)
            continue;
          t = truth_at (row->cpu, strata_time_graph_get_bin_time (model, x) + res / 2, 2 * res + 5000);
          if (t == NULL)
            continue;
          s.position = position;
          s.x = x;
          s.machine = bins[x].machine;
          s.state = bins[x].state;
          s.tid = g_strdup (t->tid);
          s.truth_machine = g_strdup (t->machine);
          /* The model says what the ground truth says */
          if (strata_analysis_find_machine (analysis, t->machine) != s.machine)
            g_error ("CPU %d at %" G_GINT64_FORMAT ": %s shown, %s ran", row->cpu,
                     strata_time_graph_get_bin_time (model, x),
                     strata_analysis_get_machine (analysis, (guint) s.machine)->name, t->machine);
          g_array_append_val (samples, s);
        }
    }
  return samples;
}

static void
samples_free (GArray *samples)
{
  for (guint i = 0; i < samples->len; i++)
    {
      g_free (g_array_index (samples, Sample, i).tid);
      g_free (g_array_index (samples, Sample, i).truth_machine);
    }
  g_array_unref (samples);
}

static void
test_fvs (void)
{
  StrataTimelineView *view = STRATA_TIMELINE_VIEW (strata_window_get_view (window, "fvs"));
  StrataAnalysis *analysis = strata_window_get_analysis (window);
  g_autoptr(StrataRenderPainter) painter = NULL;
  StrataRenderStyle style;
  cairo_surface_t *plain, *lit;
  StrataTimeGraph *model;
  GArray *samples;
  double plot_x;
  guint n_pcpu_rows = 0, n_checked = 0, n_dimmed = 0, n_kept = 0;
  int vm1 = strata_analysis_find_machine (analysis, "vm1");
  StrataHighlightItem item = { STRATA_HIGHLIGHT_MACHINE, vm1, -1, -1 };

  strata_window_show_view (window, "fvs");
  strata_window_set_color_by_machine (window, TRUE);
  /* A few ms, where a pixel is a µs or two: states span many pixels */
  {
    StrataViewport *viewport = strata_window_get_viewport (window);
    gint64 middle = (strata_viewport_get_start (viewport) + strata_viewport_get_end (viewport)) / 2;

    strata_viewport_set_range (viewport, middle, middle + 3000000, TRUE);
  }
  plain = render_view ("fvs", "fvs");
  model = strata_timeline_view_get_model (view);
  plot_x = strata_timeline_view_get_plot_x (view);

  /* A row for each physical CPU of the host */
  for (guint p = 0; p < strata_time_graph_get_n_rows (model); p++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);

      if (row->kind == STRATA_RENDER_ROW_PCPU && row->filter.kind == STRATA_RENDER_FILTER_NONE)
        n_pcpu_rows++;
    }
  g_assert_cmpuint (n_pcpu_rows, ==, strata_analysis_get_machine (analysis, 0)->n_cpus);

  /* Each machine's color exactly where the ground truth has it run */
  strata_render_style_init (&style);
  style.color_by = STRATA_RENDER_COLOR_BY_MACHINE;
  painter = strata_render_painter_new (&style);
  samples = sample_fvs (view);
  for (guint i = 0; i < samples->len; i++)
    {
      const Sample *s = &g_array_index (samples, Sample, i);
      double rgba[4], rgb[3], y;

      strata_timeline_view_row_y (view, s->position, &y);
      strata_render_painter_get_color (painter, STRATA_RENDER_ROW_PCPU, s->state, s->machine, rgba);
      pixel (plain, (int) (plot_x + s->x), (int) y, rgb);
      if (fabs (rgb[0] - rgba[0]) > 0.08 || fabs (rgb[1] - rgba[1]) > 0.08 || fabs (rgb[2] - rgba[2]) > 0.08)
        g_error ("row %u x %u: color (%.2f %.2f %.2f), %s's is (%.2f %.2f %.2f)", s->position, s->x,
                 rgb[0], rgb[1], rgb[2], s->truth_machine, rgba[0], rgba[1], rgba[2]);
      n_checked++;
    }
  g_test_message ("%u columns of physical CPU rows checked against the ground truth", n_checked);
  g_assert_cmpuint (n_checked, >, 100);

  /* Highlighting vm1: its execution keeps its pixels, the rest is dimmed */
  strata_highlight_add (strata_window_get_highlight (window), &item);
  strata_window_update_highlight (window);
  lit = render_view ("fvs", "fvs-highlight");
  for (guint i = 0; i < samples->len; i++)
    {
      const Sample *s = &g_array_index (samples, Sample, i);
      double before[3], after[3], y;
      gboolean selected = g_str_has_prefix (s->truth_machine, "vm1");

      strata_timeline_view_row_y (view, s->position, &y);
      pixel (plain, (int) (plot_x + s->x), (int) y, before);
      pixel (lit, (int) (plot_x + s->x), (int) y, after);
      if (selected)
        {
          g_assert_cmpfloat (fabs (luminance (after) - luminance (before)), <, 0.02);
          n_kept++;
        }
      else
        {
          g_assert_cmpfloat (luminance (after), >, luminance (before) + 0.1);
          n_dimmed++;
        }
    }
  g_assert_cmpuint (n_kept, >, 10);
  g_assert_cmpuint (n_dimmed, >, 10);

  /* A tooltip says what the ground truth says ran there */
  for (guint i = 0, n_tips = 0; i < samples->len && n_tips < 20; i++)
    {
      const Sample *s = &g_array_index (samples, Sample, i);
      g_autofree char *text = strata_timeline_view_dup_tooltip (view, s->position, s->x + 0.5);
      g_autofree char *tid = g_strdup_printf ("%s", s->tid);

      g_assert_nonnull (text);
      if (strstr (text, s->truth_machine) == NULL || strstr (text, tid) == NULL)
        g_error ("tooltip at row %u x %u says:\n%s\nbut %s (tid %s) ran there", s->position, s->x, text,
                 s->truth_machine, s->tid);
      n_tips++;
    }

  strata_highlight_remove_all (strata_window_get_highlight (window));
  strata_window_update_highlight (window);
  strata_window_set_color_by_machine (window, FALSE);
  strata_viewport_zoom_all (strata_window_get_viewport (window));
  samples_free (samples);
  cairo_surface_destroy (plain);
  cairo_surface_destroy (lit);
}

static void
test_other_views (void)
{
  StrataAnalysis *analysis = strata_window_get_analysis (window);
  StrataTimelineView *vcpus = STRATA_TIMELINE_VIEW (strata_window_get_view (window, "vcpus"));
  StrataTimelineView *threads = STRATA_TIMELINE_VIEW (strata_window_get_view (window, "threads"));
  cairo_surface_t *surface;
  guint n_vcpus = 0, n_rows = 0;

  for (guint m = 0; m < strata_analysis_get_n_machines (analysis); m++)
    if (strata_analysis_get_machine (analysis, m)->layer > 0)
      n_vcpus += strata_analysis_get_machine (analysis, m)->n_cpus;

  strata_window_show_view (window, "vcpus");
  surface = render_view ("vcpus", "vcpus");
  for (guint p = 0; p < strata_time_graph_get_n_rows (strata_timeline_view_get_model (vcpus)); p++)
    if (strata_time_graph_get_row (strata_timeline_view_get_model (vcpus), p)->kind == STRATA_RENDER_ROW_VCPU)
      n_rows++;
  g_assert_cmpuint (n_rows, ==, n_vcpus);
  cairo_surface_destroy (surface);

  strata_window_show_view (window, "threads");
  surface = render_view ("threads", "threads");
  g_assert_cmpuint (strata_time_graph_get_n_rows (strata_timeline_view_get_model (threads)), >, 20);
  cairo_surface_destroy (surface);
  strata_window_show_view (window, "fvs");
}

/* Zoom and pan change the range shown as asked */
static void
test_zoom_pan (void)
{
  GtkWidget *view = strata_window_get_view (window, "fvs");
  StrataViewport *viewport = strata_window_get_viewport (window);
  gint64 start, end, span;

  strata_viewport_zoom_all (viewport);
  start = strata_viewport_get_start (viewport);
  end = strata_viewport_get_end (viewport);
  span = end - start;

  g_assert_true (gtk_widget_activate_action (view, "view.zoom", "d", 2.0));
  g_assert_cmpint (llabs (strata_viewport_get_end (viewport) - strata_viewport_get_start (viewport) - span / 2), <=, 1);
  g_assert_true (gtk_widget_activate_action (view, "view.pan", "d", 0.1));
  g_assert_cmpint (llabs (strata_viewport_get_start (viewport) - (start + span / 4 + span / 20)), <=, 2);
  g_assert_true (gtk_widget_activate_action (view, "view.zoom", "d", 0.5));
  g_assert_cmpint (strata_viewport_get_end (viewport) - strata_viewport_get_start (viewport), ==, span);
  g_assert_true (gtk_widget_activate_action (view, "view.zoom-all", NULL));
  g_assert_cmpint (strata_viewport_get_start (viewport), ==, start);
  g_assert_true (strata_viewport_go_back (viewport));
}

/* The app's export is `strata-cli render` for the same range */
static void
test_export_matches_cli (void)
{
  StrataViewport *viewport = strata_window_get_viewport (window);
  g_autofree char *app_png = g_build_filename (tmp, "export-app.png", NULL);
  g_autofree char *cli_png = g_build_filename (tmp, "export-cli.png", NULL);
  g_autofree char *title = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autoptr(GError) error = NULL;
  cairo_surface_t *a, *b;
  StrataTestRun run;

  strata_window_show_view (window, "fvs");
  strata_viewport_zoom (viewport, 3, (strata_viewport_get_start (viewport) + strata_viewport_get_end (viewport)) / 2);
  title = strata_window_dup_export_title (window);
  g_assert_true (strata_window_export (window, app_png, 1200, &error));
  g_assert_no_error (error);

  from = g_strdup_printf ("%" G_GINT64_FORMAT, strata_viewport_get_start (viewport));
  to = g_strdup_printf ("%" G_GINT64_FORMAT, strata_viewport_get_end (viewport));
  strata_test_run_cli (&run, "render", "--view", "fvs", "--from", from, "--to", to, "--width", "1200",
                       "--title", title, "-o", cli_png, archive, NULL);
  if (run.status != 0)
    g_error ("strata-cli render: %s", run.err);
  strata_test_run_clear (&run);

  a = cairo_image_surface_create_from_png (app_png);
  b = cairo_image_surface_create_from_png (cli_png);
  g_assert_cmpint (cairo_surface_status (a), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_surface_status (b), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (a), ==, cairo_image_surface_get_width (b));
  g_assert_cmpint (cairo_image_surface_get_height (a), ==, cairo_image_surface_get_height (b));
  for (int y = 0; y < cairo_image_surface_get_height (a); y++)
    g_assert_cmpmem (cairo_image_surface_get_data (a) + y * cairo_image_surface_get_stride (a),
                     cairo_image_surface_get_width (a) * 4,
                     cairo_image_surface_get_data (b) + y * cairo_image_surface_get_stride (b),
                     cairo_image_surface_get_width (b) * 4);
  cairo_surface_destroy (a);
  cairo_surface_destroy (b);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  StrataTestRun run;
  int ret;

  /* Everything the app keeps goes into the test's own folder */
  tmp = strata_test_make_tmpdir ();
  archive = g_build_filename (tmp, "archive", NULL);
  g_setenv ("STRATA_DATA_DIR", tmp, TRUE);
  g_setenv ("STRATA_CACHE_DIR", tmp, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);

  gtk_test_init (&argc, &argv, NULL);

  strata_test_run_cli (&run, "simulate", "--scenario", "paper", "--duration-ms", "60", "--out", archive, NULL);
  g_assert_cmpint (run.status, ==, 0);
  strata_test_run_clear (&run);
  load_truth ();

  app = strata_application_new ();
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  window = strata_window_new (GTK_APPLICATION (app));
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 1000);
  gtk_window_present (GTK_WINDOW (window));
  open_archive ();

  g_test_add_func ("/strata/gui/fvs", test_fvs);
  g_test_add_func ("/strata/gui/other-views", test_other_views);
  g_test_add_func ("/strata/gui/zoom-pan", test_zoom_pan);
  g_test_add_func ("/strata/gui/export-matches-cli", test_export_matches_cli);
  ret = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&app);
  g_array_unref (truth);
  strata_test_rmtree (tmp);
  g_free (tmp);
  g_free (archive);
  return ret;
}
