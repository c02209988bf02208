/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-layout"

#include "config.h"

#include <string.h>

#include "strata-event-layout-private.h"

#define REQ(i)   (1u << (i))
#define REQ_H(j) (1u << (8 + (j)))

/* The values of each kind, in record order, by payload member name
 * ("a|b": the member is named a, or b in some tracer versions). A name in
 * `required` missing from the payload makes the class unusable (counted,
 * skipped, reported); other missing members read as STRATA_VALUE_ABSENT. */
typedef struct
{
  const char *v[STRATA_EVENT_N_VALUES];
  const char *h[STRATA_EVENT_N_REFS];
  guint8      h_type[STRATA_EVENT_N_REFS];
  guint       required;
} KindSpec;

static const KindSpec kind_specs[STRATA_N_EVENT_KINDS] = {
  [STRATA_EVENT_SCHED_SWITCH] = {
    { "prev_tid", "prev_prio", "prev_state", "next_tid", "next_prio" },
    { "prev_comm", "next_comm" }, { STRATA_GET_STRING, STRATA_GET_STRING },
    REQ (0) | REQ (2) | REQ (3) },
  [STRATA_EVENT_SCHED_WAKEUP] = {
    { "tid", "prio", "target_cpu" }, { "comm" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_SCHED_WAKEUP_NEW] = {
    { "tid", "prio", "target_cpu" }, { "comm" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_SCHED_WAKING] = {
    { "tid", "prio", "target_cpu" }, { "comm" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_SCHED_PROCESS_FORK] = {
    { "parent_tid", "parent_pid", "child_tid", "child_pid", "parent_ns_inum", "child_ns_inum" },
    { "child_comm", "vtids" }, { STRATA_GET_STRING, STRATA_GET_INT_ARRAY },
    REQ (0) | REQ (2) },
  [STRATA_EVENT_SCHED_PROCESS_EXIT] = {
    { "tid", "prio" }, { "comm" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_SCHED_PROCESS_FREE] = {
    { "tid", "prio" }, { "comm" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_SCHED_PROCESS_EXEC] = {
    /* lttng-modules 2.1 named them pid and old_pid */
    { "tid|pid", "old_tid|old_pid" }, { "filename" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_SCHED_MIGRATE_TASK] = {
    { "tid", "prio", "orig_cpu", "dest_cpu" }, { "comm" }, { STRATA_GET_STRING },
    REQ (0) | REQ (3) },
  [STRATA_EVENT_STATEDUMP_START] = { { NULL } },
  [STRATA_EVENT_STATEDUMP_END] = { { NULL } },
  [STRATA_EVENT_STATEDUMP_PROCESS_STATE] = {
    { "tid", "pid", "ppid", "type", "mode", "submode", "status", "cpu" },
    { "name" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_STATEDUMP_PROCESS_PID_NS] = {
    { "tid", "vtid", "vpid", "vppid", "ns_level", "ns_inum" }, { NULL }, { 0 },
    REQ (0) | REQ (1) },
  [STRATA_EVENT_IRQ_HANDLER_ENTRY] = {
    { "irq" }, { "name" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_IRQ_HANDLER_EXIT] = {
    { "irq", "ret" }, { NULL }, { 0 }, REQ (0) },
  [STRATA_EVENT_SOFTIRQ_ENTRY] = {
    { "vec" }, { "name" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_SOFTIRQ_EXIT] = {
    { "vec" }, { "name" }, { STRATA_GET_STRING }, REQ (0) },
  [STRATA_EVENT_SOFTIRQ_RAISE] = {
    { "vec" }, { "name" }, { STRATA_GET_STRING }, REQ (0) },
  /* v[0] (compat) is filled from the event name, see layout_new() */
  [STRATA_EVENT_SYSCALL_ENTRY] = { { NULL, "id" } },
  [STRATA_EVENT_SYSCALL_EXIT] = { { "ret", NULL } },
  [STRATA_EVENT_KVM_ENTRY] = { { "vcpu_id" }, { NULL }, { 0 }, REQ (0) },
  [STRATA_EVENT_KVM_EXIT] = {
    { "exit_reason", "isa", "info1", "info2", "guest_rip", "vcpu_id", "intr_info", "error_code" },
    { NULL }, { 0 }, REQ (0) },
  [STRATA_EVENT_KVM_HYPERCALL] = {
    { "nr", "a0", "a1", "a2", "a3" }, { NULL }, { 0 }, REQ (0) },
  [STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT] = {
    { "exit_code", "exit_info1", "exit_info2", "exit_int_info", "exit_int_info_err", "isa" },
    { NULL }, { 0 }, REQ (0) },
  [STRATA_EVENT_KVM_MMU_GET_PAGE] = {
    { "gfn", "role", "root_count", "unsync", "created" }, { NULL }, { 0 }, 0 },
  [STRATA_EVENT_KVM_WRITE_TSC_OFFSET] = {
    { "vcpu_id", "previous_tsc_offset", "next_tsc_offset" }, { NULL }, { 0 }, REQ (0) },
  [STRATA_EVENT_KVM_USERSPACE_EXIT] = { { "reason", "errno" }, { NULL }, { 0 }, 0 },
  [STRATA_EVENT_VMSYNC_GH_GUEST] = { { "cnt", "vm_uid" }, { NULL }, { 0 }, REQ (0) | REQ (1) },
  [STRATA_EVENT_VMSYNC_GH_HOST] = { { "cnt", "vm_uid" }, { NULL }, { 0 }, REQ (0) | REQ (1) },
  [STRATA_EVENT_VMSYNC_HG_HOST] = { { "cnt", "vm_uid" }, { NULL }, { 0 }, REQ (0) | REQ (1) },
  [STRATA_EVENT_VMSYNC_HG_GUEST] = { { "cnt", "vm_uid" }, { NULL }, { 0 }, REQ (0) | REQ (1) },
  [STRATA_EVENT_INET_SOCK_LOCAL_OUT] = {
    { "seq", "ack_seq", "flags", "check", "window", "sk", "sport", "dport" },
    { NULL }, { 0 }, REQ (0) | REQ (1) | REQ (2) },
  [STRATA_EVENT_INET_SOCK_LOCAL_IN] = {
    { "seq", "ack_seq", "flags", "check", "window", "sk", "sport", "dport" },
    { NULL }, { 0 }, REQ (0) | REQ (1) | REQ (2) },
  [STRATA_EVENT_NET_DEV_XMIT] = {
    { "skbaddr", "len", "rc" }, { "name" }, { STRATA_GET_STRING }, 0 },
  [STRATA_EVENT_NET_IF_RECEIVE_SKB] = {
    { "skbaddr", "len" }, { "name" }, { STRATA_GET_STRING }, 0 },
};

/* Event names, with every name LTTng used for them (EVENTS.md). */
static const struct {
  const char      *name;
  StrataEventKind  kind;
} kind_names[] = {
  { "sched_switch", STRATA_EVENT_SCHED_SWITCH },
  { "sched_wakeup", STRATA_EVENT_SCHED_WAKEUP },
  { "sched_wakeup_new", STRATA_EVENT_SCHED_WAKEUP_NEW },
  { "sched_waking", STRATA_EVENT_SCHED_WAKING },
  { "sched_process_fork", STRATA_EVENT_SCHED_PROCESS_FORK },
  { "sched_process_exit", STRATA_EVENT_SCHED_PROCESS_EXIT },
  { "sched_process_free", STRATA_EVENT_SCHED_PROCESS_FREE },
  { "sched_process_exec", STRATA_EVENT_SCHED_PROCESS_EXEC },
  { "sched_migrate_task", STRATA_EVENT_SCHED_MIGRATE_TASK },
  { "lttng_statedump_start", STRATA_EVENT_STATEDUMP_START },
  { "lttng_statedump_end", STRATA_EVENT_STATEDUMP_END },
  { "lttng_statedump_process_state", STRATA_EVENT_STATEDUMP_PROCESS_STATE },
  { "lttng_statedump_process_pid_ns", STRATA_EVENT_STATEDUMP_PROCESS_PID_NS },
  { "irq_handler_entry", STRATA_EVENT_IRQ_HANDLER_ENTRY },
  { "irq_handler_exit", STRATA_EVENT_IRQ_HANDLER_EXIT },
  { "softirq_entry", STRATA_EVENT_SOFTIRQ_ENTRY },
  { "softirq_exit", STRATA_EVENT_SOFTIRQ_EXIT },
  { "softirq_raise", STRATA_EVENT_SOFTIRQ_RAISE },
  { "irq_softirq_entry", STRATA_EVENT_SOFTIRQ_ENTRY },
  { "irq_softirq_exit", STRATA_EVENT_SOFTIRQ_EXIT },
  { "irq_softirq_raise", STRATA_EVENT_SOFTIRQ_RAISE },
  { "exit_syscall", STRATA_EVENT_SYSCALL_EXIT },
  { "kvm_entry", STRATA_EVENT_KVM_ENTRY },
  { "kvm_x86_entry", STRATA_EVENT_KVM_ENTRY },
  { "kvm_exit", STRATA_EVENT_KVM_EXIT },
  { "kvm_x86_exit", STRATA_EVENT_KVM_EXIT },
  { "kvm_hypercall", STRATA_EVENT_KVM_HYPERCALL },
  { "kvm_x86_hypercall", STRATA_EVENT_KVM_HYPERCALL },
  { "kvm_nested_vmexit_inject", STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT },
  { "kvm_x86_nested_vmexit_inject", STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT },
  { "kvm_mmu_get_page", STRATA_EVENT_KVM_MMU_GET_PAGE },
  { "kvm_write_tsc_offset", STRATA_EVENT_KVM_WRITE_TSC_OFFSET },
  { "kvm_x86_write_tsc_offset", STRATA_EVENT_KVM_WRITE_TSC_OFFSET },
  { "kvm_userspace_exit", STRATA_EVENT_KVM_USERSPACE_EXIT },
  { "vmsync_gh_guest", STRATA_EVENT_VMSYNC_GH_GUEST },
  { "vmsync_gh_host", STRATA_EVENT_VMSYNC_GH_HOST },
  { "vmsync_hg_host", STRATA_EVENT_VMSYNC_HG_HOST },
  { "vmsync_hg_guest", STRATA_EVENT_VMSYNC_HG_GUEST },
  { "inet_sock_local_out", STRATA_EVENT_INET_SOCK_LOCAL_OUT },
  { "inet_sock_local_in", STRATA_EVENT_INET_SOCK_LOCAL_IN },
  { "net_dev_xmit", STRATA_EVENT_NET_DEV_XMIT },
  { "net_if_receive_skb", STRATA_EVENT_NET_IF_RECEIVE_SKB },
};

/* System call events, by prefix. 2.6+: syscall_entry_<name>,
 * syscall_exit_<name>; up to 2.5: sys_<name> and one exit_syscall. */
static const struct {
  const char      *prefix;
  StrataEventKind  kind;
  gboolean         compat;
} syscall_prefixes[] = {
  { "syscall_entry_", STRATA_EVENT_SYSCALL_ENTRY, FALSE },
  { "syscall_exit_", STRATA_EVENT_SYSCALL_EXIT, FALSE },
  { "compat_syscall_entry_", STRATA_EVENT_SYSCALL_ENTRY, TRUE },
  { "compat_syscall_exit_", STRATA_EVENT_SYSCALL_EXIT, TRUE },
  { "compat_sys_", STRATA_EVENT_SYSCALL_ENTRY, TRUE },
  { "sys_", STRATA_EVENT_SYSCALL_ENTRY, FALSE },
};

static StrataEventKind
kind_from_name (const char  *name,
                const char **syscall_name,
                gboolean    *compat)
{
  *syscall_name = NULL;
  *compat = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (strcmp (name, kind_names[i].name) == 0)
      {
        if (kind_names[i].kind == STRATA_EVENT_SYSCALL_EXIT)
          *syscall_name = name + strlen (name);
        return kind_names[i].kind;
      }

  for (guint i = 0; i < G_N_ELEMENTS (syscall_prefixes); i++)
    if (g_str_has_prefix (name, syscall_prefixes[i].prefix))
      {
        *syscall_name = name + strlen (syscall_prefixes[i].prefix);
        *compat = syscall_prefixes[i].compat;
        return syscall_prefixes[i].kind;
      }

  return STRATA_EVENT_UNKNOWN;
}

static const char *
field_class_type_name (bt_field_class_type type)
{
  if (bt_field_class_type_is (type, BT_FIELD_CLASS_TYPE_INTEGER))
    return "an integer";
  if (type == BT_FIELD_CLASS_TYPE_STRING)
    return "a string";
  if (bt_field_class_type_is (type, BT_FIELD_CLASS_TYPE_ARRAY))
    return "an array";
  if (type == BT_FIELD_CLASS_TYPE_STRUCTURE)
    return "a structure";
  if (bt_field_class_type_is (type, BT_FIELD_CLASS_TYPE_VARIANT))
    return "a variant";
  if (bt_field_class_type_is (type, BT_FIELD_CLASS_TYPE_REAL))
    return "a real number";
  return "another type";
}

static const char *
getter_type_name (StrataGetterType type)
{
  switch (type)
    {
    case STRATA_GET_STRING:
      return "a string";
    case STRATA_GET_INT_ARRAY:
      return "an integer array";
    default:
      return "an integer";
    }
}

/* Resolves one member. Returns FALSE when the member is missing or of a
 * type the record cannot hold, with a diagnostic for the latter. */
static gboolean resolve_one_member (const bt_field_class *payload,
                                    const char           *event_name,
                                    const char           *member_name,
                                    StrataGetterType      wanted,
                                    StrataGetter         *getter,
                                    GPtrArray            *diagnostics);

static gboolean
resolve_member (const bt_field_class *payload,
                const char           *event_name,
                const char           *member_names,
                StrataGetterType      wanted,
                StrataGetter         *getter,
                GPtrArray            *diagnostics)
{
  g_auto(GStrv) names = NULL;

  getter->type = STRATA_GET_NONE;
  if (payload == NULL || member_names == NULL)
    return FALSE;
  if (strchr (member_names, '|') == NULL)
    return resolve_one_member (payload, event_name, member_names, wanted, getter, diagnostics);

  names = g_strsplit (member_names, "|", -1);
  for (guint i = 0; names[i] != NULL; i++)
    if (resolve_one_member (payload, event_name, names[i], wanted, getter, diagnostics))
      return TRUE;
  return FALSE;
}

static gboolean
resolve_one_member (const bt_field_class *payload,
                    const char           *event_name,
                    const char           *member_name,
                    StrataGetterType      wanted,
                    StrataGetter         *getter,
                    GPtrArray            *diagnostics)
{
  guint64 n;

  getter->type = STRATA_GET_NONE;

  n = bt_field_class_structure_get_member_count (payload);
  for (guint64 i = 0; i < n; i++)
    {
      const bt_field_class_structure_member *member =
        bt_field_class_structure_borrow_member_by_index_const (payload, i);
      const bt_field_class *fc;
      bt_field_class_type type;
      gboolean ok = FALSE;

      if (strcmp (bt_field_class_structure_member_get_name (member), member_name) != 0)
        continue;

      fc = bt_field_class_structure_member_borrow_field_class_const (member);
      type = bt_field_class_get_type (fc);

      switch (wanted)
        {
        case STRATA_GET_SIGNED:
        case STRATA_GET_UNSIGNED:
          if (bt_field_class_type_is (type, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
            getter->type = STRATA_GET_SIGNED, ok = TRUE;
          else if (bt_field_class_type_is (type, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
            getter->type = STRATA_GET_UNSIGNED, ok = TRUE;
          break;

        case STRATA_GET_STRING:
          if (type == BT_FIELD_CLASS_TYPE_STRING)
            getter->type = STRATA_GET_STRING, ok = TRUE;
          break;

        case STRATA_GET_INT_ARRAY:
          if (bt_field_class_type_is (type, BT_FIELD_CLASS_TYPE_ARRAY))
            {
              const bt_field_class *elem = bt_field_class_array_borrow_element_field_class_const (fc);
              if (bt_field_class_type_is (bt_field_class_get_type (elem), BT_FIELD_CLASS_TYPE_INTEGER))
                getter->type = STRATA_GET_INT_ARRAY, ok = TRUE;
            }
          break;

        case STRATA_GET_NONE:
        case STRATA_GET_CONSTANT:
        default:
          g_assert_not_reached ();
        }

      if (!ok)
        {
          if (diagnostics != NULL)
            g_ptr_array_add (diagnostics,
                             g_strdup_printf ("event \"%s\": field \"%s\" is %s, expected %s: "
                                              "its value is ignored",
                                              event_name, member_name,
                                              field_class_type_name (type),
                                              getter_type_name (wanted)));
          return FALSE;
        }

      getter->index = (guint32) i;
      return TRUE;
    }

  return FALSE;
}

/**
 * _strata_event_layout_new:
 * @event_class: the event class
 * @diagnostics: (element-type utf8) (nullable): where problems with the
 *   class's fields are described
 *
 * Resolves, once, where each value of the records comes from.
 *
 * Returns: (transfer full): the layout; its kind is STRATA_EVENT_UNKNOWN
 *   when Strata does not read this event or cannot (a required field is
 *   missing, which is then described in @diagnostics)
 */
StrataEventLayout *
_strata_event_layout_new (const bt_event_class *event_class,
                          GPtrArray            *diagnostics)
{
  StrataEventLayout *layout = g_new0 (StrataEventLayout, 1);
  const char *name = bt_event_class_get_name (event_class);
  const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const (event_class);
  const char *syscall_name;
  const KindSpec *spec;
  gboolean compat;
  StrataEventKind kind;
  GString *missing = NULL;

  layout->name = g_strdup (name != NULL ? name : "");
  kind = kind_from_name (layout->name, &syscall_name, &compat);
  if (kind == STRATA_EVENT_UNKNOWN)
    return layout;

  if (payload != NULL && bt_field_class_get_type (payload) != BT_FIELD_CLASS_TYPE_STRUCTURE)
    payload = NULL;

  spec = &kind_specs[kind];
  layout->kind = kind;
  layout->n_v = STRATA_EVENT_N_VALUES;
  layout->n_h = STRATA_EVENT_N_REFS;

  for (guint i = 0; i < STRATA_EVENT_N_VALUES; i++)
    {
      if (!resolve_member (payload, layout->name, spec->v[i], STRATA_GET_SIGNED,
                           &layout->v[i], diagnostics)
          && (spec->required & REQ (i)))
        {
          if (missing == NULL)
            missing = g_string_new (NULL);
          g_string_append_printf (missing, "%s\"%s\"", missing->len ? ", " : "", spec->v[i]);
        }
    }

  for (guint j = 0; j < STRATA_EVENT_N_REFS; j++)
    {
      if (spec->h[j] == NULL)
        continue;
      if (!resolve_member (payload, layout->name, spec->h[j], spec->h_type[j],
                           &layout->h[j], diagnostics)
          && (spec->required & REQ_H (j)))
        {
          if (missing == NULL)
            missing = g_string_new (NULL);
          g_string_append_printf (missing, "%s\"%s\"", missing->len ? ", " : "", spec->h[j]);
        }
    }

  if (missing != NULL)
    {
      if (diagnostics != NULL)
        g_ptr_array_add (diagnostics,
                         g_strdup_printf ("event \"%s\" has no usable field %s: its events are counted "
                                          "but not interpreted",
                                          layout->name, missing->str));
      g_string_free (missing, TRUE);
      layout->kind = STRATA_EVENT_UNKNOWN;
      return layout;
    }

  if (syscall_name != NULL)
    {
      StrataGetter *compat_getter = &layout->v[kind == STRATA_EVENT_SYSCALL_ENTRY ? 0 : 1];

      layout->flags |= STRATA_LAYOUT_SYSCALL_NAME;
      layout->syscall_name = syscall_name;
      compat_getter->type = STRATA_GET_CONSTANT;
      compat_getter->constant = compat;
    }

  /* Before 2.12, process_state carries the namespace fields itself. */
  if (kind == STRATA_EVENT_STATEDUMP_PROCESS_STATE)
    {
      const KindSpec *ns_spec = &kind_specs[STRATA_EVENT_STATEDUMP_PROCESS_PID_NS];

      if (resolve_member (payload, layout->name, "vtid", STRATA_GET_SIGNED, &layout->ns_v[1], NULL))
        {
          layout->flags |= STRATA_LAYOUT_SPLIT_PID_NS;
          for (guint i = 0; i < STRATA_EVENT_N_VALUES; i++)
            resolve_member (payload, layout->name, ns_spec->v[i], STRATA_GET_SIGNED,
                            &layout->ns_v[i], diagnostics);
          resolve_member (payload, layout->name, "ns_level", STRATA_GET_SIGNED,
                          &layout->ns_level, NULL);
        }
    }

  return layout;
}

void
_strata_event_layout_free (StrataEventLayout *layout)
{
  if (layout == NULL)
    return;

  g_free (layout->name);
  g_free (layout);
}

static gboolean
class_has_member (const bt_event_class *event_class,
                  const char           *member)
{
  const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const (event_class);

  if (payload == NULL || bt_field_class_get_type (payload) != BT_FIELD_CLASS_TYPE_STRUCTURE)
    return FALSE;
  return bt_field_class_structure_borrow_member_by_name_const (payload, member) != NULL;
}

/**
 * _strata_event_layout_describe:
 * @out: (element-type utf8 utf8): family → description of the variant
 *
 * Describes which variant of each event family the trace declares, from
 * its event classes (the metadata), e.g. for a 2.8 trace
 * `syscalls` → "syscall_entry_*, syscall_exit_* (2.6+)".
 */
void
_strata_event_layout_describe (const bt_stream_class *stream_class,
                               GHashTable            *out)
{
  guint64 n = bt_stream_class_get_event_class_count (stream_class);
  const bt_event_class *statedump = NULL;
  const bt_event_class *fork = NULL;
  gboolean syscall_new = FALSE, syscall_old = FALSE;
  gboolean kvm_new = FALSE, kvm_old = FALSE;
  gboolean softirq_new = FALSE, softirq_old = FALSE, softirq_name = FALSE;
  gboolean pid_ns = FALSE, vmsync = FALSE, inet = FALSE;

  for (guint64 i = 0; i < n; i++)
    {
      const bt_event_class *ec = bt_stream_class_borrow_event_class_by_index_const (stream_class, i);
      const char *name = bt_event_class_get_name (ec);

      if (name == NULL)
        continue;

      if (g_str_has_prefix (name, "syscall_entry_") || g_str_has_prefix (name, "compat_syscall_entry_"))
        syscall_new = TRUE;
      else if (g_str_has_prefix (name, "sys_") || strcmp (name, "exit_syscall") == 0)
        syscall_old = TRUE;
      else if (strcmp (name, "kvm_x86_entry") == 0 || strcmp (name, "kvm_x86_exit") == 0)
        kvm_new = TRUE;
      else if (strcmp (name, "kvm_entry") == 0 || strcmp (name, "kvm_exit") == 0)
        kvm_old = TRUE;
      else if (strcmp (name, "irq_softirq_entry") == 0)
        {
          softirq_new = TRUE;
          softirq_name = class_has_member (ec, "name");
        }
      else if (strcmp (name, "softirq_entry") == 0)
        softirq_old = TRUE;
      else if (strcmp (name, "lttng_statedump_process_state") == 0)
        statedump = ec;
      else if (strcmp (name, "lttng_statedump_process_pid_ns") == 0)
        pid_ns = TRUE;
      else if (strcmp (name, "sched_process_fork") == 0)
        fork = ec;
      else if (g_str_has_prefix (name, "vmsync_"))
        vmsync = TRUE;
      else if (g_str_has_prefix (name, "inet_sock_local_"))
        inet = TRUE;
    }

#define SET(family, description) \
  g_hash_table_replace (out, g_strdup (family), g_strdup (description))

  if (syscall_new)
    SET ("syscalls", "syscall_entry_*, syscall_exit_* (2.6+)");
  else if (syscall_old)
    SET ("syscalls", "sys_*, exit_syscall (up to 2.5)");

  if (kvm_new && kvm_old)
    SET ("kvm", "kvm_x86_* and kvm_* (mixed)");
  else if (kvm_new)
    SET ("kvm", "kvm_x86_* (2.7.2+)");
  else if (kvm_old)
    SET ("kvm", "kvm_* (before 2.7.2)");

  if (softirq_new)
    SET ("softirq", softirq_name ? "irq_softirq_* with name (2.15+)" : "irq_softirq_* (2.7+)");
  else if (softirq_old)
    SET ("softirq", "softirq_* (up to 2.6)");

  if (pid_ns)
    SET ("statedump", "process_state + process_pid_ns (2.12+)");
  else if (statedump != NULL && class_has_member (statedump, "cpu"))
    SET ("statedump", "process_state per namespace level, with ns_inum and cpu (2.10-2.11)");
  else if (statedump != NULL && class_has_member (statedump, "ns_inum"))
    SET ("statedump", "process_state per namespace level, with ns_inum (2.7-2.9)");
  else if (statedump != NULL)
    SET ("statedump", "process_state per namespace level, without ns_inum (up to 2.6)");

  if (fork != NULL && class_has_member (fork, "vtids"))
    SET ("fork", "with vtids and ns_inum (2.7+)");
  else if (fork != NULL && class_has_member (fork, "child_pid"))
    SET ("fork", "with pids, without namespaces (2.3-2.6)");
  else if (fork != NULL)
    SET ("fork", "tids only (before 2.3)");

  if (vmsync)
    SET ("vmsync", "vmsync_* hypercall events");
  if (inet)
    SET ("network", "inet_sock_local_in/out (TCP add-on)");

#undef SET
}
