/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * StrataTraceWriterConfig:
 * @hostname: the `hostname` environment entry
 * @domain: the `domain` environment entry (%NULL: "kernel")
 * @sysname: the `sysname` entry (%NULL: "Linux")
 * @kernel_release: the `kernel_release` entry (%NULL: none)
 * @tracer_name: the `tracer_name` entry (%NULL: "lttng-modules")
 * @tracer_major: `tracer_major`
 * @tracer_minor: `tracer_minor`
 * @tracer_patchlevel: `tracer_patchlevel`
 * @clock_uuid: textual UUID of the `monotonic` clock, the machine's boot id
 *   (%NULL: a random one)
 * @clock_offset_ns: offset of the clock's origin from the Unix epoch, in ns
 * @n_cpus: number of CPUs; one stream per CPU, `cpu_id` in its packet context
 * @events_per_packet: events per packet before a new packet starts (0: 4096)
 *
 * What a trace written by #StrataTraceWriter says about itself, the way
 * LTTng's kernel tracer says it.
 */
typedef struct
{
  const char *hostname;
  const char *domain;
  const char *sysname;
  const char *kernel_release;
  const char *tracer_name;
  int         tracer_major;
  int         tracer_minor;
  int         tracer_patchlevel;
  const char *clock_uuid;
  gint64      clock_offset_ns;
  guint       n_cpus;
  guint       events_per_packet;
} StrataTraceWriterConfig;

/**
 * StrataWriterValue:
 *
 * One payload value given to strata_trace_writer_append(), in the order of the
 * fields of the event class. Integer fields read @i (signed) or @u (unsigned),
 * `string` fields read @s, `s32[]` fields read @a.
 */
typedef union
{
  gint64      i;
  guint64     u;
  const char *s;
  struct {
    const gint32 *values;
    guint         len;
  } a;
} StrataWriterValue;

typedef struct _StrataTraceWriter StrataTraceWriter;

StrataTraceWriter *strata_trace_writer_new             (const char                    *dir,
                                                        const StrataTraceWriterConfig *config,
                                                        GError                       **error);
int                strata_trace_writer_add_event_class (StrataTraceWriter             *self,
                                                        const char                    *name,
                                                        const char                    *fields,
                                                        GError                       **error);
gboolean           strata_trace_writer_append          (StrataTraceWriter             *self,
                                                        guint                          cpu,
                                                        guint64                        ts,
                                                        int                            event_class,
                                                        const StrataWriterValue       *values,
                                                        guint                          n_values,
                                                        GError                       **error);
void               strata_trace_writer_add_discarded   (StrataTraceWriter             *self,
                                                        guint                          cpu,
                                                        guint64                        count);
gboolean           strata_trace_writer_close           (StrataTraceWriter             *self,
                                                        GError                       **error);
void               strata_trace_writer_free            (StrataTraceWriter             *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataTraceWriter, strata_trace_writer_free)

G_END_DECLS
