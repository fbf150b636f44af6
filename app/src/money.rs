//! Money as an integer number of minor units with an ISO 4217 currency. Never a float.

use serde::{Deserialize, Serialize};

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
}

/// Parses a decimal amount typed by a person ("12", "12.5", "1,234.56") into minor units.
pub fn parse_amount(input: &str, currency: &str) -> Result<i64, MoneyError> {
    let exp = currency_exponent(currency).ok_or(MoneyError::UnknownCurrency)?;
    let s: String = input
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    if s.is_empty() {
        return Err(MoneyError::Empty);
    }
    if s.starts_with('-') {
        return Err(MoneyError::NotPositive);
    }
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    let digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(MoneyError::NotANumber);
    }
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
                self.0.push((currency.to_owned(), minor));
                self.0.sort();
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
                self.0.push((key.to_owned(), currency.to_owned(), minor));
                self.0.sort();
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

    #[test]
    fn rejects_bad_amounts() {
        assert_eq!(parse_amount("", "EUR"), Err(MoneyError::Empty));
        assert_eq!(parse_amount("abc", "EUR"), Err(MoneyError::NotANumber));
        assert_eq!(parse_amount("1.2.3", "EUR"), Err(MoneyError::NotANumber));
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
