/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sync-match"

#include "config.h"

#include "strata-sync-match.h"

/*
 * Streaming matching of the two halves of each message.
 *
 * Halves arrive one at a time, from all traces merged in one
 * deterministic order (pass 1 merges them by time, then trace index).
 * A half whose partner is waiting, in another trace, makes a match at
 * once; otherwise it waits, in its trace's name, until the partner comes.
 *
 * Duplicates, decided the same way whatever the threads did: a trace
 * whose half of some key is already waiting keeps the first (the earlier
 * one in its own time) and counts the others; when several traces have a
 * half waiting for the same key, the partner goes to the lowest trace
 * index. A repeat that comes after the first half was matched finds no
 * partner and stays unmatched. A trace never matches itself (loopback
 * traffic, a guest that is also a host).
 *
 * The TCP identity is the one Trace Compass uses for these events:
 * sequence and acknowledgement numbers and flags. The checksum is not
 * part of it: with checksum offload the sender's event sees a partial
 * sum, and on traces/synctraces it differs on 16 of the 46 packets.
 */

typedef struct
{
  guint8  channel;
  guint64 key[2];
} Key;

typedef struct
{
  guint  trace;
  gint64 ts;
} Half;

/* The halves of one key waiting for a partner, by trace index: the first
 * inline (the usual case: one), the others in @more. */
typedef struct
{
  Key     key;
  Half    first;
  GArray *more;    /* Half, or NULL */
} Waiting;

struct _StrataSyncMatcher
{
  guint       n_traces;
  GHashTable *sends;      /* Key * → Waiting *: causes waiting for their effect */
  GHashTable *receives;   /* effects waiting for their cause */
  GHashTable *guests;     /* vm_uid → GArray of guint: traces writing its guest events */
  guint64    *n_records;
  guint64    *n_unmatched;
  guint64    *n_duplicates;
  guint64     n_matches;
};

static const StrataEventKind sync_kinds[] = {
  STRATA_EVENT_VMSYNC_GH_GUEST,
  STRATA_EVENT_VMSYNC_GH_HOST,
  STRATA_EVENT_VMSYNC_HG_HOST,
  STRATA_EVENT_VMSYNC_HG_GUEST,
  STRATA_EVENT_INET_SOCK_LOCAL_OUT,
  STRATA_EVENT_INET_SOCK_LOCAL_IN,
};

/**
 * strata_sync_get_event_kinds:
 * @n_kinds: (out): the number of kinds
 *
 * Returns: (array length=n_kinds) (transfer none): the only event kinds
 *   that pass 1 needs from a trace
 */
const StrataEventKind *
strata_sync_get_event_kinds (guint *n_kinds)
{
  g_return_val_if_fail (n_kinds != NULL, NULL);

  *n_kinds = G_N_ELEMENTS (sync_kinds);
  return sync_kinds;
}

/**
 * strata_sync_record_from_event:
 * @event: a record of one of strata_sync_get_event_kinds()
 * @record: (out): its half of a message
 *
 * Returns: %TRUE if @event is half of a message that can be matched
 */
gboolean
strata_sync_record_from_event (const StrataEvent *event,
                               StrataSyncRecord  *record)
{
  g_return_val_if_fail (event != NULL, FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  record->ts = event->ts;
  record->guest_side = FALSE;

  switch (event->kind)
    {
    case STRATA_EVENT_VMSYNC_GH_GUEST:
    case STRATA_EVENT_VMSYNC_GH_HOST:
    case STRATA_EVENT_VMSYNC_HG_HOST:
    case STRATA_EVENT_VMSYNC_HG_GUEST:
      /* v[0] cnt, v[1] vm_uid */
      if (event->v[0] == STRATA_VALUE_ABSENT || event->v[1] == STRATA_VALUE_ABSENT)
        return FALSE;
      record->key[0] = (guint64) event->v[1];
      record->key[1] = (guint64) (guint32) event->v[0];
      record->channel = (event->kind == STRATA_EVENT_VMSYNC_GH_GUEST
                         || event->kind == STRATA_EVENT_VMSYNC_GH_HOST)
                        ? STRATA_SYNC_CHANNEL_VMSYNC_GH : STRATA_SYNC_CHANNEL_VMSYNC_HG;
      record->is_send = event->kind == STRATA_EVENT_VMSYNC_GH_GUEST
                        || event->kind == STRATA_EVENT_VMSYNC_HG_HOST;
      record->guest_side = event->kind == STRATA_EVENT_VMSYNC_GH_GUEST
                           || event->kind == STRATA_EVENT_VMSYNC_HG_GUEST;
      return TRUE;

    case STRATA_EVENT_INET_SOCK_LOCAL_OUT:
    case STRATA_EVENT_INET_SOCK_LOCAL_IN:
      /* v[0] seq, v[1] ack_seq, v[2] flags (32, 32 and 16 bits) */
      if (event->v[0] == STRATA_VALUE_ABSENT || event->v[1] == STRATA_VALUE_ABSENT
          || event->v[2] == STRATA_VALUE_ABSENT)
        return FALSE;
      record->key[0] = ((guint64) (guint32) event->v[0] << 32) | (guint32) event->v[1];
      record->key[1] = (guint64) (guint16) event->v[2];
      record->channel = STRATA_SYNC_CHANNEL_TCP;
      record->is_send = event->kind == STRATA_EVENT_INET_SOCK_LOCAL_OUT;
      return TRUE;

    default:
      return FALSE;
    }
}

static guint
key_hash (gconstpointer data)
{
  const Key *k = data;
  guint64 h = k->key[0] * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);

  h ^= (k->key[1] + k->channel) * G_GUINT64_CONSTANT (0xc2b2ae3d27d4eb4f);
  h ^= h >> 31;
  h *= G_GUINT64_CONSTANT (0x94d049bb133111eb);
  h ^= h >> 29;
  return (guint) h;
}

static gboolean
key_equal (gconstpointer a,
           gconstpointer b)
{
  const Key *ka = a, *kb = b;

  return ka->channel == kb->channel && ka->key[0] == kb->key[0] && ka->key[1] == kb->key[1];
}

static void
waiting_free (gpointer data)
{
  Waiting *w = data;

  g_clear_pointer (&w->more, g_array_unref);
  g_free (w);
}

static guint
waiting_len (const Waiting *w)
{
  return 1 + (w->more != NULL ? w->more->len : 0);
}

static Half *
waiting_get (Waiting *w,
             guint    i)
{
  return i == 0 ? &w->first : &g_array_index (w->more, Half, i - 1);
}

static void
waiting_remove (Waiting *w,
                guint    i)
{
  if (i == 0)
    {
      w->first = g_array_index (w->more, Half, 0);
      g_array_remove_index (w->more, 0);
    }
  else
    {
      g_array_remove_index (w->more, i - 1);
    }
}

static void
waiting_insert (Waiting *w,
                guint    i,
                Half     half)
{
  if (w->more == NULL)
    w->more = g_array_new (FALSE, FALSE, sizeof (Half));

  if (i == 0)
    {
      g_array_prepend_val (w->more, w->first);
      w->first = half;
    }
  else
    {
      g_array_insert_val (w->more, i - 1, half);
    }
}

static void
guests_free (gpointer data)
{
  g_array_unref (data);
}

/**
 * strata_sync_matcher_new:
 * @n_traces: traces are numbered from 0 to @n_traces − 1
 *
 * Returns: (transfer full): a matcher with nothing waiting
 */
StrataSyncMatcher *
strata_sync_matcher_new (guint n_traces)
{
  StrataSyncMatcher *self = g_new0 (StrataSyncMatcher, 1);

  self->n_traces = n_traces;
  self->sends = g_hash_table_new_full (key_hash, key_equal, NULL, waiting_free);
  self->receives = g_hash_table_new_full (key_hash, key_equal, NULL, waiting_free);
  self->guests = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, guests_free);
  self->n_records = g_new0 (guint64, MAX (n_traces, 1));
  self->n_unmatched = g_new0 (guint64, MAX (n_traces, 1));
  self->n_duplicates = g_new0 (guint64, MAX (n_traces, 1));
  return self;
}

void
strata_sync_matcher_free (StrataSyncMatcher *self)
{
  if (self == NULL)
    return;

  g_hash_table_unref (self->sends);
  g_hash_table_unref (self->receives);
  g_hash_table_unref (self->guests);
  g_free (self->n_records);
  g_free (self->n_unmatched);
  g_free (self->n_duplicates);
  g_free (self);
}

static void
add_guest (StrataSyncMatcher *self,
           guint64            vm_uid,
           guint              trace)
{
  GArray *traces = g_hash_table_lookup (self->guests, &vm_uid);
  guint i;

  if (traces == NULL)
    {
      guint64 *key = g_new (guint64, 1);

      *key = vm_uid;
      traces = g_array_new (FALSE, FALSE, sizeof (guint));
      g_hash_table_insert (self->guests, key, traces);
    }

  for (i = 0; i < traces->len; i++)
    {
      guint t = g_array_index (traces, guint, i);

      if (t == trace)
        return;
      if (t > trace)
        break;
    }
  g_array_insert_val (traces, i, trace);
}

/**
 * strata_sync_matcher_add:
 * @trace: the index of the trace @record comes from
 * @record: one half of a message; a trace's records must come in time order
 * @match: (out): the match, when this half completes one
 *
 * Returns: %TRUE if @record completed a message, then described in @match
 */
gboolean
strata_sync_matcher_add (StrataSyncMatcher      *self,
                         guint                   trace,
                         const StrataSyncRecord *record,
                         StrataSyncMatch        *match)
{
  GHashTable *partners, *own;
  Waiting *w;
  Key key;
  Half half;
  guint i, n;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (trace < self->n_traces, FALSE);
  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (record->channel < STRATA_SYNC_N_CHANNELS, FALSE);

  self->n_records[trace]++;
  if (record->guest_side)
    add_guest (self, record->key[0], trace);

  key.channel = record->channel;
  key.key[0] = record->key[0];
  key.key[1] = record->key[1];
  half.trace = trace;
  half.ts = record->ts;

  partners = record->is_send ? self->receives : self->sends;
  own = record->is_send ? self->sends : self->receives;

  w = g_hash_table_lookup (partners, &key);
  if (w != NULL)
    {
      n = waiting_len (w);
      for (i = 0; i < n; i++)
        if (waiting_get (w, i)->trace != trace)
          break;

      if (i < n)
        {
          Half partner = *waiting_get (w, i);

          self->n_unmatched[partner.trace]--;
          if (n == 1)
            g_hash_table_remove (partners, &key);
          else
            waiting_remove (w, i);

          if (match != NULL)
            {
              match->channel = record->channel;
              match->sender = record->is_send ? trace : partner.trace;
              match->receiver = record->is_send ? partner.trace : trace;
              match->send_ts = record->is_send ? record->ts : partner.ts;
              match->recv_ts = record->is_send ? partner.ts : record->ts;
              match->key[0] = record->key[0];
              match->key[1] = record->key[1];
            }
          self->n_matches++;
          return TRUE;
        }
    }

  w = g_hash_table_lookup (own, &key);
  if (w == NULL)
    {
      w = g_new0 (Waiting, 1);
      w->key = key;
      w->first = half;
      g_hash_table_insert (own, &w->key, w);
      self->n_unmatched[trace]++;
      return FALSE;
    }

  n = waiting_len (w);
  for (i = 0; i < n && waiting_get (w, i)->trace < trace; i++)
    ;
  if (i < n && waiting_get (w, i)->trace == trace)
    {
      /* The same half again from the same trace: keep the first. */
      self->n_duplicates[trace]++;
      return FALSE;
    }
  waiting_insert (w, i, half);
  self->n_unmatched[trace]++;
  return FALSE;
}

/**
 * strata_sync_matcher_get_n_matches:
 *
 * Returns: the number of messages matched so far
 */
guint64
strata_sync_matcher_get_n_matches (const StrataSyncMatcher *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_matches;
}

/**
 * strata_sync_matcher_get_n_records:
 *
 * Returns: the number of halves @trace gave
 */
guint64
strata_sync_matcher_get_n_records (const StrataSyncMatcher *self,
                                   guint                    trace)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (trace < self->n_traces, 0);

  return self->n_records[trace];
}

/**
 * strata_sync_matcher_get_n_unmatched:
 *
 * Returns: the number of halves of @trace waiting for a partner
 */
guint64
strata_sync_matcher_get_n_unmatched (const StrataSyncMatcher *self,
                                     guint                    trace)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (trace < self->n_traces, 0);

  return self->n_unmatched[trace];
}

/**
 * strata_sync_matcher_get_n_duplicates:
 *
 * Returns: the number of halves of @trace ignored because the same half
 *   of the same message was already waiting in @trace
 */
guint64
strata_sync_matcher_get_n_duplicates (const StrataSyncMatcher *self,
                                      guint                    trace)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (trace < self->n_traces, 0);

  return self->n_duplicates[trace];
}

/**
 * strata_sync_matcher_get_guests:
 * @vm_uid: a guest's id
 * @n_guests: (out): the number of traces
 *
 * The traces that wrote guest-side hypercall events for @vm_uid: one,
 * normally. Two mean that two guests have the same id (a cloned VM, or
 * the same guest traced twice), and that their messages cannot be told
 * apart.
 *
 * Returns: (array length=n_guests) (transfer none) (nullable): trace
 *   indexes, in increasing order
 */
const guint *
strata_sync_matcher_get_guests (const StrataSyncMatcher *self,
                                guint64                  vm_uid,
                                guint                   *n_guests)
{
  GArray *traces;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (n_guests != NULL, NULL);

  traces = g_hash_table_lookup (self->guests, &vm_uid);
  *n_guests = traces != NULL ? traces->len : 0;
  return traces != NULL ? (const guint *) traces->data : NULL;
}
