"""The site builds with --strict, and what a reader gets is really there."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin

import pytest
import yaml

from figgen.catalogue import load_catalogue

from conftest import ROOT, build


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])


def resolve(site: Path, page: Path, url: str) -> Path:
    """The file in `site` that a relative URL on `page` points at."""
    base = "file://" + page.as_posix()
    target = Path(unquote(urljoin(base, url.split("#")[0])[len("file://"):]))
    return target / "index.html" if target.is_dir() else target


def test_every_part_is_in_the_nav_in_order():
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    pages = [next(iter(entry.values())) for entry in nav]
    assert pages[0] == "index.md"
    parts = [page for page in pages if page.startswith("part")]
    assert [int(page[4]) for page in parts] == [1, 2, 3, 4, 5]
    assert any(page.endswith(".ipynb") for page in pages)


def test_every_image_and_link_on_every_page_resolves(site):
    pages = list(site.rglob("index.html"))
    assert len(pages) >= 8
    for page in pages:
        parser = Images()
        parser.feed(page.read_text())
        for image in parser.images:
            src = image["src"]
            if src.startswith(("data:", "http")):
                continue
            assert resolve(site, page, src).is_file(), f"{page}: image {src} is missing"
            assert image.get("alt", "").strip(), f"{page}: image {src} has no alt text"
        for href in parser.links:
            if href.startswith(("http", "mailto:", "#", "data:")) or not href:  # data: a notebook's picture, enlarged
                continue
            assert resolve(site, page, href).exists(), f"{page}: link {href} is broken"


def test_part1_embeds_the_denoise_figure_with_caption_and_provenance(site):
    html = (site / "part1-latent-diffusion" / "index.html").read_text()
    figure = load_catalogue().by_id("denoise-renoise")
    match = re.search(r'<figure[^>]*id="fig-denoise-renoise".*?</figure>', html, re.S)
    assert match, "Part 1 has no denoise-renoise figure"
    block = match.group(0)
    assert f'src="../figures/{figure.output}"' in block
    assert "<figcaption>" in block and figure.caption.split(".")[0] in block
    assert 'class="figgen-provenance"' in block
    provenance = (ROOT / "docs" / "figures" / figure.output).with_suffix(".json")
    assert f'href="../figures/{Path(figure.output).with_suffix(".json").as_posix()}"' in block
    recorded = json.loads(provenance.read_text())
    if recorded.get("placeholder"):
        assert "Placeholder" in block and 'alt="Placeholder card' in block
    elif recorded["model"] == "mini-sd":
        assert '<strong>Drawn by <a href="../mini-sd/">mini-sd</a></strong>' in block
        assert f"prompt “{recorded['captures'][0]['spec']['prompt']}”" in block and "mini-sd" in block.split("alt=")[1][:400]
    else:
        assert "<strong>Drawn by Stable Diffusion 1.4</strong>" in block
    assert "{" not in re.sub(r"<svg.*?</svg>", "", block, flags=re.S), "a {fact} in the alt text or caption was not filled in"


def test_the_notebook_page_is_built_with_its_stored_outputs(site):
    html = (site / "try-it" / "index.html").read_text()
    assert "The start of the try-it chapter" in html
    assert "training timesteps: 1000" in html


def test_formulas_are_mathml_and_no_page_loads_a_maths_script(site):
    for page in ("part1-latent-diffusion", "part4-unet"):
        markdown = (ROOT / "docs" / f"{page}.md").read_text()
        formulas = re.findall(r"\$\$.+?\$\$|\$[^$\n]+?\$", markdown)
        html = (site / page / "index.html").read_text()
        assert len(formulas) >= 3 and html.count("<math ") == len(formulas), page
        assert 'class="arithmatex"' not in html and "\\(" not in html, f"{page} still holds raw LaTeX"
    part4 = (site / "part4-unet" / "index.html").read_text()
    display = re.search(r'<div class="formula"[^>]*><math [^>]*display="block".*?</math></div>', part4, re.S).group(0)
    assert "<msqrt>" in display and ("&#x003B5;" in display or "ε" in display)  # the square roots and the epsilon of x_t's formula
    assert not list(site.rglob("*mathjax*")) and "mathjax" not in part4.lower()


@pytest.mark.parametrize(
    "addition, complaint",
    [
        ("[broken](no-such-page.md)", "no-such-page.md"),
        ("[bad anchor](part2-clip-text-embedder.md#no-such-heading)", "no-such-heading"),
        ("{{ figure no-such-figure }}", "no-such-figure"),
        ("{{figure mini-sd-world}}", "is not a figure line"),
        ("  {{ figure mini-sd-world }}", "is not a figure line"),
        # Raw HTML that MkDocs does not check itself: htmlproofer reads the built page.
        ('<a href="../part2-clip-text-embedder/#no-such-heading">raw</a>', "no-such-heading"),
        ('<img src="../figures/part1/no-such-picture.webp" alt="x">', "no-such-picture.webp"),
    ],
)
def test_strict_build_fails_on_broken_links_anchors_and_figures(real_docs, tmp_path, addition, complaint):
    page = real_docs / "docs" / "part1-latent-diffusion.md"
    page.write_text(page.read_text() + f"\n{addition}\n")
    result = build(real_docs, tmp_path / "site")
    assert result.returncode != 0
    assert complaint in result.stderr


def test_provenance_lines_say_how_each_figure_was_made(site):
    html = (site / "part4-unet" / "index.html").read_text()
    unet = re.search(r'<figure[^>]*id="fig-unet".*?</figure>', html, re.S).group(0)
    assert "Computed by figgen from Stable Diffusion 1.4's configuration" in unet
    noising = re.search(r'<figure[^>]*id="fig-forward-noising".*?</figure>', html, re.S).group(0)
    provenance = (ROOT / "docs" / "figures" / "part4" / "forward-noising.json").read_text()
    if '"fallback": true' in provenance:
        assert "<strong>Drawn without any model's weights</strong>" in noising
    else:
        assert "<strong>Drawn by " in noising


def test_captions_name_the_model_from_the_provenance_and_fill_in_its_facts():
    from figgen import site_hook

    figure = load_catalogue().by_id("denoise-renoise")
    spec = {"prompt": "a red square on a white background", "seed": 3, "steps": 50, "guidance_scale": 7.5,
            "scheduler": "ddim", "height": 64, "width": 64}
    mini = {"model": "mini-sd", "revision": "abc", "parameters": 7_497_851,
            "captures": [{"spec": spec, "scheduler": "DDIMScheduler"}], "device": "cpu", "device_name": "CPU", "dtype": "float32"}
    line = site_hook.describe(mini, "x.json", "../mini-sd.md")
    assert line.startswith("**Drawn by [mini-sd](../mini-sd.md)**, this site's miniature, not by Stable Diffusion 1.4;")
    assert "DDIM, 50 steps" in line and "CPU" not in line  # short: it sits under a dozen figures
    assert "prompt “a red square on a white background”" in line and "64 × 64 pixels" in line
    sd14 = {**mini, "model": "CompVis/stable-diffusion-v1-4",
            "captures": [{"spec": {**spec, "height": 512, "width": 512}, "scheduler": "DDIMScheduler"}]}
    assert site_hook.describe(sd14, "x.json").startswith("**Drawn by Stable Diffusion 1.4**")
    facts = site_hook.facts(figure, mini)
    assert (facts["model"], facts["prompt"], facts["size"], facts["latent_side"]) == ("mini-sd", spec["prompt"], 64, 8)
    assert site_hook.facts(figure, sd14)["model"] == "Stable Diffusion 1.4"
    records = site_hook.describe({"renderer": "minisd.loss_curves"}, "x.json", "mini-sd.md")
    assert records.startswith("Drawn by figgen from [mini-sd](mini-sd.md)'s own files") and "configuration" not in records
    timeline = site_hook.describe({"renderer": "timeline.draw", "events": [{"date": "2015-03-12"}]}, "x.json")
    assert timeline.startswith("Drawn by figgen from the dates, papers and authors") and "weights" not in timeline
    placeholder = site_hook.describe({"placeholder": True}, "x.json", about_link="../about-figures.md#x")
    assert "has not been drawn yet" in placeholder and "will show" not in placeholder
    stand_in = site_hook.describe({"fallback": True}, "x.json", about_link="../about-figures.md#x")
    for line in (placeholder, stand_in):  # readers get a link to the About page, not a command
        assert "(../about-figures.md#x)" in line
        assert "figgen" not in line and "make " not in line and "`" not in line


def test_a_misspelt_fact_in_a_caption_is_named_with_the_names_there_are(caplog):
    """The hook warns (a failure under --strict) naming the figure, the unknown name and the known ones."""
    import types

    from figgen import site_hook

    figure = load_catalogue().by_id("guidance-sweep")
    page = types.SimpleNamespace(file=types.SimpleNamespace(src_uri="part4-unet.md"))
    provenance = {"model": "mini-sd", "captures": [{"spec": {"prompt": "a red circle on a blue background", "seed": 3,
                                                             "steps": 50, "guidance_scale": 1.0, "height": 64}}]}
    assert site_hook.fill("Seed {seed}.", figure, provenance, page) == "Seed 3."
    with caplog.at_level("WARNING", logger="mkdocs.hooks.figgen"):
        assert site_hook.fill("Seed {sede}.", figure, provenance, page) == "Seed {sede}."
    (warning,) = caplog.messages
    assert "part4-unet.md: figure 'guidance-sweep' names 'sede'" in warning and "seed" in warning.split("known names")[1]
