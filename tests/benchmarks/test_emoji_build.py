"""benchmarks/emoji_build.py: choosing the emoji sets and building one from a package."""

import hashlib
import json
import os
import sys

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))

import emoji_build  # noqa: E402


def _write(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def test_emoji_select_sets():
    items = [
        {"name": "B", "image": "b.png", "unified": "B", "category": "Smileys & Emotion",
         "subcategory": "s", "sort_order": 2, "has_img_google": True,
         "skin_variations": {"1F3FB": {"image": "b-1.png", "unified": "B-1",
                                       "has_img_google": True}}},
        {"name": "A", "image": "a.png", "unified": "A", "category": "Flags",
         "subcategory": "f", "sort_order": 1, "has_img_google": True},
        {"name": "C", "image": "c.png", "unified": "C", "category": "Flags",
         "subcategory": "f", "sort_order": 3, "has_img_google": False},
    ]  # fmt: skip
    assert [e["file"] for e in emoji_build.select(items, "faces")] == ["smileys-emotion/b.png"]
    assert [e["name"] for e in emoji_build.select(items, "all")] == ["A", "B"]
    variants = emoji_build.select(items, "all_with_variants")
    assert [e["unified"] for e in variants] == ["A", "B", "B-1"]
    with pytest.raises(ValueError, match="set_name"):
        emoji_build.select(items, "everything")


def test_emoji_build_from_package_folder(tmp_path):
    package = tmp_path / "package"
    (package / "img" / "google" / "64").mkdir(parents=True)
    (package / "package.json").write_text('{"name": "emoji-datasource-google", "version": "0"}')
    (package / "LICENSE").write_text("The MIT License (MIT)")
    items = [
        {"name": n, "image": f"{n}.png", "unified": n, "category": c, "subcategory": "s",
         "sort_order": i, "has_img_google": True}
        for i, (n, c) in enumerate([("a", "Smileys & Emotion"), ("b", "Flags")])
    ]  # fmt: skip
    (package / "emoji.json").write_text(json.dumps(items))
    for item in items:
        _write(
            str(package / "img" / "google" / "64" / item["image"]), np.zeros((4, 4, 4), np.uint8)
        )
    out = tmp_path / "out"
    manifest = emoji_build.build(str(out), "all", source=str(package))
    assert manifest["count"] == 2 and manifest["source"] == "emoji-datasource-google@0"
    assert sorted(os.listdir(out / "flags")) == ["b.png"]
    assert "Apache License" in (out / "LICENSE").read_text()
    assert "MIT" in (out / "LICENSE-emoji-data").read_text()
    assert "region-flags" in (out / "NOTICE").read_text()  # flags have their own terms
    sha = hashlib.sha256((out / "smileys-emotion" / "a.png").read_bytes()).hexdigest()
    assert json.loads((out / "manifest.json").read_text())["images"][0]["sha256"] == sha


def test_emoji_build_without_npm_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(emoji_build.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="needs npm"):
        emoji_build.build(str(tmp_path / "out"))


def test_a_rebuild_of_the_faces_writes_the_shipped_notice():
    # The faces set ships in the package; its NOTICE is what `build` writes for it.
    with open(os.path.join(emoji_build.FACES_DIR, "manifest.json")) as f:
        manifest = json.load(f)
    notice = emoji_build._NOTICE.format(
        package=manifest["source"], set_name="faces", count=manifest["count"], flags=""
    )
    with open(os.path.join(emoji_build.FACES_DIR, "NOTICE")) as f:
        assert f.read() == notice
    assert "python benchmarks/emoji_build.py build" in notice
