//! Kill a writer at each step of every durable operation and check what a reader finds:
//! the old contents or the complete new ones, never a torn file, and a rerun that works.
//!
//! Each case re-runs this test binary as a child (`child_writer`) that performs one
//! operation with `RUST_PKI_FS_FAULT` set, so it aborts exactly at the named step.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::{
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::Command,
};

use rust_pki_fs::durable::{self, Mode};

const CHILD_ENV: &str = "RUST_PKI_FS_CRASH_CHILD";
const OLD: &[u8] = b"old contents";
const SIGABRT: i32 = 6;

/// The writer half: does nothing unless a test below started it.
#[test]
fn child_writer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (operation, dir) = spec.split_once(':').unwrap();
    let dir = Path::new(dir);
    let out = dir.join("out");
    match operation {
        "create-new" => durable::create_new(&out, &new_contents(0), Mode::Public),
        "replace" => durable::replace(&out, &new_contents(0)),
        "replace-all" => durable::replace_all(&files(dir)),
        "create-new-all" => durable::create_new_all(&files(dir), Mode::Public),
        "replace-loop" => (1..).try_for_each(|round| durable::replace(&out, &new_contents(round))),
        other => panic!("unknown operation {other}"),
    }
    .unwrap();
}

/// A large file, so that a torn write would show.
fn new_contents(round: u32) -> Vec<u8> {
    let mut data = round.to_be_bytes().repeat(256 * 1024);
    data.extend_from_slice(b"end");
    data
}

fn is_complete_version(data: &[u8]) -> bool {
    data.len() == 1024 * 1024 + 3
        && data.ends_with(b"end")
        && data[..1024 * 1024].chunks(4).all(|c| c == &data[..4])
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    (0..5)
        .map(|i| (dir.join(format!("tiles/{i}")), new_contents(i)))
        .collect()
}

fn run_child(operation: &str, dir: &Path, fault: Option<&str>) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{operation}:{}", dir.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match fault {
        Some(step) => command.env("RUST_PKI_FS_FAULT", step),
        None => command.env_remove("RUST_PKI_FS_FAULT"),
    };
    command.spawn().unwrap()
}

fn crash_at(operation: &str, dir: &Path, step: &str) {
    let status = run_child(operation, dir, Some(step)).wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(SIGABRT),
        "{step}: the writer must abort there"
    );
}

fn rerun_succeeds(operation: &str, dir: &Path) -> bool {
    run_child(operation, dir, None).wait().unwrap().success()
}

#[test]
fn create_new_killed_before_the_link_leaves_no_file_and_a_rerun_works() {
    let dir = tempfile::tempdir().unwrap();
    crash_at("create-new", dir.path(), "create-new:after-temporary");
    assert!(!dir.path().join("out").exists());
    assert!(rerun_succeeds("create-new", dir.path()));
    assert!(is_complete_version(
        &std::fs::read(dir.path().join("out")).unwrap()
    ));
}

#[test]
fn create_new_killed_after_the_link_leaves_the_complete_file() {
    let dir = tempfile::tempdir().unwrap();
    crash_at("create-new", dir.path(), "create-new:after-link");
    assert!(is_complete_version(
        &std::fs::read(dir.path().join("out")).unwrap()
    ));
    // It is an output now: a rerun refuses to overwrite it.
    assert!(!rerun_succeeds("create-new", dir.path()));
}

#[test]
fn replace_killed_at_each_step_leaves_old_or_new() {
    for (step, expect_new) in [
        ("replace:after-temporary", false),
        ("replace:after-rename", true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::write(&out, OLD).unwrap();
        crash_at("replace", dir.path(), step);
        let found = std::fs::read(&out).unwrap();
        if expect_new {
            assert!(is_complete_version(&found), "{step}");
        } else {
            assert_eq!(found, OLD, "{step}");
        }
        assert!(rerun_succeeds("replace", dir.path()));
        assert!(is_complete_version(&std::fs::read(&out).unwrap()));
    }
}

#[test]
fn create_new_all_killed_before_the_links_leaves_no_file_and_a_rerun_works() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tiles")).unwrap();
    crash_at("create-new-all", dir.path(), "create-new-all:after-sync");
    for (path, _) in files(dir.path()) {
        assert!(!path.exists(), "{}", path.display());
    }
    assert!(rerun_succeeds("create-new-all", dir.path()));
    for (path, data) in files(dir.path()) {
        assert_eq!(std::fs::read(&path).unwrap(), data, "{}", path.display());
    }
    // They are outputs now: another run refuses, and changes none of them.
    assert!(!rerun_succeeds("create-new-all", dir.path()));
    for (path, data) in files(dir.path()) {
        assert_eq!(std::fs::read(&path).unwrap(), data, "{}", path.display());
    }
    // Killed after the links (before the directory fsync): every file complete.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tiles")).unwrap();
    crash_at("create-new-all", dir.path(), "create-new-all:after-links");
    for (path, data) in files(dir.path()) {
        assert_eq!(std::fs::read(&path).unwrap(), data, "{}", path.display());
    }
}

#[test]
fn replace_all_killed_before_the_renames_changes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    for (path, _) in files(dir.path()) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, OLD).unwrap();
    }
    crash_at("replace-all", dir.path(), "replace-all:after-temporaries");
    for (path, _) in files(dir.path()) {
        assert_eq!(std::fs::read(&path).unwrap(), OLD, "{}", path.display());
    }
    crash_at("replace-all", dir.path(), "replace-all:after-renames");
    for (path, data) in files(dir.path()) {
        assert_eq!(std::fs::read(&path).unwrap(), data, "{}", path.display());
    }
}

#[test]
fn sigkill_at_random_moments_never_tears_a_replaced_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    durable::replace(&out, &new_contents(0)).unwrap();
    for delay_ms in [5, 13, 29, 41, 67, 83, 101, 149] {
        let mut child = run_child("replace-loop", dir.path(), None);
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let found = std::fs::read(&out).unwrap();
        assert!(is_complete_version(&found), "torn after {delay_ms} ms");
    }
}
