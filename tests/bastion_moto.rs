//! `rust-pki bastion` end to end, never the network: EC2 is moto_server (.venv,
//! scripts/requirements.txt) on 127.0.0.1; CloudHSMv2, which moto does not implement far
//! enough, and EC2 Instance Connect, whose moto accepts any key without recording it, are a
//! strict fake in this process (found by the CLI through the standard
//! `AWS_ENDPOINT_URL_CLOUDHSM_V2` and `AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT` variables):
//! it records every request (region, operation, JSON body) so tests assert the whole list,
//! and answers an operation it does not model with HTTP 400 and an error body, as AWS
//! does, never with a 200 the SDK would read as success. The transparency log is a real
//! `rust-pki log init` log, read back with `rust-pki log audit --json`.
#![cfg(feature = "aws")]
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

const REGION: &str = "us-east-1";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn names() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join("terraform/names.json")).unwrap())
        .unwrap()
}

/// The binary under test. `RUST_PKI_TEST_BIN` overrides it: in a target directory shared
/// with builds without `--features aws`, cargo re-links target/debug/rust-pki to whichever
/// build ran last.
fn rust_pki() -> std::ffi::OsString {
    std::env::var_os("RUST_PKI_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_rust-pki").into())
}

/// moto_server on a free port, killed on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bin = repo().join(".venv/bin/moto_server");
        assert!(
            bin.exists(),
            "{} missing: run scripts/install-deps",
            bin.display()
        );
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let moto = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Runs boto3 (from the venv) against moto; returns stdout.
    fn python(&self, script: &str) -> String {
        let out = Command::new(repo().join(".venv/bin/python"))
            .args(["-c", script])
            .env("MOTO_URL", &self.url)
            .envs(aws_env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// A VPC, a subnet in us-east-1a and a stopped bastion tagged as names.json says;
    /// returns the instance id and the subnet id.
    fn bastion(&self) -> (String, String) {
        let n = names();
        let out = self.python(&format!(
            r#"
import boto3, os
ec2 = boto3.client("ec2", endpoint_url=os.environ["MOTO_URL"], region_name="{REGION}")
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
ami = ec2.describe_images()["Images"][0]["ImageId"]
# A decoy with another role must not be picked.
ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=subnet,
    TagSpecifications=[{{"ResourceType": "instance", "Tags": [{{"Key": "{key}", "Value": "other"}}]}}])
i = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=subnet,
    TagSpecifications=[{{"ResourceType": "instance", "Tags": [{{"Key": "{key}", "Value": "{role}"}}]}}])["Instances"][0]["InstanceId"]
ec2.stop_instances(InstanceIds=[i])
print(i, subnet)
"#,
            key = n["tag_key"].as_str().unwrap(),
            role = n["bastion_role"].as_str().unwrap(),
        ));
        let (instance, subnet) = out.split_once(' ').unwrap();
        (instance.to_owned(), subnet.to_owned())
    }

    fn state(&self, instance: &str) -> String {
        self.python(&format!(
            r#"
import boto3, os
ec2 = boto3.client("ec2", endpoint_url=os.environ["MOTO_URL"], region_name="{REGION}")
print(ec2.describe_instances(InstanceIds=["{instance}"])["Reservations"][0]["Instances"][0]["State"]["Name"])
"#
        ))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    /// From the SigV4 credential scope.
    region: String,
    /// `X-Amz-Target` without the service prefix, e.g. `CreateHsm`.
    operation: String,
    body: Value,
}

/// What the fake holds.
#[derive(Default)]
struct FakeState {
    /// The moto subnet the cluster maps us-east-1a to.
    subnet: String,
    hsms: Vec<String>,
    /// Create time (epoch seconds) of the one READY backup.
    backup_time: f64,
    /// Copies in the DR region: (id, TagList).
    copies: Vec<(String, Value)>,
    /// CreateHsm fails (as when the fixed address is still taken).
    fail_create_hsm: bool,
    calls: Vec<Call>,
}

/// CloudHSMv2 and EC2 Instance Connect (JSON 1.1) with one ACTIVE, tagged cluster in
/// us-east-1; HSMs become ACTIVE at once.
struct Fake {
    url: String,
    state: Arc<Mutex<FakeState>>,
    server: Arc<tiny_http::Server>,
}

impl Fake {
    fn start(subnet: &str) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let state = Arc::new(Mutex::new(FakeState {
            subnet: subnet.to_owned(),
            backup_time: 1_700_000_000.0,
            ..FakeState::default()
        }));
        let (s, st) = (server.clone(), state.clone());
        std::thread::spawn(move || {
            for mut request in s.incoming_requests() {
                let header = |name: &'static str| {
                    request
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv(name))
                        .map(|h| h.value.to_string())
                        .unwrap_or_default()
                };
                let target = header("X-Amz-Target");
                // "AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ..."
                let region = header("Authorization")
                    .split('/')
                    .nth(2)
                    .unwrap_or("-")
                    .to_owned();
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
                let (status, reply) = Self::answer(&st, &region, &operation, &body);
                st.lock().unwrap().calls.push(Call {
                    region,
                    operation,
                    body,
                });
                let header =
                    tiny_http::Header::from_bytes("Content-Type", "application/x-amz-json-1.1")
                        .unwrap();
                let _ = request.respond(
                    tiny_http::Response::from_string(reply.to_string())
                        .with_status_code(status)
                        .with_header(header),
                );
            }
        });
        Self { url, state, server }
    }

    fn answer(state: &Mutex<FakeState>, region: &str, op: &str, body: &Value) -> (u16, Value) {
        let mut st = state.lock().unwrap();
        let n = names();
        let primary = region == REGION;
        let error =
            |kind: &str, message: String| (400, json!({"__type": kind, "message": message}));
        match op {
            // The cluster exists in the primary region only.
            "DescribeClusters" if !primary => (200, json!({"Clusters": []})),
            "DescribeClusters" => (
                200,
                json!({"Clusters": [{
                "ClusterId": "cluster-fake00001", "State": "ACTIVE",
                "SubnetMapping": {"us-east-1a": st.subnet},
                "BackupRetentionPolicy": {"Type": "DAYS", "Value": "90"},
                "Hsms": st.hsms.iter().map(|id| json!({"HsmId": id, "AvailabilityZone": "us-east-1a",
                    "State": "ACTIVE", "EniIp": "10.0.0.10"})).collect::<Vec<_>>(),
                "TagList": [{"Key": n["tag_key"], "Value": n["cluster_role"]}]}]}),
            ),
            "DescribeBackups" if primary => (
                200,
                json!({"Backups": [{"BackupId": "backup-fake00001",
                "BackupState": "READY", "ClusterId": "cluster-fake00001",
                "CreateTimestamp": st.backup_time}]}),
            ),
            // Copies in the order made, each a second newer than the last.
            "DescribeBackups" => (
                200,
                json!({"Backups": st.copies.iter().zip(0u32..).map(|((id, tags), i)| json!({
                "BackupId": id, "BackupState": "READY", "CreateTimestamp": 1_700_000_100.0 + f64::from(i),
                "SourceCluster": "cluster-fake00001", "SourceRegion": REGION,
                "TagList": tags})).collect::<Vec<_>>()}),
            ),
            "CopyBackupToRegion" if primary => {
                let id = format!("backup-copy{:05}", st.copies.len() + 1);
                st.copies.push((id, body["TagList"].clone()));
                (
                    200,
                    json!({"DestinationBackup": {"CreateTimestamp": 1_700_000_100.0,
                    "SourceBackup": body["BackupId"], "SourceCluster": "cluster-fake00001",
                    "SourceRegion": REGION}}),
                )
            }
            "DeleteBackup" if !primary => {
                let id = body["BackupId"].as_str().unwrap_or_default().to_owned();
                st.copies.retain(|(c, _)| *c != id);
                (
                    200,
                    json!({"Backup": {"BackupId": id, "BackupState": "PENDING_DELETION"}}),
                )
            }
            "CreateHsm" if st.fail_create_hsm => error(
                "CloudHsmInvalidRequestException",
                format!("The IP address {} is in use", body["IpAddress"]),
            ),
            "CreateHsm" if primary => {
                let id = format!("hsm-fake{:05}", st.hsms.len() + 1);
                st.hsms.push(id.clone());
                (
                    200,
                    json!({"Hsm": {"HsmId": id, "ClusterId": body["ClusterId"],
                    "AvailabilityZone": body["AvailabilityZone"], "State": "CREATE_IN_PROGRESS"}}),
                )
            }
            "DeleteHsm" if primary => {
                let id = body["HsmId"].as_str().unwrap_or_default().to_owned();
                st.hsms.retain(|h| *h != id);
                (200, json!({"HsmId": id}))
            }
            "SendSSHPublicKey" => (200, json!({"RequestId": "req-admit", "Success": true})),
            other => error(
                "UnknownOperationException",
                format!("the fake does not model {other} in {region}"),
            ),
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    /// The operations received since the last call, as `region operation`.
    fn take_operations(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().calls)
            .into_iter()
            .map(|c| format!("{} {}", c.region, c.operation))
            .collect()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// Static test credentials, no profile files, nothing from the instance metadata service.
fn aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

struct Env {
    moto: Moto,
    fake: Fake,
    tmp: tempfile::TempDir,
    instance: String,
}

impl Env {
    fn new() -> Self {
        let moto = Moto::start();
        let (instance, subnet) = moto.bastion();
        let env = Self {
            moto,
            fake: Fake::start(&subnet),
            tmp: tempfile::tempdir().unwrap(),
            instance,
        };
        let dir = env.log_dir();
        let key = env.log_key();
        let out = env.run(&[
            "log",
            "init",
            dir.to_str().unwrap(),
            "--origin",
            "bastion.test/log",
            "--log-skey-out",
            key.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        env
    }

    fn log_dir(&self) -> PathBuf {
        self.tmp.path().join("log")
    }

    fn log_key(&self) -> PathBuf {
        self.tmp.path().join("log.skey")
    }

    fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        Command::new(rust_pki())
            .args(args)
            .current_dir(repo())
            .env_remove("AWS_PROFILE")
            .envs(aws_env())
            .env("AWS_ENDPOINT_URL", &self.moto.url)
            .env("AWS_ENDPOINT_URL_CLOUDHSM_V2", &self.fake.url)
            .env("AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT", &self.fake.url)
            .output()
            .unwrap()
    }

    /// `rust-pki bastion ARGS` (with --log unless `dry`), asserting success; stdout.
    fn bastion(&self, args: &[&str], logged: bool) -> String {
        let out = self.run(&self.bastion_args(args, logged));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "bastion {args:?}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn bastion_fails(&self, args: &[&str], logged: bool) -> String {
        let out = self.run(&self.bastion_args(args, logged));
        assert!(!out.status.success(), "bastion {args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn bastion_args(&self, args: &[&str], logged: bool) -> Vec<String> {
        let mut all = vec!["bastion".to_owned()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        if logged {
            all.extend([
                "--log".to_owned(),
                self.log_dir().display().to_string(),
                "--log-skey".to_owned(),
                self.log_key().display().to_string(),
            ]);
        }
        all
    }

    /// The bastion events of the log.
    fn events(&self) -> Vec<Value> {
        let dir = self.log_dir();
        let vkey = dir.join("log.vkey");
        let out = self.run(&[
            "log",
            "audit",
            dir.to_str().unwrap(),
            "--log-vkey",
            vkey.to_str().unwrap(),
            "--json",
        ]);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        // The envelope (docs/cli-json.md): the report is its result.
        report["result"]["bastion_events"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// The roster's OpenSSH key of `member` (policy/roster.toml), as kind and base64 blob.
fn roster_key(member: &str) -> String {
    let roster: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo().join("policy/roster.toml")).unwrap())
            .unwrap();
    let key = roster["member"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"].as_str() == Some(member))
        .unwrap()["ssh_key"]
        .as_str()
        .unwrap();
    key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

#[test]
fn dry_run_prints_the_calls_and_changes_nothing() {
    let env = Env::new();
    let out = env.bastion(&["status"], false);
    assert!(out.contains("cluster  cluster-fake00001 ACTIVE"), "{out}");
    assert!(out.contains("HSMs     none"), "{out}");
    assert!(out.contains("backup   backup-fake00001 READY"), "{out}");
    assert!(
        out.contains(&format!("bastion  {} stopped us-east-1a", env.instance)),
        "the tagged instance, not the decoy: {out}"
    );
    let out = env.bastion(&["backups"], false);
    assert!(
        out.contains("retention: cluster 90 DAYS; policy/aws.toml 90 DAYS\n"),
        "{out}"
    );
    assert!(out.contains("copies in us-west-2:"), "{out}");

    let out = env.bastion(&["up", "--dry-run"], false);
    assert!(
        out.contains(&format!(
            "would call: ec2:StartInstances InstanceIds={}",
            env.instance
        )),
        "{out}"
    );
    // The zone from the cluster's SubnetMapping, the address host 10 (policy/aws.toml
    // hsm_host_number) of that subnet's 10.0.0.0/24.
    assert!(
        out.contains(
            "would call: cloudhsm:CreateHsm ClusterId=cluster-fake00001 AvailabilityZone=us-east-1a \
             IpAddress=10.0.0.10"
        ),
        "{out}"
    );
    assert!(
        out.contains("backup-fake00001"),
        "the restored backup is named: {out}"
    );
    assert_eq!(env.moto.state(&env.instance), "stopped");
    assert_eq!(
        env.fake.take_operations(),
        [
            // status
            "us-east-1 DescribeClusters",
            "us-east-1 DescribeBackups",
            // backups: the cluster in the primary region, the copies in the DR region
            "us-east-1 DescribeClusters",
            "us-east-1 DescribeBackups",
            "us-west-2 DescribeBackups",
            // up --dry-run: observe only
            "us-east-1 DescribeClusters",
            "us-east-1 DescribeBackups",
        ]
    );
    assert!(env.events().is_empty());
}

#[test]
fn up_admit_down_drive_the_instance_and_log_each_event() {
    let env = Env::new();
    assert!(
        env.bastion_fails(&["up"], false).contains("--log DIR"),
        "up without a log is refused"
    );
    env.fake.take_operations();
    let out = env.bastion(&["up"], true);
    assert!(out.contains("HSM hsm-fake00001 ACTIVE"), "{out}");
    assert!(out.contains("next: `rust-pki bastion admit"), "{out}");
    assert_eq!(env.moto.state(&env.instance), "running");
    let calls = env.fake.calls();
    let create = calls.iter().find(|c| c.operation == "CreateHsm").unwrap();
    assert_eq!(
        create.body,
        json!({"ClusterId": "cluster-fake00001", "AvailabilityZone": "us-east-1a",
               "IpAddress": "10.0.0.10"})
    );
    assert_eq!(
        env.fake.take_operations(),
        [
            "us-east-1 DescribeClusters",
            "us-east-1 DescribeBackups",
            "us-east-1 CreateHsm",
            "us-east-1 DescribeClusters",
        ]
    );

    let out = env.bastion(&["admit", "placeholder-1", "placeholder-2"], true);
    assert!(out.contains("admitted placeholder-1 as ceremony@"), "{out}");
    assert!(out.contains("admitted placeholder-2 as ceremony@"), "{out}");
    // Which key went where, for which OS user: the IAM condition of terraform/iam.tf
    // (ec2:osuser = bastion_os_user) depends on the user.
    let pushed: Vec<Value> = env
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.operation == "SendSSHPublicKey")
        .map(|c| c.body)
        .collect();
    assert_eq!(pushed.len(), 2, "{pushed:?}");
    for (body, member) in pushed.iter().zip(["placeholder-1", "placeholder-2"]) {
        assert_eq!(body["InstanceId"], json!(env.instance));
        assert_eq!(body["InstanceOSUser"], names()["bastion_os_user"]);
        assert_eq!(body["AvailabilityZone"], json!("us-east-1a"));
        let key = body["SSHPublicKey"].as_str().unwrap();
        assert!(
            key.starts_with(&roster_key(member)),
            "{member}'s roster key, got {key}"
        );
    }
    assert_ne!(roster_key("placeholder-1"), roster_key("placeholder-2"));
    let err = env.bastion_fails(&["admit", "placeholder-1", "mallory"], true);
    assert!(
        err.contains("mallory is not a member of the roster"),
        "{err}"
    );
    env.fake.take_operations();

    // The only READY backup predates the ceremony: refused, nothing deleted or stopped.
    let err = env.bastion_fails(&["down"], true);
    assert!(err.contains("refusing to delete the HSMs"), "{err}");
    assert_eq!(env.moto.state(&env.instance), "running");
    assert_eq!(
        env.fake.take_operations(),
        ["us-east-1 DescribeClusters", "us-east-1 DescribeBackups"]
    );

    // CloudHSM backs the cluster up (e.g. after an HSM was added): now down proceeds.
    env.fake.state.lock().unwrap().backup_time = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + 5.0;
    let out = env.bastion(&["down"], true);
    assert!(out.contains("deleting HSM hsm-fake00001"), "{out}");
    assert_eq!(env.moto.state(&env.instance), "stopped");
    assert_eq!(
        env.fake.take_operations(),
        [
            "us-east-1 DescribeClusters",
            "us-east-1 DescribeBackups",
            "us-east-1 DeleteHsm",
        ]
    );

    let events = env.events();
    let actions: Vec<_> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["up", "admit", "down"], "{events:?}");
    assert_eq!(
        events[1]["members"],
        json!(["placeholder-1", "placeholder-2"])
    );
    let up_resources = events[0]["resources"].to_string();
    assert!(up_resources.contains(&env.instance), "{up_resources}");
    assert!(up_resources.contains("hsm-fake00001"), "{up_resources}");
    assert!(events[2]["resources"].to_string().contains("hsm-fake00001"));
}

#[test]
fn a_failing_call_is_logged_as_action_failed() {
    let env = Env::new();
    env.fake.state.lock().unwrap().fail_create_hsm = true;
    let err = env.bastion_fails(&["up"], true);
    assert!(
        err.contains("CreateHsm") && err.contains("The IP address \"10.0.0.10\" is in use"),
        "{err}"
    );
    // StartInstances ran before CreateHsm failed: AWS was touched, so it is logged.
    assert_eq!(env.moto.state(&env.instance), "running");
    let events = env.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["action"], json!("up-failed"));
    let resources = events[0]["resources"].to_string();
    assert!(resources.contains(&env.instance), "{resources}");
    assert!(resources.contains("cluster-fake00001"), "{resources}");
}

#[test]
fn the_fake_refuses_what_it_does_not_model() {
    // An unmodelled call must fail loudly (HTTP 400 with an error body), or a test could
    // pass on an empty "success".
    let env = Env::new();
    let address = env.fake.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    use std::io::{Read as _, Write as _};
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {address}\r\nX-Amz-Target: BaldrApiService.RestoreBackup\r\n\
         Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(
        reply.contains(r#""__type":"UnknownOperationException""#),
        "{reply}"
    );
}

#[test]
fn backups_find_the_cluster_in_the_primary_region_and_copies_are_tagged_and_pruned() {
    let env = Env::new();
    // --region names the DR region: the cluster is still looked up in us-east-1.
    let out = env.bastion(
        &[
            "--region",
            "us-west-2",
            "backups",
            "copy",
            "backup-fake00001",
        ],
        false,
    );
    assert!(out.contains("calling: cloudhsm:CopyBackupToRegion BackupId=backup-fake00001 DestinationRegion=us-west-2 TagList=rust-pki:role=root-hsm-backup-copy,rust-pki:retain-until="), "{out}");
    let calls = env.fake.calls();
    let copy = calls
        .iter()
        .find(|c| c.operation == "CopyBackupToRegion")
        .unwrap();
    assert_eq!(copy.region, "us-east-1");
    assert_eq!(
        copy.body["TagList"][0],
        json!({"Key": "rust-pki:role", "Value": "root-hsm-backup-copy"})
    );
    assert_eq!(
        env.fake.take_operations(),
        [
            "us-east-1 DescribeClusters",
            "us-east-1 DescribeBackups",
            "us-east-1 CopyBackupToRegion",
        ]
    );
    let out = env.bastion(&["backups"], false);
    assert!(out.contains("backup-copy00001"), "{out}");
    // Not expired yet (90 days): prune deletes nothing.
    let out = env.bastion(&["backups", "prune"], true);
    assert!(out.contains("nothing to do"), "{out}");
    // Two expired copies: the older goes, the newest stays.
    {
        let mut st = env.fake.state.lock().unwrap();
        let tags = json!([{"Key": "rust-pki:role", "Value": "root-hsm-backup-copy"},
                          {"Key": "rust-pki:retain-until", "Value": "2020-01-01T00:00:00Z"}]);
        st.copies = vec![
            ("backup-copyold".to_owned(), tags.clone()),
            ("backup-copynew".to_owned(), tags),
        ];
    }
    env.fake.take_operations();
    let out = env.bastion(&["backups", "prune"], true);
    assert!(out.contains("deleted backup backup-copyold"), "{out}");
    assert_eq!(
        env.fake.take_operations(),
        [
            "us-east-1 DescribeClusters",
            "us-east-1 DescribeBackups",
            "us-west-2 DescribeBackups",
            "us-west-2 DeleteBackup",
        ]
    );
    let events = env.events();
    assert_eq!(events.last().unwrap()["action"], json!("backups-prune"));
}

#[test]
fn init_cluster_sign_makes_a_one_time_anchor_that_openssl_verifies_and_logs_it() {
    let env = Env::new();
    let csr = repo().join("bastion/tests/fixtures/cloudhsm/initialize-cluster/cluster-csr.pem");
    let out_dir = env.tmp.path().join("init");

    // A CSR that is not one writes nothing.
    let bad = env.tmp.path().join("bad.csr");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    )
    .unwrap();
    let args = |csr: &Path| {
        vec![
            "init-cluster".to_owned(),
            "sign".to_owned(),
            "--csr".to_owned(),
            csr.display().to_string(),
            "--cluster-id".to_owned(),
            "cluster-2tkysmfzvw5".to_owned(),
            "--out".to_owned(),
            out_dir.display().to_string(),
        ]
    };
    let bad_args = args(&bad);
    let err = env.bastion_fails(
        &bad_args.iter().map(String::as_str).collect::<Vec<_>>(),
        true,
    );
    assert!(err.contains("the cluster CSR does not parse"), "{err}");
    assert!(!out_dir.exists(), "a refused CSR writes nothing");
    assert!(env.events().is_empty());

    let good_args = args(&csr);
    let out = env.bastion(
        &good_args.iter().map(String::as_str).collect::<Vec<_>>(),
        true,
    );
    assert!(out.contains("the one-time key is destroyed"), "{out}");
    let anchor = out_dir.join("trust-anchor.pem");
    let cert = out_dir.join("cluster-cert.pem");
    // The chain verifies with OpenSSL: the anchor as the only trusted certificate.
    let verify = Command::new("openssl")
        .args(["verify", "-x509_strict", "-CAfile"])
        .arg(&anchor)
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    // Only the two certificates were written: no private key anywhere in the folder.
    let mut files: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["cluster-cert.pem", "trust-anchor.pem"]);
    for file in &files {
        let text = std::fs::read_to_string(out_dir.join(file)).unwrap();
        assert!(!text.contains("PRIVATE KEY"), "{file}");
        assert_eq!(
            text.matches("-----BEGIN CERTIFICATE-----").count(),
            1,
            "{file}"
        );
    }
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(&anchor)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&subject.stdout)
            .contains("rust-pki one-time cluster trust anchor cluster-2tkysmfzvw5"),
        "{}",
        String::from_utf8_lossy(&subject.stdout)
    );
    // The event names both certificates by the SHA-256 of their DER.
    let der_sha256 = |pem: &Path| {
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(pem)
            .output()
            .unwrap()
            .stdout;
        let digest = Command::new("openssl")
            .args(["dgst", "-sha256", "-r"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child.stdin.take().unwrap().write_all(&der)?;
                child.wait_with_output()
            })
            .unwrap()
            .stdout;
        String::from_utf8(digest)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    let events = env.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["action"], json!("init-cluster-sign"));
    assert_eq!(
        events[0]["resources"],
        json!([
            "cluster-2tkysmfzvw5",
            format!("trust-anchor-sha256:{}", der_sha256(&anchor)),
            format!("cluster-cert-sha256:{}", der_sha256(&cert)),
        ])
    );
    // A second run refuses to overwrite.
    let err = env.bastion_fails(
        &good_args.iter().map(String::as_str).collect::<Vec<_>>(),
        true,
    );
    assert!(err.contains("exists: choose a new --out folder"), "{err}");
}

#[test]
fn admit_refuses_a_stopped_bastion() {
    let env = Env::new();
    let err = env.bastion_fails(&["admit", "placeholder-1", "--dry-run"], false);
    assert!(
        err.contains("is stopped; run `rust-pki bastion up` first"),
        "{err}"
    );
}
