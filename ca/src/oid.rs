//! Purpose OIDs from policy: parsed strictly, every arc within 32 bits.

use const_oid::ObjectIdentifier;

/// The ITU-T example arc (X.660 §A.2: `2.999`, never assigned). Fine for tests and the
/// demo; a registered Private Enterprise Number arc replaces it before a real ceremony.
pub const EXAMPLE_ARC: &str = "2.999";

/// Why a dotted OID string was refused.
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
    /// Valid syntax, but const-oid refused it (e.g. first arc > 2).
    #[error("`{oid}` is not a valid OID: {reason}")]
    Invalid { oid: String, reason: String },
}

/// Parse a purpose OID, refusing arcs larger than `u32::MAX` with an explanation.
///
/// # Errors
/// See [`OidError`].
pub fn parse_oid(oid: &str) -> Result<ObjectIdentifier, OidError> {
    let arcs: Vec<&str> = oid.split('.').collect();
    if arcs.len() < 2
        || arcs
            .iter()
            .any(|arc| arc.is_empty() || !arc.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(OidError::Syntax { oid: oid.into() });
    }
    if let Some(arc) = arcs.iter().find(|arc| arc.parse::<u32>().is_err()) {
        return Err(OidError::ArcTooLarge {
            oid: oid.into(),
            arc: (*arc).into(),
        });
    }
    ObjectIdentifier::new(oid).map_err(|e| OidError::Invalid {
        oid: oid.into(),
        reason: e.to_string(),
    })
}

/// Whether an OID sits under the ITU-T example arc `2.999`.
pub fn is_example_arc(oid: &ObjectIdentifier) -> bool {
    let text = oid.to_string();
    text == EXAMPLE_ARC || text.starts_with("2.999.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_pen_arc() {
        assert_eq!(
            parse_oid("1.3.6.1.4.1.57264.1.1").unwrap().to_string(),
            "1.3.6.1.4.1.57264.1.1"
        );
    }

    #[test]
    fn rejects_uuid_oid_with_explanation() {
        let err = parse_oid("2.25.329800735698586629295641978511506172918").unwrap_err();
        assert!(
            matches!(err, OidError::ArcTooLarge { ref arc, .. } if arc == "329800735698586629295641978511506172918")
        );
        assert!(err.to_string().contains("32 bits"));
    }

    #[test]
    fn rejects_arc_just_over_u32() {
        assert!(matches!(
            parse_oid("1.3.4294967296"),
            Err(OidError::ArcTooLarge { .. })
        ));
        assert!(parse_oid("1.3.4294967295").is_ok());
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in ["", "1", "1..2", "1.2.", "a.b", "1.2.-3", " 1.2"] {
            assert!(
                matches!(parse_oid(bad), Err(OidError::Syntax { .. })),
                "{bad}"
            );
        }
        assert!(matches!(parse_oid("3.1"), Err(OidError::Invalid { .. })));
    }

    #[test]
    fn detects_example_arc() {
        assert!(is_example_arc(&parse_oid("2.999.1.1").unwrap()));
        assert!(!is_example_arc(&parse_oid("2.9999.1").unwrap()));
        assert!(!is_example_arc(&parse_oid("1.3.6.1.4.1.57264.1").unwrap()));
    }
}
