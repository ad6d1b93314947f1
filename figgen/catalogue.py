"""The figure catalogue: every figure of the article, read from catalogue.toml.

The catalogue is data. Each `[captures.NAME]` table is one pipeline run
(prompt, seed, steps, ...); each `[[figures]]` entry is one output file, made
by a renderer from one capture (or from no capture at all, for figures that
need no weights). Chapters embed figures by id.

This module imports nothing heavy: the site build and `figgen list` read it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_CATALOGUE = Path(__file__).with_name("catalogue.toml")

SCHEDULERS = ("ddim", "pndm")
NEEDS = ("weights", "nothing", "mini-sd")  # mini-sd: drawn from the records in models/mini-sd
# Models whose captures may differ from SD 1.4's own: mini-sd draws only its
# own little world, so it gets its own prompts and picture size.
VARIANTS = ("mini",)


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the entry and the fix."""


@dataclass(frozen=True)
class CaptureSpec:
    """Everything that decides what one pipeline run produces."""

    name: str
    prompt: str
    seed: int
    steps: int
    guidance_scale: float
    scheduler: str
    height: int = 512
    width: int = 512
    negative_prompt: str = ""
    # Decode x_t and x0 of every step (for sequences), or only the final latent (for comparisons).
    decode_steps: bool = True
    # Record where each token's cross-attention falls, averaged over heads, layers and steps.
    attention: bool = False

    def describe(self) -> str:
        return f"{self.steps} steps, {self.scheduler}, seed {self.seed}"

    def as_dict(self) -> dict:
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seed": self.seed,
            "steps": self.steps,
            "guidance_scale": self.guidance_scale,
            "scheduler": self.scheduler,
            "height": self.height,
            "width": self.width,
            "decode_steps": self.decode_steps,
            "attention": self.attention,
        }


@dataclass(frozen=True)
class PhotoSpec:
    """A real photo through SD's VAE: encoded, noised to chosen timesteps in latent space, decoded."""

    name: str
    photo: str
    seed: int
    timesteps: tuple[int, ...]
    # The photo's side in pixels; None means the model's own picture size (512 for SD 1.4).
    size: int | None = None

    def as_dict(self) -> dict:
        record = {"photo": self.photo, "seed": self.seed, "timesteps": list(self.timesteps)}
        if self.size is not None:
            record["size"] = self.size
        return record

    def describe(self) -> str:
        return f"photo '{self.photo}' through the VAE, noised to {len(self.timesteps)} timesteps, seed {self.seed}"


@dataclass(frozen=True)
class Figure:
    """One file of the article: what makes it, where it goes, how it is described."""

    id: str
    part: int
    needs: str
    renderer: str
    output: str
    alt: str
    caption: str
    capture: CaptureSpec | PhotoSpec | None = None
    # Figures that compare runs (a guidance sweep, a grid of seeds) name several captures instead.
    captures: tuple = ()
    params: dict = field(default_factory=dict)
    # Drawn instead of a placeholder while the weights are missing (needs no weights itself).
    fallback: str | None = None
    fallback_params: dict = field(default_factory=dict)
    # The same captures as a model variant runs them: {"mini": (spec, ...)}.
    variant_specs: dict = field(default_factory=dict, compare=False)


def specs_of(figure: Figure, variant: str | None = None) -> list:
    """Every capture a figure is drawn from, in order (none for a figure that needs no weights).

    `variant` "mini" gives the captures as mini-sd runs them: its own prompts and size.
    """
    if variant is not None and variant in figure.variant_specs:
        return list(figure.variant_specs[variant])
    return [figure.capture] if figure.capture else list(figure.captures)


@dataclass(frozen=True)
class Catalogue:
    path: Path
    captures: dict[str, CaptureSpec]
    figures: list[Figure]

    def by_id(self, figure_id: str) -> Figure:
        for figure in self.figures:
            if figure.id == figure_id:
                return figure
        known = ", ".join(f.id for f in self.figures)
        raise KeyError(f"no figure '{figure_id}' in {self.path}; known figures: {known}")

    def select(self, ids: list[str] | None) -> list[Figure]:
        """The figures named by `ids` (all of them when `ids` is empty), in catalogue order."""
        if not ids:
            return list(self.figures)
        for figure_id in ids:
            self.by_id(figure_id)  # raises with the list of known ids
        return [f for f in self.figures if f.id in ids]


def _require(table: dict, key: str, kind: type | tuple, where: str):
    if key not in table:
        raise CatalogueError(f"{where}: missing '{key}'")
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise CatalogueError(f"{where}: '{key}' must be {names}, got {value!r}")
    return value


def _photo_spec(name: str, table: dict, where: str) -> PhotoSpec:
    known = set(PhotoSpec.__dataclass_fields__) - {"name"}
    unknown = set(table) - known - set(VARIANTS)
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}; allowed for a photo capture: {sorted(known)}")
    timesteps = _require(table, "timesteps", list, where)
    if not timesteps or not all(isinstance(t, int) and 0 <= t < 1000 for t in timesteps):
        raise CatalogueError(f"{where}: timesteps must be whole numbers from 0 to 999, got {timesteps!r}")
    size = table.get("size")
    if size is not None and (not isinstance(size, int) or size <= 0 or size % 8):
        raise CatalogueError(f"{where}: size must be a positive multiple of 8, got {size!r}")
    return PhotoSpec(
        name=name,
        photo=_require(table, "photo", str, where),
        seed=_require(table, "seed", int, where),
        timesteps=tuple(timesteps),
        size=size,
    )


def _capture_spec(name: str, table: dict, where: str) -> CaptureSpec | PhotoSpec:
    if "photo" in table:
        return _photo_spec(name, table, where)
    known = set(CaptureSpec.__dataclass_fields__) - {"name"}
    unknown = set(table) - known - set(VARIANTS)
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(known | set(VARIANTS))}")
    scheduler = _require(table, "scheduler", str, where)
    if scheduler not in SCHEDULERS:
        raise CatalogueError(f"{where}: scheduler '{scheduler}' is not one of {', '.join(SCHEDULERS)}")
    spec = CaptureSpec(
        name=name,
        prompt=_require(table, "prompt", str, where),
        seed=_require(table, "seed", int, where),
        steps=_require(table, "steps", int, where),
        guidance_scale=float(_require(table, "guidance_scale", (int, float), where)),
        scheduler=scheduler,
        height=table.get("height", 512),
        width=table.get("width", 512),
        negative_prompt=table.get("negative_prompt", ""),
        decode_steps=table.get("decode_steps", True),
        attention=table.get("attention", False),
    )
    if spec.steps < 1:
        raise CatalogueError(f"{where}: steps must be at least 1, got {spec.steps}")
    for side in ("height", "width"):
        value = getattr(spec, side)
        if not isinstance(value, int) or value <= 0 or value % 8:
            raise CatalogueError(f"{where}: {side} must be a positive multiple of 8, got {value!r}")
    return spec


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE) -> Catalogue:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"figure catalogue {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"{path} is not valid TOML: {error}") from None

    captures = {
        name: _capture_spec(name, table, f"{path} [captures.{name}]")
        for name, table in data.get("captures", {}).items()
    }
    variants = _variant_captures(data, path)
    figures: list[Figure] = []
    for index, table in enumerate(data.get("figures", [])):
        where = f"{path} figure #{index + 1} ({table.get('id', 'no id')})"
        figure_id = _require(table, "id", str, where)
        if any(f.id == figure_id for f in figures):
            raise CatalogueError(f"{where}: the id '{figure_id}' is used twice")
        needs = _require(table, "needs", str, where)
        if needs not in NEEDS:
            raise CatalogueError(f"{where}: needs must be one of {', '.join(NEEDS)}, got '{needs}'")
        capture, several = None, ()
        if needs == "weights":
            if ("capture" in table) == ("captures" in table):
                raise CatalogueError(f"{where}: a figure that needs weights names either 'capture' or 'captures'")
            names = [_require(table, "capture", str, where)] if "capture" in table else _require(table, "captures", list, where)
            for capture_name in names:
                if capture_name not in captures:
                    raise CatalogueError(
                        f"{where}: capture '{capture_name}' is not defined; "
                        f"add a [captures.{capture_name}] table or use one of {sorted(captures)}"
                    )
            if "capture" in table:
                capture = captures[names[0]]
            else:
                several = tuple(captures[name] for name in names)
        output = _require(table, "output", str, where)
        if output.startswith("/") or ".." in Path(output).parts:
            raise CatalogueError(f"{where}: output '{output}' must be a path inside the figures folder")
        renderer = _require(table, "renderer", str, where)
        fallback = table.get("fallback")
        for name in filter(None, (renderer, fallback)):
            if not isinstance(name, str) or name.count(".") != 1:
                raise CatalogueError(f"{where}: renderer '{name}' must read 'module.function'")
        if fallback and needs != "weights":
            raise CatalogueError(f"{where}: only a figure that needs weights can have a fallback")
        figures.append(
            Figure(
                id=figure_id,
                part=_require(table, "part", int, where),
                needs=needs,
                renderer=renderer,
                output=output,
                alt=_require(table, "alt", str, where).strip(),
                caption=_require(table, "caption", str, where).strip(),
                capture=capture,
                captures=several,
                params=dict(table.get("params", {})),
                fallback=fallback,
                fallback_params=dict(table.get("fallback_params", {})),
                variant_specs={
                    variant: tuple(specs[spec.name] for spec in ([capture] if capture else several))
                    for variant, specs in variants.items()
                    if capture or several
                },
            )
        )
    return Catalogue(path=path, captures=captures, figures=figures)


def _variant_captures(data: dict, path: Path) -> dict[str, dict]:
    """Every capture as each variant runs it: {"mini": {name: spec}}.

    A variant's spec is the capture's own table, with the catalogue-wide
    defaults of `[variants.NAME]` and then the capture's own `NAME`
    sub-table laid over it. `[variants.NAME]` holds `pipeline` and `photo`
    sub-tables, for the two kinds of capture.
    """
    defaults = data.get("variants", {})
    unknown = set(defaults) - set(VARIANTS)
    if unknown:
        raise CatalogueError(f"{path} [variants]: unknown variants {sorted(unknown)}; known: {list(VARIANTS)}")
    result = {}
    for variant in VARIANTS:
        variant_defaults = defaults.get(variant, {})
        bad = set(variant_defaults) - {"pipeline", "photo"}
        if bad:
            raise CatalogueError(f"{path} [variants.{variant}]: unknown keys {sorted(bad)}; allowed: ['photo', 'pipeline']")
        specs = {}
        for name, table in data.get("captures", {}).items():
            kind = "photo" if "photo" in table else "pipeline"
            own = table.get(variant, {})
            if not isinstance(own, dict):
                raise CatalogueError(f"{path} [captures.{name}]: '{variant}' must be a table of settings for {variant}")
            merged = {k: v for k, v in table.items() if k not in VARIANTS}
            merged.update(variant_defaults.get(kind, {}))
            merged.update(own)
            specs[name] = _capture_spec(name, merged, f"{path} [captures.{name}] as run by {variant}")
        result[variant] = specs
    return result
