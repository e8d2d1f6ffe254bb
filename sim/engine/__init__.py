"""The SimPy engine: runtime objects (state) built from a `Plan` (specs) for one replication."""

from sim.engine.model import Model, simulate

__all__ = ["Model", "simulate"]
