"""Cross-attention maps (Part 4): where in the picture each word of the prompt was read.

The capture recorded, for every latent position, how much attention each
of the 77 token slots received, averaged over heads, cross-attention
layers and steps. Each word's map is stretched to its own range and laid
over the final picture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..record import Capture, reads
from .imaging import MARGIN, font, save_webp, tile, tile_grid
from .palette import MUTED
from .tokens import readable

KEY = "orange: where the picture's cross-attention read that word (each map scaled to its own range)"


def overlay(picture: Image.Image, heat: np.ndarray, strength: float = 0.65) -> Image.Image:
    """A greyed picture with a warm colour where `heat` (0..1, any size) is high."""
    heat_image = Image.fromarray((heat * 255).round().astype(np.uint8)).resize(picture.size, Image.Resampling.BILINEAR)
    weight = np.asarray(heat_image, dtype=np.float64)[..., None] / 255 * strength
    grey = np.asarray(picture.convert("L").convert("RGB"), dtype=np.float64) * 0.6 + 60
    warm = np.array([255.0, 120.0, 0.0])
    return Image.fromarray((grey * (1 - weight) + warm * weight).round().clip(0, 255).astype(np.uint8))


@reads("image", "cross_attention")
def maps(capture: Capture, destination: Path, *, tile_size: int = 160, columns: int = 5) -> dict:
    arrays, tokens = capture.arrays, [readable(t) for t in capture.meta["tokens"]]
    if "cross_attention" not in arrays:
        raise ValueError("this capture has no attention maps: set attention = true on its [captures] table")
    end = tokens.index("END") if "END" in tokens else len(tokens)
    words = list(range(1, end))  # the prompt's own tokens, between START and END
    picture = tile(arrays["image"], tile_size)
    panels = [("final picture", "", picture)]
    shares = {}
    for index in words:
        heat = arrays["cross_attention"][index].astype(np.float64)
        low, high = heat.min(), heat.max()
        panels.append((tokens[index], "", overlay(picture, (heat - low) / (high - low) if high > low else heat * 0)))
        shares[f"{index}:{tokens[index]}"] = round(float(arrays["cross_attention"][index].mean()), 5)
    canvas = tile_grid(panels, tile_size=tile_size, columns=columns, header=28, fonts=(16, 13), footer=34)  # 34: the key's line
    ImageDraw.Draw(canvas).text((MARGIN, canvas.height - MARGIN - 18), KEY, font=font(13), fill=MUTED)
    save_webp(destination, canvas, quality=90)
    return {"width": canvas.width, "height": canvas.height, "words": [tokens[i] for i in words], "mean_attention": shares}
