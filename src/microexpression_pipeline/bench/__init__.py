"""Benchmarks: every stage against its physical limit and against the plain approach.

``python -m microexpression_pipeline.bench [--quick] [--out DIR]`` writes ``bench.json`` and
``bench.md`` into a new folder per run (see ``__main__``). Benchmarks are not tests: nothing
here asserts a timing.
"""
