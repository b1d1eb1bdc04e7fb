"""Insight tools (issue 6): lint rules beyond validity, coverage of a run, NLU cross-validation and the
HTML report. A face layer: it reads models, engines and `run --json` results; nothing below imports it.
"""
