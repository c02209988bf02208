/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-trace-writer"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>

#include <glib/gstdio.h>

#include "strata-bt-private.h"
#include "strata-trace-writer.h"
#include "strata-trace-writer-private.h"

/*
 * How it works
 *
 * A babeltrace2 graph: our own source component ("strata-writer") feeding
 * the `sink.ctf.fs` component of the installed `ctf` plugin. Appended events
 * are copied, encoded compactly, into a per-CPU buffer holding the packet
 * being filled. When the packet is full (or the CPU lost events, or the
 * writer closes), the writer hands the packet to the source's message
 * iterator and runs the graph until the iterator has nothing left and says
 * "try again": the sink then has written the whole packet. So at most one
 * packet per CPU is in memory, and babeltrace2 objects (messages, events)
 * only live while the sink consumes them, where its pools recycle them.
 *
 * The packet is buffered, not streamed event by event, because of how
 * sink.ctf.fs (2.0, handle_discarded_events_msg()) maps discarded events
 * messages onto CTF 1.8's `events_discarded` packet context counter:
 *
 *  - the message must come between two packets, never inside one;
 *  - its time range must begin at the end of the stream's previous packet
 *    (at the beginning of the next packet if there is none) and end at the
 *    end of the next packet, which is only known once that packet is
 *    complete;
 *  - two discarded events messages without a packet between them are
 *    refused: losses before the next packet add up here instead.
 *
 * And on the reading side, source.ctf.fs reports the losses counted in a
 * stream's first packet without a count, so a loss before a CPU's first
 * packet gets an empty packet first.
 *
 * sink.ctf.fs writes a stream's events into a file named after the bt
 * stream (channel0_<cpu> here, as LTTng names them), prefixes every field
 * name with `_` in the metadata as LTTng does (`_prev_tid`; readers strip
 * it), and declares in the metadata only the event classes that have at
 * least one event.
 */

#define DEFAULT_EVENTS_PER_PACKET 4096
#define STREAM_CLASS_NAME "channel0"
/* LTTng stores the length of a sequence in a uint8 member */
#define MAX_ARRAY_LEN G_MAXUINT8

typedef enum
{
  FIELD_S8,
  FIELD_S16,
  FIELD_S32,
  FIELD_S64,
  FIELD_U8,
  FIELD_U16,
  FIELD_U32,
  FIELD_U64,
  FIELD_X64,
  FIELD_STRING,
  FIELD_S32_ARRAY,
} FieldType;

static const struct
{
  const char *name;
  FieldType   type;
  guint       bits;
} field_types[] = {
  { "s8", FIELD_S8, 8 },
  { "s16", FIELD_S16, 16 },
  { "s32", FIELD_S32, 32 },
  { "s64", FIELD_S64, 64 },
  { "u8", FIELD_U8, 8 },
  { "u16", FIELD_U16, 16 },
  { "u32", FIELD_U32, 32 },
  { "u64", FIELD_U64, 64 },
  { "x64", FIELD_X64, 64 },
  { "string", FIELD_STRING, 0 },
  { "s32[]", FIELD_S32_ARRAY, 32 },
};

typedef struct
{
  char      *name;          /* Owned */
  FieldType  type;
  guint      bits;
  /* Index in the payload structure; the length member of an array is
   * right before it. */
  guint      member_index;
} FieldSpec;

typedef struct
{
  char           *name;         /* Owned */
  bt_event_class *event_class;  /* Borrowed from the stream class */
  FieldSpec      *fields;       /* Owned */
  guint           n_fields;
} EventClass;

/* An event of the packet being filled. Its values are encoded one after
 * the other in CpuState.data: integers as 8 bytes, strings as a 4-byte
 * length then the bytes and a NUL, arrays as a 4-byte length then the
 * 4-byte elements. */
typedef struct
{
  guint64 ts;
  guint32 event_class;
  guint32 offset;
} PendingEvent;

typedef struct
{
  bt_stream  *stream;             /* Owned */
  GArray     *events;             /* PendingEvent */
  GByteArray *data;
  guint64     last_ts;
  guint64     prev_packet_end;
  guint64     pending_discarded;
  gboolean    has_events;         /* last_ts is valid */
  gboolean    has_packet;         /* prev_packet_end is valid */
} CpuState;

typedef enum
{
  EMIT_DISCARDED,
  EMIT_PACKET_BEGINNING,
  EMIT_EVENTS,
  EMIT_PACKET_END,
} EmitPhase;

struct _StrataTraceWriter
{
  char                      *dir;            /* Owned: where the trace ends up */
  char                      *part_dir;       /* Owned: <dir>.part-XXXXXX */
  char                      *out_dir;        /* Owned: <part_dir>/trace, the sink's output */

  /* Owned copies of the configuration strings */
  char                      *hostname;
  char                      *domain;
  char                      *sysname;
  char                      *kernel_release;
  char                      *tracer_name;
  int                        tracer_major;
  int                        tracer_minor;
  int                        tracer_patchlevel;
  guint8                     clock_uuid[16];
  gint64                     clock_offset_ns;
  guint                      n_cpus;
  guint                      events_per_packet;

  /* babeltrace2 objects, all Owned unless said otherwise */
  const bt_plugin           *ctf_plugin;
  bt_component_class_source *source_class;
  bt_graph                  *graph;
  bt_self_component         *self_component;  /* Borrowed: our source */
  bt_trace_class            *trace_class;
  bt_clock_class            *clock_class;
  bt_stream_class           *stream_class;
  bt_trace                  *trace;

  GPtrArray                 *event_classes;   /* EventClass */
  CpuState                  *cpus;            /* n_cpus */

  /* Time span of every event appended, for the packets of empty CPUs */
  guint64                    ts_min;
  guint64                    ts_max;
  gboolean                   has_ts;

  /* What the message iterator emits next, see iterator_next_cb() */
  gboolean                   streams_created;
  guint                      n_stream_beginnings;  /* emitted so far */
  int                        emit_cpu;             /* -1: no packet to emit */
  EmitPhase                  emit_phase;
  gboolean                   emit_events;          /* FALSE: an empty packet */
  guint                      emit_index;
  bt_packet                 *emit_packet;
  guint64                    emit_begin;
  guint64                    emit_end;
  gboolean                   ending;
  guint                      n_stream_ends;        /* emitted so far */
  gboolean                   ended;

  /* Memory accounting, for tests */
  guint64                    n_buffered_events;
  gsize                      n_buffered_bytes;
  guint64                    max_buffered_events;
  gsize                      max_buffered_bytes;

  GError                    *error;           /* the failure that stopped the writer */
  gboolean                   started;         /* first append: no more event classes */
  gboolean                   closed;
  gboolean                   renamed;         /* dir holds the complete trace */
};

static void
event_class_free (gpointer data)
{
  EventClass *ec = data;

  for (guint i = 0; i < ec->n_fields; i++)
    g_free (ec->fields[i].name);
  g_free (ec->fields);
  g_free (ec->name);
  g_free (ec);
}

/* Removes a folder this writer made, and everything in it. */
static void
remove_tree (const char *path)
{
  GStatBuf st;
  GDir *dir;
  const char *name;

  if (g_lstat (path, &st) != 0)
    return;

  if (!S_ISDIR (st.st_mode))
    {
      g_unlink (path);
      return;
    }

  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static gboolean
parse_uuid (const char *text,
            guint8      uuid[16])
{
  guint n = 0;

  if (!g_uuid_string_is_valid (text))
    return FALSE;

  for (const char *p = text; *p != '\0' && n < 16; p++)
    {
      if (*p == '-')
        continue;
      uuid[n++] = (g_ascii_xdigit_value (p[0]) << 4) | g_ascii_xdigit_value (p[1]);
      p++;
    }

  return n == 16;
}

/* The failure of a babeltrace2 call: the graph cannot be used any more,
 * so every later call fails with the same message. */
static void
fail (StrataTraceWriter  *self,
      GError            **error,
      const char         *format,
      ...) G_GNUC_PRINTF (3, 4);

static void
fail (StrataTraceWriter  *self,
      GError            **error,
      const char         *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (self->error == NULL)
    _strata_bt_set_error (&self->error, G_IO_ERROR, G_IO_ERROR_FAILED,
                          "Cannot write trace: path=\"%s\": %s", self->dir, message);
  else
    g_free (_strata_bt_take_error_message ());

  if (error != NULL)
    *error = g_error_copy (self->error);
}

static gboolean
check_usable (StrataTraceWriter  *self,
              GError            **error)
{
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  if (self->closed)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                   "Cannot write trace: path=\"%s\": the writer is closed", self->dir);
      return FALSE;
    }

  return TRUE;
}

/* Message iterator */

static bt_message *
create_discarded_message (StrataTraceWriter        *self,
                          bt_self_message_iterator *iterator,
                          CpuState                 *cpu)
{
  /* The constraints of sink.ctf.fs (see the top of the file) */
  guint64 begin = cpu->has_packet ? cpu->prev_packet_end : self->emit_begin;
  bt_message *msg;

  msg = bt_message_discarded_events_create_with_default_clock_snapshots (iterator, cpu->stream,
                                                                         begin, self->emit_end);
  if (msg == NULL)
    return NULL;

  bt_message_discarded_events_set_count (msg, cpu->pending_discarded);
  return msg;
}

static bt_message *
create_packet_beginning_message (StrataTraceWriter        *self,
                                 bt_self_message_iterator *iterator,
                                 CpuState                 *cpu)
{
  bt_field *context;

  g_assert (self->emit_packet == NULL);

  self->emit_packet = bt_packet_create (cpu->stream);
  if (self->emit_packet == NULL)
    return NULL;

  /* cpu_id, the only member of the packet context we own */
  context = bt_packet_borrow_context_field (self->emit_packet);
  bt_field_integer_unsigned_set_value (bt_field_structure_borrow_member_field_by_index (context, 0),
                                       (guint64) self->emit_cpu);

  return bt_message_packet_beginning_create_with_default_clock_snapshot (iterator,
                                                                         self->emit_packet,
                                                                         self->emit_begin);
}

static bt_message *
create_event_message (StrataTraceWriter        *self,
                      bt_self_message_iterator *iterator,
                      CpuState                 *cpu,
                      const PendingEvent       *pending)
{
  const EventClass *ec = g_ptr_array_index (self->event_classes, pending->event_class);
  const guint8 *p = cpu->data->data + pending->offset;
  bt_message *msg;
  bt_field *payload;

  msg = bt_message_event_create_with_packet_and_default_clock_snapshot (iterator, ec->event_class,
                                                                        self->emit_packet,
                                                                        pending->ts);
  if (msg == NULL)
    return NULL;

  payload = bt_event_borrow_payload_field (bt_message_event_borrow_event (msg));

  for (guint i = 0; i < ec->n_fields; i++)
    {
      const FieldSpec *spec = &ec->fields[i];
      bt_field *field = bt_field_structure_borrow_member_field_by_index (payload,
                                                                        spec->member_index);
      guint32 len;

      switch (spec->type)
        {
        case FIELD_S8:
        case FIELD_S16:
        case FIELD_S32:
        case FIELD_S64:
          {
            gint64 v;

            memcpy (&v, p, sizeof v);
            p += sizeof v;
            bt_field_integer_signed_set_value (field, v);
          }
          break;

        case FIELD_U8:
        case FIELD_U16:
        case FIELD_U32:
        case FIELD_U64:
        case FIELD_X64:
          {
            guint64 v;

            memcpy (&v, p, sizeof v);
            p += sizeof v;
            bt_field_integer_unsigned_set_value (field, v);
          }
          break;

        case FIELD_STRING:
          memcpy (&len, p, sizeof len);
          p += sizeof len;
          if (bt_field_string_set_value (field, (const char *) p)
                != BT_FIELD_STRING_SET_VALUE_STATUS_OK)
            goto error;
          p += len + 1;
          break;

        case FIELD_S32_ARRAY:
          memcpy (&len, p, sizeof len);
          p += sizeof len;
          bt_field_integer_unsigned_set_value (
            bt_field_structure_borrow_member_field_by_index (payload, spec->member_index - 1),
            len);
          if (bt_field_array_dynamic_set_length (field, len)
                != BT_FIELD_DYNAMIC_ARRAY_SET_LENGTH_STATUS_OK)
            goto error;
          for (guint32 j = 0; j < len; j++)
            {
              bt_field *element = bt_field_array_borrow_element_field_by_index (field, j);
              gint32 v;

              memcpy (&v, p, sizeof v);
              p += sizeof v;
              bt_field_integer_signed_set_value (element, v);
            }
          break;

        default:
          g_assert_not_reached ();
        }
    }

  return msg;

error:
  bt_message_put_ref (msg);
  return NULL;
}

/* The next message of the packet being emitted (NULL: out of memory).
 * After the packet end message, emit_cpu is -1 again. */
static bt_message *
next_packet_message (StrataTraceWriter        *self,
                     bt_self_message_iterator *iterator)
{
  CpuState *cpu = &self->cpus[self->emit_cpu];
  bt_message *msg = NULL;

  switch (self->emit_phase)
    {
    case EMIT_DISCARDED:
      msg = create_discarded_message (self, iterator, cpu);
      self->emit_phase = EMIT_PACKET_BEGINNING;
      break;

    case EMIT_PACKET_BEGINNING:
      msg = create_packet_beginning_message (self, iterator, cpu);
      self->emit_phase = EMIT_EVENTS;
      self->emit_index = 0;
      break;

    case EMIT_EVENTS:
      if (self->emit_events && self->emit_index < cpu->events->len)
        {
          msg = create_event_message (self, iterator, cpu,
                                      &g_array_index (cpu->events, PendingEvent, self->emit_index));
          self->emit_index++;
          break;
        }
      self->emit_phase = EMIT_PACKET_END;
      G_GNUC_FALLTHROUGH;

    case EMIT_PACKET_END:
      msg = bt_message_packet_end_create_with_default_clock_snapshot (iterator, self->emit_packet,
                                                                      self->emit_end);
      BT_PACKET_PUT_REF_AND_RESET (self->emit_packet);
      self->emit_cpu = -1;
      break;

    default:
      g_assert_not_reached ();
    }

  return msg;
}

static bt_message_iterator_class_next_method_status
iterator_next_cb (bt_self_message_iterator *iterator,
                  bt_message_array_const    msgs,
                  uint64_t                  capacity,
                  uint64_t                 *count)
{
  bt_self_component *component = bt_self_message_iterator_borrow_component (iterator);
  StrataTraceWriter *self = bt_self_component_get_data (component);
  uint64_t n = 0;

  while (n < capacity)
    {
      bt_message *msg;

      if (self->streams_created && self->n_stream_beginnings < self->n_cpus)
        {
          msg = bt_message_stream_beginning_create (iterator,
                                                    self->cpus[self->n_stream_beginnings].stream);
          self->n_stream_beginnings++;
        }
      else if (self->emit_cpu >= 0)
        {
          msg = next_packet_message (self, iterator);
        }
      else if (self->ending && self->n_stream_ends < self->n_cpus)
        {
          msg = bt_message_stream_end_create (iterator, self->cpus[self->n_stream_ends].stream);
          self->n_stream_ends++;
        }
      else
        {
          if (self->ending)
            self->ended = TRUE;
          break;
        }

      if (msg == NULL)
        {
          BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_MESSAGE_ITERATOR (iterator,
            "Cannot create a message (out of memory?)");
          for (uint64_t i = 0; i < n; i++)
            BT_MESSAGE_PUT_REF_AND_RESET (msgs[i]);
          return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_MEMORY_ERROR;
        }

      msgs[n++] = msg;
    }

  *count = n;

  if (n > 0)
    return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_OK;
  if (self->ended)
    return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_END;
  /* Nothing until the writer flushes another packet: the sink passes
   * this up and bt_graph_run_once() returns to the writer. */
  return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_AGAIN;
}

/* Source component */

static gboolean
set_environment (StrataTraceWriter *self)
{
  /* In the order lttng-modules writes them */
  const struct {
    const char *name;
    const char *value;
  } strings[] = {
    { "hostname", self->hostname },
    { "domain", self->domain },
    { "sysname", self->sysname },
    { "kernel_release", self->kernel_release },
    { "tracer_name", self->tracer_name },
  };
  const struct {
    const char *name;
    gint64 value;
  } integers[] = {
    { "tracer_major", self->tracer_major },
    { "tracer_minor", self->tracer_minor },
    { "tracer_patchlevel", self->tracer_patchlevel },
  };

  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      if (strings[i].value == NULL)
        continue;
      if (bt_trace_set_environment_entry_string (self->trace, strings[i].name, strings[i].value)
          != BT_TRACE_SET_ENVIRONMENT_ENTRY_STATUS_OK)
        return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (integers); i++)
    if (bt_trace_set_environment_entry_integer (self->trace, integers[i].name, integers[i].value)
        != BT_TRACE_SET_ENVIRONMENT_ENTRY_STATUS_OK)
      return FALSE;

  return bt_trace_set_environment_entry_string (self->trace, "trace_name", self->hostname)
           == BT_TRACE_SET_ENVIRONMENT_ENTRY_STATUS_OK;
}

/* The trace class, its clock and stream classes, and the trace: all need
 * the source component, so they are made here. */
/* The trace's own UUID, named after the machine's boot (the clock's UUID)
 * and host name: the same inputs write the same bytes, and two machines
 * or boots never share one. (A version 5 UUID: SHA-1 of the name.) */
static void
make_trace_uuid (StrataTraceWriter *self,
                 guint8             uuid[16])
{
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize len = sizeof digest;

  g_checksum_update (sha1, (const guchar *) "strata-trace-writer/", -1);
  g_checksum_update (sha1, self->clock_uuid, 16);
  g_checksum_update (sha1, (const guchar *) self->hostname, -1);
  g_checksum_get_digest (sha1, digest, &len);
  memcpy (uuid, digest, 16);
  uuid[6] = (uuid[6] & 0x0f) | 0x50;
  uuid[8] = (uuid[8] & 0x3f) | 0x80;
}

static gboolean
create_trace_ir (StrataTraceWriter *self)
{
  guint8 trace_uuid[16];
  bt_field_class *context = NULL;
  bt_field_class *cpu_id = NULL;
  gint64 offset_s;
  gint64 offset_cycles;
  gboolean ok = FALSE;

  self->trace_class = bt_trace_class_create (self->self_component);
  if (self->trace_class == NULL)
    goto out;

  /* The monotonic clock of LTTng: 1 GHz, an origin that the metadata does
   * not call the Unix epoch (`absolute = false`; LTTng writes no `absolute`,
   * which means the same), and an offset that places it on the wall clock.
   * source.ctf.fs reads both the same way. */
  self->clock_class = bt_clock_class_create (self->self_component);
  if (self->clock_class == NULL)
    goto out;
  if (bt_clock_class_set_name (self->clock_class, "monotonic")
        != BT_CLOCK_CLASS_SET_NAME_STATUS_OK ||
      bt_clock_class_set_description (self->clock_class, "Monotonic Clock")
        != BT_CLOCK_CLASS_SET_DESCRIPTION_STATUS_OK)
    goto out;
  bt_clock_class_set_frequency (self->clock_class, G_GUINT64_CONSTANT (1000000000));
  bt_clock_class_set_origin_is_unix_epoch (self->clock_class, BT_FALSE);
  bt_clock_class_set_uuid (self->clock_class, self->clock_uuid);
  offset_s = self->clock_offset_ns / G_GINT64_CONSTANT (1000000000);
  offset_cycles = self->clock_offset_ns % G_GINT64_CONSTANT (1000000000);
  if (offset_cycles < 0)
    {
      offset_cycles += G_GINT64_CONSTANT (1000000000);
      offset_s--;
    }
  bt_clock_class_set_offset (self->clock_class, offset_s, (guint64) offset_cycles);

  self->stream_class = bt_stream_class_create (self->trace_class);
  if (self->stream_class == NULL)
    goto out;
  if (bt_stream_class_set_name (self->stream_class, STREAM_CLASS_NAME)
        != BT_STREAM_CLASS_SET_NAME_STATUS_OK ||
      bt_stream_class_set_default_clock_class (self->stream_class, self->clock_class)
        != BT_STREAM_CLASS_SET_DEFAULT_CLOCK_CLASS_STATUS_OK)
    goto out;
  bt_stream_class_set_supports_packets (self->stream_class, BT_TRUE, BT_TRUE, BT_TRUE);
  bt_stream_class_set_supports_discarded_events (self->stream_class, BT_TRUE, BT_TRUE);

  /* sink.ctf.fs adds timestamp_begin/end, events_discarded, sizes and
   * sequence number itself: cpu_id is ours. */
  context = bt_field_class_structure_create (self->trace_class);
  cpu_id = bt_field_class_integer_unsigned_create (self->trace_class);
  if (context == NULL || cpu_id == NULL)
    goto out;
  bt_field_class_integer_set_field_value_range (cpu_id, 32);
  if (bt_field_class_structure_append_member (context, "cpu_id", cpu_id)
        != BT_FIELD_CLASS_STRUCTURE_APPEND_MEMBER_STATUS_OK ||
      bt_stream_class_set_packet_context_field_class (self->stream_class, context)
        != BT_STREAM_CLASS_SET_FIELD_CLASS_STATUS_OK)
    goto out;

  self->trace = bt_trace_create (self->trace_class);
  if (self->trace == NULL)
    goto out;
  make_trace_uuid (self, trace_uuid);
  bt_trace_set_uuid (self->trace, trace_uuid);
  if (!set_environment (self))
    goto out;

  ok = TRUE;

out:
  bt_field_class_put_ref (cpu_id);
  bt_field_class_put_ref (context);
  return ok;
}

static bt_component_class_initialize_method_status
source_initialize_cb (bt_self_component_source               *self_component_source,
                      bt_self_component_source_configuration *configuration,
                      const bt_value                         *params,
                      void                                   *initialize_method_data)
{
  StrataTraceWriter *self = initialize_method_data;
  bt_self_component *component = bt_self_component_source_as_self_component (self_component_source);

  bt_self_component_set_data (component, self);
  self->self_component = component;

  if (bt_self_component_source_add_output_port (self_component_source, "out", NULL, NULL)
        != BT_SELF_COMPONENT_ADD_PORT_STATUS_OK ||
      !create_trace_ir (self))
    {
      BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT (component,
        "Cannot create the trace's classes (out of memory?)");
      return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
    }

  return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

/* Graph */

static gboolean
create_graph (StrataTraceWriter  *self,
              GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  const bt_component_class *sink_class = NULL;
  const bt_component_class_sink *typed_sink_class;
  bt_message_iterator_class *iterator_class = NULL;
  const bt_component_source *source = NULL;
  const bt_component_sink *sink = NULL;
  bt_value *params = NULL;
  gboolean ok = FALSE;

  if (!_strata_bt_find_component_class ("ctf", "fs", BT_COMPONENT_CLASS_TYPE_SINK,
                                        &self->ctf_plugin, &sink_class, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Cannot write trace: path=\"%s\": ", self->dir);
      return FALSE;
    }

  iterator_class = bt_message_iterator_class_create (iterator_next_cb);
  if (iterator_class == NULL)
    goto out;
  self->source_class = bt_component_class_source_create ("strata-writer", iterator_class);
  if (self->source_class == NULL ||
      bt_component_class_source_set_initialize_method (self->source_class, source_initialize_cb)
        != BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK)
    goto out;

  self->graph = bt_graph_create (STRATA_BT_MIP_VERSION);
  if (self->graph == NULL)
    goto out;

  /* Components log nothing (library code does not print); their errors
   * still reach us as error causes. */
  if (bt_graph_add_source_component_with_initialize_method_data (self->graph, self->source_class,
                                                                 "source", NULL, self,
                                                                 BT_LOGGING_LEVEL_NONE, &source)
        != BT_GRAPH_ADD_COMPONENT_STATUS_OK)
    goto out;

  /* `quiet`: otherwise it prints "Created CTF trace" on stdout */
  params = bt_value_map_create ();
  if (params == NULL ||
      bt_value_map_insert_string_entry (params, "path", self->out_dir)
        != BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
      bt_value_map_insert_bool_entry (params, "assume-single-trace", BT_TRUE)
        != BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
      bt_value_map_insert_bool_entry (params, "quiet", BT_TRUE)
        != BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
    goto out;

  /* sink_class, typed */
  typed_sink_class = bt_plugin_borrow_sink_component_class_by_name_const (self->ctf_plugin, "fs");
  if (bt_graph_add_sink_component (self->graph, typed_sink_class, "sink", params,
                                   BT_LOGGING_LEVEL_NONE, &sink)
        != BT_GRAPH_ADD_COMPONENT_STATUS_OK)
    goto out;

  if (bt_graph_connect_ports (self->graph,
                              bt_component_source_borrow_output_port_by_name_const (source, "out"),
                              bt_component_sink_borrow_input_port_by_name_const (sink, "in"),
                              NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK)
    goto out;

  ok = TRUE;

out:
  if (!ok)
    fail (self, error, "cannot set up the babeltrace2 graph (source → sink.ctf.fs)");
  bt_value_put_ref (params);
  bt_message_iterator_class_put_ref (iterator_class);
  return ok;
}

/* Runs the graph until the source has nothing left to emit. */
static gboolean
run_graph (StrataTraceWriter  *self,
           GError            **error)
{
  for (;;)
    {
      switch (bt_graph_run_once (self->graph))
        {
        case BT_GRAPH_RUN_ONCE_STATUS_OK:
          continue;

        case BT_GRAPH_RUN_ONCE_STATUS_AGAIN:
        case BT_GRAPH_RUN_ONCE_STATUS_END:
          return TRUE;

        case BT_GRAPH_RUN_ONCE_STATUS_MEMORY_ERROR:
        case BT_GRAPH_RUN_ONCE_STATUS_ERROR:
        default:
          fail (self, error, "sink.ctf.fs failed");
          return FALSE;
        }
    }
}

static gboolean
ensure_streams (StrataTraceWriter  *self,
                GError            **error)
{
  if (self->streams_created)
    return TRUE;

  for (guint i = 0; i < self->n_cpus; i++)
    {
      g_autofree char *name = g_strdup_printf (STREAM_CLASS_NAME "_%u", i);

      /* sink.ctf.fs names a stream's file after the stream, like LTTng
       * does: channel0_0, channel0_1, … The names must be unique: 2.0
       * does not add a suffix to a taken name, it writes both streams
       * into the same file. */
      self->cpus[i].stream = bt_stream_create (self->stream_class, self->trace);
      if (self->cpus[i].stream == NULL ||
          bt_stream_set_name (self->cpus[i].stream, name) != BT_STREAM_SET_NAME_STATUS_OK)
        {
          fail (self, error, "cannot create the stream of CPU %u", i);
          return FALSE;
        }
    }

  /* The iterator emits their stream beginnings first: every CPU gets a file */
  self->streams_created = TRUE;
  return TRUE;
}

/* Emits one packet of @cpu_index through the graph: its events (unless
 * @with_events is FALSE: an empty packet), preceded by the CPU's pending
 * discarded events if @with_discarded. */
static gboolean
emit_packet (StrataTraceWriter  *self,
             guint               cpu_index,
             guint64             begin,
             guint64             end,
             gboolean            with_events,
             gboolean            with_discarded,
             GError            **error)
{
  CpuState *cpu = &self->cpus[cpu_index];

  g_assert (self->emit_cpu < 0);
  g_assert (begin <= end);

  self->emit_cpu = cpu_index;
  self->emit_begin = begin;
  self->emit_end = end;
  self->emit_events = with_events;
  self->emit_phase = with_discarded ? EMIT_DISCARDED : EMIT_PACKET_BEGINNING;
  self->emit_index = 0;

  if (!run_graph (self, error))
    return FALSE;

  /* The iterator says "again" only once it has emitted everything */
  g_assert (self->emit_cpu < 0);

  cpu->prev_packet_end = end;
  cpu->has_packet = TRUE;
  if (with_discarded)
    cpu->pending_discarded = 0;

  return TRUE;
}

/* Writes the packet being filled on @cpu_index (possibly empty). */
static gboolean
flush_packet (StrataTraceWriter  *self,
              guint               cpu_index,
              GError            **error)
{
  CpuState *cpu = &self->cpus[cpu_index];
  guint64 begin;
  guint64 end;

  if (!ensure_streams (self, error))
    return FALSE;

  /* Packets follow each other like LTTng's sub-buffers: one begins where
   * the previous one ended. The packet of a CPU without events spans the
   * whole trace, like an idle CPU's packet in an LTTng trace. */
  if (cpu->has_packet)
    begin = cpu->prev_packet_end;
  else if (cpu->events->len > 0)
    begin = g_array_index (cpu->events, PendingEvent, 0).ts;
  else
    begin = self->ts_min;

  if (cpu->events->len > 0)
    end = g_array_index (cpu->events, PendingEvent, cpu->events->len - 1).ts;
  else
    end = MAX (begin, self->ts_max);

  /* A reader only knows how many events were lost from the difference
   * between the `events_discarded` counters of two packets: source.ctf.fs
   * reports lost events in a stream's first packet without a count. So
   * events lost before the first packet get an empty packet first. */
  if (cpu->pending_discarded > 0 && !cpu->has_packet)
    if (!emit_packet (self, cpu_index, begin, begin, FALSE, FALSE, error))
      return FALSE;

  if (!emit_packet (self, cpu_index, begin, end, TRUE, cpu->pending_discarded > 0, error))
    return FALSE;

  self->n_buffered_events -= cpu->events->len;
  self->n_buffered_bytes -= cpu->data->len;
  g_array_set_size (cpu->events, 0);
  g_byte_array_set_size (cpu->data, 0);

  return TRUE;
}

/* Public API */

/**
 * strata_trace_writer_new:
 * @dir: the folder to write the trace into; it must not exist or be an
 *   empty folder. Missing parent folders are created.
 * @config: what the trace says about itself
 * @error: return location for a #GError
 *
 * Starts writing a CTF 1.8 trace that looks like an LTTng kernel trace,
 * through babeltrace2's `sink.ctf.fs`. The trace is written into a
 * temporary sibling folder and only appears at @dir when
 * strata_trace_writer_close() succeeds.
 *
 * A writer, like the babeltrace2 objects it holds, must be used from the
 * thread that created it.
 *
 * Returns: (transfer full) (nullable): a new writer, or %NULL with @error
 *   set (%G_IO_ERROR_EXISTS when @dir is in the way)
 */
StrataTraceWriter *
strata_trace_writer_new (const char                    *dir,
                         const StrataTraceWriterConfig *config,
                         GError                       **error)
{
  g_autoptr(StrataTraceWriter) self = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *template = NULL;
  GDir *existing;

  g_return_val_if_fail (dir != NULL && *dir != '\0', NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->hostname != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_new0 (StrataTraceWriter, 1);
  self->dir = g_canonicalize_filename (dir, NULL);
  self->emit_cpu = -1;
  self->event_classes = g_ptr_array_new_with_free_func (event_class_free);

  if (config->n_cpus == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot write trace: path=\"%s\": n_cpus is 0", self->dir);
      return NULL;
    }

  if (config->clock_uuid != NULL)
    {
      if (!parse_uuid (config->clock_uuid, self->clock_uuid))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Cannot write trace: path=\"%s\": clock uuid \"%s\" is not a UUID",
                       self->dir, config->clock_uuid);
          return NULL;
        }
    }
  else
    {
      g_autofree char *random = g_uuid_string_random ();

      if (!parse_uuid (random, self->clock_uuid))
        g_assert_not_reached ();
    }

  /* The final folder: absent, or an empty folder that rename() replaces */
  existing = g_dir_open (self->dir, 0, NULL);
  if (existing != NULL)
    {
      gboolean empty = g_dir_read_name (existing) == NULL;

      g_dir_close (existing);
      if (!empty)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       "Cannot write trace: path=\"%s\": the folder exists and is not empty",
                       self->dir);
          return NULL;
        }
    }
  else if (g_file_test (self->dir, G_FILE_TEST_EXISTS) ||
           g_file_test (self->dir, G_FILE_TEST_IS_SYMLINK))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "Cannot write trace: path=\"%s\": a file is in the way", self->dir);
      return NULL;
    }

  parent = g_path_get_dirname (self->dir);
  if (g_mkdir_with_parents (parent, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot write trace: path=\"%s\": cannot create folder \"%s\": %s",
                   self->dir, parent, g_strerror (saved_errno));
      return NULL;
    }

  /* sink.ctf.fs wants to create its output folder itself: give it one
   * inside a folder of ours, so that the name cannot be taken meanwhile. */
  template = g_strdup_printf ("%s.part-XXXXXX", self->dir);
  if (g_mkdtemp_full (template, 0755) == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot write trace: path=\"%s\": cannot create a temporary folder "
                   "beside it: %s",
                   self->dir, g_strerror (saved_errno));
      return NULL;
    }
  self->part_dir = g_steal_pointer (&template);
  self->out_dir = g_build_filename (self->part_dir, "trace", NULL);

  self->hostname = g_strdup (config->hostname);
  self->domain = g_strdup (config->domain != NULL ? config->domain : "kernel");
  self->sysname = g_strdup (config->sysname != NULL ? config->sysname : "Linux");
  self->kernel_release = g_strdup (config->kernel_release);
  self->tracer_name = g_strdup (config->tracer_name != NULL ? config->tracer_name
                                                            : "lttng-modules");
  self->tracer_major = config->tracer_major;
  self->tracer_minor = config->tracer_minor;
  self->tracer_patchlevel = config->tracer_patchlevel;
  self->clock_offset_ns = config->clock_offset_ns;
  self->n_cpus = config->n_cpus;
  self->events_per_packet = config->events_per_packet > 0 ? config->events_per_packet
                                                          : DEFAULT_EVENTS_PER_PACKET;

  self->cpus = g_new0 (CpuState, self->n_cpus);
  for (guint i = 0; i < self->n_cpus; i++)
    {
      self->cpus[i].events = g_array_new (FALSE, FALSE, sizeof (PendingEvent));
      self->cpus[i].data = g_byte_array_new ();
    }

  if (!create_graph (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

static gboolean
parse_field_name (const char *name)
{
  if (!g_ascii_isalpha (name[0]) && name[0] != '_')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
has_member (bt_field_class *payload,
            const char     *name)
{
  return bt_field_class_structure_borrow_member_by_name (payload, name) != NULL;
}

static bt_field_class *
create_integer_class (bt_trace_class *trace_class,
                      gboolean        is_signed,
                      guint           bits,
                      gboolean        hex)
{
  bt_field_class *fc = is_signed ? bt_field_class_integer_signed_create (trace_class)
                                 : bt_field_class_integer_unsigned_create (trace_class);

  if (fc == NULL)
    return NULL;
  bt_field_class_integer_set_field_value_range (fc, bits);
  if (hex)
    bt_field_class_integer_set_preferred_display_base (fc,
      BT_FIELD_CLASS_INTEGER_PREFERRED_DISPLAY_BASE_HEXADECIMAL);
  return fc;
}

static gboolean
append_member (bt_field_class *payload,
               const char     *name,
               bt_field_class *member)
{
  gboolean ok;

  if (member == NULL)
    return FALSE;
  ok = bt_field_class_structure_append_member (payload, name, member)
         == BT_FIELD_CLASS_STRUCTURE_APPEND_MEMBER_STATUS_OK;
  bt_field_class_put_ref (member);
  return ok;
}

/**
 * strata_trace_writer_add_event_class:
 * @self: a #StrataTraceWriter
 * @name: the event name, e.g. `sched_switch`
 * @fields: (nullable): the payload fields, space-separated `name:type`
 *   with a type among `s8 s16 s32 s64 u8 u16 u32 u64 x64` (an unsigned
 *   64-bit integer shown in hexadecimal), `string` and `s32[]` (a sequence
 *   of s32, preceded in the payload by its uint8 length member
 *   `_<name>_length`, as LTTng writes `vtids`)
 * @error: return location for a #GError
 *
 * Declares an event class. All event classes are declared before the
 * first strata_trace_writer_append().
 *
 * Returns: the event class id to give to strata_trace_writer_append()
 *   (0, 1, … in the order of declaration), or -1 with @error set
 */
int
strata_trace_writer_add_event_class (StrataTraceWriter  *self,
                                     const char         *name,
                                     const char         *fields,
                                     GError            **error)
{
  g_auto(GStrv) tokens = NULL;
  g_autoptr(GArray) specs = NULL;
  EventClass *ec;
  bt_event_class *event_class = NULL;
  bt_field_class *payload = NULL;
  guint n_members = 0;
  int id;

  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (name != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (!check_usable (self, error))
    return -1;

  if (self->started)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot add event class \"%s\": path=\"%s\": events were already appended; "
                   "declare every event class before the first event",
                   name, self->dir);
      return -1;
    }

  if (*name == '\0' || strpbrk (name, "\"\\") != NULL || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot add event class \"%s\": path=\"%s\": invalid event name",
                   name, self->dir);
      return -1;
    }
  for (const char *p = name; *p != '\0'; p++)
    if (g_ascii_iscntrl (*p))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "Cannot add event class \"%s\": path=\"%s\": invalid event name",
                     name, self->dir);
        return -1;
      }

  for (guint i = 0; i < self->event_classes->len; i++)
    if (g_str_equal (((EventClass *) g_ptr_array_index (self->event_classes, i))->name, name))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                     "Cannot add event class \"%s\": path=\"%s\": "
                     "an event class of that name exists",
                     name, self->dir);
        return -1;
      }

  payload = bt_field_class_structure_create (self->trace_class);
  if (payload == NULL)
    {
      fail (self, error, "cannot create the payload of event class \"%s\"", name);
      return -1;
    }

  specs = g_array_new (FALSE, TRUE, sizeof (FieldSpec));
  tokens = g_strsplit_set (fields != NULL ? fields : "", " \t\n", -1);

  for (guint i = 0; tokens[i] != NULL; i++)
    {
      const char *token = tokens[i];
      const char *colon;
      g_autofree char *field_name = NULL;
      g_autofree char *length_name = NULL;
      const char *type_name;
      FieldSpec spec = { 0 };
      gboolean found = FALSE;
      gboolean ok;

      if (*token == '\0')
        continue;

      colon = strchr (token, ':');
      if (colon == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Cannot add event class \"%s\": path=\"%s\": field \"%s\" is not name:type",
                       name, self->dir, token);
          goto error;
        }

      field_name = g_strndup (token, colon - token);
      type_name = colon + 1;

      if (!parse_field_name (field_name))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Cannot add event class \"%s\": path=\"%s\": invalid field name \"%s\"",
                       name, self->dir, field_name);
          goto error;
        }

      for (guint t = 0; t < G_N_ELEMENTS (field_types); t++)
        if (g_str_equal (type_name, field_types[t].name))
          {
            spec.type = field_types[t].type;
            spec.bits = field_types[t].bits;
            found = TRUE;
            break;
          }
      if (!found)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Cannot add event class \"%s\": path=\"%s\": field \"%s\" has unknown "
                       "type \"%s\" (expected s8, s16, s32, s64, u8, u16, u32, u64, x64, "
                       "string or s32[])",
                       name, self->dir, field_name, type_name);
          goto error;
        }

      if (spec.type == FIELD_S32_ARRAY)
        length_name = g_strdup_printf ("_%s_length", field_name);

      if (has_member (payload, field_name) ||
          (length_name != NULL && has_member (payload, length_name)))
        {
          const char *duplicate = has_member (payload, field_name) ? field_name : length_name;

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Cannot add event class \"%s\": path=\"%s\": duplicate field \"%s\"",
                       name, self->dir, duplicate);
          goto error;
        }

      switch (spec.type)
        {
        case FIELD_S8:
        case FIELD_S16:
        case FIELD_S32:
        case FIELD_S64:
          ok = append_member (payload, field_name,
                              create_integer_class (self->trace_class, TRUE, spec.bits, FALSE));
          break;

        case FIELD_U8:
        case FIELD_U16:
        case FIELD_U32:
        case FIELD_U64:
        case FIELD_X64:
          ok = append_member (payload, field_name,
                              create_integer_class (self->trace_class, FALSE, spec.bits,
                                                    spec.type == FIELD_X64));
          break;

        case FIELD_STRING:
          ok = append_member (payload, field_name,
                              bt_field_class_string_create (self->trace_class));
          break;

        case FIELD_S32_ARRAY:
          {
            bt_field_class *length = create_integer_class (self->trace_class, FALSE, 8, FALSE);
            bt_field_class *element = create_integer_class (self->trace_class, TRUE, 32, FALSE);
            bt_field_class *array = NULL;

            if (length != NULL && element != NULL)
              array = bt_field_class_array_dynamic_create (self->trace_class, element, length);
            bt_field_class_put_ref (element);
            if (array == NULL)
              {
                bt_field_class_put_ref (length);
                ok = FALSE;
                break;
              }

            /* The length member goes right before the array, so that
             * sink.ctf.fs writes `_vtids[__vtids_length]` as LTTng does */
            if (!append_member (payload, length_name, length))
              {
                bt_field_class_put_ref (array);
                ok = FALSE;
                break;
              }
            n_members++;
            ok = append_member (payload, field_name, array);
          }
          break;

        default:
          g_assert_not_reached ();
        }

      if (!ok)
        {
          fail (self, error, "cannot create field \"%s\" of event class \"%s\"", field_name, name);
          goto error;
        }

      spec.member_index = n_members++;
      spec.name = g_steal_pointer (&field_name);
      g_array_append_val (specs, spec);
    }

  event_class = bt_event_class_create (self->stream_class);
  if (event_class == NULL ||
      bt_event_class_set_name (event_class, name) != BT_EVENT_CLASS_SET_NAME_STATUS_OK ||
      bt_event_class_set_payload_field_class (event_class, payload)
        != BT_EVENT_CLASS_SET_FIELD_CLASS_STATUS_OK)
    {
      fail (self, error, "cannot create event class \"%s\"", name);
      goto error;
    }

  ec = g_new0 (EventClass, 1);
  ec->name = g_strdup (name);
  /* The stream class keeps it alive */
  ec->event_class = event_class;
  bt_event_class_put_ref (event_class);
  ec->n_fields = specs->len;
  ec->fields = (FieldSpec *) (void *) g_array_free (g_steal_pointer (&specs), FALSE);
  g_ptr_array_add (self->event_classes, ec);
  bt_field_class_put_ref (payload);

  id = (int) self->event_classes->len - 1;
  /* Automatic ids follow the order of creation */
  g_assert ((guint64) id == bt_event_class_get_id (ec->event_class));
  return id;

error:
  /* An event class made here but failing later stays in the stream class
   * unnamed; the writer is failed then anyway. */
  bt_event_class_put_ref (event_class);
  bt_field_class_put_ref (payload);
  for (guint i = 0; specs != NULL && i < specs->len; i++)
    g_free (g_array_index (specs, FieldSpec, i).name);
  return -1;
}

static gboolean
integer_in_range (const FieldSpec         *spec,
                  const StrataWriterValue *value)
{
  switch (spec->type)
    {
    case FIELD_S8:
    case FIELD_S16:
    case FIELD_S32:
      {
        gint64 max = (G_GINT64_CONSTANT (1) << (spec->bits - 1)) - 1;

        return value->i >= -max - 1 && value->i <= max;
      }
    case FIELD_U8:
    case FIELD_U16:
    case FIELD_U32:
      return value->u < (G_GUINT64_CONSTANT (1) << spec->bits);
    case FIELD_S64:
    case FIELD_U64:
    case FIELD_X64:
      return TRUE;
    case FIELD_STRING:
    case FIELD_S32_ARRAY:
    default:
      g_assert_not_reached ();
    }
}

/**
 * strata_trace_writer_append:
 * @self: a #StrataTraceWriter
 * @cpu: the CPU, below #StrataTraceWriterConfig.n_cpus
 * @ts: the raw clock value in ns from the clock's origin (without the
 *   clock offset); non-decreasing on each CPU
 * @event_class: an id from strata_trace_writer_add_event_class()
 * @values: (array length=n_values): the payload values, in the order of the
 *   event class's fields; they are copied
 * @n_values: the number of fields of the event class (the automatic length
 *   members of `s32[]` fields do not count)
 * @error: return location for a #GError
 *
 * Appends one event to the stream of @cpu. A rejected event
 * (%G_IO_ERROR_INVALID_ARGUMENT) leaves the writer usable; any other
 * error stops it.
 *
 * Returns: %TRUE on success
 */
gboolean
strata_trace_writer_append (StrataTraceWriter        *self,
                            guint                     cpu,
                            guint64                   ts,
                            int                       event_class,
                            const StrataWriterValue  *values,
                            guint                     n_values,
                            GError                  **error)
{
  const EventClass *ec;
  CpuState *state;
  PendingEvent pending;
  gsize old_len;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (values != NULL || n_values == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_usable (self, error))
    return FALSE;

  if (cpu >= self->n_cpus)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot append event: path=\"%s\": cpu %u is not below n_cpus %u",
                   self->dir, cpu, self->n_cpus);
      return FALSE;
    }

  if (event_class < 0 || (guint) event_class >= self->event_classes->len)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot append event: path=\"%s\": no event class %d", self->dir, event_class);
      return FALSE;
    }

  ec = g_ptr_array_index (self->event_classes, event_class);
  state = &self->cpus[cpu];

  if (n_values != ec->n_fields)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot append event \"%s\": path=\"%s\": %u values given, "
                   "the event class has %u fields",
                   ec->name, self->dir, n_values, ec->n_fields);
      return FALSE;
    }

  if (state->has_events && ts < state->last_ts)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot append event \"%s\": path=\"%s\": cpu %u: timestamp %" G_GUINT64_FORMAT
                   " is before the previous one, %" G_GUINT64_FORMAT,
                   ec->name, self->dir, cpu, ts, state->last_ts);
      return FALSE;
    }

  if (state->data->len > G_MAXUINT32)
    {
      fail (self, error, "cpu %u: a packet holds more than 4 GiB of values", cpu);
      return FALSE;
    }

  /* Encode, and roll back if a value is rejected */
  old_len = state->data->len;

  for (guint i = 0; i < ec->n_fields; i++)
    {
      const FieldSpec *spec = &ec->fields[i];
      const StrataWriterValue *value = &values[i];
      guint32 len;

      switch (spec->type)
        {
        case FIELD_S8:
        case FIELD_S16:
        case FIELD_S32:
        case FIELD_S64:
        case FIELD_U8:
        case FIELD_U16:
        case FIELD_U32:
        case FIELD_U64:
        case FIELD_X64:
          if (!integer_in_range (spec, value))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Cannot append event \"%s\": path=\"%s\": value %" G_GINT64_FORMAT
                           " (%" G_GUINT64_FORMAT " unsigned) does not fit field \"%s\" (%s%u)",
                           ec->name, self->dir, value->i, value->u, spec->name,
                           spec->type <= FIELD_S64 ? "s" : "u", spec->bits);
              goto reject;
            }
          /* Same bits for i and u */
          g_byte_array_append (state->data, (const guint8 *) &value->u, sizeof value->u);
          break;

        case FIELD_STRING:
          {
            gsize slen;

            if (value->s == NULL)
              {
                g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             "Cannot append event \"%s\": path=\"%s\": string field \"%s\" is NULL",
                             ec->name, self->dir, spec->name);
                goto reject;
              }
            slen = strlen (value->s);
            if (slen >= G_MAXUINT32)
              {
                g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             "Cannot append event \"%s\": path=\"%s\": "
                             "string field \"%s\" is too long",
                             ec->name, self->dir, spec->name);
                goto reject;
              }
            len = (guint32) slen;
            g_byte_array_append (state->data, (const guint8 *) &len, sizeof len);
            g_byte_array_append (state->data, (const guint8 *) value->s, len + 1);
          }
          break;

        case FIELD_S32_ARRAY:
          if (value->a.len > MAX_ARRAY_LEN || (value->a.len > 0 && value->a.values == NULL))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Cannot append event \"%s\": path=\"%s\": array field \"%s\" has %u "
                           "elements (at most %u, and values must not be NULL)",
                           ec->name, self->dir, spec->name, value->a.len, MAX_ARRAY_LEN);
              goto reject;
            }
          len = value->a.len;
          g_byte_array_append (state->data, (const guint8 *) &len, sizeof len);
          if (len > 0)
            g_byte_array_append (state->data, (const guint8 *) value->a.values,
                                 len * sizeof (gint32));
          break;

        default:
          g_assert_not_reached ();
        }
    }

  self->started = TRUE;

  pending.ts = ts;
  pending.event_class = (guint32) event_class;
  pending.offset = (guint32) old_len;
  g_array_append_val (state->events, pending);
  state->last_ts = ts;
  state->has_events = TRUE;

  if (!self->has_ts)
    {
      self->ts_min = ts;
      self->ts_max = ts;
      self->has_ts = TRUE;
    }
  else
    {
      self->ts_min = MIN (self->ts_min, ts);
      self->ts_max = MAX (self->ts_max, ts);
    }

  self->n_buffered_events++;
  self->n_buffered_bytes += state->data->len - old_len;
  self->max_buffered_events = MAX (self->max_buffered_events, self->n_buffered_events);
  self->max_buffered_bytes = MAX (self->max_buffered_bytes, self->n_buffered_bytes);

  if (state->events->len >= self->events_per_packet)
    return flush_packet (self, cpu, error);

  return TRUE;

reject:
  g_byte_array_set_size (state->data, old_len);
  return FALSE;
}

/**
 * strata_trace_writer_add_discarded:
 * @self: a #StrataTraceWriter
 * @cpu: the CPU, below #StrataTraceWriterConfig.n_cpus
 * @count: how many events the tracer lost there
 *
 * Records that the tracer lost @count events on @cpu at this point, as
 * LTTng does when a sub-buffer is full: the CPU's packet ends here and the
 * next packet's `events_discarded` counts them. Readers report them between
 * the end of that packet and the end of the next one. Calls before the
 * next event add up.
 *
 * A failure to write the packet is reported by the next call that takes
 * a #GError.
 */
void
strata_trace_writer_add_discarded (StrataTraceWriter *self,
                                   guint              cpu,
                                   guint64            count)
{
  CpuState *state;

  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);
  g_return_if_fail (cpu < self->n_cpus);

  if (count == 0 || self->error != NULL)
    return;

  self->started = TRUE;
  state = &self->cpus[cpu];

  if (state->events->len > 0)
    flush_packet (self, cpu, NULL);

  state->pending_discarded += count;
}

/* The first occurrence of @needle in @hay, or NULL. */
static guint8 *
find_16 (guint8       *hay,
         gsize         len,
         const guint8  needle[16])
{
  guint8 *end = hay + len;

  while ((gsize) (end - hay) >= 16)
    {
      guint8 *p = memchr (hay, needle[0], (gsize) (end - hay) - 15);

      if (p == NULL)
        return NULL;
      if (memcmp (p, needle, 16) == 0)
        return p;
      hay = p + 1;
    }
  return NULL;
}

/* Replaces the 16 bytes @from by @to everywhere in the file at @path, in
 * place. @from is random (a UUID): it cannot occur by chance. */
static gboolean
replace_bytes_in_file (const char    *path,
                       const guint8   from[16],
                       const guint8   to[16],
                       GError       **error)
{
  enum { CHUNK = 4 << 20, KEEP = 15 };
  g_autofree guint8 *buffer = g_malloc (CHUNK + KEEP);
  goffset offset = 0;
  gsize kept = 0;
  int fd = g_open (path, O_RDWR | O_CLOEXEC, 0);

  if (fd < 0)
    goto fail;

  for (;;)
    {
      ssize_t got = pread (fd, buffer + kept, CHUNK, offset);
      gsize len;
      guint8 *p;

      if (got < 0)
        goto fail;
      if (got == 0)
        break;
      len = kept + (gsize) got;

      for (p = buffer; (p = find_16 (p, len - (gsize) (p - buffer), from)) != NULL; p += 16)
        {
          goffset at = offset - (goffset) kept + (p - buffer);

          if (pwrite (fd, to, 16, at) != 16)
            goto fail;
          memcpy (p, to, 16);
        }

      /* The last bytes again next time: a UUID may straddle two chunks. */
      kept = MIN (len, (gsize) KEEP);
      memmove (buffer, buffer + len - kept, kept);
      offset += got;
    }

  if (close (fd) != 0)
    {
      fd = -1;
      goto fail;
    }
  return TRUE;

fail:
  {
    int saved_errno = errno;

    if (fd >= 0)
      close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 "Cannot write trace: path=\"%s\": %s", path, g_strerror (saved_errno));
    return FALSE;
  }
}

/* sink.ctf.fs (2.0) gives every trace it writes a random UUID, whatever
 * the trace's own: in the metadata and in every packet header. Put ours
 * back (make_trace_uuid ()), so that the same input writes the same bytes. */
static gboolean
replace_trace_uuid (StrataTraceWriter  *self,
                    GError            **error)
{
  g_autofree char *metadata_path = g_build_filename (self->out_dir, "metadata", NULL);
  g_autofree char *metadata = NULL;
  g_autoptr(GDir) dir = NULL;
  guint8 old_uuid[16], new_uuid[16];
  char new_text[37];
  const char *trace_block, *uuid_at;
  const char *name;
  gsize len;

  if (!g_file_get_contents (metadata_path, &metadata, &len, error))
    return FALSE;

  trace_block = strstr (metadata, "trace {");
  uuid_at = trace_block != NULL ? strstr (trace_block, "uuid = \"") : NULL;
  if (uuid_at == NULL || strlen (uuid_at) < 8 + 36)
    return TRUE;   /* no UUID written: nothing to replace */
  uuid_at += 8;

  {
    g_autofree char *old_text = g_strndup (uuid_at, 36);

    if (!parse_uuid (old_text, old_uuid))
      return TRUE;
  }

  make_trace_uuid (self, new_uuid);
  g_snprintf (new_text, sizeof new_text,
              "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              new_uuid[0], new_uuid[1], new_uuid[2], new_uuid[3], new_uuid[4], new_uuid[5],
              new_uuid[6], new_uuid[7], new_uuid[8], new_uuid[9], new_uuid[10], new_uuid[11],
              new_uuid[12], new_uuid[13], new_uuid[14], new_uuid[15]);
  memcpy ((char *) uuid_at, new_text, 36);
  if (!g_file_set_contents (metadata_path, metadata, (gssize) len, error))
    return FALSE;

  dir = g_dir_open (self->out_dir, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (self->out_dir, name, NULL);

      if (g_str_equal (name, "metadata") || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      if (!replace_bytes_in_file (path, old_uuid, new_uuid, error))
        return FALSE;
    }

  return TRUE;
}

/**
 * strata_trace_writer_close:
 * @self: a #StrataTraceWriter
 * @error: return location for a #GError
 *
 * Ends every packet and stream, lets `sink.ctf.fs` write the metadata, and
 * moves the complete trace to its folder. On failure nothing is left
 * behind. Closing twice is an error (%G_IO_ERROR_CLOSED).
 *
 * Returns: %TRUE if the trace is complete at its folder
 */
gboolean
strata_trace_writer_close (StrataTraceWriter  *self,
                           GError            **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_usable (self, error))
    return FALSE;

  self->started = TRUE;

  if (!ensure_streams (self, error))
    return FALSE;

  /* Every CPU gets at least one packet, so that its cpu_id is known even
   * without events, and lost events at the very end get a packet to be
   * counted in. */
  for (guint i = 0; i < self->n_cpus; i++)
    {
      CpuState *cpu = &self->cpus[i];

      if (cpu->events->len > 0 || cpu->pending_discarded > 0 || !cpu->has_packet)
        if (!flush_packet (self, i, error))
          return FALSE;
    }

  self->ending = TRUE;
  if (!run_graph (self, error))
    return FALSE;
  g_assert (self->ended);

  self->closed = TRUE;

  /* sink.ctf.fs writes the metadata file when the trace is destroyed:
   * drop every reference, then the graph. */
  for (guint i = 0; i < self->n_cpus; i++)
    BT_STREAM_PUT_REF_AND_RESET (self->cpus[i].stream);
  BT_TRACE_PUT_REF_AND_RESET (self->trace);
  BT_STREAM_CLASS_PUT_REF_AND_RESET (self->stream_class);
  BT_CLOCK_CLASS_PUT_REF_AND_RESET (self->clock_class);
  BT_TRACE_CLASS_PUT_REF_AND_RESET (self->trace_class);
  BT_GRAPH_PUT_REF_AND_RESET (self->graph);

  if (!g_file_test (self->out_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot write trace: path=\"%s\": sink.ctf.fs wrote nothing", self->dir);
      remove_tree (self->part_dir);
      return FALSE;
    }

  if (!replace_trace_uuid (self, error))
    {
      remove_tree (self->part_dir);
      return FALSE;
    }

  if (g_rename (self->out_dir, self->dir) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot write trace: path=\"%s\": cannot move the written trace there: %s",
                   self->dir, g_strerror (saved_errno));
      remove_tree (self->part_dir);
      return FALSE;
    }

  self->renamed = TRUE;
  g_rmdir (self->part_dir);
  return TRUE;
}

/**
 * strata_trace_writer_free:
 * @self: (nullable): a #StrataTraceWriter
 *
 * Frees the writer. Without a successful strata_trace_writer_close(), the
 * partly written trace is removed.
 */
void
strata_trace_writer_free (StrataTraceWriter *self)
{
  if (self == NULL)
    return;

  BT_PACKET_PUT_REF_AND_RESET (self->emit_packet);
  for (guint i = 0; self->cpus != NULL && i < self->n_cpus; i++)
    {
      BT_STREAM_PUT_REF_AND_RESET (self->cpus[i].stream);
      g_array_unref (self->cpus[i].events);
      g_byte_array_unref (self->cpus[i].data);
    }
  g_free (self->cpus);
  g_clear_pointer (&self->event_classes, g_ptr_array_unref);

  BT_TRACE_PUT_REF_AND_RESET (self->trace);
  BT_STREAM_CLASS_PUT_REF_AND_RESET (self->stream_class);
  BT_CLOCK_CLASS_PUT_REF_AND_RESET (self->clock_class);
  BT_TRACE_CLASS_PUT_REF_AND_RESET (self->trace_class);
  /* Finalizes sink.ctf.fs, which writes the metadata of an abandoned
   * trace into the temporary folder removed below. */
  BT_GRAPH_PUT_REF_AND_RESET (self->graph);
  BT_COMPONENT_CLASS_SOURCE_PUT_REF_AND_RESET (self->source_class);
  BT_PLUGIN_PUT_REF_AND_RESET (self->ctf_plugin);

  if (self->renamed)
    g_rmdir (self->part_dir);
  else if (self->part_dir != NULL)
    remove_tree (self->part_dir);

  g_clear_error (&self->error);
  g_free (self->hostname);
  g_free (self->domain);
  g_free (self->sysname);
  g_free (self->kernel_release);
  g_free (self->tracer_name);
  g_free (self->out_dir);
  g_free (self->part_dir);
  g_free (self->dir);
  g_free (self);
}

guint64
_strata_trace_writer_get_max_buffered_events (StrataTraceWriter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->max_buffered_events;
}

gsize
_strata_trace_writer_get_max_buffered_bytes (StrataTraceWriter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->max_buffered_bytes;
}
