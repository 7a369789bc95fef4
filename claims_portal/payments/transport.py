"""How payment files travel to the payments agency and its answers come back.

One interface, :class:`Transport`, with two implementations chosen by configuration
(``PAYMENTS_TRANSPORT``, :func:`transport_for`): :class:`DropFolder`, folders on a disk
the agency shares, and :class:`S3Transport`, keys in an S3 bucket (the project's shared
boto3 client). Both hold the same areas (docs/payments.md, "Transport and the stand-in
agency"): ``outgoing/`` (our payment files), ``incoming/`` (the agency's acknowledgements
and remittances), ``processed/`` (responses the run has dealt with), and ``agency/...``,
which only the stand-in agency uses.

Every file appears whole or not at all: a drop folder writes a hidden temporary file
beside the real one and renames it over (``os.replace``); an S3 object appears when its
upload completes. Files are streamed, so a file of 50,000 rows takes little memory.

This module does I/O but reads no database, no Flask app and no clock: it is given the
configuration as a mapping. Failures raise :class:`TransportError`, saying what and where.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "AGENCY",
    "INCOMING",
    "OUTGOING",
    "PROCESSED",
    "AreaTransport",
    "DropFolder",
    "S3Transport",
    "Transport",
    "TransportError",
    "transport_for",
]

OUTGOING = "outgoing"
INCOMING = "incoming"
PROCESSED = "processed"
#: The stand-in agency's own areas start with this (``agency/received`` and so on).
AGENCY = "agency"

#: A file's name: no folders, not hidden (temporary files start with ``.``).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_AREA = re.compile(r"[a-z]+(/[a-z]+)*")
#: Bytes kept in memory before an S3 upload spills to a temporary file (a file of 50,000
#: rows is about 6 MiB).
_SPOOL_BYTES = 1024 * 1024


class TransportError(OSError):
    """A file could not be sent, listed, read or moved; the message says which and why."""


@runtime_checkable
class Transport(Protocol):
    """Where payment files go and responses come from (``name``: ``folder`` or ``s3``)."""

    name: str

    def send(self, name: str, chunks: Iterable[bytes]) -> None:
        """Put ``outgoing/<name>`` whole, at once; sending a name again replaces it."""

    def responses(self) -> list[str]:
        """Names of the responses waiting in ``incoming/``, oldest first."""

    def read(self, name: str) -> bytes:
        """The bytes of ``incoming/<name>``."""

    def done(self, name: str) -> None:
        """Move ``incoming/<name>`` to ``processed/<name>``; already moved is fine."""

    def sent(self) -> list[str]:
        """Names in ``outgoing/`` (not yet taken by the agency)."""


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise TransportError(
            f"{name!r} is not a file name for payments: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit, at most 200 characters"
        )
    return name


def _check_area(area: str) -> str:
    if not _AREA.fullmatch(area):
        raise TransportError(f"{area!r} is not an area (such as outgoing or agency/received)")
    return area


class AreaTransport:
    """A :class:`Transport` built on a few operations on named areas (folders or key
    prefixes), so that both kinds behave the same; the kinds implement only those.

    ``names``, ``get``, ``put``, ``move`` and ``exists`` are public for the stand-in agency,
    which works the same areas from the other side (and its own, under ``agency/``).
    """

    name = "areas"

    def names(self, area: str) -> list[str]:
        """The file names in ``area``, oldest first (ties by name)."""
        raise NotImplementedError

    def get(self, area: str, name: str) -> bytes:
        raise NotImplementedError

    def put(self, area: str, name: str, chunks: Iterable[bytes]) -> None:
        """Write ``area/name`` whole, at once, replacing any file of that name."""
        raise NotImplementedError

    def move(self, area: str, name: str, to_area: str, to_name: str | None = None) -> bool:
        """Move ``area/name`` to ``to_area/to_name`` (same name by default), replacing one
        there; False, and nothing done, when ``area/name`` is not there."""
        raise NotImplementedError

    def exists(self, area: str, name: str) -> bool:
        raise NotImplementedError

    def send(self, name: str, chunks: Iterable[bytes]) -> None:
        self.put(OUTGOING, name, chunks)

    def responses(self) -> list[str]:
        return self.names(INCOMING)

    def read(self, name: str) -> bytes:
        return self.get(INCOMING, name)

    def done(self, name: str) -> None:
        if not self.move(INCOMING, name, PROCESSED) and not self.exists(PROCESSED, name):
            raise TransportError(f"response {name} is neither in {INCOMING}/ nor {PROCESSED}/")

    def sent(self) -> list[str]:
        return self.names(OUTGOING)


# --- A drop folder -------------------------------------------------------------------------


class DropFolder(AreaTransport):
    """Folders under ``root``: ``outgoing/``, ``incoming/``, ``processed/`` (made if missing).

    A file is written to a hidden temporary file in its folder (``.<name>.<random>.tmp``,
    which every listing skips), flushed to disk, then renamed over the real name, so a
    reader sees the old file or the new one, never a part.
    """

    name = "folder"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        try:
            for area in (OUTGOING, INCOMING, PROCESSED):
                (self.root / area).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransportError(f"payments folder {self.root} cannot be made: {exc}") from exc

    def __repr__(self) -> str:
        return f"DropFolder({str(self.root)!r})"

    def _folder(self, area: str) -> Path:
        return self.root / _check_area(area)

    def names(self, area: str) -> list[str]:
        folder = self._folder(area)
        found: list[tuple[int, str]] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if _NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                        found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise TransportError(f"payments folder {folder} cannot be listed: {exc}") from exc
        return [name for _, name in sorted(found)]

    def get(self, area: str, name: str) -> bytes:
        path = self._folder(area) / _check_name(name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise TransportError(f"{area}/{name} is not in {self.root}") from None
        except OSError as exc:
            raise TransportError(f"{path} cannot be read: {exc}") from exc

    def exists(self, area: str, name: str) -> bool:
        return (self._folder(area) / _check_name(name)).is_file()

    def put(self, area: str, name: str, chunks: Iterable[bytes]) -> None:
        folder = self._folder(area)
        target = folder / _check_name(name)
        temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(temporary, "xb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
            _sync_folder(folder)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise TransportError(f"{target} cannot be written: {exc}") from exc
        except BaseException:  # the rows failed (FileInvalid, a stop): leave nothing behind
            temporary.unlink(missing_ok=True)
            raise

    def move(self, area: str, name: str, to_area: str, to_name: str | None = None) -> bool:
        source = self._folder(area) / _check_name(name)
        folder = self._folder(to_area)
        target = folder / _check_name(to_name or name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        except FileNotFoundError:
            if source.exists():  # the target's folder went missing: a real failure
                raise TransportError(f"{source} cannot be moved to {target}") from None
            return False
        except OSError as exc:
            raise TransportError(f"{source} cannot be moved to {target}: {exc}") from exc
        _sync_folder(folder)
        return True


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` survive a crash (a folder is fsynced by its descriptor)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename itself has happened
    finally:
        os.close(descriptor)


# --- S3 ------------------------------------------------------------------------------------


class S3Transport(AreaTransport):
    """Keys ``<prefix><area>/<name>`` in ``bucket`` (``payments/outgoing/...`` by default).

    An object appears only when its upload completes, so a reader never sees a part. The
    chunks are gathered in a spooled temporary file (memory up to 1 MiB, then disk) and
    uploaded from there: memory stays flat however long the file. Moving is copying, then
    deleting the original.
    """

    name = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "payments/",
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any = None,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_attempts: int = 3,
    ) -> None:
        if not bucket:
            raise TransportError("PAYMENTS_S3_BUCKET must be set when PAYMENTS_TRANSPORT is s3")
        self.bucket = bucket
        prefix = (prefix or "").strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        if client is None:
            from claims_portal.claims.evidence.s3_clients import shared_s3_client

            client = shared_s3_client(
                region=region,
                endpoint_url=endpoint_url,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_attempts=max_attempts,
            )
        self.client = client

    def __repr__(self) -> str:
        return f"S3Transport(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, area: str, name: str) -> str:
        return f"{self.prefix}{_check_area(area)}/{_check_name(name)}"

    def _failed(self, action: str, key: str, exc: Exception) -> TransportError:
        return TransportError(f"S3 {action} of s3://{self.bucket}/{key} failed: {exc}")

    def names(self, area: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        folder = f"{self.prefix}{_check_area(area)}/"
        found: list[tuple[Any, str]] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder, Delimiter="/"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(folder) :]
                    if _NAME.fullmatch(name):
                        found.append((item["LastModified"], name))
        except (BotoCoreError, ClientError) as exc:
            raise self._failed("list", folder, exc) from exc
        return [name for _, name in sorted(found)]

    def get(self, area: str, name: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self._key(area, name)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return bytes(response["Body"].read())
        except ClientError as exc:
            if _missing(exc):
                raise TransportError(f"{area}/{name} is not in s3://{self.bucket}") from None
            raise self._failed("read", key, exc) from exc
        except BotoCoreError as exc:
            raise self._failed("read", key, exc) from exc

    def exists(self, area: str, name: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self._key(area, name)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise self._failed("head", key, exc) from exc
        except BotoCoreError as exc:
            raise self._failed("head", key, exc) from exc
        return True

    def put(self, area: str, name: str, chunks: Iterable[bytes]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self._key(area, name)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            try:
                self.client.upload_fileobj(
                    spool, self.bucket, key, ExtraArgs={"ContentType": "text/csv"}
                )
            except (BotoCoreError, ClientError) as exc:
                raise self._failed("upload", key, exc) from exc

    def move(self, area: str, name: str, to_area: str, to_name: str | None = None) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        source, target = self._key(area, name), self._key(to_area, to_name or name)
        try:
            self.client.copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
            )
        except ClientError as exc:
            if _missing(exc):
                return False
            raise self._failed("copy", source, exc) from exc
        except BotoCoreError as exc:
            raise self._failed("copy", source, exc) from exc
        try:
            self.client.delete_object(Bucket=self.bucket, Key=source)
        except (BotoCoreError, ClientError) as exc:
            raise self._failed("delete", source, exc) from exc
        return True


def _missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) in {"NoSuchKey", "404", "NotFound"}


# --- Configuration -------------------------------------------------------------------------


def transport_for(config: Mapping[str, Any]) -> AreaTransport:
    """The transport the settings name (docs/configuration.md): a :class:`Transport`.

    ``PAYMENTS_TRANSPORT``: ``folder`` (default), a :class:`DropFolder` on
    ``PAYMENTS_FOLDER``; ``s3``, an :class:`S3Transport` on ``PAYMENTS_S3_BUCKET`` with
    ``PAYMENTS_S3_PREFIX``, ``PAYMENTS_S3_REGION`` and ``PAYMENTS_S3_ENDPOINT_URL``.
    Raises :class:`TransportError` for another kind or a missing folder or bucket.
    """
    kind = str(config.get("PAYMENTS_TRANSPORT") or "folder").strip().lower()
    if kind == "folder":
        folder = config.get("PAYMENTS_FOLDER")
        if not folder:
            raise TransportError("PAYMENTS_FOLDER must be set when PAYMENTS_TRANSPORT is folder")
        return DropFolder(folder)
    if kind == "s3":
        return S3Transport(
            config.get("PAYMENTS_S3_BUCKET") or "",
            config.get("PAYMENTS_S3_PREFIX") or "",
            region=config.get("PAYMENTS_S3_REGION") or None,
            endpoint_url=config.get("PAYMENTS_S3_ENDPOINT_URL") or None,
        )
    raise TransportError(f"PAYMENTS_TRANSPORT must be 'folder' or 's3', not {kind!r}")
