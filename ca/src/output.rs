//! Output files: created with O_EXCL, never overwritten.

use std::{io::Write, path::Path};

use crate::{Error, Result};

/// Fail early, before anything is signed, if an output path already exists.
///
/// # Errors
/// [`Error::OutputExists`] for the first existing path.
pub fn ensure_absent<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    for path in paths {
        if path.symlink_metadata().is_ok() {
            return Err(Error::OutputExists {
                path: path.to_owned(),
            });
        }
    }
    Ok(())
}

/// Create `path` (which must not exist: O_CREAT|O_EXCL) and write `contents`, synced.
///
/// # Errors
/// [`Error::OutputExists`] if the path exists; I/O errors name the path.
pub fn write_new(path: &Path, contents: &[u8]) -> Result<()> {
    let io = |source: std::io::Error| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::OutputExists {
                    path: path.to_owned(),
                }
            } else {
                io(e)
            }
        })?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_overwrite_and_keeps_old_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.pem");
        write_new(&path, b"first").unwrap();
        assert!(matches!(
            write_new(&path, b"second"),
            Err(Error::OutputExists { .. })
        ));
        assert!(matches!(
            ensure_absent([path.as_path()]),
            Err(Error::OutputExists { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
    }
}
