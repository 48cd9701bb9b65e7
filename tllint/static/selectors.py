"""Which parameters a freeze, an unfreeze or an optimizer source chooses, as a predicate on parameter names.

A selector answers True/False for a parameter name (relative to the model ref the loop runs over), or
None when the pass cannot tell (a counter, an index, an unreadable test). Each name test it is made of is
kept as an `Atom` (its kind, literal and source node) so that architecture-aware rules can check the
literals against the real parameter names.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Atom:
    """One name test: `"fc" in name` is Atom("contains", "fc"); `node` is the test in the source."""

    kind: str  # "contains" | "startswith" | "endswith" | "equals"
    literal: str
    node: ast.AST | None = None

    def matches(self, name: str) -> bool:
        if self.kind == "contains":
            return self.literal in name
        if self.kind == "startswith":
            return name.startswith(self.literal)
        if self.kind == "endswith":
            return name.endswith(self.literal)
        return name == self.literal


@dataclass(frozen=True)
class Selector:
    """A predicate over parameter names, with the name tests it is made of."""

    test: Callable[[str], bool | None]
    atoms: tuple[Atom, ...] = ()
    requires_grad_filter: bool = False  # chooses by current `requires_grad` (filter(lambda p: p.requires_grad))
    is_all: bool = False
    child_names: bool = False  # the atoms test a child's name (`named_children()`), not a parameter's
    prefix: str = ""  # names the tests see carry this wrapper prefix (`module.` after DataParallel)

    def matches(self, name: str) -> bool | None:
        """The test on a parameter name as tllint writes it (without any wrapper prefix)."""
        return self.test(self.prefix + name)

    def negate(self) -> Selector:
        if self.is_all:
            return NONE
        test = self.test
        return Selector(
            lambda n: None if (r := test(n)) is None else not r,
            self.atoms,
            self.requires_grad_filter,
            prefix=self.prefix,
        )

    def both(self, other: Selector) -> Selector:
        if self.is_all:
            return replace(other, prefix=other.prefix or self.prefix)
        if other.is_all:
            return replace(self, prefix=self.prefix or other.prefix)
        a, b = self.test, other.test

        def test(name: str) -> bool | None:
            ra, rb = a(name), b(name)
            if ra is False or rb is False:
                return False
            if ra is None or rb is None:
                return None
            return True

        return self._combined(test, other)

    def either(self, other: Selector) -> Selector:
        if self.is_all or other.is_all:
            return replace(ALL, prefix=self.prefix or other.prefix)
        a, b = self.test, other.test

        def test(name: str) -> bool | None:
            ra, rb = a(name), b(name)
            if ra is True or rb is True:
                return True
            if ra is None or rb is None:
                return None
            return False

        return self._combined(test, other)

    def _combined(self, test: Callable[[str], bool | None], other: Selector) -> Selector:
        return Selector(test, self.atoms + other.atoms, self.requires_grad_filter or other.requires_grad_filter,
                        prefix=self.prefix or other.prefix)


ALL = Selector(lambda _name: True, is_all=True)
NONE = Selector(lambda _name: False)
OPAQUE = Selector(lambda _name: None)  # a selection tllint cannot read (a counter, an index)
TRAINABLE_ONLY = Selector(lambda _name: None, requires_grad_filter=True)  # `if p.requires_grad`


def name_test(kind: str, literals: tuple[str, ...], node: ast.AST) -> Selector:
    """`"fc" in name`, `name.startswith(("fc", "head"))`, `name in [...]`, `any(k in name for k in KEYS)`:
    true when any of the literals passes the test."""
    atoms = tuple(Atom(kind, literal, node) for literal in literals)
    return Selector(lambda n: any(atom.matches(n) for atom in atoms), atoms)


def first_component(selector: Selector) -> Selector:
    """For `named_children()` loops: the test reads the child's name, the first component of a name."""
    if selector.is_all:
        return selector
    test = selector.test
    return Selector(lambda n: test(n.split(".", 1)[0]), selector.atoms, selector.requires_grad_filter,
                    child_names=True)


def with_prefix(selector: Selector, prefix: str) -> Selector:
    """Parameters of a wrapped model: every name a later test sees starts with `prefix` (`module.`)."""
    return replace(selector, prefix=prefix)
