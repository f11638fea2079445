//! Reading what a live server reports.

pub mod table;
