//! The upload module: limits checked before any grid is allocated, zip bombs refused, encodings,
//! CSV quoting, dates — and fuzzing (proptest) that nothing panics or reads past a limit.

use proptest::prelude::*;
use qcity_platform::testing::{sheet_xml, text_cell, xlsx_with_sheet, xlsx_with_sheet_parts};
use qcity_platform::upload::{self, Limits, UploadErrorKind};

/// Before the upload module: calamine's dense range for A1 + XFD1048576 asked for
/// 1048576 × 16384 cells and the process aborted.
#[test]
fn far_apart_cells_are_refused_before_any_grid() {
    let x = xlsx_with_sheet(&sheet_xml(
        None,
        &[
            (1, &text_cell("A1", "a")),
            (1048576, &text_cell("XFD1048576", "z")),
        ],
    ));
    assert!(x.len() < 4096, "a small file: {} bytes", x.len());
    let e = upload::read_table(&x, &Limits::default()).unwrap_err();
    assert_eq!(e.kind, UploadErrorKind::TooManyRows, "{e}");
    assert_eq!(e.status().as_u16(), 422);
    assert!(
        e.message.contains("row 1048576; the limit is 100000 rows"),
        "{e}"
    );
    // Within the rows but far to the right: the column limit.
    let x = xlsx_with_sheet(&sheet_xml(
        None,
        &[(
            1,
            &format!("{}{}", text_cell("A1", "a"), text_cell("XFD1", "z")),
        )],
    ));
    let e = upload::read_table(&x, &Limits::default()).unwrap_err();
    assert_eq!(e.kind, UploadErrorKind::TooManyColumns, "{e}");
    assert!(
        e.message
            .contains("column XFD (16384 columns); the limit is 1000"),
        "{e}"
    );
}

#[test]
fn a_huge_declared_dimension_is_refused() {
    let x = xlsx_with_sheet(&sheet_xml(
        Some("A1:XFD1048576"),
        &[(1, &text_cell("A1", "a"))],
    ));
    let e = upload::read_table(&x, &Limits::default()).unwrap_err();
    assert_eq!(e.kind, UploadErrorKind::TooManyRows, "{e}");
    assert!(e.message.contains("declares row 1048576"), "{e}");
}

#[test]
fn sparse_cells_within_limits_cannot_make_a_huge_grid() {
    // 999 rows, each with one cell in column ALL (1000): under the row and column limits, but
    // laid out as a grid that is a million cells; the cell limit says no before allocating.
    let rows: Vec<(u32, String)> = (1..1000)
        .map(|r| (r, text_cell(&format!("ALL{r}"), "x")))
        .collect();
    let rows: Vec<(u32, &str)> = rows.iter().map(|(r, c)| (*r, c.as_str())).collect();
    let x = xlsx_with_sheet(&sheet_xml(None, &rows));
    let l = Limits {
        max_cells: 100_000,
        ..Limits::default()
    };
    let e = upload::read_table(&x, &l).unwrap_err();
    assert_eq!(e.kind, UploadErrorKind::TooManyCells, "{e}");
}

#[test]
fn a_zip_bomb_is_refused_by_its_unzipped_size() {
    // 8 MiB of sheet XML that zips to a few kilobytes; the limit here is 1 MiB.
    let x = xlsx_with_sheet_parts(|w| {
        w.write_all(&sheet_xml(None, &[(1, &text_cell("A1", "a"))])[..200])?;
        let pad = vec![b' '; 1 << 20];
        for _ in 0..8 {
            w.write_all(&pad)?;
        }
        Ok(())
    });
    assert!(x.len() < 128 * 1024, "{} bytes", x.len());
    let l = Limits {
        max_decompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let e = upload::read_table(&x, &l).unwrap_err();
    assert_eq!(e.kind, UploadErrorKind::TooLargeUnzipped, "{e}");
    assert_eq!(e.status().as_u16(), 413);
    assert!(e.message.contains("the limit is 1048576 bytes"), "{e}");
}

/// A zip whose headers lie (an entry declares 100 bytes and unzips to 8 MiB) is refused by
/// what reading it really yields, read through a bound.
#[test]
fn a_zip_bomb_with_lying_headers_is_refused_by_what_it_unzips_to() {
    let mut x = xlsx_with_sheet_parts(|w| {
        let pad = vec![b' '; 1 << 20];
        for _ in 0..8 {
            w.write_all(&pad)?;
        }
        Ok(())
    });
    // Patch the sheet entry's uncompressed size (local header +22, central header +24; the
    // zip64 extra field of `large_file` holds the real one, so drop the marker too).
    let name = b"xl/worksheets/sheet1.xml";
    let mut patched = 0;
    for i in 0..x.len().saturating_sub(46) {
        if x[i..].starts_with(b"PK\x03\x04") && x[i + 30..].starts_with(name) {
            x[i + 22..i + 26].copy_from_slice(&100u32.to_le_bytes());
            patched += 1;
        }
        if x[i..].starts_with(b"PK\x01\x02") && x[i + 46..].starts_with(name) {
            x[i + 24..i + 28].copy_from_slice(&100u32.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2);
    let l = Limits {
        max_decompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let e = upload::read_table(&x, &l).unwrap_err();
    assert!(
        matches!(
            e.kind,
            UploadErrorKind::TooLargeUnzipped | UploadErrorKind::Malformed
        ),
        "{e:?}"
    );
}

#[test]
fn dates_numbers_and_strings_from_a_real_workbook() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let datef = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    ws.write_string(0, 0, "date").unwrap();
    ws.write_string(0, 1, "code").unwrap();
    ws.write_string(0, 2, "x").unwrap();
    let d = rust_xlsxwriter::ExcelDateTime::parse_from_str("2024-02-29").unwrap();
    ws.write_datetime_with_format(1, 0, &d, &datef).unwrap();
    ws.write_number(1, 1, 110001.0).unwrap();
    ws.write_number(1, 2, 2.5).unwrap();
    ws.write_string(3, 1, "甲").unwrap();
    let x = wb.save_to_buffer().unwrap();
    let t = upload::read_table(&x, &Limits::default()).unwrap();
    assert_eq!(t.rows[0], ["date", "code", "x"]);
    assert_eq!(t.rows[1], ["2024-02-29", "110001", "2.5"]);
    assert!(t.rows[2].is_empty());
    assert_eq!(t.rows[3], ["", "甲"]);
    let data: Vec<usize> = t.data_rows().map(|(n, _)| n).collect();
    assert_eq!(
        data,
        [2, 4],
        "blank row 3 left out, rows numbered as the sheet shows them"
    );
}

#[test]
fn over_size_is_413_naming_the_limit() {
    let l = Limits::default().with_max_bytes(10);
    let e = upload::read_table(b"a,b,c,d,e,f\n", &l).unwrap_err();
    assert_eq!(e.status().as_u16(), 413);
    assert_eq!(e.code(), "upload_too_large");
    assert!(e.message.contains("the limit is 10 bytes"), "{e}");
}

/// Limits small enough that fuzzing explores them.
fn small() -> Limits {
    Limits {
        max_bytes: 1 << 16,
        max_rows: 50,
        max_columns: 20,
        max_decompressed_bytes: 1 << 18,
        max_cells: 400,
    }
}

/// A table read within `l` never exceeds it.
fn within(t: &upload::Table, l: &Limits) {
    assert!(t.rows.len() <= l.max_rows);
    assert!(t.rows.iter().all(|r| r.len() <= l.max_columns));
    assert!(t.rows.iter().map(Vec::len).sum::<usize>() <= l.max_cells);
}

/// CSV cells with random quoting: plain, quoted with commas / quotes / newlines, CJK.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 ._-]{0,8}",
        "[a-z,\"\n\r 年份指标]{0,8}",
        Just(String::new()),
        Just("=1+2".to_string()),
    ]
}

fn quote(c: &str) -> String {
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(qcity_platform::testing::fuzz_cases(64)))]

    /// Arbitrary bytes, as CSV or as anything: an error or a table within the limits.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let l = small();
        if let Ok(t) = upload::read_table(&bytes, &l) {
            within(&t, &l);
        }
        if let Ok(t) = upload::csv::read_csv(&bytes, &l) {
            within(&t, &l);
        }
    }

    /// Arbitrary bytes behind a zip signature, and a real workbook with bytes flipped.
    #[test]
    fn damaged_workbooks_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..1024),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
    ) {
        let l = small();
        let mut b = b"PK\x03\x04".to_vec();
        b.extend(&tail);
        let _ = upload::read_table(&b, &l);
        let mut x = xlsx_with_sheet(&sheet_xml(Some("A1:B2"), &[(1, &text_cell("A1", "a")), (2, &text_cell("B2", "b"))]));
        for (i, v) in &flips {
            let k = i.index(x.len());
            x[k] = *v;
        }
        if let Ok(t) = upload::read_table(&x, &l) {
            within(&t, &l);
        }
    }

    /// Sheets with random cell positions and declared dimensions: a table within the limits,
    /// or a refusal naming one.
    #[test]
    fn random_sheets_stay_within_limits(
        cells in proptest::collection::vec((1u32..2_000_000, 0usize..20_000), 0..12),
        dim in proptest::option::of((1u32..2_000_000, 0usize..20_000)),
    ) {
        let l = small();
        let rows: Vec<(u32, String)> = cells
            .iter()
            .map(|(r, c)| (*r, text_cell(&format!("{}{r}", upload::column_letter(*c)), "v")))
            .collect();
        let mut rows: Vec<(u32, &str)> = rows.iter().map(|(r, c)| (*r, c.as_str())).collect();
        rows.sort_by_key(|(r, _)| *r);
        let d = dim.map(|(r, c)| format!("A1:{}{r}", upload::column_letter(c)));
        let x = xlsx_with_sheet(&sheet_xml(d.as_deref(), &rows));
        match upload::read_table(&x, &l) {
            Ok(t) => within(&t, &l),
            Err(e) => prop_assert!(e.kind.is_limit() || e.kind == UploadErrorKind::Malformed, "{e:?}"),
        }
    }

    /// Random CSV with random quoting, written as UTF-8, UTF-8 with BOM or GBK: read back cell
    /// for cell (when within the limits).
    #[test]
    fn csv_round_trips_in_every_encoding(
        table in proptest::collection::vec(proptest::collection::vec(cell(), 1..6), 1..30),
        enc in 0u8..3,
    ) {
        // A record of one empty field is a blank line, which CSV cannot tell from nothing.
        let table: Vec<Vec<String>> = table
            .into_iter()
            .filter(|r| !(r.len() == 1 && r[0].is_empty()))
            .collect();
        let text: String = table
            .iter()
            .map(|r| r.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",") + "\n")
            .collect();
        let bytes = match enc {
            0 => text.clone().into_bytes(),
            1 => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
            _ => encoding_rs::GBK.encode(&text).0.into_owned(),
        };
        let l = small();
        match upload::csv::read_csv(&bytes, &l) {
            Ok(t) => {
                within(&t, &l);
                // A bare "\r" or a quoted empty cell read back the same; compare normalised.
                prop_assert_eq!(t.rows, table);
            }
            Err(e) => prop_assert!(e.kind.is_limit(), "{e:?}"),
        }
    }
}
