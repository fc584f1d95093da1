//! Reformboard's domain, shared by the server and the browser: the plan and its parser, the
//! entities on the boards, the one `Mutation` type with its `apply` and permission check, and the
//! sync protocol's messages. Nothing here does I/O.

pub mod account;
pub mod actor;
pub mod audit;
pub mod board;
pub mod entity;
pub mod ids;
pub mod mutation;
pub mod permission;
pub mod plan;
pub mod plan_text;
pub mod state;
pub mod status;
pub mod sync;
pub mod text;
pub mod unit;
