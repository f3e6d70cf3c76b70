//! The device's credential store: one JSON file, replaced atomically (write a temporary file,
//! fsync, rename, fsync the directory), mode 0600. A crash at any point leaves the old or the new
//! file, never a torn one (`tests/store_crash.rs` SIGKILLs a writer 100 times to check it). A
//! temporary file left by a killed writer holds a password: [`Store::open`] removes it.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The stored network. The password (and the reserved data) are zeroized on drop; `Debug` shows
/// their lengths only.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stored {
    /// Method that delivered it.
    pub method: String,
    /// SSID bytes, hex.
    pub ssid_hex: String,
    /// Password bytes, hex.
    pub password_hex: String,
    /// BSSID named by the phone, if any.
    pub bssid: Option<String>,
    /// ESP-TOUCH v2 reserved (custom) data for the application, hex (absent for other methods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_hex: Option<String>,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("method", &self.method)
            .field("ssid_hex", &self.ssid_hex)
            .field("password_hex_len", &self.password_hex.len())
            .field("bssid", &self.bssid)
            .field(
                "reserved_hex_len",
                &self.reserved_hex.as_ref().map(String::len),
            )
            .finish()
    }
}

impl Drop for Stored {
    fn drop(&mut self) {
        self.password_hex.zeroize();
        self.reserved_hex.zeroize();
    }
}

impl ZeroizeOnDrop for Stored {}

/// Store failure.
#[derive(Debug, thiserror::Error)]
#[error("credential store {path}: {source}")]
pub struct StoreError {
    /// The file or directory.
    pub path: PathBuf,
    /// The I/O or format error.
    pub source: std::io::Error,
}

/// Credentials file in a state directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

const FILE: &str = "credentials.json";

impl Store {
    /// A store in `dir` (created with mode 0700 if missing).
    ///
    /// # Errors
    /// If the directory cannot be created.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let err = |source| StoreError {
            path: dir.to_owned(),
            source,
        };
        fs::create_dir_all(dir).map_err(err)?;
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
        let store = Self {
            dir: dir.to_owned(),
        };
        store.remove_stale_temporaries().map_err(err)?;
        Ok(store)
    }

    /// Removes the temporary files of writers that are gone (killed mid-write): the file of a
    /// live process (another daemon saving right now) is left alone.
    fn remove_stale_temporaries(&self) -> std::io::Result<()> {
        let prefix = format!(".{FILE}.");
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(prefix.as_str()))
                .and_then(|n| n.strip_suffix(".tmp"))
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let alive = pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists();
            if !alive {
                match fs::remove_file(entry.path()) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Path of the credentials file.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// Replaces the stored credentials atomically.
    ///
    /// # Errors
    /// On any I/O failure (the previous file is then unchanged).
    pub fn save(&self, stored: &Stored) -> Result<(), StoreError> {
        let target = self.path();
        let temp = self.dir.join(format!(".{FILE}.{}.tmp", std::process::id()));
        let err = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError { path, source }
        };
        let body = serde_json::to_vec_pretty(stored)
            .map(Zeroizing::new)
            .map_err(|e| std::io::Error::other(e.to_string()))
            .map_err(err(&target))?;
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .map_err(err(&temp))?;
        file.write_all(&body).map_err(err(&temp))?;
        file.sync_all().map_err(err(&temp))?;
        drop(file);
        fs::rename(&temp, &target).map_err(err(&target))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(err(&self.dir))?;
        Ok(())
    }

    /// The stored credentials, if any.
    ///
    /// # Errors
    /// If the file exists but cannot be read or parsed.
    pub fn load(&self) -> Result<Option<Stored>, StoreError> {
        let path = self.path();
        match fs::read(&path).map(Zeroizing::new) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StoreError {
                    path,
                    source: std::io::Error::other(e.to_string()),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn saves_atomically_with_private_permissions() {
        let dir = std::env::temp_dir().join(format!("wifiprov-store-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = Store::open(&dir).expect("open");
        assert_eq!(store.load().expect("load"), None);
        let first = Stored {
            method: "esptouch-v1".into(),
            ssid_hex: "41".into(),
            password_hex: "42".into(),
            bssid: None,
            reserved_hex: None,
        };
        store.save(&first).expect("save");
        let mut second = first.clone();
        second.ssid_hex = "4343".into();
        second.reserved_hex = Some("6465".into());
        store.save(&second).expect("save");
        assert_eq!(store.load().expect("load"), Some(second));
        let mode = fs::metadata(store.path())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let leftovers = fs::read_dir(&dir).expect("list").count();
        assert_eq!(leftovers, 1, "no temporary files left");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn open_removes_the_temporaries_of_dead_writers_only() {
        let dir = std::env::temp_dir().join(format!("wifiprov-store-tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("dir");
        // pid 0 is never a process of ours; pid 1 (init) is always alive.
        let dead = dir.join(format!(".{FILE}.0.tmp"));
        let alive = dir.join(format!(".{FILE}.1.tmp"));
        let unrelated = dir.join("notes.txt");
        for path in [&dead, &alive, &unrelated] {
            fs::write(path, b"secret").expect("write");
        }
        let _store = Store::open(&dir).expect("open");
        assert!(!dead.exists(), "a dead writer's temporary is removed");
        assert!(alive.exists(), "a live writer's temporary is kept");
        assert!(unrelated.exists(), "other files are kept");
        let _ = fs::remove_dir_all(&dir);
    }

    const fn assert_zeroized_on_drop<T: ZeroizeOnDrop>() {}

    #[test]
    fn debug_shows_neither_the_password_nor_the_reserved_data() {
        const { assert_zeroized_on_drop::<Stored>() };
        let password_hex = crate::device::hex(b"S3cr3t-Pa55");
        let reserved_hex = crate::device::hex(b"R3s3rv3d");
        let stored = Stored {
            method: "esptouch-v2".into(),
            ssid_hex: "41".into(),
            password_hex: password_hex.clone(),
            bssid: None,
            reserved_hex: Some(reserved_hex.clone()),
        };
        let debug = format!("{stored:?}");
        assert!(!debug.contains(&password_hex), "{debug}");
        assert!(!debug.contains(&reserved_hex), "{debug}");
        assert!(debug.contains("password_hex_len: 22"), "{debug}");
    }
}
