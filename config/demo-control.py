# The demo's positive control (config/demo.py sweeps it after its own cells): the stream on which small models
# lose plasticity (config/control-markov.py at toy scale): random sparse Markov languages over 256 ids, a new one
# every task, the stress optimizer (Adam 0.9/0.999, no weight decay, no resets, lr 3e-3 constant); two sizes
# (3,312 and 10,160 non-embedding parameters), one training seed, tasks of 2.5x10^4 tokens, 32 tasks; checkpoints
# and task-length probes every second task, two probe seeds, dAUC against the first task's end. What it shows is
# whatever the runs give (results/demo/RUN.md).
name = "demo-control"
corpus = "demo-markov"
source = "markov"
source_n_langs = 32
source_tokens = 50_000
sizes = "cpu-3k,cpu-10k"
schedules = "continual"
seeds = "0"
jobs = 2
max_tokens = 48 * 25_000 + 512  # 48 tasks, and the step on which the 48th ends
train_args = ("--probe_lang=held --block_size=64 --batch_size=8 --task_tokens=25000 --lr=3e-3 --warmup_tokens=2500 "
              "--weight_decay=0 --beta1=0.9 --beta2=0.999 --grad_clip=1.0 --cycle_tasks=1 --ckpt_schedule=tasks "
              "--ckpt_every_tasks=2 --n_ckpt=1 --save_every=2000 --log_every=500 --eval_batches=2 --cpu_threads=1")
probe_args = "--probe_batch_size=8 --seeds=0,1 --n_evals=25 --eval_batches=2 --forget_batches=0 --threads=1"
fit_args = "--bootstrap 300"
