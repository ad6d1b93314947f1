"""`figgen render` and `figgen list`: decide what is out of date, capture what is missing, render.

The flow for one run:

1. pick the figures (all, or --only);
2. resolve the model (without loading it): SD 1.4 from the local cache,
   a folder, or none;
3. work out each figure's key from its capture key, renderer, parameters
   and renderer code; a figure whose provenance records the same key is up
   to date;
4. load the captures that out-of-date figures need from the cache; only if
   some are missing, load the pipeline and run them (then cache them);
5. render each out-of-date figure and write its provenance beside it.

Without weights, figures that need them get a placeholder (or their
fallback drawing, where the catalogue names one), unless a real rendering
is already there: a rendered figure is never replaced by a stand-in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import __version__, models
from .cache import base_version, capture_file, capture_key, load_capture, save_capture, stable_hash, versions
from .catalogue import Catalogue, Figure, PhotoSpec, specs_of
from .figures.placeholder import placeholder
from .models import HOW_TO_GET_SD14, ModelSource
from .outputs import provenance_path, read_provenance, remove_stale_temporaries, write_json

FIGURES_PACKAGE = Path(__file__).parent / "figures"


class FigureError(RuntimeError):
    """A renderer refused its parameters; the message names the figure and where to fix it."""


def log(message: str) -> None:
    print(f"figgen: {message}", file=sys.stderr, flush=True)


@dataclass
class Project:
    """Where things are: the catalogue, the figures folder and the cache folder."""

    catalogue: Catalogue
    figures_dir: Path
    cache_dir: Path

    def output(self, figure: Figure) -> Path:
        return self.figures_dir / figure.output


def render_command(figure: Figure) -> str:
    return f"figgen render --only {figure.id}   (mini-sd; or --model sd14 for SD 1.4)"


def placeholder_about(figure: Figure) -> str:
    """What a placeholder card can say for certain: the runs the figure is drawn from."""
    runs = []
    for spec in specs_of(figure):
        if isinstance(spec, PhotoSpec):
            runs.append(f"the photo '{spec.photo}' through the VAE, noised to timesteps {', '.join(map(str, spec.timesteps))}")
        else:
            prompt = f'the prompt "{spec.prompt}"' if spec.prompt else "the empty prompt"
            runs.append(f"{prompt}, seed {spec.seed}, {spec.steps} {spec.scheduler.upper()} steps, guidance {spec.guidance_scale:g}")
    return f"Figure '{figure.id}', drawn by {figure.renderer} from " + "; ".join(runs) + " (SD 1.4's settings)."


def renderer_function(figure: Figure):
    module_name, function_name = figure.renderer.split(".")
    module = importlib.import_module(f"figgen.figures.{module_name}")
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise ValueError(f"figure '{figure.id}': renderer '{figure.renderer}' does not exist in figgen/figures/") from None


def source_hash(*files: Path) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def renderer_code_files() -> list[Path]:
    """The code and data that renderers draw on: every figure module, SD 1.4's config, the data folder,
    mini-sd's picture world."""
    package = FIGURES_PACKAGE.parent
    return (
        sorted(FIGURES_PACKAGE.glob("*.py")) + [package / "sd14.py", package / "minisd" / "world.py"]
        + sorted((package / "data").glob("*"))
    )


def mini_sd_records() -> list[Path]:
    """What figures that need "mini-sd" are drawn from: its training and quality records."""
    names = ("training.json", "quality.json")
    return [models.MINI_SD_FOLDER / name for name in names if (models.MINI_SD_FOLDER / name).is_file()]


def figure_key(figure: Figure, capture_keys: list[str] | None, code: str, libraries: dict) -> str:
    """Everything that decides a figure's file: its captures, renderer code and data, parameters, libraries."""
    return stable_hash(
        {"capture": capture_keys, "renderer": figure.renderer, "params": figure.params, "code": code, "versions": libraries}
    )


def placeholder_key(figure: Figure) -> str:
    return stable_hash(
        {"about": placeholder_about(figure), "command": render_command(figure), "code": source_hash(FIGURES_PACKAGE / "placeholder.py")}
    )


def is_placeholder(project: Project, figure: Figure) -> bool:
    """True when the figure is missing or only a stand-in (placeholder or fallback) is there."""
    if not project.output(figure).exists():
        return True
    provenance = read_provenance(project.output(figure))
    # A file with no provenance is treated as a real rendering: never overwrite it with a stand-in.
    return provenance is not None and (provenance.get("placeholder", False) or provenance.get("fallback", False))


def drawn_by_sd14(project: Project, figure: Figure) -> bool:
    """True when the figure's file was rendered from SD 1.4's own weights."""
    provenance = read_provenance(project.output(figure)) or {}
    return provenance.get("model") == models.SD14_REPO and not provenance.get("placeholder") and not provenance.get("fallback")


def fallback_figure(figure: Figure) -> Figure:
    """The no-weights stand-in of `figure`, rendered like any figure that needs nothing."""
    return dataclasses.replace(
        figure, needs="nothing", renderer=figure.fallback, params=figure.fallback_params, capture=None, captures=()
    )


def keys_for(figures: list[Figure], source: ModelSource | None) -> dict[str, tuple[list[str], str]]:
    """For each figure id: (the keys of the captures it is drawn from, its own key)."""
    # Read the renderer code and library versions once for all figures, not once per figure.
    code = source_hash(*renderer_code_files())
    mini_code = stable_hash([code, source_hash(*mini_sd_records())])  # the code once, plus mini-sd's records
    libraries = {name: base_version(version) for name, version in versions().items()}
    keys = {}
    variant = source.variant if source else None
    for figure in figures:
        capture_keys = [capture_key(spec, source) for spec in specs_of(figure, variant)]
        figure_code = mini_code if figure.needs == "mini-sd" else code
        keys[figure.id] = (capture_keys, figure_key(figure, capture_keys or None, figure_code, libraries))
    return keys


def is_current(project: Project, figure: Figure, key: str) -> bool:
    provenance = read_provenance(project.output(figure))
    return project.output(figure).exists() and provenance is not None and provenance.get("key") == key


def write_placeholder(project: Project, figure: Figure) -> bool:
    """Write (or refresh) the placeholder of `figure`; False if it was already current."""
    destination = project.output(figure)
    key = placeholder_key(figure)
    if is_current(project, figure, key):
        return False
    info = placeholder(figure.id, placeholder_about(figure), render_command(figure), destination)
    write_json(
        provenance_path(destination),
        {
            "figure": figure.id,
            "file": destination.name,
            "placeholder": True,
            "key": key,
            "reason": "Neither Stable Diffusion 1.4 nor mini-sd was available to figgen when this file was written.",
            "render_with": render_command(figure),
            "figgen": __version__,
            **info,
        },
    )
    return True


def provenance_for(figure: Figure, key: str, capture_keys: list[str], drawn_from: list, info: dict, seconds: float) -> dict:
    record = {
        "figure": figure.id,
        "file": Path(figure.output).name,
        "placeholder": False,
        "key": key,
        "renderer": figure.renderer,
        "params": figure.params,
        "render_seconds": round(seconds, 3),
        "rendered_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "versions": {**versions(), "figgen": __version__, "python": platform.python_version()},
        **info,
    }
    if drawn_from:
        meta = drawn_from[0].meta  # every capture of one run of figgen comes from the same model
        record.update(
            {
                "model": meta["model"],
                "revision": meta["revision"],
                "device": meta["device"],
                "device_name": meta["device_name"],
                "dtype": meta["dtype"],
                "capture_versions": meta["versions"],
                **({"parameters": meta["parameters"]} if "parameters" in meta else {}),
            }
        )
    if len(drawn_from) == 1:
        meta = drawn_from[0].meta
        record.update(
            {
                "capture": meta["capture"],
                "capture_key": capture_keys[0],
                "spec": meta["spec"],
                **{name: meta[name] for name in ("scheduler", "scheduler_config", "unet_calls") if name in meta},
                "capture_seconds": meta["capture_seconds"],
            }
        )
    elif drawn_from:
        record["captures"] = [
            {
                "capture": capture.meta["capture"],
                "capture_key": capture_key_value,
                "spec": capture.meta["spec"],
                **{name: capture.meta[name] for name in ("scheduler", "unet_calls") if name in capture.meta},
                "capture_seconds": capture.meta["capture_seconds"],
            }
            for capture, capture_key_value in zip(drawn_from, capture_keys)
        ]
    return record


def warn_no_weights(figures: list[Figure]) -> None:
    ids = ", ".join(f.id for f in figures)
    log(
        f"warning: SD 1.4's weights ({models.SD14_REPO}) are not in the local Hugging Face cache "
        f"({models.hub_cache_dir()}) and mini-sd is not in {models.MINI_SD_FOLDER} (restore it with "
        f"`git checkout -- models/mini-sd`), so {len(figures)} figure(s) that need weights were skipped: {ids}. "
        "Figures that have no rendering yet get a placeholder; rendered ones are kept.\n"
        f"        {HOW_TO_GET_SD14}"
    )


BATCH_SIZE = 4  # runs per pipeline call when they share settings


def capture_batches(specs: dict) -> list[list[tuple[str, object]]]:
    """Group {key: spec} into batches: pipeline runs that differ only in prompt and seed go together."""
    from .capture import batch_key

    groups: dict = {}
    alone = []
    for key, spec in specs.items():
        if isinstance(spec, PhotoSpec) or spec.attention:
            alone.append([(key, spec)])
        else:
            groups.setdefault(batch_key(spec), []).append((key, spec))
    batches = [members[i : i + BATCH_SIZE] for members in groups.values() for i in range(0, len(members), BATCH_SIZE)]
    return alone + batches


def capture_all(project: Project, specs: dict, source: ModelSource, device: str) -> dict:
    """Run the pipeline for every spec in `specs` ({capture key: spec}), batched, and cache the results."""
    from .capture import run_captures, run_photo_capture

    device, dtype = models.pick_device(device)
    log(f"loading {source.name} (revision {source.revision[:12]}) on {device} in {dtype} ...")
    started = time.perf_counter()
    pipe = models.load_pipeline(source, device, dtype)
    log(f"loaded in {time.perf_counter() - started:.1f}s")
    captures = {}
    batches = capture_batches(specs)
    for number, batch in enumerate(batches, 1):
        names = ", ".join(f"'{spec.name}'" for _, spec in batch)
        log(f"capture batch {number}/{len(batches)}: {names}: {batch[0][1].describe()}")
        if isinstance(batch[0][1], PhotoSpec):
            results = [run_photo_capture(pipe, batch[0][1], source, device, dtype)]
        else:
            results = run_captures(pipe, [spec for _, spec in batch], source, device, dtype)
        for (key, spec), capture in zip(batch, results):
            save_capture(capture_file(project.cache_dir, key), capture)
            captures[key] = capture
        log(f"batch {number} done in {results[0].meta['capture_seconds']:.1f}s ({len(results)} run(s) cached)")
    return captures


def render(project: Project, model: str | None, device: str, only: list[str] | None, force: bool) -> int:
    started = time.perf_counter()
    figures = project.catalogue.select(only)
    for path in remove_stale_temporaries(project.figures_dir):
        log(f"removed {path}, left half-written by an interrupted run")
    source = models.resolve_model(model, project.cache_dir / "fingerprints.json")
    if source is not None:
        log(f"model: {source.name} (revision {source.revision[:12]})")

    if not (models.MINI_SD_FOLDER / "training.json").is_file():
        from_records = [f for f in figures if f.needs == "mini-sd"]
        if from_records:
            log(f"skipped {len(from_records)} figure(s) drawn from mini-sd's records, which are not in "
                f"{models.MINI_SD_FOLDER} (restore it with `git checkout -- models/mini-sd`): "
                + ", ".join(f.id for f in from_records))
            figures = [f for f in figures if f.needs != "mini-sd"]
    need_weights = [f for f in figures if f.needs == "weights"]
    placeholders_written = kept = 0
    fallbacks = []
    if source is not None and source.kind == "mini":
        # mini-sd stands in for SD 1.4; it never replaces a picture SD 1.4 drew.
        by_sd14 = [f for f in need_weights if drawn_by_sd14(project, f)]
        if by_sd14:
            log(f"keeping {len(by_sd14)} figure(s) drawn by SD 1.4; mini-sd never replaces them: "
                + ", ".join(f.id for f in by_sd14))
            kept += len(by_sd14)
            figures = [f for f in figures if f not in by_sd14]
    if source is None and need_weights:
        warn_no_weights(need_weights)
        for figure in need_weights:
            if not is_placeholder(project, figure):
                kept += 1
            elif figure.fallback:
                fallbacks.append(fallback_figure(figure))
            elif write_placeholder(project, figure):
                placeholders_written += 1
                log(f"placeholder written for '{figure.id}': {project.output(figure)}")
        figures = [f for f in figures if f.needs != "weights"] + fallbacks

    keys = keys_for(figures, source)
    todo = [f for f in figures if force or not is_current(project, f, keys[f.id][1])]
    log(f"{len(figures)} figure(s) to check, {len(todo)} to render, {len(figures) - len(todo)} up to date")

    captures: dict = {}
    missing: dict = {}
    for figure in todo:
        for key, spec in zip(keys[figure.id][0], specs_of(figure, source.variant if source else None)):
            if key in captures or key in missing:
                continue
            cached = load_capture(capture_file(project.cache_dir, key))
            if cached is not None:
                captures[key] = cached
            else:
                missing[key] = spec
    if missing:
        captures.update(capture_all(project, missing, source, device))

    for number, figure in enumerate(todo, 1):
        capture_keys, key = keys[figure.id]
        destination = project.output(figure)
        figure_started = time.perf_counter()
        drawn_from = [captures[k] for k in capture_keys]
        try:
            function = renderer_function(figure)
            if figure.captures:
                info = function(drawn_from, destination, **figure.params)
            elif figure.capture:
                info = function(drawn_from[0], destination, **figure.params)
            else:
                info = function(destination, **figure.params)
        except (TypeError, ValueError) as error:
            raise FigureError(
                f"figure '{figure.id}' (renderer {figure.renderer}) failed: {error}. "
                f"Check its entry in {project.catalogue.path}; figures rendered before it are kept."
            ) from error
        seconds = time.perf_counter() - figure_started
        record = provenance_for(figure, key, capture_keys, drawn_from, info, seconds)
        if figure in fallbacks:
            record["fallback"] = True
            record["render_with"] = render_command(figure)
        write_json(provenance_path(destination), record)
        log(f"[{number}/{len(todo)}] {figure.id} -> {destination} ({seconds:.1f}s)")

    log(
        f"done in {time.perf_counter() - started:.1f}s: {len(todo)} rendered, "
        f"{len(figures) - len(todo)} up to date, {placeholders_written} placeholder(s) written, "
        f"{kept} rendered figure(s) kept without checking"
    )
    return 0


def status(project: Project, figure: Figure, source: ModelSource | None) -> str:
    """One line on whether `figure` is current, for `figgen list`."""
    destination = project.output(figure)
    provenance = read_provenance(destination)
    if not destination.exists():
        return "missing"
    if provenance is None:
        return "no provenance (unknown origin)"
    if provenance.get("placeholder") or provenance.get("fallback"):
        kind = "placeholder" if provenance.get("placeholder") else "stand-in drawn without weights"
        return kind if source is None else f"{kind} (weights available: run figgen render)"
    if figure.needs == "weights" and source is None:
        return f"rendered with {provenance.get('model')}; no weights here to check it"
    if figure.needs == "weights" and source.kind == "mini" and drawn_by_sd14(project, figure):
        return "drawn by SD 1.4 (kept: mini-sd never replaces it)"
    key = keys_for([figure], source)[figure.id][1]
    return "up to date" if provenance.get("key") == key else "out of date"


def list_figures(project: Project, model: str | None) -> int:
    # Listing never downloads: sd14 counts only if it is already cached.
    memo = project.cache_dir / "fingerprints.json"
    if model == "sd14":
        source = models.cached_sd14()
    elif model is None or model == "mini":
        source = models.resolve_model(model, memo)
    else:
        source = models.local_folder(model, memo)
    print(f"model: {source.name + ' (revision ' + source.revision[:12] + ')' if source else 'none (neither SD 1.4 in the local cache nor mini-sd)'}")
    rows = [("ID", "PART", "NEEDS", "STATUS", "FILE")]
    for figure in project.catalogue.figures:
        rows.append((figure.id, str(figure.part), figure.needs, status(project, figure, source), figure.output))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0
