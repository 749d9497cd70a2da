//! One broker connection: its event loop runs in its own task, never cancelled (cancelling
//! `EventLoop::poll` part-way through a read can lose a publish that then holds a slot of the
//! broker's in-flight window for good). It subscribes on every (re)connect, parses each publish
//! and forwards it, waiting while the writer is behind (the bounded channel is the back-pressure;
//! while a batch is being retried nothing is acknowledged, so the broker itself stops sending
//! once its in-flight window is full and the connection only exchanges pings).

use super::ack::AckGate;
use super::consumer::{Frame, Handler, Options};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The writer's handle on a connection: its client (for acks) and its generation.
pub(crate) struct Link {
    pub client: AsyncClient,
    pub gate: Arc<AckGate>,
}

/// Starts connection `k` and returns the writer's handle on it.
pub(crate) fn spawn<H: Handler>(
    k: usize,
    mut mqtt: MqttOptions,
    opts: &Options,
    filter: String,
    tx: mpsc::Sender<Frame<H::Parsed>>,
) -> Link {
    mqtt.set_clean_session(false);
    mqtt.set_manual_acks(true);
    if mqtt.keep_alive() == Duration::from_secs(60) {
        // rumqttc's default; 30 s notices a dead broker sooner.
        mqtt.set_keep_alive(Duration::from_secs(30));
    }
    mqtt.set_max_packet_size(opts.max_packet, opts.max_packet);
    // Acks of a whole channel and batch fit; `try_ack` never waits on it anyway.
    let (client, mut eventloop) = AsyncClient::new(mqtt, 2 * (opts.channel + opts.max_frames));
    let gate = Arc::new(AckGate::default());
    let (c, g, name) = (client.clone(), gate.clone(), opts.name.clone());
    tokio::spawn(async move {
        let mut backoff = 1u64;
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    backoff = 1;
                    tracing::info!(consumer = %name, connection = k, "MQTT connected; subscribing to {filter}");
                    // Not awaited here: this task is the one that drains the request channel.
                    let (c, f) = (c.clone(), filter.clone());
                    tokio::spawn(async move {
                        if let Err(e) = c.subscribe(f, QoS::AtLeastOnce).await {
                            tracing::error!(error = %e, "MQTT subscribe failed");
                        }
                    });
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let parsed = H::parse(&p.topic, &p.payload);
                    let frame = Frame {
                        generation: g.current(),
                        connection: k,
                        received_at: chrono::Utc::now(),
                        publish: p,
                        parsed,
                    };
                    if tx.send(frame).await.is_err() {
                        return; // the writer is gone
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    // poll() has already dropped the acks queued for the lost connection; this
                    // drops any queued since, under the lock the writer acks under.
                    g.disconnected(|| eventloop.clean());
                    tracing::warn!(consumer = %name, connection = k, error = %e, "MQTT connection error; retrying in {backoff} s");
                    tokio::time::sleep(Duration::from_secs(backoff)).await;
                    backoff = (backoff * 2).min(30);
                }
            }
        }
    });
    Link { client, gate }
}
