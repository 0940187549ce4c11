"""
Training-time methods against loss of plasticity, each a train.py option, off by default.

    snp_every=k           shrink-and-perturb (Ash and Adams 2020): every k steps every weight
      snp_shrink, snp_noise   w <- snp_shrink * w + snp_noise * (a fresh draw from its initialisation)
    l2_init=lam           L2 towards the initialisation (Kumar et al. 2023): lam * ||theta - theta_0||^2
                          added to the loss (as its gradient, 2 lam (theta - theta_0)), beside AdamW's
                          weight decay (set weight_decay=0 for "in place of")
    redo_every=k          ReDo (Sokar et al. 2023): every k steps, the MLP units whose score
      redo_tau                s_i = E|h_i| / mean_j E|h_j| on the step's batch is at most redo_tau get
                          fresh incoming weights, zero outgoing weights and zero AdamW moments
    cbp_rate=r            continual backprop (Dohare et al. 2024): per MLP unit a running utility
      cbp_decay, cbp_maturity u_i <- d u_i + (1 - d) E|h_i| sum_j |W_out[j, i]| (d = cbp_decay); each
                          step, r times the number of mature units (older than cbp_maturity steps)
                          are due for replacement (fractions carried over), the lowest-utility mature
                          ones replaced like ReDo's, their utility and age set to 0
    emb_reset_every=k     embedding reset ("active forgetting", Chen et al. 2023): every k steps the
                          token embeddings (tied: also the output layer) are drawn afresh, with zero
                          AdamW moments
    hold_unseen=True      the embedding rows of tokens not yet seen in training (as input or target)
                          held at their initial values, their AdamW moments at zero: a token's row
                          (tied: also its output weights) starts to train when the token first
                          occurs. Aimed at the rows a probe language alone uses (README: the
                          micro-scale onset lives largely in them), which otherwise are only
                          pushed down through the output layer and shrunk by weight decay
    (the optimizer reset at task boundaries is train.py's reset_optimizer_at_task)

All act after the optimizer step of step s when (s + 1) is a multiple of their period (CBP every
step); L2-init before it. Fresh draws come from generators seeded by (run seed, step, method), never
from the global random stream, so a resumed run draws the same numbers; CBP's utilities, ages and
carried fractions, and hold_unseen's set of seen tokens, are part of train.py's resumable state.
Under data parallelism the activation statistics are averaged and the seen tokens joined over the
processes, so every process replaces the same units and holds the same rows.
"""

import torch

from diagnostics import activations, redo_score

SETTINGS = dict(snp_every=0, snp_shrink=0.8, snp_noise=0.01, l2_init=0.0, redo_every=0, redo_tau=0.1,
                cbp_rate=0.0, cbp_decay=0.99, cbp_maturity=100, emb_reset_every=0, hold_unseen=False)


def names(s):
    """The methods switched on in settings s, e.g. "snp+l2init"; "none" when none is."""
    on = [n for n, k in (("snp", "snp_every"), ("l2init", "l2_init"), ("redo", "redo_every"), ("cbp", "cbp_rate"),
                         ("emb_reset", "emb_reset_every"), ("hold_unseen", "hold_unseen")) if s[k] > 0]
    return "+".join(on) or "none"


def _ddp():
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _all_mean(t):
    """t averaged over data-parallel processes (t itself without them)."""
    if _ddp():
        torch.distributed.all_reduce(t)
        t /= torch.distributed.get_world_size()
    return t


class Mitigations:
    """The methods switched on in `s` (a dict with SETTINGS' keys), applied to model and optimizer."""

    def __init__(self, model, optimizer, s, seed):
        self.model, self.optimizer, self.s, self.seed = model, optimizer, dict(s), seed
        bad = [k for k in ("snp_every", "redo_every", "emb_reset_every", "cbp_maturity") if s[k] < 0] + \
            [k for k in ("l2_init", "cbp_rate", "snp_noise") if s[k] < 0] + \
            [k for k in ("snp_shrink", "cbp_decay") if not 0 <= s[k] <= 1]
        if bad:
            raise SystemExit(f"train.py: {', '.join(bad)} out of range; fix: periods and rates >= 0, "
                             "snp_shrink and cbp_decay in [0, 1]")
        self.params = dict(model.named_parameters())
        self.theta0 = {n: p.detach().clone() for n, p in self.params.items()} if s["l2_init"] > 0 else None
        self.blocks = list(model.transformer.h)
        width = [b.mlp.c_fc.out_features for b in self.blocks]
        dev = next(model.parameters()).device
        self.utility = [torch.zeros(w, device=dev) for w in width]
        self.age = [torch.zeros(w, dtype=torch.long, device=dev) for w in width]
        self.due = [0.0 for _ in width]  # replacements owed, carried between steps
        self._seen = [None for _ in width]  # E|h| of this step's batch, from the forward hooks
        self.replaced = 0  # units re-initialised by ReDo and CBP so far (for the log)
        if s["cbp_rate"] > 0:
            for i, b in enumerate(self.blocks):
                b.mlp.c_fc.register_forward_hook(self._hook(i))
        # hold_unseen: the token rows (one matrix when the output layer is tied) and their values
        # now, which for a token not yet seen are its initial values (held since)
        rows = {id(p): p for p in (model.transformer.wte.weight, model.lm_head.weight)}.values()
        self.token_rows = list(rows) if s["hold_unseen"] else []
        self.seen = torch.zeros(model.config.vocab_size, dtype=torch.bool, device=dev)
        self.held = [p.detach().clone() for p in self.token_rows]

    def _hook(self, i):
        def hook(mod, inp, out):
            if torch.is_grad_enabled():  # the training forward (each micro-batch), not evaluations
                h = torch.nn.functional.gelu(out.detach().float())
                mean = h.abs().reshape(-1, h.shape[-1]).mean(0)
                seen = self._seen[i]
                self._seen[i] = (mean, 1) if seen is None else (seen[0] + mean, seen[1] + 1)
        return hook

    def _generator(self, step, kind):
        """The generator of one method (kind 1 snp, 2 redo, 3 cbp, 4 emb_reset) at one step."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + step * 16 + kind)

    # --- hooks for train.py

    def before_step(self):
        """L2 towards the initialisation: its gradient added to the (already averaged) gradients."""
        if self.theta0 is not None:
            lam = self.s["l2_init"]
            for n, p in self.params.items():
                if p.grad is not None:
                    p.grad.add_(p.detach() - self.theta0[n], alpha=2 * lam)

    def observe(self, x, y):
        """hold_unseen: the tokens of one (micro-)batch count as seen from this step on."""
        if self.token_rows:
            self.seen[x.flatten()] = True
            self.seen[y.flatten()] = True

    @torch.no_grad()
    def after_step(self, step, x):
        """The periodic methods, after the optimizer step of `step`, on that step's batch x."""
        s, due = self.s, step + 1
        if s["cbp_rate"] > 0:
            self._cbp(step)
        if s["redo_every"] and due % s["redo_every"] == 0:
            self._redo(step, x)
        if s["snp_every"] and due % s["snp_every"] == 0:
            g = self._generator(step, 1)
            for n, p in self.params.items():
                p.mul_(s["snp_shrink"]).add_(self.model.init_value(n, g), alpha=s["snp_noise"])
        if s["emb_reset_every"] and due % s["emb_reset_every"] == 0:
            w = self.model.transformer.wte.weight
            w.copy_(self.model.init_value("transformer.wte.weight", self._generator(step, 4)))
            for moment in self.optimizer.state.get(w, {}).values():
                if torch.is_tensor(moment) and moment.shape == w.shape:
                    moment.zero_()
        if self.token_rows:  # last, so that no method above moves a held row
            if _ddp():  # a token seen by any process counts as seen by all
                joined = self.seen.to(torch.int32)
                torch.distributed.all_reduce(joined, op=torch.distributed.ReduceOp.MAX)
                self.seen = joined.bool()
            seen = self.seen[:, None]  # masks, not indexing: no wait for the device
            for p, held in zip(self.token_rows, self.held):
                p.copy_(torch.where(seen, p, held))
                for key, moment in self.optimizer.state.get(p, {}).items():
                    if key in ("exp_avg", "exp_avg_sq"):
                        moment.mul_(seen)

    def _reinit_units(self, block_index, units, g):
        """Fresh incoming weights and bias, zero outgoing weights, zero AdamW moments for `units`
        (indices of MLP hidden units) of one block."""
        mlp = self.blocks[block_index].mlp
        prefix = f"transformer.h.{block_index}.mlp."
        fresh = self.model.init_value(prefix + "c_fc.weight", g)
        mlp.c_fc.weight[units] = fresh[units]
        if mlp.c_fc.bias is not None:
            mlp.c_fc.bias[units] = 0.0
        mlp.c_proj.weight[:, units] = 0.0
        for p, index in ((mlp.c_fc.weight, (units,)), (mlp.c_fc.bias, (units,)), (mlp.c_proj.weight, (slice(None), units))):
            for key, moment in self.optimizer.state.get(p, {}).items() if p is not None else ():
                if key in ("exp_avg", "exp_avg_sq"):
                    moment[index] = 0.0
        self.replaced += len(units)

    def _redo(self, step, x):
        mlp, _, _ = activations(self.model, [(x, None)], attention=False)
        g = self._generator(step, 2)
        for i, h in enumerate(mlp):
            score = redo_score(_all_mean(h.abs().mean(0)))
            units = torch.nonzero(score <= self.s["redo_tau"]).flatten()
            if len(units):
                self._reinit_units(i, units, g)

    def _cbp(self, step):
        s, g = self.s, None
        for i, b in enumerate(self.blocks):
            if self._seen[i] is None:
                continue
            total, count = self._seen[i]
            contribution = _all_mean(total / count) * b.mlp.c_proj.weight.detach().abs().sum(0).float()
            self.utility[i].mul_(s["cbp_decay"]).add_(contribution, alpha=1 - s["cbp_decay"])
            self.age[i] += 1
            mature = torch.nonzero(self.age[i] > s["cbp_maturity"]).flatten()
            self.due[i] += s["cbp_rate"] * len(mature)
            n = min(int(self.due[i]), len(mature))
            if n:
                self.due[i] -= n
                units = mature[torch.argsort(self.utility[i][mature], stable=True)[:n]]
                g = g or self._generator(step, 3)
                self._reinit_units(i, units, g)
                self.utility[i][units] = 0.0
                self.age[i][units] = 0
            self._seen[i] = None

    # --- resumable state

    def state_dict(self):
        return dict(utility=[u.cpu() for u in self.utility], age=[a.cpu() for a in self.age],
                    due=torch.tensor(self.due, dtype=torch.float64), replaced=self.replaced, seen=self.seen.cpu())

    def load_state_dict(self, d):
        dev = self.utility[0].device if self.utility else "cpu"
        self.utility = [u.to(dev) for u in d["utility"]]
        self.age = [a.to(dev) for a in d["age"]]
        self.due = d["due"].tolist()
        self.replaced = int(d["replaced"])
        if "seen" in d:  # states saved before hold_unseen existed had it off
            self.seen = d["seen"].to(dev)
        self.held = [p.detach().clone() for p in self.token_rows]  # the resumed rows: unseen ones still initial
