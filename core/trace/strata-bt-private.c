/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-bt"

#include "config.h"

#include <string.h>

#include "strata-bt-private.h"

/* libbabeltrace2's own causes carry object addresses and internal state
 * ("comp-addr=0x…"); the component and iterator causes say what went wrong
 * in the trace. Keep the latter, deepest (root cause) first. */
static gboolean
cause_is_useful (const bt_error_cause *cause)
{
  switch (bt_error_cause_get_actor_type (cause))
    {
    case BT_ERROR_CAUSE_ACTOR_TYPE_COMPONENT:
    case BT_ERROR_CAUSE_ACTOR_TYPE_COMPONENT_CLASS:
    case BT_ERROR_CAUSE_ACTOR_TYPE_MESSAGE_ITERATOR:
      return TRUE;
    case BT_ERROR_CAUSE_ACTOR_TYPE_UNKNOWN:
    default:
      return g_strcmp0 (bt_error_cause_get_module_name (cause), "libbabeltrace2") != 0;
    }
}

static void
append_flattened (GString    *str,
                  const char *message)
{
  gboolean space = FALSE;

  for (const char *p = message; *p; p++)
    {
      if (g_ascii_isspace (*p))
        {
          space = TRUE;
          continue;
        }
      if (space && str->len > 0)
        g_string_append_c (str, ' ');
      space = FALSE;
      g_string_append_c (str, *p);
    }
}

/* Object addresses ("msg-it-addr=0x…") say nothing to a user and change
 * from run to run: drop them, and the separators they leave. */
static char *
scrub (const char *message)
{
  static GRegex *addr_regex;
  static GRegex *sep_regex;
  g_autofree char *tmp = NULL;
  char *out;

  if (g_once_init_enter (&addr_regex))
    g_once_init_leave (&addr_regex, g_regex_new ("[a-z-]+-addr=0x[0-9a-f]+", G_REGEX_OPTIMIZE, 0, NULL));
  if (g_once_init_enter (&sep_regex))
    g_once_init_leave (&sep_regex, g_regex_new ("(:|,)(\\s*,)+", G_REGEX_OPTIMIZE, 0, NULL));

  tmp = g_regex_replace_literal (addr_regex, message, -1, 0, "", 0, NULL);
  out = g_regex_replace (sep_regex, tmp, -1, 0, "\\1", 0, NULL);

  /* Separators left at either end, and a final period before our ": ". */
  g_strstrip (out);
  while (*out != '\0' && strchr (",.:", out[strlen (out) - 1]) != NULL)
    {
      out[strlen (out) - 1] = '\0';
      g_strchomp (out);
    }
  while (out[0] == ',' || out[0] == ' ')
    memmove (out, out + 1, strlen (out));

  return out;
}

/**
 * _strata_bt_take_error_message:
 *
 * Takes the current thread's babeltrace2 error, if any, and turns its cause
 * chain into one line.
 *
 * Returns: (transfer full) (nullable): the message, %NULL without an error
 */
char *
_strata_bt_take_error_message (void)
{
  const bt_error *err = bt_current_thread_take_error ();
  g_autoptr(GString) str = NULL;
  guint64 n;
  guint kept = 0;

  if (err == NULL)
    return NULL;

  str = g_string_new (NULL);
  n = bt_error_get_cause_count (err);

  for (guint64 i = n; i > 0 && kept < 3; i--)
    {
      const bt_error_cause *cause = bt_error_borrow_cause_by_index (err, i - 1);
      const char *msg = bt_error_cause_get_message (cause);

      if (!cause_is_useful (cause) || msg == NULL || *msg == '\0')
        continue;
      {
        g_autofree char *clean = scrub (msg);

        if (*clean == '\0')
          continue;
        if (str->len > 0)
          g_string_append (str, ": ");
        append_flattened (str, clean);
        kept++;
      }
    }

  /* Only library causes: better those than nothing. */
  if (str->len == 0 && n > 0)
    append_flattened (str, bt_error_cause_get_message (bt_error_borrow_cause_by_index (err, n - 1)));

  bt_error_release (err);
  return g_string_free (g_steal_pointer (&str), FALSE);
}

/**
 * _strata_bt_set_error:
 *
 * Sets @error to the formatted message followed by the current thread's
 * babeltrace2 error causes, and clears the babeltrace2 error.
 */
void
_strata_bt_set_error (GError     **error,
                      GQuark       domain,
                      int          code,
                      const char  *format,
                      ...)
{
  g_autofree char *prefix = NULL;
  g_autofree char *causes = _strata_bt_take_error_message ();
  va_list args;

  va_start (args, format);
  prefix = g_strdup_vprintf (format, args);
  va_end (args);

  if (causes != NULL && *causes != '\0')
    g_set_error (error, domain, code, "%s: %s", prefix, causes);
  else
    g_set_error_literal (error, domain, code, prefix);
}

/**
 * _strata_bt_find_component_class:
 *
 * Finds a component class of an installed babeltrace2 plugin. The plugin
 * is looked up in the system plugin folder and the `BABELTRACE_PLUGIN_PATH`
 * folders only: the user's own plugin folder could shadow `ctf`.
 * The returned @component_class is borrowed from @plugin.
 */
gboolean
_strata_bt_find_component_class (const char                *plugin_name,
                                 const char                *class_name,
                                 bt_component_class_type    type,
                                 const bt_plugin          **plugin,
                                 const bt_component_class **component_class,
                                 GError                   **error)
{
  const bt_component_class *cls = NULL;
  bt_plugin_find_status status;

  *plugin = NULL;
  *component_class = NULL;

  status = bt_plugin_find (plugin_name, BT_TRUE, BT_FALSE, BT_TRUE, BT_TRUE, BT_FALSE, plugin);
  if (status != BT_PLUGIN_FIND_STATUS_OK)
    {
      _strata_bt_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                            "Cannot find the babeltrace2 plugin \"%s\" (is babeltrace2 installed?)",
                            plugin_name);
      return FALSE;
    }

  switch (type)
    {
    case BT_COMPONENT_CLASS_TYPE_SOURCE:
      cls = bt_component_class_source_as_component_class_const (
              bt_plugin_borrow_source_component_class_by_name_const (*plugin, class_name));
      break;
    case BT_COMPONENT_CLASS_TYPE_FILTER:
      cls = bt_component_class_filter_as_component_class_const (
              bt_plugin_borrow_filter_component_class_by_name_const (*plugin, class_name));
      break;
    case BT_COMPONENT_CLASS_TYPE_SINK:
      cls = bt_component_class_sink_as_component_class_const (
              bt_plugin_borrow_sink_component_class_by_name_const (*plugin, class_name));
      break;
    default:
      g_assert_not_reached ();
    }

  if (cls == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "The babeltrace2 plugin \"%s\" has no component class \"%s\"",
                   plugin_name, class_name);
      BT_PLUGIN_PUT_REF_AND_RESET (*plugin);
      return FALSE;
    }

  *component_class = cls;
  return TRUE;
}
