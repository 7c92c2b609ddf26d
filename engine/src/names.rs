//! Names: every term the engine outputs carries hanja, hangul and a romanization (Revised
//! Romanization of the hangul, syllable by syllable, without sound-change rules).

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// A name in hanja and hangul; serializes with its romanization as `{hanja, hangul, roman}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name {
    /// Traditional Chinese characters (한자).
    pub hanja: &'static str,
    /// Korean reading (한글).
    pub hangul: &'static str,
}

impl Name {
    /// Revised Romanization of the hangul reading.
    #[must_use]
    pub fn roman(&self) -> String {
        romanize(self.hangul)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Name", 3)?;
        st.serialize_field("hanja", self.hanja)?;
        st.serialize_field("hangul", self.hangul)?;
        st.serialize_field("roman", &self.roman())?;
        st.end()
    }
}

const INITIALS: [&str; 19] = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"];
const MEDIALS: [&str; 21] =
    ["a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu", "eu", "ui", "i"];
const FINALS: [&str; 28] = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p",
    "t",
];

/// Romanizes hangul syllables (Revised Romanization letters, no assimilation); other characters
/// pass through. An initial ㄹ is `r`, or `l` after a final ㄹ.
#[must_use]
pub fn romanize(hangul: &str) -> String {
    let mut out = String::with_capacity(hangul.len());
    let mut prev_final = "";
    for c in hangul.chars() {
        let code = u32::from(c);
        if !(0xAC00..=0xD7A3).contains(&code) {
            out.push(c);
            prev_final = "";
            continue;
        }
        let s = (code - 0xAC00) as usize;
        let (i, m, f) = (s / 588, (s % 588) / 28, s % 28);
        let mut initial = INITIALS[i];
        if initial == "r" && prev_final == "l" {
            initial = "l";
        }
        out.push_str(initial);
        out.push_str(MEDIALS[m]);
        out.push_str(FINALS[f]);
        prev_final = FINALS[f];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::romanize;

    #[test]
    fn romanizes() {
        assert_eq!(romanize("갑자"), "gapja");
        assert_eq!(romanize("겁재"), "geopjae");
        assert_eq!(romanize("상관"), "sanggwan");
        assert_eq!(romanize("대림목"), "daerimmok");
        assert_eq!(romanize("을축"), "eulchuk");
    }
}
