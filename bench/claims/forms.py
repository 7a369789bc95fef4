"""Reading a page's forms the way a browser does, for the benchmark's writers: find the form
posting to a path, take its fields as rendered (hidden inputs, CSRF token, version, units,
checkboxes ticked), change what the person would change, post it."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    #: (name, value) in page order, as the browser would send them without a click.
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: Checkboxes not ticked: (name, value), to tick when the person would.
    unticked: list[tuple[str, str]] = field(default_factory=list)
    #: Submit buttons: (name, value).
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def values(self, changes: dict[str, str] | None = None) -> list[tuple[str, str]]:
        """The fields with ``changes`` (a name's first value replaced, or added)."""
        out = list(self.fields)
        for name, value in (changes or {}).items():
            for index, (key, _) in enumerate(out):
                if key == name:
                    out[index] = (key, value)
                    break
            else:
                out.append((name, value))
        return out


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image"):
                form.buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                pair = (name, a.get("value", "on"))
                (form.fields if "checked" in a else form.unticked).append(pair)
            elif kind != "file":
                form.fields.append((name, a.get("value", "")))
        elif tag == "button" and name:
            form.buttons.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self.forms:
            name, parts = self._textarea
            self.forms[-1].fields.append((name, "".join(parts).strip("\n")))
            self._textarea = None


def forms_of(page: str) -> list[Form]:
    parser = _Parser()
    parser.feed(page)
    return parser.forms


def form_posting_to(page: str, path_end: str, page_path: str = "") -> Form | None:
    """The first POST form whose action ends with ``path_end`` (a form without an action
    posts to the page itself, ``page_path``)."""
    for form in forms_of(page):
        if not form.action:
            form.action = page_path
        if form.method == "post" and form.action.split("?", 1)[0].endswith(path_end):
            return form
    return None
