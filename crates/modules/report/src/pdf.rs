//! The report as PDF, typeset with typst (as a library): a title page, a table of contents
//! (typst's `outline`), page numbers, CJK text in a system CJK font, the headline figures,
//! tables and method notes, and the charts as SVG images drawn from the same data as the HTML
//! page's charts ([`crate::charts::to_svg`]).
//!
//! The CJK font is loaded from the system at run time (Debian `fonts-noto-cjk`, SIL OFL 1.1)
//! rather than embedded: the faces are 20–27 MB each, which would triple the binary. The font
//! file or directory is set with [`FONT_ENV`] (default [`DEFAULT_FONT_DIR`]); a missing font is
//! a clear error naming that setting, never a PDF with blank boxes.

use crate::charts::{self, SimpleChart};
use crate::narrative::{fmt_num, with_unit};
use crate::store::{Status, Version};
use crate::view::status_label;
use qcity_platform::i18n::{Lang, Tr};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Default directory of the CJK fonts (Debian `fonts-noto-cjk`).
pub const DEFAULT_FONT_DIR: &str = "/usr/share/fonts/opentype/noto";
/// Environment variable naming a CJK font file (`.ttc`, `.otf`, `.ttf`) or a directory of
/// them. (A single underscore after `REPORT`: `QCITY_SECTION__KEY` names are configuration
/// keys, which the platform's configuration checks strictly.)
pub const FONT_ENV: &str = "QCITY_REPORT_FONT_DIR";
/// Families tried first, in order (Simplified Chinese faces).
const PREFERRED_FAMILIES: [&str; 4] = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
];

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "CJK font missing: {0} (set {FONT_ENV} to a CJK font file or directory, e.g. {DEFAULT_FONT_DIR} from the Debian package fonts-noto-cjk)"
    )]
    FontMissing(String),
    #[error("typesetting failed: {0}")]
    Typeset(String),
}

/// The font file or directory the PDF is set with: [`FONT_ENV`] or [`DEFAULT_FONT_DIR`].
pub fn font_path() -> PathBuf {
    std::env::var_os(FONT_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FONT_DIR))
}

/// The font files to load from `path`: the file itself, or the font files of a directory
/// (only the Noto Sans CJK collections when the directory has them, so the Serif faces are
/// not read for nothing).
pub fn font_files(path: &Path) -> Result<Vec<PathBuf>, PdfError> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let rd = std::fs::read_dir(path)
        .map_err(|e| PdfError::FontMissing(format!("{}: {e}", path.display())))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                    matches!(
                        x.to_ascii_lowercase().as_str(),
                        "ttc" | "otc" | "otf" | "ttf"
                    )
                })
        })
        .collect();
    files.sort();
    let sans: Vec<PathBuf> = files
        .iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("NotoSansCJK"))
        })
        .cloned()
        .collect();
    let files = if sans.is_empty() { files } else { sans };
    if files.is_empty() {
        return Err(PdfError::FontMissing(format!(
            "no font file (.ttc, .otc, .otf, .ttf) in {}",
            path.display()
        )));
    }
    Ok(files)
}

/// The family to set the text in: a preferred family when present, else the first family
/// that has the characters of a Chinese report title.
pub fn pick_family<'a>(families: impl IntoIterator<Item = (&'a str, bool)>) -> Option<String> {
    let all: Vec<(&str, bool)> = families.into_iter().collect();
    PREFERRED_FAMILIES
        .iter()
        .find(|p| all.iter().any(|(f, _)| f.eq_ignore_ascii_case(p)))
        .map(|p| p.to_string())
        .or_else(|| all.iter().find(|(_, cjk)| *cjk).map(|(f, _)| f.to_string()))
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

/// Typst source of the report in one language, set in the font `family`.
pub fn typst_source(
    v: &Version,
    en: bool,
    region_names: &HashMap<String, String>,
    family: &str,
) -> String {
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
    let tr = Tr::new(if en { Lang::En } else { Lang::ZhCn });
    let mut status_line = format!(
        "{} {} · {}",
        tr.t("report-version"),
        v.row.version,
        status_label(v.status, en)
    );
    if v.status != Status::Published {
        let _ = write!(status_line, " ({})", tr.t("report-pdf-not-published"));
    }
    let mut t = String::new();
    let _ = writeln!(t, "#set document(title: {})", s(&title));
    let _ = writeln!(
        t,
        "#set text(font: {}, size: 10.5pt, lang: {})",
        s(family),
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
    // Title page.
    let _ = writeln!(
        t,
        "#page(numbering: none)[#align(center + horizon)[#text(size: 24pt, weight: \"bold\", {}) \\ #v(1em) #text(size: 12pt, {}) \\ #v(0.5em) #text(size: 10pt, fill: gray, {})]]",
        s(&title),
        s(&status_line),
        s(&format!(
            "{} {}",
            tr.t("report-assembled"),
            snap.assembled_at.format("%Y-%m-%d")
        ))
    );
    let _ = writeln!(
        t,
        "#outline(title: {}, indent: auto)\n#pagebreak()",
        s(&tr.t("report-toc"))
    );
    // Overview.
    let _ = writeln!(t, "#heading(level: 1, {})", s(&tr.t("report-overview")));
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
                chart(&mut t, &pick(&c.title_zh, &c.title_en), &sc, family);
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
                s(&tr.t("report-method")),
                s(&method)
            );
        }
    }
    if !snap.unavailable.is_empty() {
        let _ = writeln!(
            t,
            "#text(size: 8pt, fill: gray, {})",
            s(&format!(
                "{}: {}",
                tr.t("report-unavailable"),
                snap.unavailable.join(", ")
            ))
        );
    }
    t
}

fn figures_table(t: &mut String, figs: &[&qcity_platform::feeds::ReportFigure], en: bool) {
    let tr = Tr::new(if en { Lang::En } else { Lang::ZhCn });
    let head = [
        "report-col-indicator",
        "report-col-value",
        "report-col-previous",
        "report-col-change",
        "report-col-ci",
    ]
    .map(|k| tr.t(k));
    let mut cells: Vec<String> = Vec::new();
    for f in figs {
        let label = if en { &f.label_en } else { &f.label_zh };
        let val = f
            .value
            .map(|x| with_unit(x, f, en))
            .unwrap_or_else(|| tr.t("report-value-missing"));
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

/// A chart as an SVG image in a figure with its title as caption.
fn chart(t: &mut String, title: &str, c: &SimpleChart, family: &str) {
    let svg = charts::to_svg(c, family);
    let _ = writeln!(
        t,
        "#figure(image(bytes({}), format: \"svg\", width: 100%, alt: {}), caption: {})\n",
        s(&svg),
        s(title),
        s(title)
    );
}

/// Typesets the report into PDF bytes (blocking: call through `spawn_blocking`).
pub fn render(
    v: &Version,
    en: bool,
    region_names: &HashMap<String, String>,
) -> Result<Vec<u8>, PdfError> {
    #[cfg(feature = "pdf")]
    {
        let fonts = typeset::fonts()?;
        typeset::render(&typst_source(v, en, region_names, &fonts.family), fonts)
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
pub mod typeset {
    //! typst as a library: the fonts, the standard library and a one-file world.

    use super::{PdfError, font_files, font_path, pick_family};
    use std::path::Path;
    use std::sync::{Arc, LazyLock, Mutex};
    use typst::diag::{FileError, FileResult};
    use typst::foundations::{Bytes, Datetime};
    use typst::syntax::{FileId, Source};
    use typst::text::{Font, FontBook};
    use typst::utils::LazyHash;
    use typst::{Library, LibraryExt, World};

    /// The loaded font faces and the family the report is set in.
    pub struct Fonts {
        book: LazyHash<FontBook>,
        fonts: Vec<Font>,
        /// The family the text is set in, e.g. `Noto Sans CJK SC`.
        pub family: String,
    }

    /// Loads the faces of `path` (a font file or directory) and picks a CJK family.
    pub fn load(path: &Path) -> Result<Fonts, PdfError> {
        let mut fonts = Vec::new();
        for f in font_files(path)? {
            let data = std::fs::read(&f)
                .map_err(|e| PdfError::FontMissing(format!("{}: {e}", f.display())))?;
            fonts.extend(Font::iter(Bytes::new(data)));
        }
        // 质 (quality): a face without it cannot set the report.
        let family = pick_family(fonts.iter().map(|f| {
            (
                f.info().family.as_str(),
                f.info().coverage.contains('质' as u32),
            )
        }))
        .ok_or_else(|| PdfError::FontMissing(format!("no CJK font in {}", path.display())))?;
        Ok(Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
            family,
        })
    }

    /// The configured fonts, loaded once (a failure is not kept: installing the font and
    /// asking again works without a restart).
    pub fn fonts() -> Result<Arc<Fonts>, PdfError> {
        static FONTS: Mutex<Option<Arc<Fonts>>> = Mutex::new(None);
        let mut slot = FONTS
            .lock()
            .map_err(|_| PdfError::Typeset("font cache poisoned".into()))?;
        if let Some(f) = slot.as_ref() {
            return Ok(f.clone());
        }
        let f = Arc::new(load(&font_path())?);
        *slot = Some(f.clone());
        Ok(f)
    }

    /// typst's standard library, built once.
    static LIBRARY: LazyLock<LazyHash<Library>> =
        LazyLock::new(|| LazyHash::new(<Library as LibraryExt>::default()));

    struct ReportWorld {
        fonts: Arc<Fonts>,
        main: Source,
    }

    impl World for ReportWorld {
        fn library(&self) -> &LazyHash<Library> {
            &LIBRARY
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

    fn messages(errs: &[typst::diag::SourceDiagnostic]) -> String {
        errs.iter()
            .map(|e| e.message.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Typesets typst `source` with `fonts` into PDF bytes.
    pub fn render(source: &str, fonts: Arc<Fonts>) -> Result<Vec<u8>, PdfError> {
        let world = ReportWorld {
            fonts,
            main: Source::detached(source.to_string()),
        };
        let doc = typst::compile::<typst_layout::PagedDocument>(&world)
            .output
            .map_err(|errs| PdfError::Typeset(messages(errs.as_slice())));
        // Keep typst's memoisation cache from growing with every distinct report.
        typst::comemo::evict(4);
        typst_pdf::pdf(&doc?, &typst_pdf::PdfOptions::default())
            .map_err(|errs| PdfError::Typeset(messages(errs.as_slice())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_choice_prefers_simplified_chinese_then_any_cjk() {
        assert_eq!(
            pick_family([("Noto Sans CJK JP", true), ("Noto Sans CJK SC", true)]).as_deref(),
            Some("Noto Sans CJK SC")
        );
        assert_eq!(
            pick_family([("DejaVu Sans", false), ("WenQuanYi Zen Hei", true)]).as_deref(),
            Some("WenQuanYi Zen Hei")
        );
        assert_eq!(pick_family([("DejaVu Sans", false)]), None);
    }

    #[test]
    fn missing_font_names_the_setting() {
        let e = font_files(Path::new("/nonexistent/qcity-fonts")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(FONT_ENV), "{msg}");
        assert!(msg.contains("/nonexistent/qcity-fonts"), "{msg}");
        let empty = std::env::temp_dir().join(format!("qcity-no-fonts-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let msg = font_files(&empty).unwrap_err().to_string();
        assert!(
            msg.contains("no font file") && msg.contains(FONT_ENV),
            "{msg}"
        );
        let _ = std::fs::remove_dir(&empty);
    }

    #[test]
    fn typst_strings_are_escaped() {
        assert_eq!(s("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(arr(["\"x\"".to_string()]), "(\"x\",)");
    }

    /// A directory of Latin-only fonts is refused with the setting named (needs the DejaVu
    /// fonts, present on Debian; skipped otherwise).
    #[cfg(feature = "pdf")]
    #[test]
    fn latin_only_fonts_are_refused() {
        let dir = Path::new("/usr/share/fonts/truetype/dejavu");
        if !dir.is_dir() {
            eprintln!("SKIPPED: no {}", dir.display());
            return;
        }
        let msg = match typeset::load(dir) {
            Ok(_) => panic!("DejaVu accepted as a CJK font"),
            Err(e) => e.to_string(),
        };
        assert!(
            msg.contains("no CJK font") && msg.contains(FONT_ENV),
            "{msg}"
        );
    }
}
