//! Compile-checks and runs the `qcity survey` shim without the lead's binary.
#[path = "../../../qcity/src/cmd/survey.rs"]
mod cmd;
use clap::Parser;
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: cmd::SurveyCommand,
}
fn main() -> anyhow::Result<()> {
    cmd::run(Cli::parse().cmd)
}
