"""Every object with a status has one table of steps (``claims_portal.statemachine``): each
table is sound, each step leads where its table says, and nothing else assigns a status."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from claims_portal.access.models import AccessRequestStatus
from claims_portal.access.roles import Capability
from claims_portal.access.services import access_requests
from claims_portal.access.services.access_requests import ACCESS_REQUEST
from claims_portal.access.services.tokens import INVITATION, LinkStatus
from claims_portal.audit.actions import follows_grammar
from claims_portal.claims.models import ClaimStatus
from claims_portal.claims.services.lifecycle import ROUTED_TARGETS, TRANSITIONS
from claims_portal.jobs.models import JobStatus
from claims_portal.jobs.services import JOB
from claims_portal.national.models import LoadStatus, SubmissionStatus
from claims_portal.national.models import OfferStatus as NationalOfferStatus
from claims_portal.national.services import offer_lists
from claims_portal.national.services.extracts import LOAD as ACHIEVEMENT_LOAD
from claims_portal.national.services.machines import OFFER as NATIONAL_OFFER
from claims_portal.national.services.manual_entry.saving import MANUAL_SUBMISSION
from claims_portal.payments.models import PaymentFileStatus, PaymentStatus, RecoveryStatus
from claims_portal.payments.services.machines import PAYMENT, PAYMENT_FILE
from claims_portal.payments.services.recoveries import RECOVERY
from claims_portal.schemes.models import OfferStatus, SchemeStatus
from claims_portal.schemes.services import offers
from claims_portal.schemes.services import schemes as scheme_services
from claims_portal.schemes.services.offers import OFFER
from claims_portal.schemes.services.schemes import SCHEME
from claims_portal.service_settings import access_settings
from claims_portal.statemachine import Machine, table_rows
from tests.admin.helpers import make_tenant
from tests.factories.schemes import ready_scheme

PACKAGE = Path(__file__).resolve().parents[1] / "claims_portal"

MACHINES: dict[str, tuple[Machine[Any], type]] = {
    "offer": (OFFER, OfferStatus),
    "scheme": (SCHEME, SchemeStatus),
    "access_request": (ACCESS_REQUEST, AccessRequestStatus),
    "invitation": (INVITATION, LinkStatus),
    "job": (JOB, JobStatus),
    "payment_recovery": (RECOVERY, RecoveryStatus),
    "payment_file": (PAYMENT_FILE, PaymentFileStatus),
    "payment": (PAYMENT, PaymentStatus),
    "national_offer": (NATIONAL_OFFER, NationalOfferStatus),
    "achievement_load": (ACHIEVEMENT_LOAD, LoadStatus),
    "data_submission": (MANUAL_SUBMISSION, SubmissionStatus),
}


@pytest.mark.parametrize("name", MACHINES)
def test_every_status_is_reachable_from_the_initial_one(name):
    machine, statuses = MACHINES[name]
    assert machine.reachable() == set(statuses)


@pytest.mark.parametrize("name", MACHINES)
def test_the_table_is_sound(name):
    machine, statuses = MACHINES[name]
    names = [step.name for step in machine.steps]
    assert len(names) == len(set(names)), "one row per step"
    for step in machine.steps:
        assert step.sources, step.name
        assert step.sources <= set(statuses)
        assert step.target in statuses
        assert step.capability is not None or step.who, f"{step.name}: who takes it?"
    # Final statuses are left by no step; every other status by at least one.
    for status in statuses:
        leaving = machine.steps_from(status)
        assert bool(leaving) != (status in machine.final), status
    assert all(follows_grammar(action) for action in machine.actions())
    rows = list(table_rows(machine))
    assert len(rows) == len(machine.steps) + 1


def test_every_claim_status_is_reachable_from_draft():
    seen, frontier = {ClaimStatus.DRAFT}, deque([ClaimStatus.DRAFT])
    while frontier:
        status = frontier.popleft()
        for (source, action), rule in TRANSITIONS.items():
            if source is not status:
                continue
            targets = {rule.to_status} if rule.to_status else ROUTED_TARGETS[action]
            for target in targets - seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(ClaimStatus)


# --- Each step leads where the table says ----------------------------------------------------


def _path_to(machine: Machine[Any], status: Any) -> list[str]:
    """Step names leading from the initial status to ``status`` (shortest)."""
    paths: dict[Any, list[str]] = {machine.initial: []}
    frontier = deque([machine.initial])
    while frontier:
        current = frontier.popleft()
        for step in machine.steps_from(current):
            if step.target not in paths:
                paths[step.target] = [*paths[current], step.name]
                frontier.append(step.target)
    return paths[status]


@pytest.mark.parametrize(
    ("step", "source"),
    [(step.name, source) for step in OFFER.steps for source in sorted(step.sources)],
)
def test_every_offer_step_leads_where_the_table_says(db_session, step, source):
    ours = make_tenant()
    scheme = ready_scheme(commissioner=ours.icb)
    scheme_services.publish_scheme(db_session, scheme, actor=ours.admin)
    offer = offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.admin)

    def take(name: str) -> None:
        provider_side = OFFER.step(name).capability is offers.Capability.RESPOND_TO_OFFER
        actor = ours.provider if provider_side else ours.admin
        offers.take_step(db_session, offer, name, actor=actor, reason="Because")

    for earlier in _path_to(OFFER, source):
        take(earlier)
    assert offer.status is source
    take(step)
    assert offer.status is OFFER.step(step).target


@pytest.mark.parametrize("step", [s.name for s in SCHEME.steps])
def test_every_scheme_step_leads_where_the_table_says(db_session, step):
    ours = make_tenant()
    scheme = ready_scheme(commissioner=ours.icb)
    for name in [*_path_to(SCHEME, next(iter(SCHEME.step(step).sources))), step]:
        scheme_services.take_step(db_session, scheme, name, actor=ours.admin)
    assert scheme.status is SCHEME.step(step).target


@pytest.mark.parametrize("step", [s.name for s in ACCESS_REQUEST.steps])
def test_every_access_request_step_leads_where_the_table_says(db_session, step):
    from claims_portal.access.links import Links
    from claims_portal.access.roles import Role
    from tests.factories.access import user_with_role

    ours = make_tenant()
    links = Links("http://localhost")
    requester = user_with_role(Role.APPROVER_TIER_1, ours.sub_location)
    request = access_requests.submit_request(
        db_session,
        organisation=ours.icb,
        role=Role.APPROVER_TIER_1,
        links=links,
        settings=access_settings(),
        requester=requester,
    )
    actor = requester if step == "withdraw" else ours.admin
    access_requests.take_step(
        db_session,
        request,
        step,
        actor=actor,
        reason="Not this team",
        links=links,
        settings=access_settings(),
    )
    assert request.status is ACCESS_REQUEST.step(step).target


@pytest.mark.parametrize("step", [s.name for s in NATIONAL_OFFER.steps])
def test_every_national_offer_step_leads_where_the_table_says(db_session, step):
    from claims_portal.national.models import ProviderLevel
    from claims_portal.national.services import offers as national_offers
    from tests.factories.national import QualityServiceFactory
    from tests.national.offer_helpers import make_scene

    scene = make_scene()
    network = step in ("follow_network", "end_with_network")
    service = QualityServiceFactory(
        provider_level=ProviderLevel.NETWORK if network else ProviderLevel.PRACTICE,
        automatically_accepted=step == "accept_automatically",
    )
    provider = scene.pcn if network else scene.practice
    [offer] = national_offers.offer_service(
        db_session, service, [provider], commissioner=scene.icb, actor=scene.commissioner
    )
    answers = scene.pcn_manager if network else scene.manager

    def take(name: str) -> None:
        capability = NATIONAL_OFFER.step(name).capability
        actor = (
            answers if capability is Capability.RESPOND_TO_NATIONAL_OFFER else scene.commissioner
        )
        national_offers.take_step(db_session, offer, name, actor=actor, reason="Because")

    if not NATIONAL_OFFER.step(step).by_hand:  # taken by the service or by the PCN's offer
        if network:
            take("accept")
            if step == "end_with_network":
                take("cancel")
            offer = national_offers.member_offers(db_session, offer)[0]
        actions = [e.action for e in offer_lists.history(db_session, offer)]
        assert actions[-1] == NATIONAL_OFFER.action(NATIONAL_OFFER.step(step))
    else:
        source = next(iter(NATIONAL_OFFER.step(step).sources))
        for earlier in _path_to(NATIONAL_OFFER, source):
            take(earlier)
        assert offer.status is source
        take(step)
    assert offer.status is NATIONAL_OFFER.step(step).target


# --- Nothing else assigns a status -----------------------------------------------------------

#: Where a status may be assigned: the one setter every transition function calls.
TRANSITION_MODULES = {"claims_portal/statemachine.py"}
#: The email outbox's delivery state (queued, sent, failed) is the sending worker's
#: bookkeeping, not a decision anybody takes: it has no table.
NOT_A_DECISION = {"claims_portal/mail/services/__init__.py"}
_ASSIGNMENT = re.compile(r"\.status\s*=(?!=)|setattr\([^)]*[\"']status[\"']")


def test_no_status_is_assigned_outside_the_transition_functions():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE.parent))
        if where in TRANSITION_MODULES | NOT_A_DECISION:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _ASSIGNMENT.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{where}:{number}: {line.strip()}")
    assert found == [], "use the domain's take_step / transition (statemachine.set_status)"


def test_the_docs_show_the_tables_as_the_code_has_them():
    import importlib.util

    path = PACKAGE.parent / "scripts" / "state_machines.py"
    spec = importlib.util.spec_from_file_location("state_machines", path)
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    docs = script.DOCS.read_text(encoding="utf-8")
    assert script.written(docs) == docs, "run: python scripts/state_machines.py"
