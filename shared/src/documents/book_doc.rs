//! [`BookDoc`]: the one Automerge document per book that is not a customer — the product
//! catalog and the deal pipeline — synced through the relay like customers, under the
//! document id [`BOOK_DOCUMENT`].
//!
//! Every device creates the document's skeleton with the same fixed actor, time and content,
//! so the first change is byte-identical everywhere and two devices that started the book
//! offline merge into one catalog instead of two competing `products` maps.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit};
use autosurgeon::{Hydrate, Reconcile};

use crate::{
    documents::customer_doc::{commit, load_incremental_checked, TEXT_ENCODING},
    model::validation::{check_currency, FieldError, ValidationErrors, MAX_SHORT_TEXT},
    DocError, Timestamp, Version,
};

/// The document id of a book's [`BookDoc`] on the relay.
pub const BOOK_DOCUMENT: &str = "book";

/// A product the rep sells.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Product {
    /// Its name, e.g. "Espresso machine Pro".
    pub name: String,
    /// Stock-keeping unit, e.g. "ESP-PRO-2".
    pub sku: String,
    /// List price of one, in cents of `currency`.
    #[autosurgeon(rename = "price_cents")]
    pub price_cents: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// No longer offered; kept for past purchases.
    pub archived: bool,
}

/// What reaching a pipeline stage means for a deal.
#[derive(
    serde::Serialize,
    serde::Deserialize,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Reconcile,
    Hydrate,
)]
pub enum StageOutcome {
    /// Still in play.
    #[autosurgeon(rename = "open")]
    Open,
    /// Closed, won.
    #[autosurgeon(rename = "won")]
    Won,
    /// Closed, lost.
    #[autosurgeon(rename = "lost")]
    Lost,
}

/// One stage of the deal pipeline.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct PipelineStage {
    /// Stable id stored in deals.
    #[key]
    pub id: String,
    /// The name shown.
    pub name: String,
    /// Chance of winning a deal in this stage, 0-100, for the weighted forecast.
    pub probability: u8,
    /// Whether deals here are open, won or lost.
    pub outcome: StageOutcome,
}

/// The default pipeline: qualification → proposal → negotiation → won / lost.
pub fn default_pipeline() -> Vec<PipelineStage> {
    let stage = |id: &str, name: &str, probability, outcome| PipelineStage {
        id: id.into(),
        name: name.into(),
        probability,
        outcome,
    };
    vec![
        stage("qualification", "Qualification", 10, StageOutcome::Open),
        stage("proposal", "Proposal", 30, StageOutcome::Open),
        stage("negotiation", "Negotiation", 60, StageOutcome::Open),
        stage("won", "Won", 100, StageOutcome::Won),
        stage("lost", "Lost", 0, StageOutcome::Lost),
    ]
}

/// The book-wide settings held in the [`BookDoc`].
#[derive(
    serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate,
)]
pub struct BookSettings {
    /// The catalog, by product id.
    #[autosurgeon(missing = "Default::default")]
    pub products: BTreeMap<String, Product>,
    /// The deal pipeline, in order; empty means [`default_pipeline`].
    #[autosurgeon(missing = "Default::default")]
    pub pipeline: Vec<PipelineStage>,
    /// Saved segments, by id.
    #[autosurgeon(missing = "Default::default")]
    pub segments: BTreeMap<String, crate::crm::segments::SavedSegment>,
    /// The country phone numbers are written in when they carry no country code (ISO code,
    /// see [`crate::model::phone::Country`]); "" when the rep has not said.
    #[autosurgeon(missing = "Default::default")]
    pub default_country: String,
}

impl BookSettings {
    /// The country of numbers written without a country code, if the rep named one.
    pub fn phone_country(&self) -> Option<&'static crate::model::phone::Country> {
        crate::model::phone::Country::of(&self.default_country)
    }

    /// The pipeline in use.
    pub fn pipeline(&self) -> Vec<PipelineStage> {
        if self.pipeline.is_empty() {
            default_pipeline()
        } else {
            self.pipeline.clone()
        }
    }

    /// Products still offered, by name.
    pub fn active_products(&self) -> Vec<(&str, &Product)> {
        let mut products: Vec<(&str, &Product)> = self
            .products
            .iter()
            .filter(|(_, product)| !product.archived)
            .map(|(id, product)| (id.as_str(), product))
            .collect();
        products.sort_by_key(|(_, product)| product.name.to_lowercase());
        products
    }
}

/// Checks the catalog and pipeline; fields are `products.<id>.<field>` and `pipeline`.
pub fn validate(settings: &BookSettings) -> Result<(), ValidationErrors> {
    let mut errors = Vec::new();
    for (id, product) in &settings.products {
        if product.name.trim().is_empty() {
            errors.push(FieldError {
                field: format!("products.{id}.name"),
                message: "name the product".into(),
            });
        } else if product.name.chars().count() > MAX_SHORT_TEXT
            || product.sku.chars().count() > MAX_SHORT_TEXT
        {
            errors.push(FieldError {
                field: format!("products.{id}.name"),
                message: format!("too long: at most {MAX_SHORT_TEXT} characters"),
            });
        }
        if product.price_cents < 0 {
            errors.push(FieldError {
                field: format!("products.{id}.price"),
                message: "a price cannot be negative".into(),
            });
        }
        if let Err(message) = check_currency(&product.currency) {
            errors.push(FieldError {
                field: format!("products.{id}.currency"),
                message,
            });
        }
    }
    let pipeline = &settings.pipeline;
    let has = |outcome| pipeline.iter().any(|stage| stage.outcome == outcome);
    let complete = has(StageOutcome::Open) && has(StageOutcome::Won) && has(StageOutcome::Lost);
    if !pipeline.is_empty() && !complete {
        errors.push(FieldError {
            field: "pipeline".into(),
            message: "a pipeline needs at least one open, one won and one lost stage".into(),
        });
    }
    if pipeline.iter().any(|stage| stage.probability > 100) {
        errors.push(FieldError {
            field: "pipeline".into(),
            message: "a probability is between 0 and 100".into(),
        });
    }
    if !settings.default_country.is_empty() && settings.phone_country().is_none() {
        errors.push(FieldError {
            field: "default_country".into(),
            message: format!(
                "\"{}\" is not a country Fieldbook knows",
                settings
                    .default_country
                    .chars()
                    .take(20)
                    .collect::<String>()
            ),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors))
    }
}

/// The book document and its hydrated settings.
pub struct BookDoc {
    doc: AutoCommit,
    settings: BookSettings,
    author: Option<String>,
}

impl std::fmt::Debug for BookDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookDoc")
            .field("products", &self.settings.products.len())
            .finish_non_exhaustive()
    }
}

impl BookDoc {
    /// The empty book document, identical on every device; later changes are `actor`'s.
    pub fn new(actor: ActorId) -> BookDoc {
        let mut doc =
            AutoCommit::new_with_encoding(TEXT_ENCODING).with_actor(ActorId::from([0u8; 16]));
        // The skeleton grows by one deterministic change per version, each depending only on
        // the previous one, so every device (old book or new) holds the same changes.
        // Reconciling empty structs into the skeleton cannot fail.
        #[derive(Reconcile)]
        struct SkeletonV1 {
            products: BTreeMap<String, Product>,
            pipeline: Vec<PipelineStage>,
        }
        let v1 = SkeletonV1 {
            products: BTreeMap::new(),
            pipeline: Vec::new(),
        };
        if autosurgeon::reconcile(&mut doc, &v1).is_ok() {
            commit(&mut doc, None, Timestamp(0));
        }
        // Version 2: saved segments.
        let settings = BookSettings::default();
        if autosurgeon::reconcile(&mut doc, &settings).is_ok() {
            commit(&mut doc, None, Timestamp(0));
        }
        BookDoc {
            doc: doc.with_actor(actor),
            settings,
            author: None,
        }
    }

    /// Loads the document from saved bytes (a snapshot plus changes).
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<BookDoc, DocError> {
        let mut book = BookDoc::new(actor);
        book.apply_remote(bytes)?;
        Ok(book)
    }

    /// Names the device in the messages of the changes this copy makes.
    pub fn set_author(&mut self, author: Option<String>) {
        self.author = author;
    }

    /// Merges bytes from the relay or storage; returns whether anything changed.
    pub fn apply_remote(&mut self, bytes: &[u8]) -> Result<bool, DocError> {
        if !load_incremental_checked(&mut self.doc, bytes)? {
            return Ok(false);
        }
        self.settings = autosurgeon::hydrate(&self.doc)?;
        Ok(true)
    }

    /// The catalog and pipeline.
    pub fn settings(&self) -> &BookSettings {
        &self.settings
    }

    /// Applies `edit` to a copy, validates it and writes the difference as one change at
    /// `now`. Returns the change's bytes, or `None` if nothing changed.
    pub fn update(
        &mut self,
        now: Timestamp,
        edit: impl FnOnce(&mut BookSettings),
    ) -> Result<Option<Vec<u8>>, DocError> {
        let mut edited = self.settings.clone();
        edit(&mut edited);
        if edited == self.settings {
            return Ok(None);
        }
        validate(&edited)?;
        autosurgeon::reconcile(&mut self.doc, &edited)?;
        commit(&mut self.doc, self.author.as_deref(), now);
        self.settings = autosurgeon::hydrate(&self.doc)?;
        Ok(self
            .doc
            .get_last_local_change()
            .map(|change| change.raw_bytes().to_vec()))
    }

    /// The version of the document now (see [`crate::documents::customer_doc::Version`]).
    pub fn version(&mut self) -> Version {
        Version(self.doc.get_heads().iter().map(|hash| hash.0).collect())
    }

    /// Writes what a screen made of the settings as they were at `version`, as one change
    /// at `now`: on a fork at that version when the document moved on meanwhile, so a
    /// change that arrived in between is kept. Returns the change's bytes, or `None` if
    /// nothing changed.
    pub fn update_to(
        &mut self,
        version: &Version,
        after: BookSettings,
        now: Timestamp,
    ) -> Result<Option<Vec<u8>>, DocError> {
        let heads: Vec<automerge::ChangeHash> = version
            .0
            .iter()
            .map(|bytes| automerge::ChangeHash(*bytes))
            .collect();
        if heads.is_empty() || heads == self.doc.get_heads() {
            return self.update(now, move |settings| *settings = after);
        }
        let fork = match self.doc.fork_at(&heads) {
            Ok(fork) => fork,
            Err(automerge::AutomergeError::InvalidHash(_)) => {
                return self.update(now, move |settings| *settings = after)
            }
            Err(err) => return Err(err.into()),
        };
        let settings = autosurgeon::hydrate(&fork)?;
        let mut forked = BookDoc {
            doc: fork,
            settings,
            author: self.author.clone(),
        };
        let Some(change) = forked.update(now, move |settings| *settings = after)? else {
            return Ok(None);
        };
        self.apply_remote(&change)?;
        Ok(Some(change))
    }

    /// The whole document, to store.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(name: &str, price_cents: i64) -> Product {
        Product {
            name: name.into(),
            sku: String::new(),
            price_cents,
            currency: "EUR".into(),
            archived: false,
        }
    }

    #[test]
    fn two_devices_starting_offline_share_one_catalog() {
        let mut phone = BookDoc::new(ActorId::from([1u8; 16]));
        let mut tablet = BookDoc::new(ActorId::from([2u8; 16]));
        let from_phone = phone
            .update(Timestamp(10), |s| {
                s.products.insert("p1".into(), product("Grinder", 19_900));
            })
            .unwrap()
            .unwrap();
        let from_tablet = tablet
            .update(Timestamp(20), |s| {
                s.products
                    .insert("p2".into(), product("Espresso machine", 89_900));
            })
            .unwrap()
            .unwrap();
        phone.apply_remote(&from_tablet).unwrap();
        tablet.apply_remote(&from_phone).unwrap();
        assert_eq!(phone.settings(), tablet.settings());
        let names: Vec<&str> = phone
            .settings()
            .active_products()
            .iter()
            .map(|(_, p)| p.name.as_str())
            .collect();
        assert_eq!(names, ["Espresso machine", "Grinder"]);
        // Saved and loaded, still the same.
        let loaded = BookDoc::load(&phone.save(), ActorId::from([3u8; 16])).unwrap();
        assert_eq!(loaded.settings(), phone.settings());
    }

    #[test]
    fn invalid_products_and_pipelines_change_nothing() {
        let mut book = BookDoc::new(ActorId::from([1u8; 16]));
        let err = book
            .update(Timestamp(1), |s| {
                s.products.insert("p1".into(), product(" ", -5));
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "name the product; a price cannot be negative"
        );
        let err = book
            .update(Timestamp(1), |s| {
                s.pipeline = default_pipeline()
                    .into_iter()
                    .filter(|stage| stage.outcome != StageOutcome::Lost)
                    .collect();
            })
            .unwrap_err();
        assert!(err.to_string().contains("one open, one won and one lost"));
        assert!(book.settings().products.is_empty());
        assert_eq!(book.settings().pipeline(), default_pipeline());
    }

    #[test]
    fn the_phone_country_syncs_and_an_unknown_one_is_refused() {
        let mut phone = BookDoc::new(ActorId::from([1u8; 16]));
        let mut tablet = BookDoc::new(ActorId::from([2u8; 16]));
        assert_eq!(tablet.settings().phone_country(), None);
        let change = phone
            .update(Timestamp(10), |s| s.default_country = "AT".into())
            .unwrap()
            .unwrap();
        tablet.apply_remote(&change).unwrap();
        assert_eq!(
            tablet.settings().phone_country().map(|c| c.calling_code),
            Some("43")
        );
        let err = tablet
            .update(Timestamp(20), |s| s.default_country = "Atlantis".into())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"Atlantis\" is not a country Fieldbook knows"
        );
        assert_eq!(tablet.settings().default_country, "AT");
    }

    #[test]
    fn a_book_saved_before_segments_existed_merges_with_a_new_one() {
        // The first skeleton, as version 1 wrote it: products and pipeline only.
        #[derive(Reconcile)]
        struct SkeletonV1 {
            products: BTreeMap<String, Product>,
            pipeline: Vec<PipelineStage>,
        }
        let mut old =
            AutoCommit::new_with_encoding(TEXT_ENCODING).with_actor(ActorId::from([0u8; 16]));
        autosurgeon::reconcile(
            &mut old,
            &SkeletonV1 {
                products: BTreeMap::new(),
                pipeline: Vec::new(),
            },
        )
        .unwrap();
        commit(&mut old, None, Timestamp(0));
        let mut old = old.with_actor(ActorId::from([1u8; 16]));
        autosurgeon::reconcile(
            &mut old,
            &SkeletonV1 {
                products: [("p1".to_string(), product("Grinder", 100))].into(),
                pipeline: Vec::new(),
            },
        )
        .unwrap();
        commit(&mut old, None, Timestamp(5));
        let old_bytes = old.save();

        let mut new = BookDoc::new(ActorId::from([2u8; 16]));
        let change = new
            .update(Timestamp(9), |s| {
                s.segments.insert(
                    "s1".into(),
                    crate::crm::segments::SavedSegment {
                        name: "VIP".into(),
                        filter: Default::default(),
                    },
                );
            })
            .unwrap()
            .unwrap();
        let mut loaded = BookDoc::load(&old_bytes, ActorId::from([3u8; 16])).unwrap();
        loaded.apply_remote(&change).unwrap();
        assert_eq!(loaded.settings().products.len(), 1);
        assert_eq!(loaded.settings().segments.len(), 1);
        new.apply_remote(&old_bytes).unwrap();
        assert_eq!(new.settings(), loaded.settings());
    }
}
