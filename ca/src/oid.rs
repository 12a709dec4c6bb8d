//! Purpose OIDs from policy: parsed strictly, every arc within 32 bits, kept as DER.
//!
//! Why not const-oid's `ObjectIdentifier`: const-oid 0.10 refuses a second arc above 39
//! even under the first arc 2 (X.690 §8.19.4 allows any), so it cannot hold the ITU-T
//! example arc `2.999`, and certificates from other PKIs may carry such OIDs. An [`Oid`]
//! keeps the exact DER content bytes, which is also how EKUs are compared (as webpki does).

/// Example arcs: the ITU-T example arc `2.999` (X.660) and IANA's documentation Private
/// Enterprise Number `1.3.6.1.4.1.32473` (RFC 5612). Fine for tests and the demo; a
/// registered PEN arc replaces them before a real ceremony.
const EXAMPLE_ARCS: [&[u32]; 2] = [&[2, 999], &[1, 3, 6, 1, 4, 1, 32473]];

/// An OBJECT IDENTIFIER with every arc ≤ `u32::MAX`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid {
    arcs: Vec<u32>,
    content: Vec<u8>,
}

/// Why an OID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OidError {
    /// Not dotted decimal with at least two arcs.
    #[error("`{oid}` is not a dotted-decimal OID (e.g. 1.3.6.1.4.1.<PEN>.1)")]
    Syntax { oid: String },
    /// An arc does not fit in 32 bits (NSS and RustCrypto const-oid reject such OIDs).
    #[error(
        "`{oid}`: arc {arc} does not fit in 32 bits; NSS and RustCrypto const-oid reject such \
         OIDs (UUID OIDs under 2.25 would break verifiers in the wild); use a Private \
         Enterprise Number arc (1.3.6.1.4.1.<PEN>)"
    )]
    ArcTooLarge { oid: String, arc: String },
    /// The first two arcs break X.660 (first arc 0..=2; second ≤ 39 under 0 and 1).
    #[error(
        "`{oid}` is not a valid OID: first arc must be 0, 1 or 2, and the second ≤ 39 under 0 and 1"
    )]
    Invalid { oid: String },
    /// DER content bytes that are not a well-formed OID.
    #[error("malformed OBJECT IDENTIFIER encoding {hex}")]
    Encoding { hex: String },
}

impl Oid {
    /// The DER content bytes (no tag, no length): what webpki's `KeyUsage::required` takes.
    pub fn der_content(&self) -> &[u8] {
        &self.content
    }

    /// Decode DER content bytes, refusing arcs over 32 bits.
    ///
    /// # Errors
    /// [`OidError::Encoding`] or [`OidError::ArcTooLarge`].
    pub fn from_der_content(content: &[u8]) -> Result<Self, OidError> {
        let bad = || OidError::Encoding {
            hex: hex::encode(content),
        };
        let mut subidentifiers = Vec::new();
        let mut value: u64 = 0;
        let mut fresh = true;
        for &byte in content {
            if fresh && byte == 0x80 {
                return Err(bad()); // non-minimal encoding
            }
            value = value
                .checked_mul(128)
                .and_then(|v| v.checked_add(u64::from(byte & 0x7f)))
                .ok_or_else(bad)?;
            fresh = byte & 0x80 == 0;
            if fresh {
                subidentifiers.push(value);
                value = 0;
            }
        }
        let Some((&first, rest)) = subidentifiers.split_first() else {
            return Err(bad());
        };
        if !fresh {
            return Err(bad());
        }
        let (a, b) = match first {
            0..40 => (0, first),
            40..80 => (1, first - 40),
            _ => (2, first - 80),
        };
        let mut arcs = vec![a];
        for arc in std::iter::once(b).chain(rest.iter().copied()) {
            let arc = u32::try_from(arc).map_err(|_| OidError::ArcTooLarge {
                oid: format!("(DER {})", hex::encode(content)),
                arc: arc.to_string(),
            })?;
            arcs.push(arc);
        }
        Ok(Self {
            arcs,
            content: content.to_vec(),
        })
    }

    /// Whether this OID sits under an example arc (`2.999` or RFC 5612's PEN 32473).
    pub fn is_example_arc(&self) -> bool {
        EXAMPLE_ARCS.iter().any(|arc| self.arcs.starts_with(arc))
    }

    /// Why some verifiers in the wild cannot parse this OID, if they can't: RustCrypto
    /// const-oid and pkilint (pyasn1-fasder) refuse a second arc above 39 under arc 2.
    pub fn portability_problem(&self) -> Option<String> {
        (self.arcs[0] == 2 && self.arcs[1] > 39).then(|| {
            format!(
                "{self}: a second arc above 39 is valid X.690 but RustCrypto const-oid (x509-cert) \
                 and pkilint refuse it; verifiers built on them cannot read this EKU"
            )
        })
    }
}

impl std::str::FromStr for Oid {
    type Err = OidError;

    fn from_str(oid: &str) -> Result<Self, OidError> {
        let parts: Vec<&str> = oid.split('.').collect();
        if parts.len() < 2
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(OidError::Syntax { oid: oid.into() });
        }
        let mut arcs = Vec::with_capacity(parts.len());
        for part in parts {
            let arc = part.parse::<u32>().map_err(|_| OidError::ArcTooLarge {
                oid: oid.into(),
                arc: part.into(),
            })?;
            arcs.push(arc);
        }
        if arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39) {
            return Err(OidError::Invalid { oid: oid.into() });
        }
        let mut content = Vec::new();
        let first = u64::from(arcs[0]) * 40 + u64::from(arcs[1]);
        for value in std::iter::once(first).chain(arcs[2..].iter().map(|a| u64::from(*a))) {
            push_base128(&mut content, value);
        }
        Ok(Self { arcs, content })
    }
}

fn push_base128(out: &mut Vec<u8>, value: u64) {
    let groups = (64 - value.leading_zeros()).div_ceil(7).max(1);
    for i in (0..groups).rev() {
        let byte = ((value >> (7 * i)) & 0x7f) as u8;
        out.push(if i == 0 { byte } else { byte | 0x80 });
    }
}

impl std::fmt::Display for Oid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: Vec<String> = self.arcs.iter().map(u32::to_string).collect();
        f.write_str(&text.join("."))
    }
}

impl std::fmt::Debug for Oid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Oid({self})")
    }
}

/// extKeyUsage extension id (RFC 5280 §4.2.1.12).
pub const EXTENDED_KEY_USAGE: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("2.5.29.37");

/// DER of `ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId`.
///
/// # Errors
/// Only on absurd lengths.
pub fn encode_eku(purposes: &[Oid]) -> der::Result<Vec<u8>> {
    use der::Encode;
    let oids = purposes
        .iter()
        .map(|oid| der::asn1::AnyRef::new(der::Tag::ObjectIdentifier, oid.der_content()))
        .collect::<der::Result<Vec<_>>>()?;
    oids.to_der()
}

/// Parse an extKeyUsage extension value into OIDs (any arcs ≤ 32 bits, incl. 2.999).
///
/// # Errors
/// Malformed DER, a non-OID element, an empty list, or an over-large arc.
pub fn decode_eku(extn_value: &[u8]) -> Result<Vec<Oid>, String> {
    use der::{Decode, Tagged};
    let elements = Vec::<der::asn1::AnyRef<'_>>::from_der(extn_value)
        .map_err(|e| format!("malformed extendedKeyUsage: {e}"))?;
    if elements.is_empty() {
        return Err("extendedKeyUsage is an empty list".into());
    }
    elements
        .iter()
        .map(|any| {
            if any.tag() != der::Tag::ObjectIdentifier {
                return Err(format!(
                    "extendedKeyUsage holds a {} instead of an OID",
                    any.tag()
                ));
            }
            Oid::from_der_content(any.value()).map_err(|e| e.to_string())
        })
        .collect()
}

/// The EKUs of a certificate: `Ok(None)` without the extension.
///
/// # Errors
/// A malformed extension.
pub fn certificate_ekus(cert: &x509_cert::Certificate) -> Result<Option<Vec<Oid>>, String> {
    let extensions = cert
        .tbs_certificate()
        .extensions()
        .map(|e| e.as_slice())
        .unwrap_or_default();
    extensions
        .iter()
        .find(|ext| ext.extn_id == EXTENDED_KEY_USAGE)
        .map(|ext| decode_eku(ext.extn_value.as_bytes()))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(text: &str) -> Oid {
        text.parse().unwrap()
    }

    #[test]
    fn encodes_like_der() {
        // 1.3.6.1.4.1.57264.1.1 and the example arc, against hand-checked DER contents.
        assert_eq!(
            hex::encode(oid("1.3.6.1.4.1.57264.1.1").der_content()),
            "2b0601040183bf300101"
        );
        assert_eq!(
            hex::encode(oid("2.999.1.1").der_content()),
            "8837 0101".replace(' ', "")
        );
        assert_eq!(hex::encode(oid("2.5.29.37").der_content()), "551d25");
    }

    #[test]
    fn der_round_trip_including_arcs_const_oid_refuses() {
        for text in [
            "2.999.1.3",
            "1.3.6.1.5.5.7.3.3",
            "2.40.0",
            "1.3.4294967295",
            "0.0",
        ] {
            let parsed = oid(text);
            let back = Oid::from_der_content(parsed.der_content()).unwrap();
            assert_eq!(back.to_string(), text);
            assert_eq!(back, parsed);
        }
    }

    #[test]
    fn rejects_uuid_oid_with_explanation() {
        let err = "2.25.329800735698586629295641978511506172918"
            .parse::<Oid>()
            .unwrap_err();
        assert!(
            matches!(err, OidError::ArcTooLarge { ref arc, .. } if arc == "329800735698586629295641978511506172918")
        );
        assert!(err.to_string().contains("32 bits"));
    }

    #[test]
    fn rejects_arc_just_over_u32() {
        assert!(matches!(
            "1.3.4294967296".parse::<Oid>(),
            Err(OidError::ArcTooLarge { .. })
        ));
        let big = [0x2b, 0x90, 0x80, 0x80, 0x80, 0x00]; // 1.3.2^32
        assert!(matches!(
            Oid::from_der_content(&big),
            Err(OidError::ArcTooLarge { .. })
        ));
    }

    #[test]
    fn rejects_bad_syntax_and_encoding() {
        for bad in ["", "1", "1..2", "1.2.", "a.b", "1.2.-3", " 1.2"] {
            assert!(
                matches!(bad.parse::<Oid>(), Err(OidError::Syntax { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            "3.1".parse::<Oid>(),
            Err(OidError::Invalid { .. })
        ));
        assert!(matches!(
            "1.40".parse::<Oid>(),
            Err(OidError::Invalid { .. })
        ));
        for bad in [&[][..], &[0x2b, 0x86][..], &[0x2b, 0x80, 0x01][..]] {
            assert!(
                matches!(Oid::from_der_content(bad), Err(OidError::Encoding { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn eku_extension_round_trips() {
        let purposes = vec![oid("2.999.1.1"), oid("1.3.6.1.5.5.7.3.3")];
        let der = encode_eku(&purposes).unwrap();
        assert_eq!(hex::encode(&der[..6]), "301006048837");
        assert_eq!(decode_eku(&der).unwrap(), purposes);
        assert!(decode_eku(&[0x30, 0x00]).is_err());
        assert!(
            decode_eku(&[0x30, 0x03, 0x02, 0x01, 0x01])
                .unwrap_err()
                .contains("instead of an OID")
        );
    }

    #[test]
    fn detects_example_arc() {
        assert!(oid("2.999.1.1").is_example_arc());
        assert!(oid("1.3.6.1.4.1.32473.1.1").is_example_arc());
        assert!(!oid("1.3.6.1.4.1.3247.1").is_example_arc());
        assert!(oid("2.999.1.1").portability_problem().is_some());
        assert!(oid("2.39.1").portability_problem().is_none());
        assert!(oid("1.3.6.1.4.1.32473.1.1").portability_problem().is_none());
        assert!(!oid("2.9999.1").is_example_arc());
        assert!(!oid("1.3.6.1.4.1.57264.1").is_example_arc());
    }
}
