/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "strata-analysis-types.h"
#include "strata-event.h"
#include "strata-sync-result.h"

G_BEGIN_DECLS

/**
 * StrataPlannedMachine:
 * @name: unique among the machines: the trace's host name, or for a
 *   virtual machine without a trace "qemu-<pid>" (its QEMU process)
 * @hostname: the host name its trace gives ("" when none or no trace)
 * @kind: host or VM
 * @layer: 0 for a physical host, its parent's + 1 for a VM
 * @parent: index of the machine that runs it, -1 for a host
 * @trace: index of its trace among the experiment's, -1 when not traced
 * @vm_uid: the sync module's id of the VM's boot, 0 when unknown
 * @qemu_pid: the process of its parent that runs it, -1 when unknown
 * @vcpu_tids: (element-type gint): by vCPU id, the tid of the parent's
 *   thread that runs it (-1 unknown)
 * @n_cpus: CPUs known so far (physical for a host, vCPUs for a VM)
 *
 * One machine of the experiment, as identified from its events.
 */
typedef struct
{
  char              *name;
  char              *hostname;
  StrataMachineKind  kind;
  int                layer;
  int                parent;
  int                trace;
  guint64            vm_uid;
  int                qemu_pid;
  GArray            *vcpu_tids;
  guint              n_cpus;
} StrataPlannedMachine;

/**
 * StrataMachinePlan:
 * @machines: (element-type StrataPlannedMachine): hosts first, then each
 *   VM after its parent
 * @trace_machine: (element-type gint): by trace index, its machine (-1
 *   for a trace that is not fused: user-space, unreadable)
 * @problems: (element-type utf8): what could not be identified, and how
 *   it was decided instead
 *
 * The machines of an experiment and which thread runs which vCPU, known
 * before fusion starts, so that no event waits for its machine to be
 * identified.
 */
typedef struct
{
  GArray    *machines;
  GArray    *trace_machine;
  GPtrArray *problems;
} StrataMachinePlan;

/**
 * StrataRoleOverride:
 * @trace: a trace, by path or host name
 * @host: (nullable): the trace of the machine that runs it; %NULL: it is
 *   a physical host, whatever its events say
 * @qemu_pid: the process of @host that runs it, -1 when not known
 *
 * A role the user gives a trace, for archives whose events do not tell
 * (no sync module in the guests, say).
 */
typedef struct
{
  const char *trace;
  const char *host;
  int         qemu_pid;
} StrataRoleOverride;

typedef struct _StrataMachineScan StrataMachineScan;

StrataMachineScan     *strata_machine_scan_new        (guint                     n_traces);
void                   strata_machine_scan_free       (StrataMachineScan        *self);
const StrataEventKind *strata_machine_scan_get_kinds  (guint                    *n_kinds);
void                   strata_machine_scan_observe    (guint                     trace_index,
                                                       const StrataEventBatch   *batch,
                                                       gpointer                  user_data);
StrataMachinePlan     *strata_machine_scan_make_plan  (StrataMachineScan        *self,
                                                       const StrataSyncResult   *sync,
                                                       GPtrArray                *locations,
                                                       const StrataRoleOverride *overrides,
                                                       guint                     n_overrides,
                                                       GError                  **error);

void                   strata_machine_plan_free       (StrataMachinePlan        *self);
const StrataPlannedMachine *strata_machine_plan_get   (const StrataMachinePlan  *self,
                                                       guint                     index);
int                    strata_machine_plan_find_vcpu  (const StrataMachinePlan  *self,
                                                       int                       parent,
                                                       int                       tid,
                                                       int                      *vcpu);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataMachineScan, strata_machine_scan_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataMachinePlan, strata_machine_plan_free)

G_END_DECLS
