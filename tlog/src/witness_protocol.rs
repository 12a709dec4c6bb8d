//! The witness HTTP protocol, C2SP tlog-witness (<https://c2sp.org/tlog-witness>), section
//! "add-checkpoint": the request body, the HTTP status the spec requires for each outcome of
//! [`Witness::add_checkpoint`], and the client's reading of the responses.
//!
//! No network I/O here: the HTTP server and client are in the CLI. [`add_checkpoint`] runs
//! a request against a [`Witness`], which persists its state.
//!
//! Not implemented: the optional `sign-subtree` call and the monitoring
//! `GET <prefix>/<origin hash>/checkpoint` (a SHOULD).

use base64ct::{Base64, Encoding};
use tlog_tiles::EMPTY_HASH;

use crate::checkpoint::SignedCheckpoint;
use crate::cosignature::{Cosignature, verify_cosignature};
use crate::note::VerifierKey;
use crate::witness::Witness;
use crate::{Error, Result};

/// The path of the call under the submission prefix (tlog-witness "add-checkpoint").
pub const ADD_CHECKPOINT_PATH: &str = "/add-checkpoint";
/// Content type of a 409 Conflict body (tlog-witness "add-checkpoint").
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";
/// Content type of every other response of this implementation (the spec names none).
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";
/// "The client MUST NOT send more than 63 consistency proof lines." (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;
/// The largest request body accepted: the old size and 63 proof lines take under 3 KiB; the
/// rest is for the checkpoint and its signatures.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The largest response body a client reads (a few cosignature lines).
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// An add-checkpoint request body (tlog-witness "add-checkpoint"): an old size line, zero
/// or more consistency proof lines, an empty line, then the signed checkpoint note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// The size of the checkpoint the client believes the witness last cosigned.
    pub old_size: u64,
    /// RFC 6962 consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<[u8; 32]>,
    /// The signed checkpoint note (it may carry several signatures).
    pub checkpoint: Vec<u8>,
}

impl AddCheckpointRequest {
    /// The request body: `old <size>\n`, one base64 hash per line, `\n`, the checkpoint.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = format!("old {}\n", self.old_size).into_bytes();
        for hash in &self.proof {
            body.extend_from_slice(Base64::encode_string(hash).as_bytes());
            body.push(b'\n');
        }
        body.push(b'\n');
        body.extend_from_slice(&self.checkpoint);
        body
    }

    /// Parses a request body strictly: every line ends in `\n` (no `\r`), the old size is
    /// canonical decimal (no sign, no leading zero), each proof line is the padded base64
    /// of 32 bytes, at most 63 of them, and a non-empty checkpoint follows the empty line.
    /// The checkpoint itself is checked later, with the log's key.
    ///
    /// # Errors
    /// [`Error::WitnessRequest`] naming the line (1-based); line 0 is the whole body.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let bad = |line: usize, reason: String| Error::WitnessRequest { line, reason };
        if body.len() > MAX_REQUEST_BYTES {
            return Err(bad(
                0,
                format!(
                    "body of {} bytes exceeds {MAX_REQUEST_BYTES} bytes",
                    body.len()
                ),
            ));
        }
        let mut rest = body;
        let mut line_no = 0;
        let mut next_line = |rest: &mut &[u8]| -> Result<(usize, Vec<u8>)> {
            line_no += 1;
            let end = rest.iter().position(|&b| b == b'\n').ok_or_else(|| {
                bad(
                    line_no,
                    if rest.is_empty() {
                        "missing: the body ends before the empty line and the checkpoint".to_owned()
                    } else {
                        "does not end in a newline".to_owned()
                    },
                )
            })?;
            let line = rest[..end].to_vec();
            *rest = &rest[end + 1..];
            Ok((line_no, line))
        };

        let (n, line) = next_line(&mut rest)?;
        let text = std::str::from_utf8(&line).map_err(|_| bad(n, "not UTF-8".into()))?;
        let size = text
            .strip_prefix("old ")
            .ok_or_else(|| bad(n, format!("expected \"old <size>\", found {text:?}")))?;
        let old_size =
            parse_decimal(size).ok_or_else(|| bad(n, format!("bad old size {size:?}")))?;

        let mut proof = Vec::new();
        loop {
            let (n, line) = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad(
                    n,
                    format!("more than {MAX_PROOF_LINES} consistency proof lines"),
                ));
            }
            proof.push(parse_hash(&line).map_err(|reason| bad(n, reason))?);
        }
        if rest.is_empty() {
            return Err(bad(line_no + 1, "missing checkpoint".into()));
        }
        Ok(Self {
            old_size,
            proof,
            checkpoint: rest.to_vec(),
        })
    }
}

/// One base64 hash line.
fn parse_hash(line: &[u8]) -> std::result::Result<[u8; 32], String> {
    let mut hash = [0u8; 32];
    match Base64::decode(line, &mut hash) {
        Ok(decoded) if decoded.len() == 32 => Ok(hash),
        Ok(decoded) => Err(format!(
            "consistency proof hash of {} bytes, expected 32",
            decoded.len()
        )),
        Err(e) => Err(format!(
            "consistency proof line is not the padded base64 of a 32-byte hash: {e}"
        )),
    }
}

/// ASCII decimal with no leading zeroes ("0" for zero), as tlog-witness requires.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// An HTTP response of the witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

impl Response {
    /// 200 with the cosignature line(s), each ending in `\n`.
    pub fn cosigned(lines: &str) -> Self {
        Self {
            status: 200,
            content_type: TEXT_CONTENT_TYPE,
            body: lines.to_owned(),
        }
    }

    /// A plain-text response (errors; the spec leaves their body open).
    pub fn text(status: u16, message: &str) -> Self {
        Self {
            status,
            content_type: TEXT_CONTENT_TYPE,
            body: format!("{message}\n"),
        }
    }
}

/// The standard reason phrase of the status codes this protocol uses.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        422 => "Unprocessable Entity",
        _ => "Internal Server Error",
    }
}

/// A refused add-checkpoint: why, and the response the spec requires.
#[derive(Debug)]
pub struct Refusal {
    /// What was wrong (for the witness's own log; 5xx bodies do not include it).
    pub error: Error,
    /// What to send to the client.
    pub response: Response,
}

/// The response tlog-witness "add-checkpoint" requires for `error`. `old_size` is the
/// request's old size (`None` when the body did not parse); it decides between 409 and
/// 400/422 for a rollback or a split view, which [`Witness::add_checkpoint`] detects before
/// comparing the old size.
///
/// - 400: malformed body, old size above the checkpoint size, malformed note or checkpoint;
/// - 403: no signature by the log's key, or its signature does not verify;
/// - 404: unknown origin;
/// - 409 with body `<cosigned size>\n` and `Content-Type: text/x.tlog.size`: old size is not
///   the cosigned size (this includes rollbacks, whose old size cannot match);
/// - 422: bad consistency proof, non-empty proof from size 0, same size with another root
///   (split view), size 0 with a root that is not the empty tree's;
/// - 500: anything else (state I/O); the body does not say more.
pub fn refusal(error: Error, old_size: Option<u64>) -> Box<Refusal> {
    let conflict = |stored: u64| Response {
        status: 409,
        content_type: SIZE_CONTENT_TYPE,
        body: format!("{stored}\n"),
    };
    let text = |status| Response::text(status, &error.to_string());
    let response = match &error {
        Error::WitnessRequest { .. }
        | Error::WitnessOldSizeTooLarge { .. }
        | Error::NoteMalformed(_)
        | Error::CheckpointMalformed(_) => text(400),
        Error::NoteUnknownKey { .. }
        | Error::NoteBadSignature { .. }
        | Error::CheckpointOriginMismatch { .. } => text(403),
        Error::WitnessUnknownOrigin { .. } => text(404),
        Error::WitnessOldSizeMismatch { stored, .. } => conflict(*stored),
        // "The old size MUST be equal to or lower than the checkpoint size. Otherwise ...
        // 400"; else the old size (<= new size < cosigned size) does not match: 409.
        Error::WitnessRollback { old, new, .. } => match old_size {
            Some(claimed) if claimed > *new => text(400),
            _ => conflict(*old),
        },
        // "If the old size matches the checkpoint size, the witness MUST check that the root
        // hashes are also identical. If they don't match ... 422"; if the old size does not
        // match the cosigned size, 409 comes first.
        Error::WitnessSplitView { size, .. } => {
            if old_size == Some(*size) {
                text(422)
            } else {
                conflict(*size)
            }
        }
        Error::WitnessBadProof { .. } | Error::WitnessEmptyTreeRoot { .. } => text(422),
        _ => Response::text(500, "internal witness error"),
    };
    Box::new(Refusal { error, response })
}

/// Runs one add-checkpoint request body against `witness`, whose log keys are `logs`:
/// parses it, then checks in the order of tlog-witness "add-checkpoint" — origin known
/// (404), log signature (403), old size at most the checkpoint size (400), then the
/// witness's own checks (409, 422), and the empty-tree root of a size-0 checkpoint (422).
/// Returns the cosignature line (ending in `\n`), the 200 body.
///
/// # Errors
/// A [`Refusal`] with the error and the response the spec requires (boxed: it is large).
pub fn add_checkpoint(
    witness: &mut Witness,
    logs: &[VerifierKey],
    body: &[u8],
) -> std::result::Result<String, Box<Refusal>> {
    let req = AddCheckpointRequest::parse(body).map_err(|e| refusal(e, None))?;
    let old = Some(req.old_size);
    let cp = check_request(&req, logs).map_err(|e| refusal(e, old))?;
    // "A checkpoint of size zero MUST have the root hash of the empty tree ... Otherwise
    // ... 422". `Witness` does not check it. When the witness cosigned a larger size, its
    // rollback refusal (409) comes first, as in the spec's order.
    if cp.size == 0
        && cp.root_hash != EMPTY_HASH.0
        && witness.latest(&cp.origin).is_none_or(|c| c.size == 0)
    {
        return Err(refusal(
            Error::WitnessEmptyTreeRoot {
                origin: cp.origin,
                root: Base64::encode_string(&cp.root_hash),
            },
            old,
        ));
    }
    witness
        .add_checkpoint(&req.checkpoint, req.old_size, &req.proof)
        .map_err(|e| refusal(e, old))
}

/// The checks the spec lists before the old-size comparison: known origin, the log's
/// signature, old size not above the checkpoint size.
fn check_request(req: &AddCheckpointRequest, logs: &[VerifierKey]) -> Result<SignedCheckpoint> {
    let first_line = req
        .checkpoint
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let origin = std::str::from_utf8(first_line)
        .map_err(|_| Error::NoteMalformed("the origin line is not UTF-8".into()))?;
    if origin.is_empty() {
        return Err(Error::CheckpointMalformed("empty origin line".into()));
    }
    let key =
        logs.iter()
            .find(|k| k.name() == origin)
            .ok_or_else(|| Error::WitnessUnknownOrigin {
                origin: origin.to_owned(),
            })?;
    // Signatures by unknown keys (e.g. other witnesses' cosignatures) are ignored.
    let cp = SignedCheckpoint::verify(&req.checkpoint, key)?;
    if req.old_size > cp.size {
        return Err(Error::WitnessOldSizeTooLarge {
            old: req.old_size,
            size: cp.size,
        });
    }
    Ok(cp)
}

/// Reads a 409 Conflict body: the witness's cosigned size in decimal and a newline.
///
/// # Errors
/// [`Error::WitnessResponse`].
pub fn parse_size_body(body: &str) -> Result<u64> {
    body.strip_suffix('\n')
        .and_then(parse_decimal)
        .ok_or_else(|| {
            Error::WitnessResponse(format!(
                "409 body {:?} is not a decimal size and a newline",
                body.chars().take(40).collect::<String>()
            ))
        })
}

/// Reads a 200 response: note signature lines, each starting with `—` and ending in `\n`.
/// Lines by other keys are ignored ("The client MUST ignore any cosignatures from unknown
/// keys"); the first line by `witness` must verify over `checkpoint_body` and carry a
/// non-zero timestamp. Returns that line without its newline (as
/// `Log::add_cosignatures` takes it).
///
/// # Errors
/// [`Error::WitnessResponse`] for a malformed body, a zero timestamp or no line by
/// `witness`; [`Error::CosignatureBadSignature`] when its line does not verify.
pub fn cosignature_from_response(
    body: &str,
    checkpoint_body: &[u8],
    witness: &VerifierKey,
) -> Result<String> {
    if body.is_empty() {
        return Err(Error::WitnessResponse("empty 200 response".into()));
    }
    let mut signers = Vec::new();
    for (i, line) in body.split_inclusive('\n').enumerate() {
        let bad = |reason: &str| Error::WitnessResponse(format!("line {}: {reason}", i + 1));
        let Some(line) = line.strip_suffix('\n') else {
            return Err(bad("does not end in a newline"));
        };
        if !line.starts_with("\u{2014} ") {
            return Err(bad(
                "not a note signature line (must start with \"\u{2014} \")",
            ));
        }
        match Cosignature::parse(line) {
            Ok(c) if c.name == witness.name() && c.key_id == witness.id() => {
                let c = verify_cosignature(line, checkpoint_body, witness)?;
                if c.timestamp == 0 {
                    return Err(bad("the cosignature's timestamp is zero"));
                }
                return Ok(line.to_owned());
            }
            Ok(c) => signers.push(format!("{}+{:08x}", c.name, c.key_id)),
            // Another signature type (e.g. ML-DSA) by a key we do not know: ignored.
            Err(_) => signers.push(line.split(' ').nth(1).unwrap_or_default().to_owned()),
        }
    }
    Err(Error::WitnessResponse(format!(
        "no cosignature by {} (signed by: {})",
        witness.label(),
        signers.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use tlog_tiles::{Hash, HashReader, prove_tree, stored_hashes, tree_hash};

    use super::*;
    use crate::cosignature::cosign;
    use crate::note::{KeyType, SignerKey};

    /// The example request body of tlog-witness "add-checkpoint".
    const SPEC_REQUEST: &str = "old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
";

    /// The example response body of tlog-witness "add-checkpoint".
    const SPEC_RESPONSE: &str = "\u{2014} witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==
\u{2014} witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==
\u{2014} witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==
";

    fn parse_err(body: &str) -> (usize, String) {
        match AddCheckpointRequest::parse(body.as_bytes()) {
            Err(Error::WitnessRequest { line, reason }) => (line, reason),
            other => panic!("expected WitnessRequest for {body:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_spec_example_request() {
        let req = AddCheckpointRequest::parse(SPEC_REQUEST.as_bytes()).unwrap();
        assert_eq!(req.old_size, 20_852_014);
        assert_eq!(req.proof.len(), 4);
        assert_eq!(
            req.proof[0],
            <[u8; 32]>::try_from(
                Base64::decode_vec("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=").unwrap()
            )
            .unwrap()
        );
        assert!(
            req.checkpoint
                .starts_with(b"example.com/behind-the-sofa\n20852163\n")
        );
        assert!(req.checkpoint.ends_with("Rovnzv++qbSzm9Q=\n".as_bytes()));
        assert_eq!(req.encode(), SPEC_REQUEST.as_bytes());
    }

    #[test]
    fn parses_old_size_zero_without_proof() {
        let req = AddCheckpointRequest::parse(b"old 0\n\nx\n").unwrap();
        assert_eq!((req.old_size, req.proof.len()), (0, 0));
        assert_eq!(req.checkpoint, b"x\n");
    }

    #[test]
    fn rejects_non_canonical_old_size() {
        for (body, line) in [
            ("old 01\n\nx\n", 1),
            ("old -1\n\nx\n", 1),
            ("old +1\n\nx\n", 1),
            ("old  1\n\nx\n", 1),
            ("old 1 \n\nx\n", 1),
            ("old\n\nx\n", 1),
            ("Old 1\n\nx\n", 1),
            ("old 18446744073709551616\n\nx\n", 1),
            ("old 1\r\n\r\nx\n", 1),
        ] {
            let (l, reason) = parse_err(body);
            assert_eq!(l, line, "{body:?}: {reason}");
        }
    }

    #[test]
    fn rejects_bad_proof_lines() {
        let h = Base64::encode_string(&[7u8; 32]);
        let (l, r) = parse_err(&format!("old 1\n{h}\nAAAA\n\nx\n"));
        assert_eq!(l, 3, "{r}");
        let (l, r) = parse_err(&format!("old 1\n{}\n\nx\n", h.trim_end_matches('=')));
        assert_eq!(l, 2, "{r}");
        let (l, r) = parse_err(&format!("old 1\n {h}\n\nx\n"));
        assert_eq!(l, 2, "{r}");
        let (l, r) = parse_err(&format!("old 1\n{h}\r\n\nx\n"));
        assert_eq!(l, 2, "{r}");
        // Base64 of 33 bytes.
        let (l, r) = parse_err(&format!(
            "old 1\n{}\n\nx\n",
            Base64::encode_string(&[7u8; 33])
        ));
        assert_eq!(l, 2, "{r}");
    }

    #[test]
    fn rejects_more_than_63_proof_lines() {
        let h = Base64::encode_string(&[7u8; 32]);
        let ok = format!("old 1\n{}\nx\n", format!("{h}\n").repeat(63));
        assert_eq!(
            AddCheckpointRequest::parse(ok.as_bytes())
                .unwrap()
                .proof
                .len(),
            63
        );
        let (l, r) = parse_err(&format!("old 1\n{}\nx\n", format!("{h}\n").repeat(64)));
        assert_eq!(l, 65, "{r}");
    }

    #[test]
    fn rejects_missing_parts() {
        assert_eq!(parse_err("").0, 1);
        assert_eq!(parse_err("old 1").0, 1);
        assert_eq!(parse_err("old 1\n").0, 2);
        assert_eq!(parse_err("old 1\n\n").0, 3);
        let h = Base64::encode_string(&[7u8; 32]);
        assert_eq!(parse_err(&format!("old 1\n{h}\n")).0, 3);
        assert_eq!(parse_err(&format!("old 1\n{h}")).0, 2);
        let big = vec![b'a'; MAX_REQUEST_BYTES + 1];
        assert!(matches!(
            AddCheckpointRequest::parse(&big),
            Err(Error::WitnessRequest { line: 0, .. })
        ));
    }

    #[test]
    fn status_codes_follow_the_spec() {
        let status = |e: Error, old: Option<u64>| refusal(e, old).response;
        let o = || "example.com/log".to_owned();
        let r = status(Error::WitnessUnknownOrigin { origin: o() }, Some(0));
        assert_eq!(r.status, 404);
        let r = status(Error::NoteBadSignature { key: "k".into() }, Some(0));
        assert_eq!(r.status, 403);
        let r = status(
            Error::NoteUnknownKey {
                known: "a".into(),
                signers: "b".into(),
            },
            Some(0),
        );
        assert_eq!(r.status, 403);
        let r = status(Error::WitnessOldSizeTooLarge { old: 5, size: 4 }, Some(5));
        assert_eq!(r.status, 400);
        let r = status(
            Error::WitnessOldSizeMismatch {
                origin: o(),
                claimed: 0,
                stored: 20_852_014,
            },
            Some(0),
        );
        assert_eq!(
            r,
            Response {
                status: 409,
                content_type: "text/x.tlog.size",
                body: "20852014\n".into()
            }
        );
        // Rollback: the old size cannot be the cosigned one, so 409 with the cosigned size.
        let r = status(
            Error::WitnessRollback {
                origin: o(),
                old: 10,
                new: 5,
            },
            Some(5),
        );
        assert_eq!((r.status, r.body.as_str()), (409, "10\n"));
        assert_eq!(r.content_type, SIZE_CONTENT_TYPE);
        let split = || Error::WitnessSplitView {
            origin: o(),
            size: 10,
            old: "a".into(),
            new: "b".into(),
        };
        assert_eq!(status(split(), Some(10)).status, 422);
        let r = status(split(), Some(0));
        assert_eq!((r.status, r.body.as_str()), (409, "10\n"));
        let r = status(
            Error::WitnessBadProof {
                origin: o(),
                old: 1,
                new: 2,
                reason: "x".into(),
                source: None,
            },
            Some(1),
        );
        assert_eq!(r.status, 422);
        let r = status(
            Error::WitnessRequest {
                line: 1,
                reason: "x".into(),
            },
            None,
        );
        assert_eq!(r.status, 400);
        assert!(r.body.contains("line 1"));
        let r = status(
            Error::WitnessState {
                path: "/secret/path".into(),
                reason: "x".into(),
                source: None,
            },
            Some(0),
        );
        assert_eq!(r.status, 500);
        assert!(!r.body.contains("/secret/path"));
    }

    #[test]
    fn reads_409_bodies() {
        assert_eq!(parse_size_body("20852014\n").unwrap(), 20_852_014);
        assert_eq!(parse_size_body("0\n").unwrap(), 0);
        for bad in ["", "5", "05\n", "5\r\n", "-1\n", "a\n", "5\n\n"] {
            assert!(parse_size_body(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn client_ignores_the_spec_example_cosignatures_by_unknown_keys() {
        // The spec's example lines are random bytes: by keys this client does not know.
        let other = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
        let err = cosignature_from_response(SPEC_RESPONSE, b"x\n", &other.verifier());
        match err {
            Err(Error::WitnessResponse(m)) => assert!(m.contains("no cosignature"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn client_takes_its_witness_line_among_others() {
        let w = SignerKey::generate("witness.example/w3", KeyType::CosignatureV1).unwrap();
        let body = b"example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let line = cosign(&w, body, 1_700_000_000).unwrap();
        let response = format!("{SPEC_RESPONSE}{line}");
        let got = cosignature_from_response(&response, body, &w.verifier()).unwrap();
        assert_eq!(format!("{got}\n"), line);
        // Over another checkpoint body: a bad signature, not ignored.
        let err = cosignature_from_response(&response, b"other\n", &w.verifier());
        assert!(matches!(err, Err(Error::CosignatureBadSignature { .. })));
        // Timestamp zero is refused ("the timestamp MUST NOT be zero").
        let zero = cosign(&w, body, 0).unwrap();
        assert!(matches!(
            cosignature_from_response(&zero, body, &w.verifier()),
            Err(Error::WitnessResponse(_))
        ));
        // Malformed lines.
        for bad in ["", "garbage\n", line.trim_end()] {
            assert!(cosignature_from_response(bad, body, &w.verifier()).is_err());
        }
    }

    /// In-memory tree: stored hashes computed with tlog_tiles.
    #[derive(Default)]
    struct Tree {
        hashes: RefCell<Vec<Hash>>,
        size: u64,
    }

    impl HashReader for Tree {
        fn read_hashes(
            &self,
            indexes: &[u64],
        ) -> std::result::Result<Vec<Hash>, tlog_tiles::Error> {
            let h = self.hashes.borrow();
            indexes
                .iter()
                .map(|&i| {
                    h.get(usize::try_from(i).unwrap())
                        .copied()
                        .ok_or(tlog_tiles::Error::IndexesNotInTree)
                })
                .collect()
        }
    }

    impl Tree {
        fn append(&mut self, n: u64, tag: &str) {
            for _ in 0..n {
                let data = format!("{tag}-{}", self.size);
                let new = stored_hashes(self.size, data.as_bytes(), self).unwrap();
                self.hashes.borrow_mut().extend(new);
                self.size += 1;
            }
        }

        fn checkpoint(&self, log: &SignerKey) -> Vec<u8> {
            let root = tree_hash(self.size, self).unwrap().0;
            SignedCheckpoint::sign(log, self.size, root).unwrap().note
        }

        fn proof(&self, old: u64) -> Vec<[u8; 32]> {
            prove_tree(self.size, old, self)
                .unwrap()
                .into_iter()
                .map(|h| h.0)
                .collect()
        }
    }

    struct Setup {
        _dir: tempfile::TempDir,
        log: SignerKey,
        logs: Vec<VerifierKey>,
        witness: Witness,
    }

    fn setup() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let log = SignerKey::generate("example.com/log", KeyType::Ed25519).unwrap();
        let wkey = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
        let logs = vec![log.verifier()];
        let witness = Witness::open(dir.path(), wkey, &logs).unwrap();
        Setup {
            _dir: dir,
            log,
            logs,
            witness,
        }
    }

    fn submit(s: &mut Setup, old_size: u64, proof: Vec<[u8; 32]>, checkpoint: Vec<u8>) -> u16 {
        let body = AddCheckpointRequest {
            old_size,
            proof,
            checkpoint,
        }
        .encode();
        match add_checkpoint(&mut s.witness, &s.logs, &body) {
            Ok(line) => {
                assert!(line.starts_with("\u{2014} witness.example/w1 "));
                200
            }
            Err(r) => r.response.status,
        }
    }

    #[test]
    fn add_checkpoint_returns_each_status() {
        let mut s = setup();
        let mut t = Tree::default();
        t.append(5, "a");
        let cp5 = t.checkpoint(&s.log);
        assert_eq!(submit(&mut s, 0, vec![], cp5.clone()), 200);
        t.append(3, "a");
        let cp8 = t.checkpoint(&s.log);
        // Old size 0 when 5 was cosigned: 409 with 5.
        let body = AddCheckpointRequest {
            old_size: 0,
            proof: vec![],
            checkpoint: cp8.clone(),
        }
        .encode();
        let r = add_checkpoint(&mut s.witness, &s.logs, &body).unwrap_err();
        assert_eq!((r.response.status, r.response.body.as_str()), (409, "5\n"));
        // Old size above the checkpoint size: 400.
        assert_eq!(submit(&mut s, 9, vec![], cp8.clone()), 400);
        // Bad proof: 422.
        let mut proof = t.proof(5);
        proof[0][0] ^= 1;
        assert_eq!(submit(&mut s, 5, proof, cp8.clone()), 422);
        assert_eq!(submit(&mut s, 5, t.proof(5), cp8.clone()), 200);
        // Rollback to 5: 409 with 8.
        assert_eq!(submit(&mut s, 5, vec![], cp5), 409);
        // Split view at size 8 with the right old size: 422; with another old size: 409.
        let mut fork = Tree::default();
        fork.append(8, "b");
        let fork8 = fork.checkpoint(&s.log);
        assert_eq!(submit(&mut s, 8, vec![], fork8.clone()), 422);
        assert_eq!(submit(&mut s, 0, vec![], fork8), 409);
        // Unknown origin: 404; signature by another key for a known origin: 403.
        let other = SignerKey::generate("example.com/other", KeyType::Ed25519).unwrap();
        assert_eq!(submit(&mut s, 0, vec![], t.checkpoint(&other)), 404);
        let impostor = SignerKey::generate("example.com/log", KeyType::Ed25519).unwrap();
        assert_eq!(submit(&mut s, 8, vec![], t.checkpoint(&impostor)), 403);
        // Altered body under the log's signature: 403.
        let forged = String::from_utf8(t.checkpoint(&s.log))
            .unwrap()
            .replacen("\n8\n", "\n9\n", 1);
        assert_eq!(submit(&mut s, 8, vec![], forged.into_bytes()), 403);
        // Garbage after the empty line: 404 (its first line is an unknown origin) or 400.
        assert_eq!(submit(&mut s, 0, vec![], b"\n".to_vec()), 400);
        assert_eq!(
            add_checkpoint(&mut s.witness, &s.logs, b"old 0\n")
                .unwrap_err()
                .response
                .status,
            400
        );
    }

    #[test]
    fn size_zero_needs_the_empty_tree_root() {
        let mut s = setup();
        let bad = SignedCheckpoint::sign(&s.log, 0, [1; 32]).unwrap().note;
        assert_eq!(submit(&mut s, 0, vec![], bad), 422);
        let good = Tree::default().checkpoint(&s.log);
        assert_eq!(submit(&mut s, 0, vec![], good), 200);
        // Non-empty proof from size 0: 422.
        let mut t = Tree::default();
        t.append(2, "a");
        let cp2 = t.checkpoint(&s.log);
        assert_eq!(submit(&mut s, 0, vec![[0; 32]], cp2.clone()), 422);
        assert_eq!(submit(&mut s, 0, vec![], cp2), 200);
    }
}
