"""One unit of work per request: commit on success, roll back on a refusal, keep on purpose."""

from __future__ import annotations

import json

from flask import Response
from sqlalchemy import column, func, select, table

from claims_portal import unit_of_work
from claims_portal.claims.services import ClaimConflict
from claims_portal.errors import _rule_error
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.rules import Problem, RuleError, problems_of
from tests.factories.organisations import IcbFactory


def _new_icb_name(icb: Organisation, name: str) -> None:
    icb.name = name
    db.session.flush()


def _name_of(icb_id: int) -> str:
    db.session.expire_all()
    return db.session.scalars(select(Organisation.name).where(Organisation.id == icb_id)).one()


def test_a_successful_response_commits_and_runs_the_after_commit_callbacks(app, db_session):
    icb = IcbFactory(name="Before")
    ran: list[str] = []
    with app.test_request_context("/"):
        _new_icb_name(icb, "After")
        unit_of_work.after_commit(lambda: ran.append("committed"))
        unit_of_work.after_rollback(lambda: ran.append("rolled back"))
        unit_of_work.finish(Response(status=302))
        db.session.rollback()  # nothing left to undo: the change was committed
    assert _name_of(icb.id) == "After"
    assert ran == ["committed"]


def test_a_refused_response_rolls_back_and_runs_the_compensations(app, db_session):
    icb = IcbFactory(name="Before")
    ran: list[str] = []
    with app.test_request_context("/"):
        _new_icb_name(icb, "After")
        unit_of_work.after_commit(lambda: ran.append("committed"))
        unit_of_work.after_rollback(lambda: ran.append("rolled back"))
        unit_of_work.finish(Response(status=409))
    assert _name_of(icb.id) == "Before"
    assert ran == ["rolled back"]


def test_refuse_rolls_back_at_once_whatever_the_status(app, db_session):
    icb = IcbFactory(name="Before")
    with app.test_request_context("/"):
        _new_icb_name(icb, "After")
        problems = unit_of_work.refuse(RuleError("Nothing was changed.", field="name"))
        assert problems == [Problem("Nothing was changed.", "name")]
        assert _name_of(icb.id) == "Before"  # the page is drawn from the data as it is
        unit_of_work.finish(Response(status=200))
    assert _name_of(icb.id) == "Before"


def test_keep_on_refusal_commits_the_bookkeeping_of_a_refused_request(app, db_session):
    icb = IcbFactory(name="Before")
    with app.test_request_context("/"):
        _new_icb_name(icb, "Counted")
        unit_of_work.keep_on_refusal()
        unit_of_work.refuse(RuleError("Enter the correct code"))
        unit_of_work.finish(Response(status=400))
        db.session.rollback()
    assert _name_of(icb.id) == "Counted"


def test_a_view_that_raises_rolls_back(app, db_session):
    icb = IcbFactory(name="Before")
    with app.test_request_context("/"):
        _new_icb_name(icb, "After")
        unit_of_work.fail()
    assert _name_of(icb.id) == "Before"


def test_a_read_only_request_keeps_its_connections_prepared_statements(app):
    """A request that only read ends with COMMIT, not the pool's ROLLBACK: psycopg forgets a
    connection's prepared statements on a ROLLBACK, so every page would plan every query
    afresh. Here the same query, run by request after request on the pooled connection,
    is prepared after psycopg's threshold (5) and stays prepared."""
    query = select(Organisation.id).where(Organisation.id == -1)
    with app.app_context():
        db.engine.dispose()  # one pooled connection, used by each request in turn
    for _ in range(8):
        with app.test_request_context("/"):
            assert db.session.execute(query).all() == []
            unit_of_work.finish(Response(status=200))
            assert not db.session().in_transaction()
            db.session.remove()
    with app.test_request_context("/"):
        prepared = db.session.scalars(
            select(func.count())
            .select_from(table("pg_prepared_statements"))
            .where(column("statement").like("SELECT organisation.id %"))
        ).one()
        db.session.remove()
        db.engine.dispose()
    assert prepared == 1


def test_a_rule_error_no_view_caught_is_one_json_problem(app):
    error = ClaimConflict([Problem("Someone approved it first.", "version"), "Nothing changed."])
    with app.test_request_context("/api/claims/1", headers={"Accept": "application/json"}):
        response, status = _rule_error(error)
    assert status == 409
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["status"] == 409
    assert body["errors"] == [
        {"detail": "Someone approved it first.", "field": "version"},
        {"detail": "Nothing changed."},
    ]


def test_every_domain_error_is_a_rule_error():
    from claims_portal.access.services import AccessConflict, AccessError
    from claims_portal.claims.services import ClaimError
    from claims_portal.organisations.services import OrganisationConflict, OrganisationError
    from claims_portal.schemes.services import SchemeConflict, SchemeError

    for kind in (ClaimError, AccessError, SchemeError, OrganisationError):
        assert issubclass(kind, RuleError)
        assert kind("A problem").problems == [Problem("A problem")]
    for conflict in (ClaimConflict, AccessConflict, SchemeConflict, OrganisationConflict):
        assert conflict.status_code == 409
    assert AccessError("Enter an email address", field="email").field == "email"
    assert problems_of(SchemeError(["One", "Two"])) == [Problem("One"), Problem("Two")]
