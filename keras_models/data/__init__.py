"""Input pipelines for GAN training: tfds datasets with paper subsets, and image folders.

Both return a `tf.data.Dataset` of float32 NHWC images in [-1, 1] (or `(images, labels)`
with labels), batched with `drop_remainder=True` so that every step sees the same global
batch, which is what `strategy.experimental_distribute_dataset` expects.

Modules, one concept each:

* `subsets`: which images a `percent=` / `num_images=` subset keeps (deterministic;
  stratified by class, uniform as the BigGAN-CIFAR code, or the first ones);
* `tfds_datasets`: tfds datasets (`load_tfds`, `subset_indices`, `tfds_images`);
* `folders`: image folders (`image_folder`, `read_images`, `load_image`, the shipped
  emoji faces);
* `pipeline`: the tail every source shares (`to_float`, `from_arrays`);
* `training`: a training run's data (`load_training_data`, `reference_images`).

Every public name is importable from `keras_models.data` itself.
"""

from keras_models.data.folders import (
    FACES_DIR,
    IMAGE_EXTENSIONS,
    UnreadableImageError,
    emoji_faces,
    folder_classes,
    image_folder,
    load_image,
    read_images,
)
from keras_models.data.pipeline import from_arrays, to_float
from keras_models.data.subsets import (
    SUBSET_SELECTIONS,
    check_subset,
    choose_subset,
    is_subset,
    select_subset,
    subset_size,
)
from keras_models.data.tfds_datasets import (
    load_tfds,
    not_prepared_message,
    subset_indices,
    tfds_images,
    tfds_num_classes,
)
from keras_models.data.training import (
    TrainingData,
    is_image_folder,
    load_training_data,
    reference_images,
)

__all__ = [
    "FACES_DIR",
    "IMAGE_EXTENSIONS",
    "SUBSET_SELECTIONS",
    "TrainingData",
    "UnreadableImageError",
    "check_subset",
    "choose_subset",
    "emoji_faces",
    "folder_classes",
    "from_arrays",
    "image_folder",
    "is_image_folder",
    "is_subset",
    "load_image",
    "load_tfds",
    "load_training_data",
    "not_prepared_message",
    "read_images",
    "reference_images",
    "select_subset",
    "subset_indices",
    "subset_size",
    "tfds_images",
    "tfds_num_classes",
    "to_float",
]
