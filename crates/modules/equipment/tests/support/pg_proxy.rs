//! A TCP proxy between qcity's pool and PostgreSQL that can fail like a real outage, so no real
//! server restart is needed:
//! - [`Mode::Blackhole`]: the server hangs. New connections are accepted and never answered,
//!   existing ones stall (nothing is forwarded); clients only learn through their timeouts.
//! - [`Mode::Refuse`]: the server is down behind a pooler. The listener is closed (connects are
//!   refused at once) and existing connections are reset.
//!
//! Back to [`Mode::Pass`], stalled connections are closed (as a restarted server would) and new
//! ones are forwarded again.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    Blackhole,
    Refuse,
}

pub struct Proxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
}

impl Proxy {
    /// Listens on a free local port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = bind("127.0.0.1:0".parse().expect("address")).await;
        let addr = listener.local_addr().expect("local address");
        let (tx, rx) = watch::channel(Mode::Pass);
        tokio::spawn(serve(listener, addr, upstream, rx));
        Proxy { addr, mode: tx }
    }

    pub fn set(&self, m: Mode) {
        self.mode.send_replace(m);
    }
}

async fn bind(addr: SocketAddr) -> TcpListener {
    loop {
        let s = TcpSocket::new_v4().expect("socket");
        s.set_reuseaddr(true).expect("SO_REUSEADDR");
        if s.bind(addr).is_ok()
            && let Ok(l) = s.listen(128)
        {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn serve(
    mut listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Mode>,
) {
    loop {
        tokio::select! {
            a = listener.accept() => {
                let Ok((client, _)) = a else { continue };
                let m = *mode.borrow();
                let rx = mode.clone();
                match m {
                    Mode::Pass => { tokio::spawn(forward(client, upstream, rx)); }
                    Mode::Blackhole => { tokio::spawn(hold(client, rx)); }
                    Mode::Refuse => { let _ = client.set_zero_linger(); }
                }
            }
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
                if *mode.borrow() == Mode::Refuse {
                    drop(listener);
                    while *mode.borrow_and_update() == Mode::Refuse {
                        if mode.changed().await.is_err() {
                            return;
                        }
                    }
                    listener = bind(addr).await;
                }
            }
        }
    }
}

/// Keeps an accepted connection open without a word until the outage ends, then closes it.
async fn hold(client: TcpStream, mut mode: watch::Receiver<Mode>) {
    while *mode.borrow_and_update() == Mode::Blackhole {
        if mode.changed().await.is_err() {
            break;
        }
    }
    if *mode.borrow() == Mode::Refuse {
        let _ = client.set_zero_linger();
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        let _ = client.set_zero_linger();
        return;
    };
    let (mut a, mut b) = ([0u8; 16 * 1024], [0u8; 16 * 1024]);
    loop {
        tokio::select! {
            r = client.read(&mut a) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => if server.write_all(&a[..n]).await.is_err() { return },
            },
            r = server.read(&mut b) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => if client.write_all(&b[..n]).await.is_err() { return },
            },
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = *mode.borrow_and_update();
                match now {
                    Mode::Pass => {}
                    Mode::Blackhole => {
                        // Stall: forward nothing until the outage ends, then close.
                        hold(client, mode).await;
                        return;
                    }
                    Mode::Refuse => {
                        let _ = client.set_zero_linger();
                        let _ = server.set_zero_linger();
                        return;
                    }
                }
            }
        }
    }
}
