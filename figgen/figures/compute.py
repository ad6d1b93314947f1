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


def flops(destination: Path) -> dict:
    numbers = measure()
    latent, pixels, ratio = numbers["unet_call_latent"], numbers["unet_call_pixels"], numbers["pixel_to_latent_ratio"]
    generation = numbers["generation"]
    total = sum(generation.values())

    svg = Svg(
        960, 460,
        "Where Stable Diffusion 1.4's compute goes",
        f"One UNet prediction on a 64 by 64 latent costs {tera(latent)}; the same network on 512 by 512 pixels "
        f"would cost {tera(pixels)}, {ratio:,.0f} times more. A whole 50-step generation costs {tera(total)}, "
        f"almost all of it in the UNet.",
    )
    svg.text(20, 34, "Why diffusion runs on latents: floating-point operations (FLOP)", 20, "start", weight="bold")
    # Part 1: one UNet call, latent vs pixels, bars on a shared linear scale.
    left, bar_w = 330, 470
    svg.text(20, 74, "One UNet prediction (batch of 1)", 15, "start", weight="bold")
    for row, (label, value, colour) in enumerate(
        [("on a 64 × 64 latent", latent, ACCENT), ("same network, 512 × 512 pixels", pixels, WARM)]
    ):
        y = 94 + row * 44
        svg.text(left - 10, y + 20, label, 13, "end")
        svg.rect(left, y, max(2.0, bar_w * value / pixels), 28, fill=colour, stroke=colour, rx=3)
        svg.text(left + max(2.0, bar_w * value / pixels) + 8, y + 19, tera(value), 13, "start", INK, "bold")
    svg.text(
        20, 196,
        f"On pixels the same UNet needs {ratio:,.0f} times the arithmetic: its self-attention grows with the "
        "square of the number of positions.",
        12, "start", MUTED,
    )

    # Part 2: one generation, split by model.
    svg.text(20, 246, f"One whole generation: {tera(total)}", 15, "start", weight="bold")
    for row, (label, value) in enumerate(generation.items()):
        y = 266 + row * 44
        share = value / total
        svg.text(left - 10, y + 20, label, 13, "end")
        svg.rect(left, y, max(2.0, bar_w * share), 28, fill=PALE if row != 1 else ACCENT, stroke=ACCENT, rx=3)
        svg.text(left + max(2.0, bar_w * share) + 8, y + 19, f"{tera(value)} ({percent(share)})", 13, "start", INK, "bold")
    svg.text(
        20, 420,
        "Counted with PyTorch's FLOP counter on SD 1.4's exact layer shapes (networks built from its configuration, "
        "no weights).",
        12, "start", MUTED,
    )
    svg.text(
        20, 440,
        "A multiply-add counts as 2 operations. Guidance means 2 UNet predictions per step; with DDIM, one step is "
        "one call (SD 1.4's default PNDM makes 51 calls for 50 steps).",
        12, "start", MUTED,
    )
    info = svg.save(destination)
    return {**info, **numbers, "generation_total": total}
