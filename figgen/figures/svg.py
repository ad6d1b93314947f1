"""A very small SVG writer: real <text> that screen readers and search can read.

Figures draw on a light card so that they read the same in the site's
light and dark themes.

An SVG scales with the column it sits in, its text with it. The site's text
column is CONTENT_WIDTH pixels wide on a desktop screen (Material's layout
with both sidebars, measured in Chromium at 1220 to 1599 px wide windows;
wider screens get a wider column), so a font size of `s` units on a canvas
`w` units wide shows as s × CONTENT_WIDTH / w pixels. Every text must show
at MIN_TEXT_PX or more: `Svg.text` refuses anything smaller, and
tests/test_figure_text.py checks every committed SVG.
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

from ..outputs import write_bytes
from .palette import ACCENT, CARD, INK, LINE, MUTED, PALE

CONTENT_WIDTH = 688  # px: the narrowest desktop text column of the site (see above)
MIN_TEXT_PX = 12  # the smallest text a reader should have to read
CHAR_WIDTH = 0.56  # a character's average width in this font, as a share of its size (for wrapping)

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


class Svg:
    def __init__(self, width: float, height: float, title: str, description: str):
        self.width, self.height = width, height
        self.parts: list[str] = [
            f"<title>{escape(title)}</title>",
            f"<desc>{escape(description)}</desc>",
        ]

    @property
    def min_font(self) -> float:
        """The smallest font size, in this canvas's units, that shows at MIN_TEXT_PX in the text column."""
        return MIN_TEXT_PX * max(self.width, CONTENT_WIDTH) / CONTENT_WIDTH

    def add(self, element: str) -> None:
        self.parts.append(element)

    def rect(self, x, y, w, h, fill=PALE, stroke=ACCENT, rx=8, stroke_width=1.5, extra="") -> None:
        self.add(
            f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" rx="{fmt(rx)}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{fmt(stroke_width)}"{extra}/>'
        )

    def text(self, x, y, content: str, size=14, anchor="middle", fill=INK, weight="normal", extra="") -> None:
        if size < self.min_font - 1e-9:
            raise ValueError(
                f"text {content!r} at font size {size:g} would show at {size * CONTENT_WIDTH / max(self.width, CONTENT_WIDTH):.1f} px "
                f"in the site's {CONTENT_WIDTH}-px column; on this {self.width:g}-unit canvas use {self.min_font:.1f} or more"
            )
        self.add(
            f'<text x="{fmt(x)}" y="{fmt(y)}" font-size="{fmt(size)}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}"{extra}>{escape(content)}</text>'
        )

    def paragraph(self, x, y, content: str, size: float, max_width: float, anchor="start", fill=INK,
                  weight="normal", leading=1.3) -> float:
        """`content` wrapped to `max_width` units, one <text> per line; returns the baseline after the last line."""
        for line in self.wrap(content, size, max_width):
            self.text(x, y, line, size, anchor, fill, weight)
            y += size * leading
        return y

    @staticmethod
    def wrap(content: str, size: float, max_width: float) -> list[str]:
        """`content` cut into lines that fit `max_width` units at font size `size` (by an average character width)."""
        return textwrap.wrap(content, width=max(10, int(max_width / (size * CHAR_WIDTH))))

    @contextmanager
    def group(self, opacity: float = 1.0):
        """Everything drawn inside, as one group (faded when opacity < 1)."""
        self.add(f'<g opacity="{fmt(opacity)}">')
        try:
            yield
        finally:
            self.add("</g>")

    def line(self, x1, y1, x2, y2, stroke=LINE, width=1.5, dash: str | None = None, arrow=False) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        extra += ' marker-end="url(#arrow)"' if arrow else ""
        self.add(
            f'<line x1="{fmt(x1)}" y1="{fmt(y1)}" x2="{fmt(x2)}" y2="{fmt(y2)}" stroke="{stroke}" '
            f'stroke-width="{fmt(width)}"{extra}/>'
        )

    def path(self, d: str, stroke=LINE, width=1.5, fill="none", dash: str | None = None, arrow=False) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        extra += ' marker-end="url(#arrow)"' if arrow else ""
        self.add(f'<path d="{d}" stroke="{stroke}" stroke-width="{fmt(width)}" fill="{fill}"{extra}/>')

    def polyline(self, points, stroke=ACCENT, width=2.0) -> None:
        coordinates = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)
        self.add(f'<polyline points="{coordinates}" fill="none" stroke="{stroke}" stroke-width="{fmt(width)}"/>')

    def image(self, x, y, w, h, pixels) -> None:
        """An (H, W, 3) uint8 array, embedded as a PNG thumbnail `w` x `h` units large."""
        import base64
        import io

        from PIL import Image

        picture = Image.fromarray(pixels).resize((int(w * 2), int(h * 2)), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", optimize=True)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        self.add(
            f'<image x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" '
            f'href="data:image/png;base64,{data}"/>'
        )

    def circle(self, x, y, r, fill=ACCENT) -> None:
        self.add(f'<circle cx="{fmt(x)}" cy="{fmt(y)}" r="{fmt(r)}" fill="{fill}"/>')

    def to_string(self) -> str:
        marker = (
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{MUTED}"/></marker></defs>'
        )
        # The card behind everything, sized when the picture is written (a renderer may grow its height).
        card = f'<rect x="0" y="0" width="{fmt(self.width)}" height="{fmt(self.height)}" rx="12" fill="{CARD}"/>'
        body = "\n".join([*self.parts[:2], card, *self.parts[2:]])
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {fmt(self.width)} {fmt(self.height)}" '
            f'width="{fmt(self.width)}" height="{fmt(self.height)}" role="img" font-family="{FONT}">\n'
            f"{marker}\n{body}\n</svg>\n"
        )

    def save(self, destination: Path) -> dict:
        write_bytes(destination, self.to_string().encode("utf-8"))
        return {"width": round(self.width), "height": round(self.height)}


def millions(count: int) -> str:
    return f"{count / 1e6:,.1f} M"

