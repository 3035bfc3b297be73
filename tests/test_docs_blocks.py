"""Examples that cannot rot: the docs pages' code blocks marked `<!-- tested -->` run,
and every other `python train.py ...` command line of README.md and the docs parses
(see tests/helpers/docs_blocks.py for the markers and how each is run or parsed)."""

import subprocess

import pytest

from tests.helpers import docs_blocks
from tests.helpers.docs_blocks import (
    ROOT,
    Block,
    block_commands,
    command_problems,
    fenced_blocks,
)

BLOCKS = docs_blocks.tested_blocks()
COMMANDS = docs_blocks.untested_commands()


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_tested_block_runs(block, tmp_path):
    try:
        result = docs_blocks.run_block(block, tmp_path)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{block.id} ran past {error.timeout} s; keep tested blocks tiny")
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"{block.id} exited with {result.returncode}:\n{tail}"


@pytest.mark.parametrize("command", COMMANDS, ids=[command.id for command in COMMANDS])
def test_command_parses(command):
    assert command_problems(command.args) == [], command.source


def test_the_readmes_commands_are_found_and_parse():
    """A sentinel: the harness finds the README's commands (the parametrized tests above
    would pass vacuously on none) and parses the demo's."""
    readme = [command for command in COMMANDS if command.page == "README.md"]
    demo = [command for command in readme if command.args[:1] == ("--preset=demo",)]
    assert demo, [command.source for command in readme]
    assert command_problems(demo[0].args) == []
    assert any(command.args[:1] == ("generate",) for command in readme)


def test_command_problems_finds_what_is_wrong():
    assert command_problems(["--preset=demo", "--steps=4", "--noresume", "--help"]) == []
    assert command_problems(["generate", "--export_dir", "<dir>", "--num_samples=4"]) == []
    assert command_problems(["--preset=$PRESET", "--steps=$N", "--run_dir=..."]) == []
    assert command_problems(["--preset=demo", "--no_such_flag=1"]) == [
        "unknown flag --no_such_flag"
    ]
    assert "Unknown preset" in " ".join(command_problems(["--preset=no_such_preset"]))
    assert command_problems(["--preset=demo", "--steps=many"])  # not an integer
    assert command_problems(["--preset=demo", "--policy=no_such_op"])  # not a valid config
    assert command_problems(["sample", "--run_dir=runs/demo"])  # no such command


def test_blocks_and_commands_are_read_as_written():
    text = "\n".join(
        [
            "Text.",  # 1
            "<!-- tested -->",  # 2
            "```python",  # 3
            "print(1)",  # 4
            "```",  # 5
            "- an item:",  # 6
            "  <!-- tested -->",  # 7
            "  ```bash",  # 8
            "  python train.py --preset=demo \\",  # 9
            "      --steps=4  # tiny",  # 10
            "  ```",  # 11
            "```bash",  # 12
            "W=--inception_weights=/data/w.pb   # the weights",  # 13
            "make demo && python train.py --preset=biggan_cifar10 $W --run_dir=runs/c10",  # 14
            "tf-diffaug-train nearest --run_dir=runs/demo; echo done",  # 15
            "```",  # 16
        ]
    )
    python, bash, paper = fenced_blocks(text, "page.md")
    assert python == Block("page.md", 3, "python", "print(1)\n", True)
    assert (bash.line, bash.lang, bash.tested) == (8, "bash", True)
    assert bash.text.startswith("python train.py --preset=demo \\\n    --steps=4")
    assert not paper.tested
    assert [c.args for c in block_commands(bash)] == [("--preset=demo", "--steps=4")]
    commands = block_commands(paper)
    assert [(c.line, c.args) for c in commands] == [
        (14, ("--preset=biggan_cifar10", "--inception_weights=/data/w.pb", "--run_dir=runs/c10")),
        (15, ("nearest", "--run_dir=runs/demo")),
    ]


def test_lint_builds_the_docs_site_in_strict_mode():
    """`make lint` (and so `make test`) fails on a broken link or a missing page: mkdocs
    in strict mode, without --quiet, which would silence the warnings strict mode fails on."""
    steps = subprocess.run(
        ["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    build = next(line for line in steps.replace("\\\n", " ").splitlines() if "mkdocs build" in line)
    assert "--strict" in build.split() and not {"-q", "--quiet"} & set(build.split())
