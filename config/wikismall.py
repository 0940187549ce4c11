# The real-text study at the small end, where plasticity loss shows within CPU budgets
# (results/archive/wikigrid-small: four of four 888-parameter runs lose it by 10^7 tokens, a 1,908-
# parameter model not by 2x10^7): five one-layer, one-head sizes of width 8-12 (888 to 1,908
# non-embedding parameters, a factor 2.1), four training seeds each, 4x10^7 tokens, 32
# log-spaced checkpoints (about 7 a decade), the probe of config/wikigrid.py. Stationary; the
# continual schedule is the same grid with --schedules=continual (results/wikismall/continual).
#   python sweep.py config/wikismall.py --jobs=2
# Wall time on 2 CPU cores: results/wikismall/RUN.md.
name = "wikismall"
corpus = "wiki512"
source = "textdir"
source_path = "../shared/corpus/wiki"
vocab = 512
sizes = "micro-1k,micro-1.1k,micro-1.3k,micro-1.6k,micro-1.9k"
schedules = "stationary"
seeds = "0,1,2,3"
train_args = ("--block_size=128 --batch_size=16 --max_tokens=40000000 --task_tokens=1000000 --lr=3e-3 "
              "--ckpt_schedule=log --n_ckpt=32 --save_every=2000 --log_every=2000 --eval_batches=4")
probe_args = ("--probe_steps=100 --probe_batch_size=8 --eval_every=25 --seeds=0,1,2 --eval_batches=4 "
              "--forget_batches=1")
fit_args = "--bootstrap 500"
