//! Output files: complete or absent after a crash, never overwritten.

use std::path::Path;

use rust_pki_fs::{
    WriteError,
    durable::{self, Mode},
};

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

/// Create `path`, which must not exist, holding `contents`: complete or absent after a
/// crash, never overwritten (see [`rust_pki_fs::durable::create_new`]).
///
/// # Errors
/// [`Error::OutputExists`] if the path exists; [`Error::Write`] names the path and step.
pub fn write_new(path: &Path, contents: &[u8]) -> Result<()> {
    durable::create_new(path, contents, Mode::Public).map_err(|error| match error {
        WriteError::Exists { path } => Error::OutputExists { path },
        other => Error::Write(other),
    })
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
