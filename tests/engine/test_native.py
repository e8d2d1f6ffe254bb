"""The compiled engine (`sim.native`): used only when built from these very sources, and its
results are the plain engine's to the byte."""

from __future__ import annotations

import ast
import gc
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from sim import native

ROOT = Path(__file__).resolve().parents[2]


def test_no_build_for_other_sources_is_used(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.ENV, str(tmp_path))
    stale = tmp_path / "0123456789abcdef01234567" / "sim" / "engine"
    stale.mkdir(parents=True)
    (stale / ".complete").write_text("an old key\n")
    assert native.built() is None
    assert native.search_path(["/the/sources"]) == ["/the/sources"]
    mine = tmp_path / native.key() / "sim" / "engine"
    mine.mkdir(parents=True)
    assert native.built() is None, "a build left unfinished is not used"
    (mine / ".complete").write_text(native.key() + "\n")
    assert native.search_path(["/the/sources"]) == [str(mine), "/the/sources"]


def test_off_runs_the_plain_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.ENV, "off")
    assert native.directory() is None and native.built() is None
    with pytest.raises(RuntimeError, match="off"):
        native.build()


def test_the_key_follows_the_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim import cache

    before = native.key()
    monkeypatch.setattr(cache, "code_version", lambda: "other sources")
    assert native.key() != before


def _run(out: Path, compiled: bool) -> str:
    env = {**os.environ, "CQSIM_CACHE_DIR": "off"}
    if not compiled:
        env[native.ENV] = "off"
    probe = ("import sim.engine.hub as h; print(h.__file__, flush=True); "
             "from sim.console import entry; entry('cqsim')")
    done = subprocess.run(
        [sys.executable, "-c", probe, "run", str(ROOT / "scenarios" / "baseline-2023.yaml"),
         "--days", "20", "--replications", "1", "--no-map", "--no-report", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()[0]


@pytest.mark.slow
def test_compiled_and_plain_engines_write_the_same_tables(tmp_path: Path) -> None:
    """baseline-2023 (feedback passes, market model, locks, borders) for 20 days both ways.

    It builds the engine when no build for these sources exists, and fails when mypyc refuses
    them: `make lint`'s mypy passes code mypyc cannot compile (dc7ef2a did, and every run
    fell back to the plain engine unnoticed), and a fallback is silent by design."""
    if native.directory() is None:
        pytest.skip(f"{native.ENV}=off: the compiled engine is turned off")
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): the plain engine runs")
    try:
        native.build()
    except RuntimeError as error:
        pytest.fail(str(error))
    compiled = _run(tmp_path / "compiled", compiled=True)
    plain = _run(tmp_path / "plain", compiled=False)
    assert compiled.endswith(".so") and plain.endswith(".py"), (compiled, plain)
    tables = sorted(p.name for p in (tmp_path / "plain").glob("*.csv"))
    assert len(tables) > 10
    differ = [name for name in tables
              if (tmp_path / "plain" / name).read_bytes()
              != (tmp_path / "compiled" / name).read_bytes()]
    assert not differ, f"tables differ between the compiled and the plain engine: {differ}"


def test_every_component_class_can_be_subclassed_in_plain_python() -> None:
    """A component kind of a user's own module subclasses the engine's classes; compiled,
    they allow it only when marked (docs/architecture.md)."""
    from sim.engine import component

    marked: dict[str, bool] = {}
    bases: dict[str, list[str]] = {}
    for name in native.COMPILED:
        tree = ast.parse((native.ENGINE / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
                marked[node.name] = any(
                    isinstance(d, ast.Call) and getattr(d.func, "id", "") == "mypyc_attr"
                    and any(k.arg == "allow_interpreted_subclasses" for k in d.keywords)
                    for d in node.decorator_list)

    def is_component(cls: str) -> bool:
        return cls == component.Component.__name__ or any(
            is_component(b) for b in bases.get(cls, []))

    components = [c for c in bases if is_component(c)]
    assert len(components) >= 8
    assert [c for c in components if not marked[c]] == []


def test_a_failed_build_is_one_line_and_the_command_succeeds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`make run` goes on with the plain engine when the engine cannot be compiled; the
    compiler's whole output is kept in a file the line names."""
    monkeypatch.setenv(native.ENV, str(tmp_path))
    monkeypatch.setattr(native, "COMPILED", ("no_such_module",))  # the build fails for real
    assert native.main([]) == 0
    err = capsys.readouterr().err
    assert err.startswith("compiled engine not built, the plain Python engine runs: mypyc")
    assert err.count("\n") == 1, err
    assert (tmp_path / "last-failure.log").read_text().strip()
    assert native.built() is None
    monkeypatch.setenv(native.ENV, "off")
    assert native.main(["--check"]) == 0
    assert capsys.readouterr().out.strip() == "compiled engine: none (plain Python)"


def _declared(node: ast.ClassDef) -> tuple[set[str], set[str]]:
    """(every attribute a class sets or declares, those it declares with a type): class-body
    annotations and `self.x = ...` / `self.x: T = ...` in its methods."""
    every: set[str] = set()
    typed: set[str] = set()
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            every.add(item.target.id)
            typed.add(item.target.id)
    for sub in ast.walk(node):
        targets: list[ast.expr] = []
        if isinstance(sub, ast.Assign):
            targets = list(sub.targets)
        elif isinstance(sub, ast.AnnAssign):
            targets = [sub.target]
        for t in targets:
            if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                    and t.value.id == "self"):
                every.add(t.attr)
                if isinstance(sub, ast.AnnAssign):
                    typed.add(t.attr)
    return every, typed


def test_no_engine_class_declares_an_attribute_of_its_base_again() -> None:
    """Compiled, a subclass that declared an attribute its base already has (`Border` had
    `spec: BorderSpec`) held it twice in mypyc's list of attributes, and the collector's
    traversal then visited the one reference twice: counted once too often, a live spec could
    be taken for garbage and have its fields cleared ("'BorderSpec' object has no attribute
    'id'", two fresh-clone suites in a row). An attribute is declared once, where it is set."""
    classes: dict[str, tuple[list[str], set[str], set[str]]] = {}
    for name in native.COMPILED:
        tree = ast.parse((native.ENGINE / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                every, typed = _declared(node)
                bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
                classes[node.name] = (bases, every, typed)

    def inherited(cls: str) -> set[str]:
        out: set[str] = set()
        for base in classes.get(cls, ([], set(), set()))[0]:
            if base in classes:
                out |= classes[base][1] | inherited(base)
        return out

    again = {cls: sorted(typed & inherited(cls)) for cls, (_, _, typed) in classes.items()
             if typed & inherited(cls)}
    assert again == {}
    assert "spec" in inherited("Border"), "the check reads the classes' attributes"


def test_the_collector_sees_each_reference_of_the_engine_once() -> None:
    """What the garbage collector's traversal visits of each engine object (compiled: mypyc's
    tp_traverse) is no more than what its attributes hold, in a built baseline-2023 model
    (hubs, borders, locks, lines, links and what they hold)."""
    from collections import Counter, deque

    from sim.engine import Model
    from sim.pipeline import prepare
    from sim.routing import choice_sets

    plan = prepare(ROOT / "scenarios" / "baseline-2023.yaml", replications=1, days=5)
    model = Model(plan, 0, tuple(choice_sets(plan)))
    seen: set[int] = set()
    todo: list[object] = [model]
    checked = 0
    while todo and checked < 50_000:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict | list | tuple | deque):
            todo.extend(obj.values() if isinstance(obj, dict) else obj)
            continue
        if not type(obj).__module__.startswith("sim.engine"):
            continue
        checked += 1
        names = set(getattr(type(obj), "__mypyc_attrs__", ())) | set(getattr(obj, "__dict__", {}))
        held = Counter(id(v) for n in names if (v := getattr(obj, n, None)) is not None)
        visited = Counter(id(r) for r in gc.get_referents(obj))
        over = {n for n in names if (v := getattr(obj, n, None)) is not None
                and visited[id(v)] > held[id(v)]}
        assert not over, f"{type(obj).__name__}: {sorted(over)} visited more than held"
        todo.extend(gc.get_referents(obj))
    assert checked > 100
