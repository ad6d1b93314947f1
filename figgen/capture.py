"""Running the real Stable Diffusion pipeline once and recording every denoising step.

The pipeline's own `__call__` runs the loop; figgen only wraps the
scheduler's `step`, which the loop calls once per step with exactly the
tensors we want:

    latents      x_t, the noisy latent the UNet was given
    noise_pred   the UNet's (guided) prediction of the noise in x_t
    prev_sample  x_{t-1}, the latent after the step

From these and the scheduler's own noise schedule alphas_cumprod (ᾱ_t),
the predicted clean latent is

    pred_original_sample = (x_t - sqrt(1 - ᾱ_t) * noise_pred) / sqrt(ᾱ_t)

which is the "denoise" half of a DDIM step; DDIM then re-noises it to the
next, lower noise level. Latents are kept on the device during the loop and
decoded by the VAE in batches afterwards, since one decode costs more than
one UNet step.
"""

from __future__ import annotations

import contextlib
import time

from .cache import versions
from .record import Capture
from .catalogue import CaptureSpec, PhotoSpec
from .models import ModelSource
from .photos import load_photo


def make_scheduler(name: str, shipped_config):
    """The scheduler a capture asks for, built from the model's shipped config (its noise schedule)."""
    from diffusers import DDIMScheduler, PNDMScheduler

    if name == "ddim":
        # Latents are not confined to [-1, 1], so x0 must not be clipped.
        return DDIMScheduler.from_config(shipped_config, clip_sample=False)
    if name == "pndm":
        return PNDMScheduler.from_config(shipped_config)
    raise ValueError(f"unknown scheduler '{name}'")


@contextlib.contextmanager
def recording_steps(pipe, scheduler_name: str):
    """Put the scheduler a capture asks for on the pipeline and record the tensors of every step it takes.

    Yields (scheduler, records); each call of `scheduler.step` appends a dict
    of timestep, latents (x_t), noise_pred and prev_sample. The wrapper is
    needed because diffusers' step callback sees the latents after a step,
    never the UNet's noise_pred nor the x_t it was given. On the way out,
    error or not, the pipeline gets its shipped scheduler back.
    """
    shipped = pipe.scheduler
    scheduler = make_scheduler(scheduler_name, shipped.config)
    records: list = []
    original_step = scheduler.step

    def step(model_output, timestep, sample, *args, **kwargs):
        output = original_step(model_output, timestep, sample, *args, **kwargs)
        prev_sample = output[0] if isinstance(output, tuple) else output.prev_sample
        records.append(
            {
                "timestep": int(timestep),
                "latents": sample.detach().clone(),
                "noise_pred": model_output.detach().clone(),
                "prev_sample": prev_sample.detach().clone(),
            }
        )
        return output

    scheduler.step = step
    pipe.scheduler = scheduler
    try:
        yield scheduler, records
    finally:
        pipe.scheduler = shipped


class CrossAttentionRecorder:
    """Wraps a cross-attention layer's processor: records where each token's attention falls, then runs it.

    The probabilities are recomputed from the layer's own query and key
    projections (softmax over the 77 tokens at every latent position), for
    the prompt's half of the guidance batch only, averaged over heads and
    resized to the latent's full size, and summed into `totals`.
    """

    def __init__(self, processor, totals: dict, side: int):
        self.processor, self.totals, self.side = processor, totals, side

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, *args, **kwargs):
        import torch
        import torch.nn.functional as F

        if encoder_hidden_states is not None:
            with torch.no_grad():
                query = attn.head_to_batch_dim(attn.to_q(hidden_states))
                key = attn.head_to_batch_dim(attn.to_k(encoder_hidden_states))
                probs = attn.get_attention_scores(query, key)  # (batch * heads, positions, tokens)
                probs = probs.view(hidden_states.shape[0], attn.heads, *probs.shape[1:])[-1].float().mean(0)
                side_here = int(probs.shape[0] ** 0.5)
                grid = probs.T.reshape(1, probs.shape[1], side_here, side_here)
                grid = F.interpolate(grid, size=(self.side, self.side), mode="bilinear", align_corners=False)[0]
                self.totals["sum"] = self.totals.get("sum", 0) + grid
                self.totals["count"] = self.totals.get("count", 0) + 1
        return self.processor(attn, hidden_states, encoder_hidden_states, *args, **kwargs)


@contextlib.contextmanager
def recording_cross_attention(unet, side: int, enabled: bool = True):
    """Put a recorder on every cross-attention layer ("attn2") while the block runs; yields the totals.

    The UNet gets its own processors back on the way out, error or not.
    """
    totals: dict = {}
    if not enabled:
        yield totals
        return
    original = dict(unet.attn_processors)
    unet.set_attn_processor(
        {
            name: CrossAttentionRecorder(processor, totals, side) if name.endswith("attn2.processor") else processor
            for name, processor in original.items()
        }
    )
    try:
        yield totals
    finally:
        unet.set_attn_processor(original)


def parameter_count(pipe) -> int:
    """The parameters of the three networks: text encoder, UNet and VAE."""
    from .sd14 import count

    return count(pipe.text_encoder, pipe.unet, pipe.vae)


def predicted_original(latents, noise_pred, alpha_prod_t):
    """x0 from x_t and the predicted noise, for an epsilon-predicting model (in float32)."""
    latents, noise_pred = latents.float(), noise_pred.float()
    return (latents - (1 - alpha_prod_t) ** 0.5 * noise_pred) / alpha_prod_t**0.5


def decode_latents(pipe, latents, batch_size: int, description: str = "decoding"):
    """Decode latents (N, 4, h, w) to uint8 pictures (N, H, W, 3) with the pipeline's VAE and image processor."""
    import numpy as np
    import torch

    pictures = []
    vae = pipe.vae
    pipe.set_progress_bar_config(desc=description, leave=False)
    with pipe.progress_bar(total=len(latents)) as bar:
        for start in range(0, len(latents), batch_size):
            batch = latents[start : start + batch_size].to(device=vae.device, dtype=vae.dtype)
            with torch.no_grad():
                decoded = vae.decode(batch / vae.config.scaling_factor).sample
            as_floats = pipe.image_processor.postprocess(decoded.float(), output_type="np")  # [0, 1], (n, H, W, 3)
            pictures.append((as_floats * 255).round().astype("uint8"))
            bar.update(len(batch))
    return np.concatenate(pictures)


def denoise(pipe, specs: list[CaptureSpec], device: str):
    """Encode the prompts and run the pipeline's own denoising loop once for all `specs` (one batch)."""
    import torch

    first = specs[0]
    do_guidance = first.guidance_scale > 1
    with torch.no_grad():
        input_ids = pipe.tokenizer(
            [spec.prompt for spec in specs],
            padding="max_length",
            max_length=pipe.tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids
        prompt_embeds, negative_prompt_embeds = pipe.encode_prompt(
            [spec.prompt for spec in specs], device, 1, do_guidance,
            negative_prompt=[first.negative_prompt] * len(specs) if first.negative_prompt else None,
        )
    names = ", ".join(spec.name for spec in specs)
    pipe.set_progress_bar_config(desc=f"capture {names}: denoising", leave=False)
    # One CPU generator per run: each run's starting noise is what it would be on its own.
    generators = [torch.Generator("cpu").manual_seed(spec.seed) for spec in specs]
    final_latents = pipe(
        prompt_embeds=prompt_embeds,
        negative_prompt_embeds=negative_prompt_embeds,
        num_inference_steps=first.steps,
        guidance_scale=first.guidance_scale,
        height=first.height,
        width=first.width,
        generator=generators,
        output_type="latent",
    ).images
    return final_latents, input_ids, prompt_embeds, negative_prompt_embeds


def run_capture(pipe, spec: CaptureSpec, source: ModelSource, device: str, dtype: str, decode_batch: int = 8) -> Capture:
    """Run the pipeline for `spec` and return everything the renderers need, as numpy arrays."""
    return run_captures(pipe, [spec], source, device, dtype, decode_batch)[0]


def run_captures(pipe, specs: list[CaptureSpec], source: ModelSource, device: str, dtype: str, decode_batch: int = 8) -> list[Capture]:
    """Run several captures that share a batch key in one pipeline call; one Capture per spec, in order."""
    import torch

    if len({spec.batch_key() for spec in specs}) != 1 or (len(specs) > 1 and specs[0].attention):
        raise ValueError("run_captures: these captures differ in more than prompt and seed "
                         "(and a capture that records attention runs on its own)")
    first = specs[0]
    started = time.perf_counter()
    latent_side = first.height // pipe.vae_scale_factor
    with recording_steps(pipe, first.scheduler) as (scheduler, records), \
            recording_cross_attention(pipe.unet, latent_side, enabled=first.attention) as attention:
        final_latents, input_ids, prompt_embeds, negative_prompt_embeds = denoise(pipe, specs, device)
    loop_seconds = time.perf_counter() - started

    timesteps = torch.tensor([r["timestep"] for r in records])
    alpha_prod = scheduler.alphas_cumprod[timesteps].float()
    # Recorded tensors are (steps, batch, 4, h, w); each run gets its own slice.
    latents = torch.stack([r["latents"] for r in records]).float()
    noise_pred = torch.stack([r["noise_pred"] for r in records]).float()
    prev_sample = torch.stack([r["prev_sample"] for r in records]).float()
    pred_original_sample = predicted_original(
        latents, noise_pred, alpha_prod.to(latents.device).view(-1, 1, 1, 1, 1)
    )
    count = len(records)

    # One decode per step for x_t and for x0 (when asked for), plus each final latent.
    to_decode = []
    for index in range(len(specs)):
        if first.decode_steps:
            to_decode += [latents[:, index], pred_original_sample[:, index]]
        to_decode.append(final_latents[index : index + 1].float())
    to_decode = torch.cat(to_decode)
    names = ", ".join(spec.name for spec in specs)
    decoded = decode_latents(pipe, to_decode, decode_batch, f"capture {names}: decoding")
    per_run = (2 * count + 1) if first.decode_steps else 1

    captures = []
    for index, spec in enumerate(specs):
        images = decoded[index * per_run : (index + 1) * per_run]
        arrays = {
            "timesteps": timesteps.numpy(),
            "alphas_cumprod_t": alpha_prod.numpy(),
            "latents": latents[:, index].cpu().numpy(),
            "noise_pred": noise_pred[:, index].cpu().numpy(),
            "pred_original_sample": pred_original_sample[:, index].cpu().numpy(),
            "prev_sample": prev_sample[:, index].cpu().numpy(),
            "final_latents": final_latents[index].float().cpu().numpy(),
            "input_ids": input_ids[index].numpy(),
            "prompt_embeds": prompt_embeds[index].float().cpu().numpy(),
            "image": images[-1],
        }
        if spec.decode_steps:
            arrays["decoded_latents"] = images[:count]
            arrays["decoded_pred_original_sample"] = images[count : 2 * count]
        if negative_prompt_embeds is not None:
            arrays["negative_prompt_embeds"] = negative_prompt_embeds[index].float().cpu().numpy()
        if spec.attention:
            arrays["cross_attention"] = (attention["sum"] / attention["count"]).cpu().numpy()
        meta = {
            "capture": spec.name,
            "spec": spec.as_dict(),
            "model": source.name,
            "revision": source.revision,
            "parameters": parameter_count(pipe),
            "scheduler": type(scheduler).__name__,
            "scheduler_config": {k: v for k, v in dict(scheduler.config).items() if not k.startswith("_")},
            "unet_calls": count,
            "tokens": pipe.tokenizer.convert_ids_to_tokens(input_ids[index].tolist()),
            "batched_with": [other.name for other in specs if other is not spec],
            "device": device,
            "device_name": torch.cuda.get_device_name() if device == "cuda" else "CPU",
            "dtype": dtype,
            "versions": versions(),
            "loop_seconds": round(loop_seconds, 3),
            "capture_seconds": round(time.perf_counter() - started, 3),
        }
        captures.append(Capture(arrays=arrays, meta=meta))
    return captures


def run_photo_capture(pipe, spec: PhotoSpec, source: ModelSource, device: str, dtype: str, decode_batch: int = 8) -> Capture:
    """Encode a real photo with the VAE, noise its latent to each timestep as in training, decode each."""
    import torch

    started = time.perf_counter()
    vae = pipe.vae
    size = spec.size or pipe.unet.config.sample_size * pipe.vae_scale_factor
    photo = load_photo(spec.photo, size)
    pixels = pipe.image_processor.preprocess(photo[None].astype("float32") / 255.0).contiguous()  # [-1, 1], (1, 3, H, W)
    with torch.no_grad():
        encoded = vae.encode(pixels.to(device=vae.device, dtype=vae.dtype)).latent_dist.mean
    latents = encoded.float() * vae.config.scaling_factor
    noise = torch.randn(latents.shape, generator=torch.Generator("cpu").manual_seed(spec.seed)).to(latents.device)
    timesteps = torch.tensor(spec.timesteps)
    alpha_prod = pipe.scheduler.alphas_cumprod[timesteps].float()
    # The forward process, as in training: sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) ε, for each timestep.
    noisy_latents = pipe.scheduler.add_noise(latents.expand(len(timesteps), -1, -1, -1),
                                             noise.expand(len(timesteps), -1, -1, -1), timesteps.to(latents.device))
    to_decode = torch.cat([noisy_latents, latents])
    decoded = decode_latents(pipe, to_decode, decode_batch, f"capture {spec.name}: decoding")
    count = len(timesteps)
    arrays = {
        "photo": photo,
        "timesteps": timesteps.numpy(),
        "alphas_cumprod_t": alpha_prod.numpy(),
        "latents": latents[0].cpu().numpy(),
        "noise": noise[0].cpu().numpy(),
        "noisy_latents": noisy_latents.cpu().numpy(),
        "decoded_noisy_latents": decoded[:count],
        "decoded_latents": decoded[count],
    }
    meta = {
        "capture": spec.name,
        "spec": spec.as_dict(),
        "model": source.name,
        "revision": source.revision,
        "parameters": parameter_count(pipe),
        "device": device,
        "device_name": torch.cuda.get_device_name() if device == "cuda" else "CPU",
        "dtype": dtype,
        "versions": versions(),
        "capture_seconds": round(time.perf_counter() - started, 3),
    }
    return Capture(arrays=arrays, meta=meta)
