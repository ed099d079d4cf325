//! The menu: every screen beyond the list, one tap away.

use crate::components::DetailTopbar;
use leptos::prelude::*;
use leptos_router::components::A;

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

/// The book this tab shows, and the others to switch to: the account's own book and the
/// team territories opened on this device.
#[component]
fn Books() -> impl IntoView {
    let current = crate::book::current();
    let others: Vec<_> = crate::book::known()
        .into_iter()
        .filter(|book| Some(&book.territory) != current.as_ref().map(|c| &c.territory))
        .collect();
    if current.is_none() && others.is_empty() {
        return None;
    }
    let title = current
        .as_ref()
        .map_or_else(|| "Your own book".to_string(), |book| book.title());
    Some(view! {
        <section class="card" data-testid="books">
            <h2>"Book"</h2>
            <p>"This tab shows " <strong data-testid="current-book">{title}</strong> "."</p>
            <ul class="device-list">
                {current.is_some().then(|| view! {
                    <li class="device">
                        <strong>"Your own book"</strong>
                        <button class="button" data-testid="open-own-book" on:click=|_| crate::book::open(None)>"Open"</button>
                    </li>
                })}
                {others.into_iter().map(|book| {
                    let title = book.title();
                    view! {
                        <li class="device" data-testid="known-book" data-title=title.clone()>
                            <strong>{title.clone()}</strong>
                            <button class="button" data-testid="open-book" aria-label=format!("Open {title}")
                                on:click=move |_| crate::book::open(Some(book.clone()))>"Open"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    })
}
