//! `evarc serve`: runs the HTTP server of `evarc-serve` on the archive, read-only.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use evarc_provenance::OpenMode;

use crate::cli::{GlobalArgs, ServeArgs};
use crate::context::{archive_path, open};
use crate::exit::Outcome;
use crate::output::Output;

pub fn run(global: &GlobalArgs, args: ServeArgs, out: &mut Output) -> Result<Outcome> {
    let listen: SocketAddr = args.listen.trim().parse().with_context(|| {
        format!(
            "invalid --listen {:?}: expected an address and port such as 127.0.0.1:8080",
            args.listen
        )
    })?;
    // Opening once here gives the same errors as every other command (missing archive…).
    drop(open(global, OpenMode::ReadOnly)?);
    let (path, _) = archive_path(global)?;
    let json = out.json;
    out.flush()?;
    let options = evarc_serve::ServeOptions {
        recheck_after: std::time::Duration::from_secs(args.recheck_after),
    };
    evarc_serve::run_with(path.clone(), listen, options, move |bound| {
        let mut stdout = std::io::stdout().lock();
        let line = if json {
            serde_json::json!({ "listening": format!("http://{bound}/"), "archive": path.display().to_string() }).to_string()
        } else {
            format!("Serving {} at http://{bound}/", path.display())
        };
        // The first line tells scripts (and the tests) which port was bound.
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    })
    // `exit::code_for` maps the server's error: the archive's as any command's, listening and
    // the runtime as the environment (exit 3).
    ?;
    Ok(Outcome::Done)
}
