//! Notifications: what a member is told, at which level, and how long a toast stays.
//!
//! The model layer: plain types and their rules, no storage, no server functions.

use serde::{Deserialize, Serialize};

use super::ids::WorkspaceId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationLevel {
    Success,
    Error,
    Info,
    Warning,
}

impl NotificationLevel {
    /// The stored (and wire) name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationLevel::Success => "success",
            NotificationLevel::Error => "error",
            NotificationLevel::Warning => "warning",
            NotificationLevel::Info => "info",
        }
    }

    /// Reads a stored name; anything unknown is `Info`.
    pub fn from_stored(s: &str) -> NotificationLevel {
        match s {
            "success" => NotificationLevel::Success,
            "error" => NotificationLevel::Error,
            "warning" => NotificationLevel::Warning,
            _ => NotificationLevel::Info,
        }
    }

    /// How long a toast of this level stays: errors stay until dismissed.
    pub fn toast_ms(self) -> Option<u32> {
        match self {
            NotificationLevel::Success | NotificationLevel::Info => Some(6_000),
            NotificationLevel::Warning => Some(10_000),
            NotificationLevel::Error => None,
        }
    }
}

/// A stored notification's columns: id, workspace, level, title, message, created, read.
pub type NotificationRow = (
    i64,
    Option<WorkspaceId>,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub level: NotificationLevel,
    pub title: String,
    pub message: String,
    /// The workspace it is about, if any (a link target).
    pub workspace_id: Option<WorkspaceId>,
    pub dismissible: bool,
    /// How long a toast stays, in ms; `None` until dismissed.
    pub duration_ms: Option<u32>,
    pub created_at: i64,
    /// Read (acknowledged) by its user; always false in `notification:created`.
    #[serde(default)]
    pub read: bool,
}

impl Notification {
    pub fn from_row(
        (id, workspace_id, level, title, message, created_at, read_at): NotificationRow,
    ) -> Notification {
        let level = NotificationLevel::from_stored(&level);
        Notification {
            id,
            level,
            title,
            message,
            workspace_id,
            dismissible: true,
            duration_ms: level.toast_ms(),
            created_at,
            read: read_at.is_some(),
        }
    }
}

/// The newest notifications shown in the list.
pub const LIST_LIMIT: i64 = 50;
/// At most this many are marked read by one "mark all read".
pub const MARK_ALL_LIMIT: i64 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationList {
    /// Newest first, at most `LIST_LIMIT`.
    pub items: Vec<Notification>,
    /// Unread notifications in all, also those not in `items`.
    pub unread: i64,
    /// The user stream's sequence this snapshot is consistent with.
    pub cursor: i64,
}
