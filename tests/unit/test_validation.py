"""Tests for pinnace.machinery.validation: paths, error wording, validators."""

from __future__ import annotations

import pytest

from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery.validation import (
    ErrorList,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_c_identifier,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_qualified_name,
    is_valid_label_value,
    is_valid_percent,
    is_valid_port_num,
    not_supported,
    required,
    too_long,
    too_many,
    validate_annotations,
    validate_each,
    validate_generate_name,
    validate_label_selector,
    validate_labels,
    validate_nonnegative,
    validate_object_name,
    validate_positive,
    validate_rfc3339,
)

SPEC = FieldPath.root("spec")
LABELS = FieldPath.root("metadata", "labels")


@pytest.mark.parametrize(
    ("path", "text"),
    [
        pytest.param(FieldPath(), "", id="empty"),
        pytest.param(SPEC.child("replicas"), "spec.replicas", id="child"),
        pytest.param(SPEC.child("template", "spec"), "spec.template.spec", id="children"),
        pytest.param(
            SPEC.child("containers").index(0).child("image"), "spec.containers[0].image", id="index"
        ),
        pytest.param(
            SPEC.child("template", "metadata", "labels").key("app"),
            "spec.template.metadata.labels[app]",
            id="key",
        ),
        pytest.param(FieldPath().index(2), "[2]", id="root-index"),
    ],
)
def test_field_path(path, text):
    assert str(path) == text


def test_field_path_is_immutable():
    base = FieldPath.root("spec")
    base.child("a")
    assert str(base) == "spec"
    with pytest.raises(AttributeError):
        base._parts = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("error", "text"),
    [
        pytest.param(
            invalid(SPEC.child("replicas"), -1, "must be greater than or equal to 0"),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            id="invalid-int",
        ),
        pytest.param(
            invalid("metadata.name", "A", "bad"),
            'metadata.name: Invalid value: "A": bad',
            id="invalid-string-quoted",
        ),
        pytest.param(invalid("x", True, "no"), "x: Invalid value: true: no", id="invalid-bool"),
        pytest.param(invalid("x", None, "no"), "x: Invalid value: null: no", id="invalid-null"),
        pytest.param(
            not_supported("spec.template.spec.restartPolicy", "Never", ["Always"]),
            'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
            id="not-supported",
        ),
        pytest.param(
            not_supported("p", "x", ["A", "B"]),
            'p: Unsupported value: "x": supported values: "A", "B"',
            id="not-supported-many",
        ),
        pytest.param(
            required("metadata.name", "name or generateName is required"),
            "metadata.name: Required value: name or generateName is required",
            id="required",
        ),
        pytest.param(
            required("spec.selector"), "spec.selector: Required value", id="required-no-detail"
        ),
        pytest.param(
            duplicate("spec.containers[1].name", "web"),
            'spec.containers[1].name: Duplicate value: "web"',
            id="duplicate",
        ),
        pytest.param(
            forbidden("spec.x", "may not be set"),
            "spec.x: Forbidden: may not be set",
            id="forbidden",
        ),
        pytest.param(
            too_long("metadata.annotations", "", 262144),
            "metadata.annotations: Too long: may not be more than 262144 bytes",
            id="too-long",
        ),
        pytest.param(
            too_many("spec.containers", 5, 3),
            "spec.containers: Too many: 5: must have at most 3 items",
            id="too-many",
        ),
        pytest.param(
            invalid("", 'a"b', "q"), 'Invalid value: "a\\"b": q', id="no-path-escaped-quote"
        ),
    ],
)
def test_error_formatting(error, text):
    assert str(error) == text


def test_error_list():
    errs = ErrorList()
    assert errs.ok
    errs.extend(validate_nonnegative(-1, "a"))
    assert not errs.ok
    assert errs.message() == "a: Invalid value: -1: must be greater than or equal to 0"
    errs.append(required("b"))
    assert (
        errs.message()
        == "[a: Invalid value: -1: must be greater than or equal to 0, b: Required value]"
    )


SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        pytest.param("example.com", [], id="ok"),
        pytest.param("a", [], id="single"),
        pytest.param("1-2.b-3", [], id="digits"),
        pytest.param("Example.com", [SUBDOMAIN_MSG], id="upper"),
        pytest.param("a..b", [SUBDOMAIN_MSG], id="empty-label"),
        pytest.param("-a", [SUBDOMAIN_MSG], id="leading-dash"),
        pytest.param("", [SUBDOMAIN_MSG], id="empty"),
        pytest.param("a" * 254, ["must be no more than 253 characters"], id="too-long"),
    ],
)
def test_is_dns1123_subdomain(value, errors):
    assert is_dns1123_subdomain(value) == errors


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        pytest.param("my-name", [], id="ok"),
        pytest.param("a.b", [LABEL_MSG], id="dot"),
        pytest.param("a-", [LABEL_MSG], id="trailing-dash"),
        pytest.param("a" * 63, [], id="max"),
        pytest.param("a" * 64, ["must be no more than 63 characters"], id="too-long"),
    ],
)
def test_is_dns1123_label(value, errors):
    assert is_dns1123_label(value) == errors


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("app", None, id="plain"),
        pytest.param("My_Name.x-1", None, id="mixed"),
        pytest.param("example.com/role", None, id="prefixed"),
        pytest.param("/role", "prefix part must be non-empty", id="empty-prefix"),
        pytest.param(
            "Example.com/role", "prefix part a lowercase RFC 1123 subdomain", id="bad-prefix"
        ),
        pytest.param("example.com/", "name part must be non-empty", id="empty-name"),
        pytest.param("", "name part must be non-empty", id="empty"),
        pytest.param("a" * 64, "name part must be no more than 63 characters", id="long-name"),
        pytest.param("-a", "name part must consist of alphanumeric characters", id="bad-name"),
        pytest.param("a/b/c", "with an optional DNS subdomain prefix and '/'", id="two-slashes"),
    ],
)
def test_is_qualified_name(value, fragment):
    errors = is_qualified_name(value)
    if fragment is None:
        assert errors == []
    else:
        assert any(fragment in e for e in errors), errors


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        pytest.param("", True, id="empty"),
        pytest.param("web-1.x_y", True, id="ok"),
        pytest.param("-x", False, id="leading-dash"),
        pytest.param("a b", False, id="space"),
        pytest.param("a" * 64, False, id="too-long"),
    ],
)
def test_is_valid_label_value(value, ok):
    assert (is_valid_label_value(value) == []) is ok


@pytest.mark.parametrize(
    ("check", "value", "ok"),
    [
        pytest.param(is_c_identifier, "MY_VAR1", True, id="c-ok"),
        pytest.param(is_c_identifier, "1VAR", False, id="c-digit-first"),
        pytest.param(is_c_identifier, "my.var", False, id="c-dot"),
        pytest.param(is_env_var_name, "my.env-name", True, id="env-dots-dashes"),
        pytest.param(is_env_var_name, "_X", True, id="env-underscore"),
        pytest.param(is_env_var_name, "1X", False, id="env-digit-first"),
        pytest.param(is_env_var_name, "A B", False, id="env-space"),
        pytest.param(is_env_var_name, ".", False, id="env-dot"),
        pytest.param(is_env_var_name, "..x", False, id="env-dotdot-prefix"),
        pytest.param(is_valid_percent, "25%", True, id="percent"),
        pytest.param(is_valid_percent, "25", False, id="percent-missing-sign"),
        pytest.param(is_valid_percent, "-5%", False, id="percent-negative"),
        pytest.param(is_valid_port_num, 1, True, id="port-min"),
        pytest.param(is_valid_port_num, 65535, True, id="port-max"),
        pytest.param(is_valid_port_num, 0, False, id="port-zero"),
        pytest.param(is_valid_port_num, 65536, False, id="port-too-big"),
        pytest.param(is_valid_port_num, True, False, id="port-bool"),
    ],
)
def test_small_checks(check, value, ok):
    assert (check(value) == []) is ok


def test_check_messages():
    assert is_valid_port_num(0) == ["must be between 1 and 65535, inclusive"]
    assert is_env_var_name("1X") == [
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', "
        "and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', "
        "regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
    ]
    assert is_valid_percent("x") == [
        "a valid percent string must be a numeric string followed by an ending '%' "
        "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
    ]


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        pytest.param(validate_nonnegative, 0, [], id="nonnegative-zero"),
        pytest.param(
            validate_nonnegative,
            -1,
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
            id="nonnegative-negative",
        ),
        pytest.param(validate_positive, 1, [], id="positive-one"),
        pytest.param(
            validate_positive,
            0,
            ["spec.replicas: Invalid value: 0: must be greater than 0"],
            id="positive-zero",
        ),
    ],
)
def test_number_validators(check, value, expected):
    assert [str(e) for e in check(value, SPEC.child("replicas"))] == expected


def test_validate_labels():
    errors = validate_labels({"app": "web", "-bad": "ok", "tier": "no good"}, LABELS)
    assert [e.field for e in errors] == ["metadata.labels", "metadata.labels[tier]"]
    assert str(errors[0]).startswith(
        'metadata.labels: Invalid value: "-bad": name part must consist'
    )
    assert str(errors[1]).startswith(
        'metadata.labels[tier]: Invalid value: "no good": a valid label must'
    )


def test_validate_annotations():
    path = FieldPath.root("metadata", "annotations")
    assert validate_annotations({"Example.com/Note": "x" * 1000}, path) == []
    errors = validate_annotations({"a b": "x"}, path)
    assert [e.field for e in errors] == ["metadata.annotations"]
    big = {"a": "x" * (256 * 1024)}
    assert [str(e) for e in validate_annotations(big, path)] == [
        "metadata.annotations: Too long: may not be more than 262144 bytes"
    ]


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        pytest.param("web-1", "Pod", [], id="ok"),
        pytest.param("web.example", "Deployment", [], id="subdomain-ok"),
        pytest.param(
            "",
            "Pod",
            ["metadata.name: Required value: name or generateName is required"],
            id="empty",
        ),
        pytest.param(
            "web.example",
            "Namespace",
            [f'metadata.name: Invalid value: "web.example": {LABEL_MSG}'],
            id="namespace-is-label",
        ),
        pytest.param(
            "Web", "Pod", [f'metadata.name: Invalid value: "Web": {SUBDOMAIN_MSG}'], id="upper"
        ),
        pytest.param(
            "..",
            "Pod",
            [
                "metadata.name: Invalid value: \"..\": may not be '..'",
                f'metadata.name: Invalid value: "..": {SUBDOMAIN_MSG}',
            ],
            id="dotdot",
        ),
    ],
)
def test_validate_object_name(name, kind, expected):
    assert [
        str(e) for e in validate_object_name(name, FieldPath.root("metadata", "name"), kind)
    ] == expected


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        pytest.param("", True, id="empty"),
        pytest.param("web-", True, id="trailing-dash"),
        pytest.param("web-7d9f-", True, id="hash-prefix"),
        pytest.param("Web-", False, id="upper"),
        pytest.param("-", False, id="dash-only"),
    ],
)
def test_validate_generate_name(prefix, ok):
    assert (validate_generate_name(prefix, "metadata.generateName", "Pod") == []) is ok


def _req(key, op, *values):
    return meta_pb2.LabelSelectorRequirement(key=key, operator=op, values=list(values))


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(None, [], id="none"),
        pytest.param(meta_pb2.LabelSelector(), [], id="empty"),
        pytest.param(
            meta_pb2.LabelSelector(
                match_labels={"app": "web"},
                match_expressions=[
                    _req("a", "In", "x"),
                    _req("b", "Exists"),
                    _req("c", "DoesNotExist"),
                ],
            ),
            [],
            id="valid",
        ),
        pytest.param(
            meta_pb2.LabelSelector(match_expressions=[_req("a", "In")]),
            [
                "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
            ],
            id="in-without-values",
        ),
        pytest.param(
            meta_pb2.LabelSelector(match_expressions=[_req("a", "Exists", "x")]),
            [
                "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            ],
            id="exists-with-values",
        ),
        pytest.param(
            meta_pb2.LabelSelector(match_expressions=[_req("a", "in", "x")]),
            [
                'spec.selector.matchExpressions[0].operator: Unsupported value: "in": supported values: '
                '"In", "NotIn", "Exists", "DoesNotExist"'
            ],
            id="bad-operator",
        ),
        pytest.param(
            meta_pb2.LabelSelector(
                match_labels={"app": "-x"}, match_expressions=[_req("-k", "NotIn", "ok", "-v")]
            ),
            [
                "spec.selector.matchLabels[app]",
                "spec.selector.matchExpressions[0].key",
                "spec.selector.matchExpressions[0].values[1]",
            ],
            id="bad-keys-and-values",
        ),
    ],
)
def test_validate_label_selector(selector, expected):
    errors = validate_label_selector(selector, SPEC.child("selector"))
    if expected and ":" not in expected[0]:
        assert [e.field for e in errors] == expected
    else:
        assert [str(e) for e in errors] == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        pytest.param("2024-05-01T12:00:00Z", True, id="ok"),
        pytest.param("2024-05-01T12:00:00.5+02:00", True, id="offset"),
        pytest.param("2024-05-01", False, id="date"),
    ],
)
def test_validate_rfc3339(value, ok):
    errors = validate_rfc3339(value, "status.startTime")
    assert (errors == []) is ok
    if not ok:
        assert str(errors[0]) == (
            f"status.startTime: Invalid value: \"{value}\": must be an RFC 3339 time (e.g. '2024-05-01T12:00:00Z')"
        )


def test_validate_each():
    errors = validate_each([1, -1, -2], SPEC.child("ports"), validate_nonnegative)
    assert [e.field for e in errors] == ["spec.ports[1]", "spec.ports[2]"]
