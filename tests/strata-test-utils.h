/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Absolute path of a trace of ../shared/traces (STRATA_TRACES_DIR). */
char     *strata_test_trace_path   (const char *relpath);
/* A new empty folder of the test's own, removed by strata_test_rmtree(). */
char     *strata_test_make_tmpdir  (void);
void      strata_test_rmtree       (const char *path);
/* Copies a trace folder (recursively, regular files and folders only). */
void      strata_test_copy_tree    (const char *from,
                                    const char *to);
/* TRUE if this process cannot read a file made unreadable by chmod 000
 * (false as root); strata_test_drop_root() makes it true in a subprocess. */
gboolean  strata_test_permissions_enforced (void);

/* A run of strata-cli ($STRATA_CLI): its exit status and its output. */
typedef struct
{
  int   status;
  char *out;
  char *err;
} StrataTestRun;

void      strata_test_run_cli      (StrataTestRun *run,
                                    const char    *first,
                                    ...);
void      strata_test_run_clear    (StrataTestRun *run);
void      strata_test_drop_root    (void);

G_END_DECLS

G_BEGIN_DECLS

/* One event as the babeltrace2 CLI prints it (an independent decoder):
 * ts (ns from origin), cpu, and each payload field's text ("…" stripped
 * from strings; arrays as "a,b,c"). */
typedef struct
{
  gint64      ts;
  guint       cpu;
  char       *name;
  GHashTable *fields;
} StrataTestBtEvent;

/* Every event named @event_name (NULL: all) that `babeltrace2` prints for
 * @trace_path, in its order. */
GPtrArray  *strata_test_bt2_events   (const char *trace_path,
                                      const char *event_name);
const char *strata_test_bt_field     (const StrataTestBtEvent *event,
                                      const char              *field);
gint64      strata_test_bt_int       (const StrataTestBtEvent *event,
                                      const char              *field);

G_END_DECLS
