"""The storyboard (Part 5): one run from prompt to picture, read like a page: two rows, left to right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..record import Capture, reads
from .denoise import check_steps
from .embedding import diverging
from .imaging import LEADING, MARGIN, Canvas, font_size, grid_width, save_webp, tile, tile_grid
from .palette import CARD, INK, MUTED
from .steps import READS as STEP_READS, noise_level, write_step_frames
from .tokens import readable

COLUMNS = 4  # panels a row
FONTS = (15, 13)  # px as shown in the site's text column: titles, second lines (the tokens, the prompt)


def token_list(tokens: list[str], size: int, font: int) -> Canvas:
    """The tokens, one a line (as many as fit), on a white card `size` pixels square, at `font` pixels."""
    card = Canvas(size, size, CARD)
    card.rectangle((0, 0, size - 1, size - 1), outline=MUTED)
    line = round(font * 1.15)
    fit = (size - 12) // line
    shown = tokens if len(tokens) <= fit else tokens[: fit - 1] + ["…"]
    for index, token in enumerate(shown):
        card.text((8, 6 + index * line), token, font, INK)
    return card


@reads("prompt_embeds", *STEP_READS)
def board(capture: Capture, destination: Path, *, show_steps: list[int], tile_size: int = 200) -> dict:
    """The strip, and beside it every step's pictures for the site's step viewer (shown under the strip)."""
    arrays, meta = capture.arrays, capture.meta
    check_steps(capture, show_steps)
    tokens = [readable(t) for t in meta["tokens"]]
    used = tokens.index("END") + 1 if "END" in tokens else len(tokens)
    embeds = arrays["prompt_embeds"]
    limit = float(np.percentile(np.abs(embeds), 99))
    embedding = tile(diverging(embeds, limit), tile_size, Image.Resampling.NEAREST)

    width = grid_width(COLUMNS, tile_size, 10)
    small = font_size(width, FONTS[1])
    panels = [("1. tokens", f"{used} of {len(tokens)} slots used", token_list(tokens[:used], tile_size, small))]
    panels.append(("2. text embedding", "{} x {} numbers".format(*embeds.shape), embedding))
    panels.append(("3. starting noise", f"seed {meta['spec']['seed']}", arrays["decoded_latents"][0]))
    for step in show_steps:
        level = noise_level(arrays["alphas_cumprod_t"][step - 1])
        panels.append((f"guess at step {step}", f"noise level {level:.2f}", arrays["decoded_pred_original_sample"][step - 1]))
    panels.append(("final picture", "decoded by the VAE", arrays["image"]))

    prompt = f"prompt: \u201c{meta['spec']['prompt']}\u201d"
    canvas = tile_grid(panels, tile_size=tile_size, columns=COLUMNS, fonts=FONTS, footer=round(small * LEADING) + 8)
    canvas.text((MARGIN, canvas.height - MARGIN - round(small * LEADING)), prompt, small, INK)
    info = save_webp(destination, canvas, quality=90)
    viewer = write_step_frames(capture, destination)
    return {**info, "panels": len(panels), "viewer": "add", **viewer}
