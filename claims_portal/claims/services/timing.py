"""When a claim the practice holds can be submitted, as the claim and edit pages say it.

A first submission needs the claim window open (``content.submission_problems``); a claim
sent back (declined or returned) may be resubmitted after its window closed, so it is never
told "Claim by" a day that has passed.
"""

from __future__ import annotations

import datetime as dt

from claims_portal.claims.models import SENT_BACK_STATUSES, Claim, ClaimStatus
from claims_portal.formatting import long_date


def submission_deadline(claim: Claim, today: dt.date) -> str | None:
    """One sentence on when ``claim`` can be submitted; None once it left the practice."""
    closes = claim.window.closes_on
    if claim.status is ClaimStatus.DRAFT:
        if today <= closes:
            return f"Claim by {long_date(closes)}."
        return (
            f"The claim window closed on {long_date(closes)}: this draft can no longer be "
            "submitted. You can withdraw it."
        )
    if claim.status in SENT_BACK_STATUSES:
        if today <= closes:
            return (
                "Change what is needed and submit it again. A claim sent back may be "
                "resubmitted even after its claim window closes "
                f"({long_date(closes)})."
            )
        return (
            f"The claim window closed on {long_date(closes)}, but this claim was sent back, "
            "so it may still be resubmitted: change what is needed and submit it again."
        )
    return None
