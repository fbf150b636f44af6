//! The cluster: what connects the instances on one PostgreSQL database. Each instance
//! LISTENs for the streams others wrote to (the log stays the source of truth) and for
//! operator commands, which every instance carries out on its own sockets.

use crate::model::ids::UserId;
use std::sync::Arc;

use super::{close, Hub};
use crate::{
    live::{Event, Stream},
    server::{db::Db, outbox},
};

/// An operator's command that every instance carries out (sent between instances on
/// PostgreSQL's `liveledger_control` channel).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    Announce(crate::live::catalog::Announcement),
    Disconnect { user_id: UserId },
}

impl Hub {
    /// Carries out an operator's command on this instance (see `Control`).
    pub fn apply_control(&self, control: Control) -> usize {
        match control {
            Control::Announce(a) => self.broadcast(Event::SystemAnnouncement(a)),
            Control::Disconnect { user_id } => {
                self.send_to_user(
                    user_id,
                    Event::SessionRevoked(crate::live::catalog::SessionRevoked {
                        reason: "Your sessions were ended by an operator.".into(),
                    }),
                );
                self.close_user(user_id, close::SESSION_ENDED, "session revoked")
            }
        }
    }
}

/// The PostgreSQL channel of operator commands: `[instance, Control]` as JSON.
pub const CONTROL_CHANNEL: &str = "liveledger_control";

/// Carries out `control` here and, on PostgreSQL, on every other instance. Returns
/// how many sockets of this instance it reached.
pub async fn command(hub: &Hub, db: &Db, control: Control) -> crate::error::AppResult<usize> {
    let here = hub.apply_control(control.clone());
    if db.backend == crate::server::db::Backend::Postgres {
        let payload = serde_json::to_string(&(hub.instance, &control)).map_err(|e| {
            tracing::error!(error = %e, "could not serialize a control message");
            crate::error::AppError::Internal
        })?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CONTROL_CHANNEL)
            .bind(payload)
            .execute(&db.pool)
            .await?;
    }
    Ok(here)
}

/// Wakes this instance for commits made by any instance on the same PostgreSQL
/// database: LISTENs on `outbox::WAKE_CHANNEL` and hands each stream to `notify`. After
/// (re)connecting it wakes every room, since notifications sent while it was not
/// listening are lost; the log itself never is. Runs for the life of the process.
pub async fn listen_postgres(hub: Arc<Hub>, url: String) {
    let mut backoff = std::time::Duration::from_secs(1);
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => match listener
                .listen_all([outbox::WAKE_CHANNEL, CONTROL_CHANNEL])
                .await
            {
                Ok(()) => {
                    backoff = std::time::Duration::from_secs(1);
                    hub.wake_all();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(n)) if n.channel() == CONTROL_CHANNEL => {
                                match serde_json::from_str::<(u64, Control)>(n.payload()) {
                                    // Sent by this instance: already carried out.
                                    Ok((from, _)) if from == hub.instance => {}
                                    Ok((_, control)) => {
                                        hub.apply_control(control);
                                    }
                                    Err(e) => tracing::warn!(error = %e, "bad control message"),
                                }
                            }
                            Ok(Some(n)) => {
                                if let Some(stream) = Stream::parse(n.payload()) {
                                    hub.notify(stream);
                                }
                            }
                            // The connection dropped; the next call reconnects and
                            // listens again. Catch up on whatever was missed meanwhile.
                            Ok(None) => hub.wake_all(),
                            Err(e) => {
                                tracing::warn!(error = %e, "lost the PostgreSQL listener");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not LISTEN for live events"),
            },
            Err(e) => tracing::warn!(error = %e, "could not connect the PostgreSQL listener"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
    }
}
