"""Every step of a run as small pictures plus a JSON index: what the site's step viewer shows.

A renderer that records every step (the Part 1 animation, the Part 5
storyboard) calls `write_step_frames` beside its own file. The folder
`<figure name>-steps/` then holds, for each step, the noisy latent x_t and
the predicted clean picture x0 (both decoded by the VAE), the final picture,
and `index.json`, which says for each step its number, its timestep and its
noise level 1 − ᾱ_t. docs/javascripts/step-viewer.js reads only that index.
"""

from __future__ import annotations

from pathlib import Path

from ..outputs import write_json
from ..record import Capture
from .imaging import save_webp, tile

# What the viewer's pictures show, for its labels.
STEP_FILES = ("xt-{:03d}.webp", "x0-{:03d}.webp")
FINAL_FILE = "final.webp"
INDEX_FILE = "index.json"
# Reads: the arrays a renderer that writes step frames must list in its @reads.
READS = ("timesteps", "alphas_cumprod_t", "decoded_latents", "decoded_pred_original_sample", "image")


def steps_folder(destination: Path) -> Path:
    """Where the frames of the figure at `destination` go: beside it, `<name>-steps/`."""
    return destination.with_name(destination.stem + "-steps")


def noise_level(alpha_prod: float) -> float:
    """The noise's share of a noisy latent at a timestep, 1 − ᾱ_t: 1 is all noise, 0 none (what readers are shown).

    A share, not the noise's multiplier √(1 − ᾱ_t): at timestep 250 the multiplier is 0.57 while the photo is
    still plain to see, and lay readers read 0.57 as "more than half noise"; the share there is 0.33.
    """
    return min(1.0, max(0.0, 1.0 - float(alpha_prod)))


def write_step_frames(capture: Capture, destination: Path, *, max_size: int = 256, quality: int = 85) -> dict:
    """Write every step's x_t and x0, the final picture and the index; returns what the provenance records.

    Frames keep the run's own size, or are shrunk to `max_size` pixels if larger, so that a
    reader downloads only what the viewer shows, one step at a time.
    """
    arrays = capture.arrays
    folder = steps_folder(destination)
    side = min(int(arrays["image"].shape[0]), max_size)
    steps = []
    for index, (timestep, alpha_prod) in enumerate(zip(arrays["timesteps"], arrays["alphas_cumprod_t"])):
        names = [pattern.format(index + 1) for pattern in STEP_FILES]
        save_webp(folder / names[0], tile(arrays["decoded_latents"][index], side), quality=quality)
        save_webp(folder / names[1], tile(arrays["decoded_pred_original_sample"][index], side), quality=quality)
        steps.append(
            {
                "step": index + 1,
                "timestep": int(timestep),
                "noise_level": round(noise_level(alpha_prod), 4),
                "xt": names[0],
                "x0": names[1],
            }
        )
    save_webp(folder / FINAL_FILE, tile(arrays["image"], side), quality=quality)
    written = {FINAL_FILE, INDEX_FILE} | {step[key] for step in steps for key in ("xt", "x0")}
    for stale in folder.glob("*"):  # frames of an earlier, longer run
        if stale.is_file() and stale.name not in written and not stale.name.startswith("."):
            stale.unlink()
    spec = capture.meta.get("spec", {})
    write_json(
        folder / INDEX_FILE,
        {
            "prompt": spec.get("prompt", ""),
            "seed": spec.get("seed"),
            "size": side,
            "steps": steps,
            "final": FINAL_FILE,
        },
    )
    return {"steps_index": f"{folder.name}/{INDEX_FILE}", "step_frames": len(steps)}
