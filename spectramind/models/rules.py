"""User rules for the training loss, written in config in a small expression language.

A rule such as ``{name: nonneg_mu, target: mu, expr: "x >= 0", weight: 1.0}`` becomes a
penalty on the model's output. The text is parsed with Python's ``ast`` and only a whitelist
of node types, names and functions is accepted; it is never passed to ``eval`` or ``exec``.
The parsed tree is evaluated by a small interpreter on torch tensors:

- names: ``x`` (the target: ``mu`` or ``sigma``, (batch, bins)), ``wavelength`` (bins,)
  in um, ``fgs1`` (x's FGS1 bin) and ``airs`` (x's AIRS bins);
- numbers, ``+ - * / **``, unary minus;
- functions: ``abs exp log sqrt diff mean relu``;
- one comparison (``< <= > >=``) at the top: the penalty is the mean squared violation;
  without one, the expression's mean square is the penalty (e.g. ``diff(diff(airs))``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

TARGETS = ("mu", "sigma")
NAMES = ("x", "wavelength", "fgs1", "airs")
FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "abs": torch.abs,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "diff": lambda t: torch.diff(t, dim=-1),
    "mean": lambda t: t.mean(dim=-1, keepdim=True),
    "relu": torch.relu,
}
BINARY: dict[type, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    ast.Add: torch.add,
    ast.Sub: torch.sub,
    ast.Mult: torch.mul,
    ast.Div: torch.div,
    ast.Pow: torch.pow,
}
# Penalty of "left OP right": how far left lies on the wrong side of right.
VIOLATION: dict[type, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    ast.GtE: lambda left, right: torch.relu(right - left),
    ast.Gt: lambda left, right: torch.relu(right - left),
    ast.LtE: lambda left, right: torch.relu(left - right),
    ast.Lt: lambda left, right: torch.relu(left - right),
}


class RuleError(ValueError):
    """A loss rule in the config that cannot be used; the message names the rule."""


@dataclass(frozen=True)
class Rule:
    """One parsed rule: its name, target (mu or sigma), weight and checked syntax tree."""

    name: str
    target: str
    weight: float
    tree: ast.expr

    def penalty(self, x: torch.Tensor, wavelength: torch.Tensor) -> torch.Tensor:
        """The rule's penalty (a scalar) for the target tensor x (batch, bins)."""
        names = {"x": x, "wavelength": wavelength, "fgs1": x[..., :1], "airs": x[..., 1:]}
        if isinstance(self.tree, ast.Compare):
            left = _evaluate(self.tree.left, names)
            right = _evaluate(self.tree.comparators[0], names)
            violation = VIOLATION[type(self.tree.ops[0])](left, right)
            return violation.square().mean()
        return _evaluate(self.tree, names).square().mean()


def _evaluate(node: ast.expr, names: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Interpret a checked tree on tensors (only the node types ``_check`` lets through)."""
    if isinstance(node, ast.Constant):
        return torch.as_tensor(float(node.value))
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.UnaryOp):
        return -_evaluate(node.operand, names)
    if isinstance(node, ast.BinOp):
        return BINARY[type(node.op)](_evaluate(node.left, names), _evaluate(node.right, names))
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_evaluate(node.args[0], names))
    raise AssertionError(f"unchecked node {type(node).__name__}")  # _check admits no other


def _check(node: ast.AST, top: bool) -> None:
    """Raise ValueError for anything outside the language (see the module docstring)."""
    if isinstance(node, ast.Compare):
        if not top or len(node.ops) != 1 or type(node.ops[0]) not in VIOLATION:
            raise ValueError("only one comparison (<, <=, >, >=), at the top, is allowed")
        _check(node.left, False)
        _check(node.comparators[0], False)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ValueError(f"constant {node.value!r} is not a number")
    elif isinstance(node, ast.Name):
        if node.id not in NAMES:
            raise ValueError(f"unknown name {node.id!r} (allowed: {', '.join(NAMES)})")
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub):
            raise ValueError("only unary minus is allowed")
        _check(node.operand, False)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in BINARY:
            raise ValueError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.left, False)
        _check(node.right, False)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ValueError(f"only the functions {', '.join(FUNCTIONS)} can be called")
        if len(node.args) != 1 or node.keywords:
            raise ValueError(f"{node.func.id}() takes exactly one argument")
        _check(node.args[0], False)
    else:
        raise ValueError(f"{type(node).__name__} is not part of the rule language")


def parse_rule(entry: Mapping[str, object]) -> Rule:
    """A checked Rule from one config entry; any problem is a RuleError naming the rule."""
    name = str(entry.get("name", "<unnamed>"))
    try:
        unknown = set(entry) - {"name", "target", "expr", "weight"}
        if unknown:
            raise ValueError(f"unknown key(s) {sorted(unknown)}")
        target = entry.get("target")
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
        weight = entry.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ValueError(f"weight must be a number >= 0, got {weight!r}")
        text = entry.get("expr")
        if not isinstance(text, str) or len(text) > 500:
            raise ValueError("expr must be a string of at most 500 characters")
        try:
            tree = ast.parse(text, mode="eval").body
        except SyntaxError as error:
            raise ValueError(f"expr {text!r} is not valid syntax: {error.msg}") from None
        _check(tree, top=True)
    except ValueError as error:
        raise RuleError(f"loss rule {name!r}: {error}") from None
    return Rule(name, target, float(weight), tree)


def parse_rules(entries: Sequence[Mapping[str, object]]) -> list[Rule]:
    """Every rule of the config's list, names unique."""
    rules = [parse_rule(entry) for entry in entries]
    names = [rule.name for rule in rules]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise RuleError(f"loss rules named more than once: {repeated}")
    return rules
