//! The equipment register through the real router, on SQLite always and on PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set: registry, CSV and XLSX, scoping, inspection schedules,
//! inspections, maintenance, risk, KPIs, hooks and pages. The 96333 incidents are in
//! `incidents.rs`.

mod common;

use chrono::Duration;
use common::*;
use qcity_equipment::{EquipmentModule, incidents, registry};
use qcity_platform::Module;
use qcity_platform::testing::{Backend, TestClient, TestDb, citus_problems};
use serde_json::json;

use qcity_platform::on_both_backends;

on_both_backends!(
    tenant_keys_lead_with_city_id,
    registry_validates_scopes_and_filters,
    csv_import_is_all_or_nothing_and_export_round_trips,
    xlsx_import_is_all_or_nothing_and_export_round_trips,
    elevator_inspections_follow_tsg_t7001_2023,
    inspections_maintenance_risk_and_kpis,
    hooks_feed_indicators_and_report,
    pages_render_in_both_languages,
);

async fn tenant_keys_lead_with_city_id(b: Backend) {
    let t = TestDb::migrated(b, &modules()).await;
    let problems = citus_problems(&t.db, &[]).await;
    assert!(problems.is_empty(), "{problems:#?}");
}

async fn registry_validates_scopes_and_filters(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    let id = add_elevator(&mut admin, "123456", "990101001", e.company_a, 1).await;
    add_elevator(&mut admin, "234567", "990102", e.company_b, 2).await;
    // The 18-character code is checked part by part.
    let mut bad = elevator("345678", "990101", e.company_a, 3);
    bad["equipment_code"] = json!("31101089X201500003");
    let r = admin.post_json("/api/v1/equipment", &bad).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "equipment_code");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("manufacturer")
    );
    bad["equipment_code"] = json!("311010890201500003");
    bad["variety"] = json!("4110");
    bad["category"] = json!("3000");
    assert_eq!(
        admin.post_json("/api/v1/equipment", &bad).await.json()["field"],
        "variety"
    );
    // Rescue codes are unique per city.
    let dup = admin
        .post_json(
            "/api/v1/equipment",
            &elevator("123456", "990101", e.company_a, 9),
        )
        .await;
    assert_eq!(dup.status, 409, "{}", dup.body);
    // A boiler with category attributes; a rescue code on a boiler is refused.
    let boiler = json!({"category": "1000", "variety": "1100", "name": "1号锅炉", "use_unit": "热电厂", "address": "工业路1号", "region_code": "990102", "attributes": {"rated_pressure_mpa": 1.25}, "registration_date": "2020-01-10"});
    let r = admin.post_json("/api/v1/equipment", &boiler).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["next_inspection_due"], "2021-01-10");
    let mut b2 = boiler.clone();
    b2["rescue_code"] = json!("99999");
    assert_eq!(admin.post_json("/api/v1/equipment", &b2).await.status, 422);

    let found = admin
        .get("/api/v1/equipment?rescue_code=123456")
        .await
        .json();
    assert_eq!(found["total"], 1);
    let item = &found["items"][0];
    assert_eq!(item["id"], id);
    assert_eq!(item["company_duty_phone"], "0599-1111111");
    assert_eq!(item["attributes"]["floors"], 18);
    assert_eq!(
        admin.get("/api/v1/equipment?category=3000").await.json()["total"],
        2
    );
    assert_eq!(
        admin.get("/api/v1/equipment?category=boiler").await.json()["total"],
        1
    );
    assert_eq!(
        admin.get("/api/v1/equipment?region=990101").await.json()["total"],
        1
    );
    assert_eq!(
        admin.get("/api/v1/equipment?status=in_use").await.json()["total"],
        3
    );
    assert_eq!(
        admin.get("/api/v1/equipment?category=nope").await.status,
        422
    );

    // A district viewer sees only their district; the other district's elevator is 404.
    let mut east = e.client("east").await;
    assert_eq!(east.get("/api/v1/equipment").await.json()["total"], 2);
    assert_eq!(
        east.get(&format!("/api/v1/equipment/{id}")).await.status,
        404
    );
    assert_eq!(
        east.get("/api/v1/equipment?rescue_code=123456")
            .await
            .json()["total"],
        0
    );
    assert_eq!(
        east.post_json(
            "/api/v1/equipment",
            &elevator("555555", "990102", e.company_a, 5)
        )
        .await
        .status,
        403
    );
    let mut energy = e.client("energy").await;
    assert_eq!(energy.get("/api/v1/equipment").await.status, 403);

    // Status lifecycle.
    let r = admin
        .post_json(
            &format!("/api/v1/equipment/{id}/status"),
            &json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(r.json()["status"], "suspended");
    let r = admin
        .post_json(
            &format!("/api/v1/equipment/{id}/status"),
            &json!({"status": "registered"}),
        )
        .await;
    assert_eq!(r.status, 409);
}

async fn csv_import_is_all_or_nothing_and_export_round_trips(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    let head = registry::CSV_COLUMNS.join(",");
    let good = "3000,3110,311010890201500011,,,111111,1号梯,甲物业,,LA,甲路1号,118.1,24.5,990101,2010-01-01,,2010-03-01,in_use,,,,,";
    let bad_date = "3000,3110,311010890201500012,,,111112,2号梯,甲物业,,LA,甲路2号,118.1,24.5,990101,2010-13-01,,,in_use,,,,,";
    let bad_region = "3000,3110,311010890201500013,,,111111,3号梯,甲物业,,LZ,甲路3号,abc,24.5,990199,,,,in_use,,,,,";
    let body = format!("{head}\n{good}\n{bad_date}\n{bad_region}\n");
    let r = import(&mut admin, "text/csv", body.into_bytes()).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let detail = r.json()["detail"].as_str().unwrap().to_string();
    for want in [
        "row 3, column manufacture_date",
        "row 4, column region_code",
        "row 4, column lon",
        "row 4, column company_license_no",
        "row 4, column rescue_code",
    ] {
        assert!(detail.contains(want), "{want} missing in {detail}");
    }
    assert_eq!(
        admin.get("/api/v1/equipment").await.json()["total"],
        0,
        "nothing half-imported"
    );
    let ok = format!(
        "{head}\n{good}\n3000,3110,311010890201500012,,,111112,2号梯,甲物业,,LB,甲路2号,118.1,24.5,990102,2010-01-01,,,in_use,,,\"{{\"\"floors\"\":9}}\",2026-01-01,\n"
    );
    let r = import(&mut admin, "text/csv", ok.into_bytes()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["imported"], 2);
    let exp = admin.get("/api/v1/equipment/export.csv").await;
    assert_eq!(exp.status, 200);
    assert!(exp.body.contains("311010890201500012") && exp.body.contains("LB"));
    // The export re-imports into another city format-for-format (here: duplicates are named).
    let r = import(&mut admin, "text/csv", exp.body.into_bytes()).await;
    assert_eq!(r.status, 422);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("already registered")
    );
}

/// A workbook with the import header and `rows` (a cell `=date:YYYY-MM-DD` becomes a real
/// Excel date cell, a cell `=num:…` a number).
fn workbook(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let datef = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (j, h) in registry::CSV_COLUMNS.iter().enumerate() {
        ws.write_string(0, j as u16, *h).unwrap();
    }
    for (i, r) in rows.iter().enumerate() {
        for (j, v) in r.iter().enumerate() {
            let (row, col) = ((i + 1) as u32, j as u16);
            if let Some(d) = v.strip_prefix("=date:") {
                let d = rust_xlsxwriter::ExcelDateTime::parse_from_str(d).unwrap();
                ws.write_datetime_with_format(row, col, &d, &datef).unwrap();
            } else if let Some(n) = v.strip_prefix("=num:") {
                ws.write_number(row, col, n.parse::<f64>().unwrap())
                    .unwrap();
            } else if !v.is_empty() {
                ws.write_string(row, col, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn read_sheet(bytes: &[u8], sheet: usize) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(sheet).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

async fn xlsx_import_is_all_or_nothing_and_export_round_trips(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    // Row 2 good (a real date cell, the rescue code typed as a number), row 3 a bad date,
    // row 4 an unknown region, company and a repeated rescue code.
    let good = vec![
        "3000",
        "3110",
        "311010890201500011",
        "",
        "",
        "=num:111111",
        "1号梯",
        "甲物业",
        "",
        "LA",
        "甲路1号",
        "=num:118.1",
        "=num:24.5",
        "990101",
        "=date:2010-01-01",
        "",
        "2010-03-01",
        "in_use",
        "",
        "",
        "",
        "",
        "=date:2010-02-20",
    ];
    let bad_date = vec![
        "3000",
        "3110",
        "311010890201500012",
        "",
        "",
        "111112",
        "2号梯",
        "甲物业",
        "",
        "LA",
        "甲路2号",
        "118.1",
        "24.5",
        "990101",
        "2010-13-01",
    ];
    let bad_region = vec![
        "3000",
        "3110",
        "311010890201500013",
        "",
        "",
        "111111",
        "3号梯",
        "甲物业",
        "",
        "LZ",
        "甲路3号",
        "abc",
        "24.5",
        "990199",
    ];
    let r = import(
        &mut admin,
        XLSX,
        workbook(&[good.clone(), bad_date, bad_region]),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let detail = r.json()["detail"].as_str().unwrap().to_string();
    for want in [
        "row 3, column manufacture_date (O)",
        "row 4, column region_code (N)",
        "row 4, column lon (L)",
        "row 4, column company_license_no (J)",
        "row 4, column rescue_code (F): `111111` repeats row 2",
    ] {
        assert!(detail.contains(want), "{want} missing in {detail}");
    }
    assert!(!detail.contains("row 2,"), "row 2 is good: {detail}");
    assert_eq!(
        admin.get("/api/v1/equipment").await.json()["total"],
        0,
        "nothing half-imported"
    );
    // Not a workbook at all.
    let r = import(&mut admin, XLSX, b"PK\x03\x04garbage".to_vec()).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "xlsx");

    let second = vec![
        "3000",
        "3110",
        "311010890201500012",
        "",
        "",
        "111112",
        "2号梯",
        "甲物业",
        "",
        "LB",
        "甲路2号",
        "118.1",
        "24.5",
        "990102",
        "2010-01-01",
        "",
        "",
        "in_use",
        "",
        "",
        "{\"floors\": 9}",
        "2026-01-01",
    ];
    let r = import(&mut admin, XLSX, workbook(&[good, vec![], second])).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["imported"], 2, "the empty row is skipped");
    let one = admin
        .get("/api/v1/equipment?rescue_code=111111")
        .await
        .json();
    let item = &one["items"][0];
    assert_eq!(item["manufacture_date"], "2010-01-01");
    assert_eq!(item["supervised_on"], "2010-02-20");
    assert_eq!(item["lon"], 118.1);
    // Elevator schedule from the supervision pass of 2010-02-20: year 1 due February 2011.
    assert_eq!(item["next_inspection_due"], "2011-02-28");
    let two = admin
        .get("/api/v1/equipment?rescue_code=111112")
        .await
        .json();
    assert_eq!(two["items"][0]["attributes"]["floors"], 9);
    assert_eq!(two["items"][0]["next_inspection_due"], "2026-01-01");

    // Export: same columns as the CSV export, codes as text, coordinates as numbers.
    let (status, ct, bytes) = get_bytes(&admin, "/api/v1/equipment/export.xlsx").await;
    assert_eq!(status, 200);
    assert_eq!(ct, XLSX);
    let sheet = read_sheet(&bytes, 0);
    let csv = admin.get("/api/v1/equipment/export.csv").await;
    let csv_head: Vec<String> = csv
        .body
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    assert_eq!(sheet[0], csv_head);
    assert_eq!(sheet.len(), 3);
    let col = |name: &str| sheet[0].iter().position(|h| h == name).unwrap();
    let row = sheet
        .iter()
        .find(|r| r[col("rescue_code")] == "111111")
        .unwrap();
    assert_eq!(row[col("equipment_code")], "311010890201500011");
    assert_eq!(row[col("lat")], "24.5");
    assert_eq!(row[col("company_license_no")], "LA");
    // The export re-imports format-for-format (here: duplicates are named by row and column).
    let r = import(&mut admin, XLSX, bytes).await;
    assert_eq!(r.status, 422);
    let detail = r.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains("column rescue_code (F): `111111` is already registered"),
        "{detail}"
    );

    // The template: the import columns and a help sheet naming every column.
    let (status, _, t) = get_bytes(&admin, "/api/v1/equipment/import-template.xlsx").await;
    assert_eq!(status, 200);
    let head = read_sheet(&t, 0);
    assert_eq!(head.len(), 1);
    assert_eq!(head[0], registry::CSV_COLUMNS.map(str::to_string).to_vec());
    let help = read_sheet(&t, 1);
    for c in registry::CSV_COLUMNS {
        assert!(help.iter().any(|r| r[0] == c), "help lacks {c}");
    }
    let tc = admin.get("/api/v1/equipment/import-template.csv").await;
    assert_eq!(
        tc.body.trim_start_matches('\u{feff}').trim(),
        registry::CSV_COLUMNS.join(",")
    );
}

/// TSG T7001-2023 through the API, with hand-checked dates.
async fn elevator_inspections_follow_tsg_t7001_2023(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    let mut body = elevator("123456", "990101", e.company_a, 1);
    body["install_date"] = json!("2020-03-01");
    body["manufacture_date"] = json!("2019-12-01");
    body["registration_date"] = json!("2020-04-01");
    body["supervised_on"] = json!("2020-03-10");
    let id = add_equipment(&mut admin, &body).await;
    let ep = format!("/api/v1/equipment/{id}");
    // Year 1 is due in the supervision month (March) of 2021, stored as its last day.
    assert_eq!(
        admin.get(&ep).await.json()["next_inspection_due"],
        "2021-03-31"
    );
    let mut insp = e.client("inspector").await;
    let path = format!("/api/v1/equipment/{id}/inspections");
    let record = |on: &str, conclusion: &str, kind: &str| json!({"inspected_on": on, "conclusion": conclusion, "kind": kind, "inspector": "李工"});
    // Year 1 done (late): year 4 (March 2024) is next — years 2 and 3 are self-testing years.
    let r = insp
        .post_json(&path, &record("2021-04-15", "pass", "periodic"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["next_due"], "2024-03-31");
    assert_eq!(r.json()["kind"], "periodic");
    // Year 4 done two months early on request (2024-01-05): the due month does not move.
    let r = insp
        .post_json(&path, &record("2024-01-05", "pass", "periodic"))
        .await;
    assert_eq!(r.json()["next_due"], "2027-03-31");
    // A failed inspection is due again at once and must not be used; the re-inspection
    // pass restores the schedule.
    let r = insp
        .post_json(&path, &record("2024-02-01", "fail", "periodic"))
        .await;
    assert_eq!(r.json()["next_due"], "2024-02-01");
    assert_eq!(insp.get(&ep).await.json()["must_not_use"], true);
    let r = insp
        .post_json(&path, &record("2024-02-20", "recheck_pass", "periodic"))
        .await;
    assert_eq!(r.json()["next_due"], "2027-03-31");
    assert_eq!(insp.get(&ep).await.json()["must_not_use"], false);
    let plan = insp
        .get(&format!("/api/v1/equipment/{id}/schedule"))
        .await
        .json();
    assert_eq!(plan["anchor"], "2020-03-10");
    let kinds: Vec<&str> = plan["years"]
        .as_array()
        .unwrap()
        .iter()
        .take(9)
        .map(|y| y["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "periodic",
            "self_test",
            "self_test",
            "periodic",
            "self_test",
            "self_test",
            "periodic",
            "self_test",
            "periodic"
        ]
    );
    assert_eq!(plan["years"][3]["due"], "2024-03-31");
    // A major repair passes supervision inspection on 2025-08-15: the count restarts there.
    let r = insp
        .post_json(&path, &record("2025-08-15", "pass", "supervision"))
        .await;
    assert_eq!(r.json()["next_due"], "2026-08-31");
    let eq = insp.get(&ep).await.json();
    assert_eq!(eq["supervised_on"], "2025-08-15");
    assert_eq!(eq["next_inspection_due"], "2026-08-31");
    let today = registry::today();
    let overdue = chrono::NaiveDate::from_ymd_opt(2026, 8, 31).unwrap() < today;
    assert_eq!(eq["must_not_use"], overdue);
    let listed = insp.get("/api/v1/equipment?due=overdue").await.json();
    assert_eq!(listed["total"], if overdue { 1 } else { 0 });
    // The cycle row is data: the year list is editable and checked; other rows have none.
    let cycles = admin.get("/api/v1/equipment/cycles").await.json();
    let elev = cycles
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "3000" && c["variety"] == "")
        .unwrap()
        .clone();
    assert_eq!(elev["schedule_years"], "1,4,7,9,11,13,15");
    assert_eq!(elev["early_months"], 2);
    let cpath = format!("/api/v1/equipment/cycles/{}", elev["id"]);
    let r = admin
        .post_json(
            &cpath,
            &json!({"first_after_months": 12, "interval_months": 12, "schedule_years": "4,1"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "schedule_years");
    let boiler = cycles
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "1000")
        .unwrap();
    assert!(boiler["schedule_years"].is_null());
    let r = admin
        .post_json(
            &format!("/api/v1/equipment/cycles/{}", boiler["id"]),
            &json!({"first_after_months": 12, "interval_months": 12, "schedule_years": "1,2"}),
        )
        .await;
    assert_eq!(r.status, 422);
    // Every other year from year 1 with 24-month steps after it: editing recomputes the due
    // date (anchor 2025-08-15, no periodic pass since: year 1 = August 2026 stays; with
    // years "2" the first due is August 2027).
    let r = admin
        .post_json(
            &cpath,
            &json!({"first_after_months": 24, "interval_months": 24, "schedule_years": "2"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        admin.get(&ep).await.json()["next_inspection_due"],
        "2027-08-31"
    );
    // Not an elevator: the fixed-interval rows are unchanged (boiler: 12 months after registration).
    let bid = add_equipment(
        &mut admin,
        &json!({"category": "1000", "variety": "1100", "name": "锅炉", "use_unit": "厂", "address": "路", "region_code": "990101", "registration_date": "2024-02-29"}),
    )
    .await;
    assert_eq!(
        admin.get(&format!("/api/v1/equipment/{bid}")).await.json()["next_inspection_due"],
        "2025-02-28"
    );
    assert_eq!(
        admin
            .get(&format!("/api/v1/equipment/{bid}/schedule"))
            .await
            .status,
        404
    );
}

async fn inspections_maintenance_risk_and_kpis(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    let id = add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let id2 = add_elevator(&mut admin, "234567", "990101", e.company_a, 2).await;
    let mut insp = e.client("inspector").await;
    let today = registry::today();
    let r = insp.post_json(&format!("/api/v1/equipment/{id}/inspections"), &json!({"inspected_on": today.to_string(), "conclusion": "fail", "defects": ["层门门锁啮合长度不足"], "inspector": "李工"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let iid = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json()["rectification"], "open");
    let eq = insp.get(&format!("/api/v1/equipment/{id}")).await.json();
    assert_eq!(eq["must_not_use"], true);
    let r = insp.post_json(&format!("/api/v1/equipment/{id2}/inspections"), &json!({"inspected_on": (today - Duration::days(800)).to_string(), "conclusion": "pass"})).await;
    assert_eq!(r.status, 201);
    let overdue = insp.get("/api/v1/equipment?due=overdue").await.json();
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["id"], id2);
    assert_eq!(
        insp.get("/api/v1/equipment?due=90").await.json()["total"],
        1,
        "the failed one is due today"
    );
    assert_eq!(
        insp.post_json(
            &format!("/api/v1/equipment/{id}/inspections"),
            &json!({"inspected_on": today.to_string(), "conclusion": "ok"})
        )
        .await
        .status,
        422
    );
    let r = insp
        .post_json(
            &format!("/api/v1/equipment/inspections/{iid}/rectify"),
            &json!({"rectified_on": today.to_string()}),
        )
        .await;
    assert_eq!(r.json()["rectification"], "closed");
    let r = insp
        .post_json(
            &format!("/api/v1/equipment/{id}/inspections"),
            &json!({"inspected_on": today.to_string(), "conclusion": "recheck_pass"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        insp.get(&format!("/api/v1/equipment/{id}")).await.json()["must_not_use"],
        false
    );
    // Cycles are data and editable.
    let cycles = insp.get("/api/v1/equipment/cycles").await.json();
    let elev = cycles
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "3000")
        .unwrap()
        .clone();
    assert_eq!(elev["interval_months"], 12);
    assert_eq!(
        admin
            .post_json(
                &format!("/api/v1/equipment/cycles/{}", elev["id"]),
                &json!({"first_after_months": 12, "interval_months": 1})
            )
            .await
            .status,
        422
    );
    // Maintenance: both elevators overdue (never maintained) for company A.
    let m = admin
        .get("/api/v1/equipment/maintenance/overdue")
        .await
        .json();
    assert_eq!(m[0]["company_id"], e.company_a);
    assert_eq!(m[0]["overdue"], 2);
    // Risk: components shown, old elevator scores the age points.
    let risk = admin.get("/api/v1/equipment/risk").await.json();
    let row = &risk[0];
    assert!(row["age_years"].as_i64().unwrap() >= 15);
    assert!(row["points_age"].as_i64().unwrap() >= 25);
    assert_eq!(
        row["score"].as_i64().unwrap(),
        [
            "points_age",
            "points_trappings",
            "points_faults",
            "points_inspections",
            "points_maintenance",
            "points_overdue_inspection",
            "points_renovation"
        ]
        .iter()
        .map(|k| row[*k].as_i64().unwrap())
        .sum::<i64>()
        .max(0)
    );
    // KPIs over a closed incident.
    let mut d = e.client("dispatcher").await;
    let iid = open_incident(&mut d, "123456").await;
    walk(
        &mut d,
        iid,
        &["dispatched", "acknowledged", "on_scene", "released"],
        1,
    )
    .await;
    let month = today.format("%Y-%m").to_string();
    let k = d
        .get(&format!(
            "/api/v1/kpis/elevators?region=990100&month={month}"
        ))
        .await;
    assert_eq!(k.status, 200, "{}", k.body);
    let k = k.json();
    assert_eq!(k["trappings"], 1);
    assert_eq!(k["elevators"], 2);
    assert_eq!(k["trapping_rate_per_10k"], 5000.0);
    assert_eq!(k["ack_3min_rate"], 100.0);
    assert_eq!(k["arrive_30min_rate"], 100.0);
    assert_eq!(k["level_mix"]["L1"], 1);
    assert_eq!(k["hour_mix"].as_array().unwrap().len(), 24);
    assert_eq!(k["companies"][0]["company_id"], e.company_a);
    assert_eq!(
        d.get("/api/v1/kpis/elevators?region=990100&month=2026-13")
            .await
            .status,
        422
    );
    let mut east = e.client("east").await;
    assert_eq!(
        east.get("/api/v1/kpis/elevators?region=990101")
            .await
            .status,
        404
    );
}

async fn hooks_feed_indicators_and_report(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let mut d = e.client("dispatcher").await;
    let iid = open_incident(&mut d, "123456").await;
    walk(&mut d, iid, &["dispatched", "on_scene"], 1).await;
    let year = incidents::year_of(chrono::Utc::now());
    let feed = EquipmentModule
        .indicator_feed(&e.db, e.city, year)
        .await
        .unwrap();
    let get = |ind: &str, region: &str| {
        feed.iter()
            .find(|f| f.indicator == ind && f.region_code == region)
            .map(|f| f.value)
    };
    assert_eq!(
        get("CQ-ELEV-TRAP", "990100"),
        Some(10_000.0 / 12.0 * 100.0_f64).map(|x| (x).round() / 100.0)
    );
    assert_eq!(get("CQ-ELEV-ARRIVE30", "990101"), Some(100.0));
    assert!(get("CQ-SE-INSPECT", "990100").is_some());
    let sections = EquipmentModule
        .report_sections(&e.db, e.city, year)
        .await
        .unwrap();
    assert_eq!(sections[0].key, "equipment.elevators");
    assert_eq!(sections[0].tables[0].rows.len(), 2);
}

async fn pages_render_in_both_languages(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    let id = add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let mut d = e.client("dispatcher").await;
    let iid = open_incident(&mut d, "123456").await;
    let mut browser = TestClient::new(e.router.clone());
    let r = browser.login("admin", "password-admin").await;
    assert!(r.status == 303 || r.status == 200);
    for (path, want) in [
        ("/app/equipment/registry".to_string(), "123456"),
        (format!("/app/equipment/registry/{id}"), "0599-1111111"),
        ("/app/equipment/intake?q=123456".to_string(), "0599-1111111"),
        ("/app/equipment/board".to_string(), "data-board"),
        (format!("/app/equipment/incidents/{iid}"), "located"),
        ("/app/equipment/inspections".to_string(), "overdue"),
        ("/app/equipment/risk".to_string(), "123456"),
        ("/app/equipment/kpi".to_string(), "data-chart"),
        ("/app/equipment/jobs".to_string(), "<html"),
    ] {
        let r = browser.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.body.contains(want), "{path} lacks {want}");
        assert!(
            !r.body.contains("equipment-"),
            "{path} has an untranslated key"
        );
    }
    browser.get("/lang?set=en&next=/app").await;
    let r = browser.get("/app/equipment/registry").await;
    assert!(
        r.body.contains("Registry") || r.body.contains("registry"),
        "English page"
    );
    // A district viewer gets 404 for another district's elevator page.
    let mut east = TestClient::new(e.router.clone());
    east.login("east", "password-east").await;
    assert_eq!(
        east.get(&format!("/app/equipment/registry/{id}"))
            .await
            .status,
        404
    );
    let _ = e.company_b;
}

/// Hostile uploads through the real router: a 1.6 KB workbook with cells at A1 and XFD1048576
/// (which aborted the server: calamine allocated rows × columns), a sheet that only declares a
/// huge `<dimension>`, a zip bomb and an over-size body are refused as 413 / 422 problem+json
/// naming the limit, and the server keeps serving (a good import still works).
#[tokio::test]
async fn hostile_uploads_are_refused_and_the_server_keeps_serving() {
    use qcity_platform::testing::{sheet_xml, text_cell, xlsx_with_sheet, xlsx_with_sheet_parts};
    let e = setup(Backend::Sqlite).await;
    let mut admin = e.client("admin").await;
    let problem =
        |r: &qcity_platform::testing::TestResponse, status: u16, code: &str, says: &str| {
            assert_eq!(r.status, status, "{}", r.body);
            assert_eq!(r.headers["content-type"], "application/problem+json");
            assert_eq!(r.json()["code"], code, "{}", r.body);
            let detail = r.json()["detail"].as_str().unwrap().to_string();
            assert!(detail.contains(says), "{says} missing in {detail}");
        };
    let far = xlsx_with_sheet(&sheet_xml(
        None,
        &[
            (1, &text_cell("A1", "category")),
            (1048576, &text_cell("XFD1048576", "x")),
        ],
    ));
    assert!(far.len() < 2048, "{} bytes", far.len());
    let r = import(&mut admin, XLSX, far).await;
    problem(
        &r,
        422,
        "upload_too_many_rows",
        "the sheet has a cell in row 1048576; the limit is 100000 rows",
    );
    let declared = xlsx_with_sheet(&sheet_xml(
        Some("A1:XFD1048576"),
        &[(1, &text_cell("A1", "category"))],
    ));
    let r = import(&mut admin, XLSX, declared).await;
    problem(
        &r,
        422,
        "upload_too_many_rows",
        "the sheet declares row 1048576; the limit is 100000 rows",
    );

    // A server with small limits: a zip bomb (4 MiB of sheet XML in a few KB) and a body over
    // the byte limit.
    let mut cfg = qcity_platform::testing::test_config();
    cfg.upload.max_decompressed_bytes = 1 << 20;
    cfg.upload.max_bytes = 64 * 1024;
    let small = qcity_platform::web::router(qcity_platform::web::AppState::new(
        e.db.clone(),
        cfg,
        modules(),
    ));
    let mut small_admin = common::client(&e.db, &small, e.city, "admin").await;
    let bomb = xlsx_with_sheet_parts(|w| {
        w.write_all(&sheet_xml(None, &[(1, &text_cell("A1", "category"))]))?;
        w.write_all(&vec![b' '; 4 << 20])
    });
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    let r = import(&mut small_admin, XLSX, bomb).await;
    problem(
        &r,
        413,
        "upload_too_large_unzipped",
        "the limit is 1048576 bytes",
    );
    let big = format!(
        "{}\n{}",
        registry::CSV_COLUMNS.join(","),
        "x".repeat(70_000)
    );
    let r = import(&mut small_admin, "text/csv", big.into_bytes()).await;
    problem(&r, 413, "upload_too_large", "the limit is 65536 bytes");

    // Still serving: a good import goes through.
    assert_eq!(admin.get("/api/v1/equipment").await.status, 200);
    let head = registry::CSV_COLUMNS.join(",");
    let good = "3000,3110,311010890201500011,,,111111,1号梯,\"甲物业, 北楼\",,LA,甲路1号,118.1,24.5,990101,2010-01-01,,2010-03-01,in_use,,,,,";
    let r = import(
        &mut admin,
        "text/csv",
        format!("{head}\n{good}\n").into_bytes(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// CSV exports neutralise formula injection (OWASP): a use unit named `=HYPERLINK(…)` is
/// exported as `'=HYPERLINK(…)`, while coordinates stay numbers.
#[tokio::test]
async fn csv_export_neutralises_formulas() {
    let e = setup(Backend::Sqlite).await;
    let mut admin = e.client("admin").await;
    let head = registry::CSV_COLUMNS.join(",");
    let evil = "3000,3110,311010890201500011,,,111111,@SUM(A1),\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",,LA,甲路1号,-118.1,24.5,990101,2010-01-01,,2010-03-01,in_use,,,,,";
    let r = import(
        &mut admin,
        "text/csv",
        format!("{head}\n{evil}\n").into_bytes(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let exp = admin.get("/api/v1/equipment/export.csv").await;
    assert_eq!(exp.status, 200);
    assert!(
        exp.body
            .contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""),
        "{}",
        exp.body
    );
    assert!(exp.body.contains(",'@SUM(A1),"), "{}", exp.body);
    assert!(exp.body.contains(",-118.1,"), "{}", exp.body);
}
