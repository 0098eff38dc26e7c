"""The loss-rule language: what rules compute, and that anything outside it is refused
with a message naming the rule, without ever reaching eval or exec."""

from __future__ import annotations

import builtins

import pytest
import torch

from spectramind.models.rules import RuleError, parse_rule, parse_rules

WAVELENGTH = torch.linspace(0.7, 3.9, 6)


def _rule(expr: str, target: str = "mu", name: str = "r") -> object:
    return parse_rule({"name": name, "target": target, "expr": expr, "weight": 1.0})


def test_a_comparison_penalises_its_mean_squared_violation():
    x = torch.tensor([[-2.0, 1.0, -1.0, 3.0, 0.0, 5.0]])
    assert _rule("x >= 0").penalty(x, WAVELENGTH).item() == pytest.approx((4 + 1) / 6)
    assert _rule("x <= 1").penalty(x, WAVELENGTH).item() == pytest.approx((4 + 16) / 6)
    assert _rule("x >= 0").penalty(x.abs(), WAVELENGTH).item() == 0.0
    # the right side may be an expression too: FGS1 above the AIRS mean
    gap = _rule("fgs1 >= mean(airs)").penalty(x, WAVELENGTH).item()
    assert gap == pytest.approx((x[0, 1:].mean() - x[0, 0]).item() ** 2)


def test_an_expression_without_comparison_penalises_its_mean_square():
    line = (2.0 * WAVELENGTH + 1.0)[None]
    wiggle = line + torch.tensor([[0.0, 0.1, 0.0, 0.1, 0.0, 0.1]])
    smooth = _rule("diff(diff(airs))")
    assert smooth.penalty(line, WAVELENGTH).item() == pytest.approx(0.0, abs=1e-10)
    second = torch.diff(wiggle[0, 1:], n=2)
    assert smooth.penalty(wiggle, WAVELENGTH).item() == pytest.approx((second**2).mean().item())
    # every operator and function at once, against the same arithmetic by hand (log(exp(y))
    # is y); the first bin is negative, where relu matters
    scaled = _rule("(x - 1) * wavelength ** 2 / 2 + -abs(log(exp(sqrt(relu(x)))))")
    shifted = line - 3.0
    by_hand = (shifted - 1) * WAVELENGTH**2 / 2 - torch.sqrt(torch.relu(shifted))
    assert scaled.penalty(shifted, WAVELENGTH).item() == pytest.approx((by_hand**2).mean().item())


def test_penalties_have_gradients():
    x = torch.tensor([[-1.0, 2.0, -3.0, 0.5, 1.0, 2.0]], requires_grad=True)
    _rule("x >= 0").penalty(x, WAVELENGTH).backward()
    assert x.grad[0, 0] < 0 and x.grad[0, 2] < 0 and x.grad[0, 1] == 0


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("__import__('os').system('true')", "functions"),
        ("x.__class__", "Attribute is not part"),
        ("(lambda: 0)()", "functions"),
        ("x[0]", "Subscript is not part"),
        ("'x' >= 0", "not a number"),
        ("True", "not a number"),
        ("0 <= x <= 1", "only one comparison"),
        ("x == 0", "only one comparison"),
        ("abs(x >= 0)", "only one comparison"),
        ("os", "unknown name 'os'"),
        ("exp(x, 2)", "exactly one argument"),
        ("x @ x", "MatMult is not allowed"),
        ("not x", "only unary minus"),
        ("[y for y in x]", "ListComp is not part"),
        ("x >=", "not valid syntax"),
    ],
)
def test_anything_outside_the_language_is_refused_naming_the_rule(expr, message, monkeypatch):
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("config text reached eval/exec")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    with pytest.raises(RuleError, match="loss rule 'evil'") as error:
        _rule(expr, name="evil")
    assert message in str(error.value)


def test_bad_entries_are_refused_naming_the_rule():
    with pytest.raises(RuleError, match="'a'.*target"):
        parse_rule({"name": "a", "target": "depth", "expr": "x"})
    with pytest.raises(RuleError, match="'b'.*weight"):
        parse_rule({"name": "b", "target": "mu", "expr": "x", "weight": -1})
    with pytest.raises(RuleError, match="'c'.*expr must be a string"):
        parse_rule({"name": "c", "target": "sigma"})
    with pytest.raises(RuleError, match="'d'.*unknown key"):
        parse_rule({"name": "d", "target": "mu", "expr": "x", "code": "1"})
    with pytest.raises(RuleError, match="more than once: \\['e'\\]"):
        parse_rules([{"name": "e", "target": "mu", "expr": "x"}] * 2)
