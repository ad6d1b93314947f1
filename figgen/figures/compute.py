"""Where the compute goes (Parts 3 and 5): FLOPs counted on SD 1.4's real layer shapes.

The networks are built on the meta device and run under torch's
FlopCounterMode, which adds up the floating-point operations of every
matrix multiplication and convolution (a multiply and an add count as two).
Nothing is computed for real, so this takes a second on any machine.
"""

from __future__ import annotations

from pathlib import Path

from .. import sd14
from .palette import ACCENT, INK, MUTED, PALE, WARM
from .svg import Svg


def counted_flops(module, *args, **kwargs) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(*args, **kwargs)
    return counter.get_total_flops()


def measure(steps: int = sd14.DEFAULT_STEPS) -> dict:
    """FLOPs of one UNet call (batch 1) on latents and on pixels, and of one whole generation."""
    import torch

    unet, vae, text_encoder = sd14.meta_models()
    channels, side, _ = sd14.latent_shape()
    size = sd14.IMAGE_SIZE
    tokens = sd14.TEXT_ENCODER_CONFIG["max_position_embeddings"]
    width = sd14.UNET_CONFIG["cross_attention_dim"]
    meta = dict(device="meta")
    text = torch.empty(1, tokens, width, **meta)
    unet_latent = counted_flops(unet, torch.empty(1, channels, side, side, **meta), 500, encoder_hidden_states=text)
    unet_pixels = counted_flops(unet, torch.empty(1, channels, size, size, **meta), 500, encoder_hidden_states=text)
    # One generation with classifier-free guidance: the prompt and the empty prompt are encoded,
    # and at every step the UNet predicts noise for both.
    text_flops = counted_flops(text_encoder, torch.zeros(2, tokens, dtype=torch.long, **meta))
    decode_flops = counted_flops(vae.decode, torch.empty(1, channels, side, side, **meta))
    return {
        "unet_call_latent": unet_latent,
        "unet_call_pixels": unet_pixels,
        "pixel_to_latent_ratio": unet_pixels / unet_latent,
        "generation": {
            "text encoder (prompt + empty prompt)": text_flops,
            f"UNet ({2 * steps} predictions: 2 per step × {steps})": 2 * steps * unet_latent,
            "VAE decoder (once)": decode_flops,
        },
    }


def tera(flops: float) -> str:
    if flops < 1e12:
        return f"{flops / 1e9:,.1f} GFLOP"
    return f"{flops / 1e12:,.2f} TFLOP" if flops < 1e15 else f"{flops / 1e15:,.2f} PFLOP"


def percent(share: float) -> str:
    return "under 0.1%" if share < 0.001 else f"{share:.1%}"


def plain(flops: float) -> str:
    """A FLOP count in words: '803 billion sums'."""
    for size, name in ((1e15, "thousand trillion"), (1e12, "trillion"), (1e9, "billion")):
        if flops >= size:
            return f"{flops / size:,.0f} {name} sums"
    return f"{flops:,.0f} sums"


def flops(destination: Path) -> dict:
    numbers = measure()
    latent, pixels, ratio = numbers["unet_call_latent"], numbers["unet_call_pixels"], numbers["pixel_to_latent_ratio"]
    generation = numbers["generation"]
    total = sum(generation.values())
    width, left, bar_w = 688, 16, 420  # drawn at the text column's own width: a unit is a pixel

    svg = Svg(
        width, 0,
        "Where Stable Diffusion 1.4's compute goes",
        f"One UNet prediction on a 64 by 64 latent costs {tera(latent)}; the same network on 512 by 512 pixels "
        f"would cost {tera(pixels)}, {ratio:,.0f} times more. A whole 50-step generation costs {tera(total)}, "
        f"almost all of it in the UNet.",
    )
    svg.text(left, 30, "Working on the small latent saves most of the work", 19, "start", weight="bold")

    def bar(y, label, share, colour, fill, value):
        svg.text(left, y, label, 15, "start", INK)
        w = max(3.0, bar_w * share)
        svg.rect(left, y + 8, w, 26, fill=fill, stroke=colour, rx=3)
        svg.text(left + w + 10, y + 27, value, 15, "start", INK, "bold")
        return y + 62

    # Part 1: one prediction of the UNet, on the latent and on the full-size picture, on one scale.
    svg.text(left, 70, "The work of one denoising step (one UNet prediction)", 16, "start", ACCENT, "bold")
    y = bar(100, "on the small latent, 64 × 64 (what SD 1.4 does)", latent / pixels, ACCENT, ACCENT, "1 ×")
    y = bar(y, "on the full-size picture, 512 × 512", 1.0, WARM, WARM, f"{ratio:,.0f} ×")
    y = svg.paragraph(left, y, f"On the full-size picture, the same UNet would need {ratio:,.0f} times the work "
                               "for every step.", 14, width - 2 * left,
                      fill=MUTED)

    # Part 2: one whole picture, split by model.
    svg.text(left, y + 28, "Where the work of one whole picture goes", 16, "start", ACCENT, "bold")
    y += 58
    names = {
        "text": "reading the prompt (text encoder)",
        "unet": f"denoising: {2 * sd14.DEFAULT_STEPS} UNet predictions",
        "vae": "decoding the picture (VAE decoder)",
    }
    for (key, value), name in zip(generation.items(), names.values()):
        unet = key.startswith("UNet")
        y = bar(y, name, value / total, ACCENT, ACCENT if unet else PALE, percent(value / total))
    y = svg.paragraph(
        left, y,
        "Counted by software that tallies every sum, on SD 1.4's exact design, with guidance (2 predictions "
        "per step) and 50 steps.",
        14, width - 2 * left, fill=MUTED,
    )
    svg.height = y + 4
    info = svg.save(destination)
    return {**info, **numbers, "generation_total": total}
