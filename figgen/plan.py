"""Planning a run, before any model loads: what each figure needs, and whether the catalogue can be drawn.

For every chosen figure, `make_plan` decides in one place

- its key: a hash of what decides its file (below); a figure whose
  provenance records the same key is up to date;
- what happens to it: drawn, up to date, placeholder, fallback drawing,
  kept (a rendering is there and nothing here can redo it) or skipped;
- which captures must run: those its drawing needs and the cache lacks.

Before that it checks every chosen figure: its renderer exists and accepts
the figure's parameters (`inspect.signature(...).bind`), and each capture
records every array the renderer reads (`@reads` in record.py against the
spec's `records()`). A catalogue mistake is therefore a CatalogueError that
names the figure and the key, raised before any GPU work.

A figure's key covers its captures' keys, its renderer and parameters, the
code of its renderer's module and of every figgen module that imports,
transitively (plus figgen/data), the versions of the libraries that code
imports, and, for figures drawn from mini-sd's records, those records.
Editing one renderer module re-keys only the figures it draws.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib
import inspect
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from . import models
from .cache import base_version, capture_file, capture_key, library_version, stable_hash
from .catalogue import CatalogueError, Figure, specs_of
from .models import ModelSource
from .outputs import read_provenance

PACKAGE = Path(__file__).parent

# What happens to a figure in this run.
DRAW = "draw"  # rendered now, from its captures (or from nothing)
CURRENT = "up to date"
PLACEHOLDER = "placeholder"  # no model: a card saying what will be here
FALLBACK = "fallback"  # no model: the figure's own stand-in drawing
KEPT = "kept"  # a rendering is there that this run cannot (or must not) redo
SKIPPED = "skipped"  # mini-sd's records are missing


@dataclass
class Planned:
    figure: Figure  # for a fallback, the stand-in figure that is drawn
    action: str
    key: str = ""
    capture_keys: list = field(default_factory=list)
    specs: list = field(default_factory=list)
    why: str = ""
    provenance: dict | None = None  # what the figure's file records now (None: no file, or none recorded)


@dataclass
class Plan:
    figures: list[Planned]
    to_capture: dict  # {capture key: spec} for captures not in the cache

    def where(self, action: str) -> list[Planned]:
        return [p for p in self.figures if p.action == action]


# -- keys ---------------------------------------------------------------------------------------------------


def _module_path(name: str) -> Path | None:
    """The file of figgen module `name` ('figgen.figures.denoise'), or None if it is not a figgen module."""
    parts = name.split(".")
    if parts[0] != "figgen":
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=None)
def module_closure(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(figgen files, top-level names of other imported modules) of module `name` and all it imports, transitively.

    Every import counts, also those inside functions: renderers import heavy
    libraries where they use them.
    """
    files: dict[str, Path] = {}
    others: set[str] = set()
    todo = [name, "figgen"]
    while todo:
        module = todo.pop()
        path = _module_path(module)
        if path is None or module in files:
            continue
        files[module] = path
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        todo += [package.rsplit(".", i)[0] for i in range(1, package.count(".") + 1)]  # parent packages run too
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] == "figgen":
                    todo += [target] + [f"{target}.{alias.name}" for alias in node.names]
                elif target:
                    others.add(target.split(".")[0])
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "figgen":
                        todo.append(alias.name)
                    else:
                        others.add(alias.name.split(".")[0])
    return tuple(str(p) for p in sorted(files.values())), tuple(sorted(others))


@lru_cache(maxsize=None)
def _distributions() -> dict:
    return metadata.packages_distributions()


@lru_cache(maxsize=None)
def _file_hash(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def data_files() -> list[Path]:
    return sorted(p for p in (PACKAGE / "data").glob("*") if p.is_file())


@lru_cache(maxsize=None)
def renderer_code(renderer: str) -> tuple[str, dict]:
    """(hash of the code and data a renderer draws on, {library: version} of what that code imports)."""
    module = f"figgen.figures.{renderer.split('.')[0]}"
    files, imported = module_closure(module)
    code = stable_hash([[Path(f).relative_to(PACKAGE).as_posix(), _file_hash(f)] for f in files]
                       + [[p.name, _file_hash(str(p))] for p in data_files()])
    libraries = {}
    for name in imported:
        if name in sys.stdlib_module_names:
            continue
        for distribution in _distributions().get(name, [name]):
            version = library_version(distribution)
            if version != "not installed":  # e.g. tomli, imported only on Python 3.10
                libraries[distribution.lower()] = base_version(version)
    return code, libraries


def mini_sd_records() -> list[Path]:
    """What figures that need "mini-sd" are drawn from: its training and quality records."""
    names = ("training.json", "quality.json")
    return [models.MINI_SD_FOLDER / name for name in names if (models.MINI_SD_FOLDER / name).is_file()]


def figure_key(figure: Figure, capture_keys: list[str]) -> str:
    """Everything that decides a figure's file (see the module's docstring)."""
    code, libraries = renderer_code(figure.renderer)
    if figure.needs == "mini-sd":
        code = stable_hash([code, [[p.name, _file_hash(str(p))] for p in mini_sd_records()]])
    return stable_hash(
        {"capture": capture_keys or None, "renderer": figure.renderer, "params": figure.params, "code": code,
         "versions": libraries}
    )


# -- checks -------------------------------------------------------------------------------------------------


def renderer_function(figure: Figure, renderer: str | None = None):
    """The renderer function a figure names, or a CatalogueError that names the figure and the fix."""
    renderer = renderer or figure.renderer
    module_name, function_name = renderer.split(".")
    where = f"figure '{figure.id}': renderer = \"{renderer}\""
    try:
        module = importlib.import_module(f"figgen.figures.{module_name}")
    except ModuleNotFoundError as error:
        if error.name != f"figgen.figures.{module_name}":
            raise
        known = sorted(p.stem for p in (PACKAGE / "figures").glob("*.py") if not p.stem.startswith("_"))
        raise CatalogueError(f"{where}: there is no module figgen/figures/{module_name}.py; modules: {', '.join(known)}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        known = sorted(n for n, f in vars(module).items() if inspect.isfunction(f) and f.__module__ == module.__name__
                       and not n.startswith("_"))
        raise CatalogueError(f"{where}: figgen/figures/{module_name}.py has no function '{function_name}'; "
                             f"it has: {', '.join(known)}")
    return function


def check_figure(figure: Figure, variant: str | None) -> None:
    """Raise a CatalogueError unless `figure` can be drawn as the catalogue says, checked without any model."""
    for renderer, params, drawn_from in (
        (figure.renderer, figure.params, specs_of(figure, variant)),
        (figure.fallback, figure.fallback_params, []),
    ):
        if not renderer:
            continue
        function = renderer_function(figure, renderer)
        stand_in = "capture" if figure.single and drawn_from else "captures" if drawn_from else None
        arguments = [stand_in] if stand_in else []
        try:
            inspect.signature(function).bind(*arguments, "destination", **params)
        except TypeError as error:
            raise CatalogueError(
                f"figure '{figure.id}': renderer {renderer}{inspect.signature(function)} cannot take "
                f"{'one capture' if stand_in == 'capture' else 'a list of captures' if stand_in else 'no capture'}, "
                f"a destination and params {params}: {error}. Fix [figures.params] (or the renderer) in the catalogue."
            ) from None
        wanted = getattr(function, "reads", frozenset())
        for spec in drawn_from:
            missing = sorted(wanted - spec.records())
            if missing:
                raise CatalogueError(
                    f"figure '{figure.id}': renderer {renderer} reads {', '.join(missing)}, which capture "
                    f"'{spec.name}' does not record with its settings ({spec.describe()}"
                    f"{', decode_steps = false' if getattr(spec, 'decode_steps', True) is False else ''}"
                    f"{', attention = false' if getattr(spec, 'attention', True) is False else ''}). "
                    "Change that capture's settings, or draw the figure from another capture."
                )


# -- the plan -----------------------------------------------------------------------------------------------


def is_current(provenance: dict | None, key: str) -> bool:
    """True when a figure's recorded provenance says it was drawn under `key`."""
    return provenance is not None and provenance.get("key") == key


def is_stand_in(provenance: dict | None) -> bool:
    return provenance is not None and bool(provenance.get("placeholder") or provenance.get("fallback"))


def drawn_by_sd14(provenance: dict | None) -> bool:
    """True when a figure's file was rendered from SD 1.4's own weights."""
    return bool(provenance) and provenance.get("model") == models.SD14_REPO and not is_stand_in(provenance)


def fallback_figure(figure: Figure) -> Figure:
    """The no-weights stand-in of `figure`, drawn like any figure that needs nothing."""
    return dataclasses.replace(
        figure, needs="nothing", renderer=figure.fallback, params=figure.fallback_params, captures=(), single=False
    )


def make_plan(figures_dir: Path, cache_dir: Path, figures: list[Figure], source: ModelSource | None,
              force: bool = False) -> Plan:
    """Decide what happens to each figure, checking each first; loads no model and writes nothing."""
    variant = source.variant if source else None
    for figure in figures:
        check_figure(figure, variant)
    records_there = (models.MINI_SD_FOLDER / "training.json").is_file()
    planned = []
    to_capture: dict = {}
    for figure in figures:
        output = figures_dir / figure.output
        provenance = read_provenance(output) if output.exists() else None
        if figure.needs == "mini-sd" and not records_there:
            planned.append(Planned(figure, SKIPPED, why=f"mini-sd's records are not in {models.MINI_SD_FOLDER}",
                                   provenance=provenance))
            continue
        if figure.needs == "weights" and source is None:
            if output.exists() and not is_stand_in(provenance):
                planned.append(Planned(figure, KEPT, why="rendered before; no model here to check it", provenance=provenance))
            elif figure.fallback:
                stand_in = fallback_figure(figure)
                key = figure_key(stand_in, [])
                action = CURRENT if is_current(provenance, key) and not force else FALLBACK
                planned.append(Planned(stand_in, action, key, provenance=provenance))
            else:
                planned.append(Planned(figure, PLACEHOLDER, provenance=provenance))
            continue
        if figure.needs == "weights" and source.kind == "mini" and drawn_by_sd14(provenance):
            planned.append(Planned(figure, KEPT, why="drawn by SD 1.4; mini-sd never replaces it", provenance=provenance))
            continue
        specs = specs_of(figure, variant)
        capture_keys = [capture_key(spec, source) for spec in specs]
        key = figure_key(figure, capture_keys)
        action = CURRENT if is_current(provenance, key) and not force else DRAW
        planned.append(Planned(figure, action, key, capture_keys, specs, provenance=provenance))
        if action == DRAW:
            for capture_key_value, spec in zip(capture_keys, specs):
                if not capture_file(cache_dir, capture_key_value).is_file():
                    to_capture[capture_key_value] = spec
    return Plan(planned, to_capture)
