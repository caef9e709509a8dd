"""The modules that are traced into image.onnx and text.onnx.

Both towers are library-agnostic: ``sources`` hands them a ``VisionParts``
(references to the checkpoint's own submodules plus a few tensors) or a text
encode function, so the graph contains exactly the library's layers and nothing
re-implemented except the embedding step (needed for the interpolated position
embedding) and the dense head (``DENSE_HEADS``), a graph edit of the last block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .package import DENSE_HEAD_NAMES

BlockCaller = Callable[[nn.Module, Tensor], Tensor]
TextEncoder = Callable[[nn.Module, Tensor], Tensor]


@dataclass
class VisionParts:
    """What the image tower needs from a CLIP ViT, independent of the library.

    Module fields are references (they follow the model's device/dtype changes).
    Tensor fields are fp32 copies taken at load time; the tower casts them to the
    export dtype, so the position-embedding interpolation always runs in fp32.
    """

    patch_embed: nn.Conv2d          # stride == kernel == patch size, no bias in CLIP
    class_embedding: Tensor         # [W]
    position_embedding: Tensor      # [1 + g*g, W] at the training grid, class token first
    ln_pre: nn.Module
    blocks: list[nn.Module]         # all transformer blocks, last one included
    call_block: BlockCaller         # runs one block on [B, T, W] (batch-first) input
    ln_post: nn.Module
    projection: Optional[Tensor]    # [W, D] (x @ projection); None means identity
    last_ln_1: nn.Module            # the last block's pre-attention LayerNorm
    query_weight: Tensor            # [W, W]  q = query_weight @ t + query_bias (unscaled)
    query_bias: Optional[Tensor]    # [W]
    key_weight: Tensor              # [W, W]
    key_bias: Optional[Tensor]      # [W]
    value_weight: Tensor            # [W, W]  v = value_weight @ t + value_bias
    value_bias: Optional[Tensor]    # [W]
    out_weight: Tensor              # [W, W]  attention output projection
    out_bias: Optional[Tensor]      # [W]
    heads: int                      # attention heads of the last block
    patch_size: int
    train_image_size: int

    @property
    def width(self) -> int:
        return int(self.class_embedding.shape[-1])

    @property
    def train_grid(self) -> int:
        return grid_side(self.position_embedding.shape[0] - 1)

    @property
    def embed_dim(self) -> int:
        return self.width if self.projection is None else int(self.projection.shape[1])


# The training-free dense heads, all graph edits of the last block with no new
# weights (README, "Dense heads"). x is the input of the last block, t = ln_1(x).
#   value     out_proj(v(t)) per token: attention to itself only; no residual, no MLP
#   clearclip softmax(q q^T / sqrt(d)) v; no residual, no MLP          (ClearCLIP)
#   sclip     x + out_proj((softmax(q q^T/sqrt d) + softmax(k k^T/sqrt d)) v); no MLP (SCLIP)
#   naclip    softmax(k k^T / sqrt(d) + gaussian prior) v; no residual, no MLP (NACLIP)
# followed in every case by ln_post and the projection, patch tokens only.
DENSE_HEADS = DENSE_HEAD_NAMES
DEFAULT_DENSE_HEAD = "value"
# NACLIP's neighbourhood prior: exp(-|p_i - p_j|^2 / (2 std^2)) over patch-grid
# coordinates, added to the attention logits; 0 for every pair that involves
# the class token. std = 5 patches, the value of NACLIP's released code.
NACLIP_GAUSSIAN_STD = 5.0


def neighbourhood_prior(grid: int, std: float = NACLIP_GAUSSIAN_STD) -> Tensor:
    """``[1 + g*g, 1 + g*g]`` additive attention bias of NACLIP (class token first)."""
    coordinates = torch.stack(torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij"), dim=-1)
    coordinates = coordinates.reshape(-1, 2).float()
    squared = ((coordinates[:, None, :] - coordinates[None, :, :]) ** 2).sum(-1)
    prior = torch.zeros(1 + grid * grid, 1 + grid * grid)
    prior[1:, 1:] = torch.exp(-squared / (2.0 * std * std))
    return prior


def grid_side(patch_count: int) -> int:
    """Side of the square patch grid; CLIP ViTs are trained on square grids."""
    side = math.isqrt(patch_count)
    if side * side != patch_count:
        raise ValueError(f"{patch_count} position embeddings (without the class token) do not form a square grid")
    return side


def interpolate_position_embedding(position_embedding: Tensor, target_grid: int) -> Tensor:
    """Resize ``[1 + g*g, W]`` position embeddings to ``[1 + t*t, W]``.

    The class-token row is kept as is. The patch rows are laid out row-major on
    the g x g grid (the order in which the patch conv output is flattened),
    reshaped to an image with W channels, resized bicubically
    (align_corners=False, as Hugging Face's ``interpolate_pos_encoding`` does) and
    flattened back in the same order. Runs in fp32. Returns a copy even when the
    grid does not change.
    """
    source_grid = grid_side(position_embedding.shape[0] - 1)
    weights = position_embedding.detach().float()
    if source_grid == target_grid:
        return weights.clone()
    width = weights.shape[-1]
    class_row, patch_rows = weights[:1], weights[1:]
    image = patch_rows.reshape(1, source_grid, source_grid, width).permute(0, 3, 1, 2)
    image = F.interpolate(image, size=(target_grid, target_grid), mode="bicubic", align_corners=False)
    patch_rows = image.permute(0, 2, 3, 1).reshape(target_grid * target_grid, width)
    return torch.cat([class_row, patch_rows], dim=0).contiguous()


class ImageTower(nn.Module):
    """``pixel_values [B,3,S,S] -> (image_embeds [B,D], patch_embeds [B,(S/p)^2,D])``.

    image_embeds is the checkpoint's normal projected global embedding (class
    token after the full last block, ln_post, projection), not normalised.

    patch_embeds is the chosen dense head on the last block (``DENSE_HEADS``);
    the default ``value`` head is, for each patch token x entering the last block,
        proj(ln_post(out_proj(v_proj(ln_1(x)))))
    i.e. self-attention in which every token attends only to itself: the value
    path only, no query/key, no residual, no MLP. Row i of patch_embeds is the
    patch at grid row i // g, column i % g.

    Inputs and outputs are float32 even when the weights are fp16, so the C#
    side sees one contract.
    """

    def __init__(self, parts: VisionParts, image_size: int, dtype: torch.dtype, device: torch.device,
                 dense_head: str = DEFAULT_DENSE_HEAD) -> None:
        super().__init__()
        if dense_head not in DENSE_HEADS:
            raise ValueError(f"dense head {dense_head!r} is not one of {', '.join(DENSE_HEADS)}")
        if image_size % parts.patch_size != 0:
            raise ValueError(f"image size {image_size} is not a multiple of the patch size {parts.patch_size}")
        self.image_size = image_size
        self.grid = image_size // parts.patch_size
        self.dense_head_name = dense_head
        self.heads = parts.heads
        self.patch_embed = parts.patch_embed
        self.ln_pre = parts.ln_pre
        self.blocks = nn.ModuleList(parts.blocks)
        self.ln_post = parts.ln_post
        self.last_ln_1 = parts.last_ln_1
        self._call_block = parts.call_block

        def buffer(name: str, value: Optional[Tensor]) -> None:
            tensor = None if value is None else value.detach().to(device=device, dtype=dtype).clone()
            self.register_buffer(name, tensor, persistent=False)

        position = interpolate_position_embedding(parts.position_embedding, self.grid).unsqueeze(0)
        buffer("position_embedding", position)
        buffer("class_embedding", parts.class_embedding.reshape(1, 1, -1))
        buffer("projection", parts.projection)
        buffer("query_weight", parts.query_weight)
        buffer("query_bias", parts.query_bias)
        buffer("key_weight", parts.key_weight)
        buffer("key_bias", parts.key_bias)
        buffer("value_weight", parts.value_weight)
        buffer("value_bias", parts.value_bias)
        buffer("out_weight", parts.out_weight)
        buffer("out_bias", parts.out_bias)
        buffer("prior", neighbourhood_prior(self.grid) if dense_head == "naclip" else None)

    def trunk(self, pixel_values: Tensor) -> Tensor:
        """Tokens entering the last block, ``[B, 1 + g*g, W]`` (class token first)."""
        x = self.patch_embed(pixel_values.to(self.position_embedding.dtype))
        x = x.flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.position_embedding
        x = self.ln_pre(x)
        for block in self.blocks[:-1]:
            x = self._call_block(block, x)
        return x

    def _project(self, x: Tensor) -> Tensor:
        return x if self.projection is None else x @ self.projection

    def global_head(self, last_input: Tensor) -> Tensor:
        """The library's own global embedding: full last block, class token."""
        x = self._call_block(self.blocks[-1], last_input)
        return self._project(self.ln_post(x[:, 0]))

    def dense_head(self, last_input: Tensor) -> Tensor:
        """The chosen dense head for the patch tokens (class token dropped)."""
        if self.dense_head_name == "value":
            x = self.last_ln_1(last_input[:, 1:])
            x = F.linear(x, self.value_weight, self.value_bias)
            x = F.linear(x, self.out_weight, self.out_bias)
            return self._project(self.ln_post(x))
        batch, tokens, width = last_input.shape
        head_dim = width // self.heads
        scale = head_dim ** -0.5
        t = self.last_ln_1(last_input)

        def split(weight: Tensor, bias: Optional[Tensor]) -> Tensor:   # [B, H, T, d]
            return F.linear(t, weight, bias).reshape(batch, tokens, self.heads, head_dim).transpose(1, 2)

        v = split(self.value_weight, self.value_bias)
        if self.dense_head_name == "clearclip":
            q = split(self.query_weight, self.query_bias)
            attention = torch.softmax(q @ q.transpose(-1, -2) * scale, dim=-1)
        elif self.dense_head_name == "sclip":
            q = split(self.query_weight, self.query_bias)
            k = split(self.key_weight, self.key_bias)
            attention = (torch.softmax(q @ q.transpose(-1, -2) * scale, dim=-1)
                         + torch.softmax(k @ k.transpose(-1, -2) * scale, dim=-1))
        else:   # naclip
            k = split(self.key_weight, self.key_bias)
            attention = torch.softmax(k @ k.transpose(-1, -2) * scale + self.prior, dim=-1)
        x = (attention @ v).transpose(1, 2).reshape(batch, tokens, width)
        x = F.linear(x, self.out_weight, self.out_bias)
        if self.dense_head_name == "sclip":
            x = last_input + x
        return self._project(self.ln_post(x[:, 1:]))

    def forward(self, pixel_values: Tensor) -> tuple[Tensor, Tensor]:
        last_input = self.trunk(pixel_values)
        return self.global_head(last_input).float(), self.dense_head(last_input).float()


class GlobalTower(nn.Module):
    """``pixel_values [B,3,S0,S0] -> image_embeds [B,D]`` at the training size
    S0: the checkpoint's global embedding exactly as trained (no position
    interpolation), offered beside the high-resolution graph."""

    def __init__(self, tower: ImageTower) -> None:
        super().__init__()
        self.tower = tower

    def forward(self, pixel_values: Tensor) -> Tensor:
        return self.tower.global_head(self.tower.trunk(pixel_values)).float()


class TextTower(nn.Module):
    """``input_ids [B, L] int64 -> text_embeds [B, D]`` float32, not normalised.

    The forward is the library's own text path (open_clip ``encode_text`` or HF
    ``get_text_features``), so the end-of-text position is chosen by the
    library's rule; see ``sources`` for why padding with id 0 is safe for both.
    """

    def __init__(self, model: nn.Module, encode: TextEncoder) -> None:
        super().__init__()
        self.model = model
        self._encode = encode

    def forward(self, input_ids: Tensor) -> Tensor:
        return self._encode(self.model, input_ids).float()
