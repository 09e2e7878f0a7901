"""The pure parts of `make capacity` (bench/capacity/): the capacity read off a table of steps, the steps
cut from Locust's samples, and the chart. No load is run here."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bench.capacity.cpu import (
    TICKS,
    ProcessTimes,
    Sample,
    busy_between,
    named_seconds,
    parse_stat,
    tree_seconds,
)
from bench.capacity.curve import Step, capacity, chart_svg, step_from_samples
from bench.capacity.run import curve_steps, sign_in_capacity, step_table, wave_steps, write_section

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


def test_a_proc_stat_line_gives_own_and_reaped_cpu_even_with_an_odd_name() -> None:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime ...
    line = "4242 (gunicorn: (w) 1) S 4200 4200 4200 0 -1 4194560 10 0 0 0 150 50 300 100 20 0 1 0"
    process = parse_stat(line)
    assert (process.pid, process.ppid, process.name) == (4242, 4200, "gunicorn: (w) 1")
    assert process.own == 200 / TICKS and process.reaped == 400 / TICKS


def test_a_server_tree_counts_its_living_workers_and_what_it_reaped_but_not_strangers() -> None:
    processes = [
        ProcessTimes(10, 1, "python", own=1.0, reaped=5.0),  # the master; 5 s from workers already gone
        ProcessTimes(11, 10, "python", own=2.0, reaped=0.0),
        ProcessTimes(12, 10, "python", own=3.0, reaped=0.0),
        ProcessTimes(20, 1, "postgres", own=7.0, reaped=4.0),  # a postmaster with its finished backends
        ProcessTimes(21, 20, "postgres", own=1.5, reaped=0.0),
        ProcessTimes(30, 1, "redis-server", own=0.5, reaped=0.0),
    ]
    assert tree_seconds(processes, 10) == 11.0
    assert tree_seconds(processes, 99) == 0.0  # gone: nothing, not an error
    assert named_seconds(processes, ("postgres", "redis-server")) == 13.0


def test_a_step_gets_its_cpu_per_second_and_per_request_from_the_samples_inside_it() -> None:
    start = 1_000_000.0
    samples = [{"t": start + at, "name": name, "ms": 5.0, "failed": False, "status": 200}
               for at, name in [(0.0, "dashboard"), (5.0, "dashboard"), (6.0, "sign in"),
                                (7.0, "lesson page"), (8.0, "dashboard")]]  # fmt: skip
    # 0.5 s of server CPU per second, measured from 4 s to 10 s, 0.1 s of the database's
    cpu = [Sample(start + at, server=0.5 * at, database=0.1 * at) for at in range(0, 11)]
    (row,) = curve_steps(samples, [20], 10.0, 10.0, settle=2.0, cpu=cpu)
    assert row.requests == 3  # the sign-in is left out of the response times ...
    assert row.server_busy == 0.5 and row.database_busy == 0.1
    assert row.cpu_ms == round(0.5 * 6 * 1000 / 4, 2)  # ... but not out of the CPU it cost: 4 requests in 6 s
    assert busy_between(cpu, start + 20, start + 30) is None  # no samples: no figure rather than a wrong one
    (bare,) = curve_steps(samples, [20], 10.0, 10.0, settle=2.0)
    assert bare.cpu_ms is None


def test_the_step_table_shows_cpu_columns_only_when_measured() -> None:
    measured = Step(users=500, requests=900, errors=0, rps=10.0, p50_ms=9, p95_ms=30, p99_ms=50,
                    server_busy=0.62, cpu_ms=5.14, database_busy=0.03)  # fmt: skip
    head, _, row = step_table([measured], "postgresql")
    assert "server CPU ms/request" in head and "PostgreSQL + Redis CPU" in head
    assert row.endswith("| 62% | 5.1 | 3% |")
    assert "server core busy" not in step_table([step(100, 20)], "sqlite")[0]
