/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "strata-render-painter.h"

G_BEGIN_DECLS

/**
 * StrataRenderFormat:
 * @STRATA_RENDER_FORMAT_PNG: a PNG image (pixels)
 * @STRATA_RENDER_FORMAT_SVG: an SVG drawing (1 unit per pixel)
 * @STRATA_RENDER_FORMAT_PDF: a one-page PDF (1 point per pixel)
 */
typedef enum
{
  STRATA_RENDER_FORMAT_PNG,
  STRATA_RENDER_FORMAT_SVG,
  STRATA_RENDER_FORMAT_PDF,
} StrataRenderFormat;

/**
 * StrataRenderExportOptions:
 * @t0: the left edge (with @t1 = @t0: the whole history)
 * @t1: the right edge
 * @width: the picture's width; its height follows from the rows
 * @format: what to write
 * @style: (nullable): the painter's style, %NULL for the defaults
 * @highlight: (nullable): what to highlight
 * @title: (nullable): the title line
 */
typedef struct
{
  gint64                   t0;
  gint64                   t1;
  guint                    width;
  StrataRenderFormat       format;
  const StrataRenderStyle *style;
  StrataHighlight         *highlight;
  const char              *title;
} StrataRenderExportOptions;

gboolean strata_render_format_from_path (const char                      *path,
                                         StrataRenderFormat              *format);
gboolean strata_render_export_to_file   (StrataRenderRows                *rows,
                                         const StrataRenderExportOptions *options,
                                         const char                      *path,
                                         GError                         **error);

G_END_DECLS
