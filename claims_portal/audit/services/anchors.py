"""Anchors: the audit chain's head recorded outside the database.

The hash chain shows any event changed, removed or inserted before the newest one, but not
the newest events removed from its end. ``claims-portal audit anchor`` therefore records
the newest seal's event id and hash, and its position (how many events the chain held),
somewhere the database's users cannot rewrite (``AUDIT_ANCHOR_TARGET``); ``audit verify``
reads every anchor back and reports an anchored event that is missing, whose hash differs,
or that is no longer at the same position (events before it removed or added). Anchors
recorded before events were sealed after commit (revision 0013) counted events in id
order, which is the position that revision gave them.

Two targets:

- a file path (or ``file:///path``): one JSON object per line, appended, never rewritten;
- ``s3://bucket/prefix``: one object per anchor under a new key, written only if no object
  has that key (``If-None-Match: *``), so an anchor is never overwritten. The key holds the
  anchor itself (``{event id}-{count}-{hash}-{time}.json``, the id zero-padded so keys sort
  by it), so reading every anchor back takes only a listing; the body repeats it as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

_HASH = re.compile(r"^[0-9a-f]{64}$")
_S3_KEY = re.compile(
    r"(?P<id>\d{20})-(?P<count>\d{20})-(?P<hash>[0-9a-f]{64})-(?P<at>\d{8}T\d{12}Z)\.json"
)
_S3_TIME = "%Y%m%dT%H%M%S%fZ"


class AnchorError(RuntimeError):
    """The anchor target is not configured, cannot be reached, or holds something that is
    not an anchor; the message says which."""


@dataclass(frozen=True)
class Anchor:
    """The chain's head at one moment: its newest seal's event, hash and position."""

    event_id: int
    event_hash: str
    #: The seal's position: events chained up to and including ``event_id``.
    count: int
    #: Aware UTC.
    anchored_at: dt.datetime
    #: Where it was read from (a file's line, an object's key), for messages.
    source: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_hash": self.event_hash,
            "count": self.count,
            "anchored_at": self.anchored_at.astimezone(dt.UTC).isoformat(),
        }

    def describe(self) -> str:
        moment = self.anchored_at.astimezone(dt.UTC)
        return f"anchored {moment:%Y-%m-%d %H:%M:%S} UTC ({self.source})"


def _anchor_from_json(data: Any, source: str) -> Anchor:
    try:
        anchor = Anchor(
            event_id=int(data["event_id"]),
            event_hash=str(data["event_hash"]),
            count=int(data["count"]),
            anchored_at=dt.datetime.fromisoformat(data["anchored_at"]),
            source=source,
        )
    except (TypeError, KeyError, ValueError) as exc:
        raise AnchorError(f"{source} is not an audit anchor") from exc
    if not _HASH.match(anchor.event_hash) or anchor.anchored_at.tzinfo is None:
        raise AnchorError(f"{source} is not an audit anchor")
    return anchor


class AnchorTarget(Protocol):
    """A place anchors are appended to and read back from."""

    def record(self, anchor: Anchor) -> str:
        """Append ``anchor``; returns where it went. Raises :class:`AnchorError`."""
        ...

    def read(self) -> list[Anchor]:
        """Every anchor recorded, in any order. Raises :class:`AnchorError`."""
        ...

    def close(self) -> None: ...


class FileAnchorTarget:
    """JSON lines appended to one file (created 0o640). Keep it on storage the database's
    users cannot write, and copy it off the host (e.g. with the deployment's logs)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileAnchorTarget({str(self.path)!r})"

    def record(self, anchor: Anchor) -> str:
        line = json.dumps(anchor.as_json(), sort_keys=True) + "\n"
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(descriptor, line.encode("utf-8"))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as exc:
            raise AnchorError(f"Could not append to the anchor file {self.path}: {exc}") from exc
        return str(self.path)

    def read(self) -> list[Anchor]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise AnchorError(f"Could not read the anchor file {self.path}: {exc}") from exc
        anchors = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            source = f"{self.path} line {number}"
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise AnchorError(f"{source} is not an audit anchor") from exc
            anchors.append(_anchor_from_json(data, source))
        return anchors

    def close(self) -> None:
        return None


class S3AnchorTarget:
    """One object per anchor under ``prefix`` in ``bucket``, never overwritten.

    Uses the evidence store's S3 client (timeouts, retries) and listing. Give the
    credentials that anchor ``s3:PutObject`` and ``s3:ListBucket`` only, and turn on the
    bucket's versioning or Object Lock, so that not even they can remove an anchor.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        sse: str | None = "aws:kms",
        **options: Any,
    ) -> None:
        from claims_portal.claims.evidence.storage import S3EvidenceStore

        self.store = S3EvidenceStore(
            bucket,
            key_prefix=prefix,
            region=region,
            endpoint_url=endpoint_url,
            sse=sse,
            **options,
        )

    def __repr__(self) -> str:
        return f"S3AnchorTarget(bucket={self.store.bucket!r}, prefix={self.store.key_prefix!r})"

    def record(self, anchor: Anchor) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        at = anchor.anchored_at.astimezone(dt.UTC)
        key = (
            f"{self.store.key_prefix}{anchor.event_id:020d}-{anchor.count:020d}-"
            f"{anchor.event_hash}-{at.strftime(_S3_TIME)}.json"
        )
        arguments: dict[str, Any] = {
            "Bucket": self.store.bucket,
            "Key": key,
            "Body": json.dumps(anchor.as_json(), sort_keys=True).encode("utf-8"),
            "ContentType": "application/json",
            "IfNoneMatch": "*",  # never replace an object already there
        }
        if self.store.sse:
            arguments["ServerSideEncryption"] = self.store.sse
        try:
            self.store.client.put_object(**arguments)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
                raise AnchorError(
                    f"An anchor already exists at s3://{self.store.bucket}/{key}; "
                    "anchors are never overwritten"
                ) from exc
            raise AnchorError(f"Could not write the anchor to S3 ({code or exc})") from exc
        except BotoCoreError as exc:
            raise AnchorError(f"Could not write the anchor to S3 ({exc})") from exc
        return f"s3://{self.store.bucket}/{key}"

    def read(self) -> list[Anchor]:
        from claims_portal.claims.evidence.errors import EvidenceStorageError

        anchors = []
        try:
            for listed in self.store.list_objects():
                name = listed.key[len(self.store.key_prefix) :]
                match = _S3_KEY.fullmatch(name)
                if match is None:
                    continue  # not an anchor (a note an operator left, say)
                anchors.append(
                    Anchor(
                        event_id=int(match["id"]),
                        event_hash=match["hash"],
                        count=int(match["count"]),
                        anchored_at=dt.datetime.strptime(match["at"], _S3_TIME).replace(
                            tzinfo=dt.UTC
                        ),
                        source=f"s3://{self.store.bucket}/{listed.key}",
                    )
                )
        except EvidenceStorageError as exc:
            raise AnchorError(f"Could not list the anchors in s3://{self.store.bucket}") from exc
        return anchors

    def close(self) -> None:
        self.store.close()


def anchor_target_from_config(config: Mapping[str, Any], **s3_options: Any) -> AnchorTarget | None:
    """The target ``AUDIT_ANCHOR_TARGET`` names, or None when it is unset.

    ``s3://bucket/prefix`` uses ``AUDIT_ANCHOR_S3_REGION``, ``_ENDPOINT_URL`` and ``_SSE``
    (empty or ``none``: no encryption header); anything else is a file path. Raises
    :class:`AnchorError` for an S3 target without a bucket or with an unsafe prefix.
    """
    from claims_portal.claims.evidence.storage import S3_ENCRYPTION
    from claims_portal.config import ConfigurationError

    target = str(config.get("AUDIT_ANCHOR_TARGET") or "").strip()
    if not target:
        return None
    if target.startswith("s3://"):
        bucket, _, prefix = target[len("s3://") :].partition("/")
        if not bucket:
            raise AnchorError(f"AUDIT_ANCHOR_TARGET {target!r} names no bucket")
        sse = config.get("AUDIT_ANCHOR_S3_SSE")
        if isinstance(sse, str) and sse.strip().lower() in {"", "none"}:
            sse = None
        if sse is not None and sse not in S3_ENCRYPTION:
            raise AnchorError(
                f"AUDIT_ANCHOR_S3_SSE must be one of {', '.join(S3_ENCRYPTION)} or empty"
            )
        try:
            return S3AnchorTarget(
                bucket,
                prefix,
                region=config.get("AUDIT_ANCHOR_S3_REGION") or None,
                endpoint_url=config.get("AUDIT_ANCHOR_S3_ENDPOINT_URL") or None,
                sse=sse,
                **s3_options,
            )
        except ConfigurationError as exc:
            raise AnchorError(f"AUDIT_ANCHOR_TARGET {target!r}: {exc}") from exc
    if target.startswith("file://"):
        target = target[len("file://") :]
    return FileAnchorTarget(target)
