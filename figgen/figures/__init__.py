"""Renderers: one module per figure family.

Each renderer is a pure function `render(capture, destination, **params)`
from captured data (numpy arrays, no model) to one file. The catalogue names
it as "module.function".
"""
