//! Server-wide metrics for `/metrics`, encoded by the `prometheus-client` crate
//! (OpenMetrics text). Every counter is a prometheus-client type defined here and
//! incremented where it is counted (`LiveCounters` and `KindCounters` by the hub and
//! the socket tasks, `Metrics` by the HTTP layer); gauges are a `HubStats` snapshot
//! taken at scrape time. This module imports nothing of the hub: the hub imports it.

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::ConstGauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};

/// A snapshot of the hub: open sockets, their distinct users, streams with listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubStats {
    pub connections: usize,
    pub users: usize,
    pub rooms: usize,
}

/// The live layer's counters besides the per-kind ones (`KindCounters`, whose sums are
/// the events emitted and delivered). `Counter` is an atomic: counting never takes the
/// hub's lock.
#[derive(Default, Debug)]
pub struct LiveCounters {
    pub connections_opened: Counter,
    /// Sockets dropped because their queue filled.
    pub events_dropped_overflow: Counter,
    pub resumes: Counter,
    pub resyncs: Counter,
}

/// One label: an event kind's wire name (`expense:created`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: &'static str,
}

/// A request's method, route pattern (never the raw path: ids would explode the
/// series) and status class.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabel {
    pub method: String,
    pub route: String,
    pub status: u16,
}

type Constructor = fn() -> Histogram;

fn latency_histogram() -> Histogram {
    // 1 ms to about 4 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 13))
}

/// The HTTP side: request latency and polling requests.
pub struct Metrics {
    pub requests: Family<RequestLabel, Histogram, Constructor>,
    pub polls: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Family::new_with_constructor(latency_histogram as Constructor),
            polls: Counter::default(),
        }
    }
}

/// The OpenMetrics text of everything: hub gauges and counters, per-kind event
/// counters, HTTP latency.
pub fn render(
    stats: &HubStats,
    c: &LiveCounters,
    kinds: &KindCounters,
    metrics: &Metrics,
) -> String {
    let mut registry = Registry::with_prefix("liveledger");
    registry.register(
        "live_connections",
        "Open WebSocket connections on this instance",
        ConstGauge::new(stats.connections as i64),
    );
    registry.register(
        "live_users",
        "Distinct users with an open WebSocket on this instance",
        ConstGauge::new(stats.users as i64),
    );
    registry.register(
        "live_rooms",
        "Streams with at least one listening socket on this instance",
        ConstGauge::new(stats.rooms as i64),
    );
    registry.register(
        "live_connections_opened",
        "WebSocket connections opened",
        c.connections_opened.clone(),
    );
    registry.register(
        "live_queue_overflows",
        "Sockets dropped because their queue filled (told to resume)",
        c.events_dropped_overflow.clone(),
    );
    registry.register(
        "live_resumes",
        "Sockets closed with 4008 (resume)",
        c.resumes.clone(),
    );
    registry.register(
        "live_resyncs",
        "Streams answered with resync (cursor older than the log)",
        c.resyncs.clone(),
    );
    registry.register(
        "live_events_emitted",
        "Events read from the log and fanned out, by kind",
        kinds.emitted.clone(),
    );
    registry.register(
        "live_events_delivered",
        "Events queued to sockets, by kind",
        kinds.delivered.clone(),
    );
    registry.register(
        "live_events_dropped",
        "Events not queued because a socket's queue was full, by kind",
        kinds.dropped.clone(),
    );
    registry.register(
        "live_poll_requests",
        "Polling requests (live/poll)",
        metrics.polls.clone(),
    );
    registry.register(
        "http_request_duration_seconds",
        "HTTP request latency by method, route and status",
        metrics.requests.clone(),
    );
    let mut text = String::new();
    if encode(&mut text, &registry).is_err() {
        tracing::error!("could not encode the metrics");
    }
    text
}

/// Per-kind event counters of the hub.
#[derive(Default, Debug)]
pub struct KindCounters {
    pub emitted: Family<KindLabel, Counter>,
    pub delivered: Family<KindLabel, Counter>,
    pub dropped: Family<KindLabel, Counter>,
}
