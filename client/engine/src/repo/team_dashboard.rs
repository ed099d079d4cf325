//! The team dashboard (`shared::crm::team_kpi`): a manager's figures across the team's
//! territories, read from each territory's database on this device.
//!
//! Each territory is a book of its own (its database, its writer, its sync): the team
//! dashboard's screen starts an engine for each one it counts, which keeps it in sync (or
//! follows the tab that does), and asks this engine — whichever book it holds — to read
//! them. Reading another book's database never writes it, so the single writer of each
//! stays the only one. A customer counts when the territory's list holds it (a customer that
//! moved away, or whose facts a dashboard never read, is not in two places at once).

use std::collections::HashSet;

use shared::crm::team_kpi::{team_figures, TeamDashboardRequest, TeamFigures, TerritoryFacts};

use super::*;

impl Repo {
    /// The team dashboard over the territories `asked` names, as stored on this device.
    pub async fn team_dashboard(
        &self,
        asked: &TeamDashboardRequest,
    ) -> Result<TeamFigures, RepoError> {
        let started = common::perf::now_ms();
        let mut territories = Vec::with_capacity(asked.territories.len());
        let mut pipeline = None;
        for book in &asked.territories {
            let store = Store::open_named(&book.database(), || {}, || {}).await?;
            let read = async {
                let summaries = store.load_summaries().await?;
                let facts = store.load_facts().await?;
                let settings = match pipeline {
                    None => Some(load_book_doc(&store, ActorId::random()).await?),
                    Some(_) => None,
                };
                Ok::<_, StoreError>((summaries, facts, settings))
            }
            .await;
            store.close();
            let (summaries, facts, book_doc) = read?;
            if let Some(book_doc) = book_doc {
                pipeline = Some(book_doc.settings().pipeline());
            }
            let listed: HashSet<&CustomerId> = summaries.items.iter().map(|s| &s.id).collect();
            let facts = (facts.items.into_iter())
                .filter(|facts| listed.contains(&facts.id))
                .collect();
            let owners = (summaries.items.iter())
                .filter(|summary| !summary.owner.trim().is_empty())
                .map(|summary| (summary.id.clone(), summary.owner.clone()))
                .collect();
            territories.push(TerritoryFacts {
                name: book.territory_name.clone(),
                facts,
                owners,
            });
        }
        common::perf::add_timing("team dashboard: read territories", started);
        let started = common::perf::now_ms();
        let figures = team_figures(&territories, &asked.request, &pipeline.unwrap_or_default());
        common::perf::add_timing("team dashboard: compute", started);
        Ok(figures)
    }
}
