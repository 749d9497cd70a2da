//! Compile-checks and runs the `qcity energy` CLI shim without the lead's binary.
#[path = "../../../qcity/src/cmd/energy.rs"]
mod cmd;
use clap::Parser;
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: cmd::EnergyCommand,
}
fn main() -> anyhow::Result<()> {
    cmd::run(Cli::parse().cmd)
}
