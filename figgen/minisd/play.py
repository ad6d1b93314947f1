"""mini-sd for the Play page: exported to ONNX for the browser, and the same run in Python.

    python -m figgen.minisd.play export [--model models/mini-sd] [--out docs/play/model]   (`make play-model`)
    python -m figgen.minisd.play reference --prompt "..." --seed 1 --steps 20 --guidance 7.5 --out picture.png

The Play page (docs/play/index.md, engine.js, play.js) runs mini-sd in the
reader's browser with onnxruntime-web. `export` writes what it loads:

- text_encoder.onnx.gz: token ids (2, 77), the prompt's and the empty
  prompt's, to the text embeddings (2, 77, 64);
- unet.onnx.gz: latents (2, 4, 8, 8), a timestep and the embeddings (the
  empty prompt's first, as the diffusers pipeline orders them) to the
  predicted noise (2, 4, 8, 8) and, for the prompt's half, the
  cross-attention map of every token (77, 8, 8), averaged over heads and
  layers exactly as figgen's CrossAttentionRecorder does;
- vae_decoder.onnx.gz: latents (n, 4, 8, 8) to pictures (n, 3, 64, 64) in
  [0, 1], as the pipeline's decode and image processor give them;
- tokenizer.json.gz, tokenizer_config.json: mini-sd's own tokenizer files;
- play.json: the scheduler config, the latent shape, the words mini-sd
  learned, the files and their sizes, and the versions that exported them.

mini-sd's weights are float16; the ONNX files store every weight that
float16 holds exactly as float16, with a Cast to float32 in front, so the
browser computes in float32 on the very same numbers as Python does on the
CPU while the download stays half the size.

Starting noise. The Play page cannot use torch's CPU generator, so its
seed means something else: `play_noise(seed)` below, which the page
implements line for line in JavaScript (PCG32 random integers, turned into
Gaussian numbers by the Box-Muller transform). So seed 1 on the Play page
is not seed 1 in figgen's figures. `reference` passes exactly that noise
to the diffusers pipeline as its `latents`, with the DDIM scheduler made
from mini-sd's shipped scheduler config, as figgen's captures make it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from ..models import MINI_SD_FOLDER

ROOT = Path(__file__).resolve().parents[2]
PLAY_MODEL_FOLDER = ROOT / "docs" / "play" / "model"
LATENT_SHAPE = (4, 8, 8)
MAX_TOKENS = 77
# What the page starts with; its preview picture is this run.
PLAY_DEFAULTS = {"prompt": "a yellow triangle on a blue background", "seed": 1, "steps": 20, "guidance": 7.5}

# PCG32 (M. E. O'Neill, "PCG: A family of simple fast space-efficient
# statistically good algorithms for random number generation", 2014), the
# XSH-RR variant with 64-bit state. The stream constant is ours; the page uses the same.
PCG_MULTIPLIER = 6364136223846793005
PCG_STREAM = 1442695040888963407
MASK64 = (1 << 64) - 1


class Pcg32:
    """PCG32 XSH-RR: 64-bit state, 32-bit output. Seeded as the PCG paper's pcg32_srandom."""

    def __init__(self, seed: int):
        self.increment = PCG_STREAM | 1
        self.state = 0
        self.next()
        self.state = (self.state + (seed & MASK64)) & MASK64
        self.next()

    def next(self) -> int:
        old = self.state
        self.state = (old * PCG_MULTIPLIER + self.increment) & MASK64
        xorshifted = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rotation = old >> 59
        return ((xorshifted >> rotation) | (xorshifted << ((-rotation) & 31))) & 0xFFFFFFFF


def play_noise(seed: int, count: int = int(np.prod(LATENT_SHAPE))) -> np.ndarray:
    """The Play page's starting noise for `seed`: `count` float32 Gaussian numbers.

    Each pair of PCG32 outputs a, b becomes two uniform numbers
    u = (a + 0.5) / 2^32 and v = (b + 0.5) / 2^32 (never 0 or 1), then two
    Gaussian numbers by Box-Muller: r = sqrt(-2 ln u), r cos(2 pi v) and
    r sin(2 pi v), computed in double precision and rounded to float32.
    """
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed {seed}: the Play page's seeds are whole numbers from 0 to 4294967295")
    generator = Pcg32(seed)
    values = []
    while len(values) < count:
        u = (generator.next() + 0.5) / 2**32
        v = (generator.next() + 0.5) / 2**32
        radius = math.sqrt(-2.0 * math.log(u))
        values += [radius * math.cos(2.0 * math.pi * v), radius * math.sin(2.0 * math.pi * v)]
    return np.array(values[:count], dtype=np.float32)


def play_latents(seed: int):
    """The starting latents (1, 4, 8, 8) of a Play run, as a torch tensor."""
    import torch

    return torch.from_numpy(play_noise(seed).reshape(1, *LATENT_SHAPE))


# ----------------------------------------------------------------------------- export

def write_gzip(path: Path, data: bytes) -> Path:
    """Write `data` gzip-compressed (no timestamp, so the same data gives the same file), atomically.

    The page fetches these files and unpacks them with the browser's own
    DecompressionStream; any static host serves them as they are.
    """
    import gzip

    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as packed:
        packed.write(data)
    temporary.replace(path)
    return path


class AttentionMaps:
    """Cross-attention processors that also hand back where each token's attention falls.

    Each cross-attention layer ("attn2") gets a processor that runs the
    layer's own processor and, as figgen's capture.CrossAttentionRecorder
    does, recomputes the softmax over the 77 tokens from the layer's query
    and key projections, for the prompt's half of the batch, averaged over
    heads and resized to the latent's size (the test compares the two). The UNet wrapper averages the
    layers' maps.
    """

    def __init__(self, unet, side: int):
        self.side, self.maps = side, []
        processors = dict(unet.attn_processors)
        unet.set_attn_processor(
            {name: self.wrap(processor) if name.endswith("attn2.processor") else processor
             for name, processor in processors.items()}
        )

    def wrap(self, processor):
        maps, side = self.maps, self.side

        def run(attn, hidden_states, encoder_hidden_states=None, *args, **kwargs):
            import torch
            import torch.nn.functional as F

            # The prompt's half only (the last in the batch). softmax(q k^T * scale) is what
            # attn.get_attention_scores computes; written out, because its baddbmm would put an
            # uninitialised (batch * heads, positions, tokens) tensor into the exported graph.
            query = attn.head_to_batch_dim(attn.to_q(hidden_states[-1:]))
            key = attn.head_to_batch_dim(attn.to_k(encoder_hidden_states[-1:]))
            probs = (torch.matmul(query, key.transpose(-1, -2)) * attn.scale).softmax(dim=-1).mean(0)
            side_here = math.isqrt(int(probs.shape[0]))
            grid = probs.T.reshape(1, probs.shape[1], side_here, side_here)
            maps.append(F.interpolate(grid, size=(side, side), mode="bilinear", align_corners=False)[0])
            return processor(attn, hidden_states, encoder_hidden_states, *args, **kwargs)

        return run


def export_modules(pipe):
    """The three torch modules that are exported, each with example inputs and its input/output names."""
    import torch

    side = LATENT_SHAPE[1]
    maps = AttentionMaps(pipe.unet, side)

    class TextEncoder(torch.nn.Module):
        def __init__(self, text_encoder):
            super().__init__()
            self.text_encoder = text_encoder

        def forward(self, input_ids):
            return self.text_encoder(input_ids)[0]

    class UNet(torch.nn.Module):
        def __init__(self, unet):
            super().__init__()
            self.unet = unet

        def forward(self, latents, timestep, text_embeddings):
            maps.maps.clear()
            noise = self.unet(latents, timestep, encoder_hidden_states=text_embeddings).sample
            return noise, torch.stack(maps.maps).mean(0)

    class Decoder(torch.nn.Module):
        def __init__(self, vae):
            super().__init__()
            self.vae = vae
            self.scaling_factor = float(vae.config.scaling_factor)

        def forward(self, latents):
            decoded = self.vae.decode(latents / self.scaling_factor).sample
            return (decoded / 2 + 0.5).clamp(0, 1)  # as the pipeline's image processor does

    ids = torch.full((2, MAX_TOKENS), pipe.tokenizer.pad_token_id, dtype=torch.int64)
    embeddings = torch.zeros(2, MAX_TOKENS, pipe.text_encoder.config.hidden_size)
    latents = torch.zeros(2, *LATENT_SHAPE)
    return [
        ("text_encoder", TextEncoder(pipe.text_encoder), (ids,), ["input_ids"], ["text_embeddings"], None),
        ("unet", UNet(pipe.unet), (latents, torch.tensor([981], dtype=torch.int64), embeddings),
         ["latents", "timestep", "text_embeddings"], ["noise", "attention"], None),
        ("vae_decoder", Decoder(pipe.vae), (latents,), ["latents"], ["pictures"],
         {"latents": {0: "count"}}),
    ]


def drop_duplicate_weights(graph) -> int:
    """Keep one copy of weights that the graph holds twice (the attention maps reuse the layers' own
    query and key projections, which tracing records as separate constants). Returns how many went."""
    first, renamed, kept = {}, {}, []
    for tensor in graph.initializer:
        key = (tensor.data_type, tuple(tensor.dims), tensor.raw_data or tensor.SerializeToString())
        if key in first:
            renamed[tensor.name] = first[key]
        else:
            first[key] = tensor.name
            kept.append(tensor)
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name in renamed:
                node.input[index] = renamed[name]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return len(renamed)


def store_weights_as_float16(model) -> tuple[int, int]:
    """Store each float32 weight that float16 holds exactly as float16, cast back to float32 in the graph.

    Returns (weights stored as float16, weights left in float32).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    drop_duplicate_weights(graph)
    kept, casts, halved, left = [], [], 0, 0
    for tensor in graph.initializer:
        values = numpy_helper.to_array(tensor)
        if tensor.data_type == TensorProto.FLOAT and values.size > 16:
            half = values.astype(np.float16)
            if np.array_equal(half.astype(np.float32), values):
                kept.append(numpy_helper.from_array(half, tensor.name + "_float16"))
                casts.append(helper.make_node("Cast", [tensor.name + "_float16"], [tensor.name],
                                              to=TensorProto.FLOAT, name=tensor.name + "_to_float32"))
                halved += 1
                continue
            left += 1
        kept.append(tensor)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return halved, left


def export(model_folder: Path = MINI_SD_FOLDER, out: Path = PLAY_MODEL_FOLDER) -> dict:
    """Export mini-sd for the Play page into `out`; returns the description written to play.json."""
    import onnx
    import torch

    from ..cache import versions
    from ..models import load_pipeline, local_folder
    from . import world

    started = time.perf_counter()
    source = local_folder(str(model_folder))
    pipe = load_pipeline(source, "cpu", "float32")
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, module, inputs, input_names, output_names, dynamic in export_modules(pipe):
        print(f"play-model: exporting {name}", flush=True)
        temporary = out / f".{name}.onnx.tmp"
        with torch.no_grad():
            torch.onnx.export(module.eval(), inputs, str(temporary), input_names=input_names,
                              output_names=output_names, dynamic_axes=dynamic, opset_version=17,
                              dynamo=False, do_constant_folding=True)
        model = onnx.load(str(temporary))
        temporary.unlink()
        halved, left = store_weights_as_float16(model)
        path = write_gzip(out / f"{name}.onnx.gz", model.SerializeToString())
        files[path.name] = path.stat().st_size
        print(f"play-model:   {path.name}: {path.stat().st_size / 1e6:.2f} MB "
              f"({halved} weights stored as float16, {left} kept in float32)", flush=True)
    # mini-sd's own tokenizer files; tokenizer.json written without indentation (the same JSON) and compressed.
    tokenizer_json = json.loads((model_folder / "tokenizer" / "tokenizer.json").read_text())
    path = write_gzip(out / "tokenizer.json.gz", json.dumps(tokenizer_json, ensure_ascii=False, separators=(",", ":")).encode())
    files[path.name] = path.stat().st_size
    path = out / "tokenizer_config.json"
    path.write_text((model_folder / "tokenizer" / "tokenizer_config.json").read_text())
    files[path.name] = path.stat().st_size
    scheduler = {k: v for k, v in pipe.scheduler.config.items() if not k.startswith("_")}
    words = sorted({word for combination in world.ALL_COMBINATIONS for word in world.caption(*combination).split()})
    description = {
        "model": "mini-sd",
        "revision": source.revision,
        "scheduler_config": scheduler,
        "scheduler_class": type(pipe.scheduler).__name__,
        "latent_shape": list(LATENT_SHAPE),
        "picture_size": int(pipe.vae.config.sample_size),
        "max_tokens": MAX_TOKENS,
        "known_words": words,
        "defaults": PLAY_DEFAULTS,
        "files": files,
        "versions": versions(),
        "export_seconds": round(time.perf_counter() - started, 1),
    }
    print("play-model: drawing the page's preview (its default run, in Python)", flush=True)
    write_preview(out / "preview.webp", **PLAY_DEFAULTS, model_folder=model_folder)
    (out / "play.json").write_text(json.dumps(description, indent=1) + "\n")
    total = sum(files.values())
    print(f"play-model: wrote {len(files)} files, {total / 1e6:.2f} MB, into {out}", flush=True)
    return description


# ----------------------------------------------------------------------------- reference run

def reference_run(prompt: str, seed: int, steps: int, guidance: float, model_folder: Path = MINI_SD_FOLDER,
                  every_step: bool = False) -> dict:
    """The Play page's run in Python: figgen's recorded pipeline run, with DDIM and the page's starting noise.

    Returns numpy arrays: "picture" (64, 64, 3) uint8, "timesteps",
    "alphas_cumprod" (the scheduler's whole table), "input_ids"; with
    `every_step`, also each step's decoded x_t and predicted x0
    ("decoded_latents", "decoded_pred_original_sample").
    """
    import torch

    from ..capture import decode_latents, predicted_original, recording_steps
    from ..models import load_pipeline, local_folder

    pipe = load_pipeline(local_folder(str(model_folder)), "cpu", "float32")
    pipe.set_progress_bar_config(disable=True)
    size = pipe.vae.config.sample_size
    with recording_steps(pipe, "ddim") as (scheduler, records), torch.no_grad():
        pictures = pipe(prompt, num_inference_steps=steps, guidance_scale=guidance, latents=play_latents(seed),
                        height=size, width=size, output_type="np").images
        ids = pipe.tokenizer(prompt, padding="max_length", max_length=MAX_TOKENS, truncation=True).input_ids
    timesteps = torch.tensor([record["timestep"] for record in records])
    result = {
        "picture": (pictures[0] * 255).round().astype(np.uint8),
        "timesteps": timesteps.numpy(),
        "alphas_cumprod": scheduler.alphas_cumprod.float().numpy(),
        "input_ids": np.array(ids),
    }
    if every_step:
        latents = torch.cat([record["latents"] for record in records]).float()
        noise = torch.cat([record["noise_pred"] for record in records]).float()
        x0 = predicted_original(latents, noise, scheduler.alphas_cumprod[timesteps].float().view(-1, 1, 1, 1))
        decoded = decode_latents(pipe, torch.cat([latents, x0]), 16)
        result["decoded_latents"], result["decoded_pred_original_sample"] = decoded[:steps], decoded[steps:]
    return result


def write_preview(destination: Path, *, prompt: str, seed: int, steps: int, guidance: float,
                  model_folder: Path = MINI_SD_FOLDER) -> None:
    """The picture the Play page shows before its model has loaded (or without JavaScript): its default
    run, drawn by Python, as Part 1's denoise figure draws a run."""
    from ..figures.denoise import sequence
    from ..record import Capture

    run = reference_run(prompt, seed, steps, guidance, model_folder, every_step=True)
    shown = sorted({1, steps // 4, steps // 2, 3 * steps // 4, steps} - {0})
    sequence(Capture(arrays=run, meta={}), destination, show_steps=shown, tile_size=128, lossless=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m figgen.minisd.play", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    exporting = commands.add_parser("export", help="export mini-sd to ONNX for the Play page")
    exporting.add_argument("--model", type=Path, default=MINI_SD_FOLDER)
    exporting.add_argument("--out", type=Path, default=PLAY_MODEL_FOLDER)
    running = commands.add_parser("reference", help="the Play page's run in Python; its final picture saved as a PNG")
    running.add_argument("--model", type=Path, default=MINI_SD_FOLDER)
    running.add_argument("--prompt", required=True)
    running.add_argument("--seed", type=int, default=1)
    running.add_argument("--steps", type=int, default=20)
    running.add_argument("--guidance", type=float, default=7.5)
    running.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "export":
        export(args.model, args.out)
    else:
        from PIL import Image

        run = reference_run(args.prompt, args.seed, args.steps, args.guidance, args.model)
        Image.fromarray(run["picture"]).save(args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
