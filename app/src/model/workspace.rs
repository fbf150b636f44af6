//! Workspaces, their members, roles and invites.
//!
//! The model layer: plain types and their rules, no storage, no server functions.

use serde::{Deserialize, Serialize};

use crate::error::AppResult;
use crate::model::ids::{UserId, WorkspaceId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

crate::json::json_enum!(Role { Owner = "owner", Admin = "admin", Member = "member", Viewer = "viewer" });
crate::json::json_enum!(WorkspaceKind { Personal = "personal", Team = "team" });

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
            Role::Viewer => "Viewer",
        }
    }

    /// The one permission rule: what each role may do.
    pub fn allows(self, need: Need) -> bool {
        match need {
            Need::Read => true,
            Need::Write => self != Role::Viewer,
            Need::Manage => matches!(self, Role::Owner | Role::Admin),
        }
    }

    pub fn can_write(self) -> bool {
        self.allows(Need::Write)
    }

    pub fn can_manage(self) -> bool {
        self.allows(Need::Manage)
    }
}

/// What an action needs from the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// See the workspace's data: any member.
    Read,
    /// Create, edit and delete records: members, admins, owners.
    Write,
    /// Invite people, change roles, rename or delete: admins and owners.
    Manage,
}

impl Need {
    /// Why a member whose role does not allow this is refused.
    pub fn refusal(self) -> &'static str {
        match self {
            Need::Read | Need::Write => "Viewers can look but not change this workspace's data.",
            Need::Manage => "Only owners and admins can manage the team.",
        }
    }
}

/// A personal workspace (one per account, made at sign-up, never shared or deleted) or
/// a team workspace (members, invites, roles). Stored and sent as `personal` / `team`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceKind {
    Personal,
    Team,
}

impl WorkspaceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceKind::Personal => "personal",
            WorkspaceKind::Team => "team",
        }
    }

    /// A stored kind; anything unknown is read as `Personal`, the kind with fewer powers.
    pub fn from_stored(s: &str) -> WorkspaceKind {
        if s == "team" {
            WorkspaceKind::Team
        } else {
            WorkspaceKind::Personal
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSummary {
    pub id: WorkspaceId,
    pub name: String,
    pub kind: WorkspaceKind,
    pub role: Role,
}
crate::json::json_struct!(WorkspaceSummary {
    id,
    name,
    kind,
    role
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub code: String,
    pub role: Role,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub workspace: WorkspaceSummary,
    pub members: Vec<Member>,
    /// Open invites; only owners and admins see them.
    pub invites: Vec<Invite>,
    /// Who has the workspace open right now, for owners and admins (`None` for the
    /// others): `(user id, open sockets)` per connected member, on the answering
    /// instance.
    pub connected: Option<Vec<(UserId, usize)>>,
}

/// What the settings page of a workspace shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSettings {
    pub workspace: WorkspaceSummary,
    /// Its IANA time zone: whose months and "today" it uses.
    pub time_zone: String,
    /// The zones it can be set to, for owners and admins (empty for the others).
    pub zones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitePreview {
    pub workspace_name: String,
    /// The name of the member who made the invite.
    pub invited_by: String,
    pub role: Role,
    pub already_member: bool,
}

pub const MAX_WORKSPACE_NAME: usize = 80;
/// Invites are valid for 7 days.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
pub const MAX_MEMBERS: i64 = 500;

pub fn validate_workspace_name(raw: &str) -> AppResult<String> {
    super::text::one_line(
        raw,
        "name",
        MAX_WORKSPACE_NAME,
        "Give the workspace a name.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one permission rule, role by role: every member reads, viewers change
    /// nothing, only owners and admins manage.
    #[test]
    fn each_role_allows_what_it_should() {
        let table = [
            (Role::Owner, [true, true, true]),
            (Role::Admin, [true, true, true]),
            (Role::Member, [true, true, false]),
            (Role::Viewer, [true, false, false]),
        ];
        for (role, [read, write, manage]) in table {
            assert_eq!(role.allows(Need::Read), read, "{role:?} read");
            assert_eq!(role.allows(Need::Write), write, "{role:?} write");
            assert_eq!(role.allows(Need::Manage), manage, "{role:?} manage");
            assert_eq!(role.can_write(), write);
            assert_eq!(role.can_manage(), manage);
        }
    }
}
