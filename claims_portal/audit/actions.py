"""The names of audit actions: ``<object>.<verb in the past tense>`` (``claim.submitted``,
``scheme_offer.accepted``, ``user.signed_out``).

Events already recorded keep the names they were recorded with: the hash chain covers them,
so they are never rewritten. :data:`RENAMED` maps each old name to its new one; pages that
show or filter events read them through :func:`current_name` and :func:`recorded_names`.
:func:`record_event` refuses a name outside the grammar (a programming error, found by the
tests).
"""

from __future__ import annotations

import re

#: Lower-case words joined by ``_``, segments by ``.``: at least ``object.verb``.
_SHAPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
#: Past participles that do not end in -ed.
IRREGULAR = frozenset(
    {
        "sent",
        "resent",
        "held",
        "reset",
        "rebuilt",
        "paid",
        "withdrawn",
        "given",
        "taken",
        "set",
        "written",
    }
)

#: Old action name -> the name the same step is recorded with now.
RENAMED: dict[str, str] = {
    "claim.submit": "claim.submitted",
    "claim.provider_approve": "claim.provider_approved",
    "claim.provider_return": "claim.provider_returned",
    "claim.tier_1_approve": "claim.tier_1_approved",
    "claim.tier_1_decline": "claim.tier_1_declined",
    "claim.tier_2_approve": "claim.tier_2_approved",
    "claim.tier_2_decline": "claim.tier_2_declined",
    "claim.finance_approve": "claim.finance_approved",
    "claim.finance_decline": "claim.finance_declined",
    "claim.withdraw": "claim.withdrawn",
    "claim.mark_paid": "claim.paid",
    "claim.bulk_upload": "claim.bulk_uploaded",
    "claim.bulk_approval": "claim.bulk_approved",
    "sign_out": "user.signed_out",
    "sign_out.everywhere": "user.signed_out_everywhere",
}


def follows_grammar(action: str) -> bool:
    """``object.verb``: the last segment holds a verb in the past tense (``requested_again``,
    ``tier_1_approved``, ``sent``)."""
    if not _SHAPE.match(action):
        return False
    words = action.rsplit(".", 1)[1].split("_")
    return any(word.endswith("ed") or word in IRREGULAR for word in words)


def check(action: str) -> str:
    """``action`` if it follows the grammar; else ValueError."""
    if not follows_grammar(action):
        raise ValueError(f"audit action {action!r} is not '<object>.<verb in the past tense>'")
    return action


def current_name(action: str) -> str:
    """The name an event's step has now (old events were recorded with older names)."""
    return RENAMED.get(action, action)


def recorded_names(action: str) -> list[str]:
    """Every name the step ``action`` has been recorded with: itself, then older ones (for
    queries over events of any age)."""
    new = current_name(action)
    return [new, *(old for old, renamed in RENAMED.items() if renamed == new)]
