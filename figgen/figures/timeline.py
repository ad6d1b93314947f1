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
REQUIRED = ("date", "title", "who", "paper", "source")


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
    row_h, top, axis_x = 70, 70, 150
    svg = Svg(
        980, top + row_h * len(events) + 20,
        "A timeline of diffusion models, 2015 to 2024",
        "; ".join(f"{event['date']:%B %Y}: {event['title']} ({event['who']})" for event in events),
    )
    svg.text(20, 36, "From the first diffusion model to Stable Diffusion 1.4 and after", 20, "start", weight="bold")
    svg.line(axis_x, top - 10, axis_x, top + row_h * len(events) - 20, stroke=LINE, width=2)
    for index, event in enumerate(events):
        y = top + index * row_h
        key = highlight in event["title"]
        svg.text(axis_x - 16, y + 14, f"{event['date']:%b %Y}", 14, "end", WARM if key else MUTED, "bold" if key else "normal")
        svg.circle(axis_x, y + 9, 7 if key else 5, WARM if key else ACCENT)
        svg.text(axis_x + 18, y + 14, event["title"], 15, "start", WARM if key else INK, "bold")
        svg.text(axis_x + 18, y + 33, event["who"], 12, "start", MUTED)
        svg.text(axis_x + 18, y + 50, event["paper"], 12, "start", MUTED, extra=' font-style="italic"')
    info = svg.save(destination)
    return {**info, "events": [{**event, "date": event["date"].isoformat()} for event in events]}
