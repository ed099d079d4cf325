//! The deal pipeline board: open and closed deals of the whole book grouped by stage, with
//! the total and the probability-weighted forecast of each stage, from summaries alone.

use crate::{
    documents::book_doc::{PipelineStage, StageOutcome},
    model::records::Deal,
    model::summary::DealSummary,
    Book, CustomerId, Timestamp,
};

/// One deal on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardDeal {
    /// Its customer.
    pub customer: CustomerId,
    /// The customer's display name.
    pub customer_name: String,
    /// The deal.
    pub deal: DealSummary,
}

/// One column of the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageColumn {
    /// The stage.
    pub stage: PipelineStage,
    /// Its deals, by expected close date (undated last), then title.
    pub deals: Vec<BoardDeal>,
    /// Sum of the deals' values, in cents.
    pub total_cents: i64,
    /// Sum of value × stage probability, in cents (rounded down).
    pub weighted_cents: i64,
}

/// The board: one column per stage of `pipeline`, in order. Deals whose stage is not in the
/// pipeline (removed on another device) go to the first stage, so none disappears.
/// Archived customers' deals are left out.
pub fn board(book: &Book, pipeline: &[PipelineStage]) -> Vec<StageColumn> {
    let mut columns: Vec<StageColumn> = pipeline
        .iter()
        .map(|stage| StageColumn {
            stage: stage.clone(),
            deals: Vec::new(),
            total_cents: 0,
            weighted_cents: 0,
        })
        .collect();
    if columns.is_empty() {
        return columns;
    }
    for summary in book.summaries().filter(|summary| !summary.archived) {
        for deal in &summary.deals {
            let column = pipeline
                .iter()
                .position(|stage| stage.id == deal.stage)
                .unwrap_or(0);
            columns[column].deals.push(BoardDeal {
                customer: summary.id.clone(),
                customer_name: summary.display_name().to_string(),
                deal: deal.clone(),
            });
        }
    }
    for column in &mut columns {
        crate::order::sort_by(&mut column.deals, |a, b| {
            (a.deal.expected_close.is_none(), a.deal.expected_close)
                .cmp(&(b.deal.expected_close.is_none(), b.deal.expected_close))
                .then_with(|| a.deal.title.cmp(&b.deal.title))
        });
        column.total_cents = column.deals.iter().map(|d| d.deal.value_cents).sum();
        column.weighted_cents = column
            .deals
            .iter()
            .map(|d| d.deal.value_cents * i64::from(column.stage.probability) / 100)
            .sum();
    }
    columns
}

/// The value of open deals and their weighted forecast, over the whole board.
pub fn open_totals(columns: &[StageColumn]) -> (i64, i64) {
    columns
        .iter()
        .filter(|column| column.stage.outcome == StageOutcome::Open)
        .fold((0, 0), |(total, weighted), column| {
            (total + column.total_cents, weighted + column.weighted_cents)
        })
}

/// Moves a deal to `stage` at `now`: reaching won or lost closes it (keeping the first close
/// time), going back to an open stage reopens it.
pub fn move_deal(deal: &mut Deal, stage: &PipelineStage, now: Timestamp) {
    deal.stage = stage.id.clone();
    deal.closed_at = match stage.outcome {
        StageOutcome::Open => None,
        StageOutcome::Won | StageOutcome::Lost => deal.closed_at.or(Some(now)),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{documents::book_doc::default_pipeline, CalendarDate, Customer, CustomerSummary};

    fn deal(title: &str, stage: &str, value_cents: i64, close: Option<&str>) -> Deal {
        Deal {
            title: title.into(),
            stage: stage.into(),
            value_cents,
            currency: "EUR".into(),
            expected_close: close.and_then(CalendarDate::parse),
            created_at: Timestamp(0),
            closed_at: None,
        }
    }

    #[test]
    fn deals_are_grouped_by_stage_with_totals_and_weighted_forecast() {
        let mut ada = Customer::new("c1".parse().unwrap(), Timestamp(0));
        ada.name = "Ada".into();
        ada.deals
            .insert("d1".into(), deal("Espresso bar", "proposal", 100_000, None));
        ada.deals.insert(
            "d2".into(),
            deal("Grinders", "proposal", 50_000, Some("2026-12-01")),
        );
        ada.deals
            .insert("d3".into(), deal("Old", "removed-stage", 10_000, None));
        let mut bob = Customer::new("c2".parse().unwrap(), Timestamp(0));
        bob.name = "Bob".into();
        bob.deals
            .insert("d1".into(), deal("Service plan", "won", 20_000, None));
        let book = Book::from_summaries([&ada, &bob].map(CustomerSummary::of));
        let pipeline = default_pipeline();
        let columns = board(&book, &pipeline);
        let titles = |i: usize| -> Vec<&str> {
            columns[i]
                .deals
                .iter()
                .map(|d| d.deal.title.as_str())
                .collect()
        };
        assert_eq!(titles(0), ["Old"]);
        // Dated deals first.
        assert_eq!(titles(1), ["Grinders", "Espresso bar"]);
        assert_eq!(columns[1].total_cents, 150_000);
        assert_eq!(columns[1].weighted_cents, 45_000);
        assert_eq!(titles(3), ["Service plan"]);
        // Won deals are not in the open pipeline.
        assert_eq!(open_totals(&columns), (160_000, 46_000));
    }

    #[test]
    fn moving_to_won_or_lost_closes_and_back_reopens() {
        let pipeline = default_pipeline();
        let stage = |id: &str| pipeline.iter().find(|s| s.id == id).unwrap();
        let mut deal = deal("Espresso bar", "proposal", 100_000, None);
        move_deal(&mut deal, stage("won"), Timestamp(5));
        assert_eq!(deal.closed_at, Some(Timestamp(5)));
        move_deal(&mut deal, stage("lost"), Timestamp(9));
        assert_eq!(deal.closed_at, Some(Timestamp(5)));
        move_deal(&mut deal, stage("negotiation"), Timestamp(10));
        assert_eq!((deal.stage.as_str(), deal.closed_at), ("negotiation", None));
    }

    #[test]
    fn an_empty_book_has_empty_columns() {
        let columns = board(&Book::default(), &default_pipeline());
        assert_eq!(columns.len(), 5);
        assert!(columns
            .iter()
            .all(|c| c.deals.is_empty() && c.total_cents == 0));
        assert_eq!(open_totals(&columns), (0, 0));
    }
}
