//! A month's noise: the random stream it goes on drawing from after its
//! [`super::Draw`] (the spread of its users' days, the power users each
//! tier or tenant has this month, the user-days a user breaker trips).
//!
//! Nearly all of it is standard normal numbers, and drawing them is about
//! half of a month's work. Months that start their noise from the same
//! state of the same stream draw the same numbers: the `k`-th normal number
//! of a stream is the same whoever draws it, as long as each drew nothing
//! but normal numbers before it. So one month can write its normal numbers
//! on a [`Tape`] and the others read them back ([`Noise::record`],
//! [`Noise::replay`]), byte for byte what they would have drawn: a
//! sensitivity analysis's variants of one trial all start from the state
//! the trial's draw left (checked, not assumed).

use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;

/// The normal numbers a month drew from its noise, in order, up to its
/// first draw of anything else.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tape {
    /// The state of the stream the tape starts from.
    start: Option<ChaCha8Rng>,
    normals: Vec<f64>,
    /// Whether the month writing it has drawn nothing but normal numbers
    /// so far (the tape goes on).
    open: bool,
}

impl Tape {
    /// Whether it starts where `rng` stands.
    pub(crate) fn starts_at(&self, rng: &ChaCha8Rng) -> bool {
        self.start.as_ref() == Some(rng)
    }
}

enum Use<'t> {
    Plain,
    /// Writing each normal number drawn on the tape while it is open.
    Record(&'t mut Tape),
    /// Reading normal numbers from the tape; `read` of them so far. The
    /// stream still stands where the tape starts.
    Replay(&'t Tape, usize),
}

/// A month's noise: its random stream, perhaps with a [`Tape`].
pub(crate) struct Noise<'a> {
    rng: &'a mut ChaCha8Rng,
    tape: Use<'a>,
}

impl<'a> Noise<'a> {
    /// The stream alone.
    pub(crate) fn plain(rng: &'a mut ChaCha8Rng) -> Noise<'a> {
        Noise { rng, tape: Use::Plain }
    }

    /// The stream, writing its normal numbers on `tape` (what it held
    /// before is gone).
    pub(crate) fn record(rng: &'a mut ChaCha8Rng, tape: &'a mut Tape) -> Noise<'a> {
        tape.start = Some(rng.clone());
        tape.normals.clear();
        tape.open = true;
        Noise {
            rng,
            tape: Use::Record(tape),
        }
    }

    /// The stream, its normal numbers read from `tape` if the tape starts
    /// where the stream stands (the stream alone if not). Once the month
    /// draws anything but a normal number, or more normal numbers than the
    /// tape holds, the stream is brought to where those numbers leave it
    /// and goes on by itself. The stream's state after the month is
    /// where the month's last draw from it left it, not past the numbers
    /// read from the tape: a caller does not draw from it again.
    pub(crate) fn replay(rng: &'a mut ChaCha8Rng, tape: &'a Tape) -> Noise<'a> {
        let tape = if tape.starts_at(rng) {
            Use::Replay(tape, 0)
        } else {
            Use::Plain
        };
        Noise { rng, tape }
    }

    /// The next standard normal number.
    #[inline]
    pub(crate) fn normal(&mut self) -> f64 {
        match &mut self.tape {
            Use::Replay(t, read) if *read < t.normals.len() => {
                let x = t.normals[*read];
                *read += 1;
                x
            }
            Use::Replay(..) => {
                self.off_tape();
                rand_distr::StandardNormal.sample(&mut *self.rng)
            }
            Use::Record(t) => {
                let x = rand_distr::StandardNormal.sample(&mut *self.rng);
                if t.open {
                    t.normals.push(x);
                }
                x
            }
            Use::Plain => rand_distr::StandardNormal.sample(&mut *self.rng),
        }
    }

    /// The next `out.len()` standard normal numbers, in order.
    pub(crate) fn fill(&mut self, out: &mut [f64]) {
        if let Use::Replay(t, read) = &mut self.tape
            && let Some(x) = t.normals.get(*read..*read + out.len())
        {
            out.copy_from_slice(x);
            *read += out.len();
            return;
        }
        for x in out {
            *x = self.normal();
        }
    }

    /// The stream itself, for a draw of anything but a normal number: it
    /// ends a recording and a replay.
    pub(crate) fn rng(&mut self) -> &mut ChaCha8Rng {
        match &mut self.tape {
            Use::Record(t) => t.open = false,
            Use::Replay(..) => self.off_tape(),
            Use::Plain => {}
        }
        &mut *self.rng
    }

    /// The stream by itself from here: a replay's stream brought past the
    /// normal numbers read (drawn again: the same words of the stream).
    fn off_tape(&mut self) {
        if let Use::Replay(_, read) = self.tape {
            for _ in 0..read {
                let _: f64 = rand_distr::StandardNormal.sample(&mut *self.rng);
            }
        }
        self.tape = Use::Plain;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// A month's use of its noise: `n` normal numbers, then perhaps a word
    /// of anything else, then `m` more normal numbers; everything it drew,
    /// and the stream's next word.
    fn month(noise: &mut Noise, n: usize, other: bool, m: usize) -> Vec<u64> {
        // the first normal numbers one at a time, the rest in one go
        let mut out: Vec<u64> = (0..n.min(3)).map(|_| noise.normal().to_bits()).collect();
        let mut rest = vec![0.0; n.saturating_sub(3)];
        noise.fill(&mut rest);
        out.extend(rest.iter().map(|x| x.to_bits()));
        if other {
            out.push(noise.rng().next_u64());
        }
        out.extend((0..m).map(|_| noise.normal().to_bits()));
        out.push(noise.rng().next_u64());
        out
    }

    #[test]
    fn a_replayed_month_draws_what_it_would_have_drawn() {
        // Every mix of recording and replaying months (shorter, longer,
        // with another draw before or after the recording's): each draws,
        // number for number, what the stream alone gives it.
        let shapes = [
            (0, false, 0),
            (5, false, 0),
            (5, true, 3),
            (40, false, 0),
            (2, true, 60),
            (70, false, 9),
        ];
        for rec in shapes {
            for rep in shapes {
                let start = crate::sim::demand::stream(7, 3);
                let alone = |(n, o, m): (usize, bool, usize)| month(&mut Noise::plain(&mut start.clone()), n, o, m);
                let mut tape = Tape::default();
                let recorded = month(&mut Noise::record(&mut start.clone(), &mut tape), rec.0, rec.1, rec.2);
                assert_eq!(recorded, alone(rec), "{rec:?}");
                let replayed = month(&mut Noise::replay(&mut start.clone(), &tape), rep.0, rep.1, rep.2);
                assert_eq!(replayed, alone(rep), "{rec:?} then {rep:?}");
                // the tape holds the recording's normal numbers up to its
                // first other draw, and nothing past it
                let before_other = if rec.1 { rec.0 } else { rec.0 + rec.2 };
                assert_eq!(tape.normals.len(), before_other, "{rec:?}");
            }
        }
        // A stream that does not stand where the tape starts is not fed
        // from it.
        let mut tape = Tape::default();
        month(
            &mut Noise::record(&mut crate::sim::demand::stream(7, 3), &mut tape),
            10,
            false,
            0,
        );
        let other = crate::sim::demand::stream(7, 4);
        assert_eq!(
            month(&mut Noise::replay(&mut other.clone(), &tape), 10, false, 0),
            month(&mut Noise::plain(&mut other.clone()), 10, false, 0)
        );
    }
}
