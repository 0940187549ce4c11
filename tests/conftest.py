"""Shared fixtures: a small synthetic corpus built once per test session."""

import os
import sys
from pathlib import Path

# One thread per test process: the suite runs in as many processes as there are cores
# (pytest-xdist, `-n auto` in .ci/run), and its tiny models gain nothing from a second thread. A
# test that is about threads sets them itself.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import data  # noqa: E402
import sources  # noqa: E402


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    """data_dir holding corpus 'synthetic': six training languages and 'vi', 150 kB each."""
    d = tmp_path_factory.mktemp("data")
    data.build_corpus("synthetic", sources.synthetic_sources(seed=0, n_bytes=150_000), d, vocab_k=512,
                      val_min_tokens=8_000)
    return d


@pytest.fixture(scope="session")
def markov_dir(tmp_path_factory):
    """data_dir holding corpus 'markov': eight random sparse Markov languages m000..m007 and 'held',
    20k training tokens each (the positive control's stream, small)."""
    d = tmp_path_factory.mktemp("markov")
    data.build_id_corpus("markov", sources.markov_sources(8, 20_000, val_tokens=4_000), d)
    return d
