"""Resolve names to dotted library names through the file's imports.

A dictionary from local name to dotted name, filled from `import` statements in scope order, answers what
the rules need (libcst's QualifiedNameProvider, which TorchFix uses, costs several times a parse).
"""

from __future__ import annotations

import ast


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` as text, or None for anything that is not a plain name/attribute chain."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


class ImportTable:
    """Local names -> dotted names; a child table (a function's) falls back on its parent (the module's)."""

    def __init__(self, parent: ImportTable | None = None) -> None:
        self._names: dict[str, str] = {}
        self._parent = parent

    def child(self) -> ImportTable:
        return ImportTable(self)

    def add(self, statement: ast.Import | ast.ImportFrom) -> None:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname is not None:
                    self._names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    self._names[top] = top
            return
        if statement.module is None and not statement.level:
            return
        module = "." * statement.level + (statement.module or "")
        for alias in statement.names:
            if alias.name != "*":
                separator = "" if module.endswith(".") else "."
                self._names[alias.asname or alias.name] = f"{module}{separator}{alias.name}"

    def forget(self, name: str) -> None:
        """A local assignment shadows an import of the same name."""
        self._names.pop(name, None)

    def lookup(self, name: str, relative: bool = False) -> str | None:
        """The dotted name `name` was imported as. A relative import (`.models.build`, leading dots kept) names a
        file of the project, never a library: it is answered only when `relative` asks for it."""
        table: ImportTable | None = self
        while table is not None:
            if name in table._names:
                target = table._names[name]
                return target if relative or not target.startswith(".") else None
            table = table._parent
        return None

    def qualname(self, node: ast.expr) -> str | None:
        """The dotted library name an expression refers to (`models.vgg16` -> `torchvision.models.vgg16`)."""
        text = dotted(node)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        resolved = self.lookup(head)
        if resolved is None:
            return None
        return f"{resolved}.{rest}" if rest else resolved
