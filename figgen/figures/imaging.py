"""Small drawing helpers shared by the renderers: tiles, labels, saving WebP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..outputs import atomic_path

BACKGROUND = (246, 246, 246)
INK = (33, 33, 33)
MUTED = (100, 100, 100)


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in scalable font, so that no font file is needed."""
    return ImageFont.load_default(size=size)


def tile(image: np.ndarray, size: int) -> Image.Image:
    """An (H, W, 3) uint8 array as a square PIL image `size` pixels wide."""
    picture = Image.fromarray(np.asarray(image, dtype=np.uint8), mode="RGB")
    if picture.size != (size, size):
        picture = picture.resize((size, size), Image.Resampling.LANCZOS)
    return picture


def text_width(text: str, typeface) -> int:
    left, _, right, _ = typeface.getbbox(text)
    return right - left


def draw_centred(draw: ImageDraw.ImageDraw, centre_x: int, top: int, text: str, typeface, fill=INK) -> None:
    draw.text((centre_x - text_width(text, typeface) // 2, top), text, font=typeface, fill=fill)


def save_webp(destination: Path, image: Image.Image, *, lossless: bool = False, quality: int = 90) -> None:
    with atomic_path(destination) as temporary:
        image.save(temporary, format="WEBP", lossless=lossless, quality=quality, method=6)


def save_animated_webp(
    destination: Path, frames: list[Image.Image], durations: list[int], *, quality: int = 80, lossless: bool = False
) -> None:
    with atomic_path(destination) as temporary:
        frames[0].save(
            temporary,
            format="WEBP",
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=0,
            lossless=lossless,
            quality=quality,
            method=4,
        )
