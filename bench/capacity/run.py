"""`make capacity`: how many active users one server core carries (docs/performance.md, "Issue 22: capacity").

    python -m bench.capacity.run --instance instance/capacity-L [--db postgresql --database-url ...] [--quick]

1. Accounts (bench/capacity/prepare.py): the first N trainees of data set L join the real course.
2. gunicorn (2 sync workers, lms.ops.gunicorn_conf) pinned to core 0 with `taskset -c 0`; Locust pinned
   to core 1 (`taskset -c 1`), headless, so the load generator never takes the server's CPU.
3. The curve: steps of simulated users (bench/capacity/locustfile.py), the first held twice (a warm-up);
   each step is measured once all its users run; the capacity is the largest step with p95 <= 250 ms
   and no errors (bench/capacity/curve.py).
4. The sign-in wave: readers stay signed in while steps of sign-ins per second arrive; the result is the
   largest rate whose sign-ins all succeeded with p95 under 1 s, and the readers' p95 beside it.
5. Writes docs/capacity-<db>.svg and the section between the capacity markers of docs/performance.md
   (or --output), with the machine and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.capacity.cpu import Sample, Sampler, busy_between
from bench.capacity.curve import P95_TARGET_MS, Step, capacity, chart_svg, percentile, step_from_samples
from bench.runner import machine

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
SIGN_IN_NAMES = {"sign in", "sign-in form"}
SIGN_IN_P95_TARGET_MS = 1000.0
SERVER_CORE, LOAD_CORE = "0", "1"
# Whose CPU the database column counts: PostgreSQL's processes and Redis (rate limits, the report cache).
WORKERS = 2  # sync workers on the one server core (measured: docs/performance.md, "Issue 22: capacity")
DATABASE_PROCESSES = {"sqlite": ("redis-server",), "postgresql": ("postgres", "redis-server")}

FULL = {"steps": "500,1000,1500,2000,2500,3000,3500,4000", "step_seconds": 90, "spawn_rate": 12,
        "signin_steps": "5,10,15,20,25,30", "signin_seconds": 20}  # fmt: skip
QUICK = {"steps": "20,40,60", "step_seconds": 15, "spawn_rate": 10,
         "signin_steps": "5,10", "signin_seconds": 10}  # fmt: skip


def pinned(core: str, command: list[str]) -> list[str]:
    """``taskset -c core command`` where taskset exists and the machine has that core, else as is."""
    if shutil.which("taskset") and len(os.sched_getaffinity(0)) > int(core):
        return ["taskset", "-c", core, *command]
    return command


def load_average() -> float:
    return round(os.getloadavg()[0], 1)


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(
        os.environ,
        LMS_INSTANCE_PATH=str(args.instance),
        LMS_SERVER_BIND=f"127.0.0.1:{args.port}",
        LMS_SERVER_WORKERS=str(args.workers),
        LMS_SERVER_ACCESS_LOG="",
        LMS_SERVER_MAX_REQUESTS="0",
        LMS_LOGIN_LIMIT_PER_IP="1000000",  # every simulated person signs in from 127.0.0.1
        LMS_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS="1000000",
        LMS_PUBLIC_BASE_URL="https://academy.example.org",
        LMS_REDIS_URL=args.redis_url,
        LMS_REDIS_KEY_PREFIX=f"capacity-{args.db}:",
    )
    if args.database_url:
        env["LMS_SQLALCHEMY_DATABASE_URI"] = args.database_url
    return env


def start_server(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    log = (args.instance / "capacity-gunicorn.log").open("wb")
    command = [sys.executable, "-m", "gunicorn", "--config", "python:lms.ops.gunicorn_conf",
               "--workers", str(args.workers), "lms:create_app()"]  # fmt: skip
    server = subprocess.Popen(  # noqa: S603 — our own interpreter and arguments
        pinned(SERVER_CORE, command), cwd=PROJECT_ROOT, env=server_environment(args), stdout=log, stderr=log
    )
    for _ in range(240):
        time.sleep(0.5)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/login", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            if server.poll() is not None:
                break
    server.terminate()
    raise RuntimeError(f"gunicorn did not start; see {args.instance / 'capacity-gunicorn.log'}")


def run_locust(args: argparse.Namespace, mode: str, steps: str, seconds: float, classes: list[str]) -> Path:
    samples = args.instance / f"capacity-{args.db}-{mode}.jsonl"
    env = dict(
        os.environ,
        CAPACITY_MODE=mode,
        CAPACITY_STEPS=steps,
        CAPACITY_STEP_SECONDS=str(seconds),
        CAPACITY_SPAWN_RATE=str(args.spawn_rate),
        CAPACITY_READERS=str(args.readers),
        CAPACITY_THINK_SCALE=str(args.think_scale),
        CAPACITY_MANIFEST=str(args.instance / "capacity.json"),
        CAPACITY_SAMPLES=str(samples),
    )
    command = [str(Path(sys.executable).with_name("locust")), "-f", str(LOCUSTFILE), "--headless",
               "--host", f"http://127.0.0.1:{args.port}", "--loglevel", "WARNING", "--only-summary",
               "--exit-code-on-error", "0", *classes]  # fmt: skip
    started = time.time()
    subprocess.run(pinned(LOAD_CORE, command), cwd=PROJECT_ROOT, env=env, check=True)  # noqa: S603
    (args.instance / f"capacity-{args.db}-{mode}.start").write_text(str(started))
    return samples


def read_samples(path: Path) -> list[dict[str, Any]]:
    with path.open() as lines:
        return [json.loads(line) for line in lines if line.strip()]


def step_windows(
    samples: Sequence[dict[str, Any]],
    users: Sequence[int],
    step_seconds: float,
    spawn_rate: float,
    settle: float = 8.0,
) -> list[tuple[float, float]]:
    """Each step from the moment its last user was spawned (plus ``settle`` seconds: sign-ins shed during
    the spawn come back after their Retry-After) to its end."""
    if not samples:
        return []
    start = min(s["t"] - s["ms"] / 1000 for s in samples)
    windows, before = [], 0
    for index, count in enumerate(users):
        begin = start + index * step_seconds + max(0, count - before) / spawn_rate + settle
        windows.append((begin, start + (index + 1) * step_seconds))
        before = count
    return windows


def curve_steps(
    samples: Sequence[dict[str, Any]],
    users: Sequence[int],
    step_seconds: float,
    spawn_rate: float,
    settle: float = 8.0,
    cpu: Sequence[Sample] = (),
) -> list[Step]:
    """One row per step, sign-ins left out of the response times (they are the wave's measure) but not
    out of the CPU per request (they cost the server as much as anything)."""
    steps = []
    windows = step_windows(samples, users, step_seconds, spawn_rate, settle)
    for count, (begin, end) in zip(users, windows, strict=False):
        inside = [s for s in samples if begin <= s["t"] < end]
        window = [(s["ms"], bool(s["failed"])) for s in inside if s["name"] not in SIGN_IN_NAMES]
        step = step_from_samples(count, max(0.1, end - begin), window)
        busy = busy_between(cpu, begin, end)
        if busy and inside:
            server, database = busy
            cpu_ms = server * (end - begin) * 1000 / len(inside)
            step = replace(step, server_busy=round(server, 3), cpu_ms=round(cpu_ms, 2),
                           database_busy=round(database, 3))  # fmt: skip
        steps.append(step)
    return steps


def wave_steps(
    samples: Sequence[dict[str, Any]], rates: Sequence[int], seconds: float
) -> list[dict[str, Any]]:
    """Per step of the wave: sign-ins per second that succeeded, their p95, how many were shed (503) or
    failed otherwise, and the signed-in readers' p95 and errors meanwhile."""
    if not samples:
        return []
    start = min(s["t"] - s["ms"] / 1000 for s in samples) + seconds  # after the readers' own sign-ins
    rows = []
    for index, rate in enumerate(rates):
        begin, end = start + index * seconds + 2, start + (index + 1) * seconds
        inside = [s for s in samples if begin <= s["t"] < end]
        signins = [s for s in inside if s["name"] == "wave sign in"]
        passed = [s["ms"] for s in signins if s["status"] == 302]
        readers = [s for s in inside if s["name"] == "reader page"]
        rows.append({
            "offered": rate, "achieved": round(len(passed) / (end - begin), 1),
            "p95_ms": round(percentile(passed, 0.95)), "shed": sum(1 for s in signins if s["status"] == 503),
            "failed": sum(1 for s in signins if s["status"] not in (302, 503)),
            "reader_p95_ms": round(percentile([s["ms"] for s in readers], 0.95)),
            "reader_errors": sum(1 for s in readers if s["failed"]),
        })  # fmt: skip
    return rows


def sign_in_capacity(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The largest achieved rate whose sign-ins all succeeded (none shed) with p95 under 1 s."""
    good = [
        r for r in rows if r["shed"] == 0 and r["failed"] == 0 and 0 < r["p95_ms"] < SIGN_IN_P95_TARGET_MS
    ]
    return max(good, key=lambda r: r["achieved"], default=None)


def step_table(steps: Sequence[Step], db: str) -> list[str]:
    """The curve's rows; with the CPU columns when /proc was read (bench/capacity/cpu.py)."""
    database = "PostgreSQL + Redis" if db == "postgresql" else "Redis"
    with_cpu = any(s.cpu_ms is not None for s in steps)
    head = "| users | requests | req/s | p50 ms | p95 ms | p99 ms | errors |"
    rule = "|---:|---:|---:|---:|---:|---:|---:|"
    if with_cpu:
        head += f" server core busy | server CPU ms/request | {database} CPU |"
        rule += "---:|---:|---:|"
    rows = [head, rule]
    for s in steps:
        row = f"| {s.users} | {s.requests} | {s.rps:.1f} | {s.p50_ms:.0f} | {s.p95_ms:.0f} | {s.p99_ms:.0f} "
        row += f"| {s.errors} |"
        if with_cpu:
            row += (f" {s.server_busy:.0%} | {s.cpu_ms:.1f} | {s.database_busy:.0%} |" if s.cpu_ms is not None
                    else " - | - | - |")  # fmt: skip
        rows.append(row)
    return rows


def section(args: argparse.Namespace, result: dict[str, Any]) -> str:
    best, steps = result["capacity"], [Step(**s) for s in result["steps"]]
    lines = [
        f"**{args.db}{' + Redis' if args.redis_url else ''}** — {result['when']}, {result['machine']}; "
        f"{'quick' if args.quick else 'full'} run, steps of {result['step_seconds']:.0f} s; "
        f"load average {result['load_before']} before, {result['load_after']} after (other processes on the "
        f"machine count too). Server: gunicorn, {args.workers} sync workers on core 0; Locust on core 1.",
        "",
        f"Capacity: **{best['users'] if best else 0} active users per server core** "
        f"(largest step with p95 ≤ {P95_TARGET_MS:.0f} ms and no errors"
        + (f"; p95 {best['p95_ms']:.0f} ms, {best['rps']:.1f} req/s" if best else "") + ").",
        "",
        f"![capacity curve, {args.db}]({result['chart']})",
        "",
        *step_table(steps, args.db),
    ]  # fmt: skip
    if result.get("wave"):
        wave = result["sign_in_capacity"]
        lines += [
            "",
            f"Sign-in wave ({args.readers} signed-in readers meanwhile): "
            + (f"**{wave['achieved']} sign-ins per second** at p95 {wave['p95_ms']} ms on one core"
               if wave else "no step met p95 < 1 s with every sign-in through") + ".",
            "",
            "| offered/s | signed in/s | p95 ms | shed (503) | failed | readers' p95 ms | readers' errors |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            *(f"| {r['offered']} | {r['achieved']} | {r['p95_ms']} | {r['shed']} | {r['failed']} | "
              f"{r['reader_p95_ms']} | {r['reader_errors']} |" for r in result["wave"]),
        ]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_section(path: Path, db: str, text: str) -> None:
    start, end = f"<!-- capacity-{db}:start -->", f"<!-- capacity-{db}:end -->"
    document = path.read_text() if path.exists() else ""
    block = f"{start}\n{text}{end}"
    if start in document and end in document:
        before, rest = document.split(start, 1)
        document = before + block + rest.split(end, 1)[1]
    else:
        document = document.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(document)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default="", help="PostgreSQL: e.g. postgresql+psycopg://...")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8", help="'' to run without Redis")
    parser.add_argument("--quick", action="store_true", help="about a minute: proves the tooling")
    parser.add_argument("--steps", help="users per step, comma-separated")
    parser.add_argument("--step-seconds", type=float)
    parser.add_argument("--spawn-rate", type=float)
    parser.add_argument("--signin-steps", help="sign-ins per second per step ('' skips the wave)")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument(
        "--think-scale", type=float, default=1.0, help="x think times (a smoke test of the flow)"
    )
    parser.add_argument("--workers", type=int, default=WORKERS, help="sync workers on the server core")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "docs" / "performance.md")
    args = parser.parse_args()
    preset = QUICK if args.quick else FULL
    args.steps = args.steps or preset["steps"]
    args.step_seconds = args.step_seconds or preset["step_seconds"]
    args.spawn_rate = args.spawn_rate or preset["spawn_rate"]
    args.signin_steps = preset["signin_steps"] if args.signin_steps is None else args.signin_steps
    args.signin_seconds = preset["signin_seconds"]
    args.instance = args.instance.resolve()
    return args


def main() -> None:
    args = arguments()
    users = [int(v) for v in args.steps.split(",")]
    rates = [int(v) for v in args.signin_steps.split(",") if v.strip()]
    accounts = max(users) + args.readers + max([0, *rates]) * args.signin_seconds + 10
    env = server_environment(args)
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.capacity.prepare", "--accounts", str(accounts)],
        cwd=PROJECT_ROOT, env=env, check=True,
    )  # fmt: skip
    load_before = load_average()
    server = start_server(args)
    try:
        # The first step is held twice; the first time is the warm-up (the workers' first pages build
        # the course snapshots and the statement caches, and the users of the first spawn sign in).
        warm = ",".join(str(n) for n in [users[0], *users])
        with Sampler(server.pid, DATABASE_PROCESSES[args.db]) as cpu:
            samples = read_samples(run_locust(args, "curve", warm, args.step_seconds,
                                              ["Trainee", "FocalPoint", "Admin"]))  # fmt: skip
        steps = curve_steps(samples, [users[0], *users], args.step_seconds, args.spawn_rate, cpu=cpu.samples)[
            1:
        ]
        wave: list[dict[str, Any]] = []
        if rates:
            wave_samples = read_samples(
                run_locust(args, "signin", args.signin_steps, args.signin_seconds, ["Reader", "SignIn"])
            )
            wave = wave_steps(wave_samples, rates, args.signin_seconds)
    finally:
        server.terminate()
        server.wait(30)
    best = capacity(steps)
    chart_name = f"capacity-{args.db}.svg"
    title = f"Active users on one server core, {args.db} (p95 and throughput per step)"
    (args.output.parent / chart_name).write_text(chart_svg(steps, title=title))
    result = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine().replace("SQLite (WAL)", "PostgreSQL" if args.db == "postgresql" else "SQLite"),
        "load_before": load_before, "load_after": load_average(), "step_seconds": args.step_seconds,
        "steps": [s.as_dict() for s in steps], "capacity": best.as_dict() if best else None,
        "wave": wave, "sign_in_capacity": sign_in_capacity(wave), "chart": chart_name,
    }  # fmt: skip
    (args.instance / f"capacity-{args.db}.json").write_text(json.dumps(result, indent=1))
    write_section(args.output, args.db, section(args, result))
    print(section(args, result))


if __name__ == "__main__":
    main()
