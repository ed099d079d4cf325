//! Helpers of the relay's measurements (the `measure` harness in `tests/it` and the
//! `fieldbook-loadgen` binary): percentiles and the rows `scripts/bench.sh` puts in
//! BENCHMARKS.md's table.

use std::time::Duration;

/// The value at `p` (0-1) of sorted durations (nearest rank on the index); zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Milliseconds, with fractions.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Prints a row for BENCHMARKS.md's table (scripts/bench.sh collects lines starting
/// `BENCH-ROW`): figure, measured, target, and pass / MISS / — (no target).
pub fn row(figure: &str, measured: String, target: &str, pass: Option<bool>) {
    let result = match pass {
        Some(true) => "pass",
        Some(false) => "MISS",
        None => "—",
    };
    println!("BENCH-ROW\t{figure}\t{measured}\t{target}\t{result}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let sorted: Vec<Duration> = (1..=101).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 0.5), Duration::from_millis(51));
        assert_eq!(percentile(&sorted, 0.99), Duration::from_millis(100));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
        assert_eq!(ms(Duration::from_micros(1500)), 1.5);
    }
}
