"""Locust scenario of `make capacity` (docs/performance.md, "Issue 22: capacity"); started by
bench/capacity/run.py, which passes everything through CAPACITY_* variables:

- CAPACITY_MODE=curve: trainees (weight 97), focal points (2) and admins (1) with human think times, in
  steps of CAPACITY_STEPS users (comma-separated), CAPACITY_STEP_SECONDS each, spawned at
  CAPACITY_SPAWN_RATE users per second. A trainee opens the dashboard, reads a lesson for 20-40 s, marks
  it complete, every third round takes the practice quiz (saves an answer or two, then submits) and
  every eighth round downloads a certificate.
- CAPACITY_MODE=signin: CAPACITY_READERS signed-in readers keep opening pages while steps of
  CAPACITY_STEPS sign-ins per second arrive (each sign-in user signs in once a second, then forgets its
  session).

Every request is written to CAPACITY_SAMPLES (JSON lines: time, name, ms, failed, status); run.py cuts
them into steps. Accounts come from CAPACITY_MANIFEST (bench/capacity/prepare.py).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, constant_pacing, events, task

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ATTEMPT = re.compile(r"/quiz-attempts/(\d+)")
CHOICE = re.compile(r'<input type="radio" name="(q\d+)" value="(\d+)"')
PDF = re.compile(r'href="(/certificates/[^"/]+\.pdf)"')

MODE = os.environ.get("CAPACITY_MODE", "curve")
STEPS = [int(v) for v in os.environ.get("CAPACITY_STEPS", "50,100").split(",") if v.strip()]
STEP_SECONDS = float(os.environ.get("CAPACITY_STEP_SECONDS", "30"))
SPAWN_RATE = float(os.environ.get("CAPACITY_SPAWN_RATE", "10"))
READERS = int(os.environ.get("CAPACITY_READERS", "20"))
# Think times x this (1 = human). A small value only checks that every step of the scenario works.
THINK = float(os.environ.get("CAPACITY_THINK_SCALE", "1"))
MANIFEST: dict[str, Any] = (
    json.loads(Path(os.environ["CAPACITY_MANIFEST"]).read_text())
    if os.environ.get("CAPACITY_MANIFEST")
    else {}
)
_accounts = itertools.count()
_samples = None


@events.test_start.add_listener
def _open_samples(**_: Any) -> None:
    global _samples
    _samples = open(os.environ.get("CAPACITY_SAMPLES", "capacity-samples.jsonl"), "w")  # noqa: SIM115


@events.request.add_listener
def _sample(
    request_type: str, name: str, response_time: float, exception: Any, response: Any, **_: Any
) -> None:
    if _samples is not None:
        status = getattr(response, "status_code", 0) or 0
        line = {"t": time.time(), "name": name, "ms": response_time, "failed": exception is not None}
        _samples.write(json.dumps(line | {"status": status}) + "\n")


@events.quitting.add_listener
def _close_samples(**_: Any) -> None:
    if _samples is not None:
        _samples.close()


def pause(low: float, high: float) -> None:
    time.sleep(random.uniform(low, high) * THINK)  # noqa: S311 — think time


class Person(FastHttpUser):
    abstract = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The server runs with an https public URL, as production must (issuing refuses a loopback
        # address), so its cookies are Secure; here the TLS proxy is missing, so send them over http.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("https", "http")))

    def sign_in(self, email: str) -> bool:
        """GET the form, POST it; a 503 (many signing in) waits Retry-After and tries again, as a person
        would. False when the person gave up."""
        for _ in range(6):
            with self.client.get("/login", name="sign-in form", catch_response=True) as page:
                token = CSRF.search(page.text or "")
            form = {
                "email": email,
                "password": MANIFEST["password"],
                "csrf_token": token.group(1) if token else "",
            }
            with self.client.post(
                "/login", data=form, name="sign in", allow_redirects=False, catch_response=True
            ) as answer:
                if answer.status_code == 302:
                    answer.success()
                    return True
                if answer.status_code == 503:
                    answer.failure("503 many signing in")
                    time.sleep(float(answer.headers.get("Retry-After", "5")))
                    continue
                answer.failure(f"sign-in answered {answer.status_code}")
                return False
        return False

    def page(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as answer:
            if answer.status_code >= 400 or "/login" in str(answer.headers.get("Location", "")):
                answer.failure(f"{answer.status_code} {answer.headers.get('Location', '')}")
            return answer.text or ""

    def post(self, path: str, form: dict[str, str], name: str) -> str:
        with self.client.post(
            path, data=form, name=name, allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code >= 400:
                answer.failure(f"{answer.status_code}")
            elif answer.status_code in (301, 302, 303):
                answer.success()
            return str(answer.headers.get("Location", ""))


class Trainee(Person):
    weight = 97
    wait_time = between(3 * THINK, 8 * THINK)

    def on_start(self) -> None:
        accounts = MANIFEST["capacity_trainees"]
        self.email = accounts[next(_accounts) % len(accounts)]
        self.rounds = 0
        self.signed_in = self.sign_in(self.email)

    @task
    def study(self) -> None:
        if not self.signed_in:
            self.signed_in = self.sign_in(self.email)
            return
        self.rounds += 1
        slug = MANIFEST["course_slug"]
        self.page("/dashboard", "dashboard")
        pause(3, 8)
        lesson = random.choice(MANIFEST["lesson_ids"])  # noqa: S311
        text = self.page(f"/courses/{slug}/lessons/{lesson}", "lesson page")
        token = CSRF.search(text)
        pause(20, 40)  # reading
        if token:
            self.post(
                f"/courses/{slug}/lessons/{lesson}/complete",
                {"csrf_token": token.group(1)},
                "lesson complete",
            )
        if self.rounds % 3 == 0 and token:
            self.practice_quiz(slug, token.group(1))
        if self.rounds % 8 == 0:
            self.certificate()

    def practice_quiz(self, slug: str, token: str) -> None:
        quiz = MANIFEST["quiz_slug"]
        self.page(f"/courses/{slug}/quizzes/{quiz}", "quiz page")
        pause(3, 6)
        location = self.post(f"/courses/{slug}/quizzes/{quiz}/start", {"csrf_token": token}, "quiz start")
        attempt = ATTEMPT.search(location)
        if not attempt:
            return
        path = f"/quiz-attempts/{attempt.group(1)}"
        text = self.page(path, "quiz attempt page")
        choices: dict[str, str] = {}
        for name, value in CHOICE.findall(text):
            choices.setdefault(name, value)
        answers: dict[str, str] = {}
        for name in list(choices)[: random.choice((1, 2))]:  # noqa: S311 — an answer or two, saved
            pause(8, 15)
            answers[name] = choices[name]
            self.post(path, {"csrf_token": token, "action": "save", **answers}, "quiz save")
        pause(5, 10)
        answers.update(choices)
        self.post(path, {"csrf_token": token, "action": "submit", **answers}, "quiz submit")
        self.page(f"{path}/review", "quiz review")

    def certificate(self) -> None:
        link = PDF.search(self.page("/certificates", "my certificates"))
        if link:
            pause(2, 5)
            self.page(link.group(1), "certificate pdf")


class FocalPoint(Person):
    weight = 2
    wait_time = between(30 * THINK, 60 * THINK)

    def on_start(self) -> None:
        self.signed_in = self.sign_in(MANIFEST["focal_point"])

    @task
    def report(self) -> None:
        self.page("/reports/authority", "focal point report")


class Admin(Person):
    weight = 1
    wait_time = between(30 * THINK, 60 * THINK)

    def on_start(self) -> None:
        self.signed_in = self.sign_in(MANIFEST["admin"])

    @task
    def indicators(self) -> None:
        self.page(random.choice(("/reports/indicators", "/dashboard")), "admin page")  # noqa: S311


class Reader(Person):
    """The sign-in wave's bystanders: signed in before it, opening pages every second or two."""

    fixed_count = READERS
    wait_time = between(1, 2)

    def on_start(self) -> None:
        accounts = MANIFEST["capacity_trainees"]
        self.signed_in = self.sign_in(accounts[-1 - next(_accounts) % len(accounts)])

    @task
    def read(self) -> None:
        slug = MANIFEST["course_slug"]
        lesson = random.choice(MANIFEST["lesson_ids"])  # noqa: S311
        self.page(random.choice(("/dashboard", f"/courses/{slug}/lessons/{lesson}")), "reader page")  # noqa: S311


class SignIn(Person):
    """One sign-in a second: the form, the POST, then a new session (cookies forgotten)."""

    wait_time = constant_pacing(1.0)

    @task
    def sign_in_once(self) -> None:
        accounts = MANIFEST["capacity_trainees"]
        email = accounts[next(_accounts) % len(accounts)]
        token = CSRF.search(self.page("/login", "wave form"))
        form = {
            "email": email,
            "password": MANIFEST["password"],
            "csrf_token": token.group(1) if token else "",
        }
        with self.client.post(
            "/login", data=form, name="wave sign in", allow_redirects=False, catch_response=True
        ) as a:
            if a.status_code != 302:
                a.failure(f"{a.status_code}")
        self.client.cookiejar.clear()


class Steps(LoadTestShape):
    """CAPACITY_STEPS held CAPACITY_STEP_SECONDS each (the sign-in wave: readers first, then the steps
    added to them), then stop."""

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        if MODE == "signin":
            if elapsed < STEP_SECONDS:
                return READERS, max(SPAWN_RATE, READERS)
            elapsed -= STEP_SECONDS
            index = int(elapsed // STEP_SECONDS)
            return (READERS + STEPS[index], 100.0) if index < len(STEPS) else None
        index = int(elapsed // STEP_SECONDS)
        return (STEPS[index], SPAWN_RATE) if index < len(STEPS) else None
