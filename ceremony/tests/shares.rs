//! PIN shares with real age encryption: keys made at test time (X25519 through age,
//! ssh-ed25519 through `ssh-keygen`), share files cross-checked with the `age` CLI.

// clippy.toml allows these inside #[test] functions only; the fixture helpers below are
// test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use rust_pki_ceremony::Error;
use rust_pki_ceremony::shares::{
    self, BadShare, BadShareReason, Manifest, Recipient, SO_PIN, Share, ShareIdentity, ShareSet,
    USER_PIN,
};
use secrecy::{ExposeSecret, SecretString};

const TOKEN: &str = "rust-root";
const MEMBERS: [&str; 9] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
];
/// Members 0..X25519_MEMBERS get age X25519 keys, the others ssh-ed25519 keys.
const X25519_MEMBERS: usize = 5;

/// Nine members with keys on disk: recipients as the roster would hold them, identity
/// files as each member would keep them.
struct Members {
    /// Holds the key files.
    _dir: tempfile::TempDir,
    recipients: Vec<(String, Recipient)>,
    identity_files: Vec<PathBuf>,
    /// The X25519 members' keys, to tamper with their share files below the API.
    x25519: Vec<age::x25519::Identity>,
}

impl Members {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut recipients = Vec::new();
        let mut identity_files = Vec::new();
        let mut x25519 = Vec::new();
        for (i, member) in MEMBERS.iter().enumerate() {
            let (recipient, file) = if i < X25519_MEMBERS {
                let identity = age::x25519::Identity::generate();
                let recipient = identity.to_public().to_string();
                // The layout age-keygen writes: comments, then the key.
                let file = dir.path().join(format!("{member}.agekey"));
                std::fs::write(
                    &file,
                    format!(
                        "# created: 2026-11-26T00:00:00Z\n# public key: {recipient}\n{}\n",
                        identity.to_string().expose_secret()
                    ),
                )
                .unwrap();
                x25519.push(identity);
                (recipient, file)
            } else {
                let file = ssh_keygen(dir.path(), member, "ed25519", "");
                let public = std::fs::read_to_string(file.with_extension("pub")).unwrap();
                (public.trim().to_owned(), file)
            };
            recipients.push((
                (*member).to_owned(),
                Recipient::from_str(&recipient).unwrap(),
            ));
            identity_files.push(file);
        }
        Self {
            _dir: dir,
            recipients,
            identity_files,
            x25519,
        }
    }

    fn identity(&self, member: usize) -> ShareIdentity {
        ShareIdentity::from_file(&self.identity_files[member]).unwrap()
    }

    fn split(&self, token: &str, secret_name: &str, pin: &SecretString) -> ShareSet {
        shares::split(token, secret_name, pin, 5, &self.recipients).unwrap()
    }

    /// Member `i`'s share of `set`, decrypted with their own identity file.
    fn decrypt(&self, set: &ShareSet, i: usize) -> (String, Share) {
        let share =
            shares::decrypt_share(set.file(MEMBERS[i]).unwrap(), &self.identity(i)).unwrap();
        (MEMBERS[i].to_owned(), share)
    }

    fn decrypt_all(&self, set: &ShareSet, members: &[usize]) -> Vec<(String, Share)> {
        members.iter().map(|&i| self.decrypt(set, i)).collect()
    }

    /// Member `i`'s (an X25519 member) share payload, below the API.
    fn raw_payload(&self, set: &ShareSet, i: usize) -> String {
        let plaintext = age::decrypt(&self.x25519[i], set.file(MEMBERS[i]).unwrap()).unwrap();
        String::from_utf8(plaintext).unwrap()
    }

    /// `payload` encrypted to member `i` and decrypted through the API.
    fn share_from_payload(&self, i: usize, payload: &str) -> (String, Share) {
        let encrypted = age::encrypt(&self.x25519[i].to_public(), payload.as_bytes()).unwrap();
        let share = shares::decrypt_share(&encrypted, &self.identity(i)).unwrap();
        (MEMBERS[i].to_owned(), share)
    }

    /// Member `i`'s share with one hex digit of its value flipped after decryption.
    fn flipped_share(&self, set: &ShareSet, i: usize) -> (String, Share) {
        let payload = self.raw_payload(set, i);
        let at = payload.find("share = \"").unwrap() + "share = \"".len() + 10;
        let mut bytes = payload.into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        self.share_from_payload(i, &String::from_utf8(bytes).unwrap())
    }

    /// A well-formed share for member `i` of `set` whose value is random garbage.
    fn garbage_share(&self, set: &ShareSet, i: usize) -> (String, Share) {
        let payload = self.raw_payload(set, i);
        let (head, _) = payload.split_once("share = \"").unwrap();
        let mut garbage = [0u8; 64];
        getrandom::fill(&mut garbage).unwrap();
        self.share_from_payload(i, &format!("{head}share = \"{}\"\n", hex::encode(garbage)))
    }
}

/// `ssh-keygen -t TYPE -N PASSPHRASE -f DIR/NAME`; returns the private key's path.
fn ssh_keygen(dir: &Path, name: &str, key_type: &str, passphrase: &str) -> PathBuf {
    let file = dir.join(name);
    let output = Command::new("ssh-keygen")
        .args(["-q", "-t", key_type, "-N", passphrase, "-C"])
        .arg(format!("{name}@example.org"))
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    file
}

fn new_pin() -> SecretString {
    shares::generate_pin().unwrap()
}

/// Messages must never show a PIN or any share value.
fn assert_no_secret(message: &str, pin: &SecretString, shares: &[(String, Share)]) {
    assert!(!message.contains(pin.expose_secret()), "{message}");
    assert!(!message.contains(&pin.expose_secret()[..16]), "{message}");
    for (_, share) in shares {
        assert!(!format!("{share:?}").contains(&pin.expose_secret()[..16]));
    }
}

fn names(bad: &[BadShare]) -> Vec<&str> {
    bad.iter().map(|b| b.share.as_str()).collect()
}

/// Every k-subset of 0..n, in lexicographic order.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![vec![]];
    }
    (0..n)
        .flat_map(|first| {
            subsets(n - first - 1, k - 1).into_iter().map(move |rest| {
                std::iter::once(first)
                    .chain(rest.into_iter().map(|r| r + first + 1))
                    .collect()
            })
        })
        .collect()
}

#[test]
fn generated_pins_are_64_lower_case_hex_and_fresh() {
    let a = new_pin();
    let b = new_pin();
    for pin in [&a, &b] {
        let pin = pin.expose_secret();
        assert_eq!(pin.len(), 64);
        assert!(pin.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
    }
    assert_ne!(a.expose_secret(), b.expose_secret());
}

#[test]
fn any_five_of_nine_shares_reconstruct_the_pin() {
    let members = Members::new();
    let pin = new_pin();
    let set = members.split(TOKEN, USER_PIN, &pin);
    assert_eq!(set.manifest.threshold, 5);
    assert_eq!(set.manifest.count, 9);
    assert_eq!(set.files.len(), 9);
    let all = members.decrypt_all(&set, &(0..9).collect::<Vec<_>>());
    for (i, (_, share)) in all.iter().enumerate() {
        assert_eq!(usize::from(share.index()), i + 1);
        assert_eq!(share.token(), TOKEN);
        assert_eq!(share.secret_name(), USER_PIN);
        assert_eq!(share.set_id(), set.manifest.set_id);
    }
    let subsets = subsets(9, 5);
    assert_eq!(subsets.len(), 126);
    for subset in subsets {
        let given: Vec<_> = subset.iter().map(|&i| all[i].clone()).collect();
        let combined = shares::combine(&set.manifest, &given).unwrap();
        assert_eq!(combined.secret.expose_secret(), pin.expose_secret());
        assert!(combined.bad_shares.is_empty());
        let expected: Vec<_> = subset.iter().map(|&i| MEMBERS[i]).collect();
        assert_eq!(combined.used, expected);
    }
    // All nine: the first five reconstruct, the rest are consistent with them.
    let combined = shares::combine(&set.manifest, &all).unwrap();
    assert_eq!(combined.secret.expose_secret(), pin.expose_secret());
    assert!(combined.bad_shares.is_empty());
}

#[test]
fn rejects_four_shares() {
    let members = Members::new();
    let pin = new_pin();
    let set = members.split(TOKEN, USER_PIN, &pin);
    let four = members.decrypt_all(&set, &[0, 2, 5, 8]);
    let err = shares::combine(&set.manifest, &four).unwrap_err();
    assert!(
        matches!(&err, Error::NotEnoughShares { threshold: 5, given: 4, bad } if bad.is_empty()),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "4 share(s) given, 5 needed to reconstruct the secret"
    );
    assert!(shares::combine(&set.manifest, &[]).is_err());
}

#[test]
fn rejects_six_shares_of_which_two_are_corrupted_naming_both() {
    let members = Members::new();
    let pin = new_pin();
    let set = members.split(TOKEN, USER_PIN, &pin);
    let mut given = members.decrypt_all(&set, &[0, 2, 5, 6]);
    given.insert(1, members.flipped_share(&set, 1)); // bob
    given.push(members.garbage_share(&set, 3)); // dave
    let err = shares::combine(&set.manifest, &given).unwrap_err();
    let Error::NotEnoughShares {
        threshold: 5,
        given: 6,
        bad,
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(names(bad), ["bob", "dave"]);
    assert!(
        bad.iter()
            .all(|b| b.reason == BadShareReason::DigestMismatch)
    );
    let message = err.to_string();
    assert_eq!(
        message,
        "only 4 of the 6 shares given are good, 5 needed; bad: \
         `bob` (does not match its digest in the manifest), \
         `dave` (does not match its digest in the manifest)"
    );
    assert_no_secret(&message, &pin, &given);
}

#[test]
fn seven_shares_of_which_two_are_corrupted_succeed_and_name_both() {
    let members = Members::new();
    let pin = new_pin();
    let set = members.split(TOKEN, USER_PIN, &pin);
    // The corrupted shares come first: plain Shamir over the first five would be wrong.
    let mut given = vec![
        members.garbage_share(&set, 0),
        members.flipped_share(&set, 4),
    ];
    given.extend(members.decrypt_all(&set, &[1, 2, 5, 7, 8]));
    let combined = shares::combine(&set.manifest, &given).unwrap();
    assert_eq!(combined.secret.expose_secret(), pin.expose_secret());
    assert_eq!(names(&combined.bad_shares), ["alice", "erin"]);
    assert_eq!(combined.used, ["bob", "carol", "frank", "heidi", "ivan"]);
    assert_eq!(
        combined.bad_shares[0].to_string(),
        "`alice` (does not match its digest in the manifest)"
    );
}

/// A sixth approver's share of another token, secret or share set is named and set
/// aside: five good shares still rebuild the PIN; with only four good ones, the error
/// names the foreign share and why.
#[test]
fn sets_aside_a_share_of_another_token_secret_or_share_set_naming_it() {
    let members = Members::new();
    let pin = new_pin();
    let set = members.split(TOKEN, USER_PIN, &pin);
    let other_token = members.split("rust-root-2", USER_PIN, &pin);
    let so_pin = members.split(TOKEN, SO_PIN, &new_pin());
    // The same token and secret, re-shared (as after a roster change): the old set is dead.
    let reshared = members.split(TOKEN, USER_PIN, &new_pin());

    for (foreign, field, found) in [
        (&other_token, "token", "rust-root-2".to_owned()),
        (&so_pin, "secret", SO_PIN.to_owned()),
        (&reshared, "share set", reshared.manifest.set_id.clone()),
    ] {
        let expected_reason = BadShareReason::Foreign {
            field,
            expected: match field {
                "token" => TOKEN.to_owned(),
                "secret" => USER_PIN.to_owned(),
                _ => set.manifest.set_id.clone(),
            },
            found: found.clone(),
        };
        // Five good ones and the foreign one first: rebuilt, grace named.
        let mut given = vec![members.decrypt(foreign, 6)];
        given.extend(members.decrypt_all(&set, &[0, 1, 2, 3, 4]));
        let combined = shares::combine(&set.manifest, &given).unwrap();
        assert_eq!(combined.secret.expose_secret(), pin.expose_secret());
        assert_eq!(
            combined.bad_shares,
            [BadShare {
                share: "grace".into(),
                reason: expected_reason.clone(),
            }]
        );
        assert_eq!(combined.used, ["alice", "bob", "carol", "dave", "erin"]);
        let shown = combined.bad_shares[0].to_string();
        assert!(
            shown.starts_with("`grace` (belongs to ") && shown.contains(&found),
            "{shown}"
        );

        // Four good ones: refused, naming grace's share and why.
        given.pop();
        let err = shares::combine(&set.manifest, &given).unwrap_err();
        let Error::NotEnoughShares {
            threshold: 5,
            given: 5,
            bad,
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!(names(bad), ["grace"]);
        assert_eq!(bad[0].reason, expected_reason);
        let message = err.to_string();
        assert!(
            message.starts_with(
                "only 4 of the 5 shares given are good, 5 needed; bad: `grace` (belongs to"
            ),
            "{message}"
        );
        assert_no_secret(&message, &pin, &given);
    }
    // A whole old share set against the new manifest: every share named.
    let old = members.decrypt_all(&set, &[0, 1, 2, 3, 4]);
    let err = shares::combine(&reshared.manifest, &old).unwrap_err();
    assert!(
        matches!(&err, Error::NotEnoughShares { bad, .. } if names(bad) == MEMBERS[..5]
            && bad.iter().all(|b| matches!(b.reason, BadShareReason::Foreign { field: "share set", .. }))),
        "{err}"
    );
}

/// A share under an unknown name, a member's share given twice, and a member's share
/// handed in as another member's are each named and set aside.
#[test]
fn sets_aside_unknown_members_duplicates_and_misplaced_shares() {
    let members = Members::new();
    let pin = new_pin();
    let set = members.split(TOKEN, USER_PIN, &pin);
    let five = members.decrypt_all(&set, &[0, 1, 2, 3, 4]);
    let sixth = members.decrypt(&set, 5);

    // With five good ones besides: rebuilt, the bad one named.
    let cases: [((String, Share), BadShareReason); 3] = [
        (
            ("mallory".into(), sixth.1.clone()),
            BadShareReason::UnknownMember,
        ),
        // One share under two names (member id and file name) counts once, loudly.
        (
            ("shares/alice.age".into(), five[0].1.clone()),
            BadShareReason::Duplicate {
                other: "alice".into(),
                member: "alice".into(),
            },
        ),
        // Alice's share presented as Frank's.
        (
            ("frank".into(), five[0].1.clone()),
            BadShareReason::IndexMismatch {
                member: "frank".into(),
                expected: 6,
                found: 1,
            },
        ),
    ];
    for ((name, share), reason) in cases {
        let mut given = five.clone();
        given.push((name.clone(), share));
        let combined = shares::combine(&set.manifest, &given).unwrap();
        assert_eq!(combined.secret.expose_secret(), pin.expose_secret());
        assert_eq!(
            combined.bad_shares,
            [BadShare {
                share: name.clone(),
                reason: reason.clone(),
            }]
        );
        // Without one good share: refused, naming it.
        given.remove(1);
        let err = shares::combine(&set.manifest, &given).unwrap_err();
        assert!(
            matches!(&err, Error::NotEnoughShares { bad, .. }
                if bad.len() == 1 && bad[0].share == name && bad[0].reason == reason),
            "{err}"
        );
        assert!(err.to_string().contains(&format!("`{name}` (")), "{err}");
    }
    assert_eq!(
        BadShare {
            share: "frank".into(),
            reason: BadShareReason::IndexMismatch {
                member: "frank".into(),
                expected: 6,
                found: 1
            }
        }
        .to_string(),
        "`frank` (has index 1, but member `frank` holds share 6)"
    );

    // File names work as names.
    let by_file: Vec<_> = five
        .iter()
        .map(|(m, s)| (format!("/tmp/x/shares/{m}.age"), s.clone()))
        .collect();
    let combined = shares::combine(&set.manifest, &by_file).unwrap();
    assert_eq!(combined.secret.expose_secret(), pin.expose_secret());
}

#[test]
fn reencrypted_shares_round_trip_through_the_ceremony_key() {
    let members = Members::new();
    let pin = new_pin();
    let set = members.split(TOKEN, USER_PIN, &pin);
    let (ceremony_identity, ceremony_recipient) = shares::generate_ceremony_key();
    assert!(ceremony_recipient.to_string().starts_with("age1"));

    // Five members (X25519 and SSH alike) each decrypt their own share and re-encrypt it.
    let contributions: Vec<(String, Vec<u8>)> = [0, 3, 5, 6, 8]
        .iter()
        .map(|&i| {
            let (member, share) = members.decrypt(&set, i);
            (
                member,
                shares::reencrypt_share(&share, &ceremony_recipient).unwrap(),
            )
        })
        .collect();

    // Only the ceremony key opens them; the member's own key no longer does.
    let err = shares::decrypt_share(&contributions[0].1, &members.identity(0)).unwrap_err();
    assert!(matches!(err, Error::ShareNotForIdentity { .. }), "{err}");
    let (other_identity, _) = shares::generate_ceremony_key();
    let other = ShareIdentity::from_x25519("other ceremony key", other_identity);
    assert!(matches!(
        shares::decrypt_share(&contributions[0].1, &other),
        Err(Error::ShareNotForIdentity { identity }) if identity == "other ceremony key"
    ));

    let executor = ShareIdentity::from_x25519("ceremony key", ceremony_identity);
    let received: Vec<(String, Share)> = contributions
        .iter()
        .map(|(member, age)| {
            (
                member.clone(),
                shares::decrypt_share(age, &executor).unwrap(),
            )
        })
        .collect();
    let combined = shares::combine(&set.manifest, &received).unwrap();
    assert_eq!(combined.secret.expose_secret(), pin.expose_secret());
}

#[test]
fn a_member_cannot_decrypt_another_members_share() {
    let members = Members::new();
    let set = members.split(TOKEN, USER_PIN, &new_pin());
    // X25519 → X25519, SSH → SSH, and across kinds.
    for (reader, owner) in [(0, 1), (5, 6), (0, 7), (8, 2)] {
        let err =
            shares::decrypt_share(set.file(MEMBERS[owner]).unwrap(), &members.identity(reader))
                .unwrap_err();
        assert!(
            matches!(&err, Error::ShareNotForIdentity { identity }
                if identity == &members.identity_files[reader].display().to_string()),
            "{err}"
        );
    }
    // Not an age file at all.
    let err = shares::decrypt_share(b"not an age file", &members.identity(0)).unwrap_err();
    assert!(matches!(err, Error::ShareDecrypt { .. }), "{err}");
}

#[test]
fn commitment_is_separated_by_token_label_and_secret_name() {
    let members = Members::new();
    let pin = new_pin();
    let a = members.split(TOKEN, USER_PIN, &pin);
    let a_again = members.split(TOKEN, USER_PIN, &pin);
    let b = members.split("rust-root-2", USER_PIN, &pin);
    let c = members.split(TOKEN, SO_PIN, &pin);
    assert_eq!(a.manifest.commitment, a_again.manifest.commitment);
    assert_ne!(a.manifest.set_id, a_again.manifest.set_id);
    assert_ne!(a.manifest.commitment, b.manifest.commitment);
    assert_ne!(a.manifest.commitment, c.manifest.commitment);
    // The commitment is not a bare hash of the PIN.
    let bare = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        pin.expose_secret().as_bytes(),
    ));
    assert_ne!(a.manifest.commitment, bare);

    // A manifest relabelled to another token does not accept the shares: they say which
    // token they belong to.
    let mut relabelled = a.manifest.clone();
    relabelled.token = "rust-root-2".into();
    let given = members.decrypt_all(&a, &[0, 1, 2, 3, 4]);
    assert!(matches!(
        shares::combine(&relabelled, &given),
        Err(Error::NotEnoughShares { bad, .. }) if bad.len() == 5
            && bad.iter().all(|b| matches!(b.reason, BadShareReason::Foreign { field: "token", .. }))
    ));
}

#[test]
fn a_manifest_with_a_wrong_commitment_reconstructs_nothing() {
    let members = Members::new();
    let pin = new_pin();
    let set = members.split(TOKEN, USER_PIN, &pin);
    let other = members.split(TOKEN, USER_PIN, &new_pin());
    let mut manifest = set.manifest.clone();
    manifest.commitment = other.manifest.commitment.clone();
    let given = members.decrypt_all(&set, &[0, 1, 2, 3, 4, 5]);
    let err = shares::combine(&manifest, &given).unwrap_err();
    assert!(
        matches!(
            err,
            Error::SharesInconsistent {
                threshold: 5,
                valid: 6,
                tried: 6,
                complete: true
            }
        ),
        "{err}"
    );
    assert_no_secret(&err.to_string(), &pin, &given);
}

#[test]
fn share_set_is_written_once_and_read_back() {
    let members = Members::new();
    let pin = new_pin();
    let set = members.split(TOKEN, USER_PIN, &pin);
    let out = tempfile::tempdir().unwrap();
    let written = shares::write_share_set(out.path(), &set).unwrap();
    assert_eq!(written.len(), 10);
    assert_eq!(written[0], out.path().join("shares/manifest.toml"));

    let manifest = Manifest::read(&out.path().join("shares/manifest.toml")).unwrap();
    assert_eq!(manifest, set.manifest);
    let text = std::fs::read_to_string(&written[0]).unwrap();
    assert!(
        text.contains("format = \"rust-pki-pin-shares/1\""),
        "{text}"
    );
    assert!(text.contains("[[shares]]"), "{text}");
    assert!(!text.contains(pin.expose_secret()));

    // Members read their files from disk; file names serve as share names.
    let given: Vec<(String, Share)> = [1, 3, 4, 6, 7]
        .iter()
        .map(|&i| {
            let path = out.path().join(format!("shares/{}.age", MEMBERS[i]));
            let bytes = std::fs::read(&path).unwrap();
            assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
            (
                path.display().to_string(),
                shares::decrypt_share(&bytes, &members.identity(i)).unwrap(),
            )
        })
        .collect();
    let combined = shares::combine(&manifest, &given).unwrap();
    assert_eq!(combined.secret.expose_secret(), pin.expose_secret());

    // Never overwritten: not the manifest, not a share file.
    let err = shares::write_share_set(out.path(), &set).unwrap_err();
    assert!(
        matches!(&err, Error::Ca(rust_pki_ca::Error::OutputExists { path })
            if path == &out.path().join("shares/manifest.toml")),
        "{err}"
    );
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join("shares")).unwrap();
    std::fs::write(other.path().join("shares/ivan.age"), b"old").unwrap();
    let err = shares::write_share_set(other.path(), &set).unwrap_err();
    assert!(
        matches!(&err, Error::Ca(rust_pki_ca::Error::OutputExists { .. })),
        "{err}"
    );
    // Nothing was written before the refusal.
    assert!(!other.path().join("shares/alice.age").exists());
    assert!(!other.path().join("shares/manifest.toml").exists());
}

#[test]
fn manifest_parsing_is_strict() {
    let members = Members::new();
    let set = members.split(TOKEN, USER_PIN, &new_pin());
    let text = set.manifest.to_toml().unwrap();
    assert_eq!(Manifest::from_toml(&text, None).unwrap(), set.manifest);

    let path = Path::new("shares/manifest.toml");
    for (bad, expected) in [
        (format!("extra = 1\n{text}"), "unknown field"),
        (text.replace("count = 9", "count = 8"), "count is 8"),
        (
            text.replace("threshold = 5", "threshold = 10"),
            "threshold 10",
        ),
        (
            text.replace("threshold = 5", "threshold = 1"),
            "threshold 1",
        ),
        (
            text.replace("rust-pki-pin-shares/1", "rust-pki-pin-shares/2"),
            "format",
        ),
        (
            text.replace("member = \"bob\"", "member = \"alice\""),
            "listed twice",
        ),
        (text.replace("index = 2", "index = 1"), "both have index 1"),
        (
            text.replace("member = \"bob\"", "member = \"../bob\""),
            "member",
        ),
        (
            text.replace(&set.manifest.commitment, "00"),
            "commitment is not 64",
        ),
    ] {
        let err = Manifest::from_toml(&bad, Some(path)).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(
                err,
                Error::ShareManifest { .. } | Error::ShareManifestSyntax { .. }
            ) && message.contains(expected)
                && message.contains("shares/manifest.toml"),
            "{expected}: {message}"
        );
    }
}

#[test]
fn age_cli_decrypts_the_share_files() {
    let members = Members::new();
    let set = members.split(TOKEN, USER_PIN, &new_pin());
    let out = tempfile::tempdir().unwrap();
    shares::write_share_set(out.path(), &set).unwrap();
    // One X25519 member, one ssh-ed25519 member.
    for i in [2, 7] {
        let output = Command::new("age")
            .arg("--decrypt")
            .arg("--identity")
            .arg(&members.identity_files[i])
            .arg(out.path().join(format!("shares/{}.age", MEMBERS[i])))
            .output()
            .expect("the `age` CLI (Debian package `age`, scripts/install-deps)");
        assert!(
            output.status.success(),
            "age: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let payload = String::from_utf8(output.stdout).unwrap();
        let lines: Vec<_> = payload
            .lines()
            .map(|l| l.split(" = ").next().unwrap())
            .collect();
        assert_eq!(
            lines,
            ["format", "token", "secret", "set-id", "index", "share"]
        );
        let table: toml::Table = toml::from_str(&payload).unwrap();
        assert_eq!(table["format"].as_str(), Some("rust-pki-pin-share/1"));
        assert_eq!(table["token"].as_str(), Some(TOKEN));
        assert_eq!(table["secret"].as_str(), Some(USER_PIN));
        assert_eq!(table["set-id"].as_str(), Some(set.manifest.set_id.as_str()));
        assert_eq!(
            table["index"].as_integer(),
            Some(i64::try_from(i).unwrap() + 1)
        );
        assert_eq!(table["share"].as_str().unwrap().len(), 128);
        // And the other member's key does not open it.
        let output = Command::new("age")
            .arg("--decrypt")
            .arg("--identity")
            .arg(&members.identity_files[(i + 1) % 9])
            .arg(out.path().join(format!("shares/{}.age", MEMBERS[i])))
            .output()
            .unwrap();
        assert!(!output.status.success());
    }
    // A share re-encrypted to a ceremony key decrypts with the CLI too.
    let (identity, recipient) = shares::generate_ceremony_key();
    let (_, share) = members.decrypt(&set, 0);
    let reencrypted = shares::reencrypt_share(&share, &recipient).unwrap();
    let key_file = out.path().join("ceremony.key");
    std::fs::write(&key_file, identity.to_string().expose_secret()).unwrap();
    let share_file = out.path().join("contribution.age");
    std::fs::write(&share_file, reencrypted).unwrap();
    let output = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key_file)
        .arg(&share_file)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("index = 1\n"));
}

#[test]
fn recipients_parse_from_roster_strings() {
    let dir = tempfile::tempdir().unwrap();
    let ed25519 = ssh_keygen(dir.path(), "ed", "ed25519", "");
    let line = std::fs::read_to_string(ed25519.with_extension("pub")).unwrap();
    let recipient = Recipient::from_str(&line).unwrap();
    assert!(matches!(recipient, Recipient::SshEd25519(_)));
    assert!(recipient.to_string().starts_with("ssh-ed25519 AAAA"));
    // Without the comment too.
    let bare: Vec<_> = line.split_whitespace().take(2).collect();
    Recipient::from_str(&bare.join(" ")).unwrap();

    let x25519 = age::x25519::Identity::generate().to_public().to_string();
    assert!(matches!(
        Recipient::from_str(&x25519).unwrap(),
        Recipient::X25519(_)
    ));

    let ecdsa = ssh_keygen(dir.path(), "ec", "ecdsa", "");
    let ecdsa_line = std::fs::read_to_string(ecdsa.with_extension("pub")).unwrap();
    let err = Recipient::from_str(&ecdsa_line).unwrap_err();
    assert!(
        matches!(&err, Error::ShareRecipient { reason, .. } if reason.contains("X25519")),
        "{err}"
    );
    let sk = "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t x@y";
    let err = Recipient::from_str(sk).unwrap_err();
    assert!(err.to_string().contains("age X25519 recipient"), "{err}");
    let rsa = ssh_keygen(dir.path(), "rsa", "rsa", "");
    let rsa_line = std::fs::read_to_string(rsa.with_extension("pub")).unwrap();
    assert!(Recipient::from_str(&rsa_line).is_err());
    assert!(Recipient::from_str("age1notvalid").is_err());
    assert!(Recipient::from_str("ssh-ed25519 AAAAnotbase64!").is_err());

    // A secret key pasted where a recipient belongs is refused without being echoed.
    let secret = age::x25519::Identity::generate().to_string();
    let err = Recipient::from_str(secret.expose_secret()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("(not shown)"), "{message}");
    assert!(!message.contains("AGE-SECRET-KEY"), "{message}");
}

#[test]
fn identity_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let encrypted = ssh_keygen(dir.path(), "locked", "ed25519", "a passphrase");
    let err = ShareIdentity::from_file(&encrypted).unwrap_err();
    assert!(
        matches!(&err, Error::ShareIdentity { identity, reason }
            if identity == &encrypted.display().to_string() && reason.contains("passphrase")),
        "{err}"
    );
    let ecdsa = ssh_keygen(dir.path(), "ec", "ecdsa", "");
    let err = ShareIdentity::from_file(&ecdsa).unwrap_err();
    assert!(err.to_string().contains("only ssh-ed25519"), "{err}");

    let two = dir.path().join("two.agekey");
    std::fs::write(
        &two,
        format!(
            "{}\n{}\n",
            age::x25519::Identity::generate()
                .to_string()
                .expose_secret(),
            age::x25519::Identity::generate()
                .to_string()
                .expose_secret()
        ),
    )
    .unwrap();
    let err = ShareIdentity::from_file(&two).unwrap_err();
    assert!(err.to_string().contains("more than one"), "{err}");
    assert!(!err.to_string().contains("AGE-SECRET-KEY"), "{err}");

    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, "hello\n").unwrap();
    assert!(matches!(
        ShareIdentity::from_file(&garbage),
        Err(Error::ShareIdentity { .. })
    ));
    assert!(matches!(
        ShareIdentity::from_file(&dir.path().join("missing")),
        Err(Error::Io { .. })
    ));
    // age-keygen's own output is read.
    if let Ok(output) = Command::new("age-keygen")
        .arg("-o")
        .arg(dir.path().join("keygen.key"))
        .output()
    {
        assert!(output.status.success());
        ShareIdentity::from_file(&dir.path().join("keygen.key")).unwrap();
    }
}

#[test]
fn split_refuses_unusable_parameters() {
    let members = Members::new();
    let pin = new_pin();
    let r = &members.recipients;
    let refused = |result: rust_pki_ceremony::Result<ShareSet>, expected: &str| {
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::ShareSplit { .. }) && err.to_string().contains(expected),
            "{expected}: {err}"
        );
        assert!(!err.to_string().contains(pin.expose_secret()));
    };
    refused(shares::split(TOKEN, USER_PIN, &pin, 1, r), "threshold 1");
    refused(shares::split(TOKEN, USER_PIN, &pin, 10, r), "threshold 10");
    refused(shares::split(TOKEN, USER_PIN, &pin, 5, &r[..4]), "4 shares");
    refused(
        shares::split(TOKEN, USER_PIN, &SecretString::from("1234"), 5, r),
        "high-entropy",
    );
    refused(shares::split("", USER_PIN, &pin, 5, r), "token label");
    refused(shares::split(TOKEN, "User PIN", &pin, 5, r), "secret name");
    let mut twice = r.clone();
    twice[8].0 = "alice".into();
    refused(
        shares::split(TOKEN, USER_PIN, &pin, 5, &twice),
        "listed twice",
    );
    let mut path = r.clone();
    path[3].0 = "../dave".into();
    refused(shares::split(TOKEN, USER_PIN, &pin, 5, &path), "member id");
}
