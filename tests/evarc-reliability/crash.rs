//! SIGKILL during `import manifest` and `provision add`: nothing acknowledged is lost.

use evarc_torture::crash::{self, CrashOptions};

use crate::{evarc_bin, log, scratch, seed};

#[test]
fn five_kills_lose_nothing_acknowledged_and_reuse_no_id() {
    let dir = scratch("crash");
    let opts = CrashOptions {
        kills: 5,
        seed: seed(6_001),
        manifest: None,
        documents: 6,
        versions: 10,
        provision_every: 3,
        evarc: evarc_bin(),
        work: dir.path().to_owned(),
    };
    let report = crash::run(&opts, &mut |l| log(l)).expect("the crash torture runs");
    assert_eq!(report.kills, 5);
    assert!(report.epochs >= 1);
    assert!(
        report.problems.is_empty(),
        "seed {}: {:#?}",
        opts.seed,
        report.problems
    );
}
