"""Train mini-sd from scratch: text encoder, then compressor, then denoiser, as SD 1.4's were.

    python -m figgen.minisd.train --out models/mini-sd      (what `make mini-model` runs)

1. Text encoder: a CLIPTextModel learns, against a small image encoder,
   to give matching captions and pictures nearby vectors (CLIP's
   contrastive recipe). Then it is frozen, as SD 1.4 froze CLIP ViT-L/14.
2. Compressor: an AutoencoderKL (4 blocks, so each side shrinks 8 times;
   4 latent channels) learns to squeeze pictures of the shape world and
   crops of real photos into latents and back. Its scaling factor is
   1 / (standard deviation of the latents), measured on training data, as
   0.18215 was measured for SD.
3. Denoiser: a UNet2DConditionModel with cross-attention learns to predict
   the noise added to a latent at a random timestep of SD 1.4's schedule,
   reading the frozen text encoder's last hidden state at all 77 positions.
   A quarter of its captions are wrong about one thing, as web captions
   often are, and one in ten is replaced by the empty caption, so that
   classifier-free guidance works and has something to correct.

Everything is seeded; the result is saved with save_pretrained in diffusers'
folder layout, in float16, with a model card and the training log.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .. import sd14
from ..clip_vocab import sd14_tokenizer
from . import world
from .card import write_card

# The recipe. Step counts are for the full run; --scale shrinks them (tests use a tiny scale).
TEXT_ENCODER_CONFIG = dict(
    vocab_size=49408,  # CLIP's real vocabulary, so SD 1.4's tokenizer works unchanged
    hidden_size=64,
    intermediate_size=256,
    num_hidden_layers=4,
    num_attention_heads=4,
    max_position_embeddings=77,
    hidden_act="quick_gelu",
    bos_token_id=49406,
    eos_token_id=49407,
    pad_token_id=49407,
)
VAE_CONFIG = dict(
    in_channels=3,
    out_channels=3,
    latent_channels=4,
    block_out_channels=(16, 32, 64, 64),
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
    layers_per_block=1,
    norm_num_groups=16,
    sample_size=world.SIZE,
)
UNET_CONFIG = dict(
    sample_size=world.SIZE // 8,
    in_channels=4,
    out_channels=4,
    layers_per_block=1,
    block_out_channels=(64, 128),
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=TEXT_ENCODER_CONFIG["hidden_size"],
    attention_head_dim=8,
    norm_num_groups=32,
)
RECIPE = dict(
    seed=0,
    text_steps=300,
    text_batch=128,
    text_lr=1e-3,
    vae_steps=2500,
    vae_batch=32,
    vae_lr=1e-3,
    vae_photo_fraction=0.25,
    vae_kl_weight=1e-6,
    latent_pool=16000,
    unet_steps=4500,
    unet_batch=64,
    unet_lr=6e-4,
    ema_decay=0.999,
    caption_dropout=0.1,
    caption_noise=0.25,
)

# Photos shipped inside scikit-image for the compressor to learn from. The
# figures' photos (astronaut, coffee, chelsea alias cat, rocket) are left out,
# so the VAE figures show a photo the compressor never saw.
TRAINING_PHOTOS = (
    "hubble_deep_field", "immunohistochemistry", "colorwheel", "retina", "camera",
    "brick", "grass", "gravel", "moon", "coins", "clock", "page", "text",
)


def log(message: str) -> None:
    print(f"mini-sd: {message}", flush=True)


def training_photos() -> list[np.ndarray]:
    import skimage.data

    photos = []
    for name in TRAINING_PHOTOS:
        image = getattr(skimage.data, name)()
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        photos.append(np.ascontiguousarray(image[..., :3]))
    return photos


def photo_crops(rng: np.random.Generator, photos: list[np.ndarray], count: int) -> np.ndarray:
    """`count` random crops, each shrunk to 64x64, as float32 in [-1, 1], (count, 3, 64, 64)."""
    from PIL import Image

    crops = []
    for _ in range(count):
        photo = photos[rng.integers(len(photos))]
        side = int(rng.integers(world.SIZE, min(photo.shape[:2]) + 1))
        top = int(rng.integers(photo.shape[0] - side + 1))
        left = int(rng.integers(photo.shape[1] - side + 1))
        crop = Image.fromarray(photo[top : top + side, left : left + side])
        crops.append(np.asarray(crop.resize((world.SIZE, world.SIZE), Image.Resampling.LANCZOS)))
    return np.stack(crops).astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0


class ImageEncoder(torch.nn.Module):
    """CLIP's other half, in miniature: a picture to a vector. Used only to train the text encoder."""

    def __init__(self, dim: int):
        super().__init__()
        layers, channels = [], 3
        for width in (32, 64, 128, 128):
            layers += [torch.nn.Conv2d(channels, width, 3, stride=2, padding=1), torch.nn.GroupNorm(8, width), torch.nn.SiLU()]
            channels = width
        self.net = torch.nn.Sequential(*layers)
        self.proj = torch.nn.Linear(channels, dim)

    def forward(self, pictures):
        return self.proj(self.net(pictures).mean(dim=(2, 3)))


def tokenize(tokenizer, captions: list[str]) -> torch.Tensor:
    return tokenizer(captions, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids


def train_text_encoder(recipe, tokenizer, rng, device, history):
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(recipe["seed"])
    text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT_ENCODER_CONFIG)).to(device)
    dim = TEXT_ENCODER_CONFIG["hidden_size"]
    image_encoder = ImageEncoder(dim).to(device)
    text_projection = torch.nn.Linear(dim, dim, bias=False).to(device)
    log_temperature = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07), device=device))
    parameters = [*text_encoder.parameters(), *image_encoder.parameters(), *text_projection.parameters(), log_temperature]
    optimizer = torch.optim.AdamW(parameters, lr=recipe["text_lr"], weight_decay=0.01)
    bar = tqdm(range(recipe["text_steps"]), desc="1/3 text encoder (contrastive)", unit="step", file=sys.stdout)
    for step in bar:
        pictures, captions, _ = world.batch(rng, recipe["text_batch"])
        ids = tokenize(tokenizer, captions).to(device)
        text = F.normalize(text_projection(text_encoder(ids).pooler_output), dim=-1)
        image = F.normalize(image_encoder(torch.from_numpy(pictures).to(device)), dim=-1)
        logits = log_temperature.exp().clamp(max=100) * text @ image.T
        # A batch holds several pictures with the same caption: all of them count as matches.
        same = torch.tensor([[a == b for b in captions] for a in captions], dtype=torch.float32, device=device)
        targets = same / same.sum(dim=1, keepdim=True)
        loss = (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history["text_encoder"].append(round(loss.item(), 5))
        bar.set_postfix(loss=f"{loss.item():.3f}")
    text_encoder.requires_grad_(False).eval()
    return text_encoder


def vae_batch(recipe, rng, photos, count):
    photo_count = int(round(count * recipe["vae_photo_fraction"]))
    shapes, _, _ = world.batch(rng, count - photo_count, world.ALL_COMBINATIONS)
    return torch.from_numpy(np.concatenate([shapes, photo_crops(rng, photos, photo_count)]))


def train_vae(recipe, rng, device, history):
    from diffusers import AutoencoderKL

    torch.manual_seed(recipe["seed"] + 1)
    vae = AutoencoderKL(**VAE_CONFIG).to(device)
    photos = training_photos()
    optimizer = torch.optim.AdamW(vae.parameters(), lr=recipe["vae_lr"], weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, recipe["vae_lr"], total_steps=recipe["vae_steps"], pct_start=0.05)
    bar = tqdm(range(recipe["vae_steps"]), desc="2/3 compressor (VAE)", unit="step", file=sys.stdout)
    for step in bar:
        pictures = vae_batch(recipe, rng, photos, recipe["vae_batch"]).to(device)
        posterior = vae.encode(pictures).latent_dist
        reconstruction = vae.decode(posterior.sample()).sample
        rec_loss = F.l1_loss(reconstruction, pictures) + F.mse_loss(reconstruction, pictures)
        loss = rec_loss + recipe["vae_kl_weight"] * posterior.kl().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        history["vae"].append(round(rec_loss.item(), 5))
        bar.set_postfix(loss=f"{rec_loss.item():.4f}")
    vae.requires_grad_(False).eval()
    return vae


@torch.no_grad()
def encode_pool(recipe, vae, rng, device):
    """Encode a fixed pool of training pictures once: latent means and standard deviations, and captions."""
    means, stds, captions = [], [], []
    chunk = 256
    for start in tqdm(range(0, recipe["latent_pool"], chunk), desc="   encoding the training pictures", file=sys.stdout):
        pictures, batch_captions, _ = world.batch(rng, min(chunk, recipe["latent_pool"] - start))
        posterior = vae.encode(torch.from_numpy(pictures).to(device)).latent_dist
        means.append(posterior.mean.cpu())
        stds.append(posterior.std.cpu())
        captions += batch_captions
    return torch.cat(means), torch.cat(stds), captions


def miscaption_pool(recipe, captions: list[str]) -> list[str]:
    """The pool's captions with a `caption_noise` share made wrong about one thing, once, like a scraped dataset's."""
    rng = np.random.default_rng(recipe["seed"] + 4)
    noisy = []
    for text in captions:
        if rng.random() < recipe["caption_noise"]:
            text = world.miscaption(rng, world.parse_caption(text))
        noisy.append(text)
    return noisy


def train_unet(recipe, text_encoder, tokenizer, latents_mean, latents_std, captions, scaling_factor, device, history,
               checkpoint=None):
    from diffusers import DDPMScheduler, UNet2DConditionModel

    torch.manual_seed(recipe["seed"] + 2)
    unet = UNet2DConditionModel(**UNET_CONFIG).to(device)
    ema = copy.deepcopy(unet).requires_grad_(False)
    # SD 1.4's training noise: the betas of its shipped scheduler config.
    noise_scheduler = DDPMScheduler.from_config(sd14.SCHEDULER_CONFIG)
    # The text encoder is frozen, so each distinct caption (and the empty one) is encoded once.
    distinct = sorted(set(captions)) + [""]
    with torch.no_grad():
        table = text_encoder(tokenize(tokenizer, distinct).to(device)).last_hidden_state
    index = {text: i for i, text in enumerate(distinct)}
    caption_ids = torch.tensor([index[c] for c in captions])
    empty_id = index[""]

    optimizer = torch.optim.AdamW(unet.parameters(), lr=recipe["unet_lr"], weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, recipe["unet_lr"], total_steps=recipe["unet_steps"], pct_start=0.03)
    generator = torch.Generator().manual_seed(recipe["seed"] + 3)
    batch_size = recipe["unet_batch"]
    bar = tqdm(range(recipe["unet_steps"]), desc="3/3 denoiser (UNet)", unit="step", file=sys.stdout)
    for step in bar:
        rows = torch.randint(len(caption_ids), (batch_size,), generator=generator)
        latents = latents_mean[rows] + latents_std[rows] * torch.randn(latents_mean[rows].shape, generator=generator)
        latents = (latents * scaling_factor).to(device)
        noise = torch.randn(latents.shape, generator=generator).to(device)
        timesteps = torch.randint(0, 1000, (batch_size,), generator=generator).to(device)
        noisy_latents = noise_scheduler.add_noise(latents, noise, timesteps)
        text_rows = caption_ids[rows]
        dropped = torch.rand(batch_size, generator=generator) < recipe["caption_dropout"]
        text_rows[dropped] = empty_id
        prompt_embeds = table[text_rows.to(device)]
        noise_pred = unet(noisy_latents, timesteps, encoder_hidden_states=prompt_embeds).sample
        loss = F.mse_loss(noise_pred, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        decay = min(recipe["ema_decay"], (1 + step) / (10 + step))
        with torch.no_grad():
            for kept, live in zip(ema.parameters(), unet.parameters()):
                kept.lerp_(live, 1 - decay)
        history["unet"].append(round(loss.item(), 5))
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if checkpoint is not None and (step + 1) % max(1, recipe["unet_steps"] // 4) == 0 and step + 1 < recipe["unet_steps"]:
            checkpoint(ema)  # a usable pipeline at each quarter, so a long run can be inspected early
    return ema.eval()


def save_pipeline(out: Path, text_encoder, vae, unet, tokenizer) -> None:
    """Save the three networks as a StableDiffusionPipeline folder, in float16, as SD 1.4's hub folder is laid out."""
    from diffusers import PNDMScheduler, StableDiffusionPipeline

    pipe = StableDiffusionPipeline(
        vae=copy.deepcopy(vae).cpu(),
        text_encoder=copy.deepcopy(text_encoder).cpu(),
        tokenizer=tokenizer,
        unet=copy.deepcopy(unet).cpu(),
        scheduler=PNDMScheduler(**sd14.SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    out.mkdir(parents=True, exist_ok=True)
    pipe.to(torch.float16).save_pretrained(out, safe_serialization=True)


def train(out: Path, device: str = "cpu", scale: float = 1.0) -> dict:
    """Train all three networks and save the pipeline into `out`. Returns the training record."""
    recipe = dict(RECIPE)
    for key in recipe:
        if key.endswith("_steps") or key == "latent_pool":
            recipe[key] = max(2, int(recipe[key] * scale))
    torch.manual_seed(recipe["seed"])
    rng = np.random.default_rng(recipe["seed"])
    tokenizer = sd14_tokenizer()
    history = {"text_encoder": [], "vae": [], "unet": []}
    timings = {}

    started = time.perf_counter()
    text_encoder = train_text_encoder(recipe, tokenizer, rng, device, history)
    timings["text_encoder_s"] = time.perf_counter() - started

    mark = time.perf_counter()
    vae = train_vae(recipe, rng, device, history)
    timings["vae_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    latents_mean, latents_std, captions = encode_pool(recipe, vae, rng, device)
    # SD's rule: scale latents so that they have unit standard deviation.
    sample = latents_mean + latents_std * torch.randn(latents_mean.shape, generator=torch.Generator().manual_seed(1))
    scaling_factor = float(f"{1.0 / sample.std().item():.5f}")
    vae.register_to_config(scaling_factor=scaling_factor)
    log(f"latent scaling factor, measured on {len(captions):,} training pictures: {scaling_factor}")
    noisy_captions = miscaption_pool(recipe, captions)
    wrong = sum(a != b for a, b in zip(captions, noisy_captions))
    log(f"{wrong:,} of the {len(captions):,} captions the denoiser learns from are wrong about one thing")
    def save(unet):
        save_pipeline(out, text_encoder, vae, unet, tokenizer)

    unet = train_unet(recipe, text_encoder, tokenizer, latents_mean, latents_std, noisy_captions, scaling_factor, device, history, save)
    timings["unet_s"] = time.perf_counter() - mark
    timings["total_s"] = time.perf_counter() - started

    save_pipeline(out, text_encoder, vae, unet, tokenizer)
    record = {
        "model": "mini-sd",  # how figgen recognises this folder (models.is_mini_sd)
        "recipe": recipe,
        "scale": scale,
        "parameters": {
            "text_encoder": sd14.count(text_encoder),
            "vae": sd14.count(vae),
            "unet": sd14.count(unet),
            "total": sd14.count(text_encoder, vae, unet),
        },
        "scaling_factor": scaling_factor,
        "wrong_captions": wrong,
        "held_out": [list(c) for c in world.HELD_OUT],
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "machine": {
            "device": device if device == "cpu" else torch.cuda.get_device_name(),
            "cpu_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "command": "make mini-model",
        "losses": history,
    }
    (out / "training.json").write_text(json.dumps(record, indent=1) + "\n")
    write_card(out)
    log(f"saved to {out} in {timings['total_s'] / 60:.1f} minutes; {record['parameters']['total']:,} parameters")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m figgen.minisd.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("models/mini-sd"), help="folder to save the pipeline into")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every step count (for quick trials)")
    args = parser.parse_args(argv)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    # Train into a folder beside the destination and swap it in only when done, so an interrupted
    # run leaves the committed model as it was.
    out = args.out.resolve()
    staging = out.with_name(f".{out.name}-training")
    shutil.rmtree(staging, ignore_errors=True)
    train(staging, device, args.scale)
    if out.exists():
        retired = out.with_name(f".{out.name}-previous")
        shutil.rmtree(retired, ignore_errors=True)
        out.rename(retired)
        staging.rename(out)
        shutil.rmtree(retired)
    else:
        staging.rename(out)
    log(f"mini-sd is in {out}; measure it with `make mini-quality`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
