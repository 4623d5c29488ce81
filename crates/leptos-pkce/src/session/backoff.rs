//! When to retry a refresh after a transient failure: capped exponential
//! backoff with jitter, so a fleet of tabs does not hammer a provider that
//! is just recovering.

/// The longest wait between two refresh attempts.
pub(crate) const MAX_RETRY_DELAY_MS: u32 = 60_000;

/// Delay before retry number `attempt` (1, 2, …): `min(60 s, 2^attempt s)`,
/// scaled by a jitter factor in `[0.5, 1)` taken from `random_unit` in `[0, 1)`.
pub(crate) fn retry_delay_ms(attempt: u32, random_unit: f64) -> u32 {
    let ceiling = 1000u32
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(MAX_RETRY_DELAY_MS);
    let jitter = 0.5 + random_unit.clamp(0.0, 1.0) / 2.0;
    // In range: ceiling ≤ 60 000 and jitter ≤ 1.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let delay = (f64::from(ceiling) * jitter) as u32;
    delay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_caps() {
        assert_eq!(retry_delay_ms(1, 0.0), 1_000);
        assert_eq!(retry_delay_ms(1, 0.999_999), 1_999);
        assert_eq!(retry_delay_ms(2, 0.0), 2_000);
        assert_eq!(retry_delay_ms(5, 0.0), 16_000);
        assert_eq!(retry_delay_ms(6, 0.999_999), 59_999);
        assert_eq!(retry_delay_ms(40, 0.0), 30_000);
        assert!(retry_delay_ms(u32::MAX, 0.5) <= MAX_RETRY_DELAY_MS);
    }
}
