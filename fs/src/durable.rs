//! Durable writes: every file rust-pki writes goes through one of these operations.
//!
//! Why one module: a crash (power loss, `kill -9`, a full disk) must never leave a
//! half-written ceremony record, checkpoint or certificate where a reader finds it, and an
//! output must never silently replace an earlier one. Each operation writes a temporary
//! file next to the target, fsyncs it, moves it into place in one step, and fsyncs the
//! directory so that the move itself survives a power loss.
//!
//! - [`create_new`]: the file must not exist; afterwards it exists complete, or not at all.
//!   The move is a hard link, which (unlike a rename) fails when the target exists, so two
//!   writers racing for one name cannot both win.
//! - [`replace`]: the file ends up holding the new bytes, or the old ones after a crash.
//! - [`create_new_all`]: [`create_new`] for many files at once, made durable by one
//!   `syncfs` for the batch rather than one fsync each (the signatures of a release).
//! - [`replace_all`]: [`replace`] for many files at once, fsynced in parallel, moved into
//!   place in order only when all of them are durable (the transparency log's tiles).
//! - [`remove`]: a file that marks unfinished work (the log's pending checkpoint) is gone,
//!   and stays gone after a power loss.
//!
//! A crash leaves at most a hidden `.NAME.PID-N.tmp` next to the target; it never
//! holds the only copy of anything. The state, log and output folders must be on a file
//! system with hard links and atomic renames (ext4, xfs, btrfs, tmpfs: not FAT).

use std::{
    fs::{self, File, OpenOptions},
    io::{ErrorKind, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

/// Why a durable write failed. The target is unchanged in every case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// [`create_new`] found the file already there (it is never overwritten).
    #[error("{}: already exists (outputs are never overwritten)", path.display())]
    Exists {
        /// The target.
        path: PathBuf,
    },
    /// The file system refused a step.
    #[error("{}: cannot {step}: {source}", path.display())]
    Io {
        /// The file the failing step worked on (the target, its temporary or its directory).
        path: PathBuf,
        /// The step, e.g. `write the temporary file`.
        step: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl WriteError {
    /// The path the error is about.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            Self::Exists { path } | Self::Io { path, .. } => path,
        }
    }
}

/// Permissions of a new file: readable by everyone, or by its owner only (secrets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 0644 (before the umask).
    Public,
    /// 0600: PIN shares, secret keys.
    Private,
}

impl Mode {
    fn bits(self) -> u32 {
        match self {
            Self::Public => 0o644,
            Self::Private => 0o600,
        }
    }
}

/// Create `path`, which must not exist, holding `contents`; fsync the file and its directory.
///
/// # Errors
/// [`WriteError::Exists`] if `path` exists (even as a dangling symlink); [`WriteError::Io`]
/// otherwise. Nothing is left at `path` on error.
pub fn create_new(path: &Path, contents: &[u8], mode: Mode) -> Result<(), WriteError> {
    if path.symlink_metadata().is_ok() {
        return Err(WriteError::Exists {
            path: path.to_owned(),
        });
    }
    let temporary = write_temporary(path, contents, mode)?;
    fault::point("create-new:after-temporary");
    let linked = fs::hard_link(&temporary, path);
    let _ = fs::remove_file(&temporary);
    linked.map_err(|source| {
        if source.kind() == ErrorKind::AlreadyExists {
            WriteError::Exists {
                path: path.to_owned(),
            }
        } else {
            io(path, "move the temporary file into place", source)
        }
    })?;
    fault::point("create-new:after-link");
    sync_dir(parent(path))
}

/// [`create_new`] for many files: each written to its temporary, then one `syncfs(2)` per
/// directory's file system makes them all durable at once (a batch of thousands of small
/// files would otherwise wait for thousands of fsyncs), then each is linked into place in
/// order, and each directory is fsynced once.
///
/// # Errors
/// [`WriteError::Exists`] for the first path that exists (checked before anything is
/// written, and again by the link); [`WriteError::Io`]. Files linked before the error stay,
/// complete; no temporary is left.
pub fn create_new_all(files: &[(PathBuf, Vec<u8>)], mode: Mode) -> Result<(), WriteError> {
    if let Some((path, _)) = files.iter().find(|(p, _)| p.symlink_metadata().is_ok()) {
        return Err(WriteError::Exists {
            path: path.to_owned(),
        });
    }
    let mut dirs: Vec<&Path> = Vec::new();
    for (path, _) in files {
        let dir = parent(path);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    let mut temporaries = Vec::with_capacity(files.len());
    let written = files.iter().try_for_each(|(path, contents)| {
        temporaries.push(write_temporary_unsynced(path, contents, mode)?);
        Ok(())
    });
    let synced = written.and_then(|()| dirs.iter().try_for_each(|dir| sync_file_system(dir)));
    if let Err(e) = synced {
        remove_all(&temporaries);
        return Err(e);
    }
    fault::point("create-new-all:after-sync");
    for (i, ((path, _), temporary)) in files.iter().zip(&temporaries).enumerate() {
        if let Err(source) = fs::hard_link(temporary, path) {
            remove_all(&temporaries[i..]);
            return Err(if source.kind() == ErrorKind::AlreadyExists {
                WriteError::Exists {
                    path: path.to_owned(),
                }
            } else {
                io(path, "move the temporary file into place", source)
            });
        }
        let _ = fs::remove_file(temporary);
    }
    fault::point("create-new-all:after-links");
    dirs.into_iter().try_for_each(sync_dir)
}

fn remove_all(temporaries: &[PathBuf]) {
    for temporary in temporaries {
        let _ = fs::remove_file(temporary);
    }
}

/// `syncfs(2)` on the file system holding `dir`: every file written there is durable after.
fn sync_file_system(dir: &Path) -> Result<(), WriteError> {
    File::open(dir)
        .and_then(|d| rustix::fs::syncfs(&d).map_err(std::io::Error::from))
        .map_err(|e| io(dir, "sync the file system", e))
}

/// Write `contents` to `path`, replacing it (or creating it) in one step; fsync the file
/// and its directory.
///
/// # Errors
/// [`WriteError::Io`]; `path` keeps its old contents on error.
pub fn replace(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let temporary = write_temporary(path, contents, Mode::Public)?;
    fault::point("replace:after-temporary");
    rename_into_place(&temporary, path)?;
    fault::point("replace:after-rename");
    sync_dir(parent(path))
}

/// Most threads writing and fsyncing files at once in [`replace_all`]: concurrent fsyncs
/// share the file system's journal commits, which sequential ones cannot.
const SYNC_THREADS: usize = 8;

/// [`replace`] for many files (creating missing directories): every file is written to its
/// temporary and fsynced first, several at once; only when all are durable are they
/// renamed into place, in order; then every directory is fsynced once.
///
/// # Errors
/// [`WriteError::Io`] for the first failing file. Files already renamed stay replaced.
pub fn replace_all(files: &[(PathBuf, Vec<u8>)]) -> Result<(), WriteError> {
    let mut dirs: Vec<&Path> = Vec::new();
    for (path, _) in files {
        let dir = parent(path);
        if !dirs.contains(&dir) {
            fs::create_dir_all(dir).map_err(|e| io(dir, "create the directory", e))?;
            dirs.push(dir);
        }
    }
    let temporaries = write_temporaries(files)?;
    fault::point("replace-all:after-temporaries");
    for ((path, _), temporary) in files.iter().zip(&temporaries) {
        rename_into_place(temporary, path)?;
    }
    fault::point("replace-all:after-renames");
    dirs.into_iter().try_for_each(sync_dir)
}

/// Remove `path` and fsync its directory. A file already absent is not an error.
///
/// # Errors
/// [`WriteError::Io`].
pub fn remove(path: &Path) -> Result<(), WriteError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(io(path, "remove the file", e)),
        _ => sync_dir(parent(path)),
    }
}

fn write_temporaries(files: &[(PathBuf, Vec<u8>)]) -> Result<Vec<PathBuf>, WriteError> {
    let write_chunk = |chunk: &[(PathBuf, Vec<u8>)]| {
        chunk
            .iter()
            .map(|(path, data)| write_temporary(path, data, Mode::Public))
            .collect::<Result<Vec<_>, _>>()
    };
    let threads = SYNC_THREADS.min(files.len());
    if threads <= 1 {
        return write_chunk(files);
    }
    std::thread::scope(|scope| {
        // A chunk whose thread cannot be started is written on this one.
        let workers: Vec<_> = files
            .chunks(files.len().div_ceil(threads))
            .map(|chunk| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || write_chunk(chunk))
                    .map_err(|_| chunk)
            })
            .collect();
        let mut temporaries = Vec::with_capacity(files.len());
        for worker in workers {
            let written = match worker {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(chunk) => write_chunk(chunk),
            };
            temporaries.extend(written?);
        }
        Ok(temporaries)
    })
}

/// Distinguishes temporaries of one process (threads may write siblings at once).
static TEMPORARY_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `contents` to a fresh hidden temporary next to `path` and fsync it.
fn write_temporary(path: &Path, contents: &[u8], mode: Mode) -> Result<PathBuf, WriteError> {
    let temporary = write_temporary_unsynced(path, contents, mode)?;
    File::open(&temporary)
        .and_then(|f| f.sync_all())
        .map_err(|source| {
            let _ = fs::remove_file(&temporary);
            io(&temporary, "write the temporary file", source)
        })?;
    Ok(temporary)
}

/// Write `contents` to a fresh hidden temporary next to `path`, not yet durable.
fn write_temporary_unsynced(
    path: &Path,
    contents: &[u8],
    mode: Mode,
) -> Result<PathBuf, WriteError> {
    let name = path.file_name().ok_or_else(|| {
        io(
            path,
            "name the file",
            std::io::Error::new(ErrorKind::InvalidInput, "the path has no file name"),
        )
    })?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(
        ".{}-{}.tmp",
        std::process::id(),
        TEMPORARY_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let temporary = path.with_file_name(temporary_name);
    // The name is unique among live processes; one left by a dead process that had our
    // PID is stale, so it is replaced rather than reported.
    let _ = fs::remove_file(&temporary);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode.bits())
            .open(&temporary)?;
        file.write_all(contents)
    })();
    if let Err(source) = result {
        let _ = fs::remove_file(&temporary);
        return Err(io(&temporary, "write the temporary file", source));
    }
    Ok(temporary)
}

fn rename_into_place(temporary: &Path, path: &Path) -> Result<(), WriteError> {
    fs::rename(temporary, path).map_err(|source| {
        let _ = fs::remove_file(temporary);
        io(path, "move the temporary file into place", source)
    })
}

fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, "fsync the directory", e))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn io(path: &Path, step: &'static str, source: std::io::Error) -> WriteError {
    WriteError::Io {
        path: path.to_owned(),
        step,
        source,
    }
}

/// Crash points for the tests that kill a writer at each step (feature `fault-injection`;
/// a default build has none).
mod fault {
    /// `RUST_PKI_FS_FAULT=<step>` aborts the process at that step.
    #[cfg(feature = "fault-injection")]
    pub(super) fn point(step: &str) {
        if std::env::var("RUST_PKI_FS_FAULT").is_ok_and(|wanted| wanted == step) {
            std::process::abort();
        }
    }

    #[cfg(not(feature = "fault-injection"))]
    pub(super) fn point(_step: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn hidden_leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect()
    }

    #[test]
    fn create_new_writes_once_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.pem");
        create_new(&path, b"first", Mode::Public).unwrap();
        let error = create_new(&path, b"second", Mode::Public).unwrap_err();
        assert!(matches!(&error, WriteError::Exists { path: p } if *p == path));
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert!(hidden_leftovers(dir.path()).is_empty());
    }

    #[test]
    fn create_new_all_writes_every_file_or_refuses_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<(PathBuf, Vec<u8>)> = (0..20)
            .map(|i| {
                (
                    dir.path().join(format!("f{i}.sig")),
                    format!("sig {i}").into_bytes(),
                )
            })
            .collect();
        create_new_all(&files, Mode::Public).unwrap();
        for (path, data) in &files {
            assert_eq!(&fs::read(path).unwrap(), data);
        }
        assert!(hidden_leftovers(dir.path()).is_empty());
        // One existing target: refused naming it, and nothing else is written.
        let more: Vec<(PathBuf, Vec<u8>)> = vec![
            (dir.path().join("new.sig"), b"new".to_vec()),
            (files[3].0.clone(), b"other".to_vec()),
        ];
        match create_new_all(&more, Mode::Public) {
            Err(WriteError::Exists { path }) => assert_eq!(path, files[3].0),
            other => panic!("{other:?}"),
        }
        assert!(!dir.path().join("new.sig").exists());
        assert_eq!(fs::read(&files[3].0).unwrap(), b"sig 3");
        assert!(hidden_leftovers(dir.path()).is_empty());
    }

    #[test]
    fn create_new_refuses_a_dangling_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.pem");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &path).unwrap();
        assert!(matches!(
            create_new(&path, b"x", Mode::Public),
            Err(WriteError::Exists { .. })
        ));
        assert!(!dir.path().join("elsewhere").exists());
    }

    #[test]
    fn private_files_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("share.age");
        create_new(&path, b"secret", Mode::Private).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn racing_creators_have_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.toml");
        let winners: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8u8)
                .map(|i| {
                    let path = &path;
                    scope.spawn(move || create_new(path, &[i; 4096], Mode::Public).is_ok())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(winners, 1);
        let contents = fs::read(&path).unwrap();
        assert_eq!(contents.len(), 4096);
        assert!(contents.iter().all(|&b| b == contents[0]));
    }

    #[test]
    fn replace_swaps_contents_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.checkpoint");
        replace(&path, b"old").unwrap();
        replace(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert!(hidden_leftovers(dir.path()).is_empty());
    }

    #[test]
    fn replace_into_a_missing_directory_names_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("file");
        let error = replace(&path, b"x").unwrap_err();
        assert!(
            matches!(
                &error,
                WriteError::Io {
                    step: "write the temporary file",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("missing/.file."), "{error}");
    }

    #[test]
    fn remove_deletes_and_accepts_an_absent_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".checkpoint.pending");
        replace(&path, b"body").unwrap();
        remove(&path).unwrap();
        assert!(!path.exists());
        remove(&path).unwrap();
        let not_a_file = dir.path().join("sub");
        fs::create_dir(&not_a_file).unwrap();
        assert!(matches!(
            remove(&not_a_file),
            Err(WriteError::Io {
                step: "remove the file",
                ..
            })
        ));
    }

    #[test]
    fn replace_all_creates_directories_and_writes_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<(PathBuf, Vec<u8>)> = (0..40u8)
            .map(|i| {
                (
                    dir.path().join(format!("tile/{}/{i:03}", i % 3)),
                    vec![i; 100],
                )
            })
            .collect();
        replace_all(&files).unwrap();
        for (path, data) in &files {
            assert_eq!(&fs::read(path).unwrap(), data);
        }
        for sub in 0..3 {
            assert!(hidden_leftovers(&dir.path().join(format!("tile/{sub}"))).is_empty());
        }
    }
}
