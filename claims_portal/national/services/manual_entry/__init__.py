"""Manual entry of achievement data (Achievement Entry), by the provider or by a commissioner
on its behalf: a service the provider takes part in, an achievement date, an indicator group;
its figures saved as work in progress or submitted. Flush only.

Who: ``Capability.ENTER_ACHIEVEMENT`` at the provider (source *Manual entry*) or at a
commissioner above it acting from there (source *Commissioner entry*), see :func:`entrant`.

What may be changed (:func:`open_group`, re-checked by :func:`save_group`):

- the provider takes part (an approved offer covering the achievement date);
- not yet approved: the provider, while no declaration has gone past "Awaiting service
  provider approval"; the commissioner, until finance approval;
- the provider, inside the service's amendment window (``amendment_window_days`` after the
  achievement date; none: no limit); the commissioner is not held to it;
- figure by figure: the provider cannot overwrite a figure that came from an extract or
  that the commissioner entered;
- services that pay (not participation only): their extracted (not ``manual``) indicators,
  registers and list size open the day after the service's extract for that date finished
  loading (England's date); ``manual`` indicators (QOF's quality improvement) any time.

Work in progress is one per group and side (the provider's, the commissioner's): saving
updates it; submitting turns it into the submission. A submission by the other side leaves
it as it was (nothing typed is lost) and the group page says it was saved before the newer
submission. Every save carries the version of what the person saw (:attr:`GroupEntry.token`);
a save after another person's save or submission is refused, saying who and when.

On submit the submitted figures become the ones that count (``last_submission``, set-based:
the earlier ones of the same codes and fields are unmarked, and kept).
"""

from claims_portal.national.services.manual_entry.choices import (
    DateChoice,
    Entrant,
    achievement_dates,
    blockers,
    entrant,
    entry_opens_on,
    participating_services,
    takes_part,
    valid_date,
)
from claims_portal.national.services.manual_entry.figures import (
    Cell,
    GroupEntry,
    GroupProgress,
    IndicatorRow,
    SubmissionNote,
    group_progress,
    open_group,
    submission_notes,
)
from claims_portal.national.services.manual_entry.saving import (
    MANUAL_SUBMISSION,
    Checked,
    EntryConflict,
    EntryError,
    Saved,
    check_group,
    save_group,
)

__all__ = [
    "MANUAL_SUBMISSION",
    "Cell",
    "Checked",
    "DateChoice",
    "Entrant",
    "EntryConflict",
    "EntryError",
    "GroupEntry",
    "GroupProgress",
    "IndicatorRow",
    "Saved",
    "SubmissionNote",
    "achievement_dates",
    "blockers",
    "check_group",
    "entrant",
    "entry_opens_on",
    "group_progress",
    "open_group",
    "participating_services",
    "save_group",
    "submission_notes",
    "takes_part",
    "valid_date",
]
