"""`figgen render` and `figgen list` end to end, on the tiny pipeline, offline."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from figgen import models as figgen_models
from figgen.cache import load_capture
from figgen.figures import denoise

from conftest import ROOT, figgen, snapshot


def frames_of(path: Path) -> list[np.ndarray]:
    with Image.open(path) as image:
        frames = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
        return frames


def no_model_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("figgen loaded a model although every capture was cached")

    monkeypatch.setattr(figgen_models, "load_pipeline", refuse)


def only_capture(project):
    (path,) = (project["cache"] / "captures").glob("*.safetensors")
    return load_capture(path)


def test_render_writes_figures_from_the_captured_tensors(project, tiny_model):
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    capture = only_capture(project)
    steps = len(capture.arrays["timesteps"])
    assert steps == 6

    sequence = project["figures"] / "part1" / "seq.webp"
    (grid,) = frames_of(sequence)
    provenance = json.loads(sequence.with_suffix(".json").read_text())
    assert grid.shape == (provenance["height"], provenance["width"], 3)
    # Each tile is the decoded latent of its step: one column per step, x_t in the top row and x0 below it
    # (how far down each row starts depends on the size of the text above it).
    tops = {}
    for column, step in enumerate([1, 3, 6]):
        left = denoise.MARGIN + column * (64 + denoise.GAP)
        for row, name in enumerate(["decoded_latents", "decoded_pred_original_sample"]):
            expected = capture.arrays[name][step - 1]
            found = [top for top in range(grid.shape[0] - 63) if np.array_equal(grid[top : top + 64, left : left + 64], expected)]
            assert found, f"{name} at step {step} is not in column {column + 1}"
            tops.setdefault(row, set()).update(found[:1])
    assert len(tops[0]) == len(tops[1]) == 1 and min(tops[1]) >= min(tops[0]) + 64 + denoise.GAP

    animation = project["figures"] / "part1" / "anim.webp"
    frames = frames_of(animation)
    assert len(frames) == steps + 1
    for index in (0, steps - 1):
        left_tile = frames[index][denoise.MARGIN : denoise.MARGIN + 64, denoise.MARGIN : denoise.MARGIN + 64]
        np.testing.assert_array_equal(left_tile, capture.arrays["decoded_latents"][index])
        right = denoise.MARGIN + 64 + denoise.GAP
        right_tile = frames[index][denoise.MARGIN : denoise.MARGIN + 64, right : right + 64]
        np.testing.assert_array_equal(right_tile, capture.arrays["decoded_pred_original_sample"][index])
    last = frames[-1][denoise.MARGIN : denoise.MARGIN + 64, denoise.MARGIN : denoise.MARGIN + 64]
    np.testing.assert_array_equal(last, capture.arrays["image"])

    record = json.loads(animation.with_suffix(".json").read_text())
    assert record["placeholder"] is False
    assert record["frames"] == steps + 1
    (run,) = record["captures"]
    assert run["spec"] == {
        "prompt": "a cat on a mat", "negative_prompt": "", "seed": 7, "steps": 6, "guidance_scale": 7.5,
        "scheduler": "ddim", "height": 64, "width": 64, "decode_steps": True, "attention": False,
    }
    assert run["scheduler"] == "DDIMScheduler" and run["capture_seconds"] > 0
    for field, value in {"device": "cpu", "dtype": "float32", "model": str(tiny_model)}.items():
        assert record[field] == value, field
    assert record["revision"] and record["versions"]["diffusers"]


def test_second_run_uses_the_cache_and_loads_no_model(project, tiny_model, monkeypatch):
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    before = snapshot(project["figures"])
    no_model_loading(monkeypatch)
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    assert snapshot(project["figures"]) == before  # nothing rewritten
    # --force renders again, still from the cache.
    assert figgen(project, "render", "--model", str(tiny_model), "--force", "--only", "seq") == 0


def test_second_run_does_not_even_import_torch(project, tiny_model):
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    code = (
        "import sys; from figgen.cli import main; "
        f"status = main(['render', '--model', {str(tiny_model)!r}, '--catalogue', {str(project['catalogue'])!r}, "
        f"'--figures-dir', {str(project['figures'])!r}, '--cache-dir', {str(project['cache'])!r}]); "
        "assert status == 0; assert 'torch' not in sys.modules and 'diffusers' not in sys.modules, 'model code imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "2 up to date" in result.stderr


def test_changed_renderer_parameters_rerender_without_recapturing(project, tiny_model, monkeypatch):
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    animation_before = (project["figures"] / "part1" / "anim.webp").read_bytes()
    text = project["catalogue"].read_text().replace("show_steps = [1, 3, 6]", "show_steps = [2, 4]")
    project["catalogue"].write_text(text)
    no_model_loading(monkeypatch)
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    record = json.loads((project["figures"] / "part1" / "seq.json").read_text())
    assert record["steps_shown"] == [2, 4]
    assert (project["figures"] / "part1" / "anim.webp").read_bytes() == animation_before


def test_interrupted_render_leaves_no_partial_file_and_resumes_from_cache(project, tiny_model, monkeypatch):
    original_save = Image.Image.save

    def interrupted_save(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"RIFF\x00\x00half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted_save)
    assert figgen(project, "render", "--model", str(tiny_model)) == 130
    assert snapshot(project["figures"]) == {}  # not even a temporary file
    assert only_capture(project) is not None  # the capture finished and was cached

    monkeypatch.setattr(Image.Image, "save", original_save)
    no_model_loading(monkeypatch)
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    assert len(frames_of(project["figures"] / "part1" / "anim.webp")) == 7

    # Interrupting a forced re-render leaves the existing files as they were.
    before = snapshot(project["figures"])
    monkeypatch.setattr(Image.Image, "save", interrupted_save)
    assert figgen(project, "render", "--model", str(tiny_model), "--force") == 130
    assert snapshot(project["figures"]) == before


def test_leftover_temporary_files_are_cleaned_up(project, tiny_model):
    stale = project["figures"] / "part1" / ".seq.webp.figgen-tmp-12345"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by a killed run")
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    assert not stale.exists()


def run_cli(*args, env_extra=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "figgen", *args], capture_output=True, text=True, env=env, cwd=ROOT)


def project_args(project):
    return ["--catalogue", str(project["catalogue"]), "--figures-dir", str(project["figures"]), "--cache-dir", str(project["cache"])]


def test_missing_sd14_is_a_clear_error_and_writes_nothing(project, tmp_path, monkeypatch):
    empty_hf_home = tmp_path / "hf-home"
    # Start from figures that already exist (placeholders), and check they survive.
    monkeypatch.setenv("HF_HOME", str(empty_hf_home))
    assert figgen(project, "render") == 0
    before = snapshot(project["figures"])
    result = run_cli("render", "--model", "sd14", *project_args(project), env_extra={"HF_HOME": str(empty_hf_home)})
    assert result.returncode == 1
    message = result.stderr
    assert "cannot load model 'sd14' (CompVis/stable-diffusion-v1-4)" in message
    assert "not in the local Hugging Face cache" in message and str(empty_hf_home) in message
    assert "hf download CompVis/stable-diffusion-v1-4" in message and "--model PATH" in message
    assert "hf auth login" in message and "nothing was written" in message
    assert "Traceback" not in message
    assert snapshot(project["figures"]) == before
    assert not (project["cache"] / "captures").exists()


@pytest.mark.parametrize(
    "make_folder, expected",
    [
        (lambda root: root / "does-not-exist", "no such folder"),
        (lambda root: root, "has no model_index.json"),
    ],
)
def test_bad_model_folder_is_a_clear_error(project, tmp_path, make_folder, expected):
    folder = make_folder(tmp_path / "not-a-model")
    if folder.name != "does-not-exist":
        folder.mkdir(parents=True)
    result = run_cli("render", "--model", str(folder), *project_args(project))
    assert result.returncode == 1
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert snapshot(project["figures"]) == {}


def test_folder_with_only_pickled_weights_is_refused(project, tiny_model, tmp_path):
    """figgen loads safetensors only: a folder whose weights are pickled .bin files must be refused."""
    import torch
    from diffusers import StableDiffusionPipeline

    folder = tmp_path / "bin-only"
    pipe = StableDiffusionPipeline.from_pretrained(tiny_model, torch_dtype=torch.float32, safety_checker=None,
                                                   feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=False)
    # transformers writes safetensors regardless; store the text encoder pickled as well, by hand.
    for weights in folder.rglob("*.safetensors"):
        torch.save(pipe.text_encoder.state_dict(), weights.with_name("pytorch_model.bin"))
        weights.unlink()
    assert not list(folder.rglob("*.safetensors")) and list(folder.rglob("*.bin")), "the folder should hold only .bin weights"
    assert figgen(project, "render", "--model", str(folder)) == 1
    assert snapshot(project["figures"]) == {}


@pytest.mark.parametrize(
    "change",
    [{"prompt": "another prompt"}, {"negative_prompt": "blurry"}, {"seed": 8}, {"steps": 7}, {"guidance_scale": 3.0},
     {"scheduler": "pndm"}, {"height": 72}, {"width": 72}, {"decode_steps": False}, {"attention": True}],
)
def test_every_setting_of_a_capture_changes_its_key(change):
    """A capture key that ignored a setting would let two different runs share one cached capture."""
    import dataclasses

    from figgen.cache import capture_key
    from figgen.catalogue import CaptureSpec
    from figgen.models import ModelSource

    base = CaptureSpec(name="c", prompt="a cat", seed=7, steps=6, guidance_scale=7.5, scheduler="ddim", height=64, width=64)
    source = ModelSource("folder", Path("/nowhere"), "rev1")
    assert set(change) <= {f.name for f in dataclasses.fields(CaptureSpec)}
    assert capture_key(dataclasses.replace(base, **change), source) != capture_key(base, source)


def test_the_model_and_library_versions_change_a_capture_key(monkeypatch):
    from figgen import cache
    from figgen.catalogue import CaptureSpec
    from figgen.models import ModelSource

    spec = CaptureSpec(name="c", prompt="a cat", seed=7, steps=6, guidance_scale=7.5, scheduler="ddim")
    key = cache.capture_key(spec, ModelSource("folder", Path("/nowhere"), "rev1"))
    assert cache.capture_key(spec, ModelSource("folder", Path("/nowhere"), "rev2")) != key
    assert cache.capture_key(spec, ModelSource("mini-sd", Path("/nowhere"), "rev1", "mini")) != key
    real = cache.versions()
    for library in ("torch", "diffusers", "transformers"):
        monkeypatch.setattr(cache, "versions", lambda library=library: {**real, library: "99.0.0"})
        assert cache.capture_key(spec, ModelSource("folder", Path("/nowhere"), "rev1")) != key, library


def test_without_weights_placeholders_are_written_and_the_run_succeeds(project, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    assert figgen(project, "render") == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "CompVis/stable-diffusion-v1-4" in err and "seq, anim" in err and "make figures" in err
    for name in ("seq", "anim"):
        record = json.loads((project["figures"] / "part1" / f"{name}.json").read_text())
        assert record["placeholder"] is True
        assert f"--only {name}" in record["render_with"]
        with Image.open(project["figures"] / "part1" / f"{name}.webp") as image:
            assert image.size == (record["width"], record["height"])


def test_a_rendered_figure_is_never_replaced_by_a_placeholder(project, tiny_model, tmp_path, monkeypatch):
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    before = snapshot(project["figures"])
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    assert figgen(project, "render") == 0
    assert figgen(project, "render", "--force") == 0
    assert snapshot(project["figures"]) == before


def test_placeholders_give_way_to_real_renders(project, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    assert figgen(project, "render") == 0
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    assert json.loads((project["figures"] / "part1" / "seq.json").read_text())["placeholder"] is False


def test_list_shows_each_figure_and_its_state(project, tiny_model, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    assert figgen(project, "list", "--model", str(tiny_model)) == 0
    out = capsys.readouterr().out
    assert "seq" in out and "anim" in out and out.count("missing") == 2
    assert figgen(project, "render", "--model", str(tiny_model), "--only", "seq") == 0
    capsys.readouterr()
    assert figgen(project, "list", "--model", str(tiny_model)) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert "up to date" in lines["seq"] and "missing" in lines["anim"] and "weights" in lines["seq"]
    assert figgen(project, "list") == 0
    assert "no weights here to check it" in capsys.readouterr().out


def test_unknown_figure_id_is_an_error(project, tiny_model, capsys):
    assert figgen(project, "render", "--model", str(tiny_model), "--only", "nope") == 2
    assert "no figure 'nope'" in capsys.readouterr().err


def test_the_real_catalogue_renders_on_the_tiny_pipeline(tiny_model, tmp_path):
    """The article's own entries drawn from its main run, at full size (512 x 512, 50 steps), as sd14 would be.

    Every figure of the real catalogue drawn from the Part 1 run alone, so that one capture (not the
    twenty of the whole set, minutes on two cores) exercises the real settings of each renderer.
    """
    from figgen.catalogue import load_catalogue, specs_of

    main_run = [f.id for f in load_catalogue().figures if [s.name for s in specs_of(f)] == ["astronaut-ddim"]]
    assert {"denoise-renoise", "denoise-renoise-animation", "cross-attention", "storyboard"} <= set(main_run)
    figures = tmp_path / "figures"
    result = run_cli("render", "--model", str(tiny_model), "--figures-dir", str(figures),
                     "--cache-dir", str(tmp_path / "cache"), "--only", *main_run)
    assert result.returncode == 0, result.stderr
    assert "'astronaut-ddim': 50 steps, ddim, seed 1024" in result.stderr
    for figure_id in main_run:
        output = next(f.output for f in load_catalogue().figures if f.id == figure_id)
        assert json.loads((figures / output).with_suffix(".json").read_text())["placeholder"] is False
    (grid,) = frames_of(figures / "part1" / "denoise-renoise.webp")
    assert grid.shape[1] > grid.shape[0] > 2 * 256
    assert len(frames_of(figures / "part1" / "denoise-renoise-animation.webp")) == 51


def test_figures_that_need_no_weights_render_without_any_model(project, tmp_path, monkeypatch):
    """A figure computed from arithmetic alone is rendered even when no weights are here."""
    import types

    module = types.ModuleType("figgen.figures.squares")

    def grid(destination, *, size):
        Image.new("RGB", (size, size), (200, 30, 30)).save(destination, format="WEBP", lossless=True)
        return {"width": size, "height": size}

    module.grid = grid
    monkeypatch.setitem(sys.modules, "figgen.figures.squares", module)
    project["catalogue"].write_text(
        project["catalogue"].read_text()
        + '\n[[figures]]\nid = "sq"\npart = 1\nneeds = "nothing"\nrenderer = "squares.grid"\n'
        'output = "part1/sq.webp"\nalt = "a red square"\ncaption = "Red."\n[figures.params]\nsize = 32\n'
    )
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    no_model_loading(monkeypatch)
    assert figgen(project, "render") == 0
    (square,) = frames_of(project["figures"] / "part1" / "sq.webp")
    assert square.shape == (32, 32, 3) and tuple(square[0, 0]) == (200, 30, 30)
    record = json.loads((project["figures"] / "part1" / "sq.json").read_text())
    assert record["placeholder"] is False and "model" not in record
    assert json.loads((project["figures"] / "part1" / "seq.json").read_text())["placeholder"] is True


def test_figgen_outside_the_project_folder_refuses_to_guess_where_figures_go(tmp_path):
    result = subprocess.run([sys.executable, "-m", "figgen", "render"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert "run figgen from the project folder" in result.stderr and "--figures-dir" in result.stderr
    assert list(tmp_path.iterdir()) == []


def fake_sd14_cache(hf_home: Path, tiny_model: Path, revision: str) -> Path:
    """Lay the tiny pipeline out as SD 1.4's snapshot in a Hugging Face hub cache."""
    import shutil

    repo = hf_home / "hub" / "models--CompVis--stable-diffusion-v1-4"
    snapshot_dir = repo / "snapshots" / revision
    shutil.copytree(tiny_model, snapshot_dir)
    tokenizer = snapshot_dir / "tokenizer"
    vocab = json.loads((tokenizer / "tokenizer.json").read_text())["model"]["vocab"]
    (tokenizer / "vocab.json").write_text(json.dumps(vocab))
    (tokenizer / "merges.txt").write_text("#version: 0.2\n")
    (tokenizer / "special_tokens_map.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    return snapshot_dir


def test_sd14_in_the_local_cache_is_used_without_asking(project, tiny_model, tmp_path, monkeypatch):
    revision = "0123456789abcdef0123456789abcdef01234567"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    fake_sd14_cache(tmp_path / "hf-home", tiny_model, revision)
    assert figgen(project, "render") == 0
    record = json.loads((project["figures"] / "part1" / "seq.json").read_text())
    assert record["placeholder"] is False
    assert record["model"] == "CompVis/stable-diffusion-v1-4" and record["revision"] == revision
    # A new revision in the cache is a different model: everything is captured again.
    fake_sd14_cache(tmp_path / "hf-home2", tiny_model, "f" * 40)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home2"))
    assert figgen(project, "render") == 0
    assert json.loads((project["figures"] / "part1" / "seq.json").read_text())["revision"] == "f" * 40
    assert len(list((project["cache"] / "captures").glob("*.safetensors"))) == 2


def test_a_bad_renderer_parameter_names_the_figure_and_keeps_earlier_figures(project, tiny_model, capsys):
    text = project["catalogue"].read_text().replace("show_steps = [1, 3, 6]", "show_steps = [1, 60]")
    # Put the broken figure last so that the good one is rendered first.
    good, broken = text.split("[[figures]]")[2], text.split("[[figures]]")[1]
    project["catalogue"].write_text(text.split("[[figures]]")[0] + "[[figures]]" + good + "[[figures]]" + broken)
    assert figgen(project, "render", "--model", str(tiny_model)) == 1
    err = capsys.readouterr().err
    assert "figure 'seq' (renderer denoise.sequence) failed: show_steps [60] are outside 1..6" in err
    assert "Traceback" not in err
    assert (project["figures"] / "part1" / "anim.webp").exists()
    assert not (project["figures"] / "part1" / "seq.webp").exists()


PHOTO_CATALOGUE = """
[captures.photo]
photo = "coffee"
seed = 5
timesteps = [0, 400, 999]

[[figures]]
id = "noising"
part = 4
needs = "weights"
capture = "photo"
renderer = "noising.latent"
fallback = "noising.photo"
output = "part4/noising.webp"
alt = "a photo, noised"
caption = "Noise."
[figures.params]
tile_size = 64
[figures.fallback_params]
photo = "coffee"
timesteps = [0, 400, 999]
tile_size = 64
"""


def test_photo_capture_noises_the_vae_latent_exactly(project, tiny_model, tmp_path):
    import torch
    from diffusers import AutoencoderKL

    from figgen.photos import load_photo

    project["catalogue"].write_text(PHOTO_CATALOGUE)
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    capture = only_capture(project)
    arrays = capture.arrays
    # The latent is the tiny VAE's own encoding of the photo, done here independently.
    vae = AutoencoderKL.from_pretrained(tiny_model, subfolder="vae")
    photo = load_photo("coffee", 64)
    np.testing.assert_array_equal(arrays["photo"], photo)
    with torch.no_grad():
        pixels = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 127.5 - 1
        expected = vae.encode(pixels).latent_dist.mean[0] * vae.config.scaling_factor
    np.testing.assert_allclose(arrays["latents"], expected.numpy(), atol=1e-5)
    betas = np.linspace(0.00085**0.5, 0.012**0.5, 1000) ** 2
    alphas_cumprod = np.cumprod(1 - betas)
    for index, t in enumerate([0, 400, 999]):
        a = alphas_cumprod[t]
        assert arrays["alphas_cumprod_t"][index] == pytest.approx(a, rel=1e-5)
        noisy = np.sqrt(a) * arrays["latents"] + np.sqrt(1 - a) * arrays["noise"]
        np.testing.assert_allclose(arrays["noisy_latents"][index], noisy, atol=1e-5)
    record = json.loads((project["figures"] / "part4" / "noising.json").read_text())
    assert record["space"] == "latent" and record["captures"][0]["spec"] == {"photo": "coffee", "seed": 5, "timesteps": [0, 400, 999]}
    assert "fallback" not in record and record["model"] == str(tiny_model)


def test_fallback_stands_in_without_weights_and_gives_way_to_the_real_figure(project, tiny_model, tmp_path, monkeypatch):
    project["catalogue"].write_text(PHOTO_CATALOGUE)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    assert figgen(project, "render") == 0
    record = json.loads((project["figures"] / "part4" / "noising.json").read_text())
    assert record["fallback"] is True and record["space"] == "pixels" and "placeholder" in record
    assert record["placeholder"] is False and "--only noising" in record["render_with"]
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    real = snapshot(project["figures"])
    assert json.loads(real["part4/noising.json"])["space"] == "latent"
    # A real rendering is never replaced by the stand-in.
    assert figgen(project, "render") == 0
    assert figgen(project, "render", "--force") == 0
    assert snapshot(project["figures"]) == real


def test_an_svg_figure_gets_an_svg_placeholder(project, tmp_path, monkeypatch):
    import xml.etree.ElementTree as ET

    text = project["catalogue"].read_text().replace('output = "part1/seq.webp"', 'output = "part1/seq.svg"')
    project["catalogue"].write_text(text)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    assert figgen(project, "render") == 0
    root = ET.parse(project["figures"] / "part1" / "seq.svg").getroot()
    words = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "PLACEHOLDER" in words and "figure id: seq" in words
    # Readers see the card: the command that renders it is in the provenance file, not in the picture.
    assert "figgen" not in words and "--only" not in words
    assert "--only seq" in json.loads((project["figures"] / "part1" / "seq.json").read_text())["render_with"]


def test_a_comparison_figure_falls_back_without_weights_too(project, tmp_path, monkeypatch):
    text = PHOTO_CATALOGUE.replace('capture = "photo"\nrenderer = "noising.latent"', 'captures = ["run"]\nrenderer = "compare.grid"')
    text = text.replace("[figures.params]\n", '[figures.params]\nlabels = "seed {seed}"\n')
    text += '[captures.run]\nprompt = "a cat"\nseed = 3\nsteps = 4\nguidance_scale = 7.5\nscheduler = "ddim"\n'
    assert 'captures = ["run"]' in text
    project["catalogue"].write_text(text)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    assert figgen(project, "render") == 0
    record = json.loads((project["figures"] / "part4" / "noising.json").read_text())
    assert record["fallback"] is True and record["space"] == "pixels"
