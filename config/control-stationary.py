# The positive control's stationary stress arm (after config/control-markov.py, which it amends): the stress
# optimizer at 3,312 non-embedding parameters on a fixed mixture of 8 of the stream's languages (the first 8 of
# each seed's task order: the languages its continual run sees first), every batch drawn from the mixture,
# checkpointed and probed at the same token counts. The paper's third claim where loss is known to happen.
#   python sweep.py config/control-markov.py config/control-stationary.py
fit_dir = "out/control-markov/stationary"
sizes = "cpu-3k"
schedules = "stationary"
