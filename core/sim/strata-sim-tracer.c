/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sim-tracer"

#include "config.h"

#include <string.h>

#include "strata-sim-tracer.h"
#include "strata-trace-writer.h"

/*
 * What each layout writes
 *
 * The event classes of the kernel tracer the simulator imitates, with the
 * names, fields, field order and types lttng-modules gives them on x86-64
 * (EVENTS.md; checked against the metadata of the shared real traces and
 * the lttng-modules sources). `long` is 64-bit there, so `prev_state` is
 * s64 in every layout: the shared 2.5 traces have it as s32 only because
 * they come from 32-bit machines (their pointers are 32-bit too).
 *
 * Each layout also stands for the kernels that lttng-modules version
 * traced, since some fields depend on the kernel, not on the tracer:
 *
 *  - 2.6, Linux 3.x: `sched_wakeup` still has `success` (before 4.3) and
 *    there is no `sched_waking`; `kvm_mmu_get_page` has `mmu_valid_gen`
 *    (3.11 to 5.0); the events are still declared with TP_STRUCT__entry,
 *    whose `net_dev_xmit` puts `len` before `rc` (as the 2.5 traces do).
 *  - 2.10, Linux 4.x: `mmu_valid_gen` too; `kvm_x86_exit` without the
 *    fields of 5.10.
 *  - 2.13, Linux >= 5.10: `kvm_x86_exit` with `intr_info`, `error_code`,
 *    `vcpu_id`; no `mmu_valid_gen`.
 *
 * What is simplified: `net_if_receive_skb` (2.10+) and the exits of `poll`
 * and `epoll_wait` (2.10+) carry structures and variants in real traces
 * that the writer cannot express; they are written as 2.6-2.8 wrote them.
 * The 2.12+ statedump's other namespace events (`…_mnt_ns`, `…_net_ns`, …)
 * are not written.
 */

/* Kernel char[16] text fields: 15 bytes and a NUL */
#define TASK_COMM_LEN 16

/* Plausible user-space addresses for the pointer arguments of system
 * calls the engine leaves to their defaults */
#define USER_BUF   G_GINT64_CONSTANT (0x7f3a5c000000)
#define USER_STACK G_GINT64_CONSTANT (0x7ffd3b2a1000)
#define USER_HEAP  G_GINT64_CONSTANT (0x55d4e2a3c000)
#define USER_FUTEX G_GINT64_CONSTANT (0x7f3a5d2b4910)

/* Kernel addresses of `struct files_struct`, for 2.12+ statedumps */
#define FILES_STRUCT_BASE G_GUINT64_CONSTANT (0xffff888100000000)

typedef enum
{
  CLASS_SCHED_SWITCH,
  CLASS_SCHED_WAKEUP,
  CLASS_SCHED_WAKEUP_NEW,
  CLASS_SCHED_WAKING,
  CLASS_SCHED_PROCESS_FORK,
  CLASS_SCHED_PROCESS_EXIT,
  CLASS_SCHED_PROCESS_FREE,
  CLASS_SCHED_PROCESS_EXEC,
  CLASS_SCHED_MIGRATE_TASK,
  CLASS_STATEDUMP_START,
  CLASS_STATEDUMP_END,
  CLASS_STATEDUMP_PROCESS_STATE,
  CLASS_STATEDUMP_PROCESS_PID_NS,
  CLASS_IRQ_HANDLER_ENTRY,
  CLASS_IRQ_HANDLER_EXIT,
  CLASS_SOFTIRQ_RAISE,
  CLASS_SOFTIRQ_ENTRY,
  CLASS_SOFTIRQ_EXIT,
  CLASS_KVM_ENTRY,
  CLASS_KVM_EXIT,
  CLASS_KVM_HYPERCALL,
  CLASS_KVM_NESTED_VMEXIT_INJECT,
  CLASS_KVM_MMU_GET_PAGE,
  CLASS_KVM_USERSPACE_EXIT,
  CLASS_VMSYNC_GH_GUEST,
  CLASS_VMSYNC_GH_HOST,
  CLASS_VMSYNC_HG_HOST,
  CLASS_VMSYNC_HG_GUEST,
  CLASS_NET_DEV_XMIT,
  CLASS_NET_IF_RECEIVE_SKB,
  N_CLASSES,
} ClassId;

typedef struct
{
  const char *name;     /* NULL: the layout has no such event */
  const char *fields;   /* StrataTraceWriter field specs */
} ClassSpec;

#define SCHED_SWITCH_FIELDS \
  "prev_comm:string prev_tid:s32 prev_prio:s32 prev_state:s64 " \
  "next_comm:string next_tid:s32 next_prio:s32"
#define SCHED_WAKEUP_FIELDS_OLD "comm:string tid:s32 prio:s32 success:s32 target_cpu:s32"
#define SCHED_WAKEUP_FIELDS     "comm:string tid:s32 prio:s32 target_cpu:s32"
#define FORK_FIELDS_OLD \
  "parent_comm:string parent_tid:s32 parent_pid:s32 " \
  "child_comm:string child_tid:s32 child_pid:s32"
#define FORK_FIELDS \
  "parent_comm:string parent_tid:s32 parent_pid:s32 parent_ns_inum:u32 " \
  "child_comm:string child_tid:s32 vtids:s32[] child_pid:s32 child_ns_inum:u32"
#define TASK_FIELDS "comm:string tid:s32 prio:s32"
#define EXEC_FIELDS "filename:string tid:s32 old_tid:s32"
#define MIGRATE_FIELDS "comm:string tid:s32 prio:s32 orig_cpu:s32 dest_cpu:s32"
#define PROCESS_STATE_FIELDS_2_6 \
  "tid:s32 vtid:s32 pid:s32 vpid:s32 ppid:s32 vppid:s32 name:string " \
  "type:s32 mode:s32 submode:s32 status:s32 ns_level:s32"
#define PROCESS_STATE_FIELDS_2_10 PROCESS_STATE_FIELDS_2_6 " ns_inum:u32 cpu:u32"
#define PROCESS_STATE_FIELDS_2_13 \
  "tid:s32 pid:s32 ppid:s32 name:string type:s32 mode:s32 submode:s32 " \
  "status:s32 cpu:u32 file_table_address:x64"
#define PROCESS_PID_NS_FIELDS "tid:s32 vtid:s32 vpid:s32 vppid:s32 ns_level:s32 ns_inum:u32"
#define KVM_EXIT_FIELDS "exit_reason:u32 guest_rip:u64 isa:u32 info1:u64 info2:u64"
#define KVM_EXIT_FIELDS_5_10 KVM_EXIT_FIELDS " intr_info:u32 error_code:u32 vcpu_id:u32"
#define HYPERCALL_FIELDS "nr:u64 a0:u64 a1:u64 a2:u64 a3:u64"
#define INJECT_FIELDS \
  "exit_code:u32 exit_info1:u64 exit_info2:u64 exit_int_info:u32 " \
  "exit_int_info_err:u32 isa:u32"
#define MMU_PAGE_FIELDS "gfn:u64 role:u32 root_count:u32 unsync:u8 created:u8"
#define VMSYNC_FIELDS "cnt:u32 vm_uid:x64"

/* By layout: 2.6, 2.10, 2.13 */
#define SAME(name, fields) { { name, fields }, { name, fields }, { name, fields } }

static const ClassSpec class_specs[N_CLASSES][STRATA_SIM_N_LAYOUTS] = {
  [CLASS_SCHED_SWITCH] = SAME ("sched_switch", SCHED_SWITCH_FIELDS),
  [CLASS_SCHED_WAKEUP] = {
    { "sched_wakeup", SCHED_WAKEUP_FIELDS_OLD },
    { "sched_wakeup", SCHED_WAKEUP_FIELDS },
    { "sched_wakeup", SCHED_WAKEUP_FIELDS } },
  [CLASS_SCHED_WAKEUP_NEW] = {
    { "sched_wakeup_new", SCHED_WAKEUP_FIELDS_OLD },
    { "sched_wakeup_new", SCHED_WAKEUP_FIELDS },
    { "sched_wakeup_new", SCHED_WAKEUP_FIELDS } },
  [CLASS_SCHED_WAKING] = {
    { NULL, NULL },
    { "sched_waking", SCHED_WAKEUP_FIELDS },
    { "sched_waking", SCHED_WAKEUP_FIELDS } },
  [CLASS_SCHED_PROCESS_FORK] = {
    { "sched_process_fork", FORK_FIELDS_OLD },
    { "sched_process_fork", FORK_FIELDS },
    { "sched_process_fork", FORK_FIELDS } },
  [CLASS_SCHED_PROCESS_EXIT] = SAME ("sched_process_exit", TASK_FIELDS),
  [CLASS_SCHED_PROCESS_FREE] = SAME ("sched_process_free", TASK_FIELDS),
  [CLASS_SCHED_PROCESS_EXEC] = SAME ("sched_process_exec", EXEC_FIELDS),
  [CLASS_SCHED_MIGRATE_TASK] = SAME ("sched_migrate_task", MIGRATE_FIELDS),
  [CLASS_STATEDUMP_START] = SAME ("lttng_statedump_start", ""),
  [CLASS_STATEDUMP_END] = SAME ("lttng_statedump_end", ""),
  [CLASS_STATEDUMP_PROCESS_STATE] = {
    { "lttng_statedump_process_state", PROCESS_STATE_FIELDS_2_6 },
    { "lttng_statedump_process_state", PROCESS_STATE_FIELDS_2_10 },
    { "lttng_statedump_process_state", PROCESS_STATE_FIELDS_2_13 } },
  [CLASS_STATEDUMP_PROCESS_PID_NS] = {
    { NULL, NULL },
    { NULL, NULL },
    { "lttng_statedump_process_pid_ns", PROCESS_PID_NS_FIELDS } },
  [CLASS_IRQ_HANDLER_ENTRY] = SAME ("irq_handler_entry", "irq:s32 name:string"),
  [CLASS_IRQ_HANDLER_EXIT] = SAME ("irq_handler_exit", "irq:s32 ret:s32"),
  [CLASS_SOFTIRQ_RAISE] = {
    { "softirq_raise", "vec:u32" },
    { "irq_softirq_raise", "vec:u32" },
    { "irq_softirq_raise", "vec:u32" } },
  [CLASS_SOFTIRQ_ENTRY] = {
    { "softirq_entry", "vec:u32" },
    { "irq_softirq_entry", "vec:u32" },
    { "irq_softirq_entry", "vec:u32" } },
  [CLASS_SOFTIRQ_EXIT] = {
    { "softirq_exit", "vec:u32" },
    { "irq_softirq_exit", "vec:u32" },
    { "irq_softirq_exit", "vec:u32" } },
  [CLASS_KVM_ENTRY] = {
    { "kvm_entry", "vcpu_id:u32" },
    { "kvm_x86_entry", "vcpu_id:u32" },
    { "kvm_x86_entry", "vcpu_id:u32" } },
  [CLASS_KVM_EXIT] = {
    { "kvm_exit", KVM_EXIT_FIELDS },
    { "kvm_x86_exit", KVM_EXIT_FIELDS },
    { "kvm_x86_exit", KVM_EXIT_FIELDS_5_10 } },
  [CLASS_KVM_HYPERCALL] = {
    { "kvm_hypercall", HYPERCALL_FIELDS },
    { "kvm_x86_hypercall", HYPERCALL_FIELDS },
    { "kvm_x86_hypercall", HYPERCALL_FIELDS } },
  [CLASS_KVM_NESTED_VMEXIT_INJECT] = {
    { "kvm_nested_vmexit_inject", INJECT_FIELDS },
    { "kvm_x86_nested_vmexit_inject", INJECT_FIELDS },
    { "kvm_x86_nested_vmexit_inject", INJECT_FIELDS } },
  [CLASS_KVM_MMU_GET_PAGE] = {
    { "kvm_mmu_get_page", "mmu_valid_gen:u64 " MMU_PAGE_FIELDS },
    { "kvm_mmu_get_page", "mmu_valid_gen:u64 " MMU_PAGE_FIELDS },
    { "kvm_mmu_get_page", MMU_PAGE_FIELDS } },
  [CLASS_KVM_USERSPACE_EXIT] = SAME ("kvm_userspace_exit", "reason:u32 errno:s32"),
  [CLASS_VMSYNC_GH_GUEST] = SAME ("vmsync_gh_guest", VMSYNC_FIELDS),
  [CLASS_VMSYNC_GH_HOST] = SAME ("vmsync_gh_host", VMSYNC_FIELDS),
  [CLASS_VMSYNC_HG_HOST] = SAME ("vmsync_hg_host", VMSYNC_FIELDS),
  [CLASS_VMSYNC_HG_GUEST] = SAME ("vmsync_hg_guest", VMSYNC_FIELDS),
  [CLASS_NET_DEV_XMIT] = {
    { "net_dev_xmit", "skbaddr:x64 len:u32 rc:s32 name:string" },
    { "net_dev_xmit", "skbaddr:x64 rc:s32 len:u32 name:string" },
    { "net_dev_xmit", "skbaddr:x64 rc:s32 len:u32 name:string" } },
  [CLASS_NET_IF_RECEIVE_SKB] = SAME ("net_if_receive_skb", "skbaddr:x64 len:u32 name:string"),
};

#undef SAME

/*
 * System calls
 *
 * The entry fields are those of the real x86-64 traces (lttng-modules
 * 2.8 to 2.11 agree on them). The engine fills up to three of them through
 * `args` (the fields listed in `args`, in that order); the others take
 * the defaults below, so a call with no args at all is still plausible.
 * The exit has `ret` and the output arguments real traces have, with
 * defaults only.
 */
#define MAX_SYSCALL_FIELDS 6
#define MAX_SYSCALL_ARGS   3
#define MAX_EXIT_FIELDS    4

typedef struct
{
  const char *name;
  const char *entry_fields;
  gint64      entry_defaults[MAX_SYSCALL_FIELDS];
  guint8      n_entry_fields;
  gint8       string_field;                 /* -1: none; it reads `path` */
  const char *default_path;
  guint8      n_args;
  guint8      args[MAX_SYSCALL_ARGS];       /* entry field of each arg */
  const char *exit_fields;                  /* 2.10+ */
  const char *exit_fields_2_6;              /* NULL: as 2.10+ */
  guint8      n_exit_fields;                /* ret included */
  gint64      exit_defaults[MAX_EXIT_FIELDS - 1];
} SyscallSpec;

static const SyscallSpec syscall_specs[] = {
  { "read", "fd:u32 count:u64", { 3, 4096 }, 2, -1, NULL,
    2, { 0, 1 }, "ret:s64 buf:u64", NULL, 2, { USER_BUF } },
  { "write", "fd:u32 buf:u64 count:u64", { 1, USER_BUF, 4096 }, 3, -1, NULL,
    2, { 0, 2 }, "ret:s64", NULL, 1, { 0 } },
  { "openat", "dfd:s32 filename:string flags:s32 mode:u16", { -100 /* AT_FDCWD */, 0, 0x80000, 0 },
    4, 1, "/etc/ld.so.cache",
    3, { 0, 2, 3 }, "ret:s64", NULL, 1, { 0 } },
  { "close", "fd:u32", { 3 }, 1, -1, NULL,
    1, { 0 }, "ret:s64", NULL, 1, { 0 } },
  { "futex", "uaddr:u64 op:s32 val:u32 utime:u64 uaddr2:u64 val3:u32",
    { USER_FUTEX, 128 /* FUTEX_WAIT_PRIVATE */, 0, 0, 0, 0 }, 6, -1, NULL,
    3, { 0, 1, 2 }, "ret:s64 uaddr:u64 uaddr2:u64", NULL, 3, { USER_FUTEX, 0 } },
  { "nanosleep", "rqtp:u64", { USER_STACK }, 1, -1, NULL,
    1, { 0 }, "ret:s64 rmtp:u64", NULL, 2, { 0 } },
  { "clock_nanosleep", "which_clock:s32 flags:s32 rqtp:u64", { 1 /* MONOTONIC */, 0, USER_STACK },
    3, -1, NULL,
    3, { 0, 1, 2 }, "ret:s64 rmtp:u64", NULL, 2, { 0 } },
  { "epoll_wait", "epfd:s32 maxevents:s32 timeout:s32", { 4, 64, -1 }, 3, -1, NULL,
    3, { 0, 1, 2 }, "ret:s64 events:u64", NULL, 2, { USER_BUF } },
  { "poll", "ufds:u64 nfds:u32 timeout_msecs:s32", { USER_STACK, 1, -1 }, 3, -1, NULL,
    2, { 1, 2 }, "ret:s64 ufds:u64", NULL, 2, { USER_STACK } },
  { "ioctl", "fd:u32 cmd:u32 arg:u64", { 3, 0x5401 /* TCGETS */, USER_STACK }, 3, -1, NULL,
    3, { 0, 1, 2 }, "ret:s64 arg:u64", NULL, 2, { USER_STACK } },
  { "sendto", "fd:s32 buff:u64 len:u64 flags:u32 addr:u64 addr_len:s32",
    { 5, USER_BUF, 1448, 0, 0, 0 }, 6, -1, NULL,
    3, { 0, 2, 3 }, "ret:s64", NULL, 1, { 0 } },
  { "recvfrom", "fd:s32 size:u64 flags:u32 addr_len:u64", { 5, 65536, 0, 0 }, 4, -1, NULL,
    3, { 0, 1, 2 }, "ret:s64 ubuf:u64 addr:u64 addr_len:u64", NULL, 4, { USER_BUF, 0, 0 } },
  { "mmap", "addr:x64 len:u64 prot:s32 flags:s32 fd:s32 offset:s64",
    { 0, 4096, 3 /* PROT_READ | PROT_WRITE */, 0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0 },
    6, -1, NULL,
    3, { 1, 2, 3 }, "ret:x64", "ret:s64", 1, { 0 } },
  { "munmap", "addr:u64 len:u64", { USER_HEAP, 4096 }, 2, -1, NULL,
    2, { 0, 1 }, "ret:s64", NULL, 1, { 0 } },
  { "brk", "brk:u64", { 0 }, 1, -1, NULL,
    1, { 0 }, "ret:s64", NULL, 1, { 0 } },
  { "sched_yield", "", { 0 }, 0, -1, NULL,
    0, { 0 }, "ret:s64", NULL, 1, { 0 } },
  { "getpid", "", { 0 }, 0, -1, NULL,
    0, { 0 }, "ret:s64", NULL, 1, { 0 } },
  /* CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
   * CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID:
   * pthread_create() */
  { "clone", "clone_flags:x64 newsp:x64 parent_tid:x64 child_tid:x64",
    { 0x3d0f00, USER_STACK, USER_STACK, USER_STACK }, 4, -1, NULL,
    2, { 0, 1 }, "ret:s64", NULL, 1, { 0 } },
  { "execve", "filename:string argv:x64 envp:x64", { 0, USER_STACK, USER_STACK }, 3, 0, "/usr/bin/true",
    2, { 1, 2 }, "ret:s64", NULL, 1, { 0 } },
  { "exit_group", "error_code:s32", { 0 }, 1, -1, NULL,
    1, { 0 }, "ret:s64", NULL, 1, { 0 } },
};

#define N_SYSCALLS G_N_ELEMENTS (syscall_specs)

struct _StrataSimTracer
{
  StrataTraceWriter *writer;                      /* Owned */
  char              *dir;                         /* Owned */
  StrataSimLayout    layout;
  guint              n_cpus;
  int                class_ids[N_CLASSES];        /* -1: not in this layout */
  int                entry_ids[N_SYSCALLS];
  int                exit_ids[N_SYSCALLS];
  GHashTable        *syscalls;                    /* name (static) → index + 1 */
  guint64            n_events;
  GError            *error;                       /* the first failure; emits stop */
  gboolean           closed;
};

static const char * const layout_names[STRATA_SIM_N_LAYOUTS] = {
  [STRATA_SIM_LAYOUT_2_6] = "2.6",
  [STRATA_SIM_LAYOUT_2_10] = "2.10",
  [STRATA_SIM_LAYOUT_2_13] = "2.13",
};

static const int layout_minors[STRATA_SIM_N_LAYOUTS] = {
  [STRATA_SIM_LAYOUT_2_6] = 6,
  [STRATA_SIM_LAYOUT_2_10] = 10,
  [STRATA_SIM_LAYOUT_2_13] = 13,
};

/* Kernels each lttng-modules version was commonly used with */
static const char * const layout_kernels[STRATA_SIM_N_LAYOUTS] = {
  [STRATA_SIM_LAYOUT_2_6] = "3.13.0-24-generic",
  [STRATA_SIM_LAYOUT_2_10] = "4.15.0-29-generic",
  [STRATA_SIM_LAYOUT_2_13] = "5.15.0-91-generic",
};

/**
 * strata_sim_layout_from_string:
 * @str: "2.6", "2.10" or "2.13"
 * @layout: (out): where the layout goes
 *
 * Returns: %TRUE if @str names a layout
 */
gboolean
strata_sim_layout_from_string (const char      *str,
                               StrataSimLayout *layout)
{
  g_return_val_if_fail (layout != NULL, FALSE);

  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < STRATA_SIM_N_LAYOUTS; i++)
    if (strcmp (str, layout_names[i]) == 0)
      {
        *layout = (StrataSimLayout) i;
        return TRUE;
      }

  return FALSE;
}

/**
 * strata_sim_layout_to_string:
 * @layout: a #StrataSimLayout
 *
 * Returns: (transfer none): the lttng-modules version, e.g. "2.10"
 */
const char *
strata_sim_layout_to_string (StrataSimLayout layout)
{
  g_return_val_if_fail (layout < STRATA_SIM_N_LAYOUTS, NULL);

  return layout_names[layout];
}

/**
 * strata_sim_tracer_list_syscalls:
 *
 * Returns: (transfer none) (array zero-terminated=1): the names of the
 *   system calls strata_sim_tracer_syscall_entry() knows
 */
const char * const *
strata_sim_tracer_list_syscalls (void)
{
  static const char **names = NULL;

  if (g_once_init_enter (&names))
    {
      const char **list = g_new0 (const char *, N_SYSCALLS + 1);

      for (guint i = 0; i < N_SYSCALLS; i++)
        list[i] = syscall_specs[i].name;
      g_once_init_leave (&names, list);
    }

  return names;
}

/**
 * strata_sim_tracer_knows_syscall:
 * @name: a system call name, e.g. "read"
 *
 * Returns: %TRUE if the tracer can write events for @name
 */
gboolean
strata_sim_tracer_knows_syscall (const char *name)
{
  g_return_val_if_fail (name != NULL, FALSE);

  for (guint i = 0; i < N_SYSCALLS; i++)
    if (strcmp (name, syscall_specs[i].name) == 0)
      return TRUE;

  return FALSE;
}

static gboolean
add_class (StrataSimTracer  *self,
           const char       *name,
           const char       *fields,
           int              *id,
           GError          **error)
{
  *id = strata_trace_writer_add_event_class (self->writer, name, fields, error);
  return *id >= 0;
}

/* The syscall table is written by hand: check, whenever a tracer is
 * made, that its counts and indexes agree with its field lists. */
static void
check_syscall_spec (const SyscallSpec *spec)
{
  g_auto(GStrv) entry = g_strsplit (spec->entry_fields, " ", -1);
  g_auto(GStrv) exit_ = g_strsplit (spec->exit_fields, " ", -1);
  guint n_entry = spec->entry_fields[0] != '\0' ? g_strv_length (entry) : 0;

  g_assert (n_entry == spec->n_entry_fields && n_entry <= MAX_SYSCALL_FIELDS);
  g_assert (g_strv_length (exit_) == spec->n_exit_fields && spec->n_exit_fields <= MAX_EXIT_FIELDS);
  g_assert (spec->n_args <= MAX_SYSCALL_ARGS);
  for (guint i = 0; i < spec->n_args; i++)
    g_assert (spec->args[i] < n_entry && spec->args[i] != spec->string_field);
  g_assert (spec->string_field < 0 ||
            (g_str_has_suffix (entry[spec->string_field], ":string") && spec->default_path != NULL));
}

/* Every event class of the layout, up front: the writer takes no new
 * class after the first event. It declares in the metadata only the
 * classes that have events. */
static gboolean
declare_classes (StrataSimTracer  *self,
                 GError          **error)
{
  for (guint i = 0; i < N_CLASSES; i++)
    {
      const ClassSpec *spec = &class_specs[i][self->layout];

      self->class_ids[i] = -1;
      if (spec->name != NULL && !add_class (self, spec->name, spec->fields, &self->class_ids[i], error))
        return FALSE;
    }

  for (guint i = 0; i < N_SYSCALLS; i++)
    {
      const SyscallSpec *spec = &syscall_specs[i];
      g_autofree char *entry = g_strconcat ("syscall_entry_", spec->name, NULL);
      g_autofree char *exit_ = g_strconcat ("syscall_exit_", spec->name, NULL);
      const char *exit_fields = spec->exit_fields;

      check_syscall_spec (spec);
      if (self->layout == STRATA_SIM_LAYOUT_2_6 && spec->exit_fields_2_6 != NULL)
        exit_fields = spec->exit_fields_2_6;

      if (!add_class (self, entry, spec->entry_fields, &self->entry_ids[i], error) ||
          !add_class (self, exit_, exit_fields, &self->exit_ids[i], error))
        return FALSE;

      g_hash_table_insert (self->syscalls, (gpointer) spec->name, GUINT_TO_POINTER (i + 1));
    }

  return TRUE;
}

/**
 * strata_sim_tracer_new:
 * @dir: the folder of the trace to write; it must not exist yet (the
 *   writer creates it, and its parents, when the trace is complete)
 * @config: the traced machine
 * @error: return location for a #GError
 *
 * Starts the kernel trace of one simulated machine, in the layout of
 * @config. Every event class of the layout is declared here.
 *
 * Returns: (transfer full) (nullable): a new tracer, or %NULL with @error
 */
StrataSimTracer *
strata_sim_tracer_new (const char                   *dir,
                       const StrataSimTracerConfig  *config,
                       GError                      **error)
{
  g_autoptr(StrataSimTracer) self = NULL;
  StrataTraceWriterConfig writer_config = { 0 };

  g_return_val_if_fail (dir != NULL && *dir != '\0', NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->hostname != NULL, NULL);
  g_return_val_if_fail (config->layout < STRATA_SIM_N_LAYOUTS, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  writer_config.hostname = config->hostname;
  writer_config.domain = "kernel";
  writer_config.sysname = "Linux";
  writer_config.kernel_release = config->kernel_release != NULL
                                   ? config->kernel_release
                                   : layout_kernels[config->layout];
  writer_config.tracer_name = "lttng-modules";
  writer_config.tracer_major = 2;
  writer_config.tracer_minor = layout_minors[config->layout];
  writer_config.tracer_patchlevel = 0;
  writer_config.clock_uuid = config->clock_uuid;
  writer_config.clock_offset_ns = config->clock_offset_ns;
  writer_config.n_cpus = config->n_cpus;

  self = g_new0 (StrataSimTracer, 1);
  self->dir = g_strdup (dir);
  self->layout = config->layout;
  self->n_cpus = config->n_cpus;
  self->syscalls = g_hash_table_new (g_str_hash, g_str_equal);

  self->writer = strata_trace_writer_new (dir, &writer_config, error);
  if (self->writer == NULL)
    return NULL;

  if (!declare_classes (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * strata_sim_tracer_close:
 * @self: a #StrataSimTracer
 * @error: return location for a #GError
 *
 * Completes the trace. If an event could not be written (the first
 * failure stops the tracer), that failure is reported here and no trace
 * is left behind. Closing twice is an error (%G_IO_ERROR_CLOSED).
 *
 * Returns: %TRUE if the whole trace is at its folder
 */
gboolean
strata_sim_tracer_close (StrataSimTracer  *self,
                         GError          **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->closed)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                   "Cannot close simulated trace: path=\"%s\": it is closed already", self->dir);
      return FALSE;
    }

  self->closed = TRUE;

  if (self->error == NULL)
    strata_trace_writer_close (self->writer, &self->error);

  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  return TRUE;
}

/**
 * strata_sim_tracer_free:
 * @self: (nullable): a #StrataSimTracer
 *
 * Frees the tracer. Without a successful strata_sim_tracer_close(), the
 * partly written trace is removed.
 */
void
strata_sim_tracer_free (StrataSimTracer *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->writer, strata_trace_writer_free);
  g_clear_pointer (&self->syscalls, g_hash_table_unref);
  g_clear_error (&self->error);
  g_free (self->dir);
  g_free (self);
}

/**
 * strata_sim_tracer_get_layout:
 * @self: a #StrataSimTracer
 *
 * Returns: the layout the tracer writes
 */
StrataSimLayout
strata_sim_tracer_get_layout (StrataSimTracer *self)
{
  g_return_val_if_fail (self != NULL, STRATA_SIM_LAYOUT_2_13);

  return self->layout;
}

/**
 * strata_sim_tracer_get_n_events:
 * @self: a #StrataSimTracer
 *
 * Returns: the number of events written so far (lost events excluded)
 */
guint64
strata_sim_tracer_get_n_events (StrataSimTracer *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_events;
}

/**
 * strata_sim_tracer_has_failed:
 * @self: a #StrataSimTracer
 *
 * Whether an event could not be written. The tracer then ignores every
 * later event, and strata_sim_tracer_close() reports the failure; an
 * engine may check this to stop early.
 *
 * Returns: %TRUE after a failure
 */
gboolean
strata_sim_tracer_has_failed (StrataSimTracer *self)
{
  g_return_val_if_fail (self != NULL, TRUE);

  return self->error != NULL;
}

/* Emitting */

#define I(x) ((StrataWriterValue) { .i = (gint64) (x) })
#define U(x) ((StrataWriterValue) { .u = (guint64) (x) })
#define S(x) ((StrataWriterValue) { .s = (x) })

static void
emit (StrataSimTracer         *self,
      guint                    cpu,
      guint64                  ts,
      ClassId                  class_id,
      const StrataWriterValue *values,
      guint                    n_values)
{
  int id = self->class_ids[class_id];

  if (self->error != NULL || id < 0)
    return;

  if (strata_trace_writer_append (self->writer, cpu, ts, id, values, n_values, &self->error))
    self->n_events++;
}

/* A kernel char[16] field holds at most 15 bytes: longer names are cut
 * as the kernel cuts a task's comm, but not inside a UTF-8 character. */
static const char *
comm_text (const char *comm,
           char        buf[TASK_COMM_LEN])
{
  const char *end;

  if (comm == NULL || strlen (comm) < TASK_COMM_LEN)
    return comm;

  memcpy (buf, comm, TASK_COMM_LEN - 1);
  buf[TASK_COMM_LEN - 1] = '\0';
  if (!g_utf8_validate (buf, -1, &end))
    buf[end - buf] = '\0';
  return buf;
}

/**
 * strata_sim_tracer_sched_switch:
 * @self: a #StrataSimTracer
 * @cpu: the CPU, below #StrataSimTracerConfig.n_cpus
 * @ts: the raw clock value in ns from the clock's origin (without the
 *   offset); non-decreasing on each CPU
 * @prev_comm: the task leaving the CPU (cut to 15 bytes, as the kernel does)
 * @prev_tid: its tid
 * @prev_prio: its priority (the kernel's prio - 100: 20 for nice 0)
 * @prev_state: its state: 0 runnable (preempted), 1 interruptible sleep,
 *   2 uninterruptible sleep, 64 dead
 * @next_comm: the task taking the CPU
 * @next_tid: its tid
 * @next_prio: its priority
 *
 * Writes `sched_switch`. Like every emit function, a failure is kept for
 * strata_sim_tracer_close() and makes later emits no-ops.
 */
void
strata_sim_tracer_sched_switch (StrataSimTracer *self,
                                guint            cpu,
                                guint64          ts,
                                const char      *prev_comm,
                                gint32           prev_tid,
                                gint32           prev_prio,
                                gint64           prev_state,
                                const char      *next_comm,
                                gint32           next_tid,
                                gint32           next_prio)
{
  char prev_buf[TASK_COMM_LEN], next_buf[TASK_COMM_LEN];

  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = {
      S (comm_text (prev_comm, prev_buf)), I (prev_tid), I (prev_prio), I (prev_state),
      S (comm_text (next_comm, next_buf)), I (next_tid), I (next_prio),
    };

    emit (self, cpu, ts, CLASS_SCHED_SWITCH, v, G_N_ELEMENTS (v));
  }
}

static void
emit_wakeup (StrataSimTracer *self,
             guint            cpu,
             guint64          ts,
             ClassId          class_id,
             const char      *comm,
             gint32           tid,
             gint32           prio,
             gint32           target_cpu)
{
  char buf[TASK_COMM_LEN];
  const char *text = comm_text (comm, buf);

  if (self->layout == STRATA_SIM_LAYOUT_2_6)
    {
      /* success: always 1 since Linux 2.6.35 */
      const StrataWriterValue v[] = { S (text), I (tid), I (prio), I (1), I (target_cpu) };

      emit (self, cpu, ts, class_id, v, G_N_ELEMENTS (v));
    }
  else
    {
      const StrataWriterValue v[] = { S (text), I (tid), I (prio), I (target_cpu) };

      emit (self, cpu, ts, class_id, v, G_N_ELEMENTS (v));
    }
}

/**
 * strata_sim_tracer_sched_wakeup:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @comm: the task woken up
 * @tid: its tid
 * @prio: its priority
 * @target_cpu: the CPU it will run on
 *
 * Writes `sched_wakeup` (with `success` = 1 in the 2.6 layout).
 */
void
strata_sim_tracer_sched_wakeup (StrataSimTracer *self,
                                guint            cpu,
                                guint64          ts,
                                const char      *comm,
                                gint32           tid,
                                gint32           prio,
                                gint32           target_cpu)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_wakeup (self, cpu, ts, CLASS_SCHED_WAKEUP, comm, tid, prio, target_cpu);
}

/**
 * strata_sim_tracer_sched_waking:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @comm: the task being woken up
 * @tid: its tid
 * @prio: its priority
 * @target_cpu: the CPU it will run on
 *
 * Writes `sched_waking` (Linux 4.3+): nothing in the 2.6 layout.
 */
void
strata_sim_tracer_sched_waking (StrataSimTracer *self,
                                guint            cpu,
                                guint64          ts,
                                const char      *comm,
                                gint32           tid,
                                gint32           prio,
                                gint32           target_cpu)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_wakeup (self, cpu, ts, CLASS_SCHED_WAKING, comm, tid, prio, target_cpu);
}

/**
 * strata_sim_tracer_sched_wakeup_new:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @comm: the new task
 * @tid: its tid
 * @prio: its priority
 * @target_cpu: the CPU it will run on
 *
 * Writes `sched_wakeup_new` (with `success` = 1 in the 2.6 layout).
 */
void
strata_sim_tracer_sched_wakeup_new (StrataSimTracer *self,
                                    guint            cpu,
                                    guint64          ts,
                                    const char      *comm,
                                    gint32           tid,
                                    gint32           prio,
                                    gint32           target_cpu)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_wakeup (self, cpu, ts, CLASS_SCHED_WAKEUP_NEW, comm, tid, prio, target_cpu);
}

/**
 * strata_sim_tracer_sched_process_fork:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @parent_comm: the forking task
 * @parent_tid: its tid
 * @parent_pid: its pid
 * @child_comm: the new task
 * @child_tid: its tid
 * @child_pid: its pid (the parent's for a new thread)
 * @vtids: (array length=n_vtids) (nullable): the child's tid in each of its
 *   PID namespaces, from the root (`vtids[0]` = @child_tid) to the innermost
 * @n_vtids: the number of @vtids (at most 255)
 * @parent_ns_inum: the inode of the parent's innermost PID namespace
 * @child_ns_inum: the inode of the child's innermost PID namespace
 *
 * Writes `sched_process_fork`. The 2.6 layout has no namespaces: @vtids
 * and the inodes are not written.
 */
void
strata_sim_tracer_sched_process_fork (StrataSimTracer *self,
                                      guint            cpu,
                                      guint64          ts,
                                      const char      *parent_comm,
                                      gint32           parent_tid,
                                      gint32           parent_pid,
                                      const char      *child_comm,
                                      gint32           child_tid,
                                      gint32           child_pid,
                                      const gint32    *vtids,
                                      guint            n_vtids,
                                      guint32          parent_ns_inum,
                                      guint32          child_ns_inum)
{
  char parent_buf[TASK_COMM_LEN], child_buf[TASK_COMM_LEN];
  const char *parent_text, *child_text;

  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);
  g_return_if_fail (vtids != NULL || n_vtids == 0);

  parent_text = comm_text (parent_comm, parent_buf);
  child_text = comm_text (child_comm, child_buf);

  if (self->layout == STRATA_SIM_LAYOUT_2_6)
    {
      const StrataWriterValue v[] = {
        S (parent_text), I (parent_tid), I (parent_pid),
        S (child_text), I (child_tid), I (child_pid),
      };

      emit (self, cpu, ts, CLASS_SCHED_PROCESS_FORK, v, G_N_ELEMENTS (v));
    }
  else
    {
      StrataWriterValue v[] = {
        S (parent_text), I (parent_tid), I (parent_pid), U (parent_ns_inum),
        S (child_text), I (child_tid), { .a = { vtids, n_vtids } }, I (child_pid), U (child_ns_inum),
      };

      emit (self, cpu, ts, CLASS_SCHED_PROCESS_FORK, v, G_N_ELEMENTS (v));
    }
}

static void
emit_task (StrataSimTracer *self,
           guint            cpu,
           guint64          ts,
           ClassId          class_id,
           const char      *comm,
           gint32           tid,
           gint32           prio)
{
  char buf[TASK_COMM_LEN];
  const StrataWriterValue v[] = { S (comm_text (comm, buf)), I (tid), I (prio) };

  emit (self, cpu, ts, class_id, v, G_N_ELEMENTS (v));
}

/**
 * strata_sim_tracer_sched_process_exit:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @comm: the exiting task
 * @tid: its tid
 * @prio: its priority
 *
 * Writes `sched_process_exit`.
 */
void
strata_sim_tracer_sched_process_exit (StrataSimTracer *self,
                                      guint            cpu,
                                      guint64          ts,
                                      const char      *comm,
                                      gint32           tid,
                                      gint32           prio)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_task (self, cpu, ts, CLASS_SCHED_PROCESS_EXIT, comm, tid, prio);
}

/**
 * strata_sim_tracer_sched_process_free:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @comm: the reaped task
 * @tid: its tid
 * @prio: its priority
 *
 * Writes `sched_process_free`.
 */
void
strata_sim_tracer_sched_process_free (StrataSimTracer *self,
                                      guint            cpu,
                                      guint64          ts,
                                      const char      *comm,
                                      gint32           tid,
                                      gint32           prio)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_task (self, cpu, ts, CLASS_SCHED_PROCESS_FREE, comm, tid, prio);
}

/**
 * strata_sim_tracer_sched_process_exec:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @filename: the program executed (not cut)
 * @tid: the task's tid
 * @old_tid: its tid before exec (another thread's tid when a
 *   non-leader thread execs)
 *
 * Writes `sched_process_exec`.
 */
void
strata_sim_tracer_sched_process_exec (StrataSimTracer *self,
                                      guint            cpu,
                                      guint64          ts,
                                      const char      *filename,
                                      gint32           tid,
                                      gint32           old_tid)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = { S (filename), I (tid), I (old_tid) };

    emit (self, cpu, ts, CLASS_SCHED_PROCESS_EXEC, v, G_N_ELEMENTS (v));
  }
}

/**
 * strata_sim_tracer_sched_migrate_task:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @comm: the migrated task
 * @tid: its tid
 * @prio: its priority
 * @orig_cpu: the CPU it leaves
 * @dest_cpu: the CPU it goes to
 *
 * Writes `sched_migrate_task`.
 */
void
strata_sim_tracer_sched_migrate_task (StrataSimTracer *self,
                                      guint            cpu,
                                      guint64          ts,
                                      const char      *comm,
                                      gint32           tid,
                                      gint32           prio,
                                      gint32           orig_cpu,
                                      gint32           dest_cpu)
{
  char buf[TASK_COMM_LEN];

  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = {
      S (comm_text (comm, buf)), I (tid), I (prio), I (orig_cpu), I (dest_cpu),
    };

    emit (self, cpu, ts, CLASS_SCHED_MIGRATE_TASK, v, G_N_ELEMENTS (v));
  }
}

/**
 * strata_sim_tracer_statedump_start:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 *
 * Writes `lttng_statedump_start`.
 */
void
strata_sim_tracer_statedump_start (StrataSimTracer *self,
                                   guint            cpu,
                                   guint64          ts)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit (self, cpu, ts, CLASS_STATEDUMP_START, NULL, 0);
}

/**
 * strata_sim_tracer_statedump_end:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 *
 * Writes `lttng_statedump_end`.
 */
void
strata_sim_tracer_statedump_end (StrataSimTracer *self,
                                 guint            cpu,
                                 guint64          ts)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit (self, cpu, ts, CLASS_STATEDUMP_END, NULL, 0);
}

/**
 * strata_sim_tracer_statedump_process:
 * @self: a #StrataSimTracer
 * @cpu: the CPU the statedump runs on
 * @ts: the raw clock value, for every event written
 * @tid: the task's tid (root namespace)
 * @pid: its pid
 * @ppid: its parent's pid
 * @name: its comm (cut to 15 bytes)
 * @type: 0 user thread, 1 kernel thread
 * @mode: 0 user, 1 syscall, 2 trap, 3 irq, 4 softirq, 5 unknown
 * @submode: 0 none, 1 unknown
 * @status: 0 unnamed, 1 wait_fork, 2 wait_cpu, 3 exit, 4 zombie, 5 wait,
 *   6 run, 7 dead
 * @task_cpu: the CPU the task last ran on
 * @levels: (array length=n_levels) (nullable): the task's PID namespaces,
 *   from the root (level 0, where `vtid` = @tid) to the innermost
 * @n_levels: the number of @levels; 0 stands for the root namespace only
 *   (inode %STRATA_SIM_ROOT_PID_NS_INUM)
 *
 * Writes the statedump events of one task, as lttng-modules does:
 *
 * - 2.6 and 2.10: one `lttng_statedump_process_state` per level, the
 *   innermost first, each with that level's vtid, vpid, vppid and
 *   ns_level (and ns_inum and cpu in 2.10);
 * - 2.13: one `lttng_statedump_process_state`, then one
 *   `lttng_statedump_process_pid_ns` per level, the innermost first. Its
 *   `file_table_address` is made up from @pid (threads of a process share
 *   their file table).
 */
void
strata_sim_tracer_statedump_process (StrataSimTracer        *self,
                                     guint                   cpu,
                                     guint64                 ts,
                                     gint32                  tid,
                                     gint32                  pid,
                                     gint32                  ppid,
                                     const char             *name,
                                     gint32                  type,
                                     gint32                  mode,
                                     gint32                  submode,
                                     gint32                  status,
                                     guint                   task_cpu,
                                     const StrataSimNsLevel *levels,
                                     guint                   n_levels)
{
  char buf[TASK_COMM_LEN];
  const char *text;
  StrataSimNsLevel root;

  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);
  g_return_if_fail (levels != NULL || n_levels == 0);

  text = comm_text (name, buf);

  if (n_levels == 0)
    {
      root.vtid = tid;
      root.vpid = pid;
      root.vppid = ppid;
      root.ns_inum = STRATA_SIM_ROOT_PID_NS_INUM;
      levels = &root;
      n_levels = 1;
    }

  switch (self->layout)
    {
    case STRATA_SIM_LAYOUT_2_6:
    case STRATA_SIM_LAYOUT_2_10:
      /* lttng-modules walks from the task's active namespace up to the
       * root, writing the whole state each time. */
      for (guint i = n_levels; i-- > 0;)
        {
          const StrataSimNsLevel *level = &levels[i];
          const StrataWriterValue v[] = {
            I (tid), I (level->vtid), I (pid), I (level->vpid), I (ppid), I (level->vppid),
            S (text), I (type), I (mode), I (submode), I (status), I (i),
            U (level->ns_inum), U (task_cpu),
          };

          /* 2.6 stops at ns_level */
          emit (self, cpu, ts, CLASS_STATEDUMP_PROCESS_STATE, v,
                self->layout == STRATA_SIM_LAYOUT_2_6 ? 12 : 14);
        }
      break;

    case STRATA_SIM_LAYOUT_2_13:
      {
        const StrataWriterValue v[] = {
          I (tid), I (pid), I (ppid), S (text), I (type), I (mode), I (submode), I (status),
          U (task_cpu), U (FILES_STRUCT_BASE + ((guint64) (guint32) pid << 10)),
        };

        emit (self, cpu, ts, CLASS_STATEDUMP_PROCESS_STATE, v, G_N_ELEMENTS (v));

        for (guint i = n_levels; i-- > 0;)
          {
            const StrataSimNsLevel *level = &levels[i];
            const StrataWriterValue ns[] = {
              I (tid), I (level->vtid), I (level->vpid), I (level->vppid), I (i), U (level->ns_inum),
            };

            emit (self, cpu, ts, CLASS_STATEDUMP_PROCESS_PID_NS, ns, G_N_ELEMENTS (ns));
          }
      }
      break;

    case STRATA_SIM_N_LAYOUTS:
    default:
      g_assert_not_reached ();
    }
}

static void
fail_syscall (StrataSimTracer *self,
              const char      *name)
{
  g_set_error (&self->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Cannot trace system call \"%s\": path=\"%s\": not one of the system calls "
               "the simulator traces", name, self->dir);
}

static const SyscallSpec *
lookup_syscall (StrataSimTracer *self,
                const char      *name,
                guint           *index)
{
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (self->syscalls, name));

  if (i == 0)
    return NULL;
  *index = i - 1;
  return &syscall_specs[i - 1];
}

/**
 * strata_sim_tracer_syscall_entry:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @name: the system call, one of strata_sim_tracer_list_syscalls()
 * @args: (array length=n_args) (nullable): values for some of the entry's
 *   fields, in this order (fields not given keep a plausible default):
 *   read: fd, count; write: fd, count; openat: dfd, flags, mode;
 *   close: fd; futex: uaddr, op, val; nanosleep: rqtp;
 *   clock_nanosleep: which_clock, flags, rqtp; epoll_wait: epfd,
 *   maxevents, timeout; poll: nfds, timeout_msecs; ioctl: fd, cmd, arg;
 *   sendto: fd, len, flags; recvfrom: fd, size, flags; mmap: len, prot,
 *   flags; munmap: addr, len; brk: brk; clone: clone_flags, newsp;
 *   execve: argv, envp; exit_group: error_code; sched_yield, getpid: none
 * @n_args: the number of @args, at most 3 (extra ones are an error)
 * @path: (nullable): the `filename` of openat and execve (%NULL: a
 *   default); ignored by the other calls
 *
 * Writes `syscall_entry_<name>` with the fields real x86-64 traces have.
 * Values must fit their fields (e.g. `fd` is unsigned for read): one that
 * does not is a failure reported at close, like an unknown @name.
 */
void
strata_sim_tracer_syscall_entry (StrataSimTracer *self,
                                 guint            cpu,
                                 guint64          ts,
                                 const char      *name,
                                 const gint64    *args,
                                 guint            n_args,
                                 const char      *path)
{
  StrataWriterValue v[MAX_SYSCALL_FIELDS];
  const SyscallSpec *spec;
  guint index;

  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);
  g_return_if_fail (name != NULL);
  g_return_if_fail (args != NULL || n_args == 0);

  if (self->error != NULL)
    return;

  spec = lookup_syscall (self, name, &index);
  if (spec == NULL)
    {
      fail_syscall (self, name);
      return;
    }

  if (n_args > spec->n_args)
    {
      g_set_error (&self->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot trace system call \"%s\": path=\"%s\": %u arguments given, "
                   "it takes at most %u", name, self->dir, n_args, spec->n_args);
      return;
    }

  for (guint i = 0; i < spec->n_entry_fields; i++)
    v[i].i = spec->entry_defaults[i];
  for (guint i = 0; i < n_args; i++)
    v[spec->args[i]].i = args[i];
  if (spec->string_field >= 0)
    v[spec->string_field].s = path != NULL ? path : spec->default_path;

  if (strata_trace_writer_append (self->writer, cpu, ts, self->entry_ids[index], v,
                                  spec->n_entry_fields, &self->error))
    self->n_events++;
}

/**
 * strata_sim_tracer_syscall_exit:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @name: the system call, one of strata_sim_tracer_list_syscalls()
 * @ret: its return value (an address for mmap)
 *
 * Writes `syscall_exit_<name>`: `ret`, then the output arguments real
 * traces have for it (e.g. `buf` for read), with fixed plausible values.
 */
void
strata_sim_tracer_syscall_exit (StrataSimTracer *self,
                                guint            cpu,
                                guint64          ts,
                                const char      *name,
                                gint64           ret)
{
  StrataWriterValue v[MAX_EXIT_FIELDS];
  const SyscallSpec *spec;
  guint index;

  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);
  g_return_if_fail (name != NULL);

  if (self->error != NULL)
    return;

  spec = lookup_syscall (self, name, &index);
  if (spec == NULL)
    {
      fail_syscall (self, name);
      return;
    }

  v[0].i = ret;
  for (guint i = 1; i < spec->n_exit_fields; i++)
    v[i].i = spec->exit_defaults[i - 1];

  if (strata_trace_writer_append (self->writer, cpu, ts, self->exit_ids[index], v,
                                  spec->n_exit_fields, &self->error))
    self->n_events++;
}

/**
 * strata_sim_tracer_irq_handler_entry:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @irq: the interrupt line
 * @name: the handler's name, e.g. "eth0"
 *
 * Writes `irq_handler_entry`.
 */
void
strata_sim_tracer_irq_handler_entry (StrataSimTracer *self,
                                     guint            cpu,
                                     guint64          ts,
                                     gint32           irq,
                                     const char      *name)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = { I (irq), S (name) };

    emit (self, cpu, ts, CLASS_IRQ_HANDLER_ENTRY, v, G_N_ELEMENTS (v));
  }
}

/**
 * strata_sim_tracer_irq_handler_exit:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @irq: the interrupt line
 * @ret: 1 handled, 0 not
 *
 * Writes `irq_handler_exit`.
 */
void
strata_sim_tracer_irq_handler_exit (StrataSimTracer *self,
                                    guint            cpu,
                                    guint64          ts,
                                    gint32           irq,
                                    gint32           ret)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = { I (irq), I (ret) };

    emit (self, cpu, ts, CLASS_IRQ_HANDLER_EXIT, v, G_N_ELEMENTS (v));
  }
}

static void
emit_vec (StrataSimTracer *self,
          guint            cpu,
          guint64          ts,
          ClassId          class_id,
          guint32          vec)
{
  const StrataWriterValue v[] = { U (vec) };

  emit (self, cpu, ts, class_id, v, G_N_ELEMENTS (v));
}

/**
 * strata_sim_tracer_softirq_raise:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @vec: the softirq vector (1 TIMER, 2 NET_TX, 3 NET_RX, 7 SCHED, 9 RCU…)
 *
 * Writes `softirq_raise` (2.6) or `irq_softirq_raise`.
 */
void
strata_sim_tracer_softirq_raise (StrataSimTracer *self,
                                 guint            cpu,
                                 guint64          ts,
                                 guint32          vec)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_vec (self, cpu, ts, CLASS_SOFTIRQ_RAISE, vec);
}

/**
 * strata_sim_tracer_softirq_entry:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @vec: the softirq vector
 *
 * Writes `softirq_entry` (2.6) or `irq_softirq_entry`.
 */
void
strata_sim_tracer_softirq_entry (StrataSimTracer *self,
                                 guint            cpu,
                                 guint64          ts,
                                 guint32          vec)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_vec (self, cpu, ts, CLASS_SOFTIRQ_ENTRY, vec);
}

/**
 * strata_sim_tracer_softirq_exit:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @vec: the softirq vector
 *
 * Writes `softirq_exit` (2.6) or `irq_softirq_exit`.
 */
void
strata_sim_tracer_softirq_exit (StrataSimTracer *self,
                                guint            cpu,
                                guint64          ts,
                                guint32          vec)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_vec (self, cpu, ts, CLASS_SOFTIRQ_EXIT, vec);
}

/**
 * strata_sim_tracer_kvm_entry:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @vcpu_id: the vCPU the thread is about to run
 *
 * Writes `kvm_entry` (2.6) or `kvm_x86_entry`.
 */
void
strata_sim_tracer_kvm_entry (StrataSimTracer *self,
                             guint            cpu,
                             guint64          ts,
                             guint32          vcpu_id)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = { U (vcpu_id) };

    emit (self, cpu, ts, CLASS_KVM_ENTRY, v, G_N_ELEMENTS (v));
  }
}

/**
 * strata_sim_tracer_kvm_exit:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @exit_reason: the VMX basic exit reason (or SVM exit code)
 * @guest_rip: the guest's instruction pointer
 * @isa: 1 VMX, 2 SVM
 * @info1: the exit qualification
 * @info2: more exit information
 * @intr_info: interruption information (2.13 layout only)
 * @error_code: its error code (2.13 layout only)
 * @vcpu_id: the vCPU that exited (2.13 layout only)
 *
 * Writes `kvm_exit` (2.6) or `kvm_x86_exit`; the last three fields exist
 * on Linux 5.10 and later, so only in the 2.13 layout.
 */
void
strata_sim_tracer_kvm_exit (StrataSimTracer *self,
                            guint            cpu,
                            guint64          ts,
                            guint32          exit_reason,
                            guint64          guest_rip,
                            guint32          isa,
                            guint64          info1,
                            guint64          info2,
                            guint32          intr_info,
                            guint32          error_code,
                            guint32          vcpu_id)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = {
      U (exit_reason), U (guest_rip), U (isa), U (info1), U (info2),
      U (intr_info), U (error_code), U (vcpu_id),
    };

    emit (self, cpu, ts, CLASS_KVM_EXIT, v, self->layout == STRATA_SIM_LAYOUT_2_13 ? 8 : 5);
  }
}

/**
 * strata_sim_tracer_kvm_hypercall:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @nr: the hypercall number
 * @a0: its first argument
 * @a1: its second argument
 * @a2: its third argument
 * @a3: its fourth argument
 *
 * Writes `kvm_hypercall` (2.6) or `kvm_x86_hypercall`.
 */
void
strata_sim_tracer_kvm_hypercall (StrataSimTracer *self,
                                 guint            cpu,
                                 guint64          ts,
                                 guint64          nr,
                                 guint64          a0,
                                 guint64          a1,
                                 guint64          a2,
                                 guint64          a3)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = { U (nr), U (a0), U (a1), U (a2), U (a3) };

    emit (self, cpu, ts, CLASS_KVM_HYPERCALL, v, G_N_ELEMENTS (v));
  }
}

/**
 * strata_sim_tracer_kvm_nested_vmexit_inject:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @exit_code: the exit reflected into the L1 hypervisor
 * @exit_info1: its first information word
 * @exit_info2: its second information word
 * @exit_int_info: interruption information
 * @exit_int_info_err: its error code
 * @isa: 1 VMX, 2 SVM
 *
 * Writes `kvm_nested_vmexit_inject` (2.6) or `kvm_x86_nested_vmexit_inject`.
 */
void
strata_sim_tracer_kvm_nested_vmexit_inject (StrataSimTracer *self,
                                            guint            cpu,
                                            guint64          ts,
                                            guint32          exit_code,
                                            guint64          exit_info1,
                                            guint64          exit_info2,
                                            guint32          exit_int_info,
                                            guint32          exit_int_info_err,
                                            guint32          isa)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = {
      U (exit_code), U (exit_info1), U (exit_info2), U (exit_int_info), U (exit_int_info_err), U (isa),
    };

    emit (self, cpu, ts, CLASS_KVM_NESTED_VMEXIT_INJECT, v, G_N_ELEMENTS (v));
  }
}

/**
 * strata_sim_tracer_kvm_mmu_get_page:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @gfn: the guest frame number
 * @role: the shadow page's role word
 * @root_count: its root count
 * @unsync: whether it is unsynchronized
 * @created: whether it was just created
 *
 * Writes `kvm_mmu_get_page`; in the 2.6 and 2.10 layouts (kernels 3.11 to
 * 5.0) it starts with `mmu_valid_gen`, written as 0.
 */
void
strata_sim_tracer_kvm_mmu_get_page (StrataSimTracer *self,
                                    guint            cpu,
                                    guint64          ts,
                                    guint64          gfn,
                                    guint32          role,
                                    guint32          root_count,
                                    gboolean         unsync,
                                    gboolean         created)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = {
      U (0), U (gfn), U (role), U (root_count), U (unsync ? 1 : 0), U (created ? 1 : 0),
    };

    if (self->layout == STRATA_SIM_LAYOUT_2_13)
      emit (self, cpu, ts, CLASS_KVM_MMU_GET_PAGE, v + 1, G_N_ELEMENTS (v) - 1);
    else
      emit (self, cpu, ts, CLASS_KVM_MMU_GET_PAGE, v, G_N_ELEMENTS (v));
  }
}

/**
 * strata_sim_tracer_kvm_userspace_exit:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @reason: the `KVM_EXIT_*` reason (e.g. 2 I/O, 6 MMIO)
 * @errnum: the `errno` field: 0, or a negative error such as -EINTR
 *
 * Writes `kvm_userspace_exit`: the vCPU thread leaves for the hypervisor's
 * user space.
 */
void
strata_sim_tracer_kvm_userspace_exit (StrataSimTracer *self,
                                      guint            cpu,
                                      guint64          ts,
                                      guint32          reason,
                                      gint32           errnum)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = { U (reason), I (errnum) };

    emit (self, cpu, ts, CLASS_KVM_USERSPACE_EXIT, v, G_N_ELEMENTS (v));
  }
}

static void
emit_vmsync (StrataSimTracer *self,
             guint            cpu,
             guint64          ts,
             ClassId          class_id,
             guint32          cnt,
             guint64          vm_uid)
{
  const StrataWriterValue v[] = { U (cnt), U (vm_uid) };

  emit (self, cpu, ts, class_id, v, G_N_ELEMENTS (v));
}

/**
 * strata_sim_tracer_vmsync_gh_guest:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @cnt: the message counter
 * @vm_uid: the guest's random id
 *
 * Writes `vmsync_gh_guest`: a guest, just before its sync hypercall.
 */
void
strata_sim_tracer_vmsync_gh_guest (StrataSimTracer *self,
                                   guint            cpu,
                                   guint64          ts,
                                   guint32          cnt,
                                   guint64          vm_uid)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_vmsync (self, cpu, ts, CLASS_VMSYNC_GH_GUEST, cnt, vm_uid);
}

/**
 * strata_sim_tracer_vmsync_gh_host:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @cnt: the message counter
 * @vm_uid: the guest's random id
 *
 * Writes `vmsync_gh_host`: the host, handling that hypercall.
 */
void
strata_sim_tracer_vmsync_gh_host (StrataSimTracer *self,
                                  guint            cpu,
                                  guint64          ts,
                                  guint32          cnt,
                                  guint64          vm_uid)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_vmsync (self, cpu, ts, CLASS_VMSYNC_GH_HOST, cnt, vm_uid);
}

/**
 * strata_sim_tracer_vmsync_hg_host:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @cnt: the message counter
 * @vm_uid: the guest's random id
 *
 * Writes `vmsync_hg_host`: the host, at the vCPU thread's next entry.
 */
void
strata_sim_tracer_vmsync_hg_host (StrataSimTracer *self,
                                  guint            cpu,
                                  guint64          ts,
                                  guint32          cnt,
                                  guint64          vm_uid)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_vmsync (self, cpu, ts, CLASS_VMSYNC_HG_HOST, cnt, vm_uid);
}

/**
 * strata_sim_tracer_vmsync_hg_guest:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @cnt: the message counter
 * @vm_uid: the guest's random id
 *
 * Writes `vmsync_hg_guest`: the guest, after the hypercall returns.
 */
void
strata_sim_tracer_vmsync_hg_guest (StrataSimTracer *self,
                                   guint            cpu,
                                   guint64          ts,
                                   guint32          cnt,
                                   guint64          vm_uid)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  emit_vmsync (self, cpu, ts, CLASS_VMSYNC_HG_GUEST, cnt, vm_uid);
}

/**
 * strata_sim_tracer_net_dev_xmit:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @skbaddr: the socket buffer's kernel address
 * @rc: the driver's return code (0: sent)
 * @len: the packet's length
 * @name: the device, e.g. "eth0"
 *
 * Writes `net_dev_xmit` (its `len` comes before `rc` in the 2.6 layout).
 */
void
strata_sim_tracer_net_dev_xmit (StrataSimTracer *self,
                                guint            cpu,
                                guint64          ts,
                                guint64          skbaddr,
                                gint32           rc,
                                guint32          len,
                                const char      *name)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  if (self->layout == STRATA_SIM_LAYOUT_2_6)
    {
      const StrataWriterValue v[] = { U (skbaddr), U (len), I (rc), S (name) };

      emit (self, cpu, ts, CLASS_NET_DEV_XMIT, v, G_N_ELEMENTS (v));
    }
  else
    {
      const StrataWriterValue v[] = { U (skbaddr), I (rc), U (len), S (name) };

      emit (self, cpu, ts, CLASS_NET_DEV_XMIT, v, G_N_ELEMENTS (v));
    }
}

/**
 * strata_sim_tracer_net_if_receive_skb:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @ts: the raw clock value
 * @skbaddr: the socket buffer's kernel address
 * @len: the packet's length
 * @name: the device, e.g. "eth0"
 *
 * Writes `net_if_receive_skb`.
 */
void
strata_sim_tracer_net_if_receive_skb (StrataSimTracer *self,
                                      guint            cpu,
                                      guint64          ts,
                                      guint64          skbaddr,
                                      guint32          len,
                                      const char      *name)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  {
    const StrataWriterValue v[] = { U (skbaddr), U (len), S (name) };

    emit (self, cpu, ts, CLASS_NET_IF_RECEIVE_SKB, v, G_N_ELEMENTS (v));
  }
}

/**
 * strata_sim_tracer_lost:
 * @self: a #StrataSimTracer
 * @cpu: the CPU
 * @count: how many events the tracer discarded there
 *
 * Records that @count events were lost on @cpu at this point of its
 * stream, as LTTng does when a sub-buffer is full: the CPU's packet ends
 * here and the next one's `events_discarded` counts them. Readers place
 * the loss between the end of that packet and the end of the next one.
 */
void
strata_sim_tracer_lost (StrataSimTracer *self,
                        guint            cpu,
                        guint64          count)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->closed);

  if (self->error != NULL)
    return;

  if (cpu >= self->n_cpus)
    {
      g_set_error (&self->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot record lost events: path=\"%s\": cpu %u is not below n_cpus %u",
                   self->dir, cpu, self->n_cpus);
      return;
    }

  strata_trace_writer_add_discarded (self->writer, cpu, count);
}
