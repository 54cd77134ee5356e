"""Field paths, field errors and the validators every API strategy uses.

Guarantees:

* Error text mirrors Kubernetes (`k8s.io/apimachinery/pkg/util/validation`
  and `.../field`), so users see the messages they know, e.g.
  ``spec.replicas: Invalid value: -1: must be greater than or equal to 0``.
* `is_*` functions return a list of messages (empty = valid) and never raise;
  `validate_*` functions return `FieldError`s carrying the path they were given.
* Paths print Kubernetes-style: ``spec.containers[0].env[1].name`` and
  ``metadata.labels[app]``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pinnace.api.meta.v1 import meta_pb2

from .timeutil import parse_rfc3339

__all__ = [
    "DNS1123_LABEL_MAX_LENGTH",
    "DNS1123_SUBDOMAIN_MAX_LENGTH",
    "LABEL_VALUE_MAX_LENGTH",
    "QUALIFIED_NAME_MAX_LENGTH",
    "TOTAL_ANNOTATION_SIZE_LIMIT",
    "ErrorList",
    "ErrorType",
    "FieldError",
    "FieldPath",
    "duplicate",
    "forbidden",
    "invalid",
    "is_c_identifier",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_env_var_name",
    "is_qualified_name",
    "is_valid_label_value",
    "is_valid_percent",
    "is_valid_port_num",
    "not_supported",
    "required",
    "too_long",
    "too_many",
    "validate_annotations",
    "validate_each",
    "validate_generate_name",
    "validate_label_selector",
    "validate_labels",
    "validate_nonnegative",
    "validate_object_name",
    "validate_positive",
    "validate_rfc3339",
]

DNS1123_LABEL_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
QUALIFIED_NAME_MAX_LENGTH = 63
LABEL_VALUE_MAX_LENGTH = 63
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

T = TypeVar("T")


# --------------------------------------------------------------------------- paths


class FieldPath:
    """An immutable path to a field; `str()` gives Kubernetes' form.

    Paths are built on every validation call but printed only for errors, so
    a path is a cheap link to its parent and its string is made on demand.
    """

    __slots__ = ("_parent", "_part")

    def __init__(self, parent: FieldPath | None = None, part: str = "") -> None:
        self._parent = parent
        self._part = part

    @classmethod
    def root(cls, *names: str) -> FieldPath:
        """A path made of field names, e.g. ``FieldPath.root("spec", "template")``."""
        path = cls()
        for name in names:
            path = path.child(name)
        return path

    def child(self, name: str, *more: str) -> FieldPath:
        """The path of a sub-field (``spec`` → ``spec.replicas``)."""
        path = FieldPath(self, f".{name}" if self._part else name)
        for m in more:
            path = FieldPath(path, f".{m}")
        return path

    def index(self, i: int) -> FieldPath:
        """The path of a list item (``containers`` → ``containers[0]``)."""
        return FieldPath(self, f"[{i}]")

    def key(self, k: str) -> FieldPath:
        """The path of a map entry (``labels`` → ``labels[app]``)."""
        return FieldPath(self, f"[{k}]")

    def __str__(self) -> str:
        parts = []
        node: FieldPath | None = self
        while node is not None:
            parts.append(node._part)
            node = node._parent
        return "".join(reversed(parts))

    def __repr__(self) -> str:
        return f"FieldPath({str(self)!r})"

    def __bool__(self) -> bool:
        return bool(self._part)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldPath) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


# -------------------------------------------------------------------------- errors


class ErrorType(enum.Enum):
    """Kubernetes' field.ErrorType; the value is how it prints."""

    NOT_FOUND = "Not found"
    REQUIRED = "Required value"
    DUPLICATE = "Duplicate value"
    INVALID = "Invalid value"
    NOT_SUPPORTED = "Unsupported value"
    FORBIDDEN = "Forbidden"
    TOO_LONG = "Too long"
    TOO_MANY = "Too many"
    INTERNAL = "Internal error"


# Types whose message never shows the offending value.
_VALUELESS = frozenset(
    {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL}
)
_OMIT = object()


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field, printed as ``<field>: <type>[: <value>][: <detail>]``."""

    type: ErrorType
    field: str
    value: Any = _OMIT
    detail: str = ""

    def body(self) -> str:
        """The message without the field path."""
        if self.type in _VALUELESS or self.value is _OMIT:
            text = self.type.value
        else:
            text = f"{self.type.value}: {_format_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()


def _format_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _go_quote(s: str) -> str:
    escaped = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


class ErrorList(list[FieldError]):
    """The errors of one validation; `ok` when empty."""

    @property
    def ok(self) -> bool:
        return not self

    def message(self) -> str:
        """One line, as Kubernetes' ToAggregate prints it: ``a`` or ``[a, b]``."""
        texts = [str(e) for e in self]
        return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"


def _path(field: FieldPath | str) -> str:
    return str(field)


def required(field: FieldPath | str, detail: str = "") -> FieldError:
    return FieldError(ErrorType.REQUIRED, _path(field), detail=detail)


def invalid(field: FieldPath | str, value: Any, detail: str = "") -> FieldError:
    return FieldError(ErrorType.INVALID, _path(field), value, detail)


def not_supported(field: FieldPath | str, value: Any, supported: Iterable[str]) -> FieldError:
    quoted = ", ".join(_go_quote(v) for v in supported)
    detail = f"supported values: {quoted}" if quoted else ""
    return FieldError(ErrorType.NOT_SUPPORTED, _path(field), value, detail)


def duplicate(field: FieldPath | str, value: Any) -> FieldError:
    return FieldError(ErrorType.DUPLICATE, _path(field), value)


def forbidden(field: FieldPath | str, detail: str) -> FieldError:
    return FieldError(ErrorType.FORBIDDEN, _path(field), detail=detail)


def too_long(field: FieldPath | str, value: Any, max_length: int) -> FieldError:
    detail = f"may not be more than {max_length} bytes" if max_length >= 0 else "value is too long"
    return FieldError(ErrorType.TOO_LONG, _path(field), value, detail)


def too_many(field: FieldPath | str, actual: int | None, maximum: int) -> FieldError:
    value: Any = actual if actual is not None else _OMIT
    return FieldError(ErrorType.TOO_MANY, _path(field), value, f"must have at most {maximum} items")


# ---------------------------------------------------------------- string checks

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = f"{_DNS1123_LABEL_FMT}(\\.{_DNS1123_LABEL_FMT})*"
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = f"({_QUALIFIED_NAME_FMT})?"
_C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
_ENV_VAR_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_PERCENT_FMT = "[0-9]+%"

_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_QUALIFIED_NAME_RE = re.compile(_QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_C_IDENTIFIER_RE = re.compile(_C_IDENTIFIER_FMT)
_ENV_VAR_NAME_RE = re.compile(_ENV_VAR_NAME_FMT)
_PERCENT_RE = re.compile(_PERCENT_FMT)

_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)
_C_IDENTIFIER_MSG = (
    "a valid C identifier must start with alphabetic character or '_', "
    "followed by a string of alphanumeric characters or '_'"
)
_ENV_VAR_NAME_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, "
    "'_', '-', or '.', and must not start with a digit"
)
_PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Kubernetes' RegexError wording (including its "',  or '" joins)."""
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def is_dns1123_label(value: str) -> list[str]:
    """RFC 1123 label: at most 63 lower-case alphanumerics or '-', alphanumeric at both ends."""
    return _label_errors(
        value, _DNS1123_LABEL_RE, _DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"
    )


def _label_errors(
    value: str, pattern: re.Pattern[str], message: str, fmt: str, *examples: str
) -> list[str]:
    """A DNS label's errors: too long, and not matching ``pattern``."""
    errs: list[str] = []
    if len(value) > DNS1123_LABEL_MAX_LENGTH:
        errs.append(_max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not pattern.fullmatch(value):
        errs.append(_regex_error(message, fmt, *examples))
    return errs


_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_RE = re.compile(_DNS1035_LABEL_FMT)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)


def is_dns1035_label(value: str) -> list[str]:
    """RFC 1035 label (Service names): like a 1123 label, but starting with a letter."""
    return _label_errors(
        value, _DNS1035_LABEL_RE, _DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"
    )


def is_dns1123_subdomain(value: str) -> list[str]:
    """RFC 1123 subdomain: at most 253 characters, dot-separated labels."""
    errs: list[str] = []
    if len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(_max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    """A label/annotation key: ``[prefix/]name``, prefix a DNS subdomain, name <= 63."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
        errs: list[str] = []
    elif len(parts) == 2:
        prefix, name = parts
        errs = (
            ["prefix part must be non-empty"]
            if not prefix
            else [f"prefix part {m}" for m in is_dns1123_subdomain(prefix)]
        )
    else:
        example = _regex_error(
            _QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"
        )
        return [
            f"a qualified name {example} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX_LENGTH:
        errs.append(f"name part {_max_len_error(QUALIFIED_NAME_MAX_LENGTH)}")
    if name and not _QUALIFIED_NAME_RE.fullmatch(name):
        errs.append(
            "name part "
            + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_valid_label_value(value: str) -> list[str]:
    """A label value: empty, or at most 63 characters shaped like a qualified name."""
    errs: list[str] = []
    if len(value) > LABEL_VALUE_MAX_LENGTH:
        errs.append(_max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(
            _regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errs


def is_c_identifier(value: str) -> list[str]:
    """A C identifier: ``[A-Za-z_][A-Za-z0-9_]*``."""
    if _C_IDENTIFIER_RE.fullmatch(value):
        return []
    return [_regex_error(_C_IDENTIFIER_MSG, _C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")]


def is_env_var_name(value: str) -> list[str]:
    """An environment variable name: ``[-._a-zA-Z][-._a-zA-Z0-9]*``, not '.' or '..'."""
    errs: list[str] = []
    if not _ENV_VAR_NAME_RE.fullmatch(value):
        errs.append(
            _regex_error(
                _ENV_VAR_NAME_MSG, _ENV_VAR_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"
            )
        )
    errs.extend(_dot_errors(value))
    return errs


def is_valid_port_num(port: int) -> list[str]:
    """A TCP/UDP port number: 1..65535."""
    if isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535:
        return []
    return ["must be between 1 and 65535, inclusive"]


def is_valid_percent(value: str) -> list[str]:
    """A percent string such as "25%" (non-negative integer, then '%')."""
    if _PERCENT_RE.fullmatch(value):
        return []
    return [_regex_error(_PERCENT_MSG, _PERCENT_FMT, "1%", "93%")]


def _dot_errors(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


# ------------------------------------------------------------ field validators


def validate_nonnegative(value: int, path: FieldPath | str) -> list[FieldError]:
    """``value >= 0``."""
    return [] if value >= 0 else [invalid(path, value, "must be greater than or equal to 0")]


def validate_positive(value: int, path: FieldPath | str) -> list[FieldError]:
    """``value > 0``."""
    return [] if value > 0 else [invalid(path, value, "must be greater than 0")]


def validate_labels(labels: Mapping[str, str], path: FieldPath) -> list[FieldError]:
    """Keys must be qualified names (reported at `path`), values valid label values
    (reported at ``path[key]``)."""
    errs: list[FieldError] = []
    for key, value in labels.items():
        errs.extend(invalid(path, key, msg) for msg in is_qualified_name(key))
        errs.extend(invalid(path.key(key), value, msg) for msg in is_valid_label_value(value))
    return errs


def validate_annotations(annotations: Mapping[str, str], path: FieldPath) -> list[FieldError]:
    """Keys must be qualified names (case-insensitively); keys plus values <= 256 KiB."""
    errs: list[FieldError] = []
    total = 0
    for key, value in annotations.items():
        errs.extend(invalid(path, key, msg) for msg in is_qualified_name(key.lower()))
        total += len(key.encode()) + len(value.encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, _OMIT, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


# Kinds whose names must be DNS labels rather than DNS subdomains.
_LABEL_NAMED_KINDS = frozenset({"Namespace"})


def _name_messages(name: str, kind: str, *, prefix: bool) -> list[str]:
    if prefix and len(name) > 1 and name.endswith("-"):
        # A generateName may end in '-': Kubernetes' maskTrailingDash swaps the
        # last two characters for "a" ("web-" is checked as "wea").
        name = name[:-2] + "a"
    check = is_dns1123_label if kind in _LABEL_NAMED_KINDS else is_dns1123_subdomain
    return check(name)


def _path_segment_messages(name: str) -> list[str]:
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def validate_object_name(name: str, path: FieldPath | str, kind: str) -> list[FieldError]:
    """`metadata.name` of an object of `kind`: required, a DNS subdomain (a DNS label
    for Namespace), and usable as a path segment."""
    if not name:
        return [required(path, "name or generateName is required")]
    msgs = _path_segment_messages(name) + _name_messages(name, kind, prefix=False)
    return [invalid(path, name, m) for m in msgs]


def validate_generate_name(
    generate_name: str, path: FieldPath | str, kind: str
) -> list[FieldError]:
    """`metadata.generateName`: like a name, but may end in '-'; empty is fine."""
    if not generate_name:
        return []
    msgs = _path_segment_messages(generate_name) + _name_messages(generate_name, kind, prefix=True)
    return [invalid(path, generate_name, m) for m in msgs]


_SET_OPERATORS = ("In", "NotIn")
_EXISTS_OPERATORS = ("Exists", "DoesNotExist")


def validate_label_selector(
    selector: meta_pb2.LabelSelector | None, path: FieldPath
) -> list[FieldError]:
    """matchLabels as labels; each matchExpressions entry: known operator, values
    required for In/NotIn and forbidden for Exists/DoesNotExist, valid key and values."""
    if selector is None:
        return []
    errs = validate_labels(selector.match_labels, path.child("matchLabels"))
    for i, req in enumerate(selector.match_expressions):
        errs.extend(_validate_requirement(req, path.child("matchExpressions").index(i)))
    return errs


def _validate_requirement(
    req: meta_pb2.LabelSelectorRequirement, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    values_path = path.child("values")
    if req.operator in _SET_OPERATORS:
        if not req.values:
            errs.append(
                required(values_path, "must be specified when `operator` is 'In' or 'NotIn'")
            )
    elif req.operator in _EXISTS_OPERATORS:
        if req.values:
            errs.append(
                forbidden(
                    values_path,
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
    else:
        errs.append(
            not_supported(path.child("operator"), req.operator, _SET_OPERATORS + _EXISTS_OPERATORS)
        )
    errs.extend(invalid(path.child("key"), req.key, m) for m in is_qualified_name(req.key))
    for j, value in enumerate(req.values):
        errs.extend(invalid(values_path.index(j), value, m) for m in is_valid_label_value(value))
    return errs


def validate_rfc3339(value: str, path: FieldPath | str) -> list[FieldError]:
    """An RFC 3339 time such as "2024-05-01T12:00:00Z"."""
    try:
        parse_rfc3339(value)
    except ValueError:
        return [invalid(path, value, "must be an RFC 3339 time (e.g. '2024-05-01T12:00:00Z')")]
    return []


def validate_each(
    items: Sequence[T], path: FieldPath, check: Callable[[T, FieldPath], list[FieldError]]
) -> list[FieldError]:
    """Run ``check(item, path.index(i))`` over a list and concatenate the errors."""
    errs: list[FieldError] = []
    for i, item in enumerate(items):
        errs.extend(check(item, path.index(i)))
    return errs
