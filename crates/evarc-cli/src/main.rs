//! `evarc`: parse, run, print the error chain, exit with a documented code (see `exit`).

mod cli;
mod cmd;
mod context;
mod error_line;
mod exit;
mod fetch;
mod output;
mod progress;
mod remote;
mod values;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            if err.kind() == clap::error::ErrorKind::ValueValidation {
                // A bad value (an ID, a digest, a date): one line naming the argument, the value
                // and what is wrong, like every other refusal.
                let rendered = err.render().to_string();
                eprintln!("{}", rendered.lines().next().unwrap_or_default());
            } else {
                let _ = err.print();
            }
            return ExitCode::from(code);
        }
    };
    match cmd::run(cli) {
        Ok(outcome) => ExitCode::from(exit::code_of(outcome)),
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::from(exit::OK),
        Err(err) => {
            eprintln!("error: {}", error_line::render(&err));
            ExitCode::from(exit::code_for(&err))
        }
    }
}
