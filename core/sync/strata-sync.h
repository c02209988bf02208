/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "strata-event.h"
#include "strata-sync-cache.h"
#include "strata-sync-result.h"

G_BEGIN_DECLS

/**
 * StrataSyncProgressFunc:
 * @n_done: traces read so far
 * @n_traces: traces to read
 * @user_data: the options' @progress_data
 *
 * Called on the thread that runs the synchronization (a worker thread
 * for strata_sync_run_async()) each time a trace has been read.
 */
typedef void (*StrataSyncProgressFunc) (guint    n_done,
                                        guint    n_traces,
                                        gpointer user_data);

/**
 * StrataSyncObserveFunc:
 * @trace_index: which trace, in the order of the paths given
 * @batch: records of the trace in time order: the sync events and the
 *   options' @observe_kinds
 * @user_data: the options' @observe_data
 *
 * Sees every batch pass 1 reads, on the reader thread of that trace
 * (one trace is read by one thread at a time, so data kept per trace
 * needs no lock). Lets another analysis learn what it needs in the same
 * reading, instead of reading the traces once more.
 */
typedef void (*StrataSyncObserveFunc) (guint                   trace_index,
                                       const StrataEventBatch *batch,
                                       gpointer                user_data);

/**
 * StrataSyncOptions:
 * @reference: (nullable): the trace whose clock is the reference, by path
 *   or host name; %NULL: the physical host (a trace that runs virtual
 *   machines and is no guest), else the trace connected to most others
 * @cache: (nullable): where results are looked up before reading and
 *   stored after
 * @max_threads: traces read at once (0: one per processor)
 * @progress: (nullable): called as traces are read
 * @progress_data: for @progress
 * @observe: (nullable): sees every batch read; forces the traces to be read
 *   even when @cache holds the result (the cache is then only written)
 * @observe_kinds: (array length=n_observe_kinds): kinds read for @observe
 *   besides the sync events
 * @n_observe_kinds: their number
 * @observe_data: for @observe
 *
 * How to synchronize.
 */
typedef struct
{
  const char             *reference;
  StrataSyncCache        *cache;
  guint                   max_threads;
  StrataSyncProgressFunc  progress;
  gpointer                progress_data;
  StrataSyncObserveFunc   observe;
  const StrataEventKind  *observe_kinds;
  guint                   n_observe_kinds;
  gpointer                observe_data;
} StrataSyncOptions;

void              strata_sync_options_init (StrataSyncOptions        *options);
StrataSyncResult *strata_sync_run          (const char * const       *paths,
                                            const StrataSyncOptions  *options,
                                            GCancellable             *cancellable,
                                            GError                  **error);
void              strata_sync_run_async    (const char * const       *paths,
                                            const StrataSyncOptions  *options,
                                            GCancellable             *cancellable,
                                            GAsyncReadyCallback       callback,
                                            gpointer                  user_data);
StrataSyncResult *strata_sync_run_finish   (GAsyncResult             *result,
                                            GError                  **error);

G_END_DECLS
