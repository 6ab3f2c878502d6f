"""The layout shows the pipeline: no import cycles (module-level imports), and no claim imports
another claim (shared things live in claims/presets.py, setups.py, real_data.py)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "greedlab"
SHARED = {"common", "context", "presets", "setups", "real_data", "overrides", "__init__",
          "h3_pairs"}  # h3_pairs: H3's class pairs, no claim of its own


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    mods = {_module(p): p for p in ROOT.rglob("*.py")}
    graph = {m: set() for m in mods}
    for m, p in mods.items():
        for node in ast.parse(p.read_text()).body:  # module level only: a lazy import inside a function is deliberate
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for n in names:
                if n in mods and n != m:
                    graph[m].add(n)
    return graph


def test_no_import_cycles():
    graph, state, cycles = _graph(), {}, []

    def visit(m, stack):
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n, stack + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles[:5]


def test_no_claim_imports_another_claim():
    graph = _graph()
    claims = {m for m in graph if m.startswith("greedlab.claims.") and m.split(".")[-1] not in SHARED}
    bad = {m: sorted(graph[m] & claims) for m in claims if graph[m] & claims}
    assert not bad, bad


def test_pipeline_packages():
    """The stages that are more than one module are packages (issue: sweep/, bench/, pragmascope/)."""
    for pkg in ("worlds", "models", "instruments", "claims", "report", "sweep", "bench", "pragmascope"):
        assert (ROOT / pkg / "__init__.py").is_file(), pkg
    for old in ("sweep", "grid", "chunks", "engines", "bench", "bench_suite", "pragmascope", "pragmascope_regularizer"):
        assert not (ROOT / f"{old}.py").exists(), old
