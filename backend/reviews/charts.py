"""Server-drawn SVG bar charts for the supervisors' dashboard (pure: text in, text out).

One horizontal bar per category (village) and series, so long Chinese village names stay
readable; a labelled value at the end of every bar, so the chart needs no colour to be read;
``<title>`` and ``<desc>`` named by ``aria-labelledby`` for screen readers. No script, no
external font or stylesheet, no link: the system sans-serif font and presentation attributes
only, so the file is safe to show from a blob: URL under the app's Content-Security-Policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

# Okabe–Ito: distinguishable with every common colour-vision deficiency; each has 3:1 or more
# against white.
PALETTE = ("#0072B2", "#D55E00", "#CC79A7", "#009E73")
WIDTH = 760
LABEL_WIDTH = 190
VALUE_WIDTH = 70
BAR_HEIGHT = 16
BAR_GAP = 4
GROUP_GAP = 12
TOP = 64
AXIS_HEIGHT = 28


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above ``value`` (an axis end); 1 for 0."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude + 1e-12:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover (the loop ends at 10)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "percent":
        return f"{value * 100:.1f}%"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _text(x: float, y: float, content: str, anchor: str = "start", size: int = 12,
          weight: str = "normal", fill: str = "#1a1a1a") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" '
            f'text-anchor="{anchor}" fill="{fill}">{escape(content)}</text>')


def bar_chart(title: str, description: str, categories: Sequence[str],
              series: Sequence[Series], unit: str = "number", no_data: str = "No data",
              language: str = "en") -> str:
    """A horizontal grouped bar chart as an SVG document.

    ``unit`` "percent" reads values as shares (0..1) and draws the axis to 100 %; "number"
    draws it to a round ceiling of the largest value; "count" (cases, visits) to a
    multiple of 4, so each quarter tick is a whole number (never 0.2 / 0.5 / 0.8). A missing
    value (None) draws no bar and is labelled "–".
    """
    values = [v for s in series for v in s.values if v is not None]
    top_value = 1.0 if unit == "percent" else nice_ceiling(max(values, default=0.0))
    if unit == "count":  # whole things (cases): every quarter tick a whole number
        top_value = float(max(4, math.ceil(max(values, default=0.0) / 4) * 4))
    plot_left = LABEL_WIDTH
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    group_height = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP + GROUP_GAP
    legend = len(series) > 1
    first_row = TOP + (22 if legend else 0)
    body_height = max(len(categories), 1) * group_height
    height = first_row + body_height + AXIS_HEIGHT + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title chart-desc" '
        f'lang={quoteattr(language)} font-family="sans-serif">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(16, 28, title, size=16, weight="bold"),
        _text(16, 48, description, size=12, fill="#444444"),
    ]
    if legend:
        legend_x = plot_left
        for index, s in enumerate(series):
            colour = PALETTE[index % len(PALETTE)]
            parts.append(f'<rect x="{legend_x}" y="{TOP + 4}" width="12" height="12" '
                         f'fill="{colour}"/>')
            parts.append(_text(legend_x + 16, TOP + 14, s.name))
            legend_x += 24 + 9 * len(s.name) + 24
    if not categories:
        parts.append(_text(WIDTH / 2, first_row + group_height / 2, no_data, anchor="middle",
                           size=14, fill="#444444"))
    # Grid lines and axis ticks at 0, ¼, ½, ¾ and the top.
    axis_y = first_row + body_height
    for quarter in range(5):
        x = plot_left + plot_width * quarter / 4
        parts.append(f'<line x1="{x:.1f}" y1="{first_row - 4}" x2="{x:.1f}" y2="{axis_y}" '
                     f'stroke="#d0d0d0" stroke-width="1"/>')
        parts.append(_text(x, axis_y + 16, format_value(top_value * quarter / 4, unit),
                           anchor="middle", size=11, fill="#444444"))
    for row, category in enumerate(categories):
        y0 = first_row + row * group_height
        label_y = y0 + (group_height - GROUP_GAP) / 2 + 4
        parts.append(_text(plot_left - 8, label_y, category, anchor="end"))
        for index, s in enumerate(series):
            value = s.values[row] if row < len(s.values) else None
            y = y0 + index * (BAR_HEIGHT + BAR_GAP)
            width = 0.0 if value is None else plot_width * min(max(value, 0.0), top_value) \
                / top_value
            shown = format_value(value, unit)
            colour = PALETTE[index % len(PALETTE)]
            parts.append(f'<rect x="{plot_left}" y="{y}" width="{width:.1f}" '
                         f'height="{BAR_HEIGHT}" fill="{colour}">'
                         f'<title>{escape(f"{category} · {s.name}: {shown}")}</title></rect>')
            parts.append(_text(plot_left + width + 4, y + BAR_HEIGHT - 4, shown, size=11))
    parts.append(f'<line x1="{plot_left}" y1="{first_row - 4}" x2="{plot_left}" '
                 f'y2="{axis_y}" stroke="#1a1a1a" stroke-width="1"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
