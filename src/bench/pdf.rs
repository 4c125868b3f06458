//! `orderdeck bench pdf`: render time and size of an invoice (20 lines, logo, embedded
//! Unicode fonts), a 4×6 label, a packing slip, a pick list of 500 orders and a batch of 100
//! parcels (slip + label each), and the throughput of 500 invoices in one PDF. One thread, no database: the renderer alone,
//! as a download runs it off the executor.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use orderdeck::pdf::{load_templates, sample, Logo, Rendered};

/// The `p` quantile (0 to 1) of `sorted` (zero when empty); the other benches use it too.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Sample counts are far below f64's exact integer range.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Renders `samples` times (after a warm-up); the sorted times and the last output.
fn measure(
    samples: usize,
    mut render: impl FnMut() -> anyhow::Result<Rendered>,
) -> anyhow::Result<(Vec<Duration>, Rendered)> {
    let mut last = render()?;
    for _ in 0..samples.min(20) {
        last = render()?;
    }
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let started = Instant::now();
        last = render()?;
        times.push(started.elapsed());
    }
    times.sort();
    if !last.warnings.is_empty() {
        anyhow::bail!("printpdf reported problems: {:?}", last.warnings);
    }
    Ok((times, last))
}

fn kib(bytes: usize) -> f64 {
    // File sizes are far below f64's exact integer range.
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    b / 1024.0
}

/// Writes `out` as `dir/name` when asked to.
fn keep(dir: Option<&std::path::Path>, name: &str, out: &Rendered) -> anyhow::Result<()> {
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(name);
        std::fs::write(&path, &out.bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Measures and prints the figures: `samples` renders of each document, then one batch of
/// `batch` invoices (500 in the README) in one PDF; writes the samples to `write` if given.
pub fn pdf(samples: usize, batch: usize, write: Option<&std::path::Path>) -> anyhow::Result<()> {
    let renderer = load_templates(None).context("loading the document templates")?;
    let png = sample::logo_png(300, 100);
    // As a download does: the stored logo through the renderer's cache of prepared logos.
    let logo = || -> anyhow::Result<Option<Arc<Logo>>> {
        Ok(Some(
            renderer
                .logo("bench-logo", &png)
                .map_err(anyhow::Error::msg)?,
        ))
    };
    println!("orderdeck bench pdf — {}", crate::bench::machine());
    println!(
        "  one thread, {samples} renders each after a warm-up; DejaVu Sans embedded and subset \
         (invoice: regular + bold; label: regular, outlined for bold, as templates/label.toml \
         says); logo: 300×100 RGBA PNG, Flate-compressed once and cached"
    );

    let (times, out) = measure(samples, || {
        let doc = sample::invoice("INV-000042", 20, logo()?);
        Ok(renderer.invoices(&[doc], None)?)
    })?;
    println!(
        "  invoice (A4, 20 lines, logo): median {:.2?}, p99 {:.2?}, {:.1} KB, {} page(s)   goal ≤ 5 ms, ≤ 60 KB",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        kib(out.bytes.len()),
        out.pages
    );
    keep(write, "invoice.pdf", &out)?;

    let (times, out) = measure(samples, || {
        let doc = sample::label(Some("1Z999AA10123456784"), logo()?);
        Ok(renderer.labels(&[doc], None)?)
    })?;
    println!(
        "  label (4×6 in, Code128, logo, customs): median {:.2?}, p99 {:.2?}, {:.1} KB   goal ≤ 2 ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        kib(out.bytes.len())
    );
    keep(write, "label.pdf", &out)?;

    let (times, out) = measure(samples, || {
        let doc = sample::packing_slip(true, logo()?);
        Ok(renderer.packing_slips(&[doc], None)?)
    })?;
    println!(
        "  packing slip (A4, 4 lines, logo, gift message): median {:.2?}, p99 {:.2?}, {:.1} KB   goal ≤ 3 ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        kib(out.bytes.len())
    );
    keep(write, "packing-slip.pdf", &out)?;

    let list = sample::pick_list(500);
    let (times, out) = measure(samples.min(50), || Ok(renderer.pick_list(&list, None)?))?;
    println!(
        "  pick list (A4, 500 orders, {} products): median {:.2?}, p99 {:.2?}, {:.1} KB, {} page(s)",
        list.lines.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        kib(out.bytes.len()),
        out.pages
    );
    keep(write, "pick-list.pdf", &out)?;

    let shared = logo()?;
    let parcels: Vec<_> = (0..100)
        .map(|n| {
            let mut slip = sample::packing_slip(n % 4 == 0, shared.clone());
            slip.order_numbers = vec![format!("{}", 100_000 + n)];
            let label = sample::label(Some(&format!("OD{:010}9", n + 1)), shared.clone());
            (slip, label)
        })
        .collect();
    let (times, out) = measure(samples.min(20), || Ok(renderer.batch(&parcels)?))?;
    println!(
        "  batch of 100 parcels (packing slip A4 + label 4×6 each): median {:.2?}, p99 {:.2?}, {} pages, {:.1} KB   goal ≤ 500 ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        out.pages,
        kib(out.bytes.len())
    );

    let shared = logo()?;
    let docs: Vec<_> = (1..=batch.max(1))
        .map(|n| sample::invoice(&format!("INV-{n:06}"), 20, shared.clone()))
        .collect();
    let started = Instant::now();
    let out = renderer.invoices(&docs, None)?;
    let elapsed = started.elapsed();
    if !out.warnings.is_empty() {
        anyhow::bail!("printpdf reported problems: {:?}", out.warnings);
    }
    // Batch sizes are far below f64's exact integer range.
    #[allow(clippy::cast_precision_loss)]
    let rate = docs.len() as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
    println!(
        "  batch: {} invoices in one PDF in {:.2?}: {rate:.0} invoices/s, {} pages, {:.1} MB",
        docs.len(),
        elapsed,
        out.pages,
        kib(out.bytes.len()) / 1024.0
    );
    Ok(())
}
