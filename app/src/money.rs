//! Money as an integer number of minor units with an ISO 4217 currency. Never a float.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// The currencies the product accepts, with their number of minor-unit digits.
pub const CURRENCIES: &[(&str, u32)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("NZD", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("HUF", 2),
    ("INR", 2),
    ("BRL", 2),
    ("MXN", 2),
    ("ZAR", 2),
    ("SGD", 2),
    ("HKD", 2),
    ("CNY", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("ISK", 0),
    ("KWD", 3),
    ("BHD", 3),
];

/// The largest amount accepted for one expense or earning: 1,000,000,000 major units.
pub const MAX_MAJOR_UNITS: i64 = 1_000_000_000;

/// Minor-unit digits of a known currency code (upper case), or `None` if unknown.
pub fn currency_exponent(code: &str) -> Option<u32> {
    CURRENCIES.iter().find(|(c, _)| *c == code).map(|(_, e)| *e)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Enter an amount, such as 12.50.")]
    Empty,
    #[error("Enter the amount as a number, such as 12.50.")]
    NotANumber,
    #[error("This currency has at most {0} digits after the decimal point.")]
    TooPrecise(u32),
    #[error("The amount must be greater than zero.")]
    NotPositive,
    #[error("The amount is too large.")]
    TooLarge,
    #[error("Unknown currency.")]
    UnknownCurrency,
    #[error("A comma before three digits could be a thousands separator or a decimal comma: write 1234 or 1.234 instead.")]
    Ambiguous,
    #[error("Separators go between groups of three digits: write 1234.56, 1,234.56 or 1.234,56.")]
    Malformed,
}

/// Parses a decimal amount typed by a person into minor units.
///
/// A decimal point or a decimal comma, and thousands separators, are read the way
/// people write them: `12.50`, `12,50`, `1,234.56`, `1.234,56`, `1 234,56`, `1'234.56`
/// (and the Indian `1,23,456.78`). What could mean two different amounts is refused,
/// never guessed: a lone comma before exactly three digits (`1,234`: 1234 or 1.234?),
/// separators that do not sit between groups of three digits (`1,2,3`, `12 50`).
/// A lone point is always the decimal point (`1.234` is 1.234, too precise for EUR).
pub fn parse_amount(input: &str, currency: &str) -> Result<i64, MoneyError> {
    let exp = currency_exponent(currency).ok_or(MoneyError::UnknownCurrency)?;
    let s = input.trim();
    if s.is_empty() {
        return Err(MoneyError::Empty);
    }
    if s.starts_with('-') {
        return Err(MoneyError::NotPositive);
    }
    let (whole, frac) = split_decimal(s)?;
    let frac = frac.trim_end_matches('0');
    if frac.len() as u32 > exp {
        return Err(MoneyError::TooPrecise(exp));
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 10 {
        return Err(MoneyError::TooLarge);
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| MoneyError::TooLarge)?
    };
    if whole > MAX_MAJOR_UNITS {
        return Err(MoneyError::TooLarge);
    }
    let scale = 10_i64.pow(exp);
    let mut frac_minor: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| MoneyError::NotANumber)?
    };
    frac_minor *= 10_i64.pow(exp - frac.len() as u32);
    let minor = whole * scale + frac_minor;
    if minor <= 0 {
        return Err(MoneyError::NotPositive);
    }
    if minor > MAX_MAJOR_UNITS * scale {
        return Err(MoneyError::TooLarge);
    }
    Ok(minor)
}

/// Characters that only ever group thousands: spaces (also the no-break ones) and the
/// Swiss apostrophe.
fn is_space_group(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'' | '\u{2019}')
}

/// Splits a typed amount into its whole digits (separators removed) and its fraction
/// digits, deciding which separator is the decimal one (see `parse_amount`).
fn split_decimal(s: &str) -> Result<(String, &str), MoneyError> {
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',' || is_space_group(c))
    {
        return Err(MoneyError::NotANumber);
    }
    let count = |c: char| s.matches(c).count();
    let (dots, commas) = (count('.'), count(','));
    let spaces = s.contains(is_space_group);
    // The decimal separator, and what separates thousands.
    type Separators = (Option<char>, Option<fn(char) -> bool>);
    let (decimal, group): Separators = if spaces {
        match (dots, commas) {
            (0, 0) => (None, Some(is_space_group)),
            (1, 0) => (Some('.'), Some(is_space_group)),
            (0, 1) => (Some(','), Some(is_space_group)),
            _ => return Err(MoneyError::Malformed),
        }
    } else if dots > 0 && commas > 0 {
        // Both: the last one is the decimal separator, and it appears once.
        let last = s.rfind(['.', ',']).map(|i| s.as_bytes()[i] as char);
        match last {
            Some('.') if dots == 1 => (Some('.'), Some(|c| c == ',')),
            Some(',') if commas == 1 => (Some(','), Some(|c| c == '.')),
            _ => return Err(MoneyError::Malformed),
        }
    } else if dots > 1 {
        (None, Some(|c| c == '.'))
    } else if commas > 1 {
        (None, Some(|c| c == ','))
    } else if dots == 1 {
        (Some('.'), None)
    } else if commas == 1 {
        let after = s.rsplit(',').next().unwrap_or_default();
        if after.len() == 3 {
            return Err(MoneyError::Ambiguous);
        }
        (Some(','), None)
    } else {
        (None, None)
    };
    let (whole, frac) = match decimal.and_then(|d| s.split_once(d)) {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return Err(MoneyError::NotANumber);
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(MoneyError::Malformed);
    }
    let whole = match group {
        Some(is_group) if whole.contains(is_group) => grouped_digits(whole, is_group)?,
        _ if whole.chars().all(|c| c.is_ascii_digit()) => whole.to_owned(),
        _ => return Err(MoneyError::Malformed),
    };
    Ok((whole, frac))
}

/// The digits of `whole` if its separators sit between groups of three (1,234,567) or
/// in the Indian way (12,34,567); otherwise `Malformed`.
fn grouped_digits(whole: &str, is_group: fn(char) -> bool) -> Result<String, MoneyError> {
    let groups: Vec<&str> = whole.split(is_group).collect();
    let all_digits = groups
        .iter()
        .all(|g| !g.is_empty() && g.chars().all(|c| c.is_ascii_digit()));
    let (first, rest) = groups.split_first().ok_or(MoneyError::Malformed)?;
    let (last, middle) = rest.split_last().ok_or(MoneyError::Malformed)?;
    let western = first.len() <= 3 && middle.iter().all(|g| g.len() == 3);
    let indian = first.len() <= 2 && middle.iter().all(|g| g.len() == 2);
    if !all_digits || last.len() != 3 || !(western || indian) {
        return Err(MoneyError::Malformed);
    }
    Ok(groups.concat())
}

/// A form's currency and an amount in it: the currency must be one of `CURRENCIES`
/// (checked first, reported against `currency`), the amount is parsed for it and
/// reported against `amount_field`. Returns (minor units, upper-cased code).
pub fn parse_money(amount: &str, currency: &str, amount_field: &str) -> AppResult<(i64, String)> {
    let currency = currency.trim().to_uppercase();
    if currency_exponent(&currency).is_none() {
        return Err(AppError::validation(
            "currency",
            "Choose a currency from the list.",
        ));
    }
    let minor = parse_amount(amount, &currency)
        .map_err(|e| AppError::validation(amount_field, e.to_string()))?;
    Ok((minor, currency))
}

/// Formats minor units as a plain decimal ("1234.50"), the inverse of `parse_amount`.
pub fn format_plain(minor: i64, currency: &str) -> String {
    let exp = currency_exponent(currency).unwrap_or(2);
    if exp == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        m / scale as u64,
        m % scale as u64,
        width = exp as usize
    )
}

/// Formats for display: "1,234.50 EUR".
pub fn format_display(minor: i64, currency: &str) -> String {
    let plain = format_plain(minor, currency);
    let (sign, rest) = plain
        .strip_prefix('-')
        .map(|r| ("-", r))
        .unwrap_or(("", plain.as_str()));
    let (whole, frac) = rest
        .split_once('.')
        .map(|(w, f)| (w, Some(f)))
        .unwrap_or((rest, None));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f} {currency}"),
        None => format!("{sign}{grouped} {currency}"),
    }
}

/// A sum per currency: amounts in different currencies are never added together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals(pub Vec<(String, i64)>);

impl Totals {
    pub fn add(&mut self, currency: &str, minor: i64) {
        match self.0.iter_mut().find(|(c, _)| c == currency) {
            Some((_, sum)) => *sum += minor,
            None => {
                crate::sorted::insert(&mut self.0, (currency.to_owned(), minor), Ord::cmp);
            }
        }
    }

    /// Takes `minor` back out of `currency`'s sum; a sum that reaches zero is dropped,
    /// as a list that no longer has that currency would not show it (amounts are > 0).
    pub fn sub(&mut self, currency: &str, minor: i64) {
        if let Some(i) = self.0.iter().position(|(c, _)| c == currency) {
            self.0[i].1 -= minor;
            if self.0[i].1 == 0 {
                self.0.remove(i);
            }
        }
    }

    pub fn display(&self) -> String {
        if self.0.is_empty() {
            return "0".into();
        }
        self.0
            .iter()
            .map(|(c, m)| format_display(*m, c))
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Sums per (key, currency): spending per category, earnings per month. Sorted by key,
/// then currency; a sum that reaches zero is dropped, as a fresh snapshot would not
/// list it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedTotals(pub Vec<(String, String, i64)>);

impl KeyedTotals {
    pub fn add(&mut self, key: &str, currency: &str, minor: i64) {
        match self
            .0
            .iter_mut()
            .find(|(k, c, _)| k == key && c == currency)
        {
            Some((_, _, sum)) => *sum += minor,
            None => {
                crate::sorted::insert(
                    &mut self.0,
                    (key.to_owned(), currency.to_owned(), minor),
                    Ord::cmp,
                );
            }
        }
    }

    pub fn sub(&mut self, key: &str, currency: &str, minor: i64) {
        if let Some(i) = self
            .0
            .iter()
            .position(|(k, c, _)| k == key && c == currency)
        {
            self.0[i].2 -= minor;
            if self.0[i].2 == 0 {
                self.0.remove(i);
            }
        }
    }

    /// The sum for `key` in `currency` (0 if none).
    pub fn get(&self, key: &str, currency: &str) -> i64 {
        self.0
            .iter()
            .find(|(k, c, _)| k == key && c == currency)
            .map(|(_, _, m)| *m)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amounts_into_minor_units() {
        assert_eq!(parse_amount("12", "EUR"), Ok(1200));
        assert_eq!(parse_amount("12.5", "EUR"), Ok(1250));
        assert_eq!(parse_amount("1,234.56", "USD"), Ok(123456));
        assert_eq!(parse_amount("0.01", "USD"), Ok(1));
        assert_eq!(parse_amount(".5", "USD"), Ok(50));
        assert_eq!(parse_amount("1500", "JPY"), Ok(1500));
        assert_eq!(parse_amount("1.234", "KWD"), Ok(1234));
        assert_eq!(parse_amount("12.50", "EUR"), Ok(1250));
    }

    /// What people type, as it must be read: a decimal comma means what it means, and
    /// whatever could mean two amounts is refused rather than guessed.
    #[test]
    fn decimal_commas_and_thousands_separators() {
        use MoneyError::*;
        let cases: &[(&str, &str, Result<i64, MoneyError>)] = &[
            ("12,50", "EUR", Ok(1250)),
            ("0,99", "EUR", Ok(99)),
            ("12,5", "EUR", Ok(1250)),
            (",5", "EUR", Ok(50)),
            ("12,", "EUR", Ok(1200)),
            ("1.234,56", "EUR", Ok(123456)),
            ("1.234.567,89", "EUR", Ok(123456789)),
            ("1 234,56", "EUR", Ok(123456)),
            ("1\u{a0}234,56", "EUR", Ok(123456)),
            ("1\u{202f}234,56", "EUR", Ok(123456)),
            ("1 234.56", "USD", Ok(123456)),
            ("1 234 567", "USD", Ok(123456700)),
            ("1'234.50", "CHF", Ok(123450)),
            ("1,234.56", "USD", Ok(123456)),
            ("1,234,567", "USD", Ok(123456700)),
            ("1.234.567", "EUR", Ok(123456700)),
            ("1,23,456.78", "INR", Ok(12345678)),
            ("1.234", "KWD", Ok(1234)),
            ("1,5", "JPY", Err(TooPrecise(0))),
            ("0,001", "EUR", Err(Ambiguous)),
            ("1,234", "USD", Err(Ambiguous)),
            ("1,234", "KWD", Err(Ambiguous)),
            ("12,500", "EUR", Err(Ambiguous)),
            ("1,2345", "EUR", Err(TooPrecise(2))),
            ("1,2,3", "EUR", Err(Malformed)),
            ("12 50", "EUR", Err(Malformed)),
            ("1 2345", "EUR", Err(Malformed)),
            ("1,23,4567", "EUR", Err(Malformed)),
            ("1234,567.00", "USD", Err(Malformed)),
            ("1.234.56", "EUR", Err(Malformed)),
            ("1,234,56", "EUR", Err(Malformed)),
            ("1.234,5,6", "EUR", Err(Malformed)),
            ("1,234.5.6", "USD", Err(Malformed)),
            ("1 234.567,8", "EUR", Err(Malformed)),
            ("1 234,5.6", "EUR", Err(Malformed)),
            ("12,,50", "EUR", Err(Malformed)),
            (",,", "EUR", Err(Malformed)),
            (".", "EUR", Err(NotANumber)),
            (",", "EUR", Err(NotANumber)),
            ("12,50 €", "EUR", Err(NotANumber)),
        ];
        for (input, currency, want) in cases {
            assert_eq!(
                parse_amount(input, currency),
                *want,
                "{input:?} in {currency}"
            );
        }
    }

    #[test]
    fn rejects_bad_amounts() {
        assert_eq!(parse_amount("", "EUR"), Err(MoneyError::Empty));
        assert_eq!(parse_amount("abc", "EUR"), Err(MoneyError::NotANumber));
        assert_eq!(parse_amount("1.2.3", "EUR"), Err(MoneyError::Malformed));
        assert_eq!(parse_amount("1e5", "EUR"), Err(MoneyError::NotANumber));
        assert_eq!(parse_amount("0", "EUR"), Err(MoneyError::NotPositive));
        assert_eq!(parse_amount("-5", "EUR"), Err(MoneyError::NotPositive));
        assert_eq!(parse_amount("1.234", "EUR"), Err(MoneyError::TooPrecise(2)));
        assert_eq!(parse_amount("1.5", "JPY"), Err(MoneyError::TooPrecise(0)));
        assert_eq!(
            parse_amount("1000000000.01", "EUR"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            parse_amount("99999999999999999999", "EUR"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(parse_amount("5", "XXX"), Err(MoneyError::UnknownCurrency));
        assert_eq!(parse_amount("NaN", "EUR"), Err(MoneyError::NotANumber));
    }

    #[test]
    fn formats_round_trip() {
        for (s, c) in [
            ("12.50", "EUR"),
            ("0.01", "USD"),
            ("1500", "JPY"),
            ("1.234", "KWD"),
        ] {
            let m = parse_amount(s, c).unwrap();
            assert_eq!(format_plain(m, c), s);
        }
        assert_eq!(format_display(123456789, "USD"), "1,234,567.89 USD");
        assert_eq!(format_display(1500, "JPY"), "1,500 JPY");
    }

    #[test]
    fn totals_keep_currencies_apart() {
        let mut t = Totals::default();
        t.add("USD", 100);
        t.add("EUR", 250);
        t.add("USD", 5);
        assert_eq!(t.0, vec![("EUR".into(), 250), ("USD".into(), 105)]);
        assert_eq!(t.display(), "2.50 EUR + 1.05 USD");
        t.sub("USD", 105);
        t.sub("EUR", 50);
        assert_eq!(t.0, vec![("EUR".into(), 200)]);
    }
}
