//! The `floe` binary: parses the command line and hands over to [`floe::cli`].

use clap::Parser;

// glibc's allocator spent a fifth of the time of an authenticated list request in
// malloc/free under load (many small allocations across the runtime and the database
// threads); mimalloc measured much faster there. See bench/ and the README.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = floe::cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(floe::cli::run(cli))
}
