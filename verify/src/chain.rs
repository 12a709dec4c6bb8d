//! The certificates of one verification, and the candidate paths through them by name
//! chaining (issuer == subject), as the path validator would try them.

use crate::cert::{Chain, ParsedCert, Root};
use crate::error::Error;

/// Most intermediates in a path, as in rustls-webpki (`MAX_SUB_CA_COUNT`).
const MAX_INTERMEDIATES: usize = 6;
/// Bound on enumerated candidate paths (the chain file is untrusted input).
const MAX_CANDIDATES: usize = 64;

/// Leaf, intermediates and root of one verification.
#[derive(Debug)]
pub(crate) struct Store<'a> {
    pub(crate) leaf: &'a ParsedCert,
    /// The chain file's certificates after the leaf, minus copies of the pinned root.
    pub(crate) intermediates: Vec<&'a ParsedCert>,
    pub(crate) root: &'a ParsedCert,
}

/// A path by names from the leaf upwards, without the root.
#[derive(Debug)]
pub(crate) struct Candidate<'a> {
    /// Leaf first.
    pub(crate) certs: Vec<&'a ParsedCert>,
    /// Whether the top certificate's issuer is the root's subject.
    pub(crate) reaches_root: bool,
}

impl<'a> Store<'a> {
    pub(crate) fn new(root: &'a Root, chain: &'a Chain) -> Result<Self, Error> {
        let Some((leaf, rest)) = chain.certs.split_first() else {
            return Err(Error::NothingFound {
                file: String::from("<chain>"),
                expected: "certificate",
            });
        };
        Ok(Self {
            leaf,
            intermediates: rest.iter().filter(|c| c.der != root.cert.der).collect(),
            root: &root.cert,
        })
    }

    /// Certificates that may issue CRLs: the root and the intermediates.
    pub(crate) fn cas(&self) -> Vec<&'a ParsedCert> {
        std::iter::once(self.root)
            .chain(self.intermediates.iter().copied())
            .collect()
    }

    /// Finds a certificate of this verification by its DER.
    pub(crate) fn by_der(&self, der: &[u8]) -> Option<&'a ParsedCert> {
        std::iter::once(self.leaf)
            .chain(self.intermediates.iter().copied())
            .chain(std::iter::once(self.root))
            .find(|c| c.der.as_ref() == der)
    }

    /// Every maximal name-chained path from the leaf: complete ones end just below the root,
    /// the others at a certificate whose issuer is nowhere in the inputs.
    pub(crate) fn candidates(&self) -> Vec<Candidate<'a>> {
        let mut out = Vec::new();
        self.extend(&mut vec![self.leaf], &mut out);
        out
    }

    fn extend(&self, path: &mut Vec<&'a ParsedCert>, out: &mut Vec<Candidate<'a>>) {
        let Some(&head) = path.last() else {
            return;
        };
        if out.len() >= MAX_CANDIDATES {
            return;
        }
        let mut extended = false;
        if head.issuer() == self.root.subject() {
            out.push(Candidate {
                certs: path.clone(),
                reaches_root: true,
            });
            extended = true;
        }
        if path.len() <= MAX_INTERMEDIATES {
            for &next in &self.intermediates {
                let in_path = path.iter().any(|c| std::ptr::eq(*c, next));
                if !in_path && next.subject() == head.issuer() {
                    path.push(next);
                    self.extend(path, out);
                    path.pop();
                    extended = true;
                }
            }
        }
        if !extended {
            out.push(Candidate {
                certs: path.clone(),
                reaches_root: false,
            });
        }
    }
}
