//! Shared test helpers: the real dataset, a local HTTP server.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use resnet_core::data::FashionMnist;

/// The directory of the real Fashion-MNIST files (the Debian package, or
/// `FASHION_MNIST_DIR`).
pub fn real_data_dir() -> PathBuf {
    let dir = std::env::var_os("FASHION_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/datasets/fashion-mnist"));
    assert!(
        dir.join("train-images-idx3-ubyte.gz").is_file() || dir.join("train-images-idx3-ubyte").is_file(),
        "these tests use the real Fashion-MNIST: `apt-get install dataset-fashion-mnist` or set FASHION_MNIST_DIR"
    );
    dir
}

/// The real dataset, loaded once per test binary.
pub fn real_data() -> &'static FashionMnist {
    static DATA: OnceLock<FashionMnist> = OnceLock::new();
    DATA.get_or_init(|| FashionMnist::load(&real_data_dir()).expect("load the real Fashion-MNIST"))
}

/// What the server answers to one request.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send only this many body bytes, then close (a broken download).
    pub cut_at: Option<usize>,
}

impl Reply {
    pub fn ok(body: Vec<u8>) -> Self {
        Reply { status: 200, headers: vec![], body, cut_at: None }
    }
    pub fn status(status: u16) -> Self {
        Reply { status, headers: vec![], body: format!("status {status}").into_bytes(), cut_at: None }
    }
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 answering each GET with `handler(path)`;
/// returns its base address and the list of paths requested.
pub fn serve(handler: impl Fn(&str) -> Reply + Send + 'static) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(path.clone());
            let reply = handler(&path);
            let mut head = format!(
                "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                reply.status,
                reply.body.len()
            );
            for (k, v) in &reply.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let body = &reply.body[..reply.cut_at.unwrap_or(reply.body.len()).min(reply.body.len())];
            let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body));
        }
    });
    (base, log)
}

/// The real files' bytes by name, for serving.
pub fn real_files() -> HashMap<String, Vec<u8>> {
    let dir = real_data_dir();
    resnet_core::data::dataset::FILES
        .iter()
        .map(|stem| {
            let name = format!("{stem}.gz");
            (name.clone(), std::fs::read(dir.join(&name)).expect("the real files are gzip-compressed"))
        })
        .collect()
}

/// Hostile variants of a ResNet-8 int8 model `int8`, each with the no_std reader's one-line
/// reason: flipped, mis-scaled (zero, negative and NaN input scale; a multiplier out of
/// range, their checksums made good as a tool editing the file would) and the f32 file
/// `f32_file` where an int8 model is expected.
pub fn hostile_int8_files(int8: &[u8], f32_file: &[u8]) -> Vec<(Vec<u8>, &'static str)> {
    let mut files = Vec::new();
    let mut flipped = int8.to_vec();
    flipped[1000] ^= 0x10;
    files.push((flipped, "int8 model is truncated or corrupt (checksum mismatch)"));
    files.push((
        f32_file.to_vec(),
        "this is an f32 checkpoint or weights file, not an int8 model \
         (make one with `resnet-tui export --format postcard --quantize int8`)",
    ));
    // Header: magic 8, version 4, name "resnet8" 1 + 7, C H W classes 8; then the scale.
    let scale_at = 8 + 4 + 8 + 8;
    for bad in [0.0f32, -1.0 / 255.0, f32::NAN] {
        let mut b = int8.to_vec();
        b[scale_at..scale_at + 4].copy_from_slice(&bad.to_le_bytes());
        files.push((
            with_checksum(b),
            "int8 model is corrupt: header: input scale is zero, negative or not finite",
        ));
    }
    // Step 0 (the stem, 1 -> 16 channels, 3x3): its first multiplier, out of range.
    let step0 = scale_at + 4 + 4 + 4 + 4 + 2;
    let multiplier_at = step0 + 1 + 8 + 6 + 2 + 3 + 1 + 24 + 16 * 9 + 16 * 4;
    let mut b = int8.to_vec();
    b[multiplier_at..multiplier_at + 4].copy_from_slice(&5i32.to_le_bytes());
    files.push((with_checksum(b), "int8 model is corrupt: step 0: multiplier or shift out of range"));
    files
}

/// `bytes` with its CRC-32 recomputed.
fn with_checksum(mut bytes: Vec<u8>) -> Vec<u8> {
    let n = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
    bytes
}
