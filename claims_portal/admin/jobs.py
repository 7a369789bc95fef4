"""The runs of scheduled jobs (``job_run``), read-only: what ran when, and how it ended."""

from __future__ import annotations

from claims_portal.access.roles import Capability
from claims_portal.admin.base import SecureModelView


class JobRunAdmin(SecureModelView):
    # The portal's own housekeeping (outbox sweep, evidence sweep, audit check), the same
    # for every ICB and holding no ICB's records: shown to those who read the audit trail.
    required_capability = Capability.VIEW_AUDIT_TRAIL
    column_list = ["kind", "scheduled_for", "started_at", "finished_at", "outcome"]
    column_details_list = ["id", *column_list, "task_id", "detail"]
    column_labels = {
        "kind": "Job",
        "scheduled_for": "Due",
        "started_at": "Started",
        "finished_at": "Finished",
        "task_id": "Task id",
    }
    column_sortable_list = ["kind", "scheduled_for", "started_at", "outcome"]
    column_filters = ["kind", "outcome"]
    column_default_sort = ("started_at", True)
