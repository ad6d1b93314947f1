"""Comparisons (Parts 2, 4 and 5): the final pictures of several runs in one labelled grid.

One renderer serves the guidance-scale sweep, the steps comparison, the
schedulers side by side, the one-word swaps and the prompts x seeds grid:
each run's label is a template filled from that run's own settings, so the
labels can never disagree with what was run.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from ..cache import Capture
from .imaging import BACKGROUND, INK, MUTED, draw_centred, font, save_webp, tile


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
    return template.format(
        **spec,
        prompt_end=prompt_end,
        prompt_fit=spec["prompt"] if 0 < len(spec["prompt"]) <= FIT else prompt_end,
        prompt_diff=" ".join(different[:4]) or prompt_end,
        scheduler_name=spec["scheduler"].upper(),
    )


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
    columns = columns or len(captures)
    rows = -(-len(captures) // columns)
    margin, gap, header = 12, 10, 50 if any(subtemplates) else 30
    width = 2 * margin + columns * (tile_size + gap) - gap
    height = 2 * margin + rows * (header + tile_size + gap) - gap
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    written = []
    for index, capture in enumerate(captures):
        left = margin + (index % columns) * (tile_size + gap)
        top = margin + (index // columns) * (header + tile_size + gap)
        text = label_for(templates[index], capture, captures)
        draw_centred(draw, left + tile_size // 2, top, text, font(17), INK)
        if subtemplates[index]:
            draw_centred(draw, left + tile_size // 2, top + 22, label_for(subtemplates[index], capture, captures), font(13), MUTED)
        canvas.paste(tile(capture.arrays["image"], tile_size), (left, top + header))
        written.append(text)
    save_webp(destination, canvas, quality=quality, lossless=lossless)
    return {"width": width, "height": height, "labels": written}
