"""Every SVG figure can be read at a glance: its smallest text shows at 12 px or more in the site's text column.

An SVG scales with the column it is shown in, and its text with it: a font
size of `s` units on a canvas `w` units wide shows as s × shown width / w
pixels, where the shown width is the column's width (688 px on a desktop
screen, measured in Chromium; see figgen/figures/svg.py) or the figure's
own width if that is narrower.
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from figgen.figures.svg import CONTENT_WIDTH, MIN_TEXT_PX, Svg

FIGURES = Path(__file__).parents[1] / "docs" / "figures"
SVG = "{http://www.w3.org/2000/svg}"
# A reader-facing picture never tells the reader to run something: commands belong on docs/about-figures.md.
COMMAND = re.compile(r"\bfiggen (render|list)\b|\bmake [a-z]|--only\b|--model\b")


def smallest_text(path: Path) -> tuple[float, str]:
    """The smallest text of an SVG as shown in the text column: (pixels, the text)."""
    root = ET.parse(path).getroot()
    view_width = float(root.get("viewBox").split()[2])
    shown = min(float(root.get("width", view_width)), CONTENT_WIDTH)
    sizes = [
        (float(text.get("font-size")) * shown / view_width, "".join(text.itertext()))
        for text in root.iter(f"{SVG}text")
    ]
    return min(sizes) if sizes else (float("inf"), "")


def svg_figures() -> list[Path]:
    return sorted(FIGURES.rglob("*.svg"))


@pytest.mark.parametrize("path", svg_figures(), ids=lambda p: p.relative_to(FIGURES).as_posix())
def test_every_svg_figures_text_shows_at_12_px_or_more_in_the_text_column(path):
    pixels, text = smallest_text(path)
    assert pixels >= MIN_TEXT_PX - 0.01, f"{path.name}: {text!r} shows at {pixels:.1f} px in the {CONTENT_WIDTH}-px column"


@pytest.mark.parametrize("path", svg_figures(), ids=lambda p: p.relative_to(FIGURES).as_posix())
def test_no_svg_figure_shows_a_developers_command(path):
    texts = ["".join(t.itertext()) for t in ET.parse(path).getroot().iter(f"{SVG}text")]
    assert not [t for t in texts if COMMAND.search(t)]


def test_the_check_sees_small_text(tmp_path):
    svg = Svg(1000, 100, "t", "d")
    svg.text(10, 50, "big enough", 18)
    svg.add('<text x="10" y="80" font-size="16">too small</text>')  # past Svg.text's own guard
    svg.save(tmp_path / "small.svg")
    pixels, text = smallest_text(tmp_path / "small.svg")
    assert text == "too small" and pixels == pytest.approx(16 * CONTENT_WIDTH / 1000)


def test_svg_refuses_text_too_small_for_the_column():
    with pytest.raises(ValueError, match="px"):
        Svg(1000, 100, "t", "d").text(10, 50, "tiny", 12)
    Svg(600, 100, "t", "d").text(10, 50, "a narrow figure is shown at its own size", 12)
