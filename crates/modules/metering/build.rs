// Turns on the PostgreSQL store tests when QCITY_TEST_POSTGRES_URL is set (they are #[ignore]d
// otherwise, so `cargo test --workspace` passes on a fresh machine).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(qcity_pg)");
    println!("cargo::rerun-if-env-changed=QCITY_TEST_POSTGRES_URL");
    if std::env::var("QCITY_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=qcity_pg");
    }
}
