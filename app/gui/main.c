/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "strata-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(StrataApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_setenv ("LIBBABELTRACE2_DISABLE_PYTHON_PLUGINS", "1", FALSE);

  app = strata_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
