//! Object identifiers as their DER content bytes, which is how rustls-webpki compares EKUs.
//!
//! Not `const_oid::ObjectIdentifier` (der 0.8 / x509-cert 0.3): const-oid 0.10 rejects a
//! second arc above 39 even under arc 2, so it can neither parse nor decode `2.999.1.1`, the
//! placeholder arc of our policy (`ArcInvalid { arc: 999 }` / `OidMalformed`).

use std::fmt;

use der::{Decode, Reader, SliceReader, Tag, Tagged, asn1::AnyRef};
use serde::{Serialize, Serializer};

/// An OBJECT IDENTIFIER, held as DER content bytes (no tag, no length).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Oid {
    content: Vec<u8>,
}

impl Oid {
    /// From DER content bytes, if they are well-formed (minimal base-128 subidentifiers).
    pub fn from_der_content(content: &[u8]) -> Option<Self> {
        let well_formed = content.last().is_some_and(|last| last & 0x80 == 0)
            && content
                .iter()
                .enumerate()
                .all(|(i, &b)| b != 0x80 || (i > 0 && content[i - 1] & 0x80 != 0));
        well_formed.then(|| Self {
            content: content.to_vec(),
        })
    }

    /// The DER content bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.content
    }

    /// The arcs (`2.999.1.1` → `[2, 999, 1, 1]`); `None` if one does not fit in 128 bits.
    pub fn arcs(&self) -> Option<Vec<u128>> {
        let subids = self.subidentifiers()?;
        let (&first, rest) = subids.split_first()?;
        let (a, b) = match first {
            0..40 => (0, first),
            40..80 => (1, first - 40),
            _ => (2, first - 80),
        };
        Some([a, b].into_iter().chain(rest.iter().copied()).collect())
    }

    /// Subidentifiers as encoded; `None` if one does not fit in 128 bits.
    fn subidentifiers(&self) -> Option<Vec<u128>> {
        let mut out = Vec::new();
        let mut value: u128 = 0;
        for &byte in &self.content {
            value = value.checked_mul(128)? | u128::from(byte & 0x7f);
            if byte & 0x80 == 0 {
                out.push(value);
                value = 0;
            }
        }
        Some(out)
    }
}

impl Oid {
    /// Parses dotted decimal, e.g. `2.999.1.1` or `1.3.6.1.4.1.55555.7`; the error says
    /// what is wrong. `FromStr` (in [`crate::purpose`]) wraps it in [`Error::InvalidOid`].
    ///
    /// [`Error::InvalidOid`]: crate::Error::InvalidOid
    pub(crate) fn parse_dotted(s: &str) -> Result<Self, &'static str> {
        let arcs = s
            .split('.')
            .map(|arc| {
                if arc.is_empty() || !arc.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("arcs must be decimal numbers separated by dots");
                }
                arc.parse::<u128>()
                    .map_err(|_| "an arc does not fit in 128 bits")
            })
            .collect::<Result<Vec<u128>, _>>()?;
        let (first, second, rest) = match arcs.as_slice() {
            [first, second, rest @ ..] => (*first, *second, rest),
            _ => return Err("an OID has at least two arcs"),
        };
        if first > 2 || (first < 2 && second > 39) {
            return Err("the first arc is 0, 1 or 2, and the second at most 39 under 0 and 1");
        }
        let first_subidentifier = (first * 40)
            .checked_add(second)
            .ok_or("an arc does not fit in 128 bits")?;
        let mut content = Vec::new();
        encode_subidentifier(first_subidentifier, &mut content);
        for &arc in rest {
            encode_subidentifier(arc, &mut content);
        }
        Ok(Self { content })
    }
}

fn encode_subidentifier(value: u128, out: &mut Vec<u8>) {
    let mut groups = vec![(value & 0x7f) as u8];
    let mut rest = value >> 7;
    while rest > 0 {
        groups.push((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    out.extend(groups.iter().rev());
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(subids) = self.subidentifiers() else {
            // Arcs beyond 128 bits: show the encoding rather than a wrong number.
            f.write_str("oid:")?;
            return self.content.iter().try_for_each(|b| write!(f, "{b:02x}"));
        };
        for (i, subid) in subids.iter().enumerate() {
            if i == 0 {
                let (first, second) = match subid {
                    0..40 => (0, *subid),
                    40..80 => (1, subid - 40),
                    _ => (2, subid - 80),
                };
                write!(f, "{first}.{second}")?;
            } else {
                write!(f, ".{subid}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

impl Serialize for Oid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId` (an empty one yields no OIDs).
///
/// # Errors
/// Malformed DER or an element that is not an OID.
pub fn decode_eku(value: &[u8]) -> der::Result<Vec<Oid>> {
    let mut reader = SliceReader::new(value)?;
    let oids = reader.sequence(|seq: &mut SliceReader<'_>| {
        let mut oids = Vec::new();
        while !seq.is_finished() {
            let any = AnyRef::decode(seq)?;
            any.tag().assert_eq(Tag::ObjectIdentifier)?;
            let oid = Oid::from_der_content(any.value())
                .ok_or_else(|| der::Error::from(der::ErrorKind::OidMalformed))?;
            oids.push(oid);
        }
        Ok::<_, der::Error>(oids)
    })?;
    reader.finish()?;
    Ok(oids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_placeholder_arc_under_2() {
        let oid: Oid = "2.999.1.1".parse().unwrap();
        assert_eq!(oid.as_bytes(), [0x88, 0x37, 0x01, 0x01]);
        assert_eq!(oid.to_string(), "2.999.1.1");
    }

    #[test]
    fn round_trips_common_oids() {
        for dotted in [
            "1.3.6.1.4.1.55555.7",
            "1.3.6.1.5.5.7.3.3",
            "2.5.29.37.0",
            "0.9.2342",
            "1.39",
            "2.25.329800735698586629295641978511506172918",
        ] {
            let oid: Oid = dotted.parse().unwrap();
            assert_eq!(oid.to_string(), dotted);
            assert_eq!(Oid::from_der_content(oid.as_bytes()), Some(oid));
        }
        // codeSigning, as in certificates.
        let der = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
        assert_eq!(
            Oid::from_der_content(&der).unwrap().to_string(),
            "1.3.6.1.5.5.7.3.3"
        );
    }

    #[test]
    fn rejects_invalid_dotted_forms() {
        for bad in [
            "",
            "1",
            "3.1",
            "1.40",
            "1..2",
            "1.2.",
            "a.b",
            "-1.2",
            "1.2.+3",
            "2.340282366920938463463374607431768211455",
        ] {
            assert!(bad.parse::<Oid>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rejects_malformed_content() {
        assert_eq!(Oid::from_der_content(&[]), None);
        assert_eq!(Oid::from_der_content(&[0x2b, 0x86]), None); // unterminated
        assert_eq!(Oid::from_der_content(&[0x2b, 0x80, 0x01]), None); // non-minimal
    }
}
