/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define STRATA_TYPE_TRACE_INFO (strata_trace_info_get_type ())

typedef enum
{
  STRATA_PROBLEM_WARNING,   /* the trace was read; something in it deserves attention */
  STRATA_PROBLEM_ERROR,     /* part or all of the trace could not be read */
} StrataProblemSeverity;

typedef struct
{
  StrataProblemSeverity  severity;
  char                  *message;
} StrataTraceProblem;

/* Events the tracer discarded on one CPU between @begin_ns and @end_ns. */
typedef struct
{
  guint   cpu;
  gint64  begin_ns;
  gint64  end_ns;
  guint64 count;
} StrataLostRange;

typedef struct
{
  guint   cpu;
  guint64 n_events;
  guint64 lost_events;
} StrataCpuInfo;

/**
 * StrataTraceInfo:
 *
 * The identity of one trace and what reading it found: where it comes from
 * (host, boot, tracer), its time span and CPUs, how many events of each
 * kind, the events the tracer lost, the LTTng layout detected, the roles
 * it hints at, and the problems met. Read-only once the reader is done;
 * reference counted so that it can be handed between threads.
 */
typedef struct
{
  /*< private >*/
  gatomicrefcount ref_count;

  /*< public >*/
  char       *path;
  char       *hostname;
  char       *domain;
  char       *sysname;
  char       *kernel_release;
  char       *tracer_name;
  int         tracer_major;
  int         tracer_minor;
  int         tracer_patchlevel;
  char       *clock_name;
  char       *clock_uuid;
  gint64      clock_offset_ns;
  guint64     clock_frequency;

  /* Time span of the events (ns from the clock origin, offset included);
   * both 0 when the trace has no event. */
  gint64      begin_ns;
  gint64      end_ns;

  GArray     *cpus;              /* StrataCpuInfo, by cpu */
  guint       n_streams;

  guint64     n_events;          /* every event read */
  guint64     n_unknown_events;  /* events of classes Strata does not interpret */
  GHashTable *event_counts;      /* event class name → guint64 * */
  guint       n_event_classes;   /* declared in the metadata */

  guint64     lost_events;
  GArray     *lost_ranges;       /* StrataLostRange */

  /* Layout: which variant of each event family the metadata declares
   * (see EVENTS.md), e.g. "syscall_entry_*, syscall_exit_* (2.6+)". */
  GHashTable *layout;            /* family → description */

  /* Role hints from the events */
  gboolean    has_kvm_entry;     /* runs virtual machines (L0, or an L1 with L2 guests) */
  gboolean    has_vmsync_guest;  /* a guest: vm_uids says which */
  GArray     *vm_uids;           /* guint64 */

  GPtrArray  *problems;          /* StrataTraceProblem */
  gboolean    complete;          /* every event of every stream was read */
} StrataTraceInfo;

GType            strata_trace_info_get_type       (void) G_GNUC_CONST;
StrataTraceInfo *strata_trace_info_new            (const char            *path);
StrataTraceInfo *strata_trace_info_ref            (StrataTraceInfo       *self);
void             strata_trace_info_unref          (StrataTraceInfo       *self);
void             strata_trace_info_add_problem    (StrataTraceInfo       *self,
                                                   StrataProblemSeverity  severity,
                                                   const char            *format,
                                                   ...) G_GNUC_PRINTF (3, 4);
gboolean         strata_trace_info_has_errors     (const StrataTraceInfo *self);
guint64          strata_trace_info_get_count      (const StrataTraceInfo *self,
                                                   const char            *event_name);
char            *strata_trace_info_dup_tracer_version (const StrataTraceInfo *self);
JsonNode        *strata_trace_info_to_json        (const StrataTraceInfo *self);
char            *strata_trace_info_to_text        (const StrataTraceInfo *self);

StrataTraceInfo *strata_trace_info_load           (const char            *path,
                                                   GCancellable          *cancellable,
                                                   GError               **error);
void             strata_trace_info_load_async     (const char            *path,
                                                   GCancellable          *cancellable,
                                                   GAsyncReadyCallback    callback,
                                                   gpointer               user_data);
StrataTraceInfo *strata_trace_info_load_finish    (GAsyncResult          *result,
                                                   GError               **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataTraceInfo, strata_trace_info_unref)

G_END_DECLS
