"""TL016: a loss rebuilt from a number or a detached tensor before `backward()`."""

from __future__ import annotations

from collections.abc import Iterator

from tllint.static.facts import FileFacts
from tllint.static.rules import Context, Report, rule


@rule("TL016")
def loss_detached_from_graph(facts: FileFacts, ctx: Context) -> Iterator[Report]:
    for rebuilt in facts.losses_rebuilt:
        backward = next(
            (b for b in facts.backwards
             if b.name == rebuilt.name and b.where.scope == rebuilt.where.scope and b.at >= rebuilt.at),
            None,
        )
        if backward is None:
            continue
        yield Report(
            "TL016",
            rebuilt.where.node,
            f"`{rebuilt.name}` is rebuilt from a number or a detached tensor, so it no longer depends on any "
            f"parameter: `{rebuilt.name}.backward()` on line {ctx.line(backward.where.node)} computes no "
            "gradient and nothing trains. Call `backward()` on the loss the model computed; if it does not "
            "require grad, find where the graph was cut (`.item()`, `.detach()`, `.data`, `torch.no_grad()`).",
        )
