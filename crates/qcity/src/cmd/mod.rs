//! Subcommands.

pub mod admin;
pub mod index;
pub mod serve;
pub mod survey;
pub mod energy;
