"""Renderers: one module per figure family.

Each renderer is a pure function `render(capture, destination, **params)`
from captured data (numpy arrays, no model) to one file. The catalogue names
it as "module.function". A renderer drawn from a capture (or a list of them)
says which arrays it reads with `@reads(...)` from figgen/record.py.

Shared by all: palette.py (the colours), imaging.py (raster helpers: `Canvas`,
the only way to write text on a picture, which keeps it legible in the site's
text column, and `tile_grid`, the grid of labelled tiles) and svg.py (the
SVG writer, whose `Svg.text` does the same for SVG figures).
"""
