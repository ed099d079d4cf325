//! The top bar of every screen but the list.

use leptos::prelude::*;
use leptos_router::components::A;

/// A screen's top bar: the way back (named by where it leads), the screen's title as its
/// one `h1`, what the screen adds (its save status), and "+ Lead": a lead is captured from
/// any screen (not from the capture and new-customer forms themselves: `lead=false`).
#[component]
pub fn DetailTopbar(
    /// Where "back" leads.
    #[prop(into)]
    back: Signal<String>,
    /// The name of where it leads ("Customers", "Menu").
    back_label: &'static str,
    /// The screen's title.
    #[prop(optional)]
    title: Option<&'static str>,
    /// Whether the bar offers "+ Lead".
    #[prop(default = true)]
    lead: bool,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <header class="topbar detail-topbar">
            <A href=move || back.get() attr:class=move || if back.get() == "/" { "back to-list" } else { "back" } attr:data-testid="back">
                <span aria-hidden="true">"‹\u{a0}"</span>{back_label}
            </A>
            {title.map(|title| view! { <h1 class="topbar-title">{title}</h1> })}
            {children.map(|children| children())}
            {lead.then(|| view! {
                <A href="/capture" attr:class="capture-link" attr:data-testid="quick-capture">"+ Lead"</A>
            })}
        </header>
    }
}
