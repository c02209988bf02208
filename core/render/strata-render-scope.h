/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "strata-analysis.h"

G_BEGIN_DECLS

/**
 * StrataRenderThread:
 * @machine: the machine it belongs to
 * @tid: its id in that machine's root PID namespace (0: a CPU's idle task)
 * @pid: its process, -1 unknown
 * @vtid: its id in its container, -1 when not in one
 * @container: its innermost container, an index for
 *   strata_render_scope_get_container(), -1 when not in one
 * @comm: its last name
 * @q_status: its `Threads/<i>/Status` attribute
 * @q_syscall: its `Threads/<i>/Syscall` attribute
 *
 * A thread of the analysis, as it was last known: a thread that entered a
 * container counts as a member of it for its whole life.
 */
typedef struct
{
  int      machine;
  int      tid;
  int      pid;
  int      vtid;
  int      container;
  char    *comm;
  guint32  q_status;
  guint32  q_syscall;
} StrataRenderThread;

/**
 * StrataRenderContainer:
 * @machine: the machine whose kernel has the PID namespace
 * @inum: the namespace's inode number
 * @parent: the container it is nested in (an index), -1 for a top one
 * @level: its depth among PID namespaces (1 for a top one)
 * @n_threads: threads whose innermost namespace it is
 */
typedef struct
{
  int      machine;
  guint64  inum;
  int      parent;
  guint    level;
  guint    n_threads;
} StrataRenderContainer;

typedef struct _StrataRenderScope StrataRenderScope;

StrataRenderScope *strata_render_scope_new           (StrataAnalysis     *analysis,
                                                      JsonNode           *summary,
                                                      GError            **error);
StrataRenderScope *strata_render_scope_ref           (StrataRenderScope  *self);
void               strata_render_scope_unref         (StrataRenderScope  *self);
StrataAnalysis    *strata_render_scope_get_analysis  (StrataRenderScope  *self);
guint              strata_render_scope_get_n_threads (StrataRenderScope  *self);
const StrataRenderThread *
                   strata_render_scope_get_thread    (StrataRenderScope  *self,
                                                      guint               index);
guint              strata_render_scope_get_n_containers (StrataRenderScope *self);
const StrataRenderContainer *
                   strata_render_scope_get_container (StrataRenderScope  *self,
                                                      guint               index);
int                strata_render_scope_find_container (StrataRenderScope *self,
                                                      int                 machine,
                                                      guint64             inum);
gboolean           strata_render_scope_machine_runs  (StrataRenderScope  *self,
                                                      int                 ancestor,
                                                      int                 machine);
gboolean           strata_render_scope_container_holds (StrataRenderScope *self,
                                                      int                 container,
                                                      int                 thread);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataRenderScope, strata_render_scope_unref)

G_END_DECLS
