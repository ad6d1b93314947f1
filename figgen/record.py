"""What one capture recorded, as renderers receive it: named numpy arrays and a metadata dict.

A pipeline run (`capture.run_captures`) records:

    timesteps                      (steps,)            the scheduler's timestep at each step
    alphas_cumprod_t               (steps,)            ᾱ_t at each step
    latents                        (steps, 4, h, w)    x_t, the latent the UNet was given
    noise_pred                     (steps, 4, h, w)    the UNet's guided noise prediction
    pred_original_sample           (steps, 4, h, w)    the predicted clean latent x0
    prev_sample                    (steps, 4, h, w)    x_{t-1}, the latent after the step
    final_latents                  (4, h, w)           the latent handed to the VAE
    input_ids                      (77,)               the prompt's token ids
    prompt_embeds                  (77, width)         the text encoder's last hidden state
    image                          (H, W, 3) uint8     the final picture
    decoded_latents                (steps, H, W, 3)    x_t of every step, decoded (decode_steps only)
    decoded_pred_original_sample   (steps, H, W, 3)    x0 of every step, decoded (decode_steps only)
    negative_prompt_embeds         (77, width)         the empty or negative prompt's (guided runs only)
    cross_attention                (77, h, w)          each token's share of attention (attention only)

A photo through the VAE (`capture.run_photo_capture`) records:

    photo                          (H, W, 3) uint8     the photo as it went in
    timesteps, alphas_cumprod_t    (n,)                the timesteps it was noised to, and ᾱ_t
    latents                        (4, h, w)           the photo's latent (scaled)
    noise                          (4, h, w)           the noise added
    noisy_latents                  (n, 4, h, w)        the latent noised to each timestep
    decoded_noisy_latents          (n, H, W, 3) uint8  each noisy latent decoded
    decoded_latents                (H, W, 3) uint8     the clean latent decoded (the round trip)

Which arrays a capture records is decided by its spec (`CaptureSpec.records`
and `PhotoSpec.records` in catalogue.py); which a renderer reads, by its
`@reads(...)`. figgen compares the two before any model loads.
"""

from __future__ import annotations

from dataclasses import dataclass


class MissingArray(KeyError):
    """A renderer asked for an array its capture did not record."""

    def __str__(self) -> str:
        return self.args[0]


@dataclass
class Capture:
    """What one capture recorded: named numpy arrays and a metadata dict (its spec, model, timings)."""

    arrays: dict
    meta: dict

    def require(self, *names: str, figure: str = "") -> None:
        """Raise MissingArray, naming the capture and the fix, unless every array in `names` was recorded."""
        missing = [name for name in names if name not in self.arrays]
        if missing:
            who = f"figure '{figure}' needs" if figure else "needed"
            raise MissingArray(
                f"{who} {', '.join(missing)}, which capture '{self.meta.get('capture', '?')}' did not record; "
                f"it has: {', '.join(sorted(self.arrays))}"
            )


def reads(*names: str):
    """Mark a renderer with the arrays it reads from its capture(s), so figgen can check them before capturing."""

    def mark(function):
        function.reads = frozenset(names)
        return function

    return mark
