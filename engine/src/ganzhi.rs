//! Stems (天干), branches (地支), the sexagenary cycle (六十甲子) and the five elements.

use crate::names::Name;
use serde::Serialize;

/// The ten heavenly stems, index 0 = 甲.
pub const STEMS: [Name; 10] = [
    Name { hanja: "甲", hangul: "갑" },
    Name { hanja: "乙", hangul: "을" },
    Name { hanja: "丙", hangul: "병" },
    Name { hanja: "丁", hangul: "정" },
    Name { hanja: "戊", hangul: "무" },
    Name { hanja: "己", hangul: "기" },
    Name { hanja: "庚", hangul: "경" },
    Name { hanja: "辛", hangul: "신" },
    Name { hanja: "壬", hangul: "임" },
    Name { hanja: "癸", hangul: "계" },
];

/// The twelve earthly branches, index 0 = 子.
pub const BRANCHES: [Name; 12] = [
    Name { hanja: "子", hangul: "자" },
    Name { hanja: "丑", hangul: "축" },
    Name { hanja: "寅", hangul: "인" },
    Name { hanja: "卯", hangul: "묘" },
    Name { hanja: "辰", hangul: "진" },
    Name { hanja: "巳", hangul: "사" },
    Name { hanja: "午", hangul: "오" },
    Name { hanja: "未", hangul: "미" },
    Name { hanja: "申", hangul: "신" },
    Name { hanja: "酉", hangul: "유" },
    Name { hanja: "戌", hangul: "술" },
    Name { hanja: "亥", hangul: "해" },
];

/// The five elements in generating order (木 → 火 → 土 → 金 → 水 → 木). Serializes as
/// `{key, hanja, hangul, roman}`, e.g. `{"key": "wood", "hanja": "木", "hangul": "목", "roman": "mok"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// 木
    Wood,
    /// 火
    Fire,
    /// 土
    Earth,
    /// 金
    Metal,
    /// 水
    Water,
}

impl Element {
    /// All five, generating order.
    pub const ALL: [Self; 5] = [Self::Wood, Self::Fire, Self::Earth, Self::Metal, Self::Water];

    /// Position in the generating order (木 = 0).
    #[must_use]
    pub fn index(self) -> u8 {
        self as u8
    }

    /// Hanja / hangul name.
    #[must_use]
    pub fn name(self) -> Name {
        [
            Name { hanja: "木", hangul: "목" },
            Name { hanja: "火", hangul: "화" },
            Name { hanja: "土", hangul: "토" },
            Name { hanja: "金", hangul: "금" },
            Name { hanja: "水", hangul: "수" },
        ][self as usize]
    }
}

impl Serialize for Element {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let key = ["wood", "fire", "earth", "metal", "water"][*self as usize];
        let n = self.name();
        let mut st = s.serialize_struct("Element", 4)?;
        st.serialize_field("key", key)?;
        st.serialize_field("hanja", n.hanja)?;
        st.serialize_field("hangul", n.hangul)?;
        st.serialize_field("roman", &n.roman())?;
        st.end()
    }
}

/// Element of stem `s` (0..10).
#[must_use]
pub fn stem_element(s: u8) -> Element {
    Element::ALL[usize::from(s % 10 / 2)]
}

/// Element of branch `b` (0..12).
#[must_use]
pub fn branch_element(b: u8) -> Element {
    use Element::{Earth, Fire, Metal, Water, Wood};
    [Water, Earth, Wood, Wood, Earth, Fire, Fire, Earth, Metal, Metal, Earth, Water][usize::from(b % 12)]
}

/// Whether stem `s` is yang (陽: 甲丙戊庚壬).
#[must_use]
pub fn stem_is_yang(s: u8) -> bool {
    s & 1 == 0
}

/// A position in the sexagenary cycle, 0 = 甲子 … 59 = 癸亥.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GanZhi(pub u8);

impl GanZhi {
    /// The cycle position with stem `s` and branch `b` (same parity required).
    #[must_use]
    pub fn from_parts(s: u8, b: u8) -> Self {
        // CRT for mod 10 and mod 12: 6s − 5b ≡ s (mod 10) and ≡ b (mod 12).
        let i = (6 * i32::from(s % 10) - 5 * i32::from(b % 12)).rem_euclid(60);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Self(i as u8)
    }

    /// Cycle position of any integer (wraps mod 60).
    #[must_use]
    pub fn wrap(i: i64) -> Self {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Self(i.rem_euclid(60) as u8)
    }

    /// Stem index 0..10.
    #[must_use]
    pub fn stem(self) -> u8 {
        self.0 % 10
    }

    /// Branch index 0..12.
    #[must_use]
    pub fn branch(self) -> u8 {
        self.0 % 12
    }

    /// The next position `n` steps on (negative goes back).
    #[must_use]
    pub fn shift(self, n: i64) -> Self {
        Self::wrap(i64::from(self.0) + n)
    }

    /// Hanja, e.g. `甲子`.
    #[must_use]
    pub fn hanja(self) -> String {
        format!("{}{}", STEMS[usize::from(self.stem())].hanja, BRANCHES[usize::from(self.branch())].hanja)
    }

    /// Hangul, e.g. `갑자`.
    #[must_use]
    pub fn hangul(self) -> String {
        format!("{}{}", STEMS[usize::from(self.stem())].hangul, BRANCHES[usize::from(self.branch())].hangul)
    }

    /// Parses two hanja characters such as `甲子`.
    #[must_use]
    pub fn parse_hanja(s: &str) -> Option<Self> {
        let mut it = s.chars();
        let (a, b) = (it.next()?, it.next()?);
        if it.next().is_some() {
            return None;
        }
        let si = STEMS.iter().position(|n| n.hanja.starts_with(a))?;
        let bi = BRANCHES.iter().position(|n| n.hanja.starts_with(b))?;
        #[allow(clippy::cast_possible_truncation)]
        let (si, bi) = (si as u8, bi as u8);
        (si % 2 == bi % 2).then(|| Self::from_parts(si, bi))
    }
}

impl Serialize for GanZhi {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("GanZhi", 5)?;
        st.serialize_field("index", &self.0)?;
        st.serialize_field("hanja", &self.hanja())?;
        st.serialize_field("hangul", &self.hangul())?;
        st.serialize_field("roman", &crate::names::romanize(&self.hangul()))?;
        st.end()
    }
}

/// Sexagenary day of a Julian Day Number: (JDN + 49) mod 60 (2000-01-01, JDN 2451545, is 戊午).
#[must_use]
pub fn day_ganzhi(jdn: i64) -> GanZhi {
    GanZhi::wrap(jdn + 49)
}

/// Sexagenary year of a (立春-based) year number: 1984 = 甲子.
#[must_use]
pub fn year_ganzhi(year: i32) -> GanZhi {
    GanZhi::wrap(i64::from(year) - 4)
}

/// Month pillar from the year stem and the month branch (寅 month stem = 2·(year stem mod 5) + 2).
#[must_use]
pub fn month_ganzhi(year_stem: u8, month_branch: u8) -> GanZhi {
    let from_yin = (month_branch + 12 - 2) % 12;
    GanZhi::from_parts((2 * (year_stem % 5) + 2 + from_yin) % 10, month_branch)
}

/// Hour branch of a clock hour: ⌊(h + 1) / 2⌋ mod 12 (23:00–00:59 = 子).
#[must_use]
pub fn hour_branch(hour: u8) -> u8 {
    hour.div_ceil(2) % 12
}

/// Hour pillar from the stem of the day the 子 hour opens and the hour branch (五鼠遁).
#[must_use]
pub fn hour_ganzhi(day_stem: u8, branch: u8) -> GanZhi {
    GanZhi::from_parts((2 * (day_stem % 5) + branch) % 10, branch)
}
