//! The `floe` binary: parses the command line and hands over to [`floe::cli`].

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = floe::cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(floe::cli::run(cli))
}
