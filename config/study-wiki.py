# The held-out check of the CPU study (config/study-docs.py), fixed before any of its runs: the same
# protocol on the second language set, six Wikipedia languages in non-Latin scripts (bn el hy ja mr
# uk; vi held out, as before), 512 ids (9.5% of Vietnamese tokens on ids no training language uses:
# results/vocab-overlap). The three smallest sizes (where the paper's law puts the earliest onsets),
# two training seeds, both schedules, 10^6-token tasks cycling the six languages (a cycle is 6x10^6
# tokens), six cycles. Written down before running: if the docs study's conclusion holds here, no
# run shows an established dAUC onset by 3.6x10^7 tokens, and the loss before fine-tuning at the
# last cycle is above cycle 1's in every run. Either failing is reported as the check failing.
#   python sweep.py config/study-wiki.py --stage=cells && python sweep.py config/study-wiki.py --stage=fit
name = "study-wiki"
corpus = "wiki512"
source = "textdir"
source_path = "../shared/corpus/wiki"
vocab = 512
sizes = "cpu-500,cpu-1k,cpu-3k"
schedules = "continual,stationary"
seeds = "0,1"
jobs = 2
max_tokens = 6 * 6 * 1_000_000 + 2048  # six cycles, and the step on which the sixth one ends
train_args = ("--block_size=128 --batch_size=16 --task_tokens=1000000 --lr=0 --warmup_tokens=100000 "
              "--restart_at_task=True --ckpt_schedule=tasks --n_ckpt=1 --save_every=2000 --log_every=2000 "
              "--eval_batches=4")
probe_args = "--probe_batch_size=8 --seeds=0,1,2 --eval_batches=4 --forget_batches=1 --threads=1"
fit_args = "--bootstrap 300"
