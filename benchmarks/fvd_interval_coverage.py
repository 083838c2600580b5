"""Coverage of FVD intervals by simulation: Gaussian features with a known true Fréchet distance.

Generated features are drawn from ``N(mu_g, Sigma_g)`` and compared with a reference
``N(mu_r, Sigma_r)`` held fixed (as ``mvbench evaluate`` holds the reference statistics fixed), with
``Sigma_r`` a random rotation of a decaying spectrum and ``Sigma_g`` a perturbation of it. The true
distance is computed in closed form with ``scipy.linalg.sqrtm`` (independent of mvbench's
eigenvalue route). For each of ``--trials`` samples of ``n`` clips, every candidate interval is
computed from the same seeded bootstrap replicates as the FVD scorer uses, and the script prints,
next to the nominal 95%:

* coverage of the true population FD;
* coverage of ``E[FD_n]``, the expected plug-in FVD at this clip count (estimated from
  ``--theta-trials`` further samples);
* with ``--ref-samples``, coverage of the FD between the generated population and each trial's
  reference fit (what an interval with the reference held fixed can target);
* how often the interval contains the estimate it is reported with (the plug-in FD, FD∞ or the
  jackknife bias-corrected FD);
* the mean width.

Candidates (replicate quantiles ``q_lo``, ``q_hi``, replicate mean ``m*``, plug-in ``FD_n``):
``percentile`` ``[q_lo, q_hi]``; ``shifted`` ``[q_lo - b, q_hi - b]`` with ``b = m* - FD_n``;
``reflected`` ``[FD_n - (q_hi - m*), FD_n - (q_lo - m*)]``; ``basic`` ``[2 FD_n - q_hi, 2 FD_n - q_lo]``;
``BCa`` (bias correction from the replicates, acceleration from the jackknife); ``jackknife normal``
``FD_n +- 1.96 se_jack``; ``jackknife (G groups)`` the same leaving out G groups of consecutive clips in
turn (mvbench's ``ci95``; the scorer's groups are items); ``jackknife bias-corrected`` ``n FD_n - (n - 1) mean(FD_(i)) +- 1.96 se_jack``;
``FD∞ + spread`` (Chong & Forsyth's FD∞ with the plug-in's replicate spread reflected onto it); ``FD∞
bootstrap`` (the whole FD∞ procedure bootstrapped, basic interval around FD∞).

    PYTHONPATH=. python benchmarks/fvd_interval_coverage.py                     # d = 64, n = 64/256/1024
    PYTHONPATH=. python benchmarks/fvd_interval_coverage.py --regimes 400:150 --workers 8
    PYTHONPATH=. python benchmarks/fvd_interval_coverage.py --regimes 64:256 --ref-samples 256

Results are recorded in docs/fvd.md.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one BLAS thread per worker
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.stats  # noqa: E402

from metrics.frechet import SubsetFrechet, frechet_distance, frechet_distance_bootstrap  # noqa: E402
from metrics.frechet_interval import (  # noqa: E402
    fd_infinity,
    fd_interval,
    fd_jackknife_interval,
    frechet_distance_jackknife,
    jackknife_groups,
)

CONFIDENCE = 0.95
#: candidate -> (estimate it is reported with, target of the interval by construction)
CANDIDATES = {
    "percentile": ("plug-in", "FD"),
    "shifted": ("plug-in", "E[FD_n]"),
    "reflected": ("plug-in", "E[FD_n]"),
    "basic": ("plug-in", "FD"),
    "BCa": ("plug-in", "FD"),
    "jackknife normal": ("plug-in", "E[FD_n]"),
    "jackknife bias-corrected": ("jackknife FD", "FD"),
    "jackknife (50 groups)": ("plug-in", "E[FD_n]"),
    "jackknife (200 groups)": ("plug-in", "E[FD_n]"),
    "FD∞ + spread": ("FD∞", "FD"),
    "FD∞ bootstrap": ("FD∞", "FD"),
}


def make_population(d: int, seed: int):
    """``(mu_g, chol_g, mu_r, sigma_r, true_fd)`` of a generated and a reference Gaussian in R^d."""
    rng = np.random.default_rng(seed)
    q_r, _ = np.linalg.qr(rng.normal(size=(d, d)))
    spectrum = 4.0 / np.sqrt(np.arange(1, d + 1))
    sigma_r = (q_r * spectrum) @ q_r.T
    m = np.eye(d) + 0.25 * rng.normal(size=(d, d)) / np.sqrt(d)
    sigma_g = m @ sigma_r @ m.T
    sigma_g = (sigma_g + sigma_g.T) / 2.0
    mu_r = np.zeros(d)
    direction = rng.normal(size=d)
    mu_g = direction / np.linalg.norm(direction) * np.sqrt(0.05 * np.trace(sigma_r))
    diff = mu_g - mu_r
    covmean = np.real(scipy.linalg.sqrtm(sigma_g @ sigma_r))
    true_fd = float(diff @ diff + np.trace(sigma_g) + np.trace(sigma_r) - 2.0 * np.trace(covmean))
    return mu_g, np.linalg.cholesky(sigma_g), mu_r, sigma_r, true_fd


def _draw(rng, mu, chol, n):
    return mu + rng.normal(size=(n, mu.shape[0])) @ chol.T


def _reference(rng, pop, ref_samples: int):
    _, _, mu_r, sigma_r, _ = pop
    if not ref_samples:
        return mu_r, sigma_r
    y = _draw(rng, mu_r, np.linalg.cholesky(sigma_r), ref_samples)
    return y.mean(axis=0), np.cov(y, rowvar=False)


def _plugin(args) -> float:
    pop, n, ref_samples, seed = args
    rng = np.random.default_rng(seed)
    mu_ref, sigma_ref = _reference(rng, pop, ref_samples)
    x = _draw(rng, pop[0], pop[1], n)
    return SubsetFrechet(x, mu_ref, sigma_ref)(np.arange(n))


def _trial(args) -> dict:
    pop, n, ref_samples, seed, n_boot, n_boot_inf, with_jackknife, group_counts = args
    rng = np.random.default_rng(seed)
    mu_ref, sigma_ref = _reference(rng, pop, ref_samples)
    x = _draw(rng, pop[0], pop[1], n)
    fd = SubsetFrechet(x, mu_ref, sigma_ref)
    value = fd(np.arange(n))
    reps = frechet_distance_bootstrap(x, mu_ref, sigma_ref, n_boot=n_boot, seed=seed)
    # what an interval with the reference held fixed can target: the generated population against this
    # trial's reference fit (equal to the true FD when the reference is exact)
    out = {"plug-in": value, "target": frechet_distance(pop[0], pop[1] @ pop[1].T, mu_ref, sigma_ref)}
    q_lo, q_hi = np.quantile(reps, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    mean = reps.mean()
    out["percentile"] = fd_interval(value, reps, "percentile", CONFIDENCE)
    out["shifted"] = fd_interval(value, reps, "shifted", CONFIDENCE)
    out["reflected"] = (value - (q_hi - mean), value - (q_lo - mean))
    out["basic"] = fd_interval(value, reps, "basic", CONFIDENCE)
    if with_jackknife:
        loo = np.array([fd(np.delete(np.arange(n), i)) for i in range(n)])
        # BCa (Efron & Tibshirani 1993, 14.3; ties counted half as scipy does) from the same replicates
        share = (np.sum(reps < value) + np.sum(reps <= value)) / (2.0 * reps.size)
        dev = loo.mean() - loo
        accel = (dev ** 3).sum() / (6.0 * ((dev ** 2).sum()) ** 1.5)
        with np.errstate(all="ignore"):
            z0 = scipy.stats.norm.ppf(share)
            zs = scipy.stats.norm.ppf([(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
            levels = scipy.stats.norm.cdf(z0 + (z0 + zs) / (1 - accel * (z0 + zs)))
        out["BCa"] = (tuple(np.quantile(reps, levels)) if np.isfinite(levels).all() else (np.nan, np.nan))
        se = np.sqrt((n - 1) / n * ((loo - loo.mean()) ** 2).sum())
        z = scipy.stats.norm.ppf((1 + CONFIDENCE) / 2)
        out["jackknife normal"] = (value - z * se, value + z * se)
        corrected = n * value - (n - 1) * loo.mean()
        out["jackknife FD"] = corrected
        out["jackknife bias-corrected"] = (corrected - z * se, corrected + z * se)
    for g in group_counts:  # mvbench's interval: leave out one group (an item's clips) at a time
        loo = frechet_distance_jackknife(x, mu_ref, sigma_ref, jackknife_groups([1] * n, max_groups=g))
        out[f"jackknife ({g} groups)"] = fd_jackknife_interval(value, loo, CONFIDENCE)
    inf = fd_infinity(x, mu_ref, sigma_ref, seed=seed)
    out["FD∞"] = inf.value
    out["FD∞ + spread"] = (inf.value - (q_hi - mean), inf.value - (q_lo - mean))  # the plug-in's spread
    if n_boot_inf:
        boot_rng = np.random.default_rng(seed + 1)
        reps_inf = np.array([fd_infinity(x[boot_rng.integers(0, n, n)], mu_ref, sigma_ref, seed=b).value
                             for b in range(n_boot_inf)])
        lo, hi = np.quantile(reps_inf, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
        out["FD∞ bootstrap"] = (inf.value - (hi - value), inf.value - (lo - value))
    return out


def run_regime(d: int, n: int, args, pool) -> list[str]:
    pop = make_population(d, args.seed)
    true_fd = pop[4]
    base = args.seed * 100_003 + d * 1009 + n
    theta = float(np.mean(list(pool.map(_plugin, [(pop, n, args.ref_samples, base + 10**7 + t)
                                                      for t in range(args.theta_trials)]))))
    groups = [int(g) for g in args.jackknife_groups.split(",") if g]
    jobs = [(pop, n, args.ref_samples, base + t, args.bootstrap, args.fd_inf_bootstrap, not args.no_jackknife, groups)
            for t in range(args.trials)]
    trials = list(pool.map(_trial, jobs))
    plug = np.array([t["plug-in"] for t in trials])
    inf = np.array([t["FD∞"] for t in trials])
    ref = "exact" if not args.ref_samples else f"{args.ref_samples} samples"
    lines = [f"d = {d}, n = {n} generated clips, reference {ref}: true FD {true_fd:.2f}, "
             f"E[FD_n] {theta:.2f} (bias {theta - true_fd:+.2f}), plug-in sd {plug.std(ddof=1):.2f}, "
             f"FD∞ mean {inf.mean():.2f} sd {inf.std(ddof=1):.2f}",
             "",
             "| interval | reported with | covers true FD | covers E[FD_n] | contains its estimate | mean width |"
             + (" covers FD vs fitted reference |" if args.ref_samples else ""),
             "| :-- | :-- | --: | --: | --: | --: |" + (" --: |" if args.ref_samples else "")]
    target = np.array([t["target"] for t in trials])
    for name, (estimate, _target) in CANDIDATES.items():
        got = [t[name] for t in trials if name in t]
        if not got:
            continue
        lo, hi = np.array(got).T
        est = {"plug-in": plug, "FD∞": inf}.get(estimate)
        if est is None:
            est = np.array([t[estimate] for t in trials])
        defined = np.isfinite(lo) & np.isfinite(hi)  # BCa is undefined when no replicate falls below FD_n
        cover_fd = np.mean(defined & (lo <= true_fd) & (true_fd <= hi))
        cover_theta = np.mean(defined & (lo <= theta) & (theta <= hi))
        contains = np.mean(defined & (lo <= est) & (est <= hi))
        width = f"{np.mean((hi - lo)[defined]):.2f}" if defined.any() else "-"
        if not defined.all():
            width += f" (undefined in {100 * np.mean(~defined):.0f}% of trials)"
        line = (f"| {name} | {estimate} | {100 * cover_fd:.1f}% | {100 * cover_theta:.1f}% | "
                f"{100 * contains:.1f}% | {width} |")
        if args.ref_samples:
            line += f" {100 * np.mean(defined & (lo <= target) & (target <= hi)):.1f}% |"
        lines.append(line)
    return lines


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--regimes", default="64:64,64:256,64:1024", help="comma-separated DIM:CLIPS pairs")
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--theta-trials", type=int, default=2000)
    p.add_argument("--bootstrap", type=int, default=200, help="replicates per interval (the scorer's cap)")
    p.add_argument("--fd-inf-bootstrap", type=int, default=0,
                   help="also bootstrap the whole FD∞ procedure with this many replicates (slow)")
    p.add_argument("--no-jackknife", action="store_true",
                   help="skip BCa and the jackknife intervals (n leave-one-out FDs per trial)")
    p.add_argument("--jackknife-groups", default="50,200",
                   help="grouped jackknife intervals with these group counts (consecutive rows merged)")
    p.add_argument("--ref-samples", type=int, default=0, help="fit the reference to this many samples (0: exact)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    print(f"nominal coverage {100 * CONFIDENCE:.0f}%, {args.trials} trials, {args.bootstrap} bootstrap replicates")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for regime in args.regimes.split(","):
            d, n = (int(v) for v in regime.split(":"))
            t0 = time.perf_counter()
            print("\n".join(["", *run_regime(d, n, args, pool)]))
            print(f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
