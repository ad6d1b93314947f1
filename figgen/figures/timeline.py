"""The history timeline (Part 1), drawn from figgen/data/timeline.toml."""

from __future__ import annotations

import sys
from pathlib import Path

from .palette import ACCENT, INK, LINE, MUTED, WARM
from .svg import Svg

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EVENTS_FILE = Path(__file__).parents[1] / "data" / "timeline.toml"
REQUIRED = ("date", "title", "change", "who", "paper", "source")


def load_events(path: Path = EVENTS_FILE) -> list[dict]:
    events = tomllib.loads(path.read_text(encoding="utf-8"))["events"]
    for number, event in enumerate(events, 1):
        missing = [key for key in REQUIRED if key not in event]
        if missing:
            raise ValueError(f"{path}: event {number} ({event.get('title', 'untitled')}) lacks {', '.join(missing)}")
        if not str(event["source"]).startswith("https://"):
            raise ValueError(f"{path}: event {number} needs an https:// source, got {event['source']!r}")
    return sorted(events, key=lambda event: event["date"])


def draw(destination: Path, *, highlight: str = "Stable Diffusion 1.4") -> dict:
    events = load_events()
    width, axis_x = 688, 96  # drawn at the text column's own width, so a unit is a pixel
    text_x = axis_x + 16
    text_w = width - text_x - 12
    svg = Svg(
        width, 0,
        "A timeline of diffusion models, 2015 to 2024",
        "; ".join(f"{event['date']:%B %Y}: {event['title']}. {event['change']} ({event['who']})" for event in events),
    )
    y = svg.paragraph(16, 32, "From the first diffusion model to Stable Diffusion 1.4 and after", 19, width - 32,
                      weight="bold") + 12
    first = y
    for event in events:
        key = highlight in event["title"]
        colour = WARM if key else INK
        svg.text(axis_x - 14, y, f"{event['date']:%b %Y}", 14, "end", WARM if key else MUTED, "bold" if key else "normal")
        svg.circle(axis_x, y - 5, 7 if key else 5, WARM if key else ACCENT)
        y = svg.paragraph(text_x, y, event["title"], 16, text_w, fill=colour, weight="bold")
        y = svg.paragraph(text_x, y, event["change"], 14, text_w, fill=INK)
        y = svg.paragraph(text_x, y, event["who"], 13, text_w, fill=MUTED)
        y += 14
    svg.parts.insert(2, f'<line x1="{axis_x}" y1="{first - 16}" x2="{axis_x}" y2="{y - 30}" stroke="{LINE}" stroke-width="2"/>')
    svg.height = y - 4
    info = svg.save(destination)
    return {**info, "events": [{**event, "date": event["date"].isoformat()} for event in events]}
