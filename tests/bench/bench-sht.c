/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-bench-sht"
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata-sht.h"

/*
 * The State History Tree at the scale of a real analysis: a history of N
 * intervals (default 50 million) shaped like what the analysis of a KVM
 * host writes, then the queries the views make. Prints one table:
 *
 *   insertion rate through strata_sht_modify() (wall clock, the tree's
 *   thread included), file bytes per interval, close and open times (the
 *   open verifies every node's checksum), single, full and 2D query
 *   latencies (median and 99th percentile; "cold" is the first query
 *   after an open, with the node cache empty but the file in the page
 *   cache), and peak memory (VmHWM) of the writing and of the querying,
 *   each in a process of its own, also for a history one tenth the size,
 *   to show that memory does not grow with the tree.
 *
 * The shape: 64 host CPUs whose status and current thread change most
 * often, 64 vCPUs with a state and an exit reason (int64), and 2,000
 * threads with a status, a name (from a pool of 3,000 strings), a
 * priority, a parent and the system call they are in (a string): about
 * 10,300 attributes. Times are nanoseconds around 1.4e18.
 *
 * Usage: bench-sht [--intervals N] [--dir DIR] [--seed S] [--block-size B]
 *                  [--max-children C] [--cache-bytes M]
 */

#define N_CPUS      64
#define N_GUESTS    8
#define N_VCPUS     8
#define N_THREADS   2000
#define N_NAMES     3000
#define T_START     G_GINT64_CONSTANT (1400000000000000000)
#define ANALYSIS_VERSION 1

static const char * const syscalls[] = {
  "read", "write", "openat", "close", "futex", "epoll_wait", "ioctl", "mmap", "munmap",
  "recvmsg", "sendmsg", "poll", "clock_nanosleep", "nanosleep", "fstat", "lseek", "brk",
  "rt_sigprocmask", "sched_yield", "getpid", "writev", "readv", "pread64", "pwrite64",
};

typedef struct
{
  guint32 status;
  guint32 name;
  guint32 prio;
  guint32 ppid;
  guint32 syscall;
} ThreadQuarks;

typedef struct
{
  guint32 status[N_CPUS];
  guint32 current[N_CPUS];
  guint   running[N_CPUS];          /* thread index on each CPU */
  guint32 vcpu_state[N_GUESTS * N_VCPUS];
  guint32 vcpu_exit[N_GUESTS * N_VCPUS];
  ThreadQuarks threads[N_THREADS];
  guint32 names[N_NAMES];           /* string ids */
  guint32 syscall_ids[G_N_ELEMENTS (syscalls)];
} Model;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static guint64
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  p = strstr (status, "VmHWM:");
  return p != NULL ? g_ascii_strtoull (p + 6, NULL, 10) : 0;
}

static void
build_model (StrataSht *sht,
             Model     *m)
{
  char path[128];

  for (guint c = 0; c < N_CPUS; c++)
    {
      g_snprintf (path, sizeof path, "Machines/host/CPUs/%u/Status", c);
      m->status[c] = strata_sht_quark_get_path (sht, path);
      g_snprintf (path, sizeof path, "Machines/host/CPUs/%u/Current_thread", c);
      m->current[c] = strata_sht_quark_get_path (sht, path);
      m->running[c] = c;
    }
  for (guint g = 0; g < N_GUESTS; g++)
    for (guint v = 0; v < N_VCPUS; v++)
      {
        g_snprintf (path, sizeof path, "Machines/guest%u/vCPUs/%u/State", g, v);
        m->vcpu_state[g * N_VCPUS + v] = strata_sht_quark_get_path (sht, path);
        g_snprintf (path, sizeof path, "Machines/guest%u/vCPUs/%u/Exit_reason", g, v);
        m->vcpu_exit[g * N_VCPUS + v] = strata_sht_quark_get_path (sht, path);
      }
  for (guint i = 0; i < N_THREADS; i++)
    {
      guint32 thread;

      g_snprintf (path, sizeof path, "Machines/host/Threads/%u", 1000 + i);
      thread = strata_sht_quark_get_path (sht, path);
      m->threads[i].status = strata_sht_quark_get (sht, thread, "Status");
      m->threads[i].name = strata_sht_quark_get (sht, thread, "Exec_name");
      m->threads[i].prio = strata_sht_quark_get (sht, thread, "Prio");
      m->threads[i].ppid = strata_sht_quark_get (sht, thread, "PPID");
      m->threads[i].syscall = strata_sht_quark_get (sht, thread, "Syscall");
    }
  for (guint i = 0; i < N_NAMES; i++)
    {
      static const char * const stems[] = { "kworker/u16", "qemu-system-x86", "bash" };

      g_snprintf (path, sizeof path, "%s-%u", stems[i % 3], i);
      m->names[i] = strata_sht_intern (sht, path);
    }
  for (guint i = 0; i < G_N_ELEMENTS (syscalls); i++)
    m->syscall_ids[i] = strata_sht_intern (sht, syscalls[i]);
}

/* One trace event's worth of changes; returns the new time and adds
 * the number of modify() calls to *n_modify. */
static gint64
write_event (StrataSht *sht,
             Model     *m,
             GRand     *rand,
             gint64     t,
             guint64   *n_modify)
{
  guint k = g_rand_int_range (rand, 0, 100);
  guint c = g_rand_int_range (rand, 0, N_CPUS);

  t += g_rand_int_range (rand, 1, 40);
  if (k < 35)
    {
      /* sched_switch: the CPU, the thread leaving, the thread coming */
      guint prev = m->running[c];
      guint next = g_rand_int_range (rand, 0, N_THREADS);

      m->running[c] = next;
      *n_modify += 4;
      strata_sht_modify (sht, m->current[c], t, STRATA_SHT_INT32 (1000 + next));
      strata_sht_modify (sht, m->status[c], t, STRATA_SHT_INT32 (g_rand_int_range (rand, 1, 4)));
      strata_sht_modify (sht, m->threads[prev].status, t,
                         STRATA_SHT_INT32 (g_rand_int_range (rand, 2, 5)));
      strata_sht_modify (sht, m->threads[next].status, t, STRATA_SHT_INT32 (1));
    }
  else if (k < 65)
    {
      /* System call entry or exit of the running thread */
      guint th = m->running[c];

      *n_modify += 2;
      if (g_rand_boolean (rand))
        {
          guint s = g_rand_int_range (rand, 0, G_N_ELEMENTS (syscalls));

          strata_sht_modify (sht, m->threads[th].syscall, t,
                             STRATA_SHT_STRING_ID (m->syscall_ids[s]));
          strata_sht_modify (sht, m->status[c], t, STRATA_SHT_INT32 (2));
        }
      else
        {
          strata_sht_modify (sht, m->threads[th].syscall, t, STRATA_SHT_NULL);
          strata_sht_modify (sht, m->status[c], t, STRATA_SHT_INT32 (1));
        }
    }
  else if (k < 90)
    {
      /* A vCPU exits or enters */
      guint v = g_rand_int_range (rand, 0, N_GUESTS * N_VCPUS);

      *n_modify += 2;

      strata_sht_modify (sht, m->vcpu_state[v], t,
                         STRATA_SHT_INT32 (g_rand_int_range (rand, 0, 4)));
      strata_sht_modify (sht, m->vcpu_exit[v], t,
                         STRATA_SHT_INT64 (((gint64) g_rand_int_range (rand, 0, 64) << 32) | c));
    }
  else if (k < 97)
    {
      /* Interrupts on a CPU */
      *n_modify += 1;
      strata_sht_modify (sht, m->status[c], t, STRATA_SHT_INT32 (g_rand_int_range (rand, 3, 6)));
    }
  else
    {
      /* Rarer: a thread is renamed, reprioritised or reparented */
      guint th = g_rand_int_range (rand, 0, N_THREADS);

      *n_modify += 1;
      switch (g_rand_int_range (rand, 0, 3))
        {
        case 0:
          strata_sht_modify (sht, m->threads[th].name, t,
                             STRATA_SHT_STRING_ID (m->names[g_rand_int_range (rand, 0, N_NAMES)]));
          break;
        case 1:
          strata_sht_modify (sht, m->threads[th].prio, t,
                             STRATA_SHT_INT32 (g_rand_int_range (rand, 0, 140)));
          break;
        default:
          strata_sht_modify (sht, m->threads[th].ppid, t,
                             STRATA_SHT_INT32 (1000 + g_rand_int_range (rand, 0, N_THREADS)));
          break;
        }
    }
  return t;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
die (const char *what,
     GError     *error)
{
  fprintf (stderr, "bench-sht: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

static StrataSht *
open_or_die (const char *path,
             gsize       cache_bytes,
             double     *seconds)
{
  g_autoptr(GError) error = NULL;
  gint64 t0 = now_ns ();
  StrataSht *sht = strata_sht_open (path, ANALYSIS_VERSION, cache_bytes, &error);

  if (sht == NULL)
    die ("open", error);
  if (seconds != NULL)
    *seconds = (now_ns () - t0) / 1e9;
  return sht;
}

static gint64
time_2d (StrataSht     *sht,
         const guint32 *quarks,
         guint          n,
         gint64         t0,
         gint64         t1,
         gint64         resolution)
{
  g_autoptr(GError) error = NULL;
  gint64 start = now_ns ();
  StrataShtRange *range = strata_sht_query_2d (sht, quarks, n, t0, t1, resolution, &error);
  gint64 elapsed = now_ns () - start;

  if (range == NULL)
    die ("2D query", error);
  strata_sht_range_free (range);
  return elapsed;
}

/* Each phase runs in a process of its own, which prints its results as
 * "key value" lines: VmHWM is per process, and memory freed by one phase
 * stays in the allocator's hands, so that it would count for the next. */

static void
put (const char *key,
     double      value)
{
  printf ("%s %.17g\n", key, value);
}

/* --write: writes the history and prints what it took. */
static int
write_phase (const char             *path,
             guint64                 n_intervals,
             guint32                 seed,
             const StrataShtOptions *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree Model *m = g_new0 (Model, 1);
  StrataSht *sht;
  StrataShtStats stats;
  guint64 n_modify = 0, n_inserted;
  gint64 t = T_START, t0;
  double insert_s, close_s;
  GStatBuf st;

  sht = strata_sht_create (path, T_START, ANALYSIS_VERSION, options, &error);
  if (sht == NULL)
    die ("create", error);
  build_model (sht, m);

  /* Only the writing thread's calls are timed; the tree's thread runs
   * alongside (and the last of its work is in the close time). */
  t0 = now_ns ();
  for (;;)
    {
      for (guint i = 0; i < 16384; i++)
        t = write_event (sht, m, rand, t, &n_modify);
      strata_sht_get_stats (sht, &stats);
      if (stats.n_intervals >= n_intervals)
        break;
    }
  insert_s = (now_ns () - t0) / 1e9;
  n_inserted = stats.n_intervals;

  t0 = now_ns ();
  if (!strata_sht_close (sht, t + 1, &error))
    die ("close", error);
  close_s = (now_ns () - t0) / 1e9;
  strata_sht_get_stats (sht, &stats);
  put ("n_quarks", strata_sht_get_n_quarks (sht));
  strata_sht_free (sht);
  if (g_stat (path, &st) != 0)
    die ("stat", NULL);

  put ("n_intervals", stats.n_intervals);
  put ("n_nodes", stats.n_nodes);
  put ("depth", stats.depth);
  put ("file_bytes", st.st_size);
  put ("insert_rate", n_inserted / insert_s);
  put ("modify_rate", n_modify / insert_s);
  put ("insert_s", insert_s);
  put ("close_s", close_s);
  put ("peak_kib", peak_rss_kib ());
  return 0;
}

static void
put_percentiles (const char *key,
                 GArray     *samples)
{
  g_autofree char *median = g_strconcat (key, "_median", NULL);
  g_autofree char *p99 = g_strconcat (key, "_p99", NULL);

  g_array_sort (samples, compare_gint64);
  put (median, g_array_index (samples, gint64, samples->len / 2) / 1e3);
  put (p99, g_array_index (samples, gint64, MIN (samples->len - 1, samples->len * 99 / 100)) / 1e3);
  g_array_set_size (samples, 0);
}

/* --query: opens the history and times the queries the views make. */
static int
query_phase (const char *path,
             guint32     seed,
             gsize       cache)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (gint64));
  StrataSht *sht;
  StrataShtStats stats;
  guint32 cpus[N_CPUS];
  gint64 start, end, span, w, t0;
  guint n_quarks;
  double open_s;

  /* The view of the 64 CPUs' status, over the whole history and zoomed
   * in 1000 times; cold: the first query after an open */
  sht = open_or_die (path, cache, &open_s);
  put ("open_s", open_s);
  for (guint c = 0; c < N_CPUS; c++)
    {
      char name[64];

      g_snprintf (name, sizeof name, "Machines/host/CPUs/%u/Status", c);
      cpus[c] = strata_sht_quark_lookup_path (sht, name);
      if (cpus[c] == STRATA_SHT_QUARK_INVALID)
        die (name, NULL);
    }
  n_quarks = strata_sht_get_n_quarks (sht);
  start = strata_sht_get_start_time (sht);
  end = strata_sht_get_end_time (sht);
  span = end - start + 1;
  w = MAX (1, span / 1000);
  put ("whole_cold", time_2d (sht, cpus, N_CPUS, start, end, MAX (1, span / 2000)) / 1e3);
  strata_sht_free (sht);

  sht = open_or_die (path, cache, NULL);
  t0 = start + (gint64) (g_rand_double (rand) * (span - w));
  put ("zoom_cold", time_2d (sht, cpus, N_CPUS, t0, t0 + w, MAX (1, w / 2000)) / 1e3);

  /* Single queries at random: a first pass warms the cache */
  for (guint pass = 0; pass < 2; pass++)
    {
      g_array_set_size (samples, 0);
      for (guint i = 0; i < 200000; i++)
        {
          guint32 q = g_rand_int_range (rand, 1, n_quarks);
          gint64 t = start + (gint64) (g_rand_double (rand) * span);
          StrataShtInterval iv;
          gint64 a = now_ns ();

          if (!strata_sht_query_single (sht, q, t, &iv, &error))
            die ("single query", error);
          a = now_ns () - a;
          g_array_append_val (samples, a);
        }
    }
  put_percentiles ("single", samples);

  for (guint i = 0; i < 220; i++)
    {
      gint64 t = start + (gint64) (g_rand_double (rand) * span);
      gint64 a = now_ns ();
      GArray *full = strata_sht_query_full (sht, t, &error);

      a = now_ns () - a;
      if (full == NULL)
        die ("full query", error);
      g_array_unref (full);
      if (i >= 20)
        g_array_append_val (samples, a);
    }
  put_percentiles ("full", samples);

  for (guint i = 0; i < 60; i++)
    {
      gint64 a = time_2d (sht, cpus, N_CPUS, start, end, MAX (1, span / 2000));

      if (i >= 10)
        g_array_append_val (samples, a);
    }
  put_percentiles ("whole", samples);

  for (guint i = 0; i < 350; i++)
    {
      gint64 a;

      t0 = start + (gint64) (g_rand_double (rand) * (span - w));
      a = time_2d (sht, cpus, N_CPUS, t0, t0 + w, MAX (1, w / 2000));
      if (i >= 50)
        g_array_append_val (samples, a);
    }
  put_percentiles ("zoom", samples);

  strata_sht_get_stats (sht, &stats);
  put ("cache_hits", stats.cache_hits);
  put ("cache_misses", stats.cache_misses);
  put ("cache_bytes", stats.cache_bytes);
  strata_sht_free (sht);
  put ("peak_kib", peak_rss_kib ());
  return 0;
}

/* Runs this program for one @phase ("--write" or "--query") of the
 * history at @path; returns the "key value" lines it printed, or NULL if
 * it failed. */
static GHashTable *
run_phase (const char *self_exe,
           const char *phase,
           const char *path,
           guint64     n_intervals,
           guint32     seed,
           const char *option_args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) options = g_strsplit (option_args, " ", -1);
  g_auto(GStrv) lines = NULL;
  g_autofree char *out = NULL;
  GHashTable *results;
  int status;

  g_ptr_array_add (argv, g_strdup (self_exe));
  g_ptr_array_add (argv, g_strdup (phase));
  g_ptr_array_add (argv, g_strdup (path));
  g_ptr_array_add (argv, g_strdup_printf ("--intervals=%" G_GUINT64_FORMAT, n_intervals));
  g_ptr_array_add (argv, g_strdup_printf ("--seed=%u", seed));
  for (guint i = 0; options[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (options[i]));
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                     &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      fprintf (stderr, "bench-sht: %s %s: %s\n", phase, path, error->message);
      return NULL;
    }

  results = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *space = strchr (lines[i], ' ');
      double *value;

      if (space == NULL)
        continue;
      value = g_new (double, 1);
      *value = g_ascii_strtod (space + 1, NULL);
      g_hash_table_insert (results, g_strndup (lines[i], space - lines[i]), value);
    }
  return results;
}

static double
get (GHashTable *results,
     const char *key)
{
  const double *value = results != NULL ? g_hash_table_lookup (results, key) : NULL;

  return value != NULL ? *value : 0;
}

static char *
format_mib (GHashTable *results)
{
  return results != NULL ? g_strdup_printf ("%.1f MiB", get (results, "peak_kib") / 1024)
                         : g_strdup ("failed");
}

static void
print_latency (const char *what,
               GHashTable *q,
               const char *key)
{
  g_autofree char *median = g_strconcat (key, "_median", NULL);
  g_autofree char *p99 = g_strconcat (key, "_p99", NULL);

  printf ("%-40s %10.1f µs median %10.1f µs p99\n", what, get (q, median), get (q, p99));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GHashTable) w = NULL;
  g_autoptr(GHashTable) q = NULL;
  g_autoptr(GHashTable) small_w = NULL;
  g_autoptr(GHashTable) small_q = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *tmpdir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *small_path = NULL;
  g_autofree char *option_args = NULL;
  g_autofree char *phase_path = NULL;
  g_autofree char *query_path = NULL;
  gint64 n_intervals = 50000000;
  gint seed = 1;
  gint block_size = 0, max_children = 0;
  gint64 cache_bytes = 0;
  StrataShtOptions options = { 0, };
  const GOptionEntry entries[] = {
    { "intervals", 'n', 0, G_OPTION_ARG_INT64, &n_intervals,
      "Intervals to write (default 50,000,000)", "N" },
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir,
      "Folder for the history file (default: a new temporary one)", "DIR" },
    { "seed", 's', 0, G_OPTION_ARG_INT, &seed, "Random seed (default 1)", "S" },
    { "block-size", 0, 0, G_OPTION_ARG_INT, &block_size,
      "Block size (default: the library's)", "B" },
    { "max-children", 0, 0, G_OPTION_ARG_INT, &max_children,
      "Children per node (default: the library's)", "C" },
    { "cache-bytes", 0, 0, G_OPTION_ARG_INT64, &cache_bytes,
      "Node cache (default: the library's)", "M" },
    /* The phases, each run in a process of its own */
    { "write", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &phase_path, NULL, NULL },
    { "query", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &query_path, NULL, NULL },
    { NULL }
  };

  context = g_option_context_new ("— the State History Tree's speed, size and memory");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-sht: %s\n", error->message);
      return 2;
    }
  if (n_intervals < 10000)
    {
      fprintf (stderr, "bench-sht: --intervals must be at least 10000\n");
      return 2;
    }

  options.block_size = block_size;
  options.max_children = max_children;
  options.cache_bytes = cache_bytes;
  if (phase_path != NULL)
    return write_phase (phase_path, n_intervals, seed, &options);
  if (query_path != NULL)
    return query_phase (query_path, seed + 1, cache_bytes);

  option_args = g_strdup_printf ("--block-size=%d --max-children=%d --cache-bytes=%"
                                 G_GINT64_FORMAT, block_size, max_children, cache_bytes);
  if (dir == NULL)
    {
      tmpdir = g_dir_make_tmp ("strata-bench-sht-XXXXXX", &error);
      if (tmpdir == NULL)
        die ("temporary folder", error);
    }
  path = g_build_filename (tmpdir != NULL ? tmpdir : dir, "bench.sht", NULL);
  small_path = g_build_filename (tmpdir != NULL ? tmpdir : dir, "bench-small.sht", NULL);

  printf ("State History Tree benchmark: %" G_GINT64_FORMAT " intervals, seed %d, block size %d, "
          "max children %d, cache %" G_GINT64_FORMAT " bytes (0: the library's default)\n",
          n_intervals, seed, block_size, max_children, cache_bytes);
  printf ("file: %s\n\n", path);
  fflush (stdout);

  w = run_phase (argv[0], "--write", path, n_intervals, seed, option_args);
  if (w != NULL)
    q = run_phase (argv[0], "--query", path, n_intervals, seed, option_args);
  g_unlink (path);
  small_w = run_phase (argv[0], "--write", small_path, n_intervals / 10, seed, option_args);
  if (small_w != NULL)
    small_q = run_phase (argv[0], "--query", small_path, n_intervals / 10, seed, option_args);
  g_unlink (small_path);
  if (tmpdir != NULL)
    g_rmdir (tmpdir);
  if (w == NULL || q == NULL)
    return 1;

  {
    g_autofree char *wp = format_mib (w);
    g_autofree char *qp = format_mib (q);
    g_autofree char *swp = format_mib (small_w);
    g_autofree char *sqp = format_mib (small_q);

    printf ("%-40s %s\n", "measure", "value");
    printf ("%-40s %.0f intervals, %.0f attributes, %.0f nodes, depth %.0f\n", "history",
            get (w, "n_intervals"), get (w, "n_quarks"), get (w, "n_nodes"), get (w, "depth"));
    printf ("%-40s %.0f intervals/s (%.0f modify()/s, %.1f s)\n",
            "insertion (wall, through modify())", get (w, "insert_rate"), get (w, "modify_rate"),
            get (w, "insert_s"));
    printf ("%-40s %.1f bytes (%.1f MiB in all)\n", "file size per interval",
            get (w, "file_bytes") / get (w, "n_intervals"), get (w, "file_bytes") / 1048576);
    printf ("%-40s %.3f s\n", "close", get (w, "close_s"));
    printf ("%-40s %.3f s\n", "open (every node verified)", get (q, "open_s"));
    print_latency ("single query, warm", q, "single");
    print_latency ("full query, warm", q, "full");
    printf ("%-40s %10.1f µs\n", "2D 64 x 2000, whole range, cold", get (q, "whole_cold"));
    print_latency ("2D 64 x 2000, whole range, warm", q, "whole");
    printf ("%-40s %10.1f µs\n", "2D 64 x 2000, 1/1000 zoom, cold", get (q, "zoom_cold"));
    print_latency ("2D 64 x 2000, 1/1000 zoom, warm", q, "zoom");
    printf ("%-40s %.0f hits, %.0f misses, %.1f MiB held at the end\n", "node cache (queries)",
            get (q, "cache_hits"), get (q, "cache_misses"), get (q, "cache_bytes") / 1048576);
    printf ("%-40s %s writing, %s querying\n", "peak memory (VmHWM)", wp, qp);
    printf ("%-40s %s writing, %s querying\n", "peak memory, history 1/10 the size", swp, sqp);
  }
  return 0;
}
