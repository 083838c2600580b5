"""Coverage of the item-mean bootstrap intervals (``--ci-method percentile | bca``) by simulation.

For each distribution with a known mean and each item count n, draws ``--trials`` samples of n
per-item values, computes the 95% interval of their mean with :func:`metrics.bootstrap_ci` (the
code every scorer uses, 1000 resamples) and prints how often it contains the true mean, next to
the nominal 95%, and the mean width. Recorded in docs/results.md.

    PYTHONPATH=. python benchmarks/ci_method_coverage.py [--trials 1000] [--sizes 5,10,20,50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from metrics.bootstrap import CI_METHODS, bootstrap_ci

#: name -> (sampler(rng, n), true mean); shapes of per-item scores: symmetric, skewed, heavy-tailed, bounded
DISTRIBUTIONS = {
    "normal(0, 1)": (lambda rng, n: rng.normal(0.0, 1.0, n), 0.0),
    "exponential(1)": (lambda rng, n: rng.exponential(1.0, n), 1.0),
    "lognormal(0, 1)": (lambda rng, n: rng.lognormal(0.0, 1.0, n), float(np.exp(0.5))),
    "beta(8, 2)": (lambda rng, n: rng.beta(8.0, 2.0, n), 0.8),
}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--sizes", default="5,10,20,50")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    print(f"nominal 95%, {args.trials} trials, {args.resamples} resamples")
    print(f"| distribution | n | {' | '.join(f'{m} coverage | {m} width' for m in CI_METHODS)} |")
    print("| :-- | --: |" + " --: | --: |" * len(CI_METHODS))
    for name, (draw, truth) in DISTRIBUTIONS.items():
        for n in sizes:
            hits = {m: 0 for m in CI_METHODS}
            widths = {m: 0.0 for m in CI_METHODS}
            for t in range(args.trials):
                x = draw(rng, n)
                for m in CI_METHODS:
                    lo, hi = bootstrap_ci(x, n_resamples=args.resamples, seed=t, method=m)
                    hits[m] += lo <= truth <= hi
                    widths[m] += hi - lo
            cells = " | ".join(f"{100 * hits[m] / args.trials:.1f}% | {widths[m] / args.trials:.3f}"
                               for m in CI_METHODS)
            print(f"| {name} | {n} | {cells} |", flush=True)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
