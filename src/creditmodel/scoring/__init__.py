"""Small-loan PD models: WoE scorecard champion, LightGBM challenger, PD calibration, master scale.

Import the submodules directly (``creditmodel.scoring.challenger`` etc.); this package imports nothing
so that loading one model does not pull in the others' dependencies.
"""
