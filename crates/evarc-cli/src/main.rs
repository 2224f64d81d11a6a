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
            match value_error_line(&err) {
                Some(line) => eprintln!("{line}"),
                None => {
                    let _ = err.print();
                }
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

/// A bad value (an ID, a digest, a date) refused by a `values.rs` parser: one line naming the
/// argument, the value and what is wrong with it, like every other refusal. clap's own refusals
/// (ranges, possible values) keep clap's form.
fn value_error_line(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        err.get(ContextKind::InvalidArg),
        err.get(ContextKind::InvalidValue),
    ) else {
        return None;
    };
    let why = std::error::Error::source(err).filter(|why| values::is_ours(*why))?;
    let name = arg.split_whitespace().next().unwrap_or(arg);
    let name = name.trim_end_matches("...");
    let why = values::reason(why);
    Some(format!("error: invalid {name} {value:?}: {why}"))
}
