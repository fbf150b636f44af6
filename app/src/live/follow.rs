//! How a list snapshot follows its workspace stream: events are applied to it in
//! place, in sequence order, and anything that cannot be applied exactly asks for a
//! reload instead of guessing.
//!
//! A snapshot carries the cursor it is consistent with (`ExpenseList::cursor`). An
//! event is applied only if its `seq` is exactly `cursor + 1`: an older one is a
//! duplicate (already in the snapshot), a later one means something was missed, and
//! the list must be reloaded. Streams are gap-free for every member (DESIGN.md §3.2),
//! so a gap always means a lost event, never a filtered one.
//!
//! Pure data, no signals: the same code runs in the browser and in the tests, which
//! check that a snapshot plus the events after it equals a fresh snapshot.

use super::{Envelope, Event};
use crate::model::{
    budget::BudgetList,
    earning::{Earning, EarningList},
    expense::{Expense, ExpenseList},
    goal::GoalList,
    notification::NotificationList,
};

/// What applying a batch did to a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// At least one event changed the list (or moved its cursor).
    Applied,
    /// Every event was already in the snapshot.
    Unchanged,
    /// An event is missing or cannot be applied exactly: load the list afresh.
    Reload,
}

/// A snapshot that events of its stream can be applied to.
/// `cursor` and `set_cursor` for a list whose stream position is its `cursor` field
/// (every list here).
macro_rules! cursor_field {
    () => {
        fn cursor(&self) -> i64 {
            self.cursor
        }

        fn set_cursor(&mut self, cursor: i64) {
            self.cursor = cursor;
        }
    };
}

/// Replaces the item `is_it` finds with `item`, or adds `item` and sorts by `order`.
fn upsert<T: Clone>(
    items: &mut Vec<T>,
    item: &T,
    is_it: impl Fn(&T) -> bool,
    order: impl FnMut(&T, &T) -> std::cmp::Ordering,
) {
    match items.iter_mut().find(|x| is_it(x)) {
        Some(x) => *x = item.clone(),
        None => {
            items.push(item.clone());
            items.sort_by(order);
        }
    }
}

pub trait Followed {
    fn cursor(&self) -> i64;
    fn set_cursor(&mut self, cursor: i64);
    /// Applies one event of the stream; `false` when it cannot be applied exactly
    /// (for instance it touches a row outside the loaded window).
    fn apply_event(&mut self, event: &Event) -> bool;
}

/// Applies `batch` (events of the list's stream, oldest first) in order. On `Reload`
/// the list may be half-updated: the caller applies to a copy and keeps it only on
/// `Applied`.
pub fn apply_batch<L: Followed>(list: &mut L, batch: &[Envelope]) -> Step {
    let mut step = Step::Unchanged;
    for envelope in batch {
        // Ephemeral events (seq 0) and events the snapshot already contains.
        if envelope.seq <= list.cursor() {
            continue;
        }
        if envelope.seq != list.cursor() + 1 || !list.apply_event(&envelope.event) {
            return Step::Reload;
        }
        list.set_cursor(envelope.seq);
        step = Step::Applied;
    }
    step
}

/// A list that shows a window of its rows (the newest `LIMIT`, newest date first, then
/// newest id) plus aggregates over all of them. The default methods keep the rows,
/// the count and the aggregates in step when a row comes or goes.
trait Window {
    type Row: Clone;
    const LIMIT: usize;
    fn rows(&mut self) -> &mut Vec<Self::Row>;
    /// How many rows exist, also those outside the window.
    fn count(&mut self) -> &mut i64;
    fn id(row: &Self::Row) -> i64;
    /// The server's order, descending: (date, id).
    fn order(row: &Self::Row) -> (&str, i64);
    /// Adds (`sign` 1) or takes back (`sign` -1) a row's share of the aggregates.
    fn tally(&mut self, row: &Self::Row, sign: i64);

    /// The list shows fewer rows than exist: a removed row would reveal one not loaded.
    fn windowed(&mut self) -> bool {
        let shown = self.rows().len() as i64;
        *self.count() > shown
    }

    fn take(&mut self, id: i64) -> Option<Self::Row> {
        let at = self.rows().iter().position(|r| Self::id(r) == id)?;
        let old = self.rows().remove(at);
        self.tally(&old, -1);
        *self.count() -= 1;
        Some(old)
    }

    fn put(&mut self, row: Self::Row) {
        self.tally(&row, 1);
        *self.count() += 1;
        let rows = self.rows();
        let key = Self::order(&row);
        let at = rows
            .iter()
            .position(|x| Self::order(x) < key)
            .unwrap_or(rows.len());
        rows.insert(at, row);
        rows.truncate(Self::LIMIT);
    }

    /// An edited row: only exact when the old one is in view and nothing is hidden.
    fn replace(&mut self, row: &Self::Row) -> bool {
        if self.windowed() || self.take(Self::id(row)).is_none() {
            return false;
        }
        self.put(row.clone());
        true
    }

    fn remove(&mut self, id: i64) -> bool {
        !self.windowed() && self.take(id).is_some()
    }
}

impl Window for ExpenseList {
    type Row = Expense;
    const LIMIT: usize = crate::model::expense::LIST_LIMIT as usize;
    fn rows(&mut self) -> &mut Vec<Expense> {
        &mut self.items
    }
    fn count(&mut self) -> &mut i64 {
        &mut self.count
    }
    fn id(row: &Expense) -> i64 {
        row.id
    }
    fn order(row: &Expense) -> (&str, i64) {
        (row.spent_on.as_str(), row.id)
    }
    fn tally(&mut self, row: &Expense, sign: i64) {
        if sign > 0 {
            self.totals.add(&row.currency, row.amount_minor);
            self.by_category
                .add(&row.category, &row.currency, row.amount_minor);
        } else {
            self.totals.sub(&row.currency, row.amount_minor);
            self.by_category
                .sub(&row.category, &row.currency, row.amount_minor);
        }
    }
}

impl Followed for ExpenseList {
    cursor_field!();

    fn apply_event(&mut self, event: &Event) -> bool {
        match event {
            Event::ExpenseCreated(e) => {
                self.put(e.clone());
                true
            }
            Event::ExpenseUpdated(e) => self.replace(e),
            Event::ExpenseDeleted(d) => self.remove(d.id),
            Event::ExpensesBulkDeleted(b) => {
                !self.windowed()
                    && b.ids
                        .iter()
                        .all(|id| self.items.iter().any(|e| e.id == *id))
                    && b.ids.iter().all(|id| self.take(*id).is_some())
            }
            // An import adds rows without an event each: load the list afresh.
            Event::SyncCompleted(_) => false,
            // Every other event of the workspace leaves the expenses as they are.
            _ => true,
        }
    }
}

impl Window for EarningList {
    type Row = Earning;
    const LIMIT: usize = crate::model::earning::LIST_LIMIT as usize;
    fn rows(&mut self) -> &mut Vec<Earning> {
        &mut self.items
    }
    fn count(&mut self) -> &mut i64 {
        &mut self.count
    }
    fn id(row: &Earning) -> i64 {
        row.id
    }
    fn order(row: &Earning) -> (&str, i64) {
        (row.earned_on.as_str(), row.id)
    }
    fn tally(&mut self, row: &Earning, sign: i64) {
        let month = row.earned_on.get(..7).unwrap_or("");
        if sign > 0 {
            self.totals.add(&row.currency, row.amount_minor);
            self.by_month.add(month, &row.currency, row.amount_minor);
        } else {
            self.totals.sub(&row.currency, row.amount_minor);
            self.by_month.sub(month, &row.currency, row.amount_minor);
        }
        self.total_hours_centi += sign * row.hours_centi;
    }
}

impl Followed for EarningList {
    cursor_field!();

    fn apply_event(&mut self, event: &Event) -> bool {
        match event {
            Event::EarningNew(e) => {
                self.put(e.clone());
                true
            }
            Event::EarningUpdated(u) => self.replace(&u.earning),
            Event::EarningDeleted(d) => self.remove(d.id),
            Event::PlatformCreated(p) | Event::PlatformUpdated(p) => {
                let platform = crate::model::earning::Platform {
                    id: p.id,
                    name: p.name.clone(),
                    color: p.color.clone(),
                };
                match self.platforms.iter_mut().find(|x| x.id == p.id) {
                    Some(x) => *x = platform,
                    None => {
                        self.platforms.push(platform);
                        self.platforms.sort_by_key(|x| x.id);
                    }
                }
                for e in self.items.iter_mut().filter(|e| e.platform_id == p.id) {
                    e.platform_name = p.name.clone();
                    e.platform_color = p.color.clone();
                }
                true
            }
            Event::SyncCompleted(_) => false,
            _ => true,
        }
    }
}

impl Followed for BudgetList {
    cursor_field!();

    fn apply_event(&mut self, event: &Event) -> bool {
        match event {
            Event::BudgetCreated(b)
            | Event::BudgetUpdated(b)
            | Event::BudgetWarning(b)
            | Event::BudgetExceeded(b) => {
                if b.month == self.month {
                    upsert(
                        &mut self.items,
                        b,
                        |x| x.id == b.id,
                        |x, y| (&x.category, &x.currency).cmp(&(&y.category, &y.currency)),
                    );
                    true
                } else {
                    // Spending in another month leaves this one as it is; a new budget
                    // or a new limit seen from another month (the month turned) needs
                    // a fresh snapshot.
                    self.items
                        .iter()
                        .any(|x| x.id == b.id && x.limit_minor == b.limit_minor)
                }
            }
            Event::BudgetDeleted(d) => {
                self.items.retain(|x| x.id != d.id);
                true
            }
            _ => true,
        }
    }
}

impl Followed for GoalList {
    cursor_field!();

    fn apply_event(&mut self, event: &Event) -> bool {
        match event {
            Event::GoalCreated(g) | Event::GoalUpdated(g) | Event::GoalAchieved(g) => {
                upsert(&mut self.items, g, |x| x.id == g.id, |x, y| x.id.cmp(&y.id));
                true
            }
            Event::MilestoneCompleted(m) => {
                if let Some(g) = self.items.iter_mut().find(|x| x.id == m.goal_id) {
                    for ms in g.milestones.iter_mut().filter(|x| x.percent == m.percent) {
                        ms.reached = true;
                    }
                }
                true
            }
            Event::GoalDeleted(d) => {
                self.items.retain(|x| x.id != d.id);
                true
            }
            _ => true,
        }
    }
}

impl Followed for NotificationList {
    cursor_field!();

    fn apply_event(&mut self, event: &Event) -> bool {
        match event {
            Event::NotificationCreated(n) => {
                if !n.read {
                    self.unread += 1;
                }
                self.items.insert(0, n.clone());
                self.items
                    .truncate(crate::model::notification::LIST_LIMIT as usize);
                true
            }
            // Only sent when a notification goes from unread to read, so the count
            // is right even for one outside the loaded window.
            Event::NotificationRead(r) => {
                self.unread -= 1;
                if let Some(n) = self.items.iter_mut().find(|n| n.id == r.id) {
                    n.read = true;
                }
                true
            }
            Event::NotificationDismissed(r) => match self.items.iter().position(|n| n.id == r.id) {
                Some(at) => {
                    if !self.items.remove(at).read {
                        self.unread -= 1;
                    }
                    true
                }
                None => false,
            },
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        live::{
            catalog::{BulkDeleted, Deleted},
            Priority, Stream,
        },
        model::ids::{UserId, WorkspaceId},
        money::{KeyedTotals, Totals},
    };

    fn expense(id: i64, date: &str, minor: i64) -> Expense {
        Expense {
            id,
            workspace_id: WorkspaceId(1),
            amount_minor: minor,
            currency: "EUR".into(),
            category: "Other".into(),
            description: format!("e{id}"),
            spent_on: date.into(),
            created_by: UserId(1),
            created_by_name: "A".into(),
        }
    }

    fn at(seq: i64, event: Event) -> Envelope {
        Envelope {
            seq,
            stream: Stream::Workspace(WorkspaceId(1)),
            timestamp: 0,
            priority: Priority::Normal,
            event,
        }
    }

    fn list(items: Vec<Expense>, cursor: i64) -> ExpenseList {
        let mut totals = Totals::default();
        let mut by_category = KeyedTotals::default();
        for e in &items {
            totals.add(&e.currency, e.amount_minor);
            by_category.add(&e.category, &e.currency, e.amount_minor);
        }
        ExpenseList {
            count: items.len() as i64,
            items,
            totals,
            by_category,
            cursor,
        }
    }

    fn ids(l: &ExpenseList) -> Vec<i64> {
        l.items.iter().map(|e| e.id).collect()
    }

    #[test]
    fn applies_create_update_delete_in_place_in_server_order() {
        let mut l = list(
            vec![expense(2, "2024-03-02", 200), expense(1, "2024-03-01", 100)],
            5,
        );
        let batch = [
            at(6, Event::ExpenseCreated(expense(3, "2024-03-01", 300))),
            at(7, Event::ExpenseUpdated(expense(2, "2024-02-01", 250))),
            at(8, Event::ExpenseCreated(expense(4, "2024-04-01", 400))),
            at(9, Event::ExpenseDeleted(Deleted { id: 1 })),
        ];
        assert_eq!(apply_batch(&mut l, &batch), Step::Applied);
        assert_eq!(ids(&l), vec![4, 3, 2]);
        assert_eq!(l.totals.0, vec![("EUR".into(), 950)]);
        assert_eq!(l.by_category.0, vec![("Other".into(), "EUR".into(), 950)]);
        assert_eq!((l.count, l.cursor), (3, 9));
    }

    #[test]
    fn duplicates_are_ignored_and_a_gap_asks_for_a_reload() {
        let mut l = list(vec![expense(1, "2024-03-01", 100)], 5);
        let old = at(5, Event::ExpenseDeleted(Deleted { id: 1 }));
        assert_eq!(apply_batch(&mut l, &[old]), Step::Unchanged);
        assert_eq!(ids(&l), vec![1]);
        let skipped = at(7, Event::ExpenseCreated(expense(2, "2024-03-01", 100)));
        assert_eq!(apply_batch(&mut l, &[skipped]), Step::Reload);
    }

    #[test]
    fn rows_outside_the_window_ask_for_a_reload() {
        let mut l = list(vec![expense(1, "2024-03-01", 100)], 5);
        let unknown = at(6, Event::ExpenseDeleted(Deleted { id: 99 }));
        assert_eq!(apply_batch(&mut l.clone(), &[unknown]), Step::Reload);
        // One row shown of two that exist: deleting it would reveal the other.
        l.count = 2;
        let shown = at(6, Event::ExpenseDeleted(Deleted { id: 1 }));
        assert_eq!(apply_batch(&mut l, &[shown]), Step::Reload);
    }

    #[test]
    fn bulk_delete_is_all_or_reload() {
        let l = list(
            vec![expense(2, "2024-03-02", 200), expense(1, "2024-03-01", 100)],
            1,
        );
        let mut all = l.clone();
        let both = at(
            2,
            Event::ExpensesBulkDeleted(BulkDeleted { ids: vec![1, 2] }),
        );
        assert_eq!(apply_batch(&mut all, &[both]), Step::Applied);
        assert!(all.items.is_empty() && all.totals.0.is_empty() && all.count == 0);
        let one_unknown = at(
            2,
            Event::ExpensesBulkDeleted(BulkDeleted { ids: vec![1, 3] }),
        );
        let mut partial = l.clone();
        assert_eq!(apply_batch(&mut partial, &[one_unknown]), Step::Reload);
    }

    #[test]
    fn other_events_of_the_stream_move_the_cursor_only() {
        let mut l = list(vec![expense(1, "2024-03-01", 100)], 5);
        let member = at(
            6,
            Event::MemberLeft(crate::live::catalog::MemberGone { user_id: UserId(3) }),
        );
        assert_eq!(apply_batch(&mut l, &[member]), Step::Applied);
        assert_eq!((ids(&l), l.cursor), (vec![1], 6));
    }

    #[test]
    fn a_full_window_keeps_its_newest_rows() {
        let limit = crate::model::expense::LIST_LIMIT;
        let items: Vec<Expense> = (0..limit)
            .map(|i| expense(limit - i + 10, "2024-03-01", 1))
            .collect();
        let mut l = list(items, 0);
        let older = at(1, Event::ExpenseCreated(expense(1, "2024-01-01", 5)));
        assert_eq!(apply_batch(&mut l, &[older]), Step::Applied);
        assert_eq!(l.items.len() as i64, limit);
        assert!(l.items.iter().all(|e| e.id != 1), "older row stays outside");
        assert_eq!((l.count, l.totals.0[0].1), (limit + 1, limit + 5));
    }
}
