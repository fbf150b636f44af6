//! Every event LiveLedger emits: its wire name, typed payload, priority, whether it is
//! kept in the event log (and so replayed after a reconnect) and whether it raises a
//! notification. Wire names follow the legacy Socket.IO apps (`expense:created`,
//! `earnings:new` …) so their clients' authors recognise them.

use serde::{Deserialize, Serialize};

// The entities events carry live in `model`; re-exported so an event's payload types
// are all reachable from here.
pub use crate::model::{
    budget::BudgetInfo,
    goal::{GoalInfo, Milestone},
    notification::{Notification, NotificationLevel, NotificationRow},
};
use crate::model::{
    earning::Earning,
    expense::Expense,
    ids::{UserId, WorkspaceId},
    workspace::Role,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Normal,
    High,
    Critical,
}

crate::json::json_enum!(Priority {
    Low = "low",
    Normal = "normal",
    High = "high",
    Critical = "critical",
});

/// One changed field of an earning, as `earnings:updated` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}
crate::json::json_struct!(FieldChange { field, from, to });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub id: i64,
}
crate::json::json_struct!(Deleted { id });

/// An expense deleted. `was` is the row as it was, so a list that has not loaded it
/// (a later page, or outside what it shows) can still tell whether it counted and take
/// it out of its totals. Events logged before `was` existed carry the id only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpenseGone {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was: Option<Expense>,
}
crate::json::json_struct!(ExpenseGone { id, was });

/// Several expenses deleted at once, with the rows as they were (as `ExpenseGone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpensesGone {
    pub ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub was: Vec<Expense>,
}
crate::json::json_struct!(ExpensesGone { ids, was = default });

/// An earning deleted, with the row as it was (as `ExpenseGone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningGone {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was: Option<Earning>,
}
crate::json::json_struct!(EarningGone { id, was });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningUpdate {
    pub earning: Earning,
    pub changes: Vec<FieldChange>,
}
crate::json::json_struct!(EarningUpdate { earning, changes });

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MilestoneInfo {
    pub goal_id: i64,
    pub percent: u8,
    /// The goal's name, for the notification.
    #[serde(default)]
    pub name: String,
}
crate::json::json_struct!(MilestoneInfo { goal_id, percent, name = default });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformInfo {
    pub id: i64,
    pub name: String,
    pub color: String,
}
crate::json::json_struct!(PlatformInfo { id, name, color });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub user_id: UserId,
    pub display_name: String,
    pub role: Role,
}
crate::json::json_struct!(MemberInfo {
    user_id,
    display_name,
    role
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberGone {
    pub user_id: UserId,
}
crate::json::json_struct!(MemberGone { user_id });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRef {
    pub id: i64,
}
crate::json::json_struct!(NotificationRef { id });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceInfo {
    pub id: WorkspaceId,
    pub name: String,
}
crate::json::json_struct!(WorkspaceInfo { id, name });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteInfo {
    pub role: Role,
    pub expires_at: i64,
}
crate::json::json_struct!(InviteInfo { role, expires_at });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub title: String,
    pub message: String,
}
crate::json::json_struct!(Announcement { title, message });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub what: String,
    pub created: u32,
    pub skipped: u32,
}
crate::json::json_struct!(SyncReport {
    what,
    created,
    skipped
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    pub what: String,
    pub message: String,
}
crate::json::json_struct!(ErrorReport { what, message });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRevoked {
    pub reason: String,
}
crate::json::json_struct!(SessionRevoked { reason });

/// Declares the catalog once: the `Event` enum (wire name ⇄ typed payload), the
/// payload-free `EventKind`, and each kind's properties.
macro_rules! catalog {
    ($( $variant:ident($payload:ty) = $name:literal, $priority:ident, persisted: $persisted:literal, notifies: $notifies:literal; )*) => {
        /// An event with its typed payload. On the wire: `"event": <name>, "data": <payload>`.
        /// Read only inside an `Envelope` (`Event::read`).
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(tag = "event", content = "data")]
        pub enum Event {
            $( #[serde(rename = $name)] $variant($payload), )*
            /// An event whose payload the web client does not read, only its kind (see
            /// `read_in_browser`): made by the client's reader alone. The server never
            /// makes one, and one cannot be written.
            #[serde(skip)]
            Unread(EventKind),
        }

        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventKind {
            $( $variant, )*
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$( EventKind::$variant, )*];

            /// The wire name.
            pub fn name(self) -> &'static str {
                match self { $( EventKind::$variant => $name, )* }
            }

            pub fn from_name(name: &str) -> Option<EventKind> {
                match name { $( $name => Some(EventKind::$variant), )* _ => None }
            }

            pub fn priority(self) -> Priority {
                match self { $( EventKind::$variant => Priority::$priority, )* }
            }

            /// Kept in the event log and replayed on resume; otherwise delivered live only.
            pub fn persisted(self) -> bool {
                match self { $( EventKind::$variant => $persisted, )* }
            }

            /// Raises a user notification (a toast and an entry in the notification list).
            pub fn notifies(self) -> bool {
                match self { $( EventKind::$variant => $notifies, )* }
            }
        }

        impl Event {
            pub fn kind(&self) -> EventKind {
                match self {
                    $( Event::$variant(_) => EventKind::$variant, )*
                    Event::Unread(kind) => *kind,
                }
            }

            /// The event of `kind` whose payload the reader is at (`Envelope`'s reader).
            /// In the web client, `read_in_browser`.
            pub fn read(kind: EventKind, r: &mut crate::json::Reader<'_>) -> crate::json::JsonResult<Event> {
                #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
                return read_in_browser(kind, r);
                #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
                {
                    use crate::json::FromJson;
                    match kind { $( EventKind::$variant => <$payload>::read(r).map(Event::$variant), )* }
                }
            }
        }
    };
}

/// The web client's reader of an event's payload. It reads those of the notification
/// centre's list and toasts (`pages::notify`, `live::follow`'s `NotificationList`), the
/// announcement, and a workspace's new name or its deletion
/// (`pages::common::watch_workspace`); of every other event it uses the kind alone (the
/// event log; the panels read themselves again, `pages::live_part`), so their payloads
/// are skipped, and their readers are not in the WASM module.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn read_in_browser(
    kind: EventKind,
    r: &mut crate::json::Reader<'_>,
) -> crate::json::JsonResult<Event> {
    use crate::json::FromJson;
    Ok(match kind {
        EventKind::NotificationCreated => Event::NotificationCreated(Notification::read(r)?),
        EventKind::NotificationRead => Event::NotificationRead(NotificationRef::read(r)?),
        EventKind::NotificationDismissed => Event::NotificationDismissed(NotificationRef::read(r)?),
        EventKind::SystemAnnouncement => Event::SystemAnnouncement(Announcement::read(r)?),
        EventKind::WorkspaceUpdated => Event::WorkspaceUpdated(WorkspaceInfo::read(r)?),
        EventKind::WorkspaceDeleted => Event::WorkspaceDeleted(WorkspaceInfo::read(r)?),
        _ => {
            r.skip()?;
            Event::Unread(kind)
        }
    })
}

catalog! {
    ExpenseCreated(Expense) = "expense:created", Normal, persisted: true, notifies: true;
    ExpenseUpdated(Expense) = "expense:updated", Normal, persisted: true, notifies: false;
    ExpenseDeleted(ExpenseGone) = "expense:deleted", Normal, persisted: true, notifies: false;
    ExpensesBulkDeleted(ExpensesGone) = "expenses:bulk-deleted", Normal, persisted: true, notifies: false;
    EarningNew(Earning) = "earnings:new", Normal, persisted: true, notifies: true;
    EarningUpdated(EarningUpdate) = "earnings:updated", Normal, persisted: true, notifies: false;
    EarningDeleted(EarningGone) = "earnings:deleted", Normal, persisted: true, notifies: false;
    PlatformCreated(PlatformInfo) = "platform:created", Low, persisted: true, notifies: false;
    PlatformUpdated(PlatformInfo) = "platform:updated", Low, persisted: true, notifies: false;
    GoalCreated(GoalInfo) = "goal:created", Normal, persisted: true, notifies: true;
    GoalUpdated(GoalInfo) = "goal:updated", Normal, persisted: true, notifies: false;
    GoalAchieved(GoalInfo) = "goal:achieved", High, persisted: true, notifies: true;
    GoalDeleted(Deleted) = "goal:deleted", Normal, persisted: true, notifies: false;
    MilestoneCompleted(MilestoneInfo) = "milestone:completed", High, persisted: true, notifies: true;
    BudgetCreated(BudgetInfo) = "budget:created", Normal, persisted: true, notifies: false;
    BudgetUpdated(BudgetInfo) = "budget:updated", Normal, persisted: true, notifies: false;
    BudgetDeleted(Deleted) = "budget:deleted", Normal, persisted: true, notifies: false;
    BudgetWarning(BudgetInfo) = "budget:warning", High, persisted: true, notifies: true;
    BudgetExceeded(BudgetInfo) = "budget:exceeded", Critical, persisted: true, notifies: true;
    MemberJoined(MemberInfo) = "member:joined", Normal, persisted: true, notifies: true;
    MemberLeft(MemberGone) = "member:left", Normal, persisted: true, notifies: true;
    MemberRoleChanged(MemberInfo) = "member:role-changed", High, persisted: true, notifies: true;
    InviteCreated(InviteInfo) = "invite:created", Low, persisted: true, notifies: false;
    InviteRevoked(InviteInfo) = "invite:revoked", Low, persisted: true, notifies: false;
    WorkspaceUpdated(WorkspaceInfo) = "workspace:updated", Normal, persisted: true, notifies: false;
    WorkspaceDeleted(WorkspaceInfo) = "workspace:deleted", High, persisted: true, notifies: true;
    NotificationCreated(Notification) = "notification:created", Normal, persisted: true, notifies: false;
    NotificationRead(NotificationRef) = "notification:read", Low, persisted: true, notifies: false;
    NotificationDismissed(NotificationRef) = "notification:dismissed", Low, persisted: true, notifies: false;
    SessionRevoked(SessionRevoked) = "session:revoked", Critical, persisted: false, notifies: false;
    SystemAnnouncement(Announcement) = "system:announcement", High, persisted: false, notifies: true;
    SyncCompleted(SyncReport) = "sync:completed", Normal, persisted: true, notifies: true;
    ErrorOccurred(ErrorReport) = "error:occurred", High, persisted: true, notifies: true;
}

crate::json::json_parsed!(
    EventKind,
    EventKind::from_name,
    "the name of an event of the catalog"
);

impl EventKind {
    /// Whether the members of the workspace are told by the notify policy
    /// (`server::events::Write::emit`). The other kinds that notify are addressed by
    /// their writers to chosen people (`Write::notify`): a deleted workspace's members,
    /// an importer, everyone connected (an announcement).
    pub fn notifies_members(self) -> bool {
        self.notifies()
            && !matches!(
                self,
                EventKind::WorkspaceDeleted
                    | EventKind::SyncCompleted
                    | EventKind::ErrorOccurred
                    | EventKind::SystemAnnouncement
            )
    }

    /// Alerts about the workspace itself (a budget crossed, a goal reached) are news to
    /// whoever caused them as well; activity (a new expense) is news to the others only.
    pub fn notifies_actor(self) -> bool {
        matches!(
            self,
            EventKind::BudgetWarning
                | EventKind::BudgetExceeded
                | EventKind::MilestoneCompleted
                | EventKind::GoalAchieved
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_at_least_thirty_uniquely_named_events() {
        assert!(EventKind::ALL.len() >= 30, "{}", EventKind::ALL.len());
        let mut names: Vec<_> = EventKind::ALL.iter().map(|k| k.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), EventKind::ALL.len(), "duplicate wire names");
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_name(k.name()), Some(*k));
        }
    }

    /// The members are told by the policy of exactly these kinds (the ones
    /// `events::describe` words); every alert among them tells the actor too.
    #[test]
    fn who_the_notify_policy_tells() {
        let mut members: Vec<_> = EventKind::ALL
            .iter()
            .filter(|k| k.notifies_members())
            .map(|k| k.name())
            .collect();
        members.sort();
        assert_eq!(
            members,
            [
                "budget:exceeded",
                "budget:warning",
                "earnings:new",
                "expense:created",
                "goal:achieved",
                "goal:created",
                "member:joined",
                "member:left",
                "member:role-changed",
                "milestone:completed",
            ]
        );
        assert!(EventKind::ALL
            .iter()
            .filter(|k| k.notifies_actor())
            .all(|k| k.notifies_members()));
    }

    #[test]
    fn wire_form_is_event_name_plus_data() {
        let e = Event::ExpenseDeleted(ExpenseGone { id: 7, was: None });
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"event": "expense:deleted", "data": {"id": 7}})
        );
        assert_eq!(
            json["event"],
            e.kind().name(),
            "serde name and catalog name agree"
        );
        // Read back as an envelope reads it: the kind from the name, then the payload.
        let kind: EventKind = crate::json::from_str(&json["event"].to_string()).unwrap();
        let data = json["data"].to_string();
        assert_eq!(
            Event::read(kind, &mut crate::json::Reader::new(&data)).unwrap(),
            e
        );
        let bulk = Event::ExpensesBulkDeleted(ExpensesGone {
            ids: vec![1, 2],
            was: vec![],
        });
        assert_eq!(
            serde_json::to_value(&bulk).unwrap()["event"],
            "expenses:bulk-deleted"
        );
    }

    #[test]
    fn legacy_names_are_kept() {
        for name in [
            "expense:created",
            "expense:updated",
            "expense:deleted",
            "expenses:bulk-deleted",
            "earnings:new",
            "earnings:updated",
            "earnings:deleted",
            "goal:created",
            "goal:achieved",
            "goal:deleted",
            "milestone:completed",
            "budget:warning",
            "budget:exceeded",
            "member:joined",
            "member:left",
            "member:role-changed",
            "notification:created",
            "sync:completed",
            "error:occurred",
        ] {
            assert!(EventKind::from_name(name).is_some(), "{name} missing");
        }
    }
}
