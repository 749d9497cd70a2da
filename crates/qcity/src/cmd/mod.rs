//! Subcommands.

pub mod admin;
pub mod energy;
pub mod index;
pub mod sampling;
pub mod serve;
pub mod survey;
