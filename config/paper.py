# The paper's experiment at the paper's scale (Hernandez-Garcia, Figliolia, Millidge 2026, as two
# secondary readings of it report the protocol; README): CC-100 in the paper's eight training
# languages, cycled in its order (en, zh, fr, ja, es, de, pt, ru; CC-100 names Chinese zh-Hans),
# Vietnamese held out as the probe language; its eight sizes (model.PAPER_LADDER: d_model /
# n_layer about 80, head dimension 64) at its learning rates (model.ladder_lr: 3e-3 at 5M to 1e-3
# at 314M, --lr=0); context 2048, batches of 0.5M tokens (16 x 2048 x 16 accumulated), tasks of
# 9,537 steps (5.0x10^9 tokens), the optimizer reset and the warmup restarted at every task;
# checkpoints and probes at the first task's end and every cycle's end, each probe a
# task-length fine-tune in 0.5M-token batches with 100 evaluations on 5 x 256 = 1,280 sequences
# (the probe's batch of 256 x 2048 accumulated from micro-batches of 16, probe_micro_batch).
# Ten cycles (80 tasks, 4x10^11 tokens): the paper's 27M model crossed dAUC = 0 at 3.2x10^11 tokens.
# The paper ran stationary runs at 5, 12 and 27M only:
#   python sweep.py config/paper.py --list_cells=True     # one command per cell, for a job array
#   python sweep.py config/paper.py --name=paper-stationary --schedules=stationary --sizes=paper-5m,paper-12m,paper-27m
# Differences we cannot remove here: the tokenizer is cl100k_base with a 32k compact vocabulary
# (the paper's Qwen3 tokenizer, 151,680 ids, is not in tiktoken; N is non-embedding, so the size
# axis does not depend on it, the losses do), and CC-100 stands in for CulturaX (not downloadable
# without an account).
# Cost, from measured throughput (results/gpu/bench_paper.txt, one H100, bf16, compiled, context 1024:
# 0.12, 0.17, 0.26, 0.34, 0.54, 0.90 and 1.51 h per 10^9 tokens at 4.7, 9.9, 21, 38, 85, 154 and 315M,
# interpolated in log N to the paper's sizes: about 4.1 h per 10^9 tokens summed over its eight):
# 4x10^11 tokens per run -> about 1,600 H100-hours per seed for the continual ladder, plus the probes
# (11 task-length fine-tunes of 5x10^9 tokens per run and probe seed: +14% each) and the stationary
# runs. A cluster's job, not a machine's: config/paper-1gpu.py is the same protocol for one GPU.
# Download: 9 x 30 GB of CC-100 text kept (source_mb), about 7x10^9 tokens per language.
# Peak memory of a step (python sweep.py config/paper.py --plan=True --force=True; model.step_bytes, bf16,
# the CUDA context and allocator slack not counted): training micro-batches of 16 x 2048, 12.7 GB at
# paper-5m to 42.0 GB at paper-314m; the probe the same with its micro-batches of 16 (without them, its
# 256 x 2048 batch would need 199 GB at paper-5m to 574 GB at paper-314m).
name = "paper"
corpus = "cc100-paper"
source = "cc100"
source_langs = "en,zh-Hans,fr,ja,es,de,pt,ru,vi"
source_mb = 30000
vocab = 32768
sizes = "paper-5m,paper-12m,paper-27m,paper-39m,paper-53m,paper-83m,paper-106m,paper-314m"
schedules = "continual"
seeds = "0"
train_args = ("--block_size=2048 --batch_size=16 --grad_accum=16 --max_tokens=400010772480 --task_tokens=5000134656 "
              "--lr=0 --warmup_tokens=52428800 --restart_at_task=True --ckpt_schedule=tasks --ckpt_every_tasks=0 "
              "--n_ckpt=1 --save_every=1000 --log_every=50 --eval_batches=20 --compile=True")
probe_args = "--probe_batch_size=256 --probe_micro_batch=16 --n_evals=100 --seeds=0,1,2 --eval_batches=5 --forget_batches=2"
fit_args = "--bootstrap 2000"
