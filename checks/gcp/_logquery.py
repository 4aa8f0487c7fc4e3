"""A small reader of the Cloud Logging query language, to decide whether a log-based metric's filter
matches a given audit log entry. The registry skips this module (leading underscore).

A filter is judged by what it matches, not by how it is written: ``matches(filter, entry)`` parses
the filter and evaluates it on a sample entry (a dict shaped like a LogEntry). Spacing, quoting,
parentheses, ``:`` versus ``=``, regular expressions and extra conditions all count for what they
do. Supported: comparisons (``= != : =~ !~ < <= > >=``, ``:*``), ``AND``, ``OR``, ``NOT``/``-``,
implicit AND, parentheses, bare search terms, value groups (``field = ("a" OR "b")``) and
``log_id("...")``. Precedence follows Logging: NOT, then OR, then AND. Anything else raises
``QueryError``: a filter this reader cannot follow is never taken as matching.
https://cloud.google.com/logging/docs/view/logging-query-language
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["QueryError", "matches"]

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>=~|!~|!=|<=|>=|=|:|<|>)|(?P<paren>[()])'
    r'|(?P<word>[^\s()"=:<>!~]+))'
)
_SEVERITY = ["DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"]

Node = Callable[[Mapping[str, Any]], bool]


class QueryError(ValueError):
    """The filter uses syntax this reader does not follow."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"cannot read the filter at {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _unquote(token: tuple[str, str]) -> str:
    kind, text = token
    if kind != "str":
        return text
    return re.sub(r'\\(["\\])', r"\1", text[1:-1])  # other escapes stay, e.g. \. in a regular expression


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _values(entry: Mapping[str, Any], path: str) -> list[Any]:
    """The values at a dotted path; repeated fields fan out (any element may match)."""
    current: list[Any] = [entry]
    for part in path.split("."):
        nxt: list[Any] = []
        for item in current:
            items = item if isinstance(item, list) else [item]
            for i in items:
                if isinstance(i, Mapping) and part in i:
                    nxt.append(i[part])
        current = nxt
    flat: list[Any] = []
    for v in current:
        flat.extend(v if isinstance(v, list) else [v])
    return flat


def _rank(value: Any) -> Any:
    text = str(value).upper()
    return _SEVERITY.index(text) if text in _SEVERITY else text


def _compare(op: str, actual: Any, expected: str) -> bool:
    a = str(actual)
    if op == "=":
        return a == expected
    if op == ":":
        return expected.lower() in a.lower()
    if op == "=~":
        return re.search(expected, a) is not None
    if op in ("<", "<=", ">", ">="):
        left, right = _rank(actual), _rank(expected)
        if type(left) is not type(right):
            return False
        return bool({"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op])
    raise QueryError(f"operator {op}")  # pragma: no cover - the parser only passes the ones above


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.i += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            return lambda entry: True  # an empty filter matches every entry
        node = self.and_expr()
        if self.peek()[0] != "end":
            raise QueryError(f"unexpected {self.peek()[1]!r}")
        return node

    def and_expr(self) -> Node:
        parts = [self.or_expr()]
        while self.peek()[0] != "end" and self.peek() != ("paren", ")"):
            if self.peek() == ("word", "AND"):
                self.take()
            parts.append(self.or_expr())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def or_expr(self) -> Node:
        parts = [self.unary()]
        while self.peek() == ("word", "OR"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def unary(self) -> Node:
        kind, text = self.peek()
        if (kind, text) == ("word", "NOT"):
            self.take()
            inner = self.unary()
            return lambda e: not inner(e)
        if kind == "word" and text.startswith("-") and len(text) > 1:
            self.tokens[self.i] = ("word", text[1:])
            inner = self.unary()
            return lambda e: not inner(e)
        if (kind, text) == ("word", "-"):
            self.take()
            inner = self.unary()
            return lambda e: not inner(e)
        return self.primary()

    def primary(self) -> Node:
        kind, text = self.take()
        if (kind, text) == ("paren", "("):
            node = self.and_expr()
            if self.take() != ("paren", ")"):
                raise QueryError("unbalanced parentheses")
            return node
        if kind == "word" and self.peek() == ("paren", "("):
            return self.function(text)
        if kind in ("word", "str") and self.peek()[0] == "op":
            return self.comparison(text if kind == "word" else _unquote((kind, text)))
        if kind in ("word", "str"):
            term = _unquote((kind, text)).lower()
            return lambda e: any(term in str(v).lower() for v in _leaves(e))
        raise QueryError(f"unexpected {text!r}")

    def function(self, name: str) -> Node:
        self.take()  # (
        arg = self.take()
        if self.take() != ("paren", ")") or arg[0] not in ("str", "word"):
            raise QueryError(f"cannot read {name}(...)")
        if name.lower() != "log_id":
            raise QueryError(f"function {name}() is not supported")
        log_id = _unquote(arg)
        ends = (f"/logs/{log_id}", "/logs/" + log_id.replace("/", "%2F"))
        return lambda e: any(str(v).endswith(ends) for v in _values(e, "logName"))

    def values(self) -> list[str]:
        """One value, or a parenthesised group of values joined by OR (any of them)."""
        if self.peek() != ("paren", "("):
            token = self.take()
            if token[0] not in ("str", "word"):
                raise QueryError(f"expected a value, got {token[1]!r}")
            return [_unquote(token)]
        self.take()
        out = self.values()
        while self.peek() == ("word", "OR"):
            self.take()
            out += self.values()
        if self.take() != ("paren", ")"):
            raise QueryError("unbalanced value group")
        return out

    def comparison(self, field: str) -> Node:
        op = self.take()[1]
        if op == ":" and self.peek() == ("word", "*"):
            self.take()
            return lambda e: bool(_values(e, field))
        expected = self.values()
        if op in ("!=", "!~"):
            positive = "=" if op == "!=" else "=~"
            return lambda e: not any(_compare(positive, v, x) for v in _values(e, field) for x in expected)
        return lambda e: any(_compare(op, v, x) for v in _values(e, field) for x in expected)


def matches(query: str, entry: Mapping[str, Any]) -> bool:
    """Whether the Logging filter ``query`` matches ``entry``; QueryError if it cannot be read."""
    try:
        return _Parser(query).parse()(entry)
    except re.error as exc:
        raise QueryError(f"regular expression: {exc}") from None
