/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-trace-writer.h"

G_BEGIN_DECLS

guint64 _strata_trace_writer_get_max_buffered_events (StrataTraceWriter *self);
gsize   _strata_trace_writer_get_max_buffered_bytes  (StrataTraceWriter *self);

G_END_DECLS
