// Turns on the PostgreSQL store tests when QCITY_TEST_POSTGRES_URL is set, and the MQTT test
// against a real broker when QCITY_TEST_MQTT_URL is set (both are #[ignore]d otherwise, so
// `cargo test --workspace` passes on a fresh machine).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(qcity_pg)");
    println!("cargo::rustc-check-cfg=cfg(qcity_mqtt)");
    println!("cargo::rerun-if-env-changed=QCITY_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=QCITY_TEST_MQTT_URL");
    if std::env::var("QCITY_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=qcity_pg");
    }
    if std::env::var("QCITY_TEST_MQTT_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=qcity_mqtt");
    }
}
