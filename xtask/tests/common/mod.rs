//! What the tests that compile the lessons' snippets share: the
//! workspace's packages, a crate of one's own with a lesson's
//! dependencies, built or checked, and a command run under a time limit.

#![allow(dead_code)] // each test file uses its own part of it

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// The `[dependencies]` of a crate that can compile `package`'s doctests:
/// the package itself and its own dependencies and dev-dependencies, with
/// the same versions and features.
pub fn dependencies(package: &Value) -> String {
    let mut deps: BTreeMap<String, (String, BTreeSet<String>, bool)> = BTreeMap::new();
    for dep in package["dependencies"].as_array().expect("a list") {
        if dep["kind"].as_str() == Some("build") || dep["optional"].as_bool() == Some(true) {
            continue;
        }
        let name = dep["name"].as_str().expect("a name").to_string();
        let key = dep["rename"].as_str().unwrap_or(&name).to_string();
        let place = match dep["path"].as_str() {
            Some(path) => format!("path = {path:?}"),
            None => format!("version = {:?}", dep["req"].as_str().expect("a version")),
        };
        let place = if key == name {
            place
        } else {
            format!("package = {name:?}, {place}")
        };
        let entry = deps.entry(key).or_insert((place, BTreeSet::new(), false));
        for feature in dep["features"].as_array().expect("a list") {
            entry
                .1
                .insert(feature.as_str().expect("a name").to_string());
        }
        entry.2 |= dep["uses_default_features"].as_bool() != Some(false);
    }
    let own = Path::new(package["manifest_path"].as_str().expect("a path"))
        .parent()
        .expect("a folder")
        .to_path_buf();
    let mut out = format!(
        "{} = {{ path = {:?} }}\n",
        package["name"].as_str().expect("a name"),
        own.display().to_string()
    );
    for (key, (place, features, default)) in deps {
        let features: Vec<String> = features.iter().map(|f| format!("{f:?}")).collect();
        out.push_str(&format!(
            "{key} = {{ {place}, features = [{}], default-features = {default} }}\n",
            features.join(", ")
        ));
    }
    out
}

/// Runs `command` in a process group of its own, killing the group (cargo
/// and the compilers it started) if it takes longer than `limit`.
pub fn run(mut command: Command, limit: Duration) -> std::process::Output {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo starts");
    let id = child.id();
    let started = Instant::now();
    let (done, waiting) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    loop {
        if let Ok(out) = waiting.recv_timeout(Duration::from_millis(200)) {
            return out.expect("cargo runs");
        }
        if started.elapsed() > limit {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{id}")])
                .status();
            panic!("`cargo check` of the snippets took over {limit:?}; stopped it");
        }
    }
}

pub fn packages() -> Vec<Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace()).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]);
    let out = run(command, Duration::from_secs(120));
    assert!(out.status.success(), "cargo metadata fails");
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata's JSON");
    meta["packages"].as_array().expect("a list").clone()
}

/// One error the compiler gave for a binary: its code (if any), its
/// message, and its whole rendered text (with its notes and help).
#[derive(Clone, Debug)]
pub struct Error {
    pub code: Option<String>,
    pub message: String,
    pub rendered: String,
}

/// What compiling a crate of snippets gave.
#[derive(Debug, Default)]
pub struct Compiled {
    /// The errors, by binary.
    pub errors: BTreeMap<String, Vec<Error>>,
    /// The executables built, by binary (only when built, not checked).
    pub exes: BTreeMap<String, PathBuf>,
    /// Cargo's own messages.
    pub stderr: String,
}

/// Writes `bins` (name, source) as the binaries of a crate of its own under
/// `target/snippets/<package>-<folder>`, with `package` and all its
/// dependencies, and checks them (or builds them, with `build`), each as
/// far as it goes.
pub fn compile_bins(
    package: &Value,
    folder: &str,
    bins: &[(String, String)],
    build: bool,
) -> Compiled {
    let lesson = package["name"].as_str().expect("a name");
    // One target directory for every such crate, so the lessons'
    // dependencies are built once for all the tests that use it.
    let root = workspace().join("target").join("snippets");
    let dir = root.join(format!("{lesson}-{folder}"));
    let src = dir.join("src").join("bin");
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(&src).expect("the crate's folder can be made");
    let mut manifest = format!(
        "[package]\nname = \"{lesson}-{folder}\"\nversion = \"0.0.0\"\n\
         edition = {:?}\npublish = false\n\n\
         # Its own workspace: it is not one of the lessons.\n[workspace]\n\n\
         [dependencies]\n{}",
        package["edition"].as_str().expect("an edition"),
        dependencies(package)
    );
    for (name, source) in bins {
        std::fs::write(src.join(format!("{name}.rs")), source).expect("writes");
        manifest.push_str(&format!(
            "\n[[bin]]\nname = {name:?}\npath = \"src/bin/{name}.rs\"\n"
        ));
    }
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("writes");
    // The workspace's versions, so nothing new is needed (or fetched).
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).expect("copies");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&dir)
        .arg(if build { "build" } else { "check" })
        .args(["--bins", "--keep-going", "--offline"])
        .args(["--message-format", "json"])
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    let out = run(command, Duration::from_secs(900));
    let mut compiled = Compiled {
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ..Compiled::default()
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let target = v["target"]["name"].as_str().unwrap_or_default().to_string();
        if v["reason"] == "compiler-artifact" {
            if let Some(exe) = v["executable"].as_str() {
                compiled.exes.insert(target, PathBuf::from(exe));
            }
            continue;
        }
        if v["reason"] != "compiler-message" || v["message"]["level"] != "error" {
            continue;
        }
        let message = v["message"]["message"].as_str().unwrap_or_default();
        if message.starts_with("aborting due to") {
            continue;
        }
        compiled.errors.entry(target).or_default().push(Error {
            code: v["message"]["code"]["code"].as_str().map(String::from),
            message: message.to_string(),
            rendered: v["message"]["rendered"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        });
    }
    compiled
}
