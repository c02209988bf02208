/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-sht"

#include "config.h"

#include "strata-sht-private.h"

/* CRC-32C (Castagnoli), the checksum of every block of a history file.
 * Chosen over CRC-32 for its better error detection on short bursts and
 * because x86-64 computes it in hardware (SSE 4.2): checking every node of
 * a file when it is opened then costs little next to reading it. Elsewhere
 * a slicing-by-8 table version does it in software. */

#define CRC32C_POLY 0x82f63b78u

static guint32 crc_table[8][256];
static gboolean have_hw;

static gpointer
init_tables (gpointer data)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  have_hw = __builtin_cpu_supports ("sse4.2");
#endif
  for (guint i = 0; i < 256; i++)
    {
      guint32 c = i;
      for (guint k = 0; k < 8; k++)
        c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
      crc_table[0][i] = c;
    }
  for (guint i = 0; i < 256; i++)
    for (guint t = 1; t < 8; t++)
      crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
  return NULL;
}

static guint32
crc32c_soft (guint32 crc, const guint8 *p, gsize len)
{
  while (len && ((guintptr) p & 7))
    {
      crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
      len--;
    }
  while (len >= 8)
    {
      guint64 w;
      memcpy (&w, p, 8);
      w = GUINT64_TO_LE (w) ^ crc;
      crc = crc_table[7][w & 0xff] ^
            crc_table[6][(w >> 8) & 0xff] ^
            crc_table[5][(w >> 16) & 0xff] ^
            crc_table[4][(w >> 24) & 0xff] ^
            crc_table[3][(w >> 32) & 0xff] ^
            crc_table[2][(w >> 40) & 0xff] ^
            crc_table[1][(w >> 48) & 0xff] ^
            crc_table[0][(w >> 56) & 0xff];
      p += 8;
      len -= 8;
    }
  while (len--)
    crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_HW_CRC 1
__attribute__ ((target ("sse4.2")))
static guint32
crc32c_hw (guint32 crc, const guint8 *p, gsize len)
{
  guint64 c = crc;

  while (len && ((guintptr) p & 7))
    {
      c = __builtin_ia32_crc32qi ((guint32) c, *p++);
      len--;
    }
  while (len >= 8)
    {
      guint64 w;
      memcpy (&w, p, 8);
      c = __builtin_ia32_crc32di (c, w);
      p += 8;
      len -= 8;
    }
  while (len--)
    c = __builtin_ia32_crc32qi ((guint32) c, *p++);
  return (guint32) c;
}
#endif

static GOnce crc_once = G_ONCE_INIT;

/**
 * _strata_sht_crc32c:
 * @crc: 0, or the result of the previous call to continue a checksum
 * @data: the bytes
 * @len: their number
 *
 * Returns: the CRC-32C of @data, continuing @crc.
 */
guint32
_strata_sht_crc32c (guint32 crc, const void *data, gsize len)
{
  g_once (&crc_once, init_tables, NULL);
#ifdef HAVE_HW_CRC
  if (have_hw)
    return ~crc32c_hw (~crc, data, len);
#endif
  return ~crc32c_soft (~crc, data, len);
}

/* The table version whatever the processor, so that tests check it where
 * the hardware one is used. */
guint32
_strata_sht_crc32c_portable (guint32 crc, const void *data, gsize len)
{
  g_once (&crc_once, init_tables, NULL);
  return ~crc32c_soft (~crc, data, len);
}
