//! Signed approvals, with keys made by the real `ssh-keygen`, verified both
//! ways: a record costgate signs verifies with `ssh-keygen -Y verify`, and
//! one `ssh-keygen -Y sign` signs verifies in costgate. The policy names who
//! may approve in an OpenSSH allowed_signers file.
//!
//! Without `ssh-keygen` these tests say so loudly and skip; under CI
//! (`CI=true`, or COSTGATE_REQUIRE_SSH_KEYGEN=1 as .ci/run sets) a missing
//! `ssh-keygen` is a failure.

#[path = "support/cmd.rs"]
mod cmd;

use std::path::{Path, PathBuf};
use std::process::{Command as Std, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

const TRIALS: &str = "300";
const NS: &str = "costgate-approval";
const CFO: &str = "cfo@example.com";

fn ssh_keygen_present() -> bool {
    if Std::new("ssh-keygen")
        .arg("-?")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
    {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("COSTGATE_REQUIRE_SSH_KEYGEN").is_ok_and(|v| v == "1");
    let how = "install OpenSSH's client (`apt-get install -y openssh-client`)";
    if ci {
        panic!("ssh-keygen is not installed and CI requires the signature tests: {how}");
    }
    // Past the harness's capture: a skip must be seen in a plain `cargo test`.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "\nSKIPPED approve_signatures: ssh-keygen is not installed, so approval signatures were NOT tested; {how}. \
         Under CI=true this is a failure.\n"
    );
    false
}

fn costgate(today: &str) -> Command {
    cmd::costgate_on(today)
}

struct Ws {
    dir: tempfile::TempDir,
    spec: PathBuf,
}

impl Ws {
    /// A folder with the approval example and a policy beside it.
    fn new(policy: &str) -> Ws {
        let dir = tempfile::tempdir().unwrap();
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/support-assistant.yaml");
        let spec = dir.path().join("support-assistant.yaml");
        std::fs::copy(from, &spec).unwrap();
        std::fs::write(dir.path().join("costgate.toml"), policy).unwrap();
        Ws { dir, spec }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn record(&self) -> PathBuf {
        self.path("support-assistant.approval.toml")
    }

    fn sig(&self) -> PathBuf {
        self.path("support-assistant.approval.toml.sig")
    }

    /// A new key pair `name`, `name.pub`, made by ssh-keygen; its public line.
    fn keygen(&self, name: &str, kind: &[&str], passphrase: &str) -> String {
        let key = self.path(name);
        let st = Std::new("ssh-keygen")
            .args(kind)
            .args(["-q", "-N", passphrase, "-C", "test key", "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(st.success());
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        // "type base64 comment" -> "type base64"
        public.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
    }

    fn allow(&self, lines: &str) {
        std::fs::write(self.path("allowed_signers"), lines).unwrap();
    }

    fn approve(&self, by: &str, sign_with: Option<&str>) -> assert_cmd::assert::Assert {
        let mut c = costgate("2026-11-28");
        c.args([
            "approve",
            "--trials",
            TRIALS,
            "--allow-few-trials",
            "--by",
            by,
            "--role",
            "CFO",
        ])
        .args(["--reason", "Keeps our largest workspaces", "--expires", "2027-02-28"]);
        if let Some(k) = sign_with {
            c.arg("--sign-with").arg(self.path(k));
        }
        c.arg(&self.spec).assert()
    }

    fn check_json(&self) -> (i32, serde_json::Value) {
        let out = costgate("2026-12-01")
            .args(["check", "--format", "json", "--trials", TRIALS, "--allow-few-trials"])
            .arg(&self.spec)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap(), v)
    }

    /// The note on the approval finding, and the record's signature state.
    fn verdict(&self) -> (i32, String, String) {
        let (code, v) = self.check_json();
        let f = &v["features"][0];
        let note = f["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["rule"] == "cost-revenue-needs-approval")
            .map(|x| x["approval"]["note"].as_str().unwrap_or("").to_string())
            .unwrap_or_default();
        let state = f["approval"]["record"]["signature"]["state"]
            .as_str()
            .unwrap_or("")
            .to_string();
        (code, note, state)
    }

    /// `ssh-keygen -Y verify` of the record against the allowed signers.
    fn ssh_keygen_verifies(&self, principal: &str) -> bool {
        Std::new("ssh-keygen")
            .args(["-Y", "verify", "-n", NS, "-I", principal, "-f"])
            .arg(self.path("allowed_signers"))
            .arg("-s")
            .arg(self.sig())
            .stdin(std::fs::File::open(self.record()).unwrap())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    /// `ssh-keygen -Y sign` the record with key `name`, in namespace `ns`.
    fn ssh_keygen_signs(&self, name: &str, ns: &str) {
        let _ = std::fs::remove_file(self.sig());
        let st = Std::new("ssh-keygen")
            .args(["-q", "-Y", "sign", "-n", ns, "-f"])
            .arg(self.path(name))
            .arg(self.record())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        assert!(self.sig().exists());
    }
}

const REQUIRE: &str = "[approvals]\nallowed_signers = \"allowed_signers\"\nrequire_signature = true\n";

/// About one ECDSA key in 256 has a private scalar with a zero top byte,
/// which ssh-key 0.6 alone cannot read; this is such a key (fixtures/keys).
#[test]
fn an_ecdsa_key_whose_scalar_starts_with_a_zero_byte_signs() {
    if !ssh_keygen_present() {
        return;
    }
    let w = Ws::new(REQUIRE);
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys");
    let key = w.path("cfo_key");
    std::fs::copy(keys.join("ecdsa-p256-short-scalar"), &key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let public = std::fs::read_to_string(keys.join("ecdsa-p256-short-scalar.pub")).unwrap();
    w.allow(&format!("{CFO} {}\n", public.trim()));
    w.approve(CFO, Some("cfo_key")).code(0);
    assert!(w.ssh_keygen_verifies(CFO), "ssh-keygen rejects the signature");
    let (code, note, state) = w.verdict();
    assert_eq!((code, state.as_str()), (0, "verified"), "{note}");
}

#[test]
fn costgate_signs_with_each_key_type_and_ssh_keygen_verifies() {
    if !ssh_keygen_present() {
        return;
    }
    for kind in [
        &["-t", "ed25519"][..],
        &["-t", "ecdsa", "-b", "256"][..],
        &["-t", "ecdsa", "-b", "384"][..],
    ] {
        let w = Ws::new(REQUIRE);
        let public = w.keygen("cfo_key", kind, "");
        w.allow(&format!("# who may approve\n{CFO} {public}\n"));
        w.approve(CFO, Some("cfo_key"))
            .code(0)
            .stdout(predicate::str::contains("signed with SSH key SHA256:"))
            .stdout(predicate::str::contains("support-assistant.approval.toml.sig"));
        let sig = std::fs::read_to_string(w.sig()).unwrap();
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"), "{sig}");
        assert!(
            w.ssh_keygen_verifies(CFO),
            "{kind:?}: ssh-keygen rejects costgate's signature"
        );
        assert!(!w.ssh_keygen_verifies("ceo@example.com"), "{kind:?}");
        let (code, note, state) = w.verdict();
        assert_eq!(code, 0, "{kind:?}: {note}");
        assert_eq!(state, "verified");
        assert!(
            note.contains("signed by cfo@example.com (SSH key SHA256:") && note.contains("an allowed signer in"),
            "{note}"
        );
        // the key and the file are never printed
        let out = costgate("2026-12-01")
            .args(["check", "--trials", TRIALS, "--allow-few-trials"])
            .arg(&w.spec)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let b64 = public.split_whitespace().nth(1).unwrap();
        assert!(!all.contains(b64), "the public key is printed");
        assert!(!all.contains("PRIVATE KEY"));
    }
}

#[test]
fn ssh_keygen_signs_and_costgate_verifies() {
    if !ssh_keygen_present() {
        return;
    }
    let w = Ws::new(REQUIRE);
    let public = w.keygen("cfo_key", &["-t", "ed25519"], "");
    w.allow(&format!("{CFO} {public}\n"));
    w.approve(CFO, None)
        .code(0)
        .stdout(predicate::str::contains("unsigned (the policy requires a signature"))
        .stdout(predicate::str::contains("ssh-keygen -Y sign -n costgate-approval"));
    // unsigned under require_signature: not covered, and it says why
    let (code, note, state) = w.verdict();
    assert_eq!((code, state.as_str()), (2, "unsigned"), "{note}");
    assert!(
        note.contains("is unsigned, and the policy requires a signature"),
        "{note}"
    );
    w.ssh_keygen_signs("cfo_key", NS);
    let (code, note, state) = w.verdict();
    assert_eq!((code, state.as_str()), (0, "verified"), "{note}");
    // an RSA key: costgate verifies what ssh-keygen signs, and refuses to
    // sign with it itself, saying what to do
    let rsa = w.keygen("rsa_key", &["-t", "rsa", "-b", "2048"], "");
    w.allow(&format!("{CFO} {public}\n{CFO} {rsa}\n"));
    w.ssh_keygen_signs("rsa_key", NS);
    let (code, note, state) = w.verdict();
    assert_eq!((code, state.as_str()), (0, "verified"), "{note}");
    w.approve(CFO, Some("rsa_key"))
        .code(64)
        .stderr(predicate::str::contains("not RSA"))
        .stderr(predicate::str::contains("ssh-keygen -Y sign -n costgate-approval"));
    w.ssh_keygen_signs("cfo_key", NS);
    // a passphrase-protected key is signed for by ssh-keygen (it asks, or
    // uses ssh-agent); costgate says so rather than failing obscurely
    let locked = w.keygen("locked_key", &["-t", "ed25519"], "correct horse");
    w.allow(&format!("{CFO} {public}\n{CFO} {locked}\n"));
    let before = std::fs::read(w.record()).unwrap();
    w.approve(CFO, Some("locked_key"))
        .code(64)
        .stderr(predicate::str::contains("is protected by a passphrase"))
        .stderr(predicate::str::contains("ssh-keygen -Y sign -n costgate-approval"))
        .stderr(predicate::str::contains("correct horse").not());
    assert_eq!(std::fs::read(w.record()).unwrap(), before, "nothing is recorded");
    // a public key is not a private key
    w.approve(CFO, Some("cfo_key.pub"))
        .code(64)
        .stderr(predicate::str::contains("is not an OpenSSH private key"))
        .stderr(predicate::str::contains(public.split_whitespace().nth(1).unwrap()).not());
}

#[test]
fn a_signature_by_someone_else_or_for_something_else_does_not_cover() {
    if !ssh_keygen_present() {
        return;
    }
    let w = Ws::new(REQUIRE);
    let cfo = w.keygen("cfo_key", &["-t", "ed25519"], "");
    let dev = w.keygen("dev_key", &["-t", "ed25519"], "");
    w.allow(&format!("{CFO} {cfo}\ndev@example.com {dev}\n"));

    // the PR author signs a record naming the CFO with their own key
    w.approve(CFO, None).code(0);
    w.ssh_keygen_signs("dev_key", NS);
    let (code, note, state) = w.verdict();
    assert_eq!((code, state.as_str()), (2, "invalid"), "{note}");
    assert!(
        note.contains("is not an allowed signer for `cfo@example.com`") && note.contains("not listed for"),
        "{note}"
    );
    // costgate refuses to record it in the first place
    w.approve(CFO, Some("dev_key"))
        .code(64)
        .stderr(predicate::str::contains("not an allowed signer for `cfo@example.com`"))
        .stderr(predicate::str::contains("nothing was recorded"));

    // a signature made for another purpose (a git commit's namespace)
    w.ssh_keygen_signs("cfo_key", "git");
    let (code, note, _) = w.verdict();
    assert_eq!(code, 2);
    assert!(
        note.contains("is for namespace `git`, not `costgate-approval`"),
        "{note}"
    );

    // the CFO's key, but the line limits it to git signatures
    w.allow(&format!("{CFO} namespaces=\"git\" {cfo}\n"));
    w.ssh_keygen_signs("cfo_key", NS);
    let (code, note, _) = w.verdict();
    assert_eq!(code, 2);
    assert!(note.contains("limits it to other namespaces"), "{note}");
    assert!(!w.ssh_keygen_verifies(CFO), "ssh-keygen agrees");

    // the CFO's key, no longer valid (valid-before in the past)
    w.allow(&format!("{CFO} valid-before=\"20261130\" {cfo}\n"));
    let (code, note, _) = w.verdict();
    assert_eq!(code, 2, "2026-12-01 is past the key's validity");
    assert!(note.contains("valid only before 2026-11-30"), "{note}");
    w.allow(&format!(
        "{CFO} namespaces=\"git,costgate-*\",valid-after=\"20260101\" {cfo}\n"
    ));
    assert_eq!(w.verdict().0, 0);
}

#[test]
fn a_signed_record_edited_after_signing_does_not_cover() {
    if !ssh_keygen_present() {
        return;
    }
    let w = Ws::new(REQUIRE);
    let cfo = w.keygen("cfo_key", &["-t", "ed25519"], "");
    w.allow(&format!("{CFO} {cfo}\n"));
    w.approve(CFO, Some("cfo_key")).code(0);
    let signed = std::fs::read_to_string(w.record()).unwrap();

    // a careless edit: detected by the seal, and named
    std::fs::write(
        w.record(),
        signed.replace("expires = \"2027-02-28\"", "expires = \"9999-12-31\""),
    )
    .unwrap();
    let (code, note, _) = w.verdict();
    assert_eq!(code, 2);
    assert!(
        note.contains("approval edited after signing: `expires` changed"),
        "{note}"
    );

    // a hostile edit: a higher approved figure with the fingerprint and the
    // seal recomputed, so the record is consistent; only the signature tells
    let mut r = costgate::approval::Record::parse("r", &signed).unwrap();
    r.figures[0].value = r.figures[0].value.map(|v| v * 2.0);
    r.fingerprint = costgate::approval::fingerprint(&r.feature, &r.inputs, &r.figures);
    std::fs::write(w.record(), r.to_toml()).unwrap();
    let (code, note, state) = w.verdict();
    assert_eq!((code, state.as_str()), (2, "invalid"), "{note}");
    assert!(note.contains("does not match the record"), "{note}");

    // and a signature that is not one
    std::fs::write(w.record(), &signed).unwrap();
    assert_eq!(w.verdict().0, 0);
    std::fs::write(w.sig(), "not a signature\n").unwrap();
    let (code, note, _) = w.verdict();
    assert_eq!(code, 2);
    assert!(note.contains("is not an SSH signature"), "{note}");
}

#[test]
fn without_require_signature_an_unsigned_record_covers_and_says_unsigned() {
    if !ssh_keygen_present() {
        return;
    }
    let w = Ws::new("[approvals]\nmax_drift = 0.05\n");
    w.approve(CFO, None).code(0);
    let (code, note, state) = w.verdict();
    assert_eq!((code, state.as_str()), (0, "unsigned"), "{note}");
    assert!(note.ends_with("; unsigned"), "{note}");
    // signed, but the policy names no allowed signers: valid, not vouched for
    w.keygen("cfo_key", &["-t", "ed25519"], "");
    w.approve(CFO, Some("cfo_key")).code(0);
    let (code, note, state) = w.verdict();
    assert_eq!((code, state.as_str()), (0, "unchecked"), "{note}");
    assert!(note.contains("not checked against allowed signers"), "{note}");
    // a new unsigned approval removes the old signature, which signed other bytes
    w.approve(CFO, None).code(0);
    assert!(!w.sig().exists());
    assert_eq!(w.verdict().2, "unsigned");
}

#[test]
fn the_allowed_signers_file_and_require_signature_are_checked_as_policy() {
    if !ssh_keygen_present() {
        return;
    }
    let w = Ws::new(REQUIRE);
    let cfo = w.keygen("cfo_key", &["-t", "ed25519"], "");
    w.allow(&format!("# approvers\n{CFO} cert-authority {cfo}\n"));
    costgate("2026-12-01")
        .args(["check", "--trials", TRIALS, "--allow-few-trials"])
        .arg(&w.spec)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("allowed_signers:2:1"))
        .stderr(predicate::str::contains("`cert-authority` is not supported"));
    std::fs::remove_file(w.path("allowed_signers")).unwrap();
    costgate("2026-12-01")
        .args(["check", "--trials", TRIALS, "--allow-few-trials"])
        .arg(&w.spec)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("allowed_signers"))
        .stderr(predicate::str::contains("cannot read the file"));
    std::fs::write(w.path("costgate.toml"), "[approvals]\nrequire_signature = true\n").unwrap();
    costgate("2026-12-01")
        .args(["check", "--trials", TRIALS, "--allow-few-trials"])
        .arg(&w.spec)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("approvals.require_signature"))
        .stderr(predicate::str::contains("no `allowed_signers` file"));
    // the path is relative to the policy file, wherever the check runs from
    std::fs::create_dir(w.path("policy")).unwrap();
    std::fs::write(w.path("policy/signers"), format!("{CFO} {cfo}\n")).unwrap();
    std::fs::write(
        w.path("policy/costgate.toml"),
        "[approvals]\nallowed_signers = \"signers\"\nrequire_signature = true\n",
    )
    .unwrap();
    costgate("2026-11-28")
        .args([
            "approve",
            "--trials",
            TRIALS,
            "--allow-few-trials",
            "--by",
            CFO,
            "--reason",
            "r",
            "--expires",
            "2027-02-28",
        ])
        .arg("--policy")
        .arg(w.path("policy/costgate.toml"))
        .arg("--sign-with")
        .arg(w.path("cfo_key"))
        .arg(&w.spec)
        .current_dir("/")
        .assert()
        .code(0);
    costgate("2026-12-01")
        .args(["check", "--trials", TRIALS, "--allow-few-trials"])
        .arg("--policy")
        .arg(w.path("policy/costgate.toml"))
        .arg(&w.spec)
        .current_dir("/")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("signed by cfo@example.com"));
}
