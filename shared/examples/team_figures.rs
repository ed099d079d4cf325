//! Times, natively, what the team dashboard computes once both territories are read
//! (e2e/bench/client.bench.ts, "team dashboard over two territories"): 2 × 5,000 customers
//! with histories, owned by three reps (some by none), the team, its previous period, each
//! territory and each rep.
//! Then one book's dashboard (every figure) over the same 10,000.
//! `cargo run --release -p fieldbook-shared --example team_figures`.
use std::time::Instant;

use shared::crm::kpi::{DashboardRequest, Period, PeriodKind};
use shared::crm::team_kpi::{team_figures, TerritoryFacts};
use shared::documents::book_doc::default_pipeline;
use shared::model::facts::CustomerFacts;
use shared::{CalendarDate, Timestamp};

fn main() {
    let now = Timestamp(1_795_341_600_000);
    let reps = [
        "rita@example.com",
        "rob@example.com",
        "ruth@example.com",
        "",
    ];
    let territories: Vec<TerritoryFacts> = ["North", "South"]
        .iter()
        .enumerate()
        .map(|(t, name)| {
            let mut territory = TerritoryFacts {
                name: name.to_string(),
                ..TerritoryFacts::default()
            };
            for idx in 0..5_000u64 {
                let mut customer = shared::seed::customer(21 + t as u64, idx, now);
                let activities = 5 + (idx * 7919 % 46) as usize;
                shared::seed::add_records(&mut customer, 21, activities, now);
                let owner = reps[(idx % reps.len() as u64) as usize];
                territory.owners.push(owner.to_string());
                territory.facts.push(CustomerFacts::of(&customer));
            }
            territory
        })
        .collect();
    let today = CalendarDate {
        year: 2026,
        month: 11,
        day: 23,
    };
    let request = DashboardRequest {
        period: Period::containing(PeriodKind::Quarter, today),
        today,
        utc_offset_ms: 0,
        not_contacted_days: 30,
        scope: None,
        default_currency: "EUR".into(),
    };
    let pipeline = default_pipeline();
    for _ in 0..5 {
        let started = Instant::now();
        let figures = team_figures(&territories, &request, &pipeline);
        println!(
            "team figures over 2 × 5,000: {:.1} ms ({} territories, {} reps, {} customers)",
            started.elapsed().as_secs_f64() * 1e3,
            figures.territories.len(),
            figures.owners.len(),
            figures.team.customers
        );
    }
    // One book's dashboard over the same 10,000 (every figure, as a first open computes).
    let everyone: Vec<&CustomerFacts> = territories.iter().flat_map(|t| &t.facts).collect();
    let params = request.params("EUR", &pipeline);
    for _ in 0..5 {
        let started = Instant::now();
        let kpis = shared::crm::kpi::compute(&everyone, &params);
        println!(
            "every figure over 10,000: {:.1} ms ({} customers)",
            started.elapsed().as_secs_f64() * 1e3,
            kpis.customers.len()
        );
    }
}
