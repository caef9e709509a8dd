"""CLIP byte-level BPE: tables, conversion to the Hugging Face file layout, and a
reference tokenizer.

The C# side reads ``vocab.json`` (token -> id) and ``merges.txt`` (one merge per
line, lowest rank first, after a ``#version`` header). Both libraries share the
same tables, they only name the two special tokens differently:

- open_clip ships ``bpe_simple_vocab_16e6.txt.gz`` (a header line, then merges)
  and builds the vocabulary as: 256 byte symbols, the same 256 with ``</w>``,
  one token per merge (in merge order), then the special tokens. Its special
  tokens are called ``<start_of_text>`` / ``<end_of_text>``.
- Hugging Face ``CLIPTokenizer`` ships vocab.json / merges.txt directly, with
  the special tokens ``<|startoftext|>`` / ``<|endoftext|>``.

The ids are identical (49406 and 49407 for the standard vocabulary), so the
package always uses the Hugging Face names.

The reference tokenizer below is what the checks use to produce ``input_ids``
from the *written* files, so the exported tables are exercised exactly the way
the C# side will use them (padding with ``padTokenId``).
"""

from __future__ import annotations

import gzip
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

START_TOKEN = "<|startoftext|>"
END_TOKEN = "<|endoftext|>"
OPEN_CLIP_START_TOKEN = "<start_of_text>"
OPEN_CLIP_END_TOKEN = "<end_of_text>"
END_OF_WORD = "</w>"
MERGES_HEADER = "#version: 0.2"
# open_clip and HF both keep exactly this many merge lines of the 16e6 file.
STANDARD_MERGE_COUNT = 49152 - 256 - 2
PAD_TOKEN_ID = 0


def bytes_to_unicode() -> dict[int, str]:
    """Map every byte to a printable unicode character (GPT-2/CLIP convention).

    Printable Latin-1 bytes map to themselves; the remaining 68 bytes (controls,
    space, etc.) map to code points 256, 257, ... in byte order. BPE then works on
    strings of these characters, so no byte is ever lost or confused with
    whitespace.

    The dict's *insertion order* matters: the vocabulary starts with its values
    in this order (printable bytes first, so id 0 is "!"), exactly as in
    open_clip and the original CLIP code.
    """
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\u00a1"), ord("\u00ac") + 1))
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    )
    mapping: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


@dataclass(frozen=True)
class BpeTables:
    """A CLIP vocabulary: token -> id, and merges in rank order."""

    vocab: dict[str, int]
    merges: list[tuple[str, str]]
    start_token: str = START_TOKEN
    end_token: str = END_TOKEN

    @property
    def start_id(self) -> int:
        return self.vocab[self.start_token]

    @property
    def end_id(self) -> int:
        return self.vocab[self.end_token]

    def validate(self) -> None:
        """Fail loudly on tables the C# tokenizer could not use consistently."""
        ids = sorted(self.vocab.values())
        if ids != list(range(len(ids))):
            raise ValueError("vocabulary ids are not the contiguous range 0..N-1")
        for token in (self.start_token, self.end_token):
            if token not in self.vocab:
                raise ValueError(f"special token {token!r} missing from the vocabulary")
        if self.end_id != len(ids) - 1:
            # open_clip selects the end token by argmax(input_ids); that only works
            # when it is the largest id. All CLIP vocabularies satisfy this.
            raise ValueError(
                f"end token id {self.end_id} is not the largest id {len(ids) - 1}; "
                "argmax-based end-of-text selection would break"
            )
        if PAD_TOKEN_ID in (self.start_id, self.end_id):
            raise ValueError("pad id 0 collides with a special token")
        byte_symbols = set(bytes_to_unicode().values())
        for symbol in byte_symbols:
            if symbol not in self.vocab or symbol + END_OF_WORD not in self.vocab:
                raise ValueError(f"byte symbol {symbol!r} (or its </w> form) missing")
        for left, right in self.merges:
            if " " in left or " " in right or not left or not right:
                raise ValueError(f"malformed merge {left!r} {right!r}")
            if left + right not in self.vocab:
                raise ValueError(f"merge result {left + right!r} missing from the vocabulary")


def vocab_from_merges(merges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Build the vocabulary exactly the way open_clip's SimpleTokenizer does,
    but with the Hugging Face names for the special tokens."""
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + END_OF_WORD for s in symbols]
    tokens += ["".join(m) for m in merges]
    tokens += [START_TOKEN, END_TOKEN]
    vocab: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token in vocab:
            raise ValueError(f"token {token!r} would appear twice (ids {vocab[token]} and {index})")
        vocab[token] = index
    return vocab


def parse_merge_lines(lines: Iterable[str]) -> list[tuple[str, str]]:
    merges: list[tuple[str, str]] = []
    for number, line in enumerate(lines, start=1):
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"merge line {number} is not two symbols: {line!r}")
        merges.append((parts[0], parts[1]))
    return merges


def tables_from_open_clip_bpe(text: str, merge_count: int = STANDARD_MERGE_COUNT) -> BpeTables:
    """Convert the content of open_clip's ``bpe_simple_vocab_16e6.txt(.gz)``.

    The first line is a header; the next ``merge_count`` lines are the merges that
    open_clip actually uses (the file holds more). Slicing mirrors open_clip so the
    ids match its tokenizer one for one.
    """
    lines = text.split("\n")[1 : merge_count + 1]
    merges = parse_merge_lines(lines)
    tables = BpeTables(vocab=vocab_from_merges(merges), merges=merges)
    tables.validate()
    return tables


def read_open_clip_bpe(path: str | Path) -> BpeTables:
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return tables_from_open_clip_bpe(raw.decode("utf-8"))


def tables_from_encoder(
    encoder: dict[str, int],
    bpe_ranks: dict[tuple[str, str], int],
    start_token: str,
    end_token: str,
) -> BpeTables:
    """Build tables from a live tokenizer object (open_clip SimpleTokenizer or
    HF CLIPTokenizer), renaming its special tokens to the package names."""
    rename = {start_token: START_TOKEN, end_token: END_TOKEN}
    vocab = {rename.get(token, token): index for token, index in encoder.items()}
    merges = [pair for pair, _ in sorted(bpe_ranks.items(), key=lambda item: item[1])]
    tables = BpeTables(vocab=vocab, merges=merges)
    tables.validate()
    return tables


def write_hf_files(tables: BpeTables, vocab_path: Path, merges_path: Path) -> None:
    """Write vocab.json (ordered by id) and merges.txt (rank order) as UTF-8."""
    tables.validate()
    ordered = dict(sorted(tables.vocab.items(), key=lambda item: item[1]))
    vocab_path.write_text(json.dumps(ordered, ensure_ascii=False), encoding="utf-8")
    lines = [MERGES_HEADER] + [f"{left} {right}" for left, right in tables.merges]
    merges_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_hf_files(vocab_path: Path, merges_path: Path) -> BpeTables:
    """Read the package files back (what the C# side does)."""
    vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
    lines = merges_path.read_text(encoding="utf-8").split("\n")
    if lines and lines[0].startswith("#version"):
        lines = lines[1:]
    merges = parse_merge_lines(line for line in lines if line.strip())
    tables = BpeTables(vocab=vocab, merges=merges)
    tables.validate()
    return tables


def synthetic_open_clip_bpe_text(words: Iterable[str]) -> str:
    """A tiny merges file in open_clip's format, for seeded random-init exports.

    Each word gets a left-to-right chain of merges (``p h``, ``ph o``, ...,
    ``phot o</w>``), so every word of the check prompts becomes one token while
    anything else still tokenises through the byte symbols. No trailing newline:
    open_clip would otherwise read an empty merge.
    """
    encoder = bytes_to_unicode()
    seen: set[str] = set()
    lines = [MERGES_HEADER]
    for word in words:
        symbols = [encoder[b] for b in word.lower().encode("utf-8")]
        if len(symbols) < 2:
            continue
        symbols[-1] += END_OF_WORD
        current = symbols[0]
        for symbol in symbols[1:]:
            merged = current + symbol
            if merged not in seen:
                seen.add(merged)
                lines.append(f"{current} {symbol}")
            current = merged
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Reference tokenizer
# --------------------------------------------------------------------------- #

try:  # The libraries use the `regex` module for \p{L} / \p{N}; both depend on it.
    import regex as _regex

    _TOKEN_PATTERN = _regex.compile(
        r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
        _regex.IGNORECASE,
    )
    EXACT_PATTERN = True
except ImportError:  # pragma: no cover - approximation for non-ASCII text only
    _TOKEN_PATTERN = re.compile(
        r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""",
        re.IGNORECASE,
    )
    EXACT_PATTERN = False


def clean_text(text: str) -> str:
    """open_clip's 'lower' cleaning: ftfy (when installed), HTML unescape twice,
    collapse whitespace, lower-case."""
    try:
        import ftfy

        text = ftfy.fix_text(text)
    except ImportError:
        pass
    text = html.unescape(html.unescape(text)).strip()
    text = re.sub(r"\s+", " ", text).strip()
    return text.lower()


class ClipBpeTokenizer:
    """Minimal CLIP tokenizer over package tables.

    Sequence layout: ``[start] + bpe(text) + [end]``, truncated to
    ``context_length`` with the end token kept last, then padded with
    ``pad_id``. This is open_clip's layout and the one the C# side implements.
    """

    def __init__(self, tables: BpeTables, context_length: int, pad_id: int = PAD_TOKEN_ID) -> None:
        self.tables = tables
        self.context_length = context_length
        self.pad_id = pad_id
        self.ranks = {pair: rank for rank, pair in enumerate(tables.merges)}
        self.byte_encoder = bytes_to_unicode()
        self._cache: dict[str, list[str]] = {}

    def _bpe(self, word: str) -> list[str]:
        """Merge the lowest-ranked adjacent pair until none is left."""
        if word in self._cache:
            return self._cache[word]
        parts = list(word[:-1]) + [word[-1] + END_OF_WORD]
        while len(parts) > 1:
            best_rank, best_pair = None, None
            for pair in zip(parts, parts[1:]):
                rank = self.ranks.get(pair)
                if rank is not None and (best_rank is None or rank < best_rank):
                    best_rank, best_pair = rank, pair
            if best_pair is None:
                break
            merged: list[str] = []
            i = 0
            while i < len(parts):
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == best_pair:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        self._cache[word] = parts
        return parts

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without start/end tokens."""
        ids: list[int] = []
        for piece in _TOKEN_PATTERN.findall(clean_text(text)):
            symbols = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.tables.vocab[token] for token in self._bpe(symbols))
        return ids

    def sequence(self, text: str) -> list[int]:
        """One padded row of ``input_ids``."""
        ids = [self.tables.start_id] + self.encode(text) + [self.tables.end_id]
        if len(ids) > self.context_length:
            ids = ids[: self.context_length]
            ids[-1] = self.tables.end_id
        return ids + [self.pad_id] * (self.context_length - len(ids))

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.sequence(text) for text in texts]


def up_to_end(row: Sequence[int], end_id: int) -> list[int]:
    """The prefix of a row up to and including its first end token (padding
    after it does not influence a causal text tower)."""
    row = list(row)
    return row[: row.index(end_id) + 1] if end_id in row else row
