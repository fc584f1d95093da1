//! The Reformboard server. `app` builds the router (tests call it directly); `main.rs` is the CLI
//! around it.

pub mod app;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod db;
pub mod entity_store;
pub mod error;
pub mod plan_api;
pub mod plan_import;
pub mod static_files;
pub mod sync;

pub use app::{AppState, Config, app};
