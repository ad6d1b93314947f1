"""The capture cache: captured tensors on disk, keyed by everything that decides them.

A capture's key is a hash of the model (hub id and commit, or a content hash
of a local folder), the capture spec (prompt, seed, steps, ...), the versions
of torch, diffusers and transformers, and CAPTURE_FORMAT. Change any of them
and the key changes, so the capture runs again; change none and the cached
tensors are used without loading any model.

The device and dtype are recorded in each capture but are not part of the
key: figures rendered on a GPU in fp16 stay current when figgen later runs
on a CPU. Pass --force and delete the cache folder to capture again.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from .catalogue import CaptureSpec
from .models import ModelSource
from .outputs import atomic_path
from .record import Capture

# Bump when capture.py changes what it records.
CAPTURE_FORMAT = 1


def library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def base_version(version: str) -> str:
    """'2.13.0+cpu' -> '2.13.0': the build tag says which device, not which numerics."""
    return version.split("+", 1)[0]


def versions() -> dict:
    """Library versions that go into provenance (full) and keys (without build tags)."""
    return {name: library_version(name) for name in ("torch", "diffusers", "transformers", "pillow", "numpy")}


def stable_hash(data) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def capture_key(spec: CaptureSpec, source: ModelSource) -> str:
    libraries = versions()
    return stable_hash(
        {
            "format": CAPTURE_FORMAT,
            "model": source.identity(),
            "spec": spec.as_dict(),
            "versions": {name: base_version(libraries[name]) for name in ("torch", "diffusers", "transformers")},
        }
    )


def capture_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / "captures" / f"{key}.safetensors"


def save_capture(path: Path, capture: Capture) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    with atomic_path(path) as temporary:
        # safetensors writes each array's memory as it lies: make every one C-ordered first.
        arrays = {name: np.ascontiguousarray(array) for name, array in capture.arrays.items()}
        save_file(arrays, str(temporary), metadata={"meta": json.dumps(capture.meta)})


def load_capture(path: Path) -> Capture | None:
    """The capture at `path`, or None if there is none. A file that cannot be read raises ValueError, which
    names it; the caller reports it and captures again (the new capture replaces the file)."""
    from safetensors import safe_open

    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="numpy") as handle:
            meta = json.loads(handle.metadata()["meta"])
            arrays = {name: handle.get_tensor(name) for name in handle.keys()}
    except Exception as error:  # truncated, not safetensors, no metadata: all mean "capture again"
        raise ValueError(f"cache entry {path} cannot be read ({type(error).__name__}: {error})") from None
    return Capture(arrays=arrays, meta=meta)


def remove_stale_captures(cache_dir: Path) -> list[Path]:
    """Delete files in the captures folder that are not finished captures: temporaries of a killed run."""
    folder = cache_dir / "captures"
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if p.is_file() and not (p.suffix == ".safetensors" and not p.name.startswith("."))]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
