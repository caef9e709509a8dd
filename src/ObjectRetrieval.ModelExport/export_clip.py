#!/usr/bin/env python3
"""Export a CLIP checkpoint into an ObjectRetrieval model package.

    python export_clip.py --source open_clip:ViT-B-16/laion2b_s34b_b88k --out models/clip-b16 --image-size 448
    python export_clip.py --source hf:openai/clip-vit-base-patch16 --out models/clip-b16-hf --local-files-only
    python export_clip.py --random-init hf-config:vit-b-16-tiny --out build/tiny --image-size 96

Writes vocab.json, merges.txt, text.onnx, image.onnx, runs the checks (unless
--no-check) and writes model.json last. Exit codes: 0 package written,
1 a check failed (no model.json), 2 bad arguments or unsupported checkpoint.
See README.md for the contract and the maths.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from clipexport import EXPORTER_VERSION  # noqa: E402  (light imports only before offline mode is set)
from clipexport import package  # noqa: E402

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2

# What each --dense-head computes on the last block (x its input, t = ln_1(x),
# d the head width); all end with ln_post and the projection.
DENSE_PATHS = {
    "value": "value path: out_proj(v(t)) per token (attention to itself only), no residual, no MLP",
    "clearclip": "ClearCLIP: out_proj(softmax(q q^T/sqrt(d)) v), no residual, no MLP",
    "sclip": "SCLIP: x + out_proj((softmax(q q^T/sqrt(d)) + softmax(k k^T/sqrt(d))) v), no MLP",
    "naclip": "NACLIP: out_proj(softmax(k k^T/sqrt(d) + gaussian(std 5 patches)) v), no residual, no MLP",
}


class UsageError(Exception):
    """Bad arguments: reported as a one-line message, exit code 2."""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Export an open_clip or Hugging Face CLIP checkpoint into an ObjectRetrieval model package.")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--source", help="open_clip:ARCH/PRETRAINED | open_clip:hf-hub:ORG/REPO | hf:NAME_OR_DIR")
    what.add_argument("--random-init", metavar="CONFIG",
                      help="hf-config:PRESET | open_clip-config:PRESET (PRESET: vit-b-16-tiny, vit-b-16); "
                           "seeded random weights, no download")
    parser.add_argument("--out", required=True, type=Path, help="package folder to write")
    parser.add_argument("--image-size", type=int, default=448,
                        help="input side in pixels, a multiple of the patch size (default 448)")
    parser.add_argument("--dense-head", choices=package.DENSE_HEAD_NAMES, default="value",
                        help="training-free dense head on the last block (default value); see README")
    parser.add_argument("--global-graph", action=argparse.BooleanOptionalAction, default=True,
                        help="also write image-global.onnx at the training size (default on)")
    parser.add_argument("--licence", help="licence of the weights, recorded in model.json "
                                          "(recorded from the library when it knows it)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--fp16", action="store_true",
                        help="fp16 weights (inputs/outputs stay float32); needs --device cuda")
    parser.add_argument("--name", help="package name (default: derived from the source)")
    parser.add_argument("--version", default="1", help="package version string (default 1)")
    parser.add_argument("--templates", type=Path, help="prompt templates file, one per line with '{}'")
    parser.add_argument("--check", action=argparse.BooleanOptionalAction, default=True,
                        help="run the ONNX-vs-PyTorch-vs-library checks (default on)")
    parser.add_argument("--local-files-only", action="store_true",
                        help="never touch the network: local directories and the existing cache only")
    parser.add_argument("--cache-dir", help="cache folder for open_clip / Hugging Face downloads")
    parser.add_argument("--seed", type=int, default=0, help="seed for random weights and check inputs")
    parser.add_argument("--force", action="store_true", help="overwrite a folder that already holds a package")
    return parser.parse_args(argv)


def enable_offline_mode() -> None:
    """Must run before transformers / huggingface_hub / open_clip are imported:
    they read these variables at import time. open_clip fetches some weights with
    urllib, so that is closed too."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import urllib.request

    def refuse(*_: Any, **__: Any) -> Any:
        raise RuntimeError("network access attempted with --local-files-only; "
                           "give a local checkpoint file/directory or fill the cache first")

    urllib.request.urlopen = refuse  # type: ignore[assignment]


def prepare_folder(folder: Path) -> None:
    """Remove a previous model.json first, so the folder never looks complete
    while it is being rewritten."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / package.MODEL_JSON).unlink(missing_ok=True)


def log(message: str) -> None:
    print(message, flush=True)


def report(results: list[Any]) -> list[Any]:
    for result in results:
        log("  " + result.line())
    return results


def run(args: argparse.Namespace) -> int:
    if args.local_files_only:
        enable_offline_mode()
    if args.fp16 and args.device != "cuda":
        raise UsageError("--fp16 needs --device cuda (fp16 is for GPU silos; CPU silos should use fp32)")
    try:
        templates = package.read_templates(args.templates) if args.templates else list(package.DEFAULT_TEMPLATES)
    except (OSError, ValueError) as error:
        raise UsageError(f"--templates: {error}") from error

    import torch  # heavy imports only after offline mode is in place

    from clipexport import bpe, checks, sources, towers

    try:
        spec = sources.parse_source(args.source, args.random_init)
    except ValueError as error:
        raise UsageError(str(error)) from error
    if args.device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda given but torch sees no CUDA device")
    if args.name is not None and not package.valid_name(args.name):
        raise UsageError(f"--name {args.name!r}: use letters, digits, '.', '_' or '-', starting with a letter or digit")
    name = args.name or package.slug(sources.default_name(spec))
    folder: Path = args.out
    if (folder / package.MODEL_JSON).exists() and not args.force:
        raise UsageError(f"{folder} already holds a package (model.json); pass --force to overwrite")
    prepare_folder(folder)
    checks.disable_mha_fast_path()
    device = torch.device(args.device)
    dtype = torch.float16 if args.fp16 else torch.float32
    tolerance = checks.FP16_TOLERANCE if args.fp16 else checks.FP32_TOLERANCE
    started = time.time()

    log(f"loading {args.source or args.random_init} ...")
    loaded = sources.load(spec, cache_dir=args.cache_dir, local_files_only=args.local_files_only, seed=args.seed)
    vision = loaded.vision
    if args.image_size % vision.patch_size != 0:
        raise UsageError(f"--image-size {args.image_size} is not a multiple of the patch size {vision.patch_size}")
    grid = args.image_size // vision.patch_size
    log(f"  {loaded.library}: patch {vision.patch_size}, training {vision.train_image_size}px "
        f"({vision.train_grid}x{vision.train_grid}), export {args.image_size}px ({grid}x{grid}), "
        f"width {vision.width}, D {loaded.embed_dim}, context {loaded.context_length}")
    loaded.model.to(device=device, dtype=dtype)

    vocab_path, merges_path = folder / package.VOCAB_FILE, folder / package.MERGES_FILE
    bpe.write_hf_files(loaded.tables, vocab_path, merges_path)
    tables = bpe.read_hf_files(vocab_path, merges_path)
    if tables.vocab != loaded.tables.vocab or tables.merges != loaded.tables.merges:
        raise RuntimeError("tokenizer files do not read back identically")
    log(f"  wrote {vocab_path.name} ({len(tables.vocab)} tokens) and {merges_path.name} ({len(tables.merges)} merges)")

    image_tower = towers.ImageTower(vision, args.image_size, dtype, device, args.dense_head).eval()
    train_tower = towers.ImageTower(vision, vision.train_image_size, dtype, device, args.dense_head).eval()
    text_tower = towers.TextTower(loaded.model, loaded.encode_text).eval()
    example_ids = torch.tensor(bpe.ClipBpeTokenizer(tables, loaded.context_length)(["a photo of a dog.", "a cat"]),
                               dtype=torch.int64, device=device)
    example_pixels = checks.random_pixels(2, args.image_size, loaded.mean, loaded.std, args.seed).to(device)

    text_path, image_path = folder / package.TEXT_ONNX, folder / package.IMAGE_ONNX
    log(f"exporting {text_path.name} (opset {args.opset}) ...")
    checks.export_onnx(text_tower, (example_ids,), text_path, ["input_ids"], ["text_embeds"], args.opset)
    log(f"exporting {image_path.name} (opset {args.opset}) ...")
    checks.export_onnx(image_tower, (example_pixels,), image_path, ["pixel_values"],
                       ["image_embeds", "patch_embeds"], args.opset)

    global_path = folder / package.GLOBAL_IMAGE_ONNX
    global_path.unlink(missing_ok=True)
    if args.global_graph:
        log(f"exporting {global_path.name} at the training size {vision.train_image_size}px ...")
        global_pixels = checks.random_pixels(2, vision.train_image_size, loaded.mean, loaded.std, args.seed).to(device)
        checks.export_onnx(towers.GlobalTower(train_tower), (global_pixels,), global_path, ["pixel_values"],
                           ["image_embeds"], args.opset)

    spec_of = checks.TensorSpec
    text_inputs = [spec_of("input_ids", "int64", ("batch", loaded.context_length))]
    text_outputs = [spec_of("text_embeds", "float32", ("batch", loaded.embed_dim))]
    image_inputs = [spec_of("pixel_values", "float32", ("batch", 3, args.image_size, args.image_size))]
    image_outputs = [spec_of("image_embeds", "float32", ("batch", loaded.embed_dim)),
                     spec_of("patch_embeds", "float32", ("batch", grid * grid, loaded.embed_dim))]
    for path, outputs in ((text_path, text_outputs), (image_path, image_outputs)):
        for change in checks.declare_static_dims(path, outputs):
            log(f"  {path.name}: declared {change}")
    notes = checks.inspect_contract(text_path, text_inputs, text_outputs)
    notes += checks.inspect_contract(image_path, image_inputs, image_outputs)
    if args.global_graph:
        train_size = vision.train_image_size
        notes += checks.inspect_contract(
            global_path, [spec_of("pixel_values", "float32", ("batch", 3, train_size, train_size))],
            [spec_of("image_embeds", "float32", ("batch", loaded.embed_dim))])
    for note in notes:
        log(f"  note: {note}")
    log("  ONNX inputs/outputs match the contract")

    results: list[checks.CheckResult] = []
    if args.check:
        log("checking ...")
        text_session = checks.open_session(text_path, args.device, args.fp16)
        results += report(checks.check_text(loaded, text_tower, tables, text_session, tolerance, device))
        del text_session
        image_session = checks.open_session(image_path, args.device, args.fp16)
        results += report(checks.check_image(loaded, image_tower, train_tower, image_session, tolerance, device,
                                             dtype, args.seed))
        del image_session
        if args.global_graph:
            global_session = checks.open_session(global_path, args.device, args.fp16)
            results += report(checks.check_global_image(loaded, train_tower, global_session, tolerance, device,
                                                        dtype, args.seed))
            del global_session
        failed = [r for r in results if r.gating and not r.passed]
        if failed:
            log(f"FAILED: {len(failed)} check(s) above tolerance; model.json was not written "
                f"(the other files in {folder} are left for inspection)")
            return EXIT_CHECK_FAILED
    else:
        log("checks skipped (--no-check)")

    source = build_source(args, loaded, vision, grid, tolerance, results, notes, folder, started)
    document = package.build_model_json(
        name=name, version=args.version, embedding_dim=loaded.embed_dim, image_size=args.image_size,
        patch_size=vision.patch_size, mean=loaded.mean, std=loaded.std, context_length=loaded.context_length,
        pad_token_id=bpe.PAD_TOKEN_ID, templates=templates, source=source, dense_head=args.dense_head,
        resize=loaded.resize, resize_filter=loaded.resize_filter,
        global_image_size=vision.train_image_size if args.global_graph else None)
    path = package.write_model_json(folder, document)
    log(f"wrote {path} ({time.time() - started:.0f}s)")
    return EXIT_OK


def build_source(args: argparse.Namespace, loaded: Any, vision: Any, grid: int, tolerance: Any,
                 results: list[Any], notes: list[str], folder: Path, started: float) -> dict[str, Any]:
    """Free-form provenance for model.json: where the weights came from, how
    the graphs were built, and what the checks measured."""
    import onnx

    versions = dict(loaded.provenance.get("libraryVersions", {}))
    versions["onnx"] = onnx.__version__
    try:
        import onnxruntime

        versions["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        versions["onnxruntime"] = "not installed"
    import numpy

    versions["numpy"] = numpy.__version__
    source = {key: value for key, value in loaded.provenance.items() if key != "libraryVersions"}
    source.update({
        "libraryVersions": versions,
        "exporter": {"script": "export_clip.py", "version": EXPORTER_VERSION, "arguments": args.argv},
        "exportedAt": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "exportSeconds": round(time.time() - started, 1),
        "opset": args.opset,
        "precision": "fp16 weights, float32 inputs/outputs" if args.fp16 else "fp32",
        "exportDevice": args.device,
        "trainingImageSize": vision.train_image_size,
        "trainingGrid": vision.train_grid,
        "grid": grid,
        "positionEmbedding": ("unchanged (export size = training size)" if grid == vision.train_grid else
                              f"bicubic {vision.train_grid}x{vision.train_grid} -> {grid}x{grid}, "
                              "align_corners=False, class token kept; baked into image.onnx"),
        "denseHead": args.dense_head,
        "densePath": DENSE_PATHS[args.dense_head] + "; patch index = row * grid + column",
        "resize": {"mode": loaded.resize, "filter": loaded.resize_filter},
        "licence": args.licence or loaded.provenance.get("licence") or "not recorded (pass --licence)",
        "textInput": "input_ids only (no attention mask); pad with padTokenId after the end token",
        "checks": {
            "run": bool(args.check),
            "tolerance": {"atol": tolerance.atol, "atolScale": "max(1, max|ref|)", "minCosine": tolerance.min_cosine},
            "passed": all(r.passed for r in results if r.gating) if args.check else None,
            "results": [r.to_json() for r in results],
            "contractNotes": notes,
        },
        "files": package.file_digests(folder),
    })
    return source


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 - known refusals get one line; anything else a traceback
        # Imported lazily by run(), hence matched by name.
        kind = type(error).__name__
        if kind == "UnsupportedModel":
            print(f"error: unsupported checkpoint: {error}", file=sys.stderr)
            return EXIT_USAGE
        if kind == "ContractError":
            print(f"error: exported graph breaks the contract: {error}", file=sys.stderr)
            return EXIT_CHECK_FAILED
        raise


if __name__ == "__main__":
    sys.exit(main())
