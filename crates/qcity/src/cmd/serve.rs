//! `qcity serve` and `qcity demo`.

use crate::modules;
use anyhow::{Context, Result};
use qcity_platform::config::Config;
use qcity_platform::demo::{self, DemoCity};
use qcity_platform::web::{self, AppState};
use qcity_platform::{DemoContext, db, migration};
use std::future::IntoFuture;
use std::net::SocketAddr;

/// Sets up logging from the configuration (text or JSON to stderr).
pub fn init_tracing(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if cfg.log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Migrates, optionally seeds the demo city, and serves until interrupted.
pub async fn serve(cfg: Config, demo_city: bool) -> Result<()> {
    init_tracing(&cfg);
    let addr = cfg.bind_addr()?;
    let dbc = db::connect(&cfg)
        .await
        .context("connecting to the database")?;
    let mods = modules::all();
    let migs = modules::migrations(&mods);
    migration::migrate(&dbc, &migs)
        .await
        .context("migrating the database")?;
    migration::check_schema(&dbc, &migs).await?;
    let state = AppState::new(dbc.clone(), cfg.clone(), mods.clone());
    if demo_city {
        let city = demo::seed_demo_city(&dbc, cfg.demo.seed)
            .await
            .context("seeding the demo city")?;
        print_accounts(&city, addr);
        let ctx = DemoContext {
            db: dbc.clone(),
            city_id: city.city_id,
            city_code: demo::DEMO_CITY_CODE.to_string(),
            seed: cfg.demo.seed,
            districts: city.districts.clone(),
            streets: city.streets.clone(),
            jobs: state.jobs.clone(),
        };
        for m in mods.iter() {
            seed_module(m.as_ref(), &ctx).await?;
        }
    }
    for m in mods.iter() {
        m.start_background(&state)
            .await
            .map_err(|e| anyhow::anyhow!("starting module {}: {e}", m.name()))?;
    }
    qcity_platform::jobs::start_housekeeping(&state);
    let shutdown = state.shutdown.clone();
    let app = web::router(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, database = db::backend_name(&dbc), "qcity listening");
    eprintln!(
        "qcity {} listening on http://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    // On SIGTERM / ctrl-c: stop accepting, tell long-lived streams and background loops to end
    // (the shutdown signal in the state), let requests in flight finish, but for at most
    // GRACEFUL_SHUTDOWN; then exit anyway.
    let signalled = {
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            shutdown.trigger();
        }
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signalled);
    tokio::select! {
        r = server.into_future() => r?,
        _ = async {
            shutdown.triggered().await;
            tokio::time::sleep(GRACEFUL_SHUTDOWN).await;
        } => {
            tracing::warn!(
                seconds = GRACEFUL_SHUTDOWN.as_secs(),
                "requests still running after the graceful-shutdown limit; exiting"
            );
        }
    }
    Ok(())
}

/// Longest wait for requests in flight after a shutdown signal.
const GRACEFUL_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(10);

/// Seeds one module's demo data. Seeders are idempotent and transactional, so when another
/// module's background generation holds SQLite's write lock, waiting and trying again is safe.
async fn seed_module(m: &dyn qcity_platform::Module, ctx: &DemoContext) -> Result<()> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match m.seed_demo(ctx).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 15 && e.to_string().contains("database is locked") => {
                tracing::warn!(
                    module = m.name(),
                    attempt,
                    "database busy while seeding demo data; retrying"
                );
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            Err(e) => return Err(anyhow::anyhow!("demo data of module {}: {e}", m.name())),
        }
    }
}

fn print_accounts(city: &DemoCity, addr: SocketAddr) {
    let fresh: Vec<_> = city
        .accounts
        .iter()
        .filter(|a| a.password.is_some())
        .collect();
    if fresh.is_empty() {
        eprintln!(
            "Demo city ready (accounts exist already; reset a password with `qcity user passwd NAME --password-stdin`)."
        );
        return;
    }
    eprintln!("\nDemo city 示范市 ready. Accounts (passwords are shown this once):");
    eprintln!("  {:<12} {:<16} {:<10} password", "user", "role", "region");
    for a in fresh {
        eprintln!(
            "  {:<12} {:<16} {:<10} {}",
            a.username,
            a.role.as_str(),
            a.region,
            a.password.as_deref().unwrap_or("")
        );
    }
    eprintln!("Open http://{addr}/login\n");
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
