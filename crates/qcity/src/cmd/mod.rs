//! Subcommands.

pub mod admin;
pub mod energy;
pub mod index;
pub mod sampling;
pub mod serve;
pub mod survey;

/// Reads an analyst's input file (CSV, TOML, JSON) as text the way uploads are read: UTF-8,
/// UTF-8/UTF-16 with a byte-order mark, or GBK as Excel saves it in a Chinese locale. Local
/// files may be large (years of meter readings): the cap is 1 GiB, not the upload limit.
pub fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    let limits = qcity_platform::upload::Limits::default().with_max_bytes(1 << 30);
    qcity_platform::upload::text::read_file(path, &limits)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}
