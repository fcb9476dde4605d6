"""Errors in what a user gave the project: a path, a data file, a parameter value.

Their message says what is wrong and how to fix it, so ``kedro run`` prints only the message
(the traceback goes to the log file, or to the terminal with ``--verbose``).
"""

from __future__ import annotations


class InputError(Exception):
    """A user's input is wrong; the message names it and says how to fix it."""
