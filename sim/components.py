"""The registry of component kinds: each kind is one spec class, one runtime class and one
entry here.

A kind lives in one table of the network (`hubs`, `locks`, `links` or `services`). Within a
table, the spec field named by `DISCRIMINATORS` says which kind a row is (a hub's `kind`, a
service's `schedule`); each spec class declares the values it takes as a `Literal`, so the
registry reads them from the class. Reading geodata, validating a scenario, building the
engine and writing result tables all go through `kind_of`/`validate_spec`: nothing else
tests a kind string.

The runtime class may be given as `"module:Class"` and is imported on first use: the build
layer (geodata, scenario, network) must not import the engine, which imports it. A kind
defined outside `sim` passes the class itself::

    register(Kind("dry_port", "hubs", DryPortSpec, DryPort))
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any, Literal, get_args

from pydantic import BaseModel

from sim.specs import (
    BackgroundTraffic,
    BorderSpec,
    ContinuousService,
    LinkSpec,
    LockSpec,
    ScheduledService,
    Spec,
    TerminalSpec,
    ZoneSpec,
)

Table = Literal["hubs", "locks", "links", "services", "background"]
# the field that says which kind a row of a table is (links have one kind)
DISCRIMINATORS: dict[str, str] = {"hubs": "kind", "locks": "kind", "services": "schedule"}


@dataclass(frozen=True)
class Kind:
    """One kind of network component."""

    name: str                   # registry key, e.g. "border"
    table: Table                # network table its specs live in
    spec: type[Spec]            # what it is: the validated, immutable attributes
    runtime: type | str         # what it does in a replication ("module:Class": lazy)

    @property
    def values(self) -> tuple[str, ...]:
        """Values of the table's discriminator field that select this kind."""
        field = DISCRIMINATORS.get(self.table)
        if field is None:
            return ()
        return tuple(get_args(self.spec.model_fields[field].annotation))

    @property
    def default(self) -> str | None:
        """The discriminator value a row without one gets (a service's `scheduled`)."""
        field = DISCRIMINATORS.get(self.table)
        value = self.spec.model_fields[field].default if field else None
        return value if isinstance(value, str) else None

    def runtime_class(self) -> type:
        """The runtime class (imported when given by name)."""
        if isinstance(self.runtime, str):
            module, _, name = self.runtime.partition(":")
            cls: type = getattr(import_module(module), name)
            return cls
        return self.runtime


REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind; its name and its discriminator values must be new in its table. The same
    kind registered again by a module imported again (a notebook cell run twice,
    `importlib.reload`: new class objects of the same module and name) replaces it, so
    specs are validated as the classes now defined; a different kind under a taken name is
    refused."""
    old = REGISTRY.get(kind.name)
    if old is not None and not _same_kind(old, kind):
        raise ValueError(f"a component kind named {kind.name!r} is already registered "
                         f"(by {_named(old.spec)}, {_named(old.runtime)})")
    if kind.table in DISCRIMINATORS and not kind.values:
        raise ValueError(f"{kind.spec.__name__}.{DISCRIMINATORS[kind.table]} must be a "
                         "Literal of the values that select this kind")
    taken = {v for k in kinds(kind.table) if k.name != kind.name for v in k.values}
    if taken & set(kind.values):
        raise ValueError(f"{sorted(taken & set(kind.values))} already select a kind of "
                         f"{kind.table}")
    REGISTRY[kind.name] = kind
    return kind


def _named(cls: type | str) -> str:
    """A class as `module:qualname` (a lazy runtime is named so already)."""
    return cls if isinstance(cls, str) else f"{cls.__module__}:{cls.__qualname__}"


def _same_kind(old: Kind, new: Kind) -> bool:
    """`new` is `old` declared again: same table, and spec and runtime classes of the same
    module and name (the objects differ once the module is imported again)."""
    return old.table == new.table and _named(old.spec) == _named(new.spec) \
        and _named(old.runtime) == _named(new.runtime)


def unregister(name: str) -> None:
    """Remove a kind (for tests and notebooks that register their own)."""
    REGISTRY.pop(name, None)


def kinds(table: str | None = None) -> tuple[Kind, ...]:
    """Registered kinds, in registration order, of one table or of all."""
    return tuple(k for k in REGISTRY.values() if table is None or k.table == table)


def kind_of(spec: BaseModel) -> Kind:
    """The kind of a spec instance (its exact class)."""
    for kind in REGISTRY.values():
        if type(spec) is kind.spec:
            return kind
    raise LookupError(f"no component kind is registered for {type(spec).__name__}")


def validate_spec(table: str, data: Any) -> Spec:
    """Validate one row of a table as the spec class of its kind (a spec passes through).

    Raises ValueError (for pydantic to report at the row) when the row names no known kind,
    and the kind's ValidationError for a bad field.
    """
    if isinstance(data, Spec) and any(isinstance(data, k.spec) for k in kinds(table)):
        return data
    if not isinstance(data, dict):
        raise ValueError("a mapping of attributes")
    candidates = kinds(table)
    field = DISCRIMINATORS.get(table)
    if field is not None:
        value = data.get(field)
        if value is None:
            value = next((k.default for k in candidates if k.default), None)
        if value is None:  # no kind given: report every field missing, the kind's included
            return candidates[0].spec.model_validate(data)
        chosen = [k for k in candidates if value in k.values]
        if not chosen:
            allowed = ", ".join(repr(v) for k in candidates for v in k.values)
            raise ValueError(f"{field} one of {allowed} (a kind of one's own: name the "
                             f"module that registers it with `cqsim --import`)")
        candidates = tuple(chosen)
    return candidates[0].spec.model_validate(data)


register(Kind("hub", "hubs", TerminalSpec, "sim.engine.hub:Hub"))
register(Kind("border", "hubs", BorderSpec, "sim.engine.hub:Border"))
register(Kind("zone", "hubs", ZoneSpec, "sim.engine.hub:Zone"))
register(Kind("lock", "locks", LockSpec, "sim.engine.lock:Lock"))
register(Kind("link", "links", LinkSpec, "sim.engine.links:Link"))
register(Kind("scheduled", "services", ScheduledService, "sim.engine.lines:ScheduledLine"))
register(Kind("continuous", "services", ContinuousService, "sim.engine.lines:ContinuousLine"))
register(Kind("background", "background", BackgroundTraffic,
              "sim.engine.background:Background"))
# the kinds cqsim ships: a kind registered after these (an extension's, `--import`) is an
# added kind, whose own tables the report shows in a section of their own
BUILT_IN: frozenset[str] = frozenset(REGISTRY)
