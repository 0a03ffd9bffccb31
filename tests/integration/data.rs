//! The data pipeline on the real Fashion-MNIST files: loading, d2l-exact resizing, the data
//! search, downloading from a local server, and corrupt files as a new user makes them.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use resnet_core::data::download::md5_of;
use resnet_core::data::{make_batch, FashionMnist, Mirror, MirrorFile, Resizer, Search, Source};

use crate::support::{real_data, real_data_dir, real_files, serve, Reply};

#[test]
fn real_fashion_mnist_has_balanced_splits() {
    let data = real_data();
    assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
    for (split, per_class) in [(&data.train, 6_000), (&data.test, 1_000)] {
        let mut counts = [0usize; 10];
        split.labels.iter().for_each(|&l| counts[l as usize] += 1);
        assert_eq!(counts, [per_class; 10]);
    }
    // The first test image is an ankle boot (label 9), as in d2l's figures.
    assert_eq!(data.test.labels[0], 9);
}

#[test]
fn resizing_matches_torchvision_byte_for_byte() {
    let data = real_data();
    let fixture = fs::read_to_string("tests/data/resize_md5.txt").unwrap();
    let mut resizers = HashMap::new();
    let mut checked = 0;
    for line in fixture.lines() {
        let [side, index, md5]: [&str; 3] = line.split(' ').collect::<Vec<_>>().try_into().unwrap();
        let (side, index): (usize, usize) = (side.parse().unwrap(), index.parse().unwrap());
        let resizer = resizers.entry(side).or_insert_with(|| Resizer::new(28, side));
        let out = resizer.resize(data.test.image(index));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img");
        fs::write(&path, &out).unwrap();
        assert_eq!(md5_of(&path).unwrap(), md5, "image {index} at {side}x{side} differs from torchvision");
        checked += 1;
    }
    assert_eq!(checked, 1250);
    // Batches are those bytes / 255.
    let b = make_batch(&data.test, &[0], &Resizer::new(28, 96));
    let bytes = Resizer::new(28, 96).resize(data.test.image(0));
    assert!(b.images.iter().zip(&bytes).all(|(&f, &u)| f == u as f32 / 255.0));
}

fn search(cache: Option<&Path>, system: &Path, mirror: Option<Mirror>) -> Search {
    Search {
        data_dir: None,
        env_dir: None,
        cache_dir: cache.map(Path::to_path_buf),
        system_dir: system.to_path_buf(),
        mirror,
    }
}

#[test]
fn the_search_goes_flag_env_cache_system_and_names_what_it_tried() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let real = real_data_dir();
    let mut s = search(Some(&empty), &real, None);
    assert_eq!(s.locate(&mut |_| {}).unwrap(), (real.clone(), Source::System));
    s.env_dir = Some(real.clone());
    assert_eq!(s.locate(&mut |_| {}).unwrap(), (real.clone(), Source::Env));
    s.data_dir = Some(tmp.path().join("nope"));
    let err = s.locate(&mut |_| {}).unwrap_err().to_string();
    assert!(
        err.contains(&format!("--data-dir {}: no such directory", tmp.path().join("nope").display())),
        "{err}"
    );
    s.data_dir = Some(empty.clone());
    let err = s.locate(&mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("missing train-images-idx3-ubyte, train-labels-idx1-ubyte"), "{err}");

    let nothing = search(Some(&empty), &tmp.path().join("no-system"), None);
    let err = nothing.locate(&mut |_| {}).unwrap_err().to_string();
    assert!(err.starts_with("Fashion-MNIST not found (tried: "), "{err}");
    assert!(err.contains("no-system: no such directory") && err.contains("download: disabled"), "{err}");
    assert!(err.contains("install the Debian package dataset-fashion-mnist"), "{err}");
}

fn local_mirror(base: &str, files: &HashMap<String, Vec<u8>>) -> Mirror {
    let dir = tempfile::tempdir().unwrap();
    let files = files
        .iter()
        .map(|(name, bytes)| {
            let p = dir.path().join(name);
            fs::write(&p, bytes).unwrap();
            MirrorFile { name: name.clone(), md5: md5_of(&p).unwrap() }
        })
        .collect();
    Mirror { base_url: base.to_string(), files }
}

#[test]
fn downloads_the_real_files_from_a_local_server_into_the_cache() {
    let files = real_files();
    let served = files.clone();
    let (base, requests) = serve(move |path| match served.get(path.trim_start_matches('/')) {
        Some(bytes) => Reply::ok(bytes.clone()),
        None => Reply::status(404),
    });
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let s = search(Some(&cache), &tmp.path().join("no-system"), Some(local_mirror(&base, &files)));
    let mut last = HashMap::new();
    let (dir, source) = s
        .locate(&mut |p| {
            last.insert(p.name.to_string(), (p.done, p.total));
        })
        .unwrap();
    assert_eq!((dir.as_path(), source), (cache.as_path(), Source::Downloaded));
    for (name, bytes) in &files {
        let n = bytes.len() as u64;
        assert_eq!(last[name], (n, Some(n)), "progress of {name}");
    }
    assert_eq!(FashionMnist::load(&cache).unwrap(), *real_data());
    assert!(fs::read_dir(&cache).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".part")));
    // Found in the cache next time: no new request.
    let before = requests.lock().unwrap().len();
    assert_eq!(s.locate(&mut |_| {}).unwrap().1, Source::Cache);
    assert_eq!(requests.lock().unwrap().len(), before);
}

#[test]
fn a_checksum_mismatch_leaves_nothing_in_the_cache() {
    // The server sends a different (valid gzip) file under the labels' name.
    let (err, left) = failed_download(|p| {
        (p == "/train-labels-idx1-ubyte.gz")
            .then(|| Reply::ok(real_files()["t10k-labels-idx1-ubyte.gz"].clone()))
    });
    assert!(err.contains("train-labels-idx1-ubyte.gz: MD5") && err.contains("the file is corrupt"), "{err}");
    assert_only_whole_files(&left, "train-labels");
}

/// Downloads from a local server answering with `reply` for `path`s that are not served
/// normally; returns the one-line error and what was left in the cache.
fn failed_download(reply: impl Fn(&str) -> Option<Reply> + Send + 'static) -> (String, Vec<String>) {
    let files = real_files();
    let served = files.clone();
    let (base, _) = serve(move |path| {
        reply(path).unwrap_or_else(|| match served.get(path.trim_start_matches('/')) {
            Some(bytes) => Reply::ok(bytes.clone()),
            None => Reply::status(404),
        })
    });
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let s = search(Some(&cache), &tmp.path().join("no-system"), Some(local_mirror(&base, &files)));
    let err = s.locate(&mut |_| {}).unwrap_err().to_string();
    let mut left: Vec<String> = fs::read_dir(&cache)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    left.sort();
    (err, left)
}

/// Only whole, verified files are in the cache: those before the failing one.
fn assert_only_whole_files(left: &[String], failing: &str) {
    assert!(!left.iter().any(|n| n.starts_with(failing)), "{failing} left behind: {left:?}");
    assert!(!left.iter().any(|n| n.ends_with(".part")), "a partial file was left: {left:?}");
}

#[test]
fn a_server_error_says_so_and_leaves_nothing() {
    let (err, left) = failed_download(|p| (p == "/train-labels-idx1-ubyte.gz").then(|| Reply::status(500)));
    assert!(
        err.contains("download of http://127.0.0.1:") && err.contains("train-labels-idx1-ubyte.gz failed"),
        "{err}"
    );
    assert!(err.contains("500"), "{err}");
    assert_eq!(err.lines().count(), 1);
    assert_only_whole_files(&left, "train-labels");
}

#[test]
fn a_download_cut_short_says_how_much_arrived_and_leaves_nothing() {
    let (err, left) = failed_download(|p| {
        (p == "/t10k-images-idx3-ubyte.gz").then(|| {
            let body = real_files()["t10k-images-idx3-ubyte.gz"].clone();
            Reply { cut_at: Some(body.len() / 2), ..Reply::ok(body) }
        })
    });
    let size = real_files()["t10k-images-idx3-ubyte.gz"].len();
    assert!(err.contains("t10k-images-idx3-ubyte.gz failed"), "{err}");
    assert!(err.contains(&format!(" of {size} bytes")), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_only_whole_files(&left, "t10k-images");
}

#[test]
fn a_redirect_loop_is_stopped_and_leaves_nothing() {
    let (err, left) = failed_download(|p| {
        let next = if p.ends_with("/loop-a") { "/loop-b" } else { "/loop-a" };
        (p == "/train-images-idx3-ubyte.gz" || p.starts_with("/loop"))
            .then(|| Reply { headers: vec![("Location".into(), next.into())], ..Reply::status(302) })
    });
    assert!(err.contains("train-images-idx3-ubyte.gz failed") && err.contains("redirect"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_only_whole_files(&left, "train-images");
}

/// Writes the real files into a temp dir, with `name` replaced by `bytes` (raw, not gzip).
fn dir_with(name: &str, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (file, data) in real_files() {
        if !file.starts_with(name) {
            fs::write(dir.path().join(file), data).unwrap();
        }
    }
    fs::File::create(dir.path().join(name)).unwrap().write_all(bytes).unwrap();
    dir
}

fn gunzip(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&real_files()[name][..]), &mut out).unwrap();
    out
}

#[test]
fn corrupt_files_as_a_user_makes_them_are_one_line_errors() {
    let labels = gunzip("t10k-labels-idx1-ubyte.gz");
    let images = gunzip("t10k-images-idx3-ubyte.gz");
    let gz = &real_files()["t10k-images-idx3-ubyte.gz"];
    let mut bad_magic = images.clone();
    bad_magic[3] = 0x01;
    let mut label_11 = labels.clone();
    label_11[8 + 5] = 11;
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("t10k-images-idx3-ubyte.gz", gz[..gz.len() / 3].to_vec(), "t10k-images-idx3-ubyte.gz".into()),
        ("t10k-images-idx3-ubyte", bad_magic, "magic number 2049, expected 2051".into()),
        ("t10k-labels-idx1-ubyte", label_11, "label 11 of example 5 is outside 0..10".into()),
        (
            "t10k-labels-idx1-ubyte",
            [&labels[..4], &9_999u32.to_be_bytes()[..], &labels[8..10_007]].concat(),
            "has 10000 images but".into(),
        ),
    ];
    for (name, bytes, expected) in cases {
        let dir = dir_with(name, &bytes);
        let err = FashionMnist::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&expected), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
