"""The honest stand-in for a figure that needs weights nobody here has.

It says, in the picture itself, that it is a placeholder, which runs the
real figure is drawn from, and the command that renders it: only what is
certain, nothing about how the picture will look.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from PIL import Image, ImageDraw

from .imaging import font, save_webp
from .palette import INK, MUTED, PAPER, PAPER_EDGE

WIDTH = 1200


NEEDS = "It needs a trained model: mini-sd (models/mini-sd) or Stable Diffusion 1.4. Render it with:"


def placeholder(figure_id: str, about: str, command: str, destination: Path) -> dict:
    """The card, in the figure's own format: an SVG for an .svg figure, WebP otherwise.

    `about` says what the figure is drawn from (its runs' settings), never how it will look.
    """
    if destination.suffix == ".svg":
        return placeholder_svg(figure_id, about, command, destination)
    title, body, code = font(34), font(22), font(22)
    lines = [("PLACEHOLDER: this figure has not been rendered yet", title, INK)]
    lines.append(("", body, INK))
    lines += [(line, body, INK) for line in textwrap.wrap(about, width=95)]
    lines.append(("", body, INK))
    lines.append((NEEDS, body, MUTED))
    lines.append((f"    {command}", code, INK))
    lines.append((f"figure id: {figure_id}", body, MUTED))

    line_height, margin = 34, 40
    height = 2 * margin + line_height * len(lines) + 12
    canvas = Image.new("RGB", (WIDTH, height), PAPER)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((4, 4, WIDTH - 5, height - 5), outline=PAPER_EDGE, width=6)
    top = margin
    for text, typeface, fill in lines:
        draw.text((margin, top), text, font=typeface, fill=fill)
        top += line_height + (12 if typeface is title else 0)
    save_webp(destination, canvas, lossless=True)
    return {"width": WIDTH, "height": height}


def placeholder_svg(figure_id: str, about: str, command: str, destination: Path) -> dict:
    from .svg import Svg

    lines = textwrap.wrap(about, width=95)
    height = 220 + 26 * len(lines)
    svg = Svg(WIDTH, height, f"Placeholder for the figure {figure_id}", f"Not rendered yet. {about}")
    svg.rect(4, 4, WIDTH - 8, height - 8, fill=PAPER, stroke=PAPER_EDGE, rx=10, stroke_width=6)
    svg.text(40, 62, "PLACEHOLDER: this figure has not been rendered yet", 30, "start")
    for index, line in enumerate(lines):
        svg.text(40, 108 + 26 * index, line, 20, "start")
    bottom = 108 + 26 * len(lines) + 24
    svg.text(40, bottom, NEEDS, 20, "start", MUTED)
    svg.text(60, bottom + 30, command, 20, "start")
    svg.text(40, bottom + 60, f"figure id: {figure_id}", 18, "start", MUTED)
    return svg.save(destination)
