"""Closing a scheme with claims still in progress: what the ICB is warned of before it
closes, and what each practice with such claims is told (message centre item and email).

Called from the scheme's one ``take_step`` (``schemes.py``) when it takes the ``close`` step.
After closing, no new claim can start and a draft can no longer be submitted; a claim being
reviewed is still decided, and a claim sent back may still be changed and resubmitted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import holders
from claims_portal.db import DbSession
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services.notices import tell
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.models import Scheme
from claims_portal.schemes.services.claims_usage import ClaimInProgress, claims_usage

#: What each kind of claim in progress means once the scheme is closed.
AFTER_CLOSING = {
    "draft": "Drafts can no longer be submitted: withdraw them.",
    "review": "Claims being reviewed will still be decided.",
    "sent_back": "Claims sent back to you can still be changed and resubmitted.",
}


@dataclass(frozen=True)
class InProgress:
    """A scheme's claims in progress, as the close warning and its notices count them."""

    claims: list[ClaimInProgress] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.claims)

    @property
    def practices(self) -> list[Organisation]:
        return list({c.provider.id: c.provider for c in self.claims}.values())

    @property
    def warning(self) -> str:
        """The ICB's warning before it closes the scheme ("" when nothing is in progress)."""
        if not self.claims:
            return ""
        stages = Counter(c.stage for c in self.claims)
        parts = [
            f"{stages[stage]} {label}"
            for stage, label in (
                ("draft", "draft"),
                ("review", "being reviewed"),
                ("sent_back", "sent back"),
            )
            if stages[stage]
        ]
        practices = len(self.practices)
        return (
            f"{_claims(self.count)} in progress ({', '.join(parts)}) at "
            f"{practices} practice{'' if practices == 1 else 's'}: each practice will be told. "
            "Drafts can no longer be submitted once the scheme is closed."
        )


def _claims(count: int) -> str:
    return f"{count} claim{'' if count == 1 else 's'}"


def in_progress(session: DbSession, scheme: Scheme) -> InProgress:
    """The scheme's claims not yet approved for payment, paid or withdrawn."""
    return InProgress(claims_usage().claims_in_progress(session, scheme))


def tell_practices(
    session: DbSession,
    scheme: Scheme,
    claims: InProgress,
    *,
    actor: User,
    base_url: str | None,
) -> int:
    """Tell the people of each practice with claims in progress that ``scheme`` closed;
    returns how many practices were told."""
    for practice in claims.practices:
        own = [c for c in claims.claims if c.provider.id == practice.id]
        subject = f"{scheme.name} was closed: {_claims(len(own))} of yours in progress"
        lines = "\n".join(f"- {c.reference}: {c.status}" for c in own)
        meaning = " ".join(
            AFTER_CLOSING[stage]
            for stage in ("draft", "review", "sent_back")
            if any(c.stage == stage for c in own)
        )
        body = (
            f"{scheme.commissioner.name} closed {scheme.name} ({scheme.code}). No new claims "
            f"can be started under it. {practice.display_name}'s claims in progress:\n"
            f"{lines}\n\n{meaning}"
        )
        tell(
            session,
            holders(session, practice, Capability.VIEW_PROVIDER_CLAIMS),
            organisation=practice,
            subject=subject,
            body=body,
            link=f"/claims?scheme={scheme.id}",
            kind=EmailKind.SCHEME_CLOSED,
            actor=actor,
            base_url=base_url,
        )
    return len(claims.practices)
