//! Crash consistency of the device's credential store: a child process saves new states in a
//! loop and is SIGKILLed at a random moment, 100 times; after every kill a fresh `Store::open` +
//! `load` must find a whole state, never a torn file: the last state whose save returned, or the
//! one that was being written, and no temporary file left behind.
//!
//! The child is this test binary itself, run again with `WIFIPROV_STORE_CHILD` set. Seeded: the
//! seed is printed; `WIFIPROV_SEED=N` repeats a run.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use wifiprov_transport::device::store::{Store, Stored};

const KILLS: usize = 100;

/// State number `n`: every field derived from `n`, the password long enough that a write takes
/// several pages, so that a kill can land inside one.
fn state(n: u64) -> Stored {
    let tag = format!("{n:016x}");
    Stored {
        method: "esptouch-v1".into(),
        ssid_hex: tag.clone(),
        password_hex: tag.repeat(512),
        bssid: Some(format!(
            "02:00:00:00:{:02x}:{:02x}",
            (n >> 8) & 0xff,
            n & 0xff
        )),
        reserved_hex: Some(tag.repeat(64)),
    }
}

/// Which state a loaded value is (None: it is not any state's exact value — torn or mixed).
fn number_of(stored: &Stored) -> Option<u64> {
    let n = u64::from_str_radix(&stored.ssid_hex, 16).ok()?;
    (*stored == state(n)).then_some(n)
}

/// Child mode: saves states `start`, `start+1`, … forever, reporting each on stderr (unbuffered; the harness
/// writes its own lines to stdout) before
/// (`begin N`) and after (`saved N`) the save.
#[test]
fn child_writer() {
    let Ok(dir) = std::env::var("WIFIPROV_STORE_CHILD") else {
        return; // Only the parent test runs this process in child mode.
    };
    let start: u64 = std::env::var("WIFIPROV_STORE_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let store = Store::open(Path::new(&dir)).expect("child: open");
    for n in start.. {
        eprintln!("begin {n}");
        store.save(&state(n)).expect("child: save");
        eprintln!("saved {n}");
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn sigkill_while_saving_never_tears_the_credentials() {
    if std::env::var_os("WIFIPROV_STORE_CHILD").is_some() {
        return;
    }
    let seed = std::env::var("WIFIPROV_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 | 1)
        });
    println!("seed {seed} (WIFIPROV_SEED={seed} repeats this run)");
    let mut rng = Rng(seed);
    let dir = std::env::temp_dir().join(format!("wifiprov-store-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir).expect("open");
    store.save(&state(0)).expect("initial state");
    let exe = std::env::current_exe().expect("test binary");

    let mut previous = 0_u64; // the state found after the last kill
    let mut mid_write = 0_usize;
    for kill in 0..KILLS {
        let start = previous + 1;
        let mut child = Command::new(&exe)
            .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
            .env("WIFIPROV_STORE_CHILD", &dir)
            .env("WIFIPROV_STORE_START", start.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the writer");
        let stdout = child.stderr.take().expect("stderr");
        // Lines arrive on a channel, so that waiting for the first save never blocks forever.
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Let the writer get going (its first `begin`), then kill it at a random moment.
        let first = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.starts_with("begin ") => break Ok(line),
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        };
        assert!(
            first.is_ok(),
            "kill {kill}: the writer did not start: {first:?}"
        );
        std::thread::sleep(Duration::from_micros(rng.next() % 20_000));
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid")),
            nix::sys::signal::Signal::SIGKILL,
        )
        .expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(!status.success(), "kill {kill}: the writer was killed");
        reader.join().expect("reader");
        let lines: Vec<String> = first.into_iter().chain(rx.try_iter()).collect();
        let last_saved = lines
            .iter()
            .filter_map(|l| l.strip_prefix("saved "))
            .filter_map(|n| n.parse::<u64>().ok())
            .max()
            .unwrap_or(previous);
        let last_begun = lines
            .iter()
            .filter_map(|l| l.strip_prefix("begin "))
            .filter_map(|n| n.parse::<u64>().ok())
            .max()
            .unwrap_or(previous);
        if last_begun > last_saved {
            mid_write += 1;
        }

        // The restart: a fresh open (which clears the dead writer's temporary) and load.
        let reopened = Store::open(&dir).expect("reopen");
        let loaded = reopened
            .load()
            .unwrap_or_else(|e| panic!("kill {kill} (seed {seed}): unreadable store: {e}"))
            .unwrap_or_else(|| panic!("kill {kill} (seed {seed}): the credentials are gone"));
        let n = number_of(&loaded)
            .unwrap_or_else(|| panic!("kill {kill} (seed {seed}): a torn or mixed state"));
        assert!(
            n == last_saved || n == last_saved + 1 && n == last_begun,
            "kill {kill} (seed {seed}): found state {n}, but the last completed save was \
             {last_saved} and the one in progress {last_begun}; the writer said {lines:?}"
        );
        let entries: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            entries.len(),
            1,
            "kill {kill}: only the credentials file remains: {entries:?}"
        );
        previous = n;
    }
    println!(
        "{KILLS}/{KILLS} kills left a whole state ({mid_write} landed between `begin` and \
         `saved` of a save; last state {previous})"
    );
    assert!(
        mid_write > 0,
        "no kill landed inside a save: the test did not test anything"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
