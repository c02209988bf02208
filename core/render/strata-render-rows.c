/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-render-rows"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <string.h>

#include "strata-render-rows.h"

/*
 * The row trees of the three views (research/summary.md §4), flat in tree
 * order: each row has its depth and its parent, so a view can fold
 * entries by skipping rows, and the time graph asks only for the rows it
 * shows.
 *
 * FVS: each physical host with its "PCPUs" (everything), its "Virtual
 * Machines" (each recursively the same, its PCPUs being the host's
 * physical CPUs filtered to when that VM or one it runs executes there)
 * and its "Containers" (PCPUs filtered to when one of their threads
 * executes, and the nested containers). The rows of the children add up
 * to their parent's.
 */

struct _StrataRenderRows
{
  gatomicrefcount    ref_count;
  StrataRenderScope *scope;       /* Owned */
  StrataRenderView   view;
  GArray            *rows;        /* StrataRenderRow */
};

typedef struct
{
  StrataRenderRows        *self;
  StrataAnalysis          *analysis;
  StrataRenderThreadOrder  order;
  char                    *search;   /* casefolded, or NULL */
  GPtrArray               *by_machine; /* per machine: GArray of thread indexes, sorted */
} Builder;

static void
row_clear (gpointer data)
{
  g_free (((StrataRenderRow *) data)->label);
}

static guint
add_row (StrataRenderRows    *self,
         int                  parent,
         StrataRenderRowKind  kind,
         char                *label)
{
  StrataRenderRow row = { 0 };

  row.label = label;
  row.parent = parent;
  row.depth = parent >= 0 ? g_array_index (self->rows, StrataRenderRow, parent).depth + 1 : 0;
  row.kind = kind;
  row.quark = STRATA_SHT_QUARK_INVALID;
  row.machine = parent >= 0 ? g_array_index (self->rows, StrataRenderRow, parent).machine : -1;
  row.cpu = -1;
  row.thread = -1;
  row.container = parent >= 0 ? g_array_index (self->rows, StrataRenderRow, parent).container : -1;
  if (parent >= 0)
    g_array_index (self->rows, StrataRenderRow, parent).has_children = TRUE;
  g_array_append_val (self->rows, row);
  return self->rows->len - 1;
}

static StrataRenderRow *
get_row (StrataRenderRows *self,
         guint             index)
{
  return &g_array_index (self->rows, StrataRenderRow, index);
}

/* Drops the rows from @len on, and the mark they left on their parent */
static void
truncate_rows (StrataRenderRows *self,
               guint             len,
               int               parent)
{
  g_array_set_size (self->rows, len);
  if (parent >= 0)
    {
      gboolean children = FALSE;

      for (guint i = (guint) parent + 1; i < len && !children; i++)
        children = get_row (self, i)->parent == parent;
      get_row (self, (guint) parent)->has_children = children;
    }
}

static char *
machine_label (StrataAnalysis *analysis,
               int             machine)
{
  const StrataAnalysisMachine *m = strata_analysis_get_machine (analysis, (guint) machine);

  return g_strdup_printf ("%s (L%d)", m->name, m->layer);
}

static char *
container_label (StrataRenderScope *scope,
                 int                container)
{
  const StrataRenderContainer *c = strata_render_scope_get_container (scope, (guint) container);

  return g_strdup_printf (_("container %" PRIu64), c->inum);
}

/* The physical CPUs of @host, filtered */
static void
add_pcpus (Builder            *b,
           int                 parent,
           int                 host,
           StrataRenderFilter  filter)
{
  const StrataAnalysisMachine *h = strata_analysis_get_machine (b->analysis, (guint) host);
  guint heading = add_row (b->self, parent, STRATA_RENDER_ROW_HEADING, g_strdup (_("PCPUs")));

  for (guint k = 0; k < h->n_cpus; k++)
    {
      guint r = add_row (b->self, (int) heading, STRATA_RENDER_ROW_PCPU, g_strdup_printf (_("CPU %u"), k));
      StrataRenderRow *row = get_row (b->self, r);

      row->quark = h->cpu_quarks[k];
      row->filter = filter;
      row->cpu = (int) k;
      /* A physical CPU row is about its host, whatever it is filtered to */
      row->machine = host;
    }
}

static void add_fvs_container (Builder *b, int parent, int host, int container);

static void
add_fvs_containers (Builder *b,
                    int      parent,
                    int      host,
                    int      machine,
                    int      container_parent)
{
  StrataRenderScope *scope = b->self->scope;
  int heading = -1;

  for (guint i = 0; i < strata_render_scope_get_n_containers (scope); i++)
    {
      const StrataRenderContainer *c = strata_render_scope_get_container (scope, i);

      if (c->machine != machine || c->parent != container_parent)
        continue;
      if (heading < 0)
        heading = (int) add_row (b->self, parent, STRATA_RENDER_ROW_HEADING, g_strdup (_("Containers")));
      add_fvs_container (b, heading, host, (int) i);
    }
}

static void
add_fvs_container (Builder *b,
                   int      parent,
                   int      host,
                   int      container)
{
  const StrataRenderContainer *c = strata_render_scope_get_container (b->self->scope, (guint) container);
  guint entry = add_row (b->self, parent, STRATA_RENDER_ROW_HEADING, container_label (b->self->scope, container));
  StrataRenderFilter filter = { STRATA_RENDER_FILTER_CONTAINER, c->machine, container };

  get_row (b->self, entry)->machine = c->machine;
  get_row (b->self, entry)->container = container;
  add_pcpus (b, (int) entry, host, filter);
  add_fvs_containers (b, (int) entry, host, c->machine, container);
}

static void
add_fvs_machine (Builder *b,
                 int      parent,
                 int      host,
                 int      machine)
{
  guint n = strata_analysis_get_n_machines (b->analysis);
  guint entry = add_row (b->self, parent, STRATA_RENDER_ROW_HEADING, machine_label (b->analysis, machine));
  StrataRenderFilter filter = { STRATA_RENDER_FILTER_NONE, -1, -1 };
  int vms = -1;

  get_row (b->self, entry)->machine = machine;
  if (machine != host)
    {
      filter.kind = STRATA_RENDER_FILTER_MACHINE;
      filter.machine = machine;
    }
  add_pcpus (b, (int) entry, host, filter);

  for (guint i = 0; i < n; i++)
    {
      if (strata_analysis_get_machine (b->analysis, i)->parent != machine || (int) i == machine)
        continue;
      if (vms < 0)
        vms = (int) add_row (b->self, (int) entry, STRATA_RENDER_ROW_HEADING, g_strdup (_("Virtual Machines")));
      add_fvs_machine (b, vms, host, (int) i);
    }
  add_fvs_containers (b, (int) entry, host, machine, -1);
}

static gboolean
thread_matches (Builder                  *b,
                const StrataRenderThread *th)
{
  g_autofree char *folded = NULL;
  char tid[16];

  if (b->search == NULL)
    return TRUE;
  folded = g_utf8_casefold (th->comm, -1);
  if (strstr (folded, b->search) != NULL)
    return TRUE;
  g_snprintf (tid, sizeof tid, "%d", th->tid);
  if (g_str_equal (tid, b->search))
    return TRUE;
  g_snprintf (tid, sizeof tid, "%d", th->vtid);
  return th->vtid >= 0 && g_str_equal (tid, b->search);
}

static char *
thread_label (const StrataRenderThread *th)
{
  if (th->vtid >= 0)
    return g_strdup_printf ("%s [%d, vtid %d]", th->comm[0] != '\0' ? th->comm : "?", th->tid, th->vtid);
  return g_strdup_printf ("%s [%d]", th->comm[0] != '\0' ? th->comm : "?", th->tid);
}

/* The threads of @machine directly in @container (-1: in none); returns
 * how many */
static guint
add_threads (Builder *b,
             int      parent,
             int      machine,
             int      container)
{
  StrataRenderScope *scope = b->self->scope;
  GArray *threads = g_ptr_array_index (b->by_machine, machine);
  guint n = 0;

  for (guint i = 0; i < threads->len; i++)
    {
      guint t = g_array_index (threads, guint, i);
      const StrataRenderThread *th = strata_render_scope_get_thread (scope, t);
      StrataRenderRow *row;
      guint r;

      if (th->container != container || !thread_matches (b, th))
        continue;
      r = add_row (b->self, parent, STRATA_RENDER_ROW_THREAD, thread_label (th));
      row = get_row (b->self, r);
      row->quark = th->q_status;
      row->machine = machine;
      row->thread = (int) t;
      row->container = th->container;
      n++;
    }
  return n;
}

/* A container's threads and nested containers, dropped when there are
 * none (or none that the search matches) */
static guint
add_thread_containers (Builder *b,
                       int      parent,
                       int      machine,
                       int      container_parent)
{
  StrataRenderScope *scope = b->self->scope;
  guint total = 0;

  for (guint i = 0; i < strata_render_scope_get_n_containers (scope); i++)
    {
      const StrataRenderContainer *c = strata_render_scope_get_container (scope, i);
      guint len = b->self->rows->len;
      guint entry, n;

      if (c->machine != machine || c->parent != container_parent)
        continue;
      entry = add_row (b->self, parent, STRATA_RENDER_ROW_HEADING, container_label (scope, (int) i));
      get_row (b->self, entry)->container = (int) i;
      n = add_threads (b, (int) entry, machine, (int) i);
      n += add_thread_containers (b, (int) entry, machine, (int) i);
      if (n == 0)
        truncate_rows (b->self, len, parent);
      total += n;
    }
  return total;
}

static void
add_thread_machine (Builder *b,
                    int      machine)
{
  guint len = b->self->rows->len;
  guint entry = add_row (b->self, -1, STRATA_RENDER_ROW_HEADING, machine_label (b->analysis, machine));
  guint n;

  get_row (b->self, entry)->machine = machine;
  n = add_threads (b, (int) entry, machine, -1);
  n += add_thread_containers (b, (int) entry, machine, -1);
  if (n == 0)
    truncate_rows (b->self, len, -1);
}

static void
add_vcpu_machine (Builder *b,
                  int      machine)
{
  const StrataAnalysisMachine *m = strata_analysis_get_machine (b->analysis, (guint) machine);
  const StrataAnalysisMachine *parent = strata_analysis_get_machine (b->analysis, (guint) m->parent);
  guint entry = add_row (b->self, -1, STRATA_RENDER_ROW_HEADING,
                         g_strdup_printf (_("%s (L%d, on %s)"), m->name, m->layer, parent->name));
  guint len;
  int heading;

  get_row (b->self, entry)->machine = machine;
  for (guint k = 0; k < m->n_cpus; k++)
    {
      guint r = add_row (b->self, (int) entry, STRATA_RENDER_ROW_VCPU, g_strdup_printf (_("vCPU %u"), k));
      StrataRenderRow *row = get_row (b->self, r);

      row->quark = m->cpu_quarks[k];
      row->cpu = (int) k;
    }
  len = b->self->rows->len;
  heading = (int) add_row (b->self, (int) entry, STRATA_RENDER_ROW_HEADING, g_strdup (_("Threads")));
  if (add_threads (b, heading, machine, -1) + add_thread_containers (b, heading, machine, -1) == 0)
    truncate_rows (b->self, len, (int) entry);
}

/* Hosts first, each followed by the VMs it runs, depth first */
static void
machine_order (StrataAnalysis *analysis,
               int             parent,
               GArray         *order)
{
  for (guint i = 0; i < strata_analysis_get_n_machines (analysis); i++)
    {
      const StrataAnalysisMachine *m = strata_analysis_get_machine (analysis, i);
      gboolean top = m->parent < 0 || (guint) m->parent >= strata_analysis_get_n_machines (analysis)
                     || (guint) m->parent == i;

      if (parent < 0 ? !top : (m->parent != parent || (int) i == parent))
        continue;
      g_array_append_val (order, i);
      machine_order (analysis, (int) i, order);
    }
}

static int
compare_threads (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  Builder *builder = user_data;
  guint x = *(const guint *) a;
  guint y = *(const guint *) b;
  const StrataRenderThread *tx = strata_render_scope_get_thread (builder->self->scope, x);
  const StrataRenderThread *ty = strata_render_scope_get_thread (builder->self->scope, y);

  if (builder->order == STRATA_RENDER_THREADS_BY_NAME)
    {
      int c = g_utf8_collate (tx->comm, ty->comm);

      if (c != 0)
        return c;
    }
  if (tx->tid != ty->tid)
    return tx->tid < ty->tid ? -1 : 1;
  /* A tid reused: the older thread first */
  return x < y ? -1 : x > y;
}

/**
 * strata_render_rows_new:
 * @scope: what there is to show
 * @view: which view
 * @order: the order of threads within their machine or container
 * @search: (nullable): show only the threads whose name contains it (case
 *   insensitive), or whose tid or vtid it is
 *
 * Returns: (transfer full): the rows of @view, in tree order
 */
StrataRenderRows *
strata_render_rows_new (StrataRenderScope       *scope,
                        StrataRenderView         view,
                        StrataRenderThreadOrder  order,
                        const char              *search)
{
  StrataRenderRows *self;
  Builder b = { 0 };
  g_autoptr(GArray) machines = g_array_new (FALSE, FALSE, sizeof (guint));
  guint n_machines;

  g_return_val_if_fail (scope != NULL, NULL);

  self = g_new0 (StrataRenderRows, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->scope = strata_render_scope_ref (scope);
  self->view = view;
  self->rows = g_array_new (FALSE, TRUE, sizeof (StrataRenderRow));
  g_array_set_clear_func (self->rows, row_clear);

  b.self = self;
  b.analysis = strata_render_scope_get_analysis (scope);
  b.order = order;
  b.search = search != NULL && search[0] != '\0' ? g_utf8_casefold (search, -1) : NULL;
  n_machines = strata_analysis_get_n_machines (b.analysis);
  b.by_machine = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint i = 0; i < n_machines; i++)
    g_ptr_array_add (b.by_machine, g_array_new (FALSE, FALSE, sizeof (guint)));
  for (guint t = 0; t < strata_render_scope_get_n_threads (scope); t++)
    {
      const StrataRenderThread *th = strata_render_scope_get_thread (scope, t);

      /* Idle tasks are the CPUs' idleness, shown as such elsewhere */
      if (th->machine >= 0 && th->tid > 0 && th->q_status != STRATA_SHT_QUARK_INVALID)
        g_array_append_val ((GArray *) g_ptr_array_index (b.by_machine, th->machine), t);
    }
  for (guint i = 0; i < n_machines; i++)
    {
      GArray *threads = g_ptr_array_index (b.by_machine, i);

      g_qsort_with_data (threads->data, (int) threads->len, sizeof (guint), compare_threads, &b);
    }

  machine_order (b.analysis, -1, machines);
  for (guint i = 0; i < machines->len; i++)
    {
      int m = (int) g_array_index (machines, guint, i);
      const StrataAnalysisMachine *machine = strata_analysis_get_machine (b.analysis, (guint) m);

      switch (view)
        {
        case STRATA_RENDER_VIEW_FVS:
          if (machine->layer == 0 && machine->parent < 0)
            add_fvs_machine (&b, -1, m, m);
          break;
        case STRATA_RENDER_VIEW_VCPUS:
          if (machine->layer > 0 && machine->parent >= 0)
            add_vcpu_machine (&b, m);
          break;
        case STRATA_RENDER_VIEW_THREADS:
        default:
          add_thread_machine (&b, m);
          break;
        }
    }

  g_ptr_array_unref (b.by_machine);
  g_free (b.search);
  return self;
}

StrataRenderRows *
strata_render_rows_ref (StrataRenderRows *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
strata_render_rows_unref (StrataRenderRows *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_pointer (&self->rows, g_array_unref);
  g_clear_pointer (&self->scope, strata_render_scope_unref);
  g_free (self);
}

/**
 * strata_render_rows_get_scope:
 *
 * Returns: (transfer none): the scope the rows were made from
 */
StrataRenderScope *
strata_render_rows_get_scope (StrataRenderRows *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->scope;
}

StrataRenderView
strata_render_rows_get_view (StrataRenderRows *self)
{
  g_return_val_if_fail (self != NULL, STRATA_RENDER_VIEW_FVS);
  return self->view;
}

guint
strata_render_rows_get_n_rows (StrataRenderRows *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->rows->len;
}

/**
 * strata_render_rows_get_row:
 *
 * Returns: (transfer none): the row
 */
const StrataRenderRow *
strata_render_rows_get_row (StrataRenderRows *self,
                            guint             index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->rows->len, NULL);
  return get_row (self, index);
}

const char *
strata_render_view_to_string (StrataRenderView view)
{
  switch (view)
    {
    case STRATA_RENDER_VIEW_VCPUS:
      return "vcpu";
    case STRATA_RENDER_VIEW_THREADS:
      return "threads";
    case STRATA_RENDER_VIEW_FVS:
    default:
      return "fvs";
    }
}

/**
 * strata_render_view_from_string:
 * @text: "fvs", "vcpu" or "threads" (as `strata-cli render --view`)
 *
 * Returns: whether @text names a view
 */
gboolean
strata_render_view_from_string (const char       *text,
                                StrataRenderView *view)
{
  static const StrataRenderView views[] = {
    STRATA_RENDER_VIEW_FVS, STRATA_RENDER_VIEW_VCPUS, STRATA_RENDER_VIEW_THREADS,
  };

  g_return_val_if_fail (view != NULL, FALSE);

  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (views); i++)
    if (g_str_equal (text, strata_render_view_to_string (views[i])))
      {
        *view = views[i];
        return TRUE;
      }
  return FALSE;
}
