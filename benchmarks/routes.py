"""Route choice sets: igraph's Yen algorithm (what cqsim runs) against networkx's, side by side.

    python -m benchmarks.routes                          # every scenario in scenarios/
    python -m benchmarks.routes --scenario scenarios/baseline-2023.yaml --rounds 3

For each scenario, in this process, with the cache off: CPU of `sim.routing._choice_sets`
as it is, then with its path search replaced by networkx's `shortest_simple_paths` on the
same graphs (what it ran until 2026-12-02), alternating for `--rounds` rounds and keeping
each one's least. Both must give the very same choice sets (exit 1 otherwise): the ratio is
the saving, at equal routes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Hashable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def networkx_paths() -> Callable[..., Iterator[list[Hashable]]]:
    """A stand-in for `_Search.paths` by networkx: the cheapest simple paths of the same
    graph, found one at a time (each search's graph built once, on its first use)."""
    import networkx as nx

    graphs: dict[int, tuple[Any, nx.DiGraph]] = {}   # id -> (the search, its graph)

    def paths(search: Any, origin: str, destination: str,
              limit: int) -> Iterator[list[Hashable]]:
        known = graphs.get(id(search))
        if known is None:
            graph = nx.DiGraph()
            graph.add_nodes_from(search.nodes)
            for (u, v), w in zip(search.edges, search.weights, strict=True):
                graph.add_edge(search.nodes[u], search.nodes[v], w=w)
            known = graphs[id(search)] = (search, graph)
        graph = known[1]
        if origin not in graph or destination not in graph:
            return
        try:
            yield from islice(nx.shortest_simple_paths(graph, origin, destination, weight="w"),
                              limit)
        except nx.NetworkXNoPath:
            return

    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append",
                        help="a scenario file (again for more); default every one shipped")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    os.environ["CQSIM_CACHE_DIR"] = "off"
    from sim import routing
    from sim.pipeline import prepare

    files = args.scenario or sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
    own = routing._Search.paths

    def timed(plan: object, search: object) -> tuple[float, object]:
        routing._Search.paths = search  # type: ignore[method-assign,assignment]
        start = time.process_time()
        sets = routing._choice_sets(plan)  # type: ignore[arg-type]
        return time.process_time() - start, sets

    total_ig = total_nx = 0.0
    differ = []
    print(f"{'scenario':34s} {'igraph s':>9s} {'networkx s':>11s} {'ratio':>6s}  "
          f"load {os.getloadavg()[0]:.1f}")
    for file in files:
        plan = prepare(file, replications=1)
        best_ig = best_nx = float("inf")
        for _ in range(args.rounds):
            t_ig, sets_ig = timed(plan, own)
            t_nx, sets_nx = timed(plan, networkx_paths())
            best_ig, best_nx = min(best_ig, t_ig), min(best_nx, t_nx)
            if sets_ig != sets_nx:
                differ.append(Path(file).stem)
        routing._Search.paths = own  # type: ignore[method-assign]
        total_ig += best_ig
        total_nx += best_nx
        print(f"{Path(file).stem:34s} {best_ig:9.2f} {best_nx:11.2f} {best_nx / best_ig:5.1f}x")
    print(f"{'all':34s} {total_ig:9.2f} {total_nx:11.2f} {total_nx / total_ig:5.1f}x")
    if differ:
        print("choice sets differ:", ", ".join(sorted(set(differ))))
        return 1
    print("the same choice sets with both")
    return 0


if __name__ == "__main__":
    sys.exit(main())
