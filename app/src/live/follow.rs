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
//! Pure data, no signals. The web client keeps only its notification list this way
//! (`pages::notify`; its panels are server HTML, `pages::live_part`); the rest is the
//! rule for any client that keeps lists from events (docs/PROTOCOL.md, "Snapshot and
//! stream"), and the tests check with it that a snapshot plus the events after it
//! equals a fresh snapshot: that every event carries what a follower needs.

use super::{Envelope, Event};
use crate::model::{
    budget::BudgetList,
    earning::{Earning, EarningList},
    expense::{Expense, ExpenseList},
    filter::{Key, ListFilter, Sort},
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

/// Replaces the item `is_it` finds with `item`, or adds `item` where `order` puts it.
fn upsert<T: Clone>(
    items: &mut Vec<T>,
    item: &T,
    is_it: impl Fn(&T) -> bool,
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    match items.iter_mut().find(|x| is_it(x)) {
        Some(x) => *x = item.clone(),
        None => crate::sorted::insert(items, item.clone(), order),
    }
}

pub trait Followed {
    fn cursor(&self) -> i64;
    fn set_cursor(&mut self, cursor: i64);
    /// Applies one event of the stream; `false` when it cannot be applied exactly
    /// (for instance it touches a row outside the loaded window).
    fn apply_event(&mut self, event: &Event) -> bool;
    /// How many rows are loaded: a reload loads as many again (a list without pages: 0).
    fn shown(&self) -> i64 {
        0
    }
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

/// A list that shows the first rows its filter selects, in the filter's order, plus
/// aggregates over every row it selects (`ExpenseList`, `EarningList`). The loaded rows
/// are always a prefix of the selection: a row that arrives is inserted only where it
/// falls inside the loaded part, and only counted where it falls after it (a later
/// "load more" brings it). The default methods keep rows, count and aggregates in step.
trait Window {
    type Row: Clone;
    fn rows(&mut self) -> &mut Vec<Self::Row>;
    /// How many rows the filter selects, also those not loaded.
    fn count(&mut self) -> &mut i64;
    fn filter(&self) -> &ListFilter;
    fn id(row: &Self::Row) -> i64;
    /// Where the row stands in the order `sort` (the list's first row is the greatest).
    fn key(sort: Sort, row: &Self::Row) -> Key;
    /// Whether the filter selects the row.
    fn selects(&self, row: &Self::Row) -> bool;
    /// Adds (`sign` 1) or takes back (`sign` -1) a row's share of the aggregates.
    fn tally(&mut self, row: &Self::Row, sign: i64);

    /// Every selected row is loaded.
    fn complete(&mut self) -> bool {
        let shown = self.rows().len() as i64;
        *self.count() == shown
    }

    fn take(&mut self, id: i64) -> Option<Self::Row> {
        let at = self.rows().iter().position(|r| Self::id(r) == id)?;
        let old = self.rows().remove(at);
        self.tally(&old, -1);
        *self.count() -= 1;
        Some(old)
    }

    /// A new or changed row: counted if selected, shown if it falls inside the loaded part.
    fn put(&mut self, row: &Self::Row) {
        if !self.selects(row) {
            return;
        }
        let complete = self.complete();
        self.tally(row, 1);
        *self.count() += 1;
        let sort = self.filter().sort;
        let key = Self::key(sort, row);
        let rows = self.rows();
        match rows.iter().position(|x| Self::key(sort, x) < key) {
            Some(at) => rows.insert(at, row.clone()),
            None if complete => rows.push(row.clone()),
            // After the last loaded row: it comes with the next page.
            None => {}
        }
    }

    /// A row that was deleted (`was`, when the event carries it): exact when it is
    /// loaded, when everything is loaded (then it was not selected), or when the event
    /// says what it was.
    fn remove(&mut self, id: i64, was: Option<&Self::Row>) -> bool {
        if self.take(id).is_some() || self.complete() {
            return true;
        }
        let Some(row) = was else { return false };
        if self.selects(row) {
            self.tally(row, -1);
            *self.count() -= 1;
        }
        true
    }

    /// An edited row: exact when its old version is loaded, or when everything is
    /// loaded (then the old version was not selected).
    fn replace(&mut self, row: &Self::Row) -> bool {
        if self.take(Self::id(row)).is_none() && !self.complete() {
            return false;
        }
        self.put(row);
        true
    }
}

impl Window for ExpenseList {
    type Row = Expense;
    fn rows(&mut self) -> &mut Vec<Expense> {
        &mut self.items
    }
    fn count(&mut self) -> &mut i64 {
        &mut self.count
    }
    fn filter(&self) -> &ListFilter {
        &self.filter
    }
    fn id(row: &Expense) -> i64 {
        row.id
    }
    fn key(sort: Sort, row: &Expense) -> Key {
        Key::new(sort, &row.spent_on, row.amount_minor, row.id)
    }
    fn selects(&self, row: &Expense) -> bool {
        self.filter.matches_expense(row)
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

    fn shown(&self) -> i64 {
        self.items.len() as i64
    }

    fn apply_event(&mut self, event: &Event) -> bool {
        match event {
            Event::ExpenseCreated(e) => {
                self.put(e);
                true
            }
            Event::ExpenseUpdated(e) => self.replace(e),
            Event::ExpenseDeleted(d) => self.remove(d.id, d.was.as_ref()),
            Event::ExpensesBulkDeleted(b) => b.ids.iter().all(|id| {
                let was = b.was.iter().find(|e| e.id == *id);
                self.remove(*id, was)
            }),
            // An import adds rows without an event each: load the list afresh.
            Event::SyncCompleted(_) => false,
            // Every other event of the workspace leaves the expenses as they are.
            _ => true,
        }
    }
}

impl Window for EarningList {
    type Row = Earning;
    fn rows(&mut self) -> &mut Vec<Earning> {
        &mut self.items
    }
    fn count(&mut self) -> &mut i64 {
        &mut self.count
    }
    fn filter(&self) -> &ListFilter {
        &self.filter
    }
    fn id(row: &Earning) -> i64 {
        row.id
    }
    fn key(sort: Sort, row: &Earning) -> Key {
        Key::new(sort, &row.earned_on, row.amount_minor, row.id)
    }
    fn selects(&self, row: &Earning) -> bool {
        self.filter.matches_earning(row)
    }
    fn tally(&mut self, row: &Earning, sign: i64) {
        let month = row.earned_on.get(..7).unwrap_or("");
        let platform = row.platform_id.to_string();
        if sign > 0 {
            self.totals.add(&row.currency, row.amount_minor);
            self.by_month.add(month, &row.currency, row.amount_minor);
            self.by_platform
                .add(&platform, &row.currency, row.amount_minor);
        } else {
            self.totals.sub(&row.currency, row.amount_minor);
            self.by_month.sub(month, &row.currency, row.amount_minor);
            self.by_platform
                .sub(&platform, &row.currency, row.amount_minor);
        }
        self.total_hours_centi += sign * row.hours_centi;
    }
}

impl Followed for EarningList {
    cursor_field!();

    fn shown(&self) -> i64 {
        self.items.len() as i64
    }

    fn apply_event(&mut self, event: &Event) -> bool {
        match event {
            Event::EarningNew(e) => {
                self.put(e);
                true
            }
            Event::EarningUpdated(u) => self.replace(&u.earning),
            Event::EarningDeleted(d) => self.remove(d.id, d.was.as_ref()),
            Event::PlatformCreated(p) | Event::PlatformUpdated(p) => {
                let platform = crate::model::earning::Platform {
                    id: p.id,
                    name: p.name.clone(),
                    color: p.color.clone(),
                };
                match self.platforms.iter_mut().find(|x| x.id == p.id) {
                    Some(x) => *x = platform,
                    None => {
                        crate::sorted::insert(&mut self.platforms, platform, |x, y| x.id.cmp(&y.id))
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
            catalog::{ExpenseGone, ExpensesGone},
            Priority, Stream,
        },
        model::{
            filter::Period,
            ids::{UserId, WorkspaceId},
        },
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

    /// What the server would answer: the rows `filter` selects, in its order, the
    /// first `limit` of them, with totals over all of them.
    fn snapshot(all: &[Expense], filter: &ListFilter, limit: usize, cursor: i64) -> ExpenseList {
        let mut selected: Vec<Expense> = all
            .iter()
            .filter(|e| filter.matches_expense(e))
            .cloned()
            .collect();
        selected.sort_by_key(|e| std::cmp::Reverse(ExpenseList::key(filter.sort, e)));
        let mut totals = Totals::default();
        let mut by_category = KeyedTotals::default();
        for e in &selected {
            totals.add(&e.currency, e.amount_minor);
            by_category.add(&e.category, &e.currency, e.amount_minor);
        }
        let count = selected.len() as i64;
        selected.truncate(limit);
        ExpenseList {
            filter: filter.clone(),
            items: selected,
            totals,
            by_category,
            count,
            cursor,
        }
    }

    fn list(items: Vec<Expense>, cursor: i64) -> ExpenseList {
        let n = items.len();
        snapshot(&items, &ListFilter::default(), n, cursor)
    }

    fn ids(l: &ExpenseList) -> Vec<i64> {
        l.items.iter().map(|e| e.id).collect()
    }

    fn gone(id: i64, was: Option<Expense>) -> Event {
        Event::ExpenseDeleted(ExpenseGone { id, was })
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
            at(9, gone(1, None)),
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
        let old = at(5, gone(1, None));
        assert_eq!(apply_batch(&mut l, &[old]), Step::Unchanged);
        assert_eq!(ids(&l), vec![1]);
        let skipped = at(7, Event::ExpenseCreated(expense(2, "2024-03-01", 100)));
        assert_eq!(apply_batch(&mut l, &[skipped]), Step::Reload);
    }

    #[test]
    fn a_page_counts_rows_it_does_not_show() {
        let all: Vec<Expense> = (1..=5)
            .map(|i| expense(i, &format!("2024-03-0{i}"), 100 * i))
            .collect();
        let page = snapshot(&all, &ListFilter::default(), 2, 5);
        assert_eq!((ids(&page), page.count), (vec![5, 4], 5));
        // Older than every loaded row: counted, shown with the next page.
        let mut l = page.clone();
        let older = at(6, Event::ExpenseCreated(expense(9, "2024-01-01", 7)));
        assert_eq!(apply_batch(&mut l, &[older]), Step::Applied);
        assert_eq!((ids(&l), l.count, l.totals.0[0].1), (vec![5, 4], 6, 1507));
        // A deleted row that is not loaded: the event says what it was.
        let mut l = page.clone();
        let deleted = at(6, gone(1, Some(all[0].clone())));
        assert_eq!(apply_batch(&mut l, &[deleted]), Step::Applied);
        assert_eq!((ids(&l), l.count, l.totals.0[0].1), (vec![5, 4], 4, 1400));
        // An event from before `was` existed cannot say: reload.
        let mut l = page.clone();
        assert_eq!(apply_batch(&mut l, &[at(6, gone(1, None))]), Step::Reload);
        // Nor can an edit of a row that is not loaded.
        let mut l = page.clone();
        let edited = at(6, Event::ExpenseUpdated(expense(1, "2024-03-01", 1)));
        assert_eq!(apply_batch(&mut l, &[edited]), Step::Reload);
        // A loaded row deleted: the rest stays a prefix.
        let mut l = page;
        assert_eq!(apply_batch(&mut l, &[at(6, gone(5, None))]), Step::Applied);
        assert_eq!((ids(&l), l.count), (vec![4], 4));
    }

    #[test]
    fn a_complete_list_knows_a_row_it_does_not_hold_was_not_selected() {
        let mut l = list(vec![expense(1, "2024-03-01", 100)], 5);
        let unknown = at(6, gone(99, None));
        assert_eq!(apply_batch(&mut l, &[unknown]), Step::Applied);
        assert_eq!((ids(&l), l.count, l.totals.0[0].1), (vec![1], 1, 100));
    }

    #[test]
    fn the_filter_decides_what_moves() {
        let mut f = ListFilter::of(&Period::Month(2024, 3));
        f.q = "taxi".into();
        let mut taxi = expense(1, "2024-03-05", 100);
        taxi.description = "Taxi to the airport".into();
        let mut l = snapshot(std::slice::from_ref(&taxi), &f, 50, 1);
        // Outside the period, or not a taxi: nothing visible changes.
        let mut april = taxi.clone();
        (april.id, april.spent_on) = (2, "2024-04-01".into());
        let lunch = expense(3, "2024-03-06", 900);
        let batch = [
            at(2, Event::ExpenseCreated(april)),
            at(3, Event::ExpenseCreated(lunch.clone())),
        ];
        assert_eq!(apply_batch(&mut l, &batch), Step::Applied);
        assert_eq!((ids(&l), l.count, l.cursor), (vec![1], 1, 3));
        // An edit that moves a row out of the search removes it...
        let mut renamed = taxi.clone();
        renamed.description = "Bus".into();
        assert_eq!(
            apply_batch(&mut l, &[at(4, Event::ExpenseUpdated(renamed))]),
            Step::Applied
        );
        assert_eq!((ids(&l), l.count), (vec![], 0));
        assert!(l.totals.0.is_empty() && l.by_category.0.is_empty());
        // ...and one that moves a row into it adds it, totals and all.
        let mut found = lunch;
        found.description = "taxi home".into();
        assert_eq!(
            apply_batch(&mut l, &[at(5, Event::ExpenseUpdated(found))]),
            Step::Applied
        );
        assert_eq!((ids(&l), l.totals.0[0].1), (vec![3], 900));
    }

    #[test]
    fn rows_keep_the_order_of_the_filter() {
        let f = ListFilter {
            sort: Sort::Amount,
            ..ListFilter::default()
        };
        let rows = vec![expense(1, "2024-03-01", 300), expense(2, "2024-03-02", 100)];
        let mut l = snapshot(&rows, &f, 50, 1);
        assert_eq!(ids(&l), vec![1, 2]);
        let middle = at(2, Event::ExpenseCreated(expense(3, "2024-01-01", 200)));
        assert_eq!(apply_batch(&mut l, &[middle]), Step::Applied);
        assert_eq!(ids(&l), vec![1, 3, 2]);
    }

    #[test]
    fn bulk_delete_applies_each_row_or_reloads() {
        let rows = vec![
            expense(3, "2024-03-03", 300),
            expense(2, "2024-03-02", 200),
            expense(1, "2024-03-01", 100),
        ];
        let page = snapshot(&rows, &ListFilter::default(), 2, 1);
        let bulk = |ids: Vec<i64>, was: Vec<Expense>| {
            at(2, Event::ExpensesBulkDeleted(ExpensesGone { ids, was }))
        };
        let mut l = page.clone();
        assert_eq!(
            apply_batch(&mut l, &[bulk(vec![1, 3], rows.clone())]),
            Step::Applied
        );
        assert_eq!((ids(&l), l.count, l.totals.0[0].1), (vec![2], 1, 200));
        let mut l = page;
        assert_eq!(
            apply_batch(&mut l, &[bulk(vec![1, 3], vec![])]),
            Step::Reload
        );
    }

    /// The rule behind every case above, checked over many writes: a snapshot plus the
    /// events after it equals a fresh snapshot of as many rows (or asks for a reload).
    #[test]
    fn a_followed_page_always_equals_a_fresh_one() {
        let mut seed: u64 = 0x5eed;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let categories = ["Food", "Travel", "Other"];
        let filters = {
            let mut march = ListFilter::of(&Period::Month(2024, 3));
            march.sort = Sort::Amount;
            let food = ListFilter {
                category: "Food".into(),
                q: "2".into(),
                ..ListFilter::default()
            };
            vec![ListFilter::default(), march, food]
        };
        for filter in filters {
            let mut all: Vec<Expense> = Vec::new();
            let mut l = snapshot(&all, &filter, 3, 0);
            let (mut reloads, mut applied) = (0, 0);
            for seq in 1..=400 {
                let mut row = expense(
                    1 + next(30) as i64,
                    &format!("2024-0{}-1{}", 2 + next(3), next(10)),
                    1 + next(9) as i64 * 100,
                );
                row.category = categories[next(3) as usize].into();
                row.description = format!("row {}", next(5));
                let event = match (next(4), all.iter().position(|e| e.id == row.id)) {
                    (0, Some(at)) => gone(row.id, Some(all.remove(at))).clone(),
                    (1, Some(at)) => {
                        all[at] = row.clone();
                        Event::ExpenseUpdated(row)
                    }
                    (2, _) if all.len() > 2 => {
                        let ids: Vec<i64> = all.iter().take(2).map(|e| e.id).collect();
                        let was: Vec<Expense> = all.drain(..2).collect();
                        Event::ExpensesBulkDeleted(ExpensesGone { ids, was })
                    }
                    (_, None) => {
                        all.push(row.clone());
                        Event::ExpenseCreated(row)
                    }
                    _ => Event::MemberLeft(crate::live::catalog::MemberGone { user_id: UserId(3) }),
                };
                match apply_batch(&mut l, &[at(seq, event)]) {
                    Step::Applied => applied += 1,
                    Step::Unchanged => unreachable!("every event is new"),
                    Step::Reload => {
                        reloads += 1;
                        l = snapshot(&all, &filter, l.items.len().max(3), seq);
                    }
                }
                let fresh = snapshot(&all, &filter, l.items.len(), seq);
                assert_eq!(l, fresh, "after event {seq} with {filter:?}");
            }
            assert!(
                applied > 300,
                "most events apply in place ({applied}, {reloads} reloads)"
            );
        }
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
}
