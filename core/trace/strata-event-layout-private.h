/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <babeltrace2/babeltrace.h>
#include <glib.h>

#include "strata-event.h"

G_BEGIN_DECLS

typedef enum
{
  STRATA_GET_NONE = 0,
  STRATA_GET_SIGNED,
  STRATA_GET_UNSIGNED,
  STRATA_GET_STRING,
  STRATA_GET_INT_ARRAY,
  STRATA_GET_CONSTANT,     /* not a field: the layout's constant */
} StrataGetterType;

/* Where one value of a record comes from: a payload member, by index. */
typedef struct
{
  guint32 index;
  guint8  type;            /* StrataGetterType */
  gint64  constant;
} StrataGetter;

typedef enum
{
  /* lttng_statedump_process_state before 2.12: one event per PID-namespace
   * level of the task. Split into a PID_NS record (every event) and a
   * PROCESS_STATE record (the root level only). */
  STRATA_LAYOUT_SPLIT_PID_NS = 1 << 0,
  /* Syscall events: the syscall's name comes from the event name. */
  STRATA_LAYOUT_SYSCALL_NAME = 1 << 1,
} StrataLayoutFlags;

/**
 * StrataEventLayout:
 *
 * How to turn the events of one event class into records, resolved once
 * per event class from its payload field class.
 */
typedef struct
{
  char         *name;          /* event class name */
  StrataEventKind kind;        /* STRATA_EVENT_UNKNOWN: counted, skipped */
  guint         flags;         /* StrataLayoutFlags */
  guint8        n_v;
  guint8        n_h;
  StrataGetter  v[STRATA_EVENT_N_VALUES];
  StrataGetter  h[STRATA_EVENT_N_REFS];
  /* STRATA_LAYOUT_SPLIT_PID_NS: the PID_NS record's values and the
   * ns_level member that decides whether a PROCESS_STATE record follows */
  StrataGetter  ns_v[STRATA_EVENT_N_VALUES];
  StrataGetter  ns_level;
  const char   *syscall_name;  /* points into name */
  guint64       count;         /* events of this class read so far */
} StrataEventLayout;

StrataEventLayout *_strata_event_layout_new      (const bt_event_class *event_class,
                                                  GPtrArray            *diagnostics);
void               _strata_event_layout_free     (StrataEventLayout    *layout);

/* Fills @out from the stream class's declared event classes: which
 * variant of each event family the trace uses (EVENTS.md). */
void               _strata_event_layout_describe (const bt_stream_class *stream_class,
                                                  GHashTable           *out);

G_END_DECLS
