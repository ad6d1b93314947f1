"""The text embedding (Part 2): the prompt's 77 x 768 numbers as a picture, and how prompts compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..record import Capture, reads
from .imaging import LEADING, MARGIN, Canvas, font, font_size, save_webp, text_width, wrap
from .palette import ACCENT, INK, MUTED
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
def heatmap(capture: Capture, destination: Path, *, rows_shown: int = 16, min_width: int = 448) -> dict:
    """One row per token slot, one column per number: the first `rows_shown` slots of the 77.

    Each number is at least one pixel wide, and wider when there are few, so that the picture is
    at least `min_width` pixels wide (mini-sd's 64 numbers a slot get 7 pixels each).
    """
    embeds = capture.arrays["prompt_embeds"]
    tokens = capture.meta["tokens"]
    slots, numbers = embeds.shape
    limit = float(np.percentile(np.abs(embeds), 99))
    column = max(1, min_width // numbers)
    labels = [f"{row + 1:>2} {readable(tokens[row])}" for row in range(rows_shown)]
    # The labels' font depends on the canvas's width, and the width on the labels: settle both together.
    width, label_width = 2 * MARGIN + numbers * column, 0
    while True:
        label_size = font_size(width, 12)
        label_width = max(text_width(label, font(label_size)) for label in labels) + 12
        if 2 * MARGIN + label_width + numbers * column <= width:
            break
        width = 2 * MARGIN + label_width + numbers * column
    title_size, key_size = font_size(width, 15), font_size(width, 13)
    row_height = round(label_size * LEADING)
    title = f"the first {rows_shown} of the {slots} slots, one a row; each row is {numbers} numbers"
    # The exact colour limit goes to the provenance ("colour_limit"), not into the reader's picture.
    key = "blue: below zero; white: zero; orange: above zero; the deeper the colour, the further from zero"
    inner = width - 2 * MARGIN
    header = len(wrap(title, title_size, inner)) * round(title_size * LEADING) + 10
    footer = 10 + len(wrap(key, key_size, inner)) * round(key_size * LEADING)
    picture = Image.fromarray(diverging(embeds[:rows_shown], limit)).resize((numbers * column, rows_shown * row_height), Image.Resampling.NEAREST)
    canvas = Canvas(width, 2 * MARGIN + header + picture.height + footer)
    canvas.paste(picture, (MARGIN + label_width, MARGIN + header))
    canvas.paragraph((MARGIN, MARGIN), title, title_size, inner)
    for row, label in enumerate(labels):
        canvas.text((MARGIN, MARGIN + header + row * row_height), label, label_size, INK)
    canvas.paragraph((MARGIN, MARGIN + header + picture.height + 10), key, key_size, inner, MUTED)
    info = save_webp(destination, canvas, lossless=True)
    return {**info, "slots": slots, "numbers_per_slot": numbers, "colour_limit": round(limit, 4)}


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
    svg.text(20, 32, "How alike are these prompts to the text encoder? (1 = a perfect match)", 17, "start", weight="bold")
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
