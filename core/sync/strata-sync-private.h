/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-sync-hull.h"
#include "strata-sync-match.h"
#include "strata-sync-result.h"

G_BEGIN_DECLS

/* The cached form of a result; the version is part of the cache key. */
#define STRATA_SYNC_FORMAT_VERSION 1

/* What pass 1 found between two traces (first < second): the hull of
 * their messages, with x on the first's clock, and the guests whose
 * hypercalls went into it. */
typedef struct
{
  guint           first;
  guint           second;
  StrataSyncHull *hull;
  GArray         *vm_uids;   /* guint64 */
} StrataSyncLink;

StrataSyncLink   *_strata_sync_link_new              (guint                   first,
                                                      guint                   second);
void              _strata_sync_link_free             (StrataSyncLink         *link);

StrataSyncResult *_strata_sync_result_new            (guint                   n_traces);
void              _strata_sync_trace_add_problem     (StrataSyncTrace        *trace,
                                                      const char             *format,
                                                      ...) G_GNUC_PRINTF (2, 3);
void              _strata_sync_result_add_problem    (StrataSyncResult       *self,
                                                      const char             *format,
                                                      ...) G_GNUC_PRINTF (2, 3);
char             *_strata_sync_result_serialize      (const StrataSyncResult *self);
StrataSyncResult *_strata_sync_result_deserialize    (const char             *data,
                                                      gsize                   length,
                                                      const char * const     *paths,
                                                      GError                **error);

gboolean          _strata_sync_solve                 (StrataSyncResult       *result,
                                                      GPtrArray              *links,
                                                      const StrataSyncMatcher *matcher,
                                                      const char             *reference,
                                                      GError                **error);

G_END_DECLS
