//! The refresh coordinator: the flight in progress (concurrent callers
//! share it), the history the policy reads (per-minute cap, backoff), and
//! the cross-tab locks of spent refresh tokens this tab keeps holding.

use std::cell::RefCell;
use std::collections::VecDeque;

use futures::future::{LocalBoxFuture, Shared};

use super::policy::{RefreshHistory, RefreshPolicy};
use super::ports::LockGuard;
use super::tokens::TokenSet;
use crate::protocol::AuthError;

/// How many locks of spent refresh tokens a tab keeps holding.
const HELD_LOCKS: usize = 3;

/// A refresh in progress, shared by every caller that waits for it.
pub(crate) type RefreshFlight = Shared<LocalBoxFuture<'static, Result<(), AuthError>>>;

/// Owns everything about refreshing but the request itself.
#[derive(Debug)]
pub(crate) struct Refresher {
    policy: RefreshPolicy,
    history: RefCell<RefreshHistory>,
    /// The one refresh in flight, and the slot of the API it is for: all
    /// APIs' tokens come from one refresh token chain, so one at a time.
    flight: RefCell<Option<(usize, RefreshFlight)>>,
    held: RefCell<VecDeque<LockGuard>>,
}

impl Refresher {
    /// A coordinator that refreshes at most `margin_ms` before expiry.
    pub(crate) fn new(margin_ms: f64) -> Self {
        Self {
            policy: RefreshPolicy { margin_ms },
            history: RefCell::default(),
            flight: RefCell::default(),
            held: RefCell::default(),
        }
    }

    /// The flight in progress, or the one `start` makes (and keeps) for
    /// `slot`; with whether it is for `slot` (else the caller waits for it
    /// to land and asks again).
    pub(crate) fn join_or_start(
        &self,
        slot: usize,
        start: impl FnOnce() -> RefreshFlight,
    ) -> (RefreshFlight, bool) {
        let mut flight = self.flight.borrow_mut();
        let (for_slot, flight) = flight.get_or_insert_with(|| (slot, start()));
        (flight.clone(), *for_slot == slot)
    }

    /// The flight landed.
    pub(crate) fn landed(&self) {
        self.flight.borrow_mut().take();
    }

    /// Whether a refresh is in flight.
    pub(crate) fn is_refreshing(&self) -> bool {
        self.flight.borrow().is_some()
    }

    /// Whether the API token of `slot` should be refreshed before a call:
    /// due, or not fetched yet.
    pub(crate) fn is_due(&self, tokens: &TokenSet, slot: usize, now_ms: f64) -> bool {
        tokens
            .api(slot)
            .is_none_or(|token| self.policy.is_due(token, now_ms))
    }

    /// The slots whose tokens the timer, firing at `now_ms`, should refresh
    /// (a retry after a failure is for the first API's).
    pub(crate) fn timer_due(&self, tokens: &TokenSet, now_ms: f64) -> Vec<usize> {
        let history = self.history.borrow();
        if tokens.refresh_token().is_none() || !history.allows(now_ms) {
            return Vec::new();
        }
        let retry_due = history.retry_at_ms.is_some_and(|at| now_ms >= at);
        tokens
            .apis()
            .filter(|(slot, token)| (retry_due && *slot == 0) || self.policy.is_due(token, now_ms))
            .map(|(slot, _)| slot)
            .collect()
    }

    /// When the timer should next refresh one of `tokens` in the
    /// background: the earliest of its API tokens.
    pub(crate) fn background_at(&self, tokens: &TokenSet, now_ms: f64) -> Option<f64> {
        tokens.refresh_token()?;
        let history = self.history.borrow();
        tokens
            .apis()
            .filter_map(|(_, token)| self.policy.background_at(token, &history, now_ms))
            .reduce(f64::min)
    }

    /// Whether a new refresh may start now: one is in flight to join, or
    /// the per-minute cap allows another.
    pub(crate) fn allows(&self, now_ms: f64) -> bool {
        self.is_refreshing() || self.history.borrow().allows(now_ms)
    }

    /// A refresh request is sent at `now_ms`.
    pub(crate) fn started(&self, now_ms: f64) {
        self.history.borrow_mut().started(now_ms);
    }

    /// A refresh succeeded (or another tab's fresh tokens were adopted).
    pub(crate) fn succeeded(&self) {
        self.history.borrow_mut().succeeded();
    }

    /// A refresh failed transiently; returns when to retry.
    pub(crate) fn failed(&self, now_ms: f64, random_unit: f64) -> f64 {
        self.history.borrow_mut().failed(now_ms, random_unit)
    }

    /// The session is forgotten: nothing of its refreshes counts any more.
    pub(crate) fn reset(&self) {
        *self.history.borrow_mut() = RefreshHistory::default();
    }

    /// Keeps the lock of a spent refresh token held, so that no tab of
    /// this origin presents that token again.
    pub(crate) fn hold(&self, guard: Option<LockGuard>) {
        if let Some(guard) = guard {
            let mut held = self.held.borrow_mut();
            held.push_back(guard);
            while held.len() > HELD_LOCKS {
                held.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use futures::FutureExt as _;

    use super::*;

    struct Release(Rc<Cell<u32>>);
    impl Drop for Release {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn keeps_the_latest_spent_locks_and_releases_the_oldest() {
        let refresher = Refresher::new(60_000.0);
        let released = Rc::new(Cell::new(0));
        for _ in 0..HELD_LOCKS + 2 {
            refresher.hold(Some(LockGuard::new(Release(Rc::clone(&released)))));
        }
        refresher.hold(None);
        assert_eq!(released.get(), 2);
        drop(refresher);
        assert_eq!(released.get(), 2 + HELD_LOCKS as u32);
    }

    #[test]
    fn callers_share_one_flight_until_it_lands() {
        let refresher = Refresher::new(60_000.0);
        let made = Cell::new(0);
        let start = || {
            made.set(made.get() + 1);
            async { Ok(()) }.boxed_local().shared()
        };
        let (_first, _) = refresher.join_or_start(0, start);
        let (_second, same) = refresher.join_or_start(0, start);
        assert_eq!(made.get(), 1);
        assert!(same);
        let (_other, same) = refresher.join_or_start(1, start);
        assert_eq!(made.get(), 1, "another API's refresh waits for this one");
        assert!(!same);
        assert!(refresher.is_refreshing() && refresher.allows(0.0));
        refresher.landed();
        assert!(!refresher.is_refreshing());
        let (_third, _) = refresher.join_or_start(1, start);
        assert_eq!(made.get(), 2);
    }

    #[test]
    fn a_reset_forgets_failures_and_the_cap() {
        let refresher = Refresher::new(60_000.0);
        for at in 0..12 {
            refresher.started(f64::from(at));
        }
        refresher.failed(20.0, 0.0);
        assert!(!refresher.allows(30.0));
        refresher.reset();
        assert!(refresher.allows(30.0));
    }
}
