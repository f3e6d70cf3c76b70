//! The `wifiprov` binary: everything is in the library ([`wifiprov::run`]).

fn main() -> std::process::ExitCode {
    wifiprov::run()
}
