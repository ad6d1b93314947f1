"""`figgen render` and `figgen list`: plan, capture what is missing, draw.

    plan     (plan.py) for each chosen figure: its key, whether it is up to
             date, a placeholder or a fallback, and which captures must run;
             every renderer and capture is checked here, before any model loads
    capture  load the captures the plan needs from the cache; run the missing
             ones (batched) through the pipeline and cache them
    draw     render each figure the plan marks, and write its provenance

Without weights, figures that need them get a placeholder (or their
fallback drawing, where the catalogue names one), unless a real rendering
is already there: a rendered figure is never replaced by a stand-in.
One run at a time works on a figures folder (see `exclusive`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import __version__, models
from .cache import capture_file, load_capture, remove_stale_captures, save_capture, stable_hash, versions
from .catalogue import Catalogue, Figure, specs_of
from .figures.placeholder import placeholder
from .models import HOW_TO_GET_SD14, ModelSource
from .outputs import provenance_path, read_provenance, remove_stale_temporaries, write_json
from .plan import (CURRENT, DRAW, FALLBACK, KEPT, PLACEHOLDER, SKIPPED, Plan, drawn_by_sd14, is_current, is_stand_in,
                   make_plan, renderer_function)
from .record import MissingArray

FIGURES_PACKAGE = Path(__file__).parent / "figures"


class FigureError(RuntimeError):
    """A figure could not be drawn; the message names the figure and where to fix it."""


class Busy(RuntimeError):
    """Another figgen run is working on the same figures folder."""


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


@contextlib.contextmanager
def exclusive(project: Project):
    """Hold a lock on the figures folder for the whole run, so that two renders never interleave.

    Atomic writes alone do not suffice: each run sweeps the temporary files a
    killed run left behind, and would delete a live run's. The lock is taken
    on the folder itself (no lock file is left in it) and the operating system
    releases it even when the process is killed.
    """
    project.figures_dir.mkdir(parents=True, exist_ok=True)
    folder = os.open(project.figures_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(
                f"another figgen run is rendering into {project.figures_dir}; wait for it to finish and run "
                "again (this one wrote nothing)"
            ) from None
        yield
    finally:
        os.close(folder)


def render_command(figure: Figure) -> str:
    return f"figgen render --only {figure.id}   (mini-sd; or --model sd14 for SD 1.4)"


def placeholder_about(figure: Figure) -> str:
    """What a placeholder card can say for certain: the runs the figure is drawn from."""
    runs = [spec.about() for spec in specs_of(figure)]
    return f"Figure '{figure.id}', drawn by {figure.renderer} from " + "; ".join(runs) + " (SD 1.4's settings)."


def source_hash(*files: Path) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def placeholder_key(figure: Figure) -> str:
    return stable_hash(
        {"about": placeholder_about(figure), "command": render_command(figure), "code": source_hash(FIGURES_PACKAGE / "placeholder.py")}
    )


def write_placeholder(project: Project, figure: Figure) -> bool:
    """Write (or refresh) the placeholder of `figure`; False if it was already current."""
    destination = project.output(figure)
    key = placeholder_key(figure)
    if destination.exists() and is_current(read_provenance(destination), key):
        return False
    info = placeholder(figure.id, placeholder_about(figure), destination)
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
                "captures": [
                    {
                        "capture": capture.meta["capture"],
                        "capture_key": capture_key_value,
                        "spec": capture.meta["spec"],
                        **{name: capture.meta[name] for name in ("scheduler", "unet_calls") if name in capture.meta},
                        "capture_seconds": capture.meta["capture_seconds"],
                    }
                    for capture, capture_key_value in zip(drawn_from, capture_keys)
                ],
            }
        )
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
    """Group {key: spec} into batches of runs that share a batch key (they differ only in prompt and seed)."""
    groups: dict = {}
    for key, spec in specs.items():
        groups.setdefault(spec.batch_key(), []).append((key, spec))
    return [members[i : i + BATCH_SIZE] for members in groups.values() for i in range(0, len(members), BATCH_SIZE)]


def capture_all(project: Project, specs: dict, source: ModelSource, device: str) -> dict:
    """Run the pipeline for every spec in `specs` ({capture key: spec}), batched, and cache the results."""
    device, dtype = models.pick_device(device)
    log(f"loading {source.name} (revision {source.revision[:12]}) on {device} in {dtype} ...")
    started = time.perf_counter()
    pipe = models.load_pipeline(source, device, dtype)
    log(f"loaded in {time.perf_counter() - started:.1f}s")
    captures = {}
    batches = capture_batches(specs)
    for number, batch in enumerate(batches, 1):
        names = ", ".join(f"'{spec.name}'" for _, spec in batch)
        first = batch[0][1]
        log(f"capture batch {number}/{len(batches)}: {names}: {first.describe()}")
        results = first.run(pipe, [spec for _, spec in batch], source, device, dtype)
        for (key, spec), capture in zip(batch, results):
            save_capture(capture_file(project.cache_dir, key), capture)
            captures[key] = capture
        log(f"batch {number} done in {results[0].meta['capture_seconds']:.1f}s ({len(results)} run(s) cached)")
    return captures


def load_captures(project: Project, plan: Plan, source: ModelSource | None) -> tuple[dict, dict]:
    """(captures found in the cache, {key: spec} still to run). A cache entry that cannot be read, or that
    another model recorded, is reported and run again."""
    found, missing = {}, dict(plan.to_capture)
    for planned in plan.where(DRAW):
        for key, spec in zip(planned.capture_keys, planned.specs):
            if key in found or key in missing:
                continue
            path = capture_file(project.cache_dir, key)
            try:
                capture = load_capture(path)
            except ValueError as error:
                log(f"warning: {error}; capturing '{spec.name}' again")
                missing[key] = spec
                continue
            if capture is None:  # removed since the plan looked
                missing[key] = spec
                continue
            if capture.meta.get("model") != source.name or capture.meta.get("revision") != source.revision:
                log(f"warning: cache entry {path} was recorded by {capture.meta.get('model')} (revision "
                    f"{str(capture.meta.get('revision'))[:12]}), not by {source.name}; capturing '{spec.name}' again")
                missing[key] = spec
                continue
            found[key] = capture
    return found, missing


def draw(project: Project, figure: Figure, drawn_from: list) -> dict:
    """Render one figure from its captures; returns the renderer's info."""
    destination = project.output(figure)
    function = renderer_function(figure)
    try:
        for capture in drawn_from:
            capture.require(*getattr(function, "reads", ()), figure=figure.id)
        if figure.single:
            return function(drawn_from[0], destination, **figure.params)
        if figure.captures:
            return function(drawn_from, destination, **figure.params)
        return function(destination, **figure.params)
    except (TypeError, ValueError, MissingArray) as error:
        raise FigureError(
            f"figure '{figure.id}' (renderer {figure.renderer}) failed: {error}. "
            f"Check its entry in {project.catalogue.path}; figures drawn before it are kept."
        ) from error


def write_figures(project: Project, plan: Plan, captures: dict) -> int:
    """Draw every figure the plan marks, and write its provenance. Returns how many."""
    todo = plan.where(DRAW) + plan.where(FALLBACK)
    for number, planned in enumerate(todo, 1):
        started = time.perf_counter()
        drawn_from = [captures[k] for k in planned.capture_keys]
        info = draw(project, planned.figure, drawn_from)
        seconds = time.perf_counter() - started
        record = provenance_for(planned.figure, planned.key, planned.capture_keys, drawn_from, info, seconds)
        if planned.action == FALLBACK:
            record["fallback"] = True
            record["render_with"] = render_command(planned.figure)
        destination = project.output(planned.figure)
        write_json(provenance_path(destination), record)
        log(f"[{number}/{len(todo)}] {planned.figure.id} -> {destination} ({seconds:.1f}s)")
    return len(todo)


def report(plan: Plan) -> None:
    """Say, before any work, what the plan keeps, skips and stands in for."""
    for action, what in ((SKIPPED, "skipped"), (KEPT, "kept")):
        planned = plan.where(action)
        reasons = sorted({p.why for p in planned})
        for reason in reasons:
            ids = [p.figure.id for p in planned if p.why == reason]
            log(f"{what} {len(ids)} figure(s) ({reason}): {', '.join(ids)}")


def render(project: Project, model: str | None, device: str, only: list[str] | None, force: bool) -> int:
    started = time.perf_counter()
    figures = project.catalogue.select(only)
    if device == "cuda":
        models.pick_device(device)  # refuse a missing GPU now, even when nothing turns out to need it
    source = models.resolve_model(model, project.cache_dir / "fingerprints.json")
    if source is not None:
        log(f"model: {source.name} (revision {source.revision[:12]})")
    with exclusive(project):
        for path in remove_stale_temporaries(project.figures_dir) + remove_stale_captures(project.cache_dir):
            log(f"removed {path}, left half-written by an interrupted run")
        plan = make_plan(project.figures_dir, project.cache_dir, figures, source, force)
        report(plan)
        if source is None and (plan.where(PLACEHOLDER) or plan.where(FALLBACK)):
            warn_no_weights([p.figure for p in plan.figures if p.action in (PLACEHOLDER, FALLBACK, KEPT)])
        drawing = plan.where(DRAW) + plan.where(FALLBACK)
        log(f"{len(plan.figures)} figure(s) checked: {len(drawing)} to draw, {len(plan.where(CURRENT))} up to date, "
            f"{len(plan.to_capture)} capture(s) to run")
        placeholders_written = 0
        for planned in plan.where(PLACEHOLDER):
            if write_placeholder(project, planned.figure):
                placeholders_written += 1
                log(f"placeholder written for '{planned.figure.id}': {project.output(planned.figure)}")
        captures, missing = load_captures(project, plan, source) if plan.where(DRAW) else ({}, {})
        if missing:
            captures.update(capture_all(project, missing, source, device))
        drawn = write_figures(project, plan, captures)
    log(
        f"done in {time.perf_counter() - started:.1f}s: {drawn} drawn, {len(plan.where(CURRENT))} up to date, "
        f"{placeholders_written} placeholder(s) written, {len(plan.where(KEPT))} rendered figure(s) kept"
    )
    return 0


def status(project: Project, planned, source: ModelSource | None) -> str:
    """One line on whether a planned figure is current, for `figgen list`."""
    provenance = planned.provenance
    if planned.action == SKIPPED:
        return f"skipped: {planned.why}"
    if not project.output(planned.figure).exists():
        return "missing"
    if provenance is None:
        return "no provenance (unknown origin)"
    if is_stand_in(provenance):
        kind = "placeholder" if provenance.get("placeholder") else "stand-in drawn without weights"
        return kind if source is None else f"{kind} (weights available: run figgen render)"
    if planned.action == KEPT and drawn_by_sd14(provenance) and source is not None:
        return "drawn by SD 1.4 (kept: mini-sd never replaces it)"
    if planned.action == KEPT:
        return f"rendered with {provenance.get('model')}; no weights here to check it"
    return "up to date" if planned.action == CURRENT else "out of date"


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
    plan = make_plan(project.figures_dir, project.cache_dir, project.catalogue.figures, source)
    rows = [("ID", "PART", "NEEDS", "STATUS", "FILE")]
    for figure, planned in zip(project.catalogue.figures, plan.figures):
        rows.append((figure.id, str(figure.part), figure.needs, status(project, planned, source), figure.output))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0
