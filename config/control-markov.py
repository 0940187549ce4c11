# The positive control (results/control-markov/PREDICTIONS.md says what we expect and why): a stream on which
# small models are known to lose plasticity, seen by the same probe and onset code as the study.
# Stream: random sparse Markov languages over 256 ids (sources.markov_sources: each id has 4 successors, with
# probabilities .5, .25, .15, .1; loss floor 1.21 nats), a new language every task (64 in the corpus, 30 tasks a
# run), the probe's language (held) one never trained on. Tasks of 10^5 tokens (195 steps of 8 x 64).
# Training: the stress arm, with the protections of the paper's protocol removed: Adam (0.9, 0.999), no weight
# decay, lr 3e-3 constant after one warmup, no optimizer reset, no warmup restart (gradient clipping at 1.0 kept).
# Probe: task-length fine-tunes (195 steps) of a copy on held at every task's end, 50 evaluations, 2 probe seeds;
# dAUC against the first task's end (cycle_tasks=1: every task is a new language, so a "cycle" is one task).
# Sizes: the CPU ladder from 522 to 25,472 non-embedding parameters (1.69 decades), 3 training seeds.
#   python sweep.py config/control-markov.py                                         # the onset law (stress)
#   python sweep.py config/control-markov.py config/control-arms.py                  # protections, mitigations
#   python sweep.py config/control-markov.py config/control-stationary.py            # stationary stress
name = "control-markov"
corpus = "markov64"
source = "markov"
source_n_langs = 64
source_tokens = 300_000
sizes = "cpu-500,cpu-1k,cpu-3k,cpu-10k,cpu-25k"
schedules = "continual"
seeds = "0,1,2"
jobs = 2
max_tokens = 30 * 100_000 + 512  # 30 tasks, and the step on which the 30th ends
train_args = ("--probe_lang=held --block_size=64 --batch_size=8 --task_tokens=100000 --lr=3e-3 --warmup_tokens=10000 "
              "--weight_decay=0 --beta1=0.9 --beta2=0.999 --grad_clip=1.0 --cycle_tasks=1 --mixture_langs=8 "
              "--ckpt_schedule=tasks --n_ckpt=1 --save_every=2000 --log_every=1000 --eval_batches=2 --cpu_threads=1")
probe_args = "--probe_batch_size=8 --seeds=0,1 --n_evals=50 --eval_batches=2 --forget_batches=0 --threads=1"
fit_args = "--bootstrap 300"
