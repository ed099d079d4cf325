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
    /// Custom fields, by id (see [`crate::model::custom_fields`]).
    #[autosurgeon(missing = "Default::default")]
    pub fields: BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
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

    /// These settings (a team's) with what a rep's own book brought into the team adds:
    /// its products, saved segments and custom fields the team has no entry for (by id —
    /// the team's own stay as they are), its pipeline while the team still uses the
    /// default one, its phone country if the team named none.
    pub fn with_brought(&self, brought: &BookSettings) -> BookSettings {
        let mut merged = self.clone();
        for (id, product) in &brought.products {
            (merged.products.entry(id.clone())).or_insert_with(|| product.clone());
        }
        for (id, segment) in &brought.segments {
            (merged.segments.entry(id.clone())).or_insert_with(|| segment.clone());
        }
        for (id, field) in &brought.fields {
            (merged.fields.entry(id.clone())).or_insert_with(|| field.clone());
        }
        if merged.pipeline.is_empty() {
            merged.pipeline = brought.pipeline.clone();
        }
        if merged.default_country.is_empty() {
            merged.default_country = brought.default_country.clone();
        }
        merged
    }

    /// Products still offered, by name.
    pub fn active_products(&self) -> Vec<(&str, &Product)> {
        let mut products: Vec<(&str, &Product)> = self
            .products
            .iter()
            .filter(|(_, product)| !product.archived)
            .map(|(id, product)| (id.as_str(), product))
            .collect();
        crate::order::sort_by_key(&mut products, |(_, product)| product.name.to_lowercase());
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

/// The first changes of every book document, made by every device with the same fixed
/// actor, time and content, so that they are byte-identical everywhere and two devices that
/// started the book offline merge into one catalog instead of two competing `products`
/// maps. Frozen: each version is written out here field by field, never derived from
/// [`BookSettings`] (which grows), since a skeleton that differs between two builds cannot
/// share one history (both changes are the fixed actor's; automerge refuses the second as
/// a duplicate). One build wrote a second version without `default_country`: books it
/// saved are carried over by [`BookDoc::load`] and [`BookDoc::merge_foreign`].
fn skeleton() -> AutoCommit {
    let mut doc = AutoCommit::new_with_encoding(TEXT_ENCODING).with_actor(ActorId::from([0u8; 16]));
    // Version 1: catalog and pipeline.
    #[derive(Reconcile)]
    struct SkeletonV1 {
        products: BTreeMap<String, Product>,
        pipeline: Vec<PipelineStage>,
    }
    // Version 2: saved segments and the default country. Reconciling empty values into the
    // skeleton cannot fail.
    #[derive(Reconcile)]
    struct SkeletonV2 {
        products: BTreeMap<String, Product>,
        pipeline: Vec<PipelineStage>,
        segments: BTreeMap<String, crate::crm::segments::SavedSegment>,
        default_country: String,
    }
    let v1 = SkeletonV1 {
        products: BTreeMap::new(),
        pipeline: Vec::new(),
    };
    if autosurgeon::reconcile(&mut doc, &v1).is_ok() {
        commit(&mut doc, None, Timestamp(0));
    }
    let v2 = SkeletonV2 {
        products: BTreeMap::new(),
        pipeline: Vec::new(),
        segments: BTreeMap::new(),
        default_country: String::new(),
    };
    if autosurgeon::reconcile(&mut doc, &v2).is_ok() {
        commit(&mut doc, None, Timestamp(0));
    }
    // Version 3: custom fields (a map two devices defining fields offline both add to).
    #[derive(Reconcile)]
    struct SkeletonV3 {
        products: BTreeMap<String, Product>,
        pipeline: Vec<PipelineStage>,
        segments: BTreeMap<String, crate::crm::segments::SavedSegment>,
        default_country: String,
        fields: BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
    }
    let v3 = SkeletonV3 {
        products: BTreeMap::new(),
        pipeline: Vec::new(),
        segments: BTreeMap::new(),
        default_country: String::new(),
        fields: BTreeMap::new(),
    };
    if autosurgeon::reconcile(&mut doc, &v3).is_ok() {
        commit(&mut doc, None, Timestamp(0));
    }
    doc
}

/// The settings of a whole saved document loaded on its own, and the time of its last
/// change (for [`BookDoc::load`] and [`BookDoc::merge_foreign`]); `None` if it does not load
/// on its own (e.g. a single change).
fn foreign_settings(bytes: &[u8]) -> Option<(BookSettings, Timestamp)> {
    let mut doc = AutoCommit::load(bytes).ok()?;
    if !doc.get_missing_deps(&[]).is_empty() {
        return None;
    }
    let settings: BookSettings = autosurgeon::hydrate(&doc).ok()?;
    let at = (doc.get_changes(&[]).iter())
        .map(|change| change.timestamp())
        .max()
        .unwrap_or(0);
    Some((settings, Timestamp(at)))
}

/// The book document and its hydrated settings.
pub struct BookDoc {
    doc: AutoCommit,
    settings: BookSettings,
    author: Option<String>,
    /// See [`BookDoc::take_rebuilt`].
    rebuilt: Option<Vec<u8>>,
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
        BookDoc {
            doc: skeleton().with_actor(actor),
            settings: BookSettings::default(),
            author: None,
            rebuilt: None,
        }
    }

    /// Loads the document from saved bytes (a snapshot plus changes). A book saved by an
    /// app whose skeleton was another (see [`skeleton`]) cannot join this one's history:
    /// its settings are carried over into a new document as one change, kept for
    /// [`BookDoc::take_rebuilt`] to be sent.
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<BookDoc, DocError> {
        let mut book = BookDoc::new(actor.clone());
        match book.apply_remote(bytes) {
            Ok(_) => Ok(book),
            Err(err) => {
                let Some((settings, at)) = foreign_settings(bytes) else {
                    return Err(err);
                };
                let mut book = BookDoc::new(actor);
                book.rebuilt = book.update(at, |ours| *ours = settings)?;
                Ok(book)
            }
        }
    }

    /// The change that carried a book of another skeleton over into this document when it
    /// was loaded ([`BookDoc::load`]), once: the device sends it like an edit.
    pub fn take_rebuilt(&mut self) -> Option<Vec<u8>> {
        self.rebuilt.take()
    }

    /// Merges the whole document `bytes` that [`BookDoc::apply_remote`] could not take in
    /// because it grew from another skeleton: what it has that this one lacks (products,
    /// segments and fields by id, the pipeline and default country when this book has
    /// none) is added as one change at `now`, returned to be sent (`None`: nothing to add).
    /// Fails if `bytes` is not a whole document that loads on its own.
    pub fn merge_foreign(
        &mut self,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<Option<Vec<u8>>, DocError> {
        let (theirs, _) = foreign_settings(bytes).ok_or(DocError::MissingDependencies(1))?;
        self.update(now, |ours| {
            for (id, product) in theirs.products {
                ours.products.entry(id).or_insert(product);
            }
            for (id, segment) in theirs.segments {
                ours.segments.entry(id).or_insert(segment);
            }
            for (id, field) in theirs.fields {
                ours.fields.entry(id).or_insert(field);
            }
            if ours.pipeline.is_empty() {
                ours.pipeline = theirs.pipeline;
            }
            if ours.default_country.is_empty() {
                ours.default_country = theirs.default_country;
            }
        })
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
        let field_errors =
            crate::model::custom_fields::check_definitions(&self.settings.fields, &edited.fields);
        if !field_errors.is_empty() {
            return Err(ValidationErrors(field_errors).into());
        }
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
            rebuilt: None,
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
    fn a_book_brought_into_a_team_adds_what_the_team_lacks_and_changes_nothing_it_has() {
        let mut team = BookSettings::default();
        team.products
            .insert("p1".into(), product("Grinder", 19_900));
        team.default_country = "DE".into();
        let mut mine = BookSettings::default();
        mine.products
            .insert("p1".into(), product("Grinder (mine)", 1));
        mine.products
            .insert("p2".into(), product("Espresso machine", 89_900));
        mine.pipeline = vec![PipelineStage {
            id: "s1".into(),
            name: "Met at a show".into(),
            probability: 10,
            outcome: StageOutcome::Open,
        }];
        mine.default_country = "FR".into();
        let merged = team.with_brought(&mine);
        assert_eq!(
            merged.products["p1"].name, "Grinder",
            "the team's own entry stays"
        );
        assert_eq!(merged.products["p2"].name, "Espresso machine");
        assert_eq!(
            merged.pipeline, mine.pipeline,
            "the team still had the default"
        );
        assert_eq!(merged.default_country, "DE");
        // A team with its own pipeline keeps it.
        let mut with_pipeline = team.clone();
        with_pipeline.pipeline = default_pipeline();
        assert_eq!(
            with_pipeline.with_brought(&mine).pipeline,
            default_pipeline()
        );
        // Nothing brought: nothing changes.
        assert_eq!(team.with_brought(&BookSettings::default()), team);
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
    fn the_skeleton_every_device_makes_is_frozen() {
        // The skeleton's changes as every build makes them (the second as since the
        // default country came). A field added to `BookSettings` must not change them
        // (`skeleton`); a new version is one more change.
        let mut book = BookDoc::new(ActorId::from([1u8; 16]));
        let changes: Vec<String> = (book.doc.get_changes(&[]).iter())
            .map(|change| change.hash().to_string())
            .collect();
        assert_eq!(
            changes,
            [
                "f84a53d5b9365eb694f378c58b9207f9ebe5f3de0c1f9a4f8406a00e0146f7c6",
                "c04995f93ae52875ae861877c830f5c45f28da9984ddc52b6429e5718f8c0760",
                "489a57186cec6e5829e4bf9277a38569f7dfa3c7c235469013ac0dbc64cb5855",
            ]
        );
        assert!(book.take_rebuilt().is_none());
    }

    /// A book as the build whose skeleton's second change had no `default_country` saved
    /// it, with a product and a country set on it by a device.
    fn book_of_the_earlier_skeleton() -> Vec<u8> {
        let mut doc =
            AutoCommit::new_with_encoding(TEXT_ENCODING).with_actor(ActorId::from([0u8; 16]));
        #[derive(Reconcile)]
        struct V1 {
            products: BTreeMap<String, Product>,
            pipeline: Vec<PipelineStage>,
        }
        #[derive(Reconcile)]
        struct V2 {
            products: BTreeMap<String, Product>,
            pipeline: Vec<PipelineStage>,
            segments: BTreeMap<String, crate::crm::segments::SavedSegment>,
        }
        let v1 = V1 {
            products: BTreeMap::new(),
            pipeline: vec![],
        };
        autosurgeon::reconcile(&mut doc, &v1).unwrap();
        commit(&mut doc, None, Timestamp(0));
        let v2 = V2 {
            products: BTreeMap::new(),
            pipeline: vec![],
            segments: BTreeMap::new(),
        };
        autosurgeon::reconcile(&mut doc, &v2).unwrap();
        commit(&mut doc, None, Timestamp(0));
        let mut doc = doc.with_actor(ActorId::from([9u8; 16]));
        let mut settings: BookSettings = autosurgeon::hydrate(&doc).unwrap();
        settings
            .products
            .insert("p-old".into(), product("Grinder", 19_900));
        settings.default_country = "AT".into();
        autosurgeon::reconcile(&mut doc, &settings).unwrap();
        commit(&mut doc, None, Timestamp(500));
        doc.save()
    }

    #[test]
    fn a_book_of_the_earlier_skeleton_is_carried_over_not_lost() {
        let old = book_of_the_earlier_skeleton();
        // Stored on a device before its app was updated: loads with its settings, and the
        // change that carried them over is there to be sent, once.
        let mut loaded = BookDoc::load(&old, ActorId::from([3u8; 16])).unwrap();
        assert_eq!(loaded.settings().products["p-old"].name, "Grinder");
        assert_eq!(loaded.settings().default_country, "AT");
        let rebuilt = loaded.take_rebuilt().expect("a change to send");
        assert!(loaded.take_rebuilt().is_none());
        // Another device takes that change in like any other.
        let mut tablet = BookDoc::new(ActorId::from([4u8; 16]));
        tablet.apply_remote(&rebuilt).unwrap();
        assert_eq!(tablet.settings(), loaded.settings());
        // A device that receives the old book itself (its snapshot, from the relay): it
        // cannot join the history, so what it lacks is added, its own settings kept.
        let mut phone = BookDoc::new(ActorId::from([5u8; 16]));
        phone
            .update(Timestamp(600), |s| {
                s.products.insert("p-new".into(), product("Scale", 4_900));
                s.default_country = "DE".into();
            })
            .unwrap();
        assert!(phone.apply_remote(&old).is_err());
        let merged = phone.merge_foreign(&old, Timestamp(700)).unwrap();
        assert!(merged.is_some());
        let products: Vec<&str> = (phone.settings().products.keys())
            .map(String::as_str)
            .collect();
        assert_eq!(products, ["p-new", "p-old"]);
        assert_eq!(phone.settings().default_country, "DE");
        assert_eq!(
            phone.merge_foreign(&old, Timestamp(800)).unwrap(),
            None,
            "nothing new the second time"
        );
        // A lone change cannot be merged that way.
        assert!(phone.merge_foreign(&rebuilt, Timestamp(900)).is_err());
    }

    #[test]
    fn fields_defined_on_two_devices_offline_are_both_kept() {
        use crate::model::custom_fields::{FieldDefinition, FieldKind};
        let mut phone = BookDoc::new(ActorId::from([1u8; 16]));
        let mut tablet = BookDoc::new(ActorId::from([2u8; 16]));
        let industry = FieldDefinition::new("Industry", FieldKind::Text, 1, Timestamp(10));
        let fleet = FieldDefinition::new("Fleet size", FieldKind::Number, 1, Timestamp(20));
        let from_phone = phone
            .update(Timestamp(10), |s| {
                s.fields.insert("f-phone".into(), industry.clone());
            })
            .unwrap()
            .unwrap();
        let from_tablet = tablet
            .update(Timestamp(20), |s| {
                s.fields.insert("f-tablet".into(), fleet.clone());
            })
            .unwrap()
            .unwrap();
        phone.apply_remote(&from_tablet).unwrap();
        tablet.apply_remote(&from_phone).unwrap();
        assert_eq!(phone.settings(), tablet.settings());
        assert_eq!(phone.settings().fields.len(), 2);
        // Renamed on one while the other archives it: both changes kept.
        let renamed = phone
            .update(Timestamp(30), |s| {
                s.fields.get_mut("f-tablet").unwrap().name = "Vehicles".into();
            })
            .unwrap()
            .unwrap();
        let archived = tablet
            .update(Timestamp(31), |s| {
                s.fields.get_mut("f-tablet").unwrap().archived = true;
            })
            .unwrap()
            .unwrap();
        phone.apply_remote(&archived).unwrap();
        tablet.apply_remote(&renamed).unwrap();
        assert_eq!(phone.settings(), tablet.settings());
        let field = &phone.settings().fields["f-tablet"];
        assert_eq!((field.name.as_str(), field.archived), ("Vehicles", true));
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
