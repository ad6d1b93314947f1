"""The noise schedule (Parts 1 and 4): how much picture and how much noise each timestep keeps.

A noisy latent at timestep t is sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·noise, where
ᾱ_t (alphas_cumprod) comes from SD 1.4's scheduler configuration.
"""

from __future__ import annotations

from pathlib import Path

from .. import sd14
from .palette import ACCENT, INK, LINE, MUTED, WARM
from .svg import Svg, fmt


def noise_schedule(destination: Path, *, steps: int = 50, marked: list[int] = (999, 750, 500, 250, 0)) -> dict:
    pndm, ddim = sd14.schedulers(steps)
    alphas_cumprod = ddim.alphas_cumprod.double()
    signal = alphas_cumprod.sqrt().tolist()
    noise = (1 - alphas_cumprod).sqrt().tolist()
    count = len(signal)

    left, top, plot_w, plot_h = 64, 132, 570, 250  # drawn at the text column's own width: a unit is a pixel
    svg = Svg(
        688, 516,
        "SD 1.4's noise schedule",
        f"How much of the picture (the square root of alpha-bar) and how much noise remain at each of {count} "
        f"training timesteps, with the {steps} timesteps that a {steps}-step DDIM run visits. The two amounts "
        "do not add up to 1: their squares do.",
    )

    def x(t: float) -> float:
        return left + plot_w * t / (count - 1)

    def y(value: float) -> float:
        return top + plot_h * (1 - value)

    svg.text(16, 26, f"Picture and noise across SD 1.4's {count} timesteps", 18, "start", weight="bold")
    for index, (label, colour) in enumerate((("the picture is scaled by", ACCENT), ("the noise is scaled by", WARM))):
        svg.line(16 + 300 * index, 50, 44 + 300 * index, 50, stroke=colour, width=3)
        svg.text(52 + 300 * index, 55, label, 14, "start", colour, "bold")
    svg.text(16, 80, "Above the chart, at five timesteps: picture | noise. Their squares add up to 1.", 13, "start", MUTED)
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        svg.line(left, y(tick), left + plot_w, y(tick), stroke="#eeeeee")
        svg.text(left - 8, y(tick) + 5, f"{tick:g}", 13, "end", MUTED)
    for t in range(0, count + 1, 200):
        t = min(t, count - 1)
        svg.text(x(t), top + plot_h + 19, str(t), 13, "middle", MUTED)
    svg.line(left, top + plot_h, left + plot_w, top + plot_h, stroke=INK)
    svg.line(left, top, left, top + plot_h, stroke=INK)
    svg.text(left + plot_w / 2, top + plot_h + 40, "timestep, t (0 = the clean picture, 999 = almost pure noise)", 14,
             weight="bold")
    svg.text(18, top + plot_h / 2, "scaled by (1 = full strength)", 14, weight="bold",
             extra=f' transform="rotate(-90 18 {fmt(top + plot_h / 2)})"')

    svg.polyline([(x(t), y(v)) for t, v in enumerate(signal)], stroke=ACCENT, width=2.5)
    svg.polyline([(x(t), y(v)) for t, v in enumerate(noise)], stroke=WARM, width=2.5)

    shown = {}
    for t in marked:
        svg.circle(x(t), y(signal[t]), 3.5, ACCENT)
        svg.circle(x(t), y(noise[t]), 3.5, WARM)
        svg.text(x(t), top - 26, f"t = {t}", 13, "middle", MUTED)
        svg.text(x(t), top - 10, f"{signal[t]:.2f} | {noise[t]:.2f}", 13, "middle", MUTED)
        shown[t] = (round(signal[t], 3), round(noise[t], 3))

    rows = [(f"the {steps} timesteps a {steps}-step run visits (DDIM: every {count // steps}th)", [int(t) for t in ddim.timesteps], ACCENT)]
    row_top = top + plot_h + 76
    for index, (name, timesteps, colour) in enumerate(rows):
        row_y = row_top + index * 44
        svg.text(left, row_y, name, 14, "start", INK)
        for t in timesteps:
            svg.line(x(t), row_y + 8, x(t), row_y + 24, stroke=colour, width=2)
    svg.line(left, row_top + 24, left + plot_w, row_top + 24, stroke=LINE, width=0.5)
    info = svg.save(destination)
    return {
        **info,
        "values_shown": {str(t): list(v) for t, v in shown.items()},
        "ddim_timesteps": rows[0][1],
        "pndm_timesteps": [int(t) for t in pndm.timesteps],
    }
