//! Exclusive advisory locks on directories (`flock(2)` on `<dir>/.lock`, through std's
//! `File::try_lock`).
//!
//! Why: the ceremony state and the transparency log are read, checked and then written by
//! one command. Two commands interleaving there (two executes of sibling requests, twelve
//! appends at once) sign twice or fork the log. The lock is held for the whole command,
//! not per write, and released by the kernel when the process dies, so a crash never
//! leaves a stale lock behind.

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// The lock file inside a locked directory.
pub const LOCK_FILE: &str = ".lock";

/// How long a command waits for another one holding the lock before giving up.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(120);

const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Why a lock was not taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another process held the lock for longer than the timeout.
    #[error(
        "{what} {dir} is locked by another rust-pki process (lock file {lock}); waited {waited:?}: \
         let it finish, or check that no other rust-pki command is running there"
    )]
    Timeout {
        /// What the directory is, e.g. `ceremony state`.
        what: &'static str,
        /// The directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// The lock file cannot be opened or locked.
    #[error("{what} {}: cannot lock {}: {source}", dir.display(), lock.display())]
    Io {
        /// What the directory is.
        what: &'static str,
        /// The directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// An exclusive lock on a directory, released when dropped (or when the process exits).
#[derive(Debug)]
pub struct DirLock {
    // Holding the open file is what holds the lock.
    _file: File,
    dir: PathBuf,
}

impl DirLock {
    /// Take the exclusive lock on `dir` (which must exist), waiting up to `timeout` for
    /// another holder. `what` names the directory in errors (e.g. `transparency log`).
    ///
    /// # Errors
    /// [`LockError::Timeout`] when another process keeps it; [`LockError::Io`] when the
    /// lock file cannot be opened (e.g. `dir` does not exist or is read-only).
    pub fn acquire(dir: &Path, what: &'static str, timeout: Duration) -> Result<Self, LockError> {
        let lock = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            what,
            dir: dir.to_owned(),
            lock: lock.clone(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(io)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(Self {
                        _file: file,
                        dir: dir.to_owned(),
                    });
                }
                Err(TryLockError::WouldBlock) => {
                    let waited = started.elapsed();
                    if waited >= timeout {
                        return Err(LockError::Timeout {
                            what,
                            dir: dir.to_owned(),
                            lock,
                            waited,
                        });
                    }
                    std::thread::sleep(POLL_INTERVAL.min(timeout - waited));
                }
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
        }
    }

    /// The locked directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_waits_then_times_out_naming_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path(), "ceremony state", Duration::ZERO).unwrap();
        let second = DirLock::acquire(dir.path(), "ceremony state", Duration::from_millis(60));
        let Err(LockError::Timeout {
            dir: named, waited, ..
        }) = second
        else {
            panic!("expected a timeout, got {second:?}");
        };
        assert_eq!(named, dir.path());
        assert!(waited >= Duration::from_millis(60));
        drop(first);
        DirLock::acquire(dir.path(), "ceremony state", Duration::ZERO).unwrap();
    }

    #[test]
    fn waiter_gets_the_lock_when_the_holder_releases_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path(), "transparency log", Duration::ZERO).unwrap();
        let path = dir.path().to_owned();
        let waiter = std::thread::spawn(move || {
            DirLock::acquire(&path, "transparency log", Duration::from_secs(10)).is_ok()
        });
        std::thread::sleep(Duration::from_millis(100));
        drop(first);
        assert!(waiter.join().unwrap());
    }

    #[test]
    fn missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent");
        let result = DirLock::acquire(&missing, "ceremony state", Duration::ZERO);
        assert!(matches!(result, Err(LockError::Io { .. })), "{result:?}");
    }
}
