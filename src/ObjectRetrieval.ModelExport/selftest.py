#!/usr/bin/env python3
"""Self-test of the exporter: seeded random-init exports end to end, no downloads.

    python selftest.py                 # prints "N passed, N failed, N skipped"
    python -m pytest selftest.py -q    # the same tests under pytest

Tests that need a library which is not installed are skipped, not failed:
tokenizer and model.json tests need nothing beyond the standard library; the
export tests need torch, onnx, onnxruntime, numpy and transformers (HF preset)
or open_clip_torch (open_clip preset).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import traceback
import unittest
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from clipexport import bpe, package  # noqa: E402

# 64 px training size (4x4 grid) exported at 96 px (6x6): exercises interpolation.
IMAGE_SIZE = 96


def require(*modules: str) -> None:
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise unittest.SkipTest(f"not installed: {', '.join(missing)}")


def export_random(config: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run the real command line in a fresh interpreter (exit code, no shared state)."""
    command = [sys.executable, str(HERE / "export_clip.py"), "--random-init", config, "--out", str(out),
               "--image-size", str(IMAGE_SIZE), *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


# --------------------------------------------------------------------------- #
# No heavy dependencies
# --------------------------------------------------------------------------- #

def test_synthetic_bpe_tables_round_trip() -> None:
    tables = bpe.tables_from_open_clip_bpe(bpe.synthetic_open_clip_bpe_text(["photo", "hydrant", "a"]))
    assert tables.vocab["!"] == 0 and tables.vocab["!</w>"] == 256, "byte symbols must come first, '!' first"
    assert tables.end_id == len(tables.vocab) - 1 and tables.start_id == tables.end_id - 1
    with tempfile.TemporaryDirectory() as folder:
        vocab, merges = Path(folder) / "vocab.json", Path(folder) / "merges.txt"
        bpe.write_hf_files(tables, vocab, merges)
        assert merges.read_text(encoding="utf-8").startswith("#version: 0.2\n")
        back = bpe.read_hf_files(vocab, merges)
    assert back.vocab == tables.vocab and back.merges == tables.merges
    row = bpe.ClipBpeTokenizer(back, 16).sequence("A  Photo of a HYDRANT")
    photo, hydrant = back.vocab["photo</w>"], back.vocab["hydrant</w>"]
    assert row[:7] == [back.start_id, back.vocab["a</w>"], photo, back.vocab["o"], back.vocab["f</w>"],
                       back.vocab["a</w>"], hydrant], row
    assert row[7] == back.end_id and row[8:] == [0] * 8
    long_row = bpe.ClipBpeTokenizer(back, 8).sequence("a photo " * 20)
    assert len(long_row) == 8 and long_row[-1] == back.end_id, "truncation keeps the end token last"


def test_real_open_clip_vocabulary_conversion() -> None:
    require("open_clip", "torch")
    from open_clip.tokenizer import default_bpe

    tables = bpe.read_open_clip_bpe(default_bpe())
    assert len(tables.vocab) == 49408 and len(tables.merges) == 48894
    assert (tables.start_id, tables.end_id) == (49406, 49407)
    # The well-known CLIP ids of "a photo of a cat." (a, photo, of, a, cat, .).
    row = bpe.ClipBpeTokenizer(tables, 77).sequence("a photo of a cat.")
    assert row[:8] == [49406, 320, 1125, 539, 320, 2368, 269, 49407], row[:8]


def test_model_json_validation() -> None:
    document = package.build_model_json(
        name="clip-test", version="1", embedding_dim=8, image_size=448, patch_size=16,
        mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), context_length=77, pad_token_id=0,
        templates=["a photo of a {}."], source={"checkpoint": "none"})
    assert document["image"]["resize"] == "center-crop" and document["text"]["hasAttentionMask"] is False
    for mutate in (lambda d: d.update(formatVersion=2),
                   lambda d: d["image"].update(imageSize=450),
                   lambda d: d["text"]["tokenizer"].update(startToken="<start_of_text>"),
                   lambda d: d.update(promptTemplates=["no placeholder"])):
        broken = json.loads(json.dumps(document))
        mutate(broken)
        try:
            package.validate_model_json(broken)
        except ValueError:
            continue
        raise AssertionError("an invalid model.json was accepted")
    with tempfile.TemporaryDirectory() as folder:
        try:
            package.write_model_json(Path(folder), document)
        except ValueError as error:
            assert "image.onnx missing" in str(error)
        else:
            raise AssertionError("model.json was written although the files it names are missing")
        assert not (Path(folder) / "model.json").exists()


def test_position_interpolation_keeps_orientation() -> None:
    require("torch")
    import torch

    from clipexport.towers import interpolate_position_embedding

    source_grid, target_grid, width = 4, 7, 3
    rows = torch.arange(source_grid, dtype=torch.float32).repeat_interleave(source_grid)   # value = row index
    table = torch.stack([rows, torch.zeros_like(rows), torch.ones_like(rows)], dim=1)
    table = torch.cat([torch.full((1, width), 42.0), table])
    resized = interpolate_position_embedding(table, target_grid)
    assert resized.shape == (1 + target_grid * target_grid, width)
    assert torch.equal(resized[0], table[0]), "class token must be kept"
    grid = resized[1:, 0].reshape(target_grid, target_grid)
    assert torch.allclose(grid, grid[:, :1].expand_as(grid), atol=1e-5), "row-only variation must stay row-only"
    assert bool((grid[1:, 0] >= grid[:-1, 0] - 1e-5).all()), "row order must be preserved"
    assert torch.allclose(resized[1:, 2], torch.ones(target_grid * target_grid), atol=1e-5)
    assert torch.equal(interpolate_position_embedding(table, source_grid), table)


# --------------------------------------------------------------------------- #
# Dense heads against loop-form references (torch and numpy only)
# --------------------------------------------------------------------------- #

DENSE_HEADS = ("value", "clearclip", "sclip", "naclip")
# Random-weight towers with open_clip's module layout, built from a config.
TOWER_CONFIGS = {
    "tiny": dict(width=64, layers=2, heads=4, patch=16, train_size=64, export_size=96, embed_dim=32, batch=2),
    "vit-b-16": dict(width=768, layers=12, heads=12, patch=16, train_size=224, export_size=448, embed_dim=512,
                     batch=1),
}


def open_clip_layout_visual(width: int, layers: int, heads: int, patch: int, train_size: int, embed_dim: int,
                            seed: int = 0, activation: str = "gelu") -> "object":
    """A CLIP ViT image tower with open_clip's attribute names (conv1,
    class_embedding, positional_embedding, ln_pre, transformer.resblocks[i].
    {ln_1, attn, ln_2, mlp}, ln_post, proj) and seeded random weights, so the
    exporter's real adapter reads it without open_clip installed."""
    import torch
    from torch import nn

    from clipexport import sources

    class QuickGELU(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * torch.sigmoid(1.702 * x)

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(width)
            self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
            self.ln_2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential()
            self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
            self.mlp.add_module("gelu", QuickGELU() if activation == "quick_gelu" else nn.GELU())
            self.mlp.add_module("c_proj", nn.Linear(4 * width, width))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            t = self.ln_1(x)
            x = x + self.attn(t, t, t, need_weights=False)[0]
            return x + self.mlp(self.ln_2(x))

    class Visual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            grid = train_size // patch
            self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
            self.class_embedding = nn.Parameter(torch.randn(width) * width ** -0.5)
            self.positional_embedding = nn.Parameter(torch.randn(1 + grid * grid, width) * width ** -0.5)
            self.ln_pre = nn.LayerNorm(width)
            self.transformer = nn.Module()
            self.transformer.resblocks = nn.ModuleList(Block() for _ in range(layers))
            self.ln_post = nn.LayerNorm(width)
            self.proj = nn.Parameter(torch.randn(width, embed_dim) * width ** -0.5)

    torch.manual_seed(seed)
    visual = Visual().float().eval()
    sources._randomise_affine(visual, torch.Generator().manual_seed(seed + 1))
    return visual


def dense_head_differences(config_name: str) -> dict[str, float]:
    """Max abs diff, per head, of the exporter's ImageTower dense head (the code
    traced into image.onnx) against checks.dense_reference_loop on the same
    last-block input; raises when a head is above tolerance."""
    import numpy as np
    import torch

    from clipexport import checks, sources, towers

    config = TOWER_CONFIGS[config_name]
    visual = open_clip_layout_visual(config["width"], config["layers"], config["heads"], config["patch"],
                                     config["train_size"], config["embed_dim"])
    parts = sources.open_clip_vision_parts(visual, f"random {config_name}")
    weights = checks.reference_weights_open_clip(visual)
    size, grid = config["export_size"], config["export_size"] // config["patch"]
    pixels = checks.random_pixels(config["batch"], size, sources.OPENAI_MEAN, sources.OPENAI_STD, seed=3)
    differences: dict[str, float] = {}
    for head in DENSE_HEADS:
        tower = towers.ImageTower(parts, size, torch.float32, torch.device("cpu"), head).eval()
        with torch.no_grad():
            last_input = tower.trunk(pixels)
            got = tower.dense_head(last_input)
        reference = checks.dense_reference_loop(head, last_input.double().numpy(), weights, grid)
        result = checks.compare(f"{head} @{size}", got, reference, checks.FP32_TOLERANCE)
        print(f"  {config_name} {head}: {result.line()}")
        assert got.shape == (config["batch"], grid * grid, config["embed_dim"])
        assert result.passed, result.line()
        differences[head] = float(np.abs(got.double().numpy() - reference).max())
    return differences


def test_dense_heads_match_loop_references_on_a_tiny_tower() -> None:
    require("torch", "numpy")
    dense_head_differences("tiny")


def test_dense_heads_match_loop_references_on_a_vit_b_16_sized_tower_at_448() -> None:
    require("torch", "numpy")
    import os

    if os.environ.get("SELFTEST_LARGE") != "1":
        raise unittest.SkipTest("set SELFTEST_LARGE=1 (ViT-B/16 sizes at 448 px, minutes of CPU)")
    dense_head_differences("vit-b-16")


def test_each_dense_head_differs_from_the_other_references() -> None:
    """The reference check can fail: every head's output is far from every
    other head's reference on the same input."""
    require("torch", "numpy")
    import torch

    from clipexport import checks, sources, towers

    visual = open_clip_layout_visual(64, 2, 4, 16, 64, 32)
    parts = sources.open_clip_vision_parts(visual, "random tiny")
    weights = checks.reference_weights_open_clip(visual)
    pixels = checks.random_pixels(1, 96, sources.OPENAI_MEAN, sources.OPENAI_STD, seed=4)
    references = {}
    for head in DENSE_HEADS:
        tower = towers.ImageTower(parts, 96, torch.float32, torch.device("cpu"), head).eval()
        with torch.no_grad():
            last_input = tower.trunk(pixels)
            references[head] = (tower.dense_head(last_input), checks.dense_reference_loop(
                head, last_input.double().numpy(), weights, 6))
    for head, (got, _) in references.items():
        for other, (_, reference) in references.items():
            if other != head:
                result = checks.compare(f"{head} vs {other}", got, reference, checks.FP32_TOLERANCE)
                assert not result.passed, f"{head} is indistinguishable from the {other} reference"


def test_naclip_prior_is_a_gaussian_over_the_patch_grid() -> None:
    require("torch", "numpy")
    import numpy as np

    from clipexport import checks, towers

    prior = towers.neighbourhood_prior(5).double().numpy()
    assert np.allclose(prior, checks.naclip_prior_loop(5, towers.NACLIP_GAUSSIAN_STD))
    assert prior[0].max() == 0 and prior[:, 0].max() == 0, "class token pairs get no prior"
    # patch (0,0) is index 1, patch (0,1) index 2, patch (1,0) index 1 + 5
    assert prior[1, 1] == 1.0 and np.isclose(prior[1, 2], np.exp(-1 / 50)) and np.isclose(prior[1, 6], prior[1, 2])


def test_weights_in_a_model_with_the_wrong_activation_are_refused() -> None:
    require("torch")
    from clipexport import sources

    quick = open_clip_layout_visual(64, 2, 4, 16, 64, 32, activation="quick_gelu")
    plain = open_clip_layout_visual(64, 2, 4, 16, 64, 32)
    assert sources.open_clip_activation(quick) == "quick_gelu"
    assert sources.open_clip_activation(plain) == "gelu"
    sources.check_open_clip_activation("quick_gelu", "quick_gelu", "ViT-B-16-quickgelu/openai")
    sources.check_open_clip_activation("gelu", None, "ViT-B-16/local.bin")   # unknown: recorded, not refused
    try:
        sources.check_open_clip_activation(sources.open_clip_activation(plain), "quick_gelu", "ViT-B-16/openai")
    except sources.UnsupportedModel as error:
        assert "quick_gelu" in str(error) and "-quickgelu" in str(error), str(error)
    else:
        raise AssertionError("OpenAI weights in a GELU model were accepted")


def test_resize_modes_the_package_cannot_describe_are_refused() -> None:
    require("torch")
    from torch import nn

    from clipexport import sources

    visual = nn.Module()
    assert sources.open_clip_resize(visual, "x") == ("center-crop", "bicubic")
    visual.preprocess_cfg = {"resize_mode": "longest", "interpolation": "bilinear"}
    assert sources.open_clip_resize(visual, "x") == ("pad", "bilinear")
    visual.preprocess_cfg = {"resize_mode": "squash"}
    try:
        sources.open_clip_resize(visual, "x")
    except sources.UnsupportedModel as error:
        assert "squash" in str(error)
    else:
        raise AssertionError("squash resize was accepted")


# --------------------------------------------------------------------------- #
# End-to-end exports
# --------------------------------------------------------------------------- #

def verify_package(folder: Path) -> None:
    """What the C# side relies on: files, model.json, ONNX names/types/shapes,
    run-time shapes, tokenizer files; and that the exporter's checks (the dense
    path among them) passed."""
    import numpy as np
    import onnxruntime as ort

    from clipexport import checks

    document = json.loads((folder / package.MODEL_JSON).read_text(encoding="utf-8"))
    package.validate_model_json(document, folder)
    dim, size = document["embeddingDim"], document["image"]["imageSize"]
    grid, context = size // document["image"]["patchSize"], document["text"]["contextLength"]
    assert size == IMAGE_SIZE and grid == 6

    spec = checks.TensorSpec
    notes = checks.inspect_contract(folder / "image.onnx",
                                    [spec("pixel_values", "float32", ("batch", 3, size, size))],
                                    [spec("image_embeds", "float32", ("batch", dim)),
                                     spec("patch_embeds", "float32", ("batch", grid * grid, dim))])
    notes += checks.inspect_contract(folder / "text.onnx", [spec("input_ids", "int64", ("batch", context))],
                                     [spec("text_embeds", "float32", ("batch", dim))])
    assert not notes, f"output sizes left symbolic: {notes}"

    image = ort.InferenceSession(str(folder / "image.onnx"), providers=["CPUExecutionProvider"])
    pixels = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    image_embeds, patch_embeds = image.run(["image_embeds", "patch_embeds"], {"pixel_values": pixels})
    assert image_embeds.shape == (2, dim) and patch_embeds.shape == (2, grid * grid, dim)
    assert image_embeds.dtype == np.float32 and np.isfinite(patch_embeds).all()

    tokenizer_spec = document["text"]["tokenizer"]
    tables = bpe.read_hf_files(folder / tokenizer_spec["vocab"], folder / tokenizer_spec["merges"])
    assert tables.vocab[tokenizer_spec["startToken"]] == tables.start_id
    assert tables.vocab[tokenizer_spec["endToken"]] == tables.end_id
    ids = np.asarray(bpe.ClipBpeTokenizer(tables, context, tokenizer_spec["padTokenId"])(
        [document["promptTemplates"][0].format("fire hydrant"), "a dog"]), dtype=np.int64)
    text = ort.InferenceSession(str(folder / "text.onnx"), providers=["CPUExecutionProvider"])
    (text_embeds,) = text.run(["text_embeds"], {"input_ids": ids})
    assert text_embeds.shape == (2, dim)

    results = document["source"]["checks"]
    assert results["run"] is True and results["passed"] is True
    by_name = {r["name"]: r for r in results["results"]}
    head = document["image"]["denseHead"]
    dense = [r for name, r in by_name.items() if f"loop-form {head} reference" in name]
    assert dense and dense[0]["passed"] and dense[0]["maxAbsDiff"] < 1e-3
    assert any("vs library" in name and r["passed"] for name, r in by_name.items())
    assert any(name.startswith("global image_embeds: onnx vs library") and r["passed"] for name, r in by_name.items())
    assert document["image"]["global"] == {"onnx": "image-global.onnx", "imageSize": 64}
    assert document["image"]["resize"] == "center-crop" and document["image"]["resizeFilter"] == "bicubic"
    assert set(document["source"]["files"]) >= {"image.onnx", "image-global.onnx", "text.onnx", "vocab.json",
                                                 "merges.txt"}


def _export_and_verify(config: str, *modules: str, head: str = "value") -> None:
    require("torch", "onnx", "onnxruntime", "numpy", *modules)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "package"
        completed = export_random(config, out, "--dense-head", head)
        assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
        verify_package(out)
        again = export_random(config, out, "--dense-head", head)
        assert again.returncode == 2 and "--force" in again.stderr, "an existing package must not be overwritten"
        assert (out / "model.json").exists()


def test_export_random_hf() -> None:
    _export_and_verify("hf-config:vit-b-16-tiny", "transformers")


def test_export_random_open_clip() -> None:
    _export_and_verify("open_clip-config:vit-b-16-tiny", "open_clip")


def test_export_random_open_clip_with_each_attention_dense_head() -> None:
    for head in ("clearclip", "sclip", "naclip"):
        _export_and_verify("open_clip-config:vit-b-16-tiny", "open_clip", head=head)


# --------------------------------------------------------------------------- #
# Stand-alone runner
# --------------------------------------------------------------------------- #

def main() -> int:
    tests: list[tuple[str, Callable[[], None]]] = [
        (name, value) for name, value in globals().items() if name.startswith("test_") and callable(value)]
    passed = failed = skipped = 0
    for name, test in tests:
        try:
            test()
        except unittest.SkipTest as reason:
            skipped += 1
            print(f"SKIP {name}: {reason}")
        except Exception:  # noqa: BLE001 - report and continue
            failed += 1
            print(f"FAIL {name}\n{traceback.format_exc()}")
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
