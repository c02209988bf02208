/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "strata-test-utils.h"

/* The fused analysis on real traces, against independent references
 * (tests/oracles): CPU time per thread as lttng-cputop counts it, and the
 * PID-namespace (container) hierarchy rebuilt by another decoder. */

typedef struct
{
  char *dir;
  char *cache;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = strata_test_make_tmpdir ();
  f->cache = g_build_filename (f->dir, "cache", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  strata_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->cache);
}

/* Runs an oracle of tests/oracles; NULL (the test skipped) when its
 * dependencies are missing. */
static JsonNode *
run_oracle (const char *name,
            const char *trace)
{
  g_autofree char *script = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "oracles", name, NULL);
  const char *argv[] = { "/usr/bin/python3", script, trace, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) envp = NULL;
  int status = 0;

  if (!g_file_test (argv[0], G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("no /usr/bin/python3 for the oracle");
      return NULL;
    }
  /* babeltrace 1, under lttng-cputop, reads freed memory: glibc's
   * malloc checks (which meson's test runner turns on) crash it */
  envp = g_get_environ ();
  envp = g_environ_unsetenv (envp, "MALLOC_PERTURB_");
  envp = g_environ_unsetenv (envp, "MALLOC_CHECK_");
  g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      g_autofree char *why = g_strdup_printf ("oracle %s: %s", name, err);

      g_test_skip (why);
      return NULL;
    }
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("oracle %s failed on %s: %s", name, trace, err);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  return json_node_ref (json_parser_get_root (parser));
}

static JsonNode *
run_cli_json (Fixture    *f,
              const char *command,
              const char *trace)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  StrataTestRun run;
  JsonNode *root;

  strata_test_run_cli (&run, command, "--json", "--cache-dir", f->cache, trace, NULL);
  if (run.status != 0)
    g_error ("strata-cli %s %s: status %d: %s", command, trace, run.status, run.err);
  json_parser_load_from_data (parser, run.out, -1, &error);
  g_assert_no_error (error);
  root = json_node_ref (json_parser_get_root (parser));
  strata_test_run_clear (&run);
  return root;
}

/* ---------------------------------------------------------------------- */

static void
test_cputop (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *trace = strata_test_trace_path (data);
  g_autoptr(JsonNode) oracle = run_oracle ("cputop-reference", trace);
  g_autoptr(JsonNode) stats = NULL;
  g_autoptr(GHashTable) ours = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  JsonArray *threads;
  guint n_compared = 0;

  if (oracle == NULL)
    return;
  stats = run_cli_json (f, "stats", trace);

  threads = json_object_get_array_member (json_node_get_object (stats), "threads");
  for (guint i = 0; i < json_array_get_length (threads); i++)
    {
      JsonObject *t = json_array_get_object_element (threads, i);
      gint64 *ns = g_new (gint64, 1);

      *ns = json_object_get_int_member (t, "cpu_ns");
      /* One trace: one machine, and tids are unique in it except when
       * reused; lttng-cputop sums a reused tid's threads */
      if (g_hash_table_contains (ours, GINT_TO_POINTER ((int) json_object_get_int_member (t, "tid"))))
        *ns += *(gint64 *) g_hash_table_lookup (ours, GINT_TO_POINTER ((int) json_object_get_int_member (t, "tid")));
      g_hash_table_insert (ours, GINT_TO_POINTER ((int) json_object_get_int_member (t, "tid")), ns);
    }

  threads = json_object_get_array_member (json_node_get_object (oracle), "threads");
  g_assert_cmpuint (json_array_get_length (threads), >, 10);
  for (guint i = 0; i < json_array_get_length (threads); i++)
    {
      JsonObject *t = json_array_get_object_element (threads, i);
      int tid = (int) json_object_get_int_member (t, "tid");
      gint64 expected = json_object_get_int_member (t, "cpu_ns");
      const gint64 *got = g_hash_table_lookup (ours, GINT_TO_POINTER (tid));
      gint64 value = got != NULL ? *got : 0;

      /* tid 0 is the idle tasks, which lttng-cputop does not count */
      if (tid == 0)
        continue;
      if (ABS (value - expected) > expected / 1000)
        g_error ("%s: tid %d (%s): CPU time %" G_GINT64_FORMAT " ns, lttng-cputop says %" G_GINT64_FORMAT,
                 (const char *) data, tid, json_object_get_string_member (t, "name"), value, expected);
      n_compared++;
    }
  g_test_message ("%s: %u threads agree with lttng-cputop", (const char *) data, n_compared);
}

/* ---------------------------------------------------------------------- */

static JsonObject *
find_namespace (JsonArray *containers,
                gint64     inum)
{
  for (guint i = 0; i < json_array_get_length (containers); i++)
    {
      JsonObject *c = json_array_get_object_element (containers, i);

      if (json_object_get_int_member (c, "pid_ns_inum") == inum)
        return c;
    }
  return NULL;
}

static gboolean
has_member (JsonObject *ns,
            gint64      tid,
            gint64      vtid)
{
  JsonArray *threads = json_object_get_array_member (ns, "threads");

  for (guint i = 0; i < json_array_get_length (threads); i++)
    {
      JsonObject *t = json_array_get_object_element (threads, i);

      if (json_object_get_int_member (t, "tid") == tid && json_object_get_int_member (t, "vtid") == vtid)
        return TRUE;
    }
  return FALSE;
}

static gboolean
has_comm (JsonObject *ns,
          const char *comm)
{
  JsonArray *threads = json_object_get_array_member (ns, "threads");

  for (guint i = 0; i < json_array_get_length (threads); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (threads, i), "comm"), comm) == 0)
      return TRUE;
  return FALSE;
}

static void
test_containers (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *trace = strata_test_trace_path (data);
  g_autoptr(JsonNode) oracle = run_oracle ("pid-namespaces", trace);
  g_autoptr(JsonNode) summary = NULL;
  JsonArray *machines, *containers, *namespaces;
  guint n_oracle = 0;

  if (oracle == NULL)
    return;
  summary = run_cli_json (f, "analyze", trace);
  machines = json_object_get_array_member (json_node_get_object (summary), "machines");
  g_assert_cmpuint (json_array_get_length (machines), ==, 1);
  containers = json_object_get_array_member (json_array_get_object_element (machines, 0), "containers");

  /* Every namespace below the root, with its level, its parent and its
   * threads under their ids inside it */
  namespaces = json_object_get_array_member (json_node_get_object (oracle), "namespaces");
  for (guint i = 0; i < json_array_get_length (namespaces); i++)
    {
      JsonObject *expected = json_array_get_object_element (namespaces, i);
      gint64 inum = json_object_get_int_member (expected, "inum");
      JsonArray *threads = json_object_get_array_member (expected, "threads");
      JsonObject *got;

      if (json_object_get_int_member (expected, "level") == 0)
        continue;
      n_oracle++;
      got = find_namespace (containers, inum);
      if (got == NULL)
        g_error ("%s: PID namespace %" G_GINT64_FORMAT " not found", (const char *) data, inum);
      g_assert_cmpint (json_object_get_int_member (got, "level"), ==, json_object_get_int_member (expected, "level"));
      if (json_object_get_int_member (expected, "level") > 1)
        g_assert_cmpint (json_object_get_int_member (got, "parent_inum"), ==,
                         json_object_get_int_member (expected, "parent_inum"));
      else
        g_assert_true (json_object_get_null_member (got, "parent_inum"));
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (got, "threads")), ==,
                        json_array_get_length (threads));
      for (guint k = 0; k < json_array_get_length (threads); k++)
        {
          JsonObject *t = json_array_get_object_element (threads, k);

          if (!has_member (got, json_object_get_int_member (t, "tid"), json_object_get_int_member (t, "vtid")))
            g_error ("%s: namespace %" G_GINT64_FORMAT ": thread %" G_GINT64_FORMAT " (vtid %" G_GINT64_FORMAT
                     ") missing", (const char *) data, inum, json_object_get_int_member (t, "tid"),
                     json_object_get_int_member (t, "vtid"));
        }
    }
  g_assert_cmpuint (json_array_get_length (containers), ==, n_oracle);
  g_assert_cmpuint (n_oracle, >, 0);

  /* What the traces' README says of them, independently of the oracle */
  if (g_str_has_prefix (data, "cat-kern-ust"))
    {
      JsonObject *web = find_namespace (containers, 4026532393);
      JsonObject *other = find_namespace (containers, 4026532387);

      g_assert_nonnull (web);
      g_assert_nonnull (other);
      g_assert_true (has_comm (web, "nginx"));
      g_assert_true (has_comm (web, "php5-fpm"));
      g_assert_true (has_comm (web, "run.sh"));
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (other, "threads")), ==, 70);
    }
  else if (g_str_has_prefix (data, "wget"))
    {
      guint n_level2 = 0;

      for (guint i = 0; i < json_array_get_length (containers); i++)
        if (json_object_get_int_member (json_array_get_object_element (containers, i), "level") == 2)
          n_level2++;
      g_assert_cmpuint (n_level2, ==, 12);
    }
}

int
main (int   argc,
      char *argv[])
{
  static const char * const cputop_traces[] = {
    "simple-kernel", "cat-kern-ust/cat-kernel", "wget-k-20180802-115043/kernel",
  };
  static const char * const container_traces[] = {
    "cat-kern-ust/cat-kernel", "wget-k-20180802-115043/kernel",
  };

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cputop_traces); i++)
    {
      g_autofree char *path = g_strdup_printf ("/strata/analysis/cputop/%s", cputop_traces[i]);

      g_test_add (path, Fixture, cputop_traces[i], fixture_set_up, test_cputop, fixture_tear_down);
    }
  for (guint i = 0; i < G_N_ELEMENTS (container_traces); i++)
    {
      g_autofree char *path = g_strdup_printf ("/strata/analysis/containers/%s", container_traces[i]);

      g_test_add (path, Fixture, container_traces[i], fixture_set_up, test_containers, fixture_tear_down);
    }
  return g_test_run ();
}
