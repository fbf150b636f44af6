//! Every type the browser reads (`json::FromJson`), written by serde as the server
//! writes it and read back: the two sides of the wire cannot drift apart unnoticed.
//! Every event of the catalog is here (a new kind fails until it is added).

use serde::Serialize;

use crate::{
    error::AppError,
    import::{ImportKind, ImportReport, RowProblem},
    json::{self, FromJson},
    live::{
        catalog::*,
        protocol::{event_frame, parse_frame, ErrorCode, ServerFrame},
        Cursor, Envelope, PollResponse, Stream,
    },
    model::{
        budget::BudgetInfo,
        earning::Earning,
        expense::Expense,
        goal::{GoalInfo, Milestone},
        ids::{UserId, WorkspaceId},
        notification::NotificationList,
        workspace::{Role, WorkspaceKind, WorkspaceSummary},
    },
};

fn round_trip<T: FromJson + Serialize + PartialEq + std::fmt::Debug>(value: &T) {
    let text = serde_json::to_string(value).unwrap();
    assert_eq!(&json::from_str::<T>(&text).unwrap(), value, "{text}");
    let pretty = serde_json::to_string_pretty(value).unwrap();
    assert_eq!(&json::from_str::<T>(&pretty).unwrap(), value, "{pretty}");
}

fn expense() -> Expense {
    Expense {
        id: 7,
        workspace_id: WorkspaceId(3),
        amount_minor: 12_345,
        currency: "EUR".into(),
        category: "food".into(),
        description: "Café \"Zum Löwen\" \\ 😀".into(),
        spent_on: "2026-11-30".into(),
        created_by: UserId(2),
        created_by_name: "Ann".into(),
    }
}

fn earning() -> Earning {
    Earning {
        id: 8,
        workspace_id: WorkspaceId(3),
        platform_id: 4,
        platform_name: "Upwork".into(),
        platform_color: "#14a800".into(),
        earned_on: "2026-11-02".into(),
        hours_centi: 150,
        amount_minor: 9_000,
        currency: "USD".into(),
        notes: "line one\nline two".into(),
        created_by: UserId(2),
    }
}

fn budget() -> BudgetInfo {
    BudgetInfo {
        id: 5,
        category: "rent".into(),
        month: "2026-11".into(),
        limit_minor: 100_000,
        spent_minor: 99_999,
        currency: "EUR".into(),
    }
}

fn goal() -> GoalInfo {
    GoalInfo {
        id: 6,
        name: "Van".into(),
        target_minor: 1_000_000,
        saved_minor: 500_000,
        currency: "EUR".into(),
        milestones: vec![
            Milestone {
                percent: 25,
                reached: true,
            },
            Milestone {
                percent: 100,
                reached: false,
            },
        ],
        achieved: false,
    }
}

fn notification() -> Notification {
    Notification {
        id: 11,
        level: NotificationLevel::Warning,
        title: "Budget".into(),
        message: "Rent is at 90 %".into(),
        workspace_id: Some(WorkspaceId(3)),
        dismissible: true,
        duration_ms: None,
        created_at: 1_700_000_000_000,
        read: true,
    }
}

fn summary() -> WorkspaceSummary {
    WorkspaceSummary {
        id: WorkspaceId(3),
        name: "Studio".into(),
        kind: WorkspaceKind::Team,
        role: Role::Viewer,
    }
}

/// One event of every kind of the catalog.
fn every_event() -> Vec<Event> {
    let member = MemberInfo {
        user_id: UserId(9),
        display_name: "Bo".into(),
        role: Role::Admin,
    };
    let invite = InviteInfo {
        role: Role::Member,
        expires_at: 1_800_000_000,
    };
    let platform = PlatformInfo {
        id: 4,
        name: "Fiverr".into(),
        color: "#1dbf73".into(),
    };
    let workspace = WorkspaceInfo {
        id: WorkspaceId(3),
        name: "Studio".into(),
    };
    let events = vec![
        Event::ExpenseCreated(expense()),
        Event::ExpenseUpdated(expense()),
        Event::ExpenseDeleted(ExpenseGone {
            id: 7,
            was: Some(expense()),
        }),
        Event::ExpenseDeleted(ExpenseGone { id: 7, was: None }),
        Event::ExpensesBulkDeleted(ExpensesGone {
            ids: vec![7, 8],
            was: vec![expense()],
        }),
        Event::ExpensesBulkDeleted(ExpensesGone {
            ids: vec![7],
            was: vec![],
        }),
        Event::EarningNew(earning()),
        Event::EarningUpdated(EarningUpdate {
            earning: earning(),
            changes: vec![FieldChange {
                field: "hours".into(),
                from: "1.00".into(),
                to: "1.50".into(),
            }],
        }),
        Event::EarningDeleted(EarningGone {
            id: 8,
            was: Some(earning()),
        }),
        Event::PlatformCreated(platform.clone()),
        Event::PlatformUpdated(platform),
        Event::GoalCreated(goal()),
        Event::GoalUpdated(goal()),
        Event::GoalAchieved(GoalInfo {
            achieved: true,
            milestones: vec![],
            ..goal()
        }),
        Event::GoalDeleted(Deleted { id: 6 }),
        Event::MilestoneCompleted(MilestoneInfo {
            goal_id: 6,
            percent: 50,
            name: "Van".into(),
        }),
        Event::BudgetCreated(budget()),
        Event::BudgetUpdated(budget()),
        Event::BudgetDeleted(Deleted { id: 5 }),
        Event::BudgetWarning(budget()),
        Event::BudgetExceeded(budget()),
        Event::MemberJoined(member.clone()),
        Event::MemberLeft(MemberGone { user_id: UserId(9) }),
        Event::MemberRoleChanged(member),
        Event::InviteCreated(invite.clone()),
        Event::InviteRevoked(invite),
        Event::WorkspaceUpdated(workspace.clone()),
        Event::WorkspaceDeleted(workspace),
        Event::NotificationCreated(notification()),
        Event::NotificationRead(NotificationRef { id: 11 }),
        Event::NotificationDismissed(NotificationRef { id: 11 }),
        Event::SessionRevoked(SessionRevoked {
            reason: "signed out everywhere".into(),
        }),
        Event::SystemAnnouncement(Announcement {
            title: "Maintenance".into(),
            message: "At 02:00 UTC".into(),
        }),
        Event::SyncCompleted(SyncReport {
            what: "expenses".into(),
            created: 10,
            skipped: 2,
        }),
        Event::ErrorOccurred(ErrorReport {
            what: "import".into(),
            message: "line 3".into(),
        }),
    ];
    let mut kinds: Vec<EventKind> = events.iter().map(Event::kind).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, EventKind::ALL, "an event kind has no sample here");
    events
}

fn envelope(seq: i64, event: Event) -> Envelope {
    Envelope {
        seq,
        stream: Stream::Workspace(WorkspaceId(3)),
        timestamp: 1_700_000_000_000 + seq,
        priority: event.kind().priority(),
        event,
    }
}

#[test]
fn every_event_reads_back_in_its_envelope_and_its_frame() {
    for (i, event) in every_event().into_iter().enumerate() {
        let env = envelope(i as i64 + 1, event);
        round_trip(&env);
        let frame = event_frame(&serde_json::to_string(&env).unwrap());
        assert_eq!(parse_frame(&frame).unwrap(), ServerFrame::Event(env));
    }
}

#[test]
fn the_other_frames_read_back() {
    let frames = [
        ServerFrame::Hello {
            user_id: UserId(2),
            ping_ms: 25_000,
        },
        ServerFrame::Subscribed {
            cursors: vec![Cursor {
                stream: Stream::User(UserId(2)),
                after: 4,
            }],
            resync: vec![Stream::Workspace(WorkspaceId(3))],
            denied: vec![Stream::System],
        },
        ServerFrame::Revoked {
            streams: vec![Stream::Workspace(WorkspaceId(3))],
        },
        ServerFrame::Error {
            code: ErrorCode::TooManyStreams,
            message: "at most 50".into(),
        },
        ServerFrame::Pong,
    ];
    for frame in frames {
        let text = serde_json::to_string(&frame).unwrap();
        assert_eq!(parse_frame(&text).unwrap(), frame, "{text}");
    }
}

#[test]
fn every_answer_the_browser_reads_reads_back() {
    round_trip(&NotificationList {
        items: vec![notification()],
        unread: 1,
        cursor: 9,
    });
    round_trip(&PollResponse {
        events: every_event()
            .into_iter()
            .take(3)
            .enumerate()
            .map(|(i, e)| envelope(i as i64 + 1, e))
            .collect(),
        cursors: vec![Cursor {
            stream: Stream::Workspace(WorkspaceId(3)),
            after: 3,
        }],
        resync: vec![],
        denied: vec![Stream::User(UserId(5))],
        more: true,
    });
    round_trip(&ImportReport {
        kind: ImportKind::Earnings,
        rows: 3,
        columns: vec!["date".into(), "amount".into()],
        preview: vec![vec!["2026-11-01".into(), "1,50".into()]],
        problems: vec![RowProblem {
            line: 2,
            column: Some("amount".into()),
            message: "Not a number.".into(),
        }],
        problem_count: 1,
        created: 0,
        committed: false,
    });
    round_trip(&());
    round_trip(&500_u64);
    // The live panels' answers (`live_part`) and what the islands' data is made of.
    round_trip(&crate::pages::live_part::PartHtml {
        cursor: 41,
        html: "<p class=\"x\">a &lt; b \u{e9}</p>\n".into(),
    });
    round_trip(&summary());
}

/// The serde readers that go through `json` (`serde_via_json!`) work from every input
/// serde_json reads: text, bytes, and a parsed `Value` (the server's tests read that).
#[test]
fn serde_reads_through_json_from_text_bytes_and_values() {
    let error = AppError::RateLimited {
        retry_after_secs: 30,
    };
    let text = serde_json::to_string(&error).unwrap();
    assert_eq!(serde_json::from_str::<AppError>(&text).unwrap(), error);
    assert_eq!(
        serde_json::from_slice::<AppError>(text.as_bytes()).unwrap(),
        error
    );
    let value = serde_json::to_value(&error).unwrap();
    assert_eq!(serde_json::from_value::<AppError>(value).unwrap(), error);
    assert!(serde_json::from_str::<AppError>(r#"{"kind": "teapot"}"#).is_err());
}
