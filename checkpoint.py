"""
Checkpoint files: every .pt the project writes and reads, and the JSON sidecars beside them.

- save_file writes any .pt atomically (a temporary name, read back and compared, then renamed)
  and returns its sha256; read_file checks a file against the sha256 in its JSON sidecar and
  refuses, in one line naming the file, one that is damaged, truncated or holds pickled objects
  (torch.load with weights_only=True: nothing in a file is ever run).
- checkpoint_dict / load_checkpoint: a model's weights and shape, and a model rebuilt from them.
- save_state / load_state: train.py's resumable states (the newest two kept; a damaged one set
  aside and the one before it used).
- write_json: any sidecar or record, atomically; disk_error: one line for a failed write.
- NO_EFFECT, RESUMABLE, extends, resume_changes: which of train.py's settings a resumed run may
  change (sweep.py asks the same of a run's config.json).
"""

import errno
import hashlib
import io
import json
import os
import pickle
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from model import GPT, GPTConfig

# settings that never change a run's numbers (the corpus is identified by its bins' sha256)
NO_EFFECT = ("out_dir", "data_dir", "save_every", "log_every", "peak_flops", "diagnostics")
# settings that may change when a run resumes (printed, and kept in config.json): how it goes on
RESUMABLE = NO_EFFECT + ("lr", "lr_schedule", "min_lr_frac", "warmup_tokens", "grad_clip", "device", "compile",
                         "cpu_threads")


def extends(saved, now):
    """A run saved with settings `saved` may resume with settings `now` that ask for more tokens
    when both use the constant lr: its steps so far do not depend on where it ends (a cosine lr's
    would), so the run extended is the run asked for the longer budget from the start (tested).
    sweep.py asks the same question of a run's config.json."""
    return (saved.get("lr_schedule", "constant") == now["lr_schedule"] == "constant"
            and now["max_tokens"] > (saved.get("max_tokens") or 0))


def resume_changes(saved, now, defaults, out):
    """The settings that differ between a saved state's and this command's ({name: (saved, now)});
    refused in one line if any may not change within a run. A setting a run does not name was
    at its default (defaults: it predates the setting)."""
    diff = {k: (saved.get(k), v) for k, v in now.items() if saved.get(k, defaults.get(k)) != v}
    fixed = {k: d for k, d in diff.items() if k not in RESUMABLE}
    if "max_tokens" in fixed and extends(saved, now):
        del fixed["max_tokens"]
    if fixed:
        raise SystemExit(f"train.py: {out} was trained with other settings {fixed} (saved, now); these cannot "
                         "change within a run; fix: rerun with the saved values, or use a new out_dir. "
                         f"(May change on resume: {', '.join(RESUMABLE)}; max_tokens may grow under "
                         "lr_schedule=constant.)")
    return diff

# Checkpoint files: {"model_args": dict of GPTConfig, "model": state_dict of the plain module, ...}.
# Every .pt is written by save_file and read by read_file. The sha256 of its bytes is recorded
# in its JSON sidecar (the same name with .json, written after it by the caller), so a damaged
# file is found on load instead of being trained, probed or resumed from.


class CheckpointError(SystemExit):
    """A checkpoint file that cannot be trusted or written: the message names it."""


def disk_error(e: OSError, path):
    """One line for a failed write: a full disk says so."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return CheckpointError(f"disk full while writing {path} ({e.strerror}); nothing was left half-written; "
                               "fix: free space on that disk, then rerun the same command to resume")
    return CheckpointError(f"cannot write {path}: {e.strerror or e}")


def write_json(path, obj):
    """Write JSON atomically (a sidecar, a record): a temporary name unique to this process, then
    rename. A failed write (a full disk) removes the temporary file and leaves path as it was."""
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(obj, indent=1))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_file(obj, path):
    """torch.save obj to path: serialised in memory, written under a temporary name, read back
    and compared, then renamed over path. Returns the sha256 of the bytes on disk. A failed
    write (a full disk) removes the temporary file and leaves path as it was."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if hashlib.sha256(tmp.read_bytes()).hexdigest() != digest:
            raise CheckpointError(f"{tmp} does not read back as written; the disk may be failing")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise disk_error(e, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest


def read_file(path, map_location="cpu"):
    """The dict saved at path, checked against the sha256 recorded in its sidecar (files written
    before checksums existed have none and are only parsed). Only plain tensors and containers
    are accepted (weights_only=True): a pickled object is refused and nothing in it is run."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot be read ({e.strerror or e})") from None
    sidecar = path.with_suffix(".json")
    try:
        want = json.loads(sidecar.read_text()).get("sha256")
    except (OSError, ValueError):
        want = None
    if want is not None and hashlib.sha256(data).hexdigest() != want:
        raise CheckpointError(f"{path} is damaged: its sha256 differs from the one recorded in {sidecar.name} "
                              f"when it was written ({len(data):,} bytes now)")
    try:
        return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"{path} is not a plain-tensor checkpoint (it holds pickled objects); "
                              "it was not loaded and nothing in it was run") from None
    except (RuntimeError, EOFError, ValueError, KeyError) as e:
        raise CheckpointError(f"{path} is damaged (truncated or corrupt: {str(e).splitlines()[0][:80]})") from None


def checkpoint_dict(model: GPT):
    return {"model_args": asdict(model.config), "model": model.state_dict()}


def load_checkpoint(path, device="cpu"):
    """Build a GPT from a checkpoint written by train.py, verified by read_file."""
    ckpt = read_file(path, map_location=device)
    model = GPT(GPTConfig(**ckpt["model_args"]))
    model.load_state_dict(ckpt["model"])
    return model.to(device)


def save_state(out, state):
    """A run's resumable state (train.py): out/state/step_XXXXXXX.pt and its sidecar; then the
    older states but the previous one go."""
    name = out / "state" / f"step_{state['step']:07d}"
    sha = save_file(state, name.with_suffix(".pt"))
    write_json(name.with_suffix(".json"), dict(step=state["step"], sha256=sha, time=time.time()))
    for old in sorted((out / "state").glob("step_*.json"))[:-2]:
        old.unlink()  # the sidecar first: a state without one is never resumed from
        old.with_suffix(".pt").unlink(missing_ok=True)


def state_steps(out):
    """The steps of the resumable states on disk (their sidecars), newest first."""
    return sorted((int(c.stem[len("step_"):]) for c in (out / "state").glob("step_*.json")), reverse=True)


def load_state(out, dev, master=True, at_most=None):
    """The newest intact resumable state (at step at_most or before, when given), or None when there
    is none yet. A damaged one is renamed *.damaged by the master process (kept for inspection) and
    the one before it is tried; every process makes the same choice."""
    states = [out / "state" / f"step_{s:07d}.json" for s in state_steps(out) if at_most is None or s <= at_most]
    for card in states:
        try:
            return read_file(card.with_suffix(".pt"), map_location=dev)
        except CheckpointError as e:
            if master:
                print(f"train.py: {e}; set aside as *.damaged, trying the state before it", file=sys.stderr)
                for p in (card.with_suffix(".pt"), card):
                    os.replace(p, f"{p}.damaged")
    if states:
        raise SystemExit(f"train.py: no intact resumable state in {out}/state (all {len(states)} damaged); "
                         "fix: start again in a new out_dir")
    return None
