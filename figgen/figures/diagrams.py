"""Architecture diagrams (Parts 1, 3 and 4), computed from SD 1.4's configuration.

Every number drawn here is computed: parameter counts by building the
networks on the meta device, shapes from the configuration.
"""

from __future__ import annotations

from pathlib import Path

from .. import sd14
from ..record import Capture, reads
from ..models import SD14_REPO
from .palette import ACCENT, CARD, INK, LINE, MUTED, PALE, PALE_GREY, PALE_WARM, WARM
from .svg import Svg, millions


def shape(*dims: int) -> str:
    return " × ".join(str(d) for d in dims)


def cascade(destination: Path) -> dict:
    """The complete cascade diagram, from the configuration alone."""
    return draw_cascade(destination, None)


@reads("decoded_latents", "image")
def cascade_with_run(capture: Capture, destination: Path) -> dict:
    """The same diagram with thumbnails of a real run inset: its starting noise and its final picture."""
    if "decoded_latents" not in capture.arrays:
        raise ValueError("the cascade's inset needs a capture that decodes every step (decode_steps = true)")
    thumbnails = {"noise": capture.arrays["decoded_latents"][0], "image": capture.arrays["image"]}
    # The diagram is SD 1.4's; pictures drawn by another model (mini-sd) say so beside them.
    if capture.meta.get("model") != SD14_REPO:
        spec = capture.meta["spec"]
        thumbnails["credit"] = (
            f"The two small pictures come from {capture.meta.get('model')}'s run of “{spec['prompt']}” "
            f"({spec['width']} × {spec['height']} pixels),",
            "not from SD 1.4; the prompt and every number above are SD 1.4's.",
        )
    return draw_cascade(destination, thumbnails)


def draw_cascade(destination: Path, thumbnails: dict | None) -> dict:
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

    svg = Svg(
        1000, 496 if thumbnails and "credit" in thumbnails else 470,
        "The Stable Diffusion 1.4 model cascade",
        f"The prompt is split into {tokens} tokens, which the CLIP text encoder ({millions(counts['text_encoder'])} "
        f"parameters) turns into a {tokens} by {hidden} embedding. The UNet ({millions(counts['unet'])} parameters) "
        f"starts from random noise of {shape(channels, side, side)} and removes noise over {steps} steps, reading "
        f"the embedding at every step. The VAE decoder ({millions(counts['vae_decoder'])} parameters) turns the "
        f"final latent into a {shape(size, size, 3)} image.",
    )
    svg.text(20, 34, "Stable Diffusion 1.4: three models in a row", 20, "start", weight="bold")

    def box(x, y, w, h, title, lines, fill=PALE, stroke=ACCENT):
        svg.rect(x, y, w, h, fill=fill, stroke=stroke)
        svg.text(x + w / 2, y + 26, title, 15, weight="bold")
        for index, line in enumerate(lines):
            svg.text(x + w / 2, y + 48 + 19 * index, line, 13, fill=MUTED)

    def arrow(x1, y1, x2, y2, label, above=True):
        svg.line(x1, y1, x2, y2, stroke=MUTED, width=1.8, arrow=True)
        svg.text((x1 + x2) / 2, (y1 + y2) / 2 + (-8 if above else 18), label, 12, fill=INK, weight="bold")

    # Row 1: text.
    svg.text(24, 108, "“a photograph of an", 14, "start")
    svg.text(24, 126, "astronaut riding a horse”", 14, "start")
    box(228, 80, 172, 70, "Tokenizer", ["CLIP BPE, 49,408 pieces"], fill=PALE_GREY, stroke=LINE)
    box(470, 70, 210, 90, "CLIP text encoder", ["ViT-L/14 text half, frozen", f"{counts['text_encoder']:,} parameters"])
    arrow(204, 115, 226, 115, "")
    arrow(400, 115, 468, 115, f"{tokens} ids")
    svg.rect(760, 78, 200, 74, fill=CARD, stroke=ACCENT, rx=4, extra=' stroke-dasharray="4 3"')
    svg.text(860, 108, "text embedding", 14, weight="bold")
    svg.text(860, 130, shape(tokens, hidden), 14, fill=ACCENT, weight="bold")
    arrow(680, 115, 758, 115, "")

    # Row 2: the denoising loop.
    svg.rect(40, 250, 170, 80, fill=PALE_GREY, stroke=LINE)
    svg.text(125, 282, "random noise", 15, weight="bold")
    svg.text(125, 304, f"latent {shape(channels, side, side)}", 13, fill=MUTED)
    box(330, 230, 300, 120, "UNet denoiser", [f"{counts['unet']:,} parameters",
                                              f"run {steps} times: one step each", "2 predictions per step (guidance)"],
        fill=PALE_WARM, stroke=WARM)
    arrow(210, 290, 328, 290, shape(channels, side, side))
    svg.path("M 860 152 L 860 200 L 480 200 L 480 228", stroke=ACCENT, width=1.8, arrow=True)
    svg.text(675, 193, f"read at every step through cross-attention ({shape(tokens, hidden)})", 12, fill=ACCENT)
    svg.path("M 600 350 C 600 405 360 405 360 354", stroke=WARM, width=1.8, arrow=True)
    svg.text(480, 420, f"× {steps} steps: each step's latent goes back in, a little less noisy", 12, "middle", WARM, "bold")

    # Row 2, right: decode.
    box(730, 250, 150, 80, "VAE decoder", [f"{counts['vae_decoder']:,}", "parameters"])
    if thumbnails:
        svg.image(905, 256, 68, 68, thumbnails["image"])
        svg.image(40, 338, 56, 56, thumbnails["noise"])
        svg.text(104, 362, "this run's noise,", 12, "start", MUTED)
        svg.text(104, 378, "decoded", 12, "start", MUTED)
        if "credit" in thumbnails:
            for index, line in enumerate(thumbnails["credit"]):
                svg.text(20, 464 + 16 * index, line, 12, "start", WARM)
    else:
        svg.rect(905, 256, 68, 68, fill="#e3f2fd", stroke=INK, rx=4)
        svg.path("M 907 322 L 930 290 L 945 305 L 955 295 L 971 322 Z", stroke="none", fill="#81c784")
        svg.circle(955, 275, 7, fill="#ffb300")
    svg.text(939, 346, "image", 13, weight="bold")
    svg.text(939, 362, shape(size, size, 3), 12, fill=MUTED)
    arrow(630, 290, 728, 290, shape(channels, side, side))
    arrow(880, 290, 903, 290, "")
    svg.text(
        20, 446,
        f"The whole VAE (encoder too, used in training and image-to-image) has {counts['vae']:,} parameters. "
        f"All numbers are computed from SD 1.4's configuration.",
        12, "start", MUTED,
    )
    info = svg.save(destination)
    return {**info, "parameters": counts, "thumbnails": sorted(k for k in thumbnails if k != "credit") if thumbnails else []}


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
    svg.text(20, 34, f"{pixels:,} numbers become {latent:,}: {ratio:g} times fewer", 20, "start", weight="bold")
    # Three colour planes of the image, each size x size, offset to suggest a stack.
    plane = size * scale
    for index, colour in enumerate(("#ef9a9a", "#a5d6a7", "#90caf9")):
        svg.rect(40 + index * 14, 70 + index * 14, plane, plane, fill=colour, stroke=INK, rx=0, stroke_width=1)
    svg.text(40 + plane / 2 + 14, 70 + plane + 50, f"image: {shape(size, size, 3)} = {pixels:,}", 15, weight="bold")
    # Latent: four planes of side x side, drawn at the same number-per-area scale.
    latent_plane = plane * side / size  # same area per number as the image planes
    for index in range(channels):
        svg.rect(520 + index * 40, 200, latent_plane, latent_plane, fill="#b39ddb", stroke=INK, rx=0, stroke_width=1)
    svg.text(520, 290, f"latent: {shape(channels, side, side)} = {latent:,}", 15, "start", weight="bold")
    svg.text(520, 330, "Each square has the same area per number,", 13, "start", MUTED)
    svg.text(520, 348, "so the areas compare the amounts of data.", 13, "start", MUTED)
    svg.text(520, 380, f"Per side: {size} → {side} pixels (÷ {size // side});", 13, "start", MUTED)
    svg.text(520, 398, f"per position: 3 colours → {channels} channels.", 13, "start", MUTED)
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
        1000, 600,
        "The UNet of Stable Diffusion 1.4",
        f"The latent goes down through four stages at {', '.join(str(s[1]) for s in stages[:4])} pixels a side "
        f"with {', '.join(str(s[2]) for s in stages[:4])} channels, through a middle stage at {mid_side} by "
        f"{mid_side}, and back up to {side} by {side}. Skip connections carry each down stage's output across to "
        f"the up stage of the same size. Cross-attention, where the text steers the picture, sits in every stage "
        f"except the lowest down stage and the first up stage. {total:,} parameters in all.",
    )
    svg.text(20, 34, f"The UNet: {total:,} parameters, shaped like a U", 20, "start", weight="bold")
    box_w, box_h = 230, 74
    level_y = [70, 170, 270, 370]
    positions = {}
    for index in range(4):
        positions[f"down {index + 1}"] = (40 + index * 30, level_y[index])
        positions[f"up {4 - index}"] = (730 - index * 30, level_y[index])
    positions["middle"] = (385, 470)
    for name, resolution, channels, attention, parameters in stages:
        x, y = positions[name]
        fill, stroke = (PALE_WARM, WARM) if attention else (PALE, ACCENT)
        svg.rect(x, y, box_w, box_h, fill=fill, stroke=stroke)
        svg.text(x + box_w / 2, y + 22, f"{name}: {resolution} × {resolution} × {channels}", 14, weight="bold")
        svg.text(x + box_w / 2, y + 42, "with cross-attention (reads the text)" if attention else "no attention", 12,
                 fill=WARM if attention else MUTED)
        svg.text(x + box_w / 2, y + 61, f"{parameters:,} parameters", 12, fill=MUTED)
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
    svg.text(500, 150, "skip connections (dashed): detail carried across the U", 12, fill=MUTED)
    svg.text(
        20, 580,
        f"Halving the size at each step down: {side} → {side // 2} → {side // 4} → {side // 8}, then doubling back. "
        f"Input and output layers and the timestep embedding: {edges:,} parameters.",
        12, "start", MUTED,
    )
    info = svg.save(destination)
    return {**info, "total_parameters": total, "stages": [list(stage) for stage in stages], "edge_parameters": edges}
