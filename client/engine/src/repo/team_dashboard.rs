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

use shared::crm::team_kpi::{
    team_figures, TeamDashboardAnswer, TeamDashboardKey, TeamDashboardRequest, TerritoryFacts,
};
use shared::documents::book_doc::PipelineStage;
use shared::model::snapshot::ListedOwner;
use shared::sync::team::TeamBook;

use super::*;

/// One territory's facts, owners (a customer counts where it is listed) and, when asked,
/// the team's pipeline, read from its open database. The list is read as the owners kept
/// beside the summaries' snapshot (`Store::load_listed_owners`: a few milliseconds) when
/// they are current, else from the summaries (30–45 ms for 5,000 customers); the facts are
/// read meanwhile.
async fn read_territory(
    store: &Store,
    book: &TeamBook,
    with_pipeline: bool,
) -> Result<(TerritoryFacts, Option<Vec<PipelineStage>>), StoreError> {
    let listed = async {
        if let Some(listed) = store.load_listed_owners().await? {
            common::perf::add_count("team dashboard: lists read as owners", 1);
            return Ok(listed);
        }
        let started = common::perf::now_ms();
        let summaries = store.load_summaries().await?;
        common::perf::add_timing("team dashboard: a territory's summaries", started);
        Ok::<_, StoreError>(
            (summaries.items.into_iter())
                .map(|summary| ListedOwner {
                    id: summary.id,
                    owner: summary.owner,
                })
                .collect::<Vec<_>>(),
        )
    };
    let facts = async {
        let started = common::perf::now_ms();
        let facts = store.load_facts().await;
        common::perf::add_timing("team dashboard: a territory's facts", started);
        facts
    };
    let (listed, facts) = futures_util::future::join(listed, facts).await;
    let (listed, facts) = (listed?, facts?);
    let started = common::perf::now_ms();
    let pipeline = match with_pipeline {
        true => Some(
            load_book_doc(store, ActorId::random())
                .await?
                .settings()
                .pipeline(),
        ),
        false => None,
    };
    common::perf::add_timing("team dashboard: the book document", started);
    let facts = match shared::model::snapshot::same_customers(&listed, &facts.items) {
        // Written together: every listed customer's facts, and no others.
        true => facts.items,
        false => {
            let ids: HashSet<&CustomerId> = listed.iter().map(|listed| &listed.id).collect();
            (facts.items.into_iter())
                .filter(|facts| ids.contains(&facts.id))
                .collect()
        }
    };
    let owners = (listed.into_iter())
        .filter(|listed| !listed.owner.trim().is_empty())
        .map(|listed| (listed.id, listed.owner))
        .collect();
    let territory = TerritoryFacts {
        name: book.territory_name.clone(),
        facts,
        owners,
    };
    Ok((territory, pipeline))
}

impl Repo {
    /// The team dashboard over the territories `asked` names, as stored on this device:
    /// [`TeamDashboardAnswer::Unchanged`] when every territory's data version is still
    /// what the screen's figures were computed from, else computed now (the territories
    /// read at once: their databases answer in parallel).
    pub async fn team_dashboard(
        &self,
        asked: &TeamDashboardRequest,
    ) -> Result<TeamDashboardAnswer, RepoError> {
        let started = common::perf::now_ms();
        let opened =
            futures_util::future::join_all((asked.territories.iter()).map(|book| async move {
                Store::open_named(&book.database(), || {}, || {}).await
            }))
            .await;
        let mut stores = Vec::with_capacity(opened.len());
        for store in opened {
            match store {
                Ok(store) => stores.push(store),
                Err(err) => {
                    stores.into_iter().for_each(Store::close);
                    return Err(err.into());
                }
            }
        }
        let answer = self.team_dashboard_from(asked, &stores).await;
        stores.into_iter().for_each(Store::close);
        common::perf::add_timing("team dashboard: answer", started);
        answer
    }

    async fn team_dashboard_from(
        &self,
        asked: &TeamDashboardRequest,
        stores: &[Store],
    ) -> Result<TeamDashboardAnswer, RepoError> {
        // The versions first: data written after them makes the next check compute again.
        let versions = futures_util::future::join_all(stores.iter().map(Store::data_version))
            .await
            .into_iter()
            .collect::<Result<Vec<Option<String>>, StoreError>>()?;
        let key = (asked.territories.iter().zip(versions))
            .map(|(book, version)| Some((book.database(), version?)))
            .collect::<Option<Vec<_>>>()
            .map(|versions| TeamDashboardKey {
                build: shared::sync::engine_protocol::WIRE_FINGERPRINT,
                request: asked.request.clone(),
                versions,
            });
        if key.is_some() && key == asked.known {
            return Ok(TeamDashboardAnswer::Unchanged);
        }
        common::perf::mark("fieldbook:team-territories-read-start");
        let started = common::perf::now_ms();
        let reads = (asked.territories.iter().zip(stores).enumerate())
            .map(|(index, (book, store))| read_territory(store, book, index == 0));
        let mut territories = Vec::with_capacity(stores.len());
        let mut pipeline = Vec::new();
        for read in futures_util::future::join_all(reads).await {
            let (territory, with_pipeline) = read?;
            if let Some(with_pipeline) = with_pipeline {
                pipeline = with_pipeline;
            }
            territories.push(territory);
        }
        common::perf::add_timing("team dashboard: read territories", started);
        common::perf::mark("fieldbook:team-territories-read");
        let started = common::perf::now_ms();
        let figures = team_figures(&territories, &asked.request, &pipeline);
        common::perf::add_timing("team dashboard: compute", started);
        common::perf::mark("fieldbook:team-figures-computed");
        Ok(TeamDashboardAnswer::Computed {
            figures: Box::new(figures),
            key,
        })
    }
}
