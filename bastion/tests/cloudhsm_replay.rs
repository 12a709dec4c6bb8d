//! CloudHSMv2 through the SDK's replay client: each scenario's calls and AWS's answers are
//! in tests/fixtures/cloudhsm/<scenario>/events.json (written from the API reference), and
//! each test checks the requests we sent — operation and JSON body — not only what we made
//! of the answers.
#![cfg(feature = "aws")]
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudhsmv2::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_runtime::client::http::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use rust_pki_bastion::Error;
use rust_pki_bastion::aws::{Aws, retry_config};
use rust_pki_bastion::names::Names;
use rust_pki_bastion::plan::{self, Step};
use rust_pki_bastion::settings::Settings;
use rust_pki_bastion::state::{Instance, Subnet};
use serde_json::Value;
use time::OffsetDateTime;

/// One call of a scenario.
struct Event {
    operation: String,
    request: Value,
}

fn fixture_dir(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloudhsm")
        .join(scenario)
}

/// Replaces `"@file:NAME"` strings by the contents of NAME in `dir`.
fn resolve_files(value: &mut Value, dir: &Path) {
    match value {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("@file:") {
                *s = std::fs::read_to_string(dir.join(name)).unwrap();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_files(v, dir)),
        Value::Object(map) => map.values_mut().for_each(|v| resolve_files(v, dir)),
        _ => {}
    }
}

/// The scenario's events and a replay client answering them in order.
fn load(scenario: &str) -> (Vec<Event>, StaticReplayClient) {
    let dir = fixture_dir(scenario);
    let text = std::fs::read_to_string(dir.join("events.json")).unwrap();
    let mut events: Value = serde_json::from_str(&text).unwrap();
    resolve_files(&mut events, &dir);
    let mut expected = Vec::new();
    let mut replay = Vec::new();
    for e in events.as_array().unwrap() {
        let operation = e["operation"].as_str().unwrap().to_owned();
        let request = http::Request::builder()
            .uri("https://cloudhsmv2.us-east-1.amazonaws.com/")
            .header("x-amz-target", format!("BaldrApiService.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(e["request"].to_string()))
            .unwrap();
        let response = http::Response::builder()
            .status(u16::try_from(e["status"].as_u64().unwrap()).unwrap())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amzn-requestid", format!("req-{}", expected.len()))
            .body(SdkBody::from(e["response"].to_string()))
            .unwrap();
        replay.push(ReplayEvent::new(request, response));
        expected.push(Event {
            operation,
            request: e["request"].clone(),
        });
    }
    (expected, StaticReplayClient::new(replay))
}

fn sdk_config(http: StaticReplayClient, max_attempts: u32) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTESTING",
            "testing",
            None,
            None,
            "tests",
        )))
        .http_client(http)
        .retry_config(retry_config(max_attempts).with_initial_backoff(Duration::from_millis(5)))
        .build()
}

/// Clients whose CloudHSMv2 calls are answered by `replay`; EC2 must not be called.
fn aws(replay: &StaticReplayClient, max_attempts: u32) -> Aws {
    let hsm = sdk_config(replay.clone(), max_attempts);
    let ec2 = sdk_config(StaticReplayClient::new(vec![]), 1);
    Aws::with_configs(Names::load().unwrap(), &hsm, &ec2).unwrap()
}

/// Asserts that exactly the scenario's requests were sent: operation header and JSON body.
fn assert_sent(replay: &StaticReplayClient, expected: &[Event]) {
    let actual: Vec<_> = replay.actual_requests().collect();
    let ops: Vec<_> = actual
        .iter()
        .map(|r| r.headers().get("x-amz-target").unwrap_or("-").to_owned())
        .collect();
    assert_eq!(
        actual.len(),
        expected.len(),
        "sent {ops:?}, expected {:?}",
        expected.iter().map(|e| &e.operation).collect::<Vec<_>>()
    );
    for (i, (request, event)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(
            request.headers().get("x-amz-target"),
            Some(format!("BaldrApiService.{}", event.operation).as_str()),
            "request {i}"
        );
        let body: Value = serde_json::from_slice(request.body().bytes().unwrap()).unwrap();
        assert_eq!(
            body, event.request,
            "request {i} ({}) body",
            event.operation
        );
    }
}

fn settings(timeout: u64) -> Settings {
    let text = format!(
        "region = \"us-east-1\"\ndr_region = \"us-west-2\"\nbackup_retention_days = 90\n\
         hsm_host_number = 10\nhsm_wait_timeout_seconds = {timeout}\n\
         hsm_poll_interval_seconds = 1\nmax_attempts = 3\n"
    );
    Settings::parse(&text, Path::new("test-aws.toml")).unwrap()
}

/// What DescribeSubnets says of the fixtures' subnets.
fn subnets() -> Vec<Subnet> {
    vec![
        Subnet {
            id: "subnet-0a1".to_owned(),
            cidr_block: "10.0.1.0/24".to_owned(),
        },
        Subnet {
            id: "subnet-0b1".to_owned(),
            cidr_block: "10.0.2.0/24".to_owned(),
        },
    ]
}

fn running_bastion() -> Instance {
    Instance {
        id: "i-0bastion".to_owned(),
        state: "running".to_owned(),
        availability_zone: "us-east-1a".to_owned(),
        private_ip: Some("10.0.0.5".to_owned()),
        launch_time: None,
    }
}

#[test]
fn up_on_cluster_without_hsm_creates_one_restoring_the_latest_backup() {
    let (expected, replay) = load("up-restores-latest-backup");
    let aws = aws(&replay, 3);
    let cluster = aws.cluster().unwrap();
    assert_eq!(
        cluster.id, "cluster-2tkysmfzvw5",
        "the tagged cluster, not the other"
    );
    let backups = aws.backups(&cluster.id).unwrap();
    let plan = plan::up(
        &settings(60),
        &cluster,
        &subnets(),
        &backups,
        &running_bastion(),
        false,
    )
    .unwrap();
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("restores its latest backup backup-latest000002")),
        "{:?}",
        plan.notes
    );
    assert!(
        matches!(&plan.steps[0], Step::CreateHsm { availability_zone, ip_address, .. }
            if availability_zone == "us-east-1a" && ip_address == "10.0.1.10")
    );
    let mut progress = Vec::new();
    let done = aws.execute(&plan, &mut progress).unwrap();
    assert_eq!(done.created, ["hsm-abcdefgh001"]);
    assert!(
        done.lines
            .iter()
            .any(|l| l.contains("ACTIVE in us-east-1a at 10.0.1.17"))
    );
    let progress = String::from_utf8(progress).unwrap();
    assert!(
        progress.contains("HSM hsm-abcdefgh001: CREATE_IN_PROGRESS"),
        "{progress}"
    );
    assert_sent(&replay, &expected);
}

#[test]
fn hsm_stuck_in_create_in_progress_times_out_naming_it() {
    let (expected, replay) = load("hsm-stuck-create-in-progress");
    let aws = aws(&replay, 3);
    let cluster = aws.cluster().unwrap();
    let backups = aws.backups(&cluster.id).unwrap();
    let plan = plan::up(
        &settings(1),
        &cluster,
        &subnets(),
        &backups,
        &running_bastion(),
        false,
    )
    .unwrap();
    assert!(
        !plan
            .steps
            .iter()
            .any(|s| matches!(s, Step::CreateHsm { .. })),
        "the HSM being created is reused: {:?}",
        plan.steps
    );
    let err = aws.execute(&plan, &mut std::io::sink()).unwrap_err();
    assert!(
        matches!(&err, Error::HsmTimeout { hsm_id, state, .. }
            if hsm_id == "hsm-stuck00000001" && state == "CREATE_IN_PROGRESS"),
        "{err}"
    );
    assert!(
        err.to_string().contains("hsm_wait_timeout_seconds"),
        "{err}"
    );
    assert_sent(&replay, &expected);
}

#[test]
fn down_without_backup_newer_than_the_ceremony_is_refused_and_deletes_nothing() {
    let (expected, replay) = load("down-refused-without-fresh-backup");
    let aws = aws(&replay, 3);
    let cluster = aws.cluster().unwrap();
    let backups = aws.backups(&cluster.id).unwrap();
    // The ceremony started after the READY backup; the newer one is not READY yet.
    let since = OffsetDateTime::from_unix_timestamp(1_795_050_000).unwrap();
    let err = plan::down(&cluster, &backups, &running_bastion(), since).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::NoFreshBackup(_)));
    assert!(text.contains("backup-beforecerem1"), "{text}");
    assert!(
        text.contains("added to or removed from an active cluster"),
        "{text}"
    );
    // Only the two Describe calls: no DeleteHsm was sent.
    assert_sent(&replay, &expected);
}

#[test]
fn down_with_fresh_backup_plans_delete_hsm_then_stop() {
    let (_, replay) = load("down-refused-without-fresh-backup");
    let aws = aws(&replay, 3);
    let cluster = aws.cluster().unwrap();
    let backups = aws.backups(&cluster.id).unwrap();
    let since = OffsetDateTime::from_unix_timestamp(1_794_000_000).unwrap();
    let plan = plan::down(&cluster, &backups, &running_bastion(), since).unwrap();
    assert_eq!(
        plan.steps,
        [
            Step::DeleteHsm {
                cluster_id: "cluster-2tkysmfzvw5".to_owned(),
                hsm_id: "hsm-ceremony00001".to_owned()
            },
            Step::StopInstance {
                instance_id: "i-0bastion".to_owned()
            }
        ]
    );
}

#[test]
fn initialize_cluster_sends_signed_cert_and_trust_anchor() {
    let (expected, replay) = load("initialize-cluster");
    let dir = fixture_dir("initialize-cluster");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let aws = aws(&replay, 3);
    let cluster = aws.cluster().unwrap();
    let csr = cluster.csr.clone().unwrap();
    let (cert, anchor) = (read("cluster-cert.pem"), read("root.pem"));
    rust_pki_bastion::cert::check_cluster_certificate(&csr, &cert, &anchor).unwrap();
    // The wrong anchor is caught before any call.
    let err = rust_pki_bastion::cert::check_cluster_certificate(&csr, &anchor, &anchor);
    assert!(err.is_err());
    let plan = plan::initialize(&cluster, &cert, &anchor).unwrap();
    let done = aws.execute(&plan, &mut std::io::sink()).unwrap();
    assert!(
        done.lines[0].contains("INITIALIZE_IN_PROGRESS"),
        "{:?}",
        done.lines
    );
    assert_sent(&replay, &expected);
}

#[test]
fn throttled_call_is_retried() {
    let (expected, replay) = load("throttling-retried");
    let aws = aws(&replay, 3);
    let cluster = aws.cluster().unwrap();
    assert_eq!(cluster.id, "cluster-2tkysmfzvw5");
    assert_sent(&replay, &expected);
}

#[test]
fn access_denied_names_operation_and_iam_action_and_is_not_retried() {
    let (expected, replay) = load("access-denied");
    let aws = aws(&replay, 3);
    let err = aws.cluster().unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, Error::AccessDenied { operation: "DescribeClusters", iam_action, .. }
            if iam_action == "cloudhsm:DescribeClusters"),
        "{text}"
    );
    assert!(
        text.contains("needs the IAM action cloudhsm:DescribeClusters"),
        "{text}"
    );
    assert_sent(&replay, &expected);
}

#[test]
fn backups_are_listed_newest_first_and_copied_to_the_dr_region() {
    let (expected, replay) = load("backups-copy-to-dr-region");
    let aws = aws(&replay, 3);
    let cluster = aws.cluster().unwrap();
    assert_eq!(
        cluster.backup_retention,
        Some(("DAYS".to_owned(), "90".to_owned()))
    );
    let backups = aws.backups(&cluster.id).unwrap();
    assert_eq!(backups[0].id, "backup-latest000002");
    // An id that is not a READY backup of the cluster is refused before any call.
    let names = Names::load().unwrap();
    let until = OffsetDateTime::from_unix_timestamp(1_804_291_200).unwrap();
    assert!(
        plan::copy_backup(
            &names,
            &cluster,
            &backups,
            "backup-nosuch",
            "us-west-2",
            until
        )
        .is_err()
    );
    let plan = plan::copy_backup(
        &names,
        &cluster,
        &backups,
        "backup-latest000002",
        "us-west-2",
        until,
    )
    .unwrap();
    let done = aws.execute(&plan, &mut std::io::sink()).unwrap();
    assert!(done.lines[0].contains("to us-west-2"), "{:?}", done.lines);
    assert_sent(&replay, &expected);
}

#[test]
fn up_right_after_down_waits_out_the_deleting_hsm_and_reuses_its_address() {
    let (expected, replay) = load("up-right-after-down");
    let aws = aws(&replay, 3);
    let cluster = aws.cluster().unwrap();
    let backups = aws.backups(&cluster.id).unwrap();
    let plan = plan::up(
        &settings(60),
        &cluster,
        &subnets(),
        &backups,
        &running_bastion(),
        false,
    )
    .unwrap();
    let mut progress = Vec::new();
    let done = aws.execute(&plan, &mut progress).unwrap();
    assert_eq!(done.created, ["hsm-new000000001"]);
    assert_eq!(
        done.lines,
        [
            "HSMs hsm-deleting00001 deleted",
            "created HSM hsm-new000000001 in us-east-1a at 10.0.1.10 (CREATE_IN_PROGRESS)",
            "HSM hsm-new000000001 ACTIVE in us-east-1a at 10.0.1.10",
        ]
    );
    let progress = String::from_utf8(progress).unwrap();
    assert!(
        progress.contains("HSM hsm-deleting00001: DELETE_IN_PROGRESS"),
        "{progress}"
    );
    assert_sent(&replay, &expected);
}

#[test]
fn prune_deletes_only_our_expired_tagged_copy_that_is_not_the_newest() {
    let (expected, replay) = load("prune-expired-copies");
    let aws = aws(&replay, 3);
    let copies = aws.copies("cluster-2tkysmfzvw5").unwrap();
    assert_eq!(copies.len(), 3, "the other cluster's copy is not ours");
    let now = OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap();
    let plan = plan::prune_copies(&Names::load().unwrap(), "cluster-2tkysmfzvw5", &copies, now);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("backup-untagged0001 is not tagged")),
        "{:?}",
        plan.notes
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("backup-copynewest01 expired") && n.contains("newest")),
        "{:?}",
        plan.notes
    );
    let done = aws.execute(&plan, &mut std::io::sink()).unwrap();
    assert_eq!(
        done.lines,
        ["deleted backup backup-copyexpired1 (PENDING_DELETION; restorable for 7 days)"]
    );
    assert_sent(&replay, &expected);
}
