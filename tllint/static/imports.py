"""Resolve names to dotted library names through the file's imports, without libcst metadata.

libcst's QualifiedNameProvider costs several times the parse; a dictionary from local name to dotted
name, filled from `import` statements in scope order, answers what the rules need.
"""

from __future__ import annotations

import libcst as cst


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` as text, or None for anything that is not a plain name/attribute chain."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _module_name(node: cst.BaseExpression) -> str:
    name = dotted(node)
    assert name is not None
    return name


class ImportTable:
    """Local names -> dotted names; a child table (a function's) falls back on its parent (the module's)."""

    def __init__(self, parent: ImportTable | None = None) -> None:
        self._names: dict[str, str] = {}
        self._parent = parent

    def child(self) -> ImportTable:
        return ImportTable(self)

    def add(self, statement: cst.Import | cst.ImportFrom) -> None:
        if isinstance(statement, cst.Import):
            for alias in statement.names:
                full = _module_name(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._names[alias.asname.name.value] = full
                else:
                    top = full.split(".", 1)[0]
                    self._names[top] = top
            return
        if statement.relative or statement.module is None or isinstance(statement.names, cst.ImportStar):
            return
        module = _module_name(statement.module)
        for alias in statement.names:
            imported = _module_name(alias.name)
            local = imported
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._names[local] = f"{module}.{imported}"

    def forget(self, name: str) -> None:
        """A local assignment shadows an import of the same name."""
        self._names.pop(name, None)

    def lookup(self, name: str) -> str | None:
        table: ImportTable | None = self
        while table is not None:
            if name in table._names:
                return table._names[name]
            table = table._parent
        return None

    def qualname(self, node: cst.BaseExpression) -> str | None:
        """The dotted library name an expression refers to (`models.vgg16` -> `torchvision.models.vgg16`)."""
        text = dotted(node)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        resolved = self.lookup(head)
        if resolved is None:
            return None
        return f"{resolved}.{rest}" if rest else resolved
