"""How much of the probe language lives on token ids that no training language uses: the ids
whose embedding rows training never reads (tied output layer: only pushes them down).

    python tools/vocab_overlap.py ../shared/corpus > results/vocab-overlap/overlap.txt

For three training sets, each against Vietnamese, and for compact vocabularies of K ids
chosen as data.py chooses them (over the training languages and the probe language, per-
language frequencies averaged) and for the full cl100k vocabulary: how many ids occur in
Vietnamese and in no training language, and what share of Vietnamese tokens they carry.
  ntrex-paper  the paper's eight training languages (en zh fr ja es de pt ru), NTREX
  ntrex-ours   our Wikipedia corpus's six (el uk hy bn mr ja), NTREX: the same sentences
  wiki-ours    our Wikipedia corpus itself (data.py textdir), as the earlier studies train on it
  docs-paper   the docs corpus: the paper's eight languages from free-software documentation,
               Vietnamese from Wikipedia, as the CPU study trains on it (config/study-docs.py)
NTREX is 1,997 parallel sentences per language, so the two NTREX rows differ in script and
vocabulary, not in content or size; with so little text, rare ids count as unseen that a
larger corpus would see: read the share of tokens, not the count of ids.
"""
import lzma
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sources import link_target  # noqa: E402
from vocab import Vocab, get_tokenizer  # noqa: E402

root = Path(sys.argv[1])
SETS = {
    "ntrex-paper": ("ntrex", ["eng-US", "zho-CN", "fra", "jpn", "spa", "deu", "por", "rus"], "vie"),
    "ntrex-ours": ("ntrex", ["ell", "ukr", "hye", "ben", "mar", "jpn"], "vie"),
    "wiki-ours": ("wiki", ["el", "uk", "hy", "bn", "mr", "ja"], "vi"),
    "docs-paper": ("docs", ["en", "zh", "fr", "ja", "es", "de", "pt", "ru"], "vi"),
}
enc, name = get_tokenizer()
cache = {}


def tokens(folder, lang):
    if (folder, lang) not in cache:
        text = lzma.open(link_target(root / folder / f"{lang}.txt.xz"), "rt", encoding="utf-8").read()
        cache[folder, lang] = np.array(enc.encode_ordinary(text), dtype=np.int64)
    return cache[folder, lang]


print(f"tokenizer {name}; share = Vietnamese tokens on ids no training language uses")
print(f"{'training set':<12} {'vocabulary':>10} {'vi ids':>7} {'vi-only ids':>11} {'share':>6}")
for set_name, (folder, train_langs, probe) in SETS.items():
    raw = {lg: tokens(folder, lg) for lg in train_langs + [probe]}
    counts = {lg: np.bincount(t, minlength=enc.n_vocab) for lg, t in raw.items()}
    for k in (512, 1024, 2048, 8192, 32768, None):
        vocab = Vocab(enc, name) if k is None else Vocab.choose(enc, name, counts, k)
        size = vocab.size
        used = sum(np.bincount(vocab.remap(raw[lg]).astype(np.int64), minlength=size) for lg in train_langs)
        vi = np.bincount(vocab.remap(raw[probe]).astype(np.int64), minlength=size)
        only = (vi > 0) & (used == 0)
        print(f"{set_name:<12} {('full ' + str(size)) if k is None else k:>10} {int((vi > 0).sum()):>7} "
              f"{int(only.sum()):>11} {vi[only].sum() / vi.sum():>6.3f}", flush=True)
