"""Accounts for `make capacity`: `python -m bench.capacity.prepare --accounts N` (LMS_INSTANCE_PATH set).

Data set L (bench/generate.py) has 100,000 trainees (trainee<n>@bench.test, the bench password) enrolled
in synthetic courses, and the real course with the unlimited practice quiz is joined by the 64
bench-trainee accounts only. The capacity run needs thousands of distinct people on real lessons and a
real quiz: the first N L trainees get a place in the real course's open run here (bulk inserts and a
rebuild of the indicator facts, as bench/generate.py does), once; later runs reuse them. The synthetic
certificates of L point at a PDF file that was never rendered ("none.pdf"); one small PDF is written
there, so a download sends a file as production does (the file is made by the job after issuing), and
the accounts' certificates get codes in the real format (L's synthetic ones are not, so downloads 404).
Writes instance/capacity.json: bench.json plus the capacity accounts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from bench.generate import bulk_insert
from lms import create_app
from lms.auth.models import User
from lms.certificates import codes
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.runs import ensure_default_run
from lms.extensions import db
from lms.reports import facts

PLACEHOLDER_PDF = "none.pdf"  # bench/generate.py's synthetic certificates


def enrol_accounts(manifest: dict[str, object], count: int) -> list[str]:
    course = db.session.scalar(select(Course).where(Course.slug == manifest["course_slug"]))
    if course is None:
        raise RuntimeError("the bench course is missing: generate data set L first")
    run = ensure_default_run(course)
    emails = [f"trainee{n}@bench.test" for n in range(count)]
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    enrolled = set(
        db.session.scalars(
            select(User.email)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.run_id == run.id, User.email.in_(emails))
        )
    )
    missing = [users[email] for email in emails if email in users and email not in enrolled]
    if missing:
        now = utcnow()
        rows = (
            dict(run_id=run.id, user_id=user.id, status=EnrolmentStatus.ENROLLED, language="en",
                 enrolled_at=now, last_activity_at=now, authority_id=user.authority_id, created_at=now)
            for user in missing
        )  # fmt: skip
        print(f"enrolled {bulk_insert(Enrolment.__table__, rows)}", flush=True)  # CLI progress
        db.session.commit()
        # The bulk insert bypassed the ORM: the indicator facts are rebuilt, as bench/generate.py does.
        print(f"indicator facts: {facts.rebuild(db.session.connection())}", flush=True)
        db.session.commit()
    return [email for email in emails if email in users]


def valid_codes(emails: list[str]) -> int:
    """L's synthetic certificates have codes that are not in the certificate code format (the download
    and verify pages answer 404 to them): the capacity accounts' certificates get real ones."""
    rows = db.session.execute(
        select(Certificate.id, Certificate.code)
        .join(User, User.id == Certificate.user_id)
        .where(User.email.in_(emails))
    ).all()
    changed = 0
    for certificate_id, code in rows:
        if codes.normalise(code) is None:
            db.session.execute(
                update(Certificate).where(Certificate.id == certificate_id).values(code=codes.new_code())
            )
            changed += 1
    db.session.commit()
    return changed


def placeholder_pdf() -> None:
    path = Path(current_app.instance_path) / "certificates" / PLACEHOLDER_PDF
    if path.exists():
        return
    from weasyprint import HTML

    path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string="<h1>Certificate</h1><p>Synthetic certificate of the capacity run.</p>").write_pdf(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, required=True)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        instance = Path(app.instance_path)
        db.create_all()  # tables added since the data set was generated (empty, as after a migration)
        manifest = json.loads((instance / "bench.json").read_text())
        manifest["capacity_trainees"] = enrol_accounts(manifest, args.accounts)
        print(f"certificate codes made valid: {valid_codes(manifest['capacity_trainees'])}", flush=True)
        placeholder_pdf()
        (instance / "capacity.json").write_text(json.dumps(manifest, indent=1, default=str))
        print(f"{len(manifest['capacity_trainees'])} capacity accounts ready", flush=True)


if __name__ == "__main__":
    main()
