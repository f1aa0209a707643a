"""``make bench``: run every ``benchmarks/bench_*.py`` module's ``main()`` with its defaults.

Each benchmark writes its own results file under ``benchmarks/results/``.
``python -m benchmarks.run bench_projections`` runs only the ones named.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str] | None = None) -> None:
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)
                   if m.name.startswith("bench_"))
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Run benchmarks with their defaults; each writes benchmarks/results/. "
                    "For a benchmark's own options: python -m benchmarks.NAME --help")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(names)}")
    wanted = parser.parse_args(argv).names or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; known: {', '.join(names)}")
    for name in wanted:
        importlib.import_module(f"benchmarks.{name}").main([])


if __name__ == "__main__":
    main(sys.argv[1:])
