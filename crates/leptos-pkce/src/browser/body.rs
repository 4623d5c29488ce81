//! Reading a response body with a running count, so that an answer larger
//! than the cap is abandoned as soon as it passes it: a chunked answer has no
//! `Content-Length` to refuse it by, and `Response::text` would buffer it
//! whole (or until the request timeout, for one that never ends).

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamDefaultReader, ReadableStreamReadResult};

/// What reading a body came to.
pub(super) enum Body {
    /// The whole body, decoded as UTF-8 like `Response::text` (a leading BOM
    /// dropped, invalid sequences replaced).
    Complete(String),
    /// More than the cap came; the stream was cancelled.
    TooLarge,
    /// The stream failed (network error, abort).
    Failed,
}

/// Reads `stream` to its end, or cancels it once more than `cap` bytes came.
/// No stream (a body-less answer) is an empty body.
pub(super) async fn read_capped(stream: Option<ReadableStream>, cap: usize) -> Body {
    let Some(stream) = stream else {
        return Body::Complete(String::new());
    };
    let Ok(reader) = stream
        .get_reader()
        .dyn_into::<ReadableStreamDefaultReader>()
    else {
        return Body::Failed;
    };
    let mut bytes = Vec::new();
    loop {
        let Ok(result) = JsFuture::from(reader.read()).await else {
            return Body::Failed;
        };
        let result: ReadableStreamReadResult = result.unchecked_into();
        if result.get_done().unwrap_or(true) {
            break;
        }
        let Ok(chunk) = result.get_value().dyn_into::<Uint8Array>() else {
            drop(reader.cancel());
            return Body::Failed;
        };
        let start = bytes.len();
        let end = usize::try_from(chunk.length())
            .ok()
            .and_then(|length| start.checked_add(length))
            .filter(|&end| end <= cap);
        let Some(end) = end else {
            // The promise only says when the cancellation is done: nothing to wait for.
            drop(reader.cancel());
            return Body::TooLarge;
        };
        bytes.resize(end, 0);
        chunk.copy_to(&mut bytes[start..]);
    }
    let text = String::from_utf8_lossy(&bytes);
    Body::Complete(text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned())
}
