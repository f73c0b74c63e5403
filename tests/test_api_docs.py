"""docs/api.md stays true to the code.

Every entry of api.md is a backticked name in the first cell of a table row,
under a heading that names its module (``### `skphotoz.metrics` ``), or a
backticked ``skphotoz.a.b.name(...)`` anywhere in the text. The tests check
that each entry exists, that the parameter names it shows are those of
``inspect.signature`` in order (``...`` stands for any run of parameters),
that every public name of every module, every name of ``skphotoz.__all__``
and of each wing's ``__all__``, and every ``skphotoz`` command is documented.

The generated part of api.md (between the markers) is rebuilt from the code
by running this file::

    python tests/test_api_docs.py

which is what to do when a test here fails because a name was added, renamed
or given other parameters.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "skphotoz"
API_MD = ROOT / "docs" / "api.md"
BEGIN = "<!-- BEGIN GENERATED: python tests/test_api_docs.py -->"
END = "<!-- END GENERATED -->"

#: Wings first, in the order a reader meets them; then the top-level modules.
WING_ORDER = ("nn", "model_selection", "baselines", "catalogs", "reporting", "cli")
TOP_LEVEL_ORDER = ("validation", "metrics", "thresholding", "preprocessing", "datasets")


# ------------------------------------------------------------ the code
def _module_file(name):
    relative = Path(*name.split("."))
    package = ROOT / relative / "__init__.py"
    return package if package.exists() else (ROOT / relative).with_suffix(".py")


def _is_module(name):
    return name.split(".")[0] == "skphotoz" and _module_file(name).exists()


def _order_key(name, order):
    return (order.index(name) if name in order else len(order), name)


def all_modules():
    """Every skphotoz module, in the order of the generated page."""
    wings = sorted(
        (p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()),
        key=lambda n: _order_key(n, WING_ORDER),
    )
    names = ["skphotoz"]
    for wing in wings:
        names.append(f"skphotoz.{wing}")
        children = sorted(p.stem for p in (PACKAGE / wing).glob("*.py") if p.stem != "__init__")
        names += [f"skphotoz.{wing}.{child}" for child in children]
    top = sorted(
        (p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"),
        key=lambda n: _order_key(n, TOP_LEVEL_ORDER),
    )
    return names + [f"skphotoz.{name}" for name in top]


@functools.cache
def _tree(name):
    return ast.parse(_module_file(name).read_text())


def defined_names(name):
    """Public names a module defines itself (def, class, assignment), in source order."""
    names = []
    for node in _tree(name).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                elements = target.elts if isinstance(target, ast.Tuple) else [target]
                names += [e.id for e in elements if isinstance(e, ast.Name)]
    return [n for n in dict.fromkeys(names) if not n.startswith("_")]


def _is_command(obj):
    return "click" in sys.modules and isinstance(obj, sys.modules["click"].Command)


def resolve(module, qualname):
    """The object ``module.qualname`` names; AttributeError when there is none."""
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def parameter_names(obj, method=False):
    """Parameter names of a callable, in order, as ``inspect.signature`` gives them."""
    names = list(inspect.signature(obj).parameters)
    if method and names and names[0] in ("self", "cls"):
        names = names[1:]
    return names


# ------------------------------------------------------------- api.md
@dataclass
class Entry:
    module: str
    qualname: str
    params: list | None  # None: documented by name only
    line: int


_CODE_SPAN = re.compile(r"`([^`]+)`")
_MODULE_SPAN = re.compile(r"`(skphotoz(?:\.\w+)*)`")
_CALL = re.compile(r"^([A-Za-z_][\w.]*)\((.*)\)$", re.S)
_NAME = re.compile(r"^[A-Za-z_][\w.]*$")
_COMMAND = re.compile(r"^skphotoz ([\w-]+)$")


def _split_top_level(text):
    """Split ``text`` at the commas that are not inside brackets or quotes."""
    parts, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    return [p.strip() for p in [*parts, current] if p.strip()]


def documented_params(text):
    """Parameter names shown in a signature, with "..." as a wildcard; None if unreadable."""
    names = []
    for token in _split_top_level(text):
        if token in ("*", "/"):
            continue
        if token in ("...", "…"):
            names.append("...")
            continue
        match = re.match(r"\*{0,2}([A-Za-z_]\w*)\s*(=|$)", token)
        if match is None:
            return None
        names.append(match.group(1))
    return names


def _split_absolute(dotted):
    """("module", "qualname") of ``skphotoz.a.b.name``: the longest prefix that is a module."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        if _is_module(".".join(parts[:cut])):
            return ".".join(parts[:cut]), ".".join(parts[cut:])
    return None, dotted


def _table_cells(line):
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


def parse_api(text):
    """(entries, commands, problems) of api.md."""
    entries, commands, problems = [], [], []
    module = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            found = _MODULE_SPAN.search(line)
            module = found.group(1) if found else None
            continue
        spans = []
        if line.startswith("|") and module is not None:
            first = _table_cells(line)[0]
            if set(first) <= set("-: ") or first == "name":
                continue  # the header and its separator
            span = re.fullmatch(r"`([^`]+)`", first)
            if span is None:
                problems.append(f"api.md:{number}: first cell {first!r} is not one `name`")
                continue
            spans.append((module, span.group(1)))
        # Fully qualified calls anywhere, e.g. in prose.
        spans += [(None, s) for s in _CODE_SPAN.findall(line) if _CALL.match(s)]
        for context, span in spans:
            command = _COMMAND.match(span)
            if command:
                commands.append(command.group(1))
                continue
            call = _CALL.match(span)
            dotted = call.group(1) if call else span
            if context is None or dotted.startswith("skphotoz."):
                if not dotted.startswith("skphotoz."):
                    continue  # a relative name in prose: not an entry
                owner, qualname = _split_absolute(dotted)
            else:
                owner, qualname = context, dotted
            if not _NAME.match(dotted) or owner is None:
                problems.append(f"api.md:{number}: cannot read the entry `{span}`")
                continue
            params = None
            if call:
                params = documented_params(call.group(2))
                if params is None:
                    problems.append(f"api.md:{number}: cannot read the parameters of `{span}`")
                    continue
            entries.append(Entry(owner, qualname, params, number))
    return entries, commands, problems


@functools.cache
def _api():
    return parse_api(API_MD.read_text())


def _matches(pattern, actual):
    """Whether names ``actual`` fit ``pattern``, where "..." matches any run of names."""
    if not pattern:
        return not actual
    if pattern[0] == "...":
        return any(_matches(pattern[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == pattern[0] and _matches(pattern[1:], actual[1:])


# --------------------------------------------------------------- tests
def _report(what, offences):
    return f"{what} (regenerate: python tests/test_api_docs.py):\n" + "\n".join(offences)


def test_api_md_reads():
    entries, commands, problems = _api()
    assert not problems, "\n".join(problems)
    assert len(entries) > 100 and commands


def test_documented_names_exist():
    missing = []
    for entry in _api()[0]:
        try:
            resolve(entry.module, entry.qualname)
        except (AttributeError, ImportError):
            missing.append(f"api.md:{entry.line}: {entry.module}.{entry.qualname}")
    assert not missing, _report("documented but not in the code", missing)


def test_documented_parameters_match_the_signatures():
    wrong = []
    for entry in _api()[0]:
        if entry.params is None:
            continue
        try:
            obj = resolve(entry.module, entry.qualname)
        except (AttributeError, ImportError):
            continue  # reported by test_documented_names_exist
        actual = parameter_names(obj, method="." in entry.qualname)
        if not _matches(entry.params, actual):
            wrong.append(
                f"api.md:{entry.line}: {entry.qualname}({', '.join(entry.params)}) "
                f"but the code has ({', '.join(actual)})"
            )
    assert not wrong, _report("documented parameters differ from the code", wrong)


def _documented_keys():
    return {(e.module, e.qualname) for e in _api()[0]}


def test_every_public_name_of_every_module_is_documented():
    documented = _documented_keys()
    missing = []
    for module in all_modules():
        for name in defined_names(module):
            if _is_command(resolve(module, name)) and module != "skphotoz.cli":
                continue  # a command: test_every_command_is_documented
            if (module, name) not in documented:
                missing.append(f"{module}.{name}")
    assert not missing, _report("public but not in api.md", missing)


def _resolves_to(module, qualname, target):
    try:
        return resolve(module, qualname) is target
    except (AttributeError, ImportError):
        return False  # reported by test_documented_names_exist


def test_package_and_wing_exports_are_documented():
    documented = _documented_keys()
    missing = []
    packages = ["skphotoz", *(m for m in all_modules() if _module_file(m).name == "__init__.py")]
    for package in dict.fromkeys(packages):
        exported = getattr(importlib.import_module(package), "__all__", [])
        for name in exported:
            target = resolve(package, name)
            # Documented at the package itself or where it is defined inside it.
            found = any(
                (owner == package or owner.startswith(package + "."))
                and qualname == name
                and _resolves_to(owner, qualname, target)
                for owner, qualname in documented
            )
            if not found:
                missing.append(f"{package}.{name}")
    assert not missing, _report("exported but not in api.md", missing)


def test_every_command_is_documented():
    from skphotoz.cli import main

    assert sorted(_api()[1]) == sorted(main.commands)


# ----------------------------------------------------------- generator
class _Shown:
    """A default value as the page shows it."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        value = self.value
        if isinstance(value, float) and len(repr(value)) > 8:
            return f"{value:.4g}"
        if inspect.isfunction(value) or inspect.isclass(value):
            return value.__name__
        text = repr(value)
        return f"<{type(value).__name__}>" if " at 0x" in text else text


def render_signature(obj):
    """``inspect.signature`` without annotations, with short defaults."""
    signature = inspect.signature(obj)
    parameters = [
        p.replace(
            annotation=inspect.Parameter.empty,
            default=p.default if p.default is inspect.Parameter.empty else _Shown(p.default),
        )
        for p in signature.parameters.values()
    ]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


def _markdown(text):
    """reST roles and literals of a docstring line as Markdown."""
    # Sphinx shows ``~a.b.c`` as "c" and ``a.b.c`` in full.
    text = re.sub(
        r":\w+:`(~?)([^`]+)`",
        lambda m: f"`{m.group(2).split('.')[-1] if m.group(1) else m.group(2)}`",
        text,
    )
    text = text.replace("``", "`")
    return text.replace("|", "\\|")


def _first_paragraph(text):
    paragraph = []
    for line in (text or "").strip().splitlines():
        if not line.strip():
            break
        paragraph.append(line.strip())
    return " ".join(paragraph)


def _constant_note(module, name):
    """The ``#:`` comment above an assignment, to its first full stop."""
    lines = _module_file(module).read_text().splitlines()
    for node in _tree(module).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        names = {
            e.id
            for t in targets
            for e in (t.elts if isinstance(t, ast.Tuple) else [t])
            if isinstance(e, ast.Name)
        }
        if name in names:
            comment, index = [], node.lineno - 2
            while index >= 0 and lines[index].lstrip().startswith("#:"):
                comment.insert(0, lines[index].lstrip()[2:].strip())
                index -= 1
            return _first_sentence(" ".join(comment))
    return ""


_ABBREVIATIONS = {"al", "Sect", "Fig", "Figs", "Eq", "e.g", "i.e", "cf", "vs"}


def _first_sentence(text):
    for match in re.finditer(r"\.(\s+|$)", text):
        words = text[: match.start()].split()
        if not words or words[-1].lstrip("([") not in _ABBREVIATIONS:
            return text[: match.start() + 1]
    return text


def _row(module, name):
    obj = resolve(module, name)
    if _is_command(obj):
        return f"| `{name}` | {_markdown(_first_paragraph(obj.help))} |"
    if inspect.isclass(obj) or inspect.isfunction(obj):
        signature = render_signature(obj).replace("|", "\\|")
        return f"| `{name}{signature}` | {_markdown(_first_paragraph(obj.__doc__))} |"
    note = _constant_note(module, name)
    if not note:
        shown = repr(obj)
        note = f"`{shown}`" if len(shown) <= 60 else f"A {type(obj).__name__}."
    return f"| `{name}` | {_markdown(note)} |"


def _table(module, names):
    return ["", "| name | what it is |", "|---|---|", *(_row(module, n) for n in names)]


def generate():
    """The generated part of api.md, from the code."""
    import skphotoz
    from skphotoz.cli import main

    out = [
        "## `skphotoz`",
        "",
        "`from skphotoz import ...`; each is documented in full in its wing below.",
        "",
        "| name | defined in |",
        "|---|---|",
    ]
    for name in skphotoz.__all__:
        obj = getattr(skphotoz, name)
        home = getattr(obj, "__module__", "skphotoz") if callable(obj) else "skphotoz"
        out.append(f"| `{name}` | `{home}` |")
    top_level = False
    for module in all_modules()[1:]:
        is_package = _module_file(module).name == "__init__.py"
        if not is_package and module.count(".") == 1 and not top_level:
            top_level = True
            out += ["", "## Top-level modules"]
        if is_package:
            summary = _first_paragraph(importlib.import_module(module).__doc__)
            out += ["", f"## `{module}`", "", _markdown(summary)]
            exported = getattr(importlib.import_module(module), "__all__", [])
            if exported:
                names = ", ".join(f"`{n}`" for n in exported)
                out += ["", f"`from {module} import ...`: {names}."]
            own = [n for n in defined_names(module) if n not in exported]
            if module == "skphotoz.cli":
                out += ["", "| name | what it is |", "|---|---|"]
                out.append("| `main` | The click group behind the `skphotoz` command. |")
                out += [
                    f"| `skphotoz {n}` | {_markdown(_first_paragraph(c.help))} |"
                    for n, c in main.commands.items()
                ]
                own = [n for n in own if n != "main"]
            if own:
                out += _table(module, own)
            continue
        names = [n for n in defined_names(module) if not _is_command(resolve(module, n))]
        if not names:
            continue
        summary = _first_paragraph(importlib.import_module(module).__doc__)
        out += ["", f"### `{module}`", "", _markdown(summary), *_table(module, names)]
    return "\n".join(out) + "\n"


def write_api_md():
    text = API_MD.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    API_MD.write_text(f"{head}{BEGIN}\n\n{generate()}\n{END}{tail}")


if __name__ == "__main__":
    write_api_md()
    print(f"wrote {API_MD}")
