"""figgen plans before it runs: catalogue mistakes are named before any model loads, keys change only
when a figure's output can, and every failure a user can cause gets a clear message."""

import errno
import fcntl
import json
import os
import subprocess
import sys

import pytest

from figgen import models as figgen_models
from figgen import plan as figgen_plan
from figgen.cache import capture_file, load_capture, save_capture
from figgen.catalogue import load_catalogue
from figgen.plan import CURRENT, KEPT, make_plan

from conftest import ROOT, figgen, snapshot


def refuse_models(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the catalogue was checked")

    monkeypatch.setattr(figgen_models, "load_pipeline", refuse)


@pytest.mark.parametrize(
    "change, message",
    [
        (("height = 64", "height = 64\ndecode_steps = false"),
         "figure 'seq': renderer denoise.sequence reads decoded_latents, decoded_pred_original_sample, which capture "
         "'small-ddim' does not record"),
        (('renderer = "denoise.sequence"', 'renderer = "denoyse.sequence"'),
         "figure 'seq': renderer = \"denoyse.sequence\": there is no module figgen/figures/denoyse.py"),
        (('renderer = "denoise.sequence"', 'renderer = "denoise.sequense"'),
         "figure 'seq': renderer = \"denoise.sequense\": figgen/figures/denoise.py has no function 'sequense'"),
        (("show_steps = [1, 3, 6]", "show_step = [1, 3, 6]"), "figure 'seq': renderer denoise.sequence"),
    ],
)
def test_catalogue_mistakes_are_named_before_any_model_loads(project, tiny_model, monkeypatch, capsys, change, message):
    project["catalogue"].write_text(project["catalogue"].read_text().replace(*change))
    refuse_models(monkeypatch)
    assert figgen(project, "render", "--model", str(tiny_model)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert snapshot(project["figures"]) == {} and not (project["cache"] / "captures").exists()


def test_a_corrupt_or_foreign_cache_entry_is_reported_and_captured_again(project, tiny_model, capsys):
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    (path,) = (project["cache"] / "captures").glob("*.safetensors")
    good = load_capture(path)
    path.write_bytes(path.read_bytes()[:100])  # truncated, as by a full disk
    assert figgen(project, "render", "--model", str(tiny_model), "--force") == 0
    err = capsys.readouterr().err
    assert f"cache entry {path} cannot be read" in err and "capturing 'small-ddim' again" in err
    assert load_capture(path).arrays.keys() == good.arrays.keys()

    good.meta["model"] = "some/other-model"
    save_capture(path, good)
    assert figgen(project, "render", "--model", str(tiny_model), "--force") == 0
    assert "was recorded by some/other-model" in capsys.readouterr().err
    assert load_capture(path).meta["model"] == str(tiny_model)


def test_two_renders_at_once_cannot_interleave(project, tiny_model, capsys):
    project["figures"].mkdir(parents=True)
    held = os.open(project["figures"], os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a render in progress holds it
        assert figgen(project, "render", "--model", str(tiny_model)) == 1
    finally:
        os.close(held)
    err = capsys.readouterr().err
    assert "another figgen run" in err and "wait for it to finish" in err and "Traceback" not in err
    assert snapshot(project["figures"]) == {}
    assert figgen(project, "render", "--model", str(tiny_model)) == 0  # the lock went with its holder


def test_an_unwritable_figures_folder_is_a_clear_error_and_leaves_no_temporary(project, tiny_model, monkeypatch, capsys):
    from figgen import outputs as figgen_outputs

    def read_only(source, destination):
        raise OSError(errno.EROFS, "Read-only file system", str(destination))

    monkeypatch.setattr(figgen_outputs.os, "replace", read_only)
    assert figgen(project, "render", "--model", str(tiny_model)) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err and "Read-only file system" in err and "Traceback" not in err
    assert not [p for p in project["figures"].rglob("*") if ".figgen-tmp-" in p.name]


def test_temporaries_in_the_capture_cache_are_swept(project, tiny_model, capsys):
    captures = project["cache"] / "captures"
    captures.mkdir(parents=True)
    ours, theirs = captures / ".abc.safetensors.figgen-tmp-999", captures / "abc.safetensors.tmp1234"
    for path in (ours, theirs):
        path.write_bytes(b"left by a killed run")
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    assert not ours.exists() and not theirs.exists()
    assert "left half-written by an interrupted run" in capsys.readouterr().err


def test_device_cuda_without_a_gpu_is_refused_even_with_nothing_to_do(project, tiny_model, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert figgen(project, "render", "--model", str(tiny_model), "--device", "cuda") == 1
    assert "torch sees no CUDA GPU here" in capsys.readouterr().err


def test_a_model_index_that_is_not_an_object_is_a_clear_error(project, tmp_path):
    folder = tmp_path / "odd-model"
    folder.mkdir()
    (folder / "model_index.json").write_text('["StableDiffusionPipeline"]')
    result = subprocess.run([sys.executable, "-m", "figgen", "render", "--model", str(folder), "--catalogue",
                             str(project["catalogue"]), "--figures-dir", str(project["figures"]), "--cache-dir",
                             str(project["cache"])], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert "holds a JSON list, not the object save_pretrained writes" in result.stderr
    assert "Traceback" not in result.stderr


def keys_of_real_catalogue(source=None) -> dict:
    catalogue = load_catalogue()
    planned = make_plan(ROOT / "docs" / "figures", ROOT / ".figgen-cache", catalogue.figures, source, force=True)
    return {p.figure.id: p.key for p in planned.figures}


def test_editing_one_renderer_module_rekeys_only_its_figures(monkeypatch):
    before = keys_of_real_catalogue()
    real_hash = figgen_plan._file_hash.__wrapped__
    for changed, expected in (("timeline.py", {"timeline"}), ("schedule.py", {"noise-schedule"})):
        monkeypatch.setattr(figgen_plan, "_file_hash", lambda path, changed=changed: (
            "edited" if path.endswith("/figures/" + changed) else real_hash(path)))
        figgen_plan.renderer_code.cache_clear()
        after = keys_of_real_catalogue()
        assert {f for f in before if before[f] != after[f]} == expected, changed
    figgen_plan.renderer_code.cache_clear()


def test_a_figure_keys_on_the_libraries_its_code_imports_only(monkeypatch):
    _, timeline_libraries = figgen_plan.renderer_code("timeline.draw")
    assert "diffusers" not in timeline_libraries and "torch" not in timeline_libraries
    _, grid_libraries = figgen_plan.renderer_code("compare.grid")
    assert {"pillow", "numpy"} <= set(grid_libraries)
    _, compute_libraries = figgen_plan.renderer_code("compute.flops")
    assert "torch" in compute_libraries


def test_on_this_checkout_every_committed_figure_is_up_to_date(mini_sd):
    """What a fresh clone's `figgen list` must say: the committed figures match the committed code, model
    and pinned libraries. If this fails, run `figgen render` and commit the figures it rewrites."""
    source = figgen_models.local_folder(str(mini_sd))
    catalogue = load_catalogue()
    planned = make_plan(ROOT / "docs" / "figures", ROOT / ".figgen-cache", catalogue.figures, source)
    stale = [p.figure.id for p in planned.figures if p.action not in (CURRENT, KEPT)]
    assert stale == [], f"out of date: {stale}; run `figgen render` and commit docs/figures"
    recorded = {p.figure.id: json.loads((ROOT / "docs" / "figures" / p.figure.output).with_suffix(".json").read_text())
                for p in planned.figures}
    assert all(record["key"] for record in recorded.values())


def test_a_cache_entry_that_vanishes_after_planning_is_captured_again(project, tiny_model, monkeypatch):
    assert figgen(project, "render", "--model", str(tiny_model)) == 0
    monkeypatch.setattr("figgen.render.load_capture", lambda path: None)  # as if deleted between plan and load
    assert figgen(project, "render", "--model", str(tiny_model), "--force") == 0
    assert json.loads((project["figures"] / "part1" / "seq.json").read_text())["placeholder"] is False
