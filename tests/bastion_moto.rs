//! `rust-pki bastion` end to end, never the network: EC2 and EC2 Instance Connect are
//! moto_server (.venv, scripts/requirements.txt) on 127.0.0.1; CloudHSMv2, which moto
//! does not implement far enough, is a small fake in this process (found by the CLI through
//! the standard `AWS_ENDPOINT_URL_CLOUDHSM_V2` variable). The transparency log is a real
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

    /// A VPC, a subnet in us-east-1a and a stopped bastion tagged as names.json says.
    fn bastion(&self) -> String {
        let n = names();
        self.python(&format!(
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
print(i)
"#,
            key = n["tag_key"].as_str().unwrap(),
            role = n["bastion_role"].as_str().unwrap(),
        ))
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

/// What the fake CloudHSMv2 holds.
#[derive(Default)]
struct HsmState {
    hsms: Vec<String>,
    /// Create time (epoch seconds) of the one READY backup.
    backup_time: f64,
    /// X-Amz-Target of each request.
    calls: Vec<String>,
}

/// A CloudHSMv2 JSON 1.1 endpoint with one ACTIVE, tagged cluster; HSMs become ACTIVE at
/// once.
struct FakeHsm {
    url: String,
    state: Arc<Mutex<HsmState>>,
    server: Arc<tiny_http::Server>,
}

impl FakeHsm {
    fn start() -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let state = Arc::new(Mutex::new(HsmState {
            backup_time: 1_700_000_000.0,
            ..HsmState::default()
        }));
        let (s, st) = (server.clone(), state.clone());
        std::thread::spawn(move || {
            for mut request in s.incoming_requests() {
                let target = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("X-Amz-Target"))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default();
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let reply = Self::answer(&st, &target, &body);
                let header =
                    tiny_http::Header::from_bytes("Content-Type", "application/x-amz-json-1.1")
                        .unwrap();
                let _ = request.respond(
                    tiny_http::Response::from_string(reply.to_string()).with_header(header),
                );
            }
        });
        Self { url, state, server }
    }

    fn answer(state: &Mutex<HsmState>, target: &str, body: &Value) -> Value {
        let mut st = state.lock().unwrap();
        st.calls.push(target.to_owned());
        let n = names();
        match target.trim_start_matches("BaldrApiService.") {
            "DescribeClusters" => json!({"Clusters": [{
                "ClusterId": "cluster-fake00001", "State": "ACTIVE",
                "SubnetMapping": {"us-east-1a": "subnet-1"},
                "BackupRetentionPolicy": {"Type": "DAYS", "Value": "90"},
                "Hsms": st.hsms.iter().map(|id| json!({"HsmId": id, "AvailabilityZone": "us-east-1a",
                    "State": "ACTIVE", "EniIp": "10.0.0.9"})).collect::<Vec<_>>(),
                "TagList": [{"Key": n["tag_key"], "Value": n["cluster_role"]}]}]}),
            "DescribeBackups" => json!({"Backups": [{"BackupId": "backup-fake00001",
                "BackupState": "READY", "ClusterId": "cluster-fake00001",
                "CreateTimestamp": st.backup_time}]}),
            "CreateHsm" => {
                let id = format!("hsm-fake{:05}", st.hsms.len() + 1);
                st.hsms.push(id.clone());
                json!({"Hsm": {"HsmId": id, "ClusterId": body["ClusterId"],
                    "AvailabilityZone": body["AvailabilityZone"], "State": "CREATE_IN_PROGRESS"}})
            }
            "DeleteHsm" => {
                let id = body["HsmId"].as_str().unwrap_or_default().to_owned();
                st.hsms.retain(|h| *h != id);
                json!({"HsmId": id})
            }
            other => json!({"__type": "UnknownOperationException", "message": other}),
        }
    }

    fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }
}

impl Drop for FakeHsm {
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
    hsm: FakeHsm,
    tmp: tempfile::TempDir,
    instance: String,
}

impl Env {
    fn new() -> Self {
        let moto = Moto::start();
        let instance = moto.bastion();
        let env = Self {
            moto,
            hsm: FakeHsm::start(),
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
            .env("AWS_ENDPOINT_URL_CLOUDHSM_V2", &self.hsm.url)
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

    let out = env.bastion(&["up", "--dry-run"], false);
    assert!(
        out.contains(&format!(
            "would call: ec2:StartInstances InstanceIds={}",
            env.instance
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "would call: cloudhsm:CreateHsm ClusterId=cluster-fake00001 AvailabilityZone=us-east-1a"
        ),
        "{out}"
    );
    assert!(
        out.contains("backup-fake00001"),
        "the restored backup is named: {out}"
    );
    assert_eq!(env.moto.state(&env.instance), "stopped");
    assert!(!env.hsm.calls().iter().any(|c| c.contains("CreateHsm")));
    assert!(env.events().is_empty());
}

#[test]
fn up_admit_down_drive_the_instance_and_log_each_event() {
    let env = Env::new();
    assert!(
        env.bastion_fails(&["up"], false).contains("--log DIR"),
        "up without a log is refused"
    );
    let out = env.bastion(&["up"], true);
    assert!(out.contains("HSM hsm-fake00001 ACTIVE"), "{out}");
    assert!(out.contains("next: `rust-pki bastion admit"), "{out}");
    assert_eq!(env.moto.state(&env.instance), "running");

    let out = env.bastion(&["admit", "placeholder-1", "placeholder-2"], true);
    assert!(out.contains("admitted placeholder-1 as"), "{out}");
    assert!(out.contains("admitted placeholder-2 as"), "{out}");
    let err = env.bastion_fails(&["admit", "placeholder-1", "mallory"], true);
    assert!(
        err.contains("mallory is not a member of the roster"),
        "{err}"
    );

    // The only READY backup predates the ceremony: refused, nothing deleted or stopped.
    let err = env.bastion_fails(&["down"], true);
    assert!(err.contains("refusing to delete the HSMs"), "{err}");
    assert_eq!(env.moto.state(&env.instance), "running");
    assert!(!env.hsm.calls().iter().any(|c| c.contains("DeleteHsm")));

    // CloudHSM backs the cluster up (e.g. after an HSM was added): now down proceeds.
    env.hsm.state.lock().unwrap().backup_time = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + 5.0;
    let out = env.bastion(&["down"], true);
    assert!(out.contains("deleting HSM hsm-fake00001"), "{out}");
    assert_eq!(env.moto.state(&env.instance), "stopped");

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
fn admit_refuses_a_stopped_bastion() {
    let env = Env::new();
    let err = env.bastion_fails(&["admit", "placeholder-1", "--dry-run"], false);
    assert!(
        err.contains("is stopped; run `rust-pki bastion up` first"),
        "{err}"
    );
}
