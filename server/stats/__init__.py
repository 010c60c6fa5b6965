"""Statistics computed at run time, in plain Python (no numerical library at run time).

power.py: the minimum detectable effect of a holdout before launch. lift.py: the lift readout's
intervals, p-values and the sample-ratio-mismatch test. Tests check both against statsmodels and
scipy (docs/measurement.md names each method). The normal distribution is statistics.NormalDist.
"""
