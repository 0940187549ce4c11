"""
What a checkpoint looks like inside: the measurements that accompany loss of plasticity in
the literature, taken by train.py at every checkpoint and written to its sidecar JSON.

    weights      mean |w| and Frobenius norm per kind (embeddings, attention, MLP, LayerNorm
                 gains) and per block
    dormant      per block, the fraction of MLP units whose ReDo score s_i = E|h_i| / mean_j E|h_j|
                 is at most tau (Sokar et al. 2023; tau = 0.1), and the fraction that never
                 exceeds `active_eps` on any token
    rank         the effective rank (Roy and Vetterli 2007: exp of the entropy of the normalised
                 singular values) of each MLP's hidden activations (training languages) and of
                 the final hidden states
    attention    per block and head, the mean entropy of the attention distribution (nats, over
                 queries with at least two keys), and the fraction of heads that collapse (on
                 average more than 90% of the mass on one key) or stay near uniform (entropy at
                 least 90% of the uniform distribution's)
    the paper's  beside ours, the thresholds the paper reports: dormant units at a ReDo score of
                 at most 0.01 (dormant_paper), lazy heads whose entropy exceeds 0.9 of its
                 maximum (attn_lazy; our attn_uniform counts >= 0.9) and collapsed heads whose
                 entropy is below 0.1 of it (attn_collapsed_paper; ours counts a peak above 0.9)
    tokens       the norm of the embedding rows of tokens the probe language uses but the
                 training languages never do, against the rows the training languages use (how
                 the tied output layer pushes unseen tokens down)
    updates      per block and kind, ||w - w_prev|| / ||w_prev|| since the previous checkpoint,
                 and the mean and largest gradient norm (before clipping) over those steps

Activations are measured on fixed sequences (the first 2 rows of each training language's
first validation batch and 4 of the probe language's, the same at every checkpoint): pooled over the training languages, and on
the probe language apart. Ranks are of the activations as they are (not centred). Nothing here draws random numbers, so a run with diagnostics trains bit-identically to
one without. The cost is a few forward passes per checkpoint; train.py reports its share.
"""

import math
from contextlib import nullcontext

import torch
import torch.nn.functional as F

TAU = 0.1  # ReDo's dormancy threshold on the normalised score
ACTIVE_EPS = 0.01  # a unit that never exceeds this on any token never activates
COLLAPSED, UNIFORM = 0.9, 0.9
PAPER_TAU, PAPER_LAZY, PAPER_COLLAPSED = 0.01, 0.9, 0.1  # the paper's: score <= 0.01; entropy > 0.9, < 0.1 of max


def effective_rank(h):
    """exp(entropy of the singular values of h (n, d), normalised to sum 1): d for isotropic
    features, 1 for a rank-1 matrix; None when h is not finite (a diverged model)."""
    if not torch.isfinite(h).all():
        return None
    h = h.double()  # in float32 the Gram matrix loses the small singular values (a rank-1 matrix gave 1.02)
    gram = h.T @ h if h.shape[0] >= h.shape[1] else h @ h.T  # its eigenvalues: the squared singular values
    s = torch.linalg.eigvalsh(gram).clamp_min(0).sqrt()
    p = s / s.sum().clamp_min(1e-30)
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def redo_score(mean_abs):
    """ReDo's score of each unit from its mean |activation|: s_i = E|h_i| / mean_j E|h_j|."""
    return mean_abs / mean_abs.mean().clamp_min(1e-30)


def attention_stats(q, k):
    """q, k (B, H, T, hd) of a causal attention: per head (mean entropy in nats, mean largest
    weight, mean entropy / log(number of keys)), over the queries that see at least two keys."""
    B, H, T, hd = q.shape
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    p = torch.softmax(scores.masked_fill(~mask, float("-inf")), -1)
    ent = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)  # (B, H, T)
    keys = torch.arange(1, T + 1, device=q.device, dtype=p.dtype)
    rows = slice(1, None)  # the first query sees one key: no choice to measure
    entropy = ent[..., rows].mean((0, 2))
    peak = p.amax(-1)[..., rows].mean((0, 2))
    normalised = (ent[..., rows] / keys[rows].log()).mean((0, 2))
    return entropy, peak, normalised


@torch.no_grad()
def activations(model, batches, ctx=None, attention=True):
    """Per block: MLP hidden activations (tokens, 4d) and (with attention=True) the attention's
    (q, k); and the final hidden states (tokens, d), over the (x, y) batches, in eval mode."""
    blocks = list(model.transformer.h)
    got = {"mlp": [[] for _ in blocks], "qk": [[] for _ in blocks], "final": []}

    def mlp_hook(i):
        return lambda mod, inp, out: got["mlp"][i].append(F.gelu(out.float()).reshape(-1, out.shape[-1]))

    def attn_hook(i):
        def hook(mod, inp):
            x = inp[0]
            B, T, C = x.shape
            q, k, _ = mod.c_attn(x).float().split(C, dim=2)
            got["qk"][i].append(tuple(t.view(B, T, mod.n_head, C // mod.n_head).transpose(1, 2) for t in (q, k)))
        return hook

    handles = [b.mlp.c_fc.register_forward_hook(mlp_hook(i)) for i, b in enumerate(blocks)]
    handles += [b.attn.register_forward_pre_hook(attn_hook(i)) for i, b in enumerate(blocks) if attention]
    handles.append(model.transformer.ln_f.register_forward_hook(
        lambda mod, inp, out: got["final"].append(out.float().reshape(-1, out.shape[-1]))))
    was_training = model.training
    model.eval()
    try:
        with ctx or nullcontext():  # one pass, up to the final LayerNorm (no logits needed)
            model.hidden(torch.cat([x for x, _ in batches]))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return ([torch.cat(m) for m in got["mlp"]],
            [(torch.cat([q for q, _ in qk]), torch.cat([k for _, k in qk])) for qk in got["qk"] if qk],
            torch.cat(got["final"]))


def activation_diagnostics(model, batches, ctx=None, tau=TAU, active_eps=ACTIVE_EPS, ranks=True):
    """Dormant units, effective ranks (of the MLPs' only with ranks=True) and attention
    statistics on the batches."""
    mlp, qk, final = activations(model, batches, ctx)
    out = dict(dormant=[], inactive=[], mlp_rank=[], attn_entropy=[], attn_collapsed=[], attn_uniform=[],
               dormant_paper=[], attn_lazy=[], attn_collapsed_paper=[])
    for h in mlp:
        score = redo_score(h.abs().mean(0))
        out["dormant"].append(round(float((score <= tau).float().mean()), 4))
        out["dormant_paper"].append(round(float((score <= PAPER_TAU).float().mean()), 4))
        out["inactive"].append(round(float((h.amax(0) <= active_eps).float().mean()), 4))
        if ranks:
            rank = effective_rank(h)
            out["mlp_rank"].append(None if rank is None else round(rank, 3))
    for q, k in qk:
        entropy, peak, normalised = attention_stats(q, k)
        out["attn_entropy"].append([round(float(v), 4) for v in entropy])
        out["attn_collapsed"].append(round(float((peak > COLLAPSED).float().mean()), 4))
        out["attn_uniform"].append(round(float((normalised >= UNIFORM).float().mean()), 4))
        out["attn_lazy"].append(round(float((normalised > PAPER_LAZY).float().mean()), 4))
        out["attn_collapsed_paper"].append(round(float((normalised < PAPER_COLLAPSED).float().mean()), 4))
    rank = effective_rank(final)
    out["final_rank"] = None if rank is None else round(rank, 3)
    return out


def kind_of(name):
    """Which kind a parameter is: embedding, attention, mlp, layernorm, bias; and its block (or None)."""
    block = int(name.split(".")[2]) if name.startswith("transformer.h.") else None
    if name.endswith(".bias"):
        return "bias", block
    if "wte" in name or "wpe" in name or name.startswith("lm_head"):
        return "embedding", block
    if ".attn." in name:
        return "attention", block
    if ".mlp." in name:
        return "mlp", block
    return "layernorm", block


def weight_diagnostics(model, previous=None):
    """Mean |w| and Frobenius norm per kind and per block (attention, MLP); with the previous
    checkpoint's weights ({name: tensor}), the relative update of each since then."""
    kinds, blocks, update, before = {}, {}, {}, {}
    for name, p in model.named_parameters(remove_duplicate=True):
        w = p.detach().float()
        kind, block = kind_of(name)
        k = kinds.setdefault(kind, [0.0, 0, 0.0])
        k[0] += float(w.abs().sum())
        k[1] += w.numel()
        k[2] += float((w * w).sum())
        per_block = block is not None and kind in ("attention", "mlp")
        if per_block:
            blocks[f"{kind}{block}"] = blocks.get(f"{kind}{block}", 0.0) + float((w * w).sum())
        if previous is not None and name in previous:
            key = f"{kind}{block}" if per_block else kind
            old = previous[name].to(w.device).float()
            update[key] = update.get(key, 0.0) + float(((w - old) ** 2).sum())
            before[key] = before.get(key, 0.0) + float((old * old).sum())
    out = dict(mean_abs={k: round(v[0] / v[1], 6) for k, v in kinds.items()},
               norm={k: round(math.sqrt(v[2]), 4) for k, v in kinds.items()},
               block_norm={k: round(math.sqrt(v), 4) for k, v in sorted(blocks.items())})
    if previous is not None:
        out["update_ratio"] = {k: round(math.sqrt(update[k] / max(before[k], 1e-30)), 6) for k in sorted(update)}
    return out


def token_diagnostics(model, train_ids, probe_ids):
    """Mean embedding-row norm of the tokens the probe language uses and the training languages
    never do, against that of the tokens the training languages use; train_ids and probe_ids
    are sets of token ids."""
    rows = model.transformer.wte.weight.detach().float().norm(dim=1)
    unseen = sorted(set(probe_ids) - set(train_ids))
    seen = sorted(train_ids)
    mean = (lambda ids: round(float(rows[ids].mean()), 5) if ids else None)
    out = dict(unseen_tokens=len(unseen), unseen_norm=mean(unseen), seen_norm=mean(seen))
    out["unseen_over_seen"] = None if out["unseen_norm"] is None else round(out["unseen_norm"] / out["seen_norm"], 4)
    return out


def diagnose(model, train_batches, probe_batches, token_sets=None, previous=None, grad_norms=None, ctx=None):
    """Every diagnostic of one checkpoint as a JSON-ready dict. train_batches: (x, y) batches of
    the training languages (pooled); probe_batches: the probe language's, or None; token_sets:
    (ids the training languages use, ids the probe language uses) or None; previous: the last
    checkpoint's weights or None; grad_norms: the gradient norms of the steps since then."""
    out = dict(weights=weight_diagnostics(model, previous), train=activation_diagnostics(model, train_batches, ctx))
    if probe_batches:
        out["probe"] = activation_diagnostics(model, probe_batches, ctx, ranks=False)
    if token_sets is not None:
        out["tokens"] = token_diagnostics(model, *token_sets)
    if grad_norms:
        out["grad_norm_mean"] = round(sum(grad_norms) / len(grad_norms), 5)
        out["grad_norm_max"] = round(max(grad_norms), 5)
    return out
