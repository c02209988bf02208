/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * StrataTraceLocation:
 * @path: absolute path of the trace folder (the folder holding `metadata`),
 *   made canonical without resolving symbolic links, so it shows the names
 *   the user sees
 * @root: the path, as given by the caller, below which the trace was found
 * @relpath: @path relative to @root ("." when @root is the trace itself or
 *   a file in it)
 * @domain_hint: "kernel" or "ust" when the LTTng session layout says so
 *   (`<session>/kernel/`, `<session>/ust/...`, the folder being below
 *   @root), otherwise %NULL
 *
 * One CTF trace found by strata_trace_discover().
 */
typedef struct
{
  char *path;
  char *root;
  char *relpath;
  char *domain_hint;
} StrataTraceLocation;

void                 strata_trace_location_free (StrataTraceLocation *location);
StrataTraceLocation *strata_trace_location_copy (const StrataTraceLocation *location);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StrataTraceLocation, strata_trace_location_free)

GPtrArray           *strata_trace_discover      (const char * const  *paths,
                                                 GPtrArray          **problems,
                                                 GCancellable        *cancellable,
                                                 GError             **error);

G_END_DECLS
