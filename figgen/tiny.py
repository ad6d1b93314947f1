"""Stand-in pipelines with SD 1.4's classes, for tests, benchmarks and GPU checks (random weights).

- `build_tiny_pipeline`: every network a few thousand parameters, so it runs
  on a CPU in seconds (the tests use it);
- `build_sd14_random_pipeline`: SD 1.4's full architecture from its
  configuration numbers, with random weights: the real cost on a GPU,
  without the real weights (its pictures are noise, as expected).

Both are saved with `save_pretrained` into a folder and loaded back by
figgen exactly as SD 1.4's own folder would be.
"""

import json
import string
import tempfile
from pathlib import Path

import torch
from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from . import sd14
from .clip_vocab import sd14_tokenizer


def make_tokenizer() -> CLIPTokenizer:
    """A CLIP tokenizer whose vocabulary is single characters (no merges)."""
    pieces = list(string.ascii_lowercase + string.digits + ".,!?'-")
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for piece in pieces:
        vocab[piece] = len(vocab)
    for piece in pieces:
        vocab[piece + "</w>"] = len(vocab)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "vocab.json").write_text(json.dumps(vocab))
        (Path(folder) / "merges.txt").write_text("#version: 0.2\n")
        return CLIPTokenizer.from_pretrained(folder, model_max_length=77)


def build_tiny_pipeline(folder: Path) -> Path:
    """Build the tiny pipeline with fixed random weights and save it into `folder`."""
    torch.manual_seed(0)
    tokenizer = make_tokenizer()
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=128,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            hidden_act="quick_gelu",
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        # No attention at full latent resolution, to keep a 512x512 run cheap.
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    # Four blocks, as in SD 1.4, so that the VAE shrinks each side by 8.
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 16, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=64,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=PNDMScheduler(**sd14.SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_sd14_random_pipeline(folder: Path, dtype: str = "float16") -> Path:
    """SD 1.4's architecture (859,520,964 + 83,653,863 + 123,060,480 parameters) with random weights, saved."""
    torch.manual_seed(0)
    pipe = StableDiffusionPipeline(
        vae=AutoencoderKL(**sd14.VAE_CONFIG),
        text_encoder=CLIPTextModel(CLIPTextConfig(**sd14.TEXT_ENCODER_CONFIG)),
        tokenizer=sd14_tokenizer(),
        unet=UNet2DConditionModel(**sd14.UNET_CONFIG),
        scheduler=PNDMScheduler(**sd14.SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.to(getattr(torch, dtype)).save_pretrained(folder, safe_serialization=True)
    return folder
