/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "strata-sync.h"
#include "strata-sync-match.h"
#include "strata-trace-discovery.h"
#include "strata-trace-reader.h"

/* Pass 1 of synchronization over every trace below the PATHs, against
 * each trace read alone the way pass 1 reads it (message events only,
 * one thread): the parallel pass cannot beat its slowest trace, and
 * should not be far above it when there are cores enough. Wall-clock
 * medians of RUNS runs, in one process, with the CPU time of both (the
 * machines are shared: CPU time says what the load hides). */

static gboolean
count_cb (StrataEventBatch **batch,
          gpointer           user_data)
{
  guint64 *n_records = user_data;

  *n_records += (*batch)->n_events;
  return TRUE;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double da = *(const double *) a, db = *(const double *) b;

  return (da > db) - (da < db);
}

static double
median (double *values,
        guint   n)
{
  qsort (values, n, sizeof (double), compare_doubles);
  return values[n / 2];
}

/* CPU time of the whole process (every thread), in s */
static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec
         + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/* Reads one trace alone as pass 1 does; returns its wall time */
static double
read_alone (const char *path,
            guint64    *n_events,
            guint64    *n_records)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = NULL;
  guint n_kinds;
  const StrataEventKind *kinds = strata_sync_get_event_kinds (&n_kinds);
  gint64 start = g_get_monotonic_time ();

  reader = strata_trace_reader_new (path, &error);
  if (reader == NULL)
    g_error ("%s", error->message);
  strata_trace_reader_set_kinds (reader, kinds, n_kinds);
  *n_records = 0;
  if (!strata_trace_reader_run (reader, count_cb, n_records, NULL, &error))
    g_error ("%s", error->message);
  *n_events = strata_trace_reader_get_info (reader)->n_events;
  return (g_get_monotonic_time () - start) / 1e6;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) locations = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree double *pass = NULL;
  g_autofree double *pass_cpu = NULL;
  g_autofree double *alone_cpu = NULL;
  g_autofree double **alone = NULL;
  double slowest = 0, sum = 0;
  guint64 n_events = 0, n_records = 0, n_matches = 0;
  guint n_unsync = 0, slowest_index = 0, runs, n;

  g_setenv ("LIBBABELTRACE2_DISABLE_PYTHON_PLUGINS", "1", FALSE);

  if (argc < 3)
    {
      fprintf (stderr, "Usage: %s RUNS PATH…\n", argv[0]);
      return 2;
    }
  runs = MAX (1, (guint) atoi (argv[1]));

  locations = strata_trace_discover ((const char * const *) argv + 2, NULL, NULL, &error);
  if (locations == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  n = locations->len;
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (paths, ((StrataTraceLocation *) g_ptr_array_index (locations, i))->path);
  g_ptr_array_add (paths, NULL);

  pass = g_new (double, runs);
  pass_cpu = g_new (double, runs);
  alone_cpu = g_new (double, runs);
  alone = g_new (double *, n);
  for (guint i = 0; i < n; i++)
    alone[i] = g_new (double, runs);

  /* Runs alternate between the two ways, so that a change in the load of
   * a shared machine hits both alike. */
  for (guint r = 0; r < runs; r++)
    {
      g_autoptr(StrataSyncResult) result = NULL;
      double cpu = cpu_seconds ();
      gint64 start;

      for (guint i = 0; i < n; i++)
        {
          guint64 e, m;

          alone[i][r] = read_alone (g_ptr_array_index (paths, i), &e, &m);
          if (r == 0)
            n_events += e, n_records += m;
        }
      alone_cpu[r] = cpu_seconds () - cpu;

      cpu = cpu_seconds ();
      start = g_get_monotonic_time ();
      result = strata_sync_run ((const char * const *) paths->pdata, NULL, NULL, &error);
      if (result == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      pass[r] = (g_get_monotonic_time () - start) / 1e6;
      pass_cpu[r] = cpu_seconds () - cpu;
      n_matches = result->n_matches;
      n_unsync = strata_sync_result_count_unsynchronized (result);
    }

  for (guint i = 0; i < n; i++)
    {
      double t = median (alone[i], runs);

      sum += t;
      if (t > slowest)
        slowest = t, slowest_index = i;
      g_free (alone[i]);
    }

  printf ("%u traces, %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " message events, "
          "%" G_GUINT64_FORMAT " matches, %u not synchronized; %u processors; median of %u runs\n",
          n, n_events, n_records, n_matches, n_unsync, g_get_num_processors (), runs);
  printf ("each trace alone (message events only, one thread):\n");
  printf ("  slowest  %8.3f s wall  (%s)\n", slowest, (const char *) g_ptr_array_index (paths, slowest_index));
  printf ("  sum      %8.3f s wall, %.3f s CPU\n", sum, median (alone_cpu, runs));
  printf ("pass 1, all traces at once:\n");
  printf ("  wall     %8.3f s       = %.2f × the slowest trace, %.2f × faster than one after another\n",
          median (pass, runs), median (pass, runs) / slowest, sum / median (pass, runs));
  printf ("  CPU      %8.3f s\n", median (pass_cpu, runs));
  return 0;
}
