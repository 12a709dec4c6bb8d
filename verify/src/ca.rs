//! Verification of a CA certificate (a delegate) as the subject of the check, rather than a
//! leaf: [`verify_ca`].
//!
//! Delegate CA certificates ship with their own stapled log bundle, whose chain starts with the
//! delegate. rustls-webpki only validates paths to an end entity and refuses a CA certificate
//! there (`CaUsedAsEndEntity`, our [`Error::CaAsLeaf`]), so this is not webpki path building:
//! it is a direct check of a short, ordered CA path (usually just `[delegate]` under the pinned
//! root), rule by rule, with the same per-certificate checks the leaf path uses for attribution
//! and policy (signatures through [`crate::signed`], validity, EKU with [`Purpose`], CRLs with
//! [`crate::crl`]). It does not build paths (the chain must be in order), and it does not
//! process name constraints or policy extensions: this PKI issues none, and the leaf path keeps
//! rustls-webpki for everything it can validate.

use time::OffsetDateTime;

use crate::cert::{Chain, ParsedCert, Root};
use crate::crl::{self, Crl};
use crate::error::{Error, Position};
use crate::profile::{self, Role};
use crate::purpose::Purpose;
use crate::report::VerifiedChain;
use crate::times::unix_secs;

/// Verifies `chain`, whose first certificate is a CA (a delegate), against the pinned `root`
/// for `purpose` at time `at`, checking revocation against `crls` (may be empty).
///
/// The chain is ordered: the CA to verify first, then its issuers up to (not necessarily
/// including) the root. Rules, in the order they are checked:
/// - the first certificate has basicConstraints cA true ([`Error::LeafAsCa`] otherwise: use
///   [`crate::verify`] for a leaf);
/// - the certificate profile on every certificate, each as a CA, the root included (see
///   [`crate::verify`]);
/// - every CRL is authenticated by a CA of the inputs and current (as for [`crate::verify`]);
/// - each certificate's issuer name is the next certificate's subject, and the last one's is
///   the root's ([`Error::IssuerNotNext`], [`Error::UnknownIssuer`]); each issuer is a CA
///   ([`Error::NotACa`]) whose key verifies the certificate's signature
///   ([`Error::BadSignature`], [`Error::UnsupportedSignatureAlgorithm`]);
/// - each issuer's pathLenConstraint, the root's included, allows the CA certificates between
///   it and the first one (RFC 5280 §6.1.4: the first certificate ends the path and is not
///   counted) ([`Error::PathLenViolated`]);
/// - every certificate and the root are valid at `at` ([`Error::Expired`],
///   [`Error::NotYetValid`]);
/// - each certificate's AKI is its issuer's SKI and its validity is inside its issuer's;
/// - the purpose's EKU is in every certificate below the root ([`Error::MissingEku`],
///   [`Error::WrongEku`]);
/// - no certificate is on a supplied CRL of its issuer ([`Error::Revoked`]); as in
///   [`crate::verify`], a level without a CRL is not checked.
///
/// In errors and in the report the first certificate's position is [`Position::Ca`].
///
/// # Errors
/// The first broken rule, naming the certificate (or CRL file) that broke it.
pub fn verify_ca(
    root: &Root,
    chain: &Chain,
    crls: &[Crl],
    purpose: &Purpose,
    at: OffsetDateTime,
) -> Result<VerifiedChain, Error> {
    if unix_secs(at).is_none() {
        return Err(Error::TimeOutOfRange { at });
    }
    let Some((first, rest)) = chain.certs.split_first() else {
        return Err(Error::NothingFound {
            file: String::from("<chain>"),
            expected: "certificate",
        });
    };
    if !first.is_ca() {
        return Err(Error::LeafAsCa {
            cert: first.id.clone().into(),
        });
    }
    let mut target = first.clone();
    target.id.position = Position::Ca;
    // Below the root, CA first; copies of the pinned root are dropped, as for a leaf chain.
    let below_root: Vec<&ParsedCert> = std::iter::once(&target)
        .chain(rest.iter().filter(|c| c.der != root.cert.der))
        .collect();
    let root = &root.cert;
    for cert in &below_root {
        profile::check(cert, Role::Ca)?;
    }
    profile::check(root, Role::Root)?;

    let cas: Vec<&ParsedCert> = std::iter::once(root)
        .chain(below_root.iter().copied())
        .collect();
    let checked_crls = crl::check_all(crls, &cas, at)?;

    let issuers: Vec<&ParsedCert> = below_root
        .iter()
        .skip(1)
        .copied()
        .chain(std::iter::once(root))
        .collect();
    for (i, (cert, issuer)) in below_root.iter().zip(&issuers).enumerate() {
        check_issued_by(cert, issuer, root)?;
        // Certificates strictly between the issuer (index i + 1) and the first one (index 0).
        check_path_len(issuer, i)?;
    }

    for cert in &below_root {
        cert.check_validity(at)?;
    }
    root.check_validity(at)?;

    for (cert, issuer) in below_root.iter().zip(&issuers) {
        profile::check_issued(cert, issuer, std::ptr::eq(*issuer, root))?;
    }

    for cert in &below_root {
        purpose.check(cert)?;
    }

    for (cert, issuer) in below_root.iter().zip(&issuers) {
        if let Some(revoked) = crls.iter().find_map(|crl| crl.revocation_of(cert, issuer)) {
            return Err(revoked);
        }
    }

    let mut path = below_root;
    path.push(root);
    Ok(VerifiedChain::new(purpose, at, &path, checked_crls))
}

/// `cert` names `issuer` as its issuer, `issuer` is a CA, and its key signed `cert`.
fn check_issued_by(cert: &ParsedCert, issuer: &ParsedCert, root: &ParsedCert) -> Result<(), Error> {
    if cert.issuer() != issuer.subject() {
        return Err(if std::ptr::eq(issuer, root) {
            Error::UnknownIssuer {
                cert: cert.id.clone().into(),
                issuer: cert.issuer().to_string(),
                root: root.id.subject.clone(),
            }
        } else {
            Error::IssuerNotNext {
                cert: cert.id.clone().into(),
                issuer: cert.issuer().to_string(),
                next: issuer.id.clone().into(),
            }
        });
    }
    // The pinned root's basicConstraints were checked by the profile; a certificate of the
    // chain that issues must be a CA.
    if !std::ptr::eq(issuer, root) && !issuer.is_ca() {
        return Err(Error::NotACa {
            cert: issuer.id.clone().into(),
        });
    }
    cert.check_signed_by(issuer)
}

/// `issuer`'s pathLenConstraint, if any, allows `sub_cas` CA certificates below it (the
/// first certificate of the chain, which ends the path, not counted).
fn check_path_len(issuer: &ParsedCert, sub_cas: usize) -> Result<(), Error> {
    match issuer.basic_constraints() {
        Some(bc) => match bc.path_len_constraint {
            Some(path_len) if sub_cas > usize::from(path_len) => Err(Error::PathLenViolated {
                cert: issuer.id.clone().into(),
                path_len,
                sub_cas,
            }),
            _ => Ok(()),
        },
        None => Ok(()),
    }
}
