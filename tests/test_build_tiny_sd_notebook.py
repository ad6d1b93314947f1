"""The "Build a tiny Stable Diffusion" page's stored outputs are what its code really prints.

The notebook runs mini-sd (models/mini-sd/) by hand on the CPU, with its
working directory set to docs/, as `jupyter nbconvert --execute` runs it.
"""

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT
from test_notebook import text_outputs

NOTEBOOK = ROOT / "docs" / "build-tiny-sd.ipynb"
MINI_SD = ROOT / "models" / "mini-sd"


def test_every_code_cell_has_stored_output():
    stored = nbformat.read(NOTEBOOK, as_version=4)
    assert all(text_outputs(stored)), "run the notebook and save it with its outputs"


@pytest.mark.skipif(not (MINI_SD / "unet").exists(), reason="mini-sd's weights are not in models/mini-sd/")
def test_stored_outputs_match_a_fresh_run():
    stored = nbformat.read(NOTEBOOK, as_version=4)
    fresh = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        fresh, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "docs")}}
    ).execute()
    assert text_outputs(fresh) == text_outputs(stored)
