/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-discovery"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "strata-trace-discovery.h"

/* An LTTng UST session is five levels deep; archives add a few more. Far
 * deeper than that is a generated or pathological tree, and the walk is
 * recursive. */
#define MAX_DEPTH 64

typedef enum
{
  FOLDER_WALKING,
  FOLDER_EMPTY,
  FOLDER_HAS_TRACES,
  FOLDER_UNREADABLE,
} FolderState;

/* Every folder the walk reaches, by device+inode, so that a folder reached
 * twice (symbolic links, overlapping arguments) is walked and reported once,
 * and a link back to a folder still being walked is recognised as a loop. */
typedef struct
{
  dev_t        dev;
  ino_t        ino;
  FolderState  state;
  char        *path;  /* Owned: where the walk first reached it */
} Folder;

typedef struct
{
  GPtrArray    *traces;     /* StrataTraceLocation */
  GPtrArray    *problems;   /* GError */
  GHashTable   *folders;    /* Folder set */
  GCancellable *cancellable;
  const char   *root;       /* Borrowed: the argument as given */
  const char   *root_path;  /* Borrowed: the trace or folder it names, canonical */
  gboolean      cancelled;
} Walk;

static FolderState visit_folder (Walk             *walk,
                                 const char       *path,
                                 const GStatBuf   *st,
                                 gboolean          is_link,
                                 guint             depth);

void
strata_trace_location_free (StrataTraceLocation *location)
{
  if (location == NULL)
    return;

  g_free (location->path);
  g_free (location->root);
  g_free (location->relpath);
  g_free (location->domain_hint);
  g_free (location);
}

/**
 * strata_trace_location_copy:
 * @location: a #StrataTraceLocation
 *
 * Returns: (transfer full): a deep copy of @location
 */
StrataTraceLocation *
strata_trace_location_copy (const StrataTraceLocation *location)
{
  StrataTraceLocation *copy;

  g_return_val_if_fail (location != NULL, NULL);

  copy = g_new0 (StrataTraceLocation, 1);
  copy->path = g_strdup (location->path);
  copy->root = g_strdup (location->root);
  copy->relpath = g_strdup (location->relpath);
  copy->domain_hint = g_strdup (location->domain_hint);
  return copy;
}

static guint
folder_hash (gconstpointer data)
{
  const Folder *folder = data;
  guint64 ino = folder->ino;
  guint64 dev = folder->dev;

  return (guint) (ino ^ (ino >> 32) ^ (dev * 2654435761u));
}

static gboolean
folder_equal (gconstpointer a,
              gconstpointer b)
{
  const Folder *fa = a;
  const Folder *fb = b;

  return fa->dev == fb->dev && fa->ino == fb->ino;
}

static void
folder_free (gpointer data)
{
  Folder *folder = data;

  g_free (folder->path);
  g_free (folder);
}

static Folder *
lookup_folder (Walk           *walk,
               const GStatBuf *st)
{
  Folder key = { .dev = st->st_dev, .ino = st->st_ino };

  return g_hash_table_lookup (walk->folders, &key);
}

static Folder *
add_folder (Walk           *walk,
            const GStatBuf *st,
            const char     *path)
{
  Folder *folder = g_new0 (Folder, 1);

  folder->dev = st->st_dev;
  folder->ino = st->st_ino;
  folder->state = FOLDER_WALKING;
  folder->path = g_strdup (path);
  g_hash_table_add (walk->folders, folder);
  return folder;
}

G_GNUC_PRINTF (3, 4)
static void
add_problem (Walk         *walk,
             GIOErrorEnum  code,
             const char   *format,
             ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (walk->problems, g_error_new_valist (G_IO_ERROR, code, format, args));
  va_end (args);
}

/* Messages are UTF-8; file names need not be. */
static char *
display (const char *path)
{
  return g_filename_display_name (path);
}

static void
add_errno_problem (Walk       *walk,
                   const char *what,
                   const char *path,
                   int         saved_errno)
{
  g_autofree char *shown = display (path);

  add_problem (walk, g_io_error_from_errno (saved_errno), "%s: path=\"%s\": %s",
               what, shown, g_strerror (saved_errno));
}

/* @path could not be stat()ed: say why in the words a user needs, a dangling
 * or looping link being the usual cause below a trace archive. */
static void
report_unreachable (Walk       *walk,
                    const char *path,
                    gboolean    is_link,
                    int         saved_errno)
{
  g_autofree char *shown = display (path);

  if (is_link && saved_errno == ENOENT)
    {
      g_autofree char *target = g_file_read_link (path, NULL);
      g_autofree char *shown_target = display (target != NULL ? target : "?");

      add_problem (walk, G_IO_ERROR_NOT_FOUND,
                   "Dangling symbolic link: path=\"%s\" points to \"%s\"",
                   shown, shown_target);
    }
  else if (is_link && saved_errno == ELOOP)
    {
      add_problem (walk, G_IO_ERROR_TOO_MANY_LINKS, "Symbolic link loop: path=\"%s\": %s",
                   shown, g_strerror (saved_errno));
    }
  else
    {
      add_errno_problem (walk, "Cannot read", path, saved_errno);
    }
}

static char *
make_relpath (const char *root_path,
              const char *path)
{
  gsize len = strlen (root_path);

  if (strcmp (path, root_path) == 0)
    return g_strdup (".");

  g_assert (strncmp (path, root_path, len) == 0);
  path += len;
  while (*path == G_DIR_SEPARATOR)
    path++;
  return g_strdup (path);
}

/* LTTng writes `<session>/kernel/` and `<session>/ust/{uid,pid}/…/`. Only
 * folders below the root count: a root named "kernel" that holds a whole
 * archive says nothing about the traces in it. The nearest one wins. */
static const char *
domain_hint_for (const char *relpath)
{
  g_auto(GStrv) parts = g_strsplit (relpath, G_DIR_SEPARATOR_S, -1);
  const char *hint = NULL;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (strcmp (parts[i], "kernel") == 0)
        hint = "kernel";
      else if (strcmp (parts[i], "ust") == 0)
        hint = "ust";
    }

  return hint;
}

/* @path is a trace folder: its metadata is a regular file. */
static void
add_trace (Walk       *walk,
           const char *path,
           const char *metadata_path)
{
  StrataTraceLocation *location;
  int fd;

  /* Stat succeeding says nothing of read permission; find out here rather
   * than in a reader thread later. O_NONBLOCK: never hang on a FIFO that
   * replaced the file since the stat. */
  fd = g_open (metadata_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0)
    {
      add_errno_problem (walk, "Cannot read trace metadata", metadata_path, errno);
      return;
    }
  g_close (fd, NULL);

  location = g_new0 (StrataTraceLocation, 1);
  location->path = g_strdup (path);
  location->root = g_strdup (walk->root);
  location->relpath = make_relpath (walk->root_path, path);
  location->domain_hint = g_strdup (domain_hint_for (location->relpath));
  g_ptr_array_add (walk->traces, location);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Lists the visible entries of @path, sorted so that results do not depend on
 * the file system's order. NULL (and a problem) if the folder cannot be read. */
static GPtrArray *
list_folder (Walk       *walk,
             const char *path)
{
  g_autoptr(GPtrArray) names = NULL;
  struct dirent *entry;
  DIR *dir;

  /* Plain opendir() rather than GDir: GDir keeps errno to itself, and the
   * problem's code (permission denied, vanished) comes from it. */
  dir = opendir (path);
  if (dir == NULL)
    {
      add_errno_problem (walk, "Cannot read folder", path, errno);
      return NULL;
    }

  names = g_ptr_array_new_with_free_func (g_free);
  for (;;)
    {
      errno = 0;
      entry = readdir (dir);
      if (entry == NULL)
        {
          /* Walk what was read: a partial listing still holds traces. */
          if (errno != 0)
            add_errno_problem (walk, "Cannot read folder", path, errno);
          break;
        }

      /* Skips ".", ".." and hidden entries alike. */
      if (entry->d_name[0] == '.')
        continue;

      g_ptr_array_add (names, g_strdup (entry->d_name));
    }
  closedir (dir);

  g_ptr_array_sort (names, compare_names);
  return g_steal_pointer (&names);
}

static FolderState
walk_folder (Walk       *walk,
             const char *path,
             guint       depth)
{
  g_autofree char *metadata_path = NULL;
  g_autoptr(GPtrArray) names = NULL;
  FolderState state = FOLDER_EMPTY;
  GStatBuf st;

  if (g_cancellable_is_cancelled (walk->cancellable))
    {
      walk->cancelled = TRUE;
      return FOLDER_EMPTY;
    }

  metadata_path = g_build_filename (path, "metadata", NULL);
  if (g_stat (metadata_path, &st) == 0)
    {
      /* A trace: its index/ subfolder and stream files are its own business. */
      if (S_ISREG (st.st_mode))
        {
          add_trace (walk, path, metadata_path);
          return FOLDER_HAS_TRACES;
        }
    }
  else if (errno != ENOENT && errno != ENOTDIR)
    {
      /* Most often a folder without search permission (mode 000). */
      add_errno_problem (walk, "Cannot read folder", path, errno);
      return FOLDER_UNREADABLE;
    }

  if (depth >= MAX_DEPTH)
    {
      g_autofree char *shown = display (path);
      g_autofree char *shown_root = display (walk->root);

      add_problem (walk, G_IO_ERROR_FAILED,
                   "Folder tree too deep: path=\"%s\": "
                   "not searched more than %u levels below \"%s\"",
                   shown, MAX_DEPTH, shown_root);
      return FOLDER_EMPTY;
    }

  names = list_folder (walk, path);
  if (names == NULL)
    return FOLDER_UNREADABLE;

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child = g_build_filename (path, g_ptr_array_index (names, i), NULL);
      gboolean is_link;

      if (g_cancellable_is_cancelled (walk->cancellable))
        {
          walk->cancelled = TRUE;
          break;
        }

      if (g_lstat (child, &st) != 0)
        {
          /* Gone since it was listed: nothing left to report on. */
          if (errno != ENOENT)
            add_errno_problem (walk, "Cannot read", child, errno);
          continue;
        }

      is_link = S_ISLNK (st.st_mode);
      if (is_link && g_stat (child, &st) != 0)
        {
          report_unreachable (walk, child, TRUE, errno);
          continue;
        }

      if (!S_ISDIR (st.st_mode))
        continue;

      if (visit_folder (walk, child, &st, is_link, depth + 1) == FOLDER_HAS_TRACES)
        state = FOLDER_HAS_TRACES;

      if (walk->cancelled)
        break;
    }

  return state;
}

static FolderState
visit_folder (Walk           *walk,
              const char     *path,
              const GStatBuf *st,
              gboolean        is_link,
              guint           depth)
{
  Folder *folder;

  folder = lookup_folder (walk, st);
  if (folder != NULL)
    {
      if (folder->state == FOLDER_WALKING)
        {
          g_autofree char *shown = display (path);
          g_autofree char *shown_target = display (folder->path);

          /* Without symbolic links, only a bind mount can do this. */
          add_problem (walk, G_IO_ERROR_TOO_MANY_LINKS,
                       is_link ? "Symbolic link loop: path=\"%s\" points back to \"%s\""
                               : "Folder loop: path=\"%s\" is the same folder as \"%s\"",
                       shown, shown_target);
        }

      /* Already walked: its traces and problems are reported. */
      return folder->state;
    }

  folder = add_folder (walk, st, path);
  folder->state = walk_folder (walk, path, depth);
  return folder->state;
}

/* A file argument: the user picked a trace's metadata or one of its stream
 * files, as file choosers invite. */
static void
discover_file (Walk       *walk,
               const char *path)
{
  g_autofree char *folder_path = g_path_get_dirname (path);
  g_autofree char *metadata_path = g_build_filename (folder_path, "metadata", NULL);
  Folder *folder;
  GStatBuf st;

  if (g_stat (metadata_path, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_autofree char *shown = display (path);

      add_problem (walk, G_IO_ERROR_NOT_DIRECTORY,
                   "Not a CTF trace: path=\"%s\": not a folder, and no \"metadata\" file beside it",
                   shown);
      return;
    }

  if (g_stat (folder_path, &st) != 0)
    {
      add_errno_problem (walk, "Cannot read folder", folder_path, errno);
      return;
    }

  folder = lookup_folder (walk, &st);
  if (folder == NULL)
    folder = add_folder (walk, &st, folder_path);
  else if (folder->state == FOLDER_HAS_TRACES)
    return;

  /* relpath "." for the trace the file belongs to. */
  walk->root_path = folder_path;
  add_trace (walk, folder_path, metadata_path);
  folder->state = FOLDER_HAS_TRACES;
}

static void
discover_argument (Walk       *walk,
                   const char *argument)
{
  g_autofree char *path = NULL;
  GStatBuf st;

  if (argument[0] == '\0')
    {
      add_problem (walk, G_IO_ERROR_INVALID_ARGUMENT, "Cannot read: path=\"\": empty path");
      return;
    }

  /* Lexical only: symbolic links keep the names the user sees. */
  path = g_canonicalize_filename (argument, NULL);
  walk->root = argument;
  walk->root_path = path;

  if (g_stat (path, &st) != 0)
    {
      int saved_errno = errno;
      GStatBuf lst;
      gboolean is_link = g_lstat (path, &lst) == 0 && S_ISLNK (lst.st_mode);

      report_unreachable (walk, path, is_link, saved_errno);
      return;
    }

  if (S_ISDIR (st.st_mode))
    {
      /* An argument already walked as part of an earlier one still counts
       * as holding the traces it holds. */
      if (visit_folder (walk, path, &st, FALSE, 0) == FOLDER_EMPTY && !walk->cancelled)
        {
          g_autofree char *shown = display (path);

          add_problem (walk, G_IO_ERROR_NOT_FOUND, "No CTF trace found: path=\"%s\"", shown);
        }
      return;
    }

  discover_file (walk, path);
}

/**
 * strata_trace_discover:
 * @paths: (array zero-terminated=1): files and folders to search, as the
 *   user gave them
 * @problems: (out) (optional) (element-type GError) (transfer full): where to
 *   store what could not be searched, or %NULL
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Finds every CTF trace (a folder holding a regular file named `metadata`)
 * below @paths. Folders are walked depth first in name order, arguments in
 * the order given; a trace folder is not searched further. A file argument
 * stands for the trace folder it sits in. A folder reached twice (symbolic
 * links, overlapping arguments) is reported once.
 *
 * Whatever stops part of the search (an unreadable folder or metadata file, a
 * dangling or looping symbolic link, a missing argument, an argument without
 * any trace) is added to @problems, one #GError in the %G_IO_ERROR domain per
 * problem, and the search goes on.
 *
 * Returns: (transfer full) (element-type StrataTraceLocation): the traces
 *   found, possibly none; %NULL with @error set (and @problems set to %NULL)
 *   only if @paths is empty or the search was cancelled
 */
GPtrArray *
strata_trace_discover (const char * const  *paths,
                       GPtrArray          **problems,
                       GCancellable        *cancellable,
                       GError             **error)
{
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GPtrArray) found_problems = NULL;
  g_autoptr(GHashTable) folders = NULL;
  Walk walk = { 0 };

  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (problems != NULL)
    *problems = NULL;

  if (paths == NULL || paths[0] == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Cannot discover traces: no file or folder given");
      return NULL;
    }

  traces = g_ptr_array_new_with_free_func ((GDestroyNotify) strata_trace_location_free);
  found_problems = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  folders = g_hash_table_new_full (folder_hash, folder_equal, folder_free, NULL);

  walk.traces = traces;
  walk.problems = found_problems;
  walk.folders = folders;
  walk.cancellable = cancellable;

  for (guint i = 0; paths[i] != NULL && !walk.cancelled; i++)
    discover_argument (&walk, paths[i]);

  if (walk.cancelled || g_cancellable_is_cancelled (cancellable))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "Trace discovery was cancelled");
      return NULL;
    }

  if (problems != NULL)
    *problems = g_steal_pointer (&found_problems);

  return g_steal_pointer (&traces);
}
