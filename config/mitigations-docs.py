# Do the methods against loss of plasticity change what the task-length probe measures? The CPU
# study's smallest continual cell (config/study-docs.py: cpu-1k, 888 non-embedding parameters,
# seeds 0 and 1, five cycles of the paper's schedule on the docs corpus) trained three ways: as it
# is (none), with L2 towards the initial weights (l2init, 1e-3) and with the embedding rows of
# tokens not yet seen held at their initial values (hold_unseen). The short-probe studies ranked
# them (results/archive/wikismall-mitigations); this asks whether that ranking survives a probe
# that measures learning. Each arm is fitted apart; mitigations.md compares each with none.
#   python sweep.py config/mitigations-docs.py
name = "mitigations-docs"
corpus = "docs512"
source = "textdir"
source_path = "../shared/corpus/docs"
vocab = 512
sizes = "cpu-1k"
schedules = "continual"
seeds = "0,1"
mitigations = "none,l2init,hold_unseen"
jobs = 2
max_tokens = 5 * 8 * 1_000_000 + 2048  # five cycles, and the step on which the fifth one ends
train_args = ("--block_size=128 --batch_size=16 --task_tokens=1000000 --lr=0 --warmup_tokens=100000 "
              "--restart_at_task=True --ckpt_schedule=tasks --n_ckpt=1 --save_every=2000 --log_every=2000 "
              "--eval_batches=4")
probe_args = "--probe_batch_size=8 --seeds=0,1,2 --eval_batches=4 --forget_batches=1 --threads=1"
fit_args = "--bootstrap 300"
