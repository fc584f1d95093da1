//! One module per screen.

pub mod board;
pub mod item;
pub mod leader;
pub mod login;
pub mod plan;
pub mod units;
