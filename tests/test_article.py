"""What can be checked mechanically about the article's five parts and its glossary."""

import re

import pytest
import yaml

from conftest import ROOT

DOCS = ROOT / "docs"
PARTS = [
    "part1-latent-diffusion.md",
    "part2-clip-text-embedder.md",
    "part3-vae.md",
    "part4-unet.md",
    "part5-putting-it-together.md",
]
LEFTOVER_MARKERS = re.compile(r"\bTODO\b|\bTBD\b|\bFIXME\b|\bINSERT\b|<font|\bXXX\b|\bYYY\b|[Tt]o come:|[Ll]orem ipsum")
FIGURE_LINE = re.compile(r"^(?:    )*\{\{ figure ([A-Za-z0-9_-]+) \}\}$", re.MULTILINE)  # indented: inside a box


def prose_words(markdown: str) -> int:
    """Words a reader reads: without the references, figure lines, code, link targets and markup."""
    text = markdown.split("\n## References", 1)[0]
    text = FIGURE_LINE.sub("", text)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # keep link text, drop targets
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    return len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’.,-]*", text))


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_part_and_the_glossary_are_in_the_nav():
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    pages = [next(iter(entry.values())) for entry in nav]
    for name in PARTS + ["glossary.md"]:
        assert name in pages, f"{name} is not in the nav of mkdocs.yml"


@pytest.mark.parametrize("name", PARTS)
def test_each_part_is_complete(name):
    text = page(name)
    number = int(name[4])
    words = prose_words(text)
    assert 1500 <= words <= 3000, f"{name} has {words} words; each part needs 1,500 to 3,000"
    figures = set(FIGURE_LINE.findall(text))
    assert len(figures) >= 3, f"{name} embeds {len(figures)} figures; each part needs at least 3"
    assert "\n## In one sentence\n" in text, f"{name} has no 'In one sentence' summary"
    references = text.split("\n## References", 1)
    assert len(references) == 2 and "https://arxiv.org/abs/" in references[1], f"{name} cites no arXiv paper"
    if number > 1:
        assert f"]({PARTS[number - 2]})" in text, f"{name} does not link to the previous part"
    if number < 5:
        assert f"]({PARTS[number]})" in text, f"{name} does not link to the next part"
    assert text.count("](glossary.md#") >= 5, f"{name} links too few terms to the glossary"


@pytest.mark.parametrize("name", PARTS + ["index.md", "glossary.md", "about-figures.md"])
def test_no_leftover_markers(name):
    match = LEFTOVER_MARKERS.search(page(name))
    assert match is None, f"{name} still has '{match.group(0)}'"


def test_glossary_defines_every_term_the_chapters_link_to():
    glossary = page("glossary.md")
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).strip().replace(" ", "-")
        for heading in re.findall(r"^## (.+)$", glossary, re.MULTILINE)
    }
    linked = set()
    for name in PARTS:
        linked |= set(re.findall(r"\]\(glossary\.md#([a-z0-9-]+)\)", page(name)))
    assert linked, "no chapter links to the glossary"
    assert linked <= anchors, f"linked but not defined: {sorted(linked - anchors)}"
