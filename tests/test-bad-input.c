/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "strata-test-utils.h"
#include "strata-trace-discovery.h"
#include "strata-trace-reader.h"

/* Damaged copies of real traces, in the test's own folder. Each must give
 * a clear message naming the file and the problem, keep what can be
 * kept, and never crash (the suite runs under ASan and UBSan). */

typedef struct
{
  char *tmp;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->tmp = strata_test_make_tmpdir ();
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  strata_test_rmtree (f->tmp);
  g_free (f->tmp);
}

static char *
copy_trace (Fixture    *f,
            const char *relpath,
            const char *name)
{
  g_autofree char *from = strata_test_trace_path (relpath);
  char *to = g_build_filename (f->tmp, name, NULL);

  strata_test_copy_tree (from, to);
  return to;
}

static void
truncate_file (const char *dir,
               const char *name,
               goffset     size)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_cmpint (truncate (path, size), ==, 0);
}

static const StrataTraceProblem *
find_problem (const StrataTraceInfo *info,
              StrataProblemSeverity  severity,
              const char            *needle)
{
  for (guint i = 0; i < info->problems->len; i++)
    {
      const StrataTraceProblem *problem = g_ptr_array_index (info->problems, i);

      if (problem->severity == severity && strstr (problem->message, needle) != NULL)
        return problem;
    }
  return NULL;
}

static StrataTraceInfo *
load (const char *path)
{
  g_autoptr(GError) error = NULL;
  StrataTraceInfo *info = strata_trace_info_load (path, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (info);
  return info;
}

static guint64
cpu_events (const StrataTraceInfo *info,
            guint                  cpu)
{
  for (guint i = 0; i < info->cpus->len; i++)
    if (g_array_index (info->cpus, StrataCpuInfo, i).cpu == cpu)
      return g_array_index (info->cpus, StrataCpuInfo, i).n_events;
  return 0;
}

static void
test_garbage_metadata (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *trace = copy_trace (f, "simple-kernel", "garbage");
  g_autofree char *metadata = g_build_filename (trace, "metadata", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = NULL;
  guint8 noise[4096];

  for (guint i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) g_test_rand_int_range (0, 256);
  noise[0] = 'x';
  g_assert_true (g_file_set_contents (metadata, (const char *) noise, sizeof noise, NULL));

  reader = strata_trace_reader_new (trace, &error);
  g_assert_null (reader);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, trace));
  g_assert_nonnull (strstr (error->message, "not CTF metadata"));
  g_clear_error (&error);

  /* Empty, and valid text cut in the middle of a declaration */
  g_assert_true (g_file_set_contents (metadata, "", 0, NULL));
  reader = strata_trace_reader_new (trace, &error);
  g_assert_null (reader);
  g_assert_nonnull (strstr (error->message, "0 bytes"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (metadata, "/* CTF 1.8 */\ntrace { major = 1; minor = ", -1, NULL));
  reader = strata_trace_reader_new (trace, &error);
  g_assert_null (reader);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "does not parse"));
}

static void
test_no_metadata (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "nothing", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceReader) reader = NULL;

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  reader = strata_trace_reader_new (dir, &error);
  g_assert_null (reader);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, dir));
}

/* simple-kernel's k_5 is a single packet: cut, nothing of it is left, the
 * seven other CPUs are read. */
static void
test_truncated_first_packet (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *original = strata_test_trace_path ("simple-kernel");
  g_autofree char *trace = copy_trace (f, "simple-kernel", "cut");
  g_autoptr(StrataTraceInfo) reference = load (original);
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autofree char *index = g_build_filename (trace, "index", NULL);
  const StrataTraceProblem *problem;

  truncate_file (trace, "k_5", 30000);
  info = load (trace);

  g_assert_cmpuint (info->n_events, ==, reference->n_events - cpu_events (reference, 5));
  g_assert_false (info->complete);
  g_assert_true (strata_trace_info_has_errors (info));
  problem = find_problem (info, STRATA_PROBLEM_ERROR, "\"k_5\"");
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem->message, "truncated (30000 of 241664 bytes)"));
  g_test_message ("%s", problem->message);

  /* Without the LTTng index, the same, with another explanation. */
  strata_test_rmtree (index);
  g_clear_pointer (&info, strata_trace_info_unref);
  info = load (trace);
  g_assert_cmpuint (info->n_events, ==, reference->n_events - cpu_events (reference, 5));
  problem = find_problem (info, STRATA_PROBLEM_ERROR, "\"k_5\"");
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem->message, "truncated or corrupt"));
  /* The message names the user's file, never a folder of Strata's own. */
  g_assert_null (strstr (problem->message, "strata-trace-"));
}

/* many-threads' channel0_1 has six packets: cut in the fourth, the first
 * three are read, exactly what a file cut at their end gives. */
static void
test_truncated_salvage (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *trace = copy_trace (f, "many-threads", "cut");
  g_autofree char *clean = copy_trace (f, "many-threads", "clean-cut");
  g_autofree char *clean_index = g_build_filename (clean, "index", NULL);
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(StrataTraceInfo) reference = NULL;
  const StrataTraceProblem *problem;

  truncate_file (trace, "channel0_1", 1000000);
  info = load (trace);

  /* The reference: a copy cut at the end of the third packet, which reads
   * without any problem. */
  truncate_file (clean, "channel0_1", 786432);
  strata_test_rmtree (clean_index);
  reference = load (clean);
  g_assert_cmpuint (reference->problems->len, ==, 0);
  g_assert_true (reference->complete);

  g_assert_cmpuint (info->n_events, ==, reference->n_events);
  g_assert_cmpuint (cpu_events (info, 1), ==, cpu_events (reference, 1));
  g_assert_cmpuint (cpu_events (info, 1), >, 0);
  g_assert_cmpuint (info->n_events, <, 240644);
  g_assert_false (info->complete);
  problem = find_problem (info, STRATA_PROBLEM_ERROR, "\"channel0_1\"");
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem->message, "3 of its 6 packets"));
}

static void
test_empty_stream (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *original = strata_test_trace_path ("simple-kernel");
  g_autofree char *trace = copy_trace (f, "simple-kernel", "empty");
  g_autoptr(StrataTraceInfo) reference = load (original);
  g_autoptr(StrataTraceInfo) info = NULL;

  truncate_file (trace, "k_5", 0);
  info = load (trace);

  g_assert_cmpuint (info->n_events, ==, reference->n_events - cpu_events (reference, 5));
  g_assert_nonnull (find_problem (info, STRATA_PROBLEM_WARNING, "\"k_5\" is empty"));
  /* Nothing was lost: an empty file had nothing to give. */
  g_assert_false (strata_trace_info_has_errors (info));
  g_assert_true (info->complete);
}

/* Bytes overwritten in the middle of a packet: decoding that stream stops
 * there; its events before, and the other streams, are read. */
static void
test_corrupt_packet (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *original = strata_test_trace_path ("simple-kernel");
  g_autofree char *trace = copy_trace (f, "simple-kernel", "corrupt");
  g_autofree char *stream = g_build_filename (trace, "k_5", NULL);
  g_autoptr(StrataTraceInfo) reference = load (original);
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autofree char *contents = NULL;
  const StrataTraceProblem *problem;
  gsize len;

  g_assert_true (g_file_get_contents (stream, &contents, &len, NULL));
  memset (contents + 20000, 0xff, 64);
  g_assert_true (g_file_set_contents (stream, contents, len, NULL));

  info = load (trace);
  g_assert_cmpuint (info->n_events, <, reference->n_events);
  g_assert_cmpuint (info->n_events, >, reference->n_events - cpu_events (reference, 5));
  g_assert_false (info->complete);
  problem = find_problem (info, STRATA_PROBLEM_ERROR, "\"k_5\"");
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem->message, "cannot decode after"));
  g_assert_null (strstr (problem->message, "addr=0x"));
  g_test_message ("%s", problem->message);
}

/* Unreadable files: tests may run as root, who reads anything, so the
 * reading runs in a subprocess that gives root up. The parent locks the
 * files first (only their owner may). */
static void
test_permission_denied (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *stream_locked = copy_trace (f, "simple-kernel", "stream-locked");
  g_autofree char *metadata_locked = copy_trace (f, "simple-kernel", "metadata-locked");
  g_autofree char *stream = g_build_filename (stream_locked, "k_5", NULL);
  g_autofree char *metadata = g_build_filename (metadata_locked, "metadata", NULL);

  g_assert_cmpint (g_chmod (stream, 0), ==, 0);
  g_assert_cmpint (g_chmod (metadata, 0), ==, 0);
  g_setenv ("STRATA_STREAM_LOCKED", stream_locked, TRUE);
  g_setenv ("STRATA_METADATA_LOCKED", metadata_locked, TRUE);

  g_test_trap_subprocess ("/strata/bad-input/permission-denied/subprocess", 0,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_permission_denied_subprocess (void)
{
  const char *stream_locked = g_getenv ("STRATA_STREAM_LOCKED");
  const char *metadata_locked = g_getenv ("STRATA_METADATA_LOCKED");
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataTraceInfo) info = NULL;
  g_autoptr(StrataTraceReader) reader = NULL;
  const StrataTraceProblem *problem;

  strata_test_drop_root ();

  info = load (stream_locked);
  g_assert_cmpuint (info->n_events, >, 0);
  g_assert_false (info->complete);
  problem = find_problem (info, STRATA_PROBLEM_ERROR, "\"k_5\"");
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem->message, "Permission denied"));

  reader = strata_trace_reader_new (metadata_locked, &error);
  g_assert_null (reader);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, metadata_locked));
}

/* Random damage anywhere in a small trace: an error or a partial read,
 * never a crash, a memory error or a hang. The rounds run in a subprocess
 * without leak detection: babeltrace2 2.0.4's CTF decoder leaks on some
 * damaged packets, in stripped frames no suppression can name, and a
 * blanket suppression would hide Strata's own leaks elsewhere. */
static void
test_random_damage (Fixture       *f,
                    gconstpointer  data)
{
  const char *files[] = { "metadata", "k_0", "k_2", "k_6", "index/k_2.idx" };

  if (!g_test_subprocess ())
    {
      g_autofree char *options = g_strconcat (g_getenv ("ASAN_OPTIONS") ?: "",
                                              ":detect_leaks=0:fast_unwind_on_malloc=1", NULL);

      g_setenv ("ASAN_OPTIONS", options, TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  /* Fixed seeds: the same damage on every run, so that a failure can be
   * reproduced. (Exploring with new seeds is a fuzzer's job, not the
   * suite's: babeltrace2 2.0.4 decodes some damaged sequence lengths by
   * allocating billions of fields, which nothing can interrupt.) */
  for (guint round = 0; round < 24; round++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (0x5eed0000 + round);
      g_autofree char *name = g_strdup_printf ("damaged-%u", round);
      g_autofree char *trace = copy_trace (f, "simple-kernel", name);
      g_autoptr(GError) error = NULL;
      g_autoptr(StrataTraceInfo) info = NULL;
      const char *file = files[round % G_N_ELEMENTS (files)];
      g_autofree char *path = g_build_filename (trace, file, NULL);
      g_autofree char *contents = NULL;
      gsize len;
      guint n_flips = (guint) g_rand_int_range (rand, 1, 16);

      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      for (guint i = 0; i < n_flips; i++)
        contents[g_rand_int_range (rand, 0, (gint32) len)] ^= (char) g_rand_int_range (rand, 1, 256);
      if (round % 3 == 0)
        len = (gsize) g_rand_int_range (rand, 1, (gint32) len);
      g_assert_true (g_file_set_contents (path, contents, len, NULL));

      info = strata_trace_info_load (trace, NULL, &error);
      g_test_message ("round %u, %s: %s", round, file,
                      error ? error->message
                            : (info->problems->len
                               ? ((StrataTraceProblem *) g_ptr_array_index (info->problems, 0))->message
                               : "read"));
      g_assert_true ((info == NULL) != (error == NULL));
      if (error != NULL)
        g_assert_nonnull (strstr (error->message, trace));
      strata_test_rmtree (trace);
    }
}

/* An archive with one good trace, one with garbage metadata, a folder
 * without traces, and a symlink loop: the good trace reads in full, each
 * other problem is named. */
static void
test_archive_with_bad_parts (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *archive = g_build_filename (f->tmp, "archive", NULL);
  g_autofree char *good_from = strata_test_trace_path ("flipping-endianness");
  g_autofree char *good = g_build_filename (archive, "host", "kernel", NULL);
  g_autofree char *bad = g_build_filename (archive, "guest", "kernel", NULL);
  g_autofree char *bad_metadata = g_build_filename (bad, "metadata", NULL);
  g_autofree char *empty = g_build_filename (archive, "notes", NULL);
  g_autofree char *loop = g_build_filename (archive, "notes", "loop", NULL);
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;
  const char *paths[] = { archive, NULL };
  guint n_read = 0, n_failed = 0;
  gboolean loop_reported = FALSE;

  strata_test_copy_tree (good_from, good);
  strata_test_copy_tree (good_from, bad);
  g_assert_true (g_file_set_contents (bad_metadata, "garbage", -1, NULL));
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_assert_cmpint (symlink ("..", loop), ==, 0);

  traces = strata_trace_discover (paths, &problems, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (traces->len, ==, 2);
  for (guint i = 0; i < problems->len; i++)
    {
      const GError *problem = g_ptr_array_index (problems, i);

      g_test_message ("discovery: %s", problem->message);
      if (g_error_matches (problem, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS))
        loop_reported = strstr (problem->message, loop) != NULL;
    }
  g_assert_true (loop_reported);

  for (guint i = 0; i < traces->len; i++)
    {
      const StrataTraceLocation *location = g_ptr_array_index (traces, i);
      g_autoptr(GError) load_error = NULL;
      g_autoptr(StrataTraceInfo) info = strata_trace_info_load (location->path, NULL, &load_error);

      if (info != NULL)
        {
          g_assert_cmpuint (info->n_events, ==, 14310);
          g_assert_true (info->complete);
          n_read++;
        }
      else
        {
          g_assert_nonnull (strstr (load_error->message, bad));
          n_failed++;
        }
    }
  g_assert_cmpuint (n_read, ==, 1);
  g_assert_cmpuint (n_failed, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/strata/bad-input/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("garbage-metadata", test_garbage_metadata);
  ADD ("no-metadata", test_no_metadata);
  ADD ("truncated-first-packet", test_truncated_first_packet);
  ADD ("truncated-salvage", test_truncated_salvage);
  ADD ("empty-stream", test_empty_stream);
  ADD ("corrupt-packet", test_corrupt_packet);
  ADD ("permission-denied", test_permission_denied);
  ADD ("random-damage", test_random_damage);
  ADD ("archive-with-bad-parts", test_archive_with_bad_parts);
  g_test_add_func ("/strata/bad-input/permission-denied/subprocess", test_permission_denied_subprocess);

#undef ADD

  return g_test_run ();
}
