/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "strata-sim.h"
#include "strata-test-utils.h"
#include "strata-trace-reader.h"

/*
 * The multilayer simulator, judged on what it writes: the traces (read
 * with Strata's reader, and decoded by the babeltrace2 CLI), the ground
 * truth and scenario.json. Nothing here looks at the simulator's
 * internals: the invariants are those a real multilayer system has, read
 * from the output files, so that a broken engine shows up as a failed
 * check naming the event, the machine, the CPU and the time.
 *
 * Each check is a function that returns a description of the first
 * violation it finds (NULL: none), so that .../checks-can-fail can break
 * a run on purpose and see each check catch it.
 *
 * Simulations are short (100-200 ms of simulated time) and each is made
 * once: the tests of one run are registered in one suite and share it.
 * The shared runs use seed 1; STRATA_TEST_SIM_SEED=N tries another.
 */

#define MS          G_GINT64_CONSTANT (1000000)
#define DURATION_NS (200 * MS)
#define N_SAMPLES   200
/* Sampled instants this close to a ground-truth row boundary are skipped:
 * a guest clock maps two host nanoseconds onto one now and then, so what
 * happens at a boundary may be on either side once mapped. */
#define MARGIN_NS   4
#define OPEN_END    G_MAXINT64

/* ---------------------------------------------------------------------- */
/* Traces                                                                 */
/* ---------------------------------------------------------------------- */

typedef struct
{
  gint64 ts;
  gint32 prev_tid;
  gint32 next_tid;
} Switch;

/* An event a hypervisor CPU wrote between a kvm_entry and the next
 * kvm_exit */
typedef struct
{
  guint  index;         /* in events */
  gint64 entry_ts;
} InGuestMode;

/* A hypervisor thread in guest mode: from its kvm_entry to the next
 * kvm_exit on that CPU. */
typedef struct
{
  gint64 start;
  gint64 end;        /* OPEN_END: still in guest mode when the trace ends */
  guint  cpu;
  gint64 vcpu_id;    /* kvm_entry's */
} Window;

typedef struct
{
  StrataTraceInfo *info;
  GArray          *events;         /* StrataEvent; h[0] 0, h[1] of a fork: 1 + index in arrays */
  GPtrArray       *arrays;         /* GArray of gint32: the forks' vtids */
  guint            n_cpus;
  GArray         **by_cpu;         /* guint: indexes in events, per CPU */
  GArray         **switches;       /* Switch, per CPU */
  GHashTable      *windows;        /* tid → GArray of Window, by start */
  char            *windows_error;  /* the first kvm_entry/kvm_exit out of place */
  GArray          *in_guest_mode;  /* InGuestMode: events a CPU wrote while in guest mode */
  char            *cpu_error;      /* the first event on a CPU the machine has not */
} Trace;

static void
trace_free (Trace *tr)
{
  if (tr == NULL)
    return;
  g_clear_pointer (&tr->info, strata_trace_info_unref);
  g_array_unref (tr->events);
  g_ptr_array_unref (tr->arrays);
  for (guint c = 0; c < tr->n_cpus; c++)
    {
      g_array_unref (tr->by_cpu[c]);
      g_array_unref (tr->switches[c]);
    }
  g_free (tr->by_cpu);
  g_free (tr->switches);
  g_hash_table_unref (tr->windows);
  g_free (tr->windows_error);
  g_array_unref (tr->in_guest_mode);
  g_free (tr->cpu_error);
  g_free (tr);
}

static gboolean
collect_cb (StrataEventBatch **batch,
            gpointer           user_data)
{
  Trace *tr = user_data;

  for (guint i = 0; i < (*batch)->n_events; i++)
    {
      StrataEvent ev = (*batch)->events[i];

      if (ev.kind == STRATA_EVENT_SCHED_PROCESS_FORK && ev.h[1] != 0)
        {
          guint len;
          const gint32 *values = strata_event_batch_get_int_array (*batch, ev.h[1], &len);
          GArray *vtids = g_array_sized_new (FALSE, FALSE, sizeof (gint32), len);

          g_array_append_vals (vtids, values, len);
          g_ptr_array_add (tr->arrays, vtids);
          ev.h[1] = tr->arrays->len;
        }
      else
        {
          ev.h[1] = 0;
        }
      ev.h[0] = 0;
      g_array_append_val (tr->events, ev);
    }
  return TRUE;
}

static const GArray *
fork_vtids (const Trace       *tr,
            const StrataEvent *ev)
{
  return ev->h[1] != 0 ? g_ptr_array_index (tr->arrays, ev->h[1] - 1) : NULL;
}

static const char *
kind_name (const StrataEvent *ev)
{
  return strata_event_kind_to_string (ev->kind);
}

static void
set_error (char       **error,
           const char  *format,
           ...) G_GNUC_PRINTF (2, 3);

static void
set_error (char       **error,
           const char  *format,
           ...)
{
  va_list args;

  if (*error != NULL)
    return;
  va_start (args, format);
  *error = g_strdup_vprintf (format, args);
  va_end (args);
}

/* Guest-mode windows, per thread, from sched_switch (who runs) and
 * kvm_entry/kvm_exit; what should never be (an entry while in guest mode,
 * an exit outside it); and the other events of a CPU in guest mode, which
 * check_guest_mode () judges. */
static void
build_windows (Trace      *tr,
               const char *machine)
{
  g_autofree gint32 *curr = g_new (gint32, tr->n_cpus);
  g_autofree GArray **open = g_new0 (GArray *, tr->n_cpus);

  for (guint c = 0; c < tr->n_cpus; c++)
    curr[c] = -1;

  for (guint i = 0; i < tr->events->len; i++)
    {
      const StrataEvent *ev = &g_array_index (tr->events, StrataEvent, i);
      guint c = ev->cpu;

      if (c >= tr->n_cpus || ev->kind == STRATA_EVENT_LOST)
        continue;

      if (ev->kind == STRATA_EVENT_KVM_ENTRY)
        {
          Window w = { ev->ts, OPEN_END, c, ev->v[0] };
          GArray *list;

          if (open[c] != NULL)
            set_error (&tr->windows_error, "%s: CPU %u: kvm_entry at %" G_GINT64_FORMAT
                       " while already in guest mode", machine, c, ev->ts);
          if (curr[c] < 0)
            set_error (&tr->windows_error, "%s: CPU %u: kvm_entry at %" G_GINT64_FORMAT
                       " before any sched_switch says which thread runs", machine, c, ev->ts);
          list = g_hash_table_lookup (tr->windows, GINT_TO_POINTER (curr[c]));
          if (list == NULL)
            {
              list = g_array_new (FALSE, FALSE, sizeof (Window));
              g_hash_table_insert (tr->windows, GINT_TO_POINTER (curr[c]), list);
            }
          g_array_append_val (list, w);
          open[c] = list;
        }
      else if (ev->kind == STRATA_EVENT_KVM_EXIT)
        {
          if (open[c] == NULL)
            set_error (&tr->windows_error, "%s: CPU %u: kvm_exit (reason %" G_GINT64_FORMAT ") at %"
                       G_GINT64_FORMAT " without a kvm_entry before it", machine, c, ev->v[0], ev->ts);
          else
            g_array_index (open[c], Window, open[c]->len - 1).end = ev->ts;
          open[c] = NULL;
        }
      else
        {
          if (open[c] != NULL)
            {
              InGuestMode g = { i, g_array_index (open[c], Window, open[c]->len - 1).start };
              g_array_append_val (tr->in_guest_mode, g);
            }
          if (ev->kind == STRATA_EVENT_SCHED_SWITCH)
            curr[c] = (gint32) ev->v[3];
        }
    }
}

/* Builds the windows again, after a test changed the events */
static void
rebuild_windows (Trace      *tr,
                 const char *machine)
{
  g_hash_table_remove_all (tr->windows);
  g_array_set_size (tr->in_guest_mode, 0);
  g_clear_pointer (&tr->windows_error, g_free);
  build_windows (tr, machine);
}

static Trace *
trace_load (const char *path,
            const char *machine,
            guint       n_cpus)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = NULL;
  Trace *tr = g_new0 (Trace, 1);
  gboolean ok;

  tr->events = g_array_new (FALSE, FALSE, sizeof (StrataEvent));
  tr->arrays = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  tr->n_cpus = n_cpus;
  tr->by_cpu = g_new (GArray *, n_cpus);
  tr->switches = g_new (GArray *, n_cpus);
  for (guint c = 0; c < n_cpus; c++)
    {
      tr->by_cpu[c] = g_array_new (FALSE, FALSE, sizeof (guint));
      tr->switches[c] = g_array_new (FALSE, FALSE, sizeof (Switch));
    }
  tr->windows = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_array_unref);
  tr->in_guest_mode = g_array_new (FALSE, FALSE, sizeof (InGuestMode));

  reader = strata_trace_reader_new (path, &error);
  g_assert_no_error (error);
  ok = strata_trace_reader_run (reader, collect_cb, tr, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  tr->info = strata_trace_info_ref (strata_trace_reader_get_info (reader));

  for (guint i = 0; i < tr->events->len; i++)
    {
      const StrataEvent *ev = &g_array_index (tr->events, StrataEvent, i);

      if (ev->cpu >= n_cpus)
        {
          set_error (&tr->cpu_error, "%s: %s at %" G_GINT64_FORMAT " on CPU %u, but the machine has %u",
                     machine, kind_name (ev), ev->ts, ev->cpu, n_cpus);
          continue;
        }
      g_array_append_val (tr->by_cpu[ev->cpu], i);
      if (ev->kind == STRATA_EVENT_SCHED_SWITCH)
        {
          Switch s = { ev->ts, (gint32) ev->v[0], (gint32) ev->v[3] };
          g_array_append_val (tr->switches[ev->cpu], s);
        }
    }

  build_windows (tr, machine);
  return tr;
}

/* The thread that runs on @cpu at @ts (the trace's clock) as its
 * sched_switch events say: the last one's next_tid, or before the first,
 * its prev_tid. -1: the trace does not say (no switch on that CPU). */
static gint32
current_tid (const Trace *tr,
             guint        cpu,
             gint64       ts)
{
  const GArray *sw = tr->switches[cpu];
  guint lo = 0, hi = sw->len;

  if (sw->len == 0)
    return -1;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (g_array_index (sw, Switch, mid).ts <= ts)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo == 0 ? g_array_index (sw, Switch, 0).prev_tid : g_array_index (sw, Switch, lo - 1).next_tid;
}

/* ---------------------------------------------------------------------- */
/* A run: scenario.json, ground-truth.tsv, traces                         */
/* ---------------------------------------------------------------------- */

typedef struct
{
  char    *name;
  guint32  inum;
  guint    level;
} Container;

typedef struct _Machine Machine;
struct _Machine
{
  char     *name;
  char     *hostname;
  int       layer;
  Machine  *parent;
  char     *trace_path;    /* NULL: not traced */
  guint     n_cpus;
  char     *clock_uuid;
  gint64    ctf_offset_ns;
  gint64    offset_ns;
  double    drift_ppm;
  gint64    ref_ns;
  guint64   vm_uid;
  GArray   *host_tids;     /* gint32, by vCPU: its thread in the parent */
  GArray   *containers;    /* Container */
  GArray  **vcpu_rows;     /* Row, by start, per vCPU */
  Trace    *trace;
};

typedef enum
{
  ST_USER,
  ST_KERNEL,
  ST_IDLE,
  ST_VMM,
  ST_RUNNING,
  ST_PREEMPTED,
  ST_UNKNOWN,
} Status;

static const char * const status_names[] = { "user", "kernel", "idle", "vmm", "running", "preempted", "?" };

typedef struct
{
  gboolean  pcpu;        /* a pcpu row, else a vcpu row */
  int       cpu;         /* -1: "-" */
  gint64    start;
  gint64    end;
  Machine  *machine;     /* NULL: a name scenario.json does not have */
  int       layer;
  int       vcpu;        /* -1: "-" */
  gint32    tid;
  gint32    vtid;        /* -1: "-" */
  gint64    container;   /* -1: "-" */
  Status    status;
  guint     line;
} Row;

typedef struct
{
  char             *dir;
  guint             n_pcpus;
  StrataSimOptions  options;
  StrataSimStats    stats;
  GPtrArray        *machines;    /* Machine; [0] the host */
  GArray           *rows;        /* Row, as in the file */
  GArray          **pcpu_rows;   /* Row, by start, per host CPU */
  char             *truth_error; /* a line that does not parse */
  gint64            start_ns;
  gint64            end_ns;
  gboolean          has_lost_window;
  gint64            lost_start_ns;
  gint64            lost_end_ns;
} Run;

static void
machine_free (gpointer data)
{
  Machine *m = data;

  g_free (m->name);
  g_free (m->hostname);
  g_free (m->trace_path);
  g_free (m->clock_uuid);
  g_array_unref (m->host_tids);
  for (guint i = 0; i < m->containers->len; i++)
    g_free (g_array_index (m->containers, Container, i).name);
  g_array_unref (m->containers);
  if (m->vcpu_rows != NULL)
    for (guint v = 0; v < m->n_cpus; v++)
      g_array_unref (m->vcpu_rows[v]);
  g_free (m->vcpu_rows);
  trace_free (m->trace);
  g_free (m);
}


static void
run_free (Run *run)
{
  if (run == NULL)
    return;
  if (run->pcpu_rows != NULL)
    for (guint c = 0; c < run->n_pcpus; c++)
      g_array_unref (run->pcpu_rows[c]);
  g_free (run->pcpu_rows);
  g_clear_pointer (&run->rows, g_array_unref);
  g_clear_pointer (&run->machines, g_ptr_array_unref);
  strata_test_rmtree (run->dir);
  g_free (run->dir);
  g_free (run->truth_error);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, run_free)

static Machine *
run_host (const Run *run)
{
  return g_ptr_array_index (run->machines, 0);
}

static Machine *
find_machine (const Run  *run,
              const char *name)
{
  for (guint i = 0; i < run->machines->len; i++)
    {
      Machine *m = g_ptr_array_index (run->machines, i);

      if (g_str_equal (m->name, name))
        return m;
    }
  return NULL;
}

static gboolean
has_children (const Run     *run,
              const Machine *m)
{
  for (guint i = 0; i < run->machines->len; i++)
    if (((Machine *) g_ptr_array_index (run->machines, i))->parent == m)
      return TRUE;
  return FALSE;
}

static gint32
host_tid (const Machine *guest,
          guint          vcpu)
{
  g_assert (vcpu < guest->host_tids->len);
  return g_array_index (guest->host_tids, gint32, vcpu);
}

/* The vCPU of @guest that thread @tid (of its parent) runs, or -1. */
static int
vcpu_of_thread (const Machine *guest,
                gint32         tid)
{
  for (guint v = 0; v < guest->host_tids->len; v++)
    if (g_array_index (guest->host_tids, gint32, v) == tid)
      return (int) v;
  return -1;
}

/* The guest of @hv whose vCPU thread @tid is, and which vCPU. */
static Machine *
guest_of_thread (const Run     *run,
                 const Machine *hv,
                 gint32         tid,
                 int           *vcpu)
{
  for (guint i = 0; i < run->machines->len; i++)
    {
      Machine *g = g_ptr_array_index (run->machines, i);

      if (g->parent == hv && (*vcpu = vcpu_of_thread (g, tid)) >= 0)
        return g;
    }
  *vcpu = -1;
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Clocks: scenario.json's formula, applied level by level               */
/* ---------------------------------------------------------------------- */

static gint64
clock_from_parent (const Machine *m,
                   gint64         t_parent)
{
  return t_parent + m->offset_ns
         + (gint64) llround ((double) (t_parent - m->ref_ns) * m->drift_ppm * 1e-6);
}

/* @t on @from's clock, on @to's: @from is @to or one of its ancestors. */
static gint64
map_clock (const Machine *from,
           const Machine *to,
           gint64         t)
{
  if (to == from || t == OPEN_END)
    return t;
  g_assert (to->parent != NULL);
  return clock_from_parent (to, map_clock (from, to->parent, t));
}

/* Milliseconds since the start of the simulation, for messages. */
static double
rel_ms (const Run     *run,
        const Machine *m,
        gint64         ts)
{
  return (double) (ts - map_clock (run_host (run), m, run->start_ns)) / 1e6;
}

/* The guest-mode window of @hv's thread @tid that contains @t, a time on
 * @target's clock (@hv or a machine it runs, directly or not): the
 * window's bounds are mapped there, never @t back. */
static const Window *
find_window (const Machine *hv,
             gint32         tid,
             const Machine *target,
             gint64         t)
{
  const GArray *list;
  const Window *w;
  guint lo = 0, hi;

  g_assert (hv->trace != NULL);
  list = g_hash_table_lookup (hv->trace->windows, GINT_TO_POINTER (tid));
  if (list == NULL)
    return NULL;

  /* The last window that starts at or before t */
  hi = list->len;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (map_clock (hv, target, g_array_index (list, Window, mid).start) <= t)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == 0)
    return NULL;
  w = &g_array_index (list, Window, lo - 1);
  return w->end == OPEN_END || map_clock (hv, target, w->end) >= t ? w : NULL;
}

/* ---------------------------------------------------------------------- */
/* Loading a run                                                          */
/* ---------------------------------------------------------------------- */

static const char *
json_string_or_null (JsonObject *o,
                     const char *member)
{
  JsonNode *node = json_object_get_member (o, member);

  g_assert_nonnull (node);
  return JSON_NODE_HOLDS_NULL (node) ? NULL : json_node_get_string (node);
}

static void
load_scenario (Run *run)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *path = g_build_filename (run->dir, "scenario.json", NULL);
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *machines;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  run->start_ns = json_object_get_int_member (root, "start_ns");
  run->end_ns = json_object_get_int_member (root, "end_ns");
  if (json_object_has_member (root, "lost_events_window"))
    {
      JsonObject *w = json_object_get_object_member (root, "lost_events_window");

      run->has_lost_window = TRUE;
      run->lost_start_ns = json_object_get_int_member (w, "start_ns");
      run->lost_end_ns = json_object_get_int_member (w, "end_ns");
    }

  machines = json_object_get_array_member (root, "machines");
  for (guint i = 0; i < json_array_get_length (machines); i++)
    {
      JsonObject *o = json_array_get_object_element (machines, i);
      JsonObject *clock = json_object_get_object_member (o, "clock");
      JsonArray *containers = json_object_get_array_member (o, "containers");
      Machine *m = g_new0 (Machine, 1);
      const char *parent = json_string_or_null (o, "parent");
      const char *trace = json_string_or_null (o, "trace");

      m->name = g_strdup (json_object_get_string_member (o, "name"));
      m->hostname = g_strdup (json_object_get_string_member (o, "hostname"));
      m->layer = (int) json_object_get_int_member (o, "layer");
      /* Parents come before the machines they run */
      m->parent = parent != NULL ? find_machine (run, parent) : NULL;
      g_assert_true (parent == NULL || m->parent != NULL);
      m->trace_path = trace != NULL ? g_build_filename (run->dir, trace, NULL) : NULL;
      m->n_cpus = (guint) json_object_get_int_member (o, "cpus");
      m->clock_uuid = g_strdup (json_object_get_string_member (clock, "uuid"));
      m->ctf_offset_ns = json_object_get_int_member (clock, "ctf_offset_ns");
      m->offset_ns = json_object_get_int_member (clock, "offset_ns");
      m->drift_ppm = json_object_get_double_member (clock, "drift_ppm");
      m->ref_ns = json_object_get_int_member (clock, "reference_ns");
      m->host_tids = g_array_new (FALSE, FALSE, sizeof (gint32));
      m->containers = g_array_new (FALSE, FALSE, sizeof (Container));

      if (json_object_has_member (o, "vm_uid"))
        {
          JsonArray *vcpus = json_object_get_array_member (o, "vcpus");

          m->vm_uid = g_ascii_strtoull (json_object_get_string_member (o, "vm_uid"), NULL, 10);
          for (guint v = 0; v < json_array_get_length (vcpus); v++)
            {
              JsonObject *vo = json_array_get_object_element (vcpus, v);
              gint32 tid = (gint32) json_object_get_int_member (vo, "host_tid");

              g_assert_cmpint (json_object_get_int_member (vo, "vcpu"), ==, v);
              g_array_append_val (m->host_tids, tid);
            }
          g_assert_cmpuint (m->host_tids->len, ==, m->n_cpus);
        }

      for (guint k = 0; k < json_array_get_length (containers); k++)
        {
          JsonObject *co = json_array_get_object_element (containers, k);
          Container ct = {
            g_strdup (json_object_get_string_member (co, "name")),
            (guint32) json_object_get_int_member (co, "pid_ns_inum"),
            (guint) json_object_get_int_member (co, "level"),
          };

          g_array_append_val (m->containers, ct);
        }

      m->vcpu_rows = g_new (GArray *, m->n_cpus);
      for (guint v = 0; v < m->n_cpus; v++)
        m->vcpu_rows[v] = g_array_new (FALSE, FALSE, sizeof (Row));
      g_ptr_array_add (run->machines, m);
    }
  g_assert_cmpuint (run->machines->len, >, 0);
  g_assert_cmpint (run_host (run)->layer, ==, 0);
}

static gboolean
parse_int_or_dash (const char *s,
                   gint64     *out)
{
  if (g_str_equal (s, "-"))
    {
      *out = -1;
      return TRUE;
    }
  return g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, out, NULL);
}

static int
compare_rows (gconstpointer a,
              gconstpointer b)
{
  const Row *ra = a, *rb = b;

  return ra->start < rb->start ? -1 : ra->start > rb->start;
}

static const char truth_columns[] = "record\tcpu\tstart\tend\tmachine\tlayer\tvcpu\ttid\tvtid\tcontainer\tstatus";

/* ground-truth.tsv, parsed by hand: under ASan with strict string checks,
 * libc's string functions measure the whole rest of the file at each
 * call, which is quadratic. */
static void
load_truth (Run *run)
{
  g_autofree char *path = g_build_filename (run->dir, "ground-truth.tsv", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GString) line = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  gboolean header = FALSE;
  guint line_no = 0;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);

  run->rows = g_array_new (FALSE, FALSE, sizeof (Row));
  run->n_pcpus = run_host (run)->n_cpus;
  run->pcpu_rows = g_new (GArray *, run->n_pcpus);
  for (guint c = 0; c < run->n_pcpus; c++)
    run->pcpu_rows[c] = g_array_new (FALSE, FALSE, sizeof (Row));

  for (const char *next = text; *next != '\0';)
    {
      const char *end = next;
      char *fields[12];
      guint n_fields = 0;
      gint64 values[6];
      Row row = { 0 };

      while (*end != '\0' && *end != '\n')
        end++;
      g_string_truncate (line, 0);
      g_string_append_len (line, next, end - next);
      next = *end != '\0' ? end + 1 : end;
      line_no++;

      if (line->len == 0 || line->str[0] == '#')
        continue;
      if (!header)
        {
          if (!g_str_equal (line->str, truth_columns))
            set_error (&run->truth_error, "ground-truth.tsv: line %u: the column names are \"%s\", not \"%s\"",
                       line_no, line->str, truth_columns);
          header = TRUE;
          continue;
        }

      fields[n_fields++] = line->str;
      for (char *p = line->str; *p != '\0'; p++)
        if (*p == '\t')
          {
            *p = '\0';
            if (n_fields < G_N_ELEMENTS (fields))
              fields[n_fields++] = p + 1;
          }
      if (n_fields != 11)
        {
          set_error (&run->truth_error, "ground-truth.tsv: line %u has %u columns, not 11", line_no, n_fields);
          continue;
        }

      row.line = line_no;
      row.pcpu = g_str_equal (fields[0], "pcpu");
      if (!row.pcpu && !g_str_equal (fields[0], "vcpu"))
        set_error (&run->truth_error, "ground-truth.tsv: line %u: record \"%s\"", line_no, fields[0]);
      if (!parse_int_or_dash (fields[1], &values[0]) || !parse_int_or_dash (fields[2], &row.start)
          || !parse_int_or_dash (fields[3], &row.end) || !parse_int_or_dash (fields[5], &values[1])
          || !parse_int_or_dash (fields[6], &values[2]) || !parse_int_or_dash (fields[7], &values[3])
          || !parse_int_or_dash (fields[8], &values[4]) || !parse_int_or_dash (fields[9], &values[5]))
        {
          set_error (&run->truth_error, "ground-truth.tsv: line %u: a number does not parse", line_no);
          continue;
        }
      row.cpu = (int) values[0];
      row.layer = (int) values[1];
      row.vcpu = (int) values[2];
      row.tid = (gint32) values[3];
      row.vtid = (gint32) values[4];
      row.container = values[5];
      row.machine = find_machine (run, fields[4]);
      row.status = ST_UNKNOWN;
      for (guint s = 0; s < ST_UNKNOWN; s++)
        if (g_str_equal (fields[10], status_names[s]))
          row.status = s;

      g_array_append_val (run->rows, row);
      if (row.pcpu && row.cpu >= 0 && (guint) row.cpu < run->n_pcpus)
        g_array_append_val (run->pcpu_rows[row.cpu], row);
      else if (!row.pcpu && row.machine != NULL && row.vcpu >= 0 && (guint) row.vcpu < row.machine->n_cpus)
        g_array_append_val (row.machine->vcpu_rows[row.vcpu], row);
    }

  if (!header)
    set_error (&run->truth_error, "ground-truth.tsv: no column names");

  for (guint c = 0; c < run->n_pcpus; c++)
    g_array_sort (run->pcpu_rows[c], compare_rows);
  for (guint i = 0; i < run->machines->len; i++)
    {
      Machine *m = g_ptr_array_index (run->machines, i);

      for (guint v = 0; v < m->n_cpus; v++)
        g_array_sort (m->vcpu_rows[v], compare_rows);
    }
}

/* The row of @rows (sorted, tiling) that holds @t */
static const Row *
row_at (const GArray *rows,
        gint64        t)
{
  guint lo = 0, hi = rows->len;
  const Row *r;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (g_array_index (rows, Row, mid).start <= t)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == 0)
    return NULL;
  r = &g_array_index (rows, Row, lo - 1);
  return t < r->end ? r : NULL;
}

static gboolean
near_boundary (const Row *r,
               gint64     t)
{
  return t - r->start < MARGIN_NS || r->end - t <= MARGIN_NS;
}

static Run *
run_new (const StrataSimOptions *options,
         const char             *dir)
{
  g_autoptr(GError) error = NULL;
  Run *run = g_new0 (Run, 1);
  gboolean ok;

  run->dir = g_strdup (dir);
  run->options = *options;
  ok = strata_sim_run (options, dir, NULL, NULL, NULL, &run->stats, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  run->machines = g_ptr_array_new_with_free_func (machine_free);
  load_scenario (run);
  load_truth (run);
  for (guint i = 0; i < run->machines->len; i++)
    {
      Machine *m = g_ptr_array_index (run->machines, i);

      if (m->trace_path != NULL)
        m->trace = trace_load (m->trace_path, m->name, m->n_cpus);
    }
  return run;
}

/* ---------------------------------------------------------------------- */
/* 1. The traces decode, completely, in the layout asked for              */
/* ---------------------------------------------------------------------- */

static const char *
expected_layout (StrataSimLayout  layout,
                 const char      *family)
{
  gboolean old = layout == STRATA_SIM_LAYOUT_2_6;

  if (g_str_equal (family, "syscalls"))
    return "syscall_entry_*, syscall_exit_* (2.6+)";
  if (g_str_equal (family, "vmsync"))
    return "vmsync_* hypercall events";
  if (g_str_equal (family, "kvm"))
    return old ? "kvm_* (before 2.7.2)" : "kvm_x86_* (2.7.2+)";
  if (g_str_equal (family, "softirq"))
    return old ? "softirq_* (up to 2.6)" : "irq_softirq_* (2.7+)";
  if (g_str_equal (family, "fork"))
    return old ? "with pids, without namespaces (2.3-2.6)" : "with vtids and ns_inum (2.7+)";
  if (g_str_equal (family, "statedump"))
    return old ? "process_state per namespace level, without ns_inum (up to 2.6)"
         : layout == STRATA_SIM_LAYOUT_2_10 ? "process_state per namespace level, with ns_inum and cpu (2.10-2.11)"
         : "process_state + process_pid_ns (2.12+)";
  g_assert_not_reached ();
}

static char *
check_decode (Run *run)
{
  static const struct
  {
    const char      *name;
    StrataEventKind  kinds[2];
  } families[] = {
    { "syscalls", { STRATA_EVENT_SYSCALL_ENTRY, STRATA_EVENT_SYSCALL_EXIT } },
    { "vmsync", { STRATA_EVENT_VMSYNC_GH_GUEST, STRATA_EVENT_VMSYNC_GH_HOST } },
    { "kvm", { STRATA_EVENT_KVM_ENTRY, STRATA_EVENT_KVM_EXIT } },
    { "softirq", { STRATA_EVENT_SOFTIRQ_ENTRY, STRATA_EVENT_SOFTIRQ_ENTRY } },
    { "fork", { STRATA_EVENT_SCHED_PROCESS_FORK, STRATA_EVENT_SCHED_PROCESS_FORK } },
    { "statedump", { STRATA_EVENT_STATEDUMP_PROCESS_STATE, STRATA_EVENT_STATEDUMP_PROCESS_PID_NS } },
  };
  StrataSimLayout layout = run->options.layout;
  const Machine *host = run_host (run);
  guint64 total = 0;
  guint n_traces = 0;

  if (run->truth_error != NULL)
    return g_strdup (run->truth_error);
  if (run->stats.n_machines != run->machines->len)
    return g_strdup_printf ("StrataSimStats says %u machines, scenario.json lists %u",
                            run->stats.n_machines, run->machines->len);
  if (run->stats.n_truth_rows != run->rows->len)
    return g_strdup_printf ("StrataSimStats says %" G_GUINT64_FORMAT " ground-truth rows, the file has %u",
                            run->stats.n_truth_rows, run->rows->len);
  if (run->stats.start_ns != run->start_ns || run->stats.end_ns != run->end_ns
      || run->end_ns - run->start_ns != run->options.duration_ns)
    return g_strdup_printf ("the time span differs: stats [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                            "], scenario.json [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                            run->stats.start_ns, run->stats.end_ns, run->start_ns, run->end_ns);

  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *m = g_ptr_array_index (run->machines, i);
      g_autofree char *dir = g_build_filename (run->dir, m->name, "kernel", NULL);
      g_autoptr(GPtrArray) bt = NULL;
      const StrataTraceInfo *info;

      if (m->trace == NULL)
        {
          if (g_file_test (dir, G_FILE_TEST_EXISTS))
            return g_strdup_printf ("%s: scenario.json says \"trace\": null, but %s exists", m->name, dir);
          continue;
        }
      if (g_strcmp0 (m->trace_path, dir) != 0)
        return g_strdup_printf ("%s: the trace is at %s, not at <out>/%s/kernel", m->name, m->trace_path, m->name);

      info = m->trace->info;
      n_traces++;
      total += info->n_events;

      if (m->trace->cpu_error != NULL)
        return g_strdup (m->trace->cpu_error);
      if (!info->complete)
        return g_strdup_printf ("%s: the reader says the trace is not complete", m->name);
      if (info->problems->len > 0)
        return g_strdup_printf ("%s: the reader reports %u problems, the first: %s", m->name, info->problems->len,
                                ((StrataTraceProblem *) g_ptr_array_index (info->problems, 0))->message);
      if (info->n_unknown_events > 0)
        return g_strdup_printf ("%s: %" G_GUINT64_FORMAT " events of classes Strata does not know",
                                m->name, info->n_unknown_events);
      if (info->n_events == 0)
        return g_strdup_printf ("%s: no event", m->name);

      /* babeltrace2's own decoding sees the same events */
      bt = strata_test_bt2_events (m->trace_path, NULL);
      if (bt->len != info->n_events)
        return g_strdup_printf ("%s: babeltrace2 prints %u events, Strata's reader reads %" G_GUINT64_FORMAT,
                                m->name, bt->len, info->n_events);

      /* The metadata declares the classes that have events: each family
       * with events is described, as the layout's version writes it */
      for (guint f = 0; f < G_N_ELEMENTS (families); f++)
        {
          const char *got = g_hash_table_lookup (info->layout, families[f].name);
          const char *want = expected_layout (layout, families[f].name);
          guint64 n = 0;

          for (guint e = 0; e < m->trace->events->len; e++)
            {
              guint16 kind = g_array_index (m->trace->events, StrataEvent, e).kind;

              n += kind == families[f].kinds[0] || kind == families[f].kinds[1];
            }
          if (n > 0 ? g_strcmp0 (got, want) != 0 : got != NULL)
            return g_strdup_printf ("%s: layout %s: %" G_GUINT64_FORMAT " %s events, described as \"%s\", not \"%s\"",
                                    m->name, strata_sim_layout_to_string (layout), n, families[f].name, got,
                                    n > 0 ? want : "(null)");
        }
      if (info->tracer_major != 2
          || info->tracer_minor != (layout == STRATA_SIM_LAYOUT_2_6 ? 6 : layout == STRATA_SIM_LAYOUT_2_10 ? 10 : 13))
        return g_strdup_printf ("%s: tracer %d.%d for layout %s", m->name, info->tracer_major,
                                info->tracer_minor, strata_sim_layout_to_string (layout));

      /* Identity, as scenario.json says */
      if (g_strcmp0 (info->hostname, m->hostname) != 0 || g_strcmp0 (info->clock_uuid, m->clock_uuid) != 0
          || info->clock_offset_ns != m->ctf_offset_ns)
        return g_strdup_printf ("%s: the trace says hostname %s, clock %s, offset %" G_GINT64_FORMAT
                                "; scenario.json: %s, %s, %" G_GINT64_FORMAT, m->name, info->hostname,
                                info->clock_uuid, info->clock_offset_ns, m->hostname, m->clock_uuid,
                                m->ctf_offset_ns);
      if (info->cpus->len > m->n_cpus)
        return g_strdup_printf ("%s: %u CPUs in the trace, %u in scenario.json", m->name, info->cpus->len, m->n_cpus);

      /* Events within the simulated time, on the machine's clock */
      if (info->begin_ns < map_clock (host, m, run->start_ns) || info->end_ns > map_clock (host, m, run->end_ns))
        return g_strdup_printf ("%s: events from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                                ", outside the simulated [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] on its clock",
                                m->name, info->begin_ns, info->end_ns, map_clock (host, m, run->start_ns),
                                map_clock (host, m, run->end_ns));

      /* The roles the events hint at */
      if (info->has_kvm_entry != has_children (run, m))
        return g_strdup_printf ("%s: has_kvm_entry is %d, but it %s VMs", m->name, info->has_kvm_entry,
                                has_children (run, m) ? "runs" : "runs no");
      if (info->has_vmsync_guest != (m->layer > 0))
        return g_strdup_printf ("%s (layer %d): has_vmsync_guest is %d", m->name, m->layer, info->has_vmsync_guest);
      if (m->layer > 0 && (info->vm_uids->len != 1 || g_array_index (info->vm_uids, guint64, 0) != m->vm_uid))
        return g_strdup_printf ("%s: the trace's vm_uids are not just scenario.json's %" G_GUINT64_FORMAT,
                                m->name, m->vm_uid);
    }

  if (n_traces != run->stats.n_traces)
    return g_strdup_printf ("StrataSimStats says %u traces, %u were found", run->stats.n_traces, n_traces);
  if (total != run->stats.n_events)
    return g_strdup_printf ("the traces hold %" G_GUINT64_FORMAT " events, StrataSimStats says %" G_GUINT64_FORMAT,
                            total, run->stats.n_events);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* 2. Guest events happen inside the entry windows of their vCPU chain    */
/* ---------------------------------------------------------------------- */

/* Each hypervisor CPU alternates kvm_entry and kvm_exit, writes nothing
 * in between (it runs the guest), and only vCPU threads enter, each its
 * own vCPU. */
static char *
check_guest_mode (Run *run)
{
  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *m = g_ptr_array_index (run->machines, i);

      if (m->trace != NULL && m->trace->windows_error != NULL)
        return g_strdup (m->trace->windows_error);
    }

  /* Nothing but kvm_exit after a kvm_entry on a hypervisor CPU: it runs
   * its guest. (Also when L0 reflects an L2 exit to L1: L1's kvm_exit is
   * the first thing L1 writes.) */
  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *hv = g_ptr_array_index (run->machines, i);

      const InGuestMode *g;
      const StrataEvent *ev;

      if (hv->trace == NULL || hv->trace->in_guest_mode->len == 0)
        continue;
      g = &g_array_index (hv->trace->in_guest_mode, InGuestMode, 0);
      ev = &g_array_index (hv->trace->events, StrataEvent, g->index);
      return g_strdup_printf ("%s: CPU %u writes %s at %" G_GINT64_FORMAT " (+%.6f ms) in guest mode (after its "
                              "kvm_entry at %" G_GINT64_FORMAT ", before any kvm_exit)", hv->name, ev->cpu,
                              kind_name (ev), ev->ts, rel_ms (run, hv, ev->ts), g->entry_ts);
    }

  /* Whoever enters a guest is a vCPU thread, and enters its own vCPU */
  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *hv = g_ptr_array_index (run->machines, i);
      GHashTableIter iter;
      gpointer key, value;

      if (hv->trace == NULL)
        continue;
      g_hash_table_iter_init (&iter, hv->trace->windows);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          gint32 tid = GPOINTER_TO_INT (key);
          const GArray *list = value;
          const Window *first = &g_array_index (list, Window, 0);
          int vcpu;
          const Machine *g = guest_of_thread (run, hv, tid, &vcpu);

          if (g == NULL)
            return g_strdup_printf ("%s: thread %d enters a guest (kvm_entry on CPU %u at %" G_GINT64_FORMAT
                                    ", +%.6f ms), but scenario.json has it run no vCPU", hv->name, tid,
                                    first->cpu, first->start, rel_ms (run, hv, first->start));
          for (guint k = 0; k < list->len; k++)
            {
              const Window *w = &g_array_index (list, Window, k);

              if (w->vcpu_id != vcpu)
                return g_strdup_printf ("%s: thread %d runs %s's vCPU %d, but its kvm_entry on CPU %u at %"
                                        G_GINT64_FORMAT " names vcpu_id %" G_GINT64_FORMAT, hv->name, tid,
                                        g->name, vcpu, w->cpu, w->start, w->vcpu_id);
            }
        }
    }
  return NULL;
}


static char *
check_windows (Run *run)
{
  guint64 n_checked = 0, n_levels = 0;

  /* Every guest event at a time when each level of its vCPU chain is in
   * guest mode: the thread running vCPU v of the guest, then the thread
   * running the parent's vCPU that the first ran on, and so on to L0. */
  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *g = g_ptr_array_index (run->machines, i);

      if (g->layer == 0 || g->trace == NULL)
        continue;

      for (guint e = 0; e < g->trace->events->len; e++)
        {
          const StrataEvent *ev = &g_array_index (g->trace->events, StrataEvent, e);
          const Machine *level = g;
          guint vcpu = ev->cpu;

          if (ev->kind == STRATA_EVENT_LOST || ev->cpu >= g->n_cpus)
            continue;
          n_checked++;

          while (level->layer > 0 && level->parent->trace != NULL)
            {
              const Machine *hv = level->parent;
              gint32 tid = host_tid (level, vcpu);
              const Window *w = find_window (hv, tid, g, ev->ts);

              if (w == NULL)
                {
                  if (level == g)
                    return g_strdup_printf ("%s: %s on vCPU %u at %" G_GINT64_FORMAT " (+%.6f ms) is outside every "
                                            "guest-mode window of its thread %d in %s", g->name, kind_name (ev),
                                            ev->cpu, ev->ts, rel_ms (run, g, ev->ts), tid, hv->name);
                  return g_strdup_printf ("%s: %s on vCPU %u at %" G_GINT64_FORMAT " (+%.6f ms): %s runs that vCPU "
                                          "on its vCPU %u then, but %s's thread %d for that vCPU is not in guest "
                                          "mode", g->name, kind_name (ev), ev->cpu, ev->ts, rel_ms (run, g, ev->ts),
                                          level->name, vcpu, hv->name, tid);
                }
              level = hv;
              vcpu = w->cpu;
              n_levels++;
            }
        }
    }
  g_test_message ("%" G_GUINT64_FORMAT " guest events inside the windows of their chain (%" G_GUINT64_FORMAT
                  " window lookups)", n_checked, n_levels);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* 3. The ground truth: tiles, fields, and what the traces show           */
/* ---------------------------------------------------------------------- */

static char *
check_tiles (const GArray *rows,
             gint64        start,
             gint64        end,
             const char   *what)
{
  if (rows->len == 0)
    return g_strdup_printf ("%s: no ground-truth row", what);

  for (guint i = 0; i < rows->len; i++)
    {
      const Row *r = &g_array_index (rows, Row, i);
      gint64 expected = i == 0 ? start : g_array_index (rows, Row, i - 1).end;

      if (r->start >= r->end)
        return g_strdup_printf ("%s: line %u: [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] is empty",
                                what, r->line, r->start, r->end);
      if (r->start != expected)
        return g_strdup_printf ("%s: line %u starts at %" G_GINT64_FORMAT ", but %s at %" G_GINT64_FORMAT
                                " (a %s of %" G_GINT64_FORMAT " ns)", what, r->line, r->start,
                                i == 0 ? "the simulation starts" : "the previous row ends", expected,
                                r->start > expected ? "gap" : "overlap",
                                r->start > expected ? r->start - expected : expected - r->start);
    }
  if (g_array_index (rows, Row, rows->len - 1).end != end)
    return g_strdup_printf ("%s: the last row (line %u) ends at %" G_GINT64_FORMAT ", the simulation at %"
                            G_GINT64_FORMAT, what, g_array_index (rows, Row, rows->len - 1).line,
                            g_array_index (rows, Row, rows->len - 1).end, end);
  return NULL;
}

static gboolean
has_container (const Machine *m,
               gint64         inum)
{
  for (guint k = 0; k < m->containers->len; k++)
    if (g_array_index (m->containers, Container, k).inum == inum)
      return TRUE;
  return FALSE;
}

static char *
check_row_fields (const Run *run,
                  const Row *r)
{
  const Machine *m = r->machine;

  if (m == NULL)
    return g_strdup_printf ("ground truth line %u: a machine scenario.json does not have", r->line);
  if (r->layer != m->layer)
    return g_strdup_printf ("ground truth line %u: %s at layer %d, scenario.json says %d",
                            r->line, m->name, r->layer, m->layer);

  if (r->pcpu)
    {
      if (r->cpu < 0 || (guint) r->cpu >= run->n_pcpus)
        return g_strdup_printf ("ground truth line %u: pcpu %d, the host has %u", r->line, r->cpu, run->n_pcpus);
      if (r->status > ST_VMM)
        return g_strdup_printf ("ground truth line %u: pcpu status %s", r->line, status_names[r->status]);
      if (m->layer == 0 ? r->vcpu != -1 : (r->vcpu < 0 || (guint) r->vcpu >= m->n_cpus))
        return g_strdup_printf ("ground truth line %u: %s with vcpu %d", r->line, m->name, r->vcpu);
      if (m->layer == 0 && r->status == ST_VMM)
        return g_strdup_printf ("ground truth line %u: vmm for the host itself", r->line);
      if ((r->vtid < 0) != (r->container < 0))
        return g_strdup_printf ("ground truth line %u: a vtid without a container or the reverse", r->line);
      if (r->container >= 0 && (r->status == ST_VMM || !has_container (m, r->container)))
        return g_strdup_printf ("ground truth line %u: container %" G_GINT64_FORMAT " is not one of %s's",
                                r->line, r->container, m->name);
    }
  else
    {
      if (m->layer == 0 || r->vcpu < 0 || (guint) r->vcpu >= m->n_cpus)
        return g_strdup_printf ("ground truth line %u: vcpu row for %s vcpu %d", r->line, m->name, r->vcpu);
      if (r->tid != host_tid (m, r->vcpu))
        return g_strdup_printf ("ground truth line %u: %s vCPU %d with thread %d, scenario.json says %d",
                                r->line, m->name, r->vcpu, r->tid, host_tid (m, r->vcpu));
      if (r->status == ST_USER || r->status == ST_KERNEL || r->status == ST_UNKNOWN)
        return g_strdup_printf ("ground truth line %u: vcpu status %s", r->line, status_names[r->status]);
      if ((r->status == ST_RUNNING) != (r->cpu >= 0) || r->cpu >= (int) run->n_pcpus)
        return g_strdup_printf ("ground truth line %u: %s with cpu %d", r->line, status_names[r->status], r->cpu);
      if (r->vtid != -1 || r->container != -1)
        return g_strdup_printf ("ground truth line %u: a vcpu row with a container", r->line);
    }
  return NULL;
}

/* Which vCPU of @m the traces say host CPU @p runs at host time @t,
 * following the current thread of each level down from the host (in
 * guest mode or not): -1 none, -2 the traces do not say (a level is not
 * traced, or has no sched_switch on that CPU). */
static int
trace_vcpu_at (const Run     *run,
               guint          p,
               gint64         t,
               const Machine *m)
{
  const Machine *hv = m->parent;
  guint cpu = p;
  gint32 tid;

  if (hv->trace == NULL)
    return -2;
  if (hv->layer > 0)
    {
      int u = trace_vcpu_at (run, p, t, hv);

      if (u < 0)
        return u;
      cpu = (guint) u;
    }
  tid = current_tid (hv->trace, cpu, map_clock (run_host (run), hv, t));
  return tid < 0 ? -2 : vcpu_of_thread (m, tid);
}

/* How much the sampled instants checked */
typedef struct
{
  guint n_host;      /* host rows, against the host trace's thread */
  guint n_chains;    /* guest rows whose whole vCPU chain the traces show */
  guint n_vcpus;     /* vcpu rows */
} TruthCounts;

static char *
check_pcpu_instant (const Run   *run,
                    guint        p,
                    const Row   *r,
                    gint64       t,
                    TruthCounts *counts)
{
  const Machine *host = run_host (run);
  const Machine *m = r->machine;
  gboolean all_in = TRUE, known = TRUE, tid_found = FALSE;
  int v;

  if (m->layer == 0)
    {
      gint32 tid = current_tid (host->trace, p, t);
      const Window *w;

      if (tid < 0)
        return NULL;
      if (tid != r->tid)
        return g_strdup_printf ("host CPU %u at %" G_GINT64_FORMAT " (+%.6f ms): the ground truth says host thread %d "
                                "(%s, line %u), the host trace's current thread is %d", p, t, rel_ms (run, host, t),
                                r->tid, status_names[r->status], r->line, tid);
      if ((w = find_window (host, tid, host, t)) != NULL)
        return g_strdup_printf ("host CPU %u at %" G_GINT64_FORMAT " (+%.6f ms): the ground truth says the host runs "
                                "(line %u), but its thread %d is in guest mode since %" G_GINT64_FORMAT, p, t,
                                rel_ms (run, host, t), r->line, tid, w->start);
      counts->n_host++;
      return NULL;
    }

  /* A guest: the traces' current threads lead, level by level, to the
   * vCPU the row names */
  v = trace_vcpu_at (run, p, t, m);
  if (v == -1 || (v >= 0 && v != r->vcpu))
    return g_strdup_printf ("host CPU %u at %" G_GINT64_FORMAT " (+%.6f ms): the ground truth says %s vCPU %d (%s, "
                            "line %u), but the current threads of the traces lead to %s %d", p, t,
                            rel_ms (run, host, t), m->name, r->vcpu, status_names[r->status], r->line,
                            v < 0 ? "no vCPU of it" : "its vCPU", v);

  /* Guest mode at every level when the guest runs; for a vmm row, the
   * thread named is the hypervisor thread of one of the levels */
  for (const Machine *g = m; g->layer > 0; g = g->parent)
    {
      const Machine *hv = g->parent;
      int gv = g == m ? r->vcpu : trace_vcpu_at (run, p, t, g);

      if (gv < 0 || hv->trace == NULL)
        {
          known = FALSE;
          break;
        }
      if (host_tid (g, gv) == r->tid)
        tid_found = TRUE;
      if (find_window (hv, host_tid (g, gv), hv, map_clock (host, hv, t)) == NULL)
        all_in = FALSE;
    }
  counts->n_chains += known;
  if (known && r->status != ST_VMM && !all_in)
    return g_strdup_printf ("host CPU %u at %" G_GINT64_FORMAT " (+%.6f ms): the ground truth says %s vCPU %d runs "
                            "(%s, line %u), but a hypervisor thread of its chain is not in guest mode", p, t,
                            rel_ms (run, host, t), m->name, r->vcpu, status_names[r->status], r->line);
  /* An L1 exit is written as it happens. (For an L2 exit that L0
   * reflects to L1, L1 writes its kvm_exit once it runs its handler, a
   * little after the ground truth says vmm, as KVM does.) */
  if (known && r->status == ST_VMM && m->layer == 1 && all_in)
    return g_strdup_printf ("host CPU %u at %" G_GINT64_FORMAT " (+%.6f ms): the ground truth says vmm for %s vCPU %d "
                            "(line %u), but its thread is in guest mode", p, t, rel_ms (run, host, t), m->name,
                            r->vcpu, r->line);
  if (known && r->status == ST_VMM && !tid_found)
    return g_strdup_printf ("host CPU %u at %" G_GINT64_FORMAT " (+%.6f ms): the ground truth says thread %d handles "
                            "an exit of %s vCPU %d (line %u), but no level of the chain runs that thread", p, t,
                            rel_ms (run, host, t), r->tid, m->name, r->vcpu, r->line);

  /* The guest's own current thread */
  if (r->status != ST_VMM && m->trace != NULL)
    {
      gint32 tid = current_tid (m->trace, (guint) r->vcpu, map_clock (host, m, t));

      if (tid >= 0 && tid != r->tid)
        return g_strdup_printf ("host CPU %u at %" G_GINT64_FORMAT " (+%.6f ms): the ground truth says %s thread %d "
                                "(%s, line %u), its trace's current thread on vCPU %d is %d", p, t,
                                rel_ms (run, host, t), m->name, r->tid, status_names[r->status], r->line,
                                r->vcpu, tid);
    }
  return NULL;
}

static char *
check_vcpu_instant (const Run     *run,
                    const Machine *m,
                    guint          v,
                    const Row     *r,
                    gint64         t)
{
  const Machine *host = run_host (run);

  if (r->status == ST_RUNNING)
    {
      const Row *pr = row_at (run->pcpu_rows[r->cpu], t);
      int tv;

      if (pr == NULL || near_boundary (pr, t))
        return NULL;
      if (!((pr->machine == m && pr->vcpu == (int) v && pr->status != ST_VMM)
            || (pr->machine != NULL && pr->machine->parent == m)))
        return g_strdup_printf ("%s vCPU %u at %" G_GINT64_FORMAT " (+%.6f ms): running on CPU %d (line %u), but "
                                "that CPU's row says %s vCPU %d, %s (line %u)", m->name, v, t,
                                rel_ms (run, host, t), r->cpu, r->line, pr->machine ? pr->machine->name : "?",
                                pr->vcpu, status_names[pr->status], pr->line);
      tv = trace_vcpu_at (run, (guint) r->cpu, t, m);
      if (tv == -1 || (tv >= 0 && tv != (int) v))
        return g_strdup_printf ("%s vCPU %u at %" G_GINT64_FORMAT " (+%.6f ms): running on CPU %d (line %u), but the "
                                "traces' current threads on that CPU lead to %s vCPU %d", m->name, v, t,
                                rel_ms (run, host, t), r->cpu, r->line, m->name, tv);
      return NULL;
    }

  /* Not running: no CPU executes it */
  for (guint p = 0; p < run->n_pcpus; p++)
    {
      const Row *pr = row_at (run->pcpu_rows[p], t);

      if (pr != NULL && !near_boundary (pr, t) && pr->machine == m && pr->vcpu == (int) v && pr->status != ST_VMM)
        return g_strdup_printf ("%s vCPU %u at %" G_GINT64_FORMAT " (+%.6f ms): %s (line %u), but CPU %u's row "
                                "says it runs, %s (line %u)", m->name, v, t, rel_ms (run, host, t),
                                status_names[r->status], r->line, p, status_names[pr->status], pr->line);
    }

  /* Idle (halted, its thread asleep) or, for an L1 vCPU, preempted (its
   * thread waits for a CPU): the thread is no CPU's current one */
  if ((r->status == ST_IDLE || (r->status == ST_PREEMPTED && m->layer == 1)) && m->parent->trace != NULL)
    {
      const Machine *hv = m->parent;
      gint32 tid = host_tid (m, v);

      for (guint c = 0; c < hv->n_cpus; c++)
        if (current_tid (hv->trace, c, map_clock (host, hv, t)) == tid)
          return g_strdup_printf ("%s vCPU %u at %" G_GINT64_FORMAT " (+%.6f ms): %s (line %u), but its thread %d "
                                  "is the current thread of %s CPU %u", m->name, v, t, rel_ms (run, host, t),
                                  status_names[r->status], r->line, tid, hv->name, c);
    }
  return NULL;
}

typedef struct
{
  gint32  vtid;
  gint64  inum;     /* -1: the layout does not say */
  gint64  level;
} NsEntry;

/* Each thread's innermost PID namespace, from the statedump and forks */
static GHashTable *
namespaces_from_trace (const Trace *tr)
{
  GHashTable *ns = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  for (guint i = 0; i < tr->events->len; i++)
    {
      const StrataEvent *ev = &g_array_index (tr->events, StrataEvent, i);
      NsEntry *entry;
      gint32 tid;
      NsEntry e;

      if (ev->kind == STRATA_EVENT_STATEDUMP_PROCESS_PID_NS)
        {
          tid = (gint32) ev->v[0];
          e.vtid = (gint32) ev->v[1];
          e.level = ev->v[4];
          e.inum = ev->v[5] == STRATA_VALUE_ABSENT ? -1 : ev->v[5];
        }
      else if (ev->kind == STRATA_EVENT_SCHED_PROCESS_FORK && fork_vtids (tr, ev) != NULL)
        {
          const GArray *vtids = fork_vtids (tr, ev);

          tid = (gint32) ev->v[2];
          e.vtid = g_array_index (vtids, gint32, vtids->len - 1);
          e.level = vtids->len - 1;
          e.inum = ev->v[5] == STRATA_VALUE_ABSENT ? -1 : ev->v[5];
        }
      else
        continue;

      entry = g_hash_table_lookup (ns, GINT_TO_POINTER (tid));
      if (entry == NULL)
        g_hash_table_insert (ns, GINT_TO_POINTER (tid), g_memdup2 (&e, sizeof e));
      else if (e.level >= entry->level)
        *entry = e;
    }
  return ns;
}

static char *
check_truth (Run *run)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240309);
  TruthCounts counts = { 0 };
  char *error;

  if (run->truth_error != NULL)
    return g_strdup (run->truth_error);

  for (guint i = 0; i < run->rows->len; i++)
    if ((error = check_row_fields (run, &g_array_index (run->rows, Row, i))) != NULL)
      return error;

  for (guint p = 0; p < run->n_pcpus; p++)
    {
      g_autofree char *what = g_strdup_printf ("host CPU %u", p);

      if ((error = check_tiles (run->pcpu_rows[p], run->start_ns, run->end_ns, what)) != NULL)
        return error;
    }
  for (guint i = 1; i < run->machines->len; i++)
    {
      const Machine *m = g_ptr_array_index (run->machines, i);

      for (guint v = 0; v < m->n_cpus; v++)
        {
          g_autofree char *what = g_strdup_printf ("%s vCPU %u", m->name, v);

          if ((error = check_tiles (m->vcpu_rows[v], run->start_ns, run->end_ns, what)) != NULL)
            return error;
        }
    }

  /* Sampled instants: the pCPU rows and the vCPU rows agree with each
   * other and with the traces */
  for (guint s = 0; s < N_SAMPLES; s++)
    {
      gint64 t = run->start_ns + (gint64) (g_rand_double (rand) * (double) (run->end_ns - run->start_ns));

      for (guint p = 0; p < run->n_pcpus; p++)
        {
          const Row *r = row_at (run->pcpu_rows[p], t);

          g_assert_nonnull (r);
          if (!near_boundary (r, t) && (error = check_pcpu_instant (run, p, r, t, &counts)) != NULL)
            return error;
        }
      for (guint i = 1; i < run->machines->len; i++)
        {
          const Machine *m = g_ptr_array_index (run->machines, i);

          for (guint v = 0; v < m->n_cpus; v++)
            {
              const Row *r = row_at (m->vcpu_rows[v], t);

              g_assert_nonnull (r);
              if (near_boundary (r, t))
                continue;
              if ((error = check_vcpu_instant (run, m, v, r, t)) != NULL)
                return error;
              counts.n_vcpus++;
            }
        }
    }

  g_test_message ("%u sampled instants: %u host rows matched the host trace's thread, %u guest rows their whole "
                  "vCPU chain, %u vcpu rows checked", N_SAMPLES, counts.n_host, counts.n_chains, counts.n_vcpus);

  /* Containers: a thread's vtid and PID namespace in the ground truth are
   * those its machine's statedump or fork says */
  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *m = g_ptr_array_index (run->machines, i);
      g_autoptr(GHashTable) ns = NULL;

      if (m->trace == NULL)
        continue;
      ns = namespaces_from_trace (m->trace);
      for (guint k = 0; k < run->rows->len; k++)
        {
          const Row *r = &g_array_index (run->rows, Row, k);
          const NsEntry *e;

          if (!r->pcpu || r->machine != m || r->status == ST_VMM || r->tid == 0)
            continue;
          e = g_hash_table_lookup (ns, GINT_TO_POINTER (r->tid));
          if (e == NULL)
            continue;
          if (e->level == 0 ? r->container != -1
              : r->vtid != e->vtid || (e->inum >= 0 && r->container != e->inum))
            return g_strdup_printf ("%s: ground truth line %u says thread %d is vtid %d in container %" G_GINT64_FORMAT
                                    ", the trace says vtid %d in PID namespace %" G_GINT64_FORMAT " (level %"
                                    G_GINT64_FORMAT ")", m->name, r->line, r->tid, r->vtid, r->container,
                                    e->vtid, e->inum, e->level);
        }
    }

  return NULL;
}

/* ---------------------------------------------------------------------- */
/* 4. Synchronization events                                              */
/* ---------------------------------------------------------------------- */

typedef struct
{
  gint64  ts;
  guint   cpu;
  guint32 cnt;
} SyncEvent;

/* The @kind events of @tr for @vm_uid, in time order; *other_uid: the
 * first vm_uid of another VM met (0: none). */
static GArray *
sync_events (const Trace     *tr,
             StrataEventKind  kind,
             guint64          vm_uid,
             guint64         *other_uid)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (SyncEvent));

  *other_uid = 0;
  for (guint i = 0; i < tr->events->len; i++)
    {
      const StrataEvent *ev = &g_array_index (tr->events, StrataEvent, i);
      SyncEvent s = { ev->ts, ev->cpu, (guint32) ev->v[0] };

      if (ev->kind != kind)
        continue;
      if ((guint64) ev->v[1] == vm_uid)
        g_array_append_val (out, s);
      else if (*other_uid == 0)
        *other_uid = (guint64) ev->v[1];
    }
  return out;
}

/* cnt → SyncEvent *; a cnt twice or going back is an error */
static GHashTable *
index_by_cnt (const GArray *events,
              const char   *what,
              char        **error)
{
  GHashTable *index = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < events->len; i++)
    {
      SyncEvent *s = &g_array_index (events, SyncEvent, i);

      if (i > 0 && s->cnt <= g_array_index (events, SyncEvent, i - 1).cnt)
        set_error (error, "%s: cnt %u at %" G_GINT64_FORMAT " after cnt %u", what, s->cnt, s->ts,
                   g_array_index (events, SyncEvent, i - 1).cnt);
      g_hash_table_insert (index, GUINT_TO_POINTER (s->cnt), s);
    }
  return index;
}

/* On each CPU of hypervisor @hv: a vmsync_gh_host comes while a VMCALL
 * exit is being handled, just after the hypercall (nr 5, a0 = cnt, a1 =
 * vm_uid), on a vCPU thread of that VM; a vmsync_hg_host comes just before
 * a kvm_entry. */
static char *
check_sync_host_side (const Run     *run,
                      const Machine *hv)
{
  const Trace *tr = hv->trace;

  for (guint c = 0; c < tr->n_cpus; c++)
    {
      const GArray *idx = tr->by_cpu[c];
      gboolean in_exit = FALSE;
      gint64 exit_reason = -1;
      const StrataEvent *hypercall = NULL;

      for (guint k = 0; k < idx->len; k++)
        {
          const StrataEvent *ev = &g_array_index (tr->events, StrataEvent, g_array_index (idx, guint, k));

          switch (ev->kind)
            {
            case STRATA_EVENT_KVM_EXIT:
              in_exit = TRUE;
              exit_reason = ev->v[0];
              hypercall = NULL;
              break;
            case STRATA_EVENT_KVM_ENTRY:
              in_exit = FALSE;
              hypercall = NULL;
              break;
            case STRATA_EVENT_KVM_HYPERCALL:
              hypercall = ev;
              break;
            case STRATA_EVENT_VMSYNC_GH_HOST:
              {
                gint32 tid = current_tid (tr, c, ev->ts);
                int vcpu;
                const Machine *g = guest_of_thread (run, hv, tid, &vcpu);

                if (!in_exit || exit_reason != 18)
                  return g_strdup_printf ("%s: vmsync_gh_host (cnt %" G_GINT64_FORMAT ") on CPU %u at %" G_GINT64_FORMAT
                                          " is not in the handling of a VMCALL exit (last kvm_exit reason %"
                                          G_GINT64_FORMAT "%s)", hv->name, ev->v[0], c, ev->ts, exit_reason,
                                          in_exit ? "" : ", followed by a kvm_entry");
                if (hypercall == NULL || hypercall->v[0] != 5 || hypercall->v[1] != ev->v[0]
                    || hypercall->v[2] != ev->v[1])
                  return g_strdup_printf ("%s: vmsync_gh_host (cnt %" G_GINT64_FORMAT ") on CPU %u at %" G_GINT64_FORMAT
                                          " without a kvm_hypercall nr 5, a0 = cnt, a1 = vm_uid before it in that exit",
                                          hv->name, ev->v[0], c, ev->ts);
                if (g == NULL || g->vm_uid != (guint64) ev->v[1])
                  return g_strdup_printf ("%s: vmsync_gh_host for vm_uid %" G_GUINT64_FORMAT " on CPU %u at %"
                                          G_GINT64_FORMAT ", written by thread %d, which runs %s", hv->name,
                                          (guint64) ev->v[1], c, ev->ts, tid, g ? g->name : "no vCPU");
              }
              break;
            case STRATA_EVENT_VMSYNC_HG_HOST:
              {
                const StrataEvent *next = k + 1 < idx->len
                  ? &g_array_index (tr->events, StrataEvent, g_array_index (idx, guint, k + 1)) : NULL;

                if (next != NULL && next->kind != STRATA_EVENT_KVM_ENTRY)
                  return g_strdup_printf ("%s: vmsync_hg_host (cnt %" G_GINT64_FORMAT ") on CPU %u at %" G_GINT64_FORMAT
                                          " is followed by %s, not by the kvm_entry", hv->name, ev->v[0], c,
                                          ev->ts, kind_name (next));
              }
              break;
            default:
              break;
            }
        }
    }
  return NULL;
}

static char *
check_sync (Run *run)
{
  guint n_pairs = 0;
  char *error = NULL;

  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *hv = g_ptr_array_index (run->machines, i);

      if (hv->trace != NULL && has_children (run, hv) && (error = check_sync_host_side (run, hv)) != NULL)
        return error;
    }

  for (guint i = 1; i < run->machines->len; i++)
    {
      const Machine *g = g_ptr_array_index (run->machines, i);
      const Machine *hv = g->parent;
      g_autoptr(GArray) gh_guest = NULL, hg_guest = NULL, gh_host = NULL, hg_host = NULL;
      g_autoptr(GHashTable) gh_guest_by = NULL, hg_guest_by = NULL, gh_host_by = NULL, hg_host_by = NULL;
      guint64 other;
      guint32 last;

      if (g->trace == NULL || hv->trace == NULL)
        continue;

      gh_guest = sync_events (g->trace, STRATA_EVENT_VMSYNC_GH_GUEST, g->vm_uid, &other);
      if (other != 0)
        return g_strdup_printf ("%s: vmsync_gh_guest with vm_uid %" G_GUINT64_FORMAT ", scenario.json says %"
                                G_GUINT64_FORMAT, g->name, other, g->vm_uid);
      hg_guest = sync_events (g->trace, STRATA_EVENT_VMSYNC_HG_GUEST, g->vm_uid, &other);
      if (other != 0)
        return g_strdup_printf ("%s: vmsync_hg_guest with vm_uid %" G_GUINT64_FORMAT ", scenario.json says %"
                                G_GUINT64_FORMAT, g->name, other, g->vm_uid);
      gh_host = sync_events (hv->trace, STRATA_EVENT_VMSYNC_GH_HOST, g->vm_uid, &other);
      hg_host = sync_events (hv->trace, STRATA_EVENT_VMSYNC_HG_HOST, g->vm_uid, &other);

      /* One every 10 ms or so, later when the vCPUs wait for a CPU: a
       * few at least, or the checks below check nothing */
      if (gh_guest->len < 3)
        return g_strdup_printf ("%s: only %u vmsync_gh_guest in %" G_GINT64_FORMAT " ms", g->name, gh_guest->len,
                                run->options.duration_ns / MS);

      gh_guest_by = index_by_cnt (gh_guest, g->name, &error);
      hg_guest_by = index_by_cnt (hg_guest, g->name, &error);
      gh_host_by = index_by_cnt (gh_host, hv->name, &error);
      hg_host_by = index_by_cnt (hg_host, hv->name, &error);
      if (error != NULL)
        return error;

      /* guest → host: gh_guest, then gh_host; the last one may be cut */
      last = g_array_index (gh_guest, SyncEvent, gh_guest->len - 1).cnt;
      for (guint k = 0; k < gh_guest->len; k++)
        {
          const SyncEvent *sg = &g_array_index (gh_guest, SyncEvent, k);
          const SyncEvent *sh = g_hash_table_lookup (gh_host_by, GUINT_TO_POINTER (sg->cnt));
          gint32 tid;

          if (sh == NULL)
            {
              if (sg->cnt != last)
                return g_strdup_printf ("%s: vmsync_gh_guest cnt %u at %" G_GINT64_FORMAT " (+%.6f ms) has no "
                                        "vmsync_gh_host in %s", g->name, sg->cnt, sg->ts, rel_ms (run, g, sg->ts),
                                        hv->name);
              continue;
            }
          if (sg->ts > map_clock (hv, g, sh->ts))
            return g_strdup_printf ("%s: vmsync_gh_guest cnt %u at %" G_GINT64_FORMAT " comes after its "
                                    "vmsync_gh_host, at %" G_GINT64_FORMAT " on %s's clock", g->name, sg->cnt,
                                    sg->ts, map_clock (hv, g, sh->ts), g->name);
          n_pairs++;
          tid = current_tid (hv->trace, sh->cpu, sh->ts);
          if (tid != host_tid (g, sg->cpu))
            return g_strdup_printf ("%s: vmsync_gh_guest cnt %u on vCPU %u, but %s's vmsync_gh_host comes from "
                                    "thread %d, not from that vCPU's thread %d", g->name, sg->cnt, sg->cpu,
                                    hv->name, tid, host_tid (g, sg->cpu));
        }
      for (guint k = 0; k < gh_host->len; k++)
        {
          const SyncEvent *sh = &g_array_index (gh_host, SyncEvent, k);

          if (!g_hash_table_contains (gh_guest_by, GUINT_TO_POINTER (sh->cnt)))
            return g_strdup_printf ("%s: vmsync_gh_host cnt %u for %s at %" G_GINT64_FORMAT " has no "
                                    "vmsync_gh_guest", hv->name, sh->cnt, g->name, sh->ts);
        }

      /* host → guest: hg_host, then hg_guest; the last one may be cut */
      last = hg_host->len > 0 ? g_array_index (hg_host, SyncEvent, hg_host->len - 1).cnt : 0;
      for (guint k = 0; k < hg_host->len; k++)
        {
          const SyncEvent *sh = &g_array_index (hg_host, SyncEvent, k);
          const SyncEvent *sg = g_hash_table_lookup (hg_guest_by, GUINT_TO_POINTER (sh->cnt));
          const SyncEvent *query = g_hash_table_lookup (gh_host_by, GUINT_TO_POINTER (sh->cnt));

          if (query == NULL || query->ts > sh->ts)
            return g_strdup_printf ("%s: vmsync_hg_host cnt %u for %s at %" G_GINT64_FORMAT " answers no earlier "
                                    "vmsync_gh_host", hv->name, sh->cnt, g->name, sh->ts);
          if (sg == NULL)
            {
              if (sh->cnt != last)
                return g_strdup_printf ("%s: vmsync_hg_host cnt %u for %s at %" G_GINT64_FORMAT " has no "
                                        "vmsync_hg_guest", hv->name, sh->cnt, g->name, sh->ts);
              continue;
            }
          n_pairs++;
          if (map_clock (hv, g, sh->ts) > sg->ts)
            return g_strdup_printf ("%s: vmsync_hg_guest cnt %u at %" G_GINT64_FORMAT " comes before its "
                                    "vmsync_hg_host, at %" G_GINT64_FORMAT " on %s's clock", g->name, sg->cnt,
                                    sg->ts, map_clock (hv, g, sh->ts), g->name);
        }
      for (guint k = 0; k < hg_guest->len; k++)
        {
          const SyncEvent *sg = &g_array_index (hg_guest, SyncEvent, k);
          const SyncEvent *query = g_hash_table_lookup (gh_guest_by, GUINT_TO_POINTER (sg->cnt));

          if (!g_hash_table_contains (hg_host_by, GUINT_TO_POINTER (sg->cnt)))
            return g_strdup_printf ("%s: vmsync_hg_guest cnt %u at %" G_GINT64_FORMAT " has no vmsync_hg_host in %s",
                                    g->name, sg->cnt, sg->ts, hv->name);
          if (query == NULL || query->ts > sg->ts)
            return g_strdup_printf ("%s: vmsync_hg_guest cnt %u at %" G_GINT64_FORMAT " without an earlier "
                                    "vmsync_gh_guest", g->name, sg->cnt, sg->ts);
        }
    }

  /* Every host-side sync event is for one of the machine's own VMs */
  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *hv = g_ptr_array_index (run->machines, i);

      if (hv->trace == NULL)
        continue;
      for (guint e = 0; e < hv->trace->events->len; e++)
        {
          const StrataEvent *ev = &g_array_index (hv->trace->events, StrataEvent, e);
          gboolean known = FALSE;

          if (ev->kind != STRATA_EVENT_VMSYNC_GH_HOST && ev->kind != STRATA_EVENT_VMSYNC_HG_HOST)
            continue;
          for (guint k = 0; k < run->machines->len; k++)
            {
              const Machine *g = g_ptr_array_index (run->machines, k);

              known |= g->parent == hv && g->vm_uid == (guint64) ev->v[1];
            }
          if (!known)
            return g_strdup_printf ("%s: %s for vm_uid %" G_GUINT64_FORMAT " at %" G_GINT64_FORMAT
                                    ", which is none of its VMs", hv->name, kind_name (ev), (guint64) ev->v[1],
                                    ev->ts);
        }
    }

  g_test_message ("%u sync pairs matched", n_pairs);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* 5. Nested virtualization                                               */
/* ---------------------------------------------------------------------- */

/* The last (@before) or first (!@before) kvm_entry/kvm_exit of @tr on
 * @cpu at or before @ts, or strictly after it. */
static const StrataEvent *
nearest_kvm (const Trace *tr,
             guint        cpu,
             gint64       ts,
             gboolean     before)
{
  const GArray *idx = tr->by_cpu[cpu];
  guint lo = 0, hi = idx->len;

  /* Before: the last event at or before @ts. After: the first at or
   * after it, since events of one instant happen in order (L0's kvm_entry
   * into L1, then L1's kvm_exit, say). */
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      gint64 mid_ts = g_array_index (tr->events, StrataEvent, g_array_index (idx, guint, mid)).ts;

      if (before ? mid_ts <= ts : mid_ts < ts)
        lo = mid + 1;
      else
        hi = mid;
    }

  if (before)
    {
      for (guint k = lo; k-- > 0;)
        {
          const StrataEvent *ev = &g_array_index (tr->events, StrataEvent, g_array_index (idx, guint, k));

          if (ev->kind == STRATA_EVENT_KVM_ENTRY || ev->kind == STRATA_EVENT_KVM_EXIT)
            return ev;
        }
    }
  else
    {
      for (guint k = lo; k < idx->len; k++)
        {
          const StrataEvent *ev = &g_array_index (tr->events, StrataEvent, g_array_index (idx, guint, k));

          if (ev->kind == STRATA_EVENT_KVM_ENTRY || ev->kind == STRATA_EVENT_KVM_EXIT)
            return ev;
        }
    }
  return NULL;
}

static char *
check_nested (Run *run)
{
  const Machine *host = run_host (run);
  const Trace *tr = host->trace;
  guint n_mmu = 0, n_inject = 0;

  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *m = g_ptr_array_index (run->machines, i);
      guint n_entries = 0, n_exits = 0;

      if (m->layer != 1 || !has_children (run, m))
        continue;
      for (guint e = 0; e < m->trace->events->len; e++)
        {
          guint16 kind = g_array_index (m->trace->events, StrataEvent, e).kind;

          n_entries += kind == STRATA_EVENT_KVM_ENTRY;
          n_exits += kind == STRATA_EVENT_KVM_EXIT;
        }
      if (n_entries == 0 || n_exits == 0 || !m->trace->info->has_kvm_entry)
        return g_strdup_printf ("%s runs an L2 VM, but its trace has %u kvm_entry and %u kvm_exit", m->name,
                                n_entries, n_exits);
    }

  for (guint c = 0; c < tr->n_cpus; c++)
    {
      const GArray *idx = tr->by_cpu[c];
      const StrataEvent *last_kvm = NULL;

      for (guint k = 0; k < idx->len; k++)
        {
          const StrataEvent *ev = &g_array_index (tr->events, StrataEvent, g_array_index (idx, guint, k));
          const StrataEvent *next = k + 1 < idx->len
            ? &g_array_index (tr->events, StrataEvent, g_array_index (idx, guint, k + 1)) : NULL;
          gboolean mmu = ev->kind == STRATA_EVENT_KVM_MMU_GET_PAGE;
          const char *what = mmu ? "kvm_mmu_get_page" : "kvm_nested_vmexit_inject";
          gint32 tid;
          int u;
          const Machine *l1;
          const StrataEvent *l1_kvm;
          gint64 t1;

          if (ev->kind == STRATA_EVENT_KVM_ENTRY || ev->kind == STRATA_EVENT_KVM_EXIT)
            last_kvm = ev;
          if (!mmu && ev->kind != STRATA_EVENT_KVM_NESTED_VMEXIT_INJECT)
            continue;
          n_mmu += mmu;
          n_inject += !mmu;

          /* L0 handles an exit of the L1 vCPU this thread runs… */
          if (last_kvm == NULL || last_kvm->kind != STRATA_EVENT_KVM_EXIT
              || (mmu && last_kvm->v[0] != 24 && last_kvm->v[0] != 20))
            return g_strdup_printf ("host: %s on CPU %u at %" G_GINT64_FORMAT " (+%.6f ms) after %s%s%" G_GINT64_FORMAT,
                                    what, c, ev->ts, rel_ms (run, host, ev->ts),
                                    last_kvm ? kind_name (last_kvm) : "no kvm event",
                                    last_kvm && last_kvm->kind == STRATA_EVENT_KVM_EXIT ? " reason " : " ",
                                    last_kvm ? last_kvm->v[0] : 0);
          /* …and enters it again at once */
          if (next == NULL || next->kind != STRATA_EVENT_KVM_ENTRY)
            return g_strdup_printf ("host: %s on CPU %u at %" G_GINT64_FORMAT " (+%.6f ms) is followed by %s, not by "
                                    "a kvm_entry", what, c, ev->ts, rel_ms (run, host, ev->ts),
                                    next ? kind_name (next) : "nothing");

          tid = current_tid (tr, c, ev->ts);
          l1 = guest_of_thread (run, host, tid, &u);
          if (l1 == NULL || !has_children (run, l1))
            return g_strdup_printf ("host: %s on CPU %u at %" G_GINT64_FORMAT " by thread %d, which runs %s",
                                    what, c, ev->ts, tid, l1 ? "a VM without nested VMs" : "no vCPU");
          if (l1->trace == NULL)
            continue;

          /* The L1 trace: its vCPU u entered its L2 just before (L0 sets
           * up that entry), or, for a reflected exit, writes its
           * kvm_exit next, with that reason */
          t1 = map_clock (host, l1, ev->ts);
          l1_kvm = nearest_kvm (l1->trace, (guint) u, t1, mmu);
          if (mmu && (l1_kvm == NULL || l1_kvm->kind != STRATA_EVENT_KVM_ENTRY))
            return g_strdup_printf ("host: kvm_mmu_get_page on CPU %u at %" G_GINT64_FORMAT " (+%.6f ms) for %s vCPU "
                                    "%d, whose last kvm event before is %s", c, ev->ts, rel_ms (run, host, ev->ts),
                                    l1->name, u, l1_kvm ? kind_name (l1_kvm) : "none");
          if (!mmu && l1_kvm != NULL && (l1_kvm->kind != STRATA_EVENT_KVM_EXIT || l1_kvm->v[0] != ev->v[0]))
            return g_strdup_printf ("host: kvm_nested_vmexit_inject (exit code %" G_GINT64_FORMAT ") on CPU %u at %"
                                    G_GINT64_FORMAT " (+%.6f ms) for %s vCPU %d, whose next kvm event is %s (%"
                                    G_GINT64_FORMAT ") at %" G_GINT64_FORMAT, ev->v[0], c, ev->ts,
                                    rel_ms (run, host, ev->ts), l1->name, u, kind_name (l1_kvm), l1_kvm->v[0],
                                    l1_kvm->ts);
        }
    }

  if (n_mmu == 0 || n_inject == 0)
    return g_strdup_printf ("host: %u kvm_mmu_get_page and %u kvm_nested_vmexit_inject", n_mmu, n_inject);
  g_test_message ("%u nested entries and %u reflected exits checked", n_mmu, n_inject);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* The shared runs                                                        */
/* ---------------------------------------------------------------------- */

static char *suite_dir;
static Run *shared_run;
static char *shared_key;

typedef char *(*CheckFunc) (Run *run);

typedef struct
{
  const char      *scenario;
  StrataSimLayout  layout;
  CheckFunc        check;
} RunCheck;

/* The seed of the shared runs: 1, or STRATA_TEST_SIM_SEED to try others */
static guint64
run_seed (void)
{
  const char *env = g_getenv ("STRATA_TEST_SIM_SEED");

  return env != NULL ? g_ascii_strtoull (env, NULL, 10) : 1;
}

/* The run of @scenario in @layout: simulated by its first test, kept for
 * the next ones (registered together) */
static Run *
get_run (const char      *scenario,
         StrataSimLayout  layout)
{
  g_autofree char *key = g_strdup_printf ("%s-%s", scenario, strata_sim_layout_to_string (layout));
  g_autofree char *dir = NULL;
  StrataSimOptions options;

  if (g_strcmp0 (key, shared_key) == 0)
    return shared_run;

  g_clear_pointer (&shared_run, run_free);
  g_clear_pointer (&shared_key, g_free);

  strata_sim_options_init (&options);
  options.scenario = scenario;
  options.layout = layout;
  options.duration_ns = DURATION_NS;
  options.seed = run_seed ();
  dir = g_build_filename (suite_dir, key, NULL);
  shared_run = run_new (&options, dir);
  shared_key = g_steal_pointer (&key);
  return shared_run;
}

static void
assert_no_violation (char *message)
{
  if (message != NULL)
    {
      g_test_fail_printf ("%s", message);
      g_free (message);
    }
}

static void
test_run_check (gconstpointer data)
{
  const RunCheck *rc = data;
  Run *run = get_run (rc->scenario, rc->layout);

  assert_no_violation (rc->check (run));
}

static void
test_guest_mode (gconstpointer data)
{
  const RunCheck *rc = data;
  Run *run = get_run (rc->scenario, rc->layout);

  assert_no_violation (check_guest_mode (run));
}

/* ---------------------------------------------------------------------- */
/* 6. Containers                                                          */
/* ---------------------------------------------------------------------- */

static char *
check_containers (Run *run)
{
  const Machine *vm = find_machine (run, "vm1");
  const Container *nested = NULL;
  guint n_level2 = 0, n_fork3 = 0, n_rows = 0;
  gboolean old = run->options.layout == STRATA_SIM_LAYOUT_2_6;

  g_assert_nonnull (vm);
  for (guint k = 0; k < vm->containers->len; k++)
    if (g_array_index (vm->containers, Container, k).level == 2)
      nested = &g_array_index (vm->containers, Container, k);
  if (nested == NULL)
    return g_strdup ("vm1: scenario.json lists no container at level 2");

  for (guint i = 0; i < vm->trace->events->len; i++)
    {
      const StrataEvent *ev = &g_array_index (vm->trace->events, StrataEvent, i);

      if (ev->kind == STRATA_EVENT_STATEDUMP_PROCESS_PID_NS && ev->v[4] == 2)
        {
          n_level2++;
          if (old ? ev->v[5] != STRATA_VALUE_ABSENT : ev->v[5] != nested->inum)
            return g_strdup_printf ("vm1: statedump: thread %" G_GINT64_FORMAT " at ns_level 2 in namespace %"
                                    G_GINT64_FORMAT ", %s", ev->v[0], ev->v[5],
                                    old ? "but 2.6 has no ns_inum" : "not in the nested container's");
        }
      else if (ev->kind == STRATA_EVENT_SCHED_PROCESS_FORK && fork_vtids (vm->trace, ev) != NULL)
        {
          const GArray *vtids = fork_vtids (vm->trace, ev);

          if (old)
            return g_strdup ("vm1: a 2.6 sched_process_fork with vtids");
          if (g_array_index (vtids, gint32, 0) != ev->v[2])
            return g_strdup_printf ("vm1: sched_process_fork of %" G_GINT64_FORMAT ": vtids[0] is %d",
                                    ev->v[2], g_array_index (vtids, gint32, 0));
          if (vtids->len == 3)
            {
              n_fork3++;
              if (ev->v[5] != nested->inum)
                return g_strdup_printf ("vm1: sched_process_fork of %" G_GINT64_FORMAT " with 3 vtids into "
                                        "namespace %" G_GINT64_FORMAT ", not the nested container's %u",
                                        ev->v[2], ev->v[5], nested->inum);
            }
        }
    }

  for (guint k = 0; k < run->rows->len; k++)
    {
      const Row *r = &g_array_index (run->rows, Row, k);

      n_rows += r->pcpu && r->machine == vm && r->container == nested->inum;
    }

  if (n_level2 == 0)
    return g_strdup ("vm1: no statedump entry at ns_level 2");
  if (!old && n_fork3 == 0)
    return g_strdup ("vm1: no sched_process_fork with 3 vtids");
  if (n_rows == 0)
    return g_strdup_printf ("the ground truth never runs the nested container %u", nested->inum);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* The checks can fail: each catches a run broken on purpose             */
/* ---------------------------------------------------------------------- */

static void
expect_violation (char       *message,
                  const char *what)
{
  if (message == NULL)
    g_test_fail_printf ("breaking %s went unnoticed", what);
  else
    g_test_message ("%s: %s", what, message);
  g_free (message);
}

static void
test_checks_can_fail (void)
{
  Run *run = get_run ("nested", STRATA_SIM_LAYOUT_2_13);
  Machine *l1 = find_machine (run, "vm1");
  Machine *l2 = find_machine (run, "vm1-l2");
  Machine *host = run_host (run);
  GArray *rows = run->pcpu_rows[1];
  Row *row = &g_array_index (rows, Row, rows->len / 2);
  guint n_changed = 0;
  g_autoptr(GArray) saved_tids = g_array_new (FALSE, FALSE, sizeof (gint32));
  StrataEvent *exit_before_mmu = NULL;
  StrataEvent *guest_exit = NULL;
  gint64 saved;

  g_assert_nonnull (l1);
  g_assert_nonnull (l2);

  /* A guest clock off by 2 ms: its events leave the entry windows */
  l2->offset_ns += 2 * MS;
  expect_violation (check_windows (run), "the L2 clock");
  l2->offset_ns -= 2 * MS;
  l1->offset_ns -= 2 * MS;
  expect_violation (check_windows (run), "the L1 clock");
  l1->offset_ns += 2 * MS;

  /* A host CPU that seems to write while in guest mode */
  for (guint i = 0; i < host->trace->events->len && guest_exit == NULL; i++)
    if (g_array_index (host->trace->events, StrataEvent, i).kind == STRATA_EVENT_KVM_EXIT)
      guest_exit = &g_array_index (host->trace->events, StrataEvent, i);
  g_assert_nonnull (guest_exit);
  guest_exit->kind = STRATA_EVENT_SCHED_WAKEUP;
  rebuild_windows (host->trace, host->name);
  expect_violation (check_guest_mode (run), "a kvm_exit");
  guest_exit->kind = STRATA_EVENT_KVM_EXIT;
  rebuild_windows (host->trace, host->name);

  /* A ground-truth row 1 ns short: a gap */
  row->end--;
  expect_violation (check_truth (run), "a ground-truth row's end");
  row->end++;

  /* Host rows naming another thread than the host trace runs */
  for (guint p = 0; p < run->n_pcpus; p++)
    for (guint i = 0; i < run->pcpu_rows[p]->len; i++)
      {
        Row *r = &g_array_index (run->pcpu_rows[p], Row, i);

        g_array_append_val (saved_tids, r->tid);
        if (r->machine == host && (r->status == ST_USER || r->status == ST_KERNEL))
          {
            r->tid += 1000;
            n_changed++;
          }
      }
  g_test_message ("%u host rows changed", n_changed);
  expect_violation (check_truth (run), "the host rows' threads");
  for (guint p = 0, k = 0; p < run->n_pcpus; p++)
    for (guint i = 0; i < run->pcpu_rows[p]->len; i++)
      g_array_index (run->pcpu_rows[p], Row, i).tid = g_array_index (saved_tids, gint32, k++);

  /* Another vm_uid */
  l1->vm_uid ^= 1;
  expect_violation (check_sync (run), "the L1 vm_uid");
  l1->vm_uid ^= 1;

  /* A nested entry that follows an HLT exit instead of VMRESUME */
  for (guint i = 0; i < host->trace->events->len && exit_before_mmu == NULL; i++)
    {
      StrataEvent *ev = &g_array_index (host->trace->events, StrataEvent, i);

      if (ev->kind == STRATA_EVENT_KVM_MMU_GET_PAGE)
        for (guint k = i; k-- > 0;)
          {
            StrataEvent *prev = &g_array_index (host->trace->events, StrataEvent, k);

            if (prev->cpu == ev->cpu && prev->kind == STRATA_EVENT_KVM_EXIT)
              {
                exit_before_mmu = prev;
                break;
              }
          }
    }
  g_assert_nonnull (exit_before_mmu);
  saved = exit_before_mmu->v[0];
  exit_before_mmu->v[0] = 12;
  expect_violation (check_nested (run), "the exit before a kvm_mmu_get_page");
  exit_before_mmu->v[0] = saved;

  /* Untouched, the run passes again */
  assert_no_violation (check_guest_mode (run));
  assert_no_violation (check_windows (run));
  assert_no_violation (check_truth (run));
  assert_no_violation (check_sync (run));
  assert_no_violation (check_nested (run));
}

/* ---------------------------------------------------------------------- */
/* 7. Same seed, same bytes                                               */
/* ---------------------------------------------------------------------- */

static void
list_files (const char *root,
            const char *rel,
            GPtrArray  *out)
{
  g_autofree char *path = rel != NULL ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_rel = rel != NULL ? g_build_filename (rel, name, NULL) : g_strdup (name);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        list_files (root, child_rel, out);
      else
        g_ptr_array_add (out, g_steal_pointer (&child_rel));
    }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The first difference between two folders, or NULL */
static char *
compare_trees (const char *a,
               const char *b)
{
  g_autoptr(GPtrArray) files_a = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) files_b = g_ptr_array_new_with_free_func (g_free);

  list_files (a, NULL, files_a);
  list_files (b, NULL, files_b);
  g_ptr_array_sort (files_a, compare_strings);
  g_ptr_array_sort (files_b, compare_strings);

  if (files_a->len != files_b->len)
    return g_strdup_printf ("%u files, then %u", files_a->len, files_b->len);
  for (guint i = 0; i < files_a->len; i++)
    {
      const char *rel = g_ptr_array_index (files_a, i);
      g_autofree char *path_a = g_build_filename (a, rel, NULL);
      g_autofree char *path_b = g_build_filename (b, rel, NULL);
      g_autofree char *bytes_a = NULL, *bytes_b = NULL;
      gsize len_a, len_b;
      g_autoptr(GError) error = NULL;

      if (!g_str_equal (rel, g_ptr_array_index (files_b, i)))
        return g_strdup_printf ("%s, then %s", rel, (const char *) g_ptr_array_index (files_b, i));
      g_file_get_contents (path_a, &bytes_a, &len_a, &error);
      g_assert_no_error (error);
      g_file_get_contents (path_b, &bytes_b, &len_b, &error);
      g_assert_no_error (error);
      if (len_a != len_b || memcmp (bytes_a, bytes_b, len_a) != 0)
        return g_strdup_printf ("%s differs", rel);
    }
  return NULL;
}

static void
simulate (const StrataSimOptions *options,
          const char             *dir)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = strata_sim_run (options, dir, NULL, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
test_same_seed (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *a = g_build_filename (tmp, "a", NULL);
  g_autofree char *b = g_build_filename (tmp, "b", NULL);
  g_autofree char *c = g_build_filename (tmp, "c", NULL);
  g_autofree char *difference = NULL;
  StrataSimOptions options;

  strata_sim_options_init (&options);
  options.scenario = "nested";
  options.duration_ns = 100 * MS;
  options.seed = 42;
  simulate (&options, a);
  simulate (&options, b);
  options.seed = 43;
  simulate (&options, c);

  assert_no_violation (compare_trees (a, b));
  difference = compare_trees (a, c);
  if (difference == NULL)
    g_test_fail_printf ("seeds 42 and 43 write the same bytes");
  else
    g_test_message ("seeds 42 and 43: %s", difference);

  strata_test_rmtree (tmp);
}

/* What is written does not change what is simulated: with --host-only,
 * or with a lost-events window, the same seed is the same run (the same
 * ground truth, the same host trace when it is whole). */
static void
test_same_run_whatever_written (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *full = g_build_filename (tmp, "full", NULL);
  g_autofree char *host_only = g_build_filename (tmp, "host-only", NULL);
  g_autofree char *lossy = g_build_filename (tmp, "lossy", NULL);
  g_autofree char *full_truth = g_build_filename (full, "ground-truth.tsv", NULL);
  g_autofree char *full_host = g_build_filename (full, "host", "kernel", NULL);
  g_autofree char *host_only_truth = g_build_filename (host_only, "ground-truth.tsv", NULL);
  g_autofree char *host_only_host = g_build_filename (host_only, "host", "kernel", NULL);
  g_autofree char *lossy_truth = g_build_filename (lossy, "ground-truth.tsv", NULL);
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  gsize len_a, len_b, len_c;
  StrataSimOptions options;

  strata_sim_options_init (&options);
  options.scenario = "paper";
  options.duration_ns = 120 * MS;
  simulate (&options, full);
  options.host_only = TRUE;
  simulate (&options, host_only);
  options.host_only = FALSE;
  options.drop_start_ns = 40 * MS;
  options.drop_length_ns = 10 * MS;
  simulate (&options, lossy);

  g_assert_true (g_file_get_contents (full_truth, &a, &len_a, NULL));
  g_assert_true (g_file_get_contents (host_only_truth, &b, &len_b, NULL));
  g_assert_true (g_file_get_contents (lossy_truth, &c, &len_c, NULL));
  g_assert_cmpmem (a, len_a, b, len_b);
  g_assert_cmpmem (a, len_a, c, len_c);
  assert_no_violation (compare_trees (full_host, host_only_host));

  strata_test_rmtree (tmp);
}

/* ---------------------------------------------------------------------- */
/* 8. Lost events                                                         */
/* ---------------------------------------------------------------------- */

static void
test_lost_events (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "out", NULL);
  g_autoptr(Run) run = NULL;
  const Machine *host;
  StrataSimOptions options;

  strata_sim_options_init (&options);
  options.scenario = "paper";
  options.duration_ns = 150 * MS;
  options.drop_start_ns = 50 * MS;
  options.drop_length_ns = 10 * MS;
  run = run_new (&options, dir);
  host = run_host (run);

  g_assert_true (run->has_lost_window);
  g_assert_cmpint (run->lost_start_ns, ==, run->start_ns + 50 * MS);
  g_assert_cmpint (run->lost_end_ns, ==, run->start_ns + 60 * MS);
  g_assert_cmpuint (run->stats.n_traces, ==, run->machines->len);

  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *m = g_ptr_array_index (run->machines, i);
      const StrataTraceInfo *info = m->trace->info;
      gint64 from = map_clock (host, m, run->lost_start_ns);
      gint64 to = map_clock (host, m, run->lost_end_ns);
      g_autoptr(GPtrArray) bt = strata_test_bt2_events (m->trace_path, NULL);

      g_test_message ("%s: %" G_GUINT64_FORMAT " events lost in %u ranges", m->name, info->lost_events,
                      info->lost_ranges->len);
      g_assert_true (info->complete);
      g_assert_false (strata_trace_info_has_errors (info));
      g_assert_cmpuint (bt->len, ==, info->n_events);
      if (info->lost_events == 0 || info->lost_ranges->len == 0)
        g_test_fail_printf ("%s: no lost events", m->name);

      for (guint k = 0; k < info->lost_ranges->len; k++)
        {
          const StrataLostRange *range = &g_array_index (info->lost_ranges, StrataLostRange, k);

          if (range->count == 0 || range->begin_ns > to || range->end_ns < from)
            g_test_fail_printf ("%s: CPU %u lost %" G_GUINT64_FORMAT " events in [%" G_GINT64_FORMAT ", %"
                                G_GINT64_FORMAT "], away from the window [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                                "] on its clock", m->name, range->cpu, range->count, range->begin_ns,
                                range->end_ns, from, to);
        }

      for (guint e = 0; e < m->trace->events->len; e++)
        {
          const StrataEvent *ev = &g_array_index (m->trace->events, StrataEvent, e);

          if (ev->kind != STRATA_EVENT_LOST && ev->ts > from && ev->ts < to)
            {
              g_test_fail_printf ("%s: %s on CPU %u at %" G_GINT64_FORMAT " (+%.6f ms), inside the lost-events "
                                  "window [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", m->name, kind_name (ev),
                                  ev->cpu, ev->ts, rel_ms (run, m, ev->ts), from, to);
              break;
            }
        }
    }

  g_clear_pointer (&run, run_free);
  strata_test_rmtree (tmp);
}

/* ---------------------------------------------------------------------- */
/* 9. Host only                                                           */
/* ---------------------------------------------------------------------- */

static void
test_host_only (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "out", NULL);
  g_autoptr(Run) run = NULL;
  StrataSimOptions options;
  guint n_vcpu_rows = 0;

  strata_sim_options_init (&options);
  options.scenario = "paper";
  options.duration_ns = 100 * MS;
  options.host_only = TRUE;
  run = run_new (&options, dir);

  g_assert_cmpuint (run->stats.n_traces, ==, 1);
  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *m = g_ptr_array_index (run->machines, i);
      g_autofree char *trace = g_build_filename (dir, m->name, "kernel", NULL);

      g_assert_cmpint (g_file_test (trace, G_FILE_TEST_EXISTS), ==, m->layer == 0);
      g_assert_true ((m->trace_path != NULL) == (m->layer == 0));
      if (m->layer > 0)
        for (guint v = 0; v < m->n_cpus; v++)
          n_vcpu_rows += m->vcpu_rows[v]->len;
    }
  g_assert_cmpuint (n_vcpu_rows, >, 0);

  /* The rest holds as in a full run, as far as the host trace says */
  assert_no_violation (check_decode (run));
  assert_no_violation (check_guest_mode (run));
  assert_no_violation (check_windows (run));
  assert_no_violation (check_truth (run));

  g_clear_pointer (&run, run_free);
  strata_test_rmtree (tmp);
}

/* ---------------------------------------------------------------------- */
/* 10. Scale, and options that cannot be                                  */
/* ---------------------------------------------------------------------- */

static void
test_scale (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "out", NULL);
  g_autoptr(Run) run = NULL;
  StrataSimOptions options;
  guint n_by_layer[3] = { 0 };

  strata_sim_options_init (&options);
  options.scenario = "paper";
  options.duration_ns = 100 * MS;
  options.scale = 2;
  run = run_new (&options, dir);

  g_assert_cmpuint (run->stats.n_machines, ==, 7);
  g_assert_cmpuint (run->machines->len, ==, 7);
  g_assert_cmpuint (run->stats.n_traces, ==, 7);
  for (guint i = 0; i < run->machines->len; i++)
    {
      const Machine *m = g_ptr_array_index (run->machines, i);

      g_assert_cmpint (m->layer, <=, 2);
      n_by_layer[m->layer]++;
      for (guint k = 0; k < i; k++)
        g_assert_cmpstr (m->name, !=, ((Machine *) g_ptr_array_index (run->machines, k))->name);
    }
  g_assert_cmpuint (n_by_layer[0], ==, 1);
  g_assert_cmpuint (n_by_layer[1], ==, 4);
  g_assert_cmpuint (n_by_layer[2], ==, 2);
  g_assert_cmpuint (run_host (run)->n_cpus, ==, 8);

  assert_no_violation (check_decode (run));
  assert_no_violation (check_guest_mode (run));
  assert_no_violation (check_windows (run));
  assert_no_violation (check_truth (run));
  assert_no_violation (check_sync (run));

  g_clear_pointer (&run, run_free);
  strata_test_rmtree (tmp);
}

static void
test_bad_options (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *out = g_build_filename (tmp, "out", NULL);
  g_autofree char *full = g_build_filename (tmp, "full", NULL);
  g_autofree char *keep = g_build_filename (full, "keep.txt", NULL);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  StrataSimOptions options;
  StrataSimStats stats = { 0 };

  /* An unknown scenario: the error names it and the known ones */
  strata_sim_options_init (&options);
  options.scenario = "no-such-scenario";
  g_assert_false (strata_sim_run (&options, out, NULL, NULL, NULL, &stats, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "no-such-scenario"));
  g_assert_nonnull (strstr (error->message, "paper"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (stats.n_events, ==, 0);
  g_clear_error (&error);

  /* Scale 0, duration 0 */
  strata_sim_options_init (&options);
  options.scale = 0;
  g_assert_false (strata_sim_run (&options, out, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "scale"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  strata_sim_options_init (&options);
  options.duration_ns = 0;
  g_assert_false (strata_sim_run (&options, out, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* A folder with something in it: left as it was */
  g_assert_cmpint (g_mkdir (full, 0755), ==, 0);
  g_file_set_contents (keep, "mine", -1, &error);
  g_assert_no_error (error);
  strata_sim_options_init (&options);
  options.duration_ns = 10 * MS;
  g_assert_false (strata_sim_run (&options, full, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, full));
  list_files (full, NULL, files);
  g_assert_cmpuint (files->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (files, 0), ==, "keep.txt");

  strata_test_rmtree (tmp);
}

typedef struct
{
  GCancellable *cancellable;
  guint         n_calls;
  double        last;
} Progress;

static void
progress_cb (double   fraction,
             gpointer user_data)
{
  Progress *progress = user_data;

  g_assert_cmpfloat (fraction, >=, progress->last);
  g_assert_cmpfloat (fraction, <=, 1.0);
  progress->last = fraction;
  progress->n_calls++;
  if (progress->cancellable != NULL)
    g_cancellable_cancel (progress->cancellable);
}

static guint
count_entries (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Progress goes up to 1; a run cancelled half-way fails and leaves
 * nothing behind */
static void
test_cancel (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *done = g_build_filename (tmp, "done", NULL);
  g_autofree char *stopped = g_build_filename (tmp, "stopped", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Progress progress = { 0 };
  StrataSimOptions options;
  gboolean ok;

  strata_sim_options_init (&options);
  options.scenario = "paper";
  options.duration_ns = 600 * MS;
  ok = strata_sim_run (&options, done, progress_cb, &progress, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (progress.n_calls, >=, 2);
  g_assert_cmpfloat (progress.last, ==, 1.0);

  /* Cancelled at its first progress report */
  progress = (Progress) { cancellable, 0, 0 };
  ok = strata_sim_run (&options, stopped, progress_cb, &progress, cancellable, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (ok);
  g_assert_cmpuint (progress.n_calls, ==, 1);
  g_assert_cmpfloat (progress.last, <, 1.0);
  g_assert_cmpuint (count_entries (stopped), ==, 0);

  strata_test_rmtree (tmp);
}

/* ---------------------------------------------------------------------- */

/* Whether @scenario is one of the space-separated @list (NULL: all) */
static gboolean
scenario_in (const char *scenario,
             const char *list)
{
  g_auto(GStrv) names = list != NULL ? g_strsplit (list, " ", -1) : NULL;

  return names == NULL || g_strv_contains ((const char * const *) names, scenario);
}

int
main (int   argc,
      char *argv[])
{
  static const StrataSimLayout layouts[] = { STRATA_SIM_LAYOUT_2_13, STRATA_SIM_LAYOUT_2_10, STRATA_SIM_LAYOUT_2_6 };
  static const struct
  {
    const char    *name;
    CheckFunc      check;
    GTestDataFunc  func;
    const char    *scenarios;   /* NULL: all */
  } checks[] = {
    { "decode", check_decode, test_run_check, NULL },
    { "guest-mode", check_guest_mode, test_guest_mode, NULL },
    { "windows", check_windows, test_run_check, NULL },
    { "truth", check_truth, test_run_check, NULL },
    { "sync", check_sync, test_run_check, NULL },
    { "nested", check_nested, test_run_check, "nested paper wakeup" },
    { "containers", check_containers, test_run_check, "containers" },
  };
  const char * const *scenarios = strata_sim_scenario_names ();
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  suite_dir = g_dir_make_tmp ("strata-test-sim-XXXXXX", &error);
  g_assert_no_error (error);

  /* Every scenario in every layout. The checks of one run are one suite,
   * run one after the other: the run is simulated once. */
  for (guint s = 0; scenarios[s] != NULL; s++)
    for (guint l = 0; l < G_N_ELEMENTS (layouts); l++)
      {
        const char *layout_name = strata_sim_layout_to_string (layouts[l]);

        for (guint c = 0; c < G_N_ELEMENTS (checks); c++)
          {
            g_autofree char *path = NULL;
            RunCheck *rc;

            if (!scenario_in (scenarios[s], checks[c].scenarios))
              continue;
            rc = g_new0 (RunCheck, 1);
            rc->scenario = scenarios[s];
            rc->layout = layouts[l];
            rc->check = checks[c].check;
            g_ptr_array_add (cases, rc);
            path = g_strdup_printf ("/strata/sim/%s/%s/%s", scenarios[s], layout_name, checks[c].name);
            g_test_add_data_func (path, rc, checks[c].func);
          }

        if (g_str_equal (scenarios[s], "nested") && layouts[l] == STRATA_SIM_LAYOUT_2_13)
          g_test_add_func ("/strata/sim/nested/2.13/checks-can-fail", test_checks_can_fail);
      }

  g_test_add_func ("/strata/sim/same-seed", test_same_seed);
  g_test_add_func ("/strata/sim/lost-events", test_lost_events);
  g_test_add_func ("/strata/sim/host-only", test_host_only);
  g_test_add_func ("/strata/sim/same-run-whatever-written", test_same_run_whatever_written);
  g_test_add_func ("/strata/sim/scale", test_scale);
  g_test_add_func ("/strata/sim/bad-options", test_bad_options);
  g_test_add_func ("/strata/sim/cancel", test_cancel);

  status = g_test_run ();

  g_clear_pointer (&shared_run, run_free);
  g_clear_pointer (&shared_key, g_free);
  strata_test_rmtree (suite_dir);
  g_free (suite_dir);
  return status;
}
