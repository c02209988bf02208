/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strata-test-utils.h"

char *
strata_test_trace_path (const char *relpath)
{
  const char *dir = g_getenv ("STRATA_TRACES_DIR");

  g_assert_nonnull (dir);
  return g_canonicalize_filename (relpath, dir);
}

char *
strata_test_make_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *path = g_dir_make_tmp ("strata-test-XXXXXX", &error);

  g_assert_no_error (error);
  /* Readable by everyone: some tests drop root to check permissions. */
  g_chmod (path, 0755);
  return path;
}

void
strata_test_rmtree (const char *path)
{
  GDir *dir;
  const char *name;
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;

  if (!S_ISDIR (st.st_mode))
    {
      g_unlink (path);
      return;
    }

  g_chmod (path, 0755);
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          strata_test_rmtree (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

void
strata_test_copy_tree (const char *from,
                       const char *to)
{
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  g_assert_cmpint (g_stat (from, &st), ==, 0);

  if (S_ISDIR (st.st_mode))
    {
      GDir *dir = g_dir_open (from, 0, &error);
      const char *name;

      g_assert_no_error (error);
      g_assert_cmpint (g_mkdir_with_parents (to, 0755), ==, 0);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *a = g_build_filename (from, name, NULL);
          g_autofree char *b = g_build_filename (to, name, NULL);
          strata_test_copy_tree (a, b);
        }
      g_dir_close (dir);
    }
  else if (S_ISREG (st.st_mode))
    {
      g_autofree char *contents = NULL;
      gsize len;

      g_file_get_contents (from, &contents, &len, &error);
      g_assert_no_error (error);
      g_file_set_contents_full (to, contents, len, G_FILE_SET_CONTENTS_NONE, 0644, &error);
      g_assert_no_error (error);
    }
}

gboolean
strata_test_permissions_enforced (void)
{
  return geteuid () != 0;
}

void
strata_test_drop_root (void)
{
  struct passwd *pw;

  if (geteuid () != 0)
    return;

  pw = getpwnam ("nobody");
  g_assert_nonnull (pw);
  g_assert_cmpint (setgid (pw->pw_gid), ==, 0);
  g_assert_cmpint (setuid (pw->pw_uid), ==, 0);
  g_assert_cmpint (geteuid (), !=, 0);
}

static void
bt_event_free (gpointer data)
{
  StrataTestBtEvent *event = data;

  g_free (event->name);
  g_hash_table_unref (event->fields);
  g_free (event);
}

/* Parses `name = value, name = value }` from @p. */
static void
parse_fields (const char *p,
              GHashTable *fields)
{
  while (*p && *p != '}')
    {
      const char *name_start, *name_end;
      GString *value = g_string_new (NULL);

      while (*p == ' ' || *p == ',' || *p == '{')
        p++;
      name_start = p;
      while (*p && *p != ' ' && *p != '=')
        p++;
      name_end = p;
      while (*p == ' ' || *p == '=')
        p++;

      if (*p == '"')
        {
          for (p++; *p && *p != '"'; p++)
            {
              if (*p == '\\' && p[1])
                p++;
              g_string_append_c (value, *p);
            }
          if (*p == '"')
            p++;
        }
      else if (*p == '[')
        {
          /* [ [0] = 2032, [1] = 5 ] → "2032,5" */
          int depth = 0;
          gboolean in_value = FALSE;

          for (; *p; p++)
            {
              if (*p == '[')
                depth++;
              else if (*p == ']')
                {
                  depth--;
                  if (depth == 0)
                    {
                      p++;
                      break;
                    }
                }
              else if (depth == 1 && *p == '=')
                {
                  in_value = TRUE;
                  if (value->len > 0)
                    g_string_append_c (value, ',');
                }
              else if (depth == 1 && *p == ',')
                in_value = FALSE;
              else if (in_value && *p != ' ')
                g_string_append_c (value, *p);
            }
        }
      else
        {
          while (*p && *p != ',' && *p != '}')
            g_string_append_c (value, *p++);
          g_strchomp (value->str);
          value->len = strlen (value->str);
        }

      if (name_end > name_start)
        g_hash_table_replace (fields, g_strndup (name_start, name_end - name_start),
                              g_string_free (value, FALSE));
      else
        g_string_free (value, TRUE);
    }
}

GPtrArray *
strata_test_bt2_events (const char *trace_path,
                        const char *event_name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GString) line_buf = g_string_new (NULL);
  const char *argv[] = { "babeltrace2", "--clock-seconds", trace_path, NULL };
  GPtrArray *events = g_ptr_array_new_with_free_func (bt_event_free);
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);

  /* Lines by hand: under ASan, strstr()-based splitting measures the
   * whole remaining output at each line, which is quadratic. */
  for (const char *next = out; *next != '\0';)
    {
      const char *end = next;
      const char *line;
      const char *p;
      StrataTestBtEvent *event;
      guint64 secs, frac;
      char name[256];

      while (*end != '\0' && *end != '\n')
        end++;
      g_string_truncate (line_buf, 0);
      g_string_append_len (line_buf, next, end - next);
      line = line_buf->str;
      next = *end != '\0' ? end + 1 : end;

      /* [1540227223.493494028] (+0.000002247) host name: { cpu_id = 4 }, { … } */
      if (sscanf (line, "[%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT "]", &secs, &frac) != 2)
        continue;
      p = strchr (line, ')');
      if (p == NULL)
        continue;
      p = strchr (p + 2, ' ');
      if (p == NULL || sscanf (p + 1, "%255[^:]:", name) != 1)
        continue;
      if (event_name != NULL && strcmp (name, event_name) != 0)
        continue;

      event = g_new0 (StrataTestBtEvent, 1);
      event->ts = (gint64) (secs * G_GUINT64_CONSTANT (1000000000) + frac);
      event->name = g_strdup (name);
      event->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

      p = strstr (p, ": {");
      if (p != NULL)
        {
          const char *payload;

          parse_fields (p + 3, event->fields);
          payload = strstr (p + 3, "}, {");
          if (payload != NULL)
            parse_fields (payload + 4, event->fields);
        }
      if (g_hash_table_contains (event->fields, "cpu_id"))
        event->cpu = (guint) g_ascii_strtoull (g_hash_table_lookup (event->fields, "cpu_id"), NULL, 10);

      g_ptr_array_add (events, event);
    }

  return events;
}

const char *
strata_test_bt_field (const StrataTestBtEvent *event,
                      const char              *field)
{
  const char *value = g_hash_table_lookup (event->fields, field);

  if (value == NULL)
    g_error ("babeltrace2 printed no field \"%s\" for %s", field, event->name);
  return value;
}

gint64
strata_test_bt_int (const StrataTestBtEvent *event,
                    const char              *field)
{
  const char *value = strata_test_bt_field (event, field);

  if (value[0] == '-')
    return g_ascii_strtoll (value, NULL, 0);
  return (gint64) g_ascii_strtoull (value, NULL, 0);
}

/* Runs strata-cli with the arguments up to NULL, and waits for it. */
void
strata_test_run_cli (StrataTestRun *run,
                     const char    *first,
                     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("STRATA_CLI");
  va_list args;
  int wait_status;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
}

void
strata_test_run_clear (StrataTestRun *run)
{
  g_free (run->out);
  g_free (run->err);
}
