"""figgen: the figure generator of "Unboxing Stable Diffusion"."""

__version__ = "0.1.0"
