# A pilot toward a demo that shows plasticity loss on synthetic text (results/archive/pilot-names):
# the synthetic languages with script=names (own scripts, Latin names and words in every
# training language, a Latin-script vi whose tokens are rare in training, as Vietnamese's are
# in the wiki corpus), vocabulary 512, the three smallest sizes, stationary, two seeds, 10^7
# tokens, 24 log-spaced checkpoints, the probe of config/wikigrid.py.
#   python sweep.py config/pilot-names.py
name = "pilot-names"
corpus = "names512"
source = "synthetic"
source_script = "names"
source_mb = 2
vocab = 512
sizes = "micro-1k,micro-1.1k,micro-1.3k"
schedules = "stationary"
seeds = "0,1"
train_args = ("--block_size=128 --batch_size=16 --max_tokens=10000000 --task_tokens=1000000 --lr=3e-3 "
              "--ckpt_schedule=log --n_ckpt=24 --save_every=2000 --log_every=2000 --eval_batches=4")
probe_args = ("--probe_steps=100 --probe_batch_size=8 --eval_every=25 --seeds=0,1,2 --eval_batches=4 "
              "--forget_batches=1 --threads=1")
fit_args = "--bootstrap 300"
