/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-sim-private.h"

G_BEGIN_DECLS

gboolean    strata_sim_scenario_exists (const char *name);
void        sim_scenario_build         (Sim        *sim,
                                        const char *name,
                                        guint       scale);
SimMachine *sim_machine_new            (Sim        *sim,
                                        const char *name,
                                        SimMachine *parent,
                                        guint       n_cpus);

G_END_DECLS
