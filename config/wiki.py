# A real-text study on CPU: the Wikipedia corpus of ../shared/corpus/wiki (six training
# languages in six scripts, Vietnamese held out), two micro sizes 8x apart, both schedules.
#   python sweep.py config/wiki.py --source_path=../shared/corpus/wiki
# Measured on 2 CPU cores (8k compact vocabulary, context 128, batch 16): the runs train at
# 11-14k tokens/s with 2 threads, so each 5M-token run takes 6-8 minutes (27 min for the four),
# and the probes (9 checkpoints x 3 seeds x 100 steps of 8x128, 1 thread) took 24.8 minutes
# for the four: about 50 minutes in all (results/archive/wiki/RUN.md).
name = "wiki"
corpus = "wiki"
source = "textdir"
source_path = "../shared/corpus/wiki"
vocab = 8192
sizes = "micro-12k,micro-100k"
schedules = "continual,stationary"
seeds = "0"
train_args = ("--block_size=128 --batch_size=16 --max_tokens=5000000 --task_tokens=250000 --lr=3e-3 "
              "--ckpt_schedule=log --n_ckpt=8 --save_every=500 --log_every=500 --eval_batches=4")
probe_args = ("--probe_steps=100 --probe_batch_size=8 --eval_every=25 --seeds=0,1,2 --eval_batches=4 "
              "--forget_batches=1")
fit_args = "--bootstrap 500"
