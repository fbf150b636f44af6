//! Workspace time zones. A workspace's months are its own, not UTC's: "today" in its
//! zone opens the dashboard's month, names the budget month shown and is the default
//! period of its lists and exports. Dates themselves (`spent_on`, `earned_on`) are
//! calendar dates as the member typed them, so a budget alert follows the month of the
//! expense's date whatever the zone.
//!
//! Zones are IANA names, checked against the database compiled into the server (jiff's
//! bundled tzdb), so every instance knows the same zones whatever the host has installed.

use crate::{
    error::{AppError, AppResult},
    model::ids::WorkspaceId,
};

use super::AppState;

/// The zone of a workspace created without one (no JavaScript at sign-up) and of the
/// workspaces that existed before zones did.
pub const DEFAULT: &str = "UTC";

/// The cookie `pages::common::BrowserZone` writes: the browser's IANA zone, as is (zone
/// names hold no character a cookie value cannot).
pub const COOKIE: &str = "ll_zone";

/// The longest zone name accepted (the longest IANA name has 32 characters).
const MAX_NAME: usize = 64;

/// `name` as the database spells it (`europe/paris` → `Europe/Paris`); an empty name is
/// the default. Anything the database does not know is refused.
pub fn check(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(DEFAULT.to_owned());
    }
    let unknown = || AppError::validation("time_zone", "Unknown time zone.");
    if name.len() > MAX_NAME {
        return Err(unknown());
    }
    let zone = jiff::tz::db().get(name).map_err(|_| unknown())?;
    Ok(zone.iana_name().unwrap_or(DEFAULT).to_owned())
}

/// The browser's zone, from the request's `ll_zone` cookie, if it names a zone the
/// database knows (it is a hint from a script, not something typed: anything else is
/// ignored, and the caller falls back).
pub fn of_browser() -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    zone_cookie(&parts.headers)
}

fn zone_cookie(headers: &http::HeaderMap) -> Option<String> {
    check(super::session::cookie(headers, COOKIE)?).ok()
}

/// Today's date in `zone` as 'YYYY-MM-DD'; in UTC if the zone is not known (a zone the
/// database dropped since it was stored).
pub fn today_in(zone: &str) -> String {
    let zone = jiff::tz::db().get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(zone).date().to_string()
}

/// Every zone a workspace can choose, sorted.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_owned())
        .collect();
    names.sort();
    names
}

/// The stored zone of a workspace (the default if it does not exist: callers have
/// checked membership, which the workspace's deletion ends).
pub async fn of_workspace(state: &AppState, workspace_id: WorkspaceId) -> AppResult<String> {
    let zone: Option<(String,)> = sqlx::query_as("SELECT time_zone FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(zone.map(|(z,)| z).unwrap_or_else(|| DEFAULT.to_owned()))
}

/// Today's date in the workspace's zone.
pub async fn workspace_today(state: &AppState, workspace_id: WorkspaceId) -> AppResult<String> {
    Ok(today_in(&of_workspace(state, workspace_id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_spelled_as_the_database_does() {
        assert_eq!(check("").unwrap(), "UTC");
        assert_eq!(check("  ").unwrap(), "UTC");
        assert_eq!(check("europe/paris").unwrap(), "Europe/Paris");
        assert_eq!(check("America/Los_Angeles").unwrap(), "America/Los_Angeles");
        for bad in [
            "Mars/Olympus",
            "Europe/Paris; DROP",
            "../../etc/passwd",
            &"A".repeat(65),
        ] {
            let e = check(bad).unwrap_err();
            assert_eq!(
                e.field_message("time_zone").as_deref(),
                Some("Unknown time zone."),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_browsers_zone_comes_from_its_cookie_when_known() {
        let with = |cookie: &str| {
            let mut h = http::HeaderMap::new();
            h.insert(http::header::COOKIE, cookie.parse().unwrap());
            zone_cookie(&h)
        };
        assert_eq!(
            with("ll_session=abc; ll_zone=asia/kolkata").as_deref(),
            Some("Asia/Kolkata")
        );
        assert_eq!(with("ll_zone=Etc/GMT+5").as_deref(), Some("Etc/GMT+5"));
        assert_eq!(with("ll_zone=Mars/Base"), None);
        assert_eq!(with("ll_zone="), None);
        assert_eq!(with("other=Europe/Paris"), None);
        assert_eq!(zone_cookie(&http::HeaderMap::new()), None);
    }

    #[test]
    fn today_differs_across_the_date_line_and_falls_back_to_utc() {
        // Kiritimati is UTC+14 and Niue UTC-11: 25 hours apart, so never the same date.
        assert_ne!(today_in("Pacific/Kiritimati"), today_in("Pacific/Niue"));
        assert_eq!(today_in("No/Such_Zone"), today_in("UTC"));
    }

    #[test]
    fn the_list_of_zones_is_sorted_and_every_name_checks() {
        let names = names();
        assert!(names.len() > 300, "{}", names.len());
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(names.iter().any(|n| n == "Asia/Kolkata"));
        for n in &names {
            assert_eq!(check(n).as_deref().ok(), Some(n.as_str()), "{n}");
        }
    }
}
