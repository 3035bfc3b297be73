"""keras_models.config and keras_models.cli.flags: one typed config makes the flags, fills
from recipes, guards resume."""

import json
import math

import pytest
from absl import flags

from keras_models import recipes
from keras_models.cli import flags as config_flags
from keras_models.config import FIELDS, RESUMABLE_FIELDS, ConfigError, TrainConfig
from keras_models.run_dir import RunDirectory, RunDirError
from tests.helpers.runs import run_train


@pytest.fixture()
def flag_values():
    values = flags.FlagValues()
    config_flags.define_flags(values)
    return values


def test_every_field_is_a_flag_and_every_config_flag_a_field(flag_values):
    assert set(flag_values) == set(FIELDS)
    from keras_models.cli import main  # defines its flags on the global FLAGS

    by_module = flags.FLAGS.flags_by_module_dict()
    assert {f.name for f in by_module["keras_models.cli.flags"]} == set(FIELDS)
    # The CLI's own flags say where and how to run, never what: none is a field.
    for module in main.FLAG_MODULES[1:]:
        assert not {f.name for f in by_module[module.__name__]} & set(FIELDS)
    assert {"run_dir", "resume", "strategy", "export_dir"} <= {
        f.name for module in main.FLAG_MODULES[1:] for f in by_module[module.__name__]
    }


def test_flags_parse_to_typed_overrides_of_exactly_the_given_fields(flag_values):
    flag_values(
        [
            "train.py",
            "--r1_interval=16",
            "--pl_weight=2",
            "--adam_beta_1=0.5",
            "--adam_epsilon=1e-8",
            "--ema_start_step=100",
            "--model=stylegan2",
            "--model_preset=ffhq1024",
            "--jit_compile=auto",
            "--nox_flip",
            "--policy=",
        ]
    )
    assert config_flags.flag_overrides(flag_values) == {
        "r1_interval": 16,
        "pl_weight": 2.0,
        "adam_beta_1": 0.5,
        "adam_epsilon": 1e-8,
        "ema_start_step": 100,
        "model": "stylegan2",
        "model_preset": "ffhq1024",
        "jit_compile": "auto",
        "x_flip": False,
        "policy": "",
    }
    for argv, value in ((["--jit_compile"], True), (["--nojit_compile"], False)):
        values = flags.FlagValues()
        config_flags.define_flags(values)
        values(["train.py", *argv])
        assert config_flags.flag_overrides(values) == {"jit_compile": value}


def test_the_flag_functions_stay_importable_from_config_for_one_release():
    from keras_models import config

    with pytest.warns(DeprecationWarning, match="moved to keras_models.cli.flags"):
        assert config.define_flags is config_flags.define_flags
    with pytest.warns(DeprecationWarning):
        assert config.flag_overrides is config_flags.flag_overrides
    with pytest.raises(AttributeError):
        config.no_such_name  # noqa: B018


def test_resume_compares_exactly_the_non_resumable_fields():
    # The same rule as before the typed config: schedules, outputs and speed may change.
    assert RESUMABLE_FIELDS == {
        "steps", "kimg", "ckpt_every", "sample_every", "eval_every", "keep_checkpoints",
        "metrics", "inception_weights", "feature_extractor", "num_eval_images", "jit_compile",
        "fid_split", "num_fid_images", "best_metric", "eval_fakes", "data_dir", "download",
        "g_learning_rate", "d_learning_rate",  # lowered to recover from a divergence
    }  # fmt: skip
    current = recipes.resolve("demo")
    saved = current.to_dict()
    RunDirectory.check_compatible(saved, current)
    for name in FIELDS:
        changed = {**saved, name: "something else"}
        if name in RESUMABLE_FIELDS:
            RunDirectory.check_compatible(changed, current)
        else:
            with pytest.raises(RunDirError, match=f"{name}: 'something else' -> "):
                RunDirectory.check_compatible(changed, current)


def test_a_field_the_saved_run_predates_counts_as_its_default():
    current = recipes.resolve("demo")
    older = {k: v for k, v in current.to_dict().items() if k != "r1_interval"}
    RunDirectory.check_compatible(older, current)  # r1_interval is the default, 1
    with pytest.raises(RunDirError, match="r1_interval: 1 -> 16"):
        RunDirectory.check_compatible(older, recipes.resolve("demo", {"r1_interval": 16}))


def test_a_run_saved_before_auto_precision_resumes_in_float32():
    older = {**recipes.resolve("demo").to_dict(), "mixed_precision": None}  # it ran in float32
    RunDirectory.check_compatible(older, recipes.resolve("demo", {"mixed_precision": "float32"}))
    with pytest.raises(RunDirError, match="mixed_precision: 'float32' -> 'auto'"):
        RunDirectory.check_compatible(older, recipes.resolve("demo"))


def test_config_json_round_trips():
    resolved = recipes.resolve("stylegan2_cifar10", {"percent": 10, "jit_compile": "auto"})
    assert TrainConfig.from_dict(json.loads(json.dumps(resolved.to_dict()))) == resolved
    with pytest.raises(ConfigError, match=r"Unknown configuration keys \['bogus'\]"):
        TrainConfig.from_dict({**resolved.to_dict(), "bogus": 1})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"steps": 0}, "Expected steps >= 1. Received: steps=0."),
        ({"batch_size": 0}, "Expected batch_size >= 1. Received: batch_size=0."),
        ({"d_steps_per_g_step": 0}, "Expected d_steps_per_g_step >= 1."),
        ({"ckpt_every": 0}, "Expected ckpt_every >= 1."),
        ({"sample_every": -1}, "Expected sample_every >= 1."),
        ({"eval_every": 0}, "Expected eval_every >= 1."),
        ({"width": 0}, "Expected width >= 1."),
        ({"holdout": -1}, "Expected holdout >= 0."),
        ({"percent": 0}, "Expected percent > 0. Received: percent=0."),
        ({"percent": 100.5}, "Expected percent <= 100."),
        ({"num_images": 0}, "Expected num_images >= 1."),
        (
            {"subset_selection": "random"},
            "Expected subset_selection in {stratified, uniform, first}. Received: "
            "subset_selection='random'.",
        ),
        ({"loss": "lsgan"}, "Expected loss in {hinge, non_saturating, wasserstein}."),
        ({"augment_mode": "fakes_only"}, "Expected augment_mode in {diffaugment,"),
        ({"model": "dcgan"}, "Expected model in {biggan, stylegan2}. Received: model='dcgan'."),
        ({"model_preset": "cifar64"}, "Expected a biggan model_preset in ['cifar32',"),
        ({"jit_compile": "maybe"}, "Expected jit_compile in {true, false, auto}."),
        ({"mixed_precision": "float8"}, "Expected mixed_precision in {auto, float32, mixed_f"),
        ({"adam_beta_2": 1.0}, "Expected adam_beta_2 < 1."),
        ({"batch_size": 8.0}, "Expected batch_size of type int. Received: batch_size=8.0."),
        ({"conditional": 1}, "Expected conditional of type bool."),
        ({"policy": "color,blur"}, "Unknown DiffAugment op 'blur'"),
        ({"metrics": "fid,lpips"}, "Expected metrics from fid, kid, is, pr"),
        ({"metrics": "fid,is"}, "for metrics='fid,is' with feature_extractor='auto': IS"),
        ({"metrics": "fid", "feature_extractor": "inception"}, "need --inception_weights"),
        ({"feature_extractor": "vgg"}, "Expected feature_extractor in {auto, inception, emoji"),
        (
            {"percent": 10, "num_images": 5},
            "Expected at most one of `percent` and `num_images`. Received: percent=10,",
        ),
    ],
)
def test_invalid_values_are_rejected_with_a_clear_message(overrides, message):
    with pytest.raises(ConfigError) as error:
        recipes.resolve("demo", overrides)
    assert message in str(error.value)


def test_every_invalid_value_is_listed_at_once():
    with pytest.raises(ConfigError) as error:
        recipes.resolve("demo", {"batch_size": 0, "loss": "lsgan", "holdout": -1})
    assert str(error.value).count("Expected") == 3
    with pytest.raises(ConfigError, match="Expected a training length: steps or kimg"):
        TrainConfig()


def test_recipes_resolve_to_the_papers_values():
    cifar = recipes.resolve("biggan_cifar10")
    assert (cifar.batch_size, cifar.d_steps_per_g_step, cifar.policy) == (
        50, 4, "translation,cutout",
    )  # fmt: skip
    assert (cifar.ema_decay, cifar.ema_start_step, cifar.x_flip) == (0.9999, 1000, True)
    assert (cifar.conditional, cifar.resolution, cifar.adam_epsilon) == (True, 32, 1e-8)
    # The scripts' lengths: 1000 epochs of the full set, 5000 of a 10% / 20% subset.
    assert cifar.kimg == 50_000 and cifar.total_steps == math.ceil(50_000_000 / 200)
    assert cifar.images_per_step == 200  # batch 50 for each of 4 D steps
    assert recipes.resolve("biggan_cifar10", {"percent": 10}).kimg == 25_000
    assert recipes.resolve("biggan_cifar10", {"percent": 20}).kimg == 50_000
    assert recipes.resolve("biggan_cifar100").kimg == 100_000  # 2000 epochs
    assert recipes.resolve("biggan_cifar10", {"percent": 10, "kimg": 7}).kimg == 7
    assert (cifar.fid_split, cifar.num_fid_images, cifar.fake_labels) == ("test", 10_000, "random")
    sg2 = recipes.resolve("stylegan2_cifar10")
    assert (sg2.r1_gamma, sg2.loss, sg2.batch_size, sg2.kimg) == (0.1, "non_saturating", 32, 25000)
    assert (sg2.g_learning_rate, sg2.adam_beta_2, sg2.adam_epsilon) == (0.002, 0.99, 1e-8)
    assert sg2.ema_decay == pytest.approx(0.5 ** (32 / 1e6))
    assert sg2.ema_start_step == 31_250  # one half-life: 1000 kimg at batch 32
    assert sg2.policy == "color,cutout" and sg2.r1_inputs == "augmented"
    assert recipes.resolve("stylegan2_cifar10", {"num_images": 5000}).policy == (
        "color,translation,cutout"
    )
    fewshot = recipes.resolve("stylegan2_fewshot")
    assert (fewshot.r1_inputs, fewshot.ema_start_step) == ("reals", 625)  # ns_DiffAugment_r1
    assert (fewshot.fid_split, fewshot.num_fid_images) == ("train", 5000)  # fid5k-train
    # CR-BigGAN: the full-data script vs the subset scripts (--CR_augment "").
    cr = recipes.resolve("cr_biggan_cifar10")
    assert (cr.consistency_weight, cr.policy, cr.consistency_policy) == (
        10.0, "cutout", "flip,translation",
    )  # fmt: skip
    cr10 = recipes.resolve("cr_biggan_cifar10", {"percent": 10})
    assert (cr10.policy, cr10.consistency_policy, cr10.kimg) == ("translation,cutout", "", 25_000)
    assert recipes.resolve("cr_biggan_cifar10", {"percent": 10, "policy": "cutout"}).policy == (
        "cutout"
    )
    assert "DiffAugment-cr-biggan-cifar10.sh" in recipes.describe(cr10)[0]
    assert recipes.describe(cr10)[1] == "Length: 25000 kimg = 5000 epochs of 5,000 images."
    # Precedence: defaults < backbone preset training < recipe < overrides.
    demo = recipes.resolve("demo")
    assert (demo.batch_size, demo.x_flip, demo.holdout, demo.ema_decay) == (16, True, 24, 0.99)
    assert demo.jit_compile == "auto" and demo.total_steps == 1500
    assert recipes.resolve("demo", {"batch_size": 4, "steps": None}).batch_size == 4
    # The backbone preset whose training entry applies is the one finally named.
    ffhq = recipes.resolve("stylegan2_cifar10", {"model_preset": "ffhq1024"})
    assert (ffhq.r1_interval, ffhq.pl_weight, ffhq.resolution) == (16, 2.0, 1024)


def test_train_py_exits_2_on_invalid_values_before_writing_anything(tmp_path):
    run_dir = tmp_path / "run"
    result = run_train(f"--run_dir={run_dir}", "--batch_size=0", "--augment_mode=fakes_only")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "train.py: error: Invalid configuration." in result.stderr
    assert "Expected batch_size >= 1" in result.stderr and "augment_mode" in result.stderr
    assert not run_dir.exists()
    result = run_train(f"--run_dir={run_dir}", "--steps=many")
    assert result.returncode == 2 and "--steps" in result.stderr and not run_dir.exists()
