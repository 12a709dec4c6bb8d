//! The static site of a published log: `index.html`, rendered from verified entries.
//!
//! Pure rendering, no I/O: [`publish()`](crate::publish()) verifies the log and gathers
//! the data. The page is static HTML with inline CSS, no JavaScript and no external
//! resources, and its Content Security Policy forbids scripts and every fetch, so a text
//! that escaped escaping still could not run. Every text taken from the log or a record
//! goes through [`escape`]. The output depends only on its input (no timestamp), so
//! publishing an unchanged log writes identical bytes and mirrors copy nothing new.

use rust_pki_ceremony::record::Record;

/// The verified log the page describes.
#[derive(Debug)]
pub struct LogSummary {
    /// Checkpoint origin.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash of the checkpoint.
    pub root_hash: [u8; 32],
    /// The verifier key the checkpoint was verified with (signed-note vkey text).
    pub vkey: String,
    /// The checkpoint note as published (log signature and any cosignatures).
    pub note: String,
}

/// One entry of the log, ready to render.
#[derive(Debug)]
pub enum Row {
    /// A ceremony record entry.
    Ceremony(CeremonyRow),
    /// A leaf certificate issued by a delegate.
    Leaf(LeafRow),
    /// A release file's digest.
    Artifact(ArtifactRow),
    /// Access to the bastion or the HSMs.
    BastionEvent(BastionEventRow),
    /// A revocation or a CRL logged by a CA.
    Revocation(RevocationRow),
    /// An entry that is not a valid `rust-pki-log-entry/v1` entry.
    Unreadable {
        /// Log index.
        index: u64,
        /// Why it does not parse.
        reason: String,
    },
}

/// A ceremony record entry and, when available, the record itself.
#[derive(Debug)]
pub struct CeremonyRow {
    /// Log index.
    pub index: u64,
    /// The record's file name, as logged.
    pub file_name: String,
    /// The record's length in bytes, as logged.
    pub size: u64,
    /// The record's SHA-256, as logged.
    pub sha256: [u8; 32],
    /// Each certificate the entry says the ceremony issued, in order.
    pub certificates: Vec<IssuedCertificate>,
    /// The record, where it was found and whether it parsed.
    pub record: RecordView,
    /// Inconsistencies between the entry and its record, shown in the row.
    pub warnings: Vec<String>,
}

/// A certificate named by a ceremony record entry.
#[derive(Debug)]
pub struct IssuedCertificate {
    /// SHA-256 of its DER, as logged.
    pub sha256: [u8; 32],
    /// Its output path in the record, when the record holds it.
    pub path: Option<String>,
    /// Its subject (RFC 4514), when the record holds it and it parses.
    pub subject: Option<String>,
}

/// What is known about the record of a ceremony entry.
#[derive(Debug)]
pub enum RecordView {
    /// The record parsed. `published`: a copy is at `records/<file name>` (else its bytes
    /// are only inside the log entry).
    Parsed {
        /// The record (boxed: it is much larger than the other variants).
        record: Box<Record>,
        /// Whether `records/<file name>` holds it.
        published: bool,
    },
    /// The bytes match the entry but are not a ceremony record this version can read.
    Unparseable {
        /// The parse error.
        reason: String,
        /// Whether `records/<file name>` holds it.
        published: bool,
    },
    /// Only the digest is logged and no copy of the record was found.
    NotPublished,
}

/// A leaf issuance entry.
#[derive(Debug)]
pub struct LeafRow {
    /// Log index.
    pub index: u64,
    /// The subject's common name, else the whole subject, else a parse error note.
    pub subject: String,
    /// Serial number, hex (empty when the certificate does not parse).
    pub serial: String,
    /// SHA-256 of the leaf certificate's DER.
    pub sha256: [u8; 32],
    /// SHA-256 of the delegate certificate's DER, as logged.
    pub delegate_sha256: [u8; 32],
}

/// A bastion-event entry.
#[derive(Debug)]
pub struct BastionEventRow {
    /// Log index.
    pub index: u64,
    /// What was done.
    pub action: String,
    /// When (RFC 3339).
    pub time: String,
    /// Member ids concerned.
    pub members: Vec<String>,
    /// AWS resource ids touched.
    pub resources: Vec<String>,
}

/// A `revocation` or `crl` entry, in one table row: what a CA revoked, or which CRL it
/// signed.
#[derive(Debug)]
pub struct RevocationRow {
    /// Log index.
    pub index: u64,
    /// `revocation` or `crl`.
    pub kind: &'static str,
    /// SHA-256 of the CA certificate, as logged.
    pub issuer_sha256: [u8; 32],
    /// The revoked serial (hex), or `number N` for a CRL.
    pub what: String,
    /// The revocation date, or `thisUpdate → nextUpdate` of the CRL.
    pub when: String,
    /// The reason, or how many certificates the CRL lists.
    pub detail: String,
}

/// An artifact entry.
#[derive(Debug)]
pub struct ArtifactRow {
    /// Log index.
    pub index: u64,
    /// File name.
    pub name: String,
    /// Length in bytes.
    pub size: u64,
    /// SHA-256.
    pub sha256: [u8; 32],
    /// SHA-256 of the signing leaf certificate, for a signed file.
    pub signer_sha256: Option<[u8; 32]>,
}

/// Directory, relative to the log directory, of the published ceremony records.
pub const RECORDS_DIR: &str = "records";

/// Directory, relative to the log directory, of the newest CRL of the root and of each
/// delegate, under stable names (`root.crl`, `<purpose>.crl`, DER): the CRL distribution
/// points of the certificates point there.
pub const CRL_DIR: &str = "crl";

/// A CRL published under a stable name in [`CRL_DIR`].
#[derive(Debug)]
pub struct CrlFile {
    /// `root`, or the delegate's purpose.
    pub name: String,
    /// The log entry it comes from (a ceremony record, or a `crl` entry).
    pub index: u64,
    /// Its cRLNumber.
    pub number: u64,
    /// Its issuer (RFC 4514).
    pub issuer: String,
    /// thisUpdate.
    pub this_update: String,
    /// nextUpdate (`none` without one).
    pub next_update: String,
    /// SHA-256 of the published file (DER).
    pub sha256: [u8; 32],
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;\
max-width:90em;padding:0 1em;color:#1b1b1b;background:#fff;line-height:1.4}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2em}\
table{border-collapse:collapse;width:100%;font-size:.9em}\
th,td{border:1px solid #c8c8c8;padding:.35em .5em;text-align:left;vertical-align:top}\
th{background:#f0f0f0}tbody tr:nth-child(even){background:#fafafa}\
code,pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.92em}\
code.h{word-break:break-all;font-size:.85em}.t{overflow-x:auto}table.c{table-layout:fixed}td{overflow-wrap:anywhere}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em}dt{font-weight:600}\
dd{margin:0;word-break:break-all}ul{margin:0;padding-left:1.1em}\
.missing{color:#8a1c1c;font-weight:600}.warn{color:#8a4b00}.muted{color:#666}\
";

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; \
                   base-uri 'none'; form-action 'none'";

/// The page for `log` with `rows` in log order.
pub fn render(log: &LogSummary, rows: &[Row], crls: &[CrlFile]) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let origin = escape(&log.origin);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
    ));
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(&format!(
        "<title>Transparency log {origin}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    ));
    h.push_str(&format!(
        "<h1>Transparency log <code>{origin}</code></h1>\n"
    ));
    h.push_str(
        "<p>The Rust PKI logs every ceremony, every certificate issued by a delegate and \
         release artifact digests. This page is derived from the log: the authority is the \
         signed <a href=\"checkpoint\">checkpoint</a> and the tiles under <code>tile/</code> \
         (C2SP tlog-tiles). Verify them with a log key obtained independently of this site: \
         <code>rust-pki log verify-checkpoint DIR --log-vkey VKEY</code>. Mirror the whole \
         directory with <code>rsync -a</code>.</p>\n",
    );

    h.push_str("<h2>Checkpoint</h2>\n<dl>\n");
    h.push_str(&format!("<dt>Origin</dt><dd><code>{origin}</code></dd>\n"));
    h.push_str(&format!("<dt>Tree size</dt><dd>{}</dd>\n", log.size));
    h.push_str(&format!(
        "<dt>Root hash (hex)</dt><dd>{}</dd>\n",
        hash(&log.root_hash)
    ));
    h.push_str(&format!(
        "<dt>Verified with</dt><dd><code class=\"h\">{}</code></dd>\n",
        escape(&log.vkey)
    ));
    h.push_str("</dl>\n");
    h.push_str(&format!(
        "<pre aria-label=\"checkpoint note\">{}</pre>\n",
        escape(&log.note)
    ));

    let ceremonies: Vec<&CeremonyRow> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Ceremony(c) => Some(c),
            _ => None,
        })
        .collect();
    let leaves: Vec<&LeafRow> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Leaf(l) => Some(l),
            _ => None,
        })
        .collect();
    let artifacts: Vec<&ArtifactRow> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Artifact(a) => Some(a),
            _ => None,
        })
        .collect();
    let events: Vec<&BastionEventRow> = rows
        .iter()
        .filter_map(|r| match r {
            Row::BastionEvent(e) => Some(e),
            _ => None,
        })
        .collect();
    let revocations: Vec<&RevocationRow> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Revocation(e) => Some(e),
            _ => None,
        })
        .collect();
    let unreadable: Vec<(u64, &str)> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Unreadable { index, reason } => Some((*index, reason.as_str())),
            _ => None,
        })
        .collect();

    h.push_str(&format!(
        "<h2 id=\"ceremonies\">Ceremonies ({})</h2>\n",
        ceremonies.len()
    ));
    if ceremonies.is_empty() {
        h.push_str("<p class=\"muted\">No ceremony has been logged.</p>\n");
    } else {
        h.push_str(
            "<div class=\"t\"><table class=\"c\">\n<colgroup><col style=\"width:5%\">\
             <col style=\"width:12%\"><col style=\"width:13%\"><col style=\"width:13%\">\
             <col style=\"width:22%\"><col style=\"width:18%\"><col style=\"width:17%\">\
             </colgroup>\n<thead><tr><th>Index</th><th>Date (finished)</th>\
             <th>Ceremony</th><th>Approved by</th>\
             <th>Keys (action, key, SPKI SHA-256)</th><th>Certificates issued (SHA-256)</th>\
             <th>Record</th></tr></thead>\n<tbody>\n",
        );
        for row in ceremonies {
            ceremony_row(&mut h, row);
        }
        h.push_str("</tbody>\n</table></div>\n");
    }

    h.push_str(&format!(
        "<h2 id=\"leaves\">Leaf certificates issued by delegates ({})</h2>\n",
        leaves.len()
    ));
    if leaves.is_empty() {
        h.push_str("<p class=\"muted\">No leaf issuance has been logged.</p>\n");
    } else {
        h.push_str(
            "<div class=\"t\"><table>\n<thead><tr><th>Index</th><th>Subject</th><th>Serial</th>\
             <th>Certificate SHA-256</th><th>Delegate SHA-256</th></tr></thead>\n<tbody>\n",
        );
        for l in leaves {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td><code class=\"h\">{}</code></td><td>{}</td>\
                 <td>{}</td></tr>\n",
                l.index,
                escape(&l.subject),
                escape(&l.serial),
                hash(&l.sha256),
                hash(&l.delegate_sha256)
            ));
        }
        h.push_str("</tbody>\n</table></div>\n");
    }

    h.push_str(&format!(
        "<h2 id=\"artifacts\">Artifacts ({})</h2>\n",
        artifacts.len()
    ));
    if artifacts.is_empty() {
        h.push_str("<p class=\"muted\">No artifact has been logged.</p>\n");
    } else {
        h.push_str(
            "<div class=\"t\"><table>\n<thead><tr><th>Index</th><th>Name</th><th>Size (bytes)</th>\
             <th>SHA-256</th><th>Signer certificate (SHA-256)</th></tr></thead>\n<tbody>\n",
        );
        for a in artifacts {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                a.index,
                escape(&a.name),
                a.size,
                hash(&a.sha256),
                a.signer_sha256
                    .as_ref()
                    .map_or_else(|| "unsigned".to_owned(), hash)
            ));
        }
        h.push_str("</tbody>\n</table></div>\n");
    }

    h.push_str(&format!(
        "<h2 id=\"access\">Bastion and HSM access ({})</h2>\n",
        events.len()
    ));
    if events.is_empty() {
        h.push_str("<p class=\"muted\">No bastion or HSM access has been logged.</p>\n");
    } else {
        h.push_str(
            "<div class=\"t\"><table>\n<thead><tr><th>Index</th><th>Time</th><th>Action</th>\
             <th>Members</th><th>Resources</th></tr></thead>\n<tbody>\n",
        );
        let list = |items: &[String]| {
            if items.is_empty() {
                "-".to_owned()
            } else {
                escape(&items.join(", "))
            }
        };
        for e in events {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                e.index,
                escape(&e.time),
                escape(&e.action),
                list(&e.members),
                list(&e.resources)
            ));
        }
        h.push_str("</tbody>\n</table></div>\n");
    }

    // Only when there are any, so that pages of logs without them are unchanged.
    if !revocations.is_empty() {
        h.push_str(&format!(
            "<h2 id=\"revocations\">Revocations and CRLs ({})</h2>\n",
            revocations.len()
        ));
        h.push_str(
            "<div class=\"t\"><table>\n<thead><tr><th>Index</th><th>Kind</th><th>Issuer</th>\
             <th>Serial or number</th><th>When</th><th>Reason or entries</th></tr></thead>\n\
             <tbody>\n",
        );
        for r in revocations {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                r.index,
                r.kind,
                hash(&r.issuer_sha256),
                escape(&r.what),
                escape(&r.when),
                escape(&r.detail)
            ));
        }
        h.push_str("</tbody>\n</table></div>\n");
    }

    // Only when there are any, so that pages of logs without them are unchanged.
    if !crls.is_empty() {
        h.push_str(&format!(
            "<h2 id=\"crls\">Published CRLs ({})</h2>\n<p>The newest CRL of the root and of \
             each delegate (the highest number), at the address the certificates' CRL \
             distribution points name. Check revocation with all of them: \
             <code>rust-pki-verify --require-crl --crl-dir {CRL_DIR}</code>.</p>\n",
            crls.len()
        ));
        h.push_str(
            "<div class=\"t\"><table>\n<thead><tr><th>File</th><th>Number</th>\
             <th>thisUpdate</th><th>nextUpdate</th><th>Issuer</th><th>Log entry</th>\
             <th>SHA-256</th></tr></thead>\n<tbody>\n",
        );
        for c in crls {
            let file = format!("{CRL_DIR}/{}.crl", c.name);
            h.push_str(&format!(
                "<tr><td><a href=\"{file}\">{file}</a></td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td></tr>\n",
                c.number,
                escape(&c.this_update),
                escape(&c.next_update),
                escape(&c.issuer),
                c.index,
                hash(&c.sha256),
                file = escape(&file),
            ));
        }
        h.push_str("</tbody>\n</table></div>\n");
    }

    if !unreadable.is_empty() {
        h.push_str(&format!(
            "<h2 id=\"unreadable\">Entries this version cannot read ({})</h2>\n<ul>\n",
            unreadable.len()
        ));
        for (index, reason) in unreadable {
            h.push_str(&format!("<li>{index}: {}</li>\n", escape(reason)));
        }
        h.push_str("</ul>\n");
    }

    h.push_str(&format!(
        "<hr>\n<p class=\"muted\">Generated by <code>rust-pki log publish</code> from the \
         checkpoint of size {} with root {}.</p>\n</body>\n</html>\n",
        log.size,
        hex::encode(log.root_hash)
    ));
    h
}

fn ceremony_row(h: &mut String, row: &CeremonyRow) {
    h.push_str(&format!("<tr><td>{}</td>", row.index));
    let (record, published) = match &row.record {
        RecordView::Parsed { record, published } => (Some(record.as_ref()), *published),
        RecordView::Unparseable { published, .. } => (None, *published),
        RecordView::NotPublished => (None, false),
    };
    match (record, &row.record) {
        (Some(r), _) => {
            h.push_str(&format!(
                "<td class=\"d\">{}</td><td class=\"c\"><strong>{}</strong><br>sequence {}<br>\
                 <span class=\"muted\">id</span> <code class=\"h\">{}</code></td><td class=\"a\">",
                escape(&r.finished_at),
                escape(r.kind.name()),
                r.sequence,
                escape(&r.ceremony_id)
            ));
            if r.approved_by.is_empty() {
                h.push_str("<span class=\"muted\">none</span>");
            } else {
                let members: Vec<String> = r.approved_by.iter().map(|m| escape(m)).collect();
                h.push_str(&members.join(", "));
            }
            h.push_str("</td><td>");
            list(
                h,
                r.keys.iter().map(|k| {
                    format!(
                        "{} <strong>{}</strong><br>{}",
                        escape(&k.action),
                        escape(&k.key),
                        fingerprint(&k.spki_sha256)
                    )
                }),
            );
            h.push_str("</td>");
        }
        (None, RecordView::Unparseable { reason, .. }) => h.push_str(&format!(
            "<td colspan=\"4\" class=\"warn\">record does not parse: {}</td>",
            escape(reason)
        )),
        (None, _) => h.push_str(
            "<td colspan=\"4\" class=\"missing\">record not published (only its digest is \
             logged)</td>",
        ),
    }
    h.push_str("<td>");
    list(
        h,
        row.certificates.iter().map(|c| {
            let mut item = String::new();
            if let Some(subject) = &c.subject {
                item.push_str(&format!("{}<br>", escape(subject)));
            }
            if let Some(path) = &c.path {
                item.push_str(&format!(
                    "<span class=\"muted\">{}</span><br>",
                    escape(path)
                ));
            }
            item.push_str(&hash(&c.sha256));
            item
        }),
    );
    h.push_str("</td><td class=\"r\">");
    let name = escape(&row.file_name);
    if published {
        h.push_str(&format!(
            "<a href=\"{RECORDS_DIR}/{}\">{name}</a>",
            escape(&percent_encode(&row.file_name))
        ));
    } else {
        h.push_str(&name);
    }
    h.push_str(&format!(
        "<br>{} bytes<br>SHA-256 {}",
        row.size,
        hash(&row.sha256)
    ));
    if record.is_some() && !published {
        h.push_str("<br><span class=\"muted\">(bytes in the log entry)</span>");
    }
    for warning in &row.warnings {
        h.push_str(&format!(
            "<br><span class=\"warn\">{}</span>",
            escape(warning)
        ));
    }
    h.push_str("</td></tr>\n");
}

/// `<ul>` of already-escaped items, or a dash for none.
fn list(h: &mut String, items: impl Iterator<Item = String>) {
    let mut items = items.peekable();
    if items.peek().is_none() {
        h.push_str("<span class=\"muted\">none</span>");
        return;
    }
    h.push_str("<ul>");
    for item in items {
        h.push_str(&format!("<li>{item}</li>"));
    }
    h.push_str("</ul>");
}

fn hash(digest: &[u8; 32]) -> String {
    format!("<code class=\"h\">{}</code>", hex::encode(digest))
}

/// A fingerprint given as text in a record (normally 64 hex digits).
fn fingerprint(text: &str) -> String {
    format!("<code class=\"h\">{}</code>", escape(text))
}

/// `text` with the HTML metacharacters replaced by character references: safe in element
/// content and in double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `name` as one URL path segment: everything but RFC 3986 unreserved characters
/// percent-encoded (so a name cannot add a path segment, a query or a fragment).
pub fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use rust_pki_ceremony::record::{KeyEvent, RECORD_FORMAT, RecordOutput};
    use rust_pki_ceremony::request::Kind;

    use super::*;

    fn summary() -> LogSummary {
        LogSummary {
            origin: "example.com/log<b>".into(),
            size: 3,
            root_hash: [7; 32],
            vkey: "example.com/log+01020304+AAAA".into(),
            note: "example.com/log\n3\nBwcH\n\n\u{2014} example.com/log AQID\n".into(),
        }
    }

    fn record(id: &str, approved_by: &[&str]) -> Record {
        Record {
            format: RECORD_FORMAT.into(),
            sequence: 4,
            ceremony_id: id.into(),
            kind: Kind::DelegateIssue,
            hsm: rust_pki_ceremony::record::RecordHsm::of(
                &rust_pki_ceremony::request::RequestHsm {
                    backend: rust_pki_ca::policy::HsmBackend::SoftHsm2,
                    cluster_id: None,
                },
            ),
            request_sha256: "11".repeat(32),
            previous_record_sha256: String::new(),
            tool_sha256: "33".repeat(32),
            started_at: "2026-11-26T10:00:00Z".into(),
            finished_at: "2026-11-26T10:05:00Z".into(),
            approved_by: approved_by.iter().map(|m| (*m).to_owned()).collect(),
            request: String::new(),
            approvals: Vec::new(),
            outputs: vec![RecordOutput {
                path: "x.pem".into(),
                sha256: String::new(),
                contents: String::new(),
            }],
            keys: vec![KeyEvent {
                action: "created".into(),
                key: "delegate <i>releases</i>".into(),
                spki_sha256: "ab".repeat(32),
            }],
        }
    }

    fn ceremony(index: u64, file_name: &str, record: RecordView) -> Row {
        Row::Ceremony(CeremonyRow {
            index,
            file_name: file_name.into(),
            size: 10,
            sha256: [1; 32],
            certificates: vec![IssuedCertificate {
                sha256: [2; 32],
                path: Some("delegates/<x>.pem".into()),
                subject: Some("CN=Delegate & Co".into()),
            }],
            record,
            warnings: vec!["bad <warning>".into()],
        })
    }

    #[test]
    fn escapes_every_text_from_the_log() {
        let rows = vec![
            ceremony(
                0,
                "0001 \"a\".toml",
                RecordView::Parsed {
                    record: Box::new(record("<script>alert(1)</script>", &["alice", "<bob>"])),
                    published: true,
                },
            ),
            Row::Leaf(LeafRow {
                index: 1,
                subject: "<img src=x onerror=alert(1)>".into(),
                serial: "01".into(),
                sha256: [3; 32],
                delegate_sha256: [4; 32],
            }),
            Row::Artifact(ArtifactRow {
                index: 2,
                name: "rust-1.95.0.tar.xz'\"".into(),
                size: 5,
                sha256: [5; 32],
                signer_sha256: Some([6; 32]),
            }),
            Row::Unreadable {
                index: 3,
                reason: "<oops>".into(),
            },
        ];
        let html = render(&summary(), &rows, &[]);
        for raw in [
            "<script>",
            "<bob>",
            "<i>releases",
            "<img",
            "<x>",
            "<warning>",
            "<oops>",
            "log<b>",
            "0001 \"a\"",
            "xz'",
        ] {
            assert!(!html.contains(raw), "{raw} is not escaped");
        }
        for escaped in [
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&lt;bob&gt;",
            "delegate &lt;i&gt;releases&lt;/i&gt;",
            "&lt;img src=x onerror=alert(1)&gt;",
            "CN=Delegate &amp; Co",
            "rust-1.95.0.tar.xz&#39;&quot;",
            "href=\"records/0001%20%22a%22.toml\"",
        ] {
            assert!(html.contains(escaped), "{escaped} missing");
        }
        assert!(html.contains(&"ab".repeat(32)));
        assert!(html.contains(&hex::encode([2u8; 32])));
        assert!(html.contains("2026-11-26T10:05:00Z"));
        assert!(html.contains("delegate-issue"));
        assert!(!html.to_ascii_lowercase().contains("<script"));
        assert!(html.contains("default-src 'none'"));
    }

    #[test]
    fn missing_and_embedded_records() {
        let rows = vec![
            ceremony(0, "a.toml", RecordView::NotPublished),
            ceremony(
                1,
                "b.toml",
                RecordView::Parsed {
                    record: Box::new(record("cafe", &["m1"])),
                    published: false,
                },
            ),
            ceremony(
                2,
                "c.toml",
                RecordView::Unparseable {
                    reason: "format `x`".into(),
                    published: true,
                },
            ),
        ];
        let html = render(&summary(), &rows, &[]);
        assert!(html.contains("record not published"));
        assert!(html.contains("bytes in the log entry"));
        assert!(html.contains("record does not parse: format `x`"));
        assert!(!html.contains("href=\"records/a.toml\""));
        assert!(!html.contains("href=\"records/b.toml\""));
        assert!(html.contains("href=\"records/c.toml\""));
        // Deterministic: the same input renders the same bytes.
        assert_eq!(html, render(&summary(), &rows, &[]));
    }

    #[test]
    fn bastion_access_is_listed_and_escaped() {
        let rows = vec![Row::BastionEvent(BastionEventRow {
            index: 7,
            action: "admit".into(),
            time: "2026-11-26T10:00:00Z".into(),
            members: vec!["m1".into(), "<m2>".into()],
            resources: vec!["i-0abc".into()],
        })];
        let html = render(&summary(), &rows, &[]);
        assert!(html.contains("Bastion and HSM access (1)"), "{html}");
        assert!(html.contains("<td>admit</td>") && html.contains("m1, &lt;m2&gt;"));
        assert!(html.contains("i-0abc"));
    }

    #[test]
    fn empty_log() {
        let html = render(&summary(), &[], &[]);
        assert!(html.contains("Ceremonies (0)"));
        assert!(html.contains("No ceremony has been logged."));
    }

    #[test]
    fn percent_encoding_keeps_one_segment() {
        assert_eq!(percent_encode("0001-root-init.toml"), "0001-root-init.toml");
        assert_eq!(percent_encode("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }
}
