/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-render"

#include "config.h"

#include "strata-render-format.h"

/* Times as the views write them: durations with three significant digits,
 * ruler offsets with as many decimals as their step needs. */

static const struct
{
  gint64      ns;
  const char *name;
} units[] = {
  { 1000000000, "s" },
  { 1000000, "ms" },
  { 1000, "µs" },
  { 1, "ns" },
};

/**
 * strata_render_format_duration:
 * @ns: a duration
 *
 * Returns: (transfer full): @ns in the largest unit that keeps it ≥ 1,
 *   with three significant digits: "812 ns", "1.25 µs", "12.5 ms"
 */
char *
strata_render_format_duration (gint64 ns)
{
  gint64 abs_ns = ns < 0 ? -ns : ns;

  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    {
      double v;

      if (abs_ns < units[i].ns && units[i].ns > 1)
        continue;
      if (units[i].ns == 1)
        return g_strdup_printf ("%" G_GINT64_FORMAT " ns", ns);
      v = (double) ns / (double) units[i].ns;
      if (ABS (v) >= 99.95)
        return g_strdup_printf ("%.0f %s", v, units[i].name);
      if (ABS (v) >= 9.995)
        return g_strdup_printf ("%.1f %s", v, units[i].name);
      return g_strdup_printf ("%.2f %s", v, units[i].name);
    }
  g_assert_not_reached ();
}

/**
 * strata_render_format_offset:
 * @ns: a time from some origin
 * @step: the step between the labels it is one of (≥ 1)
 * @magnitude: the largest of those labels' times (in absolute value)
 *
 * A ruler label: in the largest unit that @magnitude reaches, with the
 * decimals @step needs so that neighbours differ (six at most, else in
 * the next smaller unit): "12.5 ms" for a 500 µs step, "100.0001 ms" for
 * a 100 ns step around 100 ms. Every label of a ruler, given the same
 * @step and @magnitude, is in the same unit.
 *
 * Returns: (transfer full): the label
 */
char *
strata_render_format_offset (gint64 ns,
                             gint64 step,
                             gint64 magnitude)
{
  step = MAX (step, 1);
  magnitude = MAX (ABS (magnitude), 1);
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    {
      gint64 unit = units[i].ns;
      int decimals = 0;
      gint64 whole, frac;
      char digits[16];

      if (magnitude < unit && unit > 1)
        continue;
      /* Steps are 1, 2 or 5 × 10^k: one decimal for 0.1–0.5 units… */
      for (gint64 s = step; s < unit && decimals < 9; s *= 10)
        decimals++;
      if (decimals > 6)
        continue;
      if (unit == 1)
        return g_strdup_printf ("%" G_GINT64_FORMAT " ns", ns);
      whole = ns / unit;
      frac = ABS (ns % unit);
      if (decimals == 0)
        return g_strdup_printf ("%s%" G_GINT64_FORMAT " %s", ns < 0 && whole == 0 ? "-" : "", whole, units[i].name);
      g_snprintf (digits, sizeof digits, "%0*" G_GINT64_FORMAT, i == 0 ? 9 : i == 1 ? 6 : 3, frac);
      digits[decimals] = '\0';
      return g_strdup_printf ("%s%" G_GINT64_FORMAT ".%s %s", ns < 0 && whole == 0 ? "-" : "", whole, digits,
                              units[i].name);
    }
  g_assert_not_reached ();
}

/**
 * strata_render_format_span:
 * @from: a time from some origin
 * @to: a later one
 * @precision: the smallest difference that matters (≥ 1 ns)
 *
 * A range in the unit of its larger end, with the decimals @precision
 * needs: "+30.795 ms to +40.796 ms" for a precision of 1 µs.
 *
 * Returns: (transfer full): the range
 */
char *
strata_render_format_span (gint64 from,
                           gint64 to,
                           gint64 precision)
{
  gint64 magnitude = MAX (ABS (from), ABS (to));
  guint u = G_N_ELEMENTS (units) - 1;
  int decimals = 0;

  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (magnitude >= units[i].ns)
      {
        u = i;
        break;
      }
  for (gint64 p = MAX (precision, 1); p < units[u].ns && decimals < 9; p *= 10)
    decimals++;
  return g_strdup_printf ("%+.*f %s to %+.*f %s", decimals, (double) from / (double) units[u].ns, units[u].name,
                          decimals, (double) to / (double) units[u].ns, units[u].name);
}

/**
 * strata_render_format_clock:
 * @ns: an absolute time, in ns from the Unix epoch
 *
 * Returns: (transfer full): the date and time in UTC, to the nanosecond
 */
char *
strata_render_format_clock (gint64 ns)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ns / 1000000000);
  g_autofree char *date = NULL;

  if (dt == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT " ns", ns);
  date = g_date_time_format (dt, "%Y-%m-%d %H:%M:%S");
  return g_strdup_printf ("%s.%09" G_GINT64_FORMAT " UTC", date, ns % 1000000000);
}
