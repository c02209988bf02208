/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "strata-i18n.h"

static gboolean
is_c_locale (const char *name)
{
  return name == NULL || strcmp (name, "C") == 0 || strcmp (name, "POSIX") == 0;
}

/**
 * strata_i18n_init:
 *
 * Sets the locale from the environment and binds Strata's messages: from
 * $STRATA_LOCALEDIR when set (the build folder's po/, for tests and
 * uninstalled runs), else from the installed locale folder.
 *
 * gettext ignores $LANGUAGE in the C locale, whose character set is
 * ASCII, so that `LANGUAGE=fr strata-cli` would print English where no
 * locale is set (containers, CI, ssh without LANG). When a language is
 * asked for that way, messages and characters use C.UTF-8 instead, as
 * Python does for the C locale (PEP 538); formats stay C's. An explicit
 * $LC_ALL is left as it is.
 */
void
strata_i18n_init (void)
{
  const char *localedir = g_getenv ("STRATA_LOCALEDIR");
  const char *language = g_getenv ("LANGUAGE");

  setlocale (LC_ALL, "");
  if (language != NULL && language[0] != '\0' && g_getenv ("LC_ALL") == NULL
      && is_c_locale (setlocale (LC_MESSAGES, NULL)))
    {
      if (setlocale (LC_MESSAGES, "C.UTF-8") != NULL && is_c_locale (setlocale (LC_CTYPE, NULL)))
        setlocale (LC_CTYPE, "C.UTF-8");
    }

  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && localedir[0] != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
