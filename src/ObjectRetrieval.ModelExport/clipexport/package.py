"""Model package layout: prompt templates, model.json construction, validation
and the final (atomic) write.

model.json is written last and atomically, so a folder without it is never
mistaken for a finished package, and a folder with it always has every file it
names.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Sequence

from . import FORMAT_VERSION

IMAGE_ONNX = "image.onnx"
TEXT_ONNX = "text.onnx"
VOCAB_FILE = "vocab.json"
MERGES_FILE = "merges.txt"
MODEL_JSON = "model.json"
GLOBAL_IMAGE_ONNX = "image-global.onnx"
RESIZE_MODES = ("center-crop", "pad")       # what the C# reader understands
DENSE_HEAD_NAMES = ("value", "clearclip", "sclip", "naclip")

# Photo-style members of the 80 ImageNet templates published with CLIP, including
# "a photo of a {}." and the photo-style members of the 7-template ensemble that
# the CLIP authors selected (itap / bad / large / small). The rendition templates
# of that ensemble (origami, video game, art) are left out: the index holds photos.
DEFAULT_TEMPLATES: tuple[str, ...] = (
    "a photo of a {}.",
    "a photo of the small {}.",
    "a photo of the large {}.",
    "a bad photo of the {}.",
    "a close-up photo of a {}.",
    "a cropped photo of the {}.",
    "a low resolution photo of the {}.",
    "a bright photo of a {}.",
    "itap of a {}.",
)

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def valid_name(name: str) -> bool:
    return bool(_NAME_PATTERN.match(name))


def slug(text: str) -> str:
    """A package-name-safe form of a checkpoint name."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._").lower()
    return value or "clip"


def read_templates(path: Path) -> list[str]:
    """One template per line; blank lines and lines starting with '#' are skipped.
    Each template must contain exactly one '{}' (where the class name goes)."""
    templates = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.count("{}") != 1:
            raise ValueError(f"{path.name}:{number}: a template needs exactly one '{{}}': {text!r}")
        templates.append(text)
    if not templates:
        raise ValueError(f"{path.name}: no templates")
    return templates


def build_model_json(
    *,
    name: str,
    version: str,
    embedding_dim: int,
    image_size: int,
    patch_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    context_length: int,
    pad_token_id: int,
    templates: Sequence[str],
    source: dict[str, Any],
    dense_head: str = "value",
    resize: str = "center-crop",
    resize_filter: str = "bicubic",
    global_image_size: int | None = None,
) -> dict[str, Any]:
    """The model.json document, in the exact shape the C# reader validates."""
    document = {
        "formatVersion": FORMAT_VERSION,
        "name": name,
        "version": version,
        "embeddingDim": int(embedding_dim),
        "image": {
            "onnx": IMAGE_ONNX,
            "imageSize": int(image_size),
            "patchSize": int(patch_size),
            "mean": [float(v) for v in mean],
            "std": [float(v) for v in std],
            "resize": resize,
            "resizeFilter": resize_filter,
            "denseHead": dense_head,
        },
        "text": {
            "onnx": TEXT_ONNX,
            "contextLength": int(context_length),
            "hasAttentionMask": False,
            "tokenizer": {
                "vocab": VOCAB_FILE,
                "merges": MERGES_FILE,
                "startToken": "<|startoftext|>",
                "endToken": "<|endoftext|>",
                "padTokenId": int(pad_token_id),
                "lowercase": True,
            },
        },
        "promptTemplates": list(templates),
        "source": source,
    }
    if global_image_size is not None:
        # Extra graph at the training size: image_embeds as the checkpoint was trained.
        document["image"]["global"] = {"onnx": GLOBAL_IMAGE_ONNX, "imageSize": int(global_image_size)}
    validate_model_json(document)
    return document


def validate_model_json(document: dict[str, Any], folder: Path | None = None) -> None:
    """Check the document against the contract (and, given the folder, that the
    files it names exist). Raises ValueError with every problem found."""
    problems: list[str] = []

    def expect(condition: bool, message: str) -> None:
        if not condition:
            problems.append(message)

    expect(document.get("formatVersion") == FORMAT_VERSION, "formatVersion must be 1")
    expect(isinstance(document.get("name"), str) and bool(_NAME_PATTERN.match(document["name"])),
           "name must match [A-Za-z0-9][A-Za-z0-9._-]*")
    expect(isinstance(document.get("version"), str) and document["version"] != "", "version must be a non-empty string")
    expect(_positive_int(document.get("embeddingDim")), "embeddingDim must be a positive integer")

    image = document.get("image") or {}
    expect(image.get("onnx") == IMAGE_ONNX, "image.onnx must be 'image.onnx'")
    expect(_positive_int(image.get("patchSize")), "image.patchSize must be a positive integer")
    expect(_positive_int(image.get("imageSize")) and _positive_int(image.get("patchSize"))
           and image["imageSize"] % image["patchSize"] == 0,
           "image.imageSize must be a positive multiple of patchSize")
    for key in ("mean", "std"):
        values = image.get(key)
        expect(isinstance(values, list) and len(values) == 3 and all(isinstance(v, float) for v in values),
               f"image.{key} must be three floats")
    expect(all(v > 0 for v in image.get("std") or [0]), "image.std must be positive")
    expect(image.get("resize") in RESIZE_MODES, f"image.resize must be one of {', '.join(RESIZE_MODES)}")
    expect(isinstance(image.get("resizeFilter"), str) and image["resizeFilter"] != "",
           "image.resizeFilter must be a non-empty string")
    expect(image.get("denseHead") in DENSE_HEAD_NAMES, f"image.denseHead must be one of {', '.join(DENSE_HEAD_NAMES)}")
    global_image = image.get("global")
    if global_image is not None:
        expect(isinstance(global_image, dict) and global_image.get("onnx") == GLOBAL_IMAGE_ONNX
               and _positive_int(global_image.get("imageSize")),
               f"image.global must name {GLOBAL_IMAGE_ONNX} and a positive imageSize")

    text = document.get("text") or {}
    expect(text.get("onnx") == TEXT_ONNX, "text.onnx must be 'text.onnx'")
    expect(_positive_int(text.get("contextLength")), "text.contextLength must be a positive integer")
    expect(isinstance(text.get("hasAttentionMask"), bool), "text.hasAttentionMask must be a boolean")
    tokenizer = text.get("tokenizer") or {}
    expect(tokenizer.get("vocab") == VOCAB_FILE and tokenizer.get("merges") == MERGES_FILE,
           "text.tokenizer must name vocab.json and merges.txt")
    expect(tokenizer.get("startToken") == "<|startoftext|>" and tokenizer.get("endToken") == "<|endoftext|>",
           "text.tokenizer start/end tokens must be <|startoftext|> / <|endoftext|>")
    expect(isinstance(tokenizer.get("padTokenId"), int) and tokenizer["padTokenId"] >= 0,
           "text.tokenizer.padTokenId must be a non-negative integer")
    expect(tokenizer.get("lowercase") is True, "text.tokenizer.lowercase must be true")

    templates = document.get("promptTemplates")
    expect(isinstance(templates, list) and len(templates) > 0
           and all(isinstance(t, str) and t.count("{}") == 1 for t in templates),
           "promptTemplates must be a non-empty list of strings with one '{}' each")
    expect(isinstance(document.get("source"), dict), "source must be an object")

    if folder is not None:
        names = [IMAGE_ONNX, TEXT_ONNX, VOCAB_FILE, MERGES_FILE] + ([GLOBAL_IMAGE_ONNX] if global_image else [])
        for file_name in names:
            expect((folder / file_name).is_file(), f"{file_name} missing from the package folder")

    if problems:
        raise ValueError("model.json is not valid: " + "; ".join(problems))


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def file_digests(folder: Path, exclude: Sequence[str] = (MODEL_JSON,)) -> dict[str, dict[str, Any]]:
    """sha256 and size of every file in the package (external ONNX data too), so
    a copy can be verified against its model.json."""
    digests: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name not in exclude):
        hasher = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(chunk)
        digests[path.name] = {"bytes": path.stat().st_size, "sha256": hasher.hexdigest()}
    return digests


def write_model_json(folder: Path, document: dict[str, Any]) -> Path:
    """Validate against the folder, then write via a temporary file and rename
    so the file appears complete or not at all."""
    validate_model_json(document, folder)
    target = folder / MODEL_JSON
    temporary = folder / (MODEL_JSON + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, target)
    return target
