/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-render-scope"

#include "config.h"

#include <stdlib.h>

#include "strata-render-scope.h"

/*
 * What the views show rows of: the machines (from the analysis), the
 * threads and the containers. The SHT has each thread's identity
 * (Threads/<i>/Info: machine, tid, pid, ppid, vtid, innermost PID
 * namespace) but not the namespaces' hierarchy, which only the analysis
 * summary has (machines[].containers[].parent_inum): without it,
 * containers are listed flat.
 *
 * A thread's identity is read once, as it was at the end of the history
 * (one 2D query over every thread's Info and Comm at the first and last
 * nanosecond). Identities change rarely (a fork learnt late, an exec, an
 * unshare), and a thread found in a container at the end was in it all
 * along as far as a view can tell.
 */

struct _StrataRenderScope
{
  gatomicrefcount  ref_count;
  StrataAnalysis  *analysis;      /* Owned */
  GArray          *threads;       /* StrataRenderThread, by SHT thread index */
  GArray          *containers;    /* StrataRenderContainer */
  int             *parents;       /* each machine's parent, by index */
  guint            n_machines;
};

static void
thread_clear (gpointer data)
{
  g_free (((StrataRenderThread *) data)->comm);
}

static int
compare_container_indexes (gconstpointer a,
                           gconstpointer b,
                           gpointer      user_data)
{
  GArray *containers = user_data;
  const StrataRenderContainer *x = &g_array_index (containers, StrataRenderContainer, *(const guint *) a);
  const StrataRenderContainer *y = &g_array_index (containers, StrataRenderContainer, *(const guint *) b);

  if (x->machine != y->machine)
    return x->machine < y->machine ? -1 : 1;
  return x->inum < y->inum ? -1 : x->inum > y->inum;
}

/* The container (machine, inum), added if new */
static int
ensure_container (StrataRenderScope *self,
                  GHashTable        *index,
                  int                machine,
                  guint64            inum)
{
  g_autofree char *key = g_strdup_printf ("%d/%" G_GUINT64_FORMAT, machine, inum);
  gpointer value;
  StrataRenderContainer c = { machine, inum, -1, 1, 0 };

  if (g_hash_table_lookup_extended (index, key, NULL, &value))
    return GPOINTER_TO_INT (value);
  g_array_append_val (self->containers, c);
  g_hash_table_insert (index, g_steal_pointer (&key), GINT_TO_POINTER (self->containers->len - 1));
  return (int) self->containers->len - 1;
}

/* Levels and parents from the summary's machines[].containers[] */
static void
read_summary (StrataRenderScope *self,
              GHashTable        *index,
              GHashTable        *parent_inums,
              JsonNode          *summary)
{
  JsonObject *root;
  JsonArray *machines;

  if (summary == NULL || !JSON_NODE_HOLDS_OBJECT (summary))
    return;
  root = json_node_get_object (summary);
  machines = json_object_has_member (root, "machines") ? json_object_get_array_member (root, "machines") : NULL;
  for (guint i = 0; machines != NULL && i < json_array_get_length (machines); i++)
    {
      JsonObject *m = json_array_get_object_element (machines, i);
      int machine = strata_analysis_find_machine (self->analysis, json_object_get_string_member_with_default (m, "name", ""));
      JsonArray *containers;

      if (machine < 0 || !json_object_has_member (m, "containers"))
        continue;
      containers = json_object_get_array_member (m, "containers");
      for (guint k = 0; containers != NULL && k < json_array_get_length (containers); k++)
        {
          JsonObject *c = json_array_get_object_element (containers, k);
          guint64 inum = (guint64) json_object_get_int_member_with_default (c, "pid_ns_inum", 0);
          int ci;

          if (inum == 0)
            continue;
          ci = ensure_container (self, index, machine, inum);
          g_array_index (self->containers, StrataRenderContainer, ci).level =
            (guint) MAX (1, json_object_get_int_member_with_default (c, "level", 1));
          if (json_object_has_member (c, "parent_inum") && !json_object_get_null_member (c, "parent_inum"))
            g_hash_table_insert (parent_inums, GINT_TO_POINTER (ci + 1),
                                 g_memdup2 (&(guint64) { (guint64) json_object_get_int_member (c, "parent_inum") },
                                            sizeof (guint64)));
        }
    }
}

/* The last string value of a row of a 2D query */
static const char *
last_string (StrataSht      *sht,
             StrataShtRange *range,
             guint           row)
{
  guint n = 0;
  const StrataShtInterval *iv = strata_sht_range_get_row (range, row, &n);

  for (guint i = n; i > 0; i--)
    if (iv[i - 1].value.type == STRATA_SHT_VALUE_STRING)
      return strata_sht_get_string (sht, iv[i - 1].value.u.str);
  return NULL;
}

/**
 * strata_render_scope_new:
 * @analysis: an analysis
 * @summary: (nullable): its summary (`strata-cli analyze --json`), for the
 *   nesting of containers
 *
 * Returns: (transfer full): the threads and containers of @analysis, or
 *   %NULL with @error set when its SHT cannot be read
 */
StrataRenderScope *
strata_render_scope_new (StrataAnalysis  *analysis,
                         JsonNode        *summary,
                         GError         **error)
{
  g_autoptr(StrataRenderScope) self = NULL;
  g_autoptr(GHashTable) index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) parent_inums = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr(GArray) children = NULL;
  g_autoptr(GArray) quarks = NULL;
  g_autoptr(StrataShtRange) range = NULL;
  g_autofree int *remap = NULL;
  g_autofree guint *order = NULL;
  g_autoptr(GArray) sorted = NULL;
  StrataSht *sht;
  guint n;
  guint32 q_threads;
  gint64 start, end;

  g_return_val_if_fail (analysis != NULL, NULL);

  sht = strata_analysis_get_sht (analysis);
  self = g_new0 (StrataRenderScope, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->analysis = strata_analysis_ref (analysis);
  self->threads = g_array_new (FALSE, TRUE, sizeof (StrataRenderThread));
  g_array_set_clear_func (self->threads, thread_clear);
  self->containers = g_array_new (FALSE, TRUE, sizeof (StrataRenderContainer));
  self->n_machines = strata_analysis_get_n_machines (analysis);
  self->parents = g_new (int, MAX (self->n_machines, 1));
  for (guint i = 0; i < self->n_machines; i++)
    self->parents[i] = strata_analysis_get_machine (analysis, i)->parent;

  /* Threads are numbered 0…n-1 in the SHT */
  q_threads = strata_sht_quark_lookup (sht, STRATA_SHT_ROOT, "Threads");
  if (q_threads != STRATA_SHT_QUARK_INVALID)
    children = strata_sht_quark_dup_children (sht, q_threads);
  g_array_set_size (self->threads, children != NULL ? children->len : 0);
  quarks = g_array_sized_new (FALSE, FALSE, sizeof (guint32), 2 * self->threads->len);
  for (guint i = 0; i < self->threads->len; i++)
    {
      StrataRenderThread *th = &g_array_index (self->threads, StrataRenderThread, i);
      g_autofree char *name = g_strdup_printf ("%u", i);
      guint32 q = strata_sht_quark_lookup (sht, q_threads, name);
      guint32 q_info = STRATA_SHT_QUARK_INVALID, q_comm = STRATA_SHT_QUARK_INVALID;

      th->machine = -1;
      th->tid = -1;
      th->pid = -1;
      th->vtid = -1;
      th->container = -1;
      th->q_status = STRATA_SHT_QUARK_INVALID;
      th->q_syscall = STRATA_SHT_QUARK_INVALID;
      if (q != STRATA_SHT_QUARK_INVALID)
        {
          q_info = strata_sht_quark_lookup (sht, q, "Info");
          q_comm = strata_sht_quark_lookup (sht, q, "Comm");
          th->q_status = strata_sht_quark_lookup (sht, q, "Status");
          th->q_syscall = strata_sht_quark_lookup (sht, q, "Syscall");
        }
      if (q_info == STRATA_SHT_QUARK_INVALID || q_comm == STRATA_SHT_QUARK_INVALID)
        {
          g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
                       "%s: not a fused analysis: thread %u has no Info or Comm",
                       strata_sht_get_path (sht), i);
          return NULL;
        }
      g_array_append_val (quarks, q_info);
      g_array_append_val (quarks, q_comm);
    }

  start = strata_analysis_get_start_time (analysis);
  end = MAX (start, strata_analysis_get_end_time (analysis));
  range = strata_sht_query_2d (sht, (const guint32 *) (gpointer) quarks->data, quarks->len,
                               start, end, MAX (1, end - start), error);
  if (range == NULL)
    return NULL;

  for (guint i = 0; i < self->threads->len; i++)
    {
      StrataRenderThread *th = &g_array_index (self->threads, StrataRenderThread, i);
      const char *info = last_string (sht, range, 2 * i);
      const char *comm = last_string (sht, range, 2 * i + 1);
      g_auto(GStrv) fields = info != NULL ? g_strsplit (info, "\t", 0) : NULL;

      th->comm = g_strdup (comm != NULL ? comm : "");
      if (fields == NULL || g_strv_length (fields) < 6)
        continue;
      th->machine = atoi (fields[0]);
      th->tid = atoi (fields[1]);
      th->pid = atoi (fields[2]);
      if (th->machine < 0 || (guint) th->machine >= self->n_machines)
        {
          th->machine = -1;
          continue;
        }
      if (!g_str_equal (fields[5], "-"))
        {
          th->vtid = atoi (fields[4]);
          th->container = ensure_container (self, index, th->machine, g_ascii_strtoull (fields[5], NULL, 10));
        }
    }

  read_summary (self, index, parent_inums, summary);

  /* In order of machine and inode, each with its parent */
  n = self->containers->len;
  order = g_new (guint, MAX (n, 1));
  remap = g_new (int, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    order[i] = i;
  g_qsort_with_data (order, (int) n, sizeof (guint), compare_container_indexes, self->containers);
  sorted = g_array_sized_new (FALSE, FALSE, sizeof (StrataRenderContainer), n);
  for (guint i = 0; i < n; i++)
    {
      g_array_append_val (sorted, g_array_index (self->containers, StrataRenderContainer, order[i]));
      remap[order[i]] = (int) i;
    }
  for (guint k = 0; k < n; k++)
    {
      guint64 *parent = g_hash_table_lookup (parent_inums, GINT_TO_POINTER (k + 1));
      StrataRenderContainer *c = &g_array_index (sorted, StrataRenderContainer, remap[k]);
      g_autofree char *key = NULL;
      gpointer value;

      if (parent == NULL)
        continue;
      key = g_strdup_printf ("%d/%" G_GUINT64_FORMAT, c->machine, *parent);
      if (g_hash_table_lookup_extended (index, key, NULL, &value))
        c->parent = remap[GPOINTER_TO_INT (value)];
    }
  g_array_unref (self->containers);
  self->containers = g_steal_pointer (&sorted);
  for (guint i = 0; i < self->threads->len; i++)
    {
      StrataRenderThread *th = &g_array_index (self->threads, StrataRenderThread, i);

      if (th->container >= 0)
        {
          th->container = remap[th->container];
          g_array_index (self->containers, StrataRenderContainer, th->container).n_threads++;
        }
    }

  return g_steal_pointer (&self);
}

StrataRenderScope *
strata_render_scope_ref (StrataRenderScope *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
strata_render_scope_unref (StrataRenderScope *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_pointer (&self->threads, g_array_unref);
  g_clear_pointer (&self->containers, g_array_unref);
  g_clear_pointer (&self->analysis, strata_analysis_unref);
  g_free (self->parents);
  g_free (self);
}

/**
 * strata_render_scope_get_analysis:
 *
 * Returns: (transfer none): the analysis
 */
StrataAnalysis *
strata_render_scope_get_analysis (StrataRenderScope *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->analysis;
}

guint
strata_render_scope_get_n_threads (StrataRenderScope *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->threads->len;
}

/**
 * strata_render_scope_get_thread:
 * @index: a thread as the SHT numbers them
 *
 * Returns: (transfer none): the thread; its @machine is -1 when the SHT
 *   does not say whose it is
 */
const StrataRenderThread *
strata_render_scope_get_thread (StrataRenderScope *self,
                                guint              index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->threads->len, NULL);
  return &g_array_index (self->threads, StrataRenderThread, index);
}

guint
strata_render_scope_get_n_containers (StrataRenderScope *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->containers->len;
}

/**
 * strata_render_scope_get_container:
 *
 * Containers are in order of machine, then inode number.
 *
 * Returns: (transfer none): the container
 */
const StrataRenderContainer *
strata_render_scope_get_container (StrataRenderScope *self,
                                   guint              index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->containers->len, NULL);
  return &g_array_index (self->containers, StrataRenderContainer, index);
}

/**
 * strata_render_scope_find_container:
 * @machine: the machine, or -1 for any
 * @inum: the PID namespace's inode number
 *
 * Returns: the first container with that inode (in @machine), or -1
 */
int
strata_render_scope_find_container (StrataRenderScope *self,
                                    int                machine,
                                    guint64            inum)
{
  g_return_val_if_fail (self != NULL, -1);

  for (guint i = 0; i < self->containers->len; i++)
    {
      const StrataRenderContainer *c = &g_array_index (self->containers, StrataRenderContainer, i);

      if (c->inum == inum && (machine < 0 || c->machine == machine))
        return (int) i;
    }
  return -1;
}

/**
 * strata_render_scope_machine_runs:
 *
 * Returns: whether @machine is @ancestor or a VM that it runs, directly
 *   or not
 */
gboolean
strata_render_scope_machine_runs (StrataRenderScope *self,
                                  int                ancestor,
                                  int                machine)
{
  /* Layers are few: a walk up is cheaper than a table */
  for (guint depth = 0; machine >= 0 && (guint) machine < self->n_machines && depth <= self->n_machines; depth++)
    {
      if (machine == ancestor)
        return TRUE;
      machine = self->parents[machine];
    }
  return FALSE;
}

/**
 * strata_render_scope_container_holds:
 * @container: a container index
 * @thread: a thread index
 *
 * Returns: whether @thread is in @container or in a container nested in it
 */
gboolean
strata_render_scope_container_holds (StrataRenderScope *self,
                                     int                container,
                                     int                thread)
{
  int c;

  if (thread < 0 || (guint) thread >= self->threads->len)
    return FALSE;
  c = g_array_index (self->threads, StrataRenderThread, thread).container;
  for (guint depth = 0; c >= 0 && depth <= self->containers->len; depth++)
    {
      if (c == container)
        return TRUE;
      c = g_array_index (self->containers, StrataRenderContainer, c).parent;
    }
  return FALSE;
}
