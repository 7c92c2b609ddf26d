//! The real model against the Python ONNX Runtime reference (inference/tools/reference.py),
//! the EP fallback, the batcher driving real sessions, and ranking over the real corpus.
//! Needs scripts/setup's .deps/ (see tests/common).
mod common;
use inference::batcher::{self, Batcher};
use inference::corpus::{Corpus, Index, Lang};
use inference::model::{dot, load_tokenizer, Embedder, ModelFiles, OnnxEmbedder};
use inference::rank;
use inference::runtime::{Ep, EpChoice, Runtime};
use std::time::{Duration, Instant};

#[derive(serde::Deserialize)]
struct Reference {
    sentences: Vec<RefSentence>,
}
#[derive(serde::Deserialize)]
struct RefSentence {
    text: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("reference.json")).unwrap()
}

fn open(ep: EpChoice) -> (OnnxEmbedder, Option<String>) {
    let rt = Runtime::load(&common::ort_lib()).expect("load onnxruntime");
    OnnxEmbedder::open(&rt, &ModelFiles::in_dir(&common::model_dir()), ep, 1).expect("open model")
}

#[test]
fn embeddings_match_the_python_reference() {
    if !common::have_model("embeddings_match_the_python_reference") {
        return;
    }
    let r = reference();
    let tok = load_tokenizer(&common::model_dir().join("tokenizer.json")).unwrap();
    for s in &r.sentences {
        let enc = tok.encode(s.text.as_str(), true).unwrap();
        assert_eq!(enc.get_ids(), &s.ids[..], "token ids differ for {:?}", s.text);
    }
    let (mut m, _) = open(EpChoice::Cpu);
    assert_eq!(m.dim(), 384);
    let texts: Vec<&str> = r.sentences.iter().map(|s| s.text.as_str()).collect();
    // One padded batch, and each sentence alone: both must match.
    let batched = m.embed(&texts).unwrap();
    for (s, v) in r.sentences.iter().zip(&batched) {
        let alone = m.embed(&[s.text.as_str()]).unwrap().remove(0);
        let (cb, ca) = (dot(v, &s.embedding), dot(&alone, &s.embedding));
        println!("cos(batched, ref) = {cb:.6}  cos(alone, ref) = {ca:.6}  {:?}", s.text);
        assert!(cb >= 0.999 && ca >= 0.999, "{:?}: cosine {cb} / {ca} < 0.999", s.text);
        let norm = dot(v, v).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not unit length: {norm}");
    }
}

#[test]
fn auto_falls_back_to_cpu_and_says_why() {
    if !common::have_model("auto_falls_back_to_cpu_and_says_why") {
        return;
    }
    // The CPU build of the library has no CUDA EP (and CI has no GPU): auto must fall back to
    // CPU with the registration error in hand; cuda must fail with it.
    let (m, why) = open(EpChoice::Auto);
    if m.ep() == Ep::Cuda {
        eprintln!("CUDA is available here; the fallback path is not exercised");
        return;
    }
    assert_eq!(m.ep(), Ep::Cpu);
    let why = why.expect("auto fell back without saying why");
    assert!(!why.is_empty());
    println!("auto → cpu because: {why}");
    let rt = Runtime::load(&common::ort_lib()).unwrap();
    let err = OnnxEmbedder::open(&rt, &ModelFiles::in_dir(&common::model_dir()), EpChoice::Cuda, 1).err().expect("cuda must fail");
    assert!(matches!(err, inference::Error::Provider(_)), "{err}");
}

#[test]
fn batcher_with_real_sessions_answers_each_asker() {
    if !common::have_model("batcher_with_real_sessions_answers_each_asker") {
        return;
    }
    let r = reference();
    let models: Vec<Box<dyn Embedder>> = (0..2).map(|_| Box::new(open(EpChoice::Cpu).0) as Box<dyn Embedder>).collect();
    let cfg = batcher::Config { max_batch: 8, max_wait: Duration::from_millis(5), ..Default::default() };
    let b = Batcher::start(&cfg, models).unwrap();
    let h = b.handle();
    let deadline = Instant::now() + Duration::from_secs(60);
    let jobs: Vec<_> =
        (0..44).map(|i| (i % r.sentences.len(), h.submit(r.sentences[i % r.sentences.len()].text.clone(), deadline).unwrap())).collect();
    for (i, rx) in jobs {
        let v = futures_executor::block_on(rx).expect("reply").expect("embedding");
        assert!(dot(&v, &r.sentences[i].embedding) >= 0.999, "job for sentence {i} got a wrong vector");
    }
    let st = h.stats();
    assert_eq!(st.items, 44);
    assert!(st.batches < 44, "no batching happened: {st:?}");
    b.shutdown();
}

#[test]
fn ranking_prefers_passages_on_the_question_topic() {
    if !common::have_model("ranking_prefers_passages_on_the_question_topic") {
        return;
    }
    let (mut m, _) = open(EpChoice::Cpu);
    let t0 = Instant::now();
    let index = Index::build(Corpus::builtin().unwrap(), &mut m, 32).unwrap();
    println!("embedded {} passages in {:?}", index.corpus.passages.len(), t0.elapsed());
    for (q, domain) in [
        ("Will I get promoted at my company?", "domain:career"),
        ("How can I save more money and invest wisely?", "domain:wealth"),
        ("올해 건강은 괜찮을까요?", "domain:health"),
        ("시험에 합격할 수 있을까요?", "domain:study"),
    ] {
        let qv = m.embed(&[q]).unwrap().remove(0);
        let facts = rank::question_facts(q);
        let hits = rank::rank(&index, &qv, &facts, Some(Lang::detect(q)), 5);
        assert_eq!(hits.len(), 5);
        let on_topic = hits.iter().filter(|h| h.facts.iter().any(|f| f.tag == domain)).count();
        println!("{q}: {:?}", hits.iter().map(|h| (&h.id, h.score)).collect::<Vec<_>>());
        assert!(on_topic >= 4, "{q}: only {on_topic} of 5 hits on {domain}");
        assert!(hits.iter().all(|h| h.lang == Lang::detect(q).as_str()));
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
    // Without topic words, similarity alone must still find the subject.
    let q = "a talent for cooking and crafts, enjoying food";
    let qv = m.embed(&[q]).unwrap().remove(0);
    let hits = rank::rank(&index, &qv, &[], Some(Lang::En), 3);
    assert!(hits.iter().any(|h| h.id.starts_with("tg-eating_god")), "{hits:#?}");
}
