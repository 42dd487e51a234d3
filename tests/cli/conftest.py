"""Fixtures of the ``maskjax`` command-line tests (helpers live in _cli_support.py)."""

from _cli_support import multiclass_data, run_cli  # noqa: F401  (fixtures)
