//! engine (WIP)
pub mod astro;
pub mod calendar;
