//! The customer KPIs of the dashboards, computed on the device from [`CustomerFacts`] over a
//! period of local calendar days.
//!
//! Every figure is a pure function of the facts, the period and a few parameters, and keeps
//! the customers behind it (as indices into the facts given), so a tap on a figure lists
//! them. A ratio whose denominator is zero is `None` (shown as "—"), never NaN.
//!
//! Days are local: an instant belongs to the local day of `utc_offset_ms` (the device's
//! offset when the dashboard is computed; instants within an hour of midnight around a
//! daylight-saving change can land on the neighbouring day). Purchases carry a date already.
//!
//! Archived customers (removed, or merged into another whose history now holds theirs) count
//! in no figure. The user-facing definitions are in [`definition`].

use std::collections::HashMap;

use crate::{
    documents::book_doc::{PipelineStage, StageOutcome},
    model::facts::CustomerFacts,
    model::records::most_used_currency,
    model::records::{ActivityKind, FeedbackKind, NpsCategory},
    CalendarDate, LifecycleStage, Timestamp,
};

/// Index of a customer in the facts slice given to [`compute`].
pub type Idx = u32;

/// The customers behind one figure, as indices into the facts given to [`compute`].
///
/// Where the figures are computed (the engine) it holds the list, for a drill-down
/// ([`drill`]). Sent anywhere, only its length crosses: the screens show how many and ask
/// the engine for the customers behind a figure when the rep taps it
/// ([`DashboardFigures::customers_behind`]). A dashboard over 10,000 customers thus sends
/// ~3 KB instead of ~600 KB (each period's lists and every customer's id). Read it with
/// [`Members::len`] (the count, on either side); the list (`Deref`) is empty once sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    list: Vec<Idx>,
    /// The length of the list this was sent for, once sent (the list itself is not).
    sent_len: Option<u32>,
}

impl Members {
    /// How many customers: the list's length, or the sent list's.
    pub fn len(&self) -> usize {
        match self.sent_len {
            Some(len) => len as usize,
            None => self.list.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Vec<Idx>> for Members {
    fn from(list: Vec<Idx>) -> Self {
        Members {
            list,
            sent_len: None,
        }
    }
}

impl std::ops::Deref for Members {
    type Target = Vec<Idx>;
    fn deref(&self) -> &Vec<Idx> {
        &self.list
    }
}

impl std::ops::DerefMut for Members {
    fn deref_mut(&mut self) -> &mut Vec<Idx> {
        &mut self.list
    }
}

impl<const N: usize> PartialEq<[Idx; N]> for Members {
    fn eq(&self, other: &[Idx; N]) -> bool {
        self.sent_len.is_none() && self.list == other
    }
}

impl PartialEq<Vec<Idx>> for Members {
    fn eq(&self, other: &Vec<Idx>) -> bool {
        self.sent_len.is_none() && &self.list == other
    }
}

impl<'a> IntoIterator for &'a Members {
    type Item = &'a Idx;
    type IntoIter = std::slice::Iter<'a, Idx>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl serde::Serialize for Members {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(u32::try_from(self.len()).unwrap_or(u32::MAX))
    }
}

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let len = <u32 as serde::Deserialize>::deserialize(deserializer)?;
        Ok(Members {
            list: Vec::new(),
            sent_len: Some(len),
        })
    }
}

/// An inclusive range of local calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Period {
    /// The first day.
    pub first: CalendarDate,
    /// The last day (inclusive).
    pub last: CalendarDate,
}

/// The usual periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PeriodKind {
    /// The calendar month.
    Month,
    /// The calendar quarter.
    Quarter,
    /// The calendar year.
    Year,
}

impl PeriodKind {
    /// Every kind, in the order shown.
    pub const ALL: [PeriodKind; 3] = [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year];

    /// The identifier used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }

    /// Parses [`Self::as_str`] back.
    pub fn parse(text: &str) -> Option<PeriodKind> {
        PeriodKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// The name of the kind: "Month", …
    pub fn label(self) -> &'static str {
        match self {
            PeriodKind::Month => "Month",
            PeriodKind::Quarter => "Quarter",
            PeriodKind::Year => "Year",
        }
    }
}

fn month_end(year: i32, month: u32) -> CalendarDate {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    CalendarDate::from_day_number(
        CalendarDate::day_number(CalendarDate {
            year: next_year,
            month: next_month,
            day: 1,
        }) - 1,
    )
}

/// `month` (1-12) moved by `delta` months.
fn add_months(year: i32, month: u32, delta: i32) -> (i32, u32) {
    let index = year * 12 + month as i32 - 1 + delta;
    (index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
}

impl Period {
    /// The period of `kind` that contains `day`.
    pub fn containing(kind: PeriodKind, day: CalendarDate) -> Period {
        let (first_month, months) = match kind {
            PeriodKind::Month => (day.month, 1),
            PeriodKind::Quarter => ((day.month - 1) / 3 * 3 + 1, 3),
            PeriodKind::Year => (1, 12),
        };
        let (last_year, last_month) = add_months(day.year, first_month, months - 1);
        Period {
            first: CalendarDate {
                year: day.year,
                month: first_month,
                day: 1,
            },
            last: month_end(last_year, last_month),
        }
    }

    /// A period from `first` to `last`, in whichever order they are given.
    pub fn between(a: CalendarDate, b: CalendarDate) -> Period {
        Period {
            first: a.min(b),
            last: a.max(b),
        }
    }

    /// The number of days.
    pub fn days(&self) -> i64 {
        self.last.day_number() - self.first.day_number() + 1
    }

    /// Whether the period is whole calendar months (from a 1st to a month's last day).
    fn whole_months(&self) -> Option<i32> {
        let ends_a_month = month_end(self.last.year, self.last.month) == self.last;
        (self.first.day == 1 && ends_a_month).then(|| {
            (self.last.year - self.first.year) * 12 + self.last.month as i32
                - self.first.month as i32
                + 1
        })
    }

    /// The period just before, to compare with: as many whole months before a period of
    /// whole months (the previous quarter of a quarter), else as many days before.
    pub fn previous(&self) -> Period {
        match self.whole_months() {
            Some(months) => {
                let (year, month) = add_months(self.first.year, self.first.month, -months);
                let (last_year, last_month) = add_months(self.first.year, self.first.month, -1);
                Period {
                    first: CalendarDate {
                        year,
                        month,
                        day: 1,
                    },
                    last: month_end(last_year, last_month),
                }
            }
            None => {
                let days = self.days();
                Period {
                    first: CalendarDate::from_day_number(self.first.day_number() - days),
                    last: CalendarDate::from_day_number(self.first.day_number() - 1),
                }
            }
        }
    }

    /// How the period reads: "November 2026", "Q4 2026", "2026", "3 Nov – 20 Nov 2026".
    pub fn label(&self) -> String {
        const MONTHS: [&str; 12] = crate::CalendarDate::MONTHS;
        let month_name = |month: u32| MONTHS[(month as usize + 11) % 12];
        match self.whole_months() {
            Some(1) => format!("{} {}", month_name(self.first.month), self.first.year),
            Some(3) if self.first.month % 3 == 1 => {
                format!("Q{} {}", self.first.month / 3 + 1, self.first.year)
            }
            Some(12) if self.first.month == 1 => self.first.year.to_string(),
            _ => format!("{} – {}", self.first, self.last),
        }
    }
}

/// What to compute over.
#[derive(Debug, Clone)]
pub struct KpiParams<'a> {
    /// The period.
    pub period: Period,
    /// Today, local: "not contacted for N days" counts back from the earlier of today and
    /// the period's last day.
    pub today: CalendarDate,
    /// The device's offset from UTC, in milliseconds (UTC+1 is 3,600,000).
    pub utc_offset_ms: i64,
    /// Money figures count purchases in this currency only.
    pub currency: &'a str,
    /// "Not contacted for N days": N.
    pub not_contacted_days: u32,
    /// The deal pipeline, for the open pipeline figures.
    pub pipeline: &'a [PipelineStage],
}

/// A ratio or an average that may have no value (its denominator is zero).
pub type Figure = Option<f64>;

/// Customers by lifecycle stage at the end of the period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FunnelStep {
    /// The stage.
    pub stage: LifecycleStage,
    /// The customers in it.
    pub customers: Members,
}

/// How many of the customers who were in one stage moved on to the next.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conversion {
    /// The stage left.
    pub from: LifecycleStage,
    /// The stage reached (or a later one).
    pub to: LifecycleStage,
    /// Customers in `from` at the start of the period or who entered it during the period.
    pub entered: Members,
    /// Those of them who then reached `to` or a later stage during the period.
    pub converted: Members,
    /// `converted / entered`, in percent.
    pub rate: Figure,
}

/// Net Promoter Score.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Nps {
    /// Answers of 9-10 in the period.
    pub promoters: usize,
    /// Answers of 7-8.
    pub passives: usize,
    /// Answers of 0-6.
    pub detractors: usize,
    /// % promoters − % detractors, from −100 to 100.
    pub score: Figure,
    /// Customers with a promoter answer, a passive answer, a detractor answer.
    pub customers: [Members; 3],
}

/// A survey average or share.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Survey {
    /// Answers in the period.
    pub responses: usize,
    /// For CSAT the share of 4-5 answers (percent); for CES the average score.
    pub value: Figure,
    /// Customers who answered.
    pub customers: Members,
    /// For CSAT: customers with a 4-5 answer.
    pub satisfied: Members,
}

/// Churn and retention over the period.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Churn {
    /// Active customers (customer, loyal, advocate) at the start of the period.
    pub active_at_start: Members,
    /// Of those, the ones churned during the period (moved to churned, or lapsed).
    pub churned: Members,
    /// Of those, the ones whose 12-month purchase window lapsed (no purchase in the 365 days
    /// to the period's end though they bought in the 365 days to its start).
    pub lapsed: Members,
    /// Of those, still active at the end and not lapsed.
    pub retained: Members,
    /// Customers who moved from churned back to an active stage during the period.
    pub won_back: Members,
    /// churned / active at start, percent.
    pub churn_rate: Figure,
    /// retained / active at start, percent.
    pub retention_rate: Figure,
}

/// Customer lifetime value and its inputs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LifetimeValue {
    /// Revenue of the period's purchases in the currency, in cents.
    pub revenue_cents: i64,
    /// Number of those purchases.
    pub orders: usize,
    /// Customers who made them.
    pub buyers: Members,
    /// Revenue / orders, in cents.
    pub average_order_cents: Figure,
    /// Orders per buyer, per year (the period's rate, scaled to 365.25 days).
    pub purchases_per_year: Figure,
    /// Average customer lifespan in years, over customers who ever bought: from when they
    /// were added to the period's end, or to their last purchase if churned by then.
    pub lifespan_years: Figure,
    /// Customers who bought anything in the currency by the period's end.
    pub customers_valued: Members,
    /// Lifetime value per customer: the average, over [`Self::customers_valued`], of each
    /// one's lifetime value at the period's end (what `model::records::customer_value` gives
    /// the customer's page: purchases in the currency up to that day), in cents.
    pub value_cents: Figure,
    /// A projection instead of a record: average order value × purchases per year ×
    /// lifespan, in cents.
    pub projected_cents: Figure,
    /// Purchases of the period in other currencies, not counted.
    pub other_currency_orders: usize,
}

/// Revenue of one calendar month.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MonthRevenue {
    /// Year.
    pub year: i32,
    /// Month, 1-12.
    pub month: u32,
    /// Revenue in the currency, in cents.
    pub cents: i64,
    /// Whether the month overlaps the period (others give context).
    pub in_period: bool,
    /// Customers who bought that month.
    pub buyers: Members,
}

/// Sales of one product over the period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProductSales {
    /// The catalog product's id.
    pub product_id: String,
    /// Its name when last bought.
    pub name: String,
    /// Units sold.
    pub quantity: u64,
    /// Revenue in the currency, in cents.
    pub revenue_cents: i64,
    /// Customers who bought it.
    pub buyers: Members,
}

/// Open deals in one pipeline stage (now, not over the period).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageValue {
    /// The stage.
    pub stage: PipelineStage,
    /// Number of deals.
    pub deals: usize,
    /// Their value, in cents.
    pub value_cents: i64,
    /// Value × stage probability, in cents.
    pub weighted_cents: i64,
    /// Customers with a deal in it.
    pub customers: Members,
}

/// Median and 90th percentile of durations.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Durations {
    /// How many.
    pub count: usize,
    /// Median, in milliseconds (the mean of the two middle values when the count is even).
    pub median_ms: Figure,
    /// 90th percentile, in milliseconds (nearest rank: the value at rank ⌈0.9 n⌉).
    pub p90_ms: Figure,
}

/// Complaints received during the period.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Complaints {
    /// How many were received.
    pub received: usize,
    /// Customers who complained.
    pub customers: Members,
    /// Time from each complaint to its first response (answered ones).
    pub first_response: Durations,
    /// Time from each complaint to its resolution (resolved ones).
    pub resolution: Durations,
    /// Customers with a complaint of the period still unresolved.
    pub unresolved: Members,
}

/// Activities of one week (Monday to Sunday), by kind.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Week {
    /// The Monday.
    pub monday: CalendarDate,
    /// Counts by kind, in [`ActivityKind::ALL`] order.
    pub counts: Vec<u32>,
}

/// Activities over the period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Activities {
    /// Each week overlapping the period.
    pub weeks: Vec<Week>,
    /// Totals by kind, in [`ActivityKind::ALL`] order.
    pub totals: Vec<u32>,
    /// Customers with an activity of each kind, in [`ActivityKind::ALL`] order.
    pub customers: Vec<Members>,
}

/// Every figure of the dashboard for one period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Kpis {
    /// The period.
    pub period: Period,
    /// Customers counted (not archived, existing by the period's end).
    pub customers: Members,
    /// Customers by stage at the period's end, in [`LifecycleStage::ALL`] order.
    pub funnel: Vec<FunnelStep>,
    /// Conversion between consecutive stages of the ladder.
    pub conversions: Vec<Conversion>,
    /// Prospects and leads who became customers (customer, loyal or advocate) in the period.
    pub new_customers: Members,
    /// Customers added in the period (created, imported or captured), whatever their stage.
    pub added: Members,
    /// Of those, the ones added as a prospect or a lead: leads captured.
    pub leads_captured: Members,
    /// Net Promoter Score.
    pub nps: Nps,
    /// Customer satisfaction: share of 4-5 answers.
    pub csat: Survey,
    /// Customer effort: average answer.
    pub ces: Survey,
    /// Churn and retention.
    pub churn: Churn,
    /// Customer lifetime value.
    pub lifetime_value: LifetimeValue,
    /// Revenue by month: the months of the period, and before them enough to show six.
    pub revenue_by_month: Vec<MonthRevenue>,
    /// Products by revenue, best first.
    pub products_by_revenue: Vec<ProductSales>,
    /// Products by units sold, best first.
    pub products_by_quantity: Vec<ProductSales>,
    /// Each customer who bought in the period, with what she bought in the main currency
    /// (for revenue by a custom field's value, [`DashboardFigures::by_field`]). Kept in the
    /// engine: never sent to the screens.
    #[serde(skip)]
    pub revenue_by_customer: Vec<(Idx, i64)>,
    /// Open pipeline by stage (now).
    pub pipeline: Vec<StageValue>,
    /// Complaint handling.
    pub complaints: Complaints,
    /// Activities by week and kind.
    pub activities: Activities,
    /// Customers (not churned) not contacted in the last N days up to the earlier of today
    /// and the period's end, among those added before those N days.
    pub not_contacted: Members,
}

/// The ladder of active relationship stages, in order (churned is off the ladder).
const LADDER: [LifecycleStage; 5] = [
    LifecycleStage::Prospect,
    LifecycleStage::Lead,
    LifecycleStage::Customer,
    LifecycleStage::Loyal,
    LifecycleStage::Advocate,
];

fn rung(stage: LifecycleStage) -> Option<usize> {
    LADDER.iter().position(|s| *s == stage)
}

fn is_active(stage: LifecycleStage) -> bool {
    matches!(
        stage,
        LifecycleStage::Customer | LifecycleStage::Loyal | LifecycleStage::Advocate
    )
}

fn percent(part: usize, whole: usize) -> Figure {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// Median (mean of the two middle values for an even count) and nearest-rank p90.
pub fn durations(mut values: Vec<i64>) -> Durations {
    crate::order::sort(&mut values);
    let n = values.len();
    if n == 0 {
        return Durations {
            count: 0,
            median_ms: None,
            p90_ms: None,
        };
    }
    let median = if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
    };
    let rank = (n * 9).div_ceil(10).max(1);
    Durations {
        count: n,
        median_ms: Some(median),
        p90_ms: Some(values[rank - 1] as f64),
    }
}

struct Days {
    offset: i64,
}

impl Days {
    fn of(&self, at: Timestamp) -> i64 {
        (at.0 + self.offset).div_euclid(Timestamp::DAY_MS)
    }

    /// The first instant of local day `day`: `days.of(at) <= day` exactly when
    /// `at.0 < days.start(day + 1)`. Comparing instants with it spares a division per fact,
    /// which the size-optimised build keeps as a real division (most of a first open's
    /// figures were spent on those).
    fn start(&self, day: i64) -> i64 {
        day.saturating_mul(Timestamp::DAY_MS)
            .saturating_sub(self.offset)
    }
}

/// The stage of a customer at the end of local day `day`, or `None` if it did not exist yet.
fn stage_at(facts: &CustomerFacts, day: i64, days: &Days) -> Option<LifecycleStage> {
    let end = days.start(day.saturating_add(1));
    if facts.created_at.0 >= end {
        return None;
    }
    let known = facts.stages.partition_point(|(_, _, at)| at.0 < end);
    Some(if known == facts.stages.len() {
        // After every recorded change: the current stage (which, after two devices moved the
        // stage at once, is the merge's winner, not necessarily the latest record).
        facts.stage
    } else if known == 0 {
        let (from, to, _) = &facts.stages[0];
        from.unwrap_or(*to)
    } else {
        facts.stages[known - 1].1
    })
}

/// The stage a customer was added at (before any recorded move).
fn first_stage(facts: &CustomerFacts) -> LifecycleStage {
    facts
        .stages
        .first()
        .map_or(facts.stage, |(from, to, _)| from.unwrap_or(*to))
}

/// Every figure of the dashboard over `facts` for `params.period`.
pub fn compute(facts: &[&CustomerFacts], params: &KpiParams<'_>) -> Kpis {
    compute_figures(facts, params, true)
}

/// The figures a team dashboard's row shows (`crm::team_kpi::Headline`), equal to
/// [`compute`]'s, over `facts` for `params.period`. The rest is left empty or zero:
/// revenue by month and by customer, products, lifetime value's lifespan and value,
/// conversions, weekly activities and who logged them (a row computes in about half the
/// time).
pub fn compute_headline(facts: &[&CustomerFacts], params: &KpiParams<'_>) -> Kpis {
    compute_figures(facts, params, false)
}

fn compute_figures(facts: &[&CustomerFacts], params: &KpiParams<'_>, every: bool) -> Kpis {
    let days = Days {
        offset: params.utc_offset_ms,
    };
    let first = params.period.first.day_number();
    let last = params.period.last.day_number();
    let in_period = |day: i64| day >= first && day <= last;
    // The period as instants (see `Days::start`): facts' dates are compared without dividing.
    let (period_start, period_end) = (days.start(first), days.start(last.saturating_add(1)));
    let in_period_at = |at: Timestamp| at.0 >= period_start && at.0 < period_end;
    let kinds = ActivityKind::ALL;

    let mut kpis = Kpis {
        period: params.period,
        customers: Members::default(),
        funnel: LifecycleStage::ALL
            .iter()
            .map(|stage| FunnelStep {
                stage: *stage,
                customers: Members::default(),
            })
            .collect(),
        conversions: LADDER
            .windows(2)
            .map(|pair| Conversion {
                from: pair[0],
                to: pair[1],
                entered: Members::default(),
                converted: Members::default(),
                rate: None,
            })
            .collect(),
        new_customers: Members::default(),
        added: Members::default(),
        leads_captured: Members::default(),
        nps: Default::default(),
        csat: Default::default(),
        ces: Default::default(),
        churn: Default::default(),
        lifetime_value: Default::default(),
        revenue_by_month: Vec::new(),
        products_by_revenue: Vec::new(),
        revenue_by_customer: Vec::new(),
        products_by_quantity: Vec::new(),
        pipeline: params
            .pipeline
            .iter()
            .filter(|stage| stage.outcome == StageOutcome::Open)
            .map(|stage| StageValue {
                stage: stage.clone(),
                deals: 0,
                value_cents: 0,
                weighted_cents: 0,
                customers: Members::default(),
            })
            .collect(),
        complaints: Default::default(),
        activities: Activities {
            weeks: Vec::new(),
            totals: vec![0; kinds.len()],
            customers: vec![Members::default(); kinds.len()],
        },
        not_contacted: Members::default(),
    };

    // Months shown for revenue: the period's up to the current month (months that have not
    // happened yet are not drawn as months without revenue), preceded by enough to show six.
    let (mut year, mut month) = (params.period.first.year, params.period.first.month);
    let last_month = (params.period.last.year, params.period.last.month)
        .min((params.today.year, params.today.month))
        .max((year, month));
    let period_months = (last_month.0 - year) * 12 + last_month.1 as i32 - month as i32 + 1;
    if period_months < 6 {
        (year, month) = add_months(year, month, period_months - 6);
    }
    loop {
        kpis.revenue_by_month.push(MonthRevenue {
            year,
            month,
            cents: 0,
            in_period: (year, month) >= (params.period.first.year, params.period.first.month),
            buyers: Members::default(),
        });
        if (year, month) >= last_month {
            break;
        }
        (year, month) = add_months(year, month, 1);
    }
    let month_index = |date: CalendarDate| -> Option<usize> {
        let first = &kpis.revenue_by_month[0];
        let index = (date.year - first.year) * 12 + date.month as i32 - first.month as i32;
        usize::try_from(index).ok()
    };
    let n_months = kpis.revenue_by_month.len();
    let mut month_cents = vec![0i64; n_months];
    let mut month_buyers: Vec<Vec<Idx>> = vec![Vec::new(); n_months];
    // Which months a customer bought in: one buffer, cleared for each buyer.
    let mut months_bought = vec![false; n_months];

    // Weeks: Mondays from the one on or before the first day. 1970-01-01 was a Thursday, so
    // day numbers with (day + 3) % 7 == 0 are Mondays.
    let first_monday = first - (first + 3).rem_euclid(7);
    let n_weeks = ((last - first_monday) / 7 + 1) as usize;
    let mut week_counts = vec![vec![0u32; kinds.len()]; n_weeks];

    let mut products: HashMap<&str, ProductSales> = HashMap::new();
    let mut first_responses = Vec::new();
    let mut resolutions = Vec::new();
    let mut lifespans_days: Vec<i64> = Vec::new();
    let mut lifetime_values: Vec<i64> = Vec::new();
    let mut csat_satisfied_answers = 0usize;
    let mut ces_sum = 0u64;
    let reference = last.min(params.today.day_number());
    let reference_end = days.start(reference.saturating_add(1));
    let quiet_since = reference - i64::from(params.not_contacted_days);

    for (idx, customer) in facts.iter().enumerate() {
        if customer.archived {
            continue;
        }
        let idx = idx as Idx;
        let Some(stage_at_end) = stage_at(customer, last, &days) else {
            continue;
        };
        kpis.customers.push(idx);
        kpis.funnel[LifecycleStage::ALL
            .iter()
            .position(|s| *s == stage_at_end)
            .unwrap_or(0)]
        .customers
        .push(idx);
        let stage_at_start = stage_at(customer, first - 1, &days);

        // Conversions, new customers, won back.
        let changes_in_period = customer
            .stages
            .iter()
            .filter(|(_, _, at)| in_period_at(*at));
        let mut in_stage = [false; 4];
        let mut converted = [false; 4];
        for (step, from) in LADDER[..4].iter().enumerate() {
            in_stage[step] = stage_at_start == Some(*from);
        }
        let mut became_customer = false;
        let mut won_back = false;
        for (from, to, _) in changes_in_period {
            if every {
                for step in 0..4 {
                    if *to == LADDER[step] {
                        in_stage[step] = true;
                        kpis.conversions[step].entered.push(idx);
                    } else if in_stage[step] && rung(*to).is_some_and(|rung| rung > step) {
                        converted[step] = true;
                    }
                }
            }
            if matches!(from, Some(LifecycleStage::Prospect | LifecycleStage::Lead))
                && is_active(*to)
            {
                became_customer = true;
            }
            if *from == Some(LifecycleStage::Churned) && is_active(*to) {
                won_back = true;
            }
        }
        if every {
            for step in 0..4 {
                if stage_at_start == Some(LADDER[step]) {
                    kpis.conversions[step].entered.push(idx);
                }
                if converted[step] {
                    kpis.conversions[step].converted.push(idx);
                }
            }
        }
        if became_customer {
            kpis.new_customers.push(idx);
        }
        if in_period_at(customer.created_at) {
            kpis.added.push(idx);
            if matches!(
                first_stage(customer),
                LifecycleStage::Prospect | LifecycleStage::Lead
            ) {
                kpis.leads_captured.push(idx);
            }
        }
        if won_back {
            kpis.churn.won_back.push(idx);
        }

        // Feedback.
        let (mut promoter, mut passive, mut detractor) = (false, false, false);
        let (mut csat_answered, mut csat_satisfied, mut ces_answered) = (false, false, false);
        for (kind, score, at) in &customer.feedback {
            if !in_period_at(*at) {
                continue;
            }
            match kind {
                FeedbackKind::Nps => match NpsCategory::of(*score) {
                    NpsCategory::Promoter => {
                        kpis.nps.promoters += 1;
                        promoter = true;
                    }
                    NpsCategory::Passive => {
                        kpis.nps.passives += 1;
                        passive = true;
                    }
                    NpsCategory::Detractor => {
                        kpis.nps.detractors += 1;
                        detractor = true;
                    }
                },
                FeedbackKind::Csat => {
                    kpis.csat.responses += 1;
                    csat_answered = true;
                    if *score >= 4 {
                        csat_satisfied = true;
                        csat_satisfied_answers += 1;
                    }
                }
                FeedbackKind::Ces => {
                    kpis.ces.responses += 1;
                    ces_answered = true;
                    ces_sum += u64::from(*score);
                }
            }
        }
        for (flag, list) in [promoter, passive, detractor]
            .into_iter()
            .zip(kpis.nps.customers.iter_mut())
        {
            if flag {
                list.push(idx);
            }
        }
        if csat_answered {
            kpis.csat.customers.push(idx);
        }
        if csat_satisfied {
            kpis.csat.satisfied.push(idx);
        }
        if ces_answered {
            kpis.ces.customers.push(idx);
        }

        // Purchases: revenue, months, products, lifetime value inputs.
        let mut bought_in_period = false;
        let mut revenue_in_period = 0i64;
        let mut bought_by_end = false;
        // Her lifetime value at the period's end, summed in this one pass over purchases by
        // the rule of `model::records::customer_value` (a test holds the two equal).
        let mut value_by_end = 0i64;
        let mut last_purchase: Option<i64> = None;
        let mut bought_in_months = false;
        // Bought (in any currency) in the 365 days up to the day before the period, and up
        // to its last day: a customer who stopped buying has lapsed.
        let (mut buying_at_start, mut buying_at_end) = (false, false);
        for purchase in &customer.purchases {
            let day = purchase.date.day_number();
            buying_at_start |= day < first && day >= first - 365;
            buying_at_end |= day <= last && day > last - 365;
            if day > last {
                continue;
            }
            let counts = purchase.currency == params.currency;
            if counts {
                bought_by_end = true;
                value_by_end = value_by_end.saturating_add(purchase.total_cents());
                last_purchase = Some(last_purchase.map_or(day, |d: i64| d.max(day)));
                if let Some(month) = month_index(purchase.date).filter(|m| every && *m < n_months) {
                    month_cents[month] += purchase.total_cents();
                    months_bought[month] = true;
                    bought_in_months = true;
                }
            }
            if !in_period(day) {
                continue;
            }
            if !counts {
                kpis.lifetime_value.other_currency_orders += 1;
                continue;
            }
            bought_in_period = true;
            revenue_in_period = revenue_in_period.saturating_add(purchase.total_cents());
            kpis.lifetime_value.orders += 1;
            kpis.lifetime_value.revenue_cents += purchase.total_cents();
            if !every {
                continue;
            }
            let product = products
                .entry(purchase.product_id.as_str())
                .or_insert_with(|| ProductSales {
                    product_id: purchase.product_id.clone(),
                    name: String::new(),
                    quantity: 0,
                    revenue_cents: 0,
                    buyers: Members::default(),
                });
            if !purchase.product_name.is_empty() && product.name != purchase.product_name {
                product.name.clone_from(&purchase.product_name);
            }
            product.quantity += u64::from(purchase.quantity);
            product.revenue_cents += purchase.total_cents();
            if product.buyers.last() != Some(&idx) {
                product.buyers.push(idx);
            }
        }
        if bought_in_months {
            for (month, bought) in months_bought.iter_mut().enumerate() {
                if std::mem::take(bought) {
                    month_buyers[month].push(idx);
                }
            }
        }
        if bought_in_period {
            kpis.lifetime_value.buyers.push(idx);
            if every {
                kpis.revenue_by_customer.push((idx, revenue_in_period));
            }
        }
        if bought_by_end && every {
            kpis.lifetime_value.customers_valued.push(idx);
            lifetime_values.push(value_by_end);
            let start = days.of(customer.created_at);
            let end = if stage_at_end == LifecycleStage::Churned {
                last_purchase.unwrap_or(start)
            } else {
                last
            };
            lifespans_days.push((end - start).max(0));
        }

        // Churn and retention.
        if stage_at_start.is_some_and(is_active) {
            kpis.churn.active_at_start.push(idx);
            let lapsed = buying_at_start && !buying_at_end;
            if lapsed {
                kpis.churn.lapsed.push(idx);
            }
            if stage_at_end == LifecycleStage::Churned || lapsed {
                kpis.churn.churned.push(idx);
            } else if is_active(stage_at_end) {
                kpis.churn.retained.push(idx);
            }
        }

        // Open pipeline (now).
        for (stage_id, value, _) in &customer.deals {
            let Some(position) = params
                .pipeline
                .iter()
                .position(|stage| &stage.id == stage_id)
                .or((!params.pipeline.is_empty()).then_some(0))
            else {
                continue;
            };
            let stage = &params.pipeline[position];
            if let Some(column) = kpis
                .pipeline
                .iter_mut()
                .find(|column| column.stage.id == stage.id)
            {
                column.deals += 1;
                column.value_cents += value;
                column.weighted_cents += value * i64::from(stage.probability) / 100;
                if column.customers.last() != Some(&idx) {
                    column.customers.push(idx);
                }
            }
        }

        // Complaints received in the period.
        let mut complained = false;
        let mut unresolved = false;
        for (received, first_response, resolved) in &customer.complaints {
            if !in_period_at(*received) {
                continue;
            }
            complained = true;
            kpis.complaints.received += 1;
            if let Some(at) = first_response {
                first_responses.push((at.0 - received.0).max(0));
            }
            match resolved {
                Some(at) => resolutions.push((at.0 - received.0).max(0)),
                None => unresolved = true,
            }
        }
        if complained {
            kpis.complaints.customers.push(idx);
        }
        if unresolved {
            kpis.complaints.unresolved.push(idx);
        }

        // Activities by week and kind; last contact. Activities are oldest first
        // (`CustomerFacts::of`; a projection from another device is sorted when read), so
        // the period's are one slice and the last contact the latest before the reference
        // day's end: a customer's hundreds of older activities are not visited. (Were they
        // not sorted, the figures of that customer would be off, nothing would panic.)
        let activities = &customer.activities;
        let until_reference = activities.partition_point(|(_, at)| at.0 < reference_end);
        let last_contact = activities
            .get(..until_reference)
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|(kind, _)| kind.is_contact())
            .map(|(_, at)| days.of(*at));
        let from = activities.partition_point(|(_, at)| at.0 < period_start);
        let to = activities.partition_point(|(_, at)| at.0 < period_end);
        let mut kinds_seen = [false; ActivityKind::ALL.len()];
        for (kind, at) in activities.get(from..to).unwrap_or_default() {
            let k = kinds.iter().position(|k| k == kind).unwrap_or(0);
            kpis.activities.totals[k] += 1;
            if every {
                let day = days.of(*at);
                week_counts[((day - first_monday) / 7) as usize][k] += 1;
                kinds_seen[k] = true;
            }
        }
        for (k, seen) in kinds_seen.into_iter().enumerate() {
            if seen {
                kpis.activities.customers[k].push(idx);
            }
        }
        let quiet = last_contact.is_none_or(|day| day <= quiet_since);
        if quiet
            && stage_at_end != LifecycleStage::Churned
            && days.of(customer.created_at) <= quiet_since
        {
            kpis.not_contacted.push(idx);
        }
    }

    // Ratios.
    for conversion in &mut kpis.conversions {
        conversion.entered.dedup();
        conversion.rate = percent(conversion.converted.len(), conversion.entered.len());
    }
    let nps_answers = kpis.nps.promoters + kpis.nps.passives + kpis.nps.detractors;
    kpis.nps.score = (nps_answers > 0).then(|| {
        (kpis.nps.promoters as f64 - kpis.nps.detractors as f64) * 100.0 / nps_answers as f64
    });
    kpis.csat.value = percent(csat_satisfied_answers, kpis.csat.responses);
    kpis.ces.value = (kpis.ces.responses > 0).then(|| ces_sum as f64 / kpis.ces.responses as f64);
    let churn = &mut kpis.churn;
    churn.churn_rate = percent(churn.churned.len(), churn.active_at_start.len());
    churn.retention_rate = percent(churn.retained.len(), churn.active_at_start.len());

    let clv = &mut kpis.lifetime_value;
    clv.average_order_cents =
        (clv.orders > 0).then(|| clv.revenue_cents as f64 / clv.orders as f64);
    clv.purchases_per_year = (!clv.buyers.is_empty()).then(|| {
        clv.orders as f64 / clv.buyers.len() as f64 * 365.25 / params.period.days() as f64
    });
    clv.lifespan_years = (!lifespans_days.is_empty())
        .then(|| lifespans_days.iter().sum::<i64>() as f64 / lifespans_days.len() as f64 / 365.25);
    clv.value_cents = (!lifetime_values.is_empty())
        .then(|| lifetime_values.iter().sum::<i64>() as f64 / lifetime_values.len() as f64);
    clv.projected_cents = match (
        clv.average_order_cents,
        clv.purchases_per_year,
        clv.lifespan_years,
    ) {
        (Some(order), Some(per_year), Some(years)) => Some(order * per_year * years),
        _ => None,
    };

    for ((month, cents), buyers) in kpis
        .revenue_by_month
        .iter_mut()
        .zip(month_cents)
        .zip(month_buyers)
    {
        month.cents = cents;
        month.buyers = buyers.into();
    }

    let mut products: Vec<ProductSales> = products.into_values().collect();
    for product in &mut products {
        if product.name.is_empty() {
            product.name = product.product_id.clone();
        }
    }
    crate::order::sort_by(&mut products, |a, b| {
        b.revenue_cents
            .cmp(&a.revenue_cents)
            .then_with(|| a.name.cmp(&b.name))
    });
    kpis.products_by_revenue = products.clone();
    crate::order::sort_by(&mut products, |a, b| {
        b.quantity
            .cmp(&a.quantity)
            .then_with(|| a.name.cmp(&b.name))
    });
    kpis.products_by_quantity = products;

    kpis.complaints.first_response = durations(first_responses);
    kpis.complaints.resolution = durations(resolutions);

    kpis.activities.weeks = week_counts
        .into_iter()
        .enumerate()
        .map(|(week, counts)| Week {
            monday: CalendarDate::from_day_number(first_monday + week as i64 * 7),
            counts,
        })
        .collect();
    kpis
}

/// The customers behind a figure, named by `key` (the drill-down links' keys), with a title
/// saying what they are; `None` for an unknown key.
///
/// Keys: `customers`, `stage-<stage>`, `entered-<step>` and `converted-<step>` (steps 0-3 of
/// the ladder), `new-customers`, `nps-promoters`, `nps-passives`, `nps-detractors`,
/// `csat-satisfied`, `csat-responded`, `ces-responded`, `active-at-start`, `churned`,
/// `lapsed`, `retained`, `won-back`, `buyers`, `month-<index>`, `product-<id>`,
/// `pipeline-<stage id>`, `pipeline`, `nps-responded`, `complaints`, `unresolved`, `activity-<kind>`, `not-contacted`.
pub fn drill(kpis: &Kpis, key: &str) -> Option<(String, Vec<Idx>)> {
    let found = |title: String, list: &Vec<Idx>| Some((title, list.clone()));
    if let Some(stage) = key.strip_prefix("stage-") {
        let stage = LifecycleStage::parse(stage)?;
        let step = kpis.funnel.iter().find(|step| step.stage == stage)?;
        return found(
            format!("{} at the end of the period", stage.label()),
            &step.customers,
        );
    }
    for (prefix, converted) in [("entered-", false), ("converted-", true)] {
        if let Some(step) = key.strip_prefix(prefix) {
            let conversion = kpis.conversions.get(step.parse::<usize>().ok()?)?;
            return if converted {
                found(
                    format!(
                        "{} who became {}",
                        conversion.from.label(),
                        conversion.to.label().to_lowercase()
                    ),
                    &conversion.converted,
                )
            } else {
                found(
                    format!("{} during the period", conversion.from.label()),
                    &conversion.entered,
                )
            };
        }
    }
    if let Some(index) = key.strip_prefix("month-") {
        let month = kpis.revenue_by_month.get(index.parse::<usize>().ok()?)?;
        return found(
            format!("Bought in {}-{:02}", month.year, month.month),
            &month.buyers,
        );
    }
    if let Some(product) = key.strip_prefix("product-") {
        let sales = kpis
            .products_by_revenue
            .iter()
            .find(|sales| sales.product_id == product)?;
        return found(format!("Bought {}", sales.name), &sales.buyers);
    }
    if let Some(stage) = key.strip_prefix("pipeline-") {
        let column = kpis
            .pipeline
            .iter()
            .find(|column| column.stage.id == stage)?;
        return found(format!("Deals in {}", column.stage.name), &column.customers);
    }
    if let Some(kind) = key.strip_prefix("activity-") {
        let kind = ActivityKind::parse(kind)?;
        let at = ActivityKind::ALL.iter().position(|k| *k == kind)?;
        return found(
            format!("{} logged in the period", kind.label()),
            &kpis.activities.customers[at],
        );
    }
    let union = |lists: Vec<&Members>| {
        let mut all: Vec<Idx> = lists.into_iter().flatten().copied().collect();
        crate::order::sort(&mut all);
        all.dedup();
        all
    };
    match key {
        "nps-responded" => {
            return Some((
                "Answered NPS".to_string(),
                union(kpis.nps.customers.iter().collect()),
            ))
        }
        "pipeline" => {
            return Some((
                "Customers with open deals".to_string(),
                union(
                    kpis.pipeline
                        .iter()
                        .map(|column| &column.customers)
                        .collect(),
                ),
            ))
        }
        _ => {}
    }
    let (title, list) = match key {
        "customers" => ("Every customer counted", &kpis.customers),
        "new-customers" => (
            "Prospects and leads who became customers",
            &kpis.new_customers,
        ),
        "added" => ("Added during the period", &kpis.added),
        "leads-captured" => ("Leads captured during the period", &kpis.leads_captured),
        "valued" => (
            "Customers who bought by the end of the period",
            &kpis.lifetime_value.customers_valued,
        ),
        "nps-promoters" => ("Promoters (NPS 9-10)", &kpis.nps.customers[0]),
        "nps-passives" => ("Passives (NPS 7-8)", &kpis.nps.customers[1]),
        "nps-detractors" => ("Detractors (NPS 0-6)", &kpis.nps.customers[2]),
        "csat-satisfied" => ("Satisfied (CSAT 4-5)", &kpis.csat.satisfied),
        "csat-responded" => ("Answered CSAT", &kpis.csat.customers),
        "ces-responded" => ("Answered CES", &kpis.ces.customers),
        "active-at-start" => (
            "Active at the start of the period",
            &kpis.churn.active_at_start,
        ),
        "churned" => ("Churned during the period", &kpis.churn.churned),
        "lapsed" => (
            "Stopped buying (12-month window lapsed)",
            &kpis.churn.lapsed,
        ),
        "retained" => ("Retained", &kpis.churn.retained),
        "won-back" => ("Won back from churned", &kpis.churn.won_back),
        "buyers" => ("Bought during the period", &kpis.lifetime_value.buyers),
        "complaints" => ("Complained during the period", &kpis.complaints.customers),
        "unresolved" => ("Complaints not resolved", &kpis.complaints.unresolved),
        "not-contacted" => ("Not contacted recently", &kpis.not_contacted),
        _ => return None,
    };
    found(title.to_string(), list)
}

/// The currency most purchases are in (the catalog's, usually), or `fallback` when there
/// are no purchases.
pub fn main_currency<'a>(facts: &'a [&CustomerFacts], fallback: &'a str) -> &'a str {
    most_used_currency(
        facts
            .iter()
            .flat_map(|customer| &customer.purchases)
            .map(|purchase| purchase.currency.as_str()),
        fallback,
    )
}

/// Formats a figure for the rep: "—" when it has no value.
pub fn format_figure(figure: Figure, decimals: usize, unit: &str) -> String {
    match figure {
        Some(value) if value.is_finite() => format!("{value:.decimals$}{unit}"),
        _ => "—".to_string(),
    }
}

/// Formats a duration in milliseconds as "3 h 20 min", "2.5 days", or "—".
pub fn format_duration(ms: Figure) -> String {
    let Some(ms) = ms.filter(|ms| ms.is_finite()) else {
        return "—".to_string();
    };
    let minutes = (ms / 60_000.0).round() as i64;
    if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 48 * 60 {
        let (hours, minutes) = (minutes / 60, minutes % 60);
        if minutes == 0 {
            format!("{hours} h")
        } else {
            format!("{hours} h {minutes} min")
        }
    } else {
        format!("{:.1} days", ms / Timestamp::DAY_MS as f64)
    }
}

/// How each figure is computed, in the words shown under "How is this computed?".
pub fn definition(figure: &str) -> &'static str {
    match figure {
        "funnel" => "Customers by lifecycle stage at the end of the period, from each customer's recorded stage changes. Archived and merged customers are not counted.",
        "conversion" => "For each step of prospect → lead → customer → loyal → advocate: of the customers who were in the first stage at the start of the period or entered it during the period, the share who then reached the next stage or a later one during the period.",
        "new_customers" => "Prospects and leads who moved to customer, loyal or advocate during the period. Customers created or imported directly as customers are not counted as conversions.",
        "leads_captured" => "Customers added during the period (captured, created or imported) as a prospect or a lead, whatever their stage now; by tag, the tags they carry now (quick capture tags each lead with the event's name). \"Added\" counts everyone added, at any stage.",
        "nps" => "Net Promoter Score: of every NPS answer given in the period, the percentage of promoters (9-10) minus the percentage of detractors (0-6); from −100 to 100.",
        "csat" => "Customer satisfaction: the percentage of CSAT answers given in the period that were 4 or 5 on the 1-5 scale.",
        "ces" => "Customer effort: the average of the CES answers (1-7, higher is easier) given in the period.",
        "churn" => "Of the customers active (customer, loyal or advocate) at the start of the period, the percentage who churned during it: moved to the churned stage, or bought in the 365 days before the period but not in the 365 days up to its end (their buying lapsed).",
        "retention" => "Of the customers active at the start of the period, the percentage still active at its end whose buying did not lapse. Customers won back from churned are shown apart.",
        "clv" => "A customer's lifetime value is the total (quantity × unit price) of everything they bought in the main currency up to the end of the period: the figure on their page. The dashboard shows its average over the customers who bought anything by then, so for a single buyer the two are the same. The projection beside it is an estimate, not a record: average order value × purchases per customer per year × average lifespan, from the period's purchases (frequency scaled to a year) and the average time, over customers who ever bought, from being added to the end of the period (to their last purchase if they churned).",
        "revenue" => "The total of quantity × unit price of the purchases dated in each month, in the main currency.",
        "products" => "Products bought during the period, ranked by revenue (quantity × unit price, main currency) and by units sold.",
        "pipeline" => "Deals in the open stages of the pipeline now, whatever the period: their total value, and the weighted forecast (value × the stage's probability).",
        "complaints" => "Complaints received during the period. First response time runs from the complaint to when it first left \"open\"; resolution time to when it was resolved. Median and 90th percentile (nearest rank) of the answered and resolved ones.",
        "activities" => "Calls, meetings, visits, emails, messages, notes and complaints logged in each week (Monday to Sunday) of the period.",
        "not_contacted" => "Customers, leads and prospects (not churned) with no contact — any activity but a note — in the N days up to today (or up to the period's end, for a past period), counting only those added before those N days.",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{documents::book_doc::default_pipeline, CustomerId};
    use FeedbackKind as F;
    use LifecycleStage as S;

    const HOUR: i64 = 3_600_000;

    fn date(year: i32, month: u32, day: u32) -> CalendarDate {
        CalendarDate { year, month, day }
    }

    /// Noon UTC of a day.
    fn noon(year: i32, month: u32, day: u32) -> Timestamp {
        Timestamp(date(year, month, day).day_number() * Timestamp::DAY_MS + 12 * HOUR)
    }

    fn customer(id: &str, created: Timestamp, stage: LifecycleStage) -> CustomerFacts {
        CustomerFacts {
            id: id.parse::<CustomerId>().unwrap(),
            created_at: created,
            stage,
            archived: false,
            stages: vec![(None, stage, created)],
            feedback: Vec::new(),
            purchases: Vec::new(),
            complaints: Vec::new(),
            activities: Vec::new(),
            deals: Vec::new(),
        }
    }

    /// The fixture book of [`crate::seed::dashboard_fixture`], Q4 2026 in mind. Indices:
    /// A 0, B 1, C 2, D 3, E 4 (archived), F 5, G 6. Every expected value below is worked
    /// out by hand from the records described there.
    fn fixture() -> Vec<CustomerFacts> {
        crate::seed::dashboard_fixture()
            .iter()
            .map(CustomerFacts::of)
            .collect()
    }

    fn params(pipeline: &[PipelineStage]) -> KpiParams<'_> {
        KpiParams {
            period: Period::containing(PeriodKind::Quarter, date(2026, 11, 23)),
            today: date(2027, 1, 15),
            utc_offset_ms: 0,
            currency: "EUR",
            not_contacted_days: 30,
            pipeline,
        }
    }

    fn close(value: Figure, expected: f64) -> bool {
        value.is_some_and(|v| (v - expected).abs() < 1e-6)
    }

    #[test]
    fn revenue_months_stop_at_the_current_month() {
        let pipeline = default_pipeline();
        let months = |today: CalendarDate| -> Vec<(i32, u32)> {
            let params = KpiParams {
                period: Period::containing(PeriodKind::Year, date(2026, 11, 23)),
                today,
                ..params(&pipeline)
            };
            compute(&[], &params)
                .revenue_by_month
                .iter()
                .map(|m| (m.year, m.month))
                .collect()
        };
        // This year, seen in November: January to November, not December.
        let this_year = months(date(2026, 11, 30));
        assert_eq!(
            (this_year.first(), this_year.last()),
            (Some(&(2026, 1)), Some(&(2026, 11)))
        );
        assert_eq!(this_year.len(), 11);
        // A past year: all twelve.
        assert_eq!(months(date(2027, 3, 1)).len(), 12);
        // Seen in its first month: six months, ending with it.
        let january = months(date(2026, 1, 5));
        assert_eq!(
            (january.first(), january.last()),
            (Some(&(2025, 8)), Some(&(2026, 1)))
        );
    }

    #[test]
    fn a_dashboard_request_gives_both_periods_over_its_scope() {
        let book = fixture();
        let pipeline = default_pipeline();
        let p = params(&pipeline);
        let mut request = DashboardRequest {
            period: p.period,
            today: p.today,
            utc_offset_ms: 0,
            not_contacted_days: 30,
            scope: None,
            default_currency: "EUR".into(),
        };
        let everyone = dashboard(&book, &request, &pipeline);
        let facts: Vec<&CustomerFacts> = book.iter().collect();
        assert_eq!(everyone.current, compute(&facts, &p));
        let before = KpiParams {
            period: p.period.previous(),
            ..p.clone()
        };
        assert_eq!(everyone.previous, compute(&facts, &before));
        assert_eq!(everyone.ids.len(), book.len());
        assert_eq!(everyone.currency, "EUR");

        // A segment: only its members, and the indices name them.
        request.scope = Some(vec![book[2].id.clone(), book[0].id.clone()]);
        let segment = dashboard(&book, &request, &pipeline);
        assert_eq!(segment.ids, [book[0].id.clone(), book[2].id.clone()]);
        let scoped = [&book[0], &book[2]];
        assert_eq!(segment.current, compute(&scoped, &p));
    }

    #[test]
    fn every_kpi_of_the_fixture_book() {
        let book = fixture();
        let facts: Vec<&CustomerFacts> = book.iter().collect();
        let pipeline = default_pipeline();
        let kpis = compute(&facts, &params(&pipeline));
        assert_eq!(kpis.period.label(), "Q4 2026");
        assert_eq!(kpis.customers, [0, 1, 2, 3, 5, 6]);

        let funnel: Vec<(LifecycleStage, Vec<Idx>)> = kpis
            .funnel
            .iter()
            .map(|step| (step.stage, step.customers.to_vec()))
            .collect();
        assert_eq!(
            funnel,
            [
                (S::Prospect, vec![]),
                (S::Lead, vec![3]),
                (S::Customer, vec![0, 1, 5, 6]),
                (S::Loyal, vec![]),
                (S::Advocate, vec![]),
                (S::Churned, vec![2]),
            ]
        );
        let conversions: Vec<(Vec<Idx>, Vec<Idx>, Figure)> = kpis
            .conversions
            .iter()
            .map(|c| (c.entered.to_vec(), c.converted.to_vec(), c.rate))
            .collect();
        assert_eq!(
            conversions,
            [
                (vec![0], vec![0], Some(100.0)),
                (vec![0, 3], vec![0], Some(50.0)),
                (vec![0, 1, 5, 6], vec![], Some(0.0)),
                (vec![2], vec![], Some(0.0)),
            ]
        );
        assert_eq!(kpis.new_customers, [0]);

        // NPS: promoters A (10) and G (9), passive C (8), detractor B (3); A's 0 in
        // September and E's (archived) do not count: (2 − 1) / 4 = 25.
        assert_eq!(
            (kpis.nps.promoters, kpis.nps.passives, kpis.nps.detractors),
            (2, 1, 1)
        );
        assert_eq!(kpis.nps.score, Some(25.0));
        assert_eq!(kpis.nps.customers, [vec![0, 6], vec![2], vec![1]]);
        // CSAT: A 5, C 2 → 50 %. CES: B 6.
        assert_eq!((kpis.csat.responses, kpis.csat.value), (2, Some(50.0)));
        assert_eq!(kpis.csat.satisfied, [0]);
        assert_eq!(kpis.csat.customers, [0, 2]);
        assert_eq!((kpis.ces.responses, kpis.ces.value), (1, Some(6.0)));

        // Churn: active at the start B, C, G; B lapsed, C moved to churned; G retained;
        // F won back.
        assert_eq!(kpis.churn.active_at_start, [1, 2, 6]);
        assert_eq!(kpis.churn.lapsed, [1]);
        assert_eq!(kpis.churn.churned, [1, 2]);
        assert_eq!(kpis.churn.retained, [6]);
        assert_eq!(kpis.churn.won_back, [5]);
        assert!(close(kpis.churn.churn_rate, 200.0 / 3.0));
        assert!(close(kpis.churn.retention_rate, 100.0 / 3.0));

        // Lifetime value: orders A 2×10.00 + A 1×50.00 + C 1×10.00 = 80.00 EUR over 3 orders
        // by 2 buyers in 92 days; C's USD order is left out. Lifespans (days from added to
        // 31 Dec, C to its last purchase): A 720, B 1035, C 1249, G 1095.
        let clv = &kpis.lifetime_value;
        assert_eq!(
            (clv.revenue_cents, clv.orders, clv.other_currency_orders),
            (8000, 3, 1)
        );
        assert_eq!(clv.buyers, [0, 2]);
        assert!(close(clv.average_order_cents, 8000.0 / 3.0));
        assert!(close(clv.purchases_per_year, 1.5 * 365.25 / 92.0));
        assert!(close(clv.lifespan_years, 1024.75 / 365.25));
        assert!(close(clv.projected_cents, 4000.0 * 1024.75 / 92.0));
        // Lifetime value per customer: everything bought in EUR by 31 Dec, averaged over
        // the customers who had bought: A 70.00, B 50.00, C 10.00 (not her USD order),
        // G 50.00 → 45.00.
        assert_eq!(clv.customers_valued, [0, 1, 2, 6]);
        assert!(close(clv.value_cents, 4500.0));
        // Added in Q4: D, as a lead.
        assert_eq!(kpis.added, [3]);
        assert_eq!(kpis.leads_captured, [3]);

        let months: Vec<(u32, i64, bool)> = kpis
            .revenue_by_month
            .iter()
            .map(|m| (m.month, m.cents, m.in_period))
            .collect();
        assert_eq!(
            months,
            [
                (7, 0, false),
                (8, 0, false),
                (9, 0, false),
                (10, 1000, true),
                (11, 2000, true),
                (12, 5000, true)
            ]
        );
        assert_eq!(kpis.revenue_by_month[3].buyers, [2]);

        let by_revenue: Vec<(&str, i64, u64, Vec<Idx>)> = kpis
            .products_by_revenue
            .iter()
            .map(|p| {
                (
                    p.product_id.as_str(),
                    p.revenue_cents,
                    p.quantity,
                    p.buyers.to_vec(),
                )
            })
            .collect();
        assert_eq!(
            by_revenue,
            [("p2", 5000, 1, vec![0]), ("p1", 3000, 3, vec![0, 2])]
        );
        let by_quantity: Vec<&str> = kpis
            .products_by_quantity
            .iter()
            .map(|p| p.product_id.as_str())
            .collect();
        assert_eq!(by_quantity, ["p1", "p2"]);
        assert_eq!(kpis.products_by_revenue[0].name, "Product p2");

        // Pipeline: D's proposal (30 %), F's deal of a removed stage in the first stage
        // (10 %); G's won deal is closed.
        let pipeline: Vec<(&str, usize, i64, i64, Vec<Idx>)> = kpis
            .pipeline
            .iter()
            .map(|s| {
                (
                    s.stage.id.as_str(),
                    s.deals,
                    s.value_cents,
                    s.weighted_cents,
                    s.customers.to_vec(),
                )
            })
            .collect();
        assert_eq!(
            pipeline,
            [
                ("qualification", 1, 2000, 200, vec![5]),
                ("proposal", 1, 10_000, 3000, vec![3]),
                ("negotiation", 0, 0, 0, vec![]),
            ]
        );

        // Complaints received in the period: B's (answered in 2 h, resolved in 3 days) and
        // C's (answered in 4 h, open); A's of 29 September is outside.
        let complaints = &kpis.complaints;
        assert_eq!(complaints.received, 2);
        assert_eq!(complaints.customers, [1, 2]);
        assert_eq!(complaints.first_response.median_ms, Some(3.0 * HOUR as f64));
        assert_eq!(complaints.first_response.p90_ms, Some(4.0 * HOUR as f64));
        assert_eq!(complaints.resolution.count, 1);
        assert_eq!(
            complaints.resolution.median_ms,
            Some(3.0 * Timestamp::DAY_MS as f64)
        );
        assert_eq!(complaints.unresolved, [2]);

        // Activities: 14 weeks from Monday 28 September; A's complaint of the 29th is
        // before the period even though its week is shown.
        let activities = &kpis.activities;
        assert_eq!(activities.weeks.len(), 14);
        assert_eq!(activities.weeks[0].monday, date(2026, 9, 28));
        assert_eq!(activities.totals, [1, 1, 1, 0, 0, 1, 2]);
        let per_week: Vec<u32> = activities
            .weeks
            .iter()
            .map(|w| w.counts.iter().sum())
            .collect();
        assert_eq!(per_week, [1, 1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0]);
        assert_eq!(activities.customers[6], [1, 2]);
        assert_eq!(activities.customers[1], [6]);

        // Not contacted in the 30 days to 31 December: A (last call 2 Nov; the note does not
        // count), B, F; not C (churned), D (added on 10 Dec), G (met on 20 Dec).
        assert_eq!(kpis.not_contacted, [0, 1, 5]);
    }

    #[test]
    fn every_figure_drills_down_to_its_customers() {
        let book = fixture();
        let facts: Vec<&CustomerFacts> = book.iter().collect();
        let pipeline = default_pipeline();
        let kpis = compute(&facts, &params(&pipeline));
        let ids = |key: &str| drill(&kpis, key).map(|(_, list)| list);
        assert_eq!(ids("stage-customer"), Some(vec![0, 1, 5, 6]));
        assert_eq!(ids("converted-1"), Some(vec![0]));
        assert_eq!(ids("entered-1"), Some(vec![0, 3]));
        assert_eq!(ids("new-customers"), Some(vec![0]));
        assert_eq!(ids("leads-captured"), Some(vec![3]));
        assert_eq!(ids("added"), Some(vec![3]));
        assert_eq!(ids("valued"), Some(vec![0, 1, 2, 6]));
        assert_eq!(ids("nps-detractors"), Some(vec![1]));
        assert_eq!(ids("churned"), Some(vec![1, 2]));
        assert_eq!(ids("won-back"), Some(vec![5]));
        assert_eq!(ids("month-3"), Some(vec![2]));
        assert_eq!(ids("product-p1"), Some(vec![0, 2]));
        assert_eq!(ids("pipeline-proposal"), Some(vec![3]));
        assert_eq!(ids("activity-complaint"), Some(vec![1, 2]));
        assert_eq!(ids("not-contacted"), Some(vec![0, 1, 5]));
        assert_eq!(ids("nps-responded"), Some(vec![0, 1, 2, 6]));
        assert_eq!(ids("pipeline"), Some(vec![3, 5]));
        assert_eq!(
            drill(&kpis, "converted-1").map(|(title, _)| title),
            Some("Lead who became customer".to_string())
        );
        for unknown in [
            "",
            "stage-nope",
            "month-99",
            "converted-x",
            "product-zz",
            "nope",
        ] {
            assert_eq!(ids(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn empty_book_and_empty_period_give_dashes_not_nan() {
        let pipeline = default_pipeline();
        let kpis = compute(&[], &params(&pipeline));
        assert!(kpis.customers.is_empty());
        assert_eq!(kpis.nps.score, None);
        assert_eq!(kpis.csat.value, None);
        assert_eq!(kpis.ces.value, None);
        assert_eq!(kpis.churn.churn_rate, None);
        assert_eq!(kpis.churn.retention_rate, None);
        assert_eq!(kpis.lifetime_value.average_order_cents, None);
        assert_eq!(kpis.lifetime_value.value_cents, None);
        assert!(kpis.conversions.iter().all(|c| c.rate.is_none()));
        assert_eq!(kpis.complaints.first_response.median_ms, None);
        assert_eq!(format_figure(kpis.nps.score, 0, ""), "—");
        assert_eq!(format_duration(kpis.complaints.resolution.p90_ms), "—");

        // The fixture book over a month with nothing in it (January 2020: only E existed,
        // archived).
        let book = fixture();
        let facts: Vec<&CustomerFacts> = book.iter().collect();
        let mut quiet = params(&pipeline);
        quiet.period = Period::containing(PeriodKind::Month, date(2020, 1, 15));
        let kpis = compute(&facts, &quiet);
        assert!(kpis.customers.is_empty());
        assert_eq!(kpis.nps.score, None);
        assert_eq!(kpis.lifetime_value.orders, 0);
        assert_eq!(kpis.lifetime_value.lifespan_years, None);
        assert!(kpis.revenue_by_month.iter().all(|m| m.cents == 0));
        assert_eq!(kpis.revenue_by_month.len(), 6);
        // The pipeline is "now": it does not depend on the period, but customers who did not
        // exist yet are not in it.
        assert!(kpis.pipeline.iter().all(|s| s.deals == 0));
    }

    #[test]
    fn a_single_customer_without_purchases() {
        let pipeline = default_pipeline();
        let mut only = customer("solo", noon(2026, 1, 5), S::Lead);
        only.feedback.push((F::Nps, 6, noon(2026, 11, 10)));
        only.feedback.push((F::Csat, 4, noon(2026, 11, 10)));
        let kpis = compute(&[&only], &params(&pipeline));
        assert_eq!(kpis.customers, [0]);
        assert_eq!(kpis.nps.score, Some(-100.0));
        assert_eq!(kpis.csat.value, Some(100.0));
        assert_eq!(kpis.lifetime_value.orders, 0);
        assert_eq!(kpis.lifetime_value.average_order_cents, None);
        assert_eq!(kpis.lifetime_value.purchases_per_year, None);
        assert_eq!(kpis.lifetime_value.lifespan_years, None);
        assert_eq!(kpis.lifetime_value.value_cents, None);
        assert!(kpis.products_by_revenue.is_empty());
        // Lead all along: in the lead → customer step, not converted; nobody active to churn.
        assert_eq!(kpis.conversions[1].entered, [0]);
        assert_eq!(kpis.conversions[1].rate, Some(0.0));
        assert_eq!(kpis.conversions[0].rate, None);
        assert_eq!(kpis.churn.churn_rate, None);
        assert_eq!(kpis.not_contacted, [0]);
    }

    #[test]
    fn documents_without_stage_records_keep_their_current_stage() {
        let pipeline = default_pipeline();
        let mut old = customer("old", noon(2024, 1, 1), S::Loyal);
        old.stages.clear();
        let kpis = compute(&[&old], &params(&pipeline));
        assert_eq!(kpis.funnel[3].customers, [0]);
        assert_eq!(kpis.churn.active_at_start, [0]);
        assert_eq!(kpis.churn.retained, [0]);
    }

    #[test]
    fn the_local_offset_moves_instants_across_midnight() {
        let pipeline = default_pipeline();
        // 23:30 UTC on 31 December 2026 is already 1 January 2027 in UTC+1.
        let mut late = customer("late", noon(2026, 1, 1), S::Lead);
        let at = Timestamp(noon(2026, 12, 31).0 + 11 * HOUR + 30 * 60_000);
        late.feedback.push((F::Nps, 10, at));
        let mut p = params(&pipeline);
        assert_eq!(compute(&[&late], &p).nps.promoters, 1);
        p.utc_offset_ms = HOUR;
        assert_eq!(compute(&[&late], &p).nps.promoters, 0);
    }

    #[test]
    fn activities_count_by_local_day_to_the_millisecond_and_unsorted_ones_do_not_panic() {
        use crate::model::records::ActivityKind as A;
        let pipeline = default_pipeline();
        let mut p = params(&pipeline);
        // UTC+2: Q4 2026 runs from 2026-09-30T22:00Z to 2026-12-31T22:00Z (exclusive), and
        // the reference day (the period's last) ends at that same instant.
        p.utc_offset_ms = 2 * HOUR;
        p.today = date(2026, 12, 31);
        let start = date(2026, 10, 1).day_number() * Timestamp::DAY_MS - 2 * HOUR;
        let end = date(2027, 1, 1).day_number() * Timestamp::DAY_MS - 2 * HOUR;
        let mut rep = customer("rep", noon(2026, 1, 1), S::Customer);
        rep.activities = vec![
            (A::Call, Timestamp(start - 1)),
            (A::Call, Timestamp(start)),
            (A::Note, Timestamp(start + 5 * Timestamp::DAY_MS)),
            (A::Visit, Timestamp(end - 1)),
            (A::Email, Timestamp(end)),
        ];
        let kpis = compute(&[&rep], &p);
        let total =
            |kind: A| kpis.activities.totals[A::ALL.iter().position(|k| *k == kind).unwrap()];
        assert_eq!(
            (
                total(A::Call),
                total(A::Note),
                total(A::Visit),
                total(A::Email)
            ),
            (1, 1, 1, 0)
        );
        assert_eq!(
            kpis.activities
                .weeks
                .iter()
                .flat_map(|w| w.counts.iter())
                .sum::<u32>(),
            3
        );
        // The visit in the reference day's last millisecond is her last contact: not quiet.
        assert!(kpis.not_contacted.is_empty());
        // A note is not contact: with only a recent note and an old call she is quiet, and
        // an email after the reference day does not count either.
        rep.activities = vec![
            (A::Call, Timestamp(start - 40 * Timestamp::DAY_MS)),
            (A::Note, Timestamp(end - 1)),
            (A::Email, Timestamp(end)),
        ];
        assert_eq!(compute(&[&rep], &p).not_contacted, vec![0]);
        // Facts out of order (a damaged or hostile projection until it is read back): some
        // figure of hers may be off, nothing panics.
        rep.activities = vec![
            (A::Email, Timestamp(end + 3)),
            (A::Call, Timestamp(start)),
            (A::Visit, Timestamp(start - 9)),
        ];
        let _ = compute(&[&rep], &p);
    }

    #[test]
    fn periods_and_their_previous_periods() {
        let day = date(2026, 11, 23);
        let month = Period::containing(PeriodKind::Month, day);
        assert_eq!(
            (month.first, month.last),
            (date(2026, 11, 1), date(2026, 11, 30))
        );
        assert_eq!(month.label(), "November 2026");
        let previous = month.previous();
        assert_eq!(
            (previous.first, previous.last),
            (date(2026, 10, 1), date(2026, 10, 31))
        );
        let quarter = Period::containing(PeriodKind::Quarter, day);
        assert_eq!(
            (quarter.first, quarter.last),
            (date(2026, 10, 1), date(2026, 12, 31))
        );
        assert_eq!(quarter.days(), 92);
        let previous = quarter.previous();
        assert_eq!(
            (previous.first, previous.last),
            (date(2026, 7, 1), date(2026, 9, 30))
        );
        assert_eq!(previous.label(), "Q3 2026");
        let year = Period::containing(PeriodKind::Year, day);
        assert_eq!(year.label(), "2026");
        assert_eq!(year.previous().label(), "2025");
        // January's previous month is last year's December; March's ends on the 28th or 29th.
        let january = Period::containing(PeriodKind::Month, date(2027, 1, 9));
        assert_eq!(january.previous().first, date(2026, 12, 1));
        let march = Period::containing(PeriodKind::Month, date(2024, 3, 9));
        assert_eq!(march.previous().last, date(2024, 2, 29));
        // A custom range: as many days just before.
        let custom = Period::between(date(2026, 11, 20), date(2026, 11, 10));
        assert_eq!(custom.days(), 11);
        let previous = custom.previous();
        assert_eq!(
            (previous.first, previous.last),
            (date(2026, 10, 30), date(2026, 11, 9))
        );
        assert_eq!(custom.label(), "2026-11-10 – 2026-11-20");
        assert_eq!(PeriodKind::parse("quarter"), Some(PeriodKind::Quarter));
    }

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(durations(vec![]).median_ms, None);
        let one = durations(vec![7]);
        assert_eq!((one.median_ms, one.p90_ms), (Some(7.0), Some(7.0)));
        let ten = durations((1..=10).rev().collect());
        assert_eq!((ten.median_ms, ten.p90_ms), (Some(5.5), Some(9.0)));
        let eleven = durations((1..=11).collect());
        assert_eq!((eleven.median_ms, eleven.p90_ms), (Some(6.0), Some(10.0)));
        assert_eq!(format_duration(Some(90.0 * 60_000.0)), "1 h 30 min");
        assert_eq!(
            format_duration(Some(3.0 * Timestamp::DAY_MS as f64)),
            "3.0 days"
        );
        assert_eq!(format_duration(Some(20.0 * 60_000.0)), "20 min");
        assert_eq!(format_figure(Some(f64::NAN), 1, "%"), "—");
        assert_eq!(format_figure(Some(66.666), 1, "%"), "66.7%");
    }

    /// The dashboard's lifetime value of a book (or segment) holding one buyer is the figure
    /// on that buyer's page, and for several buyers the average of their pages' figures.
    #[test]
    fn the_dashboards_lifetime_value_is_the_customer_pages() {
        use crate::model::records::{lifetime_value, Purchase};
        let customers = crate::seed::dashboard_fixture();
        let facts: Vec<CustomerFacts> = customers.iter().map(CustomerFacts::of).collect();
        let pipeline = default_pipeline();
        // Today, as on the customer page: the period holding every purchase.
        let request = |scope: Vec<crate::CustomerId>| DashboardRequest {
            period: Period::containing(PeriodKind::Year, date(2026, 6, 1)),
            today: date(2027, 1, 15),
            utc_offset_ms: 0,
            not_contacted_days: 30,
            scope: Some(scope),
            default_currency: "EUR".into(),
        };
        let page = |customer: &crate::Customer| {
            let purchases: Vec<&Purchase> = customer.purchases.values().collect();
            lifetime_value(&purchases, "EUR")
        };
        let mut pages = Vec::new();
        for customer in customers
            .iter()
            .filter(|c| !c.archived && !c.purchases.is_empty())
        {
            let figures = dashboard(&facts, &request(vec![customer.id.clone()]), &pipeline);
            let (currency, value) = page(customer);
            assert_eq!(figures.currency, currency, "{}", customer.name);
            assert!(
                close(
                    figures.current.lifetime_value.value_cents,
                    value.cents as f64
                ),
                "{}: dashboard {:?}, page {}",
                customer.name,
                figures.current.lifetime_value.value_cents,
                value.cents
            );
            pages.push(value.cents);
        }
        // A 70.00, B 50.00, C 10.00 EUR (and 10.00 USD apart), G 50.00.
        assert_eq!(pages, [7000, 5000, 1000, 5000]);
        let c = &customers[2];
        assert_eq!(
            page(c).1.describe("EUR"),
            "10.00 EUR · 1 purchase · and 10.00 USD in 1 purchase"
        );
        let everyone = dashboard(
            &facts,
            &request(customers.iter().map(|c| c.id.clone()).collect()),
            &pipeline,
        );
        assert!(close(
            everyone.current.lifetime_value.value_cents,
            pages.iter().sum::<i64>() as f64 / pages.len() as f64
        ));
        // The summary (segments, CSV export) says the same.
        let summary = crate::CustomerSummary::of(&customers[0]);
        assert_eq!(
            (
                summary.lifetime_value_cents,
                summary.lifetime_value_currency.as_str()
            ),
            (7000, "EUR")
        );
    }

    /// Leads captured: added in the period as a prospect or a lead, whatever they became;
    /// a customer added as a customer is added but not a lead; a lead added before is not.
    #[test]
    fn leads_captured_are_the_prospects_and_leads_added_in_the_period() {
        let pipeline = default_pipeline();
        let mut params = params(&pipeline);
        params.period = Period::containing(PeriodKind::Month, date(2026, 11, 1));
        let customer = |n: u32, created: Timestamp, stages: Vec<(Option<S>, S, Timestamp)>| {
            let mut facts = CustomerFacts::of(&crate::Customer::new(
                format!("c{n}").parse().unwrap(),
                created,
            ));
            facts.stage = stages.last().map_or(S::Lead, |s| s.1);
            facts.stages = stages;
            facts
        };
        let at = noon(2026, 11, 14);
        let book = [
            // Captured at the show as a lead.
            customer(0, at, vec![(None, S::Lead, at)]),
            // Captured, and a customer a day later.
            customer(
                1,
                at,
                vec![
                    (None, S::Prospect, at),
                    (Some(S::Prospect), S::Customer, noon(2026, 11, 15)),
                ],
            ),
            // Added as a customer.
            customer(2, at, vec![(None, S::Customer, at)]),
            // A lead from October.
            customer(
                3,
                noon(2026, 10, 30),
                vec![(None, S::Lead, noon(2026, 10, 30))],
            ),
            // An older document without stage records, added as a lead in November.
            customer(4, at, vec![]),
        ];
        let facts: Vec<&CustomerFacts> = book.iter().collect();
        let kpis = compute(&facts, &params);
        assert_eq!(kpis.added, [0, 1, 2, 4]);
        assert_eq!(kpis.leads_captured, [0, 1, 4]);
        assert_eq!(kpis.new_customers, [1]);
    }

    #[test]
    fn the_main_currency_is_the_most_used() {
        let book = fixture();
        let facts: Vec<&CustomerFacts> = book.iter().collect();
        assert_eq!(main_currency(&facts, "CHF"), "EUR");
        assert_eq!(main_currency(&[], "CHF"), "CHF");
    }

    /// A book of `n` seeded customers with histories, a yes/no field held "yes" by every
    /// third one (and "no" by every fifth of the rest), its summaries and figures over the
    /// year 2026 (the seed's histories end at 2026-11-29).
    fn seeded_figures(
        n: u64,
    ) -> (
        Vec<crate::CustomerSummary>,
        std::collections::BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
        DashboardFigures,
    ) {
        use crate::model::custom_fields::{FieldDefinition, FieldKind};
        let now = noon(2026, 11, 29);
        let customers: Vec<crate::Customer> = (0..n)
            .map(|idx| {
                let mut customer = crate::seed::customer(8, idx, now);
                crate::seed::add_records(&mut customer, 8, 6, now);
                customer
            })
            .collect();
        let facts: Vec<CustomerFacts> = customers.iter().map(CustomerFacts::of).collect();
        let mut summaries: Vec<crate::CustomerSummary> =
            customers.iter().map(crate::CustomerSummary::of).collect();
        for (at, summary) in summaries.iter_mut().enumerate() {
            let value = match at {
                at if at % 3 == 0 => "yes",
                at if at % 5 == 0 => "no",
                _ => continue,
            };
            summary.custom.insert("fair".into(), value.into());
        }
        let fields = [(
            "fair".to_string(),
            FieldDefinition::new("Met at the fair", FieldKind::YesNo, 0, now),
        )]
        .into();
        let request = DashboardRequest {
            period: Period::containing(PeriodKind::Year, date(2026, 6, 1)),
            today: date(2026, 11, 29),
            utc_offset_ms: 0,
            not_contacted_days: 30,
            scope: None,
            default_currency: "EUR".into(),
        };
        let mut figures = dashboard(&facts, &request, &default_pipeline());
        let by_id: HashMap<&CustomerId, &crate::CustomerSummary> =
            summaries.iter().map(|s| (&s.id, s)).collect();
        figures.describe(&fields, |id| by_id.get(id).copied());
        (summaries, fields, figures)
    }

    /// The screens are sent every figure's count and none of the customers behind them: the
    /// bytes do not grow with the book, and every count read on the screens is the list's.
    #[test]
    fn the_screens_are_sent_counts_not_customers() {
        let (_, _, small) = seeded_figures(300);
        let (_, _, large) = seeded_figures(3_000);
        let sent = |figures: &DashboardFigures| crate::sync::engine_protocol::encode(figures);
        assert!(
            sent(&large).len() < sent(&small).len() + 2_048,
            "300 customers: {} bytes, 3,000: {} bytes",
            sent(&small).len(),
            sent(&large).len()
        );
        assert!(large.current.customers.len() > 2_000);
        let got: DashboardFigures = crate::sync::engine_protocol::decode(&sent(&large)).unwrap();
        assert!(got.ids.is_empty());
        let counts = |kpis: &Kpis| {
            let mut all = vec![
                kpis.customers.len(),
                kpis.new_customers.len(),
                kpis.added.len(),
                kpis.leads_captured.len(),
                kpis.not_contacted.len(),
                kpis.csat.customers.len(),
                kpis.churn.active_at_start.len(),
                kpis.churn.retained.len(),
                kpis.lifetime_value.customers_valued.len(),
            ];
            all.extend(kpis.funnel.iter().map(|step| step.customers.len()));
            all.extend(kpis.conversions.iter().map(|c| c.entered.len()));
            all.extend(kpis.nps.customers.iter().map(Members::len));
            all.extend(kpis.activities.customers.iter().map(Members::len));
            all
        };
        assert_eq!(counts(&got.current), counts(&large.current));
        assert_eq!(counts(&got.previous), counts(&large.previous));
        assert!(counts(&large.current).iter().all(|n| *n > 0));
        // Sent, a list is only its count: read as a list it is empty, never another list.
        assert!(!got.current.customers.is_empty());
        assert!(got.current.customers.iter().next().is_none());
        assert_ne!(got.current.customers, large.current.customers);
        assert!(got.current.revenue_by_customer.is_empty());
        assert_eq!(got.leads_by_tag, large.leads_by_tag);
        assert_eq!(got.by_field, large.by_field);
    }

    /// A tap on a figure gets the customers `drill` lists for it; on a tag's leads or a
    /// field's value, those the screens counted.
    #[test]
    fn a_tap_gets_the_customers_behind_the_figure() {
        let (summaries, fields, figures) = seeded_figures(600);
        let by_id: HashMap<&CustomerId, &crate::CustomerSummary> =
            summaries.iter().map(|s| (&s.id, s)).collect();
        let behind =
            |key: &str| figures.customers_behind(key, &fields, |id| by_id.get(id).copied());
        let ids = |list: &[Idx]| -> Vec<CustomerId> {
            list.iter()
                .map(|idx| figures.ids[*idx as usize].clone())
                .collect()
        };
        for key in [
            "customers",
            "stage-customer",
            "converted-0",
            "churned",
            "buyers",
            "nps-responded",
            "activity-call",
        ] {
            let (title, list) = drill(&figures.current, key).unwrap();
            assert!(!list.is_empty(), "{key}");
            assert_eq!(behind(key), Some((title, ids(&list))), "{key}");
        }
        // The leads of each tag: as many as counted, each carrying the tag, all of the leads
        // captured who carry it.
        assert!(figures.leads_by_tag.len() > 1);
        for (tag, count) in &figures.leads_by_tag {
            let (title, leads) = behind(&format!("{LEADS_TAG_KEY}{tag}")).unwrap();
            assert_eq!(
                title,
                format!("Leads captured during the period, tagged {tag}")
            );
            assert_eq!(leads.len(), *count, "{tag}");
            let expected: Vec<CustomerId> = ids(&figures.current.leads_captured)
                .into_iter()
                .filter(|id| by_id[id].tags.iter().any(|t| t == tag))
                .collect();
            assert_eq!(leads, expected);
        }
        // The field's rows: Yes, No, Not set, each with the active customers holding it.
        let (field, rows) = &figures.by_field[0];
        assert_eq!(field, "fair");
        let labels: Vec<&str> = rows.iter().map(|row| row.label.as_str()).collect();
        assert_eq!(labels, ["Yes", "No", "Not set"]);
        for (at, row) in rows.iter().enumerate() {
            let (title, holders) = behind(&format!("{FIELD_KEY}fair:{at}")).unwrap();
            assert_eq!(title, format!("Met at the fair: {}", row.label));
            assert_eq!(holders.len(), row.customers);
            let value = ["yes", "no", ""][at];
            assert!(holders.iter().all(|id| !by_id[id].archived
                && by_id[id].custom.get("fair").map_or("", String::as_str) == value));
        }
        let active = summaries.iter().filter(|s| !s.archived).count();
        assert_eq!(rows.iter().map(|row| row.customers).sum::<usize>(), active);
        // No such figure, row or field.
        assert_eq!(behind("no-such-figure"), None);
        assert_eq!(behind(&format!("{FIELD_KEY}fair:9")), None);
        assert_eq!(behind(&format!("{FIELD_KEY}gone:0")), None);
    }
}

/// What a dashboard asks for: the engine, which holds every customer's facts, computes it
/// ([`dashboard`]) and sends back only the figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DashboardRequest {
    /// The period shown; the one before it is computed too, for the comparisons.
    pub period: Period,
    /// Today, local.
    pub today: CalendarDate,
    /// The device's offset from UTC, in milliseconds.
    pub utc_offset_ms: i64,
    /// "Not contacted for N days": N.
    pub not_contacted_days: u32,
    /// Only these customers (a saved segment's members), or everyone.
    pub scope: Option<Vec<crate::CustomerId>>,
    /// The currency of money figures when no purchase names one.
    pub default_currency: String,
}

impl DashboardRequest {
    /// The parameters of [`compute`] for the period asked, money in `currency`.
    pub fn params<'a>(&self, currency: &'a str, pipeline: &'a [PipelineStage]) -> KpiParams<'a> {
        KpiParams {
            period: self.period,
            today: self.today,
            utc_offset_ms: self.utc_offset_ms,
            currency,
            not_contacted_days: self.not_contacted_days,
            pipeline,
        }
    }
}

/// A dashboard's figures, for both periods.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DashboardFigures {
    /// The figures of the period asked for.
    pub current: Kpis,
    /// The figures of the period before.
    pub previous: Kpis,
    /// The customer of each [`Idx`] the figures name. Kept where the figures are computed,
    /// like the lists behind them (see [`Members`]): never sent.
    #[serde(skip)]
    pub ids: Vec<crate::CustomerId>,
    /// The currency of the money figures (the one most purchases use).
    pub currency: String,
    /// The leads captured in the period by the tags they carry (an event's name, an
    /// interest level), most first, ties alphabetical ([`DashboardFigures::describe`]).
    pub leads_by_tag: Vec<(String, usize)>,
    /// For each choice, several-choice and yes/no field of the book (by id): its rows
    /// ([`by_field_value`]) as counts ([`DashboardFigures::describe`]).
    pub by_field: Vec<(String, Vec<FieldRow>)>,
}

/// One row of a custom field's breakdown on the dashboard's screen: a value, how many
/// customers hold it and their revenue (the customers themselves stay in the engine).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldRow {
    /// The value in words.
    pub label: String,
    /// Active customers holding it.
    pub customers: usize,
    /// What they bought in the period, in the main currency, in cents.
    pub revenue_cents: i64,
}

/// The drill-down key of the leads captured with one tag: this prefix, then the tag.
pub const LEADS_TAG_KEY: &str = "leads-tag-";

/// The drill-down key of a custom field's value: this prefix, then `<field id>:<row>` (the
/// row's position in [`DashboardFigures::by_field`]).
pub const FIELD_KEY: &str = "field:";

/// The book's fields a dashboard breaks customers down by: choices, several choices and
/// yes/no, archived ones included (their values still count).
fn breakdown_fields(
    fields: &std::collections::BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
) -> impl Iterator<Item = (&String, &crate::model::custom_fields::FieldDefinition)> {
    use crate::model::custom_fields::FieldKind;
    fields.iter().filter(|(_, field)| {
        matches!(
            field.kind,
            FieldKind::Choice | FieldKind::Choices | FieldKind::YesNo
        )
    })
}

impl DashboardFigures {
    /// Fills in what the screens show from the list's summaries rather than the facts: the
    /// leads by tag and every breakdown field's rows. `summary_of` is the list's summary of
    /// a customer.
    pub fn describe<'a>(
        &mut self,
        fields: &std::collections::BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
        summary_of: impl Fn(&crate::CustomerId) -> Option<&'a crate::CustomerSummary>,
    ) {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let leads = (self.current.leads_captured.iter())
            .filter_map(|idx| self.ids.get(*idx as usize))
            .filter_map(&summary_of);
        for summary in leads {
            for tag in &summary.tags {
                *counts.entry(tag.as_str()).or_default() += 1;
            }
        }
        let mut leads_by_tag: Vec<(String, usize)> = (counts.into_iter())
            .map(|(tag, n)| (tag.to_string(), n))
            .collect();
        crate::order::sort_by(&mut leads_by_tag, |a, b| {
            b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))
        });
        self.leads_by_tag = leads_by_tag;
        self.by_field = breakdown_fields(fields)
            .map(|(id, field)| {
                let rows = (self.field_shares(id, field, &summary_of).into_iter())
                    .map(|share| FieldRow {
                        label: share.label,
                        customers: share.customers.len(),
                        revenue_cents: share.revenue_cents,
                    })
                    .collect();
                (id.clone(), rows)
            })
            .collect();
    }

    /// The rows of field `id` over the customers in scope.
    fn field_shares<'a>(
        &self,
        id: &str,
        field: &crate::model::custom_fields::FieldDefinition,
        summary_of: impl Fn(&crate::CustomerId) -> Option<&'a crate::CustomerSummary>,
    ) -> Vec<ValueShare> {
        let revenue: HashMap<crate::CustomerId, i64> = (self.current.revenue_by_customer.iter())
            .filter_map(|(idx, cents)| self.ids.get(*idx as usize).map(|id| (id.clone(), *cents)))
            .collect();
        by_field_value(id, field, self.ids.iter().filter_map(summary_of), &revenue)
    }

    /// The customers behind the figure named `key` (a [`drill`] key, a [`LEADS_TAG_KEY`] or
    /// a [`FIELD_KEY`]) in the period asked for, with a title; `None` for a figure that does
    /// not exist (any more).
    pub fn customers_behind<'a>(
        &self,
        key: &str,
        fields: &std::collections::BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
        summary_of: impl Fn(&crate::CustomerId) -> Option<&'a crate::CustomerSummary>,
    ) -> Option<(String, Vec<crate::CustomerId>)> {
        // The customers holding one value of a custom field.
        if let Some(rest) = key.strip_prefix(FIELD_KEY) {
            let (id, row) = rest.split_once(':').unwrap_or((rest, ""));
            let field = fields.get(id)?;
            let share =
                (self.field_shares(id, field, summary_of).into_iter()).nth(row.parse().ok()?)?;
            return Some((format!("{}: {}", field.name, share.label), share.customers));
        }
        // The leads of one tag: the leads captured, narrowed to those carrying it.
        let tag = key.strip_prefix(LEADS_TAG_KEY);
        let (title, list) = drill(&self.current, tag.map_or(key, |_| "leads-captured"))?;
        let ids = (list.iter()).filter_map(|idx| self.ids.get(*idx as usize));
        Some(match tag {
            Some(tag) => (
                format!("{title}, tagged {tag}"),
                ids.filter(|id| summary_of(id).is_some_and(|s| s.tags.iter().any(|t| t == tag)))
                    .cloned()
                    .collect(),
            ),
            None => (title, ids.cloned().collect()),
        })
    }
}

/// The figures a dashboard asks for, over `all` customers' facts.
pub fn dashboard(
    all: &[CustomerFacts],
    request: &DashboardRequest,
    pipeline: &[PipelineStage],
) -> DashboardFigures {
    let everyone: Vec<&CustomerFacts> = all.iter().collect();
    let currency = main_currency(&everyone, &request.default_currency).to_string();
    let scope: Vec<&CustomerFacts> = match &request.scope {
        Some(ids) => {
            let ids: std::collections::HashSet<&crate::CustomerId> = ids.iter().collect();
            all.iter().filter(|facts| ids.contains(&facts.id)).collect()
        }
        None => everyone,
    };
    let mut params = request.params(&currency, pipeline);
    let current = compute(&scope, &params);
    params.period = request.period.previous();
    let previous = compute(&scope, &params);
    DashboardFigures {
        current,
        previous,
        ids: scope.iter().map(|facts| facts.id.clone()).collect(),
        currency,
        leads_by_tag: Vec::new(),
        by_field: Vec::new(),
    }
}

/// One value of a custom field on the dashboard: its customers and their revenue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueShare {
    /// The value in words (a choice's label, "Yes", "Not set").
    pub label: String,
    /// Active customers holding it.
    pub customers: Vec<crate::CustomerId>,
    /// What they bought in the period, in the main currency, in cents.
    pub revenue_cents: i64,
}

/// Active customers (of `summaries`) and their revenue in the period (`revenue`, by
/// customer) by the value of the choice, several-choice or yes/no field `id`: one row per
/// value offered (archived choices when some customer holds them), then "Not set"; a
/// customer with several choices counts in each. Values no customer holds are left out.
pub fn by_field_value<'a>(
    id: &str,
    field: &crate::model::custom_fields::FieldDefinition,
    summaries: impl IntoIterator<Item = &'a crate::CustomerSummary>,
    revenue: &HashMap<crate::CustomerId, i64>,
) -> Vec<ValueShare> {
    use crate::model::custom_fields::FieldKind;
    let mut values: Vec<(String, String)> = match field.kind {
        FieldKind::YesNo => vec![("yes".into(), "Yes".into()), ("no".into(), "No".into())],
        _ => {
            let mut all: Vec<(&String, &crate::model::custom_fields::FieldChoice)> =
                field.choices.iter().collect();
            crate::order::sort_by(&mut all, |a, b| {
                (a.1.archived, a.1.position, a.0).cmp(&(b.1.archived, b.1.position, b.0))
            });
            all.into_iter()
                .map(|(choice, def)| (choice.clone(), def.label.clone()))
                .collect()
        }
    };
    values.push((String::new(), "Not set".into()));
    let mut shares: Vec<ValueShare> = (values.iter())
        .map(|(_, label)| ValueShare {
            label: label.clone(),
            customers: Vec::new(),
            revenue_cents: 0,
        })
        .collect();
    let not_set = shares.len() - 1;
    for summary in summaries {
        if summary.archived {
            continue;
        }
        let held: Vec<&String> = match field.kind {
            FieldKind::Choices => (summary.custom_sets.get(id).into_iter())
                .flatten()
                .collect(),
            _ => summary.custom.get(id).into_iter().collect(),
        };
        let mut rows: Vec<usize> = (held.iter())
            .filter_map(|value| values.iter().position(|(v, _)| v == *value))
            .collect();
        if rows.is_empty() {
            rows.push(not_set);
        }
        let cents = revenue.get(&summary.id).copied().unwrap_or(0);
        for row in rows {
            shares[row].customers.push(summary.id.clone());
            shares[row].revenue_cents = shares[row].revenue_cents.saturating_add(cents);
        }
    }
    shares.retain(|share| !share.customers.is_empty());
    shares
}
