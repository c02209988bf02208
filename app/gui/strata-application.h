/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "strata-catalog.h"

G_BEGIN_DECLS

#define STRATA_TYPE_APPLICATION (strata_application_get_type ())

G_DECLARE_FINAL_TYPE (StrataApplication, strata_application, STRATA, APPLICATION, GtkApplication)

StrataApplication *strata_application_new          (void);
StrataCatalog     *strata_application_get_catalog  (StrataApplication *self);
const char        *strata_application_get_catalog_error (StrataApplication *self);
char              *strata_application_dup_demo_dir (StrataApplication *self);
GSettings         *strata_application_get_settings (StrataApplication *self);

G_END_DECLS
