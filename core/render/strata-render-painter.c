/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "strata-render-painter"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>
#include <pango/pangocairo.h>

#include "strata-render-format.h"
#include "strata-render-painter.h"

/*
 * Paints a time-graph model with cairo: for strata-cli render (image, SVG
 * and PDF surfaces) and for the GTK views (a cairo node in snapshot), so
 * nothing here knows GTK.
 *
 * Bins are drawn as runs: neighbouring pixels of one color make one
 * rectangle, and rectangles are gathered per color and filled once per
 * color, so a frame costs one pass over the bins and a dozen fills
 * whatever the number of rows. Everything the model flags is drawn:
 * pixels where shorter states were skipped get a dark strip along the
 * bottom of the bar, pixels a filtered row shows only in part are drawn
 * translucent.
 */

#define PAD_X         8.0
#define BAR_INSET     2.0
#define HIDDEN_STRIP  3.0
#define INDENT        14.0
#define MIN_TICK_PX   110.0
#define SWATCH        11.0
#define N_MACHINE_COLORS 12

typedef enum
{
  SHAPE_FULL,
  SHAPE_THIN,           /* a thin bar: waiting without wanting a CPU */
  SHAPE_LINE,           /* a hairline: no longer there */
  SHAPE_HATCH,          /* nothing known */
} Shape;

typedef struct
{
  guint32     light;
  guint32     dark;
  Shape       shape;
  const char *name;
} StateStyle;

static const StateStyle cpu_styles[STRATA_N_CPU_STATUSES] = {
  [STRATA_CPU_UNKNOWN] = { 0xe6e6e6, 0x3a3a3a, SHAPE_HATCH, N_("unknown") },
  [STRATA_CPU_USER]    = { 0x43a047, 0x66bb6a, SHAPE_FULL, N_("user") },
  [STRATA_CPU_SYSCALL] = { 0x1e88e5, 0x42a5f5, SHAPE_FULL, N_("system call") },
  [STRATA_CPU_IRQ]     = { 0xf4511e, 0xff7043, SHAPE_FULL, N_("IRQ") },
  [STRATA_CPU_SOFTIRQ] = { 0xffb300, 0xffca28, SHAPE_FULL, N_("softirq") },
  [STRATA_CPU_IDLE]    = { 0xd3d9de, 0x474d55, SHAPE_FULL, N_("idle") },
  [STRATA_CPU_VMM]     = { 0x8e24aa, 0xba68c8, SHAPE_FULL, N_("hypervisor (VMM)") },
};

static const StateStyle vcpu_styles[STRATA_N_VCPU_STATES] = {
  [STRATA_VCPU_UNKNOWN]   = { 0xe6e6e6, 0x3a3a3a, SHAPE_HATCH, N_("unknown") },
  [STRATA_VCPU_RUNNING]   = { 0x43a047, 0x66bb6a, SHAPE_FULL, N_("running") },
  [STRATA_VCPU_VMM]       = { 0x8e24aa, 0xba68c8, SHAPE_FULL, N_("hypervisor (VMM)") },
  [STRATA_VCPU_PREEMPTED] = { 0xe53935, 0xef5350, SHAPE_FULL, N_("preempted") },
  [STRATA_VCPU_IDLE]      = { 0xd3d9de, 0x474d55, SHAPE_FULL, N_("idle (halted)") },
};

static const StateStyle thread_styles[STRATA_N_THREAD_STATUSES] = {
  [STRATA_THREAD_UNKNOWN]           = { 0xe6e6e6, 0x3a3a3a, SHAPE_HATCH, N_("unknown") },
  [STRATA_THREAD_USER]              = { 0x43a047, 0x66bb6a, SHAPE_FULL, N_("user") },
  [STRATA_THREAD_SYSCALL]           = { 0x1e88e5, 0x42a5f5, SHAPE_FULL, N_("system call") },
  [STRATA_THREAD_INTERRUPTED]       = { 0xf4511e, 0xff7043, SHAPE_FULL, N_("interrupted") },
  [STRATA_THREAD_WAIT_CPU]          = { 0xffb300, 0xffca28, SHAPE_FULL, N_("waiting for a CPU") },
  [STRATA_THREAD_BLOCKED]           = { 0xcfc39a, 0x6b6550, SHAPE_THIN, N_("blocked") },
  [STRATA_THREAD_DEAD]              = { 0xbdbdbd, 0x5a5a5a, SHAPE_LINE, N_("exited") },
  [STRATA_THREAD_PREEMPTED_BY_HOST] = { 0xe53935, 0xef5350, SHAPE_FULL, N_("preempted by the host") },
  [STRATA_THREAD_IN_HYPERVISOR]     = { 0x8e24aa, 0xba68c8, SHAPE_FULL, N_("in the hypervisor") },
};

/* Tableau's 10, and two more: distinct for the first machines, stable by
 * machine index */
static const guint32 machine_colors[N_MACHINE_COLORS] = {
  0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948,
  0xb07aa1, 0xff9da7, 0x9c755f, 0x86bcb6, 0xd37295, 0x8cd17d,
};

typedef struct
{
  double r, g, b;
} Rgb;

typedef struct
{
  guint32 rgb;
  double  alpha;
  Shape   shape;
  GArray *rects;        /* cairo_rectangle_t */
} Bucket;

/* Source over in premultiplied ARGB, a color at an alpha */
typedef struct
{
  guint32 a, ia;
  guint32 opaque;
  guint32 src_rb, src_ag;
} Blend;

/* A run of bins of one color and shape */
typedef struct
{
  guint   x0, x1;
  guint32 color;
  double  alpha;
  Shape   shape;
} Run;

struct _StrataRenderPainter
{
  gatomicrefcount       ref_count;
  StrataRenderStyle     style;
  char                 *font;              /* Owned: style.font points here */
  PangoFontDescription *font_desc;
  PangoFontDescription *bold_desc;
  PangoFontDescription *small_desc;
  PangoContext         *measure;           /* for layouts before there is a cairo_t */
  GArray               *buckets;           /* Bucket, reused from frame to frame */
  GArray               *strips;            /* cairo_rectangle_t: hidden activity */
  GArray               *faint_strips;      /* the same where the row shows nothing */
  cairo_pattern_t      *hatch;             /* for unknown states, made when first used */
};

/**
 * strata_render_style_init:
 *
 * The defaults: light palette, colored by state, highlight band 0.7,
 * 18 px rows, "Sans 9", with a legend.
 */
void
strata_render_style_init (StrataRenderStyle *style)
{
  g_return_if_fail (style != NULL);

  style->dark = FALSE;
  style->color_by = STRATA_RENDER_COLOR_BY_STATE;
  style->highlight_alpha = 0.7;
  style->row_height = 18;
  style->font = "Sans 9";
  style->legend = TRUE;
}

/**
 * strata_render_painter_new:
 * @style: (nullable): the style (copied), %NULL for the defaults
 *
 * Returns: (transfer full): a painter
 */
StrataRenderPainter *
strata_render_painter_new (const StrataRenderStyle *style)
{
  StrataRenderPainter *self = g_new0 (StrataRenderPainter, 1);
  PangoFontMap *map = pango_cairo_font_map_get_default ();

  g_atomic_ref_count_init (&self->ref_count);
  if (style != NULL)
    self->style = *style;
  else
    strata_render_style_init (&self->style);
  self->font = g_strdup (self->style.font != NULL ? self->style.font : "Sans 9");
  self->style.font = self->font;
  self->style.row_height = MAX (self->style.row_height, 8);
  self->style.highlight_alpha = CLAMP (self->style.highlight_alpha, 0, 1);
  self->font_desc = pango_font_description_from_string (self->font);
  self->bold_desc = pango_font_description_copy (self->font_desc);
  pango_font_description_set_weight (self->bold_desc, PANGO_WEIGHT_BOLD);
  self->small_desc = pango_font_description_copy (self->font_desc);
  pango_font_description_set_size (self->small_desc,
                                   (int) (pango_font_description_get_size (self->font_desc) * 0.9));
  self->measure = pango_font_map_create_context (map);
  self->buckets = g_array_new (FALSE, TRUE, sizeof (Bucket));
  self->strips = g_array_new (FALSE, FALSE, sizeof (cairo_rectangle_t));
  self->faint_strips = g_array_new (FALSE, FALSE, sizeof (cairo_rectangle_t));
  return self;
}

StrataRenderPainter *
strata_render_painter_ref (StrataRenderPainter *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
strata_render_painter_unref (StrataRenderPainter *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  for (guint i = 0; i < self->buckets->len; i++)
    g_array_unref (g_array_index (self->buckets, Bucket, i).rects);
  g_array_unref (self->buckets);
  g_array_unref (self->strips);
  g_array_unref (self->faint_strips);
  g_clear_pointer (&self->hatch, cairo_pattern_destroy);
  pango_font_description_free (self->font_desc);
  pango_font_description_free (self->bold_desc);
  pango_font_description_free (self->small_desc);
  g_object_unref (self->measure);
  g_free (self->font);
  g_free (self);
}

const StrataRenderStyle *
strata_render_painter_get_style (StrataRenderPainter *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->style;
}

/* Palette */

static Rgb
rgb (guint32 c)
{
  return (Rgb) { ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0, (c & 0xff) / 255.0 };
}

static guint32
pack (Rgb c)
{
  return ((guint32) lround (CLAMP (c.r, 0, 1) * 255) << 16)
         | ((guint32) lround (CLAMP (c.g, 0, 1) * 255) << 8)
         | (guint32) lround (CLAMP (c.b, 0, 1) * 255);
}

static guint32
mix (guint32 a,
     guint32 b,
     double  t)
{
  Rgb x = rgb (a), y = rgb (b);

  return pack ((Rgb) { x.r + (y.r - x.r) * t, x.g + (y.g - x.g) * t, x.b + (y.b - x.b) * t });
}

static guint32
background (StrataRenderPainter *self)
{
  return self->style.dark ? 0x1e1f22 : 0xffffff;
}

static guint32
foreground (StrataRenderPainter *self)
{
  return self->style.dark ? 0xe3e3e3 : 0x202124;
}

static void
set_color (cairo_t *cr,
           guint32  c,
           double   alpha)
{
  Rgb x = rgb (c);

  cairo_set_source_rgba (cr, x.r, x.g, x.b, alpha);
}

static const StateStyle *
state_style (StrataRenderRowKind kind,
             guint8              state)
{
  switch (kind)
    {
    case STRATA_RENDER_ROW_PCPU:
      return &cpu_styles[state < STRATA_N_CPU_STATUSES ? state : 0];
    case STRATA_RENDER_ROW_VCPU:
      return &vcpu_styles[state < STRATA_N_VCPU_STATES ? state : 0];
    case STRATA_RENDER_ROW_THREAD:
    case STRATA_RENDER_ROW_HEADING:
    default:
      return &thread_styles[state < STRATA_N_THREAD_STATUSES ? state : 0];
    }
}

/**
 * strata_render_state_name:
 * @kind: the kind of row
 * @state: a state of that kind of row
 *
 * Returns: the state's name, as the legend says it, in the user's
 *   language
 */
const char *
strata_render_state_name (StrataRenderRowKind kind,
                          guint8              state)
{
  return _(state_style (kind, state)->name);
}

static guint32
machine_color (StrataRenderPainter *self,
               int                  machine)
{
  guint32 c = machine_colors[(guint) MAX (machine, 0) % N_MACHINE_COLORS];

  /* The same hue, a little softer on a dark background */
  return self->style.dark ? mix (c, 0xffffff, 0.1) : c;
}

static guint32
color_of (StrataRenderPainter *self,
          StrataRenderRowKind  kind,
          guint8               state,
          int                  machine,
          Shape               *shape)
{
  const StateStyle *st = state_style (kind, state);
  guint32 c = self->style.dark ? st->dark : st->light;

  *shape = st->shape;
  if (kind == STRATA_RENDER_ROW_PCPU && self->style.color_by == STRATA_RENDER_COLOR_BY_MACHINE)
    {
      guint32 m = machine_color (self, machine);

      switch ((StrataCpuStatus) state)
        {
        case STRATA_CPU_USER:
          return m;
        case STRATA_CPU_SYSCALL:
        case STRATA_CPU_IRQ:
        case STRATA_CPU_SOFTIRQ:
          return mix (m, 0x000000, 0.3);
        case STRATA_CPU_VMM:
          return mix (m, background (self), 0.5);
        case STRATA_CPU_IDLE:
        case STRATA_CPU_UNKNOWN:
        case STRATA_N_CPU_STATUSES:
        default:
          break;
        }
    }
  return c;
}

/**
 * strata_render_painter_get_color:
 * @kind: the kind of row
 * @state: a state of that kind of row
 * @machine: whose code (when coloring by machine)
 * @rgba: (out caller-allocates) (array fixed-size=4): the color
 *
 * The color the painter gives a state: for a view's own legend.
 */
void
strata_render_painter_get_color (StrataRenderPainter *self,
                                 StrataRenderRowKind  kind,
                                 guint8               state,
                                 int                  machine,
                                 double               rgba[4])
{
  Shape shape;
  Rgb c;

  g_return_if_fail (self != NULL);

  c = rgb (color_of (self, kind, state, machine, &shape));
  rgba[0] = c.r;
  rgba[1] = c.g;
  rgba[2] = c.b;
  rgba[3] = 1;
}

/* Text */

static PangoLayout *
new_layout (StrataRenderPainter        *self,
            cairo_t                    *cr,
            const PangoFontDescription *desc)
{
  PangoLayout *layout = cr != NULL ? pango_cairo_create_layout (cr) : pango_layout_new (self->measure);

  pango_layout_set_font_description (layout, desc);
  return layout;
}

static double
text_width (PangoLayout *layout,
            const char  *text)
{
  int w, h;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  return w;
}

static double
text_height (StrataRenderPainter        *self,
             const PangoFontDescription *desc)
{
  g_autoptr(PangoLayout) layout = new_layout (self, NULL, desc);
  int w, h;

  pango_layout_set_text (layout, "Ag", -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  return h;
}

/* @text with its top left at (x, y) */
static void
draw_text (cairo_t     *cr,
           PangoLayout *layout,
           const char  *text,
           double       x,
           double       y)
{
  pango_layout_set_text (layout, text, -1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

/* @text vertically centred in a band of @height from @y */
static void
draw_text_centered (cairo_t     *cr,
                    PangoLayout *layout,
                    const char  *text,
                    double       x,
                    double       y,
                    double       height)
{
  int w, h;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x, y + floor ((height - h) / 2));
  pango_cairo_show_layout (cr, layout);
}

/* Time axis */

/* The step between major ticks: 1, 2 or 5 × 10^k ns, at least @min_ns */
static gint64
tick_step (double min_ns)
{
  gint64 base = 1;

  for (;;)
    {
      if ((double) base >= min_ns)
        return base;
      if ((double) (2 * base) >= min_ns)
        return 2 * base;
      if ((double) (5 * base) >= min_ns)
        return 5 * base;
      if (base > G_MAXINT64 / 100)
        return base * 10;
      base *= 10;
    }
}

static gint64
origin_of (StrataTimeGraph *model)
{
  return strata_analysis_get_start_time (strata_render_scope_get_analysis (strata_time_graph_get_scope (model)));
}

/* Ticks are at whole multiples of the step from the history's start */
static gint64
first_tick (StrataTimeGraph *model,
            gint64           step)
{
  gint64 origin = origin_of (model);
  gint64 rel = strata_time_graph_get_start (model) - origin;
  gint64 k = rel >= 0 ? (rel + step - 1) / step : -((-rel) / step);

  return origin + k * step;
}

static double
time_to_x (StrataTimeGraph *model,
           gint64           t)
{
  return (double) (t - strata_time_graph_get_start (model)) / (double) strata_time_graph_get_resolution (model);
}

/* The major step of the ruler and grid: at least MIN_TICK_PX apart, and
 * more if the labels (as long as the widest, deep in a long trace) need
 * it; @magnitude: the largest label's time, for their unit */
static gint64
ruler_step (StrataRenderPainter *self,
            StrataTimeGraph     *model,
            gint64              *magnitude)
{
  g_autoptr(PangoLayout) layout = new_layout (self, NULL, self->small_desc);
  gint64 res = strata_time_graph_get_resolution (model);
  gint64 origin = origin_of (model);
  gint64 t0 = strata_time_graph_get_start (model) - origin;
  gint64 t1 = t0 + (gint64) strata_time_graph_get_width (model) * res;
  gint64 step = tick_step (MIN_TICK_PX * (double) res);

  *magnitude = MAX (ABS (t0), ABS (t1));
  for (guint tries = 0; tries < 8; tries++)
    {
      g_autofree char *widest = strata_render_format_offset (ABS (t0) > ABS (t1) ? t0 : t1, step, *magnitude);

      if (text_width (layout, widest) + 16 <= (double) step / (double) res)
        break;
      step = tick_step ((double) step * 1.5);
    }
  return step;
}

/* Rows */

/* How many of @n rows from @first the model has */
static guint
rows_from (StrataTimeGraph *model,
           guint            first,
           guint            n)
{
  guint total = strata_time_graph_get_n_rows (model);

  return first < total ? MIN (n, total - first) : 0;
}

static void
reset_buckets (StrataRenderPainter *self)
{
  for (guint i = 0; i < self->buckets->len; i++)
    g_array_set_size (g_array_index (self->buckets, Bucket, i).rects, 0);
  g_array_set_size (self->strips, 0);
  g_array_set_size (self->faint_strips, 0);
}

static GArray *
bucket_for (StrataRenderPainter *self,
            guint32              color,
            double               alpha,
            Shape                shape)
{
  Bucket b;

  for (guint i = 0; i < self->buckets->len; i++)
    {
      Bucket *x = &g_array_index (self->buckets, Bucket, i);

      if (x->rgb == color && x->alpha == alpha && x->shape == shape)
        return x->rects;
    }
  b.rgb = color;
  b.alpha = alpha;
  b.shape = shape;
  b.rects = g_array_new (FALSE, FALSE, sizeof (cairo_rectangle_t));
  g_array_append_val (self->buckets, b);
  return b.rects;
}

static void
add_rect (GArray *rects,
          double  x,
          double  y,
          double  w,
          double  h)
{
  cairo_rectangle_t r = { x, y, w, h };

  g_array_append_val (rects, r);
}

static void
fill_rects (cairo_t *cr,
            GArray  *rects)
{
  for (guint i = 0; i < rects->len; i++)
    {
      const cairo_rectangle_t *r = &g_array_index (rects, cairo_rectangle_t, i);

      cairo_rectangle (cr, r->x, r->y, r->width, r->height);
    }
  cairo_fill (cr);
}

/*
 * Rectangles straight into an image surface's pixels, when the cairo_t
 * maps user space onto whole device pixels and clips to one rectangle:
 * cairo fills a rectangle of a path in ~170 ns, and a frame of the whole
 * history has tens of thousands of one-pixel runs. Anything else (vector
 * surfaces, scaled or rotated transforms, other clips) goes through cairo,
 * with the same rectangles.
 */
typedef struct
{
  cairo_surface_t *surface;
  guint32         *data;
  int              stride;        /* in pixels */
  int              dx, dy;        /* where user (0, 0) is, in pixels */
  int              x0, y0, x1, y1;  /* the clip, in pixels */
} Raster;

static gboolean
is_whole (double v)
{
  return v == floor (v) && ABS (v) < G_MAXINT / 2;
}

static gboolean
raster_begin (cairo_t *cr,
              Raster  *r)
{
  cairo_surface_t *s = cairo_get_target (cr);
  cairo_rectangle_list_t *clip;
  cairo_matrix_t m;
  double ox, oy, sx, sy;
  gboolean ok;

  if (cairo_surface_get_type (s) != CAIRO_SURFACE_TYPE_IMAGE
      || (cairo_image_surface_get_format (s) != CAIRO_FORMAT_ARGB32
          && cairo_image_surface_get_format (s) != CAIRO_FORMAT_RGB24))
    return FALSE;
  cairo_surface_get_device_scale (s, &sx, &sy);
  cairo_get_matrix (cr, &m);
  cairo_surface_get_device_offset (s, &ox, &oy);
  ox += m.x0;
  oy += m.y0;
  if (sx != 1 || sy != 1 || m.xx != 1 || m.yy != 1 || m.xy != 0 || m.yx != 0 || !is_whole (ox) || !is_whole (oy))
    return FALSE;

  clip = cairo_copy_clip_rectangle_list (cr);
  ok = clip->status == CAIRO_STATUS_SUCCESS && clip->num_rectangles == 1
       && is_whole (clip->rectangles[0].x) && is_whole (clip->rectangles[0].y)
       && is_whole (clip->rectangles[0].width) && is_whole (clip->rectangles[0].height);
  if (ok)
    {
      r->surface = s;
      r->dx = (int) ox;
      r->dy = (int) oy;
      r->x0 = MAX (0, (int) clip->rectangles[0].x + r->dx);
      r->y0 = MAX (0, (int) clip->rectangles[0].y + r->dy);
      r->x1 = MIN (cairo_image_surface_get_width (s), (int) (clip->rectangles[0].x + clip->rectangles[0].width) + r->dx);
      r->y1 = MIN (cairo_image_surface_get_height (s), (int) (clip->rectangles[0].y + clip->rectangles[0].height) + r->dy);
      cairo_surface_flush (s);
      r->data = (guint32 *) (gpointer) cairo_image_surface_get_data (s);
      r->stride = cairo_image_surface_get_stride (s) / 4;
      ok = r->data != NULL;
    }
  cairo_rectangle_list_destroy (clip);
  return ok;
}

static void
raster_end (Raster *r)
{
  cairo_surface_mark_dirty (r->surface);
}

static void
blend_init (Blend   *bl,
            guint32  color,
            double   alpha)
{
  /* lround() for what is not negative, without its call: this is done
   * for each run */
  bl->a = (guint32) (CLAMP (alpha, 0, 1) * 255 + 0.5);
  bl->ia = 255 - bl->a;
  bl->opaque = 0xff000000u | color;
  /* Two channels at a time (blue and red, green and alpha), each product
   * in 16 bits; (x + 128 + (x + 128) / 256) / 256 is x / 255 rounded */
  bl->src_rb = ((color >> 16) & 0xff) * bl->a << 16 | (color & 0xff) * bl->a;
  bl->src_ag = 255 * bl->a << 16 | ((color >> 8) & 0xff) * bl->a;
}

static inline void
blend_span (const Blend *bl,
            guint32     *px,
            int          n)
{
  if (bl->a == 255)
    for (int x = 0; x < n; x++)
      px[x] = bl->opaque;
  else
    for (int x = 0; x < n; x++)
      {
        guint32 d = px[x];
        guint32 rb = (d & 0x00ff00ffu) * bl->ia + bl->src_rb + 0x00800080u;
        guint32 ag = ((d >> 8) & 0x00ff00ffu) * bl->ia + bl->src_ag + 0x00800080u;

        rb = ((rb + ((rb >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
        ag = ((ag + ((ag >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
        px[x] = rb | ag << 8;
      }
}

/* @rects in @color at @alpha over what is there */
static void
raster_fill (Raster  *r,
             GArray  *rects,
             guint32  color,
             double   alpha)
{
  Blend bl;

  blend_init (&bl, color, alpha);
  for (guint i = 0; i < rects->len; i++)
    {
      const cairo_rectangle_t *rc = &g_array_index (rects, cairo_rectangle_t, i);
      /* The rectangles are on whole pixels */
      int x0 = MAX ((int) rc->x + r->dx, r->x0);
      int y0 = MAX ((int) rc->y + r->dy, r->y0);
      int x1 = MIN ((int) (rc->x + rc->width) + r->dx, r->x1);
      int y1 = MIN ((int) (rc->y + rc->height) + r->dy, r->y1);

      for (int y = y0; y < y1 && x0 < x1; y++)
        blend_span (&bl, r->data + (gsize) y * (gsize) r->stride + x0, x1 - x0);
    }
}

/* The run of @bins starting at or after @x; FALSE past the last */
static gboolean
next_run (StrataRenderPainter      *self,
          const StrataRenderRow    *row,
          const StrataTimeGraphBin *bins,
          guint                     width,
          guint                     x,
          Run                      *run)
{
  const StrataTimeGraphBin *b;
  guint end;

  while (x < width && bins[x].state == STRATA_TIME_GRAPH_BIN_EMPTY)
    x++;
  if (x >= width)
    return FALSE;
  b = &bins[x];
  run->color = color_of (self, row->kind, b->state, b->machine, &run->shape);
  run->alpha = (b->flags & STRATA_TIME_GRAPH_BIN_PARTIAL) ? 0.5 : 1.0;
  for (end = x + 1;
       end < width && bins[end].state == b->state
       && ((bins[end].flags ^ b->flags) & STRATA_TIME_GRAPH_BIN_PARTIAL) == 0
       && (bins[end].machine == b->machine || self->style.color_by == STRATA_RENDER_COLOR_BY_STATE
           || row->kind != STRATA_RENDER_ROW_PCPU);
       end++)
    ;
  run->x0 = x;
  run->x1 = end;
  return TRUE;
}

/* Where a run of @shape lies in a row at @y: [*top, *top + *height) */
static void
run_rows (StrataRenderPainter *self,
          Shape                shape,
          double               y,
          double              *top,
          double              *height)
{
  double h = self->style.row_height;
  double bar_h = h - 2 * BAR_INSET;
  double thin_h = MAX (2, floor (bar_h / 4));

  if (shape == SHAPE_THIN)
    {
      *top = y + floor ((h - thin_h) / 2);
      *height = thin_h;
    }
  else if (shape == SHAPE_LINE)
    {
      *top = y + floor (h / 2);
      *height = 1;
    }
  else
    {
      *top = y + BAR_INSET;
      *height = bar_h;
    }
}

/* Where shorter states were skipped: plain over a state, faint where a
 * filtered row shows nothing (they may not be the filter's) */
static void
collect_strips (StrataRenderPainter      *self,
                const StrataTimeGraphBin *bins,
                guint                     width,
                double                    y)
{
  double h = self->style.row_height;
  double bar_bottom = y + h - BAR_INSET;

  for (guint x = 0; x < width;)
    {
      gboolean empty = bins[x].state == STRATA_TIME_GRAPH_BIN_EMPTY;
      guint end;

      if (!(bins[x].flags & STRATA_TIME_GRAPH_BIN_HIDDEN))
        {
          x++;
          continue;
        }
      for (end = x + 1;
           end < width && (bins[end].flags & STRATA_TIME_GRAPH_BIN_HIDDEN)
           && (bins[end].state == STRATA_TIME_GRAPH_BIN_EMPTY) == empty;
           end++)
        ;
      add_rect (empty ? self->faint_strips : self->strips, x, bar_bottom - HIDDEN_STRIP, end - x, HIDDEN_STRIP);
      x = end;
    }
}

/* One row's bins, as runs of one color into the buckets */
static void
collect_row (StrataRenderPainter      *self,
             const StrataRenderRow    *row,
             const StrataTimeGraphBin *bins,
             guint                     width,
             double                    y)
{
  Run run;

  for (guint x = 0; next_run (self, row, bins, width, x, &run); x = run.x1)
    {
      double top, height;

      run_rows (self, run.shape, y, &top, &height);
      add_rect (bucket_for (self, run.color, run.alpha, run.shape), run.x0, top, run.x1 - run.x0, height);
    }
}

/* One row's runs straight into the pixels, but for the hatched ones
 * (into their bucket, for cairo): the same as raster_fill() of their rectangles, a row
 * at a time rather than a color at a time. Over a long range a run is a
 * pixel wide: painting each color over the whole picture in turn, a frame
 * went through the picture's pixels once per color, from memory. */
static void
raster_row (StrataRenderPainter      *self,
            Raster                   *r,
            const StrataRenderRow    *row,
            const StrataTimeGraphBin *bins,
            guint                     width,
            double                    y)
{
  int shape_y0[SHAPE_HATCH], shape_y1[SHAPE_HATCH];
  Run run;

  for (Shape shape = SHAPE_FULL; shape < SHAPE_HATCH; shape++)
    {
      double top, height;

      run_rows (self, shape, y, &top, &height);
      shape_y0[shape] = MAX ((int) top + r->dy, r->y0);
      shape_y1[shape] = MIN ((int) (top + height) + r->dy, r->y1);
    }
  for (guint x = 0; next_run (self, row, bins, width, x, &run); x = run.x1)
    {
      int x0, x1, y0, y1;
      Blend bl;

      if (run.shape == SHAPE_HATCH)
        {
          double top, height;

          run_rows (self, run.shape, y, &top, &height);
          add_rect (bucket_for (self, run.color, run.alpha, run.shape), run.x0, top, run.x1 - run.x0, height);
          continue;
        }
      x0 = MAX ((int) run.x0 + r->dx, r->x0);
      x1 = MIN ((int) run.x1 + r->dx, r->x1);
      y0 = shape_y0[run.shape];
      y1 = shape_y1[run.shape];
      if (x0 >= x1 || y0 >= y1)
        continue;
      blend_init (&bl, run.color, run.alpha);
      if (bl.a == 255 && x1 - x0 == 1)
        {
          guint32 *px = r->data + (gsize) y0 * (gsize) r->stride + x0;

          for (int yy = y0; yy < y1; yy++, px += r->stride)
            *px = bl.opaque;
        }
      else
        for (int yy = y0; yy < y1; yy++)
          blend_span (&bl, r->data + (gsize) yy * (gsize) r->stride + x0, x1 - x0);
    }
}

/* A repeating diagonal hatch: one fill whatever the number of rectangles
 * (a clip to many rectangles and long strokes cost far more) */
static cairo_pattern_t *
hatch_pattern (StrataRenderPainter *self)
{
  cairo_surface_t *tile = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 6, 6);
  cairo_t *cr = cairo_create (tile);
  cairo_pattern_t *pattern;

  set_color (cr, self->style.dark ? 0x3a3a3a : 0xe6e6e6, 1);
  cairo_paint (cr);
  set_color (cr, self->style.dark ? 0x555555 : 0xc4c4c4, 1);
  cairo_set_line_width (cr, 1.2);
  cairo_move_to (cr, -1, 7);
  cairo_line_to (cr, 7, -1);
  cairo_move_to (cr, -4, 4);
  cairo_line_to (cr, 4, -4);
  cairo_move_to (cr, 2, 10);
  cairo_line_to (cr, 10, 2);
  cairo_stroke (cr);
  cairo_destroy (cr);
  pattern = cairo_pattern_create_for_surface (tile);
  cairo_pattern_set_extend (pattern, CAIRO_EXTEND_REPEAT);
  cairo_surface_destroy (tile);
  return pattern;
}

static void
fill_hatched (StrataRenderPainter *self,
              cairo_t             *cr,
              GArray              *rects)
{
  if (self->hatch == NULL)
    self->hatch = hatch_pattern (self);
  cairo_save (cr);
  cairo_set_source (cr, self->hatch);
  fill_rects (cr, rects);
  cairo_restore (cr);
}

static void
paint_grid (StrataRenderPainter *self,
            cairo_t             *cr,
            StrataTimeGraph     *model,
            double               height)
{
  guint width = strata_time_graph_get_width (model);
  gint64 res = strata_time_graph_get_resolution (model);
  gint64 magnitude;
  gint64 step = ruler_step (self, model, &magnitude);
  gint64 end = strata_time_graph_get_start (model) + (gint64) width * res;

  set_color (cr, foreground (self), self->style.dark ? 0.10 : 0.07);
  cairo_set_line_width (cr, 1);
  for (gint64 t = first_tick (model, step); t < end; t += step)
    {
      double x = floor (time_to_x (model, t)) + 0.5;

      cairo_move_to (cr, x, 0);
      cairo_line_to (cr, x, height);
    }
  cairo_stroke (cr);
}

/**
 * strata_render_painter_paint_rows:
 * @cr: where, with (0, 0) the top left of row @first's time axis
 * @model: an updated model
 * @first: the first row to paint (a model position)
 * @n: how many
 *
 * Paints the bins of rows [@first, @first + @n): backgrounds, time grid,
 * states, and the marks of what the pixels hold beyond their state.
 */
void
strata_render_painter_paint_rows (StrataRenderPainter *self,
                                  cairo_t             *cr,
                                  StrataTimeGraph     *model,
                                  guint                first,
                                  guint                n)
{
  guint width;
  double h;
  Raster r;
  gboolean raster;
  guint32 strip_color;
  double strip_alpha;

  g_return_if_fail (self != NULL);
  g_return_if_fail (cr != NULL);
  g_return_if_fail (model != NULL);

  width = strata_time_graph_get_width (model);
  h = self->style.row_height;
  n = rows_from (model, first, n);
  if (width == 0 || n == 0)
    return;

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, n * h);
  cairo_clip (cr);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);

  /* Headings tinted, data rows separated by a hairline */
  for (guint p = first; p < first + n; p++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);
      double y = (p - first) * h;

      if (row->kind == STRATA_RENDER_ROW_HEADING)
        {
          set_color (cr, self->style.dark ? 0x26282c : 0xf4f6f8, 1);
          cairo_rectangle (cr, 0, y, width, h);
          cairo_fill (cr);
        }
    }
  set_color (cr, foreground (self), self->style.dark ? 0.08 : 0.06);
  for (guint p = first; p < first + n; p++)
    cairo_rectangle (cr, 0, (p - first + 1) * h - 1, width, 1);
  cairo_fill (cr);
  paint_grid (self, cr, model, n * h);

  /* Rows on whole pixels only: cairo would antialias the others */
  raster = h == floor (h) && raster_begin (cr, &r);
  reset_buckets (self);
  for (guint p = first; p < first + n; p++)
    {
      const StrataTimeGraphBin *bins = strata_time_graph_get_bins (model, p);
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);

      if (bins == NULL || row->kind == STRATA_RENDER_ROW_HEADING)
        continue;
      if (raster)
        raster_row (self, &r, row, bins, width, (p - first) * h);
      else
        collect_row (self, row, bins, width, (p - first) * h);
      collect_strips (self, bins, width, (p - first) * h);
    }
  if (raster)
    raster_end (&r);
  /* The hatch through cairo: nothing overlaps it but the strips */
  for (guint i = 0; i < self->buckets->len; i++)
    {
      Bucket *b = &g_array_index (self->buckets, Bucket, i);

      if (b->rects->len == 0)
        continue;
      if (b->shape == SHAPE_HATCH)
        fill_hatched (self, cr, b->rects);
      else
        {
          set_color (cr, b->rgb, b->alpha);
          fill_rects (cr, b->rects);
        }
    }
  if (raster)
    cairo_surface_flush (r.surface);
  strip_color = self->style.dark ? 0xffffff : 0x000000;
  strip_alpha = self->style.dark ? 0.55 : 0.45;
  if (raster)
    {
      raster_fill (&r, self->strips, strip_color, strip_alpha);
      raster_fill (&r, self->faint_strips, strip_color, 0.12);
      raster_end (&r);
    }
  else
    {
      set_color (cr, strip_color, strip_alpha);
      fill_rects (cr, self->strips);
      set_color (cr, strip_color, 0.12);
      fill_rects (cr, self->faint_strips);
    }
  cairo_restore (cr);
}

typedef struct
{
  const StrataTimeGraphBin *bins;
  guint                     x;
  gboolean                  value;
} LastSelected;

/* Whether the bin at @x is selected: the same as its left neighbour's
 * when the same thing runs there */
static gboolean
selected (StrataTimeGraph          *model,
          StrataHighlight          *highlight,
          guint                     position,
          const StrataTimeGraphBin *bins,
          guint                     x,
          LastSelected             *last)
{
  const StrataTimeGraphBin *b = &bins[x];
  gboolean value;

  if (x > 0 && last->bins == bins && last->x == x - 1)
    {
      const StrataTimeGraphBin *a = &bins[x - 1];

      if ((a->state == STRATA_TIME_GRAPH_BIN_EMPTY) == (b->state == STRATA_TIME_GRAPH_BIN_EMPTY)
          && a->machine == b->machine && a->vcpu == b->vcpu && a->thread == b->thread)
        {
          last->x = x;
          return last->value;
        }
    }
  value = strata_time_graph_is_selected (model, highlight, position, x);
  last->bins = bins;
  last->x = x;
  last->value = value;
  return value;
}

/**
 * strata_render_painter_paint_highlight:
 * @cr: as for strata_render_painter_paint_rows()
 * @highlight: (nullable): what is selected; nothing is drawn when it is
 *   empty
 *
 * Covers what @highlight does not select with the band (white, or the
 * background in the dark palette, at the style's opacity): per pixel in
 * physical CPU rows, per row in the others.
 */
void
strata_render_painter_paint_highlight (StrataRenderPainter *self,
                                       cairo_t             *cr,
                                       StrataTimeGraph     *model,
                                       StrataHighlight     *highlight,
                                       guint                first,
                                       guint                n)
{
  StrataRenderScope *scope;
  LastSelected last = { NULL, 0, FALSE };
  guint32 band;
  Raster r;
  guint width;
  double h;

  g_return_if_fail (self != NULL);
  g_return_if_fail (cr != NULL);
  g_return_if_fail (model != NULL);

  if (strata_highlight_is_empty (highlight))
    return;
  scope = strata_time_graph_get_scope (model);
  width = strata_time_graph_get_width (model);
  h = self->style.row_height;
  n = rows_from (model, first, n);

  g_array_set_size (self->strips, 0);
  for (guint p = first; p < first + n; p++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);
      const StrataTimeGraphBin *bins = strata_time_graph_get_bins (model, p);
      double y = (p - first) * h;

      if (row->kind == STRATA_RENDER_ROW_HEADING || bins == NULL)
        continue;
      if (row->kind != STRATA_RENDER_ROW_PCPU)
        {
          if (!strata_highlight_matches_row (highlight, scope, row))
            add_rect (self->strips, 0, y, width, h);
          continue;
        }
      for (guint x = 0; x < width;)
        {
          guint end = x + 1;

          if (selected (model, highlight, p, bins, x, &last))
            {
              x++;
              continue;
            }
          while (end < width && !selected (model, highlight, p, bins, end, &last))
            end++;
          add_rect (self->strips, x, y, end - x, h);
          x = end;
        }
    }

  band = self->style.dark ? background (self) : 0xffffff;
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, n * h);
  cairo_clip (cr);
  if (h == floor (h) && raster_begin (cr, &r))
    {
      raster_fill (&r, self->strips, band, self->style.highlight_alpha);
      raster_end (&r);
    }
  else
    {
      cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);
      set_color (cr, band, self->style.highlight_alpha);
      fill_rects (cr, self->strips);
    }
  cairo_restore (cr);
}

/* Labels */

static double
label_indent (const StrataRenderRow *row)
{
  return PAD_X + row->depth * INDENT + SWATCH + 3;
}

static gboolean
is_machine_entry (StrataTimeGraph       *model,
                  const StrataRenderRow *row)
{
  const StrataRenderRow *parent;

  if (row->kind != STRATA_RENDER_ROW_HEADING || row->machine < 0 || row->container >= 0)
    return FALSE;
  if (row->parent < 0)
    return TRUE;
  parent = strata_render_rows_get_row (strata_time_graph_get_rows (model), (guint) row->parent);
  return parent->machine != row->machine;
}

static double
measure_labels (StrataRenderPainter *self,
                StrataTimeGraph     *model)
{
  g_autoptr(PangoLayout) regular = new_layout (self, NULL, self->font_desc);
  g_autoptr(PangoLayout) bold = new_layout (self, NULL, self->bold_desc);
  double w = 0;

  for (guint p = 0; p < strata_time_graph_get_n_rows (model); p++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);

      w = MAX (w, label_indent (row)
                  + text_width (row->kind == STRATA_RENDER_ROW_HEADING ? bold : regular, row->label));
    }
  return ceil (w + PAD_X);
}

/**
 * strata_render_painter_paint_labels:
 * @cr: where, with (0, 0) the top left of row @first's label
 * @highlight: (nullable): rows it does not select (in views highlighted
 *   per row) have their labels dimmed
 * @width: the label column's width: longer labels are ellipsized
 *
 * Paints the labels of rows [@first, @first + @n) as a tree.
 */
void
strata_render_painter_paint_labels (StrataRenderPainter *self,
                                    cairo_t             *cr,
                                    StrataTimeGraph     *model,
                                    StrataHighlight     *highlight,
                                    double               width,
                                    guint                first,
                                    guint                n)
{
  g_autoptr(PangoLayout) regular = NULL;
  g_autoptr(PangoLayout) bold = NULL;
  StrataRenderScope *scope;
  double h;
  gboolean by_machine;

  g_return_if_fail (self != NULL);
  g_return_if_fail (cr != NULL);
  g_return_if_fail (model != NULL);

  scope = strata_time_graph_get_scope (model);
  h = self->style.row_height;
  by_machine = self->style.color_by == STRATA_RENDER_COLOR_BY_MACHINE;
  n = rows_from (model, first, n);
  regular = new_layout (self, cr, self->font_desc);
  bold = new_layout (self, cr, self->bold_desc);
  pango_layout_set_ellipsize (regular, PANGO_ELLIPSIZE_END);
  pango_layout_set_ellipsize (bold, PANGO_ELLIPSIZE_END);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, n * h);
  cairo_clip (cr);
  for (guint p = first; p < first + n; p++)
    {
      const StrataRenderRow *row = strata_time_graph_get_row (model, p);
      double y = (p - first) * h;
      double x = label_indent (row);
      gboolean heading = row->kind == STRATA_RENDER_ROW_HEADING;
      PangoLayout *layout = heading ? bold : regular;
      double alpha = 1;

      if (heading)
        {
          set_color (cr, self->style.dark ? 0x26282c : 0xf4f6f8, 1);
          cairo_rectangle (cr, 0, y, width, h);
          cairo_fill (cr);
        }
      if (!strata_highlight_is_empty (highlight) && !heading && row->kind != STRATA_RENDER_ROW_PCPU
          && !strata_highlight_matches_row (highlight, scope, row))
        alpha = 0.45;

      /* A machine's own color next to its entry, when the picture uses it */
      if (heading && by_machine && is_machine_entry (model, row))
        {
          set_color (cr, machine_color (self, row->machine), 1);
          cairo_rectangle (cr, x - SWATCH - 3, y + floor ((h - SWATCH + 2) / 2), SWATCH - 2, SWATCH - 2);
          cairo_fill (cr);
        }
      else if (row->has_children)
        {
          /* An expanded entry: ▾ */
          double cx = x - SWATCH / 2 - 3, cy = y + h / 2;

          set_color (cr, foreground (self), 0.55 * alpha);
          cairo_move_to (cr, cx - 3.5, cy - 2);
          cairo_line_to (cr, cx + 3.5, cy - 2);
          cairo_line_to (cr, cx, cy + 2.5);
          cairo_close_path (cr);
          cairo_fill (cr);
        }

      set_color (cr, foreground (self), (heading && row->machine < 0 ? 0.75 : 1) * alpha);
      pango_layout_set_width (layout, (int) (MAX (1, width - x - PAD_X / 2) * PANGO_SCALE));
      draw_text_centered (cr, layout, row->label, x, y, h);
    }
  cairo_restore (cr);
}

/**
 * strata_render_painter_paint_ruler:
 * @cr: where, with (0, 0) the top left of the time axis
 * @height: the ruler's height (the rows draw their own grid lines)
 *
 * Paints the time ruler: ticks at 1, 2 or 5 × 10^k ns, at least ~110 px
 * apart and wide enough for their labels, labelled from the start of the
 * history in the unit of the largest, with the decimals the step needs.
 */
void
strata_render_painter_paint_ruler (StrataRenderPainter *self,
                                   cairo_t             *cr,
                                   StrataTimeGraph     *model,
                                   double               height)
{
  g_autoptr(PangoLayout) layout = NULL;
  guint width;
  gint64 res, step, minor, end, origin, mantissa, magnitude;
  int sub;

  g_return_if_fail (self != NULL);
  g_return_if_fail (cr != NULL);
  g_return_if_fail (model != NULL);

  width = strata_time_graph_get_width (model);
  if (width == 0)
    return;
  res = strata_time_graph_get_resolution (model);
  origin = origin_of (model);
  step = ruler_step (self, model, &magnitude);
  /* Minor ticks: steps of 1 and 5 divide in 5, steps of 2 in 4 */
  mantissa = step;
  while (mantissa >= 10 && mantissa % 10 == 0)
    mantissa /= 10;
  sub = mantissa == 2 ? 4 : 5;
  minor = MAX (1, step / sub);
  end = strata_time_graph_get_start (model) + (gint64) width * res;

  layout = new_layout (self, cr, self->small_desc);
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_set_line_width (cr, 1);

  set_color (cr, foreground (self), 0.35);
  for (gint64 t = first_tick (model, minor); t < end; t += minor)
    {
      double x = floor (time_to_x (model, t)) + 0.5;
      gboolean major = (t - origin) % step == 0;

      cairo_move_to (cr, x, major ? 0 : height - 4);
      cairo_line_to (cr, x, height);
    }
  cairo_stroke (cr);

  set_color (cr, foreground (self), 0.85);
  for (gint64 t = first_tick (model, step); t < end; t += step)
    {
      g_autofree char *label = strata_render_format_offset (t - origin, step, magnitude);
      double x = floor (time_to_x (model, t)) + 0.5;

      /* The last label stays inside the axis */
      if (x + 4 + text_width (layout, label) > width)
        continue;
      draw_text (cr, layout, label, x + 4, 2);
    }

  set_color (cr, foreground (self), 0.25);
  cairo_move_to (cr, 0, height - 0.5);
  cairo_line_to (cr, width, height - 0.5);
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* Legend */

typedef struct
{
  guint32     color;
  Shape       shape;
  const char *text;     /* Borrowed */
  char       *owned;
  int         kind;     /* 0 a state, 1 hidden activity, 2 the band */
} LegendItem;

static void
legend_item_clear (gpointer data)
{
  g_free (((LegendItem *) data)->owned);
}

static char *
describe_highlight (StrataHighlight   *highlight,
                    StrataRenderScope *scope)
{
  StrataAnalysis *analysis = strata_render_scope_get_analysis (scope);
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < strata_highlight_get_n_items (highlight); i++)
    {
      const StrataHighlightItem *item = strata_highlight_get_item (highlight, i);
      const char *machine = item->machine >= 0 ? strata_analysis_get_machine (analysis, (guint) item->machine)->name : NULL;

      if (s->len > 0)
        g_string_append (s, ", ");
      switch (item->kind)
        {
        case STRATA_HIGHLIGHT_MACHINE:
          g_string_append (s, machine);
          break;
        case STRATA_HIGHLIGHT_VCPU:
          g_string_append_printf (s, _("vCPU %s/%d"), machine, item->number);
          break;
        case STRATA_HIGHLIGHT_CONTAINER:
          g_string_append_printf (s, _("container %" PRIu64),
                                  strata_render_scope_get_container (scope, (guint) item->container)->inum);
          break;
        case STRATA_HIGHLIGHT_PCPU:
          g_string_append_printf (s, _("pCPU %s%s%d"), machine != NULL ? machine : "", machine != NULL ? "/" : "",
                                  item->number);
          break;
        case STRATA_HIGHLIGHT_THREAD:
        default:
          g_string_append_printf (s, _("thread %s%s%d"), machine != NULL ? machine : "", machine != NULL ? "/" : "",
                                  item->number);
          break;
        }
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static GArray *
legend_items (StrataRenderPainter *self,
              StrataTimeGraph     *model,
              StrataHighlight     *highlight)
{
  GArray *items = g_array_new (FALSE, TRUE, sizeof (LegendItem));
  StrataRenderView view = strata_render_rows_get_view (strata_time_graph_get_rows (model));
  StrataAnalysis *analysis = strata_render_scope_get_analysis (strata_time_graph_get_scope (model));
  StrataRenderRowKind kinds[2] = { STRATA_RENDER_ROW_PCPU, STRATA_RENDER_ROW_PCPU };
  guint n_kinds = 1;
  guint8 seen[2][16] = { { 0 } };

  g_array_set_clear_func (items, legend_item_clear);
  if (view == STRATA_RENDER_VIEW_VCPUS)
    {
      kinds[0] = STRATA_RENDER_ROW_VCPU;
      kinds[1] = STRATA_RENDER_ROW_THREAD;
      n_kinds = 2;
    }
  else if (view == STRATA_RENDER_VIEW_THREADS)
    kinds[0] = STRATA_RENDER_ROW_THREAD;

  for (guint k = 0; k < n_kinds; k++)
    {
      guint n_states = kinds[k] == STRATA_RENDER_ROW_PCPU ? STRATA_N_CPU_STATUSES
                       : kinds[k] == STRATA_RENDER_ROW_VCPU ? STRATA_N_VCPU_STATES : STRATA_N_THREAD_STATUSES;
      /* In order of interest, not of value */
      for (guint s = 1; s <= n_states; s++)
        {
          guint8 state = (guint8) (s % n_states);
          const StateStyle *st = state_style (kinds[k], state);
          LegendItem item = { 0 };
          gboolean dup = FALSE;

          if (kinds[k] == STRATA_RENDER_ROW_PCPU && self->style.color_by == STRATA_RENDER_COLOR_BY_MACHINE
              && state != STRATA_CPU_IDLE && state != STRATA_CPU_UNKNOWN)
            continue;
          /* The vCPU view's thread states repeat some of its vCPU states */
          for (guint i = 0; i < items->len && !dup; i++)
            dup = g_str_equal (g_array_index (items, LegendItem, i).text, _(st->name))
                  && g_array_index (items, LegendItem, i).color == (self->style.dark ? st->dark : st->light);
          if (dup || seen[k][state])
            continue;
          seen[k][state] = 1;
          item.color = self->style.dark ? st->dark : st->light;
          item.shape = st->shape;
          item.text = _(st->name);
          g_array_append_val (items, item);
        }
    }

  if (self->style.color_by == STRATA_RENDER_COLOR_BY_MACHINE && view == STRATA_RENDER_VIEW_FVS)
    {
      for (guint m = 0; m < strata_analysis_get_n_machines (analysis); m++)
        {
          LegendItem item = { 0 };

          item.color = machine_color (self, (int) m);
          item.shape = SHAPE_FULL;
          item.owned = g_strdup (strata_analysis_get_machine (analysis, m)->name);
          item.text = item.owned;
          g_array_append_val (items, item);
        }
      {
        LegendItem item = { 0 };

        item.color = mix (machine_color (self, 0), 0x000000, 0.3);
        item.shape = SHAPE_FULL;
        item.text = _("darker: kernel");
        g_array_append_val (items, item);
        item.color = mix (machine_color (self, 0), background (self), 0.5);
        item.text = _("lighter: hypervisor for it");
        g_array_append_val (items, item);
      }
    }

  {
    LegendItem item = { 0 };

    item.kind = 1;
    item.text = _("shorter states in the pixel (zoom in)");
    g_array_append_val (items, item);
  }
  if (!strata_highlight_is_empty (highlight))
    {
      LegendItem item = { 0 };
      g_autofree char *what = describe_highlight (highlight, strata_time_graph_get_scope (model));

      item.kind = 2;
      item.owned = g_strdup_printf (_("not in the highlight (%s)"), what);
      item.text = item.owned;
      g_array_append_val (items, item);
    }
  return items;
}

/* Lays the legend out in lines; paints it when @cr is given. Returns its
 * height. */
static double
flow_legend (StrataRenderPainter *self,
             cairo_t             *cr,
             StrataTimeGraph     *model,
             StrataHighlight     *highlight,
             double               width)
{
  g_autoptr(GArray) items = legend_items (self, model, highlight);
  g_autoptr(PangoLayout) layout = new_layout (self, cr, self->small_desc);
  double line_h = MAX (SWATCH, text_height (self, self->small_desc)) + 6;
  double x = PAD_X, y = 4;

  for (guint i = 0; i < items->len; i++)
    {
      const LegendItem *item = &g_array_index (items, LegendItem, i);
      double w = SWATCH + 5 + text_width (layout, item->text);

      if (x > PAD_X && x + w > width - PAD_X)
        {
          x = PAD_X;
          y += line_h;
        }
      if (cr != NULL)
        {
          double sy = y + floor ((line_h - 6 - SWATCH) / 2);

          switch (item->kind)
            {
            case 1:
              set_color (cr, self->style.dark ? 0x474d55 : 0xd3d9de, 1);
              cairo_rectangle (cr, x, sy, SWATCH, SWATCH);
              cairo_fill (cr);
              set_color (cr, self->style.dark ? 0xffffff : 0x000000, self->style.dark ? 0.55 : 0.45);
              cairo_rectangle (cr, x, sy + SWATCH - HIDDEN_STRIP, SWATCH, HIDDEN_STRIP);
              cairo_fill (cr);
              break;
            case 2:
              set_color (cr, 0x43a047, 1);
              cairo_rectangle (cr, x, sy, SWATCH, SWATCH);
              cairo_fill (cr);
              set_color (cr, self->style.dark ? background (self) : 0xffffff, self->style.highlight_alpha);
              cairo_rectangle (cr, x, sy, SWATCH, SWATCH);
              cairo_fill (cr);
              break;
            default:
              set_color (cr, item->color, 1);
              if (item->shape == SHAPE_HATCH)
                {
                  g_autoptr(GArray) r = g_array_new (FALSE, FALSE, sizeof (cairo_rectangle_t));

                  add_rect (r, x, sy, SWATCH, SWATCH);
                  fill_hatched (self, cr, r);
                  break;
                }
              if (item->shape == SHAPE_THIN)
                cairo_rectangle (cr, x, sy + SWATCH / 2 - 1.5, SWATCH, 3);
              else if (item->shape == SHAPE_LINE)
                cairo_rectangle (cr, x, sy + floor (SWATCH / 2), SWATCH, 1);
              else
                cairo_rectangle (cr, x, sy, SWATCH, SWATCH);
              cairo_fill (cr);
              break;
            }
          if (item->kind != 1 && item->shape != SHAPE_THIN && item->shape != SHAPE_LINE)
            {
              cairo_set_line_width (cr, 1);
              cairo_rectangle (cr, x + 0.5, sy + 0.5, SWATCH - 1, SWATCH - 1);
              set_color (cr, foreground (self), 0.25);
              cairo_stroke (cr);
            }
          set_color (cr, foreground (self), 0.9);
          draw_text_centered (cr, layout, item->text, x + SWATCH + 5, y, line_h - 6);
        }
      x += w + 16;
    }
  return y + line_h + 2;
}

/**
 * strata_render_painter_measure_legend:
 * @width: the width it may take
 *
 * Returns: the legend's height at @width
 */
double
strata_render_painter_measure_legend (StrataRenderPainter *self,
                                      StrataTimeGraph     *model,
                                      StrataHighlight     *highlight,
                                      double               width)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (model != NULL, 0);
  return flow_legend (self, NULL, model, highlight, width);
}

/**
 * strata_render_painter_paint_legend:
 * @cr: where, with (0, 0) its top left
 *
 * Paints the colors of the view's states (and machines, when coloring by
 * machine), the mark of skipped states and the highlight band.
 */
void
strata_render_painter_paint_legend (StrataRenderPainter *self,
                                    cairo_t             *cr,
                                    StrataTimeGraph     *model,
                                    StrataHighlight     *highlight,
                                    double               width)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (cr != NULL);
  g_return_if_fail (model != NULL);
  flow_legend (self, cr, model, highlight, width);
}

/* The whole picture */

/**
 * strata_render_painter_compute_layout:
 * @model: its rows are measured (its bins are not needed yet)
 * @highlight: (nullable): for the legend
 * @width: the picture's width
 * @title: (nullable): a title line
 * @layout: (out caller-allocates): where things go; update the model to
 *   @layout->plot_width pixels before painting
 */
void
strata_render_painter_compute_layout (StrataRenderPainter *self,
                                      StrataTimeGraph     *model,
                                      StrataHighlight     *highlight,
                                      double               width,
                                      const char          *title,
                                      StrataRenderLayout  *layout)
{
  double text_h;

  g_return_if_fail (self != NULL);
  g_return_if_fail (model != NULL);
  g_return_if_fail (layout != NULL);

  text_h = text_height (self, self->font_desc);
  layout->width = MAX (width, 200);
  layout->label_width = CLAMP (measure_labels (self, model), 120, floor (layout->width * 0.4));
  layout->plot_x = layout->label_width;
  layout->plot_width = (guint) MAX (1, layout->width - layout->plot_x - PAD_X);
  layout->title_height = title != NULL ? ceil (text_h * 1.4 + 12) : 0;
  layout->ruler_y = layout->title_height;
  layout->ruler_height = ceil (text_height (self, self->small_desc) + 10);
  layout->rows_y = layout->ruler_y + layout->ruler_height;
  layout->row_height = self->style.row_height;
  layout->n_rows = strata_time_graph_get_n_rows (model);
  layout->legend_y = layout->rows_y + layout->n_rows * layout->row_height + 6;
  layout->legend_height = self->style.legend
                          ? strata_render_painter_measure_legend (self, model, highlight, layout->width)
                          : 0;
  layout->height = ceil (layout->legend_y + layout->legend_height + 4);
}

static void
paint_title (StrataRenderPainter      *self,
             cairo_t                  *cr,
             StrataTimeGraph          *model,
             const char               *title,
             const StrataRenderLayout *layout)
{
  g_autoptr(PangoLayout) bold = new_layout (self, cr, self->bold_desc);
  g_autoptr(PangoLayout) small = new_layout (self, cr, self->small_desc);
  gint64 origin = origin_of (model);
  gint64 t0 = strata_time_graph_get_start (model);
  gint64 res = strata_time_graph_get_resolution (model);
  gint64 t1 = t0 + (gint64) strata_time_graph_get_width (model) * res;
  gint64 precision = 1;
  g_autofree char *span = NULL;
  g_autofree char *per_px = strata_render_format_duration (res);
  g_autofree char *clock = strata_render_format_clock (origin);
  g_autofree char *range = NULL;

  /* To the pixel */
  while (precision * 10 <= res)
    precision *= 10;
  span = strata_render_format_span (t0 - origin, t1 - origin, precision);
  /* Translators: a time range, from a clock time, and a duration */
  range = g_strdup_printf (_("%s from %s · %s per pixel"), span, clock, per_px);
  double range_w = text_width (small, range);
  double h = layout->title_height;

  set_color (cr, foreground (self), 1);
  pango_layout_set_width (bold, (int) (MAX (1, layout->width - range_w - 4 * PAD_X) * PANGO_SCALE));
  pango_layout_set_ellipsize (bold, PANGO_ELLIPSIZE_END);
  draw_text_centered (cr, bold, title, PAD_X, 0, h);
  set_color (cr, foreground (self), 0.7);
  draw_text_centered (cr, small, range, layout->width - PAD_X - range_w, 0, h);
  set_color (cr, foreground (self), 0.15);
  cairo_rectangle (cr, 0, h - 1, layout->width, 1);
  cairo_fill (cr);
}

/**
 * strata_render_painter_paint:
 * @cr: where, with (0, 0) the picture's top left
 * @model: updated to @layout's plot width
 * @highlight: (nullable): what to highlight
 * @title: (nullable): the title, as given to the layout
 * @layout: from strata_render_painter_compute_layout()
 *
 * Paints the whole picture: title, ruler, labels, rows, highlight and
 * legend.
 */
void
strata_render_painter_paint (StrataRenderPainter      *self,
                             cairo_t                  *cr,
                             StrataTimeGraph          *model,
                             StrataHighlight          *highlight,
                             const char               *title,
                             const StrataRenderLayout *layout)
{
  guint n;
  double rows_h;

  g_return_if_fail (self != NULL);
  g_return_if_fail (cr != NULL);
  g_return_if_fail (model != NULL);
  g_return_if_fail (layout != NULL);

  n = MIN (layout->n_rows, strata_time_graph_get_n_rows (model));
  rows_h = n * layout->row_height;

  cairo_save (cr);
  set_color (cr, background (self), 1);
  cairo_paint (cr);

  if (title != NULL && layout->title_height > 0)
    paint_title (self, cr, model, title, layout);

  /* The label column's corner: what the ruler counts from */
  {
    g_autoptr(PangoLayout) small = new_layout (self, cr, self->small_desc);

    set_color (cr, foreground (self), 0.55);
    pango_layout_set_width (small, (int) (MAX (1, layout->label_width - 2 * PAD_X) * PANGO_SCALE));
    pango_layout_set_ellipsize (small, PANGO_ELLIPSIZE_END);
    draw_text_centered (cr, small, _("time from trace start"), PAD_X, layout->ruler_y, layout->ruler_height);
  }

  cairo_save (cr);
  cairo_translate (cr, layout->plot_x, layout->ruler_y);
  strata_render_painter_paint_ruler (self, cr, model, layout->ruler_height);
  cairo_restore (cr);

  cairo_save (cr);
  cairo_translate (cr, layout->plot_x, layout->rows_y);
  strata_render_painter_paint_rows (self, cr, model, 0, n);
  strata_render_painter_paint_highlight (self, cr, model, highlight, 0, n);
  cairo_restore (cr);

  cairo_save (cr);
  cairo_translate (cr, 0, layout->rows_y);
  strata_render_painter_paint_labels (self, cr, model, highlight, layout->label_width, 0, n);
  cairo_restore (cr);

  /* Frame between labels and time axis, and below the rows */
  set_color (cr, foreground (self), 0.2);
  cairo_rectangle (cr, layout->plot_x - 1, layout->ruler_y, 1, layout->ruler_height + rows_h);
  cairo_rectangle (cr, 0, layout->rows_y + rows_h, layout->width, 1);
  cairo_fill (cr);

  if (self->style.legend && layout->legend_height > 0)
    {
      cairo_save (cr);
      cairo_translate (cr, 0, layout->legend_y);
      strata_render_painter_paint_legend (self, cr, model, highlight, layout->width);
      cairo_restore (cr);
    }
  cairo_restore (cr);
}
