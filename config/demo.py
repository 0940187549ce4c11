# The CPU demo of the whole study (python sweep.py config/demo.py): the synthetic corpus,
# three micro sizes x both schedules, probed with three seeds, then the fitted laws.
# About 6 minutes on 2 CPU cores (6.2 measured: results/demo/RUN.md).
name = "demo"
corpus = "synthetic"
source = "synthetic"
source_mb = 0.5
vocab = 8192
sizes = "micro-25k,micro-100k,micro-400k"
schedules = "continual,stationary"
seeds = "0"
# log-spaced checkpoints, not the task-end default: the demo's onsets fall in the first tasks
train_args = ("--block_size=64 --batch_size=16 --max_tokens=400000 --task_tokens=25000 --warmup_tokens=10000 "
              "--ckpt_schedule=log --n_ckpt=6 --save_every=100 --log_every=100")
# three probe seeds: with two, the onset estimator's noise model is too uncertain (README, calibration);
# two threads, fixed and recorded, because the cells run one after another
probe_args = "--probe_steps=60 --eval_every=20 --seeds=0,1,2 --eval_batches=2 --forget_batches=1 --threads=2"
fit_args = "--bootstrap 300"
