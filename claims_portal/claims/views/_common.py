"""What the claim views share: the signed-in user, loading a claim the user may see, the
evidence store, and the context of the claim page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import abort, current_app, render_template
from flask.typing import ResponseReturnValue

from claims_portal.access import current
from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import has_capability
from claims_portal.claims import services
from claims_portal.claims.evidence import EvidenceStore, store_from_config
from claims_portal.claims.forms import StepForm
from claims_portal.claims.models import Claim, ClaimAction, ClaimEvent
from claims_portal.claims.services import ClaimNotFound, Problem, changes, timing
from claims_portal.claims.services.explaining import ValueAccount, present
from claims_portal.claims.services.lifecycle import SUBMISSIONS, TRANSITIONS
from claims_portal.claims.services.pricing import explanation_of, price_as_it_stands
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.hosts import public_base_url
from claims_portal.routes import Target, requires_on

APPROVE_ACTIONS = frozenset(
    {
        ClaimAction.PROVIDER_APPROVE,
        ClaimAction.TIER_1_APPROVE,
        ClaimAction.TIER_2_APPROVE,
        ClaimAction.FINANCE_APPROVE,
    }
)
DECLINE_ACTIONS = frozenset(
    {ClaimAction.TIER_1_DECLINE, ClaimAction.TIER_2_DECLINE, ClaimAction.FINANCE_DECLINE}
)


def base_url() -> str:
    """The start of links in emails: PUBLIC_BASE_URL, never the request's Host header."""
    return public_base_url()


def claim_or_404(claim_id: int) -> Claim:
    """The claim, if the signed-in user may see it; another organisation's is not found."""
    try:
        return services.get_claim(db.session, claim_id, current.person())
    except ClaimNotFound:
        abort(404)


def _visible_claim(user: User, claim_id: int) -> Claim | None:
    try:
        return services.get_claim(db.session, claim_id, user)
    except ClaimNotFound:
        return None


def _visible_whole_claim(user: User, claim_id: int) -> Claim | None:
    try:
        return services.get_claim(db.session, claim_id, user, whole=True)
    except ClaimNotFound:
        return None


#: A claim the person may see (another organisation's, or one not yet sent to the
#: commissioner, is not found).
CLAIM: Target[Claim] = Target("claim", "claim_id", "claim", _visible_claim, lambda c: c.provider)
#: The same, with all the claim page shows, for the pages that show it.
WHOLE_CLAIM: Target[Claim] = Target(
    "claim", "claim_id", "claim", _visible_whole_claim, lambda c: c.provider
)

#: Seeing the claim: its practice's users, or the commissioners above it once sent to them.
seen_claim = requires_on(
    WHOLE_CLAIM, Capability.VIEW_PROVIDER_CLAIMS, Capability.VIEW_COMMISSIONER_CLAIMS
)

#: A step on the claim: seeing it, then the step's own capability from the lifecycle table.
claim_step = requires_on(
    CLAIM,
    Capability.VIEW_PROVIDER_CLAIMS,
    Capability.VIEW_COMMISSIONER_CLAIMS,
    note="then the step's capability (claims lifecycle `TRANSITIONS`)",
)


#: Changing a draft (or a claim sent back): its practice's claim makers.
edited_claim = requires_on(
    CLAIM, Capability.CREATE_CLAIM, note="a claim no longer editable shows why (409)"
)


def can_edit(claim: Claim, user: User) -> bool:

    return (
        claim.is_editable
        and services.is_provider_viewer(user, claim)
        and has_capability(user, Capability.CREATE_CLAIM, claim.provider)
    )


@contextmanager
def evidence_store() -> Iterator[EvidenceStore]:
    store = store_from_config(current_app.config)
    try:
        yield store
    finally:
        store.close()


# --- The claim's value as the page shows it ------------------------------------------------


@dataclass
class ValueRow:
    name: str
    code: str
    unit_label: str
    units: int | None
    unit_value: Decimal | None
    tariff_from: Any = None
    gross_value: Decimal | None = None
    payable_units: int | None = None
    value: Decimal | None = None
    cap_note: str | None = None


@dataclass
class ValueView:
    """The lines and total shown on the claim page, and how they were calculated."""

    rows: list[ValueRow] = field(default_factory=list)
    total: Decimal | None = None
    #: "submitted": the figures stored at submission; "live": calculated now (not stored).
    source: str = "live"
    explanation: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def account(self) -> ValueAccount | None:
        """The explanation in words, for practices (``services/explaining.py``)."""
        if not self.explanation:
            return None
        return present(self.explanation, {row.code: row.name for row in self.rows})


def value_view(claim: Claim, events: list[ClaimEvent], *, live: bool = False) -> ValueView:
    """The figures stored at the last submission (and the explanation kept with them) while
    they stand; a live calculation for a draft, once a sent-back claim's units change, or
    when ``live`` (what a submission now would store: *Check your answers*)."""
    stored = (
        not live
        and claim.submitted_at is not None
        and all(line.value is not None for line in claim.lines if line.units is not None)
    )
    if stored:
        submission = next((e for e in reversed(events) if e.action in SUBMISSIONS), None)
        details = (submission.details or {}) if submission is not None else {}
        return ValueView(
            rows=[
                ValueRow(
                    line.component.name,
                    line.component.code,
                    line.component.unit_label,
                    line.units,
                    line.unit_value,
                    line.tariff.effective_from if line.tariff is not None else None,
                    line.gross_value,
                    line.payable_units,
                    line.value,
                    line.cap_note,
                )
                for line in claim.lines
            ],
            total=claim.value,
            source="submitted",
            explanation=details.get("explanation"),
        )
    priced, problems = price_as_it_stands(db.session, claim)
    view = ValueView(problems=problems)
    for line in claim.lines:
        item = priced.for_line(line) if priced is not None else None
        row = ValueRow(
            line.component.name, line.component.code, line.component.unit_label, line.units, None
        )
        if item is not None:
            result = item.result
            row.unit_value = result.tariff.amount
            row.tariff_from = result.tariff.effective_from
            row.gross_value = result.gross_value
            row.payable_units = result.payable_units
            row.value = result.value
            row.cap_note = result.cap_reason
        view.rows.append(row)
    if priced is not None:
        view.total = priced.total
        view.explanation = explanation_of(priced)
    return view


# --- The claim page ------------------------------------------------------------------------


def render_claim(
    claim: Claim,
    *,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The claim page, with ``problems`` in the error summary (a conflict, a refusal)."""
    user = current.person()
    events = services.history(db.session, claim.id, with_actors=True)
    actions = services.available_actions(db.session, claim, user, events=events)
    answers = {a.question_id: a.value for a in claim.answers}
    context = {
        "claim": claim,
        "events": events,
        "approve_actions": [a for a in actions if a in APPROVE_ACTIONS],
        "decline_action": next((a for a in actions if a in DECLINE_ACTIONS), None),
        "can_return": ClaimAction.PROVIDER_RETURN in actions,
        "can_withdraw": ClaimAction.WITHDRAW in actions,
        "can_edit": can_edit(claim, user),
        "deadline": timing.submission_deadline(claim, today()),
        # Steps, and every change between them (figures, evidence), in one history.
        "timeline": changes.timeline(events, changes.changes_of(db.session, claim)),
        "blocked": services.blocked_by_duties(db.session, claim, user, events=events),
        "labels": {action: rule.label for (_, action), rule in TRANSITIONS.items()},
        "value": value_view(claim, events),
        "answers": [
            (q, services.display_answer(q, answers.get(q.id))) for q in claim.scheme.questions
        ],
        "problems": problems or [],
        "form": StepForm(formdata=None, version=claim.version),
    }
    return render_template("claims/detail.html", **context), status
