# The CPU demo of the whole study (python sweep.py config/demo.py): synthetic languages whose
# held-out language shares tokens with the training ones (sources.py, script=names: own scripts,
# Latin names and words in every training language, a Latin-script held-out language whose
# tokens are rare in training), three one-layer one-head sizes (522, 888 and 1,350
# non-embedding parameters), stationary schedule, two training seeds, 1.2x10^7 tokens,
# 12 log-spaced checkpoints from 10^5 tokens (before that pretraining has not yet changed what
# the probe sees: results/pilot-names), probed with three seeds of 40 fine-tuning steps.
# Chosen so that the AUC onsets fall inside the checkpoint grid at every size within about
# 5 minutes on 2 cores, with probing under a quarter of the training compute; what the verdict
# is, is whatever the runs give (results/demo/RUN.md). A 40-step probe weighs the start of the
# fine-tuning curve heavily: the report's probe_parts.png shows which part of it moves.
name = "demo"
corpus = "demo-names512"
source = "synthetic"
source_script = "names"
source_mb = 2
vocab = 512
sizes = "micro-500,micro-1k,micro-1.3k"
schedules = "stationary"
seeds = "0,1"
jobs = 2  # two cells side by side, one core each (sweep.py lowers it on a one-core machine)
train_args = ("--block_size=128 --batch_size=16 --max_tokens=12000000 --task_tokens=1000000 --lr=3e-3 "
              "--ckpt_schedule=log --n_ckpt=12 --ckpt_from_tokens=100000 --save_every=2000 --log_every=2000 "
              "--eval_batches=4")
probe_args = ("--probe_steps=40 --probe_batch_size=8 --eval_every=20 --seeds=0,1,2 --eval_batches=4 "
              "--forget_batches=1 --threads=1")
fit_args = "--bootstrap 300"
