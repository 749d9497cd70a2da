//! `qcity`: serve the platform, seed the demo city, migrate, manage users and tokens, and run
//! the engines from the command line.

mod cmd;
mod modules;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use qcity_platform::config::{Config, EXAMPLE_TOML, Overrides};
use std::io::Read;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "qcity",
    version,
    about = "Open platform for a quality-strong city (质量强市)"
)]
struct Cli {
    /// Configuration file (default: ./qcity.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Where the database is: every subcommand that touches it takes these.
#[derive(Args, Clone, Default)]
struct DbArgs {
    /// Directory of the embedded SQLite database.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL (`postgres://…` or `sqlite://…`).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT")]
    bind: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application and API.
    Serve(ServeArgs),
    /// Create (idempotently) the demo city 示范市 with data from every module, then serve it.
    Demo(ServeArgs),
    /// Apply pending database migrations (a no-op when up to date).
    Migrate(DbArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the cities this deployment serves.
    #[command(subcommand)]
    City(CityCommand),
    /// Manage a city's administrative regions.
    #[command(subcommand)]
    Region(RegionCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Survey statistics: PLS-SEM satisfaction models, raking, design-based estimates.
    #[command(subcommand)]
    Survey(cmd::survey::SurveyCommand),
    /// Composite indicators (OECD/JRC pipeline): run, weights, TOPSIS, uncertainty.
    #[command(subcommand)]
    Index(cmd::index::IndexCommand),
    /// Energy M&V: CalTRACK baselines, avoided energy, meter-data validation (VEE).
    #[command(subcommand)]
    Energy(cmd::energy::EnergyCommand),
    /// Acceptance sampling (ISO 2859-1): plans, OC curves, zero-acceptance, switching rules.
    #[command(subcommand)]
    Sampling(cmd::sampling::SamplingCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        name: String,
        #[arg(long)]
        role: String,
        /// Region subtree the user may see (default: the whole city).
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// City code, when the deployment serves several cities.
        #[arg(long, value_name = "CODE")]
        city: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a new password, read from standard input; ends the user's sessions.
    Passwd {
        name: String,
        #[arg(long, value_name = "CODE")]
        city: Option<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List accounts.
    List {
        #[arg(long, value_name = "CODE")]
        city: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an account and end its sessions.
    Disable {
        name: String,
        #[arg(long, value_name = "CODE")]
        city: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue an API token for a user; prints only the token.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
        #[arg(long, value_name = "CODE")]
        city: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by its id or by the token itself.
    Revoke {
        token: String,
        #[arg(long, value_name = "CODE")]
        city: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum CityCommand {
    /// Add a city (its six-digit GB/T 2260 code ends in 00), with its root region.
    Add {
        code: String,
        #[arg(long)]
        name_zh: String,
        #[arg(long)]
        name_en: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the cities.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum RegionCommand {
    /// Import regions from CSV (`code,parent_code,name_zh,name_en,urban,population,area_km2,boundary`;
    /// boundary is a GeoJSON geometry). All rows or none; errors name the row and column.
    Import {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        #[arg(long, value_name = "CODE")]
        city: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example qcity.toml.
    Example,
}

fn load_config(file: Option<&PathBuf>, bind: Option<String>, db: &DbArgs) -> Result<Config> {
    let o = Overrides {
        bind,
        data_dir: db.data_dir.clone(),
        database_url: db.database_url.clone(),
    };
    Ok(Config::load(file.map(|p| p.as_path()), &o)?)
}

fn read_password_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let pw = s.trim_end_matches(['\r', '\n']).to_string();
    if pw.is_empty() {
        bail!("no password on standard input");
    }
    Ok(pw)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Config(ConfigCommand::Example) => {
            print!("{EXAMPLE_TOML}");
            Ok(())
        }
        Command::Survey(c) => cmd::survey::run(c),
        Command::Index(c) => cmd::index::run(c),
        Command::Energy(c) => cmd::energy::run(c),
        Command::Sampling(c) => cmd::sampling::run(c),
        command => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(run(cli.config, command))
        }
    }
}

async fn run(config: Option<PathBuf>, command: Command) -> Result<()> {
    use cmd::admin;
    match command {
        Command::Serve(a) => {
            let cfg = load_config(config.as_ref(), a.bind, &a.db)?;
            cmd::serve::serve(cfg, false).await
        }
        Command::Demo(a) => {
            let cfg = load_config(config.as_ref(), a.bind, &a.db)?;
            cmd::serve::serve(cfg, true).await
        }
        Command::Migrate(db) => {
            let cfg = load_config(config.as_ref(), None, &db)?;
            admin::migrate(&cfg).await
        }
        Command::User(u) => match u {
            UserCommand::Add {
                name,
                role,
                region,
                city,
                display_name,
                password_stdin: _,
                db,
            } => {
                let cfg = load_config(config.as_ref(), None, &db)?;
                let pw = read_password_stdin()?;
                admin::user_add(
                    &cfg,
                    &name,
                    &role,
                    region.as_deref(),
                    city.as_deref(),
                    display_name.as_deref(),
                    pw,
                )
                .await
            }
            UserCommand::Passwd {
                name,
                city,
                password_stdin: _,
                db,
            } => {
                let cfg = load_config(config.as_ref(), None, &db)?;
                let pw = read_password_stdin()?;
                admin::user_passwd(&cfg, &name, city.as_deref(), pw).await
            }
            UserCommand::List { city, db } => {
                let cfg = load_config(config.as_ref(), None, &db)?;
                admin::user_list(&cfg, city.as_deref()).await
            }
            UserCommand::Disable { name, city, db } => {
                let cfg = load_config(config.as_ref(), None, &db)?;
                admin::user_disable(&cfg, &name, city.as_deref()).await
            }
        },
        Command::Token(t) => match t {
            TokenCommand::Create {
                user,
                name,
                city,
                db,
            } => {
                let cfg = load_config(config.as_ref(), None, &db)?;
                admin::token_create(&cfg, &user, &name, city.as_deref()).await
            }
            TokenCommand::Revoke { token, city, db } => {
                let cfg = load_config(config.as_ref(), None, &db)?;
                admin::token_revoke(&cfg, &token, city.as_deref()).await
            }
        },
        Command::City(CityCommand::Add {
            code,
            name_zh,
            name_en,
            db,
        }) => {
            let cfg = load_config(config.as_ref(), None, &db)?;
            admin::city_add(&cfg, &code, &name_zh, &name_en).await
        }
        Command::City(CityCommand::List { db }) => {
            let cfg = load_config(config.as_ref(), None, &db)?;
            admin::city_list(&cfg).await
        }
        Command::Region(RegionCommand::Import { file, city, db }) => {
            let cfg = load_config(config.as_ref(), None, &db)?;
            admin::region_import(&cfg, &file, city.as_deref()).await
        }
        Command::Config(_)
        | Command::Survey(_)
        | Command::Index(_)
        | Command::Energy(_)
        | Command::Sampling(_) => {
            unreachable!("handled before the runtime starts")
        }
    }
}
