"""The renderers that draw from captures, run directly on small hand-made captures (milliseconds each).

Each test builds a `Capture` of tiny numpy arrays (a few steps of 16 x 16 pictures, each a solid colour
of its own) and checks the file, its size, where the pictures landed and the numbers the renderer
reports. The end-to-end runs through a real (tiny) pipeline are in test_weights_figures.py.
"""

import base64
import importlib
import inspect
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from figgen.catalogue import PhotoSpec, load_catalogue
from figgen.figures import attention, compare, denoise, diagrams, embedding, noising, steps, story, vae
from figgen.figures import imaging
from figgen.figures.imaging import MARGIN, Canvas, tile_grid
from figgen.record import Capture

START, END = "<|startoftext|>", "<|endoftext|>"
SIZE, SIDE = 16, 4  # pixels a side of every hand-made picture, and of every latent
RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 160, 0), (0, 0, 255), (240, 200, 0)
BACKGROUND = (246, 246, 246)


def solid(colour, size: int = SIZE) -> np.ndarray:
    return np.full((size, size, 3), colour, dtype=np.uint8)


def solids(count: int, rng) -> np.ndarray:
    """`count` pictures, each one random solid colour."""
    return np.broadcast_to(rng.integers(0, 256, (count, 1, 1, 3), dtype=np.uint8), (count, SIZE, SIZE, 3)).copy()


def tokens_of(prompt: str) -> list[str]:
    tokens = [START, *(word + "</w>" for word in prompt.split()), END]
    return tokens + [END] * (77 - len(tokens))


def generation(name: str = "run", image=RED, **settings) -> Capture:
    """Everything a pipeline run records (see figgen/record.py), in miniature."""
    spec = {"prompt": "a red fox", "negative_prompt": "", "seed": 3, "steps": 3, "guidance_scale": 7.5,
            "scheduler": "ddim", "height": SIZE, "width": SIZE, "decode_steps": True, "attention": True, **settings}
    steps = spec["steps"]
    rng = np.random.default_rng(spec["seed"])

    def latent(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    arrays = {
        "timesteps": np.linspace(999, 0, steps).round().astype(np.int64),
        "alphas_cumprod_t": np.linspace(0.01, 0.99, steps).astype(np.float32),
        "latents": latent(steps, 4, SIDE, SIDE),
        "noise_pred": latent(steps, 4, SIDE, SIDE),
        "pred_original_sample": latent(steps, 4, SIDE, SIDE),
        "prev_sample": latent(steps, 4, SIDE, SIDE),
        "final_latents": latent(4, SIDE, SIDE),
        "input_ids": np.arange(77, dtype=np.int64),
        "prompt_embeds": latent(77, 8),
        "negative_prompt_embeds": latent(77, 8),
        "image": solid(image),
        "decoded_latents": solids(steps, rng),
        "decoded_pred_original_sample": solids(steps, rng),
        "cross_attention": rng.random((77, SIDE, SIDE)).astype(np.float32),
    }
    return Capture(arrays, {"capture": name, "spec": spec, "tokens": tokens_of(spec["prompt"]), "model": "tiny-test-model"})


def photo_capture(name: str = "photo", timesteps=(0, 500), photo: str = "astronaut", seed: int = 0) -> Capture:
    """Everything a photo sent through the VAE records, in miniature: a red photo, rebuilt a little off."""
    rng = np.random.default_rng(seed)
    count = len(timesteps)
    arrays = {
        "photo": solid(RED),
        "timesteps": np.array(timesteps, dtype=np.int64),
        "alphas_cumprod_t": np.linspace(0.99, 0.01, count).astype(np.float32),
        "latents": rng.standard_normal((4, SIDE, SIDE)).astype(np.float32),
        "noise": rng.standard_normal((4, SIDE, SIDE)).astype(np.float32),
        "noisy_latents": rng.standard_normal((count, 4, SIDE, SIDE)).astype(np.float32),
        "decoded_noisy_latents": solids(count, rng),
        "decoded_latents": solid((250, 10, 10)),
    }
    spec = {"photo": photo, "seed": seed, "timesteps": list(timesteps)}
    return Capture(arrays, {"capture": name, "spec": spec, "model": "tiny-test-model"})


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def frames(path) -> list[np.ndarray]:
    with Image.open(path) as image:
        result = []
        for index in range(image.n_frames):
            image.seek(index)
            result.append(np.asarray(image.convert("RGB")))
        return result


def at(picture: np.ndarray, left: int, top: int, size: int = SIZE) -> np.ndarray:
    return picture[top : top + size, left : left + size]


def near(patch: np.ndarray, colour, tolerance: float = 12) -> bool:
    """A lossy WebP's patch is close to one colour (its mean within `tolerance` per channel)."""
    return bool(np.all(np.abs(patch.reshape(-1, 3).mean(axis=0) - np.array(colour)) <= tolerance))


@pytest.fixture
def no_sd14_models(monkeypatch):
    """The cascade counts SD 1.4's parameters by building its networks (seconds); here they count 1,000,000 each.
    The real counts are checked in test_exact_figures.py."""
    vae_model = SimpleNamespace(decoder=None, post_quant_conv=None)
    monkeypatch.setattr(diagrams.sd14, "meta_models", lambda: (SimpleNamespace(), vae_model, SimpleNamespace()))
    monkeypatch.setattr(diagrams.sd14, "count", lambda *modules: 1_000_000)


@pytest.fixture
def drawn(monkeypatch) -> list[Canvas]:
    """Every Canvas the raster renderers save, in order: their `tiles` say where each panel's picture went."""
    canvases = []

    def save_webp(destination, image, **options):
        canvases.append(image)
        return imaging.save_webp(destination, image, **options)

    for module in (attention, compare, denoise, embedding, noising, story, vae):
        monkeypatch.setattr(module, "save_webp", save_webp)
    return canvases


# The grid of labelled tiles that the raster renderers share.


def test_tile_grid_puts_each_picture_under_its_text_and_leaves_the_asked_for_room():
    panels = [("red", "first", solid(RED)), ("green", "", solid(GREEN, 4)), ("", "", solid(BLUE))]
    grid = tile_grid(panels, tile_size=SIZE, columns=2, gap=10, footer=20, row_titles=["", "the second row"])
    canvas = np.asarray(grid.image)
    (first_column, top), (second_column, same_top), (third_column, second_top) = grid.tiles
    assert (first_column, second_column, third_column) == (MARGIN, MARGIN + SIZE + 10, MARGIN) and top == same_top
    # The first row's header holds a title and a second line; the second row has no panel text, only its row title.
    title, subtitle = imaging.font_size(canvas.shape[1], 16), imaging.font_size(canvas.shape[1], 13)
    assert top == MARGIN + round(title * imaging.LEADING) + round(subtitle * imaging.LEADING) + 4
    assert second_top == top + SIZE + 10 + round(title * imaging.LEADING) + 4
    assert canvas.shape == (second_top + SIZE + 20 + MARGIN, 2 * MARGIN + 2 * SIZE + 10, 3)
    np.testing.assert_array_equal(at(canvas, first_column, top), solid(RED))
    np.testing.assert_array_equal(at(canvas, second_column, top), solid(GREEN))  # a 4 x 4 picture, fitted
    np.testing.assert_array_equal(at(canvas, third_column, second_top), solid(BLUE))
    assert (canvas[MARGIN:top].max(axis=2) < 150).any()  # dark text above the first row
    assert (canvas[top + SIZE + 10 : second_top].max(axis=2) < 150).any()  # and the second row's title
    # The gap, the empty cell and the room below the grid are bare background.
    for bare in (canvas[top : top + SIZE, first_column + SIZE : second_column], canvas[-(MARGIN + 20) :],
                 at(canvas, second_column, second_top)):
        assert (bare == BACKGROUND).all()
    assert sorted(text for _, text in grid.texts) == ["first", "green", "red", "the second row"]


# Part 1 and 4: x_t, x0 and the predicted noise.


def test_sequence_shows_x_t_above_x0_for_each_chosen_step(tmp_path, drawn):
    capture = generation(steps=3)
    info = denoise.sequence(capture, tmp_path / "seq.webp", show_steps=[1, 3], tile_size=SIZE, lossless=True)
    grid = pixels(tmp_path / "seq.webp")
    assert grid.shape == (info["height"], info["width"], 3) and info["width"] == 2 * MARGIN + 2 * SIZE + denoise.GAP
    assert info["steps_shown"] == [1, 3] and info["smallest_text_px"] >= 12
    tiles = drawn[-1].tiles  # the top row (x_t), then the bottom row (x0), each under its row's label
    assert [text for _, text in drawn[-1].texts if text in denoise.ROW_LABELS] == list(denoise.ROW_LABELS)
    for column, step in enumerate([1, 3]):
        for row, name in enumerate(["decoded_latents", "decoded_pred_original_sample"]):
            left, top = tiles[row * 2 + column]
            np.testing.assert_array_equal(at(grid, left, top), capture.arrays[name][step - 1], err_msg=f"{name}, step {step}")
    with pytest.raises(ValueError, match=r"show_steps \[4\] are outside 1..3"):
        denoise.sequence(capture, tmp_path / "bad.webp", show_steps=[1, 4], tile_size=SIZE)


def test_animation_has_a_frame_per_step_then_holds_the_final_picture(tmp_path):
    capture = generation(steps=3, image=YELLOW)
    info = denoise.animation(capture, tmp_path / "anim.webp", tile_size=SIZE, lossless=True, frame_ms=50, final_hold_ms=900)
    shown = frames(tmp_path / "anim.webp")
    assert info["frames"] == len(shown) == 4
    assert shown[0].shape == (2 * MARGIN + SIZE + denoise.FOOTER, 2 * MARGIN + 2 * SIZE + denoise.GAP, 3)
    right = MARGIN + SIZE + denoise.GAP
    for index in range(3):
        np.testing.assert_array_equal(at(shown[index], MARGIN, MARGIN), capture.arrays["decoded_latents"][index])
        np.testing.assert_array_equal(at(shown[index], right, MARGIN), capture.arrays["decoded_pred_original_sample"][index])
    np.testing.assert_array_equal(at(shown[3], MARGIN, MARGIN), solid(YELLOW))
    np.testing.assert_array_equal(at(shown[3], right, MARGIN), solid(YELLOW))
    with Image.open(tmp_path / "anim.webp") as image:
        image.seek(3)
        image.load()
        assert image.info["duration"] == 900


def test_step_frames_hold_every_steps_pictures_and_an_index_of_timesteps_and_noise_levels(tmp_path):
    capture = generation(steps=4, image=YELLOW)
    folder = tmp_path / "anim-steps"
    folder.mkdir()
    (folder / "xt-007.webp").write_bytes(b"a frame of an earlier, longer run")
    info = denoise.animation(capture, tmp_path / "anim.webp", tile_size=SIZE, lossless=True)
    assert info["steps_index"] == "anim-steps/index.json" and info["viewer"] == "replace"
    index = json.loads((folder / "index.json").read_text())
    alphas = capture.arrays["alphas_cumprod_t"]
    assert [step["step"] for step in index["steps"]] == [1, 2, 3, 4]
    assert [step["timestep"] for step in index["steps"]] == capture.arrays["timesteps"].tolist()
    np.testing.assert_allclose([step["noise_level"] for step in index["steps"]], 1 - alphas, atol=1e-4)  # the noise's share
    for number, step in enumerate(index["steps"]):
        assert near(pixels(folder / step["xt"]), capture.arrays["decoded_latents"][number][0, 0])
        assert near(pixels(folder / step["x0"]), capture.arrays["decoded_pred_original_sample"][number][0, 0])
    assert near(pixels(folder / index["final"]), YELLOW)
    assert pixels(folder / index["final"]).shape == (SIZE, SIZE, 3)
    assert not (folder / "xt-007.webp").exists(), "a stale frame of an earlier run is left for the viewer"
    board = story.board(capture, tmp_path / "board.webp", show_steps=[2], tile_size=SIZE)
    assert board["viewer"] == "add" and (tmp_path / "board-steps" / "index.json").is_file()


def test_step_frames_are_shrunk_to_the_largest_size_asked_for(tmp_path):
    capture = generation(steps=2)
    steps.write_step_frames(capture, tmp_path / "run.webp", max_size=8)
    assert pixels(tmp_path / "run-steps" / "xt-001.webp").shape == (8, 8, 3)


def test_noise_and_image_shows_the_predicted_noise_as_colour_above_the_predicted_picture(tmp_path, drawn):
    capture = generation(steps=3)
    denoise.noise_and_image(capture, tmp_path / "noise.webp", show_steps=[2], tile_size=SIZE, lossless=True)
    grid = pixels(tmp_path / "noise.webp")
    (left, top), (_, below) = drawn[-1].tiles
    # The first three latent channels as red, green and blue, each latent cell a block of 4 x 4 pixels.
    noise = capture.arrays["noise_pred"][1][:3].transpose(1, 2, 0)
    expected = (np.clip(noise / (3 * noise.std()) * 0.5 + 0.5, 0, 1) * 255).round().astype(np.uint8)
    expected = expected.repeat(SIZE // SIDE, axis=0).repeat(SIZE // SIDE, axis=1)
    np.testing.assert_array_equal(at(grid, left, top), expected)
    np.testing.assert_array_equal(at(grid, left, below), capture.arrays["decoded_pred_original_sample"][1])


def test_cascade_insets_the_runs_starting_noise_and_final_picture(tmp_path, no_sd14_models):
    capture = generation(image=YELLOW)
    info = diagrams.cascade_with_run(capture, tmp_path / "cascade.svg")
    assert info["thumbnails"] == ["image", "noise"]
    root = ET.parse(tmp_path / "cascade.svg").getroot()
    images = list(root.iter("{http://www.w3.org/2000/svg}image"))
    assert len(images) == 2
    colours = []
    for element in images:
        with Image.open(io.BytesIO(base64.b64decode(element.get("href").split(",", 1)[1]))) as thumbnail:
            assert thumbnail.format == "PNG"
            colours.append(tuple(np.asarray(thumbnail.convert("RGB"))[5, 5]))
    assert colours == [YELLOW, tuple(capture.arrays["decoded_latents"][0, 0, 0])]  # final picture, then the noise
    text = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "“a red fox”" in text  # the prompt shown beside the pictures is the run's own
    assert "come from tiny-test-model's run" in text  # pictures not drawn by SD 1.4 say so


# Part 2: the text embedding.


def test_embedding_heatmap_colours_each_number_by_its_sign(tmp_path):
    capture = generation()
    embeds = capture.arrays["prompt_embeds"]
    embeds[0], embeds[1] = 10.0, -10.0  # START's row far above zero, the first word's far below
    info = embedding.heatmap(capture, tmp_path / "heat.webp", rows_shown=4, min_width=400)
    picture = pixels(tmp_path / "heat.webp")
    assert picture.shape == (info["height"], info["width"], 3)
    assert (info["slots"], info["numbers_per_slot"]) == (77, 8) and info["smallest_text_px"] >= 12
    assert info["colour_limit"] == pytest.approx(float(np.percentile(np.abs(embeds), 99)), abs=1e-4)
    # The heatmap sits right of the token labels: 8 numbers of 50 pixels each, START's row orange, the next blue.
    orange = np.argwhere((picture == (230, 74, 25)).all(axis=2))
    blue = np.argwhere((picture == (48, 63, 159)).all(axis=2))
    (top, left), (bottom, right) = orange.min(axis=0), orange.max(axis=0)
    assert right - left + 1 == 400 and left > MARGIN + 40
    assert blue[:, 0].min() == bottom + 1 and (blue[:, 1].min(), blue[:, 1].max()) == (left, right)


def test_similarity_is_the_cosine_of_mean_embeddings_from_the_first_word_to_end(tmp_path):
    captures = [generation(prompt="a red fox", seed=1), generation(prompt="a fox", seed=2), generation(prompt="", seed=3)]
    info = embedding.similarity(captures, tmp_path / "similar.svg")
    vectors = []
    for capture in captures:
        end = capture.meta["tokens"].index(END)
        vectors.append(capture.arrays["prompt_embeds"][1 : end + 1].astype(np.float64).mean(axis=0))
    unit = np.array(vectors) / np.linalg.norm(vectors, axis=1, keepdims=True)
    np.testing.assert_allclose(info["matrix"], unit @ unit.T, atol=1e-4)
    assert info["prompts"] == ["a red fox", "a fox", ""]
    text = (tmp_path / "similar.svg").read_text()
    assert f"{info['matrix'][0][1]:.2f}" in text and "1. a red fox" in text


# Parts 2, 4 and 5: final pictures side by side.


def test_comparison_grid_labels_each_final_picture_from_its_own_settings(tmp_path, drawn):
    captures = [
        generation("unconditional", RED, prompt="", guidance_scale=1.0),
        generation("run", GREEN),
        generation("other", BLUE, prompt="a blue whale in the sea", steps=2),
        generation("run-pndm", YELLOW, scheduler="pndm"),
    ]
    info = compare.grid(captures, tmp_path / "grid.webp", labels="{prompt_end}", columns=2, tile_size=SIZE, lossless=True,
                        sublabels="{scheduler_name}, guidance {guidance_scale:g}, {steps} steps")
    assert info["labels"] == ["(no prompt)", "a red fox", "... in the sea", "a red fox"]
    grid = pixels(tmp_path / "grid.webp")
    tiles = drawn[-1].tiles
    assert [left for left, _ in tiles] == [MARGIN, MARGIN + SIZE + 10] * 2 and tiles[0][1] == tiles[1][1] < tiles[2][1]
    for (left, top), colour in zip(tiles, [RED, GREEN, BLUE, YELLOW]):
        np.testing.assert_array_equal(at(grid, left, top), solid(colour))
    with_second_lines = tiles[0][1]

    swaps = [generation(prompt=f"an astronaut riding a {animal}") for animal in ("horse", "camel", "bicycle")]
    info = compare.grid(swaps, tmp_path / "swaps.webp", labels="{prompt_diff}", tile_size=SIZE)
    assert info["labels"] == ["horse", "camel", "bicycle"]
    assert drawn[-1].tiles[0][1] < with_second_lines  # no second line, no room for one
    with pytest.raises(ValueError, match="3 captures but 2 labels"):
        compare.grid(swaps, tmp_path / "bad.webp", labels=["a", "b"])
    with pytest.raises(ValueError, match=r"names \{schedulr_name\}, which is not one of .*\{scheduler_name\}"):
        compare.grid(swaps, tmp_path / "bad.webp", labels="{schedulr_name}")


# Part 3: the VAE.


def test_vae_round_trip_shows_photo_latent_channels_reconstruction_and_difference(tmp_path, drawn):
    capture = photo_capture()
    info = vae.round_trip(capture, tmp_path / "trip.webp", tile_size=SIZE)
    mse = (5**2 + 10**2 + 10**2) / 3  # red photo (255, 0, 0) rebuilt as (250, 10, 10)
    assert info["psnr_db"] == round(10 * np.log10(255**2 / mse), 2)
    assert (info["latent_channels"], info["latent_side"]) == (4, SIDE)
    strip = pixels(tmp_path / "trip.webp")
    assert strip.shape == (info["height"], info["width"], 3) and info["width"] == 2 * MARGIN + 4 * (SIZE + 10) - 10

    def panel(index, size=SIZE, right=0, down=0):
        left, top = drawn[-1].tiles[index]
        return at(strip, left + right, top + down, size)

    np.testing.assert_array_equal(panel(0), solid(RED))
    # The latent's 4 channels, two by two in one panel: the third is bottom left, a 6-pixel square.
    channel = capture.arrays["latents"][2]
    grey = ((channel - channel.min()) / (channel.max() - channel.min()) * 255).round().astype(np.uint8)
    half = (SIZE - 4) // 2
    expected = np.asarray(imaging.tile(np.repeat(grey[..., None], 3, axis=2), half, Image.Resampling.NEAREST))
    np.testing.assert_array_equal(panel(1, half, down=SIZE - half), expected)
    np.testing.assert_array_equal(panel(2), solid((250, 10, 10)))
    np.testing.assert_array_equal(panel(3), solid((20, 40, 40)))  # the difference, 4 times brighter


def test_vae_detail_enlarges_the_box_it_is_given_and_refuses_one_outside_the_photo(tmp_path, drawn):
    capture = photo_capture()
    capture.arrays["photo"][:4, 4:8] = GREEN  # the box [0.25, 0, 0.25] of a 16-pixel photo
    info = vae.detail(capture, tmp_path / "detail.webp", box=[0.25, 0, 0.25], tile_size=SIZE)
    assert info["box_pixels"] == [4, 0, 4]
    assert info["psnr_db"] == pytest.approx(10 * np.log10(255**2 / np.mean((np.array(GREEN) - (250, 10, 10)) ** 2)), abs=0.01)
    strip = pixels(tmp_path / "detail.webp")
    (left, top), (right, _) = drawn[-1].tiles
    np.testing.assert_array_equal(at(strip, left, top), solid(GREEN))
    np.testing.assert_array_equal(at(strip, right, top), solid((250, 10, 10)))
    with pytest.raises(ValueError, match=r"box \[0.9, 0.9, 0.25\] does not fit inside the photo"):
        vae.detail(capture, tmp_path / "bad.webp", box=[0.9, 0.9, 0.25])


def test_latent_channels_sit_beside_the_decoded_picture(tmp_path, drawn):
    capture = generation(image=BLUE)
    info = vae.channels(capture, tmp_path / "channels.webp", tile_size=SIZE)
    assert info["latent_side"] == SIDE
    strip = pixels(tmp_path / "channels.webp")
    assert strip.shape == (info["height"], 2 * MARGIN + 2 * SIZE + 10, 3)
    np.testing.assert_array_equal(at(strip, *drawn[-1].tiles[1]), solid(BLUE))


# Part 4: noising and cross-attention.


def test_latent_noising_labels_each_picture_with_its_timestep_and_factors(tmp_path, drawn):
    capture = photo_capture(timesteps=(0, 250, 999))
    info = noising.latent(capture, tmp_path / "noising.webp", tile_size=SIZE, columns=2)
    alphas = capture.arrays["alphas_cumprod_t"].astype(float)
    assert info["values_shown"] == {t: [round(np.sqrt(a), 3), round(np.sqrt(1 - a), 3)] for t, a in zip((0, 250, 999), alphas)}
    assert (info["space"], info["photo"]) == ("latent", "astronaut")
    grid = pixels(tmp_path / "noising.webp")
    assert grid.shape == (info["height"], 2 * MARGIN + 2 * SIZE + noising.GAP, 3)
    tiles = drawn[-1].tiles
    for index, (left, top) in enumerate(tiles):
        assert near(at(grid, left + 4, top + 4, 8), capture.arrays["decoded_noisy_latents"][index, 0, 0])
    assert (grid[tiles[-1][1] + SIZE :].max(axis=2) < 150).any()  # the note's text under the grid
    assert any(text.startswith("Noise") for _, text in drawn[-1].texts)


def test_attention_maps_glow_where_each_word_was_read(tmp_path, drawn):
    capture = generation(image=(128, 128, 128))
    maps = capture.arrays["cross_attention"]
    maps[2] = 0.0
    maps[2, 0, 0] = 1.0  # "red" was read only in the top-left corner
    info = attention.maps(capture, tmp_path / "attention.webp", tile_size=40, columns=2)
    assert info["words"] == ["a", "red", "fox"]
    assert info["mean_attention"] == {f"{i}:{w}": round(float(maps[i].mean()), 5) for i, w in [(1, "a"), (2, "red"), (3, "fox")]}
    grid = pixels(tmp_path / "attention.webp")
    assert grid.shape == (info["height"], 2 * MARGIN + 2 * 40 + 10, 3)
    red_map = at(grid, *drawn[-1].tiles[2], 40).astype(int)  # panel 2: row 2, column 1
    corner, far = red_map[2:8, 2:8].reshape(-1, 3).mean(axis=0), red_map[-8:-2, -8:-2].reshape(-1, 3).mean(axis=0)
    assert corner[0] - corner[2] > 80  # orange where the word was read
    assert abs(far[0] - far[2]) < 12  # grey where it was not
    del capture.arrays["cross_attention"]
    with pytest.raises(ValueError, match="set attention = true"):
        attention.maps(capture, tmp_path / "none.webp")


# Part 5: the storyboard.


def test_storyboard_runs_from_tokens_to_the_final_picture(tmp_path, drawn):
    capture = generation(steps=3, image=YELLOW)
    info = story.board(capture, tmp_path / "story.webp", show_steps=[2, 3], tile_size=100)
    assert info["panels"] == 6  # tokens, embedding, starting noise, 2 steps, final picture
    strip = pixels(tmp_path / "story.webp")
    tiles = drawn[-1].tiles  # rows of story.COLUMNS, read left to right
    assert [top for _, top in tiles] == [tiles[0][1]] * story.COLUMNS + [tiles[-1][1]] * (6 - story.COLUMNS)
    assert strip.shape == (info["height"], 2 * MARGIN + story.COLUMNS * (100 + 10) - 10, 3)
    assert {"START", "a", "red", "fox", "END"} <= {text for _, text in drawn[-1].texts}  # the token card's text counts

    def panel(index):
        left, top = tiles[index]
        return at(strip, left + 4, top + 4, 8)

    assert near(panel(2), capture.arrays["decoded_latents"][0, 0, 0])
    assert near(panel(3), capture.arrays["decoded_pred_original_sample"][1, 0, 0])
    assert near(panel(4), capture.arrays["decoded_pred_original_sample"][2, 0, 0])
    assert near(panel(5), YELLOW)
    with pytest.raises(ValueError, match="outside 1..3"):
        story.board(capture, tmp_path / "bad.webp", show_steps=[9])


# What each renderer reads, against what it declares.


class Recording(dict):
    """A capture's arrays that note which of them a renderer reads."""

    def __init__(self, arrays, read: set):
        super().__init__(arrays)
        self.read = read

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


def hand_made(spec) -> Capture:
    if isinstance(spec, PhotoSpec):
        return photo_capture(spec.name, spec.timesteps, spec.photo, spec.seed)
    return generation(spec.name, **spec.as_dict())


def figures_drawn_from_captures():
    return [figure for figure in load_catalogue().figures if figure.captures]


@pytest.mark.parametrize("figure", figures_drawn_from_captures(), ids=lambda figure: figure.id)
def test_each_renderer_reads_exactly_the_arrays_it_declares(figure, tmp_path, no_sd14_models):
    module, name = figure.renderer.split(".")
    function = getattr(importlib.import_module(f"figgen.figures.{module}"), name)
    read = set()
    captures = [hand_made(spec) for spec in figure.captures]
    for capture in captures:
        capture.arrays = Recording(capture.arrays, read)
    params = dict(figure.params)
    if "tile_size" in inspect.signature(function).parameters:
        params["tile_size"] = SIZE  # the catalogue's own parameters, on small tiles
    destination = tmp_path / f"figure{Path(figure.output).suffix}"
    function(captures[0] if figure.single else captures, destination, **params)
    assert destination.is_file()
    assert read == set(function.reads), f"{figure.renderer} reads {sorted(read)} but declares {sorted(function.reads)}"


def test_a_negative_prompt_is_labelled_against_its_prompt():
    from figgen.figures.compare import negative_vs_prompt

    prompt = "a yellow triangle on a blue background"
    assert negative_vs_prompt(prompt, "") == "none (the empty prompt)"
    assert negative_vs_prompt(prompt, prompt) == "the prompt itself"
    assert negative_vs_prompt(prompt, "a yellow triangle on a red background") == "the prompt, with “red” for “blue”"
    assert negative_vs_prompt(prompt, "blurry") == "“blurry”"  # nothing in common: said as it is
