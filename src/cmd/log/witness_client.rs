//! `rust-pki log cosign`: ask witnesses to cosign the log's checkpoint (C2SP tlog-witness
//! add-checkpoint, client side) and add their verified cosignatures to the checkpoint.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use rust_pki_tlog::cosignature::verify_cosignature;
use rust_pki_tlog::note::VerifierKey;
use rust_pki_tlog::witness_protocol::{
    ADD_CHECKPOINT_PATH, AddCheckpointRequest, MAX_RESPONSE_BYTES, SIZE_CONTENT_TYPE,
    cosignature_from_response, parse_size_body, reason_phrase,
};
use rust_pki_tlog::writer::{CHECKPOINT_FILE, Log};

use super::witness::read_witness_vkey;
use super::{open_writable, parse_lock_timeout};

/// How long one request to a witness may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub struct CosignArgs {
    /// The log directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The log's secret signer key file (as for `log append`; opening the log may have to
    /// finish an interrupted checkpoint).
    #[arg(long = "log-skey", alias = "key", value_name = "SKEY_FILE")]
    key: PathBuf,
    /// A witness's URL (submission prefix; `/add-checkpoint` is appended). Repeatable; the
    /// n-th --witness-url goes with the n-th --witness-vkey.
    #[arg(
        long = "witness-url",
        alias = "witness",
        value_name = "URL",
        required = true
    )]
    witnesses: Vec<String>,
    /// The verifier key file of the witness at the --witness-url of the same position.
    #[arg(
        long = "witness-vkey",
        alias = "witness-key",
        value_name = "VKEY",
        required = true
    )]
    witness_keys: Vec<PathBuf>,
    /// How long to wait, in seconds, for another command writing to DIR (the log is locked
    /// while the cosignatures are fetched and added); then give up naming the lock.
    #[arg(long, value_name = "SECONDS", default_value = "120", value_parser = parse_lock_timeout)]
    lock_timeout: Duration,
}

/// Asks the witness at `url` (its submission prefix) to cosign `log`'s current checkpoint,
/// following C2SP tlog-witness add-checkpoint: first with old size 0 and no proof; on
/// "409 Conflict" with the witness's cosigned size from the body, once more with that old
/// size and a consistency proof from it. Verifies the returned cosignature with
/// `witness_key` over the checkpoint body (lines by other keys are ignored) and returns it
/// as a note signature line without its trailing newline, ready for
/// [`Log::add_cosignatures`].
///
/// # Errors
/// Network errors, a refusal (naming the status and what it means), a witness that has
/// cosigned a larger tree than `log` holds, a malformed response, or a cosignature that
/// does not verify.
pub fn request_cosignature(
    url: &str,
    log: &Log,
    witness_key: &VerifierKey,
) -> anyhow::Result<String> {
    let head = log.head();
    let body = checkpoint_body(&head.note)?;
    let endpoint = format!("{}{ADD_CHECKPOINT_PATH}", url.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into();
    let post = |old_size: u64, proof: Vec<[u8; 32]>| -> anyhow::Result<(u16, String, String)> {
        let request = AddCheckpointRequest {
            old_size,
            proof,
            checkpoint: head.note.clone(),
        }
        .encode();
        let mut response = agent
            .post(&endpoint)
            .header("Content-Type", "text/plain; charset=utf-8")
            .send(&request[..])
            .with_context(|| format!("POST {endpoint}"))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .with_context(|| format!("POST {endpoint}: reading the {status} response"))?;
        Ok((status, content_type, text))
    };

    let (mut status, mut content_type, mut text) = post(0, Vec::new())?;
    if status == 409 {
        let size = witness_size(&endpoint, &content_type, &text)?;
        if size > head.size {
            bail!(
                "witness {url} has cosigned size {size} of {}, larger than this log's size {}: \
                 it saw a checkpoint this log directory does not have (a rollback of the log, \
                 or another copy of it)",
                origin(&body),
                head.size
            );
        }
        let (proof, _) = log
            .prove_consistency(size)
            .with_context(|| format!("consistency proof from size {size}"))?;
        (status, content_type, text) = post(size, proof.iter().map(|h| h.0).collect())?;
    }
    let message = sanitize(&text);
    let what = format!(
        "witness {url} (HTTP {status} {})",
        if status == 200 {
            "OK"
        } else {
            reason_phrase(status)
        }
    );
    match status {
        200 => cosignature_from_response(&text, &body, witness_key)
            .with_context(|| format!("{what}: its response")),
        409 => bail!(
            "{what}: it still reports another cosigned size ({}) after the retry with a \
             consistency proof (is someone else submitting checkpoints of this log?)",
            witness_size(&endpoint, &content_type, &text)
                .map_or_else(|e| format!("{e:#}"), |s| s.to_string())
        ),
        400 => bail!("{what}: it finds the request malformed: {message}"),
        403 => bail!(
            "{what}: it does not accept the log's signature on the checkpoint (is it \
             configured with this log's key?): {message}"
        ),
        404 => bail!(
            "{what}: it does not witness the log {} (or {endpoint} is not a witness): {message}",
            origin(&body)
        ),
        422 => bail!(
            "{what}: the checkpoint is inconsistent with the one it cosigned (split view or \
             bad consistency proof): {message}"
        ),
        _ => bail!("{what}: {message}"),
    }
}

/// The witness's cosigned size from a 409 response.
fn witness_size(endpoint: &str, content_type: &str, text: &str) -> anyhow::Result<u64> {
    if content_type != SIZE_CONTENT_TYPE {
        bail!(
            "POST {endpoint}: 409 response with Content-Type {:?}, not {SIZE_CONTENT_TYPE}",
            sanitize(content_type)
        );
    }
    parse_size_body(text).with_context(|| format!("POST {endpoint}"))
}

/// The checkpoint body (note text) of a signed note: everything up to the blank line
/// before the signatures, with its final newline.
pub(super) fn checkpoint_body(note: &[u8]) -> anyhow::Result<Vec<u8>> {
    let Some(end) = note.windows(2).rposition(|w| w == b"\n\n") else {
        bail!("the log's checkpoint note has no signature block");
    };
    Ok(note[..=end].to_vec())
}

fn origin(body: &[u8]) -> String {
    String::from_utf8_lossy(body.split(|&b| b == b'\n').next().unwrap_or_default()).into_owned()
}

/// A witness's error text, for our own error messages: printable, one line, bounded.
fn sanitize(text: &str) -> String {
    let one_line: String = text
        .trim_end()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if one_line.is_empty() {
        "(no message)".into()
    } else {
        one_line
    }
}

/// `rust-pki log cosign`.
pub fn cosign(args: &CosignArgs) -> anyhow::Result<()> {
    if args.witnesses.len() != args.witness_keys.len() {
        bail!(
            "{} --witness-url but {} --witness-vkey: give one --witness-vkey per --witness-url, in the \
             same order",
            args.witnesses.len(),
            args.witness_keys.len()
        );
    }
    let witness_keys = args
        .witness_keys
        .iter()
        .map(|p| read_witness_vkey(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The log stays locked until the cosignatures are added: they are for this head.
    let mut log = open_writable(&args.dir, &args.key, args.lock_timeout)?;
    let cp_path = args.dir.join(CHECKPOINT_FILE);
    let body = checkpoint_body(&log.head().note)?;

    let mut out = std::io::stdout().lock();
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    for (url, witness_key) in args.witnesses.iter().zip(&witness_keys) {
        if already_cosigned(&log.head().note, &body, witness_key) {
            writeln!(
                out,
                "already cosigned by {} (size {})",
                witness_key.label(),
                log.head().size
            )?;
            continue;
        }
        match request_cosignature(url, &log, witness_key) {
            Ok(line) => {
                writeln!(
                    out,
                    "cosigned by {} via {url}: size {}",
                    witness_key.label(),
                    log.head().size
                )?;
                writeln!(out, "{line}")?;
                lines.push(line);
            }
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    if !lines.is_empty() {
        let head = log.add_cosignatures(&lines)?;
        writeln!(
            out,
            "added {} cosignature(s) to {} (size {})",
            lines.len(),
            cp_path.display(),
            head.size
        )?;
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} witness(es) did not cosign:\n  {}",
            failures.len(),
            args.witnesses.len(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

/// Whether the note already carries a valid cosignature by `witness` over `body`.
pub(super) fn already_cosigned(note: &[u8], body: &[u8], witness: &VerifierKey) -> bool {
    let text = String::from_utf8_lossy(note.get(body.len()..).unwrap_or_default());
    text.lines()
        .any(|l| verify_cosignature(l, body, witness).is_ok())
}
