//! A fake GitHub release server on 127.0.0.1 and the release a tag makes
//! (an archive per target, SHA256SUMS), for the tests of the installers.
//! Include it with `#[path = "support/fake_release.rs"] mod fake_release;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// The target the tests install for.
pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// A static file server on 127.0.0.1: `files` by path, 404 for the rest,
/// and `status` for the paths given one (a server error).
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

pub fn serve(files: BTreeMap<String, Vec<u8>>, status: BTreeMap<String, u16>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let files = Arc::new(files);
    let status = Arc::new(status);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let files = Arc::clone(&files);
            let status = Arc::clone(&status);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
                let (code, body) = match (status.get(&path), files.get(&path)) {
                    (Some(c), _) => (*c, b"error".to_vec()),
                    (None, Some(b)) => (200, b.clone()),
                    (None, None) => (404, b"Not Found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    Server { base }
}

/// A release archive as the release workflow makes it, holding a stand-in
/// binary (a script that prints `fake costgate`).
pub fn archive(dir: &Path) -> Vec<u8> {
    let stage = dir.join(format!("costgate-{TARGET}"));
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::write(stage.join("costgate"), "#!/bin/sh\necho fake costgate\n").unwrap();
    std::fs::write(stage.join("README.md"), "readme\n").unwrap();
    let out = dir.join("a.tar.gz");
    let st = Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(dir)
        .arg(format!("costgate-{TARGET}"))
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read(out).unwrap()
}

pub fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The files of release v0.9.1; `sum` is what SHA256SUMS says of the archive.
pub fn release(dir: &Path, sum: Option<&str>) -> BTreeMap<String, Vec<u8>> {
    let tgz = archive(dir);
    let name = format!("costgate-{TARGET}.tar.gz");
    let sum = sum.map_or_else(|| hex(&tgz), String::from);
    let sums = format!(
        "{}  costgate-aarch64-apple-darwin.tar.gz\n{sum}  {name}\n",
        "0".repeat(64)
    );
    BTreeMap::from([
        (format!("/dl/v0.9.1/{name}"), tgz),
        ("/dl/v0.9.1/SHA256SUMS".to_string(), sums.into_bytes()),
    ])
}

/// A folder with a stand-in `cargo` that writes its arguments to the
/// returned marker file: whether (and how) an installer fell back to a build.
pub fn fake_cargo(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = dir.join("cargo-called");
    std::fs::write(
        bin.join("cargo"),
        format!("#!/bin/sh\necho \"$@\" > '{}'\n", marker.display()),
    )
    .unwrap();
    let st = Command::new("chmod").arg("+x").arg(bin.join("cargo")).status().unwrap();
    assert!(st.success());
    (bin, marker)
}
