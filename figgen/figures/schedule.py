"""The noise schedule (Parts 1 and 4): how much picture and how much noise each timestep keeps.

A noisy latent at timestep t is sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·noise, where
ᾱ_t (alphas_cumprod) comes from SD 1.4's scheduler configuration.
"""

from __future__ import annotations

from pathlib import Path

from .. import sd14
from .palette import ACCENT, INK, LINE, MUTED, WARM
from .svg import Svg


def noise_schedule(destination: Path, *, steps: int = 50, marked: list[int] = (999, 750, 500, 250, 0)) -> dict:
    pndm, ddim = sd14.schedulers(steps)
    alphas_cumprod = ddim.alphas_cumprod.double()
    signal = alphas_cumprod.sqrt().tolist()
    noise = (1 - alphas_cumprod).sqrt().tolist()
    count = len(signal)

    left, top, plot_w, plot_h = 70, 95, 720, 300
    svg = Svg(
        860, 575,
        "SD 1.4's noise schedule",
        f"How much of the picture (square root of alpha-bar) and how much noise remain at each of {count} "
        f"training timesteps, with the {steps} timesteps that DDIM and PNDM visit.",
    )

    def x(t: float) -> float:
        return left + plot_w * t / (count - 1)

    def y(value: float) -> float:
        return top + plot_h * (1 - value)

    svg.text(left, 24, f"Signal and noise across SD 1.4's {count} training timesteps", 18, "start", weight="bold")
    svg.text(left, 46, "Marked points show their values as: picture | noise", 12, "start", MUTED)
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        svg.line(left, y(tick), left + plot_w, y(tick), stroke="#eeeeee")
        svg.text(left - 8, y(tick) + 4, f"{tick:g}", 12, "end", MUTED)
    for t in range(0, count + 1, 100):
        t = min(t, count - 1)
        svg.text(x(t), top + plot_h + 18, str(t), 12, "middle", MUTED)
    svg.line(left, top + plot_h, left + plot_w, top + plot_h, stroke=INK)
    svg.line(left, top, left, top + plot_h, stroke=INK)
    svg.text(left + plot_w / 2, top + plot_h + 38, "timestep t (0 = clean, 999 = almost pure noise)", 13)

    svg.polyline([(x(t), y(v)) for t, v in enumerate(signal)], stroke=ACCENT, width=2.5)
    svg.polyline([(x(t), y(v)) for t, v in enumerate(noise)], stroke=WARM, width=2.5)
    svg.text(x(120), y(signal[120]) + 22, "picture kept: √ᾱ_t", 14, "start", ACCENT, "bold")
    svg.text(x(560), y(noise[560]) - 14, "noise added: √(1 − ᾱ_t)", 14, "end", WARM, "bold")

    shown = {}
    for t in marked:
        svg.circle(x(t), y(signal[t]), 3.5, ACCENT)
        svg.circle(x(t), y(noise[t]), 3.5, WARM)
        svg.text(x(t), top - 22, f"t = {t}", 11, "middle", MUTED)
        svg.text(x(t), top - 8, f"{signal[t]:.3f} | {noise[t]:.3f}", 11, "middle", MUTED)
        shown[t] = (round(signal[t], 3), round(noise[t], 3))

    rows = [
        ("DDIM", [int(t) for t in ddim.timesteps], ACCENT),
        ("PNDM (SD 1.4's default)", [int(t) for t in pndm.timesteps], WARM),
    ]
    row_top = top + plot_h + 70
    for index, (name, timesteps, colour) in enumerate(rows):
        row_y = row_top + index * 44
        distinct = len(set(timesteps))
        svg.text(left, row_y, f"{name}: {len(timesteps)} UNet calls at {distinct} distinct timesteps", 13, "start", INK)
        for t in timesteps:
            svg.line(x(t), row_y + 8, x(t), row_y + 24, stroke=colour, width=2)
    svg.line(left, row_top + 24, left + plot_w, row_top + 24, stroke=LINE, width=0.5)
    info = svg.save(destination)
    return {
        **info,
        "values_shown": {str(t): list(v) for t, v in shown.items()},
        "ddim_timesteps": rows[0][1],
        "pndm_timesteps": rows[1][1],
    }
