"""The notebook page's stored outputs are what its code really prints."""

import nbformat
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOK = ROOT / "docs" / "try-it.ipynb"


def text_outputs(notebook) -> list[str]:
    """What each code cell printed (stdout only: warnings on stderr name local paths)."""
    return [
        "".join(output.get("text", "") for output in cell.outputs if output.get("name") == "stdout")
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def test_every_code_cell_has_stored_output():
    stored = nbformat.read(NOTEBOOK, as_version=4)
    assert all(text_outputs(stored)), "run the notebook and save it with its outputs"


def test_stored_outputs_match_a_fresh_run():
    stored = nbformat.read(NOTEBOOK, as_version=4)
    fresh = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(fresh, timeout=300, kernel_name="python3").execute()
    assert text_outputs(fresh) == text_outputs(stored)
