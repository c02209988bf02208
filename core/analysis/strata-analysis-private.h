/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "strata-analysis-types.h"
#include "strata-sht.h"

G_BEGIN_DECLS

/*
 * What the fused analysis writes into its State History Tree, and how the
 * readers (queries, views, statistics) decode it. The layout is part of
 * the analysis version: change one, bump the other.
 *
 *   Machines/<m>/Name, Kind, Layer, Parent, Hostname, Trace, QemuPid   set once
 *   Machines/<m>/CPUs/<n>/Fused      (physical machines) int64, see below
 *   Machines/<m>/VCPUs/<n>/State     (virtual machines) int64, see below
 *   Machines/<m>/VCPUs/<n>/HostTid   int32, its hypervisor thread
 *   Threads/<i>/Info     string "machine\ttid\tpid\tppid\tvtid\tcontainer", vtid
 *                        and container "-" outside containers
 *   Threads/<i>/Comm     string
 *   Threads/<i>/Status   int32, a StrataThreadStatus
 *   Threads/<i>/Syscall  string, null outside system calls
 *
 * <m> is the machine's index (0 the first physical host); <i> a thread's
 * index, given in the order threads are met: a tid reused after its
 * thread died is a new thread.
 *
 * Each machine's CPU attributes are created one after the other, before
 * anything else of the machine: a view of the CPUs then queries one or two
 * of the SHT's groups of attributes (version 2; version 1 interleaved them
 * with the idle threads', three groups for 64 CPUs).
 */

#define STRATA_ANALYSIS_VERSION 2

/* Fused value of a physical CPU: which machine's code runs there (for
 * the hypervisor's work, the guest it works for), its vCPU, the thread
 * (for VMM, the hypervisor's thread) and the status. */
#define FUSED_THREAD_BITS   32
#define FUSED_MACHINE_SHIFT 32
#define FUSED_VCPU_SHIFT    44
#define FUSED_STATUS_SHIFT  56

static inline gint64
_strata_fused_pack (guint32         thread_plus_one,
                    guint           machine,
                    int             vcpu,
                    StrataCpuStatus status)
{
  return (gint64) ((guint64) thread_plus_one
                   | ((guint64) (machine & 0xfff) << FUSED_MACHINE_SHIFT)
                   | ((guint64) ((guint) (vcpu + 1) & 0xfff) << FUSED_VCPU_SHIFT)
                   | ((guint64) (status & 0xf) << FUSED_STATUS_SHIFT));
}

static inline void
_strata_fused_unpack (gint64           value,
                      guint32         *thread_plus_one,
                      guint           *machine,
                      int             *vcpu,
                      StrataCpuStatus *status)
{
  guint64 v = (guint64) value;

  *thread_plus_one = (guint32) (v & 0xffffffffu);
  *machine = (guint) ((v >> FUSED_MACHINE_SHIFT) & 0xfff);
  *vcpu = (int) ((v >> FUSED_VCPU_SHIFT) & 0xfff) - 1;
  *status = (StrataCpuStatus) ((v >> FUSED_STATUS_SHIFT) & 0xf);
}

/* State of a vCPU: the state, the last exit's reason and ISA (+1; 0 none)
 * and, when running, the physical CPU (+1; 0 none). */
static inline gint64
_strata_vcpu_pack (StrataVcpuState state,
                   int             exit_reason,
                   guint           isa,
                   int             pcpu)
{
  guint64 reason = exit_reason >= 0 ? (guint64) (exit_reason & 0xffff) + 1 : 0;

  return (gint64) ((guint64) (state & 0xf)
                   | (reason << 8)
                   | ((guint64) (isa & 0x3) << 24)
                   | ((guint64) ((guint) (pcpu + 1) & 0xffff) << 32));
}

static inline void
_strata_vcpu_unpack (gint64           value,
                     StrataVcpuState *state,
                     int             *exit_reason,
                     guint           *isa,
                     int             *pcpu)
{
  guint64 v = (guint64) value;

  *state = (StrataVcpuState) (v & 0xf);
  *exit_reason = (int) ((v >> 8) & 0xffff) - 1;
  *isa = (guint) ((v >> 24) & 0x3);
  *pcpu = (int) ((v >> 32) & 0xffff) - 1;
}

G_END_DECLS
