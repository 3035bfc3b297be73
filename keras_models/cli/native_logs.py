"""TensorFlow's native start-up log lines, held back below TF_CPP_MIN_LOG_LEVEL.

TensorFlow logs some C++ lines (e.g. "oneDNN custom operations are on", "failed call to
cuInit" on a machine without a GPU) through Abseil before its logging is set up, so they
reach stderr whatever TF_CPP_MIN_LOG_LEVEL says. `import_tensorflow` loads TensorFlow
and initialises its devices with the stderr file descriptor captured, then replays
what was written without those lines. It imports only the standard library, so that
the CLI can call it before anything loads TensorFlow.
"""

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# TensorFlow's C++ log threshold (0 all, 1 no INFO, 2 no WARNING, 3 no ERROR) when the
# user chose none.
DEFAULT_LEVEL = "2"
# An Abseil C++ log line ("I0101 12:00:00.000000   123 file.cc:45] ..."): its severity.
NATIVE_LOG_LINE = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] ")


def shown(line: str, level: int) -> bool:
    """Whether a stderr line is shown at C++ log threshold `level`.

    Args:
        line: one line written to stderr.
        level: TF_CPP_MIN_LOG_LEVEL as a number.

    Returns:
        False for an Abseil log line (or its "before absl::InitializeLog" preamble) below
        `level`; True for every other line.
    """
    if line.startswith("WARNING: All log messages before absl::InitializeLog()"):
        return level < 1
    native = NATIVE_LOG_LINE.match(line)
    if native is None:
        return True
    # How a CUDA build says "no GPU here"; the start-up summary names the device.
    severity = "IWEF".index(native[1]) - ("failed call to cuInit" in line)
    return severity >= level


@contextlib.contextmanager
def start_up_lines_filtered() -> Iterator[None]:
    """Captures the stderr file descriptor meanwhile, then replays it without the native
    log lines below TF_CPP_MIN_LOG_LEVEL."""
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")
    level = int(level) if level.isdigit() else 0
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if shown(line, level)))


def import_tensorflow() -> None:
    """Imports TensorFlow and initialises CUDA with the start-up lines filtered.

    TF_CPP_MIN_LOG_LEVEL defaults to `DEFAULT_LEVEL` (TensorFlow reads it when it loads).
    Call it before anything imports TensorFlow; afterwards it changes nothing.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", DEFAULT_LEVEL)
    with start_up_lines_filtered():
        import keras  # noqa: F401 (loads TensorFlow, its backend)
        import tensorflow as tf

        tf.config.list_physical_devices()  # CUDA initialises here
