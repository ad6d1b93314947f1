"""The denoise / re-noise family (Part 1): x_t beside the predicted clean image x0.

Both renderers read the decoded images that the capture made of every step's
noisy latent (`decoded_latents`) and predicted clean latent
(`decoded_pred_original_sample`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..record import Capture, reads
from .imaging import MARGIN, font_size, save_animated_webp, save_webp, tile, tile_grid
from .palette import INK
from .steps import READS as STEP_READS, noise_level, write_step_frames

ROW_LABELS = ("noisy input: what the model is given at this step", "its guess of the finished picture")
# Layout, in pixels (MARGIN, the outer margin, is every raster figure's): gap between tiles and the
# animation's caption line; FONTS, the sizes text shows at in the site's text column.
GAP, FOOTER, FONTS = 8, 30, (15, 13)


def check_steps(capture: Capture, show_steps: list[int]) -> int:
    """The number of steps in `capture`; raises if a chosen step (1-based) is not among them."""
    count = len(capture.arrays["timesteps"])
    bad = [step for step in show_steps if not 1 <= step <= count]
    if bad:
        raise ValueError(f"show_steps {bad} are outside 1..{count}, the steps this capture has")
    return count


def two_rows(capture: Capture, destination: Path, show_steps: list[int], rows, row_labels, *,
             tile_size: int, quality: int, lossless: bool) -> dict:
    """One column per chosen step, headed by its number and noise level; `rows` give each column's two pictures,
    each row under its label."""
    count = check_steps(capture, show_steps)
    levels = capture.arrays["alphas_cumprod_t"]
    top_row = [(f"step {step} of {count}", f"noise level {noise_level(levels[step - 1]):.2f}", rows[0](step - 1))
               for step in show_steps]
    bottom_row = [("", "", rows[1](step - 1)) for step in show_steps]
    canvas = tile_grid(top_row + bottom_row, tile_size=tile_size, columns=len(show_steps), fonts=FONTS, gap=GAP,
                       row_titles=list(row_labels))
    info = save_webp(destination, canvas, quality=quality, lossless=lossless)
    return {**info, "steps_shown": list(show_steps)}


@reads("timesteps", "alphas_cumprod_t", "decoded_latents", "decoded_pred_original_sample")
def sequence(
    capture: Capture,
    destination: Path,
    *,
    show_steps: list[int],
    tile_size: int = 192,
    quality: int = 90,
    lossless: bool = False,
) -> dict:
    """A grid: one column per chosen step (1-based), x_t on top and x0 below."""
    arrays = capture.arrays
    rows = (lambda index: arrays["decoded_latents"][index], lambda index: arrays["decoded_pred_original_sample"][index])
    return two_rows(capture, destination, show_steps, rows, ROW_LABELS, tile_size=tile_size, quality=quality, lossless=lossless)


@reads(*STEP_READS)
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
    """One frame per step (x_t | x0), then a last frame holding the final image.

    The same frames, one picture each, go beside it for the site's step viewer, which takes the
    animation's place in a browser that runs JavaScript.
    """
    timesteps = capture.arrays["timesteps"]
    count = len(timesteps)

    def frame(left_image, right_image, text: str):
        canvas = tile_grid([("", "", left_image), ("", "", right_image)], tile_size=tile_size, gap=GAP, footer=FOOTER)
        canvas.text((canvas.width // 2, MARGIN + tile_size + 6), text, font_size(canvas.width, FONTS[0]), INK, centred=True)
        return canvas

    frames = [
        frame(
            capture.arrays["decoded_latents"][index],
            capture.arrays["decoded_pred_original_sample"][index],
            f"step {index + 1} of {count}, noise level {noise_level(capture.arrays['alphas_cumprod_t'][index]):.2f}: "
            "noisy input | its guess",
        )
        for index in range(count)
    ]
    final = capture.arrays["image"]
    frames.append(frame(final, final, "finished: the final latent, decoded"))
    durations = [frame_ms] * count + [final_hold_ms]
    info = save_animated_webp(destination, frames, durations, quality=quality, lossless=lossless)
    viewer = write_step_frames(capture, destination)
    return {**info, "frames": len(frames), "viewer": "replace", **viewer}


def latent_as_colour(latent: np.ndarray) -> np.ndarray:
    """The first three of a latent's 4 channels as red, green and blue, stretched to +-3 standard deviations."""
    rgb = latent[:3].transpose(1, 2, 0)
    spread = float(rgb.std()) or 1.0
    return (np.clip(rgb / (3 * spread) * 0.5 + 0.5, 0, 1) * 255).round().astype(np.uint8)


@reads("timesteps", "alphas_cumprod_t", "noise_pred", "decoded_pred_original_sample")
def noise_and_image(capture: Capture, destination: Path, *, show_steps: list[int], tile_size: int = 192,
                    quality: int = 90, lossless: bool = False) -> dict:
    """For chosen steps: the noise the UNet predicts (latent channels as colours) above its predicted picture."""
    arrays = capture.arrays

    rows = (
        lambda index: tile(latent_as_colour(arrays["noise_pred"][index]), tile_size, Image.Resampling.NEAREST),
        lambda index: arrays["decoded_pred_original_sample"][index],
    )
    labels = ("the noise the model predicts (shown as colours)", "the clean picture that prediction implies")
    return two_rows(capture, destination, show_steps, rows, labels, tile_size=tile_size, quality=quality, lossless=lossless)
