"""Every renderer of the figures that need SD 1.4's weights, on real tensors captured from the tiny pipeline.

What each renderer draws is tested on hand-made captures in test_renderers.py; here they run end to end,
and the tests check what only a real run can show (what was captured, and how).
"""

import json

import numpy as np
import pytest
from PIL import Image

from conftest import figgen

SEEDS_AND_PROMPTS = """
[captures.run]
prompt = "a red fox"
seed = 3
steps = 6
guidance_scale = 7.5
scheduler = "ddim"
height = 64
width = 64
attention = true

[captures.run-pndm]
prompt = "a red fox"
seed = 3
steps = 6
guidance_scale = 7.5
scheduler = "pndm"
height = 64
width = 64
decode_steps = false

[captures.unconditional]
prompt = ""
seed = 3
steps = 6
guidance_scale = 1.0
scheduler = "ddim"
height = 64
width = 64
decode_steps = false

[captures.other]
prompt = "a blue whale in the sea"
seed = 4
steps = 3
guidance_scale = 3.0
scheduler = "ddim"
height = 64
width = 64
decode_steps = false

[captures.photo]
photo = "astronaut"
seed = 0
timesteps = [0, 500]
"""

FIGURES = [
    ("embedding", "embedding.heatmap", 'capture = "run"', "rows_shown = 8"),
    ("similarity", "embedding.similarity", 'captures = ["run", "other", "unconditional"]', ""),
    ("compare", "compare.grid", 'captures = ["unconditional", "run", "other", "run-pndm"]',
     'labels = "{prompt_end}"\nsublabels = "{scheduler_name}, guidance {guidance_scale:g}, {steps} steps"\ncolumns = 2\ntile_size = 64\nlossless = true'),
    ("round-trip", "vae.round_trip", 'capture = "photo"', "tile_size = 64"),
    ("detail", "vae.detail", 'capture = "photo"', "box = [0.125, 0.125, 0.25]\ntile_size = 64"),
    ("channels", "vae.channels", 'capture = "run"', "tile_size = 64"),
    ("noise-image", "denoise.noise_and_image", 'capture = "run"', "show_steps = [1, 6]\ntile_size = 64\nlossless = true"),
    ("story", "story.board", 'capture = "run"', "show_steps = [2, 4]\ntile_size = 64"),
    ("attention", "attention.maps", 'capture = "run"', "tile_size = 64"),
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, tiny_model):
    root = tmp_path_factory.mktemp("weights-figures")
    text = SEEDS_AND_PROMPTS
    for figure_id, renderer, capture, params in FIGURES:
        text += (
            f'\n[[figures]]\nid = "{figure_id}"\npart = 2\nneeds = "weights"\n{capture}\nrenderer = "{renderer}"\n'
            f'output = "f/{figure_id}.{"svg" if figure_id == "similarity" else "webp"}"\nalt = "alt"\ncaption = "caption"\n'
            f"[figures.params]\n{params}\n"
        )
    (root / "catalogue.toml").write_text(text)
    project = {"catalogue": root / "catalogue.toml", "figures": root / "figures", "cache": root / "cache"}
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    from figgen.cache import load_capture

    captures = {}
    for path in (root / "cache" / "captures").glob("*.safetensors"):
        capture = load_capture(path)
        captures[capture.meta["capture"]] = capture
    return root / "figures" / "f", captures


def record(folder, name):
    return json.loads((folder / f"{name}.json").read_text())


def picture(folder, name):
    with Image.open(folder / f"{name}.webp") as image:
        return np.asarray(image.convert("RGB"))


def test_every_renderer_wrote_its_file_and_provenance(rendered):
    folder, captures = rendered
    assert set(captures) == {"run", "run-pndm", "unconditional", "other", "photo"}
    for figure_id, *_ in FIGURES:
        provenance = record(folder, figure_id)
        assert provenance["placeholder"] is False and provenance["model"]
        path = folder / f"{figure_id}.{'svg' if figure_id == 'similarity' else 'webp'}"
        assert path.stat().st_size > 200


def test_comparison_grid_shows_each_runs_final_image_with_labels_from_its_settings(rendered):
    folder, captures = rendered
    grid = picture(folder, "compare")
    provenance = record(folder, "compare")
    assert provenance["labels"] == ["(no prompt)", "a red fox", "... in the sea", "a red fox"]
    assert [c["spec"]["prompt"] for c in provenance["captures"]] == ["", "a red fox", "a blue whale in the sea", "a red fox"]
    assert provenance["captures"][3]["scheduler"] == "PNDMScheduler" and provenance["captures"][3]["unet_calls"] == 7
    # Two to a row, left to right; how far down a row starts depends on the size of the labels above it.
    margin, gap = 12, 10
    tops = []
    for index, name in enumerate(["unconditional", "run", "other", "run-pndm"]):
        left = margin + (index % 2) * (64 + gap)
        image = captures[name].arrays["image"]
        found = [top for top in range(grid.shape[0] - 63) if np.array_equal(grid[top : top + 64, left : left + 64], image)]
        assert found, f"{name}'s picture is not in column {index % 2 + 1}"
        tops.append(found[0] if index < 2 else found[-1])  # the two runs of "a red fox" may draw the same picture
    assert tops[0] == tops[1] and tops[2] == tops[3] >= tops[0] + 64 + gap


def test_unconditional_run_really_has_no_guidance_and_no_prompt(rendered):
    _, captures = rendered
    unconditional = captures["unconditional"]
    assert unconditional.meta["spec"]["prompt"] == "" and unconditional.meta["spec"]["guidance_scale"] == 1.0
    assert "negative_prompt_embeds" not in unconditional.arrays  # one prediction per step, no guidance
    assert "decoded_latents" not in unconditional.arrays  # final picture only


def cosine(a, b):
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def test_similarity_matrix_is_the_cosine_of_mean_prompt_embeddings(rendered):
    folder, captures = rendered
    provenance = record(folder, "similarity")
    vectors, with_start = [], []
    for name in ["run", "other", "unconditional"]:
        capture = captures[name]
        end = capture.meta["tokens"].index("<|endoftext|>")
        embeds = capture.arrays["prompt_embeds"].astype(np.float64)
        vectors.append(embeds[1 : end + 1].mean(axis=0))  # first word to END: START left out
        with_start.append(embeds[: end + 1].mean(axis=0))
    for i, a in enumerate(vectors):
        for j, b in enumerate(vectors):
            assert provenance["matrix"][i][j] == pytest.approx(cosine(a, b), abs=1e-4)
    # START's row is identical for every prompt (causal mask), so it must not be averaged in:
    # the scores would then be pulled towards 1.
    starts = [captures[name].arrays["prompt_embeds"][0] for name in ["run", "other", "unconditional"]]
    np.testing.assert_allclose(starts[0], starts[1], atol=1e-5)
    np.testing.assert_allclose(starts[0], starts[2], atol=1e-5)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert provenance["matrix"][i][j] < 0.999
        assert abs(provenance["matrix"][i][j] - cosine(with_start[i], with_start[j])) > 1e-3
    text = (folder / "similarity.svg").read_text()
    assert f"{provenance['matrix'][0][1]:.2f}" in text and "a blue whale in the sea" in text










def test_cross_attention_maps_are_averaged_probabilities_over_the_77_tokens(rendered):
    folder, captures = rendered
    maps = captures["run"].arrays["cross_attention"]
    assert maps.shape == (77, 8, 8)  # every token slot, at the 8 x 8 latent of a 64-pixel run
    # A softmax over the 77 tokens sums to 1 at every position; averages and bilinear resizing keep that.
    np.testing.assert_allclose(maps.sum(axis=0), 1.0, atol=1e-4)
    assert (maps >= 0).all()
    provenance = record(folder, "attention")
    tokens = captures["run"].meta["tokens"]
    assert provenance["words"] == [t.replace("</w>", "") for t in tokens[1 : tokens.index("<|endoftext|>")]]
    first = next(iter(provenance["mean_attention"]))
    assert provenance["mean_attention"][first] == pytest.approx(float(maps[1].mean()), abs=1e-5)


def test_runs_without_attention_leave_the_unet_as_it_was(rendered, tiny_model):
    from figgen.capture import run_capture
    from figgen.catalogue import CaptureSpec
    from figgen.models import load_pipeline, local_folder

    source = local_folder(str(tiny_model))
    pipe = load_pipeline(source, "cpu", "float32")
    before = {name: type(p) for name, p in pipe.unet.attn_processors.items()}
    spec = CaptureSpec(name="a", prompt="a fox", seed=1, steps=2, guidance_scale=7.5, scheduler="ddim",
                       height=64, width=64, attention=True)
    run_capture(pipe, spec, source, "cpu", "float32")
    assert {name: type(p) for name, p in pipe.unet.attn_processors.items()} == before
