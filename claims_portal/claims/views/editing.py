"""The page where the practice fills in a claim: units, answers, evidence files, the value.

One form carries everything, so nothing typed is lost whichever button is pressed:

- *Upload files* saves the figures and adds the chosen files (up to 10 at a time);
- *Remove* (a file) saves the figures, then asks whether to remove it (below);
- *Save draft* saves the figures (and adds chosen files);
- *Continue* saves and checks everything submission checks, then shows *Check your answers*
  (``views/submitting.py``), or lists every problem, keeping nothing but files that passed.

Each file is checked on its own and, when it passes, stored at once (``views/uploads.py``); the
rows are written by ``services.save_claim_page``, every change of the post in one transaction,
and each object is deleted again if the request does not commit (``unit_of_work.after_rollback``).
A file the virus check finds infected is refused but kept in quarantine, and the ICB's
administrators told, even though the post is refused; a virus check that is down refuses the
whole post (503, "Try again later"), nothing saved.
A refused file is listed with its reason in the error summary; the files that passed are kept
even so (``FilesKept``, committed with ``keep_on_refusal``) and the rest of the post is not
saved, what was typed shown again. A request larger than ``MAX_CONTENT_LENGTH`` is refused by
Werkzeug before the form is read: the handler below reads the form's fields again, throwing the
files' bytes away as they arrive (up to ``OVERSIZE_READ_LIMIT``), and shows the page again with
what was typed and "The selected file must be smaller than 5MB". Nothing is saved.
"""

from __future__ import annotations

import io
import logging
from typing import IO, cast

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.wsgi import LimitedStream
from wtforms.validators import ValidationError

from claims_portal import session_timeout, unit_of_work
from claims_portal.access import current
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import has_capability
from claims_portal.claims import bp, services
from claims_portal.claims.evidence import (
    EvidenceNotFound,
    EvidenceStorageError,
    VirusScanUnavailable,
    discard_quietly,
    evidence_response,
    store_from_config,
    too_large_message,
)
from claims_portal.claims.forms import VersionForm
from claims_portal.claims.models import Claim, ClaimEvidence
from claims_portal.claims.services import (
    EVIDENCE_FIELD,
    ClaimConflict,
    ClaimEntries,
    ClaimError,
    ClaimNotFound,
    Problem,
    timing,
)
from claims_portal.claims.services.entries import (
    EVIDENCE_COMPONENT_FIELD,
    WHOLE_CLAIM,
    answer_field,
    units_field,
)
from claims_portal.claims.services.saving import FilesKept
from claims_portal.claims.views import uploads
from claims_portal.claims.views._common import (
    base_url,
    can_edit,
    claim_or_404,
    edited_claim,
    evidence_store,
    render_claim,
    seen_claim,
    value_view,
)
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.schemes.services import tariff_for_period
from claims_portal.unit_of_work import refuse

log = logging.getLogger(__name__)

ACTIONS = ("save", "upload", "check", "remove")
#: A request over ``MAX_CONTENT_LENGTH`` up to this size is still read (its file thrown
#: away) so the page can show what was typed; a larger one is not read at all.
OVERSIZE_READ_LIMIT = 64 * 1024 * 1024


def editable_or_refuse(claim: Claim) -> ResponseReturnValue | None:
    """None when the signed-in person may change the claim now; else 403 (not a claim
    maker of its practice) or the claim page saying it can no longer be changed (409)."""
    user = current.person()
    if can_edit(claim, user):
        return None
    if not (
        services.is_provider_viewer(user, claim)
        and has_capability(user, Capability.CREATE_CLAIM, claim.provider)
    ):
        abort(403)
    return render_claim(
        claim,
        problems=[
            Problem(
                f"This claim is {claim.status.value.lower()}: it can no longer be changed. "
                "Nothing was changed."
            )
        ],
        status=409,
    )


def render_edit(
    claim: Claim,
    *,
    problems: list[Problem] | None = None,
    entries: ClaimEntries | None = None,
    status: int = 200,
    added: list[ClaimEvidence] | None = None,
) -> ResponseReturnValue:
    """The claim page in edit mode; ``entries.raw`` shows again what was typed, ``added``
    the files this post added (its other files refused)."""
    raw = entries.raw if entries is not None else {}
    answers = {a.question_id: a.value for a in claim.answers}
    lines = [
        (
            line,
            raw.get(units_field(line), "" if line.units is None else str(line.units)),
            tariff_for_period(line.component, claim.period_start),
        )
        for line in claim.lines
    ]
    questions: list[tuple[object, str, object]] = []
    for question in claim.scheme.questions:
        name = answer_field(question)
        stored = answers.get(question.id) or ""
        value: object
        if question.kind.name == "DATE":
            parts = stored.split("-") if stored else ["", "", ""]
            value = {
                "day": raw.get(f"{name}-day", parts[2].lstrip("0") if stored else ""),
                "month": raw.get(f"{name}-month", parts[1].lstrip("0") if stored else ""),
                "year": raw.get(f"{name}-year", parts[0] if stored else ""),
            }
        else:
            value = raw.get(name, stored)
        questions.append((question, name, value))
    problems = problems or []
    errors = {p.field: p.message for p in reversed(problems) if p.field}
    events = services.history(db.session, claim.id)
    return render_template(
        "claims/edit.html",
        claim=claim,
        lines=lines,
        questions=questions,
        problems=problems,
        errors=errors,
        value=value_view(claim, events),
        evidence_field=EVIDENCE_FIELD,
        max_files=services.MAX_FILES_PER_CLAIM,
        deadline=timing.submission_deadline(claim, today()),
        **_evidence_view(claim, problems, added, raw),
    ), status


def _evidence_view(
    claim: Claim, problems: list[Problem], added: list[ClaimEvidence] | None, raw: dict[str, str]
) -> dict[str, object]:
    """What the evidence section shows: every problem of the file field (one for each file
    refused), the files just added, and for per-component schemes the question and what
    was chosen."""
    return {
        "evidence_errors": [p.message for p in problems if p.field == EVIDENCE_FIELD],
        "added_files": [row.filename for row in added or []],
        "files_per_post": current_app.config["EVIDENCE_MAX_FILES_PER_POST"],
        "per_component": uploads.per_component(claim),
        "component_field": EVIDENCE_COMPONENT_FIELD,
        "component_choice": raw.get(EVIDENCE_COMPONENT_FIELD),
        "whole_claim": WHOLE_CLAIM,
    }


@bp.get("/claims/<int:claim_id>/edit")
@edited_claim
def edit(claim_id: int, claim: Claim) -> ResponseReturnValue:
    refused = editable_or_refuse(claim)
    if refused is not None:
        return refused
    problems = []
    if request.args.get("error") == "too-large":
        problems.append(Problem(_too_large_message(), EVIDENCE_FIELD))
    # Posted after the session ended: what was typed comes back, to check and send again.
    kept = session_timeout.kept_form()
    entries = services.parse_entries(claim, kept) if kept is not None else None
    return render_edit(claim, problems=problems, entries=entries)


def _too_large_message() -> str:
    return too_large_message(current_app.config["EVIDENCE_MAX_BYTES"])


@bp.post("/claims/<int:claim_id>/edit")
@edited_claim
def save(claim_id: int, claim: Claim) -> ResponseReturnValue:
    refused = editable_or_refuse(claim)
    if refused is not None:
        return refused
    form = request.form
    remove_id = form.get("remove", type=int)
    action = "remove" if remove_id is not None else form.get("action", "save")
    version = form.get("version", type=int)
    if action not in ACTIONS or version is None:
        abort(400)
    entries = services.parse_entries(claim, form)
    try:
        posted = uploads.posted_files(claim, form)  # each checked, the good ones stored
    except (EvidenceStorageError, VirusScanUnavailable) as error:  # nothing is kept
        refuse()
        return _edit_again(claim_id, [Problem(str(error), EVIDENCE_FIELD)], entries, status=503)
    problems = [*posted.refused, *entries.problems]
    if action == "upload" and not posted.chosen:
        problems.append(Problem("Choose a file to upload", EVIDENCE_FIELD))
    if problems and not (posted.files or posted.quarantined) and action != "check":
        return render_edit(claim, problems=problems, entries=entries, status=400)
    try:
        added = services.save_claim_page(
            db.session,
            claim_id,
            current.person(),
            check=action == "check",
            expected_version=version,
            entries=entries,
            files=posted.files,
            refused=posted.refused,
            quarantined=posted.quarantined,
            base_url=base_url(),
            today=today(),
        )
    except ClaimNotFound:
        abort(404)
    except ClaimConflict as error:
        return render_claim(claim_or_404(claim_id), problems=refuse(error), status=409)
    except FilesKept as error:  # files that passed (and quarantined ones) kept, not the rest
        unit_of_work.keep_on_refusal()
        return _edit_again(claim_id, refuse(error), entries, added=error.added)
    except ClaimError as error:
        return _edit_again(claim_id, refuse(error), entries, status=error.status_code)
    return _after(claim_id, action, added, remove_id)


def _delete_stored(key: str) -> None:
    with evidence_store() as store:
        discard_quietly(store, key)


def _edit_again(
    claim_id: int,
    problems: list[Problem],
    entries: ClaimEntries,
    status: int = 400,
    added: list[ClaimEvidence] | None = None,
) -> ResponseReturnValue:
    claim = claim_or_404(claim_id)
    if not claim.is_editable:
        return render_claim(claim, problems=problems, status=409)
    return render_edit(claim, problems=problems, entries=entries, status=status, added=added)


def _files_added_message(added: list[ClaimEvidence]) -> str:
    if len(added) == 1:
        return f"File added: {added[0].filename}"
    return f"{len(added)} files added: {', '.join(row.filename for row in added)}"


def _after(
    claim_id: int, action: str, added: list[ClaimEvidence], remove_id: int | None
) -> ResponseReturnValue:
    if added:
        flash(_files_added_message(added), "success")
    if action == "check":
        return redirect(url_for("claims.check_answers", claim_id=claim_id))
    if action == "remove":  # the figures are saved; the file goes once the person confirms
        return redirect(url_for("claims.remove_evidence", claim_id=claim_id, evidence_id=remove_id))
    if not added:
        flash("Draft saved", "success")
    anchor = "evidence" if action == "upload" else None
    return redirect(url_for("claims.edit", claim_id=claim_id, _anchor=anchor))


@bp.get("/claims/<int:claim_id>/evidence/<int:evidence_id>")
@seen_claim
def download(claim_id: int, evidence_id: int, claim: Claim) -> ResponseReturnValue:
    """An evidence file, as an attachment, for people who may see the claim."""
    try:
        row = services.evidence_of(db.session, claim, evidence_id)
    except ClaimNotFound:
        abort(404)
    store = store_from_config(current_app.config)
    try:
        response = evidence_response(
            store, row.key, filename=row.filename, content_type=row.content_type, size=row.size
        )
    except EvidenceNotFound:
        store.close()
        abort(404)
    except EvidenceStorageError:
        store.close()
        abort(503)
    response.call_on_close(store.close)
    return response


@bp.route("/claims/<int:claim_id>/evidence/<int:evidence_id>/remove", methods=["GET", "POST"])
@edited_claim
def remove_evidence(claim_id: int, evidence_id: int, claim: Claim) -> ResponseReturnValue:
    """Asks first ("Are you sure you want to remove ...?"), then removes the file with the
    version the question showed; a claim changed meanwhile is refused (409), nothing removed."""
    refused = editable_or_refuse(claim)
    if refused is not None:
        return refused
    row = next((f for f in claim.current_evidence if f.id == evidence_id), None)
    if row is None:
        problem = Problem("This file has already been removed. Nothing was changed.")
        return render_edit(claim, problems=[problem], status=409)
    form = VersionForm()
    if form.validate_on_submit():
        filename = row.filename
        try:
            key = services.remove_evidence(
                db.session,
                claim_id,
                evidence_id,
                actor=current.person(),
                expected_version=form.version.data,
            )
        except ClaimNotFound:
            abort(404)
        except ClaimConflict as error:
            problems, claim = refuse(error), claim_or_404(claim_id)
            if not claim.is_editable:
                return render_claim(claim, problems=problems, status=409)
            return render_edit(claim, problems=problems, status=409)
        if key is not None:  # a never-submitted claim's file: its object goes after commit
            unit_of_work.after_commit(lambda: _delete_stored(key))
        flash(f"File removed: {filename}", "success")
        return redirect(url_for("claims.edit", claim_id=claim_id, _anchor="evidence"))
    if form.is_submitted():
        abort(400)
    form.version.data = claim.version
    return render_template("claims/remove_evidence.html", claim=claim, file=row, form=form)


class _Discarded(io.BytesIO):
    """Where the parser writes an oversize upload's bytes: nowhere."""

    def write(self, data: object) -> int:
        return len(data)  # type: ignore[arg-type]


def _discard(*_args: object, **_kwargs: object) -> io.BytesIO:
    return _Discarded()


def _fields_without_files() -> MultiDict[str, str] | None:
    """The form's fields of a request over the limit, its files' bytes thrown away.

    ``None`` when it cannot be read safely: no declared length, longer than
    ``OVERSIZE_READ_LIMIT``, not a multipart form, or malformed.
    """
    length = request.content_length
    if length is None or length > OVERSIZE_READ_LIMIT or request.mimetype != "multipart/form-data":
        return None
    parser = FormDataParser(
        stream_factory=_discard,  # type: ignore[arg-type]
        max_form_memory_size=request.max_form_memory_size,
        max_content_length=OVERSIZE_READ_LIMIT,
        max_form_parts=request.max_form_parts,
        silent=False,
    )
    # Werkzeug refused on the declared length before reading anything: the body is unread.
    stream = cast(IO[bytes], LimitedStream(request.environ["wsgi.input"], length))
    try:
        _stream, form, _files = parser.parse(
            stream, request.mimetype, length, request.mimetype_params
        )
    except (ValueError, RequestEntityTooLarge):
        return None
    return form


def _edit_again_without_the_file(claim_id: int) -> ResponseReturnValue | None:
    """The claim page again with what was typed and the size problem, or ``None``."""
    if not current_user.is_authenticated:
        return None
    form = _fields_without_files()
    if form is None:
        return None
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(form.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")))
        except ValidationError:
            return None
    claim = claim_or_404(claim_id)
    refused = editable_or_refuse(claim)
    if refused is not None:
        return refused
    entries = services.parse_entries(claim, form)
    problems = [Problem(_too_large_message(), EVIDENCE_FIELD), *entries.problems]
    log.info("claim %s: evidence refused (request over the limit)", claim.id)
    return render_edit(claim, problems=problems, entries=entries, status=413)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload over the request limit: back to the claim page with the reason."""
    claim_id = (request.view_args or {}).get("claim_id")
    if request.endpoint == "claims.save" and claim_id is not None:
        again = _edit_again_without_the_file(claim_id)
        if again is not None:
            return again
    if request.endpoint in ("claims.save", "claims.edit") and claim_id is not None:
        # Not readable (too large even to read, no session, expired form): say why at least.
        return redirect(url_for("claims.edit", claim_id=claim_id, error="too-large"))
    return render_template(
        "errors/error.html",
        status=413,
        title="The file is too large",
        detail="Each file must be 5 MB or smaller.",
    ), 413
