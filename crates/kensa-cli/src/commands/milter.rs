//! `kensa milter --config kensa.toml`: the mail gateway (Postfix `smtpd_milters`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use kensa_milter::config::Listen;
use kensa_milter::{Config, Milter, serve};

#[derive(Args)]
pub struct MilterArgs {
    /// The configuration file (listen address, quarantine store, policy; see docs/milter.md).
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,

    /// Check the configuration and the store, print what would be used, and exit.
    #[arg(long)]
    check: bool,
}

pub fn run(args: MilterArgs) -> anyhow::Result<u8> {
    let cfg = Config::load(&args.config)?;
    let listen = match &cfg.listen {
        Listen::Inet(a) => format!("inet:{a}"),
        Listen::Unix(p) => format!("unix:{}", p.display()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let milter = Milter::new(cfg).await?;
        eprintln!(
            "kensa milter: {listen}, store {}, on_error {}, scan timeout {:?}, {} scans at once",
            milter.store.describe(),
            milter.config.on_error,
            milter.config.scan_timeout,
            milter.config.max_scans
        );
        if args.check {
            return Ok(0);
        }
        serve(milter).await?;
        Ok(0)
    })
}
