"""The text embedding (Part 2): the prompt's 77 x 768 numbers as a picture, and how prompts compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..record import Capture, reads
from .imaging import font, save_webp
from .palette import ACCENT, BACKGROUND, INK, MUTED
from .svg import Svg
from .tokens import END, readable


def diverging(values: np.ndarray, limit: float) -> np.ndarray:
    """Numbers as colours: blue below zero, white at zero, orange above, saturating at +-limit."""
    t = np.clip(values / limit, -1, 1)[..., None]
    white = np.array([255, 255, 255], dtype=np.float64)
    blue = np.array([48, 63, 159], dtype=np.float64)
    orange = np.array([230, 74, 25], dtype=np.float64)
    colour = np.where(t < 0, white + (blue - white) * -t, white + (orange - white) * t)
    return colour.round().astype(np.uint8)


@reads("prompt_embeds")
def heatmap(capture: Capture, destination: Path, *, rows_shown: int = 16, row_height: int = 14) -> dict:
    """One row per token slot, one column per number: the first `rows_shown` slots of the 77."""
    embeds = capture.arrays["prompt_embeds"]
    tokens = capture.meta["tokens"]
    slots, width = embeds.shape
    limit = float(np.percentile(np.abs(embeds), 99))
    label_width, margin, header = 150, 12, 40
    picture = Image.fromarray(diverging(embeds[:rows_shown], limit)).resize((width, rows_shown * row_height), Image.Resampling.NEAREST)
    canvas = Image.new("RGB", (label_width + width + 2 * margin, header + picture.height + 50 + 2 * margin), BACKGROUND)
    canvas.paste(picture, (margin + label_width, margin + header))
    draw = ImageDraw.Draw(canvas)
    draw.text((margin, margin), f"first {rows_shown} of {slots} slots  x  all {width} numbers per slot", font=font(17), fill=INK)
    for row in range(rows_shown):
        draw.text((margin, margin + header + row * row_height - 1), f"{row + 1:>2} {readable(tokens[row])}", font=font(12), fill=INK)
    foot = margin + header + picture.height + 10
    draw.text((margin + label_width, foot), f"blue: below zero   white: zero   orange: above zero (colours saturate at +-{limit:.2f})", font=font(13), fill=MUTED)
    save_webp(destination, canvas, lossless=True)
    return {"width": canvas.width, "height": canvas.height, "slots": slots, "numbers_per_slot": width, "colour_limit": round(limit, 4)}


def prompt_vector(capture: Capture) -> np.ndarray:
    """One vector per prompt: the mean of its embedding from the first word to END, both included.

    START (slot 0) is left out. CLIP's text encoder is causal, so START's row sees only itself and
    comes out the same for every prompt; averaging it in would pull every score towards 1.
    """
    tokens = capture.meta["tokens"]
    end = tokens.index(END) if END in tokens else len(tokens) - 1
    return capture.arrays["prompt_embeds"][1 : end + 1].mean(axis=0)


@reads("prompt_embeds")
def similarity(captures: list[Capture], destination: Path, *, cell: int = 64) -> dict:
    """Cosine similarity between the prompts of several runs, as a labelled matrix."""
    prompts = [c.meta["spec"]["prompt"] for c in captures]
    vectors = np.stack([prompt_vector(c) for c in captures]).astype(np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    matrix = unit @ unit.T
    count = len(prompts)
    label_w, top = 360, 60
    svg = Svg(
        label_w + count * cell + 40, top + count * cell + 60,
        "How alike the text encoder finds these prompts",
        "Cosine similarity of the prompts' mean embeddings (averaged from the first word to END; START, "
        "the same for every prompt, left out): " + "; ".join(
            f"{prompts[i]} vs {prompts[j]}: {matrix[i, j]:.2f}" for i in range(count) for j in range(i + 1, count)
        ),
    )
    svg.text(20, 32, "How alike are these prompts to the text encoder? (1 = same direction)", 17, "start", weight="bold")
    low = float(matrix.min())
    for i, prompt in enumerate(prompts):
        svg.text(label_w - 10, top + i * cell + cell / 2 + 5, f"{i + 1}. {prompt}", 13, "end")
        svg.text(label_w + i * cell + cell / 2, top + count * cell + 20, str(i + 1), 13)
        for j in range(count):
            share = 0 if low == 1 else (matrix[i, j] - low) / (1 - low)
            shade = int(255 - share * 170)
            svg.rect(label_w + j * cell, top + i * cell, cell - 2, cell - 2, fill=f"rgb({shade},{shade},255)", stroke=ACCENT, rx=2, stroke_width=0.5)
            svg.text(label_w + j * cell + cell / 2 - 1, top + i * cell + cell / 2 + 4, f"{matrix[i, j]:.2f}", 13)
    info = svg.save(destination)
    return {**info, "prompts": prompts, "matrix": [[round(float(v), 4) for v in row] for row in matrix]}
