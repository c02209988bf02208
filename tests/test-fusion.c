/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strata-sim.h"
#include "strata-test-utils.h"

/*
 * The fused analysis, through strata-cli, against the simulator's ground
 * truth: what every physical CPU executed and the state of every vCPU, at
 * random times, for every scenario, with every trace and with the host's
 * alone (simulated with seed 1, or STRATA_TEST_SIM_SEED). Also the
 * analysis cache (reused without reading the traces; a run killed midway
 * leaves nothing trusted) and the wake-up latencies.
 */

#define GT_DURATION_MS     "60"
#define GT_N_SAMPLES       1500
/* The synchronization's accuracy decides which samples near a boundary
 * may differ; it must stay well below the rows' lengths to mean anything. */
#define MAX_TOLERANCE_NS   20000.0
#define MAX_SHOWN          20

/* ---------------------------------------------------------------------- */
/* The ground truth                                                       */
/* ---------------------------------------------------------------------- */

/* record cpu start end machine layer vcpu tid vtid container status */
enum
{
  COL_RECORD,
  COL_CPU,
  COL_START,
  COL_END,
  COL_MACHINE,
  COL_LAYER,
  COL_VCPU,
  COL_TID,
  COL_VTID,
  COL_CONTAINER,
  COL_STATUS,
  N_COLS
};

typedef struct
{
  gint64      start;
  gint64      end;
  guint       line;        /* ties on start and end keep the file's order */
  const char *f[N_COLS];   /* Borrowed from Truth.text */
} TruthRow;

/* The rows of one pCPU or one vCPU */
typedef struct
{
  GArray *rows;    /* TruthRow, by start */
  GArray *bounds;  /* gint64: every row's start and end, sorted */
} Track;

typedef struct
{
  char       *text;   /* Owned: the file, cut into fields in place */
  GHashTable *pcpus;  /* "cpu" → Track */
  GHashTable *vcpus;  /* "machine\tvcpu" → Track */
} Truth;

static void
track_free (gpointer data)
{
  Track *track = data;

  g_array_unref (track->rows);
  g_array_unref (track->bounds);
  g_free (track);
}

static void
truth_free (Truth *truth)
{
  g_free (truth->text);
  g_hash_table_unref (truth->pcpus);
  g_hash_table_unref (truth->vcpus);
  g_free (truth);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Truth, truth_free)

static int
compare_rows (gconstpointer a,
              gconstpointer b)
{
  const TruthRow *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

static int
compare_times (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static char *
pcpu_key (gint64 cpu)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, cpu);
}

static char *
vcpu_key (const char *machine,
          gint64      vcpu)
{
  return g_strdup_printf ("%s\t%" G_GINT64_FORMAT, machine, vcpu);
}

static gint64
parse_int (const char *text,
           guint       line)
{
  char *end = NULL;
  gint64 value = g_ascii_strtoll (text, &end, 10);

  if (text[0] == '\0' || *end != '\0')
    g_error ("ground-truth.tsv:%u: \"%s\" is not an integer", line, text);
  return value;
}

static void
add_row (GHashTable     *tracks,
         char           *key,
         const TruthRow *row)
{
  Track *track = g_hash_table_lookup (tracks, key);

  if (track == NULL)
    {
      track = g_new0 (Track, 1);
      track->rows = g_array_new (FALSE, FALSE, sizeof (TruthRow));
      track->bounds = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_hash_table_insert (tracks, key, track);
    }
  else
    g_free (key);
  g_array_append_val (track->rows, *row);
  g_array_append_val (track->bounds, row->start);
  g_array_append_val (track->bounds, row->end);
}

static Truth *
truth_load (const char *sim_dir)
{
  g_autofree char *path = g_build_filename (sim_dir, "ground-truth.tsv", NULL);
  g_autoptr(GError) error = NULL;
  Truth *truth = g_new0 (Truth, 1);
  GHashTableIter iter;
  Track *track;
  char *p;
  guint line = 0;

  g_file_get_contents (path, &truth->text, NULL, &error);
  g_assert_no_error (error);
  truth->pcpus = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, track_free);
  truth->vcpus = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, track_free);

  /* Cut by hand: the file can have 100k rows, and strstr() under ASan
   * measures the rest of the text at each line. */
  for (p = truth->text; *p != '\0';)
    {
      TruthRow row = { 0 };
      guint n = 0;

      line++;
      row.line = line;
      row.f[n++] = p;
      while (*p != '\0' && *p != '\n')
        {
          if (*p == '\t')
            {
              *p = '\0';
              if (n < N_COLS)
                row.f[n] = p + 1;
              n++;
            }
          p++;
        }
      if (*p == '\n')
        *p++ = '\0';

      if (row.f[0][0] == '#' || g_str_equal (row.f[0], "record") || row.f[0][0] == '\0')
        continue;
      if (n != N_COLS)
        g_error ("ground-truth.tsv:%u: %u columns, not %d", line, n, N_COLS);
      row.start = parse_int (row.f[COL_START], line);
      row.end = parse_int (row.f[COL_END], line);

      if (g_str_equal (row.f[COL_RECORD], "pcpu"))
        add_row (truth->pcpus, pcpu_key (parse_int (row.f[COL_CPU], line)), &row);
      else if (g_str_equal (row.f[COL_RECORD], "vcpu"))
        add_row (truth->vcpus, vcpu_key (row.f[COL_MACHINE], parse_int (row.f[COL_VCPU], line)), &row);
      else
        g_error ("ground-truth.tsv:%u: unknown record \"%s\"", line, row.f[COL_RECORD]);
    }

  for (int k = 0; k < 2; k++)
    {
      g_hash_table_iter_init (&iter, k == 0 ? truth->pcpus : truth->vcpus);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &track))
        {
          g_array_sort (track->rows, compare_rows);
          g_array_sort (track->bounds, compare_times);
        }
    }
  return truth;
}

/* The row that holds @t (start ≤ t < end) among those of @track, looking
 * only at the last one starting at or before @t; NULL if none */
static const TruthRow *
track_find (const Track *track,
            gint64       t)
{
  guint lo = 0, hi;
  const TruthRow *row;

  if (track == NULL)
    return NULL;
  hi = track->rows->len;
  /* The first row that starts after t */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (track->rows, TruthRow, mid).start <= t)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == 0)
    return NULL;
  row = &g_array_index (track->rows, TruthRow, lo - 1);
  return t < row->end ? row : NULL;
}

/* TRUE if a row of @track starts or ends within @margin of @t */
static gboolean
track_near_bound (const Track *track,
                  gint64       t,
                  gint64       margin)
{
  guint lo = 0, hi = track->bounds->len;

  /* The first bound ≥ t - margin */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (track->bounds, gint64, mid) < t - margin)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < track->bounds->len && g_array_index (track->bounds, gint64, lo) <= t + margin;
}

/* ---------------------------------------------------------------------- */
/* Running strata-cli                                                     */
/* ---------------------------------------------------------------------- */

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_parser_steal_root (parser);
}

static void
simulate (const char *scenario,
          const char *duration_ms,
          const char *seed,
          gboolean    host_only,
          const char *out)
{
  StrataTestRun run;

  if (host_only)
    strata_test_run_cli (&run, "simulate", "--scenario", scenario, "--out", out,
                         "--duration-ms", duration_ms, "--seed", seed, "--host-only", NULL);
  else
    strata_test_run_cli (&run, "simulate", "--scenario", scenario, "--out", out,
                         "--duration-ms", duration_ms, "--seed", seed, NULL);
  if (run.status != 0)
    g_error ("strata-cli simulate --scenario %s failed (%d): %s", scenario, run.status, run.err);
  strata_test_run_clear (&run);
}

/* scenario.json, and its machines by name in @machines */
static JsonNode *
load_scenario (const char *sim_dir,
               GHashTable *machines)
{
  g_autofree char *path = g_build_filename (sim_dir, "scenario.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  JsonArray *array;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_parser_steal_root (parser);
  array = json_object_get_array_member (json_node_get_object (root), "machines");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *sm = json_array_get_object_element (array, i);

      g_hash_table_insert (machines, (char *) json_object_get_string_member (sm, "name"), sm);
    }
  return root;
}

/* `analyze --json`: its summary, with "from_cache" */
static JsonNode *
analyze (const char *cache,
         const char *sim_dir)
{
  StrataTestRun run;
  JsonNode *summary;

  strata_test_run_cli (&run, "analyze", "--json", "--cache-dir", cache, sim_dir, NULL);
  if (run.status != 0)
    g_error ("strata-cli analyze %s failed (%d): %s", sim_dir, run.status, run.err);
  summary = parse_json (run.out);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (summary));
  strata_test_run_clear (&run);
  return summary;
}

static gboolean
from_cache (JsonNode *summary)
{
  return json_object_get_boolean_member (json_node_get_object (summary), "from_cache");
}

/* `query --json` at @times: its text (for exact comparisons) */
static char *
query_text (const char   *cache,
            const char   *sim_dir,
            const GArray *times)
{
  g_autoptr(GString) at = g_string_new (NULL);
  StrataTestRun run;
  char *out;

  for (guint i = 0; i < times->len; i++)
    g_string_append_printf (at, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "", g_array_index (times, gint64, i));
  strata_test_run_cli (&run, "query", "--json", "--cache-dir", cache, "--at", at->str, sim_dir, NULL);
  if (run.status != 0)
    g_error ("strata-cli query %s failed (%d): %s", sim_dir, run.status, run.err);
  out = g_steal_pointer (&run.out);
  strata_test_run_clear (&run);
  return out;
}

/* @n times drawn from [from, to), sorted */
static GArray *
random_times (guint32 seed,
              gint64  from,
              gint64  to,
              guint   n)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  GArray *times = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n);

  g_assert_cmpint (from, <, to);
  for (guint i = 0; i < n; i++)
    {
      gint64 t = from + (gint64) (g_rand_double (rand) * (double) (to - from));

      g_array_append_val (times, t);
    }
  g_array_sort (times, compare_times);
  return times;
}

/* ---------------------------------------------------------------------- */
/* Comparing a query with the ground truth                                */
/* ---------------------------------------------------------------------- */

typedef struct
{
  const char *label;
  GHashTable *scenario;     /* Borrowed: scenario machine name → JsonObject */
  GHashTable *name_of;      /* analysis machine name → scenario machine name */
  Truth      *truth;        /* Borrowed */
  gint64      start;
  double      tolerance;    /* the synchronization's worst accuracy, ns */
  guint       total;
  guint       tolerated;
  guint       bad;
  GString    *first_bad;
} Comparison;

static const char *
nullable_string (JsonObject *o,
                 const char *member)
{
  if (!json_object_has_member (o, member) || json_object_get_null_member (o, member))
    return NULL;
  return json_object_get_string_member (o, member);
}

/* The worst accuracy of the synchronization in @summary, in ns, over
 * every trace but those of @except_hostname (NULL: none) */
static double
sync_tolerance (JsonObject *summary,
                const char *except_hostname)
{
  JsonObject *sync = json_object_get_object_member (summary, "sync");
  JsonArray *traces;
  double tolerance = 0;

  if (!json_object_has_member (sync, "traces"))
    return 0;
  traces = json_object_get_array_member (sync, "traces");
  for (guint i = 0; i < json_array_get_length (traces); i++)
    {
      JsonObject *tr = json_array_get_object_element (traces, i);

      if (except_hostname != NULL && g_strcmp0 (nullable_string (tr, "hostname"), except_hostname) == 0)
        continue;
      if (json_object_has_member (tr, "accuracy_ns") && !json_object_get_null_member (tr, "accuracy_ns"))
        tolerance = MAX (tolerance, json_object_get_double_member (tr, "accuracy_ns"));
    }
  return tolerance;
}

/* An integer member as the ground truth writes it: @absent when null */
static char *
int_text (JsonObject *o,
          const char *member,
          const char *absent)
{
  if (json_object_get_null_member (o, member))
    return g_strdup (absent);
  return g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (o, member));
}

/* Analysis machines are the scenario's by host name when traced; an
 * untraced VM (qemu-<pid>) by its QEMU process under the same parent. */
static GHashTable *
map_machine_names (JsonObject *summary,
                   JsonObject *scenario)
{
  GHashTable *name_of = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *machines = json_object_get_array_member (summary, "machines");
  JsonArray *sim_machines = json_object_get_array_member (scenario, "machines");

  for (guint i = 0; i < json_array_get_length (machines); i++)
    {
      JsonObject *m = json_array_get_object_element (machines, i);
      const char *name = json_object_get_string_member (m, "name");
      const char *hostname = nullable_string (m, "hostname");
      const char *parent = nullable_string (m, "parent");

      for (guint k = 0; k < json_array_get_length (sim_machines); k++)
        {
          JsonObject *sm = json_array_get_object_element (sim_machines, k);

          if (hostname != NULL && hostname[0] != '\0'
              && g_strcmp0 (hostname, nullable_string (sm, "hostname")) == 0)
            g_hash_table_insert (name_of, (char *) name, (char *) json_object_get_string_member (sm, "name"));
          else if (json_object_has_member (m, "qemu_pid") && !json_object_get_null_member (m, "qemu_pid")
                   && json_object_has_member (sm, "qemu_pid")
                   && json_object_get_int_member (sm, "qemu_pid") == json_object_get_int_member (m, "qemu_pid")
                   && !json_object_get_boolean_member (m, "traced")
                   && g_strcmp0 (parent != NULL ? g_hash_table_lookup (name_of, parent) : NULL,
                                 nullable_string (sm, "parent")) == 0)
            g_hash_table_insert (name_of, (char *) name, (char *) json_object_get_string_member (sm, "name"));
        }
    }
  return name_of;
}

/* The scenario's name of an analysis machine */
static const char *
name_in (GHashTable *name_of,
         const char *analysis_name)
{
  const char *name = g_hash_table_lookup (name_of, analysis_name);

  return name != NULL ? name : analysis_name;
}

static JsonObject *
scenario_machine (Comparison *cmp,
                  const char *name)
{
  JsonObject *m = g_hash_table_lookup (cmp->scenario, name);

  if (m == NULL)
    g_error ("%s: the ground truth names machine %s, which scenario.json does not have", cmp->label, name);
  return m;
}

static gboolean
is_traced (JsonObject *sim_machine)
{
  return !json_object_get_null_member (sim_machine, "trace");
}

/* TRUE if, at @t, a vCPU of one of the VMs from @machine up to @last
 * (inclusive, following parents) runs on physical CPU @cpu, as the
 * ground truth says */
static gboolean
untraced_vm_runs_on (Comparison *cmp,
                     const char *machine,
                     const char *last,
                     const char *cpu,
                     gint64      t)
{
  for (const char *name = machine; name != NULL;)
    {
      JsonObject *m = scenario_machine (cmp, name);
      JsonArray *vcpus = json_object_get_array_member (m, "vcpus");

      for (guint k = 0; vcpus != NULL && k < json_array_get_length (vcpus); k++)
        {
          g_autofree char *key = vcpu_key (name, json_object_get_int_member (json_array_get_object_element (vcpus, k),
                                                                             "vcpu"));
          const TruthRow *row = track_find (g_hash_table_lookup (cmp->truth->vcpus, key), t);

          if (row != NULL && g_str_equal (row->f[COL_STATUS], "running") && g_str_equal (row->f[COL_CPU], cpu))
            return TRUE;
        }
      if (g_str_equal (name, last))
        break;
      name = nullable_string (m, "parent");
    }
  return FALSE;
}

static char *
tuple_text (const char * const f[7])
{
  return g_strdup_printf ("(%s, L%s, vcpu %s, tid %s, vtid %s, container %s, %s)",
                          f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
}

static void
mismatch (Comparison *cmp,
          gint64      t,
          const char *what,
          const char *got,
          const char *expected)
{
  g_autofree char *text = g_strdup_printf ("%s: t=%" G_GINT64_FORMAT " (start + %" G_GINT64_FORMAT " ns), %s: "
                                           "got %s, expected %s",
                                           cmp->label, t, t - cmp->start, what, got, expected);

  cmp->bad++;
  if (cmp->bad <= MAX_SHOWN)
    g_test_message ("%s", text);
  if (cmp->first_bad->len == 0)
    g_string_append (cmp->first_bad, text);
}

/* A difference counts only away from the ground truth's boundaries of
 * that CPU: within the synchronization's accuracy, either side is right. */
static gboolean
tolerated (Comparison  *cmp,
           const Track *track,
           gint64       t)
{
  if (cmp->tolerance > 0 && track_near_bound (track, t, (gint64) floor (cmp->tolerance + 2.0)))
    {
      cmp->tolerated++;
      return TRUE;
    }
  return FALSE;
}

static void
compare_pcpu (Comparison *cmp,
              gint64      t,
              JsonObject *c)
{
  gint64 cpu = json_object_get_int_member (c, "cpu");
  g_autofree char *key = pcpu_key (cpu);
  const Track *track = g_hash_table_lookup (cmp->truth->pcpus, key);
  const TruthRow *row = track_find (track, t);
  g_autofree char *layer = int_text (c, "layer", "?");
  g_autofree char *vcpu = int_text (c, "vcpu", "-");
  g_autofree char *tid = int_text (c, "tid", "?");
  g_autofree char *vtid = int_text (c, "vtid", "-");
  const char *container = nullable_string (c, "container");
  const char *got[7];
  const char *exp[7];
  g_autofree char *got_text = NULL;
  g_autofree char *exp_text = NULL;
  g_autofree char *anc_layer = NULL;
  JsonObject *sm;

  cmp->total++;
  if (row == NULL)
    return;

  got[0] = name_in (cmp->name_of, json_object_get_string_member (c, "machine"));
  got[1] = layer;
  got[2] = vcpu;
  got[3] = tid;
  got[4] = vtid;
  got[5] = container != NULL ? container : "-";
  got[6] = json_object_get_string_member (c, "status");
  for (int k = 0; k < 7; k++)
    exp[k] = row->f[COL_MACHINE + k];

  sm = scenario_machine (cmp, row->f[COL_MACHINE]);
  if (!is_traced (sm))
    {
      /* An untraced guest: only what its traced ancestor's hypervisor
       * knows. The machine is the untraced VM just below a traced one. */
      const char *status = row->f[COL_STATUS];
      const char *anc = row->f[COL_MACHINE];
      JsonObject *am = sm;
      gboolean host_handles = FALSE;

      while (nullable_string (am, "parent") != NULL
             && !is_traced (scenario_machine (cmp, nullable_string (am, "parent"))))
        {
          anc = nullable_string (am, "parent");
          am = scenario_machine (cmp, anc);
        }
      anc_layer = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (am, "layer"));

      /* Whose hypervisor handles an exit of a VM nested in an untraced
       * one: the traced host's, unless a VM between them executes on
       * this CPU (its vCPU runs: its own hypervisor is at work). The
       * row's tid cannot tell: tids are per machine, and the host's
       * thread of L1's vCPU 1 may well have the tid of L1's thread of
       * L2's vCPU 1. */
      if (g_str_equal (status, "vmm") && !g_str_equal (anc, row->f[COL_MACHINE]))
        host_handles = !untraced_vm_runs_on (cmp, nullable_string (sm, "parent"), anc, row->f[COL_CPU], t);

      if (g_str_equal (status, "vmm") && g_str_equal (anc, row->f[COL_MACHINE]))
        {
          /* A VM right below a traced one: its exits are handled by a
           * traced hypervisor, which knows all */
        }
      else if (g_str_equal (status, "vmm") && host_handles)
        {
          exp[0] = anc, exp[1] = anc_layer, exp[2] = got[2];
        }
      else if (g_str_equal (status, "vmm"))
        {
          exp[0] = anc, exp[1] = anc_layer, exp[2] = got[2];
          exp[3] = "?", exp[4] = "-", exp[5] = "-", exp[6] = "unknown";
        }
      else if (g_str_equal (anc, row->f[COL_MACHINE]))
        {
          exp[3] = "?", exp[4] = "-", exp[5] = "-", exp[6] = "unknown";
        }
      else
        {
          exp[0] = anc, exp[1] = anc_layer, exp[2] = got[2];
          exp[3] = "?", exp[4] = "-", exp[5] = "-", exp[6] = "unknown";
        }
    }

  got_text = tuple_text (got);
  exp_text = tuple_text (exp);
  if (!g_str_equal (got_text, exp_text) && !tolerated (cmp, track, t))
    {
      g_autofree char *what = g_strdup_printf ("pCPU %" G_GINT64_FORMAT, cpu);

      mismatch (cmp, t, what, got_text, exp_text);
    }
}

static void
compare_vcpu (Comparison *cmp,
              gint64      t,
              JsonObject *v)
{
  const char *machine = name_in (cmp->name_of, json_object_get_string_member (v, "machine"));
  gint64 vcpu = json_object_get_int_member (v, "vcpu");
  g_autofree char *key = vcpu_key (machine, vcpu);
  const Track *track = g_hash_table_lookup (cmp->truth->vcpus, key);
  const TruthRow *row = track_find (track, t);
  g_autofree char *pcpu = int_text (v, "pcpu", "-");
  g_autofree char *got = NULL;
  g_autofree char *exp = NULL;

  cmp->total++;
  if (row == NULL)
    return;
  got = g_strdup_printf ("(%s, pCPU %s)", json_object_get_string_member (v, "state"), pcpu);
  exp = g_strdup_printf ("(%s, pCPU %s)", row->f[COL_STATUS], row->f[COL_CPU]);
  if (!g_str_equal (got, exp) && !tolerated (cmp, track, t))
    {
      g_autofree char *what = g_strdup_printf ("vCPU %s/%" G_GINT64_FORMAT, machine, vcpu);

      mismatch (cmp, t, what, got, exp);
    }
}

/* ---------------------------------------------------------------------- */
/* /strata/fusion/ground-truth/<scenario>[/host-only]                     */
/* ---------------------------------------------------------------------- */

typedef struct
{
  char     *scenario;
  gboolean  host_only;
} GroundTruthCase;

/* 1, or STRATA_TEST_SIM_SEED to try another simulation */
static const char *
ground_truth_seed (void)
{
  const char *env = g_getenv ("STRATA_TEST_SIM_SEED");

  return env != NULL && env[0] != '\0' ? env : "1";
}

static void
ground_truth_case_free (gpointer data)
{
  GroundTruthCase *gt = data;

  g_free (gt->scenario);
  g_free (gt);
}

static void
test_ground_truth (gconstpointer data)
{
  const GroundTruthCase *gt = data;
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *sim_dir = g_build_filename (tmp, "sim", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  g_autofree char *label = g_strdup_printf ("%s%s", gt->scenario, gt->host_only ? " (host only)" : "");
  g_autofree char *query_out = NULL;
  g_autoptr(JsonNode) summary_node = NULL;
  g_autoptr(JsonNode) scenario_node = NULL;
  g_autoptr(JsonNode) samples_node = NULL;
  g_autoptr(GHashTable) scenario = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) name_of = NULL;
  g_autoptr(Truth) truth = NULL;
  g_autoptr(GArray) times = NULL;
  g_autoptr(GString) first_bad = g_string_new (NULL);
  JsonObject *summary;
  JsonArray *machines, *samples;
  gint64 warm, end;
  double tolerance;
  Comparison cmp = { 0 };

  simulate (gt->scenario, GT_DURATION_MS, ground_truth_seed (), gt->host_only, sim_dir);
  summary_node = analyze (cache, sim_dir);
  summary = json_node_get_object (summary_node);

  scenario_node = load_scenario (sim_dir, scenario);
  name_of = map_machine_names (summary, json_node_get_object (scenario_node));
  truth = truth_load (sim_dir);

  /* Sampled after every traced machine knows what each of its CPUs runs */
  warm = json_object_get_int_member (summary, "start_ns");
  end = json_object_get_int_member (summary, "end_ns");
  machines = json_object_get_array_member (summary, "machines");
  for (guint i = 0; i < json_array_get_length (machines); i++)
    {
      JsonObject *m = json_array_get_object_element (machines, i);

      if (!json_object_get_boolean_member (m, "traced"))
        continue;
      if (json_object_get_null_member (m, "state_complete_ns"))
        g_error ("%s: machine %s is traced but its state is never complete", label,
                 json_object_get_string_member (m, "name"));
      warm = MAX (warm, json_object_get_int_member (m, "state_complete_ns"));
    }

  tolerance = sync_tolerance (summary, NULL);
  g_test_message ("%s: warm-up %" G_GINT64_FORMAT " ns, tolerance %.1f ns", label,
                  warm - json_object_get_int_member (summary, "start_ns"), tolerance);
  g_assert_cmpfloat (tolerance, <, MAX_TOLERANCE_NS);

  times = random_times (1, warm, end, GT_N_SAMPLES);
  query_out = query_text (cache, sim_dir, times);
  samples_node = parse_json (query_out);
  samples = json_node_get_array (samples_node);
  g_assert_cmpuint (json_array_get_length (samples), ==, GT_N_SAMPLES);

  cmp.label = label;
  cmp.scenario = scenario;
  cmp.name_of = name_of;
  cmp.truth = truth;
  cmp.start = json_object_get_int_member (summary, "start_ns");
  cmp.tolerance = tolerance;
  cmp.first_bad = first_bad;
  for (guint i = 0; i < json_array_get_length (samples); i++)
    {
      JsonObject *s = json_array_get_object_element (samples, i);
      JsonArray *cpus = json_object_get_array_member (s, "cpus");
      JsonArray *vcpus = json_object_get_array_member (s, "vcpus");
      gint64 t = json_object_get_int_member (s, "t");

      g_assert_cmpint (t, ==, g_array_index (times, gint64, i));
      for (guint k = 0; k < json_array_get_length (cpus); k++)
        compare_pcpu (&cmp, t, json_array_get_object_element (cpus, k));
      for (guint k = 0; k < json_array_get_length (vcpus); k++)
        compare_vcpu (&cmp, t, json_array_get_object_element (vcpus, k));
    }

  g_test_message ("%s: %u samples, %u differ, %u tolerated near a boundary", label, cmp.total, cmp.bad,
                  cmp.tolerated);
  g_assert_cmpuint (cmp.total, >, 0);
  if (cmp.bad > 0)
    g_test_fail_printf ("%s: %u of %u samples differ from the ground truth; the first: %s",
                        label, cmp.bad, cmp.total, cmp.first_bad->str);
  /* Tolerance that excuses much would hide real errors */
  g_assert_cmpuint (cmp.tolerated * 20, <, cmp.total);

  strata_test_rmtree (tmp);
}

/* ---------------------------------------------------------------------- */
/* The cache                                                              */
/* ---------------------------------------------------------------------- */

/* Every trace folder (one with a metadata file) below @dir */
static void
collect_traces (const char *dir,
                GPtrArray  *traces)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autofree char *metadata = g_build_filename (dir, "metadata", NULL);
  const char *name;

  g_assert_nonnull (d);
  if (g_file_test (metadata, G_FILE_TEST_IS_REGULAR))
    g_ptr_array_add (traces, g_strdup (dir));
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        collect_traces (child, traces);
    }
}

/* Overwrites @path with as many random bytes, and gives it back its
 * modification time to the nanosecond: the traces' identity is unchanged. */
static void
damage_keeping_mtime (const char *path,
                      GRand      *rand)
{
  g_autofree guint8 *before = NULL;
  g_autofree guint8 *garbage = NULL;
  struct timespec times[2];
  struct stat st;
  gsize len;
  int fd;

  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_true (g_file_get_contents (path, (char **) &before, &len, NULL));
  g_assert_cmpuint (len, ==, (gsize) st.st_size);
  garbage = g_malloc (len + 1);
  do
    {
      for (gsize i = 0; i < len; i++)
        garbage[i] = (guint8) g_rand_int_range (rand, 0, 256);
    }
  while (len > 0 && memcmp (garbage, before, len) == 0);

  fd = open (path, O_WRONLY);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, garbage, len), ==, (gssize) len);
  g_assert_cmpint (close (fd), ==, 0);

  times[0] = st.st_atim;
  times[1] = st.st_mtim;
  g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
}

/* Analysed once, a trace is not read again: query and analyze answer from
 * the cache, even with every event stream destroyed. */
static void
test_cache_reuse (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *sim_dir = g_build_filename (tmp, "sim", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(JsonNode) summary = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_autoptr(GPtrArray) traces = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) times = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint n_streams = 0;
  gboolean names_trace = FALSE;
  StrataTestRun run;

  simulate ("one-vm", GT_DURATION_MS, "1", FALSE, sim_dir);
  summary = analyze (cache, sim_dir);
  g_assert_false (from_cache (summary));
  times = random_times (2, json_object_get_int_member (json_node_get_object (summary), "start_ns"),
                        json_object_get_int_member (json_node_get_object (summary), "end_ns"), 50);
  before = query_text (cache, sim_dir, times);

  collect_traces (sim_dir, traces);
  g_assert_cmpuint (traces->len, ==, 2);
  for (guint i = 0; i < traces->len; i++)
    {
      g_autoptr(GDir) d = g_dir_open (g_ptr_array_index (traces, i), 0, NULL);
      const char *name;

      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *file = g_build_filename (g_ptr_array_index (traces, i), name, NULL);

          if (g_str_equal (name, "metadata") || !g_file_test (file, G_FILE_TEST_IS_REGULAR))
            continue;
          damage_keeping_mtime (file, rand);
          n_streams++;
        }
    }
  g_assert_cmpuint (n_streams, >=, 4);

  after = query_text (cache, sim_dir, times);
  g_assert_cmpstr (after, ==, before);
  again = analyze (cache, sim_dir);
  g_assert_true (from_cache (again));

  /* Forced to read them, the analysis fails and says which trace and why;
   * strata_test_run_cli() asserts it exited, so no crash either */
  strata_test_run_cli (&run, "analyze", "--force", "--cache-dir", cache, sim_dir, NULL);
  g_test_message ("analyze --force on destroyed streams: status %d, stderr: %s", run.status, run.err);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, sim_dir));
  for (guint i = 0; i < traces->len; i++)
    names_trace |= strstr (run.err, g_ptr_array_index (traces, i)) != NULL;
  strata_test_run_clear (&run);

  strata_test_rmtree (tmp);

  /* DESIGN.md: exit status 1 "with a message naming the trace and the
   * problem" */
  g_assert_true (names_trace);
}

static gboolean
has_file_ending (const char *dir,
                 const char *suffix)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, suffix))
      return TRUE;
  return FALSE;
}

/* A run killed during the analysis leaves a partial SHT, never recorded as complete:
 * the next run must analyse again, and the one after reuse that. */
static void
test_killed (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *sim_dir = g_build_filename (tmp, "sim", NULL);
  g_autofree char *ref_cache = g_build_filename (tmp, "ref-cache", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  /* Where the catalog keeps the SHT files */
  g_autofree char *sht_dir = g_build_filename (cache, "sht", NULL);
  g_autofree char *ref_answers = NULL;
  g_autofree char *answers = NULL;
  g_autoptr(JsonNode) ref = NULL;
  g_autoptr(JsonNode) second = NULL;
  g_autoptr(JsonNode) third = NULL;
  g_autoptr(GArray) times = NULL;
  const char *argv[] = { g_getenv ("STRATA_CLI"), "analyze", "--cache-dir", cache, sim_dir, NULL };
  gint64 t0, full_us;
  double fraction = 0.4;
  gboolean killed = FALSE;

  g_assert_nonnull (argv[0]);
  simulate ("overcommit", "400", "1", FALSE, sim_dir);

  /* How long a whole run takes, here and now */
  t0 = g_get_monotonic_time ();
  ref = analyze (ref_cache, sim_dir);
  full_us = g_get_monotonic_time () - t0;
  g_assert_false (from_cache (ref));

  /* Killed once it writes its SHT, and not before 40 % of a whole run.
   * Should a run end first (a much faster machine), kill earlier. */
  for (guint attempt = 0; attempt < 4 && !killed; attempt++, fraction /= 2)
    {
      g_autoptr(GError) error = NULL;
      GPid pid;
      int status;
      gint64 start, kill_at;

      strata_test_rmtree (cache);
      g_spawn_async (NULL, (char **) argv, NULL,
                     G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &pid, &error);
      g_assert_no_error (error);
      start = g_get_monotonic_time ();
      kill_at = start + (gint64) (full_us * fraction);
      for (;;)
        {
          pid_t done = waitpid (pid, &status, WNOHANG);

          g_assert_cmpint (done, >=, 0);
          if (done == pid)
            {
              g_test_message ("attempt %u: the run ended before it could be killed (%.0f %% of %" G_GINT64_FORMAT
                              " us)", attempt, fraction * 100, full_us);
              break;
            }
          if (g_get_monotonic_time () >= kill_at && has_file_ending (sht_dir, ".sht.part"))
            {
              g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
              g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
              killed = WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL;
              g_test_message ("attempt %u: killed after %" G_GINT64_FORMAT " us of a %" G_GINT64_FORMAT
                              " us run: %s", attempt, g_get_monotonic_time () - start, full_us,
                              killed ? "killed" : "it had just ended");
              break;
            }
          g_usleep (500);
        }
      g_spawn_close_pid (pid);
    }
  g_assert_true (killed);
  /* Killed midway: a partial SHT, which the catalog does not trust (the
   * next run analyses again) and forgets, with its file */
  g_assert_true (has_file_ending (sht_dir, ".sht.part"));

  second = analyze (cache, sim_dir);
  g_assert_false (from_cache (second));
  g_assert_false (has_file_ending (sht_dir, ".part"));
  third = analyze (cache, sim_dir);
  g_assert_true (from_cache (third));

  /* The same analysis as a run never interrupted */
  times = random_times (3, json_object_get_int_member (json_node_get_object (ref), "start_ns"),
                        json_object_get_int_member (json_node_get_object (ref), "end_ns"), 100);
  ref_answers = query_text (ref_cache, sim_dir, times);
  answers = query_text (cache, sim_dir, times);
  g_assert_cmpstr (answers, ==, ref_answers);

  strata_test_rmtree (tmp);
}

/* ---------------------------------------------------------------------- */
/* Wake-up latency                                                        */
/* ---------------------------------------------------------------------- */

/* The wakeup scenario's L2 VM */
#define L2_NAME "vm1-l2"

static JsonObject *
latency_of_layer (JsonArray *latencies,
                  gint64     layer)
{
  for (guint i = 0; i < json_array_get_length (latencies); i++)
    {
      JsonObject *l = json_array_get_object_element (latencies, i);

      if (json_object_get_int_member (l, "layer") == layer)
        return l;
    }
  g_error ("no wake-up latency for layer %" G_GINT64_FORMAT, layer);
  return NULL;
}

/* A thread in the L2 VM waits for L0 and L1 to wake its vCPU up: its
 * wake-ups reach a physical CPU later than those of a thread of L1, in
 * the mean and in the median (the latency counts from the host's wake-up
 * of the idle vCPU under it). */
static void
test_wakeup_stats (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *sim_dir = g_build_filename (tmp, "sim", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  g_autofree char *l2_key = vcpu_key (L2_NAME, 0);
  g_autoptr(JsonNode) stats = NULL;
  g_autoptr(JsonNode) summary = NULL;
  g_autoptr(JsonNode) samples_node = NULL;
  g_autoptr(JsonNode) scenario_node = NULL;
  g_autoptr(GHashTable) scenario = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) name_of = NULL;
  g_autoptr(Truth) truth = NULL;
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *query_out = NULL;
  const char *l2_hostname;
  JsonArray *latencies, *samples;
  JsonObject *l1, *l2;
  const Track *track;
  double tolerance = 0;
  gint64 margin;
  StrataTestRun run;

  simulate ("wakeup", GT_DURATION_MS, "1", FALSE, sim_dir);
  strata_test_run_cli (&run, "stats", "--json", "--cache-dir", cache, sim_dir, NULL);
  if (run.status != 0)
    g_error ("strata-cli stats failed (%d): %s", run.status, run.err);
  stats = parse_json (run.out);
  strata_test_run_clear (&run);

  latencies = json_object_get_array_member (json_node_get_object (stats), "wakeup_latency");
  l1 = json_object_get_object_member (latency_of_layer (latencies, 1), "executing");
  l2 = json_object_get_object_member (latency_of_layer (latencies, 2), "executing");
  g_test_message ("wake-up to execution: L1 %" G_GINT64_FORMAT " wake-ups, mean %" G_GINT64_FORMAT
                  " ns; L2 %" G_GINT64_FORMAT " wake-ups, mean %" G_GINT64_FORMAT " ns",
                  json_object_get_int_member (l1, "count"), json_object_get_int_member (l1, "mean_ns"),
                  json_object_get_int_member (l2, "count"), json_object_get_int_member (l2, "mean_ns"));
  g_assert_cmpint (json_object_get_int_member (l1, "count"), >, 10);
  g_assert_cmpint (json_object_get_int_member (l2, "count"), >, 10);
  g_assert_cmpint (json_object_get_int_member (l2, "mean_ns"), >, json_object_get_int_member (l1, "mean_ns"));
  /* Not a few long wake-ups: the typical one too (every seed tried: L2's
   * median is over twice L1's) */
  g_assert_cmpint (json_object_get_int_member (l2, "p50_ns"), >, 2 * json_object_get_int_member (l1, "p50_ns"));

  /* While its hypervisors wake the L2 vCPU up (the ground truth's vmm
   * between idle and running), that vCPU is in the hypervisor and no
   * physical CPU runs an L2 thread. Sampled mid-way, farther from either
   * end than the accuracy of the traces whose events start and end that
   * phase: the host's and L1's exits and entries, not the L2's own. */
  summary = analyze (cache, sim_dir);
  g_assert_true (from_cache (summary));
  scenario_node = load_scenario (sim_dir, scenario);
  name_of = map_machine_names (json_node_get_object (summary), json_node_get_object (scenario_node));
  l2_hostname = json_object_get_string_member (g_hash_table_lookup (scenario, L2_NAME), "hostname");
  tolerance = sync_tolerance (json_node_get_object (summary), l2_hostname);
  margin = (gint64) floor (tolerance + 2.0);
  truth = truth_load (sim_dir);
  track = g_hash_table_lookup (truth->vcpus, l2_key);
  g_assert_nonnull (track);
  for (guint i = 1; i + 1 < track->rows->len; i++)
    {
      const TruthRow *prev = &g_array_index (track->rows, TruthRow, i - 1);
      const TruthRow *row = &g_array_index (track->rows, TruthRow, i);
      const TruthRow *next = &g_array_index (track->rows, TruthRow, i + 1);
      gint64 mid = row->start + (row->end - row->start) / 2;

      if (g_str_equal (prev->f[COL_STATUS], "idle") && g_str_equal (row->f[COL_STATUS], "vmm")
          && g_str_equal (next->f[COL_STATUS], "running") && prev->end == row->start
          && row->end == next->start && row->end - row->start > 2 * margin + 2
          && mid > json_object_get_int_member (json_node_get_object (summary), "start_ns"))
        g_array_append_val (times, mid);
    }
  g_test_message ("%u of the L2 vCPU's wake-ups sampled (margin %" G_GINT64_FORMAT " ns)", times->len, margin);
  g_assert_cmpuint (times->len, >=, 10);

  query_out = query_text (cache, sim_dir, times);
  samples_node = parse_json (query_out);
  samples = json_node_get_array (samples_node);
  for (guint i = 0; i < json_array_get_length (samples); i++)
    {
      JsonObject *s = json_array_get_object_element (samples, i);
      JsonArray *cpus = json_object_get_array_member (s, "cpus");
      JsonArray *vcpus = json_object_get_array_member (s, "vcpus");
      gint64 t = json_object_get_int_member (s, "t");
      gboolean seen = FALSE;

      for (guint k = 0; k < json_array_get_length (vcpus); k++)
        {
          JsonObject *v = json_array_get_object_element (vcpus, k);

          if (!g_str_equal (name_in (name_of, json_object_get_string_member (v, "machine")), L2_NAME))
            continue;
          seen = TRUE;
          if (!g_str_equal (json_object_get_string_member (v, "state"), "vmm"))
            g_error ("t=%" G_GINT64_FORMAT ", waking up: vCPU " L2_NAME "/%" G_GINT64_FORMAT " is %s, not vmm",
                     t, json_object_get_int_member (v, "vcpu"), json_object_get_string_member (v, "state"));
        }
      g_assert_true (seen);
      for (guint k = 0; k < json_array_get_length (cpus); k++)
        {
          JsonObject *c = json_array_get_object_element (cpus, k);
          const char *status = json_object_get_string_member (c, "status");

          if (g_str_equal (name_in (name_of, json_object_get_string_member (c, "machine")), L2_NAME)
              && (g_str_equal (status, "user") || g_str_equal (status, "kernel")))
            g_error ("t=%" G_GINT64_FORMAT ", " L2_NAME "'s vCPU waking up: pCPU %" G_GINT64_FORMAT
                     " runs an L2 thread (tid %" G_GINT64_FORMAT ", %s)", t,
                     json_object_get_int_member (c, "cpu"), json_object_get_int_member (c, "tid"), status);
        }
    }

  strata_test_rmtree (tmp);
}

int
main (int   argc,
      char *argv[])
{
  const char * const *scenarios = strata_sim_scenario_names ();
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (ground_truth_case_free);

  g_test_init (&argc, &argv, NULL);

  for (guint s = 0; scenarios[s] != NULL; s++)
    for (int host_only = 0; host_only < 2; host_only++)
      {
        GroundTruthCase *gt = g_new0 (GroundTruthCase, 1);
        g_autofree char *path = g_strdup_printf ("/strata/fusion/ground-truth/%s%s", scenarios[s],
                                                 host_only ? "/host-only" : "");

        gt->scenario = g_strdup (scenarios[s]);
        gt->host_only = host_only;
        g_ptr_array_add (cases, gt);
        g_test_add_data_func (path, gt, test_ground_truth);
      }
  g_test_add_func ("/strata/fusion/cache-reuse", test_cache_reuse);
  g_test_add_func ("/strata/fusion/killed", test_killed);
  g_test_add_func ("/strata/fusion/wakeup-stats", test_wakeup_stats);

  return g_test_run ();
}
