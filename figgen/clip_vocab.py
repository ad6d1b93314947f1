"""SD 1.4's tokenizer, built offline from CLIP's BPE vocabulary shipped in figgen/data/.

CLIP's vocabulary is made of the 256 byte symbols, the same 256 with an
end-of-word mark "</w>", one entry for each of the first 48,894 merges
listed in the file, and the start and end markers: 49,408 entries in all.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

VOCAB_FILE = Path(__file__).parent / "data" / "clip-bpe-vocab-16e6.txt.gz"
VOCAB_SIZE = 49408
MERGES = VOCAB_SIZE - 2 * 256 - 2
MAX_LENGTH = 77


def byte_symbols() -> list[str]:
    """The printable stand-in character CLIP uses for each of the 256 byte values, in its order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in symbols:
            symbols[byte] = chr(256 + extra)
            extra += 1
    return [symbols[byte] for byte in printable] + [symbols[b] for b in range(256) if b not in printable]


@lru_cache(maxsize=1)
def sd14_tokenizer():
    from transformers import CLIPTokenizer

    lines = gzip.open(VOCAB_FILE, "rt", encoding="utf-8").read().split("\n")
    merges = [tuple(line.split()) for line in lines[1 : MERGES + 1]]
    symbols = byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(pair) for pair in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    tokenizer = CLIPTokenizer(vocab={token: index for index, token in enumerate(tokens)}, merges=merges)
    tokenizer.model_max_length = MAX_LENGTH
    return tokenizer
