"""Comparisons (Parts 2, 4 and 5): the final pictures of several runs in one labelled grid.

One renderer serves the guidance-scale sweep, the steps comparison, the
schedulers side by side, the one-word swaps and the prompts x seeds grid:
each run's label is a template filled from that run's own settings, so the
labels can never disagree with what was run.
"""

from __future__ import annotations

from pathlib import Path

from ..record import Capture, reads
from .imaging import save_webp, tile_grid


FIT = 40  # characters of a prompt that fit under a tile


def label_for(template: str, capture: Capture, others: list[Capture] = ()) -> str:
    """`template` filled from the capture's settings, plus:

    prompt_end   the prompt's last three words;
    prompt_fit   the whole prompt if it fits under a tile, else its end;
    prompt_diff  the words of this prompt that not every other run's prompt has (what a swap changed).
    """
    spec = capture.meta["spec"]
    words = spec["prompt"].split()
    prompt_end = ("... " if len(words) > 3 else "") + " ".join(words[-3:]) if words else "(no prompt)"
    shared = set(words)
    for other in others:
        shared &= set(other.meta["spec"]["prompt"].split())
    different = [word for word in words if word not in shared]
    names = {
        **spec,
        "prompt_end": prompt_end,
        "prompt_fit": spec["prompt"] if 0 < len(spec["prompt"]) <= FIT else prompt_end,
        "prompt_diff": " ".join(different[:4]) or prompt_end,
        "scheduler_name": spec["scheduler"].upper(),
    }
    try:
        return template.format_map(names)
    except KeyError as error:
        raise ValueError(f"the label '{template}' names {{{error.args[0]}}}, which is not one of "
                         f"{', '.join('{' + name + '}' for name in sorted(names))}") from None


@reads("image")
def grid(
    captures: list[Capture],
    destination: Path,
    *,
    labels: list[str] | str,
    columns: int | None = None,
    sublabels: list[str] | str = "",
    tile_size: int = 256,
    quality: int = 90,
    lossless: bool = False,
) -> dict:
    """The final image of every capture, `columns` to a row, each with a label and an optional second line."""
    templates = [labels] * len(captures) if isinstance(labels, str) else list(labels)
    subtemplates = [sublabels] * len(captures) if isinstance(sublabels, str) else list(sublabels)
    if len(templates) != len(captures) or len(subtemplates) != len(captures):
        raise ValueError(f"{len(captures)} captures but {len(templates)} labels and {len(subtemplates)} sublabels")
    panels = [
        (label_for(template, capture, captures), label_for(subtemplate, capture, captures), capture.arrays["image"])
        for capture, template, subtemplate in zip(captures, templates, subtemplates)
    ]
    header = 50 if any(subtemplates) else 30
    canvas = tile_grid(panels, tile_size=tile_size, columns=columns, header=header)
    save_webp(destination, canvas, quality=quality, lossless=lossless)
    return {"width": canvas.width, "height": canvas.height, "labels": [title for title, _, _ in panels]}
