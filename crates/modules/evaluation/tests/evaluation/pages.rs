//! The module's pages as each role sees them.

use qcity_platform::on_both_backends;
use qcity_platform::testing::Backend;
use serde_json::json;

use super::common::*;

on_both_backends!(pages_render);

async fn pages_render(b: Backend) {
    let e = env(b).await;
    let mut a = client(&e, "analyst").await;
    let home = a.get("/app/evaluation").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("城市质量发展评价指标体系"));
    // install through the page form
    let r = a
        .post_form("/app/evaluation/install", &[("catalogue", "city_quality")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.location().unwrap().to_string();
    let fw: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    let page = a.get(&loc).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("CQ-ELEV-TRAP") && page.body.contains("电梯万台困人率"));
    // edit a passport through the form
    let r = a
        .post_form(
            &format!("/app/evaluation/frameworks/{fw}/indicators/CQ-SAT"),
            &[
                ("name_zh", "市民质量满意度"),
                ("name_en", "Citizen quality satisfaction"),
                ("definition_zh", "d"),
                ("definition_en", "d"),
                ("unit", "分"),
                ("direction", "1"),
                ("band_low", "60"),
                ("band_high", "90"),
                ("source_zh", "测评"),
                ("source_en", "survey"),
                ("department", "质量发展处"),
                ("target", "86"),
                ("target_year", "2027"),
                ("weight", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(r.location().unwrap().contains("msg="), "{:?}", r.location());
    // the computation of a passport is editable through the form too
    let r = a
        .post_form(
            &format!("/app/evaluation/frameworks/{fw}/indicators/CQ-SAT"),
            &[
                ("name_zh", "市民质量满意度"),
                ("name_en", "Citizen quality satisfaction"),
                ("definition_zh", "d"),
                ("definition_en", "d"),
                ("unit", "分"),
                ("direction", "1"),
                ("band_low", "60"),
                ("band_high", "90"),
                ("source_zh", "测评"),
                ("source_en", "survey"),
                ("department", "质量发展处"),
                ("target", "86"),
                ("target_year", "2027"),
                ("weight", "2"),
                ("computation", "ratio"),
                ("numerator", "满意人数"),
                ("denominator", "受访人数"),
                ("factor", "100"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let d = a
        .get(&format!("/api/v1/evaluation/frameworks/{fw}"))
        .await
        .json();
    let sat = d["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "CQ-SAT")
        .unwrap()
        .clone();
    assert_eq!(
        (
            sat["computation"].clone(),
            sat["denominator"].clone(),
            sat["factor"].clone(),
            sat["weight"].clone()
        ),
        (json!("ratio"), json!("受访人数"), json!(100.0), json!(2.0))
    );
    // the entry grid: save drafts, then submit
    let mut o = client(&e, "officer").await;
    let g = o
        .get(&format!(
            "/app/evaluation/entry?framework_id={fw}&year=2024"
        ))
        .await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert!(g.body.contains("name=\"v:CQ-SAT\""));
    let r = o
        .post_form(
            "/app/evaluation/entry",
            &[
                ("framework_id", &fw.to_string()),
                ("region", "990102"),
                ("year", "2024"),
                ("op", "save"),
                ("v:CQ-SAT", "82.5"),
                ("s:CQ-SAT", "测评"),
                ("n:CQ-SAT", ""),
                ("v:CQ-GREEN", "abc"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(
        r.location().unwrap().contains("err="),
        "bad number rejects the whole grid"
    );
    let r = o
        .post_form(
            "/app/evaluation/entry",
            &[
                ("framework_id", &fw.to_string()),
                ("region", "990102"),
                ("year", "2024"),
                ("op", "submit"),
                ("v:CQ-SAT", "82.5"),
                ("s:CQ-SAT", "测评"),
                ("n:CQ-SAT", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let list = o
        .get(&format!("/api/v1/evaluation/values?framework_id={fw}"))
        .await
        .json();
    assert_eq!(list[0]["status"], "submitted", "{list}");
    for path in [
        "/app/evaluation/import",
        "/app/evaluation/completeness",
        "/app/evaluation/runs",
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let r = a
        .get(&format!(
            "/app/evaluation/template?framework_id={fw}&year=2024"
        ))
        .await;
    assert_eq!(r.status, 200);
    // english
    a.get("/lang?set=en&next=/app/evaluation").await;
    let r = a.get(&format!("/app/evaluation/frameworks/{fw}")).await;
    assert!(r.body.contains("Elevator trappings per 10,000 elevators"));
    // a run from the page, then its results page
    publish_panel(&mut a, fw).await;
    let r = a
        .post_form(
            "/app/evaluation/runs",
            &[
                ("framework_id", &fw.to_string()),
                ("years", "2023"),
                ("years", "2024"),
                ("uncertainty_n", "20"),
                ("seed", "3"),
                ("statuses", "published"),
                ("spec_toml", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.location().unwrap().to_string();
    let id: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    wait_run(&mut a, id).await;
    let r = a.get(&loc).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("data-testid=\"chart-ranking\"")
            && r.body.contains("chart-intervals")
            && r.body.contains("chart-map")
    );
    let r = a.get(&format!("/app/evaluation/runs/{id}/status")).await;
    assert_eq!(
        r.headers.get("hx-refresh").map(|v| v.to_str().unwrap()),
        Some("true")
    );
    // import through the page (multipart)
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n--B\r\nContent-Disposition: form-data; name=\"framework_id\"\r\n\r\n{fw}\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\nContent-Type: text/csv\r\n\r\nindicator,region_code,year,value\nCQ-SAT,990199,2024,1\n\r\n--B--\r\n",
        a.csrf.clone().unwrap()
    );
    // the browser form carries the CSRF token in the action's query (multipart bodies are not
    // read by the CSRF guard)
    let page = a.get("/app/evaluation/import").await;
    let action = page
        .body
        .split("action=\"/app/evaluation/import?_csrf=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = a
        .request(
            "POST",
            &format!("/app/evaluation/import?_csrf={action}"),
            Some("multipart/form-data; boundary=B"),
            body.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("data-testid=\"import-report\"") && r.body.contains("990199"),
        "{}",
        r.body
    );
}
