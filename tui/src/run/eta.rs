//! Time left in a run, from this run's own pace: steps after a warm-up (the first steps are
//! slow while buffers are allocated), with test passes timed separately.

use std::time::Duration;

/// Steps ignored before the pace is measured.
pub const WARMUP_STEPS: u64 = 3;

/// Measures the pace of training steps and test passes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Eta {
    steps: u64,
    /// (time, steps so far) when the warm-up ended.
    base: Option<(Duration, u64)>,
    /// (time, steps so far) at the latest step.
    last: Option<(Duration, u64)>,
    /// Time spent in test passes since `base`.
    testing: Duration,
    test_started: Option<Duration>,
    /// Seconds of the latest complete test pass.
    test_seconds: Option<f64>,
}

impl Eta {
    /// A training step ended at `now`.
    pub fn step(&mut self, now: Duration) {
        self.steps += 1;
        if self.steps == WARMUP_STEPS {
            self.base = Some((now, self.steps));
        } else if self.steps > WARMUP_STEPS {
            self.last = Some((now, self.steps));
        }
    }

    /// A test pass began at `now`.
    pub fn test_started(&mut self, now: Duration) {
        self.test_started = Some(now);
    }

    /// The test pass ended at `now`.
    pub fn test_finished(&mut self, now: Duration) {
        if let Some(start) = self.test_started.take() {
            let took = now.saturating_sub(start);
            self.test_seconds = Some(took.as_secs_f64());
            if self.base.is_some() {
                self.testing += took;
            }
        }
    }

    /// Seconds per training step, once measured.
    pub fn seconds_per_step(&self) -> Option<f64> {
        let ((t0, s0), (t1, s1)) = (self.base?, self.last?);
        let busy = t1.saturating_sub(t0).saturating_sub(self.testing).as_secs_f64();
        (s1 > s0 && busy > 0.0).then(|| busy / (s1 - s0) as f64)
    }

    /// Estimated time for `steps` more training steps and `tests` more test passes (a test
    /// pass counts as long as the last one, or as nothing before the first).
    pub fn remaining(&self, steps: u64, tests: usize) -> Option<Duration> {
        let per_step = self.seconds_per_step()?;
        let secs = per_step * steps as f64 + self.test_seconds.unwrap_or(0.0) * tests as f64;
        Some(Duration::from_secs_f64(secs.max(0.0)))
    }
}

/// `1:02:03`, `12:34` or `0:05`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    #[test]
    fn no_estimate_during_warm_up() {
        let mut e = Eta::default();
        e.step(at(5.0));
        e.step(at(6.0));
        e.step(at(7.0));
        assert_eq!(e.remaining(100, 1), None);
    }

    #[test]
    fn pace_ignores_the_warm_up_and_the_test_passes() {
        let mut e = Eta::default();
        // Three slow warm-up steps, then 0.5 s a step.
        for t in [4.0, 6.0, 8.0, 8.5, 9.0] {
            e.step(at(t));
        }
        assert_eq!(e.seconds_per_step(), Some(0.5));
        // A 3 s test pass, then two more steps at the same pace.
        e.test_started(at(9.0));
        e.test_finished(at(12.0));
        e.step(at(12.5));
        e.step(at(13.0));
        assert_eq!(e.seconds_per_step(), Some(0.5));
        assert_eq!(e.remaining(10, 2), Some(at(5.0 + 6.0)));
    }

    #[test]
    fn clock_format() {
        assert_eq!(clock(at(5.0)), "0:05");
        assert_eq!(clock(at(754.0)), "12:34");
        assert_eq!(clock(at(3723.0)), "1:02:03");
    }
}
