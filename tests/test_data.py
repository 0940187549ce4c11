import errno
import json
import os

import numpy as np
import pytest
import torch

import data
import sources
from vocab import EOT_TEXT, Vocab, get_tokenizer, load_vocab

SCRIPTS = {
    "vi": "Tiếng Việt là ngôn ngữ chính thức của Việt Nam, được viết bằng chữ Quốc ngữ.",
    "hy": "Հայերենը հնդեվրոպական լեզվաընտանիքի առանձին ճյուղ է։",
    "ja": "日本語は、主に日本国内や日本人同士の間で使用されている言語である。カタカナ、ひらがな",
    "bn": "বাংলা ভাষা দক্ষিণ এশিয়ার বঙ্গ অঞ্চলের মানুষের স্থানীয় ভাষা।",
    "mr": "मराठी भाषा ही इंडो-युरोपीय भाषाकुळातील एक भाषा आहे.",
    "el": "Η ελληνική γλώσσα ανήκει στην ινδοευρωπαϊκή οικογένεια.",
    "uk": "Українська мова — національна мова українців.",
    "misc": "English, Ελληνικά, عربي, עברית, 中文, 한국어, ไทย, emoji 🙂🚀, tabs\tand\nnewlines <|endoftext|>",
}


def test_synthetic_is_deterministic_and_distinct():
    a = list(sources.synthetic_documents("el", seed=3, n_bytes=5_000))
    b = list(sources.synthetic_documents("el", seed=3, n_bytes=5_000))
    c = list(sources.synthetic_documents("el", seed=4, n_bytes=5_000))
    assert a == b and a != c
    alphabets = {lang: set("".join(sources.synthetic_documents(lang, n_bytes=3_000))) for lang in sources.SYNTHETIC_SCRIPTS}
    letters = {lang: s - set(" ,.?\n") for lang, s in alphabets.items()}
    for x in letters:
        for y in letters:
            if x != y:
                assert not letters[x] & letters[y], (x, y)  # every language has its own script


def test_shared_script_languages_share_most_tokens(tmp_path):
    """script="shared": the held-out language's tokens (by occurrence) are nearly all tokens the
    training languages use too, while its words are its own; with own scripts almost none are."""
    def shared_fraction(script):
        texts = sources.synthetic_sources(["el", "uk", "vi"], seed=0, n_bytes=30_000, script=script)
        data.build_corpus(script, texts, tmp_path, vocab_k=300, val_min_tokens=1000)
        bins, _ = data.load_corpus(tmp_path, script, ["el", "uk", "vi"])
        seen = np.union1d(np.unique(bins["el"]["train"]), np.unique(bins["uk"]["train"]))
        return np.isin(np.asarray(bins["vi"]["train"]), seen).mean()

    assert shared_fraction("shared") > 0.95 and shared_fraction("own") < 0.5
    words = {lang: set(next(sources.synthetic_documents(lang, script="shared")).split()) for lang in ("el", "vi")}
    assert len(words["el"] & words["vi"]) < 0.2 * len(words["vi"])  # names and numbers only
    with pytest.raises(sources.DataError, match="unknown synthetic script"):
        sources.synthetic_sources(["el"], script="latin")


def test_names_script_makes_the_held_out_tokens_rare_not_absent(tmp_path):
    """script="names": the training languages cite Latin names and words, vi writes in Latin with
    some letters of its own: most of vi's tokens occur in training, but rarely, and a minority
    never (as in the wiki corpus), unlike own scripts (most never) or one shared alphabet (all often)."""
    langs = ["el", "uk", "hy", "vi"]

    def profile(script):
        texts = sources.synthetic_sources(langs, seed=0, n_bytes=60_000, script=script)
        data.build_corpus(script, texts, tmp_path, vocab_k=400, val_min_tokens=1000)
        bins, _ = data.load_corpus(tmp_path, script, langs)
        def freq(lang):
            return np.bincount(np.asarray(bins[lang]["train"]), minlength=400) / len(bins[lang]["train"])

        vi = np.asarray(bins["vi"]["train"])
        f = (sum(freq(lang) for lang in langs[:-1]) / 3)[vi]
        return (f == 0).mean(), (f < freq("vi")[vi] / 10).mean()  # absent; 10x rarer than in vi

    unseen, rare = profile("names")
    assert 0.05 < unseen < 0.35 and rare - unseen > 0.3, (unseen, rare)
    assert profile("own")[0] > 0.5 and profile("shared")[1] < 0.2
    doc = next(sources.synthetic_documents("hy", script="names"))
    assert any(w.isascii() and w.isalpha() for w in doc.split()) and not doc.isascii()


def test_corpus_layout_and_meta(corpus_dir):
    root = corpus_dir / "synthetic"
    vocab = json.loads((root / "vocab.json").read_text())
    assert vocab["size"] <= 512 and len(vocab["ids"]) == vocab["size"]
    for lang in sources.SYNTHETIC_SCRIPTS:
        meta = json.loads((root / lang / "meta.json").read_text())
        assert meta["dtype"] == "uint16" and meta["vocab_hash"] == vocab["hash"]
        assert meta["tokenizer"].startswith("cl100k_base")
        for split in ("train", "val"):
            arr = np.fromfile(root / lang / f"{split}.bin", dtype=np.uint16)
            assert len(arr) == meta[f"{split}_tokens"] > 1000
            assert arr[-1] == 256  # every document ends with end-of-text (compact id 256)
            assert meta[f"{split}_sha256"] == data.sha256_file(root / lang / f"{split}.bin")


def test_validation_is_whole_held_out_documents(corpus_dir):
    bins, vocab = data.load_corpus(corpus_dir, "synthetic", ["uk"])
    docs = {s: set(vocab.decode(np.asarray(bins["uk"][s])).split(EOT_TEXT)) - {""} for s in ("train", "val")}
    original = set(sources.synthetic_documents("uk", seed=0, n_bytes=150_000))
    assert docs["train"] | docs["val"] == original  # nothing cut, nothing lost
    assert not docs["train"] & docs["val"]


def test_compact_vocab_roundtrip_every_script(corpus_dir):
    vocab = load_vocab(corpus_dir / "synthetic")  # chosen on synthetic text: most real tokens fall back to bytes
    for lang, text in SCRIPTS.items():
        ids = vocab.encode(text)
        assert ids.dtype == np.uint16 and ids.max() < vocab.size
        assert vocab.decode(ids) == text, lang


def test_compact_vocab_keeps_frequent_ids():
    enc, name = get_tokenizer()
    counts = {"a": np.bincount(enc.encode_ordinary("hello world " * 50 + "rare"), minlength=enc.n_vocab)}
    v = Vocab.choose(enc, name, counts, 300)
    hello = v.encode("hello world")
    assert len(hello) == 2  # both words kept whole
    assert len(v.encode("rare")) <= 4


def test_sampler_reproducible_and_resumable(corpus_dir):
    bins, _ = data.load_corpus(corpus_dir, "synthetic", ["el", "uk"])
    arrays = {k: v["train"] for k, v in bins.items()}
    s1 = data.Sampler(arrays, 32, seed=5)
    s2 = data.Sampler(arrays, 32, seed=5)
    x1, y1, l1 = s1.sample(8)
    x2, y2, l2 = s2.sample(8)
    assert torch.equal(x1, x2) and l1 == l2 and set(l1) == {"el", "uk"}
    assert torch.equal(x1[:, 1:], y1[:, :-1])
    state = s1.state()
    a = s1.sample(4, lang="uk")[0]
    s1.load_state(state)
    assert torch.equal(a, s1.sample(4, lang="uk")[0])
    # a rank reads its own rows of the same global batch
    s3 = data.Sampler(arrays, 32, seed=5)
    part = s3.sample(8, rows=range(4, 8))
    assert torch.equal(part[0], x1[4:8]) and part[2] == l1[4:8]


def test_refusals(corpus_dir, tmp_path):
    with pytest.raises(SystemExit, match="'xx' is not in corpus"):
        data.load_corpus(corpus_dir, "synthetic", ["xx"])
    with pytest.raises(SystemExit, match="fewer than one sequence"):
        bins, _ = data.load_corpus(corpus_dir, "synthetic", ["el"])
        data.Sampler({"el": bins["el"]["val"]}, block_size=10**7, seed=0)
    with pytest.raises(SystemExit, match="el val.bin has .* fewer than one sequence"):
        data.fixed_batches(bins["el"]["val"], 1, 2, block_size=10**7, name="el val.bin")
    with pytest.raises(SystemExit, match="no corpus"):
        data.load_corpus(tmp_path, "nothing", ["el"])


# ----------------------------------------------------------------------------
# integrity: verification, failed builds, full disk


def small_build(data_dir, name="c", seed=0, langs=("el", "uk"), **kw):
    return data.build_corpus(name, sources.synthetic_sources(list(langs), seed=seed, n_bytes=20_000), data_dir,
                             vocab_k=300, val_min_tokens=1000, **kw)


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_tampered_bin_is_refused(corpus_dir, tmp_path, monkeypatch, capsys):
    import shutil

    shutil.copytree(corpus_dir / "synthetic", tmp_path / "s")  # keeps mtimes: the build's stamps stay valid
    hashed = []
    sha256_file = data.sha256_file
    monkeypatch.setattr(data, "sha256_file", lambda p: hashed.append(p) or sha256_file(p))
    data.load_corpus(tmp_path, "s", ["el", "uk"])
    assert hashed == []  # verified at build time: nothing re-hashed
    data.main(["verify", "--path", str(tmp_path / "s")])
    out = capsys.readouterr().out
    assert all(f"  {lang}: ok" in out for lang in sources.SYNTHETIC_SCRIPTS) and len(hashed) == 14
    path = tmp_path / "s" / "uk" / "train.bin"
    st = path.stat()
    arr = np.fromfile(path, dtype=np.uint16)
    arr[100] ^= 1  # same size, one token changed
    arr.tofile(path)
    with pytest.raises(SystemExit, match=r"uk/train.bin does not match its sha256 in meta.json .*fix: rebuild"):
        data.load_corpus(tmp_path, "s", ["el", "uk"])
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # hide the change from the cheap check
    with pytest.raises(SystemExit, match=r"uk failed verification"):
        data.main(["verify", "--path", str(tmp_path / "s")])
    out = capsys.readouterr().out
    assert "  el: ok" in out and "  uk: FAILED" in out
    meta = json.loads((tmp_path / "s" / "el" / "meta.json").read_text())
    meta["vocab_hash"] = "0" * 16
    (tmp_path / "s" / "el" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(SystemExit, match="el in .* was built with another vocabulary"):
        data.load_corpus(tmp_path, "s", ["el"])


def test_failed_build_leaves_previous_corpus_intact(tmp_path):
    root = small_build(tmp_path)
    before = snapshot(root)

    def failing():
        yield from sources.synthetic_documents("el", n_bytes=5_000)
        raise data.DataError("data.py: source broke")

    with pytest.raises(SystemExit, match="source broke"):
        data.build_corpus("c", {"el": ("x", failing())}, tmp_path, vocab_k=300)
    assert snapshot(root) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]  # no temporary directories left


def test_disk_full_is_named_and_cleaned_up(tmp_path, monkeypatch):
    root = small_build(tmp_path)
    before = snapshot(root)

    def full(f, arr):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(data, "_append", full)
    with pytest.raises(SystemExit, match=r"^data.py: disk full while writing .*c; fix: free space or use --out elsewhere$"):
        small_build(tmp_path, seed=1)
    assert snapshot(root) == before and sorted(p.name for p in tmp_path.iterdir()) == ["c"]


def test_leftovers_of_killed_builds_are_cleaned(tmp_path):
    small_build(tmp_path)
    os.replace(tmp_path / "c", tmp_path / ".c.old-999999999")  # killed between the two renames of a swap
    (tmp_path / ".c.building-999999999").mkdir()  # killed while tokenizing
    data._clean_stale(tmp_path, "c")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]
    data.load_corpus(tmp_path, "c", ["el"], verify=True)


def test_chunk_size_does_not_change_the_corpus(tmp_path):
    a = small_build(tmp_path / "a", langs=("hy",))
    b = small_build(tmp_path / "b", langs=("hy",), chunk_bytes=500, num_threads=3)
    assert {k: v for k, v in snapshot(a).items() if "verified" not in k} == \
        {k: v for k, v in snapshot(b).items() if "verified" not in k}
    meta = json.loads((a / "hy" / "meta.json").read_text())
    assert meta["val_tokens"] >= 1000 and meta["train_tokens"] > meta["val_tokens"]


def test_markov_corpus_is_written_as_byte_ids(markov_dir, tmp_path, capsys):
    """A corpus of token ids (data.py markov): the 256 byte tokens and end-of-text as its vocabulary,
    the bins exactly the languages' ids, loaded and verified as any corpus; the command line builds
    the same bins and refuses bad probabilities in one line."""
    bins, vocab = data.load_corpus(markov_dir, "markov", ["m000", "held"], verify=True)
    assert vocab.size == 257 and vocab.decode([104, 105]) == "hi"
    assert np.array_equal(bins["m000"]["train"], sources.markov_ids(0, 0, 20_000))
    assert np.array_equal(bins["held"]["val"], sources.markov_ids(0, sources.HELD_INDEX, 4_000, stream=1))
    data.main(["markov", "--n_langs", "8", "--tokens", "20000", "--val_tokens", "4000", "--out", str(tmp_path)])
    assert "loss floor 1.208 nats per token" in capsys.readouterr().out
    for lang in ("m007", "held"):
        for split in ("train", "val"):
            assert (tmp_path / "markov" / lang / f"{split}.bin").read_bytes() == \
                   (markov_dir / "markov" / lang / f"{split}.bin").read_bytes()
    with pytest.raises(sources.DataError, match="must be comma-separated numbers"):
        data.main(["markov", "--probs", "half,half", "--out", str(tmp_path)])
    with pytest.raises(sources.DataError, match="must be positive, sum to 1"):
        data.main(["markov", "--probs", ".5,.4", "--n_langs", "1", "--out", str(tmp_path / "x")])


def test_probe_batches_are_read_lazily_and_are_the_same_on_every_pass(tmp_path):
    """data.Batches draws the batches a list built up front held (Sampler(seed), in order), again
    on every pass, and pickles to a few hundred bytes: the file's name, not its tokens."""
    import pickle

    arr = np.arange(50_000, dtype=np.uint16) % 509
    arr.tofile(tmp_path / "train.bin")
    mm = np.memmap(tmp_path / "train.bin", dtype=np.uint16, mode="r")
    sampler = data.Sampler({"vi": mm}, 32, 10_003)
    upfront = [sampler.sample(4)[:2] for _ in range(20)]
    lazy = data.Batches(mm, 32, 10_003, 4, 20, "vi")
    for _ in range(2):
        got = list(lazy)
        assert len(got) == len(lazy) == 20
        assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(got, upfront))
    blob = pickle.dumps(lazy)
    assert len(blob) < 1000 and [torch.equal(a[0], b[0]) for a, b in zip(pickle.loads(blob), upfront)] == [True] * 20
    with pytest.raises(SystemExit, match="vi has 30 tokens, fewer than one sequence"):
        data.Batches(arr[:30], 32, 0, 4, 2, "vi")
