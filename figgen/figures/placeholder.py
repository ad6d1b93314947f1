"""The honest stand-in for a figure that needs weights nobody here has.

It says, in the picture itself, that it is a placeholder and which runs the
real figure is drawn from: only what is certain, nothing about how the
picture will look. It shows no command: readers see this card, and the
commands that render figures are on the About-the-figures page (and in the
figure's provenance file).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from .imaging import Canvas, save_webp
from .palette import INK, MUTED, PAPER, PAPER_EDGE

WIDTH = 1200


NEEDS = "It will be drawn by a trained model: this site's mini-sd, or Stable Diffusion 1.4 itself."


def placeholder(figure_id: str, about: str, destination: Path) -> dict:
    """The card, in the figure's own format: an SVG for an .svg figure, WebP otherwise.

    `about` says what the figure is drawn from (its runs' settings), never how it will look.
    """
    if destination.suffix == ".svg":
        return placeholder_svg(figure_id, about, destination)
    title, body = 34, 22
    lines = [("PLACEHOLDER: this figure has not been rendered yet", title, INK)]
    lines.append(("", body, INK))
    lines += [(line, body, INK) for line in textwrap.wrap(about, width=95)]
    lines.append(("", body, INK))
    lines.append((NEEDS, body, MUTED))
    lines.append((f"figure id: {figure_id}", body, MUTED))

    line_height, margin = 34, 40
    height = 2 * margin + line_height * len(lines) + 12
    canvas = Canvas(WIDTH, height, PAPER)
    canvas.rectangle((4, 4, WIDTH - 5, height - 5), outline=PAPER_EDGE, width=6)
    top = margin
    for text, size, fill in lines:
        canvas.text((margin, top), text, size, fill)
        top += line_height + (12 if size == title else 0)
    return save_webp(destination, canvas, lossless=True)


def placeholder_svg(figure_id: str, about: str, destination: Path) -> dict:
    from .svg import Svg

    svg = Svg(WIDTH, 0, f"Placeholder for the figure {figure_id}", f"Not rendered yet. {about}")
    svg.text(40, 62, "PLACEHOLDER: this figure has not been rendered yet", 32, "start")
    bottom = svg.paragraph(40, 112, about, 22, WIDTH - 80) + 12
    bottom = svg.paragraph(40, bottom, NEEDS, 22, WIDTH - 80, fill=MUTED)
    svg.text(40, bottom + 8, f"figure id: {figure_id}", 22, "start", MUTED)
    svg.height = bottom + 40
    # The paper card goes under everything drawn so far.
    svg.parts.insert(2, f'<rect x="4" y="4" width="{WIDTH - 8}" height="{svg.height - 8}" rx="10" fill="{PAPER}" '
                        f'stroke="{PAPER_EDGE}" stroke-width="6"/>')
    return svg.save(destination)
