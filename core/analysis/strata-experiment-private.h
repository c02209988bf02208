/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-experiment.h"

G_BEGIN_DECLS

/* Options deep-copied for a worker thread: @options points into the
 * copy's own strings. */
typedef struct
{
  StrataExperimentOptions  options;
  char                    *sht_path;
  char                    *reference;
  GPtrArray               *strings;
  StrataRoleOverride      *roles;
} StrataExperimentOptionsCopy;

void _strata_experiment_options_copy_init  (StrataExperimentOptionsCopy   *copy,
                                            const StrataExperimentOptions *options);
void _strata_experiment_options_copy_clear (StrataExperimentOptionsCopy   *copy);

G_END_DECLS
