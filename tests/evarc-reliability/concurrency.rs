//! Threads writing through one `Archive`, a refused second writer, readers beside a writer.

use evarc_torture::concurrency::{self, ConcurrencyOptions};

use crate::{evarc_bin, log, scratch};

#[test]
fn eight_threads_get_unique_ids_with_no_lost_update() {
    let dir = scratch("concurrency");
    let opts = ConcurrencyOptions {
        threads: 8,
        captures: 50,
        evarc: evarc_bin(),
        work: dir.path().to_owned(),
    };
    let report = concurrency::run(&opts, &mut |l| log(l)).expect("the concurrency torture runs");
    assert!(report.second_writer_refused);
    assert_eq!(report.captures, 400);
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
}
