/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "strata-sync-match.h"

/*
 * The streaming matcher on hand-made halves: which events are halves,
 * their keys, which half waits for which, duplicates and two guests
 * claiming the same vm_uid.
 */

#define T0 G_GINT64_CONSTANT (1400000000000000000)

static StrataEvent
event (StrataEventKind kind,
       gint64          ts,
       gint64          v0,
       gint64          v1,
       gint64          v2)
{
  StrataEvent e = { 0 };

  e.kind = kind;
  e.ts = ts;
  for (guint i = 0; i < STRATA_EVENT_N_VALUES; i++)
    e.v[i] = STRATA_VALUE_ABSENT;
  e.v[0] = v0;
  e.v[1] = v1;
  e.v[2] = v2;
  return e;
}

static StrataSyncRecord
record_of (StrataEventKind kind,
           gint64          ts,
           gint64          v0,
           gint64          v1,
           gint64          v2)
{
  StrataEvent e = event (kind, ts, v0, v1, v2);
  StrataSyncRecord r;

  g_assert_true (strata_sync_record_from_event (&e, &r));
  return r;
}

/* vmsync: v[0] cnt, v[1] vm_uid */
static StrataSyncRecord
vmsync (StrataEventKind kind,
        gint64          ts,
        guint32         cnt,
        guint64         vm_uid)
{
  return record_of (kind, ts, cnt, (gint64) vm_uid, STRATA_VALUE_ABSENT);
}

static void
test_records (void)
{
  static const struct {
    StrataEventKind   kind;
    StrataSyncChannel channel;
    gboolean          is_send;
    gboolean          guest_side;
  } kinds[] = {
    { STRATA_EVENT_VMSYNC_GH_GUEST, STRATA_SYNC_CHANNEL_VMSYNC_GH, TRUE, TRUE },
    { STRATA_EVENT_VMSYNC_GH_HOST, STRATA_SYNC_CHANNEL_VMSYNC_GH, FALSE, FALSE },
    { STRATA_EVENT_VMSYNC_HG_HOST, STRATA_SYNC_CHANNEL_VMSYNC_HG, TRUE, FALSE },
    { STRATA_EVENT_VMSYNC_HG_GUEST, STRATA_SYNC_CHANNEL_VMSYNC_HG, FALSE, TRUE },
    { STRATA_EVENT_INET_SOCK_LOCAL_OUT, STRATA_SYNC_CHANNEL_TCP, TRUE, FALSE },
    { STRATA_EVENT_INET_SOCK_LOCAL_IN, STRATA_SYNC_CHANNEL_TCP, FALSE, FALSE },
  };
  guint n_kinds;
  const StrataEventKind *wanted = strata_sync_get_event_kinds (&n_kinds);
  StrataEvent e;
  StrataSyncRecord r;

  g_assert_cmpuint (n_kinds, ==, G_N_ELEMENTS (kinds));
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      /* An unsigned 64-bit vm_uid is stored as its bits */
      guint64 uid = G_GUINT64_CONSTANT (0xfedcba9876543210);

      g_assert_cmpint (wanted[i], ==, kinds[i].kind);
      if (kinds[i].channel == STRATA_SYNC_CHANNEL_TCP)
        e = event (kinds[i].kind, T0 + i, 0xdeadbeef, 0x12345678, 0x5018);
      else
        e = event (kinds[i].kind, T0 + i, 0xfffffffe, (gint64) uid, STRATA_VALUE_ABSENT);

      g_assert_true (strata_sync_record_from_event (&e, &r));
      g_assert_cmpint (r.ts, ==, T0 + i);
      g_assert_cmpint (r.channel, ==, kinds[i].channel);
      g_assert_cmpint (r.is_send, ==, kinds[i].is_send);
      g_assert_cmpint (r.guest_side, ==, kinds[i].guest_side);
      if (kinds[i].channel == STRATA_SYNC_CHANNEL_TCP)
        {
          g_assert_cmphex (r.key[0], ==, G_GUINT64_CONSTANT (0xdeadbeef12345678));
          g_assert_cmphex (r.key[1], ==, 0x5018);
        }
      else
        {
          g_assert_cmphex (r.key[0], ==, uid);
          g_assert_cmphex (r.key[1], ==, 0xfffffffe);
        }
    }

  /* Other events, and halves missing their identity, are no message */
  e = event (STRATA_EVENT_KVM_ENTRY, T0, 1, 2, 3);
  g_assert_false (strata_sync_record_from_event (&e, &r));
  e = event (STRATA_EVENT_VMSYNC_GH_HOST, T0, STRATA_VALUE_ABSENT, 1, 0);
  g_assert_false (strata_sync_record_from_event (&e, &r));
  e = event (STRATA_EVENT_INET_SOCK_LOCAL_IN, T0, 1, 2, STRATA_VALUE_ABSENT);
  g_assert_false (strata_sync_record_from_event (&e, &r));
}

/* Host 0, guest 1: a hypercall and its return */
static void
test_vmsync (void)
{
  g_autoptr(StrataSyncMatcher) m = strata_sync_matcher_new (2);
  StrataSyncRecord r;
  StrataSyncMatch match;
  const guint64 uid = 77;

  r = vmsync (STRATA_EVENT_VMSYNC_GH_GUEST, T0 + 10, 1, uid);
  g_assert_false (strata_sync_matcher_add (m, 1, &r, &match));
  g_assert_cmpuint (strata_sync_matcher_get_n_unmatched (m, 1), ==, 1);

  /* Another guest's counter, or the other channel: no match */
  r = vmsync (STRATA_EVENT_VMSYNC_GH_HOST, T0 + 500, 1, uid + 1);
  g_assert_false (strata_sync_matcher_add (m, 0, &r, &match));
  r = vmsync (STRATA_EVENT_VMSYNC_HG_GUEST, T0 + 501, 1, uid);
  g_assert_false (strata_sync_matcher_add (m, 1, &r, &match));

  r = vmsync (STRATA_EVENT_VMSYNC_GH_HOST, T0 + 600, 1, uid);
  g_assert_true (strata_sync_matcher_add (m, 0, &r, &match));
  g_assert_cmpint (match.channel, ==, STRATA_SYNC_CHANNEL_VMSYNC_GH);
  g_assert_cmpuint (match.sender, ==, 1);
  g_assert_cmpuint (match.receiver, ==, 0);
  g_assert_cmpint (match.send_ts, ==, T0 + 10);
  g_assert_cmpint (match.recv_ts, ==, T0 + 600);
  g_assert_cmpuint (match.key[0], ==, uid);

  /* The return: host → guest; the guest's half came first (its clock is
   * behind), the pair is still host → guest */
  r = vmsync (STRATA_EVENT_VMSYNC_HG_HOST, T0 + 900, 1, uid);
  g_assert_true (strata_sync_matcher_add (m, 0, &r, &match));
  g_assert_cmpint (match.channel, ==, STRATA_SYNC_CHANNEL_VMSYNC_HG);
  g_assert_cmpuint (match.sender, ==, 0);
  g_assert_cmpuint (match.receiver, ==, 1);
  g_assert_cmpint (match.send_ts, ==, T0 + 900);
  g_assert_cmpint (match.recv_ts, ==, T0 + 501);

  g_assert_cmpuint (strata_sync_matcher_get_n_matches (m), ==, 2);
  g_assert_cmpuint (strata_sync_matcher_get_n_records (m, 0), ==, 3);
  g_assert_cmpuint (strata_sync_matcher_get_n_records (m, 1), ==, 2);
  g_assert_cmpuint (strata_sync_matcher_get_n_unmatched (m, 0), ==, 1);
  g_assert_cmpuint (strata_sync_matcher_get_n_unmatched (m, 1), ==, 0);
}

/* TCP: seq, ack_seq and flags identify a packet; the checksum does not */
static void
test_tcp (void)
{
  g_autoptr(StrataSyncMatcher) m = strata_sync_matcher_new (3);
  StrataSyncRecord r;
  StrataSyncMatch match;
  StrataEvent e;

  r = record_of (STRATA_EVENT_INET_SOCK_LOCAL_OUT, T0, 1000, 2000, 0x18);
  g_assert_false (strata_sync_matcher_add (m, 2, &r, &match));

  /* Other flags: another packet */
  r = record_of (STRATA_EVENT_INET_SOCK_LOCAL_IN, T0 + 5, 1000, 2000, 0x10);
  g_assert_false (strata_sync_matcher_add (m, 0, &r, &match));

  /* Same identity, other checksum (offload on the sender) */
  e = event (STRATA_EVENT_INET_SOCK_LOCAL_IN, T0 + 7, 1000, 2000, 0x18);
  e.v[3] = 0xbeef;
  g_assert_true (strata_sync_record_from_event (&e, &r));
  g_assert_true (strata_sync_matcher_add (m, 0, &r, &match));
  g_assert_cmpint (match.channel, ==, STRATA_SYNC_CHANNEL_TCP);
  g_assert_cmpuint (match.sender, ==, 2);
  g_assert_cmpuint (match.receiver, ==, 0);
  g_assert_cmpint (match.recv_ts - match.send_ts, ==, 7);
}

/* Loopback traffic in one trace is no message between machines */
static void
test_same_trace (void)
{
  g_autoptr(StrataSyncMatcher) m = strata_sync_matcher_new (2);
  StrataSyncRecord r;
  StrataSyncMatch match;

  r = record_of (STRATA_EVENT_INET_SOCK_LOCAL_OUT, T0, 5, 6, 0x10);
  g_assert_false (strata_sync_matcher_add (m, 0, &r, &match));
  r = record_of (STRATA_EVENT_INET_SOCK_LOCAL_IN, T0 + 1, 5, 6, 0x10);
  g_assert_false (strata_sync_matcher_add (m, 0, &r, &match));
  g_assert_cmpuint (strata_sync_matcher_get_n_unmatched (m, 0), ==, 2);

  /* Another trace receiving it matches the send that waits */
  r = record_of (STRATA_EVENT_INET_SOCK_LOCAL_IN, T0 + 9, 5, 6, 0x10);
  g_assert_true (strata_sync_matcher_add (m, 1, &r, &match));
  g_assert_cmpuint (match.sender, ==, 0);
  g_assert_cmpint (match.send_ts, ==, T0);
}

/* The same half twice in one trace: the first is kept, the other counted */
static void
test_duplicate_cnt (void)
{
  g_autoptr(StrataSyncMatcher) m = strata_sync_matcher_new (2);
  StrataSyncRecord r;
  StrataSyncMatch match;

  r = vmsync (STRATA_EVENT_VMSYNC_GH_GUEST, T0 + 100, 7, 9);
  g_assert_false (strata_sync_matcher_add (m, 1, &r, &match));
  r = vmsync (STRATA_EVENT_VMSYNC_GH_GUEST, T0 + 200, 7, 9);
  g_assert_false (strata_sync_matcher_add (m, 1, &r, &match));
  g_assert_cmpuint (strata_sync_matcher_get_n_duplicates (m, 1), ==, 1);
  g_assert_cmpuint (strata_sync_matcher_get_n_unmatched (m, 1), ==, 1);

  r = vmsync (STRATA_EVENT_VMSYNC_GH_HOST, T0 + 300, 7, 9);
  g_assert_true (strata_sync_matcher_add (m, 0, &r, &match));
  g_assert_cmpint (match.send_ts, ==, T0 + 100);

  /* The host's own duplicate finds nothing and waits */
  r = vmsync (STRATA_EVENT_VMSYNC_GH_HOST, T0 + 400, 7, 9);
  g_assert_false (strata_sync_matcher_add (m, 0, &r, &match));
  g_assert_cmpuint (strata_sync_matcher_get_n_unmatched (m, 0), ==, 1);
  g_assert_cmpuint (strata_sync_matcher_get_n_unmatched (m, 1), ==, 0);
  g_assert_cmpuint (strata_sync_matcher_get_n_matches (m), ==, 1);
}

/* Two guests with one vm_uid: both are known, and a host half goes to
 * the lowest trace index whatever the order the halves came in. */
static void
test_same_vm_uid (void)
{
  for (int order = 0; order < 2; order++)
    {
      g_autoptr(StrataSyncMatcher) m = strata_sync_matcher_new (3);
      StrataSyncRecord r;
      StrataSyncMatch match;
      const guint *guests;
      guint n_guests;

      r = vmsync (STRATA_EVENT_VMSYNC_GH_GUEST, T0 + 1, 3, 1234);
      g_assert_false (strata_sync_matcher_add (m, order ? 1 : 2, &r, &match));
      r = vmsync (STRATA_EVENT_VMSYNC_GH_GUEST, T0 + 2, 3, 1234);
      g_assert_false (strata_sync_matcher_add (m, order ? 2 : 1, &r, &match));
      g_assert_cmpuint (strata_sync_matcher_get_n_duplicates (m, 1), ==, 0);
      g_assert_cmpuint (strata_sync_matcher_get_n_duplicates (m, 2), ==, 0);

      guests = strata_sync_matcher_get_guests (m, 1234, &n_guests);
      g_assert_cmpuint (n_guests, ==, 2);
      g_assert_cmpuint (guests[0], ==, 1);
      g_assert_cmpuint (guests[1], ==, 2);
      g_assert_null (strata_sync_matcher_get_guests (m, 4321, &n_guests));
      g_assert_cmpuint (n_guests, ==, 0);

      r = vmsync (STRATA_EVENT_VMSYNC_GH_HOST, T0 + 50, 3, 1234);
      g_assert_true (strata_sync_matcher_add (m, 0, &r, &match));
      g_assert_cmpuint (match.sender, ==, 1);
      r = vmsync (STRATA_EVENT_VMSYNC_GH_HOST, T0 + 60, 3, 1234);
      g_assert_true (strata_sync_matcher_add (m, 0, &r, &match));
      g_assert_cmpuint (match.sender, ==, 2);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/strata/sync/match/records", test_records);
  g_test_add_func ("/strata/sync/match/vmsync", test_vmsync);
  g_test_add_func ("/strata/sync/match/tcp", test_tcp);
  g_test_add_func ("/strata/sync/match/same-trace", test_same_trace);
  g_test_add_func ("/strata/sync/match/duplicate-cnt", test_duplicate_cnt);
  g_test_add_func ("/strata/sync/match/same-vm-uid", test_same_vm_uid);

  return g_test_run ();
}
