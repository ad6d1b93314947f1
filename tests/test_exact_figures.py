"""The figures that need no weights: every number they show is checked against an independent computation."""

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from figgen import models
import torch
from PIL import Image

from figgen.catalogue import load_catalogue
from figgen.clip_vocab import sd14_tokenizer

from conftest import figgen

SVG = "{http://www.w3.org/2000/svg}"

# Token ids verified outside this project: they are the ids that other CLIP
# tokenizer implementations' own tests expect from OpenAI's CLIP tokenizer
# (for example "a photo of a cat", the standard CLIP example).
VERIFIED_IDS = {
    "a photo of a cat": [49406, 320, 1125, 539, 320, 2368, 49407],
    "Hello, world!": [49406, 3306, 267, 1002, 256, 49407],
    "a photograph of an astronaut riding a horse": [49406, 320, 8853, 539, 550, 18376, 6765, 320, 4558, 49407],
    "Hello, WORLD!! (test-123)": [49406, 3306, 267, 1002, 748, 263, 1628, 268, 272, 273, 274, 264, 49407],
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every figure of the real catalogue rendered with no weights at all."""
    root = tmp_path_factory.mktemp("exact")
    project = {"catalogue": load_catalogue().path, "figures": root / "figures", "cache": root / "cache"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(root / "no-hf-cache"))
        patch.setattr(models, "MINI_SD_FOLDER", root / "no-mini-sd")  # no weights at all, mini-sd's neither
        assert figgen(project, "render") == 0
    return root / "figures"


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()  # raises if the SVG is not well-formed XML
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def exact_figures():
    return [f for f in load_catalogue().figures if f.needs == "nothing"]


@pytest.mark.parametrize("figure", exact_figures(), ids=lambda f: f.id)
def test_every_exact_figure_renders_offline_with_provenance(rendered, figure):
    path = rendered / figure.output
    assert path.is_file()
    if path.suffix == ".svg":
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG}svg"
        assert root.find(f"{SVG}title").text and root.find(f"{SVG}desc").text
        assert len(svg_texts(path)) >= 5  # real, readable text, not paths
    else:
        with Image.open(path) as image:
            image.load()
    provenance = (path.with_suffix(".json")).read_text()
    assert '"placeholder": false' in provenance


def independent_counts():
    """SD 1.4's networks, built here from the configuration numbers in DESIGN.md, on the meta device."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    with torch.device("meta"):
        unet = UNet2DConditionModel(
            sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
            block_out_channels=(320, 640, 1280, 1280),
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
        )
        vae = AutoencoderKL(
            block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, latent_channels=4,
        )
        text = CLIPTextModel(CLIPTextConfig(
            vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
            num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
        ))
    return unet, vae, text


def params(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def test_cascade_shows_the_real_parameter_counts_and_shapes(rendered):
    unet, vae, text = independent_counts()
    assert (params(unet), params(vae), params(text)) == (859_520_964, 83_653_863, 123_060_480)  # DESIGN.md
    words = " ".join(svg_texts(rendered / "part1" / "cascade.svg"))
    # The picture rounds for a lay reader ("about 860 million"); its provenance keeps the exact counts.
    for count in (params(unet), params(text), params(vae.decoder, vae.post_quant_conv), params(vae)):
        assert f"about {round(count / 1e6):,} million" in words
    record = json.loads((rendered / "part1" / "cascade.json").read_text())
    assert record["sd14_parameters"] == {"unet": params(unet), "text_encoder": params(text),
                                    "vae_decoder": params(vae.decoder, vae.post_quant_conv), "vae": params(vae)}
    # What each model hands on is said in words in the picture, in numbers in the provenance.
    assert record["shapes"] == {"token_ids": [77], "text_embedding": [77, 768], "latent": [4, 64, 64],
                                "image": [512, 512, 3]}  # DESIGN.md
    assert "512 × 512 pixels" in words


def test_unet_diagram_shows_every_stage_with_its_parameters(rendered):
    """The picture names each stage's grid and notes per spot in words; the exact parameter counts,
    which a lay reader does not need in the picture, are in its provenance and must be the real ones."""
    unet, _, _ = independent_counts()
    words = " ".join(svg_texts(rendered / "part4" / "unet.svg"))
    expected = [
        ("down 1", 64, 320, unet.down_blocks[0]), ("down 2", 32, 640, unet.down_blocks[1]),
        ("down 3", 16, 1280, unet.down_blocks[2]), ("down 4", 8, 1280, unet.down_blocks[3]),
        ("middle", 8, 1280, unet.mid_block),
        ("up 1", 8, 1280, unet.up_blocks[0]), ("up 2", 16, 1280, unet.up_blocks[1]),
        ("up 3", 32, 640, unet.up_blocks[2]), ("up 4", 64, 320, unet.up_blocks[3]),
    ]
    for name, side, _, _ in expected:
        assert f"{name}: {side} × {side} grid" in words
    assert "notes per spot" not in words  # channel widths belong in the text's "For the curious" box
    assert words.count("does not read the text") == 2 and words.count("reads the text") == 7
    record = json.loads((rendered / "part4" / "unet.json").read_text())
    assert [stage[0] for stage in record["stages"]] == [name for name, *_ in expected]
    assert [stage[2] for stage in record["stages"]] == [channels for _, _, channels, _ in expected]
    assert [stage[-1] for stage in record["stages"]] == [params(block) for *_, block in expected]
    assert [stage[3] for stage in record["stages"]] == [hasattr(block, "attentions") for *_, block in expected]
    assert record["total_parameters"] == params(unet)


@pytest.mark.parametrize("prompt, ids", VERIFIED_IDS.items())
def test_tokenizer_reproduces_clips_real_ids(prompt, ids):
    tokenizer = sd14_tokenizer()
    assert len(tokenizer) == 49408
    assert tokenizer(prompt).input_ids == ids


def test_token_figure_shows_77_slots_with_the_real_ids(rendered):
    words = svg_texts(rendered / "part2" / "tokens.svg")
    ids = VERIFIED_IDS["a photograph of an astronaut riding a horse"]
    slots = [word for word in words if re.fullmatch(r"\d+", word)]
    assert [int(s) for s in slots] == ids  # one box per used slot, with its id
    # The 67 padding slots are one box, not 67 identical ones.
    assert "… 67 × pad" in words and "each 49407" in words
    assert "8 tokens + start + end = 10 slots used; 67 padding slots; 77 slots in all" in words


def test_truncation_figure_cuts_exactly_what_the_tokenizer_cuts(rendered):
    prompt = next(f for f in load_catalogue().figures if f.id == "tokens-truncation").params["prompt"]
    tokenizer = sd14_tokenizer()
    pieces = tokenizer.convert_ids_to_tokens(tokenizer(prompt, verbose=False).input_ids[1:-1])
    kept = tokenizer(prompt, max_length=77, truncation=True).input_ids
    assert len(kept) == 77 and kept[-1] == 49407
    root = ET.parse(rendered / "part2" / "tokens-truncation.svg").getroot()
    struck = [e.text for e in root.iter(f"{SVG}text") if e.get("text-decoration") == "line-through"]
    assert struck == [p.replace("</w>", "") for p in pieces[75:]]
    assert len(struck) == len(pieces) - 75 > 0


def test_noise_schedule_values_match_the_formula(rendered):
    betas = np.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=np.float64) ** 2  # "scaled_linear"
    alphas_cumprod = np.cumprod(1 - betas)
    words = svg_texts(rendered / "part4" / "noise-schedule.svg")
    for t in (0, 250, 500, 750, 999):
        assert f"t = {t}" in words
        assert f"{np.sqrt(alphas_cumprod[t]):.2f} | {np.sqrt(1 - alphas_cumprod[t]):.2f}" in words
    assert "the 50 timesteps a 50-step run visits (DDIM: every 20th)" in words
    record = json.loads((rendered / "part4" / "noise-schedule.json").read_text())
    assert record["ddim_timesteps"] == list(range(981, 0, -20))  # 50 of them, the last at t = 1


def test_forward_noising_uses_the_exact_schedule(rendered):
    import json

    record = json.loads((rendered / "part4" / "forward-noising.json").read_text())
    betas = np.linspace(0.00085**0.5, 0.012**0.5, 1000) ** 2
    alphas_cumprod = np.cumprod(1 - betas)
    for t, (signal, noise) in record["values_shown"].items():
        assert signal == pytest.approx(np.sqrt(alphas_cumprod[int(t)]), abs=5e-4)
        assert noise == pytest.approx(np.sqrt(1 - alphas_cumprod[int(t)]), abs=5e-4)
    assert record["space"] == "pixels"


def test_compression_is_drawn_to_scale(rendered):
    path = rendered / "part3" / "compression.svg"
    words = " ".join(svg_texts(path))
    assert "786,432" in words and "16,384" in words and "48 times fewer" in words
    rects = [r for r in ET.parse(path).getroot().iter(f"{SVG}rect") if r.get("rx") == "0"]
    areas = [float(r.get("width")) * float(r.get("height")) for r in rects]
    image_area, latent_area = sum(areas[:3]), sum(areas[3:])
    assert len(rects) == 7 and image_area / latent_area == pytest.approx(512 * 512 * 3 / (4 * 64 * 64))


def test_compute_figure_reports_counted_flops(rendered):
    from torch.utils.flop_counter import FlopCounterMode

    unet, _, _ = independent_counts()

    def unet_flops(side):
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            unet(torch.empty(1, 4, side, side, device="meta"), 10,
                 encoder_hidden_states=torch.empty(1, 77, 768, device="meta"))
        return counter.get_total_flops()

    latent, pixels = unet_flops(64), unet_flops(512)
    words = " ".join(svg_texts(rendered / "part3" / "compute.svg"))
    # The picture says it in words a lay reader can take in at a glance; the exact counts are in its provenance.
    assert f"{pixels / latent:,.0f} ×" in words and f"need {pixels / latent:,.0f} times the work" in words
    assert "denoising: 100 UNet predictions" in words  # 2 predictions x 50 steps
    assert pixels / latent > (512 / 64) ** 2  # worse than the pixel count alone: attention is quadratic
    record = json.loads((rendered / "part3" / "compute.json").read_text())
    assert (record["unet_call_latent"], record["unet_call_pixels"]) == (latent, pixels)
    unet_share = 100 * latent / record["generation_total"]
    assert f"{unet_share:.1%}" in words or f"{unet_share:.1f}%" in words


def test_timeline_lists_dated_sourced_events_in_order(rendered):
    from figgen.figures.timeline import load_events

    events = load_events()
    words = svg_texts(rendered / "part1" / "timeline.svg")
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)
    for event in events:
        assert event["title"] in words and event["source"].startswith("https://")
    release = next(e for e in events if "Stable Diffusion 1.4" in e["title"])
    assert release["date"].isoformat() == "2022-08-22"
