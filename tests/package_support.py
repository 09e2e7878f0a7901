# ruff: noqa: E501 (the test packages' HTML and script are written as a SCO author would, long lines included)
"""Small SCORM 1.2 and SCORM 2004 packages written by the tests (issue 25), and a course whose lesson plays
one: the zip, its files stored as the packages feature stores a version (``<instance>/packages/<sha256>/``),
and the package, version, item and lesson rows."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from lms.auth.models import User
from lms.courses.models import Course, Lesson, Module
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.packages.models import Package, PackageItem, PackageVersion
from tests.enrolment_support import make_run

MANIFEST_12 = """<?xml version="1.0"?>
<manifest identifier="test12" version="1" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Checks</title>
    <item identifier="sco1" identifierref="r1"><title>Document checks</title></item>
  </organization></organizations>
  <resources><resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="index.html">
    <file href="index.html"/></resource></resources>
</manifest>
"""

MANIFEST_2004 = """<?xml version="1.0"?>
<manifest identifier="test2004" version="1" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Checks</title>
    <item identifier="sco1" identifierref="r1"><title>Document checks</title></item>
  </organization></organizations>
  <resources><resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="index.html">
    <file href="index.html"/></resource></resources>
</manifest>
"""

# The SCO: finds the API the ADL way (own window, then parents), records what it sees in the page (the
# browser tests read it), then on "Finish" stores score, status, location and suspend data.
PAGE_12 = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>SCO 1.2</title></head><body>
<p id="out">starting</p><button id="finish">Finish</button>
<script>
function findAPI(win) { var n = 0; while (!win.API && win.parent && win.parent !== win && n < 7) { n++;
  try { win = win.parent; } catch (e) { return null; } } try { return win.API || null; } catch (e) { return null; } }
var api = findAPI(window);
var early = api ? api.LMSSetValue("cmi.core.lesson_location", "early") + "/" + api.LMSGetLastError() : "none";
api.LMSInitialize("");
var out = document.getElementById("out");
out.textContent = "entry=" + api.LMSGetValue("cmi.core.entry") + " location=" + api.LMSGetValue("cmi.core.lesson_location")
  + " suspend=" + api.LMSGetValue("cmi.suspend_data") + " early=" + early;
document.getElementById("finish").onclick = function () {
  api.LMSSetValue("cmi.core.score.raw", "85");
  api.LMSSetValue("cmi.core.lesson_status", "passed");
  api.LMSSetValue("cmi.core.lesson_location", "page-3");
  api.LMSSetValue("cmi.suspend_data", "answers=a,b");
  api.LMSSetValue("cmi.interactions.0.id", "q1");
  api.LMSSetValue("cmi.interactions.0.type", "choice");
  api.LMSSetValue("cmi.interactions.0.student_response", "b");
  api.LMSSetValue("cmi.interactions.0.result", "correct");
  api.LMSSetValue("cmi.core.exit", "suspend");
  api.LMSCommit("");
  api.LMSFinish("");
  out.textContent = "finished";
};
</script></body></html>
"""

PAGE_2004 = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>SCO 2004</title></head><body>
<p id="out">starting</p><button id="finish">Finish</button>
<script>
var api = window.API_1484_11;
var early = api.SetValue("cmi.location", "early") + "/" + api.GetLastError();
api.Initialize("");
var out = document.getElementById("out");
out.textContent = "entry=" + api.GetValue("cmi.entry") + " location=" + api.GetValue("cmi.location") + " early=" + early;
document.getElementById("finish").onclick = function () {
  api.SetValue("cmi.score.scaled", "0.9");
  api.SetValue("cmi.score.raw", "90");
  api.SetValue("cmi.success_status", "passed");
  api.SetValue("cmi.completion_status", "completed");
  api.SetValue("cmi.location", "slide-7");
  api.SetValue("cmi.exit", "suspend");
  api.Commit("");
  api.Terminate("");
  var late = api.SetValue("cmi.location", "late") + "/" + api.GetLastError();
  out.textContent = "finished late=" + late;
};
</script></body></html>
"""

# A hostile package: reads the cookie, reaches for the player page and the academy with the session.
PAGE_ASSET = """<!DOCTYPE html><html><head><title>Asset</title></head><body><p id="out">a plain page</p></body></html>"""

PAGE_HOSTILE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Hostile</title></head><body>
<p id="out">starting</p>
<script>
var seen = [];
try { seen.push("cookie=" + JSON.stringify(document.cookie)); } catch (e) { seen.push("cookie:blocked"); }
try { seen.push("parent=" + window.parent.document.title); } catch (e) { seen.push("parent:blocked"); }
try { seen.push("storage=" + window.localStorage.length); } catch (e) { seen.push("storage:blocked"); }
document.getElementById("out").textContent = seen.join(" ");
fetch("/dashboard", {credentials: "include"}).then(function (r) { return r.text(); }).then(function (t) {
  document.getElementById("out").textContent += t.indexOf("Sign out") >= 0 ? " academy:signed-in" : " academy:anonymous";
}, function () { document.getElementById("out").textContent += " academy:blocked"; });
</script></body></html>
"""


def package_zip(manifest: str, page: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", manifest)
        archive.writestr("index.html", page)
    return buffer.getvalue()


@dataclass
class PackageCourse:
    course: Course
    lesson: Lesson
    other_lesson: Lesson  # a text lesson beside it, so the course is not complete by the package alone
    version: PackageVersion

    @property
    def play_url(self) -> str:
        return f"/courses/{self.course.slug}/lessons/{self.lesson.id}/play"

    @property
    def commit_url(self) -> str:
        return f"/courses/{self.course.slug}/lessons/{self.lesson.id}/package-data"


def store_version(package: Package, zipped: bytes, scorm_version: str, kind: str = "sco") -> PackageVersion:
    """The files under the instance folder as a stored version, and its row with one SCO."""
    digest = hashlib.sha256(zipped).hexdigest()
    folder = Path(current_app.instance_path) / "packages" / digest
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        archive.extractall(folder)
    version = PackageVersion(
        package=package,
        number=len(package.versions) + 1,
        sha256=digest,
        scorm_version=scorm_version,
        title="Checks",
        size_bytes=len(zipped),
        file_count=2,
    )
    version.items.append(
        PackageItem(identifier="sco1", title="Document checks", href="index.html", position=0, kind=kind)
    )
    db.session.add(version)
    db.session.flush()
    package.current_version_id = version.id
    return version


def package_course(
    slug: str = "scorm-checks", scorm_version: str = "1.2", page: str | None = None, kind: str = "sco"
) -> PackageCourse:
    manifest = MANIFEST_12 if scorm_version == "1.2" else MANIFEST_2004
    page = page or (PAGE_12 if scorm_version == "1.2" else PAGE_2004)
    course = Course(slug=slug, title="Document checks", summary="SCORM course", language="en")
    module = Module(slug="m1", title="Module one", position=0)
    course.modules.append(module)
    db.session.add(course)
    db.session.flush()
    package = Package(course_id=course.id, module_id=module.id, slug="checks", name="Checks")
    db.session.add(package)
    db.session.flush()
    version = store_version(package, package_zip(manifest, page), scorm_version, kind)
    lesson = Lesson(
        module_id=module.id, slug="checks", title="Document checks", position=0,
        package_id=package.id, package_item_identifier="sco1",
    )  # fmt: skip
    other = Lesson(module_id=module.id, slug="reading", title="Reading", position=1, body_html="<p>x</p>")
    db.session.add_all([lesson, other])
    db.session.commit()
    return PackageCourse(course, lesson, other, version)


def enrol(course: Course, user: User) -> Enrolment:
    run = db.session.scalar(select(CourseRun).where(CourseRun.course_id == course.id)) or make_run(course)
    enrolment = Enrolment(
        run_id=run.id, user_id=user.id, status=EnrolmentStatus.ENROLLED, authority_id=user.authority_id
    )
    db.session.add(enrolment)
    db.session.commit()
    return enrolment
