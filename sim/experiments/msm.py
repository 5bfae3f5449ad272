"""The method of simulated moments: objective, weighting, standard errors and the J test.

Notation (McFadden 1989; Pakes & Pollard 1989; Lee & Ingram 1991; Duffie & Singleton 1993;
Gourieroux & Monfort 1996, ch. 2): ``m`` moments, ``k`` parameters, ``R`` replications on common
random numbers (the same seeds at every parameter vector, so the objective is a deterministic
function of the parameters). ``m_bar(theta)`` is the mean of the moments over the ``R`` runs,
``y`` the targets, ``g(theta) = m_bar(theta) - y``.

* **Objective** ``Q(theta) = g' W g``.
* **Variance of g** under the model: ``V = (1 + 1/R) S + T``. ``S`` is the covariance of one
  run's moments (estimated over the replications), ``(1 + 1/R)`` accounts for both the history
  (one realisation, variance ``S``) and the simulated mean (``S / R``) (Lee & Ingram 1991, eq. 9);
  ``T = diag(sd^2)`` is the targets' own error (trackers disagree: the CSV's notes give two bases
  for several rows), independent of the simulation.
* **Weighting**: the identity, or ``W = diag(w / diag(V0))`` from a first stage ``V0`` at the
  starting parameters (inverse-variance, the two-step choice; ``w`` are the moments' weights).
  Only the diagonal is inverted: with a handful of replications ``S`` is singular and its
  off-diagonal noisy, the usual choice for agent-based models (Franke & Westerhoff 2012).
* **Standard errors** (sandwich; Gourieroux & Monfort 1996, Prop. 2.2 with the (1 + 1/R) of V):
  ``Var(theta_hat) = (G'WG)^-1 G'W V W G (G'WG)^-1`` with ``G = d m_bar / d theta`` by central
  finite differences on common random numbers.
* **J test** (Hansen 1982): ``J = g' V^-1 g`` at ``theta_hat`` with ``V`` diagonal. With
  ``W = V^-1`` it is chi-square with ``m - k`` degrees of freedom; for any other ``W`` its law
  is a weighted sum of chi-square(1) variables, with weights the eigenvalues of
  ``V^1/2 P' V^-1 P V^1/2`` where ``P = I - G (G'WG)^-1 G'W`` (g = P e, e ~ N(0, V)); its p-value
  is computed by simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

J_DRAWS = 100_000  # draws of the weighted chi-square law of J (p-value to about 0.003)


def moment_variance(runs: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``V = (1 + 1/R) S + diag(sd^2)``: the variance of ``g`` (see the module doc).

    Args:
        runs: R x m, one row of moments per replication (R >= 1; S = 0 when R = 1).
        sd: the targets' own sd, length m.

    Returns:
        m x m.
    """
    r = runs.shape[0]
    s = np.cov(runs, rowvar=False, ddof=1) if r > 1 else np.zeros((runs.shape[1],) * 2)
    s = np.atleast_2d(np.nan_to_num(s))
    return (1.0 + 1.0 / r) * s + np.diag(np.asarray(sd, dtype=float) ** 2)


def weighting_matrix(kind: str, variance: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``W``: the identity or ``diag(weights / diag(V))`` (see the module doc).

    Args:
        kind: ``identity`` or ``inverse_variance``.
        variance: first-stage ``V`` (m x m).
        weights: the moments' weights.

    Returns:
        m x m, diagonal.
    """
    w = np.asarray(weights, dtype=float)
    if kind == "identity":
        return np.diag(w)
    return np.diag(w / np.diag(variance))


def objective(gap: np.ndarray, weighting: np.ndarray) -> float:
    """``Q = g' W g``; a moment the run could not give (NaN) makes it infinite."""
    if not np.all(np.isfinite(gap)):
        return float("inf")
    return float(gap @ weighting @ gap)


def jacobian(minus: np.ndarray, plus: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``G[:, j] = (m_bar(theta + h_j) - m_bar(theta - h_j)) / step_j`` (central differences).

    Args:
        minus: k x m, mean moments at the lower point of each parameter.
        plus: k x m, at the upper point.
        step: k, the distance between the two points (``2h``, less at a bound).

    Returns:
        m x k.
    """
    return ((plus - minus) / np.asarray(step, dtype=float)[:, None]).T


@dataclass
class Inference:
    """Standard errors and the J test at the estimate.

    Attributes:
        covariance: k x k, of the parameters.
        se: k standard errors.
        j: the J statistic ``g' diag(V)^-1 g``.
        df: ``m - k``.
        p_chi2: chi-square(m - k) p-value (exact when W = V^-1).
        p_weighted: p-value under J's law for the W used (see the module doc).
        condition: condition number of ``G'WG`` (large: weakly identified directions).
    """

    covariance: np.ndarray
    se: np.ndarray
    j: float
    df: int
    p_chi2: float
    p_weighted: float
    condition: float


def inference(gap: np.ndarray, g: np.ndarray, weighting: np.ndarray, variance: np.ndarray,
              seed: int = 0) -> Inference:
    """The sandwich covariance of the estimate and the J test (see the module doc).

    Args:
        gap: ``g(theta_hat)``, length m.
        g: the Jacobian ``G``, m x k.
        weighting: ``W`` used by the search.
        variance: ``V`` at the estimate.
        seed: of the draws of J's law.

    Returns:
        The inference.
    """
    m, k = g.shape
    bread = g.T @ weighting @ g
    bread_inv = np.linalg.pinv(bread)
    covariance = bread_inv @ g.T @ weighting @ variance @ weighting @ g @ bread_inv
    v_diag_inv = np.diag(1.0 / np.diag(variance))
    j = float(gap @ v_diag_inv @ gap)
    df = m - k
    p_chi2 = float(stats.chi2.sf(j, df)) if df > 0 else float("nan")
    p_weighted = float("nan")
    if df > 0:
        proj = np.eye(m) - g @ bread_inv @ g.T @ weighting
        root = np.linalg.cholesky(variance + 1e-12 * np.eye(m))
        lam = np.linalg.eigvalsh(root.T @ proj.T @ v_diag_inv @ proj @ root)
        draws = np.random.default_rng(seed).chisquare(1, size=(J_DRAWS, m)) @ np.clip(lam, 0, None)
        p_weighted = float(np.mean(draws >= j))
    return Inference(covariance=covariance, se=np.sqrt(np.clip(np.diag(covariance), 0, None)),
                     j=j, df=df, p_chi2=p_chi2, p_weighted=p_weighted,
                     condition=float(np.linalg.cond(bread)))
