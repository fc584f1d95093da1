//! One module per screen.

pub mod accounts;
pub mod audit;
pub mod board;
pub mod item;
pub mod leader;
pub mod login;
pub mod password;
pub mod plan;
pub mod units;
