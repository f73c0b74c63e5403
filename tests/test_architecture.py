"""The package's shape stays as docs/architecture.md describes it.

Each rule here is one of the house rules: modules import only their siblings'
public names, the import graph has no cycle, there is no module-level
``__getattr__`` re-export, and capabilities are not chosen by type checks.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skphotoz"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path):
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _imports(path, nodes=None):
    """(module, name or None, line) of every skphotoz import among ``nodes`` (default: all)."""
    package = _package_of(path)
    if nodes is None:
        nodes = ast.walk(ast.parse(path.read_text()))
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            if module.split(".")[0] == "skphotoz":
                for alias in node.names:
                    yield module, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "skphotoz":
                    yield alias.name, None, node.lineno


def test_no_private_names_cross_modules():
    offences = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name} from {module}"
        for path in SOURCES
        for module, name, line in _imports(path)
        if name is not None and name.startswith("_") and name != "__version__"
    ]
    assert offences == []


def test_no_module_level_getattr_shims():
    offences = []
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in ("__getattr__", "__dir__"):
                offences.append(str(path.relative_to(PACKAGE.parent)))
            if isinstance(node, ast.Assign):
                targets = [t for t in node.targets if isinstance(t, ast.Tuple)]
                names = {e.id for t in targets for e in t.elts if isinstance(e, ast.Name)}
                if "__getattr__" in names:
                    offences.append(str(path.relative_to(PACKAGE.parent)))
    assert offences == []


def test_capabilities_are_not_chosen_by_type():
    """No ``type(x) is``, ``type(x).__name__ ==`` or ``hasattr(x, "_private")`` checks."""
    offences = []
    for path in SOURCES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if "type(" in code and (") is " in code or ").__name__ ==" in code):
                offences.append(f"{path.name}:{number}: {line.strip()}")
            if "hasattr(" in code and ', "_' in code and ', "__' not in code:
                offences.append(f"{path.name}:{number}: {line.strip()}")
    assert offences == []


_ALL = {_module_name(p) for p in SOURCES}


def _module_level_graph():
    """Edges between skphotoz modules through imports executed at import time."""
    graph = {}
    for path in SOURCES:
        # Module level only: an import inside a function runs later, when
        # every module is loaded, so it cannot take part in an import cycle.
        body = ast.parse(path.read_text()).body
        edges = set()
        for module, imported, _ in _imports(path, body):
            target = f"{module}.{imported}" if imported else module
            edges.add(target if target in _ALL else module)
        graph[_module_name(path)] = {e for e in edges if e in _ALL}
    return graph


def test_no_import_cycle_between_modules():
    graph = _module_level_graph()
    # A package's __init__ importing its own submodules is how a package
    # exports names, not a cycle; only edges between different modules count.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


@pytest.mark.parametrize(
    "wing", ["nn", "model_selection", "baselines", "catalogs", "reporting", "cli"]
)
def test_every_wing_is_a_package(wing):
    assert (PACKAGE / wing / "__init__.py").exists()
