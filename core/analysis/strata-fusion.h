/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "strata-event.h"
#include "strata-machine-plan.h"
#include "strata-sht.h"

G_BEGIN_DECLS

typedef struct _StrataFusion StrataFusion;

StrataFusion *strata_fusion_new            (StrataSht               *sht,
                                            const StrataMachinePlan *plan,
                                            gint64                   start);
void          strata_fusion_free           (StrataFusion            *self);
void          strata_fusion_set_tolerance  (StrataFusion            *self,
                                            guint                    machine,
                                            gint64                   tolerance_ns);
void          strata_fusion_handle         (StrataFusion            *self,
                                            guint                    machine,
                                            const StrataEventBatch  *batch,
                                            const StrataEvent       *event,
                                            gint64                   t);
void          strata_fusion_finish         (StrataFusion            *self,
                                            gint64                   end);
guint64       strata_fusion_get_n_threads  (StrataFusion            *self);
JsonNode     *strata_fusion_dup_machines_json (StrataFusion         *self);
JsonNode     *strata_fusion_dup_stats_json (StrataFusion            *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataFusion, strata_fusion_free)

G_END_DECLS
