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
