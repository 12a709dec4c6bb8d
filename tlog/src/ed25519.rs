//! Ed25519 verification for notes and cosignatures on `ring` (already in the verifier), so
//! that checking a bundle needs neither ed25519-dalek nor the writer's crates.
//!
//! `ring` verifies cofactorless (`[S]B = R + [k]A`, canonical `S`, `R` compared as bytes),
//! as ed25519-dalek's `verify` does. Two checks dalek makes elsewhere are added here:
//! whether a public key encodes a curve point (`VerifyingKey::from_bytes`, at key parsing)
//! and small-order keys and `R` values (`verify_strict`, for cosignatures). Both agree
//! with ed25519-dalek on the same inputs (tests/light_verifiers.rs).

use ring::signature::{ED25519, UnparsedPublicKey};

/// The encodings of the 8 small-order points of edwards25519, with the sign bit cleared,
/// canonical and not (libsodium's list): `y` = 0, 1, the two order-8 `y`s, p-1, p, p+1.
const SMALL_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    {
        let mut one = [0; 32];
        one[0] = 1;
        one
    },
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    p_plus(-1),
    p_plus(0),
    p_plus(1),
];

/// Little-endian encoding of p + `k` (p = 2^255 - 19), for small `k`.
const fn p_plus(k: i8) -> [u8; 32] {
    let mut b = [0xff; 32];
    b[31] = 0x7f;
    b[0] = (0xed_i16 + k as i16) as u8;
    b
}

/// Whether the 32 bytes encode a point of small order (in any encoding dalek decodes).
pub(crate) fn is_small_order(encoded: &[u8; 32]) -> bool {
    let mut masked = *encoded;
    masked[31] &= 0x7f;
    SMALL_ORDER.contains(&masked)
}

/// Cofactorless Ed25519 verification (ed25519-dalek `verify`, signed-note).
pub(crate) fn verify(public: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public)
        .verify(msg, sig)
        .is_ok()
}

/// [`verify`] that also refuses small-order keys and `R` (ed25519-dalek `verify_strict`).
pub(crate) fn verify_strict(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&sig[..32]);
    !is_small_order(public) && !is_small_order(&r) && verify(public, msg, sig)
}

/// Whether the 32 bytes decode to a point of edwards25519 as ed25519-dalek decodes them
/// (`y` taken mod p, sign bit free): `x² = (y² - 1) / (d·y² + 1)` must have a root, i.e.
/// `(y² - 1)·(d·y² + 1)` is zero or a square mod p (Euler's criterion).
pub(crate) fn is_valid_point(encoded: &[u8; 32]) -> bool {
    let mut bytes = *encoded;
    bytes[31] &= 0x7f;
    let y = Fe::from_le_bytes(&bytes);
    let y2 = y.mul(&y).canonical();
    let u = if y2.is_zero() {
        P_MINUS_1
    } else {
        y2.sub_one()
    };
    let v = D.mul(&y2).canonical().add_one();
    let w = u.mul(&v).canonical();
    w.is_zero() || w.pow(&HALF_P_MINUS_1).canonical() == Fe::ONE
}

/// An integer below 2^256, little-endian 64-bit limbs, reduced mod p when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fe([u64; 4]);

const P: Fe = Fe([
    0xffff_ffff_ffff_ffed,
    u64::MAX,
    u64::MAX,
    0x7fff_ffff_ffff_ffff,
]);
const P_MINUS_1: Fe = Fe([
    0xffff_ffff_ffff_ffec,
    u64::MAX,
    u64::MAX,
    0x7fff_ffff_ffff_ffff,
]);
/// (p - 1) / 2 = 2^254 - 10.
const HALF_P_MINUS_1: Fe = Fe([
    0xffff_ffff_ffff_fff6,
    u64::MAX,
    u64::MAX,
    0x3fff_ffff_ffff_ffff,
]);
/// The edwards25519 constant d = -121665/121666 mod p.
const D: Fe = Fe([
    0x75eb_4dca_1359_78a3,
    0x0070_0a4d_4141_d8ab,
    0x8cc7_4079_7779_e898,
    0x5203_6cee_2b6f_fe73,
]);

impl Fe {
    const ONE: Fe = Fe([1, 0, 0, 0]);

    fn from_le_bytes(bytes: &[u8; 32]) -> Self {
        let mut limbs = [0u64; 4];
        for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            *limb = u64::from_le_bytes(word);
        }
        Fe(limbs)
    }

    fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    fn ge(&self, other: &Fe) -> bool {
        for i in (0..4).rev() {
            if self.0[i] != other.0[i] {
                return self.0[i] > other.0[i];
            }
        }
        true
    }

    /// `self - other`, for `self >= other`.
    fn sub(&self, other: &Fe) -> Fe {
        let mut out = [0u64; 4];
        let mut borrow = false;
        for (i, limb) in out.iter_mut().enumerate() {
            let (d1, b1) = self.0[i].overflowing_sub(other.0[i]);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            *limb = d2;
            borrow = b1 || b2;
        }
        Fe(out)
    }

    /// The representative below p (any value below 2^256 = 2p + 38 needs at most two steps).
    fn canonical(mut self) -> Fe {
        while self.ge(&P) {
            self = self.sub(&P);
        }
        self
    }

    /// `self - 1` for a canonical non-zero value.
    fn sub_one(&self) -> Fe {
        self.sub(&Fe::ONE)
    }

    /// `self + 1` for a canonical value (below p, so no overflow).
    fn add_one(&self) -> Fe {
        let mut out = self.0;
        for limb in &mut out {
            let (sum, carry) = limb.overflowing_add(1);
            *limb = sum;
            if !carry {
                break;
            }
        }
        Fe(out)
    }

    /// `self · other` mod p, as a value below 2^256 (2^256 ≡ 38).
    fn mul(&self, other: &Fe) -> Fe {
        let mut t = [0u64; 8];
        for i in 0..4 {
            let mut carry: u128 = 0;
            for j in 0..4 {
                let v =
                    u128::from(t[i + j]) + u128::from(self.0[i]) * u128::from(other.0[j]) + carry;
                t[i + j] = v as u64;
                carry = v >> 64;
            }
            t[i + 4] = carry as u64;
        }
        let mut out = [0u64; 4];
        let mut carry: u128 = 0;
        for i in 0..4 {
            let v = u128::from(t[i]) + 38 * u128::from(t[i + 4]) + carry;
            out[i] = v as u64;
            carry = v >> 64;
        }
        // Fold what is left above 2^256 until nothing is (twice at most).
        while carry != 0 {
            let mut c = carry * 38;
            for limb in &mut out {
                let v = u128::from(*limb) + c;
                *limb = v as u64;
                c = v >> 64;
            }
            carry = c;
        }
        Fe(out)
    }

    /// `self^exp` mod p (square and multiply; public inputs only, so variable time is fine).
    fn pow(&self, exp: &Fe) -> Fe {
        let mut acc = Fe::ONE;
        for i in (0..256).rev() {
            acc = acc.mul(&acc);
            if (exp.0[i / 64] >> (i % 64)) & 1 == 1 {
                acc = acc.mul(self);
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic_basics() {
        // p ≡ 0 and p + 1 ≡ 1.
        assert!(P.canonical().is_zero());
        assert_eq!(Fe::from_le_bytes(&p_plus(1)).canonical(), Fe::ONE);
        // (p - 1)² = 1.
        assert_eq!(P_MINUS_1.mul(&P_MINUS_1).canonical(), Fe::ONE);
        // d · 121666 = -121665 mod p.
        let d_times = D.mul(&Fe([121_666, 0, 0, 0])).canonical();
        assert_eq!(d_times, P.sub(&Fe([121_665, 0, 0, 0])));
        // -1 is a square mod p (p ≡ 1 mod 4), 2 is not (p ≡ 5 mod 8).
        assert_eq!(P_MINUS_1.pow(&HALF_P_MINUS_1).canonical(), Fe::ONE);
        assert_eq!(Fe([2, 0, 0, 0]).pow(&HALF_P_MINUS_1).canonical(), P_MINUS_1);
    }

    #[test]
    fn base_point_and_small_order_points_decode() {
        // The base point's y = 4/5 encodes as 0x5866…66.
        let mut base = [0x66u8; 32];
        base[0] = 0x58;
        assert!(is_valid_point(&base));
        assert!(!is_small_order(&base));
        for point in SMALL_ORDER {
            assert!(is_valid_point(&point));
            assert!(is_small_order(&point));
        }
        // y = 2 is not on the curve.
        let mut two = [0u8; 32];
        two[0] = 2;
        assert!(!is_valid_point(&two));
    }
}
