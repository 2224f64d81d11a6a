//! Tests of `evarc-tlog`: known-answer vectors (`vectors/`), proofs for every tree size
//! 1..=1000, signed notes and checkpoints, proof files and time-stamp requests.

mod checks;
mod known_answers;
mod notes;
mod sizes;
mod timestamp;
