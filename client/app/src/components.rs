//! Pieces shared by several screens.

pub mod charts;
pub mod duplicate_hints;
pub mod held_book;
pub mod save_status;
pub mod stage_badge;
pub mod sync_status;
pub mod topbar;

pub use duplicate_hints::DuplicateHints;
pub use held_book::HeldBookBanner;
pub use save_status::{SaveStatus, StorageErrorBanner};
pub use stage_badge::StageBadge;
pub use sync_status::SyncIndicator;
pub use topbar::DetailTopbar;

/// "1 answer", "3 answers" (the same wording as the merge note).
pub use shared::crm::count;
