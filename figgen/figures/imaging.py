"""Small drawing helpers shared by the raster renderers: tiles, labels, a grid of labelled tiles, saving WebP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..outputs import atomic_path
from .palette import BACKGROUND, INK, MUTED

MARGIN = 12  # pixels of background around every raster figure


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in scalable font, so that no font file is needed."""
    return ImageFont.load_default(size=size)


def tile(image, size: int, resample=Image.Resampling.LANCZOS) -> Image.Image:
    """An (H, W, 3) uint8 array or a PIL image as a square PIL image `size` pixels wide.

    LANCZOS suits photos; pass Image.Resampling.NEAREST to show a small grid of numbers (a latent) as blocks.
    """
    if not isinstance(image, Image.Image):
        image = Image.fromarray(np.asarray(image, dtype=np.uint8), mode="RGB")
    if image.size != (size, size):
        image = image.resize((size, size), resample)
    return image


def text_width(text: str, typeface) -> int:
    left, _, right, _ = typeface.getbbox(text)
    return right - left


def draw_centred(draw: ImageDraw.ImageDraw, centre_x: int, top: int, text: str, typeface, fill=INK) -> None:
    draw.text((centre_x - text_width(text, typeface) // 2, top), text, font=typeface, fill=fill)


def tile_grid(
    panels: list[tuple[str, str, object]],
    *,
    tile_size: int,
    columns: int | None = None,
    header: int = 50,
    fonts: tuple[int, int] = (17, 13),
    gap: int = 10,
    left: int = 0,
    footer: int = 0,
) -> Image.Image:
    """Pictures in rows of `columns` (default: one row), each under a title and an optional second line.

    `panels` are (title, subtitle, picture) triples; a picture is anything `tile` takes, fitted to
    `tile_size`. Titles are drawn in INK at `fonts[0]` pixels, subtitles in MUTED at `fonts[1]`, inside
    `header` pixels above each tile; a row with no text at all takes no header room. `left` pixels
    beside the grid and `footer` pixels below it are left empty for the caller's row labels and notes.
    """
    columns = columns or len(panels)
    rows = [panels[start : start + columns] for start in range(0, len(panels), columns)]
    headers = [header if any(title or subtitle for title, subtitle, _ in row) else 0 for row in rows]
    width = 2 * MARGIN + left + columns * (tile_size + gap) - gap
    height = 2 * MARGIN + sum(headers) + len(rows) * (tile_size + gap) - gap + footer
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    title_font, subtitle_font = font(fonts[0]), font(fonts[1])
    top = MARGIN
    for row, row_header in zip(rows, headers):
        for column, (title, subtitle, picture) in enumerate(row):
            x = MARGIN + left + column * (tile_size + gap)
            draw_centred(draw, x + tile_size // 2, top, title, title_font, INK)
            draw_centred(draw, x + tile_size // 2, top + fonts[0] + 5, subtitle, subtitle_font, MUTED)
            canvas.paste(tile(picture, tile_size), (x, top + row_header))
        top += row_header + tile_size + gap
    return canvas


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
