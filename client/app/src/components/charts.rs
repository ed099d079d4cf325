//! Charts drawn as SVG by the app itself (no chart library, no JavaScript runtime): a
//! sparkline, rows of horizontal bars that are links (touch targets of 44 px), and a column
//! chart whose columns may be stacked and tapped.
//!
//! Every chart scales with its card through its `viewBox`, so the same component reads at
//! 390 px on a phone and uses the width of a tablet column.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};

/// A small line of a series, for a KPI tile.
#[component]
pub fn Sparkline(values: Vec<f64>, #[prop(into)] label: String) -> impl IntoView {
    const WIDTH: f64 = 100.0;
    const HEIGHT: f64 = 24.0;
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let n = values.len();
    let points: String = values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let x = if n > 1 {
                i as f64 * WIDTH / (n - 1) as f64
            } else {
                WIDTH / 2.0
            };
            let y = if max > 0.0 {
                HEIGHT - 2.0 - value / max * (HEIGHT - 4.0)
            } else {
                HEIGHT - 2.0
            };
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <svg class="sparkline" viewBox="0 0 100 24" preserveAspectRatio="none" role="img" aria-label=label>
            <polyline points=points fill="none" stroke-width="2" vector-effect="non-scaling-stroke"/>
        </svg>
    }
}

/// One row of [`HBars`].
#[derive(Debug, Clone, PartialEq)]
pub struct HBar {
    /// What the row is.
    pub label: String,
    /// Its value, for the bar's length.
    pub value: f64,
    /// The value as shown.
    pub text: String,
    /// Where a tap leads (the customers behind it).
    pub href: String,
    /// The CSS class colouring the bar (`hbar-fill` unless it matches a chart's colour).
    pub class: &'static str,
}

/// Rows of horizontal bars, each a link; `centered` draws a funnel (bars centred).
#[component]
pub fn HBars(
    rows: Vec<HBar>,
    #[prop(optional)] centered: bool,
    #[prop(into)] testid: String,
) -> impl IntoView {
    let max = rows.iter().map(|row| row.value).fold(0.0_f64, f64::max);
    view! {
        <ul class="hbars" data-testid=testid>
            {rows.into_iter().map(|row| {
                let share = if max > 0.0 { (row.value / max).clamp(0.0, 1.0) } else { 0.0 };
                let width = (share * 100.0).max(if row.value > 0.0 { 1.5 } else { 0.0 });
                let x = if centered { (100.0 - width) / 2.0 } else { 0.0 };
                view! {
                    <li>
                        <A href=row.href attr:class="hbar-row" attr:data-testid="hbar-row">
                            <span class="hbar-label">{row.label.clone()}</span>
                            <svg class="hbar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
                                <rect class="hbar-track" x="0" y="0" width="100" height="10" rx="2"/>
                                <rect class=row.class x=format!("{x:.2}") y="0" width=format!("{width:.2}") height="10" rx="2"/>
                            </svg>
                            <span class="hbar-value" data-testid="hbar-value">{row.text}</span>
                        </A>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// One column of [`Columns`].
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The label under it (empty to skip).
    pub label: String,
    /// Its parts, bottom up, each with the CSS class that colours it.
    pub parts: Vec<(f64, &'static str)>,
    /// Its total as shown in the tooltip.
    pub text: String,
    /// Drawn lighter (outside the period).
    pub muted: bool,
    /// Where a tap leads, if anywhere.
    pub href: Option<String>,
}

/// A column chart, columns stacked from their parts; a tapped column opens its `href`.
#[component]
pub fn Columns(
    columns: Vec<Column>,
    #[prop(into)] label: String,
    #[prop(into)] testid: String,
) -> impl IntoView {
    const WIDTH: f64 = 320.0;
    const HEIGHT: f64 = 140.0;
    const BASE: f64 = 122.0;
    let navigate = use_navigate();
    let n = columns.len().max(1);
    let slot = WIDTH / n as f64;
    let bar = (slot * 0.7).min(40.0);
    let max = columns
        .iter()
        .map(|column| column.parts.iter().map(|(value, _)| value).sum::<f64>())
        .fold(0.0_f64, f64::max);
    // Labels every k columns so they never overlap (about 48 units each).
    let every = ((48.0 / slot).ceil() as usize).max(1);
    view! {
        <svg class="columns" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label data-testid=testid>
            <line class="axis" x1="0" x2=WIDTH.to_string() y1=BASE.to_string() y2=BASE.to_string()/>
            {columns.into_iter().enumerate().map(|(i, column)| {
                let x = i as f64 * slot + (slot - bar) / 2.0;
                let mut top = BASE;
                let parts = column.parts.iter().map(|(value, class)| {
                    let height = if max > 0.0 { value / max * (BASE - 8.0) } else { 0.0 };
                    top -= height;
                    view! { <rect class=*class x=format!("{x:.1}") y=format!("{top:.1}") width=format!("{bar:.1}") height=format!("{height:.1}")/> }
                }).collect_view();
                let href = column.href.clone();
                let navigate = navigate.clone();
                let label = (i % every == 0).then(|| view! {
                    <text class="column-label" x=format!("{:.1}", i as f64 * slot + slot / 2.0) y=(HEIGHT - 4.0).to_string() text-anchor="middle">{column.label.clone()}</text>
                });
                view! {
                    <g class="column" class:muted=column.muted class:tappable=href.is_some()
                        on:click=move |_| if let Some(href) = &href { navigate(href, Default::default()) }>
                        <title>{format!("{}: {}", column.label, column.text)}</title>
                        <rect class="column-hit" x=format!("{:.1}", i as f64 * slot) y="0" width=format!("{slot:.1}") height=BASE.to_string()/>
                        {parts}
                        {label}
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}
