//! Which book this tab works in: the account's own, or one territory of a team
//! (`shared::sync::team::TeamBook`). Kept in `localStorage` (`fieldbook-book`), read by
//! `index.html` before anything else (the early read opens that book's database) and given
//! to the engine worker as its name; switching books reloads the tab into the other one.
//! Books opened on this device are remembered (`fieldbook-books`) for the switcher.

use shared::sync::team::TeamBook;

const CURRENT: &str = "fieldbook-book";
const KNOWN: &str = "fieldbook-books";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The team book this tab works in (`None`: the account's own book).
pub fn current() -> Option<TeamBook> {
    let json = storage()?.get_item(CURRENT).ok().flatten()?;
    serde_json::from_str(&json).ok()
}

/// Team books opened on this device, most recent first.
pub fn known() -> Vec<TeamBook> {
    storage()
        .and_then(|storage| storage.get_item(KNOWN).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// The name the engine worker is started with: the book it opens.
pub fn worker_name() -> String {
    storage()
        .and_then(|storage| storage.get_item(CURRENT).ok().flatten())
        .unwrap_or_default()
}

/// Switches this tab to `book` (`None`: the account's own) and reloads into it.
pub fn open(book: Option<TeamBook>) {
    open_at(book, "/");
}

/// Switches this tab to `book` and reloads into it at `path`.
pub fn open_at(book: Option<TeamBook>, path: &str) {
    let Some(storage) = storage() else {
        return;
    };
    match &book {
        Some(book) => {
            remember(book, true);
            if let Ok(json) = serde_json::to_string(book) {
                let _ = storage.set_item(CURRENT, &json);
            }
        }
        None => {
            let _ = storage.remove_item(CURRENT);
        }
    }
    let _ = window_location_assign(path);
}

/// Adds `book` to the books of this device (kept in sync, offered by the switcher), first
/// if `first`, else where it was (last if new); its details replace the ones remembered.
pub fn remember(book: &TeamBook, first: bool) {
    let Some(storage) = storage() else {
        return;
    };
    let mut books = known();
    match books
        .iter()
        .position(|known| known.territory == book.territory)
    {
        Some(at) if !first => books[at] = book.clone(),
        Some(at) => {
            books.remove(at);
            books.insert(0, book.clone());
        }
        None if first => books.insert(0, book.clone()),
        None => books.push(book.clone()),
    }
    if let Ok(json) = serde_json::to_string(&books) {
        let _ = storage.set_item(KNOWN, &json);
    }
}

/// Where quick capture remembers the book leads go to: a territory's space, or empty for
/// the account's own book.
const CAPTURE: &str = "fieldbook-capture-book";

/// The book the rep chose for leads on this device: `None` if she never chose, else the
/// territory (`Some(None)`: her own book).
pub fn capture_book() -> Option<Option<String>> {
    let chosen = storage()?.get_item(CAPTURE).ok().flatten()?;
    Some((!chosen.is_empty()).then_some(chosen))
}

/// Remembers the book leads go to (`None`: her own).
pub fn remember_capture_book(territory: Option<&str>) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(CAPTURE, territory.unwrap_or_default());
    }
}

/// Forgets a team book on this device (its copy was removed: the member no longer belongs
/// to the territory, see [`crate::other_books`]).
pub fn forget(territory: &str) {
    let Some(storage) = storage() else {
        return;
    };
    let mut books = known();
    books.retain(|known| known.territory != territory);
    if let Ok(json) = serde_json::to_string(&books) {
        let _ = storage.set_item(KNOWN, &json);
    }
    // Figures that counted it go with it (the device no longer holds what they summed).
    // Read as JSON values: the figures' own types stay out of the page's first wasm.
    let Some((owner, mut entries)) = read_team_figures::<serde_json::Value>() else {
        return;
    };
    let database = format!("fieldbook-{territory}");
    entries.retain(|entry| {
        let versions = entry.pointer("/key/versions").and_then(|v| v.as_array());
        !(versions.into_iter().flatten()).any(|version| version[0] == database.as_str())
    });
    store_team_figures(&(owner, entries));
}

/// Where the team dashboard's last figures are kept: the account's, one entry per team and
/// period kind, each with what it was computed from.
const TEAM_FIGURES: &str = "fieldbook-team-figures";
/// Most entries kept.
const TEAM_FIGURES_KEPT: usize = 12;

/// Team dashboard figures as computed, and from what.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KeptTeamFigures {
    /// The team.
    pub team: String,
    /// The period's kind.
    pub kind: shared::crm::kpi::PeriodKind,
    /// What they were computed from.
    pub key: shared::crm::team_kpi::TeamDashboardKey,
    /// The figures.
    pub figures: shared::crm::team_kpi::TeamFigures,
}

/// The kept figures as stored: the account's email and its entries, each read as `T` (whole,
/// or only what the reader needs of it).
fn read_team_figures<T: serde::de::DeserializeOwned>() -> Option<(String, Vec<T>)> {
    storage()
        .and_then(|storage| storage.get_item(TEAM_FIGURES).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
}

fn all_team_figures() -> (String, Vec<KeptTeamFigures>) {
    read_team_figures().unwrap_or_default()
}

fn store_team_figures<T: serde::Serialize>(figures: &(String, Vec<T>)) {
    if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(figures)) {
        let _ = storage.set_item(TEAM_FIGURES, &json);
    }
}

/// What kept figures were computed from, alone (their figures are not read): the page's
/// first wasm asks the team dashboard ahead with it (`team_dashboard::ask_ahead`) without
/// holding the figures' types.
#[derive(serde::Deserialize)]
struct KeptKey {
    team: String,
    kind: shared::crm::kpi::PeriodKind,
    key: shared::crm::team_kpi::TeamDashboardKey,
}

/// What the team dashboard's figures last computed on this device for the account `email`,
/// `team` and a period of `kind` were computed from (see [`kept_team_figures`]).
pub fn kept_team_key(
    email: &str,
    team: &str,
    kind: shared::crm::kpi::PeriodKind,
) -> Option<shared::crm::team_kpi::TeamDashboardKey> {
    let (owner, entries) = read_team_figures::<KeptKey>()?;
    (owner == email)
        .then(|| entries.into_iter())?
        .find(|entry| entry.team == team && entry.kind == kind)
        .map(|entry| entry.key)
}

/// The team dashboard's figures last computed on this device for the account `email`,
/// `team` and a period of `kind` (another account's are never returned). The engine says
/// whether they still hold.
pub fn kept_team_figures(
    email: &str,
    team: &str,
    kind: shared::crm::kpi::PeriodKind,
) -> Option<KeptTeamFigures> {
    let (owner, entries) = all_team_figures();
    if owner != email {
        return None;
    }
    entries
        .into_iter()
        .find(|entry| entry.team == team && entry.kind == kind)
}

/// Keeps figures just computed (replacing the team's of the same period kind).
pub fn keep_team_figures(email: &str, kept: KeptTeamFigures) {
    let (owner, mut entries) = all_team_figures();
    if owner != email {
        entries.clear();
    }
    entries.retain(|entry| !(entry.team == kept.team && entry.kind == kept.kind));
    entries.insert(0, kept);
    entries.truncate(TEAM_FIGURES_KEPT);
    store_team_figures(&(email.to_string(), entries));
}

/// The owner of a customer added in this tab: the member herself in a team book (her
/// email, so "My customers" finds it on every device), "Me" in her own book.
pub fn new_owner() -> String {
    current()
        .map(|book| book.me)
        .filter(|me| !me.is_empty())
        .unwrap_or_else(|| "Me".to_string())
}

/// Where the account's teams as last listed by the relay are kept (the team screens and the
/// team dashboard work offline with them).
const TEAMS: &str = "fieldbook-teams";

thread_local! {
    /// Changes each time the teams are listed anew (not owned by any screen).
    static TEAMS_SEEN: leptos::prelude::ArcRwSignal<u64> = leptos::prelude::ArcRwSignal::new(0);
}

/// Remembers the teams of the account `email` as the relay listed them.
pub fn cache_teams(email: &str, teams: &[shared::sync::team::TeamInfo]) {
    if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(&(email, teams))) {
        let _ = storage.set_item(TEAMS, &json);
    }
    TEAMS_SEEN.with(|seen| leptos::prelude::Update::update(seen, |n| *n += 1));
}

/// Tracks the teams as last listed: what reads [`cached_teams`] in a reactive context is
/// computed again when they are listed anew.
pub fn track_teams() {
    TEAMS_SEEN.with(leptos::prelude::Track::track);
}

/// The teams of the account `email` as last listed on this device (another account's are
/// never shown).
pub fn cached_teams(email: &str) -> Option<Vec<shared::sync::team::TeamInfo>> {
    let json = storage()?.get_item(TEAMS).ok().flatten()?;
    let (owner, teams): (String, Vec<shared::sync::team::TeamInfo>) =
        serde_json::from_str(&json).ok()?;
    (owner == email).then_some(teams)
}

fn members_key(team: &str) -> String {
    format!("fieldbook-members-{team}")
}

/// Remembers a team's members' emails (the owner picker works offline with the last list).
pub fn cache_members(team: &str, emails: &[String]) {
    if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(emails)) {
        let _ = storage.set_item(&members_key(team), &json);
    }
}

/// A team's members' emails as last seen on this device.
pub fn members(team: &str) -> Vec<String> {
    storage()
        .and_then(|storage| storage.get_item(&members_key(team)).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// The team book's members' emails, live: the list this device last saw, replaced when the
/// relay answers (`routes::team::MembersRefresher`). Provided by the app.
#[derive(Clone, Copy)]
pub struct TeamMembers(pub leptos::prelude::RwSignal<Vec<String>>);

impl TeamMembers {
    /// The last list seen for this tab's team book (empty in the own book).
    pub fn new() -> TeamMembers {
        TeamMembers(leptos::prelude::RwSignal::new(
            current()
                .map(|book| members(&book.team))
                .unwrap_or_default(),
        ))
    }
}

impl Default for TeamMembers {
    fn default() -> Self {
        TeamMembers::new()
    }
}

fn window_location_assign(path: &str) -> Option<()> {
    web_sys::window()?.location().assign(path).ok()
}
