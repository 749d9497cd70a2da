//! Configuration: one typed struct, layered defaults → `qcity.toml` → `QCITY_…` environment → flags,
//! validated at start-up with errors that name the offending key.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration of a qcity server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub security: SecurityConfig,
    pub log: LogConfig,
    pub demo: DemoConfig,
    pub mqtt: MqttConfig,
    pub upload: UploadConfig,
}

/// Limits of every file import (CSV or XLSX, API or page or command line).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadConfig {
    /// Largest upload, bytes (larger: 413).
    pub max_bytes: u64,
    /// Most rows of an imported table, header included (more: 422).
    pub max_rows: u64,
    /// Most columns of an imported table (more: 422).
    pub max_columns: u64,
    /// Most bytes an XLSX workbook may unzip to, all its parts together (more: 413).
    pub max_decompressed_bytes: u64,
    /// Most cells of an imported table laid out as a grid (more: 422).
    pub max_cells: u64,
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_rows: 100_000,
            max_columns: 1_000,
            max_decompressed_bytes: 256 * 1024 * 1024,
            max_cells: 5_000_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Broker to subscribe to for IoT ingest (elevator alarms, meter readings), e.g.
    /// `mqtt://127.0.0.1:1883`; empty = MQTT ingest off (the HTTP endpoints still work).
    pub url: String,
    /// Client id prefix.
    pub client_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub bind: String,
    /// Public URL the server is reached at; `https://…` turns on `Secure` cookies.
    pub public_url: String,
    /// Default UI language: `zh-CN` or `en`.
    pub default_lang: String,
    /// How long home-dashboard figures may be reused before they are recomputed (seconds;
    /// 0 = compute on every request).
    pub dashboard_cache_seconds: u64,
    /// Reverse proxies (CIDRs, e.g. `127.0.0.1/32`) whose `X-Forwarded-For` names the client;
    /// from any other peer the header is ignored. Empty = none. In the environment: one
    /// comma-separated value (`QCITY_SERVER__TRUSTED_PROXIES=127.0.0.1/32,10.0.0.0/8`).
    #[serde(deserialize_with = "list_or_csv")]
    pub trusted_proxies: Vec<String>,
}

/// A list, or one comma-separated string (as environment variables give it).
fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCsv {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match ListOrCsv::deserialize(d)? {
        ListOrCsv::List(v) => v,
        ListOrCsv::Csv(s) => s
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Directory holding the SQLite database and other local state.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means SQLite in `data_dir`.
    pub url: String,
    /// Connection pool size.
    pub max_connections: u32,
    /// SQLite `synchronous` pragma: `full` (durable on power loss) or `normal`.
    pub sqlite_synchronous: String,
    /// SQLite page cache per pooled connection, MiB (allocated as used).
    pub sqlite_cache_mib: u32,
    /// Largest size the SQLite database may grow to, in pages (`PRAGMA max_page_count`;
    /// 0 = no limit). Past it writes fail as on a full disk (507 `storage_full`) while reads go
    /// on; used to cap the database and to test a full disk.
    pub sqlite_max_page_count: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// A session unused this long ends (minutes).
    pub session_idle_minutes: i64,
    /// A session ends this long after login whatever happens (hours).
    pub session_absolute_hours: i64,
    /// Failed logins allowed per account within `login_window_minutes`.
    pub login_max_failures: u32,
    /// Failed logins allowed per client address within the window.
    pub login_max_failures_per_ip: u32,
    pub login_window_minutes: i64,
    /// How long an API token's user may be reused without reading the database again (seconds;
    /// 0 = read on every request). Changes made by this server apply at once; a token revoked or
    /// a user disabled from the command line applies within this time.
    pub token_cache_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `tracing` filter, e.g. `info,qcity=debug`.
    pub filter: String,
    /// `text` or `json`.
    pub format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// Seed of the deterministic demo-city generator.
    pub seed: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: String::new(),
            default_lang: "zh-CN".into(),
            dashboard_cache_seconds: 30,
            trusted_proxies: Vec::new(),
        }
    }
}
impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("qcity-data"),
            url: String::new(),
            max_connections: 8,
            sqlite_synchronous: "full".into(),
            sqlite_cache_mib: crate::db::DEFAULT_SQLITE_CACHE_MIB,
            sqlite_max_page_count: 0,
        }
    }
}
impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_max_failures: 5,
            login_max_failures_per_ip: 30,
            login_window_minutes: 15,
            token_cache_seconds: 5,
        }
    }
}
impl Default for LogConfig {
    fn default() -> Self {
        Self {
            filter: "info".into(),
            format: "text".into(),
        }
    }
}
impl Default for DemoConfig {
    fn default() -> Self {
        Self { seed: 20151 }
    }
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("configuration: {0}")]
    Load(String),
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// Command-line overrides, the last layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub bind: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

impl Config {
    /// Loads defaults, then `file` (if it exists; `qcity.toml` when `None`), then `QCITY_…`
    /// variables (`QCITY_SERVER__BIND`, and the short forms `QCITY_BIND`, `QCITY_DATA_DIR`,
    /// `QCITY_DATABASE_URL`), then `overrides`; validates the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let defaults = config::Config::try_from(&Config::default())
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        let mut builder = config::Config::builder().add_source(defaults);
        let explicit = file.is_some();
        let path = file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("qcity.toml"));
        if path.exists() {
            builder = builder
                .add_source(config::File::from(path.as_path()).format(config::FileFormat::Toml));
        } else if explicit {
            return Err(ConfigError::Load(format!(
                "config file {} not found",
                path.display()
            )));
        }
        // Only `QCITY_SECTION__KEY` variables are configuration; other `QCITY_…` variables
        // (test and tool settings such as QCITY_TEST_POSTGRES_URL) are not.
        let env: std::collections::HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| {
                k.strip_prefix("QCITY_")
                    .is_some_and(|rest| rest.contains("__"))
            })
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("QCITY")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(env)),
        );
        for (var, key) in [
            ("QCITY_BIND", "server.bind"),
            ("QCITY_DATA_DIR", "database.data_dir"),
            ("QCITY_DATABASE_URL", "database.url"),
            ("QCITY_MQTT_URL", "mqtt.url"),
        ] {
            if let Ok(v) = std::env::var(var) {
                builder = builder
                    .set_override(key, v)
                    .map_err(|e| ConfigError::Load(e.to_string()))?;
            }
        }
        let raw = builder
            .build()
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        let mut cfg: Config = raw
            .try_deserialize()
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        if let Some(b) = &overrides.bind {
            cfg.server.bind = b.clone();
        }
        if let Some(d) = &overrides.data_dir {
            cfg.database.data_dir = d.clone();
        }
        if let Some(u) = &overrides.database_url {
            cfg.database.url = u.clone();
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every value, naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.bind_addr()?;
        if !matches!(self.server.default_lang.as_str(), "zh-CN" | "en") {
            return Err(invalid("server.default_lang", "must be `zh-CN` or `en`"));
        }
        let url = &self.server.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(
                "server.public_url",
                "must start with http:// or https://",
            ));
        }
        if let Err(e) = crate::web::client_addr::TrustedProxies::parse(&self.server.trusted_proxies)
        {
            return Err(invalid("server.trusted_proxies", e.to_string()));
        }
        let url = &self.database.url;
        if !(url.is_empty()
            || url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid("database.url", "must be sqlite:… or postgres://…"));
        }
        if self.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        if !matches!(
            self.database.sqlite_synchronous.as_str(),
            "full" | "normal" | "extra"
        ) {
            return Err(invalid(
                "database.sqlite_synchronous",
                "must be `full`, `extra` or `normal`",
            ));
        }
        if !(1..=4096).contains(&self.database.sqlite_cache_mib) {
            return Err(invalid(
                "database.sqlite_cache_mib",
                "must be between 1 and 4096",
            ));
        }
        if self.security.session_idle_minutes <= 0 {
            return Err(invalid("security.session_idle_minutes", "must be positive"));
        }
        if self.security.session_absolute_hours <= 0 {
            return Err(invalid(
                "security.session_absolute_hours",
                "must be positive",
            ));
        }
        if self.security.login_max_failures == 0 {
            return Err(invalid("security.login_max_failures", "must be at least 1"));
        }
        if self.security.login_window_minutes <= 0 {
            return Err(invalid("security.login_window_minutes", "must be positive"));
        }
        if !(self.mqtt.url.is_empty()
            || self.mqtt.url.starts_with("mqtt://")
            || self.mqtt.url.starts_with("tcp://"))
        {
            return Err(invalid(
                "mqtt.url",
                "must be mqtt://HOST:PORT (or empty to turn MQTT ingest off)",
            ));
        }
        let u = &self.upload;
        for (key, v) in [
            ("upload.max_bytes", u.max_bytes),
            ("upload.max_rows", u.max_rows),
            ("upload.max_columns", u.max_columns),
            ("upload.max_decompressed_bytes", u.max_decompressed_bytes),
            ("upload.max_cells", u.max_cells),
        ] {
            if v == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(invalid("log.format", "must be `text` or `json`"));
        }
        Ok(())
    }

    /// The listen address.
    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.bind.parse().map_err(|_| {
            invalid(
                "server.bind",
                format!("`{}` is not ADDR:PORT", self.server.bind),
            )
        })
    }

    /// The database URL actually used: the configured one, or SQLite in `data_dir`.
    pub fn effective_database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.database.data_dir.join("qcity.sqlite").display()
            )
        } else {
            self.database.url.clone()
        }
    }

    /// Whether cookies get the `Secure` attribute (served over TLS).
    pub fn secure_cookies(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }
}

/// A commented example `qcity.toml` (printed by `qcity config example`).
pub const EXAMPLE_TOML: &str = r#"# qcity.toml — every key is optional; shown with its default.
# Layers: defaults → this file → environment (QCITY_SECTION__KEY, e.g. QCITY_SERVER__BIND,
# or the short forms QCITY_BIND, QCITY_DATA_DIR, QCITY_DATABASE_URL) → command-line flags.

[server]
# Address and port to listen on (flag: --bind).
bind = "127.0.0.1:8080"
# Public URL behind your reverse proxy; https:// turns on Secure cookies.
public_url = ""
# Default UI language: "zh-CN" or "en" (users can switch; the choice is remembered).
default_lang = "zh-CN"
# Seconds the home dashboard's figures may be reused before they are recomputed (0 = never reuse).
dashboard_cache_seconds = 30
# Reverse proxies whose X-Forwarded-For names the client (CIDRs, e.g. ["127.0.0.1/32"]); login
# throttling counts per client address, so list your proxy here or every user shares its address.
# Environment: QCITY_SERVER__TRUSTED_PROXIES=127.0.0.1/32,10.0.0.0/8
trusted_proxies = []

[database]
# Directory for the embedded SQLite database (flag: --data-dir).
data_dir = "qcity-data"
# Empty = SQLite in data_dir. For scale: "postgres://user:pass@host:5432/qcity" (flag: --database-url).
url = ""
max_connections = 8
# SQLite durability: "full" fsyncs every commit (nothing accepted is lost on power failure).
sqlite_synchronous = "full"
# SQLite page cache per pooled connection (MiB, allocated as used): bulk meter backfills stay in
# memory instead of spilling to the WAL mid-transaction.
sqlite_cache_mib = 32
# Cap on the SQLite database's size in pages (usually 4 KiB each); 0 = no cap. Past it writes are
# refused with 507 `storage_full`, as on a full disk, and reads go on.
sqlite_max_page_count = 0

[security]
session_idle_minutes = 30
session_absolute_hours = 12
# Login throttling: failures allowed per account and per client address within the window.
login_max_failures = 5
login_max_failures_per_ip = 30
login_window_minutes = 15
# Seconds an API token's user is reused without a database read (0 = never). Revocations made
# in the web UI apply at once; from the command line against a running server, within this time.
token_cache_seconds = 5

[log]
# tracing filter directives, e.g. "info,qcity_platform=debug".
filter = "info"
# "text" or "json".
format = "text"

[demo]
# Seed of the deterministic demo-city generator (qcity demo).
seed = 20151

[mqtt]
# IoT ingest over MQTT (elevator alarms on qcity/{city}/elevator/{rescue_code}/alarm, meter
# readings on qcity/{city}/meter/{meter_id}/reading). Empty = off; HTTP ingest always works.
url = ""
client_id = "qcity"

[upload]
# Limits of every file import (CSV or XLSX: equipment registry, indicator values, survey
# fieldwork, meter readings, temperatures). Past a byte limit the server answers 413, past a
# row / column / cell limit 422, problem+json naming the limit.
# Largest upload (bytes). Meter-reading ingest allows at least 64 MiB whatever this says.
max_bytes = 16777216
# Most rows of a table, the header included (Excel's own maximum is 1048576).
max_rows = 100000
max_columns = 1000
# Most bytes an XLSX workbook may hold once unzipped (a 1 MB zip can unzip to 1 GB).
max_decompressed_bytes = 268435456
# Most cells of a table laid out as a grid (each row as wide as its last used cell).
max_cells = 5000000
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_to_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE_TOML).expect("example parses");
        assert_eq!(parsed.server.bind, Config::default().server.bind);
        assert_eq!(parsed.upload.max_rows, Config::default().upload.max_rows);
        assert_eq!(parsed.upload.max_bytes, Config::default().upload.max_bytes);
        assert_eq!(
            parsed.upload.max_decompressed_bytes,
            Config::default().upload.max_decompressed_bytes
        );
        parsed.validate().expect("example is valid");
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut c = Config::default();
        c.server.bind = "nonsense".into();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("server.bind")
        );
        let mut c = Config::default();
        c.database.url = "mysql://x".into();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("database.url")
        );
        let mut c = Config::default();
        c.security.session_idle_minutes = 0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("security.session_idle_minutes")
        );
    }

    #[test]
    fn trusted_proxies_are_validated_and_read_from_the_environment() {
        let mut c = Config::default();
        c.server.trusted_proxies = vec!["10.0.0.0/8".into(), "10.0.0.0/40".into()];
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("server.trusted_proxies"), "{err}");
        // SAFETY: no other test in this module reads this variable.
        unsafe { std::env::set_var("QCITY_SERVER__TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8") };
        let c = Config::load(None, &Overrides::default());
        unsafe { std::env::remove_var("QCITY_SERVER__TRUSTED_PROXIES") };
        let c = c.expect("valid list");
        assert_eq!(c.server.trusted_proxies, ["127.0.0.1/32", "10.0.0.0/8"]);
        let parsed: Config =
            toml::from_str("[server]\ntrusted_proxies = [\"::1/128\"]\n").expect("toml list");
        assert_eq!(parsed.server.trusted_proxies, ["::1/128"]);
    }

    #[test]
    fn unknown_key_in_file_is_an_error() {
        let dir = std::env::temp_dir().join(format!("qcity-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("q.toml");
        std::fs::write(&f, "[server]\nbindd = \"x\"\n").unwrap();
        let err = Config::load(Some(&f), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("bindd"), "{err}");
    }

    #[test]
    fn unrelated_qcity_variables_are_not_configuration() {
        // SAFETY: tests in this module do not read this variable concurrently.
        unsafe { std::env::set_var("QCITY_SOME_TOOL_SETTING", "x") };
        let c = Config::load(None, &Overrides::default());
        unsafe { std::env::remove_var("QCITY_SOME_TOOL_SETTING") };
        assert!(c.is_ok(), "{:?}", c.err());
    }

    #[test]
    fn flags_override_file() {
        let dir = std::env::temp_dir().join(format!("qcity-cfg2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("q.toml");
        std::fs::write(&f, "[server]\nbind = \"127.0.0.1:9000\"\n").unwrap();
        let c = Config::load(Some(&f), &Overrides::default()).unwrap();
        assert_eq!(c.server.bind, "127.0.0.1:9000");
        let o = Overrides {
            bind: Some("127.0.0.1:9001".into()),
            ..Default::default()
        };
        let c = Config::load(Some(&f), &o).unwrap();
        assert_eq!(c.server.bind, "127.0.0.1:9001");
    }
}
