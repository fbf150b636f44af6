//! The server's clock: Unix milliseconds and today's date.

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Today's date (UTC) as days since the epoch.
pub fn today_days() -> i64 {
    crate::dates::utc_today_days()
}
