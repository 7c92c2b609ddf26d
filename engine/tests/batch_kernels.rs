//! The batch kernels: every kernel this CPU runs is bit-identical to the scalar kernel on
//! random and edge inputs at every batch length 0..=257, and the scalar kernel agrees with
//! `engine::four_pillars` (the single-chart oracle). `HYPERCUBE_KERNEL` forces the kernel that
//! `arch::active()` returns (and so the batch API and the CSV path); `scripts/test` runs this
//! file once per kernel, in release with `HYPERCUBE_BATCH_ITEMS=10000000`.
use engine::arch::{self, Inputs, Kernel, MAX_UTC_S, MIN_UTC_S};
use engine::batch::{four_pillars_batch_with, PillarBatch};
use engine::calendar::DateTime;
use engine::{BirthInput, Calendar, Options, SolarTime, TimeBasis, TransitionPolicy, ZiConvention, Zone};

/// splitmix64: a fixed, dependency-free generator (seeded, so failures reproduce).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.next() % u64::try_from(hi - lo + 1).unwrap()).unwrap()
    }
}

/// 1900-01-01T00:00:00 and 2100-12-31T23:59:59 UTC.
const Y1900: i64 = -2_208_988_800;
const Y2100_END: i64 = 4_133_980_799;

fn random_items(n: usize, seed: u64) -> (Vec<i64>, Vec<i32>) {
    let mut r = Rng(seed);
    let mut u = Vec::with_capacity(n);
    let mut s = Vec::with_capacity(n);
    for _ in 0..n {
        u.push(r.range(Y1900 - 64_800, Y2100_END + 64_800));
        // Mostly whole-minute offsets ±18 h, some arbitrary ms shifts (local-mean / apparent).
        let shift =
            if r.next().is_multiple_of(4) { r.range(-19 * 3_600_000 + 1, 19 * 3_600_000 - 1) } else { r.range(-1080, 1080) * 60_000 };
        s.push(i32::try_from(shift).unwrap());
    }
    (u, s)
}

/// ±1 s around every term instant (all 24 per year), local 22:59:59–01:00:00 on many days at
/// several offsets, and both ends of the domain.
fn edge_items() -> (Vec<i64>, Vec<i32>) {
    let (mut u, mut s) = (Vec::new(), Vec::new());
    let shifts = [0, 32_400_000, 30_600_000, -18 * 3_600_000, 18 * 3_600_000, 20_272_000, -1];
    for year in 1899..=2101 {
        for k in 0..24 {
            let t = engine::astro::terms::term_ms(year, k).unwrap();
            let base = t.div_euclid(1000);
            for d in -1..=2 {
                let x = base + d;
                if (MIN_UTC_S..=MAX_UTC_S).contains(&x) {
                    u.push(x);
                    s.push(shifts[usize::try_from((year + i32::try_from(k).unwrap() + i32::try_from(d).unwrap()).rem_euclid(7)).unwrap()]);
                }
            }
        }
    }
    let mut r = Rng(7);
    for _ in 0..3000 {
        let day = r.range(-25_567, 47_481); // 1900-01-01 ..= 2099-12-31 as days since 1970
        let off_ms = [0i64, 32_400_000, -18 * 3_600_000, 18 * 3_600_000, 20_272_000][usize::try_from(r.next() % 5).unwrap()];
        // Local 22:59:59 .. 01:00:00 the next day, every second would be 7200; take the
        // interesting ones: each hour edge ±1 s and a few in between.
        for local_sod in [82_799i64, 82_800, 82_801, 86_399, 86_400, 86_401, 89_999, 90_000, 90_001, 86_400 + 1800] {
            let local_ms = day * 86_400_000 + local_sod * 1000;
            u.push((local_ms - off_ms).div_euclid(1000));
            s.push(i32::try_from(off_ms).unwrap());
        }
    }
    for (x, sh) in [
        (MIN_UTC_S, 0),
        (MIN_UTC_S + 1, 19 * 3_600_000),
        (MAX_UTC_S, 0),
        (MAX_UTC_S - 1, -19 * 3_600_000),
        (Y1900 - 64_800, 64_800_000),
        (Y2100_END + 64_800, -64_800_000),
    ] {
        u.push(x);
        s.push(sh);
    }
    (u, s)
}

fn run(k: Kernel, u: &[i64], s: &[i32]) -> PillarBatch {
    let mut b = PillarBatch::zeroed(u.len());
    k.pillars(&Inputs { utc_s: u, shift_ms: s }, &mut b.outputs());
    b
}

fn assert_same(k: Kernel, u: &[i64], s: &[i32], what: &str) {
    let want = run(Kernel::scalar(), u, s);
    let got = run(k, u, s);
    if want != got {
        let i = (0..u.len()).find(|&i| {
            (want.year[i], want.month[i], want.day[i], want.hour[i], want.day23[i])
                != (got.year[i], got.month[i], got.day[i], got.hour[i], got.day23[i])
        });
        panic!("{} differs from scalar on {what}: first at {i:?}: input {:?}", k.name(), i.map(|i| (u[i], s[i])));
    }
}

fn items() -> usize {
    std::env::var("HYPERCUBE_BATCH_ITEMS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

#[test]
fn forced_kernel_is_the_active_one() {
    let chosen = arch::choose();
    match std::env::var(arch::KERNEL_ENV) {
        Ok(name) if !name.is_empty() => {
            let k = chosen.unwrap_or_else(|e| panic!("{}={name}: {e}", arch::KERNEL_ENV));
            assert_eq!(k.name(), name);
        }
        _ => assert_eq!(chosen.unwrap().name(), Kernel::best().name()),
    }
    eprintln!("active kernel: {}; available: {:?}", arch::active().name(), Kernel::available());
}

#[test]
fn every_kernel_equals_scalar_on_random_inputs() {
    let n = items();
    for k in Kernel::available() {
        // In chunks, so 10 M items do not need 10 M-item buffers three times.
        let mut done = 0;
        let mut seed = 1;
        while done < n {
            let m = (n - done).min(1 << 20);
            let (u, s) = random_items(m, seed);
            assert_same(k, &u, &s, &format!("random chunk seed {seed}"));
            done += m;
            seed += 1;
        }
        eprintln!("{}: {n} random items identical to scalar", k.name());
    }
}

#[test]
fn every_kernel_equals_scalar_on_edges() {
    let (u, s) = edge_items();
    for k in Kernel::available() {
        assert_same(k, &u, &s, "edge inputs");
    }
    eprintln!("{} edge items", u.len());
}

#[test]
fn every_kernel_equals_scalar_at_every_length() {
    let (mut u, mut s) = random_items(300, 99);
    let (eu, es) = edge_items();
    u.extend_from_slice(&eu[..300]);
    s.extend_from_slice(&es[..300]);
    for k in Kernel::available() {
        for n in 0..=257 {
            for start in [0, 1, 3, 7, 300 - n.min(300), 600 - n] {
                assert_same(k, &u[start..start + n], &s[start..start + n], &format!("length {n} at {start}"));
            }
        }
    }
}

/// The scalar kernel (and so every kernel) against the single-chart engine, on wall clocks
/// built from random and edge instants, civil time, every 子時 convention.
#[test]
fn scalar_kernel_equals_four_pillars() {
    let (mut u, mut s) = random_items(items().min(300_000), 4242);
    let (eu, es) = edge_items();
    u.extend(eu);
    s.extend(es);
    let mut inputs = Vec::new();
    for (&t, &sh) in u.iter().zip(&s) {
        if sh % 60_000 != 0 {
            continue; // not a whole-minute civil offset
        }
        let local = DateTime::from_ms(t * 1000 + i64::from(sh));
        if !(1900..=2100).contains(&local.year) {
            continue;
        }
        inputs.push(BirthInput {
            year: local.year,
            month: local.month,
            day: local.day,
            hour: local.hour,
            minute: local.minute,
            second: local.second,
            time: TimeBasis::Offset(sh / 60_000),
            longitude: None,
            calendar: Calendar::Solar,
            gender: None,
        });
    }
    let k = arch::active();
    for zi in [ZiConvention::Split, ZiConvention::DayChangesAt23, ZiConvention::Midnight] {
        let opts = Options { zi, ..Options::default() };
        for (kk, got) in
            [(Kernel::scalar(), four_pillars_batch_with(Kernel::scalar(), &inputs, &opts)), (k, four_pillars_batch_with(k, &inputs, &opts))]
        {
            for (i, g) in got.iter().enumerate() {
                let want = engine::four_pillars(&inputs[i], &opts);
                assert_eq!(g, &want, "{} {zi:?} input {:?}", kk.name(), inputs[i]);
            }
        }
    }
    eprintln!("{} inputs × 3 conventions", inputs.len());
}

/// The batch API's resolve pre-pass: zones (Seoul history, transitions), lunar dates,
/// local-mean and apparent solar time, errors — item by item equal to `four_pillars`.
#[test]
fn batch_api_equals_four_pillars_with_every_option() {
    let mut r = Rng(77);
    let mut inputs = Vec::new();
    for _ in 0..20_000 {
        let y = i32::try_from(r.range(1899, 2101)).unwrap();
        let lunar = r.next().is_multiple_of(8);
        inputs.push(BirthInput {
            year: y,
            month: u8::try_from(r.range(1, 12)).unwrap(),
            day: u8::try_from(r.range(0, 31)).unwrap(),
            hour: u8::try_from(r.range(0, 23)).unwrap(),
            minute: u8::try_from(r.range(0, 59)).unwrap(),
            second: u8::try_from(r.range(0, 59)).unwrap(),
            time: if r.next().is_multiple_of(2) {
                TimeBasis::Zone(Zone::AsiaSeoul)
            } else {
                TimeBasis::Offset(i32::try_from(r.range(-1100, 1100)).unwrap())
            },
            longitude: match r.next() % 4 {
                0 => None,
                1 => Some(200.0),
                _ => Some(f64::from(i32::try_from(r.range(-180_000, 180_000)).unwrap()) / 1000.0),
            },
            calendar: if lunar { Calendar::Lunar { leap: r.next().is_multiple_of(10) } } else { Calendar::Solar },
            gender: None,
        });
    }
    let k = arch::active();
    for solar_time in [SolarTime::Civil, SolarTime::LocalMean, SolarTime::Apparent] {
        for zi in [ZiConvention::Split, ZiConvention::DayChangesAt23, ZiConvention::Midnight] {
            for transition in [TransitionPolicy::Reject, TransitionPolicy::Later] {
                let opts = Options { zi, solar_time, transition, ..Options::default() };
                let got = four_pillars_batch_with(k, &inputs, &opts);
                for (i, g) in got.iter().enumerate() {
                    assert_eq!(g, &engine::four_pillars(&inputs[i], &opts), "{} {opts:?} {:?}", k.name(), inputs[i]);
                }
            }
        }
    }
}

#[test]
fn ten_gods_and_elements_match_the_chart() {
    let mut r = Rng(5);
    let mut inputs = Vec::new();
    for _ in 0..3000 {
        let t = r.range(Y1900 + 86_400, Y2100_END - 86_400);
        let local = DateTime::from_ms(t * 1000 + 9 * 3_600_000);
        inputs.push(BirthInput {
            year: local.year,
            month: local.month,
            day: local.day,
            hour: local.hour,
            minute: local.minute,
            second: local.second,
            time: TimeBasis::Offset(540),
            longitude: None,
            calendar: Calendar::Solar,
            gender: None,
        });
    }
    let opts = Options::default();
    let fp: Vec<_> = engine::batch::four_pillars_batch(&inputs, &opts).into_iter().map(Result::unwrap).collect();
    let col = |f: fn(&engine::FourPillars) -> u8| fp.iter().map(f).collect::<Vec<u8>>();
    let (y, m, d, h) = (col(|p| p.year.0), col(|p| p.month.0), col(|p| p.day.0), col(|p| p.hour.0));
    let tg = engine::batch::ten_gods(&y, &m, &d, &h);
    let el = engine::batch::element_counts(&y, &m, &d, &h);
    for (i, input) in inputs.iter().enumerate() {
        let c = engine::Chart::compute(input, &opts).unwrap();
        let stems = [0usize, 1, 3];
        for (k, &p) in stems.iter().enumerate() {
            assert_eq!(Some(tg.stem[k][i]), c.pillars[p].stem.ten_god.map(|t| t.0), "stem {p} item {i}");
        }
        for p in 0..4 {
            assert_eq!(tg.branch[p][i], c.pillars[p].branch.ten_god.0, "branch {p} item {i}");
        }
        let e = c.elements;
        assert_eq!([el[0][i], el[1][i], el[2][i], el[3][i], el[4][i]], [e.wood, e.fire, e.earth, e.metal, e.water]);
    }
}

/// `--features no-simd` compiles the scalar kernel only.
#[test]
#[cfg(feature = "no-simd")]
fn no_simd_builds_only_scalar() {
    assert_eq!(Kernel::available().len(), 1);
    assert!(Kernel::by_name("avx2").is_err() && Kernel::by_name("avx512").is_err());
    assert_eq!(arch::active().name(), "scalar");
}
