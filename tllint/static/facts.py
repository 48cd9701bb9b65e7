"""The facts one pass over a file produces: model objects, references into them, and a timeline of events.

Rules read these facts and never walk the syntax tree. The vocabulary:

- a `ModelObject` is one model-like value with an identity (where and how it was built);
- a `Ref` is a path inside an object (`model.classifier[6]` is `Ref(model, ("classifier", "6"))`);
- an `Event` is something that happens to a ref, in source order, with the conditions it runs under.
"""

from __future__ import annotations

import ast
import enum
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tllint.static.facts_hf import HfFacts
from tllint.static.selectors import ALL, Selector

if TYPE_CHECKING:
    from tllint.static.noqa import NoqaComment


class Origin(str, enum.Enum):
    """How an object came to be, which decides what is known of its initial state."""

    LIBRARY = "library"  # torchvision / timm / transformers / hub constructor: every parameter trainable
    LAYER = "layer"  # nn.Linear(...), nn.Sequential(...): trainable
    LOCAL_CLASS = "local-class"  # an instance of an nn.Module subclass defined in this file
    PARAMETER = "parameter"  # a function parameter: its state on entry is unknown
    INFERRED = "inferred"  # a name whose .parameters() is taken: state unknown


FRESH_ORIGINS = frozenset({Origin.LIBRARY, Origin.LAYER, Origin.LOCAL_CLASS})


class Placeholder(str):
    """A path part standing for a module whose real path depends on the architecture."""


CLASSIFIER = Placeholder("@classifier")  # the head timm's `reset_classifier()` rebuilds, wherever the model keeps it


def has_placeholder(path: tuple[str, ...]) -> bool:
    return any(isinstance(part, Placeholder) for part in path)


class Effect(enum.Enum):
    """What setting `requires_grad` does to the parameters of one module."""

    ENABLES = "enables"
    FREEZES = "freezes"
    PARTIAL = "partial"  # some of them, not all
    UNCHANGED = "unchanged"  # none of them
    UNKNOWN = "unknown"  # tllint cannot tell

    @classmethod
    def of(cls, value: bool | None) -> Effect:
        """The effect of writing `value` (None: not a literal) on the parameters it reaches."""
        return cls.UNKNOWN if value is None else cls.ENABLES if value else cls.FREEZES

_ids = itertools.count()


@dataclass(eq=False)
class ModelObject:
    """One model-like value. `parent` links an attached sub-module to the object it was assigned into."""

    label: str  # the source text that built it, for messages: "resnet18(weights=...)"
    origin: Origin
    node: ast.AST | None = None
    constructor: str | None = None  # qualified name, "torchvision.models.resnet18" or "timm:resnet50"
    pretrained: bool | None = None  # None: unknown
    has_params: bool | None = True
    plain: bool = False  # a plain Python object (`self` of a class that is no Module): attributes, no layers
    in_features: int | None = None  # a literal input size: `nn.Linear(512, 10)`, or a Sequential starting with one
    param_names: tuple[str, ...] | None = None  # a new layer's parameter names when known: ("0.weight", "0.bias")
    deprecated_args: tuple[ast.keyword, ...] = ()  # torchvision `pretrained=` / `pretrained_backbone=`
    parent: tuple[ModelObject, tuple[str, ...]] | None = None
    attached: dict[tuple[str, ...], Value] = field(default_factory=dict)
    uid: int = field(default_factory=lambda: next(_ids))

    @property
    def fresh(self) -> bool:
        """Built in this file, so every parameter starts trainable."""
        return self.origin in FRESH_ORIGINS


@dataclass(frozen=True)
class Ref:
    """A path inside a model object. `wrapped` is the name prefix a wrapper adds (`module.` for DataParallel and
    DDP, `_orig_mod.` for torch.compile): `.module` unwraps, and `named_parameters()` names carry it."""

    obj: ModelObject
    path: tuple[str, ...] = ()
    wrapped: str = ""

    def absolute(self) -> tuple[ModelObject, tuple[str, ...]]:
        """The outermost object this ref is attached into, and the full path from it."""
        obj, path = self.obj, self.path
        while obj.parent is not None:
            parent, at = obj.parent
            obj, path = parent, at + path
        return obj, path

    def covers(self, other: Ref) -> bool:
        """True when `other` lies inside (or is) this ref."""
        root, path = self.absolute()
        other_root, other_path = other.absolute()
        return root is other_root and other_path[: len(path)] == path

    def strictly_covers(self, other: Ref) -> bool:
        return self.covers(other) and self.absolute()[1] != other.absolute()[1]

    @property
    def placeholder(self) -> bool:
        """The path goes through a placeholder (`reset_classifier()`'s head): its real parameter names are unknown."""
        return has_placeholder(self.path)

    def text(self, base: str | None = None) -> str:
        """`model.classifier[6]` style text for messages."""
        out = base or self.obj.label
        for part in self.path:
            out += f"[{part}]" if part.isdigit() else f".{part}"
        return out


# --- abstract values the pass computes for expressions ---------------------------------------------------


@dataclass(frozen=True)
class ParamsOf:
    """`ref.parameters()` / `ref.named_parameters()`, possibly narrowed by a selector.

    `site` is the loop or comprehension that chose them, when they come from one."""

    ref: Ref
    selector: Selector = ALL
    site: ast.AST | None = None
    label: str = field(default="", compare=False)  # source text of the module: `model.fc`


@dataclass(frozen=True)
class ParamVar:
    """A loop or comprehension variable that takes each parameter of `ref`; `name_var` holds its name."""

    ref: Ref
    selector: Selector = ALL
    name_var: str | None = None
    site: ast.AST | None = None


@dataclass(frozen=True)
class ModuleVar:
    """`ref.children()` / `ref.modules()` and a loop variable over them: a module, never a tensor.

    `by_child_name` marks `named_children()`, whose names are the first component of parameter names."""

    ref: Ref
    selector: Selector = ALL
    name_var: str | None = None
    by_child_name: bool = False
    site: ast.AST | None = None


@dataclass(frozen=True)
class ParamList:
    """A list of parameter sources (`params = []` then `params.append(p)` / `params += ...`)."""

    sources: tuple[ParamsOf, ...] = ()


@dataclass(frozen=True)
class ParamGroups:
    """A list of param-group dicts, each a tuple of sources."""

    groups: tuple[tuple[ParamsOf, ...], ...]


@dataclass(eq=False)
class Optimizer:
    label: str
    node: ast.AST
    uid: int = field(default_factory=lambda: next(_ids))


@dataclass(frozen=True)
class Literal:
    value: object


@dataclass(frozen=True)
class Unknown:
    """Anything the pass cannot follow. Rules stay quiet about it."""


UNKNOWN = Unknown()


@dataclass(frozen=True)
class RebuiltLoss:
    """A loss rebuilt from a detached value (`torch.tensor(loss.item(), requires_grad=True)`), followed through
    the helpers that return it."""

    origin: LossRebuilt


Value = Ref | ParamsOf | ParamVar | ModuleVar | ParamList | ParamGroups | Optimizer | Literal | RebuiltLoss | Unknown


# --- events ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """An enclosing `if` test or loop header. `param`/`polarity` mark a test of a bare function parameter
    (`if feature_extract:`), which a call with a literal argument decides."""

    text: str
    param: str | None = None
    polarity: bool = True

    def negated(self) -> Condition:
        """The condition of the `else` arm."""
        return Condition(f"not ({self.text})", self.param, not self.polarity)

    def contradicts(self, other: Condition) -> bool:
        return other == self.negated() or self == other.negated()


@dataclass(frozen=True)
class Where:
    """Where an event happens and under which conditions.

    `node` is the statement (or call) to report at; `conditions` the enclosing `if` tests and loop headers
    outside the event's own construct; `via` names the same-file helper an event was replayed from (then
    `node` is the call); `scope` identifies the function body (or module) whose timeline it belongs to.
    """

    node: ast.AST
    scope: int
    conditions: tuple[Condition, ...] = ()
    via: str | None = None

    @property
    def conditional(self) -> bool:
        return bool(self.conditions)

    def excludes(self, other: Where) -> bool:
        """The two never both run: one is in the `if` arm of a test, the other in its `else` arm."""
        return any(mine.contradicts(theirs) for mine in self.conditions for theirs in other.conditions)

    def certain_from(self, observer: Where | None) -> bool:
        """Whether this event has surely happened when `observer` runs: each condition guarding it also
        guards the observer (a freeze and an optimizer in one `if args.freeze:` block are straight-line code)."""
        if observer is None:
            return not self.conditions
        return all(condition in observer.conditions for condition in self.conditions)

    def condition_text(self) -> str:
        return " and ".join(c.text for c in self.conditions)


@dataclass(frozen=True)
class Built:
    ref: Ref
    where: Where


@dataclass(frozen=True)
class Replaced:
    """A layer assigned into a model: `model.fc = nn.Linear(512, 10)`, `add_module`, `reset_classifier`."""

    ref: Ref  # the path that now holds the new layer
    new: ModelObject | None  # the new layer's object when known
    where: Where
    slot_text: str | None = None  # the slot as the source names it (`model.fc`); None for `reset_classifier()`
    construction: bool = False  # `self.head = ...` inside the class's own __init__: building, not replacing

    @property
    def has_params(self) -> bool | None:
        return None if self.new is None else self.new.has_params


@dataclass(frozen=True)
class SetRequiresGrad:
    """`requires_grad` set on the parameters of `ref` chosen by `selector`.

    `value` is True/False, or None when the new value is not a literal. `selector.value_by_name` covers
    `p.requires_grad = "fc" in name`, where each parameter's value follows its name.
    """

    ref: Ref
    selector: Selector
    value: bool | None
    where: Where

    def effect_on(self, name: str) -> Effect:
        """What this event does to the parameter `name` (relative to `ref`)."""
        chosen = self.selector.matches(name)
        if chosen is None:
            return Effect.UNKNOWN
        if not chosen:
            return Effect.UNCHANGED
        return Effect.of(self.value)


@dataclass(frozen=True)
class OptimizerBuilt:
    optimizer: Optimizer
    groups: tuple[tuple[ParamsOf, ...], ...]  # one tuple of sources per param group; () when unknown
    where: Where
    known: bool = True  # False when the parameter argument could not be read

    def sources(self) -> Iterator[ParamsOf]:
        for group in self.groups:
            yield from group


@dataclass(frozen=True)
class ParamGroupAdded:
    optimizer: Optimizer | None  # None: an unknown optimizer object
    sources: tuple[ParamsOf, ...]  # () when unknown
    where: Where


@dataclass(frozen=True)
class MaybeChanged:
    """A call the pass cannot see into that may change `requires_grad` under `ref` (`unfreeze(model)`)."""

    ref: Ref
    where: Where


@dataclass(frozen=True)
class TrainingStep:
    """A `backward()` or optimizer `step()`: the model has trained by now."""

    where: Where


@dataclass(frozen=True)
class WeightsLoaded:
    """`ref.load_state_dict(...)`: its parameters now hold saved values, replaced layers included."""

    ref: Ref
    where: Where


@dataclass(frozen=True)
class ModelPassed:
    """The model is handed to a call the pass cannot see into (it may train it)."""

    ref: Ref
    where: Where


Event = (
    Built
    | Replaced
    | SetRequiresGrad
    | OptimizerBuilt
    | ParamGroupAdded
    | MaybeChanged
    | TrainingStep
    | ModelPassed
    | WeightsLoaded
)


# --- local facts that need no timeline ---------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeWrite:
    """`X.<attr> = value` where X may be a module or a parameter (TL002, TL004)."""

    receiver: Value
    attr: str
    where: Where
    receiver_text: str
    configuration_flag: bool = False  # `self.requires_grad = requires_grad`: the class's own setting, kept on purpose
    on_tensor: bool = False  # the receiver is a name assigned a new tensor (`pe = torch.zeros(...)`)


@dataclass(frozen=True)
class DiscardedComparison:
    """`p.requires_grad == False` as a statement (TL003)."""

    where: Where
    text: str


@dataclass(frozen=True)
class LazyFreeze:
    """`map(lambda p: p.requires_grad_(False), ...)` or a generator as a statement (TL005)."""

    where: Where
    kind: str


@dataclass(frozen=True)
class LossRebuilt:
    """A loss rebuilt from a number or a detached tensor (TL016); `name` is the variable it is bound to,
    `at` the number of timeline events before it."""

    name: str
    where: Where
    text: str
    at: int


@dataclass(frozen=True)
class Backward:
    """`name.backward()` (or `scaler.scale(name).backward()`, `accelerator.backward(name)`)."""

    name: str
    where: Where
    at: int
    by_lightning: bool = False  # the loss `training_step` returns: Lightning runs its backward


@dataclass
class FileFacts:
    """Everything the pass learned about one file; `events` is in source (execution) order."""

    events: list[Event] = field(default_factory=list)
    attribute_writes: list[AttributeWrite] = field(default_factory=list)
    discarded_comparisons: list[DiscardedComparison] = field(default_factory=list)
    lazy_freezes: list[LazyFreeze] = field(default_factory=list)
    losses_rebuilt: list[LossRebuilt] = field(default_factory=list)
    backwards: list[Backward] = field(default_factory=list)
    # (object uid, path) pairs used as modules: `.parameters()` taken, called, or holding a `.weight`
    module_evidence: set[tuple[int, tuple[str, ...]]] = field(default_factory=set)
    hf: HfFacts = field(default_factory=HfFacts)  # Hugging Face transformers and PEFT
    # the file's noqa comments and what they silenced: set by the engine for rules declared `reads_noqa`
    noqa: tuple[NoqaComment, ...] = ()

    def used_as_module(self, ref: Ref) -> bool:
        return (ref.obj.uid, ref.path) in self.module_evidence

    _by_type: dict[type, list[int]] = field(default_factory=dict, repr=False)
    _positions: dict[int, int] = field(default_factory=dict, repr=False)

    def positions(self, kind: type) -> list[int]:
        """Indices of the events of one type, in order; built once, when the rules start asking."""
        if kind not in self._by_type:
            self._by_type[kind] = [i for i, event in enumerate(self.events) if isinstance(event, kind)]
        return self._by_type[kind]

    def position(self, event: Event) -> int:
        if not self._positions:
            self._positions.update((id(e), i) for i, e in enumerate(self.events))
        return self._positions[id(event)]
