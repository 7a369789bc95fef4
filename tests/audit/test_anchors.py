"""Anchors: the chain's head kept outside the database shows the newest events removed."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text

from claims_portal import clock
from claims_portal.audit.models import AuditSeal
from claims_portal.audit.services import compute_hash, record_event, seal_and_commit, verify_chain
from claims_portal.audit.services.anchors import (
    Anchor,
    AnchorError,
    FileAnchorTarget,
    S3AnchorTarget,
    anchor_target_from_config,
)
from claims_portal.cli import audit_anchor, audit_verify
from tests.claims.evidence.helpers import BUCKET, REGION

PREFIX = "audit-anchors/"


def _events(session, count):
    events = [
        record_event(session, action="test.happened", object_type="thing", object_id=n)
        for n in range(count)
    ]
    session.commit()
    seal_and_commit(session)
    return events


def _seal_of(session, event):
    return session.scalar(select(AuditSeal).where(AuditSeal.event_id == event.id))


def _as_owner(session, sql, **params):
    """What only the owner can do: change the trail (statements separated by "; ") with its
    triggers off."""
    for table in ("audit_event", "audit_seal"):
        session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    for statement in sql.split("; "):
        session.execute(text(statement), params)
    for table in ("audit_event", "audit_seal"):
        session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    session.expire_all()


def _run(app, command):
    return app.test_cli_runner().invoke(command)


@pytest.fixture
def anchor_file(app, tmp_path, monkeypatch):
    path = tmp_path / "anchors.jsonl"
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_TARGET", str(path))
    return path


@pytest.fixture
def anchor_bucket(app, s3_client, moto_endpoint, monkeypatch):
    """Anchors in moto's S3 (tests/claims/evidence/helpers.py), as configured in production."""
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_TARGET", f"s3://{BUCKET}/{PREFIX}")
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_S3_REGION", REGION)
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_S3_ENDPOINT_URL", moto_endpoint)
    return s3_client


def _keys(client):
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)
    return sorted(item["Key"] for item in listed.get("Contents", []))


# --- A file of JSON lines ------------------------------------------------------------------


def test_anchor_appends_the_head_to_the_file_and_verify_reads_it(app, db_session, anchor_file):
    events = _events(db_session, 3)
    result = _run(app, audit_anchor)
    assert result.exit_code == 0, result.output
    assert f"Anchored event {events[-1].id}" in result.output
    count = db_session.scalar(select(text("count(*)")).select_from(AuditSeal))
    newest = _seal_of(db_session, events[-1])
    assert newest.position == count
    (line,) = anchor_file.read_text().splitlines()
    recorded = json.loads(line)
    assert recorded["event_id"] == events[-1].id
    assert recorded["event_hash"] == newest.event_hash
    assert recorded["count"] == count
    assert dt.datetime.fromisoformat(recorded["anchored_at"]) <= clock.now()

    _events(db_session, 2)
    assert _run(app, audit_anchor).exit_code == 0
    assert len(anchor_file.read_text().splitlines()) == 2  # appended, never rewritten
    result = _run(app, audit_verify)
    assert result.exit_code == 0, result.output
    assert "2 anchors checked" in result.output


def test_removing_the_newest_events_after_an_anchor_is_detected(app, owner_db_session, anchor_file):
    ids = [event.id for event in _events(owner_db_session, 4)]
    assert _run(app, audit_anchor).exit_code == 0
    assert _run(app, audit_verify).exit_code == 0
    _as_owner(
        owner_db_session,
        "DELETE FROM audit_seal WHERE event_id >= :id; DELETE FROM audit_event WHERE id >= :id",
        id=ids[2],
    )
    assert verify_chain(owner_db_session).ok  # the chain alone cannot tell
    result = _run(app, audit_verify)
    assert result.exit_code == 1
    assert f"BROKEN at event {ids[-1]}: it is missing" in result.output
    assert "events were removed since" in result.output
    assert str(anchor_file) in result.output


def test_a_rewritten_event_whose_hash_was_recomputed_is_detected(
    app, owner_db_session, anchor_file
):
    events = _events(owner_db_session, 2)
    assert _run(app, audit_anchor).exit_code == 0
    newest = events[-1]
    previous = _seal_of(owner_db_session, newest).previous_hash
    owner_db_session.expunge(newest)  # a copy to forge from, never flushed
    newest.reason = "never happened"
    forged = compute_hash(newest, previous)
    _as_owner(
        owner_db_session,
        "UPDATE audit_event SET reason = 'never happened' WHERE id = :id; "
        "UPDATE audit_seal SET event_hash = :hash WHERE event_id = :id",
        hash=forged,
        id=newest.id,
    )
    assert verify_chain(owner_db_session).ok
    result = _run(app, audit_verify)
    assert result.exit_code == 1
    assert f"BROKEN at event {newest.id}: its hash differs" in result.output


def test_events_removed_before_an_anchored_one_are_counted(db_session):
    events = _events(db_session, 3)
    newest = _seal_of(db_session, events[-1])
    total = newest.position
    at = clock.now()
    ok = Anchor(events[-1].id, newest.event_hash, total, at, "here")
    assert verify_chain(db_session, [ok]).anchors_checked == 1
    more = Anchor(events[-1].id, newest.event_hash, total + 1, at, "here")
    report = verify_chain(db_session, [ok, more])
    assert report.broken_event_id == events[-1].id
    assert f"{total} events lead up to it, but {total + 1} did" in report.problem


def test_a_broken_chain_is_not_anchored(app, owner_db_session, anchor_file):
    events = _events(owner_db_session, 3)
    _as_owner(
        owner_db_session, "UPDATE audit_event SET reason = 'x' WHERE id = :id", id=events[1].id
    )
    result = _run(app, audit_anchor)
    assert result.exit_code == 1
    assert "Nothing anchored" in result.output
    assert not anchor_file.exists()


def test_an_empty_trail_is_not_anchored(app, owner_db_session, anchor_file):
    _as_owner(owner_db_session, "DELETE FROM audit_seal; DELETE FROM audit_event")
    result = _run(app, audit_anchor)
    assert result.exit_code == 0, result.output
    assert "nothing anchored" in result.output
    assert not anchor_file.exists()


def test_anchor_needs_a_target(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_TARGET", None)
    result = _run(app, audit_anchor)
    assert result.exit_code == 1
    assert "AUDIT_ANCHOR_TARGET is not set" in result.output
    result = _run(app, audit_verify)
    assert result.exit_code == 0
    assert "No anchors to check" in result.output


def test_a_line_that_is_not_an_anchor_fails_verify(app, db_session, anchor_file):
    _events(db_session, 1)
    assert _run(app, audit_anchor).exit_code == 0
    with anchor_file.open("a") as out:
        out.write('{"event_id": "x"}\n')
    result = _run(app, audit_verify)
    assert result.exit_code == 1
    assert f"NOT VERIFIED: {anchor_file} line 2 is not an audit anchor" in result.output


def test_file_targets_are_named_by_path_or_file_url(tmp_path):
    for value in (str(tmp_path / "a.jsonl"), f"file://{tmp_path / 'a.jsonl'}"):
        target = anchor_target_from_config({"AUDIT_ANCHOR_TARGET": value})
        assert isinstance(target, FileAnchorTarget)
        assert target.path == tmp_path / "a.jsonl"
    assert anchor_target_from_config({"AUDIT_ANCHOR_TARGET": ""}) is None


# --- S3: one object per anchor, never overwritten ------------------------------------------


def test_each_anchor_is_a_new_s3_object(app, db_session, anchor_bucket):
    first = _events(db_session, 2)[-1]
    assert _run(app, audit_anchor).exit_code == 0
    second = _events(db_session, 1)[-1]
    result = _run(app, audit_anchor)
    assert result.exit_code == 0, result.output
    keys = _keys(anchor_bucket)
    assert len(keys) == 2
    assert keys[0].startswith(f"{PREFIX}{first.id:020d}-")
    assert keys[1].startswith(f"{PREFIX}{second.id:020d}-")
    assert f"s3://{BUCKET}/{keys[1]}" in result.output
    body = json.loads(anchor_bucket.get_object(Bucket=BUCKET, Key=keys[1])["Body"].read())
    assert (body["event_id"], body["event_hash"]) == (
        second.id,
        _seal_of(db_session, second).event_hash,
    )
    head = anchor_bucket.head_object(Bucket=BUCKET, Key=keys[1])
    assert head["ServerSideEncryption"] == "aws:kms"
    result = _run(app, audit_verify)
    assert result.exit_code == 0, result.output
    assert "2 anchors checked" in result.output


def test_an_s3_anchor_is_never_overwritten(app, db_session, anchor_bucket):
    event = _events(db_session, 1)[-1]
    event_hash = _seal_of(db_session, event).event_hash
    target = anchor_target_from_config(app.config)
    assert isinstance(target, S3AnchorTarget)
    anchor = Anchor(event.id, event_hash, 1, clock.now())
    target.record(anchor)
    (key,) = _keys(anchor_bucket)
    original = anchor_bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    later = Anchor(event.id, event_hash, 1, anchor.anchored_at)  # the same key
    with pytest.raises(AnchorError, match="never overwritten"):
        target.record(later)
    assert anchor_bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == original
    target.close()


def test_removing_the_newest_events_is_detected_from_s3_anchors(
    app, owner_db_session, anchor_bucket
):
    newest = _events(owner_db_session, 3)[-1].id
    assert _run(app, audit_anchor).exit_code == 0
    anchor_bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}README.txt", Body=b"not an anchor")
    assert _run(app, audit_verify).exit_code == 0
    _as_owner(
        owner_db_session,
        "DELETE FROM audit_seal WHERE event_id = :id; DELETE FROM audit_event WHERE id = :id",
        id=newest,
    )
    result = _run(app, audit_verify)
    assert result.exit_code == 1
    assert f"BROKEN at event {newest}: it is missing" in result.output
    assert f"s3://{BUCKET}/{PREFIX}" in result.output


def test_an_unreachable_anchor_store_is_reported(aws_credentials):
    target = S3AnchorTarget(
        BUCKET, PREFIX, region=REGION, endpoint_url="http://127.0.0.1:1", max_attempts=1
    )
    with pytest.raises(AnchorError, match="Could not list the anchors"):
        target.read()
    target.close()


def test_s3_targets_need_a_bucket_and_known_encryption():
    with pytest.raises(AnchorError, match="names no bucket"):
        anchor_target_from_config({"AUDIT_ANCHOR_TARGET": "s3:///prefix"})
    with pytest.raises(AnchorError, match="AUDIT_ANCHOR_S3_SSE"):
        anchor_target_from_config(
            {"AUDIT_ANCHOR_TARGET": "s3://bucket/p", "AUDIT_ANCHOR_S3_SSE": "rot13"}
        )
