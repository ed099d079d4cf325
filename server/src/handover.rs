//! Moving a team's customers between territories (issue 21; what a move is and how a device
//! reads it: `shared::sync::handover`).
//!
//! A move is one transaction under both territories' locks (taken in id order, as the log's
//! writer takes them, so the two cannot deadlock): for each customer, every entry it has in
//! the territory it leaves is folded into one snapshot appended to the territory it goes to
//! (covering everything that territory had of it), a `Moved` entry with the snapshot's
//! heads is appended where it was, and `moved_documents` records where it went, so the
//! writer forwards a change pushed there later (`crate::store`). Nothing of a customer is
//! ever deleted by a move: the old territory's log keeps its history, the devices there
//! forget it.

use sha2::{Digest, Sha256};
use shared::documents::book_doc::BOOK_DOCUMENT;
use shared::sync::blob::MAX_DOCUMENT_ID_BYTES;
use shared::sync::handover::{hand_over, MoveOutcome, MoveRequest, Skipped, MAX_MOVE_CUSTOMERS};
use shared::sync::protocol::{Seq, SpaceId};

use crate::auth::{AuthError, DeviceAuth};
use crate::db::{Database, Dialect};
use crate::hub::Hub;
use crate::store::{SetHead, KIND_ERASED, KIND_MOVED, KIND_SNAPSHOT};
use crate::teams::{member_role, own_book, space_access};
use crate::with_db;
use shared::sync::team::SpaceAccess;

fn invalid(field: &'static str, message: impl Into<String>) -> AuthError {
    AuthError::Invalid(vec![(field, message.into())])
}

/// The idempotency key of a log row a move writes (`what`: the hand-over or the move entry)
/// at `seq` of its space: unique, so a customer can move back and forth.
fn move_key(what: &str, document: &str, seq: u64) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(what.as_bytes());
    hasher.update([0]);
    hasher.update(document.as_bytes());
    hasher.update([0]);
    hasher.update(seq.to_be_bytes());
    hasher.finalize().to_vec()
}

/// Moves `request.customers` from territory `request.from` to `request.to` of `team` (an
/// admin or manager), or from the caller's own book into a territory of `team` she may
/// write (her book brought into the team: her devices drop them as from a territory, her
/// later offline edits are forwarded); `relay` names this relay in the commit
/// notification. The sessions of both spaces, here and on every other relay, are woken.
pub async fn move_customers(
    db: &Database,
    hub: &Hub,
    relay: &str,
    me: &DeviceAuth,
    team: &str,
    request: MoveRequest,
    now: i64,
) -> Result<MoveOutcome, AuthError> {
    // From a territory of the team (an admin or manager), or from the caller's own book
    // into a territory she may write (a book brought into a team).
    let from_own_book = own_book(db, &me.account_id, &request.from).await?;
    if !from_own_book
        && !member_role(db, me, team, false)
            .await?
            .sees_every_territory()
    {
        return Err(AuthError::Forbidden);
    }
    if request.from == request.to {
        return Err(invalid("to", "the customers are in this territory already"));
    }
    if request.customers.is_empty() {
        return Err(invalid("customers", "name at least one customer"));
    }
    if request.customers.len() > MAX_MOVE_CUSTOMERS {
        return Err(invalid(
            "customers",
            format!("at most {MAX_MOVE_CUSTOMERS} customers per move"),
        ));
    }
    let mut customers: Vec<&str> = Vec::with_capacity(request.customers.len());
    for customer in &request.customers {
        let sane = !customer.is_empty()
            && customer.len() <= MAX_DOCUMENT_ID_BYTES
            && !customer.chars().any(char::is_control)
            && customer != BOOK_DOCUMENT;
        if !sane {
            return Err(invalid("customers", "not a customer id"));
        }
        if !customers.contains(&customer.as_str()) {
            customers.push(customer);
        }
    }
    let territories: i64 = with_db!(db, pool =>
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM spaces WHERE team = $1 AND team_kind = 'territory' \
             AND id IN ($2, $3)",
        )
        .bind(team)
        .bind(&request.from)
        .bind(&request.to)
        .fetch_one(pool)
        .await?);
    if territories != if from_own_book { 1 } else { 2 } {
        return Err(AuthError::NotFound);
    }
    // Into a territory of this team, from her own book: one she may write.
    if from_own_book {
        let (access, _) = space_access(db, &me.account_id, &request.to).await?;
        if access != SpaceAccess::ReadWrite {
            return Err(AuthError::Forbidden);
        }
    }
    let from = SpaceId(request.from.clone());
    let to = SpaceId(request.to.clone());
    let mut outcome = MoveOutcome::default();
    let heads = with_db!(db, pool => {
        let mut conn = pool.acquire().await?;
        let mut tx = sqlx::Connection::begin_with(&mut *conn, <Db as Dialect>::BEGIN).await?;
        // Both heads, locked in id order.
        let mut ordered = [&from, &to];
        ordered.sort();
        let mut states = Vec::with_capacity(2);
        for space in ordered {
            let (head, stored): (i64, i64) = sqlx::query_as(<Db as Dialect>::LOCK_HEAD)
                .bind(&space.0)
                .fetch_one(&mut *tx)
                .await?;
            states.push((space, head, stored));
        }
        let position = |space: &SpaceId| usize::from(states[0].0 != space);
        let (mut from_head, mut from_bytes) = {
            let state = &states[position(&from)];
            (state.1, state.2)
        };
        let (mut to_head, mut to_bytes) = {
            let state = &states[position(&to)];
            (state.1, state.2)
        };
        for customer in customers {
            let skip = |reason: &str| Skipped {
                customer: customer.to_string(),
                reason: reason.to_string(),
            };
            let gone: Option<String> = sqlx::query_scalar(
                "SELECT to_space FROM moved_documents WHERE space = $1 AND document = $2",
            )
            .bind(&from.0)
            .bind(customer)
            .fetch_optional(&mut *tx)
            .await?;
            if gone.is_some() {
                outcome.skipped.push(skip("moved out of this territory already"));
                continue;
            }
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
                "SELECT kind, bytes FROM log WHERE space = $1 AND document = $2 ORDER BY seq",
            )
            .bind(&from.0)
            .bind(customer)
            .fetch_all(&mut *tx)
            .await?;
            if rows.iter().any(|(kind, _)| *kind == KIND_ERASED) {
                outcome.skipped.push(skip("erased"));
                continue;
            }
            // Entries after an earlier move out of here and back: all in the latest
            // hand-over, which is among them.
            let entries = rows
                .iter()
                .filter(|(kind, _)| *kind != KIND_MOVED)
                .map(|(_, bytes)| bytes.as_slice());
            let handed = match hand_over(customer, entries) {
                Ok(handed) => handed,
                Err(reason) => {
                    outcome.skipped.push(skip(&reason));
                    continue;
                }
            };
            let covers = to_head;
            to_head += 1;
            to_bytes += handed.snapshot.len() as i64;
            let insert = "INSERT INTO log (space, seq, document, kind, covers, blob_key, bytes, device, created_at, projection) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
            sqlx::query(insert)
                .bind(&to.0)
                .bind(to_head)
                .bind(customer)
                .bind(KIND_SNAPSHOT)
                .bind(Some(covers))
                .bind(move_key("handed over", customer, to_head as u64))
                .bind(&handed.snapshot)
                .bind(&me.device_id)
                .bind(now)
                .bind(handed.projection.as_deref())
                .execute(&mut *tx)
                .await?;
            from_head += 1;
            from_bytes += handed.heads.len() as i64;
            sqlx::query(insert)
                .bind(&from.0)
                .bind(from_head)
                .bind(customer)
                .bind(KIND_MOVED)
                .bind(None::<i64>)
                .bind(move_key("moved", customer, from_head as u64))
                .bind(&handed.heads)
                .bind(&me.device_id)
                .bind(now)
                .bind(None::<Vec<u8>>)
                .execute(&mut *tx)
                .await?;
            // Back where it once was: no longer forwarded from there. Every territory that
            // forwarded here now forwards to where it went (one hop, always).
            sqlx::query("DELETE FROM moved_documents WHERE space = $1 AND document = $2")
                .bind(&to.0)
                .bind(customer)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE moved_documents SET to_space = $1, covers = $2 \
                 WHERE document = $3 AND to_space = $4",
            )
            .bind(&to.0)
            .bind(covers)
            .bind(customer)
            .bind(&from.0)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO moved_documents (space, document, to_space, covers, moved_at, moved_by) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&from.0)
            .bind(customer)
            .bind(&to.0)
            .bind(covers)
            .bind(now)
            .bind(&me.account_id)
            .execute(&mut *tx)
            .await?;
            outcome.moved.push(customer.to_string());
        }
        let heads = [(&from, from_head, from_bytes), (&to, to_head, to_bytes)];
        for (space, head, bytes) in heads {
            let bytes = u64::try_from(bytes).unwrap_or(0);
            tx.set_head(relay, space, Seq(head as u64), bytes).await?;
        }
        tx.commit().await?;
        [(from_head, from.clone()), (to_head, to.clone())]
    });
    for (head, space) in heads {
        hub.wake(&space, Seq(head as u64), None);
    }
    tracing::info!(
        team,
        from = %from.0,
        to = %to.0,
        moved = outcome.moved.len(),
        skipped = outcome.skipped.len(),
        "customers moved"
    );
    Ok(outcome)
}
