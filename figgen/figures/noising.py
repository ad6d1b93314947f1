"""Forward noising (Parts 1 and 4): a real photo with the exact noise of chosen timesteps.

x_t = sqrt(ᾱ_t) · x0 + sqrt(1 − ᾱ_t) · noise, with ᾱ_t from SD 1.4's noise
schedule. Without VAE weights this is done in pixel space, and the figure
says so: Stable Diffusion itself adds the noise to latents.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from .. import sd14
from ..record import Capture, reads
from ..models import SD14_REPO
from ..photos import load_photo
from .imaging import LEADING, MARGIN, font_size, grid_width, save_webp, tile_grid, wrap
from .palette import INK
from .steps import noise_level

GAP = 8  # pixels between tiles
FONTS = (16, 13)  # px as shown in the site's text column: timesteps, noise levels and the note


def grid(destination: Path, images, timesteps, alphas_cumprod, note: str, *, tile_size: int, columns: int) -> dict:
    """Noisy pictures in rows of `columns`, each labelled with its timestep and noise level, above a note."""
    shown = {}
    panels = []
    for image, t in zip(images, timesteps):
        signal, spread = float(np.sqrt(alphas_cumprod[t])), float(np.sqrt(1 - alphas_cumprod[t]))
        # Readers see the noise level, as in Part 1's figures and the step viewer; the provenance keeps both factors.
        panels.append((f"timestep {t}", f"noise level {noise_level(alphas_cumprod[t]):.2f}", image))
        shown[int(t)] = [round(signal, 3), round(spread, 3)]
    width = grid_width(columns, tile_size, GAP)
    note_size = font_size(width, FONTS[1])
    note_height = len(wrap(note, note_size, width - 2 * MARGIN)) * round(note_size * LEADING)
    canvas = tile_grid(panels, tile_size=tile_size, columns=columns, fonts=FONTS, gap=GAP, footer=GAP + note_height)
    canvas.paragraph((MARGIN, canvas.height - MARGIN - note_height), note, note_size, width - 2 * MARGIN, INK)
    info = save_webp(destination, canvas, quality=88)
    return {**info, "values_shown": shown}


def photo(
    destination: Path, *, photo: str = "astronaut", timesteps: list[int], seed: int = 0, tile_size: int = 224,
    columns: int = 3,
) -> dict:
    """Noise added to the photo's pixels: the stand-in used while the VAE's weights are missing."""
    pndm, _ = sd14.schedulers()
    alphas_cumprod = pndm.alphas_cumprod.double().numpy()
    clean = load_photo(photo).astype(np.float64) / 127.5 - 1.0  # pixels in [-1, 1], as SD's VAE sees them
    noise = np.random.default_rng(seed).standard_normal(clean.shape)
    images = [
        np.clip((np.sqrt(alphas_cumprod[t]) * clean + np.sqrt(1 - alphas_cumprod[t]) * noise + 1) * 127.5, 0, 255)
        .round()
        .astype(np.uint8)
        for t in timesteps
    ]
    note = "Noise added in pixel space, for illustration.\nStable Diffusion adds it to the 4 x 64 x 64 latent."
    info = grid(destination, images, timesteps, alphas_cumprod, note, tile_size=tile_size, columns=columns)
    return {**info, "space": "pixels", "where_noise": "into the photo's pixels, a stand-in: in training it goes into the latent",
            "photo": photo}


@reads("timesteps", "alphas_cumprod_t", "latents", "decoded_noisy_latents")
def latent(capture: Capture, destination: Path, *, tile_size: int = 224, columns: int = 3) -> dict:
    """Noise added to the photo's latent, as in SD's training, each noisy latent decoded by the VAE."""
    arrays = capture.arrays
    timesteps = [int(t) for t in arrays["timesteps"]]
    alphas_cumprod = {t: float(a) for t, a in zip(timesteps, arrays["alphas_cumprod_t"])}
    channels, height, width = arrays["latents"].shape
    model = "SD 1.4" if capture.meta.get("model") == SD14_REPO else capture.meta.get("model")
    note = f"Noise added to the photo's {channels} x {height} x {width} latent, as in training;\neach noisy latent decoded by {model}'s VAE."
    info = grid(destination, arrays["decoded_noisy_latents"], timesteps, alphas_cumprod, note, tile_size=tile_size, columns=columns)
    return {**info, "space": "latent", "where_noise": "into the photo's latent, as in training",
            "photo": capture.meta["spec"]["photo"]}
