# A CPU-sized continual run on the synthetic corpus (python data.py synthetic first).
out_dir = "out/tiny"
corpus = "synthetic"
model = "micro-25k"
block_size = 64
batch_size = 16
task_tokens = 50_000
max_tokens = 400_000
lr = 3e-3
warmup_tokens = 20_000
ckpt_schedule = "tasks"  # the paper's protocol: at the end of the first and of every 2nd task,
ckpt_every_tasks = 2     # plus n_ckpt - 1 = 3 log-spaced checkpoints inside the first task
n_ckpt = 4
save_every = 50
log_every = 50
