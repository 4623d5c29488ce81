//! What one tab keeps to share the session with the others: its id in
//! messages, the join it may be waiting for at start, and everything that
//! waits for the tokens to change.

use std::cell::RefCell;

use futures::channel::oneshot;

/// This tab's part of the session shared between tabs.
#[derive(Debug)]
pub(crate) struct TabSync {
    tab_id: u64,
    joining: RefCell<Option<oneshot::Sender<()>>>,
    watchers: RefCell<Vec<oneshot::Sender<()>>>,
}

impl TabSync {
    /// The part of tab `tab_id` (random, so tabs tell their messages apart).
    pub(crate) fn new(tab_id: u64) -> Self {
        Self {
            tab_id,
            joining: RefCell::default(),
            watchers: RefCell::default(),
        }
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

    /// Stops waiting (the window closed, or nobody can answer).
    pub(crate) fn stop_joining(&self) {
        self.joining.borrow_mut().take();
    }

    /// Another tab's session was adopted: the join is done.
    pub(crate) fn joined(&self) {
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
    fn every_watcher_is_woken_by_a_change() {
        let sync = TabSync::new(1);
        let (first, second) = (sync.watch_tokens(), sync.watch_tokens());
        sync.tokens_changed();
        assert_eq!((block_on(first), block_on(second)), (Ok(()), Ok(())));
    }
}
