"""The Play page (docs/play/): mini-sd running in the reader's browser.

In headless Chromium (the shared `browser`, `site` and `site_url` fixtures of
conftest.py): a reader types a prompt, draws it and steps back through the
run by keyboard, with no request to another host and no console error; the
browser's picture agrees with figgen's Python run of the same model; its
starting noise, noise schedule, timesteps and tokens are Python's. Steps are
kept few except in the agreement test.
"""

import json

import numpy as np
import pytest

from conftest import ROOT
from figgen.sitecheck import visit

MODEL = ROOT / "docs" / "play" / "model"
VENDOR = ROOT / "docs" / "play" / "vendor"
AGREEMENT = {"prompt": "a red square on a green background", "seed": 7, "steps": 20, "guidance": 7.5}

READY = "() => ['ready', 'error'].includes(document.body.dataset.playState)"
DONE = "() => ['done', 'error'].includes(document.body.dataset.playState)"
ENGINE = "const engine = await import(new URL('engine.js', location.href).href);"


@pytest.fixture(scope="module")
def play_page(browser, site_url):
    """The Play page, its vocabulary loaded, with the record of what it asked for. One page serves
    every test of this module (the model loads once; a WebAssembly start costs seconds on 2 cores)."""
    opened = []

    def open_page():
        if not opened:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            record = visit(page, site_url + "play/")
            page.wait_for_function(READY, timeout=30_000)
            assert page.evaluate("document.body.dataset.playState") == "ready", page.inner_text("#play-status")
            opened.append((context, page, record))
        return opened[0][1:]

    yield open_page
    for context, _, _ in opened:
        context.close()


def test_the_exported_model_is_the_committed_mini_sd(mini_sd):
    from figgen.models import local_folder

    description = json.loads((MODEL / "play.json").read_text())
    assert description["revision"] == local_folder(str(mini_sd)).revision, (
        "docs/play/model/ was exported from another mini-sd than models/mini-sd: run `make play-model`")
    for name, size in description["files"].items():
        assert (MODEL / name).stat().st_size == size, f"docs/play/model/{name} is not the file play.json lists"


def test_the_model_and_runtime_download_at_most_25_mb():
    description = json.loads((MODEL / "play.json").read_text())
    runtime = json.loads((VENDOR / "runtime.json").read_text())
    total = sum(description["files"].values()) + sum(runtime["files"].values())
    print(f"\nPlay page download: model {sum(description['files'].values()) / 1e6:.2f} MB + "
          f"runtime {sum(runtime['files'].values()) / 1e6:.2f} MB = {total / 1e6:.2f} MB")
    assert total <= 25_000_000


def test_the_pages_noise_schedule_timesteps_and_tokens_are_pythons(play_page, mini_sd):
    from diffusers import DDIMScheduler
    from transformers import CLIPTokenizer

    from figgen.minisd.play import play_noise

    page, _ = play_page()
    seeds = [0, 1, 7, 4294967295]
    noise = page.evaluate(f"async (seeds) => {{ {ENGINE} return seeds.map(s => Array.from(engine.playNoise(s, 256))); }}", seeds)
    for seed, values in zip(seeds, noise):
        assert np.array_equal(np.array(values, dtype=np.float32), play_noise(seed)), f"seed {seed}: the page's noise is not Python's"

    config = json.loads((mini_sd / "scheduler" / "scheduler_config.json").read_text())
    schedule = page.evaluate(f"async (config) => {{ {ENGINE} return Array.from(engine.alphasCumprod(config)); }}", config)
    ddim = DDIMScheduler.from_config(config, clip_sample=False)
    difference = np.abs(np.array(schedule, dtype=np.float32) - ddim.alphas_cumprod.numpy()).max()
    print(f"\nalphas_cumprod: largest difference from diffusers' {difference:.2e}")
    assert difference <= 1e-6
    for spacing in ("leading", "trailing", "linspace"):
        for steps in (1, 3, 20, 50):
            ddim = DDIMScheduler.from_config({**config, "timestep_spacing": spacing}, clip_sample=False)
            ddim.set_timesteps(steps)
            ours = page.evaluate(f"async ([config, steps]) => {{ {ENGINE} return engine.ddimTimesteps(config, steps); }}",
                                 [{**config, "timestep_spacing": spacing}, steps])
            assert ours == ddim.timesteps.tolist(), f"{spacing}, {steps} steps"

    tokenizer = CLIPTokenizer.from_pretrained(mini_sd / "tokenizer")
    prompts = ["a red circle on a blue background", "A Purple DOG, riding!", "", "word " * 90, "café 123 don't"]
    ids = page.evaluate("(prompts) => prompts.map(p => window.play.model.tokens(p).ids)", prompts)
    for prompt, ours in zip(prompts, ids):
        theirs = tokenizer(prompt, padding="max_length", max_length=77, truncation=True).input_ids
        assert ours == theirs, f"tokens of {prompt!r}"


def test_a_reader_draws_a_prompt_and_steps_back_through_it_by_keyboard(play_page):
    page, record = play_page()
    page.focus("#play-prompt")
    page.keyboard.press("Control+A")
    page.keyboard.type("a purple circle on a green background")
    # Tokens as the model reads them: the unknown word is marked, the padding squeezed.
    tokens = page.locator("#play-tokens li")
    assert "… 68 × pad" in tokens.last.inner_text()
    unknown = page.locator("#play-tokens li.play-token--unknown")
    assert unknown.count() == 1 and "purple" in unknown.inner_text()
    # The list of known words is one click away.
    assert not page.is_visible("#play-known")
    page.click(".play-known summary")
    assert "triangle" in page.inner_text("#play-known")

    # Steps: Home is 1, then three to the right is 4.
    page.focus("#play-steps")
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.input_value("#play-steps") == "4"
    page.focus("#play-prompt")
    page.keyboard.press("Enter")
    page.wait_for_function(DONE, timeout=60_000)
    status = page.inner_text("#play-status")
    assert status.startswith("Finished: 4 steps"), status
    assert page.get_attribute("#play-status", "aria-live") == "polite"

    # Back through the run with the slider, by keyboard.
    page.focus("#play-step")
    page.keyboard.press("Home")
    assert page.inner_text("#play-step-value").startswith("Step 1 of 4")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#play-step-value").startswith("Step 2 of 4")
    page.keyboard.press("End")
    assert page.inner_text("#play-step-value").startswith("Step 4 of 4")
    spread = page.evaluate("""() => {
        const data = document.getElementById('play-clean').getContext('2d').getImageData(0, 0, 64, 64).data;
        const values = data.filter((_, i) => i % 4 !== 3);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        return {mean, spread: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length)};
    }""")
    assert spread["spread"] > 20 and 10 < spread["mean"] < 245, f"the picture looks blank: {spread}"

    # A word's cross-attention map laid over the picture.
    page.select_option("#play-word", label="circle (token 3)")
    assert page.is_visible("#play-attention")
    page.select_option("#play-word", value="")
    assert not page.is_visible("#play-attention")

    assert record.console_errors == []
    assert record.failed_requests == []
    assert record.other_hosts == [], "the Play page asked another host for files; serve them from the site"


def test_the_browsers_picture_agrees_with_figgens_python_run(play_page, mini_sd):
    from figgen.minisd.play import reference_run

    page, record = play_page()
    result = page.evaluate("""async (settings) => {
        const run = await window.play.model.generate({...settings, decodeEvery: false});
        return {picture: Array.from(run.picture), seconds: run.seconds};
    }""", AGREEMENT)
    ours = np.array(result["picture"], dtype=np.float64).reshape(64, 64, 4)[..., :3]
    theirs = reference_run(**AGREEMENT, model_folder=mini_sd)["picture"].astype(np.float64)
    difference = np.abs(ours - theirs).mean()
    print(f"\nPlay agreement, {AGREEMENT}: mean absolute pixel difference {difference:.4f} (0-255), "
          f"largest {np.abs(ours - theirs).max():.0f}; browser run {result['seconds']:.2f} s")
    assert difference <= 2
    assert theirs.std() > 20, "the reference picture is blank"
    assert record.console_errors == []


def test_without_javascript_the_page_shows_what_it_does(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url + "play/", wait_until="load")
    preview = page.locator("#play-preview img")
    preview.scroll_into_view_if_needed()
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "yellow triangle" in preview.get_attribute("alt")
    assert not page.is_visible("#play-app")
    assert "JavaScript" in page.inner_text("article")
    context.close()


def test_the_exported_attention_maps_are_figgens_cross_attention(mini_sd):
    """The maps the exported UNet hands the page are what figgen's capture records for its figures."""
    import torch

    from figgen.capture import recording_cross_attention
    from figgen.minisd.play import AttentionMaps, play_latents
    from figgen.models import load_pipeline, local_folder

    pipe = load_pipeline(local_folder(str(mini_sd)), "cpu", "float32")
    maps = AttentionMaps(pipe.unet, side=8)
    with torch.no_grad():
        embeddings = torch.cat(pipe.encode_prompt("a red circle on a blue background", "cpu", 1, True)[::-1])
        with recording_cross_attention(pipe.unet, side=8) as totals:
            pipe.unet(torch.cat([play_latents(3)] * 2), torch.tensor([501]), encoder_hidden_states=embeddings)
    ours = torch.stack(maps.maps).mean(0)
    theirs = totals["sum"] / totals["count"]
    assert ours.shape == theirs.shape == (77, 8, 8)
    assert torch.allclose(ours, theirs, atol=1e-6)
