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
n_ckpt = 6
save_every = 50
log_every = 50
