"""Cross-attention maps (Part 4): where in the picture each word of the prompt was read.

The capture recorded, for every latent position, how much attention each
of the 77 token slots received, averaged over heads, cross-attention
layers and steps. Each word's map is stretched to its own range and laid
over the final picture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..record import Capture, reads
from .imaging import LEADING, MARGIN, font_size, grid_width, save_webp, tile, tile_grid, wrap
from .palette import MUTED
from .tokens import readable

KEY = "bright orange: the parts of the picture that read this word most; dark: least (each word's map scaled to its own range)"
FONTS = (15, 13)  # px as shown in the site's text column: the words, the key


def overlay(picture: Image.Image, heat: np.ndarray, strength: float = 0.9) -> Image.Image:
    """A dark, faint copy of the picture (its shapes still visible) with a warm colour where `heat`
    (0..1, any size) is high. The copy is dark so that a bright part of the picture is never
    mistaken for a glow: brightness means attention, nothing else."""
    heat_image = Image.fromarray((heat * 255).round().astype(np.uint8)).resize(picture.size, Image.Resampling.BILINEAR)
    weight = np.asarray(heat_image, dtype=np.float64)[..., None] / 255 * strength
    grey = np.asarray(picture.convert("L").convert("RGB"), dtype=np.float64) * 0.3 + 25
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
    width = grid_width(columns, tile_size, 10)
    key_size = font_size(width, FONTS[1])
    key_height = len(wrap(KEY, key_size, width - 2 * MARGIN)) * round(key_size * LEADING)
    canvas = tile_grid(panels, tile_size=tile_size, columns=columns, fonts=FONTS, footer=key_height + 8)
    canvas.paragraph((MARGIN, canvas.height - MARGIN - key_height), KEY, key_size, width - 2 * MARGIN, MUTED)
    info = save_webp(destination, canvas, quality=90)
    return {**info, "words": [tokens[i] for i in words], "mean_attention": shares}
