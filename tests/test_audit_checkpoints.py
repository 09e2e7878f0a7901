"""The audit trail cannot be rewritten unnoticed (issue 23): every field is hashed, and signed
checkpoints anchor the chain's head. One test per kind of tampering, through `flask lms audit verify`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update

from lms.audit.chain import GENESIS_HASH, ChainEntry, record_hash, verify_chain
from lms.audit.models import AuditRecord
from lms.audit.services import record_event
from lms.auth.models import User
from lms.certificates import audit_checkpoints
from lms.certificates.credential import identity_hash
from lms.certificates.models import Certificate
from lms.extensions import db
from tests.test_certificates import (
    _generous_rate_limit,
    anonymous,
    independent_verify,
    issued,
    tiny_course,
    trainee,
)

__all__ = ["_generous_rate_limit", "anonymous", "issued", "tiny_course", "trainee"]  # shared fixtures


@pytest.fixture(autouse=True)
def _no_checkpoints(app: Flask) -> Iterator[None]:
    audit_checkpoints.checkpoints_path().unlink(missing_ok=True)
    yield
    audit_checkpoints.checkpoints_path().unlink(missing_ok=True)


def _trail(app: Flask, count: int = 5) -> list[AuditRecord]:
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.7"}):
        records = [
            record_event("test.event", "thing", n, after={"n": n}, reason=f"case file {n}")
            for n in range(count)
        ]
    db.session.commit()
    return records


def _verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["lms", "audit", "verify"])
    return result.exit_code, result.output


def _checkpoint(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["lms", "audit", "checkpoint"])
    assert result.exit_code == 0, result.output


def _rehash_from(first_id: int) -> None:
    """A full rewrite: every hash from first_id on recomputed, as someone with the database would."""
    records = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
    previous = GENESIS_HASH
    for record in records:
        if record.id >= first_id:
            record.previous_hash = previous
            record.hash = record_hash(previous, record.at, record.actor_id, record.action,
                                      record.subject_type, record.subject_id, record.before,
                                      record.after, record.reason, record.ip_address)  # fmt: skip
        previous = record.hash
    db.session.commit()


def test_an_intact_trail_with_a_checkpoint_verifies(app: Flask) -> None:
    records = _trail(app)
    assert records[0].ip_address == "10.0.0.7"
    _checkpoint(app)
    code, output = _verify(app)
    assert code == 0 and "1 signed checkpoint(s) hold" in output


def test_an_edited_ip_address_is_reported(app: Flask) -> None:
    records = _trail(app)
    _checkpoint(app)
    db.session.execute(
        update(AuditRecord).where(AuditRecord.id == records[2].id).values(ip_address="1.2.3.4")
    )
    db.session.commit()
    code, output = _verify(app)
    assert code != 0 and f"record {records[2].id}: content does not match its hash (edited)" in output


def test_a_deleted_middle_record_is_reported(app: Flask) -> None:
    records = _trail(app)
    _checkpoint(app)
    db.session.execute(delete(AuditRecord).where(AuditRecord.id == records[2].id))
    db.session.commit()
    code, output = _verify(app)
    assert code != 0 and f"record {records[3].id}: does not follow the previous record" in output


def test_deleted_newest_records_are_reported_against_the_last_checkpoint(app: Flask) -> None:
    records = _trail(app)
    _checkpoint(app)
    db.session.execute(delete(AuditRecord).where(AuditRecord.id >= records[3].id))
    db.session.commit()
    code, output = _verify(app)
    assert code != 0 and "the newest records were deleted" in output


def test_a_full_rewrite_no_longer_matches_the_checkpoint(app: Flask) -> None:
    records = _trail(app)
    _checkpoint(app)
    db.session.execute(
        update(AuditRecord).where(AuditRecord.id == records[1].id).values(reason="nothing happened")
    )
    db.session.commit()
    _rehash_from(records[1].id)
    code, output = _verify(app)  # the chain itself is consistent again; only the checkpoint sees it
    assert code != 0 and "record " + str(records[4].id) + " no longer has the signed hash" in output
    assert "content does not match" not in output


def test_a_forged_checkpoint_is_reported(app: Flask) -> None:
    _trail(app)
    _checkpoint(app)
    path = audit_checkpoints.checkpoints_path()
    document = json.loads(path.read_text())
    document["checkpoints"][0]["recordCount"] = 4
    path.write_text(json.dumps(document))
    code, output = _verify(app)
    assert code != 0 and "signature does not match" in output


def test_the_checkpoints_are_public_and_hold_no_personal_data(app: Flask, client: FlaskClient) -> None:
    _trail(app)
    assert audit_checkpoints.create_checkpoint(only_if_changed=True) is not None
    assert audit_checkpoints.create_checkpoint(only_if_changed=True) is None  # the head did not move
    response = client.get("/.well-known/audit-checkpoints.json")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    # Values no signature or hash can contain (a dot, a space): a short reason like "r1" turns up in base64.
    assert "10.0.0.7" not in body and "case file" not in body
    (checkpoint,) = json.loads(body)["checkpoints"]
    assert checkpoint["recordCount"] == 5 and checkpoint["verificationMethod"].startswith("did:web:")


def test_version_one_records_before_the_migration_point_still_verify() -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    old = record_hash(GENESIS_HASH, at, 1, "a", "t", "1", None, None, None, "9.9.9.9", version=1)
    new = record_hash(old, at, 1, "a", "t", "2", None, None, None, "9.9.9.9")
    v1 = ChainEntry(1, at, 1, "a", "t", "1", None, None, None, GENESIS_HASH, old, "9.9.9.9")
    v2 = ChainEntry(2, at, 1, "a", "t", "2", None, None, None, old, new, "9.9.9.9")
    assert verify_chain([v1, v2]) == []
    # after the first version-2 record, a version-1 hash is refused
    late_v1 = record_hash(new, at, 1, "a", "t", "3", None, None, None, None, version=1)
    v1_late = ChainEntry(3, at, 1, "a", "t", "3", None, None, None, new, late_v1, None)
    assert [p.record_id for p in verify_chain([v1, v2, v1_late])] == [3]


# --- verify-page fixes (issue 23) -------------------------------------------------------------


def test_the_verify_pages_are_noindex(client: FlaskClient) -> None:
    for url, status in (("/verify", 200), ("/verify/AAAA-BBBB-CCCC", 404)):
        response = client.get(url)
        assert response.status_code == status
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
        assert '<meta name="robots" content="noindex, nofollow">' in response.get_data(as_text=True)
    assert "X-Robots-Tag" not in client.get("/").headers  # the catalogue stays indexable


def test_the_home_page_and_the_footer_link_to_the_verify_page(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert html.count('href="/verify"') == 2  # the catalogue's link and the footer's
    assert 'href="/verify"' in client.get("/verify").get_data(as_text=True)


def test_the_demo_cohort_certificates_carry_the_runs_real_dates(app: Flask) -> None:
    from lms.demo.cohort import PAST_RUNS
    from lms.enrolment.models import CourseRun
    from tests.a11y_support import load_academy

    load_academy()
    titles = [past.title for past in PAST_RUNS]
    runs = db.session.scalars(select(CourseRun).where(CourseRun.title.in_(titles))).all()
    assert runs
    for run in runs:
        certificates = db.session.scalars(select(Certificate).where(Certificate.run_id == run.id)).all()
        assert run.starts_on is not None and run.ends_on is not None
        assert certificates and run.ends_on < datetime.now(UTC).date()  # a run that ended months ago
        for certificate in certificates:
            subject = certificate.credential["credentialSubject"]
            assert subject["activityStartDate"] == run.starts_on.isoformat()
            assert subject["activityEndDate"] == run.ends_on.isoformat()


def test_the_public_json_lets_no_one_confirm_a_guessed_email(
    anonymous: FlaskClient,
    issued: Certificate,
    trainee: User,
) -> None:
    document = anonymous.get(f"/verify/{issued.code}/credential.json").get_json(force=True)
    (email_identity,) = [
        i for i in document["credentialSubject"]["identifier"] if i["identityType"] == "emailAddress"
    ]
    assert "salt" not in email_identity and trainee.email not in json.dumps(document)
    # the salt is nowhere in the document: the right email with any value found in it does not match
    strings = {v for v in _leaves(document) if isinstance(v, str)} | {""}
    assert all(identity_hash(trainee.email, s) != email_identity["identityHash"] for s in strings)
    assert independent_verify(document, anonymous) is not None  # still signed and valid (openbadgeslib)


def _leaves(node: object) -> Iterator[object]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from _leaves(value)
    else:
        yield node


def test_the_checkpoints_are_kept_with_the_backups(app: Flask) -> None:
    from lms.ops.backup import instance_files

    _trail(app, 2)
    assert audit_checkpoints.create_checkpoint() is not None
    kept = [name for name, _path in instance_files(audit_checkpoints.checkpoints_path().parent, exclude=[])]
    assert audit_checkpoints.CHECKPOINTS_FILE in kept


def test_the_verify_pages_429_carries_retry_after_and_noindex(app: Flask) -> None:
    from lms.certificates import codes

    saved = {
        key: app.config.get(key) for key in ("CERTIFICATE_VERIFY_LIMIT", "CERTIFICATE_VERIFY_WINDOW_SECONDS")
    }
    app.config.update(CERTIFICATE_VERIFY_LIMIT=1, CERTIFICATE_VERIFY_WINDOW_SECONDS=3600)
    try:
        client = app.test_client()
        env = {"REMOTE_ADDR": "10.99.0.1"}
        responses = [client.get(f"/verify/{codes.new_code()}", environ_base=env) for _ in range(2)]
    finally:
        app.config.update(saved)
    refused = responses[1]
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["X-Robots-Tag"] == "noindex, nofollow"
