# The paper's scale (Hernandez-Garcia et al. 2026): sizes 5M to 314M non-embedding parameters,
# six CC-100 training languages in six scripts and Vietnamese as the probe, both schedules,
# two training seeds. Needs GPUs and a network for the download:
#   python sweep.py config/paper.py --list_cells=True     # one command per cell, for a job array
#
# Cost, measured (results/gpu/bench_paper.txt: one H100 80GB HBM3, torch 2.11, bf16 autocast,
# torch.compile, context 1024, batch 32, 32k vocabulary; training steps only):
#   size            5m    10m   20m   40m   85m   150m  314m
#   MFU             23%   26%   28%   34%   40%   40%   45%
#   h per 1B tokens 0.12  0.17  0.26  0.34  0.54  0.90  1.51
# so the 4B-token runs below take about 15 GPU-hours per (schedule, seed) over the seven sizes,
# about 61 GPU-hours in all, plus evaluations, checkpoints and the probes (the paper's protocol:
# a checkpoint at the end of every 2nd 100M-token task and 7 log-spaced ones inside the first,
# 28 in all, x 3 seeds x 500 steps of 32k tokens, about 1.4B tokens per run). Re-measure with
#   python bench.py --sizes=5m,10m,20m,40m,85m,150m,314m --vocab=32768 --block_size=1024 --batch_size=32 --compile=True
# Download: 7 x 2 GB of text (about 0.6B tokens per language).
name = "paper"
corpus = "cc100"
source = "cc100"
source_langs = "hy,bn,el,uk,mr,ja,vi"
source_mb = 2000
vocab = 32768
sizes = "5m,10m,20m,40m,85m,150m,314m"
schedules = "continual,stationary"
seeds = "0,1"
train_args = ("--block_size=1024 --batch_size=32 --grad_accum=4 --max_tokens=4000000000 --task_tokens=100000000 "
              "--lr=1e-3 --warmup_tokens=20000000 --ckpt_schedule=tasks --ckpt_every_tasks=2 --n_ckpt=8 "
              "--save_every=1000 --log_every=50 --eval_batches=20 --compile=True")
probe_args = "--probe_steps=500 --eval_every=50 --seeds=0,1,2 --eval_batches=20 --forget_batches=4"
fit_args = "--bootstrap 2000"
