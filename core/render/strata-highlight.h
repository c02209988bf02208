/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-render-rows.h"

G_BEGIN_DECLS

/**
 * StrataHighlightKind:
 * @STRATA_HIGHLIGHT_MACHINE: a machine, with the VMs it runs
 * @STRATA_HIGHLIGHT_VCPU: one vCPU of a VM (its code, and the hypervisor's
 *   work for it)
 * @STRATA_HIGHLIGHT_CONTAINER: a container, with the ones nested in it
 * @STRATA_HIGHLIGHT_PCPU: a physical CPU
 * @STRATA_HIGHLIGHT_THREAD: a thread, by machine and tid
 */
typedef enum
{
  STRATA_HIGHLIGHT_MACHINE,
  STRATA_HIGHLIGHT_VCPU,
  STRATA_HIGHLIGHT_CONTAINER,
  STRATA_HIGHLIGHT_PCPU,
  STRATA_HIGHLIGHT_THREAD,
} StrataHighlightKind;

/**
 * StrataHighlightItem:
 * @kind: what is selected
 * @machine: the machine; the VM of a vCPU; the host of a physical CPU
 *   and the machine of a thread, -1 for any
 * @number: the vCPU, the physical CPU or the tid
 * @container: the container (a #StrataRenderScope index)
 */
typedef struct
{
  StrataHighlightKind kind;
  int                 machine;
  int                 number;
  int                 container;
} StrataHighlightItem;

typedef struct _StrataHighlight StrataHighlight;

StrataHighlight *strata_highlight_new          (void);
StrataHighlight *strata_highlight_ref          (StrataHighlight          *self);
void             strata_highlight_unref        (StrataHighlight          *self);
void             strata_highlight_add          (StrataHighlight          *self,
                                                const StrataHighlightItem *item);
gboolean         strata_highlight_add_parsed   (StrataHighlight          *self,
                                                StrataRenderScope        *scope,
                                                const char               *text,
                                                GError                  **error);
gboolean         strata_highlight_check_syntax (const char               *text,
                                                GError                  **error);
void             strata_highlight_remove_all   (StrataHighlight          *self);
gboolean         strata_highlight_is_empty     (StrataHighlight          *self);
guint            strata_highlight_get_n_items  (StrataHighlight          *self);
const StrataHighlightItem *
                 strata_highlight_get_item    (StrataHighlight          *self,
                                                guint                     index);
gboolean         strata_highlight_matches_execution (StrataHighlight     *self,
                                                StrataRenderScope        *scope,
                                                int                       host,
                                                int                       cpu,
                                                int                       machine,
                                                int                       vcpu,
                                                int                       thread);
gboolean         strata_highlight_matches_row  (StrataHighlight          *self,
                                                StrataRenderScope        *scope,
                                                const StrataRenderRow    *row);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataHighlight, strata_highlight_unref)

G_END_DECLS
