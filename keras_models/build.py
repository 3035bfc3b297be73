"""The compiled GAN a training configuration describes: backbones, augmentation, Adam."""

import keras

import tf_diffaug
from keras_models import stylegan2
from keras_models.adaptive import AdaptiveStrength
from keras_models.config import TrainConfig
from keras_models.families import FAMILIES
from keras_models.gan import GAN
from keras_models.lecam import LeCamRegularizer


def adam(config: TrainConfig, network: str) -> keras.optimizers.Adam:
    """The Adam optimizer of one network, with the configuration's settings.

    Lazy regularisation adds the penalty to the loss of the step it is due in (as
    DiffAugment-stylegan2's training loop), so Adam is not rescaled; NVlabs' separate
    regularisation step with rescaled Adam is not implemented (see docs/differences.md).

    Args:
        config: the run's configuration (learning rates, betas, epsilon).
        network: "generator" or "discriminator".

    Returns:
        A new `keras.optimizers.Adam`.
    """
    learning_rate = config.g_learning_rate if network == "generator" else config.d_learning_rate
    return keras.optimizers.Adam(
        learning_rate,
        beta_1=config.adam_beta_1,
        beta_2=config.adam_beta_2,
        epsilon=config.adam_epsilon,
    )


def build_gan(config: TrainConfig, num_classes: int | None = None) -> GAN:
    """G, D and the compiled `keras_models.GAN` of a configuration.

    Call it inside the distribution strategy's scope. G and D are the backbone preset
    (`config.model`, `config.model_preset`) with the configuration's `resolution` and
    `width` when set.

    Args:
        config: the run's configuration.
        num_classes: the dataset's classes for a conditional GAN; None for unconditional.

    Returns:
        The GAN, compiled with both optimizers.
    """
    family = FAMILIES[config.model]
    overrides = {"num_classes": num_classes}
    if config.resolution:
        overrides["resolution"] = config.resolution
    if config.width:
        overrides["width"] = config.width
    generator = family.Generator.from_preset(config.model_preset, **overrides)
    discriminator = family.Discriminator.from_preset(config.model_preset, **overrides)
    policy, consistency_policy = config.policy, config.consistency_policy
    g_regularizer = None
    if config.pl_weight:
        g_regularizer = stylegan2.PathLengthRegularizer(
            weight=config.pl_weight, interval=config.pl_interval
        )
    adaptive = config.augment_p == "adaptive"
    augment_strength = None
    if adaptive:
        augment_strength = AdaptiveStrength(
            target=config.ada_target, speed_kimg=config.ada_kimg, interval=config.ada_interval
        )
    lecam = None
    if config.lecam_weight:
        lecam = LeCamRegularizer(
            weight=config.lecam_weight, decay=config.lecam_decay, start_step=config.lecam_start_step
        )
    augment = None
    if policy:
        probability = 1.0 if adaptive else config.augment_p
        augment = tf_diffaug.DiffAugment(policy, probability=probability, seed=config.seed)
    gan = GAN(
        generator,
        discriminator,
        latent_dim=generator.latent_dim,
        augment=augment,
        augment_mode=config.augment_mode if policy else "none",
        augment_strength=augment_strength,
        lecam=lecam,
        # A stream of its own, beside the latents' (seed) and the samples' (seed + 1).
        consistency_augment=(
            tf_diffaug.DiffAugment(consistency_policy, seed=config.seed + 2)
            if consistency_policy
            else None
        ),
        num_classes=num_classes,
        g_regularizer=g_regularizer,
        frozen_discriminator_blocks=config.freeze_d,
        **config.select(
            "loss",
            "r1_gamma",
            "r1_interval",
            "r1_inputs",
            "consistency_weight",
            "fake_labels",
            "ema_decay",
            "ema_start_step",
            "d_steps_per_g_step",
            "seed",
        ),
    )
    gan.compile(
        d_optimizer=adam(config, "discriminator"),
        g_optimizer=adam(config, "generator"),
        jit_compile=config.jit_compile,
    )
    return gan
