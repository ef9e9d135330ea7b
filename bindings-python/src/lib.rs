//! The native part of the `bugdash` Python module (`bugdash._bugdash`): thin wrappers
//! over the core's readers, analysis, JIRA client and store.
//!
//! Every rule lives in core; this crate converts Python values to core parameters and
//! core values to Python ones, releases the interpreter lock around heavy calls, and
//! turns core errors into one exception hierarchy (`errors`). The pure-Python package
//! `bugdash` (in `python/bugdash/`) re-exports these and builds the pandas frames.

mod columns;
mod errors;
mod issues;
mod jira;
mod options;
mod report;
mod runtime;
mod store;

use pyo3::prelude::*;

/// The native module; `import bugdash` is the way in.
#[pymodule]
#[pyo3(name = "_bugdash")]
fn native_module(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("BugDashError", py.get_type::<errors::BugDashError>())?;
    module.add("InputError", py.get_type::<errors::InputError>())?;
    module.add("JiraError", py.get_type::<errors::JiraError>())?;
    module.add("StoreError", py.get_type::<errors::StoreError>())?;
    module.add_class::<issues::Issues>()?;
    module.add_class::<report::Report>()?;
    module.add_class::<jira::Jira>()?;
    module.add_class::<store::Store>()?;
    module.add_function(wrap_pyfunction!(issues::_load, module)?)?;
    module.add_function(wrap_pyfunction!(issues::_issues_from_json, module)?)?;
    module.add_function(wrap_pyfunction!(report::_report_from_json, module)?)?;
    module.add_function(wrap_pyfunction!(report::analyze, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
