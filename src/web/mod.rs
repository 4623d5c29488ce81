//! Browser edges: the only code that touches `window`, Web Storage, `fetch`,
//! WebCrypto and timers. Kept thin; decisions live in [`crate::auth`].

pub mod browser;
pub mod crypto;
pub mod http;
pub mod perf;
pub mod storage;
