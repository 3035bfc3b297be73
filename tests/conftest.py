"""Test-wide set-up: quiet TensorFlow, two logical CPUs for distribution tests, and a
locally prepared tfds dataset."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

# Two logical CPU devices, so that MirroredStrategy tests run on any machine. This must
# happen before TensorFlow initialises its devices, hence at conftest import time.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(_cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture(scope="session")
def tfds_data_dir(tmp_path_factory):
    """A tfds data folder holding `tests.helpers.tfds_local`'s dataset, prepared for real."""
    from tests.helpers import tfds_local

    return tfds_local.prepare(tmp_path_factory.mktemp("tensorflow_datasets"))


@pytest.fixture(autouse=True)
def _float32_policy():
    """train.py sets Keras's global dtype policy (e.g. mixed_bfloat16 by --mixed_precision=
    auto); each test starts from float32."""
    yield
    import keras

    keras.config.set_dtype_policy("float32")
