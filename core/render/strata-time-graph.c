/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-time-graph"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <string.h>

#include "strata-analysis-private.h"
#include "strata-render-format.h"
#include "strata-render-painter.h"
#include "strata-time-graph.h"

/*
 * The model of a time graph: for the rows shown × [t0, t0 + width·res),
 * one bin per pixel, from one 2D query of the SHT per frame (STYLE.md
 * §16: drawing is O(pixels), never O(events)).
 *
 * Pixel x covers [t0 + x·res, t0 + (x+1)·res) and shows the state at its
 * first nanosecond, the query's sample x. The query also asks for sample
 * `width`, one past the last pixel, so that every pixel knows what starts
 * inside it: where the SHT skipped intervals between two samples
 * (STRATA_SHT_INTERVAL_HIDDEN_AFTER), the pixel is flagged HIDDEN and the
 * painter marks it; in a filtered row, a pixel whose sample the filter
 * does not show but where a shown state begins takes that state, flagged
 * PARTIAL. Sub-pixel activity is never silently dropped.
 *
 * Because each pixel depends only on samples x and x+1, panning by whole
 * pixels recomputes only the columns that scrolled in, and slices of
 * columns are computed in parallel. Rows that stay visible when others
 * are scrolled in keep their bins: only the new rows are queried.
 */

struct _StrataTimeGraph
{
  gatomicrefcount     ref_count;
  StrataRenderRows   *rows;        /* Owned */
  StrataRenderScope  *scope;       /* Borrowed from rows */
  GArray             *visible;     /* guint: row indexes, in order */
  GArray             *quarks;      /* guint32: their attributes, headings left out */
  GArray             *quark_rows;  /* guint: the position of each quark's row */
  GArray             *stale;       /* guint: indexes in quarks of rows without bins yet */

  gint64              t0;
  gint64              res;
  guint               width;
  gboolean            valid;
  StrataTimeGraphBin *bins;        /* visible->len × width */
  guint               n_queried;   /* columns the last update queried */
};

static void
rebuild_quarks (StrataTimeGraph *self)
{
  g_array_set_size (self->quarks, 0);
  g_array_set_size (self->quark_rows, 0);
  for (guint p = 0; p < self->visible->len; p++)
    {
      const StrataRenderRow *row = strata_render_rows_get_row (self->rows, g_array_index (self->visible, guint, p));

      if (row->kind == STRATA_RENDER_ROW_HEADING || row->quark == STRATA_SHT_QUARK_INVALID)
        continue;
      g_array_append_val (self->quarks, row->quark);
      g_array_append_val (self->quark_rows, p);
    }
  self->valid = FALSE;
}

static void
set_empty (StrataTimeGraphBin *bins,
           guint               from,
           guint               to)
{
  for (guint x = from; x < to; x++)
    {
      bins[x].state = STRATA_TIME_GRAPH_BIN_EMPTY;
      bins[x].flags = 0;
      bins[x].vcpu = -1;
      bins[x].machine = 0;
      bins[x].reserved = 0;
      bins[x].thread = 0;
    }
}

/**
 * strata_time_graph_new:
 * @rows: the rows of a view
 *
 * Returns: (transfer full): a model showing every row of @rows, empty
 *   until strata_time_graph_update()
 */
StrataTimeGraph *
strata_time_graph_new (StrataRenderRows *rows)
{
  StrataTimeGraph *self;

  g_return_val_if_fail (rows != NULL, NULL);

  self = g_new0 (StrataTimeGraph, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->rows = strata_render_rows_ref (rows);
  self->scope = strata_render_rows_get_scope (rows);
  self->visible = g_array_new (FALSE, FALSE, sizeof (guint));
  self->quarks = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->quark_rows = g_array_new (FALSE, FALSE, sizeof (guint));
  self->stale = g_array_new (FALSE, FALSE, sizeof (guint));
  strata_time_graph_set_visible_rows (self, NULL, 0);
  return self;
}

StrataTimeGraph *
strata_time_graph_ref (StrataTimeGraph *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
strata_time_graph_unref (StrataTimeGraph *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_array_unref (self->visible);
  g_array_unref (self->quarks);
  g_array_unref (self->quark_rows);
  g_array_unref (self->stale);
  g_free (self->bins);
  strata_render_rows_unref (self->rows);
  g_free (self);
}

/**
 * strata_time_graph_get_rows:
 *
 * Returns: (transfer none): the rows
 */
StrataRenderRows *
strata_time_graph_get_rows (StrataTimeGraph *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->rows;
}

/**
 * strata_time_graph_get_scope:
 *
 * Returns: (transfer none): the rows' scope
 */
StrataRenderScope *
strata_time_graph_get_scope (StrataTimeGraph *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->scope;
}

/**
 * strata_time_graph_set_visible_rows:
 * @rows: (array length=n_rows) (nullable): indexes of rows of the
 *   #StrataRenderRows, in the order to show them; %NULL for all
 *
 * Which rows the model has bins for (a view leaves out folded entries and
 * rows scrolled away). Rows that were already shown keep their bins; the
 * others are computed at the next update.
 */
void
strata_time_graph_set_visible_rows (StrataTimeGraph *self,
                                    const guint     *rows,
                                    guint            n_rows)
{
  guint n = strata_render_rows_get_n_rows (self->rows);
  g_autoptr(GArray) old_visible = NULL;
  g_autofree StrataTimeGraphBin *old_bins = NULL;
  g_autoptr(GHashTable) old_positions = NULL;

  g_return_if_fail (self != NULL);
  for (guint i = 0; rows != NULL && i < n_rows; i++)
    g_return_if_fail (rows[i] < n);

  old_visible = g_array_copy (self->visible);
  old_bins = g_steal_pointer (&self->bins);
  g_array_set_size (self->visible, 0);
  if (rows == NULL)
    for (guint i = 0; i < n; i++)
      g_array_append_val (self->visible, i);
  else
    g_array_append_vals (self->visible, rows, n_rows);
  rebuild_quarks (self);
  g_array_set_size (self->stale, 0);

  if (!self->valid || old_bins == NULL)
    {
      self->valid = FALSE;
      self->width = 0;
      return;
    }

  /* Rows still shown keep their bins; the others are queried at the next
   * update, if the range stays */
  old_positions = g_hash_table_new (NULL, NULL);
  for (guint q = 0; q < old_visible->len; q++)
    g_hash_table_insert (old_positions, GUINT_TO_POINTER (g_array_index (old_visible, guint, q)),
                         GUINT_TO_POINTER (q + 1));
  self->bins = g_new (StrataTimeGraphBin, MAX ((gsize) self->visible->len * self->width, 1));
  for (guint p = 0; p < self->visible->len; p++)
    set_empty (self->bins + (gsize) p * self->width, 0, self->width);
  for (guint k = 0; k < self->quarks->len; k++)
    {
      guint p = g_array_index (self->quark_rows, guint, k);
      guint q = GPOINTER_TO_UINT (g_hash_table_lookup (old_positions,
                                                       GUINT_TO_POINTER (g_array_index (self->visible, guint, p))));

      if (q > 0)
        memcpy (self->bins + (gsize) p * self->width, old_bins + (gsize) (q - 1) * self->width,
                self->width * sizeof (StrataTimeGraphBin));
      else
        g_array_append_val (self->stale, k);
    }
}

/**
 * strata_time_graph_invalidate:
 *
 * Makes the next update recompute every bin (after the history grew, or
 * to measure a whole frame).
 */
void
strata_time_graph_invalidate (StrataTimeGraph *self)
{
  g_return_if_fail (self != NULL);
  self->valid = FALSE;
}

/* A row's interval value, as a bin */
static void
decode (StrataTimeGraph       *self,
        const StrataRenderRow *row,
        const StrataShtValue  *value,
        StrataTimeGraphBin    *bin)
{
  bin->flags = 0;
  bin->vcpu = -1;
  bin->machine = (guint16) MAX (row->machine, 0);
  bin->reserved = 0;
  bin->thread = 0;

  switch (row->kind)
    {
    case STRATA_RENDER_ROW_PCPU:
      if (value->type == STRATA_SHT_VALUE_INT64)
        {
          guint32 thread_plus_one;
          guint machine;
          int vcpu;
          StrataCpuStatus status;

          _strata_fused_unpack (value->u.i64, &thread_plus_one, &machine, &vcpu, &status);
          bin->state = (guint8) status;
          bin->machine = (guint16) machine;
          bin->vcpu = (gint16) vcpu;
          bin->thread = thread_plus_one;
        }
      else
        bin->state = STRATA_CPU_UNKNOWN;
      break;

    case STRATA_RENDER_ROW_VCPU:
      if (value->type == STRATA_SHT_VALUE_INT64)
        {
          StrataVcpuState state;
          int exit_reason, pcpu;
          guint isa;

          _strata_vcpu_unpack (value->u.i64, &state, &exit_reason, &isa, &pcpu);
          bin->state = (guint8) state;
          bin->vcpu = (gint16) pcpu;
        }
      else
        bin->state = STRATA_VCPU_UNKNOWN;
      break;

    case STRATA_RENDER_ROW_THREAD:
      /* Null: the thread did not exist yet */
      bin->state = value->type == STRATA_SHT_VALUE_INT32 ? (guint8) value->u.i32 : STRATA_TIME_GRAPH_BIN_EMPTY;
      break;

    case STRATA_RENDER_ROW_HEADING:
    default:
      bin->state = STRATA_TIME_GRAPH_BIN_EMPTY;
      break;
    }
}

/* Whether a filtered row shows a bin */
static gboolean
filter_shows (StrataTimeGraph          *self,
              const StrataRenderRow    *row,
              const StrataTimeGraphBin *bin)
{
  switch (row->filter.kind)
    {
    case STRATA_RENDER_FILTER_MACHINE:
      return strata_render_scope_machine_runs (self->scope, row->filter.machine, bin->machine);
    case STRATA_RENDER_FILTER_CONTAINER:
      return bin->machine == row->filter.machine
             && strata_render_scope_container_holds (self->scope, row->filter.container, (int) bin->thread - 1);
    case STRATA_RENDER_FILTER_NONE:
    default:
      return TRUE;
    }
}

/* The rows to compute: indexes in self->quarks, or all when NULL */
typedef struct
{
  const guint *rows;
  guint        n;
} Job;

static guint
job_quark (const Job *job,
           guint      i)
{
  return job->rows != NULL ? job->rows[i] : i;
}

/* Columns [a, b] of the job's rows, from one 2D query of samples a … b+1 */
static gboolean
compute_columns (StrataTimeGraph  *self,
                 const Job        *job,
                 guint             a,
                 guint             b,
                 GError          **error)
{
  g_autofree guint32 *quarks = NULL;
  StrataSht *sht = strata_analysis_get_sht (strata_render_scope_get_analysis (self->scope));
  gint64 hs = strata_sht_get_start_time (sht);
  gint64 he = strata_sht_get_end_time (sht);
  g_autoptr(StrataShtRange) range = NULL;
  gint64 q0, q1;
  guint first = a;

  if (job->n == 0)
    return TRUE;
  quarks = g_new (guint32, job->n);
  for (guint i = 0; i < job->n; i++)
    {
      guint k = job_quark (job, i);

      quarks[i] = g_array_index (self->quarks, guint32, k);
      set_empty (self->bins + (gsize) g_array_index (self->quark_rows, guint, k) * self->width, a, b + 1);
    }

  /* Samples stay on the pixel grid: the first one in the history */
  q0 = self->t0 + (gint64) a * self->res;
  if (q0 < hs)
    {
      gint64 skip = (hs - q0 + self->res - 1) / self->res;

      if ((gint64) b - (gint64) a < skip)
        return TRUE;
      first = a + (guint) skip;
      q0 = self->t0 + (gint64) first * self->res;
    }
  q1 = self->t0 + (gint64) (b + 1) * self->res;
  if (q0 > he)
    return TRUE;
  q1 = MIN (q1, he);

  range = strata_sht_query_2d (sht, quarks, job->n, q0, q1, self->res, error);
  if (range == NULL)
    return FALSE;

  for (guint i = 0; i < job->n; i++)
    {
      guint p = g_array_index (self->quark_rows, guint, job_quark (job, i));
      const StrataRenderRow *row = strata_render_rows_get_row (self->rows, g_array_index (self->visible, guint, p));
      StrataTimeGraphBin *bins = self->bins + (gsize) p * self->width;
      gboolean filtered = row->filter.kind != STRATA_RENDER_FILTER_NONE;
      StrataShtRangeIter iter;
      const StrataShtInterval *iv;
      const StrataShtInterval *next;

      strata_sht_range_iter_init (&iter, range, i, FALSE);
      iv = strata_sht_range_iter_next (&iter);
      for (; iv != NULL; iv = next)
        {
          StrataTimeGraphBin bin;
          guint64 sa, sb;
          gboolean shown;

          next = strata_sht_range_iter_next (&iter);
          sa = iv->start <= q0 ? 0 : ((guint64) (iv->start - q0) + (guint64) self->res - 1) / (guint64) self->res;
          sb = ((guint64) (MIN (iv->end, q1) - q0)) / (guint64) self->res;
          if (sa > sb || first + sa > b)
            continue;

          decode (self, row, &iv->value, &bin);
          shown = !filtered || filter_shows (self, row, &bin);
          if (shown)
            for (guint64 s = sa; s <= MIN (sb, (guint64) (b - first)); s++)
              bins[first + s] = bin;
          /* The lookahead sample's state: nothing more to learn */
          if (first + sb > b)
            continue;

          /* Its last pixel: what begins inside it */
          if (iv->flags & STRATA_SHT_INTERVAL_HIDDEN_AFTER)
            bins[first + sb].flags |= STRATA_TIME_GRAPH_BIN_HIDDEN;
          if (!shown && next != NULL && next->start < q0 + (gint64) (sb + 1) * self->res)
            {
              StrataTimeGraphBin after;

              decode (self, row, &next->value, &after);
              if (filter_shows (self, row, &after))
                {
                  after.flags = bins[first + sb].flags | STRATA_TIME_GRAPH_BIN_PARTIAL;
                  bins[first + sb] = after;
                }
            }
        }
    }
  return TRUE;
}

typedef struct
{
  StrataTimeGraph *self;
  const Job       *job;
  guint            a;
  guint            b;
  gboolean         ok;
  GError          *error;
} Chunk;

static gpointer
chunk_thread (gpointer data)
{
  Chunk *c = data;

  c->ok = compute_columns (c->self, c->job, c->a, c->b, &c->error);
  return NULL;
}

/* Columns [a, b], in parallel: each column depends only on its own two
 * samples, so slices of columns are independent queries writing apart,
 * and the SHT takes any number of readers. A whole-history frame of a
 * large SHT decodes thousands of nodes; a zoomed one a few. */
static gboolean
compute (StrataTimeGraph  *self,
         const Job        *job,
         guint             a,
         guint             b,
         GError          **error)
{
  guint n = b - a + 1;
  guint k = (guint) CLAMP (g_get_num_processors (), 1, 8);
  Chunk chunks[8];
  GThread *threads[8] = { NULL };
  gboolean ok = TRUE;

  self->n_queried += n;
  /* Below a few hundred columns a thread costs more than it saves */
  k = MIN (k, n / 128);
  if (k <= 1 || job->n == 0)
    return compute_columns (self, job, a, b, error);

  for (guint i = 0; i < k; i++)
    {
      chunks[i].self = self;
      chunks[i].job = job;
      chunks[i].a = a + n * i / k;
      chunks[i].b = a + n * (i + 1) / k - 1;
      chunks[i].ok = FALSE;
      chunks[i].error = NULL;
    }
  for (guint i = 1; i < k; i++)
    threads[i] = g_thread_new ("strata-time-graph", chunk_thread, &chunks[i]);
  chunk_thread (&chunks[0]);
  for (guint i = 1; i < k; i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < k; i++)
    {
      if (!chunks[i].ok && ok)
        {
          g_propagate_error (error, chunks[i].error);
          chunks[i].error = NULL;
          ok = FALSE;
        }
      g_clear_error (&chunks[i].error);
    }
  return ok;
}

/**
 * strata_time_graph_update:
 * @t0: the time at the left edge
 * @t1: the time at the right edge
 * @width: pixels between them (≥ 1)
 *
 * Computes the bins of [@t0, @t1] at one per pixel: the resolution is
 * (@t1 − @t0) / @width rounded up to a whole nanosecond (at least 1), so
 * the bins may reach a little past @t1. After a pan by whole pixels at
 * the same resolution, only the new columns are queried; after
 * strata_time_graph_set_visible_rows() at the same range, only the new
 * rows.
 *
 * Returns: %FALSE with @error set when the SHT cannot be read
 */
gboolean
strata_time_graph_update (StrataTimeGraph  *self,
                          gint64            t0,
                          gint64            t1,
                          guint             width,
                          GError          **error)
{
  gint64 res;
  gint64 shift;
  guint n;
  Job all = { NULL, 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (width >= 1, FALSE);
  g_return_val_if_fail (t1 >= t0, FALSE);

  n = self->visible->len;
  all.n = self->quarks->len;
  res = MAX (1, (t1 - t0 + (gint64) width - 1) / (gint64) width);
  self->n_queried = 0;

  if (self->valid && self->bins != NULL && width == self->width && res == self->res
      && (t0 - self->t0) % res == 0
      && (shift = (t0 - self->t0) / res) > -(gint64) width && shift < (gint64) width
      && (shift == 0 || self->stale->len == 0))
    {
      guint s = (guint) ABS (shift);

      self->t0 = t0;
      if (shift == 0)
        {
          /* The same range: only rows scrolled in */
          Job stale = { (const guint *) (gpointer) self->stale->data, self->stale->len };

          if (stale.n == 0)
            return TRUE;
          self->valid = FALSE;
          if (!compute (self, &stale, 0, width - 1, error))
            return FALSE;
          g_array_set_size (self->stale, 0);
          self->valid = TRUE;
          return TRUE;
        }
      for (guint p = 0; p < n; p++)
        {
          StrataTimeGraphBin *bins = self->bins + (gsize) p * width;

          if (shift > 0)
            memmove (bins, bins + s, (width - s) * sizeof *bins);
          else
            memmove (bins + s, bins, (width - s) * sizeof *bins);
        }
      self->valid = FALSE;
      if (!(shift > 0 ? compute (self, &all, width - s, width - 1, error)
                      : compute (self, &all, 0, s - 1, error)))
        return FALSE;
      self->valid = TRUE;
      return TRUE;
    }

  if (width != self->width || self->bins == NULL)
    {
      g_free (self->bins);
      self->bins = g_new (StrataTimeGraphBin, MAX ((gsize) n * width, 1));
    }
  self->t0 = t0;
  self->res = res;
  self->width = width;
  self->valid = FALSE;
  g_array_set_size (self->stale, 0);
  /* Headings and rows without data stay empty */
  for (guint p = 0; p < n; p++)
    set_empty (self->bins + (gsize) p * width, 0, width);
  if (!compute (self, &all, 0, width - 1, error))
    return FALSE;
  self->valid = TRUE;
  return TRUE;
}

guint
strata_time_graph_get_width (StrataTimeGraph *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->width;
}

gint64
strata_time_graph_get_start (StrataTimeGraph *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->t0;
}

/**
 * strata_time_graph_get_resolution:
 *
 * Returns: the nanoseconds per pixel
 */
gint64
strata_time_graph_get_resolution (StrataTimeGraph *self)
{
  g_return_val_if_fail (self != NULL, 1);
  return MAX (self->res, 1);
}

/**
 * strata_time_graph_get_bin_time:
 * @x: a pixel
 *
 * Returns: the time the bin at @x shows the state of (its first
 *   nanosecond)
 */
gint64
strata_time_graph_get_bin_time (StrataTimeGraph *self,
                                guint            x)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->t0 + (gint64) x * self->res;
}

guint
strata_time_graph_get_n_rows (StrataTimeGraph *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->visible->len;
}

/**
 * strata_time_graph_get_row:
 * @position: a row of the model (0: the first visible row)
 *
 * Returns: (transfer none): the row
 */
const StrataRenderRow *
strata_time_graph_get_row (StrataTimeGraph *self,
                           guint            position)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (position < self->visible->len, NULL);
  return strata_render_rows_get_row (self->rows, g_array_index (self->visible, guint, position));
}

/**
 * strata_time_graph_get_row_index:
 *
 * Returns: the index in the #StrataRenderRows of the row at @position
 */
guint
strata_time_graph_get_row_index (StrataTimeGraph *self,
                                 guint            position)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (position < self->visible->len, 0);
  return g_array_index (self->visible, guint, position);
}

/**
 * strata_time_graph_get_bins:
 * @position: a row of the model
 *
 * Returns: (transfer none) (array): the row's bins, one per pixel of the
 *   last update, or %NULL before one
 */
const StrataTimeGraphBin *
strata_time_graph_get_bins (StrataTimeGraph *self,
                            guint            position)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (position < self->visible->len, NULL);
  if (self->bins == NULL || !self->valid)
    return NULL;
  return self->bins + (gsize) position * self->width;
}

/**
 * strata_time_graph_get_n_queried_columns:
 *
 * Returns: how many columns the last update queried (the width, or fewer
 *   after a pan)
 */
guint
strata_time_graph_get_n_queried_columns (StrataTimeGraph *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_queried;
}

/**
 * strata_time_graph_is_selected:
 * @highlight: a highlight
 * @position: a row of the model
 * @x: a pixel
 *
 * Whether @highlight selects the bin: in a physical CPU row, by what runs
 * there; in others, by the row. Empty bins and headings are not selected.
 *
 * Returns: %TRUE when selected
 */
gboolean
strata_time_graph_is_selected (StrataTimeGraph *self,
                               StrataHighlight *highlight,
                               guint            position,
                               guint            x)
{
  const StrataRenderRow *row;
  const StrataTimeGraphBin *bin;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (highlight != NULL, FALSE);

  row = strata_time_graph_get_row (self, position);
  if (row == NULL || row->kind == STRATA_RENDER_ROW_HEADING || self->bins == NULL || x >= self->width)
    return FALSE;
  bin = &self->bins[(gsize) position * self->width + x];
  if (bin->state == STRATA_TIME_GRAPH_BIN_EMPTY)
    return FALSE;
  if (row->kind == STRATA_RENDER_ROW_PCPU)
    return strata_highlight_matches_execution (highlight, self->scope, row->machine, row->cpu, bin->machine,
                                               bin->vcpu, (int) bin->thread - 1);
  return strata_highlight_matches_row (highlight, self->scope, row);
}

void
strata_time_graph_item_clear (StrataTimeGraphItem *item)
{
  strata_thread_info_clear (&item->thread_info);
  g_clear_pointer (&item->syscall, g_free);
}

static gboolean
query_string (StrataSht  *sht,
              guint32     quark,
              gint64      t,
              char      **out,
              GError    **error)
{
  StrataShtInterval iv;

  if (quark == STRATA_SHT_QUARK_INVALID)
    return TRUE;
  if (!strata_sht_query_single (sht, quark, t, &iv, error))
    return FALSE;
  if (iv.value.type == STRATA_SHT_VALUE_STRING)
    *out = g_strdup (strata_sht_get_string (sht, iv.value.u.str));
  return TRUE;
}

/* The vCPUs that execute @machine's vCPU on physical CPU @cpu at @t: each
 * ancestor VM's vCPU running there */
static gboolean
find_chain (StrataTimeGraph     *self,
            StrataTimeGraphItem *item,
            GError             **error)
{
  StrataAnalysis *analysis = strata_render_scope_get_analysis (self->scope);
  StrataSht *sht = strata_analysis_get_sht (analysis);
  int m;

  item->n_chain = 0;
  if (item->vcpu < 0)
    return TRUE;
  item->chain_machine[0] = item->machine;
  item->chain_vcpu[0] = item->vcpu;
  item->n_chain = 1;
  m = strata_analysis_get_machine (analysis, (guint) item->machine)->parent;
  while (m >= 0 && item->n_chain < STRATA_TIME_GRAPH_MAX_CHAIN)
    {
      const StrataAnalysisMachine *vm = strata_analysis_get_machine (analysis, (guint) m);
      gboolean found = FALSE;

      if (vm->layer == 0)
        break;
      for (guint k = 0; k < vm->n_cpus && !found; k++)
        {
          StrataShtInterval iv;
          StrataVcpuState state;
          int exit_reason, pcpu;
          guint isa;

          if (vm->cpu_quarks[k] == STRATA_SHT_QUARK_INVALID)
            continue;
          if (!strata_sht_query_single (sht, vm->cpu_quarks[k], item->time, &iv, error))
            return FALSE;
          if (iv.value.type != STRATA_SHT_VALUE_INT64)
            continue;
          _strata_vcpu_unpack (iv.value.u.i64, &state, &exit_reason, &isa, &pcpu);
          if (state == STRATA_VCPU_RUNNING && pcpu == item->cpu)
            {
              item->chain_machine[item->n_chain] = m;
              item->chain_vcpu[item->n_chain] = (int) k;
              item->n_chain++;
              found = TRUE;
            }
        }
      if (!found)
        break;
      m = vm->parent;
    }
  return TRUE;
}

/**
 * strata_time_graph_lookup:
 * @position: a row of the model
 * @x: a position in pixels from the left edge (fractions count)
 * @item: (out caller-allocates): filled when found; clear it with
 *   strata_time_graph_item_clear()
 *
 * What the row shows under the pointer, at full precision (not the bin's
 * sample): the state's interval and who runs.
 *
 * Returns: %TRUE when there is something there; %FALSE (with @error set
 *   only when the SHT cannot be read) on a heading, outside the history,
 *   or where a filtered row shows nothing
 */
gboolean
strata_time_graph_lookup (StrataTimeGraph      *self,
                          guint                 position,
                          double                x,
                          StrataTimeGraphItem  *item,
                          GError              **error)
{
  StrataAnalysis *analysis;
  StrataSht *sht;
  const StrataRenderRow *row;
  StrataShtInterval iv;
  StrataTimeGraphBin bin;
  gint64 t;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (item != NULL, FALSE);
  g_return_val_if_fail (position < self->visible->len, FALSE);

  memset (item, 0, sizeof *item);
  item->host = item->cpu = item->machine = item->vcpu = item->thread = -1;
  item->exit_reason = item->host_tid = -1;
  item->thread_info.tid = item->thread_info.pid = item->thread_info.vtid = -1;

  analysis = strata_render_scope_get_analysis (self->scope);
  sht = strata_analysis_get_sht (analysis);
  row = strata_time_graph_get_row (self, position);
  if (row->kind == STRATA_RENDER_ROW_HEADING || row->quark == STRATA_SHT_QUARK_INVALID || x < 0 || self->res == 0)
    return FALSE;
  t = self->t0 + (gint64) (x * (double) self->res);
  if (t < strata_sht_get_start_time (sht) || t > strata_sht_get_end_time (sht))
    return FALSE;
  if (!strata_sht_query_single (sht, row->quark, t, &iv, error))
    return FALSE;
  decode (self, row, &iv.value, &bin);
  if (bin.state == STRATA_TIME_GRAPH_BIN_EMPTY || !filter_shows (self, row, &bin))
    return FALSE;

  item->kind = row->kind;
  item->time = t;
  item->start = iv.start;
  item->end = iv.end;
  item->state = bin.state;

  switch (row->kind)
    {
    case STRATA_RENDER_ROW_PCPU:
      item->host = row->machine;
      item->cpu = row->cpu;
      item->machine = bin.machine;
      item->vcpu = bin.vcpu;
      item->thread = (int) bin.thread - 1;
      if (!find_chain (self, item, error))
        return FALSE;
      break;
    case STRATA_RENDER_ROW_VCPU:
      {
        g_autoptr(GArray) vcpus = strata_analysis_query_vcpus (analysis, t, error);

        if (vcpus == NULL)
          return FALSE;
        item->machine = row->machine;
        item->vcpu = row->cpu;
        for (guint i = 0; i < vcpus->len; i++)
          {
            const StrataVcpuSample *s = &g_array_index (vcpus, StrataVcpuSample, i);

            if (s->machine != row->machine || (int) s->vcpu != row->cpu)
              continue;
            item->cpu = s->pcpu;
            item->exit_reason = s->exit_reason;
            item->isa = s->isa;
            item->host_tid = s->host_tid;
          }
        if (item->cpu >= 0)
          item->host = strata_analysis_get_machine (analysis, (guint) row->machine)->parent;
      }
      break;
    case STRATA_RENDER_ROW_THREAD:
      item->machine = row->machine;
      item->thread = row->thread;
      break;
    case STRATA_RENDER_ROW_HEADING:
    default:
      break;
    }

  if (item->thread >= 0)
    {
      const StrataRenderThread *th = strata_render_scope_get_thread (self->scope, (guint) item->thread);

      if (!strata_analysis_get_thread (analysis, (guint32) item->thread, t, &item->thread_info, error)
          || !query_string (sht, th->q_syscall, t, &item->syscall, error))
        return FALSE;
    }
  return TRUE;
}

/* The legend's words, in the user's language */
static const char *
state_name (StrataRenderRowKind kind,
            guint8              state)
{
  return kind == STRATA_RENDER_ROW_HEADING ? "" : strata_render_state_name (kind, state);
}

/**
 * strata_time_graph_item_to_text:
 * @scope: the scope of the model that filled @item
 *
 * Returns: (transfer full): a tooltip: one "name: value" per line
 */
char *
strata_time_graph_item_to_text (const StrataTimeGraphItem *item,
                                StrataRenderScope         *scope)
{
  StrataAnalysis *analysis = strata_render_scope_get_analysis (scope);
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *offset = NULL;
  g_autofree char *duration = NULL;

  g_return_val_if_fail (item != NULL, NULL);

  offset = strata_render_format_offset (item->time - strata_analysis_get_start_time (analysis), 1,
                                        item->time - strata_analysis_get_start_time (analysis));
  duration = strata_render_format_duration (item->end - item->start + 1);

  g_string_append_printf (s, "%s\n", state_name (item->kind, item->state));
  if (item->kind == STRATA_RENDER_ROW_PCPU || item->cpu >= 0)
    g_string_append_printf (s, _("pCPU: %s/%d\n"),
                            item->host >= 0 ? strata_analysis_get_machine (analysis, (guint) item->host)->name : "?",
                            item->cpu);
  g_string_append_printf (s, _("Time: +%s (%" PRId64 ")\n"), offset, item->time);
  g_string_append_printf (s, _("Duration: %s (%" PRId64 " to %" PRId64 ")\n"),
                          duration, item->start, item->end);
  if (item->machine >= 0)
    {
      const StrataAnalysisMachine *m = strata_analysis_get_machine (analysis, (guint) item->machine);

      g_string_append_printf (s, _("Machine: %s (L%d)\n"), m->name, m->layer);
    }
  if (item->n_chain > 0)
    {
      g_string_append (s, _("vCPU: "));
      for (guint i = 0; i < item->n_chain; i++)
        /* Translators: a vCPU (machine/number) on the vCPU that runs it */
        g_string_append_printf (s, "%s%s/%d", i > 0 ? _(" on ") : "",
                                strata_analysis_get_machine (analysis, (guint) item->chain_machine[i])->name,
                                item->chain_vcpu[i]);
      g_string_append_c (s, '\n');
    }
  else if (item->kind == STRATA_RENDER_ROW_VCPU)
    g_string_append_printf (s, _("vCPU: %d%s\n"), item->vcpu,
                            item->host_tid >= 0 ? "" : _(" (hypervisor thread unknown)"));
  if (item->host_tid >= 0)
    g_string_append_printf (s, _("Hypervisor thread: %d\n"), item->host_tid);
  if (item->exit_reason >= 0)
    g_string_append_printf (s, _("Last exit: %s\n"), strata_exit_reason_to_string ((guint) item->exit_reason, item->isa));
  if (item->thread_info.tid >= 0)
    {
      g_string_append_printf (s, _("Thread: %s, tid %d"), item->thread_info.comm, item->thread_info.tid);
      if (item->thread_info.container != 0)
        g_string_append_printf (s, _(", vtid %d\nContainer: %" PRIu64), item->thread_info.vtid,
                                item->thread_info.container);
      g_string_append_c (s, '\n');
    }
  if (item->syscall != NULL)
    g_string_append_printf (s, _("System call: %s\n"), item->syscall);
  if (s->len > 0 && s->str[s->len - 1] == '\n')
    g_string_truncate (s, s->len - 1);
  return g_string_free (g_steal_pointer (&s), FALSE);
}
