"""Forward noising (Parts 1 and 4): a real photo with the exact noise of chosen timesteps.

x_t = sqrt(ᾱ_t) · x0 + sqrt(1 − ᾱ_t) · noise, with ᾱ_t from SD 1.4's noise
schedule. Without VAE weights this is done in pixel space, and the figure
says so: Stable Diffusion itself adds the noise to latents.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .. import sd14
from .imaging import BACKGROUND, INK, MUTED, draw_centred, font, save_webp, tile

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def load_photo(name: str) -> np.ndarray:
    """A public-domain photo shipped inside scikit-image, as a square (H, W, 3) uint8 array."""
    import skimage.data

    if name not in PHOTOS:
        raise ValueError(f"photo '{name}' is not one of {', '.join(PHOTOS)}")
    image = getattr(skimage.data, name)()[..., :3]
    side = min(image.shape[:2])
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return image[top : top + side, left : left + side]


def photo(
    destination: Path, *, photo: str = "astronaut", timesteps: list[int], seed: int = 0, tile_size: int = 224,
    columns: int = 3,
) -> dict:
    pndm, _ = sd14.schedulers()
    alphas_cumprod = pndm.alphas_cumprod.double().numpy()
    clean = load_photo(photo).astype(np.float64) / 127.5 - 1.0  # pixels in [-1, 1], as SD's VAE sees them
    noise = np.random.default_rng(seed).standard_normal(clean.shape)

    margin, gap, header, footer = 12, 8, 56, 44
    rows = -(-len(timesteps) // columns)
    width = 2 * margin + columns * (tile_size + gap) - gap
    height = 2 * margin + rows * (header + tile_size + gap) + footer
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    shown = {}
    for column, t in enumerate(timesteps):
        signal, spread = float(np.sqrt(alphas_cumprod[t])), float(np.sqrt(1 - alphas_cumprod[t]))
        noisy = signal * clean + spread * noise
        pixels = np.clip((noisy + 1) * 127.5, 0, 255).round().astype(np.uint8)
        left = margin + (column % columns) * (tile_size + gap)
        top = margin + (column // columns) * (header + tile_size + gap)
        canvas.paste(tile(pixels, tile_size), (left, top + header))
        draw_centred(draw, left + tile_size // 2, top, f"t = {t}", font(20))
        draw_centred(draw, left + tile_size // 2, top + 28, f"picture x {signal:.3f}, noise x {spread:.3f}", font(14), MUTED)
        shown[t] = [round(signal, 3), round(spread, 3)]
    draw.text(
        (margin, height - footer),
        "Noise added in pixel space, for illustration.\nStable Diffusion adds it to the 4 x 64 x 64 latent.",
        font=font(14),
        fill=INK,
    )
    save_webp(destination, canvas, quality=88)
    return {"width": canvas.width, "height": canvas.height, "space": "pixels", "photo": photo, "values_shown": shown}
