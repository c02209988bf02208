/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "strata-test-utils.h"

/* `strata-cli info` as users and scripts run it: its JSON, its text, its
 * exit statuses (DESIGN.md: 0 success, 1 a trace could not be read,
 * 2 usage). */

static JsonObject *
find_trace (JsonArray  *traces,
            const char *suffix)
{
  for (guint i = 0; i < json_array_get_length (traces); i++)
    {
      JsonObject *trace = json_array_get_object_element (traces, i);

      if (g_str_has_suffix (json_object_get_string_member (trace, "path"), suffix))
        return trace;
    }
  g_error ("no trace ending in %s in the output", suffix);
  return NULL;
}

/* The acceptance of the first issue: every shared trace, the counts of
 * traces/README.md, the CPUs, host and tracer version of the metadata. */
static void
test_shared_traces_json (void)
{
  static const struct {
    const char *suffix;
    gint64      events;
    gint64      cpus;
    const char *hostname;
    const char *version;
  } known[] = {
    { "/simple-kernel", 11980, 8, "wilbrod", "2.11.0" },
    { "/many-threads", 240644, 8, "wilbrod", "2.8.0" },
    { "/wget-k-20180802-115043/kernel", 28383, 4, "arnaud-desktop", "2.10.6" },
    { "/cat-kern-ust/cat-kernel", 100420, 8, "wilbrod", "2.11.0" },
    { "/synctraces/scp_src", 110771, 1, "VM1", "2.1.0" },
    { "/synctraces/scp_dest", 85729, 1, "VM3", "2.1.0" },
    { "/bug446190", 31556, 4, "lager", "2.5.0" },
    { "/flipping-endianness", 14310, 1, "qemu0", "2.5.0" },
  };
  g_autofree char *dir = strata_test_trace_path (".");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *traces;
  StrataTestRun run;

  strata_test_run_cli (&run, "info", "--json", dir, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.err, ==, "");

  json_parser_load_from_data (parser, run.out, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  traces = json_object_get_array_member (root, "traces");
  g_assert_cmpuint (json_array_get_length (traces), ==, G_N_ELEMENTS (known));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "problems")), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    {
      JsonObject *trace = find_trace (traces, known[i].suffix);
      JsonObject *tracer = json_object_get_object_member (trace, "tracer");
      JsonObject *counts = json_object_get_object_member (trace, "event_counts");
      gint64 sum = 0;

      g_test_message ("%s", known[i].suffix);
      g_assert_cmpint (json_object_get_int_member (trace, "events"), ==, known[i].events);
      g_assert_cmpint (json_object_get_int_member (trace, "n_cpus"), ==, known[i].cpus);
      g_assert_cmpstr (json_object_get_string_member (trace, "hostname"), ==, known[i].hostname);
      g_assert_cmpstr (json_object_get_string_member (tracer, "name"), ==, "lttng-modules");
      g_assert_cmpstr (json_object_get_string_member (tracer, "version"), ==, known[i].version);
      g_assert_true (json_object_get_boolean_member (trace, "complete"));
      g_assert_cmpint (json_object_get_int_member (trace, "lost_events"), ==, 0);
      g_assert_false (json_object_get_boolean_member (json_object_get_object_member (trace, "roles"),
                                                      "hypervisor"));

      for (GList *l = json_object_get_members (counts), *m = l; m != NULL; m = m->next)
        {
          sum += json_object_get_int_member (counts, m->data);
          if (m->next == NULL)
            g_list_free (l);
        }
      g_assert_cmpint (sum, ==, known[i].events);
    }

  /* Layouts the metadata declares */
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (find_trace (traces, "/bug446190"), "layout"),
                     "syscalls"),
                   ==, "sys_*, exit_syscall (up to 2.5)");
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (find_trace (traces, "/many-threads"), "layout"),
                     "fork"),
                   ==, "with vtids and ns_inum (2.7+)");
  g_assert_true (json_object_has_member (
                   json_object_get_object_member (find_trace (traces, "/scp_src"), "layout"),
                   "network"));

  strata_test_run_clear (&run);
}

static void
test_text (void)
{
  g_autofree char *trace = strata_test_trace_path ("wget-k-20180802-115043");
  StrataTestRun run;

  strata_test_run_cli (&run, "info", trace, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "arnaud-desktop"));
  g_assert_nonnull (strstr (run.out, "lttng-modules 2.10.6"));
  g_assert_nonnull (strstr (run.out, "28383"));
  g_assert_nonnull (strstr (run.out, "bc6716d2-0cdc-46c4-924e-01c1f9211bb8"));
  strata_test_run_clear (&run);
}

/* One unreadable trace among good ones: listed with its error, the others
 * in full, exit status 1, the problem named on stderr. */
static void
test_partial_failure (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *good_from = strata_test_trace_path ("flipping-endianness");
  g_autofree char *good = g_build_filename (tmp, "good", NULL);
  g_autofree char *bad = g_build_filename (tmp, "bad", NULL);
  g_autofree char *bad_metadata = g_build_filename (bad, "metadata", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *traces;
  JsonObject *bad_trace;
  StrataTestRun run;

  strata_test_copy_tree (good_from, good);
  strata_test_copy_tree (good_from, bad);
  g_assert_true (g_file_set_contents (bad_metadata, "\x01\x02 not metadata", -1, NULL));

  strata_test_run_cli (&run, "info", "--json", tmp, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, bad));
  g_assert_nonnull (strstr (run.err, "invalid metadata"));

  json_parser_load_from_data (parser, run.out, -1, &error);
  g_assert_no_error (error);
  traces = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "traces");
  g_assert_cmpuint (json_array_get_length (traces), ==, 2);
  g_assert_cmpint (json_object_get_int_member (find_trace (traces, "/good"), "events"), ==, 14310);
  bad_trace = find_trace (traces, "/bad");
  g_assert_nonnull (strstr (json_object_get_string_member (bad_trace, "error"), "invalid metadata"));

  strata_test_run_clear (&run);
  strata_test_rmtree (tmp);
}

static void
test_no_trace (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  StrataTestRun run;

  strata_test_run_cli (&run, "info", tmp, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "No CTF trace found"));
  g_assert_nonnull (strstr (run.err, tmp));
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "info", "/nonexistent/strata/path", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "/nonexistent/strata/path"));
  strata_test_run_clear (&run);

  strata_test_rmtree (tmp);
}

static void
test_usage (void)
{
  StrataTestRun run;

  strata_test_run_cli (&run, NULL);
  g_assert_cmpint (run.status, ==, 2);
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "info", NULL);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_nonnull (strstr (run.err, "PATH"));
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "info", "--no-such-option", "x", NULL);
  g_assert_cmpint (run.status, ==, 2);
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "frobnicate", NULL);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_nonnull (strstr (run.err, "frobnicate"));
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "--help", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "info"));
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "info", "--help", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "--json"));
  strata_test_run_clear (&run);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/strata/cli/info/shared-traces-json", test_shared_traces_json);
  g_test_add_func ("/strata/cli/info/text", test_text);
  g_test_add_func ("/strata/cli/info/partial-failure", test_partial_failure);
  g_test_add_func ("/strata/cli/info/no-trace", test_no_trace);
  g_test_add_func ("/strata/cli/info/usage", test_usage);

  return g_test_run ();
}
