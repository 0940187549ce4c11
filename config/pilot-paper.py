# A first pilot of the paper's protocol on CPUs (issue of the CPU study): the shared docs corpus (the
# paper's eight training languages from free-software documentation, Wikipedia Vietnamese held out),
# a 512-id vocabulary, one size of the CPU ladder (cpu-3k, 3,312 non-embedding parameters: the
# paper's law read as tokens per parameter puts its onset near 2x10^8 tokens), both schedules, one
# seed, 10^6-token tasks in the paper's order with the optimizer and warmup restarted at every task,
# five cycles (4x10^7 tokens), probes at the first task's end and every cycle's end with task-length
# fine-tunes (977 steps of 8 x 128 tokens, 98 evaluations after step 0), 3 probe seeds. A pilot: it measures the
# cost and the noise of the protocol here, and whether anything shows by 4x10^7 tokens.
#   python sweep.py config/pilot-paper.py --source_path=../shared/corpus/docs --jobs=2
name = "pilot-paper"
corpus = "docs512"
source = "textdir"
source_path = "../shared/corpus/docs"
vocab = 512
sizes = "cpu-3k"
schedules = "continual,stationary"
seeds = "0"
jobs = 2
train_args = ("--block_size=128 --batch_size=16 --max_tokens=40000000 --task_tokens=1000000 --lr=0 "
              "--warmup_tokens=100000 --restart_at_task=True --ckpt_schedule=tasks --n_ckpt=1 --save_every=2000 "
              "--log_every=2000 --eval_batches=4")
probe_args = "--probe_batch_size=8 --seeds=0,1,2 --eval_batches=4 --forget_batches=1 --threads=1"
fit_args = "--bootstrap 300"
