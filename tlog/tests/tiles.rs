//! C2SP tlog-tiles path vectors (tests/data/c2sp-tile-paths.txt) and entry bundles.
// Compares with `tlog_tiles`, a dependency of the writer side (feature `writer`).
#![cfg(feature = "writer")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rust_pki_tlog::Error;
use rust_pki_tlog::tiles::{TileId, TileKind, entries_path, hash_tile_path};

const VECTORS: &str = include_str!("data/c2sp-tile-paths.txt");

fn lines() -> impl Iterator<Item = Vec<&'static str>> {
    VECTORS
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
}

#[test]
fn spec_index_encoding() {
    let mut seen = 0;
    for f in lines().filter(|f| f[0] == "index") {
        let n: u64 = f[1].parse().unwrap();
        assert_eq!(
            hash_tile_path(0, n, 256).unwrap(),
            format!("tile/0/{}", f[2])
        );
        seen += 1;
    }
    assert_eq!(seen, 1);
}

#[test]
fn paths_round_trip() {
    let mut seen = 0;
    for f in lines().filter(|f| f[0] == "path") {
        let n: u64 = f[2].parse().unwrap();
        let w: u32 = f[3].parse().unwrap();
        let id = if f[1] == "entries" {
            assert_eq!(entries_path(n, w).unwrap(), f[4]);
            TileId::entries(n, w).unwrap()
        } else {
            let l: u8 = f[1].parse().unwrap();
            assert_eq!(hash_tile_path(l, n, w).unwrap(), f[4]);
            TileId::hash(l, n, w).unwrap()
        };
        assert_eq!(id.path(), f[4]);
        assert_eq!(TileId::parse(f[4]).unwrap(), id, "{}", f[4]);
        assert_eq!(id.is_full(), w == 256);
        seen += 1;
    }
    assert!(seen >= 6);
}

#[test]
fn bad_paths_rejected() {
    let mut seen = 0;
    for f in lines().filter(|f| f[0] == "bad") {
        match TileId::parse(f[1]) {
            Err(Error::TilePath { path, .. }) => assert_eq!(path, f[1]),
            other => panic!("{} parsed as {other:?}", f[1]),
        }
        seen += 1;
    }
    assert!(seen >= 15);
}

#[test]
fn bad_coordinates_rejected() {
    assert!(matches!(
        hash_tile_path(64, 0, 1),
        Err(Error::TileCoordinates(_))
    ));
    assert!(matches!(
        hash_tile_path(0, 0, 0),
        Err(Error::TileCoordinates(_))
    ));
    assert!(matches!(
        hash_tile_path(0, 0, 257),
        Err(Error::TileCoordinates(_))
    ));
    assert!(matches!(entries_path(0, 0), Err(Error::TileCoordinates(_))));
}

#[test]
fn large_indexes_round_trip() {
    for n in [0, 1, 999, 1000, 1001, 999_999, 1_000_000, u64::MAX] {
        for w in [1, 255, 256] {
            let id = TileId::hash(5, n, w).unwrap();
            assert_eq!(TileId::parse(&id.path()).unwrap(), id);
            let id = TileId::entries(n, w).unwrap();
            assert_eq!(TileId::parse(&id.path()).unwrap(), id);
        }
    }
    // One more than u64::MAX does not parse.
    assert!(TileId::parse("tile/0/x018/x446/x744/x073/x709/x551/616").is_err());
}

/// The tiles `tlog_tiles::Tile::new_tiles` lists for a tree (height 8), in C2SP paths,
/// match the spec's examples.
#[test]
fn spec_tree_tiles() {
    let mut seen = 0;
    for f in lines().filter(|f| f[0] == "tree") {
        let size: u64 = f[1].parse().unwrap();
        let tiles = tlog_tiles::Tile::new_tiles(8, 0, size);
        let mut expected = Vec::new();
        for spec in &f[2..] {
            let p: Vec<u64> = spec.split(':').map(|x| x.parse().unwrap()).collect();
            let level = u8::try_from(p[0]).unwrap();
            for n in 0..p[1] {
                expected.push(hash_tile_path(level, n, 256).unwrap());
            }
            if p[2] > 0 {
                expected.push(hash_tile_path(level, p[1], u32::try_from(p[2]).unwrap()).unwrap());
            }
        }
        let got: Vec<String> = tiles
            .iter()
            .map(|t| {
                let id = TileId::hash(t.level(), t.level_index(), t.width()).unwrap();
                assert_eq!(id.kind, TileKind::Hash(t.level()));
                id.path()
            })
            .collect();
        assert_eq!(got, expected, "tree of size {size}");
        seen += 1;
    }
    assert_eq!(seen, 2);
}
