//! `qcity sampling …` on the real binary: the exact JSON of each command of issue 14's
//! contract, and bad input failing with an error naming the row and column.

use std::process::Command;

fn qcity(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qcity"))
        .args(args)
        .env_remove("QCITY_DATABASE_URL")
        .env_remove("QCITY_DATA_DIR")
        .output()
        .expect("run qcity");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (ok, out, err) = qcity(args);
    assert!(ok, "{args:?}: {err}");
    out
}

#[test]
fn plan_prints_the_contract_shape() {
    let out = ok(&[
        "sampling", "plan", "--lot", "8", "--level", "II", "--aql", "2.5",
    ]);
    assert_eq!(
        out,
        "{\"code_letter\":\"A\",\"plan_letter\":\"C\",\"n\":5,\"ac\":0,\"re\":1,\"hundred_percent\":false}\n"
    );
    let out = ok(&[
        "sampling",
        "plan",
        "--lot",
        "1000",
        "--level",
        "II",
        "--aql",
        "2.5",
        "--severity",
        "tightened",
    ]);
    assert_eq!(
        out,
        "{\"code_letter\":\"J\",\"plan_letter\":\"J\",\"n\":80,\"ac\":3,\"re\":4,\"hundred_percent\":false}\n"
    );
    let out = ok(&[
        "sampling", "plan", "--lot", "3", "--level", "S1", "--aql", "0.65",
    ]);
    assert_eq!(
        out,
        "{\"code_letter\":\"A\",\"plan_letter\":\"F\",\"n\":3,\"ac\":0,\"re\":1,\"hundred_percent\":true}\n"
    );
    let (ok, _, err) = qcity(&[
        "sampling", "plan", "--lot", "100", "--level", "II", "--aql", "3",
    ]);
    assert!(!ok && err.contains("not a preferred AQL"), "{err}");
}

#[test]
fn oc_prints_pa_or_points() {
    let out = ok(&["sampling", "oc", "--n", "80", "--ac", "5", "--p", "0.025"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 1);
    assert!((v["pa"].as_f64().unwrap() - 0.984785).abs() < 1e-6, "{out}");
    let out = ok(&[
        "sampling",
        "oc",
        "--n",
        "80",
        "--ac",
        "5",
        "--p",
        "0.025",
        "--model",
        "hypergeometric",
        "--lot",
        "1000",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["pa"].as_f64().unwrap() - 0.988798).abs() < 1e-6, "{out}");
    let out = ok(&[
        "sampling",
        "oc",
        "--n",
        "500",
        "--ac",
        "3",
        "--p",
        "0.001,0.01",
        "--model",
        "poisson",
    ]);
    assert!(
        out.starts_with("{\"points\":[{\"p\":0.001,\"pa\":0.998"),
        "{out}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["points"][1]["pa"].as_f64().unwrap() - 0.265026).abs() < 1e-6);
    assert_eq!(v["points"][1]["p"], 0.01);
    let (ok, _, err) = qcity(&[
        "sampling",
        "oc",
        "--n",
        "80",
        "--ac",
        "5",
        "--p",
        "0.1",
        "--model",
        "hypergeometric",
    ]);
    assert!(!ok && err.contains("--lot"), "{err}");
    let (ok, _, err) = qcity(&["sampling", "oc", "--n", "80", "--ac", "5", "--p", "0.1,x"]);
    assert!(!ok && err.contains("`x`"), "{err}");
}

#[test]
fn zero_acceptance_prints_n() {
    assert_eq!(
        ok(&[
            "sampling",
            "zero-acceptance",
            "--p1",
            "0.20",
            "--beta",
            "0.05"
        ]),
        "{\"n\":14}\n"
    );
    assert_eq!(
        ok(&[
            "sampling",
            "zero-acceptance",
            "--p1",
            "0.5",
            "--beta",
            "0.05",
            "--lot",
            "4"
        ]),
        "{\"n\":3}\n"
    );
    let (ok, _, err) = qcity(&[
        "sampling",
        "zero-acceptance",
        "--p1",
        "0.2",
        "--beta",
        "1.5",
    ]);
    assert!(!ok && err.contains("beta"), "{err}");
}

#[test]
fn switch_prints_states_and_names_bad_rows() {
    let dir = std::env::temp_dir().join(format!("qcity-sampling-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("lots.csv");
    std::fs::write(
        &good,
        "lot,accepted\nL1,true\nL2,false\nL3,true\nL4,false\nL5,true\n",
    )
    .unwrap();
    let out = ok(&["sampling", "switch", "--history", good.to_str().unwrap()]);
    assert_eq!(
        out,
        "{\"final\":\"tightened\",\"lots\":[{\"lot\":\"L1\",\"state\":\"normal\"},\
         {\"lot\":\"L2\",\"state\":\"normal\"},{\"lot\":\"L3\",\"state\":\"normal\"},\
         {\"lot\":\"L4\",\"state\":\"tightened\"},{\"lot\":\"L5\",\"state\":\"tightened\"}]}\n"
    );
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "lot,accepted\nL1,true\nL2,yes\n").unwrap();
    let (ok, out, err) = qcity(&["sampling", "switch", "--history", bad.to_str().unwrap()]);
    assert!(!ok && out.is_empty());
    assert!(err.contains("row 3") && err.contains("'accepted'"), "{err}");
    let nohdr = dir.join("nohdr.csv");
    std::fs::write(&nohdr, "name,ok\nL1,true\n").unwrap();
    let (ok, _, err) = qcity(&["sampling", "switch", "--history", nohdr.to_str().unwrap()]);
    assert!(!ok && err.contains("'lot' and 'accepted'"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
