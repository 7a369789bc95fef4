"""Evidence files attached to claims: checking, storing, serving and cleaning up.

This package is library code for the claims views and services; it has no models, views or
blueprint. The claims code stores each file's key, original name, size, content type and
SHA-256 in its own table, and checks permissions before serving.

Checking an upload (``validation``, ``containers``, ``scanning``)
    :func:`inspect_upload` (stream, filename) / :func:`inspect_evidence` (bytes, filename)
    -> :class:`InspectedEvidence` (type, canonical content type, size, SHA-256, sanitised
    name, scan verdict, the bytes), or raise :class:`EvidenceRejected` with a plain
    ``reason`` and a :class:`RejectionCode`. Accepted: doc, docx, xls, xlsx, odt, ods, pdf
    (:class:`EvidenceType`), at most 5 MB, decided from the content.
    :class:`VirusScanner`: :func:`scanner_from_config` gives :class:`ClamdScanner` (ClamAV's
    daemon) or :class:`NoVirusScanner` (``VIRUS_SCANNER``); an infected file raises
    :class:`EvidenceInfected` (holding the file, for quarantine), a scanner that is down
    :class:`VirusScanUnavailable`.

Storing (``storage``)
    :class:`EvidenceStore` protocol (put, open, delete, exists, list_objects, close) with
    :class:`LocalEvidenceStore` and :class:`S3EvidenceStore`; :func:`store_from_config`
    picks one from the app's ``EVIDENCE_*`` settings. Keys come from
    :func:`new_evidence_key`: ``{prefix}{yyyy}/{mm}/{uuid4 hex}``; quarantined files from
    :func:`quarantine_key`: ``{prefix}quarantine/{yyyy}/{mm}/{uuid4 hex}``. Failures raise
    :class:`EvidenceStorageError` (:class:`EvidenceNotFound` for a missing key).

Keeping the store and the database in step (``lifecycle``)
    :func:`stored_evidence` (context manager) and :func:`save_evidence_atomically` put the
    object first and delete it again if the database work fails (:func:`put_evidence` for a
    request, whose unit of work deletes it again on rollback); :func:`sweep_orphans`
    deletes objects without a row once older than a grace period.

Serving (``serving``)
    :func:`evidence_response` streams a download as an attachment with ``nosniff`` and
    ``Cache-Control: private, no-store``.

See ``docs/evidence.md`` for the rules and the reasons behind them.
"""

from claims_portal.claims.evidence.containers import ContainerLimits
from claims_portal.claims.evidence.errors import (
    EvidenceError,
    EvidenceNotFound,
    EvidenceRejected,
    EvidenceStorageError,
    RejectionCode,
)
from claims_portal.claims.evidence.filetypes import ALLOWED_TYPES_MESSAGE, EvidenceType
from claims_portal.claims.evidence.lifecycle import (
    DEFAULT_GRACE,
    SweepReport,
    discard_quietly,
    put_evidence,
    save_evidence_atomically,
    stored_evidence,
    sweep_orphans,
)
from claims_portal.claims.evidence.scanning import (
    ClamdScanner,
    NoVirusScanner,
    ScanResult,
    VirusScanner,
    VirusScanUnavailable,
    scanner_from_config,
)
from claims_portal.claims.evidence.serving import attachment_disposition, evidence_response
from claims_portal.claims.evidence.storage import (
    EvidenceStore,
    ListedObject,
    LocalEvidenceStore,
    S3EvidenceStore,
    StoredObject,
    new_evidence_key,
    quarantine_key,
    store_from_config,
)
from claims_portal.claims.evidence.validation import (
    DEFAULT_MAX_BYTES,
    EvidenceInfected,
    InspectedEvidence,
    inspect_evidence,
    inspect_upload,
    read_upload,
    safe_filename,
    too_large_message,
)

__all__ = [
    "ALLOWED_TYPES_MESSAGE",
    "DEFAULT_GRACE",
    "DEFAULT_MAX_BYTES",
    "ClamdScanner",
    "ContainerLimits",
    "EvidenceError",
    "EvidenceInfected",
    "EvidenceNotFound",
    "EvidenceRejected",
    "EvidenceStorageError",
    "EvidenceStore",
    "EvidenceType",
    "InspectedEvidence",
    "ListedObject",
    "LocalEvidenceStore",
    "NoVirusScanner",
    "RejectionCode",
    "S3EvidenceStore",
    "ScanResult",
    "StoredObject",
    "SweepReport",
    "VirusScanUnavailable",
    "VirusScanner",
    "attachment_disposition",
    "discard_quietly",
    "evidence_response",
    "inspect_evidence",
    "inspect_upload",
    "new_evidence_key",
    "put_evidence",
    "quarantine_key",
    "read_upload",
    "safe_filename",
    "save_evidence_atomically",
    "scanner_from_config",
    "store_from_config",
    "stored_evidence",
    "sweep_orphans",
    "too_large_message",
]
