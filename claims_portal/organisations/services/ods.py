"""Importing England's organisations from Organisation Data Service files (flush only).

:func:`import_ods` reads the files (``ods_files``: the published practice -> PCN -> sub-ICB
-> ICB -> region mapping CSV, and ORD JSON records), checks everything first, and refuses
the whole import with every problem listed (:class:`OdsFileRefused`) before changing
anything. Then, in one savepoint:

- organisations new to the portal are created (a practice one-step, as the ICB may change
  later); known ones get the file's name, dates and parent. The tree is the one the claims
  side scopes by: practice and PCN -> sub-ICB location -> ICB -> NHS England region ->
  the national commissioner (when the portal has exactly one).
- PCN memberships: an ORD record's RE8 relationships are the practice's whole history, so
  each period is added, or its end date corrected; the mapping CSV says which PCN each
  practice is in on ``as_of``, so a practice in another PCN (or none) ends its membership the
  day before and joins the new one on ``as_of``. Memberships are never removed.
- A practice leaving a PCN ends its participation that follows the PCN's offers on its last
  day (``national.services.participation``).
- Nothing is deleted: organisations missing from a file stay as they are.
- A practice (or PCN) with claims is never moved to another ICB by an import: claims keep
  the ICB they were made to (``Claim.icb_id``), and no service moves them yet. The move is
  recorded as held, with its reason, for the ICBs to settle.

Every change is an :class:`OrganisationChange` row of the :class:`OdsImport`; the import
itself is audited as ``ods_import.completed``. Running the same files again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, or_, select

from claims_portal.access.models import User
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim
from claims_portal.db import DbSession
from claims_portal.national.services.participation import end_network_participation
from claims_portal.organisations.models import (
    ApprovalMode,
    NetworkMembership,
    OdsImport,
    Organisation,
    OrganisationChange,
    OrganisationKind,
)
from claims_portal.organisations.services import ALLOWED_PARENTS
from claims_portal.organisations.services.ods_files import (
    OdsFile,
    OdsFileRefused,
    OrgRecord,
    Period,
    read_file,
)
from claims_portal.rules import Problem

K = OrganisationKind
#: Parents before children, so each level finds the one above already in place.
LEVELS = (K.REGION, K.ICB, K.ICB_SUB_LOCATION, K.PCN, K.GP_PRACTICE)
ONE_DAY = dt.timedelta(days=1)


@dataclass
class _Wanted:
    """What all the files say, merged in order (a later file's word wins)."""

    records: dict[str, OrgRecord] = field(default_factory=dict)
    periods: dict[str, list[Period]] = field(default_factory=dict)
    snapshot: dict[str, str | None] = field(default_factory=dict)


def import_ods(
    session: DbSession,
    files: Sequence[tuple[str, bytes]],
    *,
    as_of: dt.date,
    actor: User | None = None,
    run_by: str = "",
) -> OdsImport:
    """Import ``files`` (name and content each) as described in the module's docstring.

    Raises :class:`OdsFileRefused` listing every problem; then nothing was changed.
    """
    if not files:
        raise OdsFileRefused("Name at least one ODS file to import")
    read: list[OdsFile] = []
    problems: list[Problem] = []
    for name, content in files:
        try:
            read.append(read_file(name, content, as_of=as_of))
        except OdsFileRefused as refused:
            problems.extend(refused.problems)
    if problems:
        raise OdsFileRefused(problems)
    wanted = _merge(read)
    with session.begin_nested():
        return _Importer(session, wanted, as_of).run(read, actor=actor, run_by=run_by)


def _merge(files: list[OdsFile]) -> _Wanted:
    wanted = _Wanted()
    problems = []
    for f in files:
        for record in f.organisations:
            earlier = wanted.records.get(record.code)
            if earlier is not None and earlier.kind is not record.kind:
                problems.append(
                    Problem(
                        f"{record.where}: {record.code} is {record.kind.with_article} here but "
                        f"{earlier.kind.with_article} in {earlier.where}"
                    )
                )
                continue
            if earlier is not None:
                record.parent_code = record.parent_code or earlier.parent_code
                if not record.dated:
                    record.dated = earlier.dated
                    record.active_from = earlier.active_from
                    record.active_to = earlier.active_to
            wanted.records[record.code] = record
        wanted.periods.update(f.periods)
        wanted.snapshot.update(f.snapshot)
    if problems:
        raise OdsFileRefused(problems)
    return wanted


class _Importer:
    def __init__(self, session: DbSession, wanted: _Wanted, as_of: dt.date) -> None:
        self.session = session
        self.wanted = wanted
        self.as_of = as_of
        self.problems: list[Problem] = []
        self.by_code: dict[str, Organisation] = {}
        self.ended: list[tuple[Organisation, Organisation, dt.date]] = []
        self.changed: set[str] = set()
        self.pending_changes: list[
            tuple[Organisation, str, str | None, str | None, str | None]
        ] = []
        self.pending_memberships: list[dict[str, object]] = []
        self.record: OdsImport

    # --- checking ---------------------------------------------------------------------------

    def _load(self) -> None:
        codes = set(self.wanted.records)
        codes |= {r.parent_code for r in self.wanted.records.values() if r.parent_code}
        codes |= {p.network_code for ps in self.wanted.periods.values() for p in ps}
        found = self.session.scalars(
            select(Organisation).where(Organisation.ods_code.in_(sorted(codes)))
        ).unique()
        self.by_code = {o.ods_code: o for o in found}
        self.national = self.session.scalars(
            select(Organisation).where(Organisation.kind == K.NATIONAL_COMMISSIONER).limit(2)
        ).all()

    def _kind_of(self, code: str) -> OrganisationKind | None:
        if code in self.wanted.records:
            return self.wanted.records[code].kind
        known = self.by_code.get(code)
        return known.kind if known else None

    def _check(self) -> None:
        for code, record in self.wanted.records.items():
            known = self.by_code.get(code)
            if known is not None and known.kind is not record.kind:
                self.problems.append(
                    Problem(
                        f"{record.where}: {code} is {record.kind.with_article} in the file but "
                        f"{known.kind.with_article} in the portal ({known.name})"
                    )
                )
            if record.parent_code is None:
                if known is None and None not in ALLOWED_PARENTS[record.kind]:
                    self.problems.append(
                        Problem(f"{record.where}: {code} has no parent organisation")
                    )
                continue
            parent_kind = self._kind_of(record.parent_code)
            if parent_kind is None:
                self.problems.append(
                    Problem(
                        f"{record.where}: its parent {record.parent_code} is neither in the "
                        "files nor in the portal"
                    )
                )
            elif parent_kind not in ALLOWED_PARENTS[record.kind]:
                self.problems.append(
                    Problem(
                        f"{record.where}: {record.kind.with_article} cannot sit under "
                        f"{parent_kind.with_article} ({record.parent_code})"
                    )
                )
        for practice, periods in self.wanted.periods.items():
            for period in periods:
                if self._kind_of(period.network_code) is not K.PCN:
                    self.problems.append(
                        Problem(
                            f"{self.wanted.records[practice].where}: its PCN "
                            f"{period.network_code} is neither in the files nor in the portal"
                        )
                    )
        self._raise_problems()

    def _raise_problems(self) -> None:
        if self.problems:
            raise OdsFileRefused(self.problems)

    # --- the import -------------------------------------------------------------------------

    def run(self, files: list[OdsFile], *, actor: User | None, run_by: str) -> OdsImport:
        self._load()
        self._check()
        combined = hashlib.sha256("".join(f.sha256 for f in files).encode()).hexdigest()
        self.record = OdsImport(
            files=[f.describe() for f in files],
            sha256=combined,
            as_of=self.as_of,
            records=sum(f.records for f in files),
            organisations_created=0,
            organisations_changed=0,
            memberships_added=0,
            memberships_ended=0,
            participations_ended=0,
            changes_held=0,
            imported_by_id=actor.id if actor else None,
            run_by=run_by,
        )
        self.session.add(self.record)
        for level in LEVELS:
            self._organisations(level)
            self.session.flush()
        self.record.organisations_changed = len(self.changed)
        self._memberships()
        self._raise_problems()
        if self.pending_memberships:
            self.session.execute(insert(NetworkMembership), self.pending_memberships)
        self.session.flush()
        self._participation(actor)
        self.session.flush()
        self._write_changes()
        record_event(
            self.session,
            action="ods_import.completed",
            object_type="ods_import",
            object_id=self.record.id,
            actor=actor,
            after={
                "files": [f"{f.name} ({f.sha256[:12]})" for f in files],
                "as_of": self.as_of,
                "created": self.record.organisations_created,
                "changed": self.record.organisations_changed,
                "memberships_added": self.record.memberships_added,
                "memberships_ended": self.record.memberships_ended,
                "participations_ended": self.record.participations_ended,
                "held": self.record.changes_held,
            },
            reason=run_by or None,
        )
        return self.record

    def _change(
        self,
        organisation: Organisation,
        what: str,
        old: object,
        new: object,
        held: str | None = None,
    ) -> None:
        # Inserted together at the end (:meth:`_write_changes`): an England-wide first import
        # makes some 15,000 rows, too many for the unit of work one by one.
        self.pending_changes.append((organisation, what, _text(old), _text(new), held))
        if held:
            self.record.changes_held += 1

    def _write_changes(self) -> None:
        rows = [
            {
                "import_id": self.record.id,
                "organisation_id": organisation.id,
                "field": what,
                "old": old,
                "new": new,
                "held_reason": held,
            }
            for organisation, what, old, new, held in self.pending_changes
        ]
        if rows:
            self.session.execute(insert(OrganisationChange), rows)
        self.pending_changes.clear()

    def _parent_for(self, record: OrgRecord) -> Organisation | None:
        if record.parent_code:
            return self.by_code[record.parent_code]
        if record.kind is K.REGION and len(self.national) == 1:
            return self.national[0]
        return None

    def _organisations(self, level: OrganisationKind) -> None:
        records = [r for r in self.wanted.records.values() if r.kind is level]
        moves: list[tuple[Organisation, Organisation]] = []
        new: list[tuple[OrgRecord, Organisation | None]] = []
        for record in records:
            known = self.by_code.get(record.code)
            parent = self._parent_for(record)
            if known is None:
                new.append((record, parent))
                continue
            if known.name != record.name:
                self._change(known, "name", known.name, record.name)
                known.name = record.name
                self.changed.add(record.code)
            if record.dated and record.active_from is not None:
                for column, value in (
                    ("active_from", record.active_from),
                    ("active_to", record.active_to),
                ):
                    if getattr(known, column) != value:
                        self._change(known, column, getattr(known, column), value)
                        setattr(known, column, value)
                        self.changed.add(record.code)
            if parent is not None and known.parent_id != parent.id:
                moves.append((known, parent))
        self._create(new)
        self._move(moves)

    def _create(self, new: list[tuple[OrgRecord, Organisation | None]]) -> None:
        """Insert the level's new organisations together (RETURNING the rows as objects):
        one statement for 6,500 practices instead of the unit of work's bookkeeping."""
        if not new:
            return
        rows = [
            {
                "kind": record.kind,
                "ods_code": record.code,
                "name": record.name,
                "parent_id": parent.id if parent is not None else None,
                "active_from": record.active_from or self.as_of,
                "active_to": record.active_to,
                "approval_mode": (ApprovalMode.ONE_STEP if record.kind is K.GP_PRACTICE else None),
            }
            for record, parent in new
        ]
        made = self.session.scalars(
            insert(Organisation).returning(Organisation, sort_by_parameter_order=True), rows
        ).all()
        for (record, parent), organisation in zip(new, made, strict=True):
            self.by_code[record.code] = organisation
            self._change(organisation, "created", None, f"{record.name} under {_code_of(parent)}")
        self.record.organisations_created += len(made)

    def _move(self, moves: list[tuple[Organisation, Organisation]]) -> None:
        """Give each organisation its new parent, unless claims made to its ICB (or to its
        sub-ICB's) would be left behind."""
        if not moves:
            return
        ids = [o.id for o, _ in moves]
        claims = self.session.execute(
            select(Claim.provider_id, Claim.sub_location_id, Claim.icb_id)
            .where(or_(Claim.provider_id.in_(ids), Claim.sub_location_id.in_(ids)))
            .distinct()
        ).all()
        icbs_of: dict[int, set[int | None]] = {}
        for provider_id, sub_location_id, icb_id in claims:
            icbs_of.setdefault(provider_id, set()).add(icb_id)
            if sub_location_id is not None:
                icbs_of.setdefault(sub_location_id, set()).add(icb_id)
        for organisation, parent in moves:
            new_icb = _icb_at_or_above(parent)
            stranded = {i for i in icbs_of.get(organisation.id, set()) if i != new_icb}
            old, new = _code_of(organisation.parent), parent.ods_code
            if stranded:
                self._change(
                    organisation,
                    "parent",
                    old,
                    new,
                    held=(
                        f"{organisation.name} has claims made to another ICB than "
                        f"{_code_of(parent)}'s; claims are not moved between ICBs, so the "
                        "move waits for the ICBs to settle"
                    ),
                )
                continue
            self._change(organisation, "parent", old, new)
            organisation.parent = parent
            self.changed.add(organisation.ods_code)

    # --- memberships ------------------------------------------------------------------------

    def _memberships(self) -> None:
        practices = {
            code: self.by_code[code]
            for code in set(self.wanted.periods) | set(self.wanted.snapshot)
            if code in self.by_code
        }
        held: dict[int, list[NetworkMembership]] = {}
        ids = [p.id for p in practices.values()]
        for start in range(0, len(ids), 5000):
            for membership in self.session.scalars(
                select(NetworkMembership).where(
                    NetworkMembership.practice_id.in_(ids[start : start + 5000])
                )
            ):
                held.setdefault(membership.practice_id, []).append(membership)
        networks = {o.id: o for o in self.by_code.values() if o.kind is K.PCN}
        for code, practice in practices.items():
            existing = held.get(practice.id, [])
            if code in self.wanted.periods:
                self._history(practice, self.wanted.periods[code], existing, networks)
            else:
                self._snapshot(practice, self.wanted.snapshot[code], existing, networks)

    def _end(
        self,
        practice: Organisation,
        membership: NetworkMembership,
        end: dt.date | None,
        network: Organisation,
    ) -> None:
        old = membership.end_date
        membership.end_date = end
        self._change(practice, "membership_end", f"{network.ods_code} {_text(old)}", _text(end))
        if end is not None and (old is None or end < old):
            self.record.memberships_ended += 1
            self.ended.append((practice, network, end))

    def _add(
        self, practice: Organisation, network: Organisation, start: dt.date, end: dt.date | None
    ) -> None:
        self.pending_memberships.append(
            {
                "practice_id": practice.id,
                "network_id": network.id,
                "start_date": start,
                "end_date": end,
            }
        )
        self.record.memberships_added += 1
        self._change(
            practice,
            "membership_added",
            None,
            f"{network.ods_code} from {start}" + (f" to {end}" if end else ""),
        )

    def _history(
        self,
        practice: Organisation,
        periods: list[Period],
        existing: list[NetworkMembership],
        networks: dict[int, Organisation],
    ) -> None:
        matched: set[int] = set()
        kept: list[tuple[dt.date, dt.date | None]] = []
        for period in periods:
            network = self.by_code[period.network_code]
            same = next(
                (
                    m
                    for m in existing
                    if m.network_id == network.id and m.start_date == period.start
                ),
                None,
            )
            if same is not None:
                matched.add(id(same))
                if same.end_date != period.end:
                    self._end(practice, same, period.end, network)
            else:
                self._add(practice, network, period.start, period.end)
            kept.append((period.start, period.end))
        for membership in existing:
            if id(membership) in matched:
                continue
            if membership.end_date is None:
                later = [s for s, _ in kept if s > membership.start_date]
                last_day = min([self.as_of - ONE_DAY, *(s - ONE_DAY for s in later)])
                if last_day < membership.start_date:
                    self._refuse_end(practice, membership, networks)
                    continue
                self._end(practice, membership, last_day, networks[membership.network_id])
            kept.append((membership.start_date, membership.end_date))
        kept.sort(key=lambda span: span[0])
        for (_, until), (start, _) in itertools.pairwise(kept):
            if until is None or until >= start:
                self.problems.append(
                    Problem(
                        f"{practice.ods_code}: its PCN memberships in the file overlap one the "
                        f"portal holds (from {start}); correct the file or the membership"
                    )
                )
                break

    def _refuse_end(
        self,
        practice: Organisation,
        membership: NetworkMembership,
        networks: dict[int, Organisation],
    ) -> None:
        self.problems.append(
            Problem(
                f"{practice.ods_code}: its membership of "
                f"{networks[membership.network_id].ods_code} starts on "
                f"{membership.start_date}, so it cannot end before then; import with a "
                "later as-of date"
            )
        )

    def _snapshot(
        self,
        practice: Organisation,
        network_code: str | None,
        existing: list[NetworkMembership],
        networks: dict[int, Organisation],
    ) -> None:
        day = self.as_of
        network = self.by_code[network_code] if network_code else None
        current = next((m for m in existing if m.covers(day)), None)
        if current is not None and network is not None and current.network_id == network.id:
            return
        if current is not None:
            end = day - ONE_DAY
            if end < current.start_date:
                self._refuse_end(practice, current, networks)
                return
            self._end(practice, current, end, networks[current.network_id])
        if network is None:
            return
        if any(m is not current and (m.end_date is None or m.end_date >= day) for m in existing):
            self.problems.append(
                Problem(
                    f"{practice.ods_code}: the portal holds a PCN membership after {day}; "
                    "import the practice's ORD record instead"
                )
            )
            return
        self._add(practice, network, day, None)

    def _participation(self, actor: User | None) -> None:
        for practice, network, last_day in self.ended:
            outcome = end_network_participation(
                self.session,
                practice=practice,
                network=network,
                last_day=last_day,
                reason=f"Left {network.name} ({network.ods_code}) on {last_day} (ODS import)",
                actor=actor,
            )
            for offer in outcome.ended:
                self.record.participations_ended += 1
                self._change(practice, "participation_ended", f"offer {offer.id}", last_day)
            for offer in outcome.starting_later:
                self._change(
                    practice,
                    "participation_ended",
                    f"offer {offer.id}",
                    last_day,
                    held=(
                        f"the participation starts on {offer.start_date}, after the practice "
                        f"left {network.ods_code}: the commissioner cancels the offer"
                    ),
                )


def _icb_at_or_above(organisation: Organisation | None) -> int | None:
    node = organisation
    for _ in range(8):
        if node is None:
            return None
        if node.kind is K.ICB:
            return node.id
        node = node.parent
    return None


def _code_of(organisation: Organisation | None) -> str | None:
    return organisation.ods_code if organisation is not None else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
