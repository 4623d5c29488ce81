//! What one tab keeps to share the session with the others: its id in
//! messages, the join it may be waiting for at start, and everything that
//! waits for the tokens to change.

use std::cell::{Cell, RefCell};

use futures::channel::oneshot;

/// This tab's part of the session shared between tabs.
#[derive(Debug)]
pub(crate) struct TabSync {
    tab_id: u64,
    joining: RefCell<Option<oneshot::Sender<()>>>,
    answered: Cell<bool>,
    watchers: RefCell<Vec<oneshot::Sender<()>>>,
    /// Sessions signed out (by the hash of their identity): no copy of
    /// them is taken again, whenever it was posted.
    ended: RefCell<Vec<String>>,
    /// Messages may have been missed (the page sat in the back/forward
    /// cache): ask the other tabs before presenting a refresh token.
    stale: Cell<bool>,
}

/// How many ended sessions a tab remembers.
const ENDED_KEPT: usize = 8;

impl TabSync {
    /// The part of tab `tab_id` (random, so tabs tell their messages apart).
    pub(crate) fn new(tab_id: u64) -> Self {
        Self {
            tab_id,
            joining: RefCell::default(),
            answered: Cell::new(false),
            watchers: RefCell::default(),
            ended: RefCell::default(),
            stale: Cell::new(false),
        }
    }

    /// The session `identity` (a hash) was signed out.
    pub(crate) fn end(&self, identity: String) {
        let mut ended = self.ended.borrow_mut();
        if !ended.contains(&identity) {
            ended.push(identity);
        }
        if ended.len() > ENDED_KEPT {
            ended.remove(0);
        }
    }

    /// Whether the session `identity` was signed out.
    pub(crate) fn was_ended(&self, identity: &str) -> bool {
        self.ended.borrow().iter().any(|ended| ended == identity)
    }

    /// Messages may have been missed; or, with `false`, the tab caught up.
    pub(crate) fn set_stale(&self, stale: bool) {
        self.stale.set(stale);
    }

    /// Whether messages may have been missed since the tab last caught up.
    pub(crate) fn is_stale(&self) -> bool {
        self.stale.get()
    }

    /// This tab's id.
    pub(crate) fn id(&self) -> u64 {
        self.tab_id
    }

    /// Starts waiting for another tab's session; resolves when
    /// [`joined`](Self::joined) is called.
    pub(crate) fn start_joining(&self) -> oneshot::Receiver<()> {
        let (sender, receiver) = oneshot::channel();
        *self.joining.borrow_mut() = Some(sender);
        receiver
    }

    /// Stops waiting (the window closed, nobody can answer, or the
    /// answer was refused): the join resolves as failed.
    pub(crate) fn stop_joining(&self) {
        self.joining.borrow_mut().take();
        self.answered.set(false);
    }

    /// An answer arrived for this tab and is being checked: the join waits
    /// for the check, however long the window.
    pub(crate) fn answer_arrived(&self) {
        if self.joining.borrow().is_some() {
            self.answered.set(true);
        }
    }

    /// Whether an answer is being checked.
    pub(crate) fn is_answered(&self) -> bool {
        self.answered.get()
    }

    /// Another tab's session was adopted: the join is done.
    pub(crate) fn joined(&self) {
        self.answered.set(false);
        if let Some(joining) = self.joining.borrow_mut().take() {
            let _ = joining.send(());
        }
    }

    /// Resolves at the next [`tokens_changed`](Self::tokens_changed).
    pub(crate) fn watch_tokens(&self) -> oneshot::Receiver<()> {
        let (sender, changed) = oneshot::channel();
        self.watchers.borrow_mut().push(sender);
        changed
    }

    /// The tokens changed (adopted, refreshed elsewhere, or forgotten):
    /// wakes everything that waits for that.
    pub(crate) fn tokens_changed(&self) {
        for watcher in self.watchers.borrow_mut().drain(..) {
            let _ = watcher.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    #[test]
    fn a_join_resolves_once_and_only_while_waited_for() {
        let sync = TabSync::new(7);
        assert_eq!(sync.id(), 7);
        let waiting = sync.start_joining();
        sync.joined();
        assert_eq!(block_on(waiting), Ok(()));
        let late = sync.start_joining();
        sync.stop_joining();
        sync.joined();
        assert!(block_on(late).is_err(), "the window had closed");
    }

    #[test]
    fn ended_sessions_are_remembered_a_while() {
        let sync = TabSync::new(1);
        for n in 0..=ENDED_KEPT {
            sync.end(format!("s{n}"));
        }
        sync.end("s3".into());
        assert!(!sync.was_ended("s0"), "the oldest is forgotten");
        assert!(sync.was_ended("s1") && sync.was_ended(&format!("s{ENDED_KEPT}")));
    }

    #[test]
    fn every_watcher_is_woken_by_a_change() {
        let sync = TabSync::new(1);
        let (first, second) = (sync.watch_tokens(), sync.watch_tokens());
        sync.tokens_changed();
        assert_eq!((block_on(first), block_on(second)), (Ok(()), Ok(())));
    }
}
