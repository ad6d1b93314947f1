"""mini-sd's picture world: one coloured shape on a coloured background, with its caption.

Everything is drawn here, deterministically from a seed; nothing is
downloaded. A picture is drawn four times larger and shrunk, so edges are
smooth. Shapes are upright and unrotated, which lets `quality.py` tell
them apart by how much of their bounding box they fill (square about 1,
circle about 0.79, triangle about 0.5).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SIZE = 64  # pixels per side; the VAE turns this into an 8x8 latent
SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (215, 38, 38),
    "green": (34, 160, 60),
    "blue": (36, 80, 220),
    "yellow": (245, 210, 40),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}

# Combinations (shape colour, shape, background colour) that never appear in
# training: every colour is held out once as a shape colour and once as a
# background, and every shape twice. The quality check prompts them too.
HELD_OUT = (
    ("red", "circle", "blue"),
    ("green", "square", "yellow"),
    ("blue", "triangle", "white"),
    ("yellow", "circle", "black"),
    ("white", "square", "red"),
    ("black", "triangle", "green"),
)

ALL_COMBINATIONS = tuple(
    (colour, shape, background)
    for colour, shape, background in itertools.product(COLOURS, SHAPES, COLOURS)
    if colour != background
)
TRAIN_COMBINATIONS = tuple(c for c in ALL_COMBINATIONS if c not in HELD_OUT)


def caption(colour: str, shape: str, background: str) -> str:
    return f"a {colour} {shape} on a {background} background"


def miscaption(rng: np.random.Generator, combination: tuple[str, str, str], combinations=TRAIN_COMBINATIONS) -> str:
    """A caption for `combination` that is wrong about exactly one thing: the shape colour, the shape or the background.

    Captions scraped from the web, like those SD 1.4 learnt from, are often
    wrong about something; mini-sd's denoiser learns from some of these.
    The wrong caption is itself one of `combinations`, so held-out
    combinations stay unseen.
    """
    neighbours = [c for c in combinations if sum(a != b for a, b in zip(c, combination)) == 1]
    return caption(*neighbours[rng.integers(len(neighbours))])


def parse_caption(text: str) -> tuple[str, str, str]:
    """The (colour, shape, background) a caption asks for; ValueError if it is not of the world's form."""
    words = text.strip().lower().split()
    if (
        len(words) != 7
        or words[0] != "a"
        or words[3:5] != ["on", "a"]
        or words[6] != "background"
        or words[1] not in COLOURS
        or words[2] not in SHAPES
        or words[5] not in COLOURS
    ):
        raise ValueError(
            f"'{text}' is not a mini-sd caption: write 'a COLOUR SHAPE on a COLOUR background' "
            f"with a shape from {', '.join(SHAPES)} and colours from {', '.join(COLOURS)}"
        )
    return words[1], words[2], words[5]


@dataclass(frozen=True)
class Scene:
    colour: str
    shape: str
    background: str
    side: int  # the shape's bounding box, in pixels
    left: int
    top: int

    @property
    def caption(self) -> str:
        return caption(self.colour, self.shape, self.background)


def random_scene(rng: np.random.Generator, combinations=TRAIN_COMBINATIONS) -> Scene:
    colour, shape, background = combinations[rng.integers(len(combinations))]
    side = int(rng.integers(22, 45))
    left = int(rng.integers(2, SIZE - side - 1))
    top = int(rng.integers(2, SIZE - side - 1))
    return Scene(colour, shape, background, side, left, top)


def draw(scene: Scene, size: int = SIZE) -> np.ndarray:
    """The scene as a (size, size, 3) uint8 picture."""
    scale = 4 * size / SIZE
    big = Image.new("RGB", (4 * size, 4 * size), COLOURS[scene.background])
    pen = ImageDraw.Draw(big)
    x0, y0 = scene.left * scale, scene.top * scale
    x1, y1 = x0 + scene.side * scale, y0 + scene.side * scale
    fill = COLOURS[scene.colour]
    if scene.shape == "circle":
        pen.ellipse((x0, y0, x1, y1), fill=fill)
    elif scene.shape == "square":
        pen.rectangle((x0, y0, x1, y1), fill=fill)
    else:
        pen.polygon(((x0 + x1) / 2, y0, x1, y1, x0, y1), fill=fill)
    return np.asarray(big.resize((size, size), Image.Resampling.BOX))


def batch(rng: np.random.Generator, count: int, combinations=TRAIN_COMBINATIONS):
    """`count` random scenes: pictures (count, 3, 64, 64) in [-1, 1] as float32, and their captions."""
    scenes = [random_scene(rng, combinations) for _ in range(count)]
    pictures = np.stack([draw(scene) for scene in scenes]).astype(np.float32)
    pictures = pictures.transpose(0, 3, 1, 2) / 127.5 - 1.0
    return pictures, [scene.caption for scene in scenes], scenes
