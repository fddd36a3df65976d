#!/usr/bin/env python3
"""The scikit-learn side of the quality benchmark (ZooBenchmark --sklearn): classic density models fitted on the same
rows as the flows, scored on the same held-out rows.

usage: sklearn_reference.py train.csv test.csv
Prints one JSON line: {"models": [{"name", "setting", "mean_log_density", "seconds"}, ...]}.
- GaussianMixture: components 1 to 12, covariance full and diag, chosen by BIC on the training rows (sklearn's own
  criterion), 3 initializations each.
- KernelDensity: Gaussian kernel on standardized features (the log-density is corrected back to data units), bandwidth
  by 3-fold cross-validated log-likelihood over 20 values from 0.01 to 3 on up to 5000 training rows, then fitted on all.
Threads are pinned to 1 (OMP/OPENBLAS/MKL) before numpy loads, as on the C# side.
"""
import os
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"
import json
import sys
import time

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity


def main():
    train = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
    test = np.loadtxt(sys.argv[2], delimiter=",", ndmin=2)
    models = []

    start = time.perf_counter()
    best = None
    for covariance in ("full", "diag"):
        for k in range(1, 13):
            model = GaussianMixture(k, covariance_type=covariance, n_init=3, random_state=0).fit(train)
            bic = model.bic(train)
            if best is None or bic < best[0]:
                best = (bic, model, k, covariance)
    models.append({"name": "GaussianMixture", "setting": f"BIC: {best[2]} components, {best[3]}",
                   "mean_log_density": float(best[1].score(test)), "seconds": time.perf_counter() - start})

    start = time.perf_counter()
    mean, scale = train.mean(0), train.std(0)
    standardized = (train - mean) / scale
    rng = np.random.default_rng(0)
    subset = standardized[rng.permutation(len(standardized))[:5000]]
    search = GridSearchCV(KernelDensity(), {"bandwidth": np.logspace(-2, np.log10(3), 20)}, cv=3).fit(subset)
    bandwidth = search.best_params_["bandwidth"]
    kde = KernelDensity(bandwidth=bandwidth).fit(standardized)
    score = kde.score_samples((test - mean) / scale).mean() - np.log(scale).sum()
    models.append({"name": "KernelDensity", "setting": f"bandwidth {bandwidth:.3g} (standardized, 3-fold CV)",
                   "mean_log_density": float(score), "seconds": time.perf_counter() - start})
    print(json.dumps({"models": models}))


if __name__ == "__main__":
    main()
