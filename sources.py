"""
Where text comes from: each source is {lang: (description, iterator of documents)}, streamed,
for data.py to tokenize into a corpus.

    synthetic_sources   seeded artificial languages, each in its own script or all in one (offline;
                        tests, demo)
    textdir_sources     <lang>.txt, .txt.xz or .txt.gz files, or <lang>/ directories of them
    cc100_sources       CC-100 over HTTP: streamed, cached, resumed with a Range request
    markov_sources      the positive control's stream: random sparse Markov languages over 256 ids, given
                        as ids (data.build_id_corpus), a new one for every task and a held-out one
    permuted_sources    one text with its word types permuted anew for every language (Farias and
                        Jozefiak 2025's permuted Shakespeare, before subword tokenisation)

A document is a run of non-blank lines (paragraphs); blank lines separate documents.
Bad input stops with one DataError line naming the problem and the fix.
"""

import gzip
import itertools
import lzma
import os
import time
from pathlib import Path

import numpy as np


class DataError(SystemExit):
    """A problem with input data: the message names it and the fix."""


TEXT_SUFFIXES = (".txt", ".txt.xz", ".txt.gz")


def iter_documents(chunks, name, errors="strict"):
    """Documents from a stream of byte chunks: a line is a paragraph, blank lines separate
    documents. Decoded a block of whole lines at a time, so memory holds one chunk, not the
    file; bytes that are not UTF-8 stop with the byte offset (errors="replace" writes U+FFFD)."""
    doc, offset = [], 0
    try:
        for block in itertools.chain(_line_blocks(chunks), [b"\n"]):  # a final blank line ends the last document
            try:
                text = block.decode("utf-8", errors)
            except UnicodeDecodeError as e:
                raise DataError(f"data.py: {name} is not UTF-8 at byte {offset + e.start:,}; "
                                "fix: re-encode it as UTF-8, or pass --errors replace") from None
            if offset == 0:
                text = text.removeprefix("\ufeff")  # byte-order mark
            offset += len(block)
            for line in text.split("\n")[:-1]:  # every block ends with a line end
                line = line.strip()
                if line:
                    doc.append(line)
                elif doc:
                    yield "\n".join(doc)
                    doc = []
    finally:
        if hasattr(chunks, "close"):
            chunks.close()  # stop reading (or downloading) when the consumer stops


def _line_blocks(chunks):
    """Regroup byte chunks into blocks of whole lines, each ending with b"\\n" (so no UTF-8
    character spans two blocks)."""
    tail = []
    for chunk in chunks:
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            tail.append(chunk)
            continue
        yield b"".join(tail) + chunk[:cut] if tail else chunk[:cut]
        tail = [chunk[cut:]] if cut < len(chunk) else []
    if tail:
        yield b"".join(tail) + b"\n"


def take_mb(docs, max_mb):
    """The first max_mb MB (of UTF-8 text) of whole documents; all of them when max_mb is 0 or
    None. Stops reading (and downloading) the source as soon as the next document would not fit."""
    total, limit = 0, (max_mb or 0) * 1e6
    try:
        for doc in docs:
            total += len(doc.encode()) if limit else 0
            if total > limit > 0:
                return
            yield doc
    finally:
        if hasattr(docs, "close"):
            docs.close()


def read_documents(path, errors="strict", chunk_size=1 << 20):
    """Documents of one text file (plain, .xz or .gz), decompressed and decoded as a stream."""
    path = Path(path)
    opener = {".xz": lzma.open, ".gz": gzip.open}.get(path.suffix, open)

    def chunks():
        with opener(path, "rb") as f:
            try:
                while chunk := f.read(chunk_size):
                    yield chunk
            except (lzma.LZMAError, gzip.BadGzipFile, EOFError) as e:
                raise DataError(f"data.py: {path} is not a valid {path.suffix} file ({e}); "
                                "fix: re-compress or replace it") from None

    n = 0
    for n, doc in enumerate(iter_documents(chunks(), path, errors), 1):
        yield doc
    if n == 0:
        raise DataError(f"data.py: {path} holds no text; fix: fill it (one paragraph per line) or remove it")


def link_target(f):
    """A symbolic link copied as a plain file (git without symlinks, a copy that does not follow
    them) holds its target's path as its only content: the file it names, if that exists and is
    text; otherwise f itself."""
    if f.is_file() and 0 < f.stat().st_size < 512:
        text = f.read_bytes()
        try:
            target = (f.parent / text.decode("ascii").strip()).resolve()
        except (UnicodeDecodeError, ValueError, OSError):
            return f
        if "\n" not in text.decode("ascii").strip() and target.name.endswith(TEXT_SUFFIXES) and target.is_file() \
                and target != f.resolve():
            print(f"  {f.name}: a link stub, read from {target}")
            return target
    return f


def textdir_sources(path, langs=None, errors="strict", max_mb=None):
    """Sources for a directory of <lang>.txt[.xz|.gz] files or <lang>/ directories of them."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"data.py: text directory {path} does not exist; "
                        "fix: pass --path to a directory of <lang>.txt files")
    found = {}
    for p in sorted(path.iterdir()):
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.name.endswith(TEXT_SUFFIXES))
            if files:
                found[p.name] = files
        elif p.name.endswith(TEXT_SUFFIXES):
            found.setdefault(p.name.split(".")[0], []).append(p)
    wanted = langs or sorted(found)
    missing = [lang for lang in wanted if lang not in found]
    if missing:
        raise DataError(f"data.py: no text for {', '.join(missing)} in {path}; available: {', '.join(sorted(found))}")
    found = {lang: [link_target(f) for f in files] for lang, files in found.items()}
    for f in (f for lang in wanted for f in found[lang]):
        if f.stat().st_size == 0:
            raise DataError(f"data.py: {f} is empty; fix: fill it (one paragraph per line) or remove it")
    return {lang: (str(found[lang][0] if len(found[lang]) == 1 else path / lang),
                   take_mb((d for f in found[lang] for d in read_documents(f, errors)), max_mb))
            for lang in wanted}


CC100_URL = "https://data.statmt.org/cc-100"
CC100_LANGS = tuple("""af am ar as az be bg bn bn_rom br bs ca cs cy da de el en eo es et eu fa ff fi fr fy
    ga gd gl gn gu ha he hi hi_rom hr ht hu hy id ig is it ja jv ka kk km kn ko ku ky la lg li ln lo
    lt lv mg mk ml mn mr ms my my_zaw ne ne_rom nl no ns om or pa pl ps pt qu rm ro ru sa si sc sd sk
    sl so sq sr ss su sv sw ta ta_rom te te_rom th tl tn tr ug uk ur ur_rom uz vi wo xh yi yo zh-Hans
    zh-Hant zu""".split())


def cc100_sources(langs, max_mb=50, cache_dir="data/_cache/cc100", url=CC100_URL, errors="strict",
                  retries=6, backoff=2.0):
    """Sources for CC-100 languages: the first max_mb MB of whole documents of each."""
    if not langs:
        raise DataError(f"data.py: cc100 needs --langs (e.g. vi,uk,el); valid codes: {' '.join(CC100_LANGS)}")
    unknown = [lang for lang in langs if lang not in CC100_LANGS]
    if unknown:
        raise DataError(f"data.py: {', '.join(unknown)} is not a CC-100 language code; "
                        f"valid codes: {' '.join(CC100_LANGS)}")
    out = {}
    for lang in langs:
        src = f"{url.rstrip('/')}/{lang}.txt.xz"
        chunks = download_xz(src, Path(cache_dir) / f"{lang}.txt.xz", retries, backoff, want=(max_mb or 0) * 1e6)
        out[lang] = (src, take_mb(iter_documents(chunks, src, errors), max_mb))
    return out


class _Unxz:
    """Incremental xz decompression (concatenated streams and stream padding allowed); .out
    counts the bytes of text produced."""

    def __init__(self, name):
        self.d, self.name, self.out = lzma.LZMADecompressor(), name, 0

    def __call__(self, data):
        out = []
        try:
            while data := (data.lstrip(b"\0") if self.d.eof else data):
                if self.d.eof:
                    self.d = lzma.LZMADecompressor()
                out.append(self.d.decompress(data))
                data = self.d.unused_data if self.d.eof else b""
        except lzma.LZMAError as e:
            raise DataError(f"data.py: {self.name} is not valid xz ({e}); fix: delete it and run again") from None
        self.out += sum(map(len, out))
        return b"".join(out)


def download_xz(url, path, retries=6, backoff=2.0, want=0, chunk_size=1 << 16):
    """Decompressed chunks of the .xz file at url, cached at path. What earlier runs got (path,
    or path.part while incomplete) is read first; the rest is appended to the .part file as it
    arrives, resuming with an HTTP Range request after an interruption (a server that ignores
    Range and answers 200 is read past what we have). Consecutive failures back off
    exponentially, at most `retries` of them. The consumer stopping early stops the download.
    want: the text bytes the consumer wants (for the ETA)."""
    import requests
    import urllib3

    path = Path(path)
    part = path.with_name(path.name + ".part")
    unxz = _Unxz(path if path.exists() else part)
    for cached in (path, part):
        if cached.exists():
            with open(cached, "rb") as f:
                while chunk := f.read(chunk_size):
                    yield unxz(chunk)
            if cached == path:
                return
    path.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    t0, have0, text0, shown, failures, total = time.time(), have, unxz.out, time.time(), 0, -1

    def progress(end=""):
        dt = max(time.time() - t0, 1e-9)
        rate, text_rate = (have - have0) / dt, (unxz.out - text0) / dt
        left = ((want - unxz.out) / text_rate if want and text_rate else
                (total - have) / rate if total > 0 and rate else None)
        eta = "?" if left is None else f"{int(max(left, 0)) // 60}:{int(max(left, 0)) % 60:02d}"
        print(f"  {url}: {have / 1e6:.1f}{f'/{total / 1e6:.1f}' if total > 0 else ''} MB at {rate / 1e6:.2f} MB/s, "
              f"text {unxz.out / 1e6:.1f}{f'/{want / 1e6:.0f}' if want else ''} MB, ETA {eta}{end}", flush=True)

    print(f"  downloading {url}" + (f" (resuming at {have / 1e6:.1f} MB)" if have else ""), flush=True)
    with open(part, "ab") as out:
        while True:
            try:
                with requests.get(url, stream=True, timeout=(10, 60), headers={
                        "Accept-Encoding": "identity", **({"Range": f"bytes={have}-"} if have else {})}) as r:
                    if r.status_code == 416:  # nothing past what we have
                        break
                    if 400 <= r.status_code < 500 and r.status_code not in (408, 429):
                        raise DataError(f"data.py: {url} answered HTTP {r.status_code}; "
                                        "fix: check the language and --url")
                    r.raise_for_status()
                    first = int(r.headers["Content-Range"].split()[1].split("-")[0]) if r.status_code == 206 else 0
                    length = int(r.headers.get("Content-Length", -1))  # of this answer, from `first` on
                    skip, total = have - first, first + length if length >= 0 else -1
                    if skip < 0:
                        raise DataError(f"data.py: {url} resumed past byte {have:,}; fix: delete {part} and run again")
                    # read1 hands over whatever has arrived, so a broken connection loses nothing
                    stream = (iter(lambda: r.raw.read1(chunk_size), b"") if hasattr(r.raw, "read1")
                              else r.iter_content(chunk_size))
                    for chunk in stream:
                        chunk, skip = chunk[skip:], max(skip - len(chunk), 0)
                        if chunk:
                            out.write(chunk)
                            have, failures = have + len(chunk), 0
                            try:
                                yield unxz(chunk)
                            except GeneratorExit:  # the consumer has enough text
                                progress(" (stopped: enough text; the rest is fetched when needed)")
                                raise
                        if time.time() - shown > 2:
                            progress()
                            shown = time.time()
                if have >= total if total >= 0 else unxz.d.eof:
                    break
                raise requests.ConnectionError(f"connection closed at byte {have:,}")
            except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
                failures += 1
                if failures > retries:
                    raise DataError(f"data.py: downloading {url} failed {failures} times ({e}); "
                                    "fix: check the network and run again (it resumes)") from None
                delay = min(backoff * 2 ** (failures - 1), 120)
                print(f"  {url}: {type(e).__name__} at byte {have:,}; retry {failures}/{retries} in {delay:g}s",
                      flush=True)
                time.sleep(delay)
    if not unxz.d.eof:
        raise DataError(f"data.py: {part} ends inside the xz stream; fix: delete it and run again")
    progress(" (complete)")
    os.replace(part, path)


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


SHARED_LETTERS = "abcdefghiklmnoprstuvyz"  # script="shared": one alphabet for every language
SCRIPTS = ("own", "shared", "names")


def synthetic_documents(lang, seed=0, n_bytes=500_000, lexicon=1500, successors=6, own=0.3, script="own",
                        names=None, marked=0.1):
    """Seeded artificial language: a Zipf lexicon of words built from syllables, a sparse
    word-transition (Markov) structure, punctuation, paragraphs, documents.
    The languages share a latent grammar: word i of every language stands for the same
    concept, and the transitions between concepts are common to all of them except for a
    fraction `own` that each language draws for itself. So what a model learns of the
    grammar on some languages can transfer to another, as between natural languages.

    script="own": each language writes its syllables in its own script, so no two languages
    share a token but punctuation. script="shared": every language draws its syllables from
    one pool written in one alphabet, and a fraction `names` of its words are proper names
    and numbers common to all languages, as European languages share letters, syllables,
    digits and names; a held-out language then shares most of its tokens with the others
    while its words (and their order) remain its own. script="names": each language in its own
    script, as with "own", but a fraction `names` of its words are names, numbers and lower-case
    words common to all, written in the Latin letters of SHARED_LETTERS, as Wikipedia in Greek
    or Armenian cites Latin names and titles; "vi" writes Latin syllables, a fraction `marked` of
    them with one letter of its own (a diacritic), so its tokens are rare in the training
    languages and some absent, as Vietnamese's are in the wiki corpus: there (vocabulary 512) 9%
    of its tokens never occur in the training languages and 67% occur below a frequency of 1e-3;
    here (names 0.1, 0.3 MB per language, vocabulary 512) 17% and 58%. `names` defaults to 0.05
    for "shared" and 0.1 for "names"."""
    if script not in SCRIPTS:
        raise DataError(f"data.py: unknown synthetic script {script!r}; use one of {', '.join(SCRIPTS)}")
    if names is None:  # "names": vi's tokens then as rare in training as Vietnamese's in the wiki corpus
        names = 0.1 if script == "names" else 0.05
    rng = np.random.default_rng([seed, sorted(SYNTHETIC_SCRIPTS).index(lang)])
    common = np.random.default_rng([seed, 2_000_003])  # what script="shared" gives every language
    pool = ["".join(common.choice(list(SHARED_LETTERS), size=common.integers(1, 4))) for _ in range(200)]
    own_marks = [c for c in SYNTHETIC_SCRIPTS[lang] if c not in SHARED_LETTERS]
    latin = len(set(SHARED_LETTERS) & set(SYNTHETIC_SCRIPTS[lang])) > len(SHARED_LETTERS) // 2
    if script == "shared":
        syllables = list(rng.choice(pool, size=120, replace=False))
    elif script == "names" and latin:
        # a Latin-script language (vi): Latin syllables, a fraction `marked` with one letter of its own
        syllables = [w if rng.random() >= marked else w[:i] + rng.choice(own_marks) + w[i + 1:]
                     for w, i in ((w, int(rng.integers(len(w)))) for w in rng.choice(pool, size=120, replace=False))]
    else:
        letters = list(SYNTHETIC_SCRIPTS[lang])
        syllables = ["".join(rng.choice(letters, size=rng.integers(1, 4))) for _ in range(120)]
    proper = [] if script == "own" else \
        ["".join(common.choice(pool, size=common.integers(2, 4))).capitalize() for _ in range(150)] \
        + [str(v) for v in common.integers(1, 2100, size=50)]
    if script == "names":  # and Latin words in lower case, as loanwords, titles and references give
        proper += ["".join(common.choice(pool, size=common.integers(1, 4))) for _ in range(200)]
    words = []
    while len(words) < lexicon:
        w = "".join(rng.choice(syllables, size=rng.integers(1, 4)))
        if w not in words:
            words.append(w)
    zipf = np.cumsum(1.0 / np.arange(1, lexicon + 1) ** 1.1)
    zipf /= zipf[-1]
    shared = np.random.default_rng([seed, 1_000_003])  # the grammar every language shares
    succ = np.searchsorted(zipf, shared.random((lexicon, successors)))  # each concept's likely followers
    mine = rng.random((lexicon, successors)) < own
    succ[mine] = np.searchsorted(zipf, rng.random(int(mine.sum())))
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
                if proper:  # a name in place of the word (script="own": no draw, output unchanged)
                    name, name_id = rng.random(n) < names, rng.integers(0, len(proper), n)
                else:
                    name, name_id = np.zeros(n, bool), None
                w = int(fresh[0])
                out = []
                for i in range(n):
                    if i:
                        w = int(fresh[i]) if jump[i] else int(succ[w, follower[i]])
                    word = proper[name_id[i]] if name[i] else words[w]
                    out.append(word + ("," if comma[i] and 0 < i < n - 1 else ""))
                sentences.append(" ".join(out) + ("?" if rng.random() < 0.1 else "."))
            paragraphs.append(" ".join(sentences))
        doc = "\n".join(paragraphs)
        produced += len(doc.encode())
        yield doc


def synthetic_sources(langs=None, seed=0, n_bytes=500_000, script="own"):
    langs = langs or list(SYNTHETIC_SCRIPTS)
    unknown = [lang for lang in langs if lang not in SYNTHETIC_SCRIPTS]
    if unknown:
        raise DataError(f"data.py: no synthetic language {', '.join(unknown)}; available: {', '.join(SYNTHETIC_SCRIPTS)}")
    if script not in SCRIPTS:
        raise DataError(f"data.py: unknown synthetic script {script!r}; use one of {', '.join(SCRIPTS)}")
    desc = f"synthetic(seed={seed})" if script == "own" else f"synthetic(seed={seed}, script={script})"
    return {lang: (desc, synthetic_documents(lang, seed, n_bytes, script=script)) for lang in langs}


# Streams for the positive control (config/control-*.py): tasks on which small models are known to lose
# plasticity, each task a language never seen before, the probe's language one never trained on.

MARKOV_PROBS = (0.5, 0.25, 0.15, 0.1)  # the successors' probabilities: entropy 1.21 nats per token
HELD_INDEX = 10 ** 6  # the held-out (probe) language's index in a stream: never a training language's


def markov_table(seed, index, vocab=256, probs=MARKOV_PROBS):
    """A random sparse Markov language over `vocab` ids: every id has len(probs) distinct successors,
    drawn uniformly, followed with probabilities `probs`. Returns (successors, probs), successors of
    shape (vocab, len(probs)). Seeded by (seed, index): index k is the k-th language of a stream."""
    if len(probs) > vocab or not np.isclose(sum(probs), 1) or min(probs) <= 0:
        raise DataError(f"data.py: markov successor probabilities {tuple(probs)} must be positive, sum to 1 and "
                        f"number at most the {vocab} ids; fix: --probs .5,.25,.15,.1 or similar")
    rng = np.random.default_rng([seed, 7_000_003, index])
    succ = np.stack([rng.choice(vocab, size=len(probs), replace=False) for _ in range(vocab)])
    return succ, np.asarray(probs, float)


def markov_ids(seed, index, n_tokens, vocab=256, probs=MARKOV_PROBS, chain=4096, stream=0):
    """n_tokens ids of language (seed, index): independent chains of `chain` tokens, each from a
    uniformly drawn first id, concatenated (one transition in `chain` is a junction). stream
    separates draws of the same language (0: training text, 1: validation text)."""
    succ, p = markov_table(seed, index, vocab, probs)
    rng = np.random.default_rng([seed, 7_000_003, index, 1 + stream])
    n_chains = -(-n_tokens // chain)
    out = np.empty((n_chains, chain), dtype=np.int64)
    out[:, 0] = rng.integers(vocab, size=n_chains)
    pick = np.searchsorted(np.cumsum(p), rng.random((n_chains, chain - 1)), side="right").clip(max=len(p) - 1)
    for t in range(1, chain):
        out[:, t] = succ[out[:, t - 1], pick[:, t - 1]]
    return out.reshape(-1)[:n_tokens].astype(np.uint16)


def markov_entropy(probs=MARKOV_PROBS):
    """The loss floor of a Markov language, nats per token (what a perfect model reaches)."""
    p = np.asarray(probs, float)
    return float(-(p * np.log(p)).sum())


def markov_sources(n_langs, n_tokens, val_tokens=20_000, seed=0, probs=MARKOV_PROBS, held="held"):
    """{lang: (description, (train ids, val ids))} for n_langs random sparse Markov languages m000,
    m001, ... and one more, `held`, the probe's (drawn as language HELD_INDEX: never a training one,
    whatever n_langs is). Each language's ids are 0..255, the byte ids of a compact vocabulary
    (data.build_id_corpus)."""
    if n_langs < 1 or n_tokens < 1 or val_tokens < 1:
        raise DataError(f"data.py: markov needs --n_langs, --tokens and --val_tokens >= 1, got {n_langs}, "
                        f"{n_tokens}, {val_tokens}")
    desc = f"markov(seed={seed}, successors={len(probs)}, probs={','.join(f'{x:g}' for x in probs)})"

    def language(k):  # (description, make): the ids are drawn when the corpus is written
        return f"{desc}[{k}]", lambda: (markov_ids(seed, k, n_tokens, probs=probs),
                                        markov_ids(seed, k, val_tokens, probs=probs, stream=1))

    return {**{f"m{k:03d}": language(k) for k in range(n_langs)}, held: language(HELD_INDEX)}


def permuted_sources(path, n_langs, seed=0, max_mb=0.2, held="held"):
    """Permuted words (the anchor of Farias and Jozefiak 2025, "Permuted Shakespeare"): one fixed text,
    the first max_mb MB of the file or directory at path, rewritten n_langs times (p000, p001, ...) and
    once more for `held`, the probe's, each time with its word types permuted (every occurrence of a
    word replaced by the same other word of the text: the counts of word types are shuffled, the
    text's order of words kept) before tokenisation. Punctuation attached to a word moves with it."""
    path = Path(path)
    files = sorted(f for f in path.iterdir() if f.name.endswith(TEXT_SUFFIXES)) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise DataError(f"data.py: permuted needs --path to a text file or a directory of them; {path} is neither")
    docs = list(take_mb((d for f in files for d in read_documents(f)), max_mb))
    types = sorted({w for d in docs for w in d.split()})
    if len(types) < 2:
        raise DataError(f"data.py: {path} has {len(types)} word type(s) in its first {max_mb} MB; "
                        "a permutation needs two or more; fix: a longer text or a larger --max_mb")
    def rewritten(k):
        perm = np.random.default_rng([seed, 9_000_011, k]).permutation(len(types))
        swap = {w: types[j] for w, j in zip(types, perm)}
        for d in docs:
            yield "\n".join(" ".join(swap[w] for w in line.split()) for line in d.split("\n"))

    desc = f"permuted({path.name}, {max_mb:g} MB, seed={seed})"
    return {**{f"p{k:03d}": (f"{desc}[{k}]", rewritten(k)) for k in range(n_langs)},
            held: (f"{desc}[{HELD_INDEX}]", rewritten(HELD_INDEX))}
