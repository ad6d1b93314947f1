"""The catalogue is valid data, and bad entries are reported clearly."""

import importlib
import re

import pytest

from figgen.catalogue import CatalogueError, load_catalogue, specs_of

from conftest import ROOT

VALID_FIGURE = """
[captures.c]
prompt = "p"
seed = 1
steps = 2
guidance_scale = 7.5
scheduler = "ddim"

[[figures]]
id = "f"
part = 1
needs = "weights"
capture = "c"
renderer = "denoise.sequence"
output = "part1/f.webp"
alt = "a"
caption = "c"
"""


def test_every_catalogue_figure_has_a_renderer_alt_text_and_caption():
    catalogue = load_catalogue()
    assert catalogue.figures, "the catalogue is empty"
    for figure in catalogue.figures:
        module, function = figure.renderer.split(".")
        assert callable(getattr(importlib.import_module(f"figgen.figures.{module}"), function)), figure.id
        assert len(figure.alt) > 40 and figure.caption, figure.id
        assert 0 <= figure.part <= 5  # 0: a page outside the five parts (Meet mini-sd)
        if figure.needs == "weights":
            assert specs_of(figure), figure.id
        if figure.fallback:
            module, function = figure.fallback.split(".")
            assert callable(getattr(importlib.import_module(f"figgen.figures.{module}"), function)), figure.id


def test_every_figure_is_used_by_a_chapter_and_every_chapter_figure_exists():
    catalogue = load_catalogue()
    used = set()
    for page in (ROOT / "docs").glob("*.md"):
        for line in page.read_text().splitlines():
            if line.lstrip(" ").startswith("{{ figure "):
                figure_id = line.split()[2]
                catalogue.by_id(figure_id)  # raises for an unknown id
                used.add(figure_id)
    assert used == {f.id for f in catalogue.figures}


@pytest.mark.parametrize(
    "change, message",
    [
        (('scheduler = "ddim"', 'scheduler = "euler"'), "scheduler 'euler' is not one of ddim, pndm"),
        (('capture = "c"', 'capture = "nope"'), "capture 'nope' is not defined"),
        (('needs = "weights"', 'needs = "gpu"'), "needs must be one of"),
        (('seed = 1', 'seed = "one"'), "'seed' must be int"),
        (('output = "part1/f.webp"', 'output = "../f.webp"'), "must be a path inside the figures folder"),
        (('alt = "a"\n', ''), "missing 'alt'"),
        (('steps = 2', 'steps = 2\nheight = 500'), "height must be a positive multiple of 8"),
        (('id = "f"', 'id = "f"\nid = "g"'), "not valid TOML"),
        (('alt = "a"', 'alt = "a"\ncolour = "red"'), "unknown keys ['colour']; a figure takes"),
        (('seed = 1', 'seed = 1\nbase = "nope"'), "base 'nope' is not a capture"),
        (('seed = 1', 'seed = 1\nbase = "c"'), "base 'c' leads back to itself"),
    ],
)
def test_malformed_catalogue_names_the_entry_and_the_problem(tmp_path, change, message):
    path = tmp_path / "catalogue.toml"
    path.write_text(VALID_FIGURE.replace(*change))
    with pytest.raises(CatalogueError, match=re.escape(message)):
        load_catalogue(path)


def test_the_same_id_twice_is_refused(tmp_path):
    path = tmp_path / "catalogue.toml"
    path.write_text(VALID_FIGURE + "[[figures]]" + VALID_FIGURE.split("[[figures]]")[1])
    with pytest.raises(CatalogueError, match="the id 'f' is used twice"):
        load_catalogue(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ('[captures.p]\nphoto = "astronaut"\nseed = 1\ntimesteps = [0, 1000]\n', "timesteps must be whole numbers from 0 to 999"),
        ('[captures.p]\nphoto = "astronaut"\nseed = 1\ntimesteps = [0]\nsteps = 5\n', "unknown keys \\['steps'\\]"),
        (VALID_FIGURE.replace('needs = "weights"\ncapture = "c"', 'needs = "nothing"') + 'fallback = "noising.photo"\n',
         "only a figure that needs weights can have a fallback"),
    ],
)
def test_photo_captures_and_fallbacks_are_validated(tmp_path, text, message):
    path = tmp_path / "catalogue.toml"
    path.write_text(text)
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(path)


def test_a_capture_states_only_what_differs_from_its_base(tmp_path):
    path = tmp_path / "catalogue.toml"
    text = VALID_FIGURE.replace('scheduler = "ddim"', 'scheduler = "ddim"\nmini = { prompt = "a red circle on a blue background" }')
    text += '\n[captures.d]\nbase = "c"\nseed = 9\n\n[captures.e]\nbase = "d"\nscheduler = "pndm"\nmini = { seed = 4 }\n'
    text += 'decode_steps = false\n'
    text = text.replace('capture = "c"', 'captures = ["c", "d", "e"]')
    figure = load_catalogue(path.write_text(text) and path).figures[0]
    c, d, e = specs_of(figure)
    assert (d.prompt, d.seed, d.steps, d.scheduler) == ("p", 9, 2, "ddim")
    assert (e.seed, e.scheduler, e.decode_steps, c.decode_steps) == (9, "pndm", False, True)
    mini_c, mini_d, mini_e = specs_of(figure, "mini")
    assert mini_d.prompt == mini_e.prompt == "a red circle on a blue background"  # the base's mini settings carry over
    assert (mini_d.seed, mini_e.seed) == (9, 4)
