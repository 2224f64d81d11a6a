//! `evarc-bench load URL --rate N`: HTTP load at a fixed rate (open loop), for `evarc serve`
//! beside nginx (tools/serve-bench.sh, docs/benchmarks.md).
//!
//! Debian's `wrk` is closed-loop (each connection sends its next request when the previous
//! answer arrives) and has no rate mode; `wrk2` is not packaged. Here request `i` is due at
//! `start + i / rate` whatever happened before, and its latency is measured from that intended
//! send time, not from when a connection got round to sending it: a slow answer delays the
//! requests queued behind it and they are charged for the wait (no coordinated omission).
//! Requests go over `--connections` keep-alive HTTP/1.1 connections; a connection takes the
//! next due request when it is free.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use clap::Args;
use serde::Serialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

#[derive(Args)]
pub struct LoadArgs {
    /// `http://HOST:PORT/PATH` (plain HTTP, e.g. loopback).
    url: String,
    /// Requests per second, sent on schedule.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of load sent first and not counted.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Extra request header, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

/// What a run measured.
#[derive(Serialize)]
struct LoadReport {
    url: String,
    rate: u64,
    seconds: u64,
    connections: usize,
    /// Requests counted (after the warm-up).
    requests: usize,
    /// Answers per second achieved over the counted period.
    achieved_rate: f64,
    /// Failed requests (connection errors, unreadable answers).
    errors: u64,
    /// Answers with a status of 400 or more.
    bad_status: u64,
    /// Latency from the intended send time, milliseconds.
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
}

pub fn run(args: LoadArgs) -> Result<()> {
    let target = Target::parse(&args.url, &args.headers)?;
    anyhow::ensure!(args.rate > 0, "--rate must be at least 1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("start the load generator's runtime")?;
    let report = runtime.block_on(load(&args, target))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} at {}/s for {} s over {} connections: {} requests ({:.0}/s), {} errors, {} ≥400; \
             latency from intended send p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
            report.url,
            report.rate,
            report.seconds,
            report.connections,
            report.requests,
            report.achieved_rate,
            report.errors,
            report.bad_status,
            report.p50_ms,
            report.p90_ms,
            report.p99_ms,
            report.p999_ms,
            report.max_ms
        );
    }
    Ok(())
}

#[derive(Clone)]
struct Target {
    addr: String,
    request: Arc<Vec<u8>>,
}

impl Target {
    fn parse(url: &str, headers: &[String]) -> Result<Target> {
        let Some(rest) = url.strip_prefix("http://") else {
            bail!("only plain http:// URLs are supported, got {url:?}");
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let mut request =
            format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: evarc-bench\r\n");
        for h in headers {
            anyhow::ensure!(h.contains(':'), "a header is `Name: value`, got {h:?}");
            request.push_str(h.trim());
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        Ok(Target {
            addr,
            request: Arc::new(request.into_bytes()),
        })
    }
}

/// One sample: (intended send time since start, latency, outcome).
type Sample = (Duration, Duration, Outcome);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    BadStatus,
    Error,
}

async fn load(args: &LoadArgs, target: Target) -> Result<LoadReport> {
    let interval = Duration::from_nanos(1_000_000_000 / args.rate);
    let total = args.rate * (args.seconds + args.warmup);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let target = target.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples: Vec<Sample> = Vec::new();
            let mut conn: Option<TcpStream> = None;
            let mut buf = Vec::with_capacity(64 * 1024);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return samples;
                }
                let due = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
                tokio::time::sleep_until(due.into()).await;
                let outcome = match exchange(&mut conn, &target, &mut buf).await {
                    Ok(status) if status < 400 => Outcome::Ok,
                    Ok(_) => Outcome::BadStatus,
                    Err(_) => {
                        conn = None;
                        Outcome::Error
                    }
                };
                samples.push((due - start, due.elapsed(), outcome));
            }
        }));
    }
    let mut samples: Vec<Sample> = Vec::with_capacity(total as usize);
    for task in tasks {
        samples.extend(task.await.context("a load connection failed")?);
    }
    let warmup = Duration::from_secs(args.warmup);
    samples.retain(|(at, _, _)| *at >= warmup);
    let counted_end = samples
        .iter()
        .map(|(at, latency, _)| *at + *latency)
        .max()
        .unwrap_or(warmup);
    let elapsed = (counted_end - warmup).as_secs_f64().max(1e-9);
    let errors = samples.iter().filter(|s| s.2 == Outcome::Error).count() as u64;
    let bad_status = samples.iter().filter(|s| s.2 == Outcome::BadStatus).count() as u64;
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.1).collect();
    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        latencies[rank.clamp(1, latencies.len()) - 1].as_secs_f64() * 1000.0
    };
    Ok(LoadReport {
        url: args.url.clone(),
        rate: args.rate,
        seconds: args.seconds,
        connections: args.connections,
        requests: samples.len(),
        achieved_rate: samples.len() as f64 / elapsed,
        errors,
        bad_status,
        p50_ms: pct(50.0),
        p90_ms: pct(90.0),
        p99_ms: pct(99.0),
        p999_ms: pct(99.9),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    })
}

/// Sends the request on the connection (opening one if needed) and reads the whole answer;
/// returns its status.
async fn exchange(
    conn: &mut Option<TcpStream>,
    target: &Target,
    buf: &mut Vec<u8>,
) -> std::io::Result<u16> {
    if conn.is_none() {
        let stream = TcpStream::connect(&target.addr).await?;
        stream.set_nodelay(true)?;
        *conn = Some(stream);
    }
    let Some(stream) = conn.as_mut() else {
        return Err(std::io::Error::other("no connection"));
    };
    stream.write_all(&target.request).await?;
    buf.clear();
    // The head.
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("an answer without Content-Length"))?;
    let mut have = buf.len() - head_end;
    while have < length {
        let mut chunk = [0u8; 64 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        have += n;
    }
    if head.contains("\r\nconnection: close") {
        *conn = None;
    }
    Ok(status)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
