"""Palabre's benchmarks, outside the application package: `python -m bench <name> [options]`.

Each benchmark is a module of this package with a docstring (its help), `add_arguments(parser)`
and `run(args)`; list it in `bench.__main__.BENCHMARKS`. Benchmarks print figures, they do not
assert: timing thresholds belong here, behaviour belongs in the tests. They drive the real server
with the tests' own helpers (`tests/realserver.py`, `tests/wordcloud_input.py`), so what is
measured is what is tested; the application never imports this package. Needs the development
requirements (requirements-dev.txt) and is run from the root of the clone.
"""
