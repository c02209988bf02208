/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-render-scope.h"

G_BEGIN_DECLS

/**
 * StrataRenderView:
 * @STRATA_RENDER_VIEW_FVS: the fused view: what each physical CPU executes,
 *   per host, VM and container
 * @STRATA_RENDER_VIEW_VCPUS: the state of each vCPU, and the threads of
 *   each VM as the host saw them run
 * @STRATA_RENDER_VIEW_THREADS: the control flow of every thread
 */
typedef enum
{
  STRATA_RENDER_VIEW_FVS,
  STRATA_RENDER_VIEW_VCPUS,
  STRATA_RENDER_VIEW_THREADS,
} StrataRenderView;

/**
 * StrataRenderRowKind:
 * @STRATA_RENDER_ROW_HEADING: a node of the tree without data of its own
 *   (a machine, "PCPUs", "Virtual Machines", a container…)
 * @STRATA_RENDER_ROW_PCPU: a physical CPU (`Machines/<h>/CPUs/<n>/Fused`)
 * @STRATA_RENDER_ROW_VCPU: a vCPU (`Machines/<m>/VCPUs/<n>/State`)
 * @STRATA_RENDER_ROW_THREAD: a thread (`Threads/<i>/Status`)
 */
typedef enum
{
  STRATA_RENDER_ROW_HEADING,
  STRATA_RENDER_ROW_PCPU,
  STRATA_RENDER_ROW_VCPU,
  STRATA_RENDER_ROW_THREAD,
} StrataRenderRowKind;

/**
 * StrataRenderFilterKind:
 * @STRATA_RENDER_FILTER_NONE: the row shows everything
 * @STRATA_RENDER_FILTER_MACHINE: a physical CPU row that shows only when
 *   the filter's machine, or a VM it runs, executes there
 * @STRATA_RENDER_FILTER_CONTAINER: a physical CPU row that shows only when
 *   a thread of the filter's container, or of one nested in it, executes
 *   there
 */
typedef enum
{
  STRATA_RENDER_FILTER_NONE,
  STRATA_RENDER_FILTER_MACHINE,
  STRATA_RENDER_FILTER_CONTAINER,
} StrataRenderFilterKind;

typedef struct
{
  StrataRenderFilterKind kind;
  int                    machine;
  int                    container;
} StrataRenderFilter;

/**
 * StrataRenderRow:
 * @label: what the row is called
 * @depth: its depth in the tree (0 for a top entry)
 * @parent: its parent row, -1 for a top entry
 * @kind: what it shows
 * @quark: its attribute, %STRATA_SHT_QUARK_INVALID for a heading
 * @filter: what of @quark it shows (physical CPU rows)
 * @machine: the machine it is about (a physical CPU's host, a vCPU's VM,
 *   a thread's machine; a heading's machine), -1 none
 * @cpu: the physical CPU or vCPU number, -1 none
 * @thread: the thread (a #StrataRenderScope index), -1 none
 * @container: the container (a #StrataRenderScope index), -1 none
 * @has_children: rows follow with it as @parent
 */
typedef struct
{
  char               *label;
  guint               depth;
  int                 parent;
  StrataRenderRowKind kind;
  guint32             quark;
  StrataRenderFilter  filter;
  int                 machine;
  int                 cpu;
  int                 thread;
  int                 container;
  gboolean            has_children;
} StrataRenderRow;

/**
 * StrataRenderThreadOrder:
 * @STRATA_RENDER_THREADS_BY_TID: by thread id
 * @STRATA_RENDER_THREADS_BY_NAME: by name, then thread id
 */
typedef enum
{
  STRATA_RENDER_THREADS_BY_TID,
  STRATA_RENDER_THREADS_BY_NAME,
} StrataRenderThreadOrder;

typedef struct _StrataRenderRows StrataRenderRows;

StrataRenderRows  *strata_render_rows_new        (StrataRenderScope       *scope,
                                                  StrataRenderView         view,
                                                  StrataRenderThreadOrder  order,
                                                  const char              *search);
StrataRenderRows  *strata_render_rows_ref        (StrataRenderRows        *self);
void               strata_render_rows_unref      (StrataRenderRows        *self);
StrataRenderScope *strata_render_rows_get_scope  (StrataRenderRows        *self);
StrataRenderView   strata_render_rows_get_view   (StrataRenderRows        *self);
guint              strata_render_rows_get_n_rows (StrataRenderRows        *self);
const StrataRenderRow *
                   strata_render_rows_get_row    (StrataRenderRows        *self,
                                                  guint                    index);

const char        *strata_render_view_to_string  (StrataRenderView         view);
gboolean           strata_render_view_from_string (const char             *text,
                                                  StrataRenderView        *view);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataRenderRows, strata_render_rows_unref)

G_END_DECLS
