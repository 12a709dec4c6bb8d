//! Streaming SHA-256 of a downloaded file, for manifests and lock files (which pin SHA-256).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// SHA-256 and length of the file at `path`, read in 64 KiB blocks (release files are large).
///
/// # Errors
/// [`Error::Read`] naming the file.
pub(crate) fn sha256_file(path: &Path) -> Result<([u8; 32], u64), Error> {
    let read_err = |source| Error::Read {
        file: path.display().to_string(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        context.update(&buf[..n]);
        size += n as u64;
    }
    let mut digest = [0u8; 32];
    digest.copy_from_slice(context.finish().as_ref());
    Ok((digest, size))
}

/// Parses 64 hexadecimal digits (either case) into a SHA-256 digest.
pub(crate) fn parse_sha256_hex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}
