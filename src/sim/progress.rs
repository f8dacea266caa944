//! The progress bar's time left: shown only after a warm-up, from the
//! average pace since the start (the first trials' pace, and the
//! progress counter's first jumps, say little about the rest).

use std::time::Duration;

/// No estimate before this much time has passed.
const WARM_UP: Duration = Duration::from_secs(1);

/// No estimate before this share of the trials is done.
const WARM_UP_SHARE: f64 = 0.03;

/// The time left after `done` of `total` trials in `elapsed`, as the bar
/// shows it (`about 42s left`, `about 3m 05s left`); empty during the
/// warm-up (the first second, or the first 3% of the trials) and when done.
pub(crate) fn time_left(elapsed: Duration, done: u64, total: u64) -> String {
    if done == 0 || done >= total || elapsed < WARM_UP || (done as f64) < WARM_UP_SHARE * total as f64 {
        return String::new();
    }
    let left = elapsed.as_secs_f64() * (total - done) as f64 / done as f64;
    let s = left.round() as u64;
    if s < 1 {
        "about 1s left".into()
    } else if s < 60 {
        format!("about {s}s left")
    } else if s < 3600 {
        format!("about {}m {:02}s left", s / 60, s % 60)
    } else {
        format!("about {}h {:02}m left", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn no_estimate_during_the_warm_up() {
        // the first second, whatever the share done
        assert_eq!(time_left(secs(0.5), 500, 1000), "");
        // the first 3%, whatever the time
        assert_eq!(time_left(secs(30.0), 29, 1000), "");
        assert_eq!(time_left(secs(30.0), 0, 1000), "");
        // done
        assert_eq!(time_left(secs(30.0), 1000, 1000), "");
        assert_eq!(time_left(secs(1.0), 30, 1000), "about 32s left");
    }

    #[test]
    fn the_estimate_is_the_average_pace_written_for_people() {
        assert_eq!(time_left(secs(10.0), 500, 1000), "about 10s left");
        assert_eq!(time_left(secs(10.0), 100, 1000), "about 1m 30s left");
        assert_eq!(time_left(secs(2.0), 999, 1000), "about 1s left");
        assert_eq!(time_left(secs(100.0), 50, 1000), "about 31m 40s left");
        assert_eq!(time_left(secs(1000.0), 100, 1000), "about 2h 30m left");
    }

    #[test]
    fn the_first_estimate_of_a_steady_run_is_near_the_truth() {
        // A run of 51 s at a steady pace, the counter updated in jumps of
        // 1% (the bar is told of finished chunks): the first estimate
        // shown is within 10% of the time truly left, never minutes.
        let (run, total) = (51.0, 100_000u64);
        let first = (1..=100)
            .map(|k| k * total / 100)
            .find_map(|done| {
                let t = run * done as f64 / total as f64;
                let s = time_left(secs(t), done, total);
                (!s.is_empty()).then_some((t, s))
            })
            .unwrap();
        let (t, shown) = first;
        let left: f64 = shown
            .trim_start_matches("about ")
            .trim_end_matches("s left")
            .parse()
            .unwrap();
        assert!(t >= 1.0, "{t}");
        assert!((left - (run - t)).abs() <= 0.1 * (run - t), "{shown} at {t} s of {run}");
    }
}
