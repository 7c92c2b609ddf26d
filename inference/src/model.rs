//! Sentence embeddings: the [`Embedder`] trait the batcher drives, and [`OnnxEmbedder`], a
//! BERT-style encoder (all-MiniLM-L6-v2 by default) run by ONNX Runtime.
//!
//! The recipe must match `inference/tools/reference.py` exactly: WordPiece tokens from
//! `tokenizer.json` (truncated to 128; a run pads to its longest, masked out), the graph's
//! `last_hidden_state`, mean over the attention mask, then L2 normalisation.
use crate::runtime::{Ep, EpChoice, Runtime};
use crate::Error;
use ort::session::Session;
use ort::value::Tensor;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokenizers::{Tokenizer, TruncationParams};

/// Longest input in tokens, [CLS] and [SEP] included (the model was trained with 128… 256; 128
/// keeps a batch's cost bounded).
pub const MAX_TOKENS: usize = 128;

/// Something that turns texts into unit-length vectors, one per text, in order. The batcher's
/// workers own one each (`&mut self`: an ONNX session runs one batch at a time).
pub trait Embedder: Send {
    /// Embed a batch. The result has `texts.len()` vectors of [`Self::dim`] floats.
    fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error>;
    /// Vector length.
    fn dim(&self) -> usize;
}

/// Where a model's files are: `model.onnx` and `tokenizer.json` in one folder.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub onnx: PathBuf,
    pub tokenizer: PathBuf,
}

impl ModelFiles {
    #[must_use]
    pub fn in_dir(dir: &Path) -> Self {
        Self { onnx: dir.join("model.onnx"), tokenizer: dir.join("tokenizer.json") }
    }

    /// Both files exist, or an error naming the missing one.
    pub fn check(&self) -> Result<(), Error> {
        for p in [&self.onnx, &self.tokenizer] {
            if !p.is_file() {
                return Err(Error::Model(format!("{} not found (run scripts/setup)", p.display())));
            }
        }
        Ok(())
    }

    /// SHA-256 of the graph and the tokenizer, hex: the key of the corpus embedding cache.
    pub fn hash(&self) -> Result<String, Error> {
        let mut h = Sha256::new();
        for p in [&self.onnx, &self.tokenizer] {
            let bytes = std::fs::read(p).map_err(|e| Error::Model(format!("{}: {e}", p.display())))?;
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
        Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// Load a tokenizer: truncation at [`MAX_TOKENS`], no padding (runs pad per length group).
pub fn load_tokenizer(path: &Path) -> Result<Tokenizer, Error> {
    let mut t = Tokenizer::from_file(path).map_err(|e| Error::Model(format!("{}: {e}", path.display())))?;
    t.with_padding(None);
    t.with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
        .map_err(|e| Error::Model(format!("tokenizer truncation: {e}")))?;
    Ok(t)
}

/// A BERT-style sentence encoder on ONNX Runtime.
pub struct OnnxEmbedder {
    session: Session,
    tokenizer: Tokenizer,
    token_types: bool,
    pad_id: i64,
    dim: usize,
    ep: Ep,
}

impl OnnxEmbedder {
    /// Open the model on `rt` (GPU 0 when CUDA). `threads` is ONNX Runtime's intra-op pool size
    /// for this session. Returns the embedder and, when `Auto` fell back to CPU, why CUDA was
    /// not used.
    pub fn open(rt: &Runtime, files: &ModelFiles, ep: EpChoice, threads: usize) -> Result<(Self, Option<String>), Error> {
        Self::open_on(rt, files, ep, threads, 0)
    }

    /// [`Self::open`] on CUDA device `device` (one worker per GPU).
    pub fn open_on(rt: &Runtime, files: &ModelFiles, ep: EpChoice, threads: usize, device: i32) -> Result<(Self, Option<String>), Error> {
        files.check()?;
        let tokenizer = load_tokenizer(&files.tokenizer)?;
        let (session, ep, why) = rt.session(&files.onnx, ep, threads, device)?;
        let names: Vec<&str> = session.inputs().iter().map(|o| o.name()).collect();
        for need in ["input_ids", "attention_mask"] {
            if !names.contains(&need) {
                return Err(Error::Model(format!("graph has no input {need:?} (inputs: {names:?})")));
            }
        }
        let token_types = names.contains(&"token_type_ids");
        if !session.outputs().iter().any(|o| o.name() == "last_hidden_state") {
            return Err(Error::Model("graph has no output \"last_hidden_state\"".into()));
        }
        let pad_id = i64::from(tokenizer.token_to_id("[PAD]").unwrap_or(0));
        let mut me = Self { session, tokenizer, token_types, pad_id, dim: 0, ep };
        me.dim = me.embed(&["dimension probe"])?.first().map_or(0, Vec::len);
        Ok((me, why))
    }

    /// The execution provider this session runs on.
    #[must_use]
    pub fn ep(&self) -> Ep {
        self.ep
    }
}

impl OnnxEmbedder {
    /// One model run over `enc` (already tokenized, unpadded), padded to its longest.
    fn run(&mut self, enc: &[&tokenizers::Encoding]) -> Result<Vec<Vec<f32>>, Error> {
        let (n, seq) = (enc.len(), enc.iter().map(|e| e.get_ids().len()).max().unwrap_or(0));
        let mut ids = vec![self.pad_id; n * seq];
        let mut mask = vec![0i64; n * seq];
        for (row, e) in enc.iter().enumerate() {
            for (j, (&id, &m)) in e.get_ids().iter().zip(e.get_attention_mask()).enumerate() {
                ids[row * seq + j] = i64::from(id);
                mask[row * seq + j] = i64::from(m);
            }
        }
        let t = |v: Vec<i64>| Tensor::from_array(([n, seq], v)).map_err(|e| Error::Run(e.to_string()));
        let mut inputs = ort::inputs! { "input_ids" => t(ids)?, "attention_mask" => t(mask.clone())? };
        if self.token_types {
            inputs.push(("token_type_ids".into(), t(vec![0; n * seq])?.into()));
        }
        let out = self.session.run(inputs).map_err(|e| Error::Run(e.to_string()))?;
        let (shape, hidden) = out["last_hidden_state"].try_extract_tensor::<f32>().map_err(|e| Error::Run(e.to_string()))?;
        let dims: &[i64] = shape;
        if dims.len() != 3 || dims[0] as usize != n || dims[1] as usize != seq {
            return Err(Error::Run(format!("unexpected output shape {dims:?} for batch {n}×{seq}")));
        }
        Ok(mean_pool_normalize(hidden, &mask, n, seq, dims[2] as usize))
    }
}

impl Embedder for OnnxEmbedder {
    /// Tokenize all, then run them in groups of similar length: a batch is padded to its
    /// longest text, and on a CPU padding is paid in full (a Korean question is ~3× the tokens
    /// of an English one with this vocabulary). Groups keep padding under [`MAX_PADDING`].
    fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| Error::Run(format!("tokenize: {e}")))?;
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); enc.len()];
        for group in length_groups(&enc.iter().map(|e| e.get_ids().len()).collect::<Vec<_>>()) {
            let batch: Vec<&tokenizers::Encoding> = group.iter().map(|&i| &enc[i]).collect();
            for (&i, v) in group.iter().zip(self.run(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn dim(&self) -> usize {
        self.dim
    }
}

/// Padding allowed in one run, as a fraction of its real tokens.
pub const MAX_PADDING: f32 = 0.25;

/// Split items of the given token lengths into runs: sorted by length, a run grows while its
/// padded size (count × longest) stays within (1 + [`MAX_PADDING`]) × its real tokens.
#[must_use]
pub fn length_groups(lens: &[usize]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by_key(|&i| lens[i]);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut real = 0usize;
    for i in order {
        let fits = groups.last().is_some_and(|g| {
            let padded = (g.len() + 1) * lens[i];
            padded as f32 <= (1.0 + MAX_PADDING) * (real + lens[i]) as f32
        });
        if fits {
            real += lens[i];
            if let Some(g) = groups.last_mut() {
                g.push(i);
            }
        } else {
            real = lens[i];
            groups.push(vec![i]);
        }
    }
    groups
}

/// Mean of each row's token vectors where `mask` is 1, then scaled to unit length.
/// `hidden` is `[n, seq, dim]` row-major, `mask` `[n, seq]`.
#[must_use]
pub fn mean_pool_normalize(hidden: &[f32], mask: &[i64], n: usize, seq: usize, dim: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|i| {
            let mut acc = vec![0f32; dim];
            let mut count = 0f32;
            for j in 0..seq {
                if mask[i * seq + j] != 0 {
                    count += 1.0;
                    let row = &hidden[(i * seq + j) * dim..(i * seq + j + 1) * dim];
                    acc.iter_mut().zip(row).for_each(|(a, x)| *a += x);
                }
            }
            let c = count.max(1e-9);
            acc.iter_mut().for_each(|a| *a /= c);
            normalize(&mut acc);
            acc
        })
        .collect()
}

/// Scale to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

/// Dot product (= cosine for unit vectors).
#[must_use]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_groups_bound_padding_and_cover_every_item() {
        let lens = [12, 40, 13, 41, 11, 90, 14, 39];
        let groups = length_groups(&lens);
        let mut all: Vec<usize> = groups.concat();
        all.sort_unstable();
        assert_eq!(all, (0..lens.len()).collect::<Vec<_>>());
        for g in &groups {
            let longest = g.iter().map(|&i| lens[i]).max().unwrap();
            let real: usize = g.iter().map(|&i| lens[i]).sum();
            assert!((g.len() * longest) as f32 <= 1.25 * real as f32, "{g:?}");
        }
        assert_eq!(groups.len(), 3, "short, medium and the one long text: {groups:?}");
        assert!(length_groups(&[]).is_empty());
    }

    #[test]
    fn pooling_ignores_padding_and_normalizes() {
        // Two rows, seq 3, dim 2; row 1 has one padded token holding garbage.
        let hidden = [1.0, 0.0, 3.0, 0.0, 9.0, 9.0, 0.0, 2.0, 0.0, 4.0, 100.0, -100.0];
        let mask = [1, 1, 0, 1, 1, 0];
        let v = mean_pool_normalize(&hidden, &mask, 2, 3, 2);
        assert_eq!(v, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    }
}
