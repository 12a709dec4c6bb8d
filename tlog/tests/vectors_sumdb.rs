//! Known answers from Go's sumdb tlog tests (golang.org/x/mod sumdb/tlog; data in
//! tests/data/go-sumdb-tlog/vectors.json, see its README for source commit and license):
//! tile paths in Go form against `tlog_tiles::Tile` and, translated, in C2SP form against our
//! `TileId`; `NewTiles` counts; empty-tree and record hashes; the sumdb tree note, which is a
//! C2SP checkpoint body with origin "go.sum database tree".
// Compares with `tlog_tiles`, a dependency of the writer side (feature `writer`).
#![cfg(feature = "writer")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rust_pki_tlog::checkpoint::checkpoint_body;
use rust_pki_tlog::tiles::{FULL_WIDTH, TileId, TileKind};
use rust_pki_tlog::writer::Log;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tlog_tiles::{
    Checkpoint, EMPTY_HASH, Hash, HashReader, Tile, record_hash, split_stored_hash_index,
    stored_hash_index, tree_hash,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    source: String,
    tile_paths: Vec<TilePath>,
    new_tiles_for_size: Vec<NewTiles>,
    empty_tree_hash_sha256_of: String,
    record_hashes: Vec<RecordHash>,
    tree_note: TreeNote,
    bad_tree_notes: Vec<String>,
}

/// A row of Go's `tilePaths`: `Tile{H, L, N, W}` (L = -1 for data tiles), or `invalid`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TilePath {
    path: String,
    #[serde(default)]
    invalid: bool,
    h: Option<u8>,
    l: Option<i8>,
    n: Option<u64>,
    w: Option<u32>,
    data: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTiles {
    h: u8,
    old: u64,
    new: u64,
    count: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordHash {
    data: String,
    hash: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeNote {
    text: String,
    header: String,
    n: u64,
    record_data: String,
}

fn vectors() -> Vectors {
    let v: Vectors = serde_json::from_str(include_str!("data/go-sumdb-tlog/vectors.json")).unwrap();
    assert!(
        v.source
            .contains("fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db")
    );
    // Sizes of the Go tables (tilePaths, TestNewTilesForSize, note_test.go badTrees).
    assert_eq!(v.tile_paths.len(), 8);
    assert_eq!(v.tile_paths.iter().filter(|t| t.invalid).count(), 2);
    assert_eq!(v.new_tiles_for_size.len(), 7);
    assert_eq!(v.record_hashes.len(), 1);
    assert_eq!(v.bad_tree_notes.len(), 3);
    v
}

/// Go's `Tile` of a valid row, as `tlog_tiles::Tile` (which has level 0 + `is_data` where Go
/// has L = -1).
fn go_tile(t: &TilePath) -> Tile {
    let data = t.data.unwrap();
    let l = t.l.unwrap();
    assert_eq!(data, l == -1, "{}", t.path);
    let level = if data { 0 } else { u8::try_from(l).unwrap() };
    Tile::new(t.h.unwrap(), level, t.n.unwrap(), t.w.unwrap(), data)
}

#[test]
fn go_tile_paths_with_tlog_tiles() {
    let v = vectors();
    let mut checked = 0;
    for t in &v.tile_paths {
        if t.invalid {
            assert!(
                Tile::from_path(&t.path).is_err(),
                "{} must not parse",
                t.path
            );
        } else {
            let tile = go_tile(t);
            assert_eq!(tile.path(), t.path, "Tile::path of {t:?}");
            assert_eq!(Tile::from_path(&t.path).unwrap(), tile, "{}", t.path);
        }
        checked += 1;
    }
    assert_eq!(checked, 8);
}

/// Go sumdb path -> C2SP tlog-tiles path. Go writes `tile/<H>/<L>/<N>[.p/<W>]` and
/// `tile/<H>/data/<N>[.p/<W>]` for any height H; C2SP fixes H = 8 and omits it, and names
/// data tiles `entries`: `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`. The N encoding
/// (`x123/x456/078`) and `.p/<W>` are the same. A Go tile without `.p/` is full (W = 2^H); the
/// same path in C2SP is a full tile of 256, so coordinates map as (L, N, W) -> (L, N, 256 if
/// W = 2^H else W) — all partial widths of the table are below 256.
fn go_to_c2sp(go_path: &str) -> String {
    let mut parts: Vec<&str> = go_path.split('/').collect();
    assert_eq!(parts[0], "tile");
    parts.remove(1); // the height H
    if parts[1] == "data" {
        parts[1] = "entries";
    }
    parts.join("/")
}

#[test]
fn go_tile_paths_translated_to_c2sp() {
    let v = vectors();
    // The translation, spelled out for two rows.
    assert_eq!(
        go_to_c2sp("tile/3/5/x123/x456/078.p/2"),
        "tile/5/x123/x456/078.p/2"
    );
    assert_eq!(
        go_to_c2sp("tile/1/data/x003/x057/500"),
        "tile/entries/x003/x057/500"
    );
    let mut checked = 0;
    for t in &v.tile_paths {
        let c2sp = go_to_c2sp(&t.path);
        if t.invalid {
            assert!(
                TileId::parse(&c2sp).is_err(),
                "{c2sp} (from {}) parsed",
                t.path
            );
        } else {
            let go = go_tile(t);
            let width = if go.width() == 1 << go.height() {
                FULL_WIDTH
            } else {
                go.width()
            };
            let expected = if go.is_data() {
                TileId::entries(go.level_index(), width).unwrap()
            } else {
                TileId::hash(go.level(), go.level_index(), width).unwrap()
            };
            assert_eq!(TileId::parse(&c2sp).unwrap(), expected, "{c2sp}");
            assert_eq!(expected.path(), c2sp, "{expected:?}");
            assert_eq!(expected.kind == TileKind::Entries, go.is_data());
        }
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn go_new_tiles_for_size() {
    let v = vectors();
    for c in &v.new_tiles_for_size {
        let tiles = Tile::new_tiles(c.h, c.old, c.new);
        assert_eq!(
            tiles.len(),
            c.count,
            "NewTiles({}, {}, {})",
            c.h,
            c.old,
            c.new
        );
        assert!(tiles.iter().all(|t| t.height() == c.h));
    }
}

/// A hash reader that must not be asked for anything.
struct NoHashes;

impl HashReader for NoHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        panic!("read_hashes({indexes:?}) for the empty tree")
    }
}

fn signer(body: &[u8]) -> rust_pki_tlog::Result<Vec<u8>> {
    let mut note = body.to_vec();
    note.extend_from_slice("\n\u{2014} vectors-sumdb AAAAAA==\n".as_bytes());
    Ok(note)
}

#[test]
fn go_empty_tree_hash() {
    let v = vectors();
    let want = Hash(Sha256::digest(v.empty_tree_hash_sha256_of.as_bytes()).into());
    assert_eq!(EMPTY_HASH, want);
    assert_eq!(tree_hash(0, &NoHashes).unwrap(), want);
    let dir = tempfile::tempdir().unwrap();
    let log = Log::create(dir.path(), "example.com/vectors-sumdb", signer).unwrap();
    assert_eq!(log.head().size, 0);
    assert_eq!(log.head().root, want);
}

#[test]
fn go_record_hashes() {
    let v = vectors();
    for r in &v.record_hashes {
        let h = record_hash(r.data.as_bytes());
        assert_eq!(h.to_string(), r.hash, "RecordHash({:?})", r.data);
        assert_eq!(Hash::parse_hash(&r.hash).unwrap(), h);
    }
}

#[test]
fn go_tree_note_is_a_c2sp_checkpoint() {
    let v = vectors();
    let t = &v.tree_note;
    let hash = record_hash(t.record_data.as_bytes());
    // FormatTree golden == our checkpoint body with origin "go.sum database tree".
    assert_eq!(
        checkpoint_body(&t.header, t.n, hash.0).unwrap(),
        t.text.as_bytes()
    );
    // ParseTree golden.
    let cp = Checkpoint::from_bytes(t.text.as_bytes()).unwrap();
    assert_eq!(cp.origin(), t.header);
    assert_eq!(cp.size(), t.n);
    assert_eq!(*cp.hash(), hash);
    assert_eq!(cp.extension(), "");
    assert_eq!(cp.to_bytes(), t.text.as_bytes());
}

#[test]
fn go_bad_tree_notes() {
    let v = vectors();
    let header = &v.tree_note.header;
    let mut rejected = 0;
    for (i, text) in v.bad_tree_notes.iter().enumerate() {
        match Checkpoint::from_bytes(text.as_bytes()) {
            // Go rejects "not-go.sum database tree": its header is fixed. In C2SP the first
            // line is the origin, any string, so the checkpoint parses; what must not happen
            // is that it passes for the go.sum tree.
            Ok(cp) => {
                assert_eq!(i, 0, "bad tree note {i} parsed: {text:?}");
                assert_ne!(cp.origin(), header.as_str());
            }
            Err(_) => rejected += 1,
        }
    }
    // "0xabcdef" as size, and a hash that is not base64 of 32 bytes.
    assert_eq!(rejected, 2);
    let bad_hash = v.bad_tree_notes[2].lines().nth(2).unwrap();
    assert!(Hash::parse_hash(bad_hash).is_err(), "{bad_hash}");
}

/// TestSplitStoredHashIndex's property over the same ranges (level < 10, n < 100).
#[test]
fn go_split_stored_hash_index_inverts() {
    for level in 0..10u8 {
        for n in 0..100u64 {
            let x = stored_hash_index(level, n);
            assert_eq!(split_stored_hash_index(x), (level, n), "index {x}");
        }
    }
}
