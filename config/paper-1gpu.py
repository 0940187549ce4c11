# The paper's protocol on one GPU, sized so that it can resolve an onset: what config/paper.py does,
# at the paper's smallest size, with tasks of 4.9x10^8 tokens and ten cycles.
#   python sweep.py config/paper-1gpu.py --plan=True    # the preflight: prints what follows, refuses a bad plan
#   python sweep.py config/paper-1gpu.py                # one H100: 9.7 h by the arithmetic below, the build included
# Protocol (as config/paper.py): CC-100's en, zh-Hans, fr, ja, es, de, pt, ru cycled in the paper's
# order, vi held out; paper-5m at the paper's learning rate (--lr=0: model.ladder_lr); optimizer reset
# and warmup restarted at every task (and in every probe: probe.py's warmup_tokens follows the run);
# checkpoints and probes at the first task's end and every cycle's end; task-length probes with 100
# evaluations, 2 seeds. Context 1024, batches of 32 x 1024 = 32,768 tokens (results/gpu/bench_paper.txt's
# shape), tasks of 15,000 steps = 491,520,000 tokens, 10 cycles = 80 tasks = 3.93x10^10 tokens.
# The reading it tests (reading = "tokens"): the paper's law T = 1.3e-5 N^0.8269 counts the paper's tasks
# of 9,537 x 2^19 = 5.0x10^9 tokens. paper-5m has N = 4,932,480: T = 4.45 tasks = 2.23x10^10 tokens,
# at cycle 2.23e10 / (8 x 4.9152e8) = 5.66 of 10: after cycle 3 and before two thirds of the run (6.67).
# Under the other readings: if onsets count tasks whatever their length, 4.45 tasks is cycle 0.56,
# inside cycle 1, dAUC's reference, so dAUC cannot show it (the rise from the best, onset.json's
# "rise", can: the first task's end is probed before it); if they follow the 27M crossing quoted at
# 3.2x10^11 tokens (3.7 times later, DESIGN), the onset is near cycle 21 and these runs end before it.
# Data: 9 x 2,000 MB of CC-100 text, about 5.7x10^8 tokens a language, so each language's text is
# trained on 8.6 times in a run (the paper's runs see theirs once): a known difference, printed by the plan.
# Cost on one H100, as python sweep.py config/paper-1gpu.py --plan=True prints it (plan.py):
#   training  3.932e10 tokens / 2,275,891 tokens/s (bench_paper.txt's 5m and 10m rows, interpolated
#             in log N to 4,932,480)                                                       = 4.80 h
#   states    1,200,000 steps / save_every 10,000 = 120 saves x 3 s (blocking)              = 0.10 h
#   compile   1 minute                                                                      = 0.02 h
#   probes    12 checkpoints x 2 seeds x (15,000 steps + 101 evaluations x (20 + 8 x 4) batches / 3)
#             x 32,768 tokens = 1.32e10 token-equivalents, x 2 for uncompiled sequential fine-tunes,
#             / 2,275,891 tokens/s                                                          = 3.22 h
#   the corpus: 18,000 MB downloaded at 10 MB/s (assumed) and tokenized at 4.68 MB/s (one core,
#             measured on the docs corpus)                                                  = 1.57 h
#   in all                                                                                  = 9.7 h
# Disk: the build at most 49 GB (the text cache, at most 18 GB, plus 5.2e9 tokens at 4 B raw and 2 B
# binned), 28 GB kept; the run's 12 checkpoints and 2 states of 15,745,920 parameters, 1.1 GB.
# Peak memory of a step (the plan, model.step_bytes, bf16; the CUDA context and allocator slack not
# counted): training 12.7 GB, the probe's fine-tune 12.7 GB (both 32 x 1024 tokens).
# Further commands, each with its own plan (the corpus then built: no build hours):
#   python sweep.py config/paper-1gpu.py --name=paper-1gpu-stationary --schedules=stationary   # 8.1 h
#   python sweep.py config/paper-1gpu.py --name=paper-1gpu-12m --sizes=paper-12m --max_tokens=70778880000
#       # 18 cycles, onset at cycle 11.9: 21.9 h
#   python sweep.py config/paper-1gpu.py --name=paper-1gpu-27m --sizes=paper-27m --max_tokens=141557760000
#       # 36 cycles, onset at cycle 23.7: 66.8 h
name = "paper-1gpu"
corpus = "cc100-paper"
source = "cc100"
source_langs = "en,zh-Hans,fr,ja,es,de,pt,ru,vi"
source_mb = 2000
vocab = 32768
sizes = "paper-5m"
schedules = "continual"
seeds = "0"
reading = "tokens"
train_args = ("--block_size=1024 --batch_size=32 --max_tokens=39321600000 --task_tokens=491520000 --lr=0 "
              "--warmup_tokens=3276800 --restart_at_task=True --ckpt_schedule=tasks --ckpt_every_tasks=0 --n_ckpt=1 "
              "--save_every=10000 --log_every=100 --eval_batches=20 --compile=True")
probe_args = "--n_evals=100 --seeds=0,1 --eval_batches=20 --forget_batches=4"
fit_args = "--bootstrap 2000"
