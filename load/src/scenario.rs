//! Scenario files: a TOML file names a subcommand and its options, and becomes the same argument
//! list the command line takes, so files and flags share one parser and one set of checks.
//!
//! ```toml
//! scenario = "http"            # the subcommand: "http", "h3", "mix", "ws" or "ws-hold"
//! url = "http://127.0.0.1:8080/v1/saju"
//! method = "POST"
//! body = '{"datetime":"{{datetime}}","zone":"Asia/Seoul"}'
//! connections = 64             # → --connections 64
//! rate = 20000
//! header = ["x-a: 1"]          # arrays repeat the flag
//! quiet = true                 # true → the bare flag; false → left out
//! ```
//!
//! Any subcommand works the same way, e.g. WebSocket message load:
//!
//! ```toml
//! scenario = "ws"
//! url = "ws://127.0.0.1:8080/v1/ws"
//! body = '{"id":{{id}},"type":"chart","datetime":"{{datetime}}","zone":"Asia/Seoul"}'
//! connections = 1000
//! ramp = 500                   # connections/s
//! rate = 5000                  # open loop, messages/s
//! ```
//!
//! A `mix` adds `[[request]]` tables — one per request template, picked by weight — which
//! [`mix_from_toml`] reads (the same file serves `hypercube-load run` and `mix --file`):
//!
//! ```toml
//! scenario = "mix"
//! url = "http://127.0.0.1:8080"  # paths come from the requests
//! connections = 64
//!
//! [[request]]
//! name = "health"                # optional; default "METHOD PATH"
//! path = "/healthz"              # method defaults to GET, weight to 1
//! weight = 1
//!
//! [[request]]
//! method = "POST"
//! path = "/v1/saju"
//! body = '{"datetime":"{{datetime}}","zone":"Asia/Seoul","gender":"{{gender}}"}'
//! header = ["x-trace: 1"]
//! weight = 9
//! ```

/// The argument list (without the program name) for a scenario file's text.
pub fn args_from_toml(text: &str) -> Result<Vec<String>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("scenario file: {e}"))?;
    let scenario = table
        .get("scenario")
        .and_then(|v| v.as_str())
        .ok_or("scenario file: needs `scenario = \"http\"` (or \"h3\", \"mix\", \"ws\", \"ws-hold\")")?;
    let url = table.get("url").and_then(|v| v.as_str()).ok_or("scenario file: needs `url`")?;
    let mut args = vec![scenario.to_string(), url.to_string()];
    for (k, v) in &table {
        if k == "scenario" || k == "url" {
            continue;
        }
        // `[[request]]` tables are a mix's templates: read by `mix_from_toml`, not flags.
        if k == "request" && v.as_array().is_some_and(|a| a.iter().all(toml::Value::is_table)) {
            continue;
        }
        let flag = format!("--{}", k.replace('_', "-"));
        let one = |v: &toml::Value| -> Result<String, String> {
            match v {
                toml::Value::String(s) => Ok(s.clone()),
                toml::Value::Integer(i) => Ok(i.to_string()),
                toml::Value::Float(f) => Ok(f.to_string()),
                other => Err(format!("scenario file: `{k}` = {other}: want a string, number, bool or array of them")),
            }
        };
        match v {
            toml::Value::Boolean(true) => args.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::Array(items) => {
                for it in items {
                    args.push(flag.clone());
                    args.push(one(it)?);
                }
            }
            other => {
                args.push(flag);
                args.push(one(other)?);
            }
        }
    }
    Ok(args)
}

/// One request template of a mix, from a file or the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixRequest {
    /// For the report; `None` → "METHOD PATH".
    pub name: Option<String>,
    pub method: String,
    pub path: String,
    /// Body template (placeholders as for `http --body`).
    pub body: Option<String>,
    /// Extra `Name: value` header lines for this request.
    pub headers: Vec<String>,
    pub weight: u32,
}

impl MixRequest {
    /// The name reports use.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("{} {}", self.method, self.path))
    }
}

/// The `[[request]]` tables of a mix file.
pub fn mix_from_toml(text: &str) -> Result<Vec<MixRequest>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("mix file: {e}"))?;
    let Some(reqs) = table.get("request") else {
        return Err("mix file: needs at least one [[request]] table".into());
    };
    let reqs = reqs.as_array().ok_or("mix file: `request` must be [[request]] tables")?;
    let mut out = Vec::with_capacity(reqs.len());
    for (n, r) in reqs.iter().enumerate() {
        let t = r.as_table().ok_or_else(|| format!("mix file: request {n} is not a table"))?;
        let at = |k: &str| format!("mix file: request {n} (`{k}`)");
        let string = |k: &str| -> Result<Option<String>, String> {
            match t.get(k) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!("{}: want a string, got {other}", at(k))),
            }
        };
        for k in t.keys() {
            if !["name", "method", "path", "body", "header", "headers", "weight"].contains(&k.as_str()) {
                return Err(format!("mix file: request {n}: unknown key `{k}` (name, method, path, body, header, weight)"));
            }
        }
        let path = string("path")?.ok_or_else(|| format!("mix file: request {n} needs `path`"))?;
        if !path.starts_with('/') {
            return Err(format!("{}: {path:?} must start with /", at("path")));
        }
        let weight = match t.get("weight") {
            None => 1,
            Some(toml::Value::Integer(w)) => u32::try_from(*w).map_err(|_| format!("{}: {w} is not in 0..=4294967295", at("weight")))?,
            Some(other) => return Err(format!("{}: want an integer, got {other}", at("weight"))),
        };
        let mut headers = Vec::new();
        for k in ["header", "headers"] {
            match t.get(k) {
                None => {}
                Some(toml::Value::String(h)) => headers.push(h.clone()),
                Some(toml::Value::Array(a)) => {
                    for h in a {
                        headers.push(h.as_str().ok_or_else(|| format!("{}: want strings", at(k)))?.to_string());
                    }
                }
                Some(other) => return Err(format!("{}: want a string or array of strings, got {other}", at(k))),
            }
        }
        out.push(MixRequest {
            name: string("name")?,
            method: string("method")?.unwrap_or_else(|| "GET".into()).to_ascii_uppercase(),
            path,
            body: string("body")?,
            headers,
            weight,
        });
    }
    if out.is_empty() {
        return Err("mix file: needs at least one [[request]] table".into());
    }
    Ok(out)
}

/// A request on the command line: `WEIGHT METHOD PATH [BODY]` (the body is the rest of the line,
/// spaces and all), e.g. `9 POST /v1/saju {"datetime":"{{datetime}}"}`.
pub fn mix_request_from_spec(spec: &str) -> Result<MixRequest, String> {
    let mut it = spec.trim_start().splitn(4, char::is_whitespace);
    let bad = || format!("bad request {spec:?}: want `WEIGHT METHOD PATH [BODY]`, e.g. `3 GET /healthz`");
    let weight: u32 = it.next().and_then(|w| w.parse().ok()).ok_or_else(bad)?;
    let method = it.next().filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic())).ok_or_else(bad)?.to_ascii_uppercase();
    let path = it.next().filter(|p| p.starts_with('/')).ok_or_else(bad)?.to_string();
    let body = it.next().map(str::trim).filter(|b| !b.is_empty()).map(String::from);
    Ok(MixRequest { name: None, method, path, body, headers: Vec::new(), weight })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_file_parses_with_defaults() {
        let text = r#"
scenario = "mix"
url = "http://127.0.0.1:8080"
connections = 8

[[request]]
path = "/healthz"

[[request]]
name = "chart"
method = "post"
path = "/v1/saju"
body = '{"datetime":"{{datetime}}","zone":"Asia/Seoul"}'
header = ["x-a: 1"]
weight = 9
"#;
        let m = mix_from_toml(text).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], MixRequest { name: None, method: "GET".into(), path: "/healthz".into(), body: None, headers: vec![], weight: 1 });
        assert_eq!(m[0].display_name(), "GET /healthz");
        assert_eq!((m[1].display_name().as_str(), m[1].method.as_str(), m[1].weight), ("chart", "POST", 9));
        assert_eq!(m[1].headers, ["x-a: 1"]);
        assert!(m[1].body.as_deref().unwrap().contains("{{datetime}}"));
        // The same file as a scenario: the tables are not flags.
        let args = args_from_toml(text).unwrap();
        assert_eq!(args, ["mix", "http://127.0.0.1:8080", "--connections", "8"]);
    }

    #[test]
    fn bad_mix_files_say_what_is_wrong() {
        for (text, want) in [
            ("x = 1", "at least one"),
            ("[[request]]\nmethod = \"GET\"", "needs `path`"),
            ("[[request]]\npath = \"healthz\"", "must start with /"),
            ("[[request]]\npath = \"/\"\nweight = -1", "weight"),
            ("[[request]]\npath = \"/\"\nwieght = 2", "unknown key `wieght`"),
            ("[[request]]\npath = \"/\"\nbody = 3", "`body`"),
            ("request = 3", "[[request]]"),
        ] {
            let e = mix_from_toml(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn mix_spec_on_the_command_line() {
        let r = mix_request_from_spec(r#"9 post /v1/saju {"a": "b c"}"#).unwrap();
        assert_eq!((r.weight, r.method.as_str(), r.path.as_str(), r.body.as_deref()), (9, "POST", "/v1/saju", Some(r#"{"a": "b c"}"#)));
        let r = mix_request_from_spec("1 GET /healthz").unwrap();
        assert_eq!((r.body.as_deref(), r.display_name().as_str()), (None, "GET /healthz"));
        for bad in ["", "x GET /", "1 GET healthz", "1 G-T /", "1"] {
            assert!(mix_request_from_spec(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_becomes_flags() {
        let a = args_from_toml(
            r#"
scenario = "http"
url = "http://127.0.0.1:8080/healthz"
connections = 64
pipeline_depth = 2
header = ["a: 1", "b: 2"]
quiet = true
json = false
"#,
        )
        .unwrap();
        assert_eq!(&a[..2], ["http", "http://127.0.0.1:8080/healthz"]);
        let rest = a[2..].join(" ");
        for want in ["--connections 64", "--pipeline-depth 2", "--header a: 1 --header b: 2", "--quiet"] {
            assert!(rest.contains(want), "{rest}");
        }
        assert!(!rest.contains("json"), "{rest}");
    }

    #[test]
    fn h3_file_becomes_flags() {
        let a = args_from_toml(
            r#"
scenario = "h3"
url = "https://127.0.0.1:8080/v1/saju"
method = "POST"
body = '{"datetime":"{{datetime}}"}'
streams = 8
cafile = "cert.pem"
"#,
        )
        .unwrap();
        assert_eq!(&a[..2], ["h3", "https://127.0.0.1:8080/v1/saju"]);
        let rest = a[2..].join(" ");
        for want in ["--method POST", "--body {\"datetime\":\"{{datetime}}\"}", "--streams 8", "--cafile cert.pem"] {
            assert!(rest.contains(want), "{rest}");
        }
    }

    #[test]
    fn ws_file_becomes_flags() {
        let a = args_from_toml("scenario = \"ws\"\nurl = \"ws://127.0.0.1:1/v1/ws\"\nbody = '{\"id\":{{id}}}'\nramp = 500.5\nrate = 100\n")
            .unwrap();
        assert_eq!(&a[..2], ["ws", "ws://127.0.0.1:1/v1/ws"]);
        let rest = a[2..].join(" ");
        for want in ["--body {\"id\":{{id}}}", "--ramp 500.5", "--rate 100"] {
            assert!(rest.contains(want), "{rest}");
        }
    }

    #[test]
    fn missing_or_bad_fields_are_named() {
        assert!(args_from_toml("url = \"x\"").unwrap_err().contains("scenario"));
        assert!(args_from_toml("scenario = \"http\"").unwrap_err().contains("url"));
        assert!(args_from_toml("scenario = \"http\"\nurl = \"x\"\n[t]\na = 1").unwrap_err().contains("`t`"));
    }
}
