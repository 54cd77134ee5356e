"""Property-based: thousands of malformed objects through what every write
goes through before storage (the codec, then the kind's validation) and
through the manifest loader. Each is accepted, or refused with errors that
each name a field; nothing else is ever raised."""

from __future__ import annotations

import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiserver.registry.kinds import STRATEGIES
from pinnace.machinery import codec, kinds
from pinnace.machinery.manifests import ManifestError, load_manifests
from tests.fuzzing import Mutated, mutated, odd_values

EXAMPLES = int(os.environ.get("PINNACE_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(mutated())
def test_decoding_and_validation_accept_or_name_the_field(m: Mutated) -> None:
    info = kinds.by_resource(m.resource)
    if not isinstance(m.doc, dict):
        return
    try:
        obj = codec.from_dict(type(info.new()), m.doc)
    except codec.CodecError as e:
        assert e.errors and all(err.path for err in e.errors), (m, str(e))
        return
    strategy = STRATEGIES[info.kind](info)
    for err in strategy.validate(obj):
        assert err.field, (m, str(err))


@FUZZ
@given(mutated())
def test_the_manifest_loader_accepts_or_says_where(m: Mutated) -> None:
    text = yaml.safe_dump(m.doc, allow_unicode=True)
    try:
        objects = load_manifests(text)
    except ManifestError as e:
        assert e.problems and all(p.path or p.message for p in e.problems), (m, str(e))
        return
    assert len(objects) == 1


@FUZZ
@given(st.text(max_size=200) | odd_values.map(lambda v: yaml.safe_dump(v, allow_unicode=True)))
def test_the_manifest_loader_refuses_garbage_with_its_own_error(text: str) -> None:
    """Text, or a name of a file that is not there (a one-line string names
    a file): the loader's own error either way. ("-" is stdin, by design.)"""
    if text.strip() == "-":
        return
    try:
        load_manifests(text)
    except ManifestError as e:
        assert e.problems, text
