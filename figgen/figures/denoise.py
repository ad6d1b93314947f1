"""The denoise / re-noise family (Part 1): x_t beside the predicted clean image x0.

Both renderers read the decoded images that the capture made of every step's
noisy latent (`decoded_latents`) and predicted clean latent
(`decoded_pred_original_sample`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..cache import Capture
from .imaging import BACKGROUND, INK, MUTED, draw_centred, font, save_animated_webp, save_webp, tile

ROW_LABELS = ("noisy latent x_t", "predicted x0")
# Layout, in pixels: outer margin, gap between tiles, room for row labels,
# column headings and the animation's caption line.
MARGIN, GAP, LABEL_WIDTH, HEADER, FOOTER = 12, 8, 150, 52, 30


def sequence(
    capture: Capture,
    destination: Path,
    *,
    show_steps: list[int],
    tile_size: int = 256,
    quality: int = 90,
    lossless: bool = False,
) -> dict:
    """A grid: one column per chosen step (1-based), x_t on top and x0 below."""
    timesteps = capture.arrays["timesteps"]
    count = len(timesteps)
    bad = [step for step in show_steps if not 1 <= step <= count]
    if bad:
        raise ValueError(f"show_steps {bad} are outside 1..{count}, the steps this capture has")

    margin, gap, label_width, header = MARGIN, GAP, LABEL_WIDTH, HEADER
    width = label_width + len(show_steps) * (tile_size + gap) - gap + 2 * margin
    height = header + 2 * tile_size + gap + 2 * margin
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    heading, small = font(20), font(16)

    for column, step in enumerate(show_steps):
        left = margin + label_width + column * (tile_size + gap)
        centre = left + tile_size // 2
        draw_centred(draw, centre, margin, f"step {step} of {count}", heading)
        draw_centred(draw, centre, margin + 26, f"t = {int(timesteps[step - 1])}", small, MUTED)
        rows = (capture.arrays["decoded_latents"], capture.arrays["decoded_pred_original_sample"])
        for row, images in enumerate(rows):
            top = margin + header + row * (tile_size + gap)
            canvas.paste(tile(images[step - 1], tile_size), (left, top))
    for row, label in enumerate(ROW_LABELS):
        top = margin + header + row * (tile_size + gap) + tile_size // 2 - 12
        draw.text((margin, top), label, font=small, fill=INK)

    save_webp(destination, canvas, quality=quality, lossless=lossless)
    return {"width": width, "height": height, "steps_shown": list(show_steps)}


def animation(
    capture: Capture,
    destination: Path,
    *,
    tile_size: int = 256,
    frame_ms: int = 120,
    final_hold_ms: int = 2000,
    quality: int = 80,
    lossless: bool = False,
) -> dict:
    """One frame per step (x_t | x0), then a last frame holding the final image."""
    timesteps = capture.arrays["timesteps"]
    count = len(timesteps)
    margin, gap, footer = MARGIN, GAP, FOOTER
    width = 2 * tile_size + gap + 2 * margin
    height = tile_size + footer + 2 * margin
    small = font(16)

    def frame(left_image, right_image, text: str) -> Image.Image:
        canvas = Image.new("RGB", (width, height), BACKGROUND)
        canvas.paste(tile(left_image, tile_size), (margin, margin))
        canvas.paste(tile(right_image, tile_size), (margin + tile_size + gap, margin))
        draw_centred(ImageDraw.Draw(canvas), width // 2, margin + tile_size + 6, text, small, INK)
        return canvas

    frames = [
        frame(
            capture.arrays["decoded_latents"][index],
            capture.arrays["decoded_pred_original_sample"][index],
            f"step {index + 1} of {count} (t = {int(timesteps[index])}): x_t | predicted x0",
        )
        for index in range(count)
    ]
    final = capture.arrays["image"]
    frames.append(frame(final, final, "finished: the final latent, decoded"))
    durations = [frame_ms] * count + [final_hold_ms]
    save_animated_webp(destination, frames, durations, quality=quality, lossless=lossless)
    return {"width": width, "height": height, "frames": len(frames)}


def latent_as_colour(latent: np.ndarray) -> np.ndarray:
    """The first three of a latent's 4 channels as red, green and blue, stretched to +-3 standard deviations."""
    rgb = latent[:3].transpose(1, 2, 0)
    spread = float(rgb.std()) or 1.0
    return (np.clip(rgb / (3 * spread) * 0.5 + 0.5, 0, 1) * 255).round().astype(np.uint8)


def noise_and_image(capture: Capture, destination: Path, *, show_steps: list[int], tile_size: int = 192, lossless: bool = False) -> dict:
    """For chosen steps: the noise the UNet predicts (latent channels as colours) above its predicted picture."""
    arrays = capture.arrays
    count = len(arrays["timesteps"])
    bad = [step for step in show_steps if not 1 <= step <= count]
    if bad:
        raise ValueError(f"show_steps {bad} are outside 1..{count}, the steps this capture has")
    margin, gap, header, label = MARGIN, GAP, HEADER, LABEL_WIDTH
    width = label + len(show_steps) * (tile_size + gap) - gap + 2 * margin
    height = header + 2 * tile_size + gap + 2 * margin
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for column, step in enumerate(show_steps):
        left = margin + label + column * (tile_size + gap)
        draw_centred(draw, left + tile_size // 2, margin, f"step {step} of {count}", font(18))
        draw_centred(draw, left + tile_size // 2, margin + 24, f"t = {int(arrays['timesteps'][step - 1])}", font(14), MUTED)
        noise = Image.fromarray(latent_as_colour(arrays["noise_pred"][step - 1])).resize((tile_size, tile_size), Image.Resampling.NEAREST)
        canvas.paste(noise, (left, margin + header))
        canvas.paste(tile(arrays["decoded_pred_original_sample"][step - 1], tile_size), (left, margin + header + tile_size + gap))
    for row, text in enumerate(("predicted noise", "predicted picture")):
        draw.text((margin, margin + header + row * (tile_size + gap) + tile_size // 2 - 10), text, font=font(16), fill=INK)
    save_webp(destination, canvas, quality=90, lossless=lossless)
    return {"width": width, "height": height, "steps_shown": list(show_steps)}
