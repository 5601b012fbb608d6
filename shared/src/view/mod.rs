//! Showing a recording: the timeline as text for the terminal and as SVG
//! for the book, and the account of a stall ([`timeline`]), with numbers
//! written the way people write them ([`number`]).
//!
//! It reads [`crate::event`]s and nothing else of the kit: a recording can
//! be drawn without knowing how it was made or what it was for.

pub mod number;
pub mod timeline;
