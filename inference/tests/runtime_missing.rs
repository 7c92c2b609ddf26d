//! A missing or bogus library is an error value, never a panic (own process: a failed load must
//! not disturb the real-model tests).
use inference::runtime::Runtime;
use inference::Error;

#[test]
fn missing_library_is_an_error() {
    let err = Runtime::load(std::path::Path::new("/nonexistent/libonnxruntime.so")).err().expect("must fail");
    assert!(matches!(err, Error::Library(_)) && err.to_string().contains("/nonexistent"), "{err}");
}

#[test]
fn a_file_that_is_not_the_library_is_an_error() {
    let not_a_lib = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let err = Runtime::load(&not_a_lib).err().expect("must fail");
    assert!(matches!(err, Error::Library(_)), "{err}");
    assert!(!err.retryable());
}
