//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// Path of a file under `core/tests/fixtures`.
#[allow(dead_code)] // each test module uses a different subset
pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(relative)
}

/// Path of a file under the repository's `examples` folder.
#[allow(dead_code)] // each test module uses a different subset
pub fn example(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples").join(relative)
}
