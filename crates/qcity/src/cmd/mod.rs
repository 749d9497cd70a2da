//! Subcommands.

pub mod admin;
pub mod serve;
pub mod survey;
pub mod index;
