//! What the real-binary suites share: running `qcity` commands, serving a data directory on a
//! free port, waiting for it, and a city with two regions, an admin and a dispatcher.
#![allow(dead_code)] // each suite uses part of it

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Runs `qcity ARGS --data-dir DIR`, with `stdin` piped in; (success, stdout, stderr).
pub fn qcity(dir: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qcity"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("QCITY_DATABASE_URL")
        .env_remove("QCITY_DATA_DIR")
        .env_remove("QCITY_MQTT_URL")
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run qcity");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `qcity serve` on `dir` at `port`, with extra environment (configuration overrides).
pub fn start_with(dir: &Path, port: u16, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qcity"));
    cmd.args([
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(dir)
    .env_remove("QCITY_DATABASE_URL")
    .env_remove("QCITY_MQTT_URL")
    .current_dir(dir)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

pub fn start(dir: &Path, port: u16) -> Child {
    start_with(dir, port, &[])
}

/// A `qcity serve` on a free port, up and answering; killed with SIGKILL when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(c: &reqwest::Client, dir: &Path, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let s = Server {
            child: start_with(dir, port, env),
            base: format!("http://127.0.0.1:{port}"),
        };
        wait_up(c, &s.base).await;
        s
    }

    /// `kill -9`, and wait for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `GET url` with a bearer token, as JSON.
pub async fn get_json(c: &reqwest::Client, url: &str, token: &str) -> serde_json::Value {
    c.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn wait_up(c: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if c.get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not start");
}

/// A migrated data directory with city 990100 (示范市), its districts 990101 and 990121, and
/// one user per `(name, role)` with an API token each (in the same order).
pub fn city_with_users(
    label: &str,
    users: &[(&str, &str)],
) -> (qcity_platform::testing::TempDir, Vec<String>) {
    let dir = qcity_platform::testing::TempDir::new(label);
    let d = &dir.0;
    assert!(qcity(d, &["migrate"], None).0);
    add_demo_city(d);
    let csv = d.join("regions.csv");
    std::fs::write(&csv, "code,parent_code,name_zh,name_en,urban,population,area_km2,boundary\n990101,990100,中心区,Central,true,100,1.5,\n990121,990100,青云县,Qingyun,false,100,10,\n").unwrap();
    let (ok, _, err) = qcity(
        d,
        &["region", "import", "--file", csv.to_str().unwrap()],
        None,
    );
    assert!(ok, "{err}");
    let mut tokens = Vec::new();
    for (name, role) in users {
        let (ok, _, err) = qcity(
            d,
            &["user", "add", name, "--role", role, "--password-stdin"],
            Some("a-long-password-1\n"),
        );
        assert!(ok, "{err}");
        let (ok, out, err) = qcity(d, &["token", "create", "--user", name], None);
        assert!(ok, "{err}");
        tokens.push(out.trim().to_string());
    }
    (dir, tokens)
}

/// `qcity city add 990100 示范市 / Demo City` on a migrated data directory.
pub fn add_demo_city(d: &Path) {
    let (ok, _, err) = qcity(
        d,
        &[
            "city",
            "add",
            "990100",
            "--name-zh",
            "示范市",
            "--name-en",
            "Demo City",
        ],
        None,
    );
    assert!(ok, "{err}");
}
