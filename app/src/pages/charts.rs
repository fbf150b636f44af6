//! Small charts drawn by the app itself (SVG, no charting library): expense totals by
//! category and earnings per month. Both read sums that the lists keep exact as events
//! arrive (`KeyedTotals`), so they move live with the lists.

use leptos::prelude::*;

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

/// Bars of earnings per month, in the main currency, for the twelve months up to the
/// latest month with earnings (taken from the data, so server and browser draw the same).
#[component]
pub fn EarningsChart(by_month: KeyedTotals, totals: Totals) -> Option<impl IntoView> {
    let currency = main_currency(&totals)?;
    let last = by_month
        .0
        .iter()
        .filter(|(_, c, _)| *c == currency)
        .map(|(m, _, _)| m.clone())
        .max()?;
    let months = twelve_months(&last);
    let values: Vec<i64> = months.iter().map(|m| by_month.get(m, &currency)).collect();
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    const H: i64 = 120;
    let others = totals.0.len() > 1;
    let bars = months
        .iter()
        .zip(&values)
        .enumerate()
        .map(|(i, (month, minor))| {
            let h = minor * H / max;
            let x = 8 + i as i64 * 40;
            let label = format!("{month}: {}", format_display(*minor, &currency));
            view! {
                <g>
                    <rect class="chart-bar" data-testid="chart-bar" data-month=month.clone() data-minor=*minor
                        x=x y=10 + H - h width="28" height=h rx="3">
                        <title>{label}</title>
                    </rect>
                    <text x=x + 14 y=H + 26 text-anchor="middle" class="chart-label">{month_label(month, i == 0)}</text>
                </g>
            }
        })
        .collect_view();
    Some(view! {
        <figure class="chart" data-testid="earnings-chart" data-currency=currency.clone()>
            <svg viewBox="0 0 488 150" role="img" aria-label=format!("Earnings per month in {currency}, up to {last}")>
                // The scale: the peak at the top line, 0 at the axis.
                <line x1="4" x2="484" y1="10" y2="10" class="chart-grid"/>
                <text x="484" y="7" text-anchor="end" class="chart-label" data-testid="chart-peak">{format_display(max, &currency)}</text>
                <line x1="4" x2="484" y1=10 + H y2=10 + H class="chart-axis"/>
                {bars}
            </svg>
            <figcaption class="muted">
                {format!("Per month in {currency}, peak {}", format_display(max, &currency))}
                {others.then_some(" · other currencies are in the totals")}
            </figcaption>
        </figure>
    })
}

/// Sums per key (spending per category, earnings per platform), largest first, each
/// currency on its own. One component for both: each view type costs the WASM its code.
#[component]
pub fn CategoryTotals(by_category: KeyedTotals, label: &'static str) -> impl IntoView {
    let mut rows = by_category.0.clone();
    rows.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let max_of = |currency: &str| {
        rows.iter()
            .filter(|r| r.1 == currency)
            .map(|r| r.2)
            .max()
            .unwrap_or(1)
            .max(1)
    };
    let items = rows
        .iter()
        .map(|(category, currency, minor)| {
            let width = format!("width:{}%", minor * 100 / max_of(currency));
            view! {
                <li data-testid="category-total" data-category=category.clone()>
                    <span class="category">{category.clone()}</span>
                    <span class="cat-bar" aria-hidden="true"><span style=width></span></span>
                    <span class="amount">{format_display(*minor, currency)}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="by-category" aria-label=label>{items}</ul> }
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

    #[test]
    fn the_chart_is_drawn_in_the_largest_currency() {
        let t = Totals(vec![("EUR".into(), 500), ("USD".into(), 900)]);
        assert_eq!(main_currency(&t).as_deref(), Some("USD"));
        assert_eq!(main_currency(&Totals::default()), None);
    }
}
