//! The tasks and their flags, typed (clap): `cargo xtask --help` lists them,
//! `cargo xtask TASK --help` explains one.

use clap::{Parser, Subcommand, ValueEnum};

/// Project automation for Keystack.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
pub(crate) struct Xtask {
    #[command(subcommand)]
    pub(crate) task: Task,
}

/// One task.
#[derive(Debug, Subcommand)]
pub(crate) enum Task {
    /// cargo fmt --check, tidy, clippy -D warnings, cargo-deny, each crate on
    /// its own, every workspace test with the emulators up, then the demo.
    /// This is what CI runs.
    Test,
    /// The service emulators the backends' suites run against.
    Emulators {
        #[command(subcommand)]
        action: EmulatorAction,
    },
    /// The coverage-guided fuzz targets in fuzz/ (libFuzzer, stable toolchain).
    Fuzz {
        /// Seconds of new inputs per target.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
        seconds: u64,
        /// The targets to run (default: all).
        targets: Vec<FuzzTarget>,
    },
    /// ZenML's walk-through on the local backend, in a temporary project.
    Demo {
        /// Keep the temporary project afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// Release binaries on local stores of 10 and 10,000 secrets, validation
    /// against a 50 ms-latency manager and moto, side by side with fnox on
    /// moto, the Python package, the criterion benchmarks:
    /// one table, also in target/bench/report.md.
    Bench {
        /// Debug build and few runs, as CI runs it.
        #[arg(long)]
        quick: bool,
        /// Only these groups of rows (default: all).
        #[arg(long, value_delimiter = ',', value_parser = ["cli", "masking", "validation", "peers", "python", "library"])]
        only: Vec<String>,
    },
}

/// What `cargo xtask emulators` does.
#[derive(Debug, Clone, Copy, Subcommand)]
pub(crate) enum EmulatorAction {
    /// Create or reuse the virtualenv with every emulator's pinned requirements.
    Install,
    /// Start every emulator not running yet; print their variables as `export` lines.
    Up,
    /// Stop exactly the processes `up` started.
    Down,
    /// Which emulators run, on which ports.
    Status,
}

/// A fuzz target of fuzz/.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FuzzTarget {
    /// The `{{name.key}}` reference parser.
    Reference,
    /// The YAML loaders of components, stacks and flavors.
    Yaml,
    /// `--KEY=VALUE` parsing.
    Pairs,
    /// The payloads remote backends read back (Keystack's and ZenML's).
    Payload,
}

impl FuzzTarget {
    /// The target's name in fuzz/.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Reference => "reference",
            Self::Yaml => "yaml",
            Self::Pairs => "pairs",
            Self::Payload => "payload",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn flags_are_consistent() {
        super::Xtask::command().debug_assert();
    }
}
