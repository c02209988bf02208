/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-analysis"

#include "config.h"

#include "strata-analysis-types.h"

const char *
strata_cpu_status_to_string (StrataCpuStatus status)
{
  static const char * const names[] = { "unknown", "user", "syscall", "irq", "softirq", "idle", "vmm" };

  return (guint) status < G_N_ELEMENTS (names) ? names[status] : "unknown";
}

/**
 * strata_cpu_status_to_query:
 *
 * Returns: the status as `strata-cli query` writes it (DESIGN.md): system
 *   calls and interrupts are "kernel"
 */
const char *
strata_cpu_status_to_query (StrataCpuStatus status)
{
  switch (status)
    {
    case STRATA_CPU_USER:
      return "user";
    case STRATA_CPU_SYSCALL:
    case STRATA_CPU_IRQ:
    case STRATA_CPU_SOFTIRQ:
      return "kernel";
    case STRATA_CPU_IDLE:
      return "idle";
    case STRATA_CPU_VMM:
      return "vmm";
    case STRATA_CPU_UNKNOWN:
    case STRATA_N_CPU_STATUSES:
    default:
      return "unknown";
    }
}

const char *
strata_vcpu_state_to_string (StrataVcpuState state)
{
  static const char * const names[] = { "unknown", "running", "vmm", "preempted", "idle" };

  return (guint) state < G_N_ELEMENTS (names) ? names[state] : "unknown";
}

const char *
strata_thread_status_to_string (StrataThreadStatus status)
{
  static const char * const names[] = {
    "unknown", "user", "syscall", "interrupted", "wait_cpu", "blocked", "dead",
    "preempted_by_host", "in_hypervisor",
  };

  return (guint) status < G_N_ELEMENTS (names) ? names[status] : "unknown";
}

const char *
strata_machine_kind_to_string (StrataMachineKind kind)
{
  return kind == STRATA_MACHINE_VM ? "vm" : "host";
}

/**
 * strata_exit_reason_to_string:
 * @reason: a VMX basic exit reason, or an SVM exit code
 * @isa: 1 VMX (Intel), 2 SVM (AMD)
 *
 * Returns: the exit reason's name as the kernel spells it, or "UNKNOWN"
 */
const char *
strata_exit_reason_to_string (guint reason,
                              guint isa)
{
  static const char * const vmx[] = {
    [0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT",
    [3] = "INIT_SIGNAL", [4] = "SIPI_SIGNAL", [7] = "INTERRUPT_WINDOW", [8] = "NMI_WINDOW",
    [9] = "TASK_SWITCH", [10] = "CPUID", [12] = "HLT", [13] = "INVD", [14] = "INVLPG",
    [15] = "RDPMC", [16] = "RDTSC", [18] = "VMCALL", [19] = "VMCLEAR", [20] = "VMLAUNCH",
    [21] = "VMPTRLD", [22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME", [25] = "VMWRITE",
    [26] = "VMOFF", [27] = "VMON", [28] = "CR_ACCESS", [29] = "DR_ACCESS",
    [30] = "IO_INSTRUCTION", [31] = "MSR_READ", [32] = "MSR_WRITE", [33] = "INVALID_STATE",
    [34] = "MSR_LOAD_FAIL", [36] = "MWAIT_INSTRUCTION", [37] = "MONITOR_TRAP_FLAG",
    [39] = "MONITOR_INSTRUCTION", [40] = "PAUSE_INSTRUCTION", [41] = "MCE_DURING_VMENTRY",
    [43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS", [45] = "EOI_INDUCED",
    [46] = "GDTR_IDTR", [47] = "LDTR_TR", [48] = "EPT_VIOLATION", [49] = "EPT_MISCONFIG",
    [50] = "INVEPT", [51] = "RDTSCP", [52] = "PREEMPTION_TIMER", [53] = "INVVPID",
    [54] = "WBINVD", [55] = "XSETBV", [56] = "APIC_WRITE", [57] = "RDRAND",
    [58] = "INVPCID", [59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED", [62] = "PML_FULL",
    [63] = "XSAVES", [64] = "XRSTORS", [67] = "UMWAIT", [68] = "TPAUSE", [74] = "BUS_LOCK",
    [75] = "NOTIFY",
  };

  if (isa == 2)
    {
      if (reason < 0x20)
        return "READ_CR";
      if (reason < 0x40)
        return "READ_DR";
      if (reason < 0x60)
        return "EXCEPTION";
      switch (reason)
        {
        case 0x060: return "INTR";
        case 0x061: return "NMI";
        case 0x062: return "SMI";
        case 0x063: return "INIT";
        case 0x064: return "VINTR";
        case 0x072: return "CPUID";
        case 0x077: return "PAUSE";
        case 0x078: return "HLT";
        case 0x07b: return "IOIO";
        case 0x07c: return "MSR";
        case 0x07f: return "SHUTDOWN";
        case 0x080: return "VMRUN";
        case 0x081: return "VMMCALL";
        case 0x400: return "NPF";
        default: return "UNKNOWN";
        }
    }
  if (reason < G_N_ELEMENTS (vmx) && vmx[reason] != NULL)
    return vmx[reason];
  return "UNKNOWN";
}
