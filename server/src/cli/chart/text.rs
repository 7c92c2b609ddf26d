//! Human-readable rendering of a chart for `hypercube chart` without `--json`.
use engine::chart::{Chart, Pillar};
use engine::names::Name;
use std::fmt::Write;

fn n(name: &Name) -> String {
    format!("{} {}", name.hanja, name.hangul)
}

fn pillar_line(p: &Pillar) -> String {
    let god = p.stem.ten_god.map_or_else(|| "日主 일간".to_owned(), |g| n(&g.name()));
    let hidden: Vec<String> =
        p.branch.hidden.iter().map(|h| format!("{}({})", h.name.hanja, h.ten_god.map_or("", |g| g.name().hangul))).collect();
    format!(
        "{:<6} {} {} ({})  stem {}  branch {}  hidden {}  stage {}  nayin {}",
        p.position,
        p.ganzhi.hanja(),
        p.ganzhi.hangul(),
        engine::names::romanize(&p.ganzhi.hangul()),
        god,
        n(&p.branch.ten_god.name()),
        hidden.join(" "),
        n(&p.life_stage.name()),
        n(&p.nayin),
    )
}

/// The chart as plain text, one fact per line.
pub(super) fn render(c: &Chart) -> String {
    let mut s = String::new();
    let m = &c.moment;
    let off = m.utc_offset_s;
    let sign = if off < 0 { '-' } else { '+' };
    let _ = writeln!(
        s,
        "birth    {} (UTC{sign}{:02}:{:02}:{:02}{}) = {}Z",
        m.local,
        off.abs() / 3600,
        off.abs() / 60 % 60,
        off.abs() % 60,
        m.zone.map(|z| format!(", {z}")).unwrap_or_default(),
        m.utc
    );
    if let Some(l) = m.lunar {
        let _ = writeln!(s, "lunar    {:04}-{:02}-{:02}{} (Korean, KASI)", l.year, l.month, l.day, if l.leap { " leap" } else { "" });
    }
    if m.day_clock != m.local {
        let _ = writeln!(s, "clock    {} ({:?} solar time decides day and hour)", m.day_clock, c.options.solar_time);
    }
    let p = &c.four_pillars;
    let _ = writeln!(s, "pillars  {} {} {} {} (year month day hour)", p.year.hanja(), p.month.hanja(), p.day.hanja(), p.hour.hanja());
    for pl in &c.pillars {
        let _ = writeln!(s, "{}", pillar_line(pl));
    }
    let e = &c.elements;
    let _ = writeln!(
        s,
        "elements 木 {} 火 {} 土 {} 金 {} 水 {}  (hidden: 木 {} 火 {} 土 {} 金 {} 水 {})",
        e.wood,
        e.fire,
        e.earth,
        e.metal,
        e.water,
        c.elements_hidden.wood,
        c.elements_hidden.fire,
        c.elements_hidden.earth,
        c.elements_hidden.metal,
        c.elements_hidden.water
    );
    let _ = writeln!(
        s,
        "void     {}{} (공망 {}{})",
        c.void_branches[0].hanja, c.void_branches[1].hanja, c.void_branches[0].hangul, c.void_branches[1].hangul
    );
    let _ =
        writeln!(s, "jie      {} {} .. {} {}", c.previous_jie.name.hanja, c.previous_jie.local, c.next_jie.name.hanja, c.next_jie.local);
    if let Some(l) = &c.luck {
        let st = &l.start;
        let _ = writeln!(
            s,
            "luck     {} from {} ({}y {}m {}d {}h after birth)",
            if l.forward { "forward" } else { "backward" },
            l.start_datetime,
            st.years,
            st.months,
            st.days,
            st.hours
        );
        let list: Vec<String> = l.pillars.iter().map(|p| format!("{}@{}({})", p.ganzhi.hanja(), p.start_year, p.start_age)).collect();
        let _ = writeln!(s, "         {}", list.join(" "));
    }
    if let Some(y) = &c.year_luck {
        let _ = writeln!(s, "year     {} {} {} (age {})", y.year, y.ganzhi.hanja(), y.ganzhi.hangul(), y.age);
    }
    s
}
