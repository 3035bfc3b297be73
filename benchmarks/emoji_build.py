"""Builds the offline emoji datasets: Google's Noto Emoji images as small real image sets.

The images come from the npm package `emoji-datasource-google` (64x64 RGBA PNGs and
`emoji.json`, which gives every emoji's category). The package's code and metadata are
MIT (Cal Henderson); the Google/Noto images are Apache-2.0 (Google's noto-emoji). The
package ships the MIT text only, so the built set carries the Apache-2.0 text and a
NOTICE stating which license covers what.

The repository ships the `faces` set (the 169 "Smileys & Emotion" emoji, a 100-shot-sized
set) in `keras_models/data_files/emoji_faces/` (`keras_models.data.FACES_DIR`). This
script rebuilds it and builds the larger sets that the experiments use, when npm is
installed:

```
python benchmarks/emoji_build.py build --out DIR --set faces|all|all_with_variants
```

Sets: `faces` is the "Smileys & Emotion" category; `all` is every base emoji that has a
Google image (about 1,900); `all_with_variants` adds the skin-tone variants (about
3,800). Images are written to `DIR/<category-slug>/<codepoints>.png` (so that
`image_folder(..., labels=True)` gives category labels), with `manifest.json` listing
each file, its name, category, subcategory and SHA-256.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_models.data import FACES_DIR  # noqa: E402

PACKAGE = "emoji-datasource-google"
# Pinned so that a rebuild gives the shipped files; pass --package to use another.
PACKAGE_VERSION = "16.0.0"
SETS = ("faces", "all", "all_with_variants")
FACES_CATEGORY = "Smileys & Emotion"

_IMAGE_DIR = "img/google/64"
_LICENSE_FILES = ("LICENSE", "LICENSE-emoji-data", "NOTICE")
_NOTICE = """\
Emoji images: Noto Emoji, Copyright Google Inc., licensed under the Apache License,
Version 2.0 (LICENSE in this folder; https://github.com/googlefonts/noto-emoji).
The 64x64 PNGs are unmodified copies from the npm package {package}
(https://github.com/iamcal/emoji-data), whose README states: "Android/Google/Noto
images, are available under the Apache License 2.0".

Emoji metadata (names, categories in manifest.json) comes from that package's
emoji.json: Copyright (c) 2013 Cal Henderson, MIT License (LICENSE-emoji-data).

Set: {set_name}, {count} images, built by `python benchmarks/emoji_build.py build`.
{flags}"""
_FLAGS_NOTICE = """
Flags: noto-emoji takes its flag images from its third_party/region-flags folder, which
has its own license terms; check them there before redistributing this set.
"""


def slug(text):
    """'Smileys & Emotion' -> 'smileys-emotion' (a folder name)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def select(emoji_json, set_name):
    """Selects the emoji of a set from the package's `emoji.json` entries.

    Args:
        emoji_json: the parsed `emoji.json` (a list of dicts).
        set_name: one of `SETS`.

    Returns:
        A list of manifest entries (dicts with `file`, `image`, `name`, `category`,
        `subcategory`, `unified`), in the package's sort order.
    """
    if set_name not in SETS:
        raise ValueError(f"Expected set_name in {SETS}. Received: set_name={set_name!r}")
    entries = []
    for item in sorted(emoji_json, key=lambda e: e["sort_order"]):
        if not item.get("has_img_google"):
            continue
        if set_name == "faces" and item["category"] != FACES_CATEGORY:
            continue
        variants = [item]
        if set_name == "all_with_variants":
            skins = item.get("skin_variations") or {}
            variants += [v for _, v in sorted(skins.items()) if v.get("has_img_google")]
        for v in variants:
            entries.append(
                {
                    "file": f"{slug(item['category'])}/{v['image']}",
                    "image": v["image"],
                    "name": item["name"],
                    "category": item["category"],
                    "subcategory": item["subcategory"],
                    "unified": v["unified"],
                }
            )
    return entries


def npm_pack(workdir, package_spec):
    """Runs `npm pack PACKAGE_SPEC` in `workdir`; returns the tarball's path."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "Building the emoji dataset needs npm (to run `npm pack "
            f"{package_spec}`), and npm is not on PATH. Install Node.js/npm, or pass "
            "--source with a tarball or an unpacked package downloaded elsewhere."
        )
    out = subprocess.run(
        [npm, "pack", package_spec, "--silent"],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
    )
    return os.path.join(workdir, out.stdout.strip().splitlines()[-1])


def unpack(source, workdir):
    """Returns the package folder for a tarball or an unpacked package folder."""
    if os.path.isdir(source):
        return source
    with tarfile.open(source) as tar:
        tar.extractall(workdir, filter="data")
    return os.path.join(workdir, "package")


def _apache_license_text():
    # The package ships only its MIT license; the Apache-2.0 text travels with the
    # shipped faces set, so a rebuild copies it from there.
    with open(os.path.join(FACES_DIR, "LICENSE"), encoding="utf-8") as f:
        return f.read()


def build(out_dir, set_name="faces", source=None, package_spec=f"{PACKAGE}@{PACKAGE_VERSION}"):
    """Builds an emoji image set in `out_dir`.

    Args:
        out_dir: the folder to write (created; existing files are overwritten).
        set_name: "faces", "all" or "all_with_variants".
        source: an `npm pack` tarball or an unpacked package folder; None runs
            `npm pack package_spec` in a temporary folder.
        package_spec: what to `npm pack` when `source` is None.

    Returns:
        The manifest dict written to `out_dir/manifest.json`.
    """
    apache = _apache_license_text()
    with tempfile.TemporaryDirectory() as work:
        package_dir = unpack(source or npm_pack(work, package_spec), work)
        with open(os.path.join(package_dir, "package.json"), encoding="utf-8") as f:
            package = json.load(f)
        with open(os.path.join(package_dir, "emoji.json"), encoding="utf-8") as f:
            entries = select(json.load(f), set_name)
        for entry in entries:
            target = os.path.join(out_dir, entry["file"])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(os.path.join(package_dir, _IMAGE_DIR, entry["image"]), target)
            with open(target, "rb") as f:
                entry["sha256"] = hashlib.sha256(f.read()).hexdigest()
            del entry["image"]
        shutil.copyfile(
            os.path.join(package_dir, "LICENSE"), os.path.join(out_dir, "LICENSE-emoji-data")
        )
    package_id = f"{package['name']}@{package['version']}"
    with open(os.path.join(out_dir, "LICENSE"), "w", encoding="utf-8") as f:
        f.write(apache)
    with open(os.path.join(out_dir, "NOTICE"), "w", encoding="utf-8") as f:
        has_flags = any(e["category"] == "Flags" for e in entries)
        f.write(
            _NOTICE.format(
                package=package_id,
                set_name=set_name,
                count=len(entries),
                flags=_FLAGS_NOTICE if has_flags else "",
            )
        )
    manifest = {
        "source": package_id,
        "set": set_name,
        "count": len(entries),
        "image_license": "Apache-2.0",
        "metadata_license": "MIT",
        "images": entries,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return manifest


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python benchmarks/emoji_build.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build an emoji image set")
    b.add_argument("--out", required=True, help="output folder")
    b.add_argument("--set", default="faces", choices=SETS, dest="set_name")
    b.add_argument("--source", help="npm tarball or unpacked package (default: npm pack)")
    b.add_argument("--package", default=f"{PACKAGE}@{PACKAGE_VERSION}", help="npm spec")
    args = parser.parse_args(argv)
    manifest = build(args.out, args.set_name, args.source, args.package)
    print(f"wrote {manifest['count']} images ({manifest['source']}) to {args.out}")


if __name__ == "__main__":
    main()
