//! The command-line contract, on the real binary: migrate is idempotent; `user add … --password-stdin`,
//! `token create --user NAME` prints only the token, which then works as a bearer token on
//! `/api/v1/regions`; region import is all-or-nothing with errors naming row and column.

use std::process::Command;

mod support;
use support::{free_port, qcity, start_with, wait_up};

#[test]
fn version_and_example_config() {
    let out = Command::new(env!("CARGO_BIN_EXE_qcity"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("qcity "));
    let out = Command::new(env!("CARGO_BIN_EXE_qcity"))
        .args(["config", "example"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[server]") && text.contains("bind = ") && text.contains('#'));
}

#[test]
fn bad_config_names_the_key() {
    let dir = qcity_platform::testing::TempDir::new("cli-cfg");
    std::fs::write(
        dir.0.join("qcity.toml"),
        "[server]\nbind = \"not-an-address\"\n",
    )
    .unwrap();
    let (ok, _, err) = qcity(&dir.0, &["migrate"], None);
    assert!(!ok);
    assert!(err.contains("server.bind"), "{err}");
}

#[tokio::test]
async fn users_tokens_and_regions_from_the_command_line() {
    let dir = qcity_platform::testing::TempDir::new("cli");
    let d = &dir.0;
    let (ok, out, err) = qcity(d, &["migrate"], None);
    assert!(ok, "{err}");
    assert!(out.contains("applied"));
    let (ok, out, _) = qcity(d, &["migrate"], None);
    assert!(
        ok && out.contains("up to date"),
        "second migrate is a no-op: {out}"
    );

    support::add_demo_city(d);
    let csv_path = d.join("regions.csv");
    // A bad row: nothing is imported.
    std::fs::write(&csv_path, "code,parent_code,name_zh,name_en,urban,population,area_km2,boundary\n990101,990100,中心区,Central,true,100,1.5,\n990102,990100,东湖区,Donghu,true,lots,2,\n").unwrap();
    let (ok, _, err) = qcity(
        d,
        &["region", "import", "--file", csv_path.to_str().unwrap()],
        None,
    );
    assert!(!ok);
    assert!(err.contains("row 3") && err.contains("population"), "{err}");
    // Saved by Excel in a Chinese locale: GBK, a quoted comma, a blank line. The error names the
    // line as an editor shows it, and nothing is imported.
    let gbk = encoding_rs::GBK
        .encode("code,parent_code,name_zh,name_en,urban,population,area_km2,boundary\n990101,990100,中心区,\"Central, Old Town\",true,100,1.5,\n\n990102,990100,东湖区,Donghu,maybe,200,2,\n")
        .0
        .into_owned();
    std::fs::write(&csv_path, gbk).unwrap();
    let (ok, _, err) = qcity(
        d,
        &["region", "import", "--file", csv_path.to_str().unwrap()],
        None,
    );
    assert!(!ok);
    assert!(err.contains("row 4") && err.contains("urban"), "{err}");
    std::fs::write(&csv_path, "code,parent_code,name_zh,name_en,urban,population,area_km2,boundary\n990101001,990101,朝阳街道,Chaoyang,true,,,\n990101,990100,中心区,Central,true,100,1.5,\n990102,990100,东湖区,Donghu,true,200,2,\n").unwrap();
    let (ok, out, err) = qcity(
        d,
        &["region", "import", "--file", csv_path.to_str().unwrap()],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("imported 3"));

    let (ok, _, err) = qcity(
        d,
        &[
            "user",
            "add",
            "zhang",
            "--role",
            "data_officer",
            "--region",
            "990101",
            "--password-stdin",
        ],
        Some("a-long-password-1\n"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = qcity(
        d,
        &["user", "add", "li", "--role", "wizard", "--password-stdin"],
        Some("a-long-password-2\n"),
    );
    assert!(!ok && err.contains("unknown role"), "{err}");
    let (ok, out, _) = qcity(d, &["user", "list"], None);
    assert!(ok && out.contains("zhang") && out.contains("data_officer"));

    let (ok, out, err) = qcity(d, &["token", "create", "--user", "zhang"], None);
    assert!(ok, "{err}");
    let token = out.trim().to_string();
    assert_eq!(out.lines().count(), 1, "prints only the token");
    assert!(token.starts_with("qct_"));

    let port = free_port();
    // The server reuses a token's user for this long; the revocation below is seen in time.
    let mut server = start_with(d, port, &[("QCITY_SECURITY__TOKEN_CACHE_SECONDS", "1")]);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    wait_up(&client, &base).await;
    let resp = client
        .get(format!("{base}/api/v1/regions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let regions: serde_json::Value = resp.json().await.unwrap();
    let codes: Vec<&str> = regions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec!["990101", "990101001"],
        "scoped to the user's district"
    );
    assert_eq!(
        client
            .get(format!("{base}/api/v1/regions/990102"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // Revoked from the command line (another process), it stops working within
    // `security.token_cache_seconds` (1 s here), and for good.
    assert!(qcity(d, &["token", "revoke", &token], None).0);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for _ in 0..3 {
        assert_eq!(
            client
                .get(format!("{base}/api/v1/regions"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}
