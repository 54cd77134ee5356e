"""Kubernetes label selectors: parsing, matching and canonical printing.

Guarantees (as k8s.io/apimachinery/pkg/labels):

* String syntax: comma-separated requirements, all of which must hold:
  ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a)``, ``k``
  (exists), ``!k`` (does not exist), ``k>1``, ``k<1`` (integer compare; a
  label that is absent or not an integer never matches). Whitespace between
  tokens is ignored. An empty string selects everything.
* Keys are validated as qualified names and values as label values; bad
  syntax or a bad key/value raises `SelectorError` naming the position.
* ``k!=v`` and ``k notin (...)`` match objects without the label ``k``.
* `str(selector)` is canonical: requirements sorted by key, set values sorted
  (``a in (x,y),b!=c``), so equal selectors print the same.
* A LabelSelector message with no matchLabels and no matchExpressions selects
  everything; a missing (None) LabelSelector selects nothing (`nothing()`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pinnace.api.meta.v1 import meta_pb2

from .validation import is_qualified_name, is_valid_label_value

__all__ = [
    "Operator",
    "Requirement",
    "Selector",
    "SelectorError",
    "everything",
    "format_labels",
    "nothing",
    "parse_selector",
    "requirement",
    "selector_from_label_selector",
    "selector_from_map",
]


class SelectorError(ValueError):
    """A selector that cannot be parsed or holds an invalid key, value or operator."""


class Operator(enum.StrEnum):
    """Requirement operators, valued as Kubernetes' selection.Operator."""

    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


_EXACT = frozenset({Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS})
_SET = frozenset({Operator.IN, Operator.NOT_IN})
_EXISTENCE = frozenset({Operator.EXISTS, Operator.DOES_NOT_EXIST})
_NUMERIC = frozenset({Operator.GREATER_THAN, Operator.LESS_THAN})
_POSITIVE = frozenset({Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.IN})
_PRINTED = {
    Operator.EQUALS: "=",
    Operator.DOUBLE_EQUALS: "==",
    Operator.NOT_EQUALS: "!=",
    Operator.IN: " in ",
    Operator.NOT_IN: " notin ",
    Operator.GREATER_THAN: ">",
    Operator.LESS_THAN: "<",
}


@dataclass(frozen=True, slots=True, order=True)
class Requirement:
    """One condition on one label key; build with `requirement()` to validate."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a set of labels satisfies this requirement."""
        op = self.operator
        present = self.key in labels
        if op in _POSITIVE:
            return present and labels[self.key] in self.values
        if op in (Operator.NOT_EQUALS, Operator.NOT_IN):
            return not present or labels[self.key] not in self.values
        if op is Operator.EXISTS:
            return present
        if op is Operator.DOES_NOT_EXIST:
            return not present
        return present and _compare(labels[self.key], op, int(self.values[0]))

    def __str__(self) -> str:
        if self.operator is Operator.EXISTS:
            return self.key
        if self.operator is Operator.DOES_NOT_EXIST:
            return f"!{self.key}"
        printed = _PRINTED[self.operator]
        if self.operator in _SET:
            return f"{self.key}{printed}({','.join(self.values)})"
        return f"{self.key}{printed}{self.values[0]}"


def _compare(label_value: str, op: Operator, bound: int) -> bool:
    try:
        value = int(label_value, 10)
    except ValueError:
        return False
    return value > bound if op is Operator.GREATER_THAN else value < bound


def requirement(key: str, operator: Operator | str, values: Iterable[str] = ()) -> Requirement:
    """A validated Requirement (Kubernetes' NewRequirement); raises SelectorError."""
    try:
        op = Operator(operator)
    except ValueError:
        allowed = ", ".join(repr(o.value) for o in Operator)
        raise SelectorError(f"{operator!r} is not a valid operator (allowed: {allowed})") from None
    vals = tuple(sorted(set(values)))
    problems = [f"key {key!r}: {m}" for m in is_qualified_name(key)]
    problems += _value_count_problems(op, vals)
    problems += [f"value {v!r}: {m}" for v in vals for m in is_valid_label_value(v)]
    if problems:
        raise SelectorError("; ".join(problems))
    return Requirement(key, op, vals)


def _value_count_problems(op: Operator, vals: tuple[str, ...]) -> list[str]:
    if op in _SET and not vals:
        return ["for 'in', 'notin' operators, values set can't be empty"]
    if op in _EXACT and len(vals) != 1:
        return ["exact-match compatibility requires one single value"]
    if op in _EXISTENCE and vals:
        return ["values set must be empty for exists and does not exist"]
    if op in _NUMERIC:
        if len(vals) != 1:
            return ["for 'gt', 'lt' operators, exactly one value is required"]
        try:
            int(vals[0], 10)
        except ValueError:
            return [f"for 'gt', 'lt' operators, the value must be an integer, not {vals[0]!r}"]
    return []


@dataclass(frozen=True, slots=True)
class Selector:
    """All of `requirements` must hold. Build with the functions of this module."""

    requirements: tuple[Requirement, ...] = ()
    _matches_nothing: bool = field(default=False, repr=False)

    @property
    def empty(self) -> bool:
        """True for the select-everything selector (and only for it)."""
        return not self.requirements and not self._matches_nothing

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether an object with `labels` is selected."""
        if self._matches_nothing:
            return False
        for r in self.requirements:  # a loop, not all(): called per pod per sync
            if not r.matches(labels):
                return False
        return True

    def with_requirements(self, *reqs: Requirement) -> Selector:
        """A new selector that also requires `reqs`."""
        if self._matches_nothing:
            return self
        return _selector([*self.requirements, *reqs])

    def requires_exact_match(self, key: str) -> str | None:
        """The value `key` must equal (``k=v``, ``k==v``, ``k in (v)``), else None."""
        for req in self.requirements:
            if req.key == key and req.operator in _POSITIVE and len(req.values) == 1:
                return req.values[0]
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _selector(reqs: Iterable[Requirement]) -> Selector:
    return Selector(tuple(sorted(reqs, key=lambda r: (r.key, str(r)))))


def everything() -> Selector:
    """The selector that matches every object (an empty LabelSelector, or "")."""
    return Selector()


def nothing() -> Selector:
    """The selector that matches no object (a missing LabelSelector). Prints as ""."""
    return Selector((), _matches_nothing=True)


def selector_from_map(labels: Mapping[str, str]) -> Selector:
    """``k1=v1,k2=v2`` (a ReplicationController-style selector); empty → everything."""
    return _selector(requirement(k, Operator.EQUALS, (v,)) for k, v in labels.items())


_LABEL_SELECTOR_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def selector_from_label_selector(msg: meta_pb2.LabelSelector | None) -> Selector:
    """The Selector of an API LabelSelector; None selects nothing, empty everything."""
    if msg is None:
        return nothing()
    reqs = [requirement(k, Operator.EQUALS, (v,)) for k, v in msg.match_labels.items()]
    for expr in msg.match_expressions:
        op = _LABEL_SELECTOR_OPERATORS.get(expr.operator)
        if op is None:
            allowed = ", ".join(_LABEL_SELECTOR_OPERATORS)
            raise SelectorError(
                f"{expr.operator!r} is not a valid label selector operator (allowed: {allowed})"
            )
        reqs.append(requirement(expr.key, op, expr.values))
    return _selector(reqs)


def format_labels(labels: Mapping[str, str]) -> str:
    """``k1=v1,k2=v2`` sorted by key, or ``<none>`` for no labels (as kubectl prints)."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


# --------------------------------------------------------------------- parsing

_SPECIAL = "!=<>(),"
_IDENT, _EOS = "identifier", "end of string"
_KEYWORDS = {"in": Operator.IN, "notin": Operator.NOT_IN}
_SYMBOLS = {
    "==": Operator.DOUBLE_EQUALS,
    "!=": Operator.NOT_EQUALS,
    "=": Operator.EQUALS,
    ">": Operator.GREATER_THAN,
    "<": Operator.LESS_THAN,
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # _IDENT, _EOS, a keyword or a symbol
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith(("==", "!="), i):
            tokens.append(_Token(text[i : i + 2], text[i : i + 2], i))
            i += 2
        elif ch in _SPECIAL:
            tokens.append(_Token(ch, ch, i))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            word = text[start:i]
            tokens.append(_Token(word if word in _KEYWORDS else _IDENT, word, start))
    tokens.append(_Token(_EOS, "", n))
    return tokens


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.at = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def fail(self, token: _Token, expected: str) -> SelectorError:
        found = "end of string" if token.kind == _EOS else repr(token.text)
        return SelectorError(
            f"invalid selector {self.text!r}: at position {token.pos}: found {found}, expected {expected}"
        )

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        if self.peek().kind == _EOS:
            return reqs
        while True:
            reqs.append(self.requirement())
            token = self.take()
            if token.kind == _EOS:
                return reqs
            if token.kind != ",":
                raise self.fail(token, "',' or end of string")

    def requirement(self) -> Requirement:
        token = self.take()
        if token.kind == "!":
            key = self.key()
            return self.build(key, Operator.DOES_NOT_EXIST, (), token)
        if token.kind != _IDENT:
            raise self.fail(token, "a label key or '!'")
        key = token.text
        op_token = self.peek()
        if op_token.kind in (",", _EOS):
            return self.build(key, Operator.EXISTS, (), token)
        self.take()
        if op_token.kind in _KEYWORDS:
            return self.build(key, _KEYWORDS[op_token.kind], self.value_set(), token)
        if op_token.kind in _SYMBOLS:
            return self.build(key, _SYMBOLS[op_token.kind], (self.exact_value(),), token)
        raise self.fail(
            op_token, "one of '=', '==', '!=', 'in', 'notin', '>', '<', ',' or end of string"
        )

    def key(self) -> str:
        token = self.take()
        if token.kind != _IDENT:
            raise self.fail(token, "a label key")
        return token.text

    def exact_value(self) -> str:
        token = self.peek()
        if token.kind in (",", _EOS):
            return ""
        if token.kind in (_IDENT, *_KEYWORDS):
            self.take()
            return token.text
        raise self.fail(token, "a label value")

    def value_set(self) -> tuple[str, ...]:
        token = self.take()
        if token.kind != "(":
            raise self.fail(token, "'('")
        values: list[str] = []
        if self.peek().kind == ")":
            self.take()
            return ()
        while True:
            token = self.peek()
            if token.kind in (_IDENT, *_KEYWORDS):
                self.take()
                values.append(token.text)
            else:
                values.append("")  # "(a,,b)" and "(a,)" hold an empty value, as in Kubernetes
            token = self.take()
            if token.kind == ")":
                return tuple(values)
            if token.kind != ",":
                raise self.fail(token, "',' or ')'")

    def build(self, key: str, op: Operator, values: tuple[str, ...], at: _Token) -> Requirement:
        try:
            return requirement(key, op, values)
        except SelectorError as exc:
            raise SelectorError(
                f"invalid selector {self.text!r}: at position {at.pos}: {exc}"
            ) from None


def parse_selector(text: str) -> Selector:
    """Parse Kubernetes' selector syntax (see the module docstring)."""
    return _selector(_Parser(text).parse())
