"""ONNX export, contract inspection and numerical verification.

What is compared (all on seeded random inputs):

image tower, at the export size S (batch 3, the graph was traced with batch 2):
  - ONNX vs the PyTorch wrapper: image_embeds and patch_embeds;
  - ONNX patch_embeds vs a loop-form reference of the chosen dense head in
    float64 that reads the last block's weights straight from the library
    modules (per image, per head, per query token) -- catches q/k/v slicing,
    head layout, LayerNorm and projection-orientation mistakes;
  - ONNX batch of 1 vs batch of 3 (the batch axis really is dynamic);
image tower, at the training size S0:
  - wrapper (built for S0, no interpolation) vs the library's own image
    features -- proves the wrapper's re-assembled forward equals the library's;
  - when S == S0, ONNX vs the library directly; otherwise the library at S with
    the interpolated position embedding (open_clip: swapped in; transformers: its
    own interpolate_pos_encoding), gating: a mismatch blocks the export;
global graph (image-global.onnx, training size): ONNX vs the library.
text tower:
  - package tokenizer (reading the written vocab.json/merges.txt) vs the
    library tokenizer: identical ids up to the end token;
  - ONNX (package ids, padded with 0) vs the wrapper, and vs the library's own
    text features on the library's own ids and padding;
  - ONNX batch of 1 vs the full batch.

A comparison passes when max|got - ref| <= atol * max(1, max|ref|) and the
smallest row-wise cosine similarity is >= min_cosine.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .bpe import PAD_TOKEN_ID, BpeTables, ClipBpeTokenizer, up_to_end
from .package import DEFAULT_TEMPLATES
from .sources import CHECK_CLASSES, LoadedClip
from .towers import ImageTower, TextTower


@dataclass(frozen=True)
class Tolerance:
    atol: float
    min_cosine: float


FP32_TOLERANCE = Tolerance(atol=1e-3, min_cosine=0.9999)
FP16_TOLERANCE = Tolerance(atol=2e-2, min_cosine=0.999)


@dataclass
class CheckResult:
    name: str
    passed: bool
    gating: bool = True
    max_abs_diff: Optional[float] = None
    max_abs_ref: Optional[float] = None
    min_cosine: Optional[float] = None
    note: str = ""

    def line(self) -> str:
        status = ("PASS" if self.passed else "FAIL") if self.gating else ("info" if self.passed else "WARN")
        metrics = ""
        if self.max_abs_diff is not None:
            metrics = (f"  max|diff|={self.max_abs_diff:.3e}  max|ref|={self.max_abs_ref:.3e}"
                       f"  min cos={self.min_cosine:.7f}")
        note = f"  ({self.note})" if self.note else ""
        return f"[{status}] {self.name}{metrics}{note}"

    def to_json(self) -> dict[str, Any]:
        """camelCase like the rest of model.json; empty fields left out."""
        keys = {"max_abs_diff": "maxAbsDiff", "max_abs_ref": "maxAbsRef", "min_cosine": "minCosine"}
        return {keys.get(k, k): v for k, v in asdict(self).items() if v is not None and v != ""}


class ContractError(Exception):
    """The exported graph does not have the inputs/outputs the C# side expects."""


def to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.detach().float().cpu().numpy()
    return np.asarray(value)


def compare(name: str, got: Any, ref: Any, tolerance: Tolerance, gating: bool = True) -> CheckResult:
    """Max abs diff and row-wise cosine between two arrays of the same shape
    (rows = all leading axes, columns = the embedding axis)."""
    a = to_numpy(got).astype(np.float64)
    b = to_numpy(ref).astype(np.float64)
    if a.shape != b.shape:
        return CheckResult(name, False, gating, note=f"shape {a.shape} vs {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return CheckResult(name, False, gating, note="non-finite values")
    diff = float(np.abs(a - b).max())
    scale = float(np.abs(b).max())
    rows_a, rows_b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    norms = np.linalg.norm(rows_a, axis=1) * np.linalg.norm(rows_b, axis=1)
    cosine = float(((rows_a * rows_b).sum(axis=1) / np.maximum(norms, 1e-30)).min())
    passed = diff <= tolerance.atol * max(1.0, scale) and cosine >= tolerance.min_cosine
    return CheckResult(name, passed, gating, diff, scale, cosine)


# --------------------------------------------------------------------------- #
# Export and contract
# --------------------------------------------------------------------------- #

def disable_mha_fast_path() -> None:
    """nn.MultiheadAttention's inference fast path is a fused kernel the ONNX
    exporter cannot translate; make every forward take the regular path."""
    backends_mha = getattr(torch.backends, "mha", None)
    if backends_mha is not None and hasattr(backends_mha, "set_fastpath_enabled"):
        backends_mha.set_fastpath_enabled(False)


def export_onnx(module: nn.Module, example: tuple[Tensor, ...], path: Path, input_names: Sequence[str],
                output_names: Sequence[str], opset: int) -> None:
    """TorchScript-based export with a dynamic batch axis on every input and
    output. (torch >= 2.9 defaults to the dynamo exporter; the TorchScript one
    is asked for explicitly because it supports dynamic_axes and constant
    folding as used here.) Gradients stay enabled while tracing: that, besides
    the flag above, keeps nn.MultiheadAttention off its fused fast path."""
    import onnx

    module.eval()
    kwargs: dict[str, Any] = dict(
        export_params=True,
        opset_version=opset,
        do_constant_folding=True,
        input_names=list(input_names),
        output_names=list(output_names),
        dynamic_axes={name: {0: "batch"} for name in (*input_names, *output_names)},
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    torch.onnx.export(module, example, str(path), **kwargs)
    onnx.checker.check_model(str(path))


@dataclass(frozen=True)
class TensorSpec:
    name: str
    elem_type: str                      # "float32" | "int64"
    dims: tuple[Any, ...]               # ints, or "batch" for the dynamic axis


def inspect_contract(path: Path, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> list[str]:
    """Compare the graph's declared inputs/outputs with the contract. Raises
    ContractError on a wrong name, order, element type, rank, static batch axis
    or wrong static size; returns notes for sizes the graph leaves symbolic
    (those are checked at run time by the numerical checks)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    initializers = {tensor.name for tensor in model.graph.initializer}
    graph_inputs = [value for value in model.graph.input if value.name not in initializers]
    problems: list[str] = []
    notes: list[str] = []
    _match_values(path.name, "input", graph_inputs, inputs, problems, notes)
    _match_values(path.name, "output", list(model.graph.output), outputs, problems, notes)
    if problems:
        raise ContractError("; ".join(problems))
    return notes


_ELEM_TYPES = {"float32": 1, "int64": 7}   # onnx.TensorProto.FLOAT / INT64


def _match_values(file: str, role: str, actual: Sequence[Any], expected: Sequence[TensorSpec],
                  problems: list[str], notes: list[str]) -> None:
    names = [value.name for value in actual]
    if names != [spec.name for spec in expected]:
        problems.append(f"{file}: {role}s are {names}, expected {[spec.name for spec in expected]}")
        return
    for value, spec in zip(actual, expected):
        tensor_type = value.type.tensor_type
        if tensor_type.elem_type != _ELEM_TYPES[spec.elem_type]:
            problems.append(f"{file}: {spec.name} has element type {tensor_type.elem_type}, expected {spec.elem_type}")
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor_type.shape.dim]
        if len(dims) != len(spec.dims):
            problems.append(f"{file}: {spec.name} has rank {len(dims)}, expected {len(spec.dims)}")
            continue
        for axis, (got, want) in enumerate(zip(dims, spec.dims)):
            if want == "batch":
                if isinstance(got, int):
                    problems.append(f"{file}: {spec.name} axis 0 is static ({got}); the batch axis must be dynamic")
            elif isinstance(got, int):
                if got != want:
                    problems.append(f"{file}: {spec.name} axis {axis} is {got}, expected {want}")
            else:
                notes.append(f"{file}: {spec.name} axis {axis} is symbolic ({got}); expected {want} at run time")


def declare_static_dims(path: Path, outputs: Sequence[TensorSpec]) -> list[str]:
    """Write the known static sizes into the graph's output declarations.

    The exporter sometimes leaves a size symbolic although it is fixed (e.g. the
    patch count after slicing off the class token); consumers that read the
    declared shapes should see the real numbers. The numerical checks confirm
    the run-time shapes. Initializers are not loaded, so external data files
    (models over 2 GB) stay as they are.
    """
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    declared = {value.name: value for value in model.graph.output}
    changed: list[str] = []
    for spec in outputs:
        value = declared.get(spec.name)
        if value is None or len(value.type.tensor_type.shape.dim) != len(spec.dims):
            continue                                       # inspect_contract reports it
        for axis, (dim, want) in enumerate(zip(value.type.tensor_type.shape.dim, spec.dims)):
            if isinstance(want, int) and not dim.HasField("dim_value"):
                dim.Clear()
                dim.dim_value = want
                changed.append(f"{spec.name} axis {axis} = {want}")
            elif want == "batch" and not dim.HasField("dim_value") and dim.dim_param != "batch":
                dim.dim_param = "batch"
                changed.append(f"{spec.name} axis {axis} = batch")
    if changed:
        onnx.save(model, str(path))
        onnx.checker.check_model(str(path))
    return changed


def open_session(path: Path, device: str, fp16: bool) -> Any:
    """An onnxruntime session on the CPU, or on CUDA when asked and available.
    fp16 graphs need the CUDA provider (the CPU provider lacks fp16 kernels for
    several of these ops)."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    providers = ["CPUExecutionProvider"]
    if device == "cuda" and "CUDAExecutionProvider" in available:
        providers.insert(0, "CUDAExecutionProvider")
    elif fp16:
        raise RuntimeError("checking an fp16 export needs onnxruntime-gpu with the CUDA provider "
                           f"(available: {available}); install it or pass --no-check")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)


# --------------------------------------------------------------------------- #
# Dense-path reference
# --------------------------------------------------------------------------- #

def _f64(tensor: Optional[Tensor], size: int = 0) -> np.ndarray:
    if tensor is None:
        return np.zeros(size)
    return tensor.detach().float().cpu().numpy().astype(np.float64)


@dataclass
class DenseReferenceWeights:
    ln_1: tuple[np.ndarray, np.ndarray, float]
    query_weight: np.ndarray      # [W, W]
    query_bias: np.ndarray        # [W]
    key_weight: np.ndarray        # [W, W]
    key_bias: np.ndarray          # [W]
    value_weight: np.ndarray      # [W, W]
    value_bias: np.ndarray        # [W]
    out_weight: np.ndarray        # [W, W]
    out_bias: np.ndarray          # [W]
    ln_post: tuple[np.ndarray, np.ndarray, float]
    projection: np.ndarray        # [W, D]
    heads: int


def _layer_norm_params(module: nn.Module, width: int) -> tuple[np.ndarray, np.ndarray, float]:
    weight = _f64(module.weight, width) if module.weight is not None else np.ones(width)
    return weight, _f64(getattr(module, "bias", None), width), float(module.eps)


def reference_weights_open_clip(visual: nn.Module) -> DenseReferenceWeights:
    """The last block's weights of an open_clip VisionTransformer, by open_clip's names."""
    block = visual.transformer.resblocks[-1]
    attention = block.attn
    width = attention.embed_dim
    if attention.in_proj_weight is not None:
        query_weight, key_weight, value_weight = _f64(attention.in_proj_weight).reshape(3, width, width)
    else:
        query_weight, key_weight, value_weight = (_f64(attention.q_proj_weight), _f64(attention.k_proj_weight),
                                                  _f64(attention.v_proj_weight))
    biases = (_f64(attention.in_proj_bias).reshape(3, width) if attention.in_proj_bias is not None
              else np.zeros((3, width)))
    projection = _f64(visual.proj) if visual.proj is not None else np.eye(width)
    return DenseReferenceWeights(
        ln_1=_layer_norm_params(block.ln_1, width),
        query_weight=query_weight, query_bias=biases[0], key_weight=key_weight, key_bias=biases[1],
        value_weight=value_weight, value_bias=biases[2],
        out_weight=_f64(attention.out_proj.weight), out_bias=_f64(attention.out_proj.bias, width),
        ln_post=_layer_norm_params(visual.ln_post, width), projection=projection, heads=attention.num_heads)


def reference_dense_weights(loaded: LoadedClip) -> DenseReferenceWeights:
    """Read the last block's weights from the library modules by their library
    names -- deliberately not through ``VisionParts`` -- so that a slicing or
    orientation mistake there shows up as a mismatch."""
    if loaded.library == "open_clip":
        return reference_weights_open_clip(loaded.model.visual)
    vision = loaded.model.vision_model
    layer = vision.encoder.layers[-1]
    attention = layer.self_attn
    width = attention.v_proj.weight.shape[1]
    heads = getattr(attention, "num_heads", None) or loaded.model.config.vision_config.num_attention_heads
    return DenseReferenceWeights(
        ln_1=_layer_norm_params(layer.layer_norm1, width),
        query_weight=_f64(attention.q_proj.weight), query_bias=_f64(attention.q_proj.bias, width),
        key_weight=_f64(attention.k_proj.weight), key_bias=_f64(attention.k_proj.bias, width),
        value_weight=_f64(attention.v_proj.weight), value_bias=_f64(attention.v_proj.bias, width),
        out_weight=_f64(attention.out_proj.weight), out_bias=_f64(attention.out_proj.bias, width),
        ln_post=_layer_norm_params(vision.post_layernorm, width),
        projection=_f64(loaded.model.visual_projection.weight).T,      # nn.Linear stores [D, W]
        heads=int(heads))


def _layer_norm(vector: np.ndarray, params: tuple[np.ndarray, np.ndarray, float]) -> np.ndarray:
    weight, bias, eps = params
    mean = vector.mean()
    variance = ((vector - mean) ** 2).mean()
    return (vector - mean) / math.sqrt(variance + eps) * weight + bias


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def naclip_prior_loop(grid: int, std: float) -> np.ndarray:
    """NACLIP's Gaussian neighbourhood prior, pair by pair: patch index i is at
    row i // g, column i % g; pairs with the class token (index 0) get 0."""
    tokens = 1 + grid * grid
    prior = np.zeros((tokens, tokens))
    for i in range(1, tokens):
        row_i, col_i = divmod(i - 1, grid)
        for j in range(1, tokens):
            row_j, col_j = divmod(j - 1, grid)
            prior[i, j] = math.exp(-((row_i - row_j) ** 2 + (col_i - col_j) ** 2) / (2.0 * std * std))
    return prior


def dense_reference_loop(head: str, last_block_input: np.ndarray, weights: DenseReferenceWeights,
                         grid: int, naclip_std: float = 5.0) -> np.ndarray:
    """The published dense heads on the last block, written as plain loops over
    images, heads and query tokens (float64), from the block's weights:

    - value (MaskCLIP's value path without its residual/MLP): each token attends
      only to itself, so each head returns that token's value;
    - clearclip: logits q_i . q_j / sqrt(d); no residual, no MLP;
    - sclip: softmax(q_i . q_j / sqrt d) + softmax(k_i . k_j / sqrt d); the
      block input is added back (residual), no MLP;
    - naclip: logits k_i . k_j / sqrt(d) + exp(-|p_i - p_j|^2 / (2 std^2));
      no residual, no MLP;

    then ln_post and the projection. ``last_block_input`` is ``[B, 1 + N, W]``;
    returns ``[B, N, D]`` for the patch tokens."""
    batch, tokens, width = last_block_input.shape
    head_dim = width // weights.heads
    scale = 1.0 / math.sqrt(head_dim)
    prior = naclip_prior_loop(grid, naclip_std) if head == "naclip" else None
    output = np.zeros((batch, tokens - 1, weights.projection.shape[1]))
    for b in range(batch):
        normed = np.stack([_layer_norm(last_block_input[b, t], weights.ln_1) for t in range(tokens)])
        per_head = []                                                # (queries, keys, values) of every token
        for h in range(weights.heads):
            rows = slice(h * head_dim, (h + 1) * head_dim)
            per_head.append(tuple(normed @ w[rows].T + bias[rows] for w, bias in (
                (weights.query_weight, weights.query_bias), (weights.key_weight, weights.key_bias),
                (weights.value_weight, weights.value_bias))))
        for t in range(1, tokens):                                   # patch tokens; the class token is a key only
            head_outputs = []
            for queries, keys, values in per_head:
                if head == "value":
                    head_outputs.append(values[t])                   # softmax over one key is 1
                    continue
                if head == "clearclip":
                    attention = _softmax(np.array([queries[t] @ queries[j] for j in range(tokens)]) * scale)
                elif head == "sclip":
                    attention = (_softmax(np.array([queries[t] @ queries[j] for j in range(tokens)]) * scale)
                                 + _softmax(np.array([keys[t] @ keys[j] for j in range(tokens)]) * scale))
                elif head == "naclip":
                    assert prior is not None
                    attention = _softmax(np.array([keys[t] @ keys[j] * scale + prior[t, j] for j in range(tokens)]))
                else:
                    raise ValueError(f"unknown dense head {head!r}")
                head_outputs.append(attention @ values)              # sum_j attention_j * value_j
            attended = weights.out_weight @ np.concatenate(head_outputs) + weights.out_bias
            if head == "sclip":
                attended = attended + last_block_input[b, t]
            output[b, t - 1] = _layer_norm(attended, weights.ln_post) @ weights.projection
    return output


# --------------------------------------------------------------------------- #
# Image checks
# --------------------------------------------------------------------------- #

def random_pixels(count: int, size: int, mean: Sequence[float], std: Sequence[float], seed: int) -> Tensor:
    """Uniform [0,1] images normalised like real input: float32 [count,3,size,size] on the CPU."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand((count, 3, size, size), generator=generator)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (images - mean_t) / std_t


def check_image(loaded: LoadedClip, tower: ImageTower, train_tower: ImageTower, session: Any,
                tolerance: Tolerance, device: torch.device, dtype: torch.dtype, seed: int) -> list[CheckResult]:
    results: list[CheckResult] = []
    size, grid, dim = tower.image_size, tower.grid, loaded.embed_dim
    pixels = random_pixels(3, size, loaded.mean, loaded.std, seed)
    onnx_image, onnx_patches = session.run(["image_embeds", "patch_embeds"], {"pixel_values": pixels.numpy()})
    shapes_ok = onnx_image.shape == (3, dim) and onnx_patches.shape == (3, grid * grid, dim)
    results.append(CheckResult("image.onnx output shapes", shapes_ok,
                               note=f"image_embeds {onnx_image.shape}, patch_embeds {onnx_patches.shape}"))

    with torch.no_grad():
        ref_image, ref_patches = tower(pixels.to(device))
        last_input = tower.trunk(pixels[:2].to(device))
    results.append(compare(f"image_embeds: onnx vs torch wrapper @{size}", onnx_image, ref_image, tolerance))
    results.append(compare(f"patch_embeds: onnx vs torch wrapper @{size}", onnx_patches, ref_patches, tolerance))

    head = tower.dense_head_name
    dense = dense_reference_loop(head, to_numpy(last_input).astype(np.float64), reference_dense_weights(loaded),
                                 grid)
    results.append(compare(f"patch_embeds: onnx vs loop-form {head} reference (float64)",
                           onnx_patches[:2], dense, tolerance))

    single_image, single_patches = session.run(["image_embeds", "patch_embeds"],
                                               {"pixel_values": pixels[:1].numpy()})
    results.append(compare("image_embeds: onnx batch 1 vs batch 3", single_image, onnx_image[:1], tolerance))
    results.append(compare("patch_embeds: onnx batch 1 vs batch 3", single_patches, onnx_patches[:1], tolerance))

    train_size = train_tower.image_size
    train_pixels = random_pixels(2, train_size, loaded.mean, loaded.std, seed + 1).to(device, dtype)
    with torch.no_grad():
        ours, _ = train_tower(train_pixels)
        library = loaded.encode_image(train_pixels)
    results.append(compare(f"image_embeds: torch wrapper vs library @{train_size} (training size)",
                           ours, library, tolerance))

    if size == train_size:
        with torch.no_grad():
            library = loaded.encode_image(pixels.to(device, dtype))
        results.append(compare(f"image_embeds: onnx vs library @{size}", onnx_image, library, tolerance))
    elif loaded.encode_image_at_size is not None:
        name = f"image_embeds: onnx vs library with interpolated positions @{size}"
        try:
            with torch.no_grad():
                library = loaded.encode_image_at_size(pixels.to(device, dtype), tower.position_embedding[0])
            results.append(compare(name, onnx_image, library, tolerance))
        except Exception as error:  # noqa: BLE001 - the library cannot run at this size: recorded
            results.append(CheckResult(name, False, gating=False, note=f"not comparable: {error}"))
    return results


def check_global_image(loaded: LoadedClip, train_tower: ImageTower, session: Any, tolerance: Tolerance,
                       device: torch.device, dtype: torch.dtype, seed: int) -> list[CheckResult]:
    """The training-size graph (image-global.onnx) against the library itself."""
    size = train_tower.image_size
    pixels = random_pixels(3, size, loaded.mean, loaded.std, seed + 2)
    (onnx_image,) = session.run(["image_embeds"], {"pixel_values": pixels.numpy()})
    with torch.no_grad():
        library = loaded.encode_image(pixels.to(device, dtype))
    (single,) = session.run(["image_embeds"], {"pixel_values": pixels[:1].numpy()})
    return [compare(f"global image_embeds: onnx vs library @{size} (training size)", onnx_image, library, tolerance),
            compare("global image_embeds: onnx batch 1 vs batch 3", single, onnx_image[:1], tolerance)]


# --------------------------------------------------------------------------- #
# Text checks
# --------------------------------------------------------------------------- #

def check_prompts() -> list[str]:
    prompts = [template.format(name) for template, name in zip(DEFAULT_TEMPLATES, CHECK_CLASSES)]
    prompts += [
        "it's 2 dogs & a cat's toy!",
        "A PHOTO   of a Café\tat night",
        " ".join(["a photo of a fire hydrant next to a dog"] * 12),   # longer than the context: truncated
    ]
    return prompts


def check_text(loaded: LoadedClip, text_tower: TextTower, tables: BpeTables, session: Any,
               tolerance: Tolerance, device: torch.device) -> list[CheckResult]:
    results: list[CheckResult] = []
    prompts = check_prompts()
    tokenizer = ClipBpeTokenizer(tables, loaded.context_length, PAD_TOKEN_ID)
    ours = np.asarray(tokenizer(prompts), dtype=np.int64)
    library_ids = loaded.library_tokenize(prompts).to(torch.int64)
    end = tables.end_id
    mismatched = [prompt for prompt, a, b in zip(prompts, ours.tolist(), library_ids.tolist())
                  if up_to_end(a, end) != up_to_end(b, end)]
    results.append(CheckResult("input_ids: package tokenizer vs library tokenizer (up to the end token)",
                               not mismatched, note=f"differ for {mismatched!r}" if mismatched else
                               f"{len(prompts)} prompts"))

    (onnx_text,) = session.run(["text_embeds"], {"input_ids": ours})
    results.append(CheckResult("text.onnx output shape", onnx_text.shape == (len(prompts), loaded.embed_dim),
                               note=f"text_embeds {onnx_text.shape}"))
    with torch.no_grad():
        ref = text_tower(torch.from_numpy(ours).to(device))
        library = loaded.library_encode_text(library_ids.to(device))
    results.append(compare("text_embeds: onnx vs torch wrapper", onnx_text, ref, tolerance))
    results.append(compare("text_embeds: onnx (package ids, pad 0) vs library (its own ids and padding)",
                           onnx_text, library, tolerance))
    (single,) = session.run(["text_embeds"], {"input_ids": ours[:1]})
    results.append(compare("text_embeds: onnx batch 1 vs full batch", single, onnx_text[:1], tolerance))
    return results
