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

crate::json::json_enum!(NotificationLevel {
    Success = "success",
    Error = "error",
    Info = "info",
    Warning = "warning",
});

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
    /// How long a toast stays, in ms; `None` until dismissed; `Some(0)`: no toast (its
    /// member hears this topic as "unread only", `Hearing::Unread`).
    pub duration_ms: Option<u32>,
    pub created_at: i64,
    /// Read (acknowledged) by its user; always false in `notification:created`.
    #[serde(default)]
    pub read: bool,
}
crate::json::json_struct!(Notification { id, level, title, message, workspace_id, dismissible, duration_ms, created_at, read = default });

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
crate::json::json_struct!(NotificationList {
    items,
    unread,
    cursor
});

/// What a workspace notification is about, the unit a member chooses to hear or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Topic {
    Expenses,
    Earnings,
    Budgets,
    Goals,
    Team,
    Imports,
    Messages,
}

/// How a member hears about a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hearing {
    /// Nothing is stored or sent.
    Off,
    /// Stored and counted unread, without a toast.
    Unread,
    /// Stored, counted unread, and shown as a toast when it arrives.
    Toast,
}

impl Topic {
    pub const ALL: [Topic; 7] = [
        Topic::Budgets,
        Topic::Goals,
        Topic::Team,
        Topic::Imports,
        Topic::Messages,
        Topic::Expenses,
        Topic::Earnings,
    ];

    /// The stored (and form) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Expenses => "expenses",
            Topic::Earnings => "earnings",
            Topic::Budgets => "budgets",
            Topic::Goals => "goals",
            Topic::Team => "team",
            Topic::Imports => "imports",
            Topic::Messages => "messages",
        }
    }

    pub fn from_stored(s: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// What the settings page calls it.
    pub fn label(self) -> &'static str {
        match self {
            Topic::Expenses => "A teammate adds an expense",
            Topic::Earnings => "A teammate logs an earning",
            Topic::Budgets => "A budget reaches 80 % or is exceeded",
            Topic::Goals => "Goals: new goals, milestones, goals achieved",
            Topic::Team => "Team: someone joins, leaves or changes role",
            Topic::Imports => "Your imports finish or fail",
            Topic::Messages => "Messages from owners and admins",
        }
    }

    /// Quiet by default: what needs attention, not every teammate's entry.
    pub fn default_hearing(self) -> Hearing {
        match self {
            Topic::Expenses | Topic::Earnings => Hearing::Off,
            _ => Hearing::Toast,
        }
    }

    /// How someone hears this topic, given the mode they stored for it (`None`, or a
    /// mode no longer known: the default).
    pub fn hearing(self, stored: Option<&str>) -> Hearing {
        stored
            .and_then(Hearing::from_stored)
            .unwrap_or(self.default_hearing())
    }
}

impl Hearing {
    pub const ALL: [Hearing; 3] = [Hearing::Toast, Hearing::Unread, Hearing::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            Hearing::Off => "off",
            Hearing::Unread => "unread",
            Hearing::Toast => "toast",
        }
    }

    pub fn from_stored(s: &str) -> Option<Hearing> {
        Hearing::ALL.into_iter().find(|h| h.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Hearing::Off => "Nothing",
            Hearing::Unread => "Unread only",
            Hearing::Toast => "Toast and unread",
        }
    }
}

/// A member's choice for every topic of one workspace, in `Topic::ALL` order.
pub type Hearings = Vec<(Topic, Hearing)>;

impl NotificationLevel {
    /// Error, then warning, success, info: which of several notices leads a burst.
    pub fn severity(self) -> u8 {
        match self {
            NotificationLevel::Error => 3,
            NotificationLevel::Warning => 2,
            NotificationLevel::Success => 1,
            NotificationLevel::Info => 0,
        }
    }
}
