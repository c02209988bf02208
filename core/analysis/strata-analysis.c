/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-analysis"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "strata-analysis.h"
#include "strata-analysis-private.h"

/*
 * A fused analysis to query: its SHT, and the machines read from it. All
 * that a query needs is in the SHT (strata-analysis-private.h), so an
 * analysed experiment answers without its traces.
 */

struct _StrataAnalysis
{
  gatomicrefcount ref_count;
  StrataSht      *sht;             /* Owned */
  GArray         *machines;        /* StrataAnalysisMachine */
  guint32         q_threads;
};

static void
machine_clear (gpointer data)
{
  StrataAnalysisMachine *m = data;

  g_free (m->name);
  g_free (m->hostname);
  g_free (m->cpu_quarks);
  g_free (m->host_tid_quarks);
}

static gboolean
read_value (StrataSht      *sht,
            guint32         parent,
            const char     *name,
            gint64          t,
            StrataShtValue *value,
            GError        **error)
{
  guint32 q = strata_sht_quark_lookup (sht, parent, name);
  StrataShtInterval interval;

  if (q == STRATA_SHT_QUARK_INVALID)
    {
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
                   "%s: not a fused analysis: no attribute %s", strata_sht_get_path (sht), name);
      return FALSE;
    }
  if (!strata_sht_query_single (sht, q, t, &interval, error))
    return FALSE;
  *value = interval.value;
  return TRUE;
}

static int
read_int (StrataSht  *sht,
          guint32     parent,
          const char *name,
          gint64      t,
          int         fallback)
{
  StrataShtValue value;

  if (!read_value (sht, parent, name, t, &value, NULL) || value.type != STRATA_SHT_VALUE_INT32)
    return fallback;
  return value.u.i32;
}

static char *
read_string (StrataSht  *sht,
             guint32     parent,
             const char *name,
             gint64      t)
{
  StrataShtValue value;

  if (!read_value (sht, parent, name, t, &value, NULL) || value.type != STRATA_SHT_VALUE_STRING)
    return g_strdup ("");
  return g_strdup (strata_sht_get_string (sht, value.u.str));
}

static StrataAnalysis *
analysis_new (StrataSht  *sht,
              GError    **error)
{
  g_autoptr(StrataAnalysis) self = g_new0 (StrataAnalysis, 1);
  gint64 t = strata_sht_get_start_time (sht);
  guint32 q_machines;

  g_atomic_ref_count_init (&self->ref_count);
  self->sht = sht;
  self->machines = g_array_new (FALSE, TRUE, sizeof (StrataAnalysisMachine));
  g_array_set_clear_func (self->machines, machine_clear);

  q_machines = strata_sht_quark_lookup (sht, STRATA_SHT_ROOT, "Machines");
  self->q_threads = strata_sht_quark_lookup (sht, STRATA_SHT_ROOT, "Threads");
  if (q_machines == STRATA_SHT_QUARK_INVALID || self->q_threads == STRATA_SHT_QUARK_INVALID)
    {
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
                   "%s: not a fused analysis: it has no machines", strata_sht_get_path (sht));
      self->sht = NULL;
      return NULL;
    }

  for (guint i = 0;; i++)
    {
      g_autofree char *index = g_strdup_printf ("%u", i);
      guint32 q = strata_sht_quark_lookup (sht, q_machines, index);
      StrataAnalysisMachine m = { 0 };
      guint32 q_cpus;
      g_autoptr(GArray) cpus = NULL;

      if (q == STRATA_SHT_QUARK_INVALID)
        break;
      m.name = read_string (sht, q, "Name", t);
      m.hostname = read_string (sht, q, "Hostname", t);
      m.kind = read_int (sht, q, "Kind", t, STRATA_MACHINE_HOST);
      m.layer = read_int (sht, q, "Layer", t, 0);
      m.parent = read_int (sht, q, "Parent", t, -1);
      m.traced = read_int (sht, q, "Trace", t, -1) >= 0;
      m.qemu_pid = read_int (sht, q, "QemuPid", t, -1);

      q_cpus = strata_sht_quark_lookup (sht, q, m.layer == 0 ? "CPUs" : "VCPUs");
      if (q_cpus != STRATA_SHT_QUARK_INVALID)
        cpus = strata_sht_quark_dup_children (sht, q_cpus);
      m.n_cpus = cpus != NULL ? cpus->len : 0;
      m.cpu_quarks = g_new0 (guint32, MAX (m.n_cpus, 1));
      m.host_tid_quarks = g_new0 (guint32, MAX (m.n_cpus, 1));
      for (guint k = 0; k < m.n_cpus; k++)
        {
          g_autofree char *name = g_strdup_printf ("%u", k);
          guint32 q_cpu = strata_sht_quark_lookup (sht, q_cpus, name);

          m.cpu_quarks[k] = q_cpu == STRATA_SHT_QUARK_INVALID ? STRATA_SHT_QUARK_INVALID
                            : strata_sht_quark_lookup (sht, q_cpu, m.layer == 0 ? "Fused" : "State");
          m.host_tid_quarks[k] = q_cpu == STRATA_SHT_QUARK_INVALID || m.layer == 0 ? STRATA_SHT_QUARK_INVALID
                                 : strata_sht_quark_lookup (sht, q_cpu, "HostTid");
        }
      g_array_append_val (self->machines, m);
    }

  return g_steal_pointer (&self);
}

/**
 * strata_analysis_open:
 * @sht_path: an SHT written by the fused analysis
 * @cache_bytes: its node cache (0: the default)
 * @error: why it cannot be used: missing, unfinished, corrupt, written by
 *   another analysis version (see #StrataShtError); the caller rebuilds it
 *
 * Returns: (transfer full): the analysis, or %NULL with @error set
 */
StrataAnalysis *
strata_analysis_open (const char  *sht_path,
                      gsize        cache_bytes,
                      GError     **error)
{
  StrataSht *sht;
  StrataAnalysis *self;

  g_return_val_if_fail (sht_path != NULL, NULL);

  sht = strata_sht_open (sht_path, STRATA_ANALYSIS_VERSION,
                         cache_bytes > 0 ? cache_bytes : STRATA_SHT_DEFAULT_CACHE_BYTES, error);
  if (sht == NULL)
    return NULL;
  self = analysis_new (sht, error);
  if (self == NULL)
    strata_sht_free (sht);
  return self;
}

/**
 * strata_analysis_new_for_sht:
 * @sht: (transfer full): an SHT of the fused analysis, finished or still
 *   being written (its machines already described)
 *
 * Wraps an SHT the caller opened or is writing: views can show an
 * analysis while it runs. The SHT is freed with the last reference.
 *
 * Returns: (transfer full): the analysis, or %NULL with @error set (the
 *   SHT is then freed)
 */
StrataAnalysis *
strata_analysis_new_for_sht (StrataSht  *sht,
                             GError    **error)
{
  StrataAnalysis *self;

  g_return_val_if_fail (sht != NULL, NULL);

  self = analysis_new (sht, error);
  if (self == NULL)
    strata_sht_free (sht);
  return self;
}

StrataAnalysis *
strata_analysis_ref (StrataAnalysis *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
strata_analysis_unref (StrataAnalysis *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_pointer (&self->machines, g_array_unref);
  g_clear_pointer (&self->sht, strata_sht_free);
  g_free (self);
}

StrataSht *
strata_analysis_get_sht (StrataAnalysis *self)
{
  return self->sht;
}

gint64
strata_analysis_get_start_time (StrataAnalysis *self)
{
  return strata_sht_get_start_time (self->sht);
}

gint64
strata_analysis_get_end_time (StrataAnalysis *self)
{
  return strata_sht_get_end_time (self->sht);
}

guint
strata_analysis_get_n_machines (StrataAnalysis *self)
{
  return self->machines->len;
}

const StrataAnalysisMachine *
strata_analysis_get_machine (StrataAnalysis *self,
                             guint           index)
{
  g_return_val_if_fail (index < self->machines->len, NULL);
  return &g_array_index (self->machines, StrataAnalysisMachine, index);
}

int
strata_analysis_find_machine (StrataAnalysis *self,
                              const char     *name)
{
  for (guint i = 0; i < self->machines->len; i++)
    if (g_strcmp0 (g_array_index (self->machines, StrataAnalysisMachine, i).name, name) == 0)
      return (int) i;
  return -1;
}

void
strata_thread_info_clear (StrataThreadInfo *info)
{
  g_clear_pointer (&info->comm, g_free);
}

/**
 * strata_analysis_get_thread:
 * @thread_index: a thread, as the SHT numbers them
 * @t: when
 * @info: (out caller-allocates): filled; clear it with
 *   strata_thread_info_clear()
 *
 * Returns: %FALSE with @error set if the thread is not in the analysis
 */
gboolean
strata_analysis_get_thread (StrataAnalysis   *self,
                            guint32           thread_index,
                            gint64            t,
                            StrataThreadInfo *info,
                            GError          **error)
{
  g_autofree char *name = g_strdup_printf ("%u", thread_index);
  guint32 q = strata_sht_quark_lookup (self->sht, self->q_threads, name);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;

  memset (info, 0, sizeof *info);
  info->tid = -1;
  info->pid = -1;
  info->vtid = -1;
  if (q == STRATA_SHT_QUARK_INVALID)
    {
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_INVALID_QUARK,
                   "%s: no thread %u", strata_sht_get_path (self->sht), thread_index);
      return FALSE;
    }
  text = read_string (self->sht, q, "Info", t);
  fields = g_strsplit (text, "\t", 0);
  if (g_strv_length (fields) < 6)
    {
      g_set_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT,
                   "%s: thread %u has no identity at %" G_GINT64_FORMAT,
                   strata_sht_get_path (self->sht), thread_index, t);
      return FALSE;
    }
  info->machine = atoi (fields[0]);
  info->tid = atoi (fields[1]);
  info->pid = atoi (fields[2]);
  info->vtid = g_str_equal (fields[4], "-") ? -1 : atoi (fields[4]);
  info->container = g_str_equal (fields[5], "-") ? 0 : g_ascii_strtoull (fields[5], NULL, 10);
  info->comm = read_string (self->sht, q, "Comm", t);
  return TRUE;
}

/**
 * strata_analysis_get_n_threads:
 *
 * Returns: the threads met so far (indexes 0 to n − 1)
 */
guint
strata_analysis_get_n_threads (StrataAnalysis *self)
{
  g_autoptr(GArray) children = strata_sht_quark_dup_children (self->sht, self->q_threads);

  return children != NULL ? children->len : 0;
}

/**
 * strata_analysis_get_thread_status:
 * @thread_index: a thread
 * @t: when
 *
 * Returns: its status at @t, as its own kernel sees it, except that a
 *   guest thread believed running is %STRATA_THREAD_PREEMPTED_BY_HOST or
 *   %STRATA_THREAD_IN_HYPERVISOR when its vCPU is not executing
 */
StrataThreadStatus
strata_analysis_get_thread_status (StrataAnalysis *self,
                                   guint32         thread_index,
                                   gint64          t)
{
  g_autofree char *name = g_strdup_printf ("%u", thread_index);
  guint32 q = strata_sht_quark_lookup (self->sht, self->q_threads, name);

  if (q == STRATA_SHT_QUARK_INVALID)
    return STRATA_THREAD_UNKNOWN;
  return (StrataThreadStatus) read_int (self->sht, q, "Status", t, STRATA_THREAD_UNKNOWN);
}

static void
cpu_sample_clear (gpointer data)
{
  strata_thread_info_clear (&((StrataCpuSample *) data)->thread);
}

/**
 * strata_analysis_query_cpus:
 * @t: a time in the reference clock, within the analysis
 *
 * Returns: (transfer full) (element-type StrataCpuSample): what every
 *   physical CPU of every host executes at @t, or %NULL with @error set
 */
GArray *
strata_analysis_query_cpus (StrataAnalysis  *self,
                            gint64           t,
                            GError         **error)
{
  g_autoptr(GArray) samples = g_array_new (FALSE, TRUE, sizeof (StrataCpuSample));

  g_array_set_clear_func (samples, cpu_sample_clear);
  for (guint i = 0; i < self->machines->len; i++)
    {
      const StrataAnalysisMachine *m = &g_array_index (self->machines, StrataAnalysisMachine, i);

      if (m->layer != 0)
        continue;
      for (guint k = 0; k < m->n_cpus; k++)
        {
          StrataCpuSample sample = { 0 };
          StrataShtInterval interval;
          guint32 thread_plus_one = 0;
          guint machine = i;

          sample.host = (int) i;
          sample.cpu = k;
          sample.machine = (int) i;
          sample.vcpu = -1;
          sample.thread.tid = -1;
          sample.thread.pid = -1;
          sample.thread.vtid = -1;
          if (!strata_sht_query_single (self->sht, m->cpu_quarks[k], t, &interval, error))
            return NULL;
          if (interval.value.type == STRATA_SHT_VALUE_INT64)
            {
              _strata_fused_unpack (interval.value.u.i64, &thread_plus_one, &machine, &sample.vcpu,
                                    &sample.status);
              sample.machine = (int) machine;
            }
          if (thread_plus_one > 0
              && !strata_analysis_get_thread (self, thread_plus_one - 1, t, &sample.thread, error))
            return NULL;
          g_array_append_val (samples, sample);
        }
    }
  return g_steal_pointer (&samples);
}

/**
 * strata_analysis_query_vcpus:
 * @t: a time in the reference clock, within the analysis
 *
 * Returns: (transfer full) (element-type StrataVcpuSample): the state of
 *   every vCPU of every VM at @t, or %NULL with @error set
 */
GArray *
strata_analysis_query_vcpus (StrataAnalysis  *self,
                             gint64           t,
                             GError         **error)
{
  g_autoptr(GArray) samples = g_array_new (FALSE, TRUE, sizeof (StrataVcpuSample));

  for (guint i = 0; i < self->machines->len; i++)
    {
      const StrataAnalysisMachine *m = &g_array_index (self->machines, StrataAnalysisMachine, i);

      if (m->layer == 0)
        continue;
      for (guint k = 0; k < m->n_cpus; k++)
        {
          StrataVcpuSample sample = { 0 };
          StrataShtInterval interval;

          sample.machine = (int) i;
          sample.vcpu = k;
          sample.host_tid = -1;
          sample.pcpu = -1;
          sample.exit_reason = -1;
          if (!strata_sht_query_single (self->sht, m->cpu_quarks[k], t, &interval, error))
            return NULL;
          if (interval.value.type == STRATA_SHT_VALUE_INT64)
            _strata_vcpu_unpack (interval.value.u.i64, &sample.state, &sample.exit_reason, &sample.isa,
                                 &sample.pcpu);
          if (m->host_tid_quarks[k] != STRATA_SHT_QUARK_INVALID)
            {
              if (!strata_sht_query_single (self->sht, m->host_tid_quarks[k], t, &interval, error))
                return NULL;
              if (interval.value.type == STRATA_SHT_VALUE_INT32)
                sample.host_tid = interval.value.u.i32;
            }
          g_array_append_val (samples, sample);
        }
    }
  return g_steal_pointer (&samples);
}

static void
add_int_or_null (JsonBuilder *b,
                 const char  *name,
                 gint64       value,
                 gboolean     present)
{
  json_builder_set_member_name (b, name);
  if (present)
    json_builder_add_int_value (b, value);
  else
    json_builder_add_null_value (b);
}

/**
 * strata_analysis_query_json:
 * @times: (array length=n_times): times in the reference clock
 *
 * Returns: (transfer full): what `strata-cli query --json` prints (see
 *   DESIGN.md and app/cli/README.md), or %NULL with @error set
 */
JsonNode *
strata_analysis_query_json (StrataAnalysis  *self,
                            const gint64    *times,
                            guint            n_times,
                            GError         **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint n = 0; n < n_times; n++)
    {
      gint64 t = times[n];
      g_autoptr(GArray) cpus = strata_analysis_query_cpus (self, t, error);
      g_autoptr(GArray) vcpus = NULL;

      if (cpus == NULL)
        return NULL;
      vcpus = strata_analysis_query_vcpus (self, t, error);
      if (vcpus == NULL)
        return NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "t");
      json_builder_add_int_value (b, t);
      json_builder_set_member_name (b, "cpus");
      json_builder_begin_array (b);
      for (guint i = 0; i < cpus->len; i++)
        {
          const StrataCpuSample *s = &g_array_index (cpus, StrataCpuSample, i);
          const StrataAnalysisMachine *m = strata_analysis_get_machine (self, (guint) s->machine);
          gboolean known = s->thread.tid >= 0;

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "host");
          json_builder_add_string_value (b, strata_analysis_get_machine (self, (guint) s->host)->name);
          json_builder_set_member_name (b, "cpu");
          json_builder_add_int_value (b, s->cpu);
          json_builder_set_member_name (b, "machine");
          json_builder_add_string_value (b, m->name);
          json_builder_set_member_name (b, "layer");
          json_builder_add_int_value (b, m->layer);
          add_int_or_null (b, "vcpu", s->vcpu, s->vcpu >= 0);
          add_int_or_null (b, "tid", s->thread.tid, known);
          json_builder_set_member_name (b, "comm");
          if (known)
            json_builder_add_string_value (b, s->thread.comm);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "container");
          if (known && s->thread.container != 0)
            {
              g_autofree char *inum = g_strdup_printf ("%" G_GUINT64_FORMAT, s->thread.container);

              json_builder_add_string_value (b, inum);
            }
          else
            json_builder_add_null_value (b);
          add_int_or_null (b, "vtid", s->thread.vtid, known && s->thread.container != 0);
          json_builder_set_member_name (b, "status");
          json_builder_add_string_value (b, strata_cpu_status_to_query (s->status));
          json_builder_set_member_name (b, "detail");
          json_builder_add_string_value (b, strata_cpu_status_to_string (s->status));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);

      json_builder_set_member_name (b, "vcpus");
      json_builder_begin_array (b);
      for (guint i = 0; i < vcpus->len; i++)
        {
          const StrataVcpuSample *s = &g_array_index (vcpus, StrataVcpuSample, i);
          const StrataAnalysisMachine *m = strata_analysis_get_machine (self, (guint) s->machine);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "machine");
          json_builder_add_string_value (b, m->name);
          json_builder_set_member_name (b, "layer");
          json_builder_add_int_value (b, m->layer);
          json_builder_set_member_name (b, "vcpu");
          json_builder_add_int_value (b, s->vcpu);
          json_builder_set_member_name (b, "state");
          json_builder_add_string_value (b, strata_vcpu_state_to_string (s->state));
          add_int_or_null (b, "host_tid", s->host_tid, s->host_tid >= 0);
          add_int_or_null (b, "pcpu", s->pcpu, s->pcpu >= 0);
          json_builder_set_member_name (b, "exit_reason");
          if (s->exit_reason >= 0)
            json_builder_add_string_value (b, strata_exit_reason_to_string ((guint) s->exit_reason, s->isa));
          else
            json_builder_add_null_value (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}
