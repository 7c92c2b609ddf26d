//! Request bytes: a fixed head plus an optional body template whose placeholders are filled with
//! random birth data for every request, so a saju server cannot answer from a cache.
//!
//! Placeholders: `{{datetime}}` (`YYYY-MM-DDTHH:MM`, 1900–2049, day ≤ 28), `{{gender}}` (`m`/`f`),
//! `{{year}}` (1900–2049).
//!
//! A [`Mix`] is several named templates with weights (the `mix` scenario); each request picks one
//! with a [`WeightedPicker`] driven by the connection's own [`Rng`], so a run is reproducible.

/// A small, fast, seedable PRNG (xorshift64*): reproducible runs, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-enough in `lo..=hi` for load generation.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(Vec<u8>),
    Datetime,
    Gender,
    Year,
}

/// A request to send: method, path, headers and an optional body template.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    head_prefix: Vec<u8>,
    body: Option<Vec<Part>>,
    /// The request bytes when nothing varies (no body placeholders).
    fixed: Option<Vec<u8>>,
    /// `HEAD` requests get responses without bodies.
    pub is_head: bool,
}

impl RequestTemplate {
    /// `headers` are full `Name: value` lines. A body gets `content-type: application/json`
    /// unless `headers` name one.
    pub fn new(method: &str, host: &str, path: &str, headers: &[String], body: Option<&str>) -> Result<Self, String> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\n");
        let has_ctype = headers.iter().any(|h| h.to_ascii_lowercase().starts_with("content-type:"));
        for h in headers {
            if !h.contains(':') || h.contains('\r') || h.contains('\n') {
                return Err(format!("bad header {h:?}: want `Name: value`"));
            }
            head.push_str(h);
            head.push_str("\r\n");
        }
        if body.is_some() && !has_ctype {
            head.push_str("content-type: application/json\r\n");
        }
        let body = body.map(parse_template).transpose()?;
        let mut t = Self { head_prefix: head.into_bytes(), body, fixed: None, is_head: method.eq_ignore_ascii_case("HEAD") };
        if t.body.as_ref().is_none_or(|parts| parts.iter().all(|p| matches!(p, Part::Lit(_)))) {
            let mut v = Vec::new();
            t.render(&mut Rng::new(1), &mut v);
            t.fixed = Some(v);
        }
        Ok(t)
    }

    /// Append one request to `out`.
    pub fn render(&self, rng: &mut Rng, out: &mut Vec<u8>) {
        if let Some(f) = &self.fixed {
            out.extend_from_slice(f);
            return;
        }
        out.extend_from_slice(&self.head_prefix);
        let Some(parts) = &self.body else {
            out.extend_from_slice(b"\r\n");
            return;
        };
        let mut body = Vec::with_capacity(256);
        render_parts(parts, rng, &mut body);
        out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(&body);
    }
}

/// A body (or WebSocket message) template on its own: literal text with `{{datetime}}`,
/// `{{gender}}` and `{{year}}` filled with random birth data at every render.
#[derive(Debug, Clone)]
pub struct BodyTemplate(Vec<Part>);

impl BodyTemplate {
    pub fn new(template: &str) -> Result<Self, String> {
        parse_template(template).map(Self)
    }

    /// Append one rendering to `out`.
    pub fn render(&self, rng: &mut Rng, out: &mut Vec<u8>) {
        render_parts(&self.0, rng, out);
    }
}

fn render_parts(parts: &[Part], rng: &mut Rng, body: &mut Vec<u8>) {
    for p in parts {
        match p {
            Part::Lit(b) => body.extend_from_slice(b),
            Part::Datetime => {
                let s = format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}",
                    rng.range(1900, 2049),
                    rng.range(1, 12),
                    rng.range(1, 28),
                    rng.range(0, 23),
                    rng.range(0, 59)
                );
                body.extend_from_slice(s.as_bytes());
            }
            Part::Gender => body.push(if rng.next_u64() & 1 == 0 { b'm' } else { b'f' }),
            Part::Year => body.extend_from_slice(rng.range(1900, 2049).to_string().as_bytes()),
        }
    }
}

fn parse_template(s: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let close = rest[open..].find("}}").ok_or_else(|| format!("unclosed placeholder in body template {s:?}"))? + open;
        if open > 0 {
            parts.push(Part::Lit(rest.as_bytes()[..open].to_vec()));
        }
        parts.push(match rest[open + 2..close].trim() {
            "datetime" => Part::Datetime,
            "gender" => Part::Gender,
            "year" => Part::Year,
            other => return Err(format!("unknown placeholder {{{{{other}}}}}: use datetime, gender or year")),
        });
        rest = &rest[close + 2..];
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(Part::Lit(rest.as_bytes().to_vec()));
    }
    Ok(parts)
}

/// Picks an index with probability proportional to its weight: `weights[i] / sum`. Deterministic
/// for a given [`Rng`] state.
#[derive(Debug, Clone)]
pub struct WeightedPicker {
    /// Cumulative weights: `cum[i]` = sum of `weights[..=i]`.
    cum: Vec<u64>,
}

impl WeightedPicker {
    /// `None` if there are no weights or they add up to 0.
    pub fn new(weights: &[u32]) -> Option<Self> {
        let mut total = 0u64;
        let cum: Vec<u64> = weights
            .iter()
            .map(|&w| {
                total += u64::from(w);
                total
            })
            .collect();
        (total > 0).then_some(Self { cum })
    }

    pub fn pick(&self, rng: &mut Rng) -> usize {
        if self.cum.len() == 1 {
            return 0;
        }
        let total = *self.cum.last().expect("non-empty");
        let x = rng.next_u64() % total;
        // The first index whose cumulative weight exceeds x; zero-weight entries are never chosen.
        self.cum.partition_point(|&c| c <= x)
    }
}

/// One named, weighted request of a [`Mix`].
#[derive(Debug, Clone)]
pub struct Weighted {
    /// For the report (`GET /healthz` unless the mix file names it).
    pub name: String,
    pub weight: u32,
    pub template: RequestTemplate,
}

/// The requests a run sends: one template (`http`) or a weighted blend (`mix`).
#[derive(Debug, Clone)]
pub struct Mix {
    pub entries: Vec<Weighted>,
    picker: WeightedPicker,
}

impl Mix {
    pub fn new(entries: Vec<Weighted>) -> Result<Self, String> {
        let weights: Vec<u32> = entries.iter().map(|e| e.weight).collect();
        let picker = WeightedPicker::new(&weights).ok_or("a mix needs at least one request with a weight above 0")?;
        Ok(Self { entries, picker })
    }

    /// Which template the next request uses.
    pub fn pick(&self, rng: &mut Rng) -> usize {
        self.picker.pick(rng)
    }

    pub fn template(&self, i: usize) -> &RequestTemplate {
        &self.entries[i].template
    }

    /// More than one template (reports then break results down per template).
    pub fn is_blend(&self) -> bool {
        self.entries.len() > 1
    }
}

impl From<RequestTemplate> for Mix {
    fn from(t: RequestTemplate) -> Self {
        Self::new(vec![Weighted { name: String::new(), weight: 1, template: t }]).expect("weight 1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picker_follows_weights_and_is_deterministic() {
        let p = WeightedPicker::new(&[1, 0, 3, 6]).unwrap();
        let mut rng = Rng::new(42);
        let mut n = [0u32; 4];
        for _ in 0..100_000 {
            n[p.pick(&mut rng)] += 1;
        }
        assert_eq!(n[1], 0, "weight 0 is never picked");
        for (i, want) in [(0, 0.1), (2, 0.3), (3, 0.6)] {
            let got = f64::from(n[i]) / 100_000.0;
            assert!((got - want).abs() < 0.01, "index {i}: {got} vs {want}");
        }
        // Same seed, same sequence.
        let (mut a, mut b) = (Rng::new(9), Rng::new(9));
        let sa: Vec<usize> = (0..50).map(|_| p.pick(&mut a)).collect();
        let sb: Vec<usize> = (0..50).map(|_| p.pick(&mut b)).collect();
        assert_eq!(sa, sb);
        assert!(WeightedPicker::new(&[]).is_none());
        assert!(WeightedPicker::new(&[0, 0]).is_none());
        assert_eq!(WeightedPicker::new(&[5]).unwrap().pick(&mut rng), 0);
    }

    #[test]
    fn fixed_get() {
        let t = RequestTemplate::new("GET", "127.0.0.1:8080", "/healthz", &[], None).unwrap();
        let mut v = Vec::new();
        t.render(&mut Rng::new(3), &mut v);
        assert_eq!(v, b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:8080\r\n\r\n");
    }

    #[test]
    fn templated_body_varies_and_has_the_right_length() {
        let t = RequestTemplate::new(
            "POST",
            "h",
            "/v1/saju",
            &[],
            Some(r#"{"datetime":"{{datetime}}","zone":"Asia/Seoul","gender":"{{ gender }}"}"#),
        )
        .unwrap();
        let mut rng = Rng::new(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100 {
            let mut v = Vec::new();
            t.render(&mut rng, &mut v);
            let text = String::from_utf8(v).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with("POST /v1/saju HTTP/1.1\r\nhost: h\r\ncontent-type: application/json\r\n"), "{head}");
            assert!(head.ends_with(&format!("content-length: {}", body.len())), "{head}");
            let dt = &body[13..29];
            assert_eq!(dt.len(), 16);
            assert_eq!(&dt[4..5], "-");
            assert!(body.ends_with("\"gender\":\"m\"}") || body.ends_with("\"gender\":\"f\"}"), "{body}");
            seen.insert(dt.to_string());
        }
        assert!(seen.len() > 90, "birth data should vary: {}", seen.len());
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(RequestTemplate::new("POST", "h", "/", &[], Some("{{nope}}")).is_err());
        assert!(RequestTemplate::new("POST", "h", "/", &[], Some("{{datetime")).is_err());
        assert!(RequestTemplate::new("GET", "h", "/", &["bad".into()], None).is_err());
    }
}
