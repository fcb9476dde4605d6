"""Benchmarks of the project: every stage against its physical limit and the plain approach.

Run from the project root: ``python -m benchmarks [--quick|--tiny] [--out DIR] [--seed N]``
writes ``bench.json`` and ``bench.md`` into a new folder per run (see ``__main__``). This
package sits beside the project's package, is not installed with it, and imports the
installed ``microexpression_pipeline``. Benchmarks are not tests: nothing here asserts a
timing.
"""
