//! Scenario files: a TOML file names a subcommand and its options, and becomes the same argument
//! list the command line takes, so files and flags share one parser and one set of checks.
//!
//! ```toml
//! scenario = "http"            # the subcommand: "http", "h3", "ws" or "ws-hold"
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

/// The argument list (without the program name) for a scenario file's text.
pub fn args_from_toml(text: &str) -> Result<Vec<String>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("scenario file: {e}"))?;
    let scenario = table.get("scenario").and_then(|v| v.as_str()).ok_or("scenario file: needs `scenario = \"http\"` (or \"h3\", \"ws\", \"ws-hold\")")?;
    let url = table.get("url").and_then(|v| v.as_str()).ok_or("scenario file: needs `url`")?;
    let mut args = vec![scenario.to_string(), url.to_string()];
    for (k, v) in &table {
        if k == "scenario" || k == "url" {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let a = args_from_toml("scenario = \"ws\"\nurl = \"ws://127.0.0.1:1/v1/ws\"\nbody = '{\"id\":{{id}}}'\nramp = 500.5\nrate = 100\n").unwrap();
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
