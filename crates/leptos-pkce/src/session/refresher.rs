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
    flight: RefCell<Option<RefreshFlight>>,
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

    /// The flight in progress, or the one `start` makes (and keeps).
    pub(crate) fn join_or_start(&self, start: impl FnOnce() -> RefreshFlight) -> RefreshFlight {
        self.flight.borrow_mut().get_or_insert_with(start).clone()
    }

    /// The flight landed.
    pub(crate) fn landed(&self) {
        self.flight.borrow_mut().take();
    }

    /// Whether a refresh is in flight.
    pub(crate) fn is_refreshing(&self) -> bool {
        self.flight.borrow().is_some()
    }

    /// Whether `tokens` should be refreshed before a call.
    pub(crate) fn is_due(&self, tokens: &TokenSet, now_ms: f64) -> bool {
        self.policy.is_due(tokens, now_ms)
    }

    /// Whether the timer, firing at `now_ms`, should refresh `tokens`.
    pub(crate) fn timer_due(&self, tokens: &TokenSet, now_ms: f64) -> bool {
        let history = self.history.borrow();
        let retry_due = history.retry_at_ms.is_some_and(|at| now_ms >= at);
        (retry_due || self.policy.is_due(tokens, now_ms))
            && tokens.refresh_token().is_some()
            && history.allows(now_ms)
    }

    /// When the timer should next refresh `tokens` in the background.
    pub(crate) fn background_at(&self, tokens: &TokenSet, now_ms: f64) -> Option<f64> {
        self.policy
            .background_at(tokens, &self.history.borrow(), now_ms)
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
        let _first = refresher.join_or_start(start);
        let _second = refresher.join_or_start(start);
        assert_eq!(made.get(), 1);
        assert!(refresher.is_refreshing() && refresher.allows(0.0));
        refresher.landed();
        assert!(!refresher.is_refreshing());
        let _third = refresher.join_or_start(start);
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
