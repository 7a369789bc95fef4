"""Bulk claims: a tier 1 commissioner's uploaded spreadsheet and the claims it created; and
the index the claim lists sort by.

The claims themselves are ordinary :class:`~claims_portal.claims.models.Claim` rows, created
by the commissioner (``created_by``) on the providers' behalf; these tables only remember
which upload made which claim, from which row, so the claim page and the audit can say so.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from claims_portal.access.models import User
from claims_portal.claims.models import Claim
from claims_portal.db import UTCDateTime, intpk, utcnow
from claims_portal.extensions import db
from claims_portal.schemes.models import ClaimWindow, Scheme


class BulkUpload(db.Model):  # type: ignore[name-defined,misc]
    """One accepted bulk claims spreadsheet (a refused one leaves no row)."""

    __tablename__ = "bulk_claim_upload"
    __table_args__ = (CheckConstraint("claim_count >= 1", name="claims_made"),)

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("claim_window.id"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: The sanitised file name and the file's SHA-256 (the file itself is not kept).
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    claim_count: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    scheme: Mapped[Scheme] = relationship()
    window: Mapped[ClaimWindow] = relationship()
    uploaded_by: Mapped[User] = relationship()
    claims: Mapped[list[BulkUploadClaim]] = relationship(
        back_populates="upload", order_by="BulkUploadClaim.row_number"
    )


class BulkUploadClaim(db.Model):  # type: ignore[name-defined,misc]
    """A claim made from one row of a bulk upload."""

    __tablename__ = "bulk_claim_upload_claim"

    id: Mapped[intpk]
    upload_id: Mapped[int] = mapped_column(ForeignKey("bulk_claim_upload.id"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), unique=True)
    #: The spreadsheet row the claim came from (as Excel numbers rows).
    row_number: Mapped[int] = mapped_column(Integer)

    upload: Mapped[BulkUpload] = relationship(back_populates="claims")
    claim: Mapped[Claim] = relationship()


#: The lists' default order (newest submission first, ``services.listing``): read backwards,
#: this index gives a commissioner's first page of tens of thousands of claims without
#: sorting them all (about 2 ms instead of 20 ms for 20,000 claims).
Index("ix_claim_submitted_at_id", Claim.submitted_at, Claim.id)
