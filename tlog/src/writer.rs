//! The on-disk log: a directory in the C2SP tlog-tiles layout
//! (`checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`).
//!
//! Appends are atomic. Every file is written to a temporary name, fsynced and renamed; the
//! new tiles and entry bundles come first, then a hidden `.checkpoint.pending` file holding
//! the body about to be signed, then the signed `checkpoint`. A crash before the pending
//! file leaves the previous checkpoint in force (tiles beyond it are harmless and rewritten
//! by the next append). A crash after it is rolled forward on open: the checkpoint for that
//! size may already have been signed, so the log re-signs the same body and never signs
//! another root for that size.
//!
//! One writer at a time: a [`Log`] holds an exclusive lock on its directory
//! (`rust_pki_fs::DirLock` on `<dir>/.lock`) from [`Log::open`]/[`Log::create`] until it is
//! dropped, and reads the checkpoint and tiles only once it holds it. Two processes
//! appending at once would otherwise both extend the same head and sign two different
//! roots for one size. A second writer waits for the first (up to a timeout) instead of
//! failing. Readers of the files ([`crate::replica`], monitors, bundle verification) do
//! not lock: every file is replaced by an atomic rename, so they see one checkpoint or the
//! next. A `Log` opened only to prove (no signer) still locks, so it reads a settled tree.
//!
//! On open, the whole tree is recomputed from the entry bundles, checked against the
//! checkpoint's root, and every hash tile is compared with the recomputed hashes; a
//! modified, truncated or missing file is refused with an error naming it.
//!
//! Merkle hashing, stored hashes and proofs are `tlog_tiles`'s.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_pki_fs::{DEFAULT_LOCK_TIMEOUT, DirLock, durable};
use tlog_tiles::{
    Checkpoint, EMPTY_HASH, HASH_SIZE, Hash, HashReader, Tile, TileHashReader, TileReader,
    check_record, check_tree, prove_record, prove_tree, record_hash, stored_hash_index,
    stored_hashes, tree_hash,
};

use crate::bundle;
use crate::cosignature::Cosignature;
pub use crate::layout::CHECKPOINT_FILE;
use crate::layout::{DirSource, MemHashes, load, merkle, tile_bytes, too_many};
use crate::tiles::{FULL_WIDTH, TILE_HEIGHT, TileId};
use crate::{Error, Result};

/// Name of the file holding a checkpoint body while it is being signed.
pub const PENDING_FILE: &str = ".checkpoint.pending";
/// What the log directory is called in lock errors.
const LOCK_WHAT: &str = "transparency log";

/// Signs a checkpoint body; returns the complete signed note (body, blank line, signature
/// lines). Implemented for every `Fn(&[u8]) -> Result<Vec<u8>>`.
pub trait CheckpointSigner {
    /// Signs `body` (C2SP tlog-checkpoint text) and returns the signed note bytes.
    ///
    /// # Errors
    /// Whatever the signer reports.
    fn sign(&self, body: &[u8]) -> Result<Vec<u8>>;
}

impl<F: Fn(&[u8]) -> Result<Vec<u8>>> CheckpointSigner for F {
    fn sign(&self, body: &[u8]) -> Result<Vec<u8>> {
        self(body)
    }
}

/// A signed tree head of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeHead {
    /// Number of entries.
    pub size: u64,
    /// RFC 6962 root hash.
    pub root: Hash,
    /// The signed checkpoint note, as in the `checkpoint` file.
    pub note: Vec<u8>,
}

/// Where a test stops an append to simulate a crash.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No fault.
    None,
    /// After the tiles and bundles are written, before the pending checkpoint.
    AfterTiles,
    /// After the checkpoint is signed, before it is written.
    AfterSign,
}

/// An open log directory, locked for writing while this value lives.
pub struct Log {
    // Held for the lifetime of the Log: nobody appends without it.
    _lock: DirLock,
    dir: PathBuf,
    origin: String,
    signer: Box<dyn CheckpointSigner>,
    /// Every stored hash of the tree, indexed by `tlog_tiles` stored hash index.
    hashes: Vec<Hash>,
    /// Entries of the last, partial entry bundle.
    tail: Vec<Vec<u8>>,
    head: TreeHead,
    /// Every entry of `head` by its leaf hash, for [`Log::find_entry`].
    index: LeafIndex,
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Log")
            .field("dir", &self.dir)
            .field("origin", &self.origin)
            .field("size", &self.head.size)
            .field("root", &self.head.root)
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Creates a new, empty log in `dir` (created if needed) and signs its size-0
    /// checkpoint. The log is locked (see the module documentation), waiting up to
    /// [`DEFAULT_LOCK_TIMEOUT`].
    ///
    /// # Errors
    /// [`Error::LogExists`] when `dir` already has a checkpoint; [`Error::LogLocked`]; I/O
    /// and signer errors.
    pub fn create(
        dir: impl Into<PathBuf>,
        origin: &str,
        signer: impl CheckpointSigner + 'static,
    ) -> Result<Self> {
        let dir = dir.into();
        let exists =
            |dir: &Path| dir.join(CHECKPOINT_FILE).exists() || dir.join(PENDING_FILE).exists();
        if exists(&dir) {
            return Err(Error::LogExists { path: dir });
        }
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let lock = DirLock::acquire(&dir, LOCK_WHAT, DEFAULT_LOCK_TIMEOUT)?;
        // Checked again under the lock: another `create` may have won the race.
        if exists(&dir) {
            return Err(Error::LogExists { path: dir });
        }
        let mut log = Self {
            _lock: lock,
            dir,
            origin: origin.to_owned(),
            signer: Box::new(signer),
            hashes: Vec::new(),
            tail: Vec::new(),
            head: TreeHead {
                size: 0,
                root: EMPTY_HASH,
                note: Vec::new(),
            },
            index: LeafIndex::default(),
        };
        log.head.note = log.publish(0, EMPTY_HASH, Fault::None)?;
        Ok(log)
    }

    /// [`Log::open_with_timeout`] waiting up to [`DEFAULT_LOCK_TIMEOUT`] for the lock.
    ///
    /// # Errors
    /// As [`Log::open_with_timeout`].
    pub fn open(
        dir: impl Into<PathBuf>,
        origin: &str,
        signer: impl CheckpointSigner + 'static,
    ) -> Result<Self> {
        Self::open_with_timeout(dir, origin, signer, DEFAULT_LOCK_TIMEOUT)
    }

    /// Opens the log in `dir` for writing: takes its lock (waiting up to `lock_timeout`
    /// for another writer), then reads its checkpoint, recomputes the tree from the entry
    /// bundles, checks the root and every hash tile, and rolls forward an interrupted
    /// checkpoint. The lock is held until the `Log` is dropped.
    ///
    /// # Errors
    /// [`Error::LogLocked`] (naming the directory and lock file), [`Error::LogCheckpoint`],
    /// [`Error::LogOrigin`], [`Error::LogTileDamaged`] (naming the file),
    /// [`Error::LogRootMismatch`], [`Error::LogConflictingCheckpoint`], I/O.
    pub fn open_with_timeout(
        dir: impl Into<PathBuf>,
        origin: &str,
        signer: impl CheckpointSigner + 'static,
        lock_timeout: Duration,
    ) -> Result<Self> {
        let dir = dir.into();
        let cp_path = dir.join(CHECKPOINT_FILE);
        // No lock file is created in a directory that holds no log.
        fs::metadata(&cp_path).map_err(io(&cp_path))?;
        let lock = DirLock::acquire(&dir, LOCK_WHAT, lock_timeout)?;
        // Everything below is read under the lock: the head is the latest writer's.
        let note = fs::read(&cp_path).map_err(io(&cp_path))?;
        let cp = parse_checkpoint_note(&cp_path, &note)?;
        if cp.origin() != origin {
            return Err(Error::LogOrigin {
                expected: origin.to_owned(),
                found: cp.origin().to_owned(),
            });
        }
        let state = load(&DirSource(dir.clone()), cp.size(), &mut |_, _| {})?;
        if state.root != *cp.hash() {
            return Err(Error::LogRootMismatch {
                size: cp.size(),
                expected: hex::encode(cp.hash().0),
                computed: hex::encode(state.root.0),
            });
        }
        let mut log = Self {
            _lock: lock,
            dir,
            origin: origin.to_owned(),
            signer: Box::new(signer),
            hashes: state.hashes,
            tail: state.tail,
            head: TreeHead {
                size: cp.size(),
                root: state.root,
                note,
            },
            index: LeafIndex::default(),
        };
        // The leaf hashes were all just recomputed from the entry bundles.
        log.index.extend(&log.hashes, cp.size());
        log.resolve_pending()?;
        Ok(log)
    }

    /// The current signed tree head.
    pub fn head(&self) -> &TreeHead {
        &self.head
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends `entries` (each at most 65535 bytes) and publishes a new signed checkpoint.
    /// Appending nothing returns the current head without signing.
    ///
    /// # Errors
    /// [`Error::EntryTooLong`], I/O, signer errors; the previous checkpoint stays in force.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<TreeHead> {
        self.append_with_fault(entries, Fault::None)
    }

    /// [`Log::append`] stopping at `fault` (tests simulate crashes with it).
    #[doc(hidden)]
    pub fn append_with_fault(&mut self, entries: &[Vec<u8>], fault: Fault) -> Result<TreeHead> {
        if entries.is_empty() {
            return Ok(self.head.clone());
        }
        if let Some(e) = entries.iter().find(|e| e.len() > bundle::MAX_ENTRY_LEN) {
            return Err(Error::EntryTooLong { len: e.len() });
        }
        let old_len = self.hashes.len();
        let result = self.try_append(entries, fault);
        if result.is_err() {
            self.hashes.truncate(old_len);
        }
        result
    }

    fn try_append(&mut self, entries: &[Vec<u8>], fault: Fault) -> Result<TreeHead> {
        let pending = self.dir.join(PENDING_FILE);
        if pending.exists() {
            return Err(Error::LogCheckpoint {
                path: pending,
                reason: "an interrupted checkpoint is pending; reopen the log".to_owned(),
            });
        }
        let old = self.head.size;
        let count = u64::try_from(entries.len()).map_err(|_| too_many())?;
        let new = old.checked_add(count).ok_or_else(too_many)?;
        for (i, entry) in (old..new).zip(entries) {
            let h = stored_hashes(i, entry, &MemHashes(&self.hashes))
                .map_err(merkle("computing stored hashes"))?;
            self.hashes.extend(h);
        }
        // Every new or changed file of this append, written together by durable::replace_all.
        let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        // Entry bundles: the old partial bundle's entries followed by the new ones.
        let full = u64::from(FULL_WIDTH);
        let first_bundle = old / full;
        let all: Vec<&[u8]> = self.tail.iter().chain(entries).map(Vec::as_slice).collect();
        let mut new_tail = Vec::new();
        for (k, chunk) in (first_bundle..).zip(all.chunks(FULL_WIDTH as usize)) {
            let width = u32::try_from(chunk.len()).map_err(|_| too_many())?;
            let id = TileId::entries(k, width)?;
            files.push((self.dir.join(id.path()), bundle::encode(chunk)?));
            if files.len() >= WRITE_GROUP {
                durable::replace_all(&files)?;
                files.clear();
            }
            new_tail = if id.is_full() {
                Vec::new()
            } else {
                chunk.iter().map(|e| e.to_vec()).collect()
            };
        }
        // Hash tiles.
        let tiles = Tile::new_tiles(TILE_HEIGHT, old, new);
        for tile in &tiles {
            let id = TileId::hash(tile.level(), tile.level_index(), tile.width())?;
            files.push((self.dir.join(id.path()), tile_bytes(&self.hashes, &id)?));
            if files.len() >= WRITE_GROUP {
                durable::replace_all(&files)?;
                files.clear();
            }
        }
        durable::replace_all(&files)?;
        if fault == Fault::AfterTiles {
            return Err(Error::InjectedFault("after tiles"));
        }
        let root = tree_hash(new, &MemHashes(&self.hashes)).map_err(merkle("tree hash"))?;
        let note = self.publish(new, root, fault)?;
        self.tail = new_tail;
        self.head = TreeHead {
            size: new,
            root,
            note,
        };
        self.index.extend(&self.hashes, new);
        // Partial tiles made obsolete by full ones may go (C2SP tlog-tiles allows it).
        for tile in tiles.iter().filter(|t| t.width() == FULL_WIDTH) {
            let id = TileId::hash(tile.level(), tile.level_index(), FULL_WIDTH)?;
            remove_partials(&self.dir.join(id.path()));
            if tile.level() == 0 {
                remove_partials(
                    &self
                        .dir
                        .join(TileId::entries(tile.level_index(), FULL_WIDTH)?.path()),
                );
            }
        }
        Ok(self.head.clone())
    }

    /// Index of the first entry equal to `entry`, if the log holds it (found by its
    /// RFC 6962 leaf hash, in constant time). Lets a rerun find what an interrupted run
    /// already appended, and a run of a million entries find each one.
    pub fn find_entry(&self, entry: &[u8]) -> Option<u64> {
        self.index
            .find(&self.hashes, self.head.size, &record_hash(entry))
    }

    /// Every entry of the log, in order, read from its entry bundles and checked against
    /// the current tree head (a rerun compares what it would log with what is logged).
    ///
    /// # Errors
    /// Unreadable or damaged entry bundles, [`Error::LogRootMismatch`].
    pub fn read_entries(&self) -> Result<Vec<Vec<u8>>> {
        let mut entries = Vec::new();
        let state = load(
            &DirSource(self.dir.clone()),
            self.head.size,
            &mut |_, entry| entries.push(entry.to_vec()),
        )?;
        if state.root != self.head.root {
            return Err(Error::LogRootMismatch {
                size: self.head.size,
                expected: hex::encode(self.head.root.0),
                computed: hex::encode(state.root.0),
            });
        }
        Ok(entries)
    }

    /// Adds witness cosignature lines to the current checkpoint (same body, more
    /// signatures) and rewrites the `checkpoint` file atomically. Lines already present are
    /// not repeated. The caller verifies the cosignatures; this only checks their syntax.
    ///
    /// # Errors
    /// [`Error::NoteMalformed`] for a line that is not a signature line; I/O.
    pub fn add_cosignatures(&mut self, lines: &[String]) -> Result<TreeHead> {
        let mut note = self.head.note.clone();
        for line in lines {
            if !line.starts_with("\u{2014} ") || line.contains('\n') {
                return Err(Error::NoteMalformed(format!(
                    "not a signature line: {line:?}"
                )));
            }
            // One cosignature per witness key: the earliest is kept, since it proves the
            // most (the entries existed by then); a later one for the same checkpoint (a
            // rerun asking again) would only change the note that bundles already carry.
            let witness = |l: &str| Cosignature::parse(l).ok().map(|c| (c.name, c.key_id));
            let this_witness = witness(line);
            let present = std::str::from_utf8(&note)
                .map(|text| {
                    text.lines().any(|l| {
                        l == line || (this_witness.is_some() && witness(l) == this_witness)
                    })
                })
                .unwrap_or(false);
            if !present {
                note.extend_from_slice(line.as_bytes());
                note.push(b'\n');
            }
        }
        if note != self.head.note {
            durable::replace(&self.dir.join(CHECKPOINT_FILE), &note)?;
            self.head.note = note;
        }
        Ok(self.head.clone())
    }

    /// Inclusion proof of entry `index` in the current tree, read from the tiles on disk
    /// (and checked against the checkpoint's root while reading).
    ///
    /// # Errors
    /// [`Error::LogOutOfRange`], [`Error::Merkle`] (tile missing or not matching the root).
    pub fn prove_inclusion(&self, index: u64) -> Result<(Vec<Hash>, TreeHead)> {
        let size = self.head.size;
        if index >= size {
            return Err(Error::LogOutOfRange {
                what: "entry index",
                index,
                size,
            });
        }
        let tiles = DiskTiles { dir: &self.dir };
        let reader = TileHashReader::new(size, self.head.root, &tiles);
        let proof = prove_record(size, index, &reader).map_err(merkle(&format!(
            "inclusion proof of entry {index} in tree {size}"
        )))?;
        // `TileHashReader` does not authenticate every tile it reads (tlog_tiles 0.2 skips
        // some when several tree-hash subtrees share a tile), so check the proof itself.
        let leaf = MemHashes(&self.hashes)
            .read_hashes(&[stored_hash_index(0, index)])
            .map_err(merkle("leaf hash"))?;
        check_record(&proof, size, self.head.root, index, leaf[0]).map_err(merkle(&format!(
            "inclusion proof of entry {index} read from the tiles in {} does not verify \
             (damaged tile)",
            self.dir.display()
        )))?;
        Ok((proof, self.head.clone()))
    }

    /// Consistency proof from the tree of `old_size` to the current tree, read from the
    /// tiles on disk.
    ///
    /// # Errors
    /// [`Error::LogOutOfRange`], [`Error::Merkle`].
    pub fn prove_consistency(&self, old_size: u64) -> Result<(Vec<Hash>, TreeHead)> {
        let size = self.head.size;
        if old_size > size {
            return Err(Error::LogOutOfRange {
                what: "old tree size",
                index: old_size,
                size,
            });
        }
        let tiles = DiskTiles { dir: &self.dir };
        let reader = TileHashReader::new(size, self.head.root, &tiles);
        let proof = prove_tree(size, old_size, &reader).map_err(merkle(&format!(
            "consistency proof from {old_size} to {size}"
        )))?;
        let old_root =
            tree_hash(old_size, &MemHashes(&self.hashes)).map_err(merkle("tree hash"))?;
        check_tree(&proof, size, self.head.root, old_size, old_root).map_err(merkle(&format!(
            "consistency proof from {old_size} read from the tiles in {} does not verify \
             (damaged tile)",
            self.dir.display()
        )))?;
        Ok((proof, self.head.clone()))
    }

    /// Signs and writes the checkpoint for (`size`, `root`): pending body first, then the
    /// signed note. Returns the note.
    fn publish(&self, size: u64, root: Hash, fault: Fault) -> Result<Vec<u8>> {
        let pending_path = self.dir.join(PENDING_FILE);
        if pending_path.exists() {
            return Err(Error::LogCheckpoint {
                path: pending_path,
                reason: "an interrupted checkpoint is pending; reopen the log".to_owned(),
            });
        }
        let body = Checkpoint::new(&self.origin, size, root, "")
            .map_err(|e| Error::LogCheckpoint {
                path: self.dir.join(CHECKPOINT_FILE),
                reason: e.to_string(),
            })?
            .to_bytes();
        durable::replace(&pending_path, &body)?;
        self.sign_and_commit(&body, fault)
    }

    fn sign_and_commit(&self, body: &[u8], fault: Fault) -> Result<Vec<u8>> {
        let note = self.signer.sign(body)?;
        if note.len() <= body.len() || !note.starts_with(body) || note[body.len()] != b'\n' {
            return Err(Error::LogSignerOutput);
        }
        if fault == Fault::AfterSign {
            return Err(Error::InjectedFault("after sign"));
        }
        durable::replace(&self.dir.join(CHECKPOINT_FILE), &note)?;
        durable::remove(&self.dir.join(PENDING_FILE))?;
        Ok(note)
    }

    /// Settles a `.checkpoint.pending` left by a crash: drop it if it is behind, roll it
    /// forward (re-sign the same body) if the files on disk support it, refuse otherwise.
    fn resolve_pending(&mut self) -> Result<()> {
        let path = self.dir.join(PENDING_FILE);
        let body = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(&path)(e)),
        };
        let pending = Checkpoint::from_bytes(&body).map_err(|e| Error::LogCheckpoint {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let size = self.head.size;
        let conflict = |old: &Hash, new: &Hash| Error::LogConflictingCheckpoint {
            size: pending.size(),
            old: hex::encode(old.0),
            new: hex::encode(new.0),
        };
        if pending.origin() != self.origin {
            return Err(Error::LogOrigin {
                expected: self.origin.clone(),
                found: pending.origin().to_owned(),
            });
        }
        if pending.size() < size {
            fs::remove_file(&path).map_err(io(&path))?;
            return Ok(());
        }
        if pending.size() == size {
            if *pending.hash() != self.head.root {
                return Err(conflict(pending.hash(), &self.head.root));
            }
            fs::remove_file(&path).map_err(io(&path))?;
            return Ok(());
        }
        // Ahead of the checkpoint: its tiles were written before it; verify and re-sign.
        let state = load(&DirSource(self.dir.clone()), pending.size(), &mut |_, _| {})?;
        let old_root = tree_hash(size, &MemHashes(&state.hashes)).map_err(merkle("tree hash"))?;
        if state.root != *pending.hash() || old_root != self.head.root {
            return Err(conflict(pending.hash(), &state.root));
        }
        let note = self.sign_and_commit(&body, Fault::None)?;
        self.hashes = state.hashes;
        self.tail = state.tail;
        self.head = TreeHead {
            size: pending.size(),
            root: state.root,
            note,
        };
        self.index.extend(&self.hashes, pending.size());
        Ok(())
    }
}

/// The first index of each entry by its leaf hash, for [`Log::find_entry`] (a scan of the
/// whole log per lookup made a million-entry signing run quadratic). Keyed by the leaf
/// hash's first 8 bytes, not all 32: a log of millions of entries already holds 64 bytes
/// of hashes per entry, and a lookup confirms the whole hash against those anyway. Built
/// from the stored hashes when the log is opened, extended by every append; nothing on
/// disk.
#[derive(Debug, Default)]
struct LeafIndex {
    /// Key → first index of a leaf hash with that key.
    first: HashMap<u64, u64>,
    /// Entries `0..len` are indexed.
    len: u64,
}

impl LeafIndex {
    fn key(leaf: &Hash) -> u64 {
        let [a, b, c, d, e, f, g, h, ..] = leaf.0;
        u64::from_le_bytes([a, b, c, d, e, f, g, h])
    }

    /// Indexes entries `len..size` of the tree whose stored hashes are `hashes`; an entry
    /// already indexed keeps its first index.
    fn extend(&mut self, hashes: &[Hash], size: u64) {
        self.first
            .reserve(usize::try_from(size.saturating_sub(self.len)).unwrap_or(0));
        for i in self.len..size {
            if let Some(leaf) = leaf_hash(hashes, i) {
                self.first.entry(Self::key(leaf)).or_insert(i);
            }
        }
        self.len = self.len.max(size);
    }

    /// The first of entries `0..size` whose leaf hash is `leaf`.
    fn find(&self, hashes: &[Hash], size: u64, leaf: &Hash) -> Option<u64> {
        let first = *self.first.get(&Self::key(leaf))?;
        // Usually `first` itself; another leaf may share the key's 8 bytes: scan on.
        (first..size).find(|&i| leaf_hash(hashes, i) == Some(leaf))
    }
}

/// The RFC 6962 leaf hash of entry `i`, from the stored hashes.
fn leaf_hash(hashes: &[Hash], i: u64) -> Option<&Hash> {
    usize::try_from(stored_hash_index(0, i))
        .ok()
        .and_then(|k| hashes.get(k))
}

fn parse_checkpoint_note(path: &Path, note: &[u8]) -> Result<Checkpoint> {
    let bad = |reason: &str| Error::LogCheckpoint {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let end = note
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or_else(|| bad("no blank line between body and signatures"))?;
    Checkpoint::from_bytes(&note[..=end]).map_err(|e| bad(&e.to_string()))
}

/// Hash tiles read from the log directory at their C2SP paths.
struct DiskTiles<'a> {
    dir: &'a Path,
}

impl TileReader for DiskTiles<'_> {
    fn height(&self) -> u8 {
        TILE_HEIGHT
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                let id = TileId::hash(t.level(), t.level_index(), t.width())
                    .map_err(|e| tlog_tiles::Error::InvalidInput(e.to_string()))?;
                let path = self.dir.join(id.path());
                let data = fs::read(&path).map_err(|e| {
                    tlog_tiles::Error::InvalidInput(format!("{}: {e}", path.display()))
                })?;
                if data.len() != t.width() as usize * HASH_SIZE {
                    return Err(tlog_tiles::Error::InvalidInput(format!(
                        "{}: {} bytes, expected {}",
                        path.display(),
                        data.len(),
                        t.width() as usize * HASH_SIZE
                    )));
                }
                Ok(data)
            })
            .collect()
    }

    fn save_tiles(&self, _tiles: &[Tile], _data: &[Vec<u8>]) {}
}

/// Files an append holds in memory before writing them (bounds memory for huge appends).
const WRITE_GROUP: usize = 256;

/// Removes `<full tile path>.p/` (older partial versions); best effort.
fn remove_partials(full_path: &Path) {
    let mut p = full_path.as_os_str().to_owned();
    p.push(".p");
    let _ = fs::remove_dir_all(PathBuf::from(p));
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored hashes of `leaves.len()` entries with these leaf hashes (interior hashes
    /// left empty: the index reads leaves only).
    fn hashes_with_leaves(leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len() as u64;
        let len = usize::try_from(stored_hash_index(0, n)).unwrap_or(0);
        let mut hashes = vec![EMPTY_HASH; len];
        for (i, leaf) in (0..n).zip(leaves) {
            if let Ok(k) = usize::try_from(stored_hash_index(0, i)) {
                hashes[k] = *leaf;
            }
        }
        hashes
    }

    #[test]
    fn leaves_sharing_the_key_are_told_apart_by_the_whole_hash() {
        let leaf = |last: u8| {
            let mut h = [7u8; 32];
            h[31] = last;
            Hash(h)
        };
        let (a, b, c) = (leaf(1), leaf(2), leaf(3));
        assert_eq!(LeafIndex::key(&a), LeafIndex::key(&b));
        // a at 0, b at 1, a again at 2, b again at 3.
        let leaves = [a, b, a, b];
        let hashes = hashes_with_leaves(&leaves);
        let mut index = LeafIndex::default();
        index.extend(&hashes, 2);
        index.extend(&hashes, 4);
        assert_eq!(index.first.len(), 1, "one key for all four");
        assert_eq!(index.find(&hashes, 4, &a), Some(0));
        assert_eq!(index.find(&hashes, 4, &b), Some(1));
        // Same key, in no entry: the scan runs out.
        assert_eq!(index.find(&hashes, 4, &c), None);
        assert_eq!(index.find(&hashes, 4, &Hash([8; 32])), None);
    }
}
