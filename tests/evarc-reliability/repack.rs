//! SIGKILL during `evarc repack` (issue 14), readers beside it: nothing lost or unreadable.

use evarc_torture::repack::{self, RepackOptions};

use crate::{evarc_bin, log, scratch, seed};

#[test]
fn repack_killed_at_random_points_loses_nothing_and_readers_keep_reading() {
    let dir = scratch("repack");
    let opts = RepackOptions {
        kills: 4,
        seed: seed(14_001),
        manifest: None,
        documents: 4,
        versions: 12,
        evarc: evarc_bin(),
        work: dir.path().to_owned(),
    };
    let report = repack::run(&opts, &mut |l| log(l)).expect("the repack torture runs");
    assert_eq!(report.kills + report.completed_early, 4);
    // One after the full repack, two per round (after the kill, after the rerun).
    assert!(report.verify_all_runs > 2 * 4);
    assert!(
        report.problems.is_empty(),
        "seed {}: {:#?}",
        opts.seed,
        report.problems
    );
}
