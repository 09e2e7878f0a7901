"""A wave of sign-ins is shed, not the pages of people already signed in (issue 22;
lms/security/sign_in_wave.py),
and the password hash keeps the cost OWASP and ASVS ask for (docs/performance.md, "Issue 22: capacity")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import argon2
import pytest
from argon2 import PasswordHasher
from flask import Flask
from werkzeug.test import TestResponse

from lms.auth.models import User
from lms.auth.passwords import hash_password
from lms.security import sign_in_wave
from tests.conftest import TEST_PASSWORD, login

# OWASP Password Storage Cheat Sheet, the reference of ASVS 5.0 V11.4.2 (4.0.3: V2.4.1): argon2id
# with at least 19 MiB of memory, 2 iterations and 1 degree of parallelism.
ASVS_MIN_MEMORY_KIB = 19 * 1024
ASVS_MIN_ITERATIONS = 2


def test_the_password_hash_meets_the_documented_minimum() -> None:
    parameters = argon2.extract_parameters(hash_password("a pass phrase of some length"))
    assert parameters.type is argon2.Type.ID
    assert parameters.memory_cost >= ASVS_MIN_MEMORY_KIB
    assert parameters.time_cost >= ASVS_MIN_ITERATIONS
    assert parameters.parallelism >= 1


def test_a_second_sign_in_is_shed_while_the_only_slot_hashes_and_pages_still_answer(
    app: Flask,
    make_user: Callable[..., User],
    fresh_user_per_request: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.config.update(SIGN_IN_HASH_SLOTS=1, SIGN_IN_HASH_WAIT=0, SIGN_IN_RETRY_AFTER=7)
    signed_in, first, second = make_user(), make_user(), make_user()
    reader = app.test_client()
    login(reader, signed_in)  # before the hash is held

    inside = threading.Barrier(2, timeout=30)
    release = threading.Event()
    original = PasswordHasher.verify

    def held_verify(self: PasswordHasher, hash: str, password: str) -> Any:
        inside.wait()  # the first sign-in is inside the hash, holding the slot
        release.wait(30)
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", held_verify)
    answers: list[TestResponse] = []
    first_form = {"email": first.email, "password": TEST_PASSWORD}  # read here: the thread has no app context

    def sign_in_first() -> None:
        answers.append(app.test_client().post("/login", data=first_form))

    thread = threading.Thread(target=sign_in_first)
    thread.start()
    try:
        inside.wait()
        refused = app.test_client().post("/login", data={"email": second.email, "password": TEST_PASSWORD})
        page = reader.get("/dashboard")
    finally:
        release.set()
        thread.join(30)
    monkeypatch.undo()

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "7"
    assert "Many people are signing in right now" in refused.get_data(as_text=True)
    assert page.status_code == 200
    assert [answer.status_code for answer in answers] == [302]  # the held sign-in went through
    # The shed attempt was given back: the second person signs in normally once the wave has passed.
    login(app.test_client(), second)


def test_the_bound_can_be_turned_off(app: Flask, make_user: Callable[..., User]) -> None:
    app.config.update(SIGN_IN_HASH_SLOTS=0)
    with sign_in_wave.hash_slot(), sign_in_wave.hash_slot():  # no slot is taken at all
        pass
    login(app.test_client(), make_user())


def test_slots_exclude_each_other_and_are_given_back(app: Flask) -> None:
    app.config.update(SIGN_IN_HASH_SLOTS=2, SIGN_IN_HASH_WAIT=0, SIGN_IN_RETRY_AFTER=3)
    with sign_in_wave.hash_slot(), sign_in_wave.hash_slot():
        with pytest.raises(sign_in_wave.HashBusy) as busy, sign_in_wave.hash_slot():
            pass
        assert busy.value.retry_after == 3
    with sign_in_wave.hash_slot():  # both given back
        pass
