"""`python train.py ...` in a checkout: the `tf-diffaug-train` command line.

    python train.py --preset=demo --run_dir=runs/demo     # a few CPU minutes
    python train.py generate --export_dir=runs/demo/export --output=grid.png
    python train.py --help                                # every flag

The command line lives in `keras_models.cli.main` (flags, commands, exit codes); the
training run it makes is `keras_models.cli.Training`, which Python code can call
directly (see `keras_models.cli`).
"""

from keras_models.cli.main import run

if __name__ == "__main__":
    run()
