//! Open-loop load generator for the 96333 intake (`POST /api/v1/incidents`), like wrk2: a
//! constant offered rate spread over a fixed set of HTTP/1.1 keep-alive connections, each
//! request's latency counted from the time it was *scheduled* to be sent (so a slow answer
//! that holds up the requests behind it is charged to them too: coordinated omission
//! corrected). A closed-loop tool (wrk) measures saturation throughput instead; its latency
//! is only `connections / throughput` (Little's law).
//!
//! Request `i` (0, 1, 2, …) is scheduled at `start + i / rate` on connection `i % connections`;
//! a connection still waiting for its previous answer sends as soon as that answer arrives.
//! Every request carries a unique `Idempotency-Key` and a rescue code cycling through
//! `[rescue_first, rescue_first + rescue_count)`.
//!
//! ```text
//! cargo run --release -p qcity-equipment --example intake_load -- \
//!     --addr 127.0.0.1:18193 --token "$TOKEN" --rate 1000 [--connections 200] [--duration 20] \
//!     [--rescue-first 110001] [--rescue-count 20000] [--tag run1]
//! ```
//!
//! Prints one line: `rate_offered=… achieved=… ok=… errors=… p50_ms=… p90_ms=… p99_ms=…
//! p999_ms=… max_ms=…` (machine-readable `key=value` pairs; `bench/equipment/run.sh` reads it).
//! Runs on one thread (the load generator should not take both cores from the server).

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Args {
    addr: String,
    token: String,
    rate: f64,
    connections: usize,
    duration: f64,
    rescue_first: u64,
    rescue_count: u64,
    tag: String,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:18193".into(),
        token: std::env::var("QCITY_TOKEN").unwrap_or_default(),
        rate: 1000.0,
        connections: 200,
        duration: 20.0,
        rescue_first: 110_001,
        rescue_count: 1000,
        tag: "0".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        let num = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| format!("{k}: not a number: {v}"))
        };
        match k.as_str() {
            "--addr" => a.addr = v,
            "--token" => a.token = v,
            "--rate" => a.rate = num(&v)?,
            "--connections" => a.connections = num(&v)? as usize,
            "--duration" => a.duration = num(&v)?,
            "--rescue-first" => a.rescue_first = num(&v)? as u64,
            "--rescue-count" => a.rescue_count = num(&v)? as u64,
            "--tag" => a.tag = v,
            _ => return Err(format!("unknown option {k}")),
        }
    }
    if a.rate <= 0.0 || a.connections == 0 || a.duration <= 0.0 || a.rescue_count == 0 {
        return Err("rate, connections, duration and rescue-count must be positive".into());
    }
    Ok(a)
}

/// What one connection saw: latencies (µs, from the scheduled send time) of 201 answers, and
/// the number of other answers / failures.
#[derive(Default)]
struct Seen {
    lat_us: Vec<u64>,
    errors: u64,
    last_done: Option<Instant>,
}

/// Reads one HTTP/1.1 response (Content-Length framing) from `s`; returns its status.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad response head");
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(bad)?;
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(bad)?;
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

async fn connection(a: std::sync::Arc<Args>, c: usize, start: Instant, nonce: u128) -> Seen {
    let mut seen = Seen::default();
    // Connected before the clock starts (reconnected below if the server closes it).
    let mut stream: Option<TcpStream> = TcpStream::connect(&a.addr).await.ok();
    if let Some(s) = &stream {
        let _ = s.set_nodelay(true);
    }
    let mut buf = Vec::with_capacity(8192);
    let total = (a.rate * a.duration).round() as u64;
    let mut i = c as u64;
    while i < total {
        let sched = start + Duration::from_secs_f64(i as f64 / a.rate);
        tokio::time::sleep_until(sched.into()).await;
        let code = a.rescue_first + (i * 7919) % a.rescue_count;
        let body =
            format!(r#"{{"rescue_code":"{code}","channel":"phone","caller_phone":"13800000000"}}"#);
        let req = format!(
            "POST /api/v1/incidents HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nIdempotency-Key: ol-{}-{nonce}-{i}\r\nContent-Length: {}\r\n\r\n{body}",
            a.addr,
            a.token,
            a.tag,
            body.len()
        );
        let mut ok = false;
        // One retry on a fresh connection if the kept-alive one was closed.
        for _ in 0..2 {
            if stream.is_none() {
                match TcpStream::connect(&a.addr).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        stream = Some(s);
                    }
                    Err(_) => break,
                }
            }
            let Some(s) = stream.as_mut() else { break };
            let r = async {
                s.write_all(req.as_bytes()).await?;
                read_response(s, &mut buf).await
            }
            .await;
            match r {
                Ok(status) => {
                    ok = status == 201;
                    if !ok && seen.errors < 3 {
                        let text = String::from_utf8_lossy(&buf);
                        eprintln!("status {status}: {}", text.lines().last().unwrap_or(""));
                    }
                    break;
                }
                Err(_) => stream = None,
            }
        }
        let done = Instant::now();
        if ok {
            seen.lat_us
                .push(done.saturating_duration_since(sched).as_micros() as u64);
        } else {
            seen.errors += 1;
        }
        seen.last_done = Some(done);
        i += a.connections as u64;
    }
    seen
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[k.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn main() {
    let a = match parse_args() {
        Ok(a) => std::sync::Arc::new(a),
        Err(e) => {
            eprintln!("intake_load: {e}");
            std::process::exit(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("intake_load: runtime: {e}");
            std::process::exit(1);
        }
    };
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // Connect everything first: the clock starts a little later.
    let start = Instant::now() + Duration::from_millis(200);
    let seen: Vec<Seen> = rt.block_on(async {
        let tasks: Vec<_> = (0..a.connections)
            .map(|c| tokio::spawn(connection(a.clone(), c, start, nonce)))
            .collect();
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            out.push(t.await.unwrap_or_default());
        }
        out
    });
    let end = seen.iter().filter_map(|s| s.last_done).max();
    let mut lat: Vec<u64> = seen.iter().flat_map(|s| s.lat_us.iter().copied()).collect();
    lat.sort_unstable();
    let errors: u64 = seen.iter().map(|s| s.errors).sum();
    let elapsed = end
        .map(|e| e.saturating_duration_since(start).as_secs_f64())
        .unwrap_or(0.0);
    let achieved = if elapsed > 0.0 {
        lat.len() as f64 / elapsed
    } else {
        0.0
    };
    println!(
        "rate_offered={} achieved={:.0} ok={} errors={} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} p999_ms={:.2} max_ms={:.2}",
        a.rate,
        achieved,
        lat.len(),
        errors,
        pct(&lat, 50.0),
        pct(&lat, 90.0),
        pct(&lat, 99.0),
        pct(&lat, 99.9),
        lat.last().map(|&m| m as f64 / 1000.0).unwrap_or(f64::NAN),
    );
}
