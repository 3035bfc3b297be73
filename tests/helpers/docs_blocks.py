"""The code blocks of the docs that run, and the command lines that are only parsed.

Tested blocks. In a page `docs/*.md`, a fenced block whose opening fence is on the line
right after a line `<!-- tested -->` (same indentation, nothing else on it) is run by
`tests/test_docs_blocks.py`, in a subprocess, in an empty temporary directory, with
`PYTHONPATH` the repository root, `KERAS_BACKEND=tensorflow` (a block for another
backend sets `os.environ["KERAS_BACKEND"]` before importing Keras, or prefixes its
command with `KERAS_BACKEND=jax`), `TF_CPP_MIN_LOG_LEVEL=2`, `ROOT` the repository root,
and a timeout of 300 s; it passes when it exits with status 0:

* ```` ```python ````: a standalone script, with its own imports and tiny data;
* ```` ```bash ````: a `bash -e` script. `python` (and `tf-diffaug-train`) is the
  Python running the tests, and the temporary directory holds links to the repository's
  top-level files and folders, so `python train.py --preset=demo --run_dir=runs/x ...`
  or `python docs/examples/gan_jax.py` run as from the root while what they create
  (`runs/`) lands in the temporary directory. Keep such commands at a tiny size
  (`tests.helpers.runs.TINY` shows one).

Parsed commands. Every other `python train.py ...` (or `tf-diffaug-train ...`) command
line in a fenced shell block (`bash`, `sh`, `shell`, `console`) of README.md (whose
blocks this harness never runs) or a docs page, such as a paper-scale run, is parsed
without running anything: its flags must be
train.py's (absl's own, such as `--help`, too), each value that is not a placeholder
must parse as its flag's type, the command (`train`, `generate`, `nearest`, `evaluate`)
must exist, and a `train` command's `--preset` must resolve with its flags into a valid
`TrainConfig` (`keras_models.recipes.resolve`). Lines continued with `\\` are joined,
`# comments` dropped, and `$NAME` expands to a `NAME=...` assigned earlier in the block;
a value with `$`, `<` or `>` in it, or `...`, is a placeholder: only its flag's name is
checked.
"""

import dataclasses
import os
import pathlib
import re
import shlex
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
MARKER = "<!-- tested -->"
TIMEOUT = 300
RUN_LANGUAGES = ("python", "bash")
SHELL_LANGUAGES = ("bash", "sh", "shell", "console")
# How a command line starts the command line tool: `python train.py`, `tf-diffaug-train`.
PYTHONS = ("python", "python3", "$PYTHON", ".venv/bin/python")
SEPARATORS = ("&&", "||", ";", "|", "&")
# Left out of a tested bash block's temporary directory: what a run writes or builds.
NOT_LINKED = {"runs", "site", "build", "dist", "demo_out"}

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")


@dataclasses.dataclass(frozen=True)
class Block:
    """A fenced code block: its page (relative to the root), the line of its opening
    fence (1-based), its language, its text (dedented) and whether it is marked tested."""

    page: str
    line: int
    lang: str
    text: str
    tested: bool

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


@dataclasses.dataclass(frozen=True)
class Command:
    """A command line of the training tool: where it is and its arguments after
    `train.py` (variables of its block expanded)."""

    page: str
    line: int
    source: str
    args: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[pathlib.Path]:
    """The docs pages, in name order."""
    return sorted(DOCS.glob("*.md"))


def relative(path: pathlib.Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


def fenced_blocks(text: str, page: str = "<text>") -> list[Block]:
    """The fenced blocks of a Markdown text, in order."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        closing = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        body = [
            line[len(indent) :] if line.startswith(indent) else line.lstrip()
            for line in lines[i + 1 : end]
        ]
        tested = i > 0 and lines[i - 1].strip() == MARKER and lines[i - 1].startswith(indent)
        blocks.append(Block(page, i + 1, match["lang"].lower(), "\n".join(body) + "\n", tested))
        i = end + 1
    return blocks


def page_blocks(path: pathlib.Path) -> list[Block]:
    return fenced_blocks(path.read_text(), relative(path))


def tested_blocks() -> list[Block]:
    """The docs pages' blocks marked tested, in a language the harness runs."""
    blocks = [block for path in pages() for block in page_blocks(path) if block.tested]
    unknown = [block.id for block in blocks if block.lang not in RUN_LANGUAGES]
    if unknown:
        raise ValueError(f"{MARKER} marks blocks in no language the tests run: {unknown}")
    return blocks


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(offset of the first line, line) with `\\`-continued lines joined."""
    joined, start, parts = [], None, []
    for number, line in enumerate(text.splitlines()):
        start = number if start is None else start
        if line.rstrip().endswith("\\"):
            parts.append(line.rstrip()[:-1])
            continue
        joined.append((start, " ".join([*parts, line])))
        start, parts = None, []
    if parts:
        joined.append((start, " ".join(parts)))
    return joined


def _expand(token: str, variables: dict[str, str]) -> list[str]:
    """A token with `$NAME`/`${NAME}` of `variables` substituted; a token that is just a
    variable splits into words, as the shell does."""
    whole = re.fullmatch(r"\$\{?(\w+)\}?", token)
    if whole and whole[1] in variables:
        return shlex.split(variables[whole[1]])
    expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m[1], m[0]), token)
    return [expanded]


def _tool_args(words: list[str]) -> list[str] | None:
    """The arguments after `train.py` if `words` runs the training command line."""
    while words and re.fullmatch(r"\w+=.*", words[0]):  # VAR=value prefixes
        words = words[1:]
    if words[:1] == ["tf-diffaug-train"]:
        return words[1:]
    if len(words) >= 2 and words[0] in PYTHONS and words[1].endswith("train.py"):
        return words[2:]
    return None


def block_commands(block: Block) -> list[Command]:
    """The training command lines of a shell block."""
    commands, variables = [], {}
    for offset, line in logical_lines(block.text):
        if block.lang == "console":
            line = re.sub(r"^\s*[$#>] ", "", line)
        if "train.py" not in line and "tf-diffaug-train" not in line and "=" not in line:
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as error:
            if "train.py" in line or "tf-diffaug-train" in line:
                raise ValueError(f"{block.page}:{block.line + 1 + offset}: {error}") from None
            continue
        segments, segment = [], []
        for word in [*words, ";"]:
            if word in SEPARATORS or word.endswith(";"):
                if word.endswith(";") and word != ";":
                    segment.append(word[:-1])
                segments.append(segment)
                segment = []
            else:
                segment.append(word)
        for segment in filter(None, segments):
            assignment = re.fullmatch(r"(\w+)=(.*)", segment[0])
            if assignment and len(segment) == 1:
                variables[assignment[1]] = assignment[2]
                continue
            args = _tool_args(segment)
            if args is not None:
                expanded = [word for arg in args for word in _expand(arg, variables)]
                line_number = block.line + 1 + offset
                commands.append(Command(block.page, line_number, line.strip(), tuple(expanded)))
    return commands


def untested_commands() -> list[Command]:
    """The training command lines of README.md's and the docs pages' shell blocks that
    `run_block` does not run (README blocks never are): they are parsed."""
    blocks = [
        block
        for path in [README, *pages()]
        for block in page_blocks(path)
        if block.lang in SHELL_LANGUAGES and not (block.tested and path != README)
    ]
    return [command for block in blocks for command in block_commands(block)]


def is_placeholder(value: str) -> bool:
    return value == "..." or any(char in value for char in "$<>")


def command_problems(args: list[str] | tuple[str, ...]) -> list[str]:
    """What is wrong with `train.py`'s arguments `args`, parsed as train.py parses them
    (nothing is run): an empty list when nothing is."""
    from absl import flags

    from keras_models import recipes
    from keras_models.cli import commands, main, options
    from keras_models.cli import flags as config_flags

    flag_values = flags.FlagValues()
    config_flags.define_flags(flag_values)
    options.define_run_flags(flag_values)
    commands.define_command_flags(flag_values)
    # absl's own flags (--help, --verbosity, ...): their names only.
    absl_names = {"help", "helpshort", "helpfull", "helpxml", "?", "flagfile", "undefok"}
    for module, module_flags in main.FLAGS.flags_by_module_dict().items():
        if module.startswith("absl."):
            absl_names.update(flag.name for flag in module_flags)
            absl_names.update(flag.short_name for flag in module_flags if flag.short_name)

    def flag_of(name):
        """The flag `--name` sets (`--noname` sets the boolean `name`), or None."""
        if name in flag_values:
            return flag_values[name]
        negated = name[2:] if name.startswith("no") else None
        if negated in flag_values and flag_values[negated].boolean:
            return flag_values[negated]
        return None

    problems, kept, words = [], ["train.py"], list(args)
    while words:
        word = words.pop(0)
        if not word.startswith("-") or word in ("-", "--"):
            kept.append(word)
            continue
        name, has_value, value = word.lstrip("-").partition("=")
        if name in absl_names:
            continue
        flag = flag_of(name)
        if flag is None:
            problems.append(f"unknown flag --{name}")
            continue
        if not has_value and not flag.boolean and words:
            value, has_value = words.pop(0), True
            word = f"--{name}={value}"
        if has_value and is_placeholder(value):
            continue
        kept.append(word)
    try:
        positional = flag_values(kept)[1:]
    except flags.Error as error:
        return [*problems, str(error)]
    command = positional[0] if positional else "train"
    if len(positional) > 1 or command not in main.COMMANDS:
        problems.append(f"unknown command {positional}; commands: {', '.join(main.COMMANDS)}")
    if command != "train":
        return problems
    preset = flag_values["preset"].value if flag_values["preset"].present else None
    if any(is_placeholder(word.partition("=")[2]) for word in args if word.startswith("--preset")):
        return problems
    try:
        overrides = config_flags.flag_overrides(flag_values)
        recipes.resolve(overrides.pop("preset", preset) or main.TrainConfig.preset, overrides)
        options.RunOptions.from_flags(flag_values)
    except ValueError as error:
        problems.append(f"does not resolve: {error}")
    return problems


def _link_root(directory: pathlib.Path) -> None:
    """Links the repository's top-level entries into `directory` (see the docstring)."""
    for entry in ROOT.iterdir():
        if entry.name.startswith(".") or entry.name in NOT_LINKED or entry.suffix == ".egg-info":
            continue
        (directory / entry.name).symlink_to(entry)


def run_block(block: Block, directory: pathlib.Path) -> subprocess.CompletedProcess:
    """Runs a tested block in `directory` (empty), as the module docstring says."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "KERAS_BACKEND": "tensorflow",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "ROOT": str(ROOT),
    }
    script = directory / ("block.py" if block.lang == "python" else "block.sh")
    script.write_text(block.text)
    if block.lang == "python":
        command = [sys.executable, script.name]
    else:
        bin_dir = directory / ".bin"
        bin_dir.mkdir()
        for name in ("python", "python3"):
            wrapper = bin_dir / name
            wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
            wrapper.chmod(0o755)
        path = [str(bin_dir), str(pathlib.Path(sys.executable).parent), env.get("PATH", "")]
        env["PATH"] = os.pathsep.join(path)
        _link_root(directory)
        command = ["bash", "-e", script.name]
    return subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
