"""
The training's clock: steady-state throughput and MFU, with what is not training timed apart.

train.py's first step in a process includes torch.compile (and CUDA's warm-up), and checkpoints
(evaluation, diagnostics, the .pt), resumable states and the step-0 evaluation block training;
an average from the start would count them as training time (at 5M on a GPU it read about 10%
MFU where the steady state is about 23%). The clock times each of those apart (waiting for the
device before and after, so that queued work is charged where it ran) and reports the steady
state: the tokens of the steps after the first over their time with the phases taken out.
Nothing here touches a model; bench.py measures a bare step the same way.
"""

import time
from contextlib import contextmanager


class Clock:
    def __init__(self, sync=lambda: None, flops_per_token=0.0, peak_flops=0.0, world=1):
        """sync: waits for the device (torch.cuda.synchronize on a GPU); flops_per_token and
        peak_flops (per device) for MFU, 0: none reported."""
        self.sync, self.flops, self.peak, self.world = sync, flops_per_token, peak_flops, world
        self.t0 = time.perf_counter()
        self.apart = {}  # seconds by phase
        self.steady_from, self.apart_before, self.tokens = None, 0.0, 0

    @contextmanager
    def phase(self, name):
        """Time a block that is not a training step (a checkpoint, a state save) apart."""
        self.sync()
        t = time.perf_counter()
        try:
            yield
        finally:
            self.sync()
            self.apart[name] = self.apart.get(name, 0.0) + time.perf_counter() - t

    def stepped(self, tokens):
        """After each training step: the first one's time (compile included) is set apart, the
        tokens of the later ones are counted."""
        if self.steady_from is None:
            self.sync()
            now = time.perf_counter()
            self.apart["first step"] = now - self.t0 - sum(self.apart.values())
            self.steady_from, self.apart_before = now, sum(self.apart.values())
        else:
            self.tokens += tokens

    def steady(self):
        """Tokens/s of the steps after the first, phases apart; None before there are any."""
        if not self.tokens:
            return None
        self.sync()
        dt = time.perf_counter() - self.steady_from - (sum(self.apart.values()) - self.apart_before)
        return self.tokens / max(dt, 1e-9)

    def mfu(self, tps):
        """Model FLOPs utilisation per device at tps tokens/s (all devices together); None without a peak."""
        return self.flops * tps / self.world / self.peak if tps and self.peak else None

    def summary(self):
        """{wall_s, steady_tokens_per_s, mfu, seconds apart by phase}: what train.py prints at its
        end and writes to speed.json."""
        tps = self.steady()
        return dict(wall_s=round(time.perf_counter() - self.t0, 3), steady_tokens_per_s=tps and round(tps, 1),
                    mfu=self.mfu(tps) and round(self.mfu(tps), 4), steady_tokens=self.tokens,
                    apart_s={k: round(v, 3) for k, v in self.apart.items()})

    def describe(self):
        s = self.summary()
        apart = ", ".join(f"{k} {v:.1f}s" for k, v in s["apart_s"].items())
        speed = (f"; steady {s['steady_tokens_per_s']:,.0f} tok/s" if s["steady_tokens_per_s"] else "") + \
            (f", mfu {s['mfu']:.1%}" if s["mfu"] is not None else "")
        return f"{s['wall_s']:.0f}s: {apart or 'nothing'} apart{speed}"
