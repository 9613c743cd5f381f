"""`python -m bench <name> [options]`, e.g. `python -m bench burst --participants 200`."""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {
    "burst": "bench.burst",
    "wordcloud": "bench.wordcloud",
    "cloudlatency": "bench.cloudlatency",
    "archive": "bench.archive",
    "purge": "bench.purge",
    "load": "bench.load",
    "presence": "bench.presence",
    "votecpu": "bench.votecpu",
    "yardstick": "bench.yardstick",
    "dispatchcpu": "bench.dispatchcpu",
    "groupcommit": "bench.groupcommit",
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark named on the command line; its exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench", description="Palabre's benchmarks.")
    commands = parser.add_subparsers(dest="name", required=True)
    modules = {name: importlib.import_module(path) for name, path in BENCHMARKS.items()}
    for name, module in modules.items():
        summary = module.__doc__.strip().splitlines()[0]
        sub = commands.add_parser(name, help=summary, description=module.__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
    args = parser.parse_args(argv)
    return modules[args.name].run(args) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
