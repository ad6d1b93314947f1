"""`figgen-bench` / `make bench`: the numbers behind figgen's speed and memory targets.

Prints, for one model on one device:

1. capture overhead: one generation through figgen's capture (every step
   recorded, final latent decoded) against a plain `pipe(prompt)` call, in
   the same process, and separately the cost of decoding every step;
2. UNet iterations per second at the capture size with classifier-free
   guidance (batch 1, so 2 latents per UNet call), and peak GPU memory;
3. `figgen render` for the whole catalogue: cold (empty cache and figures
   folder) and warm (nothing changed), as wall times.

Without --model it builds the tiny random pipeline, so that it always runs
on a CPU; on a GPU, pass a folder made by `build_sd14_random_pipeline` (or
SD 1.4 itself) to measure the real thing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(function, repeat: int = 1) -> float:
    import torch

    best = float("inf")
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        started = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="figgen-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a diffusers folder (default: build the tiny random pipeline)")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--size", type=int, default=None, help="image side in pixels (default: the model's own)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-render", action="store_true", help="skip the cold/warm figgen render timing")
    args = parser.parse_args(argv)

    import torch

    from .capture import decode_latents, run_capture
    from .catalogue import CaptureSpec
    from .models import load_pipeline, local_folder, pick_device
    from .tiny import build_tiny_pipeline

    workdir = Path(tempfile.mkdtemp(prefix="figgen-bench-"))
    folder = Path(args.model) if args.model else build_tiny_pipeline(workdir / "tiny-model")
    source = local_folder(str(folder))
    device, dtype = pick_device(args.device)
    print(f"model: {folder} ({'tiny random pipeline' if not args.model else 'given'}); device {device}, {dtype}", flush=True)
    pipe = load_pipeline(source, device, dtype)
    pipe.set_progress_bar_config(disable=True)
    size = args.size or pipe.unet.config.sample_size * pipe.vae_scale_factor
    prompt = "a photograph of an astronaut riding a horse"
    spec = CaptureSpec(name="bench", prompt=prompt, seed=0, steps=args.steps, guidance_scale=7.5,
                       scheduler="pndm", height=size, width=size, decode_steps=False)

    def plain():
        pipe(prompt, num_inference_steps=args.steps, guidance_scale=7.5, height=size, width=size,
             generator=torch.Generator("cpu").manual_seed(0))

    def captured():
        run_capture(pipe, spec, source, device, dtype)

    plain()  # warm up kernels and caches
    plain_s, capture_s = timed(plain, args.repeat), timed(captured, args.repeat)
    print(f"1. capture overhead ({args.steps} steps, PNDM, guidance 7.5, {size}x{size}):")
    print(f"   plain pipe(...)          {plain_s:8.3f} s")
    print(f"   figgen capture           {capture_s:8.3f} s   ratio {capture_s / plain_s:.3f} (goal <= 1.05)")
    latents = torch.randn(2 * args.steps, 4, size // pipe.vae_scale_factor, size // pipe.vae_scale_factor)
    decode_s = timed(lambda: decode_latents(pipe, latents, 8), 1)
    print(f"   + decoding x_t and x0 of every step ({len(latents)} images): {decode_s:.3f} s (sequence figures only)")

    unet = pipe.unet
    sample = torch.randn(2, 4, size // pipe.vae_scale_factor, size // pipe.vae_scale_factor, device=device, dtype=unet.dtype)
    text = torch.randn(2, 77, unet.config.cross_attention_dim, device=device, dtype=unet.dtype)
    calls = 20

    def unet_calls():
        with torch.no_grad():
            for _ in range(calls):
                unet(sample, 500, encoder_hidden_states=text)

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    unet_calls()
    seconds = timed(unet_calls, args.repeat)
    print(f"2. UNet: {calls / seconds:.2f} it/s at {size}x{size} with guidance (batch 2 latents per call), {dtype} on {device}")
    if device == "cuda":
        print(f"   peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")

    if not args.skip_render:
        del pipe
        command = [sys.executable, "-m", "figgen", "render", "--model", str(folder), "--device", device,
                   "--figures-dir", str(workdir / "figures"), "--cache-dir", str(workdir / "cache")]
        for label in ("cold", "warm"):
            started = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode:
                print(result.stderr[-2000:], file=sys.stderr)
                return result.returncode
            print(f"3. figgen render, whole catalogue, {label}: {time.perf_counter() - started:.1f} s")
    print(f"(scratch files in {workdir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
