//! The app's screens, one file each.

pub mod account;
pub mod activities;
pub mod capture;
pub mod customer;
pub mod dashboard;
pub mod duplicates;
pub mod erase;
pub mod feedback;
pub mod fields;
pub mod follow_ups;
pub mod history;
pub mod import;
pub mod list;
pub mod menu;
pub mod new_customer;
pub mod sales;
pub mod sample_data;
pub mod segments;
pub mod settings;
pub mod team;
pub mod team_dashboard;
