"""The storyboard (Part 5): one run from prompt to picture in a single strip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..cache import Capture
from .denoise import check_steps
from .embedding import diverging, readable
from .imaging import BACKGROUND, INK, MUTED, draw_centred, font, save_webp, tile


def board(capture: Capture, destination: Path, *, show_steps: list[int], tile_size: int = 200) -> dict:
    arrays, meta = capture.arrays, capture.meta
    check_steps(capture, show_steps)
    tokens = [readable(t) for t in meta["tokens"]]
    used = tokens.index("END") + 1 if "END" in tokens else len(tokens)
    embeds = arrays["prompt_embeds"]
    limit = float(np.percentile(np.abs(embeds), 99))
    embedding = Image.fromarray(diverging(embeds, limit)).resize((tile_size, tile_size), Image.Resampling.NEAREST)

    panels = [("1. tokens", f"{used} of {len(tokens)} slots used", None)]
    panels.append(("2. text embedding", "{} x {} numbers".format(*embeds.shape), embedding))
    panels.append(("3. starting noise", f"seed {meta['spec']['seed']}", arrays["decoded_latents"][0]))
    for step in show_steps:
        panels.append((f"guess at step {step}", f"t = {int(arrays['timesteps'][step - 1])}", arrays["decoded_pred_original_sample"][step - 1]))
    panels.append(("final picture", "decoded by the VAE", arrays["image"]))

    margin, gap, header = 12, 10, 50
    width = 2 * margin + len(panels) * (tile_size + gap) - gap
    canvas = Image.new("RGB", (width, 2 * margin + header + tile_size + 34), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for index, (title, subtitle, picture) in enumerate(panels):
        left = margin + index * (tile_size + gap)
        draw_centred(draw, left + tile_size // 2, margin, title, font(16), INK)
        draw_centred(draw, left + tile_size // 2, margin + 22, subtitle, font(13), MUTED)
        top = margin + header
        if picture is None:
            draw.rectangle((left, top, left + tile_size, top + tile_size), outline=MUTED, fill=(255, 255, 255))
            for line, token in enumerate(tokens[: min(used, 12)]):
                draw.text((left + 8, top + 6 + line * 16), token, font=font(13), fill=INK)
        elif isinstance(picture, Image.Image):
            canvas.paste(picture, (left, top))
        else:
            canvas.paste(tile(picture, tile_size), (left, top))
    prompt = meta["spec"]["prompt"]
    draw.text((margin, margin + header + tile_size + 10), f"prompt: \u201c{prompt}\u201d", font=font(15), fill=INK)
    save_webp(destination, canvas, quality=90)
    return {"width": width, "height": canvas.height, "panels": len(panels)}
