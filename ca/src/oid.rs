//! Purpose OIDs under the CA's rules. The [`Oid`] type itself is the verifier's (DER
//! content bytes, as webpki compares EKUs): const-oid 0.10, x509-cert's OID type, refuses
//! a second arc above 39 even under arc 2 (X.690 §8.19.4 allows any), so it cannot hold
//! the ITU-T example arc `2.999`, which other PKIs' certificates may carry.

pub use rust_pki_verify::{Oid, decode_eku};

/// Example arcs: the ITU-T example arc `2.999` (X.660) and IANA's documentation Private
/// Enterprise Number `1.3.6.1.4.1.32473` (RFC 5612). Fine for tests and the demo; a
/// registered PEN arc replaces them before a real ceremony.
const EXAMPLE_ARCS: [&[u128]; 2] = [&[2, 999], &[1, 3, 6, 1, 4, 1, 32473]];

/// extKeyUsage extension id (RFC 5280 §4.2.1.12).
pub const EXTENDED_KEY_USAGE: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("2.5.29.37");

/// Why an OID was refused for policy use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OidError {
    /// Not a valid dotted-decimal OID.
    #[error("`{oid}` is not a valid OID ({reason}); e.g. 1.3.6.1.4.1.<PEN>.1")]
    Syntax {
        /// The OID, as given.
        oid: String,
        /// Why it does not parse.
        reason: String,
    },
    /// An arc does not fit in 32 bits (NSS and RustCrypto const-oid reject such OIDs).
    #[error(
        "`{oid}`: arc {arc} does not fit in 32 bits; NSS and RustCrypto const-oid reject such \
         OIDs (UUID OIDs under 2.25 would break verifiers in the wild); use a Private \
         Enterprise Number arc (1.3.6.1.4.1.<PEN>)"
    )]
    ArcTooLarge {
        /// The OID, as given.
        oid: String,
        /// The arc that does not fit.
        arc: String,
    },
}

/// Parse an OID for use in policy: valid, and every arc ≤ `u32::MAX`.
///
/// # Errors
/// See [`OidError`].
pub fn parse_policy_oid(text: &str) -> Result<Oid, OidError> {
    if let Some(arc) = text.split('.').find(|arc| {
        !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()) && arc.parse::<u32>().is_err()
    }) {
        return Err(OidError::ArcTooLarge {
            oid: text.into(),
            arc: arc.into(),
        });
    }
    text.parse::<Oid>().map_err(|e| OidError::Syntax {
        oid: text.into(),
        reason: e.to_string(),
    })
}

/// Whether an OID sits under an example arc (`2.999` or RFC 5612's PEN 32473).
pub fn is_example_arc(oid: &Oid) -> bool {
    oid.arcs()
        .is_some_and(|arcs| EXAMPLE_ARCS.iter().any(|arc| arcs.starts_with(arc)))
}

/// Why some verifiers in the wild cannot parse this OID, if they can't: RustCrypto
/// const-oid and pkilint (pyasn1-fasder) refuse a second arc above 39 under arc 2.
pub fn portability_problem(oid: &Oid) -> Option<String> {
    let arcs = oid.arcs()?;
    (arcs.first() == Some(&2) && arcs.get(1).is_some_and(|second| *second > 39)).then(|| {
        format!(
            "{oid}: a second arc above 39 is valid X.690 but RustCrypto const-oid (x509-cert) \
             and pkilint refuse it; verifiers built on them cannot read this EKU"
        )
    })
}

/// DER of `ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId`.
///
/// # Errors
/// Only on absurd lengths.
pub fn encode_eku(purposes: &[Oid]) -> der::Result<Vec<u8>> {
    use der::Encode;
    let oids = purposes
        .iter()
        .map(|oid| der::asn1::AnyRef::new(der::Tag::ObjectIdentifier, oid.as_bytes()))
        .collect::<der::Result<Vec<_>>>()?;
    oids.to_der()
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
        .map(|ext| {
            decode_eku(ext.extn_value.as_bytes())
                .map_err(|e| format!("malformed extendedKeyUsage: {e}"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(text: &str) -> Oid {
        parse_policy_oid(text).unwrap()
    }

    #[test]
    fn accepts_pen_and_example_arcs() {
        assert_eq!(
            hex::encode(oid("1.3.6.1.4.1.57264.1.1").as_bytes()),
            "2b0601040183bf300101"
        );
        assert_eq!(hex::encode(oid("2.999.1.1").as_bytes()), "88370101");
        assert!(parse_policy_oid("1.3.4294967295").is_ok());
    }

    #[test]
    fn rejects_uuid_oid_with_explanation() {
        let err = parse_policy_oid("2.25.329800735698586629295641978511506172918").unwrap_err();
        assert!(
            matches!(err, OidError::ArcTooLarge { ref arc, .. } if arc == "329800735698586629295641978511506172918")
        );
        assert!(err.to_string().contains("32 bits"));
        assert!(matches!(
            parse_policy_oid("1.3.4294967296"),
            Err(OidError::ArcTooLarge { .. })
        ));
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in [
            "", "1", "1..2", "1.2.", "a.b", "1.2.-3", " 1.2", "3.1", "1.40",
        ] {
            assert!(
                matches!(parse_policy_oid(bad), Err(OidError::Syntax { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn eku_extension_round_trips() {
        let purposes = vec![oid("2.999.1.1"), oid("1.3.6.1.5.5.7.3.3")];
        let der = encode_eku(&purposes).unwrap();
        assert_eq!(hex::encode(&der[..6]), "301006048837");
        assert_eq!(decode_eku(&der).unwrap(), purposes);
        assert!(decode_eku(&[0x30, 0x03, 0x02, 0x01, 0x01]).is_err());
    }

    #[test]
    fn detects_example_arcs_and_portability_problems() {
        assert!(is_example_arc(&oid("2.999.1.1")));
        assert!(is_example_arc(&oid("1.3.6.1.4.1.32473.1.1")));
        assert!(!is_example_arc(&oid("2.9999.1")));
        assert!(!is_example_arc(&oid("1.3.6.1.4.1.3247.1")));
        assert!(portability_problem(&oid("2.999.1.1")).is_some());
        assert!(portability_problem(&oid("2.39.1")).is_none());
        assert!(portability_problem(&oid("1.3.6.1.4.1.32473.1.1")).is_none());
    }
}
