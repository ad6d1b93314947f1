"""The VAE figures (Part 3): a real photo's round trip, the detail it loses, a latent's 4 channels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..record import Capture, reads
from .imaging import mosaic, save_webp, tile, tile_grid


def psnr(original: np.ndarray, reconstruction: np.ndarray) -> float:
    """Peak signal-to-noise ratio in decibels, for 8-bit images (higher = closer)."""
    error = np.mean((original.astype(np.float64) - reconstruction.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else float(10 * np.log10(255.0**2 / error))


def channel_images(latent: np.ndarray) -> list[np.ndarray]:
    """Each of a latent's channels as a grey picture, stretched to its own range."""
    pictures = []
    for channel in latent:
        low, high = float(channel.min()), float(channel.max())
        grey = np.zeros_like(channel) if high == low else (channel - low) / (high - low)
        pictures.append(np.repeat((grey * 255).round().astype(np.uint8)[..., None], 3, axis=2))
    return pictures


def panels(destination: Path, pictures: list[tuple[str, str, object]], tile_size: int, lossless: bool = True) -> dict:
    """Pictures in a row, each with a title and a second line; one smaller than a tile (a latent) is enlarged as blocks."""
    pictures = [
        (title, subtitle, tile(picture, tile_size, Image.Resampling.NEAREST)
         if isinstance(picture, np.ndarray) and picture.shape[1] < tile_size else picture)
        for title, subtitle, picture in pictures
    ]
    canvas = tile_grid(pictures, tile_size=tile_size, fonts=(15, 13))
    return save_webp(destination, canvas, lossless=lossless, quality=90)


@reads("photo", "latents", "decoded_latents")
def round_trip(capture: Capture, destination: Path, *, tile_size: int = 224) -> dict:
    """Four panels: the photo, its latent's channels (two by two), the photo decoded again, and the difference."""
    arrays = capture.arrays
    original, reconstruction = arrays["photo"], arrays["decoded_latents"]
    difference = np.abs(original.astype(np.int16) - reconstruction.astype(np.int16))
    amplified = np.clip(difference * 4, 0, 255).astype(np.uint8)
    score = psnr(original, reconstruction)
    channels, side = arrays["latents"].shape[0], arrays["latents"].shape[1]
    pictures = [("photo", f"{original.shape[1]} x {original.shape[0]} x 3", original)]
    pictures.append((f"latent: {channels} channels", f"each {side} x {side}", mosaic(channel_images(arrays["latents"]), tile_size)))
    pictures += [("decoded again", f"PSNR {score:.1f} dB", reconstruction), ("difference x 4", "bright = changed", amplified)]
    info = panels(destination, pictures, tile_size)
    return {**info, "psnr_db": round(score, 2), "latent_channels": channels, "latent_side": side}


@reads("photo", "decoded_latents")
def detail(capture: Capture, destination: Path, *, box: list[float], tile_size: int = 320) -> dict:
    """A small square of the photo and of its round trip, enlarged side by side.

    `box` is [left, top, side] as fractions of the photo's side, so the same
    entry works at any resolution.
    """
    arrays = capture.arrays
    original, reconstruction = arrays["photo"], arrays["decoded_latents"]
    if not (0 <= box[0] and 0 <= box[1] and 0 < box[2] and box[0] + box[2] <= 1 and box[1] + box[2] <= 1):
        raise ValueError(f"box {box} does not fit inside the photo: give [left, top, side] as fractions from 0 to 1")
    side = original.shape[0]  # photos are square
    x, y, size = round(box[0] * side), round(box[1] * side), max(1, round(box[2] * side))
    crop = (slice(y, y + size), slice(x, x + size))
    pictures = [
        ("photo, enlarged", f"{size} x {size} pixels at ({x}, {y})", original[crop]),
        ("after the VAE", f"PSNR of this patch {psnr(original[crop], reconstruction[crop]):.1f} dB", reconstruction[crop]),
    ]
    info = panels(destination, pictures, tile_size)
    return {**info, "box_pixels": [x, y, size], "psnr_db": round(psnr(original[crop], reconstruction[crop]), 2)}


@reads("final_latents", "image")
def channels(capture: Capture, destination: Path, *, tile_size: int = 300) -> dict:
    """The 4 channels of a generated picture's final latent (two by two), beside the decoded picture."""
    arrays = capture.arrays
    latent = arrays["final_latents"]
    side = latent.shape[1]
    pictures = [(f"final latent: {latent.shape[0]} channels", f"each {side} x {side}", mosaic(channel_images(latent), tile_size))]
    pictures.append(("decoded picture", "{} x {} x 3".format(*arrays["image"].shape[:2]), arrays["image"]))
    info = panels(destination, pictures, tile_size)
    return {**info, "latent_side": side}
