"""The schedule (JOBS_SCHEDULE) and the slot a run belongs to, on England's clock."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from claims_portal.config import BaseConfig, ConfigurationError, load_config
from claims_portal.jobs.schedule import (
    DEFAULT_SCHEDULE,
    AlignedEvery,
    DailyAt,
    Every,
    ScheduleError,
    parse_schedule,
)

UTC = dt.UTC


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("moment", "slot"),
    [
        # GMT: 02:00 in England is 02:00 UTC.
        ("2026-12-01T02:00:00+00:00", "2026-12-01T02:00:00+00:00"),
        ("2026-12-01T01:59:59+00:00", "2026-11-30T02:00:00+00:00"),
        ("2026-12-01T23:00:00+00:00", "2026-12-01T02:00:00+00:00"),
        # BST: 02:00 in England is 01:00 UTC.
        ("2026-07-01T01:30:00+00:00", "2026-07-01T01:00:00+00:00"),
        ("2026-07-01T00:30:00+00:00", "2026-06-30T01:00:00+00:00"),
        # The spring change (29 March 2026, 01:00 GMT -> 02:00 BST): 02:00 BST is 01:00 UTC.
        ("2026-03-29T01:30:00+00:00", "2026-03-29T01:00:00+00:00"),
        # The autumn change (25 October 2026): 02:00 GMT is 02:00 UTC, the day after 01:00.
        ("2026-10-25T02:30:00+00:00", "2026-10-25T02:00:00+00:00"),
        ("2026-10-25T01:30:00+00:00", "2026-10-24T01:00:00+00:00"),
    ],
)
def test_a_daily_slot_is_the_latest_time_of_day_in_england(moment, slot):
    assert DailyAt(2, 0).slot(_at(moment)) == _at(slot)


@pytest.mark.parametrize(
    ("moment", "slot"),
    [
        ("2026-12-01T13:52:10.007+00:00", "2026-12-01T13:52:10+00:00"),
        ("2026-12-01T13:52:11.999+00:00", "2026-12-01T13:52:10+00:00"),
        ("2026-12-01T13:52:12+00:00", "2026-12-01T13:52:12+00:00"),
    ],
)
def test_an_interval_slot_is_aligned_to_the_epoch(moment, slot):
    assert Every(2).slot(_at(moment)) == _at(slot)


def test_the_default_schedule():
    assert BaseConfig.JOBS_SCHEDULE == DEFAULT_SCHEDULE
    assert parse_schedule(DEFAULT_SCHEDULE) == {
        "mail.sweep-outbox": Every(300),
        "jobs.sweep": Every(300),
        "claims.sweep-evidence": DailyAt(2, 0),
        "audit.verify": DailyAt(3, 0),
        "mail.daily-digest": DailyAt(7, 0),
        "payments.statements": DailyAt(6, 0),
        "payments.run": DailyAt(15, 0),
        "payments.answers": DailyAt(16, 0),
    }


def test_an_entry_can_be_taken_out_or_replaced():
    text = DEFAULT_SCHEDULE + "; audit.verify=; mail.sweep-outbox=every 1 hour"
    assert parse_schedule(text) == {
        "mail.sweep-outbox": Every(3600),
        "jobs.sweep": Every(300),
        "claims.sweep-evidence": DailyAt(2, 0),
        "mail.daily-digest": DailyAt(7, 0),
        "payments.statements": DailyAt(6, 0),
        "payments.run": DailyAt(15, 0),
        "payments.answers": DailyAt(16, 0),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("audit.verify", "is not KIND=WHEN"),
        ("audit.verify=nightly", "neither 'daily at HH:MM'"),
        ("audit.verify=daily at 25:00", "neither"),
        ("audit.verify=every 0 minutes", "more than 0"),
        ("audit.verfy=daily at 03:00", "not a scheduled job"),
    ],
)
def test_a_wrong_entry_is_named(text, message):
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(text, known={"audit.verify"})


def test_the_setting_is_checked_at_start_up(monkeypatch, tmp_path):
    monkeypatch.setenv("JOBS_SCHEDULE", "audit.verify=at three")
    with pytest.raises(ConfigurationError, match=r"JOBS_SCHEDULE entry for audit\.verify"):
        load_config(str(tmp_path), "test")


def test_production_refuses_jobs_in_the_web_process(monkeypatch, tmp_path):
    for name, value in {
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": "postgresql://db/portal",
        "MFA_SECRET_KEYS": base64.urlsafe_b64encode(b"k" * 32).decode().rstrip("="),
        "PUBLIC_BASE_URL": "https://claims.example.nhs.uk",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "JOBS_RUN_IN_PROCESS": "true",
    }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="JOBS_RUN_IN_PROCESS is for development"):
        load_config(str(tmp_path), "production")
    monkeypatch.setenv("JOBS_RUN_IN_PROCESS", "false")
    assert load_config(str(tmp_path), "production")["JOBS_RUN_IN_PROCESS"] is False


def test_jobs_need_a_broker_unless_run_in_process(monkeypatch, tmp_path):
    monkeypatch.setenv("JOBS_RUN_IN_PROCESS", "false")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    with pytest.raises(ConfigurationError, match="Jobs need a broker"):
        load_config(str(tmp_path), "test")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    assert load_config(str(tmp_path), "test")["JOBS_RUN_IN_PROCESS"] is False


def test_the_schedulers_fire_at_the_same_instants():
    moments = iter([_at("2026-12-01T13:52:09.990+00:00"), _at("2026-12-01T13:52:10.001+00:00")])
    schedule = AlignedEvery(2, nowfun=lambda: next(moments))
    last = _at("2026-12-01T13:52:08.500+00:00")
    early = schedule.is_due(last)
    assert not early.is_due
    assert early.next == pytest.approx(0.01, abs=1e-6)
    assert schedule.is_due(last).is_due
