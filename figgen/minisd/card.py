"""mini-sd's model card: README.md in the model folder, written from what training and the quality check recorded."""

from __future__ import annotations

import json
from pathlib import Path

from . import world

def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name not in ("README.md",))


def write_card(folder: Path) -> Path:
    from ..outputs import write_bytes
    from .quality import table, verdict

    training = json.loads((folder / "training.json").read_text())
    quality_file = folder / "quality.json"
    quality = json.loads(quality_file.read_text()) if quality_file.exists() else None
    parameters = training["parameters"]
    recipe = training["recipe"]
    timings = training["timings_s"]
    machine = training["machine"]
    held_out = "; ".join(world.caption(*c) for c in world.HELD_OUT)
    megabytes = folder_size(folder) / 1e6
    text_config = json.loads((folder / "text_encoder" / "config.json").read_text())

    flaws_text = known_flaws(training, quality)
    if quality:
        quality_text = (
            f"Measured by `make mini-quality` (`python -m figgen.minisd.quality`): {quality['prompts']} prompts "
            f"(all {len(world.HELD_OUT)} held-out combinations and {quality['prompts'] - len(world.HELD_OUT)} seen ones), "
            f"{quality['seeds_per_prompt']} seeds each, {quality['steps']} steps, with DDIM (the sampler of the "
            "article's figures) and with PNDM (SD 1.4's shipped default), at 64 × 64. Each picture is read back by measurement alone: "
            "border colour, the colour of the largest patch that differs from it, and how much of its bounding box "
            "that patch fills. On pictures drawn by the world itself this reader is right "
            f"{quality['reader_accuracy_on_drawn_pictures']:.0%} of the time.\n\n" + table(quality)
            + "\n\nThe project's floors, checked with DDIM at guidance 7.5:\n\n"
            + "\n".join(f"- {'met' if ok else 'NOT met'}: {name}" for name, ok in verdict(quality).items())
        )
    else:
        quality_text = "Not measured yet: run `make mini-quality`."

    text = f"""---
license: mit
library_name: diffusers
pipeline_tag: text-to-image
tags: [stable-diffusion, miniature, education]
---

# mini-sd

mini-sd is a miniature Stable Diffusion, trained from scratch by the
*Unboxing Stable Diffusion* project so that its article can show a real
text-to-image model at work on any computer. It has the same three models
as Stable Diffusion 1.4, in the same roles and with the same classes, and
`StableDiffusionPipeline.from_pretrained` loads this folder exactly as it
loads SD 1.4. It draws one coloured shape on a coloured background, at
64 × 64 pixels, and nothing else.

## Models

| role | class | parameters | SD 1.4 |
|---|---|---|---|
| text encoder | `CLIPTextModel` ({text_config['num_hidden_layers']} layers, width {text_config['hidden_size']}), SD 1.4's CLIP tokenizer and 77-token rule | {parameters['text_encoder']:,} | 123,060,480 |
| compressor | `AutoencoderKL`: 8× smaller each side, 4 latent channels, scaling factor {training['scaling_factor']} | {parameters['vae']:,} | 83,653,863 |
| denoiser | `UNet2DConditionModel` with cross-attention, predicts the noise (ε) | {parameters['unet']:,} | 859,520,964 |
| **total** | | **{parameters['total']:,}** | 1,066,235,307 |

Most of the text encoder's parameters are its table of 49,408 token
vectors: it keeps CLIP's whole vocabulary so that SD 1.4's tokenizer works
unchanged, although its captions use only a handful of words. The scheduler
is SD 1.4's: PNDM with a scaled-linear schedule, β from 0.00085 to 0.012
over 1,000 steps. The weights are stored in float16 ({megabytes:.1f} MB in
this folder).

## Data

Pictures drawn by `figgen/minisd/world.py`, deterministically, with no
downloads: one {', '.join(world.SHAPES[:-1])} or {world.SHAPES[-1]} in one of
{len(world.COLOURS)} colours ({', '.join(world.COLOURS)}) on a background of
another, of varying size and position, captioned like "a red circle on a
blue background". That makes {len(world.ALL_COMBINATIONS)} combinations, of
which {len(world.HELD_OUT)} never appear in training: {held_out}.

The compressor also learns from crops of photos shipped inside
scikit-image ({', '.join(_training_photos())}). The photos the article's
figures use (astronaut, coffee, chelsea, rocket) are left out, so those
figures show the compressor a photo it has never seen.

## Recipe

Each model is trained separately, in SD 1.4's order, with seed {recipe['seed']}:

1. **Text encoder**: trained contrastively against a small picture encoder,
   as CLIP was: matching captions and pictures are pulled together, others
   pushed apart ({recipe['text_steps']} steps of {recipe['text_batch']} pairs).
   Then frozen; the picture encoder is thrown away.
2. **Compressor**: reconstruction loss (L1 + L2) with a small KL term
   (weight {recipe['vae_kl_weight']:g}); {recipe['vae_steps']} steps of
   {recipe['vae_batch']} pictures, {recipe['vae_photo_fraction']:.0%} of them photo
   crops. The latent scaling factor, {training['scaling_factor']}, is
   1 / (standard deviation of the latents of {recipe['latent_pool']:,} training
   pictures), the rule that gave SD its 0.18215.
3. **Denoiser**: learns to predict the noise added to a latent at a random
   timestep of SD 1.4's schedule, reading the frozen text encoder's last
   hidden state at all 77 positions through cross-attention;
   {recipe['unet_steps']} steps of {recipe['unet_batch']} latents, AdamW, an
   exponential moving average of the weights (decay {recipe['ema_decay']}).
   {recipe['caption_dropout']:.0%} of captions are replaced by the empty one,
   so that classifier-free guidance works. Before that, {recipe.get('caption_noise', 0):.0%} of the
   captions it learns from ({training.get('wrong_captions', 0):,} of {recipe['latent_pool']:,}) were made wrong about one
   thing (shape colour, shape or background), as web captions often are;
   guidance then has something to correct. The text encoder learned from
   correct captions only.

Command: `{training['command']}` (`python -m figgen.minisd.train`). Machine:
{machine['device']}, {machine['cpu_threads']} threads ({machine['processor']},
{machine['platform']}); torch {training['versions']['torch']}. Time:
{timings['total_s'] / 60:.1f} minutes (text encoder {timings['text_encoder_s'] / 60:.1f},
compressor {timings['vae_s'] / 60:.1f}, denoiser {timings['unet_s'] / 60:.1f}).
{training.get('note', '')}
The loss curves are in `training.json`; the article draws them.

## Quality

{quality_text}

## Limits

mini-sd knows three shapes, six colours and one sentence pattern; any
other prompt gives a picture from its little world, not what was asked.
Its pictures are 64 × 64 pixels (SD 1.4: 512 × 512) and its latents
8 × 8 × 4 (SD 1.4: 64 × 64 × 4). It is a teaching model, not a smaller
substitute for SD 1.4.

{flaws_text}

## Licence

MIT, like the rest of the project. The tokenizer's vocabulary is CLIP's
(MIT, OpenAI). The training photos are scikit-image's sample data; the
docstring of each `skimage.data` function gives its source and terms
(most are public domain or CC0).
"""
    destination = folder / "README.md"
    write_bytes(destination, text.encode("utf-8"))
    return destination


def known_flaws(training: dict, quality: dict | None) -> str:
    """What this version gets wrong: measured where the quality check measures it, seen where a person looked."""
    from .quality import run_of

    lines = ["Known flaws of this version:"]
    if training.get("flaws_seen"):
        lines.append(f"- seen in its pictures: {training['flaws_seen']}")
    if quality:
        ddim_1, ddim_7 = run_of(quality, "ddim", "1")["all"], run_of(quality, "ddim", "7.5")["all"]
        pndm_7 = run_of(quality, "pndm", "7.5")["all"]
        lines.append(
            f"- without guidance (scale 1) it draws all three things asked for in {ddim_1['all']:.0%} of "
            f"pictures, with guidance 7.5 in {ddim_7['all']:.0%} (DDIM);"
        )
        if pndm_7["colours"] < 0.9:
            lines.append(
                f"- with PNDM (SD 1.4's default sampler) at guidance 7.5 it gets both colours right in only "
                f"{pndm_7['colours']:.0%} of pictures; the article's figures use DDIM;"
            )
    lines.append("- it knows nothing outside its little world (see Limits).")
    return "\n".join(lines)


def _training_photos() -> list[str]:
    from .train import TRAINING_PHOTOS

    return list(TRAINING_PHOTOS)
