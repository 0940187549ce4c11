# The positive control's arms (after config/control-markov.py, which it amends): at 3,312 non-embedding
# parameters, 3 training seeds (the same seeds as the stress runs: the same initialisation and data order),
# each protection of the paper's protocol added alone to the stress arm, the paper's protocol whole, and the
# mitigations on the stress arm. "none" is the stress arm: the cpu-3k runs of control-markov, shared.
#   python sweep.py config/control-markov.py config/control-arms.py
fit_dir = "out/control-markov/arms"
sizes = "cpu-3k"
mitigations = "none,paper,wd,opt_reset,warmup,l2init,snp,redo,cbp,emb_reset"
arms = ("paper: --weight_decay=0.1 --beta2=0.95 --restart_at_task=True; "  # AdamW 0.1, optimizer and warmup restarted
        "wd: --weight_decay=0.1; "  # weight decay alone
        "opt_reset: --reset_optimizer_at_task=True; "  # a fresh Adam state at every task alone
        "warmup: --warmup_at_task=True; "  # the lr warmup restarted at every task alone
        "l2init: --l2_init=1e-3; "  # L2 towards the initial weights (Kumar et al. 2023)
        "snp: --snp_every=195 --snp_shrink=0.8 --snp_noise=0.01; "  # shrink and perturb once a task (Ash and Adams 2020)
        "redo: --redo_every=195 --redo_tau=0.1; "  # dormant MLP units re-initialised once a task (Sokar et al. 2023)
        "cbp: --cbp_rate=1e-4 --cbp_maturity=100; "  # continual backprop (Dohare et al. 2024)
        "emb_reset: --emb_reset_every=977")  # token embeddings re-initialised every 5 tasks (Chen et al. 2023)
