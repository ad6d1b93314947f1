"""Architecture diagrams (Parts 1, 3 and 4), computed from SD 1.4's configuration.

Every number drawn here is computed: parameter counts by building the
networks on the meta device, shapes from the configuration.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from .. import sd14
from ..record import Capture, reads
from ..models import SD14_REPO
from .palette import ACCENT, CARD, INK, LINE, MUTED, PALE, PALE_GREY, PALE_WARM, WARM
from .svg import Svg, millions


def about_millions(count: int) -> str:
    """A parameter count as a lay reader reads it: 859,520,964 is 'about 860 million'."""
    return f"about {round(count / 1e6):,} million"


def shape(*dims: int) -> str:
    return " × ".join(str(d) for d in dims)


# The "you are here" versions of the cascade: which of its three groups each highlights, and what it says.
HERE = {
    "text-encoder": ({"text"}, "the CLIP text encoder"),
    "vae": ({"vae"}, "the VAE, the picture compressor"),
    "unet": ({"unet"}, "the UNet, the denoiser"),
    "all": ({"text", "unet", "vae"}, "all three models, working together"),
}


def cascade(destination: Path, *, highlight: str | None = None) -> dict:
    """The complete cascade diagram, from the configuration alone.

    With `highlight` (a key of HERE) it is the small "you are here" version that opens a part: the same
    boxes in the same places, details left out, the part's model in full colour and the others faded.
    """
    if highlight is not None and highlight not in HERE:
        raise ValueError(f"highlight must be one of {', '.join(HERE)}, not {highlight!r}")
    return draw_cascade(destination, None, highlight)


@reads("decoded_latents", "image")
def cascade_with_run(capture: Capture, destination: Path) -> dict:
    """The same diagram with thumbnails of a real run inset: its starting noise and its final picture."""
    if "decoded_latents" not in capture.arrays:
        raise ValueError("the cascade's inset needs a capture that decodes every step (decode_steps = true)")
    spec = capture.meta["spec"]
    # The prompt beside the pictures is the run's own, so that the two agree.
    thumbnails = {"noise": capture.arrays["decoded_latents"][0], "image": capture.arrays["image"],
                  "prompt": spec["prompt"]}
    # The diagram is SD 1.4's; pictures drawn by another model (mini-sd) say so beside them.
    if capture.meta.get("model") != SD14_REPO:
        thumbnails["credit"] = (
            f"The prompt and the two small pictures come from {capture.meta.get('model')}'s run "
            f"({spec['width']} × {spec['height']} pixels), not from SD 1.4; every number above is SD 1.4's."
        )
    return draw_cascade(destination, thumbnails)


def draw_cascade(destination: Path, thumbnails: dict | None, highlight: str | None = None) -> dict:
    unet, vae, text_encoder = sd14.meta_models()
    counts = {
        "text_encoder": sd14.count(text_encoder),
        "unet": sd14.count(unet),
        "vae": sd14.count(vae),
        "vae_decoder": sd14.count(vae.decoder, vae.post_quant_conv),
    }
    channels, side, _ = sd14.latent_shape()
    hidden = sd14.TEXT_ENCODER_CONFIG["hidden_size"]
    tokens = sd14.TEXT_ENCODER_CONFIG["max_position_embeddings"]
    size = sd14.IMAGE_SIZE
    steps = sd14.DEFAULT_STEPS
    small = highlight is not None  # the "you are here" version: boxes and names only
    lit, here = HERE[highlight] if small else ({"text", "unet", "vae"}, "")
    latent = shape(channels, side, side)

    width = 860
    # Rows: the text row's boxes, then the denoising row's; the small version packs them closer.
    row1, row2, box_h1, box_h2 = (56, 150, 52, 60) if small else (62, 250, 96, 124)
    svg = Svg(
        width, 0,
        f"You are here: {here}" if small else "The Stable Diffusion 1.4 model cascade",
        (f"The three models of Stable Diffusion 1.4 in a row, with {here} highlighted: the prompt goes through "
         "the tokenizer and the CLIP text encoder; the UNet removes noise from a latent step by step, reading "
         "the text embedding; the VAE decoder turns the final latent into the picture.") if small else
        f"The prompt is split into {tokens} tokens, which the CLIP text encoder ({millions(counts['text_encoder'])} "
        f"parameters) turns into a {tokens} by {hidden} embedding. The UNet ({millions(counts['unet'])} parameters) "
        f"starts from random noise of {latent} and removes noise over {steps} steps, reading "
        f"the embedding at every step. The VAE decoder ({millions(counts['vae_decoder'])} parameters) turns the "
        f"final latent into a {shape(size, size, 3)} image.",
    )
    body, note = 16, 15  # detail lines and notes: 12.8 and 12 px in the text column
    svg.text(16, 32, f"You are here: {here}" if small else "Stable Diffusion 1.4: three models in a row", 22,
             "start", WARM if small else INK, "bold")

    def box(group, x, y, w, h, title, lines, fill=PALE, stroke=ACCENT):
        strong = small and group in lit and len(lit) == 1
        svg.rect(x, y, w, h, fill=fill, stroke=WARM if strong else stroke, stroke_width=4 if strong else 1.5)
        top = y + h / 2 - (len(lines) * 20 - 6) / 2 if lines else y + h / 2 + 7
        svg.text(x + w / 2, top, title, 18, weight="bold")
        for index, line in enumerate(lines):
            svg.text(x + w / 2, top + 24 + 20 * index, line, body, fill=MUTED)

    def arrow(x1, y1, x2, y2, label=""):
        svg.line(x1, y1, x2, y2, stroke=MUTED, width=1.8, arrow=True)
        if label and not small:
            svg.text((x1 + x2) / 2, min(y1, y2) - 10, label, note, fill=INK, weight="bold")

    def group(name):
        return svg.group(1.0 if name in lit else 0.3)

    # Row 1: the text.
    with group("text"):
        mid1 = row1 + box_h1 / 2
        if small:
            svg.text(16, mid1 + 6, "prompt", 18, "start", INK, "bold")
        else:
            prompt = (thumbnails or {}).get("prompt", "a photograph of an astronaut riding a horse")
            for index, line in enumerate(textwrap.wrap(f"“{prompt}”", 17)[:3]):
                svg.text(16, mid1 - 14 + 20 * index, line, note, "start")
        box("text", 172, row1, 124, box_h1, "Tokenizer", [] if small else ["49,408", "word pieces"],
            fill=PALE_GREY, stroke=LINE)
        box("text", 380, row1, 220, box_h1, "CLIP text encoder",
            [] if small else [about_millions(counts['text_encoder']), "parameters"])
        arrow(152, mid1, 170, mid1)
        arrow(296, mid1, 378, mid1)
        svg.rect(660, row1 + (0 if small else 14), 184, box_h1 - (0 if small else 28), fill=CARD, stroke=ACCENT, rx=4,
                 extra=' stroke-dasharray="4 3"')
        svg.text(752, mid1 + (6 if small else -4), "text embedding", 17, weight="bold")
        if not small:
            svg.text(752, mid1 + 20, "a table of numbers", note, fill=ACCENT)
        arrow(600, mid1, 658, mid1)
        # The hand-off to the UNet, read at every step.
        gap = (row1 + box_h1 + row2) / 2
        svg.path(f"M 752 {row1 + box_h1 - (0 if small else 14)} L 752 {gap} L 395 {gap} L 395 {row2 - 2}",
                 stroke=ACCENT, width=1.8, arrow=True)
        if not small:
            svg.text(574, gap - 10, "read at every step, through cross-attention", note, fill=ACCENT)

    # Row 2: the denoising loop.
    mid2 = row2 + box_h2 / 2
    with group("unet"):
        box("unet", 12, row2 + (0 if small else 20), 148, box_h2 - (0 if small else 40), "noise" if small else "random noise",
            [], fill=PALE_GREY, stroke=LINE)
        box("unet", 280, row2, 230, box_h2, "UNet denoiser",
            [] if small else [about_millions(counts['unet']), "parameters", f"runs {steps} times"],
            fill=PALE_WARM, stroke=WARM)
        arrow(160, mid2, 278, mid2)
        arrow(510, mid2, 628, mid2)
        bottom = row2 + box_h2
        svg.path(f"M 490 {bottom} C 490 {bottom + 52} 300 {bottom + 52} 300 {bottom + 4}", stroke=WARM, width=1.8,
                 arrow=True)
        svg.text(395, bottom + 66, f"× {steps} steps: the latent goes round again, a little less noisy", note,
                 "middle", WARM, "bold")
    with group("vae"):
        box("vae", 630, row2, 136, box_h2, "VAE decoder",
            [] if small else [about_millions(counts['vae_decoder']), "parameters"])
        image_x, image_y, image_side = 780, mid2 - 34, 68
        if thumbnails:
            svg.image(image_x, image_y, image_side, image_side, thumbnails["image"])
        else:
            svg.rect(image_x, image_y, image_side, image_side, fill="#e3f2fd", stroke=INK, rx=4)
            svg.path(f"M {image_x + 2} {image_y + 66} L {image_x + 25} {image_y + 34} L {image_x + 40} {image_y + 49} "
                     f"L {image_x + 50} {image_y + 39} L {image_x + 66} {image_y + 66} Z", stroke="none", fill="#81c784")
            svg.circle(image_x + 50, image_y + 19, 7, fill="#ffb300")
        arrow(766, mid2, 778, mid2)
        svg.text(image_x + image_side / 2, image_y + image_side + 22, "picture", 17, weight="bold")
        if not small:
            svg.text(width - 12, image_y + image_side + 42, f"{size} × {size} pixels", note, "end", MUTED)

    y = row2 + box_h2 + 100 if small else row2 + box_h2 + 112
    if not small:
        if thumbnails:
            svg.image(16, row2 + box_h2 - 10, 56, 56, thumbnails["noise"])
            svg.text(80, row2 + box_h2 + 14, "this run's noise,", note, "start", MUTED)
            svg.text(80, row2 + box_h2 + 32, "decoded", note, "start", MUTED)
        y = svg.paragraph(
            16, y,
            f"The whole VAE (its encoder too, used in training and image-to-image) has {about_millions(counts['vae'])} "
            "parameters. All numbers are computed from SD 1.4's configuration; the exact counts are in the provenance file.",
            note, width - 32, fill=MUTED,
        )
        if thumbnails and "credit" in thumbnails:
            y = svg.paragraph(16, y + 4, thumbnails["credit"], note, width - 32, fill=WARM)
    svg.height = y - (8 if small else 0)
    info = svg.save(destination)
    return {
        **info, "sd14_parameters": counts, "highlight": highlight,
        # What each model hands to the next, in numbers (the picture says it in words).
        "shapes": {"token_ids": [tokens], "text_embedding": [tokens, hidden], "latent": [channels, side, side],
                   "image": [size, size, 3]},
        "thumbnails": sorted(k for k in thumbnails if k in ("noise", "image")) if thumbnails else [],
    }


def compression(destination: Path) -> dict:
    """The image and its latent drawn to scale: one square per number, areas proportional."""
    channels, side, _ = sd14.latent_shape()
    size = sd14.IMAGE_SIZE
    pixels = size * size * 3
    latent = channels * side * side
    ratio = pixels / latent
    scale = 0.5  # drawing units per pixel side of the 512-px image

    svg = Svg(
        900, 470,
        "An image and its latent, drawn to scale",
        f"A {size} by {size} colour image holds {pixels:,} numbers ({size} × {size} × 3). Its latent holds "
        f"{latent:,} numbers ({channels} × {side} × {side}), {ratio:g} times fewer. The areas are to scale.",
    )
    svg.text(20, 34, f"{pixels:,} numbers become {latent:,}: {ratio:g} times fewer", 24, "start", weight="bold")
    # Three colour planes of the image, each size x size, offset to suggest a stack.
    plane = size * scale
    for index, colour in enumerate(("#ef9a9a", "#a5d6a7", "#90caf9")):
        svg.rect(40 + index * 14, 70 + index * 14, plane, plane, fill=colour, stroke=INK, rx=0, stroke_width=1)
    svg.text(40 + plane / 2 + 14, 70 + plane + 50, f"image: {shape(size, size, 3)} = {pixels:,}", 18, weight="bold")
    # Latent: four planes of side x side, drawn at the same number-per-area scale.
    latent_plane = plane * side / size  # same area per number as the image planes
    for index in range(channels):
        svg.rect(520 + index * 40, 200, latent_plane, latent_plane, fill="#b39ddb", stroke=INK, rx=0, stroke_width=1)
    svg.text(520, 290, f"latent: {shape(channels, side, side)} = {latent:,}", 18, "start", weight="bold")
    y = svg.paragraph(520, 330, "Each square has the same area per number, so the areas compare the amounts of data.",
                      16, 370, fill=MUTED)
    svg.paragraph(520, y + 12, f"Per side: {size} → {side} pixels (÷ {size // side}); per position: 3 colours → "
                               f"{channels} channels.", 16, 370, fill=MUTED)
    info = svg.save(destination)
    return {**info, "image_numbers": pixels, "latent_numbers": latent, "ratio": ratio, "latent_side_drawn": latent_plane, "image_side_drawn": plane}


def unet(destination: Path) -> dict:
    """The U: resolutions and channels of every stage, skip connections, cross-attention, parameters."""
    model, _, _ = sd14.meta_models()
    config = sd14.UNET_CONFIG
    side = config["sample_size"]
    down_channels = config["block_out_channels"]
    stages = []  # (name, resolution, channels, attention, parameters)
    for index, (block, kind) in enumerate(zip(model.down_blocks, config["down_block_types"])):
        stages.append((f"down {index + 1}", side // 2**index, down_channels[index], "CrossAttn" in kind, sd14.count(block)))
    mid_side = side // 2 ** (len(down_channels) - 1)
    stages.append(("middle", mid_side, down_channels[-1], True, sd14.count(model.mid_block)))
    for index, (block, kind) in enumerate(zip(model.up_blocks, config["up_block_types"])):
        stages.append((f"up {index + 1}", mid_side * 2**index, down_channels[::-1][index], "CrossAttn" in kind, sd14.count(block)))
    edges = sd14.count(model.conv_in, model.time_embedding, model.conv_norm_out, model.conv_out)
    total = sd14.count(model)
    assert sum(stage[4] for stage in stages) + edges == total

    svg = Svg(
        1000, 0,
        "The UNet of Stable Diffusion 1.4",
        f"The latent goes down through four stages at {', '.join(str(s[1]) for s in stages[:4])} pixels a side "
        f"with {', '.join(str(s[2]) for s in stages[:4])} channels, through a middle stage at {mid_side} by "
        f"{mid_side}, and back up to {side} by {side}. Skip connections carry each down stage's output across to "
        f"the up stage of the same size. Cross-attention, where the text steers the picture, sits in every stage "
        f"except the lowest down stage and the first up stage. {total:,} parameters in all.",
    )
    svg.text(20, 36, "The UNet, shaped like a U", 26, "start", weight="bold")
    box_w, box_h = 250, 64
    level_y = [64, 164, 264, 364]
    positions = {}
    for index in range(4):
        positions[f"down {index + 1}"] = (40 + index * 30, level_y[index])
        positions[f"up {4 - index}"] = (730 - index * 30, level_y[index])
    positions["middle"] = (375, 464)
    for name, resolution, channels, attention, parameters in stages:
        x, y = positions[name]
        fill, stroke = (PALE_WARM, WARM) if attention else (PALE, ACCENT)
        svg.rect(x, y, box_w, box_h, fill=fill, stroke=stroke)
        # Channel widths stay out of the picture (a lay reader gets them in Part 4's "For the curious" box).
        svg.text(x + box_w / 2, y + 27, f"{name}: {resolution} × {resolution} grid", 19, weight="bold")
        svg.text(x + box_w / 2, y + 52, "reads the text" if attention else "does not read the text", 18,
                 fill=WARM if attention else MUTED)
    for index in range(4):
        x1, y1 = positions[f"down {index + 1}"]
        x2, y2 = positions[f"up {4 - index}"]
        svg.line(x1 + box_w, y1 + box_h / 2, x2, y2 + box_h / 2, stroke=LINE, width=1.5, dash="6 4", arrow=True)
        if index < 3:
            nx, ny = positions[f"down {index + 2}"]
            svg.line(x1 + box_w / 2, y1 + box_h, nx + box_w / 2, ny, stroke=MUTED, width=1.8, arrow=True)
            ux, uy = positions[f"up {4 - index - 1}"]
            svg.line(ux + box_w / 2, uy, x2 + box_w / 2, y2 + box_h, stroke=MUTED, width=1.8, arrow=True)
    dx, dy = positions["down 4"]
    mx, my = positions["middle"]
    ux, uy = positions["up 1"]
    svg.line(dx + box_w / 2, dy + box_h, mx + 20, my + box_h / 2, stroke=MUTED, width=1.8, arrow=True)
    svg.line(mx + box_w - 20, my + box_h / 2, ux + box_w / 2, uy + box_h, stroke=MUTED, width=1.8, arrow=True)
    svg.text(500, 152, "skip connections (dashed): detail carried across", 18, fill=MUTED)
    y = svg.paragraph(
        20, my + box_h + 44,
        f"Orange stages read the text (cross-attention); blue ones do not. Each step down halves the grid's width "
        f"and height, {side} → {side // 2} → {side // 4} → {side // 8}; each step up doubles them back.",
        18, 960, fill=MUTED,
    )
    svg.height = y
    info = svg.save(destination)
    return {**info, "total_parameters": total, "stages": [list(stage) for stage in stages], "edge_parameters": edges}
