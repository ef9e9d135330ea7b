//! The bug-risk analysis: pure and deterministic, from issues and parameters to a report.

pub mod params;
pub mod report;

pub use params::{AreaField, Filters, Params, Period, RiskWeights, Window};
pub use report::Report;

use crate::model::Issue;
use crate::Result;

/// Analyses `issues` with `params`.
///
/// The same issues and parameters always give the same report, byte for byte once
/// serialised.
pub fn analyze(issues: &[Issue], params: &Params) -> Result<Report> {
    let _ = (issues, params);
    Err(crate::Error::invalid("analysis", "not built yet"))
}
