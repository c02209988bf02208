/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>

#include "strata-trace-reader.h"

/* Reads each trace with every record kind decoded (what the analysis
 * does), and prints what it read: the work that run-reader-bench times
 * against babeltrace2 on the same traces. */

static gboolean
count_cb (StrataEventBatch **batch,
          gpointer           user_data)
{
  guint64 *n_records = user_data;

  *n_records += (*batch)->n_events;
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("LIBBABELTRACE2_DISABLE_PYTHON_PLUGINS", "1", FALSE);

  if (argc < 2)
    {
      fprintf (stderr, "Usage: %s TRACE…\n", argv[0]);
      return 2;
    }

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(StrataTraceReader) reader = strata_trace_reader_new (argv[i], &error);
      guint64 n_records = 0;
      gint64 start = g_get_monotonic_time ();

      if (reader == NULL || !strata_trace_reader_run (reader, count_cb, &n_records, NULL, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }

      printf ("%s: %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " records, %.3f s\n",
              argv[i], strata_trace_reader_get_info (reader)->n_events, n_records,
              (g_get_monotonic_time () - start) / 1e6);
    }

  return 0;
}
