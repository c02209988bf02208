/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * StrataCpuStatus:
 * @STRATA_CPU_UNKNOWN: nothing tells yet (before the first scheduling
 *   event of that CPU, or after lost events)
 * @STRATA_CPU_USER: a thread in user space
 * @STRATA_CPU_SYSCALL: a thread in a system call
 * @STRATA_CPU_IRQ: handling a device interrupt
 * @STRATA_CPU_SOFTIRQ: handling a softirq
 * @STRATA_CPU_IDLE: the idle task
 * @STRATA_CPU_VMM: a hypervisor working for a guest vCPU (after a VM exit)
 *
 * What a physical CPU executes, at the level of the machine whose code
 * runs there.
 */
typedef enum
{
  STRATA_CPU_UNKNOWN = 0,
  STRATA_CPU_USER,
  STRATA_CPU_SYSCALL,
  STRATA_CPU_IRQ,
  STRATA_CPU_SOFTIRQ,
  STRATA_CPU_IDLE,
  STRATA_CPU_VMM,
  STRATA_N_CPU_STATUSES
} StrataCpuStatus;

/**
 * StrataVcpuState:
 * @STRATA_VCPU_UNKNOWN: no information (its hypervisor thread is not known)
 * @STRATA_VCPU_RUNNING: executing guest code on a physical CPU
 * @STRATA_VCPU_VMM: out of the guest, its exit being handled
 * @STRATA_VCPU_PREEMPTED: the guest believes it runs (or it is ready), but
 *   its hypervisor thread does not have a CPU
 * @STRATA_VCPU_IDLE: halted, waiting for an interrupt
 */
typedef enum
{
  STRATA_VCPU_UNKNOWN = 0,
  STRATA_VCPU_RUNNING,
  STRATA_VCPU_VMM,
  STRATA_VCPU_PREEMPTED,
  STRATA_VCPU_IDLE,
  STRATA_N_VCPU_STATES
} StrataVcpuState;

/**
 * StrataThreadStatus:
 *
 * A thread's status, as its own kernel sees it, except for the last two:
 * a guest thread its kernel believes running while its vCPU is preempted
 * by the host, or out of the guest in its hypervisor.
 */
typedef enum
{
  STRATA_THREAD_UNKNOWN = 0,
  STRATA_THREAD_USER,
  STRATA_THREAD_SYSCALL,
  STRATA_THREAD_INTERRUPTED,
  STRATA_THREAD_WAIT_CPU,
  STRATA_THREAD_BLOCKED,
  STRATA_THREAD_DEAD,
  STRATA_THREAD_PREEMPTED_BY_HOST,
  STRATA_THREAD_IN_HYPERVISOR,
  STRATA_N_THREAD_STATUSES
} StrataThreadStatus;

/**
 * StrataMachineKind:
 * @STRATA_MACHINE_HOST: a physical machine (layer 0)
 * @STRATA_MACHINE_VM: a virtual machine run by its parent
 */
typedef enum
{
  STRATA_MACHINE_HOST,
  STRATA_MACHINE_VM,
} StrataMachineKind;

const char *strata_cpu_status_to_string    (StrataCpuStatus    status);
const char *strata_cpu_status_to_query     (StrataCpuStatus    status);
const char *strata_vcpu_state_to_string    (StrataVcpuState    state);
const char *strata_thread_status_to_string (StrataThreadStatus status);
const char *strata_machine_kind_to_string  (StrataMachineKind  kind);
const char *strata_exit_reason_to_string   (guint              reason,
                                            guint              isa);

G_END_DECLS
