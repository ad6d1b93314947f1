"""Comparisons (Parts 2, 4 and 5): the final pictures of several runs in one labelled grid.

One renderer serves the guidance-scale sweep, the steps comparison, the
schedulers side by side, the one-word swaps and the prompts x seeds grid:
each run's label is a template filled from that run's own settings, so the
labels can never disagree with what was run.
"""

from __future__ import annotations

from pathlib import Path

from ..record import Capture, reads
from .imaging import font, font_size, grid_width, save_webp, text_width, tile_grid

FONTS = (15, 13)  # px as shown in the site's text column: labels, second lines


def negative_vs_prompt(prompt: str, negative_prompt: str) -> str:
    """What a negative prompt is, said against its prompt, for a label under a picture."""
    if not negative_prompt:
        return "none (the empty prompt)"
    prompt_words, negative_words = prompt.split(), negative_prompt.split()
    if negative_words == prompt_words:
        return "the prompt itself"
    added = [word for word in negative_words if word not in prompt_words]
    dropped = [word for word in prompt_words if word not in negative_words]
    if added and dropped and len(added) + len(dropped) <= 4:
        return f"the prompt, with “{' '.join(added)}” for “{' '.join(dropped)}”"
    return f"“{negative_prompt}”"


def label_for(template: str, capture: Capture, others: list[Capture] = (), fits=lambda text: len(text) <= 40) -> str:
    """`template` filled from the capture's settings, plus:

    prompt_end   the prompt's last three words;
    prompt_fit   the whole prompt if it `fits` under a tile, else its end;
    prompt_diff  the words of this prompt that not every other run's prompt has (what a swap changed);
    negative_vs_prompt  the negative prompt said against the prompt: "the prompt itself",
                 "the prompt, with “red” for “blue”", or "none (the empty prompt)".
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
        "prompt_fit": spec["prompt"] if spec["prompt"] and fits(spec["prompt"]) else prompt_end,
        "prompt_diff": " ".join(different[:4]) or prompt_end,
        "scheduler_name": spec["scheduler"].upper(),
        "negative_vs_prompt": negative_vs_prompt(spec["prompt"], spec.get("negative_prompt", "")),
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
    second_line = font(font_size(grid_width(columns or len(captures), tile_size, 10), FONTS[1]))

    def fits(text: str) -> bool:
        return text_width(text, second_line) <= tile_size + 6

    panels = [
        (label_for(template, capture, captures, fits), label_for(subtemplate, capture, captures, fits), capture.arrays["image"])
        for capture, template, subtemplate in zip(captures, templates, subtemplates)
    ]
    canvas = tile_grid(panels, tile_size=tile_size, columns=columns, fonts=FONTS)
    info = save_webp(destination, canvas, quality=quality, lossless=lossless)
    return {**info, "labels": [title for title, _, _ in panels]}
