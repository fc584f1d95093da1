//! One module per screen.

pub mod item;
pub mod login;
pub mod plan;
pub mod units;
