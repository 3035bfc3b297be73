"""train.py's generate and nearest on a tiny export, in this process: what they write, and
bad outputs and damaged exports refused with exit status 2 and a message, no traceback."""

import os
import re
import shutil

import pytest
from PIL import Image

from keras_models import recipes
from keras_models.run_dir import RunDirectory
from tests.helpers.runs import run_in_process


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    """The export of a tiny unconditional GAN (8x8 images)."""
    from tests.helpers.toy_gan import compile_gan, make_gan

    path = str(tmp_path_factory.mktemp("gan") / "export")
    compile_gan(make_gan()).export_generator(path)
    return path


def assert_refused(result, message):
    assert result.returncode == 2, result.stderr[-2000:]
    assert re.search(message, result.stderr), result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_generate_writes_a_file_per_image_without_a_grid(export_dir, tmp_path):
    folder = tmp_path / "images"
    result = run_in_process(
        "generate",
        f"--export_dir={export_dir}",
        "--num_samples=5",
        "--output=",
        f"--output_dir={folder}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Wrote 5 images to {folder} (one file each)" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images"]
    assert [Image.open(p).size for p in sorted(folder.iterdir())] == [(8, 8)] * 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--output=TMP/grid"], r"Expected --output to end in one of \.png, \.jpg, \.jpeg, "),
        (["--output=/proc/forbidden/grid.png"], r"'/proc' is not writable"),
        (["--output_dir=TMP/file"], r"--output_dir=.*file' is not writable \(Not a direc"),
        (["--output="], r"Expected --output \(a grid\) or --output_dir"),
        # 3,000,000 images of 8x8 make a 13,856x13,856 grid: refused before any latent is
        # drawn (100,000 images of 256x256 would be an 81,920 x 81,920 one).
        (["--num_samples=3000000"], "at most 178,956,970 pixels.*with --output_dir"),
    ],
)
def test_generate_refuses_outputs_it_cannot_write(export_dir, tmp_path, args, message):
    (tmp_path / "file").write_text("not a folder")
    args = [a.replace("TMP", str(tmp_path)) for a in args]
    if not any(a.startswith("--output=") for a in args):
        args.append(f"--output={tmp_path / 'grid.png'}")
    assert_refused(run_in_process("generate", f"--export_dir={export_dir}", *args), message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run directory of the demo recipe, nothing trained (for nearest's data)."""
    run = RunDirectory(str(tmp_path_factory.mktemp("run")))
    run.prepare(recipes.resolve("demo", {}), resume=False, overwrite=False)
    run.unlock()
    return run.path


def test_nearest_refuses_an_output_without_an_image_extension(export_dir, run_dir):
    result = run_in_process(
        "nearest", f"--run_dir={run_dir}", f"--export_dir={export_dir}", "--output=nearest"
    )
    assert_refused(result, r"--output to end in one of .*Received: --output='nearest'")


def truncate(path):
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) // 2)


@pytest.mark.parametrize(
    "damage, part",
    [
        (lambda d: truncate(d / "saved_model.pb"), r"saved_model\.pb \(the graph\) cannot be read"),
        (
            lambda d: truncate(d / "variables" / "variables.data-00000-of-00001"),
            r"variables/variables\.data-\* \(the weights\) is truncated or corrupt",
        ),
        (
            lambda d: os.remove(d / "variables" / "variables.index"),
            r"variables/variables\.index \(the weights' index\) is missing",
        ),
    ],
    ids=["truncated-graph", "truncated-weights", "missing-index"],
)
def test_a_damaged_export_is_named_with_how_to_export_it_again(
    export_dir, run_dir, tmp_path, damage, part
):
    damaged = tmp_path / "export"
    shutil.copytree(export_dir, damaged)
    damage(damaged)
    output = tmp_path / "out.png"
    for command in ("generate", f"nearest --run_dir={run_dir}"):
        result = run_in_process(*command.split(), f"--export_dir={damaged}", f"--output={output}")
        assert_refused(result, f"The export at '{re.escape(str(damaged))}' is damaged: {part}")
        assert "run the training command of its run again with the same flags" in result.stderr
        assert not output.exists()
