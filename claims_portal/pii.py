"""Keeping patient-identifiable information out of free text: NHS numbers.

Claims are aggregate counts; free-text fields (notes, comments, reasons) must not carry
patient identifiers. An NHS number is 10 digits whose last digit is a modulus 11 check
digit over the first nine (weights 10 down to 2; 11 becomes 0, 10 means not a valid
number). People write them as ``9434765919``, ``943 476 5919`` or ``943-476-5919``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from wtforms.validators import ValidationError

NHS_NUMBER_MESSAGE = "Remove the NHS number: do not enter patient-identifiable information"

# Between groups: nothing, spaces, or a hyphen or dash with optional spaces around it.
_SEPARATOR = r"(?:[ \t]*[\-\u2010-\u2015\u2212]?[ \t]*)"
# 10 digits together, or in the 3-3-4 grouping; not part of a longer run of digits.
_CANDIDATE = re.compile(
    rf"(?<![0-9])([0-9]{{3}}){_SEPARATOR}([0-9]{{3}}){_SEPARATOR}([0-9]{{4}})(?![0-9])"
)


def is_valid_nhs_number(digits: str) -> bool:
    """Whether ten ASCII digits pass the NHS number modulus 11 check."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * weight for d, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def find_nhs_numbers(text: str) -> list[str]:
    """The valid NHS numbers in ``text``, as 10-digit strings, once each, in order.

    Accepts the number written together or grouped 3-3-4 with spaces, hyphens or dashes
    ("943 476 5919", "943 - 476 - 5919"); full-width
    digits count too (the text is NFKC-normalised first). Digits that are
    part of a longer number are not read as an NHS number. Never raises.
    """
    normalised = unicodedata.normalize("NFKC", text or "")
    found: list[str] = []
    for match in _CANDIDATE.finditer(normalised):
        digits = "".join(match.groups())
        if is_valid_nhs_number(digits) and digits not in found:
            found.append(digits)
    return found


class NoNhsNumber:
    """WTForms validator: refuse free text that contains a valid NHS number.

    Raises ``wtforms.validators.ValidationError`` with
    "Remove the NHS number: do not enter patient-identifiable information".
    """

    def __init__(self, message: str | None = None) -> None:
        self.message = message or NHS_NUMBER_MESSAGE

    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, str) and find_nhs_numbers(field.data):
            raise ValidationError(self.message)
