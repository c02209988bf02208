/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-event"

#include "config.h"

#include <string.h>

#include "strata-event.h"

static const char * const kind_names[STRATA_N_EVENT_KINDS] = {
  [STRATA_EVENT_UNKNOWN] = "unknown",
  [STRATA_EVENT_SCHED_SWITCH] = "sched_switch",
  [STRATA_EVENT_SCHED_WAKEUP] = "sched_wakeup",
  [STRATA_EVENT_SCHED_WAKEUP_NEW] = "sched_wakeup_new",
  [STRATA_EVENT_SCHED_WAKING] = "sched_waking",
  [STRATA_EVENT_SCHED_PROCESS_FORK] = "sched_process_fork",
  [STRATA_EVENT_SCHED_PROCESS_EXIT] = "sched_process_exit",
  [STRATA_EVENT_SCHED_PROCESS_FREE] = "sched_process_free",
  [STRATA_EVENT_SCHED_PROCESS_EXEC] = "sched_process_exec",
  [STRATA_EVENT_SCHED_MIGRATE_TASK] = "sched_migrate_task",
  [STRATA_EVENT_STATEDUMP_START] = "statedump_start",
  [STRATA_EVENT_STATEDUMP_END] = "statedump_end",
  [STRATA_EVENT_STATEDUMP_PROCESS_STATE] = "statedump_process_state",
  [STRATA_EVENT_STATEDUMP_PROCESS_PID_NS] = "statedump_process_pid_ns",
  [STRATA_EVENT_IRQ_HANDLER_ENTRY] = "irq_handler_entry",
  [STRATA_EVENT_IRQ_HANDLER_EXIT] = "irq_handler_exit",
  [STRATA_EVENT_SOFTIRQ_ENTRY] = "softirq_entry",
  [STRATA_EVENT_SOFTIRQ_EXIT] = "softirq_exit",
  [STRATA_EVENT_SOFTIRQ_RAISE] = "softirq_raise",
  [STRATA_EVENT_SYSCALL_ENTRY] = "syscall_entry",
  [STRATA_EVENT_SYSCALL_EXIT] = "syscall_exit",
  [STRATA_EVENT_KVM_ENTRY] = "kvm_entry",
  [STRATA_EVENT_KVM_EXIT] = "kvm_exit",
  [STRATA_EVENT_KVM_HYPERCALL] = "kvm_hypercall",
  [STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT] = "kvm_nested_vmexit_inject",
  [STRATA_EVENT_KVM_MMU_GET_PAGE] = "kvm_mmu_get_page",
  [STRATA_EVENT_KVM_WRITE_TSC_OFFSET] = "kvm_write_tsc_offset",
  [STRATA_EVENT_KVM_USERSPACE_EXIT] = "kvm_userspace_exit",
  [STRATA_EVENT_VMSYNC_GH_GUEST] = "vmsync_gh_guest",
  [STRATA_EVENT_VMSYNC_GH_HOST] = "vmsync_gh_host",
  [STRATA_EVENT_VMSYNC_HG_HOST] = "vmsync_hg_host",
  [STRATA_EVENT_VMSYNC_HG_GUEST] = "vmsync_hg_guest",
  [STRATA_EVENT_INET_SOCK_LOCAL_OUT] = "inet_sock_local_out",
  [STRATA_EVENT_INET_SOCK_LOCAL_IN] = "inet_sock_local_in",
  [STRATA_EVENT_NET_DEV_XMIT] = "net_dev_xmit",
  [STRATA_EVENT_NET_IF_RECEIVE_SKB] = "net_if_receive_skb",
  [STRATA_EVENT_LOST] = "lost",
};

/**
 * strata_event_kind_to_string:
 *
 * Returns: the kind's canonical name (the modern LTTng event name, without
 *   the `kvm_x86_` prefix or syscall suffixes)
 */
const char *
strata_event_kind_to_string (StrataEventKind kind)
{
  if ((guint) kind >= STRATA_N_EVENT_KINDS || kind_names[kind] == NULL)
    return "invalid";
  return kind_names[kind];
}

/**
 * strata_event_batch_new:
 * @capacity: number of records before the batch is full
 *
 * Returns: (transfer full): a new, empty batch
 */
StrataEventBatch *
strata_event_batch_new (guint capacity)
{
  StrataEventBatch *batch = g_new0 (StrataEventBatch, 1);

  batch->capacity = MAX (capacity, 1);
  batch->events = g_new (StrataEvent, batch->capacity);
  batch->heap_capacity = 64 * (gsize) batch->capacity;
  batch->heap = g_malloc (batch->heap_capacity);
  strata_event_batch_clear (batch);

  return batch;
}

void
strata_event_batch_free (StrataEventBatch *batch)
{
  if (batch == NULL)
    return;

  g_free (batch->events);
  g_free (batch->heap);
  g_free (batch);
}

/**
 * strata_event_batch_clear:
 *
 * Empties @batch, keeping its memory for the next records.
 */
void
strata_event_batch_clear (StrataEventBatch *batch)
{
  g_return_if_fail (batch != NULL);

  batch->n_events = 0;
  /* Offset 0 is the empty string, so that a zero reference reads as "". */
  batch->heap[0] = '\0';
  batch->heap_len = 1;
}

/**
 * strata_event_batch_append:
 *
 * Returns: (transfer none): a new zeroed record at the end of @batch, which
 *   must not be full
 */
StrataEvent *
strata_event_batch_append (StrataEventBatch *batch)
{
  StrataEvent *event;

  g_return_val_if_fail (batch != NULL, NULL);
  g_return_val_if_fail (batch->n_events < batch->capacity, NULL);

  event = &batch->events[batch->n_events++];
  memset (event, 0, sizeof *event);
  return event;
}

static guint32
heap_reserve (StrataEventBatch *batch,
              gsize             size,
              gsize             align)
{
  gsize offset = (batch->heap_len + align - 1) & ~(align - 1);

  /* References are 32-bit: a batch heap stays far below 4 GiB because
   * strings come from bounded trace fields. */
  g_assert (offset + size < G_MAXUINT32);

  if (offset + size > batch->heap_capacity)
    {
      while (offset + size > batch->heap_capacity)
        batch->heap_capacity *= 2;
      batch->heap = g_realloc (batch->heap, batch->heap_capacity);
    }

  batch->heap_len = offset + size;
  return (guint32) offset;
}

/**
 * strata_event_batch_add_string:
 *
 * Copies @str into the batch's heap.
 *
 * Returns: a reference for strata_event_batch_get_string(); 0 (the empty
 *   string) for %NULL or ""
 */
guint32
strata_event_batch_add_string (StrataEventBatch *batch,
                               const char       *str)
{
  gsize len;
  guint32 ref;

  g_return_val_if_fail (batch != NULL, 0);

  if (str == NULL || str[0] == '\0')
    return 0;

  len = strlen (str) + 1;
  ref = heap_reserve (batch, len, 1);
  memcpy (batch->heap + ref, str, len);
  return ref;
}

/**
 * strata_event_batch_add_int_array:
 *
 * Copies @len integers into the batch's heap.
 *
 * Returns: a reference for strata_event_batch_get_int_array()
 */
guint32
strata_event_batch_add_int_array (StrataEventBatch *batch,
                                  const gint32     *values,
                                  guint             len)
{
  guint32 ref;

  g_return_val_if_fail (batch != NULL, 0);
  g_return_val_if_fail (values != NULL || len == 0, 0);

  ref = heap_reserve (batch, sizeof (guint32) * (1 + (gsize) len), sizeof (guint32));
  memcpy (batch->heap + ref, &len, sizeof len);
  if (len > 0)
    memcpy (batch->heap + ref + sizeof (guint32), values, sizeof (gint32) * len);
  return ref;
}

/**
 * strata_event_batch_get_string:
 *
 * Returns: (transfer none): the string behind @ref, "" for 0
 */
const char *
strata_event_batch_get_string (const StrataEventBatch *batch,
                               guint32                 ref)
{
  g_return_val_if_fail (batch != NULL, "");
  g_return_val_if_fail (ref < batch->heap_len, "");

  return (const char *) batch->heap + ref;
}

/**
 * strata_event_batch_get_int_array:
 * @len: (out): number of integers
 *
 * Returns: (transfer none) (array length=len) (nullable): the integers
 *   behind @ref, %NULL (and 0) for the reference 0
 */
const gint32 *
strata_event_batch_get_int_array (const StrataEventBatch *batch,
                                  guint32                 ref,
                                  guint                  *len)
{
  guint32 n;

  g_return_val_if_fail (batch != NULL, NULL);
  g_return_val_if_fail (len != NULL, NULL);

  *len = 0;
  if (ref == 0)
    return NULL;

  g_return_val_if_fail (ref % sizeof (guint32) == 0, NULL);
  g_return_val_if_fail (ref + sizeof (guint32) <= batch->heap_len, NULL);

  memcpy (&n, batch->heap + ref, sizeof n);
  g_return_val_if_fail (ref + sizeof (guint32) * (1 + (gsize) n) <= batch->heap_len, NULL);

  *len = n;
  return (const gint32 *) (gconstpointer) (batch->heap + ref + sizeof (guint32));
}
