//! Attribution: when the path validator rejects a chain, find the certificate that broke the
//! rule it reports.
//!
//! rustls-webpki already picks the most specific error over all candidate paths (its
//! `Error::rank`); its errors say which rule but not which certificate. We re-check the rules
//! on every candidate path with x509-cert and return the first violation that explains the
//! validator's error (same rule, and for validity the same date). The validator decides
//! validity; this only names. If nothing explains it, the validator's error is returned as
//! [`Error::Path`].

use time::OffsetDateTime;

use crate::chain::{Candidate, Store};
use crate::crl::Crl;
use crate::error::Error;
use crate::purpose::Purpose;

/// The inputs the rules are checked against.
#[derive(Debug)]
pub(crate) struct Context<'s, 'a> {
    pub(crate) store: &'s Store<'a>,
    pub(crate) crls: &'s [Crl],
    pub(crate) purpose: &'s Purpose,
    pub(crate) at: OffsetDateTime,
}

/// Names the certificate behind `theirs`. `policy` holds the errors of our policy callback
/// (already attributed) with the validator error each was reported as.
pub(crate) fn attribute(
    theirs: webpki::Error,
    policy: Vec<(Error, webpki::Error)>,
    cx: &Context<'_, '_>,
) -> Error {
    if let Some((ours, _)) = policy.into_iter().find(|(_, proxy)| *proxy == theirs) {
        return ours;
    }
    cx.store
        .candidates()
        .iter()
        .flat_map(|candidate| violations(candidate, cx))
        .find(|ours| ours.explains(&theirs))
        .unwrap_or(Error::Path { source: theirs })
}

/// Every rule `candidate` breaks, leaf first.
fn violations(candidate: &Candidate<'_>, cx: &Context<'_, '_>) -> Vec<Error> {
    let mut found = Vec::new();
    let certs = &candidate.certs;
    for (i, cert) in certs.iter().enumerate() {
        found.extend(cert.check_validity(cx.at).err());
        match cert.basic_constraints() {
            bc if i == 0 => {
                if bc.is_some_and(|bc| bc.ca) {
                    found.push(Error::CaAsLeaf {
                        cert: cert.id.clone().into(),
                    });
                }
            }
            Some(bc) if bc.ca => {
                // CA certificates between this one and the leaf.
                let sub_cas = i - 1;
                if let Some(path_len) = bc.path_len_constraint
                    && sub_cas > usize::from(path_len)
                {
                    found.push(Error::PathLenViolated {
                        cert: cert.id.clone().into(),
                        path_len,
                        sub_cas,
                    });
                }
            }
            _ => found.push(Error::NotACa {
                cert: cert.id.clone().into(),
            }),
        }
        found.extend(cx.purpose.check(cert).err());
    }

    let issuers = certs
        .iter()
        .skip(1)
        .copied()
        .chain(candidate.reaches_root.then_some(cx.store.root));
    for (cert, issuer) in certs.iter().zip(issuers) {
        found.extend(cert.check_signed_by(issuer).err());
        found.extend(
            cx.crls
                .iter()
                .find_map(|crl| crl.revocation_of(cert, issuer)),
        );
    }

    if candidate.reaches_root {
        found.extend(cx.store.root.check_validity(cx.at).err());
    } else if let Some(top) = certs.last() {
        found.push(Error::UnknownIssuer {
            cert: top.id.clone().into(),
            issuer: top.issuer().to_string(),
            root: cx.store.root.id.subject.clone(),
        });
    }
    found
}
