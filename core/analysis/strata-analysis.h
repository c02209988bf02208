/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "strata-analysis-types.h"
#include "strata-sht.h"

G_BEGIN_DECLS

/**
 * StrataAnalysisMachine:
 * @name: unique in the analysis
 * @hostname: from its trace ("" when none)
 * @kind: host or VM
 * @layer: 0 for a physical host
 * @parent: index of the machine that runs it, -1 for a host
 * @traced: it has a trace of its own
 * @qemu_pid: for a VM, the process of its parent that runs it (-1 unknown)
 * @n_cpus: its CPUs (physical for a host, vCPUs for a VM)
 */
typedef struct
{
  char              *name;
  char              *hostname;
  StrataMachineKind  kind;
  int                layer;
  int                parent;
  gboolean           traced;
  int                qemu_pid;
  guint              n_cpus;
  /*< private >*/
  guint32           *cpu_quarks;
  guint32           *host_tid_quarks;
} StrataAnalysisMachine;

/**
 * StrataThreadInfo:
 * @machine: the machine it belongs to
 * @tid: its id in that machine's root PID namespace (0: an idle task)
 * @pid: its process, -1 unknown
 * @vtid: its id in its container's PID namespace, -1 when not in one
 * @container: that namespace's inode number, 0 when not in one
 * @comm: its name then
 */
typedef struct
{
  int      machine;
  int      tid;
  int      pid;
  int      vtid;
  guint64  container;
  char    *comm;
} StrataThreadInfo;

/**
 * StrataCpuSample:
 * @host: the physical machine
 * @cpu: its CPU
 * @machine: whose code it executes (for VMM, the guest it works for)
 * @vcpu: the vCPU of @machine, -1 for a host
 * @thread: what runs there (for VMM, the hypervisor's thread); @thread.tid
 *   is -1 when unknown
 * @status: how
 *
 * What one physical CPU executes at one time.
 */
typedef struct
{
  int              host;
  guint            cpu;
  int              machine;
  int              vcpu;
  StrataThreadInfo thread;
  StrataCpuStatus  status;
} StrataCpuSample;

/**
 * StrataVcpuSample:
 * @machine: the VM
 * @vcpu: its vCPU
 * @state: its state
 * @host_tid: the thread of its parent that runs it, -1 unknown
 * @pcpu: the physical CPU it runs on when running, else -1
 * @exit_reason: the last exit's reason, -1 none
 * @isa: 1 VMX, 2 SVM, 0 none
 */
typedef struct
{
  int             machine;
  guint           vcpu;
  StrataVcpuState state;
  int             host_tid;
  int             pcpu;
  int             exit_reason;
  guint           isa;
} StrataVcpuSample;

typedef struct _StrataAnalysis StrataAnalysis;

StrataAnalysis *strata_analysis_open           (const char       *sht_path,
                                                gsize             cache_bytes,
                                                GError          **error);
StrataAnalysis *strata_analysis_new_for_sht    (StrataSht        *sht,
                                                GError          **error);
StrataAnalysis *strata_analysis_ref            (StrataAnalysis   *self);
void            strata_analysis_unref          (StrataAnalysis   *self);
StrataSht      *strata_analysis_get_sht        (StrataAnalysis   *self);
gint64          strata_analysis_get_start_time (StrataAnalysis   *self);
gint64          strata_analysis_get_end_time   (StrataAnalysis   *self);
guint           strata_analysis_get_n_machines (StrataAnalysis   *self);
const StrataAnalysisMachine *
                strata_analysis_get_machine    (StrataAnalysis   *self,
                                                guint             index);
int             strata_analysis_find_machine   (StrataAnalysis   *self,
                                                const char       *name);
gboolean        strata_analysis_get_thread     (StrataAnalysis   *self,
                                                guint32           thread_index,
                                                gint64            t,
                                                StrataThreadInfo *info,
                                                GError          **error);
guint           strata_analysis_get_n_threads  (StrataAnalysis   *self);
StrataThreadStatus
                strata_analysis_get_thread_status (StrataAnalysis *self,
                                                guint32           thread_index,
                                                gint64            t);
GArray         *strata_analysis_query_cpus     (StrataAnalysis   *self,
                                                gint64            t,
                                                GError          **error);
GArray         *strata_analysis_query_vcpus    (StrataAnalysis   *self,
                                                gint64            t,
                                                GError          **error);
JsonNode       *strata_analysis_query_json     (StrataAnalysis   *self,
                                                const gint64     *times,
                                                guint             n_times,
                                                GError          **error);
void            strata_thread_info_clear       (StrataThreadInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataAnalysis, strata_analysis_unref)

G_END_DECLS
