"""Audit actions follow one grammar, ``<object>.<verb in the past tense>``, and every old
name maps to a current one (events recorded under old names stay readable)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from claims_portal.access.services.access_requests import ACCESS_REQUEST
from claims_portal.access.services.tokens import INVITATION
from claims_portal.audit.actions import (
    RENAMED,
    check,
    current_name,
    follows_grammar,
    recorded_names,
)
from claims_portal.audit.models import AuditEvent
from claims_portal.audit.services import record_event, seal_and_commit, verify_chain
from claims_portal.claims.models import ClaimAction
from claims_portal.claims.services.lifecycle import AUDIT_VERBS, audit_action
from claims_portal.db import utcnow
from claims_portal.decisions import last_event
from claims_portal.schemes.services.offers import OFFER
from claims_portal.schemes.services.schemes import SCHEME

PACKAGE = Path(__file__).resolve().parents[2] / "claims_portal"
#: Helpers whose first positional argument after the session is the action.
_AUDIT_HELPERS = {"_audit"}


def _literal_actions() -> dict[str, str]:
    """Every action written as a literal in the application: action -> where."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            values: list[ast.expr] = [k.value for k in node.keywords if k.arg == "action"]
            if name in _AUDIT_HELPERS and len(node.args) >= 2:
                values.append(node.args[1])
            if name not in {"record_event", *_AUDIT_HELPERS}:
                continue
            for value in values:
                options = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
                for option in options:
                    if isinstance(option, ast.Constant) and isinstance(option.value, str):
                        where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                        found[option.value] = where
    return found


def _table_actions() -> set[str]:
    machines = [OFFER, SCHEME, ACCESS_REQUEST, INVITATION]
    return {a for m in machines for a in m.actions()} | {audit_action(a) for a in ClaimAction}


def test_the_scan_finds_the_actions_it_should():
    literal = _literal_actions()
    assert {"user.invited", "claim.started", "scheme_tariff.added", "mfa.reset"} <= set(literal)
    assert len(literal) > 40


@pytest.mark.parametrize("action", sorted(set(_literal_actions()) | _table_actions()))
def test_every_recorded_action_follows_the_grammar(action):
    assert follows_grammar(action), f"{action} ({_literal_actions().get(action, 'a table')})"


def test_every_claim_step_has_a_past_tense_audit_verb():
    assert set(AUDIT_VERBS) == set(ClaimAction)


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_every_old_name_maps_to_a_name_the_code_records(old, new):
    assert old != new
    assert new in set(_literal_actions()) | _table_actions()
    assert current_name(old) == new
    assert old in recorded_names(new)
    assert recorded_names(new)[0] == new


@pytest.mark.parametrize(
    "action",
    ["claim.submit", "sign_out", "Claim.Submitted", "claim", "claim.submitted.", "offer.accept"],
)
def test_names_outside_the_grammar_are_refused(action):
    with pytest.raises(ValueError, match="past tense"):
        check(action)


@pytest.mark.parametrize(
    "action",
    ["claim.tier_1_approved", "scheme_offer.requested_again", "password.reset", "mail.sent"],
)
def test_past_tenses_regular_and_irregular_are_accepted(action):
    assert check(action) == action


# --- Old events stay readable ----------------------------------------------------------------


def _recorded_long_ago(db_session, action: str, organisation) -> AuditEvent:
    """An event as an older release recorded it (under a name no longer used)."""
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=None,
        actor_label="system",
        organisation_id=organisation.id,
        action=action,
        object_type="claim",
        object_id="1",
        reason="reason-of-the-old-event",
    )
    db_session.add(event)
    db_session.flush()
    return event


def test_the_audit_trail_shows_and_filters_old_events_by_todays_names(client, db_session):
    from tests.admin.helpers import make_tenant
    from tests.helpers import sign_in

    ours = make_tenant()
    _recorded_long_ago(db_session, "claim.submit", ours.icb)
    record_event(
        db_session,
        action="claim.submitted",
        object_type="claim",
        object_id="2",
        organisation=ours.icb,
        reason="reason-of-the-new-event",
    )
    record_event(
        db_session,
        action="claim.withdrawn",
        object_type="claim",
        object_id="3",
        organisation=ours.icb,
    )
    db_session.commit()
    seal_and_commit(db_session)
    assert verify_chain(db_session).broken_event_id is None
    sign_in(client, ours.admin.email)

    listing = client.get("/admin/audit-trail/").get_data(as_text=True)
    assert "claim.submitted <small>(recorded as claim.submit)</small>" in listing

    # The action filter is the first one declared (flt0), "equals" its only operation.
    found = client.get("/admin/audit-trail/?flt0_0=claim.submitted").get_data(as_text=True)
    assert "reason-of-the-old-event" in found
    assert "reason-of-the-new-event" in found
    assert "reason-of-another-step" not in found


def test_who_decided_is_found_under_old_names_too(db_session):
    from tests.admin.helpers import make_tenant

    ours = make_tenant()
    old = _recorded_long_ago(db_session, "claim.mark_paid", ours.icb)
    assert last_event(db_session, "claim", "1", ["claim.paid"]) == old
