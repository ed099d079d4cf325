//! The messages between a tab's screens (the page, `client/app`) and its engine (a dedicated
//! Web Worker, `client/engine`).
//!
//! # Why
//!
//! The screens hold no Automerge document, touch no IndexedDB and open no socket: they show
//! what the engine tells them and ask it for everything else. Parsing documents, merging a
//! 10,000-customer download, building an import's documents and every storage write happen
//! on the worker's thread, so the page's thread stays free for taps and typing.
//!
//! # Flow
//!
//! ```text
//! page (screens)                               engine (worker)
//!   Ask { id, Customer(c) }        ─────▶  load the document (cache, IndexedDB)
//!   ◀───── Answer { id, Ok(Customer { customer, version, conflicts }) }
//!   Ask { id, Update { c, version, after } } ─▶  write `after` against `version` (a fork
//!                                                if the document moved on), one transaction
//!   ◀───── Event(Committed { summaries, facts, by: Some(id) })   (every commit, from any
//!                                                tab or the relay; `by` names this page's
//!                                                own update)
//!   ◀───── Answer { id, Ok(Updated(…)) }           "Saved on this device" only now
//! ```
//!
//! A screen edits the customer it shows with the version it read, so an edit is one
//! request; the answer holds the customer as committed (with its conflicting fields), and
//! the commit's event says it was this request's, so no screen reads the customer again.
//!
//! A request carries an id, echoed by exactly one answer: a [`Reply`] or an [`EngineError`]
//! the screens can show. Events carry what every screen shows live: the book's summaries,
//! the catalog and pipeline, the sync state, the engine's part among the tabs. Messages are
//! postcard bytes posted as transferred `ArrayBuffer`s ([`encode`], [`decode`]).
//!
//! Customers travel as plain [`Customer`] values; an edit is sent as the whole edited
//! customer together with the [`Version`] it was made on, so the engine writes exactly what
//! the screen changed and keeps whatever arrived meanwhile.

use serde::{Deserialize, Serialize};

use crate::crm::kpi::{DashboardFigures, DashboardRequest};
use crate::crm::team_kpi::{TeamDashboardAnswer, TeamDashboardRequest};
use crate::documents::book_doc::BookSettings;
use crate::model::history::{RecentChange, SetAside};
use crate::sync::account::DeviceInfo;
use crate::sync::handover::MovedNotice;
use crate::sync::protocol::Upload;
use crate::sync::tab_protocol::{RequestId, SyncState};
use crate::sync::team::TeamCall;
#[cfg(doc)]
use crate::HistoryLine;
use crate::{
    Customer, CustomerId, CustomerSummary, FieldConflict, HistoryEntry, Timestamp,
    ValidationErrors, Version,
};

/// Page → engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToEngine {
    /// A request, answered once by [`FromEngine::Answer`] with the same id.
    Ask {
        /// Echoed by the answer.
        id: RequestId,
        /// The page's clock when it asked: the engine dates edits by the clock the rep sees.
        now: Timestamp,
        /// What to do.
        request: EngineRequest,
    },
    /// The browser went online or offline (a worker gets no such events).
    Online(bool),
    /// What book the page shows before its engine's word: the one `index.html` read from
    /// storage at this data version (`common::store::DATA_VERSION`, read in the same
    /// transaction), or `None`: no stored book, or one it could not show (a background
    /// book's engine is told `None` at once). Said once, first thing the page knows. An
    /// engine whose start read finds the same version answers [`EngineEvent::BookAsHeld`]
    /// instead of sending every summary again; one whose read ends first waits for this
    /// word before it sends its book.
    Holds {
        /// The data version the page's book was read at.
        data_version: Option<String>,
    },
}

/// What the screens ask their engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EngineRequest {
    /// A customer, the version read and its conflicting fields → [`Reply::Customer`].
    Customer(CustomerId),
    /// A customer's changes in words, newest first → [`Reply::History`].
    History(CustomerId),
    /// Changes made on other devices that reached this one since a moment, newest first →
    /// [`Reply::RecentChanges`].
    RecentChanges {
        /// From when.
        since: Timestamp,
    },
    /// Put an earlier value of a field back, as a new change → [`Reply::Updated`].
    PutBack {
        /// The customer.
        customer: CustomerId,
        /// The field, as [`HistoryLine::field`] names it.
        field: String,
        /// The value, as [`HistoryLine::value`] holds it.
        value: String,
    },
    /// Erase a customer's history: every device forgets its document and the relay empties
    /// its entries. With `keep_as`, the customer as it is now goes on under that new id as
    /// a document without history → [`Reply::Done`] once committed.
    Erase {
        /// The customer.
        customer: CustomerId,
        /// The id (made by the screen, like a new customer's) that keeps the customer as
        /// it is now; `None` erases the customer completely.
        keep_as: Option<CustomerId>,
    },
    /// Customers erased on another device while this one had unsent changes to them, as
    /// this device had them → [`Reply::SetAside`].
    SetAside,
    /// The rep has dealt with a set-aside customer (downloaded or discarded it) →
    /// [`Reply::Done`].
    DismissSetAside {
        /// [`SetAside::key`].
        key: u64,
    },
    /// A new customer → [`Reply::Customer`] once committed.
    Create(Box<Customer>),
    /// The customer as the screen edited it from `version` → [`Reply::Updated`].
    Update {
        /// The version the screen read.
        version: Version,
        /// The whole customer after the edit.
        after: Box<Customer>,
    },
    /// Keep value `op` of the conflicting `field` → [`Reply::Updated`].
    ResolveConflict {
        /// The customer.
        customer: CustomerId,
        /// The field, as [`FieldConflict::field`] names it.
        field: String,
        /// The value kept.
        op: String,
    },
    /// The catalog, pipeline and segments as the screen edited them from `version` →
    /// [`Reply::Done`].
    UpdateBook {
        /// The version of the book document the screen read.
        version: Version,
        /// The whole settings after the edit.
        after: Box<BookSettings>,
    },
    /// New customers (an import, sample data), written `batch_size` per transaction →
    /// [`Reply::Count`], with [`FromEngine::Progress`] meanwhile.
    CreateMany {
        /// The customers, validated one by one by the engine.
        customers: Vec<Customer>,
        /// Customers per transaction.
        batch_size: usize,
        /// More customers of the same import follow in another request: the engine
        /// writes the list's snapshot only after the last (each request's own would encode
        /// every summary stored so far again).
        more_follow: bool,
        /// Continues the request before (the page keeps two in flight): not written if
        /// that one was not, so what is stored is always a prefix of the import.
        continues: bool,
    },
    /// Changes from an export or backup file, merged and queued → [`Reply::Count`] (the
    /// customers touched).
    ImportChanges(Vec<Upload>),
    /// Every document whole, for a backup file → [`Reply::Uploads`].
    Backup,
    /// This device's changes the relay has not acknowledged → [`Reply::Uploads`].
    Unsynced,
    /// Read every customer's dashboard facts into the engine's memory → [`Reply::Done`],
    /// with progress while missing facts are made from documents (a dashboard about to open).
    Facts,
    /// A dashboard's figures over the facts in the engine's memory (read first if needed,
    /// with progress) → [`Reply::Dashboard`]. Only the figures cross, never the facts.
    Dashboard(Box<DashboardRequest>),
    /// The customers behind one of a dashboard's figures (`key`, see
    /// [`DashboardFigures::customers_behind`]), computed as for [`EngineRequest::Dashboard`]
    /// → [`Reply::DashboardCustomers`]: the lists behind the figures stay in the engine.
    DashboardCustomers {
        /// The dashboard asked for.
        request: Box<DashboardRequest>,
        /// The figure tapped.
        key: String,
    },
    /// Sign up (`create`) or in, and start syncing → [`Reply::Done`].
    SignIn {
        /// A new account.
        create: bool,
        /// The account's email.
        email: String,
        /// Its password (sent to the relay only).
        password: String,
        /// This device's name, shown in the device list and in history.
        device_name: String,
    },
    /// Sign this device out; unless `discard_unsent`, a book with unsent changes is held.
    SignOut {
        /// Remove the book even if some of its changes were never backed up.
        discard_unsent: bool,
    },
    /// The account's devices → [`Reply::Devices`].
    Devices,
    /// Revoke another device of the account → [`Reply::Done`].
    Revoke(String),
    /// A call of the relay's team API with this device's token → [`Reply::Json`] (the
    /// type each [`TeamCall`] names).
    Team(TeamCall),
    /// What the rep has not dismissed of customers that moved to another territory →
    /// [`Reply::Moved`].
    MovedNotice,
    /// The rep read the notice of moved customers → [`Reply::Done`].
    DismissMoved,
    /// The team dashboard over territories stored on this device (their own engines keep
    /// them in sync) → [`Reply::TeamDashboard`].
    TeamDashboard(Box<TeamDashboardRequest>),
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// Done.
    Done,
    /// A customer as stored, with its version.
    Customer(Box<VersionedCustomer>),
    /// The customer after an edit, or `None` when the edit changed nothing.
    Updated(Option<Box<VersionedCustomer>>),
    /// A customer's history, newest first.
    History(Vec<HistoryEntry>),
    /// Changes from other devices, newest arrival first.
    RecentChanges(Vec<RecentChange>),
    /// Customers set aside because another device erased them.
    SetAside(Vec<SetAside>),
    /// How many customers were written or touched.
    Count(usize),
    /// Changes for a file.
    Uploads(Vec<Upload>),
    /// A dashboard's figures.
    Dashboard(Box<DashboardFigures>),
    /// The customers behind a dashboard's figure, with its title; `None` when the figure does
    /// not exist (any more).
    DashboardCustomers(Option<(String, Vec<CustomerId>)>),
    /// The account's devices.
    Devices(Vec<DeviceInfo>),
    /// The relay's JSON answer (`null` when it had nothing to say).
    Json(String),
    /// Customers moved to another territory, not dismissed yet.
    Moved(MovedNotice),
    /// The team dashboard's figures, or "unchanged".
    TeamDashboard(Box<TeamDashboardAnswer>),
}

/// A customer and the version of its document it was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionedCustomer {
    /// The customer.
    pub customer: Customer,
    /// The version, sent back with an edit.
    pub version: Version,
    /// Its fields written concurrently on several devices (the screen offers to choose).
    pub conflicts: Vec<FieldConflict>,
}

/// Why a request failed, for the screens to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum EngineError {
    /// The edit breaks validation rules; nothing was stored.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The customer is not on this device.
    #[error("this customer is not on this device")]
    NotFound,
    /// The relay refused an account request: a sentence, and messages per form field.
    #[error("{message}")]
    Api {
        /// What went wrong.
        message: String,
        /// Field → message.
        fields: Vec<(String, String)>,
    },
    /// Anything else, as a sentence for the rep ("not saved: …").
    #[error("{0}")]
    Failed(String),
}

/// Engine → its document maker: new customers whose documents to make, as the engine
/// itself makes them (checked against the book's `fields`, then
/// `CustomerDoc::create_snapshot`).
///
/// The maker is a second instance of the engine's wasm, in a worker the engine starts for a
/// large create (an import, sample data; `client/engine/src/maker.rs`): it makes part of
/// each batch's documents on another core while the engine makes the rest, and holds
/// nothing between requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MakeDocuments {
    /// Echoed by the answer.
    pub id: u64,
    /// The customers, in order.
    pub customers: Vec<Customer>,
    /// The Automerge actor the documents are made by (the device's, or this tab's).
    pub actor: Vec<u8>,
    /// Who the history names.
    pub author: Option<String>,
    /// When, on the page's clock.
    pub now: Timestamp,
    /// The book's custom fields, which the customers' values are checked against.
    pub fields: std::collections::BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
}

/// The maker's answer to [`MakeDocuments`]: every customer's document, in order, or why the
/// first that could not be made could not (then none is used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MadeDocuments {
    /// The request answered.
    pub id: u64,
    /// The documents, or why not.
    pub made: Result<Vec<MadeDocument>, EngineError>,
}

/// A new customer's document as stored and listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MadeDocument {
    /// The document's bytes (an Automerge save).
    pub snapshot: Vec<u8>,
    /// Its line in the list.
    pub summary: CustomerSummary,
    /// Its dashboard facts.
    pub facts: crate::model::facts::CustomerFacts,
}

/// Engine → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromEngine {
    /// The answer to the request `id`.
    Answer {
        /// The request answered.
        id: RequestId,
        /// What it gave, or why not.
        result: Result<Reply, EngineError>,
    },
    /// How far a long request got.
    Progress {
        /// The request.
        id: RequestId,
        /// Done so far.
        done: usize,
        /// Out of.
        total: usize,
    },
    /// Something the screens show live.
    Event(EngineEvent),
}

/// What the engine tells its screens without being asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EngineEvent {
    /// The part this tab's engine plays among the tabs of the profile.
    Role(EngineRole),
    /// The whole book as stored (at start, and after another tab's engine took over).
    Book(Vec<CustomerSummary>),
    /// The book as stored is the one the page said it holds ([`ToEngine::Holds`]): the same
    /// data version. What [`EngineEvent::Book`] would have said, without the summaries.
    BookAsHeld,
    /// The device storage cannot be used; a sentence for the rep.
    LoadFailed(String),
    /// The catalog, pipeline and segments, and the version they were read at.
    Settings {
        /// The settings.
        settings: Box<BookSettings>,
        /// Sent back with an edit.
        version: Version,
    },
    /// Changes were committed (from any tab, the relay or an import).
    Committed {
        /// The new summaries of the customers changed (a large commit, such as a download's
        /// page, comes as several events, so the page handles it in short tasks).
        summaries: Vec<CustomerSummary>,
        /// Whether their dashboard facts changed (the facts stay in the engine, which
        /// computes the dashboards).
        facts_changed: bool,
        /// The page's [`EngineRequest::Update`] that made this commit, when this engine
        /// wrote it: its answer follows and holds the customer as committed, so the
        /// screens need not read it again. `None` for every other commit (another tab's,
        /// the relay's, an import's, and a follower tab's own, stored by the writer).
        by: Option<RequestId>,
    },
    /// Every customer was removed from this device (sign-out, revocation).
    Wiped,
    /// These customers were erased (here, in another tab or on another device) and are no
    /// longer on this device.
    Erased {
        /// The customers.
        ids: Vec<CustomerId>,
        /// Whether unsent changes of some of them were set aside ([`EngineRequest::SetAside`]).
        set_aside: bool,
    },
    /// The sync state, whenever it changes.
    Sync(Box<SyncState>),
    /// These customers moved to another territory of the team and are no longer on this
    /// device; `notice` is what the rep has not dismissed yet, these included.
    Moved {
        /// The customers.
        ids: Vec<CustomerId>,
        /// The notice, all moves since the rep last dismissed it; `None`: unchanged (none
        /// of these customers was listed here, e.g. a new device's download).
        notice: Option<MovedNotice>,
    },
}

/// The part a tab's engine plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EngineRole {
    /// It writes IndexedDB and syncs for every tab of the profile.
    Writer,
    /// Another tab's engine writes; this one asks it.
    Follower,
    /// The browser has no Web Locks: nothing is written.
    Unsupported,
}

/// What the rep reads when the browser cannot coordinate tabs (no Web Locks), so nothing is
/// written rather than letting two tabs overwrite each other.
pub const UNSUPPORTED: &str = "This browser cannot coordinate several Fieldbook tabs (no Web \
     Locks), so Fieldbook does not store changes here. Update the browser or use Chrome, \
     Safari 15.4+ or Firefox.";

/// A fingerprint of the source of every type that crosses between a page, its engine and
/// the other tabs' engines. Postcard carries no type information, so bytes written by another
/// build (a deploy between the download of the page's wasm and the engine's, a tab left open
/// across an update) could be read as different values; every message therefore starts with
/// this fingerprint and a message of another build is refused, never misread.
pub const WIRE_FINGERPRINT: u64 = crate::model::snapshot::fingerprint(&[
    include_bytes!("engine_protocol.rs"),
    include_bytes!("tab_protocol.rs"),
    include_bytes!("account.rs"),
    include_bytes!("protocol.rs"),
    include_bytes!("client.rs"),
    include_bytes!("../model/customer.rs"),
    include_bytes!("../model/customer_id.rs"),
    include_bytes!("../model/records.rs"),
    include_bytes!("../model/summary.rs"),
    include_bytes!("../model/facts.rs"),
    include_bytes!("../model/timestamp.rs"),
    include_bytes!("../model/validation.rs"),
    include_bytes!("../documents/book_doc.rs"),
    include_bytes!("../documents/conflicts.rs"),
    include_bytes!("../model/history.rs"),
    include_bytes!("../documents/customer_doc.rs"),
    include_bytes!("../crm/segments.rs"),
    include_bytes!("../crm/kpi.rs"),
    include_bytes!("../crm/team_kpi.rs"),
    include_bytes!("team.rs"),
    include_bytes!("hub.rs"),
]);

/// What the rep reads when this page and its engine come from two builds.
pub const OTHER_BUILD: &str = "Fieldbook was updated while this page was loading. Reload \
     to continue; everything saved on this device is kept.";

/// A message as bytes: [`WIRE_FINGERPRINT`], then the message.
pub fn encode<M: Serialize>(message: &M) -> Vec<u8> {
    let mut bytes = WIRE_FINGERPRINT.to_le_bytes().to_vec();
    bytes.extend(crate::sync::protocol::encode(message));
    bytes
}

/// Why a message was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Written by another build of Fieldbook (see [`WIRE_FINGERPRINT`]).
    #[error("a message from another build of Fieldbook")]
    OtherBuild,
    /// Not a message of this build's types.
    #[error("unreadable message: {0}")]
    Malformed(String),
}

/// The message in `bytes`; trailing bytes are an error. No size limit: it never leaves the
/// browser.
pub fn decode<'de, M: Deserialize<'de>>(bytes: &'de [u8]) -> Result<M, WireError> {
    let Some((fingerprint, message)) = bytes.split_first_chunk::<8>() else {
        return Err(WireError::OtherBuild);
    };
    if u64::from_le_bytes(*fingerprint) != WIRE_FINGERPRINT {
        return Err(WireError::OtherBuild);
    }
    crate::sync::protocol::decode_unbounded(message)
        .map_err(|err| WireError::Malformed(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::customer;
    use crate::sync::protocol::{BlobKind, DocumentId, Seq};
    use crate::{CustomerDoc, FieldError};

    fn round_trip<M: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug>(
        message: M,
    ) {
        let bytes = encode(&message);
        assert_eq!(decode::<M>(&bytes), Ok(message));
    }

    /// A dashboard's figures cross as counts (`kpi::Members`): read back, they are what was
    /// sent (encoding them again gives the same bytes), with every count the engine had.
    #[test]
    fn a_dashboards_figures_cross_as_their_counts() {
        let now = Timestamp(1_700_000_000_000);
        let facts: Vec<crate::model::facts::CustomerFacts> = (0..20)
            .map(|n| crate::model::facts::CustomerFacts::of(&customer(7, n, now)))
            .collect();
        let request = DashboardRequest {
            period: crate::crm::kpi::Period::containing(
                crate::crm::kpi::PeriodKind::Year,
                crate::CalendarDate {
                    year: 2023,
                    month: 11,
                    day: 1,
                },
            ),
            today: crate::CalendarDate {
                year: 2023,
                month: 11,
                day: 14,
            },
            utc_offset_ms: 0,
            not_contacted_days: 30,
            scope: None,
            default_currency: "EUR".into(),
        };
        let reply: Result<Reply, EngineError> = Ok(Reply::Dashboard(Box::new(
            crate::crm::kpi::dashboard(&facts, &request, &[]),
        )));
        let bytes = encode(&reply);
        let sent: Result<Reply, EngineError> = decode(&bytes).unwrap();
        assert_eq!(encode(&sent), bytes);
        let (Ok(Reply::Dashboard(had)), Ok(Reply::Dashboard(got))) = (&reply, &sent) else {
            panic!("a dashboard's figures")
        };
        assert_eq!(got.current.customers.len(), had.current.customers.len());
        assert!(had.current.customers.len() > 10);
        assert_eq!(got.current.period, had.current.period);
        assert!(got.ids.is_empty() && !had.ids.is_empty());
    }

    #[test]
    fn every_message_round_trips() {
        let now = Timestamp(1_700_000_000_000);
        let mut customer = customer(7, 1, now);
        customer.set_notes("Zoë: «Œuvre» — 東京\nsecond line");
        let mut doc =
            CustomerDoc::create(customer.clone(), automerge::ActorId::from([1u8; 16]), now)
                .expect("a seeded customer is valid");
        let today = crate::CalendarDate {
            year: 2026,
            month: 11,
            day: 30,
        };
        let dashboard_request = DashboardRequest {
            period: crate::crm::kpi::Period::containing(
                crate::crm::kpi::PeriodKind::Quarter,
                today,
            ),
            today,
            utc_offset_ms: 3_600_000,
            not_contacted_days: 30,
            scope: Some(vec![customer.id.clone()]),
            default_currency: "EUR".into(),
        };
        let versioned = VersionedCustomer {
            customer: doc.customer().clone(),
            version: doc.version(),
            conflicts: vec![FieldConflict {
                field: "job_title".into(),
                label: "Job title".into(),
                values: vec![crate::documents::conflicts::ConflictValue {
                    display: "Buyer".into(),
                    author: Some("Ana".into()),
                    this_device: true,
                    time: now,
                    kept: true,
                    op: "2@ab".into(),
                }],
            }],
        };
        for request in [
            EngineRequest::Customer(customer.id.clone()),
            EngineRequest::Create(Box::new(customer.clone())),
            EngineRequest::Update {
                version: doc.version(),
                after: Box::new(customer.clone()),
            },
            EngineRequest::UpdateBook {
                version: Version::default(),
                after: Box::default(),
            },
            EngineRequest::CreateMany {
                customers: vec![customer.clone(), customer.clone()],
                batch_size: 500,
                more_follow: true,
                continues: true,
            },
            EngineRequest::ImportChanges(vec![Upload {
                document: DocumentId(customer.id.to_string()),
                kind: BlobKind::Snapshot { covers: Seq(3) },
                bytes: vec![1, 2, 3],
            }]),
            EngineRequest::SignIn {
                create: true,
                email: "a@b.test".into(),
                password: "pw".into(),
                device_name: "Phone".into(),
            },
            EngineRequest::SignOut {
                discard_unsent: false,
            },
            EngineRequest::Revoke("d1".into()),
            EngineRequest::Facts,
            EngineRequest::Dashboard(Box::new(dashboard_request.clone())),
            EngineRequest::DashboardCustomers {
                request: Box::new(dashboard_request.clone()),
                key: "leads-tag-Salon Lyon".into(),
            },
            EngineRequest::TeamDashboard(Box::new(TeamDashboardRequest {
                request: dashboard_request.clone(),
                territories: vec![crate::sync::team::TeamBook {
                    team: "t1".into(),
                    team_name: "Acme".into(),
                    territory: "s2".into(),
                    territory_name: "North".into(),
                    shared: "s1".into(),
                    role: crate::sync::team::Role::Manager,
                    access: crate::sync::team::SpaceAccess::ReadWrite,
                    me: "max@example.com".into(),
                }],
                known: Some(crate::crm::team_kpi::TeamDashboardKey {
                    build: WIRE_FINGERPRINT,
                    request: dashboard_request.clone(),
                    versions: vec![("fieldbook-s2".into(), "00ff".into())],
                }),
            })),
        ] {
            round_trip(ToEngine::Ask {
                id: RequestId(4),
                now,
                request,
            });
        }
        round_trip(ToEngine::Online(false));
        round_trip(ToEngine::Holds {
            data_version: Some("00ff00ff00ff00ff".into()),
        });
        round_trip(ToEngine::Holds { data_version: None });
        for result in [
            Ok(Reply::Customer(Box::new(versioned.clone()))),
            Ok(Reply::Updated(None)),
            Ok(Reply::Updated(Some(Box::new(versioned)))),
            Ok(Reply::Count(3)),
            Ok(Reply::DashboardCustomers(Some((
                "Churned during the period".into(),
                vec![customer.id.clone()],
            )))),
            Ok(Reply::DashboardCustomers(None)),
            Ok(Reply::TeamDashboard(Box::new(
                TeamDashboardAnswer::Computed {
                    figures: Box::new(crate::crm::team_kpi::team_figures(
                        &[crate::crm::team_kpi::TerritoryFacts {
                            name: "North".into(),
                            facts: vec![doc.facts()],
                            owners: vec!["max@example.com".into()],
                        }],
                        &dashboard_request,
                        &[],
                    )),
                    key: None,
                },
            ))),
            Ok(Reply::TeamDashboard(Box::new(
                TeamDashboardAnswer::Unchanged,
            ))),
            Err(EngineError::Invalid(ValidationErrors(vec![FieldError {
                field: "email".into(),
                message: "not an email".into(),
            }]))),
            Err(EngineError::NotFound),
            Err(EngineError::Api {
                message: "Wrong email or password.".into(),
                fields: vec![("email".into(), "taken".into())],
            }),
            Err(EngineError::Failed("not saved: disk full".into())),
        ] {
            round_trip(FromEngine::Answer {
                id: RequestId(9),
                result,
            });
        }
        round_trip(FromEngine::Event(EngineEvent::Committed {
            summaries: vec![doc.summary()],
            facts_changed: true,
            by: None,
        }));
        round_trip(FromEngine::Event(EngineEvent::Committed {
            summaries: vec![doc.summary()],
            facts_changed: false,
            by: Some(RequestId(9)),
        }));
        round_trip(FromEngine::Event(EngineEvent::Role(EngineRole::Follower)));
        round_trip(FromEngine::Event(EngineEvent::BookAsHeld));
        round_trip(MakeDocuments {
            id: 3,
            customers: vec![customer.clone()],
            actor: vec![1; 16],
            author: Some("Ana".into()),
            now,
            fields: Default::default(),
        });
        let (snapshot, summary, facts) = CustomerDoc::create_snapshot(
            customer.clone(),
            automerge::ActorId::from([1u8; 16]),
            Some("Ana"),
            now,
        )
        .expect("a seeded customer is valid");
        round_trip(MadeDocuments {
            id: 3,
            made: Ok(vec![MadeDocument {
                snapshot,
                summary,
                facts,
            }]),
        });
        round_trip(MadeDocuments {
            id: 4,
            made: Err(EngineError::Failed("not made".into())),
        });
    }

    #[test]
    fn notes_cross_as_text_and_keep_every_character() {
        let now = Timestamp(1_700_000_000_000);
        let mut customer = customer(3, 1, now);
        customer.set_notes("Łukasz\r\nnaïve 🚚");
        let bytes = encode(&customer);
        let back: Customer = decode(&bytes).expect("decodes");
        assert_eq!(back.notes.as_str(), "Łukasz\r\nnaïve 🚚");
    }

    #[test]
    fn garbage_and_trailing_bytes_are_refused() {
        assert_eq!(
            decode::<ToEngine>(&[0xff, 0xff, 0xff]),
            Err(WireError::OtherBuild)
        );
        let mut bytes = encode(&ToEngine::Online(true));
        bytes.push(0);
        assert!(matches!(
            decode::<ToEngine>(&bytes),
            Err(WireError::Malformed(_))
        ));
        let mut garbage = WIRE_FINGERPRINT.to_le_bytes().to_vec();
        garbage.extend([0xff, 0xff, 0xff]);
        assert!(matches!(
            decode::<ToEngine>(&garbage),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn a_message_of_another_build_is_refused_not_misread() {
        let mut bytes = encode(&ToEngine::Online(true));
        bytes[0] ^= 1;
        assert_eq!(decode::<ToEngine>(&bytes), Err(WireError::OtherBuild));
        // The same bytes without the fingerprint would have read as a message.
        assert_eq!(
            crate::sync::protocol::decode_unbounded::<ToEngine>(&bytes[8..]),
            Ok(ToEngine::Online(true))
        );
    }
}

#[cfg(test)]
mod maker_tests {
    use super::*;
    use crate::CustomerDoc;

    #[test]
    fn a_customer_sent_to_the_maker_makes_the_same_document() {
        let now = Timestamp(1_700_000_000_000);
        for seed in 0..50 {
            let customer = crate::seed::customer(seed, 3, now);
            let sent: Customer = decode(&encode(&customer)).expect("decodes");
            assert_eq!(sent, customer);
            let actor = automerge::ActorId::from([7u8; 16]);
            let here = CustomerDoc::create_snapshot(customer, actor.clone(), Some("Ana"), now)
                .expect("valid");
            let there = CustomerDoc::create_snapshot(sent, actor, Some("Ana"), now).expect("valid");
            assert_eq!(here, there, "seed {seed}");
        }
    }
}
