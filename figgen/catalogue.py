"""The figure catalogue: every figure of the article, read from catalogue.toml.

The catalogue is data. Each `[captures.NAME]` table is one pipeline run
(prompt, seed, steps, ...); each `[[figures]]` entry is one output file, made
by a renderer from one capture (or from no capture at all, for figures that
need no weights). Chapters embed figures by id.

This module imports nothing heavy: the site build and `figgen list` read it.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
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


class UnknownFigure(CatalogueError, KeyError):
    """A figure id that the catalogue does not have."""

    def __str__(self) -> str:
        return self.args[0]


def _fields(spec) -> dict:
    """A spec's settings (every field but its name) as plain data; unset optional settings are left out."""
    record = {}
    for field_ in dataclasses.fields(spec):
        value = getattr(spec, field_.name)
        if field_.name != "name" and value is not None:
            record[field_.name] = list(value) if isinstance(value, tuple) else value
    return record


# The capture kinds. Each is a frozen dataclass whose fields are the settings
# the catalogue may give (declared once, here), with the same small interface:
#   kind              the name of its defaults table in [variants.NAME.KIND]
#   as_dict()         its settings, for keys and provenance
#   batch_key()       runs with equal batch keys share one pipeline call
#   records()         the arrays its capture holds (see record.py)
#   describe()/about()  one line for the log / for a placeholder card
#   check(where)      refuse impossible settings with a CatalogueError
#   run(pipe, specs, source, device, dtype)  the captures, one per spec
# A new kind is a new class here and one line in `kind_of`.


@dataclass(frozen=True)
class CaptureSpec:
    """One run of the Stable Diffusion pipeline: everything that decides what it produces."""

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

    kind = "pipeline"

    def as_dict(self) -> dict:
        return _fields(self)

    def batch_key(self) -> tuple:
        """Every setting except prompt and seed; a run that records attention runs on its own."""
        shared = tuple(sorted((k, v) for k, v in self.as_dict().items() if k not in ("prompt", "seed")))
        return (self.kind, shared, self.name if self.attention else None)

    def records(self) -> frozenset:
        arrays = {"timesteps", "alphas_cumprod_t", "latents", "noise_pred", "pred_original_sample", "prev_sample",
                  "final_latents", "input_ids", "prompt_embeds", "image"}
        if self.decode_steps:
            arrays |= {"decoded_latents", "decoded_pred_original_sample"}
        if self.guidance_scale > 1 or self.negative_prompt:
            arrays.add("negative_prompt_embeds")
        if self.attention:
            arrays.add("cross_attention")
        return frozenset(arrays)

    def describe(self) -> str:
        return f"{self.steps} steps, {self.scheduler}, seed {self.seed}"

    def about(self) -> str:
        prompt = f'the prompt "{self.prompt}"' if self.prompt else "the empty prompt"
        return f"{prompt}, seed {self.seed}, {self.steps} {self.scheduler.upper()} steps, guidance {self.guidance_scale:g}"

    def check(self, where: str) -> None:
        if self.scheduler not in SCHEDULERS:
            raise CatalogueError(f"{where}: scheduler '{self.scheduler}' is not one of {', '.join(SCHEDULERS)}")
        if self.steps < 1:
            raise CatalogueError(f"{where}: steps must be at least 1, got {self.steps}")
        for side in ("height", "width"):
            value = getattr(self, side)
            if value <= 0 or value % 8:
                raise CatalogueError(f"{where}: {side} must be a positive multiple of 8, got {value!r}")

    @staticmethod
    def run(pipe, specs, source, device: str, dtype: str) -> list:
        from .capture import run_captures

        return run_captures(pipe, list(specs), source, device, dtype)


@dataclass(frozen=True)
class PhotoSpec:
    """A real photo through SD's VAE: encoded, noised to chosen timesteps in latent space, decoded."""

    name: str
    photo: str
    seed: int
    timesteps: tuple[int, ...]
    # The photo's side in pixels; None means the model's own picture size (512 for SD 1.4).
    size: int | None = None

    kind = "photo"

    def as_dict(self) -> dict:
        return _fields(self)

    def batch_key(self) -> tuple:
        return (self.kind, self.name)  # each photo runs on its own

    def records(self) -> frozenset:
        return frozenset({"photo", "timesteps", "alphas_cumprod_t", "latents", "noise", "noisy_latents",
                          "decoded_noisy_latents", "decoded_latents"})

    def describe(self) -> str:
        return f"photo '{self.photo}' through the VAE, noised to {len(self.timesteps)} timesteps, seed {self.seed}"

    def about(self) -> str:
        return f"the photo '{self.photo}' through the VAE, noised to timesteps {', '.join(map(str, self.timesteps))}"

    def check(self, where: str) -> None:
        if not self.timesteps or not all(0 <= t < 1000 for t in self.timesteps):
            raise CatalogueError(f"{where}: timesteps must be whole numbers from 0 to 999, got {list(self.timesteps)!r}")
        if self.size is not None and (self.size <= 0 or self.size % 8):
            raise CatalogueError(f"{where}: size must be a positive multiple of 8, got {self.size!r}")

    @staticmethod
    def run(pipe, specs, source, device: str, dtype: str) -> list:
        from .capture import run_photo_capture

        return [run_photo_capture(pipe, spec, source, device, dtype) for spec in specs]


def kind_of(table: dict) -> type:
    """The capture kind a catalogue table describes."""
    return PhotoSpec if "photo" in table else CaptureSpec


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
    # The captures it is drawn from, in order: one, or several for figures that compare runs
    # (a guidance sweep, a grid of seeds); none for a figure that needs no weights.
    captures: tuple = ()
    # True when the catalogue names one `capture`: its renderer then takes that capture, not a list.
    single: bool = False
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
    return list(figure.captures)


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
        raise UnknownFigure(f"no figure '{figure_id}' in {self.path}; known figures: {known}")

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


def _fits(value, hint):
    """`value` converted to the type `hint` of a spec field, or None if it does not fit."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            if option is not type(None) and (fitted := _fits(value, option)) is not None:
                return fitted
        return None
    if typing.get_origin(hint) is tuple:
        (item, _) = typing.get_args(hint)
        if isinstance(value, list) and all(_fits(v, item) is not None for v in value):
            return tuple(value)
        return None
    if isinstance(value, bool):
        return value if hint is bool else None
    if hint is float and isinstance(value, (int, float)):
        return float(value)
    return value if isinstance(value, hint) else None


def _capture_spec(name: str, table: dict, where: str) -> CaptureSpec | PhotoSpec:
    """A capture table as its kind's spec: every field checked against its declared type."""
    kind = kind_of(table)
    hints = typing.get_type_hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind) if f.name != "name"}
    unknown = set(table) - set(fields) - set(VARIANTS)
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}; a {kind.kind} capture takes {sorted(fields)}")
    values = {}
    for field_name, field_ in fields.items():
        if field_name not in table:
            if field_.default is dataclasses.MISSING:
                raise CatalogueError(f"{where}: missing '{field_name}'")
            continue
        value = _fits(table[field_name], hints[field_name])
        if value is None:
            wanted = getattr(hints[field_name], "__name__", str(hints[field_name]))
            raise CatalogueError(f"{where}: '{field_name}' must be {wanted}, got {table[field_name]!r}")
        values[field_name] = value
    spec = kind(name=name, **values)
    spec.check(where)
    return spec


def _resolve_bases(raw: dict, path: Path) -> dict:
    """Every capture table with its `base` laid under it: a capture states only what differs from its base."""
    resolved: dict = {}

    def resolve(name: str, chain: tuple) -> dict:
        if name in resolved:
            return resolved[name]
        table = raw[name]
        where = f"{path} [captures.{name}]"
        if not isinstance(table, dict):
            raise CatalogueError(f"{where}: must be a table of settings")
        if "base" not in table:
            resolved[name] = table
            return table
        base = table["base"]
        if not isinstance(base, str) or base not in raw:
            raise CatalogueError(f"{where}: base {base!r} is not a capture; use one of {sorted(raw)}")
        if base in chain:
            raise CatalogueError(f"{where}: base '{base}' leads back to itself ({' -> '.join((*chain, name, base))})")
        parent = resolve(base, (*chain, name))
        merged = {**parent, **{k: v for k, v in table.items() if k != "base"}}
        for variant in VARIANTS:
            if isinstance(parent.get(variant), dict) and isinstance(table.get(variant), dict):
                merged[variant] = {**parent[variant], **table[variant]}
        resolved[name] = merged
        return merged

    return {name: resolve(name, ()) for name in raw}


FIGURE_KEYS = ("id", "part", "needs", "capture", "captures", "renderer", "output", "alt", "caption", "params",
               "fallback", "fallback_params")


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE) -> Catalogue:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"figure catalogue {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"{path} is not valid TOML: {error}") from None

    tables = _resolve_bases(data.get("captures", {}), path)
    captures = {name: _capture_spec(name, table, f"{path} [captures.{name}]") for name, table in tables.items()}
    variants = _variant_captures(data, tables, path)
    figures: list[Figure] = []
    for index, table in enumerate(data.get("figures", [])):
        where = f"{path} figure #{index + 1} ({table.get('id', 'no id')})"
        figure_id = _require(table, "id", str, where)
        unknown = set(table) - set(FIGURE_KEYS)
        if unknown:
            raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}; a figure takes {list(FIGURE_KEYS)}")
        if any(f.id == figure_id for f in figures):
            raise CatalogueError(f"{where}: the id '{figure_id}' is used twice")
        needs = _require(table, "needs", str, where)
        if needs not in NEEDS:
            raise CatalogueError(f"{where}: needs must be one of {', '.join(NEEDS)}, got '{needs}'")
        several = ()
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
                captures=several,
                single="capture" in table,
                params=dict(table.get("params", {})),
                fallback=fallback,
                fallback_params=dict(table.get("fallback_params", {})),
                variant_specs={
                    variant: tuple(specs[spec.name] for spec in several)
                    for variant, specs in variants.items()
                    if several
                },
            )
        )
    return Catalogue(path=path, captures=captures, figures=figures)


def _variant_captures(data: dict, tables: dict, path: Path) -> dict[str, dict]:
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
        kinds = sorted(k.kind for k in (CaptureSpec, PhotoSpec))
        bad = set(variant_defaults) - set(kinds)
        if bad:
            raise CatalogueError(f"{path} [variants.{variant}]: unknown keys {sorted(bad)}; allowed: {kinds}")
        specs = {}
        for name, table in tables.items():
            kind = kind_of(table).kind
            own = table.get(variant, {})
            if not isinstance(own, dict):
                raise CatalogueError(f"{path} [captures.{name}]: '{variant}' must be a table of settings for {variant}")
            merged = {k: v for k, v in table.items() if k not in VARIANTS}
            merged.update(variant_defaults.get(kind, {}))
            merged.update(own)
            specs[name] = _capture_spec(name, merged, f"{path} [captures.{name}] as run by {variant}")
        result[variant] = specs
    return result
