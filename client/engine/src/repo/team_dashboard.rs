//! The team dashboard (`shared::crm::team_kpi`): a manager's figures across the team's
//! territories, read from each territory's database on this device.
//!
//! Each territory is a book of its own (its database, its writer, its sync): the team
//! dashboard's screen starts an engine for each one it counts, which keeps it in sync (or
//! follows the tab that does), and asks this engine — whichever book it holds — to read
//! them. Reading another book's database never writes it, so the single writer of each
//! stays the only one. A customer counts when the territory's list holds it (a customer that
//! moved away, or whose facts a dashboard never read, is not in two places at once).

use std::collections::HashMap;

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
/// they are current, else from the summaries (30–45 ms for 5,000 customers); the facts and
/// the book document (the pipeline) are read meanwhile.
async fn read_territory(
    store: &Store,
    book: &TeamBook,
    with_pipeline: bool,
) -> Result<(TerritoryFacts, Option<Vec<PipelineStage>>), RepoError> {
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
    let pipeline = async {
        if !with_pipeline {
            return Ok(None);
        }
        let started = common::perf::now_ms();
        let book = load_book_doc(store, ActorId::random()).await;
        common::perf::add_timing("team dashboard: the book document", started);
        Ok::<_, RepoError>(Some(book?.settings().pipeline()))
    };
    let (listed, facts, pipeline) = futures_util::future::join3(listed, facts, pipeline).await;
    let (listed, facts, pipeline) = (listed?, facts?, pipeline?);
    let (facts, owners) = match shared::model::snapshot::same_customers(&listed, &facts.items) {
        // Written together: every listed customer's facts, and no others, in one order.
        true => (
            facts.items,
            listed.into_iter().map(|listed| listed.owner).collect(),
        ),
        false => {
            let mut owners: HashMap<CustomerId, String> = (listed.into_iter())
                .map(|listed| (listed.id, listed.owner))
                .collect();
            (facts.items.into_iter())
                .filter_map(|facts| Some((owners.remove(&facts.id)?, facts)))
                .map(|(owner, facts)| (facts, owner))
                .unzip()
        }
    };
    let territory = TerritoryFacts {
        name: book.territory_name.clone(),
        facts,
        owners,
    };
    Ok((territory, pipeline))
}

/// A team dashboard's question being answered, and who else asked it meanwhile.
pub(super) type TeamDashboardAsked = (
    TeamDashboardRequest,
    Vec<futures_channel::oneshot::Sender<Option<TeamDashboardAnswer>>>,
);

/// The question a caller is answering: when it is done (or dropped before, its waiters
/// then answer themselves), the callers that asked the same meanwhile get its answer.
struct Answering<'a> {
    repo: &'a Repo,
    asked: &'a TeamDashboardRequest,
    answer: Option<TeamDashboardAnswer>,
}

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        let waiting = {
            let inner = self.repo.inner();
            let mut inner = inner.borrow_mut();
            match inner.team_dashboard_asked.take() {
                Some((request, waiting)) if &request == self.asked => waiting,
                other => {
                    inner.team_dashboard_asked = other;
                    Vec::new()
                }
            }
        };
        for waiter in waiting {
            let _ = waiter.send(self.answer.clone());
        }
    }
}

impl Repo {
    /// The team dashboard over the territories `asked` names, as stored on this device:
    /// [`TeamDashboardAnswer::Unchanged`] when every territory's data version is still
    /// what the screen's figures were computed from, else computed now (the territories
    /// read at once: their databases answer in parallel).
    ///
    /// The screens ask as the team dashboard is tapped, then the same once its screen has
    /// loaded: a question asked while the same one is being answered waits for that answer
    /// (and answers itself only if that one failed), so the territories are read once.
    pub async fn team_dashboard(
        &self,
        asked: &TeamDashboardRequest,
    ) -> Result<TeamDashboardAnswer, RepoError> {
        let waiting = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            match &mut inner.team_dashboard_asked {
                Some((request, waiting)) if request == asked => {
                    let (sender, receiver) = futures_channel::oneshot::channel();
                    waiting.push(sender);
                    Some(receiver)
                }
                // Another question (another period, say): answered on its own.
                Some(_) => None,
                asking @ None => {
                    *asking = Some((asked.clone(), Vec::new()));
                    None
                }
            }
        };
        if let Some(receiver) = waiting {
            if let Ok(Some(answer)) = receiver.await {
                common::perf::add_count("team dashboard: answered with the same question's", 1);
                return Ok(answer);
            }
            return self.answer_team_dashboard(asked).await;
        }
        let mut answering = Answering {
            repo: self,
            asked,
            answer: None,
        };
        let answer = self.answer_team_dashboard(asked).await;
        answering.answer = answer.as_ref().ok().cloned();
        drop(answering);
        answer
    }

    async fn answer_team_dashboard(
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
