"""The benchmark: `python -m bench.runner --instance instance/bench-L` (what `make bench` runs).

Starts the app under gunicorn (2 sync workers, BENCH_ROUTES on), then for each route runs a load
generator in other processes (one process per client, each signed in as its own account, a new
connection per request as with sync workers), and reports requests per second, p50/p95/p99 latency
and the ratio of each route's throughput to the floor (a route that does nothing). Writes the table
with the machine's description to docs/performance.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # get | uncached | complete | quiz
    account: str  # anonymous | trainee | trainer | focal | admin
    path: str
    clients: int
    warmup_seconds: float = 0.0  # time allowed for the untimed first request
    # Which of the manifest's trainee accounts the clients sign in as (from this position on). The quiz
    # clients leave hundreds of attempts behind; on accounts of their own they do not change what the
    # dashboard and lesson clients measure in the next run.
    first_trainee: int = 0


class Client:
    """One simulated person: a cookie jar and a fresh connection per request (sync workers close it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, keep_cookies: bool = True
    ) -> tuple[int, str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in (response.headers.get_all("Set-Cookie") or []) if keep_cookies else []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        connection.close()
        return response.status, response.headers.get("Location", ""), text

    def login(self, email: str, password: str) -> None:
        _, _, page = self.request("GET", "/login")
        token = CSRF.search(page)
        form = {"email": email, "password": password}
        if token:
            form["csrf_token"] = token.group(1)
        status, _, _ = self.request("POST", "/login", form)
        if status != 302:
            raise RuntimeError(f"login failed for {email}: {status}")

    def token(self, path: str) -> str:
        _, _, page = self.request("GET", path)
        match = CSRF.search(page)
        return match.group(1) if match else ""


def _worker(
    args: tuple[int, Scenario, dict[str, Any], int, float, float, Any],
) -> tuple[list[float], int, int]:
    port, scenario, manifest, index, start_at, duration, _ = args
    client = Client(port)
    accounts = {
        "trainee": manifest["trainees"][(scenario.first_trainee + index) % len(manifest["trainees"])],
        "trainer": manifest["trainer"],
        "focal": manifest["focal_point"],
        "admin": manifest["admin"],
    }
    if scenario.account != "anonymous":
        client.login(accounts[scenario.account], manifest["password"])
    slug = manifest["course_slug"]
    lessons = manifest["lesson_ids"]
    token = client.token(f"/courses/{slug}/lessons/{lessons[0]}") if scenario.kind != "get" else ""
    if scenario.kind == "get" and index == 0:
        client.request("GET", scenario.path)  # warm-up (not timed): fills the cache where there is one
    latencies: list[float] = []
    errors = locked = 0
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + duration
    n = index
    while time.time() < end:
        n += 1
        if scenario.kind == "quiz":  # start an attempt (not timed), then submit it (timed)
            status, location, _ = client.request(
                "POST", f"/courses/{slug}/quizzes/{manifest['quiz_slug']}/start", {"csrf_token": token}
            )
            path = urlsplit(location).path
            t0 = time.perf_counter()
            # Not kept, as for the lesson completion below: the "submitted" message would otherwise pile up
            # in the session cookie (a browser's next page removes it), a request slower with each one.
            status, _, text = client.request(
                "POST", path, {"csrf_token": token, "action": "submit"}, keep_cookies=False
            )
        elif scenario.kind == "complete":
            lesson = lessons[n % len(lessons)]
            t0 = time.perf_counter()
            # A browser follows the redirect, and the next page shows (and so removes) the "marked
            # complete" message; this client does not, so it keeps the session it had instead of one that
            # grows by a message per request (the session is the signed cookie: nothing else changes).
            status, _, text = client.request(
                "POST",
                f"/courses/{slug}/lessons/{lesson}/complete",
                {"csrf_token": token},
                keep_cookies=False,
            )
        elif scenario.kind == "uncached":  # a date filter never asked before: the shared cache misses
            day = date(2099, 1, 1) + timedelta(days=n * 97 + int(start_at) % 9973)
            t0 = time.perf_counter()
            status, _, text = client.request("GET", f"{scenario.path}?date_to={day.isoformat()}")
        else:
            t0 = time.perf_counter()
            status, _, text = client.request("GET", scenario.path)
        latencies.append(time.perf_counter() - t0)
        if status >= 400:
            errors += 1
            if "database is locked" in text:
                locked += 1
    return latencies, errors, locked


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_scenario(port: int, scenario: Scenario, manifest: dict[str, Any], duration: float) -> dict[str, Any]:
    # Every client signed in (and the warm-up request answered) before the clock starts.
    start_at = time.time() + 3.0 + 0.05 * scenario.clients + scenario.warmup_seconds
    with multiprocessing.get_context("fork").Pool(scenario.clients) as pool:
        results = pool.map(
            _worker,
            [(port, scenario, manifest, i, start_at, duration, None) for i in range(scenario.clients)],
        )
    latencies = [value for result in results for value in result[0]]
    requests = len(latencies) * (2 if scenario.kind == "quiz" else 1)
    return {
        "route": scenario.name,
        "clients": scenario.clients,
        "requests": len(latencies),
        "rps": requests / duration,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "errors": sum(r[1] for r in results),
        "locked": sum(r[2] for r in results),
    }


def scenarios(manifest: dict[str, Any]) -> list[Scenario]:
    slug, lesson = manifest["course_slug"], manifest["lesson_ids"][1]
    return [
        Scenario("floor (/bench/floor)", "get", "anonymous", "/bench/floor", 8),
        Scenario("trainee dashboard", "get", "trainee", "/dashboard", 8),
        Scenario("lesson page", "get", "trainee", f"/courses/{slug}/lessons/{lesson}", 8),
        Scenario("lesson completion (write)", "complete", "trainee", "", 8),
        Scenario("quiz submission (write)", "quiz", "trainee", "", 8, first_trainee=32),
        Scenario("trainer course report", "get", "trainer", f"/reports/runs/{manifest['report_run_id']}", 2),
        Scenario("focal point report", "get", "focal", "/reports/authority", 2),
        Scenario("admin indicator report (cached, Redis)", "get", "admin", "/reports/indicators", 1, 25.0),
        Scenario("admin indicator report (uncached)", "uncached", "admin", "/reports/indicators", 1),
    ]


def database() -> str:
    """The database the bench server uses (the same setting as the app's: LMS_SQLALCHEMY_DATABASE_URI)."""
    url = os.environ.get("LMS_SQLALCHEMY_DATABASE_URI", "")
    return "postgresql" if url.startswith("postgresql") else "sqlite"


DATABASE_NAMES = {"sqlite": "SQLite (WAL)", "postgresql": "PostgreSQL"}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} CPU ({cpu}){memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {DATABASE_NAMES[database()]}"
    )


def start_server(instance: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, LMS_INSTANCE_PATH=str(instance), LMS_BENCH_ROUTES="true",
               LMS_SERVER_BIND=f"127.0.0.1:{port}", LMS_SERVER_WORKERS="2", LMS_SERVER_ACCESS_LOG="",
               LMS_SERVER_MAX_REQUESTS="0", LMS_LOGIN_LIMIT_PER_IP="100000",
               LMS_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS="100000",
               # The clients sign in before the clock starts, all at once: no sign-in shedding (issue 22's
               # wave guard, measured by `make capacity`), or a loaded machine answers them 503.
               LMS_SIGN_IN_HASH_SLOTS="0",
               LMS_PUBLIC_BASE_URL="https://academy.example.org",  # as in production: issuing works
               LMS_REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))  # fmt: skip
    log = (instance / "gunicorn.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 — our own interpreter and fixed arguments
        [sys.executable, "-m", "gunicorn", "--config", "python:lms.ops.gunicorn_conf", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "lms:create_app()"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(300):
        try:
            status, _, _ = Client(port).request("GET", "/bench/floor")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.send_signal(signal.SIGTERM)
    raise RuntimeError(f"gunicorn did not start; see {instance / 'gunicorn.log'}")


def table(results: list[dict[str, Any]]) -> str:
    floor = results[0]["rps"] or 1.0
    lines = [
        "| route | clients | requests | req/s | ratio to floor | p50 ms | p95 ms | p99 ms | errors "
        "| db locked |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['route']} | {r['clients']} | {r['requests']} | {r['rps']:.0f} | {r['rps'] / floor:.2f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['errors']} | {r['locked']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instance", required=True, type=Path)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "docs" / "performance.md")
    parser.add_argument("--routes", default="", help="only the routes whose name contains this text")
    options = parser.parse_args()
    instance = options.instance.resolve()
    manifest = json.loads((instance / "bench.json").read_text())
    chosen = [s for s in scenarios(manifest) if options.routes in s.name or s.name.startswith("floor")]
    server = start_server(instance, options.port)
    load_before = os.getloadavg()
    try:
        results = [run_scenario(options.port, s, manifest, options.duration) for s in chosen]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    rendered = table(results)
    print(rendered)  # the benchmark's output
    load = f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
    print(load)
    write_report(options.output, rendered, manifest, options.duration, load, results)


def _markers(name: str) -> tuple[str, str]:
    """Each database's run has a block of its own (SQLite's keeps the markers it always had), and the
    "bench-both" block puts the last run of each side by side."""
    prefix = "bench" if name == "sqlite" else f"bench-{name}"
    return f"<!-- {prefix}:start -->", f"<!-- {prefix}:end -->"


def _replace_block(text: str, start: str, end: str, block: str) -> str:
    if start in text and end in text:
        before, rest = text.split(start, 1)
        return before + block + rest.split(end, 1)[1]
    return text.rstrip() + "\n\n" + block + "\n"


def _stored_results(text: str, name: str) -> dict[str, Any] | None:
    start, end = _markers(name)
    if start not in text or end not in text:
        return None
    found = re.search(r"<!-- results (\{.*?\}) -->", text.split(start, 1)[1].split(end, 1)[0])
    return json.loads(found.group(1)) if found else None


def side_by_side(text: str) -> str:
    """The last SQLite and PostgreSQL runs in one table: req/s, ratio to floor, p50 and p99 of each."""
    runs = {name: _stored_results(text, name) for name in DATABASE_NAMES}
    header = "| route |"
    rule = "|---|"
    for name, stored in runs.items():
        label = DATABASE_NAMES[name].split(" ")[0]
        when = f" ({stored['size']}, {stored['when']}, load {stored['load']})" if stored else ""
        header += f" {label}{when} req/s | ratio | p50 ms | p99 ms |"
        rule += "---:|---:|---:|---:|"
    routes: list[str] = []
    for stored in runs.values():
        routes += [r["route"] for r in (stored or {}).get("results", []) if r["route"] not in routes]
    lines = [header, rule]
    for route in routes:
        line = f"| {route} |"
        for stored in runs.values():
            rows = {r["route"]: r for r in (stored or {}).get("results", [])}
            floor = rows.get(next(iter(rows), ""), {}).get("rps") or 1.0
            row = rows.get(route)
            line += (
                f" {row['rps']:.0f} | {row['rps'] / floor:.2f} | {row['p50']:.1f} | {row['p99']:.1f} |"
                if row
                else " – | – | – | – |"
            )
        lines.append(line)
    return "\n".join(lines)


def write_report(
    path: Path,
    rendered: str,
    manifest: dict[str, Any],
    duration: float,
    load: str,
    results: list[dict[str, Any]] | None = None,
) -> None:
    counts = manifest["counts"]
    text = path.read_text() if path.exists() else ""
    marker_start, marker_end = _markers(database())
    stored = {"size": manifest["size"], "when": f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
              "load": load.split("average ", 1)[-1].split(" (", 1)[0], "results": results or []}  # fmt: skip
    block = (
        f"{marker_start}\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine()}; {load} (1-minute; other "
        f"processes on the machine count too).\n\n"
        f"Data set **{manifest['size']}**: {counts['trainees']:,} trainees, {counts['runs']:,} runs, "
        f"{counts['enrolments']:,} enrolments, {counts['completions']:,} lesson completions, "
        f"{counts['attempts']:,} quiz attempts, {counts['certificates']:,} certificates, "
        # an instance generated before sessions existed (issue 20) has none
        f"{counts.get('sessions', 0):,} training sessions, {counts.get('attendance', 0):,} attendance lines "
        f"(generated in {manifest['seconds']} s). Each route ran {duration:.0f} s; "
        "gunicorn, 2 sync workers.\n\n"
        f"{rendered}\n<!-- results {json.dumps(stored)} -->\n{marker_end}"
    )
    text = _replace_block(text, marker_start, marker_end, block)
    both = f"<!-- bench-both:start -->\n{side_by_side(text)}\n<!-- bench-both:end -->"
    text = _replace_block(text, "<!-- bench-both:start -->", "<!-- bench-both:end -->", both)
    path.write_text(text)


if __name__ == "__main__":
    main()
