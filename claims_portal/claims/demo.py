"""Demo claims for ``make run``: a claim in every status, made through the services.

Claims are started, filled in, submitted and decided by the demo people with the same
services the pages use, so values come from the calculation core and every step has its
history and audit events. Earlier periods' windows are closed by now, so those claims are
made "on" a day their window was open (the ``today`` the services take); their timestamps
are real.

The practices with an Active offer of the health checks scheme make them: Riverside Medical
Centre (Y90001, two-step) and Millbrook Surgery (Y90002, one-step). A claim above the
finance threshold needs a scheme worth it: an enhanced access scheme (£320 a session) is
added and accepted by Millbrook. Loading is idempotent: nothing is made when the demo
practices already have claims. Evidence (a tiny generated PDF) goes to the configured
evidence store when one is given.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.claims.evidence import EvidenceStore, inspect_evidence, stored_evidence
from claims_portal.claims.models import Claim, ClaimAction
from claims_portal.claims.services import (
    ClaimEntries,
    attach_evidence,
    save_draft,
    start_claim,
    transition,
)
from claims_portal.claims.services.settings import ClaimsSettings
from claims_portal.clock import today as clock_today
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.demo import (
    DemoScheme,
    _build,
    financial_year_start,
    health_checks_code,
    year_suffix,
)
from claims_portal.schemes.models import ClaimFrequency, ClaimWindow, Offer, Scheme
from claims_portal.schemes.services import offers as offer_services

A = ClaimAction
PRACTICES = ("Y90001", "Y90002")
PEOPLE = {
    "james": "james.whitfield@example.nhs.net",
    "sarah": "sarah.bennett@example.nhs.net",
    "aisha": "aisha.rahman@example.nhs.net",
    "tom": "tom.okafor@example.nhs.net",
    "helen": "helen.morris@example.nhs.net",
    "gareth": "gareth.lewis@example.nhs.net",
    "priya": "priya.shah@example.nhs.net",
}


def demo_pdf(title: str) -> bytes:
    """A one-page PDF saying ``title`` (hand-written objects with a correct xref table)."""
    safe = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _enhanced_access(year_start: int) -> DemoScheme:
    return DemoScheme(
        code=f"LES-EA-{year_suffix(year_start)}",
        name="Enhanced access sessions (local enhanced service)",
        description="Evening and weekend clinical sessions beyond core hours.",
        commissioner="QXV",
        frequency=ClaimFrequency.MONTHLY,
        year_start=year_start,
        paycode="LESEA04",
        components=[("EA1", "Enhanced access session", "session held", {}, [(0, "320.00")])],
    )


def _windows(schemes: list[Scheme], day: dt.date) -> list[ClaimWindow]:
    """The schemes' windows already open (the latest first), then those to come."""
    windows = [w for scheme in schemes for w in scheme.windows]
    opened = sorted(
        (w for w in windows if w.opens_on <= day), key=lambda w: w.period_start, reverse=True
    )
    later = sorted((w for w in windows if w.opens_on > day), key=lambda w: w.period_start)
    return opened + later


def _day_in(window: ClaimWindow, day: dt.date) -> dt.date:
    return day if window.is_open_on(day) else window.opens_on


class _Maker:
    def __init__(
        self,
        session: DbSession,
        store: EvidenceStore | None,
        day: dt.date,
        settings: ClaimsSettings,
    ) -> None:
        self.session = session
        self.store = store
        self.day = day
        self.settings = settings
        self.people = {
            name: session.scalars(select(User).where(User.email == email)).one()
            for name, email in PEOPLE.items()
        }
        self.created = 0

    def claim(
        self,
        provider: Organisation,
        window: ClaimWindow,
        by: str,
        units: list[int],
        *,
        evidence: str | None = None,
    ) -> Claim:
        """A draft with ``units`` entered (and a PDF when ``evidence`` names it)."""
        actor = self.people[by]
        day = _day_in(window, self.day)
        claim = start_claim(self.session, provider, window.scheme, window, actor, day)
        entries = ClaimEntries(units=dict(zip([ln.id for ln in claim.lines], units, strict=False)))
        save_draft(self.session, claim.id, actor, expected_version=claim.version, entries=entries)
        if evidence and self.store is not None:
            self._attach(claim, actor, evidence)
        self.created += 1
        return claim

    def _attach(self, claim: Claim, actor: User, title: str) -> None:
        assert self.store is not None
        # Checked like any upload, so the demo file is a real, acceptable PDF.
        inspected = inspect_evidence(demo_pdf(title), f"{title.lower().replace(' ', '-')}.pdf")
        with stored_evidence(self.store, inspected, now=utcnow()) as stored:
            attach_evidence(
                self.session,
                claim.id,
                stored=stored,
                evidence=inspected,
                actor=actor,
                expected_version=claim.version,
            )
            self.session.flush()

    def step(self, claim: Claim, action: ClaimAction, by: str, reason: str | None = None) -> None:
        day = _day_in(claim.window, self.day)
        transition(
            self.session,
            claim.id,
            action,
            self.people[by],
            expected_version=claim.version,
            reason=reason,
            today=day,
            settings=self.settings,
        )


def load_demo_claims(
    session: DbSession,
    *,
    store: EvidenceStore | None = None,
    settings: ClaimsSettings | None = None,
) -> int:
    """Create the demo claims unless the demo practices have claims; returns how many
    records were made (claims, and the enhanced access scheme and its offer). ``settings``
    route the approved ones (the defaults unless given)."""
    day = clock_today()
    found = _practices_and_schemes(session, day)
    if found is None:
        return 0
    practices, health_checks = found
    maker = _Maker(session, store, day, settings or ClaimsSettings())
    riverside, millbrook = practices["Y90001"], practices["Y90002"]
    # The enhanced access scheme of last month's year, so that a window of it has opened.
    access = _enhanced_access_scheme(
        session, maker, millbrook, financial_year_start(day.replace(day=1) - dt.timedelta(days=1))
    )
    # This year's and last year's: at least twelve windows have opened (the latest is open,
    # its windows lasting longer than a month) and one is still to come.
    windows = _windows(health_checks, day)
    _millbrook_claims(session, maker, millbrook, windows[:5], _windows([access], day)[0])
    # Riverside claims for earlier periods, leaving its latest windows open and its oldest
    # missed as the scheme pages show them (tests/schemes/test_demo_schemes.py).
    _riverside_claims(maker, riverside, windows[2:6])
    session.flush()
    return maker.created


def _practices_and_schemes(
    session: DbSession, day: dt.date
) -> tuple[dict[str, Organisation], list[Scheme]] | None:
    """The demo practices and both years' health checks; None when missing or claimed."""
    practices = {
        o.ods_code: o
        for o in session.scalars(select(Organisation).where(Organisation.ods_code.in_(PRACTICES)))
    }
    if len(practices) < len(PRACTICES):
        return None
    already = session.scalar(
        select(Claim.id).where(Claim.provider_id.in_([p.id for p in practices.values()])).limit(1)
    )
    if already is not None:
        return None
    year_start = financial_year_start(day)
    codes = [health_checks_code(year_start - 1), health_checks_code(year_start)]
    health_checks = list(session.scalars(select(Scheme).where(Scheme.code.in_(codes))))
    if len(health_checks) < len(codes):
        return None
    return practices, health_checks


_TO_PAYMENT = ((A.SUBMIT, "aisha"), (A.TIER_1_APPROVE, "tom"), (A.TIER_2_APPROVE, "helen"))


def _millbrook_claims(
    session: DbSession,
    maker: _Maker,
    millbrook: Organisation,
    windows: list[ClaimWindow],
    access_window: ClaimWindow,
) -> None:
    """Millbrook (one-step): from a draft to paid, and one above the finance threshold."""
    p1, p2, p3, p4, p5 = windows
    maker.claim(millbrook, p1, "aisha", [18, 5])  # Draft
    review = maker.claim(millbrook, p2, "aisha", [42, 12], evidence="Health checks report")
    maker.step(review, A.SUBMIT, "aisha")  # Awaiting commissioner review
    payment = maker.claim(millbrook, p3, "aisha", [37, 9])
    maker.step(payment, A.SUBMIT, "aisha")
    maker.step(payment, A.TIER_1_APPROVE, "tom")  # Awaiting payment approval
    approved = maker.claim(millbrook, p4, "aisha", [51, 14])
    for action, who in _TO_PAYMENT:
        maker.step(approved, action, who)  # Approved for payment
    paid = maker.claim(millbrook, p5, "aisha", [47, 10], evidence="Audit summary")
    for action, who in _TO_PAYMENT:
        maker.step(paid, action, who)
    # Paid by the payments demo's run (payments/demo.py), which has the agency reject the
    # row of the claim above: it is back at Approved for payment, waiting for finance.
    # Above the finance threshold: 60 sessions at £320.
    big = maker.claim(millbrook, access_window, "aisha", [60])
    for action, who in _TO_PAYMENT:
        maker.step(big, action, who)  # Awaiting finance approval


def _riverside_claims(maker: _Maker, riverside: Organisation, windows: list[ClaimWindow]) -> None:
    """Riverside (two-step): the provider approver's steps, a decline and a withdrawal."""
    r1, r2, r3, r4 = windows
    waiting = maker.claim(riverside, r1, "james", [22, 6])
    maker.step(waiting, A.SUBMIT, "james")  # Awaiting provider approval
    returned = maker.claim(riverside, r2, "james", [30, 8])
    maker.step(returned, A.SUBMIT, "james")
    maker.step(
        returned,
        A.PROVIDER_RETURN,
        "sarah",
        "The follow-up count includes appointments booked but not held.",
    )  # Returned by provider approver
    declined = maker.claim(riverside, r3, "james", [64, 3], evidence="Clinic list")
    maker.step(declined, A.SUBMIT, "james")
    maker.step(declined, A.PROVIDER_APPROVE, "sarah")
    maker.step(
        declined,
        A.TIER_1_DECLINE,
        "tom",
        "The checks exceed the eligible population for the month; please recount.",
    )  # Declined
    withdrawn = maker.claim(riverside, r4, "james", [5, 0])
    maker.step(withdrawn, A.WITHDRAW, "james", "Started for the wrong month.")  # Withdrawn


def _enhanced_access_scheme(
    session: DbSession, maker: _Maker, provider: Organisation, year_start: int
) -> Scheme:
    demo = _enhanced_access(year_start)
    scheme = session.scalars(select(Scheme).where(Scheme.code == demo.code)).first()
    if scheme is None:
        commissioner = session.scalars(
            select(Organisation).where(Organisation.ods_code == demo.commissioner)
        ).one()
        scheme = _build(session, demo, commissioner, maker.people["priya"])
        maker.created += 1
    offer = session.scalar(
        select(Offer).where(Offer.scheme_id == scheme.id, Offer.provider_id == provider.id)
    )
    if offer is None:
        offer = offer_services.offer_scheme(session, scheme, provider, actor=maker.people["priya"])
        offer_services.accept_offer(session, offer, actor=maker.people["aisha"])
        maker.created += 1
    return scheme
