"""Loading a CLIP checkpoint behind one adapter (``LoadedClip``).

Supported sources:

- ``open_clip:ARCH/PRETRAINED``  open_clip architecture + pretrained tag or a
  local checkpoint file (``open_clip:ViT-B-16/laion2b_s34b_b88k``,
  ``open_clip:ViT-B-16/ckpt/open_clip_pytorch_model.bin``).
- ``open_clip:hf-hub:ORG/REPO``  an open_clip model stored on the Hugging Face hub
  (must already be in the local cache when ``--local-files-only`` is given).
- ``hf:NAME_OR_DIR``  a transformers ``CLIPModel`` (hub name or local directory).
- random init (``--random-init``): ``hf-config:PRESET`` or
  ``open_clip-config:PRESET`` with PRESET ``vit-b-16-tiny`` or ``vit-b-16``;
  seeded random weights, for exercising the whole path without downloads.

Only plain CLIP ViTs are accepted: class-token pooling, standard multi-head
attention in the last block, no layer scale, no attention pooling, and a text
tower whose end-of-text token is found by argmax of the ids or by the end-token
id. Anything else is refused with a message, because the dense path or the
C# tokenizer contract would silently be wrong for it.

End-of-text selection and padding: open_clip's ``encode_text`` pools at
``argmax(input_ids)``; transformers' ``get_text_features`` pools at the first
position equal to ``eos_token_id`` (or at ``argmax`` for legacy configs whose
eos id is 2). The end token is the largest id of every CLIP vocabulary (this is
validated), and the text transformer is causal, so padding with id 0 after the
end token selects the same position under both rules and cannot change the
embedding. The package therefore declares ``padTokenId: 0`` and no attention
mask; the text check verifies it against each library's own tokenizer/padding.
"""

from __future__ import annotations

import inspect
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import torch
from torch import Tensor, nn

from .bpe import (
    BpeTables,
    read_hf_files,
    read_open_clip_bpe,
    synthetic_open_clip_bpe_text,
    tables_from_encoder,
    tables_from_open_clip_bpe,
    write_hf_files,
)
from .package import DEFAULT_TEMPLATES
from .towers import TextEncoder, VisionParts, grid_side

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)

# Class names used (with the templates) by the text check; the synthetic
# random-init vocabulary learns one merge chain per word of these.
CHECK_CLASSES = ("fire hydrant", "person on a scooter", "dog", "traffic light", "cat's toy")


class UnsupportedModel(Exception):
    """The checkpoint cannot be exported under the package contract."""


@dataclass
class LoadedClip:
    """A loaded checkpoint, seen through what the exporter needs."""

    library: str                                   # "open_clip" | "transformers"
    checkpoint: str
    model: nn.Module
    vision: VisionParts
    encode_text: TextEncoder                       # text features as traced into text.onnx
    library_encode_text: Callable[[Tensor], Tensor]  # the library's own call, untouched (for checks)
    encode_image: Callable[[Tensor], Tensor]       # library's own image features (training size)
    # Library image features at another size, when the library can do that
    # (informational comparison only). Arguments: pixels, interpolated
    # position embedding [1 + g*g, W].
    encode_image_at_size: Optional[Callable[[Tensor, Tensor], Tensor]]
    tables: BpeTables
    library_tokenize: Callable[[Sequence[str]], Tensor]
    context_length: int
    embed_dim: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    provenance: dict[str, Any] = field(default_factory=dict)
    # How the checkpoint's own preprocessing fits the image to the square input
    # (model.json image.resize, "center-crop" or "pad") and its filter.
    resize: str = "center-crop"
    resize_filter: str = "bicubic"


# --------------------------------------------------------------------------- #
# Source parsing
# --------------------------------------------------------------------------- #

@dataclass(frozen=True)
class SourceSpec:
    kind: str            # "open_clip" | "hf" | "random-hf" | "random-open_clip"
    name: str            # architecture / hub name / directory / preset
    pretrained: Optional[str] = None


RANDOM_PRESETS: dict[str, dict[str, int]] = {
    # Small enough for a CPU self-test in seconds; same topology as ViT-B/16.
    "vit-b-16-tiny": dict(image_size=64, patch_size=16, vision_width=64, vision_layers=2, vision_heads=4,
                          text_width=64, text_layers=2, text_heads=4, embed_dim=32, context_length=77),
    # Real ViT-B/16 sizes with random weights: export size/time rehearsal.
    "vit-b-16": dict(image_size=224, patch_size=16, vision_width=768, vision_layers=12, vision_heads=12,
                     text_width=512, text_layers=12, text_heads=8, embed_dim=512, context_length=77),
}


def parse_source(source: Optional[str], random_init: Optional[str]) -> SourceSpec:
    if (source is None) == (random_init is None):
        raise ValueError("give exactly one of --source and --random-init")
    if random_init is not None:
        prefix, _, preset = random_init.partition(":")
        kinds = {"hf-config": "random-hf", "open_clip-config": "random-open_clip"}
        if prefix not in kinds or preset not in RANDOM_PRESETS:
            raise ValueError(f"--random-init must be hf-config:PRESET or open_clip-config:PRESET, "
                             f"PRESET one of {sorted(RANDOM_PRESETS)}")
        return SourceSpec(kinds[prefix], preset)
    assert source is not None
    prefix, _, rest = source.partition(":")
    if prefix == "hf" and rest:
        return SourceSpec("hf", rest)
    if prefix == "open_clip" and rest:
        if rest.startswith("hf-hub:"):
            return SourceSpec("open_clip", rest)
        arch, _, pretrained = rest.partition("/")
        if not pretrained:
            raise ValueError("open_clip sources need weights: open_clip:ARCH/TAG or open_clip:ARCH/FILE "
                             "(use --random-init for random weights)")
        return SourceSpec("open_clip", arch, pretrained)
    raise ValueError("--source must be open_clip:ARCH/PRETRAINED, open_clip:hf-hub:ORG/REPO or hf:NAME_OR_DIR")


def default_name(spec: SourceSpec) -> str:
    if spec.kind == "open_clip":
        base = spec.name.replace("hf-hub:", "")
        tag = spec.pretrained if spec.pretrained and not Path(spec.pretrained).suffix else None
        return "openclip-" + base + (f"-{tag}" if tag else "")
    if spec.kind == "hf":
        return "hf-" + Path(spec.name).name
    return "random-" + spec.kind.replace("random-", "") + "-" + spec.name


def load(spec: SourceSpec, *, cache_dir: Optional[str], local_files_only: bool, seed: int) -> LoadedClip:
    """Load on CPU in fp32; the caller moves the model to its device/dtype."""
    if spec.kind == "open_clip":
        return _load_open_clip(spec, cache_dir)
    if spec.kind == "hf":
        return _load_hf(spec.name, cache_dir, local_files_only)
    if spec.kind == "random-open_clip":
        return _random_open_clip(spec.name, seed)
    if spec.kind == "random-hf":
        return _random_hf(spec.name, seed)
    raise ValueError(spec.kind)


# --------------------------------------------------------------------------- #
# Shared helpers
# --------------------------------------------------------------------------- #

def features(output: Any, *names: str) -> Tensor:
    """Library feature calls return a tensor in transformers 4.x and may return
    an output object in other versions; accept both."""
    if isinstance(output, Tensor):
        return output
    for name in names + ("pooler_output",):
        value = getattr(output, name, None)
        if isinstance(value, Tensor):
            return value
    raise TypeError(f"cannot find features in {type(output).__name__}")


def _clone(tensor: Optional[Tensor]) -> Optional[Tensor]:
    return None if tensor is None else tensor.detach().float().clone()


def _square_patch_size(conv: nn.Conv2d) -> int:
    kernel, stride = tuple(conv.kernel_size), tuple(conv.stride)
    if kernel[0] != kernel[1] or kernel != stride:
        raise UnsupportedModel(f"patch embedding must be a square conv with stride == kernel, got {kernel}/{stride}")
    return int(kernel[0])


def _randomise_affine(model: nn.Module, generator: torch.Generator) -> None:
    """Give every LayerNorm non-trivial weights and every bias non-zero values.

    Library initialisers set LayerNorm to (1, 0) and most biases to 0; with those
    a swapped LayerNorm or a missing bias would go unnoticed by the checks.
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm) and module.weight is not None:
                module.weight.copy_(1.0 + 0.2 * torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(0.2 * torch.randn(module.bias.shape, generator=generator))
        for name, parameter in model.named_parameters():
            if name.endswith("bias") and parameter.dim() == 1:
                parameter.copy_(0.05 * torch.randn(parameter.shape, generator=generator))


def _check_prompt_words() -> list[str]:
    text = " ".join(t.format(c) for t in DEFAULT_TEMPLATES for c in CHECK_CLASSES)
    return sorted(set(re.findall(r"[a-z]+", text.lower())))


def _versions(*module_names: str) -> dict[str, str]:
    import importlib

    versions = {}
    for module_name in ("torch",) + module_names:
        try:
            versions[module_name] = str(importlib.import_module(module_name).__version__)
        except Exception:  # noqa: BLE001 - provenance only
            versions[module_name] = "unknown"
    return versions


# --------------------------------------------------------------------------- #
# open_clip
# --------------------------------------------------------------------------- #

def _load_open_clip(spec: SourceSpec, cache_dir: Optional[str]) -> LoadedClip:
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(
        spec.name, pretrained=spec.pretrained, device="cpu", cache_dir=cache_dir)
    try:
        tokenizer = open_clip.get_tokenizer(spec.name, cache_dir=cache_dir)
    except TypeError:  # open_clip versions without the cache_dir argument
        tokenizer = open_clip.get_tokenizer(spec.name)
    checkpoint = spec.name + (f"/{spec.pretrained}" if spec.pretrained else "")
    if spec.name.startswith("hf-hub:"):
        expected, pretrained_config = None, {}   # the hub's own config built the model
    else:
        expected, pretrained_config = _expected_open_clip_activation(spec.name, spec.pretrained)
    built = open_clip_activation(model.visual)
    check_open_clip_activation(built, expected, checkpoint)
    loaded = _adapt_open_clip(model.float().eval(), tokenizer, preprocess, checkpoint)
    loaded.provenance["activation"] = {"built": built, "expectedByCheckpoint": expected or "unknown (not recorded "
                                       "by the library for this source; make sure the architecture matches)"}
    loaded.provenance["revision"] = _open_clip_revision(spec, pretrained_config)
    licence = pretrained_config.get("license") or pretrained_config.get("licence")
    if licence:
        loaded.provenance["licence"] = str(licence)
    return loaded


def _open_clip_revision(spec: SourceSpec, config: dict[str, Any]) -> dict[str, Any]:
    """Where exactly the weights came from: the tag's URL / hub file, and the
    sha256 of a local checkpoint file."""
    revision: dict[str, Any] = {}
    for key in ("url", "hf_hub", "hf_weights_hash", "sha256"):
        if config.get(key):
            revision[key] = str(config[key])
    if spec.pretrained and Path(spec.pretrained).is_file():
        import hashlib

        hasher = hashlib.sha256()
        with open(spec.pretrained, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(chunk)
        revision["fileSha256"] = hasher.hexdigest()
    return revision


def _random_open_clip(preset: str, seed: int) -> LoadedClip:
    import open_clip
    from open_clip.model import CLIP

    tokenizer = open_clip.tokenizer.SimpleTokenizer()
    size = RANDOM_PRESETS[preset]
    torch.manual_seed(seed)
    model = CLIP(
        embed_dim=size["embed_dim"],
        vision_cfg=dict(image_size=size["image_size"], patch_size=size["patch_size"], width=size["vision_width"],
                        layers=size["vision_layers"], head_width=size["vision_width"] // size["vision_heads"]),
        text_cfg=dict(context_length=size["context_length"], vocab_size=len(tokenizer.encoder),
                      width=size["text_width"], heads=size["text_heads"], layers=size["text_layers"]),
    )
    _randomise_affine(model, torch.Generator().manual_seed(seed + 1))
    loaded = _adapt_open_clip(model.float().eval(), tokenizer, None, f"random-init:open_clip-config:{preset}")
    loaded.provenance["randomInit"] = {"preset": preset, "seed": seed, **size}
    return loaded


def _open_clip_call_block(block: nn.Module, x: Tensor) -> Tensor:
    """open_clip blocks are batch-first in recent versions and sequence-first in
    older ones; the tower always works batch-first."""
    if getattr(block.attn, "batch_first", False):
        return block(x)
    return block(x.transpose(0, 1)).transpose(0, 1)


def open_clip_vision_parts(visual: nn.Module, checkpoint: str) -> VisionParts:
    """``VisionParts`` of an open_clip ``VisionTransformer`` (found by attribute
    names only, so a module with the same layout works without open_clip)."""
    if not all(hasattr(visual, name) for name in ("conv1", "class_embedding", "positional_embedding", "transformer")):
        raise UnsupportedModel(f"{checkpoint}: the image tower is not an open_clip VisionTransformer "
                               f"({type(visual).__name__}); only ViT towers have a patch grid")
    if getattr(visual, "attn_pool", None) is not None:
        raise UnsupportedModel(f"{checkpoint}: attention-pooled image towers are not supported")
    pool_type = "avg" if getattr(visual, "global_average_pool", False) else getattr(visual, "pool_type", "tok")
    if pool_type != "tok":
        raise UnsupportedModel(f"{checkpoint}: image pooling '{pool_type}' is not class-token pooling")
    blocks = list(visual.transformer.resblocks)
    for block in blocks:
        if not isinstance(getattr(block, "attn", None), nn.MultiheadAttention):
            raise UnsupportedModel(f"{checkpoint}: blocks without nn.MultiheadAttention (custom attention) "
                                   "are not supported")
    last = blocks[-1]
    if not isinstance(getattr(last, "ls_1", nn.Identity()), nn.Identity):
        raise UnsupportedModel(f"{checkpoint}: layer scale in the last block is not supported by the dense path")

    attn: nn.MultiheadAttention = last.attn
    width = attn.embed_dim
    if attn.in_proj_weight is not None:
        query_weight, key_weight, value_weight = attn.in_proj_weight.chunk(3, dim=0)   # rows: q, k, v
    else:
        query_weight, key_weight, value_weight = attn.q_proj_weight, attn.k_proj_weight, attn.v_proj_weight
    if attn.in_proj_bias is None:
        query_bias = key_bias = value_bias = None
    else:
        query_bias, key_bias, value_bias = attn.in_proj_bias.chunk(3, dim=0)

    patch_size = _square_patch_size(visual.conv1)
    position = visual.positional_embedding
    train_size = grid_side(position.shape[0] - 1) * patch_size
    return VisionParts(
        patch_embed=visual.conv1,
        class_embedding=_clone(visual.class_embedding),
        position_embedding=_clone(position),
        ln_pre=visual.ln_pre,
        blocks=blocks,
        call_block=_open_clip_call_block,
        ln_post=visual.ln_post,
        projection=_clone(visual.proj),
        last_ln_1=last.ln_1,
        query_weight=_clone(query_weight),
        query_bias=_clone(query_bias),
        key_weight=_clone(key_weight),
        key_bias=_clone(key_bias),
        value_weight=_clone(value_weight),
        value_bias=_clone(value_bias),
        out_weight=_clone(attn.out_proj.weight),
        out_bias=_clone(attn.out_proj.bias),
        heads=int(attn.num_heads),
        patch_size=patch_size,
        train_image_size=train_size,
    )


def open_clip_activation(visual: nn.Module) -> str:
    """The MLP activation the built image tower actually uses."""
    blocks = list(visual.transformer.resblocks)
    names = {type(module).__name__ for module in blocks[0].mlp.modules()}
    if "QuickGELU" in names:
        return "quick_gelu"
    if "GELU" in names:
        return "gelu"
    return "other:" + ",".join(sorted(names))


def check_open_clip_activation(built: str, expected: Optional[str], checkpoint: str) -> None:
    """Refuse weights loaded into a model with a different activation: such a
    model runs, and the export would match it exactly, but it is not the
    checkpoint (e.g. OpenAI weights in a GELU ViT-B-16 instead of
    ViT-B-16-quickgelu)."""
    if expected is not None and built != expected:
        raise UnsupportedModel(
            f"{checkpoint}: the checkpoint was trained with {expected} but the model was built with {built}; "
            f"use the matching architecture (e.g. the '-quickgelu' variant for OpenAI weights)")


def _expected_open_clip_activation(arch: str, pretrained: Optional[str]) -> tuple[Optional[str], dict[str, Any]]:
    """What the pretrained tag's configuration says the activation must be
    (None when the library does not know the tag, e.g. a local file)."""
    import open_clip

    config: dict[str, Any] = {}
    if pretrained and not Path(pretrained).suffix:
        try:
            config = dict(open_clip.get_pretrained_cfg(arch, pretrained) or {})
        except Exception:  # noqa: BLE001 - older versions / unknown tag
            config = {}
    if pretrained == "openai" or config.get("quick_gelu"):
        return "quick_gelu", config
    if config:
        return "gelu", config
    return None, config


def _adapt_open_clip(model: nn.Module, tokenizer: Any, preprocess: Any, checkpoint: str) -> LoadedClip:
    visual = model.visual
    parts = open_clip_vision_parts(visual, checkpoint)
    tables, tokenizer_note = _open_clip_tables(tokenizer, checkpoint)
    pool = getattr(model, "text_pool_type", None) or getattr(getattr(model, "text", None), "pool_type", "argmax")
    if pool not in ("argmax", "eos"):
        raise UnsupportedModel(f"{checkpoint}: text pooling '{pool}' does not pick the end-of-text token")
    context_length = int(getattr(model, "context_length", None) or tokenizer.context_length)
    mean, std, preprocess_info = _open_clip_preprocess(visual, preprocess)
    resize, resize_filter = open_clip_resize(visual, checkpoint)

    def encode_text(m: nn.Module, ids: Tensor) -> Tensor:
        """open_clip pools at ids.argmax(); ONNX Runtime has no int64 ArgMax
        kernel, so the ids enter as int32 (embedding lookup and argmax accept
        them; the graph input stays int64 and is cast inside)."""
        return m.encode_text(ids.to(torch.int32))

    def library_encode_text(ids: Tensor) -> Tensor:
        return model.encode_text(ids)

    def encode_image(pixels: Tensor) -> Tensor:
        return model.encode_image(pixels)

    def encode_image_at_size(pixels: Tensor, position_embedding: Tensor) -> Tensor:
        """The library forward with our interpolated position embedding swapped in."""
        original = visual.positional_embedding
        try:
            visual.positional_embedding = nn.Parameter(
                position_embedding.to(original.device, original.dtype), requires_grad=False)
            return model.encode_image(pixels)
        finally:
            visual.positional_embedding = original

    def library_tokenize(texts: Sequence[str]) -> Tensor:
        return tokenizer(list(texts), context_length=context_length)

    return LoadedClip(
        library="open_clip",
        checkpoint=checkpoint,
        model=model,
        vision=parts,
        encode_text=encode_text,
        library_encode_text=library_encode_text,
        encode_image=encode_image,
        encode_image_at_size=encode_image_at_size,
        tables=tables,
        library_tokenize=library_tokenize,
        context_length=context_length,
        embed_dim=parts.embed_dim,
        mean=mean,
        std=std,
        resize=resize,
        resize_filter=resize_filter,
        provenance={
            "library": "open_clip",
            "checkpoint": checkpoint,
            "libraryVersions": _versions("open_clip", "torchvision"),
            "textPooling": pool,
            "endOfTextSelection": ("argmax(input_ids) inside encode_text (ids cast to int32 in the graph); "
                                   "the end token has the largest id"),
            "tokenizerTables": tokenizer_note,
            "libraryPreprocess": preprocess_info,
        },
    )


def _open_clip_tables(tokenizer: Any, checkpoint: str) -> tuple[BpeTables, str]:
    """Convert open_clip's bundled merges file to the HF layout, and confirm it
    is the table the model's tokenizer actually uses."""
    from open_clip import tokenizer as oc_tokenizer

    if not isinstance(tokenizer, oc_tokenizer.SimpleTokenizer):
        raise UnsupportedModel(f"{checkpoint}: tokenizer {type(tokenizer).__name__} is not CLIP's byte-level BPE")
    start, end = _open_clip_special_tokens(tokenizer)
    live = tables_from_encoder(tokenizer.encoder, tokenizer.bpe_ranks, start, end)
    converted = read_open_clip_bpe(oc_tokenizer.default_bpe())
    if converted.vocab == live.vocab and converted.merges == live.merges:
        return converted, "converted from open_clip's bpe_simple_vocab_16e6.txt.gz (matches the live tokenizer)"
    return live, "taken from the live open_clip tokenizer (differs from the bundled merges file)"


def _open_clip_special_tokens(tokenizer: Any) -> tuple[str, str]:
    """Names of the start/end tokens; they changed across open_clip versions
    (``<start_of_text>`` now, ``<|startoftext|>`` in the original CLIP code)."""
    start_id = getattr(tokenizer, "sot_token_id", None)
    end_id = getattr(tokenizer, "eot_token_id", None)
    if start_id is not None and end_id is not None:
        return tokenizer.decoder[start_id], tokenizer.decoder[end_id]
    for start, end in (("<start_of_text>", "<end_of_text>"), ("<|startoftext|>", "<|endoftext|>")):
        if start in tokenizer.encoder and end in tokenizer.encoder:
            return start, end
    raise UnsupportedModel("cannot find the start/end tokens of the open_clip tokenizer")


def _open_clip_preprocess(visual: nn.Module, preprocess: Any) -> tuple[tuple, tuple, dict[str, Any]]:
    """Mean/std from the library's Normalize transform, else model attributes,
    else the OpenAI constants."""
    info: dict[str, Any] = {}
    mean, std = None, None
    for transform in getattr(preprocess, "transforms", []) or []:
        if type(transform).__name__ == "Normalize":
            mean, std = tuple(float(v) for v in transform.mean), tuple(float(v) for v in transform.std)
        info.setdefault("transforms", []).append(repr(transform))
    config = getattr(visual, "preprocess_cfg", None) or {}
    if mean is None:
        mean = tuple(float(v) for v in (config.get("mean") or getattr(visual, "image_mean", None) or OPENAI_MEAN))
        std = tuple(float(v) for v in (config.get("std") or getattr(visual, "image_std", None) or OPENAI_STD))
    for key in ("resize_mode", "interpolation", "size"):
        if key in config:
            info[key] = repr(config[key])
    return mean, std, info


# open_clip's resize modes, in the package's terms. "squash" (aspect ratio not
# kept) has no package equivalent and is refused.
_OPEN_CLIP_RESIZE = {"shortest": "center-crop", "longest": "pad"}


def open_clip_resize(visual: nn.Module, checkpoint: str) -> tuple[str, str]:
    """(package resize mode, filter) of an open_clip model's preprocessing;
    open_clip's defaults ('shortest', 'bicubic') when the model records none."""
    config = getattr(visual, "preprocess_cfg", None) or {}
    mode = str(config.get("resize_mode") or "shortest")
    if mode not in _OPEN_CLIP_RESIZE:
        raise UnsupportedModel(f"{checkpoint}: preprocessing resize mode '{mode}' cannot be described by the "
                               f"package (supported: {', '.join(_OPEN_CLIP_RESIZE)})")
    return _OPEN_CLIP_RESIZE[mode], str(config.get("interpolation") or "bicubic")


# PIL resampling codes used by transformers' image processors.
_PIL_FILTERS = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


def hf_resize(processor: Any, checkpoint: str) -> tuple[str, str]:
    """(package resize mode, filter) of a transformers CLIPImageProcessor."""
    resample = getattr(processor, "resample", 3)
    code = int(getattr(resample, "value", resample))
    size = getattr(processor, "size", None) or {}
    if not getattr(processor, "do_center_crop", True) or "shortest_edge" not in size:
        raise UnsupportedModel(f"{checkpoint}: image processor (size {size!r}, do_center_crop "
                               f"{getattr(processor, 'do_center_crop', None)}) does not resize the short side "
                               "and crop the centre; the package cannot describe it")
    return "center-crop", _PIL_FILTERS.get(code, f"pil-{code}")


# --------------------------------------------------------------------------- #
# Hugging Face transformers
# --------------------------------------------------------------------------- #

def _load_hf(name: str, cache_dir: Optional[str], local_files_only: bool) -> LoadedClip:
    from transformers import CLIPModel, CLIPTokenizer

    kwargs: dict[str, Any] = {"local_files_only": local_files_only}
    if cache_dir:
        kwargs["cache_dir"] = cache_dir
    try:
        # Eager attention is plain matmuls: the most portable thing to trace.
        model = CLIPModel.from_pretrained(name, attn_implementation="eager", **kwargs)
    except TypeError:
        model = CLIPModel.from_pretrained(name, **kwargs)
    tokenizer = CLIPTokenizer.from_pretrained(name, **kwargs)
    mean, std, preprocess_info, resize = _hf_preprocess(name, kwargs)
    loaded = _adapt_hf(model.float().eval(), tokenizer, name, mean, std, preprocess_info)
    loaded.resize, loaded.resize_filter = resize
    commit = getattr(model.config, "_commit_hash", None)
    loaded.provenance["revision"] = {"commit": str(commit)} if commit else {"commit": "unknown (local directory)"}
    return loaded


def _hf_preprocess(name: str, kwargs: dict[str, Any]) -> tuple[tuple, tuple, dict[str, Any], tuple[str, str]]:
    try:
        from transformers import CLIPImageProcessor

        processor = CLIPImageProcessor.from_pretrained(name, **kwargs)
    except Exception as error:  # noqa: BLE001 - fall back to the OpenAI constants, recorded
        return (OPENAI_MEAN, OPENAI_STD, {"from": f"OpenAI defaults (no image processor: {type(error).__name__})"},
                ("center-crop", "bicubic"))
    info = {"size": repr(processor.size), "crop_size": repr(getattr(processor, "crop_size", None)),
            "resample": repr(getattr(processor, "resample", None)), "from": "preprocessor_config.json"}
    resize = hf_resize(processor, name)
    return tuple(map(float, processor.image_mean)), tuple(map(float, processor.image_std)), info, resize


def _random_hf(preset: str, seed: int) -> LoadedClip:
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    tables = tables_from_open_clip_bpe(synthetic_open_clip_bpe_text(_check_prompt_words()))
    size = RANDOM_PRESETS[preset]
    config = CLIPConfig(
        text_config=dict(vocab_size=len(tables.vocab), hidden_size=size["text_width"],
                         intermediate_size=4 * size["text_width"], num_hidden_layers=size["text_layers"],
                         num_attention_heads=size["text_heads"], max_position_embeddings=size["context_length"],
                         bos_token_id=tables.start_id, eos_token_id=tables.end_id, pad_token_id=tables.end_id),
        vision_config=dict(image_size=size["image_size"], patch_size=size["patch_size"],
                           hidden_size=size["vision_width"], intermediate_size=4 * size["vision_width"],
                           num_hidden_layers=size["vision_layers"], num_attention_heads=size["vision_heads"]),
        projection_dim=size["embed_dim"],
    )
    torch.manual_seed(seed)
    try:
        model = CLIPModel._from_config(config, attn_implementation="eager")
    except TypeError:
        model = CLIPModel(config)
    _randomise_affine(model, torch.Generator().manual_seed(seed + 1))

    # The library tokenizer is built from the same tables, written in the HF
    # layout; the text check then compares it with the package's own tokenizer.
    folder = Path(tempfile.mkdtemp(prefix="clip-random-tokenizer-"))
    write_hf_files(tables, folder / "vocab.json", folder / "merges.txt")
    tokenizer = CLIPTokenizer(vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"))
    loaded = _adapt_hf(model.float().eval(), tokenizer, f"random-init:hf-config:{preset}",
                       OPENAI_MEAN, OPENAI_STD, {"from": "OpenAI defaults (random init)"})
    loaded.provenance["randomInit"] = {"preset": preset, "seed": seed, "vocabSize": len(tables.vocab), **size}
    return loaded


def _hf_tables(tokenizer: Any) -> BpeTables:
    """The slow CLIPTokenizer exposes its tables; tokenizers without them (fast
    ones) can still write vocab.json / merges.txt, which are read back."""
    if hasattr(tokenizer, "encoder") and hasattr(tokenizer, "bpe_ranks"):
        return tables_from_encoder(tokenizer.encoder, tokenizer.bpe_ranks, tokenizer.bos_token, tokenizer.eos_token)
    folder = Path(tempfile.mkdtemp(prefix="clip-tokenizer-"))
    tokenizer.save_vocabulary(str(folder))
    return read_hf_files(folder / "vocab.json", folder / "merges.txt")


def _hf_block_caller(layer: nn.Module) -> Callable[[nn.Module, Tensor], Tensor]:
    """CLIPEncoderLayer's mask arguments have changed across versions; pass None
    for the ones this version has (the image tower has no mask)."""
    parameters = inspect.signature(layer.forward).parameters
    kwargs = {name: None for name in ("attention_mask", "causal_attention_mask") if name in parameters}

    def call(block: nn.Module, x: Tensor) -> Tensor:
        output = block(x, **kwargs)
        return output[0] if isinstance(output, (tuple, list)) else output

    return call


def _adapt_hf(model: nn.Module, tokenizer: Any, checkpoint: str, mean: tuple, std: tuple,
              preprocess_info: dict[str, Any]) -> LoadedClip:
    if getattr(model.config, "model_type", None) != "clip":
        raise UnsupportedModel(f"{checkpoint}: model_type {model.config.model_type!r} is not 'clip'")
    vision_model = model.vision_model
    embeddings = vision_model.embeddings
    ln_pre = getattr(vision_model, "pre_layrnorm", None) or getattr(vision_model, "pre_layernorm")
    layers = list(vision_model.encoder.layers)
    last = layers[-1]
    attention = last.self_attn
    if getattr(model.visual_projection, "bias", None) is not None:
        raise UnsupportedModel(f"{checkpoint}: a visual projection with bias is not a plain CLIP projection")

    patch_size = _square_patch_size(embeddings.patch_embedding)
    position = embeddings.position_embedding.weight
    parts = VisionParts(
        patch_embed=embeddings.patch_embedding,
        class_embedding=_clone(embeddings.class_embedding),
        position_embedding=_clone(position),
        ln_pre=ln_pre,
        blocks=layers,
        call_block=_hf_block_caller(last),
        ln_post=vision_model.post_layernorm,
        projection=_clone(model.visual_projection.weight.t()),   # Linear stores [D, W]
        last_ln_1=last.layer_norm1,
        query_weight=_clone(attention.q_proj.weight),
        query_bias=_clone(attention.q_proj.bias),
        key_weight=_clone(attention.k_proj.weight),
        key_bias=_clone(attention.k_proj.bias),
        value_weight=_clone(attention.v_proj.weight),
        value_bias=_clone(attention.v_proj.bias),
        out_weight=_clone(attention.out_proj.weight),
        out_bias=_clone(attention.out_proj.bias),
        heads=int(getattr(attention, "num_heads", None) or model.config.vision_config.num_attention_heads),
        patch_size=patch_size,
        train_image_size=grid_side(position.shape[0] - 1) * patch_size,
    )

    tables = _hf_tables(tokenizer)
    eos_id = getattr(model.config.text_config, "eos_token_id", None)
    if eos_id == 2:
        selection = "argmax(input_ids) (legacy config with eos_token_id 2); the end token has the largest id"
    elif eos_id == tables.end_id:
        selection = f"first position equal to eos_token_id {eos_id}"
    else:
        raise UnsupportedModel(f"{checkpoint}: text eos_token_id {eos_id} is neither the tokenizer's end token "
                               f"{tables.end_id} nor the legacy value 2")
    context_length = int(model.config.text_config.max_position_embeddings)
    supports_interpolation = "interpolate_pos_encoding" in inspect.signature(model.get_image_features).parameters

    def encode_text(m: nn.Module, ids: Tensor) -> Tensor:
        # transformers casts the ids to int32 itself before its argmax.
        return features(m.get_text_features(input_ids=ids), "text_embeds")

    def library_encode_text(ids: Tensor) -> Tensor:
        return features(model.get_text_features(input_ids=ids), "text_embeds")

    def encode_image(pixels: Tensor) -> Tensor:
        return features(model.get_image_features(pixel_values=pixels), "image_embeds")

    def encode_image_at_size(pixels: Tensor, position_embedding: Tensor) -> Tensor:
        """transformers' own interpolation (same bicubic rule); our table is unused."""
        del position_embedding
        return features(model.get_image_features(pixel_values=pixels, interpolate_pos_encoding=True), "image_embeds")

    def library_tokenize(texts: Sequence[str]) -> Tensor:
        encoded = tokenizer(list(texts), padding="max_length", max_length=context_length, truncation=True,
                            return_tensors="pt")
        return encoded["input_ids"]

    return LoadedClip(
        library="transformers",
        checkpoint=checkpoint,
        model=model,
        vision=parts,
        encode_text=encode_text,
        library_encode_text=library_encode_text,
        encode_image=encode_image,
        encode_image_at_size=encode_image_at_size if supports_interpolation else None,
        tables=tables,
        library_tokenize=library_tokenize,
        context_length=context_length,
        embed_dim=parts.embed_dim,
        mean=tuple(mean),
        std=tuple(std),
        provenance={
            "library": "transformers",
            "checkpoint": checkpoint,
            "libraryVersions": _versions("transformers"),
            "endOfTextSelection": selection,
            "attentionImplementation": str(getattr(model.config, "_attn_implementation", "unknown")),
            "tokenizerTables": "taken from CLIPTokenizer (vocab.json / merges.txt)",
            "libraryPreprocess": preprocess_info,
        },
    )
