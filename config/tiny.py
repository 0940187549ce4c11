# A CPU-sized continual run on the synthetic corpus (python data.py synthetic first), on the
# paper's schedule: 50k-token tasks cycling the six training languages (a cycle is 3x10^5 tokens),
# the optimizer and warmup restarted at every task, checkpoints at the first task's end and at
# every cycle's end, three cycles (and the step on which the third one ends).
out_dir = "out/tiny"
corpus = "synthetic"
model = "micro-25k"
block_size = 64
batch_size = 16
task_tokens = 50_000
max_tokens = 3 * 6 * 50_000 + 1024
lr = 3e-3
warmup_tokens = 10_000
restart_at_task = True
ckpt_schedule = "tasks"
n_ckpt = 1
save_every = 100
log_every = 100
