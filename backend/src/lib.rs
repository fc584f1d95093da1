//! The Reformboard server. `app` builds the router (tests call it directly); `main.rs` is the CLI
//! around it.

pub mod app;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod bootstrap;
pub mod connection;
pub mod db;
pub mod demo_year;
pub mod entity_store;
pub mod error;
pub mod export;
pub mod held;
pub mod mail;
pub mod openapi;
pub mod plan_api;
pub mod plan_import;
pub mod reminder_job;
pub mod static_files;
pub mod sync;
pub mod upload;

pub use app::{AppState, Config, app};
