//! One module per subcommand, each with its clap arguments and a `run` method.

pub mod analyze;
