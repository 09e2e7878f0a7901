# ruff: noqa: E501 (the test pages' script is written as a SCO author would, long lines included)
"""A package calling the runtime API out of order (issue 25) gets the standard's error code and "false" (or
"" from GetValue), for every call of SCORM 1.2 and SCORM 2004, in Chromium; nothing of such a call reaches
the player page or the server (lms/static/js/package-bridge.js, ``guardOrder``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from lms.extensions import db
from lms.packages.runtime.models import PackageAttempt
from tests.conftest import browser_sign_in
from tests.package_support import enrol, package_course

pytestmark = pytest.mark.browser

# Each call is written "name=result/last error" into #out; the session in the middle is a normal one.
PAGE_ORDER_12 = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Order 1.2</title></head><body>
<p id="out">starting</p><button id="run">Run</button>
<script>
var api = window.API, seen = [];
function note(name, result) { seen.push(name + "=" + result + "/" + api.LMSGetLastError()); }
document.getElementById("run").onclick = function () {
  note("get-before", api.LMSGetValue("cmi.core.lesson_location"));
  note("set-before", api.LMSSetValue("cmi.core.lesson_location", "early"));
  note("commit-before", api.LMSCommit(""));
  note("finish-before", api.LMSFinish(""));
  seen.push("string-301=" + api.LMSGetErrorString("301"));
  note("init", api.LMSInitialize(""));
  note("init-twice", api.LMSInitialize(""));
  note("set", api.LMSSetValue("cmi.core.lesson_location", "inside"));
  note("status", api.LMSSetValue("cmi.core.lesson_status", "completed"));
  note("finish", api.LMSFinish(""));
  note("get-after", api.LMSGetValue("cmi.core.lesson_location"));
  note("set-after", api.LMSSetValue("cmi.core.lesson_location", "late"));
  note("status-after", api.LMSSetValue("cmi.core.lesson_status", "failed"));
  note("commit-after", api.LMSCommit(""));
  note("finish-after", api.LMSFinish(""));
  note("init-after", api.LMSInitialize(""));
  seen.push("string-101=" + api.LMSGetErrorString("101"));
  document.getElementById("out").textContent = "done;" + seen.join(";");
};
</script></body></html>
"""

PAGE_ORDER_2004 = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Order 2004</title></head><body>
<p id="out">starting</p><button id="run">Run</button>
<script>
var api = window.API_1484_11, seen = [];
function note(name, result) { seen.push(name + "=" + result + "/" + api.GetLastError()); }
document.getElementById("run").onclick = function () {
  note("get-before", api.GetValue("cmi.location"));
  note("set-before", api.SetValue("cmi.location", "early"));
  note("commit-before", api.Commit(""));
  note("terminate-before", api.Terminate(""));
  seen.push("string-132=" + api.GetErrorString("132"));
  note("init", api.Initialize(""));
  note("init-twice", api.Initialize(""));
  note("set", api.SetValue("cmi.location", "inside"));
  note("status", api.SetValue("cmi.completion_status", "completed"));
  note("terminate", api.Terminate(""));
  note("get-after", api.GetValue("cmi.location"));
  note("set-after", api.SetValue("cmi.location", "late"));
  note("status-after", api.SetValue("cmi.completion_status", "incomplete"));
  note("commit-after", api.Commit(""));
  note("terminate-after", api.Terminate(""));
  note("init-after", api.Initialize(""));
  seen.push("diagnostic=" + api.GetDiagnostic(""));
  document.getElementById("out").textContent = "done;" + seen.join(";");
};
</script></body></html>
"""

EXPECTED_12 = {
    "get-before": "/301",
    "set-before": "false/301",
    "commit-before": "false/301",
    "finish-before": "false/301",
    "string-301": "Not initialized",
    "init": "true/0",
    "init-twice": "false/101",
    "set": "true/0",
    "status": "true/0",
    "finish": "true/0",
    "get-after": "/101",
    "set-after": "false/101",
    "status-after": "false/101",
    "commit-after": "false/101",
    "finish-after": "false/101",
    "init-after": "false/101",
    "string-101": "General exception",
}

EXPECTED_2004 = {
    "get-before": "/122",
    "set-before": "false/132",
    "commit-before": "false/142",
    "terminate-before": "false/112",
    "string-132": "Store Data Before Initialization",
    "init": "true/0",
    "init-twice": "false/103",
    "set": "true/0",
    "status": "true/0",
    "terminate": "true/0",
    "get-after": "/123",
    "set-after": "false/133",
    "status-after": "false/133",
    "commit-after": "false/143",
    "terminate-after": "false/113",
    "init-after": "false/104",
    "diagnostic": "Content Instance Terminated",
}

# Every commit the frame hands to the player page, kept where the test can read it.
RECORD_COMMITS = """window.__commits = [];
window.addEventListener("message", function (event) {
  if (event.data && event.data.lms === "scorm-commit") { window.__commits.push(JSON.stringify(event.data.cmi)); }
});"""


def _run(
    page: Any, live_server: str, trainee: Any, scorm_version: str, html: str
) -> tuple[dict[str, str], list[str]]:
    setup = package_course(scorm_version=scorm_version, page=html)
    enrol(setup.course, trainee)
    browser_sign_in(page, live_server, trainee)
    page.add_init_script(RECORD_COMMITS)
    page.goto(f"{live_server}{setup.play_url}")
    frame = page.frame_locator("#package-player iframe")
    frame.locator("#run").click()
    out = frame.locator("#out")
    out.filter(has_text="done;").wait_for()
    page.locator("#package-player[data-state=saved]").wait_for()
    results = dict(item.split("=", 1) for item in out.inner_text().split(";")[1:])
    return results, page.evaluate("window.__commits")


def _attempt() -> PackageAttempt:
    db.session.rollback()
    return db.session.query(PackageAttempt).one()


@pytest.mark.parametrize(
    ("scorm_version", "html", "expected", "location", "status"),
    [
        ("1.2", PAGE_ORDER_12, EXPECTED_12, "cmi.core.lesson_location", "cmi.core.lesson_status"),
        ("2004 4th", PAGE_ORDER_2004, EXPECTED_2004, "cmi.location", "cmi.completion_status"),
    ],
    ids=["scorm-1.2", "scorm-2004"],
)
def test_every_call_out_of_order_gets_its_error_code_and_stores_nothing(
    app: Flask,
    make_user: Any,
    live_server: str,
    page: Any,
    scorm_version: str,
    html: str,
    expected: dict[str, str],
    location: str,
    status: str,
) -> None:
    results, commits = _run(page, live_server, make_user(), scorm_version, html)
    assert results == expected
    # the calls out of order never reached the player page: no commit holds their values
    assert commits and not any('"early"' in c or '"late"' in c for c in commits)
    attempt = _attempt()
    assert attempt.cmi[location] == "inside"
    assert attempt.cmi[status] == "completed" and attempt.completion_status == "completed"
