/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-highlight.h"
#include "strata-render-rows.h"

G_BEGIN_DECLS

/**
 * StrataTimeGraphBinFlags:
 * @STRATA_TIME_GRAPH_BIN_HIDDEN: states shorter than the pixel were
 *   skipped in it: more happened there than it shows
 * @STRATA_TIME_GRAPH_BIN_PARTIAL: a filtered row: what the pixel shows
 *   began inside it, after a time the filter does not show
 */
typedef enum
{
  STRATA_TIME_GRAPH_BIN_HIDDEN  = 1 << 0,
  STRATA_TIME_GRAPH_BIN_PARTIAL = 1 << 1,
} StrataTimeGraphBinFlags;

/* A bin with nothing to draw: a heading, outside the history, before a
 * thread existed, or what a filtered row does not show. */
#define STRATA_TIME_GRAPH_BIN_EMPTY 0xff

/**
 * StrataTimeGraphBin:
 * @state: by the row's kind, a #StrataCpuStatus, #StrataVcpuState or
 *   #StrataThreadStatus; %STRATA_TIME_GRAPH_BIN_EMPTY for nothing
 * @flags: #StrataTimeGraphBinFlags
 * @vcpu: physical CPU rows: the vCPU of @machine that runs there (-1 on a
 *   host); vCPU rows: the physical CPU it runs on (-1)
 * @machine: physical CPU rows: whose code runs there (for the
 *   hypervisor's work, the guest it works for); else the row's machine
 * @thread: physical CPU rows: the thread that runs there, as a
 *   #StrataRenderScope index + 1 (0: unknown)
 *
 * One pixel of one row: the state at the pixel's first nanosecond.
 */
typedef struct
{
  guint8  state;
  guint8  flags;
  gint16  vcpu;
  guint16 machine;
  /*< private >*/
  guint16 reserved;
  /*< public >*/
  guint32 thread;
} StrataTimeGraphBin;

#define STRATA_TIME_GRAPH_MAX_CHAIN 8

/**
 * StrataTimeGraphItem:
 * @kind: the kind of row it is on
 * @time: the time under the pointer
 * @start: first nanosecond of the state there
 * @end: last nanosecond of that state
 * @state: as in #StrataTimeGraphBin
 * @host: the physical host (physical CPU rows), -1
 * @cpu: the physical CPU (physical CPU rows; vCPU rows when it runs), -1
 * @machine: whose code runs (physical CPU rows), the VM (vCPU rows), the
 *   thread's machine (thread rows)
 * @vcpu: the vCPU of @machine, -1 for none
 * @chain_machine: the vCPUs that execute it, from @machine's outwards (an
 *   L2 vCPU, then the L1 vCPU that runs it…)
 * @chain_vcpu: their numbers
 * @n_chain: their number
 * @thread: the thread (a #StrataRenderScope index), -1 none
 * @thread_info: who the thread was at @time (tid -1: none)
 * @syscall: the system call it was in at @time, or %NULL
 * @exit_reason: vCPU rows: the last exit's reason, -1 none
 * @isa: with it: 1 VMX, 2 SVM
 * @host_tid: vCPU rows: the hypervisor thread, -1 unknown
 *
 * What is under the pointer: for a tooltip.
 */
typedef struct
{
  StrataRenderRowKind kind;
  gint64              time;
  gint64              start;
  gint64              end;
  guint8              state;
  int                 host;
  int                 cpu;
  int                 machine;
  int                 vcpu;
  int                 chain_machine[STRATA_TIME_GRAPH_MAX_CHAIN];
  int                 chain_vcpu[STRATA_TIME_GRAPH_MAX_CHAIN];
  guint               n_chain;
  int                 thread;
  StrataThreadInfo    thread_info;
  char               *syscall;
  int                 exit_reason;
  guint               isa;
  int                 host_tid;
} StrataTimeGraphItem;

typedef struct _StrataTimeGraph StrataTimeGraph;

StrataTimeGraph  *strata_time_graph_new            (StrataRenderRows    *rows);
StrataTimeGraph  *strata_time_graph_ref            (StrataTimeGraph     *self);
void              strata_time_graph_unref          (StrataTimeGraph     *self);
StrataRenderRows *strata_time_graph_get_rows       (StrataTimeGraph     *self);
StrataRenderScope *strata_time_graph_get_scope     (StrataTimeGraph     *self);
void              strata_time_graph_set_visible_rows (StrataTimeGraph   *self,
                                                    const guint         *rows,
                                                    guint                n_rows);
void              strata_time_graph_invalidate     (StrataTimeGraph     *self);
gboolean          strata_time_graph_update         (StrataTimeGraph     *self,
                                                    gint64               t0,
                                                    gint64               t1,
                                                    guint                width,
                                                    GError             **error);
guint             strata_time_graph_get_width      (StrataTimeGraph     *self);
gint64            strata_time_graph_get_start      (StrataTimeGraph     *self);
gint64            strata_time_graph_get_resolution (StrataTimeGraph     *self);
gint64            strata_time_graph_get_bin_time   (StrataTimeGraph     *self,
                                                    guint                x);
guint             strata_time_graph_get_n_rows     (StrataTimeGraph     *self);
const StrataRenderRow *
                  strata_time_graph_get_row        (StrataTimeGraph     *self,
                                                    guint                position);
guint             strata_time_graph_get_row_index  (StrataTimeGraph     *self,
                                                    guint                position);
const StrataTimeGraphBin *
                  strata_time_graph_get_bins       (StrataTimeGraph     *self,
                                                    guint                position);
guint             strata_time_graph_get_n_queried_columns (StrataTimeGraph *self);
gboolean          strata_time_graph_is_selected    (StrataTimeGraph     *self,
                                                    StrataHighlight     *highlight,
                                                    guint                position,
                                                    guint                x);
gboolean          strata_time_graph_lookup         (StrataTimeGraph     *self,
                                                    guint                position,
                                                    double               x,
                                                    StrataTimeGraphItem *item,
                                                    GError             **error);
void              strata_time_graph_item_clear     (StrataTimeGraphItem *item);
char             *strata_time_graph_item_to_text   (const StrataTimeGraphItem *item,
                                                    StrataRenderScope   *scope);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataTimeGraph, strata_time_graph_unref)

G_END_DECLS
