# The CPU demo of the whole study (python sweep.py config/demo.py), under the paper's protocol:
# synthetic languages whose held-out language shares tokens with the training ones (sources.py,
# script=names: own scripts, Latin names and words in every training language, a Latin-script
# held-out language whose tokens are rare in training), two sizes of the CPU ladder (888 and
# 3,312 non-embedding parameters), both schedules, one training seed, 10^5-token tasks cycling
# the six training languages with the optimizer and warmup restarted at every task (a cycle is
# 6x10^5 tokens), four cycles; probes at the first task's end and every cycle's end with task-
# length fine-tunes (98 steps of 8 x 128 tokens; 20 evaluations of 2 batches, fewer than the
# default 100 of 4 to keep the demo near 5 minutes on 2 cores), three probe seeds, dAUC against
# cycle 1. What it shows is whatever the runs give (results/demo/RUN.md).
name = "demo"
corpus = "demo-names512"
source = "synthetic"
source_script = "names"
source_mb = 2
vocab = 512
sizes = "cpu-1k,cpu-3k"
schedules = "continual,stationary"
seeds = "0"
jobs = 2  # two cells side by side, one core each (sweep.py lowers it on a one-core machine)
max_tokens = 4 * 6 * 100_000 + 2048  # four cycles, and the step on which the fourth one ends
train_args = ("--block_size=128 --batch_size=16 --task_tokens=100000 --lr=0 --warmup_tokens=20000 "
              "--restart_at_task=True --ckpt_schedule=tasks --n_ckpt=1 --save_every=2000 --log_every=500 "
              "--eval_batches=4")
probe_args = "--probe_batch_size=8 --n_evals=20 --seeds=0,1,2 --eval_batches=2 --forget_batches=1 --threads=1"
fit_args = "--bootstrap 300"
then = "config/demo-control.py"  # the positive control: a stream on which small models do lose plasticity
