//! `wifiprov`: provision headless Wi-Fi devices, both ends (the command line; `main.rs` only calls
//! [`run`]).
//!
//! A thin binary: arguments → validated configuration → library calls. Exit codes: 0 success,
//! 1 error (bad input, I/O), 2 usage error, 3 nothing found (no credentials decoded, no device
//! answered).

mod airkiss;
mod args;
mod ble;
mod blufi;
mod decode;
mod device;
mod esptouch;
mod esptouch_v2;
mod observations;
mod output;
mod softap;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser as _;

pub mod fuzzing;

/// Exit status when the command ran but found nothing.
pub(crate) const EXIT_NOTHING: u8 = 3;

/// A run that ended without the result the user asked for (not an error of the tool).
#[derive(Debug)]
pub(crate) struct NothingFound(pub(crate) String);

impl std::fmt::Display for NothingFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NothingFound {}

/// Set by Ctrl-C; long-running commands poll it.
pub(crate) fn stop_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = Arc::clone(&flag);
        if let Err(e) = ctrlc::set_handler(move || {
            if handler_flag.swap(true, Ordering::SeqCst) {
                // Second Ctrl-C: the user means it.
                std::process::exit(130);
            }
        }) {
            eprintln!("warning: cannot install the Ctrl-C handler: {e}");
        }
        flag
    })
    .clone()
}

/// Parses the command line, runs the command, maps the outcome to the exit status.
#[must_use]
pub fn run() -> ExitCode {
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Esptouch(cmd) => esptouch::run(cmd),
        args::Command::Airkiss(cmd) => airkiss::run(cmd),
        args::Command::Decode(cmd) => decode::run(&cmd),
        args::Command::Device(cmd) => device::run(&cmd),
        args::Command::Softap(cmd) => softap::run(&cmd),
        args::Command::Ble(cmd) => ble::run(&cmd),
        args::Command::Blufi(cmd) => blufi::run(&cmd),
        args::Command::GenCred(cmd) => softap::gen_cred(&cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(nothing) = e.downcast_ref::<NothingFound>() {
                eprintln!("wifiprov: {nothing}");
                return ExitCode::from(EXIT_NOTHING);
            }
            eprintln!("wifiprov: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
