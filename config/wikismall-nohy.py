# The held-out check of config/wikismall.py: the same study on a language set it did not use
# for its choices: Armenian (hy, the training language with the most text)
# left out (a sixth of every stationary batch; a language drawn uniformly per sequence), the
# other five trained on, the same vocabulary and Vietnamese probe. Chosen before
# seeing any result of this set. Sizes: those of wikismall's sizes that showed onsets.
#   python sweep.py config/wikismall-nohy.py --jobs=2
name = "wikismall-nohy"
corpus = "wiki512"
source = "textdir"
source_path = "../shared/corpus/wiki"
vocab = 512
sizes = "micro-1k,micro-1.1k,micro-1.3k"
schedules = "stationary"
seeds = "0,1"
train_args = ("--langs=bn,el,ja,mr,uk --block_size=128 --batch_size=16 --max_tokens=40000000 --task_tokens=1000000 "
              "--lr=3e-3 --ckpt_schedule=log --n_ckpt=32 --save_every=2000 --log_every=2000 --eval_batches=4")
probe_args = ("--probe_steps=100 --probe_batch_size=8 --eval_every=25 --seeds=0,1,2 --eval_batches=4 "
              "--forget_batches=1")
fit_args = "--bootstrap 500"
