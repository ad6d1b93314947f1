"""Shared fixtures: a tiny random-weight SD pipeline saved to disk, and a small catalogue.

Everything runs offline on a CPU: HF_HUB_OFFLINE is set before any Hugging
Face library is imported, and no test downloads anything.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from figgen import models
from figgen.cli import main as figgen_main

from figgen.tiny import build_tiny_pipeline

ROOT = Path(__file__).resolve().parents[1]

# A catalogue shaped like the real one, but small enough to run in a second.
SMALL_CATALOGUE = """
[captures.small-ddim]
prompt = "a cat on a mat"
seed = 7
steps = 6
guidance_scale = 7.5
scheduler = "ddim"
height = 64
width = 64

[[figures]]
id = "seq"
part = 1
needs = "weights"
capture = "small-ddim"
renderer = "denoise.sequence"
output = "part1/seq.webp"
alt = "x_t and x0 at three steps"
caption = "A small sequence."
[figures.params]
show_steps = [1, 3, 6]
tile_size = 64
lossless = true

[[figures]]
id = "anim"
part = 1
needs = "weights"
capture = "small-ddim"
renderer = "denoise.animation"
output = "part1/anim.webp"
alt = "every step"
caption = "A small animation."
[figures.params]
tile_size = 64
lossless = true
"""


@pytest.fixture(autouse=True)
def no_mini_sd_unless_asked(request, monkeypatch):
    """figgen falls back to the committed mini-sd when SD 1.4 is missing; tests that are about
    other models (or about having no model at all) hide it, and those that ask for `mini_sd` get it."""
    if "mini_sd" not in request.fixturenames:
        monkeypatch.setattr(models, "MINI_SD_FOLDER", ROOT / "models" / "no-mini-sd-in-this-test")


@pytest.fixture
def mini_sd() -> Path:
    """The committed mini-sd folder, which a fresh clone must have."""
    folder = ROOT / "models" / "mini-sd"
    assert (folder / "model_index.json").is_file(), "models/mini-sd is missing: it is committed with the project"
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The tiny pipeline, saved with save_pretrained (built once per test session)."""
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture
def project(tmp_path) -> dict:
    """A scratch project: the small catalogue, an empty figures folder and an empty cache."""
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(SMALL_CATALOGUE)
    return {"catalogue": catalogue, "figures": tmp_path / "figures", "cache": tmp_path / "cache"}


def figgen(project: dict, *args: str) -> int:
    """Run the figgen CLI in this process on a scratch project."""
    command, *rest = args
    return figgen_main(
        [
            command,
            "--catalogue",
            str(project["catalogue"]),
            "--figures-dir",
            str(project["figures"]),
            "--cache-dir",
            str(project["cache"]),
            *rest,
        ]
    )


def snapshot(folder: Path) -> dict:
    """Every file below `folder` with its bytes, to compare before and after."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def real_docs(tmp_path) -> Path:
    """A copy of the project's docs/ and mkdocs.yml, to build or modify without touching the tree."""
    target = tmp_path / "project"
    shutil.copytree(ROOT / "docs", target / "docs")
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    (target / "figgen").mkdir()
    shutil.copy(ROOT / "figgen" / "site_hook.py", target / "figgen" / "site_hook.py")
    return target


def build(project: Path, site: Path) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of the project in `project` into `site`."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project, capture_output=True, text=True,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The project's site, built once per test session with --strict."""
    site = tmp_path_factory.mktemp("site")
    result = build(ROOT, site)
    assert result.returncode == 0, result.stderr
    return site


@pytest.fixture(scope="session")
def site_url(site) -> str:
    """The built site served over HTTP on 127.0.0.1 (base URL, ending in '/')."""
    from figgen.sitecheck import serve

    with serve(site) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's), driven by Playwright."""
    from figgen.sitecheck import chromium

    with chromium() as browser:
        yield browser
