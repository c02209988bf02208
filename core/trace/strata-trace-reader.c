/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-reader"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "strata-bt-private.h"
#include "strata-event-layout-private.h"
#include "strata-trace-files-private.h"
#include "strata-trace-reader.h"

/*
 * One babeltrace2 graph per trace: source.ctf.fs, whose output ports give
 * one stream each (a CPU's stream file), into a sink of our own that opens
 * one message iterator per port and merges the streams by event time.
 *
 * Not filter.utils.muxer: it refuses a packet that begins before the
 * previous one ended, which real LTTng traces have (see traces/README.md),
 * and stops there. Only event timestamps decide the order here; packet
 * boundaries are handled in place, whatever their times.
 */

#define DEFAULT_BATCH_SIZE 8192
/* Events merged per call of the sink's consume method, and between two
 * looks at the cancellable (an atomic read): a cancel is seen within
 * CANCEL_CHECK events, well under a millisecond. */
#define CONSUME_CHUNK 4096
#define CANCEL_CHECK  256
/* An event class id above this goes to a hash table instead of an array. */
#define MAX_DENSE_CLASS_ID 65536

typedef struct
{
  const bt_stream_class *stream_class;   /* Borrowed: lives as long as the graph */
  GPtrArray             *by_id;          /* StrataEventLayout *, by event class id */
  GHashTable            *sparse;         /* id → StrataEventLayout *, ids past the array */
} ClassLayouts;

typedef struct
{
  bt_message_iterator    *iter;          /* Owned */
  bt_message_array_const  msgs;          /* Borrowed from iter; each message owned until handled */
  guint64                 n_msgs;
  guint64                 pos;
  const bt_message       *head;          /* msgs[pos], an event message */
  gint64                  head_ts;
  ClassLayouts           *layouts;
  char                   *name;          /* stream file name, for messages */
  guint                   cpu;
  guint64                 n_events;
  guint64                 lost_events;
  gboolean                has_clock;
  gboolean                clock_overflow;
  gboolean                failed;
} MergeStream;

struct _StrataTraceReader
{
  char                    *path;         /* the trace folder */
  char                    *tmp_dir;      /* Owned: a folder of the good streams, when some are not */
  StrataTraceInfo         *info;         /* Owned */

  bt_graph                *graph;        /* Owned */
  bt_component_class_sink *sink_class;   /* Owned */
  bt_interrupter          *interrupter;  /* Owned */
  guint                    n_ports;

  MergeStream             *streams;      /* Owned by the sink: freed in its finalize */
  guint                    n_streams;
  guint                   *heap;         /* stream indexes, min-heap on (head_ts, index) */
  guint                    heap_len;
  gboolean                 primed;

  GPtrArray               *class_layouts; /* ClassLayouts * */
  GPtrArray               *all_layouts;   /* StrataEventLayout *, owned */
  gboolean                 identified;    /* trace environment and clock read */

  gboolean                 kinds[STRATA_N_EVENT_KINDS];
  guint                    batch_size;
  StrataEventBatch        *batch;
  StrataEventBatchFunc     func;
  gpointer                 func_data;
  GCancellable            *cancellable;
  gboolean                 stopped;
  gboolean                 ran;
  gint64                   last_ts;
};

static void
class_layouts_free (gpointer data)
{
  ClassLayouts *cl = data;

  g_ptr_array_unref (cl->by_id);
  g_clear_pointer (&cl->sparse, g_hash_table_unref);
  g_free (cl);
}

/* ---------------------------------------------------------------------- */
/* The merge                                                              */
/* ---------------------------------------------------------------------- */

static inline gboolean
stream_before (const StrataTraceReader *self,
               guint                    a,
               guint                    b)
{
  const MergeStream *sa = &self->streams[a];
  const MergeStream *sb = &self->streams[b];

  /* Ties go to the lower stream index, so the order is deterministic. */
  return sa->head_ts < sb->head_ts || (sa->head_ts == sb->head_ts && a < b);
}

static void
heap_sift_down (StrataTraceReader *self,
                guint              i)
{
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i, tmp;

      if (l < self->heap_len && stream_before (self, self->heap[l], self->heap[m]))
        m = l;
      if (r < self->heap_len && stream_before (self, self->heap[r], self->heap[m]))
        m = r;
      if (m == i)
        return;
      tmp = self->heap[i], self->heap[i] = self->heap[m], self->heap[m] = tmp;
      i = m;
    }
}

static void
heap_push (StrataTraceReader *self,
           guint              stream)
{
  guint i = self->heap_len++;

  self->heap[i] = stream;
  while (i > 0)
    {
      guint parent = (i - 1) / 2, tmp;

      if (!stream_before (self, self->heap[i], self->heap[parent]))
        break;
      tmp = self->heap[i], self->heap[i] = self->heap[parent], self->heap[parent] = tmp;
      i = parent;
    }
}

static void
deliver_batch (StrataTraceReader *self)
{
  if (self->batch->n_events == 0)
    return;

  if (!self->func (&self->batch, self->func_data))
    self->stopped = TRUE;

  if (self->batch == NULL)
    self->batch = strata_event_batch_new (self->batch_size);
  else
    strata_event_batch_clear (self->batch);
}

static inline StrataEvent *
append_record (StrataTraceReader *self)
{
  if (G_UNLIKELY (strata_event_batch_is_full (self->batch)))
    deliver_batch (self);
  return strata_event_batch_append (self->batch);
}

static void
add_vm_uid (StrataTraceInfo *info,
            guint64          vm_uid)
{
  for (guint i = 0; i < info->vm_uids->len; i++)
    if (g_array_index (info->vm_uids, guint64, i) == vm_uid)
      return;
  g_array_append_val (info->vm_uids, vm_uid);
}

static inline gint64
read_int (const bt_field        *payload,
          const StrataGetter    *getter)
{
  const bt_field *field;

  switch (getter->type)
    {
    case STRATA_GET_SIGNED:
      field = bt_field_structure_borrow_member_field_by_index_const (payload, getter->index);
      return bt_field_integer_signed_get_value (field);
    case STRATA_GET_UNSIGNED:
      field = bt_field_structure_borrow_member_field_by_index_const (payload, getter->index);
      return (gint64) bt_field_integer_unsigned_get_value (field);
    case STRATA_GET_CONSTANT:
      return getter->constant;
    default:
      return STRATA_VALUE_ABSENT;
    }
}

static guint32
read_ref (StrataEventBatch   *batch,
          const bt_field     *payload,
          const StrataGetter *getter)
{
  const bt_field *field;

  switch (getter->type)
    {
    case STRATA_GET_STRING:
      field = bt_field_structure_borrow_member_field_by_index_const (payload, getter->index);
      /* babeltrace2 2.0.4 clears a reused string field by its length
       * only: an empty string would read as an older event's text. */
      if (bt_field_string_get_length (field) == 0)
        return 0;
      return strata_event_batch_add_string (batch, bt_field_string_get_value (field));

    case STRATA_GET_INT_ARRAY:
      {
        gint32 values[64];
        guint64 len;
        gboolean is_signed;

        field = bt_field_structure_borrow_member_field_by_index_const (payload, getter->index);
        len = MIN (bt_field_array_get_length (field), G_N_ELEMENTS (values));
        is_signed = len > 0 && bt_field_class_type_is (
            bt_field_get_class_type (bt_field_array_borrow_element_field_by_index_const (field, 0)),
            BT_FIELD_CLASS_TYPE_SIGNED_INTEGER);
        for (guint64 i = 0; i < len; i++)
          {
            const bt_field *elem = bt_field_array_borrow_element_field_by_index_const (field, i);
            values[i] = is_signed ? (gint32) bt_field_integer_signed_get_value (elem)
                                  : (gint32) bt_field_integer_unsigned_get_value (elem);
          }
        return strata_event_batch_add_int_array (batch, values, (guint) len);
      }

    default:
      return 0;
    }
}

static void
fill_record (StrataEvent             *record,
             StrataEventKind          kind,
             const StrataGetter      *values,
             const bt_field          *payload,
             const MergeStream       *stream)
{
  record->ts = stream->head_ts;
  record->kind = kind;
  record->cpu = (guint16) stream->cpu;
  for (guint i = 0; i < STRATA_EVENT_N_VALUES; i++)
    record->v[i] = read_int (payload, &values[i]);
}

static StrataEventLayout *
resolve_layout (StrataTraceReader    *self,
                ClassLayouts         *cl,
                const bt_event_class *event_class)
{
  g_autoptr(GPtrArray) diagnostics = g_ptr_array_new_with_free_func (g_free);
  guint64 id = bt_event_class_get_id (event_class);
  StrataEventLayout *layout = _strata_event_layout_new (event_class, diagnostics);

  for (guint i = 0; i < diagnostics->len; i++)
    strata_trace_info_add_problem (self->info, STRATA_PROBLEM_WARNING, "%s",
                                   (const char *) g_ptr_array_index (diagnostics, i));

  g_ptr_array_add (self->all_layouts, layout);

  if (id < MAX_DENSE_CLASS_ID)
    {
      if (id >= cl->by_id->len)
        g_ptr_array_set_size (cl->by_id, (guint) id + 1);
      g_ptr_array_index (cl->by_id, (guint) id) = layout;
    }
  else
    {
      if (cl->sparse == NULL)
        cl->sparse = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      g_hash_table_insert (cl->sparse, g_memdup2 (&id, sizeof id), layout);
    }

  return layout;
}

static inline StrataEventLayout *
lookup_layout (StrataTraceReader    *self,
               ClassLayouts         *cl,
               const bt_event_class *event_class)
{
  guint64 id = bt_event_class_get_id (event_class);
  StrataEventLayout *layout = NULL;

  if (G_LIKELY (id < cl->by_id->len))
    layout = g_ptr_array_index (cl->by_id, (guint) id);
  else if (cl->sparse != NULL)
    layout = g_hash_table_lookup (cl->sparse, &id);

  if (G_UNLIKELY (layout == NULL))
    layout = resolve_layout (self, cl, event_class);

  return layout;
}

/* Turns the event at the head of @stream into records. */
static void
emit_head (StrataTraceReader *self,
           MergeStream       *stream)
{
  const bt_event *event = bt_message_event_borrow_event_const (stream->head);
  StrataEventLayout *layout = lookup_layout (self, stream->layouts, bt_event_borrow_class_const (event));
  StrataEventKind kind = layout->kind;
  const bt_field *payload;

  layout->count++;
  stream->n_events++;

  if (G_UNLIKELY (self->info->n_events == 0))
    self->info->begin_ns = stream->head_ts;
  self->info->n_events++;
  self->info->end_ns = stream->head_ts;
  self->last_ts = stream->head_ts;

  if (kind == STRATA_EVENT_UNKNOWN)
    return;

  payload = bt_event_borrow_payload_field_const (event);

  /* Role hints are collected whatever records were asked for. */
  if (G_UNLIKELY (kind == STRATA_EVENT_VMSYNC_GH_GUEST || kind == STRATA_EVENT_VMSYNC_HG_GUEST))
    add_vm_uid (self->info, (guint64) read_int (payload, &layout->v[1]));

  if (G_UNLIKELY (layout->flags & STRATA_LAYOUT_SPLIT_PID_NS))
    {
      gint64 level = read_int (payload, &layout->ns_level);

      if (self->kinds[STRATA_EVENT_STATEDUMP_PROCESS_PID_NS])
        {
          StrataEvent *record = append_record (self);
          fill_record (record, STRATA_EVENT_STATEDUMP_PROCESS_PID_NS,
                       layout->ns_v, payload, stream);
        }
      /* Older tracers repeat the task for each namespace level; its
       * process state is the root level's. */
      if (level != 0 && level != STRATA_VALUE_ABSENT)
        return;
    }

  if (self->kinds[kind])
    {
      StrataEvent *record = append_record (self);

      fill_record (record, kind, layout->v, payload, stream);
      if (layout->flags & STRATA_LAYOUT_SYSCALL_NAME)
        record->h[0] = strata_event_batch_add_string (self->batch, layout->syscall_name);
      else
        for (guint j = 0; j < STRATA_EVENT_N_REFS; j++)
          record->h[j] = read_ref (self->batch, payload, &layout->h[j]);
    }
}

static void
read_identity (StrataTraceReader *self,
               const bt_stream   *stream)
{
  const bt_trace *trace = bt_stream_borrow_trace_const (stream);
  const bt_stream_class *sc = bt_stream_borrow_class_const (stream);
  const bt_clock_class *cc = bt_stream_class_borrow_default_clock_class_const (sc);
  StrataTraceInfo *info = self->info;
  static const struct {
    const char *name;
    gsize       offset;
  } strings[] = {
    { "hostname", G_STRUCT_OFFSET (StrataTraceInfo, hostname) },
    { "domain", G_STRUCT_OFFSET (StrataTraceInfo, domain) },
    { "sysname", G_STRUCT_OFFSET (StrataTraceInfo, sysname) },
    { "kernel_release", G_STRUCT_OFFSET (StrataTraceInfo, kernel_release) },
    { "tracer_name", G_STRUCT_OFFSET (StrataTraceInfo, tracer_name) },
  };
  static const struct {
    const char *name;
    gsize       offset;
  } ints[] = {
    { "tracer_major", G_STRUCT_OFFSET (StrataTraceInfo, tracer_major) },
    { "tracer_minor", G_STRUCT_OFFSET (StrataTraceInfo, tracer_minor) },
    { "tracer_patchlevel", G_STRUCT_OFFSET (StrataTraceInfo, tracer_patchlevel) },
  };

  self->identified = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      const bt_value *value = bt_trace_borrow_environment_entry_value_by_name_const (trace, strings[i].name);
      char **field = G_STRUCT_MEMBER_P (info, strings[i].offset);

      if (value != NULL && bt_value_is_string (value))
        {
          g_free (*field);
          *field = g_strdup (bt_value_string_get (value));
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      const bt_value *value = bt_trace_borrow_environment_entry_value_by_name_const (trace, ints[i].name);
      int *field = G_STRUCT_MEMBER_P (info, ints[i].offset);

      if (value != NULL && bt_value_is_signed_integer (value))
        *field = (int) bt_value_integer_signed_get (value);
      else if (value != NULL && bt_value_is_unsigned_integer (value))
        *field = (int) bt_value_integer_unsigned_get (value);
    }

  if (cc != NULL)
    {
      const guint8 *uuid = bt_clock_class_get_uuid (cc);
      int64_t seconds;
      uint64_t cycles;

      g_free (info->clock_name);
      info->clock_name = g_strdup (bt_clock_class_get_name (cc));
      info->clock_frequency = bt_clock_class_get_frequency (cc);
      bt_clock_class_get_offset (cc, &seconds, &cycles);
      info->clock_offset_ns = seconds * G_GINT64_CONSTANT (1000000000)
                              + (gint64) (cycles * 1e9 / (double) info->clock_frequency);
      if (uuid != NULL)
        {
          g_free (info->clock_uuid);
          info->clock_uuid = g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                                              "%02x%02x%02x%02x%02x%02x",
                                              uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5],
                                              uuid[6], uuid[7], uuid[8], uuid[9], uuid[10],
                                              uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
        }
    }

  info->n_event_classes = (guint) bt_stream_class_get_event_class_count (sc);
  _strata_event_layout_describe (sc, info->layout);
}

static ClassLayouts *
layouts_for_stream_class (StrataTraceReader     *self,
                          const bt_stream_class *sc)
{
  ClassLayouts *cl;
  guint64 n;

  for (guint i = 0; i < self->class_layouts->len; i++)
    {
      cl = g_ptr_array_index (self->class_layouts, i);
      if (cl->stream_class == sc)
        return cl;
    }

  cl = g_new0 (ClassLayouts, 1);
  cl->stream_class = sc;
  cl->by_id = g_ptr_array_new ();
  g_ptr_array_add (self->class_layouts, cl);

  /* Resolve every declared class now: their diagnostics then come out
   * in a stable order, whichever event shows up first. */
  n = bt_stream_class_get_event_class_count (sc);
  for (guint64 i = 0; i < n; i++)
    resolve_layout (self, cl, bt_stream_class_borrow_event_class_by_index_const (sc, i));

  return cl;
}

static void
handle_stream_beginning (StrataTraceReader *self,
                         MergeStream       *stream,
                         const bt_message  *msg)
{
  const bt_stream *bt_stream = bt_message_stream_beginning_borrow_stream_const (msg);
  const bt_stream_class *sc = bt_stream_borrow_class_const (bt_stream);
  const char *name = bt_stream_get_name (bt_stream);

  if (!self->identified)
    read_identity (self, bt_stream);

  stream->layouts = layouts_for_stream_class (self, sc);
  stream->has_clock = bt_stream_class_borrow_default_clock_class_const (sc) != NULL;

  if (name != NULL)
    {
      g_free (stream->name);
      stream->name = g_path_get_basename (name);
    }
}

static void
handle_packet_beginning (StrataTraceReader *self,
                         MergeStream       *stream,
                         const bt_message  *msg)
{
  const bt_packet *packet = bt_message_packet_beginning_borrow_packet_const (msg);
  const bt_field *context = bt_packet_borrow_context_field_const (packet);
  const bt_field *cpu_id;

  if (context == NULL)
    return;

  cpu_id = bt_field_structure_borrow_member_field_by_name_const (context, "cpu_id");
  if (cpu_id != NULL && bt_field_class_type_is (bt_field_get_class_type (cpu_id),
                                                BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
    stream->cpu = (guint) MIN (bt_field_integer_unsigned_get_value (cpu_id), G_MAXUINT16);
}

/* A time that does not fit in 64-bit ns from the origin (a damaged
 * timestamp): keep the stream's previous time so that order holds, and
 * say so once per stream. babeltrace2 left an error on the thread, which
 * must be cleared before its next call. */
static void
clock_overflow (StrataTraceReader *self,
                MergeStream       *stream)
{
  bt_current_thread_clear_error ();
  if (!stream->clock_overflow)
    strata_trace_info_add_problem (self->info, STRATA_PROBLEM_WARNING,
                                   "stream file \"%s\": a timestamp after %" G_GUINT64_FORMAT
                                   " events is out of range (damaged?); the previous one is used",
                                   stream->name ? stream->name : "?", stream->n_events);
  stream->clock_overflow = TRUE;
}

static void
handle_discarded_events (StrataTraceReader *self,
                         MergeStream       *stream,
                         const bt_message  *msg)
{
  const bt_stream *bt_stream = bt_message_discarded_events_borrow_stream_const (msg);
  const bt_stream_class *sc = bt_stream_borrow_class_const (bt_stream);
  StrataLostRange range = { stream->cpu, 0, 0, 0 };

  if (bt_message_discarded_events_get_count (msg, &range.count) != BT_PROPERTY_AVAILABILITY_AVAILABLE)
    range.count = 0;

  if (bt_stream_class_discarded_events_have_default_clock_snapshots (sc))
    {
      int64_t ns;

      if (bt_clock_snapshot_get_ns_from_origin (
            bt_message_discarded_events_borrow_beginning_default_clock_snapshot_const (msg), &ns)
          == BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
        range.begin_ns = ns;
      else
        clock_overflow (self, stream);
      if (bt_clock_snapshot_get_ns_from_origin (
            bt_message_discarded_events_borrow_end_default_clock_snapshot_const (msg), &ns)
          == BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
        range.end_ns = ns;
      else
        clock_overflow (self, stream);
    }

  stream->lost_events += range.count;
  self->info->lost_events += range.count;
  g_array_append_val (self->info->lost_ranges, range);

  if (self->kinds[STRATA_EVENT_LOST])
    {
      StrataEvent *record = append_record (self);

      /* Records stay in time order: the range may begin before events
       * of other streams already delivered. */
      record->ts = MAX (range.begin_ns, self->last_ts);
      record->kind = STRATA_EVENT_LOST;
      record->cpu = (guint16) stream->cpu;
      record->v[0] = (gint64) range.count;
      record->v[1] = range.begin_ns;
      record->v[2] = range.end_ns;
      for (guint i = 3; i < STRATA_EVENT_N_VALUES; i++)
        record->v[i] = STRATA_VALUE_ABSENT;
    }
}

static void
stream_fail (StrataTraceReader *self,
             MergeStream       *stream,
             const char        *what)
{
  g_autofree char *causes = _strata_bt_take_error_message ();

  stream->failed = TRUE;
  strata_trace_info_add_problem (self->info, STRATA_PROBLEM_ERROR,
                                 "stream file \"%s\": %s after %" G_GUINT64_FORMAT
                                 " events; the rest of this stream is skipped%s%s",
                                 stream->name ? stream->name : "?", what, stream->n_events,
                                 causes ? ": " : "", causes ? causes : "");
}

/* Moves @stream to its next event message, handling the messages before
 * it. Returns FALSE when the stream has no more events. */
static gboolean
stream_advance (StrataTraceReader *self,
                MergeStream       *stream)
{
  for (;;)
    {
      const bt_message *msg;

      if (stream->pos >= stream->n_msgs)
        {
          bt_message_iterator_next_status status;

          stream->pos = stream->n_msgs = 0;
          status = bt_message_iterator_next (stream->iter, &stream->msgs, &stream->n_msgs);

          switch (status)
            {
            case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
              break;
            case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
              return FALSE;
            case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
              /* source.ctf.fs never says "again"; another source might. */
              if (g_cancellable_is_cancelled (self->cancellable))
                return FALSE;
              g_usleep (1000);
              continue;
            case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
              stream_fail (self, stream, "out of memory");
              return FALSE;
            case BT_MESSAGE_ITERATOR_NEXT_STATUS_ERROR:
            default:
              stream_fail (self, stream, "cannot decode");
              return FALSE;
            }
        }

      msg = stream->msgs[stream->pos];

      switch (bt_message_get_type (msg))
        {
        case BT_MESSAGE_TYPE_EVENT:
          stream->head = msg;
          if (G_LIKELY (stream->has_clock))
            {
              int64_t ns;

              if (G_LIKELY (bt_clock_snapshot_get_ns_from_origin (
                              bt_message_event_borrow_default_clock_snapshot_const (msg), &ns)
                            == BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK))
                stream->head_ts = ns;
              else
                clock_overflow (self, stream);
            }
          return TRUE;

        case BT_MESSAGE_TYPE_STREAM_BEGINNING:
          handle_stream_beginning (self, stream, msg);
          break;

        case BT_MESSAGE_TYPE_PACKET_BEGINNING:
          handle_packet_beginning (self, stream, msg);
          break;

        case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
          handle_discarded_events (self, stream, msg);
          break;

        case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
          {
            guint64 count = 0;

            bt_message_discarded_packets_get_count (msg, &count);
            strata_trace_info_add_problem (self->info, STRATA_PROBLEM_WARNING,
                                           "stream file \"%s\": the tracer lost %" G_GUINT64_FORMAT
                                           " packets (their events are not counted as lost events)",
                                           stream->name ? stream->name : "?", count);
          }
          break;

        default:
          break;
        }

      bt_message_put_ref (msg);
      stream->pos++;
    }
}

static inline void
stream_drop_head (MergeStream *stream)
{
  bt_message_put_ref (stream->head);
  stream->head = NULL;
  stream->pos++;
}

static bt_component_class_sink_consume_method_status
merge_sink_consume (bt_self_component_sink *self_component)
{
  StrataTraceReader *self = bt_self_component_get_data (
    bt_self_component_sink_as_self_component (self_component));

  if (!self->primed)
    {
      self->primed = TRUE;
      for (guint i = 0; i < self->n_streams; i++)
        if (stream_advance (self, &self->streams[i]))
          heap_push (self, i);
    }

  for (guint n = 0; n < CONSUME_CHUNK && self->heap_len > 0 && !self->stopped; n++)
    {
      MergeStream *stream = &self->streams[self->heap[0]];

      if (G_UNLIKELY (n % CANCEL_CHECK == CANCEL_CHECK - 1)
          && g_cancellable_is_cancelled (self->cancellable))
        return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;

      emit_head (self, stream);
      stream_drop_head (stream);

      if (stream_advance (self, stream))
        {
          heap_sift_down (self, 0);
        }
      else
        {
          self->heap[0] = self->heap[--self->heap_len];
          heap_sift_down (self, 0);
        }
    }

  if (self->heap_len == 0 || self->stopped)
    {
      if (!self->stopped)
        deliver_batch (self);
      return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
    }

  if (bt_self_component_sink_is_interrupted (self_component))
    return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;

  return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

static bt_component_class_initialize_method_status
merge_sink_initialize (bt_self_component_sink               *self_component,
                       bt_self_component_sink_configuration *configuration,
                       const bt_value                       *params,
                       void                                 *initialize_method_data)
{
  StrataTraceReader *self = initialize_method_data;

  bt_self_component_set_data (bt_self_component_sink_as_self_component (self_component), self);

  for (guint i = 0; i < self->n_ports; i++)
    {
      g_autofree char *name = g_strdup_printf ("in%u", i);

      if (bt_self_component_sink_add_input_port (self_component, name, NULL, NULL)
          != BT_SELF_COMPONENT_ADD_PORT_STATUS_OK)
        return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
    }

  return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static bt_component_class_sink_graph_is_configured_method_status
merge_sink_graph_is_configured (bt_self_component_sink *self_component)
{
  StrataTraceReader *self = bt_self_component_get_data (
    bt_self_component_sink_as_self_component (self_component));

  self->streams = g_new0 (MergeStream, self->n_ports);
  self->heap = g_new0 (guint, self->n_ports);
  self->n_streams = self->n_ports;

  for (guint i = 0; i < self->n_ports; i++)
    {
      bt_self_component_port_input *port =
        bt_self_component_sink_borrow_input_port_by_index (self_component, i);

      self->streams[i].cpu = i;
      self->streams[i].has_clock = TRUE;
      if (bt_message_iterator_create_from_sink_component (self_component, port, &self->streams[i].iter)
          != BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK)
        return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
    }

  return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
}

static void
merge_sink_finalize (bt_self_component_sink *self_component)
{
  StrataTraceReader *self = bt_self_component_get_data (
    bt_self_component_sink_as_self_component (self_component));

  for (guint i = 0; i < self->n_streams; i++)
    {
      MergeStream *stream = &self->streams[i];

      /* Messages not handled yet are still ours. */
      for (guint64 j = stream->pos; j < stream->n_msgs; j++)
        bt_message_put_ref (stream->msgs[j]);
      BT_MESSAGE_ITERATOR_PUT_REF_AND_RESET (stream->iter);
      g_free (stream->name);
    }

  g_clear_pointer (&self->streams, g_free);
  g_clear_pointer (&self->heap, g_free);
  self->n_streams = 0;
  self->heap_len = 0;
}

/* ---------------------------------------------------------------------- */
/* Setting up: the graph, and what to do with streams that cannot be read */
/* ---------------------------------------------------------------------- */

static void
clear_graph (StrataTraceReader *self)
{
  /* Destroying the graph finalizes the sink, which frees the streams. */
  BT_GRAPH_PUT_REF_AND_RESET (self->graph);
  g_clear_pointer (&self->class_layouts, g_ptr_array_unref);
  self->class_layouts = g_ptr_array_new_with_free_func (class_layouts_free);
}

/* Adds source.ctf.fs on @dir to a new graph. With @with_sink, also the
 * merging sink and the connections. */
static gboolean
build_graph (StrataTraceReader  *self,
             const char         *dir,
             gboolean            with_sink,
             GError            **error)
{
  const bt_plugin *plugin = NULL;
  const bt_component_class *source_class;
  const bt_component_source *source = NULL;
  const bt_component_sink *sink = NULL;
  bt_value *params = NULL;
  bt_value *inputs = NULL;
  gboolean ret = FALSE;

  clear_graph (self);

  if (!_strata_bt_find_component_class ("ctf", "fs", BT_COMPONENT_CLASS_TYPE_SOURCE,
                                        &plugin, &source_class, error))
    return FALSE;

  self->graph = bt_graph_create (STRATA_BT_MIP_VERSION);
  params = bt_value_map_create ();
  inputs = bt_value_array_create ();
  if (self->graph == NULL || params == NULL || inputs == NULL
      || bt_value_array_append_string_element (inputs, dir) != BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK
      || bt_value_map_insert_entry (params, "inputs", inputs) != BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
    {
      _strata_bt_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot create a babeltrace2 graph");
      goto out;
    }

  bt_graph_add_interrupter (self->graph, self->interrupter);

  /* Logging level NONE: the library never prints; errors come back as
   * causes, turned into messages. */
  if (bt_graph_add_source_component (self->graph, (const bt_component_class_source *) source_class,
                                     "source", params, BT_LOGGING_LEVEL_NONE, &source)
      != BT_GRAPH_ADD_COMPONENT_STATUS_OK)
    {
      _strata_bt_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "source.ctf.fs");
      goto out;
    }

  if (!with_sink)
    {
      ret = TRUE;
      goto out;
    }

  self->n_ports = (guint) bt_component_source_get_output_port_count (source);

  if (bt_graph_add_sink_component_with_initialize_method_data (self->graph, self->sink_class,
                                                               "strata-merge", NULL, self,
                                                               BT_LOGGING_LEVEL_NONE, &sink)
      != BT_GRAPH_ADD_COMPONENT_STATUS_OK)
    {
      _strata_bt_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot add the merging sink");
      goto out;
    }

  for (guint i = 0; i < self->n_ports; i++)
    {
      const bt_port_output *out = bt_component_source_borrow_output_port_by_index_const (source, i);
      const bt_port_input *in = bt_component_sink_borrow_input_port_by_index_const (sink, i);

      if (bt_graph_connect_ports (self->graph, out, in, NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK)
        {
          _strata_bt_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot connect stream %u", i);
          goto out;
        }
    }

  ret = TRUE;

out:
  BT_VALUE_PUT_REF_AND_RESET (inputs);
  BT_VALUE_PUT_REF_AND_RESET (params);
  BT_PLUGIN_PUT_REF_AND_RESET (plugin);
  if (!ret)
    clear_graph (self);
  return ret;
}

/* source.ctf.fs refuses a whole trace when one of its stream files cannot
 * be indexed (truncated, corrupt). Find out which ones, keep what can be
 * kept, and read the rest through a folder of links to the good files. */
static gboolean
isolate_bad_streams (StrataTraceReader  *self,
                     GArray             *files,
                     const char         *first_error,
                     GError            **error)
{
  g_autofree char *abs_path = g_canonicalize_filename (self->path, NULL);
  g_autofree char *metadata = g_build_filename (abs_path, "metadata", NULL);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) good = g_ptr_array_new ();
  guint n_readable = 0;

  self->tmp_dir = g_dir_make_tmp ("strata-trace-XXXXXX", error);
  if (self->tmp_dir == NULL)
    return FALSE;

  if (!_strata_file_link_into (self->tmp_dir, metadata, "metadata", error))
    return FALSE;

  /* The metadata alone: if this fails, nothing of the trace is readable. */
  if (!build_graph (self, self->tmp_dir, FALSE, &local_error))
    {
      g_autofree char *why = _strata_metadata_diagnose (metadata);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "Cannot read trace: path=\"%s\": invalid metadata: %s", self->path, why);
      return FALSE;
    }

  for (guint i = 0; i < files->len; i++)
    {
      StrataStreamFile *file = &g_array_index (files, StrataStreamFile, i);
      g_autofree char *target = g_build_filename (abs_path, file->name, NULL);
      g_autofree char *link = g_build_filename (self->tmp_dir, file->name, NULL);
      g_autofree char *why = NULL;
      guint n_complete, n_packets;
      goffset length, indexed_size;

      if (!file->readable || file->size == 0)
        continue;
      n_readable++;

      if (!_strata_file_link_into (self->tmp_dir, target, file->name, error))
        return FALSE;

      g_clear_error (&local_error);
      if (build_graph (self, self->tmp_dir, FALSE, &local_error))
        {
          g_ptr_array_add (good, file);
          g_unlink (link);
          continue;
        }
      g_unlink (link);

      /* A stream file cut short (the tracer or the machine stopped while
       * writing it): its complete packets are still good. */
      length = 0;
      indexed_size = 0;
      if (!file->bad_index)
        length = _strata_lttng_index_complete_length (abs_path, file->name, file->size,
                                          &n_complete, &n_packets, &indexed_size);
      if (length > 0 && length < file->size)
        {
          g_autoptr(GError) copy_error = NULL;

          if (_strata_file_copy_prefix (target, link, length, &copy_error)
              && build_graph (self, self->tmp_dir, FALSE, NULL))
            {
              strata_trace_info_add_problem (self->info, STRATA_PROBLEM_ERROR,
                                             "stream file \"%s\" is truncated (%" G_GINT64_FORMAT
                                             " of %" G_GINT64_FORMAT " bytes): %u of its %u packets "
                                             "are complete and were read, the events after byte %"
                                             G_GINT64_FORMAT " are lost",
                                             file->name, (gint64) file->size, (gint64) indexed_size,
                                             n_complete, n_packets, (gint64) length);
              g_unlink (link);
              file->size = -length;  /* read from the copy, see below */
              g_ptr_array_add (good, file);
              continue;
            }
          g_unlink (link);
        }

      if (indexed_size > file->size)
        why = g_strdup_printf ("it is truncated (%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                               " bytes) within its first packet",
                               (gint64) file->size, (gint64) indexed_size);
      else if (g_strstr_len (local_error->message, -1, "Failed to index") != NULL)
        why = g_strdup ("its packets cannot be indexed: the file is truncated or corrupt, "
                        "and the trace has no LTTng index to recover its complete packets");
      else
        why = _strata_path_replace (local_error->message, self->tmp_dir, abs_path);
      strata_trace_info_add_problem (self->info, STRATA_PROBLEM_ERROR,
                                     "stream file \"%s\" cannot be read and was skipped: %s",
                                     file->name, why);
    }

  if (good->len == 0 && n_readable > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "Cannot read trace: path=\"%s\": no stream file can be read: %s",
                   self->path, first_error ? first_error : "every stream file is damaged");
      return FALSE;
    }

  for (guint i = 0; i < good->len; i++)
    {
      StrataStreamFile *file = g_ptr_array_index (good, i);
      g_autofree char *target = g_build_filename (abs_path, file->name, NULL);
      g_autofree char *link = g_build_filename (self->tmp_dir, file->name, NULL);

      if (file->size < 0)
        {
          if (!_strata_file_copy_prefix (target, link, -file->size, error))
            return FALSE;
        }
      else if (!_strata_file_link_into (self->tmp_dir, target, file->name, error))
        return FALSE;
    }

  g_clear_error (&local_error);
  if (!build_graph (self, self->tmp_dir, TRUE, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "Cannot read trace: path=\"%s\": %s", self->path, local_error->message);
      return FALSE;
    }

  return TRUE;
}

/**
 * strata_trace_reader_new:
 * @path: a CTF trace folder (the folder that holds `metadata`)
 *
 * Opens a trace for reading. A stream file that cannot be read
 * (unreadable, truncated, corrupt) does not stop the others: it is listed
 * in the info's problems, and a truncated file's complete packets are
 * still read. The reader must be used and freed on the thread that
 * created it (babeltrace2 objects stay on their thread).
 *
 * Returns: (transfer full): a reader, or %NULL with @error set when
 *   nothing of the trace can be read (no or invalid metadata)
 */
StrataTraceReader *
strata_trace_reader_new (const char  *path,
                         GError     **error)
{
  g_autoptr(StrataTraceReader) self = NULL;
  g_autofree char *metadata = NULL;
  g_autoptr(GArray) files = NULL;
  g_autoptr(GError) local_error = NULL;
  guint n_excluded = 0;
  guint n_bad_index = 0;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_new0 (StrataTraceReader, 1);
  self->path = g_strdup (path);
  self->info = strata_trace_info_new (path);
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->class_layouts = g_ptr_array_new_with_free_func (class_layouts_free);
  self->all_layouts = g_ptr_array_new_with_free_func ((GDestroyNotify) _strata_event_layout_free);
  self->interrupter = bt_interrupter_create ();
  for (guint i = 0; i < STRATA_N_EVENT_KINDS; i++)
    self->kinds[i] = TRUE;

  self->sink_class = bt_component_class_sink_create ("strata-merge", merge_sink_consume);
  if (self->sink_class == NULL || self->interrupter == NULL)
    {
      _strata_bt_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot create the merging sink");
      return NULL;
    }
  bt_component_class_sink_set_initialize_method (self->sink_class, merge_sink_initialize);
  bt_component_class_sink_set_graph_is_configured_method (self->sink_class,
                                                          merge_sink_graph_is_configured);
  bt_component_class_sink_set_finalize_method (self->sink_class, merge_sink_finalize);

  metadata = g_build_filename (path, "metadata", NULL);
  fd = g_open (metadata, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot read trace: path=\"%s\": metadata: %s", path, g_strerror (errsv));
      return NULL;
    }
  close (fd);

  if (!_strata_metadata_check (path, metadata, error))
    return NULL;

  files = _strata_stream_files_list (path, &local_error);
  if (files == NULL)
    {
      g_set_error (error, G_IO_ERROR, local_error->code,
                   "Cannot read trace: path=\"%s\": %s", path, local_error->message);
      return NULL;
    }

  for (guint i = 0; i < files->len; i++)
    {
      StrataStreamFile *file = &g_array_index (files, StrataStreamFile, i);

      self->info->n_streams++;
      if (!file->readable)
        {
          g_autofree char *file_path = g_build_filename (path, file->name, NULL);

          strata_trace_info_add_problem (self->info, STRATA_PROBLEM_ERROR,
                                         "stream file \"%s\" cannot be opened and was skipped: %s",
                                         file->name,
                                         g_access (file_path, R_OK) != 0 ? g_strerror (errno)
                                                                         : "unknown error");
          n_excluded++;
        }
      else if (!_strata_lttng_index_is_sane (path, file->name))
        {
          strata_trace_info_add_problem (self->info, STRATA_PROBLEM_WARNING,
                                         "index file \"index/%s.idx\" is damaged and was ignored "
                                         "(the stream file is indexed from its own packets)",
                                         file->name);
          file->bad_index = TRUE;
          n_bad_index++;
        }
      else if (file->size == 0)
        {
          /* LTTng leaves a stream file empty when its CPU wrote nothing
           * before tracing stopped; worth knowing, not an error. */
          strata_trace_info_add_problem (self->info, STRATA_PROBLEM_WARNING,
                                         "stream file \"%s\" is empty", file->name);
        }
    }

  /* The fast path: the trace folder as it is. Otherwise, a folder of links
   * to what can be read (no index: source.ctf.fs indexes the files). */
  if (n_excluded == 0 && n_bad_index == 0 && build_graph (self, path, TRUE, &local_error))
    return g_steal_pointer (&self);

  if (!isolate_bad_streams (self, files, local_error ? local_error->message : NULL, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * strata_trace_reader_set_kinds:
 * @kinds: (array length=n_kinds) (nullable): the kinds of records wanted
 *
 * Restricts the records produced to @kinds (all by default). Events of
 * other kinds are still counted, and their payload is not decoded, which
 * is cheaper.
 */
void
strata_trace_reader_set_kinds (StrataTraceReader     *self,
                               const StrataEventKind *kinds,
                               guint                  n_kinds)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (kinds != NULL || n_kinds == 0);

  memset (self->kinds, 0, sizeof self->kinds);
  for (guint i = 0; i < n_kinds; i++)
    if ((guint) kinds[i] < STRATA_N_EVENT_KINDS)
      self->kinds[kinds[i]] = TRUE;
}

/**
 * strata_trace_reader_set_batch_size:
 *
 * Sets how many records a batch holds before it is handed over.
 */
void
strata_trace_reader_set_batch_size (StrataTraceReader *self,
                                    guint              batch_size)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (batch_size > 0);

  self->batch_size = batch_size;
}

static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  /* Any thread: babeltrace2 interrupters are made for that. */
  bt_interrupter_set (user_data);
}

static void
finish_info (StrataTraceReader *self)
{
  StrataTraceInfo *info = self->info;
  gboolean failed = FALSE;

  for (guint i = 0; i < self->all_layouts->len; i++)
    {
      const StrataEventLayout *layout = g_ptr_array_index (self->all_layouts, i);
      guint64 *count;

      if (layout->count == 0)
        continue;

      count = g_hash_table_lookup (info->event_counts, layout->name);
      if (count == NULL)
        {
          count = g_new0 (guint64, 1);
          g_hash_table_insert (info->event_counts, g_strdup (layout->name), count);
        }
      *count += layout->count;

      if (layout->kind == STRATA_EVENT_UNKNOWN)
        info->n_unknown_events += layout->count;
      else if (layout->kind == STRATA_EVENT_KVM_ENTRY)
        info->has_kvm_entry = TRUE;
      else if (layout->kind == STRATA_EVENT_VMSYNC_GH_GUEST
               || layout->kind == STRATA_EVENT_VMSYNC_HG_GUEST)
        info->has_vmsync_guest = TRUE;
    }

  for (guint i = 0; i < self->n_streams; i++)
    {
      const MergeStream *stream = &self->streams[i];
      StrataCpuInfo *cpu = NULL;
      guint j;

      failed |= stream->failed;

      for (j = 0; j < info->cpus->len; j++)
        {
          cpu = &g_array_index (info->cpus, StrataCpuInfo, j);
          if (cpu->cpu >= stream->cpu)
            break;
        }
      if (j == info->cpus->len || cpu->cpu != stream->cpu)
        {
          StrataCpuInfo new_cpu = { stream->cpu, 0, 0 };
          g_array_insert_val (info->cpus, j, new_cpu);
        }
      cpu = &g_array_index (info->cpus, StrataCpuInfo, j);
      cpu->n_events += stream->n_events;
      cpu->lost_events += stream->lost_events;
    }

  for (guint i = 0; i < info->problems->len; i++)
    {
      const StrataTraceProblem *problem = g_ptr_array_index (info->problems, i);
      failed |= problem->severity == STRATA_PROBLEM_ERROR;
    }

  info->complete = !failed && !self->stopped;
}

/**
 * strata_trace_reader_run:
 * @func: (scope call): called with each batch of records, in time order
 * @cancellable: (nullable): cancels the reading within a few ms, from any
 *   thread
 *
 * Reads the whole trace. Can be called once.
 *
 * Returns: %TRUE when the trace was read to its end (or @func stopped it);
 *   the info's problems say what could not be read. %FALSE with @error set
 *   when cancelled or when reading failed as a whole.
 */
gboolean
strata_trace_reader_run (StrataTraceReader     *self,
                         StrataEventBatchFunc   func,
                         gpointer               user_data,
                         GCancellable          *cancellable,
                         GError               **error)
{
  gulong cancelled_id = 0;
  gboolean ret = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (!self->ran, FALSE);
  g_return_val_if_fail (self->graph != NULL, FALSE);

  self->ran = TRUE;
  self->func = func;
  self->func_data = user_data;
  self->cancellable = cancellable;
  self->batch = strata_event_batch_new (self->batch_size);

  if (cancellable != NULL)
    cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb),
                                          self->interrupter, NULL);

  for (;;)
    {
      bt_graph_run_once_status status;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;

      status = bt_graph_run_once (self->graph);

      if (status == BT_GRAPH_RUN_ONCE_STATUS_END)
        {
          ret = TRUE;
          break;
        }
      if (status == BT_GRAPH_RUN_ONCE_STATUS_OK || status == BT_GRAPH_RUN_ONCE_STATUS_AGAIN)
        continue;

      _strata_bt_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "Cannot read trace: path=\"%s\"", self->path);
      break;
    }

  if (cancelled_id != 0)
    g_cancellable_disconnect (cancellable, cancelled_id);
  self->cancellable = NULL;

  finish_info (self);

  return ret;
}

/**
 * strata_trace_reader_get_info:
 *
 * Returns: (transfer none): what is known of the trace: its identity from
 *   the start, its counts once strata_trace_reader_run() returned
 */
StrataTraceInfo *
strata_trace_reader_get_info (StrataTraceReader *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->info;
}

void
strata_trace_reader_free (StrataTraceReader *self)
{
  if (self == NULL)
    return;

  /* Destroying the graph finalizes the sink, which frees the streams. */
  BT_GRAPH_PUT_REF_AND_RESET (self->graph);
  BT_COMPONENT_CLASS_SINK_PUT_REF_AND_RESET (self->sink_class);
  BT_INTERRUPTER_PUT_REF_AND_RESET (self->interrupter);
  g_clear_pointer (&self->class_layouts, g_ptr_array_unref);
  g_clear_pointer (&self->all_layouts, g_ptr_array_unref);
  g_clear_pointer (&self->batch, strata_event_batch_free);
  g_clear_pointer (&self->info, strata_trace_info_unref);

  if (self->tmp_dir != NULL)
    {
      _strata_rmtree (self->tmp_dir);
      g_free (self->tmp_dir);
    }

  g_free (self->path);
  g_free (self);
}
