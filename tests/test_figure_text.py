"""Every SVG figure can be read at a glance: its smallest text shows at 12 px or more in the site's text column.

An SVG scales with the column it is shown in, and its text with it: a font
size of `s` units on a canvas `w` units wide shows as s × shown width / w
pixels, where the shown width is the column's width (688 px on a desktop
screen, measured in Chromium; see figgen/figures/svg.py) or the figure's
own width if that is narrower.
"""

import json
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


# The raster (WebP) figures. Their text is drawn into the pixels, so it cannot be read back from the file:
# figgen/figures/imaging.py's Canvas.text, the only way a renderer writes text on a picture, refuses text that
# would show under MIN_TEXT_PX and records every size, and figgen writes the smallest, as shown in the column,
# into the figure's provenance as "smallest_text_px", beside the picture's "width" and "height".

FIGURES_PACKAGE = Path(__file__).parents[1] / "figgen" / "figures"


def webp_figures() -> list[Path]:
    """Every committed WebP figure (the step viewer's frames, which hold no text and no provenance, aside)."""
    return sorted(path for path in FIGURES.rglob("*.webp") if not path.parent.name.endswith("-steps"))


def raster_text_problem(path: Path) -> str | None:
    """What is wrong with a WebP figure's record of its text, or None."""
    from PIL import Image

    provenance = json.loads(path.with_suffix(".json").read_text())
    with Image.open(path) as picture:
        size = picture.size
    if (provenance.get("width"), provenance.get("height")) != size:
        return f"{path.name} is {size[0]} x {size[1]} pixels but its provenance says {provenance.get('width')} x {provenance.get('height')}"
    smallest = provenance.get("smallest_text_px")
    if smallest is None:
        return f"{path.name}'s provenance records no text size: draw its text with imaging.Canvas and return save_webp's info"
    if smallest < MIN_TEXT_PX - 0.01:
        return f"{path.name}'s smallest text shows at {smallest} px in the {CONTENT_WIDTH}-px column"
    return None


@pytest.mark.parametrize("path", webp_figures(), ids=lambda p: p.relative_to(FIGURES).as_posix())
def test_every_webp_figures_text_shows_at_12_px_or_more_in_the_text_column(path):
    assert raster_text_problem(path) is None, raster_text_problem(path)


def test_the_webp_check_sees_small_text_and_a_provenance_that_does_not_match_its_picture(tmp_path):
    from figgen.figures.imaging import Canvas, save_webp

    canvas = Canvas(1376, 100)  # twice the column: text shows at half its size
    canvas.text((10, 10), "big enough", 24)
    info = save_webp(tmp_path / "fine.webp", canvas)
    (tmp_path / "fine.json").write_text(json.dumps(info))
    assert info["smallest_text_px"] == 12 and raster_text_problem(tmp_path / "fine.webp") is None
    (tmp_path / "fine.json").write_text(json.dumps({**info, "smallest_text_px": 11}))
    assert "11 px" in raster_text_problem(tmp_path / "fine.webp")
    (tmp_path / "fine.json").write_text(json.dumps({**info, "width": 688}))
    assert "688" in raster_text_problem(tmp_path / "fine.webp")
    (tmp_path / "fine.json").write_text(json.dumps({"width": 1376, "height": 100}))
    assert "records no text size" in raster_text_problem(tmp_path / "fine.webp")


def test_a_canvas_refuses_text_too_small_for_the_column_even_on_a_card_pasted_into_it():
    from figgen.figures.imaging import Canvas

    with pytest.raises(ValueError, match="would show at 11.0 px"):
        Canvas(1376, 100).text((10, 10), "tiny", 22)
    Canvas(600, 100).text((10, 10), "a narrow figure is shown at its own size", 12)
    card = Canvas(100, 100)
    card.text((5, 5), "fine on its own", 13)
    with pytest.raises(ValueError, match="fine on its own"):
        Canvas(1376, 200).paste(card, (0, 0))  # but not in a strip twice the column's width


def test_no_renderer_draws_text_on_a_picture_except_through_imaging():
    """ImageDraw draws text that the check above never sees; only imaging.py's Canvas may hold one."""
    users = [path.name for path in FIGURES_PACKAGE.glob("*.py") if path.name != "imaging.py" and "ImageDraw" in path.read_text()]
    assert users == []
