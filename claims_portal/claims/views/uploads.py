"""The evidence files of one post of the claim page (the NHS file upload, ``multiple``).

Each file chosen is checked on its own (``inspect_upload``: size, type by content, macros,
PDF actions, NHS numbers in the name, then the virus check of ``VIRUS_SCANNER``) and, when
it passes, put in the evidence store at once (so only one file's bytes are held at a time);
its row is written by ``services.save_claim_page``, and the object is deleted again if the
request does not commit (``unit_of_work.after_rollback``). A file the virus check finds
infected is refused and put in the store's quarantine folder instead, recorded by the same
service (``services.quarantine``). A virus check that is down refuses the whole post
(``VirusScanUnavailable``: "try again later"). A refused file is reported with its reason, named
by its file name when several were chosen (or "File 2 of 3" when the name itself may hold
patient details). Refused as a whole, with no file read: more than
``EVIDENCE_MAX_FILES_PER_POST`` files, or, when the scheme asks for evidence per component,
no answer to "Which part of the claim are these files for?".
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from flask import current_app, request
from werkzeug.datastructures import FileStorage, MultiDict

from claims_portal import unit_of_work
from claims_portal.claims.evidence import (
    EvidenceInfected,
    EvidenceRejected,
    InspectedEvidence,
    StoredObject,
    discard_quietly,
    inspect_upload,
    put_evidence,
    safe_filename,
    scanner_from_config,
    store_from_config,
)
from claims_portal.claims.evidence.validation import refuse_patient_data_in_name
from claims_portal.claims.models import Claim
from claims_portal.claims.services import EVIDENCE_FIELD, Problem
from claims_portal.claims.services.entries import EVIDENCE_COMPONENT_FIELD, WHOLE_CLAIM
from claims_portal.claims.services.quarantine import QUARANTINED_MESSAGE, QuarantinedFile
from claims_portal.claims.services.saving import NewFile
from claims_portal.claims.views._common import evidence_store
from claims_portal.db import utcnow
from claims_portal.inputs import parse_id
from claims_portal.schemes.models import EvidenceRequirement

log = logging.getLogger(__name__)


@dataclass
class PostedFiles:
    """What became of the files of one post."""

    #: How many files were chosen.
    chosen: int = 0
    #: Those that passed their checks, already stored.
    files: list[NewFile] = field(default_factory=list)
    #: One problem for each refused file (or one for the whole post).
    refused: list[Problem] = field(default_factory=list)
    #: Those the virus check found infected (refused too), already in the quarantine folder.
    quarantined: list[QuarantinedFile] = field(default_factory=list)


def per_component(claim: Claim) -> bool:
    return claim.scheme.evidence_requirement is EvidenceRequirement.PER_COMPONENT


def posted_files(claim: Claim, form: MultiDict[str, str]) -> PostedFiles:
    """Check and store each file of the post. Raises ``EvidenceStorageError`` when the store
    fails, ``VirusScanUnavailable`` when the virus check cannot give a verdict (the files
    stored before are deleted again by the rollback)."""
    uploads = [u for u in request.files.getlist(EVIDENCE_FIELD) if u.filename]
    posted = PostedFiles(chosen=len(uploads))
    if not uploads:
        return posted
    limit = current_app.config["EVIDENCE_MAX_FILES_PER_POST"]
    if len(uploads) > limit:
        log.info("claim %s: %d files in one post refused", claim.id, len(uploads))
        posted.refused.append(
            Problem(
                f"Select {limit} files or fewer at a time (you selected {len(uploads)})",
                EVIDENCE_FIELD,
            )
        )
        return posted
    component_id = None
    if per_component(claim):
        chosen = chosen_component(claim, form)
        if chosen is None:
            posted.refused.append(
                Problem(
                    "Select which part of the claim the files are for",
                    EVIDENCE_COMPONENT_FIELD,
                )
            )
            return posted
        component_id = None if chosen == WHOLE_CLAIM else int(chosen)
    for number, upload in enumerate(uploads, start=1):
        try:
            evidence = _inspect(upload)
        except EvidenceRejected as rejected:
            log.info("claim %s: evidence refused (%s)", claim.id, rejected.code)
            reason = rejected.reason
            if isinstance(rejected, EvidenceInfected):
                reason = QUARANTINED_MESSAGE
                stored = _store(rejected.evidence, quarantine=True)
                infected = dataclasses.replace(rejected.evidence, data=b"")
                posted.quarantined.append(QuarantinedFile(infected, stored))
            if len(uploads) > 1:
                reason = f"{_name_to_show(upload, number, len(uploads))}: {reason}"
            posted.refused.append(Problem(reason, EVIDENCE_FIELD))
            continue
        stored = _store(evidence)
        # The bytes are in the store: the row needs only what was found out about them.
        posted.files.append(NewFile(dataclasses.replace(evidence, data=b""), stored, component_id))
    return posted


def chosen_component(claim: Claim, form: MultiDict[str, str]) -> str | None:
    """The answer to "Which part of the claim are these files for?": one of the claim's
    components' ids, or ``WHOLE_CLAIM``; None when not answered (or not one of those)."""
    value = (form.get(EVIDENCE_COMPONENT_FIELD) or "").strip()
    if value == WHOLE_CLAIM:
        return value
    component_id = parse_id(value)
    if component_id is not None and component_id in {ln.component_id for ln in claim.lines}:
        return str(component_id)
    return None


def _inspect(upload: FileStorage) -> InspectedEvidence:
    return inspect_upload(
        upload.stream,
        upload.filename or "",
        max_bytes=current_app.config["EVIDENCE_MAX_BYTES"],
        scanner=scanner_from_config(current_app.config),
    )


def _name_to_show(upload: FileStorage, number: int, total: int) -> str:
    """The file's name, or "File 2 of 3" when the name may hold an NHS number (a file
    refused for its size is refused before its name is checked)."""
    try:
        refuse_patient_data_in_name(upload.filename or "")
    except EvidenceRejected:
        return f"File {number} of {total}"
    return safe_filename(upload.filename or "")


def _store(evidence: InspectedEvidence, *, quarantine: bool = False) -> StoredObject:
    """Put the file in the store (an infected one in its quarantine folder) before its row
    is written; deleted again if the request does not commit (a refusal, a failed commit).
    Raises ``EvidenceStorageError``."""
    store = store_from_config(current_app.config)
    try:
        stored = put_evidence(store, evidence, now=utcnow(), quarantine=quarantine)
    finally:
        store.close()
    unit_of_work.after_rollback(lambda: _delete_stored(stored.key))
    return stored


def _delete_stored(key: str) -> None:
    with evidence_store() as store:
        discard_quietly(store, key)
