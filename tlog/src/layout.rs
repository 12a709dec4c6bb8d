//! The log's files, in a directory or behind a URL ([`Source`]), and the tree recomputed
//! from them ([`load`]): shared by the writer, which checks its own directory on open, and
//! by [`crate::replica`], which checks any copy of a log.

use std::fs;
use std::path::{Path, PathBuf};

use tlog_tiles::{HASH_SIZE, Hash, HashReader, stored_hash_index, stored_hashes, tree_hash};

use crate::bundle;
use crate::tiles::{FULL_WIDTH, TILE_HEIGHT, TileId};
use crate::{Error, Result};

/// Name of the checkpoint file.
pub const CHECKPOINT_FILE: &str = "checkpoint";

/// Where a log's files come from. Paths are relative to the log's root, e.g. `checkpoint`,
/// `tile/0/000`, `tile/entries/000.p/5`.
pub trait Source {
    /// Where `path` is, for error messages (a file path or a URL).
    fn location(&self, path: &str) -> PathBuf;

    /// The contents of `path`.
    ///
    /// # Errors
    /// Any failure to read it, as a message.
    fn fetch(&self, path: &str) -> std::result::Result<Vec<u8>, String>;
}

/// A log in a local directory.
#[derive(Debug, Clone)]
pub struct DirSource(pub PathBuf);

impl Source for DirSource {
    fn location(&self, path: &str) -> PathBuf {
        self.0.join(path)
    }

    fn fetch(&self, path: &str) -> std::result::Result<Vec<u8>, String> {
        fs::read(self.0.join(path)).map_err(|e| e.to_string())
    }
}

/// The tree state recomputed from a log's files.
pub(crate) struct State {
    pub(crate) hashes: Vec<Hash>,
    pub(crate) tail: Vec<Vec<u8>>,
    pub(crate) root: Hash,
}

/// Recomputes the tree of `size` entries from the entry bundles of `source` and checks
/// every hash tile against it; calls `on_entry(index, entry)` for each entry in order.
pub(crate) fn load(
    source: &dyn Source,
    size: u64,
    on_entry: &mut dyn FnMut(u64, &[u8]),
) -> Result<State> {
    let full = u64::from(FULL_WIDTH);
    let mut hashes = Vec::new();
    let mut tail = Vec::new();
    let mut index = 0u64;
    let mut k = 0u64;
    while index < size {
        let width = u32::try_from((size - index).min(full)).map_err(|_| too_many())?;
        let id = TileId::entries(k, width)?;
        let path = source.location(&id.path());
        let data = read_tile(source, &id.path())?;
        let entries = bundle::decode(&data).map_err(|e| Error::LogBundleDamaged {
            path: path.clone(),
            source: Box::new(e),
        })?;
        if entries.len() != width as usize {
            return Err(damaged(
                &path,
                format!("holds {} entries, expected {width}", entries.len()),
            ));
        }
        for entry in &entries {
            let h = stored_hashes(index, entry, &MemHashes(&hashes))
                .map_err(merkle("computing stored hashes"))?;
            hashes.extend(h);
            on_entry(index, entry);
            index += 1;
        }
        if width < FULL_WIDTH {
            tail = entries;
        }
        k += 1;
    }
    let root = tree_hash(size, &MemHashes(&hashes)).map_err(merkle("tree hash"))?;
    // Hash tiles at every level.
    let mut level: u8 = 0;
    loop {
        let count = size.checked_shr(u32::from(level) * 8).unwrap_or(0);
        if count == 0 {
            break;
        }
        let mut n = 0u64;
        while n * full < count {
            let width = u32::try_from((count - n * full).min(full)).map_err(|_| too_many())?;
            let id = TileId::hash(level, n, width)?;
            let path = source.location(&id.path());
            let data = read_tile(source, &id.path())?;
            let expected = tile_bytes(&hashes, &id)?;
            if data.len() != expected.len() {
                return Err(damaged(
                    &path,
                    format!("{} bytes, expected {}", data.len(), expected.len()),
                ));
            }
            if let Some(i) = (0..expected.len() / HASH_SIZE).find(|i| {
                data[i * HASH_SIZE..(i + 1) * HASH_SIZE]
                    != expected[i * HASH_SIZE..(i + 1) * HASH_SIZE]
            }) {
                let source = if level == 0 {
                    TileId::entries(n, width)?.path()
                } else {
                    "the entry bundles".to_owned()
                };
                return Err(damaged(
                    &path,
                    format!("hash {i} does not match the hashes computed from {source}"),
                ));
            }
            n += 1;
        }
        level += 1;
    }
    Ok(State { hashes, tail, root })
}

/// The bytes of hash tile `id`: its hashes at tree level 8·L, taken from `hashes`.
pub(crate) fn tile_bytes(hashes: &[Hash], id: &TileId) -> Result<Vec<u8>> {
    let crate::tiles::TileKind::Hash(level) = id.kind else {
        return Err(Error::TileCoordinates(
            "entry bundle has no hashes".to_owned(),
        ));
    };
    let start = id.index * u64::from(FULL_WIDTH);
    let indexes: Vec<u64> = (0..u64::from(id.width))
        .map(|i| stored_hash_index(level * TILE_HEIGHT, start + i))
        .collect();
    let found = MemHashes(hashes)
        .read_hashes(&indexes)
        .map_err(merkle(&format!("hashes of {}", id.path())))?;
    Ok(found.iter().flat_map(|h| h.0).collect())
}

/// Stored hashes held in memory, indexed by stored hash index.
pub(crate) struct MemHashes<'a>(pub(crate) &'a [Hash]);

impl HashReader for MemHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.0.get(i))
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

fn read_tile(source: &dyn Source, path: &str) -> Result<Vec<u8>> {
    source
        .fetch(path)
        .map_err(|e| damaged(&source.location(path), format!("cannot read: {e}")))
}

pub(crate) fn merkle(context: &str) -> impl FnOnce(tlog_tiles::Error) -> Error + '_ {
    move |source| Error::Merkle {
        context: context.to_owned(),
        source,
    }
}

fn damaged(path: &Path, reason: String) -> Error {
    Error::LogTileDamaged {
        path: path.to_owned(),
        reason,
    }
}

pub(crate) fn too_many() -> Error {
    Error::TileCoordinates("tree size overflows".to_owned())
}
