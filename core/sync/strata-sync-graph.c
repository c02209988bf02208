/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sync-graph"

#include "config.h"

#include <math.h>
#include <string.h>

#include "strata-sync-private.h"

/*
 * From the hulls of the pairs of traces to one transform per trace.
 *
 * The traces are the nodes of a graph; a pair of traces that exchanged
 * messages, or that share a clock, is an edge. The reference is the
 * user's choice, or else the physical host: a trace that runs virtual
 * machines and is no guest itself. Each trace gets the best path from the
 * reference: fewest edges that cannot synchronize (messages one way, or
 * contradicting each other), then fewest approximate ones, then the
 * smallest sum of accuracies. Transforms compose along the path, so that
 * an L2 guest goes through its L1, and the L1 through the host.
 */

typedef enum
{
  EDGE_GOOD,      /* accurate, or the same clock */
  EDGE_APPROX,    /* approximate: usable, accuracy unknown */
  EDGE_BAD,       /* incomplete or failed: only when nothing else reaches */
  EDGE_NONE,      /* ambiguous: never */
} EdgeClass;

typedef struct
{
  guint  n_bad;
  guint  n_approx;
  double accuracy;
  guint  hops;
} Cost;

typedef struct
{
  StrataSyncResult *result;
  GPtrArray        *pair_links;   /* StrataSyncLink *, or NULL for a shared clock, by pair */
  EdgeClass        *classes;      /* by pair */
  double           *costs;        /* accuracy of each good pair */
  GArray          **adjacent;     /* guint pair indexes, by trace */
  int              *parent_pair;  /* by trace, -1 */
} Solve;

static inline StrataSyncTrace *
trace_at (Solve *s,
          guint  i)
{
  return &g_array_index (s->result->traces, StrataSyncTrace, i);
}

static inline StrataSyncPair *
pair_at (Solve *s,
         guint  i)
{
  return &g_array_index (s->result->pairs, StrataSyncPair, i);
}

static int
compare_costs (const Cost *a,
               const Cost *b)
{
  if (a->n_bad != b->n_bad)
    return a->n_bad < b->n_bad ? -1 : 1;
  if (a->n_approx != b->n_approx)
    return a->n_approx < b->n_approx ? -1 : 1;
  if (a->accuracy != b->accuracy)
    return a->accuracy < b->accuracy ? -1 : 1;
  if (a->hops != b->hops)
    return a->hops < b->hops ? -1 : 1;
  return 0;
}

static guint
other_end (const StrataSyncPair *pair,
           guint                 trace)
{
  return pair->first == trace ? pair->second : pair->first;
}

/* The estimate of @child's clock against the other trace of @pair, over
 * [from, to] of @child's clock. */
static void
edge_estimate (Solve              *s,
               guint               pair_index,
               guint               child,
               gint64              from,
               gint64              to,
               StrataSyncEstimate *estimate)
{
  const StrataSyncPair *pair = pair_at (s, pair_index);
  const StrataSyncLink *link = g_ptr_array_index (s->pair_links, pair_index);

  if (pair->same_clock)
    {
      /* Same counter, different offsets: t − offset is the same instant. */
      const StrataSyncTrace *c = trace_at (s, child);
      const StrataSyncTrace *p = trace_at (s, other_end (pair, child));
      gint64 shift = p->clock_offset_ns - c->clock_offset_ns;

      estimate->quality = estimate->inner_quality = STRATA_SYNC_QUALITY_ACCURATE;
      strata_sync_transform_init_offset (&estimate->transform, shift);
      estimate->a_min = estimate->a_max = 1.0;
      estimate->b_min = estimate->b_max = (double) shift;
      estimate->accuracy_ns = 0.0;
      return;
    }

  strata_sync_hull_estimate (link->hull, child == pair->first ? STRATA_SYNC_SIDE_X : STRATA_SYNC_SIDE_Y,
                             from, to, estimate);
}

/* ---------------------------------------------------------------------- */
/* Pairs                                                                  */
/* ---------------------------------------------------------------------- */

static int
compare_links (gconstpointer a,
               gconstpointer b)
{
  const StrataSyncLink *la = *(StrataSyncLink * const *) a;
  const StrataSyncLink *lb = *(StrataSyncLink * const *) b;

  if (la->first != lb->first)
    return la->first < lb->first ? -1 : 1;
  return la->second < lb->second ? -1 : (la->second > lb->second);
}

static const char *
trace_name (Solve *s,
            guint  i)
{
  return trace_at (s, i)->path;
}

/* Whether a guest whose hypercalls went into @link shares its vm_uid
 * with another guest trace; @problem says which. */
static gboolean
link_is_ambiguous (Solve                   *s,
                   const StrataSyncLink    *link,
                   const StrataSyncMatcher *matcher,
                   char                   **problem)
{
  for (guint i = 0; i < link->vm_uids->len; i++)
    {
      guint64 vm_uid = g_array_index (link->vm_uids, guint64, i);
      guint n_guests;
      const guint *guests = strata_sync_matcher_get_guests (matcher, vm_uid, &n_guests);

      if (n_guests > 1)
        {
          *problem = g_strdup_printf ("the traces \"%s\" and \"%s\" both write the guest's sync "
                                      "events of vm_uid %" G_GUINT64_FORMAT ": their messages cannot "
                                      "be told apart, and none of this pair's is used",
                                      trace_name (s, guests[0]), trace_name (s, guests[1]), vm_uid);
          return TRUE;
        }
    }
  return FALSE;
}

static char *
describe_pair (Solve                *s,
               const StrataSyncPair *pair,
               const StrataSyncLink *link)
{
  const char *first = trace_name (s, pair->first), *second = trace_name (s, pair->second);

  switch (pair->quality)
    {
    case STRATA_SYNC_QUALITY_APPROXIMATE:
      return g_strdup_printf ("too few messages between \"%s\" and \"%s\" (%" G_GUINT64_FORMAT
                              " one way, %" G_GUINT64_FORMAT " the other) to bound the clock drift: "
                              "the transform is approximate and its accuracy unknown",
                              first, second, pair->n_first_to_second, pair->n_second_to_first);

    case STRATA_SYNC_QUALITY_INCOMPLETE:
      {
        gboolean forward = pair->n_first_to_second > 0;

        return g_strdup_printf ("messages from \"%s\" to \"%s\" only (%" G_GUINT64_FORMAT "), none "
                                "the other way: the clock offset is bounded on one side only and "
                                "the drift is unknown",
                                forward ? first : second, forward ? second : first,
                                forward ? pair->n_first_to_second : pair->n_second_to_first);
      }

    case STRATA_SYNC_QUALITY_FAIL:
      {
        guint64 index = 0;
        gint64 x = 0, y = 0;
        StrataSyncDirection direction = STRATA_SYNC_X_TO_Y;

        strata_sync_hull_get_failure (link->hull, &index, &x, &y, &direction);
        return g_strdup_printf ("the messages between \"%s\" and \"%s\" contradict each other: "
                                "message %" G_GUINT64_FORMAT " (sent at %" G_GINT64_FORMAT
                                " ns on \"%s\", received at %" G_GINT64_FORMAT " ns on \"%s\") "
                                "leaves no clock relation consistent with the earlier ones; the "
                                "estimate from those is kept, the %" G_GUINT64_FORMAT
                                " later messages are not used",
                                first, second, index + 1,
                                direction == STRATA_SYNC_X_TO_Y ? x : y,
                                direction == STRATA_SYNC_X_TO_Y ? first : second,
                                direction == STRATA_SYNC_X_TO_Y ? y : x,
                                direction == STRATA_SYNC_X_TO_Y ? second : first,
                                pair->n_first_to_second + pair->n_second_to_first - index - 1);
      }

    default:
      return NULL;
    }
}

/* Traces of one machine and boot share a clock: they are related exactly,
 * whether or not they exchanged messages. */
static gboolean
share_clock (Solve *s,
             guint  i,
             guint  j)
{
  const StrataSyncTrace *a = trace_at (s, i), *b = trace_at (s, j);

  return a->read_ok && b->read_ok && a->clock_uuid[0] != '\0'
         && g_str_equal (a->clock_uuid, b->clock_uuid);
}

static void
make_pairs (Solve                   *s,
            GPtrArray               *links,
            const StrataSyncMatcher *matcher)
{
  StrataSyncResult *result = s->result;
  guint n = result->traces->len;
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  g_autoptr(GPtrArray) placeholders = g_ptr_array_new_with_free_func ((GDestroyNotify) _strata_sync_link_free);

  g_ptr_array_extend (all, links, NULL, NULL);

  /* A pair that shares a clock without messages gets an empty link. */
  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      {
        gboolean found = FALSE;

        if (!share_clock (s, i, j))
          continue;
        for (guint k = 0; k < links->len && !found; k++)
          {
            const StrataSyncLink *l = g_ptr_array_index (links, k);
            found = l->first == i && l->second == j;
          }
        if (!found)
          {
            StrataSyncLink *l = _strata_sync_link_new (i, j);

            g_ptr_array_add (placeholders, l);
            g_ptr_array_add (all, l);
          }
      }
  g_ptr_array_sort (all, compare_links);

  for (guint k = 0; k < all->len; k++)
    {
      StrataSyncLink *link = g_ptr_array_index (all, k);
      guint index = result->pairs->len;
      StrataSyncPair pair = { 0 };
      g_autofree char *problem = NULL;

      pair.first = link->first;
      pair.second = link->second;
      pair.n_first_to_second = strata_sync_hull_get_n_matches (link->hull, STRATA_SYNC_X_TO_Y);
      pair.n_second_to_first = strata_sync_hull_get_n_matches (link->hull, STRATA_SYNC_Y_TO_X);
      pair.n_hull_points = strata_sync_hull_get_n_points (link->hull);
      pair.quality = strata_sync_hull_get_quality (link->hull);
      pair.same_clock = share_clock (s, link->first, link->second);

      if (pair.same_clock)
        {
          pair.quality = STRATA_SYNC_QUALITY_ACCURATE;
          s->classes[index] = EDGE_GOOD;
        }
      else if (link_is_ambiguous (s, link, matcher, &problem))
        {
          pair.ambiguous = TRUE;
          pair.quality = STRATA_SYNC_QUALITY_FAIL;
          pair.problem = g_steal_pointer (&problem);
          s->classes[index] = EDGE_NONE;
        }
      else
        {
          pair.problem = describe_pair (s, &pair, link);
          if (pair.quality == STRATA_SYNC_QUALITY_ACCURATE)
            s->classes[index] = EDGE_GOOD;
          else if (pair.quality == STRATA_SYNC_QUALITY_APPROXIMATE)
            s->classes[index] = EDGE_APPROX;
          else
            s->classes[index] = EDGE_BAD;
        }

      g_ptr_array_add (s->pair_links, pair.same_clock ? NULL : link);
      g_array_append_val (result->pairs, pair);
      g_array_append_val (s->adjacent[pair.first], index);
      g_array_append_val (s->adjacent[pair.second], index);
    }
}

/* ---------------------------------------------------------------------- */
/* The reference                                                          */
/* ---------------------------------------------------------------------- */

static guint
find_root (guint *parents,
           guint  i)
{
  while (parents[i] != i)
    {
      parents[i] = parents[parents[i]];
      i = parents[i];
    }
  return i;
}

static int
choose_reference (Solve       *s,
                  const char  *reference,
                  GError     **error)
{
  StrataSyncResult *result = s->result;
  guint n = result->traces->len;
  g_autofree guint *roots = g_new (guint, MAX (n, 1));
  g_autofree guint *sizes = g_new0 (guint, MAX (n, 1));
  int best = -1;
  guint best_key[4] = { 0 };

  if (reference != NULL)
    {
      g_autofree char *canonical = g_canonicalize_filename (reference, NULL);
      int by_host = -1;
      guint n_by_host = 0;

      for (guint i = 0; i < n; i++)
        {
          const StrataSyncTrace *t = trace_at (s, i);
          g_autofree char *path = g_canonicalize_filename (t->path, NULL);

          if (g_str_equal (t->path, reference) || g_str_equal (path, canonical))
            return (int) i;
          if (t->hostname[0] != '\0' && g_str_equal (t->hostname, reference))
            {
              by_host = by_host < 0 ? (int) i : by_host;
              n_by_host++;
            }
        }
      if (n_by_host == 1)
        return by_host;
      if (n_by_host > 1)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "Cannot choose the reference trace: \"%s\" is the host name of %u traces; "
                     "give the path of one", reference, n_by_host);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "Cannot choose the reference trace: \"%s\" is neither the path nor the host "
                     "name of a trace given", reference);
      return -2;
    }

  /* The traces that usable edges connect */
  for (guint i = 0; i < n; i++)
    roots[i] = i;
  for (guint p = 0; p < result->pairs->len; p++)
    if (s->classes[p] == EDGE_GOOD || s->classes[p] == EDGE_APPROX)
      {
        const StrataSyncPair *pair = pair_at (s, p);
        roots[find_root (roots, pair->first)] = find_root (roots, pair->second);
      }
  for (guint i = 0; i < n; i++)
    sizes[find_root (roots, i)]++;

  /* The physical host first, then a host that is also a guest, then any
   * trace that is no guest; among those, the one that reaches most. */
  for (guint i = 0; i < n; i++)
    {
      const StrataSyncTrace *t = trace_at (s, i);
      guint key[4] = { t->is_host && !t->is_guest, t->is_host, !t->is_guest, sizes[find_root (roots, i)] };
      gboolean better = best < 0;

      if (!t->read_ok)
        continue;
      for (guint k = 0; !better && k < G_N_ELEMENTS (key); k++)
        {
          if (key[k] != best_key[k])
            {
              better = key[k] > best_key[k];
              break;
            }
        }
      if (better)
        {
          best = (int) i;
          memcpy (best_key, key, sizeof key);
        }
    }

  return best;
}

/* ---------------------------------------------------------------------- */
/* Paths and transforms                                                   */
/* ---------------------------------------------------------------------- */

static void
shortest_paths (Solve  *s,
                guint   reference,
                GArray *order)
{
  guint n = s->result->traces->len;
  g_autofree Cost *dist = g_new0 (Cost, n);
  g_autofree gboolean *reached = g_new0 (gboolean, n);
  g_autofree gboolean *done = g_new0 (gboolean, n);

  reached[reference] = TRUE;

  for (;;)
    {
      int u = -1;

      for (guint i = 0; i < n; i++)
        if (reached[i] && !done[i] && (u < 0 || compare_costs (&dist[i], &dist[u]) < 0))
          u = (int) i;
      if (u < 0)
        break;

      done[u] = TRUE;
      g_array_append_val (order, u);

      for (guint k = 0; k < s->adjacent[u]->len; k++)
        {
          guint p = g_array_index (s->adjacent[u], guint, k);
          guint v = other_end (pair_at (s, p), (guint) u);
          Cost c = dist[u];

          if (done[v] || s->classes[p] == EDGE_NONE)
            continue;
          c.hops++;
          if (s->classes[p] == EDGE_BAD)
            c.n_bad++;
          else if (s->classes[p] == EDGE_APPROX)
            c.n_approx++;
          else
            c.accuracy += s->costs[p];

          if (!reached[v] || compare_costs (&c, &dist[v]) < 0)
            {
              reached[v] = TRUE;
              dist[v] = c;
              s->parent_pair[v] = (int) p;
            }
        }
    }
}

/*
 * A bound on the error of @node's composed transform over [from, to] of
 * its clock. The error of the edge to the parent, in the parent's clock,
 * is then mapped by the parent's estimated transform (its slope is exact
 * for a line) and added to the parent's own error over the times the
 * child's range maps to.
 */
static double
path_accuracy (Solve  *s,
               guint   node,
               gint64  from,
               gint64  to)
{
  const StrataSyncTrace *trace = trace_at (s, node);
  const StrataSyncTrace *parent;
  StrataSyncEstimate e;
  gint64 margin, parent_from, parent_to;
  guint p;

  if (trace->is_reference)
    return 0.0;
  if (s->parent_pair[node] < 0)
    return INFINITY;

  p = other_end (pair_at (s, (guint) s->parent_pair[node]), node);
  parent = trace_at (s, p);
  edge_estimate (s, (guint) s->parent_pair[node], node, from, to, &e);
  if (!isfinite (e.accuracy_ns))
    return INFINITY;

  margin = (gint64) ceil (e.accuracy_ns) + 1;
  parent_from = strata_sync_transform_apply (&e.transform, from) - margin;
  parent_to = strata_sync_transform_apply (&e.transform, to) + margin;

  return parent->transform.a * e.accuracy_ns + path_accuracy (s, p, parent_from, parent_to);
}

static void
compose_bounds (const StrataSyncTrace    *parent,
                const StrataSyncEstimate *e,
                StrataSyncTrace          *child)
{
  long double products[4];
  long double lo = INFINITY, hi = -INFINITY;

  if (!isfinite (parent->a_min) || !isfinite (parent->a_max) || !isfinite (parent->b_min)
      || !isfinite (parent->b_max) || !isfinite (e->a_min) || !isfinite (e->a_max)
      || !isfinite (e->b_min) || !isfinite (e->b_max))
    return;

  /* t_ref = a_p (a_e t + b_e) + b_p: the slopes multiply (all positive);
   * a_p·b_e takes its extremes at the corners. */
  child->a_min = nextafter ((double) ((long double) parent->a_min * e->a_min), -INFINITY);
  child->a_max = nextafter ((double) ((long double) parent->a_max * e->a_max), INFINITY);

  products[0] = (long double) parent->a_min * e->b_min;
  products[1] = (long double) parent->a_min * e->b_max;
  products[2] = (long double) parent->a_max * e->b_min;
  products[3] = (long double) parent->a_max * e->b_max;
  for (guint i = 0; i < G_N_ELEMENTS (products); i++)
    lo = MIN (lo, products[i]), hi = MAX (hi, products[i]);

  child->b_min = nextafter ((double) (lo + parent->b_min), -INFINITY);
  child->b_max = nextafter ((double) (hi + parent->b_max), INFINITY);
}

static void
solve_trace (Solve *s,
             guint  c)
{
  StrataSyncTrace *child = trace_at (s, c);
  guint pair_index = (guint) s->parent_pair[c];
  StrataSyncPair *pair = pair_at (s, pair_index);
  guint p = other_end (pair, c);
  const StrataSyncTrace *parent = trace_at (s, p);
  StrataSyncEstimate e;

  edge_estimate (s, pair_index, c, child->begin_ns, child->end_ns, &e);

  child->parent = (int) p;
  child->reference = s->result->reference;
  pair->used = TRUE;
  child->n_to_parent = pair->first == c ? pair->n_first_to_second : pair->n_second_to_first;
  child->n_from_parent = pair->first == c ? pair->n_second_to_first : pair->n_first_to_second;

  strata_sync_transform_compose (&parent->transform, &e.transform, &child->transform);
  compose_bounds (parent, &e, child);
  child->quality = MAX (parent->quality, e.quality);
  child->synchronized = parent->synchronized && (e.quality == STRATA_SYNC_QUALITY_ACCURATE
                                                 || e.quality == STRATA_SYNC_QUALITY_APPROXIMATE);
  child->accuracy_ns = path_accuracy (s, c, child->begin_ns, child->end_ns);

  if (pair->problem != NULL)
    _strata_sync_trace_add_problem (child, "%s", pair->problem);
  if (!parent->synchronized)
    _strata_sync_trace_add_problem (child, "synchronized through \"%s\", which is not "
                                    "synchronized itself", parent->path);
  if (!child->synchronized)
    _strata_sync_trace_add_problem (child, "not synchronized: the transform given is the best "
                                    "estimate there is");
}

static void
unreached_trace (Solve *s,
                 guint  c)
{
  StrataSyncTrace *trace = trace_at (s, c);
  gboolean has_pairs = FALSE, ambiguous = FALSE;

  trace->reference = s->result->reference;

  for (guint k = 0; k < s->adjacent[c]->len; k++)
    {
      const StrataSyncPair *pair = pair_at (s, g_array_index (s->adjacent[c], guint, k));

      has_pairs = TRUE;
      ambiguous |= pair->ambiguous;
      if (pair->problem != NULL)
        _strata_sync_trace_add_problem (trace, "%s", pair->problem);
    }

  trace->quality = ambiguous ? STRATA_SYNC_QUALITY_FAIL : STRATA_SYNC_QUALITY_ABSENT;

  if (!trace->read_ok)
    return;   /* the reading error says it all */
  if (s->result->reference < 0)
    _strata_sync_trace_add_problem (trace, "not synchronized: no trace could be read to be the "
                                    "reference; its own clock is used");
  else if (!has_pairs)
    _strata_sync_trace_add_problem (trace, "not synchronized: no message matched with any other "
                                    "trace; its own clock is used");
  else
    _strata_sync_trace_add_problem (trace, "not synchronized: no usable messages connect it to "
                                    "the reference \"%s\"; its own clock is used",
                                    trace_at (s, (guint) s->result->reference)->path);
}

/*
 * Fills @result, whose traces say what pass 1 read of each, from @links
 * (StrataSyncLink, hulls of the pairs that exchanged messages). @reference
 * is the user's choice of reference (path or host name), or %NULL.
 */
gboolean
_strata_sync_solve (StrataSyncResult        *result,
                    GPtrArray               *links,
                    const StrataSyncMatcher *matcher,
                    const char              *reference,
                    GError                 **error)
{
  guint n = result->traces->len;
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  Solve s = { 0 };
  guint max_pairs = links->len + n * (n - (n > 0)) / 2 + 1;
  int ref;
  gboolean ok = TRUE;

  s.result = result;
  s.pair_links = g_ptr_array_new ();
  s.classes = g_new0 (EdgeClass, max_pairs);
  s.costs = g_new0 (double, max_pairs);
  s.adjacent = g_new0 (GArray *, MAX (n, 1));
  s.parent_pair = g_new (int, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      s.adjacent[i] = g_array_new (FALSE, FALSE, sizeof (guint));
      s.parent_pair[i] = -1;
    }

  make_pairs (&s, links, matcher);

  /* The cost of a good edge: its accuracy over the second trace's span
   * (which side is the child is not known yet; the figure is close). */
  for (guint p = 0; p < result->pairs->len; p++)
    if (s.classes[p] == EDGE_GOOD)
      {
        const StrataSyncTrace *second = trace_at (&s, pair_at (&s, p)->second);
        StrataSyncEstimate e;

        edge_estimate (&s, p, pair_at (&s, p)->second, second->begin_ns, second->end_ns, &e);
        s.costs[p] = e.accuracy_ns;
      }

  ref = choose_reference (&s, reference, error);
  if (ref == -2)
    {
      ok = FALSE;
      goto out;
    }

  result->reference = ref;
  result->reference_chosen = reference != NULL;

  if (ref >= 0)
    {
      StrataSyncTrace *r = trace_at (&s, (guint) ref);

      r->is_reference = TRUE;
      r->reference = ref;
      r->synchronized = TRUE;
      r->quality = STRATA_SYNC_QUALITY_ACCURATE;
      r->accuracy_ns = 0.0;
      r->a_min = r->a_max = 1.0;
      r->b_min = r->b_max = 0.0;
      strata_sync_transform_init_identity (&r->transform);

      shortest_paths (&s, (guint) ref, order);
      for (guint k = 1; k < order->len; k++)
        solve_trace (&s, g_array_index (order, guint, k));
    }

  for (guint i = 0; i < n; i++)
    if (!trace_at (&s, i)->is_reference && s.parent_pair[i] < 0)
      unreached_trace (&s, i);

out:
  for (guint i = 0; i < n; i++)
    g_array_unref (s.adjacent[i]);
  g_free (s.adjacent);
  g_free (s.parent_pair);
  g_free (s.classes);
  g_free (s.costs);
  g_ptr_array_unref (s.pair_links);
  return ok;
}
