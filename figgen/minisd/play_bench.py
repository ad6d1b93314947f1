"""How fast the Play page runs mini-sd, in headless Chromium on this machine's CPU (`make play-bench`).

    python -m figgen.minisd.play_bench [--runs 3] [--steps 30] [--guidance 7.5]

Builds the site into a temporary folder, serves it on 127.0.0.1, opens the
Play page in Debian's Chromium and times, after the model has loaded:

- a generation as the page runs it: the guided denoiser (prompt and empty
  prompt in one batch of 2) at every step, plus both pictures of every step
  decoded for display;
- the same generation without the pictures of each step (only the final one).

Each is run --runs times; the best and the median are printed. Nothing is
asserted: other work on the machine changes the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..sitecheck import chromium, serve
from .play import PLAY_DEFAULTS, ROOT

TIMED_RUN = """async ([settings, decodeEvery]) => {
    const started = performance.now();
    await window.play.model.generate({...settings, decodeEvery});
    return (performance.now() - started) / 1000;
}"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m figgen.minisd.play_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--guidance", type=float, default=7.5)
    parser.add_argument("--prompt", default=PLAY_DEFAULTS["prompt"])
    args = parser.parse_args(argv)
    settings = {"prompt": args.prompt, "seed": 1, "steps": args.steps, "guidance": args.guidance}

    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site"
        built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                               cwd=ROOT, capture_output=True, text=True)
        if built.returncode != 0:
            print(built.stderr, file=sys.stderr)
            print("play-bench: the site did not build (above); fix that first", file=sys.stderr)
            return 1
        with serve(site) as base, chromium() as browser:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            started = time.perf_counter()
            page.goto(base + "play/", wait_until="load")
            page.wait_for_function("() => ['ready', 'error'].includes(document.body.dataset.playState)", timeout=60_000)
            if page.evaluate("document.body.dataset.playState") != "ready" or errors:
                print(f"play-bench: the page did not load: {page.inner_text('#play-status')} {errors}", file=sys.stderr)
                return 1
            ready = time.perf_counter() - started
            load = page.evaluate("async () => { const t = performance.now(); await window.play.model.loadNetworks();"
                                 " return (performance.now() - t) / 1000; }")
            print(f"Play page, headless Chromium, {args.steps} steps, guidance {args.guidance}, prompt {args.prompt!r}")
            print(f"  page ready (vocabulary read): {ready:.2f} s; model and runtime loaded: {load:.2f} s")
            for label, decode_every in (("as the page runs it (both pictures decoded at every step)", True),
                                        ("denoising only (final picture decoded)", False)):
                times = [page.evaluate(TIMED_RUN, [settings, decode_every]) for _ in range(args.runs)]
                print(f"  {label}: best {min(times):.2f} s, median {statistics.median(times):.2f} s "
                      f"(runs: {', '.join(f'{t:.2f}' for t in times)})")
            clicks = []
            page.fill("#play-prompt", args.prompt)
            page.fill("#play-steps", str(args.steps))
            page.fill("#play-guidance", str(args.guidance))
            for _ in range(args.runs):
                page.evaluate("document.body.dataset.playState = 'ready'")
                started = time.perf_counter()
                page.click("#play-go")
                page.wait_for_function("() => ['done', 'error'].includes(document.body.dataset.playState)", timeout=120_000)
                clicks.append(time.perf_counter() - started)
            print(f"  through the page (button to finished, drawing every step): best {min(clicks):.2f} s, "
                  f"median {statistics.median(clicks):.2f} s (runs: {', '.join(f'{t:.2f}' for t in clicks)})")
            unet = page.evaluate("""async () => {
                const model = window.play.model, ort = model.unet, n = model.latentSize;
                const embeddings = await model.encode('a red circle');
                const feeds = {latents: new (embeddings.constructor)('float32', new Float32Array(2 * n), [2, ...model.latentShape]),
                               timestep: new (embeddings.constructor)('int64', BigInt64Array.of(500n), [1]),
                               text_embeddings: embeddings};
                const t = performance.now();
                for (let i = 0; i < 30; i++) await ort.run(feeds);
                return (performance.now() - t) / 30;
            }""")
            print(f"  one guided UNet call (batch of 2): {unet:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
