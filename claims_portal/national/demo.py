"""The demo's national quality services: the shipped catalogue files (QOF 2024/25 and
2025/26, the Network Contract DES participation and the shingles programme), loaded as the
``national load-services`` command loads them. Safe to call again."""

from __future__ import annotations

from claims_portal.db import DbSession
from claims_portal.national.models import QualityService
from claims_portal.national.services.catalogue import load_shipped_services


def load_demo_services(session: DbSession) -> list[QualityService]:
    """Load the shipped service files (flushes; the demo commits); the services, in file
    order."""
    return [result.service for result in load_shipped_services(session)]
