//! The interpretation corpus: passages in Korean and English, tagged with the chart facts they
//! speak to, compiled into the binary from `inference/corpus/*.jsonl`, and their embeddings,
//! computed once and cached on disk under a key of (model hash, corpus hash).
//!
//! Passage tags: `god:<ten god>` (e.g. `god:direct_wealth`), `element:<element>:strong|weak`,
//! `balance`, `luck`, `luck:year`, `luck:god:<ten god>` (a luck period ruled by that god), and
//! `domain:career|wealth|relationships|health|study`.
use crate::model::Embedder;
use crate::Error;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const FILES: [(&str, &str); 4] = [
    ("ten_gods.jsonl", include_str!("../corpus/ten_gods.jsonl")),
    ("elements.jsonl", include_str!("../corpus/elements.jsonl")),
    ("luck.jsonl", include_str!("../corpus/luck.jsonl")),
    ("domains.jsonl", include_str!("../corpus/domains.jsonl")),
];

/// Passage language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Ko,
}

impl Lang {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ko => "ko",
        }
    }

    /// Korean if the text holds any Hangul, else English.
    #[must_use]
    pub fn detect(text: &str) -> Self {
        let hangul = |c: char| matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}');
        if text.chars().any(hangul) {
            Self::Ko
        } else {
            Self::En
        }
    }
}

/// One passage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Passage {
    pub id: String,
    pub lang: Lang,
    pub tags: Vec<String>,
    pub text: String,
}

/// Every passage, in file order.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub passages: Vec<Passage>,
}

impl Corpus {
    /// The corpus compiled into this binary.
    pub fn builtin() -> Result<Self, Error> {
        let mut passages = Vec::new();
        for (name, text) in FILES {
            passages.extend(parse(name, text)?);
        }
        let mut ids: Vec<&str> = passages.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::Model(format!("corpus: duplicate passage id {}", w[0])));
        }
        Ok(Self { passages })
    }

    /// SHA-256 over ids and texts, hex.
    #[must_use]
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for p in &self.passages {
            for part in [p.id.as_bytes(), p.text.as_bytes()] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part);
            }
        }
        hex(&h.finalize())
    }
}

fn parse(name: &str, text: &str) -> Result<Vec<Passage>, Error> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| Error::Model(format!("corpus {name}:{}: {e}", i + 1))))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// How the index was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    Computed,
}

/// The corpus with one unit vector per passage.
pub struct Index {
    pub corpus: Corpus,
    dim: usize,
    vectors: Vec<f32>,
}

const MAGIC: &[u8; 8] = b"HCEMB01\0";

impl Index {
    /// Embed every passage with `model`, `batch` at a time. Passages are batched in order of
    /// length so that little of each batch is padding (Korean text takes ~2.5 WordPiece tokens
    /// per syllable with this vocabulary, so lengths vary a lot).
    pub fn build(corpus: Corpus, model: &mut dyn Embedder, batch: usize) -> Result<Self, Error> {
        let mut order: Vec<usize> = (0..corpus.passages.len()).collect();
        order.sort_by_key(|&i| corpus.passages[i].text.len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); order.len()];
        for chunk in order.chunks(batch.max(1)) {
            let texts: Vec<&str> = chunk.iter().map(|&i| corpus.passages[i].text.as_str()).collect();
            for (&i, v) in chunk.iter().zip(model.embed(&texts)?) {
                out[i] = v;
            }
        }
        let dim = out.first().map_or(0, Vec::len);
        if out.iter().any(|v| v.len() != dim) {
            return Err(Error::Run("the model returned vectors of different lengths".into()));
        }
        Ok(Self { corpus, dim, vectors: out.concat() })
    }

    /// Read the cached vectors for (`model_hash`, corpus) from `dir`, or build and write them.
    /// A cache that cannot be written is logged, not fatal.
    pub fn load_or_build(corpus: Corpus, model_hash: &str, dir: &Path, model: &mut dyn Embedder) -> Result<(Self, Source, PathBuf), Error> {
        let path = dir.join(format!("corpus-{}-{}.f32", &model_hash[..16.min(model_hash.len())], &corpus.hash()[..16]));
        if let Some((dim, vectors)) = read_cache(&path, corpus.passages.len()) {
            return Ok((Self { corpus, dim, vectors }, Source::Cache, path));
        }
        let me = Self::build(corpus, model, 32)?;
        if let Err(e) = me.write_cache(&path) {
            tracing::warn!(path = %path.display(), error = %e, "could not write the corpus embedding cache");
        }
        Ok((me, Source::Computed, path))
    }

    fn write_cache(&self, path: &Path) -> std::io::Result<()> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d)?;
        }
        let mut out = Vec::with_capacity(16 + self.vectors.len() * 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.corpus.passages.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.dim as u32).to_le_bytes());
        for x in &self.vectors {
            out.extend_from_slice(&x.to_le_bytes());
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &out)?;
        std::fs::rename(&tmp, path)
    }

    /// Vector length.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The vector of passage `i`.
    #[must_use]
    pub fn vector(&self, i: usize) -> &[f32] {
        &self.vectors[i * self.dim..(i + 1) * self.dim]
    }
}

fn read_cache(path: &Path, n: usize) -> Option<(usize, Vec<f32>)> {
    let b = std::fs::read(path).ok()?;
    if b.len() < 16 || &b[..8] != MAGIC {
        return None;
    }
    let count = u32::from_le_bytes(b[8..12].try_into().ok()?) as usize;
    let dim = u32::from_le_bytes(b[12..16].try_into().ok()?) as usize;
    if count != n || dim == 0 || b.len() != 16 + count * dim * 4 {
        return None;
    }
    Some((dim, b[16..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_corpus_is_large_bilingual_and_tagged() {
        let c = Corpus::builtin().unwrap();
        let (ko, en) = (c.passages.iter().filter(|p| p.lang == Lang::Ko).count(), c.passages.iter().filter(|p| p.lang == Lang::En).count());
        assert!(c.passages.len() >= 200 && ko >= 100 && en >= 100, "{ko} ko + {en} en");
        for p in &c.passages {
            assert!(!p.tags.is_empty(), "{} has no tags", p.id);
            assert_eq!(Lang::detect(&p.text), p.lang, "{} is not in its language", p.id);
            for t in &p.tags {
                let ok = t == "balance"
                    || t == "luck"
                    || t == "luck:year"
                    || t.strip_prefix("luck:god:")
                        .or_else(|| t.strip_prefix("god:"))
                        .is_some_and(|g| crate::rank::TEN_GOD_KEYS.contains(&g))
                    || t.strip_prefix("domain:").is_some_and(|d| crate::rank::DOMAINS.contains(&d))
                    || t.strip_prefix("element:").is_some_and(|e| {
                        e.split_once(':').is_some_and(|(el, s)| crate::rank::ELEMENT_KEYS.contains(&el) && (s == "strong" || s == "weak"))
                    });
                assert!(ok, "{}: unknown tag {t}", p.id);
            }
        }
        for d in crate::rank::DOMAINS {
            for lang in [Lang::En, Lang::Ko] {
                let n = c.passages.iter().filter(|p| p.lang == lang && p.tags.iter().any(|t| t == &format!("domain:{d}"))).count();
                assert!(n >= 10, "{d}/{lang:?}: only {n} passages");
            }
        }
    }

    #[test]
    fn cache_round_trips_and_rejects_mismatch() {
        struct Const;
        impl Embedder for Const {
            fn embed(&mut self, t: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
                Ok(t.iter().map(|s| vec![s.len() as f32, 1.0]).collect())
            }
            fn dim(&self) -> usize {
                2
            }
        }
        let dir = std::env::temp_dir().join(format!("hc-corpus-{}", std::process::id()));
        let c = Corpus::builtin().unwrap();
        let (a, src, path) = Index::load_or_build(c.clone(), "abcdef0123456789ff", &dir, &mut Const).unwrap();
        assert_eq!(src, Source::Computed);
        let (b, src, _) = Index::load_or_build(c.clone(), "abcdef0123456789ff", &dir, &mut Const).unwrap();
        assert_eq!(src, Source::Cache);
        assert_eq!(a.vectors, b.vectors);
        let (_, src, _) = Index::load_or_build(c, "0000000000000000ff", &dir, &mut Const).unwrap();
        assert_eq!(src, Source::Computed, "another model must not reuse the cache");
        assert!(read_cache(&path, 3).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
