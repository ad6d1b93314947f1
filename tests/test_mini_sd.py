"""mini-sd: its picture world, its training recipe, the committed model, and figgen's use of it."""

import json
import shutil

import numpy as np
import pytest

from conftest import ROOT, figgen, snapshot
from figgen import models
from figgen.minisd import quality, world
from figgen.outputs import read_provenance, write_json

# ---------------------------------------------------------------- the world


def test_the_world_is_drawn_deterministically_with_every_colour_and_shape():
    first = world.batch(np.random.default_rng(5), 40)
    second = world.batch(np.random.default_rng(5), 40)
    assert np.array_equal(first[0], second[0]) and first[1] == second[1]
    assert first[0].shape == (40, 3, world.SIZE, world.SIZE) and world.SIZE >= 64
    assert set(world.SHAPES) >= {"circle", "square", "triangle"}
    assert set(world.COLOURS) >= {"red", "green", "blue", "yellow", "white", "black"}
    assert first[1][0] == world.caption(*world.parse_caption(first[1][0]))


def test_held_out_combinations_never_appear_in_training():
    assert world.HELD_OUT and not set(world.HELD_OUT) & set(world.TRAIN_COMBINATIONS)
    scenes = world.batch(np.random.default_rng(0), 2000)[2]
    assert not {(s.colour, s.shape, s.background) for s in scenes} & set(world.HELD_OUT)


def test_a_wrong_caption_is_wrong_about_exactly_one_thing_and_never_held_out():
    from figgen.minisd.train import RECIPE, miscaption_pool

    rng = np.random.default_rng(3)
    for combination in world.TRAIN_COMBINATIONS:
        wrong = world.parse_caption(world.miscaption(rng, combination))
        assert sum(a != b for a, b in zip(wrong, combination)) == 1 and wrong in world.TRAIN_COMBINATIONS
    captions = world.batch(np.random.default_rng(4), 4000)[1]
    noisy = miscaption_pool(RECIPE, captions)
    share = sum(a != b for a, b in zip(captions, noisy)) / len(captions)
    assert abs(share - RECIPE["caption_noise"]) < 0.03, share
    assert noisy == miscaption_pool(RECIPE, captions)  # seeded: the same wrong captions every run


def test_a_caption_outside_the_world_is_refused_with_the_form_it_needs():
    with pytest.raises(ValueError, match="a COLOUR SHAPE on a COLOUR background"):
        world.parse_caption("a purple hexagon on a blue background")


def test_the_quality_reader_reads_drawn_pictures_correctly():
    assert quality.check_reader(300) == 1.0
    # And it can tell it is wrong: a square drawn where a circle was asked for.
    scene = world.Scene("red", "square", "blue", 30, 10, 10)
    assert quality.read_picture(world.draw(scene)) == ("red", "square", "blue")
    assert quality.read_picture(np.full((64, 64, 3), 245, np.uint8))[1] is None


# ---------------------------------------------------------------- training


def test_the_training_recipe_runs_end_to_end_and_saves_a_loadable_pipeline(tmp_path):
    """A very short run of the real recipe: every stage, the card and the swap into place."""
    from figgen.minisd import train

    out = tmp_path / "mini"
    assert train.main(["--out", str(out), "--device", "cpu", "--scale", "0.004"]) == 0
    record = json.loads((out / "training.json").read_text())
    assert record["model"] == "mini-sd" and models.is_mini_sd(out)
    assert set(record["losses"]) == {"text_encoder", "vae", "unet"} and all(record["losses"].values())
    assert 0.01 < record["scaling_factor"] < 100
    config = json.loads((out / "vae" / "config.json").read_text())
    assert config["scaling_factor"] == record["scaling_factor"]
    assert "# mini-sd" in (out / "README.md").read_text()
    assert not list(tmp_path.glob(".mini*")), "the staging folder is left behind"
    pipe = models.load_pipeline(models.local_folder(str(out)), "cpu", "float32")
    assert type(pipe).__name__ == "StableDiffusionPipeline"


# ---------------------------------------------------------------- the committed model


def test_the_committed_mini_sd_is_small_and_documented(mini_sd):
    size = sum(p.stat().st_size for p in mini_sd.rglob("*") if p.is_file())
    assert size <= 25 * 1024 * 1024, f"mini-sd is {size / 1e6:.1f} MB; the limit is 25 MB"
    card = (mini_sd / "README.md").read_text()
    for heading in ("## Data", "## Recipe", "## Quality", "## Licence"):
        assert heading in card
    assert "| 7.5 |" in card, "the model card has no quality table: run `make mini-quality`"
    for name in ("text_encoder", "unet", "vae"):
        assert list((mini_sd / name).glob("*.safetensors")), name


def test_mini_sd_loads_offline_like_sd14_and_draws_what_it_is_asked(mini_sd):
    import torch

    source = models.resolve_model("mini")
    assert source.kind == "mini" and source.name == "mini-sd" and source.folder == mini_sd.resolve()
    pipe = models.load_pipeline(source, "cpu", "float32")
    pipe.set_progress_bar_config(disable=True)
    classes = {name: type(getattr(pipe, name)).__name__ for name in ("text_encoder", "vae", "unet", "tokenizer")}
    assert classes == {
        "text_encoder": "CLIPTextModel", "vae": "AutoencoderKL", "unet": "UNet2DConditionModel", "tokenizer": "CLIPTokenizer"
    }
    assert pipe.tokenizer.model_max_length == 77 and pipe.vae_scale_factor == 8
    assert pipe.vae.config.latent_channels == 4 and pipe.unet.config.cross_attention_dim == pipe.text_encoder.config.hidden_size
    assert pipe.scheduler.config.beta_schedule == "scaled_linear" and pipe.scheduler.config.beta_end == 0.012

    # Regression floor on a small sample (the full measurement is `make mini-quality`).
    combos = [(*c, True) for c in world.HELD_OUT[:2]] + [(*c, False) for c in world.TRAIN_COMBINATIONS[::21]]
    quality.use_sampler(pipe, "ddim")  # the sampler of the article's figures (PNDM at 7.5 is shaky for mini-sd)
    results = quality.score(pipe, combos, seeds=[0, 1], guidance_scale=7.5, steps=20)
    assert results["all"]["colours"] >= 0.75, results
    assert results["all"]["shape"] >= 0.6, results
    image = pipe("a red square on a white background", num_inference_steps=2, generator=torch.Generator().manual_seed(0), output_type="np").images[0]
    assert image.shape == (64, 64, 3)


def test_without_sd14_figgen_uses_mini_sd_by_default(mini_sd, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    source = models.resolve_model(None)
    assert source is not None and source.kind == "mini" and source.variant == "mini"


def test_editing_the_model_card_does_not_change_the_model_key(mini_sd, tmp_path):
    copy = tmp_path / "mini-sd"
    shutil.copytree(mini_sd, copy)
    before = models.folder_fingerprint(copy)
    (copy / "README.md").write_text("edited\n")
    assert models.folder_fingerprint(copy) == before
    (copy / "unet" / "config.json").write_text((copy / "unet" / "config.json").read_text() + " ")
    assert models.folder_fingerprint(copy) != before


def test_mini_sd_gets_its_own_prompts_and_size_from_the_catalogue():
    from figgen.catalogue import load_catalogue, specs_of

    catalogue = load_catalogue()
    for figure in catalogue.figures:
        for base, mini in zip(specs_of(figure), specs_of(figure, "mini")):
            assert base.name == mini.name
            if hasattr(mini, "prompt"):
                assert mini.height == mini.width == 64, figure.id
                if mini.prompt:
                    world.parse_caption(mini.prompt)  # a prompt from mini-sd's own world
                if mini.negative_prompt:
                    world.parse_caption(mini.negative_prompt)  # so is a negative prompt
                assert base.prompt != mini.prompt or not base.prompt, figure.id
                assert (base.seed, base.steps, base.guidance_scale, base.scheduler) == (
                    mini.seed, mini.steps, mini.guidance_scale, mini.scheduler
                )


def test_a_mini_sd_render_never_replaces_an_sd14_render(mini_sd, project, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    figure = project["figures"] / "part1" / "seq.webp"
    figure.parent.mkdir(parents=True)
    figure.write_bytes(b"drawn by SD 1.4")
    write_json(figure.with_suffix(".json"), {"figure": "seq", "model": models.SD14_REPO, "revision": "abc", "key": "k"})
    before = snapshot(project["figures"])
    assert figgen(project, "render", "--only", "seq") == 0
    assert snapshot(project["figures"]) == before
    assert figgen(project, "render", "--model", "mini", "--only", "seq", "--force") == 0
    assert snapshot(project["figures"]) == before


def test_every_catalogue_figure_renders_with_mini_sd(mini_sd, tmp_path):
    """The real catalogue, as mini-sd runs it, with fewer steps so that it fits in the test budget."""
    text = (ROOT / "figgen" / "catalogue.toml").read_text()
    text = text.replace("steps = 50", "steps = 4").replace("steps = 25", "steps = 3").replace("steps = 10", "steps = 2")
    text = text.replace("show_steps = [1, 10, 20, 30, 40, 50]", "show_steps = [1, 2, 3, 4]")
    text = text.replace("show_steps = [1, 10, 25, 40, 50]", "show_steps = [1, 2, 4]").replace("show_steps = [10, 25, 40]", "show_steps = [1, 2, 3]")
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(text)
    project = {"catalogue": catalogue, "figures": tmp_path / "figures", "cache": tmp_path / "cache"}
    assert figgen(project, "render", "--model", "mini", "--device", "cpu") == 0
    from figgen.catalogue import load_catalogue

    for figure in load_catalogue(catalogue).figures:
        provenance = read_provenance(project["figures"] / figure.output)
        assert provenance and not provenance.get("placeholder") and not provenance.get("fallback"), figure.id
        if figure.needs == "weights":
            assert provenance["model"] == "mini-sd" and provenance["parameters"] > 1_000_000, figure.id
