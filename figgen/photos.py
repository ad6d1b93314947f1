"""Real photos for the figures: public-domain samples shipped inside scikit-image."""

from __future__ import annotations

import numpy as np

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def load_photo(name: str, size: int | None = None) -> np.ndarray:
    """A centre-cropped square (size, size, 3) uint8 photo; its own size when `size` is None."""
    import skimage.data
    from PIL import Image

    if name not in PHOTOS:
        raise ValueError(f"photo '{name}' is not one of {', '.join(PHOTOS)}")
    image = getattr(skimage.data, name)()[..., :3]
    side = min(image.shape[:2])
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    image = image[top : top + side, left : left + side]
    if size is not None and side != size:
        image = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.LANCZOS))
    return np.array(image)  # a writable copy
