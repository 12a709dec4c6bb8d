//! Reading files the operator could have replaced: only regular files (a FIFO would block
//! a command that holds the state and log locks; `/dev/zero` would never end), and never
//! more than a bound, checked while reading rather than after.

use std::{io::Read, path::Path};

use crate::{Error, Result};

/// Largest approval signature file: an armored SSHSIG is well under 2 KiB.
pub const MAX_APPROVAL_BYTES: u64 = 64 * 1024;
/// Largest roster or record file.
pub const MAX_STATE_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Largest encrypted share file.
pub const MAX_SHARE_BYTES: u64 = 64 * 1024;

/// The contents of `path`, a regular file of at most `max` bytes.
///
/// # Errors
/// [`Error::FileRefused`] for another kind of file or a larger one; I/O errors.
pub fn read(path: &Path, max: u64) -> Result<Vec<u8>> {
    let bytes = read_at_most(path, max)?;
    if bytes.len() as u64 > max {
        return Err(Error::FileRefused {
            path: path.to_owned(),
            reason: format!("larger than {max} bytes"),
        });
    }
    Ok(bytes)
}

/// The first `max + 1` bytes at most of `path`, a regular file: more than `max` tells the
/// caller the file is too large, for it to name its own rule.
///
/// # Errors
/// [`Error::FileRefused`] for another kind of file; I/O errors.
pub fn read_at_most(path: &Path, max: u64) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(Error::FileRefused {
            path: path.to_owned(),
            reason: "not a regular file".into(),
        });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_fifos_and_files_over_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 11]).unwrap();
        assert_eq!(read(&big, 11).unwrap().len(), 11);
        let err = read(&big, 10).unwrap_err().to_string();
        assert!(err.contains("larger than 10 bytes"), "{err}");
        let err = read(Path::new("/dev/zero"), 10).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let err = read(&fifo, 10).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }
}
