"""
S GPTs of one shape as one computation: the arithmetic of group.py.

The weights of S models are stacked along a first axis ({name: tensor (S, ...)}, the names of
GPT.named_parameters; a tied output layer is the token embedding), and `losses` runs model.GPT's
forward for all of them at once: the same layers in the same order, each matrix product batched over
the members (torch.bmm), the sequences of all members one batch for the attention. It returns each
member's mean loss, so the gradient of their sum is, member by member, the gradient of that member's
own loss. `clip_` clips each member's gradient by its own norm, as clip_grad_norm_ does a model's;
`StackedAdamW` is torch's AdamW (the single-tensor arithmetic, decoupled weight decay on matrices
only) with every member's own learning rate, betas, weight decay and step count, and its moments
zeroed member by member at a task boundary.

What differs from S models trained apart is the float rounding of the batched products and sums. In
float64 a member's weights equal its run alone's to 1e-12 after 80 steps; in float32 they drift
apart as two runs with different thread counts do (the test holds them within 1e-3, and the validation
losses within 1e-4, after 64 steps). One parameter follows its own rounding in any two computations: the attention's key bias, whose
gradient is zero up to rounding (softmax ignores a constant added to a query's scores) and which AdamW
moves by steps of the learning rate's size all the same; nothing else sees it (tests/test_group.py).
"""

import math

import torch
import torch.nn.functional as F

from model import GPT, upcast


def stack(models):
    """{name: (S, ...) leaf tensor} of the members' parameters (GPT.named_parameters' names)."""
    names = [n for n, _ in models[0].named_parameters()]
    return {n: torch.stack([m.get_parameter(n).detach() for m in models]).requires_grad_() for n in names}


def unstack_into(params, k, model):
    """Copy member k's weights into a GPT of the same shape (for its checkpoint, its state, its
    diagnostics)."""
    with torch.no_grad():
        for n, p in params.items():
            model.get_parameter(n).copy_(p[k])


def _layer_norm(x, w, b):
    """LayerNorm over the last axis with each member's own weight and bias (x: (S, N, d))."""
    x = F.layer_norm(x, x.shape[-1:], None, None, 1e-5)
    return x * w[:, None, :] + (b[:, None, :] if b is not None else 0)


def _linear(x, w, b):
    """x (S, N, in) times each member's w (S, out, in), plus its bias (S, out)."""
    y = torch.bmm(x, w.transpose(1, 2))
    return y + b[:, None, :] if b is not None else y


def losses(params, cfg, x, y):
    """Each member's mean cross-entropy (S,) on its own batch: x, y (S, B, T) token ids."""
    S, B, T = x.shape
    V, d, H = cfg.vocab_size, cfg.n_embd, cfg.n_head
    P = lambda name: params.get(name)  # noqa: E731 (a bias is absent when cfg.bias is off)
    wte = P("transformer.wte.weight")
    ids = x + torch.arange(S, device=x.device)[:, None, None] * V  # member k's rows of the stacked embedding
    h = F.embedding(ids, wte.reshape(S * V, d)) + P("transformer.wpe.weight")[:, None, :T, :]
    h = h.reshape(S, B * T, d)
    for i in range(cfg.n_layer):
        p = f"transformer.h.{i}."
        a = _linear(_layer_norm(h, P(p + "ln_1.weight"), P(p + "ln_1.bias")), P(p + "attn.c_attn.weight"),
                    P(p + "attn.c_attn.bias"))
        q, k, v = (t.reshape(S * B, T, H, d // H).transpose(1, 2) for t in a.split(d, dim=2))
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(S, B * T, d)
        h = h + _linear(o, P(p + "attn.c_proj.weight"), P(p + "attn.c_proj.bias"))
        m = _linear(_layer_norm(h, P(p + "ln_2.weight"), P(p + "ln_2.bias")), P(p + "mlp.c_fc.weight"),
                    P(p + "mlp.c_fc.bias"))
        h = h + _linear(F.gelu(m), P(p + "mlp.c_proj.weight"), P(p + "mlp.c_proj.bias"))
    h = _layer_norm(h, P("transformer.ln_f.weight"), P("transformer.ln_f.bias"))
    logits = torch.bmm(h, (wte if cfg.tie_weights else P("lm_head.weight")).transpose(1, 2))
    loss = F.cross_entropy(upcast(logits.reshape(S * B * T, V)), y.reshape(-1), reduction="none")
    return loss.view(S, B * T).mean(1)


def per_member(values, like):
    """A list of S numbers as a float tensor shaped to broadcast against `like` (S, ...)."""
    return torch.tensor(values, dtype=like.dtype, device=like.device).view(-1, *[1] * (like.dim() - 1))


@torch.no_grad()
def clip_(params, max_norms):
    """Clip each member's gradient to its max norm (0: not clipped), as clip_grad_norm_ does: the
    norm over all its tensors, scaled by max_norm / (norm + 1e-6) when above. Returns the norms (S,)."""
    grads = [p.grad for p in params.values()]
    norms = torch.stack([g.flatten(1).norm(dim=1) for g in grads]).norm(dim=0)
    limit = torch.tensor([m if m > 0 else math.inf for m in max_norms], dtype=norms.dtype, device=norms.device)
    scale = (limit / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *[1] * (g.dim() - 1)).to(g.dtype))
    return norms


class StackedAdamW:
    """AdamW on stacked weights, each member with its own hyperparameters and step count: torch's
    single-tensor AdamW arithmetic, member by member (decoupled weight decay on matrices only, as
    model.adamw groups them). `to_optimizer(k, optimizer)` and `from_optimizer(k, optimizer)` move one
    member's moments and step count to and from a torch AdamW of its own model, which is what its
    resumable state holds, so a member's state resumes alone in train.py and the other way round."""

    def __init__(self, params, n_members, eps=1e-8):
        self.params, self.eps = params, eps
        self.names = list(params)
        self.exp_avg = {n: torch.zeros_like(p) for n, p in params.items()}
        self.exp_avg_sq = {n: torch.zeros_like(p) for n, p in params.items()}
        self.steps = [0] * n_members

    def reset(self, k):
        """Member k's AdamW starts afresh: zero moments, step count 0."""
        for n in self.names:
            self.exp_avg[n][k].zero_()
            self.exp_avg_sq[n][k].zero_()
        self.steps[k] = 0

    @torch.no_grad()
    def step(self, lrs, betas, weight_decays):
        """One step with member k's lr lrs[k], betas[k] and weight decay weight_decays[k]. The per-member
        factors are computed in Python floats as torch's AdamW computes its scalars, then sent to the
        device once a step."""
        self.steps = [s + 1 for s in self.steps]
        b1, b2 = [b[0] for b in betas], [b[1] for b in betas]
        first = next(iter(self.params.values()))
        decay, keep1, b2s, keep2, neg_step, correction2 = (per_member(v, first[:, None]).flatten() for v in (
            [1 - lr * wd for lr, wd in zip(lrs, weight_decays)], [1 - b for b in b1], b2, [1 - b for b in b2],
            [-(lr / (1 - b ** t)) for lr, b, t in zip(lrs, b1, self.steps)],
            [(1 - b ** t) ** 0.5 for b, t in zip(b2, self.steps)]))
        for n, p in self.params.items():
            g, m, v = p.grad, self.exp_avg[n], self.exp_avg_sq[n]
            shape = (-1, *[1] * (p.dim() - 1))
            if p.dim() >= 3:  # a matrix of each member: decayed
                p.mul_(decay.view(shape))
            m.lerp_(g, keep1.view(shape))
            v.mul_(b2s.view(shape)).addcmul_(g * keep2.view(shape), g)
            denom = (v.sqrt() / correction2.view(shape)).add_(self.eps)
            p.addcdiv_(m * neg_step.view(shape), denom)

    def to_optimizer(self, k, optimizer):
        """Fill a torch AdamW over member k's own model (model.adamw: the same parameters in the same
        groups) with member k's moments and step count (what its resumable state saves)."""
        optimizer.state.clear()
        if self.steps[k]:
            for group in optimizer.param_groups:
                for p in group["params"]:
                    n = self._name_of(optimizer, p)
                    optimizer.state[p] = dict(step=torch.tensor(float(self.steps[k])),
                                              exp_avg=self.exp_avg[n][k].detach().clone(),
                                              exp_avg_sq=self.exp_avg_sq[n][k].detach().clone())

    def from_optimizer(self, k, optimizer):
        """Member k's moments and step count from a torch AdamW over its own model (a resumed state)."""
        steps = set()
        for group in optimizer.param_groups:
            for p in group["params"]:
                st = optimizer.state.get(p)
                n = self._name_of(optimizer, p)
                self.exp_avg[n][k].copy_(st["exp_avg"] if st else 0)
                self.exp_avg_sq[n][k].copy_(st["exp_avg_sq"] if st else 0)
                steps.add(int(st["step"]) if st else 0)
        if len(steps) != 1:
            raise SystemExit(f"group.py: a resumed optimizer state has parameters at different step counts "
                             f"{sorted(steps)}; it was not written by train.py or group.py")
        self.steps[k] = steps.pop()

    @staticmethod
    def _name_of(optimizer, p):
        return optimizer.param_names[id(p)]


def attach_names(optimizer, model: GPT):
    """Let StackedAdamW find a member optimizer's parameters by name."""
    optimizer.param_names = {id(p): n for n, p in model.named_parameters()}
    return optimizer
