//! Teams in the relay's database (issue 21; rules in `shared::sync::team`): creating a
//! team with its shared space and first territory, territories, members and roles,
//! invites by link secret or short code, and the access a device's account has to a team
//! space — the check every sync session makes ([`space_access`]).
//!
//! Invites keep only SHA-256 hashes of their link secret and code. Accepting one is one
//! transaction that re-reads the invite, so two devices racing for its last use cannot both
//! get it. Every change of a member's role, territories or membership closes her live
//! connections to the team's spaces (on every relay, through the NOTIFY path), so each
//! reconnects under the new rules.

use sha2::{Digest, Sha256};
use shared::sync::team::{
    invite_code, invite_status, normalize_invite_code, team_access, team_name, InviteInfo,
    InviteStatus, MemberInfo, NewInvite, Role, SpaceAccess, TeamInfo, TeamSpaceKind, TerritoryInfo,
};

use crate::auth::{AuthError, DeviceAuth};
use crate::db::{Database, Dialect};
use crate::with_db;

/// Longest an invite may stay open: 30 days.
pub const MAX_INVITE_HOURS: u32 = 30 * 24;
/// Default life of an invite: 3 days.
pub const DEFAULT_INVITE_HOURS: u32 = 72;
/// Most uses of one invite.
pub const MAX_INVITE_USES: u32 = 500;
/// Most territories in a team.
pub const MAX_TERRITORIES: i64 = 200;

fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut buffer = [0u8; N];
    getrandom::fill(&mut buffer).map_err(|err| AuthError::Internal(err.to_string()))?;
    Ok(buffer)
}

fn random_id() -> Result<String, AuthError> {
    Ok(hex::encode(random_bytes::<16>()?))
}

fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

fn invalid(field: &'static str, message: impl Into<String>) -> AuthError {
    AuthError::Invalid(vec![(field, message.into())])
}

/// What a space is, as the access check reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpaceOwner {
    /// An account's own book.
    Account(String),
    /// A team's space.
    Team {
        /// The team.
        team: String,
        /// Shared or territory.
        kind: TeamSpaceKind,
    },
}

async fn space_owner(db: &Database, space: &str) -> Result<Option<SpaceOwner>, AuthError> {
    let row: Option<(String, Option<String>, Option<String>)> = with_db!(db, pool =>
        sqlx::query_as("SELECT owner, team, team_kind FROM spaces WHERE id = $1")
            .bind(space)
            .fetch_optional(pool)
            .await?);
    Ok(row.map(|(owner, team, kind)| match team {
        None => SpaceOwner::Account(owner),
        Some(team) => SpaceOwner::Team {
            team,
            kind: if kind.as_deref() == Some("shared") {
                TeamSpaceKind::Shared
            } else {
                TeamSpaceKind::Territory
            },
        },
    }))
}

/// Whether `space` is the own book of `account`.
pub(crate) async fn own_book(db: &Database, account: &str, space: &str) -> Result<bool, AuthError> {
    Ok(
        matches!(space_owner(db, space).await?, Some(SpaceOwner::Account(owner)) if owner == account),
    )
}

async fn role_of(db: &Database, team: &str, account: &str) -> Result<Option<Role>, AuthError> {
    let role: Option<String> = with_db!(db, pool =>
        sqlx::query_scalar("SELECT role FROM team_members WHERE team = $1 AND account = $2")
            .bind(team)
            .bind(account)
            .fetch_optional(pool)
            .await?);
    Ok(role.as_deref().and_then(Role::parse))
}

async fn assigned(db: &Database, space: &str, account: &str) -> Result<bool, AuthError> {
    let found: Option<i64> = with_db!(db, pool =>
        sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM territory_members WHERE space = $1 AND account = $2")
            .bind(space)
            .bind(account)
            .fetch_optional(pool)
            .await?);
    Ok(found.is_some())
}

/// What `account` may do with `space`, and the team the space belongs to: its own book
/// read and write; a team's space by the member's role and territories
/// ([`team_access`]); anything else is `Forbidden`.
pub async fn space_access(
    db: &Database,
    account: &str,
    space: &str,
) -> Result<(SpaceAccess, Option<String>), AuthError> {
    match space_owner(db, space).await? {
        Some(SpaceOwner::Account(owner)) if owner == account => Ok((SpaceAccess::ReadWrite, None)),
        Some(SpaceOwner::Team { team, kind }) => {
            let Some(role) = role_of(db, &team, account).await? else {
                return Err(AuthError::Forbidden);
            };
            let assigned = kind == TeamSpaceKind::Territory
                && !role.sees_every_territory()
                && assigned(db, space, account).await?;
            let access = team_access(role, kind, assigned).ok_or(AuthError::Forbidden)?;
            Ok((access, Some(team)))
        }
        _ => Err(AuthError::Forbidden),
    }
}

/// The caller's role in `team`, refusing non-members (`Forbidden`, the same answer as for a
/// team that does not exist) and, with `admin`, members who do not manage the team.
pub(crate) async fn member_role(
    db: &Database,
    me: &DeviceAuth,
    team: &str,
    admin: bool,
) -> Result<Role, AuthError> {
    match role_of(db, team, &me.account_id).await? {
        Some(role) if !admin || role.manages_team() => Ok(role),
        _ => Err(AuthError::Forbidden),
    }
}

/// Creates a team named `name` with its shared space and a first territory
/// (`territory`), the caller its admin and a member of that territory.
pub async fn create_team(
    db: &Database,
    me: &DeviceAuth,
    name: &str,
    territory: &str,
    now: i64,
) -> Result<TeamInfo, AuthError> {
    let name = team_name(name).map_err(|message| invalid("name", message))?;
    let territory = team_name(territory).map_err(|message| invalid("territory", message))?;
    let team = random_id()?;
    let shared = random_id()?;
    let first = random_id()?;
    with_db!(db, pool => {
        let mut tx = pool.begin_with(<Db as Dialect>::BEGIN).await?;
        sqlx::query(
            "INSERT INTO spaces (id, owner, created_at, team, team_kind, name) \
             VALUES ($1, $2, $3, $4, 'shared', $5), ($6, $2, $3, $4, 'territory', $7)",
        )
        .bind(&shared)
        .bind(&me.account_id)
        .bind(now)
        .bind(&team)
        .bind(&name)
        .bind(&first)
        .bind(&territory)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO teams (id, name, shared_space, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&team)
        .bind(&name)
        .bind(&shared)
        .bind(&me.account_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO team_members (team, account, role, joined_at) VALUES ($1, $2, 'admin', $3)",
        )
        .bind(&team)
        .bind(&me.account_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO territory_members (space, account) VALUES ($1, $2)")
            .bind(&first)
            .bind(&me.account_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(TeamInfo {
        id: team,
        name,
        role: Role::Admin,
        shared_space: shared,
        shared_access: SpaceAccess::ReadWrite,
        territories: vec![TerritoryInfo {
            space: first,
            name: territory,
            access: SpaceAccess::ReadWrite,
        }],
    })
}

/// Every team the caller belongs to, with the spaces her devices sync.
pub async fn my_teams(db: &Database, me: &DeviceAuth) -> Result<Vec<TeamInfo>, AuthError> {
    let rows: Vec<(String, String, String, String)> = with_db!(db, pool =>
        sqlx::query_as(
            "SELECT t.id, t.name, t.shared_space, m.role FROM team_members m \
             JOIN teams t ON t.id = m.team WHERE m.account = $1 ORDER BY t.name, t.id",
        )
        .bind(&me.account_id)
        .fetch_all(pool)
        .await?);
    let mut teams = Vec::with_capacity(rows.len());
    for (id, name, shared_space, role) in rows {
        let Some(role) = Role::parse(&role) else {
            continue;
        };
        let territories: Vec<(String, String, Option<i64>)> = with_db!(db, pool =>
            sqlx::query_as(
                "SELECT s.id, COALESCE(s.name, ''), \
                   (SELECT CAST(1 AS BIGINT) FROM territory_members tm WHERE tm.space = s.id AND tm.account = $2) \
                 FROM spaces s WHERE s.team = $1 AND s.team_kind = 'territory' \
                 ORDER BY s.name, s.id",
            )
            .bind(&id)
            .bind(&me.account_id)
            .fetch_all(pool)
            .await?);
        let territories = territories
            .into_iter()
            .filter_map(|(space, name, member)| {
                let assigned = member.is_some() && !role.sees_every_territory();
                team_access(role, TeamSpaceKind::Territory, assigned).map(|access| TerritoryInfo {
                    space,
                    name,
                    access,
                })
            })
            .collect();
        teams.push(TeamInfo {
            id,
            name,
            role,
            shared_space,
            shared_access: team_access(role, TeamSpaceKind::Shared, false)
                .unwrap_or(SpaceAccess::ReadOnly),
            territories,
        });
    }
    Ok(teams)
}

/// Adds a territory (admin only); returns its space.
pub async fn add_territory(
    db: &Database,
    me: &DeviceAuth,
    team: &str,
    name: &str,
    now: i64,
) -> Result<TerritoryInfo, AuthError> {
    member_role(db, me, team, true).await?;
    let name = team_name(name).map_err(|message| invalid("name", message))?;
    let count: i64 = with_db!(db, pool =>
        sqlx::query_scalar("SELECT COUNT(*) FROM spaces WHERE team = $1 AND team_kind = 'territory'")
            .bind(team)
            .fetch_one(pool)
            .await?);
    if count >= MAX_TERRITORIES {
        return Err(invalid(
            "name",
            format!("a team has at most {MAX_TERRITORIES} territories"),
        ));
    }
    let space = random_id()?;
    with_db!(db, pool => sqlx::query(
        "INSERT INTO spaces (id, owner, created_at, team, team_kind, name) \
         VALUES ($1, $2, $3, $4, 'territory', $5)",
    )
    .bind(&space)
    .bind(&me.account_id)
    .bind(now)
    .bind(team)
    .bind(&name)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(TerritoryInfo {
        space,
        name,
        access: SpaceAccess::ReadWrite,
    })
}

/// The team's members (any member may list them: owners are picked from this list).
pub async fn members(
    db: &Database,
    me: &DeviceAuth,
    team: &str,
) -> Result<Vec<MemberInfo>, AuthError> {
    member_role(db, me, team, false).await?;
    let rows: Vec<(String, String, String, i64)> = with_db!(db, pool =>
        sqlx::query_as(
            "SELECT a.id, a.email, m.role, m.joined_at FROM team_members m \
             JOIN accounts a ON a.id = m.account WHERE m.team = $1 ORDER BY a.email",
        )
        .bind(team)
        .fetch_all(pool)
        .await?);
    let assignments: Vec<(String, String)> = with_db!(db, pool =>
        sqlx::query_as(
            "SELECT tm.account, tm.space FROM territory_members tm \
             JOIN spaces s ON s.id = tm.space WHERE s.team = $1 ORDER BY tm.space",
        )
        .bind(team)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .filter_map(|(account_id, email, role, joined_at)| {
            Some(MemberInfo {
                territories: (assignments.iter())
                    .filter(|(account, _)| *account == account_id)
                    .map(|(_, space)| space.clone())
                    .collect(),
                account_id,
                email,
                role: Role::parse(&role)?,
                joined_at,
            })
        })
        .collect())
}

/// The team's spaces, for closing a member's connections to them.
pub async fn team_spaces(db: &Database, team: &str) -> Result<Vec<String>, AuthError> {
    Ok(with_db!(db, pool =>
        sqlx::query_scalar("SELECT id FROM spaces WHERE team = $1 ORDER BY id")
            .bind(team)
            .fetch_all(pool)
            .await?))
}

/// Territories of `team` among `spaces`, refusing any that is not one.
async fn territories_of(
    db: &Database,
    team: &str,
    spaces: &[String],
) -> Result<Vec<String>, AuthError> {
    let mut found = Vec::with_capacity(spaces.len());
    for space in spaces {
        match space_owner(db, space).await? {
            Some(SpaceOwner::Team {
                team: owner,
                kind: TeamSpaceKind::Territory,
            }) if owner == team => {
                if !found.contains(space) {
                    found.push(space.clone());
                }
            }
            _ => return Err(invalid("territories", "not a territory of this team")),
        }
    }
    Ok(found)
}

/// Whether taking `account`'s admin role would leave the team without one.
async fn last_admin(db: &Database, team: &str, account: &str) -> Result<bool, AuthError> {
    let others: i64 = with_db!(db, pool =>
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM team_members WHERE team = $1 AND role = 'admin' AND account <> $2",
        )
        .bind(team)
        .bind(account)
        .fetch_one(pool)
        .await?);
    Ok(others == 0)
}

/// Sets a member's role and, if given, her territories (admin only). A team always keeps
/// an admin. `relay` (this relay) is named in the notice to the other relays.
pub async fn set_member(
    db: &Database,
    relay: &str,
    me: &DeviceAuth,
    team: &str,
    account: &str,
    role: Option<Role>,
    territories: Option<Vec<String>>,
) -> Result<(), AuthError> {
    member_role(db, me, team, true).await?;
    let Some(current) = role_of(db, team, account).await? else {
        return Err(AuthError::NotFound);
    };
    if current == Role::Admin
        && role.is_some_and(|role| role != Role::Admin)
        && last_admin(db, team, account).await?
    {
        return Err(AuthError::LastAdmin);
    }
    let territories = match territories {
        Some(spaces) => Some(territories_of(db, team, &spaces).await?),
        None => None,
    };
    with_db!(db, pool => {
        let mut tx = pool.begin_with(<Db as Dialect>::BEGIN).await?;
        if let Some(role) = role {
            sqlx::query("UPDATE team_members SET role = $1 WHERE team = $2 AND account = $3")
                .bind(role.as_str())
                .bind(team)
                .bind(account)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(spaces) = &territories {
            sqlx::query(
                "DELETE FROM territory_members WHERE account = $1 \
                 AND space IN (SELECT id FROM spaces WHERE team = $2)",
            )
            .bind(account)
            .bind(team)
            .execute(&mut *tx)
            .await?;
            for space in spaces {
                sqlx::query("INSERT INTO territory_members (space, account) VALUES ($1, $2)")
                    .bind(space)
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if <Db as Dialect>::NOTIFIES {
            // Delivered to every relay on commit: each other relay closes her connections to
            // the team (this one's caller closes its own at once, `api.rs`).
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::fanout::CHANNEL)
                .bind(crate::fanout::member_payload(relay, team, account))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Removes a member (an admin removing anyone, or a member leaving). A team always keeps
/// an admin. What she stored in the team's spaces stays: it is the team's.
pub async fn remove_member(
    db: &Database,
    relay: &str,
    me: &DeviceAuth,
    team: &str,
    account: &str,
) -> Result<(), AuthError> {
    let leaving = account == me.account_id;
    member_role(db, me, team, !leaving).await?;
    let Some(current) = role_of(db, team, account).await? else {
        return Err(AuthError::NotFound);
    };
    if current == Role::Admin && last_admin(db, team, account).await? {
        return Err(AuthError::LastAdmin);
    }
    with_db!(db, pool => {
        let mut tx = pool.begin_with(<Db as Dialect>::BEGIN).await?;
        sqlx::query(
            "DELETE FROM territory_members WHERE account = $1 \
             AND space IN (SELECT id FROM spaces WHERE team = $2)",
        )
        .bind(account)
        .bind(team)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM team_members WHERE team = $1 AND account = $2")
            .bind(team)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        if <Db as Dialect>::NOTIFIES {
            // Delivered to every relay on commit: each other relay closes her connections to
            // the team (this one's caller closes its own at once, `api.rs`).
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::fanout::CHANNEL)
                .bind(crate::fanout::member_payload(relay, team, account))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// What an admin asks for when making an invite.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct InviteRequest {
    /// The role it gives.
    pub role: Role,
    /// The territories it puts the new member in (spaces of the team).
    #[serde(default)]
    pub territories: Vec<String>,
    /// Hours until it expires (1 to [`MAX_INVITE_HOURS`]; default [`DEFAULT_INVITE_HOURS`]).
    #[serde(default)]
    pub expires_in_hours: Option<u32>,
    /// How many people may use it (1 to [`MAX_INVITE_USES`]; default 1).
    #[serde(default)]
    pub max_uses: Option<u32>,
}

/// Makes an invite (admin only); its code and secret are returned once.
pub async fn create_invite(
    db: &Database,
    me: &DeviceAuth,
    team: &str,
    request: InviteRequest,
    now: i64,
) -> Result<NewInvite, AuthError> {
    member_role(db, me, team, true).await?;
    let hours = request.expires_in_hours.unwrap_or(DEFAULT_INVITE_HOURS);
    if !(1..=MAX_INVITE_HOURS).contains(&hours) {
        return Err(invalid(
            "expires_in_hours",
            format!("from 1 to {MAX_INVITE_HOURS} hours"),
        ));
    }
    let max_uses = request.max_uses.unwrap_or(1);
    if !(1..=MAX_INVITE_USES).contains(&max_uses) {
        return Err(invalid(
            "max_uses",
            format!("from 1 to {MAX_INVITE_USES} uses"),
        ));
    }
    let territories = territories_of(db, team, &request.territories).await?;
    let id = random_id()?;
    let secret = hex::encode(random_bytes::<32>()?);
    let code = invite_code(random_bytes::<7>()?);
    let canonical = normalize_invite_code(&code)
        .ok_or_else(|| AuthError::Internal("an invite code that does not read back".into()))?;
    let expires_at = now + i64::from(hours) * 3_600_000;
    with_db!(db, pool => sqlx::query(
        "INSERT INTO team_invites (id, team, secret_hash, code_hash, role, territories, \
         created_by, created_at, expires_at, max_uses) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(team)
    .bind(sha256(&secret))
    .bind(sha256(&canonical))
    .bind(request.role.as_str())
    .bind(territories.join(","))
    .bind(&me.account_id)
    .bind(now)
    .bind(expires_at)
    .bind(i64::from(max_uses))
    .execute(pool)
    .await
    .map(drop)?);
    Ok(NewInvite {
        invite: InviteInfo {
            id,
            role: request.role,
            territories,
            created_at: now,
            expires_at,
            max_uses,
            uses: 0,
            status: InviteStatus::Open,
        },
        code,
        secret,
    })
}

type InviteRow = (String, String, String, i64, i64, i64, i64, Option<i64>);
/// An invite's row with its team.
type InviteTeamRow = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
);

fn invite_info(row: InviteRow, now: i64) -> Option<InviteInfo> {
    let (id, role, territories, created_at, expires_at, max_uses, uses, revoked_at) = row;
    let max_uses = u32::try_from(max_uses).ok()?;
    let uses = u32::try_from(uses).ok()?;
    Some(InviteInfo {
        status: invite_status(now, expires_at, uses, max_uses, revoked_at.is_some()),
        id,
        role: Role::parse(&role)?,
        territories: territories
            .split(',')
            .filter(|space| !space.is_empty())
            .map(str::to_string)
            .collect(),
        created_at,
        expires_at,
        max_uses,
        uses,
    })
}

/// The team's invites, newest first (admin only; no secrets).
pub async fn invites(
    db: &Database,
    me: &DeviceAuth,
    team: &str,
    now: i64,
) -> Result<Vec<InviteInfo>, AuthError> {
    member_role(db, me, team, true).await?;
    let rows: Vec<InviteRow> = with_db!(db, pool =>
        sqlx::query_as(
            "SELECT id, role, territories, created_at, expires_at, max_uses, uses, revoked_at \
             FROM team_invites WHERE team = $1 ORDER BY created_at DESC, id LIMIT 200",
        )
        .bind(team)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .filter_map(|row| invite_info(row, now))
        .collect())
}

/// Revokes an invite (admin only); a used invite's members stay.
pub async fn revoke_invite(
    db: &Database,
    me: &DeviceAuth,
    team: &str,
    invite: &str,
    now: i64,
) -> Result<(), AuthError> {
    member_role(db, me, team, true).await?;
    let changed = with_db!(db, pool =>
        sqlx::query(
            "UPDATE team_invites SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND team = $3",
        )
        .bind(now)
        .bind(invite)
        .bind(team)
        .execute(pool)
        .await?
        .rows_affected());
    if changed == 0 {
        return Err(AuthError::NotFound);
    }
    Ok(())
}

/// How a device presents an invite: the link's secret or the typed code.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct AcceptRequest {
    /// From the link's fragment.
    #[serde(default)]
    pub secret: Option<String>,
    /// Typed or read aloud.
    #[serde(default)]
    pub code: Option<String>,
}

/// Joins the caller's account to the invite's team with its role and territories, once per
/// use. Someone already in the team keeps her role (and the use is not counted).
pub async fn accept_invite(
    db: &Database,
    me: &DeviceAuth,
    request: &AcceptRequest,
    now: i64,
) -> Result<TeamInfo, AuthError> {
    let (query, hash) = match (&request.secret, &request.code) {
        (Some(secret), _) if !secret.trim().is_empty() => (
            "SELECT id, role, territories, created_at, expires_at, max_uses, uses, revoked_at, \
             team FROM team_invites WHERE secret_hash = $1",
            sha256(secret.trim()),
        ),
        (_, Some(code)) => match normalize_invite_code(code) {
            Some(code) => (
                "SELECT id, role, territories, created_at, expires_at, max_uses, uses, \
                 revoked_at, team FROM team_invites WHERE code_hash = $1",
                sha256(&code),
            ),
            None => return Err(invalid("code", "an invite code is ten letters and digits")),
        },
        _ => return Err(invalid("code", "an invite code or link is required")),
    };
    let team = with_db!(db, pool => {
        let mut tx = pool.begin_with(<Db as Dialect>::BEGIN).await?;
        let row: Option<InviteTeamRow> =
            sqlx::query_as(query).bind(&hash).fetch_optional(&mut *tx).await?;
        let Some((id, role, territories, created_at, expires_at, max_uses, uses, revoked_at, team)) = row
        else {
            return Err(AuthError::InviteUnknown);
        };
        let invite = invite_info(
            (id.clone(), role, territories, created_at, expires_at, max_uses, uses, revoked_at),
            now,
        )
        .ok_or_else(|| AuthError::Internal("an unreadable invite".into()))?;
        let already: Option<String> = sqlx::query_scalar(
            "SELECT role FROM team_members WHERE team = $1 AND account = $2",
        )
        .bind(&team)
        .bind(&me.account_id)
        .fetch_optional(&mut *tx)
        .await?;
        if already.is_none() {
            if invite.status != InviteStatus::Open {
                return Err(AuthError::Invite(invite.status));
            }
            // The use is taken only if still free when written (two devices racing for the
            // last use: one gets it).
            let taken = sqlx::query(
                "UPDATE team_invites SET uses = uses + 1 \
                 WHERE id = $1 AND uses < max_uses AND revoked_at IS NULL AND expires_at > $2",
            )
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken == 0 {
                return Err(AuthError::Invite(InviteStatus::UsedUp));
            }
            sqlx::query(
                "INSERT INTO team_members (team, account, role, joined_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&team)
            .bind(&me.account_id)
            .bind(invite.role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for space in &invite.territories {
                sqlx::query(
                    "INSERT INTO territory_members (space, account) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(space)
                .bind(&me.account_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        team
    });
    my_teams(db, me)
        .await?
        .into_iter()
        .find(|info| info.id == team)
        .ok_or_else(|| AuthError::Internal("joined a team that is not listed".into()))
}
