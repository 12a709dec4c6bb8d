//! Flags named by role: every renamed flag works under its new name, its old name still
//! works for one release with a one-line deprecation warning naming the new flag, and a
//! secret key given where a public one belongs (or the opposite) is refused by name.
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    /// A log (`log/`, `log.skey`) and a witness (`witness/`, `witness.skey`), made with
    /// the new flag names.
    fn new() -> Self {
        let lab = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        lab.ok(&[
            "log",
            "init",
            &lab.path("log"),
            "--origin",
            "example.com/log",
            "--log-skey-out",
            &lab.path("log.skey"),
        ]);
        lab.ok(&[
            "log",
            "witness",
            "init",
            "--state-dir",
            &lab.path("witness"),
            "--name",
            "witness.example/w1",
            "--witness-skey-out",
            &lab.path("witness.skey"),
        ]);
        std::fs::write(lab.dir.path().join("artifact.txt"), b"release\n").unwrap();
        lab
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rust-pki"))
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("deprecated"), "{args:?}: {stderr}");
        stderr
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Arguments with old names, the (old, new) renames they must report, whether the call
/// succeeds.
type Case = (Vec<String>, &'static [(&'static str, &'static str)], bool);

fn warning(old: &str, new: &str) -> String {
    format!("warning: --{old} is deprecated and will be removed: use --{new}\n")
}

/// Each old name is accepted where it was (clap does not reject it) and prints exactly one
/// warning line naming its replacement; commands that can run here succeed.
#[test]
fn old_flag_names_warn_and_still_work() {
    let lab = Lab::new();
    let p = |name: &str| lab.path(name);
    let cases: Vec<Case> = vec![
        (
            args(&["log", "init", &p("log2"), "--origin", "o.example/log"])
                .chain(args(&["--key-out", &p("log2.skey")]))
                .collect(),
            &[("key-out", "log-skey-out")],
            true,
        ),
        (
            args(&[
                "log",
                "witness",
                "init",
                "--state",
                &p("w2"),
                "--name",
                "w.example/2",
            ])
            .chain(args(&["--key-out", &p("w2.skey")]))
            .collect(),
            &[("state", "state-dir"), ("key-out", "witness-skey-out")],
            true,
        ),
        (
            args(&["log", "append", &p("log"), "--key", &p("log.skey")])
                .chain(args(&["--artifact", &p("artifact.txt")]))
                .collect(),
            &[("key", "log-skey")],
            true,
        ),
        (
            args(&[
                "log",
                "verify-checkpoint",
                &p("log"),
                "--log-key",
                &p("log/log.vkey"),
            ])
            .collect(),
            &[("log-key", "log-vkey")],
            true,
        ),
        (
            args(&["log", "audit", &p("log"), "--log-key", &p("log/log.vkey")])
                .chain([format!("--state={}", p("monitor.state"))])
                .collect(),
            &[("log-key", "log-vkey"), ("state", "state-file")],
            true,
        ),
        (
            args(&["log", "cosign", &p("log"), "--key", &p("log.skey")])
                .chain(args(&["--witness", "http://127.0.0.1:9"]))
                .chain(args(&["--witness-key", &p("witness/witness.vkey")]))
                .collect(),
            &[
                ("key", "log-skey"),
                ("witness", "witness-url"),
                ("witness-key", "witness-vkey"),
            ],
            false,
        ),
        (
            args(&["log", "witness", "add-checkpoint", "--state", &p("witness")])
                .chain(args(&["--key", &p("witness.skey"), "--log-key"]))
                .chain(args(&[&p("log/log.vkey"), "--request", &p("missing")]))
                .collect(),
            &[
                ("state", "state-dir"),
                ("key", "witness-skey"),
                ("log-key", "log-vkey"),
            ],
            false,
        ),
        (
            args(&["ca", "leaf", "--issuer-cert", &p("missing.pem")])
                .chain(args(&[
                    "--issuer-key",
                    "pkcs11:object=d",
                    "--subject",
                    "CN=x",
                ]))
                .chain(args(&[
                    "--subject-key",
                    "pkcs11:object=l",
                    "--out",
                    &p("l.pem"),
                ]))
                .chain(args(&["--log", &p("log"), "--log-key", &p("log.skey")]))
                .chain(args(&["--witness", "http://127.0.0.1:9"]))
                .chain(args(&["--witness-key", &p("witness/witness.vkey")]))
                .collect(),
            &[
                ("log-key", "log-skey"),
                ("witness", "witness-url"),
                ("witness-key", "witness-vkey"),
            ],
            false,
        ),
        (
            args(&[
                "ceremony",
                "prepare",
                &p("missing.toml"),
                "--state",
                &p("st"),
            ])
            .collect(),
            &[("state", "state-dir")],
            false,
        ),
        (
            args(&["ceremony", "execute", &p("missing.toml"), "--out", &p("o")])
                .chain(args(&["--state", &p("st"), "--log", &p("log")]))
                .chain(args(&["--log-key", &p("log.skey")]))
                .collect(),
            &[("state", "state-dir"), ("log-key", "log-skey")],
            false,
        ),
        (
            args(&["ceremony", "due", "--state", &p("missing")]).collect(),
            &[("state", "state-dir")],
            false,
        ),
        (
            args(&["verify", "--root", &p("r.pem"), "--bundle", &p("b.bundle")])
                .chain(args(&["--log-key", &p("log/log.vkey"), "--witness"]))
                .chain(args(&[&p("witness/witness.vkey"), "--purpose", "releases"]))
                .collect(),
            &[("log-key", "log-vkey"), ("witness", "witness-vkey")],
            false,
        ),
    ];
    for (argv, renames, succeeds) in cases {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = lab.run(&argv);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.success(), succeeds, "{argv:?}: {stderr}");
        assert!(
            !stderr.contains("unexpected argument"),
            "{argv:?}: {stderr}"
        );
        let expected: String = renames.iter().map(|(o, n)| warning(o, n)).collect();
        assert!(stderr.starts_with(&expected), "{argv:?}: {stderr}");
        assert_eq!(
            stderr.matches("deprecated").count(),
            renames.len(),
            "{stderr}"
        );
    }
}

fn args<'a>(list: &'a [&'a str]) -> impl Iterator<Item = String> + 'a {
    list.iter().map(|s| (*s).to_owned())
}

/// The new names run the same commands without any warning.
#[test]
fn new_flag_names_work_without_warning() {
    let lab = Lab::new();
    let p = |name: &str| lab.path(name);
    lab.ok(&[
        "log",
        "append",
        &p("log"),
        "--log-skey",
        &p("log.skey"),
        "--artifact",
        &p("artifact.txt"),
    ]);
    lab.ok(&[
        "log",
        "verify-checkpoint",
        &p("log"),
        "--log-vkey",
        &p("log/log.vkey"),
    ]);
    lab.ok(&[
        "log",
        "audit",
        &p("log"),
        "--log-vkey",
        &p("log/log.vkey"),
        "--state-file",
        &p("monitor.state"),
    ]);
    assert!(Path::new(&p("monitor.state")).is_file());
    lab.ok(&[
        "log",
        "publish",
        &p("log"),
        "--log-vkey",
        &p("log/log.vkey"),
    ]);
    // The help shows only the new names.
    for command in [
        &["log", "cosign"][..],
        &["log", "audit"],
        &["ca", "leaf"],
        &["ceremony", "execute"],
        &["verify"],
    ] {
        let help = text(&lab.run(&[command, &["--help"]].concat()).stdout);
        for old in [
            "--log-key ",
            "--witness-key ",
            "--witness ",
            "--state ",
            "--key ",
        ] {
            assert!(
                !help.contains(old),
                "{command:?} --help shows {old}: {help}"
            );
        }
    }
}

const SECRET_REFUSED: &str = "keep the secret key out of CI";

/// A secret signer key where a verifier key belongs is refused naming the file and the
/// mistake, and its material is never printed.
#[test]
fn secret_key_as_public_key_is_refused() {
    let lab = Lab::new();
    let p = |name: &str| lab.path(name);
    let skey = std::fs::read_to_string(p("log.skey")).unwrap();
    // PRIVATE+KEY+<name>+<key hash>+<base64 key>: the base64 itself may hold `+`, so the
    // material is everything after the fourth `+` (a short tail after its last `+` could
    // appear in any message by chance).
    let material = skey.trim_end().splitn(5, '+').nth(4).unwrap().to_owned();
    assert!(material.len() > 40, "{material}");
    let cases: Vec<Vec<String>> = vec![
        args(&[
            "log",
            "verify-checkpoint",
            &p("log"),
            "--log-vkey",
            &p("log.skey"),
        ])
        .collect(),
        args(&["log", "audit", &p("log"), "--log-vkey", &p("log.skey")]).collect(),
        args(&["log", "publish", &p("log"), "--log-vkey", &p("log.skey")]).collect(),
        args(&[
            "log",
            "witness",
            "add-checkpoint",
            "--state-dir",
            &p("witness"),
        ])
        .chain(args(&["--witness-skey", &p("witness.skey")]))
        .chain(args(&["--log-vkey", &p("log.skey"), "--request", &p("x")]))
        .collect(),
        args(&["log", "cosign", &p("log"), "--log-skey", &p("log.skey")])
            .chain(args(&["--witness-url", "http://127.0.0.1:9"]))
            .chain(args(&["--witness-vkey", &p("witness.skey")]))
            .collect(),
    ];
    for argv in cases {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = lab.run(&argv);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{argv:?}");
        assert!(stderr.contains(SECRET_REFUSED), "{argv:?}: {stderr}");
        assert!(stderr.contains(".skey"), "names the file: {stderr}");
        assert!(!stderr.contains(&material), "{stderr}");
    }
}

/// The opposite mistake: a verifier key where the secret signer key belongs.
#[test]
fn public_key_as_secret_key_is_refused() {
    let lab = Lab::new();
    let p = |name: &str| lab.path(name);
    let vkey: PathBuf = lab.dir.path().join("log/log.vkey");
    let vkey = vkey.display().to_string();
    for argv in [
        vec![
            "log",
            "append",
            &p("log"),
            "--log-skey",
            &vkey,
            "--artifact",
            &p("artifact.txt"),
        ],
        vec![
            "log",
            "cosign",
            &p("log"),
            "--log-skey",
            &vkey,
            "--witness-url",
            "http://127.0.0.1:9",
        ]
        .into_iter()
        .chain(["--witness-vkey", &p("witness/witness.vkey")])
        .collect(),
    ] {
        let out = lab.run(&argv);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{argv:?}");
        assert!(
            stderr.contains("this is a public verifier key (vkey), not a secret signer key"),
            "{argv:?}: {stderr}"
        );
    }
}
