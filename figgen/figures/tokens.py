"""Tokenisation figures (Part 2), with SD 1.4's real CLIP vocabulary.

`slots` shows the 77 slots a prompt is put into: the start marker, the
prompt's sub-word pieces with their ids, the end marker, then padding.
`truncation` shows a prompt too long for those slots and which pieces are
cut off.
"""

from __future__ import annotations

from pathlib import Path

from ..clip_vocab import MAX_LENGTH, sd14_tokenizer
from .palette import ACCENT, INK, LINE, MUTED, PALE, PALE_GREY, PALE_WARM, WARM
from .svg import Svg

START, END = "<|startoftext|>", "<|endoftext|>"


def readable(token: str) -> str:
    """A token as a reader would write it: end-of-word marks dropped, markers named."""
    if token == START:
        return "START"
    if token == END:
        return "END"
    return token.replace("</w>", "")


def slots(destination: Path, *, prompt: str, columns: int = 6) -> dict:
    """The slots the prompt fills, one box each, and one box for all the padding after them."""
    tokenizer = sd14_tokenizer()
    ids = tokenizer(prompt, padding="max_length", max_length=MAX_LENGTH, truncation=True).input_ids
    pieces = tokenizer.convert_ids_to_tokens(ids)
    used = len(tokenizer(prompt).input_ids)  # start + pieces + end
    padding = MAX_LENGTH - used

    cell_w, cell_h, gap, left, top = 104, 54, 6, 16, 84
    cells = used + (1 if padding else 0)  # the padding box is two cells wide
    rows = -(-(cells + 1) // columns)
    svg = Svg(
        left * 2 + columns * (cell_w + gap) - gap,
        top + rows * (cell_h + gap) + 10,
        f"The 77 token slots for the prompt: {prompt}",
        f"The prompt becomes {used - 2} tokens between a start and an end marker, followed by "
        f"{padding} padding slots, 77 slots in all. Each used slot shows the token and its id; one box stands "
        "for all the padding.",
    )
    svg.text(left, 30, f"“{prompt}”", 18, "start", weight="bold")
    svg.text(
        left, 58,
        f"{used - 2} tokens + start + end = {used} slots used; {padding} padding slots; {MAX_LENGTH} slots in all",
        14, "start", MUTED,
    )

    def place(index):
        return left + (index % columns) * (cell_w + gap), top + (index // columns) * (cell_h + gap)

    for index, (piece, token_id) in enumerate(zip(pieces[:used], ids[:used])):
        x, y = place(index)
        marker = piece in (START, END)
        svg.rect(x, y, cell_w, cell_h, fill=PALE_WARM if marker else PALE, stroke=WARM if marker else ACCENT, rx=6)
        svg.text(x + cell_w / 2, y + 23, readable(piece), 15, weight="bold")
        svg.text(x + cell_w / 2, y + 43, str(token_id), 13, fill=MUTED)
    if padding:
        index = used if used % columns != columns - 1 else used + 1  # keep the wide box on one row
        x, y = place(index)
        svg.rect(x, y, 2 * cell_w + gap, cell_h, fill=PALE_GREY, stroke=LINE, rx=6, extra=' stroke-dasharray="5 3"')
        svg.text(x + cell_w + gap / 2, y + 23, f"… {padding} × pad", 15, fill=INK, weight="bold")
        svg.text(x + cell_w + gap / 2, y + 43, f"each {ids[-1]}", 13, fill=MUTED)
    info = svg.save(destination)
    return {**info, "prompt": prompt, "input_ids": ids, "tokens_used": used, "padding": padding}


def truncation(destination: Path, *, prompt: str, width: int = 688) -> dict:
    tokenizer = sd14_tokenizer()
    all_ids = tokenizer(prompt, verbose=False).input_ids  # no truncation: every piece, with start and end
    kept_ids = tokenizer(prompt, max_length=MAX_LENGTH, truncation=True).input_ids
    pieces = tokenizer.convert_ids_to_tokens(all_ids[1:-1])
    fits = MAX_LENGTH - 2
    cut = max(0, len(pieces) - fits)

    left, top, line_h, pad = 20, 100, 34, 8
    char_w = 8.2  # approximate width of one character at 14 px, for laying out chips
    positions, x, y = [], left, top
    for piece in pieces:
        w = max(26, len(readable(piece)) * char_w + 2 * pad)
        if x + w > width - left:
            x, y = left, y + line_h
        positions.append((x, y, w))
        x += w + 4
    height = y + line_h
    svg = Svg(
        width, height,
        "A prompt longer than 77 slots is cut off",
        f"This prompt has {len(pieces)} tokens. Only the first {fits} fit between the start and end markers; "
        f"the last {cut} are cut off and never reach the model.",
    )
    svg.text(left, 30, f"{len(pieces)} tokens, but only {fits} fit between START and END", 18, "start", weight="bold")
    svg.text(left, 56, f"kept: the first {fits} tokens (blue)   cut off: the last {cut} (orange, struck through)", 14, "start", MUTED)
    for index, (piece, (x, y, w)) in enumerate(zip(pieces, positions)):
        dropped = index >= fits
        svg.rect(x, y - 20, w, 26, fill=PALE_WARM if dropped else PALE, stroke=WARM if dropped else ACCENT, rx=5)
        extra = ' text-decoration="line-through"' if dropped else ""
        svg.text(x + w / 2, y - 2, readable(piece), 14, fill=WARM if dropped else INK, extra=extra)
    info = svg.save(destination)
    return {**info, "tokens": len(pieces), "kept": fits if cut else len(pieces), "cut": cut, "kept_ids": kept_ids}
