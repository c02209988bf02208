/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-test-sht"
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "strata-sht.h"
#include "strata-sht-private.h"
#include "strata-test-utils.h"

/*
 * Damaged state history files. One valid history is built once, with small
 * blocks so that it has thousands of nodes; each test opens damaged copies
 * of it. Every damage must be reported with the right error code and a
 * message naming the file, never crash (the suite runs under ASan and
 * UBSan), and the history must be rebuildable at the same path.
 *
 * The header fields are read here from FORMAT.md's layout, not through
 * the implementation; only the checksum function is borrowed, to rewrite
 * a version field with a valid header checksum, so that the version check
 * is reached, and to damage the runs of intervals inside nodes behind a
 * valid node checksum, so that the checks of the queries are reached.
 */

#define ANALYSIS_VERSION 3
#define BLOCK_SIZE       1024
#define N_INTERVALS      300000
#define SEED             1
#define N_RANDOM_ROUNDS  400

/* Header offsets (FORMAT.md) */
#define H_FORMAT_VERSION   8
#define H_FLAGS           12
#define H_ANALYSIS        16
#define H_BLOCK_SIZE      20
#define H_N_NODES         32
#define H_ATTR_OFFSET     72
#define H_ATTR_LENGTH     80
#define H_STR_OFFSET      96
#define H_STR_LENGTH     104
#define H_FILE_LENGTH    120
#define H_CRC            128

/* Node header offsets (FORMAT.md) */
#define N_CRC               0
#define N_N_CHILDREN        6
#define N_START            16
#define N_END              24
#define N_N_INTERVALS      40
#define N_PAYLOAD          44
#define N_HEADER_SIZE      48
#define N_RUN_ROUNDS      120

static char   *suite_dir;
static char   *good_path;
static guint8 *good;
static gsize   good_len;

static guint32
get_u32 (const guint8 *data,
         gsize         offset)
{
  guint32 v;

  memcpy (&v, data + offset, sizeof v);
  return GUINT32_FROM_LE (v);
}

static guint64
get_u64 (const guint8 *data,
         gsize         offset)
{
  guint64 v;

  memcpy (&v, data + offset, sizeof v);
  return GUINT64_FROM_LE (v);
}

static void
put_u32 (guint8  *data,
         gsize    offset,
         guint32  v)
{
  v = GUINT32_TO_LE (v);
  memcpy (data + offset, &v, sizeof v);
}

static void
fix_header_crc (guint8 *data)
{
  put_u32 (data, H_CRC, _strata_sht_crc32c (0, data, H_CRC));
}

/* The history every damaged copy comes from: threads changing status,
 * names from a pool of strings, stacks, at nanosecond times. */
static void
build_good_history (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  StrataShtOptions options = { .block_size = BLOCK_SIZE, .max_children = 4 };
  g_autoptr(StrataSht) sht = NULL;
  g_autoptr(GArray) quarks = g_array_new (FALSE, FALSE, sizeof (guint32));
  StrataShtStats stats;
  gint64 t = G_GINT64_CONSTANT (1400000000000000000);
  guint32 stack;

  sht = strata_sht_create (good_path, t, ANALYSIS_VERSION, &options, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 500; i++)
    {
      g_autofree char *path = g_strdup_printf ("Threads/%u/%s", 100 + i / 2,
                                               i % 2 ? "Status" : "Exec_name");
      guint32 q = strata_sht_quark_get_path (sht, path);

      g_array_append_val (quarks, q);
    }
  stack = strata_sht_quark_get_path (sht, "Threads/100/Syscalls");

  for (guint64 n = 0; n < N_INTERVALS; n++)
    {
      guint32 q = g_array_index (quarks, guint32, g_rand_int_range (rand, 0, quarks->len));

      t += g_rand_int_range (rand, 1, 1000);
      switch (g_rand_int_range (rand, 0, 10))
        {
        case 0:
          {
            g_autofree char *name = g_strdup_printf ("comm-%d", g_rand_int_range (rand, 0, 3000));

            strata_sht_modify_string (sht, q, t, name);
          }
          break;
        case 1:
          strata_sht_push (sht, stack, t, STRATA_SHT_INT32 (g_rand_int_range (rand, 0, 300)));
          break;
        case 2:
          strata_sht_pop (sht, stack, t);
          break;
        case 3:
          strata_sht_modify (sht, q, t, STRATA_SHT_INT64 ((gint64) g_rand_int (rand) << 20));
          break;
        default:
          strata_sht_modify (sht, q, t, STRATA_SHT_INT32 (g_rand_int_range (rand, 0, 6)));
          break;
        }
    }
  g_assert_true (strata_sht_close (sht, t + 1000, &error));
  g_assert_no_error (error);
  strata_sht_get_stats (sht, &stats);
  g_clear_pointer (&sht, strata_sht_free);

  g_file_get_contents (good_path, (char **) &good, &good_len, &error);
  g_assert_no_error (error);
  g_test_message ("history: %" G_GSIZE_FORMAT " bytes, %" G_GUINT64_FORMAT " nodes, depth %u, %"
                  G_GUINT64_FORMAT " intervals, %u strings", good_len, stats.n_nodes, stats.depth,
                  stats.n_intervals, get_u32 (good, 116));
  g_assert_cmpuint (get_u32 (good, H_BLOCK_SIZE), ==, BLOCK_SIZE);
  g_assert_cmpuint (get_u64 (good, H_FILE_LENGTH), ==, good_len);
  g_assert_cmpuint (get_u64 (good, H_N_NODES), ==, stats.n_nodes);
  g_assert_cmpuint (get_u64 (good, H_N_NODES), >, 1000);
}

static guint64
n_nodes (void)
{
  return get_u64 (good, H_N_NODES);
}

static gsize
node_offset (guint64 seq)
{
  return BLOCK_SIZE * (1 + seq);
}

/* Writes @data as a new file of the suite's folder; returns its path. */
static char *
write_copy (const char   *name,
            const guint8 *data,
            gsize         len)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (suite_dir, name, NULL);

  g_file_set_contents (path, (const char *) data, len, &error);
  g_assert_no_error (error);
  return path;
}

static const char *
code_name (int code)
{
  static const char * const names[] = {
    "IO", "NOT_SHT", "UNFINISHED", "TRUNCATED", "CORRUPT", "FORMAT_VERSION",
    "ANALYSIS_VERSION", "OUT_OF_RANGE", "INVALID_QUARK",
  };

  return code >= 0 && code < (int) G_N_ELEMENTS (names) ? names[code] : "?";
}

/* Opens @path, which must fail with @code (or @other_code, when two
 * answers are defensible; -1: none), naming the file. */
static void
expect_open_error_full (const char *what,
                        const char *path,
                        guint32     analysis_version,
                        int         code,
                        int         other_code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataSht) sht = strata_sht_open (path, analysis_version, 0, &error);

  if (sht != NULL)
    g_error ("%s: %s opened without error, expected %s", what, path, code_name (code));
  g_assert_nonnull (error);
  if (error->domain != STRATA_SHT_ERROR || (error->code != code && error->code != other_code))
    g_error ("%s: expected %s%s%s, got %s:%d (%s): %s", what, code_name (code),
             other_code >= 0 ? " or " : "", other_code >= 0 ? code_name (other_code) : "",
             g_quark_to_string (error->domain), error->code,
             error->domain == STRATA_SHT_ERROR ? code_name (error->code) : "?", error->message);
  if (strstr (error->message, path) == NULL)
    g_error ("%s: the message does not name the file %s: %s", what, path, error->message);
  g_test_message ("%s: %s: %s", what, code_name (error->code), error->message);
}

static void
expect_open_error (const char *what,
                   const char *path,
                   int         code)
{
  expect_open_error_full (what, path, ANALYSIS_VERSION, code, -1);
}

/* A copy of the good file with @len bytes, byte @flip xored with @mask
 * (flip beyond the end: none); opened, expecting @code. */
static void
expect_damage (const char *what,
               gsize       len,
               gsize       flip,
               guint8      mask,
               int         code,
               int         other_code)
{
  g_autofree guint8 *data = g_memdup2 (good, good_len);
  g_autofree char *path = NULL;

  g_assert_cmpuint (len, <=, good_len);
  if (flip < len)
    data[flip] ^= mask;
  path = write_copy ("damaged.sht", data, len);
  expect_open_error_full (what, path, ANALYSIS_VERSION, code, other_code);
  g_unlink (path);
}

static void
test_missing (void)
{
  g_autofree char *path = g_build_filename (suite_dir, "missing.sht", NULL);
  g_autofree char *dir = g_build_filename (suite_dir, "a-folder.sht", NULL);

  expect_open_error ("missing file", path, STRATA_SHT_ERROR_IO);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  expect_open_error_full ("a folder", dir, ANALYSIS_VERSION, STRATA_SHT_ERROR_IO,
                          STRATA_SHT_ERROR_NOT_SHT);
  g_rmdir (dir);
}

static void
test_not_sht (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  g_autofree guint8 *noise = g_malloc (10000);
  g_autofree guint8 *zeros = g_malloc0 (65536);
  g_autofree guint8 *magic = g_memdup2 (good, good_len);
  const char *text = "Machines/host/CPUs/0/Status\tint32\t1\n";
  struct
  {
    const char   *name;
    const guint8 *data;
    gsize         len;
  } files[] = {
    { "empty", (const guint8 *) "", 0 },
    { "text", (const guint8 *) text, strlen (text) },
    { "zeros", zeros, 65536 },
    { "noise", noise, 10000 },
    { "magic off by one byte", magic, good_len },
  };

  for (guint i = 0; i < 10000; i++)
    noise[i] = g_rand_int (rand);
  magic[7] ^= 0x20;   /* "STRATSHt" */

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = write_copy ("not-an.sht", files[i].data, files[i].len);

      expect_open_error (files[i].name, path, STRATA_SHT_ERROR_NOT_SHT);
      g_unlink (path);
    }
}

static void
test_truncated (void)
{
  guint64 attr = get_u64 (good, H_ATTR_OFFSET);
  guint64 attr_len = get_u64 (good, H_ATTR_LENGTH);
  guint64 str = get_u64 (good, H_STR_OFFSET);
  guint64 str_len = get_u64 (good, H_STR_LENGTH);
  struct
  {
    const char *what;
    gsize       len;
    int         code;
    int         other_code;
  } cases[] = {
    { "empty", 0, STRATA_SHT_ERROR_NOT_SHT, -1 },
    /* Half a magic: not recognisably a history, or a cut one */
    { "inside the magic", 4, STRATA_SHT_ERROR_NOT_SHT, STRATA_SHT_ERROR_TRUNCATED },
    { "the magic only", 8, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "inside the header", 100, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "one byte short of the header", 131, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "inside the header's block", BLOCK_SIZE / 2, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "the header's block only", BLOCK_SIZE, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "inside the first node", node_offset (0) + 100, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "inside a middle node", node_offset (n_nodes () / 2) + 517, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "between nodes", node_offset (n_nodes () / 3), STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "inside the last node", node_offset (n_nodes () - 1) + 10, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "after the nodes", node_offset (n_nodes ()), STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "inside the attributes", attr + attr_len / 2, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "inside the string pool", str + str_len / 2, STRATA_SHT_ERROR_TRUNCATED, -1 },
    { "one byte short", good_len - 1, STRATA_SHT_ERROR_TRUNCATED, -1 },
  };

  g_test_message ("attributes at %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " bytes), strings at %"
                  G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " bytes), nodes end at %" G_GSIZE_FORMAT,
                  attr, attr_len, str, str_len, node_offset (n_nodes ()));
  g_assert_cmpuint (attr, >=, node_offset (n_nodes ()));
  g_assert_cmpuint (str, >=, node_offset (n_nodes ()));
  g_assert_cmpuint (MAX (attr + attr_len, str + str_len), <=, good_len);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *what = g_strdup_printf ("truncated %s (%" G_GSIZE_FORMAT " bytes)",
                                               cases[i].what, cases[i].len);

      expect_damage (what, cases[i].len, G_MAXSIZE, 0, cases[i].code, cases[i].other_code);
    }
}

static void
test_header (void)
{
  /* Every field but the magic, the versions and the flags (their own
   * errors could come first), and the checksum itself */
  static const gsize offsets[] = {
    H_BLOCK_SIZE, 24, 28, H_N_NODES, 40, 48, 55, 56, 63, 64, H_ATTR_OFFSET, H_ATTR_LENGTH, 88,
    92, H_STR_OFFSET, H_STR_LENGTH, 112, 116, H_FILE_LENGTH, 127, H_CRC, H_CRC + 3,
  };

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    for (guint m = 0; m < 2; m++)
      {
        guint8 mask = m == 0 ? 0x01 : 0x80;
        g_autofree char *what = g_strdup_printf ("header byte %" G_GSIZE_FORMAT " ^ 0x%02x",
                                                 offsets[i], mask);

        expect_damage (what, good_len, offsets[i], mask, STRATA_SHT_ERROR_CORRUPT, -1);
      }

  expect_damage ("magic byte 0", good_len, 0, 0x01, STRATA_SHT_ERROR_NOT_SHT, -1);
}

static void
test_nodes (void)
{
  const guint64 seqs[] = { 0, 1, n_nodes () / 2, n_nodes () - 2, n_nodes () - 1 };
  static const gsize offsets[] = {
    0, 3, 4, 8, 16, 40, 44, 48, 100, BLOCK_SIZE / 2, BLOCK_SIZE - 1,
  };

  for (guint i = 0; i < G_N_ELEMENTS (seqs); i++)
    for (guint j = 0; j < G_N_ELEMENTS (offsets); j++)
      {
        g_autofree char *what = g_strdup_printf ("node %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                                                 ", byte %" G_GSIZE_FORMAT, seqs[i], n_nodes (),
                                                 offsets[j]);

        expect_damage (what, good_len, node_offset (seqs[i]) + offsets[j], 0x10,
                       STRATA_SHT_ERROR_CORRUPT, -1);
      }
}

static void
test_sections (void)
{
  guint64 attr = get_u64 (good, H_ATTR_OFFSET);
  guint64 attr_len = get_u64 (good, H_ATTR_LENGTH);
  guint64 str = get_u64 (good, H_STR_OFFSET);
  guint64 str_len = get_u64 (good, H_STR_LENGTH);
  const struct
  {
    const char *what;
    gsize       offset;
  } cases[] = {
    { "attributes, first byte", attr },
    { "attributes, middle", attr + attr_len / 2 },
    { "attributes, last byte", attr + attr_len - 1 },
    { "string pool, first byte", str },
    { "string pool, middle", str + str_len / 2 },
    { "string pool, last byte", str + str_len - 1 },
  };

  g_assert_cmpuint (attr_len, >, 0);
  g_assert_cmpuint (str_len, >, 0);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    expect_damage (cases[i].what, good_len, cases[i].offset, 0x04, STRATA_SHT_ERROR_CORRUPT, -1);
}

static void
test_versions (void)
{
  static const guint32 formats[] = { 0, 1, 3, G_MAXUINT32 };
  g_autofree char *copy = write_copy ("copy.sht", good, good_len);

  /* The checksum is right: only the version is wrong */
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree guint8 *data = g_memdup2 (good, good_len);
      g_autofree char *path = NULL;
      g_autofree char *what = g_strdup_printf ("format version %u", formats[i]);

      put_u32 (data, H_FORMAT_VERSION, formats[i]);
      fix_header_crc (data);
      path = write_copy ("other-format.sht", data, good_len);
      expect_open_error (what, path, STRATA_SHT_ERROR_FORMAT_VERSION);
      g_unlink (path);
    }

  /* Written by another analysis, or opened by one */
  expect_open_error_full ("opened by analysis version + 1", copy, ANALYSIS_VERSION + 1,
                          STRATA_SHT_ERROR_ANALYSIS_VERSION, -1);
  expect_open_error_full ("opened by analysis version 0", copy, 0,
                          STRATA_SHT_ERROR_ANALYSIS_VERSION, -1);
  {
    g_autofree guint8 *data = g_memdup2 (good, good_len);
    g_autofree char *path = NULL;

    put_u32 (data, H_ANALYSIS, ANALYSIS_VERSION + 100);
    fix_header_crc (data);
    path = write_copy ("other-analysis.sht", data, good_len);
    expect_open_error ("written by analysis version + 100", path,
                       STRATA_SHT_ERROR_ANALYSIS_VERSION);
    g_unlink (path);
  }
  /* Not finished, by its flag alone */
  {
    g_autofree guint8 *data = g_memdup2 (good, good_len);
    g_autofree char *path = NULL;

    put_u32 (data, H_FLAGS, get_u32 (data, H_FLAGS) & ~1u);
    fix_header_crc (data);
    path = write_copy ("unfinished-flag.sht", data, good_len);
    expect_open_error ("finished flag cleared", path, STRATA_SHT_ERROR_UNFINISHED);
    g_unlink (path);
  }

  /* The copy itself is fine */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(StrataSht) sht = strata_sht_open (copy, ANALYSIS_VERSION, 0, &error);

    g_assert_no_error (error);
    g_assert_nonnull (sht);
  }
  g_unlink (copy);
}

static void
test_unfinished (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (suite_dir, "writing.sht", NULL);
  g_autofree char *part = g_strconcat (path, ".part", NULL);
  g_autofree char *abandoned = NULL;
  g_autofree char *contents = NULL;
  StrataShtOptions options = { .block_size = BLOCK_SIZE, .max_children = 4 };
  g_autoptr(StrataSht) sht = NULL;
  StrataShtStats stats;
  gsize len;
  guint32 q;

  sht = strata_sht_create (path, 0, ANALYSIS_VERSION, &options, &error);
  g_assert_no_error (error);
  expect_open_error ("a history being written, just created", part, STRATA_SHT_ERROR_UNFINISHED);
  expect_open_error ("the final path of a history being written", path, STRATA_SHT_ERROR_IO);

  q = strata_sht_quark_get_path (sht, "q");
  for (gint64 t = 0; t < 200000; t++)
    strata_sht_modify (sht, q, t, STRATA_SHT_INT32 (t % 7));
  /* Give the tree's thread time to write nodes */
  for (guint i = 0; i < 100; i++)
    {
      strata_sht_get_stats (sht, &stats);
      if (stats.n_nodes > 10)
        break;
      g_usleep (10000);
    }
  expect_open_error ("a history being written", part, STRATA_SHT_ERROR_UNFINISHED);

  /* What a writer that died leaves */
  g_file_get_contents (part, &contents, &len, &error);
  g_assert_no_error (error);
  g_test_message ("the .part held %" G_GSIZE_FORMAT " bytes", len);
  abandoned = write_copy ("abandoned.sht", (const guint8 *) contents, len);
  g_clear_pointer (&sht, strata_sht_free);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  expect_open_error ("an abandoned history", abandoned, STRATA_SHT_ERROR_UNFINISHED);
  g_unlink (abandoned);
}

/* After any failed open, a new history at the same path works. */
static void
test_rebuild (void)
{
  g_autofree char *path = g_build_filename (suite_dir, "rebuild.sht", NULL);
  g_autofree char *part = g_strconcat (path, ".part", NULL);

  for (guint round = 0; round < 4; round++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *data = g_memdup2 (good, good_len);
      g_autoptr(StrataSht) sht = NULL;
      StrataShtInterval iv;
      gsize len = good_len;
      int code;
      guint32 q;

      switch (round)
        {
        case 0:
          len = good_len / 2;
          code = STRATA_SHT_ERROR_TRUNCATED;
          break;
        case 1:
          data[node_offset (n_nodes () / 2) + 200] ^= 0xff;
          code = STRATA_SHT_ERROR_CORRUPT;
          break;
        case 2:
          put_u32 (data, H_FORMAT_VERSION, 9);
          fix_header_crc (data);
          code = STRATA_SHT_ERROR_FORMAT_VERSION;
          break;
        default:
          /* A stale .part beside the damaged file, as a crash leaves */
          g_file_set_contents (part, "STRATSHT and then nothing", -1, &error);
          g_assert_no_error (error);
          len = 0;
          code = STRATA_SHT_ERROR_NOT_SHT;
          break;
        }
      g_file_set_contents (path, (const char *) data, len, &error);
      g_assert_no_error (error);
      expect_open_error ("before rebuilding", path, code);

      sht = strata_sht_create (path, 50, ANALYSIS_VERSION, NULL, &error);
      g_assert_no_error (error);
      q = strata_sht_quark_get_path (sht, "rebuilt");
      strata_sht_modify (sht, q, 60, STRATA_SHT_INT32 (round));
      g_assert_true (strata_sht_close (sht, 70, &error));
      g_assert_no_error (error);
      g_clear_pointer (&sht, strata_sht_free);
      g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));

      sht = strata_sht_open (path, ANALYSIS_VERSION, 0, &error);
      g_assert_no_error (error);
      g_assert_true (strata_sht_query_single (sht, q, 65, &iv, &error));
      g_assert_no_error (error);
      g_assert_cmpint (iv.start, ==, 60);
      g_assert_cmpint (iv.end, ==, 70);
      g_assert_cmpint (iv.value.type, ==, STRATA_SHT_VALUE_INT32);
      g_assert_cmpint (iv.value.u.i32, ==, round);
    }
  g_unlink (path);
}

/* Random damage: any answer but a crash. An open that succeeds (the bytes
 * were in the header block's padding, which no checksum covers) must
 * answer as the intact file. */
static gboolean
get_varint (const guint8 **p, const guint8 *end, guint64 *v)
{
  guint shift = 0;

  *v = 0;
  while (*p < end && shift < 64)
    {
      guint8 b = *(*p)++;

      *v |= (guint64) (b & 0x7f) << shift;
      if (!(b & 0x80))
        return TRUE;
      shift += 7;
    }
  return FALSE;
}

/* Where a node's runs are (FORMAT.md): its quarks own_min … own_min +
 * range − 1, the offset in the node of the table of where their runs
 * begin, and of the runs. FALSE for a node without intervals. */
static gboolean
node_runs (const guint8 *node, guint64 *own_min, guint64 *range, gsize *table, gsize *runs)
{
  const guint8 *p = node + N_HEADER_SIZE;
  const guint8 *end = p + get_u32 (node, N_PAYLOAD);
  guint n_children = node[N_N_CHILDREN] | node[N_N_CHILDREN + 1] << 8;

  if (get_u32 (node, N_N_INTERVALS) == 0)
    return FALSE;
  for (guint i = 0; i < n_children * 5; i++)
    {
      guint64 v;
      g_assert_true (get_varint (&p, end, &v));
    }
  g_assert_true (get_varint (&p, end, own_min));
  g_assert_true (get_varint (&p, end, range));
  p++;   /* the width of the ends */
  *table = p - node;
  *runs = *table + 2 * (*range + 1);
  return TRUE;
}

static guint
table_entry (const guint8 *node, gsize table, guint64 k)
{
  return node[table + 2 * k] | node[table + 2 * k + 1] << 8;
}

/* A 2D query over @node's range at every nanosecond for one quark, which
 * reads the node's run of it, and single and full queries in that range;
 * each may fail with STRATA_SHT_ERROR_CORRUPT, but only that. Returns
 * whether the 2D query did. */
static gboolean
query_node (StrataSht *sht, const guint8 *node, guint32 quark, GRand *rand)
{
  gint64 start = (gint64) get_u64 (node, N_START);
  gint64 end = (gint64) get_u64 (node, N_END);
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataShtRange) range = NULL;
  gboolean failed;

  range = strata_sht_query_2d (sht, &quark, 1, start, end, 1, &error);
  failed = range == NULL;
  if (failed)
    g_assert_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT);
  g_clear_error (&error);

  for (guint i = 0; i < 20; i++)
    {
      gint64 t = start + (gint64) (g_rand_double (rand) * (end - start + 1));
      StrataShtInterval iv;
      g_autoptr(GArray) full = NULL;

      if (!strata_sht_query_single (sht, quark, t, &iv, &error))
        g_assert_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT);
      g_clear_error (&error);
      full = strata_sht_query_full (sht, t, &error);
      if (full == NULL)
        g_assert_error (error, STRATA_SHT_ERROR, STRATA_SHT_ERROR_CORRUPT);
      g_clear_error (&error);
    }
  return failed;
}

/* Damage inside the runs of intervals, behind a node checksum made valid
 * again: the file opens, and the queries must tell the damage (a run
 * header or table no valid writer makes), or at least not crash nor read
 * outside the block (random bytes of the records may still decode to
 * intervals). */
static void
test_runs (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  guint n_detected = 0, n_rounds = 0;

  while (n_rounds < N_RUN_ROUNDS)
    {
      g_autofree guint8 *data = g_memdup2 (good, good_len);
      g_autofree char *path = NULL;
      g_autofree char *what = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(StrataSht) sht = NULL;
      guint64 seq = g_rand_int_range (rand, 0, n_nodes ());
      guint8 *node = data + node_offset (seq);
      guint64 own_min, range, k;
      gsize table, runs, run, run_end;
      gboolean must_fail = TRUE;

      if (!node_runs (node, &own_min, &range, &table, &runs))
        continue;
      k = g_rand_int_range (rand, 0, range);
      run = runs + table_entry (node, table, k);
      run_end = runs + table_entry (node, table, k + 1);
      if (run == run_end)
        continue;

      switch (n_rounds % 6)
        {
        case 0:
          what = g_strdup ("a run of no type");
          node[run] = (node[run] & ~7) | (5 + g_rand_int_range (rand, 0, 2));
          break;
        case 1:
          what = g_strdup ("values wider than 8 bytes");
          node[run] = (node[run] & 0x87) | (9 + g_rand_int_range (rand, 0, 7)) << 3;
          break;
        case 2:
          what = g_strdup ("the table out of order");
          node[table + 2 * k] = 0xff;
          node[table + 2 * k + 1] = 0xff;
          break;
        case 3:
          what = g_strdup ("ends 0 bytes wide");
          node[table - 1] = 0;
          break;
        case 4:
          what = g_strdup ("a run one byte short");
          {
            guint e = table_entry (node, table, k + 1) - 1;

            /* The next run starts one byte early. Either may still read
             * as records: any answer will do. */
            node[table + 2 * (k + 1)] = e & 0xff;
            node[table + 2 * (k + 1) + 1] = e >> 8;
            must_fail = FALSE;
          }
          break;
        default:
          what = g_strdup ("random bytes in a run");
          for (guint i = 0; i < 3; i++)
            node[run + g_rand_int_range (rand, 0, run_end - run)] ^= 1 + g_rand_int_range (rand, 0, 255);
          must_fail = FALSE;
          break;
        }
      put_u32 (node, N_CRC, _strata_sht_crc32c (0, node + 4, BLOCK_SIZE - 4));

      path = write_copy ("runs.sht", data, good_len);
      sht = strata_sht_open (path, ANALYSIS_VERSION, 64 * 1024, &error);
      g_assert_no_error (error);
      if (query_node (sht, node, own_min + k, rand))
        n_detected++;
      else if (must_fail)
        g_error ("node %" G_GUINT64_FORMAT ", quark %" G_GUINT64_FORMAT ": %s was not detected",
                 seq, own_min + k, what);
      g_unlink (path);
      n_rounds++;
    }
  g_test_message ("%u of %u damaged runs detected", n_detected, n_rounds);
}

static void
test_random_damage (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  g_autoptr(GError) error = NULL;
  g_autoptr(StrataSht) intact = strata_sht_open (good_path, ANALYSIS_VERSION, 0, &error);
  guint n_opened = 0;

  g_assert_no_error (error);
  for (guint round = 0; round < N_RANDOM_ROUNDS; round++)
    {
      g_autofree guint8 *data = g_memdup2 (good, good_len);
      g_autofree char *path = NULL;
      g_autoptr(StrataSht) sht = NULL;
      gsize len = good_len;
      guint n_flips = 1 + g_rand_int_range (rand, 0, 3);

      for (guint i = 0; i < n_flips; i++)
        {
          /* Half of them in the header's block or the sections at the end */
          gsize at = g_rand_boolean (rand) ? (gsize) g_rand_int_range (rand, 0, good_len)
            : g_rand_boolean (rand) ? (gsize) g_rand_int_range (rand, 0, BLOCK_SIZE)
            : good_len - 1 - g_rand_int_range (rand, 0, MIN (good_len, 20000));

          data[at] ^= 1 + g_rand_int_range (rand, 0, 255);
        }
      if (round % 8 == 7)
        len = g_rand_int_range (rand, 0, good_len);

      path = write_copy ("random.sht", data, len);
      sht = strata_sht_open (path, ANALYSIS_VERSION, 64 * 1024, &error);
      if (sht == NULL)
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == STRATA_SHT_ERROR);
          g_assert_cmpint (error->code, <=, STRATA_SHT_ERROR_ANALYSIS_VERSION);
          g_assert_cmpint (error->code, !=, STRATA_SHT_ERROR_IO);
          if (strstr (error->message, path) == NULL)
            g_error ("round %u: the message does not name the file: %s", round, error->message);
          g_clear_error (&error);
        }
      else
        {
          gint64 start = strata_sht_get_start_time (intact);
          gint64 end = strata_sht_get_end_time (intact);
          guint n_quarks = strata_sht_get_n_quarks (intact);

          n_opened++;
          g_assert_no_error (error);
          g_assert_cmpuint (strata_sht_get_n_quarks (sht), ==, n_quarks);
          g_assert_cmpint (strata_sht_get_end_time (sht), ==, end);
          for (guint i = 0; i < 300; i++)
            {
              guint32 q = g_rand_int_range (rand, 0, n_quarks);
              gint64 t = start + (gint64) (g_rand_double (rand) * (end - start));
              StrataShtInterval a, b;

              g_assert_true (strata_sht_query_single (intact, q, t, &a, NULL));
              g_assert_true (strata_sht_query_single (sht, q, t, &b, &error));
              g_assert_no_error (error);
              g_assert_cmpint (a.start, ==, b.start);
              g_assert_cmpint (a.end, ==, b.end);
              g_assert_true (strata_sht_value_equal (&a.value, &b.value));
            }
        }
      g_unlink (path);
    }
  g_test_message ("%u of %u damaged copies opened (damage in padding)", n_opened,
                  N_RANDOM_ROUNDS);
}

typedef struct
{
  const char *name;
  void      (*func) (void);
} Test;

static const Test tests[] = {
  { "missing", test_missing },
  { "not-sht", test_not_sht },
  { "truncated", test_truncated },
  { "header", test_header },
  { "nodes", test_nodes },
  { "sections", test_sections },
  { "versions", test_versions },
  { "unfinished", test_unfinished },
  { "rebuild", test_rebuild },
  { "runs", test_runs },
  { "random-damage", test_random_damage },
};

/* The good history is built by the first test that runs, whichever it is
 * (-p runs one), and shared by the others. */
static void
run_test (gconstpointer data)
{
  const Test *test = data;

  if (good == NULL)
    build_good_history ();
  test->func ();
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  suite_dir = g_dir_make_tmp ("strata-test-sht-corrupt-XXXXXX", &error);
  g_assert_no_error (error);
  good_path = g_build_filename (suite_dir, "good.sht", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      g_autofree char *path = g_strdup_printf ("/strata/sht-corrupt/%s", tests[i].name);

      g_test_add_data_func (path, &tests[i], run_test);
    }

  status = g_test_run ();

  strata_test_rmtree (suite_dir);
  g_free (suite_dir);
  g_free (good_path);
  g_free (good);
  return status;
}
