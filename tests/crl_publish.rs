//! CRLs from issuance to a relying party, on SoftHSM2: the root and two delegates (releases,
//! bors) carry CRL distribution points into the published `crl/` folder (x509-cert and
//! `openssl x509 -text`); `rust-pki delegate` signs and logs the delegates' CRLs, ceremony
//! records hold the root's; `log publish` writes the newest of each as `crl/root.crl` and
//! `crl/<purpose>.crl` and lists them on the site; `verify --require-crl --crl-dir` checks
//! a chain against that folder (the bors CRL in it is skipped), and fails for a missing or
//! stale CRL.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{Lab, tool};
use der::Decode;
use rust_pki_ceremony::record::{RECORD_FORMAT, Record, RecordOutput};
use rust_pki_ceremony::request::Kind;
use rust_pki_tlog::{bundle_file::StapledBundle, entry::Entry, note, writer::Log};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::crl::CrlDistributionPoints;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

const BASE_URL: &str = "https://pki.rust-lang.org/log/crl/";

struct Pki {
    lab: Lab,
    root_key: String,
}

impl Pki {
    fn p(&self, name: &str) -> String {
        self.lab.path(name).to_str().unwrap().to_owned()
    }

    /// `rust-pki ARGS` in this lab.
    fn run(&self, args: &[&str]) -> Output {
        self.lab.rust_pki(args)
    }

    fn ok(&self, args: &[&str]) -> String {
        self.lab.ok(args)
    }

    /// A delegate for `purpose` (key in the delegate token) at `<purpose>.pem`, with its
    /// state in `<purpose>-state/`.
    fn delegate(&self, purpose: &str) {
        let key = self.lab.keygen("delegate-owners", purpose);
        self.ok(&[
            "ca",
            "delegate",
            "--root-cert",
            &self.p("root.pem"),
            "--root-key",
            &self.root_key,
            "--purpose",
            purpose,
            "--subject-key",
            &key,
            "--out",
            &self.p(&format!("{purpose}.pem")),
        ]);
    }

    fn init_state(&self, purpose: &str) {
        let key = self.lab.uri("delegate-owners", purpose);
        self.ok(&[
            "delegate",
            "init",
            "--state",
            &self.p(&format!("{purpose}-state")),
            "--cert",
            &self.p(&format!("{purpose}.pem")),
            "--key",
            &key,
        ]);
    }

    /// `delegate SUB --state <purpose>-state ARGS --log log --log-skey log.skey`.
    fn delegate_cmd(&self, purpose: &str, sub: &str, args: &[&str]) -> String {
        let state = self.p(&format!("{purpose}-state"));
        let (log, skey) = (self.p("log"), self.p("log.skey"));
        let mut all = vec!["delegate", sub, "--state", &state];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--log", &log, "--log-skey", &skey]);
        self.ok(&all)
    }

    /// A root CRL numbered `number` at `name` (PEM), revoking `revoke`.
    fn root_crl(&self, name: &str, number: u64) -> Vec<u8> {
        self.ok(&[
            "ca",
            "crl",
            "--issuer-cert",
            &self.p("root.pem"),
            "--issuer-key",
            &self.root_key,
            "--number",
            &number.to_string(),
            "--out",
            &self.p(name),
        ]);
        rust_pki_ca::pem::read_der(&self.lab.path(name), rust_pki_ca::pem::label::CRL).unwrap()
    }

    /// Logs a ceremony record `file_name` with `outputs` (path, file in the lab), as
    /// `ceremony execute` would; writes the bundle of each certificate output beside it.
    fn log_record(&self, sequence: u32, kind: Kind, file_name: &str, outputs: &[(&str, &str)]) {
        let record = Record {
            format: RECORD_FORMAT.to_owned(),
            sequence,
            ceremony_id: format!("{sequence:032x}"),
            kind,
            hsm: rust_pki_ceremony::record::RecordHsm::of(
                &rust_pki_ceremony::request::RequestHsm {
                    backend: rust_pki_ca::policy::HsmBackend::SoftHsm2,
                    cluster_id: None,
                },
            ),
            request_sha256: hex::encode(Sha256::digest(b"request")),
            previous_record_sha256: String::new(),
            tool_sha256: hex::encode(Sha256::digest(b"rust-pki")),
            started_at: "2026-12-01T00:00:00Z".into(),
            finished_at: "2026-12-01T00:00:00Z".into(),
            approved_by: (1..=5).map(|i| format!("placeholder-{i}")).collect(),
            request: String::new(),
            approvals: Vec::new(),
            outputs: outputs
                .iter()
                .map(|(path, file)| {
                    let contents = std::fs::read_to_string(self.lab.path(file)).unwrap();
                    RecordOutput {
                        path: (*path).to_owned(),
                        sha256: hex::encode(Sha256::digest(contents.as_bytes())),
                        contents,
                    }
                })
                .collect(),
            keys: Vec::new(),
        };
        let bytes = toml::to_string(&record).unwrap();
        let certificates: Vec<Vec<u8>> = record
            .certificates()
            .into_iter()
            .map(|(_, der)| der)
            .collect();
        let entry = Entry::ceremony_record(file_name, bytes.as_bytes(), &certificates)
            .unwrap()
            .encode()
            .unwrap();
        let key = note::SignerKey::parse(
            std::fs::read_to_string(self.lab.path("log.skey"))
                .unwrap()
                .trim_end(),
        )
        .unwrap();
        let origin = key.name().to_owned();
        let mut log = Log::open(self.lab.path("log"), &origin, move |body: &[u8]| {
            note::sign_note(body, &key)
        })
        .unwrap();
        log.append(std::slice::from_ref(&entry)).unwrap();
        let index = log.find_entry(&entry).unwrap();
        for (_, file) in outputs.iter().filter(|(path, _)| path.ends_with(".pem")) {
            let der = rust_pki_ca::pem::read_der(
                &self.lab.path(file),
                rust_pki_ca::pem::label::CERTIFICATE,
            )
            .unwrap();
            let bundle = StapledBundle::from_log(&log, index, &entry, vec![der]).unwrap();
            std::fs::write(
                self.lab.path(file).with_extension("bundle"),
                bundle.to_text(),
            )
            .unwrap();
        }
    }
}

/// The URIs of a certificate's CRL distribution points, and whether the extension is
/// critical.
fn distribution_points(pem_file: &Path) -> (bool, Vec<String>) {
    let der = rust_pki_ca::pem::read_der(pem_file, rust_pki_ca::pem::label::CERTIFICATE).unwrap();
    let cert = Certificate::from_der(&der).unwrap();
    let ext = cert
        .tbs_certificate()
        .extensions()
        .unwrap()
        .iter()
        .find(|e| e.extn_id == <CrlDistributionPoints as der::oid::AssociatedOid>::OID)
        .expect("a CRL distribution point");
    let points = CrlDistributionPoints::from_der(ext.extn_value.as_bytes()).unwrap();
    let uris = points
        .0
        .iter()
        .flat_map(|point| match &point.distribution_point {
            Some(DistributionPointName::FullName(names)) => names.clone(),
            other => panic!("{other:?}"),
        })
        .map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => uri.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    (ext.critical, uris)
}

fn openssl_text(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let (ok, text) = tool("openssl", args);
    assert!(ok, "{text}");
    text
}

#[test]
fn publish_writes_the_newest_crls_that_distribution_points_name_and_verify_requires_them() {
    let lab = Lab::new(&["rust-root", "delegate-owners", "leaf-owners"]);
    let root_key = lab.root();
    let pki = Pki { lab, root_key };
    pki.delegate("releases");
    pki.delegate("bors");
    pki.ok(&[
        "log",
        "init",
        &pki.p("log"),
        "--origin",
        "pki.example/log",
        "--log-skey-out",
        &pki.p("log.skey"),
    ]);
    // The root's CRLs come from ceremony records: number 10, then 30, then (a record
    // logged out of order) 20. The newest is the highest, 30.
    let root_10 = pki.root_crl("root-10.crl", 10);
    pki.log_record(
        1,
        Kind::DelegateIssue,
        "001-delegate-issue.toml",
        &[
            ("delegates/releases.pem", "releases.pem"),
            ("delegates/bors.pem", "bors.pem"),
            ("root.crl", "root-10.crl"),
        ],
    );
    let root_30 = pki.root_crl("root-30.crl", 30);
    pki.log_record(
        2,
        Kind::RootCrl,
        "002-root-crl.toml",
        &[("root.crl", "root-30.crl")],
    );
    pki.root_crl("root-20.crl", 20);
    pki.log_record(
        3,
        Kind::RootCrl,
        "003-root-crl.toml",
        &[("root.crl", "root-20.crl")],
    );
    assert_ne!(root_10, root_30);

    pki.init_state("releases");
    pki.init_state("bors");
    let leaf_key = |name: &str| pki.lab.keygen("leaf-owners", name);
    let (good_key, bad_key) = (leaf_key("good"), leaf_key("bad"));
    for (name, key) in [("good", &good_key), ("bad", &bad_key)] {
        pki.delegate_cmd(
            "releases",
            "leaf",
            &[
                "--subject",
                &format!("CN={name} leaf,O=The Rust Project"),
                "--subject-key",
                key,
                "--out",
                &pki.p(&format!("{name}.pem")),
            ],
        );
    }
    pki.delegate_cmd(
        "releases",
        "revoke",
        &["--cert", &pki.p("bad.pem"), "--reason", "key-compromise"],
    );
    pki.delegate_cmd("releases", "crl", &["--out", &pki.p("releases-1.crl")]);
    pki.delegate_cmd("releases", "crl", &["--out", &pki.p("releases-2.crl")]);
    pki.delegate_cmd("bors", "crl", &["--out", &pki.p("bors-1.crl")]);

    // Distribution points: leaves name their purpose's CRL, delegates the root's.
    assert_eq!(
        distribution_points(&pki.lab.path("good.pem")),
        (false, vec![format!("{BASE_URL}releases.crl")])
    );
    assert_eq!(
        distribution_points(&pki.lab.path("releases.pem")),
        (false, vec![format!("{BASE_URL}root.crl")])
    );
    let text = openssl_text(&[
        &"x509",
        &"-in",
        &pki.lab.path("good.pem"),
        &"-noout",
        &"-text",
    ]);
    assert!(
        text.contains("X509v3 CRL Distribution Points:")
            && text.contains(&format!("URI:{BASE_URL}releases.crl")),
        "{text}"
    );
    let text = openssl_text(&[
        &"x509",
        &"-in",
        &pki.lab.path("bors.pem"),
        &"-noout",
        &"-text",
    ]);
    assert!(text.contains(&format!("URI:{BASE_URL}root.crl")), "{text}");

    // Publish.
    let out = pki.ok(&["log", "publish", &pki.p("log")]);
    assert!(out.contains(", 3 CRLs in crl/"), "{out}");
    let crl_dir = pki.lab.path("log/crl");
    let mut names: Vec<String> = std::fs::read_dir(&crl_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["bors.crl", "releases.crl", "root.crl"]);
    assert_eq!(std::fs::read(crl_dir.join("root.crl")).unwrap(), root_30);
    let der_of = |name: &str| {
        rust_pki_ca::pem::read_der(&pki.lab.path(name), rust_pki_ca::pem::label::CRL).unwrap()
    };
    let releases_2 = der_of("releases-2.crl");
    assert_ne!(releases_2, der_of("releases-1.crl"));
    assert_eq!(
        std::fs::read(crl_dir.join("releases.crl")).unwrap(),
        releases_2
    );
    assert_eq!(
        std::fs::read(crl_dir.join("bors.crl")).unwrap(),
        der_of("bors-1.crl")
    );
    let text = openssl_text(&[
        &"crl",
        &"-inform",
        &"DER",
        &"-in",
        &crl_dir.join("releases.crl"),
        &"-noout",
        &"-text",
    ]);
    assert!(
        text.contains("Issuer: O = The Rust Project, CN = Rust Releases Delegate CA")
            && text.contains("Key Compromise"),
        "{text}"
    );
    let releases_number = openssl_text(&[
        &"crl",
        &"-inform",
        &"DER",
        &"-in",
        &crl_dir.join("releases.crl"),
        &"-noout",
        &"-crlnumber",
    ]);
    let releases_number = u64::from_str_radix(
        releases_number.trim().trim_start_matches("crlNumber=0x"),
        16,
    )
    .unwrap();

    // The site lists them: number, issuer, SHA-256, with a link.
    let html = std::fs::read_to_string(pki.lab.path("log/index.html")).unwrap();
    assert!(
        html.contains("<h2 id=\"crls\">Published CRLs (3)</h2>"),
        "{html}"
    );
    let row = |name: &str| {
        let start = html
            .find(&format!(
                "<tr><td><a href=\"crl/{name}.crl\">crl/{name}.crl</a></td>"
            ))
            .unwrap_or_else(|| panic!("no row for {name}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    let root_row = row("root");
    assert!(
        root_row.contains("<td>30</td>")
            && root_row.contains("CN=Rust Root CA 2026,O=The Rust Project")
            && root_row.contains(&hex::encode(Sha256::digest(&root_30))),
        "{root_row}"
    );
    let releases_row = row("releases");
    assert!(
        releases_row.contains(&format!("<td>{releases_number}</td>"))
            && releases_row.contains(&hex::encode(Sha256::digest(&releases_2))),
        "{releases_row}"
    );
    // Publishing again moves nothing: same files, same page.
    pki.ok(&["log", "publish", &pki.p("log")]);
    assert_eq!(
        std::fs::read_to_string(pki.lab.path("log/index.html")).unwrap(),
        html
    );

    // The audit of this log: the root CRL numbered 20 after 30 is a finding.
    let audit = pki.run(&[
        "log",
        "audit",
        &pki.p("log"),
        "--log-vkey",
        &pki.p("log/log.vkey"),
    ]);
    assert_eq!(audit.status.code(), Some(1));
    let report = String::from_utf8_lossy(&audit.stdout).into_owned()
        + &String::from_utf8_lossy(&audit.stderr);
    assert!(
        report.contains("rule crl-number: entry 2: CRL number 20 is not higher than 30"),
        "{report}"
    );

    // A relying party: the chain against the published folder, every CA's CRL required.
    std::fs::write(
        pki.lab.path("good.chain.pem"),
        std::fs::read_to_string(pki.lab.path("good.pem")).unwrap()
            + &std::fs::read_to_string(pki.lab.path("releases.pem")).unwrap(),
    )
    .unwrap();
    std::fs::write(
        pki.lab.path("bad.chain.pem"),
        std::fs::read_to_string(pki.lab.path("bad.pem")).unwrap()
            + &std::fs::read_to_string(pki.lab.path("releases.pem")).unwrap(),
    )
    .unwrap();
    let crl_dir = crl_dir.to_str().unwrap();
    let verify = |chain: &str, extra: &[&str]| {
        let root = pki.p("root.pem");
        let chain = pki.p(chain);
        let mut args = vec![
            "verify",
            "--root",
            &root,
            "--chain",
            &chain,
            "--purpose",
            "releases",
            "--require-crl",
        ];
        args.extend_from_slice(extra);
        pki.run(&args)
    };
    let out = verify("good.chain.pem", &["--crl-dir", crl_dir]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "CRL {crl_dir}/releases.crl of CN=Rust Releases Delegate CA"
        )) && stdout.contains(&format!("CRL {crl_dir}/root.crl of CN=Rust Root CA 2026"))
            && !stdout.contains("bors.crl")
            && !stdout.contains("not checked: revocation"),
        "{stdout}"
    );
    let out = verify("bad.chain.pem", &["--crl-dir", crl_dir]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("INVALID [revoked]: leaf CN=bad leaf"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Only the delegate's CRL: the root has none.
    let releases_crl = pki.p("releases-2.crl");
    let out = verify("good.chain.pem", &["--crl", &releases_crl]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("INVALID [crl-required]: no CRL of root CN=Rust Root CA 2026"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // After the delegate CRL's nextUpdate (policy: 7 days), the folder's CRL is stale.
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(8))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let out = verify("good.chain.pem", &["--crl-dir", crl_dir, "--at", &later]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "INVALID [crl-expired]: CRL {crl_dir}/releases.crl"
        )),
        "{stderr}"
    );
}
