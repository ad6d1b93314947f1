"""mini-sd's own figures (the "Meet mini-sd" page): its picture world and its training record.

Both are drawn from files, not from a model run: world.py draws the
pictures, and the loss curves come from the training.json that
`make mini-model` wrote beside the weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import models
from ..minisd import world
from .imaging import save_webp, tile_grid
from .palette import ACCENT, INK, LINE, MUTED, PALE, WARM
from .svg import Svg


def world_samples(destination: Path, *, count: int = 8, seed: int = 3, tile_size: int = 160) -> dict:
    """`count` training pictures of mini-sd's world, each under its caption."""
    rng = np.random.default_rng(seed)
    scenes = [world.random_scene(rng) for _ in range(count)]
    panels = [
        (f"a {scene.colour} {scene.shape}", f"on a {scene.background} background", world.draw(scene, world.SIZE))
        for scene in scenes
    ]
    canvas = tile_grid(panels, tile_size=tile_size, columns=4, fonts=(15, 13))
    info = save_webp(destination, canvas, lossless=True)
    return {**info, "captions": [s.caption for s in scenes], "picture_size": world.SIZE}


def smooth(values: list[float], window: int) -> list[float]:
    """A running mean over `window` values, so the trend shows through step-to-step noise."""
    array = np.asarray(values, dtype=np.float64)
    if len(array) <= window:
        return array.tolist()
    kernel = np.ones(window) / window
    return np.convolve(array, kernel, mode="valid").tolist()


def loss_curves(destination: Path, *, training_file: str | None = None) -> dict:
    """The three training losses recorded by `make mini-model`, one panel per model, smoothed."""
    path = Path(training_file) if training_file else models.MINI_SD_FOLDER / "training.json"
    record = json.loads(path.read_text())
    losses, timings = record["losses"], record["timings_s"]
    panels = [
        ("text_encoder", ("1. Text encoder", "contrastive loss"), "text_encoder_s"),
        ("vae", ("2. Compressor", "reconstruction error"), "vae_s"),
        ("unet", ("3. Denoiser", "noise-prediction error"), "unet_s"),
    ]
    # Narrower than the text column, so shown at its own size: a unit is a pixel.
    panel_w, panel_h, left, top, gap = 168, 170, 44, 150, 44
    width = left + 3 * panel_w + 2 * gap + 20
    svg = Svg(
        width, top + panel_h + 56,
        "mini-sd's training losses",
        "Three line charts, one per model of mini-sd, of its training loss against training step; each falls "
        "steeply at first and then levels off.",
    )
    svg.paragraph(16, 28, "How mini-sd learned: each model's training loss, step by step", 17, width - 32, weight="bold")
    svg.paragraph(16, 54, f"Lines are running means; all three trained one after another in "
                          f"{timings['total_s'] / 60:.0f} minutes on {record['machine']['device'].upper()}.",
                  13, width - 32, fill=MUTED)
    finals = {}
    for index, (name, title, timing) in enumerate(panels):
        values = losses[name]
        x0 = left + index * (panel_w + gap)
        curve = smooth(values, max(1, len(values) // 50))
        high, low = max(curve), min(curve)
        span = (high - low) or 1.0

        def x(i, n=len(curve), x0=x0):
            return x0 + panel_w * i / max(1, n - 1)

        def y(v, low=low, span=span):
            return top + panel_h * (1 - (v - low) / span)

        svg.text(x0, top - 42, title[0], 14, "start", INK, "bold")
        svg.text(x0, top - 25, title[1], 13, "start", INK)
        svg.text(x0, top - 8, f"{len(values):,} steps, {timings[timing] / 60:.1f} min", 12, "start", MUTED)
        svg.line(x0, top + panel_h, x0 + panel_w, top + panel_h, stroke=INK)
        svg.line(x0, top, x0, top + panel_h, stroke=INK)
        svg.text(x0 - 5, top + 5, f"{high:.3g}", 12, "end", MUTED)
        svg.text(x0 - 5, top + panel_h, f"{low:.3g}", 12, "end", MUTED)
        svg.text(x0 + panel_w / 2, top + panel_h + 20, "training step", 13, "middle", MUTED)
        step = max(1, len(curve) // 300)
        svg.polyline([(x(i), y(v)) for i, v in list(enumerate(curve))[::step]], stroke=(ACCENT, WARM, ACCENT)[index], width=2)
        finals[name] = round(curve[-1], 4)
    info = svg.save(destination)
    return {**info, "final_losses": finals, "steps": {k: len(v) for k, v in losses.items()}}


def quality_table(destination: Path, *, quality_file: str | None = None) -> dict:
    """The numbers `make mini-quality` measured, as a table: how often mini-sd draws what it is asked for."""
    path = Path(quality_file) if quality_file else models.MINI_SD_FOLDER / "quality.json"
    results = json.loads(path.read_text())
    columns = [("sampler",), ("guidance",), ("prompts",), ("pictures",), ("both colours", "right"), ("shape", "right"),
               ("all three", "right")]
    widths = [70, 74, 124, 70, 104, 66, 90]  # narrower than the text column, so shown at its own size
    rows = []
    for run in results["runs"]:
        for group, label in (("seen", "seen in training"), ("held_out", "held out"), ("all", "all")):
            g = run[group]
            sampler = run["sampler"].replace("Scheduler", "")
            rows.append([sampler, run["guidance"], label, str(g["samples"]), f"{g['colours']:.0%}", f"{g['shape']:.0%}", f"{g['all']:.0%}"])
    row_h, top, left = 28, 122, 16
    width = left * 2 + sum(widths)
    svg = Svg(
        width, 0,
        "How often mini-sd draws what it is asked for",
        "A table of mini-sd's measured accuracy with two samplers and two guidance scales, for prompts "
        "seen in training and held out.",
    )
    svg.text(left, 30, "How often mini-sd draws what it is asked for", 18, "start", weight="bold")
    svg.paragraph(left, 54, f"{results['prompts']} prompts × {results['seeds_per_prompt']} seeds, {results['steps']} "
                            "steps; each picture read back by measuring its colours and its shape's outline",
                  13, width - 2 * left, fill=MUTED)
    x = left
    for name, w in zip(columns, widths):
        for line_index, line in enumerate(name):
            svg.text(x + 6, top - 16 * (len(name) - 1 - line_index), line, 13, "start", INK, "bold")
        x += w
    for index, row in enumerate(rows):
        y = top + row_h * (index + 1)
        if row[2] == "all":
            svg.rect(left, y - 20, sum(widths), row_h - 2, fill=PALE, stroke="none", rx=4, stroke_width=0)
        x = left
        for cell, w in zip(row, widths):
            svg.text(x + 6, y, cell, 13, "start", INK, "bold" if row[2] == "all" else "normal")
            x += w
    svg.height = svg.paragraph(
        left, top + row_h * (len(rows) + 1) + 10,
        f"The reader itself is right on {results['reader_accuracy_on_drawn_pictures']:.0%} of pictures drawn by the "
        "world's own code.", 13, width - 2 * left, fill=MUTED,
    )
    info = svg.save(destination)
    return {**info, "prompts": results["prompts"], "seeds_per_prompt": results["seeds_per_prompt"],
            "all_three_right": {f"{r['sampler']} {r['guidance']}": r["all"]["all"] for r in results["runs"]}}
