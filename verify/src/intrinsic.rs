//! What a certificate is on its own, read once when it is loaded: its extensions
//! ([`Facts`]) and the rules it meets or breaks whatever its role ([`check`]). The loader
//! uses them to name the rule a certificate breaks; [`crate::profile`] adds the rules of
//! its role on the path.

use der::asn1::{ObjectIdentifier, UintRef};
use der::flagset::FlagSet;
use der::oid::AssociatedOid;
use der::{Decode, Reader, SliceReader};
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::crl::CrlDistributionPoints;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies,
    ExtendedKeyUsage, FreshestCrl, InhibitAnyPolicy, IssuerAltName, KeyUsage, KeyUsages,
    NameConstraints, PolicyConstraints, PolicyMappings, SubjectAltName, SubjectInfoAccessSyntax,
    SubjectKeyIdentifier,
};
use x509_cert::{Certificate, TbsCertificate};

use crate::error::CertRef;
use crate::error::Error;
use crate::oid::Oid;

/// Most octets of a serial number (RFC 5280 §4.1.2.2).
const MAX_SERIAL_OCTETS: usize = 20;

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
pub(crate) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// The policy's `[cluster] min_rsa_bits`: the one RSA key of the PKI is the CloudHSM
/// cluster's (AWS generates it), in an end-entity certificate signed by the root.
const MIN_RSA_BITS: usize = 2048;
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
/// anyExtendedKeyUsage, as DER content bytes.
const ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

/// One decoded extension.
#[derive(Clone, Debug)]
pub(crate) struct Ext<T> {
    pub(crate) critical: bool,
    pub(crate) value: T,
}

/// A rule broken by a certificate's extensions alone, found while decoding them.
#[derive(Clone, Debug)]
enum Problem {
    Malformed { oid: String, detail: String },
    UnknownCritical { oid: String },
}

/// The extensions of one certificate, decoded once at load time.
#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    pub(crate) basic_constraints: Option<Ext<BasicConstraints>>,
    pub(crate) key_usage: Option<Ext<FlagSet<KeyUsages>>>,
    pub(crate) subject_key_id: Option<Ext<Vec<u8>>>,
    pub(crate) authority_key_id: Option<Ext<AuthorityKeyIdentifier>>,
    pub(crate) eku: Option<Ext<Vec<Oid>>>,
    /// The first extension that is malformed, repeated, or critical and not processed.
    problem: Option<Problem>,
}

impl Facts {
    pub(crate) fn read(tbs: &TbsCertificate) -> Self {
        let mut facts = Self::default();
        let extensions = tbs.extensions().map(Vec::as_slice).unwrap_or_default();
        for (i, ext) in extensions.iter().enumerate() {
            let oid = ext.extn_id;
            let malformed = |detail: String| Problem::Malformed {
                oid: oid.to_string(),
                detail,
            };
            if extensions[..i].iter().any(|e| e.extn_id == oid) {
                facts.problem = Some(malformed("appears more than once".into()));
                break;
            }
            let critical = ext.critical;
            let bytes = ext.extn_value.as_bytes();
            // Which extensions may be critical: the ones path validation processes. EKU, SKI
            // and AKI are decoded here and their criticality is a rule of its own.
            let (decoded, may_be_critical) = match oid {
                BasicConstraints::OID => (
                    BasicConstraints::from_der(bytes).map(|value| {
                        facts.basic_constraints = Some(Ext { critical, value });
                    }),
                    true,
                ),
                KeyUsage::OID => (
                    KeyUsage::from_der(bytes).map(|value| {
                        facts.key_usage = Some(Ext {
                            critical,
                            value: value.0,
                        });
                    }),
                    true,
                ),
                SubjectKeyIdentifier::OID => (
                    SubjectKeyIdentifier::from_der(bytes).map(|value| {
                        facts.subject_key_id = Some(Ext {
                            critical,
                            value: value.0.as_bytes().to_vec(),
                        });
                    }),
                    true,
                ),
                AuthorityKeyIdentifier::OID => (
                    AuthorityKeyIdentifier::from_der(bytes).map(|value| {
                        facts.authority_key_id = Some(Ext { critical, value });
                    }),
                    true,
                ),
                ExtendedKeyUsage::OID => (
                    crate::oid::decode_eku(bytes).and_then(|value| {
                        if value.is_empty() {
                            return Err(der::ErrorKind::Length {
                                tag: der::Tag::Sequence,
                            }
                            .into());
                        }
                        facts.eku = Some(Ext { critical, value });
                        Ok(())
                    }),
                    true,
                ),
                SubjectAltName::OID => (decodes::<SubjectAltName>(bytes), true),
                IssuerAltName::OID => (decodes::<IssuerAltName>(bytes), false),
                CrlDistributionPoints::OID => (decodes::<CrlDistributionPoints>(bytes), false),
                FreshestCrl::OID => (decodes::<FreshestCrl>(bytes), false),
                AuthorityInfoAccessSyntax::OID => {
                    (decodes::<AuthorityInfoAccessSyntax>(bytes), false)
                }
                SubjectInfoAccessSyntax::OID => (decodes::<SubjectInfoAccessSyntax>(bytes), false),
                CertificatePolicies::OID => (decodes::<CertificatePolicies>(bytes), false),
                // Not processed by the CA path check (`verify_ca`), so never accepted as critical.
                NameConstraints::OID => (decodes::<NameConstraints>(bytes), false),
                PolicyConstraints::OID => (decodes::<PolicyConstraints>(bytes), false),
                PolicyMappings::OID => (decodes::<PolicyMappings>(bytes), false),
                InhibitAnyPolicy::OID => (decodes::<InhibitAnyPolicy>(bytes), false),
                _ => (Ok(()), false),
            };
            if let Err(error) = decoded {
                facts.problem = Some(malformed(error.to_string()));
                break;
            }
            if critical && !may_be_critical {
                facts.problem = Some(Problem::UnknownCritical {
                    oid: oid.to_string(),
                });
                break;
            }
        }
        facts
    }
}

fn decodes<'a, T: Decode<'a, Error = der::Error>>(bytes: &'a [u8]) -> der::Result<()> {
    T::from_der(bytes).map(drop)
}

/// The rules a certificate meets or breaks on its own, whatever its role: version 3, the
/// serial number, the policy's algorithms, well-formed extensions, no unprocessed critical
/// extension, keyUsage present and critical, SKI and AKI not critical, EKU not critical and
/// without anyExtendedKeyUsage.
pub(crate) fn check(x509: &Certificate, facts: &Facts, cert: &CertRef) -> Result<(), Error> {
    let tbs = x509.tbs_certificate();
    let id = || cert.clone().into();
    let version = tbs.version();
    if version != Version::V3 {
        return Err(Error::NotV3 {
            cert: id(),
            version: version as u8 + 1,
        });
    }
    if let Some(reason) = serial_problem(tbs.serial_number().as_bytes()) {
        return Err(Error::BadSerial { cert: id(), reason });
    }
    let spki = &tbs.subject_public_key_info().algorithm;
    let curve = spki
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let key_allowed = match spki.oid {
        ID_EC_PUBLIC_KEY => curve == Some(SECP384R1),
        ID_ED25519 => spki.parameters.is_none(),
        RSA_ENCRYPTION => rsa_bits(x509).is_some_and(|bits| bits >= MIN_RSA_BITS),
        _ => false,
    };
    if !key_allowed {
        return Err(Error::DisallowedKeyAlgorithm {
            cert: id(),
            algorithm: match curve {
                Some(curve) => format!("{} ({curve})", spki.oid),
                None => spki.oid.to_string(),
            },
        });
    }
    let signature = x509.signature_algorithm();
    if !matches!(signature.oid, ECDSA_WITH_SHA384 | ID_ED25519) || signature.parameters.is_some() {
        return Err(Error::DisallowedSignatureAlgorithm {
            cert: id(),
            algorithm: signature.oid.to_string(),
        });
    }
    match &facts.problem {
        Some(Problem::Malformed { oid, detail }) => {
            return Err(Error::MalformedExtension {
                cert: id(),
                oid: oid.clone(),
                detail: detail.clone(),
            });
        }
        Some(Problem::UnknownCritical { oid }) => {
            return Err(Error::UnknownCriticalExtension {
                cert: id(),
                oid: oid.clone(),
            });
        }
        None => {}
    }
    match &facts.key_usage {
        None => return Err(Error::MissingKeyUsage { cert: id() }),
        Some(ku) if !ku.critical => return Err(Error::KeyUsageNotCritical { cert: id() }),
        Some(_) => {}
    }
    if facts.subject_key_id.as_ref().is_some_and(|e| e.critical) {
        return Err(Error::SubjectKeyIdentifierCritical { cert: id() });
    }
    if facts.authority_key_id.as_ref().is_some_and(|e| e.critical) {
        return Err(Error::AuthorityKeyIdentifierCritical { cert: id() });
    }
    if let Some(eku) = &facts.eku {
        if eku.critical {
            return Err(Error::EkuCritical { cert: id() });
        }
        if eku.value.iter().any(|oid| oid.as_bytes() == ANY_EKU) {
            return Err(Error::AnyExtendedKeyUsage { cert: id() });
        }
    }
    Ok(())
}

/// The size of an RSA public key's modulus, if the key decodes.
fn rsa_bits(x509: &Certificate) -> Option<usize> {
    let key = x509
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .as_bytes()?;
    let mut reader = SliceReader::new(key).ok()?;
    let modulus = reader
        .sequence(|seq: &mut SliceReader<'_>| {
            let modulus = UintRef::decode(seq)?;
            UintRef::decode(seq)?;
            Ok::<_, der::Error>(modulus)
        })
        .ok()?;
    reader.finish().ok()?;
    let bytes = modulus.as_bytes();
    let first = bytes.first()?;
    Some(bytes.len() * 8 - first.leading_zeros() as usize)
}

/// Why a serial number (INTEGER content octets) is not allowed, if it is not.
fn serial_problem(serial: &[u8]) -> Option<&'static str> {
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        Some("negative")
    } else if serial.iter().all(|&b| b == 0) {
        Some("zero")
    } else if serial.len() > MAX_SERIAL_OCTETS {
        Some("longer than 20 octets")
    } else {
        None
    }
}
