//! What a list shows: a period, a search, filters and an order.
//!
//! One `ListFilter` describes the expenses and the earnings a dashboard shows. The
//! server turns it into SQL (`server::listing`); a list kept from events
//! (`live::follow`) uses the same `matches_*` rules to decide whether a row that
//! arrives belongs in it, so the two never disagree about what a list holds. The page reads it from the URL
//! (`Period::from_query`, `ListFilter::from_query`) and writes it back
//! (`ListFilter::query`), so every view is a link that survives a reload.

use serde::{Deserialize, Serialize};

use crate::{
    dates::{civil_from_days, format_iso_date, parse_iso_date},
    error::{AppError, AppResult},
    model::{category::CATEGORIES, ids::UserId},
    money::currency_exponent,
};

/// Rows a list shows at first, and adds each time more are asked for.
pub const PAGE: i64 = 50;
/// The most rows one request returns.
pub const MAX_ROWS: i64 = 1_000;
/// The longest search text, in characters.
pub const MAX_SEARCH: usize = 100;

/// The order of a list; ties are broken by the newest id first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Newest date first.
    #[default]
    Date,
    /// Largest amount first.
    Amount,
}

impl Sort {
    pub fn parse(raw: &str) -> AppResult<Sort> {
        match raw {
            "" | "date" => Ok(Sort::Date),
            "amount" => Ok(Sort::Amount),
            _ => Err(AppError::validation("sort", "Sort by date or by amount.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Date => "date",
            Sort::Amount => "amount",
        }
    }
}

/// Where a list's rows end in its order: after a row (the next page of an API client),
/// or down to a row, inclusive (the rows a view showed, kept while rows arrive: a new
/// row above the last one shown is shown too, as a list kept from events shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    After(Key),
    Until(Key),
}

/// Where a row stands in a list's order: compared descending, the list's first row
/// has the greatest key. Rows of one list are only ever compared under one `Sort`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Key {
    Date(String, i64),
    Amount(i64, i64),
}

impl Key {
    pub fn new(sort: Sort, date: &str, amount_minor: i64, id: i64) -> Key {
        match sort {
            Sort::Date => Key::Date(date.to_owned(), id),
            Sort::Amount => Key::Amount(amount_minor, id),
        }
    }

    /// `2026-11-03.17` or `1250.17`: where the next page starts, for a URL or a form.
    pub fn encode(&self) -> String {
        match self {
            Key::Date(d, id) => format!("{d}.{id}"),
            Key::Amount(a, id) => format!("{a}.{id}"),
        }
    }

    pub fn decode(sort: Sort, raw: &str) -> AppResult<Key> {
        let bad = || AppError::validation("after", "That page of the list does not exist.");
        let (head, id) = raw.rsplit_once('.').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        match sort {
            Sort::Date => {
                parse_iso_date(head).ok_or_else(bad)?;
                Ok(Key::Date(head.to_owned(), id))
            }
            Sort::Amount => Ok(Key::Amount(head.parse().map_err(|_| bad())?, id)),
        }
    }
}

/// The period a dashboard shows, as it appears in the URL (`period=2026-11`,
/// `period=all`, or `from=…&to=…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    /// A calendar month: (year, month 1–12).
    Month(i64, u32),
    /// Inclusive ISO dates.
    Range(String, String),
    All,
}

/// The first date any list accepts (`check_date_range`), and the last, far enough ahead.
const FIRST_DAY: &str = "2000-01-01";
const LAST_DAY: &str = "9999-12-31";

fn month_of(date: &str) -> Option<(i64, u32)> {
    let days = parse_iso_date(date)?;
    let (y, m, _) = civil_from_days(days);
    Some((y, m))
}

fn last_day_of(year: i64, month: u32) -> String {
    let next = if month == 12 {
        format!("{:04}-01-01", year + 1)
    } else {
        format!("{year:04}-{:02}-01", month + 1)
    };
    format_iso_date(parse_iso_date(&next).unwrap_or(0) - 1)
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "2026-11" → "November 2026"; anything else as it is.
pub fn month_label(key: &str) -> String {
    let month = key
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i64>().ok()?, m.parse::<u32>().ok()?)));
    match month {
        Some((y, m)) if (1..=12).contains(&m) => Period::Month(y, m).label(),
        _ => key.to_owned(),
    }
}

impl Period {
    /// The month `today` (an ISO date) falls in.
    pub fn this_month(today: &str) -> Period {
        let (y, m) = month_of(today).unwrap_or((2000, 1));
        Period::Month(y, m)
    }

    /// Whether the query parameters name a period (`period`, `from`, `to`); if not, it
    /// is the month of today.
    pub fn is_named(get: &dyn Fn(&str) -> Option<String>) -> bool {
        ["period", "from", "to"]
            .iter()
            .any(|name| get(name).is_some_and(|v| !v.is_empty()))
    }

    /// Reads the period from query parameters; none given means the month of `today`.
    pub fn from_query(get: &dyn Fn(&str) -> Option<String>, today: &str) -> AppResult<Period> {
        if !Period::is_named(get) {
            return Ok(Period::this_month(today));
        }
        let period = get("period").unwrap_or_default();
        let (from, to) = (
            get("from").unwrap_or_default(),
            get("to").unwrap_or_default(),
        );
        if !from.is_empty() || !to.is_empty() {
            let check = |field: &str, date: &str| -> AppResult<()> {
                if parse_iso_date(date).is_none() || date < FIRST_DAY {
                    return Err(AppError::validation(
                        field,
                        "Enter a real date from 2000 on (YYYY-MM-DD).",
                    ));
                }
                Ok(())
            };
            check("from", &from)?;
            check("to", &to)?;
            if from > to {
                return Err(AppError::validation(
                    "to",
                    "The end of the range is before its start.",
                ));
            }
            return Ok(Period::Range(from, to));
        }
        match period.as_str() {
            "all" => Ok(Period::All),
            month => {
                let bad = || AppError::validation("period", "Choose a month as YYYY-MM.");
                let (y, m) = month.split_once('-').ok_or_else(bad)?;
                let (y, m): (i64, u32) =
                    (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
                if month.len() != 7 || !(2000..=9999).contains(&y) || !(1..=12).contains(&m) {
                    return Err(bad());
                }
                Ok(Period::Month(y, m))
            }
        }
    }

    /// The inclusive range of dates.
    pub fn bounds(&self) -> (String, String) {
        match self {
            Period::Month(y, m) => (format!("{y:04}-{m:02}-01"), last_day_of(*y, *m)),
            Period::Range(from, to) => (from.clone(), to.clone()),
            Period::All => (FIRST_DAY.to_owned(), LAST_DAY.to_owned()),
        }
    }

    /// `2026-11` for a month: the budgets' month a period shows.
    pub fn month_key(&self) -> Option<String> {
        match self {
            Period::Month(y, m) => Some(format!("{y:04}-{m:02}")),
            _ => None,
        }
    }

    /// The months before and after a month period.
    pub fn step(&self, by: i64) -> Option<Period> {
        let Period::Month(y, m) = self else {
            return None;
        };
        let index = y * 12 + (*m as i64 - 1) + by;
        let (y, m) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
        (2000..=9999).contains(&y).then_some(Period::Month(y, m))
    }

    /// "November 2026", "2026-01-05 – 2026-02-10", "All time".
    pub fn label(&self) -> String {
        match self {
            Period::Month(y, m) => format!("{} {y}", MONTH_NAMES[*m as usize - 1]),
            Period::Range(from, to) => format!("{from} – {to}"),
            Period::All => "All time".to_owned(),
        }
    }

    /// The query parameters that name this period.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        match self {
            Period::Month(y, m) => vec![("period", format!("{y:04}-{m:02}"))],
            Period::Range(from, to) => vec![("from", from.clone()), ("to", to.clone())],
            Period::All => vec![("period", "all".to_owned())],
        }
    }
}

/// Which rows of a workspace a list holds, and in which order. In JSON it is one
/// string (`to_line`): a derived struct's deserializer would cost the WASM about 5 KB
/// more than this one's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListFilter {
    /// Inclusive ISO dates.
    pub from: String,
    pub to: String,
    /// Words looked for in the description (expenses) or the notes (earnings), folded
    /// to lower case; empty for none.
    pub q: String,
    /// Expenses only: one of `CATEGORIES`, or empty for all.
    pub category: String,
    /// Earnings only: a platform's id.
    pub platform: Option<i64>,
    /// Who entered the row.
    pub member: Option<UserId>,
    /// An ISO 4217 code, or empty for all.
    pub currency: String,
    pub sort: Sort,
}

impl Default for ListFilter {
    /// Everything, newest first.
    fn default() -> Self {
        ListFilter::of(&Period::All)
    }
}

impl ListFilter {
    /// Every row of the period, newest first.
    pub fn of(period: &Period) -> ListFilter {
        let (from, to) = period.bounds();
        ListFilter {
            from,
            to,
            q: String::new(),
            category: String::new(),
            platform: None,
            member: None,
            currency: String::new(),
            sort: Sort::Date,
        }
    }

    /// The filters in the query parameters (`q`, `category`, `platform`, `member`,
    /// `currency`, `sort`) over `period`; the first bad one is the error.
    pub fn from_query(get: &dyn Fn(&str) -> Option<String>, period: &Period) -> AppResult<Self> {
        let text = |name: &str| get(name).unwrap_or_default().trim().to_owned();
        let id = |name: &str| -> AppResult<Option<i64>> {
            match text(name).as_str() {
                "" => Ok(None),
                raw => raw
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .map(Some)
                    .ok_or_else(|| AppError::validation(name, "Choose one from the list.")),
            }
        };
        let filter = ListFilter {
            q: text("q").to_lowercase(),
            category: match text("category").as_str() {
                "" => String::new(),
                raw => crate::model::category::parse_category(raw)?,
            },
            platform: id("platform")?,
            member: id("member")?.map(UserId),
            currency: text("currency").to_uppercase(),
            sort: Sort::parse(&text("sort"))?,
            ..ListFilter::of(period)
        };
        filter.check()?;
        Ok(filter)
    }

    /// What the server checks of a filter it is sent, whatever sent it.
    pub fn check(&self) -> AppResult<()> {
        for (field, date) in [("from", &self.from), ("to", &self.to)] {
            if parse_iso_date(date).is_none() {
                return Err(AppError::validation(
                    field,
                    "Enter a real date (YYYY-MM-DD).",
                ));
            }
        }
        if self.from > self.to {
            return Err(AppError::validation(
                "to",
                "The end of the range is before its start.",
            ));
        }
        if self.q.chars().count() > MAX_SEARCH {
            return Err(AppError::validation(
                "q",
                format!("Search for at most {MAX_SEARCH} characters."),
            ));
        }
        if self.q.chars().any(char::is_control) || self.q != self.q.to_lowercase() {
            return Err(AppError::validation(
                "q",
                "The search contains invalid characters.",
            ));
        }
        if !self.category.is_empty() && !CATEGORIES.contains(&self.category.as_str()) {
            return Err(AppError::validation(
                "category",
                "Choose a category from the list.",
            ));
        }
        if !self.currency.is_empty() && currency_exponent(&self.currency).is_none() {
            return Err(AppError::validation(
                "currency",
                "Choose a currency from the list.",
            ));
        }
        Ok(())
    }

    /// Anything narrower than the period: a search or a filter.
    pub fn narrowed(&self) -> bool {
        !self.q.is_empty()
            || !self.category.is_empty()
            || self.platform.is_some()
            || self.member.is_some()
            || !self.currency.is_empty()
    }

    /// What every list's rows are selected by: the period, the search, the currency and
    /// who entered it. `matches_expense` and `matches_earning` (beside the rows' types)
    /// add the category or the platform.
    pub fn selects(&self, date: &str, text: &str, currency: &str, by: UserId) -> bool {
        self.from.as_str() <= date
            && date <= self.to.as_str()
            && (self.q.is_empty() || lower(text).contains(&self.q))
            && (self.currency.is_empty() || self.currency == currency)
            && self.member.is_none_or(|m| m == by)
    }

    /// The query parameters of the filters (not the period), for links.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if !self.q.is_empty() {
            q.push(("q", self.q.clone()));
        }
        if !self.category.is_empty() {
            q.push(("category", self.category.clone()));
        }
        if let Some(p) = self.platform {
            q.push(("platform", p.to_string()));
        }
        if let Some(m) = self.member {
            q.push(("member", m.0.to_string()));
        }
        if !self.currency.is_empty() {
            q.push(("currency", self.currency.clone()));
        }
        if self.sort != Sort::Date {
            q.push(("sort", self.sort.as_str().to_owned()));
        }
        q
    }
}

/// Fields of `ListFilter::to_line`, apart: U+001F, which none of them can hold (the
/// search refuses control characters, the others are dates, codes and numbers).
pub const SEP: char = '\u{1f}';

impl ListFilter {
    /// Whether the dates are all time's: every date a row can have (`check_date_range`).
    pub fn is_all_time(&self) -> bool {
        self.from == FIRST_DAY && self.to == LAST_DAY
    }

    /// `from␟to␟q␟category␟platform␟member␟currency␟sort`, empty for "any".
    pub fn to_line(&self) -> String {
        let id = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        [
            self.from.clone(),
            self.to.clone(),
            self.q.clone(),
            self.category.clone(),
            id(self.platform),
            id(self.member.map(|m| m.0)),
            self.currency.clone(),
            self.sort.as_str().to_owned(),
        ]
        .join(&SEP.to_string())
    }

    /// The filter a `to_line` string names (the form only: `check` says whether it
    /// makes sense).
    pub fn from_line(line: &str) -> Option<ListFilter> {
        let f: Vec<&str> = line.split(SEP).collect();
        let [from, to, q, category, platform, member, currency, sort] = f.as_slice() else {
            return None;
        };
        let id = |s: &str| -> Option<Option<i64>> {
            if s.is_empty() {
                Some(None)
            } else {
                s.parse().ok().map(Some)
            }
        };
        Some(ListFilter {
            from: from.to_string(),
            to: to.to_string(),
            q: q.to_string(),
            category: category.to_string(),
            platform: id(platform)?,
            member: id(member)?.map(UserId),
            currency: currency.to_string(),
            sort: Sort::parse(sort).ok()?,
        })
    }
}

impl Serialize for ListFilter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_line())
    }
}

impl<'de> Deserialize<'de> for ListFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let line = String::deserialize(d)?;
        ListFilter::from_line(&line).ok_or_else(|| serde::de::Error::custom("not a list filter"))
    }
}

/// Text folded to lower case by Unicode's default mapping. In the browser the
/// JavaScript engine's `toLowerCase` does it: the same mapping as Rust's, without the
/// case tables Rust's would add to the WASM (about 16 KB).
pub fn lower(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        return String::from(js_sys::JsString::from(text).to_lower_case());
    }
    #[allow(unreachable_code)]
    text.to_lowercase()
}

/// `name=value&…`, each value percent-encoded: the link to a view.
pub fn encode_query(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        for b in value.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(b as char)
                }
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn no_period_is_the_month_of_today() {
        let p = Period::from_query(&params(&[]), "2026-02-14").unwrap();
        assert_eq!(p, Period::Month(2026, 2));
        assert_eq!(p.bounds(), ("2026-02-01".into(), "2026-02-28".into()));
        assert_eq!(Period::Month(2024, 2).bounds().1, "2024-02-29");
        assert_eq!(Period::Month(2026, 12).bounds().1, "2026-12-31");
        assert_eq!(p.label(), "February 2026");
    }

    #[test]
    fn months_step_across_years() {
        assert_eq!(
            Period::Month(2026, 1).step(-1),
            Some(Period::Month(2025, 12))
        );
        assert_eq!(
            Period::Month(2026, 12).step(1),
            Some(Period::Month(2027, 1))
        );
        assert_eq!(Period::Month(2000, 1).step(-1), None);
        assert_eq!(Period::All.step(1), None);
    }

    #[test]
    fn reads_ranges_and_all_and_refuses_nonsense() {
        let range = Period::from_query(
            &params(&[("from", "2026-01-05"), ("to", "2026-02-10")]),
            "2026-03-01",
        );
        assert_eq!(
            range.unwrap(),
            Period::Range("2026-01-05".into(), "2026-02-10".into())
        );
        assert_eq!(
            Period::from_query(&params(&[("period", "all")]), "2026-03-01").unwrap(),
            Period::All
        );
        let field = |r: AppResult<Period>| match r {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(
            field(Period::from_query(
                &params(&[("period", "2026-13")]),
                "2026-03-01"
            )),
            "period"
        );
        assert_eq!(
            field(Period::from_query(
                &params(&[("period", "26-1")]),
                "2026-03-01"
            )),
            "period"
        );
        assert_eq!(
            field(Period::from_query(
                &params(&[("from", "2026-02-01"), ("to", "2026-01-01")]),
                "x"
            )),
            "to"
        );
        assert_eq!(
            field(Period::from_query(
                &params(&[("from", "1999-12-31"), ("to", "2026-01-01")]),
                "x"
            )),
            "from"
        );
        assert_eq!(
            field(Period::from_query(&params(&[("from", "2026-02-01")]), "x")),
            "to"
        );
    }

    #[test]
    fn filters_read_from_the_url_are_checked() {
        let p = Period::Month(2026, 11);
        let f = ListFilter::from_query(
            &params(&[
                ("q", "  Lunch "),
                ("category", "food"),
                ("currency", "eur"),
                ("sort", "amount"),
                ("member", "7"),
            ]),
            &p,
        )
        .unwrap();
        assert_eq!(
            (f.q.as_str(), f.category.as_str(), f.currency.as_str()),
            ("lunch", "Food", "EUR")
        );
        assert_eq!((f.sort, f.member), (Sort::Amount, Some(UserId(7))));
        let field = |pairs| match ListFilter::from_query(&params(pairs), &p) {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(field(&[("category", "Yachts")]), "category");
        assert_eq!(field(&[("currency", "XYZ")]), "currency");
        assert_eq!(field(&[("member", "-3")]), "member");
        assert_eq!(field(&[("platform", "x")]), "platform");
        assert_eq!(field(&[("sort", "random")]), "sort");
        let long: &'static str = "a".repeat(101).leak();
        let pairs: &'static [(&'static str, &'static str)] = vec![("q", long)].leak();
        assert_eq!(field(pairs), "q");
    }

    #[test]
    fn a_filter_sent_to_the_server_is_checked_again() {
        let mut f = ListFilter::of(&Period::Month(2026, 11));
        assert!(f.check().is_ok());
        f.q = "Upper".into();
        assert!(
            f.check().is_err(),
            "the search is folded to lower case before it is sent"
        );
        f.q = "x".into();
        f.from = "2026-13-01".into();
        assert!(f.check().is_err());
        f.from = "2026-12-01".into();
        assert!(f.check().is_err(), "from after to");
    }

    #[test]
    fn filters_travel_as_one_line() {
        let mut f = ListFilter::of(&Period::Month(2026, 11));
        (f.q, f.platform, f.member, f.sort) =
            ("a, b".into(), Some(3), Some(UserId(9)), Sort::Amount);
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<ListFilter>(&json).unwrap(), f);
        assert!(ListFilter::from_line("2026-11-01").is_none());
        // And its filters as the dashboard's URL writes them.
        assert_eq!(
            encode_query(&f.query()),
            "q=a%2C%20b&platform=3&member=9&sort=amount"
        );
    }

    #[test]
    fn month_keys_read_as_names() {
        assert_eq!(month_label("2026-11"), "November 2026");
        assert_eq!(month_label("2026-13"), "2026-13");
        assert_eq!(month_label("soon"), "soon");
    }

    #[test]
    fn keys_round_trip_and_order_descending() {
        let k = Key::new(Sort::Date, "2026-11-03", 0, 17);
        assert_eq!(Key::decode(Sort::Date, &k.encode()).unwrap(), k);
        let a = Key::new(Sort::Amount, "", -5, 3);
        assert_eq!(Key::decode(Sort::Amount, &a.encode()).unwrap(), a);
        assert!(Key::decode(Sort::Date, "2026-11-31.4").is_err());
        assert!(Key::decode(Sort::Amount, "12").is_err());
        assert!(
            Key::new(Sort::Date, "2026-11-03", 0, 2) > Key::new(Sort::Date, "2026-11-02", 0, 9)
        );
        assert!(Key::new(Sort::Amount, "", 100, 1) > Key::new(Sort::Amount, "", 99, 5));
    }

    #[test]
    fn queries_encode_what_a_url_cannot_hold() {
        let mut f = ListFilter::of(&Period::Month(2026, 11));
        f.q = "café & co".into();
        f.sort = Sort::Amount;
        let mut pairs = Period::Month(2026, 11).query();
        pairs.extend(f.query());
        assert_eq!(
            encode_query(&pairs),
            "period=2026-11&q=caf%C3%A9%20%26%20co&sort=amount"
        );
    }
}
