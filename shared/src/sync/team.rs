//! Teams: one customer base shared by a sales team (issue 21), as the relay enforces it.
//!
//! A team owns several spaces: one *shared* space (the team's catalog, pipeline and saved
//! segments: the book document) and one space per *territory* (its customers). Splitting
//! customers by territory into separate logs is the confidentiality rule: a device
//! downloads only the spaces its account may read, so what it never receives it cannot
//! leak. Every member has one [`Role`]; [`team_access`] says what a role may do with each of
//! the team's spaces, and the relay's session refuses a push to a space it may only read
//! ([`crate::sync::protocol::ErrorCode::ReadOnly`]).
//!
//! Invites are a random link secret (in the URL's fragment, never sent to a server in a
//! request line) and a short code that can be read aloud at a stand ([`invite_code`]); the
//! relay stores only their hashes. Both expire, have a number of uses and can be revoked
//! until used up.
//!
//! This module is plain data and rules (no IO): the relay's stores and HTTP API and the app
//! both read it.

use serde::{Deserialize, Serialize};

/// What a member may do in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Members, roles, invites and territories; everything a manager does.
    Admin,
    /// Sees and edits every territory, reassigns customers, sees the team dashboard.
    Manager,
    /// Sees and edits the customers of the territories she belongs to.
    Rep,
    /// Reads the territories she belongs to; cannot write.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Rep, Role::Viewer];

    /// The name stored and sent (`admin`, `manager`, `rep`, `viewer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rep => "rep",
            Role::Viewer => "viewer",
        }
    }

    /// The role named `name` (as [`Role::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Whether the role manages members, roles, invites and territories.
    pub fn manages_team(self) -> bool {
        self == Role::Admin
    }

    /// Whether the role sees every territory of the team, whatever its assignments.
    pub fn sees_every_territory(self) -> bool {
        matches!(self, Role::Admin | Role::Manager)
    }
}

/// Which of a team's spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamSpaceKind {
    /// The catalog, pipeline and saved segments every member shares.
    Shared,
    /// One territory's customers.
    Territory,
}

/// What a session may do with a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceAccess {
    /// Pull and push.
    ReadWrite,
    /// Pull only; pushes are refused.
    ReadOnly,
}

/// What a member of `role` may do with a team space of `kind`; `assigned` says whether she
/// belongs to the territory (ignored for the shared space). `None`: nothing at all — the
/// space is not sent to her devices.
pub fn team_access(role: Role, kind: TeamSpaceKind, assigned: bool) -> Option<SpaceAccess> {
    match (kind, role) {
        (_, Role::Admin | Role::Manager) => Some(SpaceAccess::ReadWrite),
        // The team's settings are the managers' to change; everyone works with them.
        (TeamSpaceKind::Shared, Role::Rep | Role::Viewer) => Some(SpaceAccess::ReadOnly),
        (TeamSpaceKind::Territory, Role::Rep) => assigned.then_some(SpaceAccess::ReadWrite),
        (TeamSpaceKind::Territory, Role::Viewer) => assigned.then_some(SpaceAccess::ReadOnly),
    }
}

/// Letters of an invite code: Crockford's base 32 (no I, L, O, U), so a code read aloud or
/// typed from a screen cannot be mistaken.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters of an invite code, without its dash: 50 bits.
pub const INVITE_CODE_CHARS: usize = 10;

/// An invite code made from `random` (7 random bytes, of which 50 bits are used), shown
/// as two groups of five: `K7QM4-XPD2R`.
pub fn invite_code(random: [u8; 7]) -> String {
    let mut bits = random
        .iter()
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
    let mut chars = [0u8; INVITE_CODE_CHARS];
    for slot in chars.iter_mut().rev() {
        *slot = CODE_ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    let text: String = chars.iter().map(|&byte| char::from(byte)).collect();
    format!("{}-{}", &text[..5], &text[5..])
}

/// The canonical form of a typed invite code (upper case, without spaces or dashes; O read
/// as 0, I and L as 1, as Crockford's base 32 does), or `None` if it cannot be one.
pub fn normalize_invite_code(typed: &str) -> Option<String> {
    let mut code = String::with_capacity(INVITE_CODE_CHARS);
    for ch in typed.chars() {
        let ch = match ch.to_ascii_uppercase() {
            ' ' | '-' | '\u{2010}'..='\u{2015}' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            ch => ch,
        };
        if !ch.is_ascii() || !CODE_ALPHABET.contains(&(ch as u8)) {
            return None;
        }
        code.push(ch);
        if code.len() > INVITE_CODE_CHARS {
            return None;
        }
    }
    (code.len() == INVITE_CODE_CHARS).then_some(code)
}

/// Longest team or territory name kept, in characters.
pub const MAX_TEAM_NAME_CHARS: usize = 80;

/// A team or territory name, trimmed, or why it is refused.
pub fn team_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a name is required".into());
    }
    if name.chars().count() > MAX_TEAM_NAME_CHARS {
        return Err(format!("at most {MAX_TEAM_NAME_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("no control characters".into());
    }
    Ok(name.to_string())
}

/// A team as one of its members sees it (`GET /api/teams`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamInfo {
    /// The team.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The member's role.
    pub role: Role,
    /// The space of the team's catalog, pipeline and segments.
    pub shared_space: String,
    /// What the member may do with it.
    pub shared_access: SpaceAccess,
    /// The territories the member may read, with what she may do in each.
    pub territories: Vec<TerritoryInfo>,
}

/// A territory of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerritoryInfo {
    /// Its space.
    pub space: String,
    /// Its name.
    pub name: String,
    /// What the member asking may do with it.
    pub access: SpaceAccess,
}

/// A member, as the team's member list shows her.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// Her account.
    pub account_id: String,
    /// Her email.
    pub email: String,
    /// Her role.
    pub role: Role,
    /// The territories (spaces) she belongs to.
    pub territories: Vec<String>,
    /// When she joined (ms since the epoch).
    pub joined_at: i64,
}

/// Where an invite stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    /// Can be used.
    Open,
    /// Used as many times as it allowed.
    UsedUp,
    /// Past its expiry.
    Expired,
    /// Revoked by an admin.
    Revoked,
}

/// An invite, without its secrets (`GET /api/teams/{team}/invites`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteInfo {
    /// The invite.
    pub id: String,
    /// The role it gives.
    pub role: Role,
    /// The territories (spaces) it puts the new member in.
    pub territories: Vec<String>,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// When it stops working (ms since the epoch).
    pub expires_at: i64,
    /// How many times it can be used.
    pub max_uses: u32,
    /// How many times it was used.
    pub uses: u32,
    /// Where it stands at the time of the answer.
    pub status: InviteStatus,
}

/// A new invite with its secrets, shown once to the admin who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInvite {
    /// The invite.
    pub invite: InviteInfo,
    /// The code to read aloud (`K7QM4-XPD2R`).
    pub code: String,
    /// The link's secret, for the fragment of `/join#…`.
    pub secret: String,
}

/// Where an invite stands at `now`, from what the relay stores.
pub fn invite_status(
    now: i64,
    expires_at: i64,
    uses: u32,
    max_uses: u32,
    revoked: bool,
) -> InviteStatus {
    if revoked {
        InviteStatus::Revoked
    } else if uses >= max_uses {
        InviteStatus::UsedUp
    } else if now >= expires_at {
        InviteStatus::Expired
    } else {
        InviteStatus::Open
    }
}

/// A team's territory as a book on a device: its customers (the territory's space) with
/// the team's catalog, pipeline and fields (the book document, in the team's shared
/// space). Each is its own IndexedDB database, writer election and connection, beside the
/// account's own book; the tab's engine is told which book it opens (the worker's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamBook {
    /// The team.
    pub team: String,
    /// Its name.
    pub team_name: String,
    /// The territory's space: the book's customers.
    pub territory: String,
    /// The territory's name.
    pub territory_name: String,
    /// The team's shared space: the book document.
    pub shared: String,
    /// The member's role when the book was opened (the relay decides at every connection).
    pub role: Role,
    /// What she may do with the territory.
    pub access: SpaceAccess,
    /// Her email: the owner of the customers she adds, and "My customers".
    #[serde(default)]
    pub me: String,
}

impl TeamBook {
    /// The book of `territory` of `team`, for the member `me` (her email).
    pub fn of(team: &TeamInfo, territory: &TerritoryInfo, me: &str) -> TeamBook {
        TeamBook {
            me: me.to_string(),
            team: team.id.clone(),
            team_name: team.name.clone(),
            territory: territory.space.clone(),
            territory_name: territory.name.clone(),
            shared: team.shared_space.clone(),
            role: team.role,
            access: territory.access,
        }
    }

    /// Its IndexedDB database (the account's own book is `fieldbook`).
    pub fn database(&self) -> String {
        format!("fieldbook-{}", self.territory)
    }

    /// How the app names it: "Acme field sales · North".
    pub fn title(&self) -> String {
        format!("{} · {}", self.team_name, self.territory_name)
    }

    /// Whether the member may change its customers.
    pub fn writable(&self) -> bool {
        self.access == SpaceAccess::ReadWrite
    }
}

/// A call of the relay's team API, as the app makes it (the engine carries it out with the
/// device's token; the answer is JSON of the type each variant names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TeamCall {
    /// The account's teams → `Vec<TeamInfo>`.
    List,
    /// A new team, the caller its admin, with its first territory → [`TeamInfo`].
    Create {
        /// The team's name.
        name: String,
        /// The first territory's name (`None`: "All customers").
        territory: Option<String>,
    },
    /// A new territory (admin) → [`TerritoryInfo`].
    AddTerritory {
        /// The team.
        team: String,
        /// The territory's name.
        name: String,
    },
    /// The team's members → `Vec<MemberInfo>`.
    Members {
        /// The team.
        team: String,
    },
    /// A member's role or territories (admin) → nothing.
    SetMember {
        /// The team.
        team: String,
        /// Her account.
        account: String,
        /// Her new role.
        role: Option<Role>,
        /// Her new territories (spaces).
        territories: Option<Vec<String>>,
    },
    /// Removes a member (admin, or the member herself leaving) → nothing.
    RemoveMember {
        /// The team.
        team: String,
        /// Her account.
        account: String,
    },
    /// A new invite (admin) → [`NewInvite`].
    Invite {
        /// The team.
        team: String,
        /// The role it gives.
        role: Role,
        /// The territories (spaces) it puts the new member in.
        territories: Vec<String>,
        /// Hours until it expires.
        expires_in_hours: u32,
        /// How many people may use it.
        max_uses: u32,
    },
    /// The team's invites (admin) → `Vec<InviteInfo>`.
    Invites {
        /// The team.
        team: String,
    },
    /// Revokes an invite (admin) → nothing.
    RevokeInvite {
        /// The team.
        team: String,
        /// The invite.
        invite: String,
    },
    /// Moves customers from one territory to another (admin, manager) →
    /// [`crate::sync::handover::MoveOutcome`].
    Move {
        /// The team.
        team: String,
        /// The territory (space) they are in.
        from: String,
        /// The territory (space) they go to.
        to: String,
        /// Their ids.
        customers: Vec<String>,
    },
    /// Joins the team of an invite, by its code or its link's secret → [`TeamInfo`].
    Accept {
        /// The code, as typed.
        code: Option<String>,
        /// The link's secret.
        secret: Option<String>,
    },
}

impl TeamCall {
    /// The HTTP method, the path and the JSON body of the call.
    pub fn http(&self) -> (&'static str, String, Option<serde_json::Value>) {
        use serde_json::json;
        let team_path = |team: &str, rest: &str| format!("/api/teams/{}{rest}", path_part(team));
        match self {
            TeamCall::List => ("GET", "/api/teams".into(), None),
            TeamCall::Create { name, territory } => (
                "POST",
                "/api/teams".into(),
                Some(json!({ "name": name, "territory": territory })),
            ),
            TeamCall::AddTerritory { team, name } => (
                "POST",
                team_path(team, "/territories"),
                Some(json!({ "name": name })),
            ),
            TeamCall::Members { team } => ("GET", team_path(team, "/members"), None),
            TeamCall::SetMember {
                team,
                account,
                role,
                territories,
            } => (
                "PATCH",
                team_path(team, &format!("/members/{}", path_part(account))),
                Some(json!({ "role": role, "territories": territories })),
            ),
            TeamCall::RemoveMember { team, account } => (
                "DELETE",
                team_path(team, &format!("/members/{}", path_part(account))),
                None,
            ),
            TeamCall::Invite {
                team,
                role,
                territories,
                expires_in_hours,
                max_uses,
            } => (
                "POST",
                team_path(team, "/invites"),
                Some(json!({
                    "role": role,
                    "territories": territories,
                    "expires_in_hours": expires_in_hours,
                    "max_uses": max_uses,
                })),
            ),
            TeamCall::Invites { team } => ("GET", team_path(team, "/invites"), None),
            TeamCall::RevokeInvite { team, invite } => (
                "DELETE",
                team_path(team, &format!("/invites/{}", path_part(invite))),
                None,
            ),
            TeamCall::Move {
                team,
                from,
                to,
                customers,
            } => (
                "POST",
                team_path(team, "/moves"),
                Some(json!({ "from": from, "to": to, "customers": customers })),
            ),
            TeamCall::Accept { code, secret } => (
                "POST",
                "/api/invites/accept".into(),
                Some(json!({ "code": code, "secret": secret })),
            ),
        }
    }
}

/// An id as one path segment: anything but letters, digits, `-` and `_` is
/// percent-encoded, so an id can never reach another route.
fn path_part(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The words for a role, as the app shows it.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Admin",
        Role::Manager => "Manager",
        Role::Rep => "Rep",
        Role::Viewer => "Viewer",
    }
}

/// What a role may do, in one sentence for the invite and member screens.
pub fn role_description(role: Role) -> &'static str {
    match role {
        Role::Admin => "Manages members, invites and territories; sees and edits everything.",
        Role::Manager => {
            "Sees and edits every territory, reassigns customers, sees the team dashboard."
        }
        Role::Rep => "Sees and edits the customers of her territories.",
        Role::Viewer => "Reads the customers of her territories; cannot change anything.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_calls_address_their_routes_and_ids_never_leave_their_segment() {
        let (method, path, body) = TeamCall::SetMember {
            team: "t1".into(),
            account: "../devices/x".into(),
            role: Some(Role::Viewer),
            territories: None,
        }
        .http();
        assert_eq!(method, "PATCH");
        assert_eq!(path, "/api/teams/t1/members/%2E%2E%2Fdevices%2Fx");
        assert_eq!(
            body,
            Some(serde_json::json!({ "role": "viewer", "territories": null }))
        );
        let (method, path, body) = TeamCall::Accept {
            code: Some("k7qm4 xpd2r".into()),
            secret: None,
        }
        .http();
        assert_eq!((method, path.as_str()), ("POST", "/api/invites/accept"));
        assert_eq!(body.unwrap()["code"], "k7qm4 xpd2r");
        assert_eq!(TeamCall::List.http().1, "/api/teams");
    }

    #[test]
    fn roles_reach_exactly_the_spaces_they_should() {
        use SpaceAccess::*;
        use TeamSpaceKind::*;
        let table = [
            (Role::Admin, Shared, false, Some(ReadWrite)),
            (Role::Admin, Territory, false, Some(ReadWrite)),
            (Role::Manager, Shared, false, Some(ReadWrite)),
            (Role::Manager, Territory, false, Some(ReadWrite)),
            (Role::Rep, Shared, false, Some(ReadOnly)),
            (Role::Rep, Territory, true, Some(ReadWrite)),
            (Role::Rep, Territory, false, None),
            (Role::Viewer, Shared, true, Some(ReadOnly)),
            (Role::Viewer, Territory, true, Some(ReadOnly)),
            (Role::Viewer, Territory, false, None),
        ];
        for (role, kind, assigned, expected) in table {
            assert_eq!(
                team_access(role, kind, assigned),
                expected,
                "{role:?} {kind:?} assigned={assigned}"
            );
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn invite_codes_read_back_however_they_are_typed() {
        let code = invite_code([0xff, 0, 0x12, 0x34, 0x56, 0x78, 0x9a]);
        assert_eq!(code.len(), INVITE_CODE_CHARS + 1);
        assert_eq!(&code[5..6], "-");
        let canonical = code.replace('-', "");
        assert_eq!(normalize_invite_code(&code), Some(canonical.clone()));
        assert_eq!(
            normalize_invite_code(&format!(" {} ", code.to_lowercase())),
            Some(canonical.clone())
        );
        // Different random bytes, different codes; all of the alphabet's letters only.
        assert_ne!(invite_code([0; 7]), invite_code([0, 0, 0, 0, 0, 0, 1]));
        assert!(code
            .chars()
            .all(|ch| ch == '-' || CODE_ALPHABET.contains(&(ch as u8))));
        // Letters people confuse read as the digits they look like.
        assert_eq!(
            normalize_invite_code("oil00-11111"),
            Some("01100".to_string() + "11111")
        );
        assert_eq!(normalize_invite_code("ABCDE-FGHJ"), None, "too short");
        assert_eq!(normalize_invite_code("ABCDE-FGHJKM"), None, "too long");
        assert_eq!(
            normalize_invite_code("ABCDE-FGHJU"),
            None,
            "U is not a letter of it"
        );
        assert_eq!(normalize_invite_code("ABCDÉ-FGHJK"), None);
    }

    #[test]
    fn an_invite_is_open_until_used_up_expired_or_revoked() {
        assert_eq!(invite_status(10, 20, 0, 1, false), InviteStatus::Open);
        assert_eq!(invite_status(10, 20, 1, 1, false), InviteStatus::UsedUp);
        assert_eq!(invite_status(20, 20, 0, 1, false), InviteStatus::Expired);
        assert_eq!(invite_status(10, 20, 0, 1, true), InviteStatus::Revoked);
    }

    #[test]
    fn team_names_are_trimmed_and_bounded() {
        assert_eq!(team_name("  North  ").as_deref(), Ok("North"));
        assert!(team_name(" ").is_err());
        assert!(team_name("a\u{0}b").is_err());
        assert!(team_name(&"x".repeat(MAX_TEAM_NAME_CHARS + 1)).is_err());
    }
}
