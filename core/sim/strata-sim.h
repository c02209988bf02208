/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "strata-sim-tracer.h"

G_BEGIN_DECLS

/**
 * StrataSimOptions:
 * @scenario: one of strata_sim_scenario_names()
 * @seed: the same seed gives the same bytes
 * @duration_ns: simulated time traced
 * @scale: multiplies CPUs, machines and load (1: as described)
 * @layout: the lttng-modules version whose event names and fields are written
 * @host_only: write only the host's trace (guests still run)
 * @drop_start_ns: lost events: from this long after the start…
 * @drop_length_ns: …for this long, every CPU of every machine drops its
 *   events and says how many in `events_discarded` (0: no loss)
 *
 * What to simulate.
 */
typedef struct
{
  const char     *scenario;
  guint64         seed;
  gint64          duration_ns;
  guint           scale;
  StrataSimLayout layout;
  gboolean        host_only;
  gint64          drop_start_ns;
  gint64          drop_length_ns;
} StrataSimOptions;

/**
 * StrataSimStats:
 *
 * What a simulation wrote.
 */
typedef struct
{
  guint64 n_events;
  guint   n_machines;
  guint   n_traces;
  guint64 n_truth_rows;
  gint64  start_ns;
  gint64  end_ns;
} StrataSimStats;

/* Called now and then with the fraction of simulated time done. */
typedef void (*StrataSimProgressFunc) (double   fraction,
                                       gpointer user_data);

void                strata_sim_options_init   (StrataSimOptions       *options);
const char * const *strata_sim_scenario_names (void);
const char         *strata_sim_scenario_describe (const char         *name);
gboolean            strata_sim_run            (const StrataSimOptions *options,
                                               const char             *out_dir,
                                               StrataSimProgressFunc   progress,
                                               gpointer                progress_data,
                                               GCancellable           *cancellable,
                                               StrataSimStats         *stats,
                                               GError                **error);

G_END_DECLS
