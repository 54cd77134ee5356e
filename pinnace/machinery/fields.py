"""Kubernetes field selectors (``metadata.name=x,spec.nodeName!=,status.phase=Running``).

Guarantees (as k8s.io/apimachinery/pkg/fields):

* Syntax: comma-separated terms, all of which must hold: ``field=value``,
  ``field==value`` or ``field!=value``, split at the first operator. A
  value may be empty. ``\\,``, ``\\=`` and ``\\\\`` escape those characters
  in a value; unescaped they are an error. Empty terms are skipped, so ""
  selects everything.
* Matching reads a flat ``{field path: value}`` mapping; a missing field
  counts as "" (so ``spec.nodeName=`` selects unscheduled pods).
* Which fields a kind supports is not decided here: callers check
  `FieldSelector.fields()` against their own list.
* `str()` is canonical: terms sorted, values re-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["FieldSelector", "FieldSelectorError", "Term", "parse_field_selector"]

Op = Literal["=", "!="]


class FieldSelectorError(ValueError):
    """A field selector that cannot be parsed."""


@dataclass(frozen=True, slots=True, order=True)
class Term:
    """``field = value`` (op "=") or ``field != value`` (op "!=")."""

    field: str
    op: Op
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        equal = fields.get(self.field, "") == self.value
        return equal if self.op == "=" else not equal

    def __str__(self) -> str:
        return f"{self.field}{self.op}{_escape(self.value)}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """A conjunction of field terms; build with `parse_field_selector`."""

    terms: tuple[Term, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.terms

    @property
    def requirements(self) -> list[tuple[str, str, str]]:
        """The terms as ``(field, op, value)`` with op "=" or "!="."""
        return [(t.field, t.op, t.value) for t in self.terms]

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether an object whose selectable fields are `fields` is selected."""
        return all(t.matches(fields) for t in self.terms)

    def exact_value(self, field: str) -> str | None:
        """The value `field` must equal (e.g. for an index on spec.nodeName), else None."""
        for term in self.terms:
            if term.field == field and term.op == "=":
                return term.value
        return None

    def fields(self) -> set[str]:
        """Every field the selector mentions, for the caller to check."""
        return {t.field for t in self.terms}

    def __str__(self) -> str:
        return ",".join(str(t) for t in self.terms)


def parse_field_selector(text: str) -> FieldSelector:
    """Parse ``f1=v1,f2!=v2``; raises FieldSelectorError naming the bad term."""
    terms = [_parse_term(part, text) for part in _split_terms(text) if part]
    return FieldSelector(tuple(sorted(terms)))


_OPERATORS: tuple[tuple[str, Op], ...] = (("!=", "!="), ("==", "="), ("=", "="))


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not backslash-escaped."""
    parts: list[str] = []
    start = i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == ",":
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _parse_term(part: str, whole: str) -> Term:
    """Split at the first operator, as Kubernetes' splitTerm does."""
    i = 0
    while i < len(part):
        if part[i] == "\\":
            i += 2
            continue
        for symbol, op in _OPERATORS:
            if part.startswith(symbol, i):
                field = part[:i].strip()
                if not field:
                    raise FieldSelectorError(
                        f"invalid field selector {whole!r}: term {part!r} has no field name"
                    )
                value = _unescape(part[i + len(symbol) :], whole)
                return Term(field, op, value)
        i += 1
    raise FieldSelectorError(
        f"invalid field selector {whole!r}: term {part!r} is not of the form "
        "'field=value', 'field==value' or 'field!=value'"
    )


_ESCAPABLE = "\\,="


def _unescape(raw: str, whole: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            nxt = raw[i + 1 : i + 2]
            if not nxt or nxt not in _ESCAPABLE:
                raise FieldSelectorError(
                    f"invalid field selector {whole!r}: invalid escape sequence {raw[i : i + 2]!r} "
                    "(only \\\\, \\, and \\= are allowed)"
                )
            out.append(nxt)
            i += 2
        elif ch in ",=":
            raise FieldSelectorError(
                f"invalid field selector {whole!r}: value {raw!r} contains an unescaped {ch!r} "
                "(write \\, or \\=)"
            )
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _escape(value: str) -> str:
    return "".join("\\" + ch if ch in _ESCAPABLE else ch for ch in value)
