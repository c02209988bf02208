/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <babeltrace2/babeltrace.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* The MIP version Strata's graphs speak (babeltrace2 2.0 knows only 0). */
#define STRATA_BT_MIP_VERSION 0

char     *_strata_bt_take_error_message    (void);
void      _strata_bt_set_error             (GError                  **error,
                                            GQuark                    domain,
                                            int                       code,
                                            const char               *format,
                                            ...) G_GNUC_PRINTF (4, 5);
gboolean  _strata_bt_find_component_class  (const char               *plugin_name,
                                            const char               *class_name,
                                            bt_component_class_type   type,
                                            const bt_plugin         **plugin,
                                            const bt_component_class **component_class,
                                            GError                  **error);

G_END_DECLS
