"""The capacity curve's pure parts: one row per load step, the largest step served within the target,
and the curve drawn as an SVG chart (server-side, no plotting library; the style of lms/reports/charts.py).
Tested without load by tests/test_capacity_tooling.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from html import escape
from typing import Any

P95_TARGET_MS = 250.0


@dataclass(frozen=True)
class Step:
    """One load step, measured once every simulated user of the step was running."""

    users: int
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    # From bench/capacity/cpu.py when /proc is there: the server's CPU seconds per second of the step (1.0 =
    # the whole core), its CPU milliseconds per request (sign-ins included), the database's and Redis's.
    server_busy: float | None = None
    cpu_ms: float | None = None
    database_busy: float | None = None

    def served(self, p95_target_ms: float = P95_TARGET_MS) -> bool:
        return self.requests > 0 and self.errors == 0 and self.p95_ms <= p95_target_ms

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (the same rule as bench/runner.py); 0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return float(ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))])


def step_from_samples(users: int, seconds: float, samples: Sequence[tuple[float, bool]]) -> Step:
    """A step from its (response time in ms, failed) samples over ``seconds`` of measurement."""
    times = [ms for ms, _ in samples]
    return Step(
        users=users,
        requests=len(samples),
        errors=sum(1 for _, failed in samples if failed),
        rps=len(samples) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(times, 0.50),
        p95_ms=percentile(times, 0.95),
        p99_ms=percentile(times, 0.99),
    )


def capacity(steps: Sequence[Step], p95_target_ms: float = P95_TARGET_MS) -> Step | None:
    """The largest number of users served with p95 at or under the target and no errors.

    Steps are taken in order of users; the first step that misses ends the search, so a lucky larger
    step after a failed one does not count (past the knee a server does not get better)."""
    best = None
    for step in sorted(steps, key=lambda s: s.users):
        if not step.served(p95_target_ms):
            break
        best = step
    return best


def _ticks(top: float, count: int = 4) -> list[float]:
    if top <= 0:
        return [0.0]
    raw = top / count
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top:  # up to the first tick at or above the top, so no point is cut off
        ticks.append(step * len(ticks))
    return ticks


def chart_svg(
    steps: Sequence[Step], *, title: str, p95_target_ms: float = P95_TARGET_MS, width: int = 640
) -> str:
    """Users (x) against p95 in ms (left axis, solid line) and requests per second (right axis, dashed),
    with the p95 target as a dotted line and the capacity marked. Plain SVG with a <title> and <desc>."""
    ordered = sorted(steps, key=lambda s: s.users)
    height, left, right, top, bottom = 320, 60, 60, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    max_users = max((s.users for s in ordered), default=1) or 1
    max_p95 = max([p95_target_ms * 1.2, *(s.p95_ms for s in ordered)])
    max_rps = max([1.0, *(s.rps for s in ordered)])
    p95_ticks, rps_ticks = _ticks(max_p95), _ticks(max_rps)
    max_p95, max_rps = max(max_p95, p95_ticks[-1]), max(max_rps, rps_ticks[-1])

    def x(users: float) -> float:
        return left + plot_w * users / max_users

    def y(value: float, top_value: float) -> float:
        return top + plot_h * (1 - min(value, top_value) / top_value)

    best = capacity(ordered, p95_target_ms)
    summary = (
        f"{best.users} users served with p95 {best.p95_ms:.0f} ms and no errors"
        if best
        else "no step met the target"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="capacity-title capacity-desc" '
        'font-family="sans-serif" font-size="12">',
        f'<title id="capacity-title">{escape(title)}</title>',
        f'<desc id="capacity-desc">{escape(summary)}; p95 target {p95_target_ms:.0f} ms.</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for value in p95_ticks:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value, max_p95):.1f}" '
            f'y2="{y(value, max_p95):.1f}" stroke="#e3e3e3"/>'
            f'<text x="{left - 6}" y="{y(value, max_p95) + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    for value in rps_ticks:
        parts.append(
            f'<text x="{left + plot_w + 6}" y="{y(value, max_rps) + 4:.1f}" fill="#8a4b00">{value:g}</text>'
        )
    for step in ordered:
        parts.append(
            f'<text x="{x(step.users):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{step.users}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(p95_target_ms, max_p95):.1f}" '
        f'y2="{y(p95_target_ms, max_p95):.1f}" stroke="#b00020" stroke-dasharray="2 3"/>'
        f'<text x="{left + 4}" y="{y(p95_target_ms, max_p95) - 4:.1f}" fill="#b00020">'
        f"p95 target {p95_target_ms:.0f} ms</text>"
    )
    if ordered:
        p95_points = " ".join(f"{x(s.users):.1f},{y(s.p95_ms, max_p95):.1f}" for s in ordered)
        rps_points = " ".join(f"{x(s.users):.1f},{y(s.rps, max_rps):.1f}" for s in ordered)
        parts.append(f'<polyline points="{p95_points}" fill="none" stroke="#1f4e9c" stroke-width="2"/>')
        parts.append(
            f'<polyline points="{rps_points}" fill="none" stroke="#8a4b00" stroke-width="2" '
            'stroke-dasharray="6 4"/>'
        )
        for s in ordered:
            colour = "#1f4e9c" if s.served(p95_target_ms) else "#b00020"
            parts.append(
                f'<circle cx="{x(s.users):.1f}" cy="{y(s.p95_ms, max_p95):.1f}" r="3.5" fill="{colour}"/>'
            )
    if best is not None:
        parts.append(
            f'<line x1="{x(best.users):.1f}" x2="{x(best.users):.1f}" y1="{top}" y2="{top + plot_h}" '
            'stroke="#2e7d32" stroke-dasharray="4 3"/>'
        )
    parts.extend(
        [
            f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>',
            f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>',
            f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">active users</text>',
            f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
            'text-anchor="middle" fill="#1f4e9c">p95 ms (solid)</text>',
            f'<text x="{width - 12}" y="{top + plot_h / 2}" '
            f'transform="rotate(90 {width - 12} {top + plot_h / 2})" '
            'text-anchor="middle" fill="#8a4b00">requests/s (dashed)</text>',
            "</svg>",
        ]
    )
    return "\n".join(parts) + "\n"
