"""The figures' colours, one set for the SVG and the raster (WebP) figures alike.

Material Design shades around the site's own two colours, indigo and deep
orange. Pillow and SVG both take "#rrggbb" strings, so these are used as
they are in both.
"""

INK = "#212121"  # text
MUTED = "#616161"  # second lines, notes, axes
LINE = "#9e9e9e"  # connectors and rules
BACKGROUND = "#f6f6f6"  # behind the raster figures' tiles
CARD = "#ffffff"  # behind the SVG figures, and inside boxes
ACCENT = "#3f51b5"  # indigo, the site's primary colour
WARM = "#e64a19"  # deep orange, its accent
PALE = "#e8eaf6"  # indigo, lightened: a box's fill
PALE_WARM = "#fbe9e7"  # deep orange, lightened
PALE_GREY = "#f5f5f5"  # a box that stands for something plain (padding, noise)
PAPER = "#fff8e1"  # a placeholder's card
PAPER_EDGE = "#d6a028"  # and its border
