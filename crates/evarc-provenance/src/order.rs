//! Registering documents in a fixed order while captures are made in parallel.
//!
//! Document IDs are allocated in the order documents are first registered. A bulk import that
//! captures several documents at once would otherwise number them by thread timing; with
//! [`RegistrationTurns`] the same input always gives the same IDs: documents are numbered in the
//! order of their turns (an import's manifest order), whatever the parallelism.

use std::sync::{Condvar, Mutex, PoisonError};

/// Turns 0, 1, 2… taken in order: turn `k` may register its document once every earlier turn
/// has been passed. A task passes its turn as soon as its document is registered (or it gives
/// up), so only first captures of new documents wait for each other.
///
/// Tasks must be started in turn order (a worker takes turn `k` only after turns below `k` were
/// taken), otherwise workers can wait on turns nobody holds.
#[derive(Debug, Default)]
pub struct RegistrationTurns {
    next: Mutex<usize>,
    changed: Condvar,
}

impl RegistrationTurns {
    /// Turn 0 goes first.
    pub fn new() -> Self {
        Self::default()
    }

    /// Blocks until every turn before `turn` has been passed.
    pub fn wait(&self, turn: usize) {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        while *next < turn {
            next = self
                .changed
                .wait(next)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Passes `turn` (after [`RegistrationTurns::wait`] for it): the next turn may go.
    /// Passing a turn twice, or one already behind, changes nothing.
    pub fn pass(&self, turn: usize) {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        if *next == turn {
            *next = turn + 1;
            self.changed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RegistrationTurns;
    use std::sync::Mutex;

    #[test]
    fn turns_register_in_order_whatever_the_threads_do() {
        let turns = RegistrationTurns::new();
        let order = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for turn in (0..8).rev() {
                let (turns, order) = (&turns, &order);
                scope.spawn(move || {
                    turns.wait(turn);
                    order.lock().expect("not poisoned").push(turn);
                    turns.pass(turn);
                });
            }
        });
        assert_eq!(
            order.into_inner().expect("not poisoned"),
            (0..8).collect::<Vec<_>>()
        );
    }
}
