"""Building fixes: the edits a rule attaches to its violation, from the positions CPython's `ast` gives.

A rule declares its fix in its own module and builds it with these helpers, as text edits at the positions the
parse already gave (ruff's model: a fix is edits plus whether it is safe). No second parser is involved, so
findings carry their fixes in every output at no cost to a plain check; `tllint.static.fixing.apply` applies them
(and only then, `tllint.static.fixing.imports` merges an import line a fix added into the file's own import, with
libcst).
A helper returns None where the edit cannot be made without risk (a comment inside the replaced text, a statement
sharing its line with another): the rule then offers no fix rather than a wrong one.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tllint.findings.model import Applicability, Edit, Fix, Span

if TYPE_CHECKING:
    from tllint.static.rules import Context


def fix(description: str, edits: Sequence[Edit | None], applicability: Applicability) -> Fix | None:
    """A fix of these edits, or None when one of them could not be made."""
    if not edits or any(edit is None for edit in edits):
        return None
    return Fix(description, tuple(edit for edit in edits if edit is not None), applicability)


def start(ctx: Context, node: ast.AST) -> tuple[int, int]:
    line: int = node.lineno  # type: ignore[attr-defined]
    return line, ctx.column(line, node.col_offset)  # type: ignore[attr-defined]


def end(ctx: Context, node: ast.AST) -> tuple[int, int]:
    """The position just after the node's last character."""
    line: int = node.end_lineno  # type: ignore[attr-defined]
    return line, ctx.column(line, node.end_col_offset)  # type: ignore[attr-defined]


def replace(ctx: Context, node: ast.AST, text: str) -> Edit | None:
    """Replace the node's source with `text`; None where the node holds a comment (it would be lost) or has no
    source (a node the interpreter built itself)."""
    if not hasattr(node, "end_lineno") or holds_comment(ctx, node):
        return None
    (line, column), (end_line, end_column) = start(ctx, node), end(ctx, node)
    return Edit(Span(line, column, end_line, end_column), text)


def replace_name_at_end(ctx: Context, node: ast.Attribute, name: str) -> Edit | None:
    """Replace the attribute name of `x.attr` (the last characters of the node) with `name`."""
    if not hasattr(node, "end_lineno"):
        return None
    line, column = end(ctx, node)
    return Edit(Span(line, column - len(node.attr), line, column), name)


def insert_lines(line: int, text: str) -> Edit:
    """Insert whole lines (`text` ends with a newline) before line `line`."""
    return Edit(Span(line, 1, line, 1), text)


def delete_lines(first: int, last: int) -> Edit:
    """Delete lines `first` to `last`, their newlines included."""
    return Edit(Span(first, 1, last + 1, 1), "")


def own_lines(ctx: Context, node: ast.AST) -> bool:
    """The statement alone on its lines: only indentation before it, only a comment after it."""
    first, last = start(ctx, node), end(ctx, node)
    before = ctx.lines[first[0] - 1][:first[1] - 1]
    after = ctx.lines[last[0] - 1][last[1] - 1:].strip()
    return not before.strip() and (not after or after.startswith("#"))


def indentation(ctx: Context, node: ast.AST) -> str:
    line = ctx.lines[node.lineno - 1]  # type: ignore[attr-defined]
    return line[:len(line) - len(line.lstrip())]


def holds_comment(ctx: Context, node: ast.AST) -> bool:
    """Whether a comment sits inside the node's source (between its lines): replacing the node would drop it."""
    if node.lineno == node.end_lineno:  # type: ignore[attr-defined]
        return False
    text = ctx.segment(node)
    if "#" not in text:
        return False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(f"({text}\n)").readline))
    except (tokenize.TokenError, SyntaxError):
        return True
    return any(token.type == tokenize.COMMENT for token in tokens)


def block_of(ctx: Context, node: ast.AST) -> list[ast.stmt] | None:
    """The statement list (a module's, function's or loop's body) that holds the statement `node`."""
    if ctx.tree is None:
        return None
    parents = _blocks(ctx)
    return parents.get(id(node))


def statement_of(ctx: Context, node: ast.AST) -> ast.stmt | None:
    """The innermost statement that holds `node` (an expression the facts point at, like an optimizer's call)."""
    if isinstance(node, ast.stmt) or ctx.tree is None:
        return node if isinstance(node, ast.stmt) else None
    start, end = (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    holders = [s for s in ast.walk(ctx.tree) if isinstance(s, ast.stmt)
               and (s.lineno, s.col_offset) <= start and end <= (s.end_lineno, s.end_col_offset)]
    return max(holders, key=lambda s: (s.lineno, s.col_offset), default=None)


def _blocks(ctx: Context) -> dict[int, list[ast.stmt]]:
    cached: dict[int, list[ast.stmt]] | None = getattr(ctx, "_fix_blocks", None)
    if cached is None:
        cached = {}
        for parent in ast.walk(ctx.tree):  # type: ignore[arg-type]
            for field in ("body", "orelse", "finalbody"):
                statements = getattr(parent, field, None)
                if isinstance(statements, list):
                    cached.update((id(statement), statements) for statement in statements)
            for handler in getattr(parent, "handlers", ()):
                cached.update((id(statement), handler.body) for statement in handler.body)
        ctx._fix_blocks = cached  # type: ignore[attr-defined]
    return cached


@dataclass(frozen=True)
class AddedImport(Edit):
    """An edit that adds a whole `from module import name` line: after the fixes are applied, such a line is merged
    into an existing import of its module (`tllint.static.fixing.imports`)."""


def import_edits(ctx: Context, module: str, name: str) -> list[Edit] | None:
    """The edit adding `from module import name` after the imports at the top of the file (none when the file
    already imports that name there); None where there is no safe place for it."""
    tree = ctx.tree
    if tree is None:
        return None
    after = 0  # the line the new import goes after
    for statement in tree.body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            if any((alias.asname or alias.name) == name for alias in statement.names):
                return []
            if not own_lines(ctx, statement):
                return None
            after = statement.end_lineno or after
        elif after == 0 and _is_docstring(statement) and own_lines(ctx, statement):
            after = statement.end_lineno or after
        elif not isinstance(statement, ast.Pass):  # a notebook's `!pip install` cell reads as `pass`
            break
    if after == 0:  # no import at the top: below a shebang and coding cookie, which must stay first
        while after < len(ctx.lines) - 1 and ctx.lines[after].lstrip().startswith("#"):
            after += 1
    return [AddedImport(Span(after + 1, 1, after + 1, 1), f"from {module} import {name}\n")]


def _is_docstring(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def assigned_attribute(node: ast.AST, attr: str) -> tuple[ast.Attribute, ast.expr] | None:
    """`X.attr = value` as one plain assignment (no chain, no tuple): its target and its value."""
    if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)
            and node.targets[0].attr == attr):
        return node.targets[0], node.value
    return None


def discarded_comparison(node: ast.AST, *operators: type[ast.cmpop]) -> tuple[ast.expr, ast.expr] | None:
    """`left <op> right` as an expression statement, with one of `operators`: its two sides."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Compare):
        return None
    compare = node.value
    if len(compare.ops) != 1 or not isinstance(compare.ops[0], operators):
        return None
    return compare.left, compare.comparators[0]


def eager_loop(ctx: Context, statement: ast.AST) -> str | None:
    """The `for` loop that does what a lazy `map(lambda p: ..., xs)` or `(... for p in xs)` statement meant to,
    indented like it; None for any other shape (several iterables, nested clauses, a lambda with defaults)."""
    if not isinstance(statement, ast.Expr) or not own_lines(ctx, statement):
        return None
    value = statement.value
    condition = None
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "map":
        if len(value.args) != 2 or value.keywords or not isinstance(value.args[0], ast.Lambda):
            return None
        function, iterable = value.args
        arguments = function.args
        if (len(arguments.args) != 1 or arguments.posonlyargs or arguments.kwonlyargs or arguments.vararg
                or arguments.kwarg or arguments.defaults):
            return None
        target, body = arguments.args[0].arg, ctx.segment(function.body)
    elif isinstance(value, ast.GeneratorExp) and len(value.generators) == 1:
        clause = value.generators[0]
        if clause.is_async or len(clause.ifs) > 1:
            return None
        target, body, iterable = ctx.segment(clause.target), ctx.segment(value.elt), clause.iter
        condition = ctx.segment(clause.ifs[0]) if clause.ifs else None
    else:
        return None
    indent = indentation(ctx, statement)
    step = "\t" if "\t" in indent else "    "
    loop = f"for {target} in {ctx.segment(iterable)}:\n"
    if condition is not None:
        loop += f"{indent}{step}if {condition}:\n"
        indent += step
    return f"{loop}{indent}{step}{body}"


def move(ctx: Context, statement: ast.AST, anchor: ast.AST, untouched: str | None = None) -> list[Edit] | None:
    """Edits moving `statement` (with the comment lines right above it) next to `anchor`, another statement of
    the same block: before it when it is earlier, after it when it is later. None unless that only changes the
    order: the statement does not mention `untouched` (what the statements it crosses create), reads no name they
    bind, and binds no name they read."""
    block = block_of(ctx, statement)
    if block is None or block is not block_of(ctx, anchor) or not (own_lines(ctx, statement)
                                                                   and own_lines(ctx, anchor)):
        return None
    here, there = block.index(statement), block.index(anchor)  # type: ignore[arg-type]
    crossed = block[there:here] if there < here else block[here + 1:there + 1]
    if not crossed or (untouched is not None and re.search(rf"{re.escape(untouched)}\b", ctx.segment(statement))):
        return None
    bound_between = set().union(*(_names(s, bound=True) for s in crossed))
    read_between = set().union(*(_names(s, bound=False) for s in crossed))
    if _names(statement, bound=False) & bound_between or _names(statement, bound=True) & read_between:
        return None
    first, last = statement.lineno, statement.end_lineno  # type: ignore[attr-defined]
    above = (block[here - 1].end_lineno or 0) if here else first - 1  # a block's first statement: no comments
    while first - 1 > above and ctx.lines[first - 2].lstrip().startswith("#"):
        first -= 1
    moved = "".join(line + "\n" for line in ctx.lines[first - 1:last])
    target = anchor.lineno if there < here else (anchor.end_lineno or 0) + 1  # type: ignore[attr-defined]
    return [insert_lines(target, moved), delete_lines(first, last)]


def parameters_argument(ctx: Context, statement: ast.AST, receiver: str) -> ast.Call | None:
    """The one `<receiver>.parameters()` call that `statement` passes straight to a constructor as its parameters
    (first positional argument or `params=`): `optim.SGD(model.parameters(), lr=0.1)`."""
    found = []
    for node in ast.walk(statement):
        if not isinstance(node, ast.Call):
            continue
        given = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "params")]
        found += [arg for arg in given if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute)
                  and arg.func.attr == "parameters" and not arg.args and not arg.keywords
                  and " ".join(ctx.segment(arg.func.value).split()) == receiver]
    return found[0] if len(found) == 1 else None


def insert_after(ctx: Context, statement: ast.AST, anchor: ast.AST, text: str) -> Edit | None:
    """Edit adding the statement `text` right after `statement`, at its indentation, where the name `text` starts
    with still means what it meant at `anchor`: `statement` follows `anchor` in its block (or lies inside a later
    statement of it) and nothing in between binds that name again (`model = nn.DataParallel(model)`)."""
    block = block_of(ctx, anchor)
    root = re.match(r"[A-Za-z_]\w*", text)
    if block is None or root is None or not own_lines(ctx, statement):
        return None
    later = block[block.index(anchor) + 1:]  # type: ignore[arg-type]
    first, last = statement.lineno, statement.end_lineno  # type: ignore[attr-defined]
    holder = next((i for i, s in enumerate(later) if s.lineno <= first and (s.end_lineno or 0) >= last), None)
    if holder is None or any(root.group() in _names(s, bound=True) for s in later[:holder + 1]):
        return None
    return insert_lines(last + 1, f"{indentation(ctx, statement)}{text}\n")


def _names(statement: ast.AST, bound: bool) -> set[str]:
    """The names a statement binds (assigned, defined, imported, loop targets), or those it reads."""
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del) is bound:
            names.add(node.id)
        elif bound and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif bound and isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).partition(".")[0] for alias in node.names)
        elif bound and isinstance(node, ast.Global | ast.Nonlocal):
            names.update(node.names)
    return names


SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE

__all__ = [
    "SAFE",
    "UNSAFE",
    "AddedImport",
    "assigned_attribute",
    "block_of",
    "delete_lines",
    "discarded_comparison",
    "eager_loop",
    "end",
    "fix",
    "holds_comment",
    "import_edits",
    "indentation",
    "insert_after",
    "insert_lines",
    "move",
    "own_lines",
    "parameters_argument",
    "replace",
    "replace_name_at_end",
    "start",
    "statement_of",
]
