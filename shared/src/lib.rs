//! Reformboard's domain, shared by the server and the browser: the plan and its parser, the
//! entities on the boards, the one `Mutation` type with its `apply` and permission check, and the
//! sync protocol's messages. Nothing here does I/O.

pub mod account;
pub mod actor;
pub mod assessment;
pub mod attachment;
pub mod audit;
pub mod board;
pub mod bulletin;
pub mod calendar;
pub mod difficulty;
pub mod entity;
pub mod evaluation;
pub mod ids;
pub mod instruction;
pub mod ledger;
pub mod membership;
pub mod message;
pub mod mutation;
pub mod notice;
pub mod op;
#[cfg(feature = "openapi")]
mod openapi;
pub mod permission;
pub mod plan;
pub mod plan_text;
pub mod postponement;
pub mod reminder;
pub mod settings;
pub mod site;
pub mod sorting;
pub mod state;
pub mod status;
pub mod submission;
pub mod sync;
mod tagged;
pub mod text;
pub mod unit;
