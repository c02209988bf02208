/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-sht.h"

G_BEGIN_DECLS

/*
 * A model of what a StrataSht must answer, kept in memory and written
 * from the documented semantics alone: per attribute, the list of its
 * stored intervals and its ongoing state. It is deliberately naive
 * (arrays and binary searches, no tree, no queue, no file) so that it is
 * easy to believe; the tests drive it and a StrataSht with the same calls
 * and compare their answers.
 *
 * Strings are not interned here: a string value is compared by its id,
 * which the test gets from the history under test.
 */

typedef struct _ShtOracle ShtOracle;

/* One row of a 2D answer: StrataShtInterval elements */
typedef GArray ShtOracleRow;

ShtOracle  *sht_oracle_new               (gint64       start_time);
void        sht_oracle_free              (ShtOracle   *self);

gint64      sht_oracle_get_start_time    (ShtOracle   *self);
/* Before close: the largest time passed to a change (at least the start). */
gint64      sht_oracle_get_end_time      (ShtOracle   *self);
gboolean    sht_oracle_is_finished       (ShtOracle   *self);
guint64     sht_oracle_get_n_clamped     (ShtOracle   *self);
/* Intervals stored so far (after close, the last ones included) */
guint64     sht_oracle_get_n_intervals   (ShtOracle   *self);

/* Attribute tree */
guint32     sht_oracle_quark_get         (ShtOracle   *self,
                                          guint32      parent,
                                          const char  *name);
guint32     sht_oracle_quark_get_path    (ShtOracle   *self,
                                          const char  *path);
guint32     sht_oracle_quark_lookup      (ShtOracle   *self,
                                          guint32      parent,
                                          const char  *name);
guint32     sht_oracle_quark_lookup_path (ShtOracle   *self,
                                          const char  *path);
guint       sht_oracle_get_n_quarks      (ShtOracle   *self);
const char *sht_oracle_quark_get_name    (ShtOracle   *self,
                                          guint32      quark);
guint32     sht_oracle_quark_get_parent  (ShtOracle   *self,
                                          guint32      quark);
char       *sht_oracle_quark_dup_path    (ShtOracle   *self,
                                          guint32      quark);
/* guint32 elements, in creation order */
const GArray *sht_oracle_quark_get_children (ShtOracle *self,
                                          guint32      quark);

/* Writing */
void        sht_oracle_modify            (ShtOracle      *self,
                                          guint32         quark,
                                          gint64          t,
                                          StrataShtValue  value);
void        sht_oracle_push              (ShtOracle      *self,
                                          guint32         quark,
                                          gint64          t,
                                          StrataShtValue  value);
StrataShtValue sht_oracle_pop            (ShtOracle      *self,
                                          guint32         quark,
                                          gint64          t);
StrataShtValue sht_oracle_get_ongoing    (ShtOracle      *self,
                                          guint32         quark,
                                          gint64         *start);
void        sht_oracle_close             (ShtOracle      *self,
                                          gint64          end_time);

/* The stored intervals of @quark, in time order (ongoing state excluded) */
guint       sht_oracle_get_n_stored      (ShtOracle      *self,
                                          guint32         quark);
const StrataShtInterval *
            sht_oracle_get_stored        (ShtOracle      *self,
                                          guint32         quark,
                                          guint           i);

/* Queries: they return FALSE and set *code (a StrataShtError) on error. */
gboolean    sht_oracle_query_single      (ShtOracle         *self,
                                          guint32            quark,
                                          gint64             t,
                                          StrataShtInterval *interval,
                                          int               *code);
GArray     *sht_oracle_query_full        (ShtOracle         *self,
                                          gint64             t,
                                          int               *code);
/* (transfer full) GPtrArray of ShtOracleRow; t0 <= t1, resolution >= 1 */
GPtrArray  *sht_oracle_query_2d          (ShtOracle         *self,
                                          const guint32     *quarks,
                                          guint              n_quarks,
                                          gint64             t0,
                                          gint64             t1,
                                          gint64             resolution,
                                          int               *code);

/* Helpers shared by the tests */
gboolean    sht_value_same               (const StrataShtValue    *a,
                                          const StrataShtValue    *b);
char       *sht_value_to_string          (const StrataShtValue    *value);
char       *sht_interval_to_string       (const StrataShtInterval *interval);
const char *sht_error_code_to_string     (int                      code);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ShtOracle, sht_oracle_free)

G_END_DECLS
