/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "strata-event.h"

G_BEGIN_DECLS

/**
 * StrataSyncChannel:
 * @STRATA_SYNC_CHANNEL_VMSYNC_GH: a guest's sync hypercall:
 *   `vmsync_gh_guest` (guest) → `vmsync_gh_host` (its host)
 * @STRATA_SYNC_CHANNEL_VMSYNC_HG: the return to the guest:
 *   `vmsync_hg_host` (host) → `vmsync_hg_guest` (guest)
 * @STRATA_SYNC_CHANNEL_TCP: a TCP packet: `inet_sock_local_out` (sender) →
 *   `inet_sock_local_in` (receiver)
 *
 * The kinds of messages that tie two clocks together.
 */
typedef enum
{
  STRATA_SYNC_CHANNEL_VMSYNC_GH,
  STRATA_SYNC_CHANNEL_VMSYNC_HG,
  STRATA_SYNC_CHANNEL_TCP,
  STRATA_SYNC_N_CHANNELS,
} StrataSyncChannel;

/**
 * StrataSyncRecord:
 * @ts: the event's time (trace clock, ns, absolute)
 * @key: the message's identity: (vm_uid, cnt) for the hypercalls;
 *   (seq << 32 | ack_seq, flags) for TCP
 * @channel: a #StrataSyncChannel
 * @is_send: %TRUE for the cause (the sending half), %FALSE for the effect
 * @guest_side: %TRUE for a hypercall event written by the guest, whose
 *   own vm_uid is then @key[0]
 *
 * One half of a message, as extracted from an event in pass 1.
 */
typedef struct
{
  gint64  ts;
  guint64 key[2];
  guint8  channel;
  guint8  is_send;
  guint8  guest_side;
} StrataSyncRecord;

/**
 * StrataSyncMatch:
 * @channel: a #StrataSyncChannel
 * @sender: the index of the sender's trace
 * @receiver: the index of the receiver's trace
 * @send_ts: when it was sent, on the sender's clock
 * @recv_ts: when it was received, on the receiver's clock
 * @key: the message's identity (see #StrataSyncRecord)
 *
 * A message whose two halves were found.
 */
typedef struct
{
  StrataSyncChannel channel;
  guint             sender;
  guint             receiver;
  gint64            send_ts;
  gint64            recv_ts;
  guint64           key[2];
} StrataSyncMatch;

typedef struct _StrataSyncMatcher StrataSyncMatcher;

const StrataEventKind *strata_sync_get_event_kinds          (guint                   *n_kinds);
gboolean               strata_sync_record_from_event        (const StrataEvent       *event,
                                                             StrataSyncRecord        *record);

StrataSyncMatcher     *strata_sync_matcher_new              (guint                    n_traces);
void                   strata_sync_matcher_free             (StrataSyncMatcher       *self);
gboolean               strata_sync_matcher_add              (StrataSyncMatcher       *self,
                                                             guint                    trace,
                                                             const StrataSyncRecord  *record,
                                                             StrataSyncMatch         *match);
guint64                strata_sync_matcher_get_n_matches    (const StrataSyncMatcher *self);
guint64                strata_sync_matcher_get_n_records    (const StrataSyncMatcher *self,
                                                             guint                    trace);
guint64                strata_sync_matcher_get_n_unmatched  (const StrataSyncMatcher *self,
                                                             guint                    trace);
guint64                strata_sync_matcher_get_n_duplicates (const StrataSyncMatcher *self,
                                                             guint                    trace);
const guint           *strata_sync_matcher_get_guests       (const StrataSyncMatcher *self,
                                                             guint64                  vm_uid,
                                                             guint                   *n_guests);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataSyncMatcher, strata_sync_matcher_free)

G_END_DECLS
