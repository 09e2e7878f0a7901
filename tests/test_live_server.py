"""The browser tests' live server (tests/conftest.py `_ServedUntilClosed`): closing it waits for the request
in progress and keeps later ones (a page's `pagehide` commit) away from the app, so the database clean-up
after a test never meets a request's transaction."""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.test import Client

from tests.conftest import _ServedUntilClosed


def _slow_app(entered: threading.Event, release: threading.Event, reached: list[str]) -> Flask:
    app = Flask(__name__)

    @app.get("/slow")
    def slow() -> str:
        reached.append("slow")
        entered.set()
        release.wait(5)
        return "done"

    @app.get("/late")
    def late() -> str:
        reached.append("late")
        return "late"

    return app


def test_closing_waits_for_the_request_in_progress_and_refuses_later_ones() -> None:
    entered, release = threading.Event(), threading.Event()
    reached: list[str] = []
    served = _ServedUntilClosed(_slow_app(entered, release, reached))
    answers: list[int] = []
    request = threading.Thread(target=lambda: answers.append(Client(served).get("/slow").status_code))
    request.start()
    assert entered.wait(5)
    closer = threading.Thread(target=served.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive()  # still waiting: the slow request holds the app
    release.set()
    closer.join(5)
    request.join(5)
    assert not closer.is_alive() and answers == [200]
    assert Client(served).get("/late").status_code == 503
    assert reached == ["slow"]  # the late request never reached the app
