//! A coloured badge for a lifecycle stage.

use leptos::prelude::*;
use shared::LifecycleStage;

/// The stage's name in its colour.
#[component]
pub fn StageBadge(stage: LifecycleStage) -> impl IntoView {
    view! { <span class=format!("badge stage-{}", stage.as_str())>{stage.label()}</span> }
}
