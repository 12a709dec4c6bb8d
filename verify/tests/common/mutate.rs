//! A valid P-384 chain (root → releases delegate → leaf, fixed key identifiers) and its
//! mutations, each breaking one rule of the certificate profile: shared by the per-rule
//! tests (profile.rs) and the differential test against OpenSSL (differential.rs).

use rcgen::{
    CustomExtension, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, SerialNumber, SigningKey,
};
use rust_pki_verify::Position;
use time::macros::datetime;

use super::{Issued, RELEASES, Spec, oid, pem_encode};

pub const ROOT_KID: [u8; 20] = [0x11; 20];
pub const DELEGATE_KID: [u8; 20] = [0x22; 20];
pub const LEAF_KID: [u8; 20] = [0x33; 20];

pub const ROOT_SUBJECT: &str = "CN=Rust Test Root CA,O=Rust Project Test";
pub const DELEGATE_SUBJECT: &str = "CN=Rust Test Delegate,O=Rust Project Test";
pub const LEAF_SUBJECT: &str = "CN=Rust Test Leaf,O=Rust Project Test";

/// The three certificates, PEM.
pub struct Pems {
    pub root: String,
    pub delegate: String,
    pub leaf: String,
}

/// One mutation: the rule it breaks and the certificate that breaks it.
pub struct Case {
    /// Unique name of the mutation, e.g. `root-ski-critical`.
    pub name: &'static str,
    /// `Error::rule()` our verifier must report.
    pub rule: &'static str,
    /// The certificate the error must name.
    pub position: Position,
    pub build: fn() -> Pems,
}

impl Case {
    /// The subject the error must name.
    pub fn subject(&self) -> &'static str {
        match (self.name, self.position) {
            ("delegate-empty-subject", _) => "",
            (_, Position::Root) => ROOT_SUBJECT,
            (_, Position::Leaf) => LEAF_SUBJECT,
            _ => DELEGATE_SUBJECT,
        }
    }
}

type Edit = fn(Spec) -> Spec;

fn same(spec: Spec) -> Spec {
    spec
}

/// The valid chain with `root`, `delegate` and `leaf` applied to the standard specs.
pub fn chain(root: Edit, delegate: Edit, leaf: Edit) -> (Issued, Issued, Issued) {
    let root = root(Spec::ca("Rust Test Root CA", 1).with(|p| {
        p.key_identifier_method = KeyIdMethod::PreSpecified(ROOT_KID.to_vec());
    }))
    .self_signed();
    let delegate = delegate(
        Spec::ca("Rust Test Delegate", 0x0100)
            .path_len(0)
            .eku(RELEASES)
            .with(|p| p.key_identifier_method = KeyIdMethod::PreSpecified(DELEGATE_KID.to_vec())),
    )
    .signed_by(&root);
    let leaf = leaf(
        Spec::leaf("Rust Test Leaf", 0x42)
            .eku(RELEASES)
            .with(|p| p.key_identifier_method = KeyIdMethod::PreSpecified(LEAF_KID.to_vec())),
    )
    .signed_by(&delegate);
    (root, delegate, leaf)
}

fn pems(root: Edit, delegate: Edit, leaf: Edit) -> Pems {
    let (root, delegate, leaf) = chain(root, delegate, leaf);
    Pems {
        root: root.pem(),
        delegate: delegate.pem(),
        leaf: leaf.pem(),
    }
}

/// The unmutated chain.
pub fn valid() -> Pems {
    pems(same, same, same)
}

fn ext(arcs: &[u64], critical: bool, content: Vec<u8>) -> CustomExtension {
    let mut ext = CustomExtension::from_oid_content(arcs, content);
    ext.set_criticality(critical);
    ext
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const SUBJECT_KEY_ID: &[u64] = &[2, 5, 29, 14];
const AUTHORITY_KEY_ID: &[u64] = &[2, 5, 29, 35];
const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const CRL_DISTRIBUTION_POINTS: &[u64] = &[2, 5, 29, 31];
const AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
const PRIVATE: &[u64] = &[1, 3, 6, 1, 4, 1, 32473, 99];

fn ski(kid: &[u8]) -> CustomExtension {
    ext(SUBJECT_KEY_ID, false, tlv(0x04, kid))
}

/// basicConstraints cA=TRUE, with the given criticality.
fn bc_ca(critical: bool) -> CustomExtension {
    ext(
        BASIC_CONSTRAINTS,
        critical,
        vec![0x30, 0x03, 0x01, 0x01, 0xff],
    )
}

/// AKI with just a keyIdentifier.
fn aki(kid: &[u8], critical: bool) -> CustomExtension {
    ext(AUTHORITY_KEY_ID, critical, tlv(0x30, &tlv(0x80, kid)))
}

fn releases_eku_content() -> Vec<u8> {
    tlv(0x30, &tlv(0x06, oid(RELEASES).as_bytes()))
}

/// A CA whose basicConstraints and SKI are written by hand (rcgen writes both or neither).
fn hand_made_ca(spec: Spec, bc: Option<bool>, ski_critical: Option<bool>, kid: [u8; 20]) -> Spec {
    spec.with(|p| {
        p.is_ca = IsCa::NoCa;
        p.custom_extensions.extend(bc.map(bc_ca));
        if let Some(critical) = ski_critical {
            p.custom_extensions
                .push(ext(SUBJECT_KEY_ID, critical, tlv(0x04, &kid)));
        }
    })
}

/// Re-signs an rcgen certificate with `key` after `mutate` changed bytes of its TBS (same
/// length), to write what rcgen cannot (version 2, a negative serial).
fn resign(der: &[u8], key: &KeyPair, mutate: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let (outer_header, _) = header(der, 0);
    let (tbs_header, tbs_len) = header(der, outer_header);
    let tbs_end = outer_header + tbs_header + tbs_len;
    let mut tbs = der[outer_header..tbs_end].to_vec();
    let (alg_header, alg_len) = header(der, tbs_end);
    let alg = der[tbs_end..tbs_end + alg_header + alg_len].to_vec();
    mutate(&mut tbs[tbs_header..]);
    let signature = key.sign(&tbs).unwrap();
    let mut bits = vec![0];
    bits.extend(signature);
    tlv(0x30, &[tbs, alg, tlv(0x03, &bits)].concat())
}

/// Header length and content length of the TLV at `at`.
fn header(der: &[u8], at: usize) -> (usize, usize) {
    match der[at + 1] {
        n if n < 0x80 => (2, usize::from(n)),
        0x81 => (3, usize::from(der[at + 2])),
        _ => (4, usize::from(der[at + 2]) << 8 | usize::from(der[at + 3])),
    }
}

/// TBS content offsets: version `A0 03 02 01 v` then serial `02 len bytes…`.
const VERSION_BYTE: usize = 4;
const SERIAL_FIRST_BYTE: usize = 7;

fn leaf_with_tbs(mutate: fn(&mut [u8])) -> Pems {
    let (root, delegate, leaf) = chain(same, same, same);
    let der = resign(&leaf.der(), &delegate.key, mutate);
    Pems {
        root: root.pem(),
        delegate: delegate.pem(),
        leaf: pem_encode("CERTIFICATE", &der),
    }
}

fn delegate_with_tbs(mutate: fn(&mut [u8])) -> Pems {
    let (root, delegate, leaf) = chain(
        same,
        |s| s.with(|p| p.serial_number = Some(SerialNumber::from_slice(&[0x42]))),
        same,
    );
    let der = resign(&delegate.der(), &root.key, mutate);
    Pems {
        root: root.pem(),
        delegate: pem_encode("CERTIFICATE", &der),
        leaf: leaf.pem(),
    }
}

/// Every mutation, one rule each.
pub fn cases() -> Vec<Case> {
    use Position::{Intermediate, Leaf, Root};
    let delegate = Intermediate(1);
    vec![
        Case {
            name: "leaf-version-2",
            rule: "not-v3",
            position: Leaf,
            build: || leaf_with_tbs(|tbs| tbs[VERSION_BYTE] = 1),
        },
        Case {
            name: "leaf-serial-zero",
            rule: "bad-serial",
            position: Leaf,
            build: || leaf_with_tbs(|tbs| tbs[SERIAL_FIRST_BYTE] = 0),
        },
        Case {
            name: "delegate-serial-negative",
            rule: "bad-serial",
            position: delegate,
            build: || delegate_with_tbs(|tbs| tbs[SERIAL_FIRST_BYTE] = 0xc2),
        },
        Case {
            name: "root-serial-21-octets",
            rule: "bad-serial",
            position: Root,
            build: || {
                pems(
                    |s| s.with(|p| p.serial_number = Some(SerialNumber::from_slice(&[0x01; 21]))),
                    same,
                    same,
                )
            },
        },
        Case {
            name: "delegate-empty-subject",
            rule: "empty-subject",
            position: delegate,
            build: || {
                pems(
                    same,
                    |s| s.with(|p| p.distinguished_name = rcgen::DistinguishedName::new()),
                    same,
                )
            },
        },
        Case {
            name: "root-no-basic-constraints",
            rule: "missing-basic-constraints",
            position: Root,
            build: || pems(|s| hand_made_ca(s, None, Some(false), ROOT_KID), same, same),
        },
        Case {
            name: "root-basic-constraints-not-critical",
            rule: "basic-constraints-not-critical",
            position: Root,
            build: || {
                pems(
                    |s| hand_made_ca(s, Some(false), Some(false), ROOT_KID),
                    same,
                    same,
                )
            },
        },
        Case {
            name: "delegate-basic-constraints-not-critical",
            rule: "basic-constraints-not-critical",
            position: delegate,
            build: || {
                pems(
                    same,
                    |s| hand_made_ca(s, Some(false), Some(false), DELEGATE_KID),
                    same,
                )
            },
        },
        Case {
            name: "root-not-ca",
            rule: "not-a-ca",
            position: Root,
            build: || pems(|s| s.basic_constraints(IsCa::ExplicitNoCa), same, same),
        },
        Case {
            name: "root-ca-without-key-cert-sign",
            rule: "ca-without-key-cert-sign",
            position: Root,
            build: || {
                pems(
                    |s| s.with(|p| p.key_usages = vec![KeyUsagePurpose::CrlSign]),
                    same,
                    same,
                )
            },
        },
        Case {
            name: "leaf-key-cert-sign",
            rule: "key-cert-sign-in-end-entity",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| p.key_usages.push(KeyUsagePurpose::KeyCertSign))
                })
            },
        },
        Case {
            name: "leaf-ca-true",
            rule: "ca-as-leaf",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.basic_constraints(IsCa::Ca(rcgen::BasicConstraints::Unconstrained))
                })
            },
        },
        Case {
            name: "leaf-no-key-usage",
            rule: "missing-key-usage",
            position: Leaf,
            build: || pems(same, same, |s| s.with(|p| p.key_usages.clear())),
        },
        Case {
            name: "leaf-key-usage-not-critical",
            rule: "key-usage-not-critical",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| {
                        p.key_usages.clear();
                        // digitalSignature
                        p.custom_extensions.push(ext(
                            KEY_USAGE,
                            false,
                            vec![0x03, 0x02, 0x07, 0x80],
                        ));
                    })
                })
            },
        },
        Case {
            name: "leaf-no-digital-signature",
            rule: "missing-digital-signature",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| p.key_usages = vec![KeyUsagePurpose::ContentCommitment])
                })
            },
        },
        Case {
            name: "root-no-ski",
            rule: "missing-subject-key-identifier",
            position: Root,
            build: || {
                pems(
                    |s| {
                        hand_made_ca(s, Some(true), None, ROOT_KID)
                            .with(|p| p.use_authority_key_identifier_extension = false)
                    },
                    same,
                    same,
                )
            },
        },
        Case {
            name: "delegate-no-ski",
            rule: "missing-subject-key-identifier",
            position: delegate,
            build: || {
                pems(
                    same,
                    |s| hand_made_ca(s, Some(true), None, DELEGATE_KID),
                    same,
                )
            },
        },
        Case {
            name: "root-ski-critical",
            rule: "subject-key-identifier-critical",
            position: Root,
            build: || {
                pems(
                    |s| hand_made_ca(s, Some(true), Some(true), ROOT_KID),
                    same,
                    same,
                )
            },
        },
        Case {
            name: "leaf-no-aki",
            rule: "missing-authority-key-identifier",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| p.use_authority_key_identifier_extension = false)
                })
            },
        },
        Case {
            name: "delegate-aki-critical",
            rule: "authority-key-identifier-critical",
            position: delegate,
            build: || {
                pems(
                    same,
                    |s| {
                        s.with(|p| {
                            p.use_authority_key_identifier_extension = false;
                            p.custom_extensions.push(aki(&ROOT_KID, true));
                        })
                    },
                    same,
                )
            },
        },
        Case {
            name: "root-aki-critical",
            rule: "authority-key-identifier-critical",
            position: Root,
            build: || {
                pems(
                    |s| {
                        s.with(|p| {
                            p.use_authority_key_identifier_extension = false;
                            p.custom_extensions.push(aki(&ROOT_KID, true));
                        })
                    },
                    same,
                    same,
                )
            },
        },
        Case {
            name: "leaf-aki-mismatch",
            rule: "authority-key-identifier-mismatch",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| {
                        p.use_authority_key_identifier_extension = false;
                        p.custom_extensions.push(aki(&[0x99; 20], false));
                    })
                })
            },
        },
        Case {
            name: "root-aki-not-ski",
            rule: "root-authority-key-identifier",
            position: Root,
            build: || {
                pems(
                    |s| {
                        s.with(|p| {
                            p.use_authority_key_identifier_extension = false;
                            p.custom_extensions.push(aki(&[0x99; 20], false));
                        })
                    },
                    same,
                    same,
                )
            },
        },
        Case {
            name: "root-aki-issuer-serial",
            rule: "root-authority-key-identifier",
            position: Root,
            build: || {
                pems(
                    |s| {
                        s.with(|p| {
                            p.use_authority_key_identifier_extension = false;
                            // keyIdentifier, then authorityCertSerialNumber [2] 1
                            let content = [tlv(0x80, &ROOT_KID), tlv(0x82, &[0x01])].concat();
                            p.custom_extensions.push(ext(
                                AUTHORITY_KEY_ID,
                                false,
                                tlv(0x30, &content),
                            ));
                        })
                    },
                    same,
                    same,
                )
            },
        },
        Case {
            name: "root-eku",
            rule: "eku-in-root",
            position: Root,
            build: || pems(|s| s.eku(RELEASES), same, same),
        },
        Case {
            name: "leaf-eku-critical",
            rule: "eku-critical",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| {
                        p.extended_key_usages.clear();
                        p.custom_extensions
                            .push(ext(EXT_KEY_USAGE, true, releases_eku_content()));
                    })
                })
            },
        },
        Case {
            name: "leaf-any-eku",
            rule: "any-extended-key-usage",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| p.extended_key_usages.push(ExtendedKeyUsagePurpose::Any))
                })
            },
        },
        Case {
            name: "root-unknown-critical-extension",
            rule: "unknown-critical-extension",
            position: Root,
            build: || {
                pems(
                    |s| {
                        s.with(|p| {
                            p.custom_extensions
                                .push(ext(PRIVATE, true, vec![0x05, 0x00]))
                        })
                    },
                    same,
                    same,
                )
            },
        },
        Case {
            name: "leaf-unknown-critical-extension",
            rule: "unknown-critical-extension",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| {
                        p.custom_extensions
                            .push(ext(PRIVATE, true, vec![0x05, 0x00]))
                    })
                })
            },
        },
        Case {
            name: "delegate-malformed-aia",
            rule: "malformed-extension",
            position: delegate,
            build: || {
                pems(
                    same,
                    |s| {
                        s.with(|p| {
                            // A SEQUENCE of INTEGER, not of AccessDescription.
                            p.custom_extensions.push(ext(
                                AUTHORITY_INFO_ACCESS,
                                false,
                                vec![0x30, 0x03, 0x02, 0x01, 0x01],
                            ));
                        })
                    },
                    same,
                )
            },
        },
        Case {
            name: "leaf-malformed-crl-distribution-points",
            rule: "malformed-extension",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| {
                        p.custom_extensions.push(ext(
                            CRL_DISTRIBUTION_POINTS,
                            false,
                            vec![0x30, 0x03, 0x02, 0x01, 0x01],
                        ));
                    })
                })
            },
        },
        Case {
            name: "leaf-duplicate-extension",
            rule: "malformed-extension",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.with(|p| {
                        p.custom_extensions.push(ski(&LEAF_KID));
                    })
                })
            },
        },
        Case {
            name: "leaf-validity-beyond-delegate",
            rule: "validity-outside-issuer",
            position: Leaf,
            build: || {
                pems(same, same, |s| {
                    s.valid(
                        datetime!(2026-06-01 00:00 UTC),
                        datetime!(2036-06-01 00:00 UTC),
                    )
                })
            },
        },
        Case {
            name: "delegate-validity-before-root",
            rule: "validity-outside-issuer",
            position: delegate,
            build: || {
                pems(
                    same,
                    |s| {
                        s.valid(
                            datetime!(2025-06-01 00:00 UTC),
                            datetime!(2035-01-01 00:00 UTC),
                        )
                    },
                    same,
                )
            },
        },
        Case {
            name: "leaf-p256-key",
            rule: "disallowed-key-algorithm",
            position: Leaf,
            build: || pems(same, same, |s| s.alg(&PKCS_ECDSA_P256_SHA256)),
        },
        Case {
            name: "leaf-signed-with-p256-sha256",
            rule: "disallowed-signature-algorithm",
            position: Leaf,
            build: || pems(same, |s| s.alg(&PKCS_ECDSA_P256_SHA256), same),
        },
        Case {
            name: "delegate-no-eku",
            rule: "missing-eku",
            position: delegate,
            build: || pems(same, |s| s.with(|p| p.extended_key_usages.clear()), same),
        },
    ]
}
