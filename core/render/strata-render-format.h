/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *strata_render_format_duration (gint64  ns);
char *strata_render_format_offset   (gint64  ns,
                                     gint64  step,
                                     gint64  magnitude);
char *strata_render_format_span     (gint64  from,
                                     gint64  to,
                                     gint64  precision);
char *strata_render_format_clock    (gint64  ns);

G_END_DECLS
