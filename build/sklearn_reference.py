#!/usr/bin/env python3
"""The scikit-learn side of the quality benchmarks: classic models fitted on the same rows as the flows, scored on the
same held-out rows. Threads are pinned to 1 (OMP/OPENBLAS/MKL) before numpy loads, as on the C# side.

Density (ZooBenchmark --sklearn). usage: sklearn_reference.py train.csv test.csv
Prints one JSON line: {"models": [{"name", "setting", "mean_log_density", "seconds"}, ...]}.
Both models see standardized features (the training rows' mean and deviation; log-densities are corrected back to data
units), so GaussianMixture's covariance floor (reg_covar) and the KDE bandwidth mean the same on every scale.
- GaussianMixture: components 1 to 12, covariance full and diag, chosen by BIC on the training rows (sklearn's own
  criterion), 3 initializations each.
- KernelDensity: Gaussian kernel, bandwidth
  by 3-fold cross-validated log-likelihood over 20 values from 0.01 to 3 on up to 5000 training rows, then fitted on all.

Anomaly detection (AnomalyBenchmark), novelty detectors. usage: sklearn_reference.py anomaly train.csv test.csv labels.csv seed
Prints one JSON line: {"models": [{"name", "setting", "auc", "seconds"}, ...]}; labels are 1 for an anomaly.
Features are standardized with the training rows' mean and deviation (constant columns left at 0) for every model.
- IsolationForest: 200 trees.
- LocalOutlierFactor: novelty mode, 20 neighbours (at most the training rows less one).
- GaussianMixture: 1 to 8 components, full and diag covariance, chosen by BIC; score -log p.
- OneClassSVM: RBF kernel, gamma "scale", nu 0.05.
- KernelDensity: Gaussian kernel, bandwidth by 3-fold cross-validated log-likelihood over 20 values from 0.05 to 3.
"""
import os
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"
import json
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity, LocalOutlierFactor
from sklearn.svm import OneClassSVM


def density(arguments):
    train = np.loadtxt(arguments[0], delimiter=",", ndmin=2)
    test = np.loadtxt(arguments[1], delimiter=",", ndmin=2)
    models = []
    mean, scale = train.mean(0), train.std(0)
    standardized = (train - mean) / scale
    correction = -np.log(scale).sum()

    start = time.perf_counter()
    best = None
    for covariance in ("full", "diag"):
        for k in range(1, 13):
            model = GaussianMixture(k, covariance_type=covariance, n_init=3, random_state=0).fit(standardized)
            bic = model.bic(standardized)
            if best is None or bic < best[0]:
                best = (bic, model, k, covariance)
    models.append({"name": "GaussianMixture", "setting": f"BIC: {best[2]} components, {best[3]}",
                   "mean_log_density": float(best[1].score((test - mean) / scale) + correction), "seconds": time.perf_counter() - start})

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    subset = standardized[rng.permutation(len(standardized))[:5000]]
    search = GridSearchCV(KernelDensity(), {"bandwidth": np.logspace(-2, np.log10(3), 20)}, cv=3).fit(subset)
    bandwidth = search.best_params_["bandwidth"]
    kde = KernelDensity(bandwidth=bandwidth).fit(standardized)
    score = kde.score_samples((test - mean) / scale).mean() + correction
    models.append({"name": "KernelDensity", "setting": f"bandwidth {bandwidth:.3g} (standardized, 3-fold CV)",
                   "mean_log_density": float(score), "seconds": time.perf_counter() - start})
    print(json.dumps({"models": models}))


def anomaly(arguments):
    train = np.loadtxt(arguments[0], delimiter=",", ndmin=2)
    test = np.loadtxt(arguments[1], delimiter=",", ndmin=2)
    labels = np.loadtxt(arguments[2], delimiter=",", ndmin=1)
    seed = int(arguments[3])
    mean, scale = train.mean(0), train.std(0)
    scale[scale == 0] = 1
    train, test = (train - mean) / scale, (test - mean) / scale
    models = []

    def add(name, setting, fit):
        start = time.perf_counter()
        score = fit()
        models.append({"name": name, "setting": setting, "auc": float(roc_auc_score(labels, score)),
                       "seconds": time.perf_counter() - start})

    add("IsolationForest", "200 trees",
        lambda: -IsolationForest(n_estimators=200, random_state=seed).fit(train).score_samples(test))
    neighbours = min(20, len(train) - 1)
    add("LocalOutlierFactor", f"novelty, {neighbours} neighbours",
        lambda: -LocalOutlierFactor(n_neighbors=neighbours, novelty=True).fit(train).score_samples(test))

    def mixture():
        best = None
        for covariance in ("full", "diag"):
            for k in range(1, 9):
                try:
                    model = GaussianMixture(k, covariance_type=covariance, n_init=2, reg_covar=1e-4, random_state=seed).fit(train)
                except ValueError:
                    continue
                bic = model.bic(train)
                if best is None or bic < best[0]:
                    best = (bic, model)
        return -best[1].score_samples(test)
    add("GaussianMixture", "BIC over 1 to 8 components, full and diag", mixture)
    add("OneClassSVM", "RBF, gamma scale, nu 0.05",
        lambda: -OneClassSVM(gamma="scale", nu=0.05).fit(train).score_samples(test))

    def kde():
        search = GridSearchCV(KernelDensity(), {"bandwidth": np.logspace(np.log10(0.05), np.log10(3), 20)}, cv=3).fit(train)
        return -KernelDensity(bandwidth=search.best_params_["bandwidth"]).fit(train).score_samples(test)
    add("KernelDensity", "cross-validated bandwidth", kde)
    print(json.dumps({"models": models}))


if __name__ == "__main__":
    if sys.argv[1] == "anomaly":
        anomaly(sys.argv[2:])
    else:
        density(sys.argv[1:])
