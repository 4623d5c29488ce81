//! Browser edges: the only code that touches `window`, Web Storage, `fetch`
//! and timers. Kept thin; decisions live in [`crate::auth`].

pub mod browser;
pub mod http;
pub mod storage;
