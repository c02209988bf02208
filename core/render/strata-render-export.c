/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-render-export"

#include "config.h"

#include <errno.h>
#include <math.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib/gstdio.h>

#include "strata-render-export.h"

/*
 * A view to a file, without a display: lay the picture out, update a
 * model to its time axis' width, paint on cairo's image, SVG or PDF
 * surface. The file is written beside its final name and renamed once
 * complete, so a failed export leaves no half file behind.
 */

/**
 * strata_render_format_from_path:
 * @path: a file name ending in .png, .svg or .pdf (any case)
 * @format: (out): its format
 *
 * Returns: whether the extension is one of those
 */
gboolean
strata_render_format_from_path (const char         *path,
                                StrataRenderFormat *format)
{
  g_autofree char *lower = NULL;

  g_return_val_if_fail (format != NULL, FALSE);

  if (path == NULL)
    return FALSE;
  lower = g_ascii_strdown (path, -1);
  if (g_str_has_suffix (lower, ".png"))
    *format = STRATA_RENDER_FORMAT_PNG;
  else if (g_str_has_suffix (lower, ".svg"))
    *format = STRATA_RENDER_FORMAT_SVG;
  else if (g_str_has_suffix (lower, ".pdf"))
    *format = STRATA_RENDER_FORMAT_PDF;
  else
    return FALSE;
  return TRUE;
}

static gboolean
check (cairo_status_t   status,
       const char      *path,
       GError         **error)
{
  if (status == CAIRO_STATUS_SUCCESS)
    return TRUE;
  g_set_error (error, G_IO_ERROR,
               status == CAIRO_STATUS_WRITE_ERROR ? G_IO_ERROR_FAILED : G_IO_ERROR_INVALID_DATA,
               "Cannot write the picture %s: %s", path, cairo_status_to_string (status));
  return FALSE;
}

/**
 * strata_render_export_to_file:
 * @rows: the view's rows (every one is drawn)
 * @options: what to draw and how
 * @path: the file to write (replaced)
 *
 * Returns: %FALSE with @error set when the SHT cannot be read or the
 *   file cannot be written
 */
gboolean
strata_render_export_to_file (StrataRenderRows                 *rows,
                              const StrataRenderExportOptions  *options,
                              const char                       *path,
                              GError                          **error)
{
  g_autoptr(StrataTimeGraph) model = NULL;
  g_autoptr(StrataRenderPainter) painter = NULL;
  g_autofree char *part = NULL;
  StrataAnalysis *analysis;
  StrataRenderLayout layout;
  cairo_surface_t *surface = NULL;
  cairo_t *cr;
  gint64 t0, t1;
  gboolean ok;

  g_return_val_if_fail (rows != NULL, FALSE);
  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (options->width > 0, FALSE);

  analysis = strata_render_scope_get_analysis (strata_render_rows_get_scope (rows));
  t0 = options->t0;
  t1 = options->t1;
  if (t1 <= t0)
    {
      t0 = strata_analysis_get_start_time (analysis);
      t1 = strata_analysis_get_end_time (analysis);
    }

  model = strata_time_graph_new (rows);
  painter = strata_render_painter_new (options->style);
  strata_render_painter_compute_layout (painter, model, options->highlight, options->width, options->title, &layout);
  if (!strata_time_graph_update (model, t0, t1, layout.plot_width, error))
    return FALSE;

  part = g_strdup_printf ("%s.part", path);
  switch (options->format)
    {
    case STRATA_RENDER_FORMAT_SVG:
      surface = cairo_svg_surface_create (part, layout.width, layout.height);
      break;
    case STRATA_RENDER_FORMAT_PDF:
      surface = cairo_pdf_surface_create (part, layout.width, layout.height);
      break;
    case STRATA_RENDER_FORMAT_PNG:
    default:
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) ceil (layout.width), (int) ceil (layout.height));
      break;
    }
  if (!check (cairo_surface_status (surface), path, error))
    {
      cairo_surface_destroy (surface);
      g_unlink (part);
      return FALSE;
    }

  cr = cairo_create (surface);
  strata_render_painter_paint (painter, cr, model, options->highlight, options->title, &layout);
  ok = check (cairo_status (cr), path, error);
  cairo_destroy (cr);
  if (ok && options->format == STRATA_RENDER_FORMAT_PNG)
    ok = check (cairo_surface_write_to_png (surface, part), path, error);
  cairo_surface_finish (surface);
  ok = ok && check (cairo_surface_status (surface), path, error);
  cairo_surface_destroy (surface);

  if (ok && g_rename (part, path) < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot write the picture %s: %s", path, g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (part);
  return ok;
}
