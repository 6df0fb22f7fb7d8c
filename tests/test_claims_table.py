"""The paper's claims as the course states them (maxent_lib.claims.PAPER_CLAIMS) and the
filters' values, field by field: a change to a lesson, a metric, a predicted sign, a margin, a
status or an item field is a change to what the course tests, and must be made here too."""

from __future__ import annotations

import numpy as np
import pytest

from maxent_lib import claims

#: key: (lesson, metric, direction, margin, status, quantifier, per)
TABLE = {
    "C0": ("04", "change of total gap per layer (nats)", -1, 0.02, "empirical", "universal",
           None),
    "C1": ("02", "max |R + alpha W|", 0, 1e-6, "theorem", "universal", None),
    "C2": ("03", "fc2_gap (nats)", 0, 5e-3, "theorem", "universal", None),
    "C3": ("03", "fc2_gap (nats)", 1, 0.0, "theorem", "universal", None),
    "C4": ("03", "fc1_gap (nats)", 1, 0.0, "theorem", "universal", None),
    "C5": ("05", "test_acc", 1, 0.01, "empirical", "universal", "kind"),
    "C6": ("05", "test_acc", 1, 0.01, "empirical", "universal", "kind"),
    "C7": ("06", "test_acc", 1, 0.01, "empirical", "universal", "arm"),
    "C7c": ("06", "test_loss_calibrated", -1, 0.02, "empirical", "universal", "arm"),
    "C8": ("06", "test_entropy", 1, 0.02, "empirical", "universal", "arm"),
    "C8b": ("06", "test_entropy", 1, 0.02, "by construction", "universal", "arm"),
    "C9": ("06", "gen_gap", -1, 0.01, "empirical", "universal", "arm"),
    "C10": ("06", "test_acc", 1, 0.01, "empirical", "universal", "arm"),
}


def test_paper_claims_field_by_field():
    assert [c.key for c in claims.PAPER_CLAIMS] == list(TABLE)
    for c in claims.PAPER_CLAIMS:
        got = (c.lesson, c.metric, c.direction, c.margin, c.status, c.quantifier, c.per)
        assert got == TABLE[c.key], c.key
        assert claims.claim(c.key) is c
        assert isinstance(c.statement, str) and len(c.statement) > 40
    with_caveat = {c.key for c in claims.PAPER_CLAIMS if c.caveat}
    assert with_caveat == {"C0", "C5", "C6", "C10"}


def test_margins_and_filters():
    assert claims.MARGINS == {"test_acc": 0.01, "gen_gap": 0.01, "test_loss": 0.02,
                              "test_loss_calibrated": 0.02, "test_entropy": 0.02}
    assert claims.FIT_TOLERANCE == 0.05
    assert claims.FIT_TOLERANCES == (0.03, 0.05, 0.10, None)
    assert claims.TRAINED_ATS == (1.5, 2.0, 3.0, None)
    assert claims.ENTROPY_BY_CONSTRUCTION == ("label smoothing", "confidence penalty")


def test_claim_and_family_defaults():
    c = claims.Claim("x", "05", "s", "m", 1)
    assert (c.margin, c.status, c.quantifier, c.per, c.caveat) == (0.0, "empirical",
                                                                   "universal", None, "")
    f = claims.Family(c, "src")
    assert (f.settings, f.effects, f.excluded, f.note, f.item) == ([], [], [], "", "")
    assert f.judge() is None
    g = claims.Family(c, "src", settings=["a"], effects=[np.array([0.5, 0.6, 0.7])])
    assert g.judge().verdict == "supported" and g.judge().quantifier == "universal"
    assert claims.Claim("x", "05", "s", "m", -1, quantifier="existential").quantifier == \
        "existential"
    for status in ("empirical", "theorem", "by construction"):
        assert claims.Claim("x", "05", "s", "m", 1, status=status).status == status


@pytest.mark.parametrize("field, value", [("key", 1), ("lesson", 5), ("statement", None),
                                          ("metric", 0.1), ("caveat", 3), ("per", 2),
                                          ("status", 1)])
def test_claim_fields_must_be_strings(field, value):
    kwargs = {"key": "x", "lesson": "05", "statement": "s", "metric": "m", "direction": 1,
              field: value}
    with pytest.raises(TypeError):
        claims.Claim(**kwargs)


@pytest.mark.parametrize("field, value", [("source", 1), ("note", None), ("item", 2),
                                          ("settings", ("a",)), ("effects", None),
                                          ("excluded", {})])
def test_family_fields_are_checked(field, value):
    with pytest.raises(TypeError):
        claims.Family(claims.claim("C5"), **{"source": "s", field: value})
    with pytest.raises(TypeError):
        claims.Family("C5", "s")


def test_a_family_whose_claim_was_replaced_cannot_be_judged():
    f = claims.Family(claims.claim("C5"), "s", settings=["a"], effects=[np.array([1.0, 2.0])])
    f.claim = "C5"
    with pytest.raises(TypeError, match="must be a Claim"):
        f.judge()


def test_theorem_summary_lines():
    checks = [claims.Check("C1", "alpha 0", 1, 2e-9, 2e-9, 2e-9, True),
              claims.Check("C1", "alpha 0.1", 3, 0.5, 0.25, 0.75, True),
              claims.Check("C3", "task", 2, -0.0005, -0.001, 0.0, False)]
    assert claims.theorem_summary(checks) == {
        "C1": "alpha 0: 2.0e-09; alpha 0.1: 0.500 [0.25, 0.75]",
        "C3": "task: -5.0e-04 [-0.001, 0] (FAILS)"}
    assert claims.theorem_summary([claims.Check("C2", "s", 1, 0.001, 0, 0, True)]) == {
        "C2": "s: 0.001"}
