"""Shared and team mailboxes, disguised or not: is this address a person's own?

The part of the address before the @ is normalised (case, Unicode compatibility forms,
look-alike letters of other scripts, accents, digits and symbols standing for letters,
punctuation) and searched for the role words of ``data/shared-mailbox-words.txt`` (how they
match is explained at the top of that file). The answer is a refusal (the word found), a
warning for the person deciding (a short word inside a longer part, or a word seen only
after reading ``rn`` as ``m``, ``vv`` as ``w`` or ``cl`` as ``d``), or nothing.

Pure: no Flask, no database; ``policy.email_problem`` turns the answer into words.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources

from confusable_homoglyphs import utils as homoglyph_data

#: Words this long or longer are refused wherever they appear.
MIN_ANYWHERE_LENGTH = 6
#: More characters than this that could be two different letters (``1``: i or l) are read
#: one way for all of them instead of every combination.
MAX_AMBIGUOUS = 4

#: Digits and symbols used for letters, each with the letters it can stand for.
_LEET: Mapping[str, str] = {
    "0": "o",
    "1": "il",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "li",
    "€": "e",
}
#: Sequences of Latin letters that look like one letter: read so only to warn.
_LOOK_ALIKE_SEQUENCES = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_LETTERS = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class RoleWord:
    word: str
    also_a_name: bool = False
    quiet: bool = False


@dataclass(frozen=True)
class MailboxCheck:
    """What was found: ``refused`` (the word) or ``warning`` (the word) or neither."""

    refused: str | None = None
    warning: str | None = None


def parse_words(text: str) -> dict[str, RoleWord]:
    """The word list's lines (``word [name] [quiet]``, ``#`` comments) as entries by word."""
    entries: dict[str, RoleWord] = {}
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        word, flags = parts[0].lower(), set(parts[1:])
        unknown = flags - {"name", "quiet"}
        if unknown or not word.isalpha():
            raise ValueError(f"Bad line in the shared-mailbox word list: {line!r}")
        entries[word] = RoleWord(word, also_a_name="name" in flags, quiet="quiet" in flags)
    return entries


@functools.cache
def default_words() -> Mapping[str, RoleWord]:
    """The shipped list, ``data/shared-mailbox-words.txt``."""
    text = (
        resources.files("claims_portal.access")
        .joinpath("data/shared-mailbox-words.txt")
        .read_text(encoding="utf-8")
    )
    return parse_words(text)


def words_with(setting: str | Iterable[str] | None) -> dict[str, RoleWord]:
    """The shipped list extended by a setting (comma-separated); ``-word`` removes one."""
    entries = dict(default_words())
    items = setting.split(",") if isinstance(setting, str) else (setting or ())
    for item in items:
        word = fold(item.strip())
        if word.startswith("-"):
            entries.pop(_plain(word[1:]), None)
        elif _plain(word):
            word = _plain(word)
            entries.setdefault(word, RoleWord(word))
    return entries


@functools.cache
def _latin_look_alikes() -> Mapping[str, str]:
    """Each character of another script that looks like one Latin letter, and that letter.

    From the Unicode confusables data shipped with ``confusable-homoglyphs``.
    """
    table: dict[str, str] = {}
    for character, homoglyphs in homoglyph_data.load("confusables.json").items():
        if len(character) != 1 or character.isascii():
            continue
        letters = [h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii()]
        lower = [c for c in letters if c.islower()] or [c.lower() for c in letters if c.isalpha()]
        if lower:
            table[character] = lower[0]
    return table


def fold(text: str) -> str:
    """Case, compatibility forms, look-alike letters and accents folded to plain Latin."""
    text = unicodedata.normalize("NFKC", text).casefold()
    look_alikes = _latin_look_alikes()
    text = "".join(look_alikes.get(c, c) for c in text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _plain(text: str) -> str:
    return "".join(_LETTERS.findall(text))


def _read_as_letter(character: str, choice: int) -> str:
    options = _LEET.get(character)
    return options[min(choice, len(options) - 1)] if options else character


def _leet_readings(text: str) -> Iterator[str]:
    """``text`` with digits and symbols read as letters, each way they can be read."""
    ambiguous = [i for i, c in enumerate(text) if len(_LEET.get(c, "")) > 1]
    if len(ambiguous) > MAX_AMBIGUOUS:
        for choice in range(2):
            yield "".join(_read_as_letter(c, choice) for c in text)
        return
    for choices in itertools.product(range(2), repeat=len(ambiguous)):
        chosen = dict(zip(ambiguous, choices, strict=True))
        yield "".join(_read_as_letter(c, chosen.get(i, 0)) for i, c in enumerate(text))


def _made_of(text: str, words: Mapping[str, RoleWord]) -> bool:
    """Whether ``text`` is one or more listed words one after another ("infodesk")."""
    if not text:
        return False
    reachable = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        reachable[end] = any(
            reachable[end - len(w)] and text.endswith(w, 0, end) for w in words if len(w) <= end
        )
    return reachable[len(text)]


def _word_in(text: str, words: Mapping[str, RoleWord]) -> str:
    """The longest listed word found in ``text`` (which holds at least one)."""
    return max((w for w in words if w in text), key=len)


def _look(reading: str, words: Mapping[str, RoleWord]) -> MailboxCheck:
    """Refusal or warning for one reading of the local part (letters and separators)."""
    parts = _LETTERS.findall(reading)
    joined = "".join(parts)
    # Long words are looked for inside each part, not across the dots: "aisha.redmond" reads
    # "shared" across one. An address made only of role words is refused however it is cut.
    for entry in words.values():
        if len(entry.word) >= MIN_ANYWHERE_LENGTH and any(entry.word in p for p in parts):
            return MailboxCheck(refused=entry.word)
    if _made_of(joined, words):
        return MailboxCheck(refused=_word_in(joined, words))
    warning = None
    for part in parts:
        if _made_of(part, words):
            if part in words and words[part].also_a_name:
                warning = warning or part
            else:
                return MailboxCheck(refused=_word_in(part, words))
        else:
            inside = [w for w in words if w in part and not words[w].quiet]
            if inside:
                warning = warning or max(inside, key=len)
    return MailboxCheck(warning=warning)


def check_local_part(local: str, words: Mapping[str, RoleWord]) -> MailboxCheck:
    """Look for role words in ``local`` (the part before the @, without any +tag)."""
    folded = fold(local)
    readings = [folded, *_leet_readings(folded)]
    warning = None
    for reading in readings:
        found = _look(reading, words)
        if found.refused:
            return found
        warning = warning or found.warning
    for reading in readings:
        squeezed = reading
        for sequence, letter in _LOOK_ALIKE_SEQUENCES:
            squeezed = squeezed.replace(sequence, letter)
        if squeezed != reading:
            found = _look(squeezed, words)
            warning = warning or found.refused or found.warning
    return MailboxCheck(warning=warning)


def has_letters(local: str) -> bool:
    return bool(_LETTERS.search(fold(local))) or any(c.isalpha() for c in local)
