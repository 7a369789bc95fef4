"""Claims: the rules (flush only; the view commits once).

- ``starting``: :func:`start_claim`, :func:`start_options` (open windows of accepted schemes);
- ``entries``: :func:`parse_entries` (units and answers typed on the claim page);
- ``editing``: :func:`save_draft`; ``content``: :func:`submission_problems`;
- ``pricing``: :func:`price_claim` (the calculation core with prior claims for caps);
- ``attachments``: :func:`attach_evidence`, :func:`remove_evidence`;
- ``quarantine``: ``quarantine_files`` - infected uploads kept in quarantine, audited, the
  ICB's administrators told (called by :func:`save_claim_page`);
- ``saving``: :func:`save_claim_page` - one post of the claim page (figures, a file, checked
  before *Check your answers*), :func:`next_review` (who reviews a submitted claim);
- ``lifecycle``: :func:`transition` - the one way a status changes - and :func:`mark_paid`;
- ``settings``: the per-ICB finance threshold;
- ``queries``: simple lists, claimed periods, tariffs used;
- ``listing``, ``bulk``, ``bulk_upload`` and ``bulk_reading``, ``notifications``: the claim
  lists and exports, bulk approval, bulk claims from a spreadsheet (made; read), the emails
  each step queues.

Errors: :class:`ClaimError` (a ``rules.RuleError``: ``problems`` for the page) with
:class:`ClaimInvalid` (400), :class:`ClaimRefused` (403, separation of duties) and
:class:`ClaimConflict` (409, someone changed the claim first); :class:`ClaimNotFound` (404: missing
or not the actor's to see); ``PermissionDenied`` (403) for a missing capability.
"""

from claims_portal.claims.services._common import (
    ClaimConflict,
    ClaimError,
    ClaimInvalid,
    ClaimNotFound,
    ClaimRefused,
    Problem,
    can_view,
    ensure_can_view,
    get_claim,
    is_commissioner_viewer,
    is_provider_viewer,
)
from claims_portal.claims.services.attachments import (
    MAX_FILES_PER_CLAIM,
    attach_evidence,
    evidence_of,
    remove_evidence,
)
from claims_portal.claims.services.content import (
    EVIDENCE_FIELD,
    problems_before_submission,
    submission_problems,
)
from claims_portal.claims.services.editing import lock_for_change, save_draft
from claims_portal.claims.services.entries import (
    ClaimEntries,
    display_answer,
    parse_entries,
)
from claims_portal.claims.services.lifecycle import (
    TRANSITIONS,
    Rule,
    available_actions,
    blocked_by_duties,
    history,
    mark_paid,
    rule_for,
    submission_target,
    transition,
)
from claims_portal.claims.services.pricing import PricedClaim, price_claim, try_price_claim
from claims_portal.claims.services.queries import (
    claimed_period_starts,
    claims_for_commissioner,
    claims_of_provider,
    tariff_used_by_submitted_claim,
)
from claims_portal.claims.services.saving import NextReview, next_review, save_claim_page
from claims_portal.claims.services.settings import (
    finance_threshold,
    parse_threshold,
    set_finance_threshold,
)
from claims_portal.claims.services.starting import StartOption, start_claim, start_options

__all__ = [
    "EVIDENCE_FIELD",
    "MAX_FILES_PER_CLAIM",
    "TRANSITIONS",
    "ClaimConflict",
    "ClaimEntries",
    "ClaimError",
    "ClaimInvalid",
    "ClaimNotFound",
    "ClaimRefused",
    "NextReview",
    "PricedClaim",
    "Problem",
    "Rule",
    "StartOption",
    "attach_evidence",
    "available_actions",
    "blocked_by_duties",
    "can_view",
    "claimed_period_starts",
    "claims_for_commissioner",
    "claims_of_provider",
    "display_answer",
    "ensure_can_view",
    "evidence_of",
    "finance_threshold",
    "get_claim",
    "history",
    "is_commissioner_viewer",
    "is_provider_viewer",
    "lock_for_change",
    "mark_paid",
    "next_review",
    "parse_entries",
    "parse_threshold",
    "price_claim",
    "problems_before_submission",
    "remove_evidence",
    "rule_for",
    "save_claim_page",
    "save_draft",
    "set_finance_threshold",
    "start_claim",
    "start_options",
    "submission_problems",
    "submission_target",
    "tariff_used_by_submitted_claim",
    "transition",
    "try_price_claim",
]
