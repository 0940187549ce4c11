"""Text sources: textdir (plain, .xz, .gz, a directory per language), cc100 against a local HTTP
server (interrupted and resumed downloads, Range ignored, max_mb cutoff, retries), and the
input errors. Offline: the server listens on 127.0.0.1 only."""

import gzip
import http.server
import json
import lzma
import socket
import threading
from collections import Counter

import numpy as np
import pytest

import data
import sources
import sweep
from vocab import EOT_TEXT

LETTERS = "abcdefghijklmnopqrstuvwxyzαβγδεζηθικλμνξοπρστυφχψωабвгдежзийклмнопрстуфхцчшщьюяєіїàảãáạăâđêôơư"


def make_docs(n, seed=0):
    """n documents of random words in mixed scripts, 1-3 paragraphs each, a few duplicates."""
    rng = np.random.default_rng(seed)
    letters = np.array(list(LETTERS))
    docs = []
    for _ in range(n):
        paras = [" ".join("".join(rng.choice(letters, rng.integers(2, 9))) for _ in range(rng.integers(5, 60)))
                 for _ in range(rng.integers(1, 4))]
        docs.append("\n".join(paras))
    return docs


def as_text(docs):
    return "\n\n".join(docs) + "\n"


def xz(docs):
    return lzma.compress(as_text(docs).encode(), preset=1)


# ----------------------------------------------------------------------------
# textdir


def test_textdir_every_compression_and_a_directory_per_language(tmp_path):
    docs = {lang: make_docs(12, seed=i) for i, lang in enumerate(["aa", "bb", "cc", "dd"])}
    src = tmp_path / "text"
    src.mkdir()
    (src / "aa.txt").write_text(as_text(docs["aa"]), encoding="utf-8")
    (src / "bb.txt.xz").write_bytes(xz(docs["bb"]))
    (src / "cc.txt.gz").write_bytes(gzip.compress(as_text(docs["cc"]).encode()))
    (src / "dd").mkdir()
    (src / "dd" / "1.txt").write_text(as_text(docs["dd"][:5]), encoding="utf-8")
    (src / "dd" / "2.txt.gz").write_bytes(gzip.compress(as_text(docs["dd"][5:]).encode()))
    (src / "notes.md").write_text("not a language")
    texts = sources.textdir_sources(src)
    assert sorted(texts) == ["aa", "bb", "cc", "dd"]
    assert texts["bb"][0].endswith("bb.txt.xz") and texts["dd"][0].endswith("dd")
    for lang, (_, it) in texts.items():
        assert list(it) == docs[lang], lang
    root = data.build_corpus("t", sources.textdir_sources(src), tmp_path / "data", vocab_k=300, val_min_tokens=500)
    bins, vocab = data.load_corpus(tmp_path / "data", "t", ["aa", "dd"])
    for lang in ("aa", "dd"):
        got = set()
        for split in ("train", "val"):
            got |= set(vocab.decode(np.asarray(bins[lang][split])).split(EOT_TEXT)) - {""}
        assert got == set(docs[lang])
        meta = json.loads((root / lang / "meta.json").read_text())
        assert meta["documents"] == 12 and meta["tokens"] == meta["train_tokens"] + meta["val_tokens"]


def test_build_tokenizes_special_token_text_as_ordinary_text(tmp_path):
    doc = "Tiếng Việt <|endoftext|> Հայերեն 日本語 🙂"
    (tmp_path / "x.txt").write_text(doc + "\n")
    data.build_corpus("t", sources.textdir_sources(tmp_path), tmp_path / "data", vocab_k=300, val_min_tokens=0,
                      val_frac=0.0)
    bins, vocab = data.load_corpus(tmp_path / "data", "t", ["x"])
    assert np.asarray(bins["x"]["train"]).tolist() == vocab.encode(doc).tolist() + [256]


def test_streaming_reader_matches_whole_file_reading(tmp_path):
    docs = make_docs(20, seed=3) + ["ελληνικά 日本語 🙂 with trailing spaces"]
    raw = ("\ufeff" + "\r\n\r\n  \r\n".join(d.replace("\n", "\r\n") for d in docs)).encode()  # BOM, CRLF, no final newline
    p = tmp_path / "x.txt.xz"
    p.write_bytes(lzma.compress(raw, preset=1))
    whole = [d.replace("\r\n", "\n") for d in docs]
    assert list(sources.read_documents(p)) == whole
    assert list(sources.read_documents(p, chunk_size=7)) == whole  # chunks split lines and characters


def test_textdir_max_mb_keeps_whole_documents(tmp_path):
    docs = make_docs(40, seed=4)
    (tmp_path / "x.txt").write_text(as_text(docs))
    got = list(sources.textdir_sources(tmp_path, max_mb=0.005)["x"][1])
    sizes = np.cumsum([len(d.encode()) for d in docs])
    n = int((sizes <= 5000).sum())
    assert 0 < n < len(docs) and got == docs[:n]


def test_invalid_utf8_names_file_and_offset(tmp_path):
    good = as_text(make_docs(30, seed=5)).encode()
    for name, wrap in (("x.txt", bytes), ("y.txt.xz", lambda b: lzma.compress(b, preset=1))):
        d = tmp_path / name.split(".")[0]
        d.mkdir()
        (d / name).write_bytes(wrap(good + b"\nok \xff\xfe bad\n\nlast document\n"))
        with pytest.raises(SystemExit, match=rf"{name} is not UTF-8 at byte {len(good) + 4:,};.*--errors replace"):
            list(sources.read_documents(d / name, chunk_size=100))
        docs = list(sources.textdir_sources(d, errors="replace")[name.split(".")[0]][1])
        assert docs[-2] == "ok \ufffd\ufffd bad" and docs[-1] == "last document"


def test_empty_and_broken_files_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_bytes(b"")
    with pytest.raises(SystemExit, match=r"x.txt is empty; fix"):
        sources.textdir_sources(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.txt.gz").write_bytes(gzip.compress(b"\n \n\n"))
    with pytest.raises(SystemExit, match=r"x.txt.gz holds no text; fix"):
        list(sources.textdir_sources(tmp_path / "b")["x"][1])
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x.txt.xz").write_bytes(xz(make_docs(20))[:-200])
    with pytest.raises(SystemExit, match=r"x.txt.xz is not a valid .xz file"):
        list(sources.textdir_sources(tmp_path / "c")["x"][1])
    with pytest.raises(SystemExit, match="no text for zz"):
        sources.textdir_sources(tmp_path / "c", ["zz"])


# ----------------------------------------------------------------------------
# cc100 against a local server


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves server.files with Range support; server.cuts[i] = bytes sent on the i-th request
    before the connection is cut (None: all); server.ignore_range answers 200 to a Range request;
    server.status answers that status to everything."""

    def do_GET(self):
        srv = self.server
        srv.log.append((self.path, self.headers.get("Range")))
        body = srv.files.get(self.path)
        if srv.status or body is None:
            self.send_error(srv.status or 404)
            return
        start = 0
        if self.headers.get("Range") and not srv.ignore_range:
            start = int(self.headers["Range"].removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        cut = srv.cuts[len(srv.log) - 1] if len(srv.log) <= len(srv.cuts) else None
        try:
            self.wfile.write(body[start:] if cut is None else body[start:start + cut])
            self.wfile.flush()
            if cut is not None:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client stopped reading (max_mb reached)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.files, srv.log, srv.cuts, srv.ignore_range, srv.status = {}, [], [], False, None
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/cc"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    guard = threading.Timer(120, srv.shutdown)  # stops by itself even if a test hangs
    guard.daemon = True
    guard.start()
    yield srv
    guard.cancel()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def cc_docs():
    docs = make_docs(400, seed=7)
    return docs, xz(docs)


def cc100(srv, cache, max_mb=0, lang="vi", **kw):
    return list(sources.cc100_sources([lang], max_mb, cache, url=srv.url, backoff=0, **kw)[lang][1])


def test_cc100_interrupted_download_resumes_with_range(server, cc_docs, tmp_path):
    docs, blob = cc_docs
    assert len(blob) > 150_000
    server.files["/cc/vi.txt.xz"] = blob
    server.cuts = [50_000]  # the first connection breaks after 50 kB
    assert cc100(server, tmp_path / "a") == docs
    assert server.log == [("/cc/vi.txt.xz", None), ("/cc/vi.txt.xz", "bytes=50000-")]
    assert (tmp_path / "a" / "vi.txt.xz").read_bytes() == blob and not (tmp_path / "a" / "vi.txt.xz.part").exists()
    # the corpus built from the resumed download equals one built from the same text on disk
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "vi.txt.xz").write_bytes(blob)
    server.log.clear()
    built = {}
    for name, texts in (("net", sources.cc100_sources(["vi"], 0, tmp_path / "a", url=server.url)),
                        ("disk", sources.textdir_sources(tmp_path / "text"))):
        root = data.build_corpus(name, texts, tmp_path / "data", vocab_k=400, val_min_tokens=2000)
        built[name] = json.loads((root / "vi" / "meta.json").read_text())
    assert server.log == []  # served from the cache
    assert built["net"]["source"] == server.url + "/vi.txt.xz"
    for key in ("train_sha256", "val_sha256", "documents", "tokens"):
        assert built["net"][key] == built["disk"][key]


def test_cc100_server_ignoring_range_and_part_from_an_earlier_run(server, cc_docs, tmp_path):
    docs, blob = cc_docs
    server.files["/cc/vi.txt.xz"] = blob
    server.ignore_range, server.cuts = True, [30_000]
    assert cc100(server, tmp_path / "a") == docs  # the 200 answer is read past the 30 kB we have
    assert [r for _, r in server.log] == [None, "bytes=30000-"]
    assert (tmp_path / "a" / "vi.txt.xz").read_bytes() == blob
    server.ignore_range, server.cuts = False, []
    server.log.clear()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "vi.txt.xz.part").write_bytes(blob[:70_000])  # an earlier run was killed
    assert cc100(server, tmp_path / "b") == docs
    assert [r for _, r in server.log] == ["bytes=70000-"]


def test_cc100_max_mb_keeps_whole_documents_and_stops_downloading(server, cc_docs, tmp_path):
    docs, blob = cc_docs
    server.files["/cc/vi.txt.xz"] = blob
    sizes = np.cumsum([len(d.encode()) for d in docs])
    n = int((sizes <= 50_000).sum())
    assert cc100(server, tmp_path, max_mb=0.05) == docs[:n]
    part = tmp_path / "vi.txt.xz.part"
    assert not (tmp_path / "vi.txt.xz").exists() and 0 < part.stat().st_size < len(blob) / 2
    server.log.clear()
    assert cc100(server, tmp_path, max_mb=0.05) == docs[:n]  # from the cached prefix alone
    assert server.log == []
    have = part.stat().st_size
    assert cc100(server, tmp_path, max_mb=10) == docs  # more text: the download goes on
    assert [r for _, r in server.log] == [f"bytes={have}-"]


def test_cc100_refuses_unknown_codes_and_missing_files(server, tmp_path):
    with pytest.raises(SystemExit, match=r"xx is not a CC-100 language code; valid codes: af am ar .* zh-Hans zh-Hant zu"):
        sources.cc100_sources(["vi", "xx"], 1, tmp_path)
    with pytest.raises(SystemExit, match="cc100 needs --langs"):
        data.main(["cc100", "--out", str(tmp_path)])
    assert len(sources.CC100_LANGS) >= 100 and {"vi", "uk", "el", "my_zaw", "zh-Hant"} <= set(sources.CC100_LANGS)
    with pytest.raises(SystemExit, match=r"vi.txt.xz answered HTTP 404; fix"):
        cc100(server, tmp_path)
    assert len(server.log) == 1  # not retried


def test_cc100_retries_back_off_then_stop(server, tmp_path, monkeypatch):
    sleeps = []
    monkeypatch.setattr(sources.time, "sleep", sleeps.append)
    server.status = 503
    with pytest.raises(SystemExit, match=r"failed 4 times .*fix: check the network and run again \(it resumes\)"):
        list(sources.cc100_sources(["vi"], 1, tmp_path, url=server.url, retries=3, backoff=0.5)["vi"][1])
    assert sleeps == [0.5, 1.0, 2.0] and len(server.log) == 4


def test_a_link_copied_as_a_plain_file_is_followed(tmp_path):
    """A symbolic link copied as a file holding its target's path (git without symlinks) is read
    as the file it names."""
    (tmp_path / "wiki").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "wiki" / "vi.txt").write_text("Xin chao the gioi.\n\nMot tai lieu khac.\n")
    (tmp_path / "docs" / "en.txt").write_text("Hello world.\n")
    (tmp_path / "docs" / "vi.txt").write_text("../wiki/vi.txt")
    out = sources.textdir_sources(tmp_path / "docs")
    assert out["vi"][0] == str((tmp_path / "wiki" / "vi.txt").resolve())
    assert [d.strip() for d in out["vi"][1]] == ["Xin chao the gioi.", "Mot tai lieu khac."]


def test_markov_languages_follow_their_table_and_differ():
    """A Markov language is its seed and index: the same ids again, another language for another
    index or seed; every transition inside a chain is one of the id's successors, taken with the
    given probabilities; the validation stream is another draw of the same language."""
    ids = sources.markov_ids(0, 3, 40_000, chain=1000)
    assert ids.dtype == np.uint16 and len(ids) == 40_000 and ids.max() < 256
    assert np.array_equal(ids, sources.markov_ids(0, 3, 40_000, chain=1000))
    assert not np.array_equal(ids, sources.markov_ids(0, 4, 40_000, chain=1000))
    assert not np.array_equal(ids, sources.markov_ids(1, 3, 40_000, chain=1000))
    val = sources.markov_ids(0, 3, 40_000, chain=1000, stream=1)
    assert not np.array_equal(ids, val)
    succ, p = sources.markov_table(0, 3)
    assert succ.shape == (256, 4) and all(len(set(row)) == 4 for row in succ)
    for stream in (ids, val):
        chains = stream.reshape(-1, 1000).astype(int)
        rank = (succ[chains[:, :-1]] == chains[:, 1:, None]).argmax(-1)
        assert (succ[chains[:, :-1]] == chains[:, 1:, None]).any(-1).all()  # no transition outside the table
        assert np.allclose(np.bincount(rank.ravel(), minlength=4) / rank.size, p, atol=0.01)
    assert sources.markov_entropy() == pytest.approx(1.208, abs=1e-3)
    with pytest.raises(sources.DataError, match="must be positive, sum to 1"):
        sources.markov_table(0, 0, probs=(0.5, 0.6))
    langs = sources.markov_sources(3, 100)
    assert list(langs) == ["m000", "m001", "m002", "held"]
    held = langs["held"][1]()[0]
    assert all(not np.array_equal(held, langs[k][1]()[0]) for k in ("m000", "m001", "m002"))
    assert np.array_equal(held, sources.markov_sources(50, 100)["held"][1]()[0])  # whatever the stream's length


def test_permuted_words_keep_the_text_and_shuffle_its_word_types(tmp_path):
    """Each language of the permuted stream is the text with its word types permuted: the same
    number of words per line, the same counts of word types (as a multiset), one word always
    replaced by the same word; the languages and the held-out one differ."""
    text = "the cat sat on the mat\nand the dog sat too\n\na cat is not a dog\n"
    (tmp_path / "en.txt").write_text(text)
    langs = sources.permuted_sources(tmp_path / "en.txt", 3, seed=0, max_mb=1)
    assert list(langs) == ["p000", "p001", "p002", "held"]
    base = [d for d in text.strip().split("\n\n")]
    outs = {k: list(docs) for k, (_, docs) in langs.items()}
    words = [w for d in base for w in d.split()]
    for k, docs in outs.items():
        assert [len(line.split()) for d in docs for line in d.split("\n")] == \
               [len(line.split()) for d in base for line in d.split("\n")]
        mine = [w for d in docs for w in d.split()]
        assert sorted(Counter(mine).values()) == sorted(Counter(words).values())
        swap = {}
        for a, b in zip(words, mine):
            assert swap.setdefault(a, b) == b  # a word is replaced by the same word everywhere
    assert len({" ".join(d) for d in outs.values()}) == 4
    (tmp_path / "one.txt").write_text("word word word\n")
    with pytest.raises(sources.DataError, match="a permutation needs two or more"):
        sources.permuted_sources(tmp_path / "one.txt", 2)


def test_sweep_builds_a_cc100_corpus_from_the_url_it_is_given(server, tmp_path):
    """sweep.py's cc100_url reaches the download: the corpus is built from the local server's
    files (the default URL is the internet's; this test never leaves 127.0.0.1)."""
    for i, lang in enumerate(("el", "vi")):
        server.files[f"/cc/{lang}.txt.xz"] = xz(make_docs(150, seed=i))
    sweep.configure(vars(sweep), [f"--data_dir={tmp_path}", "--corpus=cc", "--source=cc100", "--source_langs=el,vi",
                                  f"--cc100_url={server.url}", "--source_mb=0.05", "--vocab=512"])
    sweep.ensure_corpus()
    assert sorted(path for path, _ in server.log) == ["/cc/el.txt.xz", "/cc/vi.txt.xz"]
    assert (tmp_path / "cc" / "vocab.json").exists() and (tmp_path / "cc" / "vi" / "train.bin").exists()
