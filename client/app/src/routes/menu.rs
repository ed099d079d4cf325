//! The menu: every screen beyond the list, one tap away.

use crate::components::{sync_status::describe, DetailTopbar};
use crate::other_books::{use_other_books, OtherBook};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::sync::tab_protocol::SyncState;

/// The menu screen.
#[component]
pub fn MenuPage() -> impl IntoView {
    let entries = [
        (
            "/dashboard",
            "menu-dashboard",
            "Dashboard",
            "NPS, churn, revenue, best sellers, this period against the last",
        ),
        (
            "/recent",
            "menu-recent",
            "Recent changes",
            "What changed on your other devices since you last looked",
        ),
        (
            "/follow-ups",
            "menu-follow-ups",
            "Follow-ups",
            "Overdue, today and upcoming",
        ),
        (
            "/pipeline",
            "menu-pipeline",
            "Pipeline",
            "Deals by stage, forecast",
        ),
        (
            "/products",
            "menu-products",
            "Products",
            "Your catalog and prices",
        ),
        (
            "/segments",
            "menu-segments",
            "Segments",
            "Saved filters, bulk tag and stage, CSV export",
        ),
        (
            "/import",
            "menu-import",
            "Import",
            "Contacts from Google, Outlook, HubSpot, Salesforce, Zoho, Pipedrive, LinkedIn, any CSV or a phone's vCard",
        ),
        (
            "/duplicates",
            "menu-duplicates",
            "Duplicates",
            "Find and merge the same customer entered twice",
        ),
        (
            "/settings",
            "open-settings",
            "Settings",
            "Event, storage, install, unsynced changes",
        ),
        (
            "/account",
            "menu-account",
            "Account & devices",
            "Sign in, sync, devices",
        ),
        (
            "/team",
            "menu-team",
            "Team",
            "Join or start a team, invite colleagues, roles and territories",
        ),
    ];
    view! {
        <div class="detail" data-testid="menu-page">
            <DetailTopbar back="/" back_label="Customers" title="Menu"/>
            <Books/>
            <nav class="card">
                <ul class="follow-up-list">
                    {entries.into_iter().map(|(href, testid, title, hint)| view! {
                        <li class="follow-up">
                            <A href=href attr:class="follow-up-body" attr:data-testid=testid>
                                <strong>{title}</strong>
                                <span class="hint">{hint}</span>
                            </A>
                        </li>
                    }).collect_view()}
                </ul>
            </nav>
        </div>
    }
}

/// The book this tab shows, and the others to switch to — the account's own book and the
/// team territories on this device — each with how far its copy here is backed up and her
/// follow-ups due there (they are kept in sync in the background, [`OtherBooks`]).
#[component]
fn Books() -> impl IntoView {
    let others = use_other_books();
    // Territories she was added to since the app started join the list.
    others.refresh();
    let current = crate::book::current();
    let title = current
        .as_ref()
        .map_or_else(|| "Your own book".to_string(), |book| book.title());
    let here = current.as_ref().map(|book| book.territory.clone());
    let shows_team_book = current.is_some();
    let rows = Memo::new(move |_| {
        let mut rows = others.books.get();
        // Books of this device not kept now (signed out): still offered, without a state.
        for book in crate::book::known() {
            if here.as_ref() != Some(&book.territory)
                && rows.iter().all(|row| row.key() != book.territory)
            {
                rows.push(OtherBook::new(Some(book)));
            }
        }
        if shows_team_book && rows.iter().all(|row| row.book.is_some()) {
            rows.insert(0, OtherBook::new(None));
        }
        rows
    });
    move || {
        let rows = rows.get();
        (shows_team_book || !rows.is_empty()).then(|| view! {
            <section class="card" data-testid="books">
                <h2>"Book"</h2>
                <p>"This tab shows " <strong data-testid="current-book">{title.clone()}</strong> "."</p>
                <ul class="device-list">
                    {rows.into_iter().map(|row| view! { <BookRow row/> }).collect_view()}
                </ul>
            </section>
        })
    }
}

/// Another book: its name, its copy's state, her follow-ups due there, and Open.
#[component]
fn BookRow(row: OtherBook) -> impl IntoView {
    let title = row.title();
    let own = row.book.is_none();
    let state = row.state;
    let due = row.due;
    let book = row.book.clone();
    let open = move |_| crate::book::open(book.clone());
    view! {
        <li class="device book-row" data-testid=if own { "own-book" } else { "known-book" } data-title=title.clone()>
            <div class="book-row-text">
                <strong>{title.clone()}</strong>
                <span class="hint" data-testid="book-status">{move || describe_copy(state.get().as_ref())}</span>
                // (Not for a book she was removed from: nothing there is hers to do.)
                {move || (due.get() > 0 && state.with(|s| s.as_ref().is_none_or(|s| s.held.is_none()))).then(|| view! {
                    <span class="hint book-due" data-testid="book-due">{match due.get() {
                        1 => "1 follow-up due for you".to_string(),
                        n => format!("{n} follow-ups due for you"),
                    }}</span>
                })}
            </div>
            <button class="button" data-testid=if own { "open-own-book" } else { "open-book" }
                aria-label=format!("Open {title}") on:click=open>"Open"</button>
        </li>
    }
}

/// How far another book's copy on this device is, in words.
fn describe_copy(state: Option<&SyncState>) -> String {
    match state {
        None => "Kept on this device".to_string(),
        Some(SyncState {
            held: Some(held),
            status,
            ..
        }) => {
            let unsent = match status.unsent {
                1 => "1 change was never backed up".to_string(),
                n => format!("{n} changes were never backed up"),
            };
            format!("{} {unsent}: open it to export them.", held.reason)
        }
        Some(state) => describe(&state.status).replace("your book", "the book"),
    }
}
