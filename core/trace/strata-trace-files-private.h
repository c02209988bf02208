/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The files of a trace folder, looked at without babeltrace2: which stream
 * files there are, whether LTTng's index and the metadata's packets are
 * sound before babeltrace2 (which trusts them) sees them, and how much of
 * a truncated stream file is whole. */

typedef struct
{
  char    *name;
  goffset  size;
  gboolean readable;
  gboolean bad_index;
} StrataStreamFile;

GArray   *_strata_stream_files_list           (const char  *dir,
                                               GError     **error);
gboolean  _strata_lttng_index_is_sane         (const char  *dir,
                                               const char  *name);
goffset   _strata_lttng_index_complete_length (const char  *dir,
                                               const char  *name,
                                               goffset      file_size,
                                               guint       *n_complete,
                                               guint       *n_packets,
                                               goffset     *indexed_size);
gboolean  _strata_metadata_check              (const char  *trace_path,
                                               const char  *metadata,
                                               GError     **error);
char     *_strata_metadata_diagnose           (const char  *path);
gboolean  _strata_file_copy_prefix            (const char  *from,
                                               const char  *to,
                                               goffset      length,
                                               GError     **error);
gboolean  _strata_file_link_into              (const char  *dir,
                                               const char  *target,
                                               const char  *name,
                                               GError     **error);
char     *_strata_path_replace                (const char  *message,
                                               const char  *from,
                                               const char  *to);
void      _strata_rmtree                      (const char  *path);

G_END_DECLS
