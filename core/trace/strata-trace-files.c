/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-trace-files"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "strata-trace-files-private.h"


static void
stream_file_clear (gpointer data)
{
  StrataStreamFile *file = data;

  g_free (file->name);
}

/* Lists the data stream files of the trace folder: every regular file but
 * `metadata` and hidden ones (LTTng writes nothing else there). */
GArray *
_strata_stream_files_list (const char  *dir,
                   GError     **error)
{
  g_autoptr(GArray) files = g_array_new (FALSE, TRUE, sizeof (StrataStreamFile));
  g_autoptr(GDir) d = g_dir_open (dir, 0, error);
  const char *name;

  if (d == NULL)
    return NULL;

  g_array_set_clear_func (files, stream_file_clear);

  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      StrataStreamFile file = { 0 };
      GStatBuf st;
      int fd;

      if (name[0] == '.' || strcmp (name, "metadata") == 0)
        continue;

      path = g_build_filename (dir, name, NULL);
      if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;

      file.name = g_strdup (name);
      file.size = st.st_size;
      fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
      file.readable = fd >= 0;
      if (fd >= 0)
        close (fd);
      g_array_append_val (files, file);
    }

  return g_steal_pointer (&files);
}

#define LTTNG_INDEX_MAGIC 0xC1F1DCC1u

static guint64
read_be64 (const guint8 *p)
{
  guint64 v = 0;

  for (guint i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* From the LTTng index of a stream file, the length of the longest run of
 * complete packets from its start. 0 when there is no usable index. */
goffset
_strata_lttng_index_complete_length (const char *dir,
                         const char *name,
                         goffset     file_size,
                         guint      *n_complete,
                         guint      *n_packets,
                         goffset    *indexed_size)
{
  g_autofree char *idx_name = g_strconcat (name, ".idx", NULL);
  g_autofree char *idx_path = g_build_filename (dir, "index", idx_name, NULL);
  g_autofree guint8 *data = NULL;
  gsize len;
  guint32 entry_len;
  goffset expected = 0;

  *n_complete = *n_packets = 0;
  *indexed_size = 0;

  if (!g_file_get_contents (idx_path, (char **) &data, &len, NULL) || len < 16)
    return 0;
  if (read_be32 (data) != LTTNG_INDEX_MAGIC)
    return 0;

  /* Index 1.0 entries are 56 bytes; 1.1 adds two fields. Only the first
   * two (offset, packet size in bits) matter here. */
  entry_len = read_be32 (data + 12);
  if (entry_len < 16)
    return 0;

  for (gsize at = 16; at + entry_len <= len; at += entry_len)
    {
      guint64 offset = read_be64 (data + at);
      guint64 size = read_be64 (data + at + 8) / 8;

      (*n_packets)++;
      *indexed_size = MAX (*indexed_size, (goffset) (offset + size));
      if ((goffset) offset != expected || size == 0 || (goffset) (offset + size) > file_size)
        continue;
      expected = (goffset) (offset + size);
      (*n_complete)++;
    }

  return expected;
}

/* Copies the first @length bytes of a stream file. */
gboolean
_strata_file_copy_prefix (const char  *from,
             const char  *to,
             goffset      length,
             GError     **error)
{
  g_autoptr(GFile) src = g_file_new_for_path (from);
  g_autoptr(GFile) dst = g_file_new_for_path (to);
  g_autoptr(GFileInputStream) in = g_file_read (src, NULL, error);
  g_autoptr(GFileOutputStream) out = NULL;
  g_autofree guint8 *buffer = NULL;
  goffset left = length;

  if (in == NULL)
    return FALSE;
  out = g_file_replace (dst, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);
  if (out == NULL)
    return FALSE;

  buffer = g_malloc (1 << 20);
  while (left > 0)
    {
      gsize want = (gsize) MIN (left, 1 << 20);
      gsize got = 0;

      if (!g_input_stream_read_all (G_INPUT_STREAM (in), buffer, want, &got, NULL, error))
        return FALSE;
      if (got == 0)
        break;
      if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), buffer, got, NULL, NULL, error))
        return FALSE;
      left -= (goffset) got;
    }

  return g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error);
}

gboolean
_strata_file_link_into (const char  *dir,
           const char  *target,
           const char  *name,
           GError     **error)
{
  g_autofree char *link = g_build_filename (dir, name, NULL);

  if (symlink (target, link) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot create link: path=\"%s\": %s", link, g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

#define CTF_METADATA_PACKET_MAGIC 0x75D11D57u

/* source.ctf.fs says only "Cannot create trace" when the metadata does
 * not parse; say at least what kind of file it is. */
char *
_strata_metadata_diagnose (const char *path)
{
  g_autofree char *head = NULL;
  guint8 bytes[4];
  guint32 le, be;
  gsize len = 0;

  if (!g_file_get_contents (path, &head, &len, NULL))
    return g_strdup ("the metadata file cannot be read");
  if (len < 4)
    return g_strdup_printf ("the metadata file holds only %" G_GSIZE_FORMAT " bytes", len);

  memcpy (bytes, head, 4);
  le = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | ((guint32) bytes[3] << 24);
  be = read_be32 (bytes);
  if (le == CTF_METADATA_PACKET_MAGIC || be == CTF_METADATA_PACKET_MAGIC)
    return g_strdup ("the packetized metadata does not parse as CTF 1.8 (damaged or truncated)");
  if (g_str_has_prefix (head, "/* CTF "))
    return g_strdup ("the metadata text does not parse as CTF 1.8");
  return g_strdup ("the metadata file is not CTF metadata (neither the packetized metadata "
                   "magic number nor a \"/* CTF 1.8\" text header)");
}

#define CTF_METADATA_PACKET_HEADER_SIZE 37

static guint32
read_u32 (const guint8 *p,
          gboolean      big_endian)
{
  if (big_endian)
    return read_be32 (p);
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

/* Packetized metadata (what LTTng writes) is a run of packets, each with a
 * 37-byte header: magic, uuid, checksum, content and packet sizes in
 * bits, schemes, version. babeltrace2 2.0.4 spins forever on a packet cut
 * after its header, so check the packets before giving it the file. */
gboolean
_strata_metadata_check (const char  *trace_path,
                const char  *metadata,
                GError     **error)
{
  g_autofree guint8 *data = NULL;
  gboolean big_endian;
  gsize len = 0, offset = 0;
  guint n = 0;

  if (!g_file_get_contents (metadata, (char **) &data, &len, NULL) || len < 4)
    return TRUE;  /* diagnosed later, with babeltrace2's own message */

  if (read_u32 (data, FALSE) == CTF_METADATA_PACKET_MAGIC)
    big_endian = FALSE;
  else if (read_u32 (data, TRUE) == CTF_METADATA_PACKET_MAGIC)
    big_endian = TRUE;
  else
    return TRUE;  /* text metadata, or not metadata at all */

  for (; offset < len; n++)
    {
      const guint8 *header = data + offset;
      guint64 content_size, packet_size;

      if (len - offset < CTF_METADATA_PACKET_HEADER_SIZE)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "Cannot read trace: path=\"%s\": invalid metadata: it is truncated in the "
                       "header of its packet %u (at byte %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT ")",
                       trace_path, n, offset, len);
          return FALSE;
        }

      content_size = read_u32 (header + 24, big_endian) / 8;
      packet_size = read_u32 (header + 28, big_endian) / 8;

      if (read_u32 (header, big_endian) != CTF_METADATA_PACKET_MAGIC
          || packet_size < CTF_METADATA_PACKET_HEADER_SIZE
          || content_size < CTF_METADATA_PACKET_HEADER_SIZE
          || content_size > packet_size
          || header[32] != 0 || header[33] != 0 || header[34] != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "Cannot read trace: path=\"%s\": invalid metadata: the header of its "
                       "packet %u (at byte %" G_GSIZE_FORMAT ") is damaged",
                       trace_path, n, offset);
          return FALSE;
        }

      if (offset + content_size > len)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "Cannot read trace: path=\"%s\": invalid metadata: it is truncated "
                       "(%" G_GSIZE_FORMAT " bytes, its packet %u needs %" G_GUINT64_FORMAT ")",
                       trace_path, len, n, offset + content_size);
          return FALSE;
        }

      /* A last packet missing only its padding is complete. */
      offset += MIN (packet_size, len - offset);
    }

  return TRUE;
}

/* An LTTng index whose packets do not follow each other makes
 * source.ctf.fs abort (an assertion in 2.0.4) instead of failing: check
 * it first. Packets past the end of a truncated file are fine (the
 * source then indexes the file itself, and _strata_lttng_index_complete_length()
 * recovers them). */
gboolean
_strata_lttng_index_is_sane (const char *dir,
               const char *name)
{
  g_autofree char *idx_name = g_strconcat (name, ".idx", NULL);
  g_autofree char *idx_path = g_build_filename (dir, "index", idx_name, NULL);
  g_autofree guint8 *data = NULL;
  guint64 expected = 0;
  guint32 entry_len;
  gsize len;

  if (!g_file_test (idx_path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!g_file_get_contents (idx_path, (char **) &data, &len, NULL) || len < 16)
    return FALSE;
  if (read_be32 (data) != LTTNG_INDEX_MAGIC)
    return FALSE;

  /* 1.0 entries: offset, packet size, content size, begin, end,
   * discarded, stream id (7 × 8 bytes); 1.1 adds two more. */
  entry_len = read_be32 (data + 12);
  if (entry_len < 56 || (len - 16) % entry_len != 0)
    return FALSE;

  for (gsize at = 16; at + entry_len <= len; at += entry_len)
    {
      guint64 offset = read_be64 (data + at);
      guint64 packet_bits = read_be64 (data + at + 8);
      guint64 content_bits = read_be64 (data + at + 16);

      if (offset != expected || packet_bits == 0 || packet_bits % 8 != 0
          || content_bits > packet_bits || read_be64 (data + at + 24) > read_be64 (data + at + 32))
        return FALSE;
      expected += packet_bits / 8;
    }

  return TRUE;
}

/* Messages name the user's files, not our folder of links. */
char *
_strata_path_replace (const char *message,
              const char *tmp_dir,
              const char *path)
{
  g_auto(GStrv) parts = g_strsplit (message, tmp_dir, -1);

  return g_strjoinv (path, parts);
}

void
_strata_rmtree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        g_unlink (child);
      }
  g_rmdir (path);
}

