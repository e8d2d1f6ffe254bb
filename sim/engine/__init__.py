"""The SimPy engine: runtime objects (state) built from a `Plan` (specs) for one replication.

When a compiled build of these very sources exists (`sim.native`), its modules are
found first; otherwise the plain Python ones run, with the same results."""

from sim import native as _native

__path__ = _native.search_path(__path__)

from sim.engine.model import Model, simulate  # noqa: E402  (after the search path is set)

__all__ = ["Model", "simulate"]
