/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "strata-event.h"
#include "strata-trace-info.h"

G_BEGIN_DECLS

/**
 * StrataEventBatchFunc:
 * @batch: (inout) (transfer full): a batch of records in time order; set it
 *   to %NULL to keep it (the reader then starts a new one), otherwise the
 *   reader reuses it once the function returns
 * @user_data: data given to strata_trace_reader_run()
 *
 * Returns: %TRUE to go on reading, %FALSE to stop
 */
typedef gboolean (*StrataEventBatchFunc) (StrataEventBatch **batch,
                                          gpointer           user_data);

typedef struct _StrataTraceReader StrataTraceReader;

StrataTraceReader *strata_trace_reader_new            (const char              *path,
                                                       GError                 **error);
void               strata_trace_reader_set_kinds      (StrataTraceReader       *self,
                                                       const StrataEventKind   *kinds,
                                                       guint                    n_kinds);
void               strata_trace_reader_set_batch_size (StrataTraceReader       *self,
                                                       guint                    batch_size);
gboolean           strata_trace_reader_run            (StrataTraceReader       *self,
                                                       StrataEventBatchFunc     func,
                                                       gpointer                 user_data,
                                                       GCancellable            *cancellable,
                                                       GError                 **error);
StrataTraceInfo   *strata_trace_reader_get_info       (StrataTraceReader       *self);
void               strata_trace_reader_free           (StrataTraceReader       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataTraceReader, strata_trace_reader_free)

G_END_DECLS
