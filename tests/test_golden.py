"""Every shipped scenario gives the outputs recorded in ``tests/golden/hashes.json``.

A restructuring must leave results byte-identical; a change meant to change results rewrites the
reference (``python -m tests.golden.reference``) in the same commit and says why.
"""

from __future__ import annotations

import json

import pytest

from tests.golden.reference import HASHES, cases, hashes_of

REFERENCE = json.loads(HASHES.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_outputs_match_the_reference(name):
    path, overrides = cases()[name]
    assert hashes_of(path, overrides) == REFERENCE[name]


def test_every_shipped_scenario_has_a_reference():
    assert set(cases()) == set(REFERENCE)
