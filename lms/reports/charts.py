"""Charts drawn on the server as SVG: no script, no CDN, readable without colour.

Each bar carries its number as a direct label, bars of different categories are told apart by a fill
pattern (stripes, dots, cross-hatch) as well as by shade, and every chart has a <title> and <desc> for
screen readers. The page puts the same numbers in a table beside each chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Dark enough on white (WCAG non-text contrast >= 3:1) and each with its own pattern.
PATTERNS = (
    ("solid", "#1f4e79", ""),
    ("stripes", "#2e6b30", '<path d="M0,8 L8,0" stroke="#fff" stroke-width="2"/>'),
    ("dots", "#7a3b00", '<circle cx="4" cy="4" r="1.6" fill="#fff"/>'),
    ("cross", "#5b2a86", '<path d="M0,0 L8,8 M8,0 L0,8" stroke="#fff" stroke-width="1.2"/>'),
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # what the bar's length is drawn from (0 when hidden)
    text: str  # the direct label: the number, or "<5" when suppressed


def _defs(prefix: str) -> str:
    parts = []
    for name, colour, overlay in PATTERNS:
        parts.append(
            f'<pattern id="{prefix}-{name}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="{colour}"/>{overlay}</pattern>'
        )
    return "<defs>" + "".join(parts) + "</defs>"


# Drawn 400 units wide and shown no wider than 30rem (app.css, "svg.chart"): on a phone (~330 px of room)
# the 14-unit labels still come out at ~11.5 px, on a desktop at ~17 px. A 640-unit drawing shrank them to
# ~5-7 px on a phone. The width cap lives in the stylesheet: an inline style="max-width" is refused by the
# app's own Content-Security-Policy (style-src 'self').
WIDTH = 400
FONT = 14


def _open(prefix: str, width: int, height: int, title: str, desc: str) -> str:
    return (
        # direction="ltr": the charts are drawn left to right; inheriting a right-to-left page's direction
        # would turn text-anchor="end" around and put the labels under the bars.
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'direction="ltr" width="100%" role="img" aria-labelledby="{prefix}-title {prefix}-desc">'
        f'<title id="{prefix}-title">{escape(title)}</title><desc id="{prefix}-desc">{escape(desc)}</desc>'
        + _defs(prefix)
    )


def horizontal_bars(
    prefix: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    maximum: float | None = None,
    patterned: bool = False,
) -> Markup:
    """One bar per category with its label above it (room for long names at any width) and its number
    written at the bar's end."""
    row, number_room, left = 44, 62, 2  # room for a bold "100.0%" after a full bar
    plot = WIDTH - left - number_room
    height = max(row * len(bars) + 8, 40)
    top = maximum if maximum is not None else max((b.value for b in bars), default=0) or 1
    parts = [_open(prefix, WIDTH, height, title, desc)]
    if not bars:
        parts.append(f'<text x="10" y="24" font-size="{FONT}">{escape("—")}</text>')
    for index, bar in enumerate(bars):
        y = 4 + index * row
        length = 0 if top <= 0 else max(0.0, min(1.0, bar.value / top)) * plot
        name = PATTERNS[index % len(PATTERNS)][0] if patterned else "solid"
        parts.append(
            f'<text x="{left}" y="{y + 14}" font-size="{FONT}">{escape(_clip(bar.label, 44))}</text>'
            f'<rect x="{left}" y="{y + 19}" width="{length:.1f}" height="18" '
            f'fill="url(#{prefix}-{name})" stroke="#111" stroke-width="0.6"/>'
            f'<text x="{left + length + 6:.1f}" y="{y + 33}" font-size="{FONT}" font-weight="600">'
            f"{escape(bar.text)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it went through escape()


def column_chart(prefix: str, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Columns over time (months), each with its number on top while they fit; at most five axis labels."""
    width, height, left, bottom, top_room = WIDTH, 230, 8, 30, 22
    plot_w, plot_h = width - left - 8, height - bottom - top_room
    parts = [_open(prefix, width, height, title, desc)]
    if not bars:
        parts.append(f'<text x="10" y="24" font-size="{FONT}">{escape("—")}</text></svg>')
        return Markup("".join(parts))  # noqa: S704 — every text in it went through escape()
    top = max((b.value for b in bars), default=0) or 1
    slot = plot_w / len(bars)
    bar_w = max(2.0, min(40.0, slot * 0.7))
    every = max(1, -(-len(bars) // 5))  # a "2026-03" label takes ~60 units at this size: five fit
    for index, bar in enumerate(bars):
        h = max(0.0, bar.value / top) * plot_h
        x = left + index * slot + (slot - bar_w) / 2
        y = top_room + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="url(#{prefix}-stripes)" stroke="#111" stroke-width="0.6"/>'
        )
        if len(bars) <= 12 or index % every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="{FONT}">'
                f"{escape(bar.text)}</text>"
            )
        if index % every == 0:
            centre = min(max(x + bar_w / 2, 32.0), width - 32.0)  # a label is ~60 units: keep it inside
            parts.append(
                f'<text x="{centre:.1f}" y="{height - bottom + 18}" text-anchor="middle" '
                f'font-size="{FONT}">{escape(bar.label)}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top_room + plot_h}" x2="{width - 8}" y2="{top_room + plot_h}" '
        'stroke="#111" stroke-width="1"/></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 — every text in it went through escape()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
