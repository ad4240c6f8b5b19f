"""@mentions in a message's Markdown: found by the parser (never inside code), rendered as
a marked name only for the people the caller resolved.

Two forms: ``@username`` (the login identifier, where it may be shown), and
``@**Display Name|42**`` (the user's id, which the composer's autocomplete inserts when
usernames are private). ``@everyone`` and ``@room`` mention every member, when the caller
allows it. A mention nobody resolved stays text: a person who cannot see the room is
neither linked nor told.

The rendered form, ``<span class="scc-mention" data-user-id="42">@Name</span>`` (or
``data-mention="everyone"``), is the only one the sanitiser lets through, and the one
:func:`mentioned_in` and js/chat/mentions.js read back from stored HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

#: ``@`` then a username: letters, digits, ``_ . + -``, ending with a letter or digit
#: (a sentence's full stop after ``@alice.`` is not part of the name).
_NAME = re.compile(r"@([\w.+-]*\w)")
#: ``@**Name|id**`` (what autocomplete inserts when usernames are private).
_BY_ID = re.compile(r"@\*\*([^*|\n]{1,150})\|(\d{1,18})\*\*")
#: Words that mention every member of the room.
EVERYONE_WORDS = frozenset({"everyone", "room", "all"})
#: A mention's ``@`` follows none of these (``alice@example.com`` is an address).
_WORDLIKE = re.compile(r"[\w.+@/-]")
#: Rendered mentions, read back from stored HTML (which only :func:`_render` writes).
_RENDERED = re.compile(r'<span class="scc-mention[^"]*" data-(user-id|mention)="(\d+|everyone)"')


@dataclass(frozen=True)
class MentionRefs:
    """What a message's source mentions: usernames (lower-cased), user ids, everyone."""

    names: frozenset[str] = frozenset()
    ids: frozenset[int] = frozenset()
    everyone: bool = False

    def __bool__(self) -> bool:
        return bool(self.names or self.ids or self.everyone)

    def people(self) -> list[str | int]:
        """The names and ids, each the key :class:`Mentionable` marks it by."""
        return [*self.names, *self.ids]


NO_REFS = MentionRefs()


@dataclass(frozen=True)
class Mentionable:
    """Who the renderer may mark: {username (lower-cased) or id: (user id, display name)},
    and whether ``@everyone`` counts."""

    people: Mapping[str | int, tuple[int, str]] = field(default_factory=dict)
    everyone: bool = False

    def __bool__(self) -> bool:
        return bool(self.people or self.everyone)


NOBODY = Mentionable()


def _mention_rule(state: Any, silent: bool) -> bool:
    pos = state.pos
    if state.src[pos] != "@" or (pos > 0 and _WORDLIKE.match(state.src[pos - 1])):
        return False
    found = _BY_ID.match(state.src, pos, state.posMax)
    meta: dict[str, Any]
    if found is not None:
        meta = {"id": int(found.group(2)), "label": found.group(1).strip()}
    else:
        found = _NAME.match(state.src, pos, state.posMax)
        if found is None:
            return False
        meta = {"name": found.group(1).lower(), "label": found.group(1)}
    if not silent:
        token = state.push("scc_mention", "", 0)
        token.content = found.group(0)
        token.meta = meta
    state.pos = found.end()
    return True


def _render(
    _renderer: Any, tokens: Sequence[Token], idx: int, _options: Any, env: dict[str, Any]
) -> str:
    token = tokens[idx]
    allowed: Mentionable = env.get("mentionable", NOBODY)
    name = token.meta.get("name")
    if name in EVERYONE_WORDS and allowed.everyone:
        return (
            '<span class="scc-mention scc-mention-all" data-mention="everyone">'
            f"@{escape(name)}</span>"
        )
    person = allowed.people.get(name if name is not None else token.meta["id"])
    if person is None:
        return escape(token.content, quote=False)
    user_id, display = person
    return f'<span class="scc-mention" data-user-id="{int(user_id)}">@{escape(display)}</span>'


def mention_plugin(md: MarkdownIt) -> None:
    """Teach ``md`` the mention forms (rendered from ``env["mentionable"]``)."""
    if hasattr(md.inline, "add_terminator_char"):
        md.inline.add_terminator_char("@")
    md.inline.ruler.before("emphasis", "scc_mention", _mention_rule)
    md.add_render_rule("scc_mention", _render)


def refs_in(tokens: Sequence[Token]) -> MentionRefs:
    """The mentions of a parsed message (code spans and blocks hold none)."""
    names: set[str] = set()
    ids: set[int] = set()
    everyone = False
    stack = list(tokens)
    while stack:
        token = stack.pop()
        if token.children:
            stack.extend(token.children)
        if token.type != "scc_mention":
            continue
        name = token.meta.get("name")
        if name is None:
            ids.add(token.meta["id"])
        elif name in EVERYONE_WORDS:
            everyone = True
        else:
            names.add(name)
    return MentionRefs(frozenset(names), frozenset(ids), everyone)


def is_mention_name(username: str) -> bool:
    """Whether ``@username`` mentions that person (the name has no other characters and
    is not one of :data:`EVERYONE_WORDS`)."""
    return _NAME.fullmatch("@" + username) is not None and username.lower() not in EVERYONE_WORDS


def mentions_user(html: str, user_id: Any) -> bool:
    """Whether a stored message (its HTML) mentions ``user_id`` or everyone."""
    ids, everyone = mentioned_in(html)
    return everyone or user_id in ids


def mentioned_in(html: str) -> tuple[frozenset[int], bool]:
    """The user ids a stored message mentions, and whether it mentions everyone."""
    ids: set[int] = set()
    everyone = False
    for kind, value in _RENDERED.findall(html):
        if kind == "mention":
            everyone = True
        else:
            ids.add(int(value))
    return frozenset(ids), everyone
