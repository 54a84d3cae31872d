//! Scan throughput on a corpus (see `scripts/gen-scan-corpus.py` and `scripts/bench-scan.py`,
//! which runs this next to ripgrep and detect-secrets and scores recall and precision).
//!
//!     cargo bench -p keyward-core --bench scan -- CORPUS_DIR [RUNS] [--hits FILE] [--held N]
//!
//! Prints one line per run (seconds, MiB/s) and the median; `--hits` writes the last run's hits
//! as `path<TAB>line<TAB>provider<TAB>kind<TAB>confidence` lines; `--held N` puts N made-up secrets in the
//! index, so the keyed-hash pass over every token is measured too.

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use keyward_core::scan::{Detector, Index, Options, Target, scan};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let Some(corpus) = args.first() else {
        eprintln!("usage: scan CORPUS_DIR [RUNS] [--hits FILE] [--held N]");
        std::process::exit(2);
    };
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let held: usize = flag("--held").and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut index = Index::new(&[42; 32]);
    for i in 0..held {
        // Lengths of real formats (32, 40, 44...), so the length filter lets similar tokens through.
        let secret = format!("{:0>width$}", format!("heldsecret{i}"), width = [32, 40, 44, 48][i % 4]);
        index.add_secret(
            &secret,
            Target {
                key_id: Some(i.to_string()),
                provider: "bench".into(),
                kind: "held".into(),
                connector: None,
                label: i.to_string(),
            },
        );
    }
    let detector = Detector::new();
    let options = Options::new(vec![corpus.into()]);
    let mut times = Vec::new();
    let mut last = None;
    for run in 0..runs {
        let t = Instant::now();
        let (hits, summary) = scan(&options, &detector, &index, &|_| {}, &AtomicBool::new(false));
        let secs = t.elapsed().as_secs_f64();
        let mib = summary.progress.bytes as f64 / (1024.0 * 1024.0);
        println!(
            "run {run}: {secs:.3} s, {:.0} MiB/s, {} files, {mib:.1} MiB, {} hits, {} skipped as binary",
            mib / secs,
            summary.progress.files,
            hits.len(),
            summary.binary
        );
        times.push((secs, mib));
        last = Some(hits);
    }
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (secs, mib) = times[times.len() / 2];
    println!("median: {secs:.3} s, {:.0} MiB/s (held secrets: {held})", mib / secs);
    if let (Some(path), Some(hits)) = (flag("--hits"), last) {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("hits file"));
        for h in hits {
            writeln!(f, "{}\t{}\t{}\t{}\t{}", h.path.display(), h.line, h.provider, h.kind, h.confidence.as_str())
                .expect("write");
        }
    }
}
