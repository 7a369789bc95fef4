"""Reading Organisation Data Service files into records (pure: no database).

Two layouts:

- the published mapping of practices to PCNs, sub-ICB locations, ICBs and regions (NHS
  England's ``MAPPING_NHS_GEOGRAPHIES.csv`` from the QOF publication, github.com/NHSDigital/QOF:
  ``REGION_ODS_CODE, REGION_NAME, ICB_ODS_CODE, ICB_NAME, SUB_ICB_ODS_CODE, SUB_ICB_NAME,
  PCN_ODS_CODE, PCN_NAME, PRACTICE_CODE, PRACTICE_NAME`` among others; the older headings
  ``STP_*`` for the ICB and ``CCG_*`` for the sub-ICB location are read too). It has no dates:
  it describes the day the import is told (``as_of``). PCN code ``U`` (``Unallocated``) or
  blank: the practice is in no PCN.
- ODS records in the ORD API's JSON shape: ``{"Organisation": {"Name", "Date": [{"Type":
  "Operational", "Start", "End"}], "OrgId": {"extension"}, "Roles": {"Role": [{"id",
  "primaryRole", "Date"}]}, "Rels": {"Rel": [{"id", "Date", "Target": {"OrgId":
  {"extension"}, "PrimaryRoleId": {"id"}}}]}}}``; a file holds one such record, a list of
  them, or ``{"Organisations": [...]}``. The kind comes from the roles (RO76 GP practice,
  RO272 PCN, RO98/RO319 sub-ICB location, RO261/RO318 ICB, RO209 NHS England region); the
  parent from a relationship (RE4 "is commissioned by", RE5 "is located in the geography
  of", RE2, RE3) to an organisation of the kind above; PCN membership from RE8 "is partner
  to", with its dates.

Every problem is collected, by line or record, and the file refused as a whole
(:class:`OdsFileRefused`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from claims_portal.organisations.models import OrganisationKind
from claims_portal.organisations.services import OrganisationError, validate_ods_code
from claims_portal.rules import Problem, RuleError

K = OrganisationKind


class OdsFileRefused(RuleError):
    """A file could not be read; every problem is listed and nothing was imported."""


#: Role ids that say what an organisation is (others on the record, such as RO177
#: prescribing cost centre beside RO76, are ignored).
ROLE_KINDS: dict[str, OrganisationKind] = {
    "RO76": K.GP_PRACTICE,
    "RO272": K.PCN,
    "RO319": K.ICB_SUB_LOCATION,
    "RO98": K.ICB_SUB_LOCATION,
    "RO318": K.ICB,
    "RO261": K.ICB,
    "RO209": K.REGION,
}
#: The kind each kind's parent is, in ODS.
PARENT_KIND: dict[OrganisationKind, OrganisationKind] = {
    K.GP_PRACTICE: K.ICB_SUB_LOCATION,
    K.PCN: K.ICB_SUB_LOCATION,
    K.ICB_SUB_LOCATION: K.ICB,
    K.ICB: K.REGION,
}
PARENT_RELATIONSHIPS = frozenset({"RE2", "RE3", "RE4", "RE5"})
PARTNER_TO = "RE8"
NO_PCN = frozenset({"", "U"})

#: Mapping CSV: the column read, then the older heading accepted for it.
MAPPING_COLUMNS: dict[str, tuple[str, ...]] = {
    "PRACTICE_CODE": ("PRACTICE_CODE",),
    "PRACTICE_NAME": ("PRACTICE_NAME",),
    "PCN_ODS_CODE": ("PCN_ODS_CODE",),
    "PCN_NAME": ("PCN_NAME",),
    "SUB_ICB_ODS_CODE": ("SUB_ICB_ODS_CODE", "CCG_ODS_CODE"),
    "SUB_ICB_NAME": ("SUB_ICB_NAME", "CCG_NAME"),
    "ICB_ODS_CODE": ("ICB_ODS_CODE", "STP_ODS_CODE"),
    "ICB_NAME": ("ICB_NAME", "STP_NAME"),
    "REGION_ODS_CODE": ("REGION_ODS_CODE",),
    "REGION_NAME": ("REGION_NAME",),
}
MAPPING_LAYOUT = "mapping CSV"
ORD_LAYOUT = "ORD JSON"


@dataclass
class OrgRecord:
    """An organisation as a file describes it. Dates are None where the file says nothing
    (the mapping CSV); ``dated`` records give both (``active_to`` None: still open)."""

    kind: OrganisationKind
    code: str
    name: str
    parent_code: str | None
    where: str
    dated: bool = False
    active_from: dt.date | None = None
    active_to: dt.date | None = None


@dataclass(frozen=True)
class Period:
    network_code: str
    start: dt.date
    end: dt.date | None


@dataclass
class OdsFile:
    name: str
    layout: str
    sha256: str
    records: int = 0
    organisations: list[OrgRecord] = field(default_factory=list)
    #: ORD: each practice's whole RE8 history.
    periods: dict[str, list[Period]] = field(default_factory=dict)
    #: Mapping CSV: each practice's PCN on ``as_of`` (None: no PCN).
    snapshot: dict[str, str | None] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "layout": self.layout,
            "sha256": self.sha256,
            "records": self.records,
        }


def read_file(name: str, content: bytes, *, as_of: dt.date) -> OdsFile:
    """Read one file (its layout from its content). Raises :class:`OdsFileRefused`."""
    digest = hashlib.sha256(content).hexdigest()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OdsFileRefused(f"{name}: the file is not UTF-8 text") from None
    if text.lstrip().startswith(("{", "[")):
        return _read_ord(name, text, digest, as_of)
    return _read_mapping(name, text, digest)


def _code(kind: OrganisationKind, raw: str, where: str, problems: list[Problem]) -> str | None:
    try:
        return validate_ods_code(kind, raw)
    except OrganisationError as error:
        problems.append(Problem(f"{where}: {error}"))
        return None


def _name(raw: Any) -> str:
    return " ".join(str(raw or "").split())


# --- The mapping CSV -------------------------------------------------------------------------


def _read_mapping(name: str, text: str, digest: str) -> OdsFile:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headings = [h.strip().upper() for h in (reader.fieldnames or [])]
    chosen: dict[str, str] = {}
    missing = []
    for column, accepted in MAPPING_COLUMNS.items():
        found = next((h for h in accepted if h in headings), None)
        if found is None:
            missing.append(" or ".join(accepted))
        else:
            chosen[column] = (reader.fieldnames or [])[headings.index(found)]
    if missing:
        raise OdsFileRefused(
            f"{name}: neither an ORD JSON file nor the mapping CSV; the CSV lacks the "
            f"columns {', '.join(missing)}"
        )
    out = OdsFile(name=name, layout=MAPPING_LAYOUT, sha256=digest)
    problems: list[Problem] = []
    levels: dict[str, dict[str, tuple[str, str | None]]] = {}
    pcn_names: dict[str, Counter[str]] = {}
    pcn_parents: dict[str, Counter[str]] = {}
    for line, row in enumerate(reader, start=2):
        out.records += 1
        where = f"{name} line {line}"
        value = {column: (row.get(heading) or "").strip() for column, heading in chosen.items()}
        region = _code(K.REGION, value["REGION_ODS_CODE"], f"{where} REGION_ODS_CODE", problems)
        icb = _code(K.ICB, value["ICB_ODS_CODE"], f"{where} ICB_ODS_CODE", problems)
        sub = _code(
            K.ICB_SUB_LOCATION, value["SUB_ICB_ODS_CODE"], f"{where} SUB_ICB_ODS_CODE", problems
        )
        practice = _code(K.GP_PRACTICE, value["PRACTICE_CODE"], f"{where} PRACTICE_CODE", problems)
        pcn: str | None = None
        if value["PCN_ODS_CODE"].upper() not in NO_PCN:
            pcn = _code(K.PCN, value["PCN_ODS_CODE"], f"{where} PCN_ODS_CODE", problems)
        for column in ("PRACTICE_NAME", "SUB_ICB_NAME", "ICB_NAME", "REGION_NAME"):
            if not value[column]:
                problems.append(Problem(f"{where} {column}: the name is blank"))
        no_pcn = value["PCN_ODS_CODE"].upper() in NO_PCN
        if not (region and icb and sub and practice) or (pcn is None and not no_pcn):
            continue
        for kind, code, title, parent in (
            (K.REGION, region, value["REGION_NAME"], None),
            (K.ICB, icb, value["ICB_NAME"], region),
            (K.ICB_SUB_LOCATION, sub, value["SUB_ICB_NAME"], icb),
        ):
            known = levels.setdefault(kind.name, {})
            if code in known and known[code][1] != parent:
                problems.append(
                    Problem(
                        f"{where}: {code} is under {parent} here but under {known[code][1]} "
                        "on an earlier line"
                    )
                )
            known.setdefault(code, (_name(title), parent))
        if practice in out.snapshot:
            problems.append(Problem(f"{where}: the practice {practice} is on an earlier line"))
            continue
        out.snapshot[practice] = pcn
        out.organisations.append(
            OrgRecord(K.GP_PRACTICE, practice, _name(value["PRACTICE_NAME"]), sub, where)
        )
        if pcn:
            pcn_names.setdefault(pcn, Counter())[_name(value["PCN_NAME"]) or pcn] += 1
            pcn_parents.setdefault(pcn, Counter())[sub] += 1
    if problems:
        raise OdsFileRefused(problems)
    for kind in (K.REGION, K.ICB, K.ICB_SUB_LOCATION):
        for code, (title, parent) in levels.get(kind.name, {}).items():
            out.organisations.append(OrgRecord(kind, code, title, parent, name))
    for pcn, names in pcn_names.items():
        # A PCN's practices may sit in more than one sub-ICB location: the one most of them
        # are in is its parent (the first seen on a tie).
        parent = pcn_parents[pcn].most_common(1)[0][0]
        out.organisations.append(OrgRecord(K.PCN, pcn, names.most_common(1)[0][0], parent, name))
    return out


# --- ORD JSON --------------------------------------------------------------------------------


def _date(raw: Any, where: str, problems: list[Problem]) -> dt.date | None:
    if raw in (None, ""):
        return None
    try:
        if not _ISO_DATE.match(str(raw)):
            raise ValueError(raw)
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        problems.append(Problem(f"{where}: {raw!r} is not a date (YYYY-MM-DD)"))
        return None


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _dates(item: dict[str, Any], where: str, problems: list[Problem]) -> tuple[Any, Any, bool]:
    """(start, end, found): the Operational dates, else the Legal ones."""
    spans = item.get("Date") or []
    if not isinstance(spans, list):
        problems.append(Problem(f"{where}: Date is not a list"))
        return None, None, False
    by_type = {str(s.get("Type", "")).lower(): s for s in spans if isinstance(s, dict)}
    span = by_type.get("operational") or by_type.get("legal")
    if span is None:
        return None, None, False
    start = _date(span.get("Start"), f"{where} Start", problems)
    end = _date(span.get("End"), f"{where} End", problems)
    if start and end and end < start:
        problems.append(Problem(f"{where}: ends ({end}) before it starts ({start})"))
    return start, end, True


def _listed(container: Any, key: str) -> list[Any]:
    if not isinstance(container, dict):
        return []
    items = container.get(key) or []
    return items if isinstance(items, list) else [items]


def _target(rel: dict[str, Any]) -> tuple[str, str]:
    target = rel.get("Target") or {}
    code = str((target.get("OrgId") or {}).get("extension") or "").strip().upper()
    role = str((target.get("PrimaryRoleId") or {}).get("id") or "").strip().upper()
    return code, role


def _read_ord(name: str, text: str, digest: str, as_of: dt.date) -> OdsFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise OdsFileRefused(f"{name}: not valid JSON ({error})") from None
    if isinstance(data, dict) and "Organisations" in data:
        data = data["Organisations"]
    items = data if isinstance(data, list) else [data]
    out = OdsFile(name=name, layout=ORD_LAYOUT, sha256=digest)
    problems: list[Problem] = []
    for number, item in enumerate(items, start=1):
        out.records += 1
        record = item.get("Organisation", item) if isinstance(item, dict) else None
        if not isinstance(record, dict):
            problems.append(Problem(f"{name} record {number}: not an ORD organisation"))
            continue
        _read_record(record, f"{name} record {number}", out, problems, as_of)
    if problems:
        raise OdsFileRefused(problems)
    return out


def _read_record(
    record: dict[str, Any], where: str, out: OdsFile, problems: list[Problem], as_of: dt.date
) -> None:
    raw_code = str((record.get("OrgId") or {}).get("extension") or "").strip()
    if not raw_code:
        problems.append(Problem(f"{where}: no OrgId extension (the ODS code)"))
        return
    where = f"{where} ({raw_code.upper()})"
    roles = [r for r in _listed(record.get("Roles"), "Role") if isinstance(r, dict)]
    role_ids = [str(r.get("id", "")).upper() for r in roles]
    kinds = [(ROLE_KINDS[i], r) for i, r in zip(role_ids, roles, strict=True) if i in ROLE_KINDS]
    if not kinds:
        known = ", ".join(f"{i} {k}" for i, k in ROLE_KINDS.items())
        problems.append(
            Problem(
                f"{where}: none of its roles ({', '.join(role_ids) or 'none'}) is one the "
                f"import knows ({known})"
            )
        )
        return
    kind, role = kinds[0]
    code = _code(kind, raw_code, where, problems)
    name = _name(record.get("Name"))
    if not name:
        problems.append(Problem(f"{where}: Name is blank"))
    start, end, found = _dates(record, f"{where} Date", problems)
    role_start, role_end, _ = _dates(role, f"{where} role {role.get('id')} Date", problems)
    start = start or role_start
    if role_end and (end is None or role_end < end):
        end = role_end
    if not found and start is None:
        problems.append(Problem(f"{where}: no Operational or Legal start date"))
    if start and end and end < start:
        problems.append(Problem(f"{where}: its role ends ({end}) before it starts ({start})"))
        return
    if code is None or not name or start is None:
        return
    parent = _parent(record, kind, where, problems, as_of)
    out.organisations.append(OrgRecord(kind, code, name, parent, where, True, start, end))
    if kind is K.GP_PRACTICE:
        out.periods[code] = _memberships(record, where, problems)


def _parent(
    record: dict[str, Any],
    kind: OrganisationKind,
    where: str,
    problems: list[Problem],
    as_of: dt.date,
) -> str | None:
    wanted = PARENT_KIND.get(kind)
    candidates: list[tuple[dt.date, dt.date | None, str]] = []
    for rel in _listed(record.get("Rels"), "Rel"):
        if not isinstance(rel, dict) or str(rel.get("id", "")).upper() not in PARENT_RELATIONSHIPS:
            continue
        code, role = _target(rel)
        if wanted is None or ROLE_KINDS.get(role) is not wanted or not code:
            continue
        start, end, _ = _dates(rel, f"{where} relationship {rel.get('id')} to {code}", problems)
        candidates.append((start or dt.date.min, end, code))
    current = [c for c in candidates if c[0] <= as_of and (c[1] is None or c[1] >= as_of)]
    chosen = max(current or candidates, default=None)
    return chosen[2] if chosen else None


def _memberships(record: dict[str, Any], where: str, problems: list[Problem]) -> list[Period]:
    periods = []
    for rel in _listed(record.get("Rels"), "Rel"):
        if not isinstance(rel, dict) or str(rel.get("id", "")).upper() != PARTNER_TO:
            continue
        code, _ = _target(rel)
        label = f"{where} relationship RE8 to {code or '?'}"
        network = _code(K.PCN, code, label, problems)
        start, end, _ = _dates(rel, label, problems)
        if network is None:
            continue
        if start is None:
            problems.append(Problem(f"{label}: no start date"))
            continue
        periods.append(Period(network, start, end))
    periods.sort(key=lambda p: p.start)
    for before, after in itertools.pairwise(periods):
        if before.end is None or before.end >= after.start:
            problems.append(
                Problem(
                    f"{where}: its PCN memberships overlap ({before.network_code} from "
                    f"{before.start}, {after.network_code} from {after.start})"
                )
            )
    return periods
