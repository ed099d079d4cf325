//! What a CRM computes from the book: KPIs, follow-ups, the pipeline, segments, suggestions
//! and merging duplicates.
//!
//! # Layout
//!
//! - [`kpi`]: dashboard figures as pure functions over facts and a period.
//! - [`follow_ups`]: Overdue / Today / Upcoming across the book.
//! - [`pipeline`]: deals by stage, totals, weighted forecast, moving a deal.
//! - [`segments`]: conditions over summaries, members, saved segments.
//! - [`suggestions`]: birthdays and anniversaries coming up, cross-sell ranking.
//! - [`merge`]: two customers merged into one, every record kept.
//! - [`team_kpi`]: the team dashboard: the team, each territory, each rep.

pub mod follow_ups;
pub mod kpi;
pub mod merge;
pub mod pipeline;
pub mod segments;
pub mod suggestions;
pub mod team_kpi;

/// "1 answer", "3 answers": a count with its noun in the right number (the merge note and
/// the screens' figures).
pub fn count(n: usize, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}
