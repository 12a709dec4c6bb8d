//! Roster rules, SSHSIG approvals and the quorum rule, against the real `ssh-keygen`
//! (keys are generated at test time in temporary directories).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use ed25519_dalek::Signer as _;
use rust_pki_ca::policy::{Policy, QuorumPolicy};
use rust_pki_ceremony::{
    Error, NAMESPACE, Roster,
    approval::{read_approval_dir, sign_with_ssh_keygen, verify_approval},
    check_quorum,
};
use sha2::{Digest, Sha256};
use ssh_key::{
    Algorithm, HashAlg, LineEnding, PublicKey, Signature, SshSig,
    public::{Ed25519PublicKey, KeyData, SkEd25519},
};
use tempfile::TempDir;

const REQUEST: &[u8] = b"kind = \"delegate-issue\"\nceremony_id = \"4f3c\"\ntbs = \"MIIB...\"\n";

// ---------------------------------------------------------------- helpers

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyKind {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    Rsa,
}

/// Generate a key pair with ssh-keygen; returns the private key path.
fn keygen(dir: &Path, name: &str, kind: KeyKind) -> PathBuf {
    let path = dir.join(name);
    let (t, bits) = match kind {
        KeyKind::Ed25519 => ("ed25519", None),
        KeyKind::EcdsaP256 => ("ecdsa", Some("256")),
        KeyKind::EcdsaP384 => ("ecdsa", Some("384")),
        KeyKind::EcdsaP521 => ("ecdsa", Some("521")),
        KeyKind::Rsa => ("rsa", Some("2048")),
    };
    let mut cmd = Command::new("ssh-keygen");
    cmd.args([
        "-q",
        "-t",
        t,
        "-N",
        "",
        "-C",
        &format!("{name}@laptop"),
        "-f",
    ])
    .arg(&path);
    if let Some(bits) = bits {
        cmd.args(["-b", bits]);
    }
    let status = cmd.stdin(Stdio::null()).status().unwrap();
    assert!(status.success(), "ssh-keygen -t {t} failed");
    path
}

fn public_line(private: &Path) -> String {
    std::fs::read_to_string(private.with_extension("pub"))
        .unwrap()
        .trim()
        .to_owned()
}

fn new_age_recipient() -> String {
    age::x25519::Identity::generate().to_public().to_string()
}

fn quorum() -> QuorumPolicy {
    QuorumPolicy {
        threshold: 5,
        members: 9,
        max_per_organisation: 3,
        max_per_country: 3,
        // Not checked by Roster::parse; ceremonies compare it with the roster file.
        genesis_roster_sha256: "0".repeat(64),
    }
}

#[derive(Clone, Debug)]
struct TestMember {
    id: String,
    organisation: String,
    country: String,
    ssh_key: String,
    age_recipient: Option<String>,
    /// ssh-keygen private key, if the key was made by ssh-keygen.
    key: Option<PathBuf>,
    /// Extra TOML lines appended to the member table.
    extra: String,
    appointed: String,
    reappoint_by: String,
}

impl TestMember {
    fn toml(&self) -> String {
        let mut out = format!(
            "\n[[member]]\nid = \"{}\"\nname = \"Member {}\"\norganisation = \"{}\"\ncountry = \"{}\"\nssh_key = \"{}\"\n",
            self.id, self.id, self.organisation, self.country, self.ssh_key
        );
        if let Some(r) = &self.age_recipient {
            out.push_str(&format!("age_recipient = \"{r}\"\n"));
        }
        out.push_str(&format!(
            "appointed = \"{}\"\nreappoint_by = \"{}\"\n",
            self.appointed, self.reappoint_by
        ));
        out.push_str(&self.extra);
        out
    }
}

/// Nine members with keys made by ssh-keygen: five ed25519, two ecdsa P-256, two P-384
/// (the ecdsa ones with an X25519 age recipient); three organisations of three, countries
/// DE, US, FR ×2, JP ×2, GB.
struct Fixture {
    dir: TempDir,
    members: Vec<TestMember>,
}

const KINDS: [KeyKind; 9] = [
    KeyKind::Ed25519,
    KeyKind::EcdsaP256,
    KeyKind::EcdsaP384,
    KeyKind::Ed25519,
    KeyKind::EcdsaP256,
    KeyKind::EcdsaP384,
    KeyKind::Ed25519,
    KeyKind::Ed25519,
    KeyKind::Ed25519,
];
const IDS: [&str; 9] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
];
const ORGS: [&str; 9] = [
    "Rust Foundation",
    "Rust Foundation",
    "Rust Foundation",
    "Ferrous Systems",
    "Ferrous Systems",
    "Ferrous Systems",
    "Independent",
    "Independent",
    "Independent",
];
const COUNTRIES: [&str; 9] = ["DE", "US", "FR", "DE", "US", "FR", "JP", "JP", "GB"];

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let members = (0..9)
            .map(|i| {
                let key = keygen(dir.path(), IDS[i], KINDS[i]);
                TestMember {
                    id: IDS[i].to_owned(),
                    organisation: ORGS[i].to_owned(),
                    country: COUNTRIES[i].to_owned(),
                    ssh_key: public_line(&key),
                    age_recipient: (KINDS[i] != KeyKind::Ed25519).then(new_age_recipient),
                    key: Some(key),
                    extra: String::new(),
                    appointed: "2026-01-15".to_owned(),
                    reappoint_by: "2028-01-15".to_owned(),
                }
            })
            .collect();
        Self { dir, members }
    }

    fn toml(&self) -> String {
        let mut out = "version = 1\n".to_owned();
        for m in &self.members {
            out.push_str(&m.toml());
        }
        out
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("roster.toml")
    }

    fn parse(&self) -> Result<Roster, Error> {
        Roster::parse(&self.toml(), &self.path(), &quorum())
    }

    fn roster(&self) -> Roster {
        self.parse().unwrap()
    }

    fn key(&self, id: &str) -> PathBuf {
        self.members
            .iter()
            .find(|m| m.id == id)
            .and_then(|m| m.key.clone())
            .unwrap()
    }

    /// `id` approves `message` with `ssh-keygen -Y sign`, via the library.
    fn approve(&self, id: &str, message: &[u8]) -> String {
        sign_with_ssh_keygen(message, &self.key(id)).unwrap()
    }

    /// Approvals by the given members, as (file, armored) pairs.
    fn approvals(&self, ids: &[&str], message: &[u8]) -> Vec<(PathBuf, String)> {
        ids.iter()
            .map(|id| {
                (
                    PathBuf::from(format!("{id}.sig")),
                    self.approve(id, message),
                )
            })
            .collect()
    }
}

/// Sign with ssh-keygen directly (other namespace, other hash).
fn ssh_keygen_sign(key: &Path, namespace: &str, extra: &[&str], message: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", namespace])
        .args(extra)
        .arg("-f")
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(message).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// `ssh-keygen -Y verify -f allowed_signers -I id -n NAMESPACE -s sig < message`.
fn ssh_keygen_verify(dir: &Path, roster: &Roster, id: &str, message: &[u8], armored: &str) -> bool {
    use std::io::Write;
    let allowed = dir.join(format!("allowed_signers-{id}"));
    let sig = dir.join(format!("verify-{id}.sig"));
    std::fs::write(&allowed, roster.allowed_signers()).unwrap();
    std::fs::write(&sig, armored).unwrap();
    let mut child = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&allowed)
        .args(["-I", id, "-n", NAMESPACE, "-s"])
        .arg(&sig)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(message).unwrap();
    child.wait().unwrap().success()
}

fn expect_err<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

/// The reason inside an [`Error::ApprovalFile`], checking the file it names.
fn file_error(error: Error, file: &str) -> Error {
    match error {
        Error::ApprovalFile {
            path,
            reason: source,
        } => {
            assert_eq!(path, Path::new(file), "{source}");
            *source
        }
        other => panic!("expected ApprovalFile({file}), got {other:?}"),
    }
}

// ---------------------------------------------------------------- FIDO (sk-) keys

/// A FIDO sk-ssh-ed25519 "security key" emulated in software: an ed25519-dalek key used
/// exactly as PROTOCOL.u2f describes, so the user-presence check really runs.
struct SoftSk {
    signing: ed25519_dalek::SigningKey,
    application: &'static str,
}

impl SoftSk {
    fn new(seed: u8) -> Self {
        Self {
            signing: ed25519_dalek::SigningKey::from_bytes(&[seed; 32]),
            application: "ssh:",
        }
    }

    fn key_data(&self) -> KeyData {
        KeyData::SkEd25519(SkEd25519::new(
            Ed25519PublicKey(self.signing.verifying_key().to_bytes()),
            self.application,
        ))
    }

    fn public_line(&self) -> String {
        PublicKey::new(self.key_data(), "fido@token")
            .to_openssh()
            .unwrap()
    }

    /// An SSHSIG as `ssh-keygen -Y sign` with a FIDO key makes it, with these flags.
    /// PROTOCOL.u2f: the authenticator signs
    /// SHA256(application) ‖ flags ‖ counter (u32 BE) ‖ SHA256(data),
    /// where data is the SSHSIG signed data; the SSH signature is
    /// string "sk-ssh-ed25519@openssh.com", string signature, byte flags, uint32 counter.
    fn sign(&self, message: &[u8], flags: u8, counter: u32) -> String {
        let data = SshSig::signed_data(NAMESPACE, HashAlg::Sha512, message).unwrap();
        let mut u2f = Vec::new();
        u2f.extend(Sha256::digest(self.application.as_bytes()));
        u2f.push(flags);
        u2f.extend(counter.to_be_bytes());
        u2f.extend(Sha256::digest(&data));
        let mut raw = self.signing.sign(&u2f).to_bytes().to_vec();
        raw.push(flags);
        raw.extend(counter.to_be_bytes());
        let signature = Signature::new(Algorithm::SkEd25519, raw).unwrap();
        SshSig::new(self.key_data(), NAMESPACE, HashAlg::Sha512, signature)
            .unwrap()
            .to_pem(LineEnding::LF)
            .unwrap()
    }
}

/// The fixture with its last member's key replaced by a software FIDO key.
fn fixture_with_sk() -> (Fixture, SoftSk) {
    let mut fixture = Fixture::new();
    let sk = SoftSk::new(7);
    let ivan = &mut fixture.members[8];
    ivan.ssh_key = sk.public_line();
    ivan.age_recipient = Some(new_age_recipient());
    ivan.key = None;
    (fixture, sk)
}

// ---------------------------------------------------------------- roster

#[test]
fn repository_roster_loads_with_repository_policy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let policy = Policy::load(&root.join("policy/rust-root.toml")).unwrap();
    let path = root.join("policy/roster.toml");
    let roster = Roster::load(&path, &policy.quorum).unwrap();
    assert_eq!(roster.members().len(), 9);
    // The repository policy pins the repository roster as the genesis roster.
    assert_eq!(
        hex::encode(roster.sha256()),
        policy.quorum.genesis_roster_sha256
    );
    assert_eq!(
        roster.sha256(),
        <[u8; 32]>::from(Sha256::digest(std::fs::read(&path).unwrap()))
    );
    for member in roster.members() {
        if member.key_type() != "ssh-ed25519" {
            assert!(member.age_recipient.is_some(), "{}", member.id);
        }
    }
    assert_eq!(roster.allowed_signers().lines().count(), 9);
}

#[test]
fn accepts_valid_roster() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    assert_eq!(roster.members().len(), 9);
    assert_eq!(
        roster.member("carol").unwrap().key_type(),
        "ecdsa-sha2-nistp384"
    );
    assert!(roster.member("mallory").is_none());
    assert_eq!(
        roster.sha256(),
        <[u8; 32]>::from(Sha256::digest(fixture.toml().as_bytes()))
    );
    // Found by key data, whatever the comment.
    let mut key = PublicKey::from_openssh(&fixture.members[1].ssh_key).unwrap();
    key.set_comment("another comment");
    assert_eq!(roster.member_by_key(&key).unwrap().id, "bob");
    assert!(
        roster
            .rule_results()
            .iter()
            .any(|r| r.rule == "max-per-country")
    );
}

#[test]
fn allowed_signers_lines_have_id_namespace_and_key() {
    let fixture = Fixture::new();
    let allowed = fixture.roster().allowed_signers();
    let first = allowed.lines().next().unwrap();
    let key = &fixture.members[0].ssh_key;
    let without_comment = key.rsplit_once(' ').unwrap().0;
    assert_eq!(
        first,
        format!("alice namespaces=\"ceremony@pki.rust-lang.org\" {without_comment}")
    );
}

#[test]
fn rejects_too_few_members() {
    let mut fixture = Fixture::new();
    fixture.members.pop();
    assert!(matches!(
        expect_err(fixture.parse()),
        Error::RosterMemberCount {
            found: 8,
            expected: 9,
            ..
        }
    ));
}

#[test]
fn rejects_too_many_members() {
    let mut fixture = Fixture::new();
    let mut extra = fixture.members[8].clone();
    extra.id = "judy".to_owned();
    extra.country = "NL".to_owned();
    extra.organisation = "Elsewhere".to_owned();
    extra.ssh_key = public_line(&keygen(fixture.dir.path(), "judy", KeyKind::Ed25519));
    fixture.members.push(extra);
    assert!(matches!(
        expect_err(fixture.parse()),
        Error::RosterMemberCount {
            found: 10,
            expected: 9,
            ..
        }
    ));
}

#[test]
fn rejects_duplicate_id() {
    let mut fixture = Fixture::new();
    fixture.members[4].id = "alice".to_owned();
    let error = expect_err(fixture.parse());
    assert!(
        matches!(&error, Error::RosterDuplicateId { member, .. } if member == "alice"),
        "{error}"
    );
}

#[test]
fn rejects_duplicate_key_with_other_comment() {
    let mut fixture = Fixture::new();
    let (key, _) = fixture.members[0].ssh_key.rsplit_once(' ').unwrap();
    fixture.members[3].ssh_key = format!("{key} dave@other-laptop");
    let error = expect_err(fixture.parse());
    assert!(
        matches!(&error, Error::RosterDuplicateKey { first, second, .. }
            if first == "alice" && second == "dave"),
        "{error}"
    );
    assert!(error.to_string().contains("roster.toml"), "{error}");
}

#[test]
fn rejects_duplicate_age_recipient() {
    let mut fixture = Fixture::new();
    fixture.members[4].age_recipient = fixture.members[1].age_recipient.clone();
    assert!(matches!(
        expect_err(fixture.parse()),
        Error::RosterDuplicateAgeRecipient { first, second, .. } if first == "bob" && second == "erin"
    ));
}

#[test]
fn rejects_four_from_one_organisation() {
    let mut fixture = Fixture::new();
    fixture.members[6].organisation = "Rust Foundation".to_owned();
    let error = expect_err(fixture.parse());
    match &error {
        Error::RosterOrganisationLimit {
            organisation,
            members,
            max: 3,
            ..
        } => {
            assert_eq!(organisation, "Rust Foundation");
            assert_eq!(members, &["alice", "bob", "carol", "grace"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error.to_string().contains("alice, bob, carol, grace"),
        "{error}"
    );
}

#[test]
fn rejects_fourth_organisation_member_spelled_differently() {
    let mut fixture = Fixture::new();
    fixture.members[6].organisation = "rust  FOUNDATION".to_owned();
    assert!(matches!(
        expect_err(fixture.parse()),
        Error::RosterOrganisationLimit { organisation, .. } if organisation == "Rust Foundation"
    ));
}

/// A fourth Rust Foundation member (grace) whose organisation is spelled to look new:
/// each spelling is refused, by the organisation limit (the same identity) or by a text
/// rule, and the error names the rule and grace.
#[test]
fn rejects_fourth_organisation_member_behind_a_lookalike_spelling() {
    let cases = [
        // Zero-width space: invisible, refused outright.
        ("Rust\u{200B} Foundation", "invisible-character"),
        // Right-to-left override, soft hyphen, no-break space.
        ("Rust Foundation\u{202E}", "invisible-character"),
        ("Rust Foun\u{00AD}dation", "invisible-character"),
        ("Rust\u{00A0}Foundation", "invisible-character"),
        // A Cyrillic о among Latin letters.
        ("Rust F\u{043E}undation", "mixed-script"),
        // A full-width R: not an identifier character (it is not NFKC).
        ("\u{FF32}ust Foundation", "restricted-character"),
        // Spellings that pass the text rules are the same identity.
        ("Rust Foundation.", "max-per-organisation"),
        ("rust  FOUNDATION", "max-per-organisation"),
        ("Rust-Foundation", "max-per-organisation"),
        // 0 and O, l and I are confusables (UTS #39 skeleton).
        ("Rust F0undation", "max-per-organisation"),
        ("RUST FOUNDATION", "max-per-organisation"),
    ];
    let fixture = Fixture::new();
    for (organisation, rule) in cases {
        let mut fixture = Fixture {
            dir: tempfile::tempdir().unwrap(),
            members: fixture.members.clone(),
        };
        fixture.members[6].organisation = organisation.to_owned();
        let error = expect_err(fixture.parse());
        let message = error.to_string();
        assert!(
            message.contains(&format!("rule {rule}")),
            "{organisation:?}: {message}"
        );
        match &error {
            Error::RosterOrganisationLimit { members, .. } => {
                assert_eq!(rule, "max-per-organisation");
                assert_eq!(
                    members,
                    &["alice", "bob", "carol", "grace"],
                    "{organisation:?}"
                );
            }
            Error::RosterName {
                member,
                field,
                rule: found,
                ..
            } => {
                assert_eq!(
                    (member.as_str(), *field, *found),
                    ("grace", "organisation", rule)
                );
            }
            other => panic!("{organisation:?}: {other:?}"),
        }
    }
}

/// The same text rules hold for a member's name, and the characters are named by code
/// point, never printed raw.
#[test]
fn rejects_invisible_or_mixed_script_member_names() {
    for (name, rule) in [
        ("Gr\u{200B}ace", "invisible-character"),
        ("Grace\u{061C}", "invisible-character"),
        ("Gr\u{0430}ce", "mixed-script"),
        ("\u{FF27}race", "restricted-character"),
    ] {
        let fixture = Fixture::new();
        let text = fixture
            .toml()
            .replace("name = \"Member grace\"", &format!("name = \"{name}\""));
        let error = expect_err(Roster::parse(&text, &fixture.path(), &quorum()));
        assert!(
            matches!(&error, Error::RosterName { member, field: "name", rule: r, .. }
                if member == "grace" && *r == rule),
            "{name:?}: {error}"
        );
        assert!(!error.to_string().contains(name), "{error}");
        if rule == "invisible-character" {
            assert!(error.to_string().contains("U+"), "{error}");
        }
    }
    // Names in one script other than Latin, and mixed Han and kana (Japanese), are fine.
    for name in ["Грейс", "山田 はなこ", "O'Brien-Müller, Jr."] {
        let fixture = Fixture::new();
        let text = fixture
            .toml()
            .replace("name = \"Member grace\"", &format!("name = \"{name}\""));
        Roster::parse(&text, &fixture.path(), &quorum()).unwrap();
    }
}

#[test]
fn whole_script_lookalike_organisation_is_the_same_identity() {
    use rust_pki_ceremony::roster::organisation_identity;
    // All-Cyrillic "Ѕсоре" looks like Latin "Scope": one script each, one identity.
    assert_eq!(
        organisation_identity("\u{0405}\u{0441}\u{043E}\u{0440}\u{0435}"),
        organisation_identity("Scope")
    );
    assert_eq!(
        organisation_identity("Straße"),
        organisation_identity("STRASSE")
    );
    assert_ne!(
        organisation_identity("Ferrous Systems"),
        organisation_identity("Rust Foundation")
    );
}

#[test]
fn refuses_full_width_or_lower_case_country() {
    for country in ["\u{FF24}\u{FF25}", "D\u{FF25}", "de", "D\u{0395}"] {
        let mut fixture = Fixture::new();
        fixture.members[0].country = country.to_owned();
        let error = expect_err(fixture.parse());
        assert!(
            matches!(&error, Error::RosterField { member, field: "country", .. } if member == "alice"),
            "{country:?}: {error}"
        );
    }
}

#[test]
fn rejects_four_from_one_country() {
    let mut fixture = Fixture::new();
    fixture.members[8].country = "JP".to_owned();
    fixture.members[2].country = "JP".to_owned();
    let error = expect_err(fixture.parse());
    assert!(
        matches!(&error, Error::RosterCountryLimit { country, members, max: 3, .. }
            if country == "JP" && members == &["carol", "grace", "heidi", "ivan"]),
        "{error}"
    );
}

#[test]
fn rejects_ecdsa_member_without_age_recipient() {
    for (index, algorithm) in [(1, "ecdsa-sha2-nistp256"), (2, "ecdsa-sha2-nistp384")] {
        let mut fixture = Fixture::new();
        fixture.members[index].age_recipient = None;
        let error = expect_err(fixture.parse());
        assert!(
            matches!(&error, Error::RosterMissingAgeRecipient { member, algorithm: a, .. }
                if *member == fixture.members[index].id && a == algorithm),
            "{error}"
        );
    }
}

#[test]
fn rejects_fido_member_without_age_recipient() {
    let (mut fixture, _sk) = fixture_with_sk();
    fixture.roster();
    fixture.members[8].age_recipient = None;
    assert!(matches!(
        expect_err(fixture.parse()),
        Error::RosterMissingAgeRecipient { member, algorithm, .. }
            if member == "ivan" && algorithm == "sk-ssh-ed25519@openssh.com"
    ));
}

#[test]
fn rejects_unknown_key_type() {
    for (kind, algorithm) in [
        (KeyKind::Rsa, "ssh-rsa"),
        (KeyKind::EcdsaP521, "ecdsa-sha2-nistp521"),
    ] {
        let mut fixture = Fixture::new();
        let key = keygen(fixture.dir.path(), "other", kind);
        fixture.members[3].ssh_key = public_line(&key);
        let error = expect_err(fixture.parse());
        assert!(
            matches!(&error, Error::RosterKeyType { member, algorithm: a, .. }
                if member == "dave" && a == algorithm),
            "{error}"
        );
    }
}

#[test]
fn rejects_unparsable_key_line() {
    let mut fixture = Fixture::new();
    fixture.members[3].ssh_key = "ssh-ed25519 AAAAnot-base64".to_owned();
    assert!(matches!(
        expect_err(fixture.parse()),
        Error::RosterField { member, field: "ssh_key", .. } if member == "dave"
    ));
}

#[test]
fn rejects_unknown_field() {
    let mut fixture = Fixture::new();
    fixture.members[5].extra = "email = \"frank@example.org\"\n".to_owned();
    let error = expect_err(fixture.parse());
    assert!(
        matches!(&error, Error::RosterSyntax { source, .. } if source.to_string().contains("email")),
        "{error}"
    );

    let fixture = Fixture::new();
    let text = fixture
        .toml()
        .replace("version = 1\n", "version = 1\nthreshold = 4\n");
    assert!(matches!(
        expect_err(Roster::parse(&text, &fixture.path(), &quorum())),
        Error::RosterSyntax { .. }
    ));
}

#[test]
fn rejects_missing_field() {
    let fixture = Fixture::new();
    let text = fixture.toml().replacen("country = \"DE\"\n", "", 1);
    assert!(matches!(
        expect_err(Roster::parse(&text, &fixture.path(), &quorum())),
        Error::RosterSyntax { source, .. } if source.to_string().contains("country")
    ));
}

/// An edit to a member, making it invalid.
type Edit = fn(&mut TestMember);

#[test]
fn rejects_bad_id_country_dates_and_recipient() {
    let cases: [(Edit, &str); 6] = [
        (|m| m.id = "Alice".to_owned(), "id"),
        (|m| m.country = "de".to_owned(), "country"),
        (|m| m.country = "DEU".to_owned(), "country"),
        (|m| m.appointed = "15/01/2026".to_owned(), "appointed"),
        (
            |m| m.age_recipient = Some("age1notarecipient".to_owned()),
            "age_recipient",
        ),
        (
            // An ssh key where an X25519 recipient is expected.
            |m| m.age_recipient = Some(m.ssh_key.clone()),
            "age_recipient",
        ),
    ];
    let fixture = Fixture::new();
    for (edit, expected) in cases {
        let mut fixture = Fixture {
            dir: tempfile::tempdir().unwrap(),
            members: fixture.members.clone(),
        };
        edit(&mut fixture.members[0]);
        let error = expect_err(fixture.parse());
        assert!(
            matches!(&error, Error::RosterField { field, .. } if *field == expected),
            "{expected}: {error}"
        );
    }
}

#[test]
fn rejects_reappointment_before_appointment() {
    let mut fixture = Fixture::new();
    fixture.members[2].reappoint_by = "2026-01-15".to_owned();
    assert!(matches!(
        expect_err(fixture.parse()),
        Error::RosterReappointment { member, .. } if member == "carol"
    ));
}

#[test]
fn rejects_other_version() {
    let fixture = Fixture::new();
    let text = fixture.toml().replace("version = 1", "version = 2");
    assert!(matches!(
        expect_err(Roster::parse(&text, &fixture.path(), &quorum())),
        Error::RosterVersion { found: 2, .. }
    ));
}

// ---------------------------------------------------------------- approvals

#[test]
fn ssh_keygen_signatures_verify_natively() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    // ed25519, ecdsa P-256, ecdsa P-384.
    for id in ["alice", "bob", "carol"] {
        let armored = fixture.approve(id, REQUEST);
        assert!(armored.starts_with("-----BEGIN SSH SIGNATURE-----"));
        assert_eq!(verify_approval(&roster, REQUEST, &armored).unwrap().id, id);
    }
    // ssh-keygen's sha256 variant too.
    let armored = ssh_keygen_sign(
        &fixture.key("bob"),
        NAMESPACE,
        &["-O", "hashalg=sha256"],
        REQUEST,
    );
    assert_eq!(
        verify_approval(&roster, REQUEST, &armored).unwrap().id,
        "bob"
    );
}

#[test]
fn approvals_verify_with_ssh_keygen_and_allowed_signers() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    for id in ["alice", "bob", "carol"] {
        let armored = fixture.approve(id, REQUEST);
        assert!(ssh_keygen_verify(
            fixture.dir.path(),
            &roster,
            id,
            REQUEST,
            &armored
        ));
        // and ssh-keygen, too, refuses it under another member's name or another message.
        assert!(!ssh_keygen_verify(
            fixture.dir.path(),
            &roster,
            "dave",
            REQUEST,
            &armored
        ));
        assert!(!ssh_keygen_verify(
            fixture.dir.path(),
            &roster,
            id,
            b"other",
            &armored
        ));
    }
}

#[test]
fn rejects_wrong_namespace() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let armored = ssh_keygen_sign(&fixture.key("alice"), "git", &[], REQUEST);
    assert!(matches!(
        expect_err(verify_approval(&roster, REQUEST, &armored)),
        Error::ApprovalNamespace { found, .. } if found == "git"
    ));
}

#[test]
fn rejects_request_edited_by_one_byte() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    for id in ["alice", "bob", "carol"] {
        let armored = fixture.approve(id, REQUEST);
        let mut edited = REQUEST.to_vec();
        edited[8] ^= 0x01;
        assert!(matches!(
            expect_err(verify_approval(&roster, &edited, &armored)),
            Error::ApprovalSignature { member } if member == id
        ));
    }
}

#[test]
fn rejects_non_member_key() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let mallory = keygen(fixture.dir.path(), "mallory", KeyKind::Ed25519);
    let armored = sign_with_ssh_keygen(REQUEST, &mallory).unwrap();
    let fingerprint = PublicKey::from_openssh(&public_line(&mallory))
        .unwrap()
        .fingerprint(HashAlg::Sha256)
        .to_string();
    let error = expect_err(verify_approval(&roster, REQUEST, &armored));
    assert!(
        matches!(&error, Error::ApprovalNotMember { fingerprint: f, .. } if *f == fingerprint),
        "{error}"
    );
    assert!(error.to_string().contains(&fingerprint));
}

#[test]
fn rejects_text_that_is_not_a_signature() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    for text in [
        "",
        "approved -- alice",
        "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
    ] {
        assert!(matches!(
            expect_err(verify_approval(&roster, REQUEST, text)),
            Error::ApprovalMalformed { .. } | Error::ApprovalSshSig { .. }
        ));
    }
}

#[test]
fn signing_with_missing_key_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        expect_err(sign_with_ssh_keygen(REQUEST, &dir.path().join("absent"))),
        Error::SshKeygen { .. }
    ));
}

#[test]
fn signs_with_public_key_file_when_private_key_is_beside_it() {
    // `--key ~/.ssh/id_ed25519.pub` is what members with agent or hardware keys pass.
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let armored =
        sign_with_ssh_keygen(REQUEST, &fixture.key("alice").with_extension("pub")).unwrap();
    assert_eq!(
        verify_approval(&roster, REQUEST, &armored).unwrap().id,
        "alice"
    );
}

// ---------------------------------------------------------------- FIDO user presence

#[test]
fn fido_signature_with_user_presence_is_accepted() {
    let (fixture, sk) = fixture_with_sk();
    let roster = fixture.roster();
    let armored = sk.sign(REQUEST, 0x01, 42);
    assert_eq!(
        verify_approval(&roster, REQUEST, &armored).unwrap().id,
        "ivan"
    );
    // Our construction is a real sk-ssh-ed25519 SSHSIG: ssh-keygen agrees.
    assert!(ssh_keygen_verify(
        fixture.dir.path(),
        &roster,
        "ivan",
        REQUEST,
        &armored
    ));
}

#[test]
fn fido_signature_without_user_presence_is_rejected() {
    let (fixture, sk) = fixture_with_sk();
    let roster = fixture.roster();
    for flags in [0x00, 0x04 /* user verified, not present */] {
        let armored = sk.sign(REQUEST, flags, 43);
        // The gap this closes: the signature itself is valid for ssh-key and ssh-keygen.
        let sig = SshSig::from_pem(&armored).unwrap();
        let key = PublicKey::new(sk.key_data(), "");
        key.verify(NAMESPACE, REQUEST, &sig).unwrap();
        assert!(ssh_keygen_verify(
            fixture.dir.path(),
            &roster,
            "ivan",
            REQUEST,
            &armored
        ));
        assert!(matches!(
            expect_err(verify_approval(&roster, REQUEST, &armored)),
            Error::ApprovalNoUserPresence { member, flags: f } if member == "ivan" && f == flags
        ));
    }
}

#[test]
fn fido_flags_cannot_be_set_after_signing() {
    let (fixture, sk) = fixture_with_sk();
    let roster = fixture.roster();
    // Sign without presence, then set the flag in the trailer: the signature covers it.
    let sig = SshSig::from_pem(sk.sign(REQUEST, 0x00, 44)).unwrap();
    let mut raw = sig.signature_bytes().to_vec();
    let flags_at = raw.len() - 5;
    raw[flags_at] |= 0x01;
    let forged = SshSig::new(
        sk.key_data(),
        NAMESPACE,
        HashAlg::Sha512,
        Signature::new(Algorithm::SkEd25519, raw).unwrap(),
    )
    .unwrap()
    .to_pem(LineEnding::LF)
    .unwrap();
    assert!(matches!(
        expect_err(verify_approval(&roster, REQUEST, &forged)),
        Error::ApprovalSignature { member } if member == "ivan"
    ));
}

// ---------------------------------------------------------------- quorum

#[test]
fn accepts_five_distinct_members() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let approvals = fixture.approvals(&["alice", "bob", "carol", "dave", "erin"], REQUEST);
    assert_eq!(
        check_quorum(&roster, 5, REQUEST, &approvals).unwrap(),
        ["alice", "bob", "carol", "dave", "erin"]
    );
}

#[test]
fn accepts_five_including_fido_member() {
    let (fixture, sk) = fixture_with_sk();
    let roster = fixture.roster();
    let mut approvals = fixture.approvals(&["alice", "bob", "carol", "dave"], REQUEST);
    approvals.push(("ivan.sig".into(), sk.sign(REQUEST, 0x01, 1)));
    assert_eq!(
        check_quorum(&roster, 5, REQUEST, &approvals).unwrap().len(),
        5
    );
}

#[test]
fn rejects_four_approvals() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let approvals = fixture.approvals(&["alice", "bob", "carol", "dave"], REQUEST);
    let error = expect_err(check_quorum(&roster, 5, REQUEST, &approvals));
    assert!(
        matches!(
            &error,
            Error::QuorumNotMet {
                found: 4,
                needed: 5,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("4 valid approvals"), "{error}");
}

#[test]
fn rejects_five_with_same_signature_twice() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let mut approvals = fixture.approvals(&["alice", "bob", "carol", "dave"], REQUEST);
    approvals.push(approvals[1].clone());
    assert!(matches!(
        expect_err(check_quorum(&roster, 5, REQUEST, &approvals)),
        Error::DuplicateApproval { member, .. } if member == "bob"
    ));
}

#[test]
fn rejects_five_with_one_member_in_two_files() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let mut approvals = fixture.approvals(&["alice", "bob", "carol", "dave"], REQUEST);
    // A second, different signature by alice (ed25519 is deterministic: use another hash).
    let second = ssh_keygen_sign(
        &fixture.key("alice"),
        NAMESPACE,
        &["-O", "hashalg=sha256"],
        REQUEST,
    );
    assert_ne!(second, approvals[0].1);
    approvals.push(("alice-again.sig".into(), second));
    let error = expect_err(check_quorum(&roster, 5, REQUEST, &approvals));
    match &error {
        Error::DuplicateApproval {
            member,
            first,
            second,
        } => {
            assert_eq!(member, "alice");
            assert_eq!(first, Path::new("alice.sig"));
            assert_eq!(second, Path::new("alice-again.sig"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_approval_is_an_error_naming_its_file_not_skipped() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let mut approvals = fixture.approvals(&["alice", "bob", "carol", "dave", "erin"], REQUEST);
    // A sixth approval over other bytes: five valid remain, but it is still refused.
    approvals.push((
        "frank.sig".into(),
        fixture.approve("frank", b"another request"),
    ));
    let error = expect_err(check_quorum(&roster, 5, REQUEST, &approvals));
    assert!(error.to_string().contains("frank.sig"), "{error}");
    assert!(matches!(
        file_error(error, "frank.sig"),
        Error::ApprovalSignature { member } if member == "frank"
    ));
}

#[test]
fn non_member_approval_is_refused_in_quorum() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let mut approvals = fixture.approvals(&["alice", "bob", "carol", "dave"], REQUEST);
    let mallory = keygen(fixture.dir.path(), "mallory", KeyKind::Ed25519);
    approvals.push((
        "mallory.sig".into(),
        sign_with_ssh_keygen(REQUEST, &mallory).unwrap(),
    ));
    assert!(matches!(
        file_error(
            expect_err(check_quorum(&roster, 5, REQUEST, &approvals)),
            "mallory.sig"
        ),
        Error::ApprovalNotMember { .. }
    ));
}

#[test]
fn rejects_zero_threshold() {
    let fixture = Fixture::new();
    assert!(matches!(
        expect_err(check_quorum(&fixture.roster(), 0, REQUEST, &[])),
        Error::QuorumThresholdZero
    ));
}

#[test]
fn approvals_directory_reads_sig_files_only() {
    let fixture = Fixture::new();
    let roster = fixture.roster();
    let dir = fixture.dir.path().join("approvals");
    std::fs::create_dir(&dir).unwrap();
    for id in ["alice", "bob", "carol", "dave", "erin"] {
        std::fs::write(dir.join(format!("{id}.sig")), fixture.approve(id, REQUEST)).unwrap();
    }
    std::fs::write(dir.join("README"), "not an approval").unwrap();
    let approvals = read_approval_dir(&dir).unwrap();
    assert_eq!(approvals.len(), 5);
    assert_eq!(
        check_quorum(&roster, 5, REQUEST, &approvals).unwrap().len(),
        5
    );

    std::fs::write(dir.join("frank.sig"), [0xff, 0xfe]).unwrap();
    let error = expect_err(read_approval_dir(&dir));
    assert!(matches!(
        file_error(error, dir.join("frank.sig").to_str().unwrap()),
        Error::ApprovalMalformed { .. }
    ));
}
