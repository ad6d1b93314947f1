"""The storyboard (Part 5): one run from prompt to picture in a single strip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..record import Capture, reads
from .denoise import check_steps
from .embedding import diverging
from .imaging import MARGIN, font, save_webp, tile, tile_grid
from .palette import CARD, INK, MUTED
from .steps import READS as STEP_READS, write_step_frames
from .tokens import readable

PROMPT_LINE = 34  # pixels below the strip for the prompt


def token_list(tokens: list[str], size: int) -> Image.Image:
    """The first (at most 12) tokens, one a line, on a white square `size` pixels wide."""
    card = Image.new("RGB", (size, size), CARD)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, size - 1, size - 1), outline=MUTED)
    for line, token in enumerate(tokens[:12]):
        draw.text((8, 6 + line * 16), token, font=font(13), fill=INK)
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

    panels = [("1. tokens", f"{used} of {len(tokens)} slots used", token_list(tokens[:used], tile_size))]
    panels.append(("2. text embedding", "{} x {} numbers".format(*embeds.shape), embedding))
    panels.append(("3. starting noise", f"seed {meta['spec']['seed']}", arrays["decoded_latents"][0]))
    for step in show_steps:
        panels.append((f"guess at step {step}", f"t = {int(arrays['timesteps'][step - 1])}", arrays["decoded_pred_original_sample"][step - 1]))
    panels.append(("final picture", "decoded by the VAE", arrays["image"]))

    canvas = tile_grid(panels, tile_size=tile_size, fonts=(16, 13), footer=PROMPT_LINE)
    prompt = meta["spec"]["prompt"]
    ImageDraw.Draw(canvas).text((MARGIN, canvas.height - MARGIN - PROMPT_LINE + 10), f"prompt: \u201c{prompt}\u201d", font=font(15), fill=INK)
    save_webp(destination, canvas, quality=90)
    viewer = write_step_frames(capture, destination)
    return {"width": canvas.width, "height": canvas.height, "panels": len(panels), "viewer": "add", **viewer}
