//! The report as PDF, typeset with typst (as a library): a title page, a table of contents,
//! page numbers, CJK text in Noto Sans CJK, and the charts drawn natively from their data.
//!
//! The CJK font is loaded from the system at run time (Debian `fonts-noto-cjk`, SIL OFL 1.1)
//! rather than embedded: the two faces are 40 MB, which would triple the binary. The directory
//! can be changed with `QCITY_CJK_FONT_DIR`; a missing font is a clear error, not a blank PDF.

use crate::charts::{self, Kind, SimpleChart};
use crate::narrative::{fmt_num, with_unit};
use crate::store::Version;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Default directory of the CJK fonts.
pub const DEFAULT_FONT_DIR: &str = "/usr/share/fonts/opentype/noto";
#[cfg_attr(not(feature = "pdf"), allow(dead_code))]
const FONT_FILES: [&str; 2] = ["NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"];
/// The family typst is told to use (Simplified Chinese face of the collection).
const FAMILY: &str = "Noto Sans CJK SC";

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "CJK font missing: {0} (install the Debian package fonts-noto-cjk or set QCITY_CJK_FONT_DIR)"
    )]
    FontMissing(String),
    #[error("typesetting failed: {0}")]
    Typeset(String),
}

/// A typst string literal.
fn s(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn arr(items: impl IntoIterator<Item = String>) -> String {
    let v: Vec<String> = items.into_iter().collect();
    if v.len() == 1 {
        format!("({},)", v[0])
    } else {
        format!("({})", v.join(", "))
    }
}

fn num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => "none".into(),
    }
}

/// Typst helpers: a grouped horizontal bar chart and a line chart, drawn from data.
const PRELUDE: &str = r##"
#let palette = (rgb("#2f6db5"), rgb("#e07b39"), rgb("#3a9d5d"), rgb("#b5452f"), rgb("#7a5bb5"), rgb("#5b8fa8"))
#let legend(series) = if series.len() > 1 {
  for (i, s) in series.enumerate() {
    box(rect(width: 8pt, height: 8pt, fill: palette.at(calc.rem(i, palette.len()))))
    h(3pt)
    text(size: 8pt, s.at(0))
    h(10pt)
  }
}
#let barchart(title, cats, series) = {
  let vals = series.map(s => s.at(1)).flatten().filter(v => v != none)
  let mx = if vals.len() == 0 { 1 } else { calc.max(..vals.map(v => calc.abs(v))) }
  let mx = if mx == 0 { 1 } else { mx }
  block(breakable: false, width: 100%, inset: (y: 6pt))[
    #text(weight: "bold", size: 9.5pt, title) \
    #legend(series)
    #grid(columns: (3.6cm, 1fr, 1.6cm), row-gutter: 3pt, column-gutter: 6pt, align: (right + horizon, left + horizon, left + horizon),
      ..cats.enumerate().map(((ci, c)) => series.enumerate().map(((si, s)) => {
        let v = s.at(1).at(ci, default: none)
        (
          if si == 0 { text(size: 8pt, c) } else { [] },
          if v == none { text(size: 7pt, fill: gray)[–] } else { box(width: 100% * (calc.abs(v) / mx), height: 7pt, fill: palette.at(calc.rem(si, palette.len()))) },
          text(size: 7.5pt, if v == none { "–" } else { str(calc.round(v, digits: 2)) }),
        )
      }).flatten()).flatten()
    )
  ]
}
#let linechart(title, cats, series) = {
  let vals = series.map(s => s.at(1)).flatten().filter(v => v != none)
  let lo = if vals.len() == 0 { 0 } else { calc.min(..vals) }
  let hi = if vals.len() == 0 { 1 } else { calc.max(..vals) }
  let span = if hi - lo == 0 { 1 } else { hi - lo }
  let lo = lo - span * 0.1
  let span = span * 1.2
  let w = 14cm
  let hgt = 4.5cm
  let n = calc.max(cats.len() - 1, 1)
  let px(i) = w * (i / n)
  let py(v) = hgt * (1 - (v - lo) / span)
  block(breakable: false, width: 100%, inset: (y: 6pt))[
    #text(weight: "bold", size: 9.5pt, title) \
    #legend(series)
    #box(width: w, height: hgt + 14pt, {
      place(line(start: (0pt, hgt), end: (w, hgt), stroke: 0.5pt + gray))
      for (i, c) in cats.enumerate() {
        place(dx: px(i) - 1cm, dy: hgt + 3pt, box(width: 2cm, align(center, text(size: 7pt, c))))
      }
      for (si, s) in series.enumerate() {
        let col = palette.at(calc.rem(si, palette.len()))
        let vs = s.at(1)
        for i in range(vs.len()) {
          let v = vs.at(i)
          if v != none {
            place(dx: px(i) - 2pt, dy: py(v) - 2pt, circle(radius: 2pt, fill: col))
            place(dx: px(i) - 1cm, dy: py(v) - 11pt, box(width: 2cm, align(center, text(size: 6.5pt, str(calc.round(v, digits: 2))))))
            if i + 1 < vs.len() and vs.at(i + 1) != none {
              place(line(start: (px(i), py(v)), end: (px(i + 1), py(vs.at(i + 1))), stroke: 1.2pt + col))
            }
          }
        }
      }
    })
  ]
}
"##;

/// Typst source of the report in one language.
pub fn typst_source(v: &Version, en: bool, region_names: &HashMap<String, String>) -> String {
    let snap = &v.snapshot;
    let pick = |zh: &str, e: &str| -> String {
        if en && !e.is_empty() {
            e.to_string()
        } else {
            zh.to_string()
        }
    };
    let city = pick(&snap.city_name_zh, &snap.city_name_en);
    let title = if en {
        format!("{city} Quality Report {}", snap.year)
    } else {
        format!("{city}{}年城市质量状况分析报告", snap.year)
    };
    let status_line = if en {
        format!(
            "Version {} · {}",
            v.row.version,
            match v.status {
                crate::store::Status::Published => "published",
                crate::store::Status::Review => "in review (not published)",
                crate::store::Status::Draft => "draft (not published)",
            }
        )
    } else {
        format!(
            "第{}版 · {}",
            v.row.version,
            match v.status {
                crate::store::Status::Published => "已发布",
                crate::store::Status::Review => "审核中（未发布）",
                crate::store::Status::Draft => "草稿（未发布）",
            }
        )
    };
    let mut t = String::new();
    let _ = writeln!(t, "#set document(title: {})", s(&title));
    let _ = writeln!(
        t,
        "#set text(font: {}, size: 10.5pt, lang: {})",
        s(FAMILY),
        s(if en { "en" } else { "zh" })
    );
    let _ = writeln!(
        t,
        "#set page(paper: \"a4\", margin: (x: 2.2cm, y: 2.4cm), numbering: \"1\", header: context {{ if counter(page).get().first() > 1 {{ align(right, text(size: 8pt, fill: gray, {})) }} }})",
        s(&title)
    );
    let _ = writeln!(t, "#set heading(numbering: \"1.1\")");
    let _ = writeln!(
        t,
        "#set par(justify: true, leading: 0.8em{})",
        if en {
            ""
        } else {
            ", first-line-indent: (amount: 2em, all: true)"
        }
    );
    let _ = writeln!(
        t,
        "#set table(stroke: 0.5pt + gray, inset: 4pt)\n#show table: set text(size: 8.5pt)"
    );
    t.push_str(PRELUDE);
    // Title page.
    let _ = writeln!(
        t,
        "#page(numbering: none)[#align(center + horizon)[#text(size: 24pt, weight: \"bold\", {}) \\ #v(1em) #text(size: 12pt, {}) \\ #v(0.5em) #text(size: 10pt, fill: gray, {})]]",
        s(&title),
        s(&status_line),
        s(&if en {
            format!(
                "Data as assembled on {}",
                snap.assembled_at.format("%Y-%m-%d")
            )
        } else {
            format!("数据汇集于{}", snap.assembled_at.format("%Y-%m-%d"))
        })
    );
    let _ = writeln!(
        t,
        "#outline(title: {}, indent: auto)\n#pagebreak()",
        s(if en { "Contents" } else { "目录" })
    );
    // Overview.
    let _ = writeln!(
        t,
        "#heading(level: 1, {})",
        s(if en { "Overview" } else { "总体情况" })
    );
    if let Some(b) = v.block("overview") {
        let _ = writeln!(t, "#par({})\n", s(b.text(en)));
    }
    let heads: Vec<_> = snap
        .sections
        .iter()
        .filter_map(|x| x.figures.first())
        .collect();
    if !heads.is_empty() {
        figures_table(&mut t, &heads, en);
    }
    for sec in &snap.sections {
        let _ = writeln!(
            t,
            "#heading(level: 1, {})",
            s(&pick(&sec.title_zh, &sec.title_en))
        );
        if let Some(b) = v.block(&sec.key) {
            let _ = writeln!(t, "#par({})\n", s(b.text(en)));
        }
        let figs: Vec<_> = sec.figures.iter().collect();
        if !figs.is_empty() {
            figures_table(&mut t, &figs, en);
        }
        for c in &sec.charts {
            if let Some(sc) = charts::extract(&c.option, region_names) {
                chart(&mut t, &pick(&c.title_zh, &c.title_en), &sc);
            }
        }
        for tb in &sec.tables {
            let _ = writeln!(
                t,
                "#heading(level: 2, {})",
                s(&pick(&tb.title_zh, &tb.title_en))
            );
            let cols = tb.columns.len().max(1);
            let mut cells: Vec<String> = tb
                .columns
                .iter()
                .map(|(z, e)| format!("strong({})", s(&pick(z, e))))
                .collect();
            for r in &tb.rows {
                for i in 0..cols {
                    cells.push(s(r.get(i).map(String::as_str).unwrap_or("")));
                }
            }
            let _ = writeln!(
                t,
                "#table(columns: {cols}, table.header(..{}), ..{})",
                arr(cells[..cols.min(cells.len())].to_vec()),
                arr(cells[cols.min(cells.len())..].to_vec())
            );
        }
        let method = pick(&sec.method_zh, &sec.method_en);
        if !method.trim().is_empty() {
            let _ = writeln!(
                t,
                "#heading(level: 2, {})\n#text(size: 9pt, {})\n",
                s(if en { "Method notes" } else { "方法说明" }),
                s(&method)
            );
        }
    }
    if !snap.unavailable.is_empty() {
        let _ = writeln!(
            t,
            "#text(size: 8pt, fill: gray, {})",
            s(&if en {
                format!(
                    "Sections unavailable when assembled: {}",
                    snap.unavailable.join(", ")
                )
            } else {
                format!("汇集时未能获取的部分：{}", snap.unavailable.join("、"))
            })
        );
    }
    t
}

fn figures_table(t: &mut String, figs: &[&qcity_platform::feeds::ReportFigure], en: bool) {
    let head = if en {
        ["Indicator", "Value", "Previous year", "Change", "95% CI"]
    } else {
        ["指标", "数值", "上年", "变化", "95%置信区间"]
    };
    let mut cells: Vec<String> = Vec::new();
    for f in figs {
        let label = if en { &f.label_en } else { &f.label_zh };
        let val = f
            .value
            .map(|x| with_unit(x, f, en))
            .unwrap_or_else(|| if en { "n/a".into() } else { "暂无".into() });
        let prev = f
            .previous
            .map(|x| with_unit(x, f, en))
            .unwrap_or_else(|| "–".into());
        let (c, d) = crate::narrative::change_of(f);
        let change = match c {
            crate::narrative::Change::Up => format!("+{}", fmt_num(d, f.decimals)),
            crate::narrative::Change::Down => format!("−{}", fmt_num(d, f.decimals)),
            crate::narrative::Change::Unchanged => "0".into(),
            crate::narrative::Change::Unknown => "–".into(),
        };
        let ci =
            f.ci.map(|(a, b)| format!("{}–{}", fmt_num(a, f.decimals), fmt_num(b, f.decimals)))
                .unwrap_or_else(|| "–".into());
        cells.extend([s(label), s(&val), s(&prev), s(&change), s(&ci)]);
    }
    let _ = writeln!(
        t,
        "#table(columns: (1fr, auto, auto, auto, auto), align: (left, right, right, right, right), table.header(..{}), ..{})",
        arr(head.iter().map(|h| format!("strong({})", s(h)))),
        arr(cells)
    );
}

fn chart(t: &mut String, title: &str, c: &SimpleChart) {
    let cats = arr(c.categories.iter().map(|x| s(x)));
    let series = arr(c
        .series
        .iter()
        .map(|(n, vals)| format!("({}, {})", s(n), arr(vals.iter().map(|v| num(*v))))));
    let f = match c.kind {
        Kind::Bar => "barchart",
        Kind::Line => "linechart",
    };
    let _ = writeln!(t, "#{f}({}, {cats}, {series})", s(title));
}

/// Typesets the report into PDF bytes (blocking: call through `spawn_blocking`).
pub fn render(
    v: &Version,
    en: bool,
    region_names: &HashMap<String, String>,
) -> Result<Vec<u8>, PdfError> {
    #[cfg(feature = "pdf")]
    {
        typeset::render(&typst_source(v, en, region_names))
    }
    #[cfg(not(feature = "pdf"))]
    {
        let _ = (v, en, region_names);
        Err(PdfError::Typeset(
            "this build has no PDF support (feature `pdf`)".into(),
        ))
    }
}

#[cfg(feature = "pdf")]
mod typeset {
    use super::{DEFAULT_FONT_DIR, FAMILY, FONT_FILES, PdfError};
    use std::sync::OnceLock;
    use typst::diag::{FileError, FileResult};
    use typst::foundations::{Bytes, Datetime};
    use typst::syntax::{FileId, Source};
    use typst::text::{Font, FontBook};
    use typst::utils::LazyHash;
    use typst::{Library, LibraryExt, World};

    struct Fonts {
        book: LazyHash<FontBook>,
        fonts: Vec<Font>,
    }

    static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();

    fn load_fonts() -> Result<&'static Fonts, PdfError> {
        FONTS
            .get_or_init(|| {
                let dir = std::env::var("QCITY_CJK_FONT_DIR")
                    .ok()
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| DEFAULT_FONT_DIR.to_string());
                let mut fonts = Vec::new();
                for f in FONT_FILES {
                    let path = std::path::Path::new(&dir).join(f);
                    let data =
                        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                    fonts.extend(Font::iter(Bytes::new(data)));
                }
                if !fonts
                    .iter()
                    .any(|f| f.info().family.eq_ignore_ascii_case(FAMILY))
                {
                    return Err(format!("no face `{FAMILY}` in {dir}"));
                }
                Ok(Fonts {
                    book: LazyHash::new(FontBook::from_fonts(&fonts)),
                    fonts,
                })
            })
            .as_ref()
            .map_err(|e| PdfError::FontMissing(e.clone()))
    }

    struct ReportWorld {
        library: LazyHash<Library>,
        fonts: &'static Fonts,
        main: Source,
    }

    impl World for ReportWorld {
        fn library(&self) -> &LazyHash<Library> {
            &self.library
        }
        fn book(&self) -> &LazyHash<FontBook> {
            &self.fonts.book
        }
        fn main(&self) -> FileId {
            self.main.id()
        }
        fn source(&self, id: FileId) -> FileResult<Source> {
            if id == self.main.id() {
                Ok(self.main.clone())
            } else {
                Err(FileError::NotFound(std::path::PathBuf::from(
                    "not available",
                )))
            }
        }
        fn file(&self, _id: FileId) -> FileResult<Bytes> {
            Err(FileError::NotFound(std::path::PathBuf::from(
                "not available",
            )))
        }
        fn font(&self, index: usize) -> Option<Font> {
            self.fonts.fonts.get(index).cloned()
        }
        fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
            let d = chrono::Utc::now().date_naive();
            use chrono::Datelike;
            Datetime::from_ymd(d.year(), d.month() as u8, d.day() as u8)
        }
    }

    pub fn render(source: &str) -> Result<Vec<u8>, PdfError> {
        let fonts = load_fonts()?;
        let world = ReportWorld {
            library: LazyHash::new(<Library as LibraryExt>::default()),
            fonts,
            main: Source::detached(source.to_string()),
        };
        let doc = typst::compile::<typst::layout::PagedDocument>(&world)
            .output
            .map_err(|errs| {
                PdfError::Typeset(
                    errs.iter()
                        .map(|e| e.message.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
        typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default()).map_err(|errs| {
            PdfError::Typeset(
                errs.iter()
                    .map(|e| e.message.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    }
}
