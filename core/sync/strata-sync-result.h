/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "strata-sync-hull.h"
#include "strata-sync-transform.h"

G_BEGIN_DECLS

#define STRATA_TYPE_SYNC_RESULT (strata_sync_result_get_type ())

/**
 * StrataSyncTrace:
 * @path: the trace folder
 * @hostname: the trace's host name ("" when it has none)
 * @clock_uuid: its clock's UUID, the machine's boot id ("" when none)
 * @clock_offset_ns: its CTF clock offset
 * @begin_ns: its first event, on its own clock (0 with no event)
 * @end_ns: its last event
 * @is_host: it has `kvm_*entry` events: it runs virtual machines
 * @is_guest: it has the guest's sync hypercall events
 * @read_ok: %FALSE when the trace could not be read at all
 * @n_sync_events: the message halves it holds
 * @n_unmatched: those still without a partner at the end
 * @n_duplicates: those ignored because the same half of the same message
 *   was already waiting in this trace
 * @is_reference: it is the reference clock
 * @reference: the index of the reference trace (-1 when no trace was read)
 * @parent: the index of the trace it was synchronized against directly,
 *   on its path to the reference (-1 for the reference and for a trace
 *   with no path to it)
 * @synchronized: %FALSE when the trace could not be synchronized: no path
 *   to the reference, or one whose messages go one way only or
 *   contradict each other; @transform is then the best there is (the
 *   identity when there is nothing)
 * @quality: the worst quality along its path (%STRATA_SYNC_QUALITY_ACCURATE
 *   for the reference itself)
 * @accuracy_ns: a bound on the error of @transform over the trace's time
 *   span, in reference ns (INFINITY when unbounded)
 * @transform: from the trace's clock to the reference's
 * @a_min: lower bound of the true slope of @transform (-INFINITY: none)
 * @a_max: upper bound of it (INFINITY: none)
 * @b_min: lower bound of its true intercept, ns (-INFINITY: none)
 * @b_max: upper bound (INFINITY: none)
 * @n_to_parent: messages matched from this trace to @parent
 * @n_from_parent: messages matched from @parent to this trace
 * @problems: (element-type utf8): why it is not synchronized, or what
 *   deserves attention
 *
 * The synchronization of one trace.
 */
typedef struct
{
  char               *path;
  char               *hostname;
  char               *clock_uuid;
  gint64              clock_offset_ns;
  gint64              begin_ns;
  gint64              end_ns;
  gboolean            is_host;
  gboolean            is_guest;
  gboolean            read_ok;
  guint64             n_sync_events;
  guint64             n_unmatched;
  guint64             n_duplicates;

  gboolean            is_reference;
  int                 reference;
  int                 parent;
  gboolean            synchronized;
  StrataSyncQuality   quality;
  double              accuracy_ns;
  StrataSyncTransform transform;
  double              a_min;
  double              a_max;
  double              b_min;
  double              b_max;
  guint64             n_to_parent;
  guint64             n_from_parent;
  GPtrArray          *problems;
} StrataSyncTrace;

/**
 * StrataSyncPair:
 * @first: the index of one trace
 * @second: the index of the other, greater than @first
 * @n_first_to_second: messages matched from @first to @second
 * @n_second_to_first: messages matched the other way
 * @n_hull_points: the points the convex hull kept
 * @quality: what the messages give
 * @same_clock: the two traces share a clock (same machine, same boot): they
 *   are related exactly, through their clock offsets
 * @ambiguous: messages of two guests with the same vm_uid went into it;
 *   it is not used
 * @used: it is on the path of some trace to the reference
 * @problem: (nullable): what went wrong with it
 *
 * Two traces that exchanged messages, or that share a clock.
 */
typedef struct
{
  guint             first;
  guint             second;
  guint64           n_first_to_second;
  guint64           n_second_to_first;
  guint             n_hull_points;
  StrataSyncQuality quality;
  gboolean          same_clock;
  gboolean          ambiguous;
  gboolean          used;
  char             *problem;
} StrataSyncPair;

/**
 * StrataSyncResult:
 * @traces: (element-type StrataSyncTrace): by index, in the order given
 * @pairs: (element-type StrataSyncPair): ordered by @first, then @second
 * @reference: the index of the reference trace, -1 when no trace was read
 * @reference_chosen: the user chose the reference
 * @n_matches: messages matched, in all
 * @from_cache: the result was found in the cache; no trace was read
 * @elapsed_us: wall time of the run (pass 1 and the solution)
 * @problems: (element-type utf8): about the run as a whole
 *
 * What synchronization found: for each trace, the transform of its clock
 * to the reference's. Immutable once made; reference counted, so that it
 * can be handed between threads.
 */
typedef struct
{
  /*< private >*/
  gatomicrefcount ref_count;

  /*< public >*/
  GArray    *traces;
  GArray    *pairs;
  int        reference;
  gboolean   reference_chosen;
  guint64    n_matches;
  gboolean   from_cache;
  gint64     elapsed_us;
  GPtrArray *problems;
} StrataSyncResult;

GType                  strata_sync_result_get_type     (void) G_GNUC_CONST;
StrataSyncResult      *strata_sync_result_ref          (StrataSyncResult       *self);
void                   strata_sync_result_unref        (StrataSyncResult       *self);
guint                  strata_sync_result_get_n_traces (const StrataSyncResult *self);
const StrataSyncTrace *strata_sync_result_get_trace    (const StrataSyncResult *self,
                                                        guint                   index);
int                    strata_sync_result_find_trace   (const StrataSyncResult *self,
                                                        const char             *path);
guint                  strata_sync_result_count_unsynchronized (const StrataSyncResult *self);
JsonNode              *strata_sync_result_to_json      (const StrataSyncResult *self);
char                  *strata_sync_result_to_text      (const StrataSyncResult *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataSyncResult, strata_sync_result_unref)

G_END_DECLS
