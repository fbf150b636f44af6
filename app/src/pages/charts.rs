//! Small charts drawn by the app itself (SVG, no charting library): expense totals by
//! category and earnings per month, from the lists' sums (`KeyedTotals`). Written as
//! HTML text by the server, among the panels, which follow live (`live_part`).

use crate::money::{format_display, KeyedTotals, Totals};

/// The twelve months ending with `last` ('YYYY-MM'), oldest first.
pub fn twelve_months(last: &str) -> Vec<String> {
    let (y, m) = match last.split_once('-') {
        Some((y, m)) => (
            y.parse::<i32>().unwrap_or(2000),
            m.parse::<i32>().unwrap_or(1),
        ),
        None => (2000, 1),
    };
    let index = y * 12 + (m - 1);
    (index - 11..=index)
        .map(|i| format!("{:04}-{:02}", i / 12, i % 12 + 1))
        .collect()
}

/// A bar's label: the month's short name, with the year ('Jan 26') where one starts and
/// under the first bar, so twelve months across a new year read right. (One text per
/// bar: each element of an island's view costs the WASM its hydration code.)
fn month_label(month: &str, first: bool) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = month[5..].parse::<usize>().unwrap_or(1).clamp(1, 12);
    let name = NAMES[m - 1];
    if first || m == 1 {
        format!("{name} {}", &month[2..4])
    } else {
        name.to_owned()
    }
}

/// The currency with the largest sum (the one a single chart is drawn in).
fn main_currency(totals: &Totals) -> Option<String> {
    totals
        .0
        .iter()
        .max_by_key(|(c, m)| (*m, std::cmp::Reverse(c.clone())))
        .map(|(c, _)| c.clone())
}

/// Escapes text for HTML, in an element or in a quoted attribute.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Bars of earnings per month, in the main currency, for the twelve months up to the
/// latest month with earnings (taken from the data, so server and browser draw the
/// same); empty without earnings.
pub fn earnings_chart(by_month: &KeyedTotals, totals: &Totals) -> String {
    let Some(currency) = main_currency(totals) else {
        return String::new();
    };
    let Some(last) = by_month
        .0
        .iter()
        .filter(|(_, c, _)| *c == currency)
        .map(|(m, _, _)| m.clone())
        .max()
    else {
        return String::new();
    };
    let months = twelve_months(&last);
    let values: Vec<i64> = months.iter().map(|m| by_month.get(m, &currency)).collect();
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    const H: i64 = 120;
    let peak = esc(&format_display(max, &currency));
    let cur = esc(&currency);
    // The scale: the peak at the top line, 0 at the axis.
    let mut html = format!(
        r#"<figure class="chart" data-testid="earnings-chart" data-currency="{cur}"><svg viewBox="0 0 488 150" role="img" aria-label="Earnings per month in {cur}, up to {last}"><line x1="4" x2="484" y1="10" y2="10" class="chart-grid"></line><text x="484" y="7" text-anchor="end" class="chart-label" data-testid="chart-peak">{peak}</text><line x1="4" x2="484" y1="{axis}" y2="{axis}" class="chart-axis"></line>"#,
        last = esc(&last),
        axis = 10 + H,
    );
    for (i, (month, minor)) in months.iter().zip(&values).enumerate() {
        let h = minor * H / max;
        let x = 8 + i as i64 * 40;
        html.push_str(&format!(
            r#"<g><rect class="chart-bar" data-testid="chart-bar" data-month="{month}" data-minor="{minor}" x="{x}" y="{y}" width="28" height="{h}" rx="3"><title>{month}: {amount}</title></rect><text x="{tx}" y="{ty}" text-anchor="middle" class="chart-label">{label}</text></g>"#,
            month = esc(month),
            y = 10 + H - h,
            amount = esc(&format_display(*minor, &currency)),
            tx = x + 14,
            ty = H + 26,
            label = esc(&month_label(month, i == 0)),
        ));
    }
    html.push_str(&format!(
        r#"</svg><figcaption class="muted">Per month in {cur}, peak {peak}{others}</figcaption></figure>"#,
        others = if totals.0.len() > 1 {
            " · other currencies are in the totals"
        } else {
            ""
        },
    ));
    html
}

/// Sums per key (spending per category, earnings per platform), largest first, each
/// currency on its own.
pub fn category_totals(by_category: &KeyedTotals, label: &str) -> String {
    let mut rows = Vec::with_capacity(by_category.0.len());
    for row in &by_category.0 {
        crate::sorted::insert(&mut rows, row.clone(), |a, b| {
            a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0))
        });
    }
    let max_of = |currency: &str| {
        rows.iter()
            .filter(|r| r.1 == currency)
            .map(|r| r.2)
            .max()
            .unwrap_or(1)
            .max(1)
    };
    let mut html = format!(r#"<ul class="by-category" aria-label="{}">"#, esc(label));
    for (category, currency, minor) in &rows {
        let category = esc(category);
        html.push_str(&format!(
            r#"<li data-testid="category-total" data-category="{category}"><span class="category">{category}</span><span class="cat-bar" aria-hidden="true"><span style="width:{width}%"></span></span><span class="amount">{amount}</span></li>"#,
            width = minor * 100 / max_of(currency),
            amount = esc(&format_display(*minor, currency)),
        ));
    }
    html.push_str("</ul>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_cross_the_year() {
        let m = twelve_months("2026-03");
        assert_eq!(m.len(), 12);
        assert_eq!(m[0], "2025-04");
        assert_eq!(m[9], "2026-01");
        assert_eq!(m[11], "2026-03");
    }

    #[test]
    fn month_labels_name_the_year_where_one_starts() {
        assert_eq!(month_label("2025-04", true), "Apr 25");
        assert_eq!(month_label("2025-05", false), "May");
        assert_eq!(month_label("2026-01", false), "Jan 26");
    }

    /// What users name (categories, platforms) is escaped in text and in attributes.
    #[test]
    fn names_are_escaped() {
        let mut by = KeyedTotals::default();
        by.add(r#"<img src=x onerror="alert(1)">&'"#, "EUR", 500);
        let html = category_totals(&by, "Totals by platform");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains(
            r#"data-category="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;""#
        ));
        assert!(html.contains(
            r#"<span class="category">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;</span>"#
        ));
    }

    /// The markup the stylesheet and the end-to-end tests rely on.
    #[test]
    fn category_totals_are_bars_largest_first_per_currency() {
        let mut by = KeyedTotals::default();
        by.add("Food", "EUR", 500);
        by.add("Travel", "EUR", 1000);
        by.add("Food", "USD", 300);
        assert_eq!(
            category_totals(&by, "Totals by category"),
            concat!(
                r#"<ul class="by-category" aria-label="Totals by category">"#,
                r#"<li data-testid="category-total" data-category="Travel"><span class="category">Travel</span><span class="cat-bar" aria-hidden="true"><span style="width:100%"></span></span><span class="amount">10.00 EUR</span></li>"#,
                r#"<li data-testid="category-total" data-category="Food"><span class="category">Food</span><span class="cat-bar" aria-hidden="true"><span style="width:50%"></span></span><span class="amount">5.00 EUR</span></li>"#,
                r#"<li data-testid="category-total" data-category="Food"><span class="category">Food</span><span class="cat-bar" aria-hidden="true"><span style="width:100%"></span></span><span class="amount">3.00 USD</span></li>"#,
                "</ul>"
            )
        );
    }

    #[test]
    fn the_earnings_chart_has_twelve_bars_scaled_to_the_peak() {
        let mut by = KeyedTotals::default();
        by.add("2026-02", "EUR", 4000);
        by.add("2026-03", "EUR", 8000);
        let totals = Totals(vec![("EUR".into(), 12000)]);
        let html = earnings_chart(&by, &totals);
        assert_eq!(html.matches(r#"data-testid="chart-bar""#).count(), 12);
        assert!(
            html.contains(
                r#"data-month="2026-03" data-minor="8000" x="448" y="10" width="28" height="120""#
            ),
            "{html}"
        );
        assert!(
            html.contains(
                r#"data-month="2026-02" data-minor="4000" x="408" y="70" width="28" height="60""#
            ),
            "{html}"
        );
        assert!(
            html.contains(r#"data-testid="chart-peak">80.00 EUR</text>"#),
            "{html}"
        );
        assert!(
            html.ends_with("Per month in EUR, peak 80.00 EUR</figcaption></figure>"),
            "{html}"
        );
        assert_eq!(
            earnings_chart(&KeyedTotals::default(), &Totals::default()),
            ""
        );
    }

    #[test]
    fn the_chart_is_drawn_in_the_largest_currency() {
        let t = Totals(vec![("EUR".into(), 500), ("USD".into(), 900)]);
        assert_eq!(main_currency(&t).as_deref(), Some("USD"));
        assert_eq!(main_currency(&Totals::default()), None);
    }
}
