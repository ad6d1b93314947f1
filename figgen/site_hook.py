"""MkDocs hook: embeds catalogue figures in the chapters and turns formulas into MathML.

A line that reads exactly

    {{ figure denoise-renoise }}

becomes the figure's image with the catalogue's alt text and caption, and a
line under the caption that says which model drew the picture and how
(model, revision, prompt, scheduler, steps, seed, device), or that it is
still a placeholder, with a link to its provenance file. Indented by four
spaces, inside a "For the curious" box, it becomes the same figure inside the
box. All of it comes
from the provenance file beside the figure, so it cannot disagree with the
picture: the alt text and caption may name facts of the run ({model},
{prompt}, {seed}, ...), filled in from the same file. An unknown id, a
missing file or an unknown fact is a warning, which `mkdocs build --strict`
turns into a failure.

Formulas ($...$ and $$...$$, marked by pymdownx.arithmatex) become MathML
when the site is built, with latex2mathml. Every current browser draws
MathML itself, so pages load no maths script at all.
"""

from __future__ import annotations

import html
import logging
import os
import re
import textwrap
from pathlib import Path

from figgen.catalogue import load_catalogue, specs_of
from figgen.models import MINI_SD, SD14_REPO
from figgen.outputs import read_provenance

log = logging.getLogger("mkdocs.hooks.figgen")

# A figure line stands alone; indented by four spaces a level, it sits inside a box ("??? note ...").
FIGURE_LINE = re.compile(r"^((?:    )*)\{\{ figure ([A-Za-z0-9_-]+) \}\}[ \t]*$", re.MULTILINE)
# Anything else that looks like a figure line (odd indent, without spaces, misspelt) would ship as literal text.
ALMOST_FIGURE_LINE = re.compile(r"^.*\{\{\s*figure\b.*$", re.MULTILINE)
# What pymdownx.arithmatex (generic mode) writes for $...$ and $$...$$.
INLINE_MATH = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
DISPLAY_MATH = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)
MINI_SD_PAGE = "mini-sd.md"
ABOUT_PAGE = "about-figures.md#rendering-the-figures-yourself"

catalogue = None


def on_config(config):
    global catalogue
    catalogue = load_catalogue()
    return config


def mathml(latex: str, display: str, page) -> str:
    """One formula as MathML; a formula latex2mathml cannot read is a warning (a failure under --strict)."""
    from latex2mathml.converter import convert

    try:
        return convert(html.unescape(latex).strip(), display=display)
    except Exception as error:  # the converter raises several kinds; each means "fix this formula"
        log.warning(f"{page.file.src_uri}: the formula {latex!r} cannot be turned into MathML ({error})")
        return latex


def on_page_content(content, page, config, files):
    # A wide formula scrolls sideways (inside a box, even on a desktop): a keyboard must be able to reach it.
    content = DISPLAY_MATH.sub(
        lambda m: f'<div class="formula" tabindex="0" role="group" aria-label="formula">{mathml(m.group(1), "block", page)}</div>',
        content,
    )
    return INLINE_MATH.sub(lambda m: mathml(m.group(1), "inline", page), content)


def model_name(provenance: dict | None) -> str:
    """The model that drew a figure, as a reader should see it named."""
    model = (provenance or {}).get("model")
    if provenance is None or provenance.get("placeholder") or provenance.get("fallback") or model == SD14_REPO:
        return "Stable Diffusion 1.4"
    return model or "Stable Diffusion 1.4"


def first_spec(figure, provenance: dict | None) -> dict:
    """The settings of the (first) run a figure was drawn from, as recorded; the catalogue's own for a stand-in."""
    provenance = provenance or {}
    if provenance.get("captures"):
        return provenance["captures"][0]["spec"]
    specs = specs_of(figure)
    return specs[0].as_dict() if specs else {}


def facts(figure, provenance: dict | None) -> dict:
    """What an alt text or caption may name: the run's settings and the numbers the renderer recorded."""
    spec = first_spec(figure, provenance)
    size = spec.get("height") or spec.get("size") or (provenance or {}).get("photo_size") or 512
    known = {
        key: value
        for key, value in (provenance or {}).items()
        if isinstance(value, (str, int, float)) and not isinstance(value, bool)
    }
    known.update(
        model=model_name(provenance),
        prompt=spec.get("prompt", ""),
        seed=spec.get("seed", ""),
        steps=spec.get("steps", ""),
        guidance=f"{spec['guidance_scale']:g}" if "guidance_scale" in spec else "",
        size=size,
        latent_side=size // 8,
    )
    return known


def fill(text: str, figure, provenance: dict | None, page) -> str:
    """`text` with its {fact} names replaced; an unknown name is a warning (a failure under --strict)."""
    try:
        return text.format_map(facts(figure, provenance))
    except (KeyError, ValueError, IndexError) as error:
        log.warning(
            f"{page.file.src_uri}: figure '{figure.id}' names {error} in its alt text or caption, which its "
            f"provenance does not record; known names: {', '.join(sorted(facts(figure, provenance)))}"
        )
        return text


def run_settings(provenance: dict) -> str:
    runs = provenance.get("captures") or [{}]
    spec = runs[0].get("spec")
    if not spec or "prompt" not in spec:
        return ""
    scheduler = runs[0].get("scheduler", spec["scheduler"])
    scheduler = scheduler.removesuffix("Scheduler").upper() if scheduler.endswith("Scheduler") else scheduler
    prompt = f"prompt “{spec['prompt']}”" if spec["prompt"] else "empty prompt"
    several = " (first run shown)" if len(runs) > 1 else ""
    return (
        f"{prompt}{several}, {scheduler}, {spec['steps']} steps, guidance scale "
        f"{spec['guidance_scale']:g}, seed {spec['seed']}, {spec['width']} × {spec['height']} pixels"
    )


def describe(provenance: dict, provenance_link: str, mini_link: str = MINI_SD_PAGE, about_link: str = ABOUT_PAGE) -> str:
    """The provenance line shown under a figure's caption (for readers: no commands; those are on the About page)."""
    if provenance.get("placeholder"):
        return (
            "**Placeholder**: this figure has not been drawn yet, because neither Stable Diffusion 1.4 "
            f"nor mini-sd was at hand when the site was built ([how figures are made]({about_link})). "
            f"[Details]({provenance_link})"
        )
    if provenance.get("fallback"):
        return (
            "**Drawn without any model's weights**, which were not at hand when the site was built; "
            f"a version made by a real model replaces it ([how figures are made]({about_link})). "
            f"[Details]({provenance_link})"
        )
    if "model" not in provenance and str(provenance.get("renderer", "")).startswith("minisd."):
        return (
            f"Drawn by figgen from [mini-sd]({mini_link})'s own files (its picture world, its training and "
            f"quality records), not from a model run. [Provenance]({provenance_link})"
        )
    if "model" not in provenance and provenance.get("events"):
        return (
            "Drawn by figgen from the dates, papers and authors listed in its provenance file, each with its "
            f"source. [Provenance]({provenance_link})"
        )
    if "model" not in provenance:
        return (
            "Computed by figgen from Stable Diffusion 1.4's configuration, tokenizer and noise schedule; "
            f"no trained weights needed. [Provenance]({provenance_link})"
        )
    if provenance["model"] == MINI_SD:
        # Short: it sits under a dozen figures. The parameter count and device are in the provenance file.
        parts = [f"**Drawn by [mini-sd]({mini_link})**, this site's miniature, not by Stable Diffusion 1.4"]
    elif provenance["model"] == SD14_REPO:
        parts = [f"**Drawn by Stable Diffusion 1.4** (revision `{provenance['revision'][:12]}`)"]
    else:
        parts = [f"Generated by figgen from {provenance['model']} (revision `{provenance.get('revision', '')[:12]}`)"]
    settings = run_settings(provenance)
    if settings:
        parts.append(settings)
    if provenance.get("device") and provenance["model"] != MINI_SD:
        parts.append(f"{provenance['dtype']} on {provenance.get('device_name', provenance['device'])}")
    return "; ".join(parts) + f". [Provenance]({provenance_link})"


def viewer_attributes(figure, image: Path, link: str, provenance: dict, page) -> str:
    """For a figure whose renderer wrote every step's frames: where the step viewer finds their index
    (relative to the figure's picture) and whether it takes the picture's place or goes under it.

    docs/javascripts/step-viewer.js builds the viewer from it; without JavaScript the figure stays as drawn.
    """
    index = provenance.get("steps_index")
    if not index:
        return ""
    if not (image.parent / index).is_file():
        log.warning(
            f"{page.file.src_uri}: the step frames of {image.name} are missing ({image.parent / index}); "
            f"run `figgen render --force --only {figure.id}` to write them again"
        )
        return ""
    mode = provenance.get("viewer", "add")
    return f", data-steps: {index}, data-viewer: {mode}"


def figure_markdown(figure_id: str, page, config) -> str:
    figure = catalogue.by_id(figure_id)
    figures_dir = Path(config["docs_dir"]) / "figures"
    image = figures_dir / figure.output
    provenance = read_provenance(image)
    if not image.exists() or provenance is None:
        log.warning(
            f"{page.file.src_uri}: figure '{figure_id}' has no file (or no provenance) at {image}; "
            "run `figgen render` to write it (a placeholder if the weights are missing)"
        )
        return f"*Figure '{figure_id}' is missing: run `figgen render`.*"
    page_dir = Path(config["docs_dir"]) / os.path.dirname(page.file.src_uri)
    link = Path(os.path.relpath(image, page_dir)).as_posix()
    provenance_link = Path(link).with_suffix(".json").as_posix()
    alt = " ".join(fill(figure.alt, figure, provenance, page).split()).replace("[", "(").replace("]", ")")
    if provenance.get("placeholder"):
        alt = f"Placeholder card: the figure '{figure.id}' has not been rendered yet."
    mini_link = Path(os.path.relpath(Path(config["docs_dir"]) / MINI_SD_PAGE, page_dir)).as_posix()
    about_link = Path(os.path.relpath(Path(config["docs_dir"]) / ABOUT_PAGE, page_dir)).as_posix()
    size = ""
    if provenance.get("width") and provenance.get("height"):
        size = f' width="{provenance["width"]}" height="{provenance["height"]}"'
    return (
        f'![{alt}]({link}){{ loading=lazy{size} }}\n\n'
        f"/// caption\n    attrs: {{id: fig-{figure.id}, class: figgen-caption{viewer_attributes(figure, image, link, provenance, page)}}}\n\n"
        f"{fill(figure.caption, figure, provenance, page)}\n\n"
        f'<span class="figgen-provenance">{describe(provenance, provenance_link, mini_link, about_link)}</span>\n'
        "///\n"
    )


def on_page_markdown(markdown, page, config, files):
    def replace(match: re.Match) -> str:
        indent, figure_id = match.groups()
        try:
            markdown = figure_markdown(figure_id, page, config)
        except KeyError as error:
            log.warning(f"{page.file.src_uri}: {error.args[0]}")
            markdown = f"*Unknown figure '{figure_id}'.*"
        return textwrap.indent(markdown, indent)

    markdown = FIGURE_LINE.sub(replace, markdown)
    for match in ALMOST_FIGURE_LINE.finditer(markdown):
        log.warning(
            f"{page.file.src_uri}: '{match.group(0).strip()}' is not a figure line, so it would show as text; "
            "write `{{ figure ID }}` alone on its line, with one space inside each pair of braces, unindented "
            "(or four spaces in, inside a box)"
        )
    return markdown
