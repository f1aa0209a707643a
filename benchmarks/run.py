"""``make bench``: run every ``benchmarks/bench_*.py`` module's ``main()`` with its defaults.

Each benchmark writes its own results file under ``benchmarks/results/``.
``python -m benchmarks.run bench_projections`` runs only the ones named.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str] | None = None) -> None:
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)
                   if m.name.startswith("bench_"))
    wanted = argv if argv else names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise SystemExit(f"error: no benchmark {', '.join(unknown)}; known: {', '.join(names)}")
    for name in wanted:
        importlib.import_module(f"benchmarks.{name}").main([])


if __name__ == "__main__":
    main(sys.argv[1:])
