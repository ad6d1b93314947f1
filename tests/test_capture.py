"""The capture records the real pipeline's denoising loop, step by step, correctly."""

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, PNDMScheduler

from figgen.cache import capture_key, load_capture, save_capture
from figgen.capture import run_capture
from figgen.catalogue import CaptureSpec
from figgen.models import load_pipeline, local_folder


@pytest.fixture(scope="module")
def pipeline_and_source(tiny_model):
    source = local_folder(str(tiny_model))
    return load_pipeline(source, "cpu", "float32"), source


def spec(scheduler: str, steps: int = 5, guidance: float = 7.5) -> CaptureSpec:
    return CaptureSpec(
        name=f"test-{scheduler}", prompt="a red fox", seed=3, steps=steps, guidance_scale=guidance,
        scheduler=scheduler, height=64, width=64,
    )


def shipped_alphas_cumprod(tiny_model):
    """ᾱ_t rebuilt independently from the scheduler config saved in the model folder."""
    return PNDMScheduler.from_pretrained(tiny_model, subfolder="scheduler").alphas_cumprod


@pytest.mark.parametrize("scheduler", ["ddim", "pndm"])
def test_x0_follows_from_xt_and_noise_with_the_schedulers_own_alphas(pipeline_and_source, tiny_model, scheduler):
    pipe, source = pipeline_and_source
    capture = run_capture(pipe, spec(scheduler), source, "cpu", "float32")
    arrays = capture.arrays
    alphas = shipped_alphas_cumprod(tiny_model)
    for index, t in enumerate(arrays["timesteps"]):
        alpha = alphas[int(t)].item()
        expected = (arrays["latents"][index] - np.sqrt(1 - alpha) * arrays["noise_pred"][index]) / np.sqrt(alpha)
        np.testing.assert_allclose(arrays["pred_original_sample"][index], expected, rtol=1e-5, atol=1e-5)
        assert arrays["alphas_cumprod_t"][index] == pytest.approx(alpha)
    # Each step starts where the previous one ended.
    np.testing.assert_array_equal(arrays["latents"][1:], arrays["prev_sample"][:-1])
    np.testing.assert_array_equal(arrays["final_latents"], arrays["prev_sample"][-1])


def test_ddim_capture_is_denoise_then_renoise(pipeline_and_source, tiny_model):
    """Replaying DDIM's own step on the captured tensors gives the captured x0 and x_{t-1}."""
    pipe, source = pipeline_and_source
    capture = run_capture(pipe, spec("ddim", steps=5), source, "cpu", "float32")
    arrays = capture.arrays
    scheduler = DDIMScheduler.from_pretrained(tiny_model, subfolder="scheduler", clip_sample=False)
    scheduler.set_timesteps(5)
    assert arrays["timesteps"].tolist() == scheduler.timesteps.tolist() == [801, 601, 401, 201, 1]
    for index, t in enumerate(arrays["timesteps"]):
        out = scheduler.step(
            torch.from_numpy(arrays["noise_pred"][index : index + 1]), int(t),
            torch.from_numpy(arrays["latents"][index : index + 1]),
        )
        np.testing.assert_allclose(out.pred_original_sample[0].numpy(), arrays["pred_original_sample"][index], atol=1e-5)
        np.testing.assert_allclose(out.prev_sample[0].numpy(), arrays["prev_sample"][index], atol=1e-5)


def test_pndm_makes_one_more_unet_call_than_steps(pipeline_and_source):
    pipe, source = pipeline_and_source
    capture = run_capture(pipe, spec("pndm", steps=5), source, "cpu", "float32")
    assert len(capture.arrays["timesteps"]) == 6
    assert capture.meta["scheduler"] == "PNDMScheduler"
    assert capture.meta["unet_calls"] == 6
    assert type(pipe.scheduler).__name__ == "PNDMScheduler"
    assert pipe.scheduler.step.__func__ is type(pipe.scheduler).step  # the wrapper did not stay behind


def test_capture_records_text_and_decodes_every_step(pipeline_and_source):
    pipe, source = pipeline_and_source
    capture = run_capture(pipe, spec("ddim", steps=4), source, "cpu", "float32")
    arrays = capture.arrays
    ids = pipe.tokenizer("a red fox", padding="max_length", max_length=77).input_ids
    assert arrays["input_ids"].tolist() == ids
    assert arrays["prompt_embeds"].shape == (77, pipe.text_encoder.config.hidden_size)
    assert arrays["negative_prompt_embeds"].shape == arrays["prompt_embeds"].shape
    assert arrays["latents"].shape == (4, 4, 8, 8)
    for name in ("decoded_latents", "decoded_pred_original_sample"):
        assert arrays[name].shape == (4, 64, 64, 3) and arrays[name].dtype == np.uint8
    assert arrays["image"].shape == (64, 64, 3)
    # The final image is the VAE's decode of the final latent, done here independently.
    with torch.no_grad():
        latent = torch.from_numpy(arrays["final_latents"])[None] / pipe.vae.config.scaling_factor
        decoded = pipe.vae.decode(latent).sample[0]
    expected = ((decoded / 2 + 0.5).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    assert np.abs(expected.astype(int) - arrays["image"].astype(int)).max() <= 1


def test_same_seed_same_capture_and_cache_round_trip(pipeline_and_source, tmp_path):
    pipe, source = pipeline_and_source
    first = run_capture(pipe, spec("ddim", steps=3), source, "cpu", "float32")
    second = run_capture(pipe, spec("ddim", steps=3), source, "cpu", "float32")
    np.testing.assert_array_equal(first.arrays["latents"], second.arrays["latents"])
    path = tmp_path / "capture.safetensors"
    save_capture(path, first)
    loaded = load_capture(path)
    assert loaded.meta == first.meta
    for name, array in first.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], array)


def test_capture_key_changes_with_anything_that_affects_the_tensors(tiny_model):
    source = local_folder(str(tiny_model))
    base = spec("ddim")
    keys = {
        capture_key(base, source),
        capture_key(CaptureSpec(**{**base.__dict__, "seed": 4}), source),
        capture_key(CaptureSpec(**{**base.__dict__, "prompt": "a blue fox"}), source),
        capture_key(CaptureSpec(**{**base.__dict__, "scheduler": "pndm"}), source),
        capture_key(base, source.__class__(source.name, source.folder, "other-revision")),
    }
    assert len(keys) == 5
    assert capture_key(base, source) == capture_key(spec("ddim"), local_folder(str(tiny_model)))


def test_batched_runs_match_the_same_runs_made_one_at_a_time(pipeline_and_source):
    from figgen.capture import run_captures

    pipe, source = pipeline_and_source
    first = spec("ddim", steps=4)
    second = CaptureSpec(**{**first.__dict__, "name": "second", "prompt": "a blue whale", "seed": 9})
    batched = run_captures(pipe, [first, second], source, "cpu", "float32")
    for alone, together in zip([run_capture(pipe, s, source, "cpu", "float32") for s in (first, second)], batched):
        np.testing.assert_array_equal(alone.arrays["latents"][0], together.arrays["latents"][0])  # same starting noise
        np.testing.assert_allclose(alone.arrays["final_latents"], together.arrays["final_latents"], atol=1e-4)
        np.testing.assert_array_equal(alone.arrays["input_ids"], together.arrays["input_ids"])
        assert np.abs(alone.arrays["image"].astype(int) - together.arrays["image"].astype(int)).max() <= 1
    assert batched[0].meta["batched_with"] == ["second"] and batched[1].meta["spec"]["seed"] == 9
    with pytest.raises(ValueError, match="differ in more than prompt and seed"):
        run_captures(pipe, [first, CaptureSpec(**{**first.__dict__, "steps": 5})], source, "cpu", "float32")


def test_capture_batches_group_runs_that_share_settings():
    from figgen.render import BATCH_SIZE, capture_batches

    base = spec("ddim")
    specs = {f"k{i}": CaptureSpec(**{**base.__dict__, "name": f"s{i}", "seed": i}) for i in range(BATCH_SIZE + 1)}
    specs["other"] = CaptureSpec(**{**base.__dict__, "name": "other", "guidance_scale": 3.0})
    specs["attention"] = CaptureSpec(**{**base.__dict__, "name": "attention", "attention": True})
    batches = capture_batches(specs)
    sizes = sorted(len(batch) for batch in batches)
    assert sizes == [1, 1, 1, BATCH_SIZE]
    assert sum(len(batch) for batch in batches) == len(specs)
    for batch in batches:
        assert len({(s.guidance_scale, s.attention) for _, s in batch}) == 1
