"""Small readers of syntax: call arguments, literals, assignment targets. No knowledge of PyTorch here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Arg:
    """One argument of a call, in source order: `value`, `keyword=value`, `*value` or `**value`."""

    value: ast.expr
    keyword: str | None = None
    star: str = ""


def arguments(call: ast.Call) -> list[Arg]:
    args = [Arg(a.value, star="*") if isinstance(a, ast.Starred) else Arg(a) for a in call.args]
    args += [Arg(k.value, k.arg, "" if k.arg else "**") for k in call.keywords]
    if call.args and call.keywords:  # `f(x=1, *rest)`: ast keeps positional and keyword arguments apart
        args.sort(key=lambda arg: (arg.value.lineno, arg.value.col_offset))
    return args


def unstarred(node: ast.expr) -> ast.expr:
    """`*xs` in a list or an assignment target stands for the elements of `xs`."""
    return node.value if isinstance(node, ast.Starred) else node


def target_names(target: ast.expr) -> Iterator[str]:
    target = unstarred(target)
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from target_names(element)


def assigned_names(loop: ast.For | ast.AsyncFor) -> frozenset[str]:
    """Names bound by a loop header or assigned in its body: tests on them choose by position or count."""
    names = set(target_names(loop.target))
    for statement in loop.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names.update(target_names(target))
            elif isinstance(node, ast.AugAssign):
                names.update(target_names(node.target))
    return frozenset(names)


def names_in(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def is_requires_grad(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "requires_grad"


def bool_literal(node: ast.expr) -> bool | None:
    """`True`/`False`, or the integers 0 and 1 written for them."""
    if isinstance(node, ast.Constant) and (node.value is True or node.value is False):
        return node.value
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value in (0, 1):
        return node.value == 1
    return None


def string_literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def integer_literal(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def keyword_value(node: ast.Call, name: str) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def literal_index(node: ast.Subscript) -> str | None:
    index = node.slice
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub) and integer_literal(index.operand) is not None:
        return f"-{integer_literal(index.operand)}"
    number = integer_literal(index)
    return str(number) if number is not None else string_literal(index)


def dict_entry(node: ast.Dict, key: str) -> ast.expr | None:
    for entry_key, value in zip(node.keys, node.values, strict=True):
        if entry_key is not None and string_literal(entry_key) == key:
            return value
    return None
