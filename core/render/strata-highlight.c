/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-highlight"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "strata-highlight.h"

/*
 * A dynamic highlight filter (research/summary.md §4): the machines,
 * vCPUs, containers, physical CPUs and threads the user selected. The
 * painter covers what it does not select with a semi-opaque band, so the
 * selection's real execution on the host stands out: per pixel in the
 * fused view (whose code ran there), per row in the others.
 */

struct _StrataHighlight
{
  gatomicrefcount    ref_count;
  GArray            *items;          /* StrataHighlightItem */

  /* What the machine, container and thread items select, per machine and
   * per thread of one scope: a pixel is then matched in a few loads. */
  StrataRenderScope *tables_scope;   /* Owned */
  guint8            *machine_sel;
  guint8            *thread_sel;
  guint              n_machines;
  guint              n_threads;
  gboolean           per_cpu_items;  /* vCPU or physical CPU items */
};

static void
clear_tables (StrataHighlight *self)
{
  g_clear_pointer (&self->tables_scope, strata_render_scope_unref);
  g_clear_pointer (&self->machine_sel, g_free);
  g_clear_pointer (&self->thread_sel, g_free);
}

static gboolean thread_is (StrataRenderScope *scope, int thread, const StrataHighlightItem *item);

static void
ensure_tables (StrataHighlight   *self,
               StrataRenderScope *scope)
{
  StrataAnalysis *analysis;

  if (self->tables_scope == scope)
    return;
  clear_tables (self);
  analysis = strata_render_scope_get_analysis (scope);
  self->tables_scope = strata_render_scope_ref (scope);
  self->n_machines = strata_analysis_get_n_machines (analysis);
  self->n_threads = strata_render_scope_get_n_threads (scope);
  self->machine_sel = g_new0 (guint8, MAX (self->n_machines, 1));
  self->thread_sel = g_new0 (guint8, MAX (self->n_threads, 1));
  self->per_cpu_items = FALSE;
  for (guint i = 0; i < self->items->len; i++)
    {
      const StrataHighlightItem *item = &g_array_index (self->items, StrataHighlightItem, i);

      switch (item->kind)
        {
        case STRATA_HIGHLIGHT_MACHINE:
          for (guint m = 0; m < self->n_machines; m++)
            if (strata_render_scope_machine_runs (scope, item->machine, (int) m))
              self->machine_sel[m] = 1;
          break;
        case STRATA_HIGHLIGHT_CONTAINER:
          for (guint t = 0; t < self->n_threads; t++)
            if (strata_render_scope_container_holds (scope, item->container, (int) t))
              self->thread_sel[t] = 1;
          break;
        case STRATA_HIGHLIGHT_THREAD:
          for (guint t = 0; t < self->n_threads; t++)
            if (thread_is (scope, (int) t, item))
              self->thread_sel[t] = 1;
          break;
        case STRATA_HIGHLIGHT_VCPU:
        case STRATA_HIGHLIGHT_PCPU:
        default:
          self->per_cpu_items = TRUE;
          break;
        }
    }
}

StrataHighlight *
strata_highlight_new (void)
{
  StrataHighlight *self = g_new0 (StrataHighlight, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->items = g_array_new (FALSE, TRUE, sizeof (StrataHighlightItem));
  return self;
}

StrataHighlight *
strata_highlight_ref (StrataHighlight *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
strata_highlight_unref (StrataHighlight *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  clear_tables (self);
  g_array_unref (self->items);
  g_free (self);
}

void
strata_highlight_add (StrataHighlight           *self,
                      const StrataHighlightItem *item)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (item != NULL);

  for (guint i = 0; i < self->items->len; i++)
    if (memcmp (&g_array_index (self->items, StrataHighlightItem, i), item, sizeof *item) == 0)
      return;
  g_array_append_val (self->items, *item);
  clear_tables (self);
}

void
strata_highlight_remove_all (StrataHighlight *self)
{
  g_return_if_fail (self != NULL);
  g_array_set_size (self->items, 0);
  clear_tables (self);
}

gboolean
strata_highlight_is_empty (StrataHighlight *self)
{
  return self == NULL || self->items->len == 0;
}

guint
strata_highlight_get_n_items (StrataHighlight *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->items->len;
}

const StrataHighlightItem *
strata_highlight_get_item (StrataHighlight *self,
                           guint            index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->items->len, NULL);
  return &g_array_index (self->items, StrataHighlightItem, index);
}

static const char * const kind_names[] = { "machine", "vcpu", "container", "pcpu", "thread" };

static gboolean
parse_number (const char *text,
              guint64     max,
              guint64    *value)
{
  char *end = NULL;

  if (text == NULL || !g_ascii_isdigit (text[0]))
    return FALSE;
  errno = 0;
  *value = g_ascii_strtoull (text, &end, 10);
  return errno == 0 && end != NULL && *end == '\0' && *value <= max;
}

/* KIND=VALUE: the kind, and VALUE split at its last '/' */
static gboolean
split (const char           *text,
       StrataHighlightKind  *kind,
       char                **prefix,
       char                **number,
       GError              **error)
{
  const char *eq = text != NULL ? strchr (text, '=') : NULL;
  g_autofree char *name = NULL;
  const char *value;
  const char *slash;
  gboolean found = FALSE;
  guint64 n;

  if (eq == NULL || eq[1] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Highlight “%s” is not KIND=VALUE", text != NULL ? text : "");
      return FALSE;
    }
  name = g_strndup (text, (gsize) (eq - text));
  for (guint i = 0; i < G_N_ELEMENTS (kind_names) && !found; i++)
    if (g_str_equal (name, kind_names[i]))
      {
        *kind = (StrataHighlightKind) i;
        found = TRUE;
      }
  if (!found)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Highlight “%s”: unknown kind “%s” (machine, vcpu, container, pcpu or thread)", text, name);
      return FALSE;
    }
  value = eq + 1;
  slash = strrchr (value, '/');
  *prefix = slash != NULL ? g_strndup (value, (gsize) (slash - value)) : NULL;
  *number = g_strdup (slash != NULL ? slash + 1 : value);

  switch (*kind)
    {
    case STRATA_HIGHLIGHT_MACHINE:
      g_free (*number);
      *number = NULL;
      g_clear_pointer (prefix, g_free);
      *prefix = g_strdup (value);
      return TRUE;
    case STRATA_HIGHLIGHT_VCPU:
      if (*prefix != NULL && (*prefix)[0] != '\0' && parse_number (*number, G_MAXINT, &n))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Highlight “%s”: a vCPU is MACHINE/N", text);
      break;
    case STRATA_HIGHLIGHT_CONTAINER:
      if ((*prefix == NULL || (*prefix)[0] != '\0') && parse_number (*number, G_MAXUINT64, &n))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Highlight “%s”: a container is its PID namespace's inode number, or MACHINE/INUM", text);
      break;
    case STRATA_HIGHLIGHT_PCPU:
      if ((*prefix == NULL || (*prefix)[0] != '\0') && parse_number (*number, G_MAXINT, &n))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Highlight “%s”: a physical CPU is HOST/N or N", text);
      break;
    case STRATA_HIGHLIGHT_THREAD:
    default:
      if ((*prefix == NULL || (*prefix)[0] != '\0') && parse_number (*number, G_MAXINT, &n))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Highlight “%s”: a thread is MACHINE/TID or TID", text);
      break;
    }
  g_clear_pointer (prefix, g_free);
  g_clear_pointer (number, g_free);
  return FALSE;
}

/**
 * strata_highlight_check_syntax:
 * @text: KIND=VALUE, as strata_highlight_add_parsed() takes it
 *
 * Checks @text without an analysis to resolve its names against.
 *
 * Returns: %FALSE with @error set (%G_IO_ERROR_INVALID_ARGUMENT) when it
 *   cannot be a highlight
 */
gboolean
strata_highlight_check_syntax (const char  *text,
                               GError     **error)
{
  g_autofree char *prefix = NULL;
  g_autofree char *number = NULL;
  StrataHighlightKind kind;

  return split (text, &kind, &prefix, &number, error);
}

static int
find_machine (StrataAnalysis *analysis,
              const char     *text,
              const char     *name,
              GError        **error)
{
  int m = strata_analysis_find_machine (analysis, name);

  if (m < 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "Highlight “%s”: no machine is named “%s”", text, name);
  return m;
}

/**
 * strata_highlight_add_parsed:
 * @scope: the analysis whose names @text uses
 * @text: `machine=NAME`, `vcpu=MACHINE/N`, `container=INUM` (or
 *   `MACHINE/INUM`), `pcpu=HOST/N` (or `N`: on every host),
 *   `thread=MACHINE/TID` (or `TID`: in every machine)
 *
 * Adds what @text selects.
 *
 * Returns: %FALSE with @error set when @text is not a highlight
 *   (%G_IO_ERROR_INVALID_ARGUMENT) or names nothing in @scope
 *   (%G_IO_ERROR_NOT_FOUND)
 */
gboolean
strata_highlight_add_parsed (StrataHighlight    *self,
                             StrataRenderScope  *scope,
                             const char         *text,
                             GError            **error)
{
  StrataAnalysis *analysis;
  g_autofree char *prefix = NULL;
  g_autofree char *number = NULL;
  StrataHighlightItem item = { 0, -1, -1, -1 };
  guint64 n = 0;
  gboolean found = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (scope != NULL, FALSE);

  if (!split (text, &item.kind, &prefix, &number, error))
    return FALSE;
  analysis = strata_render_scope_get_analysis (scope);
  if (number != NULL)
    parse_number (number, G_MAXUINT64, &n);
  if (prefix != NULL && (item.machine = find_machine (analysis, text, prefix, error)) < 0)
    return FALSE;

  switch (item.kind)
    {
    case STRATA_HIGHLIGHT_MACHINE:
      found = TRUE;
      break;

    case STRATA_HIGHLIGHT_VCPU:
    case STRATA_HIGHLIGHT_PCPU:
      item.number = (int) n;
      for (guint i = 0; i < strata_analysis_get_n_machines (analysis) && !found; i++)
        {
          const StrataAnalysisMachine *m = strata_analysis_get_machine (analysis, i);

          found = (item.machine < 0 || item.machine == (int) i) && n < m->n_cpus
                  && (item.kind == STRATA_HIGHLIGHT_VCPU ? m->layer > 0 : m->layer == 0);
        }
      if (!found)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Highlight “%s”: no such %s", text,
                     item.kind == STRATA_HIGHLIGHT_VCPU ? "vCPU" : "physical CPU");
      break;

    case STRATA_HIGHLIGHT_CONTAINER:
      for (guint i = 0; i < strata_render_scope_get_n_containers (scope); i++)
        {
          const StrataRenderContainer *c = strata_render_scope_get_container (scope, i);

          if (c->inum != n || (item.machine >= 0 && c->machine != item.machine))
            continue;
          item.container = (int) i;
          strata_highlight_add (self, &item);
          found = TRUE;
        }
      if (!found)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "Highlight “%s”: no container has PID namespace %" G_GUINT64_FORMAT, text, n);
      return found;

    case STRATA_HIGHLIGHT_THREAD:
    default:
      item.number = (int) n;
      for (guint i = 0; i < strata_render_scope_get_n_threads (scope) && !found; i++)
        {
          const StrataRenderThread *th = strata_render_scope_get_thread (scope, i);

          found = th->tid == item.number && (item.machine < 0 || th->machine == item.machine);
        }
      if (!found)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Highlight “%s”: no such thread", text);
      break;
    }

  if (found)
    strata_highlight_add (self, &item);
  return found;
}

static gboolean
thread_is (StrataRenderScope         *scope,
           int                        thread,
           const StrataHighlightItem *item)
{
  const StrataRenderThread *th;

  if (thread < 0 || (guint) thread >= strata_render_scope_get_n_threads (scope))
    return FALSE;
  th = strata_render_scope_get_thread (scope, (guint) thread);
  return th->tid == item->number && (item->machine < 0 || th->machine == item->machine);
}

/**
 * strata_highlight_matches_execution:
 * @scope: the analysis' scope
 * @host: the physical host
 * @cpu: its physical CPU
 * @machine: whose code runs there (for the hypervisor's work, the guest)
 * @vcpu: the vCPU of @machine, -1 on a host
 * @thread: the thread (a scope index), -1 unknown
 *
 * Whether what a physical CPU executes is selected: a pixel of the fused
 * view. The first call for a scope tabulates the selection per machine
 * and per thread, so the highlight must not be used from two threads at
 * once.
 *
 * Returns: %TRUE when selected (an empty highlight selects nothing)
 */
gboolean
strata_highlight_matches_execution (StrataHighlight   *self,
                                    StrataRenderScope *scope,
                                    int                host,
                                    int                cpu,
                                    int                machine,
                                    int                vcpu,
                                    int                thread)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (scope != NULL, FALSE);

  ensure_tables (self, scope);
  if (machine >= 0 && (guint) machine < self->n_machines && self->machine_sel[machine])
    return TRUE;
  if (thread >= 0 && (guint) thread < self->n_threads && self->thread_sel[thread])
    return TRUE;
  if (!self->per_cpu_items)
    return FALSE;
  for (guint i = 0; i < self->items->len; i++)
    {
      const StrataHighlightItem *item = &g_array_index (self->items, StrataHighlightItem, i);

      if (item->kind == STRATA_HIGHLIGHT_VCPU && machine == item->machine && vcpu == item->number)
        return TRUE;
      if (item->kind == STRATA_HIGHLIGHT_PCPU && (item->machine < 0 || item->machine == host)
          && cpu == item->number)
        return TRUE;
    }
  return FALSE;
}

/**
 * strata_highlight_matches_row:
 * @row: a vCPU or thread row (a physical CPU row is matched per pixel,
 *   with strata_highlight_matches_execution())
 *
 * Returns: whether the whole row is selected
 */
gboolean
strata_highlight_matches_row (StrataHighlight       *self,
                              StrataRenderScope     *scope,
                              const StrataRenderRow *row)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (row != NULL, FALSE);

  for (guint i = 0; i < self->items->len; i++)
    {
      const StrataHighlightItem *item = &g_array_index (self->items, StrataHighlightItem, i);

      switch (item->kind)
        {
        case STRATA_HIGHLIGHT_MACHINE:
          if (strata_render_scope_machine_runs (scope, item->machine, row->machine))
            return TRUE;
          break;
        case STRATA_HIGHLIGHT_VCPU:
          if (row->kind == STRATA_RENDER_ROW_VCPU && row->machine == item->machine && row->cpu == item->number)
            return TRUE;
          break;
        case STRATA_HIGHLIGHT_CONTAINER:
          if (row->kind == STRATA_RENDER_ROW_THREAD
              && strata_render_scope_container_holds (scope, item->container, row->thread))
            return TRUE;
          break;
        case STRATA_HIGHLIGHT_PCPU:
          if (row->kind == STRATA_RENDER_ROW_PCPU && (item->machine < 0 || item->machine == row->machine)
              && row->cpu == item->number)
            return TRUE;
          break;
        case STRATA_HIGHLIGHT_THREAD:
        default:
          if (row->kind == STRATA_RENDER_ROW_THREAD && thread_is (scope, row->thread, item))
            return TRUE;
          break;
        }
    }
  return FALSE;
}
