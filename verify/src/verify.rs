//! The verification: explicit CRL checks, path validation by rustls-webpki with our policy
//! layer as its path callback, then a report or an attributed error.
//!
//! Revocation policy, when CRLs are given: rustls-webpki checks every certificate of the path
//! (depth `Chain`) against the CRL of its issuer and enforces nextUpdate (`Enforce`). A level
//! for which no CRL was supplied is allowed (`UnknownStatusPolicy::Allow`): with `Deny` every
//! CA level needs a CRL, so a caller passing only a delegate's CRL would fail every chain for
//! want of a root CRL, while passing no CRL at all turns revocation checking off. With
//! `Allow`, supplying a CRL is never weaker than supplying none. What is supplied is checked
//! strictly (see [`crate::crl`]: every CRL must authenticate against a CA of the inputs,
//! whether or not that CA is on the path, and be current), and the report lists the CRLs
//! that were checked so a caller can require the ones it expects.

use std::cell::RefCell;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;
use webpki::{
    BorrowedCertRevocationList, CertRevocationList, EndEntityCert, ExpirationPolicy,
    ExtendedKeyUsageValidator, RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
    VerifiedPath,
};

use crate::cert::{Chain, ParsedCert, Root};
use crate::chain::Store;
use crate::crl::{self, Crl};
use crate::diagnose::{self, Context};
use crate::error::Error;
use crate::profile::{self, Role};
use crate::purpose::Purpose;
use crate::report::VerifiedChain;
use crate::signed::ALGS;
use crate::times::unix_secs;

/// Verifies `chain` against the pinned `root` for `purpose` at time `at`, checking
/// revocation against `crls` (may be empty).
///
/// Rules: the certificate profile on every certificate supplied, the root included (the
/// leaf must be an end entity, never a CA, and every other certificate a CA; the rules are
/// the profile variants of [`Error`], from [`Error::NotV3`] to
/// [`Error::DisallowedSignatureAlgorithm`]); a path from the leaf through intermediates of
/// `chain` to `root` that rustls-webpki accepts (signatures, validity, basicConstraints and
/// pathLen, name constraints, EKU, CRLs); the purpose's EKU in the leaf and every
/// intermediate (checked again with x509-cert); the root valid at `at` (rustls-webpki does
/// not check anchors' validity); each certificate's AKI equal to its issuer's SKI and its
/// validity inside its issuer's (except under a cross-certificate); every CRL authenticated
/// and current.
///
/// # Errors
/// The first broken rule, naming the certificate (or CRL file) that broke it.
pub fn verify(
    root: &Root,
    chain: &Chain,
    crls: &[Crl],
    purpose: &Purpose,
    at: OffsetDateTime,
) -> Result<VerifiedChain, Error> {
    verify_with(root, chain, crls, purpose, at, purpose.validator())
}

/// [`verify`] with the EKU validator handed to rustls-webpki as a parameter, so a test can
/// switch it off and see the policy layer reject on its own.
fn verify_with(
    root: &Root,
    chain: &Chain,
    crls: &[Crl],
    purpose: &Purpose,
    at: OffsetDateTime,
    eku: impl ExtendedKeyUsageValidator,
) -> Result<VerifiedChain, Error> {
    let time = u64::try_from(at.unix_timestamp())
        .map(|secs| UnixTime::since_unix_epoch(Duration::from_secs(secs)))
        .map_err(|_| Error::TimeOutOfRange { at })?;
    let store = Store::new(root, chain)?;
    // The profile of every certificate supplied, before path building: a CA is never
    // accepted as the leaf, and every certificate in the chain file must be a proper CA.
    profile::check(store.leaf, Role::EndEntity)?;
    for cert in &store.intermediates {
        profile::check(cert, Role::Ca)?;
    }
    profile::check(store.root, Role::Root)?;
    let checked_crls = crl::check_all(crls, &store.cas(), at)?;

    let anchor = webpki::anchor_from_trusted_cert(&store.root.der)
        .map_err(|source| unsupported(store.root, source))?;
    let anchors = [anchor];
    let intermediates: Vec<CertificateDer<'_>> = store
        .intermediates
        .iter()
        .map(|c| CertificateDer::from(c.der.as_ref()))
        .collect();
    let leaf = EndEntityCert::try_from(&store.leaf.der)
        .map_err(|source| unsupported(store.leaf, source))?;

    let webpki_crls = crls
        .iter()
        .map(|crl| {
            BorrowedCertRevocationList::from_der(&crl.der)
                .map(CertRevocationList::from)
                .map_err(|source| Error::UnsupportedCrl {
                    file: crl.file.clone(),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let crl_refs: Vec<&CertRevocationList<'_>> = webpki_crls.iter().collect();
    // `new` refuses an empty list: no CRLs, no revocation options.
    let revocation = RevocationOptionsBuilder::new(&crl_refs)
        .ok()
        .map(|builder| {
            builder
                .with_depth(RevocationCheckDepth::Chain)
                .with_status_policy(UnknownStatusPolicy::Allow)
                .with_expiration_policy(ExpirationPolicy::Enforce)
                .build()
        });

    let cx = Context {
        store: &store,
        crls,
        purpose,
        at,
    };
    // The callback can only return webpki errors: ours are kept here, with the webpki error
    // each was reported as, so the final error can be traced back to them.
    let policy_errors = RefCell::new(Vec::new());
    let policy = |path: &VerifiedPath<'_>| {
        check_policy(&cx, path).map_err(|error| {
            let proxy = proxy(&error, time);
            policy_errors.borrow_mut().push((error, proxy.clone()));
            proxy
        })
    };

    let result = leaf.verify_for_usage(
        ALGS,
        &anchors,
        &intermediates,
        time,
        eku,
        revocation,
        Some(&policy),
    );
    match result {
        Ok(path) => {
            let mut certs = vec![store.leaf];
            for cert in path.intermediate_certificates() {
                certs.push(known(&store, cert.der().as_ref())?);
            }
            certs.push(store.root);
            Ok(VerifiedChain::new(purpose, at, &certs, checked_crls))
        }
        Err(theirs) => Err(diagnose::attribute(theirs, policy_errors.take(), &cx)),
    }
}

/// Our policy layer on a path rustls-webpki has accepted: purpose EKU and validity of every
/// certificate below the root, the profile's rules between each certificate and its issuer
/// (AKI, nested validity), and validity of the root.
fn check_policy(cx: &Context<'_, '_>, path: &VerifiedPath<'_>) -> Result<(), Error> {
    let mut below_root = vec![known(cx.store, path.end_entity().der().as_ref())?];
    for cert in path.intermediate_certificates() {
        below_root.push(known(cx.store, cert.der().as_ref())?);
    }
    let issuers = below_root
        .iter()
        .skip(1)
        .copied()
        .chain(std::iter::once(cx.store.root));
    for cert in &below_root {
        cert.check_validity(cx.at)?;
        cx.purpose.check(cert)?;
    }
    cx.store.root.check_validity(cx.at)?;
    for (cert, issuer) in below_root.iter().zip(issuers) {
        profile::check_issued(cert, issuer, std::ptr::eq(issuer, cx.store.root))?;
    }
    Ok(())
}

/// A certificate of the path, as loaded. rustls-webpki only builds paths from the
/// certificates it was given, so a miss is a bug; it fails closed.
fn known<'a>(store: &Store<'a>, der: &[u8]) -> Result<&'a ParsedCert, Error> {
    store.by_der(der).ok_or(Error::Path {
        source: webpki::Error::UnknownIssuer,
    })
}

/// The rustls-webpki error a policy error is reported as (it ranks the errors of candidate
/// paths); `diagnose::attribute` maps it back.
fn proxy(error: &Error, time: UnixTime) -> webpki::Error {
    let unix = |t| UnixTime::since_unix_epoch(Duration::from_secs(unix_secs(t).unwrap_or(0)));
    match error {
        Error::Expired { not_after, .. } => webpki::Error::CertExpired {
            time,
            not_after: unix(*not_after),
        },
        Error::NotYetValid { not_before, .. } => webpki::Error::CertNotValidYet {
            time,
            not_before: unix(*not_before),
        },
        #[allow(deprecated)] // see `purpose::RequiredEku`
        Error::MissingEku { .. } | Error::WrongEku { .. } => webpki::Error::RequiredEkuNotFound,
        _ => webpki::Error::BadDer,
    }
}

fn unsupported(cert: &ParsedCert, source: webpki::Error) -> Error {
    Error::UnsupportedCert {
        file: cert.file.clone(),
        index: cert.index,
        source,
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, PKCS_ECDSA_P384_SHA384,
    };
    use time::macros::datetime;
    use webpki::KeyPurposeIdIter;

    use super::*;
    use crate::error::Position;

    /// Accepts any EKU, like a library that only checks the leaf would.
    struct AnyEku;

    impl ExtendedKeyUsageValidator for AnyEku {
        fn validate(&self, mut iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
            iter.try_for_each(|id| id.map(drop))
        }
    }

    fn params(cn: &str, ca: bool, eku: Option<&[u64]>) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, cn);
        (params.is_ca, params.key_usages) = if ca {
            (
                IsCa::Ca(BasicConstraints::Constrained(0)),
                vec![KeyUsagePurpose::KeyCertSign],
            )
        } else {
            (IsCa::ExplicitNoCa, vec![KeyUsagePurpose::DigitalSignature])
        };
        params.use_authority_key_identifier_extension = true;
        params.not_before = datetime!(2026-01-01 00:00 UTC);
        params.not_after = datetime!(2027-01-01 00:00 UTC);
        params.extended_key_usages = eku
            .map(|arcs| vec![ExtendedKeyUsagePurpose::Other(arcs.to_vec())])
            .unwrap_or_default();
        params
    }

    #[test]
    fn policy_layer_alone_rejects_delegate_without_eku() {
        let releases: &[u64] = &[2, 999, 1, 1];
        let key = || KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let (root_key, delegate_key, leaf_key) = (key(), key(), key());
        let root_params = params("Root", true, None);
        let root = root_params.self_signed(&root_key).unwrap();
        let delegate_params = params("Delegate", true, None);
        let delegate = delegate_params
            .signed_by(&delegate_key, &Issuer::from_params(&root_params, &root_key))
            .unwrap();
        let leaf = params("Leaf", false, Some(releases))
            .signed_by(
                &leaf_key,
                &Issuer::from_params(&delegate_params, &delegate_key),
            )
            .unwrap();

        let root = Root::from_bytes("root.pem", root.pem().as_bytes()).unwrap();
        let chain = Chain::from_bytes(
            "chain.pem",
            [leaf.pem(), delegate.pem()].concat().as_bytes(),
        )
        .unwrap();
        let purpose = Purpose::new("releases", "2.999.1.1".parse().unwrap());
        let at = datetime!(2026-06-01 00:00 UTC);

        let error = verify_with(&root, &chain, &[], &purpose, at, AnyEku).unwrap_err();
        assert!(
            matches!(&error, Error::MissingEku { cert, .. }
                if cert.position == Position::Intermediate(1) && cert.subject == "CN=Delegate"),
            "{error:?}"
        );
        // And the full verifier says the same, from rustls-webpki's own check.
        let error = verify(&root, &chain, &[], &purpose, at).unwrap_err();
        assert!(
            matches!(&error, Error::MissingEku { cert, .. }
                if cert.position == Position::Intermediate(1)),
            "{error:?}"
        );
    }
}
