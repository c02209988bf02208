/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "strata-test-utils.h"

/* `strata-cli sync` as users and scripts run it: its JSON (documented in
 * app/cli/README.md), its text, its exit statuses (0 every trace
 * synchronized, 1 a trace could not be read or synchronized, 2 usage). */

static JsonObject *
parse (JsonParser *parser,
       const char *text)
{
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

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

/* The acceptance on synctraces, through the command line */
static void
test_synctraces_json (void)
{
  g_autofree char *dir = strata_test_trace_path ("synctraces");
  g_autofree char *dest = strata_test_trace_path ("synctraces/scp_dest");
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root, *src, *d, *transform, *matches, *pair;
  JsonArray *traces, *pairs;
  StrataTestRun run;

  strata_test_run_cli (&run, "sync", "--json", "--reference", dest, dir, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.err, ==, "");

  root = parse (parser, run.out);
  g_assert_cmpint (json_object_get_int_member (root, "matches"), ==, 46);
  g_assert_cmpint (json_object_get_int_member (root, "unsynchronized"), ==, 0);
  g_assert_true (g_str_has_suffix (json_object_get_string_member (root, "reference"), "/scp_dest"));
  g_assert_true (json_object_get_boolean_member (root, "reference_chosen"));
  g_assert_false (json_object_get_boolean_member (root, "from_cache"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "problems")), ==, 0);

  traces = json_object_get_array_member (root, "traces");
  g_assert_cmpuint (json_array_get_length (traces), ==, 2);
  d = find_trace (traces, "/scp_dest");
  g_assert_true (json_object_get_boolean_member (d, "is_reference"));
  g_assert_true (json_object_get_null_member (d, "parent"));
  g_assert_cmpfloat (json_object_get_double_member (d, "a"), ==, 1.0);
  g_assert_cmpfloat (json_object_get_double_member (d, "accuracy_ns"), ==, 0.0);

  src = find_trace (traces, "/scp_src");
  g_assert_cmpstr (json_object_get_string_member (src, "hostname"), ==, "VM1");
  g_assert_false (json_object_get_boolean_member (src, "is_reference"));
  g_assert_true (json_object_get_boolean_member (src, "synchronized"));
  g_assert_true (json_object_get_boolean_member (src, "read"));
  g_assert_cmpstr (json_object_get_string_member (src, "quality"), ==, "accurate");
  g_assert_cmpstr (json_object_get_string_member (src, "parent"), ==,
                   json_object_get_string_member (d, "path"));
  g_assert_cmpstr (json_object_get_string_member (src, "reference"), ==,
                   json_object_get_string_member (d, "path"));
  matches = json_object_get_object_member (src, "matches");
  g_assert_cmpint (json_object_get_int_member (matches, "to_parent"), ==, 24);
  g_assert_cmpint (json_object_get_int_member (matches, "from_parent"), ==, 22);
  g_assert_cmpfloat (fabs (json_object_get_double_member (src, "a") - 0.9999413783703139), <, 1e-15);
  g_assert_cmpfloat (json_object_get_double_member (src, "a_min"), <=, json_object_get_double_member (src, "a"));
  g_assert_cmpfloat (json_object_get_double_member (src, "a"), <=, json_object_get_double_member (src, "a_max"));
  g_assert_true (json_object_get_double_member (src, "accuracy_ns") > 0);
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (src, "problems")), ==, 0);

  /* The exact form of the transform: a·t + b at the first and last
   * events, against the published one (traces/README.md) */
  transform = json_object_get_object_member (src, "transform");
  for (int k = 0; k < 2; k++)
    {
      gint64 t = json_object_get_int_member (src, k == 0 ? "begin_ns" : "end_ns");
      long double ours = (long double) (json_object_get_int_member (transform, "origin_ref_ns") - t)
                         + json_object_get_double_member (transform, "origin_ref_frac")
                         + ((long double) json_object_get_double_member (transform, "a") - 1.0L)
                           * (long double) (t - json_object_get_int_member (transform, "origin_ns"))
                         + (long double) (t - json_object_get_int_member (transform, "origin_ns"));
      long double published = ((long double) 0.9999413783703139 - 1.0L) * (long double) t
                              + 79796507913179.333L;

      g_assert_cmpfloat ((double) fabsl (ours - published), <, 1000.0);
    }

  pairs = json_object_get_array_member (root, "pairs");
  g_assert_cmpuint (json_array_get_length (pairs), ==, 1);
  pair = json_array_get_object_element (pairs, 0);
  g_assert_cmpint (json_object_get_int_member (pair, "first_to_second")
                   + json_object_get_int_member (pair, "second_to_first"), ==, 46);
  g_assert_true (json_object_get_boolean_member (pair, "used"));
  g_assert_false (json_object_get_boolean_member (pair, "same_clock"));

  strata_test_run_clear (&run);
}

static void
test_text (void)
{
  g_autofree char *dir = strata_test_trace_path ("synctraces");
  StrataTestRun run;

  strata_test_run_cli (&run, "sync", "--reference", "VM3", dir, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "Reference: "));
  g_assert_nonnull (strstr (run.out, "scp_dest (VM3) (chosen)"));
  g_assert_nonnull (strstr (run.out, "Matched messages: 46"));
  g_assert_nonnull (strstr (run.out, "synchronized  yes"));
  g_assert_nonnull (strstr (run.out, "t' = 0.9999413783703139 × t + 7979650791"));
  g_assert_nonnull (strstr (run.out, "24 sent to its parent, 22 received from it"));
  g_assert_null (strstr (run.out, "NOT"));
  strata_test_run_clear (&run);
}

/* A trace with no sync events among others: flagged in the JSON, named
 * on stderr, exit status 1; the others are synchronized. */
static void
test_unsynchronized (void)
{
  g_autofree char *src = strata_test_trace_path ("synctraces/scp_src");
  g_autofree char *dest = strata_test_trace_path ("synctraces/scp_dest");
  g_autofree char *lone = strata_test_trace_path ("flipping-endianness");
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root, *trace;
  StrataTestRun run;

  strata_test_run_cli (&run, "sync", "--json", src, dest, lone, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, lone));
  g_assert_nonnull (strstr (run.err, "not synchronized"));

  root = parse (parser, run.out);
  g_assert_cmpint (json_object_get_int_member (root, "unsynchronized"), ==, 1);
  trace = find_trace (json_object_get_array_member (root, "traces"), "/flipping-endianness");
  g_assert_false (json_object_get_boolean_member (trace, "synchronized"));
  g_assert_cmpstr (json_object_get_string_member (trace, "quality"), ==, "absent");
  g_assert_true (json_object_get_null_member (trace, "accuracy_ns"));
  g_assert_true (json_object_get_null_member (trace, "a_min"));
  g_assert_cmpfloat (json_object_get_double_member (trace, "a"), ==, 1.0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (trace, "problems")), >, 0);
  g_assert_true (json_object_get_boolean_member (find_trace (json_object_get_array_member (root, "traces"),
                                                             "/scp_src"), "synchronized"));
  strata_test_run_clear (&run);

  /* The text says so too */
  strata_test_run_cli (&run, "sync", src, dest, lone, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.out, "NO (not synchronized)"));
  g_assert_nonnull (strstr (run.out, "1 of 3 traces NOT synchronized"));
  strata_test_run_clear (&run);
}

static void
test_usage (void)
{
  g_autofree char *dir = strata_test_trace_path ("synctraces");
  StrataTestRun run;

  strata_test_run_cli (&run, "sync", NULL);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_nonnull (strstr (run.err, "no PATH given"));
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "sync", "--reference", "nowhere", dir, NULL);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_nonnull (strstr (run.err, "\"nowhere\""));
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "sync", "--no-such-option", dir, NULL);
  g_assert_cmpint (run.status, ==, 2);
  strata_test_run_clear (&run);

  strata_test_run_cli (&run, "sync", "/nonexistent/strata/traces", NULL);
  g_assert_cmpint (run.status, ==, 1);
  strata_test_run_clear (&run);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/strata/cli/sync/synctraces-json", test_synctraces_json);
  g_test_add_func ("/strata/cli/sync/text", test_text);
  g_test_add_func ("/strata/cli/sync/unsynchronized", test_unsynchronized);
  g_test_add_func ("/strata/cli/sync/usage", test_usage);

  return g_test_run ();
}
