"""Finding and loading the Stable Diffusion pipeline that figgen runs.

A model is named by `--model`:

- `sd14`: CompVis/stable-diffusion-v1-4 from the local Hugging Face cache, or
  downloaded from the hub when it is asked for explicitly;
- `mini`: mini-sd, the miniature Stable Diffusion this project trains
  itself (`make mini-model`), committed in models/mini-sd/;
- a path: a local diffusers folder (one with model_index.json), for example
  a copy of SD 1.4, or the tiny random pipeline the tests build.

Without `--model`, SD 1.4 is used when it is in the local Hugging Face
cache, and mini-sd otherwise. All end in the same place: `load_pipeline(folder)`. Resolving a model never
imports torch, so that a run with nothing to do stays fast.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

SD14_REPO = "CompVis/stable-diffusion-v1-4"
MINI_SD = "mini-sd"
# mini-sd's committed folder, beside the figgen package in the project.
MINI_SD_FOLDER = Path(__file__).resolve().parent.parent / "models" / "mini-sd"

# The files of SD 1.4 that figgen loads: configs, tokenizer and the
# safetensors weights of the text encoder, UNet and VAE. The safety checker
# is not loaded: figgen decodes latents itself and never calls it.
SD14_FILES = [
    "model_index.json",
    "scheduler/scheduler_config.json",
    "tokenizer/merges.txt",
    "tokenizer/special_tokens_map.json",
    "tokenizer/tokenizer_config.json",
    "tokenizer/vocab.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
]

HOW_TO_GET_SD14 = (
    "To get SD 1.4's weights (about 4 GB, once): run `make figures` on a machine with "
    f"network access, or `hf download {SD14_REPO}`; if the hub asks, log in with "
    "`hf auth login` and accept the model's licence on its page. Or pass a local "
    "diffusers folder with `--model PATH`."
)


class ModelUnavailable(RuntimeError):
    """The model asked for cannot be used; the message says what is missing and how to fix it."""


@dataclass(frozen=True)
class ModelSource:
    """A model that can be loaded from a local folder, and what identifies it."""

    name: str  # what the user sees: the hub id, "mini-sd", or the folder path
    folder: Path
    revision: str  # the hub commit, or a content hash of a local folder
    kind: str = "folder"  # "sd14", "mini" (mini-sd, which has its own prompts in the catalogue) or "folder"

    def identity(self) -> dict:
        model = {"sd14": SD14_REPO, "mini": MINI_SD}.get(self.kind, "local folder")
        return {"model": model, "revision": self.revision}

    @property
    def variant(self) -> str | None:
        """The catalogue variant of the captures this model runs: "mini" for mini-sd, None for SD 1.4's own."""
        return "mini" if self.kind == "mini" else None


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache: huggingface_hub's own, with HF_HUB_CACHE and HF_HOME read now.

    huggingface_hub reads those variables once, when it is imported; a
    process that changes them later (the tests do) still gets the right folder.
    """
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path(constants.HF_HUB_CACHE)


def cached_sd14() -> ModelSource | None:
    """SD 1.4 from the local hub cache if every file figgen needs is there, else None. Never downloads."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snapshot = Path(snapshot_download(SD14_REPO, allow_patterns=SD14_FILES, local_files_only=True,
                                          cache_dir=hub_cache_dir()))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    if all((snapshot / name).is_file() for name in SD14_FILES):
        return ModelSource(SD14_REPO, snapshot, snapshot.name, "sd14")
    return None


def download_sd14() -> ModelSource:
    """Fetch SD 1.4's files into the hub cache (only those figgen loads)."""
    from huggingface_hub import snapshot_download

    print(f"figgen: downloading {SD14_REPO} into {hub_cache_dir()} (about 4 GB, once)", flush=True)
    try:
        folder = Path(snapshot_download(SD14_REPO, allow_patterns=SD14_FILES, cache_dir=hub_cache_dir()))
    except Exception as error:  # offline, gated, network: all end the same way for the user
        raise ModelUnavailable(
            f"cannot load model 'sd14' ({SD14_REPO}): its weights are not in the local "
            f"Hugging Face cache ({hub_cache_dir()}) and downloading them failed: "
            f"{type(error).__name__}: {error}\n{HOW_TO_GET_SD14}"
        ) from None
    return ModelSource(SD14_REPO, folder, folder.name, "sd14")


def folder_fingerprint(folder: Path, memo_file: Path | None = None) -> str:
    """A hash of every file in a local diffusers folder (names and contents).

    Only what the pipeline loads counts: model_index.json and the files in
    the component folders. Other top-level files (a model card, a training
    log) cannot change a picture, so editing them re-renders nothing.

    Hashing gigabytes takes seconds, so each file's hash is remembered in
    `memo_file` under its path, size and modification time.
    """
    memo: dict = {}
    if memo_file is not None:
        try:
            memo = json.loads(memo_file.read_text())
        except (OSError, json.JSONDecodeError):
            memo = {}
    digest = hashlib.sha256()
    changed = False
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in Path(relative).parts):
            continue
        if "/" not in relative and relative != "model_index.json":
            continue
        stat = path.stat()
        memo_key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        file_hash = memo.get(memo_key)
        if file_hash is None:
            file_digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    file_digest.update(block)
            file_hash = memo[memo_key] = file_digest.hexdigest()
            changed = True
        digest.update(f"{relative}\0{file_hash}\n".encode())
    if changed and memo_file is not None:
        from .outputs import write_json

        write_json(memo_file, memo)
    return digest.hexdigest()[:16]


def local_folder(path: str, memo_file: Path | None = None) -> ModelSource:
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ModelUnavailable(
            f"--model {path}: no such folder. Pass 'sd14' or the path of a diffusers folder "
            "(one that holds model_index.json, as written by save_pretrained)."
        )
    index = folder / "model_index.json"
    if not index.is_file():
        raise ModelUnavailable(
            f"--model {path}: {folder} has no model_index.json, so it is not a diffusers pipeline "
            "folder. Pass the folder that save_pretrained wrote, or 'sd14'."
        )
    try:
        description = json.loads(index.read_text())
    except json.JSONDecodeError as error:
        raise ModelUnavailable(f"--model {path}: {index} is not valid JSON ({error})") from None
    if not isinstance(description, dict):
        raise ModelUnavailable(
            f"--model {path}: {index} holds a JSON {type(description).__name__}, not the object save_pretrained "
            "writes ({\"_class_name\": \"StableDiffusionPipeline\", ...}); restore the folder or pass another."
        )
    pipeline_class = description.get("_class_name")
    if pipeline_class != "StableDiffusionPipeline":
        raise ModelUnavailable(
            f"--model {path}: {index} describes a {pipeline_class}; figgen needs a "
            "StableDiffusionPipeline folder (SD 1.x layout)."
        )
    kind = "mini" if is_mini_sd(folder) else "folder"
    name = MINI_SD if kind == "mini" else str(folder)
    return ModelSource(name, folder.resolve(), folder_fingerprint(folder, memo_file), kind)


def is_mini_sd(folder: Path) -> bool:
    """True for a folder written by mini-sd's training (its training.json says so)."""
    try:
        return json.loads((folder / "training.json").read_text()).get("model") == MINI_SD
    except (OSError, json.JSONDecodeError, AttributeError):
        return False


def mini_sd(memo_file: Path | None = None) -> ModelSource:
    """mini-sd from the project's models/mini-sd folder."""
    if not (MINI_SD_FOLDER / "model_index.json").is_file() or not is_mini_sd(MINI_SD_FOLDER):
        raise ModelUnavailable(
            f"--model mini: mini-sd is not in {MINI_SD_FOLDER}. It is committed with the project; "
            "restore it with `git checkout -- models/mini-sd`, or retrain it with `make mini-model`."
        )
    return local_folder(str(MINI_SD_FOLDER), memo_file)


def resolve_model(model: str | None, memo_file: Path | None = None) -> ModelSource | None:
    """Which model to use.

    With `model` None, SD 1.4 is used if it is already in the local cache,
    mini-sd otherwise, and None is returned when neither is there (the
    caller renders what needs no weights). A model asked for by name must be
    usable, or this raises ModelUnavailable; `sd14` is downloaded when it is
    not cached yet.
    """
    if model is None:
        sd14 = cached_sd14()
        if sd14 is not None:
            return sd14
        try:
            return mini_sd(memo_file)
        except ModelUnavailable:
            return None
    if model == "sd14":
        return cached_sd14() or download_sd14()
    if model == "mini":
        return mini_sd(memo_file)
    return local_folder(model, memo_file)


def pick_device(device: str) -> tuple[str, str]:
    """Resolve `auto|cuda|cpu` to (device, dtype name): fp16 on CUDA, fp32 on CPU."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelUnavailable(
            "--device cuda: torch sees no CUDA GPU here (torch "
            f"{torch.__version__}). Use --device cpu, or install a CUDA build of torch."
        )
    return device, ("float16" if device == "cuda" else "float32")


def load_pipeline(source: ModelSource, device: str, dtype: str):
    """Load a StableDiffusionPipeline from a local folder: safetensors only, no remote code."""
    import torch
    from transformers.utils import logging as transformers_logging

    # Quiet transformers' notes about optional image processors SD never uses.
    transformers_logging.set_verbosity_error()
    from diffusers import StableDiffusionPipeline

    try:
        pipe = StableDiffusionPipeline.from_pretrained(
            source.folder,
            dtype=getattr(torch, dtype),
            use_safetensors=True,
            local_files_only=True,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
    except Exception as error:
        raise ModelUnavailable(
            f"cannot load the pipeline from {source.folder}: {type(error).__name__}: {error}\n"
            "figgen loads safetensors weights only; a folder written by save_pretrained "
            "(safe_serialization=True) or SD 1.4's hub snapshot works."
        ) from None
    pipe.set_progress_bar_config(leave=False)
    return pipe.to(device)
