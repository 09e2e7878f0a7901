"""The pure parts of `make capacity` (bench/capacity/): the capacity read off a table of steps, the steps
cut from Locust's samples, and the chart. No load is run here."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bench.capacity.curve import Step, capacity, chart_svg, step_from_samples
from bench.capacity.run import curve_steps, sign_in_capacity, wave_steps, write_section

SVG = "{http://www.w3.org/2000/svg}"


def step(users: int, p95: float, errors: int = 0, requests: int = 100) -> Step:
    return Step(
        users=users, requests=requests, errors=errors, rps=users / 20, p50_ms=p95 / 3, p95_ms=p95, p99_ms=p95
    )


def test_capacity_is_the_largest_step_with_p95_within_250_ms_and_no_errors() -> None:
    steps = [step(1000, 40), step(250, 20), step(2000, 250), step(3000, 251), step(500, 30)]
    best = capacity(steps)
    assert best is not None and best.users == 2000  # 250 ms is "at or under"; the order of rows is free


def test_an_error_or_a_missed_step_ends_the_search() -> None:
    assert capacity([step(100, 20), step(200, 30, errors=1), step(300, 40)]) == step(100, 20)
    assert capacity([step(100, 20), step(200, 900), step(300, 40)]) == step(100, 20)  # no luck past the knee
    assert capacity([step(100, 300)]) is None
    assert capacity([step(100, 20, requests=0)]) is None  # nothing measured is nothing served
    assert capacity([]) is None


def test_a_step_from_samples() -> None:
    samples = [(float(ms), False) for ms in range(1, 101)] + [(500.0, True)]
    row = step_from_samples(40, 10.0, samples)
    assert (row.users, row.requests, row.errors, row.rps) == (40, 101, 1, 10.1)
    assert row.p50_ms == 51 and row.p95_ms == 96 and row.p99_ms == 100


def test_steps_are_measured_after_their_users_are_spawned_and_leave_sign_ins_out() -> None:
    start = 1_000_000.0

    def sample(
        at: float, name: str = "dashboard", ms: float = 10.0, failed: bool = False
    ) -> dict[str, object]:
        return {"t": start + at, "name": name, "ms": ms, "failed": failed, "status": 200}

    samples = [
        sample(0.0),  # the first request marks the start
        sample(3.0, ms=500.0),  # step 1 spawns 20 users at 10/s: 2 s + 2 s settling, so not measured
        sample(5.0),
        sample(6.0, name="sign in", ms=900.0, failed=True),  # sign-ins are the wave's business
        sample(12.0, ms=20.0),  # step 2 spawns 20 more: measured from 14 s
        sample(15.0, ms=30.0),
    ]
    rows = curve_steps(samples, [20, 40], 10.0, 10.0, settle=2.0)
    assert [(r.users, r.requests, r.errors, r.p95_ms) for r in rows] == [(20, 1, 0, 10.0), (40, 1, 0, 30.0)]


def test_the_sign_in_wave_counts_shed_and_passed_sign_ins_per_step() -> None:
    start = 2_000_000.0

    def sample(at: float, name: str, status: int, ms: float = 100.0) -> dict[str, object]:
        return {"t": start + at, "name": name, "ms": ms, "failed": status >= 400, "status": status}

    samples = [sample(0.0, "sign in", 302)]  # the readers sign in during the first 10 s
    samples += [sample(13.0 + n / 10, "wave sign in", 302, 200.0) for n in range(40)]  # 5/s offered, 8 s
    samples += [sample(23.0 + n / 10, "wave sign in", 302 if n % 2 else 503) for n in range(40)]
    samples += [sample(24.0, "reader page", 200, 30.0)]
    rows = wave_steps(samples, [5, 10], 10.0)
    assert rows[0] | {} == {"offered": 5, "achieved": 5.0, "p95_ms": 200, "shed": 0, "failed": 0,
                            "reader_p95_ms": 0, "reader_errors": 0}  # fmt: skip
    assert rows[1]["shed"] == 20 and rows[1]["reader_p95_ms"] == 30
    assert sign_in_capacity(rows) == rows[0]  # the second step shed sign-ins


def test_the_chart_is_an_svg_with_the_curve_the_target_and_the_capacity(tmp_path: object) -> None:
    steps = [step(250, 30), step(500, 60), step(1000, 240), step(1500, 800, errors=3)]
    svg = chart_svg(steps, title="Capacity <test>")
    root = ET.fromstring(svg)  # noqa: S314 — our own chart: well-formed XML, the title escaped
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Capacity <test>"  # type: ignore[union-attr]
    assert "1000 users served" in root.find(f"{SVG}desc").text  # type: ignore[union-attr, operator]
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2  # p95 and throughput
    assert all(len(line.get("points", "").split()) == 4 for line in lines)
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "p95 target 250 ms" in labels and "1500" in labels
    reds = [c for c in root.iter(f"{SVG}circle") if c.get("fill") == "#b00020"]
    assert len(reds) == 1  # the step that missed
    assert ET.fromstring(chart_svg([], title="empty")).tag == f"{SVG}svg"  # noqa: S314


def test_the_section_replaces_its_own_markers_only(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "performance.md"
    path.write_text(
        "# Performance\n\n<!-- capacity-sqlite:start -->\nold\n<!-- capacity-sqlite:end -->\nafter\n"
    )
    write_section(path, "sqlite", "new\n")
    write_section(path, "postgresql", "pg\n")
    text = path.read_text()
    assert (
        "old" not in text
        and "<!-- capacity-sqlite:start -->\nnew\n<!-- capacity-sqlite:end -->\nafter" in text
    )
    assert text.endswith("<!-- capacity-postgresql:start -->\npg\n<!-- capacity-postgresql:end -->\n")
