//! The statistics the analysis needs, written out here so that every number in a report can
//! be followed to a formula: percentiles, least squares with a t-test, the regularized
//! incomplete beta and gamma functions, binomial tails, Poisson and negative-binomial
//! quantiles, and ROC AUC.

use super::report::Distribution;

/// Rounds to `decimals` places; turns `-0.0` into `0.0` so the JSON never shows `-0.0`.
pub fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let rounded = (value * scale).round() / scale;
    if rounded == 0.0 || !rounded.is_finite() {
        0.0
    } else {
        rounded
    }
}

/// Rounds to the four decimals every reported measurement uses.
pub fn round4(value: f64) -> f64 {
    round(value, 4)
}

/// The `p`-quantile (`p` in 0..=1) of sorted values by linear interpolation between the
/// closest ranks: position `h = (n - 1) p`, then `x[floor h]` plus the fraction of the way
/// to the next value. `None` for no values.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = last as f64 * p.clamp(0.0, 1.0);
    let below = position.floor() as usize;
    let above = (below + 1).min(last);
    let fraction = position - below as f64;
    Some(sorted[below] + fraction * (sorted[above] - sorted[below]))
}

/// The median of unsorted values, reordering them; `None` for no values.
pub fn median_in_place(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, &mut upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return Some(upper);
    }
    // After selection everything left of n/2 is no larger, so its maximum is the other
    // middle value.
    let lower = values[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

/// Count, median, p80, p90 and mean of durations in days, rounded to 4 decimals.
pub fn distribution(mut values: Vec<f64>) -> Distribution {
    values.sort_unstable_by(f64::total_cmp);
    let count = values.len() as u64;
    let mean = (count > 0).then(|| values.iter().sum::<f64>() / count as f64);
    Distribution {
        count,
        median: percentile_sorted(&values, 0.5).map(round4),
        p80: percentile_sorted(&values, 0.8).map(round4),
        p90: percentile_sorted(&values, 0.9).map(round4),
        mean: mean.map(round4),
    }
}

/// Arithmetic mean and sample variance (divisor n - 1); `None` with fewer than 2 values.
pub fn mean_and_variance(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let squares = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>();
    Some((mean, squares / (n - 1) as f64))
}

/// A least-squares line through `(i, y[i])` for `i = 0, 1, ...`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    /// Change of `y` per step of `i`.
    pub slope: f64,
    /// Two-sided p-value of the t-test of slope = 0 with n - 2 degrees of freedom;
    /// `None` with fewer than 3 points.
    pub p_value: Option<f64>,
}

/// Fits `y` against its index by ordinary least squares.
pub fn fit_line(y: &[f64]) -> LineFit {
    let n = y.len();
    if n < 2 {
        return LineFit { slope: 0.0, p_value: None };
    }
    let mean_x = (n - 1) as f64 / 2.0;
    let mean_y = y.iter().sum::<f64>() / n as f64;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (i, value) in y.iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxx += dx * dx;
        sxy += dx * (value - mean_y);
    }
    let slope = sxy / sxx;
    if n < 3 {
        return LineFit { slope, p_value: None };
    }
    let intercept = mean_y - slope * mean_x;
    let sse: f64 =
        y.iter().enumerate().map(|(i, value)| (value - intercept - slope * i as f64).powi(2)).sum();
    let df = (n - 2) as f64;
    let standard_error = (sse / df / sxx).sqrt();
    // A perfect fit leaves no error: any non-zero slope is then certain.
    let p_value = if standard_error <= f64::EPSILON * slope.abs().max(1.0) {
        if slope.abs() > 1e-12 {
            0.0
        } else {
            1.0
        }
    } else {
        student_t_two_sided(slope / standard_error, df)
    };
    LineFit { slope, p_value: Some(p_value) }
}

/// P(|T| >= |t|) for Student's t with `df` degrees of freedom:
/// `I_x(df/2, 1/2)` with `x = df / (df + t^2)`.
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    beta_regularized(df / 2.0, 0.5, df / (df + t * t))
}

/// Natural log of the gamma function for `x > 0` (Lanczos approximation, g = 7, accurate
/// to about 15 digits).
pub fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the series in its accurate range.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

const TINY: f64 = 1e-300;
const EPSILON: f64 = 1e-15;
const MAX_ITERATIONS: usize = 100_000;

/// The regularized incomplete beta function `I_x(a, b)` for `a, b > 0`.
pub fn beta_regularized(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges fast only on this side of the mean; use the
    // symmetry I_x(a, b) = 1 - I_{1-x}(b, a) on the other.
    if x < (a + 1.0) / (a + b + 2.0) {
        (ln_front.exp() * beta_fraction(a, b, x) / a).clamp(0.0, 1.0)
    } else {
        (1.0 - ln_front.exp() * beta_fraction(b, a, 1.0 - x) / b).clamp(0.0, 1.0)
    }
}

/// Continued fraction of the incomplete beta function, evaluated by Lentz's method.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..=MAX_ITERATIONS {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPSILON {
            break;
        }
    }
    h
}

/// The regularized upper incomplete gamma function `Q(a, x) = Γ(a, x) / Γ(a)`.
pub fn gamma_upper_regularized(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let ln_front = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        // Series for the lower function, converging fast below the mean.
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut denominator = a;
        for _ in 0..MAX_ITERATIONS {
            denominator += 1.0;
            term *= x / denominator;
            sum += term;
            if term.abs() < sum.abs() * EPSILON {
                break;
            }
        }
        return (1.0 - sum * ln_front.exp()).clamp(0.0, 1.0);
    }
    (ln_front.exp() * gamma_fraction(a, x)).clamp(0.0, 1.0)
}

/// Continued fraction of the upper incomplete gamma function (Lentz's method).
fn gamma_fraction(a: f64, x: f64) -> f64 {
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / guard(b);
    let mut h = d;
    for i in 1..=MAX_ITERATIONS {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = 1.0 / guard(an * d + b);
        c = guard(b + an / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPSILON {
            break;
        }
    }
    h
}

/// P(X >= k) for X ~ Binomial(n, p), through `I_p(k, n - k + 1)`.
pub fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    beta_regularized(k as f64, (n - k + 1) as f64, p)
}

/// P(X <= k) for X ~ Poisson(mean).
pub fn poisson_cdf(k: u64, mean: f64) -> f64 {
    if mean <= 0.0 {
        return 1.0;
    }
    gamma_upper_regularized(k as f64 + 1.0, mean)
}

/// P(X <= k) for a negative binomial with the given mean and variance `dispersion * mean`
/// (`dispersion > 1`): `I_p(r, k + 1)` with `p = 1 / dispersion`, `r = mean / (dispersion - 1)`.
pub fn negative_binomial_cdf(k: u64, mean: f64, dispersion: f64) -> f64 {
    if mean <= 0.0 {
        return 1.0;
    }
    let p = 1.0 / dispersion;
    let r = mean / (dispersion - 1.0);
    beta_regularized(r, k as f64 + 1.0, p)
}

/// The smallest `k` with `cdf(k) >= q`, for a non-decreasing `cdf` over 0, 1, 2, ...
pub fn discrete_quantile(q: f64, guess_high: f64, cdf: impl Fn(u64) -> f64) -> u64 {
    let mut high = guess_high.max(1.0).ceil() as u64;
    // Widen until the bracket holds the quantile; the cap stops runaway on absurd input.
    for _ in 0..64 {
        if cdf(high) >= q || high >= u64::MAX / 4 {
            break;
        }
        high *= 2;
    }
    let mut low = 0u64;
    while low < high {
        let middle = low + (high - low) / 2;
        if cdf(middle) >= q {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    low
}

/// The `q`-quantile of Poisson(mean).
pub fn poisson_quantile(mean: f64, q: f64) -> u64 {
    if mean <= 0.0 || !mean.is_finite() {
        return 0;
    }
    discrete_quantile(q, mean + 10.0 * mean.sqrt() + 10.0, |k| poisson_cdf(k, mean))
}

/// The `q`-quantile of the negative binomial with `mean` and variance `dispersion * mean`;
/// Poisson when `dispersion <= 1`.
pub fn negative_binomial_quantile(mean: f64, dispersion: f64, q: f64) -> u64 {
    if dispersion <= 1.0 || !dispersion.is_finite() {
        return poisson_quantile(mean, q);
    }
    if mean <= 0.0 || !mean.is_finite() {
        return 0;
    }
    let spread = (dispersion * mean).sqrt();
    discrete_quantile(q, mean + 10.0 * spread + 10.0, |k| {
        negative_binomial_cdf(k, mean, dispersion)
    })
}

/// ROC AUC of `scores` for the binary `outcomes` by the Mann-Whitney statistic: the share
/// of (positive, negative) pairs where the positive scores higher, ties counted half.
/// `None` unless there is at least one positive and one negative.
pub fn auc(scores: &[f64], outcomes: &[bool]) -> Option<f64> {
    let positives = outcomes.iter().filter(|&&o| o).count();
    let negatives = outcomes.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start + 1 ..= end share their average.
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| outcomes[i]).count();
        positive_rank_sum += average_rank * tied_positives as f64;
        start = end;
    }
    let p = positives as f64;
    Some((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!((actual - expected).abs() <= tolerance, "{actual} is not {expected} ± {tolerance}");
    }

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        close(ln_gamma(1.0), 0.0, 1e-13);
        close(ln_gamma(5.0), 24f64.ln(), 1e-12);
        close(ln_gamma(11.0), 3_628_800f64.ln(), 1e-11);
        close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-13);
        close(ln_gamma(0.25), 3.625_609_908_221_908_f64.ln(), 1e-12);
    }

    #[test]
    fn incomplete_beta_matches_closed_forms() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b.
        close(beta_regularized(1.0, 1.0, 0.3), 0.3, 1e-13);
        close(beta_regularized(3.0, 1.0, 0.4), 0.064, 1e-13);
        close(beta_regularized(1.0, 4.0, 0.2), 1.0 - 0.8f64.powi(4), 1e-13);
        // I_x(2, 3) = 6x^2 - 8x^3 + 3x^4 (a polynomial in x).
        let x: f64 = 0.7;
        close(
            beta_regularized(2.0, 3.0, x),
            6.0 * x * x - 8.0 * x.powi(3) + 3.0 * x.powi(4),
            1e-13,
        );
    }

    #[test]
    fn student_t_matches_closed_forms_for_one_and_two_degrees() {
        // df = 1 (Cauchy): P(|T| >= t) = 1 - 2 atan(t) / pi.
        close(student_t_two_sided(1.0, 1.0), 0.5, 1e-12);
        close(student_t_two_sided(3.0, 1.0), 1.0 - 2.0 * 3f64.atan() / std::f64::consts::PI, 1e-12);
        // df = 2: P(|T| >= t) = 1 - t / sqrt(2 + t^2).
        close(student_t_two_sided(2.0, 2.0), 1.0 - 2.0 / 6f64.sqrt(), 1e-12);
        close(student_t_two_sided(-2.0, 2.0), 1.0 - 2.0 / 6f64.sqrt(), 1e-12);
        close(student_t_two_sided(0.0, 7.0), 1.0, 1e-12);
    }

    #[test]
    fn student_t_matches_tabled_critical_values() {
        // Two-sided 5% critical values from the t table: 2.228 (df 10), 2.042 (df 30).
        close(student_t_two_sided(2.228_138_85, 10.0), 0.05, 1e-6);
        close(student_t_two_sided(2.042_272_46, 30.0), 0.05, 1e-6);
        // Two-sided 1% critical value for df 5: 4.032.
        close(student_t_two_sided(4.032_142_98, 5.0), 0.01, 1e-6);
    }

    #[test]
    fn binomial_tail_matches_direct_sums() {
        // P(X >= 3) for Binomial(4, 1/4) = 4 * (1/4)^3 * 3/4 + (1/4)^4 = 13/256.
        close(binomial_upper_tail(3, 4, 0.25), 13.0 / 256.0, 1e-13);
        // P(X >= 1) for Binomial(10, 1/4) = 1 - (3/4)^10.
        close(binomial_upper_tail(1, 10, 0.25), 1.0 - 0.75f64.powi(10), 1e-13);
        assert_eq!(binomial_upper_tail(0, 10, 0.25), 1.0);
        assert_eq!(binomial_upper_tail(11, 10, 0.25), 0.0);
    }

    #[test]
    fn poisson_cdf_and_quantiles_match_hand_sums() {
        // Poisson(3): P(0) = e^-3 = 0.0498, P(<=1) = 4 e^-3 = 0.1991, P(<=4) = 0.8153,
        // P(<=5) = 0.9161; so the 10% quantile is 1 and the 90% quantile 5.
        let e3 = (-3f64).exp();
        close(poisson_cdf(1, 3.0), 4.0 * e3, 1e-13);
        close(poisson_cdf(4, 3.0), e3 * (1.0 + 3.0 + 4.5 + 4.5 + 3.375), 1e-13);
        assert_eq!(poisson_quantile(3.0, 0.1), 1);
        assert_eq!(poisson_quantile(3.0, 0.9), 5);
        assert_eq!(poisson_quantile(0.0, 0.9), 0);
        // Large means stay exact-enough and fast: Poisson(10000) has sd 100, so its 10%
        // and 90% quantiles sit about 128 either side of the mean.
        let low = poisson_quantile(10_000.0, 0.1);
        let high = poisson_quantile(10_000.0, 0.9);
        assert!((9_868..=9_874).contains(&low), "{low}");
        assert!((10_126..=10_132).contains(&high), "{high}");
    }

    #[test]
    fn negative_binomial_with_dispersion_two_is_geometric_for_mean_one() {
        // Mean 1, variance 2: r = 1, p = 1/2, the geometric distribution on 0, 1, ...
        // with P(X <= k) = 1 - (1/2)^(k + 1).
        close(negative_binomial_cdf(0, 1.0, 2.0), 0.5, 1e-13);
        close(negative_binomial_cdf(2, 1.0, 2.0), 0.875, 1e-13);
        assert_eq!(negative_binomial_quantile(1.0, 2.0, 0.1), 0);
        // 1 - 2^-(k+1) >= 0.9 first at k = 3 (0.9375).
        assert_eq!(negative_binomial_quantile(1.0, 2.0, 0.9), 3);
        // No over-dispersion falls back to Poisson.
        assert_eq!(negative_binomial_quantile(3.0, 0.8, 0.9), 5);
    }

    #[test]
    fn percentiles_interpolate_between_closest_ranks() {
        let values = [1.0, 2.0, 4.0, 10.0];
        assert_eq!(percentile_sorted(&values, 0.5), Some(3.0));
        // h = 3 * 0.8 = 2.4: 4 + 0.4 * 6 = 6.4.
        close(percentile_sorted(&values, 0.8).unwrap_or(0.0), 6.4, 1e-12);
        assert_eq!(percentile_sorted(&[], 0.5), None);
        assert_eq!(median_in_place(&mut [5.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median_in_place(&mut [5.0, 1.0, 3.0]), Some(3.0));
    }

    #[test]
    fn line_fit_gives_slope_and_t_test() {
        // y = 2i exactly: slope 2, certain.
        let fit = fit_line(&[0.0, 2.0, 4.0, 6.0]);
        close(fit.slope, 2.0, 1e-12);
        assert_eq!(fit.p_value, Some(0.0));
        // y = 1, 3, 2: slope 0.5, residuals -0.5, 1, -0.5 give SSE 1.5, se sqrt(1.5 / 2) =
        // 0.866, t = 0.577 with 1 df: p = 1 - 2 atan(0.577) / pi = 2/3.
        let fit = fit_line(&[1.0, 3.0, 2.0]);
        close(fit.slope, 0.5, 1e-12);
        close(fit.p_value.unwrap_or(0.0), 2.0 / 3.0, 1e-9);
        assert_eq!(fit_line(&[1.0, 2.0]).p_value, None);
    }

    #[test]
    fn auc_counts_ties_half() {
        // Pairs (pos, neg): (0.9, 0.1) win, (0.9, 0.5) win, (0.5, 0.1) win, (0.5, 0.5) tie.
        let auc = auc(&[0.9, 0.5, 0.5, 0.1], &[true, true, false, false]);
        assert_eq!(auc, Some(3.5 / 4.0));
        assert_eq!(super::auc(&[1.0, 2.0], &[true, true]), None);
    }

    #[test]
    fn rounding_never_gives_negative_zero() {
        assert_eq!(round(-0.00001, 4).to_string(), "0");
        assert_eq!(round(2.345_67, 1), 2.3);
        assert_eq!(round4(f64::NAN), 0.0);
    }
}
