/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "strata-trace-discovery.h"
#include "strata-test-utils.h"

/* Runs discovery, which must not fail, and returns the traces. */
static GPtrArray *
discover (const char * const  *paths,
          GPtrArray          **problems)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *traces;

  traces = strata_trace_discover (paths, problems, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (traces);
  g_assert_nonnull (*problems);
  return traces;
}

/* "a,b,c": one string to compare, so that a failure shows the whole list. */
static char *
join_relpaths (GPtrArray *traces)
{
  GString *str = g_string_new (NULL);

  for (guint i = 0; i < traces->len; i++)
    {
      StrataTraceLocation *location = g_ptr_array_index (traces, i);

      if (i > 0)
        g_string_append_c (str, ',');
      g_string_append (str, location->relpath);
    }
  return g_string_free (str, FALSE);
}

static char *
join_problems (GPtrArray *problems)
{
  GString *str = g_string_new (NULL);

  for (guint i = 0; i < problems->len; i++)
    {
      const GError *problem = g_ptr_array_index (problems, i);

      if (i > 0)
        g_string_append (str, " | ");
      g_string_append (str, problem->message);
    }
  return g_string_free (str, FALSE);
}

static void
assert_relpaths (GPtrArray  *traces,
                 const char *expected)
{
  g_autofree char *relpaths = join_relpaths (traces);

  g_assert_cmpstr (relpaths, ==, expected);
}

static void
assert_no_problems (GPtrArray *problems)
{
  g_autofree char *messages = join_problems (problems);

  g_assert_cmpstr (messages, ==, "");
}

/* Asserts that exactly one problem has @code and a message holding all of
 * @needles (NULL-terminated). */
static void
assert_problem (GPtrArray    *problems,
                GIOErrorEnum  code,
                ...)
{
  g_autofree char *messages = join_problems (problems);
  guint matches = 0;

  for (guint i = 0; i < problems->len; i++)
    {
      const GError *problem = g_ptr_array_index (problems, i);
      gboolean all = problem->domain == G_IO_ERROR && problem->code == (int) code;
      const char *needle;
      va_list args;

      va_start (args, code);
      while (all && (needle = va_arg (args, const char *)) != NULL)
        all = strstr (problem->message, needle) != NULL;
      va_end (args);

      if (all)
        matches++;
    }

  if (matches != 1)
    g_test_message ("problems: %s", messages);
  g_assert_cmpuint (matches, ==, 1);
}

static StrataTraceLocation *
get_location (GPtrArray  *traces,
              const char *relpath)
{
  for (guint i = 0; i < traces->len; i++)
    {
      StrataTraceLocation *location = g_ptr_array_index (traces, i);

      if (g_strcmp0 (location->relpath, relpath) == 0)
        return location;
    }

  g_error ("no trace with relpath \"%s\"", relpath);
  return NULL;
}

static void
write_file (const char *dir,
            const char *relpath,
            const char *contents)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, relpath, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_NONE, 0644, &error);
  g_assert_no_error (error);
}

static void
make_dir (const char *dir,
          const char *relpath)
{
  g_autofree char *path = g_build_filename (dir, relpath, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}

static void
make_symlink (const char *target,
              const char *dir,
              const char *relpath)
{
  g_autofree char *path = g_build_filename (dir, relpath, NULL);

  if (symlink (target, path) != 0)
    g_error ("symlink %s -> %s: %s", path, target, g_strerror (errno));
}

static void
test_shared_traces (void)
{
  g_autofree char *root = strata_test_trace_path (".");
  const char *paths[] = { root, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = discover (paths, &problems);

  assert_no_problems (problems);
  assert_relpaths (traces,
                   "bug446190,"
                   "cat-kern-ust/cat-kernel,"
                   "flipping-endianness,"
                   "many-threads,"
                   "simple-kernel,"
                   "synctraces/scp_dest,"
                   "synctraces/scp_src,"
                   "wget-k-20180802-115043/kernel");

  for (guint i = 0; i < traces->len; i++)
    {
      StrataTraceLocation *location = g_ptr_array_index (traces, i);
      g_autofree char *expected = g_build_filename (root, location->relpath, NULL);
      g_autofree char *metadata = g_build_filename (location->path, "metadata", NULL);

      g_assert_cmpstr (location->root, ==, root);
      g_assert_cmpstr (location->path, ==, expected);
      g_assert_true (g_path_is_absolute (location->path));
      g_assert_true (g_file_test (metadata, G_FILE_TEST_IS_REGULAR));

      if (strcmp (location->relpath, "wget-k-20180802-115043/kernel") == 0)
        g_assert_cmpstr (location->domain_hint, ==, "kernel");
      else
        g_assert_null (location->domain_hint);
    }
}

/* A trace given directly is its own root. */
static void
test_trace_argument (void)
{
  g_autofree char *trace = strata_test_trace_path ("wget-k-20180802-115043/kernel");
  const char *paths[] = { trace, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = discover (paths, &problems);
  StrataTraceLocation *location;

  assert_no_problems (problems);
  assert_relpaths (traces, ".");
  location = g_ptr_array_index (traces, 0);
  g_assert_cmpstr (location->path, ==, trace);
  g_assert_cmpstr (location->root, ==, trace);
  /* "kernel" is the root itself, not a folder below it. */
  g_assert_null (location->domain_hint);
}

static void
test_file_arguments (void)
{
  g_autofree char *stream = strata_test_trace_path ("simple-kernel/k_0");
  g_autofree char *metadata = strata_test_trace_path ("many-threads/metadata");
  g_autofree char *simple = strata_test_trace_path ("simple-kernel");
  g_autofree char *many = strata_test_trace_path ("many-threads");
  const char *paths[] = { stream, metadata, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = discover (paths, &problems);
  StrataTraceLocation *location;

  assert_no_problems (problems);
  assert_relpaths (traces, ".,.");

  location = g_ptr_array_index (traces, 0);
  g_assert_cmpstr (location->path, ==, simple);
  g_assert_cmpstr (location->root, ==, stream);

  location = g_ptr_array_index (traces, 1);
  g_assert_cmpstr (location->path, ==, many);
  g_assert_cmpstr (location->root, ==, metadata);
}

/* The same trace reached through several arguments is reported once, under
 * the first argument that reaches it. */
static void
test_duplicates (void)
{
  g_autofree char *root = strata_test_trace_path (".");
  g_autofree char *synctraces = strata_test_trace_path ("synctraces");
  g_autofree char *simple = strata_test_trace_path ("simple-kernel");
  g_autofree char *stream = strata_test_trace_path ("simple-kernel/k_1");
  g_autofree char *unclean = g_strconcat (simple, "/../simple-kernel/", NULL);
  const char *paths[] = { simple, synctraces, root, simple, unclean, stream, synctraces, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = discover (paths, &problems);

  assert_no_problems (problems);
  assert_relpaths (traces,
                   ".,"
                   "scp_dest,"
                   "scp_src,"
                   "bug446190,"
                   "cat-kern-ust/cat-kernel,"
                   "flipping-endianness,"
                   "many-threads,"
                   "wget-k-20180802-115043/kernel");
  g_assert_cmpstr (get_location (traces, ".")->root, ==, simple);
  g_assert_cmpstr (get_location (traces, "scp_src")->root, ==, synctraces);
  g_assert_cmpstr (get_location (traces, "many-threads")->root, ==, root);
}

static void
test_session_layout (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *archive = g_build_filename (tmp, "archive", NULL);
  g_autofree char *kernel = g_build_filename (archive, "s/kernel", NULL);
  const char *paths[] = { archive, NULL };
  const char *trace_paths[] = { kernel, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  StrataTraceLocation *location;

  write_file (archive, "s/kernel/metadata", "/* CTF 1.8 */");
  write_file (archive, "s/kernel/channel0_0", "");
  /* Not a trace of its own: discovery does not enter trace folders. */
  write_file (archive, "s/kernel/index/metadata", "");
  write_file (archive, "s/ust/uid/1000/64-bit/metadata", "/* CTF 1.8 */");
  write_file (archive, "s/ust/uid/1000/64-bit/index/channel0_0.idx", "");
  write_file (archive, "s/ust/pid/app-1234-20240101-120000/metadata", "/* CTF 1.8 */");
  write_file (archive, "plain/trace/metadata", "");
  write_file (archive, "README.txt", "not a trace");
  write_file (archive, "notes/todo.txt", "");
  write_file (archive, ".hidden/metadata", "");
  write_file (archive, "s/.snapshot/kernel/metadata", "");
  /* A folder named metadata does not make a trace. */
  make_dir (archive, "odd/metadata");
  make_dir (archive, "empty");

  traces = discover (paths, &problems);
  assert_no_problems (problems);
  assert_relpaths (traces,
                   "plain/trace,"
                   "s/kernel,"
                   "s/ust/pid/app-1234-20240101-120000,"
                   "s/ust/uid/1000/64-bit");

  location = get_location (traces, "s/kernel");
  g_assert_cmpstr (location->domain_hint, ==, "kernel");
  g_assert_cmpstr (location->path, ==, kernel);
  g_assert_cmpstr (location->root, ==, archive);
  g_assert_cmpstr (get_location (traces, "s/ust/uid/1000/64-bit")->domain_hint, ==, "ust");
  g_assert_cmpstr (get_location (traces, "s/ust/pid/app-1234-20240101-120000")->domain_hint,
                   ==, "ust");
  g_assert_null (get_location (traces, "plain/trace")->domain_hint);

  g_clear_pointer (&traces, g_ptr_array_unref);
  g_clear_pointer (&problems, g_ptr_array_unref);
  traces = discover (trace_paths, &problems);
  assert_no_problems (problems);
  assert_relpaths (traces, ".");

  strata_test_rmtree (tmp);
}

/* A relative argument is kept as given in root and made absolute in path. */
static void
test_relative_argument (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *expected = g_build_filename (tmp, "a/t", NULL);
  const char *paths[] = { "./a/", NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  StrataTraceLocation *location;

  write_file (tmp, "a/t/metadata", "");
  g_assert_cmpint (g_chdir (tmp), ==, 0);
  traces = discover (paths, &problems);
  g_assert_cmpint (g_chdir (cwd), ==, 0);

  assert_no_problems (problems);
  assert_relpaths (traces, "t");
  location = g_ptr_array_index (traces, 0);
  g_assert_cmpstr (location->root, ==, "./a/");
  g_assert_cmpstr (location->path, ==, expected);

  strata_test_rmtree (tmp);
}

static void
test_symlink_loop (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *loop = g_build_filename (tmp, "a/b/loop", NULL);
  g_autofree char *a = g_build_filename (tmp, "a", NULL);
  g_autofree char *points_back = g_strdup_printf ("points back to \"%s\"", a);
  g_autofree char *self = g_build_filename (tmp, "self", NULL);
  const char *paths[] = { tmp, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;

  write_file (tmp, "a/b/t1/metadata", "");
  write_file (tmp, "c/metadata", "");
  make_symlink ("..", tmp, "a/b/loop");
  /* A link to itself: the kernel gives up (ELOOP) before discovery sees a folder. */
  make_symlink ("self", tmp, "self");

  traces = discover (paths, &problems);
  assert_relpaths (traces, "a/b/t1,c");
  assert_problem (problems, G_IO_ERROR_TOO_MANY_LINKS,
                  "Symbolic link loop", loop, points_back, NULL);
  assert_problem (problems, G_IO_ERROR_TOO_MANY_LINKS, "Symbolic link loop", self, NULL);
  g_assert_cmpuint (problems->len, ==, 2);

  strata_test_rmtree (tmp);
}

static void
test_symlink_to_trace (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *root = g_build_filename (tmp, "root", NULL);
  g_autofree char *elsewhere = g_build_filename (tmp, "elsewhere", NULL);
  g_autofree char *link = g_build_filename (root, "link", NULL);
  const char *paths[] = { root, elsewhere, NULL };
  const char *link_paths[] = { link, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  StrataTraceLocation *location;

  write_file (elsewhere, "trace/metadata", "");
  write_file (root, "own/metadata", "");
  make_symlink ("../elsewhere/trace", root, "link");
  make_symlink ("../elsewhere/trace", root, "link2");
  make_symlink ("../elsewhere", root, "zz-folder-link");

  traces = discover (paths, &problems);
  assert_no_problems (problems);
  assert_relpaths (traces, "link,own");
  location = get_location (traces, "link");
  /* The name the user sees, not the link's target. */
  g_assert_cmpstr (location->path, ==, link);
  g_assert_cmpstr (location->root, ==, root);

  /* A link to a trace given as the argument. */
  g_clear_pointer (&traces, g_ptr_array_unref);
  g_clear_pointer (&problems, g_ptr_array_unref);
  traces = discover (link_paths, &problems);
  assert_no_problems (problems);
  assert_relpaths (traces, ".");
  g_assert_cmpstr (((StrataTraceLocation *) g_ptr_array_index (traces, 0))->path, ==, link);

  strata_test_rmtree (tmp);
}

static void
test_dangling_symlink (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *dead = g_build_filename (tmp, "dead", NULL);
  const char *paths[] = { tmp, dead, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;

  write_file (tmp, "t/metadata", "");
  make_symlink ("nowhere", tmp, "dead");
  make_symlink ("nowhere", tmp, ".hidden-dead");

  traces = discover (paths, &problems);
  assert_relpaths (traces, "t");
  /* Once met in the walk, once as an argument. */
  g_assert_cmpuint (problems->len, ==, 2);
  for (guint i = 0; i < problems->len; i++)
    {
      const GError *problem = g_ptr_array_index (problems, i);
      g_autofree char *expected = g_strdup_printf ("Dangling symbolic link: path=\"%s\" "
                                                   "points to \"nowhere\"", dead);

      g_assert_error (problem, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      g_assert_cmpstr (problem->message, ==, expected);
    }

  strata_test_rmtree (tmp);
}

static void
test_missing_argument (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *missing = g_build_filename (tmp, "no-such-trace", NULL);
  g_autofree char *trace = strata_test_trace_path ("bug446190");
  const char *paths[] = { missing, trace, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = discover (paths, &problems);

  assert_relpaths (traces, ".");
  g_assert_cmpuint (problems->len, ==, 1);
  assert_problem (problems, G_IO_ERROR_NOT_FOUND, missing, NULL);

  strata_test_rmtree (tmp);
}

static void
test_no_trace (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autofree char *empty = g_build_filename (tmp, "empty", NULL);
  g_autofree char *files = g_build_filename (tmp, "files", NULL);
  g_autofree char *file = g_build_filename (files, "a.txt", NULL);
  g_autofree char *index = strata_test_trace_path ("simple-kernel/index");
  g_autofree char *idx = strata_test_trace_path ("simple-kernel/index/k_0.idx");
  const char *paths[] = { empty, files, file, index, idx, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  g_autofree char *expected = NULL;
  const GError *first;

  make_dir (tmp, "empty");
  write_file (files, "a.txt", "");
  write_file (files, "sub/b.txt", "");

  traces = discover (paths, &problems);
  assert_relpaths (traces, "");
  g_assert_cmpuint (problems->len, ==, 5);

  expected = g_strdup_printf ("No CTF trace found: path=\"%s\"", empty);
  first = g_ptr_array_index (problems, 0);
  g_assert_error (first, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (first->message, ==, expected);
  assert_problem (problems, G_IO_ERROR_NOT_FOUND, "No CTF trace found", files, NULL);
  assert_problem (problems, G_IO_ERROR_NOT_DIRECTORY, "Not a CTF trace", file, NULL);
  assert_problem (problems, G_IO_ERROR_NOT_FOUND, "No CTF trace found", index, NULL);
  assert_problem (problems, G_IO_ERROR_NOT_DIRECTORY, "Not a CTF trace", idx, NULL);

  strata_test_rmtree (tmp);
}

#define PERMISSION_DIR_ENV "STRATA_TEST_DISCOVERY_PERMISSION_DIR"

/* Runs as "nobody" in a subprocess when the tests run as root, since root
 * reads everything. The parent made the tree readable by anyone. */
static void
permission_denied_child (void)
{
  const char *tmp = g_getenv (PERMISSION_DIR_ENV);
  g_autofree char *locked = NULL;
  g_autofree char *secret = NULL;
  const char *paths[] = { tmp, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  g_autofree char *expected = NULL;
  const GError *first;

  g_assert_nonnull (tmp);
  locked = g_build_filename (tmp, "locked", NULL);
  secret = g_build_filename (tmp, "secret/metadata", NULL);

  /* Still the owner here (root or the user): nobody could not chmod. */
  g_assert_cmpint (g_chmod (locked, 0), ==, 0);
  g_assert_cmpint (g_chmod (secret, 0), ==, 0);
  strata_test_drop_root ();
  g_assert_true (strata_test_permissions_enforced ());

  traces = discover (paths, &problems);
  assert_relpaths (traces, "open");
  g_assert_cmpuint (problems->len, ==, 2);

  expected = g_strdup_printf ("Cannot read folder: path=\"%s\": %s", locked, g_strerror (EACCES));
  first = g_ptr_array_index (problems, 0);
  g_assert_error (first, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpstr (first->message, ==, expected);
  assert_problem (problems, G_IO_ERROR_PERMISSION_DENIED,
                  "Cannot read trace metadata", secret, NULL);
}

static void
test_permission_denied (void)
{
  const char *readable[] = {
    "locked", "locked/t", "locked/t/metadata", "open", "open/metadata",
    "secret", "secret/metadata",
  };
  g_autofree char *tmp = NULL;

  if (g_test_subprocess ())
    {
      permission_denied_child ();
      return;
    }

  tmp = strata_test_make_tmpdir ();
  write_file (tmp, "locked/t/metadata", "");
  write_file (tmp, "open/metadata", "");
  write_file (tmp, "secret/metadata", "");
  /* Whatever the umask: "nobody" must be able to read all but what the
   * child locks. */
  for (guint i = 0; i < G_N_ELEMENTS (readable); i++)
    {
      g_autofree char *path = g_build_filename (tmp, readable[i], NULL);

      g_assert_cmpint (g_chmod (path, g_str_has_suffix (path, "metadata") ? 0644 : 0755), ==, 0);
    }

  g_setenv (PERMISSION_DIR_ENV, tmp, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv (PERMISSION_DIR_ENV);
  strata_test_rmtree (tmp);
  g_test_trap_assert_passed ();
}

static void
test_depth_limit (void)
{
  g_autofree char *tmp = strata_test_make_tmpdir ();
  g_autoptr(GString) deep = g_string_new (NULL);
  const char *paths[] = { tmp, NULL };
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  g_autofree char *shallow = NULL;

  for (guint i = 0; i < 80; i++)
    {
      if (i == 40)
        {
          g_autofree char *relpath = g_build_filename (deep->str, "t/metadata", NULL);

          write_file (tmp, relpath, "");
          shallow = g_build_filename (deep->str, "t", NULL);
        }
      g_string_append (deep, i == 0 ? "d" : "/d");
    }
  g_string_append (deep, "/t/metadata");
  write_file (tmp, deep->str, "");

  traces = discover (paths, &problems);
  assert_relpaths (traces, shallow);
  g_assert_cmpuint (problems->len, ==, 1);
  assert_problem (problems, G_IO_ERROR_FAILED, "Folder tree too deep", tmp, NULL);

  strata_test_rmtree (tmp);
}

static void
test_cancelled (void)
{
  g_autofree char *root = strata_test_trace_path (".");
  const char *paths[] = { root, NULL };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  traces = strata_trace_discover (paths, &problems, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (traces);
  g_assert_null (problems);
}

static void
test_no_paths (void)
{
  const char *paths[] = { NULL };
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GError) error = NULL;

  traces = strata_trace_discover (paths, NULL, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (traces);
  g_clear_error (&error);

  traces = strata_trace_discover (NULL, NULL, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (traces);
}

static void
test_location_copy (void)
{
  StrataTraceLocation location = {
    .path = (char *) "/a/s/kernel",
    .root = (char *) "a",
    .relpath = (char *) "s/kernel",
    .domain_hint = (char *) "kernel",
  };
  g_autoptr(StrataTraceLocation) copy = strata_trace_location_copy (&location);

  g_assert_true (copy != &location);
  g_assert_cmpstr (copy->path, ==, location.path);
  g_assert_true (copy->path != location.path);
  g_assert_cmpstr (copy->root, ==, location.root);
  g_assert_cmpstr (copy->relpath, ==, location.relpath);
  g_assert_cmpstr (copy->domain_hint, ==, location.domain_hint);

  location.domain_hint = NULL;
  g_clear_pointer (&copy, strata_trace_location_free);
  copy = strata_trace_location_copy (&location);
  g_assert_null (copy->domain_hint);

  strata_trace_location_free (NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/strata/discovery/shared-traces", test_shared_traces);
  g_test_add_func ("/strata/discovery/trace-argument", test_trace_argument);
  g_test_add_func ("/strata/discovery/file-arguments", test_file_arguments);
  g_test_add_func ("/strata/discovery/duplicates", test_duplicates);
  g_test_add_func ("/strata/discovery/session-layout", test_session_layout);
  g_test_add_func ("/strata/discovery/relative-argument", test_relative_argument);
  g_test_add_func ("/strata/discovery/symlink-loop", test_symlink_loop);
  g_test_add_func ("/strata/discovery/symlink-to-trace", test_symlink_to_trace);
  g_test_add_func ("/strata/discovery/dangling-symlink", test_dangling_symlink);
  g_test_add_func ("/strata/discovery/missing-argument", test_missing_argument);
  g_test_add_func ("/strata/discovery/no-trace", test_no_trace);
  g_test_add_func ("/strata/discovery/permission-denied", test_permission_denied);
  g_test_add_func ("/strata/discovery/depth-limit", test_depth_limit);
  g_test_add_func ("/strata/discovery/cancelled", test_cancelled);
  g_test_add_func ("/strata/discovery/no-paths", test_no_paths);
  g_test_add_func ("/strata/discovery/location-copy", test_location_copy);

  return g_test_run ();
}
