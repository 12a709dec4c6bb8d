//! What the subcommands that check signatures (`verify artifact`, `verify manifest`, `verify
//! lockfile`) share: the arguments saying whom to trust (pinned root, purpose, log and
//! witness keys, CRLs, cross-certificates, time, --json), the verifier they make, what it
//! checks, and how a file's outcome is printed and put in the JSON envelope.

use std::io::Write;
use std::path::{Path, PathBuf};

use rust_pki_tlog::note::VerifierKey;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{load_crls, load_purpose, parse_oid, parse_rfc3339};
use crate::artifact::{ArtifactVerifier, LogTrust, VerifiedArtifact};
use crate::envelope::{Envelope, Exit, warn};
use crate::{Chain, Check, Error, Oid, Purpose, Root};

/// Whom the signatures must chain to, for what, and how they are proven.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// The pinned root certificate (PEM or DER, exactly one certificate).
    #[arg(long, value_name = "ROOT.pem")]
    root: PathBuf,

    /// Purpose the signatures must be valid for (releases, crates-io, bors): its EKU must be
    /// in the leaf and the delegate. `verify artifact` needs it or --eku; `verify manifest`
    /// defaults to releases, `verify lockfile` to crates-io.
    #[arg(long, value_name = "NAME")]
    purpose: Option<String>,

    /// Policy mapping purpose names to EKU OIDs; default: RUST_PKI_POLICY, else built in.
    #[arg(long, value_name = "FILE", conflicts_with = "eku")]
    policy: Option<PathBuf>,

    /// Required EKU as a dotted OID, instead of --purpose.
    #[arg(long, value_name = "OID", value_parser = parse_oid, conflicts_with = "purpose")]
    eku: Option<Oid>,

    /// The log's verifier key: every .sig must then carry its log bundle, which proves when
    /// the signature existed (the chain is checked at that time).
    #[arg(long = "log-vkey", value_name = "VKEY_FILE")]
    pub(super) log_key: Option<PathBuf>,

    /// A witness's cosignature verifier key; repeat for several.
    #[arg(long = "witness-vkey", value_name = "VKEY_FILE", requires = "log_key")]
    witnesses: Vec<PathBuf>,

    /// How many --witness-vkey keys must have cosigned; the K-th earliest cosignature time
    /// is the proven time. 0 means no proof of time (the chain is checked now).
    #[arg(long, value_name = "K", default_value_t = 1, requires = "log_key")]
    min_witnesses: usize,

    /// Cross-certificate(s) (PEM) to reach a delegate of a new root from the pinned old root
    /// after a root rotation; the signature carries only the leaf and its delegate.
    #[arg(long = "cross-cert", value_name = "FILE")]
    cross_cert: Option<PathBuf>,

    /// CRL (PEM or DER) issued by the root or the delegate; repeat for several. Each must be
    /// current now, whatever time the chain is checked at.
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,

    /// A folder of CRLs (the `crl/` folder of a published log): every `*.crl` in it, as if
    /// given with --crl, except that CRLs of no CA of a chain are skipped for it.
    #[arg(long = "crl-dir", value_name = "DIR")]
    crl_dir: Option<PathBuf>,

    /// Fail (crl-required) unless every CA of each signature's chain, the root included, has
    /// a CRL among --crl and --crl-dir; each must be current now, as always.
    #[arg(long = "require-crl")]
    require_crl: bool,

    /// "Now", RFC 3339 (e.g. 2026-11-26T12:00:00Z); default: the current time.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    at: Option<OffsetDateTime>,

    /// Print one JSON envelope (docs/cli-json.md) with the subcommand as its command.
    #[arg(long)]
    pub(super) json: bool,
}

/// An input that cannot be used (exit 2): its rule and message.
pub(super) type SetupError = (&'static str, String);

pub(super) fn input(error: &Error) -> SetupError {
    (error.rule(), error.to_string())
}

impl TrustArgs {
    /// The verifier these arguments describe, for `default_purpose` when neither --purpose
    /// nor --eku is given (`None`: one of them is required).
    pub(super) fn verifier(
        &self,
        default_purpose: Option<&str>,
    ) -> Result<ArtifactVerifier, SetupError> {
        let purpose = match (self.purpose.as_deref().or(default_purpose), &self.eku) {
            (_, Some(eku)) => Purpose::new(eku.to_string(), eku.clone()),
            (Some(name), None) => {
                load_purpose(self.policy.as_deref(), name).map_err(|e| input(&e))?
            }
            (None, None) => return Err(("usage", "one of --purpose or --eku is required".into())),
        };
        let root = Root::from_file(&self.root).map_err(|e| input(&e))?;
        let crls = load_crls(&self.crls, self.crl_dir.as_deref()).map_err(|e| input(&e))?;
        let now = self.at.unwrap_or_else(|| {
            let now = OffsetDateTime::now_utc();
            now.replace_nanosecond(0).unwrap_or(now)
        });
        let mut verifier = ArtifactVerifier::new(root, purpose).with_crls(crls).at(now);
        if self.require_crl {
            verifier = verifier.with_required_crls();
        }
        if let Some(path) = &self.cross_cert {
            let cross = Chain::from_file(path).map_err(|e| input(&e))?;
            verifier = verifier.with_cross_certificates(&cross);
        }
        if let Some(log_key) = &self.log_key {
            let witness_keys = self
                .witnesses
                .iter()
                .map(|p| read_vkey(p, "witness key"))
                .collect::<Result<Vec<_>, _>>()?;
            if self.min_witnesses == 0 {
                warn(format_args!(
                    "warning: --min-witnesses 0: no witness cosignature is required and nothing \
                     proves when a signature was made"
                ));
            }
            verifier = verifier.with_log(LogTrust {
                log_key: read_vkey(log_key, "log key")?,
                witness_keys,
                min_witnesses: self.min_witnesses,
            });
        }
        Ok(verifier)
    }

    /// What every signature's verification checks, and what it did not.
    pub(super) fn checks(&self) -> (Vec<Check>, Vec<Check>) {
        let mut checked = vec![
            Check::new("cms-structure"),
            Check::new("message-digest"),
            Check::new("signature"),
            Check::new("path"),
            Check::new("purpose"),
            Check::new("signing-time"),
        ];
        let mut skipped = Vec::new();
        if self.require_crl {
            checked.push(Check::new("revocation").reason("--require-crl: every CA of the chain"));
        } else if self.crls.is_empty() && self.crl_dir.is_none() {
            skipped.push(Check::new("revocation").reason("no --crl given"));
        } else {
            checked.push(Check::new("revocation"));
        }
        if self.log_key.is_some() {
            checked.push(Check::new("log-inclusion"));
            checked.push(Check::new("log-entry"));
            if self.min_witnesses > 0 {
                checked.push(Check::new("witness-cosignatures"));
                checked.push(Check::new("proven-time"));
            } else {
                skipped.push(Check::new("proven-time").reason("--min-witnesses 0"));
            }
        } else {
            let reason = "no --log-vkey: the signatures' log bundles are not checked, and the \
                          chain is checked now";
            skipped.push(Check::new("log-inclusion").reason(reason));
            skipped.push(Check::new("proven-time").reason(reason));
        }
        (checked, skipped)
    }
}

fn read_vkey(path: &Path, what: &str) -> Result<VerifierKey, SetupError> {
    let fail = |message: String| ("log-key", format!("{what} {}: {message}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    VerifierKey::parse(text.trim()).map_err(|e| fail(e.to_string()))
}

/// A file that failed: printed on stderr when made, listed in the JSON result.
pub(super) struct Failed {
    pub(super) file: String,
    pub(super) exit: Exit,
    pub(super) error: Error,
    pub(super) message: String,
}

impl Failed {
    /// `error` about `file` (checked against `sig`, if any): a file or signature that cannot
    /// be read, or a lock file that is not one (the client's own input, not signed), is an
    /// input error (exit 2), anything else a verdict (exit 1). Prints the `INVALID [rule]: …`
    /// or `error: …` line.
    pub(super) fn report(file: String, sig: Option<&Path>, error: Error) -> Self {
        let exit = match error {
            Error::Read { .. } | Error::MalformedLockfile { .. } => Exit::Error,
            _ => Exit::Invalid,
        };
        // The message names the file already when the error is about it or its .sig.
        let message = if error
            .file()
            .is_some_and(|f| f == file || sig.is_some_and(|s| Path::new(f) == s))
        {
            error.to_string()
        } else {
            format!("{file}: {error}")
        };
        match exit {
            Exit::Invalid => warn(format_args!("INVALID [{}]: {message}", error.rule())),
            _ => warn(format_args!("error: {message}")),
        }
        Self {
            file,
            exit,
            error,
            message,
        }
    }

    fn json(&self) -> Value {
        json!({
            "file": self.file,
            "rule": self.error.rule(),
            "message": self.message,
            "exit": self.exit.code(),
            "details": serde_json::to_value(&self.error).unwrap_or(Value::Null),
        })
    }
}

/// The worst exit status of `failed` (success when empty).
pub(super) fn worst(failed: &[Failed]) -> Exit {
    failed
        .iter()
        .fold(Exit::Success, |worst, f| match (worst, f.exit) {
            (Exit::Error, _) | (_, Exit::Error) => Exit::Error,
            _ => Exit::Invalid,
        })
}

/// The JSON list of `failed`.
pub(super) fn failed_json(failed: &[Failed]) -> Vec<Value> {
    failed.iter().map(Failed::json).collect()
}

/// The envelope of a run that got to a `result`: success, or the first failure (with a
/// count of the others) and the worst exit status.
pub(super) fn envelope(
    command: &str,
    result: Value,
    failed: &[Failed],
    checks: (Vec<Check>, Vec<Check>),
) -> Envelope {
    let envelope = match failed.first() {
        None => Envelope::success(command, result),
        Some(first) => Envelope::failure(
            command,
            worst(failed),
            Some(first.error.rule()),
            if failed.len() == 1 {
                first.message.clone()
            } else {
                format!("{} (and {} more failures)", first.message, failed.len() - 1)
            },
            serde_json::to_value(&first.error).ok(),
        )
        .with_result(result),
    };
    envelope.with_checks(checks.0, checks.1)
}

/// Prints an input error (exit 2) before any verdict, with an envelope under --json.
pub(super) fn setup_failed(
    out: &mut impl Write,
    command: &str,
    json: bool,
    (rule, message): SetupError,
) -> std::io::Result<Exit> {
    warn(format_args!("error: {message}"));
    if json {
        Envelope::failure(command, Exit::Error, Some(rule), message, None).write(out)?;
    }
    Ok(Exit::Error)
}

/// The exit status of a run whose output went to stdout: a closed stdout ends it quietly.
pub(super) fn finish(result: std::io::Result<Exit>) -> Exit {
    match result {
        Ok(exit) => exit,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(error) => {
            warn(format_args!("error: writing to stdout: {error}"));
            Exit::Error
        }
    }
}

/// `signed by SUBJECT (serial S) for PURPOSE at TIME; existed by …`: what a verified
/// signature established, for the text output.
pub(super) fn signed_by(ok: &VerifiedArtifact) -> String {
    let time = |t: OffsetDateTime| crate::times::rfc3339(t);
    let logged = match (ok.proven_time, ok.log_index) {
        (Some(proven), Some(index)) => format!(
            "; existed by {} ({} witness(es), log entry {index})",
            time(proven),
            ok.witnesses.len()
        ),
        (None, Some(index)) => format!("; log entry {index}, no proof of time"),
        _ => "; not checked against the log".into(),
    };
    format!(
        "signed by {} (serial {}) for {} at {}{logged}",
        ok.signer.subject,
        ok.signer.serial,
        ok.purpose,
        time(ok.signing_time)
    )
}
