//! Calendar dates as ISO `YYYY-MM-DD` strings, validated without a date library
//! (one less crate in the WASM build).

/// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date for a number of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYY-MM-DD` into days since the epoch; `None` if it is not a real date.
pub fn parse_iso_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    if !s[0..4].bytes().all(|c| c.is_ascii_digit())
        || !(1..=12).contains(&m)
        || d == 0
        || d > days_in_month(y, m)
    {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Today's UTC date, 'YYYY-MM-DD', from the server's clock. A workspace's own today is
/// `server::zone::workspace_today`.
pub fn today_iso() -> String {
    format_iso_date(utc_today_days())
}

/// Today's UTC date as days since the epoch, from the system clock (the server's; in the
/// browser, `std`'s clock is not available: use `today_iso`).
pub fn utc_today_days() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64 / 86_400)
        .unwrap_or(0)
}

pub fn format_iso_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_real_dates() {
        assert_eq!(parse_iso_date("1970-01-01"), Some(0));
        assert!(parse_iso_date("2024-02-29").is_some());
        assert!(parse_iso_date("2023-02-29").is_none());
        assert!(parse_iso_date("2000-02-29").is_some());
        assert!(parse_iso_date("1900-02-29").is_none());
        assert!(parse_iso_date("2024-13-01").is_none());
        assert!(parse_iso_date("2024-04-31").is_none());
        assert!(parse_iso_date("2024-4-1").is_none());
        assert!(parse_iso_date("+024-04-01").is_none());
        assert!(parse_iso_date("").is_none());
    }

    #[test]
    fn round_trips() {
        for s in ["2026-11-22", "1999-12-31", "2000-03-01", "2100-02-28"] {
            assert_eq!(format_iso_date(parse_iso_date(s).unwrap()), s);
        }
    }
}
