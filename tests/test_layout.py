"""The layout stays true: ``server/`` is a few top-level modules and one folder per step of the flow, and
imports run one way (docs/architecture.md). Imports are read with ``ast``, including those inside
functions, so a lazy import cannot slip a forbidden edge past the rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What each part of the code may import of ours (its own modules always). Anything not listed is refused.
ALLOWED: dict[str, set[str]] = {
    "server": set(),  # the package docstring only
    "loaders": set(),
    "server.store": set(),
    "server.assess": {"loaders", "server.store", "server.resources"},
    "server.ingest": {"loaders", "server.store", "server.resources"},
    "server.sparql": {"loaders", "server.store"},
    "server.bom": {"loaders", "server.store", "server.assess", "server.ingest", "server.resources"},
    "server.web": {"loaders", "server.store", "server.assess", "server.ingest", "server.sparql", "server.bom",
                   "server.resources"},
    "server.settings": {"loaders"},
    "server.resources": set(),
    # the top level assembles the wings: app (HTTP), serve (process), cli (commands)
    "server.app": {"loaders", "server.store", "server.sparql", "server.web", "server.settings"},
    "server.serve": {"loaders", "server.store", "server.assess", "server.ingest", "server.app", "server.settings"},
    "server.cli": {"loaders", "server.store", "server.assess", "server.ingest", "server.sparql", "server.web",
                   "server.bom", "server.serve", "server.settings"},
}
OURS = ("loaders", "server")
TOP_LEVEL_LIMIT = 8


def part_of(module: str) -> str | None:
    """The entry of ALLOWED a module belongs to: the longest listed prefix."""
    best = None
    for part in ALLOWED:
        if (module == part or module.startswith(part + ".")) and (best is None or len(part) > len(best)):
            best = part
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of ours in a file, ``from server import x`` read as ``server.x``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in OURS:
                found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, node.module))
    return [(line, m) for line, m in found if m.split(".")[0] in OURS]


def forbidden_imports(root: Path = ROOT) -> list[str]:
    """Every import that breaks the rule, as ``file:line: importer -> imported``."""
    problems = []
    for package in OURS:
        for path in sorted((root / package).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            importer = module_name(path) if root == ROOT else module_name(ROOT / path.relative_to(root))
            own = part_of(importer)
            if own is None:
                problems.append(f"{path}: {importer} belongs to no part of the layout (add it to ALLOWED)")
                continue
            for line, imported in imported_modules(path):
                target = part_of(imported)
                if target == own:
                    continue
                if target is None or target not in ALLOWED[own]:
                    problems.append(f"{path.relative_to(root)}:{line}: {importer} -> {imported}")
    return problems


def test_imports_run_one_way() -> None:
    problems = forbidden_imports()
    assert not problems, "imports against the layout (docs/architecture.md):\n" + "\n".join(problems)


@pytest.mark.parametrize(("file", "line"), [
    ("server/store/base.py", "from server.assess.run import assess_all"),
    ("server/assess/engine.py", "from server.web.pages import router"),
    ("server/ingest/loading.py", "from server.assess import definitions"),
    ("loaders/mot.py", "from server.resources import ontology_file"),
    ("server/sparql/endpoint.py", "    from server.web.query_page import render_query_page"),
])
def test_a_forbidden_import_is_caught(tmp_path: Path, file: str, line: str) -> None:
    """The check is not vacuous: adding one forbidden import to a copy of the tree fails it."""
    import shutil

    for package in OURS:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("node_modules"))
    assert forbidden_imports(tmp_path) == []
    target = tmp_path / file
    source = target.read_text(encoding="utf-8")
    if line.startswith(" "):  # inside a function: appended as one
        source += f"\n\ndef _added():\n{line}\n"
    else:
        source = line + "\n" + source
    target.write_text(source, encoding="utf-8")
    problems = forbidden_imports(tmp_path)
    assert len(problems) == 1 and file in problems[0], problems


def test_server_top_level_is_small_and_every_wing_says_what_it_owns() -> None:
    top = sorted(p.name for p in (ROOT / "server").glob("*.py"))
    assert len(top) <= TOP_LEVEL_LIMIT, top
    wings = sorted(p for p in (ROOT / "server").iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert {w.name for w in wings} >= {"store", "ingest", "assess", "sparql", "web"}
    for wing in wings:
        doc = ast.get_docstring(ast.parse((wing / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{wing}/__init__.py must say what the wing owns and may import"
