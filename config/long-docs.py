# The long horizon of the CPU study (issue 34, item 3): the paper's protocol on the docs corpus, the
# settings of config/study-docs.py, continual runs only, more training seeds, and budgets long enough to
# see whether the late rise of 3,312 parameters (results/study-docs, part 7) reaches dAUC = 0.
# The predictions, the parts and the rule for going on are in results/long-docs/PREDICTIONS.md, written
# before the first run. Each part extends finished runs (--max_tokens: the lr is constant, so their past
# is unchanged) and is recorded in results/long-docs/RUN.md:
#   python sweep.py config/long-docs.py --sizes=cpu-3k --max_tokens=40002048 --stage=cells     # part 1
#   python sweep.py config/long-docs.py --stage=fit
name = "long-docs"
corpus = "docs512"
source = "textdir"
source_path = "../shared/corpus/docs"
vocab = 512
sizes = "cpu-1k,cpu-3k,cpu-10k,cpu-25k"
schedules = "continual"
seeds = "0,1,2,3"
jobs = 1
max_tokens = 5 * 8 * 1_000_000 + 2048  # five cycles, and the step on which the fifth one ends
train_args = ("--block_size=128 --batch_size=16 --task_tokens=1000000 --lr=0 --warmup_tokens=100000 "
              "--restart_at_task=True --ckpt_schedule=tasks --n_ckpt=1 --save_every=2000 --log_every=2000 "
              "--eval_batches=4 --cpu_threads=1")
probe_args = "--probe_batch_size=8 --seeds=0,1,2 --eval_batches=4 --forget_batches=1 --threads=1"
fit_args = "--bootstrap 300"
