/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata"

#include "config.h"

#include <glib/gi18n.h>

#include "strata-application.h"
#include "strata-i18n.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(StrataApplication) app = NULL;

  strata_i18n_init ();
  /* GTK would set the locale again, undoing what strata_i18n_init() chose */
  gtk_disable_setlocale ();
  g_setenv ("LIBBABELTRACE2_DISABLE_PYTHON_PLUGINS", "1", FALSE);

  app = strata_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
