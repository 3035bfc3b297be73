"""Test-wide set-up: quiet TensorFlow, two logical CPUs for distribution tests, and a
locally prepared tfds dataset.

Under KERAS_BACKEND=jax or torch only `tests/tf_diffaug` runs (the rest is the
TensorFlow GAN toolkit), and TensorFlow is not imported.
"""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")

if BACKEND == "tensorflow":
    import tensorflow as tf

    # Two logical CPU devices, so that MirroredStrategy tests run on any machine. This
    # must happen before TensorFlow initialises its devices, hence at conftest import.
    _cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )
    collect_ignore_glob: list[str] = []
else:
    collect_ignore_glob = [
        path for path in os.listdir(os.path.dirname(__file__)) if path not in ("tf_diffaug",)
    ]


@pytest.fixture(scope="session")
def tfds_data_dir(tmp_path_factory):
    """A tfds data folder holding `tests.helpers.tfds_local`'s dataset, prepared for real."""
    from tests.helpers import tfds_local

    return tfds_local.prepare(tmp_path_factory.mktemp("tensorflow_datasets"))


@pytest.fixture(autouse=True)
def _process_wide_settings_restored():
    """A run in the test process sets process-wide state: Keras's global dtype policy
    (e.g. mixed_bfloat16 by --mixed_precision=auto) and, with --deterministic, op
    determinism (under which Keras turns `jit_compile` off). Each test starts from
    float32 without op determinism."""
    yield
    if BACKEND != "tensorflow":
        return
    import keras

    keras.config.set_dtype_policy("float32")
    # TensorFlow has no public way back (tf.config.experimental only enables it).
    from tensorflow.python.framework import config as tf_config

    tf_config.disable_op_determinism()
