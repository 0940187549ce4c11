# The real-text grid on CPU (issue of the phenomenon): the Wikipedia corpus of
# ../shared/corpus/wiki with a 512-id vocabulary (10x faster than 8192 for micro models),
# four sizes over two decades (888 to 100k non-embedding parameters), both schedules, two
# training seeds, 2x10^7 tokens each, 14 log-spaced checkpoints, a 100-step probe with 3 seeds.
#   python sweep.py config/wikigrid.py --source_path=../shared/corpus/wiki --jobs=2
# Wall time on 2 CPU cores: results/archive/wikigrid/RUN.md.
name = "wikigrid"
corpus = "wiki512"
source = "textdir"
source_path = "../shared/corpus/wiki"
vocab = 512
sizes = "micro-1k,micro-3k,micro-12k,micro-100k"
schedules = "continual,stationary"
seeds = "0,1"
train_args = ("--block_size=128 --batch_size=16 --max_tokens=20000000 --task_tokens=1000000 --lr=3e-3 "
              "--ckpt_schedule=log --n_ckpt=14 --save_every=2000 --log_every=2000 --eval_batches=4")
probe_args = ("--probe_steps=100 --probe_batch_size=8 --eval_every=25 --seeds=0,1,2 --eval_batches=4 "
              "--forget_batches=1")
fit_args = "--bootstrap 500"
