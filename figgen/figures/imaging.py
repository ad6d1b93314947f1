"""Small drawing helpers shared by the raster renderers: a canvas that knows its text, tiles, a grid of labelled tiles, saving WebP.

A raster figure is shown at most as wide as the site's text column
(CONTENT_WIDTH pixels, see svg.py), shrunk to fit if it is wider, and its
text shrinks with it: a font of `s` pixels on a canvas `w` pixels wide shows
as s × min(CONTENT_WIDTH, w) / w pixels. Every text goes through
`Canvas.text`, which refuses anything that would show under MIN_TEXT_PX and
remembers the rest; saving a canvas reports its smallest text as shown
(`smallest_text_px`), which figgen writes into the figure's provenance and
tests/test_figure_text.py checks for every committed WebP figure. No other
module draws text on a picture (that test checks that too).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..outputs import atomic_path
from .palette import BACKGROUND, INK, MUTED
from .svg import CONTENT_WIDTH, MIN_TEXT_PX

MARGIN = 12  # pixels of background around every raster figure
LEADING = 1.25  # a line of text takes its font size times this


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in scalable font, so that no font file is needed."""
    return ImageFont.load_default(size=size)


def shown_scale(width: int) -> float:
    """How much a picture `width` pixels wide is shrunk in the site's text column (1 if it fits)."""
    return min(CONTENT_WIDTH, width) / width


def font_size(width: int, shown_px: float) -> int:
    """The font size, in pixels of a canvas `width` pixels wide, that shows at `shown_px` pixels in the text column."""
    return math.ceil(shown_px / shown_scale(width) - 1e-9)


def text_width(text: str, typeface) -> int:
    left, _, right, _ = typeface.getbbox(text)
    return right - left


def wrap(text: str, size: int, max_width: int) -> list[str]:
    """`text` cut at spaces into lines no wider than `max_width` pixels at font `size` (a longer word stands alone)."""
    typeface, lines = font(size), []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and text_width(candidate, typeface) > max_width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


class Canvas:
    """A raster figure being drawn: its picture, and the size of every text drawn on it."""

    def __init__(self, width: int, height: int, fill=BACKGROUND):
        self.image = Image.new("RGB", (width, height), fill)
        self.draw = ImageDraw.Draw(self.image)
        self.texts: list[tuple[int, str]] = []  # (font size in this canvas's pixels, the text)
        self.tiles: list[tuple[int, int]] = []  # tile_grid's: the top left corner of each panel's picture

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def check(self, size: float, text: str) -> None:
        """Refuse a text of font `size` that would show under MIN_TEXT_PX in the text column."""
        shown = size * shown_scale(self.width)
        if shown < MIN_TEXT_PX - 1e-9:
            raise ValueError(
                f"text {text!r} at font size {size:g} would show at {shown:.1f} px in the site's {CONTENT_WIDTH}-px "
                f"column; on this {self.width}-pixel-wide picture use {font_size(self.width, MIN_TEXT_PX)} or more"
            )

    def text(self, xy: tuple[int, int], text: str, size: int, fill=INK, centred: bool = False) -> None:
        """One line of `text` with its top left (or, `centred`, its top middle) at `xy`."""
        if not text:
            return
        self.check(size, text)
        typeface = font(size)
        x, y = xy
        if centred:
            x -= text_width(text, typeface) // 2
        self.draw.text((x, y), text, font=typeface, fill=fill)
        self.texts.append((size, text))

    def paragraph(self, xy: tuple[int, int], text: str, size: int, max_width: int, fill=INK) -> int:
        """`text` wrapped to `max_width` pixels (and at its own line breaks); returns the top of the next line."""
        x, y = xy
        for line in wrap(text, size, max_width):
            self.text((x, y), line, size, fill)
            y += round(size * LEADING)
        return y

    def paste(self, picture, xy: tuple[int, int]) -> None:
        """A picture (a PIL image, or another Canvas, whose texts then count as this canvas's) at `xy`."""
        if isinstance(picture, Canvas):
            for size, text in picture.texts:
                self.check(size, text)
            self.texts += picture.texts
            picture = picture.image
        self.image.paste(picture, xy)

    def rectangle(self, box, outline=None, width: int = 1, fill=None) -> None:
        self.draw.rectangle(box, outline=outline, width=width, fill=fill)

    def info(self) -> dict:
        """What a figure's provenance records of it: its size, and its smallest text as shown in the text column."""
        smallest = min((size for size, _ in self.texts), default=None)
        shown = None if smallest is None else round(smallest * shown_scale(self.width), 2)
        return {"width": self.width, "height": self.height, "smallest_text_px": shown}


def tile(image, size: int, resample=Image.Resampling.LANCZOS) -> Image.Image:
    """An (H, W, 3) uint8 array or a PIL image as a square PIL image `size` pixels wide.

    LANCZOS suits photos; pass Image.Resampling.NEAREST to show a small grid of numbers (a latent) as blocks.
    """
    if not isinstance(image, Image.Image):
        image = Image.fromarray(np.asarray(image, dtype=np.uint8), mode="RGB")
    if image.size != (size, size):
        image = image.resize((size, size), resample)
    return image


def mosaic(pictures: list, size: int, gap: int = 4, resample=Image.Resampling.NEAREST) -> Image.Image:
    """Four pictures (a latent's channels) as one square `size` pixels wide, two by two."""
    half = (size - gap) // 2
    square = Image.new("RGB", (size, size), BACKGROUND)
    for index, picture in enumerate(pictures[:4]):
        square.paste(tile(picture, half, resample), ((index % 2) * (size - half), (index // 2) * (size - half)))
    return square


def grid_width(columns: int, tile_size: int, gap: int) -> int:
    return 2 * MARGIN + columns * (tile_size + gap) - gap


def tile_grid(
    panels: list[tuple[str, str, object]],
    *,
    tile_size: int,
    columns: int | None = None,
    fonts: tuple[float, float] = (16, 13),
    gap: int = 10,
    footer: int = 0,
    row_titles: list[str] | None = None,
) -> Canvas:
    """Pictures in rows of `columns` (default: one row), each under a title and an optional second line.

    `panels` are (title, subtitle, picture) triples; a picture is anything `tile` takes, fitted to
    `tile_size`, or a Canvas of that size (a card with text of its own). Titles are drawn in INK and
    subtitles in MUTED, at the sizes `fonts` gives in pixels *as shown in the site's text column*
    (the grid's own sizes are larger when it is wider than the column). A row with no text at all
    takes no header room. `row_titles`, one per row, put a line across the grid above a row's tiles.
    `footer` pixels below the grid are left empty for the caller's notes.
    """
    columns = columns or len(panels)
    width = grid_width(columns, tile_size, gap)
    title_size, subtitle_size = (font_size(width, px) for px in fonts)
    rows = [panels[start : start + columns] for start in range(0, len(panels), columns)]
    row_titles = list(row_titles or [])
    subtitles = any(subtitle for _, subtitle, _ in panels)
    header = round(title_size * LEADING) + (round(subtitle_size * LEADING) if subtitles else 0) + 4
    row_title = round(title_size * LEADING) + 4
    headers = [
        (row_title if index < len(row_titles) and row_titles[index] else 0)
        + (header if any(title or subtitle for title, subtitle, _ in row) else 0)
        for index, row in enumerate(rows)
    ]
    height = 2 * MARGIN + sum(headers) + len(rows) * (tile_size + gap) - gap + footer
    canvas = Canvas(width, height)
    top = MARGIN
    for index, (row, row_header) in enumerate(zip(rows, headers)):
        if index < len(row_titles) and row_titles[index]:
            canvas.text((MARGIN, top), row_titles[index], title_size, INK)
        for column, (title, subtitle, picture) in enumerate(row):
            x = MARGIN + column * (tile_size + gap)
            text_top = top + row_header - header
            canvas.text((x + tile_size // 2, text_top), title, title_size, INK, centred=True)
            canvas.text((x + tile_size // 2, text_top + round(title_size * LEADING)), subtitle, subtitle_size, MUTED, centred=True)
            if isinstance(picture, Canvas) and (picture.width, picture.height) != (tile_size, tile_size):
                raise ValueError(f"a card of {picture.width} x {picture.height} pixels in a grid of {tile_size}-pixel tiles")
            canvas.paste(picture if isinstance(picture, Canvas) else tile(picture, tile_size), (x, top + row_header))
            canvas.tiles.append((x, top + row_header))
        top += row_header + tile_size + gap
    return canvas


def save_webp(destination: Path, image, *, lossless: bool = False, quality: int = 90) -> dict:
    """Write a Canvas (or a plain picture with no text) as WebP; returns its info (see Canvas.info)."""
    picture = image.image if isinstance(image, Canvas) else image
    with atomic_path(destination) as temporary:
        picture.save(temporary, format="WEBP", lossless=lossless, quality=quality, method=6)
    return image.info() if isinstance(image, Canvas) else {"width": picture.width, "height": picture.height}


def save_animated_webp(
    destination: Path, frames: list[Canvas], durations: list[int], *, quality: int = 80, lossless: bool = False
) -> dict:
    """Write frames (Canvases of one size) as an animated WebP; returns the info of its frame with the smallest text."""
    with atomic_path(destination) as temporary:
        frames[0].image.save(
            temporary,
            format="WEBP",
            save_all=True,
            append_images=[frame.image for frame in frames[1:]],
            duration=durations,
            loop=0,
            lossless=lossless,
            quality=quality,
            method=4,
        )
    infos = [frame.info() for frame in frames]
    return min(infos, key=lambda info: float("inf") if info["smallest_text_px"] is None else info["smallest_text_px"])
