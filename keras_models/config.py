"""The training configuration's schema: one typed record for the CLI, the recipes and resume.

`TrainConfig` is a frozen dataclass. Each field declares, in one place (`option`), its
default, its help text, how it is validated and whether a resumed run may change it:

- the command line's flags are generated from the fields (`keras_models.cli.flags`):
  every field is a flag of the same name, and a flag given on the command line
  overrides the recipe;
- the recipes (`keras_models.recipes`) fill it, in increasing priority: the defaults
  below, the backbone preset's training settings, the recipe, the flags;
- the run directory (`keras_models.run_dir`) writes it to `config.json` and, on resume,
  compares exactly the fields that are not `resumable`;
- constructing it validates every field (type, range, choices) and their combination,
  and raises `ConfigError` listing every problem: the CLI exits with status 2 before
  anything is written.

Adding an option is one `option(...)` line here.
"""

import dataclasses
import math
import operator
import types
import typing
import warnings
from collections.abc import Callable
from typing import Any

from keras_models.data.subsets import SUBSET_SELECTIONS, check_subset
from keras_models.families import FAMILIES
from tf_diffaug import parse_policy

METRICS = ("fid", "kid", "is", "pr")
FEATURE_EXTRACTORS = ("auto", "inception", "emoji")
# What may pick the best weights: SWD (always measured), a feature metric, or nothing.
BEST_METRICS = ("swd", "fid", "kid", "is", "precision", "recall", "none")


class ConfigError(ValueError):
    """An invalid `TrainConfig`: the message lists every invalid value."""


def option(
    default: Any,
    help: str,
    *,
    resumable: bool = False,
    choices: tuple | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    check: Callable[[Any], None] | None = None,
) -> Any:
    """A `TrainConfig` field: its default, flag help, validation and resume rule.

    Args:
        default: the value when neither a preset, a recipe nor a flag sets it; None
            (for an optional type) means "derived" or "off", as the help says.
        help: the flag's help text.
        resumable: a resumed run may change it (lengths, learning rates, schedules,
            outputs, speed);
            every other field must match the saved run, or its checkpoints would not
            fit the model, the data or the random streams.
        choices: the allowed values.
        minimum, maximum: inclusive bounds.
        above, below: exclusive bounds.
        check: `value -> None`, raising `ValueError` for what bounds cannot express.

    Returns:
        A `dataclasses.field` carrying these in its metadata.
    """
    bounds = {">=": minimum, ">": above, "<=": maximum, "<": below}
    metadata = {
        "help": help,
        "resumable": resumable,
        "choices": choices,
        "bounds": {op: bound for op, bound in bounds.items() if bound is not None},
        "check": check,
    }
    return dataclasses.field(default=default, metadata=metadata)


def _check_augment_p(value):
    if value == "adaptive" or (not isinstance(value, str) and 0 <= value <= 1):
        return
    raise ValueError(
        f"Expected augment_p 'adaptive' or a probability in [0, 1]. Received: augment_p={value!r}."
    )


def measured_metrics(metrics: str) -> set[str]:
    """The names a run with `--metrics=metrics` measures (SWD always; "pr" gives
    precision and recall): what may pick its best weights."""
    names = {name for name in metrics.split(",") if name}
    return {"swd", *(names - {"pr"}), *({"precision", "recall"} if "pr" in names else ())}


def _check_metrics(value):
    unknown = [m for m in value.split(",") if m and m not in METRICS]
    if unknown:
        raise ValueError(
            f"Expected metrics from {', '.join(METRICS)} (comma-separated). "
            f"Received: metrics={value!r}."
        )


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (see the module docstring)."""

    preset: str = option("demo", "Training recipe (keras_models/recipes.py); demo if not given.")
    # --- the model
    model: str = option("biggan", "Backbone family.", choices=tuple(FAMILIES))
    model_preset: str = option(
        "cifar32", "Backbone preset (biggan/presets.py, stylegan2/presets.py)."
    )
    resolution: int | None = option(
        None, "Image side in pixels (None: the backbone preset's).", minimum=4
    )
    width: int | None = option(
        None, "Model width (BigGAN ch / StyleGAN2 fmap_base): scale down.", minimum=1
    )
    conditional: bool = option(False, "Class-conditional G and D (labels from the dataset).")
    # --- fine-tuning (keras_models.finetune, FreezeD)
    init_from: str | None = option(
        None,
        "Start from the G, D and EMA G weights of a trained GAN of the same architecture: "
        "a run directory (its latest checkpoint), a checkpoint prefix or a .weights.h5 "
        "file. Optimizer state, step counter and random streams start afresh.",
    )
    freeze_d: int = option(
        0,
        "FreezeD: do not train this many discriminator blocks from the image side (0: train all).",
        minimum=0,
    )
    # --- the data
    dataset: str | None = option(None, "tfds name (cifar10, ...), an image folder, or emoji_faces.")
    percent: float | None = option(
        None, "Train on this percentage of the dataset (class-balanced).", above=0, maximum=100
    )
    num_images: int | None = option(
        None, "Train on this many images (instead of --percent).", minimum=1
    )
    subset_selection: str = option(
        "stratified",
        "How --percent / --num_images choose their images: stratified (each class keeps "
        "its share), uniform (as DiffAugment-biggan-cifar: RandomState(--seed).choice "
        "without replacement; seed 0 gives the authors' subsets) or first (the dataset's "
        "first images, as DiffAugment-stylegan2). The recipes set their authors' rule.",
        choices=SUBSET_SELECTIONS,
    )
    holdout: int = option(0, "Images of a folder dataset held out for the D monitor.", minimum=0)
    x_flip: bool = option(False, "Dataset x-flips (separate from DiffAugment).")
    data_dir: str | None = option(
        None,
        "Folder of prepared tfds datasets (None: $TFDS_DATA_DIR or ~/tensorflow_datasets).",
        resumable=True,
    )
    download: bool = option(
        False,
        "Let tfds download and prepare a tfds dataset missing from --data_dir (needs "
        "internet); without it a missing dataset is an error saying how to prepare it.",
        resumable=True,
    )
    # --- the optimisation
    batch_size: int = option(32, "Images per D step (global, across replicas).", minimum=1)
    d_steps_per_g_step: int = option(1, "Discriminator steps per generator step.", minimum=1)
    g_learning_rate: float = option(2e-4, "Generator Adam learning rate.", resumable=True, above=0)
    d_learning_rate: float = option(
        2e-4, "Discriminator Adam learning rate.", resumable=True, above=0
    )
    adam_beta_1: float = option(0.0, "Adam beta_1 of both networks.", minimum=0, below=1)
    adam_beta_2: float = option(0.999, "Adam beta_2 of both networks.", minimum=0, below=1)
    adam_epsilon: float = option(1e-7, "Adam epsilon of both networks.", above=0)
    loss: str = option("hinge", "GAN loss.", choices=("hinge", "non_saturating", "wasserstein"))
    r1_gamma: float = option(0.0, "R1 penalty weight.", minimum=0)
    r1_interval: int = option(1, "Lazy R1: evaluate it every this many D steps.", minimum=1)
    r1_inputs: str = option(
        "augmented",
        "R1's gradient with respect to the augmented reals D sees (augmented) or the "
        "un-augmented reals, through the augmentation (reals).",
        choices=("augmented", "reals"),
    )
    pl_weight: float = option(0.0, "StyleGAN2 path-length penalty weight (0: off).", minimum=0)
    pl_interval: int = option(4, "Lazy path length: every this many G steps.", minimum=1)
    consistency_weight: float = option(
        0.0, "Consistency regularisation weight (CR-GAN).", minimum=0
    )
    consistency_policy: str = option(
        "",
        "Consistency regularisation pairs: '' compares D(x) with D(T(x)); a policy T' "
        "(e.g. flip,translation) compares D(T'(T(x))) with D(T(x)).",
        check=parse_policy,
    )
    lecam_weight: float = option(
        0.0,
        "LeCam regularisation weight (Tseng et al., 2021: keras_models.LeCamRegularizer; "
        "0: off; lecam-gan's BigGAN-CIFAR scripts: 0.3).",
        minimum=0,
    )
    lecam_decay: float = option(
        0.9, "LeCam: decay of the anchors, moving averages of D's mean logits.", minimum=0, below=1
    )
    lecam_start_step: int = option(
        1000,
        "LeCam: steps in which the anchors follow the batch means (decay 0); the penalty "
        "is added after this step.",
        minimum=0,
    )
    fake_labels: str = option(
        "random",
        "Labels of a conditional GAN's fakes: random (uniform, drawn for every step) or "
        "reals (those of the D step's reals).",
        choices=("random", "reals"),
    )
    ema_decay: float = option(
        0.999, "Decay of the generator's moving average.", minimum=0, maximum=1
    )
    ema_start_step: int = option(
        0, "Step from which the moving average starts (a copy before).", minimum=0
    )
    # --- the augmentation
    policy: str = option(
        "color,translation,cutout",
        "DiffAugment policy, e.g. color,translation,cutout; '' = none.",
        check=parse_policy,
    )
    augment_mode: str = option(
        "diffaugment",
        "Where the augmentation is applied (the paper's ablation).",
        choices=("diffaugment", "discriminator_only", "reals_only", "none"),
    )
    augment_p: float | str = option(
        1.0,
        "Per-sample probability of each DiffAugment op: a float (the paper: 1), or "
        "adaptive (ADA's controller: keras_models.AdaptiveStrength, see --ada_*).",
        check=_check_augment_p,
    )
    ada_target: float = option(
        0.6, "augment_p=adaptive: target of r_t = E[sign(D(reals))].", minimum=-1, maximum=1
    )
    ada_kimg: float = option(
        500.0, "augment_p=adaptive: kimg shown to D in which p can go from 0 to 1.", above=0
    )
    ada_interval: int = option(4, "augment_p=adaptive: train steps between updates.", minimum=1)
    # --- the length, randomness and outputs
    kimg: float | None = option(
        None, "Training length in thousands of real images shown to D.", resumable=True, above=0
    )
    steps: int | None = option(
        None, "Training length in steps (overrides --kimg).", resumable=True, minimum=1
    )
    seed: int = option(0, "Seed of every random stream.", minimum=0)
    ckpt_every: int = option(
        1000, "Steps between checkpoints (and progress-bar epochs).", resumable=True, minimum=1
    )
    sample_every: int = option(1000, "Steps between sample grids.", resumable=True, minimum=1)
    eval_every: int = option(5000, "Steps between metric evaluations.", resumable=True, minimum=1)
    keep_checkpoints: int = option(
        3, "How many recent checkpoints to keep.", resumable=True, minimum=1
    )
    num_eval_images: int = option(
        2048, "Real (and fake) images per evaluation.", resumable=True, minimum=1
    )
    metrics: str = option(
        "",
        "Extra metrics besides SWD: comma list of fid, kid, is, pr (precision/recall).",
        resumable=True,
        check=_check_metrics,
    )
    inception_weights: str | None = option(
        None, "Path of classify_image_graph_def.pb (for --metrics).", resumable=True
    )
    feature_extractor: str = option(
        "auto",
        "Features of fid/kid/pr: inception (needs --inception_weights), emoji (the shipped "
        "offline extractor; not Inception numbers) or auto (inception if weights are given).",
        resumable=True,
        choices=FEATURE_EXTRACTORS,
    )
    fid_split: str | None = option(
        None,
        "Real split of the FID/KID/IS reference statistics (None: test for a tfds "
        "dataset, train for an image folder).",
        resumable=True,
        choices=("train", "test"),
    )
    num_fid_images: int = option(
        10000, "Generated images per FID/KID/IS evaluation.", resumable=True, minimum=2
    )
    eval_fakes: str = option(
        "fixed",
        "Latents of the evaluated fakes: fixed (the same at every evaluation, class-balanced "
        "labels) or fresh (new latents and uniform labels at every evaluation, as the "
        "authors' CIFAR and StyleGAN2 evaluations draw them).",
        resumable=True,
        choices=("fixed", "fresh"),
    )
    best_metric: str = option(
        "swd",
        "The metric that picks <run_dir>/checkpoints/best.weights.h5 (one of --metrics, "
        "or swd, which is always measured), or none to keep no best weights.",
        resumable=True,
        choices=BEST_METRICS,
    )
    # --- speed
    jit_compile: bool | str = option(
        "auto",
        "Compile the train step with XLA (auto: where an accelerator is present).",
        resumable=True,
        choices=(True, False, "auto"),
    )
    mixed_precision: str = option(
        "auto",
        "Keras dtype policy (auto: mixed_bfloat16 on a CPU with native bfloat16 arithmetic, "
        "where it is about 1.7x faster, float32 elsewhere).",
        choices=("auto", "float32", "mixed_float16", "mixed_bfloat16"),
    )

    def __post_init__(self):
        problems = [p for f in dataclasses.fields(self) if (p := _field_problem(self, f))]
        if not problems:  # the combination is only meaningful when every value is
            problems = self._combination_problems()
        if problems:
            raise ConfigError("Invalid configuration. " + " ".join(problems))

    def _combination_problems(self):
        problems = []
        try:
            check_subset(self.percent, self.num_images)
        except ValueError as error:
            problems.append(f"{error}.")
        if self.steps is None and self.kimg is None:
            problems.append("Expected a training length: steps or kimg. Received: neither.")
        inception = self.feature_extractor == "inception" or "is" in self.metrics.split(",")
        if self.metrics and inception and not self.inception_weights:
            problems.append(
                f"Expected inception_weights (a path) for metrics={self.metrics!r} with "
                f"feature_extractor={self.feature_extractor!r}: IS and Inception features "
                "need --inception_weights=PATH. Received: none."
            )
        if self.best_metric not in {*measured_metrics(self.metrics), "none"}:
            problems.append(
                f"Expected best_metric to be one of the measured metrics (swd, none, or one "
                f"of metrics={self.metrics!r}). Received: best_metric={self.best_metric!r}."
            )
        if self.augment_p == "adaptive" and (not self.policy or self.augment_mode == "none"):
            problems.append(
                "Expected a policy and an augment_mode other than none for "
                f"augment_p='adaptive' (p drives the augmentation). Received: "
                f"policy={self.policy!r}, augment_mode={self.augment_mode!r}."
            )
        presets = FAMILIES[self.model].PRESETS
        if self.model_preset not in presets:
            problems.append(
                f"Expected a {self.model} model_preset in {sorted(presets)}. "
                f"Received: model_preset={self.model_preset!r}."
            )
        return problems

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-able dict (what `config.json` holds)."""
        return dataclasses.asdict(self)

    def select(self, *names: str) -> dict[str, Any]:
        """`{name: value}` of the named fields, e.g. as keyword arguments of an API whose
        argument names are the field names."""
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """A validated config from a dict of field values (missing ones: defaults).

        Args:
            values: `{field name: value}`, e.g. a run's `config.json`.

        Returns:
            The config.

        Raises:
            ConfigError: for unknown keys or invalid values.
        """
        unknown = sorted(set(values) - set(FIELDS))
        if unknown:
            raise ConfigError(
                f"Unknown configuration keys {unknown}. Valid keys: {sorted(FIELDS)}."
            )
        return cls(**values)

    @property
    def images_per_step(self) -> int:
        """Real images one train step reads (and shows D): one global batch per D step.

        The dataset is batched by it; `GAN` splits each batch into its D steps' parts.
        """
        return self.batch_size * self.d_steps_per_g_step

    @property
    def total_steps(self) -> int:
        """Training steps: `steps`, or `kimg` over the images one step shows D."""
        if self.steps is not None:
            return self.steps
        return math.ceil(self.kimg * 1000 / self.images_per_step)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
# The fields a resumed run may change; run_dir compares every other one.
RESUMABLE_FIELDS = frozenset(name for name, f in FIELDS.items() if f.metadata["resumable"])
_TYPES = typing.get_type_hints(TrainConfig)


def allowed_types(name: str) -> tuple[type, ...]:
    """The types field `name`'s annotation allows, e.g. (int, NoneType) for `int | None`."""
    hint = _TYPES[name]
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    return typing.get_args(hint) if is_union else (hint,)


def _type_matches(value, allowed):
    if isinstance(value, bool):  # bool is an int subclass, but never a number here
        return bool in allowed
    if isinstance(value, int) and float in allowed:
        return True
    return isinstance(value, tuple(t for t in allowed if t is not bool))


_COMPARE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def choices_text(field: dataclasses.Field) -> str:
    """A field's choices as the command line spells them ("true", not "True")."""
    shown = (str(c).lower() if isinstance(c, bool) else str(c) for c in field.metadata["choices"])
    return ", ".join(shown)


def _field_problem(config, field):
    """The Keras-style sentence saying what is wrong with one field, or None."""
    name, meta = field.name, field.metadata
    value = getattr(config, name)
    allowed = allowed_types(name)
    if value is None:
        return None if type(None) in allowed else f"Expected a value for {name}. Received: None."
    if not _type_matches(value, allowed):
        expected = " or ".join(t.__name__ for t in allowed if t is not type(None))
        return f"Expected {name} of type {expected}. Received: {name}={value!r}."
    if meta["choices"] is not None and value not in meta["choices"]:
        return f"Expected {name} in {{{choices_text(field)}}}. Received: {name}={value!r}."
    for op, bound in meta["bounds"].items():
        if not _COMPARE[op](value, bound):
            return f"Expected {name} {op} {bound}. Received: {name}={value!r}."
    if meta["check"] is not None:
        try:
            meta["check"](value)
        except ValueError as error:
            return str(error)
    return None


# Moved to keras_models.cli.flags: the old names stay importable from here for one release.
_MOVED_TO_CLI = ("define_flags", "flag_overrides")


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_CLI:
        warnings.warn(
            f"keras_models.config.{name} moved to keras_models.cli.flags.{name}; the old "
            "name will be removed in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        from keras_models.cli import flags

        return getattr(flags, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
