"""
Line fits and intervals shared by the laws of fit.py and forgetting.py.

- huber_line: Huber regression of a line by IRLS, batched over starts and bootstrap weights.
- ols_line / line_variance / t_interval: least squares with the classical and HC3 covariances;
  the larger of the two gives the 95% t interval (tests/test_fit.py checks its coverage).
- fit_power_law: log y = log a + alpha log N by least squares, with a Huber fit as a check.
- censored_line: the same line by maximum likelihood when some points are only lower bounds
  (runs that saw no onset by their last checkpoint), with a profile-likelihood interval.
- resample_runs / interval: the bootstrap over runs within sizes, and its percentile interval.
"""

import math

import numpy as np

from onset import t_quantile

MIN_BOOT = 10  # with fewer valid bootstrap replicates no interval is reported


def huber_loss(r, delta, w):
    a = np.abs(r)
    with np.errstate(invalid="ignore"):  # delta = inf makes the unused branch inf - inf
        return (w * np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))).sum(-1)


def _irls_weights(r, delta, w):
    # psi(r) / r for the Huber loss; 1 inside delta, so delta = inf gives least squares
    return w * np.minimum(1.0, delta / np.maximum(np.abs(r), 1e-300))


def huber_line(x, y, w, delta, start, iters=500, tol=1e-12):
    """Huber regression y ~ c + m x by IRLS, batched over the leading axes of y, w and start.

    x: (n,); y, w: (..., n) (w = 0 drops a point); start: (..., 2) as (c, m).
    Returns (params (..., 2), loss (...)); NaN where the weighted x has < 2 distinct values.
    """
    batch = np.broadcast_shapes(np.shape(start)[:-1], np.shape(y)[:-1])
    params = np.array(np.broadcast_to(start, batch + (2,)), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(iters):
            omega = _irls_weights(y - params[..., :1] - params[..., 1:] * x, delta, w)
            s0, s1, s2 = omega.sum(-1), (omega * x).sum(-1), (omega * x * x).sum(-1)
            t0, t1 = (omega * y).sum(-1), (omega * x * y).sum(-1)
            det = s0 * s2 - s1 * s1
            slope = np.where(det > 1e-9 * s0 * s2, (s0 * t1 - s1 * t0) / det, np.nan)
            new = np.stack([(t0 - slope * s1) / s0, slope], -1)
            change = np.abs(new - params)
            params = new
            if np.max(change, where=np.isfinite(change), initial=0.0) < tol:
                break
        loss = huber_loss(y - params[..., :1] - params[..., 1:] * x, delta, w)
    return params, loss


def ols_line(x, y):
    """Least squares y ~ c + m x; returns (c, m), the classical and the HC3 covariance of (c, m)
    (None when n < 3 or a point has leverage 1: no residual to learn from), and n - 2."""
    X = np.stack([np.ones_like(x), x], 1)
    XtXi = np.linalg.inv(X.T @ X)
    beta = XtXi @ X.T @ y
    r = y - X @ beta
    lev = np.einsum("ij,jk,ik->i", X, XtXi, X)
    covs = None
    if x.size >= 3 and lev.max() < 1 - 1e-9:
        covs = [r @ r / (x.size - 2) * XtXi, XtXi @ (X.T @ (X * (r / (1 - lev))[:, None] ** 2)) @ XtXi]
    return beta, covs, x.size - 2


def line_variance(covs, v):
    """Variance of v . (log a, alpha): the larger of the classical and the HC3 estimate. HC3 alone
    is noisy with 15 runs (it can be half the classical one on homoscedastic data); the classical
    one misses noise that differs between sizes. The larger one covers in both cases (test_fit)."""
    return None if covs is None else max(float(v @ c @ v) for c in covs)


def fit_power_law(logN, logy, delta=0.1, starts=5):
    """Fit log y = log a + alpha log N by least squares (with the classical and HC3 covariances
    and the degrees of freedom), and by a Huber loss from a grid of starts x starts as a check."""
    x, y = np.asarray(logN, float), np.asarray(logy, float)
    if np.unique(x).size < 2:
        raise ValueError("a power law needs points at 2 distinct sizes or more")
    (log_a, alpha), covs, df = ols_line(x, y)
    alpha0, offset = np.meshgrid(np.linspace(0.0, 2.0, starts), np.linspace(-3.0, 3.0, starts))
    grid = np.stack([np.median(y) - alpha0 * np.median(x) + offset, alpha0], -1).reshape(-1, 2)
    params, loss = huber_line(x, y, np.ones_like(y), delta, grid)
    best = int(np.nanargmin(loss))
    return {"log_a": float(log_a), "alpha": float(alpha), "covs": covs, "df": df,
            "log_a_huber": float(params[best, 0]), "alpha_huber": float(params[best, 1]),
            "start_spread": float(np.nanmax(np.abs(params[:, 1] - params[best, 1])))}


def t_interval(estimate, variance, df):
    """95% t interval, or None without a variance or degrees of freedom."""
    if variance is None or df < 1 or not np.isfinite(variance):
        return None
    half = t_quantile(0.975, df) * float(np.sqrt(max(variance, 0.0)))
    return [float(estimate - half), float(estimate + half)]


def resample_runs(sizes, rng):
    """Run indices drawn with replacement within each model size; position i keeps size sizes[i]."""
    sizes = np.asarray(sizes)
    idx = np.arange(sizes.size)
    for s in np.unique(sizes):
        members = np.flatnonzero(sizes == s)
        idx[members] = rng.choice(members, size=members.size)
    return idx


def interval(samples):
    """95% percentile interval of the finite samples, or None when too few replicates succeeded."""
    s = np.asarray(samples, float)
    s = s[np.isfinite(s)]
    return [float(np.percentile(s, 2.5)), float(np.percentile(s, 97.5))] if s.size >= MIN_BOOT else None


# ----------------------------------------------------------------------------- censored points

def _log_sf(z):
    """log P(Z > z) for a standard normal Z, accurate far into both tails."""
    z = np.asarray(z, float)
    out = np.empty_like(z)
    far = z > 20  # erfc underflows past z ~ 38; the asymptotic series is exact to 1e-6 here
    out[~far] = np.log([0.5 * math.erfc(v / math.sqrt(2)) for v in z[~far]])
    zf = z[far]
    out[far] = -0.5 * zf * zf - np.log(zf * math.sqrt(2 * math.pi)) + np.log1p(-1 / zf**2 + 3 / zf**4)
    return out


def _mills(z):
    """phi(z) / P(Z > z), the inverse Mills ratio, from the log tail."""
    return np.exp(-0.5 * z * z - 0.5 * math.log(2 * math.pi) - _log_sf(z))


def _tobit(X, y, cens, iters=100):
    """Maximum likelihood of y = X beta + s eps (eps standard normal) where cens marks points
    known only to exceed y. In (beta / s, 1 / s) the log-likelihood is concave (Olsen 1978),
    so damped Newton converges from any start. Returns (beta, s, log-likelihood)."""
    obs = ~cens
    a = np.concatenate([-X, y[:, None]], 1)  # the residual r_i = h y_i - X_i g is a_i . (g, h)

    def loglik(theta):
        r = a @ theta
        if theta[-1] <= 0:
            return -np.inf
        return obs.sum() * np.log(theta[-1]) - 0.5 * (r[obs] ** 2).sum() + _log_sf(r[cens]).sum()

    beta0 = np.linalg.lstsq(X, y, rcond=None)[0]
    s0 = max(np.std(y - X @ beta0), 1e-3)
    theta = np.append(beta0 / s0, 1 / s0)
    ll = loglik(theta)
    for _ in range(iters):
        r = a @ theta
        d1, d2 = -r.copy(), -np.ones_like(r)
        lam = _mills(r[cens])
        d1[cens], d2[cens] = -lam, -lam * (lam - r[cens])
        grad = a.T @ d1
        hess = (a * d2[:, None]).T @ a
        grad[-1] += obs.sum() / theta[-1]
        hess[-1, -1] -= obs.sum() / theta[-1] ** 2
        step = np.linalg.solve(hess - 1e-12 * np.eye(len(theta)), -grad)
        t = 1.0
        while t > 1e-10:
            trial = theta + t * step
            ll_t = loglik(trial)
            if ll_t >= ll - 1e-12:
                break
            t /= 2
        else:
            break
        done = ll_t - ll < 1e-10
        theta, ll = trial, ll_t
        if done:
            break
    return theta[:-1] / theta[-1], 1 / theta[-1], float(ll)


def bounds(ci):
    """(lo, hi) of an interval whose ends may be unbounded (None, as censored_line gives them;
    no interval at all is unbounded both ways), as numbers to compare with."""
    ci = ci or (None, None)
    return (-np.inf if ci[0] is None else ci[0]), (np.inf if ci[1] is None else ci[1])


def censored_line(x, y, censored, level=0.95, max_half_width=20.0):
    """y = c + m x by maximum likelihood with normal scatter, where censored points are lower
    bounds (a run that saw no onset by its last checkpoint: its onset is later). The interval
    of m is where the profile log-likelihood stays within n log(1 + t^2 / df) / 2 of its
    maximum (n points, df = uncensored points - 2): without censoring that is exactly the
    least-squares t interval. An end the data do not bound (e.g. every point of the largest
    sizes censored bounds the slope from below only) is None. Returns dict c, m, s, m_ci, n_obs.
    tests/test_fit.py measures its coverage on simulated censored studies."""
    x, y, cens = np.asarray(x, float), np.asarray(y, float), np.asarray(censored, bool)
    n_obs = int((~cens).sum())
    if n_obs < 2 or np.unique(x).size < 2:
        raise ValueError("a censored line needs 2 uncensored points and 2 distinct x or more")
    X = np.stack([np.ones_like(x), x], 1)
    (c, m), s, ll = _tobit(X, y, cens)
    df = n_obs - 2
    if df < 1:
        return {"c": float(c), "m": float(m), "s": float(s), "m_ci": None, "n_obs": n_obs}
    drop = 0.5 * x.size * np.log1p(t_quantile(0.5 + level / 2, df) ** 2 / df)

    def below(slope):  # the profile is below the cut at this slope
        return ll - _tobit(X[:, :1], y - slope * x, cens)[2] > drop

    spread = max(np.ptp(x), 1e-12)
    ends = []
    for sign in (-1.0, 1.0):
        step, inside = s / spread, 0.0
        while not below(m + sign * step):
            inside, step = step, 2 * step
            if step > max_half_width:
                break
        if step > max_half_width:
            ends.append(None)
            continue
        lo, hi = inside, step
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if below(m + sign * mid) else (mid, hi)
        ends.append(float(m + sign * 0.5 * (lo + hi)))
    return {"c": float(c), "m": float(m), "s": float(s), "m_ci": ends, "n_obs": n_obs}


def calibrate_censored(alphas=(0.8, 2.0, 3.0, 4.0), sds=(0.3, 0.5), n_studies=200, seed=0,
                       sizes=(888, 1107, 1350, 1617, 1908), runs=4, first=4e6, last=4e7):
    """Simulated studies of a design (runs per size, onsets first * (N / N_0)^alpha with normal
    scatter sd in log onset, runs stopped at `last` tokens) with a known alpha: per (alpha, sd),
    the share of runs censored and, for least squares over the seen onsets and for the censored
    fit, the median alpha and the coverage of its 95% interval. `python fit.py --calibrate`."""
    rng = np.random.default_rng(seed)
    x = np.log(np.repeat(np.asarray(sizes, float), runs))
    rows = []
    for alpha in alphas:
        for sd in sds:
            cens_share, cf, cf_cover, ls, ls_cover = [], [], [], [], []
            for _ in range(n_studies):
                y = np.log(first) + alpha * (x - x[0]) + rng.normal(0, sd, x.size)
                cens = y > np.log(last)
                cens_share.append(cens.mean())
                if (~cens).sum() >= 3 and np.unique(x[~cens]).size >= 2:
                    line = censored_line(x, np.where(cens, np.log(last), y), cens)
                    lo, hi = bounds(line["m_ci"])
                    cf.append(line["m"])
                    cf_cover.append(lo <= alpha <= hi)
                    (_, m), covs, df = ols_line(x[~cens], y[~cens])
                    ci = t_interval(m, line_variance(covs, np.array([0.0, 1.0])), df)
                    ls.append(m)
                    ls_cover.append(ci is not None and ci[0] <= alpha <= ci[1])
            rows.append({"alpha": alpha, "sd": sd, "censored": float(np.mean(cens_share)), "studies": len(cf),
                         "censored_fit_median": float(np.median(cf)), "censored_fit_coverage": float(np.mean(cf_cover)),
                         "least_squares_median": float(np.median(ls)), "least_squares_coverage": float(np.mean(ls_cover))})
    return rows


def alpha_difference_ci(g1, g2):
    """95% interval of alpha1 - alpha2 for two independently fitted groups (Welch-Satterthwaite
    degrees of freedom), or None when either has no standard error."""
    if g1["alpha_se"] is None or g2["alpha_se"] is None or min(g1["df"], g2["df"]) < 1:
        return None
    v1, v2 = g1["alpha_se"] ** 2, g2["alpha_se"] ** 2
    df = (v1 + v2) ** 2 / (v1 ** 2 / g1["df"] + v2 ** 2 / g2["df"]) if v1 + v2 > 0 else 1
    return t_interval(g1["alpha"] - g2["alpha"], v1 + v2, int(df))
