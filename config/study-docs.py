# The CPU study (the paper's protocol at CPU scale): do our models lose the ability to learn
# Vietnamese, at which sizes and token counts, and how does the onset grow with N?
# Corpus: the shared docs corpus (the paper's eight training languages, en zh fr ja es de pt ru, from
# free-software documentation; vi from Wikipedia), 512-id vocabulary. Sizes: the CPU ladder, depth and
# width together. Two training seeds, both schedules. The paper's schedule: 10^6-token tasks cycling
# the eight languages in the paper's order, optimizer and warmup restarted at every task (continual);
# the stationary runs see the same token counts. Probes: task-length fine-tunes (977 steps of 8 x 128
# tokens, 98 evaluations after step 0) at the first task's end and every cycle's end, 3 probe seeds.
# Sizes: cpu-500 to cpu-25k (522 to 25,472 non-embedding parameters, 1.7 decades).
# Budget: five cycles (4x10^7 tokens) unless a part of RUN.md says otherwise: --max_tokens extends
# finished runs (the lr is constant, so their past is unchanged).
#   python sweep.py config/study-docs.py --sizes=cpu-1k,cpu-3k --stage=cells      # a part
#   python sweep.py config/study-docs.py --stage=fit                               # the fit of all
name = "study-docs"
corpus = "docs512"
source = "textdir"
source_path = "../shared/corpus/docs"
vocab = 512
sizes = "cpu-500,cpu-1k,cpu-3k,cpu-10k,cpu-25k"
schedules = "continual,stationary"
seeds = "0,1"
jobs = 2
max_tokens = 5 * 8 * 1_000_000 + 2048  # five cycles, and the step on which the fifth one ends
train_args = ("--block_size=128 --batch_size=16 --task_tokens=1000000 --lr=0 --warmup_tokens=100000 "
              "--restart_at_task=True --ckpt_schedule=tasks --n_ckpt=1 --save_every=2000 --log_every=2000 "
              "--eval_batches=4")
probe_args = "--probe_batch_size=8 --seeds=0,1,2 --eval_batches=4 --forget_batches=1 --threads=1"
fit_args = "--bootstrap 300"
