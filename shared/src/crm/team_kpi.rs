//! The team dashboard: a manager's figures across a team's territories — the whole team,
//! each territory, each rep (the customers' owner) — over the same definitions as a book's
//! dashboard ([`kpi::compute`]). The engine reads each territory's facts and summaries from
//! the territory's database on the device and calls [`team_figures`]; only these headline
//! numbers cross to the screens.

use std::collections::BTreeMap;

use crate::{
    crm::kpi::{self, DashboardRequest, Figure, KpiParams, Kpis},
    documents::book_doc::PipelineStage,
    model::facts::CustomerFacts,
    sync::team::TeamBook,
};

/// What the team dashboard asks the engine for.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TeamDashboardRequest {
    /// The period, today, "not contacted" window and default currency (its `scope` is not
    /// used: the team dashboard counts every customer of the territories).
    pub request: DashboardRequest,
    /// The territories counted, as books on this device (their databases).
    pub territories: Vec<TeamBook>,
    /// What the figures the screen already holds were computed from: when it is still
    /// what the territories hold, the engine answers [`TeamDashboardAnswer::Unchanged`].
    pub known: Option<TeamDashboardKey>,
}

/// What a team dashboard's figures were computed from: the build (its definitions), the
/// request, and each territory database's data version (a new one with every write that
/// changes its data). Equal keys, equal figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TeamDashboardKey {
    /// The build that computed them.
    pub build: u64,
    /// The request (without `known`).
    pub request: DashboardRequest,
    /// Each territory's database and its data version, in the order asked.
    pub versions: Vec<(String, String)>,
}

/// The engine's answer to a [`TeamDashboardRequest`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TeamDashboardAnswer {
    /// The figures the screen holds are the figures: nothing they count changed.
    Unchanged,
    /// Computed now.
    Computed {
        /// The figures.
        figures: Box<TeamFigures>,
        /// What they were computed from (`None`: a territory without a data version yet,
        /// nothing to keep them by).
        key: Option<TeamDashboardKey>,
    },
}

/// The figures of one group of customers (the team, a territory, a rep) for a period.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Headline {
    /// Customers counted (not archived, existing by the period's end).
    pub customers: usize,
    /// Added as a prospect or lead in the period.
    pub leads_captured: usize,
    /// Prospects and leads who became customers in the period.
    pub new_customers: usize,
    /// Revenue of the period's purchases in the main currency, in cents.
    pub revenue_cents: i64,
    /// Those purchases.
    pub orders: usize,
    /// Open deals now, and their value in cents.
    pub open_deals: usize,
    /// Their value, in cents.
    pub pipeline_cents: i64,
    /// Activities logged in the period.
    pub activities: u32,
    /// Complaints received in the period.
    pub complaints: usize,
    /// Customers with a complaint of the period still unresolved.
    pub unresolved: usize,
    /// Median time to a complaint's first response.
    pub first_response_ms: Figure,
    /// Net Promoter Score.
    pub nps: Figure,
    /// Churned / active at the start, percent.
    pub churn_rate: Figure,
    /// Customers not contacted in the "not contacted" window.
    pub not_contacted: usize,
}

impl Headline {
    /// The headline numbers of a dashboard's figures.
    pub fn of(kpis: &Kpis) -> Headline {
        Headline {
            customers: kpis.customers.len(),
            leads_captured: kpis.leads_captured.len(),
            new_customers: kpis.new_customers.len(),
            revenue_cents: kpis.lifetime_value.revenue_cents,
            orders: kpis.lifetime_value.orders,
            open_deals: kpis.pipeline.iter().map(|stage| stage.deals).sum(),
            pipeline_cents: kpis.pipeline.iter().map(|stage| stage.value_cents).sum(),
            activities: kpis.activities.totals.iter().sum(),
            complaints: kpis.complaints.received,
            unresolved: kpis.complaints.unresolved.len(),
            first_response_ms: kpis.complaints.first_response.median_ms,
            nps: kpis.nps.score,
            churn_rate: kpis.churn.churn_rate,
            not_contacted: kpis.not_contacted.len(),
        }
    }
}

/// One row of the team dashboard: a territory or a rep.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TeamRow {
    /// The territory's name, or the rep's email ("" for customers without an owner).
    pub label: String,
    /// Its figures.
    pub figures: Headline,
}

/// The team dashboard's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TeamFigures {
    /// The currency of the money figures (the one most of the team's purchases use).
    pub currency: String,
    /// The whole team, the period asked for.
    pub team: Headline,
    /// The whole team, the period before.
    pub previous: Headline,
    /// Each territory, in the order asked.
    pub territories: Vec<TeamRow>,
    /// Each owner, by email; customers without an owner last (label "").
    pub owners: Vec<TeamRow>,
}

/// One territory's customers as its database holds them.
#[derive(Debug, Clone, Default)]
pub struct TerritoryFacts {
    /// The territory's name.
    pub name: String,
    /// Every customer's dashboard facts.
    pub facts: Vec<CustomerFacts>,
    /// Each customer's owner (from the territory's list), beside its facts: `owners[i]` is
    /// the owner of `facts[i]` ("" or missing: no owner).
    pub owners: Vec<String>,
}

/// The team dashboard over `territories` (the team's pipeline: `pipeline`).
pub fn team_figures(
    territories: &[TerritoryFacts],
    request: &DashboardRequest,
    pipeline: &[PipelineStage],
) -> TeamFigures {
    let everyone: Vec<&CustomerFacts> = territories.iter().flat_map(|t| &t.facts).collect();
    let currency = kpi::main_currency(&everyone, &request.default_currency).to_string();
    let params = request.params(&currency, pipeline);
    let headline = |facts: &[&CustomerFacts]| Headline::of(&kpi::compute_headline(facts, &params));
    let team = headline(&everyone);
    let previous = Headline::of(&kpi::compute_headline(
        &everyone,
        &KpiParams {
            period: request.period.previous(),
            ..params
        },
    ));
    let territory_rows = (territories.iter())
        .map(|territory| TeamRow {
            label: territory.name.clone(),
            figures: headline(&territory.facts.iter().collect::<Vec<_>>()),
        })
        .collect();
    // A rep's customers across every territory (a customer is in one territory).
    let mut by_owner: BTreeMap<&str, Vec<&CustomerFacts>> = BTreeMap::new();
    for territory in territories {
        let owners =
            (territory.owners.iter().map(|owner| owner.trim())).chain(std::iter::repeat(""));
        for (facts, owner) in territory.facts.iter().zip(owners) {
            by_owner.entry(owner).or_default().push(facts);
        }
    }
    let unassigned = by_owner.remove("");
    let mut owners: Vec<TeamRow> = (by_owner.into_iter())
        .map(|(owner, facts)| TeamRow {
            label: owner.to_string(),
            figures: headline(&facts),
        })
        .collect();
    if let Some(facts) = unassigned {
        owners.push(TeamRow {
            label: String::new(),
            figures: headline(&facts),
        });
    }
    TeamFigures {
        currency,
        team,
        previous,
        territories: territory_rows,
        owners,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        crm::kpi::{Period, PeriodKind},
        documents::book_doc::default_pipeline,
        CalendarDate,
    };

    fn request() -> DashboardRequest {
        DashboardRequest {
            period: Period::containing(
                PeriodKind::Quarter,
                CalendarDate {
                    year: 2026,
                    month: 11,
                    day: 23,
                },
            ),
            today: CalendarDate {
                year: 2027,
                month: 1,
                day: 15,
            },
            utc_offset_ms: 0,
            not_contacted_days: 30,
            scope: None,
            default_currency: "EUR".into(),
        }
    }

    /// The dashboard fixture split into two territories, its customers owned by two reps
    /// across them, one without an owner.
    fn split() -> Vec<TerritoryFacts> {
        let facts: Vec<CustomerFacts> = (crate::seed::dashboard_fixture().iter())
            .map(CustomerFacts::of)
            .collect();
        assert!(facts.len() >= 4, "the fixture has customers to split");
        let mut territories = vec![
            TerritoryFacts {
                name: "North".into(),
                ..TerritoryFacts::default()
            },
            TerritoryFacts {
                name: "South".into(),
                ..TerritoryFacts::default()
            },
        ];
        for (index, facts) in facts.into_iter().enumerate() {
            let territory = &mut territories[index % 2];
            let owner = ["rita@example.com", " rob@example.com ", ""][index % 3];
            territory.owners.push(owner.into());
            territory.facts.push(facts);
        }
        territories
    }

    #[test]
    fn the_team_is_every_territory_and_each_row_is_its_own_dashboard() {
        let territories = split();
        let pipeline = default_pipeline();
        let figures = team_figures(&territories, &request(), &pipeline);
        // The team's figures are a book's dashboard over all the customers.
        let all: Vec<CustomerFacts> = territories.iter().flat_map(|t| t.facts.clone()).collect();
        let whole = kpi::dashboard(&all, &request(), &pipeline);
        assert_eq!(figures.team, Headline::of(&whole.current));
        assert_eq!(figures.previous, Headline::of(&whole.previous));
        assert_eq!(figures.currency, whole.currency);
        assert!(figures.team.customers > 0 && figures.team.revenue_cents > 0);
        // Each territory's row is its own book's dashboard (same currency).
        let names: Vec<&str> = figures
            .territories
            .iter()
            .map(|r| r.label.as_str())
            .collect();
        assert_eq!(names, ["North", "South"]);
        for (row, territory) in figures.territories.iter().zip(&territories) {
            let own = kpi::dashboard(&territory.facts, &request(), &pipeline);
            assert_eq!(row.figures, Headline::of(&own.current), "{}", row.label);
        }
        // Counts add up across territories and across owners.
        let sum = |rows: &[TeamRow], count: fn(&Headline) -> usize| -> usize {
            rows.iter().map(|row| count(&row.figures)).sum()
        };
        for count in [
            (|h: &Headline| h.customers) as fn(&Headline) -> usize,
            |h| h.leads_captured,
            |h| h.new_customers,
            |h| h.orders,
            |h| h.open_deals,
            |h| h.complaints,
        ] {
            assert_eq!(sum(&figures.territories, count), count(&figures.team));
            assert_eq!(sum(&figures.owners, count), count(&figures.team));
        }
        let revenue: i64 = figures.owners.iter().map(|r| r.figures.revenue_cents).sum();
        assert_eq!(revenue, figures.team.revenue_cents);
    }

    #[test]
    fn reps_are_rows_by_email_across_territories_unassigned_last() {
        let territories = split();
        let pipeline = default_pipeline();
        let figures = team_figures(&territories, &request(), &pipeline);
        let labels: Vec<&str> = figures.owners.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["rita@example.com", "rob@example.com", ""]);
        // Rita's row counts her customers of both territories.
        let hers: Vec<CustomerFacts> = (territories.iter())
            .flat_map(|t| {
                (t.facts.iter().zip(&t.owners))
                    .filter(|(_, owner)| *owner == "rita@example.com")
                    .map(|(facts, _)| facts.clone())
            })
            .collect();
        assert!(territories
            .iter()
            .all(|t| t.facts.iter().any(|f| hers.contains(f))));
        let own = kpi::dashboard(&hers, &request(), &pipeline);
        // Money is counted in the team's currency, which a rep's own book would pick too
        // here (one currency in the fixture).
        assert_eq!(figures.owners[0].figures, Headline::of(&own.current));
    }

    #[test]
    fn a_rows_figures_are_the_dashboards_headline() {
        // Seeded books with histories (purchases in several currencies, deals, complaints,
        // feedback, activities), over periods of every kind, ending before, at and after today.
        let now = crate::Timestamp(1_795_341_600_000);
        let facts: Vec<CustomerFacts> = (0..400u64)
            .map(|idx| {
                let mut customer = crate::seed::customer(7, idx, now);
                crate::seed::add_records(&mut customer, 7, 3 + (idx % 40) as usize, now);
                CustomerFacts::of(&customer)
            })
            .collect();
        let everyone: Vec<&CustomerFacts> = facts.iter().collect();
        let pipeline = default_pipeline();
        for kind in [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
            for (year, month) in [(2025, 3), (2026, 11), (2027, 2)] {
                let mut request = request();
                request.period = Period::containing(
                    kind,
                    CalendarDate {
                        year,
                        month,
                        day: 9,
                    },
                );
                let currency = kpi::main_currency(&everyone, "EUR");
                let params = request.params(currency, &pipeline);
                let every = Headline::of(&kpi::compute(&everyone, &params));
                assert_eq!(
                    Headline::of(&kpi::compute_headline(&everyone, &params)),
                    every,
                    "{kind:?} {year}-{month}"
                );
                assert!(every.customers > 0, "the seeded book counts");
            }
        }
    }

    #[test]
    fn no_territory_no_figures() {
        let figures = team_figures(&[], &request(), &default_pipeline());
        assert_eq!(figures.team, Headline::default());
        assert!(figures.territories.is_empty() && figures.owners.is_empty());
        assert_eq!(figures.currency, "EUR");
    }
}
