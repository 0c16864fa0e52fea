"""A small, conservative SPARQL tokeniser for the checks pyoxigraph offers no hook for.

It is not a parser: it skips comments, string literals and ``<IRI>`` tokens correctly, tracks brace
depth, and reports keywords. That is enough to find ``SERVICE`` and ``LOAD`` targets (refused unless
their host is allowed), to detect dataset clauses (``USING``/``WITH``) and to splice protocol
``using-graph-uri`` clauses into an update (SPARQL 1.1 Protocol §2.2.3).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)
    | (?P<word>[A-Za-z_\u00c0-\uffff][A-Za-z0-9_\-.\u00b7\u00c0-\uffff]*:?[A-Za-z0-9_\-.:%\u00c0-\uffff]*)
    | (?P<open>\{)
    | (?P<close>\})
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # comment | string | iri | var | word | open | close | other
    text: str
    start: int
    depth: int

    @property
    def keyword(self) -> str | None:
        """The upper-cased keyword for a bare word (``None`` for prefixed names like ``ex:load``)."""
        if self.kind == "word" and ":" not in self.text:
            return self.text.upper()
        return None


# Each check tokenises the query again; requests repeat the same short queries (point lookups, the gallery),
# so short texts keep their result: ~0.2 ms saved per check on a gallery-sized query.
CACHED_TEXT_CHARS = 4096


def tokens(text: str) -> tuple[Token, ...]:
    """Significant tokens (no spaces, no comments) with the brace depth they sit at."""
    return _tokens_cached(text) if len(text) <= CACHED_TEXT_CHARS else _tokens(text)


@functools.lru_cache(maxsize=512)
def _tokens_cached(text: str) -> tuple[Token, ...]:
    return _tokens(text)


def _tokens(text: str) -> tuple[Token, ...]:
    out: list[Token] = []
    depth = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind in ("space", "comment"):
            continue
        if kind == "close":
            depth = max(0, depth - 1)
        out.append(Token(kind, match.group(), match.start(), depth))
        if kind == "open":
            depth += 1
    return tuple(out)


MAX_NESTING = 128


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``{}``, ``()`` and ``[]`` outside comments, strings and IRIs. pyoxigraph's
    SPARQL parser recurses once per level: a few thousand levels overflow the native stack (SIGSEGV)."""
    return _nesting_depth_cached(text) if len(text) <= CACHED_TEXT_CHARS else _nesting_depth(text)


@functools.lru_cache(maxsize=512)
def _nesting_depth_cached(text: str) -> int:
    return _nesting_depth(text)


def _nesting_depth(text: str) -> int:
    depth = deepest = 0
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "open" or (kind == "other" and value in "(["):
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "close" or (kind == "other" and value in ")]"):
            depth = max(0, depth - 1)
    return deepest


class RemoteAccessRefused(Exception):
    """The request asks the server to reach a host it was not configured to reach."""


def remote_targets(text: str) -> list[tuple[str, str | None]]:
    """``(keyword, IRI or None)`` for every SERVICE and LOAD in the text; None when the target is not a
    literal IRI (a variable or a prefixed name), which callers must treat as not allowed."""
    toks = tokens(text)
    found: list[tuple[str, str | None]] = []
    for i, tok in enumerate(toks):
        if tok.keyword not in ("SERVICE", "LOAD"):
            continue
        j = i + 1
        if j < len(toks) and toks[j].keyword == "SILENT":
            j += 1
        target = toks[j].text[1:-1] if j < len(toks) and toks[j].kind == "iri" else None
        found.append((tok.keyword, target))
    return found


def check_remote_access(text: str, allowed_hosts: list[str]) -> None:
    """Raise :class:`RemoteAccessRefused` unless every SERVICE/LOAD target's host is allowed."""
    allowed = {h.lower() for h in allowed_hosts}
    for keyword, target in remote_targets(text):
        host = (urlsplit(target).hostname or "").lower() if target else ""
        if not host or host not in allowed:
            shown = f"<{target}>" if target else "a non-literal target"
            raise RemoteAccessRefused(
                f"{keyword} {shown} refused: this endpoint does not reach other hosts"
                " (an operator can allow hosts with OPENNESS_ALLOWED_HOSTS)"
            )


def has_query_dataset_clause(query: str) -> bool:
    """True if the query has ``FROM`` / ``FROM NAMED`` clauses (only allowed at the top level)."""
    return any(t.keyword == "FROM" and t.depth == 0 for t in tokens(query))


def has_update_dataset_clause(update: str) -> bool:
    """True if the update names its own dataset (``USING``, ``USING NAMED`` or ``WITH``)."""
    return any(t.keyword in ("USING", "WITH") and t.depth == 0 for t in tokens(update))


def add_using_clauses(update: str, using: list[str], using_named: list[str]) -> str:
    """Insert ``USING <g>`` / ``USING NAMED <g>`` before the top-level ``WHERE`` of every
    DELETE/INSERT operation, which is what the protocol's ``using-graph-uri`` and
    ``using-named-graph-uri`` parameters mean. ``DELETE WHERE`` cannot take USING and is left alone."""
    clause = "".join(f" USING <{g}>" for g in using) + "".join(f" USING NAMED <{g}>" for g in using_named)
    if not clause:
        return update
    toks = tokens(update)
    cuts = []
    for i, tok in enumerate(toks):
        if tok.keyword == "WHERE" and tok.depth == 0 and not (i and toks[i - 1].keyword == "DELETE"):
            cuts.append(tok.start)
    for pos in reversed(cuts):
        update = update[:pos] + clause + " " + update[pos:]
    return update
