//! `ceremony show`: a request rendered for the members who approve it — every byte that
//! decides the outcome: what it does, every parameter, the window and its length, what it
//! pins (and whether the member's own policy and roster files are those), every output
//! path, every certificate or CRL field by field, and for a roster change the new roster
//! in full, marked against the roster in force.
//!
//! The member trusts only this rendering, made by their own binary from the exact bytes
//! they sign: the fingerprint to read aloud is computed here, never read from the file,
//! and every string that comes from the file is printed through [`inert`], so the data
//! cannot add lines, move the cursor or hide text.

use std::{fmt::Write as _, path::Path, time::Duration};

use base64ct::{Base64, Encoding};
use der::{Decode, Encode};
use rust_pki_ca::{
    crl::revocations_of, lint::key_usage_names, oid::decode_eku, policy::Policy,
    signature::rsa_public_key,
};
use x509_cert::{
    TbsCertificate,
    crl::TbsCertList,
    ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier},
};

use crate::{
    Result,
    inert::inert,
    request::{OutputType, Request, sha256_hex},
    roster::{Member, Roster},
};

/// What the member's own machine holds to compare the request against.
#[derive(Debug, Clone, Copy)]
pub struct LocalFiles<'a> {
    /// The policy file's bytes and the parsed policy.
    pub policy: (&'a [u8], &'a Policy),
    /// The roster in force, as the member has it.
    pub roster: &'a Roster,
    /// SHA-256 of the member's own `rust-pki` binary.
    pub tool_sha256: &'a str,
}

/// Render `request` (parsed from `bytes`) as text, comparing its pins against `local`.
///
/// # Errors
/// A planned TBS that does not decode, or a roster change whose new roster breaks the
/// policy's rules.
pub fn render(request: &Request, bytes: &[u8], local: LocalFiles<'_>) -> Result<String> {
    let mut out = String::new();
    let line = &mut out;
    let (policy_bytes, policy) = local.policy;
    let roster = local.roster;
    let _ = writeln!(
        line,
        "Ceremony request {} ({})",
        inert(&request.id),
        request.kind
    );
    // First: which HSM the member approves (and whether their policy says the same).
    let hsm = if request.hsm.matches(&policy.hsm) {
        format!("as your {}", inert(&policy.path.display().to_string()))
    } else {
        format!(
            "DIFFERS from your {}, which says {}: do not approve until you know why",
            inert(&policy.path.display().to_string()),
            crate::request::RequestHsm::of(&policy.hsm).describe()
        )
    };
    let _ = writeln!(
        line,
        "  HSM:               {} ({hsm})",
        request.hsm.describe()
    );
    if request.hsm.backend == rust_pki_ca::policy::HsmBackend::CloudHsm {
        // CloudHSM counts only the crypto users the root key is shared with.
        let approvers: Vec<String> = crate::gate::cloudhsm_backend::key_users(roster)
            .iter()
            .map(|m| inert(&m.id))
            .collect();
        let _ = writeln!(
            line,
            "  HSM approvers:     {} of {} (the root key is shared with their crypto users; \
             CloudHSM allows seven besides its owner)",
            policy.quorum.threshold,
            approvers.join(", ")
        );
    }
    let _ = writeln!(line, "  summary:           {}", inert(&request.summary));
    let _ = writeln!(line, "  read aloud:        {}", Request::fingerprint(bytes));
    let _ = writeln!(line, "  request sha256:    {}", sha256_hex(bytes));
    let _ = writeln!(line, "  prepared at:       {}", inert(&request.prepared_at));
    let _ = writeln!(
        line,
        "  window:            {} .. {} ({})",
        inert(&request.not_before),
        inert(&request.not_after),
        window_length(request)
    );
    let _ = writeln!(
        line,
        "  policy sha256:     {} ({})",
        inert(&request.policy_sha256),
        compare(
            &request.policy_sha256,
            &sha256_hex(policy_bytes),
            policy.path.as_path()
        )
    );
    let _ = writeln!(
        line,
        "  roster sha256:     {} ({})",
        inert(&request.roster_sha256),
        compare(
            &request.roster_sha256,
            &hex::encode(roster.sha256()),
            roster.path()
        )
    );
    let previous = if request.previous_record_sha256.is_empty() {
        "(first ceremony)".to_owned()
    } else {
        inert(&request.previous_record_sha256)
    };
    let _ = writeln!(line, "  previous record:   {previous}");
    let tool = if request.tool_sha256 == local.tool_sha256 {
        "the same as this binary".to_owned()
    } else {
        format!(
            "NOT this binary ({}): check which release prepared it",
            local.tool_sha256
        )
    };
    let _ = writeln!(
        line,
        "  tool sha256:       {} ({tool})",
        inert(&request.tool_sha256)
    );
    let _ = writeln!(
        line,
        "  ceremony key:      {}",
        inert(&request.ceremony_recipient)
    );
    render_parameters(line, request);
    if let Some(encoded) = &request.parameters.new_roster {
        let text =
            String::from_utf8(Base64::decode_vec(encoded).unwrap_or_default()).unwrap_or_default();
        let new = Roster::parse(
            &text,
            Path::new("new roster (in the request)"),
            &policy.quorum,
        )?;
        render_roster_change(line, roster, &new);
    }
    for output in &request.outputs {
        let tbs = output.tbs_der()?;
        let _ = writeln!(
            line,
            "\n  {} -> {} ({}), TBS sha256 {}",
            kind_name(output.output_type),
            inert(&output.path),
            inert(&output.profile),
            inert(&output.tbs_sha256)
        );
        match output.output_type {
            OutputType::Certificate => render_certificate(line, &tbs, policy),
            OutputType::Crl => render_crl(line, &tbs),
        }
    }
    Ok(out)
}

/// "matches your <file>" or a loud warning: a member compares the pins with their own files.
fn compare(pinned: &str, local_sha256: &str, path: &Path) -> String {
    if local_sha256 == pinned {
        format!("matches your {}", inert(&path.display().to_string()))
    } else {
        format!(
            "DIFFERS from your {} (sha256 {}): do not approve until you know why",
            inert(&path.display().to_string()),
            local_sha256
        )
    }
}

fn window_length(request: &Request) -> String {
    let parse = |t: &str| rust_pki_ca::policy::parse_rfc3339(t).ok();
    match (parse(&request.not_before), parse(&request.not_after)) {
        (Some(from), Some(until)) => {
            let span = until.duration_since(from).unwrap_or(Duration::ZERO);
            format!(
                "{} days {} hours",
                span.as_secs() / 86_400,
                span.as_secs() % 86_400 / 3600
            )
        }
        _ => "unreadable".into(),
    }
}

fn render_parameters(out: &mut String, request: &Request) {
    let p = &request.parameters;
    let csr = if p.cluster_id.is_some() {
        "cluster CSR sha256"
    } else {
        "CSR sha256"
    };
    let key = |digest: &Option<String>| digest.as_ref().map(|d| format!("sha256:{d}"));
    let named = [
        ("token", p.token.clone()),
        ("key label", p.key_label.clone()),
        ("purpose", p.purpose.clone()),
        (csr, p.csr_sha256.clone()),
        ("delegate key", key(&p.delegate_key_sha256)),
        // What to compare with the AWS console / `aws cloudhsmv2 describe-clusters`.
        ("CloudHSM cluster", p.cluster_id.clone()),
        ("cluster key", key(&p.cluster_key_sha256)),
        ("new roster sha256", p.new_roster_sha256.clone()),
    ];
    for (label, value) in named {
        if let Some(value) = value {
            let _ = writeln!(out, "  {:<19}{}", format!("{label}:"), inert(&value));
        }
    }
    if !p.revoked_serials.is_empty() {
        let serials: Vec<String> = p.revoked_serials.iter().map(|s| inert(s)).collect();
        let _ = writeln!(out, "  revoked serials:   {}", serials.join(", "));
    }
}

/// The new roster in full: `=` unchanged, `~` changed (with the fields that changed), `+`
/// added, `-` removed, against the roster in force.
fn render_roster_change(out: &mut String, in_force: &Roster, new: &Roster) {
    let _ = writeln!(
        out,
        "\n  new roster: {} members, sha256 {} (against your roster {})",
        new.members().len(),
        hex::encode(new.sha256()),
        inert(&in_force.path().display().to_string())
    );
    for member in new.members() {
        match in_force.member(&member.id) {
            None => {
                let _ = writeln!(out, "    + {}", describe_member(member));
            }
            Some(old) => {
                let changed = changed_fields(old, member);
                if changed.is_empty() {
                    let _ = writeln!(out, "    = {}", describe_member(member));
                } else {
                    let _ = writeln!(out, "    ~ {}", describe_member(member));
                    for (field, before, after) in changed {
                        let _ = writeln!(out, "        {field}: {before} -> {after}");
                    }
                }
            }
        }
    }
    for old in in_force.members() {
        if new.member(&old.id).is_none() {
            let _ = writeln!(out, "    - {} (removed)", describe_member(old));
        }
    }
}

fn describe_member(m: &Member) -> String {
    format!(
        "{}  {}  org {}  country {}  {} {}  shares to {}{}  appointed {} reappoint by {}",
        inert(&m.id),
        inert(&m.name),
        inert(&m.organisation),
        inert(&m.country),
        m.key_type(),
        m.fingerprint(),
        share_recipient(m),
        m.cloudhsm_quorum_key
            .as_ref()
            .map(|k| format!("  CloudHSM quorum key {}", k.fingerprint()))
            .unwrap_or_default(),
        m.appointed,
        m.reappoint_by
    )
}

fn share_recipient(m: &Member) -> String {
    m.age_recipient
        .as_ref()
        .map_or_else(|| "its SSH key".to_owned(), ToString::to_string)
}

fn changed_fields(old: &Member, new: &Member) -> Vec<(&'static str, String, String)> {
    let fields = |m: &Member| {
        [
            ("name", inert(&m.name)),
            ("organisation", inert(&m.organisation)),
            ("country", inert(&m.country)),
            ("ssh key", format!("{} {}", m.key_type(), m.fingerprint())),
            ("shares to", share_recipient(m)),
            (
                "CloudHSM quorum key",
                m.cloudhsm_quorum_key
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), |k| k.fingerprint()),
            ),
            ("appointed", m.appointed.to_string()),
            ("reappoint by", m.reappoint_by.to_string()),
        ]
    };
    fields(old)
        .into_iter()
        .zip(fields(new))
        .filter(|((_, before), (_, after))| before != after)
        .map(|((field, before), (_, after))| (field, before, after))
        .collect()
}

fn kind_name(output_type: OutputType) -> &'static str {
    match output_type {
        OutputType::Certificate => "certificate",
        OutputType::Crl => "CRL",
    }
}

fn render_certificate(out: &mut String, der: &[u8], policy: &Policy) {
    let Ok(tbs) = TbsCertificate::from_der(der) else {
        let _ = writeln!(out, "    (TBS does not decode)");
        return;
    };
    let field = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "    {:<17}{}", format!("{label}:"), inert(value));
    };
    field(out, "serial", &hex::encode(tbs.serial_number().as_bytes()));
    field(out, "issuer", &tbs.issuer().to_string());
    field(out, "subject", &tbs.subject().to_string());
    field(out, "not before", &tbs.validity().not_before.to_string());
    field(out, "not after", &tbs.validity().not_after.to_string());
    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map(|d| sha256_hex(&d))
        .unwrap_or_default();
    let rsa = rsa_public_key(tbs.subject_public_key_info())
        .map(|(_, bits)| format!(" (RSA {bits} bits)"))
        .unwrap_or_default();
    let algorithm = &tbs.subject_public_key_info().algorithm;
    // For an EC key the curve is the parameter that matters (P-384 for the root).
    let curve = algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
        .map(|curve| format!(" on {}", algorithm_name(&curve.to_string())))
        .unwrap_or_default();
    field(
        out,
        "public key",
        &format!(
            "{}{curve}{rsa} sha256:{spki}",
            algorithm_name(&algorithm.oid.to_string())
        ),
    );
    field(
        out,
        "signature alg",
        &algorithm_name(&tbs.signature().oid.to_string()),
    );
    for ext in tbs.extensions().map(|e| e.as_slice()).unwrap_or_default() {
        let critical = if ext.critical { " (critical)" } else { "" };
        let value = ext.extn_value.as_bytes();
        let text = match ext.extn_id.to_string().as_str() {
            "2.5.29.19" => BasicConstraints::from_der(value)
                .map(|bc| format!("basicConstraints{critical}: {}", basic_constraints(&bc))),
            "2.5.29.15" => KeyUsage::from_der(value)
                .map(|ku| format!("keyUsage{critical}: {}", key_usage_names(ku.0))),
            "2.5.29.37" => Ok(match decode_eku(value) {
                Ok(ekus) => format!(
                    "extendedKeyUsage{critical}: {}",
                    ekus.iter()
                        .map(|oid| purpose_of(policy, &oid.to_string()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(e) => format!("extendedKeyUsage{critical}: malformed ({e})"),
            }),
            "2.5.29.14" => SubjectKeyIdentifier::from_der(value).map(|ski| {
                format!(
                    "subjectKeyIdentifier{critical}: {}",
                    hex::encode(ski.0.as_bytes())
                )
            }),
            "2.5.29.35" => AuthorityKeyIdentifier::from_der(value).map(|aki| {
                let id = aki
                    .key_identifier
                    .map(|k| hex::encode(k.as_bytes()))
                    .unwrap_or_default();
                format!("authorityKeyIdentifier{critical}: {id}")
            }),
            other => Ok(format!(
                "{}{critical}: {}",
                extension_name(other),
                hex::encode(value)
            )),
        };
        let text = text.unwrap_or_else(|e| {
            format!(
                "{}: malformed ({e})",
                extension_name(&ext.extn_id.to_string())
            )
        });
        let _ = writeln!(out, "    {}", inert(&text));
    }
}

/// `CA, pathLen 0`, `CA, no pathLen (any depth)` or `not a CA`: no Rust syntax.
fn basic_constraints(bc: &BasicConstraints) -> String {
    match (bc.ca, bc.path_len_constraint) {
        (true, Some(n)) => format!("CA, pathLen {n}"),
        (true, None) => "CA, no pathLen (any depth)".to_owned(),
        (false, Some(n)) => format!("not a CA, yet pathLen {n}"),
        (false, None) => "not a CA".to_owned(),
    }
}

/// The name of an extension the sections above do not decode, then its OID.
fn extension_name(oid: &str) -> String {
    let name = match oid {
        "2.5.29.17" => "subjectAltName",
        "2.5.29.18" => "issuerAltName",
        "2.5.29.28" => "issuingDistributionPoint",
        "2.5.29.30" => "nameConstraints",
        "2.5.29.31" => "cRLDistributionPoints",
        "2.5.29.32" => "certificatePolicies",
        "2.5.29.36" => "policyConstraints",
        "2.5.29.46" => "freshestCRL",
        "2.5.29.54" => "inhibitAnyPolicy",
        "1.3.6.1.5.5.7.1.1" => "authorityInfoAccess",
        "1.3.6.1.5.5.7.1.11" => "subjectInfoAccess",
        _ => return format!("unknown extension ({oid})"),
    };
    format!("{name} ({oid})")
}

/// The RFC 5280 name of a CRL reason code.
fn reason_name(reason: x509_cert::ext::pkix::CrlReason) -> &'static str {
    use x509_cert::ext::pkix::CrlReason as R;
    match reason {
        R::Unspecified => "unspecified",
        R::KeyCompromise => "keyCompromise",
        R::CaCompromise => "cACompromise",
        R::AffiliationChanged => "affiliationChanged",
        R::Superseded => "superseded",
        R::CessationOfOperation => "cessationOfOperation",
        R::CertificateHold => "certificateHold",
        R::RemoveFromCRL => "removeFromCRL",
        R::PrivilegeWithdrawn => "privilegeWithdrawn",
        R::AaCompromise => "aACompromise",
    }
}

/// An EKU as `name (OID)`: the policy's purpose name, or for another OID its standard
/// name (if any) and that it is not a purpose of this policy.
fn purpose_of(policy: &Policy, oid: &str) -> String {
    let name = policy
        .purposes
        .values()
        .find(|p| p.eku.to_string() == oid)
        .map(|p| p.name.clone())
        .or_else(|| {
            policy
                .cluster
                .as_ref()
                .filter(|c| c.eku.to_string() == oid)
                .map(|_| "cluster".to_owned())
        });
    if let Some(name) = name {
        return format!("{name} ({oid})");
    }
    let standard = match oid {
        "1.3.6.1.5.5.7.3.1" => "serverAuth",
        "1.3.6.1.5.5.7.3.2" => "clientAuth",
        "1.3.6.1.5.5.7.3.3" => "codeSigning",
        "1.3.6.1.5.5.7.3.4" => "emailProtection",
        "1.3.6.1.5.5.7.3.8" => "timeStamping",
        "1.3.6.1.5.5.7.3.9" => "OCSPSigning",
        "2.5.29.37.0" => "anyExtendedKeyUsage",
        _ => "unnamed",
    };
    format!("{standard} ({oid}), NOT a purpose of this policy")
}

/// `name (OID)` for the key, curve and signature algorithms a certificate may name.
fn algorithm_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.10045.2.1" => "EC public key",
        "1.3.132.0.34" => "P-384",
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.35" => "P-521",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        _ => "unknown algorithm",
    };
    format!("{name} ({oid})")
}

/// An unsigned big-endian integer in decimal (up to 128 bits) and hex.
fn number(bytes: &[u8]) -> String {
    let hex = hex::encode(bytes);
    if bytes.len() > 16 {
        return format!("0x{hex}");
    }
    let value = bytes.iter().fold(0u128, |n, &b| (n << 8) | u128::from(b));
    format!("{value} (0x{hex})")
}

fn render_crl(out: &mut String, der: &[u8]) {
    let Ok(tbs) = TbsCertList::from_der(der) else {
        let _ = writeln!(out, "    (TBS does not decode)");
        return;
    };
    let _ = writeln!(
        out,
        "    issuer:          {}",
        inert(&tbs.issuer.to_string())
    );
    let _ = writeln!(out, "    this update:     {}", tbs.this_update);
    if let Some(next) = tbs.next_update {
        let _ = writeln!(out, "    next update:     {next}");
    }
    for ext in tbs.crl_extensions.as_deref().unwrap_or_default() {
        let critical = if ext.critical { " (critical)" } else { "" };
        let value = ext.extn_value.as_bytes();
        let text = match ext.extn_id.to_string().as_str() {
            "2.5.29.20" => der::asn1::UintRef::from_der(value).map_or_else(
                |e| format!("cRLNumber{critical}: malformed ({e})"),
                |n| format!("cRLNumber{critical}: {}", number(n.as_bytes())),
            ),
            "2.5.29.35" => AuthorityKeyIdentifier::from_der(value).map_or_else(
                |e| format!("authorityKeyIdentifier{critical}: malformed ({e})"),
                |aki| {
                    let id = aki
                        .key_identifier
                        .map(|k| hex::encode(k.as_bytes()))
                        .unwrap_or_default();
                    format!("authorityKeyIdentifier{critical}: {id}")
                },
            ),
            other => format!(
                "{}{critical}: {}",
                extension_name(other),
                hex::encode(value)
            ),
        };
        let _ = writeln!(out, "    {}", inert(&text));
    }
    match revocations_of(&tbs) {
        Ok(entries) if entries.is_empty() => {
            let _ = writeln!(out, "    revoked:         none");
        }
        Ok(entries) => {
            for entry in entries {
                let reason = entry
                    .reason
                    .map_or("unspecified (no reason code)", reason_name);
                let _ = writeln!(
                    out,
                    "    revoked:         serial {} ({reason})",
                    hex::encode(entry.serial.as_bytes())
                );
            }
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "    revoked:         (malformed: {})",
                inert(&e.to_string())
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use x509_cert::{Certificate, crl::CertificateList};

    use super::*;

    fn data(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../verify/tests/data/cli")
            .join(name)
    }

    /// The `n`-th PEM block of a test file, as DER.
    fn pem_block(name: &str, n: usize, label: &str) -> Vec<u8> {
        let text = std::fs::read_to_string(data(name)).unwrap();
        let end = format!("-----END {label}-----");
        let block = text.split_inclusive(&end).nth(n).unwrap();
        rust_pki_ca::pem::decode_der(block.trim().as_bytes(), label).unwrap()
    }

    fn policy() -> Policy {
        Policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/rust-root.toml"))
            .unwrap()
    }

    /// What members read before approving a delegate: names with their OIDs, RFC 5280
    /// usage names, pathLen in words; nothing of Rust's debug output.
    #[test]
    fn a_delegate_certificate_is_rendered_in_words() {
        let cert = Certificate::from_der(&pem_block("chain.pem", 1, "CERTIFICATE")).unwrap();
        let mut out = String::new();
        render_certificate(
            &mut out,
            &cert.tbs_certificate().to_der().unwrap(),
            &policy(),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines.iter().any(|l| l.starts_with(
                "    public key:      EC public key (1.2.840.10045.2.1) on P-384 (1.3.132.0.34) sha256:"
            )),
            "{out}"
        );
        for expected in [
            "    signature alg:   ecdsa-with-SHA384 (1.2.840.10045.4.3.3)",
            "    basicConstraints (critical): CA, pathLen 0",
            "    keyUsage (critical): keyCertSign, cRLSign",
            "    extendedKeyUsage: releases (1.3.6.1.4.1.32473.1.1)",
        ] {
            assert!(lines.contains(&expected), "no {expected:?} in\n{out}");
        }
        for debug in ["Some(", "None", "FlagSet", "cA=", "KeyCertSign"] {
            assert!(!out.contains(debug), "{debug} in\n{out}");
        }
    }

    #[test]
    fn a_crl_names_its_revocation_reasons() {
        let der = pem_block("revoked-leaf.crl.pem", 0, "X509 CRL");
        let crl: CertificateList = CertificateList::from_der(&der).unwrap();
        let mut out = String::new();
        render_crl(&mut out, &crl.tbs_cert_list.to_der().unwrap());
        assert!(
            out.lines()
                .any(|l| l == "    revoked:         serial 1001 (keyCompromise)"),
            "{out}"
        );
        assert!(out.contains("    cRLNumber: 7 (0x07)\n"), "{out}");
    }

    #[test]
    fn constraints_usages_and_unknown_oids_are_plain() {
        let bc = |ca, path_len_constraint| BasicConstraints {
            ca,
            path_len_constraint,
        };
        assert_eq!(basic_constraints(&bc(true, Some(0))), "CA, pathLen 0");
        assert_eq!(
            basic_constraints(&bc(true, None)),
            "CA, no pathLen (any depth)"
        );
        assert_eq!(basic_constraints(&bc(false, None)), "not a CA");
        let policy = policy();
        assert_eq!(
            purpose_of(&policy, "1.3.6.1.5.5.7.3.3"),
            "codeSigning (1.3.6.1.5.5.7.3.3), NOT a purpose of this policy"
        );
        assert_eq!(
            purpose_of(&policy, "1.2.3.4"),
            "unnamed (1.2.3.4), NOT a purpose of this policy"
        );
        assert_eq!(algorithm_name("1.2.3.4"), "unknown algorithm (1.2.3.4)");
        assert_eq!(
            extension_name("2.5.29.31"),
            "cRLDistributionPoints (2.5.29.31)"
        );
        assert_eq!(extension_name("1.2.3.4"), "unknown extension (1.2.3.4)");
    }
}
