//! Goals: a target amount that members fill with contributions, with milestones
//! (25/50/75/100 % by default, or the workspace's own).
//!
//! Every change announces the goal as it now is (`goal:updated`); a contribution or a
//! lowered target that reaches milestones completes each one once (`milestone:completed`,
//! lowest first), and reaching the target achieves the goal once (`goal:achieved`).
//! Reached milestones and an achieved goal stay so when the target is raised later:
//! they record what happened, and are not announced twice.

use crate::model::ids::WorkspaceId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub use crate::model::goal::*;

#[server(endpoint = "goals/list", input = crate::wire::Form)]
pub async fn list_goals(workspace_id: WorkspaceId) -> Result<GoalList, AppError> {
    let guard =
        crate::server::authz::member(workspace_id, crate::model::workspace::Need::Read).await?;
    ssr::list(&guard.state, workspace_id, guard.user.id).await
}

/// What the goals page shows: the workspace (with the caller's role) and its goals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalsPageData {
    pub user: crate::auth::SessionUser,
    pub workspace: crate::workspaces::WorkspaceSummary,
    pub goals: GoalList,
}
#[server(endpoint = "goals/page", input = crate::wire::Form)]
pub async fn load_goals_page(workspace_id: WorkspaceId) -> Result<GoalsPageData, AppError> {
    let (state, user) = crate::server::authz::signed_in().await?;
    // A non-member gets "Workspace not found", as everywhere.
    let workspace = crate::workspaces::ssr::summary(&state, &user, workspace_id).await?;
    let goals = ssr::list(&state, workspace_id, user.id).await?;
    Ok(GoalsPageData {
        user,
        workspace,
        goals,
    })
}

#[server(endpoint = "goals/create", input = crate::wire::Form)]
pub async fn create_goal(
    workspace_id: WorkspaceId,
    name: String,
    target: String,
    currency: String,
    #[server(default)] milestones: String,
) -> Result<GoalInfo, AppError> {
    ssr::create(workspace_id, name, target, currency, milestones).await
}

/// Renames a goal or changes its target (in its currency).
#[server(endpoint = "goals/update", input = crate::wire::Form)]
pub async fn update_goal(
    workspace_id: WorkspaceId,
    id: i64,
    name: String,
    target: String,
) -> Result<GoalInfo, AppError> {
    ssr::update(workspace_id, id, name, target).await
}

/// Adds `amount` (in the goal's currency) to what is saved.
#[server(endpoint = "goals/contribute", input = crate::wire::Form)]
pub async fn contribute(
    workspace_id: WorkspaceId,
    id: i64,
    amount: String,
) -> Result<GoalInfo, AppError> {
    ssr::contribute(workspace_id, id, amount).await
}

#[server(endpoint = "goals/delete", input = crate::wire::Form)]
pub async fn delete_goal(workspace_id: WorkspaceId, id: i64) -> Result<(), AppError> {
    ssr::delete(workspace_id, id).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use sqlx::Any;

    use super::*;
    use crate::error::AppResult;
    use crate::live::Event;
    use crate::model::workspace::Need;
    use crate::{
        live::{
            catalog::{Deleted, Milestone, MilestoneInfo},
            Stream,
        },
        server::{authz::Caller, events::Write, now_ms, outbox, AppState},
    };

    type Row = (i64, String, i64, i64, String, Option<i64>);
    const SELECT: &str =
        "SELECT id, name, target_minor, saved_minor, currency, achieved_at FROM goals";

    async fn milestones<'e, E: sqlx::Executor<'e, Database = Any>>(
        ex: E,
        goal_id: i64,
    ) -> AppResult<Vec<Milestone>> {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT percent, reached_at FROM goal_milestones WHERE goal_id = $1 ORDER BY percent",
        )
        .bind(goal_id)
        .fetch_all(ex)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(percent, reached)| Milestone {
                percent: percent as u8,
                reached: reached.is_some(),
            })
            .collect())
    }

    fn info((id, name, target_minor, saved_minor, currency, achieved_at): Row) -> GoalInfo {
        GoalInfo {
            id,
            name,
            target_minor,
            saved_minor,
            currency,
            milestones: Vec::new(),
            achieved: achieved_at.is_some(),
        }
    }

    async fn fetch(tx: &mut Write, ws: WorkspaceId, id: i64) -> AppResult<GoalInfo> {
        let row: Row = sqlx::query_as(&format!("{SELECT} WHERE workspace_id = $1 AND id = $2"))
            .bind(ws)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| AppError::not_found("Goal"))?;
        let mut goal = info(row);
        goal.milestones = milestones(&mut **tx, id).await?;
        Ok(goal)
    }

    /// The caller has checked that the user may read the workspace.
    pub async fn list(
        state: &AppState,
        workspace_id: WorkspaceId,
        reader: crate::model::ids::UserId,
    ) -> AppResult<GoalList> {
        let mut tx = crate::server::authz::read_snapshot(&state.db, workspace_id, reader).await?;
        let cursor = outbox::head_in(&mut *tx, Stream::Workspace(workspace_id)).await?;
        let rows: Vec<Row> =
            sqlx::query_as(&format!("{SELECT} WHERE workspace_id = $1 ORDER BY id"))
                .bind(workspace_id)
                .fetch_all(&mut *tx)
                .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let mut goal = info(row);
            goal.milestones = milestones(&mut *tx, goal.id).await?;
            items.push(goal);
        }
        tx.commit().await?;
        Ok(GoalList { items, cursor })
    }

    pub async fn create(
        workspace_id: WorkspaceId,
        name: String,
        target: String,
        currency: String,
        milestones: String,
    ) -> AppResult<GoalInfo> {
        let now = now_ms();
        let (Caller { state, user, .. }, mut tx) =
            Write::guarded(workspace_id, Need::Write, now).await?;
        let input = GoalInput::parse(&name, &target, &currency)?;
        let percents = parse_milestones(&milestones)?;
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM goals WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_one(&mut *tx)
            .await?;
        if n >= MAX_GOALS {
            return Err(AppError::validation(
                "name",
                format!("A workspace can have at most {MAX_GOALS} goals."),
            ));
        }
        let id = crate::server::db::insert_id(
            &mut tx,
            sqlx::query(
                "INSERT INTO goals (workspace_id, name, currency, target_minor, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(workspace_id)
            .bind(&input.name)
            .bind(&input.currency)
            .bind(input.target_minor)
            .bind(user.id)
            .bind(now),
        )
        .await?;
        for p in &percents {
            sqlx::query("INSERT INTO goal_milestones (goal_id, percent) VALUES ($1, $2)")
                .bind(id)
                .bind(*p as i64)
                .execute(&mut *tx)
                .await?;
        }
        let goal = fetch(&mut tx, workspace_id, id).await?;
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::GoalCreated(goal.clone()),
        )
        .await?;
        tx.commit(&state.hub).await?;
        tracing::info!(workspace_id = workspace_id.0, goal_id = id, "goal created");
        Ok(goal)
    }

    pub async fn update(
        workspace_id: WorkspaceId,
        id: i64,
        name: String,
        target: String,
    ) -> AppResult<GoalInfo> {
        let now = now_ms();
        let (Caller { state, .. }, mut tx) = Write::guarded(workspace_id, Need::Write, now).await?;
        let before = fetch(&mut tx, workspace_id, id).await?;
        let input = GoalInput::parse(&name, &target, &before.currency)?;
        sqlx::query("UPDATE goals SET name = $1, target_minor = $2 WHERE id = $3")
            .bind(&input.name)
            .bind(input.target_minor)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let goal = announce(&mut tx, workspace_id, id).await?;
        tx.commit(&state.hub).await?;
        tracing::info!(workspace_id = workspace_id.0, goal_id = id, "goal updated");
        Ok(goal)
    }

    pub async fn contribute(
        workspace_id: WorkspaceId,
        id: i64,
        amount: String,
    ) -> AppResult<GoalInfo> {
        let now = now_ms();
        let (Caller { state, user, .. }, mut tx) =
            Write::guarded(workspace_id, Need::Write, now).await?;
        // Locks the goal's row: concurrent contributions add up one after the other.
        let found: Option<(String,)> = sqlx::query_as(
            "UPDATE goals SET saved_minor = saved_minor WHERE workspace_id = $1 AND id = $2 RETURNING currency",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let (currency,) = found.ok_or_else(|| AppError::not_found("Goal"))?;
        let amount_minor = crate::money::parse_amount(&amount, &currency)
            .map_err(|e| AppError::validation("amount", e.to_string()))?;
        sqlx::query("UPDATE goals SET saved_minor = saved_minor + $1 WHERE id = $2")
            .bind(amount_minor)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO goal_contributions (goal_id, amount_minor, created_by, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(amount_minor)
        .bind(user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let goal = announce(&mut tx, workspace_id, id).await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            goal_id = id,
            amount_minor,
            "goal contribution"
        );
        Ok(goal)
    }

    /// After a goal changed in `tx`: completes the milestones it has newly reached and
    /// achieves it if it reached its target (each once), then announces `goal:updated`,
    /// each `milestone:completed` (lowest first) and `goal:achieved`.
    async fn announce(tx: &mut Write, ws: WorkspaceId, id: i64) -> AppResult<GoalInfo> {
        let now = tx.now();
        let (target, saved): (i64, i64) =
            sqlx::query_as("SELECT target_minor, saved_minor FROM goals WHERE id = $1")
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
        let mut newly: Vec<(i64,)> = sqlx::query_as(
            "UPDATE goal_milestones SET reached_at = $1 \
             WHERE goal_id = $2 AND reached_at IS NULL AND percent * $3 <= $4 * 100 RETURNING percent",
        )
        .bind(now)
        .bind(id)
        .bind(target)
        .bind(saved)
        .fetch_all(&mut **tx)
        .await?;
        newly.sort_unstable();
        let achieved = sqlx::query(
            "UPDATE goals SET achieved_at = $1 WHERE id = $2 AND achieved_at IS NULL AND saved_minor >= target_minor",
        )
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        let goal = fetch(tx, ws, id).await?;
        tx.emit(Stream::Workspace(ws), Event::GoalUpdated(goal.clone()))
            .await?;
        for (percent,) in newly {
            let event = Event::MilestoneCompleted(MilestoneInfo {
                goal_id: id,
                percent: percent as u8,
                name: goal.name.clone(),
            });
            tx.emit(Stream::Workspace(ws), event).await?;
        }
        if achieved {
            let event = Event::GoalAchieved(goal.clone());
            tx.emit(Stream::Workspace(ws), event).await?;
        }
        Ok(goal)
    }

    pub async fn delete(workspace_id: WorkspaceId, id: i64) -> AppResult<()> {
        let (Caller { state, .. }, mut tx) =
            Write::guarded(workspace_id, Need::Write, now_ms()).await?;
        let done = sqlx::query("DELETE FROM goals WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppError::not_found("Goal"));
        }
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::GoalDeleted(Deleted { id }),
        )
        .await?;
        tx.commit(&state.hub).await?;
        tracing::info!(workspace_id = workspace_id.0, goal_id = id, "goal deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Event;
    use crate::live::{
        catalog::{Milestone, MilestoneInfo},
        follow::{apply_batch, Step},
        Envelope, Priority, Stream,
    };

    #[test]
    fn milestones_default_and_validate() {
        assert_eq!(parse_milestones("").unwrap(), vec![25, 50, 75, 100]);
        assert_eq!(parse_milestones("50%, 10 ,50").unwrap(), vec![10, 50]);
        for bad in ["0", "101", "x", "10,,20", &"5,".repeat(11)] {
            assert!(parse_milestones(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_list_follows_goal_events() {
        let goal = |saved: i64, reached: bool| GoalInfo {
            id: 4,
            name: "Laptop".into(),
            target_minor: 1000,
            saved_minor: saved,
            currency: "EUR".into(),
            milestones: vec![Milestone {
                percent: 50,
                reached,
            }],
            achieved: false,
        };
        let at = |seq, event| Envelope {
            seq,
            stream: Stream::Workspace(WorkspaceId(1)),
            timestamp: 0,
            priority: Priority::Normal,
            event,
        };
        let mut list = GoalList {
            items: vec![],
            cursor: 0,
        };
        let batch = [
            at(1, Event::GoalCreated(goal(0, false))),
            at(2, Event::GoalUpdated(goal(600, false))),
            at(
                3,
                Event::MilestoneCompleted(MilestoneInfo {
                    goal_id: 4,
                    percent: 50,
                    name: "Laptop".into(),
                }),
            ),
        ];
        assert_eq!(apply_batch(&mut list, &batch), Step::Applied);
        assert_eq!(list.items, vec![goal(600, true)]);
        assert_eq!(list.items[0].percent(), 60);
        let gone = at(
            4,
            Event::GoalDeleted(crate::live::catalog::Deleted { id: 4 }),
        );
        assert_eq!(apply_batch(&mut list, &[gone]), Step::Applied);
        assert!(list.items.is_empty());
    }
}
