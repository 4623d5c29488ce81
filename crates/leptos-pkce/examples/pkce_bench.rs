//! PKCE pair generation time, natively: `cargo run --release --example pkce_bench`.
//! Prints the median and spread (ns) of generating a verifier (32 random
//! bytes) and its S256 challenge, over batches of many pairs. `bench/run.mjs`
//! reads the `median_ns=` line; the browser figure comes from `oidc:pkce`.

use std::hint::black_box;
use std::time::Instant;

use leptos_pkce::protocol::PkceCodeVerifier;

const BATCHES: usize = 101;
const PAIRS_PER_BATCH: u32 = 1_000;

fn main() {
    let mut per_pair_ns: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..PAIRS_PER_BATCH {
                let verifier = PkceCodeVerifier::new_random().expect("OS random numbers");
                black_box(verifier.challenge());
            }
            start.elapsed().as_secs_f64() * 1e9 / f64::from(PAIRS_PER_BATCH)
        })
        .collect();
    per_pair_ns.sort_by(f64::total_cmp);
    let at = |q: f64| per_pair_ns[((per_pair_ns.len() - 1) as f64 * q).round() as usize];
    println!(
        "pkce pair (verifier + S256 challenge), {BATCHES} batches x {PAIRS_PER_BATCH}: median_ns={:.0} p25_ns={:.0} p75_ns={:.0} min_ns={:.0} max_ns={:.0}",
        at(0.5),
        at(0.25),
        at(0.75),
        at(0.0),
        at(1.0)
    );
}
