//! Domain values that are valid by construction: body blocks, cursors, text.

pub mod body;
pub mod cursor;
pub mod keys;
pub mod search;
pub mod text;
