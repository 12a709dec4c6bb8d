//! C2SP tlog-tiles paths (<https://c2sp.org/tlog-tiles>).
//!
//! `tlog_tiles::Tile::path()` emits Go-sumdb paths (`tile/8/0/x001/x234/067.p/17`, with the
//! tile height as first element); C2SP fixes the height at 8 and drops it:
//! `tile/0/x001/x234/067.p/17` for hash tiles at level 0 and
//! `tile/entries/x001/x234/067.p/17` for entry bundles.

use crate::{Error, Result};

/// Tile height of C2SP tlog-tiles: each tile covers 8 levels of the tree.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile: 2^8.
pub const FULL_WIDTH: u32 = 256;
/// Highest tile level C2SP allows.
pub const MAX_LEVEL: u8 = 63;

/// What a tile holds: Merkle tree hashes at a tile level, or log entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Hashes at tile level L (tree level 8·L).
    Hash(u8),
    /// An entry bundle (`tile/entries/...`).
    Entries,
}

/// Coordinates of a C2SP tile: kind, index N within the level, and width W (1..=256;
/// 256 is a full tile, without `.p/W` in its path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Hash tile level or entry bundle.
    pub kind: TileKind,
    /// Index of the tile within its level.
    pub index: u64,
    /// Number of hashes or entries: 1..=255 partial, 256 full.
    pub width: u32,
}

impl TileId {
    /// A hash tile at `level`, checked.
    ///
    /// # Errors
    /// [`Error::TileCoordinates`] when level > 63 or width is not 1..=256.
    pub fn hash(level: u8, index: u64, width: u32) -> Result<Self> {
        if level > MAX_LEVEL {
            return Err(Error::TileCoordinates(format!(
                "level {level} is above {MAX_LEVEL}"
            )));
        }
        check_width(width)?;
        Ok(Self {
            kind: TileKind::Hash(level),
            index,
            width,
        })
    }

    /// An entry bundle, checked.
    ///
    /// # Errors
    /// [`Error::TileCoordinates`] when width is not 1..=256.
    pub fn entries(index: u64, width: u32) -> Result<Self> {
        check_width(width)?;
        Ok(Self {
            kind: TileKind::Entries,
            index,
            width,
        })
    }

    /// Whether the tile is full (256 wide).
    pub fn is_full(&self) -> bool {
        self.width == FULL_WIDTH
    }

    /// The C2SP path, relative to the log prefix (`tile/0/x001/x234/067.p/17`).
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hash(l) => l.to_string(),
            TileKind::Entries => "entries".to_owned(),
        };
        let mut out = format!("tile/{level}/{}", encode_index(self.index));
        if !self.is_full() {
            out.push_str(&format!(".p/{}", self.width));
        }
        out
    }

    /// Parses a C2SP tile path strictly (the inverse of [`TileId::path`]).
    ///
    /// # Errors
    /// [`Error::TilePath`] naming the path and the rule it breaks.
    pub fn parse(path: &str) -> Result<Self> {
        let bad = |reason: &'static str| Error::TilePath {
            path: path.to_owned(),
            reason,
        };
        let mut parts: Vec<&str> = path.split('/').collect();
        if parts.len() < 3 || parts[0] != "tile" {
            return Err(bad("must start with tile/<L>/"));
        }
        let kind = if parts[1] == "entries" {
            TileKind::Entries
        } else {
            let level = parse_decimal(parts[1]).ok_or(bad("level is not a decimal integer"))?;
            if level > u64::from(MAX_LEVEL) {
                return Err(bad("level is above 63"));
            }
            TileKind::Hash(u8::try_from(level).map_err(|_| bad("level is above 63"))?)
        };
        // Partial tile: ".../NNN.p/W".
        let mut width = FULL_WIDTH;
        if let Some(last_index) = parts.len().checked_sub(2)
            && last_index >= 2
            && let Some(stem) = parts[last_index].strip_suffix(".p")
        {
            let w = parse_decimal(parts[parts.len() - 1])
                .ok_or(bad("width is not a decimal integer"))?;
            if !(1..u64::from(FULL_WIDTH)).contains(&w) {
                return Err(bad("partial width must be 1..=255"));
            }
            width = u32::try_from(w).map_err(|_| bad("partial width must be 1..=255"))?;
            parts[last_index] = stem;
            parts.pop();
        }
        let groups = &parts[2..];
        if groups.is_empty() {
            return Err(bad("missing tile index"));
        }
        let mut index: u64 = 0;
        for (i, group) in groups.iter().enumerate() {
            let last = i + 1 == groups.len();
            let digits = if last {
                *group
            } else {
                group
                    .strip_prefix('x')
                    .ok_or(bad("all but the last index element must start with x"))?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("index elements must be exactly 3 digits"));
            }
            if i == 0 && !last && digits == "000" {
                return Err(bad("index has a leading x000 element"));
            }
            let value: u64 = digits.parse().map_err(|_| bad("bad index digits"))?;
            index = index
                .checked_mul(1000)
                .and_then(|v| v.checked_add(value))
                .ok_or(bad("index overflows 64 bits"))?;
        }
        Ok(Self { kind, index, width })
    }
}

/// The C2SP path of a hash tile at `level`, `index`, `width` (256 = full).
///
/// # Errors
/// [`Error::TileCoordinates`] when the coordinates are out of range.
pub fn hash_tile_path(level: u8, index: u64, width: u32) -> Result<String> {
    Ok(TileId::hash(level, index, width)?.path())
}

/// The C2SP path of an entry bundle at `index`, `width` (256 = full).
///
/// # Errors
/// [`Error::TileCoordinates`] when width is out of range.
pub fn entries_path(index: u64, width: u32) -> Result<String> {
    Ok(TileId::entries(index, width)?.path())
}

fn check_width(width: u32) -> Result<()> {
    if (1..=FULL_WIDTH).contains(&width) {
        Ok(())
    } else {
        Err(Error::TileCoordinates(format!(
            "width {width} is not in 1..=256"
        )))
    }
}

/// 1234067 → `x001/x234/067`.
fn encode_index(mut n: u64) -> String {
    let mut out = format!("{:03}", n % 1000);
    while n >= 1000 {
        n /= 1000;
        out = format!("x{:03}/{out}", n % 1000);
    }
    out
}

/// A decimal integer without sign or extra leading zeroes.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}
