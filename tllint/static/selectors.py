"""Which parameters a freeze, an unfreeze or an optimizer source chooses, as a predicate on parameter names.

A selector answers True/False for a parameter name (relative to the model ref the loop runs over), or
None when the pass cannot tell (a counter, an index, an unreadable test). Name tests keep their string
literals so that architecture-aware rules can check them against real parameter names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Selector:
    """A predicate over parameter names with a readable description."""

    test: Callable[[str], bool | None]
    text: str
    literals: tuple[str, ...] = ()
    requires_grad_filter: bool = False  # chooses by current `requires_grad` (filter(lambda p: p.requires_grad))
    is_all: bool = False

    def matches(self, name: str) -> bool | None:
        return self.test(name)

    def negate(self) -> Selector:
        if self.is_all:
            return NONE
        test = self.test
        return Selector(
            lambda n: None if (r := test(n)) is None else not r,
            f"not ({self.text})",
            self.literals,
            self.requires_grad_filter,
        )

    def both(self, other: Selector) -> Selector:
        if self.is_all:
            return other
        if other.is_all:
            return self
        a, b = self.test, other.test

        def test(name: str) -> bool | None:
            ra, rb = a(name), b(name)
            if ra is False or rb is False:
                return False
            if ra is None or rb is None:
                return None
            return True

        return Selector(
            test,
            f"{self.text} and {other.text}",
            self.literals + other.literals,
            self.requires_grad_filter or other.requires_grad_filter,
        )

    def either(self, other: Selector) -> Selector:
        if self.is_all or other.is_all:
            return ALL
        a, b = self.test, other.test

        def test(name: str) -> bool | None:
            ra, rb = a(name), b(name)
            if ra is True or rb is True:
                return True
            if ra is None or rb is None:
                return None
            return False

        return Selector(
            test,
            f"{self.text} or {other.text}",
            self.literals + other.literals,
            self.requires_grad_filter or other.requires_grad_filter,
        )

    def under(self, prefix: tuple[str, ...]) -> Selector:
        """The same selector for a loop over a sub-module: names are relative to `prefix`."""
        if self.is_all or not prefix:
            return self
        dotted = ".".join(prefix) + "."
        test = self.test
        return Selector(
            lambda n: test(n[len(dotted):]) if n.startswith(dotted) else False,
            self.text,
            self.literals,
            self.requires_grad_filter,
        )


ALL = Selector(lambda _name: True, "every parameter", is_all=True)
NONE = Selector(lambda _name: False, "no parameter")
OPAQUE = Selector(lambda _name: None, "a selection tllint cannot read")
TRAINABLE_ONLY = Selector(lambda _name: None, "p.requires_grad", requires_grad_filter=True)


def contains(literal: str, text: str) -> Selector:
    return Selector(lambda n: literal in n, text, (literal,))


def startswith(prefixes: tuple[str, ...], text: str) -> Selector:
    return Selector(lambda n: n.startswith(prefixes), text, prefixes)


def endswith(suffixes: tuple[str, ...], text: str) -> Selector:
    return Selector(lambda n: n.endswith(suffixes), text, suffixes)


def equals_any(names: tuple[str, ...], text: str) -> Selector:
    return Selector(lambda n: n in names, text, names)


def any_contained(literals: tuple[str, ...], text: str) -> Selector:
    return Selector(lambda n: any(lit in n for lit in literals), text, literals)


def first_component(selector: Selector) -> Selector:
    """For `named_children()` loops: the test reads the child's name, the first component of a name."""
    test = selector.test
    return Selector(
        lambda n: test(n.split(".", 1)[0]), selector.text, selector.literals, selector.requires_grad_filter
    )
