"""Times one training iteration of the authors' PyTorch DiffAugment-BigGAN-CIFAR on CPU.

    python benchmarks/authors_biggan_step.py --code DIR [--width 16] [--iters 5]

The reference for issue 15's step-speed target, run by `biggan_bench.py --authors_code`.
DIR is `DiffAugment-biggan-cifar` of a checkout of mit-han-lab/data-efficient-gans (not
shipped here: it is the authors' code, under their license). It needs an interpreter
with `torch`, `scipy` and `tqdm`, for example a separate venv: `pip install torch scipy
tqdm`. Their modules also import `torchvision` and `h5py` for data loading, which an
iteration on in-memory tensors does not use: empty stand-ins are registered for them, so
that a torchvision build that does not match the torch build cannot stop the benchmark.

The iteration is their `train_fns.GAN_training_function` on `BigGAN.G_D`, configured as
`scripts/DiffAugment-biggan-cifar10-0.1.sh` (batch 50, 4 D steps, `translation,cutout`,
EMA, no attention, N02 init) at G_ch = D_ch = `--width`, on random data: the arithmetic
of our `biggan_bench.py` step. Prints the parameter counts (to check that the two models
match) and the median iteration time over `--iters` iterations after one warm-up.
"""

import argparse
import importlib.machinery
import statistics
import sys
import time
import types

# The names their modules import at load time from torchvision and h5py (data loading).
DATA_MODULES = {
    "torchvision": {},
    "torchvision.transforms": {},
    "torchvision.datasets": {
        "ImageFolder": object,
        "CIFAR10": object,
        "CIFAR100": object,
        "VisionDataset": object,
    },
    "torchvision.datasets.utils": {"download_url": None, "check_integrity": None},
    "h5py": {},
}


def stand_in_data_modules():
    for name, attributes in DATA_MODULES.items():
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)
        module.__dict__.update(attributes)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


def build_iteration(width):
    """The authors' training function and its data, as their train.py sets them up."""
    import BigGAN
    import torch
    import train_fns
    import utils

    script = (
        "--DiffAugment translation,cutout --batch_size 50 --num_G_accumulations 1 "
        "--num_D_accumulations 1 --num_D_steps 4 --G_lr 2e-4 --D_lr 2e-4 --dataset C10 "
        "--G_ortho 0.0 --G_attn 0 --D_attn 0 --G_init N02 --D_init N02 --ema --use_ema "
        "--ema_start 1000 "
        f"--G_ch {width} --D_ch {width}"
    )
    config = vars(utils.prepare_parser().parse_args(script.split()))
    config.update(resolution=32, n_classes=10)  # what train.py derives from the dataset
    config["G_activation"] = utils.activation_dict[config["G_nl"]]
    config["D_activation"] = utils.activation_dict[config["D_nl"]]
    torch.manual_seed(0)
    generator, discriminator = BigGAN.Generator(**config), BigGAN.Discriminator(**config)
    ema_generator = BigGAN.Generator(**{**config, "skip_init": True, "no_optim": True})
    ema = utils.ema(generator, ema_generator, config["ema_decay"], config["ema_start"])
    state = {"itr": 0, "epoch": 0, "config": config}
    z, y = utils.prepare_z_y(config["batch_size"], generator.dim_z, 10, device="cpu")
    train = train_fns.GAN_training_function(
        generator, discriminator, BigGAN.G_D(generator, discriminator), z, y, ema, state, config
    )
    images = config["batch_size"] * config["num_D_steps"]
    x = torch.rand(images, 3, 32, 32) * 2 - 1
    labels = torch.randint(0, 10, (images,))
    counts = [sum(p.numel() for p in net.parameters()) for net in (generator, discriminator)]
    return (lambda: train(x, labels)), state, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", required=True, help="the DiffAugment-biggan-cifar folder")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--iters", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, args.code)
    stand_in_data_modules()
    iteration, state, (g_params, d_params) = build_iteration(args.width)
    import torch

    print(
        f"authors' BigGAN: G {g_params:,} + D {d_params:,} parameters, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    iteration()  # warm-up
    times = []
    for _ in range(args.iters):
        start = time.perf_counter()
        iteration()
        state["itr"] += 1
        times.append(time.perf_counter() - start)
    print(f"iteration seconds: {statistics.median(times):.4f}")


if __name__ == "__main__":
    main()
