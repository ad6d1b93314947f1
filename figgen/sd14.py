"""Stable Diffusion 1.4's architecture and noise schedule, from its configuration numbers.

These are the numbers in the config files of CompVis/stable-diffusion-v1-4
(unet/config.json, vae/config.json, text_encoder/config.json,
scheduler/scheduler_config.json). Building the networks on PyTorch's "meta"
device creates every layer with its true shape but no memory and no
weights, so parameter counts and FLOPs are computed exactly, offline.
"""

from __future__ import annotations

UNET_CONFIG = dict(
    sample_size=64,
    in_channels=4,
    out_channels=4,
    layers_per_block=2,
    block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768,
    attention_head_dim=8,
    norm_num_groups=32,
)

VAE_CONFIG = dict(
    in_channels=3,
    out_channels=3,
    latent_channels=4,
    block_out_channels=(128, 256, 512, 512),
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
    layers_per_block=2,
    norm_num_groups=32,
    sample_size=512,
    scaling_factor=0.18215,
)

TEXT_ENCODER_CONFIG = dict(
    vocab_size=49408,
    hidden_size=768,
    intermediate_size=3072,
    num_hidden_layers=12,
    num_attention_heads=12,
    max_position_embeddings=77,
    hidden_act="quick_gelu",
    projection_dim=768,
)

SCHEDULER_CONFIG = dict(
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    skip_prk_steps=True,
    steps_offset=1,
    set_alpha_to_one=False,
)

IMAGE_SIZE = 512
DEFAULT_STEPS = 50
DEFAULT_GUIDANCE = 7.5


def meta_models():
    """SD 1.4's UNet, VAE and CLIP text encoder, built on the meta device (no weights)."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    with torch.device("meta"):
        unet = UNet2DConditionModel(**UNET_CONFIG)
        vae = AutoencoderKL(**VAE_CONFIG)
        text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT_ENCODER_CONFIG))
    return unet, vae, text_encoder


def count(*modules) -> int:
    return sum(p.numel() for module in modules for p in module.parameters())


def vae_scale_factor() -> int:
    return 2 ** (len(VAE_CONFIG["block_out_channels"]) - 1)


def latent_shape() -> tuple[int, int, int]:
    side = IMAGE_SIZE // vae_scale_factor()
    return (VAE_CONFIG["latent_channels"], side, side)


def schedulers(steps: int = DEFAULT_STEPS):
    """SD 1.4's shipped PNDM scheduler and a DDIM scheduler on the same noise schedule, set to `steps`."""
    from diffusers import DDIMScheduler, PNDMScheduler

    pndm = PNDMScheduler(**SCHEDULER_CONFIG)
    ddim = DDIMScheduler.from_config(pndm.config, clip_sample=False)
    pndm.set_timesteps(steps)
    ddim.set_timesteps(steps)
    return pndm, ddim
