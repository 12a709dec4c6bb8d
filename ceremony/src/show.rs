//! `ceremony show`: a request rendered for the members who approve it — what it does,
//! what it pins, and every certificate or CRL it will sign, field by field.

use std::fmt::Write as _;

use der::{Decode, Encode};
use rust_pki_ca::{crl::revocations_of, oid::decode_eku, signature::rsa_public_key};
use x509_cert::{
    TbsCertificate,
    crl::TbsCertList,
    ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier},
};

use crate::{
    Result,
    request::{OutputType, Request, sha256_hex},
};

/// Render `request` (parsed from `bytes`) as text.
///
/// # Errors
/// A planned TBS that does not decode.
pub fn render(request: &Request, bytes: &[u8]) -> Result<String> {
    let mut out = String::new();
    let line = &mut out;
    let _ = writeln!(line, "Ceremony request {} ({})", request.id, request.kind);
    let _ = writeln!(line, "  {}", request.summary);
    let _ = writeln!(line, "  read aloud:        {}", Request::fingerprint(bytes));
    let _ = writeln!(line, "  request sha256:    {}", sha256_hex(bytes));
    let _ = writeln!(
        line,
        "  window:            {} .. {}",
        request.not_before, request.not_after
    );
    let _ = writeln!(line, "  policy sha256:     {}", request.policy_sha256);
    let _ = writeln!(line, "  roster sha256:     {}", request.roster_sha256);
    let previous = if request.previous_record_sha256.is_empty() {
        "(first ceremony)"
    } else {
        &request.previous_record_sha256
    };
    let _ = writeln!(line, "  previous record:   {previous}");
    let _ = writeln!(line, "  tool sha256:       {}", request.tool_sha256);
    if let Some(cluster_id) = &request.parameters.cluster_id {
        // What to compare with the AWS console / `aws cloudhsmv2 describe-clusters`.
        let _ = writeln!(line, "  CloudHSM cluster:  {cluster_id}");
        for (label, digest) in [
            ("cluster CSR sha256:", &request.parameters.csr_sha256),
            (
                "cluster key sha256:",
                &request.parameters.cluster_key_sha256,
            ),
        ] {
            if let Some(digest) = digest {
                let _ = writeln!(line, "  {label:<19}{digest}");
            }
        }
    }
    for output in &request.outputs {
        let tbs = output.tbs_der()?;
        let _ = writeln!(
            line,
            "\n  {} -> {} ({}), TBS sha256 {}",
            kind_name(output.output_type),
            output.path,
            output.profile,
            output.tbs_sha256
        );
        match output.output_type {
            OutputType::Certificate => render_certificate(line, &tbs),
            OutputType::Crl => render_crl(line, &tbs),
        }
    }
    Ok(out)
}

fn kind_name(output_type: OutputType) -> &'static str {
    match output_type {
        OutputType::Certificate => "certificate",
        OutputType::Crl => "CRL",
    }
}

fn render_certificate(out: &mut String, der: &[u8]) {
    let Ok(tbs) = TbsCertificate::from_der(der) else {
        let _ = writeln!(out, "    (TBS does not decode)");
        return;
    };
    let _ = writeln!(
        out,
        "    serial:          {}",
        hex::encode(tbs.serial_number().as_bytes())
    );
    let _ = writeln!(out, "    issuer:          {}", tbs.issuer());
    let _ = writeln!(out, "    subject:         {}", tbs.subject());
    let _ = writeln!(out, "    not before:      {}", tbs.validity().not_before);
    let _ = writeln!(out, "    not after:       {}", tbs.validity().not_after);
    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map(|d| sha256_hex(&d))
        .unwrap_or_default();
    let rsa = rsa_public_key(tbs.subject_public_key_info())
        .map(|(_, bits)| format!(" (RSA {bits} bits)"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "    public key:      {}{rsa} sha256:{spki}",
        tbs.subject_public_key_info().algorithm.oid
    );
    let _ = writeln!(out, "    signature alg:   {}", tbs.signature().oid);
    for ext in tbs.extensions().map(|e| e.as_slice()).unwrap_or_default() {
        let critical = if ext.critical { " (critical)" } else { "" };
        let value = ext.extn_value.as_bytes();
        let text = match ext.extn_id.to_string().as_str() {
            "2.5.29.19" => BasicConstraints::from_der(value).map(|bc| {
                format!(
                    "basicConstraints{critical}: cA={} pathLen={:?}",
                    bc.ca, bc.path_len_constraint
                )
            }),
            "2.5.29.15" => {
                KeyUsage::from_der(value).map(|ku| format!("keyUsage{critical}: {:?}", ku.0))
            }
            "2.5.29.37" => Ok(match decode_eku(value) {
                Ok(ekus) => format!(
                    "extendedKeyUsage{critical}: {}",
                    ekus.iter()
                        .map(ToString::to_string)
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
            other => Ok(format!("{other}{critical}: {}", hex::encode(value))),
        };
        let _ = writeln!(
            out,
            "    {}",
            text.unwrap_or_else(|e| format!("{}: malformed ({e})", ext.extn_id))
        );
    }
}

fn render_crl(out: &mut String, der: &[u8]) {
    let Ok(tbs) = TbsCertList::from_der(der) else {
        let _ = writeln!(out, "    (TBS does not decode)");
        return;
    };
    let _ = writeln!(out, "    issuer:          {}", tbs.issuer);
    let _ = writeln!(out, "    this update:     {}", tbs.this_update);
    if let Some(next) = tbs.next_update {
        let _ = writeln!(out, "    next update:     {next}");
    }
    match revocations_of(&tbs) {
        Ok(entries) if entries.is_empty() => {
            let _ = writeln!(out, "    revoked:         none");
        }
        Ok(entries) => {
            for entry in entries {
                let reason = entry
                    .reason
                    .map_or_else(|| "unspecified".to_owned(), |r| format!("{r:?}"));
                let _ = writeln!(
                    out,
                    "    revoked:         serial {} ({reason})",
                    hex::encode(entry.serial.as_bytes())
                );
            }
        }
        Err(e) => {
            let _ = writeln!(out, "    revoked:         (malformed: {e})");
        }
    }
}
